/* Tests for util/loop: fd watches, timers and signals, with real pipes,
 * real signals and a real child. No assertion depends on speed: waits have
 * generous upper bounds only. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop.h"

#define LOOP_TEST_LIMIT_MS 10000

/* ---- helpers ---- */

struct loop_log {
	int items[32];
	size_t n;
};

static void loop_log_add(struct loop_log *g, int v)
{
	if (g->n < sizeof g->items / sizeof g->items[0])
		g->items[g->n++] = v;
}

/* Run passes until *flag is set, failing the test after a generous limit. */
static void loop_test_run_until(struct loop *l, const bool *flag)
{
	int64_t end = clock_mono_ns() + (int64_t)LOOP_TEST_LIMIT_MS * 1000000;
	while (!*flag) {
		assert_true(clock_mono_ns() < end);
		assert_int_not_equal(loop_run_once(l, 100), -1);
	}
}

static void loop_test_pipe(int fds[2])
{
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
}

/* ---- timers ---- */

struct loop_timer_case {
	int delay_ms;
	int tag;
};

struct loop_timer_ctx {
	struct loop_log log;
	size_t want;
	bool done;
	struct loop *l;
	uint64_t victim;
};

struct loop_timer_arg {
	struct loop_timer_ctx *ctx;
	int tag;
};

static void loop_test_on_timer(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct loop_timer_arg *a = arg;
	loop_log_add(&a->ctx->log, a->tag);
	if (a->ctx->log.n == a->ctx->want)
		a->ctx->done = true;
}

/* Deadline order, and ties in the order they were added. */
static void test_loop_timers_in_order(void **state)
{
	(void)state;
	static const struct loop_timer_case cases[] = {
		{ 60, 4 }, { 20, 1 }, { 40, 3 }, { 0, 0 }, { 20, 2 },
		{ 60, 5 },
	};
	const size_t n = sizeof cases / sizeof cases[0];
	struct loop *l = loop_new(NULL);
	struct loop_timer_ctx ctx = { .want = n };
	struct loop_timer_arg args[sizeof cases / sizeof cases[0]];
	int64_t t0 = clock_mono_ns();
	for (size_t i = 0; i < n; i++) {
		args[i] = (struct loop_timer_arg){ &ctx, cases[i].tag };
		uint64_t id = loop_timer_add(l, cases[i].delay_ms,
					     loop_test_on_timer, &args[i]);
		assert_true(id != 0);
	}
	loop_test_run_until(l, &ctx.done);
	assert_true(clock_mono_ns() - t0 >= 60 * 1000000LL);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(ctx.log.items[i], (int)i);
	loop_free(l);
}

struct loop_stamp {
	int64_t at;
	bool fired;
};

static void loop_test_on_stamp(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct loop_stamp *s = arg;
	s->at = clock_mono_ns();
	s->fired = true;
}

/* A timer never fires before its delay. */
static void test_loop_timer_never_early(void **state)
{
	(void)state;
	static const int delays[] = { 1, 15, 50 };
	struct loop *l = loop_new(NULL);
	for (size_t i = 0; i < sizeof delays / sizeof delays[0]; i++) {
		struct loop_stamp s = { 0 };
		int64_t t0 = clock_mono_ns();
		loop_timer_add(l, delays[i], loop_test_on_stamp, &s);
		loop_test_run_until(l, &s.fired);
		assert_true(s.at - t0 >= delays[i] * 1000000LL);
	}
	loop_free(l);
}

/* Timers at one absolute time fire in one pass however far apart they were
 * added, never before it; a time already past fires in the next pass. */
static void test_loop_timer_at_shared(void **state)
{
	(void)state;
	enum { N = 20 };
	struct loop *l = loop_new(NULL);
	struct loop_stamp s[N] = { 0 };
	int64_t at = clock_mono_ns() + 40 * 1000000LL;
	for (int i = 0; i < N; i++) {
		assert_true(loop_timer_at(l, at, loop_test_on_stamp, &s[i]) != 0);
		usleep(500); /* each added at another moment */
	}
	int fired = 0;
	while (!fired) {
		assert_int_not_equal(loop_run_once(l, 1000), -1);
		for (int i = 0; i < N; i++)
			fired += s[i].fired;
	}
	assert_int_equal(fired, N);
	for (int i = 0; i < N; i++)
		assert_true(s[i].at >= at);

	struct loop_stamp past = { 0 };
	loop_timer_at(l, clock_mono_ns() - 1000000000LL, loop_test_on_stamp, &past);
	assert_int_not_equal(loop_run_once(l, 5000), -1);
	assert_true(past.fired);
	loop_free(l);
}

static void loop_test_on_cancel_victim(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	struct loop_timer_ctx *ctx = arg;
	assert_int_equal(loop_timer_cancel(l, ctx->victim), 0);
	loop_log_add(&ctx->log, 1);
	ctx->done = true;
}

static void loop_test_on_fail(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	(void)arg;
	fail_msg("a cancelled timer fired");
}

/* Cancelling works from outside and from a timer due in the same pass. */
static void test_loop_timer_cancel(void **state)
{
	(void)state;
	struct loop *l = loop_new(NULL);
	uint64_t a = loop_timer_add(l, 10, loop_test_on_fail, NULL);
	assert_int_equal(loop_timer_cancel(l, a), 0);
	assert_int_equal(loop_timer_cancel(l, a), -1);
	assert_int_equal(loop_timer_cancel(l, 0), -1);

	struct loop_timer_ctx ctx = { 0 };
	loop_timer_add(l, 5, loop_test_on_cancel_victim, &ctx);
	ctx.victim = loop_timer_add(l, 5, loop_test_on_fail, NULL);
	/* Make sure both are due before the first pass dispatches. */
	usleep(20000);
	loop_test_run_until(l, &ctx.done);
	for (int i = 0; i < 3; i++)
		assert_int_not_equal(loop_run_once(l, 20), -1);
	assert_int_equal(ctx.log.n, 1);
	loop_free(l);
}

struct loop_rearm {
	int fired;
};

static void loop_test_on_rearm(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	struct loop_rearm *r = arg;
	r->fired++;
	loop_timer_add(l, 0, loop_test_on_rearm, r);
}

/* A zero-delay re-arm runs in the next pass, so one pass always ends. */
static void test_loop_timer_rearm_next_pass(void **state)
{
	(void)state;
	struct loop *l = loop_new(NULL);
	struct loop_rearm r = { 0 };
	loop_timer_add(l, 0, loop_test_on_rearm, &r);
	for (int pass = 1; pass <= 5; pass++) {
		assert_int_equal(loop_run_once(l, 1000), 1);
		assert_int_equal(r.fired, pass);
	}
	loop_free(l);
}

static void loop_test_on_stop(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	int *n = arg;
	(*n)++;
	loop_stop(l);
}

/* loop_run returns after loop_stop, and the stop request is consumed. */
static void test_loop_run_stop(void **state)
{
	(void)state;
	struct loop *l = loop_new(NULL);
	int n = 0;
	for (int round = 1; round <= 2; round++) {
		loop_timer_add(l, 10, loop_test_on_stop, &n);
		assert_int_equal(loop_run(l), 0);
		assert_int_equal(n, round);
	}
	/* Nothing to do: a bounded pass dispatches nothing. */
	assert_int_equal(loop_run_once(l, 10), 0);
	loop_free(l);
}

/* ---- timers at scale ---- */

#define LOOP_TEST_TIMERS 10000

struct loop_many_timers {
	int64_t lo[LOOP_TEST_TIMERS], hi[LOOP_TEST_TIMERS];
	int delay[LOOP_TEST_TIMERS];
	uint64_t id[LOOP_TEST_TIMERS];
	bool cancelled[LOOP_TEST_TIMERS];
	size_t fired[LOOP_TEST_TIMERS];
	int64_t at[LOOP_TEST_TIMERS];
	size_t nfired;
	size_t want;
	bool done;
};

struct loop_many_arg {
	struct loop_many_timers *m;
	size_t i;
};

static void loop_test_on_many_timer(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	struct loop_many_arg *a = arg;
	assert_true(id == a->m->id[a->i]);
	assert_false(a->m->cancelled[a->i]);
	a->m->at[a->i] = clock_mono_ns();
	a->m->fired[a->m->nfired++] = a->i;
	a->m->done = a->m->nfired == a->m->want;
}

/* 10,000 timers over a few delays, a third cancelled (the first one, the
 * current minimum, among them): the rest fire once each, never early, in
 * deadline order with ties in the order added. Each deadline is only known
 * to lie between two clock readings around its loop_timer_add, so the
 * order is checked against those bounds. */
static void test_loop_timers_at_scale(void **state)
{
	(void)state;
	struct loop_many_timers *m = calloc(1, sizeof *m);
	struct loop_many_arg *args = calloc(LOOP_TEST_TIMERS, sizeof *args);
	struct loop *l = loop_new(NULL);
	for (size_t i = 0; i < LOOP_TEST_TIMERS; i++) {
		m->delay[i] = (int)((i * 7919) % 5) * 10;
		args[i] = (struct loop_many_arg){ m, i };
		m->lo[i] = clock_mono_ns();
		m->id[i] = loop_timer_add(l, m->delay[i], loop_test_on_many_timer, &args[i]);
		m->hi[i] = clock_mono_ns();
		assert_true(m->id[i] != 0);
	}
	m->want = LOOP_TEST_TIMERS;
	for (size_t i = 0; i < LOOP_TEST_TIMERS; i += 3) {
		assert_int_equal(loop_timer_cancel(l, m->id[i]), 0);
		m->cancelled[i] = true;
		m->want--;
	}
	loop_test_run_until(l, &m->done);
	for (size_t k = 0; k < m->nfired; k++) {
		size_t i = m->fired[k];
		assert_true(m->at[i] - m->lo[i] >= m->delay[i] * 1000000LL);
		if (k == 0)
			continue;
		size_t p = m->fired[k - 1];
		/* p's deadline is at least lo[p] + delay, i's at most hi[i] + delay. */
		assert_true(m->lo[p] + m->delay[p] * 1000000LL <=
			    m->hi[i] + m->delay[i] * 1000000LL);
		if (m->delay[p] == m->delay[i])
			assert_true(p < i);
	}
	/* Fired ids are spent; nothing is left to fire. */
	assert_int_equal(loop_timer_cancel(l, m->id[1]), -1);
	assert_int_equal(loop_run_once(l, 20), 0);
	loop_free(l);
	free(args);
	free(m);
}

/* Cancelling the earliest timer makes the next one the earliest: the loop
 * waits for that one, not for the cancelled deadline nor forever. */
static void test_loop_timer_cancel_minimum(void **state)
{
	(void)state;
	struct loop *l = loop_new(NULL);
	struct loop_stamp s = { 0 };
	uint64_t first = loop_timer_add(l, 5, loop_test_on_fail, NULL);
	int64_t t0 = clock_mono_ns();
	loop_timer_add(l, 40, loop_test_on_stamp, &s);
	uint64_t late = loop_timer_add(l, 3600 * 1000, loop_test_on_fail, NULL);
	assert_int_equal(loop_timer_cancel(l, first), 0);
	assert_int_equal(loop_run_once(l, -1), 1);
	assert_true(s.fired);
	assert_true(s.at - t0 >= 40 * 1000000LL);
	assert_int_equal(loop_timer_cancel(l, late), 0);
	assert_int_equal(loop_run_once(l, 20), 0);
	loop_free(l);
}

/* ---- fd watches ---- */

struct loop_fd_ctx {
	struct loop *l;
	int hits[4];
	short revents[4];
	int fds[4][2];
	int replacement[2];
	bool replacement_hit;
};

static int loop_test_slot(struct loop_fd_ctx *c, int fd)
{
	for (int i = 0; i < 4; i++)
		if (c->fds[i][0] == fd || c->fds[i][1] == fd)
			return i;
	fail_msg("callback for unknown fd %d", fd);
	return -1;
}

static void loop_test_on_fd(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	struct loop_fd_ctx *c = arg;
	int i = loop_test_slot(c, fd);
	c->hits[i]++;
	c->revents[i] = revents;
}

static void loop_fd_ctx_open(struct loop_fd_ctx *c)
{
	memset(c, 0, sizeof *c);
	c->l = loop_new(NULL);
	for (int i = 0; i < 4; i++)
		loop_test_pipe(c->fds[i]);
	c->replacement[0] = c->replacement[1] = -1;
}

static void loop_fd_ctx_close(struct loop_fd_ctx *c)
{
	for (int i = 0; i < 4; i++)
		for (int j = 0; j < 2; j++)
			if (c->fds[i][j] >= 0)
				close(c->fds[i][j]);
	for (int j = 0; j < 2; j++)
		if (c->replacement[j] >= 0)
			close(c->replacement[j]);
	loop_free(c->l);
}

/* Readable and writable fds are dispatched with the right revents, an idle
 * watch is not polled, and changing events takes effect. */
static void test_loop_fd_events(void **state)
{
	(void)state;
	struct loop_fd_ctx c;
	loop_fd_ctx_open(&c);
	struct err e;
	assert_int_equal(write(c.fds[0][1], "x", 1), 1);
	assert_int_equal(loop_fd_add(c.l, c.fds[0][0], 0, loop_test_on_fd, &c, &e), 0);
	assert_int_equal(loop_run_once(c.l, 20), 0);
	assert_int_equal(c.hits[0], 0);

	assert_int_equal(loop_fd_set(c.l, c.fds[0][0], POLLIN), 0);
	assert_int_equal(loop_run_once(c.l, 1000), 1);
	assert_int_equal(c.hits[0], 1);
	assert_true(c.revents[0] & POLLIN);

	assert_int_equal(loop_fd_add(c.l, c.fds[1][1], POLLOUT, loop_test_on_fd, &c, &e), 0);
	assert_int_equal(loop_fd_set(c.l, c.fds[0][0], 0), 0);
	assert_int_equal(loop_run_once(c.l, 1000), 1);
	assert_int_equal(c.hits[1], 1);
	assert_true(c.revents[1] & POLLOUT);
	assert_false(c.revents[1] & POLLIN);

	/* A closed write end is reported as a hang-up. */
	loop_fd_remove(c.l, c.fds[1][1]);
	loop_fd_remove(c.l, c.fds[0][0]);
	assert_int_equal(loop_fd_add(c.l, c.fds[2][0], POLLIN, loop_test_on_fd, &c, &e), 0);
	close(c.fds[2][1]);
	c.fds[2][1] = -1;
	assert_int_equal(loop_run_once(c.l, 1000), 1);
	assert_true(c.revents[2] & POLLHUP);

	assert_int_equal(loop_fd_set(c.l, 12345, POLLIN), -1);
	loop_fd_ctx_close(&c);
}

/* Bad and duplicate watches are refused with a message. */
static void test_loop_fd_add_errors(void **state)
{
	(void)state;
	struct loop_fd_ctx c;
	loop_fd_ctx_open(&c);
	struct err e;
	assert_int_equal(loop_fd_add(c.l, c.fds[0][0], POLLIN, loop_test_on_fd, &c, &e), 0);
	assert_int_equal(loop_fd_add(c.l, c.fds[0][0], POLLIN, loop_test_on_fd, &c, &e), -1);
	assert_non_null(strstr(e.msg, "already watched"));
	assert_int_equal(loop_fd_add(c.l, -1, POLLIN, loop_test_on_fd, &c, &e), -1);
	assert_non_null(strstr(e.msg, "bad file descriptor"));
	assert_int_equal(loop_fd_add(c.l, c.fds[1][0], POLLIN, NULL, NULL, &e), -1);
	/* Removing makes the fd watchable again. */
	loop_fd_remove(c.l, c.fds[0][0]);
	assert_int_equal(loop_fd_add(c.l, c.fds[0][0], POLLIN, loop_test_on_fd, &c, &e), 0);
	loop_fd_ctx_close(&c);
}

static void loop_test_on_remove_self(struct loop *l, int fd, short revents,
				     void *arg)
{
	(void)revents;
	struct loop_fd_ctx *c = arg;
	c->hits[loop_test_slot(c, fd)]++;
	loop_fd_remove(l, fd);
}

static void loop_test_on_replacement(struct loop *l, int fd, short revents,
				     void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	struct loop_fd_ctx *c = arg;
	c->replacement_hit = true;
}

/* Slot 0's callback removes slot 1's watch, closes it, and watches a fresh
 * (empty) pipe that may well reuse the fd number. */
static void loop_test_on_remove_other(struct loop *l, int fd, short revents,
				      void *arg)
{
	(void)revents;
	struct loop_fd_ctx *c = arg;
	c->hits[loop_test_slot(c, fd)]++;
	loop_fd_remove(l, c->fds[1][0]);
	close(c->fds[1][0]);
	c->fds[1][0] = -1;
	loop_test_pipe(c->replacement);
	assert_int_equal(loop_fd_add(l, c->replacement[0], POLLIN,
				     loop_test_on_replacement, c, NULL), 0);
}

/* Unwatching inside a callback, the dispatched fd's own or another's, is
 * safe, and stale readiness never reaches a new watch on a reused fd. */
static void test_loop_fd_remove_in_callback(void **state)
{
	(void)state;
	struct loop_fd_ctx c;
	loop_fd_ctx_open(&c);
	assert_int_equal(write(c.fds[0][1], "x", 1), 1);
	assert_int_equal(write(c.fds[1][1], "y", 1), 1);
	assert_int_equal(loop_fd_add(c.l, c.fds[0][0], POLLIN, loop_test_on_remove_other, &c, NULL), 0);
	assert_int_equal(loop_fd_add(c.l, c.fds[1][0], POLLIN, loop_test_on_fd, &c, NULL), 0);
	assert_int_equal(loop_run_once(c.l, 1000), 1);
	assert_int_equal(c.hits[0], 1);
	assert_int_equal(c.hits[1], 0);
	assert_false(c.replacement_hit);
	loop_fd_remove(c.l, c.fds[0][0]);

	assert_int_equal(write(c.fds[2][1], "z", 1), 1);
	assert_int_equal(loop_fd_add(c.l, c.fds[2][0], POLLIN, loop_test_on_remove_self, &c, NULL), 0);
	assert_int_equal(loop_run_once(c.l, 1000), 1);
	assert_int_equal(loop_run_once(c.l, 20), 0);
	assert_int_equal(c.hits[2], 1);
	assert_false(c.replacement_hit);
	loop_fd_ctx_close(&c);
}

/* ---- fds at scale, and fds epoll treats differently ---- */

/* Raise the soft fd limit as far as the hard one allows (at most want);
 * returns the limit now in force. */
static long loop_test_fd_limit(long want)
{
	struct rlimit rl;
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	if (rl.rlim_cur != RLIM_INFINITY && (long)rl.rlim_cur < want) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || (long)rl.rlim_max > want ?
				      (rlim_t)want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
		assert_int_equal(getrlimit(RLIMIT_NOFILE, &rl), 0);
	}
	return rl.rlim_cur == RLIM_INFINITY ? want : (long)rl.rlim_cur;
}

struct loop_many {
	int (*fds)[2];
	int *hits;
	size_t n;
	int high; /* a read end moved to a high fd number, or -1 */
	short bad_revents;
};

static void loop_test_on_many(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	struct loop_many *m = arg;
	for (size_t i = 0; i < m->n; i++) {
		if (m->fds[i][0] == fd) {
			m->hits[i]++;
			if (revents != POLLIN)
				m->bad_revents = revents;
			return;
		}
	}
	fail_msg("callback for unknown fd %d", fd);
}

/* Up to 2,000 watched pipes, one of them at a high fd number: one pass
 * hands exactly the written ones to their callbacks, once each. */
static void test_loop_many_fds(void **state)
{
	(void)state;
	long limit = loop_test_fd_limit(8192);
	struct loop_many m = { .n = 2000, .high = -1 };
	if ((long)m.n * 2 + 64 > limit)
		m.n = (size_t)(limit - 64) / 2;
	assert_true(m.n >= 400);
	m.fds = calloc(m.n, sizeof *m.fds);
	m.hits = calloc(m.n, sizeof *m.hits);
	struct loop *l = loop_new(NULL);
	for (size_t i = 0; i < m.n; i++)
		loop_test_pipe(m.fds[i]);
	/* A sparse table: the last read end moved far above the others. */
	int high = (int)limit - 2;
	assert_int_equal(dup3(m.fds[m.n - 1][0], high, O_CLOEXEC), high);
	close(m.fds[m.n - 1][0]);
	m.fds[m.n - 1][0] = high;
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(loop_fd_add(l, m.fds[i][0], POLLIN, loop_test_on_many, &m, NULL), 0);
	assert_int_equal(loop_run_once(l, 20), 0);
	int want = 0;
	for (size_t i = 0; i < m.n; i++) {
		if (i % 7 == 0 || i == m.n - 1) {
			assert_int_equal(write(m.fds[i][1], "x", 1), 1);
			want++;
		}
	}
	assert_int_equal(loop_run_once(l, 1000), want);
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(m.hits[i], i % 7 == 0 || i == m.n - 1);
	assert_int_equal(m.bad_revents, 0);
	/* Paused watches are not reported, even with data waiting. */
	for (size_t i = 0; i < m.n; i++)
		assert_int_equal(loop_fd_set(l, m.fds[i][0], 0), 0);
	assert_int_equal(loop_run_once(l, 20), 0);
	for (size_t i = 0; i < m.n; i++) {
		loop_fd_remove(l, m.fds[i][0]);
		close(m.fds[i][0]);
		close(m.fds[i][1]);
	}
	assert_int_equal(loop_run_once(l, 20), 0);
	loop_free(l);
	free(m.fds);
	free(m.hits);
}

struct loop_swap {
	int fds[2][2];
	int first_hits, new_hits;
	bool swapped;
};

static void loop_test_on_new(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	struct loop_swap *s = arg;
	s->new_hits++;
}

/* Whichever of the two runs first unwatches the other and watches the same
 * fd again, with another callback. */
static void loop_test_on_swap(struct loop *l, int fd, short revents, void *arg)
{
	(void)revents;
	struct loop_swap *s = arg;
	s->first_hits++;
	if (s->swapped)
		return;
	s->swapped = true;
	int other = fd == s->fds[0][0] ? s->fds[1][0] : s->fds[0][0];
	loop_fd_remove(l, other);
	assert_int_equal(loop_fd_add(l, other, POLLIN, loop_test_on_new, s, NULL), 0);
}

/* An fd watched again in the same pass (the very same pipe, still readable)
 * is not handed the readiness collected for its old watch; the next pass
 * reports it to the new one. */
static void test_loop_fd_readd_same_pass(void **state)
{
	(void)state;
	struct loop_swap s = { 0 };
	struct loop *l = loop_new(NULL);
	for (int i = 0; i < 2; i++) {
		loop_test_pipe(s.fds[i]);
		assert_int_equal(write(s.fds[i][1], "x", 1), 1);
		assert_int_equal(loop_fd_add(l, s.fds[i][0], POLLIN, loop_test_on_swap, &s, NULL), 0);
	}
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.first_hits, 1);
	assert_int_equal(s.new_hits, 0);
	assert_int_equal(loop_run_once(l, 1000), 2);
	assert_int_equal(s.first_hits, 2);
	assert_int_equal(s.new_hits, 1);
	loop_free(l);
	for (int i = 0; i < 2; i++)
		for (int j = 0; j < 2; j++)
			close(s.fds[i][j]);
}

struct loop_seen {
	int hits;
	short revents;
};

static void loop_test_on_seen(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	struct loop_seen *s = arg;
	s->hits++;
	s->revents = revents;
}

/* A pass that has nothing to do waits its whole timeout: the loop does not
 * spin. */
static void loop_test_idle_pass(struct loop *l)
{
	int64_t t0 = clock_mono_ns();
	assert_int_equal(loop_run_once(l, 30), 0);
	assert_true(clock_mono_ns() - t0 >= 30 * 1000000LL);
}

/* What poll(2) itself says about fd for events. */
static short loop_test_poll_says(int fd, short events)
{
	struct pollfd p = { .fd = fd, .events = events };
	assert_int_equal(poll(&p, 1, 0), 1);
	return p.revents;
}

/* Files epoll cannot watch (a regular file, /dev/null) are reported ready
 * every pass, as poll(2) reports them; paused, they are not reported. */
static void test_loop_fd_unpollable(void **state)
{
	(void)state;
	char path[] = "/tmp/qrh-loop-test.XXXXXX";
	int file = mkostemp(path, O_CLOEXEC);
	assert_true(file >= 0);
	unlink(path);
	int null = open("/dev/null", O_RDWR | O_CLOEXEC);
	assert_true(null >= 0);
	struct loop *l = loop_new(NULL);
	struct loop_seen sf = { 0 }, sn = { 0 };
	assert_int_equal(loop_fd_add(l, file, POLLIN | POLLOUT, loop_test_on_seen, &sf, NULL), 0);
	assert_int_equal(loop_fd_add(l, null, POLLIN, loop_test_on_seen, &sn, NULL), 0);
	for (int pass = 1; pass <= 3; pass++) {
		assert_int_equal(loop_run_once(l, 1000), 2);
		assert_int_equal(sf.hits, pass);
		assert_int_equal(sn.hits, pass);
	}
	assert_int_equal(sf.revents, loop_test_poll_says(file, POLLIN | POLLOUT));
	assert_int_equal(sn.revents, loop_test_poll_says(null, POLLIN));
	assert_int_equal(loop_fd_set(l, file, POLLOUT), 0);
	assert_int_equal(loop_run_once(l, 1000), 2);
	assert_int_equal(sf.revents, POLLOUT);
	assert_int_equal(loop_fd_set(l, file, 0), 0);
	assert_int_equal(loop_fd_set(l, null, 0), 0);
	loop_test_idle_pass(l);
	assert_int_equal(sf.hits, 4);
	loop_fd_remove(l, file);
	loop_fd_remove(l, null);
	loop_test_idle_pass(l);
	loop_free(l);
	close(file);
	close(null);
}

/* A paused reader whose writer has gone is not polled: its hang-up does not
 * wake the loop (epoll would report it however little was asked for). */
static void test_loop_fd_paused_hangup(void **state)
{
	(void)state;
	int p[2];
	loop_test_pipe(p);
	struct loop *l = loop_new(NULL);
	struct loop_seen s = { 0 };
	assert_int_equal(loop_fd_add(l, p[0], POLLIN, loop_test_on_seen, &s, NULL), 0);
	loop_test_idle_pass(l);
	assert_int_equal(loop_fd_set(l, p[0], 0), 0);
	close(p[1]);
	loop_test_idle_pass(l);
	assert_int_equal(s.hits, 0);
	assert_int_equal(loop_fd_set(l, p[0], POLLIN), 0);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_true(s.revents & POLLHUP);
	loop_fd_remove(l, p[0]);
	close(p[0]);
	loop_free(l);
}

/* An fd that was never open is reported POLLNVAL, as poll(2) does. */
static void test_loop_fd_not_open(void **state)
{
	(void)state;
	int fd = (int)loop_test_fd_limit(1024) - 1;
	assert_true(fcntl(fd, F_GETFD) < 0);
	struct loop *l = loop_new(NULL);
	struct loop_seen s = { 0 };
	assert_int_equal(loop_fd_add(l, fd, POLLIN, loop_test_on_seen, &s, NULL), 0);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(s.revents, POLLNVAL);
	loop_fd_remove(l, fd);
	loop_test_idle_pass(l);
	assert_int_equal(s.hits, 1);
	loop_free(l);
}

/* Unwatches its fd: the caller's answer to readiness on a closed fd. */
static void loop_test_on_seen_remove(struct loop *l, int fd, short revents,
				     void *arg)
{
	loop_test_on_seen(l, fd, revents, arg);
	loop_fd_remove(l, fd);
}

/* A watched fd closed behind the loop's back, its pipe still open through a
 * dup (as in a child between fork and exec): epoll goes on reporting it.
 * Once it is unwatched the loop neither crashes nor spins, and still
 * serves its other watches. Then the same with the pipe gone for good. */
static void test_loop_fd_closed_behind_back(void **state)
{
	(void)state;
	int p[2], q[2];
	loop_test_pipe(p);
	loop_test_pipe(q);
	struct loop *l = loop_new(NULL);
	struct loop_seen sp = { 0 }, sq = { 0 };
	assert_int_equal(loop_fd_add(l, p[0], POLLIN, loop_test_on_seen_remove, &sp, NULL), 0);
	assert_int_equal(loop_fd_add(l, q[0], POLLIN, loop_test_on_seen, &sq, NULL), 0);
	loop_test_idle_pass(l);
	int keep = fcntl(p[0], F_DUPFD_CLOEXEC, 0);
	assert_true(keep >= 0);
	int watched = p[0];
	close(p[0]);
	assert_int_equal(write(p[1], "x", 1), 1);
	/* epoll reports the old fd (poll(2) would say POLLNVAL): either way
	 * the callback hears of it, and unwatches it. */
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(sp.hits, 1);
	loop_test_idle_pass(l);
	loop_test_idle_pass(l);
	assert_int_equal(write(q[1], "y", 1), 1);
	assert_int_equal(loop_run_once(l, 1000), 1);
	assert_int_equal(sq.hits, 1);
	char c;
	assert_int_equal(read(q[0], &c, 1), 1);

	/* Gone for good: epoll forgets it silently; unwatching is harmless. */
	close(keep);
	close(p[1]);
	close(q[0]);
	loop_fd_remove(l, watched);
	loop_fd_remove(l, q[0]);
	close(q[1]);
	loop_test_idle_pass(l);
	loop_free(l);
}

/* ---- signals ---- */

struct loop_sig_ctx {
	int hits[65];
	bool done;
};

static void loop_test_on_signal(struct loop *l, int signo, void *arg)
{
	(void)l;
	struct loop_sig_ctx *c = arg;
	c->hits[signo]++;
	c->done = true;
}

/* Signals reach callbacks from the loop, not from the handler; a burst of
 * one signal between passes is reported once; loop_free gives each signal
 * back the disposition it had, whatever that was: the test may have been
 * started with SIGINT or SIGHUP ignored (nohup, a background job), and
 * ignores two more itself so that both kinds are always checked. */
static void test_loop_signals_delivered(void **state)
{
	(void)state;
	static const int sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, SIGINT,
				    SIGWINCH };
	enum { NSIGS = sizeof sigs / sizeof sigs[0] };
	struct sigaction inherited[NSIGS], before[NSIGS];
	struct sigaction ign = { .sa_handler = SIG_IGN };
	for (size_t i = 0; i < NSIGS; i++)
		assert_int_equal(sigaction(sigs[i], NULL, &inherited[i]), 0);
	assert_int_equal(sigaction(SIGUSR2, &ign, NULL), 0);
	assert_int_equal(sigaction(SIGWINCH, &ign, NULL), 0);
	for (size_t i = 0; i < NSIGS; i++)
		assert_int_equal(sigaction(sigs[i], NULL, &before[i]), 0);
	struct loop *l = loop_new(NULL);
	struct loop_sig_ctx c = { 0 };
	struct err e;
	for (size_t i = 0; i < NSIGS; i++) {
		assert_int_equal(loop_signal(l, sigs[i], loop_test_on_signal, &c, &e), 0);
		memset(&c, 0, sizeof c);
		for (int k = 0; k < 3; k++)
			assert_int_equal(kill(getpid(), sigs[i]), 0);
		/* The handler ran (kill to self delivers before returning),
		 * but no callback yet. */
		assert_int_equal(c.hits[sigs[i]], 0);
		loop_test_run_until(l, &c.done);
		assert_int_equal(c.hits[sigs[i]], 1);
	}
	loop_free(l);
	/* Dispositions are back to what they were before loop_signal. */
	for (size_t i = 0; i < NSIGS; i++) {
		struct sigaction sa;
		assert_int_equal(sigaction(sigs[i], NULL, &sa), 0);
		assert_ptr_equal(sa.sa_handler, before[i].sa_handler);
	}
	for (size_t i = 0; i < NSIGS; i++)
		assert_int_equal(sigaction(sigs[i], &inherited[i], NULL), 0);
}

/* SIGCHLD from a real child reaches the loop. */
static void test_loop_signal_sigchld(void **state)
{
	(void)state;
	struct loop *l = loop_new(NULL);
	struct loop_sig_ctx c = { 0 };
	assert_int_equal(loop_signal(l, SIGCHLD, loop_test_on_signal, &c, NULL), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(7);
	loop_test_run_until(l, &c.done);
	assert_int_equal(c.hits[SIGCHLD], 1);
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_int_equal(WEXITSTATUS(st), 7);
	loop_free(l);
}

/* Unrouting restores the old disposition; a second loop cannot take
 * signals while the first has them; impossible signals are refused. */
static void test_loop_signal_ownership(void **state)
{
	(void)state;
	struct sigaction ign, old;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGUSR1, &ign, &old);

	struct loop *a = loop_new(NULL), *b = loop_new(NULL);
	struct loop_sig_ctx c = { 0 };
	struct err e;
	assert_int_equal(loop_signal(a, SIGUSR1, loop_test_on_signal, &c, &e), 0);
	assert_int_equal(loop_signal(b, SIGUSR2, loop_test_on_signal, &c, &e), -1);
	assert_non_null(strstr(e.msg, "another loop"));
	assert_int_equal(loop_signal(a, SIGKILL, loop_test_on_signal, &c, &e), -1);
	assert_int_equal(loop_signal(a, 0, loop_test_on_signal, &c, &e), -1);

	assert_int_equal(loop_signal(a, SIGUSR1, NULL, NULL, &e), 0);
	struct sigaction now;
	sigaction(SIGUSR1, NULL, &now);
	assert_ptr_equal(now.sa_handler, SIG_IGN);

	loop_free(a);
	assert_int_equal(loop_signal(b, SIGUSR2, loop_test_on_signal, &c, &e), 0);
	loop_free(b);
	sigaction(SIGUSR1, &old, NULL);
}

/* ---- fds the loop creates ---- */

static void loop_test_fdset(bool open[1024])
{
	memset(open, 0, 1024);
	DIR *d = opendir("/proc/self/fd");
	assert_non_null(d);
	struct dirent *de;
	while ((de = readdir(d))) {
		int fd = atoi(de->d_name);
		if (de->d_name[0] != '.' && fd != dirfd(d) && fd < 1024)
			open[fd] = true;
	}
	closedir(d);
}

/* Every fd the loop opens is close-on-exec (and non-blocking). */
static void test_loop_fds_cloexec(void **state)
{
	(void)state;
	bool before[1024], after[1024];
	loop_test_fdset(before);
	struct loop *l = loop_new(NULL);
	struct loop_sig_ctx c = { 0 };
	assert_int_equal(loop_signal(l, SIGUSR1, loop_test_on_signal, &c, NULL), 0);
	loop_test_fdset(after);
	int created = 0;
	for (int fd = 0; fd < 1024; fd++) {
		if (!after[fd] || before[fd])
			continue;
		created++;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	}
	assert_int_equal(created, 2);
	loop_free(l);
	loop_test_fdset(after);
	assert_memory_equal(before, after, sizeof before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loop_timers_in_order),
		cmocka_unit_test(test_loop_timer_never_early),
		cmocka_unit_test(test_loop_timer_at_shared),
		cmocka_unit_test(test_loop_timer_cancel),
		cmocka_unit_test(test_loop_timer_rearm_next_pass),
		cmocka_unit_test(test_loop_run_stop),
		cmocka_unit_test(test_loop_timers_at_scale),
		cmocka_unit_test(test_loop_timer_cancel_minimum),
		cmocka_unit_test(test_loop_fd_events),
		cmocka_unit_test(test_loop_fd_add_errors),
		cmocka_unit_test(test_loop_fd_remove_in_callback),
		cmocka_unit_test(test_loop_many_fds),
		cmocka_unit_test(test_loop_fd_readd_same_pass),
		cmocka_unit_test(test_loop_fd_unpollable),
		cmocka_unit_test(test_loop_fd_paused_hangup),
		cmocka_unit_test(test_loop_fd_not_open),
		cmocka_unit_test(test_loop_fd_closed_behind_back),
		cmocka_unit_test(test_loop_signals_delivered),
		cmocka_unit_test(test_loop_signal_sigchld),
		cmocka_unit_test(test_loop_signal_ownership),
		cmocka_unit_test(test_loop_fds_cloexec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
