/* wait: a pause of a given duration (for=DURATION) on the loop's clock.
 * wait {stop=NAME} is carried out by the engine, which owns background
 * processes; wait {probe=NAME} needs probes, which this version lacks. */
#include <stdlib.h>

#include "actions/action.h"
#include "runbooks/duration.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct action_run {
	struct action_ctx ctx;
	uint64_t timer;
	bool timeout; /* the timer is the action's timeout, not its end */
	int64_t started_ns;
	int done;
};

static int wait_describe(const struct action *a, var_lookup_fn *lookup,
			 void *arg, struct buf *out, struct err *e)
{
	char text[DURATION_TEXT_MAX];
	(void)lookup;
	(void)arg;
	(void)e;
	if (a->stop) {
		buf_addf(out, "stop the background process '%s' and wait for it", a->stop);
	} else if (a->probe) {
		buf_addf(out, "wait for probe '%s'", a->probe);
	} else {
		duration_format(a->for_ms, text);
		buf_addf(out, "wait %s", text);
	}
	return 0;
}

static void finish(struct action_run *r, enum action_status st,
		   const char *what)
{
	struct action_result res = { .status = st, .exit_code = -1 };
	res.duration_ns = clock_mono_ns() - r->started_ns;
	action_summary(&res, "%s", what);
	r->done = 1;
	r->ctx.on_done(r->ctx.arg, &res);
}

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	(void)l;
	(void)id;
	r->timer = 0;
	if (r->timeout)
		finish(r, ACTION_TIMEOUT, "timed out");
	else
		finish(r, ACTION_OK, "waited");
}

static struct action_run *wait_start(const struct action *a,
				     const struct action_ctx *ctx,
				     struct err *e)
{
	if (a->probe || a->for_ms < 0) {
		err_set(e, "waiting for a probe is not available in this version of qrh");
		return NULL;
	}
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->started_ns = clock_mono_ns();
	r->timeout = a->timeout_ms > 0 && a->timeout_ms < a->for_ms;
	r->timer = loop_timer_add(ctx->loop, r->timeout ? a->timeout_ms : a->for_ms,
				  on_timer, r);
	return r;
}

static void wait_cancel(struct action_run *r)
{
	if (r->done)
		return;
	loop_timer_cancel(r->ctx.loop, r->timer);
	r->timer = 0;
	finish(r, ACTION_CANCELLED, "cancelled");
}

static void wait_free(struct action_run *r)
{
	if (!r)
		return;
	if (r->timer)
		loop_timer_cancel(r->ctx.loop, r->timer);
	free(r);
}

const struct action_entry action_wait = {
	.kind = ACTION_WAIT,
	.describe = wait_describe,
	.start = wait_start,
	.cancel = wait_cancel,
	.free = wait_free,
};
