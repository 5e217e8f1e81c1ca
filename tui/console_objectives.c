/* The header's objectives: what is true of them now. This version records
 * the RTO and RPO with the run but times neither, so the header names
 * the steps that start and stop the RTO clock, and says that nothing is
 * measured. Live clocks take this function's place when they come. */
#include <string.h>

#include "runbooks/duration.h"
#include "tui/console_ui.h"

/* The first step with rto_start (or rto_stop), or -1. */
static long marked_step(const struct runbook *rb, bool start)
{
	for (size_t i = 0; i < rb->n_steps; i++)
		if (start ? rb->steps[i].rto_start : rb->steps[i].rto_stop)
			return (long)i;
	return -1;
}

/* The RTO's steps: "from step 3", "steps 3-9", or "" when none starts
 * its clock. */
static void rto_steps(const struct runbook *rb, char *out, size_t n)
{
	long from = marked_step(rb, true), to = marked_step(rb, false);
	if (from < 0)
		snprintf(out, n, "no step starts it");
	else if (to < 0)
		snprintf(out, n, "from step %ld", from + 1);
	else
		snprintf(out, n, "steps %ld-%ld", from + 1, to + 1);
}

/* The longest of three texts that fits: what is and is not measured,
 * then the budgets alone. */
int console_draw_objectives(struct console *c, int y, int x, int w)
{
	const struct objectives *o = &c->rb->objectives;
	char d[DURATION_TEXT_MAX], steps[48];
	struct buf text[3];
	int used = 0;
	if (o->rto_ms < 0 && o->rpo_ms < 0)
		return console_put(y, x, "no RTO/RPO objectives", 21, w);
	for (int k = 0; k < 3; k++)
		buf_init(&text[k], BUF_UNLIMITED);
	if (o->rto_ms >= 0) {
		duration_format(o->rto_ms, d);
		rto_steps(c->rb, steps, sizeof steps);
		buf_addf(&text[0], "RTO %s: %s, not timed", d, steps);
		buf_addf(&text[1], "RTO %s (not timed)", d);
		buf_addf(&text[2], "RTO %s", d);
	}
	if (o->rpo_ms >= 0) {
		duration_format(o->rpo_ms, d);
		buf_addf(&text[0], "%sRPO %s: not measured", text[0].len ? "   " : "", d);
		buf_addf(&text[1], "%sRPO %s (not measured)", text[1].len ? "   " : "", d);
		buf_addf(&text[2], "%sRPO %s", text[2].len ? "  " : "", d);
	}
	for (int k = 0; k < 3; k++) {
		if (!used && ((int)text[k].len <= w || k == 2))
			used = console_put(y, x, text[k].data, text[k].len, w);
		buf_release(&text[k]);
	}
	return used;
}
