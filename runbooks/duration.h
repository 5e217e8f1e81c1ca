/* duration: "90s", "15m", "1h30m", "500ms" <-> milliseconds.
 *
 * A duration is one or more <digits><unit> groups with units h, m, s, ms,
 * in decreasing order, no spaces, no sign, no fractions. The canonical form
 * written back is the shortest such string, so text -> ms -> text is stable. */
#ifndef QRH_RUNBOOKS_DURATION_H
#define QRH_RUNBOOKS_DURATION_H

#include <stdint.h>

#define DURATION_MAX_MS ((int64_t)30 * 24 * 3600 * 1000) /* 30 days */
#define DURATION_TEXT_MAX 32

/* 0 and *ms on success; -1 and a reason ("missing unit", …) otherwise. */
int duration_parse(const char *s, int64_t *ms, const char **why);
void duration_format(int64_t ms, char out[DURATION_TEXT_MAX]);

#endif
