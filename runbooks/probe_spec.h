/* probe_spec: the states of a probe, and the moments and sources a runbook
 * names in its objectives and waits.
 *
 *   a moment (objectives rto_start, rto_stop):
 *       step:ID:start   the step's first start
 *       step:ID:end     the step's first successful end (ok or done by hand)
 *       probe:NAME:STATE  the first sample of the probe in that state, after
 *                       a sample in another state (a change of state)
 *   a source (objectives rpo_from):
 *       step:ID         the values of the step's last action that has them
 *       probe:NAME      the values of the probe's last sample
 *   a wait (wait {until=NAME:STATE}): the probe is in that state
 * STATE is ok, warn, fail or unknown. Pure functions. */
#ifndef QRH_RUNBOOKS_PROBE_SPEC_H
#define QRH_RUNBOOKS_PROBE_SPEC_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/model.h"

enum probe_state {
	PROBE_UNKNOWN, /* no answer: timed out, unreachable, not sampled yet */
	PROBE_OK,
	PROBE_WARN,
	PROBE_FAIL,
	PROBE_STATE_COUNT
};

/* "unknown", "ok", "warn", "fail". */
const char *probe_state_name(enum probe_state s);
/* 0 and *out, or -1 for anything but the four names. */
int probe_state_parse(const char *s, enum probe_state *out);

enum mark_kind {
	MARK_STEP_START,
	MARK_STEP_END,
	MARK_PROBE_STATE,
	MARK_STEP,  /* a source */
	MARK_PROBE, /* a source */
};

#define MARK_MOMENT 1u /* accept step:ID:start|end and probe:NAME:STATE */
#define MARK_SOURCE 2u /* accept step:ID and probe:NAME */

struct mark {
	enum mark_kind kind;
	char name[QRH_MAX_ID_LEN + 1];
	enum probe_state state; /* MARK_PROBE_STATE */
};

/* 0 and *out, or -1 with *why (a complete lowercase phrase). */
int mark_parse(const char *s, unsigned accept, struct mark *out,
	       const char **why);
/* "probe:NAME:STATE" (the canonical text of a parsed mark). */
void mark_format(const struct mark *m, char *out, size_t n);
/* "NAME:STATE" of a wait; 0 or -1 with *why. */
int probe_until_parse(const char *s, char name[QRH_MAX_ID_LEN + 1],
		      enum probe_state *state, const char **why);

#endif
