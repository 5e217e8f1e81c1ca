/* Probe states, moments and sources (runbooks/probe_spec.h). */
#include "runbooks/probe_spec.h"

#include <stdio.h>
#include <string.h>

#include "runbooks/fields.h"

static const char *const state_names[PROBE_STATE_COUNT] = {
	[PROBE_UNKNOWN] = "unknown", [PROBE_OK] = "ok",
	[PROBE_WARN] = "warn",	     [PROBE_FAIL] = "fail",
};

const char *probe_state_name(enum probe_state s)
{
	return (unsigned)s < PROBE_STATE_COUNT ? state_names[s] : "unknown";
}

int probe_state_parse(const char *s, enum probe_state *out)
{
	for (int i = 0; i < PROBE_STATE_COUNT; i++) {
		if (!strcmp(s, state_names[i])) {
			*out = (enum probe_state)i;
			return 0;
		}
	}
	return -1;
}

/* Copies the id between p and the next ':' (or the end) into name. */
static const char *take_id(const char *p, char name[QRH_MAX_ID_LEN + 1])
{
	size_t n = strcspn(p, ":");
	if (n == 0 || n > QRH_MAX_ID_LEN)
		return NULL;
	memcpy(name, p, n);
	name[n] = '\0';
	return field_valid_id(name) ? p + n : NULL;
}

static int step_mark(const char *rest, unsigned accept, struct mark *m,
		     const char **why)
{
	const char *p = take_id(rest, m->name);
	if (!p)
		return *why = "a step id must follow 'step:'", -1;
	if (!*p && (accept & MARK_SOURCE))
		return m->kind = MARK_STEP, 0;
	if ((accept & MARK_MOMENT) && !strcmp(p, ":start"))
		return m->kind = MARK_STEP_START, 0;
	if ((accept & MARK_MOMENT) && !strcmp(p, ":end"))
		return m->kind = MARK_STEP_END, 0;
	return *why = (accept & MARK_MOMENT) ? "write step:ID:start or step:ID:end"
					      : "write step:ID", -1;
}

static int probe_mark(const char *rest, unsigned accept, struct mark *m,
		      const char **why)
{
	const char *p = take_id(rest, m->name);
	if (!p)
		return *why = "a probe name must follow 'probe:'", -1;
	if (!*p && (accept & MARK_SOURCE))
		return m->kind = MARK_PROBE, 0;
	if ((accept & MARK_MOMENT) && *p == ':' && probe_state_parse(p + 1, &m->state) == 0)
		return m->kind = MARK_PROBE_STATE, 0;
	return *why = (accept & MARK_MOMENT)
			      ? "write probe:NAME:STATE with STATE ok, warn, fail or unknown"
			      : "write probe:NAME", -1;
}

int mark_parse(const char *s, unsigned accept, struct mark *out,
	       const char **why)
{
	memset(out, 0, sizeof *out);
	if (!strncmp(s, "step:", 5))
		return step_mark(s + 5, accept, out, why);
	if (!strncmp(s, "probe:", 6))
		return probe_mark(s + 6, accept, out, why);
	*why = (accept & MARK_MOMENT) ? "write step:ID:start, step:ID:end or probe:NAME:STATE"
				      : "write step:ID or probe:NAME";
	return -1;
}

void mark_format(const struct mark *m, char *out, size_t n)
{
	switch (m->kind) {
	case MARK_STEP_START: snprintf(out, n, "step:%s:start", m->name); break;
	case MARK_STEP_END: snprintf(out, n, "step:%s:end", m->name); break;
	case MARK_PROBE_STATE:
		snprintf(out, n, "probe:%s:%s", m->name, probe_state_name(m->state));
		break;
	case MARK_STEP: snprintf(out, n, "step:%s", m->name); break;
	case MARK_PROBE: snprintf(out, n, "probe:%s", m->name); break;
	}
}

int probe_until_parse(const char *s, char name[QRH_MAX_ID_LEN + 1],
		      enum probe_state *state, const char **why)
{
	const char *p = take_id(s, name);
	if (!p || *p != ':' || probe_state_parse(p + 1, state) < 0)
		return *why = "write until=PROBE:STATE with STATE ok, warn, fail or unknown", -1;
	return 0;
}
