/* score: the score card of a drill — how a trainee did, from the journal
 * alone (so the console, qrh show, qrh export and qrh drill --history
 * agree).
 *
 * Per step: its time (from when it came up — the previous step settling,
 * or the run or its resume starting — to when it settled; time while no
 * qrh ran the run does not count), its par (the step's par=), attempts
 * and retries, whether it was skipped, the hints shown (h in the
 * console), and for an expect=fail step whether it failed as designed.
 * Totals add those up. The faults the trainer injected (the drill event)
 * are part of the card; the console and plain mode show the card only at
 * the end, and qrh show keeps the faults to itself until the run has
 * ended. Objectives: the RTO from the step marked rto_start (its first
 * start) to the step marked rto_stop (its first good end), and the RPO
 * from the last action values with window_ms (sql recipe=rpo), each
 * against the runbook's budget; a run that ended with the RTO clock
 * started and never stopped has not met its RTO. Library code: nothing here prints. */
#ifndef QRH_STATE_SCORE_H
#define QRH_STATE_SCORE_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/journal.h"
#include "state/report.h"
#include "util/buf.h"
#include "util/err.h"

struct score_step {
	char *id;
	char *title;
	enum step_status status;
	int64_t time_ms; /* REPORT_NONE: never settled */
	int64_t par_ms;  /* -1: no par */
	int attempts;
	int hints;
	bool expect_fail;
	bool as_designed; /* settled the way the runbook meant */
	bool faulted;     /* a fail-once fault failed its first attempt */
};

struct score_objective {
	int64_t budget_ms;   /* -1: none */
	int64_t measured_ms; /* REPORT_NONE: not measured */
	int64_t rows_lost;   /* rpo; REPORT_NONE: not measured */
	int met;             /* 1, 0, -1 not known */
	bool never_stopped;  /* rto: the run ended with its clock running */
};

struct drill_score {
	bool drill; /* the run is a drill */
	bool ended;
	char outcome[16]; /* "" while it goes on */
	struct score_step *steps;
	size_t n_steps;
	int64_t total_ms, par_total_ms;
	int with_par, within_par, skips, retries, hints;
	cJSON *faults; /* the drill event's faults (an array), or NULL */
	struct score_objective rto, rpo;
};

/* The score of the run a report describes (events re-read from j).
 * 0 and *out, or -1. */
int score_load(struct journal *j, const struct run_report *r,
	       struct drill_score *out, struct err *e);
void score_release(struct drill_score *s);
/* The card as JSON (caller deletes). hide_faults: name how many, not which. */
cJSON *score_json(const struct drill_score *s, bool hide_faults);
/* The card as text lines for people (qrh's own words; step titles are the
 * runbook's: sanitize before drawing). */
void score_text(const struct drill_score *s, bool hide_faults, struct buf *out);
/* "2m05s", "850ms". */
void score_duration(int64_t ms, char *out, size_t n);

#endif
