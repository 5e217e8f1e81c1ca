/* console: the ncurses front end. It shows the run — header with clocks
 * and the journal head, the steps, the selected step's instructions or
 * live output, probes, a key bar — and turns the operator's keys into
 * engine calls: nothing runs until the operator confirmed it in a dialog
 * that shows exactly what will run (secrets masked).
 *
 * It owns the terminal from console_drive until it returns, and restores
 * it on every way out (quit, signals, fatal errors). Drawing happens at
 * most CONSOLE_FPS times a second, however fast output arrives. */
#ifndef QRH_TUI_CONSOLE_H
#define QRH_TUI_CONSOLE_H

#include <stdbool.h>

#include "state/run.h"

#define CONSOLE_FPS 30

struct console_opts {
	bool resumed;   /* offer the choice for interrupted steps at once */
	bool read_only; /* qrh watch: follow a run another qrh is running */
	/* what continues the run, as the quit dialog prints it (NULL: qrh
	 * resume); a journal given with --journal must be named in it */
	const char *resume_cmd;
	void (*on_signals_ready)(bool hold);
	/* qrh watch --team on a run whose runbook says notes: anyone: the a
	 * key sends the note through this, which puts what became of it in
	 * msg (0 sent, -1 not). NULL: a watcher takes no notes. */
	int (*send_note)(void *arg, const char *text, char *msg, size_t n);
	void *note_arg;
};

/* The listener the console needs the engine to report through; call
 * before run_open/run_reopen. */
void console_listener(struct run_listener *lis);
/* Drives the opened run until the operator quits or it ends; returns the
 * exit code (enum qrh_exit). */
int console_drive(struct run *r, struct loop *l, const struct console_opts *o);

#endif
