/* step: the status of a step, and the one function that changes it.
 *
 * A step's status changes only through step_apply, from a journal event:
 * the live engine builds the event, checks the change with step_allowed,
 * journals it and then applies it; a resume, `qrh watch`, `qrh show` and
 * `qrh export` read the same events back through the same step_apply. So a
 * step can reach a status only the way the journal records it, and every
 * reader of the journal agrees with the engine that wrote it.
 *
 * Statuses and the events that lead to them:
 *   pending       nothing happened yet
 *   running       step_start (attempt N); from pending, failed, timeout,
 *                 cancelled, interrupted (run again), retry_wait
 *   ok, failed, timeout, cancelled
 *                 step_end with that status; from running
 *   retry_wait    step_retry; from failed or timeout: the next attempt
 *                 starts after a backoff
 *   cancelled     also step_cancel: the operator cancelled a retry_wait
 *   skipped       step_skip; from any status that is not running,
 *                 retry_wait or final
 *   done_by_hand  step_done_by_hand; likewise
 *   interrupted   step_interrupted; from running: qrh died while it ran,
 *                 its outcome is unknown
 * step_confirm records who confirmed and how; it changes no status.
 *
 * Times: wall clock for display, the monotonic clock for durations. Each
 * event also names the boot it was written in (the run's segments: see
 * state/fold.h), so a duration across a reboot falls back to wall time. */
#ifndef QRH_STATE_STEP_H
#define QRH_STATE_STEP_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "state/journal.h"

#define STEP_NONE INT64_MIN /* a number that is not known */
#define STEP_SUMMARY_MAX 256

enum step_status {
	STEP_PENDING,
	STEP_RUNNING,
	STEP_RETRY_WAIT,
	STEP_OK,
	STEP_FAILED,
	STEP_TIMEOUT,
	STEP_CANCELLED,
	STEP_SKIPPED,
	STEP_DONE_BY_HAND,
	STEP_INTERRUPTED,
	STEP_STATUS_COUNT
};

/* The journal's name ("done_by_hand") and the words for people ("done by
 * hand"). */
const char *step_status_name(enum step_status s);
const char *step_status_words(enum step_status s);
/* The status named by a journal's name; STEP_FAILED for anything else. */
enum step_status step_status_parse(const char *name);
/* Finished for good: ok, skipped or done by hand. */
bool step_status_final(enum step_status s);

/* One attempt: its own times and result. */
struct step_attempt {
	int n; /* from 1 */
	int64_t started_wall_ms;
	int64_t started_mono_ns;
	int segment; /* the run segment it started in (state/fold.h) */
	int64_t ended_wall_ms;  /* STEP_NONE while it runs */
	int64_t duration_ms;    /* monotonic, its own; STEP_NONE while it runs */
	enum step_status status; /* running until its step_end */
	int64_t exit_code;      /* STEP_NONE: none */
	char summary[STEP_SUMMARY_MAX];
};

struct step_state {
	enum step_status status;
	int attempt; /* the last attempt started; 0 before the first */
	struct step_attempt *attempts; /* attempts[0 .. n_attempts) */
	int n_attempts;
	int64_t started_wall_ms; /* first attempt; STEP_NONE before */
	int64_t ended_wall_ms;   /* when it settled or last ended */
	int64_t duration_ms; /* the last attempt's own (monotonic) */
	int64_t elapsed_ms;  /* first start to its end: the step's wall time */
	int64_t exit_code;   /* of the last attempt; STEP_NONE: none */
	/* retry_wait: when the next attempt is due (wall clock); else
	 * STEP_NONE */
	int64_t retry_at_wall_ms;
	char summary[STEP_SUMMARY_MAX];
	char *detail;        /* skip reason or done-by-hand note */
	char *confirmed_by;  /* actor of the last step_confirm */
	char *confirmed_how; /* enter, typed, yes-flag, auto, rerun-... */
	char *closed_by;     /* actor of a skip or done-by-hand */
};

void step_state_init(struct step_state *st);
void step_state_release(struct step_state *st);
/* The attempt record for attempt n, or NULL. */
const struct step_attempt *step_state_attempt(const struct step_state *st,
					      int n);

/* What a journal event says about a step, parsed once. */
enum step_event_kind {
	STEP_EV_NONE, /* not a step event */
	STEP_EV_CONFIRM,
	STEP_EV_START,
	STEP_EV_END,
	STEP_EV_RETRY,
	STEP_EV_CANCEL,
	STEP_EV_SKIP,
	STEP_EV_DONE_BY_HAND,
	STEP_EV_INTERRUPTED,
};

struct step_event {
	enum step_event_kind kind;
	int64_t wall_ms;
	int64_t mono_ns;
	int segment;
	const char *actor;
	int attempt;         /* 0 when the event has none */
	enum step_status status; /* STEP_EV_END */
	int64_t exit_code;   /* STEP_EV_END; STEP_NONE: none */
	int64_t duration_ms; /* STEP_EV_END; STEP_NONE: none */
	const char *summary; /* STEP_EV_END */
	int64_t backoff_ms;  /* STEP_EV_RETRY; STEP_NONE: not recorded */
	const char *text;    /* reason, note, or how (confirm) */
};

/* Parses `ev` (its payload parsed as p); kind STEP_EV_NONE if it does not
 * concern a step's status. Strings point into ev and p. */
void step_event_parse(const struct journal_event *ev, const cJSON *p,
		      int segment, struct step_event *out);
/* May a step in status `from` take event kind k? */
bool step_allowed(enum step_status from, enum step_event_kind k);
/* The one transition function. `same_boot` says whether the step's first
 * start was in the boot of this event, so its elapsed time can use the
 * monotonic clock. A change step_allowed refuses is applied all the same
 * (the journal is the record; verify judges it) and returns -1. */
int step_apply(struct step_state *st, const struct step_event *ev,
	       bool same_boot);

#endif
