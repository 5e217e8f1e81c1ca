/* test_report: a run's summary derived from journal events, and the JSON
 * evidence document parsed back. Runs are built with the journal API, the
 * way the engine writes them (state/events.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "state/events.h"
#include "state/journal.h"
#include "state/report.h"
#include "util/sha256.h"
#include "util/xalloc.h"

struct fixture {
	char dir[64];
	char path[128];
	struct journal *j;
	int64_t run;
	int64_t clock;		/* wall ms of the next event */
};

static const char runbook_md[] =
	"# Failover drill\n\n"
	"## Check replica lag {id=lag confirm=no}\n\n```sh\necho lag\n```\n\n"
	"## Promote {id=promote}\n\n```sh\necho promote\n```\n\n"
	"## Repoint DNS {id=dns}\n\n```sh\necho dig\n```\n\n"
	"## Tell the channel {id=tell}\n\nPost in #incident.\n\n"
	"## Verify writes {id=verify}\n\n```sh\ntrue\n```\n";

#define T0 1700000000000LL	/* 2023-11-14T22:13:20.000Z */
#define SHA_A "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define SHA_B "bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"
#define SHA_E "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static int64_t run_create(struct fixture *f, const char *path,
			  const char *text, size_t len)
{
	struct err e = { "" };
	int64_t id = 0;
	struct journal_run_new r = {
		.runbook_path = path,
		.runbook_text = text,
		.runbook_len = len,
		.title = "Failover drill",
		.operator_name = "alice",
		.os_user = "alice",
		.uid = 1000,
		.host = "ops1",
		.mode = "drill",
		.started_ms = T0,
		.mono_ns = 1000,
	};

	if (journal_run_create(f->j, &r, &id, NULL, &e) < 0)
		fail_msg("journal_run_create: %s", e.msg);
	f->clock = T0 + 1000;
	return id;
}

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof *f);
	struct err e = { "" };

	snprintf(f->dir, sizeof f->dir, "/tmp/qrh-report-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof f->path, "%s/journal.db", f->dir);
	f->j = journal_open(f->path, &e);
	if (!f->j)
		return -1;
	f->run = run_create(f, "runbooks/failover.md", runbook_md,
			    sizeof runbook_md - 1);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	journal_close(f->j);
	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* One event, a second after the previous one, the payload built from a
 * printf format (the tests' own, so no quoting issues). */
__attribute__((format(printf, 5, 6)))
static int64_t ev_add(struct fixture *f, int64_t step, const char *type,
		      const char *actor, const char *fmt, ...)
{
	struct err e = { "" };
	char payload[1024];
	va_list ap;
	struct journal_event ev = {
		.run_id = f->run,
		.wall_ms = f->clock,
		.mono_ns = (f->clock - T0) * 1000000 + 1000,
		.step = step,
		.type = type,
		.actor = actor,
		.payload = payload,
	};

	va_start(ap, fmt);
	vsnprintf(payload, sizeof payload, fmt, ap);
	va_end(ap);
	if (journal_event_append(f->j, &ev, &e) < 0)
		fail_msg("journal_event_append %s: %s", type, e.msg);
	f->clock += 1000;
	return ev.seq;
}

#define END_FMT "{\"step_id\":\"%s\",\"attempt\":%d,\"status\":\"%s\"," \
	"\"exit_code\":%d,\"duration_ms\":%d,\"summary\":\"%s\"," \
	"\"stdout_bytes\":%d,\"stdout_sha256\":\"%s\"," \
	"\"stdout_truncated\":%s,\"stderr_bytes\":0,\"stderr_sha256\":\"" \
	SHA_E "\",\"stderr_truncated\":false}"

/* The drill as the engine would journal it, up to a step still running. */
static void drill_record(struct fixture *f)
{
	ev_add(f, 0, EV_STEP_CONFIRM, "alice", "{\"step_id\":\"lag\","
	       "\"how\":\"auto\",\"os_user\":\"alice\",\"uid\":1000}");
	ev_add(f, 0, EV_STEP_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1}");
	ev_add(f, 0, EV_ACTION_START, "qrh", "{\"step_id\":\"lag\","
	       "\"attempt\":1,\"action\":0,\"kind\":\"sh\",\"command\":\"echo lag\"}");
	ev_add(f, 0, EV_STEP_END, "qrh", END_FMT, "lag", 1, "ok", 0, 120,
	       "exit 0", 4, SHA_A, "false");

	ev_add(f, 1, EV_STEP_CONFIRM, "bob", "{\"step_id\":\"promote\","
	       "\"how\":\"enter\",\"os_user\":\"bob\",\"uid\":1001}");
	ev_add(f, 1, EV_STEP_START, "qrh",
	       "{\"step_id\":\"promote\",\"attempt\":1}");
	ev_add(f, 1, EV_STEP_END, "qrh", END_FMT, "promote", 1, "failed", 1,
	       250, "exit 1", 9, SHA_B, "false");
	ev_add(f, 1, EV_STEP_RETRY, "qrh", "{\"step_id\":\"promote\","
	       "\"attempt\":2,\"backoff_ms\":1000}");
	ev_add(f, 1, EV_STEP_START, "qrh",
	       "{\"step_id\":\"promote\",\"attempt\":2}");
	ev_add(f, JOURNAL_NO_STEP, EV_NOTE, "bob",
	       "{\"text\":\"replica caught up \\u001b]0;pwned\\u0007\"}");
	ev_add(f, 1, EV_STEP_END, "qrh", END_FMT, "promote", 2, "ok", 0, 300,
	       "exit 0", 5000000, SHA_A, "true");

	ev_add(f, 2, EV_STEP_SKIP, "alice", "{\"step_id\":\"dns\","
	       "\"reason\":\"done in the console\",\"os_user\":\"alice\"}");
	ev_add(f, 3, EV_STEP_DONE_BY_HAND, "alice", "{\"step_id\":\"tell\","
	       "\"note\":\"posted\",\"os_user\":\"alice\"}");
	ev_add(f, 4, EV_NOTE, "alice", "{\"text\":\"about to verify\"}");
	ev_add(f, 4, EV_STEP_CONFIRM, "alice", "{\"step_id\":\"verify\","
	       "\"how\":\"typed\"}");
	ev_add(f, 4, EV_STEP_START, "qrh",
	       "{\"step_id\":\"verify\",\"attempt\":1}");
}

static void report_ok(struct fixture *f, int64_t run, struct run_report *r)
{
	struct err e = { "" };

	if (report_load(f->j, run, r, &e) != 1)
		fail_msg("report_load: %s", e.msg);
}

/* ---- the derived report ---- */

static void test_report_steps(void **state)
{
	struct fixture *f = *state;
	struct run_report r;
	const struct report_step *s;

	drill_record(f);
	report_ok(f, f->run, &r);
	assert_true(r.runbook_loaded);
	assert_int_equal(r.run.id, f->run);
	assert_string_equal(r.run.title, "Failover drill");
	assert_null(r.run.outcome);
	assert_int_equal(r.n_steps, 5);
	assert_int_equal(r.n_events, 17);
	assert_int_equal(r.head.seq, 17);
	assert_int_equal(r.head.seq, r.run.head.seq);
	assert_string_equal(r.head.hash, r.run.head.hash);

	s = &r.steps[0];
	assert_int_equal(s->index, 0);
	assert_string_equal(s->id, "lag");
	assert_string_equal(s->title, "Check replica lag");
	assert_int_equal(s->status, STEP_OK);
	assert_int_equal(s->attempts, 1);
	assert_int_equal(s->exit_code, 0);
	assert_int_equal(s->duration_ms, 120);
	assert_int_equal(s->started_ms, T0 + 2000);
	assert_int_equal(s->ended_ms, T0 + 4000);
	assert_string_equal(s->confirmed_by, "alice");
	assert_string_equal(s->confirmed_how, "auto");
	assert_int_equal(s->out.bytes, 4);
	assert_string_equal(s->out.sha256, SHA_A);
	assert_int_equal(s->out.truncated, 0);
	assert_int_equal(s->err.bytes, 0);
	assert_string_equal(s->err.sha256, SHA_E);

	/* two attempts: started at the first, the rest from the last */
	s = &r.steps[1];
	assert_string_equal(s->title, "Promote");
	assert_int_equal(s->status, STEP_OK);
	assert_int_equal(s->attempts, 2);
	assert_int_equal(s->started_ms, T0 + 6000);
	assert_int_equal(s->ended_ms, T0 + 11000);
	assert_int_equal(s->duration_ms, 300);
	assert_int_equal(s->exit_code, 0);
	assert_string_equal(s->confirmed_by, "bob");
	assert_string_equal(s->confirmed_how, "enter");
	assert_int_equal(s->out.bytes, 5000000);
	assert_int_equal(s->out.truncated, 1);

	s = &r.steps[2];
	assert_int_equal(s->status, STEP_SKIPPED);
	assert_string_equal(s->detail, "done in the console");
	assert_int_equal(s->started_ms, REPORT_NONE);
	assert_int_equal(s->ended_ms, T0 + 12000);
	assert_int_equal(s->attempts, 0);
	assert_null(s->confirmed_by);
	assert_int_equal(s->out.bytes, REPORT_NONE);
	assert_int_equal(s->out.truncated, -1);

	s = &r.steps[3];
	assert_int_equal(s->status, STEP_DONE_BY_HAND);
	assert_string_equal(s->detail, "posted");

	/* started, never ended, the run goes on */
	s = &r.steps[4];
	assert_int_equal(s->status, STEP_RUNNING);
	assert_int_equal(s->duration_ms, REPORT_NONE);
	assert_int_equal(s->exit_code, REPORT_NONE);
	assert_string_equal(s->confirmed_how, "typed");

	assert_int_equal(r.n_notes, 2);
	assert_int_equal(r.notes[0].seq, 11);
	assert_int_equal(r.notes[0].step, JOURNAL_NO_STEP);
	assert_string_equal(r.notes[0].actor, "bob");
	assert_string_equal(r.notes[0].text, "replica caught up \033]0;pwned\007");
	assert_int_equal(r.notes[1].step, 4);
	assert_string_equal(r.notes[1].text, "about to verify");
	report_release(&r);
	assert_null(r.steps);
}

/* Once the run has an outcome, a step that never ended is interrupted. */
static void test_report_interrupted(void **state)
{
	struct fixture *f = *state;
	struct err e = { "" };
	struct run_report r;
	struct journal_event end = {
		.run_id = f->run, .wall_ms = T0 + 60000, .mono_ns = 61000000000,
		.step = JOURNAL_NO_STEP, .type = EV_RUN_END, .actor = "qrh",
		.payload = "{\"outcome\":\"aborted\",\"duration_ms\":60000}",
	};

	drill_record(f);
	assert_int_equal(journal_run_end(f->j, f->run, "aborted", T0 + 60000,
					 &end, &e), 0);
	report_ok(f, f->run, &r);
	assert_string_equal(r.run.outcome, "aborted");
	assert_int_equal(r.run.ended_ms, T0 + 60000);
	assert_int_equal(r.steps[4].status, STEP_INTERRUPTED);
	assert_int_equal(r.head.seq, 18);
	report_release(&r);

	/* resume's own record of it says the same */
	f->run = run_create(f, "runbooks/failover.md", runbook_md,
			    sizeof runbook_md - 1);
	ev_add(f, 0, EV_STEP_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1}");
	ev_add(f, JOURNAL_NO_STEP, EV_RUN_RESUME, "alice",
	       "{\"runbook_changed\":false}");
	ev_add(f, 0, EV_STEP_INTERRUPTED, "qrh",
	       "{\"step_id\":\"lag\",\"attempt\":1}");
	report_ok(f, f->run, &r);
	assert_null(r.run.outcome);
	assert_int_equal(r.steps[0].status, STEP_INTERRUPTED);
	assert_int_equal(r.steps[1].status, STEP_PENDING);
	report_release(&r);
}

/* A runbook that no longer loads: the steps come from the events' ids. */
static void test_report_unloadable_runbook(void **state)
{
	struct fixture *f = *state;
	static const char broken[] = "{ \"steps\": [ oops";
	struct run_report r;

	f->run = run_create(f, "old/failover.json", broken, sizeof broken - 1);
	ev_add(f, 3, EV_STEP_START, "qrh", "{\"step_id\":\"later\",\"attempt\":1}");
	ev_add(f, 1, EV_STEP_SKIP, "alice", "{\"step_id\":\"early\","
	       "\"reason\":\"n/a\"}");
	ev_add(f, 3, EV_STEP_END, "qrh", END_FMT, "later", 1, "timeout", -1,
	       30000, "timed out", 0, SHA_E, "false");
	ev_add(f, 5, EV_STEP_START, "qrh", "{\"attempt\":1}");	/* no id */
	ev_add(f, 5, EV_STEP_END, "qrh", "{\"status\":\"cancelled\"}");
	report_ok(f, f->run, &r);
	assert_false(r.runbook_loaded);
	assert_int_equal(r.n_steps, 3);
	assert_int_equal(r.steps[0].index, 1);
	assert_string_equal(r.steps[0].id, "early");
	assert_null(r.steps[0].title);
	assert_int_equal(r.steps[0].status, STEP_SKIPPED);
	assert_int_equal(r.steps[1].index, 3);
	assert_int_equal(r.steps[1].status, STEP_TIMEOUT);
	assert_int_equal(r.steps[1].exit_code, -1);
	assert_int_equal(r.steps[2].index, 5);
	assert_null(r.steps[2].id);
	assert_int_equal(r.steps[2].status, STEP_CANCELLED);
	report_release(&r);
}

/* Resumed on an edited runbook: events name steps by id; a step the stored
 * runbook lacks is added after its steps. */
static void test_report_matches_by_id(void **state)
{
	struct fixture *f = *state;
	struct run_report r;

	ev_add(f, 7, EV_STEP_START, "qrh", "{\"step_id\":\"promote\","
	       "\"attempt\":1}");
	ev_add(f, 7, EV_STEP_END, "qrh", END_FMT, "promote", 1, "ok", 0, 5,
	       "exit 0", 0, SHA_E, "false");
	ev_add(f, 2, EV_STEP_DONE_BY_HAND, "alice", "{\"step_id\":\"extra\","
	       "\"note\":\"by hand\"}");
	report_ok(f, f->run, &r);
	assert_int_equal(r.n_steps, 6);
	assert_int_equal(r.steps[1].status, STEP_OK);
	assert_int_equal(r.steps[1].index, 1);
	assert_int_equal(r.steps[2].status, STEP_PENDING);
	assert_string_equal(r.steps[5].id, "extra");
	assert_null(r.steps[5].title);
	assert_int_equal(r.steps[5].status, STEP_DONE_BY_HAND);
	report_release(&r);
}

static void test_report_no_run(void **state)
{
	struct fixture *f = *state;
	struct err e = { "" };
	struct run_report r;

	assert_int_equal(report_load(f->j, f->run + 40, &r, &e), 0);
	assert_int_equal(r.n_steps, 0);
	assert_string_equal(step_status_name(STEP_DONE_BY_HAND),
			    "done_by_hand");
	assert_true(step_status_final(STEP_SKIPPED));
	assert_false(step_status_final(STEP_FAILED));
}

/* ---- the JSON document ---- */

static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

	if (!v)
		fail_msg("no member '%s'", key);
	return v;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsString(v))
		fail_msg("member '%s' is not a string", key);
	return v->valuestring;
}

static double get_num(const cJSON *o, const char *key)
{
	const cJSON *v = get(o, key);

	if (!cJSON_IsNumber(v))
		fail_msg("member '%s' is not a number", key);
	return v->valuedouble;
}

static void assert_keys(const cJSON *o, const char *const *keys)
{
	const cJSON *m;
	size_t n = 0;

	for (; keys[n]; n++)
		get(o, keys[n]);
	cJSON_ArrayForEach(m, o) {
		int known = 0;
		for (size_t k = 0; keys[k]; k++)
			known |= !strcmp(m->string, keys[k]);
		if (!known)
			fail_msg("unexpected member '%s'", m->string);
	}
}

static cJSON *export_parse(struct fixture *f, int64_t run, struct buf *text)
{
	struct err e = { "" };
	struct run_report r;
	cJSON *doc;

	report_ok(f, run, &r);
	buf_init(text, BUF_UNLIMITED);
	if (report_export_json(f->j, &r, text, &e) < 0)
		fail_msg("report_export_json: %s", e.msg);
	report_release(&r);
	doc = cJSON_Parse(text->data);
	assert_non_null(doc);
	return doc;
}

static void test_export_json(void **state)
{
	static const char *const run_keys[] = { "id", "runbook",
		"runbook_sha256", "title", "operator", "host", "mode",
		"started_at", "ended_at", "outcome", "elapsed_ms", "in_progress",
		"os_user", "uid", NULL };
	static const char *const step_keys[] = { "index", "id", "title",
		"status", "started_at", "ended_at", "duration_ms", "elapsed_ms",
		"attempts",
		"exit_code", "confirmed_by", "output_bytes", "output_sha256",
		"output_truncated", "stderr_bytes", "stderr_sha256", "timings",
		"summary", "closed", NULL };
	static const char *const event_keys[] = { "seq", "time", "mono_ns",
		"step", "type", "actor", "payload", "prev_hash", "hash", NULL };
	static const char *const top_keys[] = { "run", "operators", "sessions",
		"steps", "events", "head", "vars", "budgets", "handovers", "notes",
		"clock", "picks", "interruptions", "reaped", "survivor_choices", "objectives", "probes",
		"score", NULL };
	struct fixture *f = *state;
	char sha[SHA256_HEX_LEN + 1];
	const cJSON *run, *steps, *events, *s, *ev, *head;
	struct buf text;
	cJSON *doc;

	drill_record(f);
	doc = export_parse(f, f->run, &text);
	assert_keys(doc, top_keys);
	/* always there, so the document's shape never depends on the runbook */
	assert_true(cJSON_IsArray(get(doc, "probes")));
	assert_int_equal(cJSON_GetArraySize(get(doc, "probes")), 0);
	/* a drill's score card, its faults kept back while it goes on */
	assert_true(cJSON_IsTrue(get(get(doc, "score"), "drill")));

	run = get(doc, "run");
	assert_keys(run, run_keys);
	assert_int_equal(get_num(run, "id"), f->run);
	assert_string_equal(get_str(run, "runbook"), "runbooks/failover.md");
	sha256_hex(runbook_md, sizeof runbook_md - 1, sha);
	assert_string_equal(get_str(run, "runbook_sha256"), sha);
	assert_string_equal(get_str(run, "title"), "Failover drill");
	assert_string_equal(get_str(run, "operator"), "alice");
	assert_string_equal(get_str(run, "host"), "ops1");
	assert_string_equal(get_str(run, "mode"), "drill");
	assert_string_equal(get_str(run, "started_at"),
			    "2023-11-14T22:13:20.000Z");
	assert_true(cJSON_IsNull(get(run, "ended_at")));
	assert_true(cJSON_IsNull(get(run, "outcome")));

	steps = get(doc, "steps");
	assert_int_equal(cJSON_GetArraySize(steps), 5);
	cJSON_ArrayForEach(s, steps)
		assert_keys(s, step_keys);
	s = cJSON_GetArrayItem(steps, 1);
	assert_int_equal(get_num(s, "index"), 1);
	assert_string_equal(get_str(s, "id"), "promote");
	assert_string_equal(get_str(s, "title"), "Promote");
	assert_string_equal(get_str(s, "status"), "ok");
	assert_string_equal(get_str(s, "started_at"), "2023-11-14T22:13:26.000Z");
	assert_string_equal(get_str(s, "ended_at"), "2023-11-14T22:13:31.000Z");
	assert_int_equal(get_num(s, "duration_ms"), 300);
	assert_int_equal(get_num(s, "attempts"), 2);
	assert_int_equal(get_num(s, "exit_code"), 0);
	assert_string_equal(get_str(get(s, "confirmed_by"), "actor"), "bob");
	assert_string_equal(get_str(get(s, "confirmed_by"), "how"), "enter");
	assert_int_equal(get_num(s, "output_bytes"), 5000000);
	assert_string_equal(get_str(s, "output_sha256"), SHA_A);
	assert_true(cJSON_IsTrue(get(s, "output_truncated")));
	assert_int_equal(get_num(s, "stderr_bytes"), 0);
	assert_string_equal(get_str(s, "stderr_sha256"), SHA_E);
	s = cJSON_GetArrayItem(steps, 2);
	assert_string_equal(get_str(s, "status"), "skipped");
	assert_true(cJSON_IsNull(get(s, "started_at")));
	assert_true(cJSON_IsNull(get(s, "duration_ms")));
	assert_true(cJSON_IsNull(get(s, "exit_code")));
	assert_true(cJSON_IsNull(get(s, "confirmed_by")));
	assert_true(cJSON_IsNull(get(s, "output_bytes")));
	assert_true(cJSON_IsNull(get(s, "output_sha256")));
	assert_true(cJSON_IsNull(get(s, "output_truncated")));
	assert_string_equal(get_str(cJSON_GetArrayItem(steps, 3), "status"),
			    "done_by_hand");
	assert_string_equal(get_str(cJSON_GetArrayItem(steps, 4), "status"),
			    "running");

	/* every event, chained, payloads as objects */
	events = get(doc, "events");
	assert_int_equal(cJSON_GetArraySize(events), 17);
	const char *prev = "0000000000000000000000000000000000000000000000000000000000000000";
	int seq = 0;
	cJSON_ArrayForEach(ev, events) {
		assert_keys(ev, event_keys);
		assert_int_equal(get_num(ev, "seq"), ++seq);
		assert_string_equal(get_str(ev, "prev_hash"), prev);
		assert_int_equal(strlen(get_str(ev, "hash")), 64);
		assert_true(cJSON_IsObject(get(ev, "payload")));
		prev = get_str(ev, "hash");
	}
	ev = cJSON_GetArrayItem(events, 0);
	assert_string_equal(get_str(ev, "type"), "run_start");
	assert_true(cJSON_IsNull(get(ev, "step")));
	assert_string_equal(get_str(ev, "time"), "2023-11-14T22:13:20.000Z");
	assert_int_equal(get_num(ev, "mono_ns"), 1000);
	assert_string_equal(get_str(get(ev, "payload"), "mode"), "drill");
	ev = cJSON_GetArrayItem(events, 10);
	assert_string_equal(get_str(ev, "type"), "note");
	assert_string_equal(get_str(ev, "actor"), "bob");
	assert_string_equal(get_str(get(ev, "payload"), "text"),
			    "replica caught up \033]0;pwned\007");
	ev = cJSON_GetArrayItem(events, 6);
	assert_int_equal(get_num(ev, "step"), 1);
	assert_string_equal(get_str(get(ev, "payload"), "step_id"), "promote");

	head = get(doc, "head");
	assert_int_equal(get_num(head, "seq"), 17);
	assert_string_equal(get_str(head, "hash"), prev);
	cJSON_Delete(doc);
	buf_release(&text);
}

/* Integers past 2^53 are written exactly; a finished run has its end. */
static void test_export_exact_and_finished(void **state)
{
	struct fixture *f = *state;
	struct err e = { "" };
	struct journal_event ev = {
		.run_id = f->run, .wall_ms = T0 + 5000,
		.mono_ns = 9007199254740993LL, .step = JOURNAL_NO_STEP,
		.type = EV_NOTE, .actor = "alice", .payload = "{\"text\":\"x\"}",
	};
	struct journal_event end = {
		.run_id = f->run, .wall_ms = T0 + 7123, .mono_ns = 3,
		.step = JOURNAL_NO_STEP, .type = EV_RUN_END, .actor = "qrh",
		.payload = "{\"outcome\":\"ok\",\"duration_ms\":7123}",
	};
	struct buf text;
	cJSON *doc;

	assert_int_equal(journal_event_append(f->j, &ev, &e), 0);
	assert_int_equal(journal_run_end(f->j, f->run, "ok", T0 + 7123, &end,
					 &e), 0);
	doc = export_parse(f, f->run, &text);
	assert_non_null(strstr(text.data, "\"mono_ns\":\t9007199254740993"));
	assert_string_equal(get_str(get(doc, "run"), "ended_at"),
			    "2023-11-14T22:13:27.123Z");
	assert_string_equal(get_str(get(doc, "run"), "outcome"), "ok");
	assert_int_equal(get_num(get(doc, "head"), "seq"), 3);
	assert_string_equal(get_str(get(doc, "head"), "hash"), end.hash);
	assert_string_equal(get_str(cJSON_GetArrayItem(get(doc, "steps"), 0),
				    "status"), "pending");
	cJSON_Delete(doc);
	buf_release(&text);
}

/* A reader's export stops at the head it reported, even as the writer
 * appends: the document is one consistent prefix. */
static void test_export_live_prefix(void **state)
{
	struct fixture *f = *state;
	struct err e = { "" };
	struct journal *ro = journal_open_ro(f->path, &e);
	struct run_report r;
	struct buf text;
	cJSON *doc;

	assert_non_null(ro);
	drill_record(f);
	assert_int_equal(report_load(ro, f->run, &r, &e), 1);
	ev_add(f, JOURNAL_NO_STEP, EV_NOTE, "alice", "{\"text\":\"later\"}");
	buf_init(&text, BUF_UNLIMITED);
	assert_int_equal(report_export_json(ro, &r, &text, &e), 0);
	doc = cJSON_Parse(text.data);
	assert_non_null(doc);
	assert_int_equal(cJSON_GetArraySize(get(doc, "events")), 17);
	assert_int_equal(get_num(get(doc, "head"), "seq"), 17);
	cJSON_Delete(doc);
	buf_release(&text);
	report_release(&r);
	journal_close(ro);
}

/* ---- what an auditor needs beyond the chain ---- */

static const cJSON *step_of(const cJSON *doc, const char *id)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, get(doc, "steps"))
		if (!strcmp(get_str(s, "id"), id))
			return s;
	fail_msg("no step %s", id);
	return NULL;
}

static void test_export_evidence(void **state)
{
	struct fixture *f = *state;
	const cJSON *timings, *t, *closed, *note;
	struct buf text;
	cJSON *doc;

	drill_record(f);
	doc = export_parse(f, f->run, &text);
	assert_true(cJSON_IsTrue(get(get(doc, "run"), "in_progress")));
	/* every attempt with its own timing, on the monotonic run clock */
	timings = get(step_of(doc, "promote"), "timings");
	assert_int_equal(cJSON_GetArraySize(timings), 2);
	t = cJSON_GetArrayItem(timings, 0);
	assert_string_equal(get_str(t, "status"), "failed");
	assert_int_equal(get_num(t, "duration_ms"), 250);
	assert_int_equal(get_num(t, "attempt"), 1);
	/* step_start of promote attempt 1 is the 6th event: 6 s after the start */
	assert_int_equal(get_num(t, "at_ms"), 6000);
	t = cJSON_GetArrayItem(timings, 1);
	assert_string_equal(get_str(t, "status"), "ok");
	assert_int_equal(get_num(t, "duration_ms"), 300);
	assert_int_equal(get_num(t, "at_ms"), 9000);
	/* the running step: an open timing */
	t = cJSON_GetArrayItem(get(step_of(doc, "verify"), "timings"), 0);
	assert_true(cJSON_IsNull(get(t, "duration_ms")));
	/* reasons of skips and done by hand */
	closed = get(step_of(doc, "dns"), "closed");
	assert_string_equal(get_str(closed, "how"), "skipped");
	assert_string_equal(get_str(closed, "by"), "alice");
	assert_string_equal(get_str(closed, "text"), "done in the console");
	assert_true(cJSON_IsNull(get(step_of(doc, "lag"), "closed")));
	/* notes with their step */
	assert_int_equal(cJSON_GetArraySize(get(doc, "notes")), 2);
	note = cJSON_GetArrayItem(get(doc, "notes"), 1);
	assert_string_equal(get_str(note, "step_id"), "verify");
	assert_string_equal(get_str(note, "actor"), "alice");
	assert_int_equal(cJSON_GetArraySize(get(get(doc, "clock"), "wall_jumps")), 0);
	assert_int_equal(get_num(get(doc, "clock"), "boots"), 1);
	cJSON_Delete(doc);
	buf_release(&text);
}

/* The wall clock steps 5 s forward (NTP) between a step's start and its
 * end: the document flags it, and the step's duration stays the
 * monotonic one. */
static void test_export_clock_jump(void **state)
{
	struct fixture *f = *state;
	const cJSON *jumps, *j, *t;
	struct err e = { "" };
	struct buf text;
	cJSON *doc;

	ev_add(f, 0, EV_STEP_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1}");
	struct journal_event end = {
		.run_id = f->run, .wall_ms = f->clock + 5000,
		.mono_ns = (f->clock - T0) * 1000000 + 1000, .step = 0,
		.type = EV_STEP_END, .actor = "qrh",
		.payload = "{\"step_id\":\"lag\",\"attempt\":1,\"status\":\"ok\","
			   "\"exit_code\":0,\"duration_ms\":1000}",
	};
	if (journal_event_append(f->j, &end, &e) < 0)
		fail_msg("append: %s", e.msg);
	doc = export_parse(f, f->run, &text);
	jumps = get(get(doc, "clock"), "wall_jumps");
	assert_int_equal(cJSON_GetArraySize(jumps), 1);
	j = cJSON_GetArrayItem(jumps, 0);
	assert_int_equal(get_num(j, "seq"), end.seq);
	assert_int_equal(get_num(j, "jump_ms"), 5000);
	assert_int_equal(get_num(j, "monotonic_ms"), 1000);
	t = cJSON_GetArrayItem(get(step_of(doc, "lag"), "timings"), 0);
	assert_int_equal(get_num(t, "duration_ms"), 1000);
	assert_int_equal(get_num(t, "at_ms"), 1000);
	cJSON_Delete(doc);
	buf_release(&text);
}

/* What each attempt ran where: a targeted action, a fan-out whose members
 * end one by one (one never started), a value picked by the operator, a
 * step found interrupted with a survivor, a background task reaped. */
static void test_export_actions(void **state)
{
	struct fixture *f = *state;
	const cJSON *acts, *a, *hosts, *h, *o;
	struct buf text;
	cJSON *doc;

	ev_add(f, 0, EV_STEP_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1}");
	ev_add(f, 0, EV_ACTION_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":0,"
	       "\"kind\":\"sql\",\"command\":\"select 1\",\"task\":1,\"target\":{\"name\":"
	       "\"replica\",\"kind\":\"postgres\",\"dsn\":\"host=db2 user=qrh\"}}");
	ev_add(f, 0, EV_ACTION_END, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":0,"
	       "\"status\":\"ok\",\"exit_code\":null,\"duration_ms\":42,\"summary\":\"1 row\","
	       "\"values\":{\"lag_seconds\":0.5},\"task\":1}");
	ev_add(f, 0, EV_ACTION_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":1,"
	       "\"kind\":\"sh\",\"command\":\"restart\",\"fanout\":{\"group\":\"fleet\","
	       "\"members\":3,\"parallel\":2,\"require\":\"all\",\"names\":[\"web1\",\"web2\",\"web3\"]}}");
	ev_add(f, 0, EV_TASK_START, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":1,"
	       "\"task\":2,\"label\":\"web1\"}");
	ev_add(f, 0, EV_TASK_END, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":1,"
	       "\"task\":2,\"label\":\"web1\",\"status\":\"failed\",\"exit_code\":9,"
	       "\"duration_ms\":700,\"summary\":\"exit 9\"}");
	ev_add(f, 0, EV_TASK_END, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":1,"
	       "\"task\":3,\"label\":\"web2\",\"status\":\"ok\",\"exit_code\":0,"
	       "\"duration_ms\":800,\"summary\":\"exit 0\"}");
	ev_add(f, 0, EV_ACTION_END, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"action\":1,"
	       "\"status\":\"failed\",\"exit_code\":null,\"duration_ms\":900,\"summary\":"
	       "\"1 of 3 members ok, 1 failed, 1 not run\",\"hosts\":["
	       "{\"label\":\"web1\",\"status\":\"failed\",\"exit_code\":9,\"summary\":\"exit 9\",\"task\":2},"
	       "{\"label\":\"web2\",\"status\":\"ok\",\"exit_code\":0,\"summary\":\"exit 0\",\"task\":3},"
	       "{\"label\":\"web3\",\"status\":\"not_run\"}]}");
	ev_add(f, 0, EV_STEP_END, "qrh", "{\"step_id\":\"lag\",\"attempt\":1,\"status\":\"failed\","
	       "\"duration_ms\":950}");
	ev_add(f, 1, EV_CAPTURE, "bob", "{\"step_id\":\"promote\",\"name\":\"BACKUP\","
	       "\"value\":\"nightly-2\",\"how\":\"picked\"}");
	ev_add(f, 1, EV_CAPTURE, "qrh", "{\"step_id\":\"promote\",\"name\":\"LSN\",\"value\":\"0/3\"}");
	ev_add(f, 1, EV_STEP_START, "qrh", "{\"step_id\":\"promote\",\"attempt\":1}");
	ev_add(f, 1, EV_STEP_INTERRUPTED, "qrh", "{\"step_id\":\"promote\",\"attempt\":1,"
	       "\"survivors\":[{\"task\":5,\"pgid\":4242,\"command\":\"pg_ctl promote\","
	       "\"started_ms_ago\":3000}]}");
	ev_add(f, 2, EV_TASK_REAPED, "qrh", "{\"task\":4,\"pgid\":4200,\"how\":\"killed\"}");
	ev_add(f, 1, EV_SURVIVOR_STOP, "carol", "{\"step_id\":\"promote\",\"pgids\":[4242],"
	       "\"operator\":\"carol\"}");
	ev_add(f, 1, EV_SURVIVOR_END, "qrh", "{\"step_id\":\"promote\",\"task\":5,\"pgid\":4242,"
	       "\"how\":\"killed\",\"after_ms\":5100}");
	doc = export_parse(f, f->run, &text);

	acts = get(cJSON_GetArrayItem(get(step_of(doc, "lag"), "timings"), 0), "actions");
	assert_int_equal(cJSON_GetArraySize(acts), 2);
	a = cJSON_GetArrayItem(acts, 0);
	assert_string_equal(get_str(a, "kind"), "sql");
	assert_string_equal(get_str(get(a, "target"), "dsn"), "host=db2 user=qrh");
	assert_true(cJSON_IsNull(get(a, "fanout")));
	assert_string_equal(get_str(a, "summary"), "1 row");
	assert_int_equal(get_num(a, "duration_ms"), 42);
	assert_int_equal(get_num(a, "task"), 1);
	assert_true(get(get(a, "values"), "lag_seconds")->valuedouble == 0.5);
	assert_null(cJSON_GetObjectItemCaseSensitive(a, "hosts"));
	a = cJSON_GetArrayItem(acts, 1);
	assert_true(cJSON_IsNull(get(a, "target")));
	assert_string_equal(get_str(get(a, "fanout"), "group"), "fleet");
	assert_string_equal(get_str(a, "status"), "failed");
	hosts = get(a, "hosts");
	assert_int_equal(cJSON_GetArraySize(hosts), 3);
	h = cJSON_GetArrayItem(hosts, 0);
	assert_string_equal(get_str(h, "label"), "web1");
	assert_int_equal(get_num(h, "exit_code"), 9);
	assert_int_equal(get_num(h, "duration_ms"), 700); /* from its task_end */
	h = cJSON_GetArrayItem(hosts, 2);
	assert_string_equal(get_str(h, "status"), "not_run");
	assert_true(cJSON_IsNull(get(h, "duration_ms")));
	/* an interrupted attempt ran nothing the journal recorded */
	acts = get(cJSON_GetArrayItem(get(step_of(doc, "promote"), "timings"), 0), "actions");
	assert_int_equal(cJSON_GetArraySize(acts), 0);

	assert_int_equal(cJSON_GetArraySize(get(doc, "picks")), 1);
	o = cJSON_GetArrayItem(get(doc, "picks"), 0);
	assert_string_equal(get_str(o, "actor"), "bob");
	assert_string_equal(get_str(o, "name"), "BACKUP");
	assert_string_equal(get_str(o, "value"), "nightly-2");
	assert_string_equal(get_str(o, "step_id"), "promote");
	assert_int_equal(cJSON_GetArraySize(get(doc, "interruptions")), 1);
	o = cJSON_GetArrayItem(get(doc, "interruptions"), 0);
	assert_int_equal(get_num(o, "attempt"), 1);
	assert_string_equal(get_str(cJSON_GetArrayItem(get(o, "survivors"), 0), "command"),
			    "pg_ctl promote");
	o = cJSON_GetArrayItem(get(doc, "reaped"), 0);
	assert_int_equal(get_num(o, "pgid"), 4200);
	assert_string_equal(get_str(o, "how"), "killed");
	assert_int_equal(get_num(o, "step"), 2);
	/* the operator's choice for the survivor, and how it went */
	assert_int_equal(cJSON_GetArraySize(get(doc, "survivor_choices")), 2);
	o = cJSON_GetArrayItem(get(doc, "survivor_choices"), 0);
	assert_string_equal(get_str(o, "what"), "stop");
	assert_string_equal(get_str(o, "actor"), "carol");
	assert_string_equal(get_str(o, "step_id"), "promote");
	assert_int_equal(cJSON_GetArrayItem(get(o, "pgids"), 0)->valuedouble, 4242);
	o = cJSON_GetArrayItem(get(doc, "survivor_choices"), 1);
	assert_string_equal(get_str(o, "what"), "end");
	assert_string_equal(get_str(o, "how"), "killed");
	assert_int_equal(get_num(o, "after_ms"), 5100);
	assert_int_equal(get_num(o, "task"), 5);
	cJSON_Delete(doc);
	buf_release(&text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_report_steps, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_interrupted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_unloadable_runbook, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_matches_by_id, setup, teardown),
		cmocka_unit_test_setup_teardown(test_report_no_run, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_exact_and_finished, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_live_prefix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_evidence, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_clock_jump, setup, teardown),
		cmocka_unit_test_setup_teardown(test_export_actions, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
