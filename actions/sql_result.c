#include "actions/sql_result.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static bool numeric_type(Oid t)
{
	/* int8 int2 int4 oid float4 float8 money numeric */
	return t == 20 || t == 21 || t == 23 || t == 26 || t == 700 || t == 701 ||
	       t == 790 || t == 1700;
}

void sql_result_release(struct sql_result *c)
{
	if (c->have_table)
		sql_table_release(&c->table);
	sql_row_release(&c->first);
	free(c->message);
	free(c->primary);
	memset(c, 0, sizeof *c);
}

static void take_columns(struct sql_result *c, const PGresult *res)
{
	int n = PQnfields(res);
	const char **names = xcalloc((size_t)n + 1, sizeof *names);
	bool *right = xcalloc((size_t)n + 1, sizeof *right);
	for (int i = 0; i < n; i++) {
		names[i] = PQfname(res, i);
		right[i] = numeric_type(PQftype(res, i));
	}
	sql_table_init(&c->table, (size_t)n, names, right);
	c->have_table = true;
	c->tuples = true;
	free(names);
	free(right);
}

static void take_row(struct sql_result *c, const PGresult *res)
{
	size_t n = (size_t)PQnfields(res);
	const char **vals = xcalloc(n + 1, sizeof *vals);
	size_t *lens = xcalloc(n + 1, sizeof *lens);
	for (size_t i = 0; i < n; i++) {
		vals[i] = PQgetisnull(res, 0, (int)i) ? NULL : PQgetvalue(res, 0, (int)i);
		lens[i] = (size_t)PQgetlength(res, 0, (int)i);
		if (!c->have_first)
			sql_row_push(&c->first, PQfname(res, (int)i), vals[i]);
	}
	c->have_first = true;
	sql_table_add(&c->table, vals, lens);
	free(vals);
	free(lens);
}

static void take_error(struct sql_result *c, const PGresult *res)
{
	const char *sev = PQresultErrorField(res, PG_DIAG_SEVERITY);
	const char *prim = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	const char *hint = PQresultErrorField(res, PG_DIAG_MESSAGE_HINT);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	struct buf b;
	if (c->error)
		return; /* the first error is the one that counts */
	c->error = true;
	snprintf(c->sqlstate, sizeof c->sqlstate, "%s", state ? state : "");
	buf_init(&b, BUF_UNLIMITED);
	if (prim) {
		buf_addf(&b, "%s:  %s\n", sev ? sev : "ERROR", prim);
	} else {
		buf_adds(&b, PQresultErrorMessage(res));
		if (b.len && b.data[b.len - 1] != '\n')
			buf_addc(&b, '\n');
	}
	if (detail)
		buf_addf(&b, "DETAIL:  %s\n", detail);
	if (hint)
		buf_addf(&b, "HINT:  %s\n", hint);
	c->message = buf_detach(&b, NULL);
	const char *one = prim ? prim : PQresultErrorMessage(res);
	c->primary = xstrndup(one, strcspn(one, "\n"));
}

static void add_first_row(cJSON *v, const struct sql_row *row)
{
	cJSON *o = cJSON_AddObjectToObject(v, "first_row");
	for (size_t i = 0; i < row->n; i++) {
		const char *val = row->vals[i];
		if (!val) {
			cJSON_AddNullToObject(o, row->names[i]);
		} else if (strlen(val) > SQL_VALUE_MAX) {
			char *cut = xstrndup(val, sql_utf8_cut(val, strlen(val), SQL_VALUE_MAX));
			cJSON_AddStringToObject(o, row->names[i], cut);
			free(cut);
		} else {
			cJSON_AddStringToObject(o, row->names[i], val);
		}
	}
}

static void column_list(const struct sql_row *row, struct buf *b)
{
	for (size_t i = 0; i < row->n; i++)
		buf_addf(b, "%s%s", i ? ", " : "", row->names[i]);
}

/* Checks expect on `row` (NULL: no row); writes the first failure. */
bool sql_check_expect(const struct sql_expect *expect, const struct sql_row *row,
		      cJSON *v, struct buf *why)
{
	cJSON *list = NULL;
	bool ok = true;
	for (size_t i = 0; i < expect->n; i++) {
		const struct sql_assert *x = &expect->v[i];
		bool found = false;
		const char *got = row ? sql_row_get(row, x->column, &found) : NULL;
		bool pass = found && sql_value_matches(got, x->op, x->value);
		if (!list)
			list = cJSON_AddArrayToObject(v, "expect");
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "column", x->column);
		cJSON_AddStringToObject(o, "op", sql_op_text(x->op));
		cJSON_AddStringToObject(o, "expected", x->value);
		if (found && got)
			cJSON_AddStringToObject(o, "got", got);
		else
			cJSON_AddNullToObject(o, "got");
		cJSON_AddBoolToObject(o, "ok", pass);
		cJSON_AddItemToArray(list, o);
		if (pass || !ok)
			continue;
		ok = false;
		if (!row) {
			buf_addf(why, "expect %s%s%s: no row", x->column, sql_op_text(x->op), x->value);
		} else if (!found) {
			buf_addf(why, "expect: no column '%s' (columns: ", x->column);
			column_list(row, why);
			buf_addc(why, ')');
		} else {
			buf_addf(why, "expect failed: %s: expected %s%s, got %s", x->column,
				 x->op == SQL_EQ ? "" : sql_op_text(x->op), x->value, got ? got : "NULL");
		}
	}
	return ok;
}

bool sql_check_capture(const char *column, const struct sql_row *row,
		       cJSON *v, struct buf *why)
{
	const char *name = column;
	bool found = false;
	if (!name)
		return true;
	const char *val = row ? sql_row_get(row, name, &found) : NULL;
	if (!row) {
		buf_addf(why, "capture_col=%s: no row to capture from", name);
	} else if (!found) {
		buf_addf(why, "capture_col: no column '%s' (columns: ", name);
		column_list(row, why);
		buf_addc(why, ')');
	} else if (!val) {
		buf_addf(why, "capture_col=%s: the value is NULL, nothing to capture", name);
	} else if (strlen(val) >= SQL_CAPTURE_MAX) {
		buf_addf(why, "capture_col=%s: the value is longer than 64 KiB", name);
	} else {
		cJSON_AddStringToObject(v, "capture", val);
		return true;
	}
	return false;
}

void sql_result_take(struct sql_result *c, PGresult *res)
{
	switch (PQresultStatus(res)) {
	case PGRES_SINGLE_TUPLE:
		if (!c->have_table)
			take_columns(c, res);
		take_row(c, res);
		break;
	case PGRES_TUPLES_OK:
		if (!c->have_table)
			take_columns(c, res);
		snprintf(c->command, sizeof c->command, "%s", PQcmdStatus(res));
		break;
	case PGRES_COMMAND_OK:
		snprintf(c->command, sizeof c->command, "%s", PQcmdStatus(res));
		c->affected = strtoll(PQcmdTuples(res), NULL, 10);
		break;
	case PGRES_EMPTY_QUERY:
		break;
	case PGRES_COPY_IN:
	case PGRES_COPY_OUT:
	case PGRES_COPY_BOTH:
		c->copy = true;
		break;
	default:
		take_error(c, res);
		break;
	}
}

long long sql_result_rows(const struct sql_result *c)
{
	return c->tuples ? (long long)c->table.rows : c->affected;
}

void sql_result_show(const struct sql_result *c, struct buf *text, cJSON *v)
{
	if (c->tuples) {
		sql_table_render(&c->table, text);
		cJSON *cols = cJSON_AddArrayToObject(v, "columns");
		for (size_t i = 0; i < c->table.ncols; i++)
			cJSON_AddItemToArray(cols, cJSON_CreateString(c->table.names[i]));
		if ((int64_t)c->table.rows_kept < c->table.rows)
			cJSON_AddNumberToObject(v, "rows_shown", (double)c->table.rows_kept);
		if (c->have_first)
			add_first_row(v, &c->first);
	} else {
		buf_addf(text, "%s\n", c->command[0] ? c->command : "(empty query)");
	}
	cJSON_AddNumberToObject(v, "rows", (double)sql_result_rows(c));
	cJSON_AddStringToObject(v, "command", c->command);
}
