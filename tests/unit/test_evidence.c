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

static void render(struct docs *d, const char *extra, bool live)
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
	buf_init(&d->md, BUF_UNLIMITED);
	buf_init(&d->junit, BUF_UNLIMITED);
	buf_init(&d->html, BUF_UNLIMITED);
	evidence_md(&d->ev, &d->md);
	evidence_junit(&d->ev, &d->junit);
	evidence_html(&d->ev, &d->html);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objectives_and_probes),
		cmocka_unit_test(test_absent_when_not_measured),
		cmocka_unit_test(test_live_on_every_document),
		cmocka_unit_test(test_hostile_text),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
