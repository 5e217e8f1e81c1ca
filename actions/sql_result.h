/* sql_result: what one statement produced, and the checks on its first
 * row.
 *
 * Results arrive one PGresult at a time (single-row mode: one per row,
 * then the final status); sql_result_take files each: the columns and
 * rows into a table (actions/sql_table.h), the first row in full, the
 * command tag, the first error with its SQLSTATE. The checks (expect,
 * capture_col) read a row of names and text values, a query's first row
 * or a recipe's, and record what they saw in the action's values. */
#ifndef QRH_ACTIONS_SQL_RESULT_H
#define QRH_ACTIONS_SQL_RESULT_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdbool.h>

#include "actions/sql_recipe.h"
#include "actions/sql_table.h"
#include "runbooks/sqltext.h"
#include "util/buf.h"

#define SQL_VALUE_MAX 4096     /* a first-row value in the result values */
#define SQL_CAPTURE_MAX 65536  /* a captured value */

struct sql_result {
	bool have_table;
	struct sql_table table;
	struct sql_row first; /* full values of the first row */
	bool have_first;
	bool tuples;          /* it returns rows */
	char command[64];
	long long affected;
	bool error;
	char sqlstate[6];
	char *message;        /* "ERROR:  ..." with DETAIL/HINT lines */
	char *primary;        /* the primary message, one line */
	bool copy;            /* a COPY, which the sql action does not speak */
};

/* Files one result (the caller PQclears it). */
void sql_result_take(struct sql_result *c, PGresult *res);
void sql_result_release(struct sql_result *c);
/* Rows returned, or affected for a statement that returns none. */
long long sql_result_rows(const struct sql_result *c);
/* The text an operator reads (the table, or the command tag) into
 * `text`; rows, columns, first_row, rows_shown and command into `v`. */
void sql_result_show(const struct sql_result *c, struct buf *text, cJSON *v);

/* expect on `row` (NULL: no row): every assertion recorded in v.expect;
 * false with the first failure in `why`. */
bool sql_check_expect(const struct sql_expect *x, const struct sql_row *row,
		      cJSON *v, struct buf *why);
/* capture_col: the column's value into v.capture; false with the reason
 * (no row, no such column, NULL, too long). `column` NULL: nothing. */
bool sql_check_capture(const char *column, const struct sql_row *row,
		       cJSON *v, struct buf *why);

#endif
