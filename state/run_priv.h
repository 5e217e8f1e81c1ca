/* The inside of struct run, shared by run.c (lifecycle and operator
 * actions), run_step.c (executing steps) and run_replay.c (resume). */
#ifndef QRH_STATE_RUN_PRIV_H
#define QRH_STATE_RUN_PRIV_H

#include <cjson/cJSON.h>

#include "actions/action.h"
#include "state/redact.h"
#include "state/run.h"
#include "state/targets.h"
#include "state/values.h"

/* The step being run in the foreground. */
struct active {
	size_t step;
	int attempt;
	size_t action;
	const struct action_entry *entry;
	struct action_run *ar;
	int64_t step_start_ns;
	uint64_t step_timer; /* the step's own timeout */
	uint64_t action_timer; /* the running action's timeout */
	bool action_timed_out;
	uint64_t retry_timer;
	bool timed_out;
	bool cancelled;
	bool stopping_background; /* waiting for a wait{stop} to complete */
	uint64_t stop_timer;      /* that wait's own timeout */
	struct action_result last;
	struct redactor red[3]; /* indexed by enum proc_stream */
	struct buf capture;
	char *capture_value; /* from an action's values.capture, not stdout */
	char **env;
	struct target_set targets; /* of the running action */
};

struct background {
	char *name;
	size_t step;
	const struct action_entry *entry;
	struct action_run *ar;
	struct redactor red[3];
	int64_t bytes;
	bool alive;
	struct run *run;
};

/* Events that happen at one instant (a confirmation, the start it causes,
 * the first action's start) are committed together: one fsync, not three.
 * Nothing starts running before the events that announce it are durable:
 * run_flush_events comes first. */
#define RUN_PENDING_MAX 8

struct pending {
	struct journal_event ev[RUN_PENDING_MAX];
	char *payload[RUN_PENDING_MAX];
	size_t n;
};

struct run {
	const struct runbook *rb;
	bool defer; /* queue events until run_flush_events */
	long describing; /* the step run_describe_step shows, or -1 */
	bool observing;  /* qrh watch: state from someone else's journal */
	int64_t observed_seq;
	bool observed_end;
	struct pending pending;
	struct run_opts opts;
	char *actor;
	struct values values;
	struct step_state *steps;
	struct journal *j;
	struct loop *loop;
	struct proc_reaper *reaper;
	struct run_listener lis;
	int64_t id;
	char id_text[24];
	int64_t start_ns;
	bool journal_broken;
	struct active *act;
	struct background *bg;
	size_t n_bg, cap_bg;
	/* per-kind state (action.h), opened at a kind's first start */
	struct action_kind_state *ks[ACTION_KIND_COUNT];
	bool ks_open[ACTION_KIND_COUNT];
};

/* Journals an event (payload consumed, may be NULL) and tells the
 * listener. step < 0: not about a step. actor NULL: "qrh". */
int run_emit(struct run *r, long step, const char *type, const char *actor,
	     cJSON *payload, struct err *e);
/* Commits queued events (if any) and stops deferring. */
int run_flush_events(struct run *r, struct err *e);
/* A payload with "step_id" (and "attempt" when > 0) filled in. */
cJSON *run_step_payload(const struct run *r, size_t step, int attempt);
/* Looks up a value for running (secrets in clear). */
const char *run_lookup(void *arg, const char *name);
/* The same with secrets shown as REDACT_MASK, for what is shown/stored. */
const char *run_lookup_masked(void *arg, const char *name);
/* Starts attempt `attempt` of step i (journals step_start). */
int run_step_attempt(struct run *r, size_t i, int attempt, struct err *e);
void run_background_free_all(struct run *r);
/* The kind's run-long state, opened on first use; NULL if it has none. */
struct action_kind_state *run_kind_state(struct run *r,
					 const struct action_entry *ent,
					 struct err *e, int *rc);
/* Closes every kind's state (after all actions are freed). */
void run_kind_states_close(struct run *r);
/* Rebuilds step states and captured values from the journal. */
int run_reopen_replay(struct run *r, struct err *e);

#endif
