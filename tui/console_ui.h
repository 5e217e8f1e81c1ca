/* The console's own state, shared by its files: console.c (the loop and
 * the engine's events), console_draw.c (drawing), console_keys.c (the key
 * table and what keys do), console_dialog.c (modal questions),
 * console_choices.c (the questions the run policy asks: run, failure,
 * interruption, abort), console_output.c (what a step printed, attempt by
 * attempt, and its background tasks), console_notes.c (the notes list),
 * console_objectives.c (the header's objectives). This is the front end's
 * state: the one place where qrh keeps mutable state outside a struct
 * passed around, because curses itself is global.
 *
 * The selection rule: the steps list has one selected step, and the keys
 * that act on a step act on it. After a step settles (run_select_after)
 * the selection moves to the first step that is not settled, and the
 * detail pane keeps showing the settled step's result (result_of) until
 * the operator moves the selection. A step that starts is selected and
 * shown. */
#ifndef QRH_TUI_CONSOLE_UI_H
#define QRH_TUI_CONSOLE_UI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "state/run.h"
#include "tui/layout.h"
#include "tui/scrollback.h"
#include "tui/styled.h"
#include "util/buf.h"

#define CONSOLE_SEARCH_MAX 128
#define CONSOLE_INPUT_MAX 1024
/* A dialog takes no key in its first moments: keys typed ahead (the
 * second y of yy, the rest of a sentence) are dropped, and it says so. */
#define CONSOLE_DIALOG_GUARD_MS 250
/* After a refused key, printable keys are dropped until none has come
 * for this long: text typed at the wrong moment never runs as keys. */
#define CONSOLE_REFUSED_LOCK_MS 500
/* What a dialog's prompt says during its guard (the tests wait for it
 * to go). */
#define CONSOLE_GUARD_TEXT "one moment: keys typed now are ignored"

enum pane { PANE_STEPS, PANE_DETAIL };
enum view { VIEW_INSTRUCTIONS, VIEW_OUTPUT };

enum dialog_kind {
	DLG_NONE,
	DLG_YESNO,   /* y / n */
	DLG_TYPED,   /* type a word, Enter */
	DLG_TEXT,    /* free text, Enter (a reason, a note, a search) */
	DLG_MENU,    /* one of the keys in `choices` */
	DLG_HELP,    /* a page to read (keys, notes): any other key closes */
};

struct console;
typedef void dialog_done_fn(struct console *c, int key, const char *text);

struct dialog {
	enum dialog_kind kind;
	char title[160];
	struct styled_text body;
	char choices[16];
	char word[64];    /* DLG_TYPED: what must be typed */
	char how[24];     /* a confirmation: how it is journaled; skip or done */
	char done_label[64]; /* DLG_YESNO: what the answers mean; DLG_TYPED:
			      * what the word does ("to run") */
	struct buf input;
	dialog_done_fn *done;
	size_t step;
	int scroll; /* first body row shown */
	int page;   /* body rows a page scrolls, set when drawn */
	int64_t opened_ns; /* keys before opened_ns + the guard are dropped */
	int dropped;       /* keys dropped so */
	uint64_t guard_timer; /* redraws when the guard is over */
};

/* A background task of a step: its own stream, under a header. */
/* A task shown under a header of its own: a background task, or a
 * fan-out member (one host). */
struct bg_view {
	int64_t task;
	bool member;
	char *label; /* sanitized; NULL: none */
	struct scrollback *sb;
	struct sb_line head; /* the header line, rewritten when drawn */
	char head_text[160];
};

/* What a step printed, as shown: its attempts in one scrollback with a
 * mark line closing each, then each background task. Lines are indexed
 * across all of it (console_output.c). */
struct step_view {
	struct scrollback *sb;
	struct bg_view *bg;
	size_t n_bg;
	bool scrolled;  /* false: the end is shown, following new output */
	size_t top;     /* scrolled: the first line shown */
	int top_row;    /* and how many of its rows are scrolled past */
	int hcol;       /* horizontal-scroll mode: the first column shown */
	int64_t seen_sig; /* watch: what was read from the journal */
	uint64_t used;    /* when it was last fed or shown, for eviction */
	bool evicted;     /* freed for memory: reload from the journal */
	char live[120];   /* its running action's live values, in words */
};

/* Scrollbacks kept in memory at once; the others are reloaded from the
 * journal (head and tail) when their step is shown again. */
#define CONSOLE_SCROLLBACKS_KEPT 16

struct console {
	struct run *run;
	struct loop *loop;
	const struct runbook *rb;
	struct layout lay;
	int lines, cols;
	bool ascii, color, resumed, read_only;
	int (*send_note)(void *arg, const char *text, char *msg, size_t n);
	void *note_arg; /* console_opts: a watcher's notes */
	bool ascii_lines; /* QRH_ASCII: frames of | - + instead of line drawing */
	uint64_t poll_timer;
	size_t sel;
	long result_of; /* the settled step whose result the detail pane
			 * shows until the operator moves; -1: the selection */
	bool *settled;  /* per step, as last seen: to notice it settling */
	long offer;     /* a step whose question waits for a dialog to close */
	bool pick_due;  /* a step settled: a pick it listed opens next */
	int steps_top;
	enum pane focus;
	enum view view;
	bool hscroll; /* w: long lines scroll sideways instead of wrapping */
	int instr_scroll;
	struct step_view *sv;
	int64_t locked_until_ns; /* printable keys dropped until then */
	char lock_why[256];
	struct dialog dlg;
	char search[CONSOLE_SEARCH_MAX];
	long match;
	bool dirty;
	uint64_t draw_timer;
	int64_t drawn_ns; /* when the last frame was drawn */
	uint64_t tick_timer;
	int64_t start_ns; /* when the run started, on the monotonic clock */
	int64_t end_ns;   /* when it ended; 0 while it goes on */
	int64_t head_seq;
	char head_hash[16];
	bool quit;
	bool aborted; /* the operator chose to abort the run */
	bool hangup;
	int interrupt;
	int exit_code;
	bool finished;
	char outcome[16]; /* once finished: ok, failed */
	unsigned spin;
	uint64_t clock; /* counts feeds and selections, for eviction */
	char status[256];
	/* a notice's end (monotonic ns): the key bar comes back then; 0 keeps
	 * the status until the next key */
	int64_t status_until_ns;
	size_t n_notes;
	char resume_cmd[512]; /* the quit dialog's words for continuing */
	/* the last RPO measured (an action's window_ms, sql recipe=rpo);
	 * STEP_NONE until then */
	int64_t rpo_window_ms, rpo_rows_lost;
};

/* A line of text qrh wrote itself, into a dialog or a pane. */
static inline void styled_add_str(struct styled_text *t, const char *s,
				  unsigned style)
{
	styled_add_plain(t, s, strlen(s), style);
}

/* The step the detail pane shows: a settled step's result, or the
 * selection. */
static inline size_t console_detail_step(const struct console *c)
{
	return c->result_of >= 0 ? (size_t)c->result_of : c->sel;
}

/* console_draw.c */
void console_draw(struct console *c);
const char *console_glyph(const struct console *c, enum step_status s);
/* Sanitized UTF-8 at (y, x), at most cols columns; the columns used. */
int console_put(int y, int x, const char *s, size_t n, int cols);
void console_format_duration(int64_t ms, char *out, size_t n);
/* What step i's status is, in words: "done", "attempt 2/5, next in 3 s". */
void console_status_text(const struct console *c, size_t i, char *out, size_t n);

/* console_live.c: a running action's live values, for its step's title */
void console_task(struct console *c, const struct run_task_view *t);

/* console_output.c */
/* A chunk of output, a journaled event: the step's view follows. */
void console_output_chunk(struct console *c, const struct run_chunk *ch);
void console_output_event(struct console *c, const struct journal_event *ev);
/* Step i's view is in memory, read back from the journal if it was
 * evicted; in qrh watch, read again when the journal has more. */
void console_show_output(struct console *c, size_t i);
void console_output_watch(struct console *c, size_t i);
void console_output_free(struct console *c);
/* Lines of step i's view, across its attempts and background tasks. */
size_t console_out_count(struct console *c, size_t i);
const struct sb_line *console_out_line(struct console *c, size_t i, size_t k);
/* Rows line l takes at cols columns: wrapped, or 1 in hscroll mode; and
 * where row `row` of it starts, in bytes. */
int console_line_rows(const struct console *c, const struct sb_line *l, int cols);
size_t console_row_start(const struct console *c, const struct sb_line *l,
			 int cols, int row);
/* The detail pane's text columns and rows, as last laid out. */
int console_out_cols(const struct console *c);
int console_out_rows(const struct console *c);
/* Scrolling the detail step's output by rows (up: negative). */
void console_out_scroll(struct console *c, int rows);
void console_out_top(struct console *c);
void console_out_follow(struct console *c);
/* The first line shown when step i's view follows the end; *row: its
 * first row shown. */
size_t console_out_follow_top(struct console *c, size_t i, int *row);
/* Search step i's view from line `from` forwards (dir > 0) or backwards,
 * wrapping; the line, or -1. */
long console_out_search(struct console *c, size_t i, const char *needle,
			size_t from, int dir);
/* Shows line k of the detail step at the top of the pane. */
void console_out_reveal(struct console *c, size_t k);
/* Step i (any step: -1) has a background task still running. */
bool console_bg_running(const struct console *c, long i);
size_t console_bg_count(const struct console *c);

/* console_probes.c: the probe pane, the header's clocks, and a probe's
 * change of state as a message */
void console_draw_probes(struct console *c);
void console_draw_clocks(struct console *c, int y, int x, int cols);
void console_probe_event(struct console *c, const struct journal_event *ev);
/* console_draw.c's drawing, for console_probes.c */
int console_put(int y, int x, const char *s, size_t n, int cols);
int console_put_untrusted(int y, int x, const char *s, int cols);
void console_fill(int y, int x, int cols);
void console_pane_title(const struct console *c, const struct rect *r, const char *t);

/* console_keys.c */
void console_key(struct console *c, int key);
/* Prints the key table (for `qrh help keys` and the man page test). */
void console_keys_print(FILE *out);
void console_help_dialog(struct console *c);
/* A key was refused: says why, and drops printable keys for a moment. */
void console_refuse(struct console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* console_choices.c: what the policy offers, as dialogs */
/* Enter on step i: the question its state asks (run it; what now after a
 * failure or an interruption), or a refusal. */
void console_ask_step(struct console *c, size_t i);
/* Dual control: where step i's approval stands, on the status line; true
 * once it is granted. */
bool console_approval_status(struct console *c, size_t i);
/* The question after step i failed or was interrupted; asked once no
 * other dialog is open. */
void console_offer(struct console *c, size_t i);
/* Asks why step i is skipped (CHOICE_SKIP) or what was done by hand
 * (CHOICE_DONE_BY_HAND), then records it. */
void console_ask_close(struct console *c, size_t i, enum run_choice choice);
/* Abort the run: asks for the typed word. */
void console_ask_abort(struct console *c);

/* console_pick.c: a value to pick from a list a step printed */
/* Opens the pick list when the run waits for a pick; false if none. */
bool console_offer_pick(struct console *c);

/* console_notes.c: the run's notes, with times and authors */
void console_notes_dialog(struct console *c);

/* console_dialog.c */
void dialog_open(struct console *c, enum dialog_kind kind, const char *title,
		 dialog_done_fn *done);
void dialog_close(struct console *c);
void dialog_key(struct console *c, int key);
/* The dialog opened too recently to take a key. */
bool dialog_guarded(const struct console *c);

/* console.c */
void console_mark_dirty(struct console *c);
void console_set_status(struct console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A status line that gives the key bar back after CONSOLE_NOTICE_MS by
 * itself (a probe's change of state: the journal and the probe pane keep
 * it; the keys must not stay hidden behind it). */
#define CONSOLE_NOTICE_MS 6000
void console_set_notice(struct console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Starts step i after the operator confirmed it (how as for the engine). */
void console_start_step(struct console *c, size_t i, const char *how);
/* Selects step i; the detail pane shows it. */
void console_select(struct console *c, size_t i);

#endif
