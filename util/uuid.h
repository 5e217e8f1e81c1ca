/* uuid: random (version 4) UUIDs, the global names of runs in team mode.
 *
 * 122 random bits from the kernel (getrandom(2)), written in the usual
 * lowercase 8-4-4-4-12 form. */
#ifndef QRH_UTIL_UUID_H
#define QRH_UTIL_UUID_H

#include <stdbool.h>

#define UUID_TEXT_LEN 36

/* Writes a new UUID and a NUL into out; 0, or -1 when the kernel gave no
 * randomness (the caller must not make one up). */
int uuid_new(char out[UUID_TEXT_LEN + 1]);
/* Is s a UUID in the lowercase text form? */
bool uuid_valid(const char *s);

#endif
