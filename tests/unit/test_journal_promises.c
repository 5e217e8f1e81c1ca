/* test_journal_promises: what the journal promises about a run's record
 * beyond the hash chain — one owner per run, nothing after run_end, the
 * run row and the stored output checked against the chain, the journal
 * file itself watched, lost output recorded as lost. Raw SQL plays the
 * attacker. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "state/journal.h"
#include "tests/unit/support_journal.h"
#include "util/sha256.h"
#include "util/xalloc.h"


static int64_t run_make(struct journal *j, struct err *e)
{
	static const char text[] = "# T\n\n## A\n```sh\necho\n```\n";
	int64_t id = 0;
	struct journal_run_new r = {
		.runbook_path = "t.md", .runbook_text = text,
		.runbook_len = sizeof text - 1, .title = "promises",
		.operator_name = "alice", .os_user = "alice", .uid = 1000,
		.host = "ops1", .mode = "drill", .started_ms = 1700000000000,
		.mono_ns = 1,
	};

	if (journal_run_create(j, &r, &id, NULL, e) < 0)
		return -1;
	return id;
}

static int64_t run_ok(struct journal *j)
{
	struct err e = { "" };
	int64_t id = run_make(j, &e);

	if (id < 0)
		fail_msg("journal_run_create: %s", e.msg);
	return id;
}

static int note(struct journal *j, int64_t run, struct err *e)
{
	struct journal_event ev = {
		.run_id = run, .wall_ms = 1700000000100, .mono_ns = 2,
		.step = JOURNAL_NO_STEP, .type = "note", .actor = "alice",
		.payload = "{\"text\":\"hi\"}",
	};
	return journal_event_append(j, &ev, e);
}

static int run_end(struct journal *j, int64_t run, const char *outcome,
		   int64_t ms, struct err *e)
{
	char payload[96];
	struct journal_event ev = {
		.run_id = run, .wall_ms = ms, .mono_ns = 3,
		.step = JOURNAL_NO_STEP, .type = "run_end", .actor = "qrh",
		.payload = payload,
	};

	snprintf(payload, sizeof payload,
		 "{\"outcome\":\"%s\",\"duration_ms\":5}", outcome);
	return journal_run_end(j, run, outcome, ms, &ev, e);
}

static void lock_path(const struct jt_fixture *f, int64_t run, char *out,
		      size_t n)
{
	snprintf(out, n, "%s-run-%lld.lock", f->path, (long long)run);
}

/* ---- 1: one owner ---- */

/* A second handle (another qrh) is refused with who holds the run, and
 * cannot write to it; once the owner lets go it can. */
static void test_one_owner(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *a = jt_open(f->path), *b = jt_open(f->path);
	int64_t run = run_ok(a);
	char lp[192], expect[128];
	struct stat sb;

	lock_path(f, run, lp, sizeof lp);
	assert_int_equal(stat(lp, &sb), 0);
	assert_int_equal(sb.st_mode & 0777, 0600);
	assert_int_equal(journal_run_owned(a, run), 1);
	assert_int_equal(journal_run_owned(b, run), 0);

	assert_int_equal(journal_run_lock(b, run, "bob", &e), -1);
	snprintf(expect, sizeof expect, "run %lld is being run by alice (pid %d "
		 "on host ", (long long)run, (int)getpid());
	assert_non_null(strstr(e.msg, expect));
	assert_non_null(strstr(e.msg, ") since "));
	assert_int_equal(note(b, run, &e), -1);
	assert_non_null(strstr(e.msg, "not owned"));
	assert_int_equal(journal_output_append(b, run, KEY(0, 1),
					       JOURNAL_STDOUT, "x", 1, &e), -1);
	assert_non_null(strstr(e.msg, "not owned"));
	assert_int_equal(note(a, run, &e), 0);

	journal_run_unlock(a, run);
	assert_int_equal(stat(lp, &sb), -1);	/* gone with its owner */
	assert_int_equal(note(a, run, &e), -1);
	assert_int_equal(journal_run_lock(b, run, "bob", &e), 0);
	assert_int_equal(note(b, run, &e), 0);
	journal_close(b);
	assert_int_equal(stat(lp, &sb), -1);
	journal_close(a);
	assert_int_equal(jt_verify(f->path, run).problem, JOURNAL_VERIFY_OK);
}

/* kill -9 of the owner frees the run at once: the kernel drops flocks. */
static void test_owner_killed(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	int ready[2];
	char c;
	pid_t pid;

	assert_int_equal(pipe(ready), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct journal *j = journal_open(f->path, &e);
		if (!j || run_make(j, &e) != 1)
			_exit(1);
		c = 'y';
		if (write(ready[1], &c, 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(ready[1]);
	assert_int_equal(read(ready[0], &c, 1), 1);
	close(ready[0]);
	struct journal *j = jt_open(f->path);
	assert_int_equal(journal_run_lock(j, 1, "bob", &e), -1);
	assert_non_null(strstr(e.msg, "is being run by alice"));
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	assert_int_equal(journal_run_lock(j, 1, "bob", &e), 0);
	assert_int_equal(note(j, 1, &e), 0);
	journal_close(j);
}

/* A new run is owned from its creation: when its lock is held (here by
 * the test, standing in for a racing resume), the run is not created. */
static void test_new_run_owned_before_commit(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	char lp[192];
	int fd;

	lock_path(f, 1, lp, sizeof lp);
	fd = open(lp, O_RDWR | O_CREAT, 0600);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX | LOCK_NB), 0);
	assert_int_equal(run_make(j, &e), -1);
	assert_non_null(strstr(e.msg, "run 1 is being run by another qrh"));
	close(fd);
	struct journal_run *runs;
	size_t n;
	assert_int_equal(journal_runs_list(j, &runs, &n, &e), 0);
	assert_int_equal(n, 0);
	journal_runs_free(runs, n);
	assert_int_equal(run_ok(j), 1);
	journal_close(j);
}

/* The ended run takes nothing more; a forged continuation fails verify. */
static void test_nothing_after_run_end(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_ok(j);
	struct journal_head head;
	char sql[1024], hash[JOURNAL_HASH_LEN + 1];

	assert_int_equal(run_end(j, run, "ok", 1700000000500, &e), 0);
	assert_int_equal(note(j, run, &e), -1);
	assert_non_null(strstr(e.msg, "has ended"));
	assert_int_equal(run_end(j, run, "failed", 1700000000600, &e), -1);
	assert_int_equal(journal_head(j, run, &head, &e), 0);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, run).problem, JOURNAL_VERIFY_OK);

	/* someone with the file appends a well-chained event after run_end */
	struct journal_event ev = {
		.run_id = run, .seq = head.seq + 1, .wall_ms = 1700000000700,
		.mono_ns = 9, .step = JOURNAL_NO_STEP, .type = "note",
		.actor = "mallory", .payload = "{\"text\":\"later\"}",
	};
	memcpy(ev.prev_hash, head.hash, sizeof ev.prev_hash);
	journal_event_hash(&ev, hash);
	snprintf(sql, sizeof sql, "INSERT INTO events (run_id, seq, wall_ms, "
		 "mono_ns, step, type, actor, payload, prev_hash, hash) VALUES "
		 "(%lld, %lld, %lld, 9, NULL, 'note', 'mallory', '%s', '%s', "
		 "'%s'); UPDATE runs SET head_seq = %lld, head_hash = '%s';",
		 (long long)run, (long long)ev.seq, (long long)ev.wall_ms,
		 ev.payload, ev.prev_hash, hash, (long long)ev.seq, hash);
	jt_sql(f->path, sql);
	struct journal_verify_result res = jt_verify(f->path, run);
	assert_int_equal(res.problem, JOURNAL_VERIFY_AFTER_END);
	assert_int_equal(res.seq, head.seq + 1);
}

/* ---- 3: the run row's outcome is the chain's ---- */

static void expect_outcome_problem(const struct jt_fixture *f, const char *sql,
				   const char *undo, const char *detail)
{
	jt_sql(f->path, sql);
	struct journal_verify_result res = jt_verify(f->path, 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_OUTCOME);
	if (!strstr(res.detail, detail))
		fail_msg("'%s' not in '%s'", detail, res.detail);
	jt_sql(f->path, undo);
	assert_int_equal(jt_verify(f->path, 0).problem, JOURNAL_VERIFY_OK);
}

static void test_outcome_checked(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t ended = run_ok(j), open = run_ok(j);
	char sql[256], undo[256];

	assert_int_equal(run_end(j, ended, "failed", 1700000000500, &e), 0);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, 0).problem, JOURNAL_VERIFY_OK);

	snprintf(sql, sizeof sql, "UPDATE runs SET outcome = 'ok' WHERE id = %lld",
		 (long long)ended);
	snprintf(undo, sizeof undo, "UPDATE runs SET outcome = 'failed' WHERE "
		 "id = %lld", (long long)ended);
	expect_outcome_problem(f, sql, undo, "outcome 'ok' but its run_end says 'failed'");
	snprintf(sql, sizeof sql, "UPDATE runs SET outcome = NULL WHERE id = %lld",
		 (long long)ended);
	expect_outcome_problem(f, sql, undo, "outcome 'none'");
	snprintf(sql, sizeof sql, "UPDATE runs SET ended_at = ended_at - 60000 "
		 "WHERE id = %lld", (long long)ended);
	snprintf(undo, sizeof undo, "UPDATE runs SET ended_at = 1700000000500 "
		 "WHERE id = %lld", (long long)ended);
	expect_outcome_problem(f, sql, undo, "not its run_end's");
	/* a run still going cannot be given an outcome either */
	snprintf(sql, sizeof sql, "UPDATE runs SET outcome = 'ok', ended_at = 1 "
		 "WHERE id = %lld", (long long)open);
	snprintf(undo, sizeof undo, "UPDATE runs SET outcome = NULL, ended_at = "
		 "NULL WHERE id = %lld", (long long)open);
	expect_outcome_problem(f, sql, undo, "has no run_end");
}

/* ---- 4: stored output is checked against the chain ---- */

static void stream_write(struct journal *j, int64_t run,
			 const struct journal_okey *k, enum journal_stream s,
			 size_t total, struct journal_output_info *info)
{
	struct err e = { "" };
	char chunk[4096];

	for (size_t off = 0; off < total; off += sizeof chunk) {
		size_t n = total - off < sizeof chunk ? total - off : sizeof chunk;
		for (size_t i = 0; i < n; i++)
			chunk[i] = (char)('a' + (off + i) % 23);
		if (journal_output_append(j, run, k, s, chunk, n, &e) < 0)
			fail_msg("append: %s", e.msg);
	}
	if (journal_output_finish(j, run, k, s, info, &e) < 0)
		fail_msg("finish: %s", e.msg);
}

/* The engine's step_end (flat form) or a task's end (object form). */
static void end_event(struct journal *j, int64_t run, int64_t step,
		      int attempt, int64_t task,
		      const struct journal_output_info *o,
		      const struct journal_output_info *x)
{
	struct err e = { "" };
	char payload[1024];
	const struct journal_output_info *io[2] = { o, x };
	const char *name[2] = { "stdout", "stderr" };
	size_t n;

	if (task)
		n = (size_t)snprintf(payload, sizeof payload,
				     "{\"task\":%lld,\"attempt\":%d",
				     (long long)task, attempt);
	else
		n = (size_t)snprintf(payload, sizeof payload,
				     "{\"step_id\":\"s\",\"attempt\":%d,"
				     "\"status\":\"ok\"", attempt);
	for (int i = 0; i < 2; i++) {
		if (task)
			n += (size_t)snprintf(payload + n, sizeof payload - n,
				",\"%s\":{\"bytes\":%lld,\"sha256\":\"%s\","
				"\"truncated\":%s,\"lost\":%lld}",
				name[i], (long long)io[i]->total_bytes,
				io[i]->sha256, io[i]->truncated ? "true" : "false",
				(long long)io[i]->lost_bytes);
		else
			n += (size_t)snprintf(payload + n, sizeof payload - n,
				",\"%s_bytes\":%lld,\"%s_sha256\":\"%s\","
				"\"%s_truncated\":%s,\"%s_lost\":%lld",
				name[i], (long long)io[i]->total_bytes, name[i],
				io[i]->sha256, name[i],
				io[i]->truncated ? "true" : "false", name[i],
				(long long)io[i]->lost_bytes);
	}
	snprintf(payload + n, sizeof payload - n, "}");
	struct journal_event ev = {
		.run_id = run, .wall_ms = 1700000000200, .mono_ns = 5,
		.step = step, .type = task ? "task_end" : "step_end",
		.actor = "qrh", .payload = payload,
	};
	if (journal_event_append(j, &ev, &e) < 0)
		fail_msg("end event: %s", e.msg);
}

static int64_t output_id(const char *path, const char *where)
{
	char sql[256];
	int64_t id;

	snprintf(sql, sizeof sql, "SELECT id FROM outputs WHERE %s", where);
	id = jt_sql_int(path, sql);
	assert_true(id > 0);
	return id;
}

static void expect_forged(const struct jt_fixture *f, const char *sql,
			  const struct journal_okey *k, enum journal_stream s,
			  const char *detail)
{
	char copy[128], cmd[1024];
	struct err e = { "" };

	/* each forgery on a fresh copy of the intact journal */
	snprintf(copy, sizeof copy, "%s/forged.db", f->dir);
	snprintf(cmd, sizeof cmd, "rm -f '%s'; sqlite3 '%s' \"VACUUM INTO '%s'\"",
		 copy, f->path, copy);
	assert_int_equal(system(cmd), 0);
	jt_sql(copy, sql);
	struct journal_verify_result res = jt_verify(copy, 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_OUTPUT);
	if (!strstr(res.detail, detail))
		fail_msg("'%s' not in '%s'", detail, res.detail);
	struct journal *j = journal_open_ro(copy, &e);
	struct journal_output_verdict v;
	assert_non_null(j);
	assert_int_equal(journal_output_check(j, 1, k, s, &v, &e), 0);
	assert_int_equal(v.trust, JOURNAL_OUTPUT_FORGED);
	assert_true(v.seq > 0);
	journal_close(j);
}

static void test_output_checked(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_ok(j);
	struct journal_output_info o, x;
	const size_t big = QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES + 5000;
	char sql[256];

	assert_int_equal(run, 1);
	stream_write(j, run, KEY(0, 1), JOURNAL_STDOUT, 10000, &o);
	stream_write(j, run, KEY(0, 1), JOURNAL_STDERR, 0, &x);
	end_event(j, run, 0, 1, 0, &o, &x);
	stream_write(j, run, KEY(1, 1), JOURNAL_STDOUT, big, &o);
	stream_write(j, run, KEY(1, 1), JOURNAL_STDERR, 7, &x);
	assert_int_equal(o.truncated, 1);
	end_event(j, run, 1, 1, 0, &o, &x);
	const struct journal_okey task = { .step = 2, .attempt = 1, .task = 4,
					   .label = "db-1" };
	stream_write(j, run, &task, JOURNAL_STDOUT, 3000, &o);
	stream_write(j, run, &task, JOURNAL_STDERR, 5, &x);
	end_event(j, run, 2, 1, 4, &o, &x);
	/* a stream no event names yet (a step still running) */
	assert_int_equal(journal_output_append(j, run, KEY(3, 1), JOURNAL_STDOUT,
					       "so far", 6, &e), 0);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, 0).problem, JOURNAL_VERIFY_OK);

	j = journal_open_ro(f->path, &e);
	struct journal_output_verdict v;
	assert_int_equal(journal_output_check(j, run, KEY(1, 1), JOURNAL_STDOUT,
					      &v, &e), 0);
	assert_int_equal(v.trust, JOURNAL_OUTPUT_MATCHES);
	assert_int_equal(journal_output_check(j, run, &task, JOURNAL_STDERR,
					      &v, &e), 0);
	assert_int_equal(v.trust, JOURNAL_OUTPUT_MATCHES);
	assert_int_equal(journal_output_check(j, run, KEY(3, 1), JOURNAL_STDOUT,
					      &v, &e), 0);
	assert_int_equal(v.trust, JOURNAL_OUTPUT_UNCLAIMED);
	journal_close(j);

	int64_t small = output_id(f->path, "step = 0 AND stream = 'stdout'");
	snprintf(sql, sizeof sql, "UPDATE output_chunks SET data = "
		 "CAST('rm -rf / ran fine' || substr(data, 18) AS BLOB) "
		 "WHERE output_id = %lld", (long long)small);
	expect_forged(f, sql, KEY(0, 1), JOURNAL_STDOUT, "they were changed");
	snprintf(sql, sizeof sql, "DELETE FROM output_chunks WHERE output_id = "
		 "%lld; DELETE FROM outputs WHERE id = %lld", (long long)small,
		 (long long)small);
	expect_forged(f, sql, KEY(0, 1), JOURNAL_STDOUT, "holds no rows");
	snprintf(sql, sizeof sql, "UPDATE outputs SET sha256 = '%064d' WHERE "
		 "id = %lld", 0, (long long)small);
	expect_forged(f, sql, KEY(0, 1), JOURNAL_STDOUT, "stored summary");
	int64_t trunc = output_id(f->path, "step = 1 AND stream = 'stdout'");
	snprintf(sql, sizeof sql, "DELETE FROM output_chunks WHERE output_id = "
		 "%lld AND part = 2", (long long)trunc);
	expect_forged(f, sql, KEY(1, 1), JOURNAL_STDOUT, "are missing");
	snprintf(sql, sizeof sql, "DELETE FROM output_chunks WHERE output_id = "
		 "%lld AND part = 1", (long long)trunc);
	expect_forged(f, sql, KEY(1, 1), JOURNAL_STDOUT, "notice");
	int64_t t4 = output_id(f->path, "task = 4 AND stream = 'stdout'");
	snprintf(sql, sizeof sql, "UPDATE output_chunks SET data = "
		 "zeroblob(length(data)) WHERE output_id = %lld", (long long)t4);
	expect_forged(f, sql, &task, JOURNAL_STDOUT, "stdout of step 3 attempt 1 (task 4)");
}

/* ---- 5: the journal file watched ---- */

static void test_file_check(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	char other[160];

	assert_int_equal(journal_file_check(j, &e), 0);
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(journal_file_check(j, &e), -1);
	assert_non_null(strstr(e.msg, "was deleted"));
	journal_close(j);

	j = jt_open(f->path);
	snprintf(other, sizeof other, "%s/other.db", f->dir);
	journal_close(jt_open(other));
	assert_int_equal(rename(other, f->path), 0);
	assert_int_equal(journal_file_check(j, &e), -1);
	assert_non_null(strstr(e.msg, "was replaced"));
	journal_close(j);
	/* readers have nothing to lose */
	j = journal_open_ro(f->path, &e);
	assert_non_null(j);
	assert_int_equal(journal_file_check(j, &e), 0);
	journal_close(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_one_owner, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_owner_killed, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_new_run_owned_before_commit, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_nothing_after_run_end, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_outcome_checked, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_output_checked, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_file_check, jt_setup, jt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
