/* jmember: reading a member of a JSON object (a journaled payload) without
 * trusting its type. Pure functions. */
#ifndef QRH_UTIL_JMEMBER_H
#define QRH_UTIL_JMEMBER_H

#include <cjson/cJSON.h>
#include <stdint.h>

/* The member's text; NULL when p is not an object, or the member is
 * absent or not a string. */
const char *jmember_str(const cJSON *p, const char *key);

/* The member as a whole number; dflt when it is absent, not a number, NaN
 * or outside int64_t. */
int64_t jmember_int(const cJSON *p, const char *key, int64_t dflt);

#endif
