/* guard: a watchman process that stops background process groups when qrh
 * dies, however it dies.
 *
 * A process group started for a background action or a probe must not
 * outlive qrh (a load generator or a test server left running breaks the
 * next run). PR_SET_PDEATHSIG (actions/proc.h) reaches only the process
 * qrh forked, not what that process started; and kill -9 leaves qrh no
 * chance to clean up. So guard_new forks a small child, in a session of its
 * own, that holds the read end of a pipe and nothing else. qrh registers
 * each such group (guard_add) and unregisters it once it has ended
 * (guard_remove). When qrh dies, kill -9 included, the kernel closes the
 * pipe's write end: the guard reads EOF and sends SIGTERM, then after the
 * grace SIGKILL, to every group still registered, and exits.
 *
 * It never signals a stranger: a group is signalled only while its leader
 * is still the registered process (same pid and start time), or, the
 * leader being gone, while the group still exists (Linux does not reuse a
 * pid that names a live process group).
 *
 * A foreground step's processes are not registered: they may outlive qrh,
 * and a resume reports them (state/run_replay.c). guard_free (a normal
 * end) closes the pipe and reaps the guard; what is still registered then
 * is stopped by the guard as after a crash. */
#ifndef QRH_ACTIONS_GUARD_H
#define QRH_ACTIONS_GUARD_H

#include <stdint.h>
#include <sys/types.h>

#include "util/err.h"

struct guard;

struct guard *guard_new(int64_t grace_ms, struct err *e);
int guard_add(struct guard *g, pid_t pgid, uint64_t start_ticks,
	      struct err *e);
void guard_remove(struct guard *g, pid_t pgid);
/* The guard's own pid (tests). */
pid_t guard_pid(const struct guard *g);
void guard_free(struct guard *g);

/* Sends signo to group pgid if it is still the group of the process
 * registered with start_ticks (see above); 1 sent, 0 not ours or gone. */
int guard_signal_group(pid_t pgid, uint64_t start_ticks, int signo);
/* Does group pgid (with that leader start time) still have a process? */
int guard_group_alive(pid_t pgid, uint64_t start_ticks);

#endif
