/* proc: run a child process safely, driven by the event loop.
 *
 * The module promises:
 * - No shell: argv is passed to execvp as exact bytes (PATH is searched in
 *   qrh's own environment when argv[0] has no slash).
 * - The child is sealed off from qrh and the terminal: its own session and
 *   process group (setsid, so its pgid is its pid), stdin from /dev/null,
 *   stdout and stderr each through its own pipe, no other fd (journal,
 *   SQLite, terminal), default signal dispositions and an empty signal mask.
 * - A failure to start (fork, cwd, exec) is reported by proc_spawn itself,
 *   e.g. "cannot run 'foo': No such file or directory"; no callback runs.
 * - Output is delivered as it arrives, in chunks of at most PROC_READ_MAX
 *   bytes, one read per readiness; proc keeps none of it, so memory stays
 *   bounded whatever the child writes. A chunk's data is valid only during
 *   the callback.
 * - A process is finished only when both pipes reached EOF and its exit was
 *   collected, in either order; then on_exit runs exactly once and no
 *   process of its group is left: the group gets SIGKILL before the leader
 *   is reaped (the unreaped leader keeps the pgid from being reused, so the
 *   kill can never hit a stranger). If the leader has exited but something
 *   it left behind holds the pipes open, the pipes are given grace_ms, then
 *   the group is killed and the pipes closed. The result says which
 *   processes held them and whether they were killed (in the group) or
 *   left running (outside it: only the group is ever signalled).
 * - With on_spawn, the child waits after fork until on_spawn has returned
 *   (the engine journals its pgid first); with die_with_parent it gets
 *   SIGKILL if qrh dies (PR_SET_PDEATHSIG: it reaches the child itself,
 *   not what the child started; see actions/guard.h for the rest).
 * - Timeout and cancel: SIGTERM to the whole group, SIGKILL to the group
 *   grace_ms later.
 * - Reaping: one struct proc_reaper per loop owns SIGCHLD on that loop and
 *   dispatches exits to the right proc. Nothing else in the process may
 *   reap children with waitpid(-1) or route SIGCHLD elsewhere.
 *
 * Lifetime: the caller owns a struct proc from proc_spawn until proc_free.
 * proc_free may be called at any time, including from on_output and (as
 * the last use of p) from on_exit. Freeing a running proc kills its group
 * at once without further callbacks; the reaper still collects the exit, so
 * no zombie is left. Free every proc before its reaper. */
#ifndef QRH_PROC_H
#define QRH_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/loop.h"

#define PROC_READ_MAX (64 * 1024)
#define PROC_GRACE_MS_DEFAULT 5000
#define PROC_HOLDERS_MAX 8

enum proc_stream {
	PROC_STDOUT = 1,
	PROC_STDERR = 2,
};

struct proc;
struct proc_reaper;

struct proc_result {
	int exit_code;		/* 0..255 if the process exited, else -1 */
	int signo;		/* the signal that ended it, else 0 */
	int64_t duration_ns;	/* monotonic, spawn to exit */
	bool timed_out;		/* timeout_ms passed; the group was signalled */
	bool cancelled;		/* proc_cancel was called */
	bool pipes_held;	/* it exited, but a process it left behind held
				 * the output open past grace_ms: qrh closed
				 * its end of the pipes and went on */
	/* Who held them, as /proc showed them when qrh gave up waiting (only
	 * processes qrh may look at; at most PROC_HOLDERS_MAX of each):
	 * killed with the group (SIGKILL, they were in it), or left running
	 * (they had left it, e.g. with setsid, and no signal of ours reaches
	 * them). Both empty with pipes_held: no holder could be seen. */
	pid_t held_killed[PROC_HOLDERS_MAX];
	size_t n_held_killed;
	pid_t held_running[PROC_HOLDERS_MAX];
	size_t n_held_running;
};

typedef void proc_output_fn(struct proc *p, enum proc_stream stream,
			    const char *data, size_t len, void *arg);
typedef void proc_exit_fn(struct proc *p, const struct proc_result *res,
			  void *arg);
/* The child exists (its pid is its pgid; start_ticks as in
 * proc_start_ticks) but runs nothing until this returns 0; -1 (with *e
 * set) kills it and makes proc_spawn fail with that error. */
typedef int proc_spawn_fn(pid_t pgid, uint64_t start_ticks, void *arg,
			  struct err *e);

struct proc_spec {
	const char *const *argv;	/* NULL-terminated, argv[0] required */
	const char *const *env;		/* NULL or NULL-terminated NAME=value
					 * list, added to / overriding ours */
	const char *cwd;		/* NULL: qrh's own */
	int64_t timeout_ms;		/* 0: none */
	int64_t grace_ms;		/* 0: PROC_GRACE_MS_DEFAULT */
	proc_output_fn *on_output;	/* may be NULL: output is discarded */
	proc_exit_fn *on_exit;		/* may be NULL */
	proc_spawn_fn *on_spawn;	/* may be NULL */
	bool die_with_parent;		/* SIGKILL to the child when qrh dies */
	void *arg;
};

/* Take SIGCHLD on loop l; fails if another owner routes signals. */
struct proc_reaper *proc_reaper_new(struct loop *l, struct err *e);
/* Kill and reap (blocking, after SIGKILL) whatever is still alive, give
 * SIGCHLD back. Procs not yet freed are finished silently. */
void proc_reaper_free(struct proc_reaper *r);
/* Processes started and not yet reaped, including freed ones being killed. */
size_t proc_reaper_count(const struct proc_reaper *r);

struct proc *proc_spawn(struct proc_reaper *r, const struct proc_spec *spec,
			struct err *e);
/* SIGTERM to the group now, SIGKILL after grace_ms; no-op once finished. */
void proc_cancel(struct proc *p);
/* Stop (true) or resume (false) reading output; a paused child blocks once
 * its pipe is full. Also a no-op once finished. */
void proc_pause_output(struct proc *p, bool pause);
/* The child's pid, which is also its process group and session id. */
pid_t proc_pid(const struct proc *p);
bool proc_finished(const struct proc *p);
/* The start time of process pid in clock ticks since boot (field 22 of
 * /proc/PID/stat): with the pid, it names one process for good, so a
 * resume can tell a survivor from a stranger that got the same pid.
 * 0 and *out set, or -1 when the process does not exist. */
int proc_start_ticks(pid_t pid, uint64_t *out);
/* Does process group pgid, whose leader started at leader_ticks, still
 * have a process that is not a zombie? 0 when the group is gone, or when
 * pgid now names a stranger's process (same pid, another start time). */
int proc_group_live(pid_t pgid, uint64_t leader_ticks);
void proc_free(struct proc *p);

#endif
