/* team_conn.c: a self-healing connection to the team database. */
#include "state/team_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/pg_conn.h"
#include "state/team.h"
#include "util/clock.h"
#include "util/xalloc.h"

enum phase { DOWN, OPENING, HELLO, LISTENING, READY, QUERY };

struct team_conn {
	struct loop *loop;
	struct pg_params params;
	char **listen;
	size_t n_listen, next_listen;
	struct team_conn_cb cb;
	void *arg;
	struct pg_conn *pg;
	enum phase phase;
	uint64_t retry_timer;
	int64_t backoff_ms;
	int64_t down_since;
	char role[128];
	char error[ERR_MSG_MAX];
	bool query_failed;
	char query_msg[ERR_MSG_MAX];
	team_row_fn *row;
	team_done_fn *done;
	void *qarg;
};

static void connect_now(struct team_conn *c);

static void on_retry(struct loop *l, uint64_t id, void *arg)
{
	struct team_conn *c = arg;
	(void)l;
	(void)id;
	c->retry_timer = 0;
	connect_now(c);
}

/* Down: tell the owner (a running query first), try again later. */
static void went_down(struct team_conn *c, const char *msg)
{
	bool was_query = c->phase == QUERY;
	team_done_fn *done = c->done;
	void *qarg = c->qarg;
	if (c->pg)
		pg_conn_free(c->pg);
	c->pg = NULL;
	c->phase = DOWN;
	c->done = NULL;
	snprintf(c->error, sizeof c->error, "%s", msg);
	if (!c->down_since)
		c->down_since = clock_wall_ms();
	c->retry_timer = loop_timer_add(c->loop, c->backoff_ms, on_retry, c);
	c->backoff_ms = c->backoff_ms * 2 > 5000 ? 5000 : c->backoff_ms * 2;
	if (was_query && done)
		done(qarg, false, msg);
	if (c->cb.lost)
		c->cb.lost(c->arg, msg);
}

static void listen_next(struct team_conn *c);

static void hello_row(struct team_conn *c, const PGresult *res)
{
	snprintf(c->role, sizeof c->role, "%s", PQgetvalue(res, 0, 0));
	int v = atoi(PQgetvalue(res, 0, 1));
	if (v != TEAM_SCHEMA_VERSION) {
		c->query_failed = true;
		snprintf(c->query_msg, sizeof c->query_msg,
			 v ? "the team database has schema version %d, this qrh needs %d: run qrh team init"
			   : "the team database has no qrh schema%.0d%.0d: run qrh team init",
			 v, TEAM_SCHEMA_VERSION);
	}
}

static void on_result(struct pg_conn *pg, PGresult *res, void *arg)
{
	struct team_conn *c = arg;
	(void)pg;
	ExecStatusType st = PQresultStatus(res);
	if (st == PGRES_FATAL_ERROR || st == PGRES_NONFATAL_ERROR || st == PGRES_BAD_RESPONSE) {
		if (!c->query_failed) {
			c->query_failed = true;
			snprintf(c->query_msg, sizeof c->query_msg, "%s", PQresultErrorMessage(res));
			for (char *p = c->query_msg; *p; p++)
				if (*p == '\n')
					*p = p[1] ? ' ' : '\0';
		}
	} else if (st == PGRES_SINGLE_TUPLE) {
		if (c->phase == HELLO)
			hello_row(c, res);
		else if (c->phase == QUERY && c->row)
			c->row(c->qarg, res);
	}
	PQclear(res);
}

static void on_idle(struct pg_conn *pg, void *arg)
{
	struct team_conn *c = arg;
	(void)pg;
	bool failed = c->query_failed;
	c->query_failed = false;
	switch (c->phase) {
	case HELLO:
		if (failed) {
			went_down(c, c->query_msg);
			return;
		}
		c->phase = LISTENING;
		c->next_listen = 0;
		listen_next(c);
		return;
	case LISTENING:
		if (failed) {
			went_down(c, c->query_msg);
			return;
		}
		listen_next(c);
		return;
	case QUERY: {
		team_done_fn *done = c->done;
		c->phase = READY;
		c->done = NULL;
		if (done)
			done(c->qarg, !failed, failed ? c->query_msg : "");
		return;
	}
	default:
		return;
	}
}

static void send_or_down(struct team_conn *c, const char *sql, int n,
			 const char *const *values)
{
	struct err e;
	c->query_failed = false;
	if (pg_conn_query(c->pg, sql, n, values, &e) < 0)
		went_down(c, e.msg);
}

static void listen_next(struct team_conn *c)
{
	if (c->next_listen < c->n_listen) {
		char sql[128];
		/* channel names are ours, plain words: nothing to quote */
		snprintf(sql, sizeof sql, "LISTEN %s", c->listen[c->next_listen++]);
		send_or_down(c, sql, 0, NULL);
		return;
	}
	c->phase = READY;
	c->backoff_ms = 500;
	c->down_since = 0;
	c->error[0] = '\0';
	if (c->cb.ready)
		c->cb.ready(c->arg);
}

static void on_ready(struct pg_conn *pg, void *arg)
{
	struct team_conn *c = arg;
	(void)pg;
	c->phase = HELLO;
	send_or_down(c, "SELECT session_user, CASE WHEN to_regclass('qrh.schema_version') IS NULL "
		     "THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM qrh.schema_version) END", 0,
		     NULL);
}

static void on_failed(struct pg_conn *pg, const char *msg, bool sent, void *arg)
{
	struct team_conn *c = arg;
	(void)pg;
	(void)sent;
	went_down(c, msg);
}

static void on_notify(struct pg_conn *pg, const char *channel, const char *payload,
		      void *arg)
{
	struct team_conn *c = arg;
	(void)pg;
	if (c->cb.notify)
		c->cb.notify(c->arg, channel, payload);
}

static const struct pg_conn_cb pg_cb = {
	.ready = on_ready,
	.result = on_result,
	.idle = on_idle,
	.failed = on_failed,
	.notify = on_notify,
};

static void connect_now(struct team_conn *c)
{
	struct err e;
	c->phase = OPENING;
	c->pg = pg_conn_open(c->loop, &c->params, &pg_cb, c, &e);
	if (!c->pg)
		went_down(c, e.msg);
}

struct team_conn *team_conn_new(struct loop *l, const char *conninfo,
				const char *const *listen,
				const struct team_conn_cb *cb, void *arg,
				struct err *e)
{
	struct action_target t = { .name = "team", .kind = TARGET_POSTGRES, .conninfo = conninfo };
	/* a password in the conninfo is the team's own: kept for libpq, never shown */
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		err_set(e, "bad team conninfo: %s", msg ? msg : "out of memory");
		PQfreemem(msg);
		return NULL;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && !strcmp(o->keyword, "password"))
			t.password = o->val;
	struct team_conn *c = xcalloc(1, sizeof *c);
	int rc = pg_params_build(&t, &c->params, e);
	PQconninfoFree(opts);
	if (rc < 0) {
		free(c);
		return NULL;
	}
	if (!pg_params_get(&c->params, "connect_timeout"))
		c->params.connect_timeout_ms = TEAM_CONNECT_TIMEOUT_MS;
	for (const char *const *ch = listen; ch && *ch; ch++) {
		c->listen = xrealloc(c->listen, (c->n_listen + 1) * sizeof *c->listen);
		c->listen[c->n_listen++] = xstrdup(*ch);
	}
	c->loop = l;
	c->cb = *cb;
	c->arg = arg;
	c->backoff_ms = 500;
	connect_now(c);
	return c;
}

void team_conn_free(struct team_conn *c)
{
	if (!c)
		return;
	if (c->pg)
		pg_conn_free(c->pg);
	if (c->retry_timer)
		loop_timer_cancel(c->loop, c->retry_timer);
	for (size_t i = 0; i < c->n_listen; i++)
		free(c->listen[i]);
	free(c->listen);
	pg_params_release(&c->params);
	free(c);
}

int team_conn_query(struct team_conn *c, const char *sql, int n,
		    const char *const *values, team_row_fn *row,
		    team_done_fn *done, void *arg, struct err *e)
{
	if (c->phase != READY)
		return err_set(e, "the team database is not ready");
	c->phase = QUERY;
	c->row = row;
	c->done = done;
	c->qarg = arg;
	c->query_failed = false;
	if (pg_conn_query(c->pg, sql, n, values, e) < 0) {
		c->phase = READY;
		c->done = NULL;
		return -1;
	}
	return 0;
}

bool team_conn_ready(const struct team_conn *c)
{
	return c->phase == READY || c->phase == QUERY;
}

bool team_conn_idle(const struct team_conn *c)
{
	return c->phase == READY;
}

const char *team_conn_role(const struct team_conn *c)
{
	return c->role;
}

int64_t team_conn_down_since(const struct team_conn *c)
{
	return c->down_since;
}

const char *team_conn_error(const struct team_conn *c)
{
	return c->error;
}
