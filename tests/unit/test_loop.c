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
 * one signal between passes is reported once. */
static void test_loop_signals_delivered(void **state)
{
	(void)state;
	static const int sigs[] = { SIGUSR1, SIGUSR2, SIGHUP, SIGTERM, SIGINT,
				    SIGWINCH };
	struct loop *l = loop_new(NULL);
	struct loop_sig_ctx c = { 0 };
	struct err e;
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
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
	/* Dispositions are back to default. */
	for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
		struct sigaction sa;
		assert_int_equal(sigaction(sigs[i], NULL, &sa), 0);
		assert_ptr_equal(sa.sa_handler, SIG_DFL);
	}
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
		cmocka_unit_test(test_loop_timer_cancel),
		cmocka_unit_test(test_loop_timer_rearm_next_pass),
		cmocka_unit_test(test_loop_run_stop),
		cmocka_unit_test(test_loop_fd_events),
		cmocka_unit_test(test_loop_fd_add_errors),
		cmocka_unit_test(test_loop_fd_remove_in_callback),
		cmocka_unit_test(test_loop_signals_delivered),
		cmocka_unit_test(test_loop_signal_sigchld),
		cmocka_unit_test(test_loop_signal_ownership),
		cmocka_unit_test(test_loop_fds_cloexec),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
