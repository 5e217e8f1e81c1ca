/* evidence.c: reading a run's evidence once, for every document of the
 * bundle (tui/evidence.h): the evidence document, the runbook text and
 * every stored output stream with its sanitized tail. */
#include "tui/evidence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/report.h"
#include "tui/sanitize.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define PATH_ID_MAX 40

/* A step id from the journal as one safe path component: a forged
 * journal may hold "../x" or control bytes. */
static void path_word(struct buf *b, const char *s)
{
	size_t n = 0;
	for (; s && *s && n < PATH_ID_MAX; s++, n++) {
		unsigned char c = (unsigned char)*s;
		bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			  (c >= '0' && c <= '9') || c == '-' || c == '_' ||
			  (c == '.' && n > 0);
		buf_addc(b, ok ? (char)c : '_');
	}
}

static const cJSON *step_by_index(const cJSON *doc, int64_t index)
{
	const cJSON *s;
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "steps"))
		if (ev_int(s, "index", -1) == index)
			return s;
	return NULL;
}

/* outputs/03-check-health/attempt-1-task-4-web1.stdout */
static char *output_path(const cJSON *doc, const struct journal_output_ref *ref)
{
	struct buf b;
	const cJSON *s = step_by_index(doc, ref->step);

	buf_init(&b, 512);
	buf_addf(&b, "outputs/%02lld-", (long long)ref->step + 1);
	path_word(&b, s ? ev_str(s, "id") : "step");
	if (ref->attempt > 0)
		buf_addf(&b, "/attempt-%d", ref->attempt);
	else
		buf_adds(&b, "/background");
	if (ref->task > 0)
		buf_addf(&b, "-task-%lld", (long long)ref->task);
	if (ref->label[0]) {
		buf_addc(&b, '-');
		path_word(&b, ref->label);
	}
	buf_adds(&b, ref->stream == JOURNAL_STDERR ? ".stderr" : ".stdout");
	return buf_detach(&b, NULL);
}

/* The tail, from a line start when the window cut one, sanitized. */
static void excerpt_set(struct evidence_output *o, const char *data, size_t len)
{
	size_t from = len > EVIDENCE_HTML_EXCERPT_BYTES ? len - EVIDENCE_HTML_EXCERPT_BYTES : 0;
	struct sanitizer san;
	struct buf b;

	if (from) {
		const char *nl = memchr(data + from, '\n', len - from);
		if (nl && (size_t)(nl - (data + from)) < 1024)
			from = (size_t)(nl - data) + 1;
	}
	buf_init(&b, BUF_UNLIMITED);
	sanitize_init(&san, 0);
	sanitize_feed(&san, data + from, len - from, &b);
	sanitize_flush(&san, &b);
	o->excerpt = buf_detach(&b, NULL);
	o->cut = from > 0;
}

static int outputs_load(struct journal *j, struct evidence *ev,
			evidence_output_fn *fn, void *arg, struct err *e)
{
	struct journal_output_ref *refs = NULL;
	size_t n = 0;
	int rc = 0;

	if (journal_output_list(j, ev->run_id, -1, &refs, &n, e) < 0)
		return -1;
	ev->outs = xcalloc(n ? n : 1, sizeof *ev->outs);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const struct journal_output_ref *ref = &refs[i];
		struct journal_okey k = { .step = ref->step, .attempt = ref->attempt,
					  .task = ref->task };
		struct journal_output_info info;
		struct buf data;
		buf_init(&data, BUF_UNLIMITED);
		if (journal_output_read(j, ev->run_id, &k, ref->stream, &data, &info, e) < 0) {
			rc = -1;
		} else {
			struct evidence_output *o = &ev->outs[ev->n_outs++];
			o->step = ref->step;
			o->attempt = ref->attempt;
			o->task = ref->task;
			snprintf(o->label, sizeof o->label, "%s", ref->label);
			o->stream = ref->stream;
			o->path = output_path(ev->doc, ref);
			o->bytes = (int64_t)data.len;
			excerpt_set(o, data.data, data.len);
			if (fn)
				rc = fn(arg, o, data.data, data.len, e);
		}
		buf_release(&data);
	}
	free(refs);
	return rc;
}

/* The runbook keeps the extension it was run with. */
static char *runbook_name(const char *path)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	static const char *const known[] = { ".md", ".markdown", ".json" };

	for (size_t i = 0; dot && i < 3; i++)
		if (!strcmp(dot, known[i]))
			return xstrdup(i == 2 ? "runbook.json" : "runbook.md");
	return xstrdup("runbook.txt");
}

static int doc_load(struct journal *j, const struct run_report *r,
		    struct evidence *ev, struct err *e)
{
	struct buf text;

	buf_init(&text, BUF_UNLIMITED);
	if (report_export_json(j, r, &text, e) < 0) {
		buf_release(&text);
		return -1;
	}
	ev->doc = cJSON_Parse(text.data);
	ev->doc_text = buf_detach(&text, &ev->doc_len);
	if (!ev->doc)
		return err_set(e, "the evidence document does not read back");
	return 0;
}

int evidence_load(struct journal *j, int64_t run_id, struct evidence *ev,
		  evidence_output_fn *fn, void *arg, struct err *e)
{
	struct run_report r;
	int rc;

	memset(ev, 0, sizeof *ev);
	ev->run_id = run_id;
	ev->exported_ms = clock_wall_ms();
	rc = report_load(j, run_id, &r, e);
	if (rc <= 0)
		return rc;
	ev->head = r.head;
	ev->live = r.run.outcome == NULL;
	ev->runbook_len = r.run.runbook_len;
	ev->runbook_text = xmalloc(r.run.runbook_len + 1);
	if (r.run.runbook_text)
		memcpy(ev->runbook_text, r.run.runbook_text, r.run.runbook_len);
	ev->runbook_text[r.run.runbook_len] = '\0';
	ev->runbook_name = runbook_name(r.run.runbook_path);
	rc = doc_load(j, &r, ev, e);
	report_release(&r);
	if (rc == 0)
		rc = outputs_load(j, ev, fn, arg, e);
	if (rc < 0) {
		evidence_release(ev);
		return -1;
	}
	return 1;
}

void evidence_release(struct evidence *ev)
{
	for (size_t i = 0; i < ev->n_outs; i++) {
		free(ev->outs[i].path);
		free(ev->outs[i].excerpt);
	}
	free(ev->outs);
	cJSON_Delete(ev->doc);
	free(ev->doc_text);
	free(ev->runbook_text);
	free(ev->runbook_name);
	memset(ev, 0, sizeof *ev);
}
