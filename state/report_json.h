/* report_json: how the evidence document writes a number, a string and a
 * time (state/report.c), for the files that add members to it. Absent
 * numbers (REPORT_NONE) and strings (NULL) are null; a time of 0 or
 * REPORT_NONE is null, others RFC 3339 UTC with milliseconds; integers
 * past 2^53 are written exactly. */
#ifndef QRH_STATE_REPORT_JSON_H
#define QRH_STATE_REPORT_JSON_H

#include <cjson/cJSON.h>
#include <stdint.h>

void report_json_int(cJSON *o, const char *key, int64_t v);
void report_json_str(cJSON *o, const char *key, const char *s);
void report_json_time(cJSON *o, const char *key, int64_t wall_ms);

/* What each attempt ran and where, picks, interruptions and reaped tasks,
 * gathered from the events in order (state/report_actions.c) and moved
 * into the document by report_acts_finish (see report_evidence_json). */
struct journal_event;
struct report_acts {
	cJSON *by_attempt; /* "STEP:ATTEMPT": [action, ...] */
	cJSON *picks, *interruptions, *reaped, *survivor_choices;
};
void report_acts_init(struct report_acts *a);
void report_acts_event(struct report_acts *a, const struct journal_event *ev);
void report_acts_finish(struct report_acts *a, cJSON *doc);
void report_acts_release(struct report_acts *a);

#endif
