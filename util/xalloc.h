/* xalloc: allocation that never returns NULL.
 *
 * qrh treats running out of memory as fatal: every x* function either
 * returns usable memory or prints one line to stderr and aborts. Sizes are
 * checked for overflow before multiplication. */
#ifndef QRH_XALLOC_H
#define QRH_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
/* Grow an array to hold at least `need` elements of `size`, doubling. */
void *xgrow(void *p, size_t *cap, size_t need, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* NULL in, NULL out. */
char *xstrdup_or_null(const char *s);

#endif
