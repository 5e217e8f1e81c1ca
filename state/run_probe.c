/* Probes: checks sampled all run long (state/run.h, "probes"). Each probe
 * has a timer; when it fires, a sample starts as a task running the
 * probe's action, unless the last sample still runs (then the tick is
 * skipped and counted). A sample's end becomes a row of probe_samples
 * (buffered, written with output: no fsync of its own), and a change of
 * state an event. Which probes poll follows the steps (from_step,
 * until_step), reconciled from a timer after each step event. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/run_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define PROBE_DIGEST_INTERVAL_MS 10000
/* Probes are spread over their interval on deadlines this far apart, so
 * that many of them share one wakeup (and the CPU it costs) while no
 * burst ever holds more than a slot's share of them. */
#define PROBE_SLOT_MS 25

void run_probes_init(struct run *r)
{
	if (!r->rb->n_probes)
		return;
	r->probes = xcalloc(r->rb->n_probes, sizeof *r->probes);
	r->rpo_window_ms = r->rpo_rows_lost = STEP_NONE;
	for (size_t i = 0; i < r->rb->n_probes; i++) {
		struct probe_rt *pr = &r->probes[i];
		char msg[COND_MSG_MAX];
		pr->run = r;
		pr->index = i;
		pr->p = &r->rb->probes[i];
		pr->every_ms = pr->p->every_ms > 0 ? pr->p->every_ms : PROBE_DEFAULT_EVERY_MS;
		pr->timeout_ms = pr->p->action.timeout_ms > 0 ? pr->p->action.timeout_ms
							      : pr->every_ms;
		/* the loader checked them: a failure leaves no condition */
		probe_conds_parse(pr->p, &pr->conds, msg);
		buf_init(&pr->line, PROBE_LINE_MAX);
	}
}

static void sample_release(struct probe_rt *pr)
{
	if (pr->task)
		task_free(pr->task); /* stopped at once, no callback */
	pr->task = NULL;
	target_set_release(&pr->targets);
}

void run_probes_free(struct run *r)
{
	for (size_t i = 0; r->probes && i < r->rb->n_probes; i++) {
		struct probe_rt *pr = &r->probes[i];
		if (pr->timer)
			loop_timer_cancel(r->loop, pr->timer);
		sample_release(pr);
		probe_conds_release(&pr->conds);
		buf_release(&pr->line);
	}
	free(r->probes);
	r->probes = NULL;
	uint64_t *timers[] = { &r->probes_timer, &r->digest_timer };
	for (size_t k = 0; k < 2; k++)
		if (*timers[k])
			loop_timer_cancel(r->loop, *timers[k]);
	r->probes_timer = r->digest_timer = 0;
}

long run_probe_index(const struct run *r, const char *name)
{
	for (size_t i = 0; name && i < r->rb->n_probes; i++)
		if (r->rb->probes[i].name && !strcmp(r->rb->probes[i].name, name))
			return (long)i;
	return -1;
}

/* ---- digests ---- */

/* The samples since the last digest, digested on the chain. */
static void digest_now(struct run *r)
{
	struct journal_sample_digest d;
	struct err e;
	if (r->ended || r->journal_broken ||
	    journal_samples_digest(r->j, r->id, r->fold.digested, &d, &e) < 0 || !d.count)
		return;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "count", (double)d.count);
	cJSON_AddNumberToObject(p, "first", (double)d.first);
	cJSON_AddNumberToObject(p, "last", (double)d.last);
	cJSON_AddStringToObject(p, "sha256", d.sha256);
	run_emit(r, -1, EV_PROBE_DIGEST, NULL, p, &e);
}

static bool any_polling(const struct run *r)
{
	for (size_t i = 0; r->probes && i < r->rb->n_probes; i++)
		if (r->probes[i].polling)
			return true;
	return false;
}

static void on_digest_timer(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)id;
	r->digest_timer = 0;
	digest_now(r);
	if (any_polling(r))
		r->digest_timer = loop_timer_add(l, PROBE_DIGEST_INTERVAL_MS, on_digest_timer, r);
}

/* ---- one sample ---- */

static void ring_add(struct probe_rt *pr, enum probe_state st, const char *value)
{
	struct run_probe_point *pt = &pr->ring[(pr->ring_head + pr->ring_n) % PROBE_RING];
	if (pr->ring_n == PROBE_RING)
		pr->ring_head = (pr->ring_head + 1) % PROBE_RING;
	else
		pr->ring_n++;
	pt->state = st;
	pt->has_number = cond_text_number(value, &pt->number);
}

/* The first line of what the command printed. */
static const char *first_line(struct probe_rt *pr)
{
	char *nl = memchr(pr->line.data, '\n', pr->line.len);
	if (nl)
		*nl = '\0';
	size_t n = strlen(pr->line.data);
	if (n && pr->line.data[n - 1] == '\r')
		pr->line.data[n - 1] = '\0';
	return pr->line.data;
}

static void state_event(struct probe_rt *pr, enum probe_state was,
			const struct journal_sample *s, const char *summary)
{
	struct run *r = pr->run;
	struct err e;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "probe", pr->p->name);
	cJSON_AddStringToObject(p, "state", probe_state_name(pr->state));
	cJSON_AddStringToObject(p, "previous", probe_state_name(was));
	if (s->value)
		cJSON_AddStringToObject(p, "value", s->value);
	else
		cJSON_AddNullToObject(p, "value");
	cJSON_AddNumberToObject(p, "sample", (double)s->seq);
	cJSON_AddStringToObject(p, "result", s->result);
	cJSON_AddStringToObject(p, "summary", summary);
	/* the check happened somewhere in the sample's run: its middle is
	 * off by at most half its duration either way */
	int64_t half_ns = s->duration_ms * 1000000 / 2;
	cJSON_AddNumberToObject(p, "at_wall_ms", (double)(s->wall_ms + half_ns / 1000000));
	cJSON_AddNumberToObject(p, "at_mono_ns", (double)(s->mono_ns + half_ns));
	run_emit(r, -1, EV_PROBE_STATE, NULL, p, &e);
}

/* What the sample said: a row, maybe an event, the views. */
static void sample_record(struct probe_rt *pr, enum action_status status,
			  const char *summary, const cJSON *values)
{
	struct run *r = pr->run;
	struct err e;
	char value[PROBE_VALUE_MAX];
	bool shown = probe_sample_shown(pr->p, values, value, sizeof value);
	enum probe_state was = pr->state;
	char *text = cJSON_PrintUnformatted(values);
	struct journal_sample s = {
		.probe = pr->p->name, .wall_ms = pr->sample_wall_ms,
		.mono_ns = pr->sample_mono_ns,
		.duration_ms = (clock_mono_ns() - pr->sample_mono_ns) / 1000000,
		.late_ms = pr->sample_late_ms, .skipped = pr->pending_skips,
		.result = action_status_name(status),
		.state = probe_state_name(probe_sample_state(&pr->conds, values, status)),
		.value = shown ? value : NULL, .values = text,
	};
	probe_state_parse(s.state, &pr->state);
	if (journal_sample_append(r->j, r->id, &s, &e) < 0)
		run_journal_failure(r, e.msg);
	cJSON_free(text);
	pr->pending_skips = 0;
	pr->samples++;
	pr->sampled = true;
	pr->ended_ns = clock_mono_ns();
	snprintf(pr->value, sizeof pr->value, "%s", shown ? value : "");
	ring_add(pr, pr->state, shown ? value : NULL);
	const struct fold_objectives *o = &r->fold.obj;
	struct fold_objectives live = { .rpo_window_ms = STEP_NONE };
	if (o->has_rpo_from && o->rpo_from.kind == MARK_PROBE &&
	    !strcmp(o->rpo_from.name, pr->p->name) && objectives_rpo_values(&live, values, s.seq)) {
		r->rpo_window_ms = live.rpo_window_ms;
		r->rpo_rows_lost = live.rpo_rows_lost;
		r->rpo_seq = s.seq;
	}
	run_output_written(r); /* the flush clock writes the row */
	if (pr->state != was && !r->ended)
		state_event(pr, was, &s, summary);
	if (r->lis.probe)
		r->lis.probe(r->lis.arg, pr->index);
	run_attempt_probe_changed(r, pr->index);
}

static void sample_end(struct task *t)
{
	struct probe_rt *pr = t->owner;
	int64_t latency = (clock_mono_ns() - t->started_ns) / 1000000;
	cJSON *values = probe_sample_values(t->a->kind, &t->res, t->values,
					    probe_kind_has_line(t->a->kind) ? first_line(pr) : NULL,
					    latency);
	enum action_status status = t->res.status;
	char summary[ACTION_SUMMARY_MAX];
	snprintf(summary, sizeof summary, "%s", t->res.summary);
	pr->task = NULL;
	task_free(t);
	target_set_release(&pr->targets);
	sample_record(pr, status, summary, values);
	cJSON_Delete(values);
}

/* A sample that could not start (its target did not resolve). */
static void sample_failed(struct probe_rt *pr, const char *why)
{
	struct action_result res = { .status = ACTION_ERROR, .exit_code = -1 };
	char *clean = run_redact(pr->run, why);
	action_summary(&res, "%s", clean);
	free(clean);
	cJSON *values = probe_sample_values(pr->p->action.kind, &res, NULL, NULL, 0);
	sample_record(pr, res.status, res.summary, values);
	cJSON_Delete(values);
}

static void sample_start(struct probe_rt *pr)
{
	struct run *r = pr->run;
	const struct action *a = &pr->p->action;
	struct err e;
	pr->sample_wall_ms = clock_wall_ms();
	pr->sample_mono_ns = clock_mono_ns();
	buf_reset(&pr->line);
	if (a->target && targets_resolve(r->rb, a->target, run_lookup, r, &pr->targets, &e) < 0) {
		sample_failed(pr, e.msg);
		return;
	}
	const struct action_target *tg = pr->targets.n ? &pr->targets.v[0] : NULL;
	struct task *t = task_new(r, FOLD_TASK_PROBE, 0, 0, pr->index, a, tg, pr->p->name);
	t->timeout_ms = pr->timeout_ms;
	t->capture = &pr->line;
	t->on_end = sample_end;
	t->owner = pr;
	pr->task = t;
	char **env = run_env_build(r, tg);
	struct action_ctx base;
	task_ctx_base(r, env, &base);
	task_start(t, &base);
	run_env_free(env);
}

/* ---- the timer ---- */

static void on_probe_timer(struct loop *l, uint64_t id, void *arg);

static void probe_arm(struct probe_rt *pr)
{
	pr->timer = loop_timer_at(pr->run->loop, pr->due_ns, on_probe_timer, pr);
}

static void on_probe_timer(struct loop *l, uint64_t id, void *arg)
{
	struct probe_rt *pr = arg;
	int64_t now = clock_mono_ns(), every = pr->every_ms * 1000000;
	(void)l;
	(void)id;
	pr->timer = 0;
	if (pr->task) {
		/* the last sample still runs: this one is skipped, never doubled */
		pr->pending_skips++;
		pr->skipped++;
	} else {
		pr->sample_late_ms = (now - pr->due_ns) / 1000000;
		if (pr->sample_late_ms > pr->late_worst_ms)
			pr->late_worst_ms = pr->sample_late_ms;
		sample_start(pr);
	}
	pr->due_ns += every;
	if (pr->due_ns <= now) {
		/* the loop was held up past whole intervals: those are skipped */
		int64_t missed = (now - pr->due_ns) / every + 1;
		pr->due_ns += missed * every;
		pr->pending_skips += missed;
		pr->skipped += missed;
	}
	probe_arm(pr);
}

/* ---- polling on and off ---- */

static void probe_start(struct probe_rt *pr)
{
	struct run *r = pr->run;
	const struct action *a = &pr->p->action;
	struct buf desc;
	struct err e;
	struct target_set shown = { 0 };
	buf_init(&desc, BUF_UNLIMITED);
	if (a->target)
		targets_resolve(r->rb, a->target, run_lookup_masked, r, &shown, &e);
	if (run_entry(r, a->kind)->describe(a, shown.n ? &shown.v[0] : NULL, run_lookup_masked,
					     r, &desc, &e) < 0)
		buf_reset(&desc);
	target_set_release(&shown);
	char *clean = run_redact(r, desc.data);
	buf_release(&desc);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "probe", pr->p->name);
	cJSON_AddStringToObject(p, "kind", action_kind_name(a->kind));
	cJSON_AddNumberToObject(p, "interval_ms", (double)pr->every_ms);
	cJSON_AddNumberToObject(p, "timeout_ms", (double)pr->timeout_ms);
	cJSON_AddStringToObject(p, "command", clean);
	free(clean);
	const char *opt[][2] = { { "target", a->target }, { "value", pr->p->value },
				 { "ok", pr->p->ok }, { "warn", pr->p->warn },
				 { "fail", pr->p->fail } };
	for (size_t k = 0; k < sizeof opt / sizeof *opt; k++) {
		if (opt[k][1])
			cJSON_AddStringToObject(p, opt[k][0], opt[k][1]);
		else
			cJSON_AddNullToObject(p, opt[k][0]);
	}
	r->defer = true; /* the starts of all probes in one commit */
	if (run_emit(r, -1, EV_PROBE_START, NULL, p, &e) < 0)
		return;
	pr->polling = true;
	if (!r->digest_timer)
		r->digest_timer = loop_timer_add(r->loop, PROBE_DIGEST_INTERVAL_MS,
						 on_digest_timer, r);
}

static void probe_stop(struct probe_rt *pr, const char *reason)
{
	struct run *r = pr->run;
	struct err e;
	if (pr->timer)
		loop_timer_cancel(r->loop, pr->timer);
	pr->timer = 0;
	sample_release(pr);
	pr->polling = false;
	digest_now(r); /* its samples are on the chain before it says it stopped */
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "probe", pr->p->name);
	cJSON_AddStringToObject(p, "reason", reason);
	cJSON_AddNumberToObject(p, "samples", (double)pr->samples);
	cJSON_AddNumberToObject(p, "skipped", (double)pr->skipped);
	run_emit(r, -1, EV_PROBE_STOP, NULL, p, &e);
}

/* Should probe pr poll now, as the steps stand? */
static bool should_poll(const struct run *r, const struct probe_rt *pr)
{
	if (pr->done || r->ended || r->observing || r->journal_broken ||
	    r->opts.mode == RUN_DRY)
		return false;
	const struct fold_step *from = pr->p->from_step
		? fold_step_by_id((struct run_fold *)(uintptr_t)&r->fold, pr->p->from_step) : NULL;
	const struct fold_step *until = pr->p->until_step
		? fold_step_by_id((struct run_fold *)(uintptr_t)&r->fold, pr->p->until_step) : NULL;
	if (pr->p->from_step && (!from || from->st.status == STEP_PENDING))
		return false;
	if (until && until->index >= 0 && (size_t)until->index < r->rb->n_steps &&
	    run_step_settled(r, (size_t)until->index))
		return false;
	return true;
}

static void reconcile(struct run *r)
{
	struct err e;
	for (size_t i = 0; r->probes && i < r->rb->n_probes; i++) {
		struct probe_rt *pr = &r->probes[i];
		bool want = should_poll(r, pr);
		if (want && !pr->polling) {
			probe_start(pr);
		} else if (!want && pr->polling) {
			pr->done = true;
			probe_stop(pr, "until_step");
		}
	}
	if (run_flush_events(r, &e) < 0)
		return;
	/* the first samples are due once their starts are on the chain, each
	 * probe at its own phase of its interval, rounded to a slot: 200
	 * probes of 1 s go 5 at a time every 25 ms, not all 200 at once */
	int64_t now = clock_mono_ns();
	size_t n = r->rb->n_probes;
	for (size_t i = 0; r->probes && i < n; i++) {
		struct probe_rt *pr = &r->probes[i];
		if (pr->polling && !pr->timer && !pr->task) {
			int64_t phase_ms = pr->every_ms * (int64_t)i / (int64_t)n;
			phase_ms -= phase_ms % PROBE_SLOT_MS;
			pr->due_ns = now + phase_ms * 1000000;
			probe_arm(pr);
		}
	}
}

static void on_reconcile(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	r->probes_timer = 0;
	reconcile(r);
}

void run_probes_on_event(struct run *r, const struct journal_event *ev)
{
	static const char *const moves[] = { EV_STEP_START, EV_STEP_END, EV_STEP_SKIP,
					     EV_STEP_DONE_BY_HAND, EV_STEP_CANCEL };
	if (!r->probes || r->probes_timer || !r->loop)
		return;
	for (size_t k = 0; k < sizeof moves / sizeof *moves; k++)
		if (!strcmp(ev->type, moves[k]))
			r->probes_timer = loop_timer_add(r->loop, 0, on_reconcile, r);
}

/* The objectives event: budgets and marks, resolved to one form. */
static cJSON *objectives_payload(const struct runbook *rb)
{
	const struct objectives *o = &rb->objectives;
	char start[QRH_MAX_ID_LEN + 16] = "", stop[QRH_MAX_ID_LEN + 16] = "";
	for (size_t i = 0; i < rb->n_steps; i++) {
		if (rb->steps[i].rto_start && !start[0])
			snprintf(start, sizeof start, "step:%s:start", rb->steps[i].id);
		if (rb->steps[i].rto_stop && !stop[0])
			snprintf(stop, sizeof stop, "step:%s:end", rb->steps[i].id);
	}
	const char *marks[] = { o->rto_start ? o->rto_start : start[0] ? start : NULL,
				o->rto_stop ? o->rto_stop : stop[0] ? stop : NULL, o->rpo_from };
	if (o->rto_ms < 0 && o->rpo_ms < 0 && !marks[0] && !marks[1] && !marks[2])
		return NULL;
	cJSON *p = cJSON_CreateObject();
	cJSON *rto = cJSON_AddObjectToObject(p, "rto"), *rpo = cJSON_AddObjectToObject(p, "rpo");
	cJSON *homes[] = { rto, rto, rpo };
	const char *keys[] = { "start", "stop", "from" };
	for (int k = 0; k < 2; k++) {
		int64_t ms = k ? o->rpo_ms : o->rto_ms;
		if (ms >= 0)
			cJSON_AddNumberToObject(k ? rpo : rto, "budget_ms", (double)ms);
		else
			cJSON_AddNullToObject(k ? rpo : rto, "budget_ms");
	}
	for (int k = 0; k < 3; k++) {
		if (marks[k])
			cJSON_AddStringToObject(homes[k], keys[k], marks[k]);
		else
			cJSON_AddNullToObject(homes[k], keys[k]);
	}
	return p;
}

void run_probes_begin(struct run *r, bool fresh)
{
	struct err e;
	cJSON *obj = fresh ? objectives_payload(r->rb) : NULL;
	if (obj)
		run_emit(r, -1, EV_OBJECTIVES, NULL, obj, &e);
	reconcile(r);
}

void run_probes_end(struct run *r, const char *reason)
{
	for (size_t i = 0; r->probes && i < r->rb->n_probes; i++)
		if (r->probes[i].polling)
			probe_stop(&r->probes[i], reason);
	digest_now(r);
	if (r->digest_timer)
		loop_timer_cancel(r->loop, r->digest_timer);
	if (r->probes_timer)
		loop_timer_cancel(r->loop, r->probes_timer);
	r->digest_timer = r->probes_timer = 0;
}

/* ---- what front ends see ---- */

size_t run_probes(const struct run *r, struct run_probe_view *out, size_t max)
{
	int64_t now = clock_mono_ns();
	size_t n = 0;
	for (size_t i = 0; r->probes && i < r->rb->n_probes && n < max; i++) {
		const struct probe_rt *pr = &r->probes[i];
		struct run_probe_view *v = &out[n++];
		memset(v, 0, sizeof *v);
		v->name = pr->p->name;
		v->kind = action_kind_name(pr->p->action.kind);
		v->interval_ms = pr->every_ms;
		v->polling = pr->polling || (r->observing && fold_probe_by_name(&r->fold, pr->p->name) &&
					     fold_probe_by_name(&r->fold, pr->p->name)->polling);
		v->sampling = pr->task != NULL;
		v->state = pr->state;
		v->value = pr->value;
		v->age_ms = pr->ended_ns ? (now - pr->ended_ns) / 1000000 : -1;
		v->samples = pr->samples;
		v->skipped = pr->skipped;
		v->late_worst_ms = pr->late_worst_ms;
		v->n_points = pr->ring_n;
		for (size_t k = 0; k < pr->ring_n; k++)
			v->points[k] = pr->ring[(pr->ring_head + k) % PROBE_RING];
	}
	return n;
}

void run_objectives(const struct run *r, struct fold_objectives *out)
{
	*out = r->fold.obj;
	if (r->probes && out->has_rpo_from && out->rpo_from.kind == MARK_PROBE &&
	    (r->rpo_window_ms != STEP_NONE || r->rpo_rows_lost != STEP_NONE)) {
		out->rpo_window_ms = r->rpo_window_ms;
		out->rpo_rows_lost = r->rpo_rows_lost;
		out->rpo_seq = r->rpo_seq;
	}
}

/* ---- a watcher: the samples as the journal has them ---- */

static int observe_sample(const struct journal_sample *s, void *ctx)
{
	struct probe_rt *pr = ctx;
	cJSON *values = cJSON_Parse(s->values ? s->values : "{}");
	probe_state_parse(s->state ? s->state : "unknown", &pr->state);
	snprintf(pr->value, sizeof pr->value, "%s", s->value ? s->value : "");
	ring_add(pr, pr->state, s->value);
	pr->samples++;
	pr->skipped += s->skipped;
	if (s->late_ms > pr->late_worst_ms)
		pr->late_worst_ms = s->late_ms;
	/* its age, as far as the wall clock tells */
	pr->ended_ns = clock_mono_ns() - (clock_wall_ms() - s->wall_ms - s->duration_ms) * 1000000;
	const struct fold_objectives *o = &pr->run->fold.obj;
	struct fold_objectives live = { .rpo_window_ms = STEP_NONE };
	if (o->has_rpo_from && o->rpo_from.kind == MARK_PROBE &&
	    !strcmp(o->rpo_from.name, pr->p->name) && objectives_rpo_values(&live, values, s->seq)) {
		pr->run->rpo_window_ms = live.rpo_window_ms;
		pr->run->rpo_rows_lost = live.rpo_rows_lost;
	}
	cJSON_Delete(values);
	return 0;
}

void run_probes_observe(struct run *r)
{
	struct err e;
	for (size_t i = 0; r->probes && i < r->rb->n_probes; i++) {
		struct probe_rt *pr = &r->probes[i];
		pr->ring_n = pr->ring_head = 0;
		pr->samples = pr->skipped = pr->late_worst_ms = 0;
		pr->state = PROBE_UNKNOWN;
		pr->value[0] = '\0';
		pr->ended_ns = 0;
		journal_samples_last(r->j, r->id, pr->p->name, PROBE_RING, observe_sample, pr, &e);
	}
}
