/* team: the central PostgreSQL copy of the journal (team mode).
 *
 * The schema `qrh` holds, per run (keyed by the run's UUID): the header
 * with the runbook text (runs), the events with their hash chain exactly
 * as the local journal has them (events: the same hashes verify both
 * copies), output head chunks as they are written and each finished
 * stream's record, tail and markers (outputs, output_chunks), probe
 * samples (probe_samples), and what people on other machines send the
 * running qrh: approvals of dual-control steps (approvals) and notes
 * (notes). Every row records the PostgreSQL role that inserted it
 * (by_role, set by a trigger from session_user: never what the client
 * says) and when.
 *
 * Roles: team_init creates two group roles, qrh_writer (INSERT and SELECT
 * on every table: operators, approvers, watchers who add notes) and
 * qrh_reader (SELECT: watchers), and grants nothing else: a writer can
 * never UPDATE, DELETE or TRUNCATE, which PostgreSQL enforces. The owner
 * of the schema (the role that ran team init) keeps every right; it is an
 * administrator's role, not an operator's. team_check says whether the
 * grants are still so.
 *
 * Versions: the schema carries its version in qrh.schema_version; team
 * init applies the missing migrations in one transaction, each printed
 * before it runs, and refuses a database of a newer qrh. Never edit a
 * shipped migration; append.
 *
 * Notifications: inserts into events and output_chunks NOTIFY channel
 * qrh_events, approvals and notes NOTIFY qrh_requests, one notification
 * per run per statement with the run's UUID as payload (36 bytes): the
 * listener reads the rows from the tables. */
#ifndef QRH_STATE_TEAM_H
#define QRH_STATE_TEAM_H

#include <libpq-fe.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/err.h"
#include "util/uuid.h"

#define TEAM_SCHEMA_VERSION 1
#define TEAM_CHANNEL_EVENTS "qrh_events"
#define TEAM_CHANNEL_REQUESTS "qrh_requests"

/* Connects (blocking: for commands, not the loop), giving up after 10 s
 * unless the conninfo sets connect_timeout. The conninfo's password never
 * appears in a message. NULL with e set. */
PGconn *team_connect(const char *conninfo, struct err *e);

/* e = "what: libpq's message" on one line; returns -1. */
int team_pq_err(struct err *e, const char *what, const char *msg);

/* Runs sql with text parameters (blocking); the result when it is rows or
 * done, else NULL with e = "what: libpq's message". Caller PQclears. */
PGresult *team_query(PGconn *c, const char *sql, int n, const char *const *values,
		     const char *what, struct err *e);

/* Runs an INSERT ... RETURNING id::text (as team_query) and copies the
 * new row's id into id. */
int team_insert_id(PGconn *c, const char *sql, int n, const char *const *values,
		   const char *what, char id[UUID_TEXT_LEN + 1], struct err *e);

/* Runs sql (as team_query) every 200 ms until it returns a row or
 * timeout_ms has passed: the last result (no rows: timed out), or NULL
 * with e. For a command waiting on what the running qrh journals. */
PGresult *team_poll(PGconn *c, const char *sql, int n, const char *const *values,
		    int timeout_ms, const char *what, struct err *e);

/* The run named by `run`, a UUID or a prefix of one, into uuid; with role
 * (n bytes), our session_user. -1 with e when no run or several match. */
int team_run_find(PGconn *c, const char *run, char uuid[UUID_TEXT_LEN + 1],
		  char *role, size_t n, struct err *e);

/* Called with each statement before it runs (for `qrh team init` to
 * print). */
typedef void team_say_fn(void *arg, const char *sql);

/* Creates the roles and applies the missing migrations. *from and *to
 * say which versions (equal: nothing to do). */
int team_init(PGconn *c, team_say_fn *say, void *arg, int *from, int *to,
	      struct err *e);

/* One finding of team_check. */
struct team_finding {
	bool ok;
	char text[256];
};
/* Checks the schema version and the grants: writers INSERT and SELECT
 * only, readers SELECT only, PUBLIC nothing, no login member of the
 * writers owns a table or holds more rights than its group gives.
 * Findings are appended to *out (caller frees); returns the number of
 * problems, or -1 when the check itself could not run. */
int team_check(PGconn *c, struct team_finding **out, size_t *n,
	       struct err *e);

/* The version in the database (0: no schema), or -1. */
int team_schema_version(PGconn *c, struct err *e);

#endif

/* A run in the team database, for `qrh list --team`. */
struct team_run {
	char uuid[40];
	long long local_id;
	char host[128];
	char title[200];
	char operator_name[128];
	char mode[16];
	long long started_ms;
	char outcome[16]; /* "" while it runs */
	long long events;
	char shipped_by[64];
};
/* Newest first; caller frees *runs. */
int team_runs_list(PGconn *c, struct team_run **runs, size_t *n, struct err *e);
