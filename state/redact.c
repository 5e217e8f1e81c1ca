#include "state/redact.h"

#include <stdbool.h>
#include <string.h>

void redactor_init(struct redactor *r, const struct strv *secrets)
{
	r->secrets = secrets;
	r->longest = 0;
	for (size_t i = 0; i < secrets->n; i++) {
		size_t n = strlen(secrets->v[i]);
		if (n > r->longest)
			r->longest = n;
	}
	buf_init(&r->hold, BUF_UNLIMITED);
}

void redactor_release(struct redactor *r)
{
	buf_release(&r->hold);
}

/* The earliest secret in s[0..n): its offset and length, or n. */
static size_t find_secret(const struct strv *sv, const char *s, size_t n,
			  size_t *len)
{
	size_t best = n;
	for (size_t i = 0; i < sv->n; i++) {
		size_t sl = strlen(sv->v[i]);
		if (!sl || sl > n)
			continue;
		const char *hit = memmem(s, best < n ? best + sl : n, sv->v[i], sl);
		if (hit && (size_t)(hit - s) < best) {
			best = (size_t)(hit - s);
			*len = sl;
		}
	}
	return best;
}

/* The longest suffix of s[0..n) that is a proper prefix of a secret: the
 * only bytes that could still turn out to be the start of one. Usually 0,
 * so output is released as soon as it arrives. */
static size_t held_suffix(const struct strv *sv, const char *s, size_t n,
			  size_t longest)
{
	size_t max = longest - 1 < n ? longest - 1 : n;
	for (size_t k = max; k > 0; k--)
		for (size_t i = 0; i < sv->n; i++)
			if (strlen(sv->v[i]) > k && !memcmp(s + n - k, sv->v[i], k))
				return k;
	return 0;
}

/* Redacts s[0..n) into out, keeping back in hold the trailing bytes that
 * may begin a secret (all of them at the end of a stream: flush). */
static void emit(struct redactor *r, const char *s, size_t n, bool flush,
		 struct buf *out)
{
	size_t pos = 0;
	for (;;) {
		size_t len = 0;
		size_t at = find_secret(r->secrets, s + pos, n - pos, &len);
		if (at == n - pos)
			break;
		buf_add(out, s + pos, at);
		buf_adds(out, REDACT_MASK);
		pos += at + len;
	}
	size_t rest = n - pos;
	size_t keep = flush ? 0 : held_suffix(r->secrets, s + pos, rest, r->longest);
	size_t release = rest - keep;
	buf_add(out, s + pos, release);
	struct buf next;
	buf_init(&next, BUF_UNLIMITED);
	buf_add(&next, s + pos + release, rest - release);
	buf_release(&r->hold);
	r->hold = next;
}

void redactor_feed(struct redactor *r, const char *in, size_t n,
		   struct buf *out)
{
	if (!r->longest) {
		buf_add(out, in, n);
		return;
	}
	struct buf all;
	buf_init(&all, BUF_UNLIMITED);
	buf_add(&all, r->hold.data, r->hold.len);
	buf_add(&all, in, n);
	emit(r, all.data, all.len, false, out);
	buf_release(&all);
}

void redactor_flush(struct redactor *r, struct buf *out)
{
	if (!r->longest)
		return;
	struct buf all;
	buf_init(&all, BUF_UNLIMITED);
	buf_add(&all, r->hold.data, r->hold.len);
	emit(r, all.data, all.len, true, out);
	buf_release(&all);
}

void redact_string(const struct strv *secrets, const char *s, struct buf *out)
{
	struct redactor r;
	redactor_init(&r, secrets);
	redactor_feed(&r, s, strlen(s), out);
	redactor_flush(&r, out);
	redactor_release(&r);
}
