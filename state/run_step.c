/* A step attempt: its actions in order, each one task on its target or a
 * fan-out of tasks over a group's members; the step's timeout; retries
 * with backoff; the capture. Every change of the step's status is an event
 * applied through the fold (state/step.h). */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/duration.h"
#include "state/events.h"
#include "state/run_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

static void action_begin(struct run *r);
static void step_finish(struct run *r);

/* ---- the environment of processes ---- */

static void env_add(char ***env, size_t *n, size_t *cap, const char *name,
		    const char *value)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s=%s", name, value ? value : "");
	*env = xgrow(*env, cap, *n + 2, sizeof **env);
	(*env)[(*n)++] = buf_detach(&b, NULL);
	(*env)[*n] = NULL;
}

/* NAME=value for every variable with a value, the QRH_* names, and the
 * target's fields for a process acting on a target. */
char **run_env_build(struct run *r, const struct action_target *t)
{
	char **env = NULL;
	size_t n = 0, cap = 0;
	for (size_t i = 0; i < r->values.n; i++)
		if (r->values.v[i].text)
			env_add(&env, &n, &cap, r->values.v[i].name, r->values.v[i].text);
	static const char *const names[] = { "QRH_RUN_ID", "QRH_STEP_ID",
					     "QRH_OPERATOR", "QRH_RUNBOOK" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		env_add(&env, &n, &cap, names[i], run_lookup(r, names[i]));
	if (t) {
		char port[16];
		snprintf(port, sizeof port, "%d", t->port);
		env_add(&env, &n, &cap, "QRH_TARGET", t->name);
		env_add(&env, &n, &cap, "QRH_TARGET_HOST", t->host ? t->host : "");
		env_add(&env, &n, &cap, "QRH_TARGET_PORT", t->port ? port : "");
		env_add(&env, &n, &cap, "QRH_TARGET_USER", t->user ? t->user : "");
	}
	if (!env)
		env = xcalloc(1, sizeof *env);
	return env;
}

void run_env_free(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

/* ---- what the journal records of an action about to run ---- */

/* The resolved target, as the operator confirmed it: no secret. */
static cJSON *target_json(const struct action_target *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", t->name);
	cJSON_AddStringToObject(o, "kind", target_kind_name(t->kind));
	if (t->group)
		cJSON_AddStringToObject(o, "group", t->group);
	if (t->host)
		cJSON_AddStringToObject(o, "host", t->host);
	if (t->port)
		cJSON_AddNumberToObject(o, "port", t->port);
	if (t->user)
		cJSON_AddStringToObject(o, "user", t->user);
	if (t->conninfo)
		cJSON_AddStringToObject(o, "dsn", t->conninfo);
	if (t->url)
		cJSON_AddStringToObject(o, "url", t->url);
	if (t->insecure)
		cJSON_AddBoolToObject(o, "insecure", true);
	if (t->trust_new)
		cJSON_AddBoolToObject(o, "trust_new", true);
	if (t->context)
		cJSON_AddStringToObject(o, "context", t->context);
	return o;
}

/* Does the script name $NAME or ${NAME}? */
static bool script_uses(const char *script, const char *name)
{
	size_t n = strlen(name);
	for (const char *p = strchr(script, '$'); p; p = strchr(p + 1, '$')) {
		const char *q = p + 1 + (p[1] == '{');
		if (!strncmp(q, name, n) && !(isalnum((unsigned char)q[n]) || q[n] == '_'))
			return true;
	}
	return false;
}

/* The non-secret values an sh script reads from its environment: what the
 * operator confirms is what will run, values included. */
cJSON *run_script_vars(const struct run *r, const struct action *a)
{
	if ((a->kind != ACTION_SH && a->kind != ACTION_SSH) || !a->body)
		return NULL;
	cJSON *o = NULL;
	for (size_t i = 0; i < r->values.n; i++) {
		const struct value *v = &r->values.v[i];
		if (!v->text || !script_uses(a->body, v->name))
			continue;
		if (!o)
			o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, v->name, v->secret ? REDACT_MASK : v->text);
	}
	return o;
}

/* action_start's payload: what runs (masked), where, with what. */
static cJSON *action_start_payload(struct run *r, const struct action *a,
				   const struct action_target *shown)
{
	struct attempt *att = r->att;
	struct buf desc;
	struct err e;
	buf_init(&desc, BUF_UNLIMITED);
	if (run_entry(r, a->kind)->describe(a, shown, run_lookup_masked, r, &desc, &e) < 0)
		buf_reset(&desc);
	char *clean = run_redact(r, desc.data);
	buf_release(&desc);
	cJSON *p = run_step_payload(r, att->step, att->attempt);
	cJSON_AddNumberToObject(p, "action", (double)att->action);
	cJSON_AddStringToObject(p, "kind", action_kind_name(a->kind));
	cJSON_AddStringToObject(p, "command", clean);
	free(clean);
	if (shown)
		cJSON_AddItemToObject(p, "target", target_json(shown));
	cJSON *vars = run_script_vars(r, a);
	if (vars)
		cJSON_AddItemToObject(p, "vars", vars);
	return p;
}

/* ---- moving on ---- */

static void on_next(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	r->att->next_timer = 0;
	struct attempt *att = r->att;
	const struct step *s = &r->rb->steps[att->step];
	bool failed = att->action < s->n_actions && att->last.status != ACTION_OK;
	if (att->cancelled || att->timed_out || failed || r->journal_broken ||
	    att->action + 1 >= s->n_actions) {
		step_finish(r);
		return;
	}
	att->action++;
	action_begin(r);
}

/* Moving on happens from a timer, on a clean stack: a task's end may not
 * start the next task from inside its own callback. */
static void next_soon(struct run *r)
{
	if (!r->att->next_timer)
		r->att->next_timer = loop_timer_add(r->loop, 0, on_next, r);
}

/* The current action ended without a task (or with its task's result). */
static void action_result(struct run *r, enum action_status st,
			  const char *summary, cJSON *end)
{
	struct attempt *att = r->att;
	struct err e;
	att->last = (struct action_result){ .status = st, .exit_code = -1 };
	action_summary(&att->last, "%s", summary);
	if (end) {
		const cJSON *x = cJSON_GetObjectItemCaseSensitive(end, "exit_code");
		if (cJSON_IsNumber(x))
			att->last.exit_code = x->valueint;
	} else {
		end = run_step_payload(r, att->step, att->attempt);
		cJSON_AddNumberToObject(end, "action", (double)att->action);
		cJSON_AddStringToObject(end, "status", action_status_name(st));
		cJSON_AddNullToObject(end, "exit_code");
		cJSON_AddNumberToObject(end, "duration_ms",
					(double)((clock_mono_ns() - att->action_started_ns) / 1000000));
		char *clean = run_redact(r, summary);
		cJSON_AddStringToObject(end, "summary", clean);
		free(clean);
	}
	/* recorded with what follows: one commit for both */
	r->defer = true;
	run_emit(r, (long)att->step, EV_ACTION_END, NULL, end, &e);
	next_soon(r);
}

/* ---- one task ---- */

/* A string "capture" in the action's values (sql's capture_col) is what
 * the step's capture= takes, instead of stdout. A secret one is neither
 * journaled nor shown: removed from the values, and masked wherever else
 * it appears in them (the first row holds it too). */
static void capture_from_values(struct run *r, struct task *t)
{
	const char *name = r->rb->steps[t->step].capture;
	cJSON *cap = t->values ? cJSON_GetObjectItemCaseSensitive(t->values, "capture") : NULL;
	if (!name || !cJSON_IsString(cap) || !t->capture)
		return;
	buf_reset(t->capture);
	buf_adds(t->capture, cap->valuestring);
	if (!t->capture_only)
		return;
	char *secret = xstrdup(cap->valuestring);
	cJSON_DeleteItemFromObjectCaseSensitive(t->values, "capture");
	cJSON *stack[64];
	size_t n = 0;
	stack[n++] = t->values;
	while (n) {
		cJSON *node = stack[--n];
		for (cJSON *ch = node->child; ch; ch = ch->next) {
			if (cJSON_IsString(ch) && *secret && strstr(ch->valuestring, secret))
				cJSON_SetValuestring(ch, REDACT_MASK);
			else if ((cJSON_IsObject(ch) || cJSON_IsArray(ch)) && n < 64)
				stack[n++] = ch;
		}
	}
	free(secret);
}

/* values.pick {variable, value: null} with values.choices: the operator
 * picks one when the step has settled (run_pick_pending). */
static void pick_from_values(struct run *r, struct task *t)
{
	const cJSON *pick = t->values ? cJSON_GetObjectItemCaseSensitive(t->values, "pick") : NULL;
	const cJSON *var = cJSON_GetObjectItemCaseSensitive(pick, "variable");
	const cJSON *value = cJSON_GetObjectItemCaseSensitive(pick, "value");
	const cJSON *choices = cJSON_GetObjectItemCaseSensitive(t->values, "choices");
	if (!cJSON_IsString(var) || !cJSON_IsNull(value) || !cJSON_IsArray(choices) ||
	    !cJSON_GetArraySize(choices) || t->res.status != ACTION_OK)
		return;
	cJSON_Delete(r->pick.choices);
	free(r->pick.var);
	r->pick.step = t->step;
	r->pick.var = xstrdup(var->valuestring);
	r->pick.choices = cJSON_Duplicate(choices, 1);
}

static void single_end(struct task *t)
{
	struct run *r = t->run;
	struct attempt *att = r->att;
	capture_from_values(r, t);
	pick_from_values(r, t);
	cJSON *p = run_step_payload(r, t->step, t->attempt);
	cJSON_AddNumberToObject(p, "action", (double)t->action);
	task_end_payload(t, p);
	enum action_status st = t->res.status;
	char summary[ACTION_SUMMARY_MAX];
	snprintf(summary, sizeof summary, "%s", t->res.summary);
	int exit_code = t->res.exit_code;
	att->task = NULL;
	task_free(t);
	action_result(r, st, summary, p);
	att->last.exit_code = exit_code; /* null in the payload for none */
}

static void single_start(struct run *r, const struct action *a)
{
	struct attempt *att = r->att;
	struct err e;
	const struct action_target *tg = att->targets.n ? &att->targets.v[0] : NULL;
	struct target_set shown = { 0 };
	if (a->target)
		targets_resolve(r->rb, a->target, run_lookup_masked, r, &shown, &e);
	struct task *t = task_new(r, FOLD_TASK_ACTION, att->step, att->attempt,
				  att->action, a, tg, NULL);
	cJSON *p = action_start_payload(r, a, shown.n ? &shown.v[0] : NULL);
	target_set_release(&shown);
	cJSON_AddNumberToObject(p, "task", (double)t->id);
	r->defer = true;
	/* nothing runs before the journal says it does */
	if (run_emit(r, (long)att->step, EV_ACTION_START, NULL, p, &e) < 0 ||
	    run_flush_events(r, &e) < 0) {
		task_free(t);
		action_result(r, ACTION_ERROR, e.msg, NULL);
		return;
	}
	const struct step *s = &r->rb->steps[att->step];
	if (s->capture) {
		t->capture = &att->capture;
		const struct var *v = runbook_var(r->rb, s->capture);
		t->capture_only = v && v->secret;
	}
	t->on_end = single_end;
	t->owner = att;
	att->task = t;
	struct action_ctx base;
	/* the action may read its environment until it is freed */
	t->env = tg ? run_env_build(r, tg) : NULL;
	task_ctx_base(r, t->env ? t->env : att->env, &base);
	task_start(t, &base);
}

/* ---- fan-out ---- */

static size_t fan_need(const struct action *a, size_t n)
{
	if (!a->require || !strcmp(a->require, "all"))
		return n;
	if (!strcmp(a->require, "any"))
		return n ? 1 : 0;
	size_t k = (size_t)strtoul(a->require, NULL, 10);
	return k < n ? k : n;
}

static void fan_fill(struct run *r);

static void fan_done(struct run *r)
{
	struct attempt *att = r->att;
	struct fanout *f = att->fan;
	size_t n = f->set.n;
	bool ok = f->ok >= f->need;
	cJSON *p = run_step_payload(r, att->step, att->attempt);
	cJSON_AddNumberToObject(p, "action", (double)att->action);
	cJSON_AddStringToObject(p, "status", action_status_name(ok ? ACTION_OK : ACTION_FAILED));
	cJSON_AddNullToObject(p, "exit_code");
	cJSON_AddNumberToObject(p, "duration_ms",
				(double)((clock_mono_ns() - f->started_ns) / 1000000));
	char summary[ACTION_SUMMARY_MAX];
	size_t not_run = n - f->ended;
	int len = snprintf(summary, sizeof summary, "%zu of %zu members ok, %zu failed",
			   f->ok, n, f->failed);
	if (not_run && len > 0 && (size_t)len < sizeof summary)
		snprintf(summary + len, sizeof summary - (size_t)len, ", %zu not run", not_run);
	cJSON_AddStringToObject(p, "summary", summary);
	cJSON *hosts = cJSON_AddArrayToObject(p, "hosts");
	for (size_t i = 0; i < n; i++) {
		cJSON *h = cJSON_CreateObject();
		cJSON_AddStringToObject(h, "label", f->set.v[i].name);
		cJSON_AddStringToObject(h, "status", f->hosts[i].done
			? action_status_name(f->hosts[i].status) : "not_run");
		if (f->hosts[i].done && f->hosts[i].exit_code >= 0)
			cJSON_AddNumberToObject(h, "exit_code", f->hosts[i].exit_code);
		if (f->hosts[i].done)
			cJSON_AddStringToObject(h, "summary", f->hosts[i].summary);
		if (f->hosts[i].task)
			cJSON_AddNumberToObject(h, "task", (double)f->hosts[i].task);
		cJSON_AddItemToArray(hosts, h);
	}
	target_set_release(&f->set);
	free(f->hosts);
	free(f);
	att->fan = NULL;
	action_result(r, ok ? ACTION_OK : ACTION_FAILED, summary, p);
}

static void member_end(struct task *t)
{
	struct run *r = t->run;
	struct attempt *att = r->att;
	struct fanout *f = att->fan;
	struct err e;
	size_t i = (size_t)(uintptr_t)t->owner;
	cJSON *p = run_step_payload(r, t->step, t->attempt);
	cJSON_AddNumberToObject(p, "action", (double)t->action);
	task_end_payload(t, p);
	f->hosts[i].status = t->res.status;
	f->hosts[i].exit_code = t->res.exit_code;
	snprintf(f->hosts[i].summary, sizeof f->hosts[i].summary, "%s", t->res.summary);
	f->hosts[i].done = true;
	f->running--;
	f->ended++;
	if (t->res.status == ACTION_OK)
		f->ok++;
	else
		f->failed++;
	task_free(t);
	r->defer = true;
	run_emit(r, (long)att->step, EV_TASK_END, NULL, p, &e);
	run_flush_events(r, &e);
	size_t n = f->set.n;
	if (f->ok >= f->need || f->failed > n - f->need)
		f->decided = true;
	if (att->cancelled || att->timed_out)
		f->decided = true;
	fan_fill(r);
}

/* Starts members up to the limit; all their task_start events in one
 * commit, before any of them runs. */
static void fan_fill(struct run *r)
{
	struct attempt *att = r->att;
	struct fanout *f = att->fan;
	const struct action *a = &r->rb->steps[att->step].actions[att->action];
	struct task *batch[QRH_MAX_PARALLEL];
	size_t nb = 0;
	struct err e;
	r->defer = true;
	while (!f->decided && f->next < f->set.n && f->running + nb < f->parallel) {
		size_t i = f->next++;
		struct task *t = task_new(r, FOLD_TASK_MEMBER, att->step, att->attempt,
					  att->action, a, &f->set.v[i], f->set.v[i].name);
		cJSON *p = run_step_payload(r, att->step, att->attempt);
		cJSON_AddNumberToObject(p, "action", (double)att->action);
		cJSON_AddNumberToObject(p, "task", (double)t->id);
		cJSON_AddStringToObject(p, "label", f->set.v[i].name);
		run_emit(r, (long)att->step, EV_TASK_START, NULL, p, &e);
		t->on_end = member_end;
		t->owner = (void *)(uintptr_t)i;
		f->hosts[i].task = t->id;
		f->hosts[i].started = true;
		batch[nb++] = t;
	}
	if (run_flush_events(r, &e) < 0) {
		for (size_t k = 0; k < nb; k++)
			task_free(batch[k]);
		f->decided = true;
		nb = 0;
	}
	for (size_t k = 0; k < nb; k++) {
		struct action_ctx base;
		batch[k]->env = run_env_build(r, batch[k]->target);
		task_ctx_base(r, batch[k]->env, &base);
		f->running++;
		task_start(batch[k], &base);
	}
	if (!f->running)
		fan_done(r);
}

static void fan_start(struct run *r, const struct action *a)
{
	struct attempt *att = r->att;
	struct err e;
	struct fanout *f = xcalloc(1, sizeof *f);
	f->set = att->targets;
	memset(&att->targets, 0, sizeof att->targets);
	f->parallel = a->parallel > 0 ? (size_t)a->parallel : RUN_DEFAULT_PARALLEL;
	f->need = fan_need(a, f->set.n);
	f->hosts = xcalloc(f->set.n, sizeof *f->hosts);
	f->started_ns = clock_mono_ns();
	att->fan = f;
	cJSON *p = action_start_payload(r, a, NULL);
	cJSON *fo = cJSON_AddObjectToObject(p, "fanout");
	cJSON_AddStringToObject(fo, "group", a->target);
	cJSON_AddNumberToObject(fo, "members", (double)f->set.n);
	cJSON_AddNumberToObject(fo, "parallel", (double)f->parallel);
	cJSON_AddStringToObject(fo, "require", a->require ? a->require : "all");
	cJSON *names = cJSON_AddArrayToObject(fo, "names");
	for (size_t i = 0; i < f->set.n; i++)
		cJSON_AddItemToArray(names, cJSON_CreateString(f->set.v[i].name));
	r->defer = true;
	if (run_emit(r, (long)att->step, EV_ACTION_START, NULL, p, &e) < 0) {
		f->decided = true;
		fan_done(r);
		return;
	}
	fan_fill(r);
}

/* ---- the current action ---- */

static bool is_group(const struct runbook *rb, const char *name)
{
	const struct target *t = name ? runbook_target(rb, name) : NULL;
	return t && t->kind && !strcmp(t->kind, "group");
}

static void wait_stop_begin(struct run *r, const struct action *a)
{
	struct attempt *att = r->att;
	struct err e;
	r->defer = true;
	if (run_emit(r, (long)att->step, EV_ACTION_START, NULL,
		     action_start_payload(r, a, NULL), &e) < 0 ||
	    run_flush_events(r, &e) < 0) {
		action_result(r, ACTION_ERROR, e.msg, NULL);
		return;
	}
	if (!run_background_stop_named(r, a->stop)) {
		char msg[128];
		snprintf(msg, sizeof msg, "background '%s' is not running", a->stop);
		action_result(r, ACTION_OK, msg, NULL);
		return;
	}
	att->stopping = true;
}

/* ---- wait {until=PROBE:STATE}: carried by the engine, which owns probes ---- */

static void probe_wait_end(struct run *r, enum action_status st, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void probe_wait_end(struct run *r, enum action_status st, const char *fmt, ...)
{
	struct attempt *att = r->att;
	char msg[ACTION_SUMMARY_MAX];
	va_list ap;
	att->probe_waiting = false;
	if (att->wait_timer)
		loop_timer_cancel(r->loop, att->wait_timer);
	att->wait_timer = 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	action_result(r, st, msg, NULL);
}

static const char *wait_probe_name(const struct run *r)
{
	return r->rb->probes[r->att->wait_probe].name;
}

static void on_wait_within(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	struct attempt *att = r->att;
	(void)l;
	(void)id;
	att->wait_timer = 0;
	char within[DURATION_TEXT_MAX];
	duration_format((att->wait_deadline_ns - att->wait_started_ns) / 1000000, within);
	probe_wait_end(r, ACTION_FAILED, "probe '%s' was not %s within %s (it is %s)",
		       wait_probe_name(r), probe_state_name(att->wait_state), within,
		       probe_state_name(r->probes[att->wait_probe].state));
}

void run_attempt_probe_changed(struct run *r, size_t i)
{
	struct attempt *att = r->att;
	if (!att || !att->probe_waiting || att->wait_probe != i ||
	    r->probes[i].state != att->wait_state)
		return;
	probe_wait_end(r, ACTION_OK, "probe '%s' is %s after %.1f s", wait_probe_name(r),
		       probe_state_name(att->wait_state),
		       (double)(clock_mono_ns() - att->wait_started_ns) / 1e9);
}

bool run_probe_waiting(const struct run *r, struct run_probe_wait *out)
{
	const struct attempt *att = r->att;
	if (!att || !att->probe_waiting)
		return false;
	int64_t left = att->wait_deadline_ns ? (att->wait_deadline_ns - clock_mono_ns()) / 1000000
					     : -1;
	*out = (struct run_probe_wait){ .step = att->step, .probe = wait_probe_name(r),
					.state = att->wait_state,
					.left_ms = att->wait_deadline_ns && left < 0 ? 0 : left };
	return true;
}

static void wait_probe_begin(struct run *r, const struct action *a)
{
	struct attempt *att = r->att;
	char name[QRH_MAX_ID_LEN + 1];
	const char *why;
	struct err e;
	enum probe_state want = PROBE_OK;
	r->defer = true;
	if (run_emit(r, (long)att->step, EV_ACTION_START, NULL,
		     action_start_payload(r, a, NULL), &e) < 0 ||
	    run_flush_events(r, &e) < 0) {
		action_result(r, ACTION_ERROR, e.msg, NULL);
		return;
	}
	if (a->until && probe_until_parse(a->until, name, &want, &why) < 0) {
		action_result(r, ACTION_ERROR, why, NULL);
		return;
	}
	long i = run_probe_index(r, a->until ? name : a->probe);
	if (i < 0 || !r->probes) {
		action_result(r, ACTION_ERROR, "no such probe", NULL);
		return;
	}
	att->wait_probe = (size_t)i;
	att->wait_state = want;
	att->wait_started_ns = clock_mono_ns();
	att->probe_waiting = true;
	if (r->probes[i].sampled && r->probes[i].state == want) {
		run_attempt_probe_changed(r, (size_t)i);
		return;
	}
	if (a->within_ms >= 0) {
		att->wait_deadline_ns = att->wait_started_ns + a->within_ms * 1000000;
		att->wait_timer = loop_timer_add(r->loop, a->within_ms, on_wait_within, r);
	}
}

/* A drill's fail-once fault: the action is announced as it would run,
 * and fails without running. The trainee sees a failure like any other;
 * the journal says it was the fault. */
static void fault_fail(struct run *r, const struct action *a)
{
	struct attempt *att = r->att;
	struct err e;
	static const char summary[] = "failed: a transient error, try again";
	r->defer = true;
	run_emit(r, (long)att->step, EV_ACTION_START, NULL, action_start_payload(r, a, NULL), &e);
	cJSON *end = run_step_payload(r, att->step, att->attempt);
	cJSON_AddNumberToObject(end, "action", (double)att->action);
	cJSON_AddStringToObject(end, "status", action_status_name(ACTION_FAILED));
	cJSON_AddNullToObject(end, "exit_code");
	cJSON_AddNumberToObject(end, "duration_ms", 0);
	cJSON_AddStringToObject(end, "summary", summary);
	cJSON_AddStringToObject(end, "fault", "fail-once");
	action_result(r, ACTION_FAILED, summary, end);
}

static void action_begin(struct run *r)
{
	struct attempt *att = r->att;
	const struct action *a = &r->rb->steps[att->step].actions[att->action];
	struct err e;
	att->action_started_ns = clock_mono_ns();
	if (a->kind == ACTION_WAIT && a->stop) {
		wait_stop_begin(r, a);
		return;
	}
	if (a->kind == ACTION_WAIT && (a->until || a->probe)) {
		wait_probe_begin(r, a);
		return;
	}
	if (a->background) {
		if (run_background_of(r, att->step, att->action)) {
			action_result(r, ACTION_OK, "already running, started by an earlier attempt", NULL);
			return;
		}
		if (run_background_start(r, a, &e) < 0)
			action_result(r, ACTION_ERROR, e.msg, NULL);
		else
			action_result(r, ACTION_OK, "started in the background", NULL);
		return;
	}
	target_set_release(&att->targets);
	if (a->target && targets_resolve(r->rb, a->target, run_lookup, r, &att->targets, &e) < 0) {
		char *clean = run_redact(r, e.msg);
		r->defer = true;
		run_emit(r, (long)att->step, EV_ACTION_START, NULL,
			 action_start_payload(r, a, NULL), &e);
		action_result(r, ACTION_ERROR, clean, NULL);
		free(clean);
		return;
	}
	if (att->action == 0 && run_drill_fails(r, att->step, att->attempt))
		fault_fail(r, a);
	else if (is_group(r->rb, a->target))
		fan_start(r, a);
	else
		single_start(r, a);
}

/* A background task ended while a wait {stop} waited for one. */
void run_attempt_background_ended(struct run *r)
{
	struct attempt *att = r->att;
	if (!att || !att->stopping)
		return;
	const struct action *a = &r->rb->steps[att->step].actions[att->action];
	if (run_background_find(r, a->stop))
		return;
	att->stopping = false;
	if (att->stop_timer)
		loop_timer_cancel(r->loop, att->stop_timer);
	att->stop_timer = 0;
	char msg[128];
	snprintf(msg, sizeof msg, "background '%s' stopped", a->stop);
	action_result(r, ACTION_OK, msg, NULL);
}

/* ---- the step's own timeout, and cancel ---- */

static void cancel_running(struct run *r, enum action_cancel_reason why)
{
	struct attempt *att = r->att;
	if (att->task)
		task_cancel(att->task, why);
	for (size_t i = 0; att->fan && i < r->n_tasks; i++)
		if (r->tasks[i]->role == FOLD_TASK_MEMBER && r->tasks[i]->step == att->step)
			task_cancel(r->tasks[i], why);
	if (att->fan)
		att->fan->decided = true;
	if (att->stopping) {
		att->stopping = false;
		action_result(r, why == ACTION_CANCEL_TIMEOUT ? ACTION_TIMEOUT : ACTION_CANCELLED,
			      why == ACTION_CANCEL_TIMEOUT ? "timed out while stopping a background action"
							   : "cancelled while stopping a background action",
			      NULL);
	}
	if (att->probe_waiting)
		probe_wait_end(r, why == ACTION_CANCEL_TIMEOUT ? ACTION_TIMEOUT : ACTION_CANCELLED,
			       "%s while waiting for probe '%s' to be %s",
			       why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled",
			       wait_probe_name(r), probe_state_name(att->wait_state));
}

static void on_step_timeout(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	r->att->step_timer = 0;
	r->att->timed_out = true;
	cancel_running(r, ACTION_CANCEL_TIMEOUT);
}

static void on_retry(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	struct err e;
	(void)l;
	(void)id;
	size_t i = r->att->step;
	int attempt = r->att->attempt + 1;
	r->att->retry_timer = 0;
	run_attempt_free(r);
	r->defer = true;
	if (run_attempt_start(r, i, attempt, &e) < 0)
		run_notify_step(r, i);
}

void run_cancel_step(struct run *r)
{
	struct attempt *att = r->att;
	struct err e;
	if (!att)
		return;
	if (att->retry_timer) {
		size_t i = att->step;
		cJSON *p = run_step_payload(r, i, att->attempt + 1);
		run_add_actor(r, p);
		run_emit(r, (long)i, EV_STEP_CANCEL, r->actor, p, &e);
		run_attempt_free(r);
		run_notify_step(r, i);
		return;
	}
	att->cancelled = true;
	cancel_running(r, ACTION_CANCEL_OPERATOR);
}

/* ---- the end of an attempt ---- */

static enum step_status attempt_status(const struct attempt *att,
				       const struct step *s)
{
	if (!s->n_actions)
		return STEP_OK;
	if (att->cancelled)
		return STEP_CANCELLED;
	if (att->timed_out || att->last.status == ACTION_TIMEOUT)
		return STEP_TIMEOUT;
	if (att->last.status == ACTION_OK)
		return STEP_OK;
	if (att->last.status == ACTION_CANCELLED)
		return STEP_CANCELLED;
	return STEP_FAILED;
}

static void record_capture(struct run *r, struct attempt *att)
{
	const char *name = r->rb->steps[att->step].capture;
	struct err e;
	while (att->capture.len && (att->capture.data[att->capture.len - 1] == '\n' ||
				    att->capture.data[att->capture.len - 1] == '\r'))
		att->capture.data[--att->capture.len] = '\0';
	const struct var *decl = runbook_var(r->rb, name);
	values_set(&r->values, name, att->capture.data, decl && decl->secret);
	cJSON *p = run_step_payload(r, att->step, att->attempt);
	cJSON_AddStringToObject(p, "name", name);
	if (!(decl && decl->secret)) {
		char *clean = run_redact(r, att->capture.data);
		cJSON_AddStringToObject(p, "value", clean);
		free(clean);
	}
	run_emit(r, (long)att->step, EV_CAPTURE, NULL, p, &e);
}

static void step_finish(struct run *r)
{
	struct attempt *att = r->att;
	const struct step *s = &r->rb->steps[att->step];
	size_t i = att->step;
	struct err e;
	enum step_status status = attempt_status(att, s);
	const char *summary = s->n_actions ? att->last.summary : "done";
	int64_t now_wall = clock_wall_ms(), now_mono = clock_mono_ns();
	cJSON *p = run_step_payload(r, i, att->attempt);
	cJSON_AddStringToObject(p, "status", step_status_name(status));
	if (att->last.exit_code >= 0)
		cJSON_AddNumberToObject(p, "exit_code", att->last.exit_code);
	else
		cJSON_AddNullToObject(p, "exit_code");
	cJSON_AddNumberToObject(p, "duration_ms", (double)((now_mono - att->started_ns) / 1000000));
	const struct step_state *st = run_step(r, i);
	if (st->n_attempts) {
		const struct step_attempt *first = &st->attempts[0];
		bool same = fold_same_boot(&r->fold, first->segment, (int)r->fold.n_segments - 1);
		int64_t el = same ? (now_mono - first->started_mono_ns) / 1000000
				  : now_wall - first->started_wall_ms;
		cJSON_AddNumberToObject(p, "elapsed_ms", (double)(el > 0 ? el : 0));
	}
	char *clean = run_redact(r, summary);
	cJSON_AddStringToObject(p, "summary", clean);
	free(clean);
	r->defer = true;
	if (status == STEP_OK && s->capture)
		record_capture(r, att);
	run_emit(r, (long)i, EV_STEP_END, NULL, p, &e);
	bool retry = (status == STEP_FAILED || status == STEP_TIMEOUT) &&
		     att->attempt <= s->retries && !r->journal_broken;
	if (retry) {
		int64_t base = s->backoff_ms >= 0 ? s->backoff_ms : RUN_DEFAULT_BACKOFF_MS;
		int shift = att->attempt - 1 < 10 ? att->attempt - 1 : 10;
		int64_t wait = base << shift;
		cJSON *rp = run_step_payload(r, i, att->attempt + 1);
		cJSON_AddNumberToObject(rp, "backoff_ms", (double)wait);
		run_emit(r, (long)i, EV_STEP_RETRY, NULL, rp, &e);
		if (run_flush_events(r, &e) == 0) {
			if (att->step_timer)
				loop_timer_cancel(r->loop, att->step_timer);
			att->step_timer = 0;
			att->retry_timer = loop_timer_add(r->loop, wait, on_retry, r);
			run_notify_step(r, i); /* a front end shows the countdown */
			return;
		}
	}
	run_flush_events(r, &e);
	run_attempt_free(r);
	run_notify_step(r, i);
}

/* ---- an attempt's life ---- */

const cJSON *run_pick_pending(const struct run *r, size_t *step,
			      const char **var)
{
	if (!r->pick.choices)
		return NULL;
	*step = r->pick.step;
	*var = r->pick.var;
	return r->pick.choices;
}

void run_pick_clear(struct run *r)
{
	cJSON_Delete(r->pick.choices);
	free(r->pick.var);
	r->pick.choices = NULL;
	r->pick.var = NULL;
}

/* The choice an answer names: its name, else its number in the list. */
static const char *pick_choice(const cJSON *choices, const char *answer)
{
	const cJSON *c;
	cJSON_ArrayForEach(c, choices)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(c, "name");
		if (cJSON_IsString(name) && !strcmp(name->valuestring, answer))
			return name->valuestring;
	}
	char *end;
	long k = strtol(answer, &end, 10);
	const cJSON *name = *answer && !*end && k >= 1 && k <= cJSON_GetArraySize(choices)
		? cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(choices, (int)k - 1), "name")
		: NULL;
	return cJSON_IsString(name) ? name->valuestring : NULL;
}

int run_pick(struct run *r, const char *answer, struct err *e)
{
	if (!r->pick.choices)
		return err_set(e, "nothing to pick");
	const char *found = pick_choice(r->pick.choices, answer ? answer : "");
	if (!found)
		return err_set(e, "'%s' is not one of the choices for %s", answer ? answer : "",
			       r->pick.var);
	char *value = xstrdup(found);
	const struct var *decl = runbook_var(r->rb, r->pick.var);
	cJSON *p = run_step_payload(r, r->pick.step, 0);
	cJSON_AddStringToObject(p, "name", r->pick.var);
	if (!(decl && decl->secret)) {
		char *clean = run_redact(r, value);
		cJSON_AddStringToObject(p, "value", clean);
		free(clean);
	}
	cJSON_AddStringToObject(p, "how", "picked");
	run_add_actor(r, p);
	if (run_emit(r, (long)r->pick.step, EV_CAPTURE, r->actor, p, e) < 0) {
		free(value);
		return -1;
	}
	values_set(&r->values, r->pick.var, value, decl && decl->secret);
	free(value);
	run_pick_clear(r);
	return 0;
}

int run_attempt_start(struct run *r, size_t i, int attempt, struct err *e)
{
	const struct step *s = &r->rb->steps[i];
	/* every attempt, retries included: the journal deleted or replaced
	 * under us is as good as a full disk */
	if (journal_file_check(r->j, e) < 0) {
		run_journal_failure(r, e->msg);
		return err_prefix(e, "no step may start");
	}
	struct attempt *att = xcalloc(1, sizeof *att);
	att->step = i;
	att->attempt = attempt;
	att->started_ns = clock_mono_ns();
	run_pick_clear(r); /* moving on: a pick not made is not made */
	att->last.status = ACTION_OK;
	att->last.exit_code = -1;
	buf_init(&att->capture, RUN_CAPTURE_MAX);
	r->att = att;
	r->defer = true;
	if (run_emit(r, (long)i, EV_STEP_START, NULL, run_step_payload(r, i, attempt), e) < 0) {
		run_attempt_free(r);
		return -1;
	}
	att->env = run_env_build(r, NULL);
	if (s->timeout_ms > 0)
		att->step_timer = loop_timer_add(r->loop, s->timeout_ms, on_step_timeout, r);
	if (!s->n_actions) {
		/* a manual step: confirming it is doing it */
		if (run_flush_events(r, e) < 0) {
			run_attempt_free(r);
			return -1;
		}
		next_soon(r);
		return 0;
	}
	action_begin(r);
	return 0;
}

void run_attempt_free(struct run *r)
{
	struct attempt *att = r->att;
	if (!att)
		return;
	uint64_t *timers[] = { &att->step_timer, &att->retry_timer, &att->next_timer,
			       &att->stop_timer, &att->wait_timer };
	for (size_t k = 0; k < sizeof timers / sizeof *timers; k++)
		if (*timers[k])
			loop_timer_cancel(r->loop, *timers[k]);
	if (att->task)
		task_free(att->task);
	if (att->fan) {
		for (size_t k = r->n_tasks; k-- > 0;)
			if (r->tasks[k]->role == FOLD_TASK_MEMBER)
				task_free(r->tasks[k]);
		target_set_release(&att->fan->set);
		free(att->fan->hosts);
		free(att->fan);
	}
	target_set_release(&att->targets);
	buf_release(&att->capture);
	run_env_free(att->env);
	free(att);
	r->att = NULL;
}
