/* words: argument lists written as text, as in ```exec and ```velero blocks.
 *
 * Splitting follows a small, fixed subset of shell quoting and does nothing
 * else: whitespace (including newlines) separates words; '...' is literal;
 * "..." is literal except that \" and \\ stand for " and \; outside quotes a
 * backslash takes the next character literally (a backslash-newline joins
 * lines). There is no expansion of any kind: ${VAR} stays in the word and is
 * replaced later by the runbook variable, as one whole argument. */
#ifndef QRH_RUNBOOKS_WORDS_H
#define QRH_RUNBOOKS_WORDS_H

#include <stddef.h>

#include "runbooks/model.h"
#include "util/buf.h"

/* Appends the words of s[0..n) to out. On error returns -1 with a reason
 * and the byte offset where the problem starts. */
int words_split(const char *s, size_t n, struct strv *out, const char **why,
		size_t *err_off);
/* Appends word quoted so that words_split gives it back exactly. */
void words_quote(struct buf *b, const char *word);

#endif
