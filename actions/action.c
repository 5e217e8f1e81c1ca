#include "actions/action.h"

#include <stdarg.h>
#include <stdio.h>

extern const struct action_entry action_sh, action_exec, action_wait;
extern const struct action_entry action_ssh_unavailable,
	action_http_unavailable, action_sql_unavailable,
	action_velero_unavailable;

const struct action_entry *action_entry_for(enum action_kind k)
{
	static const struct action_entry *const table[ACTION_KIND_COUNT] = {
		[ACTION_SH] = &action_sh,
		[ACTION_EXEC] = &action_exec,
		[ACTION_SSH] = &action_ssh_unavailable,
		[ACTION_HTTP] = &action_http_unavailable,
		[ACTION_SQL] = &action_sql_unavailable,
		[ACTION_VELERO] = &action_velero_unavailable,
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
