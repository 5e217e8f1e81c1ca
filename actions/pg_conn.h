/* pg_conn: one libpq connection driven by the event loop.
 *
 * Opening: host names are looked up off the loop (pg_params.h), then
 * PQconnectStartParams / PQconnectPoll run against qrh's own deadline
 * (libpq ignores connect_timeout in this mode), the socket re-read after
 * every poll since libpq may switch sockets between hosts and attempts.
 * Querying: one statement at a time with PQsendQueryParams in single-row
 * mode (so a huge result never sits in memory), PQflush until everything
 * is sent, PQconsumeInput when the socket is readable, PQgetResult while
 * PQisBusy says a result is complete. Server notices are routed to the
 * owner (libpq's default would print them on qrh's terminal).
 *
 * Callbacks come from the loop only, never from inside a pg_conn_*
 * call. Inside any callback the owner may send the next query, hand the
 * connection to another owner, or free it. */
#ifndef QRH_ACTIONS_PG_CONN_H
#define QRH_ACTIONS_PG_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>

#include "actions/pg_params.h"
#include "util/err.h"
#include "util/loop.h"

struct pg_conn;

struct pg_conn_cb {
	/* connected: queries may be sent */
	void (*ready)(struct pg_conn *c, void *arg);
	/* one result of the running query (a row in single-row mode, the
	 * final status, or an error); the owner takes `res` and PQclears it */
	void (*result)(struct pg_conn *c, PGresult *res, void *arg);
	/* the running query is complete: the connection is idle again */
	void (*idle)(struct pg_conn *c, void *arg);
	/* the connection could not be made, or was lost: `msg` is libpq's
	 * (or the resolver's) message, one line; `sent` says whether a query
	 * had been handed to the server */
	void (*failed)(struct pg_conn *c, const char *msg, bool sent, void *arg);
	/* a NOTICE or WARNING from the server, one line (optional; it may
	 * not free the connection) */
	void (*notice)(struct pg_conn *c, const char *msg, void *arg);
	/* a NOTIFY on a channel this connection LISTENs to (optional; when
	 * set, an idle connection keeps reading so notifications arrive
	 * between queries). It may send a query or free the connection. */
	void (*notify)(struct pg_conn *c, const char *channel,
		       const char *payload, void *arg);
};

/* Starts connecting with parameters `p` (copied). */
struct pg_conn *pg_conn_open(struct loop *l, const struct pg_params *p,
			     const struct pg_conn_cb *cb, void *arg,
			     struct err *e);
/* A new owner for the callbacks (cb NULL: none, while pooled). */
void pg_conn_bind(struct pg_conn *c, const struct pg_conn_cb *cb, void *arg);
/* Sends one statement; values[i] is parameter $(i+1), sent as text with
 * its type left to the server. Only when idle. */
int pg_conn_query(struct pg_conn *c, const char *sql, int n,
		  const char *const *values, struct err *e);
/* Connected, idle, not inside a transaction and not closed by the
 * server (input is read to find out). */
bool pg_conn_reusable(struct pg_conn *c);
bool pg_conn_connecting(const struct pg_conn *c);
/* The parameters it was opened with (before lookups), for pooling. */
const struct pg_params *pg_conn_params(const struct pg_conn *c);
/* The libpq handle, for PQhost/PQport/PQbackendPID; NULL while the
 * name lookup runs. */
PGconn *pg_conn_pq(const struct pg_conn *c);
void pg_conn_free(struct pg_conn *c);

#endif
