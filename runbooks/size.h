/* size: "65536", "64KiB", "1MiB" <-> bytes.
 *
 * A size is decimal digits, optionally followed by KiB or MiB (powers of
 * 1024), no sign, no fraction, no space. The canonical form written back
 * is the largest unit that divides the value exactly, so text -> bytes ->
 * text is stable. */
#ifndef QRH_RUNBOOKS_SIZE_H
#define QRH_RUNBOOKS_SIZE_H

#include <stdint.h>

#define SIZE_TEXT_MAX 32

/* 0 and *bytes in [1, max]; -1 and a reason otherwise. */
int size_parse(const char *s, int64_t max, int64_t *bytes, const char **why);
void size_format(int64_t bytes, char out[SIZE_TEXT_MAX]);

#endif
