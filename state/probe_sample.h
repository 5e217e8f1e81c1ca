/* probe_sample: what one sample of a probe says — its values, its state
 * and the value shown — from the result of the action that took it. Pure
 * functions: the engine (state/run_probe.c) calls them for every sample,
 * the tests call them on their own.
 *
 * Values: the action's result values, and qrh's own, which never replace
 * one of the action's:
 *   result      the action's status: ok, failed, timeout, error, unknown,
 *               cancelled
 *   summary     the action's one line
 *   latency_ms  how long the sample took
 *   exit        a command's exit status (sh, exec, velero; ssh: the
 *               remote shell's)
 *   line        a command's first line of standard output (sh, exec,
 *               ssh); when
 *               that line is a JSON object, its members are values too
 *               (a command can report {"lag_seconds": 3})
 *
 * State, in this order: fail when the probe's fail condition holds, warn
 * when its warn condition holds, ok when its ok condition holds; when none
 * holds: unknown when the sample got no answer (result timeout, error,
 * unknown or cancelled), fail when the probe has an ok condition (an
 * answer that is not ok), else the action's own verdict (ok, or fail when
 * it failed).
 *
 * The value shown is the value the probe's `value` names, else the kind's
 * own: http status, the first column of an sql first_row, a velero phase,
 * a command's line (or its exit status when it printed nothing); else the
 * result. */
#ifndef QRH_STATE_PROBE_SAMPLE_H
#define QRH_STATE_PROBE_SAMPLE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/action.h"
#include "runbooks/condition.h"
#include "runbooks/model.h"
#include "runbooks/probe_spec.h"

#define PROBE_LINE_MAX 512
#define PROBE_VALUE_MAX 64

/* A probe's conditions, parsed once. */
struct probe_conds {
	struct cond c[PROBE_STATE_COUNT]; /* by state: ok, warn, fail */
	bool has[PROBE_STATE_COUNT];
};

/* 0, or -1 with the message of the first that does not parse (the loader
 * has checked them: only a runbook built by hand can fail here). */
int probe_conds_parse(const struct probe *p, struct probe_conds *out,
		      char msg[COND_MSG_MAX]);
void probe_conds_release(struct probe_conds *pc);

/* The kinds whose first line of output is a value: commands, local or
 * remote (ssh). */
bool probe_kind_has_line(enum action_kind kind);
/* A new object (the caller deletes it): the values described above. res
 * values may be NULL; line is the first line of standard output (NULL:
 * none, or not a command: probe_kind_has_line). */
cJSON *probe_sample_values(enum action_kind kind, const struct action_result *res,
			   const cJSON *action_values, const char *line,
			   int64_t latency_ms);
enum probe_state probe_sample_state(const struct probe_conds *pc,
				    const cJSON *values,
				    enum action_status result);
/* The value shown, as text (cut to fit); false when there is none. */
bool probe_sample_shown(const struct probe *p, const cJSON *values, char *out,
			size_t n);

#endif
