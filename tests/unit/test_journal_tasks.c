/* test_journal_tasks: output keyed by task (schema version 2) — many
 * concurrent streams, labels, the legacy (step, attempt) key beside the
 * task key, and journals written by qrh 0.1.0 (schema version 1, the
 * fixture in tests/fixtures/journal-v1) read as they are and upgraded. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "state/journal.h"
#include "tests/unit/support_journal.h"
#include "util/sha256.h"
#include "util/xalloc.h"


/* A writer, or a read-only handle (ro), or the test fails. */
static struct journal *open_ok(const char *path, int ro)
{
	struct err e = { "" };
	struct journal *j;

	if (!ro)
		return jt_open(path);
	j = journal_open_ro(path, &e);
	if (!j)
		fail_msg("journal_open_ro: %s", e.msg);
	return j;
}

static int64_t run_make(struct journal *j)
{
	static const char text[] = "# T\n\n## A\n```sh\necho\n```\n";
	struct err e = { "" };
	int64_t id = 0;
	struct journal_run_new r = {
		.runbook_path = "t.md", .runbook_text = text,
		.runbook_len = sizeof text - 1, .title = "tasks",
		.operator_name = "alice", .os_user = "alice", .uid = 1000,
		.host = "ops1", .mode = "drill", .started_ms = 1700000000000,
		.mono_ns = 1,
	};

	if (journal_run_create(j, &r, &id, NULL, &e) < 0)
		fail_msg("journal_run_create: %s", e.msg);
	return id;
}

static void read_is(struct journal *j, int64_t run,
		    const struct journal_okey *k, enum journal_stream s,
		    const char *want)
{
	struct err e = { "" };
	struct buf out;

	buf_init(&out, BUF_UNLIMITED);
	if (journal_output_read(j, run, k, s, &out, NULL, &e) != 1)
		fail_msg("journal_output_read: %s", e.msg[0] ? e.msg : "none");
	assert_string_equal(out.data, want);
	buf_release(&out);
}

/* Hundreds of streams open at once, appended in an interleaved order and
 * finished in another: each reads back whole, under its own task. */
static void test_many_concurrent_tasks(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = open_ok(f->path, 0);
	int64_t run = run_make(j);
	enum { N = 600 };
	char line[64], want[N][256];

	journal_flush_policy_set(j, 4096, 1000000);
	for (int round = 0; round < 5; round++) {
		for (int t = 1; t <= N; t++) {
			int n = snprintf(line, sizeof line, "task %d line %d\n",
					 t, round);
			if (round == 0)
				want[t - 1][0] = '\0';
			strcat(want[t - 1], line);
			assert_int_equal(journal_output_append(j, run,
				TASK(t % 7, 1, t, "host"), JOURNAL_STDOUT, line,
				(size_t)n, &e), 0);
		}
	}
	/* finish in a scattered order: the index must survive removals */
	for (int i = 0; i < N; i++) {
		int t = 1 + (i * 367) % N;
		struct journal_output_info info;
		char sha[SHA256_HEX_LEN + 1];
		assert_int_equal(journal_output_finish(j, run,
			TASK(t % 7, 1, t, NULL), JOURNAL_STDOUT, &info, &e), 0);
		sha256_hex(want[t - 1], strlen(want[t - 1]), sha);
		assert_string_equal(info.sha256, sha);
		/* the others are still found by key */
		if (i % 50 == 0) {
			int other = 1 + ((i + 1) * 367) % N;
			assert_int_equal(journal_output_append(j, run,
				TASK(other % 7, 1, other, NULL), JOURNAL_STDERR,
				"e", 1, &e), 0);
			assert_int_equal(journal_output_finish(j, run,
				TASK(other % 7, 1, other, NULL), JOURNAL_STDERR,
				NULL, &e), 0);
		}
	}
	for (int t = 1; t <= N; t += 37)
		read_is(j, run, TASK(t % 7, 1, t, NULL), JOURNAL_STDOUT,
			want[t - 1]);
	journal_close(j);
}

/* Identity: (run, task, stream) for tasks, whatever step or attempt the
 * key carries; the legacy key lives beside it; the label rides along. */
static void test_task_identity_and_labels(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = open_ok(f->path, 0);
	int64_t run = run_make(j);
	/* 62 ASCII bytes, then a 3-byte character across the 63-byte cut */
	const char *long_label =
		"abcdefghijabcdefghijabcdefghijabcdefghijabcdefghijabcdefghij"
		"xy\u20acz";

	assert_int_equal(journal_output_append(j, run, TASK(2, 1, 5, "db-1"),
					       JOURNAL_STDOUT, "A", 1, &e), 0);
	/* the same task under another step is the same stream */
	assert_int_equal(journal_output_append(j, run, TASK(3, 4, 5, "x"),
					       JOURNAL_STDOUT, "B", 1, &e), 0);
	assert_int_equal(journal_output_finish(j, run, TASK(2, 1, 5, NULL),
					       JOURNAL_STDOUT, NULL, &e), 0);
	assert_int_equal(journal_output_append(j, run, TASK(2, 1, 5, NULL),
					       JOURNAL_STDOUT, "C", 1, &e), -1);
	assert_non_null(strstr(e.msg, "already recorded"));
	assert_non_null(strstr(e.msg, "task 5"));
	/* the legacy key of the same step attempt is another stream */
	assert_int_equal(journal_output_append(j, run, KEY(2, 1),
					       JOURNAL_STDOUT, "L", 1, &e), 0);
	assert_int_equal(journal_output_finish(j, run, KEY(2, 1),
					       JOURNAL_STDOUT, NULL, &e), 0);
	assert_int_equal(journal_output_append(j, run, TASK(2, 1, 6, long_label),
					       JOURNAL_STDERR, "D", 1, &e), 0);
	assert_int_equal(journal_output_finish(j, run, TASK(2, 1, 6, NULL),
					       JOURNAL_STDERR, NULL, &e), 0);
	/* a task number below 0 is refused before SQL sees it */
	assert_int_equal(journal_output_append(j, run, TASK(2, 1, -3, NULL),
					       JOURNAL_STDOUT, "x", 1, &e), -1);

	read_is(j, run, TASK(0, 0, 5, NULL), JOURNAL_STDOUT, "AB");
	read_is(j, run, KEY(2, 1), JOURNAL_STDOUT, "L");
	struct buf out;
	buf_init(&out, 16);
	assert_int_equal(journal_output_read(j, run, KEY(2, 4), JOURNAL_STDOUT,
					     &out, NULL, &e), 0);
	buf_release(&out);

	struct journal_output_ref *refs;
	size_t n;
	assert_int_equal(journal_output_list(j, run, 2, &refs, &n, &e), 0);
	assert_int_equal(n, 3);
	/* ordered by step, attempt, task: the legacy row (task 0) first */
	assert_int_equal(refs[0].task, 0);
	assert_string_equal(refs[0].label, "");
	assert_int_equal(refs[1].task, 5);
	assert_string_equal(refs[1].label, "db-1");
	assert_int_equal(refs[2].task, 6);
	assert_int_equal(refs[2].stream, JOURNAL_STDERR);
	assert_int_equal(strlen(refs[2].label), 62);
	assert_memory_equal(refs[2].label, long_label, 62);
	free(refs);
	journal_close(j);
}

/* The v1 fixture, copied: cp is fine for a closed journal with no -wal. */
static void fixture_copy(const struct jt_fixture *f)
{
	const char *src = getenv("QRH_SRC");
	char from[512], cmd[1200];

	snprintf(from, sizeof from, "%s/tests/fixtures/journal-v1/journal.db",
		 src && *src ? src : ".");
	snprintf(cmd, sizeof cmd, "cp '%s' '%s' && chmod 600 '%s'", from,
		 f->path, f->path);
	assert_int_equal(system(cmd), 0);
}

static void verify_clean(const char *path)
{
	struct err e = { "" };
	struct journal *j = open_ok(path, 1);
	struct journal_verify_result res;

	assert_int_equal(journal_verify(j, 0, &res, &e), 0);
	if (res.problem != JOURNAL_VERIFY_OK)
		fail_msg("verify: %s", res.detail);
	journal_close(j);
}

/* A journal of schema 1 reads, read-only, exactly as before: its outputs
 * are legacy keys, nothing in the file changes. */
static void test_v1_read_only(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j;
	struct journal_output_ref *refs;
	size_t n;

	fixture_copy(f);
	assert_int_equal(jt_sql_int(f->path, "PRAGMA user_version"), 1);
	j = open_ok(f->path, 1);
	assert_int_equal(journal_schema_version(j, &e), 1);
	assert_int_equal(journal_output_list(j, 1, -1, &refs, &n, &e), 0);
	assert_int_equal(n, 14);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(refs[i].task, 0);
		assert_string_equal(refs[i].label, "");
	}
	free(refs);
	read_is(j, 1, KEY(0, 1), JOURNAL_STDOUT, "hello fixture\n");
	read_is(j, 1, KEY(1, 0), JOURNAL_STDOUT, "tick 1\ntick 2\ntick 3\n");
	journal_close(j);
	verify_clean(f->path);
	assert_int_equal(jt_sql_int(f->path, "PRAGMA user_version"), 1);
}

/* Opened for writing, it is upgraded in one transaction: the same rows
 * under the same ids, the partial unique indexes in place, and a new run
 * can store task output beside the old legacy rows. */
static void test_v1_upgrade(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j;

	fixture_copy(f);
	int64_t rows = jt_sql_int(f->path, "SELECT count(*) FROM outputs");
	int64_t ids = jt_sql_int(f->path, "SELECT sum(id * 31 + total_bytes) "
			      "FROM outputs");
	j = open_ok(f->path, 0);
	assert_int_equal(journal_schema_version(j, &e), JOURNAL_SCHEMA_VERSION);
	int64_t run = run_make(j);
	assert_int_equal(journal_output_append(j, run, TASK(0, 1, 1, "t"),
					       JOURNAL_STDOUT, "new\n", 4, &e), 0);
	assert_int_equal(journal_output_finish(j, run, TASK(0, 1, 1, NULL),
					       JOURNAL_STDOUT, NULL, &e), 0);
	read_is(j, 1, KEY(0, 1), JOURNAL_STDERR, "to stderr\n");
	read_is(j, run, TASK(9, 9, 1, NULL), JOURNAL_STDOUT, "new\n");
	/* an old key is still taken after the upgrade */
	assert_int_equal(journal_run_lock(j, 1, "alice", &e), 0);
	assert_int_equal(journal_output_append(j, 1, KEY(0, 1), JOURNAL_STDOUT,
					       "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "already recorded"));
	journal_close(j);

	assert_int_equal(jt_sql_int(f->path, "PRAGMA user_version"), JOURNAL_SCHEMA_VERSION);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM outputs "
				 "WHERE task IS NULL"), rows);
	assert_int_equal(jt_sql_int(f->path, "SELECT sum(id * 31 + total_bytes) "
				 "FROM outputs WHERE task IS NULL"), ids);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM sqlite_master "
				 "WHERE name IN ('outputs_by_task', "
				 "'outputs_by_attempt') AND sql LIKE "
				 "'%WHERE task IS%'"), 2);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM "
				 "pragma_foreign_key_check"), 0);
	verify_clean(f->path);
	/* a second open finds nothing to do */
	j = open_ok(f->path, 0);
	assert_int_equal(journal_schema_version(j, &e), JOURNAL_SCHEMA_VERSION);
	journal_close(j);
}

/* A migration that fails leaves the journal at its old version whole. */
static void test_v1_upgrade_all_or_nothing(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	sqlite3 *db;

	fixture_copy(f);
	/* the rebuild's new table name is taken: migration 2 must fail */
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE outputs_v2 (x)", NULL,
				      NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_null(journal_open(f->path, &e));
	assert_non_null(strstr(e.msg, "migration 2"));
	assert_int_equal(jt_sql_int(f->path, "PRAGMA user_version"), 1);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM sqlite_master "
				 "WHERE name = 'outputs_by_task'"), 0);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM outputs"), 15);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_many_concurrent_tasks, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_task_identity_and_labels, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_v1_read_only, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_v1_upgrade, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_v1_upgrade_all_or_nothing, jt_setup, jt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
