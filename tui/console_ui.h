/* The console's own state, shared by its files: console.c (the loop and
 * the engine's events), console_draw.c (drawing), console_keys.c (the key
 * table and what keys do), console_dialog.c (modal questions). This is
 * the front end's state: the one place where qrh keeps mutable state
 * outside a struct passed around, because curses itself is global. */
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

enum pane { PANE_STEPS, PANE_DETAIL };
enum view { VIEW_INSTRUCTIONS, VIEW_OUTPUT };

enum dialog_kind {
	DLG_NONE,
	DLG_YESNO,   /* y / n */
	DLG_TYPED,   /* type a word, Enter */
	DLG_TEXT,    /* free text, Enter (a reason, a note, a search) */
	DLG_MENU,    /* one of the keys in `choices` */
	DLG_HELP,    /* the key table, any key closes */
};

struct console;
typedef void dialog_done_fn(struct console *c, int key, const char *text);

struct dialog {
	enum dialog_kind kind;
	char title[160];
	struct styled_text body;
	char choices[16];
	char word[64];    /* DLG_TYPED: what must be typed */
	char done_label[64]; /* DLG_YESNO: what the answers mean */
	struct buf input;
	dialog_done_fn *done;
	size_t step;
	int scroll; /* first body row shown */
	int page;   /* body rows a page scrolls, set when drawn */
};

struct step_view {
	struct scrollback *sb;
	int scroll; /* lines up from the bottom; 0 follows new output */
	int64_t seen_bytes; /* watch: output already shown */
	int seen_attempt;
	uint64_t used;      /* when it was last fed or shown, for eviction */
	bool evicted;       /* freed for memory: reload from the journal */
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
	bool ascii_lines; /* QRH_ASCII: frames of | - + instead of line drawing */
	uint64_t poll_timer;
	size_t sel;
	int steps_top;
	bool user_moved; /* the operator chose a step: don't move the cursor */
	enum pane focus;
	enum view view;
	int instr_scroll;
	struct step_view *sv;
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

/* console_draw.c */
void console_draw(struct console *c);
const char *console_glyph(const struct console *c, enum step_status s);

/* console_keys.c */
void console_key(struct console *c, int key);
/* Prints the key table (for `qrh help keys` and the man page test). */
void console_keys_print(FILE *out);
void console_help_dialog(struct console *c);
/* Asks why step i is skipped / what was done by hand, then records it. */
void console_ask_skip(struct console *c, size_t i);
void console_ask_done(struct console *c, size_t i);

/* console_dialog.c */
void dialog_open(struct console *c, enum dialog_kind kind, const char *title,
		 dialog_done_fn *done);
void dialog_close(struct console *c);
void dialog_key(struct console *c, int key);

/* console.c */
void console_mark_dirty(struct console *c);
void console_set_status(struct console *c, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* Starts step i after the operator confirmed it (how as for the engine). */
void console_start_step(struct console *c, size_t i, const char *how);
/* Asks for step i: the confirmation dialog fitting its confirm mode. */
void console_ask_step(struct console *c, size_t i);
/* The selected step's output is in memory (reloaded if it was evicted). */
void console_show_output(struct console *c, size_t i);
/* Moves the cursor to the next step that is not final. */
void console_follow_next(struct console *c);

#endif
