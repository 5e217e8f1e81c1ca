/* Executing a step: its actions in order on the event loop, output through
 * redaction into the journal and to the front end, the step's timeout,
 * retries with backoff, capture, and background processes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/run_priv.h"
#include "state/targets.h"
#include "util/clock.h"
#include "util/xalloc.h"

static void action_next(struct run *r);
static void step_finish(struct run *r);

/* Moving on happens from a timer, on a clean stack: an action's callbacks
 * may not free the action they are called from. */
static void action_next_timer(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	action_next(arg);
}

/* NAME=value for every variable with a value, and the QRH_* names. */
static char **build_env(struct run *r)
{
	size_t n = r->values.n + 5, k = 0;
	char **env = xcalloc(n, sizeof *env);
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < r->values.n; i++) {
		const struct value *v = &r->values.v[i];
		if (!v->text)
			continue;
		buf_reset(&b);
		buf_addf(&b, "%s=%s", v->name, v->text);
		env[k++] = xstrdup(b.data);
	}
	static const char *const names[] = { "QRH_RUN_ID", "QRH_STEP_ID",
					     "QRH_OPERATOR", "QRH_RUNBOOK" };
	for (size_t i = 0; i < 4; i++) {
		const char *v = run_lookup(r, names[i]);
		buf_reset(&b);
		buf_addf(&b, "%s=%s", names[i], v ? v : "");
		env[k++] = xstrdup(b.data);
	}
	buf_release(&b);
	return env;
}

static void free_env(char **env)
{
	for (char **e = env; e && *e; e++)
		free(*e);
	free(env);
}

static void journal_failure(struct run *r, const struct err *e)
{
	if (!r->journal_broken) {
		r->journal_broken = true;
		if (r->lis.journal_failed)
			r->lis.journal_failed(r->lis.arg, e->msg);
	}
}

/* Stores and shows one redacted chunk of a stream; the foreground step's
 * stdout also feeds its capture. */
static void deliver(struct run *r, size_t step, int attempt,
		    enum proc_stream stream, const char *data, size_t len)
{
	struct err e;
	if (!len)
		return;
	struct active *a = r->act;
	const char *cap = r->rb->steps[step].capture;
	if (a && a->step == step && a->attempt == attempt &&
	    stream == PROC_STDOUT && cap) {
		buf_add(&a->capture, data, len);
		const struct var *v = runbook_var(r->rb, cap);
		if (v && v->secret)
			return; /* it is the secret: neither stored nor shown */
	}
	if (journal_output_append(r->j, r->id, (int64_t)step, attempt,
				  stream == PROC_STDOUT ? JOURNAL_STDOUT : JOURNAL_STDERR,
				  data, len, &e) < 0)
		journal_failure(r, &e);
	if (r->lis.output)
		r->lis.output(r->lis.arg, step, stream, data, len);
}

static void on_output(void *arg, enum proc_stream stream, const char *data,
		      size_t len)
{
	struct run *r = arg;
	struct active *a = r->act;
	struct buf out;
	if (!a)
		return;
	if (!r->values.secrets.n) {
		deliver(r, a->step, a->attempt, stream, data, len);
		return;
	}
	buf_init(&out, BUF_UNLIMITED);
	redactor_feed(&a->red[stream], data, len, &out);
	deliver(r, a->step, a->attempt, stream, out.data, out.len);
	buf_release(&out);
}

/* A copy of an action's values with every string redacted. When the
 * step captures a value into a secret variable, that value is a secret
 * already: it is left out, and masked wherever else it appears (the
 * first row, an assertion). */
static cJSON *stored_values(struct run *r, const cJSON *v, bool secret_capture)
{
	cJSON *copy = cJSON_Duplicate(v, 1);
	struct strv secrets = { 0 };
	for (size_t i = 0; i < r->values.secrets.n; i++)
		strv_push(&secrets, r->values.secrets.v[i]);
	const cJSON *cap = cJSON_GetObjectItemCaseSensitive(copy, "capture");
	if (secret_capture && cJSON_IsString(cap) && *cap->valuestring)
		strv_push(&secrets, cap->valuestring);
	if (secret_capture)
		cJSON_DeleteItemFromObjectCaseSensitive(copy, "capture");
	cJSON *stack[64];
	size_t n = 0;
	stack[n++] = copy;
	while (n && secrets.n) {
		cJSON *it = stack[--n];
		for (cJSON *c = it->child; c; c = c->next) {
			if (cJSON_IsString(c)) {
				struct buf clean;
				buf_init(&clean, BUF_UNLIMITED);
				redact_string(&secrets, c->valuestring, &clean);
				cJSON_SetValuestring(c, clean.data);
				buf_release(&clean);
			} else if (c->child && n < 64) {
				stack[n++] = c;
			}
		}
	}
	strv_release(&secrets);
	return copy;
}

/* An action that produced a value to capture (values.capture, e.g. a sql
 * column): the step's capture takes it instead of stdout. */
static void take_capture(struct run *r, struct active *a, const cJSON *values,
			 bool *secret)
{
	const char *name = r->rb->steps[a->step].capture;
	const cJSON *cap = values ? cJSON_GetObjectItemCaseSensitive(values, "capture") : NULL;
	const struct var *decl = name ? runbook_var(r->rb, name) : NULL;
	*secret = decl && decl->secret;
	if (!name || !cJSON_IsString(cap))
		return;
	free(a->capture_value);
	a->capture_value = xstrdup(cap->valuestring);
}

/* The kind's run-long state: opened at its first start. */
struct action_kind_state *run_kind_state(struct run *r,
					 const struct action_entry *ent,
					 struct err *e, int *rc)
{
	*rc = 0;
	if (!ent->open)
		return NULL;
	if (!r->ks_open[ent->kind]) {
		struct action_host h = { .loop = r->loop, .reaper = r->reaper,
					 .grace_ms = r->opts.grace_ms };
		if (ent->open(&h, &r->ks[ent->kind], e) < 0) {
			*rc = -1;
			return NULL;
		}
		r->ks_open[ent->kind] = true;
	}
	return r->ks[ent->kind];
}

void run_kind_states_close(struct run *r)
{
	for (int k = 0; k < ACTION_KIND_COUNT; k++) {
		const struct action_entry *ent = action_entry_for((enum action_kind)k);
		if (r->ks_open[k] && ent && ent->close)
			ent->close(r->ks[k]);
		r->ks_open[k] = false;
		r->ks[k] = NULL;
	}
}

static void on_done(void *arg, const struct action_result *res)
{
	struct run *r = arg;
	struct active *a = r->act;
	struct err e;
	bool secret_capture = false;
	take_capture(r, a, res->values, &secret_capture);
	/* recorded with what follows (the next action's start or the step's
	 * end), one commit for both */
	r->defer = true;
	a->last = *res;
	a->last.values = NULL;
	if ((a->timed_out || a->action_timed_out) && res->status == ACTION_CANCELLED)
		a->last.status = ACTION_TIMEOUT;
	a->action_timed_out = false;
	cJSON *p = run_step_payload(r, a->step, a->attempt);
	cJSON_AddNumberToObject(p, "action", (double)a->action);
	cJSON_AddStringToObject(p, "status", action_status_name(a->last.status));
	if (res->exit_code >= 0)
		cJSON_AddNumberToObject(p, "exit_code", res->exit_code);
	else
		cJSON_AddNullToObject(p, "exit_code");
	cJSON_AddNumberToObject(p, "signal", res->signo);
	cJSON_AddNumberToObject(p, "duration_ms", (double)(res->duration_ns / 1000000));
	cJSON_AddStringToObject(p, "summary", res->summary);
	if (res->values)
		cJSON_AddItemToObject(p, "values", stored_values(r, res->values, secret_capture));
	run_emit(r, (long)a->step, EV_ACTION_END, NULL, p, &e);
	loop_timer_add(r->loop, 0, action_next_timer, r);
}

/* ---- background processes ---- */

static struct background *find_bg(struct run *r, const char *name)
{
	for (size_t i = 0; i < r->n_bg; i++)
		if (r->bg[i].alive && r->bg[i].name && !strcmp(r->bg[i].name, name))
			return &r->bg[i];
	return NULL;
}

static bool bg_of_step(const struct run *r, size_t step)
{
	for (size_t i = 0; i < r->n_bg; i++)
		if (r->bg[i].step == step)
			return true;
	return false;
}

static void bg_output(void *arg, enum proc_stream stream, const char *data,
		      size_t len)
{
	struct background *b = arg;
	struct run *r = b->run;
	struct buf out;
	buf_init(&out, BUF_UNLIMITED);
	redactor_feed(&b->red[stream], data, len, &out);
	b->bytes += (int64_t)len;
	deliver(r, b->step, BACKGROUND_ATTEMPT, stream, out.data, out.len);
	buf_release(&out);
}

static void finish_streams(struct run *r, size_t step, int attempt,
			   struct redactor *red, cJSON *p)
{
	static const char *const keys[3] = { NULL, "stdout", "stderr" };
	for (int s = PROC_STDOUT; s <= PROC_STDERR; s++) {
		struct buf rest;
		struct err e;
		struct journal_output_info info = { 0 };
		char key[32];
		buf_init(&rest, BUF_UNLIMITED);
		redactor_flush(&red[s], &rest);
		deliver(r, step, attempt, (enum proc_stream)s, rest.data, rest.len);
		buf_release(&rest);
		if (journal_output_finish(r->j, r->id, (int64_t)step, attempt,
					  s == PROC_STDOUT ? JOURNAL_STDOUT : JOURNAL_STDERR,
					  &info, &e) < 0)
			journal_failure(r, &e);
		if (!p)
			continue;
		snprintf(key, sizeof key, "%s_bytes", keys[s]);
		cJSON_AddNumberToObject(p, key, (double)info.total_bytes);
		snprintf(key, sizeof key, "%s_sha256", keys[s]);
		cJSON_AddStringToObject(p, key, info.sha256);
		snprintf(key, sizeof key, "%s_truncated", keys[s]);
		cJSON_AddBoolToObject(p, key, info.truncated);
	}
}

static void bg_done(void *arg, const struct action_result *res)
{
	struct background *b = arg;
	struct run *r = b->run;
	struct err e;
	b->alive = false;
	cJSON *p = run_step_payload(r, b->step, 0);
	cJSON_AddStringToObject(p, "name", b->name ? b->name : "");
	cJSON_AddNumberToObject(p, "exit_code", res->exit_code);
	cJSON_AddNumberToObject(p, "signal", res->signo);
	cJSON_AddNumberToObject(p, "duration_ms", (double)(res->duration_ns / 1000000));
	finish_streams(r, b->step, BACKGROUND_ATTEMPT, b->red, p);
	run_emit(r, (long)b->step, EV_BACKGROUND_END, NULL, p, &e);
	if (r->act && r->act->stopping_background) {
		const struct action *a = &r->rb->steps[r->act->step].actions[r->act->action];
		if (!find_bg(r, a->stop)) {
			struct action_result ok = { .status = ACTION_OK, .exit_code = -1 };
			action_summary(&ok, "background '%s' stopped", a->stop);
			r->act->stopping_background = false;
			if (r->act->stop_timer)
				loop_timer_cancel(r->loop, r->act->stop_timer);
			r->act->stop_timer = 0;
			on_done(r, &ok);
		}
	}
}

static int start_background(struct run *r, const struct action *a,
			    struct action_ctx *ctx, struct err *e)
{
	r->bg = xgrow(r->bg, &r->cap_bg, r->n_bg + 1, sizeof *r->bg);
	struct background *b = &r->bg[r->n_bg];
	memset(b, 0, sizeof *b);
	b->run = r;
	b->step = r->act->step;
	b->name = xstrdup_or_null(a->name);
	b->entry = action_entry_for(a->kind);
	for (int s = 1; s <= 2; s++)
		redactor_init(&b->red[s], &r->values.secrets);
	ctx->sink.output = bg_output;
	ctx->sink.done = bg_done;
	ctx->sink.arg = b;
	ctx->die_with_qrh = true;
	b->ar = b->entry->start(a, ctx, e);
	if (!b->ar) {
		for (int s = 1; s <= 2; s++)
			redactor_release(&b->red[s]);
		free(b->name);
		return -1;
	}
	b->alive = true;
	r->n_bg++;
	return 0;
}

void run_stop_background(struct run *r)
{
	for (size_t i = 0; i < r->n_bg; i++)
		if (r->bg[i].alive)
			r->bg[i].entry->cancel(r->bg[i].ar, ACTION_CANCEL_SHUTDOWN);
}

void run_background_free_all(struct run *r)
{
	for (size_t i = 0; i < r->n_bg; i++) {
		r->bg[i].entry->free(r->bg[i].ar);
		for (int s = 1; s <= 2; s++)
			redactor_release(&r->bg[i].red[s]);
		free(r->bg[i].name);
	}
	free(r->bg);
	r->bg = NULL;
	r->n_bg = r->cap_bg = 0;
}

/* ---- the foreground step ---- */

static void on_stop_timeout(struct loop *l, uint64_t id, void *arg);

/* The action's own deadline (timeout= on its fence): the engine's. */
static void on_action_timeout(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	if (!r->act || !r->act->ar)
		return;
	r->act->action_timer = 0;
	r->act->action_timed_out = true;
	r->act->entry->cancel(r->act->ar, ACTION_CANCEL_TIMEOUT);
}

static void fail_action(struct run *r, const char *msg)
{
	struct action_result res = { .status = ACTION_ERROR, .exit_code = -1 };
	action_summary(&res, "%s", msg);
	on_done(r, &res);
}

/* Starts action number a->action, or finishes the step after the last. */
static void action_start_current(struct run *r)
{
	struct active *act = r->act;
	const struct step *s = &r->rb->steps[act->step];
	const struct action *a = &s->actions[act->action];
	struct err e = { "" };
	struct buf desc;
	buf_init(&desc, BUF_UNLIMITED);
	const struct action_entry *ent = action_entry_for(a->kind);
	struct target_set shown = { 0 };
	if (a->target)
		targets_resolve(r->rb, a->target, run_lookup_masked, r, &shown, &e);
	if (ent->describe(a, shown.n ? &shown.v[0] : NULL, run_lookup_masked, r, &desc, &e) < 0)
		buf_reset(&desc);
	target_set_release(&shown);
	struct buf clean;
	buf_init(&clean, BUF_UNLIMITED);
	redact_string(&r->values.secrets, desc.data, &clean);
	cJSON *p = run_step_payload(r, act->step, act->attempt);
	cJSON_AddNumberToObject(p, "action", (double)act->action);
	cJSON_AddStringToObject(p, "kind", action_kind_name(a->kind));
	cJSON_AddStringToObject(p, "command", clean.data);
	buf_release(&desc);
	int rc = run_emit(r, (long)act->step,
			  a->background ? EV_BACKGROUND_START : EV_ACTION_START,
			  NULL, p, &e);
	buf_release(&clean);
	/* nothing runs before the journal says it does */
	if (rc == 0)
		rc = run_flush_events(r, &e);
	if (rc < 0) {
		fail_action(r, e.msg);
		return;
	}
	if (a->kind == ACTION_WAIT && a->stop) {
		struct background *b = find_bg(r, a->stop);
		if (!b) {
			struct action_result ok = { .status = ACTION_OK, .exit_code = -1 };
			action_summary(&ok, "background '%s' is not running", a->stop);
			on_done(r, &ok);
			return;
		}
		act->stopping_background = true;
		if (a->timeout_ms > 0)
			act->stop_timer = loop_timer_add(r->loop, a->timeout_ms, on_stop_timeout, r);
		b->entry->cancel(b->ar, ACTION_CANCEL_OPERATOR);
		return;
	}
	target_set_release(&act->targets);
	if (a->target && targets_resolve(r->rb, a->target, run_lookup, r, &act->targets, &e) < 0) {
		fail_action(r, e.msg);
		return;
	}
	if (act->targets.n > 1) {
		fail_action(r, "fan-out over a group is not available in this version of qrh");
		return;
	}
	struct action_ctx ctx = {
		.target = act->targets.n ? &act->targets.v[0] : NULL,
		.loop = r->loop,
		.reaper = r->reaper,
		.env = (const char *const *)act->env,
		.grace_ms = r->opts.grace_ms,
		.lookup = run_lookup,
		.lookup_arg = r,
		.sink = { .output = on_output, .done = on_done, .arg = r },
	};
	int ks_rc;
	ctx.ks = run_kind_state(r, ent, &e, &ks_rc);
	if (ks_rc < 0) {
		fail_action(r, e.msg);
		return;
	}
	if (a->background && bg_of_step(r, act->step)) {
		/* a retry: its background process was started by an earlier
		 * attempt (it has one output stream per step) */
		struct action_result ok = { .status = ACTION_OK, .exit_code = -1 };
		action_summary(&ok, "already started by an earlier attempt");
		on_done(r, &ok);
		return;
	}
	if (a->background) {
		if (start_background(r, a, &ctx, &e) < 0) {
			fail_action(r, e.msg);
			return;
		}
		struct action_result ok = { .status = ACTION_OK, .exit_code = -1 };
		action_summary(&ok, "started in the background");
		on_done(r, &ok);
		return;
	}
	act->entry = ent;
	act->ar = ent->start(a, &ctx, &e);
	if (!act->ar) {
		fail_action(r, e.msg);
		return;
	}
	if (a->timeout_ms > 0)
		act->action_timer = loop_timer_add(r->loop, a->timeout_ms, on_action_timeout, r);
}

static void action_next(struct run *r)
{
	struct active *act = r->act;
	if (!act)
		return;
	if (act->ar) {
		act->entry->free(act->ar);
		act->ar = NULL;
	}
	if (act->action_timer)
		loop_timer_cancel(r->loop, act->action_timer);
	act->action_timer = 0;
	const struct step *s = &r->rb->steps[act->step];
	bool started = act->action < s->n_actions && act->last.status != ACTION_OK;
	if (act->cancelled || act->timed_out || started ||
	    act->action + 1 >= s->n_actions || r->journal_broken) {
		step_finish(r);
		return;
	}
	act->action++;
	action_start_current(r);
}

/* A wait {stop=NAME} is cut short: the background process still gets
 * SIGKILL after its grace period, but the step does not wait for it. */
static void give_up_stopping(struct run *r, enum action_status st)
{
	struct action_result res = { .status = st, .exit_code = -1 };
	action_summary(&res, "%s while stopping a background process",
		       st == ACTION_TIMEOUT ? "timed out" : "cancelled");
	r->act->stopping_background = false;
	if (r->act->stop_timer)
		loop_timer_cancel(r->loop, r->act->stop_timer);
	r->act->stop_timer = 0;
	on_done(r, &res);
}

static void on_stop_timeout(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	if (!r->act || !r->act->stopping_background)
		return;
	r->act->stop_timer = 0;
	give_up_stopping(r, ACTION_TIMEOUT);
}

static void on_step_timeout(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	if (!r->act)
		return;
	r->act->step_timer = 0;
	r->act->timed_out = true;
	if (r->act->ar)
		r->act->entry->cancel(r->act->ar, ACTION_CANCEL_TIMEOUT);
	else if (r->act->stopping_background)
		give_up_stopping(r, ACTION_TIMEOUT);
}

static void on_retry(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	struct err e;
	(void)l;
	(void)id;
	size_t i = r->act->step;
	int attempt = r->act->attempt + 1;
	free(r->act);
	r->act = NULL;
	if (run_step_attempt(r, i, attempt, &e) < 0 && r->lis.step_done)
		r->lis.step_done(r->lis.arg, i);
}

static void free_active(struct run *r)
{
	struct active *a = r->act;
	if (a->step_timer)
		loop_timer_cancel(r->loop, a->step_timer);
	if (a->stop_timer)
		loop_timer_cancel(r->loop, a->stop_timer);
	a->stop_timer = 0;
	for (int s = 1; s <= 2; s++)
		redactor_release(&a->red[s]);
	buf_release(&a->capture);
	free(a->capture_value);
	a->capture_value = NULL;
	free_env(a->env);
	a->env = NULL;
	target_set_release(&a->targets);
}

static void record_capture(struct run *r, struct active *a)
{
	const char *name = r->rb->steps[a->step].capture;
	struct err e;
	if (a->capture_value) {
		buf_reset(&a->capture);
		buf_adds(&a->capture, a->capture_value);
	}
	while (a->capture.len && (a->capture.data[a->capture.len - 1] == '\n' ||
				  a->capture.data[a->capture.len - 1] == '\r'))
		a->capture.data[--a->capture.len] = '\0';
	const struct var *decl = runbook_var(r->rb, name);
	values_set(&r->values, name, a->capture.data, decl && decl->secret);
	cJSON *p = run_step_payload(r, a->step, a->attempt);
	cJSON_AddStringToObject(p, "name", name);
	if (!(decl && decl->secret))
		cJSON_AddStringToObject(p, "value", a->capture.data);
	run_emit(r, (long)a->step, EV_CAPTURE, NULL, p, &e);
}

static enum step_status result_status(const struct active *a)
{
	if (a->cancelled)
		return STEP_CANCELLED;
	if (a->timed_out || a->last.status == ACTION_TIMEOUT)
		return STEP_TIMEOUT;
	if (a->last.status == ACTION_OK)
		return STEP_OK;
	if (a->last.status == ACTION_CANCELLED)
		return STEP_CANCELLED;
	return STEP_FAILED;
}

static void step_finish(struct run *r)
{
	struct active *a = r->act;
	const struct step *s = &r->rb->steps[a->step];
	struct step_state *st = &r->steps[a->step];
	struct err e;
	enum step_status status = result_status(a);
	if (!s->n_actions)
		status = STEP_OK;
	cJSON *p = run_step_payload(r, a->step, a->attempt);
	cJSON_AddStringToObject(p, "status", step_status_name(status));
	if (a->last.exit_code >= 0)
		cJSON_AddNumberToObject(p, "exit_code", a->last.exit_code);
	else
		cJSON_AddNullToObject(p, "exit_code");
	int64_t dur = (clock_mono_ns() - a->step_start_ns) / 1000000;
	cJSON_AddNumberToObject(p, "duration_ms", (double)dur);
	cJSON_AddStringToObject(p, "summary", s->n_actions ? a->last.summary : "done");
	finish_streams(r, a->step, a->attempt, a->red, p);
	if (status == STEP_OK && s->capture)
		record_capture(r, a);
	run_emit(r, (long)a->step, EV_STEP_END, NULL, p, &e);
	st->status = status;
	st->duration_ms = dur;
	st->ended_wall_ms = clock_wall_ms();
	st->exit_code = a->last.exit_code;
	snprintf(st->summary, sizeof st->summary, "%s", s->n_actions ? a->last.summary : "done");
	free_active(r);
	bool retry = (status == STEP_FAILED || status == STEP_TIMEOUT) &&
		     a->attempt <= s->retries && !r->journal_broken;
	if (retry) {
		int64_t base = s->backoff_ms >= 0 ? s->backoff_ms : RUN_DEFAULT_BACKOFF_MS;
		int shift = a->attempt - 1 < 10 ? a->attempt - 1 : 10;
		int64_t wait = base << shift;
		cJSON *rp = run_step_payload(r, a->step, a->attempt + 1);
		cJSON_AddNumberToObject(rp, "backoff_ms", (double)wait);
		run_emit(r, (long)a->step, EV_STEP_RETRY, NULL, rp, &e);
		st->status = STEP_RETRY_WAIT;
		a->retry_timer = loop_timer_add(r->loop, wait, on_retry, r);
		run_flush_events(r, &e);
		return;
	}
	size_t i = a->step;
	free(a);
	r->act = NULL;
	run_flush_events(r, &e);
	if (r->lis.step_done)
		r->lis.step_done(r->lis.arg, i);
}

int run_step_attempt(struct run *r, size_t i, int attempt, struct err *e)
{
	struct step_state *st = &r->steps[i];
	struct active *a = xcalloc(1, sizeof *a);
	a->step = i;
	a->attempt = attempt;
	a->step_start_ns = clock_mono_ns();
	a->last.status = ACTION_OK;
	a->last.exit_code = -1;
	for (int s = 1; s <= 2; s++)
		redactor_init(&a->red[s], &r->values.secrets);
	buf_init(&a->capture, RUN_CAPTURE_MAX);
	r->act = a;
	r->defer = true;
	if (run_emit(r, (long)i, EV_STEP_START, NULL, run_step_payload(r, i, attempt), e) < 0) {
		free_active(r);
		free(a);
		r->act = NULL;
		return -1;
	}
	a->env = build_env(r);
	st->status = STEP_RUNNING;
	st->attempt = attempt;
	st->started_wall_ms = clock_wall_ms();
	const struct step *s = &r->rb->steps[i];
	if (s->timeout_ms > 0)
		a->step_timer = loop_timer_add(r->loop, s->timeout_ms, on_step_timeout, r);
	if (!s->n_actions) {
		/* a manual step: confirming it is doing it */
		loop_timer_add(r->loop, 0, action_next_timer, r);
		return 0;
	}
	action_start_current(r);
	return 0;
}

void run_cancel_step(struct run *r)
{
	struct active *a = r->act;
	if (!a)
		return;
	a->cancelled = true;
	if (a->retry_timer) {
		loop_timer_cancel(r->loop, a->retry_timer);
		a->retry_timer = 0;
		size_t i = a->step;
		r->steps[i].status = STEP_CANCELLED;
		free(a);
		r->act = NULL;
		if (r->lis.step_done)
			r->lis.step_done(r->lis.arg, i);
		return;
	}
	if (a->ar)
		a->entry->cancel(a->ar, ACTION_CANCEL_OPERATOR);
	else if (a->stopping_background)
		give_up_stopping(r, ACTION_CANCELLED);
}
