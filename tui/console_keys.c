/* The console's keys: one table says which key does what; it drives the
 * dispatch, the ? help screen and `qrh help keys` (from which the man
 * page's KEY BINDINGS are checked), so the three cannot disagree. */
#include <curses.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/console_ui.h"

#define CTRL(k) ((k) & 0x1f)

static void move_by(struct console *c, int delta)
{
	if (c->focus == PANE_STEPS) {
		long s = (long)c->sel + delta;
		long max = (long)c->rb->n_steps - 1;
		c->sel = (size_t)(s < 0 ? 0 : s > max ? max : s);
		c->user_moved = true;
		c->instr_scroll = 0;
	} else if (c->view == VIEW_OUTPUT) {
		struct step_view *v = &c->sv[c->sel];
		v->scroll -= delta;
		if (v->scroll < 0)
			v->scroll = 0;
	} else {
		c->instr_scroll += delta;
		if (c->instr_scroll < 0)
			c->instr_scroll = 0;
	}
}

static int page(const struct console *c)
{
	int h = c->focus == PANE_STEPS ? c->lay.steps.h : c->lay.detail.h;
	return h > 3 ? h - 2 : 1;
}

static void k_up(struct console *c) { move_by(c, -1); }
static void k_down(struct console *c) { move_by(c, 1); }
static void k_pgup(struct console *c) { move_by(c, -page(c)); }
static void k_pgdn(struct console *c) { move_by(c, page(c)); }

static void k_top(struct console *c)
{
	if (c->focus == PANE_STEPS) {
		c->sel = 0;
		c->user_moved = true;
	} else if (c->view == VIEW_OUTPUT) {
		c->sv[c->sel].scroll = 1 << 30; /* clamped when drawn */
	} else {
		c->instr_scroll = 0;
	}
}

static void k_bottom(struct console *c)
{
	if (c->focus == PANE_STEPS) {
		c->sel = c->rb->n_steps ? c->rb->n_steps - 1 : 0;
		c->user_moved = true;
	} else if (c->view == VIEW_OUTPUT) {
		c->sv[c->sel].scroll = 0; /* follow */
	} else {
		c->instr_scroll = 1 << 30;
	}
}

static void k_tab(struct console *c)
{
	c->focus = c->focus == PANE_STEPS ? PANE_DETAIL : PANE_STEPS;
}

static void k_view(struct console *c)
{
	c->view = c->view == VIEW_OUTPUT ? VIEW_INSTRUCTIONS : VIEW_OUTPUT;
}

static void k_run(struct console *c)
{
	console_ask_step(c, c->sel);
}

static void reason_given(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (!text || !*text) {
		console_set_status(c, "a skip needs a reason; the step was not skipped");
		return;
	}
	if (run_step_skip(c->run, c->dlg.step, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
}

static void note_for_done(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (!text || !*text) {
		console_set_status(c, "done by hand needs a note saying what was done");
		return;
	}
	if (run_step_done_by_hand(c->run, c->dlg.step, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
}

static bool can_close(struct console *c)
{
	if (run_step_active(c->run) && c->sel == (size_t)run_next_step(c->run)) {
		console_set_status(c, "step %zu '%s' is running", c->sel + 1,
				   c->rb->steps[c->sel].id);
		return false;
	}
	if (step_status_final(run_step(c->run, c->sel)->status)) {
		console_set_status(c, "step %zu '%s' is already %s", c->sel + 1,
				   c->rb->steps[c->sel].id,
				   step_status_name(run_step(c->run, c->sel)->status));
		return false;
	}
	return true;
}

void console_ask_skip(struct console *c, size_t i)
{
	char t[96];
	snprintf(t, sizeof t, "Skip step %zu: why?", i + 1);
	dialog_open(c, DLG_TEXT, t, reason_given);
	c->dlg.step = i;
}

void console_ask_done(struct console *c, size_t i)
{
	char t[96];
	snprintf(t, sizeof t, "Step %zu done by hand: what was done?", i + 1);
	dialog_open(c, DLG_TEXT, t, note_for_done);
	c->dlg.step = i;
}

static void k_skip(struct console *c)
{
	if (can_close(c))
		console_ask_skip(c, c->sel);
}

static void k_done(struct console *c)
{
	if (can_close(c))
		console_ask_done(c, c->sel);
}

static void note_given(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (text && *text && run_note(c->run, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else if (text && *text)
		console_set_status(c, "note recorded");
}

static void k_note(struct console *c)
{
	dialog_open(c, DLG_TEXT, "Note for the journal (timestamped):", note_given);
}

static void cancel_chosen(struct console *c, int key, const char *text)
{
	(void)text;
	if (key == 'y') {
		run_cancel_step(c->run);
		console_set_status(c, "cancelling: SIGTERM now, SIGKILL after the grace period");
	}
}

static void k_cancel(struct console *c)
{
	if (!run_step_active(c->run)) {
		console_set_status(c, "no step is running");
		return;
	}
	dialog_open(c, DLG_YESNO, "Cancel the running step?", cancel_chosen);
}

static void search_given(struct console *c, int key, const char *text)
{
	(void)key;
	snprintf(c->search, sizeof c->search, "%s", text ? text : "");
	c->match = -1;
	c->view = VIEW_OUTPUT;
	if (!c->search[0])
		return;
	struct step_view *v = &c->sv[c->sel];
	long i = v->sb ? scrollback_search(v->sb, c->search, 0, 1) : -1;
	if (i < 0) {
		console_set_status(c, "not found: %s", c->search);
		return;
	}
	c->match = i;
	v->scroll = (int)(scrollback_count(v->sb) - (size_t)i) - 1;
	console_set_status(c, "found; n next, N previous, Esc ends the search");
}

static void k_search(struct console *c)
{
	dialog_open(c, DLG_TEXT, "Search the output:", search_given);
}

static void next_match(struct console *c, int dir)
{
	struct step_view *v = &c->sv[c->sel];
	if (!v->sb)
		return;
	size_t n = scrollback_count(v->sb);
	size_t from = c->match < 0 ? 0 : (size_t)(c->match + dir + (long)n) % (n ? n : 1);
	long i = scrollback_search(v->sb, c->search, from, dir);
	if (i < 0) {
		console_set_status(c, "not found: %s", c->search);
		return;
	}
	c->match = i;
	v->scroll = (int)(n - (size_t)i) - 1;
	if (v->scroll < 0)
		v->scroll = 0;
}

/* n: the next match while a search is active in the output, else a note. */
static void k_n(struct console *c)
{
	if (c->search[0] && c->view == VIEW_OUTPUT)
		next_match(c, 1);
	else
		k_note(c);
}

static void k_prev(struct console *c)
{
	if (c->search[0])
		next_match(c, -1);
}

static void k_escape(struct console *c)
{
	c->search[0] = '\0';
	c->match = -1;
	c->status[0] = '\0';
}

static void quit_chosen(struct console *c, int key, const char *text)
{
	(void)text;
	if (key == 'y')
		c->quit = true;
}

static void k_quit(struct console *c)
{
	if (c->finished) {
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

static void k_help(struct console *c)
{
	console_help_dialog(c);
}

struct key_binding {
	int keys[3];
	const char *names;
	const char *help;
	void (*fn)(struct console *c);
};

static const struct key_binding bindings[] = {
	{ { KEY_UP, 'k' }, "Up, k", "select the step above; in the detail pane, scroll up", k_up },
	{ { KEY_DOWN, 'j' }, "Down, j", "select the step below; in the detail pane, scroll down", k_down },
	{ { KEY_PPAGE, CTRL('b') }, "PgUp", "a page up", k_pgup },
	{ { KEY_NPAGE, CTRL('f'), ' ' }, "PgDn, Space", "a page down", k_pgdn },
	{ { 'g', KEY_HOME }, "g, Home", "the first step; the top of the output", k_top },
	{ { 'G', KEY_END }, "G, End", "the last step; the end of the output, following it", k_bottom },
	{ { '\t' }, "Tab", "move between the steps and the detail pane", k_tab },
	{ { 'o' }, "o", "show the step's instructions or its output", k_view },
	{ { '\n', '\r', 'y' }, "Enter, y", "run the selected step: shows what will run and asks", k_run },
	{ { KEY_ENTER }, "", "", k_run },
	{ { 's' }, "s", "skip the selected step (asks for a reason)", k_skip },
	{ { 'd' }, "d", "mark the selected step done by hand (asks what was done)", k_done },
	{ { 'a' }, "a", "add a timestamped note to the journal", k_note },
	{ { 'n' }, "n", "next search match; without a search, add a note", k_n },
	{ { 'N' }, "N", "previous search match", k_prev },
	{ { '/' }, "/", "search the selected step's output", k_search },
	{ { 27 }, "Esc", "end the search; clear the message", k_escape },
	{ { 'x', CTRL('c') }, "x, Ctrl-C", "cancel the running step (asks first)", k_cancel },
	{ { '?', KEY_F(1) }, "?, F1", "this help", k_help },
	{ { 'q' }, "q", "quit (asks; the run stays open for qrh resume)", k_quit },
};

#define N_BINDINGS (sizeof bindings / sizeof *bindings)

/* What only the console that runs the run may do. */
static bool writes(void (*fn)(struct console *c))
{
	return fn == k_run || fn == k_skip || fn == k_done || fn == k_note ||
	       fn == k_cancel;
}

void console_key(struct console *c, int key)
{
	if (c->dlg.kind != DLG_NONE) {
		dialog_key(c, key);
		console_mark_dirty(c);
		return;
	}
	if (key != 27)
		c->status[0] = '\0';
	for (size_t i = 0; i < N_BINDINGS; i++) {
		for (size_t k = 0; k < 3; k++) {
			if (bindings[i].keys[k] == key && (key || k == 0)) {
				if (c->read_only && (writes(bindings[i].fn) ||
						     (bindings[i].fn == k_n && !(c->search[0] && c->view == VIEW_OUTPUT)))) {
					console_set_status(c, "read-only: qrh watch follows the run, it cannot change it");
					return;
				}
				if (c->read_only && bindings[i].fn == k_quit) {
					c->quit = true;
					return;
				}
				bindings[i].fn(c);
				console_mark_dirty(c);
				return;
			}
		}
	}
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
