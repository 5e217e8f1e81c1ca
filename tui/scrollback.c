/* scrollback: a step's output as a bounded ring of sanitized lines (see
 * scrollback.h).
 *
 * Raw bytes go through the stream's sanitizer a slice at a time, so the
 * scratch buffer stays small however much one feed brings. Sanitized bytes
 * collect in the stream's partial line, a fixed array; a newline or a full
 * array moves it into the ring as a line of its own allocation. The ring
 * grows by doubling up to SCROLLBACK_MAX_LINES entries: append and index
 * are O(1) (amortised), and once full, in lines or in SCROLLBACK_MAX_BYTES
 * of text, each append frees the oldest lines. */
#include "tui/scrollback.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

/* Raw bytes sanitized per step; the output is at most
 * SANITIZE_GROWTH_MAX times this plus a held escape sequence. */
#define SB_SLICE 4096

struct sb_stream_state {
	struct sanitizer san;
	char partial[SCROLLBACK_MAX_LINE_BYTES + 1];
	size_t len;
	bool continued; /* the partial continues a line already split */
	struct sb_line view; /* the partial as scrollback_line shows it */
};

struct scrollback {
	struct sb_line *ring; /* cap entries, growing to SCROLLBACK_MAX_LINES */
	size_t cap;
	size_t head;	       /* index of the oldest line */
	size_t n;
	size_t text_bytes;     /* held in the ring, at most SCROLLBACK_MAX_BYTES */
	uint64_t dropped;
	uint64_t bytes;
	struct sb_stream_state out, err;
	struct buf scratch; /* one slice's sanitized output */
};

/* An empty ring and two fresh streams. */
struct scrollback *scrollback_new(void)
{
	struct scrollback *sb = xcalloc(1, sizeof(*sb));

	sb->cap = 64;
	sb->ring = xcalloc(sb->cap, sizeof(*sb->ring));
	sanitize_init(&sb->out.san, 0);
	sanitize_init(&sb->err.san, 0);
	buf_init(&sb->scratch, BUF_UNLIMITED);
	return sb;
}

/* Free every kept line, then the ring. */
void scrollback_free(struct scrollback *sb)
{
	if (!sb)
		return;
	for (size_t i = 0; i < sb->n; i++)
		free(sb->ring[(sb->head + i) % sb->cap].text);
	free(sb->ring);
	buf_release(&sb->scratch);
	free(sb);
}

/* The state of one stream. */
static struct sb_stream_state *sb_stream(struct scrollback *sb,
					 enum sb_stream stream)
{
	return stream == SB_STDERR ? &sb->err : &sb->out;
}

/* Drop the oldest line. */
static void sb_ring_drop(struct scrollback *sb)
{
	sb->text_bytes -= sb->ring[sb->head].len;
	free(sb->ring[sb->head].text);
	sb->ring[sb->head].text = NULL;
	sb->head = (sb->head + 1) % sb->cap;
	sb->n--;
	sb->dropped++;
}

/* Grow the ring, oldest line first: small outputs (most steps) cost
 * little, and only a flood reaches SCROLLBACK_MAX_LINES. */
static void sb_ring_grow(struct scrollback *sb)
{
	size_t cap = sb->cap * 2 > SCROLLBACK_MAX_LINES ? SCROLLBACK_MAX_LINES : sb->cap * 2;
	struct sb_line *ring = xcalloc(cap, sizeof(*ring));
	for (size_t i = 0; i < sb->n; i++)
		ring[i] = sb->ring[(sb->head + i) % sb->cap];
	free(sb->ring);
	sb->ring = ring;
	sb->cap = cap;
	sb->head = 0;
}

/* Append a complete line; when the ring is full (in lines or in bytes)
 * the oldest lines go. */
static void sb_ring_push(struct scrollback *sb, enum sb_stream stream,
			 const char *text, size_t len, bool continued)
{
	struct sb_line *line;

	if (sb->n == sb->cap && sb->cap < SCROLLBACK_MAX_LINES)
		sb_ring_grow(sb);
	if (sb->n == sb->cap)
		sb_ring_drop(sb);
	while (sb->n && sb->text_bytes + len > SCROLLBACK_MAX_BYTES)
		sb_ring_drop(sb);
	sb->text_bytes += len;
	line = &sb->ring[(sb->head + sb->n++) % sb->cap];
	line->text = xmalloc(len + 1);
	memcpy(line->text, text, len);
	line->text[len] = '\0';
	line->len = len;
	line->stream = stream;
	line->continued = continued;
}

/* Where a full partial line may be cut without splitting a character:
 * before a lead byte whose character is not complete yet. */
static size_t sb_cut_point(const char *s, size_t len)
{
	size_t lead = len, need;
	unsigned char c;

	while (lead > 0 && len - lead < 4 &&
	       ((unsigned char)s[lead - 1] & 0xc0) == 0x80)
		lead--;
	if (lead == 0)
		return len;
	c = (unsigned char)s[--lead];
	need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
	return lead + need > len ? lead : len;
}

/* The partial line is full: move what ends on a character boundary into
 * the ring and keep the rest (at most 3 bytes) as the continuation. */
static void sb_split(struct scrollback *sb, enum sb_stream stream,
		     struct sb_stream_state *st)
{
	size_t cut = sb_cut_point(st->partial, st->len);

	sb_ring_push(sb, stream, st->partial, cut, st->continued);
	memmove(st->partial, st->partial + cut, st->len - cut);
	st->len -= cut;
	st->continued = true;
}

/* Add sanitized bytes without a newline to the partial line. */
static void sb_partial_add(struct scrollback *sb, enum sb_stream stream,
			   struct sb_stream_state *st, const char *s, size_t n)
{
	while (n > 0) {
		size_t room = SCROLLBACK_MAX_LINE_BYTES - st->len;
		size_t take = n < room ? n : room;

		memcpy(st->partial + st->len, s, take);
		st->len += take;
		s += take;
		n -= take;
		if (st->len == SCROLLBACK_MAX_LINE_BYTES)
			sb_split(sb, stream, st);
	}
}

/* The partial line is complete. */
static void sb_partial_end(struct scrollback *sb, enum sb_stream stream,
			   struct sb_stream_state *st)
{
	sb_ring_push(sb, stream, st->partial, st->len, st->continued);
	st->len = 0;
	st->continued = false;
}

/* Refresh what scrollback_line shows for a stream's partial line. */
static void sb_partial_view(struct sb_stream_state *st,
			    enum sb_stream stream)
{
	st->partial[st->len] = '\0';
	st->view = (struct sb_line){
		.text = st->partial,
		.len = st->len,
		.stream = stream,
		.continued = st->continued,
	};
}

/* Split sanitized output into lines. */
static void sb_take(struct scrollback *sb, enum sb_stream stream,
		    struct sb_stream_state *st, const char *s, size_t n)
{
	while (n > 0) {
		const char *nl = memchr(s, '\n', n);
		size_t len = nl ? (size_t)(nl - s) : n;

		sb_partial_add(sb, stream, st, s, len);
		if (!nl)
			break;
		sb_partial_end(sb, stream, st);
		s += len + 1;
		n -= len + 1;
	}
}

/* Raw output of one stream, in whatever chunks it arrives. */
void scrollback_feed(struct scrollback *sb, enum sb_stream stream,
		     const char *data, size_t len)
{
	struct sb_stream_state *st = sb_stream(sb, stream);

	sb->bytes += len;
	while (len > 0) {
		size_t n = len < SB_SLICE ? len : SB_SLICE;

		buf_reset(&sb->scratch);
		sanitize_feed(&st->san, data, n, &sb->scratch);
		sb_take(sb, stream, st, sb->scratch.data, sb->scratch.len);
		data += n;
		len -= n;
	}
	sb_partial_view(st, stream);
}

void scrollback_mark(struct scrollback *sb, const char *text, size_t len)
{
	sb_ring_push(sb, SB_MARK, text, len, false);
}

/* One stream has ended: what its sanitizer holds is shown, and its
 * partial line becomes a line. */
static void sb_stream_finish(struct scrollback *sb, enum sb_stream stream)
{
	struct sb_stream_state *st = sb_stream(sb, stream);

	buf_reset(&sb->scratch);
	sanitize_flush(&st->san, &sb->scratch);
	sb_take(sb, stream, st, sb->scratch.data, sb->scratch.len);
	if (st->len)
		sb_partial_end(sb, stream, st);
	st->continued = false;
	sb_partial_view(st, stream);
}

/* Both streams have ended. */
void scrollback_finish(struct scrollback *sb)
{
	sb_stream_finish(sb, SB_STDOUT);
	sb_stream_finish(sb, SB_STDERR);
}

/* Complete lines, then the partial tails that hold anything. */
size_t scrollback_count(const struct scrollback *sb)
{
	return sb->n + (sb->out.len > 0) + (sb->err.len > 0);
}

/* O(1): the ring by offset from its head, then stdout's partial line,
 * then stderr's. */
const struct sb_line *scrollback_line(const struct scrollback *sb, size_t i)
{
	if (i < sb->n)
		return &sb->ring[(sb->head + i) % sb->cap];
	i -= sb->n;
	if (sb->out.len > 0 && i-- == 0)
		return &sb->out.view;
	if (sb->err.len > 0 && i == 0)
		return &sb->err.view;
	return NULL;
}

/* Lines lost off the front of the ring. */
uint64_t scrollback_dropped(const struct scrollback *sb)
{
	return sb->dropped;
}

/* Bytes fed, before sanitizing. */
uint64_t scrollback_bytes(const struct scrollback *sb)
{
	return sb->bytes;
}

/* ASCII only: a byte of a UTF-8 character is never folded, whatever the
 * locale says. */
static unsigned char sb_fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c - 'A' + 'a') : c;
}

/* Where the next candidate for a match starts: the next byte that folds
 * to the needle's first. Both cases are found with memchr and each result
 * kept until passed, so a line is scanned once per case. */
struct sb_scan {
	const char *s;
	size_t len;
	unsigned char lower, upper;
	size_t at_lower, at_upper; /* len: none left */
};

/* Index of the next `c` at or after i, or len. */
static size_t sb_scan_find(const struct sb_scan *sc, size_t i,
			   unsigned char c)
{
	const char *p = i < sc->len ? memchr(sc->s + i, c, sc->len - i) : NULL;

	return p ? (size_t)(p - sc->s) : sc->len;
}

/* The next candidate at or after i. */
static size_t sb_scan_next(struct sb_scan *sc, size_t i)
{
	if (sc->at_lower < i)
		sc->at_lower = sb_scan_find(sc, i, sc->lower);
	if (sc->at_upper < i)
		sc->at_upper = sc->upper == sc->lower ? sc->len :
			       sb_scan_find(sc, i, sc->upper);
	return sc->at_lower < sc->at_upper ? sc->at_lower : sc->at_upper;
}

/* Whether s[0..n) equals the lower-case needle, ignoring ASCII case. */
static bool sb_fold_equal(const char *s, const char *needle, size_t n)
{
	for (size_t j = 0; j < n; j++)
		if (sb_fold((unsigned char)s[j]) != (unsigned char)needle[j])
			return false;
	return true;
}

/* Whether `needle` (already lower case) occurs in a line, ignoring ASCII
 * case. */
static bool sb_line_has(const struct sb_line *line, const char *needle,
			size_t n)
{
	if (n == 0 || n > line->len)
		return n == 0;
	unsigned char c = (unsigned char)needle[0];
	struct sb_scan sc = {
		.s = line->text,
		.len = line->len,
		.lower = c,
		.upper = c >= 'a' && c <= 'z' ? (unsigned char)(c - 'a' + 'A') : c,
	};

	sc.at_lower = sb_scan_find(&sc, 0, sc.lower);
	sc.at_upper = sc.upper == sc.lower ? sc.len :
		      sb_scan_find(&sc, 0, sc.upper);
	for (size_t i = sb_scan_next(&sc, 0); i + n <= line->len;
	     i = sb_scan_next(&sc, i + 1))
		if (sb_fold_equal(line->text + i, needle, n))
			return true;
	return false;
}

char *scrollback_fold(const char *needle)
{
	char *lower = xstrdup(needle);

	for (size_t i = 0; lower[i]; i++)
		lower[i] = (char)sb_fold((unsigned char)lower[i]);
	return lower;
}

bool scrollback_line_has(const struct sb_line *line, const char *lower)
{
	return sb_line_has(line, lower, strlen(lower));
}

/* Visit every line once, starting at `from` and wrapping around. */
long scrollback_search(const struct scrollback *sb, const char *needle,
		       size_t from, int dir)
{
	size_t count = scrollback_count(sb), n = strlen(needle);
	char *lower;
	long found = -1;

	if (count == 0 || n == 0)
		return -1;
	lower = scrollback_fold(needle);
	from %= count;
	for (size_t k = 0; k < count && found < 0; k++) {
		size_t i = dir < 0 ? (from + count - k) % count :
				     (from + k) % count;

		if (sb_line_has(scrollback_line(sb, i), lower, n))
			found = (long)i;
	}
	free(lower);
	return found;
}
