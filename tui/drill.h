/* drill: what qrh drill (run --drill) adds to a run, in the front end:
 * the sandbox's values for the runbook's variables, the faults a trainer
 * injects (the runbook's faults: and --fault) applied to the sandbox
 * before the first step and cleared when the run ends, the score card
 * at the end (state/score.h), and qrh drill --history. */
#ifndef QRH_TUI_DRILL_H
#define QRH_TUI_DRILL_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "runbooks/model.h"
#include "state/journal.h"
#include "state/run.h"

struct drill {
	cJSON *faults;      /* the drill event's faults, as applied */
	bool sandbox;       /* a sandbox answered (its env file exists) */
	bool quiet;         /* a console is on the terminal */
};

/* Checks the faults (the runbook's, then cli's) and applies the
 * sandbox's; 0, or -1 having said why (a fault that does not parse or
 * names no step). */
int drill_setup(struct drill *d, const struct runbook *rb,
		const struct strv *cli_faults, bool quiet, const char *cmd);
/* Gives the runbook's variables the sandbox's values, except those given
 * with -v (given: NAME=SPEC). */
void drill_values(struct drill *d, struct run *r, const struct strv *given);
/* After the front end: when run id has ended, clear the sandbox's faults
 * and, print set, print the score card to stdout. */
void drill_after(struct drill *d, struct journal *j, int64_t id, bool print);
void drill_release(struct drill *d);
/* The score card of run id as text (NULL when it cannot be read); caller
 * frees. */
char *drill_card(struct journal *j, int64_t id, bool hide_faults);
/* qrh drill --history RUNBOOK. */
int drill_history(const char *journal, const char *runbook);

#endif
