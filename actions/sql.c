/* sql: a query (or a built-in recipe) against a postgres target.
 *
 * Connections are the kind's state: opened on first use for a target's
 * parameters, kept idle between actions and reused for the whole run; one
 * that the server closed, or that was left inside a transaction, is not
 * reused but replaced. Without kind state (an engine that does not open
 * it) each action opens and closes its own.
 *
 * ${NAME} in a query becomes a bind parameter (runbooks/sqltext.h); the
 * author's own $1.. take the params= values. The result is shown as an
 * aligned table (actions/sql_table.h) and described in the result values;
 * expect, expect_rows and capture_col look at the first row (a recipe's
 * row for a recipe).
 *
 * Cancel: libpq 15's PQcancel and PQrequestCancel block (they open a
 * connection synchronously), so a cancel opens a second connection of our
 * own on the loop, with the same parameters, and runs
 * pg_cancel_backend(pid) there; the statement then ends with SQLSTATE
 * 57014. If that does not happen within the grace period (the cancel
 * connection fails, or the server is stuck) the connection is closed and
 * the action reports cancelled, saying the server's outcome is not known.
 *
 * Everything the action says (output, done) is delivered from a timer of
 * its own, never from inside a libpq callback, so the engine may free the
 * action from any of its callbacks. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "actions/pg_conn.h"
#include "actions/sql_recipe.h"
#include "actions/sql_result.h"
#include "actions/sql_table.h"
#include "runbooks/sqltext.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define SQL_POOL_MAX 16
#define SQL_CANCEL_MIN_MS 2000

struct action_kind_state {
	struct loop *loop;
	struct pg_conn *idle[SQL_POOL_MAX];
	size_t n;
};

struct action_run {
	struct action_ctx ctx;
	const struct action *a;
	struct action_kind_state *ks;
	struct pg_params params;
	const char *target;
	struct pg_conn *conn;
	bool reused;
	bool sent;
	int backend_pid;
	char server[160];
	/* the statement */
	char *sql;
	int nvals;
	char **vals; /* NULL entries are SQL NULL */
	int64_t stmt_start_ns;
	struct sql_result col;
	struct recipe *recipe;
	struct sql_expect expect; /* values expanded */
	bool rows_check;
	enum sql_op rows_op;
	int64_t rows_n;
	/* cancel */
	bool cancelling;
	enum action_cancel_reason why;
	struct pg_conn *canceller;
	uint64_t cancel_timer;
	/* what it says, from its own timer */
	struct buf out[3];
	uint64_t flush_timer;
	bool finished;
	struct action_result res;
	cJSON *values;
	bool *freed; /* set when freed during a callback */
	int64_t started_ns;
};

static const struct pg_conn_cb conn_cb;

/* ---- the kind's state: a pool of idle connections ---- */

static int sql_open(const struct action_host *h, struct action_kind_state **out,
		    struct err *e)
{
	(void)e;
	*out = xcalloc(1, sizeof **out);
	(*out)->loop = h->loop;
	return 0;
}

static void sql_close(struct action_kind_state *ks)
{
	if (!ks)
		return;
	for (size_t i = 0; i < ks->n; i++)
		pg_conn_free(ks->idle[i]);
	free(ks);
}

/* An idle connection made with the same parameters, still usable. */
static struct pg_conn *pool_take(struct action_kind_state *ks,
				 const struct pg_params *p)
{
	for (size_t i = 0; ks && i < ks->n;) {
		struct pg_conn *c = ks->idle[i];
		if (!pg_params_same(pg_conn_params(c), p)) {
			i++;
			continue;
		}
		ks->idle[i] = ks->idle[--ks->n];
		if (pg_conn_reusable(c))
			return c;
		pg_conn_free(c);
	}
	return NULL;
}

static void pool_put(struct action_kind_state *ks, struct pg_conn *c)
{
	pg_conn_bind(c, NULL, NULL);
	if (ks && ks->n < SQL_POOL_MAX && pg_conn_reusable(c))
		ks->idle[ks->n++] = c;
	else
		pg_conn_free(c);
}

/* ---- output and done, from the action's own timer ---- */

static void on_flush(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	bool freed = false;
	(void)l;
	(void)id;
	r->flush_timer = 0;
	r->freed = &freed;
	for (int s = PROC_STDOUT; s <= PROC_STDERR; s++) {
		if (!r->out[s].len)
			continue;
		size_t len;
		char *data = buf_detach(&r->out[s], &len);
		if (r->ctx.sink.output)
			r->ctx.sink.output(r->ctx.sink.arg, (enum proc_stream)s, data, len);
		free(data);
		if (freed)
			return;
	}
	r->freed = NULL;
	if (!r->finished)
		return;
	struct action_result res = r->res;
	res.values = r->values;
	res.duration_ns = clock_mono_ns() - r->started_ns;
	/* done may free r: nothing is read after it */
	r->ctx.sink.done(r->ctx.sink.arg, &res);
}

static void say(struct action_run *r, enum proc_stream s, const char *text)
{
	buf_adds(&r->out[s], text);
	if (!r->flush_timer)
		r->flush_timer = loop_timer_add(r->ctx.loop, 0, on_flush, r);
}

static void progress(struct action_run *r, const char *phase)
{
	if (!r->ctx.sink.progress)
		return;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "phase", phase);
	if (r->col.have_table)
		cJSON_AddNumberToObject(p, "rows", (double)r->col.table.rows);
	r->ctx.sink.progress(r->ctx.sink.arg, p);
	cJSON_Delete(p);
}

/* The connection goes back to the pool when it is healthy and nothing
 * about it is in doubt. */
static void release_conns(struct action_run *r, bool keep)
{
	if (r->conn) {
		if (keep && !r->cancelling && r->ks)
			pool_put(r->ks, r->conn);
		else
			pg_conn_free(r->conn);
	}
	r->conn = NULL;
	pg_conn_free(r->canceller);
	r->canceller = NULL;
	if (r->cancel_timer)
		loop_timer_cancel(r->ctx.loop, r->cancel_timer);
	r->cancel_timer = 0;
}

static cJSON *values_obj(struct action_run *r)
{
	if (!r->values) {
		r->values = cJSON_CreateObject();
		cJSON_AddStringToObject(r->values, "target", r->target);
		if (r->server[0])
			cJSON_AddStringToObject(r->values, "server", r->server);
		if (r->backend_pid)
			cJSON_AddNumberToObject(r->values, "backend_pid", r->backend_pid);
		if (r->conn || r->reused)
			cJSON_AddBoolToObject(r->values, "reused", r->reused);
	}
	return r->values;
}

static void finish(struct action_run *r, enum action_status st, bool keep_conn,
		   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void finish(struct action_run *r, enum action_status st, bool keep_conn,
		   const char *fmt, ...)
{
	if (r->finished)
		return;
	va_list ap;
	va_start(ap, fmt);
	r->res.status = st;
	r->res.exit_code = -1;
	vsnprintf(r->res.summary, sizeof r->res.summary, fmt, ap);
	va_end(ap);
	if (st == ACTION_CANCELLED && r->recipe && recipe_effect_sent(r->recipe)) {
		size_t n = strlen(r->res.summary);
		snprintf(r->res.summary + n, sizeof r->res.summary - n,
			 "; pg_promote had been called: the node may still be promoted");
	}
	values_obj(r);
	r->finished = true;
	release_conns(r, keep_conn);
	if (r->flush_timer)
		loop_timer_cancel(r->ctx.loop, r->flush_timer);
	r->flush_timer = loop_timer_add(r->ctx.loop, 0, on_flush, r);
}

static void on_result(struct pg_conn *conn, PGresult *res, void *arg)
{
	struct action_run *r = arg;
	(void)conn;
	sql_result_take(&r->col, res);
	PQclear(res);
	if (r->col.have_table && r->col.table.rows > 0 && r->col.table.rows % 1000 == 0)
		progress(r, "rows");
	if (r->col.copy && !r->finished)
		finish(r, ACTION_FAILED, false, "copy is not supported by the sql action: use sh with psql");
}

/* expect and capture_col on the row; false (and the action finished) when
 * one of them fails. */
static bool check_row(struct action_run *r, const struct sql_row *row)
{
	struct buf why;
	buf_init(&why, ACTION_SUMMARY_MAX);
	cJSON *v = values_obj(r);
	bool ok = sql_check_expect(&r->expect, row, v, &why) &&
		  sql_check_capture(r->a->capture_col, row, v, &why);
	if (!ok)
		finish(r, ACTION_FAILED, true, "%s", why.data);
	buf_release(&why);
	return ok;
}

static void finish_query(struct action_run *r)
{
	struct sql_result *c = &r->col;
	struct buf text;
	buf_init(&text, BUF_UNLIMITED);
	sql_result_show(c, &text, values_obj(r));
	say(r, PROC_STDOUT, text.data);
	buf_release(&text);
	long long rows = sql_result_rows(c);
	if (r->rows_check && !sql_rows_match(rows, r->rows_op, r->rows_n)) {
		finish(r, ACTION_FAILED, true, "expect_rows failed: expected %s%lld rows, got %lld",
		       r->rows_op == SQL_EQ ? "" : sql_op_text(r->rows_op), (long long)r->rows_n, rows);
		return;
	}
	if (!check_row(r, c->have_first ? &c->first : NULL))
		return;
	if (c->tuples)
		finish(r, ACTION_OK, true, "%lld row%s", rows, rows == 1 ? "" : "s");
	else
		finish(r, ACTION_OK, true, "%s", c->command[0] ? c->command : "empty query");
}

/* A recipe's row, shown as a two-column table. */
static void show_row(struct action_run *r, const struct sql_row *row)
{
	static const char *const names[] = { "field", "value" };
	struct sql_table t;
	struct buf text;
	sql_table_init(&t, 2, names, NULL);
	t.no_footer = true;
	for (size_t i = 0; i < row->n; i++) {
		const char *vals[2] = { row->names[i], row->vals[i] };
		size_t lens[2] = { strlen(row->names[i]), row->vals[i] ? strlen(row->vals[i]) : 0 };
		sql_table_add(&t, vals, lens);
	}
	buf_init(&text, BUF_UNLIMITED);
	sql_table_render(&t, &text);
	say(r, PROC_STDOUT, text.data);
	buf_release(&text);
	sql_table_release(&t);
}

static int send_stmt(struct action_run *r, struct err *e);

static void recipe_step(struct action_run *r)
{
	struct recipe_stmt st;
	struct recipe_outcome o;
	struct err e;
	int64_t took = (clock_mono_ns() - r->stmt_start_ns) / 1000000;
	int more = recipe_next(r->recipe, r->col.have_first ? &r->col.first : NULL, took, &st, &o);
	if (more) {
		free(r->sql);
		for (int i = 0; i < r->nvals; i++)
			free(r->vals[i]);
		free(r->vals);
		r->sql = xstrdup(st.sql);
		r->nvals = st.n;
		r->vals = xcalloc((size_t)st.n + 1, sizeof *r->vals);
		for (int i = 0; i < st.n; i++)
			r->vals[i] = xstrdup_or_null(st.values[i]);
		sql_result_release(&r->col);
		if (send_stmt(r, &e) < 0)
			finish(r, ACTION_UNKNOWN, false, "%s: %s", r->a->recipe, e.msg);
		return;
	}
	cJSON *v = values_obj(r);
	cJSON_AddStringToObject(v, "recipe", r->a->recipe);
	for (cJSON *it = o.values ? o.values->child : NULL; it; it = it->next)
		cJSON_AddItemToObject(v, it->string, cJSON_Duplicate(it, 1));
	show_row(r, &o.row);
	if (o.status == ACTION_OK && !check_row(r, &o.row)) {
		recipe_outcome_release(&o);
		return;
	}
	finish(r, o.status, true, "%s", o.summary);
	recipe_outcome_release(&o);
}

static void on_idle(struct pg_conn *conn, void *arg)
{
	struct action_run *r = arg;
	struct sql_result *c = &r->col;
	(void)conn;
	if (r->finished)
		return;
	if (c->error) {
		say(r, PROC_STDERR, c->message);
		cJSON *v = values_obj(r);
		cJSON_AddStringToObject(v, "sqlstate", c->sqlstate);
		cJSON_AddStringToObject(v, "error", c->primary);
		if (r->cancelling && !strcmp(c->sqlstate, "57014"))
			finish(r, ACTION_CANCELLED, true, "%s; the server cancelled the statement",
			       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled");
		else
			finish(r, ACTION_FAILED, true, "%s (sqlstate %s)", c->primary, c->sqlstate);
		return;
	}
	if (r->recipe && r->cancelling) {
		finish(r, ACTION_CANCELLED, true, "%s between the recipe's statements",
		       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled");
		return;
	}
	if (r->recipe)
		recipe_step(r);
	else
		finish_query(r);
}

/* ---- connecting and sending ---- */

static int send_stmt(struct action_run *r, struct err *e)
{
	r->stmt_start_ns = clock_mono_ns();
	if (pg_conn_query(r->conn, r->sql, r->nvals, (const char *const *)r->vals, e) < 0)
		return -1;
	r->sent = true;
	return 0;
}

static void note_server(struct action_run *r)
{
	PGconn *pq = pg_conn_pq(r->conn);
	const char *host = PQhost(pq), *port = PQport(pq), *addr = PQhostaddr(pq);
	bool socket = host && host[0] == '/';
	if (socket)
		snprintf(r->server, sizeof r->server, "%s/.s.PGSQL.%s", host, port ? port : "");
	else if (addr && *addr && host && strcmp(addr, host))
		snprintf(r->server, sizeof r->server, "%s (%s) port %s", host, addr, port ? port : "");
	else
		snprintf(r->server, sizeof r->server, "%s port %s", host ? host : "?", port ? port : "");
	r->backend_pid = PQbackendPID(pq);
}

static void on_ready(struct pg_conn *conn, void *arg)
{
	struct action_run *r = arg;
	struct err e;
	(void)conn;
	note_server(r);
	progress(r, "query");
	if (send_stmt(r, &e) < 0)
		finish(r, ACTION_ERROR, false, "cannot send the query: %s", e.msg);
}

static void on_failed(struct pg_conn *conn, const char *msg, bool sent,
		      void *arg)
{
	struct action_run *r = arg;
	(void)conn;
	if (r->finished)
		return;
	if (r->cancelling)
		finish(r, ACTION_CANCELLED, false, "%s; the connection was lost: %s",
		       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled", msg);
	else if (!sent)
		finish(r, ACTION_ERROR, false, "cannot connect to %s: %s", r->target, msg);
	else if (r->recipe && recipe_read_only(r->recipe))
		finish(r, ACTION_FAILED, false, "connection to %s lost: %s", r->target, msg);
	else
		finish(r, ACTION_UNKNOWN, false,
		       "connection to %s lost after the query was sent, its outcome is not known: %s",
		       r->target, msg);
}

static void on_notice(struct pg_conn *conn, const char *msg, void *arg)
{
	struct action_run *r = arg;
	(void)conn;
	say(r, PROC_STDERR, msg);
	say(r, PROC_STDERR, "\n");
}

static const struct pg_conn_cb conn_cb = {
	.ready = on_ready,
	.result = on_result,
	.idle = on_idle,
	.failed = on_failed,
	.notice = on_notice,
};

/* ---- preparing ---- */

/* The statement of a plain query: the text with $N, then the values. */
static int prepare_query(struct action_run *r, struct err *e)
{
	const struct action *a = r->a;
	struct buf sql, v;
	struct strv names = { 0 };
	struct sql_scan_error pe;
	buf_init(&sql, BUF_UNLIMITED);
	if (sql_params_translate(a->body, a->params.n, &sql, &names, &pe) != 0) {
		buf_release(&sql);
		strv_release(&names);
		return err_set(e, "%s", pe.msg);
	}
	r->sql = buf_detach(&sql, NULL);
	r->nvals = (int)(a->params.n + names.n);
	r->vals = xcalloc((size_t)r->nvals + 1, sizeof *r->vals);
	buf_init(&v, BUF_UNLIMITED);
	int rc = 0;
	for (int i = 0; i < r->nvals && rc == 0; i++) {
		size_t k = (size_t)i;
		if (k < a->params.n) {
			buf_reset(&v);
			rc = vars_expand(a->params.v[k], r->ctx.lookup, r->ctx.lookup_arg, &v, e);
			r->vals[i] = xstrdup(v.data);
		} else {
			const char *val = r->ctx.lookup(r->ctx.lookup_arg, names.v[k - a->params.n]);
			if (!val)
				rc = err_set(e, "variable '%s' has no value", names.v[k - a->params.n]);
			r->vals[i] = xstrdup_or_null(val);
		}
	}
	buf_release(&v);
	strv_release(&names);
	return rc;
}

static int prepare_checks(struct action_run *r, struct err *e)
{
	const struct action *a = r->a;
	const char *why;
	struct buf v;
	if (a->expect_rows) {
		buf_init(&v, 256);
		int rc = vars_expand(a->expect_rows, r->ctx.lookup, r->ctx.lookup_arg, &v, e);
		if (rc == 0 && sql_rows_parse(v.data, &r->rows_op, &r->rows_n) < 0)
			rc = err_set(e, "bad expect_rows '%s'", v.data);
		buf_release(&v);
		if (rc < 0)
			return -1;
		r->rows_check = true;
	}
	if (!a->expect)
		return 0;
	if (sql_expect_parse(a->expect, &r->expect, &why) < 0)
		return err_set(e, "bad expect '%s': %s", a->expect, why);
	buf_init(&v, BUF_UNLIMITED);
	for (size_t i = 0; i < r->expect.n; i++) {
		buf_reset(&v);
		if (vars_expand(r->expect.v[i].value, r->ctx.lookup, r->ctx.lookup_arg, &v, e) < 0) {
			buf_release(&v);
			return -1;
		}
		free(r->expect.v[i].value);
		r->expect.v[i].value = xstrdup(v.data);
	}
	buf_release(&v);
	return 0;
}

static void run_free(struct action_run *r);

static struct action_run *sql_start(const struct action *a,
				    const struct action_ctx *ctx, struct err *e)
{
	if (!ctx->target || ctx->target->kind != TARGET_POSTGRES) {
		err_set(e, "sql actions need a postgres target");
		return NULL;
	}
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->a = a;
	r->ks = ctx->ks;
	r->target = ctx->target->name ? ctx->target->name : "?";
	r->started_ns = clock_mono_ns();
	for (int s = 0; s < 3; s++)
		buf_init(&r->out[s], BUF_UNLIMITED);
	if (pg_params_build(ctx->target, &r->params, e) < 0 || prepare_checks(r, e) < 0)
		goto fail;
	if (a->recipe) {
		struct recipe_stmt st;
		if (!(r->recipe = recipe_new(a, ctx->lookup, ctx->lookup_arg, e)))
			goto fail;
		recipe_first(r->recipe, &st);
		r->sql = xstrdup(st.sql);
		r->nvals = st.n;
		r->vals = xcalloc((size_t)st.n + 1, sizeof *r->vals);
		for (int i = 0; i < st.n; i++)
			r->vals[i] = xstrdup_or_null(st.values[i]);
	} else if (prepare_query(r, e) < 0) {
		goto fail;
	}
	r->conn = pool_take(r->ks, &r->params);
	if (r->conn) {
		pg_conn_bind(r->conn, &conn_cb, r);
		r->reused = true;
		note_server(r);
		struct err se;
		if (send_stmt(r, &se) == 0)
			return r;
		/* it looked usable but is not: a new one, nothing was sent */
		pg_conn_free(r->conn);
		r->conn = NULL;
		r->reused = false;
		r->sent = false;
	}
	r->conn = pg_conn_open(ctx->loop, &r->params, &conn_cb, r, e);
	if (!r->conn)
		goto fail;
	return r;
fail:
	run_free(r);
	return NULL;
}

/* ---- cancel ---- */

static void on_cancel_timer(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	(void)l;
	(void)id;
	r->cancel_timer = 0;
	finish(r, ACTION_CANCELLED, false,
	       "%s; the server did not confirm the cancel in time: the connection was closed, "
	       "the statement may still have taken effect",
	       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled");
}

static void canceller_ready(struct pg_conn *c, void *arg)
{
	struct action_run *r = arg;
	struct err e;
	char pid[24];
	const char *vals[1] = { pid };
	snprintf(pid, sizeof pid, "%d", r->backend_pid);
	if (pg_conn_query(c, "select pg_cancel_backend($1::int)", 1, vals, &e) < 0)
		finish(r, ACTION_CANCELLED, false,
		       "%s; the cancel could not be sent (%s): the connection was closed, "
		       "the statement may still have taken effect",
		       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled", e.msg);
}

static void canceller_result(struct pg_conn *c, PGresult *res, void *arg)
{
	(void)c;
	(void)arg;
	PQclear(res); /* the statement's own end says whether it worked */
}

static void canceller_idle(struct pg_conn *c, void *arg)
{
	struct action_run *r = arg;
	(void)c;
	pg_conn_free(r->canceller);
	r->canceller = NULL;
}

static void canceller_failed(struct pg_conn *c, const char *msg, bool sent,
			     void *arg)
{
	struct action_run *r = arg;
	(void)c;
	(void)sent;
	finish(r, ACTION_CANCELLED, false,
	       "%s; the cancel connection failed (%s): the connection was closed, "
	       "the statement may still have taken effect",
	       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled", msg);
}

static const struct pg_conn_cb canceller_cb = {
	.ready = canceller_ready,
	.result = canceller_result,
	.idle = canceller_idle,
	.failed = canceller_failed,
};

static void sql_cancel(struct action_run *r, enum action_cancel_reason why)
{
	struct err e;
	if (r->finished || r->cancelling)
		return;
	r->cancelling = true;
	r->why = why;
	const char *word = why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled";
	if (!r->sent) {
		finish(r, ACTION_CANCELLED, false, "%s before the query was sent", word);
		return;
	}
	progress(r, "cancelling");
	int64_t wait = r->ctx.grace_ms > SQL_CANCEL_MIN_MS ? r->ctx.grace_ms : SQL_CANCEL_MIN_MS;
	r->cancel_timer = loop_timer_add(r->ctx.loop, wait, on_cancel_timer, r);
	r->canceller = pg_conn_open(r->ctx.loop, &r->params, &canceller_cb, r, &e);
	if (!r->canceller) {
		/* from cancel, done must come later: finish schedules it */
		finish(r, ACTION_CANCELLED, false,
		       "%s; the cancel connection could not be started (%s): the connection was closed, "
		       "the statement may still have taken effect", word, e.msg);
	}
}

/* ---- describe and free ---- */

/* The checks on the result, one line, before the statement. */
static void describe_checks(const struct action *a, struct buf *out)
{
	size_t start = out->len;
	if (a->expect_rows)
		buf_addf(out, "expect_rows=%s", a->expect_rows);
	if (a->expect)
		buf_addf(out, "%sexpect=%s", out->len > start ? " " : "", a->expect);
	if (a->capture_col)
		buf_addf(out, "%scapture_col=%s", out->len > start ? " " : "", a->capture_col);
	if (out->len > start)
		buf_addc(out, '\n');
}

static int sql_describe(const struct action *a, const struct action_target *t,
			var_lookup_fn *lookup, void *arg, struct buf *out,
			struct err *e)
{
	struct pg_params p;
	buf_addf(out, "sql on %s", a->target ? a->target : "(no target)");
	if (t && pg_params_build(t, &p, e) == 0) {
		buf_adds(out, " (");
		pg_params_describe(&p, out);
		buf_adds(out, ")");
		pg_params_release(&p);
	}
	buf_adds(out, ":\n");
	if (a->recipe) {
		describe_checks(a, out);
		recipe_describe(a, lookup, arg, out);
		return 0;
	}
	struct buf sql, v;
	struct strv names = { 0 };
	struct sql_scan_error pe;
	describe_checks(a, out);
	buf_init(&sql, BUF_UNLIMITED);
	if (sql_params_translate(a->body ? a->body : "", a->params.n, &sql, &names, &pe) != 0) {
		buf_adds(out, a->body ? a->body : "");
		buf_release(&sql);
		strv_release(&names);
		return 0;
	}
	buf_adds(out, sql.data);
	buf_init(&v, BUF_UNLIMITED);
	for (size_t i = 0; i < a->params.n + names.n; i++) {
		const char *shown;
		buf_reset(&v);
		if (i < a->params.n) {
			struct err ve;
			shown = vars_expand(a->params.v[i], lookup, arg, &v, &ve) == 0 ? v.data : a->params.v[i];
			buf_addf(out, "\n  $%zu = %s", i + 1, shown);
		} else {
			const char *name = names.v[i - a->params.n];
			shown = lookup(arg, name);
			buf_addf(out, "\n  $%zu = ${%s} = %s", i + 1, name, shown ? shown : "(no value)");
		}
	}
	buf_release(&v);
	buf_release(&sql);
	strv_release(&names);
	return 0;
}

static void run_free(struct action_run *r)
{
	if (r->freed)
		*r->freed = true;
	release_conns(r, false);
	if (r->flush_timer)
		loop_timer_cancel(r->ctx.loop, r->flush_timer);
	for (int s = 0; s < 3; s++)
		buf_release(&r->out[s]);
	sql_result_release(&r->col);
	recipe_free(r->recipe);
	sql_expect_release(&r->expect);
	pg_params_release(&r->params);
	free(r->sql);
	for (int i = 0; i < r->nvals; i++)
		free(r->vals[i]);
	free(r->vals);
	cJSON_Delete(r->values);
	free(r);
}

static void sql_free(struct action_run *r)
{
	if (r)
		run_free(r);
}

const struct action_entry action_sql = {
	.kind = ACTION_SQL,
	.open = sql_open,
	.close = sql_close,
	.describe = sql_describe,
	.start = sql_start,
	.cancel = sql_cancel,
	.free = sql_free,
};
