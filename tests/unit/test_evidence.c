/* test_evidence: the renderers of the bundle (evidence.md, junit.xml,
 * report.html) from a hand-made evidence document: objectives and probes
 * (which another part of qrh adds to the document) shown when present and
 * absent otherwise, a run in progress said on every document, hostile
 * text made harmless. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/evidence.h"

/* 2023-11-14T22:13:20.000Z is the run's start. */
static const char doc_text[] =
	"{\"run\": {\"id\": 7, \"runbook\": \"dr.md\", \"runbook_sha256\": \"ab\","
	" \"title\": \"DR <script>alert(1)</script> \\u001b]0;pwn\\u0007 | drill\","
	" \"operator\": \"alice\", \"host\": \"ops1\", \"mode\": \"drill\","
	" \"started_at\": \"2023-11-14T22:13:20.000Z\", \"ended_at\": \"2023-11-14T22:20:00.000Z\","
	" \"outcome\": \"ok\", \"elapsed_ms\": 400000, \"in_progress\": false},"
	" \"operators\": [\"alice\"],"
	" \"sessions\": [{\"kind\": \"start\", \"seq\": 1, \"at\": \"2023-11-14T22:13:20.000Z\","
	"   \"operator\": \"alice\", \"os_user\": \"alice\", \"handover\": false, \"at_ms\": 0}],"
	" \"handovers\": [], \"notes\": [], \"vars\": {}, \"budgets\": {\"rto_ms\": 900000, \"rpo_ms\": null},"
	" \"steps\": [{\"index\": 0, \"id\": \"promote\", \"title\": \"Promote\", \"status\": \"ok\","
	"   \"started_at\": \"2023-11-14T22:13:30.000Z\", \"duration_ms\": 60000, \"elapsed_ms\": 60000,"
	"   \"attempts\": 1, \"confirmed_by\": {\"actor\": \"alice\", \"how\": \"typed\"},"
	"   \"timings\": [{\"attempt\": 1, \"status\": \"ok\", \"duration_ms\": 60000, \"at_ms\": 10000}],"
	"   \"summary\": \"exit 0\", \"closed\": null}],"
	" \"clock\": {\"wall\": \"w\", \"monotonic\": \"m\", \"durations\": \"d\", \"wall_jumps\": []},"
	" \"head\": {\"seq\": 40, \"hash\": \"ffee\"}%s}";

static const char measured[] =
	", \"objectives\": {\"rto\": {\"budget_ms\": 900000, \"measured_ms\": 252000,"
	"   \"started_at\": \"2023-11-14T22:13:30.000Z\", \"stopped_at\": \"2023-11-14T22:17:42.000Z\","
	"   \"start_event\": \"step:promote:start\", \"stop_event\": \"probe:dr-health:ok\", \"met\": true},"
	"  \"rpo\": {\"budget_ms\": 300000, \"measured_ms\": 0, \"rows_lost\": 0, \"met\": true}},"
	" \"probes\": [{\"name\": \"dr-health\", \"kind\": \"http\", \"interval_ms\": 5000, \"samples\": 80,"
	"   \"states\": [{\"at\": \"2023-11-14T22:13:20.000Z\", \"state\": \"fail\", \"value\": \"503\"},"
	"              {\"at\": \"2023-11-14T22:17:42.000Z\", \"state\": \"ok\", \"value\": \"200\"}]}]";

struct docs {
	struct evidence ev;
	struct buf md, junit, html;
};

static void parse(struct docs *d, const char *extra, bool live)
{
	char *text = malloc(sizeof doc_text + strlen(extra) + 1);
	sprintf(text, doc_text, extra);
	memset(d, 0, sizeof *d);
	d->ev.doc = cJSON_Parse(text);
	free(text);
	assert_non_null(d->ev.doc);
	d->ev.run_id = 7;
	d->ev.head.seq = 40;
	strcpy(d->ev.head.hash, "ffee");
	d->ev.live = live;
	d->ev.exported_ms = 1700000400000;
}

static void render_parsed(struct docs *d)
{
	buf_init(&d->md, BUF_UNLIMITED);
	buf_init(&d->junit, BUF_UNLIMITED);
	buf_init(&d->html, BUF_UNLIMITED);
	evidence_md(&d->ev, &d->md);
	evidence_junit(&d->ev, &d->junit);
	evidence_html(&d->ev, &d->html);
}

static void render(struct docs *d, const char *extra, bool live)
{
	parse(d, extra, live);
	render_parsed(d);
}

static void release(struct docs *d)
{
	cJSON_Delete(d->ev.doc);
	buf_release(&d->md);
	buf_release(&d->junit);
	buf_release(&d->html);
}

#define HAS(b, s) do { if (!strstr((b).data, (s))) fail_msg("no %s in:\n%s", (s), (b).data); } while (0)
#define HASNT(b, s) do { if (strstr((b).data, (s))) fail_msg("%s should not be in:\n%s", (s), (b).data); } while (0)

static void test_objectives_and_probes(void **state)
{
	struct docs d;
	(void)state;
	render(&d, measured, false);
	HAS(d.md, "- RTO 4m 12s of a 15m 00s budget: met");
	HAS(d.md, "- RPO 0 ms of a 5m 00s budget, 0 rows lost: met");
	HAS(d.md, "## Probes");
	HAS(d.md, "| dr-health | http | 5.0 s | 80 | fail at 2023-11-14T22:13:20.000Z; ok at");
	HAS(d.junit, "<property name=\"qrh.rto\" value=\"RTO 4m 12s of a 15m 00s budget: met\"/>");
	HAS(d.html, "<li id=\"objective-rto\">RTO 4m 12s of a 15m 00s budget: met</li>");
	HAS(d.html, "<table id=\"probes\">");
	HAS(d.html, "<rect class=\"probe p-fail\"");
	HAS(d.html, "<rect class=\"probe p-ok\"");
	/* the budget runs out 15 min after the clock started (10 s into the
	 * run): the axis reaches it */
	HAS(d.html, "data-rto-ms=\"910000\"");
	HAS(d.html, "class=\"rto\"");
	release(&d);
}

static void test_absent_when_not_measured(void **state)
{
	struct docs d;
	(void)state;
	render(&d, "", false);
	HASNT(d.md, "## Probes");
	HASNT(d.html, "class=\"probe");
	HASNT(d.html, "id=\"probes\"");
	HAS(d.md, "- RTO budget 15m 00s: not measured");
	HASNT(d.md, "RPO");
	HASNT(d.md, "IN PROGRESS");
	HASNT(d.html, "IN PROGRESS");
	HASNT(d.junit, "IN PROGRESS");
	release(&d);
}

static void test_live_on_every_document(void **state)
{
	struct docs d;
	(void)state;
	render(&d, "", true);
	HAS(d.md, "IN PROGRESS: this run had not ended");
	HAS(d.html, "<div class=\"live\" id=\"in-progress\">IN PROGRESS");
	HAS(d.html, "<title>qrh run 7: ");
	HAS(d.html, "(IN PROGRESS)</title>");
	HAS(d.junit, "(IN PROGRESS)");
	HAS(d.junit, "<property name=\"qrh.in_progress\" value=\"true\"/>");
	release(&d);
}

static void test_hostile_text(void **state)
{
	struct docs d;
	(void)state;
	render(&d, "", false);
	HASNT(d.html, "<script>alert");
	HASNT(d.html, "\033");
	HASNT(d.md, "\033");
	HASNT(d.junit, "\033");
	HAS(d.html, "DR &lt;script&gt;alert(1)&lt;/script&gt; ^[]0;pwn^G | drill");
	HAS(d.md, "# Evidence: DR &lt;script&gt;alert(1)&lt;/script&gt; ^\\[\\]0;pwn^G \\| drill");
	/* the page may run only its own script: nothing is fetched */
	HAS(d.html, "default-src 'none'");
	release(&d);
}

/* What ran where: a targeted action and a fan-out with a failed member and
 * one never started; a pick, an interrupted step and its survivor, a
 * reaped background task, the operator's stop of the survivor and its end. */
static const char actions[] =
	"[{\"action\": 0, \"kind\": \"http\", \"command\": \"GET /health\","
	"  \"target\": {\"name\": \"dr-gw\", \"kind\": \"http\", \"url\": \"https://dr.example/\","
	"  \"insecure\": true}, \"fanout\": null, \"status\": \"ok\", \"summary\": \"200 OK\","
	"  \"duration_ms\": 1500},"
	" {\"action\": 1, \"kind\": \"ssh\", \"target\": null, \"fanout\": {\"group\": \"fleet\","
	"  \"members\": 3, \"parallel\": 2, \"require\": \"2\"}, \"status\": \"failed\","
	"  \"summary\": \"1 of 3 members ok, 1 failed, 1 not run\", \"duration_ms\": 2000,"
	"  \"hosts\": [{\"label\": \"web1\", \"status\": \"ok\", \"summary\": \"exit 0\", \"duration_ms\": 900},"
	"   {\"label\": \"web<2>\", \"status\": \"failed\", \"summary\": \"exit 9\", \"duration_ms\": 800},"
	"   {\"label\": \"web3\", \"status\": \"not_run\", \"summary\": null, \"duration_ms\": null}]}]";
static const char resumes[] =
	", \"picks\": [{\"seq\": 12, \"at\": \"2023-11-14T22:14:00.000Z\", \"step_id\": \"promote\","
	"   \"actor\": \"bob\", \"name\": \"BACKUP\", \"value\": \"nightly-2\"}],"
	" \"interruptions\": [{\"seq\": 20, \"at\": \"2023-11-14T22:15:00.000Z\", \"step_id\": \"promote\","
	"   \"attempt\": 1, \"survivors\": [{\"task\": 5, \"pgid\": 4242, \"command\": \"pg_ctl promote\","
	"   \"started_ms_ago\": 3000}]}],"
	" \"reaped\": [{\"seq\": 21, \"at\": \"2023-11-14T22:15:00.000Z\", \"task\": 4, \"how\": \"killed\"}],"
	" \"survivor_choices\": [{\"seq\": 22, \"at\": \"2023-11-14T22:15:10.000Z\", \"step_id\": \"promote\","
	"   \"actor\": \"carol<x>\", \"what\": \"stop\", \"pgids\": [4242]},"
	"  {\"seq\": 23, \"at\": \"2023-11-14T22:15:15.000Z\", \"step_id\": \"promote\", \"what\": \"end\","
	"   \"task\": 5, \"pgid\": 4242, \"how\": \"killed\", \"after_ms\": 5100}]";

static void test_actions_and_resumes(void **state)
{
	struct docs d;
	(void)state;
	parse(&d, resumes, false);
	cJSON *step = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(d.ev.doc, "steps"), 0);
	cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(step, "timings"), 0);
	cJSON *a = cJSON_Parse(actions);
	assert_non_null(a);
	cJSON_AddItemToObject(t, "actions", a);
	cJSON_ReplaceItemInObjectCaseSensitive(step, "status", cJSON_CreateString("failed"));
	render_parsed(&d);
	HAS(d.md, "## Actions and targets");
	HAS(d.md, "| 1 | 1 | 1 http | dr-gw (http https://dr.example/, TLS NOT VERIFIED) | ok: 200 OK | 1.5 s |");
	HAS(d.md, "| 1 | 1 | 2 ssh | group fleet: 3 members, 2 at a time, require 2 | failed: 1 of 3");
	HAS(d.md, "|  |  | \u21b3 member | web&lt;2&gt; | failed: exit 9 | 800 ms |");
	HAS(d.md, "| web3 | not\\_run | \u2014 |");
	HAS(d.md, "bob picked BACKUP = nightly-2 (step promote, event 12)");
	HAS(d.md, "step promote attempt 1 was running when qrh stopped");
	HAS(d.md, "unknown; still running then: task 5, process group 4242, pg\\_ctl promote (started 3.0 s before)");
	HAS(d.md, "background task 4 of an earlier session was still running: killed");
	HAS(d.md, "2023-11-14T22:15:10.000Z: carol&lt;x&gt; chose to stop the processes step promote "
		  "left running (process group 4242)");
	HAS(d.md, "process group 4242 of step promote was killed (SIGKILL after the grace), 5.1 s after the choice");
	HAS(d.html, "carol&lt;x&gt; chose to stop the processes step promote");
	HAS(d.html, "<table id=\"actions\">");
	HAS(d.html, "<tr class=\"member\"><td></td><td></td><td>\u21b3 member</td><td>web&lt;2&gt;</td>");
	HAS(d.html, "<h2>Picked by the operator</h2>");
	HAS(d.html, "<h2>Interrupted and survivors</h2>");
	/* junit names the members that failed, not those that passed */
	HAS(d.junit, "member web&lt;2&gt;: failed: exit 9\nmember web3: not_run\n");
	HASNT(d.junit, "member web1");
	release(&d);
}

static void test_no_actions_no_sections(void **state)
{
	struct docs d;
	(void)state;
	render(&d, "", false);
	HASNT(d.md, "## Actions and targets");
	HASNT(d.md, "Picked by");
	HASNT(d.html, "Interrupted and survivors");
	release(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objectives_and_probes),
		cmocka_unit_test(test_absent_when_not_measured),
		cmocka_unit_test(test_live_on_every_document),
		cmocka_unit_test(test_hostile_text),
		cmocka_unit_test(test_actions_and_resumes),
		cmocka_unit_test(test_no_actions_no_sections),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
