/* evidence_junit.c: junit.xml, the test report format GitHub Actions,
 * GitLab and Jenkins read (schema: tests/junit.xsd): one testsuite for
 * the run, one testcase per step with its wall time. A failed or timed
 * out step is a <failure>, a cancelled or interrupted one an <error>, a
 * skipped one or one that never ran <skipped>; failures carry the
 * fan-out members that did not end ok and the tail of the output. */
#include <stdio.h>
#include <string.h>

#include "state/report.h"
#include "tui/evidence.h"

#define JUNIT_OUTPUTS_MAX 64

static void seconds(struct buf *b, int64_t ms)
{
	if (ms < 0)
		ms = 0;
	buf_addf(b, "%lld.%03lld", (long long)(ms / 1000), (long long)(ms % 1000));
}

static void attr(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, " %s=\"", name);
	ev_xml(b, value ? value : "");
	buf_addc(b, '"');
}

static void property(struct buf *b, const char *name, const char *value)
{
	buf_adds(b, "      <property");
	attr(b, "name", name);
	attr(b, "value", value);
	buf_adds(b, "/>\n");
}

enum verdict { V_PASS, V_FAIL, V_ERROR, V_SKIP };

static enum verdict verdict_of(const char *status)
{
	static const struct { const char *s; enum verdict v; } map[] = {
		{ "ok", V_PASS }, { "done_by_hand", V_PASS }, { "failed", V_FAIL },
		{ "timeout", V_FAIL }, { "cancelled", V_ERROR },
		{ "interrupted", V_ERROR },
	};
	for (size_t i = 0; status && i < sizeof map / sizeof map[0]; i++)
		if (!strcmp(status, map[i].s))
			return map[i].v;
	return V_SKIP; /* pending, skipped, running, retry_wait */
}

/* The step's output tails, for <failure>/<error> or <system-out>. */
static void tails(const struct evidence *ev, const cJSON *s, struct buf *b)
{
	const struct evidence_output *o[JUNIT_OUTPUTS_MAX];
	size_t n = ev_step_outputs(ev, ev_int(s, "index", -1), (int)ev_int(s, "attempts", 0),
				   o, JUNIT_OUTPUTS_MAX);
	for (size_t i = 0; i < n; i++) {
		const char *tail = ev_excerpt_short(o[i]->excerpt);
		if (!*tail)
			continue;
		buf_addf(b, "--- %s (all of it in %s) ---\n",
			 o[i]->stream == JOURNAL_STDERR ? "stderr" : "stdout", o[i]->path);
		ev_xml_block(b, tail);
		if (tail[strlen(tail) - 1] != '\n')
			buf_addc(b, '\n');
	}
}

static void skip_reason(const cJSON *s, struct buf *why)
{
	const char *st = ev_str(s, "status");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "closed");

	if (st && !strcmp(st, "skipped")) {
		buf_adds(why, "skipped by ");
		buf_adds(why, ev_str(c, "by") ? ev_str(c, "by") : "?");
		buf_adds(why, ": ");
		buf_adds(why, ev_str(c, "text") ? ev_str(c, "text") : "");
	} else if (st && !strcmp(st, "pending")) {
		buf_adds(why, "not run");
	} else {
		buf_addf(why, "%s when the evidence was exported", st ? st : "unknown");
	}
}

static void testcase(const struct evidence *ev, const cJSON *s, const char *classname,
		     struct buf *b)
{
	const char *status = ev_str(s, "status");
	enum verdict v = verdict_of(status);
	struct buf name, msg;
	int64_t ms = ev_int(s, "elapsed_ms", -1);

	buf_init(&name, 4096);
	buf_init(&msg, 4096);
	buf_addf(&name, "%02lld %s: %s", (long long)ev_int(s, "index", 0) + 1,
		 ev_str(s, "id") ? ev_str(s, "id") : "?",
		 ev_str(s, "title") ? ev_str(s, "title") : "");
	buf_adds(b, "    <testcase");
	attr(b, "name", name.data);
	attr(b, "classname", classname);
	buf_adds(b, " time=\"");
	seconds(b, ms >= 0 ? ms : ev_int(s, "duration_ms", 0));
	buf_adds(b, "\">\n");
	if (v == V_FAIL || v == V_ERROR) {
		buf_addf(&msg, "%s", status);
		if (ev_str(s, "summary"))
			buf_addf(&msg, ": %s", ev_str(s, "summary"));
		buf_addf(b, "      <%s", v == V_FAIL ? "failure" : "error");
		attr(b, "message", msg.data);
		attr(b, "type", status);
		buf_adds(b, ">");
		ev_failed_members(s, ev_xml, b);
		tails(ev, s, b);
		buf_addf(b, "</%s>\n", v == V_FAIL ? "failure" : "error");
	} else if (v == V_SKIP) {
		skip_reason(s, &msg);
		buf_adds(b, "      <skipped");
		attr(b, "message", msg.data);
		buf_adds(b, "/>\n");
	} else {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "closed");
		buf_adds(b, "      <system-out>");
		if (cJSON_IsObject(c)) {
			buf_adds(b, "done by hand by ");
			ev_xml(b, ev_str(c, "by"));
			buf_adds(b, ": ");
			ev_xml(b, ev_str(c, "text"));
			buf_addc(b, '\n');
		}
		tails(ev, s, b);
		buf_adds(b, "</system-out>\n");
	}
	buf_adds(b, "    </testcase>\n");
	buf_release(&name);
	buf_release(&msg);
}

struct counts {
	int tests, failures, errors, skipped;
};

static struct counts count(const cJSON *steps)
{
	struct counts c = { 0 };
	const cJSON *s;
	cJSON_ArrayForEach(s, steps) {
		enum verdict v = verdict_of(ev_str(s, "status"));
		c.tests++;
		c.failures += v == V_FAIL;
		c.errors += v == V_ERROR;
		c.skipped += v == V_SKIP;
	}
	return c;
}

static void totals(struct buf *b, const struct counts *c, int64_t ms)
{
	buf_addf(b, " tests=\"%d\" failures=\"%d\" errors=\"%d\" skipped=\"%d\" time=\"",
		 c->tests, c->failures, c->errors, c->skipped);
	seconds(b, ms);
	buf_adds(b, "\"");
}

static void properties(const struct evidence *ev, const cJSON *run, struct buf *b)
{
	struct buf v;
	const cJSON *op;

	buf_init(&v, 4096);
	buf_adds(b, "    <properties>\n");
	buf_addf(&v, "%lld", (long long)ev->run_id);
	property(b, "qrh.run", v.data);
	property(b, "qrh.runbook", ev_str(run, "runbook"));
	property(b, "qrh.runbook_sha256", ev_str(run, "runbook_sha256"));
	property(b, "qrh.mode", ev_str(run, "mode"));
	property(b, "qrh.outcome", ev->live ? "in progress" : ev_str(run, "outcome"));
	property(b, "qrh.in_progress", ev->live ? "true" : "false");
	buf_reset(&v);
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(ev->doc, "operators"))
		if (cJSON_IsString(op))
			buf_addf(&v, "%s%s", v.len ? ", " : "", op->valuestring);
	property(b, "qrh.operators", v.data);
	buf_reset(&v);
	ev_head(&v, ev);
	property(b, "qrh.head", v.data);
	static const char *const objs[] = { "rto", "rpo" };
	for (size_t i = 0; i < 2; i++) {
		buf_reset(&v);
		if (report_objective_words(ev->doc, objs[i], &v))
			property(b, i ? "qrh.rpo" : "qrh.rto", v.data);
	}
	buf_adds(b, "    </properties>\n");
	buf_release(&v);
}

void evidence_junit(const struct evidence *ev, struct buf *b)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run");
	const cJSON *steps = cJSON_GetObjectItemCaseSensitive(ev->doc, "steps"), *s;
	struct counts c = count(steps);
	int64_t ms = ev_int(run, "elapsed_ms", 0);
	struct buf name, classname;

	buf_init(&name, 4096);
	buf_init(&classname, 4096);
	buf_addf(&name, "qrh run %lld: %s%s", (long long)ev->run_id,
		 ev_str(run, "title") ? ev_str(run, "title") : "",
		 ev->live ? " (IN PROGRESS)" : "");
	buf_addf(&classname, "qrh.run%lld", (long long)ev->run_id);
	buf_adds(b, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites");
	attr(b, "name", name.data);
	totals(b, &c, ms);
	buf_adds(b, ">\n  <testsuite");
	attr(b, "name", name.data);
	totals(b, &c, ms);
	attr(b, "timestamp", ev_str(run, "started_at") ? ev_str(run, "started_at") : "1970-01-01T00:00:00.000Z");
	attr(b, "hostname", ev_str(run, "host"));
	buf_adds(b, ">\n");
	properties(ev, run, b);
	cJSON_ArrayForEach(s, steps)
		testcase(ev, s, classname.data, b);
	if (ev->live) {
		buf_adds(b, "    <system-out>");
		buf_reset(&name);
		ev_live_sentence(&name, ev);
		ev_xml(b, name.data);
		buf_adds(b, "</system-out>\n");
	}
	buf_adds(b, "  </testsuite>\n</testsuites>\n");
	buf_release(&name);
	buf_release(&classname);
}
