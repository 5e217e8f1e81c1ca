/* test_journal_samples: probe samples in the journal — numbered per run,
 * written in the output batches (no commit of their own), digests over the
 * stored rows, and verify catching a sample changed, removed or added. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "state/journal.h"
#include "tests/unit/support_journal.h"

static int64_t run_make(struct journal *j)
{
	static const char text[] = "# T\n\n## A\n";
	struct err e = { "" };
	int64_t id = 0;
	struct journal_run_new r = {
		.runbook_path = "t.md", .runbook_text = text,
		.runbook_len = sizeof text - 1, .title = "samples",
		.operator_name = "alice", .os_user = "alice", .uid = 1000,
		.host = "ops1", .mode = "drill", .started_ms = 1700000000000,
		.mono_ns = 1,
	};
	if (journal_run_create(j, &r, &id, NULL, &e) < 0)
		fail_msg("journal_run_create: %s", e.msg);
	return id;
}

static int64_t sample(struct journal *j, int64_t run, const char *probe, int i)
{
	struct err e = { "" };
	char value[16], values[64];
	snprintf(value, sizeof value, "%d", 200 + i);
	snprintf(values, sizeof values, "{\"status\":%d}", 200 + i);
	struct journal_sample s = { .probe = probe, .wall_ms = 1700000000000 + i,
				    .mono_ns = 1000000LL * i, .duration_ms = 3, .late_ms = i % 2,
				    .result = "ok", .state = i % 3 ? "ok" : "fail",
				    .value = i % 4 ? value : NULL, .values = values };
	if (journal_sample_append(j, run, &s, &e) < 0)
		fail_msg("journal_sample_append: %s", e.msg);
	return s.seq;
}

/* The digest event, as the engine journals it. */
static void digest_event(struct journal *j, int64_t run, int64_t after,
			 struct journal_sample_digest *d)
{
	struct err e = { "" };
	char payload[256];
	assert_int_equal(journal_samples_digest(j, run, after, d, &e), 0);
	snprintf(payload, sizeof payload,
		 "{\"count\":%lld,\"first\":%lld,\"last\":%lld,\"sha256\":\"%s\"}",
		 (long long)d->count, (long long)d->first, (long long)d->last, d->sha256);
	struct journal_event ev = { .run_id = run, .wall_ms = 1, .mono_ns = 1,
				    .step = JOURNAL_NO_STEP, .type = "probe_digest",
				    .actor = "qrh", .payload = payload };
	assert_int_equal(journal_event_append(j, &ev, &e), 0);
}

static void run_end(struct journal *j, int64_t run)
{
	struct err e = { "" };
	struct journal_event ev = { .run_id = run, .wall_ms = 1700000009000, .mono_ns = 2,
				    .step = JOURNAL_NO_STEP, .type = "run_end",
				    .actor = "qrh", .payload = "{\"outcome\":\"ok\"}" };
	assert_int_equal(journal_run_end(j, run, "ok", ev.wall_ms, &ev, &e), 0);
}

static int count_cb(const struct journal_sample *s, void *ctx)
{
	int64_t *n = ctx;
	assert_string_equal(s->result, "ok");
	(*n)++;
	return 0;
}

/* Samples are buffered, written by the next flush (not a commit each),
 * numbered 1, 2, ... and read back in order. */
static void test_batched(void **state)
{
	struct jt_fixture *f = *state;
	struct err e = { "" };
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j);
	struct journal_stats before, after;
	journal_stats_get(j, &before);
	for (int i = 1; i <= 50; i++)
		assert_int_equal(sample(j, run, i % 2 ? "web" : "db", i), i);
	journal_stats_get(j, &after);
	assert_int_equal(after.commits, before.commits);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM probe_samples"), 0);
	assert_int_equal(journal_flush(j, &e), 0);
	journal_stats_get(j, &after);
	assert_int_equal(after.commits, before.commits + 1);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM probe_samples"), 50);
	int64_t n = 0;
	assert_int_equal(journal_samples_each(j, run, "web", 0, count_cb, &n, &e), 0);
	assert_int_equal(n, 25);
	n = 0;
	assert_int_equal(journal_samples_last(j, run, "db", 5, count_cb, &n, &e), 0);
	assert_int_equal(n, 5);
	/* an event flushes them too: the sample is on disk before it */
	sample(j, run, "web", 51);
	struct journal_event ev = { .run_id = run, .wall_ms = 1, .mono_ns = 1,
				    .step = JOURNAL_NO_STEP, .type = "note", .actor = "a",
				    .payload = "{}" };
	assert_int_equal(journal_event_append(j, &ev, &e), 0);
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM probe_samples"), 51);
	/* a reopened journal goes on numbering after the stored ones */
	journal_close(j);
	j = jt_open(f->path);
	assert_int_equal(journal_run_lock(j, run, "alice", &e), 0);
	assert_int_equal(sample(j, run, "web", 52), 52);
	journal_close(j);
	/* append-only */
	assert_int_equal(jt_sql_int(f->path, "SELECT count(*) FROM sqlite_master WHERE "
				 "name LIKE 'probe_samples_no_%'"), 2);
}

/* Digests cover consecutive ranges; verify recomputes them. */
static void test_digest_verified(void **state)
{
	struct jt_fixture *f = *state;
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j);
	struct journal_sample_digest d1, d2, none;
	for (int i = 1; i <= 10; i++)
		sample(j, run, "web", i);
	digest_event(j, run, 0, &d1);
	assert_int_equal(d1.count, 10);
	assert_int_equal(d1.first, 1);
	assert_int_equal(d1.last, 10);
	for (int i = 11; i <= 14; i++)
		sample(j, run, "db", i);
	digest_event(j, run, d1.last, &d2);
	assert_int_equal(d2.first, 11);
	assert_int_equal(d2.count, 4);
	assert_string_not_equal(d1.sha256, d2.sha256);
	struct err e = { "" };
	assert_int_equal(journal_samples_digest(j, run, d2.last, &none, &e), 0);
	assert_int_equal(none.count, 0);
	run_end(j, run);
	journal_close(j);
	struct journal_verify_result res = jt_verify(f->path, 0);
	if (res.problem != JOURNAL_VERIFY_OK)
		fail_msg("verify: %s", res.detail);
}

static void tamper_case(struct jt_fixture *f, const char *sql, const char *want)
{
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j);
	struct journal_sample_digest d;
	for (int i = 1; i <= 6; i++)
		sample(j, run, "web", i);
	digest_event(j, run, 0, &d);
	run_end(j, run);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, 0).problem, JOURNAL_VERIFY_OK);
	jt_sql(f->path, "DROP TRIGGER probe_samples_no_update; DROP TRIGGER probe_samples_no_delete");
	jt_sql(f->path, sql);
	struct journal_verify_result res = jt_verify(f->path, 0);
	assert_int_equal(res.problem, JOURNAL_VERIFY_SAMPLES);
	if (!strstr(res.detail, want))
		fail_msg("detail '%s' lacks '%s'", res.detail, want);
}

static void test_tamper_value(void **state)
{
	tamper_case(*state, "UPDATE probe_samples SET value = '200' WHERE seq = 3",
		    "samples 1 to 6");
}

static void test_tamper_state(void **state)
{
	tamper_case(*state, "UPDATE probe_samples SET state = 'ok' WHERE state = 'fail'",
		    "hash to");
}

static void test_tamper_removed(void **state)
{
	tamper_case(*state, "DELETE FROM probe_samples WHERE seq = 2", "5 stored, 6 digested");
}

static void test_tamper_added(void **state)
{
	tamper_case(*state, "INSERT INTO probe_samples (run_id, seq, probe, wall_ms, mono_ns, "
			    "duration_ms, late_ms, skipped, result, state, value, values_json) "
			    "VALUES (1, 7, 'web', 1, 1, 1, 0, 0, 'ok', 'ok', '200', '{}')",
		    "samples 7 to 7 of an ended run are in no digest");
}

/* A run cut off by a crash may have samples after its last digest. */
static void test_undigested_tail_of_open_run(void **state)
{
	struct jt_fixture *f = *state;
	struct journal *j = jt_open(f->path);
	int64_t run = run_make(j);
	struct journal_sample_digest d;
	sample(j, run, "web", 1);
	digest_event(j, run, 0, &d);
	sample(j, run, "web", 2);
	journal_close(j);
	assert_int_equal(jt_verify(f->path, 0).problem, JOURNAL_VERIFY_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_batched, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_digest_verified, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_value, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_state, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_removed, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_tamper_added, jt_setup, jt_teardown),
		cmocka_unit_test_setup_teardown(test_undigested_tail_of_open_run, jt_setup,
						jt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
