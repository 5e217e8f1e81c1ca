/* loop: what one pass of util/loop costs as the watched set grows.
 *
 *   bench/loop [-f FDS] [-t TIMERS] [-n PASSES]
 *
 * A pass is loop_run_once(l, 0) with nothing ready. The big case watches
 * FDS idle pipes (default 2000) and holds TIMERS pending timers an hour
 * away (default 10000); the baseline, in the same run, watches 10 pipes and
 * holds no timer. Then a timer add+cancel, alone and with TIMERS pending,
 * and for reference a bare poll(2) over the FDS read ends: about what a pass
 * of a poll(2) loop costs. Each figure is the best of several rounds, the
 * cases interleaved so that a busy machine hurts them alike. Prints figures
 * only; it never fails on a slow machine. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/loop.h"
#include "util/xalloc.h"

#define BENCH_ROUNDS 7
#define BENCH_SMALL_FDS 10
#define BENCH_FAR_MS (3600 * 1000)

struct bench_set {
	struct loop *l;
	int (*pipes)[2];
	struct pollfd *pfds;
	size_t npipes;
};

static void bench_on_fd(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)fd;
	(void)revents;
	(void)arg;
	fprintf(stderr, "loop bench: an idle fd was reported ready\n");
	exit(1);
}

static void bench_on_timer(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	(void)arg;
	fprintf(stderr, "loop bench: a far timer fired\n");
	exit(1);
}

/* Room for every pipe end, or a message saying what is missing. */
static int bench_fd_room(size_t fds)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)(2 * fds + BENCH_SMALL_FDS * 2 + 64);
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need ?
				      rl.rlim_max : need;
		setrlimit(RLIMIT_NOFILE, &rl);
		getrlimit(RLIMIT_NOFILE, &rl);
	}
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < need) {
		fprintf(stderr, "loop bench: %zu pipes need %llu fds, the limit is %llu\n",
			fds, (unsigned long long)need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/* A loop watching npipes idle pipes and holding ntimers far timers. */
static int bench_set_open(struct bench_set *s, size_t npipes, size_t ntimers)
{
	struct err e;
	s->l = loop_new(&e);
	s->npipes = npipes;
	s->pipes = xcalloc(npipes, sizeof *s->pipes);
	s->pfds = xcalloc(npipes, sizeof *s->pfds);
	for (size_t i = 0; i < npipes; i++) {
		if (pipe2(s->pipes[i], O_CLOEXEC | O_NONBLOCK) < 0) {
			fprintf(stderr, "loop bench: pipe: %s\n", strerror(errno));
			return -1;
		}
		if (loop_fd_add(s->l, s->pipes[i][0], POLLIN, bench_on_fd, NULL, &e) < 0) {
			fprintf(stderr, "loop bench: %s\n", e.msg);
			return -1;
		}
		s->pfds[i] = (struct pollfd){ .fd = s->pipes[i][0], .events = POLLIN };
	}
	for (size_t i = 0; i < ntimers; i++)
		loop_timer_add(s->l, BENCH_FAR_MS + (int64_t)(i % 1000), bench_on_timer, NULL);
	/* The first pass registers the fds: not what is measured. */
	return loop_run_once(s->l, 0) == 0 ? 0 : -1;
}

static void bench_set_close(struct bench_set *s)
{
	for (size_t i = 0; i < s->npipes; i++) {
		loop_fd_remove(s->l, s->pipes[i][0]);
		close(s->pipes[i][0]);
		close(s->pipes[i][1]);
	}
	loop_free(s->l);
	free(s->pipes);
	free(s->pfds);
}

/* ns per empty pass. */
static double bench_passes(struct bench_set *s, long n)
{
	int64_t t0 = clock_mono_ns();
	for (long i = 0; i < n; i++)
		if (loop_run_once(s->l, 0) != 0)
			exit(1);
	return (double)(clock_mono_ns() - t0) / (double)n;
}

/* ns per loop_timer_add + loop_timer_cancel pair, the deadline amid those
 * of the pending timers (not before them all: a sorted list would find
 * that one first). */
static double bench_add_cancel(struct bench_set *s, long n)
{
	int64_t t0 = clock_mono_ns();
	for (long i = 0; i < n; i++) {
		uint64_t id = loop_timer_add(s->l, BENCH_FAR_MS + 500, bench_on_timer, NULL);
		if (loop_timer_cancel(s->l, id) != 0)
			exit(1);
	}
	return (double)(clock_mono_ns() - t0) / (double)n;
}

/* ns per poll(2) over the big set's read ends, none ready. */
static double bench_poll(struct bench_set *s, long n)
{
	int64_t t0 = clock_mono_ns();
	for (long i = 0; i < n; i++)
		if (poll(s->pfds, s->npipes, 0) != 0)
			exit(1);
	return (double)(clock_mono_ns() - t0) / (double)n;
}

static void bench_best(double *best, double v)
{
	if (*best == 0 || v < *best)
		*best = v;
}

static int bench_usage(void)
{
	fprintf(stderr, "usage: loop [-f FDS] [-t TIMERS] [-n PASSES]\n");
	return 2;
}

int main(int argc, char **argv)
{
	long fds = 2000, timers = 10000, passes = 20000;
	int c;
	while ((c = getopt(argc, argv, "f:t:n:")) != -1) {
		long *v = c == 'f' ? &fds : c == 't' ? &timers : c == 'n' ? &passes : NULL;
		char *end;
		if (!v)
			return bench_usage();
		*v = strtol(optarg, &end, 10);
		if (*end || *v < (c == 'n'))
			return bench_usage();
	}
	if (optind != argc)
		return bench_usage();
	if (bench_fd_room((size_t)fds) < 0)
		return 1;
	struct bench_set small = { 0 }, big = { 0 };
	if (bench_set_open(&small, BENCH_SMALL_FDS, 0) < 0 ||
	    bench_set_open(&big, (size_t)fds, (size_t)timers) < 0)
		return 1;
	double p_small = 0, p_big = 0, tc_small = 0, tc_big = 0, p_poll = 0;
	for (int r = 0; r < BENCH_ROUNDS; r++) {
		bench_best(&p_small, bench_passes(&small, passes));
		bench_best(&p_big, bench_passes(&big, passes));
		bench_best(&tc_small, bench_add_cancel(&small, passes * 10));
		bench_best(&tc_big, bench_add_cancel(&big, passes * 10));
		bench_best(&p_poll, bench_poll(&big, passes / 10 + 1));
	}
	printf("%-52s %10s\n", "what (best of 7 rounds)", "ns per op");
	printf("%-52s %10.0f\n", "pass, 10 idle fds, no timers", p_small);
	char what[96];
	snprintf(what, sizeof what, "pass, %ld idle fds, %ld timers pending", fds, timers);
	printf("%-52s %10.0f\n", what, p_big);
	printf("%-52s %10.0f\n", "timer add+cancel, no other timers", tc_small);
	snprintf(what, sizeof what, "timer add+cancel, %ld timers pending", timers);
	printf("%-52s %10.0f\n", what, tc_big);
	snprintf(what, sizeof what, "reference: poll(2) alone over the %ld fds", fds);
	printf("%-52s %10.0f\n", what, p_poll);
	printf("big pass / small pass: %.2fx (goal: about 1x)\n", p_big / p_small);
	bench_set_close(&small);
	bench_set_close(&big);
	return 0;
}
