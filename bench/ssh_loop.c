/* bench/ssh_loop: does the ssh kind keep the event loop free?
 *
 * Runs N ssh actions on the targets named on the command line (HOST:PORT
 * each, all with one user, key and known_hosts), at most P at a time, on
 * one loop, while a 5 ms timer measures how late the loop gets to it: the
 * lateness is what a key press would wait for. The same timer alone on an
 * idle loop for the same time is the baseline.
 *
 *   bench_ssh_loop -u USER -i KEY -k KNOWN_HOSTS [-n N] [-p P] HOST:PORT...
 *
 * Prints one line per run: actions, ok, wall time, actions/s, and the
 * timer's lateness (median, 99th percentile, max). Exits 1 if an action
 * did not end ok. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define TICK_MS 5
#define MAX_TICKS 200000

struct bench {
	struct loop *loop;
	const struct action_entry *ent;
	struct action_kind_state *ks;
	struct action act;
	struct action_target *targets;
	size_t n_targets;
	int total, parallel, started, running, done, ok;
	struct action_run **runs;
	int64_t due_ns;
	int64_t *late_us;
	size_t n_late;
	bool stop;
};

struct slot {
	struct bench *b;
	int index;
};

static void start_next(struct bench *b);

static void on_output(void *arg, enum proc_stream st, const char *d, size_t n)
{
	(void)arg;
	(void)st;
	(void)d;
	(void)n;
}

static void on_done(void *arg, const struct action_result *res)
{
	struct slot *s = arg;
	struct bench *b = s->b;
	b->done++;
	b->running--;
	if (res->status == ACTION_OK)
		b->ok++;
	else
		fprintf(stderr, "action %d: %s: %s\n", s->index, action_status_name(res->status),
			res->summary);
	start_next(b);
}

static void start_next(struct bench *b)
{
	while (b->running < b->parallel && b->started < b->total) {
		int i = b->started++;
		struct slot *s = xcalloc(1, sizeof *s);
		s->b = b;
		s->index = i;
		struct action_ctx ctx = {
			.loop = b->loop,
			.ks = b->ks,
			.target = &b->targets[(size_t)i % b->n_targets],
			.grace_ms = 5000,
			.sink = { .output = on_output, .done = on_done, .arg = s },
		};
		struct err e;
		b->runs[i] = b->ent->start(&b->act, &ctx, &e);
		if (!b->runs[i]) {
			fprintf(stderr, "action %d: %s\n", i, e.msg);
			b->done++;
			continue;
		}
		b->running++;
	}
}

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
	struct bench *b = arg;
	int64_t now = clock_mono_ns();
	(void)id;
	if (b->n_late < MAX_TICKS)
		b->late_us[b->n_late++] = (now - b->due_ns) / 1000;
	if (b->stop)
		return;
	b->due_ns = now + TICK_MS * 1000000LL;
	loop_timer_add(l, TICK_MS, on_tick, b);
}

static int cmp64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
	return x < y ? -1 : x > y;
}

static void report(const char *what, struct bench *b, int64_t wall_ns)
{
	qsort(b->late_us, b->n_late, sizeof *b->late_us, cmp64);
	int64_t med = b->n_late ? b->late_us[b->n_late / 2] : 0;
	int64_t p99 = b->n_late ? b->late_us[b->n_late * 99 / 100] : 0;
	int64_t max = b->n_late ? b->late_us[b->n_late - 1] : 0;
	printf("%-9s actions %4d ok %4d  wall %7.1f ms  %6.1f/s  loop late: median %5.2f ms, p99 %6.2f ms, max %6.2f ms\n",
	       what, b->total, b->ok, wall_ns / 1e6,
	       b->total ? b->total / (wall_ns / 1e9) : 0.0, med / 1e3, p99 / 1e3, max / 1e3);
}

/* Ticks the loop for `ms` with nothing else on it. */
static void baseline(struct bench *b, int64_t ms)
{
	int64_t end = clock_mono_ns() + ms * 1000000LL;
	b->n_late = 0;
	b->stop = false;
	b->due_ns = clock_mono_ns() + TICK_MS * 1000000LL;
	loop_timer_add(b->loop, TICK_MS, on_tick, b);
	while (clock_mono_ns() < end)
		loop_run_once(b->loop, 50);
	b->stop = true;
	loop_run_once(b->loop, 2 * TICK_MS);
}

int main(int argc, char **argv)
{
	struct bench b = { .total = 100, .parallel = 20 };
	const char *user = NULL, *key = NULL, *known = NULL;
	int c;
	while ((c = getopt(argc, argv, "u:i:k:n:p:")) != -1) {
		switch (c) {
		case 'u': user = optarg; break;
		case 'i': key = optarg; break;
		case 'k': known = optarg; break;
		case 'n': b.total = atoi(optarg); break;
		case 'p': b.parallel = atoi(optarg); break;
		default: return 2;
		}
	}
	if (!user || !key || !known || optind >= argc || b.total < 1 || b.parallel < 1) {
		fprintf(stderr, "usage: bench_ssh_loop -u USER -i KEY -k KNOWN_HOSTS [-n N] [-p P] HOST:PORT...\n");
		return 2;
	}
	struct err e;
	b.loop = loop_new(&e);
	b.ent = action_entry_for(ACTION_SSH);
	struct action_host host = { .loop = b.loop, .grace_ms = 5000 };
	if (!b.loop || b.ent->open(&host, &b.ks, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return 1;
	}
	action_init(&b.act, ACTION_SSH);
	b.act.body = xstrdup("echo \"$(hostname) ok\"");
	b.n_targets = (size_t)(argc - optind);
	b.targets = xcalloc(b.n_targets, sizeof *b.targets);
	for (size_t i = 0; i < b.n_targets; i++) {
		char *hp = argv[optind + (int)i], *colon = strrchr(hp, ':');
		struct action_target *t = &b.targets[i];
		t->name = hp;
		t->kind = TARGET_SSH;
		t->port = colon ? atoi(colon + 1) : 22;
		t->host = colon ? xstrndup(hp, (size_t)(colon - hp)) : hp;
		t->user = user;
		t->identity = key;
		t->known_hosts = known;
	}
	b.runs = xcalloc((size_t)b.total, sizeof *b.runs);
	b.late_us = xcalloc(MAX_TICKS, sizeof *b.late_us);

	int64_t t0 = clock_mono_ns();
	b.due_ns = t0 + TICK_MS * 1000000LL;
	loop_timer_add(b.loop, TICK_MS, on_tick, &b);
	start_next(&b);
	while (b.done < b.total)
		loop_run_once(b.loop, 100);
	int64_t wall = clock_mono_ns() - t0;
	b.stop = true;
	loop_run_once(b.loop, 2 * TICK_MS);
	char what[32];
	snprintf(what, sizeof what, "ssh p=%d", b.parallel);
	report(what, &b, wall);
	int ok = b.ok, total = b.total;
	for (int i = 0; i < b.total; i++)
		b.ent->free(b.runs[i]);
	b.ent->close(b.ks);

	baseline(&b, wall / 1000000);
	b.total = 0;
	b.ok = 0;
	report("idle", &b, wall);
	loop_free(b.loop);
	return ok == total ? 0 : 1;
}
