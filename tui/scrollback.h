/* scrollback: a step's output as the console shows it — a bounded ring of
 * sanitized lines, fed from raw chunks of stdout and stderr.
 *
 * Each stream has its own sanitizer state and partial line; complete
 * lines enter the ring tagged with their stream, so stderr can be drawn
 * differently. The ring keeps the newest SCROLLBACK_MAX_LINES lines and
 * counts the ones it dropped, and at most SCROLLBACK_MAX_BYTES of text; a
 * line longer than SCROLLBACK_MAX_LINE_BYTES
 * is split (the continuation flagged), so a 10 MB line without a newline
 * costs bounded memory and is still shown. The partial (unterminated)
 * last line of each stream is visible too, as the ring's last entries.
 * Memory is bounded by both constants whatever the child prints. */
#ifndef QRH_TUI_SCROLLBACK_H
#define QRH_TUI_SCROLLBACK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tui/sanitize.h"
#include "util/buf.h"

#define SCROLLBACK_MAX_LINES 20000
#define SCROLLBACK_MAX_LINE_BYTES 4096
#define SCROLLBACK_MAX_BYTES (2u << 20) /* text kept; the journal has the rest */

/* SB_MARK: a line qrh wrote itself (where an attempt ends, ...), never
 * fed through the sanitizer: the caller makes it safe. */
enum sb_stream { SB_STDOUT = 1, SB_STDERR = 2, SB_MARK = 3 };

struct sb_line {
	char *text; /* sanitized UTF-8, no newline */
	size_t len;
	enum sb_stream stream;
	bool continued; /* continues the line before it (split long line) */
};

struct scrollback;

struct scrollback *scrollback_new(void);
void scrollback_free(struct scrollback *sb);
void scrollback_feed(struct scrollback *sb, enum sb_stream stream,
		     const char *data, size_t len);
/* Appends a complete SB_MARK line after every complete line so far (and
 * before the partial tails, which stay last). */
void scrollback_mark(struct scrollback *sb, const char *text, size_t len);
/* End of both streams: partial lines become complete lines. */
void scrollback_finish(struct scrollback *sb);
/* Lines available: complete ones plus the partial tails. */
size_t scrollback_count(const struct scrollback *sb);
/* Line i, 0 = oldest kept; valid until the next feed. */
const struct sb_line *scrollback_line(const struct scrollback *sb, size_t i);
/* Lines dropped from the front of the ring so far. */
uint64_t scrollback_dropped(const struct scrollback *sb);
/* Total bytes fed (before sanitizing). */
uint64_t scrollback_bytes(const struct scrollback *sb);
/* Search for `needle` (plain text, case-insensitive for ASCII) from line
 * `from` forwards (dir > 0, wrapping) or backwards (dir < 0, wrapping);
 * the line index, or -1 when no line holds it. */
long scrollback_search(const struct scrollback *sb, const char *needle,
		       size_t from, int dir);

/* The needle in the form scrollback_line_has takes (ASCII lower case;
 * the caller frees it), and whether a line holds it. */
char *scrollback_fold(const char *needle);
bool scrollback_line_has(const struct sb_line *line, const char *lower);

#endif
