/* test_probes: probes and objectives in the engine, with the scripted kind
 * (fake_action.h) as the probes' action: states and their events, samples
 * and digests, a slow probe skipping rather than overlapping, timeouts as
 * unknown, from_step/until_step, wait {until=PROBE:STATE}, the RTO clock
 * from probe events and from steps, the RPO from a step's values. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "runbooks/load.h"
#include "state/events.h"
#include "state/run.h"
#include "tests/unit/fake_action.h"
#include "tests/unit/support_engine.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct pt {
	struct engine_env env;
	struct runbook *rb;
	struct run *run;
	struct buf log;   /* "type probe state\n" of probe events, "type step\n" else */
	int samples_seen;
	bool settled[8];
};

static const char *member(const char *payload, const char *key, char *out, size_t n)
{
	cJSON *p = cJSON_Parse(payload ? payload : "{}");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	snprintf(out, n, "%s", cJSON_IsString(v) ? v->valuestring : "-");
	cJSON_Delete(p);
	return out;
}

static void on_event(void *arg, const struct journal_event *ev)
{
	struct pt *t = arg;
	char a[64], b[64];
	if (!strncmp(ev->type, "probe_", 6))
		buf_addf(&t->log, "%s %s %s\n", ev->type, member(ev->payload, "probe", a, sizeof a),
			 member(ev->payload, !strcmp(ev->type, EV_PROBE_STOP) ? "reason" : "state",
				b, sizeof b));
	else
		buf_addf(&t->log, "%s %lld\n", ev->type, (long long)ev->step);
}

static void on_probe(void *arg, size_t i)
{
	struct pt *t = arg;
	(void)i;
	t->samples_seen++;
}

static void on_settled(void *arg, size_t i)
{
	struct pt *t = arg;
	if (i < 8)
		t->settled[i] = true;
}

static int pt_setup(void **state)
{
	struct pt *t = xcalloc(1, sizeof *t);
	engine_env_open(&t->env, "probes");
	buf_init(&t->log, BUF_UNLIMITED);
	*state = t;
	return 0;
}

static int pt_teardown(void **state)
{
	struct pt *t = *state;
	engine_env_close(&t->env, t->run, t->rb);
	buf_release(&t->log);
	free(t);
	return 0;
}

static void start(struct pt *t, const char *md)
{
	struct diags d;
	struct err e;
	diags_init(&d);
	t->rb = runbook_load_buffer("p.md", md, strlen(md), RUNBOOK_MARKDOWN, &d);
	if (!t->rb || d.n_errors)
		fail_msg("runbook: %s", d.n ? d.v[0].msg : "?");
	diags_release(&d);
	struct run_opts o = { .mode = RUN_DRILL, .operator_name = "bob", .os_user = "bob",
			      .uid = 1000, .host = "h", .grace_ms = 100, .entries = fake_entries };
	t->run = run_new(t->rb, &o);
	struct run_listener lis = { .event = on_event, .probe = on_probe,
				    .step_done = on_settled, .arg = t };
	if (run_open(t->run, t->env.j, t->env.loop, t->env.reaper, &lis, &e) < 0)
		fail_msg("run_open: %s", e.msg);
}

#define LOOP_UNTIL(t, cond)                                                   \
	do {                                                                  \
		int64_t limit_ = clock_mono_ns() + 15000000000LL;             \
		while (!(cond)) {                                             \
			if (clock_mono_ns() > limit_)                         \
				fail_msg("timed out waiting for %s; events:\n%s", #cond, \
					 (t)->log.data);                      \
			loop_run_once((t)->env.loop, 20);                         \
		}                                                             \
	} while (0)

static bool logged(struct pt *t, const char *text)
{
	return strstr(t->log.data, text) != NULL;
}

static int64_t db_int(struct pt *t, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;
	struct err e;
	journal_flush(t->env.j, &e);
	assert_int_equal(sqlite3_open_v2(t->env.path, &db, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void end_and_verify(struct pt *t)
{
	struct journal_verify_result res;
	struct err e;
	if (run_end(t->run, "ok", false, &e) < 0)
		fail_msg("run_end: %s", e.msg);
	assert_int_equal(journal_verify(t->env.j, 0, &res, &e), 0);
	if (res.problem != JOURNAL_VERIFY_OK)
		fail_msg("verify: %s", res.detail);
}

static const struct run_probe_view *view(struct pt *t, size_t i)
{
	static struct run_probe_view v[4];
	assert_true(run_probes(t->run, v, 4) > i);
	return &v[i];
}

#define WEB_PROBE                                                              \
	"  - name: web\n    kind: sh\n    every: 20ms\n    ok: status=2xx\n    value: status\n"    \
	"    script: |\n      if-flag values {\"status\": 503}\n"              \
	"      if-not-flag values {\"status\": 200}\n      exit 0\n"

/* A probe turns ok, then fail when the flag is set, then ok again: each
 * change is one event, every sample a row, the rows in digests, and the RTO
 * clock runs from the fail to the ok. */
static void test_states_and_clock(void **state)
{
	struct pt *t = *state;
	start(t, "---\nprobes:\n" WEB_PROBE
		 "objectives:\n  rto: 10s\n  rto_start: probe:web:fail\n  rto_stop: probe:web:ok\n"
		 "---\n## A\n");
	assert_true(logged(t, "objectives -1\nprobe_start web -\n"));
	LOOP_UNTIL(t, logged(t, "probe_state web ok"));
	assert_int_equal(view(t, 0)->state, PROBE_OK);
	assert_string_equal(view(t, 0)->value, "200");
	assert_false(run_busy(t->run));
	struct run_task_view tv[4];
	assert_int_equal(run_tasks(t->run, tv, 4), 0);
	fake_flag = 1;
	LOOP_UNTIL(t, logged(t, "probe_state web fail"));
	int64_t crash = clock_mono_ns();
	const struct fold_objectives *o = &run_fold(t->run)->obj;
	assert_true(o->started.seq > 0);
	assert_int_equal(o->stopped.seq, 0);
	struct rto_clock c;
	objectives_rto_clock(run_fold(t->run), clock_wall_ms(), clock_mono_ns(), &c);
	assert_int_equal(c.phase, RTO_RUNNING);
	LOOP_UNTIL(t, clock_mono_ns() - crash > 100000000LL);
	fake_flag = 0;
	LOOP_UNTIL(t, run_fold(t->run)->obj.stopped.seq > 0);
	int64_t rto = objectives_rto_measured_ms(run_fold(t->run));
	assert_true(rto >= 100 && rto < 5000);
	objectives_rto_clock(run_fold(t->run), clock_wall_ms(), clock_mono_ns(), &c);
	assert_int_equal(c.phase, RTO_STOPPED);
	assert_int_equal(c.met, 1);
	/* one event per change, never one per sample */
	int64_t samples = db_int(t, "select count(*) from probe_samples");
	assert_true(samples >= 6);
	assert_int_equal(db_int(t, "select count(*) from events where type = 'probe_state'"), 3);
	assert_int_equal(db_int(t, "select count(*) from probe_samples where state = 'fail'") > 0, 1);
	end_and_verify(t);
	/* the last digest covers every sample */
	assert_int_equal(db_int(t, "select max(json_extract(payload, '$.last')) from events "
				   "where type = 'probe_digest'"),
			 db_int(t, "select max(seq) from probe_samples"));
	assert_true(logged(t, "probe_stop web run_end\n"));
}

/* Probes are spread over their interval on shared 25 ms deadlines: 40
 * probes of 200 ms start on 8 deadlines, 5 on each, so that they share
 * wakeups. A sample's deadline is its start less its lateness, exact to
 * the millisecond however loaded the machine is. */
static void test_probes_share_deadlines(void **state)
{
	struct pt *t = *state;
	struct buf md;
	buf_init(&md, 1 << 16);
	buf_addf(&md, "---\nprobes:\n");
	for (int i = 0; i < 40; i++)
		buf_addf(&md, "  - {name: p%d, kind: sh, every: 200ms, script: exit 0}\n", i);
	buf_addf(&md, "---\n## A\n");
	start(t, md.data);
	buf_release(&md);
	LOOP_UNTIL(t, t->samples_seen >= 80);
	end_and_verify(t);
#define FIRST "with f as (select mono_ns / 1000000 - late_ms as due from probe_samples " \
	      "where seq in (select min(seq) from probe_samples group by probe)), " \
	      "b as (select min(due) as m from f) "
	assert_int_equal(db_int(t, FIRST "select count(*) from f"), 40);
	assert_int_equal(db_int(t, FIRST "select count(distinct (due - m + 12) / 25) from f, b"), 8);
	assert_true(db_int(t, FIRST "select max(abs((due - m + 12) % 25 - 12)) from f, b") <= 1);
	assert_int_equal(db_int(t, FIRST "select max(n) from (select count(*) as n from f, b "
				      "group by (due - m + 12) / 25)"), 5);
#undef FIRST
}

/* A sample slower than the interval: the next ones are skipped and
 * counted, never run alongside it. */
static void test_slow_probe_skips(void **state)
{
	struct pt *t = *state;
	start(t, "---\nprobes:\n  - name: slow\n    kind: sh\n    every: 20ms\n    timeout: 5s\n"
		 "    script: |\n      wait 130\n      exit 0\n---\n## A\n");
	LOOP_UNTIL(t, t->samples_seen >= 3);
	assert_int_equal(fake_stats.max_running, 1);
	const struct run_probe_view *v = view(t, 0);
	assert_true(v->skipped >= 6);
	assert_int_equal(db_int(t, "select sum(skipped) from probe_samples") > 0, 1);
	end_and_verify(t);
}

/* A sample that times out is unknown: no answer is neither ok nor fail. */
static void test_timeout_is_unknown(void **state)
{
	struct pt *t = *state;
	start(t, "---\nprobes:\n  - name: hung\n    kind: sh\n    every: 30ms\n    timeout: 20ms\n"
		 "    ok: exit=0\n    script: hang\n---\n## A\n");
	LOOP_UNTIL(t, t->samples_seen >= 2);
	assert_int_equal(view(t, 0)->state, PROBE_UNKNOWN);
	assert_int_equal(db_int(t, "select count(*) from probe_samples where result = 'timeout' "
				   "and state = 'unknown'") >= 2, 1);
	assert_false(logged(t, "probe_state"));
	end_and_verify(t);
}

/* from_step and until_step: polled from the start of b to the end of c. */
static void test_from_until(void **state)
{
	struct pt *t = *state;
	struct err e;
	start(t, "---\nprobes:\n  - name: mid\n    kind: sh\n    every: 20ms\n    script: exit 0\n"
		 "    from_step: b\n    until_step: c\n---\n## A\n## B {id=b}\n## C {id=c}\n## D\n");
	assert_false(logged(t, "probe_start"));
	assert_int_equal(run_step_begin(t->run, 0, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[0]);
	loop_run_once(t->env.loop, 50);
	assert_false(logged(t, "probe_start"));
	assert_int_equal(run_step_begin(t->run, 1, "enter", &e), 0);
	LOOP_UNTIL(t, logged(t, "probe_start mid"));
	LOOP_UNTIL(t, t->samples_seen >= 2);
	assert_int_equal(run_step_begin(t->run, 2, "enter", &e), 0);
	LOOP_UNTIL(t, logged(t, "probe_stop mid until_step"));
	int before = t->samples_seen;
	assert_int_equal(run_step_begin(t->run, 3, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[3]);
	for (int k = 0; k < 5; k++)
		loop_run_once(t->env.loop, 20);
	assert_int_equal(t->samples_seen, before);
	end_and_verify(t);
}

/* wait {until}: fails at within while the probe is not in the state, ends
 * at the first sample in it, and is cancelled like any action. */
static void test_wait_until(void **state)
{
	struct pt *t = *state;
	struct err e;
	struct run_probe_wait w;
	start(t, "---\nprobes:\n" WEB_PROBE "---\n"
		 "## Short {on_fail=continue}\n```wait {until=web:fail within=150ms}\n```\n"
		 "## Long\n```wait {until=web:fail within=10s}\n```\n"
		 "## Cancelled\n```wait {until=web:fail}\n```\n");
	LOOP_UNTIL(t, logged(t, "probe_state web ok"));
	assert_int_equal(run_step_begin(t->run, 0, "enter", &e), 0);
	assert_true(run_probe_waiting(t->run, &w));
	assert_string_equal(w.probe, "web");
	assert_int_equal(w.state, PROBE_FAIL);
	assert_true(w.left_ms > 0 && w.left_ms <= 150);
	LOOP_UNTIL(t, t->settled[0]);
	assert_int_equal(run_step(t->run, 0)->status, STEP_FAILED);
	assert_non_null(strstr(run_step(t->run, 0)->summary, "was not fail within 150ms (it is ok)"));
	assert_int_equal(run_step_begin(t->run, 1, "enter", &e), 0);
	loop_run_once(t->env.loop, 30);
	fake_flag = 1;
	LOOP_UNTIL(t, t->settled[1]);
	assert_int_equal(run_step(t->run, 1)->status, STEP_OK);
	assert_non_null(strstr(run_step(t->run, 1)->summary, "probe 'web' is fail after"));
	fake_flag = 0;
	LOOP_UNTIL(t, view(t, 0)->state == PROBE_OK);
	assert_int_equal(run_step_begin(t->run, 2, "enter", &e), 0);
	assert_true(run_probe_waiting(t->run, &w));
	assert_int_equal(w.left_ms, -1);
	run_cancel_step(t->run);
	LOOP_UNTIL(t, t->settled[2]);
	assert_int_equal(run_step(t->run, 2)->status, STEP_CANCELLED);
	assert_false(run_probe_waiting(t->run, &w));
	end_and_verify(t);
}

/* The RTO clock from a step's start to another's end, the RPO from a
 * step's values, and a clock still running when the run ends. */
static void test_step_clock_and_rpo(void **state)
{
	struct pt *t = *state;
	struct err e;
	start(t, "---\nobjectives:\n  rto: 1h\n  rpo: 1s\n  rpo_from: step:measure\n---\n"
		 "## Crash {rto_start=true}\n```sh\nwait 60\nexit 0\n```\n"
		 "## Measure {id=measure rto_stop=true}\n```sh\nvalues {\"window_ms\": 900, \"rows_lost\": 3}\n```\n");
	assert_int_equal(run_step_begin(t->run, 0, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[0]);
	assert_int_equal(run_step_begin(t->run, 1, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[1]);
	struct fold_objectives o;
	run_objectives(t->run, &o);
	assert_int_equal(o.rpo_window_ms, 900);
	assert_int_equal(o.rpo_rows_lost, 3);
	assert_int_equal(objectives_rpo_met(&o), 1);
	int64_t rto = objectives_rto_measured_ms(run_fold(t->run));
	assert_true(rto >= 60 && rto < 5000);
	end_and_verify(t);
}

static void test_clock_never_stopped(void **state)
{
	struct pt *t = *state;
	struct err e;
	start(t, "---\nobjectives:\n  rto: 1h\n---\n## Crash {rto_start=true}\n## Fix {rto_stop=true}\n");
	assert_int_equal(run_step_begin(t->run, 0, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[0]);
	end_and_verify(t);
	struct rto_clock c;
	objectives_rto_clock(run_fold(t->run), 0, 0, &c);
	assert_int_equal(c.phase, RTO_RUNNING);
	assert_int_equal(c.met, 0);
}

/* A probe already in its stop state when the clock starts stops it at once. */
static void test_stop_state_already(void **state)
{
	struct pt *t = *state;
	struct err e;
	start(t, "---\nprobes:\n" WEB_PROBE
		 "objectives:\n  rto: 1m\n  rto_stop: probe:web:ok\n---\n## Crash {rto_start=true}\n");
	LOOP_UNTIL(t, logged(t, "probe_state web ok"));
	assert_int_equal(run_step_begin(t->run, 0, "enter", &e), 0);
	LOOP_UNTIL(t, t->settled[0]);
	assert_int_equal(objectives_rto_measured_ms(run_fold(t->run)), 0);
	end_and_verify(t);
}

/* A dry run polls nothing. */
static void test_dry_run_polls_nothing(void **state)
{
	struct pt *t = *state;
	struct diags d;
	struct err e;
	const char *md = "---\nprobes:\n" WEB_PROBE "---\n## A\n";
	diags_init(&d);
	t->rb = runbook_load_buffer("p.md", md, strlen(md), RUNBOOK_MARKDOWN, &d);
	diags_release(&d);
	struct run_opts o = { .mode = RUN_DRY, .entries = fake_entries, .os_user = "x" };
	t->run = run_new(t->rb, &o);
	struct run_listener lis = { .event = on_event, .arg = t };
	assert_int_equal(run_open(t->run, t->env.j, t->env.loop, t->env.reaper, &lis, &e), 0);
	for (int k = 0; k < 5; k++)
		loop_run_once(t->env.loop, 10);
	assert_false(logged(t, "probe_start"));
	assert_int_equal(fake_stats.started, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_states_and_clock, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_probes_share_deadlines, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_slow_probe_skips, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_timeout_is_unknown, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_from_until, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_wait_until, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_step_clock_and_rpo, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_clock_never_stopped, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_stop_state_already, pt_setup, pt_teardown),
		cmocka_unit_test_setup_teardown(test_dry_run_polls_nothing, pt_setup, pt_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
