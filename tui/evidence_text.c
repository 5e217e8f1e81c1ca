/* evidence_text.c: what the evidence renderers share — reading the
 * document, and making journal text safe for Markdown, XML and HTML. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/evidence.h"
#include "tui/sanitize.h"
#include "util/clock.h"

const char *ev_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int64_t ev_int(const cJSON *o, const char *key, int64_t dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18))
		return dflt;
	return (int64_t)v->valuedouble;
}

bool ev_bool(const cJSON *o, const char *key)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, key));
}

bool ev_has_num(const cJSON *o, const char *key)
{
	return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(o, key));
}

void ev_md(struct buf *b, const char *s)
{
	char *clean = sanitize_string(s ? s : "", s ? strlen(s) : 0);

	for (const char *p = clean; *p; p++) {
		if (*p == '<')
			buf_adds(b, "&lt;");
		else if (*p == '>')
			buf_adds(b, "&gt;");
		else if (*p == '&')
			buf_adds(b, "&amp;");
		else if (strchr("\\`*_[]|#~!{}", *p)) {
			buf_addc(b, '\\');
			buf_addc(b, *p);
		} else {
			buf_addc(b, *p);
		}
	}
	free(clean);
}

void ev_xml_block(struct buf *b, const char *s)
{
	for (const char *p = s ? s : ""; *p; p++) {
		switch (*p) {
		case '<': buf_adds(b, "&lt;"); break;
		case '>': buf_adds(b, "&gt;"); break;
		case '&': buf_adds(b, "&amp;"); break;
		case '"': buf_adds(b, "&quot;"); break;
		case '\'': buf_adds(b, "&#39;"); break;
		default: buf_addc(b, *p); break;
		}
	}
}

void ev_xml(struct buf *b, const char *s)
{
	char *clean = sanitize_string(s ? s : "", s ? strlen(s) : 0);
	ev_xml_block(b, clean);
	free(clean);
}

void ev_md_fence(struct buf *b, const char *s)
{
	size_t longest = 0, run = 0;

	for (const char *p = s ? s : ""; *p; p++) {
		run = *p == '`' ? run + 1 : 0;
		if (run > longest)
			longest = run;
	}
	for (size_t i = 0; i < (longest < 3 ? 3 : longest + 1); i++)
		buf_addc(b, '`');
}

void ev_duration(struct buf *b, int64_t ms)
{
	char words[32];

	if (ms == INT64_MIN || ms < 0) {
		buf_adds(b, "\u2014");
		return;
	}
	clock_duration_words(ms, words, sizeof words);
	buf_adds(b, words);
}

size_t ev_step_outputs(const struct evidence *ev, int64_t step, int attempt,
		       const struct evidence_output **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < ev->n_outs && n < max; i++)
		if (ev->outs[i].step == step && ev->outs[i].attempt == attempt)
			out[n++] = &ev->outs[i];
	return n;
}

const char *ev_excerpt_short(const char *excerpt)
{
	const char *end = excerpt + strlen(excerpt), *p = end;
	size_t lines = 0;
	bool full = false;

	/* a final newline ends the last line; it does not start one */
	if (p > excerpt && p[-1] == '\n')
		p--;
	while (p > excerpt) {
		if ((size_t)(end - p) >= EVIDENCE_EXCERPT_BYTES) {
			full = true;
			break;
		}
		if (p[-1] == '\n' && ++lines == EVIDENCE_EXCERPT_LINES)
			break;
		p--;
	}
	if (full) { /* from the next line start, or a character boundary */
		const char *nl = strchr(p, '\n');
		if (nl && nl + 1 < end)
			p = nl + 1;
		while (*p && ((unsigned char)*p & 0xC0) == 0x80)
			p++;
	}
	return p;
}

void ev_head(struct buf *b, const struct evidence *ev)
{
	buf_addf(b, "%lld:%lld:%s", (long long)ev->run_id, (long long)ev->head.seq,
		 ev->head.seq ? ev->head.hash : "none");
}

void ev_step_label(struct buf *b, const cJSON *step, bool md)
{
	const char *title = ev_str(step, "title");
	const char *id = ev_str(step, "id");

	buf_addf(b, "%lld. ", (long long)ev_int(step, "index", 0) + 1);
	if (md)
		ev_md(b, title ? title : id ? id : "(no title)");
	else
		ev_xml(b, title ? title : id ? id : "(no title)");
}

void ev_live_sentence(struct buf *b, const struct evidence *ev)
{
	char t[RFC3339_MS_LEN];

	clock_rfc3339_ms(ev->exported_ms, t);
	buf_addf(b, "IN PROGRESS: this run had not ended when this evidence was "
		 "exported at %s; it shows the journal up to event %lld, and "
		 "later events are not in it.", t, (long long)ev->head.seq);
}
