/* action: what a step does, behind one interface per kind (version 2).
 *
 * The engine (state/) runs every action as a task on the one event loop.
 * It hands an action its expanded inputs through a variable lookup, a
 * resolved target and a context, and hears back through one sink: output
 * chunks, progress (structured live values), the process group of a local
 * process, and exactly one `done` with the result. An action never prints,
 * never touches the journal and never blocks the loop. Each kind exports
 * one `const struct action_entry`; action_entry_for() finds it.
 *
 * Per-kind state. A kind may keep state for the whole run (a curl multi
 * handle, SSH sessions, Postgres connections): `open` is called once,
 * lazily, before the kind's first start in a run, and `close` once at the
 * run's end, after every action_run of the kind has been freed. Kinds
 * without such state leave both NULL.
 *
 * Call order for one action run:
 *   describe (any time, no side effects)
 *   start -> zero or more output / progress / process -> done -> free
 * - start returning NULL (with *e set) means nothing was started and no
 *   callback will come.
 * - done comes exactly once after a successful start, and always from a
 *   loop callback: never from inside start, cancel, pause or free. Nothing
 *   comes after done.
 * - cancel(why) may be called any number of times between start and done;
 *   done still comes, later, once the cancellation has taken effect (the
 *   process group is gone, the sockets are closed): with ACTION_CANCELLED,
 *   or with the real result if the action had already finished. Every kind
 *   behaves the same here.
 * - Timeouts are the engine's: it cancels with ACTION_CANCEL_TIMEOUT when a
 *   task's deadline passes and reports the result as a timeout. Executors
 *   keep no deadline of their own for the action as a whole (protocol
 *   limits such as a connect timeout, or an http wait's `within`, are part
 *   of what the action does, not its deadline).
 * - pause(true) asks the action to stop reading output until pause(false):
 *   back-pressure when the journal or the screen falls behind. Output may
 *   still arrive for what was already read. Optional (NULL: cannot pause).
 * - free may be called at any time after start, including from inside done
 *   or output; freeing a running action stops it at once (SIGKILL to its
 *   process group, sockets closed) without further callbacks.
 * - What the context points at (env, target, the action) stays valid until
 *   the action run is freed; the context struct itself only during start.
 *
 * Secrets: the engine redacts output, progress, summaries and result
 * values before they are stored or shown; an action never has to, but it
 * must not put a secret anywhere else (argv of a process is fine: it is
 * not journaled; a command description uses the masked lookup). */
#ifndef QRH_ACTIONS_ACTION_H
#define QRH_ACTIONS_ACTION_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "actions/proc.h"
#include "actions/target.h"
#include "runbooks/model.h"
#include "runbooks/vars.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/loop.h"

#define ACTION_SUMMARY_MAX 256

enum action_status {
	ACTION_OK,
	ACTION_FAILED,    /* ran and reported failure (exit code, status) */
	ACTION_TIMEOUT,   /* set by the engine: its deadline passed */
	ACTION_CANCELLED, /* cancelled before it finished */
	ACTION_ERROR,     /* could not be run at all */
	ACTION_UNKNOWN,   /* it may or may not have happened (a dropped SSH
			   * session, no exit status): never success */
};

enum action_cancel_reason {
	ACTION_CANCEL_OPERATOR, /* the operator cancelled the step */
	ACTION_CANCEL_TIMEOUT,  /* the task's deadline passed */
	ACTION_CANCEL_SHUTDOWN, /* qrh is stopping (signal, end of run) */
	ACTION_CANCEL_SIBLING,  /* fan-out: the step's outcome is decided */
};

struct action_result {
	enum action_status status;
	int exit_code; /* -1 when it has none */
	int signo;
	int64_t duration_ns;
	char summary[ACTION_SUMMARY_MAX]; /* one line, lowercase */
	/* Structured values (a JSON object, e.g. {"status": 200,
	 * "latency_ms": 12, "attempts": 3}); NULL for none. Borrowed: valid
	 * only during the done callback (the engine copies what it keeps). */
	const cJSON *values;
};

struct action_run;
struct action_kind_state;

/* What the engine gives every kind for the whole run. */
struct action_host {
	struct loop *loop;
	struct proc_reaper *reaper;
	int64_t grace_ms; /* SIGTERM to SIGKILL, for process kinds */
};

struct action_sink {
	/* A chunk of output (data valid only during the call). */
	void (*output)(void *arg, enum proc_stream stream, const char *data,
		       size_t len);
	/* Live structured values (a JSON object, borrowed for the call):
	 * what the console shows while the action runs. May be called often;
	 * the engine keeps the last. */
	void (*progress)(void *arg, const cJSON *values);
	/* A local process group was created (pgid, and the leader's start
	 * time in clock ticks since boot, /proc/PID/stat field 22). Called
	 * synchronously from start before the process runs anything, so the
	 * engine can journal it first. */
	void (*process)(void *arg, pid_t pgid, uint64_t start_ticks);
	void (*done)(void *arg, const struct action_result *res);
	void *arg;
};

struct action_ctx {
	struct loop *loop;
	struct proc_reaper *reaper;
	struct action_kind_state *ks; /* from the kind's open; NULL if none */
	const struct action_target *target; /* resolved; NULL: none named */
	const char *const *env; /* NAME=value: the run's variables (secrets
				 * in clear) and QRH_*, for processes and
				 * remote scripts */
	int64_t grace_ms;
	/* A background action or a probe: it must not outlive qrh (the
	 * process dies with its parent). A foreground step may. */
	bool die_with_qrh;
	var_lookup_fn *lookup; /* real values, for running */
	void *lookup_arg;
	struct action_sink sink;
};

struct action_entry {
	enum action_kind kind;
	int (*open)(const struct action_host *h, struct action_kind_state **out,
		    struct err *e);
	void (*close)(struct action_kind_state *ks);
	/* What will run and where, one line per command, for the operator to
	 * confirm and the journal to record: `lookup` decides what values
	 * show (the engine masks secrets); `t` is the resolved target or
	 * NULL. */
	int (*describe)(const struct action *a, const struct action_target *t,
			var_lookup_fn *lookup, void *lookup_arg,
			struct buf *out, struct err *e);
	struct action_run *(*start)(const struct action *a,
				    const struct action_ctx *ctx,
				    struct err *e);
	void (*cancel)(struct action_run *r, enum action_cancel_reason why);
	void (*pause)(struct action_run *r, bool pause);
	void (*free)(struct action_run *r);
};

const struct action_entry *action_entry_for(enum action_kind k);

/* Fills a result's summary with printf-style text. */
void action_summary(struct action_result *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* "ok", "failed", "timeout", "cancelled", "error", "unknown". */
const char *action_status_name(enum action_status s);

/* Delivers a result from a zero-delay loop timer: for kinds whose result
 * is known inside start or cancel, where done must never be called. Embed
 * one in the action run; action_later_done copies the result (its values
 * too) and schedules sink.done; action_later_release cancels a pending
 * delivery and frees the copy (call it from free). */
struct action_later {
	struct loop *loop;
	uint64_t timer; /* 0: nothing pending */
	struct action_sink sink;
	struct action_result res;
	cJSON *values;
};

void action_later_done(struct action_later *l, struct loop *loop,
		       const struct action_sink *sink,
		       const struct action_result *res);
bool action_later_pending(const struct action_later *l);
void action_later_release(struct action_later *l);

#endif
