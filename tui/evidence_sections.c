/* evidence_sections.c: the sections evidence.md and report.html share —
 * objectives, variables, notes, approvals, probes, the clock — written once, in the
 * markup each document gives (struct ev_markup). */
#include <stdio.h>
#include <string.h>

#include "state/report.h"
#include "tui/evidence.h"

const struct ev_markup ev_markup_md = {
	.text = ev_md,
	.h2 = "## ", .h2_end = "\n\n",
	.list = "", .item = "- ", .item_end = "\n", .list_end = "\n",
	.para = "", .para_end = "\n\n", .warn = "**", .warn_end = "**",
	.table = "", .head = "| ", .head_sep = " | ", .head_end = " |\n",
	.row = "| ", .cell_sep = " | ", .row_end = " |\n", .table_end = "\n",
	.br = "; ",
};

const struct ev_markup ev_markup_html = {
	.text = ev_xml,
	.h2 = "<h2>", .h2_end = "</h2>\n",
	.list = "<ul>\n", .item = "<li>", .item_end = "</li>\n", .list_end = "</ul>\n",
	.para = "<p>", .para_end = "</p>\n", .warn = "<strong class=\"warn\">", .warn_end = "</strong>",
	.table = "<table>\n", .head = "<tr><th>", .head_sep = "</th><th>", .head_end = "</th></tr>\n",
	.row = "<tr><td>", .cell_sep = "</td><td>", .row_end = "</td></tr>\n", .table_end = "</table>\n",
	.br = "<br>",
	.html = true,
};

void ev_table_head(const struct ev_markup *m, struct buf *b, const char *id,
		   const char *const *cols)
{
	if (m->html && id)
		buf_addf(b, "<table id=\"%s\">\n", id);
	else
		buf_adds(b, m->table);
	buf_adds(b, m->head);
	for (size_t i = 0; cols[i]; i++)
		buf_addf(b, "%s%s", i ? m->head_sep : "", cols[i]);
	buf_adds(b, m->head_end);
	if (!m->html) {
		buf_adds(b, "|");
		for (size_t i = 0; cols[i]; i++)
			buf_adds(b, "---|");
		buf_adds(b, "\n");
	}
}

void ev_section_objectives(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	static const char *const names[] = { "rto", "rpo" };
	struct buf w;
	bool any = false;

	buf_init(&w, 1024);
	for (size_t i = 0; i < 2; i++) {
		buf_reset(&w);
		if (!report_objective_words(ev->doc, names[i], &w))
			continue;
		if (!any)
			buf_addf(b, "%sObjectives%s%s", m->h2, m->h2_end, m->list);
		any = true;
		if (m->html)
			buf_addf(b, "<li id=\"objective-%s\">", names[i]);
		else
			buf_adds(b, m->item);
		m->text(b, w.data);
		buf_adds(b, m->item_end);
	}
	if (any)
		buf_adds(b, m->list_end);
	buf_release(&w);
}

void ev_section_variables(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	static const char *const cols[] = { "name", "value", NULL };
	const cJSON *v, *vars = cJSON_GetObjectItemCaseSensitive(ev->doc, "vars");

	if (!cJSON_GetArraySize(vars))
		return;
	buf_addf(b, "%sVariables%s", m->h2, m->h2_end);
	ev_table_head(m, b, "vars", cols);
	cJSON_ArrayForEach(v, vars) {
		buf_adds(b, m->row);
		m->text(b, v->string);
		buf_adds(b, m->cell_sep);
		m->text(b, cJSON_IsString(v) ? v->valuestring : "");
		buf_adds(b, m->row_end);
	}
	buf_addf(b, "%s%sSecret values are shown as ", m->table_end, m->para);
	m->text(b, "***");
	buf_addf(b, ": they are never journaled.%s", m->para_end);
}

void ev_section_notes(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	const cJSON *n, *all = cJSON_GetObjectItemCaseSensitive(ev->doc, "notes");

	if (!cJSON_GetArraySize(all))
		return;
	buf_addf(b, "%sNotes%s%s", m->h2, m->h2_end, m->list);
	cJSON_ArrayForEach(n, all) {
		buf_adds(b, m->item);
		m->text(b, ev_str(n, "at"));
		buf_adds(b, ", ");
		m->text(b, ev_str(n, "actor"));
		if (ev_str(n, "step_id")) {
			buf_adds(b, " (step ");
			m->text(b, ev_str(n, "step_id"));
			buf_adds(b, ")");
		}
		buf_adds(b, ": ");
		m->text(b, ev_str(n, "text"));
		buf_adds(b, m->item_end);
	}
	buf_adds(b, m->list_end);
}

/* Dual control: each request, approval and refusal, with who and how. */
void ev_section_approvals(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	const cJSON *a, *all = cJSON_GetObjectItemCaseSensitive(ev->doc, "approvals");

	if (!cJSON_GetArraySize(all))
		return;
	buf_addf(b, "%sApprovals (dual control)%s%s", m->h2, m->h2_end, m->list);
	cJSON_ArrayForEach(a, all) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(a, "payload");
		const char *type = ev_str(a, "type"), *via = ev_str(p, "via"), *why = ev_str(p, "reason");
		const char *step = ev_str(p, "step_id");
		type = type ? type : "";
		buf_adds(b, m->item);
		m->text(b, ev_str(a, "at"));
		buf_adds(b, ", step ");
		m->text(b, step ? step : "?");
		buf_adds(b, ": ");
		buf_adds(b, !strcmp(type, "approval_request") ? "requested by " :
			    !strcmp(type, "approval") ? "approved by " : "refused, from ");
		m->text(b, ev_str(a, "actor"));
		if (via && *via) {
			buf_adds(b, " (");
			m->text(b, via);
			buf_adds(b, ")");
		}
		if (why) {
			buf_adds(b, ": ");
			m->text(b, why);
		}
		buf_adds(b, m->item_end);
	}
	buf_adds(b, m->list_end);
}

/* Probes, once the run polls them: a row each, with its state changes. */
void ev_section_probes(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	static const char *const cols[] = { "probe", "kind", "every", "samples", "state changes", NULL };
	const cJSON *p, *all = cJSON_GetObjectItemCaseSensitive(ev->doc, "probes");

	if (!cJSON_GetArraySize(all))
		return;
	buf_addf(b, "%sProbes%s", m->h2, m->h2_end);
	ev_table_head(m, b, "probes", cols);
	cJSON_ArrayForEach(p, all) {
		const cJSON *st;
		buf_adds(b, m->row);
		m->text(b, ev_str(p, "name"));
		buf_adds(b, m->cell_sep);
		m->text(b, ev_str(p, "kind"));
		buf_adds(b, m->cell_sep);
		ev_duration(b, ev_int(p, "interval_ms", -1));
		buf_addf(b, "%s%lld%s", m->cell_sep, (long long)ev_int(p, "samples", 0), m->cell_sep);
		cJSON_ArrayForEach(st, cJSON_GetObjectItemCaseSensitive(p, "states")) {
			m->text(b, ev_str(st, "state"));
			buf_adds(b, " at ");
			m->text(b, ev_str(st, "at"));
			buf_adds(b, st->next ? m->br : "");
		}
		buf_adds(b, m->row_end);
	}
	buf_adds(b, m->table_end);
}

void ev_section_clock(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(ev->doc, "clock"), *j;

	buf_addf(b, "%sClock%s%sTimes are the wall clock (", m->h2, m->h2_end, m->para);
	m->text(b, ev_str(c, "wall"));
	buf_adds(b, "); durations come from ");
	m->text(b, ev_str(c, "monotonic"));
	buf_adds(b, ": ");
	m->text(b, ev_str(c, "durations"));
	buf_addf(b, ". The timeline is drawn on the same clock.%s", m->para_end);
	cJSON_ArrayForEach(j, cJSON_GetObjectItemCaseSensitive(c, "wall_jumps")) {
		int64_t jump = ev_int(j, "jump_ms", 0);
		buf_addf(b, "%s%sThe wall clock jumped %s by ", m->para, m->warn,
			 jump < 0 ? "backwards" : "forwards");
		ev_duration(b, jump < 0 ? -jump : jump);
		buf_addf(b, "%s before event %lld (", m->warn_end, (long long)ev_int(j, "seq", 0));
		m->text(b, ev_str(j, "at"));
		buf_addf(b, "): no duration is computed across it.%s", m->para_end);
	}
}

static void step_row(const struct ev_markup *m, const cJSON *s, struct buf *b)
{
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(s, "confirmed_by");
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "closed");
	const char *st = ev_str(s, "status") ? ev_str(s, "status") : "";
	long long n = (long long)ev_int(s, "index", 0) + 1;

	if (m->html)
		buf_addf(b, "<tr id=\"step-%lld\"><td>", n);
	else
		buf_adds(b, m->row);
	buf_addf(b, "%lld%s", n, m->cell_sep);
	m->text(b, ev_str(s, "title") ? ev_str(s, "title") : ev_str(s, "id"));
	if (m->html) {
		buf_adds(b, "</td><td class=\"st-");
		m->text(b, st);
		buf_adds(b, "\">");
	} else {
		buf_adds(b, m->cell_sep);
	}
	m->text(b, st);
	buf_adds(b, m->cell_sep);
	m->text(b, ev_str(s, "started_at") ? ev_str(s, "started_at") : "\u2014");
	buf_adds(b, m->cell_sep);
	ev_duration(b, ev_int(s, "duration_ms", -1));
	buf_addf(b, "%s%lld%s", m->cell_sep, (long long)ev_int(s, "attempts", 0), m->cell_sep);
	if (ev_str(conf, "actor")) {
		m->text(b, ev_str(conf, "actor"));
		buf_adds(b, " (");
		m->text(b, ev_str(conf, "how"));
		buf_adds(b, ")");
	}
	buf_adds(b, m->cell_sep);
	if (cJSON_IsObject(c)) {
		m->text(b, ev_str(c, "by"));
		buf_adds(b, ": ");
		m->text(b, ev_str(c, "text"));
	} else if (ev_str(s, "summary")) {
		m->text(b, ev_str(s, "summary"));
	}
	buf_adds(b, m->row_end);
}

void ev_section_steps(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	static const char *const cols[] = { "#", "step", "status", "started", "duration",
					    "attempts", "confirmed by", "result, reason or note",
					    NULL };
	const cJSON *s;

	buf_addf(b, "%sSteps%s", m->h2, m->h2_end);
	ev_table_head(m, b, "steps", cols);
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps"))
		step_row(m, s, b);
	buf_addf(b, "%s%sDurations are each step's last attempt, on the monotonic clock.%s",
		 m->table_end, m->para, m->para_end);
}
