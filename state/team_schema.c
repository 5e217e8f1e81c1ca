/* team_schema.c: the central schema, its roles, and the check of its
 * grants (state/team.h). Statements are printed before they run. */
#include "state/team.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/clock.h"
#include "util/xalloc.h"

/* Every table a writer may insert into. */
static const char *const tables[] = {
	"runs", "events", "outputs", "output_chunks", "probe_samples",
	"approvals", "notes",
};
#define N_TABLES (sizeof tables / sizeof *tables)

static const char bootstrap[] =
	"CREATE SCHEMA IF NOT EXISTS qrh;\n"
	"CREATE TABLE IF NOT EXISTS qrh.schema_version (\n"
	"    version integer PRIMARY KEY,\n"
	"    applied_at timestamptz NOT NULL DEFAULT now(),\n"
	"    applied_by name NOT NULL DEFAULT session_user\n"
	");\n"
	"LOCK TABLE qrh.schema_version IN EXCLUSIVE MODE;";

/* Group roles are cluster-wide: created only when missing, so an owner
 * without CREATEROLE can init where an administrator made them. */
static const char roles[] =
	"DO $$ BEGIN\n"
	"    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qrh_writer') THEN\n"
	"        CREATE ROLE qrh_writer NOLOGIN;\n"
	"    END IF;\n"
	"    IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'qrh_reader') THEN\n"
	"        CREATE ROLE qrh_reader NOLOGIN;\n"
	"    END IF;\n"
	"END $$;";

/* migrations[i] takes the schema from version i to i + 1. */
static const char *const migrations[] = {
	/* 0 -> 1 */
	"CREATE TABLE qrh.runs (\n"
	"    uuid uuid PRIMARY KEY,\n"
	"    local_id bigint NOT NULL,\n"
	"    host text NOT NULL,\n"
	"    runbook_path text NOT NULL,\n"
	"    runbook_sha256 text NOT NULL,\n"
	"    runbook_text text NOT NULL,\n"
	"    title text NOT NULL,\n"
	"    operator text NOT NULL,\n"
	"    os_user text NOT NULL,\n"
	"    uid bigint NOT NULL,\n"
	"    mode text NOT NULL,\n"
	"    started_at bigint NOT NULL,\n"
	"    vars text NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now()\n"
	");\n"
	"CREATE TABLE qrh.events (\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    seq bigint NOT NULL CHECK (seq >= 1),\n"
	"    wall_ms bigint NOT NULL,\n"
	"    mono_ns bigint NOT NULL,\n"
	"    step bigint,\n"
	"    type text NOT NULL,\n"
	"    actor text NOT NULL,\n"
	"    payload text NOT NULL,\n"
	"    prev_hash text NOT NULL,\n"
	"    hash text NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now(),\n"
	"    PRIMARY KEY (run_uuid, seq)\n"
	");\n"
	"CREATE TABLE qrh.outputs (\n"
	"    id bigint GENERATED ALWAYS AS IDENTITY,\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    step bigint NOT NULL,\n"
	"    attempt integer NOT NULL,\n"
	"    task bigint NOT NULL,\n"
	"    label text NOT NULL,\n"
	"    stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),\n"
	"    total_bytes bigint NOT NULL,\n"
	"    stored_end bigint NOT NULL,\n"
	"    lost_bytes bigint NOT NULL,\n"
	"    sha256 text,\n"
	"    truncated integer NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now(),\n"
	"    PRIMARY KEY (run_uuid, step, attempt, task, stream)\n"
	");\n"
	"CREATE TABLE qrh.output_chunks (\n"
	"    id bigint GENERATED ALWAYS AS IDENTITY,\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    step bigint NOT NULL,\n"
	"    attempt integer NOT NULL,\n"
	"    task bigint NOT NULL,\n"
	"    label text NOT NULL,\n"
	"    stream text NOT NULL CHECK (stream IN ('stdout', 'stderr')),\n"
	"    part smallint NOT NULL CHECK (part BETWEEN 0 AND 3),\n"
	"    off bigint NOT NULL,\n"
	"    data bytea NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now(),\n"
	"    PRIMARY KEY (run_uuid, step, attempt, task, stream, part, off)\n"
	");\n"
	"CREATE TABLE qrh.probe_samples (\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    seq bigint NOT NULL,\n"
	"    probe text NOT NULL,\n"
	"    wall_ms bigint NOT NULL,\n"
	"    mono_ns bigint NOT NULL,\n"
	"    duration_ms bigint NOT NULL,\n"
	"    late_ms bigint NOT NULL,\n"
	"    skipped integer NOT NULL,\n"
	"    result text NOT NULL,\n"
	"    state text NOT NULL,\n"
	"    value text,\n"
	"    values_json text NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now(),\n"
	"    PRIMARY KEY (run_uuid, seq)\n"
	");\n"
	"CREATE TABLE qrh.approvals (\n"
	"    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    step_id text NOT NULL,\n"
	"    request_seq bigint NOT NULL,\n"
	"    command_sha256 text NOT NULL,\n"
	"    decision text NOT NULL CHECK (decision IN ('approve', 'refuse')),\n"
	"    comment text NOT NULL DEFAULT '',\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now()\n"
	");\n"
	"CREATE TABLE qrh.notes (\n"
	"    id uuid PRIMARY KEY DEFAULT gen_random_uuid(),\n"
	"    run_uuid uuid NOT NULL REFERENCES qrh.runs (uuid),\n"
	"    text text NOT NULL,\n"
	"    by_role name NOT NULL DEFAULT session_user,\n"
	"    at timestamptz NOT NULL DEFAULT now()\n"
	");\n"
	"CREATE INDEX approvals_by_run ON qrh.approvals (run_uuid);\n"
	"CREATE INDEX outputs_by_id ON qrh.outputs (run_uuid, id);\n"
	"CREATE INDEX output_chunks_by_id ON qrh.output_chunks (run_uuid, id);\n"
	"CREATE INDEX notes_by_run ON qrh.notes (run_uuid);\n"
	/* who inserted a row is the server's word, never the client's */
	"CREATE FUNCTION qrh.stamp() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"BEGIN\n"
	"    NEW.by_role := session_user;\n"
	"    NEW.at := now();\n"
	"    RETURN NEW;\n"
	"END $$;\n"
	"CREATE FUNCTION qrh.notify_runs() RETURNS trigger LANGUAGE plpgsql AS $$\n"
	"DECLARE u uuid;\n"
	"BEGIN\n"
	"    FOR u IN SELECT DISTINCT run_uuid FROM new_rows LOOP\n"
	"        PERFORM pg_notify(TG_ARGV[0], u::text);\n"
	"    END LOOP;\n"
	"    RETURN NULL;\n"
	"END $$;\n"
	"CREATE TRIGGER runs_stamp BEFORE INSERT ON qrh.runs FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER events_stamp BEFORE INSERT ON qrh.events FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER outputs_stamp BEFORE INSERT ON qrh.outputs FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER output_chunks_stamp BEFORE INSERT ON qrh.output_chunks FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER probe_samples_stamp BEFORE INSERT ON qrh.probe_samples FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER approvals_stamp BEFORE INSERT ON qrh.approvals FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER notes_stamp BEFORE INSERT ON qrh.notes FOR EACH ROW EXECUTE FUNCTION qrh.stamp();\n"
	"CREATE TRIGGER events_notify AFTER INSERT ON qrh.events REFERENCING NEW TABLE AS new_rows\n"
	"    FOR EACH STATEMENT EXECUTE FUNCTION qrh.notify_runs('" TEAM_CHANNEL_EVENTS "');\n"
	"CREATE TRIGGER output_chunks_notify AFTER INSERT ON qrh.output_chunks REFERENCING NEW TABLE AS new_rows\n"
	"    FOR EACH STATEMENT EXECUTE FUNCTION qrh.notify_runs('" TEAM_CHANNEL_EVENTS "');\n"
	"CREATE TRIGGER approvals_notify AFTER INSERT ON qrh.approvals REFERENCING NEW TABLE AS new_rows\n"
	"    FOR EACH STATEMENT EXECUTE FUNCTION qrh.notify_runs('" TEAM_CHANNEL_REQUESTS "');\n"
	"CREATE TRIGGER notes_notify AFTER INSERT ON qrh.notes REFERENCING NEW TABLE AS new_rows\n"
	"    FOR EACH STATEMENT EXECUTE FUNCTION qrh.notify_runs('" TEAM_CHANNEL_REQUESTS "');\n"
	"REVOKE ALL ON SCHEMA qrh FROM PUBLIC;\n"
	"GRANT USAGE ON SCHEMA qrh TO qrh_writer, qrh_reader;\n"
	"GRANT SELECT ON qrh.schema_version TO qrh_writer, qrh_reader;\n"
	"GRANT SELECT, INSERT ON qrh.runs, qrh.events, qrh.outputs, qrh.output_chunks,\n"
	"    qrh.probe_samples, qrh.approvals, qrh.notes TO qrh_writer;\n"
	"GRANT SELECT ON qrh.runs, qrh.events, qrh.outputs, qrh.output_chunks,\n"
	"    qrh.probe_samples, qrh.approvals, qrh.notes TO qrh_reader;\n"
	"GRANT INSERT ON qrh.notes TO qrh_reader;",
};
#define N_MIGRATIONS ((int)(sizeof migrations / sizeof *migrations))
_Static_assert(sizeof migrations / sizeof *migrations == TEAM_SCHEMA_VERSION,
	       "TEAM_SCHEMA_VERSION must equal the number of migrations");

/* libpq's message, one line, without a password (libpq never puts one in). */
int team_pq_err(struct err *e, const char *what, const char *msg)
{
	char line[400];
	snprintf(line, sizeof line, "%s", msg && *msg ? msg : "unknown error");
	for (char *p = line; *p; p++)
		if (*p == '\n')
			*p = p[1] ? ' ' : '\0';
	return err_set(e, "%s: %s", what, line);
}

PGresult *team_query(PGconn *c, const char *sql, int n, const char *const *values,
		     const char *what, struct err *e)
{
	PGresult *r = PQexecParams(c, sql, n, NULL, values, NULL, NULL, 0);
	ExecStatusType st = PQresultStatus(r);
	if (st == PGRES_TUPLES_OK || st == PGRES_COMMAND_OK)
		return r;
	team_pq_err(e, what, PQresultErrorMessage(r));
	PQclear(r);
	return NULL;
}

PGconn *team_connect(const char *conninfo, struct err *e)
{
	char *msg = NULL;
	PQconninfoOption *opts = PQconninfoParse(conninfo, &msg);
	if (!opts) {
		team_pq_err(e, "bad team conninfo", msg);
		PQfreemem(msg);
		return NULL;
	}
	PQconninfoFree(opts);
	/* keywords before dbname are defaults the conninfo may override */
	const char *kw[] = { "connect_timeout", "dbname", "fallback_application_name",
			     "gssencmode", NULL };
	const char *val[] = { "10", conninfo, "qrh", "disable", NULL };
	PGconn *c = PQconnectdbParams(kw, val, 1);
	if (!c || PQstatus(c) != CONNECTION_OK) {
		team_pq_err(e, "cannot reach the team database", c ? PQerrorMessage(c) : "out of memory");
		PQfinish(c);
		return NULL;
	}
	PQsetNoticeProcessor(c, NULL, NULL);
	return c;
}

int team_insert_id(PGconn *c, const char *sql, int n, const char *const *values,
		   const char *what, char id[UUID_TEXT_LEN + 1], struct err *e)
{
	PGresult *r = team_query(c, sql, n, values, what, e);
	if (!r)
		return -1;
	snprintf(id, UUID_TEXT_LEN + 1, "%s", PQgetvalue(r, 0, 0));
	PQclear(r);
	return 0;
}

PGresult *team_poll(PGconn *c, const char *sql, int n, const char *const *values,
		    int timeout_ms, const char *what, struct err *e)
{
	int64_t until = clock_mono_ns() / 1000000 + timeout_ms;
	for (;;) {
		PGresult *r = team_query(c, sql, n, values, what, e);
		if (!r || PQntuples(r) > 0 || clock_mono_ns() / 1000000 >= until)
			return r;
		PQclear(r);
		nanosleep(&(struct timespec){ .tv_nsec = 200 * 1000000 }, NULL);
	}
}

int team_run_find(PGconn *c, const char *run, char uuid[UUID_TEXT_LEN + 1],
		  char *role, size_t n, struct err *e)
{
	const char *v[] = { run };
	if (!*run)
		return err_set(e, "name the run");
	PGresult *r = team_query(c, "SELECT uuid::text, session_user FROM qrh.runs WHERE uuid::text "
			    "LIKE $1 || '%' LIMIT 2", 1, v, "cannot find the run", e);
	if (!r)
		return -1;
	int rows = PQntuples(r);
	if (rows == 1) {
		snprintf(uuid, UUID_TEXT_LEN + 1, "%s", PQgetvalue(r, 0, 0));
		if (role)
			snprintf(role, n, "%s", PQgetvalue(r, 0, 1));
	}
	PQclear(r);
	if (rows != 1)
		return err_set(e, rows ? "run '%s' names more than one run of the team database"
				       : "no run '%s' in the team database", run);
	return 0;
}

static int run_sql(PGconn *c, const char *sql, team_say_fn *say, void *arg,
		   struct err *e)
{
	if (say)
		say(arg, sql);
	PGresult *r = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(r);
	int rc = st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? 0 :
		team_pq_err(e, "team init", PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

int team_schema_version(PGconn *c, struct err *e)
{
	PGresult *r = PQexec(c, "SELECT CASE WHEN to_regclass('qrh.schema_version') IS NULL "
			     "THEN 0 ELSE (SELECT coalesce(max(version), 0) FROM "
			     "qrh.schema_version) END");
	int v = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		v = atoi(PQgetvalue(r, 0, 0));
	else
		team_pq_err(e, "cannot read the team schema version", PQresultErrorMessage(r));
	PQclear(r);
	return v;
}

/* A notice-free run: CREATE ... IF NOT EXISTS would otherwise chatter. */
static void quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int team_init(PGconn *c, team_say_fn *say, void *arg, int *from, int *to,
	      struct err *e)
{
	char sql[128];
	PQsetNoticeProcessor(c, quiet, NULL);
	*from = *to = 0;
	if (run_sql(c, roles, say, arg, e) < 0 || run_sql(c, "BEGIN;", say, arg, e) < 0)
		return -1;
	if (run_sql(c, bootstrap, say, arg, e) < 0)
		goto fail;
	int v = team_schema_version(c, e);
	if (v < 0)
		goto fail;
	if (v > N_MIGRATIONS) {
		err_set(e, "the team database has schema version %d but this qrh knows only up "
			"to %d: use a newer qrh", v, N_MIGRATIONS);
		goto fail;
	}
	*from = *to = v;
	for (int i = v; i < N_MIGRATIONS; i++) {
		snprintf(sql, sizeof sql, "INSERT INTO qrh.schema_version (version) VALUES (%d);",
			 i + 1);
		if (run_sql(c, migrations[i], say, arg, e) < 0 || run_sql(c, sql, say, arg, e) < 0) {
			err_prefix(e, "migration %d", i + 1);
			goto fail;
		}
	}
	if (run_sql(c, "COMMIT;", say, arg, e) < 0)
		return -1;
	*to = N_MIGRATIONS;
	return 0;
fail:
	PQclear(PQexec(c, "ROLLBACK"));
	*to = *from;
	return -1;
}

/* ---- the check ---- */

static void finding(struct team_finding **out, size_t *n, bool ok,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void finding(struct team_finding **out, size_t *n, bool ok,
		    const char *fmt, ...)
{
	va_list ap;
	*out = xrealloc(*out, (*n + 1) * sizeof **out);
	(*out)[*n].ok = ok;
	va_start(ap, fmt);
	vsnprintf((*out)[*n].text, sizeof (*out)[*n].text, fmt, ap);
	va_end(ap);
	(*n)++;
}

/* Does `role` hold `priv` on qrh.table? -1 on error. */
static int has_priv(PGconn *c, const char *role, const char *table,
		    const char *priv, struct err *e)
{
	char qualified[64];
	snprintf(qualified, sizeof qualified, "qrh.%s", table);
	const char *params[] = { role, qualified, priv };
	PGresult *r = PQexecParams(c, "SELECT has_table_privilege($1, $2, $3)", 3, NULL,
				   params, NULL, NULL, 0);
	int rc = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		rc = PQgetvalue(r, 0, 0)[0] == 't';
	else
		team_pq_err(e, "cannot check grants", PQresultErrorMessage(r));
	PQclear(r);
	return rc;
}

static const char *const writes[] = { "UPDATE", "DELETE", "TRUNCATE", "TRIGGER", "REFERENCES" };

/* A role may read and insert (insert: `inserts`, a NULL-terminated list of
 * tables, or all when NULL) and nothing else. Returns problems, or -1. */
static int check_role(PGconn *c, const char *role, bool want_select, bool insert_all,
		      const char *insert_only, struct team_finding **out, size_t *n,
		      struct err *e)
{
	int problems = 0;
	for (size_t t = 0; t < N_TABLES; t++) {
		bool want_insert = insert_all || (insert_only && !strcmp(tables[t], insert_only));
		int sel = has_priv(c, role, tables[t], "SELECT", e);
		int ins = sel < 0 ? -1 : has_priv(c, role, tables[t], "INSERT", e);
		if (ins < 0)
			return -1;
		if (sel != want_select || ins != want_insert) {
			bool s_wrong = sel != want_select;
			finding(out, n, false, "%s: %s on qrh.%s should be %s", role,
				s_wrong ? "SELECT" : "INSERT", tables[t],
				(s_wrong ? want_select : want_insert) ? "granted" : "refused");
			problems++;
		}
		for (size_t w = 0; w < sizeof writes / sizeof *writes; w++) {
			int has = has_priv(c, role, tables[t], writes[w], e);
			if (has < 0)
				return -1;
			if (has) {
				finding(out, n, false, "%s may %s qrh.%s: append-only is not enforced",
					role, writes[w], tables[t]);
				problems++;
			}
		}
	}
	if (!problems)
		finding(out, n, true, "%s: %s, no UPDATE, DELETE or TRUNCATE", role,
			!want_select ? "nothing" : insert_all ? "SELECT and INSERT on every table"
			: "SELECT, INSERT on notes only");
	return problems;
}

/* Login roles that are members of the groups: none may own the tables,
 * be a superuser, or hold write rights of its own. */
static int check_members(PGconn *c, struct team_finding **out, size_t *n,
			 struct err *e)
{
	/* granted membership only: a superuser is "a member" of everything */
	PGresult *r = team_query(c, "WITH RECURSIVE m AS (SELECT member FROM pg_auth_members WHERE "
				 "roleid IN ('qrh_writer'::regrole, 'qrh_reader'::regrole) UNION "
				 "SELECT a.member FROM pg_auth_members a JOIN m ON a.roleid = m.member) "
				 "SELECT r.rolname, r.rolsuper OR r.rolbypassrls FROM pg_roles r WHERE "
				 "r.rolcanlogin AND r.oid IN (SELECT member FROM m) ORDER BY 1",
				 0, NULL, "cannot list the team's roles", e);
	if (!r)
		return -1;
	int problems = 0;
	for (int i = 0; i < PQntuples(r); i++) {
		const char *who = PQgetvalue(r, i, 0);
		bool bad = false;
		if (PQgetvalue(r, i, 1)[0] == 't') {
			finding(out, n, false, "%s is a superuser: grants do not bind it", who);
			problems++;
			continue;
		}
		for (size_t t = 0; t < N_TABLES && !bad; t++) {
			for (size_t w = 0; w < 3 && !bad; w++) {
				int has = has_priv(c, who, tables[t], writes[w], e);
				if (has < 0) {
					PQclear(r);
					return -1;
				}
				if (has) {
					finding(out, n, false, "%s may %s qrh.%s (it owns the table or "
						"was granted more than its group)", who, writes[w], tables[t]);
					problems++;
					bad = true;
				}
			}
		}
		if (!bad)
			finding(out, n, true, "%s: a member, append-only", who);
	}
	PQclear(r);
	return problems;
}

int team_check(PGconn *c, struct team_finding **out, size_t *n, struct err *e)
{
	*out = NULL;
	*n = 0;
	int v = team_schema_version(c, e);
	if (v < 0)
		return -1;
	if (v != N_MIGRATIONS) {
		finding(out, n, false, "schema version %d, this qrh expects %d: run qrh team init", v,
			N_MIGRATIONS);
		return 1;
	}
	finding(out, n, true, "schema version %d", v);
	int problems = 0, p;
	if ((p = check_role(c, "qrh_writer", true, true, NULL, out, n, e)) < 0)
		return -1;
	problems += p;
	if ((p = check_role(c, "qrh_reader", true, false, "notes", out, n, e)) < 0)
		return -1;
	problems += p;
	if ((p = check_role(c, "public", false, false, NULL, out, n, e)) < 0)
		return -1;
	problems += p;
	if ((p = check_members(c, out, n, e)) < 0)
		return -1;
	return problems + p;
}

/* ---- listing ---- */

int team_runs_list(PGconn *c, struct team_run **runs, size_t *n, struct err *e)
{
	*runs = NULL;
	*n = 0;
	PGresult *r = team_query(c, "SELECT r.uuid::text, r.local_id, r.host, r.title, r.operator, "
				 "r.mode, r.started_at, coalesce((SELECT payload::json->>'outcome' FROM "
				 "qrh.events e WHERE e.run_uuid = r.uuid AND e.type = 'run_end' LIMIT 1), "
				 "''), (SELECT count(*) FROM qrh.events e WHERE e.run_uuid = r.uuid), "
				 "r.by_role FROM qrh.runs r ORDER BY r.started_at DESC",
				 0, NULL, "cannot list the team's runs", e);
	if (!r)
		return -1;
	int rows = PQntuples(r);
	*runs = xcalloc(rows ? (size_t)rows : 1, sizeof **runs);
	for (int i = 0; i < rows; i++) {
		struct team_run *t = &(*runs)[i];
		snprintf(t->uuid, sizeof t->uuid, "%s", PQgetvalue(r, i, 0));
		t->local_id = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		snprintf(t->host, sizeof t->host, "%s", PQgetvalue(r, i, 2));
		snprintf(t->title, sizeof t->title, "%s", PQgetvalue(r, i, 3));
		snprintf(t->operator_name, sizeof t->operator_name, "%s", PQgetvalue(r, i, 4));
		snprintf(t->mode, sizeof t->mode, "%s", PQgetvalue(r, i, 5));
		t->started_ms = strtoll(PQgetvalue(r, i, 6), NULL, 10);
		snprintf(t->outcome, sizeof t->outcome, "%s", PQgetvalue(r, i, 7));
		t->events = strtoll(PQgetvalue(r, i, 8), NULL, 10);
		snprintf(t->shipped_by, sizeof t->shipped_by, "%s", PQgetvalue(r, i, 9));
	}
	*n = (size_t)rows;
	PQclear(r);
	return 0;
}
