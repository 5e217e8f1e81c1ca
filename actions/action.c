#include "actions/action.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

extern const struct action_entry action_sh, action_exec, action_wait, action_velero,
	action_ssh, action_sql, action_http;

const struct action_entry *action_entry_for(enum action_kind k)
{
	static const struct action_entry *const table[ACTION_KIND_COUNT] = {
		[ACTION_SH] = &action_sh,
		[ACTION_EXEC] = &action_exec,
		[ACTION_SSH] = &action_ssh,
		[ACTION_HTTP] = &action_http,
		[ACTION_SQL] = &action_sql,
		[ACTION_VELERO] = &action_velero,
		[ACTION_WAIT] = &action_wait,
	};
	return (unsigned)k < ACTION_KIND_COUNT ? table[k] : NULL;
}

void action_summary(struct action_result *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(r->summary, sizeof r->summary, fmt, ap);
	va_end(ap);
}

const char *action_status_name(enum action_status s)
{
	static const char *const names[] = {
		[ACTION_OK] = "ok",		[ACTION_FAILED] = "failed",
		[ACTION_TIMEOUT] = "timeout",	[ACTION_CANCELLED] = "cancelled",
		[ACTION_ERROR] = "error",	[ACTION_UNKNOWN] = "unknown",
	};
	return (unsigned)s < sizeof names / sizeof *names ? names[s] : "?";
}

const char *target_kind_name(enum target_kind k)
{
	static const char *const names[] = {
		[TARGET_NONE] = "none",	    [TARGET_SSH] = "ssh",
		[TARGET_POSTGRES] = "postgres", [TARGET_HTTP] = "http",
		[TARGET_KUBERNETES] = "kubernetes", [TARGET_GROUP] = "group",
	};
	return (unsigned)k < sizeof names / sizeof *names ? names[k] : "?";
}

/* ---- done, later ---- */

static void later_fire(struct loop *loop, uint64_t id, void *arg)
{
	struct action_later *l = arg;
	(void)loop;
	(void)id;
	l->timer = 0;
	struct action_result res = l->res;
	struct action_sink sink = l->sink;
	cJSON *values = l->values;
	l->values = NULL;
	res.values = values;
	/* the callback may free the run that embeds l: l is not read after */
	sink.done(sink.arg, &res);
	cJSON_Delete(values);
}

void action_later_done(struct action_later *l, struct loop *loop,
		       const struct action_sink *sink,
		       const struct action_result *res)
{
	action_later_release(l);
	l->loop = loop;
	l->sink = *sink;
	l->res = *res;
	l->res.values = NULL;
	l->values = res->values ? cJSON_Duplicate(res->values, 1) : NULL;
	l->timer = loop_timer_add(loop, 0, later_fire, l);
}

bool action_later_pending(const struct action_later *l)
{
	return l->timer != 0;
}

void action_later_release(struct action_later *l)
{
	if (l->timer)
		loop_timer_cancel(l->loop, l->timer);
	l->timer = 0;
	cJSON_Delete(l->values);
	l->values = NULL;
}
