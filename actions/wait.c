/* wait: a pause of a given duration (for=DURATION) on the loop's clock.
 * wait {stop=NAME} is carried out by the engine, which owns background
 * tasks; wait {until=PROBE:STATE} by the engine too, which owns probes:
 * neither reaches this file's start. The action's deadline (timeout=) is
 * the engine's, like every action's. */
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "runbooks/duration.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct action_run {
	struct action_ctx ctx;
	uint64_t timer;
	int64_t started_ns;
	struct action_later later;
};

static int wait_describe(const struct action *a, const struct action_target *t,
			 var_lookup_fn *lookup, void *arg, struct buf *out,
			 struct err *e)
{
	char text[DURATION_TEXT_MAX];
	(void)t;
	(void)lookup;
	(void)arg;
	(void)e;
	if (a->stop) {
		buf_addf(out, "stop the background action '%s' and wait for it", a->stop);
	} else if (a->probe || a->until) {
		const char *colon = a->until ? strchr(a->until, ':') : NULL;
		if (colon)
			buf_addf(out, "wait until probe '%.*s' is %s", (int)(colon - a->until),
				 a->until, colon + 1);
		else
			buf_addf(out, "wait until probe '%s' is ok", a->probe ? a->probe : a->until);
		if (a->within_ms >= 0) {
			duration_format(a->within_ms, text);
			buf_addf(out, " (within %s)", text);
		}
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
	action_later_done(&r->later, r->ctx.loop, &r->ctx.sink, &res);
}

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	struct action_result res = { .status = ACTION_OK, .exit_code = -1 };
	(void)l;
	(void)id;
	r->timer = 0;
	res.duration_ns = clock_mono_ns() - r->started_ns;
	action_summary(&res, "waited");
	r->ctx.sink.done(r->ctx.sink.arg, &res);
}

static struct action_run *wait_start(const struct action *a,
				     const struct action_ctx *ctx,
				     struct err *e)
{
	if (a->probe || a->until || a->for_ms < 0) {
		err_set(e, "a wait without for= is carried out by the engine");
		return NULL;
	}
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->started_ns = clock_mono_ns();
	r->timer = loop_timer_add(ctx->loop, a->for_ms, on_timer, r);
	return r;
}

static void wait_cancel(struct action_run *r, enum action_cancel_reason why)
{
	(void)why;
	if (!r->timer)
		return; /* already done, or already cancelled */
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
	action_later_release(&r->later);
	free(r);
}

const struct action_entry action_wait = {
	.kind = ACTION_WAIT,
	.describe = wait_describe,
	.start = wait_start,
	.cancel = wait_cancel,
	.free = wait_free,
};
