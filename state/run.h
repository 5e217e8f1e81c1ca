/* run: one run of a runbook — its tasks, its steps' statuses, its policy,
 * and the journal record of all of it.
 *
 * The engine never draws and never reads keys. A front end (the console,
 * the plain line mode, `qrh watch`, the tests) asks the policy what the
 * operator may do (run_choices), presents those choices, and passes the
 * answer back (run_step_begin, run_step_skip, ...); the engine runs the
 * work on the event loop as tasks and reports every journaled event, every
 * output chunk, every live value and every settled step through a
 * listener. Nothing runs unless a front end asked for that step.
 *
 * Tasks. Every piece of concurrent work is a task with an id (unique in
 * the run, across resumes), an owner (a step attempt's action on one
 * target, one member of a fan-out, a background action), its own output
 * streams (journaled by task), a deadline kept by the engine, and, when it
 * runs a local process, that process group and its start time, journaled
 * before the process runs anything. Any number of tasks run at once.
 *
 * Lifecycle: run_new -> run_set_value... -> run_open (a new run) or
 * run_reopen (resume) -> steps -> run_end -> run_free (run_free stops what
 * still runs). The runbook, journal, loop and reaper are borrowed and must
 * outlive the run. The run keeps its own journal-batching timer on the
 * loop: front ends only run the loop.
 *
 * Guarantees: every state change is journaled before it is reported, and
 * a step's status changes only through the one transition function
 * (state/step.h) applied to the journaled event; secret values are
 * redacted from output, live values, summaries and every other text before
 * it is stored or shown; a step that was running when qrh died is
 * STEP_INTERRUPTED after run_reopen and is never re-run by the engine on
 * its own, nor offered to run again while a process of it is still alive;
 * background actions never outlive qrh (actions/guard.h). */
#ifndef QRH_STATE_RUN_H
#define QRH_STATE_RUN_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actions/action.h"
#include "actions/proc.h"
#include "runbooks/model.h"
#include "runbooks/probe_spec.h"
#include "state/fold.h"
#include "state/journal.h"
#include "state/step.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/loop.h"

#define RUN_CAPTURE_MAX 65536
#define RUN_DEFAULT_BACKOFF_MS 1000
#define RUN_DEFAULT_PARALLEL 10
#define RUN_APPROVAL_TTL_MS (15 * 60 * 1000)

enum run_mode { RUN_LIVE, RUN_DRILL, RUN_DRY };

struct run_opts {
	enum run_mode mode;
	const char *operator_name; /* --operator; NULL: the OS user */
	const char *os_user;
	int64_t uid;
	const char *host;
	int64_t grace_ms; /* SIGTERM to SIGKILL; 0: the default */
	/* A drill's faults as the front end applied them: the drill event's
	 * "faults" array (state/events.h), journaled after run_start; its
	 * fail-once faults are the engine's to inject. NULL: none. */
	const cJSON *drill_faults;
	const char *sandbox_dir; /* the drill's sandbox, or NULL */
	int64_t approval_ttl_ms; /* dual control; 0: RUN_APPROVAL_TTL_MS */
	/* Tests: the action kinds to use, indexed by enum action_kind (NULL
	 * entries and a NULL table mean the real ones). */
	const struct action_entry *const *entries;
};

struct run;

/* A chunk of a task's output, redacted. */
struct run_chunk {
	size_t step;
	int attempt;
	int64_t task;
	const char *label; /* fan-out member or background name; NULL: none */
	bool background;
	enum proc_stream stream;
	const char *data;
	size_t len;
};

/* A task as front ends see it. */
struct run_task_view {
	int64_t task;
	size_t step;
	int attempt;
	size_t action;
	const char *label;
	bool background;
	bool running;
	const cJSON *progress; /* the last live values (redacted), or NULL */
};

struct run_listener {
	/* After each event is journaled (and folded). */
	void (*event)(void *arg, const struct journal_event *ev);
	/* Output of a task. */
	void (*output)(void *arg, const struct run_chunk *c);
	/* A task's live values changed, or it started or ended. */
	void (*task)(void *arg, const struct run_task_view *t);
	/* A step settled or needs the operator (failed for good, cancelled,
	 * interrupted): ask run_choices what now. */
	void (*step_done)(void *arg, size_t step);
	/* The journal could not be written: no step may start. */
	void (*journal_failed)(void *arg, const char *msg);
	/* A sample of probe i ended (its view changed). */
	void (*probe)(void *arg, size_t i);
	void *arg;
};

struct run *run_new(const struct runbook *rb, const struct run_opts *o);
/* Stops whatever still runs (no callbacks), gives up the run's lock. */
void run_free(struct run *r);

/* -v NAME=value: only declared variables; -1 with a message otherwise. */
int run_set_value(struct run *r, const char *name, const char *text,
		  struct err *e);
/* The declared variables that still have no value, in order. */
size_t run_missing_values(const struct run *r, const struct var **out,
			  size_t max);
/* Does any variable hold a secret value? */
bool run_has_secrets(const struct run *r);

int run_open(struct run *r, struct journal *j, struct loop *l,
	     struct proc_reaper *reaper, const struct run_listener *lis,
	     struct err *e);
/* Takes run `id` over (refused while another qrh owns it), restores its
 * state from its events and journals the resume (a handover when another
 * operator ran it last). Steps that were running become STEP_INTERRUPTED,
 * with their surviving processes found by process group and start time;
 * background processes of the earlier session that survived are killed. */
int run_reopen(struct run *r, struct journal *j, struct loop *l,
	       struct proc_reaper *reaper, const struct run_listener *lis,
	       int64_t id, bool runbook_changed, struct err *e);

/* Team mode: every commit of the run is handed to the link to ship
 * (state/team_link.h), and approvals and notes sent from other machines
 * come to the run through it. The link is borrowed: it must outlive the
 * run (free the run first). */
struct team_link;
void run_set_team(struct run *r, struct team_link *t);

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
/* Everything the journal says so far: segments, notes, tasks, ... */
const struct run_fold *run_fold(const struct run *r);
/* The actor recorded for what the operator does. */
const char *run_actor(const struct run *r);
/* The run's elapsed time now, over every resume. */
int64_t run_elapsed_ms(const struct run *r);

/* ---- notifications (the runbook's notify:, state/run_notify.c) ---- */

/* The front end leaves a run that has not ended: the webhook is told,
 * with the journal head. */
void run_notify_leave(struct run *r);
/* Messages to the webhook still queued or in flight: a front end may
 * give them a moment (the loop running) before it frees the run. */
size_t run_notify_pending(const struct run *r);
/* Notifications that finally failed after the run ended (too late to be
 * journaled), and why the last one did: for the front end to say. */
size_t run_notify_lost(const struct run *r, const char **why);

/* ---- the policy (state/policy.c) ---- */

enum run_choice {
	CHOICE_RUN = 1u << 0,          /* run it (the first time, or again) */
	CHOICE_RETRY = 1u << 1,        /* run it again after it failed */
	CHOICE_SKIP = 1u << 2,         /* skip it, saying why */
	CHOICE_DONE_BY_HAND = 1u << 3, /* mark it done by hand, saying what */
	CHOICE_ABORT = 1u << 4,        /* end the run as aborted */
	CHOICE_LATER = 1u << 5,        /* leave it for now; the run stays open */
	CHOICE_CANCEL = 1u << 6,       /* cancel it while it runs or waits */
	CHOICE_WAIT = 1u << 7,         /* wait for its surviving process */
	CHOICE_STOP = 1u << 8,         /* stop its surviving process */
};

/* What the operator may do about step i now. */
unsigned run_choices(const struct run *r, size_t i);
/* The word the operator must type for choice c on step i (the step's
 * confirm word, ABORT, or the out-of-order word), NULL when a plain
 * confirmation is enough. */
const char *run_choice_word(const struct run *r, size_t i, enum run_choice c);
#define RUN_WORD_ABORT "ABORT"
#define RUN_WORD_OUT_OF_ORDER "OUT-OF-ORDER"
/* 0 when run_choices offers one of the choices in `want` for step i;
 * else -1 with the reason in words, for the operator ("step 11 'check'
 * was already done by hand", "step 2 'promote' failed and has
 * on_fail=stop: it can be retried, or the run aborted"). */
int run_refusal(const struct run *r, size_t i, unsigned want, struct err *e);
/* The operator may end the run as aborted now (it is neither observed
 * nor ended); a step still running is cancelled first. */
bool run_abortable(const struct run *r);
/* Settled: final, or failed in a step whose on_fail=continue lets the run
 * go on. The run does not come back to a settled step on its own. */
bool run_step_settled(const struct run *r, size_t i);
/* The first step that is not settled, or -1 when every step is. */
long run_next_step(const struct run *r);
/* Running step i now would pass over an earlier step that is not settled
 * (so it takes the out-of-order word). */
bool run_out_of_order(const struct run *r, size_t i);
/* Where a front end's selection goes once step i has settled (ended ok,
 * skipped, done by hand, or failed with on_fail=continue): the first step
 * that is not settled, so that none is passed over unseen; i itself when
 * every step is settled. The settled step's result stays on show until
 * the operator moves. */
size_t run_select_after(const struct run *r, size_t i);
/* Every step is settled. */
bool run_complete(const struct run *r);
/* The outcome of a complete run: "ok" when every step went as designed
 * (ok, skipped or done by hand; a step with expect=fail failed, or was
 * skipped or done by hand), else "failed". */
const char *run_outcome(const struct run *r);

/* What a signal means for the run. */
enum run_signal_rule {
	RUN_SIGNAL_CANCEL,  /* SIGINT, SIGTERM: cancel the running step, stop
			     * background actions, start nothing; the run
			     * stays open for resume */
	RUN_SIGNAL_FINISH,  /* SIGHUP: let the running step finish, start
			     * nothing; the run stays open */
};
enum run_signal_rule run_signal_rule(int signo);

/* ---- dual control (state/approval.c) ----
 *
 * A step with dual_control=true runs only after an approval by another
 * identity than the operator's: run_step_begin refuses it until one is
 * granted for exactly what it runs now. run_approval_request journals the
 * request (what will run, masked) and waits, on the loop, for an answer:
 * locally on a Unix socket (qrh approve RUN STEP; the approver's uid comes
 * from the kernel, SO_PEERCRED), and in team mode through the team
 * database (qrh approve --team; the approver is the server's
 * session_user). An approval by the operator's own identity, for another
 * command, or after the request expired is refused; refusals and
 * approvals are journaled events. A granted approval holds for one
 * attempt, until it expires. step_done is reported whenever the state
 * changes (an answer, an expiry), so front ends ask again. Asking again
 * while a request waits (after a resume) only opens the ways to answer. */
enum run_approval_state {
	RUN_APPROVAL_NONE,    /* the step needs none */
	RUN_APPROVAL_NEEDED,  /* nobody asked yet (or it expired / was used) */
	RUN_APPROVAL_WAITING, /* asked; awaiting another identity */
	RUN_APPROVAL_GRANTED, /* approved: it may run */
};
struct run_approval {
	enum run_approval_state state;
	char awaited[160];   /* who may approve, in words */
	char approver[96];   /* GRANTED: who */
	char via[8];         /* GRANTED: local | team */
	int64_t expires_ms;  /* WAITING/GRANTED: wall clock */
	char refused[200];   /* the last refusal since the request, "" none */
	char how_to[200];    /* WAITING: the command that approves */
};
void run_approval(const struct run *r, size_t i, struct run_approval *out);
int run_approval_request(struct run *r, size_t i, struct err *e);

/* ---- what is running ---- */

/* A step is running or waiting to retry, or a background task lives. */
bool run_busy(const struct run *r);
/* The step running or waiting to retry, or -1. */
long run_active_step(const struct run *r);
bool run_step_active(const struct run *r);
/* Background tasks still running. */
size_t run_background_count(const struct run *r);
/* Tasks currently running, for front ends: up to max views (valid until
 * the next loop pass). */
size_t run_tasks(const struct run *r, struct run_task_view *out, size_t max);

/* ---- probes (state/run_probe.c) ----
 *
 * Each probe of the runbook is sampled every `every` (default 5 s) from
 * the run's start, or its from_step's start, to the run's end, or its
 * until_step's end: each sample is a task running the probe's action with
 * its timeout (default: the interval), never two of one probe at once (a
 * tick that finds the last sample still running is skipped, and counted).
 * Samples go to the journal's probe_samples in the output batches; a
 * change of state is a probe_state event; digests of the samples are
 * journaled about every 10 s and at the end (state/events.h). Probes do
 * not make the run busy (run_busy) and are not tasks front ends list
 * (run_tasks). Not polled in a dry run, nor by a watcher (which reads the
 * samples from the journal). */
#define RUN_PROBE_SPARK 32

struct run_probe_point {
	enum probe_state state;
	bool has_number;
	double number; /* the value shown, when it is a number */
};

struct run_probe_view {
	const char *name;
	const char *kind;   /* the action kind (sh, exec, http, sql, velero) */
	int64_t interval_ms;
	bool polling;       /* sampled now */
	bool sampling;      /* a sample is running */
	enum probe_state state;
	const char *value;  /* the last value shown; "" for none */
	int64_t age_ms;     /* since the last sample ended; -1: none yet */
	int64_t samples, skipped, late_worst_ms; /* this session */
	size_t n_points;
	struct run_probe_point points[RUN_PROBE_SPARK]; /* oldest first */
};

/* Up to max views, in the runbook's order (valid until the next loop pass). */
size_t run_probes(const struct run *r, struct run_probe_view *out, size_t max);

/* The step waiting on a probe (wait {until=PROBE:STATE}). */
struct run_probe_wait {
	size_t step;
	const char *probe;
	enum probe_state state;
	int64_t left_ms; /* -1: no deadline (within= not given) */
};
bool run_probe_waiting(const struct run *r, struct run_probe_wait *out);

/* The objectives as measured so far: the fold's, with the RPO of a probe
 * source from its last sample. */
void run_objectives(const struct run *r, struct fold_objectives *out);

/* A process of an interrupted step that outlived the qrh that started it. */
struct run_survivor {
	int64_t task;
	pid_t pgid;
	char command[128]; /* from /proc: what it is running */
	int64_t age_ms;    /* how long it has been running */
	uint64_t start_ticks; /* its leader's (/proc/PID/stat field 22) */
	bool alive;
	bool ended_journaled; /* its survivor_end is written */
};
/* The survivors of step i found at resume (alive = still running now). */
size_t run_survivors(const struct run *r, size_t i,
		     const struct run_survivor **out);

/* A value the operator must pick now: an action listed the choices and
 * asked for one (a velero `backup get -o json` with pick=VAR and VAR still
 * without a value). Returns the choices (a JSON array of objects, each
 * with at least "name"), with *var the variable and *step the step, or
 * NULL when nothing waits. Valid until run_pick or the next step starts. */
const cJSON *run_pick_pending(const struct run *r, size_t *step,
			      const char **var);
/* Journals the operator's pick as the variable's value (a capture event
 * by the operator): `answer` is a choice's name, or its number in the
 * list (from 1). */
int run_pick(struct run *r, const char *value, struct err *e);

/* ---- what the operator does ---- */

/* What step i will run and where, one block per action, secrets masked. */
int run_describe_step(const struct run *r, size_t i, struct buf *out,
		      struct err *e);
/* Journals the confirmation (how: "enter", "typed", "yes-flag", "auto",
 * "rerun-interrupted") and starts the step's next attempt. Refused (with a
 * message) when run_choices does not offer CHOICE_RUN or CHOICE_RETRY. */
int run_step_begin(struct run *r, size_t i, const char *how, struct err *e);
int run_step_skip(struct run *r, size_t i, const char *reason, struct err *e);
int run_step_done_by_hand(struct run *r, size_t i, const char *note,
			  struct err *e);
/* Waits for (CHOICE_WAIT) or stops (CHOICE_STOP: SIGTERM, then SIGKILL
 * after the grace) the surviving processes of interrupted step i; step_done
 * is reported when they are gone (the step stays interrupted). */
int run_survivors_wait(struct run *r, size_t i, struct err *e);
int run_survivors_stop(struct run *r, size_t i, struct err *e);
int run_dry_step(struct run *r, size_t i, struct err *e);
int run_note(struct run *r, const char *text, struct err *e);
/* Shows step i's hint: journals it (the score card counts hints) and
 * returns the text, or NULL (with a message) when it has none. */
const char *run_hint(struct run *r, size_t i, struct err *e);
/* Journals a signal or hangup event (type from state/events.h). */
int run_mark(struct run *r, const char *type, const char *detail,
	     struct err *e);
/* Cancels the running step (SIGTERM, then SIGKILL after the grace), or a
 * step waiting to retry (journaled as step_cancel). */
void run_cancel_step(struct run *r);
/* Asks every background task to stop. */
void run_stop_background(struct run *r);
/* Back-pressure: pause (true) or resume reading every task's output. */
void run_set_backpressure(struct run *r, bool pause);
/* Records the outcome ("ok", "failed", "aborted", "interrupted"); by_operator:
 * the operator ended it (an abort), else qrh. Nothing is journaled after. */
int run_end(struct run *r, const char *outcome, bool by_operator,
	    struct err *e);

#endif
