/* sanitize: untrusted bytes to safe, visible UTF-8 (see sanitize.h).
 *
 * Two layers. The escape layer (sanitize_byte) spots escape sequences and
 * holds each one until it is complete, then drops it (SGR) or hands its
 * bytes to the render layer like any other text. The render layer
 * (render_byte) decodes UTF-8 and writes every character either as itself
 * or as a visible ASCII form. Both layers look at one byte at a time and
 * keep all they know in struct sanitizer, which is why where the input is
 * split cannot matter. */
#include "tui/sanitize.h"

#include <stdio.h>
#include <string.h>
#include <wchar.h>

#include "util/xalloc.h"

#define REPLACEMENT "\xef\xbf\xbd"
#define ESC 0x1b
#define BEL 0x07
#define TAB_WIDTH 8

/* Inclusive code point ranges drawn as <U+XXXX>, sorted: Unicode's Cf
 * class (the bidi controls, zero-width characters, BOM, soft hyphen,
 * tags...), the line and paragraph separators, and the Hangul fillers that
 * draw as blanks. All of them draw nothing, or change how what is around
 * them is drawn. Variation selectors and combining marks are kept: they
 * only change the character before them. */
static const struct {
	uint32_t first, last;
} invisible_ranges[] = {
	{ 0x00ad, 0x00ad }, { 0x0600, 0x0605 }, { 0x061c, 0x061c },
	{ 0x06dd, 0x06dd }, { 0x070f, 0x070f }, { 0x0890, 0x0891 },
	{ 0x08e2, 0x08e2 }, { 0x115f, 0x115f }, { 0x180e, 0x180e },
	{ 0x200b, 0x200f }, { 0x2028, 0x202e }, { 0x2060, 0x2064 },
	{ 0x2066, 0x206f }, { 0x3164, 0x3164 }, { 0xfeff, 0xfeff },
	{ 0xffa0, 0xffa0 }, { 0xfff9, 0xfffb }, { 0x110bd, 0x110bd },
	{ 0x110cd, 0x110cd }, { 0x13430, 0x1343f }, { 0x1bca0, 0x1bca3 },
	{ 0x1d173, 0x1d17a }, { 0xe0001, 0xe0001 }, { 0xe0020, 0xe007f },
};

/* Every write goes through here so a full buffer is noticed once. */
static void out_add(struct sanitizer *s, struct buf *out, const void *p,
		    size_t n)
{
	if (buf_add(out, p, n))
		s->truncated = true;
}

/* Code points that must be shown by number because they draw nothing. */
static bool codepoint_is_invisible(uint32_t cp)
{
	for (size_t i = 0; i < sizeof(invisible_ranges) /
			       sizeof(invisible_ranges[0]); i++) {
		if (cp < invisible_ranges[i].first)
			return false;
		if (cp <= invisible_ranges[i].last)
			return true;
	}
	return false;
}

/* Encode one scalar value; the decoder only yields valid ones. */
static size_t utf8_encode(uint32_t cp, char *p)
{
	if (cp < 0x80) {
		p[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		p[0] = (char)(0xc0 | cp >> 6);
		p[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		p[0] = (char)(0xe0 | cp >> 12);
		p[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		p[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	p[0] = (char)(0xf0 | cp >> 18);
	p[1] = (char)(0x80 | (cp >> 12 & 0x3f));
	p[2] = (char)(0x80 | (cp >> 6 & 0x3f));
	p[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

/*
 * A strict UTF-8 decoder step shared by the render layer and the width
 * helpers: how many continuation bytes `lead` needs and the range the first
 * of them must fall in (excluding overlongs, surrogates, > U+10FFFF).
 * Returns -1 for a byte that cannot start a character.
 */
static int utf8_lead(unsigned char lead, uint32_t *cp, unsigned char *lo,
		     unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xbf;
	if (lead < 0x80) {
		*cp = lead;
		return 0;
	}
	if (lead < 0xc2)
		return -1;
	if (lead < 0xe0) {
		*cp = lead & 0x1f;
		return 1;
	}
	if (lead < 0xf0) {
		*cp = lead & 0x0f;
		if (lead == 0xe0)
			*lo = 0xa0;
		if (lead == 0xed)
			*hi = 0x9f;
		return 2;
	}
	if (lead < 0xf5) {
		*cp = lead & 0x07;
		if (lead == 0xf0)
			*lo = 0x90;
		if (lead == 0xf4)
			*hi = 0x8f;
		return 3;
	}
	return -1;
}

/*
 * Decode one character at p[0..n) for the width helpers. Sets *len to the
 * bytes it takes (1 for an invalid byte) and returns the code point, or -1
 * when the bytes are not valid UTF-8.
 */
static int32_t utf8_decode(const unsigned char *p, size_t n, size_t *len)
{
	uint32_t cp;
	unsigned char lo, hi;
	int need = utf8_lead(p[0], &cp, &lo, &hi);

	*len = 1;
	if (need < 0 || (size_t)need >= n)
		return -1;
	for (int i = 1; i <= need; i++) {
		if (p[i] < lo || p[i] > hi)
			return -1;
		cp = cp << 6 | (p[i] & 0x3f);
		lo = 0x80;
		hi = 0xbf;
	}
	*len = (size_t)need + 1;
	return (int32_t)cp;
}

/* Columns one decoded character takes on screen; see sanitize_width. */
static int codepoint_width(int32_t cp)
{
	if (cp < 0)
		return 1;
	if (cp == '\n')
		return 0;
	if (cp == 0xfffd)
		return 1;
	int w = wcwidth((wchar_t)cp);
	return w < 0 ? 1 : w;
}

/* Write a visible ASCII form and account for its width. */
static void render_visible(struct sanitizer *s, struct buf *out,
			   const char *text, int len)
{
	out_add(s, out, text, (size_t)len);
	s->col += (size_t)len;
}

/* Show a control as ^X, the notation of cat -v and of ncurses itself. */
static void render_caret(struct sanitizer *s, struct buf *out, uint32_t c)
{
	char text[2] = { '^', c == 0x7f ? '?' : (char)(c + 0x40) };

	render_visible(s, out, text, 2);
}

/* A C1 control, encoded or raw, as <9B>: it has no caret form. */
static void render_c1(struct sanitizer *s, struct buf *out, unsigned c)
{
	char text[8];

	render_visible(s, out, text, snprintf(text, sizeof(text), "<%02X>", c));
}

/* A character that would draw nothing, as <U+202E>. */
static void render_codepoint_name(struct sanitizer *s, struct buf *out,
				  uint32_t cp)
{
	char text[16];

	render_visible(s, out, text,
		       snprintf(text, sizeof(text), "<U+%04X>", (unsigned)cp));
}

/* A byte that is not part of any valid character. */
static void render_invalid(struct sanitizer *s, struct buf *out)
{
	out_add(s, out, REPLACEMENT, 3);
	s->col++;
}

/* Expand a tab with spaces up to the next tab stop. */
static void render_tab(struct sanitizer *s, struct buf *out)
{
	static const char spaces[] = "        ";
	size_t n = TAB_WIDTH - s->col % TAB_WIDTH;

	out_add(s, out, spaces, n);
	s->col += n;
}

/* A held '\r' turned out not to end a line: show it. */
static void render_cr_settle(struct sanitizer *s, struct buf *out)
{
	if (!s->cr)
		return;
	s->cr = false;
	render_caret(s, out, '\r');
}

/* Newlines stay newlines in line mode; in a single line they are ^J. */
static void render_newline(struct sanitizer *s, struct buf *out)
{
	if (s->flags & SANITIZE_SINGLE_LINE) {
		render_caret(s, out, '\n');
		return;
	}
	s->cr = false;		/* "\r\n" is one line end */
	out_add(s, out, "\n", 1);
	s->col = 0;
}

/* Write one complete, valid code point as itself or as a visible form. */
static void render_codepoint(struct sanitizer *s, struct buf *out,
			     uint32_t cp)
{
	if (cp == '\n') {
		render_newline(s, out);
		return;
	}
	render_cr_settle(s, out);
	if (cp == '\r' && !(s->flags & SANITIZE_SINGLE_LINE)) {
		s->cr = true;
	} else if (cp == '\t') {
		render_tab(s, out);
	} else if (cp < 0x20 || cp == 0x7f) {
		render_caret(s, out, cp);
	} else if (cp < 0x7f) {
		char c = (char)cp;
		out_add(s, out, &c, 1);
		s->col++;
	} else if (cp < 0xa0) {
		render_c1(s, out, cp);
	} else if (cp == 0xfffd) {
		render_invalid(s, out);
	} else if (codepoint_is_invisible(cp)) {
		render_codepoint_name(s, out, cp);
	} else {
		int w = wcwidth((wchar_t)cp);
		char enc[4];

		if (w < 0) {
			render_codepoint_name(s, out, cp);
			return;
		}
		out_add(s, out, enc, utf8_encode(cp, enc));
		s->col += (size_t)w;
	}
}

/* A partial character was cut short: it becomes one U+FFFD. */
static void render_abort(struct sanitizer *s, struct buf *out)
{
	if (!s->need)
		return;
	s->need = 0;
	render_cr_settle(s, out);
	render_invalid(s, out);
}

/* Start a character at byte b, or show b as invalid. */
static void render_lead(struct sanitizer *s, struct buf *out, unsigned char b)
{
	int need = utf8_lead(b, &s->cp, &s->lo, &s->hi);

	if (need == 0) {
		render_codepoint(s, out, b);
		return;
	}
	if (need > 0) {
		s->need = (unsigned)need;
		return;
	}
	render_cr_settle(s, out);
	if (b >= 0x80 && b < 0xa0)
		render_c1(s, out, b);	/* stray byte: an 8-bit C1 control */
	else
		render_invalid(s, out);
}

/* The render layer: feed one byte to the UTF-8 decoder. */
static void render_byte(struct sanitizer *s, struct buf *out, unsigned char b)
{
	if (s->need) {
		if (b >= s->lo && b <= s->hi) {
			s->cp = s->cp << 6 | (b & 0x3f);
			s->lo = 0x80;
			s->hi = 0xbf;
			if (--s->need == 0)
				render_codepoint(s, out, s->cp);
			return;
		}
		render_abort(s, out);
	}
	render_lead(s, out, b);
}

/* Show the held sequence's first n bytes as text and forget it. */
static void seq_show(struct sanitizer *s, struct buf *out, size_t n)
{
	for (size_t i = 0; i < n; i++)
		render_byte(s, out, s->seq[i]);
	s->seq_len = 0;
	s->state = SANITIZE_GROUND;
}

/* SGR is CSI with only digits, ';' and ':' before the final 'm'. */
static bool seq_is_sgr(const struct sanitizer *s)
{
	if (s->seq_len < 3 || s->seq[1] != '[' || s->seq[s->seq_len - 1] != 'm')
		return false;
	for (size_t i = 2; i < s->seq_len - 1; i++) {
		unsigned char c = s->seq[i];

		if (!(c >= '0' && c <= '9') && c != ';' && c != ':')
			return false;
	}
	return true;
}

/* A sequence is complete: drop it if it is colour, else show it. */
static void seq_end(struct sanitizer *s, struct buf *out)
{
	if (!(s->flags & SANITIZE_SHOW_SGR) && seq_is_sgr(s)) {
		s->seq_len = 0;
		s->state = SANITIZE_GROUND;
		return;
	}
	seq_show(s, out, s->seq_len);
}

/* Begin collecting at an ESC; a partial character before it is over. */
static void seq_begin(struct sanitizer *s, struct buf *out)
{
	render_abort(s, out);
	s->seq[0] = ESC;
	s->seq_len = 1;
	s->state = SANITIZE_ESC;
}

static void sanitize_byte(struct sanitizer *s, struct buf *out,
			  unsigned char b);

/* The sequence cannot go on with b: show it so far, then look at b anew. */
static void seq_cut(struct sanitizer *s, struct buf *out, unsigned char b)
{
	seq_show(s, out, s->seq_len);
	sanitize_byte(s, out, b);
}

/* Keep b as part of the sequence; a final byte completes it. */
static void seq_add(struct sanitizer *s, struct buf *out, unsigned char b,
		    bool final)
{
	s->seq[s->seq_len++] = b;
	if (final)
		seq_end(s, out);
}

/* After ESC: pick the kind of sequence from the next byte. */
static void seq_after_esc(struct sanitizer *s, struct buf *out,
			  unsigned char b)
{
	if (b == '[') {
		s->state = SANITIZE_CSI;
	} else if (b == ']' || b == 'P' || b == 'X' || b == '^' || b == '_') {
		s->state = SANITIZE_STR;	/* OSC DCS SOS PM APC */
	} else if (b >= 0x20 && b <= 0x2f) {
		s->state = SANITIZE_ESC_INTER;
	} else if (b < 0x20 || b > 0x7e) {
		seq_cut(s, out, b);
		return;
	}
	/* anything else is the final byte of ESC 7, ESC c, ESC M ... */
	seq_add(s, out, b, s->state == SANITIZE_ESC);
}

/* ESC and intermediates: wait for the final byte 0x30..0x7e. */
static void seq_after_inter(struct sanitizer *s, struct buf *out,
			    unsigned char b)
{
	if (b < 0x20 || b > 0x7e)
		seq_cut(s, out, b);
	else
		seq_add(s, out, b, b >= 0x30);
}

/* CSI: parameters and intermediates, then a final byte 0x40..0x7e. */
static void seq_in_csi(struct sanitizer *s, struct buf *out, unsigned char b)
{
	if (b < 0x20 || b > 0x7e)
		seq_cut(s, out, b);
	else
		seq_add(s, out, b, b >= 0x40);
}

/* OSC/DCS/SOS/PM/APC payload: any text up to BEL or ST (ESC \). */
static void seq_in_string(struct sanitizer *s, struct buf *out,
			  unsigned char b)
{
	if (b == ESC) {
		seq_add(s, out, b, false);
		s->state = SANITIZE_STR_ESC;
	} else if ((b < 0x20 && b != BEL) || b == 0x7f) {
		seq_cut(s, out, b);
	} else {
		seq_add(s, out, b, b == BEL);
	}
}

/*
 * ESC inside a payload: ESC \ (ST) ends the string, which is shown with its
 * terminator; any other byte means the ESC starts a new sequence.
 */
static void seq_after_string_esc(struct sanitizer *s, struct buf *out,
				 unsigned char b)
{
	if (b == '\\') {
		seq_show(s, out, s->seq_len);
		render_byte(s, out, b);
		return;
	}
	seq_show(s, out, s->seq_len - 1);
	seq_begin(s, out);
	sanitize_byte(s, out, b);
}

/* The escape layer: route one byte by the state of the sequence. */
static void sanitize_byte(struct sanitizer *s, struct buf *out,
			  unsigned char b)
{
	switch (s->state) {
	case SANITIZE_GROUND:
		if (b == ESC)
			seq_begin(s, out);
		else
			render_byte(s, out, b);
		return;
	case SANITIZE_STR_ESC:
		seq_after_string_esc(s, out, b);
		return;
	default:
		break;
	}
	if (s->seq_len == SANITIZE_SEQ_MAX) {
		seq_cut(s, out, b);	/* too long: stop waiting for the end */
		return;
	}
	switch (s->state) {
	case SANITIZE_ESC:
		seq_after_esc(s, out, b);
		break;
	case SANITIZE_ESC_INTER:
		seq_after_inter(s, out, b);
		break;
	case SANITIZE_CSI:
		seq_in_csi(s, out, b);
		break;
	case SANITIZE_STR:
		seq_in_string(s, out, b);
		break;
	case SANITIZE_GROUND:
	case SANITIZE_STR_ESC:
		break;
	}
}

/* Printable ASCII in plain text needs no decision: copy the whole run. */
static size_t sanitize_ascii_run(struct sanitizer *s, const unsigned char *p,
				 size_t n, struct buf *out)
{
	size_t i = 0;

	if (s->state != SANITIZE_GROUND || s->need || s->cr)
		return 0;
	/* eight bytes at a time: any byte below 0x20, or at or above 0x7f,
	 * ends the run (the classic "has less / has more" bit tricks) */
	const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
	while (i + 8 <= n) {
		uint64_t x;
		memcpy(&x, p + i, 8);
		uint64_t below = (x - ones * 0x20) & ~x & highs;
		uint64_t above = ((x + ones) | x) & highs;
		if (below | above)
			break;
		i += 8;
	}
	while (i < n && p[i] >= 0x20 && p[i] < 0x7f)
		i++;
	out_add(s, out, p, i);
	s->col += i;
	return i;
}

/* Set up a stream in its initial state. */
void sanitize_init(struct sanitizer *s, unsigned flags)
{
	memset(s, 0, sizeof(*s));
	s->flags = flags;
	s->state = SANITIZE_GROUND;
}

/* Feed a chunk; all that is certain about it is written now. */
int sanitize_feed(struct sanitizer *s, const char *in, size_t n,
		  struct buf *out)
{
	const unsigned char *p = (const unsigned char *)in;
	size_t i = 0;

	s->truncated = false;
	while (i < n) {
		i += sanitize_ascii_run(s, p + i, n - i, out);
		if (i < n)
			sanitize_byte(s, out, p[i++]);
	}
	return s->truncated ? -1 : 0;
}

/* End of stream: nothing more can complete what is held, so show it. */
int sanitize_flush(struct sanitizer *s, struct buf *out)
{
	unsigned flags = s->flags;

	s->truncated = false;
	if (s->state != SANITIZE_GROUND)
		seq_show(s, out, s->seq_len);
	render_abort(s, out);
	render_cr_settle(s, out);
	bool truncated = s->truncated;
	sanitize_init(s, flags);
	return truncated ? -1 : 0;
}

/* Titles and values are short and one line: sanitize them in one go. */
char *sanitize_string(const char *str, size_t n)
{
	struct sanitizer s;
	struct buf out;

	buf_init(&out, BUF_UNLIMITED);
	sanitize_init(&s, SANITIZE_SINGLE_LINE | SANITIZE_SHOW_SGR);
	sanitize_feed(&s, str, n, &out);
	sanitize_flush(&s, &out);
	return buf_detach(&out, NULL);
}

/* The TUI lays out by columns, not bytes. */
size_t sanitize_width(const char *utf8, size_t n)
{
	const unsigned char *p = (const unsigned char *)utf8;
	size_t width = 0, len;

	for (size_t i = 0; i < n; i += len)
		width += (size_t)codepoint_width(utf8_decode(p + i, n - i,
							     &len));
	return width;
}

/* Cut by columns at a character boundary, the way the screen will. */
int sanitize_clip(const char *utf8, size_t n, int cols, size_t *bytes)
{
	const unsigned char *p = (const unsigned char *)utf8;
	int used = 0;
	size_t i = 0, len;

	while (i < n) {
		int w = codepoint_width(utf8_decode(p + i, n - i, &len));

		if (w > cols - used)
			break;
		used += w;
		i += len;
	}
	*bytes = i;
	return used;
}
