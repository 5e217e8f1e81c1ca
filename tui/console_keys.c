/* The console's keys: one table says which key does what; it drives the
 * dispatch, the ? help screen and `qrh help keys` (from which the man
 * page's KEY BINDINGS are checked), so the three cannot disagree.
 *
 * Keys that cannot do harm by accident: each key means one thing
 * everywhere (abort is A and only A, and asks for a typed word); a key
 * that opens a dialog is never the key that confirms it (Enter opens, y
 * confirms); a refused key (one that means nothing here, or that the run
 * policy refuses now) says why and makes the console drop printable keys
 * until none has come for CONSOLE_REFUSED_LOCK_MS, so that a sentence
 * typed at the wrong moment never runs as commands. */
#include <curses.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/console_ui.h"
#include "util/clock.h"

#define CTRL(k) ((k) & 0x1f)

void console_refuse(struct console *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->lock_why, sizeof c->lock_why, fmt, ap);
	va_end(ap);
	c->locked_until_ns = clock_mono_ns() + (int64_t)CONSOLE_REFUSED_LOCK_MS * 1000000;
	console_set_status(c, "%s", c->lock_why);
}

/* ---- moving ---- */

static void select_by(struct console *c, long delta)
{
	long s = (long)c->sel + delta;
	long max = (long)c->rb->n_steps - 1;
	console_select(c, (size_t)(s < 0 ? 0 : s > max ? max : s));
}

static void move_by(struct console *c, int delta)
{
	if (c->focus == PANE_STEPS)
		select_by(c, delta);
	else if (c->view == VIEW_OUTPUT)
		console_out_scroll(c, delta);
	else if ((c->instr_scroll += delta) < 0)
		c->instr_scroll = 0;
}

static int page(const struct console *c)
{
	int h = c->focus == PANE_STEPS ? c->lay.steps.h : c->lay.detail.h;
	return h > 3 ? h - 2 : 1;
}

static void k_updown(struct console *c, int key)
{
	move_by(c, key == KEY_UP || key == 'k' ? -1 : 1);
}

static void k_page(struct console *c, int key)
{
	move_by(c, key == KEY_PPAGE || key == CTRL('b') ? -page(c) : page(c));
}

static void k_top(struct console *c, int key)
{
	(void)key;
	if (c->focus == PANE_STEPS)
		console_select(c, 0);
	else if (c->view == VIEW_OUTPUT)
		console_out_top(c);
	else
		c->instr_scroll = 0;
}

static void k_bottom(struct console *c, int key)
{
	(void)key;
	if (c->focus == PANE_STEPS)
		console_select(c, c->rb->n_steps ? c->rb->n_steps - 1 : 0);
	else if (c->view == VIEW_OUTPUT)
		console_out_follow(c);
	else
		c->instr_scroll = 1 << 30; /* clamped when drawn */
}

static void k_side(struct console *c, int key)
{
	if (!c->hscroll) {
		console_refuse(c, "long lines wrap: w makes them scroll sideways with Left and Right");
		return;
	}
	struct step_view *v = &c->sv[console_detail_step(c)];
	int step = console_out_cols(c) / 2 > 1 ? console_out_cols(c) / 2 : 1;
	v->hcol += key == KEY_LEFT ? -step : step;
	if (v->hcol < 0)
		v->hcol = 0; /* the right end is clamped when drawn */
}

static void k_tab(struct console *c, int key)
{
	(void)key;
	c->focus = c->focus == PANE_STEPS ? PANE_DETAIL : PANE_STEPS;
}

static void k_view(struct console *c, int key)
{
	(void)key;
	c->view = c->view == VIEW_OUTPUT ? VIEW_INSTRUCTIONS : VIEW_OUTPUT;
}

static void k_wrap(struct console *c, int key)
{
	(void)key;
	c->hscroll = !c->hscroll;
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		c->sv[i].hcol = 0;
		c->sv[i].top_row = 0;
	}
	console_set_status(c, c->hscroll ? "long lines scroll sideways: Left and Right; w wraps them again"
					 : "long lines wrap; w makes them scroll sideways");
}

/* ---- the selected step ---- */

static void k_run(struct console *c, int key)
{
	(void)key;
	console_ask_step(c, c->sel);
}

/* Skip and done by hand, when the policy offers them. */
static void close_step(struct console *c, enum run_choice choice)
{
	struct err e;
	if (run_refusal(c->run, c->sel, choice, &e) < 0) {
		console_refuse(c, "%s", e.msg);
		return;
	}
	console_ask_close(c, c->sel, choice);
}

static void k_skip(struct console *c, int key)
{
	(void)key;
	close_step(c, CHOICE_SKIP);
}

static void k_done(struct console *c, int key)
{
	(void)key;
	close_step(c, CHOICE_DONE_BY_HAND);
}

/* ---- the run ---- */

static void note_given(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (text && *text && run_note(c->run, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else if (text && *text)
		console_set_status(c, "note recorded");
}

/* qrh watch --team: the note goes to the team database, and comes back
 * with the run's events once its qrh has journaled it. */
static void note_sent(struct console *c, int key, const char *text)
{
	char msg[300];
	(void)key;
	if (!text || !*text)
		return;
	c->send_note(c->note_arg, text, msg, sizeof msg);
	console_set_status(c, "%s", msg);
}

static void k_note(struct console *c, int key)
{
	(void)key;
	if (c->finished) {
		console_refuse(c, "the run has ended: it takes no more notes");
		return;
	}
	if (c->read_only)
		dialog_open(c, DLG_TEXT, "Note for the run, through the team database:", note_sent);
	else
		dialog_open(c, DLG_TEXT, "Note for the journal (timestamped):", note_given);
}

static void k_notes(struct console *c, int key)
{
	(void)key;
	console_notes_dialog(c);
}

static void cancel_chosen(struct console *c, int key, const char *text)
{
	(void)text;
	if (key == 'y') {
		run_cancel_step(c->run);
		console_set_status(c, "cancelling: SIGTERM now, SIGKILL after the grace period");
	}
}

static void k_cancel(struct console *c, int key)
{
	(void)key;
	long active = run_active_step(c->run);
	if (active < 0 || !(run_choices(c->run, (size_t)active) & CHOICE_CANCEL)) {
		console_refuse(c, "no step is running");
		return;
	}
	dialog_open(c, DLG_YESNO, "Cancel the running step?", cancel_chosen);
}

static void k_abort(struct console *c, int key)
{
	(void)key;
	if (!run_abortable(c->run) || c->finished) {
		console_refuse(c, "the run has ended: there is nothing to abort");
		return;
	}
	console_ask_abort(c);
}

/* ---- searching the output shown ---- */

static void found(struct console *c, long i)
{
	c->match = i;
	console_out_reveal(c, (size_t)i);
}

static void search_given(struct console *c, int key, const char *text)
{
	(void)key;
	size_t step = console_detail_step(c);
	snprintf(c->search, sizeof c->search, "%s", text ? text : "");
	c->match = -1;
	c->view = VIEW_OUTPUT;
	if (!c->search[0])
		return;
	console_show_output(c, step);
	long i = console_out_search(c, step, c->search, 0, 1);
	if (i < 0) {
		console_set_status(c, "not found: %s", c->search);
		return;
	}
	found(c, i);
	console_set_status(c, "found; n next, N previous, Esc ends the search");
}

static void k_search(struct console *c, int key)
{
	(void)key;
	dialog_open(c, DLG_TEXT, "Search the output:", search_given);
}

static void k_next(struct console *c, int key)
{
	size_t step = console_detail_step(c);
	int dir = key == 'N' ? -1 : 1;
	if (!c->search[0] || c->view != VIEW_OUTPUT) {
		console_refuse(c, "no search: / searches the output shown");
		return;
	}
	size_t n = console_out_count(c, step);
	size_t from = c->match < 0 ? 0 : (size_t)(c->match + dir + (long)n) % (n ? n : 1);
	long i = console_out_search(c, step, c->search, from, dir);
	if (i < 0)
		console_set_status(c, "not found: %s", c->search);
	else
		found(c, i);
}

static void k_escape(struct console *c, int key)
{
	(void)key;
	c->search[0] = '\0';
	c->match = -1;
	c->status[0] = '\0';
	c->locked_until_ns = 0;
	if (c->result_of >= 0)
		console_select(c, c->sel);
}

static void quit_chosen(struct console *c, int key, const char *text)
{
	(void)text;
	if (key == 'y')
		c->quit = true;
}

static void k_quit(struct console *c, int key)
{
	(void)key;
	if (c->finished || c->read_only) {
		c->quit = true;
		return;
	}
	char q[640];
	snprintf(q, sizeof q,
		 run_step_active(c->run) ? "Quit? The running step is cancelled; %s continues the run."
					 : "Quit? The run stays open: %s continues it.",
		 c->resume_cmd);
	dialog_open(c, DLG_YESNO, q, quit_chosen);
}

static void k_help(struct console *c, int key)
{
	(void)key;
	console_help_dialog(c);
}

struct key_binding {
	int keys[3];
	const char *names;
	const char *help;
	void (*fn)(struct console *c, int key);
	bool writes; /* changes the run: refused in qrh watch */
};

/* One line each in the help screen at 80x24: names up to 12 columns,
 * help up to 59. */
static const struct key_binding bindings[] = {
	{ { KEY_UP, 'k', KEY_DOWN }, "Up/Down, k/j", "select a step; in the detail pane, scroll a line", k_updown, false },
	{ { 'j' }, "", "", k_updown, false },
	{ { KEY_PPAGE, CTRL('b') }, "PgUp, PgDn", "a page up or down (Space: a page down)", k_page, false },
	{ { KEY_NPAGE, CTRL('f'), ' ' }, "", "", k_page, false },
	{ { 'g', KEY_HOME }, "g, Home", "the first step; the top of the output", k_top, false },
	{ { 'G', KEY_END }, "G, End", "the last step; the end of the output, following it", k_bottom, false },
	{ { KEY_LEFT, KEY_RIGHT }, "Left, Right", "scroll long output lines sideways (after w)", k_side, false },
	{ { '\t' }, "Tab", "move between the steps and the detail pane", k_tab, false },
	{ { 'o' }, "o", "show the step's instructions or its output", k_view, false },
	{ { 'w' }, "w", "long output lines: wrap them, or scroll them sideways", k_wrap, false },
	{ { '\n', '\r', KEY_ENTER }, "Enter", "the selected step: run it (y confirms), or decide", k_run, true },
	{ { 's' }, "s", "skip the selected step (asks for a reason)", k_skip, true },
	{ { 'd' }, "d", "mark the selected step done by hand (asks what was done)", k_done, true },
	{ { 'a' }, "a", "add a timestamped note to the journal", k_note, true },
	{ { 'l' }, "l", "list the run's notes, with times and authors", k_notes, false },
	{ { '/' }, "/", "search the output shown", k_search, false },
	{ { 'n', 'N' }, "n, N", "next, previous search match", k_next, false },
	{ { 27 }, "Esc", "end the search; clear the message; show the selection", k_escape, false },
	{ { 'x', CTRL('c') }, "x, Ctrl-C", "cancel the running step (asks first)", k_cancel, true },
	{ { 'A' }, "A", "abort the run (asks for the word ABORT)", k_abort, true },
	{ { '?', KEY_F(1) }, "?, F1", "this help", k_help, false },
	{ { 'q' }, "q", "quit (asks; the run stays open for qrh resume)", k_quit, false },
};

#define N_BINDINGS (sizeof bindings / sizeof *bindings)

/* Keys that could be text: dropped while the console is locked. */
static bool texty(int key)
{
	return (key >= 0x20 && key < 0x100 && key != 0x7f) || key == '\n' || key == '\r' ||
	       key == KEY_ENTER;
}

static const struct key_binding *binding_for(int key)
{
	for (size_t i = 0; i < N_BINDINGS; i++)
		for (size_t k = 0; k < 3; k++)
			if (bindings[i].keys[k] == key && (key || k == 0))
				return &bindings[i];
	return NULL;
}

void console_key(struct console *c, int key)
{
	if (c->dlg.kind != DLG_NONE) {
		dialog_key(c, key);
		console_mark_dirty(c);
		return;
	}
	int64_t now = clock_mono_ns();
	if (texty(key) && now < c->locked_until_ns) {
		/* the rest of what was typed: dropped until it pauses */
		c->locked_until_ns = now + (int64_t)CONSOLE_REFUSED_LOCK_MS * 1000000;
		console_set_status(c, "%s (keys typed after it are ignored)", c->lock_why);
		return;
	}
	if (key != 27)
		c->status[0] = '\0';
	const struct key_binding *b = binding_for(key);
	if (!b) {
		if (key > 0x20 && key < 0x7f)
			console_refuse(c, "'%c' is not a key of the console: ? lists them", key);
		else if (texty(key))
			console_refuse(c, "not a key of the console: ? lists them");
		return;
	}
	if (c->read_only && b->writes && !(b->fn == k_note && c->send_note)) {
		console_refuse(c, b->fn == k_note ? "read-only: a watcher's notes go through the team "
			       "database (qrh watch --team), when the runbook says notes: anyone"
			       : "read-only: qrh watch follows the run, it cannot change it");
		return;
	}
	b->fn(c, key);
	console_mark_dirty(c);
}

void console_keys_print(FILE *out)
{
	for (size_t i = 0; i < N_BINDINGS; i++)
		if (bindings[i].names[0])
			fprintf(out, "%-12s %s\n", bindings[i].names, bindings[i].help);
}

void console_help_dialog(struct console *c)
{
	char line[160];
	dialog_open(c, DLG_HELP, "Keys", NULL);
	for (size_t i = 0; i < N_BINDINGS; i++) {
		if (!bindings[i].names[0])
			continue;
		snprintf(line, sizeof line, "%-12s %s", bindings[i].names, bindings[i].help);
		styled_add_plain(&c->dlg.body, line, strlen(line), 0);
	}
}
