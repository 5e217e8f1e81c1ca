#include "state/run_priv.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "util/clock.h"
#include "util/xalloc.h"

static const char *const status_names[] = {
	[STEP_PENDING] = "pending",	    [STEP_RUNNING] = "running",
	[STEP_RETRY_WAIT] = "retry_wait",   [STEP_OK] = "ok",
	[STEP_FAILED] = "failed",	    [STEP_TIMEOUT] = "timeout",
	[STEP_CANCELLED] = "cancelled",	    [STEP_SKIPPED] = "skipped",
	[STEP_DONE_BY_HAND] = "done_by_hand", [STEP_INTERRUPTED] = "interrupted",
};

const char *step_status_name(enum step_status s)
{
	return (unsigned)s < sizeof status_names / sizeof *status_names
		       ? status_names[s] : "?";
}

bool step_status_final(enum step_status s)
{
	return s == STEP_OK || s == STEP_SKIPPED || s == STEP_DONE_BY_HAND;
}

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
	r->steps = xcalloc(rb->n_steps ? rb->n_steps : 1, sizeof *r->steps);
	for (size_t i = 0; i < rb->n_steps; i++)
		r->steps[i].exit_code = -1;
	return r;
}

void run_free(struct run *r)
{
	struct err e;
	if (!r)
		return;
	if (r->j && !r->observing)
		run_flush_events(r, &e);
	if (r->act) {
		if (r->act->entry && r->act->ar)
			r->act->entry->free(r->act->ar);
		if (r->act->step_timer)
			loop_timer_cancel(r->loop, r->act->step_timer);
		if (r->act->retry_timer)
			loop_timer_cancel(r->loop, r->act->retry_timer);
		if (r->act->action_timer)
			loop_timer_cancel(r->loop, r->act->action_timer);
		for (int s = 1; s <= 2; s++)
			redactor_release(&r->act->red[s]);
		buf_release(&r->act->capture);
		free(r->act->capture_value);
		for (char **v = r->act->env; v && *v; v++)
			free(*v);
		free(r->act->env);
		target_set_release(&r->act->targets);
		free(r->act);
	}
	run_background_free_all(r);
	run_kind_states_close(r);
	values_release(&r->values);
	free(r->steps);
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

/* A variable a step captures gets its value from the run itself. */
static bool captured(const struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].capture && !strcmp(rb->steps[i].capture, name))
			return true;
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

bool run_observing(const struct run *r)
{
	return r->observing;
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
	return i < r->rb->n_steps ? &r->steps[i] : NULL;
}

const char *run_actor(const struct run *r)
{
	return r->actor;
}

bool run_step_settled(const struct run *r, size_t i)
{
	enum step_status s = r->steps[i].status;
	return step_status_final(s) ||
	       (r->rb->steps[i].on_fail == ON_FAIL_CONTINUE &&
		(s == STEP_FAILED || s == STEP_TIMEOUT));
}

long run_next_step(const struct run *r)
{
	for (size_t i = 0; i < r->rb->n_steps; i++)
		if (!run_step_settled(r, i))
			return (long)i;
	return -1;
}

bool run_step_active(const struct run *r)
{
	return r->act != NULL;
}

bool run_busy(const struct run *r)
{
	if (r->act)
		return true;
	for (size_t i = 0; i < r->n_bg; i++)
		if (r->bg[i].alive)
			return true;
	return false;
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
	if (!strcmp(name, "QRH_STEP_ID") && r->act)
		return r->rb->steps[r->act->step].id;
	if (!strcmp(name, "QRH_STEP_ID") && r->describing >= 0)
		return r->rb->steps[r->describing].id;
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

/* ---- events ---- */

cJSON *run_step_payload(const struct run *r, size_t step, int attempt)
{
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "step_id", r->rb->steps[step].id);
	if (attempt > 0)
		cJSON_AddNumberToObject(p, "attempt", attempt);
	return p;
}

int run_flush_events(struct run *r, struct err *e)
{
	struct pending *p = &r->pending;
	int rc = 0;
	r->defer = false;
	if (!p->n)
		return 0;
	rc = journal_events_append(r->j, p->ev, p->n, e);
	if (rc < 0) {
		r->journal_broken = true;
		if (r->lis.journal_failed)
			r->lis.journal_failed(r->lis.arg, e->msg);
	}
	for (size_t i = 0; i < p->n; i++) {
		if (rc == 0 && r->lis.event)
			r->lis.event(r->lis.arg, &p->ev[i]);
		cJSON_free(p->payload[i]);
	}
	p->n = 0;
	return rc;
}

int run_emit(struct run *r, long step, const char *type, const char *actor,
	     cJSON *payload, struct err *e)
{
	struct pending *p = &r->pending;
	char *text = payload ? cJSON_PrintUnformatted(payload) : NULL;
	cJSON_Delete(payload);
	if (p->n == RUN_PENDING_MAX && run_flush_events(r, e) < 0) {
		cJSON_free(text);
		return -1;
	}
	bool defer = r->defer;
	p->ev[p->n] = (struct journal_event){
		.run_id = r->id,
		.wall_ms = clock_wall_ms(),
		.mono_ns = clock_mono_ns(),
		.step = step < 0 ? JOURNAL_NO_STEP : step,
		.type = type,
		.actor = actor ? actor : "qrh",
		.payload = text,
	};
	p->payload[p->n++] = text;
	r->defer = defer;
	return defer ? 0 : run_flush_events(r, e);
}

static void add_actor(const struct run *r, cJSON *p)
{
	cJSON_AddStringToObject(p, "os_user", r->opts.os_user ? r->opts.os_user : "");
	cJSON_AddNumberToObject(p, "uid", (double)r->opts.uid);
	if (r->opts.operator_name)
		cJSON_AddStringToObject(p, "operator", r->opts.operator_name);
}

/* The non-secret values and the objectives, recorded with the run. */
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
	cJSON *obj = cJSON_AddObjectToObject(o, "objectives");
	if (r->rb->objectives.rto_ms >= 0)
		cJSON_AddNumberToObject(obj, "rto_ms", (double)r->rb->objectives.rto_ms);
	if (r->rb->objectives.rpo_ms >= 0)
		cJSON_AddNumberToObject(obj, "rpo_ms", (double)r->rb->objectives.rpo_ms);
	char *text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	char *copy = xstrdup(text);
	cJSON_free(text);
	return copy;
}

static const char *const mode_names[] = { "live", "drill", "dry-run" };

static void attach(struct run *r, struct journal *j, struct loop *l,
		   struct proc_reaper *reaper, const struct run_listener *lis)
{
	r->j = j;
	r->loop = l;
	r->reaper = reaper;
	if (lis)
		r->lis = *lis;
	r->start_ns = clock_mono_ns();
}

int run_open(struct run *r, struct journal *j, struct loop *l,
	     struct proc_reaper *reaper, const struct run_listener *lis,
	     struct err *e)
{
	attach(r, j, l, reaper, lis);
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
		.mono_ns = r->start_ns,
	};
	struct journal_head head;
	int rc = journal_run_create(j, &nr, &r->id, &head, e);
	free(vars);
	if (rc < 0)
		return -1;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)r->id);
	if (r->lis.event) {
		struct journal_event ev = { .run_id = r->id, .seq = head.seq,
					    .wall_ms = nr.started_ms,
					    .mono_ns = nr.mono_ns,
					    .step = JOURNAL_NO_STEP,
					    .type = EV_RUN_START,
					    .actor = r->actor };
		memcpy(ev.hash, head.hash, sizeof ev.hash);
		r->lis.event(r->lis.arg, &ev);
	}
	return 0;
}

int run_reopen(struct run *r, struct journal *j, struct loop *l,
	       struct proc_reaper *reaper, const struct run_listener *lis,
	       int64_t id, bool runbook_changed, struct err *e)
{
	attach(r, j, l, reaper, lis);
	r->id = id;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)id);
	if (run_reopen_replay(r, e) < 0)
		return -1;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddBoolToObject(p, "runbook_changed", runbook_changed);
	add_actor(r, p);
	if (run_emit(r, -1, EV_RUN_RESUME, r->actor, p, e) < 0)
		return -1;
	for (size_t i = 0; i < r->rb->n_steps; i++) {
		if (r->steps[i].status != STEP_RUNNING)
			continue;
		r->steps[i].status = STEP_INTERRUPTED;
		snprintf(r->steps[i].summary, sizeof r->steps[i].summary,
			 "interrupted: outcome unknown");
		if (run_emit(r, (long)i, EV_STEP_INTERRUPTED, NULL,
			     run_step_payload(r, i, r->steps[i].attempt), e) < 0)
			return -1;
	}
	return 0;
}

/* ---- what the operator does ---- */

static int describe_actions(const struct run *r, size_t i, struct buf *out,
			    struct err *e);

int run_describe_step(const struct run *r, size_t i, struct buf *out,
		      struct err *e)
{
	/* the step shown is the step ${QRH_STEP_ID} names */
	struct run *w = (struct run *)(uintptr_t)r;
	long was = w->describing;
	w->describing = (long)i;
	int rc = describe_actions(r, i, out, e);
	w->describing = was;
	return rc;
}

static int describe_actions(const struct run *r, size_t i, struct buf *out,
			    struct err *e)
{
	const struct step *s = &r->rb->steps[i];
	for (size_t k = 0; k < s->n_actions; k++) {
		const struct action *a = &s->actions[k];
		const struct action_entry *ent = action_entry_for(a->kind);
		if (k)
			buf_addc(out, '\n');
		buf_addf(out, "[%s%s] ", action_kind_name(a->kind),
			 a->background ? ", background" : "");
		struct buf one;
		struct target_set shown = { 0 };
		struct err ignored;
		buf_init(&one, BUF_UNLIMITED);
		if (a->target)
			targets_resolve(r->rb, a->target, run_lookup_masked,
					(void *)(uintptr_t)r, &shown, &ignored);
		int rc = ent->describe(a, shown.n ? &shown.v[0] : NULL, run_lookup_masked,
				       (void *)(uintptr_t)r, &one, e);
		target_set_release(&shown);
		redact_string(&r->values.secrets, one.data, out);
		buf_release(&one);
		if (rc < 0)
			return -1;
	}
	if (!s->n_actions)
		buf_adds(out, "(a manual step: nothing runs; confirm that it was done)");
	return 0;
}

static int refuse_busy(const struct run *r, size_t i, struct err *e)
{
	if (r->observing)
		return err_set(e, "read-only: this run belongs to another qrh");
	if (r->journal_broken)
		return err_set(e, "the journal cannot be written: no step may start");
	if (i >= r->rb->n_steps)
		return err_set(e, "no step %zu", i + 1);
	if (r->act)
		return err_set(e, "step %zu is still running", r->act->step + 1);
	if (step_status_final(r->steps[i].status))
		return err_set(e, "step '%s' is already %s", r->rb->steps[i].id,
			       step_status_name(r->steps[i].status));
	return 0;
}

int run_step_begin(struct run *r, size_t i, const char *how, struct err *e)
{
	if (refuse_busy(r, i, e) < 0)
		return -1;
	cJSON *p = run_step_payload(r, i, 0);
	cJSON_AddStringToObject(p, "how", how);
	add_actor(r, p);
	r->defer = true;
	if (run_emit(r, (long)i, EV_STEP_CONFIRM, r->actor, p, e) < 0)
		return -1;
	int rc = run_step_attempt(r, i, r->steps[i].attempt + 1, e);
	if (run_flush_events(r, e) < 0)
		return -1;
	return rc;
}

static int operator_close(struct run *r, size_t i, const char *type,
			  const char *key, const char *text,
			  enum step_status st, struct err *e)
{
	if (refuse_busy(r, i, e) < 0)
		return -1;
	cJSON *p = run_step_payload(r, i, 0);
	struct buf clean;
	buf_init(&clean, BUF_UNLIMITED);
	redact_string(&r->values.secrets, text ? text : "", &clean);
	cJSON_AddStringToObject(p, key, clean.data);
	buf_release(&clean);
	add_actor(r, p);
	if (run_emit(r, (long)i, type, r->actor, p, e) < 0)
		return -1;
	r->steps[i].status = st;
	r->steps[i].ended_wall_ms = clock_wall_ms();
	if (r->lis.step_done)
		r->lis.step_done(r->lis.arg, i);
	return 0;
}

int run_step_skip(struct run *r, size_t i, const char *reason, struct err *e)
{
	return operator_close(r, i, EV_STEP_SKIP, "reason", reason,
			      STEP_SKIPPED, e);
}

int run_step_done_by_hand(struct run *r, size_t i, const char *note,
			  struct err *e)
{
	return operator_close(r, i, EV_STEP_DONE_BY_HAND, "note", note,
			      STEP_DONE_BY_HAND, e);
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
	struct buf clean;
	buf_init(&clean, BUF_UNLIMITED);
	redact_string(&r->values.secrets, text, &clean);
	cJSON_AddStringToObject(p, "text", clean.data);
	buf_release(&clean);
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

int run_end(struct run *r, const char *outcome, struct err *e)
{
	if (run_flush_events(r, e) < 0)
		return -1;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "outcome", outcome);
	cJSON_AddNumberToObject(p, "duration_ms",
				(double)((clock_mono_ns() - r->start_ns) / 1000000));
	char *text = cJSON_PrintUnformatted(p);
	cJSON_Delete(p);
	struct journal_event ev = {
		.run_id = r->id,
		.wall_ms = clock_wall_ms(),
		.mono_ns = clock_mono_ns(),
		.step = JOURNAL_NO_STEP,
		.type = EV_RUN_END,
		.actor = "qrh",
		.payload = text,
	};
	int rc = journal_flush(r->j, e);
	if (rc == 0)
		rc = journal_run_end(r->j, r->id, outcome, ev.wall_ms, &ev, e);
	if (rc == 0 && r->lis.event)
		r->lis.event(r->lis.arg, &ev);
	cJSON_free(text);
	return rc;
}

int run_poll_timeout_ms(const struct run *r)
{
	return r->j ? journal_flush_timeout_ms(r->j) : -1;
}

void run_tick(struct run *r)
{
	struct err e;
	if (r->j && journal_flush_due(r->j, &e) < 0 && !r->journal_broken) {
		r->journal_broken = true;
		if (r->lis.journal_failed)
			r->lis.journal_failed(r->lis.arg, e.msg);
	}
}
