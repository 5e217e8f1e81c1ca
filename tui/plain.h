/* plain: the line-mode front end, for CI, logs and terminals without the
 * console. One line per journaled event, with an RFC 3339 timestamp; step
 * output as "[N] | line" (stdout) and "[N] ! line" (stderr), all through
 * the sanitizer. Confirmations come from --yes and --typed ID=WORD, or
 * from the terminal when stdin is one; otherwise plain mode refuses. */
#ifndef QRH_TUI_PLAIN_H
#define QRH_TUI_PLAIN_H

#include <stdbool.h>

#include "runbooks/model.h"
#include "state/run.h"

enum interrupted_choice { INTERRUPTED_ASK, INTERRUPTED_RERUN, INTERRUPTED_SKIP };

struct plain_opts {
	bool yes;
	bool dry_run;
	bool quiet_output;
	struct strv typed; /* ID=WORD */
	enum interrupted_choice interrupted;
	/* Called with false once the loop handles SIGINT, SIGTERM, SIGHUP. */
	void (*on_signals_ready)(bool hold);
};

/* Drives an opened (or reopened) run to its end; returns the exit code. */
int plain_drive(struct run *r, struct loop *l, const struct plain_opts *o);
/* The listener plain mode prints through; arg is unused. */
void plain_listener(struct run_listener *lis);
/* Where that listener reports settled steps (plain_drive sets it). */
void plain_listener_steps(void (*fn)(void *arg, size_t step), void *arg);
/* The run whose clocks that listener tells of (plain_drive sets it). */
void plain_listener_run(const struct run *r);
/* Asks for a line on the terminal (no echo when secret); NULL when stdin
 * is not a terminal or at end of file. Caller frees. */
char *plain_ask(const char *prompt, bool secret);

#endif
