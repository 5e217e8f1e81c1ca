/* The console's probe pane and the header's clocks.
 *
 * Probe pane: one row a probe — name, state, value shown, age of the last
 * sample, a sparkline of the last samples (oldest left). States are words
 * (ok, WARN, FAIL, ??: unknown, off: not polled now), so a monochrome
 * terminal tells them apart; FAIL is reversed, WARN bold, and with colour
 * green, yellow and red too. More probes than rows page on their own every
 * CONSOLE_PROBES_PAGE_MS, with "i-j/n" in the pane's title.
 *
 * Clocks (the header's second line): the RTO clock as elapsed of budget and
 * what is left, OVER once the budget is passed (reversed, and red with
 * colour), met or NOT MET once stopped; the RPO as measured, with rows
 * lost; a step waiting on a probe, with the time left. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "tui/console_ui.h"
#include "tui/probe_text.h"
#include "tui/sanitize.h"
#include "util/clock.h"

#define CONSOLE_PROBES_PAGE_MS 5000
#define PROBES_MAX 64

/* "02:13", "1:02:13". */
static void clock_text(int64_t ms, char *out, size_t n)
{
	int64_t s = ms < 0 ? 0 : ms / 1000;
	if (s >= 3600)
		snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600),
			 (long long)(s / 60 % 60), (long long)(s % 60));
	else
		snprintf(out, n, "%02lld:%02lld", (long long)(s / 60), (long long)(s % 60));
}

/* "00:05.3": a measured time, to the tenth. */
static void clock_text_tenths(int64_t ms, char out[64], size_t n)
{
	char whole[48];
	clock_text(ms, whole, sizeof whole);
	snprintf(out, n, "%s.%lld", whole, (long long)((ms < 0 ? 0 : ms) % 1000 / 100));
}

/* "850ms", "12s", "4m", "2h": a sample's age in three or four columns. */
static void age_text(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else if (ms < 1000)
		snprintf(out, n, "%llds", 0LL);
	else if (ms < 100000)
		snprintf(out, n, "%llds", (long long)(ms / 1000));
	else if (ms < 6000000)
		snprintf(out, n, "%lldm", (long long)(ms / 60000));
	else
		snprintf(out, n, "%lldh", (long long)(ms / 3600000));
}

static attr_t state_attr(const struct console *c, enum probe_state s)
{
	switch (s) {
	case PROBE_FAIL: return A_REVERSE | A_BOLD | (c->color ? COLOR_PAIR(2) : 0);
	case PROBE_WARN: return A_BOLD | (c->color ? COLOR_PAIR(3) : 0);
	case PROBE_OK: return c->color ? COLOR_PAIR(1) : A_NORMAL;
	default: return A_DIM;
	}
}

/* A probe the run stopped polling (until_step) says off: its state would
 * be stale. Once the run has ended, every probe shows how it ended. */
static bool stale(const struct console *c, const struct run_probe_view *v)
{
	return !v->polling && (!c->finished || !v->n_points);
}

static const char *state_word(const struct console *c, const struct run_probe_view *v)
{
	static const char *const words[] = { [PROBE_UNKNOWN] = "??", [PROBE_OK] = "ok",
					     [PROBE_WARN] = "WARN", [PROBE_FAIL] = "FAIL" };
	if (stale(c, v))
		return "off";
	return words[v->state];
}

/* One sample as a bar: its number scaled between lo and hi, or its state. */
static const char *spark_glyph(const struct console *c, const struct run_probe_point *pt,
			       double lo, double hi)
{
	static const char *const bars[] = { "▁", "▂", "▃", "▄", "▅", "▆", "▇", "█" };
	static const char *const ascii[] = { "_", ".", ",", "-", "=", "+", "*", "#" };
	const char *const *g = c->ascii ? ascii : bars;
	int level;
	if (pt->state == PROBE_UNKNOWN && !pt->has_number)
		return c->ascii ? "?" : "·";
	if (pt->has_number)
		level = hi > lo ? (int)((pt->number - lo) / (hi - lo) * 7 + 0.5) : 3;
	else
		level = pt->state == PROBE_FAIL ? 7 : pt->state == PROBE_WARN ? 4 : 0;
	return g[level < 0 ? 0 : level > 7 ? 7 : level];
}

static void draw_spark(const struct console *c, const struct run_probe_view *v, int y,
		       int x, int cols)
{
	size_t n = v->n_points < (size_t)cols ? v->n_points : (size_t)cols;
	size_t first = v->n_points - n;
	double lo = 0, hi = 0;
	bool any = false;
	for (size_t k = first; k < v->n_points; k++) {
		const struct run_probe_point *pt = &v->points[k];
		if (!pt->has_number)
			continue;
		lo = any && lo < pt->number ? lo : pt->number;
		hi = any && hi > pt->number ? hi : pt->number;
		any = true;
	}
	for (size_t k = first; k < v->n_points; k++) {
		const struct run_probe_point *pt = &v->points[k];
		attr_t a = c->color ? state_attr(c, pt->state) & ~(attr_t)A_REVERSE
				    : (pt->state == PROBE_FAIL ? A_BOLD : A_NORMAL);
		const char *g = spark_glyph(c, pt, lo, hi);
		attron(a);
		console_put(y, x + (int)(k - first), g, strlen(g), 1);
		attroff(a);
	}
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

static void draw_row(const struct console *c, const struct run_probe_view *v, int y,
		     const struct rect *r, int name_w)
{
	char age[16];
	int x = r->x + 1, right = r->x + r->w;
	console_fill(y, r->x, r->w);
	console_put_untrusted(y, x, v->name, name_w);
	x += name_w + 1;
	const char *w = state_word(c, v);
	attr_t a = stale(c, v) ? A_DIM : state_attr(c, v->state);
	attron(a);
	console_put(y, x, w, strlen(w), 4);
	attroff(a);
	x += 5;
	int rest = right - x - 4; /* the age takes 3 and a blank */
	int value_w = clampi(rest / 3 + 1, 3, 12);
	if (v->value[0])
		console_put_untrusted(y, x, v->value, value_w);
	x += value_w + 1;
	age_text(v->age_ms, age, sizeof age);
	console_put(y, x, age, strlen(age), 3);
	x += 4;
	if (right - x > 0)
		draw_spark(c, v, y, x, clampi(right - x, 0, RUN_PROBE_SPARK));
}

void console_draw_probes(struct console *c)
{
	const struct rect *r = &c->lay.probes;
	struct run_probe_view v[PROBES_MAX];
	size_t n = run_probes(c->run, v, PROBES_MAX);
	int rows = r->h - 1;
	char title[64] = "Probes";
	for (int k = 1; k < r->h; k++)
		console_fill(r->y + k, r->x, r->w);
	if (!n) {
		console_pane_title(c, r, title);
		console_put(r->y + 1, r->x + 1, "no probes", 9, r->w - 2);
		return;
	}
	size_t top = 0;
	if (rows > 0 && n > (size_t)rows) {
		/* more than fit: a page at a time, turned by the clock */
		size_t pages = (n + (size_t)rows - 1) / (size_t)rows;
		top = (size_t)(clock_mono_ns() / 1000000 / CONSOLE_PROBES_PAGE_MS % (int64_t)pages) *
		      (size_t)rows;
		snprintf(title, sizeof title, "Probes %zu-%zu/%zu", top + 1,
			 top + (size_t)rows < n ? top + (size_t)rows : n, n);
	}
	console_pane_title(c, r, title);
	int name_w = 4;
	for (size_t i = 0; i < n; i++)
		name_w = clampi((int)sanitize_width(v[i].name, strlen(v[i].name)), name_w,
				r->w >= 40 ? 16 : 10);
	for (int k = 0; k < rows && top + (size_t)k < n; k++)
		draw_row(c, &v[top + (size_t)k], r->y + 1 + k, r, name_w);
}

/* ---- the clocks ---- */

/* One part of the clocks line: its text and how it is drawn. */
struct clock_part {
	char text[160];
	attr_t attr;
};

static attr_t alarm_attr(const struct console *c)
{
	return A_REVERSE | A_BOLD | (c->color ? COLOR_PAIR(2) : 0);
}

static bool rto_part(struct console *c, struct clock_part *out)
{
	const struct run_fold *f = run_fold(c->run);
	struct rto_clock k;
	char a[64], b[24], d[24];
	objectives_rto_clock(f, clock_wall_ms(), clock_mono_ns(), &k);
	clock_text(k.budget_ms, b, sizeof b);
	clock_text(k.elapsed_ms, a, sizeof a);
	clock_text(k.over ? k.elapsed_ms - k.budget_ms : k.budget_ms - k.elapsed_ms, d, sizeof d);
	out->attr = A_BOLD;
	switch (k.phase) {
	case RTO_NONE:
		return false;
	case RTO_NOT_STARTED:
		out->attr = A_NORMAL;
		snprintf(out->text, sizeof out->text, "RTO %s not started",
			 k.budget_ms >= 0 ? b : "-");
		break;
	case RTO_RUNNING:
		if (k.budget_ms < 0)
			snprintf(out->text, sizeof out->text, "RTO %s running%s", a,
				 f->ended ? ", never stopped" : "");
		else if (!k.over)
			snprintf(out->text, sizeof out->text, "RTO %s of %s, %s left", a, b, d);
		else
			snprintf(out->text, sizeof out->text, "RTO %s of %s, OVER by %s%s", a, b, d,
				 f->ended ? ": NOT MET" : "");
		if (k.over || f->ended)
			out->attr = alarm_attr(c);
		break;
	case RTO_STOPPED:
		/* the measure to the tenth: "00:05 of 00:05: NOT MET" would read wrong */
		clock_text_tenths(k.elapsed_ms, a, sizeof a);
		if (k.budget_ms < 0)
			snprintf(out->text, sizeof out->text, "RTO %s (stopped)", a);
		else
			snprintf(out->text, sizeof out->text, "RTO %s of %s: %s", a, b,
				 k.met ? "met" : "NOT MET");
		out->attr = k.met == 0 ? alarm_attr(c) : A_NORMAL;
		break;
	}
	return true;
}

/* A step waiting on a probe, with its countdown. */
static bool wait_part(struct console *c, struct clock_part *out)
{
	struct run_probe_wait w;
	char left[24];
	if (!run_probe_waiting(c->run, &w))
		return false;
	clock_text(w.left_ms, left, sizeof left);
	snprintf(out->text, sizeof out->text, "wait %s:%s%s%s", w.probe,
		 probe_state_name(w.state), w.left_ms >= 0 ? " " : "", w.left_ms >= 0 ? left : "");
	out->attr = A_BOLD;
	return true;
}

static bool rpo_part(struct console *c, struct clock_part *out)
{
	struct fold_objectives o;
	char a[32], b[24];
	run_objectives(c->run, &o);
	if (o.rpo_budget_ms < 0 && !o.has_rpo_from)
		return false;
	clock_text(o.rpo_budget_ms, b, sizeof b);
	out->attr = A_NORMAL;
	if (o.rpo_window_ms == STEP_NONE && o.rpo_rows_lost == STEP_NONE) {
		snprintf(out->text, sizeof out->text, "RPO %s not measured",
			 o.rpo_budget_ms >= 0 ? b : "-");
		return true;
	}
	probe_text_ms(o.rpo_window_ms, a, sizeof a);
	int met = objectives_rpo_met(&o);
	struct buf t;
	buf_init(&t, sizeof out->text - 1);
	buf_addf(&t, "RPO %s of %s", a, o.rpo_budget_ms >= 0 ? b : "-");
	if (o.rpo_rows_lost != STEP_NONE)
		buf_addf(&t, ", %lld rows lost", (long long)o.rpo_rows_lost);
	if (met >= 0)
		buf_addf(&t, ": %s", met ? "met" : "NOT MET");
	snprintf(out->text, sizeof out->text, "%s", t.data);
	buf_release(&t);
	out->attr = met == 0 ? alarm_attr(c) : A_NORMAL;
	return true;
}

/* The RTO first (cut if it must be), then a wait, then the RPO: those of
 * them that fit whole. */
void console_draw_clocks(struct console *c, int y, int x, int cols)
{
	bool (*parts[])(struct console *, struct clock_part *) = { rto_part, wait_part, rpo_part };
	int end = x + cols, start = x;
	for (size_t k = 0; k < sizeof parts / sizeof *parts && end - x > 0; k++) {
		struct clock_part p;
		if (!parts[k](c, &p))
			continue;
		int w = (int)strlen(p.text);
		if (k && w > end - x)
			continue;
		attron(p.attr);
		x += console_put(y, x, p.text, (size_t)w, end - x) + 2;
		attroff(p.attr);
	}
	if (x == start)
		console_put(y, x, "no RTO/RPO objectives", 21, end - x);
}

void console_probe_event(struct console *c, const struct journal_event *ev)
{
	struct buf b;
	cJSON *p;
	if (strcmp(ev->type, EV_PROBE_STATE))
		return;
	p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	buf_init(&b, BUF_UNLIMITED);
	probe_event_text(ev, p, &b);
	console_set_notice(c, "%s", b.data);
	buf_release(&b);
	cJSON_Delete(p);
}
