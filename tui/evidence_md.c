/* evidence_md.c: evidence.md, ready to paste into an incident document —
 * the run at a glance, operators and handovers, objectives, variables,
 * the timeline, what ran where, skips and done-by-hand reasons, picks and
 * interruptions, notes, probes and the
 * tail of each step's output. Everything from the document
 * (tui/evidence.h). */
#include <stdio.h>
#include <string.h>

#include "state/report.h"
#include "tui/evidence.h"

#define MD_OUTPUTS_MAX 64

static void row(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, "| %s | ", name);
	ev_md(b, value ? value : "\u2014");
	buf_adds(b, " |\n");
}

static void header(const struct evidence *ev, struct buf *b)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run");
	const cJSON *clock = cJSON_GetObjectItemCaseSensitive(ev->doc, "clock");
	struct buf v;
	char id[32];

	buf_adds(b, "# Evidence: ");
	ev_md(b, ev_str(run, "title"));
	buf_adds(b, "\n\n");
	if (ev->live) {
		buf_adds(b, "> **");
		ev_live_sentence(b, ev);
		buf_adds(b, "**\n\n");
	}
	buf_adds(b, "| | |\n|---|---|\n");
	snprintf(id, sizeof id, "%lld", (long long)ev->run_id);
	row(b, "Run", id);
	row(b, "Title", ev_str(run, "title"));
	row(b, "Runbook", ev_str(run, "runbook"));
	row(b, "Runbook SHA-256", ev_str(run, "runbook_sha256"));
	row(b, "Mode", ev_str(run, "mode"));
	row(b, "Outcome", ev->live ? "in progress" : ev_str(run, "outcome"));
	row(b, "Started", ev_str(run, "started_at"));
	row(b, "Ended", ev_str(run, "ended_at"));
	buf_init(&v, 4096);
	ev_duration(&v, ev_int(run, "elapsed_ms", -1));
	buf_adds(b, "| Elapsed | ");
	buf_add(b, v.data, v.len);
	buf_adds(b, " |\n");
	buf_reset(&v);
	const cJSON *op;
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(ev->doc, "operators"))
		if (cJSON_IsString(op))
			buf_addf(&v, "%s%s", v.len ? ", " : "", op->valuestring);
	row(b, "Operators", v.data);
	row(b, "Host", ev_str(run, "host"));
	buf_reset(&v);
	ev_head(&v, ev);
	row(b, "Journal head (run:seq:hash)", v.data);
	int jumps = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(clock, "wall_jumps"));
	buf_reset(&v);
	buf_addf(&v, "durations from the monotonic clock; %s", jumps ?
		 "the wall clock JUMPED during the run (see Clock below)" :
		 "no wall-clock jump during the run");
	row(b, "Clock", v.data);
	buf_release(&v);
	buf_adds(b, "\n");
}

static void handovers(const struct evidence *ev, struct buf *b)
{
	const cJSON *h, *all = cJSON_GetObjectItemCaseSensitive(ev->doc, "sessions");

	buf_adds(b, "## Operators and handovers\n\n");
	cJSON_ArrayForEach(h, all) {
		bool resume = !strcmp(ev_str(h, "kind") ? ev_str(h, "kind") : "", "resume");
		buf_adds(b, "- ");
		ev_md(b, ev_str(h, "at"));
		buf_adds(b, !resume ? ": started by " : ev_bool(h, "handover") ?
			 ": **handover** to " : ": resumed by ");
		ev_md(b, ev_str(h, "operator"));
		buf_adds(b, " (OS user ");
		ev_md(b, ev_str(h, "os_user"));
		buf_addf(b, ", event %lld)\n", (long long)ev_int(h, "seq", 0));
	}
	buf_adds(b, "\n");
}

static void closed(const struct evidence *ev, struct buf *b)
{
	const cJSON *s;
	bool any = false;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps")) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(s, "closed");
		if (!cJSON_IsObject(c))
			continue;
		if (!any)
			buf_adds(b, "## Skipped and done by hand\n\n");
		any = true;
		buf_adds(b, "- ");
		ev_step_label(b, s, true);
		buf_adds(b, !strcmp(ev_str(c, "how") ? ev_str(c, "how") : "", "skipped")
			 ? ": skipped by " : ": done by hand by ");
		ev_md(b, ev_str(c, "by"));
		buf_adds(b, ": ");
		ev_md(b, ev_str(c, "text"));
		buf_adds(b, "\n");
	}
	if (any)
		buf_adds(b, "\n");
}

static void excerpts(const struct evidence *ev, struct buf *b)
{
	const cJSON *s;
	bool any = false;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps")) {
		const struct evidence_output *o[MD_OUTPUTS_MAX];
		size_t n = ev_step_outputs(ev, ev_int(s, "index", -1),
					   (int)ev_int(s, "attempts", 0), o, MD_OUTPUTS_MAX);
		for (size_t i = 0; i < n; i++) {
			const char *tail = ev_excerpt_short(o[i]->excerpt);
			if (!*tail)
				continue;
			if (!any)
				buf_adds(b, "## Output excerpts\n\n");
			any = true;
			buf_adds(b, "### ");
			ev_step_label(b, s, true);
			buf_adds(b, ": ");
			ev_md(b, ev_str(s, "status"));
			buf_addf(b, ", %s", o[i]->stream == JOURNAL_STDERR ? "stderr" : "stdout");
			if (o[i]->label[0]) {
				buf_adds(b, " of ");
				ev_md(b, o[i]->label);
			}
			buf_addf(b, " (%s`%s`)\n\n", tail != o[i]->excerpt || o[i]->cut ?
				 "the last lines; all of it in " : "", o[i]->path);
			ev_md_fence(b, tail);
			buf_adds(b, "text\n");
			buf_adds(b, tail);
			if (tail[strlen(tail) - 1] != '\n')
				buf_addc(b, '\n');
			ev_md_fence(b, tail);
			buf_adds(b, "\n\n");
		}
	}
}

void evidence_md(const struct evidence *ev, struct buf *b)
{
	header(ev, b);
	handovers(ev, b);
	ev_section_objectives(&ev_markup_md, ev, b);
	ev_section_variables(&ev_markup_md, ev, b);
	ev_section_steps(&ev_markup_md, ev, b);
	ev_section_actions(&ev_markup_md, ev, b);
	closed(ev, b);
	ev_section_resumes(&ev_markup_md, ev, b);
	ev_section_notes(&ev_markup_md, ev, b);
	ev_section_approvals(&ev_markup_md, ev, b);
	ev_section_probes(&ev_markup_md, ev, b);
	ev_section_clock(&ev_markup_md, ev, b);
	excerpts(ev, b);
	if (ev->live) {
		buf_adds(b, "---\n\n**");
		ev_live_sentence(b, ev);
		buf_adds(b, "**\n");
	}
}
