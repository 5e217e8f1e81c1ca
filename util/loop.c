#include "util/loop.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop_timers.h"
#include "util/xalloc.h"

/* Longer delays are clamped (about 31 years), so deadlines cannot overflow. */
#define LOOP_DELAY_MAX_MS 1000000000000LL

/* What poll(2) reports for a file that cannot be polled (a regular file,
 * /dev/null): always ready. epoll refuses such fds, so the loop says it. */
#define LOOP_ALWAYS_READY (POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM)

/* The one piece of global mutable state: the write end of the self-pipe of
 * the loop that currently routes signals, or -1. A signal handler has no
 * other way to find it. Set before any handler is installed and cleared
 * after the last one is removed, so a handler never sees a closed fd. */
static volatile sig_atomic_t loop_signal_wfd = -1;

/* One entry of the fd-indexed table. The watch is the part that lives from
 * loop_fd_add to loop_fd_remove (gen 0: no watch); kev says what epoll has
 * registered for the fd and is 0 whenever there is no watch. */
struct loop_fd {
	uint32_t gen;      /* tells this watch from any other on the same fd */
	short events;      /* what the caller asked for */
	short kev;         /* what epoll waits for; 0: not registered */
	short fake;        /* nonzero: epoll cannot watch it; report this */
	bool queued;       /* in the list of fds to give epoll */
	size_t always_pos; /* 1 + index in l->always; 0: not there */
	loop_fd_fn *cb;
	void *arg;
};

struct loop_sig {
	int signo;
	loop_signal_fn *cb;
	void *arg;
	struct sigaction old;
};

struct loop {
	struct loop_fd *fds; /* indexed by fd */
	size_t nfds;
	uint32_t next_gen;

	/* epoll is told about new and changed watches at the start of a pass
	 * (so a watch changed twice costs one call), about removed ones at
	 * once (the caller closes the fd next). Created by the first pass. */
	int epfd;
	bool rebuild; /* epoll may hold an fd closed behind the loop's back */
	size_t nkernel;
	int *queue;
	size_t nqueue, queue_cap;
	int *always; /* fds with `fake` set: reported without asking epoll */
	size_t nalways, always_cap;
	struct epoll_event *evs;
	size_t evs_cap;

	struct loop_timers timers;

	struct loop_sig *sigs;
	size_t nsigs, sigs_cap;
	int sig_pipe[2];

	bool stop;
};

/* Allocation cannot fail (xalloc) and epoll is opened by the first pass:
 * the err is for symmetry with callers. */
struct loop *loop_new(struct err *e)
{
	(void)e;
	struct loop *l = xcalloc(1, sizeof *l);
	l->next_gen = 1;
	l->epfd = -1;
	loop_timers_init(&l->timers);
	l->sig_pipe[0] = l->sig_pipe[1] = -1;
	return l;
}

/* Put back the disposition a signal had before the loop took it. */
static void loop_signal_restore(struct loop_sig *s)
{
	sigaction(s->signo, &s->old, NULL);
}

/* Undo everything the loop did to the process: handlers, then the fds. */
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
	if (l->epfd >= 0)
		close(l->epfd);
	loop_timers_release(&l->timers);
	free(l->fds);
	free(l->queue);
	free(l->always);
	free(l->evs);
	free(l->sigs);
	free(l);
}

/* The live watch for fd, or NULL. */
static struct loop_fd *loop_fd_find(struct loop *l, int fd)
{
	if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd].gen)
		return NULL;
	return &l->fds[fd];
}

/* Make the table reach fd; new entries are all zero (no watch). */
static void loop_fd_table_grow(struct loop *l, int fd)
{
	size_t need = (size_t)fd + 1, cap = l->nfds;
	if (need <= cap)
		return;
	l->fds = xgrow(l->fds, &cap, need, sizeof *l->fds);
	memset(l->fds + l->nfds, 0, (cap - l->nfds) * sizeof *l->fds);
	l->nfds = cap;
}

/* Ask the next pass to bring epoll in line with fd's watch. */
static void loop_fd_queue(struct loop *l, int fd)
{
	if (l->fds[fd].queued)
		return;
	l->fds[fd].queued = true;
	l->queue = xgrow(l->queue, &l->queue_cap, l->nqueue + 1,
			 sizeof *l->queue);
	l->queue[l->nqueue++] = fd;
}

/* Register a callback for an fd; duplicates are a caller bug worth reporting. */
int loop_fd_add(struct loop *l, int fd, short events, loop_fd_fn *cb,
		void *arg, struct err *e)
{
	if (fd < 0)
		return err_set(e, "cannot watch fd %d: bad file descriptor", fd);
	if (loop_fd_find(l, fd))
		return err_set(e, "cannot watch fd %d: already watched", fd);
	if (!cb && fd != l->sig_pipe[0])
		return err_set(e, "cannot watch fd %d: no callback", fd);
	loop_fd_table_grow(l, fd);
	struct loop_fd *w = &l->fds[fd];
	w->gen = l->next_gen++;
	if (!l->next_gen)
		l->next_gen = 1;
	w->events = events;
	w->fake = 0;
	w->cb = cb;
	w->arg = arg;
	if (events)
		loop_fd_queue(l, fd);
	return 0;
}

/* Change interest in place, so back-pressure costs no reallocation. */
int loop_fd_set(struct loop *l, int fd, short events)
{
	struct loop_fd *w = loop_fd_find(l, fd);
	if (!w)
		return -1;
	if (w->events == events)
		return 0;
	w->events = events;
	if (!w->fake)
		loop_fd_queue(l, fd);
	return 0;
}

/* The entry of the always-reported list that fd takes, or gives back. */
static void loop_always_add(struct loop *l, int fd)
{
	l->always = xgrow(l->always, &l->always_cap, l->nalways + 1,
			  sizeof *l->always);
	l->always[l->nalways++] = fd;
	l->fds[fd].always_pos = l->nalways;
}

static void loop_always_remove(struct loop *l, int fd)
{
	size_t i = l->fds[fd].always_pos - 1;
	int last = l->always[--l->nalways];
	l->always[i] = last;
	l->fds[last].always_pos = i + 1;
	l->fds[fd].always_pos = 0;
}

/* Tell epoll to forget fd. A failure means the fd was closed behind the
 * loop's back; its file may still be open elsewhere (a dup, a child that
 * has not exec'd yet), and then epoll keeps it and its readiness under a
 * number that no longer names it: only a fresh epoll set is sure to be
 * rid of it, made at the start of the next pass. */
static void loop_kernel_forget(struct loop *l, int fd)
{
	struct loop_fd *w = &l->fds[fd];
	if (!w->kev)
		return;
	if (epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL) < 0)
		l->rebuild = true;
	w->kev = 0;
	l->nkernel--;
}

/* Stop watching fd now; readiness already collected for it is dropped by
 * dispatch, which finds the generation changed. */
void loop_fd_remove(struct loop *l, int fd)
{
	struct loop_fd *w = loop_fd_find(l, fd);
	if (!w)
		return;
	loop_kernel_forget(l, fd);
	if (w->always_pos)
		loop_always_remove(l, fd);
	w->gen = 0;
	w->events = 0;
	w->fake = 0;
	w->cb = NULL;
	w->arg = NULL;
}

/* Deadlines on the monotonic clock; the heap keeps ties in the order added. */
uint64_t loop_timer_add(struct loop *l, int64_t delay_ms, loop_timer_fn *cb,
			void *arg)
{
	if (delay_ms < 0)
		delay_ms = 0;
	if (delay_ms > LOOP_DELAY_MAX_MS)
		delay_ms = LOOP_DELAY_MAX_MS;
	return loop_timers_add(&l->timers, clock_mono_ns() + delay_ms * 1000000,
			       cb, arg);
}

uint64_t loop_timer_at(struct loop *l, int64_t at_ns, loop_timer_fn *cb,
		       void *arg)
{
	int64_t now = clock_mono_ns();
	if (at_ns > now + LOOP_DELAY_MAX_MS * 1000000)
		at_ns = now + LOOP_DELAY_MAX_MS * 1000000;
	return loop_timers_add(&l->timers, at_ns, cb, arg);
}

/* O(log n) by the id's slot. */
int loop_timer_cancel(struct loop *l, uint64_t id)
{
	return loop_timers_cancel(&l->timers, id);
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

/* epoll reports readiness in poll(2)'s bits: Linux gives them the same
 * values, checked here so that a conversion is a cast. */
_Static_assert(POLLIN == EPOLLIN && POLLPRI == EPOLLPRI &&
		       POLLOUT == EPOLLOUT && POLLRDNORM == EPOLLRDNORM &&
		       POLLRDBAND == EPOLLRDBAND && POLLWRNORM == EPOLLWRNORM &&
		       POLLWRBAND == EPOLLWRBAND && POLLMSG == EPOLLMSG &&
		       POLLRDHUP == EPOLLRDHUP && POLLERR == EPOLLERR &&
		       POLLHUP == EPOLLHUP,
	       "poll and epoll event bits differ");

static uint32_t loop_events_to_epoll(short events)
{
	return (uint16_t)events;
}

/* Only the bits poll(2) has: epoll's own flags never come back. */
static short loop_events_from_epoll(uint32_t ev)
{
	return (short)(ev & 0xffff);
}

/* What epoll hands back for a watch: its fd, and its generation so that
 * readiness of a removed watch never reaches a later one on the same fd. */
static uint64_t loop_fd_tag(const struct loop *l, int fd)
{
	return (uint64_t)l->fds[fd].gen << 32 | (uint32_t)fd;
}

/* From now on fd is reported as `fake` each pass instead of by epoll:
 * always ready for a file epoll cannot poll, POLLNVAL for a closed fd,
 * POLLERR when epoll cannot take it (out of memory or watches). */
static void loop_fd_fake(struct loop *l, int fd, short fake)
{
	l->fds[fd].fake = fake;
	loop_always_add(l, fd);
}

/* Register fd with epoll for want, or report it without epoll. */
static void loop_kernel_add(struct loop *l, int fd, short want)
{
	struct epoll_event ev = { .events = loop_events_to_epoll(want),
				  .data.u64 = loop_fd_tag(l, fd) };
	int rc = epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev);
	/* The same file under the same number is still registered: an fd
	 * closed and reopened behind the loop's back. Take it over. */
	if (rc < 0 && errno == EEXIST)
		rc = epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev);
	if (rc < 0) {
		loop_fd_fake(l, fd, errno == EPERM ? LOOP_ALWAYS_READY :
				    errno == EBADF ? POLLNVAL : POLLERR);
		return;
	}
	l->fds[fd].kev = want;
	l->nkernel++;
}

/* Bring epoll in line with one watch. A paused watch (events 0) is taken
 * out of epoll altogether: epoll would still report its hang-up, over and
 * over, while nobody reads it. */
static void loop_kernel_sync(struct loop *l, int fd)
{
	struct loop_fd *w = &l->fds[fd];
	w->queued = false;
	if (!w->gen || w->fake || w->events == w->kev)
		return;
	if (!w->events) {
		loop_kernel_forget(l, fd);
		return;
	}
	if (!w->kev) {
		loop_kernel_add(l, fd, w->events);
		return;
	}
	struct epoll_event ev = { .events = loop_events_to_epoll(w->events),
				  .data.u64 = loop_fd_tag(l, fd) };
	if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) == 0) {
		w->kev = w->events;
		return;
	}
	/* Closed behind the loop's back: say so as poll(2) would. */
	l->rebuild = true;
	w->kev = 0;
	l->nkernel--;
	loop_fd_fake(l, fd, POLLNVAL);
}

/* A new epoll set with every registered watch queued for it. */
static int loop_kernel_open(struct loop *l)
{
	if (l->epfd >= 0 && !l->rebuild)
		return 0;
	if (l->epfd >= 0) {
		close(l->epfd);
		for (size_t fd = 0; fd < l->nfds; fd++) {
			if (l->fds[fd].kev) {
				l->fds[fd].kev = 0;
				loop_fd_queue(l, (int)fd);
			}
		}
		l->nkernel = 0;
	}
	l->rebuild = false;
	l->epfd = epoll_create1(EPOLL_CLOEXEC);
	return l->epfd < 0 ? -1 : 0;
}

/* Hand epoll what changed since the last pass. */
static int loop_kernel_update(struct loop *l)
{
	if (loop_kernel_open(l) < 0)
		return -1;
	for (size_t i = 0; i < l->nqueue; i++)
		loop_kernel_sync(l, l->queue[i]);
	l->nqueue = 0;
	return 0;
}

/* Whether a watch epoll cannot poll wants something: then it is ready now. */
static bool loop_always_pending(const struct loop *l)
{
	for (size_t i = 0; i < l->nalways; i++)
		if (l->fds[l->always[i]].events)
			return true;
	return false;
}

/* Milliseconds until the first timer, rounded up so timers never fire
 * early, capped by max_wait_ms; -1 when nothing bounds the wait. */
static int loop_poll_timeout(struct loop *l, int max_wait_ms)
{
	if (loop_always_pending(l))
		return 0;
	int64_t due;
	if (!loop_timers_next_due(&l->timers, &due))
		return max_wait_ms < 0 ? -1 : max_wait_ms;
	int64_t left = due - clock_mono_ns();
	int64_t ms = left <= 0 ? 0 : (left + 999999) / 1000000;
	if (max_wait_ms >= 0 && ms > max_wait_ms)
		ms = max_wait_ms;
	return ms > INT32_MAX ? INT32_MAX : (int)ms;
}

/* Room for every registered fd, so one wait returns all that are ready. */
static void loop_events_reserve(struct loop *l)
{
	size_t need = l->nkernel + l->nalways + 1;
	if (l->evs_cap < need) {
		l->evs_cap = 2 * need;
		l->evs = xrealloc(l->evs, l->evs_cap * sizeof *l->evs);
	}
}

/* Wait, then add the watches epoll cannot poll after what it reported
 * (marked by events 0); how many entries of l->evs to dispatch, or -1. */
static int loop_wait(struct loop *l, int timeout_ms)
{
	loop_events_reserve(l);
	int n = epoll_wait(l->epfd, l->evs, (int)(l->nkernel + 1), timeout_ms);
	if (n < 0)
		return errno == EINTR ? 0 : -1;
	for (size_t i = 0; i < l->nalways; i++) {
		int fd = l->always[i];
		if (l->fds[fd].events)
			l->evs[n++] = (struct epoll_event){
				.events = 0, .data.u64 = loop_fd_tag(l, fd) };
	}
	return n;
}

/* Hand each ready fd to its callback, filtered by what it wants right now.
 * The table may move under a callback: nothing is kept across the call. */
static int loop_fd_dispatch(struct loop *l, int n)
{
	int ran = 0;
	for (int i = 0; i < n; i++) {
		uint64_t tag = l->evs[i].data.u64;
		int fd = (int)(uint32_t)tag;
		struct loop_fd *w = loop_fd_find(l, fd);
		if (!w || w->gen != (uint32_t)(tag >> 32) || !w->events)
			continue;
		short rev = l->evs[i].events ?
				    loop_events_from_epoll(l->evs[i].events) :
				    w->fake;
		rev &= w->events | POLLHUP | POLLERR | POLLNVAL;
		if (!rev)
			continue;
		if (fd == l->sig_pipe[0]) {
			ran += loop_signal_dispatch(l);
			continue;
		}
		w->cb(l, fd, rev, w->arg);
		ran++;
	}
	return ran;
}

/* Fire the timers due by now that existed when the pass began (mark). */
static int loop_timer_dispatch(struct loop *l, int64_t now, uint64_t mark)
{
	int ran = 0;
	struct loop_timer_due t;
	while (loop_timers_pop_due(&l->timers, now, mark, &t)) {
		t.cb(l, t.id, t.arg);
		ran++;
	}
	return ran;
}

/* One wait and everything it made ready, then the due timers. The clock is
 * read right after the wait: a timer added during the pass is due no
 * earlier, so it sorts after every older due timer and cannot hold one up. */
int loop_run_once(struct loop *l, int max_wait_ms)
{
	uint64_t mark = loop_timers_mark(&l->timers);
	if (loop_kernel_update(l) < 0)
		return -1;
	int n = loop_wait(l, loop_poll_timeout(l, max_wait_ms));
	if (n < 0)
		return -1;
	int64_t now = clock_mono_ns();
	int ran = loop_fd_dispatch(l, n);
	return ran + loop_timer_dispatch(l, now, mark);
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
