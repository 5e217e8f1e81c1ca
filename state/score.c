/* The score card of a drill (state/score.h). */
#include "state/score.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/load.h"
#include "state/events.h"
#include "util/xalloc.h"

/* What the events add to the report: hints, the drill event, the fault
 * that failed a first attempt, and the values an RPO comes from. */
struct scan {
	struct drill_score *s;
	const struct run_report *r;
};

static long step_by_id(const struct drill_score *s, const char *id)
{
	for (size_t i = 0; id && i < s->n_steps; i++)
		if (s->steps[i].id && !strcmp(s->steps[i].id, id))
			return (long)i;
	return -1;
}

static int scan_event(const struct journal_event *ev, void *ctx)
{
	struct scan *sc = ctx;
	struct drill_score *s = sc->s;
	bool drill = !strcmp(ev->type, EV_DRILL), hint = !strcmp(ev->type, EV_HINT);
	bool end = !strcmp(ev->type, EV_ACTION_END);
	if (!drill && !hint && !end)
		return 0;
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "step_id");
	long i = step_by_id(s, cJSON_IsString(id) ? id->valuestring : NULL);
	if (drill) {
		cJSON_Delete(s->faults);
		s->faults = cJSON_DetachItemFromObjectCaseSensitive(p, "faults");
	} else if (hint && i >= 0) {
		s->steps[i].hints++;
		s->hints++;
	} else if (end) {
		if (i >= 0 && cJSON_GetObjectItemCaseSensitive(p, "fault"))
			s->steps[i].faulted = true;
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "values");
		const cJSON *w = cJSON_GetObjectItemCaseSensitive(v, "window_ms");
		const cJSON *rows = cJSON_GetObjectItemCaseSensitive(v, "rows_lost");
		if (cJSON_IsNumber(w)) {
			s->rpo.measured_ms = (int64_t)w->valuedouble;
			s->rpo.rows_lost = cJSON_IsNumber(rows) ? (int64_t)rows->valuedouble
								: REPORT_NONE;
		}
	}
	cJSON_Delete(p);
	return 0;
}

/* When the run's segment holding `at` began: time before it, while no
 * qrh ran the run, is nobody's. */
static int64_t segment_start(const struct run_fold *f, int64_t at)
{
	int64_t start = 0;
	for (size_t k = 0; k < f->n_segments; k++)
		if (f->segments[k].first_wall_ms <= at)
			start = f->segments[k].first_wall_ms;
	return start;
}

/* Each settled step's time: from the previous settling (or its segment's
 * start) to its own, in the order they settled. */
static void step_times(struct drill_score *s, const struct run_report *r)
{
	size_t n = s->n_steps;
	size_t *order = xcalloc(n ? n : 1, sizeof *order);
	size_t m = 0;
	for (size_t i = 0; i < n; i++)
		if (s->steps[i].time_ms != REPORT_NONE)
			order[m++] = i;
	for (size_t a = 1; a < m; a++) /* by when they settled; few steps */
		for (size_t b = a; b > 0 && r->steps[order[b]].ended_ms < r->steps[order[b - 1]].ended_ms; b--) {
			size_t t = order[b];
			order[b] = order[b - 1];
			order[b - 1] = t;
		}
	int64_t prev = r->run.started_ms;
	for (size_t k = 0; k < m; k++) {
		int64_t at = r->steps[order[k]].ended_ms;
		int64_t from = prev, seg = segment_start(&r->fold, at);
		if (seg > from)
			from = seg;
		s->steps[order[k]].time_ms = at > from ? at - from : 0;
		prev = at;
	}
	free(order);
}

static bool designed(const struct score_step *st)
{
	if (st->expect_fail)
		return st->status == STEP_FAILED || st->status == STEP_TIMEOUT ||
		       st->status == STEP_SKIPPED || st->status == STEP_DONE_BY_HAND;
	return step_status_final(st->status);
}

static void objectives(struct drill_score *s, const struct run_report *r,
		       const struct runbook *rb)
{
	s->rto.budget_ms = rb ? rb->objectives.rto_ms : -1;
	s->rpo.budget_ms = rb ? rb->objectives.rpo_ms : -1;
	int64_t start = REPORT_NONE, stop = REPORT_NONE;
	for (size_t i = 0; rb && i < rb->n_steps && i < r->n_steps; i++) {
		const struct report_step *st = &r->steps[i];
		if (rb->steps[i].rto_start && start == REPORT_NONE)
			start = st->started_ms;
		if (rb->steps[i].rto_stop && stop == REPORT_NONE &&
		    (st->status == STEP_OK || st->status == STEP_DONE_BY_HAND))
			stop = st->ended_ms;
	}
	if (start != REPORT_NONE && stop != REPORT_NONE && stop >= start)
		s->rto.measured_ms = stop - start;
	s->rto.met = s->rto.measured_ms == REPORT_NONE || s->rto.budget_ms < 0
			     ? -1 : s->rto.measured_ms <= s->rto.budget_ms;
	/* the clock started and the run ended without the service back (a
	 * restore that PartiallyFailed): whatever the budget, not met */
	s->rto.never_stopped = s->ended && start != REPORT_NONE && stop == REPORT_NONE;
	if (s->rto.never_stopped && s->rto.budget_ms >= 0)
		s->rto.met = 0;
	s->rpo.met = s->rpo.measured_ms == REPORT_NONE || s->rpo.budget_ms < 0
			     ? -1 : s->rpo.measured_ms <= s->rpo.budget_ms;
}

int score_load(struct journal *j, const struct run_report *r,
	       struct drill_score *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	out->drill = r->run.mode && !strcmp(r->run.mode, "drill");
	out->ended = r->run.outcome != NULL;
	snprintf(out->outcome, sizeof out->outcome, "%s", r->run.outcome ? r->run.outcome : "");
	out->rto.measured_ms = out->rpo.measured_ms = out->rpo.rows_lost = REPORT_NONE;
	out->rto.rows_lost = REPORT_NONE;
	struct diags d;
	diags_init(&d);
	struct runbook *rb = r->run.runbook_text
				     ? runbook_load_buffer(r->run.runbook_path, r->run.runbook_text,
							   r->run.runbook_len, RUNBOOK_AUTO, &d)
				     : NULL;
	diags_release(&d);
	out->n_steps = r->n_steps;
	out->steps = xcalloc(r->n_steps ? r->n_steps : 1, sizeof *out->steps);
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct report_step *rs = &r->steps[i];
		const struct step *st = rb && i < rb->n_steps ? &rb->steps[i] : NULL;
		struct score_step *sc = &out->steps[i];
		sc->id = xstrdup(rs->id ? rs->id : "");
		sc->title = xstrdup(rs->title ? rs->title : sc->id);
		sc->status = rs->status;
		sc->attempts = rs->attempts;
		sc->par_ms = st ? st->par_ms : -1;
		sc->expect_fail = st && st->expect_fail;
		bool settled = step_status_final(rs->status) ||
			       ((rs->status == STEP_FAILED || rs->status == STEP_TIMEOUT) && rs->ended_ms > 0);
		sc->time_ms = settled && rs->ended_ms > 0 ? 0 : REPORT_NONE;
	}
	step_times(out, r);
	struct scan sc = { out, r };
	int rc = journal_events_each(j, r->run.id, 0, scan_event, &sc, e);
	for (size_t i = 0; i < out->n_steps; i++) {
		struct score_step *st = &out->steps[i];
		st->as_designed = designed(st);
		out->skips += st->status == STEP_SKIPPED;
		out->retries += st->attempts > 1 ? st->attempts - 1 : 0;
		if (st->time_ms != REPORT_NONE)
			out->total_ms += st->time_ms;
		if (st->par_ms > 0) {
			out->with_par++;
			out->par_total_ms += st->par_ms;
			out->within_par += st->time_ms != REPORT_NONE && st->time_ms <= st->par_ms;
		}
	}
	objectives(out, r, rb);
	runbook_free(rb);
	return rc < 0 ? -1 : 0;
}

void score_release(struct drill_score *s)
{
	for (size_t i = 0; i < s->n_steps; i++) {
		free(s->steps[i].id);
		free(s->steps[i].title);
	}
	free(s->steps);
	cJSON_Delete(s->faults);
	memset(s, 0, sizeof *s);
}

void score_duration(int64_t ms, char *out, size_t n)
{
	if (ms == REPORT_NONE || ms < 0)
		snprintf(out, n, "-");
	else if (ms < 1000)
		snprintf(out, n, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
	else
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms % 60000 / 1000));
}

static void add_ms(cJSON *o, const char *k, int64_t ms)
{
	if (ms == REPORT_NONE || ms < 0)
		cJSON_AddNullToObject(o, k);
	else
		cJSON_AddNumberToObject(o, k, (double)ms);
}

static void add_met(cJSON *o, int met)
{
	if (met < 0)
		cJSON_AddNullToObject(o, "met");
	else
		cJSON_AddBoolToObject(o, "met", met);
}

cJSON *score_json(const struct drill_score *s, bool hide_faults)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddBoolToObject(o, "drill", s->drill);
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct score_step *st = &s->steps[i];
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "id", st->id);
		cJSON_AddStringToObject(x, "status", step_status_name(st->status));
		add_ms(x, "time_ms", st->time_ms);
		add_ms(x, "par_ms", st->par_ms);
		if (st->par_ms > 0 && st->time_ms != REPORT_NONE)
			cJSON_AddBoolToObject(x, "within_par", st->time_ms <= st->par_ms);
		else
			cJSON_AddNullToObject(x, "within_par");
		cJSON_AddNumberToObject(x, "attempts", st->attempts);
		cJSON_AddNumberToObject(x, "retries", st->attempts > 1 ? st->attempts - 1 : 0);
		cJSON_AddNumberToObject(x, "hints", st->hints);
		if (st->expect_fail)
			cJSON_AddStringToObject(x, "expect", "fail");
		cJSON_AddBoolToObject(x, "as_designed", st->as_designed);
		if (st->faulted && !hide_faults)
			cJSON_AddStringToObject(x, "fault", "fail-once");
		cJSON_AddItemToArray(steps, x);
	}
	cJSON *t = cJSON_AddObjectToObject(o, "totals");
	add_ms(t, "time_ms", s->total_ms);
	add_ms(t, "par_ms", s->with_par ? s->par_total_ms : REPORT_NONE);
	cJSON_AddNumberToObject(t, "steps_with_par", s->with_par);
	cJSON_AddNumberToObject(t, "within_par", s->within_par);
	cJSON_AddNumberToObject(t, "skips", s->skips);
	cJSON_AddNumberToObject(t, "retries", s->retries);
	cJSON_AddNumberToObject(t, "hints", s->hints);
	cJSON *ob = cJSON_AddObjectToObject(o, "objectives");
	cJSON *rto = cJSON_AddObjectToObject(ob, "rto");
	add_ms(rto, "budget_ms", s->rto.budget_ms);
	add_ms(rto, "measured_ms", s->rto.measured_ms);
	add_met(rto, s->rto.met);
	cJSON *rpo = cJSON_AddObjectToObject(ob, "rpo");
	add_ms(rpo, "budget_ms", s->rpo.budget_ms);
	add_ms(rpo, "window_ms", s->rpo.measured_ms);
	if (s->rpo.rows_lost == REPORT_NONE)
		cJSON_AddNullToObject(rpo, "rows_lost");
	else
		cJSON_AddNumberToObject(rpo, "rows_lost", (double)s->rpo.rows_lost);
	add_met(rpo, s->rpo.met);
	int n_faults = s->faults ? cJSON_GetArraySize(s->faults) : 0;
	if (hide_faults)
		cJSON_AddNumberToObject(o, "faults_hidden", n_faults);
	else
		cJSON_AddItemToObject(o, "faults", s->faults ? cJSON_Duplicate(s->faults, 1)
							     : cJSON_CreateArray());
	return o;
}

static const char *met_word(int met)
{
	return met < 0 ? "not measured" : met ? "met" : "NOT MET";
}

static void objective_line(struct buf *out, const char *name, const struct score_objective *o)
{
	char m[32], b[32];
	score_duration(o->measured_ms, m, sizeof m);
	score_duration(o->budget_ms, b, sizeof b);
	buf_addf(out, "  %s %s", name, o->never_stopped	     ? "never stopped"
				       : o->measured_ms == REPORT_NONE ? "not measured"
								       : m);
	if (o->budget_ms >= 0)
		buf_addf(out, " of %s: %s", b, o->measured_ms == REPORT_NONE && o->met < 0 ? "not known" : met_word(o->met));
	if (o->rows_lost != REPORT_NONE)
		buf_addf(out, " (%lld acknowledged rows lost)", (long long)o->rows_lost);
	buf_addc(out, '\n');
}

void score_text(const struct drill_score *s, bool hide_faults, struct buf *out)
{
	char t[32], p[32];
	buf_addf(out, "Drill score card%s%s\n", s->ended ? ": " : " (the run goes on)",
		 s->ended ? s->outcome : "");
	buf_adds(out, "  step                                time     par      tries hints\n");
	for (size_t i = 0; i < s->n_steps; i++) {
		const struct score_step *st = &s->steps[i];
		score_duration(st->time_ms, t, sizeof t);
		score_duration(st->par_ms, p, sizeof p);
		const char *mark = st->par_ms > 0 && st->time_ms != REPORT_NONE
					   ? (st->time_ms <= st->par_ms ? "  " : " +") : "  ";
		buf_addf(out, "  %2zu %-32.32s %-8s%s%-7s %-5d %d %s%s%s\n", i + 1, st->title, t, mark,
			 st->par_ms > 0 ? p : "-", st->attempts, st->hints,
			 st->status == STEP_SKIPPED ? "skipped" : step_status_words(st->status),
			 st->expect_fail ? (st->as_designed ? " (as designed)" : " (meant to fail)") : "",
			 st->faulted && !hide_faults ? " [fault: fail-once]" : "");
	}
	score_duration(s->total_ms, t, sizeof t);
	buf_addf(out, "  total %s; %d of %d steps within par; %d skipped, %d retries, %d hints\n", t,
		 s->within_par, s->with_par, s->skips, s->retries, s->hints);
	objective_line(out, "RTO", &s->rto);
	objective_line(out, "RPO", &s->rpo);
	int n = s->faults ? cJSON_GetArraySize(s->faults) : 0;
	if (hide_faults) {
		if (n)
			buf_addf(out, "  faults injected: %d (shown when the drill ends)\n", n);
		return;
	}
	if (!n) {
		buf_adds(out, "  faults injected: none\n");
		return;
	}
	buf_adds(out, "  faults injected:");
	const cJSON *f;
	cJSON_ArrayForEach(f, s->faults)
	{
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(f, "spec");
		const cJSON *ok = cJSON_GetObjectItemCaseSensitive(f, "applied");
		buf_addf(out, " %s%s", cJSON_IsString(spec) ? spec->valuestring : "?",
			 cJSON_IsFalse(ok) ? " (could not be applied)" : "");
	}
	buf_addc(out, '\n');
}
