/* test_journal: the SQLite journal — schema, chain, tampering, output
 * capping and batching, fork rules and kill -9 safety. Each test works in
 * its own temporary directory. Raw SQL appears here only to play the
 * attacker (or an older/newer qrh). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/journal.h"
#include "tests/unit/support_journal.h"
#include "util/sha256.h"
#include "util/xalloc.h"

static int setup(void **state)
{
	return jt_setup_at(state, "state/qrh/journal.db");
}

/* Reopened by "the next qrh", which must own the run to write to it. */
static struct journal *open_owner(const char *path, int64_t run)
{
	struct err e = { "" };
	struct journal *j = jt_open(path);

	if (journal_run_lock(j, run, "alice", &e) < 0)
		fail_msg("journal_run_lock: %s", e.msg);
	return j;
}

static const char runbook[] = "# Failover\n\n## Promote\n```sh\necho hi\n```\n";

static int64_t run_make(struct journal *j, const char *title)
{
	struct err e = { "" };
	struct journal_head head;
	int64_t id = 0;
	struct journal_run_new r = {
		.runbook_path = "runbooks/failover.md",
		.runbook_text = runbook,
		.runbook_len = sizeof runbook - 1,
		.title = title,
		.operator_name = "alice",
		.os_user = "alice",
		.uid = 1000,
		.host = "ops1",
		.mode = "drill",
		.vars_json = "{\"rto\":\"15m\"}",
		.started_ms = 1700000000000,
		.mono_ns = 5000,
	};

	if (journal_run_create(j, &r, &id, &head, &e) < 0)
		fail_msg("journal_run_create: %s", e.msg);
	assert_int_equal(head.seq, 1);
	return id;
}

static int64_t event_add(struct journal *j, int64_t run, int64_t i)
{
	struct err e = { "" };
	char payload[128];
	struct journal_event ev = {
		.run_id = run,
		.wall_ms = 1700000000000 + i * 10,
		.mono_ns = 5000 + i * 1000,
		.step = i % 3 == 0 ? JOURNAL_NO_STEP : i / 3,
		.type = i % 2 ? "step_start" : "note",
		.actor = "alice",
		.payload = payload,
	};

	snprintf(payload, sizeof payload, "{\"i\":%lld,\"text\":\"abc\"}",
		 (long long)i);
	if (journal_event_append(j, &ev, &e) < 0)
		fail_msg("journal_event_append: %s", e.msg);
	return ev.seq;
}

/* ---- schema ---- */

static void test_schema_create_and_reopen(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	struct stat sb;
	char dir[160];
	sqlite3 *db;
	sqlite3_stmt *st;

	assert_int_equal(journal_schema_version(j, &e), JOURNAL_SCHEMA_VERSION);
	int64_t run = run_make(j, "first");
	journal_close(j);

	snprintf(dir, sizeof dir, "%s/state/qrh", f->dir);
	assert_int_equal(stat(dir, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0700);
	assert_int_equal(stat(f->path, &sb), 0);
	assert_int_equal(sb.st_mode & 0077, 0);

	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &st,
					    NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_close(db);

	j = jt_open(f->path);
	struct journal_run r;
	assert_int_equal(journal_run_get(j, run, &r, &e), 1);
	assert_string_equal(r.title, "first");
	assert_int_equal(r.runbook_len, sizeof runbook - 1);
	assert_memory_equal(r.runbook_text, runbook, sizeof runbook - 1);
	char sha[SHA256_HEX_LEN + 1];
	sha256_hex(runbook, sizeof runbook - 1, sha);
	assert_string_equal(r.runbook_sha256, sha);
	assert_null(r.outcome);
	journal_run_release(&r);
	journal_close(j);
}

static void test_migration_idempotent(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	sqlite3 *db;
	sqlite3_stmt *st;

	for (int i = 0; i < 3; i++) {
		struct journal *j = jt_open(f->path);
		assert_int_equal(journal_schema_version(j, &e),
				 JOURNAL_SCHEMA_VERSION);
		run_make(j, "again");
		journal_close(j);
	}
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM runs",
					    -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 3);
	sqlite3_finalize(st);
	sqlite3_close(db);
	struct journal_verify_result res = jt_verify(f->path, 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_OK);
	assert_int_equal(res.runs_checked, 3);
}

static void test_refuses_newer_schema(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };

	journal_close(jt_open(f->path));
	jt_sql(f->path, "PRAGMA user_version = 99");
	assert_null(journal_open(f->path, &e));
	assert_non_null(strstr(e.msg, "schema version 99"));
	assert_non_null(strstr(e.msg, "newer qrh"));
	e.msg[0] = '\0';
	assert_null(journal_open_ro(f->path, &e));
	assert_non_null(strstr(e.msg, "newer qrh"));
}

static void test_open_ro(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal_event ev = {
		.run_id = 1, .type = "note", .actor = "bob", .step = -1,
	};

	assert_null(journal_open_ro(f->path, &e));	/* no file yet */
	struct journal *w = jt_open(f->path);
	int64_t run = run_make(w, "ro");
	struct journal *r = journal_open_ro(f->path, &e);
	assert_non_null(r);
	ev.run_id = run;
	assert_int_equal(journal_event_append(r, &ev, &e), -1);
	assert_non_null(strstr(e.msg, "read-only"));
	/* a watcher sees what the writer commits */
	event_add(w, run, 1);
	struct journal_head h;
	assert_int_equal(journal_head(r, run, &h, &e), 0);
	assert_int_equal(h.seq, 2);
	journal_close(r);
	journal_close(w);
}

static void test_default_path(void **state)
{
	(void)state;
	struct err e = { "" };
	char *p;

	unsetenv("QRH_JOURNAL");
	setenv("XDG_STATE_HOME", "/x/state", 1);
	setenv("HOME", "/home/op", 1);
	p = journal_path_default("/cli.db", &e);
	assert_string_equal(p, "/cli.db");
	free(p);
	p = journal_path_default(NULL, &e);
	assert_string_equal(p, "/x/state/qrh/journal.db");
	free(p);
	setenv("XDG_STATE_HOME", "relative", 1);	/* ignored per XDG */
	p = journal_path_default(NULL, &e);
	assert_string_equal(p, "/home/op/.local/state/qrh/journal.db");
	free(p);
	setenv("QRH_JOURNAL", "/env.db", 1);
	p = journal_path_default(NULL, &e);
	assert_string_equal(p, "/env.db");
	free(p);
	unsetenv("QRH_JOURNAL");
	unsetenv("XDG_STATE_HOME");
	unsetenv("HOME");
	assert_null(journal_path_default(NULL, &e));
}

/* ---- events ---- */

struct collect {
	int64_t n;
	int64_t last_seq;
	char prev[JOURNAL_HASH_LEN + 1];
};

static int collect_event(const struct journal_event *ev, void *ctx)
{
	struct collect *c = ctx;
	char hash[JOURNAL_HASH_LEN + 1];

	assert_int_equal(ev->seq, c->last_seq + 1);
	assert_string_equal(ev->prev_hash, c->prev);
	journal_event_hash(ev, hash);
	assert_string_equal(hash, ev->hash);
	memcpy(c->prev, ev->hash, sizeof c->prev);
	c->last_seq = ev->seq;
	c->n++;
	return 0;
}

static void test_append_and_verify(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "chain");
	struct journal_head head;
	struct collect c = { .n = 0 };

	for (int64_t i = 1; i <= 20; i++)
		assert_int_equal(event_add(j, run, i), i + 1);
	assert_int_equal(journal_head(j, run, &head, &e), 0);
	assert_int_equal(head.seq, 21);

	memset(c.prev, '0', JOURNAL_HASH_LEN);
	assert_int_equal(journal_events_each(j, run, 0, collect_event, &c, &e), 0);
	assert_int_equal(c.n, 21);
	assert_string_equal(c.prev, head.hash);

	struct journal_verify_result res;
	assert_int_equal(journal_verify(j, run, &res, &e), 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_OK);
	assert_int_equal(res.events_checked, 21);
	assert_int_equal(journal_verify(j, 0, &res, &e), 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_OK);
	assert_int_equal(journal_verify(j, run + 7, &res, &e), 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_NO_RUN);

	/* bad input is refused, nothing is appended */
	struct journal_event bad = {
		.run_id = run, .type = "note", .actor = "alice",
		.step = JOURNAL_NO_STEP, .payload = "{not json",
	};
	assert_int_equal(journal_event_append(j, &bad, &e), -1);
	bad.payload = NULL;
	bad.run_id = run + 100;
	assert_int_equal(journal_event_append(j, &bad, &e), -1);
	assert_int_equal(journal_head(j, run, &head, &e), 0);
	assert_int_equal(head.seq, 21);
	journal_close(j);
}

/* The hash is pinned: changing the encoding must be a deliberate new
 * version, never an accident. */
static void test_hash_encoding_pinned(void **state)
{
	(void)state;
	struct journal_event ev = {
		.run_id = 1, .seq = 2, .wall_ms = 3, .mono_ns = 4,
		.step = JOURNAL_NO_STEP, .type = "note", .actor = "a",
		.payload = "{}",
	};
	char hash[JOURNAL_HASH_LEN + 1], hash2[JOURNAL_HASH_LEN + 1];
	unsigned char buf[512];
	size_t n = 0;

	memset(ev.prev_hash, '0', JOURNAL_HASH_LEN);
	ev.prev_hash[JOURNAL_HASH_LEN] = '\0';
	journal_event_hash(&ev, hash);

	/* rebuild the encoding by hand from the spec in journal.h */
#define PUT_LEN(l) do { uint64_t v_ = (l); \
		for (int k_ = 7; k_ >= 0; k_--) buf[n + (size_t)k_] = (unsigned char)(v_ >> (8 * (7 - k_))); \
		n += 8; } while (0)
#define PUT_STR(s) do { PUT_LEN(strlen(s)); memcpy(buf + n, s, strlen(s)); n += strlen(s); } while (0)
#define PUT_INT(i) do { PUT_LEN(8); PUT_LEN((uint64_t)(i)); } while (0)
	PUT_STR("qrh.event.v1");
	PUT_INT(1);
	PUT_INT(2);
	PUT_INT(3);
	PUT_INT(4);
	PUT_LEN(UINT64_MAX);
	PUT_STR("note");
	PUT_STR("a");
	PUT_STR("{}");
	PUT_STR(ev.prev_hash);
	sha256_hex(buf, n, hash2);
	assert_string_equal(hash, hash2);

	/* step 0 and no step differ; moving a byte between fields differs */
	ev.step = 0;
	journal_event_hash(&ev, hash2);
	assert_string_not_equal(hash, hash2);
	ev.step = JOURNAL_NO_STEP;
	ev.type = "notea";
	ev.actor = "";
	journal_event_hash(&ev, hash2);
	assert_string_not_equal(hash, hash2);
}

/* ---- tampering ---- */

struct tamper {
	const char *name;
	const char *sql;
	enum journal_verify_problem problem;
	int64_t seq;
	int shared;	/* hits both runs (they share the runbook text) */
};

#define UNLOCK "DROP TRIGGER events_no_update; DROP TRIGGER events_no_delete;"
#define SWAP_COLS "run_id, seq, wall_ms, mono_ns, step, type, actor, " \
	"payload, prev_hash, hash"

static const struct tamper tampers[] = {
	{ "payload byte", UNLOCK "UPDATE events SET payload = "
	  "replace(payload, 'abc', 'abd') WHERE seq = 4",
	  JOURNAL_VERIFY_HASH, 4, 0 },
	{ "type", UNLOCK "UPDATE events SET type = 'skip' WHERE seq = 6",
	  JOURNAL_VERIFY_HASH, 6, 0 },
	{ "wall time", UNLOCK "UPDATE events SET wall_ms = wall_ms + 1 "
	  "WHERE seq = 3", JOURNAL_VERIFY_HASH, 3, 0 },
	{ "mono time", UNLOCK "UPDATE events SET mono_ns = 0 WHERE seq = 9",
	  JOURNAL_VERIFY_HASH, 9, 0 },
	{ "step", UNLOCK "UPDATE events SET step = NULL WHERE seq = 8",
	  JOURNAL_VERIFY_HASH, 8, 0 },
	{ "actor", UNLOCK "UPDATE events SET actor = 'mallory' WHERE seq = 2",
	  JOURNAL_VERIFY_HASH, 2, 0 },
	{ "hash", UNLOCK "UPDATE events SET hash = replace(hash, "
	  "substr(hash, 1, 1), 'x') WHERE seq = 5", JOURNAL_VERIFY_HASH, 5, 0 },
	{ "prev_hash", UNLOCK "UPDATE events SET prev_hash = "
	  "'" "1111111111111111111111111111111111111111111111111111111111111111"
	  "' WHERE seq = 7", JOURNAL_VERIFY_PREV_HASH, 7, 0 },
	{ "delete middle", UNLOCK "DELETE FROM events WHERE seq = 5",
	  JOURNAL_VERIFY_SEQ_GAP, 5, 0 },
	{ "delete last", UNLOCK "DELETE FROM events WHERE seq = 11",
	  JOURNAL_VERIFY_HEAD, 11, 0 },
	{ "swap contents", UNLOCK
	  "CREATE TEMP TABLE a AS SELECT " SWAP_COLS " FROM events WHERE seq = 3;"
	  "CREATE TEMP TABLE b AS SELECT " SWAP_COLS " FROM events WHERE seq = 5;"
	  "UPDATE events SET seq = 1003 WHERE seq = 3;"
	  "UPDATE events SET seq = 1005 WHERE seq = 5;"
	  "UPDATE events SET (" SWAP_COLS ") = (SELECT * FROM b) WHERE seq = 1003;"
	  "UPDATE events SET (" SWAP_COLS ") = (SELECT * FROM a) WHERE seq = 1005;",
	  JOURNAL_VERIFY_REORDERED, 3, 0 },
	{ "swap seq numbers", UNLOCK
	  "UPDATE events SET seq = 1000 WHERE seq = 3;"
	  "UPDATE events SET seq = 3 WHERE seq = 5;"
	  "UPDATE events SET seq = 5 WHERE seq = 1000;",
	  JOURNAL_VERIFY_PREV_HASH, 3, 0 },
	{ "run title", "UPDATE runs SET title = 'Nothing happened' WHERE id = 2",
	  JOURNAL_VERIFY_RUN_HEADER, 1, 0 },
	{ "runbook text", "UPDATE runbooks SET text = 'rm -rf /'",
	  JOURNAL_VERIFY_RUN_HEADER, 1, 1 },
};

static void test_tampering_detected(void **state)
{
	struct jt_fixture *f = *state;

	for (size_t t = 0; t < sizeof tampers / sizeof tampers[0]; t++) {
		char path[160];
		snprintf(path, sizeof path, "%s/t%zu.db", f->dir, t);
		struct journal *j = jt_open(path);
		int64_t other = run_make(j, "other");
		int64_t run = run_make(j, "victim");
		for (int64_t i = 1; i <= 10; i++) {
			event_add(j, run, i);
			event_add(j, other, i);
		}
		journal_close(j);
		/* move the other run out of the way while tampering */
		sqlite3 *db;
		char *msg = NULL, hide[256];
		const char *body = tampers[t].sql;
		if (!strncmp(body, UNLOCK, strlen(UNLOCK)))
			body += strlen(UNLOCK);
		assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
		snprintf(hide, sizeof hide, UNLOCK "CREATE TEMP TABLE hidden AS "
			 "SELECT * FROM events WHERE run_id = %lld;"
			 "DELETE FROM events WHERE run_id = %lld;",
			 (long long)other, (long long)other);
		if (sqlite3_exec(db, hide, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, body, NULL, NULL, &msg) != SQLITE_OK ||
		    sqlite3_exec(db, "INSERT INTO events SELECT * FROM hidden",
				 NULL, NULL, &msg) != SQLITE_OK)
			fail_msg("%s: %s", tampers[t].name, msg);
		sqlite3_close(db);

		struct journal_verify_result res = jt_verify(path, 0);
		int64_t where = tampers[t].shared ? other : run;
		if (res.problem != tampers[t].problem || res.run_id != where ||
		    res.seq != tampers[t].seq)
			fail_msg("%s: got %s at run %lld seq %lld (%s)",
				 tampers[t].name,
				 journal_verify_problem_name(res.problem),
				 (long long)res.run_id, (long long)res.seq,
				 res.detail);
		res = jt_verify(path, other);
		if (!tampers[t].shared)
			assert_int_equal(res.problem, JOURNAL_VERIFY_OK);
	}
}

/* ---- output ---- */

/* Byte i of the deterministic test stream. */
static unsigned char gen_byte(uint64_t i)
{
	uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ull;
	x ^= x >> 29;
	x *= 0xBF58476D1CE4E5B9ull;
	return (unsigned char)(x >> 56);
}

static void gen_fill(unsigned char *p, uint64_t off, size_t n)
{
	for (size_t k = 0; k < n; k++)
		p[k] = gen_byte(off + k);
}

static uint64_t lcg(uint64_t *s)
{
	*s = *s * 6364136223846793005ull + 1442695040888963407ull;
	return *s >> 33;
}

/* Append `total` generated bytes in chunks of varying size; returns the
 * SHA-256 of the whole stream in `sha`. */
static void stream_feed(struct journal *j, int64_t run, int64_t step,
			int attempt, enum journal_stream stream, uint64_t total,
			char sha[SHA256_HEX_LEN + 1])
{
	struct err e = { "" };
	struct sha256 *h = sha256_new();
	unsigned char *chunk = xmalloc(70000);
	uint64_t off = 0, seed = 42;

	while (off < total) {
		size_t n = 1 + lcg(&seed) % 70000;
		if (n > total - off)
			n = (size_t)(total - off);
		gen_fill(chunk, off, n);
		sha256_update(h, chunk, n);
		if (journal_output_append(j, run, KEY(step, attempt), stream, chunk,
					  n, &e) < 0)
			fail_msg("journal_output_append: %s", e.msg);
		off += n;
	}
	sha256_finish_hex(h, sha);
	free(chunk);
}

static void expect_stream(struct journal *j, int64_t run, int64_t step,
			  int attempt, uint64_t total, int finished)
{
	struct err e = { "" };
	struct journal_output_info info;
	struct buf out;
	uint64_t head = total, tail = 0;
	int truncated = total > QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES;

	if (total > QRH_OUTPUT_HEAD_BYTES) {
		head = QRH_OUTPUT_HEAD_BYTES;
		tail = total - head;
		if (tail > QRH_OUTPUT_TAIL_BYTES)
			tail = QRH_OUTPUT_TAIL_BYTES;
	}
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(journal_output_read(j, run, KEY(step, attempt),
					     JOURNAL_STDOUT, &out, &info, &e), 1);
	assert_int_equal(info.total_bytes, total);
	assert_int_equal(info.stored_bytes, head + tail);
	assert_int_equal(info.truncated, truncated);
	assert_int_equal(info.finished, finished);
	unsigned char *want = xmalloc(head + tail + 1);
	gen_fill(want, 0, head);
	assert_memory_equal(out.data, want, head);
	size_t marker = out.len - head - tail;
	if (truncated) {
		char expect[200];
		snprintf(expect, sizeof expect, "\n[qrh: output truncated: "
			 "%llu bytes omitted;", (unsigned long long)
			 (total - QRH_OUTPUT_HEAD_BYTES - QRH_OUTPUT_TAIL_BYTES));
		assert_true(marker > strlen(expect));
		assert_memory_equal(out.data + head, expect, strlen(expect));
	} else {
		assert_int_equal(marker, 0);
	}
	gen_fill(want, total - tail, tail);
	assert_memory_equal(out.data + head + marker, want, tail);
	free(want);
	buf_release(&out);
}

static void test_output_truncation(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "output");
	struct journal_output_info info;
	struct journal_stats stats;
	char sha[SHA256_HEX_LEN + 1];
	const uint64_t total = 20 * 1000 * 1000;

	stream_feed(j, run, 3, 1, JOURNAL_STDOUT, total, sha);
	journal_stats_get(j, &stats);
	assert_true(stats.buffered_peak <= JOURNAL_FLUSH_BYTES);
	assert_int_equal(journal_output_finish(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       &info, &e), 0);
	assert_int_equal(info.total_bytes, total);
	assert_string_equal(info.sha256, sha);
	assert_int_equal(info.truncated, 1);
	assert_int_equal(info.stored_bytes,
			 QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES);
	expect_stream(j, run, 3, 1, total, 1);

	struct journal_output_info again;
	struct buf out;
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(journal_output_read(j, run, KEY(3, 1), JOURNAL_STDOUT,
					     &out, &again, &e), 1);
	assert_string_equal(again.sha256, sha);
	buf_release(&out);
	/* written once: the same key cannot start again */
	assert_int_equal(journal_output_append(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "already recorded"));
	assert_int_equal(journal_output_append(j, run + 1, KEY(3, 1), JOURNAL_STDOUT,
					       "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "not owned"));
	journal_close(j);

	/* head rows and one tail snapshot: the file stays near head+tail */
	struct stat sb;
	assert_int_equal(stat(f->path, &sb), 0);
	assert_true(sb.st_size < 3 * (QRH_OUTPUT_HEAD_BYTES +
				      QRH_OUTPUT_TAIL_BYTES));
}

static void test_output_boundaries(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "edges");
	const uint64_t sizes[] = {
		0, 1, QRH_OUTPUT_HEAD_BYTES, QRH_OUTPUT_HEAD_BYTES + 1,
		QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES,
		QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES + 1,
	};

	for (int k = 0; k < (int)(sizeof sizes / sizeof sizes[0]); k++) {
		struct journal_output_info info;
		char sha[SHA256_HEX_LEN + 1];
		stream_feed(j, run, k, 1, JOURNAL_STDOUT, sizes[k], sha);
		assert_int_equal(journal_output_finish(j, run, KEY(k, 1),
						       JOURNAL_STDOUT, &info,
						       &e), 0);
		assert_string_equal(info.sha256, sha);
		expect_stream(j, run, k, 1, sizes[k], 1);
	}
	/* stdout and stderr of one step are separate streams */
	assert_int_equal(journal_output_append(j, run, KEY(9, 2), JOURNAL_STDOUT,
					       "out\n", 4, &e), 0);
	assert_int_equal(journal_output_append(j, run, KEY(9, 2), JOURNAL_STDERR,
					       "err\n", 4, &e), 0);
	assert_int_equal(journal_output_append(j, run, KEY(9, 2), JOURNAL_STDOUT,
					       "more\n", 5, &e), 0);
	assert_int_equal(journal_output_finish(j, run, KEY(9, 2), JOURNAL_STDERR,
					       NULL, &e), 0);
	assert_int_equal(journal_output_finish(j, run, KEY(9, 2), JOURNAL_STDOUT,
					       NULL, &e), 0);
	struct buf out;
	buf_init(&out, 1024);
	assert_int_equal(journal_output_read(j, run, KEY(9, 2), JOURNAL_STDOUT, &out,
					     NULL, &e), 1);
	assert_string_equal(out.data, "out\nmore\n");
	buf_reset(&out);
	assert_int_equal(journal_output_read(j, run, KEY(9, 2), JOURNAL_STDERR, &out,
					     NULL, &e), 1);
	assert_string_equal(out.data, "err\n");
	assert_int_equal(journal_output_read(j, run, KEY(9, 3), JOURNAL_STDERR, &out,
					     NULL, &e), 0);
	buf_release(&out);

	struct journal_output_ref *refs;
	size_t n;
	assert_int_equal(journal_output_list(j, run, 9, &refs, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(refs[0].stream, JOURNAL_STDOUT);
	assert_int_equal(refs[1].stream, JOURNAL_STDERR);
	free(refs);
	assert_int_equal(journal_output_list(j, run, -1, &refs, &n, &e), 0);
	assert_int_equal(n, 8);
	free(refs);
	journal_close(j);
}

static void test_output_batching(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "batch");
	struct journal_stats before, after;
	char line[100];

	memset(line, 'x', sizeof line);
	/* a clock that never fires: only size triggers a flush */
	journal_flush_policy_set(j, JOURNAL_FLUSH_BYTES, 1000LL * 3600 * 1000);
	journal_stats_get(j, &before);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(journal_output_append(j, run, KEY(1, 1),
						       JOURNAL_STDOUT, line,
						       sizeof line, &e), 0);
	journal_stats_get(j, &after);
	/* 1,000,000 bytes over 64 KiB batches: 15 full flushes */
	assert_int_equal(after.output_flushes - before.output_flushes,
			 1000000 / JOURNAL_FLUSH_BYTES);
	assert_int_equal(after.commits - before.commits,
			 1000000 / JOURNAL_FLUSH_BYTES);
	assert_true(after.buffered_peak <= JOURNAL_FLUSH_BYTES);
	assert_true(journal_flush_timeout_ms(j) > 0);
	/* an event makes buffered output durable first */
	event_add(j, run, 1);
	journal_stats_get(j, &after);
	assert_int_equal(after.output_flushes - before.output_flushes,
			 1000000 / JOURNAL_FLUSH_BYTES + 1);
	assert_int_equal(journal_flush_timeout_ms(j), -1);

	/* a zero interval: every append is due at once */
	journal_flush_policy_set(j, JOURNAL_FLUSH_BYTES, 0);
	journal_stats_get(j, &before);
	for (int i = 0; i < 5; i++)
		assert_int_equal(journal_output_append(j, run, KEY(1, 1),
						       JOURNAL_STDOUT, line,
						       sizeof line, &e), 0);
	journal_stats_get(j, &after);
	assert_int_equal(after.output_flushes - before.output_flushes, 5);

	struct journal_output_info info;
	assert_int_equal(journal_output_finish(j, run, KEY(1, 1), JOURNAL_STDOUT,
					       &info, &e), 0);
	assert_int_equal(info.total_bytes, 10005 * 100);
	assert_int_equal(info.truncated, 0);
	journal_close(j);
}

/* The tail is saved by snapshots on its own clock: a reader sees the head
 * at once, the tail when a snapshot is due or forced, never a torn one. */
static void test_output_tail_snapshots(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "snapshots");
	struct journal *r = journal_open_ro(f->path, &e);
	struct journal_stats before, after;
	char sha[SHA256_HEX_LEN + 1];
	const uint64_t total = 6 * 1000 * 1000, wraps = 4500 * 1000;

	assert_non_null(r);
	journal_tail_interval_set(j, 3600LL * 1000);	/* never due */
	journal_stats_get(j, &before);
	stream_feed(j, run, 1, 1, JOURNAL_STDOUT, total, sha);
	event_add(j, run, 1);	/* events do not force a snapshot */
	journal_stats_get(j, &after);
	assert_int_equal(after.tail_snapshots, before.tail_snapshots);
	assert_true(after.buffered_peak <= JOURNAL_FLUSH_BYTES);
	expect_stream(r, run, 1, 1, QRH_OUTPUT_HEAD_BYTES, 0);
	assert_true(journal_flush_timeout_ms(j) > 1000);

	/* due now: the timer's flush writes it */
	journal_tail_interval_set(j, 0);
	assert_int_equal(journal_flush_timeout_ms(j), 0);
	assert_int_equal(journal_flush_due(j, &e), 0);
	journal_stats_get(j, &after);
	assert_int_equal(after.tail_snapshots, before.tail_snapshots + 1);
	assert_int_equal(journal_flush_timeout_ms(j), -1);
	expect_stream(r, run, 1, 1, total, 0);

	/* a snapshot on every append: the wrapped ring reads back in order */
	stream_feed(j, run, 2, 1, JOURNAL_STDOUT, wraps, sha);
	journal_stats_get(j, &before);
	assert_true(before.tail_snapshots > after.tail_snapshots + 10);
	expect_stream(r, run, 2, 1, wraps, 0);

	/* journal_flush forces one however far off it is */
	journal_tail_interval_set(j, 3600LL * 1000);
	assert_int_equal(journal_output_append(j, run, KEY(2, 1), JOURNAL_STDOUT,
					       "zz", 2, &e), 0);
	assert_int_equal(journal_flush(j, &e), 0);
	journal_stats_get(j, &after);
	assert_int_equal(after.tail_snapshots, before.tail_snapshots + 1);
	struct journal_output_info info;
	assert_int_equal(journal_output_finish(j, run, KEY(1, 1), JOURNAL_STDOUT,
					       &info, &e), 0);
	assert_int_equal(info.total_bytes, total);
	expect_stream(r, run, 1, 1, total, 1);
	journal_close(r);
	journal_close(j);
}

/* A failed snapshot keeps the tail in memory and is tried again; a failed
 * head write stops storing the stream and says so in the output. */
static void test_output_storage_failures(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "failing disk");
	struct journal_output_info info;
	char sha[SHA256_HEX_LEN + 1];
	const uint64_t total = 5 * 1000 * 1000;
	unsigned char chunk[1000];

	journal_tail_interval_set(j, 0);
	stream_feed(j, run, 1, 1, JOURNAL_STDOUT, QRH_OUTPUT_HEAD_BYTES + 10,
		    sha);
	jt_sql(f->path, "CREATE TRIGGER no_tail BEFORE INSERT ON "
		"output_chunks WHEN NEW.part = 2 BEGIN "
		"SELECT RAISE(ABORT, 'disk full'); END");
	gen_fill(chunk, QRH_OUTPUT_HEAD_BYTES + 10, sizeof chunk);
	assert_int_equal(journal_output_append(j, run, KEY(1, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), -1);
	assert_non_null(strstr(e.msg, "disk full"));
	jt_sql(f->path, "DROP TRIGGER no_tail");
	journal_close(j);	/* the stream dies unfinished */

	j = open_owner(f->path, run);
	journal_tail_interval_set(j, 3600LL * 1000);
	stream_feed(j, run, 2, 1, JOURNAL_STDOUT, total / 2, sha);
	jt_sql(f->path, "CREATE TRIGGER no_tail BEFORE INSERT ON "
		"output_chunks WHEN NEW.part = 2 BEGIN "
		"SELECT RAISE(ABORT, 'disk full'); END");
	assert_int_equal(journal_flush(j, &e), -1);
	jt_sql(f->path, "DROP TRIGGER no_tail");
	assert_int_equal(journal_output_finish(j, run, KEY(2, 1), JOURNAL_STDOUT,
					       &info, &e), 0);
	assert_string_equal(info.sha256, sha);
	expect_stream(j, run, 2, 1, total / 2, 1);

	/* the head cannot be written: counted and hashed, marked as lost */
	jt_sql(f->path, "CREATE TRIGGER no_head BEFORE INSERT ON "
		"output_chunks WHEN NEW.part = 0 BEGIN "
		"SELECT RAISE(ABORT, 'disk full'); END");
	journal_flush_policy_set(j, 1000, 3600LL * 1000);
	gen_fill(chunk, 0, sizeof chunk);
	assert_int_equal(journal_output_append(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), 0);
	assert_int_equal(journal_output_append(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), -1);
	assert_non_null(strstr(e.msg, "no longer stored"));
	assert_int_equal(journal_output_append(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), 0);
	assert_int_equal(journal_output_finish(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       &info, &e), -1);
	assert_int_equal(info.total_bytes, 3 * sizeof chunk);
	assert_int_equal(info.truncated, 0);	/* lost is not truncated */
	assert_int_equal(info.lost_bytes, 3 * sizeof chunk);
	jt_sql(f->path, "DROP TRIGGER no_head");
	/* once the journal can be written, the loss is recorded as such */
	assert_int_equal(journal_flush(j, &e), 0);
	struct buf lost;
	struct journal_output_info lost_info;
	buf_init(&lost, BUF_UNLIMITED);
	assert_int_equal(journal_output_read(j, run, KEY(3, 1), JOURNAL_STDOUT,
					     &lost, &lost_info, &e), 1);
	assert_int_equal(lost_info.finished, 1);
	assert_int_equal(lost_info.total_bytes, 3 * sizeof chunk);
	assert_int_equal(lost_info.lost_bytes, 3 * sizeof chunk);
	assert_int_equal(lost_info.truncated, 0);
	assert_string_equal(lost_info.sha256, info.sha256);
	assert_string_equal(lost.data, "\n[3000 bytes lost: the journal could "
			    "not be written]\n");
	buf_release(&lost);

	/* bytes held before the failure are written later; the rest is lost */
	journal_flush_policy_set(j, JOURNAL_FLUSH_BYTES, 0);
	assert_int_equal(journal_output_append(j, run, KEY(4, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), 0);
	jt_sql(f->path, "CREATE TRIGGER no_head BEFORE INSERT ON "
		"output_chunks WHEN NEW.part = 0 BEGIN "
		"SELECT RAISE(ABORT, 'disk full'); END");
	journal_flush_policy_set(j, 500, 3600LL * 1000);
	assert_int_equal(journal_output_append(j, run, KEY(4, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), -1);
	jt_sql(f->path, "DROP TRIGGER no_head");
	assert_int_equal(journal_output_append(j, run, KEY(4, 1), JOURNAL_STDOUT,
					       chunk, sizeof chunk, &e), 0);
	assert_int_equal(journal_output_finish(j, run, KEY(4, 1), JOURNAL_STDOUT,
					       &info, &e), 0);
	assert_int_equal(info.total_bytes, 3 * sizeof chunk);
	assert_int_equal(info.stored_bytes, 1500);
	assert_int_equal(info.lost_bytes, 1500);
	struct buf out;
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(journal_output_read(j, run, KEY(4, 1), JOURNAL_STDOUT, &out,
					     &info, &e), 1);
	assert_int_equal(info.stored_bytes, 1500);
	assert_memory_equal(out.data, chunk, sizeof chunk);
	assert_memory_equal(out.data + sizeof chunk, chunk, 500);
	assert_string_equal(out.data + 1500, "\n[1500 bytes lost: the journal "
			    "could not be written]\n");
	buf_release(&out);
	journal_close(j);

	/* the first stream read back as its head and a consistent tail */
	j = jt_open(f->path);
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(journal_output_read(j, run, KEY(1, 1), JOURNAL_STDOUT, &out,
					     &info, &e), 1);
	assert_int_equal(info.finished, 0);
	assert_int_equal(out.len, info.stored_bytes);
	assert_int_equal(info.total_bytes, info.stored_bytes);
	buf_release(&out);
	journal_close(j);
}

/* ---- runs ---- */

static void test_runs_queries(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t a = run_make(j, "A"), b = run_make(j, "B"), found = 0;
	struct journal_run *runs;
	size_t n;

	assert_int_equal(journal_run_find_unfinished(j, &found, &e), 1);
	assert_int_equal(found, b);
	struct journal_event end = {
		.run_id = b, .wall_ms = 1700000009999, .mono_ns = 99,
		.step = JOURNAL_NO_STEP, .type = "run_end", .actor = "alice",
		.payload = "{\"outcome\":\"ok\"}",
	};
	assert_int_equal(journal_run_end(j, b, "bogus", 1, &end, &e), -1);
	assert_int_equal(journal_run_end(j, b, "ok", 1700000009999, &end, &e), 0);
	assert_int_equal(end.seq, 2);
	assert_int_equal(journal_run_find_unfinished(j, &found, &e), 1);
	assert_int_equal(found, a);
	struct journal_event end_a = {
		.run_id = a, .wall_ms = 1700000001000, .mono_ns = 99,
		.step = JOURNAL_NO_STEP, .type = "run_end", .actor = "qrh",
		.payload = "{\"outcome\":\"interrupted\"}",
	};
	/* the run row may not say what the event does not */
	assert_int_equal(journal_run_end(j, a, "interrupted", 1700000001000,
					 NULL, &e), -1);
	assert_int_equal(journal_run_end(j, a, "ok", 1700000001000, &end_a,
					 &e), -1);
	assert_int_equal(journal_run_end(j, a, "interrupted", 1700000001001,
					 &end_a, &e), -1);
	assert_int_equal(journal_run_end(j, a, "interrupted", 1700000001000,
					 &end_a, &e), 0);
	assert_int_equal(journal_run_find_unfinished(j, &found, &e), 0);

	assert_int_equal(journal_runs_list(j, &runs, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(runs[0].id, b);
	assert_string_equal(runs[0].title, "B");
	assert_string_equal(runs[0].outcome, "ok");
	assert_int_equal(runs[0].ended_ms, 1700000009999);
	assert_string_equal(runs[0].mode, "drill");
	assert_string_equal(runs[0].operator_name, "alice");
	assert_int_equal(runs[0].head.seq, 2);
	assert_string_equal(runs[0].head.hash, end.hash);
	assert_null(runs[0].runbook_text);
	assert_string_equal(runs[1].outcome, "interrupted");
	journal_runs_free(runs, n);

	struct journal_run_new bad = {
		.runbook_path = "x", .runbook_text = "", .title = "t",
		.operator_name = "o", .os_user = "u", .host = "h",
		.mode = "yolo",
	};
	int64_t id;
	assert_int_equal(journal_run_create(j, &bad, &id, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "mode"));
	journal_close(j);
}

/* ---- processes ---- */

static void test_fork_guard(void **state)
{
	struct jt_fixture *f = *state;
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "fork");
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		struct err e = { "" };
		struct journal_event ev = {
			.run_id = run, .type = "note", .actor = "child",
			.step = JOURNAL_NO_STEP,
		};
		int rc = journal_event_append(j, &ev, &e) == -1 &&
			 strstr(e.msg, "fork") ? 0 : 1;
		journal_close(j);	/* must not touch the parent's db */
		_exit(rc);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	event_add(j, run, 1);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, 0).problem,
			 JOURNAL_VERIFY_OK);
}

/* SQLite's unix VFS opens with O_CLOEXEC: children never inherit the db. */
static void test_fds_cloexec(void **state)
{
	struct jt_fixture *f = *state;
	struct journal *j = jt_open(f->path);
	char real[PATH_MAX];
	int checked = 0;

	event_add(j, run_make(j, "fds"), 1);
	assert_non_null(realpath(f->path, real));
	for (int fd = 0; fd < 1024; fd++) {
		char link[64], target[PATH_MAX];
		snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
		ssize_t n = readlink(link, target, sizeof target - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		if (strncmp(target, real, strlen(real)))
			continue;
		assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
		checked++;
	}
	assert_true(checked >= 2);	/* the db and its -wal at least */
	journal_close(j);
}

static int read_full(int fd, void *p, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (char *)p + got, n - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return -1;
		got += (size_t)r;
	}
	return 0;
}

/* The child: its own connection, appending events and output forever,
 * reporting each committed seq before going on. */
static void __attribute__((noreturn))
child_append_forever(const char *path, int64_t run, int attempt, int fd)
{
	struct err e;
	struct journal *j = journal_open(path, &e);
	unsigned char chunk[3000];

	if (!j || journal_run_lock(j, run, "child", &e) < 0)
		_exit(2);
	for (int64_t i = 0; ; i++) {
		struct journal_event ev = {
			.run_id = run, .wall_ms = i, .mono_ns = i,
			.step = i % 4, .type = "note", .actor = "child",
			.payload = "{\"text\":\"still here\"}",
		};
		if (journal_event_append(j, &ev, &e) < 0)
			_exit(3);
		if (write(fd, &ev.seq, sizeof ev.seq) != sizeof ev.seq)
			_exit(4);
		gen_fill(chunk, (uint64_t)i * sizeof chunk, sizeof chunk);
		for (int k = 0; k < 8; k++)
			if (journal_output_append(j, run, KEY(1, attempt),
						  JOURNAL_STDOUT, chunk,
						  sizeof chunk, &e) < 0)
				_exit(5);
	}
}

static void test_kill9_never_loses_commits(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "kill -9");
	uint64_t seed = 20240611;

	journal_close(j);
	for (int it = 1; it <= 12; it++) {
		int fds[2], status;
		int64_t seq, reported = 0;
		uint64_t want = 1 + lcg(&seed) % 25;

		assert_int_equal(pipe(fds), 0);
		pid_t pid = fork();
		assert_true(pid >= 0);
		if (pid == 0) {
			close(fds[0]);
			child_append_forever(f->path, run, it, fds[1]);
		}
		close(fds[1]);
		for (uint64_t got = 0; got < want; got++) {
			if (read_full(fds[0], &seq, sizeof seq) < 0)
				fail_msg("child died early (iteration %d)", it);
			reported = seq;
		}
		/* land anywhere: between, or inside, transactions */
		usleep((useconds_t)(lcg(&seed) % 3000));
		kill(pid, SIGKILL);
		assert_int_equal(waitpid(pid, &status, 0), pid);
		assert_true(WIFSIGNALED(status));
		assert_int_equal(WTERMSIG(status), SIGKILL);
		while (read_full(fds[0], &seq, sizeof seq) == 0)
			reported = seq;
		close(fds[0]);

		j = journal_open(f->path, &e);
		if (!j)
			fail_msg("reopen after kill %d: %s", it, e.msg);
		struct journal_verify_result res;
		assert_int_equal(journal_verify(j, 0, &res, &e), 0);
		if (res.problem != JOURNAL_VERIFY_OK)
			fail_msg("kill %d: %s", it, res.detail);
		struct journal_head head;
		assert_int_equal(journal_head(j, run, &head, &e), 0);
		assert_true(head.seq >= reported);
		assert_int_equal(res.events_checked, head.seq);
		/* the crashed stream reads back as head (+ tail) so far */
		struct buf out;
		struct journal_output_info info;
		buf_init(&out, BUF_UNLIMITED);
		int rc = journal_output_read(j, run, KEY(1, it), JOURNAL_STDOUT,
					     &out, &info, &e);
		assert_true(rc >= 0);
		if (rc == 1) {
			assert_int_equal(info.finished, 0);
			assert_int_equal(out.len, info.stored_bytes);
		}
		buf_release(&out);
		journal_close(j);
	}
}

/* A process killed mid-stream leaves head and tail readable. */
static void test_output_survives_kill(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j, "crash");
	const uint64_t total = 6 * 1000 * 1000;
	int status;

	journal_close(j);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		char sha[SHA256_HEX_LEN + 1];
		struct journal *c = journal_open(f->path, &e);
		if (!c || journal_run_lock(c, run, "child", &e) < 0)
			_exit(2);
		stream_feed(c, run, 3, 1, JOURNAL_STDOUT, total, sha);
		if (journal_flush(c, &e) < 0)
			_exit(3);
		raise(SIGKILL);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	j = jt_open(f->path);
	expect_stream(j, run, 3, 1, total, 0);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_schema_create_and_reopen, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_migration_idempotent, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_refuses_newer_schema, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_open_ro, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_default_path, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_append_and_verify, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_hash_encoding_pinned, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_tampering_detected, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_truncation, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_boundaries, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_batching, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_tail_snapshots, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_storage_failures, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_runs_queries, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_fork_guard, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_fds_cloexec, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_kill9_never_loses_commits, setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_survives_kill, setup, jt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
