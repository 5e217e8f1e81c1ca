/* The sql action's pure parts: ${NAME} turned into bind parameters (and
 * refused inside quotes), expect and expect_rows, value comparison, the
 * result table, connection parameters and their rewriting after a name
 * lookup, and a recipe's reading of a writer's ack file. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/pg_params.h"
#include "actions/sql_recipe.h"
#include "actions/sql_table.h"
#include "runbooks/sqltext.h"

static void test_params_translate(void **state)
{
	static const struct {
		const char *in;
		size_t fixed;
		const char *out;
		const char *names; /* comma-separated */
	} t[] = {
		{ "select ${A}", 0, "select $1", "A" },
		{ "select ${A}, ${B}, ${A}", 0, "select $1, $2, $1", "A,B" },
		{ "select $1, ${A}", 1, "select $1, $2", "A" },
		{ "select '${A}x'::text || ${A}", 0, NULL, NULL },
		{ "select 'it''s', ${A}", 0, "select 'it''s', $1", "A" },
		{ "select E'\\'${A}'", 0, NULL, NULL },
		{ "select E'\\'', ${A}", 0, "select E'\\'', $1", "A" },
		{ "select \"${A}\"", 0, NULL, NULL },
		{ "select 1 -- ${A}\n, ${B}", 0, NULL, NULL },
		{ "select /* /* ${A} */ */ 1", 0, NULL, NULL },
		{ "select /* /* x */ */ ${B}", 0, "select /* /* x */ */ $1", "B" },
		{ "do $$ begin perform $1; end $$", 0, "do $$ begin perform $1; end $$", "" },
		{ "do $f$ ${A} $f$", 0, NULL, NULL },
		{ "select $${A}", 0, "select $${A}", "" },
		{ "select a$1, ${A}", 0, "select a$1, $1", "A" },
		{ "select ${env:HOME}", 0, "select $1", "env:HOME" },
		{ "select '$1'", 0, "select '$1'", "" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof t / sizeof *t; i++) {
		struct buf out;
		struct strv names = { 0 };
		struct sql_scan_error pe;
		buf_init(&out, BUF_UNLIMITED);
		int rc = sql_params_translate(t[i].in, t[i].fixed, &out, &names, &pe);
		if (!t[i].out) {
			assert_int_equal(rc, -1);
			assert_non_null(strstr(pe.msg, "cannot be a query parameter"));
		} else {
			assert_int_equal(rc, 0);
			assert_string_equal(out.data, t[i].out);
			char joined[128] = "";
			for (size_t k = 0; k < names.n; k++)
				snprintf(joined + strlen(joined), sizeof joined - strlen(joined), "%s%s",
					 k ? "," : "", names.v[k]);
			assert_string_equal(joined, t[i].names);
		}
		buf_release(&out);
		strv_release(&names);
	}
}

static void test_params_errors(void **state)
{
	struct buf out;
	struct strv names = { 0 };
	struct sql_scan_error pe;
	(void)state;
	buf_init(&out, BUF_UNLIMITED);
	assert_int_equal(sql_params_translate("select $2", 1, &out, &names, &pe), -1);
	assert_string_equal(pe.msg, "the query uses $2 but params= gives 1 value");
	assert_int_equal(pe.off, 7);
	buf_reset(&out);
	assert_int_equal(sql_params_translate("select 1", 2, &out, &names, &pe), -1);
	assert_string_equal(pe.msg, "params= gives 2 values but the query uses no $1");
	buf_reset(&out);
	assert_int_equal(sql_params_translate("select ${A", 0, &out, &names, &pe), -2);
	buf_reset(&out);
	/* the reference's offset, for file:line:col */
	assert_int_equal(sql_params_translate("select\n  'a ${B}'", 0, &out, &names, &pe), -1);
	assert_int_equal(pe.off, 12);
	buf_release(&out);
	strv_release(&names);
}

static void test_expect_parse(void **state)
{
	struct sql_expect x;
	const char *why;
	(void)state;
	assert_int_equal(sql_expect_parse("pg_is_in_recovery=f", &x, &why), 0);
	assert_int_equal(x.n, 1);
	assert_string_equal(x.v[0].column, "pg_is_in_recovery");
	assert_int_equal(x.v[0].op, SQL_EQ);
	assert_string_equal(x.v[0].value, "f");
	sql_expect_release(&x);
	assert_int_equal(sql_expect_parse(" a != 1 , b<=2,c>3,d<>x, e= ,f>=${N}", &x, &why), 0);
	assert_int_equal(x.n, 6);
	assert_int_equal(x.v[0].op, SQL_NE);
	assert_string_equal(x.v[0].column, "a");
	assert_string_equal(x.v[0].value, "1");
	assert_int_equal(x.v[1].op, SQL_LE);
	assert_int_equal(x.v[2].op, SQL_GT);
	assert_int_equal(x.v[3].op, SQL_NE);
	assert_string_equal(x.v[4].value, "");
	assert_int_equal(x.v[5].op, SQL_GE);
	assert_string_equal(x.v[5].value, "${N}");
	sql_expect_release(&x);
	assert_int_equal(sql_expect_parse("nothing", &x, &why), -1);
	assert_int_equal(sql_expect_parse("=1", &x, &why), -1);
	assert_string_equal(why, "an assertion needs a column name before its operator");
	assert_int_equal(sql_expect_parse("a<NULL", &x, &why), -1);
	assert_int_equal(sql_expect_parse("a=1,", &x, &why), -1);
}

static void test_rows(void **state)
{
	enum sql_op op;
	int64_t n;
	(void)state;
	assert_int_equal(sql_rows_parse("1", &op, &n), 0);
	assert_true(sql_rows_match(1, op, n));
	assert_false(sql_rows_match(2, op, n));
	assert_int_equal(sql_rows_parse(">0", &op, &n), 0);
	assert_true(sql_rows_match(3, op, n));
	assert_false(sql_rows_match(0, op, n));
	assert_int_equal(sql_rows_parse("<=10", &op, &n), 0);
	assert_true(sql_rows_match(10, op, n));
	assert_int_equal(sql_rows_parse("!=0", &op, &n), 0);
	assert_true(sql_rows_match(5, op, n));
	assert_int_equal(sql_rows_parse("many", &op, &n), -1);
	assert_int_equal(sql_rows_parse(">", &op, &n), -1);
	assert_int_equal(sql_rows_parse("1x", &op, &n), -1);
	assert_int_equal(sql_rows_parse("-1", &op, &n), -1);
}

static void test_value_matches(void **state)
{
	(void)state;
	assert_true(sql_value_matches("f", SQL_EQ, "f"));
	assert_true(sql_value_matches("f", SQL_EQ, "false"));
	assert_true(sql_value_matches("t", SQL_NE, "false"));
	assert_true(sql_value_matches("0.50", SQL_EQ, "0.5"));
	assert_true(sql_value_matches("12.5", SQL_LT, "60"));
	assert_false(sql_value_matches("61", SQL_LT, "60"));
	assert_false(sql_value_matches("abc", SQL_LT, "60"));
	assert_true(sql_value_matches(NULL, SQL_EQ, "NULL"));
	assert_false(sql_value_matches("", SQL_EQ, "NULL"));
	assert_true(sql_value_matches("x", SQL_NE, "NULL"));
	assert_false(sql_value_matches(NULL, SQL_EQ, ""));
	assert_false(sql_value_matches(NULL, SQL_LT, "1"));
	assert_true(sql_value_matches(NULL, SQL_NE, "1"));
	assert_true(sql_value_matches("", SQL_EQ, ""));
	assert_true(sql_value_matches("NULL", SQL_NE, "NULL"));
	assert_true(sql_value_matches("ab", SQL_EQ, "ab"));
	assert_false(sql_value_matches("ab", SQL_EQ, "AB"));
}

static void test_table_names(void **state)
{
	(void)state;
	assert_true(sql_table_name_ok("rpo_marker"));
	assert_true(sql_table_name_ok("ops.rpo_marker"));
	assert_false(sql_table_name_ok("a.b.c"));
	assert_false(sql_table_name_ok("1x"));
	assert_false(sql_table_name_ok("x; drop"));
	assert_false(sql_table_name_ok("\"x\""));
	assert_false(sql_table_name_ok(""));
}

static void test_table_render(void **state)
{
	static const char *const names[] = { "name", "n", "note" };
	static const bool right[] = { false, true, false };
	struct sql_table t;
	struct buf out;
	(void)state;
	sql_table_init(&t, 3, names, right);
	const char *r1[] = { "alpha", "1", "a\tb\nc" };
	size_t l1[] = { 5, 1, 5 };
	const char *r2[] = { "b", "12345", NULL };
	size_t l2[] = { 1, 5, 0 };
	sql_table_add(&t, r1, l1);
	sql_table_add(&t, r2, l2);
	buf_init(&out, BUF_UNLIMITED);
	sql_table_render(&t, &out);
	assert_string_equal(out.data,
			    " name  |   n   |  note\n"
			    "-------+-------+---------\n"
			    " alpha |     1 | a\\tb\\nc\n"
			    " b     | 12345 | \n"
			    "(2 rows)\n");
	sql_table_release(&t);
	/* rows past the cap are counted, not kept */
	static const char *const one[] = { "g" };
	sql_table_init(&t, 1, one, NULL);
	for (int i = 0; i < SQL_TABLE_ROWS + 5; i++) {
		const char *v[] = { "x" };
		size_t l[] = { 1 };
		sql_table_add(&t, v, l);
	}
	assert_int_equal(t.rows, SQL_TABLE_ROWS + 5);
	assert_int_equal(t.rows_kept, SQL_TABLE_ROWS);
	buf_reset(&out);
	sql_table_render(&t, &out);
	assert_non_null(strstr(out.data, "(1005 rows, the first 1000 shown)\n"));
	sql_table_release(&t);
	/* a long cell is cut, on a character boundary */
	char big[SQL_TABLE_CELL + 10];
	memset(big, 'a', sizeof big);
	big[SQL_TABLE_CELL - 1] = '\xc3';
	big[SQL_TABLE_CELL] = '\xa9';
	big[sizeof big - 1] = '\0';
	sql_table_init(&t, 1, one, NULL);
	const char *v[] = { big };
	size_t l[] = { strlen(big) };
	sql_table_add(&t, v, l);
	assert_int_equal(strlen(t.cells[0]), SQL_TABLE_CELL - 1 + 3);
	assert_string_equal(t.cells[0] + SQL_TABLE_CELL - 1, "...");
	sql_table_release(&t);
	buf_release(&out);
}

static void test_conn_params(void **state)
{
	struct action_target t = { .name = "db", .kind = TARGET_POSTGRES,
				   .conninfo = "host=db1.example,10.0.0.9,/run/pg port=5432,5433,5434 "
					       "dbname=app user=qrh password=inline connect_timeout=3",
				   .password = "from-secret" };
	struct pg_params p;
	struct buf b;
	struct err e;
	(void)state;
	assert_int_equal(pg_params_build(&t, &p, &e), 0);
	assert_string_equal(pg_params_get(&p, "password"), "from-secret");
	assert_string_equal(pg_params_get(&p, "gssencmode"), "disable");
	assert_int_equal(p.connect_timeout_ms, 3000);
	buf_init(&b, BUF_UNLIMITED);
	pg_params_describe(&p, &b);
	assert_null(strstr(b.data, "from-secret"));
	assert_null(strstr(b.data, "inline"));
	assert_non_null(strstr(b.data, "host=db1.example,10.0.0.9,/run/pg port=5432,5433,5434 dbname=app user=qrh"));
	struct strv names;
	pg_params_names(&p, &names);
	assert_int_equal(names.n, 1);
	assert_string_equal(names.v[0], "db1.example");
	strv_release(&names);
	struct pg_lookup lk = { .name = "db1.example", .n = 2 };
	strcpy(lk.addrs[0], "192.0.2.1");
	strcpy(lk.addrs[1], "2001:db8::1");
	assert_int_equal(pg_params_apply(&p, &lk, 1, &e), 0);
	assert_string_equal(pg_params_get(&p, "host"), "db1.example,db1.example,10.0.0.9,/run/pg");
	assert_string_equal(pg_params_get(&p, "hostaddr"), "192.0.2.1,2001:db8::1,10.0.0.9,");
	assert_string_equal(pg_params_get(&p, "port"), "5432,5432,5433,5434");
	pg_params_release(&p);
	/* a failed lookup drops its host; none left is an error */
	t.conninfo = "host=nowhere.example";
	assert_int_equal(pg_params_build(&t, &p, &e), 0);
	lk = (struct pg_lookup){ .name = "nowhere.example", .n = 0 };
	assert_int_equal(pg_params_apply(&p, &lk, 1, &e), -1);
	pg_params_release(&p);
	/* hostaddr given: no lookup */
	t.conninfo = "host=db1.example hostaddr=192.0.2.7";
	assert_int_equal(pg_params_build(&t, &p, &e), 0);
	pg_params_names(&p, &names);
	assert_int_equal(names.n, 0);
	pg_params_release(&p);
	t.conninfo = "service=prod";
	assert_int_equal(pg_params_build(&t, &p, &e), -1);
	assert_non_null(strstr(e.msg, "service= is not supported"));
	t.conninfo = "host=x port";
	assert_int_equal(pg_params_build(&t, &p, &e), -1);
	assert_non_null(strstr(e.msg, "target 'db': bad dsn: "));
	buf_release(&b);
}

static const char *no_vars(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

static void test_rpo_ack_file(void **state)
{
	char path[] = "/tmp/qrh-ack.XXXXXX";
	int fd = mkstemp(path);
	(void)state;
	assert_true(fd >= 0);
	const char text[] = "1\t2024-01-01 00:00:00+00\n# comment\n\n3\t2024-01-01 00:00:01+00\n2\t2024-01-01 00:00:00.5+00\n4\ttorn";
	assert_int_equal(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
	close(fd);
	struct action a;
	char rpo[] = "rpo", nowhere[] = "/nonexistent/ack";
	action_init(&a, ACTION_SQL);
	a.recipe = rpo;
	a.ack_file = path;
	struct err e;
	struct recipe *rc = recipe_new(&a, no_vars, NULL, &e);
	assert_non_null(rc);
	struct recipe_stmt st;
	recipe_first(rc, &st);
	assert_int_equal(st.n, 2);
	assert_string_equal(st.values[0], "{1,3,2}");
	assert_string_equal(st.values[1], "2024-01-01 00:00:01+00");
	assert_non_null(strstr(st.sql, "from \"rpo_marker\""));
	/* the server's answer becomes the outcome */
	struct sql_row row = { 0 };
	sql_row_push(&row, "rows_lost", "1");
	sql_row_push(&row, "window_ms", "500");
	sql_row_push(&row, "first_lost_id", "3");
	sql_row_push(&row, "last_lost_id", "3");
	sql_row_push(&row, "last_surviving_id", "2");
	struct recipe_outcome o;
	assert_int_equal(recipe_next(rc, &row, 5, &st, &o), 0);
	assert_int_equal(o.status, ACTION_OK);
	assert_string_equal(o.summary, "rpo: 1 of 3 acknowledged rows lost (ids 3 to 3), window 500 ms");
	assert_int_equal(cJSON_GetObjectItem(o.values, "rows_lost")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(o.values, "last_acked_id")->valueint, 3);
	recipe_outcome_release(&o);
	sql_row_release(&row);
	recipe_free(rc);
	/* a line that is not an id */
	FILE *f = fopen(path, "w");
	fputs("1\tx\nabc\ty\n", f);
	fclose(f);
	assert_null(recipe_new(&a, no_vars, NULL, &e));
	assert_non_null(strstr(e.msg, ":2: not an acknowledged id"));
	unlink(path);
	a.ack_file = nowhere;
	assert_null(recipe_new(&a, no_vars, NULL, &e));
	assert_non_null(strstr(e.msg, "cannot read ack_file '/nonexistent/ack'"));
}

static void test_promote_and_lag(void **state)
{
	struct action a;
	struct err e;
	struct recipe_stmt st;
	struct recipe_outcome o;
	struct sql_row row = { 0 };
	char promote[] = "promote", lag[] = "lag";
	(void)state;
	action_init(&a, ACTION_SQL);
	a.recipe = promote;
	a.within_ms = 30000;
	struct recipe *rc = recipe_new(&a, no_vars, NULL, &e);
	recipe_first(rc, &st);
	assert_string_equal(st.sql, "select pg_is_in_recovery() as in_recovery");
	sql_row_push(&row, "in_recovery", "t");
	assert_int_equal(recipe_next(rc, &row, 1, &st, &o), 1);
	assert_string_equal(st.values[0], "30");
	sql_row_release(&row);
	sql_row_push(&row, "promoted", "f");
	assert_int_equal(recipe_next(rc, &row, 30000, &st, &o), 1);
	sql_row_release(&row);
	/* pg_promote said false and the node is still in recovery */
	sql_row_push(&row, "in_recovery", "t");
	assert_int_equal(recipe_next(rc, &row, 1, &st, &o), 0);
	assert_int_equal(o.status, ACTION_FAILED);
	assert_string_equal(o.summary, "not promoted: still in recovery after pg_promote (which returned false: not finished within the wait, or the signal failed)");
	recipe_outcome_release(&o);
	sql_row_release(&row);
	recipe_free(rc);
	/* lag: NULL replay time on a caught-up replica is 0 s, not an error */
	a.recipe = lag;
	rc = recipe_new(&a, no_vars, NULL, &e);
	recipe_first(rc, &st);
	sql_row_push(&row, "in_recovery", "t");
	sql_row_push(&row, "receiver_pid", "42");
	sql_row_push(&row, "receiver_status", NULL);
	sql_row_push(&row, "lag_bytes", "0");
	sql_row_push(&row, "replay_age", NULL);
	assert_int_equal(recipe_next(rc, &row, 1, &st, &o), 0);
	assert_int_equal(o.status, ACTION_OK);
	assert_int_equal(cJSON_GetObjectItem(o.values, "lag_seconds")->valueint, 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(o.values, "caught_up")));
	recipe_outcome_release(&o);
	sql_row_release(&row);
	/* behind: the age of the last replayed transaction */
	sql_row_push(&row, "in_recovery", "t");
	sql_row_push(&row, "receiver_pid", "42");
	sql_row_push(&row, "receiver_status", "streaming");
	sql_row_push(&row, "lag_bytes", "8192");
	sql_row_push(&row, "replay_age", "2.5");
	assert_int_equal(recipe_next(rc, &row, 1, &st, &o), 0);
	assert_string_equal(o.summary, "replica lag 2.500 s, 8192 bytes to replay");
	recipe_outcome_release(&o);
	sql_row_release(&row);
	recipe_free(rc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_params_translate),
		cmocka_unit_test(test_params_errors),
		cmocka_unit_test(test_expect_parse),
		cmocka_unit_test(test_rows),
		cmocka_unit_test(test_value_matches),
		cmocka_unit_test(test_table_names),
		cmocka_unit_test(test_table_render),
		cmocka_unit_test(test_conn_params),
		cmocka_unit_test(test_rpo_ack_file),
		cmocka_unit_test(test_promote_and_lag),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
