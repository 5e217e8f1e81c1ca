/* fake_action: an action kind scripted by the test, for driving the engine
 * (state/run*.c) without processes or servers.
 *
 * The action's body (an sh block's script) is a script, one command a
 * line, run on loop timers:
 *   out TEXT        TEXT and a newline on stdout
 *   err TEXT        the same on stderr
 *   bytes N         N bytes on stdout, 16 KiB per loop pass
 *   progress JSON   live values
 *   values JSON     the result's values
 *   wait MS         pause
 *   waitby A:MS,..  pause as long as given for this task's target (A)
 *   exitby A:N,..   exit with the code given for this task's target
 *   exit N          done: ok for 0, failed otherwise (the last command)
 *   unknown         done with status unknown
 *   hang            nothing more until cancelled
 *   fail-start MSG  start fails with MSG (nothing runs)
 *   spawn           report a (fake) process group, pgid 999999
 * A script that ends without exit/unknown/hang is `exit 0`. The kind keeps
 * counters the test reads: runs started, running now and the most at once. */
#ifndef QRH_TESTS_FAKE_ACTION_H
#define QRH_TESTS_FAKE_ACTION_H

#include "actions/action.h"

struct fake_stats {
	int started;
	int running;
	int max_running;
	int cancelled;
	int freed_running; /* freed before done: stopped without a callback */
	int done_from_cancel; /* done called from inside cancel: a bug */
	int opened, closed;  /* per-kind state */
};

extern struct fake_stats fake_stats;
extern const struct action_entry fake_entry;
/* An entries table for run_opts.entries: every process kind is the fake. */
extern const struct action_entry *const fake_entries[ACTION_KIND_COUNT];

void fake_reset(void);

#endif
