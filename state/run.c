/* The run's lifecycle, its values and lookups, its events, and what the
 * operator does. See state/run.h for the promises. */
#include "state/run_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/team_link.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct run *run_new(const struct runbook *rb, const struct run_opts *o)
{
	struct run *r = xcalloc(1, sizeof *r);
	r->rb = rb;
	r->opts = *o;
	r->describing = -1;
	r->actor = xstrdup(o->operator_name && *o->operator_name
				   ? o->operator_name
				   : (o->os_user ? o->os_user : "unknown"));
	values_init(&r->values);
	for (size_t i = 0; i < rb->n_vars; i++)
		values_set(&r->values, rb->vars[i].name, rb->vars[i].value,
			   rb->vars[i].secret);
	fold_init(&r->fold, rb);
	run_probes_init(r);
	return r;
}

static void kinds_close(struct run *r)
{
	for (int k = 0; k < ACTION_KIND_COUNT; k++) {
		const struct action_entry *ent = run_entry(r, (enum action_kind)k);
		if (r->ks_open[k] && ent && ent->close)
			ent->close(r->ks[k]);
		r->ks_open[k] = false;
		r->ks[k] = NULL;
	}
}

void run_free(struct run *r)
{
	struct err e;
	if (!r)
		return;
	if (r->j && !r->observing && !r->ended && !r->journal_broken && r->loop)
		run_probes_end(r, "shutdown");
	if (r->j && !r->observing)
		run_flush_events(r, &e);
	run_notify_free(r);
	run_attempt_free(r);
	run_probes_free(r);
	run_pick_clear(r);
	task_free_all(r);
	kinds_close(r);
	run_survivors_free(r);
	run_approvals_free(r);
	guard_free(r->guard);
	if (r->flush_timer)
		loop_timer_cancel(r->loop, r->flush_timer);
	if (r->j && !r->observing)
		journal_run_unlock(r->j, r->id);
	for (size_t i = 0; i < r->pending.n; i++)
		cJSON_free((void *)(uintptr_t)r->pending.ev[i].payload);
	free(r->pending.ev);
	free(r->tasks);
	strv_release(&r->fail_once);
	fold_release(&r->fold);
	values_release(&r->values);
	free(r->actor);
	free(r);
}

int run_set_value(struct run *r, const char *name, const char *text,
		  struct err *e)
{
	const struct var *v = runbook_var(r->rb, name);
	if (!v)
		return err_set(e, "the runbook declares no variable '%s'", name);
	values_set(&r->values, name, text, v->secret);
	return 0;
}

/* A variable a step captures, or one the operator picks from a list when
 * the step comes up (velero pick=), gets its value from the run itself:
 * it is not asked for at the start, before the list exists. */
static bool captured(const struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_steps; i++) {
		if (rb->steps[i].capture && !strcmp(rb->steps[i].capture, name))
			return true;
		for (size_t k = 0; k < rb->steps[i].n_actions; k++)
			if (rb->steps[i].actions[k].pick && !strcmp(rb->steps[i].actions[k].pick, name))
				return true;
	}
	return false;
}

size_t run_missing_values(const struct run *r, const struct var **out,
			  size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->rb->n_vars && n < max; i++) {
		const struct value *v = values_find(&r->values, r->rb->vars[i].name);
		if ((!v || !v->text) && !captured(r->rb, r->rb->vars[i].name))
			out[n++] = &r->rb->vars[i];
	}
	return n;
}

bool run_has_secrets(const struct run *r)
{
	return r->values.secrets.n > 0;
}

bool run_observing(const struct run *r)
{
	return r->observing;
}

void run_set_team(struct run *r, struct team_link *t)
{
	r->team = t;
	run_approvals_team(r);
	team_link_kick(t);
}

struct journal *run_journal(const struct run *r)
{
	return r->j;
}

int64_t run_id(const struct run *r)
{
	return r->id;
}

const struct runbook *run_runbook(const struct run *r)
{
	return r->rb;
}

const struct step_state *run_step(const struct run *r, size_t i)
{
	return i < r->rb->n_steps ? &r->fold.steps[i].st : NULL;
}

struct step_state *run_step_mut(struct run *r, size_t i)
{
	return &r->fold.steps[i].st;
}

const struct run_fold *run_fold(const struct run *r)
{
	return &r->fold;
}

const char *run_actor(const struct run *r)
{
	return r->actor;
}

int64_t run_elapsed_ms(const struct run *r)
{
	if (r->fold.ended || r->observing)
		return fold_elapsed_ms(&r->fold);
	return fold_elapsed_to_ms(&r->fold, clock_wall_ms(), clock_mono_ns());
}

void run_notify_step(struct run *r, size_t i)
{
	if (r->lis.step_done)
		r->lis.step_done(r->lis.arg, i);
}

const struct action_entry *run_entry(const struct run *r, enum action_kind k)
{
	if (r->opts.entries && r->opts.entries[k])
		return r->opts.entries[k];
	return action_entry_for(k);
}

int run_kind_state(struct run *r, enum action_kind k,
		   struct action_kind_state **out, struct err *e)
{
	const struct action_entry *ent = run_entry(r, k);
	if (!r->ks_open[k] && ent->open) {
		struct action_host h = { .loop = r->loop, .reaper = r->reaper,
					 .grace_ms = r->opts.grace_ms };
		if (ent->open(&h, &r->ks[k], e) < 0)
			return -1;
	}
	r->ks_open[k] = true;
	*out = r->ks[k];
	return 0;
}

/* ---- lookups ---- */

static const char *builtin(const struct run *r, const char *name)
{
	if (!strcmp(name, "QRH_RUN_ID"))
		return r->id_text;
	if (!strcmp(name, "QRH_OPERATOR"))
		return r->actor;
	if (!strcmp(name, "QRH_RUNBOOK"))
		return r->rb->path ? r->rb->path : "";
	if (!strcmp(name, "QRH_STEP_ID") && r->describing >= 0)
		return r->rb->steps[r->describing].id;
	if (!strcmp(name, "QRH_STEP_ID") && r->att)
		return r->rb->steps[r->att->step].id;
	return NULL;
}

const char *run_lookup(void *arg, const char *name)
{
	const struct run *r = arg;
	if (!strncmp(name, "env:", 4))
		return getenv(name + 4);
	if (!strncmp(name, "QRH_", 4))
		return builtin(r, name);
	const struct value *v = values_find(&r->values, name);
	return v ? v->text : NULL;
}

const char *run_lookup_masked(void *arg, const char *name)
{
	const struct run *r = arg;
	const struct value *v = values_find(&r->values, name);
	if (v && v->secret)
		return REDACT_MASK;
	return run_lookup(arg, name);
}

char *run_redact(const struct run *r, const char *text)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	redact_string(&r->values.secrets, text ? text : "", &b);
	return buf_detach(&b, NULL);
}

/* ---- events ---- */

cJSON *run_step_payload(const struct run *r, size_t step, int attempt)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "step_id", r->rb->steps[step].id);
	if (attempt > 0)
		cJSON_AddNumberToObject(p, "attempt", attempt);
	return p;
}

void run_add_actor(const struct run *r, cJSON *p)
{
	cJSON_AddStringToObject(p, "os_user", r->opts.os_user ? r->opts.os_user : "");
	cJSON_AddNumberToObject(p, "uid", (double)r->opts.uid);
	if (r->opts.operator_name)
		cJSON_AddStringToObject(p, "operator", r->opts.operator_name);
}

void run_journal_failure(struct run *r, const char *msg)
{
	if (r->journal_broken)
		return;
	r->journal_broken = true;
	if (r->lis.journal_failed)
		r->lis.journal_failed(r->lis.arg, msg);
}

static void pending_clear(struct run *r)
{
	for (size_t i = 0; i < r->pending.n; i++)
		cJSON_free((void *)(uintptr_t)r->pending.ev[i].payload);
	r->pending.n = 0;
}

static int flush(struct run *r, bool lazy, struct err *e)
{
	struct pending *p = &r->pending;
	r->defer = false;
	if (!p->n)
		return 0;
	/* tried even after a failure: the end of what ran must be recorded
	 * if the journal can take it at all (a lock that went away) */
	int rc = lazy ? journal_events_append_lazy(r->j, p->ev, p->n, e)
		      : journal_events_append(r->j, p->ev, p->n, e);
	if (rc < 0) {
		run_journal_failure(r, e->msg);
		pending_clear(r);
		return -1;
	}
	/* durable: now they are the run's state, then the front end hears */
	team_link_kick(r->team);
	size_t n = p->n;
	for (size_t i = 0; i < n; i++) {
		fold_event(&r->fold, &p->ev[i]);
		run_probes_on_event(r, &p->ev[i]);
	}
	for (size_t i = 0; i < n; i++)
		if (r->lis.event)
			r->lis.event(r->lis.arg, &p->ev[i]);
	/* a listener may have emitted more (deferred ones stay queued) */
	for (size_t i = 0; i < n; i++)
		cJSON_free((void *)(uintptr_t)p->ev[i].payload);
	memmove(p->ev, p->ev + n, (p->n - n) * sizeof *p->ev);
	p->n -= n;
	return 0;
}

int run_flush_events(struct run *r, struct err *e)
{
	return flush(r, false, e);
}

int run_flush_events_lazy(struct run *r, struct err *e)
{
	return flush(r, true, e);
}

int run_emit(struct run *r, long step, const char *type, const char *actor,
	     cJSON *payload, struct err *e)
{
	struct pending *p = &r->pending;
	char *text = payload ? cJSON_PrintUnformatted(payload) : NULL;
	cJSON_Delete(payload);
	if (r->ended) {
		cJSON_free(text);
		return err_set(e, "run %lld has ended: nothing more is journaled",
			       (long long)r->id);
	}
	p->ev = xgrow(p->ev, &p->cap, p->n + 1, sizeof *p->ev);
	p->ev[p->n++] = (struct journal_event){
		.run_id = r->id,
		.wall_ms = clock_wall_ms(),
		.mono_ns = clock_mono_ns(),
		.step = step < 0 ? JOURNAL_NO_STEP : step,
		.type = type,
		.actor = actor ? actor : "qrh",
		.payload = text,
	};
	return r->defer ? 0 : run_flush_events(r, e);
}

/* ---- the journal's output batching, on the run's own timer ---- */

static void flush_timer_arm(struct run *r);

static void on_flush_timer(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	struct err e;
	(void)l;
	(void)id;
	r->flush_timer = 0;
	if (r->j && !r->journal_broken && journal_flush_due(r->j, &e) < 0)
		run_journal_failure(r, e.msg);
	team_link_kick(r->team);
	flush_timer_arm(r);
}

static void flush_timer_arm(struct run *r)
{
	if (r->flush_timer || !r->j || r->observing || r->journal_broken)
		return;
	int t = journal_flush_timeout_ms(r->j);
	if (t >= 0)
		r->flush_timer = loop_timer_add(r->loop, t, on_flush_timer, r);
}

void run_output_written(struct run *r)
{
	flush_timer_arm(r);
}

/* ---- opening ---- */

/* The non-secret values, recorded with the run (the objectives have an
 * event of their own: state/events.h). */
static char *run_vars_json(const struct run *r)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *vars = cJSON_AddObjectToObject(o, "vars");
	for (size_t i = 0; i < r->values.n; i++) {
		const struct value *v = &r->values.v[i];
		if (v->secret)
			cJSON_AddStringToObject(vars, v->name, REDACT_MASK);
		else if (v->text)
			cJSON_AddStringToObject(vars, v->name, v->text);
	}
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}

static const char *const mode_names[] = { "live", "drill", "dry-run" };

static int attach(struct run *r, struct journal *j, struct loop *l,
		  struct proc_reaper *reaper, const struct run_listener *lis,
		  struct err *e)
{
	r->j = j;
	r->loop = l;
	r->reaper = reaper;
	if (lis)
		r->lis = *lis;
	run_notify_attach(r);
	r->guard = guard_new(r->opts.grace_ms, e);
	return r->guard ? 0 : -1;
}

int run_open(struct run *r, struct journal *j, struct loop *l,
	     struct proc_reaper *reaper, const struct run_listener *lis,
	     struct err *e)
{
	if (attach(r, j, l, reaper, lis, e) < 0)
		return -1;
	char boot[CLOCK_BOOT_ID_MAX];
	clock_boot_id(boot);
	char *vars = run_vars_json(r);
	struct journal_run_new nr = {
		.runbook_path = r->rb->path ? r->rb->path : "",
		.runbook_text = r->rb->source ? r->rb->source : "",
		.runbook_len = r->rb->source_len,
		.title = r->rb->title ? r->rb->title : "",
		.operator_name = r->actor,
		.os_user = r->opts.os_user ? r->opts.os_user : "",
		.uid = r->opts.uid,
		.host = r->opts.host ? r->opts.host : "",
		.mode = mode_names[r->opts.mode],
		.vars_json = vars,
		.started_ms = clock_wall_ms(),
		.mono_ns = clock_mono_ns(),
		.boot_id = boot,
	};
	struct journal_head head;
	int rc = journal_run_create(j, &nr, &r->id, &head, e);
	free(vars);
	if (rc < 0)
		return -1;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)r->id);
	char payload[256];
	snprintf(payload, sizeof payload, "{\"boot_id\":\"%s\"}", boot);
	struct journal_event ev = { .run_id = r->id, .seq = head.seq,
				    .wall_ms = nr.started_ms,
				    .mono_ns = nr.mono_ns,
				    .step = JOURNAL_NO_STEP,
				    .type = EV_RUN_START,
				    .actor = r->actor,
				    .payload = payload };
	memcpy(ev.hash, head.hash, sizeof ev.hash);
	fold_event(&r->fold, &ev);
	if (r->lis.event)
		r->lis.event(r->lis.arg, &ev);
	run_probes_begin(r, true);
	return run_drill_begin(r, e);
}

int run_reopen(struct run *r, struct journal *j, struct loop *l,
	       struct proc_reaper *reaper, const struct run_listener *lis,
	       int64_t id, bool runbook_changed, struct err *e)
{
	r->id = id;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)id);
	/* one owner: refused before anything is read or written */
	if (journal_run_lock(j, id, r->actor, e) < 0)
		return -1;
	if (attach(r, j, l, reaper, lis, e) < 0 || run_reopen_replay(r, e) < 0 ||
	    run_drill_reopen(r, e) < 0)
		return -1;
	char boot[CLOCK_BOOT_ID_MAX];
	clock_boot_id(boot);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "runbook_changed", runbook_changed);
	run_add_actor(r, p);
	cJSON_AddStringToObject(p, "boot_id", boot);
	if (run_emit(r, -1, EV_RUN_RESUME, r->actor, p, e) < 0 ||
	    run_reopen_settle(r, e) < 0)
		return -1;
	run_probes_begin(r, false);
	return 0;
}

/* ---- what the operator does ---- */

static int describe_actions(struct run *r, size_t i, struct buf *out,
			    struct err *e)
{
	const struct step *s = &r->rb->steps[i];
	for (size_t k = 0; k < s->n_actions; k++) {
		const struct action *a = &s->actions[k];
		const struct action_entry *ent = run_entry(r, a->kind);
		struct buf one;
		struct target_set shown = { 0 };
		struct err terr;
		if (k)
			buf_addc(out, '\n');
		buf_addf(out, "[%s%s] ", action_kind_name(a->kind),
			 a->background ? ", background" : "");
		if (a->target && targets_resolve(r->rb, a->target, run_lookup_masked, r,
						 &shown, &terr) < 0)
			buf_addf(out, "(%s) ", terr.msg);
		if (shown.n > 1)
			buf_addf(out, "on %zu members of %s: ", shown.n, a->target);
		buf_init(&one, BUF_UNLIMITED);
		int rc = ent->describe(a, shown.n ? &shown.v[0] : NULL, run_lookup_masked,
				       r, &one, e);
		/* what reaches the script through its environment is part of
		 * what runs: show the values the operator confirms */
		cJSON *vars = run_script_vars(r, a);
		const cJSON *v;
		bool first = true;
		cJSON_ArrayForEach(v, vars)
		{
			buf_addf(&one, "%s%s=%s", first ? "\n  with " : ", ", v->string,
				 cJSON_IsString(v) ? v->valuestring : "");
			first = false;
		}
		cJSON_Delete(vars);
		redact_string(&r->values.secrets, one.data, out);
		buf_release(&one);
		target_set_release(&shown);
		if (rc < 0)
			return -1;
	}
	if (!s->n_actions)
		buf_adds(out, "(a manual step: nothing runs; confirm that it was done)");
	return 0;
}

int run_describe_step(const struct run *r, size_t i, struct buf *out,
		      struct err *e)
{
	/* the step shown is the step ${QRH_STEP_ID} names */
	struct run *w = (struct run *)(uintptr_t)r;
	long was = w->describing;
	w->describing = (long)i;
	int rc = describe_actions(w, i, out, e);
	w->describing = was;
	return rc;
}

int run_step_begin(struct run *r, size_t i, const char *how, struct err *e)
{
	if (run_refusal(r, i, CHOICE_RUN | CHOICE_RETRY, e) < 0 ||
	    run_approval_check(r, i, e) < 0)
		return -1;
	cJSON *p = run_step_payload(r, i, 0);
	cJSON_AddStringToObject(p, "how", how);
	run_add_actor(r, p);
	if (run_out_of_order(r, i))
		cJSON_AddBoolToObject(p, "out_of_order", true);
	r->defer = true;
	if (run_emit(r, (long)i, EV_STEP_CONFIRM, r->actor, p, e) < 0)
		return -1;
	if (run_attempt_start(r, i, r->fold.steps[i].st.attempt + 1, e) < 0) {
		/* the confirmation is not journaled alone: nothing started */
		pending_clear(r);
		r->defer = false;
		return -1;
	}
	if (r->journal_broken) {
		/* the confirmation never became durable: nothing ran */
		run_attempt_free(r);
		return err_set(e, "the journal cannot be written: step %zu did not start", i + 1);
	}
	return 0;
}

static int operator_close(struct run *r, size_t i, const char *type,
			  const char *key, const char *text, struct err *e)
{
	if (run_refusal(r, i, !strcmp(type, EV_STEP_SKIP) ? CHOICE_SKIP : CHOICE_DONE_BY_HAND, e) < 0)
		return -1;
	cJSON *p = run_step_payload(r, i, 0);
	char *clean = run_redact(r, text);
	cJSON_AddStringToObject(p, key, clean);
	free(clean);
	run_add_actor(r, p);
	if (run_emit(r, (long)i, type, r->actor, p, e) < 0)
		return -1;
	run_notify_step(r, i);
	return 0;
}

int run_step_skip(struct run *r, size_t i, const char *reason, struct err *e)
{
	return operator_close(r, i, EV_STEP_SKIP, "reason", reason, e);
}

int run_step_done_by_hand(struct run *r, size_t i, const char *note,
			  struct err *e)
{
	return operator_close(r, i, EV_STEP_DONE_BY_HAND, "note", note, e);
}

int run_dry_step(struct run *r, size_t i, struct err *e)
{
	struct buf d;
	buf_init(&d, BUF_UNLIMITED);
	if (run_describe_step(r, i, &d, e) < 0) {
		buf_release(&d);
		return -1;
	}
	cJSON *p = run_step_payload(r, i, 0);
	cJSON *cmds = cJSON_AddArrayToObject(p, "commands");
	cJSON_AddItemToArray(cmds, cJSON_CreateString(d.data));
	buf_release(&d);
	return run_emit(r, (long)i, EV_DRY_RUN, NULL, p, e);
}

int run_note(struct run *r, const char *text, struct err *e)
{
	if (r->observing)
		return err_set(e, "read-only: this run belongs to another qrh");
	cJSON *p = cJSON_CreateObject();
	char *clean = run_redact(r, text);
	cJSON_AddStringToObject(p, "text", clean);
	free(clean);
	return run_emit(r, -1, EV_NOTE, r->actor, p, e);
}

int run_mark(struct run *r, const char *type, const char *detail,
	     struct err *e)
{
	cJSON *p = cJSON_CreateObject();
	if (detail)
		cJSON_AddStringToObject(p, "signal", detail);
	return run_emit(r, -1, type, NULL, p, e);
}

void run_set_backpressure(struct run *r, bool pause)
{
	if (r->backpressure == pause)
		return;
	r->backpressure = pause;
	for (size_t i = 0; i < r->n_tasks; i++) {
		struct task *t = r->tasks[i];
		if (t->running && t->ar && t->entry->pause)
			t->entry->pause(t->ar, pause);
	}
}

int run_end(struct run *r, const char *outcome, bool by_operator,
	    struct err *e)
{
	if (r->ended)
		return err_set(e, "run %lld has already ended", (long long)r->id);
	/* the probes' last samples and digest come before the end */
	run_probes_end(r, "run_end");
	if (run_flush_events(r, e) < 0)
		return -1;
	int64_t wall = clock_wall_ms(), mono = clock_mono_ns();
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "outcome", outcome);
	cJSON_AddNumberToObject(p, "duration_ms",
				(double)fold_elapsed_to_ms(&r->fold, wall, mono));
	char *text = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	struct journal_event ev = {
		.run_id = r->id,
		.wall_ms = wall,
		.mono_ns = mono,
		.step = JOURNAL_NO_STEP,
		.type = EV_RUN_END,
		.actor = by_operator ? r->actor : "qrh",
		.payload = text,
	};
	int rc = journal_flush(r->j, e);
	if (rc == 0)
		rc = journal_run_end(r->j, r->id, outcome, ev.wall_ms, &ev, e);
	if (rc == 0) {
		r->ended = true;
		team_link_kick(r->team);
		fold_event(&r->fold, &ev);
		if (r->lis.event)
			r->lis.event(r->lis.arg, &ev);
	} else {
		run_journal_failure(r, e->msg);
	}
	cJSON_free(text);
	return rc;
}
