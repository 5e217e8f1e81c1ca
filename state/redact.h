/* redact: keeps secret values out of everything qrh stores or shows.
 *
 * A redactor replaces every occurrence of any secret in a stream with
 * REDACT_MASK, also when a secret is split across two chunks: it holds back
 * only the trailing bytes that are the beginning of some secret (usually
 * none), until it knows whether the secret follows. So output is released
 * as soon as it arrives. With no secrets it passes data through untouched. Hashes and byte
 * counts recorded for output are of the redacted stream. */
#ifndef QRH_STATE_REDACT_H
#define QRH_STATE_REDACT_H

#include <stddef.h>

#include "runbooks/model.h"
#include "util/buf.h"

#define REDACT_MASK "***"

struct redactor {
	const struct strv *secrets; /* borrowed; empty strings ignored */
	size_t longest;
	struct buf hold;
};

void redactor_init(struct redactor *r, const struct strv *secrets);
void redactor_release(struct redactor *r);
/* Appends the redacted bytes that are safe to release to out. */
void redactor_feed(struct redactor *r, const char *in, size_t n,
		   struct buf *out);
/* End of stream: releases what was held back. */
void redactor_flush(struct redactor *r, struct buf *out);
/* One-shot for short text (commands, values shown for confirmation). */
void redact_string(const struct strv *secrets, const char *s, struct buf *out);

#endif
