/* The header's objectives: what is true of them now. Until the probes'
 * live clocks land, the RTO is timed by the steps marked rto_start and
 * rto_stop (from the first start of the one to the first good end of the
 * other, the score card's rule, state/score.h) and the RPO is the last
 * window an action measured (sql recipe=rpo). */
#include <stdio.h>
#include <string.h>

#include "runbooks/duration.h"
#include "tui/console_ui.h"
#include "util/clock.h"

static const char *verdict(int64_t measured_ms, int64_t budget_ms)
{
	return measured_ms <= budget_ms ? "met" : "NOT MET";
}

/* The RTO clock's start and stop (STEP_NONE when not yet). */
static void rto_marks(const struct console *c, int64_t *start, int64_t *stop)
{
	*start = *stop = STEP_NONE;
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		const struct step_state *st = run_step(c->run, i);
		if (c->rb->steps[i].rto_start && *start == STEP_NONE)
			*start = st->started_wall_ms;
		if (c->rb->steps[i].rto_stop && *stop == STEP_NONE &&
		    (st->status == STEP_OK || st->status == STEP_DONE_BY_HAND))
			*stop = st->ended_wall_ms;
	}
}

/* The RTO's steps: "from step 3", "steps 3-9", or that none starts it. */
static void rto_steps(const struct runbook *rb, char *out, size_t n)
{
	long from = -1, to = -1;
	for (size_t i = 0; i < rb->n_steps; i++) {
		if (rb->steps[i].rto_start && from < 0)
			from = (long)i;
		if (rb->steps[i].rto_stop && to < 0)
			to = (long)i;
	}
	if (from < 0)
		snprintf(out, n, "no step starts it");
	else if (to < 0)
		snprintf(out, n, "from step %ld", from + 1);
	else
		snprintf(out, n, "steps %ld-%ld", from + 1, to + 1);
}

/* long: with the verdict's reasons; short: the figures alone. */
static void rto_text(const struct console *c, struct buf *lng, struct buf *shrt)
{
	char budget[DURATION_TEXT_MAX], t[DURATION_TEXT_MAX];
	int64_t budget_ms = c->rb->objectives.rto_ms, start, stop;
	duration_format(budget_ms, budget);
	rto_marks(c, &start, &stop);
	if (start == STEP_NONE) {
		char steps[48];
		rto_steps(c->rb, steps, sizeof steps);
		buf_addf(lng, "RTO %s: clock not started (%s)", budget, steps);
		buf_addf(shrt, "RTO %s", budget);
		return;
	}
	bool running = stop == STEP_NONE || stop < start;
	int64_t ms = (running ? clock_wall_ms() : stop) - start;
	console_format_duration(ms < 0 ? 0 : ms, t, sizeof t);
	if (running && c->finished) {
		buf_addf(lng, "RTO %s: never stopped, NOT MET", budget);
		buf_addf(shrt, "RTO NOT MET");
	} else if (running) {
		buf_addf(lng, "RTO clock %s of %s%s", t, budget, ms > budget_ms ? " (over)" : "");
		buf_addf(shrt, "RTO %s/%s", t, budget);
	} else {
		buf_addf(lng, "RTO %s of %s: %s", t, budget, verdict(ms, budget_ms));
		buf_addf(shrt, "RTO %s %s", t, verdict(ms, budget_ms));
	}
}

static void rpo_text(const struct console *c, struct buf *lng, struct buf *shrt)
{
	char budget[DURATION_TEXT_MAX], t[DURATION_TEXT_MAX];
	int64_t budget_ms = c->rb->objectives.rpo_ms;
	duration_format(budget_ms, budget);
	const char *sep = lng->len ? "   " : "", *ssep = shrt->len ? "  " : "";
	if (c->rpo_window_ms == STEP_NONE) {
		buf_addf(lng, "%sRPO %s: not measured yet", sep, budget);
		buf_addf(shrt, "%sRPO %s", ssep, budget);
		return;
	}
	console_format_duration(c->rpo_window_ms, t, sizeof t);
	buf_addf(lng, "%sRPO %s of %s: %s (%lld rows lost)", sep, t, budget,
		 verdict(c->rpo_window_ms, budget_ms), (long long)c->rpo_rows_lost);
	buf_addf(shrt, "%sRPO %s %s", ssep, t, verdict(c->rpo_window_ms, budget_ms));
}

/* The longest of the two texts that fits. */
int console_draw_objectives(struct console *c, int y, int x, int w)
{
	const struct objectives *o = &c->rb->objectives;
	if (o->rto_ms < 0 && o->rpo_ms < 0)
		return console_put(y, x, "no RTO/RPO objectives", 21, w);
	struct buf lng, shrt;
	buf_init(&lng, BUF_UNLIMITED);
	buf_init(&shrt, BUF_UNLIMITED);
	if (o->rto_ms >= 0)
		rto_text(c, &lng, &shrt);
	if (o->rpo_ms >= 0)
		rpo_text(c, &lng, &shrt);
	const struct buf *b = (int)lng.len <= w ? &lng : &shrt;
	int used = console_put(y, x, b->data, b->len, w);
	buf_release(&lng);
	buf_release(&shrt);
	return used;
}
