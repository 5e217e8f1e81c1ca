/* utf8: checking and cutting UTF-8 text. */
#ifndef QRH_UTF8_H
#define QRH_UTF8_H

#include <stddef.h>

#include <stdbool.h>

#include "util/buf.h"

/* Length of the valid UTF-8 sequence at p (1 to 4), or 0 (RFC 3629: no
 * overlongs, no surrogates, nothing above U+10FFFF). left >= 1. */
size_t utf8_seq(const unsigned char *p, size_t left);

/* Appends at most max bytes of text from the start of p: valid UTF-8,
 * never a character cut in two, each invalid byte and each NUL replaced
 * by U+FFFD. For excerpts of bytes that came from elsewhere. */
void utf8_excerpt(const char *p, size_t len, size_t max, struct buf *out);

#endif
