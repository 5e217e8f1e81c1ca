/* styled: lines of text with attributes, the currency between what
 * renders text (Markdown prose, command output) and what draws it.
 *
 * No curses here: a span's style is a small bit set that the drawing code
 * maps to curses attributes (and to nothing on a monochrome terminal,
 * where bold/underline/reverse still work). Text is sanitized UTF-8: no
 * control characters, widths from wcwidth. */
#ifndef QRH_TUI_STYLED_H
#define QRH_TUI_STYLED_H

#include <stddef.h>

enum style {
	STYLE_NONE = 0,
	STYLE_BOLD = 1 << 0,
	STYLE_ITALIC = 1 << 1,    /* drawn as underline where italic is absent */
	STYLE_CODE = 1 << 2,      /* inline or block code */
	STYLE_HEADING = 1 << 3,
	STYLE_DIM = 1 << 4,       /* list bullets, quote bars, rules */
	STYLE_ERROR = 1 << 5,     /* stderr output */
	STYLE_MATCH = 1 << 6,     /* a search match */
	STYLE_LINK = 1 << 7,
};

struct span {
	size_t off; /* into the line's text */
	size_t len;
	unsigned style;
};

struct styled_line {
	char *text; /* NUL-terminated sanitized UTF-8 */
	size_t len;
	struct span *spans; /* cover text in order; may be empty = unstyled */
	size_t n_spans;
};

struct styled_text {
	struct styled_line *lines;
	size_t n;
	size_t cap;
};

void styled_init(struct styled_text *t);
void styled_release(struct styled_text *t);
/* Appends a line made of one span (text copied; it is sanitized here). */
void styled_add_plain(struct styled_text *t, const char *s, size_t n,
		      unsigned style);

#endif
