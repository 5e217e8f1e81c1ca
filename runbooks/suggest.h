/* suggest: "did you mean" for misspelt names. */
#ifndef QRH_RUNBOOKS_SUGGEST_H
#define QRH_RUNBOOKS_SUGGEST_H

#include <stddef.h>

/* The closest of `names` (n of them, NULL entries skipped) to `word` within
 * a small edit distance, or NULL when none is close enough. */
const char *suggest_closest(const char *word, const char *const *names,
			    size_t n);

#endif
