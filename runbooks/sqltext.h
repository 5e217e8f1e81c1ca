/* sqltext: what qrh reads in a sql action's text, without a server.
 *
 * Parameters. A ${NAME} reference in a query is never pasted into it: each
 * distinct name becomes a bind parameter, numbered after the author's own
 * ($1 .. $P, where P is the number of params= values), and the query sent
 * holds only "$N". The scan knows SQL's lexical structure (quoted strings
 * '...' and E'...', quoted identifiers "...", dollar-quoted bodies
 * $tag$...$tag$, -- and nested block comments): a reference inside one of
 * those cannot be a parameter and is refused, and $N inside them is not
 * the author's parameter. "$$" starts a dollar-quoted body, as in SQL.
 *
 * Assertions. `expect` is a list of COLUMN OP VALUE separated by commas,
 * OP one of = != <> < <= > >=; `expect_rows` is OP N (or just N). Values
 * compare as numbers when both sides are numbers, as booleans when both
 * are t/true/f/false (any case), else as text; the word NULL matches SQL
 * NULL only (with = and !=); < <= > >= need numbers. */
#ifndef QRH_RUNBOOKS_SQLTEXT_H
#define QRH_RUNBOOKS_SQLTEXT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "runbooks/model.h"
#include "util/buf.h"

#define SQL_MAX_ASSERTS 32

struct sql_scan_error {
	size_t off; /* byte offset in the query */
	char msg[200];
};

/* Writes the query to send into `out` (references turned into $N) and
 * pushes the referenced names onto `names` in parameter order: names->v[i]
 * is parameter $(n_fixed + 1 + i). Returns 0, or -1 with *pe filled
 * (-2 for a malformed reference, which vars_check_action reports). */
int sql_params_translate(const char *query, size_t n_fixed, struct buf *out,
			 struct strv *names, struct sql_scan_error *pe);

enum sql_op { SQL_EQ, SQL_NE, SQL_LT, SQL_LE, SQL_GT, SQL_GE };

const char *sql_op_text(enum sql_op op);

struct sql_assert {
	char *column;
	enum sql_op op;
	char *value; /* as written: may hold ${NAME} */
};

struct sql_expect {
	struct sql_assert v[SQL_MAX_ASSERTS];
	size_t n;
};

/* Parses an expect spec. -1 with *why set (a static message). */
int sql_expect_parse(const char *spec, struct sql_expect *out,
		     const char **why);
void sql_expect_release(struct sql_expect *x);

/* Parses expect_rows: "N", ">N", ">=N", "<N", "<=N", "!=N", "=N". */
int sql_rows_parse(const char *spec, enum sql_op *op, int64_t *n);
bool sql_rows_match(int64_t rows, enum sql_op op, int64_t n);

/* Does `actual` (NULL for SQL NULL) satisfy OP `expected`? */
bool sql_value_matches(const char *actual, enum sql_op op,
		       const char *expected);

/* "name" or "schema.name", each an unquoted SQL identifier. */
bool sql_table_name_ok(const char *s);

#endif
