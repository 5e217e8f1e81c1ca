/* report: what a run did, derived from its journal alone — for qrh show,
 * qrh export and anything else that reads a finished (or live) run.
 *
 * The events are the truth (state/events.h), folded by the same code the
 * engine and a resume use (state/fold.h, state/step.h); the run row adds
 * the header. Step titles and ids come from the runbook text stored with
 * the run. If that text no longer loads (a newer loader refuses it, say),
 * the steps are rebuilt from the events' "step_id" members and have no
 * title. Events are matched to steps by step_id first and by index second,
 * as resume does, so a run resumed on an edited runbook still adds up.
 *
 * A step still running after the last event is "running" while the run
 * has no outcome and "interrupted" once it has one (qrh died, the run was
 * ended anyway). The head is the last event read, so a report of a live
 * run is one consistent prefix of it.
 *
 * Absent numbers are REPORT_NONE; absent strings are NULL (or "" for the
 * fixed-size hashes). Everything in a struct run_report is owned by it
 * and freed by report_release. Library code: nothing here prints. */
#ifndef QRH_STATE_REPORT_H
#define QRH_STATE_REPORT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#include "state/fold.h"
#include "state/journal.h"
#include "state/step.h"
#include "util/buf.h"
#include "util/err.h"

#define REPORT_NONE STEP_NONE

/* One output stream of the step's last attempt: the chain's record. */
struct report_stream {
	int64_t bytes;				/* REPORT_NONE: unknown */
	char sha256[JOURNAL_HASH_LEN + 1];	/* "": unknown, or several tasks */
	int truncated;				/* -1: unknown */
	int64_t lost;				/* REPORT_NONE: not recorded */
};

struct report_step {
	int64_t index;			/* the journal's step number, from 0 */
	char *id;
	char *title;			/* NULL: not in the stored runbook */
	enum step_status status;
	int64_t started_ms;		/* wall, first attempt */
	int64_t ended_ms;		/* wall, last end/skip/done by hand */
	int64_t duration_ms;		/* monotonic, last attempt's own */
	int64_t elapsed_ms;		/* first start to the end: its wall time */
	int attempts;
	int64_t exit_code;
	char *confirmed_by;		/* actor of the last step_confirm */
	char *confirmed_how;		/* enter, typed, yes-flag, auto, ... */
	char *closed_by;		/* actor of a skip or done by hand */
	char *summary;			/* step_end's one line */
	char *detail;			/* skip reason or done-by-hand note */
	struct report_stream out;
	struct report_stream err;
	const struct step_state *state;	/* every attempt, in the fold */
};

struct report_note {
	int64_t seq;
	int64_t wall_ms;
	int64_t step;			/* JOURNAL_NO_STEP for the run */
	char *actor;
	char *text;
};

/* A probe of the run: what its events say (fold) and what its samples
 * count (probe_samples). */
struct report_probe {
	const struct fold_probe *fp; /* kind, interval, changes of state */
	int64_t samples, skipped;
	int64_t late_worst_ms;
};

struct run_report {
	struct journal_run run;		/* the run row, runbook text included */
	int runbook_loaded;		/* 0: steps rebuilt from events */
	struct report_step *steps;
	size_t n_steps;
	struct report_note *notes;
	size_t n_notes;
	int64_t n_events;
	struct journal_head head;	/* the last event read */
	struct run_fold fold;		/* segments, operators, tasks, ... */
	struct report_probe *probes;	/* in the fold's order */
	size_t n_probes;
	struct fold_objectives obj;	/* the fold's, with a probe's RPO */
};

/* Derive the report of run `run_id`: 1 and *out filled, 0 no such run,
 * -1 on error. */
int report_load(struct journal *j, int64_t run_id, struct run_report *out,
		struct err *e);
/* Leaves *r zeroed. */
void report_release(struct run_report *r);

/* The evidence document, appended to *out as pretty-printed JSON:
 *   {"run": {"id", "runbook", "runbook_sha256", "title", "operator",
 *            "host", "mode", "started_at", "ended_at", "outcome"},
 *    "steps": [{"index", "id", "title", "status", "started_at",
 *               "ended_at", "duration_ms", "attempts", "exit_code",
 *               "confirmed_by": {"actor", "how"}, "output_bytes",
 *               "output_sha256", "output_truncated", "output_lost_bytes",
 *               "stderr_bytes", "stderr_sha256", "stderr_lost_bytes"}],
 *    "objectives": {"rto": {"budget_ms", "measured_ms", "started_at",
 *                           "stopped_at", "start_event", "stop_event",
 *                           "met"},
 *                   "rpo": {"budget_ms", "measured_ms", "rows_lost",
 *                           "met", "source", "evidence"}},
 *    "probes": [{"name", "kind", "interval_ms", "timeout_ms", "samples",
 *                "skipped", "late_worst_ms", "states": [{"at", "state",
 *                "value", "seq"}]}],
 *    "events": [{"seq", "time", "mono_ns", "step", "type", "actor",
 *                "payload", "prev_hash", "hash"}],
 *    "head": {"seq", "hash"}}
 * Times are RFC 3339 UTC with milliseconds, durations milliseconds from
 * the monotonic clock, absent values null. output_* is the stdout of the
 * last attempt. *_lost_bytes (bytes the journal could not store) appear
 * only when the step's end event records them (events written before
 * qrh recorded losses do not), so older journals export as they did. "payload" is the event's payload as a JSON object; the
 * hash covers its stored text, which a re-serialization need not match
 * byte for byte. The events are re-read from `j` up to r->head, so the
 * document matches the report even while the run goes on.
 *
 * Objectives: "rto" is null when the run has no RTO budget and no marks,
 * "rpo" likewise. measured_ms is the RTO clock's stop - start (monotonic;
 * wall clock across a reboot), null while it has not stopped; met is null
 * without a budget or a measure, false when the run ended with the clock
 * running. start_event and stop_event are {"seq", "mark"}: the event that
 * started or stopped the clock and the moment it matched (probe:NAME:STATE,
 * step:ID:start, step:ID:end), or null. The RPO's measured_ms is
 * "window_ms" and rows_lost "rows_lost" of its source's values: a step's
 * last action_end or task_end that has them (evidence {"event": seq}), or a
 * probe's last sample that has them (evidence {"sample": seq}).
 * Probes: samples, skipped and late_worst_ms are counted over the rows of
 * probe_samples; states are the probe_state events, "at" the moment the
 * sample started. */
int report_export_json(struct journal *j, const struct run_report *r,
		       struct buf *out, struct err *e);

/* A wall clock that moved this much more or less than the monotonic
 * clock between two events of one boot was stepped (or the machine was
 * suspended): the document flags it. */
#define REPORT_CLOCK_JUMP_MS 500

/* The members report_export_json adds for an auditor (state/
 * report_evidence.c), to doc as built so far:
 *   run: "in_progress" (no outcome yet), "os_user", "uid"
 *   "vars": {NAME: value} as the run recorded them (secret ones "***")
 *   "budgets": {"rto_ms", "rpo_ms"} as the runbook declared them
 *   sessions[]: "at_ms" (its start on the run's clock, as below)
 *   "handovers": [{"seq", "at", "at_ms", "from", "to", "to_os_user"}]
 *   "notes": [{"seq", "at", "step", "step_id", "actor", "text"}]
 *   steps[]: "timings": [{"attempt", "status", "started_at", "ended_at",
 *            "duration_ms", "exit_code", "summary", "at_ms" (its start
 *            on the run's clock: ms from the run's start, monotonic
 *            within a boot), "session", "actions": [{"action" (from 0),
 *            "kind", "command" (masked), "target" (resolved, no secret;
 *            null: none), "fanout" ({"group", "members", "parallel",
 *            "require", "names"}; null: one target), "task", "status",
 *            "exit_code", "duration_ms", "summary", "values", and for a
 *            fan-out "hosts": [{"label", "task", "status" (not_run: never
 *            started), "exit_code", "duration_ms", "summary"}]}]}],
 *            "summary", "closed": {"how" (skipped | done_by_hand), "by",
 *            "text"} or null
 *   "picks": [{"seq", "at", "step", "step_id", "actor", "name", "value"}]
 *            values the operator picked from an action's choices
 *   "interruptions": [{"seq", "at", "step", "step_id", "attempt",
 *            "survivors": [{"task", "pgid", "command", "started_ms_ago"}]}]
 *            steps a resume found running when qrh had died
 *   "reaped": [{"seq", "at", "step", "step_id", "task", "pgid", "how"}]
 *            background tasks of an earlier session found on a resume
 *   "survivor_choices": [{"seq", "at", "step", "step_id", "actor", "what"
 *            (wait | stop | end), "pgids" (wait, stop), "task", "pgid",
 *            "how" (ended | stopped | killed) and "after_ms" (end)}]
 *            what the operator chose for an interrupted step's
 *            survivors, and how each went
 *   "clock": {"wall", "monotonic", "durations" (the sources, in words),
 *            "boots", "jump_threshold_ms", "wall_jumps": [{"seq", "at",
 *            "wall_ms", "monotonic_ms", "jump_ms"}]}
 *   "approvals": [{"seq", "at", "step", "type", "actor", "payload"}] and
 *   "notifications_failed" (the same, notify_failed events): only when
 *            the run has any. */
int report_evidence_json(struct journal *j, const struct run_report *r,
			 cJSON *doc, struct err *e);

/* One objective of an evidence document ("rto", "rpo") in words,
 * appended to b: "RTO 4m 12s of a 15m 00s budget: met" from the
 * document's "objectives" when the run measured it, else "RTO budget
 * 15m 00s: not measured" from "budgets". False when it has neither. */
bool report_objective_words(const cJSON *doc, const char *name, struct buf *b);

#endif
