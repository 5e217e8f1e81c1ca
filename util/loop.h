/* loop: a single-threaded event loop (epoll(7), with poll(2)'s semantics).
 *
 * Every source of work in qrh is a file descriptor, a timer or a signal,
 * and all of them are dispatched from one place, one callback at a time.
 * The loop promises:
 * - fd watches: a callback runs when the fd is ready for the events asked
 *   for, as poll(2) reports it (POLLHUP/POLLERR/POLLNVAL are always
 *   reported; a file epoll cannot watch, such as a regular file or
 *   /dev/null, is always ready; an fd that is not open is POLLNVAL). A watch
 *   with no events is kept but not polled (a paused reader). Watches may be
 *   added, changed and removed from inside any callback, including the one
 *   being dispatched; a removed watch never sees another callback, even for
 *   readiness already collected in the same pass, and an fd watched again in
 *   the same pass is not handed the old fd's readiness.
 * - timers: one-shot, on the monotonic clock, never early; timers due in the
 *   same pass fire in deadline order (ties: the order they were added). A
 *   timer added by a callback fires in a later pass, never the current one,
 *   so a zero-delay re-arm cannot starve the loop. Ids are never 0 and never
 *   reused; cancelling an id that has fired or been cancelled is harmless.
 * - signals: a handler installed by loop_signal only writes the signal
 *   number to a self-pipe; the callback runs later from the loop, never in
 *   signal context. Several deliveries of one signal between two passes are
 *   reported once (as the kernel does for standard signals).
 * - every fd the loop creates is O_CLOEXEC, so children inherit none.
 * - scale: a pass costs what is ready, not what is watched (fds are indexed
 *   by number and waited for with epoll; timers are a heap: add and cancel
 *   are O(log n)).
 *
 * Only one loop in a process can handle signals at a time (a handler has
 * nowhere but a global to find its pipe). loop_free restores the
 * dispositions that were in place before loop_signal. A loop does not own
 * the fds it watches: the caller closes them (after loop_fd_remove; a
 * watched fd closed first may go unreported, and costs the next pass a
 * rebuild of the epoll set).
 * Not supported: loop_run_once or loop_free from inside a callback. */
#ifndef QRH_LOOP_H
#define QRH_LOOP_H

#include <stdint.h>

#include "util/err.h"

struct loop;

typedef void loop_fd_fn(struct loop *l, int fd, short revents, void *arg);
typedef void loop_timer_fn(struct loop *l, uint64_t id, void *arg);
typedef void loop_signal_fn(struct loop *l, int signo, void *arg);

struct loop *loop_new(struct err *e);
void loop_free(struct loop *l);

/* Watch fd for `events` (POLLIN, POLLOUT, or 0 to keep it idle). Fails if
 * fd is negative or already watched. */
int loop_fd_add(struct loop *l, int fd, short events, loop_fd_fn *cb,
		void *arg, struct err *e);
/* Change what a watched fd waits for; -1 if fd is not watched. */
int loop_fd_set(struct loop *l, int fd, short events);
/* Stop watching fd; does nothing if it is not watched. */
void loop_fd_remove(struct loop *l, int fd);

/* Call cb once, no sooner than delay_ms from now (negative counts as 0).
 * Returns the timer's id, never 0. */
uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_fn *cb,
			void *arg);
/* Call cb once, no sooner than the monotonic time at_ns (clock_mono_ns);
 * a time in the past fires in the next pass. Timers given the same time
 * fire in the same pass: periodic work scheduled on shared deadlines wakes
 * the process once for all of it. */
uint64_t loop_timer_at(struct loop *l, int64_t at_ns, loop_timer_fn *cb,
		       void *arg);
/* Forget a pending timer; 0 if it was pending, -1 if not (already fired,
 * cancelled, or 0). */
int loop_timer_cancel(struct loop *l, uint64_t id);

/* Route signo to cb from the loop; cb NULL restores the signal's previous
 * disposition. SIGKILL and SIGSTOP cannot be routed. SIGCHLD is installed
 * with SA_NOCLDSTOP. */
int loop_signal(struct loop *l, int signo, loop_signal_fn *cb, void *arg,
		struct err *e);

/* Wait at most max_wait_ms (negative: no limit) for something to do, and do
 * it. Returns how many callbacks ran (0 on a timeout or an interrupted
 * wait), or -1 with errno set if the wait (or making the epoll set)
 * failed. */
int loop_run_once(struct loop *l, int max_wait_ms);
/* Run passes until loop_stop is called; 0 then, or -1 as loop_run_once.
 * The stop request is consumed, so the loop can be run again. */
int loop_run(struct loop *l);
/* Make loop_run return after the current pass. */
void loop_stop(struct loop *l);

#endif
