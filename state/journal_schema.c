/* journal_schema.c: the schema as an ordered list of migrations.
 *
 * migrations[i] takes a journal from user_version i to i + 1. Only ever
 * append to the list; never edit a migration that has shipped. All pending
 * migrations and the new user_version are one transaction, so a journal is
 * at one version or the next, never in between. Migrations run with
 * foreign keys off (a table rebuild drops the table others point to, as
 * SQLite's ALTER TABLE procedure does), and PRAGMA foreign_key_check must
 * find nothing before the transaction commits.
 *
 * A read-only handle cannot migrate. It reads an older journal through
 * TEMP views that give the old tables today's shape (`compat` below), so
 * readers of any supported version run the same queries. */
#include "state/journal_priv.h"

#include <stdio.h>

static const char *const migrations[] = {
	/* 0 -> 1: runbooks, runs, events (hash-chained, append-only), output.
	 * Runbook texts live apart from runs so that the per-event update of
	 * a run's head does not rewrite the text, and so repeated drills of
	 * one runbook store it once. */
	"CREATE TABLE runbooks ("
	"	sha256 TEXT PRIMARY KEY,"
	"	text TEXT NOT NULL"
	") STRICT;"
	"CREATE TABLE runs ("
	"	id INTEGER PRIMARY KEY,"
	"	runbook_path TEXT NOT NULL,"
	"	runbook_sha256 TEXT NOT NULL REFERENCES runbooks (sha256),"
	"	title TEXT NOT NULL,"
	"	operator TEXT NOT NULL,"
	"	os_user TEXT NOT NULL,"
	"	uid INTEGER NOT NULL,"
	"	host TEXT NOT NULL,"
	"	mode TEXT NOT NULL CHECK (mode IN ('live', 'drill', 'dry-run')),"
	"	started_at INTEGER NOT NULL,"
	"	ended_at INTEGER,"
	"	outcome TEXT CHECK (outcome IN"
	"		('ok', 'failed', 'aborted', 'interrupted')),"
	"	vars TEXT NOT NULL DEFAULT '{}',"
	"	head_seq INTEGER NOT NULL DEFAULT 0,"
	"	head_hash TEXT NOT NULL DEFAULT '" JOURNAL_ZERO_HASH "'"
	") STRICT;"
	"CREATE INDEX runs_outcome ON runs (outcome, id);"
	"CREATE TABLE events ("
	"	id INTEGER PRIMARY KEY,"
	"	run_id INTEGER NOT NULL REFERENCES runs (id),"
	"	seq INTEGER NOT NULL CHECK (seq >= 1),"
	"	wall_ms INTEGER NOT NULL,"
	"	mono_ns INTEGER NOT NULL,"
	"	step INTEGER,"
	"	type TEXT NOT NULL,"
	"	actor TEXT NOT NULL,"
	"	payload TEXT NOT NULL,"
	"	prev_hash TEXT NOT NULL,"
	"	hash TEXT NOT NULL,"
	"	UNIQUE (run_id, seq)"
	") STRICT;"
	"CREATE TRIGGER events_no_update BEFORE UPDATE ON events BEGIN"
	"	SELECT RAISE(ABORT, 'journal events are append-only');"
	"END;"
	"CREATE TRIGGER events_no_delete BEFORE DELETE ON events BEGIN"
	"	SELECT RAISE(ABORT, 'journal events are append-only');"
	"END;"
	"CREATE TABLE outputs ("
	"	id INTEGER PRIMARY KEY,"
	"	run_id INTEGER NOT NULL REFERENCES runs (id),"
	"	step INTEGER NOT NULL,"
	"	attempt INTEGER NOT NULL,"
	"	stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),"
	"	total_bytes INTEGER NOT NULL DEFAULT 0,"
	"	stored_end INTEGER NOT NULL DEFAULT 0,"
	"	lost_bytes INTEGER NOT NULL DEFAULT 0,"
	"	sha256 TEXT,"
	"	truncated INTEGER NOT NULL DEFAULT 0,"
	"	finished INTEGER NOT NULL DEFAULT 0,"
	"	UNIQUE (run_id, step, attempt, stream)"
	") STRICT;"
	/* part: 0 head, 1 truncation marker, 2 tail, 3 storage-error marker */
	"CREATE TABLE output_chunks ("
	"	id INTEGER PRIMARY KEY,"
	"	output_id INTEGER NOT NULL REFERENCES outputs (id),"
	"	part INTEGER NOT NULL CHECK (part BETWEEN 0 AND 3),"
	"	offset INTEGER NOT NULL,"
	"	data BLOB NOT NULL"
	") STRICT;"
	"CREATE INDEX output_chunks_by_output"
	"	ON output_chunks (output_id, part, offset);",

	/* 1 -> 2: output keyed by task. A task's stream is (run_id, task,
	 * stream); rows written before tasks keep task NULL and their
	 * (run_id, step, attempt, stream) key. The inline UNIQUE cannot be
	 * made partial, so the table is rebuilt with the same ids (chunks
	 * point at them) and two partial unique indexes. */
	"CREATE TABLE outputs_v2 ("
	"	id INTEGER PRIMARY KEY,"
	"	run_id INTEGER NOT NULL REFERENCES runs (id),"
	"	step INTEGER NOT NULL,"
	"	attempt INTEGER NOT NULL,"
	"	task INTEGER CHECK (task IS NULL OR task > 0),"
	"	label TEXT NOT NULL DEFAULT '',"
	"	stream TEXT NOT NULL CHECK (stream IN ('stdout', 'stderr')),"
	"	total_bytes INTEGER NOT NULL DEFAULT 0,"
	"	stored_end INTEGER NOT NULL DEFAULT 0,"
	"	lost_bytes INTEGER NOT NULL DEFAULT 0,"
	"	sha256 TEXT,"
	"	truncated INTEGER NOT NULL DEFAULT 0,"
	"	finished INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"INSERT INTO outputs_v2 (id, run_id, step, attempt, task, label, "
	"	stream, total_bytes, stored_end, lost_bytes, sha256, truncated,"
	"	finished)"
	"	SELECT id, run_id, step, attempt, NULL, '', stream, total_bytes,"
	"	stored_end, lost_bytes, sha256, truncated, finished FROM outputs;"
	"DROP TABLE outputs;"
	"ALTER TABLE outputs_v2 RENAME TO outputs;"
	"CREATE UNIQUE INDEX outputs_by_task ON outputs (run_id, task, stream)"
	"	WHERE task IS NOT NULL;"
	"CREATE UNIQUE INDEX outputs_by_attempt"
	"	ON outputs (run_id, step, attempt, stream) WHERE task IS NULL;",

	/* team mode's outbox (state/journal_team.h). When merged after the
	 * probes' probe_samples migration this is 3 -> 4 (and the compat
	 * entry below moves to [3]). IF NOT EXISTS: a journal that a build of
	 * either order already gave these tables migrates all the same.
	 * Every run's UUID
	 * beside its number, and how far a run linked to a team database
	 * (linked = 1) has been shipped: the header, events up to a seq,
	 * output head chunks up to a row id, probe samples up to a seq, and
	 * the finished streams whose record and tail went. */
	"CREATE TABLE IF NOT EXISTS team_runs ("
	"	run_id INTEGER PRIMARY KEY REFERENCES runs (id),"
	"	uuid TEXT NOT NULL UNIQUE,"
	"	linked INTEGER NOT NULL DEFAULT 0,"
	"	header_shipped INTEGER NOT NULL DEFAULT 0,"
	"	events_shipped INTEGER NOT NULL DEFAULT 0,"
	"	chunks_shipped INTEGER NOT NULL DEFAULT 0,"
	"	samples_shipped INTEGER NOT NULL DEFAULT 0"
	") STRICT;"
	"CREATE TABLE IF NOT EXISTS team_outputs_shipped ("
	"	output_id INTEGER PRIMARY KEY REFERENCES outputs (id)"
	") STRICT;",
};

/* compat[v] gives a journal at version v (read-only) today's shape as TEMP
 * views; NULL: nothing to add. Temp objects shadow main's of the same
 * name, and live in the connection, never in the file. */
static const char *const compat[] = {
	[1] = "CREATE TEMP VIEW outputs AS SELECT id, run_id, step, attempt, "
	      "NULL AS task, '' AS label, stream, total_bytes, stored_end, "
	      "lost_bytes, sha256, truncated, finished FROM main.outputs;",
	/* a version 2 journal has no outbox: empty stand-ins (temp tables,
	 * since a view cannot be empty of a shape with a name only) */
	[2] = "CREATE TEMP TABLE team_runs (run_id INTEGER PRIMARY KEY, "
	      "uuid TEXT, linked INTEGER, header_shipped INTEGER, "
	      "events_shipped INTEGER, chunks_shipped INTEGER, "
	      "samples_shipped INTEGER);"
	      "CREATE TEMP TABLE team_outputs_shipped (output_id INTEGER PRIMARY KEY);",
};

#define COMPAT_OLDEST 1

#define MIGRATIONS_COUNT ((int)(sizeof migrations / sizeof migrations[0]))

_Static_assert(MIGRATIONS_COUNT == JOURNAL_SCHEMA_VERSION,
	       "JOURNAL_SCHEMA_VERSION must equal the number of migrations");
_Static_assert(sizeof compat / sizeof compat[0] <= MIGRATIONS_COUNT,
	       "compat views exist only for versions older than the newest");

/* PRAGMA user_version is the schema version. */
static int read_version(struct journal *j, int *version, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "PRAGMA user_version", &st, e) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*version = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return journal_sql_err(j, e, "cannot read journal schema version");
	return 0;
}

/* One message for both open paths. */
static int refuse_newer(struct journal *j, int version, struct err *e)
{
	return err_set(e, "journal '%s' has schema version %d but this qrh "
		       "knows only up to %d: use a newer qrh", j->path,
		       version, JOURNAL_SCHEMA_VERSION);
}

/* For tests and `qrh verify` output. */
int journal_schema_version(struct journal *j, struct err *e)
{
	int version = 0;

	if (journal_check_use(j, 0, e) < 0 || read_version(j, &version, e) < 0)
		return -1;
	return version;
}

/* With foreign keys off for the rebuild, check them all before commit:
 * a migration must leave no row pointing nowhere. */
static int foreign_keys_intact(struct journal *j, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "PRAGMA foreign_key_check", &st, e) < 0)
		return -1;
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_ROW)
		return err_set(e, "journal '%s': a migration left rows whose "
			       "foreign keys point nowhere", j->path);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot check journal foreign keys");
	return 0;
}

/* Read the version again inside the write transaction, so two processes
 * opening a fresh journal at once cannot both run migration 0. The common
 * case, an up-to-date journal, takes no write lock at all. */
static int migrate(struct journal *j, struct err *e)
{
	int version;
	char sql[64];

	if (read_version(j, &version, e) < 0)
		return -1;
	if (version > MIGRATIONS_COUNT)
		return refuse_newer(j, version, e);
	if (version == MIGRATIONS_COUNT)
		return 0;
	if (journal_tx_begin(j, e) < 0)
		return -1;
	if (read_version(j, &version, e) < 0)
		goto fail;
	if (version > MIGRATIONS_COUNT) {
		refuse_newer(j, version, e);
		goto fail;
	}
	if (version == MIGRATIONS_COUNT) {
		journal_tx_rollback(j);
		return 0;
	}
	for (int i = version; i < MIGRATIONS_COUNT; i++) {
		if (journal_exec(j, migrations[i], e) < 0) {
			err_prefix(e, "journal migration %d", i + 1);
			goto fail;
		}
	}
	snprintf(sql, sizeof sql, "PRAGMA user_version = %d", MIGRATIONS_COUNT);
	if (journal_exec(j, sql, e) < 0 || foreign_keys_intact(j, e) < 0)
		goto fail;
	return journal_tx_commit(j, e);
fail:
	journal_tx_rollback(j);
	return -1;
}

/* PRAGMA foreign_keys cannot change inside a transaction: switched off
 * around the migrating one, and on again whatever happened. */
int journal_schema_migrate(struct journal *j, struct err *e)
{
	int rc;

	if (journal_exec(j, "PRAGMA foreign_keys = OFF", e) < 0)
		return -1;
	rc = migrate(j, e);
	if (journal_exec(j, "PRAGMA foreign_keys = ON", rc < 0 ? NULL : e) < 0)
		rc = -1;
	return rc;
}

/* A read-only handle cannot migrate: an older journal is read through
 * the compat views, each version's on top of the next one's shape. Called
 * before PRAGMA query_only is set, which would refuse TEMP views too. */
int journal_schema_check_ro(struct journal *j, struct err *e)
{
	int version;

	if (read_version(j, &version, e) < 0)
		return -1;
	if (version > MIGRATIONS_COUNT)
		return refuse_newer(j, version, e);
	if (version == 0)
		return err_set(e, "'%s' is not a qrh journal (no schema)",
			       j->path);
	if (version < COMPAT_OLDEST)
		return err_set(e, "journal '%s' has the old schema version %d: "
			       "open it read-write once to upgrade it",
			       j->path, version);
	for (int v = version; v < MIGRATIONS_COUNT; v++) {
		if (compat[v] && journal_exec(j, compat[v], e) < 0) {
			err_prefix(e, "cannot read schema version %d", version);
			return -1;
		}
	}
	return 0;
}
