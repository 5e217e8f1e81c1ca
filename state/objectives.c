/* The RTO, the RPO and the probes' states, folded from events
 * (state/objectives.h). */
#include "state/objectives.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/fold.h"
#include "util/jmember.h"
#include "util/xalloc.h"

void objectives_fold_init(struct run_fold *f)
{
	struct fold_objectives *o = &f->obj;
	memset(o, 0, sizeof *o);
	o->rto_budget_ms = o->rpo_budget_ms = -1;
	o->rpo_window_ms = o->rpo_rows_lost = STEP_NONE;
}

void objectives_fold_release(struct run_fold *f)
{
	for (size_t i = 0; i < f->n_probes; i++) {
		struct fold_probe *p = &f->probes[i];
		for (size_t k = 0; k < p->n_changes; k++)
			free(p->changes[k].value);
		free(p->changes);
		free(p->name);
		free(p->kind);
	}
	free(f->probes);
	f->probes = NULL;
	f->n_probes = 0;
}

const struct fold_probe *fold_probe_by_name(const struct run_fold *f,
					    const char *name)
{
	for (size_t i = 0; name && i < f->n_probes; i++)
		if (!strcmp(f->probes[i].name, name))
			return &f->probes[i];
	return NULL;
}

static struct fold_probe *probe_get(struct run_fold *f, const char *name)
{
	struct fold_probe *p = (struct fold_probe *)(uintptr_t)fold_probe_by_name(f, name);
	if (p)
		return p;
	f->probes = xrealloc(f->probes, (f->n_probes + 1) * sizeof *f->probes);
	p = &f->probes[f->n_probes++];
	memset(p, 0, sizeof *p);
	p->name = xstrdup(name);
	p->kind = xstrdup("");
	return p;
}

/* ---- the objectives event ---- */

static bool mark_member(const cJSON *o, const char *key, unsigned accept,
			struct mark *out)
{
	const char *t = jmember_str(o, key), *why;
	return t && mark_parse(t, accept, out, &why) == 0;
}

static void objectives_recorded(struct fold_objectives *o, const cJSON *p)
{
	const cJSON *rto = cJSON_GetObjectItemCaseSensitive(p, "rto");
	const cJSON *rpo = cJSON_GetObjectItemCaseSensitive(p, "rpo");
	o->recorded = true;
	o->rto_budget_ms = jmember_int(rto, "budget_ms", -1);
	o->rpo_budget_ms = jmember_int(rpo, "budget_ms", -1);
	o->has_start = mark_member(rto, "start", MARK_MOMENT, &o->start);
	o->has_stop = mark_member(rto, "stop", MARK_MOMENT, &o->stop);
	o->has_rpo_from = mark_member(rpo, "from", MARK_SOURCE, &o->rpo_from);
}

void objectives_from_vars(struct run_fold *f, const char *vars_json)
{
	struct fold_objectives *o = &f->obj;
	if (o->recorded || !vars_json)
		return;
	cJSON *v = cJSON_Parse(vars_json);
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(v, "objectives");
	o->rto_budget_ms = jmember_int(obj, "rto_ms", -1);
	o->rpo_budget_ms = jmember_int(obj, "rpo_ms", -1);
	o->recorded = o->rto_budget_ms >= 0 || o->rpo_budget_ms >= 0;
	cJSON_Delete(v);
}

bool objectives_rpo_values(struct fold_objectives *o, const cJSON *values,
			   int64_t seq)
{
	int64_t w = jmember_int(values, "window_ms", STEP_NONE);
	int64_t rows = jmember_int(values, "rows_lost", STEP_NONE);
	if (w == STEP_NONE && rows == STEP_NONE)
		return false;
	o->rpo_window_ms = w;
	o->rpo_rows_lost = rows;
	o->rpo_seq = seq;
	return true;
}

/* ---- moments ---- */

/* Does this event match the moment m? *at is set to when it happened. */
static bool moment_matches(const struct mark *m, const struct journal_event *ev,
			   const cJSON *p, int segment, struct fold_moment *at)
{
	const char *t = ev->type, *id = jmember_str(p, "step_id");
	*at = (struct fold_moment){ ev->seq, ev->wall_ms, ev->mono_ns, segment };
	switch (m->kind) {
	case MARK_STEP_START:
		return !strcmp(t, EV_STEP_START) && id && !strcmp(id, m->name);
	case MARK_STEP_END: {
		const char *st = jmember_str(p, "status");
		return id && !strcmp(id, m->name) &&
		       ((!strcmp(t, EV_STEP_END) && st && !strcmp(st, "ok")) ||
			!strcmp(t, EV_STEP_DONE_BY_HAND));
	}
	case MARK_PROBE_STATE: {
		const char *probe = jmember_str(p, "probe"), *state = jmember_str(p, "state");
		enum probe_state s;
		if (strcmp(t, EV_PROBE_STATE) || !probe || strcmp(probe, m->name) || !state ||
		    probe_state_parse(state, &s) < 0 || s != m->state)
			return false;
		at->wall_ms = jmember_int(p, "at_wall_ms", ev->wall_ms);
		at->mono_ns = jmember_int(p, "at_mono_ns", ev->mono_ns);
		return true;
	}
	default:
		return false;
	}
}

/* The stop is a probe already in its state: the clock stops as it starts. */
static bool stop_already(const struct run_fold *f, const struct mark *stop)
{
	const struct fold_probe *p = stop->kind == MARK_PROBE_STATE
					     ? fold_probe_by_name(f, stop->name) : NULL;
	return p && p->polling && p->n_changes && p->state == stop->state;
}

static void clock_event(struct run_fold *f, const struct journal_event *ev,
			const cJSON *p, int segment)
{
	struct fold_objectives *o = &f->obj;
	struct fold_moment at;
	if (o->has_start && !o->started.seq &&
	    moment_matches(&o->start, ev, p, segment, &at)) {
		o->started = at;
		if (o->has_stop && stop_already(f, &o->stop))
			o->stopped = at;
		return;
	}
	if (o->has_stop && o->started.seq && !o->stopped.seq &&
	    moment_matches(&o->stop, ev, p, segment, &at))
		o->stopped = at;
}

/* ---- probes ---- */

static void probe_started(struct run_fold *f, const cJSON *p)
{
	const char *name = jmember_str(p, "probe"), *kind = jmember_str(p, "kind");
	if (!name)
		return;
	struct fold_probe *fp = probe_get(f, name);
	free(fp->kind);
	fp->kind = xstrdup(kind ? kind : "");
	fp->interval_ms = jmember_int(p, "interval_ms", 0);
	fp->timeout_ms = jmember_int(p, "timeout_ms", 0);
	fp->polling = true;
}

static void probe_changed(struct run_fold *f, const struct journal_event *ev,
			  const cJSON *p)
{
	const char *name = jmember_str(p, "probe"), *state = jmember_str(p, "state");
	const char *value = jmember_str(p, "value");
	enum probe_state s;
	if (!name || !state || probe_state_parse(state, &s) < 0)
		return;
	struct fold_probe *fp = probe_get(f, name);
	fp->changes = xrealloc(fp->changes, (fp->n_changes + 1) * sizeof *fp->changes);
	fp->changes[fp->n_changes++] = (struct fold_probe_change){
		.seq = ev->seq, .wall_ms = jmember_int(p, "at_wall_ms", ev->wall_ms),
		.state = s, .value = value ? xstrdup(value) : NULL,
	};
	fp->state = s;
}

void objectives_fold_event(struct run_fold *f, const struct journal_event *ev,
			   const cJSON *p, int segment)
{
	const char *t = ev->type;
	struct fold_objectives *o = &f->obj;
	if (!strcmp(t, EV_OBJECTIVES)) {
		objectives_recorded(o, p);
		return;
	}
	if (!strcmp(t, EV_PROBE_START)) {
		probe_started(f, p);
	} else if (!strcmp(t, EV_PROBE_STATE)) {
		probe_changed(f, ev, p);
	} else if (!strcmp(t, EV_PROBE_STOP)) {
		struct fold_probe *fp = (struct fold_probe *)(uintptr_t)fold_probe_by_name(
			f, jmember_str(p, "probe"));
		if (fp)
			fp->polling = false;
	} else if ((!strcmp(t, EV_ACTION_END) || !strcmp(t, EV_TASK_END)) && o->has_rpo_from &&
		   o->rpo_from.kind == MARK_STEP) {
		const char *id = jmember_str(p, "step_id");
		if (id && !strcmp(id, o->rpo_from.name))
			objectives_rpo_values(o, cJSON_GetObjectItemCaseSensitive(p, "values"),
					      ev->seq);
	}
	/* after the probe's state is this event's: a stop already reached
	 * is judged on the state now */
	clock_event(f, ev, p, segment);
}

/* ---- reading the clock ---- */

static int64_t span_ms(const struct run_fold *f, const struct fold_moment *a,
		       int b_segment, int64_t b_wall_ms, int64_t b_mono_ns)
{
	int64_t ms = fold_same_boot(f, a->segment, b_segment)
			     ? (b_mono_ns - a->mono_ns) / 1000000
			     : b_wall_ms - a->wall_ms;
	return ms > 0 ? ms : 0;
}

int64_t objectives_rto_measured_ms(const struct run_fold *f)
{
	const struct fold_objectives *o = &f->obj;
	if (!o->started.seq || !o->stopped.seq)
		return STEP_NONE;
	return span_ms(f, &o->started, o->stopped.segment, o->stopped.wall_ms,
		       o->stopped.mono_ns);
}

void objectives_rto_clock(const struct run_fold *f, int64_t now_wall_ms,
			  int64_t now_mono_ns, struct rto_clock *out)
{
	const struct fold_objectives *o = &f->obj;
	memset(out, 0, sizeof *out);
	out->budget_ms = o->rto_budget_ms;
	out->met = -1;
	if (o->rto_budget_ms < 0 && !o->has_start)
		return; /* RTO_NONE */
	if (!o->started.seq) {
		out->phase = RTO_NOT_STARTED;
		return;
	}
	int seg = f->n_segments ? (int)f->n_segments - 1 : 0;
	if (o->stopped.seq) {
		out->phase = RTO_STOPPED;
		out->elapsed_ms = objectives_rto_measured_ms(f);
	} else {
		out->phase = RTO_RUNNING;
		if (f->ended && f->n_segments) {
			now_wall_ms = f->segments[seg].last_wall_ms;
			now_mono_ns = f->segments[seg].last_mono_ns;
		}
		out->elapsed_ms = span_ms(f, &o->started, seg, now_wall_ms, now_mono_ns);
	}
	out->over = o->rto_budget_ms >= 0 && out->elapsed_ms > o->rto_budget_ms;
	if (out->phase == RTO_STOPPED && o->rto_budget_ms >= 0)
		out->met = !out->over;
	else if (out->phase == RTO_RUNNING && f->ended)
		out->met = 0; /* the run ended before the service came back */
}

int objectives_rpo_met(const struct fold_objectives *o)
{
	if (o->rpo_budget_ms < 0 || o->rpo_window_ms == STEP_NONE)
		return -1;
	return o->rpo_window_ms <= o->rpo_budget_ms;
}
