/* Drawing the console: one full frame from the state, clipped by display
 * width. Every string that came from outside qrh is sanitized before it
 * reaches curses; nothing here changes the run. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/console_ui.h"
#include "tui/mdrender.h"
#include "tui/sanitize.h"
#include "util/clock.h"
#include "util/xalloc.h"

static const char *const glyphs_utf8[] = {
	[STEP_PENDING] = " ",	     [STEP_RUNNING] = "▶",
	[STEP_RETRY_WAIT] = "↻",     [STEP_OK] = "✓",
	[STEP_FAILED] = "✗",	     [STEP_TIMEOUT] = "⌛",
	[STEP_CANCELLED] = "⊘",	     [STEP_SKIPPED] = "»",
	[STEP_DONE_BY_HAND] = "✎",   [STEP_INTERRUPTED] = "?",
};

static const char *const glyphs_ascii[] = {
	[STEP_PENDING] = " ",	     [STEP_RUNNING] = ">",
	[STEP_RETRY_WAIT] = "r",     [STEP_OK] = "+",
	[STEP_FAILED] = "x",	     [STEP_TIMEOUT] = "T",
	[STEP_CANCELLED] = "-",	     [STEP_SKIPPED] = "s",
	[STEP_DONE_BY_HAND] = "h",   [STEP_INTERRUPTED] = "?",
};

const char *console_glyph(const struct console *c, enum step_status s)
{
	return (c->ascii ? glyphs_ascii : glyphs_utf8)[s];
}

static attr_t status_attr(const struct console *c, enum step_status s)
{
	int pair = s == STEP_OK ? 1 : (s == STEP_FAILED || s == STEP_TIMEOUT) ? 2
		 : (s == STEP_RUNNING || s == STEP_RETRY_WAIT || s == STEP_INTERRUPTED) ? 3 : 0;
	if (!c->color || !pair)
		return (s == STEP_FAILED || s == STEP_TIMEOUT || s == STEP_INTERRUPTED) ? A_BOLD : A_NORMAL;
	return COLOR_PAIR(pair) | ((s == STEP_FAILED || s == STEP_TIMEOUT) ? A_BOLD : 0);
}

/* A frame character: the terminal's line drawing, or plain ASCII when
 * QRH_ASCII asks for it (a terminal or font without line drawing). */
static chtype frame(const struct console *c, chtype acs, chtype plain)
{
	return c->ascii_lines ? plain : acs;
}

/* Writes sanitized UTF-8 at (y, x), at most `cols` columns; returns the
 * columns used. */
static int put(int y, int x, const char *s, size_t n, int cols)
{
	size_t bytes;
	if (cols <= 0)
		return 0;
	int used = sanitize_clip(s, n, cols, &bytes);
	mvaddnstr(y, x, s, (int)bytes);
	return used;
}

int console_put(int y, int x, const char *s, size_t n, int cols)
{
	return put(y, x, s, n, cols);
}

/* The same for text from outside: sanitized first. */
static int put_untrusted(int y, int x, const char *s, int cols)
{
	char *clean = sanitize_string(s, strlen(s));
	int used = put(y, x, clean, strlen(clean), cols);
	free(clean);
	return used;
}

static void fill(int y, int x, int cols)
{
	for (int i = 0; i < cols; i++)
		mvaddch(y, x + i, ' ');
}

static void format_duration(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else if (ms < 10000)
		snprintf(out, n, "%lld.%llds", (long long)ms / 1000, (long long)(ms % 1000) / 100);
	else if (ms < 3600000)
		snprintf(out, n, "%lldm%02llds", (long long)ms / 60000, (long long)(ms / 1000) % 60);
	else
		snprintf(out, n, "%lldh%02lldm", (long long)ms / 3600000, (long long)(ms / 60000) % 60);
}

void console_format_duration(int64_t ms, char *out, size_t n)
{
	format_duration(ms, out, n);
}

void console_status_text(const struct console *c, size_t i, char *out, size_t n)
{
	const struct step *s = &c->rb->steps[i];
	const struct step_state *st = run_step(c->run, i);
	int next = st->attempt + 1, total = s->retries + 1;
	if (st->status == STEP_RETRY_WAIT) {
		int64_t left = st->retry_at_wall_ms == STEP_NONE ? 0
			       : st->retry_at_wall_ms - clock_wall_ms();
		long long secs = left > 0 ? (left + 999) / 1000 : 0;
		if (next <= total)
			snprintf(out, n, "attempt %d/%d, next in %lld s", next, total, secs);
		else
			snprintf(out, n, "attempt %d, next in %lld s", next, secs);
	} else if (st->status == STEP_RUNNING) {
		const char *live = c->sv[i].live;
		if (st->attempt > 1 && st->attempt <= total)
			snprintf(out, n, "running, attempt %d/%d%s%s", st->attempt, total,
				 *live ? ": " : "", live);
		else if (st->attempt > 1)
			snprintf(out, n, "running, attempt %d%s%s", st->attempt, *live ? ": " : "", live);
		else
			snprintf(out, n, "running%s%s", *live ? ": " : "", live);
	} else {
		snprintf(out, n, "%s", step_status_words(st->status));
	}
}

static void draw_header(struct console *c)
{
	const struct rect *r = &c->lay.header;
	char buf[256];
	int64_t el = ((c->end_ns ? c->end_ns : clock_mono_ns()) - c->start_ns) / 1000000000;
	attron(A_REVERSE);
	fill(r->y, 0, r->w);
	int x = put(r->y, 1, "qrh", 3, r->w - 1) + 1;
	x += put(r->y, x, " | ", 3, r->w - x);
	x += put_untrusted(r->y, x, c->rb->title ? c->rb->title : "(untitled)", r->w - x - 40);
	snprintf(buf, sizeof buf, " | run %lld | T+%02lld:%02lld:%02lld | head %lld:%s ",
		 (long long)run_id(c->run), (long long)el / 3600, (long long)(el / 60) % 60,
		 (long long)el % 60, (long long)c->head_seq, c->head_hash);
	int w = (int)strlen(buf);
	put(r->y, r->w - w > x ? r->w - w : x, buf, strlen(buf), r->w - x);
	attroff(A_REVERSE);
	fill(r->y + 1, 0, r->w);
	/* the counts first: what runs in the background, and the notes */
	size_t bg = console_bg_count(c), notes = run_fold(c->run)->n_notes;
	int n = bg ? snprintf(buf, sizeof buf, "background %zu  notes %zu", bg, notes)
		   : snprintf(buf, sizeof buf, "notes %zu", notes);
	int right = r->w - n - 1 > 1 ? r->w - n - 1 : 1;
	put(r->y + 1, right, buf, (size_t)n, r->w - right);
	console_draw_objectives(c, r->y + 1, 1, right - 2);
}

static int64_t step_elapsed(const struct console *c, size_t i)
{
	const struct step_state *st = run_step(c->run, i);
	if (st->status == STEP_RUNNING)
		return clock_wall_ms() - st->started_wall_ms;
	if (st->status == STEP_INTERRUPTED) /* it never ended: no duration */
		return -1;
	return st->attempt ? st->duration_ms : -1;
}

static void draw_step_row(struct console *c, size_t i, int y, const struct rect *r)
{
	const struct step_state *st = run_step(c->run, i);
	char num[24], dur[32];
	bool sel = i == c->sel;
	if (sel)
		attron(c->focus == PANE_STEPS ? A_REVERSE : A_BOLD);
	fill(y, r->x, r->w);
	const char *g = console_glyph(c, st->status);
	if (st->status == STEP_RUNNING) {
		static const char *const spin_utf8[] = { "◐", "◓", "◑", "◒" };
		static const char *const spin_ascii[] = { "|", "/", "-", "\\" };
		g = (c->ascii ? spin_ascii : spin_utf8)[c->spin % 4];
	}
	attr_t a = sel ? 0 : status_attr(c, st->status);
	attron(a);
	put(y, r->x + 1, g, strlen(g), 1);
	attroff(a);
	if (console_bg_running(c, (long)i)) /* its background task runs */
		put(y, r->x + 2, "&", 1, 1);
	snprintf(num, sizeof num, "%2zu ", i + 1);
	put(y, r->x + 3, num, strlen(num), 3);
	format_duration(step_elapsed(c, i), dur, sizeof dur);
	if (step_elapsed(c, i) < 0)
		dur[0] = '\0';
	if (st->status == STEP_RETRY_WAIT && st->retry_at_wall_ms != STEP_NONE) {
		int64_t left = st->retry_at_wall_ms - clock_wall_ms();
		snprintf(dur, sizeof dur, "in %llds", (long long)(left > 0 ? (left + 999) / 1000 : 0));
	}
	int dw = (int)strlen(dur);
	put_untrusted(y, r->x + 6, c->rb->steps[i].title, r->w - 7 - dw - 1);
	put(y, r->x + r->w - dw - 1, dur, (size_t)dw, dw);
	if (sel)
		attroff(c->focus == PANE_STEPS ? A_REVERSE : A_BOLD);
}

static void pane_title(const struct console *c, const struct rect *r, const char *t,
		       bool focused)
{
	attron(focused ? A_BOLD | A_UNDERLINE : A_UNDERLINE);
	fill(r->y, r->x, r->w);
	put(r->y, r->x + 1, t, strlen(t), r->w - 2);
	attroff(focused ? A_BOLD | A_UNDERLINE : A_UNDERLINE);
	(void)c;
}

static void draw_steps(struct console *c)
{
	const struct rect *r = &c->lay.steps;
	char t[64];
	size_t done = 0;
	for (size_t i = 0; i < c->rb->n_steps; i++)
		done += step_status_final(run_step(c->run, i)->status);
	snprintf(t, sizeof t, "Steps %zu/%zu done", done, c->rb->n_steps);
	pane_title(c, r, t, c->focus == PANE_STEPS);
	int rows = r->h - 1;
	if ((int)c->sel < c->steps_top)
		c->steps_top = (int)c->sel;
	if ((int)c->sel >= c->steps_top + rows)
		c->steps_top = (int)c->sel - rows + 1;
	for (int k = 0; k < rows; k++) {
		size_t i = (size_t)(c->steps_top + k);
		if (i < c->rb->n_steps)
			draw_step_row(c, i, r->y + 1 + k, r);
		else
			fill(r->y + 1 + k, r->x, r->w);
	}
}

static void draw_probes(struct console *c)
{
	const struct rect *r = &c->lay.probes;
	pane_title(c, r, "Probes", false);
	for (int k = 1; k < r->h; k++)
		fill(r->y + k, r->x, r->w);
	if (!c->rb->n_probes) {
		put(r->y + 1, r->x + 1, "no probes", 9, r->w - 2);
		return;
	}
	for (int k = 1; k < r->h && (size_t)(k - 1) < c->rb->n_probes; k++) {
		const struct probe *p = &c->rb->probes[k - 1];
		int x = r->x + 1 + put_untrusted(r->y + k, r->x + 1, p->name ? p->name : "?", r->w - 16);
		put(r->y + k, x, "  not polled yet", 16, r->x + r->w - x);
	}
}

static attr_t style_attr(unsigned style, const struct console *c)
{
	attr_t a = 0;
	if (style & (STYLE_BOLD | STYLE_HEADING))
		a |= A_BOLD;
	if (style & (STYLE_ITALIC | STYLE_LINK))
		a |= A_UNDERLINE;
	if (style & STYLE_DIM)
		a |= A_DIM;
	if (style & STYLE_MATCH)
		a |= A_REVERSE;
	if (style & STYLE_CODE)
		a |= c->color ? COLOR_PAIR(4) : A_BOLD;
	if (style & STYLE_ERROR)
		a |= c->color ? COLOR_PAIR(2) : A_BOLD;
	return a;
}

/* Bytes [off, off + len) of a styled line, each span in its style. */
static void draw_styled_slice(const struct styled_line *l, size_t off, size_t len,
			      int y, int x, int cols, const struct console *c)
{
	if (!l->n_spans) {
		put(y, x, l->text + off, len, cols);
		return;
	}
	int used = 0;
	for (size_t k = 0; k < l->n_spans && used < cols; k++) {
		const struct span *sp = &l->spans[k];
		size_t from = sp->off > off ? sp->off : off;
		size_t to = sp->off + sp->len < off + len ? sp->off + sp->len : off + len;
		if (from >= to)
			continue;
		attr_t a = style_attr(sp->style, c);
		attron(a);
		used += put(y, x + used, l->text + from, to - from, cols - used);
		attroff(a);
	}
}

static void draw_styled_line(const struct styled_line *l, int y, int x, int cols,
			     const struct console *c)
{
	draw_styled_slice(l, 0, l->len, y, x, cols, c);
}

/* A line of what will run, wrapped to the width rather than cut: the
 * end of a command matters as much as its start. */
static void add_wrapped(struct styled_text *t, const char *s, size_t n, int cols,
			bool ascii)
{
	char *clean = sanitize_string(s, n);
	const char *mark = ascii ? "+ " : "↪ ";
	size_t len = strlen(clean), off = 0, bytes;
	char *piece = xmalloc(len + 8);
	do {
		int room = off ? cols - 2 : cols;
		sanitize_clip(clean + off, len - off, room > 8 ? room : 8, &bytes);
		if (!bytes)
			bytes = len - off;
		snprintf(piece, len + 8, "%s%.*s", off ? mark : "", (int)bytes, clean + off);
		styled_add_plain(t, piece, strlen(piece), STYLE_CODE);
		off += bytes;
	} while (off < len);
	free(piece);
	free(clean);
}

static void draw_instructions(struct console *c, const struct rect *r)
{
	size_t i = console_detail_step(c);
	const struct step *s = &c->rb->steps[i];
	struct styled_text t;
	styled_init(&t);
	if (s->doc)
		md_render(s->doc, strlen(s->doc), r->w - 2, c->ascii, &t);
	else
		styled_add_str(&t, "(no instructions)", STYLE_DIM);
	styled_add_str(&t, "", 0);
	styled_add_str(&t, s->n_actions ? "Runs, once confirmed:" : "A manual step: confirm it when it is done.",
		       STYLE_BOLD);
	struct buf d;
	struct err e;
	buf_init(&d, BUF_UNLIMITED);
	if (s->n_actions && run_describe_step(c->run, i, &d, &e) == 0) {
		for (const char *p = d.data; *p;) {
			const char *nl = strchr(p, '\n');
			size_t n = nl ? (size_t)(nl - p) : strlen(p);
			add_wrapped(&t, p, n, r->w - 2, c->ascii);
			p += n + (nl ? 1 : 0);
		}
	}
	buf_release(&d);
	int rows = r->h - 1;
	if (c->instr_scroll > (int)t.n - 1)
		c->instr_scroll = t.n ? (int)t.n - 1 : 0;
	for (int k = 0; k < rows; k++) {
		fill(r->y + 1 + k, r->x, r->w);
		size_t at = (size_t)(c->instr_scroll + k);
		if (at < t.n)
			draw_styled_line(&t.lines[at], r->y + 1 + k, r->x + 1, r->w - 2, c);
	}
	styled_release(&t);
}

/* A row of one of qrh's marks: a rule, then its text, wrapped; the rule
 * again after its end when there is room. */
static void draw_mark_row(struct console *c, const struct sb_line *l, int row, int y,
			  const struct rect *r)
{
	int cols = console_out_cols(c);
	const char *rule = c->ascii ? "--" : "──";
	size_t off = console_row_start(c, l, cols, row);
	size_t end = console_row_start(c, l, cols, row + 1);
	attron(A_BOLD);
	int x = r->x + 1;
	if (!row)
		put(y, x, rule, strlen(rule), 2);
	x += 3;
	x += put(y, x, l->text + off, (end > off ? end : l->len) - off, cols - 3);
	if (end >= l->len && r->x + r->w - x >= 3)
		put(y, x + 1, rule, strlen(rule), 2);
	attroff(A_BOLD);
}

/* One row of an output line: its gutter (stderr "!", a line split for
 * its length "+", a wrapped row's continuation mark), then the text from
 * byte `off` (wrapped) or from column hcol (scrolled sideways). */
static void draw_output_row(struct console *c, const struct sb_line *l, int row, int y,
			    const struct rect *r, bool match)
{
	struct step_view *v = &c->sv[console_detail_step(c)];
	int cols = console_out_cols(c);
	bool err = l->stream == SB_STDERR;
	if (l->stream == SB_MARK) {
		draw_mark_row(c, l, row, y, r);
		return;
	}
	const char *gutter = err ? "!" : l->continued && !row ? "+" : " ";
	if (row)
		gutter = c->ascii ? ">" : "↪";
	attr_t a = (err ? (c->color ? COLOR_PAIR(2) : A_BOLD) : 0) | (match ? A_REVERSE : 0);
	attron(row ? A_DIM : 0);
	put(y, r->x, gutter, strlen(gutter), 1);
	attroff(row ? A_DIM : 0);
	attron(a);
	if (!c->hscroll) {
		size_t off = console_row_start(c, l, cols, row);
		put(y, r->x + 1, l->text + off, l->len - off, cols);
	} else {
		size_t skip = 0;
		sanitize_clip(l->text, l->len, v->hcol, &skip);
		int used = put(y, r->x + 1, l->text + skip, l->len - skip, cols - 1);
		if ((int)sanitize_width(l->text + skip, l->len - skip) > used)
			put(y, r->x + cols, c->ascii ? ">" : "›", strlen(c->ascii ? ">" : "›"), 1);
	}
	attroff(a);
}

/* The widest line on show, so that sideways scrolling stops at its end. */
static void clamp_hcol(struct console *c, size_t i, size_t top, int rows)
{
	struct step_view *v = &c->sv[i];
	size_t n = console_out_count(c, i);
	int widest = 0;
	for (size_t k = top; k < n && k < top + (size_t)rows; k++) {
		const struct sb_line *l = console_out_line(c, i, k);
		int w = (int)sanitize_width(l->text, l->len);
		widest = w > widest ? w : widest;
	}
	int max = widest - console_out_cols(c) / 2;
	if (v->hcol > max)
		v->hcol = max > 0 ? max : 0;
}

static void draw_output(struct console *c, const struct rect *r)
{
	size_t i = console_detail_step(c);
	console_show_output(c, i);
	struct step_view *v = &c->sv[i];
	int rows = console_out_rows(c), cols = console_out_cols(c), row = 0;
	size_t n = console_out_count(c, i), k;
	if (v->scrolled) {
		k = v->top < n ? v->top : n;
		row = v->top_row;
	} else {
		k = console_out_follow_top(c, i, &row);
	}
	if (c->hscroll)
		clamp_hcol(c, i, k, rows);
	for (int y = 0; y < rows; y++) {
		fill(r->y + 1 + y, r->x, r->w);
		if (k >= n)
			continue;
		const struct sb_line *l = console_out_line(c, i, k);
		draw_output_row(c, l, row, r->y + 1 + y, r, c->search[0] && (long)k == c->match);
		if (++row >= console_line_rows(c, l, cols)) {
			k++;
			row = 0;
		}
	}
	if (!n) {
		const struct step_state *st = run_step(c->run, i);
		const char *none = st->status == STEP_RUNNING ? "(no output yet)" : "(no output)";
		put(r->y + 1, r->x + 1, none, strlen(none), r->w - 2);
	}
}

/* A step that never ran has no output to show: its instructions are. */
static enum view shown_view(const struct console *c, size_t i)
{
	const struct step_state *st = run_step(c->run, i);
	if (c->view == VIEW_OUTPUT && !st->attempt && st->status == STEP_PENDING &&
	    !console_out_count((struct console *)(uintptr_t)c, i))
		return VIEW_INSTRUCTIONS;
	return c->view;
}

static void draw_detail(struct console *c)
{
	const struct rect *r = &c->lay.detail;
	size_t i = console_detail_step(c);
	enum view view = shown_view(c, i);
	char t[512], tail[160], words[96];
	struct step_view *v = &c->sv[i];
	char *title = sanitize_string(c->rb->steps[i].title, strlen(c->rb->steps[i].title));
	console_status_text(c, i, words, sizeof words);
	const char *vname = view == VIEW_INSTRUCTIONS ? "Instructions"
			    : c->result_of >= 0 ? "Result" : "Output";
	const char *scrolled = view == VIEW_OUTPUT && v->scrolled ? "  (scrolled: G follows)" : "";
	/* live values give way to the step's title, 12 columns of it;
	 * other status words never do */
	int title_min = (int)sanitize_width(title, strlen(title));
	title_min = title_min < 12 ? title_min : 12;
	int words_room = r->w - 2 - 6 - (int)(strlen(vname) + 6 + strlen(scrolled)) - title_min;
	size_t wkeep = strlen(words);
	if (run_step(c->run, i)->status == STEP_RUNNING && v->live[0] &&
	    (int)sanitize_width(words, wkeep) > words_room && words_room > 8) {
		sanitize_clip(words, wkeep, words_room - 1, &wkeep);
		snprintf(words + wkeep, sizeof words - wkeep, "%s", c->ascii ? "~" : "…");
	}
	snprintf(tail, sizeof tail, "  [%s]  %s%s", vname, words, scrolled);
	/* a long step title gives way: the view and the status always show */
	int room = r->w - 2 - (int)strlen(tail);
	size_t keep = strlen(title);
	char num[24];
	snprintf(num, sizeof num, "%zu. ", i + 1);
	room -= (int)strlen(num);
	if ((int)sanitize_width(title, keep) > room) {
		const char *cut = c->ascii ? "~" : "…";
		sanitize_clip(title, keep, room > 1 ? room - 1 : 0, &keep);
		snprintf(t, sizeof t, "%s%.*s%s%s", num, (int)keep, title, cut, tail);
	} else {
		snprintf(t, sizeof t, "%s%s%s", num, title, tail);
	}
	free(title);
	pane_title(c, r, t, c->focus == PANE_DETAIL);
	if (view == VIEW_OUTPUT)
		draw_output(c, r);
	else
		draw_instructions(c, r);
	for (int y = r->y; y < r->y + r->h; y++)
		mvaddch(y, r->x - 1, frame(c, ACS_VLINE, '|'));
}

/* The Enter key's meaning for the selected step, first on the key bar. */
static void enter_label(const struct console *c, char *out, size_t n)
{
	unsigned ch = run_choices(c->run, c->sel);
	if (ch & CHOICE_RUN && run_step(c->run, c->sel)->status == STEP_PENDING)
		snprintf(out, n, "Enter run %zu", c->sel + 1);
	else if (ch & (CHOICE_RETRY | CHOICE_RUN | CHOICE_WAIT))
		snprintf(out, n, "Enter decide %zu", c->sel + 1);
	else
		snprintf(out, n, "Enter run");
}

static void draw_keybar(struct console *c)
{
	char enter[32];
	enter_label(c, enter, sizeof enter);
	const char *const run_keys[] = {
		enter, "s skip", "d done", "a note", "l notes", "x cancel", "A abort",
		"o view", "w wrap", "/ search", NULL,
	};
	static const char *const watch_keys[] = {
		"read-only", "o view", "l notes", "/ search", "n/N next", NULL,
	};
	static const char tail[] = "? help  q quit";
	const struct rect *r = &c->lay.keybar;
	attron(A_REVERSE);
	fill(r->y, 0, r->w);
	if (c->status[0]) {
		put_untrusted(r->y, 1, c->status, r->w - 2);
	} else if (c->finished && !c->read_only) {
		char done[96];
		snprintf(done, sizeof done, "run finished: %s.  ? help  q leave", c->outcome);
		put(r->y, 1, done, strlen(done), r->w - 2);
	} else {
		/* as many keys as fit, always ending with help and quit */
		char keys[256] = "";
		size_t len = 0, room = r->w - 2 > 0 ? (size_t)r->w - 2 : 0;
		for (const char *const *k = c->read_only ? watch_keys : run_keys; *k; k++)
			if (len + strlen(*k) + 2 + sizeof tail - 1 <= room)
				len += (size_t)snprintf(keys + len, sizeof keys - len, "%s  ", *k);
		snprintf(keys + len, sizeof keys - len, "%s", tail);
		put(r->y, 1, keys, strlen(keys), r->w - 2);
	}
	attroff(A_REVERSE);
}

/* What a dialog asks for, on its last line; nothing yet while it takes
 * no keys. */
static void dialog_prompt(const struct console *c, const struct dialog *d, char *out,
			  size_t n)
{
	if (dialog_guarded(c)) {
		snprintf(out, n, "%s", CONSOLE_GUARD_TEXT);
		return;
	}
	switch (d->kind) {
	case DLG_YESNO:
		snprintf(out, n, "%s", d->done_label[0] ? d->done_label : "[y] yes   [n] no");
		break;
	case DLG_TYPED:
		snprintf(out, n, "Type %s and Enter %s (Esc cancels): %s", d->word,
			 d->done_label[0] ? d->done_label : "to run", d->input.data);
		break;
	case DLG_TEXT:
		snprintf(out, n, "> %s", d->input.data);
		break;
	case DLG_HELP:
		snprintf(out, n, "any key closes");
		break;
	default:
		snprintf(out, n, "choose: %s", d->choices);
	}
}

/* Text being typed: when it is wider than the room, its end is shown
 * (where the typing is), after a mark that the start is cut. */
static void put_tail(int y, int x, const char *s, int cols, bool ascii)
{
	char *clean = sanitize_string(s, strlen(s));
	size_t n = strlen(clean), off = 0;
	if ((int)sanitize_width(clean, n) > cols && cols > 2) {
		const char *mark = ascii ? "<" : "…";
		int width = (int)sanitize_width(clean, n);
		while (off < n && width > cols - 1) {
			size_t len = 1;
			while (off + len < n && ((unsigned char)clean[off + len] & 0xc0) == 0x80)
				len++;
			width -= (int)sanitize_width(clean + off, len);
			off += len;
		}
		x += put(y, x, mark, strlen(mark), 1);
		cols--;
	}
	put(y, x, clean + off, n - off, cols);
	free(clean);
}

/* One row of a dialog's body: a slice of one of its lines. */
struct body_row {
	size_t line, off, len;
};

/* Cuts each line of the body into rows of at most cols columns, the
 * continuations 2 columns narrower (they carry a mark); returns the
 * number of rows and fills in at most max of them. */
static size_t wrap_body(const struct styled_text *t, int cols, struct body_row *rows,
			size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < t->n; i++) {
		const struct styled_line *l = &t->lines[i];
		size_t off = 0;
		do {
			size_t bytes;
			sanitize_clip(l->text + off, l->len - off, off ? cols - 2 : cols, &bytes);
			if (!bytes) /* not one character fits: show what can be */
				bytes = l->len - off;
			if (n < max)
				rows[n] = (struct body_row){ i, off, bytes };
			n++;
			off += bytes;
		} while (off < l->len);
	}
	return n;
}

/* A dialog shows all of its body: long lines wrap (a command is never
 * cut short on the right) and a body taller than the screen scrolls,
 * with a mark on the frame saying which rows are shown. */
static void draw_dialog(struct console *c)
{
	struct dialog *d = &c->dlg;
	int w = c->cols - 4 > 100 ? 100 : c->cols - 4;
	int inner = w - 4;
	size_t total = wrap_body(&d->body, inner, NULL, 0);
	struct body_row *br = xcalloc(total ? total : 1, sizeof *br);
	wrap_body(&d->body, inner, br, total);
	int max_h = d->kind == DLG_HELP ? c->lines : c->lines - 2;
	int h = (int)total + 4 > max_h ? max_h : (int)total + 4;
	int rows = h - 4;
	int y = (c->lines - h) / 2, x = (c->cols - w) / 2;
	int last = (int)total - rows;
	if (d->scroll > last)
		d->scroll = last;
	if (d->scroll < 0)
		d->scroll = 0;
	d->page = rows > 1 ? rows - 1 : 1;
	if (h > c->lines - 2) /* a screen of its own: it takes every row */
		erase();
	for (int k = 0; k < h; k++)
		fill(y + k, x, w);
	attron(A_BOLD);
	mvaddch(y, x, frame(c, ACS_ULCORNER, '+'));
	mvhline(y, x + 1, frame(c, ACS_HLINE, '-'), w - 2);
	mvaddch(y, x + w - 1, frame(c, ACS_URCORNER, '+'));
	mvaddch(y + h - 1, x, frame(c, ACS_LLCORNER, '+'));
	mvhline(y + h - 1, x + 1, frame(c, ACS_HLINE, '-'), w - 2);
	mvaddch(y + h - 1, x + w - 1, frame(c, ACS_LRCORNER, '+'));
	mvvline(y + 1, x, frame(c, ACS_VLINE, '|'), h - 2);
	mvvline(y + 1, x + w - 1, frame(c, ACS_VLINE, '|'), h - 2);
	put_untrusted(y, x + 2, d->title, w - 4);
	if (rows < (int)total) {
		char more[96];
		snprintf(more, sizeof more, " rows %d-%d of %zu: Up/Down, PgUp/PgDn ",
			 d->scroll + 1, d->scroll + rows, total);
		int mw = (int)strlen(more);
		put(y + h - 1, mw < w - 4 ? x + w - 2 - mw : x + 2, more, strlen(more), w - 4);
	}
	attroff(A_BOLD);
	for (int k = 0; k < rows && d->scroll + k < (int)total; k++) {
		const struct body_row *row = &br[d->scroll + k];
		const struct styled_line *l = &d->body.lines[row->line];
		if (row->off) {
			const char *mark = c->ascii ? "+" : "↪";
			attron(A_DIM);
			put(y + 1 + k, x + 2, mark, strlen(mark), 1);
			attroff(A_DIM);
			draw_styled_slice(l, row->off, row->len, y + 1 + k, x + 4, inner - 2, c);
		} else {
			draw_styled_slice(l, 0, row->len, y + 1 + k, x + 2, inner, c);
		}
	}
	free(br);
	char prompt[CONSOLE_INPUT_MAX + 256];
	dialog_prompt(c, d, prompt, sizeof prompt);
	if (d->dropped) {
		char more[96];
		snprintf(more, sizeof more, " %d key%s typed ahead %s ignored ", d->dropped,
			 d->dropped == 1 ? "" : "s", d->dropped == 1 ? "was" : "were");
		attron(A_BOLD);
		put(y + h - 1, x + 2, more, strlen(more), w - 4);
		attroff(A_BOLD);
	}
	attron(A_BOLD);
	if (d->kind == DLG_TEXT || d->kind == DLG_TYPED)
		put_tail(y + h - 2, x + 2, prompt, w - 4, c->ascii);
	else
		put_untrusted(y + h - 2, x + 2, prompt, w - 4);
	attroff(A_BOLD);
}

/* Centred on its own row, clipped to the width. */
static void put_centred(int y, const char *s, int cols)
{
	int w = (int)sanitize_width(s, strlen(s));
	put(y, w < cols ? (cols - w) / 2 : 0, s, strlen(s), cols);
}

/* Each line on a row of its own, so that it fits however narrow the
 * terminal; an open dialog still shows what it asks. */
static void draw_too_small(struct console *c)
{
	char size[96], prompt[256];
	const char *lines[4] = { "terminal too small", size, NULL, NULL };
	erase();
	snprintf(size, sizeof size, "%dx%d; qrh needs %dx%d", c->cols, c->lines,
		 LAYOUT_MIN_COLS, LAYOUT_MIN_LINES);
	if (c->dlg.kind != DLG_NONE) {
		dialog_prompt(c, &c->dlg, prompt, sizeof prompt);
		lines[2] = c->dlg.title;
		lines[3] = prompt;
	} else {
		lines[2] = "the run goes on; q quits";
	}
	int n = lines[3] ? 4 : 3, y = c->lines > n ? (c->lines - n) / 2 : 0;
	for (int k = 0; k < n && y + k < c->lines; k++) {
		char *clean = sanitize_string(lines[k], strlen(lines[k]));
		if (k == 0)
			attron(A_BOLD);
		put_centred(y + k, clean, c->cols);
		attroff(A_BOLD);
		free(clean);
	}
}

void console_draw(struct console *c)
{
	layout_compute(c->lines, c->cols, (int)c->rb->n_probes, &c->lay);
	if (c->lay.too_small) {
		draw_too_small(c);
		refresh();
		return;
	}
	if (c->rb->n_steps) {
		draw_header(c);
		draw_steps(c);
		draw_probes(c);
		draw_detail(c);
	}
	draw_keybar(c);
	if (c->dlg.kind != DLG_NONE)
		draw_dialog(c);
	refresh();
}
