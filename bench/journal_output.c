/* journal_output: throughput of journal_output_append for one long stream.
 *
 *   bench/journal_output [-m MIB] [-c CHUNK] [-i MS] [-d DIR]
 *
 * Appends MIB MiB (default 1024) of generated text in CHUNK-byte pieces
 * (default 65536, a full pipe read) to one stream of a fresh journal in
 * DIR (default $TMPDIR or /tmp), finishes the stream, and prints the rate
 * next to the floor: SHA-256 alone over the same bytes. MB is 10^6 bytes.
 * -i sets the tail snapshot interval (default JOURNAL_TAIL_INTERVAL_MS;
 * a smaller one shows what snapshots cost).
 * Peak RSS is the whole process, SQLite's page cache included. Prints
 * figures only; it never fails on a slow machine. */
#include <errno.h>
#include <ftw.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "state/journal.h"
#include "util/clock.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#define PATTERN_BYTES (1024 * 1024 + 4099)

struct bench_opts {
	uint64_t bytes;
	size_t chunk;
	int64_t tail_ms;
	const char *dir;
};

/* Log-like lines: what a long-running step actually prints. */
static char *pattern_make(void)
{
	char *p = xmalloc(PATTERN_BYTES);
	uint64_t x = 88172645463325252ull;
	size_t i = 0;

	while (i < PATTERN_BYTES) {
		int n;
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		n = snprintf(p + i, PATTERN_BYTES - i,
			     "2025-06-11T10:%02u:%02u.%03uZ restore item %llu "
			     "phase InProgress\n", (unsigned)(x % 60),
			     (unsigned)(x / 60 % 60), (unsigned)(x % 1000),
			     (unsigned long long)(x >> 40));
		if (n < 0 || (size_t)n >= PATTERN_BYTES - i)
			break;
		i += (size_t)n;
	}
	memset(p + i, '.', PATTERN_BYTES - i);
	return p;
}

/* Chunks walk through the pattern at an odd stride, so no two are alike. */
static const char *chunk_at(const char *pattern, uint64_t off, size_t chunk)
{
	return pattern + off % (PATTERN_BYTES - chunk);
}

static double seconds_since(int64_t start_ns)
{
	return (double)(clock_mono_ns() - start_ns) / 1e9;
}

static double mb_per_s(uint64_t bytes, double secs)
{
	return secs > 0 ? (double)bytes / 1e6 / secs : 0;
}

/* The floor: hashing is the one thing the journal cannot avoid. */
static double bench_sha256(const char *pattern, const struct bench_opts *o)
{
	char hex[SHA256_HEX_LEN + 1];
	struct sha256 *h = sha256_new();
	int64_t start = clock_mono_ns();

	for (uint64_t off = 0; off < o->bytes; off += o->chunk)
		sha256_update(h, chunk_at(pattern, off, o->chunk), o->chunk);
	sha256_finish_hex(h, hex);
	return seconds_since(start);
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int64_t run_make(struct journal *j, struct err *e)
{
	static const char text[] = "## Bench\n\n```sh\nyes\n```\n";
	struct journal_run_new r = {
		.runbook_path = "bench.md",
		.runbook_text = text,
		.runbook_len = sizeof text - 1,
		.title = "bench",
		.operator_name = "bench",
		.os_user = "bench",
		.host = "localhost",
		.mode = "drill",
		.started_ms = clock_wall_ms(),
		.mono_ns = clock_mono_ns(),
	};
	int64_t id = 0;

	if (journal_run_create(j, &r, &id, NULL, e) < 0)
		return -1;
	return id;
}

/* Append the whole stream and finish it; returns seconds, -1 on error. */
static double bench_journal(struct journal *j, int64_t run,
			    const char *pattern, const struct bench_opts *o,
			    struct journal_output_info *info, struct err *e)
{
	const struct journal_okey key = { .step = 0, .attempt = 1, .task = 1 };
	int64_t start = clock_mono_ns();

	journal_tail_interval_set(j, o->tail_ms);
	for (uint64_t off = 0; off < o->bytes; off += o->chunk)
		if (journal_output_append(j, run, &key, JOURNAL_STDOUT,
					  chunk_at(pattern, off, o->chunk),
					  o->chunk, e) < 0)
			return -1;
	if (journal_output_finish(j, run, &key, JOURNAL_STDOUT, info, e) < 0)
		return -1;
	return seconds_since(start);
}

static int opts_parse(int argc, char **argv, struct bench_opts *o)
{
	int c;

	o->bytes = 1024ull * 1024 * 1024;
	o->chunk = 65536;
	o->tail_ms = JOURNAL_TAIL_INTERVAL_MS;
	o->dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
	while ((c = getopt(argc, argv, "m:c:i:d:")) != -1) {
		switch (c) {
		case 'm':
			o->bytes = strtoull(optarg, NULL, 10) * 1024 * 1024;
			break;
		case 'c':
			o->chunk = strtoul(optarg, NULL, 10);
			break;
		case 'i':
			o->tail_ms = strtoll(optarg, NULL, 10);
			break;
		case 'd':
			o->dir = optarg;
			break;
		default:
			return -1;
		}
	}
	if (!o->bytes || !o->chunk || o->chunk > PATTERN_BYTES / 2)
		return -1;
	o->bytes -= o->bytes % o->chunk;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_opts o;
	struct journal_output_info info;
	struct journal_stats stats;
	struct rusage ru;
	struct err e = { "" };
	char dir[512], path[600];
	double js, hs;
	int64_t run;

	if (opts_parse(argc, argv, &o) < 0) {
		fprintf(stderr, "usage: journal_output [-m MIB] [-c CHUNK] "
			"[-i MS] [-d DIR]\n");
		return 2;
	}
	snprintf(dir, sizeof dir, "%s/qrh-bench-XXXXXX", o.dir);
	if (!mkdtemp(dir)) {
		fprintf(stderr, "journal_output: %s: %s\n", dir, strerror(errno));
		return 1;
	}
	snprintf(path, sizeof path, "%s/journal.db", dir);
	char *pattern = pattern_make();
	struct journal *j = journal_open(path, &e);
	if (!j || (run = run_make(j, &e)) < 0 ||
	    (js = bench_journal(j, run, pattern, &o, &info, &e)) < 0) {
		fprintf(stderr, "journal_output: %s\n", e.msg);
		journal_close(j);
		nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	journal_stats_get(j, &stats);
	journal_close(j);
	nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	hs = bench_sha256(pattern, &o);
	getrusage(RUSAGE_SELF, &ru);
	printf("journal_output: %llu MiB in %zu-byte chunks: %.0f MB/s "
	       "(%.2f s); sha256 alone %.0f MB/s\n",
	       (unsigned long long)(o.bytes >> 20), o.chunk,
	       mb_per_s(o.bytes, js), js, mb_per_s(o.bytes, hs));
	printf("journal_output: %llu commits, %llu tail snapshots, "
	       "peak RSS %ld MiB, stored %lld of %lld bytes\n",
	       (unsigned long long)stats.commits,
	       (unsigned long long)stats.tail_snapshots, ru.ru_maxrss / 1024,
	       (long long)info.stored_bytes, (long long)info.total_bytes);
	free(pattern);
	return 0;
}
