/* sanitize: the one gate for text qrh did not write.
 *
 * Command output, runbook text and variable values go through here before
 * they are drawn. Whatever bytes come in, what comes out is valid UTF-8
 * that holds no ESC, no C0 control except '\n', no C1 control and no DEL,
 * and no character that draws nothing or reorders what is drawn. Nothing is
 * silently removed except SGR colour sequences (see below): every other
 * hostile byte is replaced by a visible form made of printable ASCII, so
 * sanitizing sanitized text changes nothing.
 *
 * Visible forms:
 *   C0 control, DEL        ^@ .. ^_, ^?          (ESC is ^[, BEL ^G, BS ^H)
 *   '\r'                   ^M; "\r\n" becomes "\n" (line mode only)
 *   '\t'                   spaces up to the next multiple of 8 columns
 *   C1 control             <80> .. <9F>, for the encoded code point U+0080..
 *                          U+009F and for a stray raw byte 0x80..0x9F alike
 *   other invalid UTF-8    U+FFFD, one per maximal invalid subpart (an
 *                          overlong, surrogate or >U+10FFFF lead byte is one
 *                          subpart; the continuation bytes after it are then
 *                          stray bytes)
 *   format characters      <U+XXXX>: bidi marks, embeddings, overrides and
 *                          isolates, zero-width space/joiners, word joiner,
 *                          BOM, soft hyphen, tag characters, all of Unicode's
 *                          Cf class, U+2028/U+2029 and the blank Hangul
 *                          fillers U+115F, U+3164, U+FFA0
 *   wcwidth() == -1        <U+XXXX> (unassigned, noncharacters; everything
 *                          non-ASCII when the locale is not UTF-8)
 *   escape sequences       shown literally as one unit: ESC [ 2 J is "^[[2J",
 *                          an OSC title "^[]0;title^G", ST is "^[\"
 *   SGR (ESC [ digits m)   dropped, unless SANITIZE_SHOW_SGR
 *
 * Escape sequences are collected until complete so that an SGR can be
 * dropped as a whole; a sequence longer than SANITIZE_SEQ_MAX bytes, one cut
 * by a control byte, and one still open at sanitize_flush() is shown as far
 * as it went, so an unterminated OSC never swallows the output after it.
 *
 * Streaming: the sanitizer keeps its state between calls, so splitting the
 * input anywhere (inside a UTF-8 character, an escape sequence, "\r\n")
 * gives byte-for-byte the output of feeding it whole. Apart from an open
 * escape sequence (at most SANITIZE_SEQ_MAX bytes) and one partial UTF-8
 * character, everything fed is emitted at once: a 10 MB line without a
 * newline streams through; breaking it for the screen is the caller's job.
 * Output is at most SANITIZE_GROWTH_MAX times the input.
 *
 * Widths come from wcwidth(); the caller sets a UTF-8 LC_CTYPE first. */
#ifndef QRH_SANITIZE_H
#define QRH_SANITIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/* Longest escape sequence held back before it is shown as far as it went. */
#define SANITIZE_SEQ_MAX 256
/* Most output bytes one input byte can turn into ("<U+E0041>" for 4 bytes
 * of tag character; a tab gives 8 spaces). */
#define SANITIZE_GROWTH_MAX 8

enum sanitize_flags {
	/* One line: '\n' is shown as ^J and "\r\n" as ^M^J. */
	SANITIZE_SINGLE_LINE = 1 << 0,
	/* Show SGR sequences like every other escape sequence. */
	SANITIZE_SHOW_SGR = 1 << 1,
};

enum sanitize_state {
	SANITIZE_GROUND,
	SANITIZE_ESC,		/* after ESC */
	SANITIZE_ESC_INTER,	/* ESC, intermediates 0x20..0x2f */
	SANITIZE_CSI,		/* ESC [ */
	SANITIZE_STR,		/* OSC, DCS, SOS, PM, APC payload */
	SANITIZE_STR_ESC,	/* ESC inside a payload: ST or a new sequence */
};

struct sanitizer {
	unsigned flags;
	enum sanitize_state state;
	/* The escape sequence being collected, ESC included. */
	unsigned char seq[SANITIZE_SEQ_MAX];
	size_t seq_len;
	/* UTF-8 decoder: the code point so far, continuation bytes still
	 * needed and the range the next one must fall in. */
	uint32_t cp;
	unsigned need;
	unsigned char lo, hi;
	/* A '\r' waiting to see whether '\n' follows. */
	bool cr;
	/* Display column since the last '\n', for tab stops. */
	size_t col;
	/* The output buffer hit its maximum during this call. */
	bool truncated;
};

/* Start a stream; flags from enum sanitize_flags. */
void sanitize_init(struct sanitizer *s, unsigned flags);
/* Append the sanitized form of in[0..n) to out. Returns 0, or -1 when out
 * reached its maximum and output was cut (the stream state stays sound). */
int sanitize_feed(struct sanitizer *s, const char *in, size_t n,
		  struct buf *out);
/* End of stream: show whatever is still held (an open escape sequence, a
 * partial UTF-8 character as U+FFFD, a lone '\r' as ^M) and start afresh.
 * Returns like sanitize_feed. */
int sanitize_flush(struct sanitizer *s, struct buf *out);

/* The sanitized form of s[0..n) as one malloc'd NUL-terminated line
 * (SANITIZE_SINGLE_LINE | SANITIZE_SHOW_SGR), for titles and values. */
char *sanitize_string(const char *s, size_t n);

/* Display columns of sanitized text. '\n' counts 0; should anything
 * unsanitized slip in, each invalid byte or non-printable counts 1. */
size_t sanitize_width(const char *utf8, size_t n);
/* How much of utf8[0..n) fits in cols columns: sets *bytes to a length that
 * never splits a character (a wide character that would not fit whole is
 * left out; zero-width characters stay with the one before them) and
 * returns the columns that length takes. */
int sanitize_clip(const char *utf8, size_t n, int cols, size_t *bytes);

#endif
