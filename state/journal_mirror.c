/* journal_mirror.c: a run copied verbatim into a journal of its own
 * (state/journal_team.h). */
#include "state/journal_priv.h"
#include "state/journal_team.h"

#include <string.h>

#include "util/sha256.h"

static int done(struct journal *j, sqlite3_stmt *st, const char *what, struct err *e)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : journal_sql_err(j, e, what);
}

int journal_mirror_run(struct journal *j, const struct journal_mirror_run *r,
		       struct err *e)
{
	sqlite3_stmt *st;
	char sha[JOURNAL_HASH_LEN + 1];
	if (journal_check_use(j, 1, e) < 0)
		return -1;
	sha256_hex(r->runbook_text, r->runbook_len, sha);
	if (journal_prepare(j, "INSERT OR IGNORE INTO runbooks (sha256, text) VALUES (?, ?)",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, r->runbook_text, (int)r->runbook_len, SQLITE_STATIC);
	if (done(j, st, "cannot copy the runbook", e) < 0)
		return -1;
	/* the row as shipped: its runbook_sha256 is what the chain covers, even
	 * if the text no longer hashes to it (verify says so) */
	if (journal_prepare(j, "INSERT INTO runs (id, runbook_path, runbook_sha256, title, "
			    "operator, os_user, uid, host, mode, started_at, vars) VALUES "
			    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, r->local_id);
	sqlite3_bind_text(st, 2, r->runbook_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, sha, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, r->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, r->os_user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, r->uid);
	sqlite3_bind_text(st, 8, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, r->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, r->started_at);
	sqlite3_bind_text(st, 11, r->vars, -1, SQLITE_STATIC);
	if (done(j, st, "cannot copy the run", e) < 0)
		return -1;
	if (journal_prepare(j, "INSERT INTO team_runs (run_id, uuid) VALUES (?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, r->local_id);
	sqlite3_bind_text(st, 2, r->uuid, -1, SQLITE_STATIC);
	return done(j, st, "cannot copy the run", e);
}

static int mirror_event(struct journal *j, const struct journal_event *ev, struct err *e)
{
	sqlite3_stmt *st;
	if (journal_event_row_insert(j, ev, e) < 0)
		return -1;
	const char *sql = strcmp(ev->type, "run_end") ?
		"UPDATE runs SET head_seq = ?1, head_hash = ?2 WHERE id = ?3" :
		"UPDATE runs SET head_seq = ?1, head_hash = ?2, ended_at = ?4, outcome = "
		"json_extract(?5, '$.outcome') WHERE id = ?3";
	if (journal_prepare(j, sql, &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, ev->seq);
	sqlite3_bind_text(st, 2, ev->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ev->run_id);
	if (!strcmp(ev->type, "run_end")) {
		sqlite3_bind_int64(st, 4, ev->wall_ms);
		sqlite3_bind_text(st, 5, ev->payload ? ev->payload : "{}", -1, SQLITE_STATIC);
	}
	return done(j, st, "cannot copy an event", e);
}

int journal_mirror_events(struct journal *j, const struct journal_event *evs,
			  size_t n, struct err *e)
{
	if (journal_check_use(j, 1, e) < 0 || journal_tx_begin(j, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (mirror_event(j, &evs[i], e) < 0) {
			journal_tx_rollback(j);
			return -1;
		}
	}
	return journal_tx_commit(j, e);
}

/* The stream's row, made on its first chunk; 0 and *id, or -1. */
static int output_id(struct journal *j, int64_t run_id, const struct journal_okey *k,
		     enum journal_stream stream, int64_t *id, struct err *e)
{
	sqlite3_stmt *st;
	for (int pass = 0; pass < 2; pass++) {
		if (journal_prepare(j, "SELECT id FROM outputs WHERE run_id = ?1 AND stream = ?2 AND "
				    "(CASE WHEN ?3 > 0 THEN task = ?3 ELSE task IS NULL AND step = ?4 "
				    "AND attempt = ?5 END)", &st, e) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_text(st, 2, journal_stream_name(stream), -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 3, k->task);
		sqlite3_bind_int64(st, 4, k->step);
		sqlite3_bind_int(st, 5, k->attempt);
		int rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			*id = sqlite3_column_int64(st, 0);
		sqlite3_finalize(st);
		if (rc == SQLITE_ROW)
			return 0;
		if (rc != SQLITE_DONE)
			return journal_sql_err(j, e, "cannot find copied output");
		if (pass)
			break;
		if (journal_prepare(j, "INSERT INTO outputs (run_id, step, attempt, task, label, "
				    "stream) VALUES (?, ?, ?, ?, ?, ?)", &st, e) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, run_id);
		sqlite3_bind_int64(st, 2, k->step);
		sqlite3_bind_int(st, 3, k->attempt);
		if (k->task > 0)
			sqlite3_bind_int64(st, 4, k->task);
		else
			sqlite3_bind_null(st, 4);
		sqlite3_bind_text(st, 5, k->label ? k->label : "", -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 6, journal_stream_name(stream), -1, SQLITE_STATIC);
		if (done(j, st, "cannot copy output", e) < 0)
			return -1;
	}
	return err_set(e, "cannot copy output");
}

int journal_mirror_chunk(struct journal *j, int64_t run_id,
			 const struct journal_okey *k, enum journal_stream stream,
			 int part, int64_t off, const void *data, size_t len,
			 struct err *e)
{
	sqlite3_stmt *st;
	int64_t id;
	if (journal_check_use(j, 1, e) < 0 || output_id(j, run_id, k, stream, &id, e) < 0)
		return -1;
	if (journal_prepare(j, "INSERT INTO output_chunks (output_id, part, offset, data) "
			    "VALUES (?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, part);
	sqlite3_bind_int64(st, 3, off);
	sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
	if (done(j, st, "cannot copy output", e) < 0)
		return -1;
	if (part != PART_HEAD)
		return 0;
	if (journal_prepare(j, "UPDATE outputs SET stored_end = max(stored_end, ?1), total_bytes = "
			    "max(total_bytes, ?1) WHERE id = ?2 AND finished = 0", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, off + (int64_t)len);
	sqlite3_bind_int64(st, 2, id);
	return done(j, st, "cannot copy output", e);
}

int journal_mirror_output(struct journal *j, int64_t run_id,
			  const struct journal_okey *k, enum journal_stream stream,
			  const struct journal_output_row_info *info, struct err *e)
{
	sqlite3_stmt *st;
	int64_t id;
	if (journal_check_use(j, 1, e) < 0 || output_id(j, run_id, k, stream, &id, e) < 0)
		return -1;
	if (journal_prepare(j, "UPDATE outputs SET total_bytes = ?, stored_end = ?, lost_bytes = ?, "
			    "sha256 = ?, truncated = ?, finished = 1 WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, info->total_bytes);
	sqlite3_bind_int64(st, 2, info->stored_end);
	sqlite3_bind_int64(st, 3, info->lost_bytes);
	if (info->sha256)
		sqlite3_bind_text(st, 4, info->sha256, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_int(st, 5, info->truncated);
	sqlite3_bind_int64(st, 6, id);
	return done(j, st, "cannot copy output", e);
}
