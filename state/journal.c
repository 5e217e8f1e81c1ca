/* journal.c: opening and closing the journal, the default path, and the
 * small SQL helpers the other journal_*.c files share. */
#include "state/journal_priv.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "util/xalloc.h"

#define JOURNAL_BUSY_TIMEOUT_MS 5000
#define JOURNAL_PATH_MAX 4096
#define JOURNAL_FLUSH_BYTES_MAX ((size_t)16 * 1024 * 1024)

/* XDG says relative values are invalid and must be ignored. */
static const char *env_absolute(const char *name)
{
	const char *v = getenv(name);
	return v && v[0] == '/' ? v : NULL;
}

/* The caller passes --journal first; the environment comes after it. */
char *journal_path_default(const char *cli_path, struct err *e)
{
	const char *v;
	struct buf b;

	if (cli_path && *cli_path)
		return xstrdup(cli_path);
	v = getenv("QRH_JOURNAL");
	if (v && *v)
		return xstrdup(v);
	buf_init(&b, JOURNAL_PATH_MAX);
	if ((v = env_absolute("XDG_STATE_HOME")))
		buf_addf(&b, "%s/qrh/journal.db", v);
	else if ((v = env_absolute("HOME")))
		buf_addf(&b, "%s/.local/state/qrh/journal.db", v);
	else
		return err_set(e, "cannot find a journal path: set QRH_JOURNAL, "
			       "XDG_STATE_HOME or HOME"), NULL;
	return buf_detach(&b, NULL);
}

/* mkdir -p for the directory part of `path`; new directories get 0700
 * because the journal holds operational output. Existing ones are left. */
static int make_parents(const char *path, struct err *e)
{
	char *dir = xstrdup(path);
	char *slash = strrchr(dir, '/');
	int rc = 0;

	if (!slash || slash == dir) {
		free(dir);
		return 0;
	}
	*slash = '\0';
	for (char *p = dir + 1; ; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
			rc = err_errno(e, "cannot create directory '%s'", dir);
			break;
		}
		*p = saved;
		if (saved == '\0')
			break;
	}
	free(dir);
	return rc;
}

/* SQLite's own message is the useful part; say what we were doing. */
int journal_row_result(struct journal *j, int rc, const char *what,
		       struct err *e)
{
	if (rc == SQLITE_ROW)
		return 1;
	if (rc == SQLITE_DONE)
		return 0;
	return journal_sql_err(j, e, what);
}

/* One integer from the first row of a query with at most one parameter
 * (?1 = arg): 1 and *out set, 0 no row, -1 error naming `what`. */
int journal_int_query(struct journal *j, const char *sql, int64_t arg,
		      int64_t *out, const char *what, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_check_use(j, 0, e) < 0 || journal_prepare(j, sql, &st, e) < 0)
		return -1;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, arg);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return journal_row_result(j, rc, what, e);
}

int journal_sql_err(struct journal *j, struct err *e, const char *what)
{
	return err_set(e, "%s: %s", what, sqlite3_errmsg(j->db));
}

/* Every public entry point starts here: no use across fork, no writes
 * through a read-only handle. */
int journal_check_use(struct journal *j, int write, struct err *e)
{
	if (j->pid != getpid())
		return err_set(e, "journal '%s' used across fork: open it again "
			       "in this process", j->path);
	if (write && j->readonly)
		return err_set(e, "journal '%s' is open read-only", j->path);
	return 0;
}

/* For statements without parameters or rows (pragmas, BEGIN, DDL). */
int journal_exec(struct journal *j, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(j->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "journal '%s': %s", j->path,
			msg ? msg : sqlite3_errmsg(j->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

/* Every query goes through here so a failure reads the same everywhere. */
int journal_prepare(struct journal *j, const char *sql, sqlite3_stmt **st,
		    struct err *e)
{
	if (sqlite3_prepare_v2(j->db, sql, -1, st, NULL) != SQLITE_OK) {
		*st = NULL;
		return journal_sql_err(j, e, "cannot prepare journal query");
	}
	return 0;
}

/* IMMEDIATE: take the write lock up front, so reading the head and
 * inserting after it cannot race another writer. */
int journal_tx_begin(struct journal *j, struct err *e)
{
	return journal_exec(j, "BEGIN IMMEDIATE", e);
}

/* A failed COMMIT leaves the transaction open; roll back so the next
 * BEGIN works. Counting commits lets tests prove batching. */
int journal_tx_commit(struct journal *j, struct err *e)
{
	if (j->fail_after == 0) {
		journal_tx_rollback(j);
		return err_set(e, "journal '%s': %s", j->path, sqlite3_errstr(j->fail_code));
	}
	if (j->fail_after > 0)
		j->fail_after--;
	if (journal_exec(j, "COMMIT", e) < 0) {
		journal_tx_rollback(j);
		return -1;
	}
	j->stats.commits++;
	return 0;
}

/* Safe to call when no transaction is open. */
void journal_tx_rollback(struct journal *j)
{
	if (!sqlite3_get_autocommit(j->db))
		sqlite3_exec(j->db, "ROLLBACK", NULL, NULL, NULL);
}

/* Text column as a fresh string (NUL-terminated; NULL stays NULL). */
char *journal_column_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	if (!s)
		return NULL;
	return xstrndup((const char *)s, (size_t)sqlite3_column_bytes(st, col));
}

/* JSON columns are checked here, not by CHECK constraints: with
 * trusted_schema off SQLite 3.40 refuses json_valid() inside the schema. */
int journal_json_check(struct journal *j, const char *what, const char *text,
		       struct err *e)
{
	sqlite3_stmt *st;
	int valid = 0;

	if (journal_prepare(j, "SELECT json_valid(?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, text, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		valid = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (!valid)
		return err_set(e, "%s is not valid JSON", what);
	return 0;
}

/* The handle without a connection, with the default flush policy. */
static struct journal *journal_new(const char *path, int readonly)
{
	struct journal *j = xcalloc(1, sizeof *j);
	j->path = xstrdup(path);
	j->pid = getpid();
	j->readonly = readonly;
	j->file_fd = -1;
	j->flush_bytes = JOURNAL_FLUSH_BYTES;
	j->flush_interval_ns = (int64_t)JOURNAL_FLUSH_INTERVAL_MS * 1000000;
	j->tail_interval_ns = (int64_t)JOURNAL_TAIL_INTERVAL_MS * 1000000;
	j->fail_after = -1;
	return j;
}

/* Memory only; the connection is closed (or left alone) by the caller. */
static void journal_free(struct journal *j)
{
	journal_streams_free(j);
	free(j->path);
	free(j);
}

/* EXRESCODE for precise errors; trusted_schema off because a journal
 * file may come from elsewhere (an evidence bundle). */
static int journal_connect(struct journal *j, const char *name, int flags,
			   struct err *e)
{
	int rc = sqlite3_open_v2(name, &j->db, flags | SQLITE_OPEN_EXRESCODE,
				 NULL);
	if (rc != SQLITE_OK) {
		err_set(e, "cannot open journal '%s': %s", j->path,
			j->db ? sqlite3_errmsg(j->db) : sqlite3_errstr(rc));
		sqlite3_close(j->db);
		j->db = NULL;
		return -1;
	}
	sqlite3_busy_timeout(j->db, JOURNAL_BUSY_TIMEOUT_MS);
	return journal_exec(j, "PRAGMA foreign_keys = ON;"
			    "PRAGMA trusted_schema = OFF;", e);
}

/* journal_mode=WAL answers with the mode it ended up in; anything else
 * (a filesystem without shared memory, say) must not pass silently. */
static int journal_wal_enable(struct journal *j, struct err *e)
{
	sqlite3_stmt *st;
	int ok;

	if (journal_prepare(j, "PRAGMA journal_mode = WAL", &st, e) < 0)
		return -1;
	ok = sqlite3_step(st) == SQLITE_ROW &&
	     !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	if (!ok)
		return err_set(e, "journal '%s': cannot switch to WAL mode: %s",
			       j->path, sqlite3_errmsg(j->db));
	return journal_exec(j, "PRAGMA synchronous = FULL", e);
}

/* The file is created 0600 before SQLite sees it: SQLite gives the -wal
 * and -shm files the same mode, and output may be sensitive. An existing
 * file keeps its mode. */
static int create_private(const char *path, struct err *e)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);

	if (fd < 0)
		return err_errno(e, "cannot open journal '%s'", path);
	close(fd);
	return 0;
}

/* Our own fd on the file SQLite just opened: same path, same moment, so
 * the same inode, and fstat(2) on it tells if it is still linked. */
static int journal_file_watch(struct journal *j, struct err *e)
{
	j->file_fd = open(j->path, O_RDONLY | O_CLOEXEC);
	if (j->file_fd < 0)
		return err_errno(e, "cannot open journal '%s'", j->path);
	return 0;
}

int journal_file_check(struct journal *j, struct err *e)
{
	struct stat held, now;

	if (j->file_fd < 0 || j->pid != getpid())
		return 0;
	if (fstat(j->file_fd, &held) < 0)
		return err_errno(e, "cannot check the journal file '%s'",
				 j->path);
	int there = stat(j->path, &now) == 0;

	if (there && (now.st_dev != held.st_dev || now.st_ino != held.st_ino))
		return err_set(e, "the journal file '%s' was replaced by "
			       "another file: nothing more can be recorded "
			       "in it", j->path);
	if (held.st_nlink == 0 || (!there && errno == ENOENT))
		return err_set(e, "the journal file '%s' was deleted: nothing "
			       "more can be recorded", j->path);
	return 0;
}

/* Directories, file, connection, WAL, schema: each step can fail alone. */
struct journal *journal_open(const char *path, struct err *e)
{
	struct journal *j;

	if (make_parents(path, e) < 0 || create_private(path, e) < 0)
		return NULL;
	j = journal_new(path, 0);
	if (journal_connect(j, path, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
			    e) < 0 ||
	    journal_file_watch(j, e) < 0 ||
	    journal_wal_enable(j, e) < 0 ||
	    journal_schema_migrate(j, e) < 0) {
		journal_close(j);
		return NULL;
	}
	return j;
}

/* 1 for an SQLite file with no table at all: what a qrh killed while
 * creating its journal leaves behind (the file exists before the schema
 * commits); 0 for one with tables; -1 when it cannot be read. */
static int journal_probe(struct journal *j, struct err *e)
{
	sqlite3_stmt *st;
	int rc, n = 0;

	if (journal_prepare(j, "SELECT count(*) FROM sqlite_master", &st, e) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		n = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return journal_sql_err(j, e, "cannot read the journal");
	return n == 0;
}

/* The journal's directory cannot be written (read-only media, a mount
 * with ro, or no permission): SQLite cannot create the -shm file a WAL
 * database is read through. */
static int storage_readonly(const char *path)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	int ro;

	if (slash)
		slash[slash == dir] = '\0';	/* "/x" keeps its "/" */
	ro = access(slash ? dir : ".", W_OK) < 0 && errno != ENOENT;
	free(dir);
	return ro;
}

/* "file:" URI of a path: every byte but unreserved ones %-escaped. */
static char *file_uri(const char *path, const char *query)
{
	static const char hex[] = "0123456789ABCDEF";
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, "file:");
	for (const unsigned char *p = (const unsigned char *)path; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || strchr("/-._~", *p))
			buf_addc(&b, (char)*p);
		else
			buf_addf(&b, "%%%c%c", hex[*p >> 4], hex[*p & 15]);
	}
	buf_addf(&b, "?%s", query);
	return buf_detach(&b, NULL);
}

/* A journal on storage no one can write, read without a -shm: SQLite's
 * immutable=1 reads the file alone, with no locks. That is right only if
 * everything is in the file: a -wal holding changes (qrh did not close
 * it cleanly) would be ignored without a word, so that is refused. */
static struct journal *journal_open_immutable(const char *path, struct err *e)
{
	struct journal *j;
	struct stat st;
	char *wal = NULL, *uri;
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s-wal", path);
	wal = buf_detach(&b, NULL);
	if (stat(wal, &st) == 0 && st.st_size > 0) {
		err_set(e, "cannot read journal '%s': it is on storage that "
			"cannot be written here and was not closed cleanly (or "
			"is being written): its -wal file holds changes, which "
			"SQLite reads only through a -shm file beside it; copy "
			"'%s' and '%s' to writable storage and read the copy",
			path, path, wal);
		free(wal);
		return NULL;
	}
	free(wal);
	j = journal_new(path, 1);
	uri = file_uri(path, "immutable=1");
	if (journal_connect(j, uri, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI,
			    e) < 0) {
		journal_close(j);
		j = NULL;
	}
	free(uri);
	return j;
}

/* Reads such a blank file as what it is, a journal with nothing in it:
 * an empty in-memory journal stands in for it, read-only. */
static struct journal *journal_open_blank(const char *path, struct err *e)
{
	struct journal *j = journal_new(":memory:", 0);
	if (journal_connect(j, ":memory:",
			    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, e) < 0 ||
	    journal_schema_migrate(j, e) < 0 ||
	    journal_exec(j, "PRAGMA query_only = ON", e) < 0) {
		journal_close(j);
		return NULL;
	}
	j->readonly = 1;
	free(j->path);
	j->path = xstrdup(path);
	return j;
}

/* No create, no migrate: a watcher must never change the file. */
struct journal *journal_open_ro(const char *path, struct err *e)
{
	struct journal *j;
	int blank;

	if (access(path, F_OK) < 0)
		return err_errno(e, "cannot open journal '%s'", path), NULL;
	j = journal_new(path, 1);
	if (journal_connect(j, path, SQLITE_OPEN_READONLY, e) < 0) {
		journal_close(j);
		return NULL;
	}
	blank = journal_probe(j, e);
	if (blank < 0 && storage_readonly(path)) {
		journal_close(j);
		j = journal_open_immutable(path, e);
		blank = j ? journal_probe(j, e) : -1;
	}
	if (blank != 0) {
		journal_close(j);
		return blank > 0 ? journal_open_blank(path, e) : NULL;
	}
	/* compat views first: query_only refuses TEMP views too */
	if (journal_schema_check_ro(j, e) < 0 ||
	    journal_exec(j, "PRAGMA query_only = ON", e) < 0) {
		journal_close(j);
		return NULL;
	}
	return j;
}

/* Flush first so a clean exit loses no output. */
void journal_close(struct journal *j)
{
	if (!j)
		return;
	if (j->pid == getpid()) {
		if (j->db && !j->readonly)
			journal_flush(j, NULL);
		sqlite3_close(j->db);
	}
	if (j->file_fd >= 0)
		close(j->file_fd);	/* after SQLite: see struct journal */
	/* else a forked child: leave the parent's connection alone */
	journal_locks_release(j);
	journal_claims_cache_free(j);
	journal_output_close_all(j);
	journal_samples_free(j);
	journal_free(j);
}

/* Counters for tests and the bench; nothing depends on them. */
void journal_stats_get(const struct journal *j, struct journal_stats *out)
{
	*out = j->stats;
}

/* Clamped so a bad value can neither disable batching nor let memory grow. */
void journal_flush_policy_set(struct journal *j, size_t bytes,
			      int64_t interval_ms)
{
	if (bytes < 1)
		bytes = 1;
	if (bytes > JOURNAL_FLUSH_BYTES_MAX)
		bytes = JOURNAL_FLUSH_BYTES_MAX;
	j->flush_bytes = bytes;
	j->flush_interval_ns = interval_ms * 1000000;
}

/* Negative means 0: a snapshot on every append (tests). */
void journal_fail_after(struct journal *j, int commits, int sqlite_code)
{
	j->fail_after = commits < 0 ? -1 : commits;
	j->fail_code = sqlite_code;
}

void journal_tail_interval_set(struct journal *j, int64_t interval_ms)
{
	j->tail_interval_ns = interval_ms < 0 ? 0 : interval_ms * 1000000;
}
