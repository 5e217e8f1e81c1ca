#include "actions/pg_conn.h"

#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/resolve.h"
#include "util/xalloc.h"

enum phase { RESOLVING, CONNECTING, IDLE, BUSY, DEAD };

struct pg_conn {
	struct loop *loop;
	struct pg_params orig; /* as given, for pooling */
	struct pg_params p;    /* with hostaddr after the lookups */
	PGconn *pq;
	enum phase phase;
	int fd;        /* watched, or -1 */
	short events;  /* what fd is watched for */
	uint64_t deadline;
	struct resolve **rq;
	struct pg_lookup *lk;
	size_t n_lookups, pending;
	uint64_t kick; /* connect on the next pass */
	bool flushing; /* PQflush has more to send */
	struct strv names; /* host names to look up */
	struct pg_conn_cb cb;
	void *arg;
	int depth;     /* callbacks running */
	bool doomed;   /* freed during a callback */
};

/* ---- callbacks, safe against being freed inside them ---- */

static void destroy(struct pg_conn *c);

static bool settled(struct pg_conn *c)
{
	c->depth--;
	if (c->doomed && c->depth == 0) {
		destroy(c);
		return false;
	}
	return !c->doomed;
}

static bool fail(struct pg_conn *c, const char *msg, bool sent)
{
	char line[512];
	snprintf(line, sizeof line, "%s", msg && *msg ? msg : "connection lost");
	/* libpq's messages end in a newline and may span lines */
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = (p[1] ? ' ' : '\0');
	if (c->fd >= 0)
		loop_fd_remove(c->loop, c->fd);
	c->fd = -1;
	c->phase = DEAD;
	if (c->deadline)
		loop_timer_cancel(c->loop, c->deadline);
	c->deadline = 0;
	if (!c->cb.failed)
		return true;
	c->depth++;
	c->cb.failed(c, line, sent, c->arg);
	return settled(c);
}

static void notice_cb(void *arg, const char *msg)
{
	struct pg_conn *c = arg;
	if (!c->cb.notice || c->doomed)
		return;
	char line[1024];
	snprintf(line, sizeof line, "%s", msg);
	size_t n = strlen(line);
	while (n && line[n - 1] == '\n')
		line[--n] = '\0';
	c->depth++;
	c->cb.notice(c, line, c->arg);
	c->depth--; /* freeing from a notice waits for the dispatch to end */
}

/* ---- watching the socket ---- */

static void on_fd(struct loop *l, int fd, short revents, void *arg);

static int watch(struct pg_conn *c, short events, struct err *e)
{
	int fd = c->pq ? PQsocket(c->pq) : -1;
	if (fd != c->fd && c->fd >= 0) {
		loop_fd_remove(c->loop, c->fd);
		c->fd = -1;
	}
	if (fd < 0)
		return err_set(e, "libpq has no socket");
	if (c->fd < 0) {
		if (loop_fd_add(c->loop, fd, events, on_fd, c, e) < 0)
			return -1;
		c->fd = fd;
	} else if (events != c->events) {
		loop_fd_set(c->loop, fd, events);
	}
	c->events = events;
	return 0;
}

static void unwatch(struct pg_conn *c)
{
	if (c->fd >= 0)
		loop_fd_remove(c->loop, c->fd);
	c->fd = -1;
}

/* Idle: read only when the owner listens for notifications. */
static void idle_watch(struct pg_conn *c)
{
	struct err e;
	if (!c->cb.notify)
		unwatch(c);
	else if (watch(c, POLLIN, &e) < 0)
		unwatch(c);
}

/* Hands over every notification read so far; false if c is gone. */
static bool notifies(struct pg_conn *c)
{
	PGnotify *n;
	while (c->cb.notify && (n = PQnotifies(c->pq)) != NULL) {
		c->depth++;
		c->cb.notify(c, n->relname, n->extra ? n->extra : "", c->arg);
		PQfreemem(n);
		if (!settled(c))
			return false;
	}
	return true;
}

/* ---- connecting ---- */

static void on_deadline(struct loop *l, uint64_t id, void *arg)
{
	struct pg_conn *c = arg;
	char msg[256];
	(void)l;
	(void)id;
	c->deadline = 0;
	snprintf(msg, sizeof msg, "could not connect within %lld s%s",
		 (long long)(c->p.connect_timeout_ms / 1000),
		 c->phase == RESOLVING ? " (the host name lookup did not finish)" : "");
	fail(c, msg, false);
}

static bool connected(struct pg_conn *c)
{
	if (c->deadline)
		loop_timer_cancel(c->loop, c->deadline);
	c->deadline = 0;
	unwatch(c);
	if (PQsetnonblocking(c->pq, 1) != 0)
		return fail(c, PQerrorMessage(c->pq), false);
	c->phase = IDLE;
	idle_watch(c);
	c->depth++;
	c->cb.ready(c, c->arg);
	return settled(c);
}

static void poll_connect(struct pg_conn *c)
{
	struct err e;
	switch (PQconnectPoll(c->pq)) {
	case PGRES_POLLING_OK:
		connected(c);
		return;
	case PGRES_POLLING_FAILED:
		fail(c, PQerrorMessage(c->pq), false);
		return;
	case PGRES_POLLING_READING:
		if (watch(c, POLLIN, &e) < 0)
			fail(c, e.msg, false);
		return;
	default:
		if (watch(c, POLLOUT, &e) < 0)
			fail(c, e.msg, false);
		return;
	}
}

static void start_connect(struct pg_conn *c)
{
	struct err e;
	c->phase = CONNECTING;
	c->pq = PQconnectStartParams((const char *const *)c->p.kw,
				     (const char *const *)c->p.val, 0);
	if (!c->pq) {
		fail(c, "out of memory", false);
		return;
	}
	PQsetNoticeProcessor(c->pq, notice_cb, c);
	if (PQstatus(c->pq) == CONNECTION_BAD) {
		fail(c, PQerrorMessage(c->pq), false);
		return;
	}
	/* libpq's first step is to wait for the socket to be writable */
	if (watch(c, POLLOUT, &e) < 0)
		fail(c, e.msg, false);
}

static void free_lookups(struct pg_conn *c)
{
	for (size_t i = 0; i < c->n_lookups; i++)
		resolve_free(c->rq[i]);
	free(c->rq);
	free(c->lk);
	c->rq = NULL;
	c->lk = NULL;
	c->n_lookups = 0;
}

static void on_resolved(struct resolve *rq, void *arg)
{
	struct pg_conn *c = arg;
	struct err e = { "" }, first = { "" };
	(void)rq;
	if (--c->pending)
		return;
	for (size_t i = 0; i < c->n_lookups; i++)
		if (resolve_result(c->rq[i], c->lk[i].addrs, &c->lk[i].n, &e) < 0 && !first.msg[0])
			first = e;
	int rc = pg_params_apply(&c->p, c->lk, c->n_lookups, &e);
	/* the lookups are freed: this callback's own request included, which
	 * resolve.h allows */
	free_lookups(c);
	if (rc < 0) {
		fail(c, first.msg[0] ? first.msg : e.msg, false);
		return;
	}
	start_connect(c);
}

static void on_kick(struct loop *l, uint64_t id, void *arg)
{
	struct pg_conn *c = arg;
	(void)l;
	(void)id;
	c->kick = 0;
	start_connect(c);
}

struct pg_conn *pg_conn_open(struct loop *l, const struct pg_params *p,
			     const struct pg_conn_cb *cb, void *arg,
			     struct err *e)
{
	struct pg_conn *c = xcalloc(1, sizeof *c);
	c->loop = l;
	c->fd = -1;
	c->cb = *cb;
	c->arg = arg;
	c->phase = RESOLVING;
	pg_params_copy(&c->orig, p);
	pg_params_copy(&c->p, p);
	pg_params_names(p, &c->names);
	c->deadline = loop_timer_add(l, p->connect_timeout_ms, on_deadline, c);
	if (!c->names.n) {
		/* nothing to look up; PQconnectStartParams may fail at once, and
		 * no callback may come from here: start on the next pass */
		c->kick = loop_timer_add(l, 0, on_kick, c);
		return c;
	}
	c->rq = xcalloc(c->names.n, sizeof *c->rq);
	c->lk = xcalloc(c->names.n, sizeof *c->lk);
	for (size_t i = 0; i < c->names.n; i++) {
		c->lk[i].name = c->names.v[i];
		c->rq[i] = resolve_start(l, c->names.v[i], on_resolved, c, e);
		if (!c->rq[i]) {
			pg_conn_free(c);
			return NULL;
		}
		c->n_lookups = i + 1;
		c->pending++;
	}
	return c;
}

void pg_conn_bind(struct pg_conn *c, const struct pg_conn_cb *cb, void *arg)
{
	static const struct pg_conn_cb none = { 0 };
	c->cb = cb ? *cb : none;
	c->arg = arg;
	if (c->phase == IDLE)
		idle_watch(c);
}

/* ---- querying ---- */

/* Hands over every complete result; false if c is gone or dead. */
static bool drain(struct pg_conn *c)
{
	while (c->phase == BUSY && !PQisBusy(c->pq)) {
		PGresult *res = PQgetResult(c->pq);
		c->depth++;
		if (!res) {
			c->phase = IDLE;
			idle_watch(c);
			if (c->cb.idle)
				c->cb.idle(c, c->arg);
		} else if (c->cb.result) {
			c->cb.result(c, res, c->arg);
		} else {
			PQclear(res);
		}
		if (!settled(c))
			return false;
	}
	return true;
}

static void on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct pg_conn *c = arg;
	struct err e;
	(void)l;
	(void)fd;
	if (c->phase == CONNECTING) {
		poll_connect(c);
		return;
	}
	if (c->phase == IDLE) {
		/* a listener's idle connection: notifications, or its end */
		if (!PQconsumeInput(c->pq) || PQstatus(c->pq) == CONNECTION_BAD) {
			fail(c, PQerrorMessage(c->pq), false);
			return;
		}
		if (notifies(c) && (revents & (POLLHUP | POLLERR)))
			fail(c, "the server closed the connection", false);
		return;
	}
	if (c->phase != BUSY)
		return;
	if (revents & (POLLIN | POLLHUP | POLLERR | POLLNVAL)) {
		if (!PQconsumeInput(c->pq)) {
			fail(c, PQerrorMessage(c->pq), true);
			return;
		}
		if (!notifies(c))
			return;
	}
	if (c->flushing) {
		int f = PQflush(c->pq);
		if (f < 0) {
			fail(c, PQerrorMessage(c->pq), true);
			return;
		}
		c->flushing = f == 1;
		if (watch(c, c->flushing ? POLLIN | POLLOUT : POLLIN, &e) < 0) {
			fail(c, e.msg, true);
			return;
		}
	}
	drain(c);
}

int pg_conn_query(struct pg_conn *c, const char *sql, int n,
		  const char *const *values, struct err *e)
{
	if (c->phase != IDLE)
		return err_set(e, "the connection is not ready for a query");
	if (!PQsendQueryParams(c->pq, sql, n, NULL, values, NULL, NULL, 0))
		return err_set(e, "%s", PQerrorMessage(c->pq));
	PQsetSingleRowMode(c->pq);
	c->phase = BUSY;
	int f = PQflush(c->pq);
	if (f < 0)
		return err_set(e, "%s", PQerrorMessage(c->pq));
	c->flushing = f == 1;
	return watch(c, c->flushing ? POLLIN | POLLOUT : POLLIN, e);
}

bool pg_conn_reusable(struct pg_conn *c)
{
	if (c->phase != IDLE || PQstatus(c->pq) != CONNECTION_OK)
		return false;
	/* A server that went away has left a message and then an EOF to
	 * read; one PQconsumeInput stops after the message, so read while
	 * the socket says there is more (at once: poll never waits here). */
	for (int i = 0; i < 8; i++) {
		struct pollfd p = { .fd = PQsocket(c->pq), .events = POLLIN };
		if (poll(&p, 1, 0) <= 0)
			break;
		if (!PQconsumeInput(c->pq))
			return false;
	}
	if (PQisBusy(c->pq) || PQstatus(c->pq) != CONNECTION_OK)
		return false;
	return PQtransactionStatus(c->pq) == PQTRANS_IDLE;
}

bool pg_conn_connecting(const struct pg_conn *c)
{
	return c->phase == RESOLVING || c->phase == CONNECTING;
}

const struct pg_params *pg_conn_params(const struct pg_conn *c)
{
	return &c->orig;
}

PGconn *pg_conn_pq(const struct pg_conn *c)
{
	return c->pq;
}

static void destroy(struct pg_conn *c)
{
	unwatch(c);
	if (c->deadline)
		loop_timer_cancel(c->loop, c->deadline);
	if (c->kick)
		loop_timer_cancel(c->loop, c->kick);
	free_lookups(c);
	if (c->pq)
		PQfinish(c->pq);
	strv_release(&c->names);
	pg_params_release(&c->orig);
	pg_params_release(&c->p);
	free(c);
}

void pg_conn_free(struct pg_conn *c)
{
	if (!c)
		return;
	if (c->depth > 0) {
		/* inside one of its callbacks: stop everything now, free when
		 * the dispatch unwinds */
		c->doomed = true;
		unwatch(c);
		c->phase = DEAD;
		return;
	}
	destroy(c);
}
