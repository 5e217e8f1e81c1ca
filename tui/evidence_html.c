/* evidence_html.c: report.html — one self-contained page (no network:
 * its Content-Security-Policy allows nothing to be fetched): the run at
 * a glance, the SVG timeline (tui/evidence_svg.c), objectives, operators
 * and handovers, variables, the steps, what ran where, picks and
 * interruptions, notes, probes, the clock, and each
 * output stream collapsible. Printed, every output is opened and a run in
 * progress says so at the top of every page. */
#include <stdio.h>
#include <string.h>

#include "state/report.h"
#include "tui/evidence.h"
#include "util/sha256.h"

#define HTML_OUTPUTS_MAX 256

static const char style[] =
	"body{font:14px/1.45 'DejaVu Sans',sans-serif;color:#111;background:#fff;"
	"margin:0 auto;max-width:1100px;padding:0 18px 40px}\n"
	"h1{font-size:22px;margin:18px 0 8px}h2{font-size:17px;margin:26px 0 8px;"
	"border-bottom:1px solid #ccc}\n"
	"table{border-collapse:collapse;margin:4px 0}td,th{border:1px solid #ccc;"
	"padding:3px 8px;text-align:left;vertical-align:top}th{background:#f2f2f2}\n"
	"tr{break-inside:avoid}code,pre{font-family:'DejaVu Sans Mono',monospace;font-size:12px}\n"
	"pre{background:#f7f7f7;border:1px solid #ddd;padding:6px;white-space:pre-wrap;"
	"word-break:break-all;margin:4px 0}\n"
	".live{background:#fff3cd;border:2px solid #b8860b;padding:6px 10px;font-weight:bold}\n"
	".st-ok{color:#1a7f37}.st-failed,.st-timeout{color:#c62828;font-weight:bold}"
	".st-interrupted,.st-cancelled{color:#6a1b9a}\n"
	".warn{color:#c62828;font-weight:bold}tr.member td{color:#444;font-size:13px}\n"
	"svg{width:100%;height:auto;border:1px solid #ddd}\n"
	"svg text{font-family:'DejaVu Sans',sans-serif;font-size:11px;fill:#222}\n"
	"svg .tick{font-size:10px;fill:#666;text-anchor:middle}svg .grid{stroke:#e4e4e4}\n"
	"svg .band{fill:#fafafa}svg .note{fill:#777;font-style:italic}\n"
	"svg .bar{stroke:#0003}.s-ok{fill:#2e9e4f}.s-failed{fill:#d32f2f}.s-timeout{fill:#ef6c00}"
	".s-cancelled{fill:#9e9e9e}.s-interrupted{fill:#8e24aa}"
	".s-running{fill:#1e88e5;fill-opacity:.5;stroke-dasharray:3 2}\n"
	".p-ok{fill:#81c784}.p-warn{fill:#ffb74d}.p-fail{fill:#e57373}.p-unknown{fill:#bdbdbd}\n"
	"svg .handover{stroke:#1565c0;stroke-dasharray:4 3}svg .rto{stroke:#c62828;stroke-width:2}\n"
	"svg .marker{font-size:10px;fill:#1565c0}svg .rto-label{fill:#c62828;text-anchor:end}\n"
	"details{margin:4px 0}summary{cursor:pointer}\n"
	"footer{margin-top:30px;color:#555;font-size:12px}\n"
	"@media print{body{max-width:none;padding:0}.live{position:fixed;top:0;left:0;right:0}"
	".live+*{margin-top:56px}details>summary{list-style:none}a{color:inherit}"
	"h2{break-after:avoid}svg{break-inside:avoid}}\n"
	"@page{margin:14mm}\n";

/* Printing opens every output: a closed <details> prints as its summary. */
static const char script[] =
	"addEventListener('beforeprint',function(){document.querySelectorAll('details')"
	".forEach(function(d){d.open=true})});";

static void fact(struct buf *b, const char *name, const char *value)
{
	buf_addf(b, "<tr><th>%s</th><td>", name);
	ev_xml(b, value ? value : "\u2014");
	buf_adds(b, "</td></tr>\n");
}

static void live_banner(const struct evidence *ev, struct buf *b)
{
	if (!ev->live)
		return;
	buf_adds(b, "<div class=\"live\" id=\"in-progress\">");
	struct buf s;
	buf_init(&s, 1024);
	ev_live_sentence(&s, ev);
	ev_xml(b, s.data);
	buf_release(&s);
	buf_adds(b, "</div>\n");
}

static void facts(const struct evidence *ev, struct buf *b)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run"), *op;
	const cJSON *jumps = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ev->doc, "clock"), "wall_jumps");
	struct buf v;

	buf_init(&v, 4096);
	buf_adds(b, "<table class=\"facts\">\n");
	buf_addf(&v, "%lld", (long long)ev->run_id);
	fact(b, "Run", v.data);
	fact(b, "Runbook", ev_str(run, "runbook"));
	fact(b, "Runbook SHA-256", ev_str(run, "runbook_sha256"));
	fact(b, "Mode", ev_str(run, "mode"));
	buf_adds(b, "<tr><th>Outcome</th><td class=\"st-");
	ev_xml(b, ev->live ? "running" : ev_str(run, "outcome"));
	buf_adds(b, "\">");
	ev_xml(b, ev->live ? "in progress" : ev_str(run, "outcome"));
	buf_adds(b, "</td></tr>\n");
	fact(b, "Started", ev_str(run, "started_at"));
	fact(b, "Ended", ev_str(run, "ended_at"));
	buf_reset(&v);
	ev_duration(&v, ev_int(run, "elapsed_ms", -1));
	fact(b, "Elapsed", v.data);
	buf_reset(&v);
	cJSON_ArrayForEach(op, cJSON_GetObjectItemCaseSensitive(ev->doc, "operators"))
		if (cJSON_IsString(op))
			buf_addf(&v, "%s%s", v.len ? ", " : "", op->valuestring);
	fact(b, "Operators", v.data);
	fact(b, "Host", ev_str(run, "host"));
	buf_reset(&v);
	ev_head(&v, ev);
	fact(b, "Journal head", v.data);
	buf_addf(b, "<tr><th>Clock</th><td%s>durations from the monotonic clock; %s</td></tr>\n",
		 cJSON_GetArraySize(jumps) ? " class=\"warn\"" : "",
		 cJSON_GetArraySize(jumps) ? "the wall clock JUMPED during the run (see Clock)"
					   : "no wall-clock jump during the run");
	buf_adds(b, "</table>\n");
	buf_release(&v);
}

static void sessions(const struct evidence *ev, struct buf *b)
{
	const cJSON *s;

	buf_adds(b, "<h2>Operators and handovers</h2>\n<table id=\"sessions\"><tr><th>at</th>"
		    "<th>what</th><th>operator</th><th>OS user</th><th>event</th></tr>\n");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "sessions")) {
		const char *kind = ev_str(s, "kind") ? ev_str(s, "kind") : "";
		buf_adds(b, "<tr><td>");
		ev_xml(b, ev_str(s, "at"));
		buf_addf(b, "</td><td>%s</td><td>", strcmp(kind, "resume") ? "started" :
			 ev_bool(s, "handover") ? "<strong>handover</strong>" : "resumed");
		ev_xml(b, ev_str(s, "operator"));
		buf_adds(b, "</td><td>");
		ev_xml(b, ev_str(s, "os_user"));
		buf_addf(b, "</td><td>%lld</td></tr>\n", (long long)ev_int(s, "seq", 0));
	}
	buf_adds(b, "</table>\n");
}

static void outputs(const struct evidence *ev, struct buf *b)
{
	const cJSON *s;

	if (!ev->n_outs)
		return;
	buf_adds(b, "<h2>Output</h2>\n<p>Each stream as the journal stored it (empty ones are "
		    "files in the bundle only).</p>\n");
	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps")) {
		const struct evidence_output *o[HTML_OUTPUTS_MAX];
		size_t n = 0;
		for (size_t i = 0; i < ev->n_outs && n < HTML_OUTPUTS_MAX; i++)
			if (ev->outs[i].step == ev_int(s, "index", -1) && ev->outs[i].bytes > 0)
				o[n++] = &ev->outs[i];
		for (size_t i = 0; i < n; i++) {
			buf_adds(b, "<details class=\"output\"><summary>");
			ev_step_label(b, s, false);
			buf_addf(b, " \u2014 %s %d, %s", o[i]->attempt ? "attempt" : "background",
				 o[i]->attempt, o[i]->stream == JOURNAL_STDERR ? "stderr" : "stdout");
			if (o[i]->label[0]) {
				buf_adds(b, " of ");
				ev_xml(b, o[i]->label);
			}
			buf_addf(b, " (%lld bytes stored; file <code>", (long long)o[i]->bytes);
			ev_xml(b, o[i]->path);
			buf_addf(b, "</code>%s)</summary>\n<pre>", o[i]->cut ? ", the last 64 KiB shown" : "");
			ev_xml_block(b, o[i]->excerpt);
			buf_adds(b, "</pre></details>\n");
		}
	}
}

void evidence_html(const struct evidence *ev, struct buf *b)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run");
	char hash[SHA256_BASE64_LEN + 1];
	struct buf head;

	sha256_base64(script, strlen(script), hash);
	buf_adds(b, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		    "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
		    "style-src 'unsafe-inline'; script-src 'sha256-");
	buf_adds(b, hash);
	buf_adds(b, "'\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
		    "<title>");
	buf_addf(b, "qrh run %lld: ", (long long)ev->run_id);
	ev_xml(b, ev_str(run, "title"));
	buf_adds(b, ev->live ? " (IN PROGRESS)" : "");
	buf_addf(b, "</title>\n<style>\n%s</style>\n<script>%s</script>\n</head>\n<body>\n",
		 style, script);
	live_banner(ev, b);
	buf_adds(b, "<h1>Evidence: ");
	ev_xml(b, ev_str(run, "title"));
	buf_adds(b, "</h1>\n");
	facts(ev, b);
	buf_adds(b, "<h2>Timeline</h2>\n");
	evidence_svg(ev, b);
	ev_section_objectives(&ev_markup_html, ev, b);
	sessions(ev, b);
	ev_section_variables(&ev_markup_html, ev, b);
	ev_section_steps(&ev_markup_html, ev, b);
	ev_section_actions(&ev_markup_html, ev, b);
	ev_section_resumes(&ev_markup_html, ev, b);
	ev_section_notes(&ev_markup_html, ev, b);
	ev_section_approvals(&ev_markup_html, ev, b);
	ev_section_probes(&ev_markup_html, ev, b);
	ev_section_clock(&ev_markup_html, ev, b);
	outputs(ev, b);
	buf_init(&head, 256);
	ev_head(&head, ev);
	buf_adds(b, "<footer>Journal head ");
	ev_xml(b, head.data);
	buf_addf(b, "; written by qrh %s from the journal alone. Check it with qrh verify "
		 "--head RUN:SEQ:HASH and the bundle with qrh verify-bundle.</footer>\n"
		 "</body>\n</html>\n", QRH_VERSION);
	buf_release(&head);
}
