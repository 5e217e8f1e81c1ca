/* run: one run of a runbook — the step state machine, the variables, the
 * processes, and the journal record of all of it.
 *
 * The engine never draws and never reads keys: a front end (the plain line
 * mode, the console, tests) decides what the operator confirmed and calls
 * run_step_begin; the engine runs the step on the event loop and reports
 * every journaled event, every output chunk and every finished step through
 * a listener. Nothing runs unless a front end asked for that step.
 *
 * Lifecycle: run_new -> run_set_value... -> run_open (new run) or
 * run_reopen (resume) -> steps -> run_stop_background, loop until
 * !run_busy -> run_end -> run_free. The runbook, journal, loop and reaper
 * are borrowed and must outlive the run.
 *
 * Guarantees: every state change is journaled before it is reported;
 * secret values are redacted from output before it is stored or shown and
 * never journaled; a step that was running when qrh died is
 * STEP_INTERRUPTED after run_reopen and is never re-run by the engine on
 * its own. */
#ifndef QRH_STATE_RUN_H
#define QRH_STATE_RUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/proc.h"
#include "runbooks/model.h"
#include "state/journal.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/loop.h"

#define RUN_CAPTURE_MAX 65536
#define RUN_DEFAULT_BACKOFF_MS 1000

enum run_mode { RUN_LIVE, RUN_DRILL, RUN_DRY };

enum step_status {
	STEP_PENDING,
	STEP_RUNNING,
	STEP_RETRY_WAIT, /* failed, the next attempt starts after backoff */
	STEP_OK,
	STEP_FAILED,
	STEP_TIMEOUT,
	STEP_CANCELLED,
	STEP_SKIPPED,
	STEP_DONE_BY_HAND,
	STEP_INTERRUPTED, /* running when qrh died: outcome unknown */
};

struct step_state {
	enum step_status status;
	int attempt; /* the last attempt started; 0 before the first */
	int64_t started_wall_ms;
	int64_t ended_wall_ms;
	int64_t duration_ms; /* monotonic, of the last attempt */
	int exit_code;       /* of the last action that ran, -1 if none */
	char summary[256];
};

struct run_opts {
	enum run_mode mode;
	const char *operator_name; /* --operator; NULL: the OS user */
	const char *os_user;
	int64_t uid;
	const char *host;
	int64_t grace_ms; /* SIGTERM to SIGKILL; 0: the default */
};

struct run;

struct run_listener {
	/* After each event is journaled. */
	void (*event)(void *arg, const struct journal_event *ev);
	/* Output of a step (redacted); background output too. */
	void (*output)(void *arg, size_t step, enum proc_stream stream,
		       const char *data, size_t len);
	/* A step reached a state that needs the front end: finished (in any
	 * way) or failed for good. */
	void (*step_done)(void *arg, size_t step);
	/* The journal could not be written: the run must stop. */
	void (*journal_failed)(void *arg, const char *msg);
	void *arg;
};

struct run *run_new(const struct runbook *rb, const struct run_opts *o);
void run_free(struct run *r);

/* -v NAME=value: only declared variables; -1 with a message otherwise. */
int run_set_value(struct run *r, const char *name, const char *text,
		  struct err *e);
/* The declared variables that still have no value, in order. */
size_t run_missing_values(const struct run *r, const struct var **out,
			  size_t max);

int run_open(struct run *r, struct journal *j, struct loop *l,
	     struct proc_reaper *reaper, const struct run_listener *lis,
	     struct err *e);
/* Restores the state of run `id` from its events and journals the resume;
 * steps that were running become STEP_INTERRUPTED. */
int run_reopen(struct run *r, struct journal *j, struct loop *l,
	       struct proc_reaper *reaper, const struct run_listener *lis,
	       int64_t id, bool runbook_changed, struct err *e);

/* Follows run `id` written by another process (qrh watch): nothing is
 * ever written; run_observe_poll applies the events journaled since the
 * last poll and reports each to the listener. */
int run_observe(struct run *r, struct journal *j, int64_t id,
		const struct run_listener *lis);
int run_observe_poll(struct run *r, bool *ended, struct err *e);
bool run_observing(const struct run *r);
struct journal *run_journal(const struct run *r);

int64_t run_id(const struct run *r);
const struct runbook *run_runbook(const struct run *r);
const struct step_state *run_step(const struct run *r, size_t i);
const char *step_status_name(enum step_status s);
/* Finished for good: ok, skipped or done by hand. */
bool step_status_final(enum step_status s);
/* Final, or failed in a step whose on_fail=continue lets the run go on:
 * either way the run does not come back to it on its own. */
bool run_step_settled(const struct run *r, size_t i);
/* The first step that is not settled, or -1 when every step is. */
long run_next_step(const struct run *r);
/* A step is running or waiting to retry, or a background process lives. */
bool run_busy(const struct run *r);
bool run_step_active(const struct run *r);
/* The actor recorded for what the operator does. */
const char *run_actor(const struct run *r);

/* What step i will run, one block per action, secrets masked. */
int run_describe_step(const struct run *r, size_t i, struct buf *out,
		      struct err *e);
/* Journals the confirmation (how: "enter", "typed", "yes-flag", "auto",
 * "rerun-interrupted") and starts the step's first attempt. */
int run_step_begin(struct run *r, size_t i, const char *how, struct err *e);
int run_step_skip(struct run *r, size_t i, const char *reason, struct err *e);
int run_step_done_by_hand(struct run *r, size_t i, const char *note,
			  struct err *e);
int run_dry_step(struct run *r, size_t i, struct err *e);
int run_note(struct run *r, const char *text, struct err *e);
/* Journals a signal or hangup event (type from state/events.h). */
int run_mark(struct run *r, const char *type, const char *detail,
	     struct err *e);
/* Cancels the running step (SIGTERM, then SIGKILL after the grace). */
void run_cancel_step(struct run *r);
/* Asks every background process to stop. */
void run_stop_background(struct run *r);
/* Records the outcome ("ok", "failed", "aborted", "interrupted"). */
int run_end(struct run *r, const char *outcome, struct err *e);

/* Drives the journal's output batching: the poll timeout the front end
 * should use at most, and the call to make when it passes. */
int run_poll_timeout_ms(const struct run *r);
void run_tick(struct run *r);

#endif
