/* The inside of struct run, shared by the engine's files:
 *   run.c            lifecycle, values, lookups, events, what the operator does
 *   policy.c         the run policy (choices, next step, outcome, signals)
 *   task.c           tasks: start, output, live values, deadline, end
 *   run_step.c       a step attempt: its actions in order, fan-out, retries
 *   run_background.c background tasks and wait {stop=NAME}
 *   run_probe.c      probes: samples on a timer, states, digests
 *   run_replay.c     resume and watch: the fold of the journal, survivors */
#ifndef QRH_STATE_RUN_PRIV_H
#define QRH_STATE_RUN_PRIV_H

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "actions/guard.h"
#include "state/probe_sample.h"
#include "state/redact.h"
#include "state/run.h"
#include "state/targets.h"
#include "state/values.h"

struct run;
struct task;

typedef void task_end_fn(struct task *t);

/* One action run on one target: the engine's unit of concurrent work. */
struct task {
	struct run *run;
	int64_t id;
	enum fold_task_role role;
	size_t step;
	int attempt;
	size_t action;
	const struct action *a;
	char *label; /* member or background name; NULL: none */
	const struct action_target *target; /* owned by the owner's set */
	const struct action_entry *entry;
	struct action_run *ar;
	struct redactor red[3]; /* indexed by enum proc_stream */
	int64_t started_ns;
	int64_t timeout_ms;     /* the deadline from the start; <= 0: none */
	int64_t deadline_ms;    /* 0: none */
	uint64_t deadline_timer;
	bool cancel_sent;
	enum action_cancel_reason why;
	bool running; /* started and not done */
	struct action_result res; /* once done; res.values is `values` */
	cJSON *values;            /* redacted copy */
	cJSON *progress;          /* the last live values, redacted */
	pid_t pgid;
	uint64_t start_ticks;
	bool guarded; /* registered with the guard */
	struct journal_output_info out[3]; /* once done: the streams */
	char **env;           /* owned: its own environment (a target's), or NULL */
	struct buf *capture;  /* the attempt's capture, fed with stdout */
	bool capture_only;    /* a secret capture: stdout not stored/shown */
	task_end_fn *on_end;  /* the owner goes on; called once, from done */
	void *owner;
	void (*owner_free)(void *owner); /* task_free calls it, when set */
	size_t slot; /* index in run->tasks */
};

/* A fan-out: one action over the members of a group. */
struct fanout {
	struct target_set set;
	size_t next;    /* the next member to start */
	size_t running; /* members running now */
	size_t ended;
	size_t ok, failed;
	size_t parallel;
	size_t need;    /* successes needed */
	bool decided;   /* the outcome cannot change: start no more */
	struct fanout_host {
		enum action_status status;
		int exit_code;
		char summary[ACTION_SUMMARY_MAX];
		int64_t task;
		bool started, done;
	} *hosts;
	int64_t started_ns;
};

/* The step attempt being run: its actions in order. */
struct attempt {
	size_t step;
	int attempt;
	size_t action; /* the current action */
	int64_t action_started_ns;
	int64_t started_ns;
	uint64_t step_timer;    /* the step's timeout */
	uint64_t retry_timer;   /* waiting to try again */
	uint64_t next_timer;    /* moving on, from a clean stack */
	uint64_t stop_timer;    /* a wait {stop} given up on */
	bool timed_out;
	bool cancelled;
	bool stopping; /* a wait {stop=NAME} waits for that task to end */
	/* a wait {until=PROBE:STATE}: the probe (index) and the state */
	bool probe_waiting;
	size_t wait_probe;
	enum probe_state wait_state;
	int64_t wait_started_ns;
	int64_t wait_deadline_ns; /* 0: none */
	uint64_t wait_timer;
	struct action_result last; /* of the last action (no values) */
	struct task *task;     /* the current single task, or NULL */
	struct fanout *fan;    /* the current fan-out, or NULL */
	struct target_set targets; /* the current single action's target */
	struct buf capture;
	char **env;
};

/* Events that happen at one instant (a confirmation, the start it causes,
 * the first action's start) are committed together: one fsync, not three.
 * Nothing starts running before the events that announce it are durable:
 * run_flush_events comes first. */
struct pending {
	struct journal_event *ev;
	size_t n, cap;
};

/* A probe of the run: its samples are tasks started by its timer, one at a
 * time; a tick that finds the last sample still running is skipped. */
#define PROBE_RING 32
struct probe_rt {
	struct run *run;
	size_t index;
	const struct probe *p;
	struct probe_conds conds;
	int64_t every_ms, timeout_ms;
	bool polling;
	bool done; /* stopped by its until_step: never again this run */
	uint64_t timer;
	int64_t due_ns;  /* when the next sample is due */
	struct task *task; /* the sample running, or NULL */
	struct target_set targets; /* the running sample's target */
	struct buf line; /* its standard output's first bytes */
	int64_t sample_wall_ms, sample_mono_ns, sample_late_ms;
	int64_t pending_skips; /* skipped since the last sample */
	enum probe_state state;
	bool sampled; /* a sample ended in this session */
	char value[PROBE_VALUE_MAX];
	int64_t ended_ns; /* when the last sample ended */
	int64_t samples, skipped, late_worst_ms;
	struct run_probe_point ring[PROBE_RING];
	size_t ring_n, ring_head;
};

/* The survivors of one interrupted step, and the operator's wait for or
 * stop of them (polled: they are not our children). */
struct survivors {
	struct run *run;
	struct run_survivor *v;
	size_t n;
	bool waiting, stopping;
	bool killed;	  /* the grace passed: SIGKILL was sent */
	int64_t since_ns; /* the operator's first choice */
	uint64_t poll_timer, kill_timer;
};

struct run {
	const struct runbook *rb;
	struct run_opts opts;
	char *actor;
	struct values values;
	struct run_fold fold;
	bool defer; /* queue events until run_flush_events */
	long describing; /* the step run_describe_step shows, or -1 */
	bool observing;  /* qrh watch: state from someone else's journal */
	bool observed_end;
	struct pending pending;
	struct journal *j;
	struct loop *loop;
	struct proc_reaper *reaper;
	struct guard *guard;
	struct run_listener lis;
	int64_t id;
	char id_text[24];
	bool journal_broken;
	bool ended;
	bool backpressure;
	uint64_t flush_timer;
	int64_t next_task;
	struct attempt *att;
	struct task **tasks;
	size_t n_tasks, cap_tasks;
	struct action_kind_state *ks[ACTION_KIND_COUNT];
	bool ks_open[ACTION_KIND_COUNT];
	struct survivors *surv; /* per step, after a resume; NULL: none */
	struct probe_rt *probes; /* one per runbook probe */
	uint64_t probes_timer;   /* reconciles polling with the steps */
	uint64_t digest_timer;
	int64_t rpo_window_ms, rpo_rows_lost, rpo_seq; /* RPO from a probe */
	struct run_notify *notify; /* the runbook's notify:, or NULL */
	struct {
		size_t step;
		char *var;
		cJSON *choices; /* NULL: nothing to pick */
	} pick;
	struct strv fail_once; /* drill: step ids whose first attempt fails */
	struct team_link *team; /* borrowed; NULL: no team journal */
	struct approvals *appr; /* dual control (state/approval.c); NULL: none yet */
};

/* ---- run.c ---- */
/* Journals an event (payload consumed, may be NULL). step < 0: not about a
 * step. actor NULL: "qrh". The event is folded and reported once durable:
 * at once, or at run_flush_events when deferring. */
int run_emit(struct run *r, long step, const char *type, const char *actor,
	     cJSON *payload, struct err *e);
/* Commits queued events (if any) and stops deferring. */
int run_flush_events(struct run *r, struct err *e);
/* The same, durable against a crash of qrh but not yet against power
 * loss (journal_events_append_lazy): for a task's process group. */
int run_flush_events_lazy(struct run *r, struct err *e);
/* The journal failed: remember it and tell the front end, once. */
void run_journal_failure(struct run *r, const char *msg);
/* A payload with "step_id" (and "attempt" when > 0) filled in. */
cJSON *run_step_payload(const struct run *r, size_t step, int attempt);
/* os_user, uid and operator, for events of what the operator does. */
void run_add_actor(const struct run *r, cJSON *p);
/* Looks up a value for running (secrets in clear). */
const char *run_lookup(void *arg, const char *name);
/* The same with secrets shown as REDACT_MASK, for what is shown/stored. */
const char *run_lookup_masked(void *arg, const char *name);
/* Redacts every secret from text into a new string. */
char *run_redact(const struct run *r, const char *text);
/* The action entry for a kind (the tests' override, or the real one). */
const struct action_entry *run_entry(const struct run *r, enum action_kind k);
/* The kind's per-run state, opened on first use. */
int run_kind_state(struct run *r, enum action_kind k,
		   struct action_kind_state **out, struct err *e);
/* The step's state in the fold. */
struct step_state *run_step_mut(struct run *r, size_t i);
void run_notify_step(struct run *r, size_t i);

/* The journal's output batching timer is armed (after an output append). */
void run_output_written(struct run *r);

/* ---- run_drill.c ---- */
/* Journals the drill event of a new run, and learns its fail-once faults;
 * run_drill_reopen learns them from the journal of a resumed run. */
int run_drill_begin(struct run *r, struct err *e);
int run_drill_reopen(struct run *r, struct err *e);
/* Step i's first attempt is to fail (a fail-once fault)? */
bool run_drill_fails(const struct run *r, size_t i, int attempt);
/* ---- approval.c ---- */
/* 0 when step i may start now as far as dual control goes (no approval
 * needed, or one granted for exactly what it runs). */
int run_approval_check(struct run *r, size_t i, struct err *e);
void run_approvals_free(struct run *r);
/* What team members send the run (approvals, notes) comes to approval.c. */
void run_approvals_team(struct run *r);

/* ---- task.c ---- */
struct task *task_new(struct run *r, enum fold_task_role role, size_t step,
		      int attempt, size_t action, const struct action *a,
		      const struct action_target *target, const char *label);
/* Starts t (its start event is the caller's, already journaled): the
 * action runs, its deadline is armed. A failure to start is an ended task
 * (ACTION_ERROR) whose on_end comes from the loop, like any other. */
void task_start(struct task *t, const struct action_ctx *base);
void task_cancel(struct task *t, enum action_cancel_reason why);
/* Adds the task's end members ("task", "status", "exit_code", "signal",
 * "duration_ms", "summary", "values", "stdout", "stderr") to p. */
void task_end_payload(const struct task *t, cJSON *p);
/* Frees a task (stopping it without callbacks if it still runs). */
void task_free(struct task *t);
void task_free_all(struct run *r);
/* The base context of an action of step `step`: env, lookup, loop. */
void task_ctx_base(struct run *r, char **env, struct action_ctx *ctx);

/* ---- run_step.c ---- */
int run_attempt_start(struct run *r, size_t i, int attempt, struct err *e);
void run_attempt_free(struct run *r);
char **run_env_build(struct run *r, const struct action_target *t);
void run_pick_clear(struct run *r);
/* The values an sh or ssh script reads from its environment: a JSON
 * object NAME: value (secret ones masked), or NULL when it names none. */
cJSON *run_script_vars(const struct run *r, const struct action *a);
void run_env_free(char **env);

/* ---- run_background.c ---- */
/* Starts a background action of the current attempt; 0 or -1. */
int run_background_start(struct run *r, const struct action *a,
			 struct err *e);
/* wait {stop=NAME}: 1 waiting for it to end, 0 nothing to wait for. */
int run_background_stop_named(struct run *r, const char *name);
struct task *run_background_find(struct run *r, const char *name);
/* The running background task started by action `action` of step `step`. */
struct task *run_background_of(struct run *r, size_t step, size_t action);
/* A background task ended: a wait {stop} may be done. */
void run_attempt_background_ended(struct run *r);

/* ---- run_step.c: waits on probes ---- */
/* Probe i changed state (or sampled): a wait {until} may be done. */
void run_attempt_probe_changed(struct run *r, size_t i);

/* ---- run_probe.c ---- */
void run_probes_init(struct run *r);
void run_probes_free(struct run *r);
/* After the run is open (fresh: a new run, which journals its objectives)
 * or resumed: the probes that should poll start. */
void run_probes_begin(struct run *r, bool fresh);
/* Every folded event: a step's start or end may start or stop a probe
 * (from a timer: never from inside the flush). */
void run_probes_on_event(struct run *r, const struct journal_event *ev);
/* Stops every probe (reason: run_end, shutdown) and journals the last
 * digest. */
void run_probes_end(struct run *r, const char *reason);
/* The index of the probe of that name, or -1. */
long run_probe_index(const struct run *r, const char *name);
/* Observing: the samples of each probe read again from the journal. */
void run_probes_observe(struct run *r);
/* ---- run_notify.c ---- */
/* With a notify: in the runbook, stands between the run and r->lis (call
 * it once r->lis and r->loop are set). */
void run_notify_attach(struct run *r);
void run_notify_free(struct run *r);

/* ---- run_replay.c ---- */
int run_reopen_replay(struct run *r, struct err *e);
/* After the resume event: interrupted steps and their survivors,
 * background tasks of the earlier session reaped. */
int run_reopen_settle(struct run *r, struct err *e);
bool run_survivors_busy(const struct run *r);
void run_survivors_free(struct run *r);

#endif
