/* The kinds whose executors are not in this version: they load, check and
 * describe like any other, but starting one is refused with a clear error,
 * so a runbook never silently skips a step it could not do. */
#include "actions/action.h"

static int describe(const struct action *a, const struct action_target *tg,
		    var_lookup_fn *lookup, void *arg, struct buf *out,
		    struct err *e)
{
	(void)tg;
	struct buf t;
	buf_init(&t, 65536);
	(void)e;
	buf_addf(out, "%s", action_kind_name(a->kind));
	if (a->target)
		buf_addf(out, " on %s", a->target);
	if (a->url && vars_expand(a->url, lookup, arg, &t, e) == 0)
		buf_addf(out, " %s %s", a->method ? a->method : "GET", t.data);
	buf_release(&t);
	if (a->body)
		buf_addf(out, ":\n%s", a->body);
	for (size_t i = 0; i < a->argv.n; i++)
		buf_addf(out, " %s", a->argv.v[i]);
	return 0;
}

static struct action_run *start(const struct action *a,
				const struct action_ctx *ctx, struct err *e)
{
	(void)ctx;
	err_set(e, "the %s executor is not available in this version of qrh",
		action_kind_name(a->kind));
	return NULL;
}

static void nothing(struct action_run *r)
{
	(void)r;
}

static void no_cancel(struct action_run *r, enum action_cancel_reason why)
{
	(void)r;
	(void)why;
}

#define UNAVAILABLE(var, k)                                                   \
	const struct action_entry var = { .kind = k,                          \
					  .describe = describe,               \
					  .start = start,                     \
					  .cancel = no_cancel,                  \
					  .free = nothing }

UNAVAILABLE(action_ssh_unavailable, ACTION_SSH);
UNAVAILABLE(action_sql_unavailable, ACTION_SQL);
UNAVAILABLE(action_velero_unavailable, ACTION_VELERO);
