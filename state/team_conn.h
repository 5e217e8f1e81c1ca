/* team_conn: one connection to the team database, driven by the loop,
 * that comes back by itself.
 *
 * Built on actions/pg_conn (libpq's asynchronous API: nothing blocks the
 * loop, host names are looked up off it). Once connected it asks the
 * server who we are (session_user) and the schema's version, LISTENs to
 * the channels asked for, and then reports ready; queries run one at a
 * time. When the connection cannot be made or is lost it reports lost
 * (with libpq's message and the wall-clock time it went down) and tries
 * again after a backoff (0.5 s doubling to 5 s), until freed. A query
 * error (the statement refused) does not drop the connection.
 *
 * Callbacks come from the loop. The owner may send the next query from
 * `done`, but frees the connection only from outside its callbacks. */
#ifndef QRH_STATE_TEAM_CONN_H
#define QRH_STATE_TEAM_CONN_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/loop.h"

#define TEAM_CONNECT_TIMEOUT_MS 5000

struct team_conn;

struct team_conn_cb {
	void (*ready)(void *arg);
	void (*lost)(void *arg, const char *msg);
	void (*notify)(void *arg, const char *channel, const char *payload);
};

/* A row of the running query (the owner does not PQclear it). */
typedef void team_row_fn(void *arg, const PGresult *row);
/* The query ended: ok, or refused/lost with the server's message. */
typedef void team_done_fn(void *arg, bool ok, const char *msg);

/* listen: NULL-terminated channel names, or NULL. */
struct team_conn *team_conn_new(struct loop *l, const char *conninfo,
				const char *const *listen,
				const struct team_conn_cb *cb, void *arg,
				struct err *e);
void team_conn_free(struct team_conn *c);
/* Only while ready and idle; values are text parameters $1.. */
int team_conn_query(struct team_conn *c, const char *sql, int n,
		    const char *const *values, team_row_fn *row,
		    team_done_fn *done, void *arg, struct err *e);
bool team_conn_ready(const struct team_conn *c);
bool team_conn_idle(const struct team_conn *c);
/* session_user once connected ("" before). */
const char *team_conn_role(const struct team_conn *c);
/* Wall-clock ms since when it has been down (0: up, or never tried). */
int64_t team_conn_down_since(const struct team_conn *c);
/* The last connection or schema error ("" none). */
const char *team_conn_error(const struct team_conn *c);

#endif
