/* objectives: the RTO and RPO of a run, and its probes' states, as the
 * journal's events add them up (part of the fold, state/fold.h).
 *
 * The objectives event says what the run is measured against. The RTO
 * clock starts at the first event matching its start moment and stops at
 * the first event after that matching its stop moment
 * (runbooks/probe_spec.h):
 *   step:ID:start   the step's step_start (its first attempt's)
 *   step:ID:end     the step's step_end with status ok, or its
 *                   step_done_by_hand
 *   probe:NAME:S    a probe_state of that probe into state S, at the
 *                   middle of its sample's run ("at_wall_ms", "at_mono_ns")
 * A stop moment of a probe already in that state when the clock starts
 * stops it at once (the service was already back). The measured RTO is
 * stop - start on the monotonic clock (the wall clock across a reboot).
 *
 * RPO from a step: the values "window_ms" (the measured RPO) and
 * "rows_lost" of the last action_end or task_end of that step that has
 * either. RPO from a probe: its last sample's values, which are rows of
 * probe_samples, not events: report.c and the engine read them and call
 * objectives_rpo_values. Runs journaled before the objectives event have
 * their budgets from the run row's vars (objectives_from_vars) and no
 * marks.
 *
 * Probes: each probe_start makes it polling until its probe_stop; each
 * probe_state is a change, kept in order. */
#ifndef QRH_STATE_OBJECTIVES_H
#define QRH_STATE_OBJECTIVES_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runbooks/probe_spec.h"
#include "state/journal.h"

/* When something happened, as the chain says it. */
struct fold_moment {
	int64_t seq; /* the event; 0: not (yet) */
	int64_t wall_ms;
	int64_t mono_ns;
	int segment;
};

struct fold_probe_change {
	int64_t seq;
	int64_t wall_ms; /* when the sample started */
	enum probe_state state;
	char *value;     /* NULL: none */
};

struct fold_probe {
	char *name;
	char *kind;
	int64_t interval_ms, timeout_ms;
	bool polling;
	enum probe_state state;
	struct fold_probe_change *changes;
	size_t n_changes;
};

struct fold_objectives {
	bool recorded; /* an objectives event, or budgets from vars */
	int64_t rto_budget_ms, rpo_budget_ms; /* -1: none */
	bool has_start, has_stop, has_rpo_from;
	struct mark start, stop, rpo_from;
	struct fold_moment started, stopped;
	int64_t rpo_window_ms, rpo_rows_lost; /* STEP_NONE: not measured */
	int64_t rpo_seq; /* the event or sample that measured it */
};

struct run_fold;

/* The fold's part: every event goes through it. */
void objectives_fold_event(struct run_fold *f, const struct journal_event *ev,
			   const cJSON *p, int segment);
void objectives_fold_init(struct run_fold *f);
void objectives_fold_release(struct run_fold *f);
/* Budgets of a run journaled before the objectives event. */
void objectives_from_vars(struct run_fold *f, const char *vars_json);
const struct fold_probe *fold_probe_by_name(const struct run_fold *f,
					    const char *name);

/* The source's values: window_ms and rows_lost when present (true then). */
bool objectives_rpo_values(struct fold_objectives *o, const cJSON *values,
			   int64_t seq);

/* The RTO clock at a moment (now, for a live run; the end for an ended one). */
enum rto_phase {
	RTO_NONE,        /* no RTO objective and no marks */
	RTO_NOT_STARTED,
	RTO_RUNNING,
	RTO_STOPPED,
};

struct rto_clock {
	enum rto_phase phase;
	int64_t budget_ms;  /* -1: none */
	int64_t elapsed_ms; /* running: so far; stopped: the measured RTO */
	bool over;          /* elapsed past the budget */
	int met;            /* stopped: 1 met, 0 not met; -1 not known */
};

/* ended: the run has ended (a clock still running then never stopped:
 * not met, elapsed to the run's end). */
void objectives_rto_clock(const struct run_fold *f, int64_t now_wall_ms,
			  int64_t now_mono_ns, struct rto_clock *out);
/* The measured RTO in ms, STEP_NONE while not stopped. */
int64_t objectives_rto_measured_ms(const struct run_fold *f);
/* RPO met: 1, 0, or -1 (no budget or nothing measured). */
int objectives_rpo_met(const struct fold_objectives *o);

#endif
