/* Drill faults (runbooks/fault.h). */
#include "runbooks/fault.h"

#include <stdio.h>
#include <string.h>

#include "runbooks/duration.h"
#include "runbooks/fields.h"

static const char *const names[] = {
	[FAULT_REPLICA_LAG] = "replica-lag",
	[FAULT_DR_SLOW] = "dr-slow",
	[FAULT_VELERO_OUTCOME] = "velero-outcome",
	[FAULT_FAIL_ONCE] = "fail-once",
	[FAULT_PRIMARY_REFUSES] = "primary-refuses",
};

const char *fault_name(enum fault_kind k)
{
	return names[k];
}

int fault_in_sandbox(const struct fault *f)
{
	return f->kind != FAULT_FAIL_ONCE;
}

bool fault_step_known(const struct runbook *rb, const struct fault *f)
{
	if (f->kind != FAULT_FAIL_ONCE)
		return true;
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].id && !strcmp(rb->steps[i].id, f->value))
			return true;
	return false;
}

int fault_parse(const char *spec, struct fault *out, char msg[FAULT_MSG_MAX])
{
	const char *eq = strchr(spec, '=');
	size_t n = eq ? (size_t)(eq - spec) : strlen(spec);
	const char *v = eq ? eq + 1 : NULL;
	const char *why;
	memset(out, 0, sizeof *out);
	size_t k = 0;
	for (; k < sizeof names / sizeof *names; k++)
		if (strlen(names[k]) == n && !strncmp(spec, names[k], n))
			break;
	if (k == sizeof names / sizeof *names) {
		snprintf(msg, FAULT_MSG_MAX, "unknown fault '%.*s' (replica-lag, dr-slow, "
			 "velero-outcome, fail-once or primary-refuses)", (int)(n > 40 ? 40 : n), spec);
		return -1;
	}
	out->kind = (enum fault_kind)k;
	switch (out->kind) {
	case FAULT_REPLICA_LAG:
	case FAULT_DR_SLOW:
		if (!v || duration_parse(v, &out->ms, &why) < 0 || out->ms <= 0 ||
		    out->ms % 1000) {
			snprintf(msg, FAULT_MSG_MAX, "%s takes a duration in whole seconds, "
				 "e.g. %s=45s", names[k], names[k]);
			return -1;
		}
		return 0;
	case FAULT_VELERO_OUTCOME:
		if (!v || (strcmp(v, "PartiallyFailed") && strcmp(v, "Failed"))) {
			snprintf(msg, FAULT_MSG_MAX, "velero-outcome takes PartiallyFailed or Failed");
			return -1;
		}
		snprintf(out->value, sizeof out->value, "%s", v);
		return 0;
	case FAULT_FAIL_ONCE:
		if (!v || !field_valid_id(v)) {
			snprintf(msg, FAULT_MSG_MAX, "fail-once takes a step id, e.g. fail-once=promote");
			return -1;
		}
		snprintf(out->value, sizeof out->value, "%s", v);
		return 0;
	case FAULT_PRIMARY_REFUSES:
		if (v) {
			snprintf(msg, FAULT_MSG_MAX, "primary-refuses takes no value");
			return -1;
		}
		return 0;
	}
	return -1;
}
