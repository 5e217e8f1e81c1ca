/* action: what a step does, behind one interface per kind.
 *
 * The engine (state/run.c) hands an action its expanded inputs through a
 * variable lookup and a context, and hears back through two callbacks:
 * output chunks as they arrive, and exactly one on_done with the result.
 * An action never prints and never touches the journal. Each kind exports
 * one `const struct action_entry`; action_entry_for() finds it.
 *
 * Call order: describe (any time, no side effects) -> start -> zero or more
 * on_output -> on_done -> free. cancel may be called between start and
 * on_done; on_done still comes, with status ACTION_CANCELLED. free may be
 * called at any time after start, including from on_done; freeing a
 * running action stops it without a callback. */
#ifndef QRH_ACTIONS_ACTION_H
#define QRH_ACTIONS_ACTION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "actions/proc.h"
#include "runbooks/model.h"
#include "runbooks/vars.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/loop.h"

#define ACTION_SUMMARY_MAX 256

enum action_status {
	ACTION_OK,
	ACTION_FAILED,    /* ran and reported failure (exit code, status) */
	ACTION_TIMEOUT,   /* its timeout passed */
	ACTION_CANCELLED, /* the operator cancelled it */
	ACTION_ERROR,     /* could not be run at all */
};

struct action_result {
	enum action_status status;
	int exit_code; /* -1 when it has none */
	int signo;
	int64_t duration_ns;
	char summary[ACTION_SUMMARY_MAX];
};

struct action_run;

typedef void action_output_fn(void *arg, enum proc_stream stream,
			      const char *data, size_t len);
typedef void action_done_fn(void *arg, const struct action_result *res);

struct action_ctx {
	struct loop *loop;
	struct proc_reaper *reaper;
	const char *const *env; /* NAME=value for processes: the variables */
	int64_t grace_ms;       /* SIGTERM to SIGKILL */
	var_lookup_fn *lookup;  /* real values, for running */
	void *lookup_arg;
	action_output_fn *on_output;
	action_done_fn *on_done;
	void *arg;
};

struct action_entry {
	enum action_kind kind;
	/* What will run, one line per command, for the operator to confirm
	 * and the journal to record: `lookup` decides what values show
	 * (the engine masks secrets). */
	int (*describe)(const struct action *a, var_lookup_fn *lookup,
			void *lookup_arg, struct buf *out, struct err *e);
	struct action_run *(*start)(const struct action *a,
				    const struct action_ctx *ctx,
				    struct err *e);
	void (*cancel)(struct action_run *r);
	void (*free)(struct action_run *r);
};

const struct action_entry *action_entry_for(enum action_kind k);

/* Fills a result's summary with printf-style text. */
void action_summary(struct action_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif
