/* clock: the two clocks qrh keeps.
 *
 * Durations always come from the monotonic clock; the wall clock is only
 * for display and for stamping events. */
#ifndef QRH_CLOCK_H
#define QRH_CLOCK_H

#include <stddef.h>
#include <stdint.h>

#define RFC3339_MS_LEN 25 /* "2026-11-27T05:05:20.123Z" + NUL */
#define CLOCK_BOOT_ID_MAX 40 /* a UUID + NUL */

int64_t clock_mono_ns(void);
int64_t clock_wall_ms(void);
/* Formats UTC wall milliseconds as RFC 3339 with milliseconds. */
void clock_rfc3339_ms(int64_t wall_ms, char out[RFC3339_MS_LEN]);
/* A duration as precise as a reader needs: 120 ms, 2.5 s, 3m 05s,
 * 1h 02m. */
void clock_duration_words(int64_t ms, char *out, size_t n);
/* The kernel's id of this boot ("" if unknown): monotonic times compare
 * only within one boot. */
void clock_boot_id(char out[CLOCK_BOOT_ID_MAX]);

#endif
