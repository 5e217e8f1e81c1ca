/* test_engine: the engine (state/run*.c) driven directly, with the scripted
 * action kind of fake_action.h: every transition, cancel at every point,
 * concurrent tasks ending in every order, fan-out with a concurrency
 * limit, durations, redaction of summaries and values, the policy, and
 * journal write failures. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdatomic.h>

#include "runbooks/load.h"
#include "state/approval_sock.h"
#include "state/events.h"
#include "state/journal_team.h"
#include "state/run.h"
#include "tests/unit/fake_action.h"
#include "tests/unit/support_engine.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct fx {
	struct engine_env env;
	struct runbook *rb;
	struct run *run;
	struct buf events;  /* "type step\n" per event */
	struct buf output;
	int step_done[16];
	bool journal_failed;
	char failed_msg[512];
	int64_t uid; /* the operator's, for the run's options */
	int64_t approval_ttl_ms;
};

static void on_event(void *arg, const struct journal_event *ev)
{
	struct fx *f = arg;
	buf_addf(&f->events, "%s %lld\n", ev->type, (long long)ev->step);
}

static void on_output(void *arg, const struct run_chunk *c)
{
	struct fx *f = arg;
	buf_addf(&f->output, "[%zu%s%s]", c->step, c->label ? " " : "", c->label ? c->label : "");
	buf_add(&f->output, c->data, c->len);
}

static void on_step_done(void *arg, size_t i)
{
	struct fx *f = arg;
	if (i < 16)
		f->step_done[i]++;
}

static void on_failed(void *arg, const char *msg)
{
	struct fx *f = arg;
	f->journal_failed = true;
	snprintf(f->failed_msg, sizeof f->failed_msg, "%s", msg);
}

static int setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	engine_env_open(&f->env, "engine");
	buf_init(&f->events, BUF_UNLIMITED);
	buf_init(&f->output, BUF_UNLIMITED);
	f->uid = 1000;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	engine_env_close(&f->env, f->run, f->rb);
	buf_release(&f->events);
	buf_release(&f->output);
	/* every kind opened for the run was closed with it */
	assert_int_equal(fake_stats.opened, fake_stats.closed);
	free(f);
	return 0;
}

/* Loads md and opens a run of it with the fake kind. */
static void open_run(struct fx *f, const char *md, const char *secret)
{
	struct diags d;
	struct err e;
	diags_init(&d);
	f->rb = runbook_load_buffer("t.md", md, strlen(md), RUNBOOK_MARKDOWN, &d);
	if (!f->rb || d.n_errors)
		fail_msg("runbook: %s", d.n ? d.v[0].msg : "?");
	diags_release(&d);
	struct run_opts o = { .mode = RUN_LIVE, .operator_name = "alice", .os_user = "al",
			      .uid = f->uid, .host = "h", .grace_ms = 200,
			      .approval_ttl_ms = f->approval_ttl_ms,
			      .entries = fake_entries };
	f->run = run_new(f->rb, &o);
	if (secret)
		assert_int_equal(run_set_value(f->run, "PW", secret, &e), 0);
	struct run_listener lis = { .event = on_event, .output = on_output,
				    .step_done = on_step_done,
				    .journal_failed = on_failed, .arg = f };
	if (run_open(f->run, f->env.j, f->env.loop, f->env.reaper, &lis, &e) < 0)
		fail_msg("run_open: %s", e.msg);
}

/* Runs the loop until cond holds (or fails after 10 s). */
#define RUN_UNTIL(f, cond)                                                    \
	do {                                                                  \
		int64_t until_ = clock_mono_ns() + 10000000000LL;             \
		while (!(cond)) {                                             \
			if (clock_mono_ns() > until_)                         \
				fail_msg("timed out waiting for %s", #cond);  \
			loop_run_once((f)->env.loop, 50);                         \
		}                                                             \
	} while (0)

static void begin(struct fx *f, size_t i)
{
	struct err e;
	if (run_step_begin(f->run, i, "enter", &e) < 0)
		fail_msg("run_step_begin: %s", e.msg);
}

static enum step_status status(struct fx *f, size_t i)
{
	return run_step(f->run, i)->status;
}

static bool has(struct fx *f, const char *text)
{
	return strstr(f->events.data, text) != NULL;
}

static int64_t sql_int(struct fx *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	assert_int_equal(sqlite3_open_v2(f->env.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void verify_ok(struct fx *f)
{
	struct journal_verify_result res;
	struct err e;
	assert_int_equal(journal_verify(f->env.j, 0, &res, &e), 0);
	if (res.problem != JOURNAL_VERIFY_OK)
		fail_msg("verify: %s", res.detail);
}

/* ---- transitions ---- */

static void test_step_ok(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A\n```sh\nout hello\nvalues {\"n\":1}\nexit 0\n```\n## B\n```sh\nexit 0\n```\n", NULL);
	assert_int_equal(status(f, 0), STEP_PENDING);
	assert_true(run_choices(f->run, 0) & CHOICE_RUN);
	begin(f, 0);
	assert_int_equal(status(f, 0), STEP_RUNNING);
	assert_int_equal(run_choices(f->run, 1), 0); /* one step at a time */
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_OK);
	assert_true(has(f, "step_confirm 0\nstep_start 0\naction_start 0\naction_end 0\nstep_end 0\n"));
	assert_non_null(strstr(f->output.data, "[0]hello\n"));
	assert_int_equal(sql_int(f, "select json_extract(payload,'$.values.n') from events where type='action_end'"), 1);
	assert_int_equal(sql_int(f, "select count(*) from outputs where task is not null"), 2);
	assert_int_equal(run_next_step(f->run), 1);
	verify_ok(f);
}

static void test_failure_choices(void **state)
{
	struct fx *f = *state;
	open_run(f, "## Stop\n```sh\nexit 3\n```\n## Ask {on_fail=ask}\n```sh\nexit 4\n```\n"
		    "## Go on {on_fail=continue}\n```sh\nexit 5\n```\n", NULL);
	struct err e;
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_FAILED);
	assert_int_equal(run_step(f->run, 0)->exit_code, 3);
	/* stop: retry, abort or later; not skip nor done by hand */
	assert_int_equal(run_choices(f->run, 0), CHOICE_RETRY | CHOICE_ABORT | CHOICE_LATER);
	assert_int_equal(run_step_skip(f->run, 0, "no", &e), -1);
	assert_false(run_step_settled(f->run, 0));
	assert_string_equal(run_choice_word(f->run, 0, CHOICE_ABORT), RUN_WORD_ABORT);
	/* out of order: step 2 before step 1 is settled takes a word */
	assert_true(run_out_of_order(f->run, 1));
	assert_string_equal(run_choice_word(f->run, 1, CHOICE_RUN), RUN_WORD_OUT_OF_ORDER);
	assert_int_equal(run_step_done_by_hand(f->run, 0, "fixed by hand", &e), -1);
	begin(f, 1);
	RUN_UNTIL(f, f->step_done[1]);
	assert_true(has(f, "step_confirm 1"));
	assert_int_equal(sql_int(f, "select json_extract(payload,'$.out_of_order') from events where type='step_confirm' and step=1"), 1);
	/* ask: the full choice */
	assert_int_equal(run_choices(f->run, 1), CHOICE_RETRY | CHOICE_SKIP | CHOICE_DONE_BY_HAND |
							 CHOICE_ABORT | CHOICE_LATER);
	assert_int_equal(run_step_skip(f->run, 1, "not needed", &e), 0);
	assert_int_equal(status(f, 1), STEP_SKIPPED);
	assert_string_equal(run_step(f->run, 1)->closed_by, "alice");
	assert_int_equal(run_choices(f->run, 1), 0);
	begin(f, 2);
	RUN_UNTIL(f, f->step_done[2]);
	assert_true(run_step_settled(f->run, 2)); /* on_fail=continue */
	assert_int_equal(run_next_step(f->run), 0);
	verify_ok(f);
}

static void test_retries_and_durations(void **state)
{
	struct fx *f = *state;
	open_run(f, "## Flaky {retries=2 backoff=100ms}\n```sh\nwait 50\nexit 1\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0] && status(f, 0) != STEP_RETRY_WAIT &&
			     !run_step_active(f->run));
	const struct step_state *st = run_step(f->run, 0);
	assert_int_equal(st->status, STEP_FAILED);
	assert_int_equal(st->attempt, 3);
	assert_int_equal(st->n_attempts, 3);
	/* each attempt its own time (the step's is the last one's); the
	 * step's wall time spans all of them and the 100 + 200 ms of backoff.
	 * Only lower bounds: a loaded machine stretches every figure. */
	int64_t work_ms = 0;
	for (int k = 0; k < 3; k++) {
		assert_true(st->attempts[k].duration_ms >= 50);
		work_ms += st->attempts[k].duration_ms;
	}
	assert_int_equal(st->duration_ms, st->attempts[2].duration_ms);
	assert_true(st->elapsed_ms >= work_ms + 300);
	assert_int_equal(sql_int(f, "select count(*) from events where type='step_retry'"), 2);
	assert_true(sql_int(f, "select max(json_extract(payload,'$.elapsed_ms')) from events where type='step_end'") >= 450);
	verify_ok(f);
}

/* ---- cancel at every point ---- */

static void test_cancel_before_start(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A\n```sh\nexit 0\n```\n", NULL);
	run_cancel_step(f->run); /* nothing runs: nothing happens */
	assert_int_equal(status(f, 0), STEP_PENDING);
	assert_int_equal(fake_stats.started, 0);
	assert_false(has(f, "step_end"));
}

static void test_cancel_during_output(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A\n```sh\nout one\nhang\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, strstr(f->output.data, "one"));
	run_cancel_step(f->run);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_CANCELLED);
	assert_int_equal(fake_stats.cancelled, 1);
	assert_int_equal(sql_int(f, "select count(*) from events where type='step_end' and json_extract(payload,'$.status')='cancelled'"), 1);
	verify_ok(f);
}

static void test_cancel_during_backoff(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A {retries=3 backoff=10s}\n```sh\nexit 1\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, status(f, 0) == STEP_RETRY_WAIT);
	assert_int_equal(run_choices(f->run, 0), CHOICE_CANCEL);
	run_cancel_step(f->run);
	assert_int_equal(status(f, 0), STEP_CANCELLED);
	assert_false(run_step_active(f->run));
	/* journaled, by the operator: a resume sees it as cancelled */
	assert_int_equal(sql_int(f, "select count(*) from events where type='step_cancel' and actor='alice'"), 1);
	struct run_fold fold;
	struct err e;
	fold_init(&fold, f->rb);
	assert_int_equal(journal_events_each(f->env.j, run_id(f->run), 0, fold_event_cb, &fold, &e), 0);
	assert_int_equal(fold.steps[0].st.status, STEP_CANCELLED);
	assert_int_equal(fold.illegal, 0);
	fold_release(&fold);
	verify_ok(f);
}

static void test_cancel_with_background(void **state)
{
	struct fx *f = *state;
	open_run(f, "## Load\n```sh {background=true name=load}\nout tick\nhang\n```\n"
		    "```sh {background=true name=second}\nhang\n```\n"
		    "## Work\n```sh\nhang\n```\n## Stop\n```wait {stop=load}\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_OK);
	assert_int_equal(run_background_count(f->run), 2); /* two in one step */
	begin(f, 1);
	RUN_UNTIL(f, fake_stats.running == 3);
	run_cancel_step(f->run); /* cancels the step, not the background */
	RUN_UNTIL(f, f->step_done[1]);
	assert_int_equal(status(f, 1), STEP_CANCELLED);
	assert_int_equal(run_background_count(f->run), 2);
	begin(f, 2);
	RUN_UNTIL(f, f->step_done[2]);
	assert_int_equal(status(f, 2), STEP_OK);
	assert_int_equal(run_background_count(f->run), 1);
	run_stop_background(f->run);
	RUN_UNTIL(f, !run_busy(f->run));
	assert_int_equal(sql_int(f, "select count(*) from events where type='background_end'"), 2);
	/* each background task has its own output */
	assert_int_equal(sql_int(f, "select count(distinct task) from outputs where label in ('load','second')"), 2);
	verify_ok(f);
}

static void test_timeout(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A\n```sh {timeout=100ms}\nhang\n```\n## B {timeout=100ms}\n```sh\nhang\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_TIMEOUT);
	assert_int_equal(sql_int(f, "select count(*) from events where type='action_end' and json_extract(payload,'$.status')='timeout'"), 1);
	begin(f, 1);
	RUN_UNTIL(f, f->step_done[1]);
	assert_int_equal(status(f, 1), STEP_TIMEOUT);
	assert_int_equal(fake_stats.done_from_cancel, 0);
}

/* ---- fan-out ---- */

static const char *group_md(int n, int parallel, const char *require,
			    const char *script)
{
	static char md[8192];
	size_t len = (size_t)snprintf(md, sizeof md, "---\ntargets:\n");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(md + len, sizeof md - len,
					"  h%d: {kind: ssh, host: 127.0.0.%d}\n", i, i + 1);
	len += (size_t)snprintf(md + len, sizeof md - len, "  all: {kind: group, members: [");
	for (int i = 0; i < n; i++)
		len += (size_t)snprintf(md + len, sizeof md - len, "%sh%d", i ? ", " : "", i);
	snprintf(md + len, sizeof md - len,
		 "]}\n---\n## Fleet\n```sh {target=all parallel=%d%s%s}\n%s\n```\n",
		 parallel, require ? " require=" : "", require ? require : "", script);
	return md;
}

static void test_fanout_limit(void **state)
{
	struct fx *f = *state;
	open_run(f, group_md(10, 3, NULL, "out on $QRH_TARGET\nwait 30\nexit 0"), NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_OK);
	assert_int_equal(fake_stats.started, 10);
	assert_int_equal(fake_stats.max_running, 3); /* never more than parallel */
	assert_int_equal(sql_int(f, "select count(*) from events where type='task_start'"), 10);
	assert_int_equal(sql_int(f, "select count(*) from events where type='task_end'"), 10);
	assert_int_equal(sql_int(f, "select json_array_length(payload,'$.hosts') from events where type='action_end'"), 10);
	assert_int_equal(sql_int(f, "select count(distinct label) from outputs"), 10);
	assert_non_null(strstr(f->output.data, "[0 h7]"));
	verify_ok(f);
}

/* Members end in every order: the outcome and the record are the same. */
static void test_fanout_orders(void **state)
{
	static const int orders[6][3] = { { 10, 20, 30 }, { 10, 30, 20 }, { 20, 10, 30 },
					  { 20, 30, 10 }, { 30, 10, 20 }, { 30, 20, 10 } };
	struct fx *f = *state;
	for (int o = 0; o < 6; o++) {
		char md[4096];
		/* b fails: require=2 still holds with a and c; require=all not */
		snprintf(md, sizeof md,
			 "---\ntargets:\n  a: {kind: ssh, host: x}\n  b: {kind: ssh, host: y}\n"
			 "  c: {kind: ssh, host: z}\n  g: {kind: group, members: [a, b, c]}\n---\n"
			 "## Two of three\n```sh {target=g require=2}\nwaitby a:%d,b:%d,c:%d\nexitby b:1\n```\n"
			 "## All\n```sh {target=g}\nwaitby a:%d,b:%d,c:%d\nexitby b:1\n```\n",
			 orders[o][0], orders[o][1], orders[o][2],
			 orders[o][0], orders[o][1], orders[o][2]);
		open_run(f, md, NULL);
		begin(f, 0);
		RUN_UNTIL(f, !run_step_active(f->run));
		assert_int_equal(status(f, 0), STEP_OK);
		begin(f, 1);
		RUN_UNTIL(f, !run_step_active(f->run));
		assert_int_equal(status(f, 1), STEP_FAILED);
		assert_int_equal(sql_int(f, "select count(*) from events where type='task_end'"), 6);
		/* the fold keeps how each member ended (the console's header) */
		const struct run_fold *fd = run_fold(f->run);
		size_t members = 0;
		for (size_t k = 0; k < fd->n_tasks; k++) {
			const struct fold_task *t = &fd->tasks[k];
			if (t->role != FOLD_TASK_MEMBER)
				continue;
			members++;
			bool b = !strcmp(t->label, "b");
			assert_true(t->ended);
			assert_string_equal(t->status, b ? "failed" : "ok");
			assert_int_equal(t->exit_code, b ? 1 : 0);
			assert_string_equal(t->summary, b ? "exit 1" : "exit 0");
			assert_true(t->duration_ms >= 0);
		}
		assert_int_equal(members, 6);
		verify_ok(f);
		run_free(f->run);
		runbook_free(f->rb);
		f->run = NULL;
		f->rb = NULL;
		journal_close(f->env.j);
		unlink(f->env.path);
		struct err e;
		f->env.j = journal_open(f->env.path, &e);
		assert_non_null(f->env.j);
	}
}

static void test_fanout_require_any(void **state)
{
	struct fx *f = *state;
	open_run(f, group_md(6, 1, "any", "exit 0"), NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_OK);
	/* one success decides it: the others are not started */
	assert_int_equal(fake_stats.started, 1);
	assert_int_equal(sql_int(f, "select count(*) from json_each((select json_extract(payload,'$.hosts') from events where type='action_end')) where json_extract(value,'$.status')='not_run'"), 5);
}

/* ---- secrets, actors, the journal failing ---- */

static void test_secret_redaction(void **state)
{
	struct fx *f = *state;
	open_run(f, "---\nvars:\n  PW: {secret: true}\n---\n## A\n"
		    "```sh\nout the pw is s3cr3t-value\nprogress {\"url\":\"x?pw=s3cr3t-value\"}\n"
		    "values {\"dsn\":\"password=s3cr3t-value\"}\nexit 2\n```\n", "s3cr3t-value");
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_null(strstr(f->output.data, "s3cr3t"));
	assert_int_equal(sql_int(f, "select count(*) from events where payload like '%s3cr3t%'"), 0);
	assert_true(sql_int(f, "select count(*) from events where type='action_end' and payload like '%password=***%'") == 1);
	assert_int_equal(sql_int(f, "select count(*) from output_chunks where cast(data as text) like '%s3cr3t%'"), 0);
}

/* A failure to start names what failed; the name of a secret is masked. */
static void test_start_error_redacted(void **state)
{
	struct fx *f = *state;
	open_run(f, "---\nvars:\n  PW: {secret: true}\n---\n## A\n```sh\nfail-start cannot run /nonexistent/hunter22\n```\n",
		 "hunter22");
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(status(f, 0), STEP_FAILED);
	assert_string_equal(run_step(f->run, 0)->summary, "cannot run /nonexistent/***");
	assert_int_equal(sql_int(f, "select count(*) from events where payload like '%hunter22%'"), 0);
}

/* An action lists choices and asks for one: the operator picks, and the
 * pick is journaled by the operator as the variable's value. */
static void test_pick(void **state)
{
	struct fx *f = *state;
	struct err e;
	open_run(f, "---\nvars:\n  BACKUP: {description: the backup}\n---\n## List\n"
		    "```sh\nvalues {\"choices\":[{\"name\":\"daily-2\"},{\"name\":\"daily-1\"}],"
		    "\"pick\":{\"variable\":\"BACKUP\",\"value\":null}}\nexit 0\n```\n"
		    "## Use\n```sh\nout ${BACKUP}\n```\n", NULL);
	size_t step;
	const char *var;
	assert_null(run_pick_pending(f->run, &step, &var));
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	const cJSON *choices = run_pick_pending(f->run, &step, &var);
	assert_non_null(choices);
	assert_int_equal(step, 0);
	assert_string_equal(var, "BACKUP");
	assert_int_equal(cJSON_GetArraySize(choices), 2);
	assert_int_equal(run_pick(f->run, "weekly-9", &e), -1);
	assert_non_null(strstr(e.msg, "not one of the choices"));
	assert_int_equal(run_pick(f->run, "3", &e), -1); /* no third choice */
	assert_int_equal(run_pick(f->run, "2", &e), 0);  /* the second: daily-1 */
	assert_null(run_pick_pending(f->run, &step, &var));
	assert_int_equal(sql_int(f, "select count(*) from events where type='capture' and actor='alice' "
				    "and json_extract(payload,'$.value')='daily-1' and json_extract(payload,'$.how')='picked'"), 1);
	verify_ok(f);
}

static void test_abort_actor(void **state)
{
	struct fx *f = *state;
	struct err e;
	open_run(f, "## A\n```sh\nexit 1\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(run_end(f->run, "aborted", true, &e), 0);
	assert_int_equal(sql_int(f, "select count(*) from events where type='run_end' and actor='alice'"), 1);
	/* nothing after the end */
	assert_int_equal(run_note(f->run, "late", &e), -1);
	assert_int_equal(run_choices(f->run, 0), 0);
}

static void test_journal_full(void **state)
{
	struct fx *f = *state;
	struct err e;
	open_run(f, "## A\n```sh\nout x\nwait 20\nexit 0\n```\n## B\n```sh\nexit 0\n```\n", NULL);
	/* the confirmation batch commits; the next commit fails */
	journal_fail_after(f->env.j, 1, SQLITE_FULL);
	begin(f, 0);
	RUN_UNTIL(f, f->journal_failed && !run_step_active(f->run));
	assert_non_null(strstr(f->failed_msg, "full"));
	/* no step may start once the journal cannot be written */
	assert_int_equal(run_step_begin(f->run, 1, "enter", &e), -1);
	assert_non_null(strstr(e.msg, "journal"));
	assert_int_equal(fake_stats.started, 1);
	journal_fail_after(f->env.j, -1, 0);
	verify_ok(f); /* what was committed still verifies */
}

static void test_journal_ioerr_at_start(void **state)
{
	struct fx *f = *state;
	struct err e;
	open_run(f, "## A\n```sh\nexit 0\n```\n", NULL);
	journal_fail_after(f->env.j, 0, SQLITE_IOERR);
	/* the confirmation cannot be made durable: nothing runs */
	assert_int_equal(run_step_begin(f->run, 0, "enter", &e), -1);
	assert_int_equal(fake_stats.started, 0);
	assert_true(f->journal_failed);
	journal_fail_after(f->env.j, -1, 0);
}

/* ---- dual control ---- */

/* A second identity on the console's socket, in a thread: the kernel names
 * this process's uid, which the tests make the operator's or not. */
struct approver {
	char uuid[40];
	bool tamper; /* answer for another command */
	atomic_int done; /* 1 + the verdict (0 refused, 1 approved), or 99: error */
	char message[ERR_MSG_MAX];
};

static void *approver_main(void *arg)
{
	struct approver *a = arg;
	struct err e;
	int fd;
	uid_t cu;
	cJSON *hello, *reply;
	if (approval_sock_connect(a->uuid, 5000, &fd, &cu, &hello, &e) < 0) {
		snprintf(a->message, sizeof a->message, "%s", e.msg);
		atomic_store(&a->done, 99);
		return NULL;
	}
	const cJSON *p = cJSON_GetArrayItem(cJSON_GetObjectItem(hello, "pending"), 0);
	cJSON *ans = cJSON_CreateObject();
	cJSON_AddStringToObject(ans, "step_id", p ? cJSON_GetObjectItem(p, "step_id")->valuestring : "");
	cJSON_AddNumberToObject(ans, "request_seq", p ? cJSON_GetObjectItem(p, "request_seq")->valuedouble : 0);
	cJSON_AddStringToObject(ans, "command_sha256", !p || a->tamper ? "0000" :
				cJSON_GetObjectItem(p, "command_sha256")->valuestring);
	cJSON_AddStringToObject(ans, "decision", "approve");
	int rc = approval_sock_ask(fd, ans, 5000, &reply, &e);
	cJSON_Delete(ans);
	cJSON_Delete(hello);
	close(fd);
	if (rc < 0) {
		snprintf(a->message, sizeof a->message, "%s", e.msg);
		atomic_store(&a->done, 99);
		return NULL;
	}
	snprintf(a->message, sizeof a->message, "%s", cJSON_GetObjectItem(reply, "message")->valuestring);
	atomic_store(&a->done, 1 + cJSON_IsTrue(cJSON_GetObjectItem(reply, "ok")));
	cJSON_Delete(reply);
	return NULL;
}

/* Runs one approver while the loop serves it; its verdict. */
static int approve(struct fx *f, bool tamper, char message[ERR_MSG_MAX])
{
	struct approver a = { .tamper = tamper };
	struct err e;
	pthread_t th;
	assert_int_equal(journal_run_uuid(f->env.j, run_id(f->run), a.uuid, &e), 1);
	assert_int_equal(pthread_create(&th, NULL, approver_main, &a), 0);
	RUN_UNTIL(f, atomic_load(&a.done));
	pthread_join(th, NULL);
	memcpy(message, a.message, ERR_MSG_MAX);
	if (atomic_load(&a.done) == 99)
		fail_msg("approver: %s", a.message);
	return atomic_load(&a.done) - 1;
}

static const char dual_md[] = "## Del {dual_control=true}\n```sh\nexit 0\n```\n";

static void test_dual_control_other_uid(void **state)
{
	struct fx *f = *state;
	struct run_approval a;
	struct err e;
	char msg[ERR_MSG_MAX];
	f->uid = (int64_t)getuid() + 1; /* the operator is someone else than us */
	setenv("QRH_APPROVE_DIR", f->env.dir, 1);
	open_run(f, dual_md, NULL);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_NEEDED);
	assert_int_equal(run_step_begin(f->run, 0, "enter", &e), -1);
	assert_non_null(strstr(e.msg, "needs an approval by another identity"));
	assert_int_equal(run_approval_request(f->run, 0, &e), 0);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_WAITING);
	assert_non_null(strstr(a.how_to, "qrh approve "));
	/* an approval for another command is refused, and journaled */
	assert_int_equal(approve(f, true, msg), 0);
	assert_non_null(strstr(msg, "another command"));
	assert_true(has(f, "approval_refused 0\n"));
	assert_int_equal(approve(f, false, msg), 1);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_GRANTED);
	assert_string_equal(a.via, "local");
	assert_int_equal(sql_int(f, "select json_extract(payload, '$.uid') from events "
				 "where type = 'approval'"), (int64_t)getuid());
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0] && status(f, 0) == STEP_OK);
	/* the approval was for that attempt: spent */
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_NEEDED);
	verify_ok(f);
	unsetenv("QRH_APPROVE_DIR");
}

static void test_dual_control_same_uid(void **state)
{
	struct fx *f = *state;
	struct run_approval a;
	struct err e;
	char msg[ERR_MSG_MAX];
	f->uid = (int64_t)getuid();
	setenv("QRH_APPROVE_DIR", f->env.dir, 1);
	open_run(f, dual_md, NULL);
	assert_int_equal(run_approval_request(f->run, 0, &e), 0);
	assert_int_equal(approve(f, false, msg), 0);
	assert_non_null(strstr(msg, "same identity"));
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_WAITING);
	assert_non_null(strstr(a.refused, "same identity"));
	assert_int_equal(run_step_begin(f->run, 0, "enter", &e), -1);
	assert_int_equal(sql_int(f, "select count(*) from events where type = 'step_start'"), 0);
	unsetenv("QRH_APPROVE_DIR");
}

static void test_dual_control_expiry(void **state)
{
	struct fx *f = *state;
	struct run_approval a;
	struct err e;
	char msg[ERR_MSG_MAX];
	f->uid = (int64_t)getuid() + 1;
	f->approval_ttl_ms = 1500; /* room for the approver on a slow build */
	setenv("QRH_APPROVE_DIR", f->env.dir, 1);
	open_run(f, dual_md, NULL);
	assert_int_equal(run_approval_request(f->run, 0, &e), 0);
	int seen = f->step_done[0];
	/* the front end is told when the request expires */
	RUN_UNTIL(f, f->step_done[0] > seen);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_NEEDED);
	assert_non_null(strstr(a.refused, "expired"));
	assert_int_equal(run_step_begin(f->run, 0, "enter", &e), -1);
	/* asked again, approved, and the approval expires unused too */
	assert_int_equal(run_approval_request(f->run, 0, &e), 0);
	assert_int_equal(approve(f, false, msg), 1);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_GRANTED);
	seen = f->step_done[0];
	RUN_UNTIL(f, f->step_done[0] > seen && (run_approval(f->run, 0, &a), a.state == RUN_APPROVAL_NEEDED));
	assert_int_equal(run_step_begin(f->run, 0, "enter", &e), -1);
	assert_int_equal(sql_int(f, "select count(*) from events where type = 'approval_request'"), 2);
	unsetenv("QRH_APPROVE_DIR");
}

/* The runbook's approval_ttl sets how long a request stands: never less
 * (a lower bound only: a loaded machine may be later, never earlier). */
static void test_dual_control_runbook_ttl(void **state)
{
	struct fx *f = *state;
	struct run_approval a;
	struct err e;
	f->uid = (int64_t)getuid() + 1;
	setenv("QRH_APPROVE_DIR", f->env.dir, 1);
	open_run(f, "---\napproval_ttl: 2s\n---\n## Del {dual_control=true}\n```sh\nexit 0\n```\n",
		 NULL);
	int64_t t0 = clock_mono_ns();
	assert_int_equal(run_approval_request(f->run, 0, &e), 0);
	int seen = f->step_done[0];
	RUN_UNTIL(f, f->step_done[0] > seen);
	assert_true(clock_mono_ns() - t0 >= 2000 * 1000000LL);
	run_approval(f->run, 0, &a);
	assert_int_equal(a.state, RUN_APPROVAL_NEEDED);
	assert_non_null(strstr(a.refused, "expired"));
	unsetenv("QRH_APPROVE_DIR");
}

/* ---- the policy a front end presents ---- */

/* After a step settles the selection goes to the first step that is not
 * settled: on past an on_fail=continue failure, back to a step that a
 * step run out of order passed over, and nowhere once all are settled. */
static void test_select_after(void **state)
{
	struct fx *f = *state;
	open_run(f, "## A\n```sh\nexit 0\n```\n## B {on_fail=continue}\n```sh\nexit 2\n```\n"
		    "## C\n```sh\nexit 3\n```\n## D\n```sh\nexit 0\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(run_select_after(f->run, 0), 1);
	begin(f, 1);
	RUN_UNTIL(f, f->step_done[1]);
	assert_true(run_step_settled(f->run, 1));
	assert_int_equal(run_select_after(f->run, 1), 2);
	begin(f, 2);
	RUN_UNTIL(f, f->step_done[2]);
	assert_false(run_step_settled(f->run, 2)); /* on_fail=stop */
	/* D out of order takes the word; once it settles, back to C */
	assert_string_equal(run_choice_word(f->run, 3, CHOICE_RUN), RUN_WORD_OUT_OF_ORDER);
	begin(f, 3);
	RUN_UNTIL(f, f->step_done[3]);
	assert_int_equal(run_select_after(f->run, 3), 2);
	struct err e;
	assert_int_equal(run_step_skip(f->run, 2, "no", &e), -1);
	begin(f, 2);
	RUN_UNTIL(f, f->step_done[2] == 2);
	assert_int_equal(status(f, 2), STEP_FAILED);
	assert_int_equal(run_end(f->run, "aborted", true, &e), 0);
	assert_int_equal(run_select_after(f->run, 3), 2);
}

/* Refusals are sentences in words, not status names. */
static void test_refusal_words(void **state)
{
	struct fx *f = *state;
	struct err e;
	open_run(f, "## Look\n```sh\nexit 0\n```\n## Promote\n```sh\nexit 3\n```\n"
		    "## Check\nBy hand.\n## Wait\n```sh\nwait 5000\n```\n", NULL);
	begin(f, 0);
	RUN_UNTIL(f, f->step_done[0]);
	assert_int_equal(run_refusal(f->run, 0, CHOICE_SKIP, &e), -1);
	assert_string_equal(e.msg, "step 1 'look' was already done");
	assert_int_equal(run_refusal(f->run, 1, CHOICE_RUN, &e), 0);
	begin(f, 1);
	RUN_UNTIL(f, f->step_done[1]);
	assert_int_equal(run_refusal(f->run, 1, CHOICE_SKIP, &e), -1);
	assert_string_equal(e.msg, "step 2 'promote' failed and has on_fail=stop: it can be "
				   "retried, or the run aborted");
	assert_int_equal(run_refusal(f->run, 1, CHOICE_RETRY, &e), 0);
	assert_int_equal(run_step_done_by_hand(f->run, 2, "looked", &e), 0);
	assert_int_equal(run_refusal(f->run, 2, CHOICE_DONE_BY_HAND, &e), -1);
	assert_string_equal(e.msg, "step 3 'check' was already done by hand");
	begin(f, 3);
	assert_int_equal(run_refusal(f->run, 3, CHOICE_SKIP, &e), -1);
	assert_string_equal(e.msg, "step 4 'wait' is running");
	assert_int_equal(run_refusal(f->run, 1, CHOICE_RETRY, &e), -1);
	assert_string_equal(e.msg, "step 4 'wait' is still running");
	assert_true(run_abortable(f->run));
	run_cancel_step(f->run);
	RUN_UNTIL(f, !run_step_active(f->run));
	assert_int_equal(run_end(f->run, "aborted", true, &e), 0);
	assert_false(run_abortable(f->run));
	assert_int_equal(run_refusal(f->run, 1, CHOICE_RETRY, &e), -1);
	assert_non_null(strstr(e.msg, "has ended"));
}

/* While a step waits to try again, the fold knows when the next attempt
 * is due; the retry itself clears it. */
static void test_retry_due(void **state)
{
	struct fx *f = *state;
	open_run(f, "## Flaky {retries=1 backoff=400ms}\n```sh\nexit 1\n```\n", NULL);
	int64_t before = clock_wall_ms();
	begin(f, 0);
	RUN_UNTIL(f, status(f, 0) == STEP_RETRY_WAIT);
	int64_t due = run_step(f->run, 0)->retry_at_wall_ms;
	assert_true(due >= before + 400 && due <= clock_wall_ms() + 400);
	RUN_UNTIL(f, status(f, 0) == STEP_RUNNING || status(f, 0) == STEP_FAILED);
	assert_int_equal(run_step(f->run, 0)->retry_at_wall_ms, STEP_NONE);
	RUN_UNTIL(f, !run_step_active(f->run));
	assert_int_equal(run_step(f->run, 0)->retry_at_wall_ms, STEP_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_step_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_control_other_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_control_same_uid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_control_runbook_ttl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dual_control_expiry, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_choices, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retries_and_durations, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_before_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_during_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_during_backoff, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_with_background, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_orders, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fanout_require_any, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secret_redaction, setup, teardown),
		cmocka_unit_test_setup_teardown(test_start_error_redacted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort_actor, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_journal_ioerr_at_start, setup, teardown),
		cmocka_unit_test_setup_teardown(test_select_after, setup, teardown),
		cmocka_unit_test_setup_teardown(test_refusal_words, setup, teardown),
		cmocka_unit_test_setup_teardown(test_retry_due, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
