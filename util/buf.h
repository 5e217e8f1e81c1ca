/* buf: a growable byte buffer with a hard maximum.
 *
 * Invariants: after buf_init, `data` is never NULL and always NUL-terminated
 * at data[len]; len <= max. Appending past `max` appends what fits and
 * returns -1, so a hostile input can never grow a buffer without bound.
 * Ownership verbs: init / reset (empty, keep memory) / release (free) /
 * detach (hand the string to the caller, buffer becomes empty). */
#ifndef QRH_BUF_H
#define QRH_BUF_H

#include <stdarg.h>
#include <stddef.h>

#define BUF_UNLIMITED ((size_t)-1 / 2)

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

void buf_init(struct buf *b, size_t max);
void buf_reset(struct buf *b);
void buf_release(struct buf *b);
char *buf_detach(struct buf *b, size_t *len);

int buf_add(struct buf *b, const void *p, size_t n);
int buf_adds(struct buf *b, const char *s);
int buf_addc(struct buf *b, char c);
int buf_addf(struct buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int buf_vaddf(struct buf *b, const char *fmt, va_list ap)
	__attribute__((format(printf, 2, 0)));

#endif
