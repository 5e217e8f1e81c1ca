/* evidence_svg.c: the timeline of report.html — one row per step with a
 * bar per attempt, one row per probe with its samples' states, the
 * handovers, and the RTO budget line.
 *
 * The horizontal axis is the run's own clock: each attempt starts at its
 * "at_ms" and lasts its "duration_ms", both monotonic (state/report.h), so
 * a wall-clock jump cannot stretch or shift a bar. Probe samples carry
 * wall times only and are placed by them. A bar is exactly duration x
 * scale wide (SVG_MIN_BAR at least, so an instant step stays visible);
 * the scale, the plot's left edge and the minimum are on the <svg> as
 * data-ms-scale, data-plot-x and data-min-bar, and each bar carries
 * data-step, data-attempt and data-duration-ms, so a test can check the
 * drawing against the journal. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/evidence.h"
#include "tui/sanitize.h"
#include "util/clock.h"

#define SVG_W 1000
#define SVG_LABEL_W 250
#define SVG_PAD 20
#define SVG_AXIS_H 34
#define SVG_ROW_H 24
#define SVG_PROBE_H 20
#define SVG_MIN_BAR 2.0
#define SVG_LABEL_CHARS 34

struct axis {
	double scale; /* user units per ms */
	int64_t total_ms;
	int64_t start_wall_ms;
	double plot_w;
};

/* RFC 3339 UTC with milliseconds, as the document writes it. */
static int64_t wall_of(const char *t)
{
	struct tm tm = { 0 };
	int ms = 0;

	if (!t || sscanf(t, "%4d-%2d-%2dT%2d:%2d:%2d.%3dZ", &tm.tm_year, &tm.tm_mon,
			 &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &ms) != 7)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm) * 1000 + ms;
}

/* Where the RTO budget runs out on the run's clock, or -1. */
static int64_t rto_line_ms(const struct evidence *ev, const struct axis *a)
{
	const cJSON *rto = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(ev->doc, "objectives"), "rto");
	int64_t budget = rto ? ev_int(rto, "budget_ms", -1)
			     : ev_int(cJSON_GetObjectItemCaseSensitive(ev->doc, "budgets"), "rto_ms", -1);
	int64_t from = 0;

	if (budget < 0)
		return -1;
	if (rto && wall_of(ev_str(rto, "started_at")) >= 0)
		from = wall_of(ev_str(rto, "started_at")) - a->start_wall_ms;
	return from + budget;
}

static int64_t extent_ms(const struct evidence *ev, const struct axis *a)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run"), *s, *t, *p, *x;
	int64_t end = ev_int(run, "elapsed_ms", 0);

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps"))
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "timings")) {
			int64_t e = ev_int(t, "at_ms", 0) + ev_int(t, "duration_ms", 0);
			end = e > end ? e : end;
		}
	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ev->doc, "probes"))
		cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "states")) {
			int64_t e = wall_of(ev_str(x, "at")) - a->start_wall_ms;
			end = e > end ? e : end;
		}
	/* a budget far beyond the run would squeeze every bar to a sliver:
	 * then the line is drawn as an arrow at the right edge instead */
	int64_t rto = rto_line_ms(ev, a);
	if (rto > end && rto <= 3 * end)
		end = rto;
	return end > 0 ? end : 1000;
}

/* 1, 2 or 5 times a power of ten, for at most 10 ticks. */
static int64_t tick_ms(int64_t total)
{
	static const int64_t steps[] = { 1, 2, 5 };
	for (int64_t p = 1;; p *= 10)
		for (size_t i = 0; i < 3; i++)
			if (total / (steps[i] * p) <= 10)
				return steps[i] * p;
}

static void tick_label(struct buf *b, int64_t ms, int64_t step)
{
	if (step < 1000)
		buf_addf(b, "%lld ms", (long long)ms);
	else if (ms < 60000)
		buf_addf(b, "%llds", (long long)(ms / 1000));
	else
		buf_addf(b, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
}

static double x_of(const struct axis *a, int64_t ms)
{
	return SVG_LABEL_W + (double)ms * a->scale;
}

static void axis_draw(struct buf *b, const struct axis *a, int height)
{
	int64_t step = tick_ms(a->total_ms);

	for (int64_t ms = 0; ms <= a->total_ms; ms += step) {
		double x = x_of(a, ms);
		buf_addf(b, "<line class=\"grid\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%d\"/>"
			 "<text class=\"tick\" x=\"%.2f\" y=\"%d\">", x, SVG_AXIS_H - 6, x, height,
			 x, SVG_AXIS_H - 10);
		tick_label(b, ms, step);
		buf_adds(b, "</text>\n");
	}
}

/* A label clipped to what fits the label column. */
static void row_label(struct buf *b, const char *text, double y)
{
	char *clean = sanitize_string(text, strlen(text));
	size_t n = 0, chars = 0;

	while (clean[n] && chars++ < SVG_LABEL_CHARS) {
		n++;
		while (((unsigned char)clean[n] & 0xC0) == 0x80)
			n++;
	}
	bool more = clean[n] != '\0';
	clean[n] = '\0';
	buf_addf(b, "<text class=\"label\" x=\"6\" y=\"%.1f\">", y);
	ev_xml_block(b, clean);
	buf_adds(b, more ? "\u2026</text>" : "</text>");
	free(clean);
}

static void bars(struct buf *b, const struct axis *a, const cJSON *s, int64_t elapsed,
		 double y)
{
	const cJSON *t;

	cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "timings")) {
		int64_t at = ev_int(t, "at_ms", 0), dur = ev_int(t, "duration_ms", -1);
		const char *st = ev_str(t, "status") ? ev_str(t, "status") : "unknown";
		bool open = dur < 0;
		double w = (double)(open ? elapsed - at : dur) * a->scale;
		if (w < SVG_MIN_BAR)
			w = SVG_MIN_BAR;
		buf_addf(b, "<rect class=\"bar s-%s\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%d\" "
			 "data-step=\"%lld\" data-attempt=\"%lld\" data-at-ms=\"%lld\"",
			 open ? "running" : st, x_of(a, at), y + 4, w, SVG_ROW_H - 8,
			 (long long)ev_int(s, "index", 0) + 1, (long long)ev_int(t, "attempt", 0),
			 (long long)at);
		if (!open)
			buf_addf(b, " data-duration-ms=\"%lld\"", (long long)dur);
		buf_addf(b, "><title>step %lld, attempt %lld: ", (long long)ev_int(s, "index", 0) + 1,
			 (long long)ev_int(t, "attempt", 0));
		ev_xml(b, st);
		buf_adds(b, ", ");
		if (open)
			buf_adds(b, "still running");
		else
			ev_duration(b, dur);
		buf_adds(b, "</title></rect>\n");
	}
}

static double steps_draw(struct buf *b, const struct evidence *ev, const struct axis *a,
			 double y)
{
	const cJSON *s;
	int64_t elapsed = ev_int(cJSON_GetObjectItemCaseSensitive(ev->doc, "run"), "elapsed_ms", 0);
	int k = 0;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps")) {
		struct buf label;
		buf_init(&label, 4096);
		buf_addf(&label, "%lld %s", (long long)ev_int(s, "index", 0) + 1,
			 ev_str(s, "title") ? ev_str(s, "title") : ev_str(s, "id") ? ev_str(s, "id") : "");
		if (k++ % 2)
			buf_addf(b, "<rect class=\"band\" x=\"0\" y=\"%.1f\" width=\"%d\" height=\"%d\"/>",
				 y, SVG_W, SVG_ROW_H);
		row_label(b, label.data, y + SVG_ROW_H - 8);
		const char *st = ev_str(s, "status");
		if (st && (!strcmp(st, "skipped") || !strcmp(st, "done_by_hand") || !strcmp(st, "pending")))
			buf_addf(b, "<text class=\"note\" x=\"%d\" y=\"%.1f\">%s</text>",
				 SVG_LABEL_W + 4, y + SVG_ROW_H - 8,
				 !strcmp(st, "pending") ? "not run" : !strcmp(st, "skipped") ? "skipped" : "done by hand");
		buf_adds(b, "\n");
		bars(b, a, s, elapsed, y);
		buf_release(&label);
		y += SVG_ROW_H;
	}
	return y;
}

static double probes_draw(struct buf *b, const struct evidence *ev, const struct axis *a,
			  double y)
{
	const cJSON *p, *x;

	cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(ev->doc, "probes")) {
		struct buf label;
		buf_init(&label, 4096);
		buf_addf(&label, "probe %s", ev_str(p, "name") ? ev_str(p, "name") : "?");
		row_label(b, label.data, y + SVG_PROBE_H - 6);
		buf_release(&label);
		buf_adds(b, "\n");
		/* a state lasts until the next one (or the end of the axis) */
		const cJSON *states = cJSON_GetObjectItemCaseSensitive(p, "states");
		cJSON_ArrayForEach(x, states) {
			int64_t from = wall_of(ev_str(x, "at")) - a->start_wall_ms;
			int64_t to = x->next ? wall_of(ev_str(x->next, "at")) - a->start_wall_ms : a->total_ms;
			const char *st = ev_str(x, "state") ? ev_str(x, "state") : "unknown";
			if (from < 0)
				continue;
			double w = (double)(to - from) * a->scale;
			buf_adds(b, "<rect class=\"probe p-");
			ev_xml(b, st);
			buf_addf(b, "\" x=\"%.3f\" y=\"%.1f\" width=\"%.3f\" height=\"%d\"><title>",
				 x_of(a, from), y + 5, w < 1 ? 1 : w, SVG_PROBE_H - 10);
			ev_xml(b, ev_str(p, "name"));
			buf_adds(b, ": ");
			ev_xml(b, st);
			if (ev_str(x, "value")) {
				buf_adds(b, " (");
				ev_xml(b, ev_str(x, "value"));
				buf_adds(b, ")");
			}
			buf_adds(b, " at ");
			ev_xml(b, ev_str(x, "at"));
			buf_adds(b, "</title></rect>\n");
		}
		y += SVG_PROBE_H;
	}
	return y;
}

static void markers(struct buf *b, const struct evidence *ev, const struct axis *a, double h)
{
	const cJSON *o;
	int64_t rto = rto_line_ms(ev, a);

	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(ev->doc, "handovers")) {
		double x = x_of(a, ev_int(o, "at_ms", 0));
		bool right = x > SVG_W - 160; /* near the edge: the label goes left */
		buf_addf(b, "<line class=\"handover\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%.1f\"/>"
			 "<text class=\"marker\"%s x=\"%.2f\" y=\"%.1f\">handover to ", x, SVG_AXIS_H, x, h,
			 right ? " text-anchor=\"end\"" : "", right ? x - 3 : x + 3, h - 4);
		ev_xml(b, ev_str(o, "to"));
		buf_adds(b, "</text>\n");
	}
	if (rto > a->total_ms) {
		char words[32];
		clock_duration_words(rto, words, sizeof words);
		buf_addf(b, "<text class=\"marker rto-label\" x=\"%d\" y=\"%d\" data-rto-ms=\"%lld\">"
			 "RTO budget at %s \u2192</text>\n", SVG_W - 4, SVG_AXIS_H + 10,
			 (long long)rto, words);
	} else if (rto >= 0) {
		double x = x_of(a, rto);
		buf_addf(b, "<line class=\"rto\" x1=\"%.2f\" y1=\"%d\" x2=\"%.2f\" y2=\"%.1f\" "
			 "data-rto-ms=\"%lld\"/><text class=\"marker rto-label\" x=\"%.2f\" y=\"%d\">"
			 "RTO budget</text>\n", x, SVG_AXIS_H - 4, x, h, (long long)rto, x - 3,
			 SVG_AXIS_H + 10);
	}
}

void evidence_svg(const struct evidence *ev, struct buf *b)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run");
	int rows = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev->doc, "steps"));
	int probes = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ev->doc, "probes"));
	double h = SVG_AXIS_H + rows * SVG_ROW_H + probes * SVG_PROBE_H + 8;
	struct axis a = { .start_wall_ms = wall_of(ev_str(run, "started_at")) };

	a.plot_w = SVG_W - SVG_LABEL_W - SVG_PAD;
	a.total_ms = extent_ms(ev, &a);
	a.scale = a.plot_w / (double)a.total_ms;
	buf_addf(b, "<svg id=\"timeline\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %.0f\" "
		 "role=\"img\" aria-label=\"timeline of the run's steps\" data-ms-scale=\"%.9g\" "
		 "data-plot-x=\"%d\" data-min-bar=\"%g\" data-total-ms=\"%lld\">\n",
		 SVG_W, h, a.scale, SVG_LABEL_W, SVG_MIN_BAR, (long long)a.total_ms);
	axis_draw(b, &a, (int)h);
	double y = steps_draw(b, ev, &a, SVG_AXIS_H);
	probes_draw(b, ev, &a, y);
	markers(b, ev, &a, h);
	buf_adds(b, "</svg>\n");
}
