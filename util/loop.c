#include "util/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/xalloc.h"

/* Longer delays are clamped (about 31 years), so deadlines cannot overflow. */
#define LOOP_DELAY_MAX_MS 1000000000000LL

/* The one piece of global mutable state: the write end of the self-pipe of
 * the loop that currently routes signals, or -1. A signal handler has no
 * other way to find it. Set before any handler is installed and cleared
 * after the last one is removed, so a handler never sees a closed fd. */
static volatile sig_atomic_t loop_signal_wfd = -1;

struct loop_watch {
	int fd;
	short events;
	bool dead;
	loop_fd_fn *cb;
	void *arg;
};

struct loop_timer {
	uint64_t id;
	int64_t due_ns;
	loop_timer_fn *cb;
	void *arg;
	struct loop_timer *next;
};

struct loop_sig {
	int signo;
	loop_signal_fn *cb;
	void *arg;
	struct sigaction old;
};

struct loop {
	struct loop_watch **watches;
	size_t nwatches, watches_cap;
	struct pollfd *pfds;
	struct loop_watch **snap;
	size_t pfds_cap;
	bool dispatching;

	struct loop_timer *timers; /* sorted by due_ns, ties by id */
	uint64_t next_timer_id;

	struct loop_sig *sigs;
	size_t nsigs, sigs_cap;
	int sig_pipe[2];

	bool stop;
};

/* Allocation cannot fail (xalloc); the err is for symmetry with callers. */
struct loop *loop_new(struct err *e)
{
	(void)e;
	struct loop *l = xcalloc(1, sizeof *l);
	l->next_timer_id = 1;
	l->sig_pipe[0] = l->sig_pipe[1] = -1;
	return l;
}

/* Put back the disposition a signal had before the loop took it. */
static void loop_signal_restore(struct loop_sig *s)
{
	sigaction(s->signo, &s->old, NULL);
}

/* Undo everything the loop did to the process: handlers, then the pipe. */
void loop_free(struct loop *l)
{
	if (!l)
		return;
	for (size_t i = 0; i < l->nsigs; i++)
		loop_signal_restore(&l->sigs[i]);
	if (l->sig_pipe[1] >= 0 && loop_signal_wfd == l->sig_pipe[1])
		loop_signal_wfd = -1;
	for (int i = 0; i < 2; i++)
		if (l->sig_pipe[i] >= 0)
			close(l->sig_pipe[i]);
	for (size_t i = 0; i < l->nwatches; i++)
		free(l->watches[i]);
	while (l->timers) {
		struct loop_timer *t = l->timers;
		l->timers = t->next;
		free(t);
	}
	free(l->watches);
	free(l->pfds);
	free(l->snap);
	free(l->sigs);
	free(l);
}

/* The live watch for fd, or NULL. */
static struct loop_watch *loop_watch_find(struct loop *l, int fd)
{
	for (size_t i = 0; i < l->nwatches; i++)
		if (!l->watches[i]->dead && l->watches[i]->fd == fd)
			return l->watches[i];
	return NULL;
}

/* Free removed watches; only between passes, so dispatch never sees freed memory. */
static void loop_watch_compact(struct loop *l)
{
	size_t j = 0;
	for (size_t i = 0; i < l->nwatches; i++) {
		if (l->watches[i]->dead)
			free(l->watches[i]);
		else
			l->watches[j++] = l->watches[i];
	}
	l->nwatches = j;
}

/* Register a callback for an fd; duplicates are a caller bug worth reporting. */
int loop_fd_add(struct loop *l, int fd, short events, loop_fd_fn *cb,
		void *arg, struct err *e)
{
	if (fd < 0)
		return err_set(e, "cannot watch fd %d: bad file descriptor", fd);
	if (loop_watch_find(l, fd))
		return err_set(e, "cannot watch fd %d: already watched", fd);
	if (!cb && fd != l->sig_pipe[0])
		return err_set(e, "cannot watch fd %d: no callback", fd);
	struct loop_watch *w = xcalloc(1, sizeof *w);
	w->fd = fd;
	w->events = events;
	w->cb = cb;
	w->arg = arg;
	l->watches = xgrow(l->watches, &l->watches_cap, l->nwatches + 1,
			   sizeof *l->watches);
	l->watches[l->nwatches++] = w;
	return 0;
}

/* Change interest in place, so back-pressure costs no reallocation. */
int loop_fd_set(struct loop *l, int fd, short events)
{
	struct loop_watch *w = loop_watch_find(l, fd);
	if (!w)
		return -1;
	w->events = events;
	return 0;
}

/* Mark dead rather than free: the watch may be in the current poll snapshot. */
void loop_fd_remove(struct loop *l, int fd)
{
	struct loop_watch *w = loop_watch_find(l, fd);
	if (!w)
		return;
	w->dead = true;
	if (!l->dispatching)
		loop_watch_compact(l);
}

/* Insert after every timer due at the same time or earlier: ties keep order. */
uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_fn *cb,
			void *arg)
{
	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms > LOOP_DELAY_MAX_MS)
		delay_ms = LOOP_DELAY_MAX_MS;
	struct loop_timer *t = xcalloc(1, sizeof *t);
	t->id = l->next_timer_id++;
	t->due_ns = clock_mono_ns() + delay_ms * 1000000;
	t->cb = cb;
	t->arg = arg;
	struct loop_timer **pp = &l->timers;
	while (*pp && (*pp)->due_ns <= t->due_ns)
		pp = &(*pp)->next;
	t->next = *pp;
	*pp = t;
	return t->id;
}

/* Unlink by id; a linear scan is fine for the handful of timers qrh keeps. */
int loop_timer_cancel(struct loop *l, uint64_t id)
{
	for (struct loop_timer **pp = &l->timers; *pp; pp = &(*pp)->next) {
		if ((*pp)->id == id) {
			struct loop_timer *t = *pp;
			*pp = t->next;
			free(t);
			return 0;
		}
	}
	return -1;
}

/* Async-signal-safe: one byte to the pipe, errno preserved. A full pipe
 * drops the byte, which only happens with thousands of undrained signals. */
static void loop_signal_handler(int signo)
{
	int saved = errno;
	unsigned char b = (unsigned char)signo;
	int fd = loop_signal_wfd;
	if (fd >= 0) {
		ssize_t n = write(fd, &b, 1);
		(void)n;
	}
	errno = saved;
}

/* The routing entry for signo, or NULL. */
static struct loop_sig *loop_sig_find(struct loop *l, int signo)
{
	for (size_t i = 0; i < l->nsigs; i++)
		if (l->sigs[i].signo == signo)
			return &l->sigs[i];
	return NULL;
}

/* Drain the self-pipe, then run each signal's callback once per pass. */
static int loop_signal_dispatch(struct loop *l)
{
	uint64_t seen = 0;
	unsigned char b[256];
	ssize_t n;
	while ((n = read(l->sig_pipe[0], b, sizeof b)) > 0)
		for (ssize_t i = 0; i < n; i++)
			if (b[i] > 0 && b[i] <= 64)
				seen |= UINT64_C(1) << (b[i] - 1);
	int ran = 0;
	for (int signo = 1; signo <= 64; signo++) {
		if (!(seen & (UINT64_C(1) << (signo - 1))))
			continue;
		/* Looked up each time: a callback may change the table. */
		struct loop_sig *s = loop_sig_find(l, signo);
		if (s && s->cb) {
			s->cb(l, signo, s->arg);
			ran++;
		}
	}
	return ran;
}

/* Create the self-pipe on first use and make this loop the signal owner. */
static int loop_signal_pipe_open(struct loop *l, struct err *e)
{
	if (l->sig_pipe[0] >= 0)
		return 0;
	if (loop_signal_wfd >= 0)
		return err_set(e, "cannot route signals: another loop handles them");
	if (pipe2(l->sig_pipe, O_CLOEXEC | O_NONBLOCK) < 0)
		return err_errno(e, "cannot create signal pipe");
	/* The internal watch: dispatch recognises the pipe by its fd. */
	if (loop_fd_add(l, l->sig_pipe[0], POLLIN, NULL, NULL, e) < 0)
		return -1;
	loop_signal_wfd = l->sig_pipe[1];
	return 0;
}

/* Forget the routing for signo and give the signal back its old disposition. */
static void loop_signal_remove(struct loop *l, int signo)
{
	struct loop_sig *s = loop_sig_find(l, signo);
	if (!s)
		return;
	loop_signal_restore(s);
	*s = l->sigs[--l->nsigs];
}

/* Install our handler (once per signal) and remember who wants it. */
int loop_signal(struct loop *l, int signo, loop_signal_fn *cb, void *arg,
		struct err *e)
{
	if (signo <= 0 || signo > 64 || signo == SIGKILL || signo == SIGSTOP)
		return err_set(e, "cannot route signal %d", signo);
	if (!cb) {
		loop_signal_remove(l, signo);
		return 0;
	}
	struct loop_sig *s = loop_sig_find(l, signo);
	if (s) {
		s->cb = cb;
		s->arg = arg;
		return 0;
	}
	if (loop_signal_pipe_open(l, e) < 0)
		return -1;
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = loop_signal_handler;
	sigfillset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART | (signo == SIGCHLD ? SA_NOCLDSTOP : 0);
	l->sigs = xgrow(l->sigs, &l->sigs_cap, l->nsigs + 1, sizeof *l->sigs);
	s = &l->sigs[l->nsigs];
	if (sigaction(signo, &sa, &s->old) < 0)
		return err_errno(e, "cannot handle signal %d", signo);
	s->signo = signo;
	s->cb = cb;
	s->arg = arg;
	l->nsigs++;
	return 0;
}

/* Milliseconds until the first timer, rounded up so timers never fire
 * early, capped by max_wait_ms; -1 when nothing bounds the wait. */
static int loop_poll_timeout(struct loop *l, int max_wait_ms)
{
	if (!l->timers)
		return max_wait_ms < 0 ? -1 : max_wait_ms;
	int64_t left = l->timers->due_ns - clock_mono_ns();
	int64_t ms = left <= 0 ? 0 : (left + 999999) / 1000000;
	if (max_wait_ms >= 0 && ms > max_wait_ms)
		ms = max_wait_ms;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Snapshot the live, interested watches into the pollfd array. */
static size_t loop_poll_build(struct loop *l)
{
	if (l->pfds_cap < l->nwatches) {
		l->pfds_cap = 2 * l->nwatches;
		l->pfds = xrealloc(l->pfds, l->pfds_cap * sizeof *l->pfds);
		l->snap = xrealloc(l->snap, l->pfds_cap * sizeof *l->snap);
	}
	size_t n = 0;
	for (size_t i = 0; i < l->nwatches; i++) {
		struct loop_watch *w = l->watches[i];
		if (w->dead || !w->events)
			continue;
		l->pfds[n].fd = w->fd;
		l->pfds[n].events = w->events;
		l->pfds[n].revents = 0;
		l->snap[n++] = w;
	}
	return n;
}

/* Hand each ready fd to its callback, filtered by what it wants right now. */
static int loop_fd_dispatch(struct loop *l, size_t n)
{
	int ran = 0;
	for (size_t i = 0; i < n; i++) {
		struct loop_watch *w = l->snap[i];
		short rev = l->pfds[i].revents;
		if (!rev || w->dead || !w->events)
			continue;
		rev &= w->events | POLLHUP | POLLERR | POLLNVAL;
		if (!rev)
			continue;
		if (w->fd == l->sig_pipe[0]) {
			ran += loop_signal_dispatch(l);
			continue;
		}
		w->cb(l, w->fd, rev, w->arg);
		ran++;
	}
	return ran;
}

/* Fire timers that are due and existed before this phase began. */
static int loop_timer_dispatch(struct loop *l)
{
	int64_t now = clock_mono_ns();
	uint64_t limit = l->next_timer_id;
	int ran = 0;
	for (;;) {
		struct loop_timer **pp = &l->timers;
		while (*pp && (*pp)->due_ns <= now && (*pp)->id >= limit)
			pp = &(*pp)->next;
		if (!*pp || (*pp)->due_ns > now)
			return ran;
		struct loop_timer *t = *pp;
		*pp = t->next;
		loop_timer_fn *cb = t->cb;
		void *arg = t->arg;
		uint64_t id = t->id;
		free(t);
		cb(l, id, arg);
		ran++;
	}
}

/* One poll and everything it made ready, then the due timers. */
int loop_run_once(struct loop *l, int max_wait_ms)
{
	size_t n = loop_poll_build(l);
	int rc = poll(l->pfds, n, loop_poll_timeout(l, max_wait_ms));
	if (rc < 0 && errno != EINTR)
		return -1;
	int ran = 0;
	l->dispatching = true;
	if (rc > 0)
		ran += loop_fd_dispatch(l, n);
	ran += loop_timer_dispatch(l);
	l->dispatching = false;
	loop_watch_compact(l);
	return ran;
}

/* The main loop of a front end or a test: passes until asked to stop. */
int loop_run(struct loop *l)
{
	while (!l->stop) {
		if (loop_run_once(l, -1) < 0) {
			l->stop = false;
			return -1;
		}
	}
	l->stop = false;
	return 0;
}

/* Only sets a flag: safe from any callback. */
void loop_stop(struct loop *l)
{
	l->stop = true;
}
