/* sql_table: a query result as the aligned text table an operator reads.
 *
 * psql's aligned format: a header of column names, a rule, one line per
 * row, numbers aligned right, NULL shown empty, then "(N rows)". Rows are
 * kept up to SQL_TABLE_ROWS (and SQL_TABLE_BYTES of cells); later rows are
 * counted, not kept, and the footer says how many were shown. A cell
 * longer than SQL_TABLE_CELL bytes is cut (with "..."); newlines, carriage
 * returns and tabs in a value are shown as \n, \r and \t so that a row
 * stays one line. Other control bytes are left to the front ends'
 * sanitizer. */
#ifndef QRH_ACTIONS_SQL_TABLE_H
#define QRH_ACTIONS_SQL_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

#define SQL_TABLE_ROWS 1000
#define SQL_TABLE_BYTES (4u << 20)
#define SQL_TABLE_CELL 256

struct sql_table {
	size_t ncols;
	char **names;
	bool *right;  /* numeric column: aligned right */
	char **cells; /* rows_kept * ncols; NULL for SQL NULL */
	size_t rows_kept;
	size_t cap;
	size_t bytes;
	int64_t rows; /* all rows seen */
	bool no_footer; /* no "(N rows)" line (a record shown as rows) */
};

void sql_table_init(struct sql_table *t, size_t ncols,
		    const char *const *names, const bool *right);
/* vals[i] is NULL for SQL NULL; lens[i] its length in bytes. */
void sql_table_add(struct sql_table *t, const char *const *vals,
		   const size_t *lens);
void sql_table_render(const struct sql_table *t, struct buf *out);
void sql_table_release(struct sql_table *t);

/* The length of the longest prefix of s (len bytes) of at most max bytes
 * that does not split a UTF-8 sequence. */
size_t sql_utf8_cut(const char *s, size_t len, size_t max);

/* Display columns of UTF-8 text (wcwidth per character, 1 for what it
 * does not know). */
size_t sql_text_width(const char *s);

#endif
