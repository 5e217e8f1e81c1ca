/* report_priv: what report.c shares with report_probes.c. */
#ifndef QRH_STATE_REPORT_PRIV_H
#define QRH_STATE_REPORT_PRIV_H

#include <cjson/cJSON.h>
#include <stdint.h>

#include "state/report.h"
#include "state/report_json.h" /* report_json_int, report_json_time */

/* report_probes.c: the probes' sample counts and the objectives (with a
 * probe's RPO), after the fold; and their members of the document. */
int report_probes_load(struct journal *j, struct run_report *r, struct err *e);
void report_probes_json(const struct run_report *r, cJSON *doc);

#endif
