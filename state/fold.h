/* fold: what a run's events add up to — the one reading of the journal.
 *
 * The live engine applies every event it journals to its fold, right after
 * the event is durable, so its state is by construction what the journal
 * says; a resume and `qrh watch` fold the events they read; `qrh show` and
 * `qrh export` fold them into a report. Step statuses change only through
 * step_apply (state/step.h).
 *
 * What a fold tracks:
 *  - steps: by step_id (a step the runbook no longer has is added at the
 *    end, by its index), each with its status, attempts, times, who
 *    confirmed it and who closed it;
 *  - segments: the run's start and each resume (who, which OS user, which
 *    boot), with the first and last event of each: the run's elapsed time
 *    adds up segments, on the monotonic clock within one boot;
 *  - tasks: every task the engine started (a step's action, a fan-out
 *    member, a background action), with its process group and start time
 *    when it ran a local process, and whether it ended;
 *  - notes, captured values, the end (outcome, who, when), and the head.
 *
 * Ownership: the fold owns everything in it; fold_release frees it. The
 * runbook given to fold_init is borrowed (only its step ids and titles are
 * read, during fold_init). */
#ifndef QRH_STATE_FOLD_H
#define QRH_STATE_FOLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "runbooks/model.h"
#include "state/journal.h"
#include "state/step.h"

#define FOLD_BOOT_ID_MAX 40

/* What the chain says of a stored output stream. */
struct fold_stream {
	bool known;
	int64_t bytes;
	char sha256[JOURNAL_HASH_LEN + 1];
	int truncated; /* -1: not said */
	int64_t lost;  /* bytes the journal could not store; STEP_NONE: not
			* recorded (events written before qrh recorded it) */
};

struct fold_step {
	int64_t index; /* in the runbook; for steps only the events know, the
			* journal's step number */
	char *id;
	char *title; /* NULL: not in the runbook */
	struct step_state st;
	int64_t start_seq; /* of its last step_start: an approval before it is spent */
	/* journals written before tasks: the last attempt's streams, from its
	 * step_end (index: enum proc_stream) */
	struct fold_stream legacy[3];
};

struct fold_segment {
	bool resume;        /* false: the run's start */
	char *actor;        /* the operator who started or resumed it */
	char *os_user;
	int64_t uid;
	char boot_id[FOLD_BOOT_ID_MAX]; /* "" when the journal did not say */
	int64_t first_wall_ms, first_mono_ns;
	int64_t last_wall_ms, last_mono_ns;
	int64_t seq; /* of its first event */
};

enum fold_task_role {
	FOLD_TASK_ACTION,     /* a step's action on one target */
	FOLD_TASK_MEMBER,     /* one member of a fan-out */
	FOLD_TASK_BACKGROUND, /* a background action */
};

struct fold_task {
	int64_t id;
	enum fold_task_role role;
	int64_t step; /* index in fold.steps, -1 if unknown */
	int attempt;
	int action;
	char *label; /* fan-out member or background name; NULL: none */
	pid_t pgid;  /* 0: no local process */
	uint64_t start_ticks;
	int segment;
	bool ended;
	struct fold_stream out[3]; /* from its end event (enum proc_stream) */
	char status[16];           /* its end status, "" while it runs */
	int64_t exit_code;         /* from its end event; STEP_NONE: none */
	int64_t duration_ms;       /* from its end event; STEP_NONE: unknown */
	char summary[120];         /* from its end event, cut */
};

struct fold_note {
	int64_t seq;
	int64_t wall_ms;
	int64_t step; /* JOURNAL_NO_STEP for the run */
	char *actor;
	char *text;
	char *id; /* a team note's row UUID ("note_id"), "" otherwise */
};

/* A dual-control event: a request, an approval or a refusal. */
struct fold_approval {
	int64_t seq;
	int64_t wall_ms;
	int64_t step;        /* the fold step's index */
	char type[24];       /* approval_request | approval | approval_refused */
	char *actor;         /* requester or approver */
	char *via;           /* "local" | "team" | "" (a request: both) */
	char *reason;        /* a refusal's why; "" otherwise */
	char *command_sha256;
	int64_t request_seq; /* the request answered (a request: its own seq) */
	int64_t expires_ms;  /* wall clock */
	char *id;            /* a team approval's row id, "" otherwise */
};

struct fold_value {
	char *name;
	char *value;
};

struct run_fold {
	struct fold_step *steps;
	size_t n_steps, cap_steps;
	size_t from_runbook; /* steps[0, from_runbook) are the runbook's */
	struct fold_segment *segments;
	size_t n_segments;
	struct fold_task *tasks;
	size_t n_tasks, cap_tasks;
	int64_t max_task;
	struct fold_note *notes;
	size_t n_notes;
	struct fold_approval *approvals; /* in seq order */
	size_t n_approvals;
	struct fold_value *captures; /* non-secret captured values, last wins */
	size_t n_captures;
	bool ended;
	char outcome[16];
	char *ended_by;
	int64_t ended_wall_ms;
	int64_t n_events;
	struct journal_head head;
	int illegal; /* step changes step_allowed refused (a forged journal) */
};

/* rb may be NULL: steps are then added as the events name them. */
void fold_init(struct run_fold *f, const struct runbook *rb);
void fold_release(struct run_fold *f);
/* Applies one event (in seq order). */
void fold_event(struct run_fold *f, const struct journal_event *ev);
/* journal_events_each callback: ctx is the fold. */
int fold_event_cb(const struct journal_event *ev, void *ctx);

/* The step with this id, or NULL. */
struct fold_step *fold_step_by_id(struct run_fold *f, const char *id);
const struct fold_task *fold_task_by_id(const struct run_fold *f, int64_t id);
/* Were segments a and b written in the same boot (so monotonic times of
 * both compare)? True when either is unknown. */
bool fold_same_boot(const struct run_fold *f, int a, int b);
/* The run's elapsed time from its start to its last event (or its end):
 * monotonic within a boot, wall clock across boots. */
int64_t fold_elapsed_ms(const struct run_fold *f);
/* The same, to a moment of the current segment (the live engine's "now"). */
int64_t fold_elapsed_to_ms(const struct run_fold *f, int64_t wall_ms,
			   int64_t mono_ns);
/* Where a moment of segment seg (its monotonic time) falls on the run's
 * elapsed axis, counted as fold_elapsed_to_ms counts: so bars drawn from
 * these offsets and monotonic durations never cross a wall-clock jump. */
int64_t fold_offset_ms(const struct run_fold *f, int seg, int64_t mono_ns);
/* fold_approval.c: applies a dual-control event; frees them all. */
struct cJSON;
void fold_approval_event(struct run_fold *f, const struct journal_event *ev,
			 const struct cJSON *p, int64_t step);
void fold_approvals_release(struct run_fold *f);

/* Distinct operators in order of first appearance (segments' actors);
 * *n is set. The strings belong to the fold. */
size_t fold_operators(const struct run_fold *f, const char **out, size_t max);

#endif
