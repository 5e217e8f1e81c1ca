/* probe_text: the words for probes and objectives that every front end
 * prints — plain mode's lines, the console's messages and clocks, qrh
 * show. Text from outside qrh (probe values, commands) is sanitized here. */
#ifndef QRH_TUI_PROBE_TEXT_H
#define QRH_TUI_PROBE_TEXT_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/fold.h"
#include "state/journal.h"
#include "util/buf.h"

/* A clock reading: "850 ms", "4.25 s", "4m05s", "1h02m". */
void probe_text_ms(int64_t ms, char *out, size_t n);
/* The line for an objectives or probe_* event; false for other events. */
bool probe_event_text(const struct journal_event *ev, const cJSON *p,
		      struct buf *out);
/* What happened to the RTO clock since *seen_start and *seen_stop (the
 * seqs already told), one line each, updating them: plain mode prints them
 * as they happen. */
void objectives_news(const struct run_fold *f, int64_t *seen_start,
		     int64_t *seen_stop, struct buf *out);
/* The verdict: "RTO 4m05s of 15m00s: met; RPO 900 ms of 5m00s, 3 rows
 * lost: met" ("no objectives" when none). */
void objectives_verdict(const struct run_fold *f, const struct fold_objectives *o,
			struct buf *out);

#endif
