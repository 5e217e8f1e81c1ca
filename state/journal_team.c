/* journal_team.c: the outbox of team mode (state/journal_team.h). */
#include "state/journal_priv.h"
#include "state/journal_team.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

int journal_team_uuid_store(struct journal *j, int64_t run_id,
			    const char *uuid, struct err *e)
{
	sqlite3_stmt *st;
	if (journal_prepare(j, "INSERT INTO team_runs (run_id, uuid) VALUES (?, ?)",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : journal_sql_err(j, e, "cannot name the run");
}

/* One text column of a one-row query with one integer parameter. */
static int text_query(struct journal *j, const char *sql, int64_t arg,
		      char *out, size_t cap, const char *what, struct err *e)
{
	sqlite3_stmt *st;
	if (journal_prepare(j, sql, &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, arg);
	int rc = sqlite3_step(st);
	const unsigned char *s = rc == SQLITE_ROW ? sqlite3_column_text(st, 0) : NULL;
	if (s)
		snprintf(out, cap, "%s", (const char *)s);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_sql_err(j, e, what);
	return s ? 1 : 0;
}

int journal_run_uuid(struct journal *j, int64_t run_id,
		     char out[UUID_TEXT_LEN + 1], struct err *e)
{
	if (journal_check_use(j, 0, e) < 0)
		return -1;
	int rc = text_query(j, "SELECT uuid FROM team_runs WHERE run_id = ?", run_id,
			    out, UUID_TEXT_LEN + 1, "cannot read the run's uuid", e);
	return rc == 1 && !uuid_valid(out) ? 0 : rc;
}

int journal_run_by_uuid(struct journal *j, const char *uuid, int64_t *run_id,
			struct err *e)
{
	sqlite3_stmt *st;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT run_id FROM team_runs WHERE uuid = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, uuid, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		*run_id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return journal_row_result(j, rc, "cannot find the run by uuid", e);
}

/* Cursor writes matter only while the machine stays up: a lost one makes
 * a batch go twice, which the central keys absorb. */
static int lazy_exec(struct journal *j, sqlite3_stmt *st, const char *what,
		     struct err *e)
{
	if (journal_exec(j, "PRAGMA synchronous = NORMAL", e) < 0) {
		sqlite3_finalize(st);
		return -1;
	}
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	int back = journal_exec(j, "PRAGMA synchronous = FULL", e);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, what);
	return back;
}

int journal_team_link(struct journal *j, int64_t run_id,
		      char uuid[UUID_TEXT_LEN + 1], struct err *e)
{
	sqlite3_stmt *st;
	if (journal_check_use(j, 1, e) < 0)
		return -1;
	int rc = journal_run_uuid(j, run_id, uuid, e);
	if (rc < 0)
		return -1;
	if (rc == 0 && uuid_new(uuid) < 0)
		return err_set(e, "cannot name run %lld: no randomness from the kernel",
			       (long long)run_id);
	if (journal_prepare(j, "INSERT INTO team_runs (run_id, uuid, linked) VALUES (?, ?, 1) "
			    "ON CONFLICT (run_id) DO UPDATE SET linked = 1", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, uuid, -1, SQLITE_TRANSIENT);
	return lazy_exec(j, st, "cannot link the run to the team", e);
}

#define OUTPUTS_WAITING "(SELECT count(*) FROM outputs o WHERE o.run_id = t.run_id " \
	"AND o.finished = 1 AND o.id NOT IN (SELECT output_id FROM team_outputs_shipped))"

int journal_team_state(struct journal *j, int64_t run_id,
		       struct journal_team_state *out, struct err *e)
{
	sqlite3_stmt *st;
	memset(out, 0, sizeof *out);
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT t.uuid, t.linked, t.header_shipped, t.events_shipped, "
			    "t.chunks_shipped, t.samples_shipped, r.head_seq, " OUTPUTS_WAITING
			    " FROM team_runs t JOIN runs r ON r.id = t.run_id WHERE t.run_id = ?",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *u = sqlite3_column_text(st, 0);
		snprintf(out->uuid, sizeof out->uuid, "%s", u ? (const char *)u : "");
		out->linked = sqlite3_column_int(st, 1);
		out->header_shipped = sqlite3_column_int(st, 2);
		out->events = sqlite3_column_int64(st, 3);
		out->chunks = sqlite3_column_int64(st, 4);
		out->samples = sqlite3_column_int64(st, 5);
		out->head_seq = sqlite3_column_int64(st, 6);
		out->outputs_waiting = sqlite3_column_int64(st, 7);
	}
	sqlite3_finalize(st);
	return journal_row_result(j, rc, "cannot read what was shipped", e);
}

int journal_team_pending(struct journal *j, int64_t *ids, size_t max,
			 size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	*n = 0;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT t.run_id FROM team_runs t JOIN runs r ON r.id = t.run_id "
			    "WHERE t.linked = 1 AND (t.header_shipped = 0 OR t.events_shipped < "
			    "r.head_seq OR " OUTPUTS_WAITING " > 0 OR EXISTS (SELECT 1 FROM "
			    "output_chunks c JOIN outputs o ON o.id = c.output_id WHERE o.run_id "
			    "= t.run_id AND c.part = 0 AND c.id > t.chunks_shipped)) "
			    "ORDER BY t.run_id", &st, e) < 0)
		return -1;
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW && *n < max)
		ids[(*n)++] = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot list the runs to ship");
	return 0;
}

int journal_team_mark(struct journal *j, int64_t run_id,
		      enum journal_team_cursor which, int64_t value,
		      struct err *e)
{
	static const char *const sql[] = {
		[JOURNAL_TEAM_HEADER] = "UPDATE team_runs SET header_shipped = 1 WHERE run_id = ?2",
		[JOURNAL_TEAM_EVENTS] = "UPDATE team_runs SET events_shipped = "
			"max(events_shipped, ?1) WHERE run_id = ?2",
		[JOURNAL_TEAM_CHUNKS] = "UPDATE team_runs SET chunks_shipped = "
			"max(chunks_shipped, ?1) WHERE run_id = ?2",
		[JOURNAL_TEAM_SAMPLES] = "UPDATE team_runs SET samples_shipped = "
			"max(samples_shipped, ?1) WHERE run_id = ?2",
	};
	sqlite3_stmt *st;
	if (journal_check_use(j, 1, e) < 0 || journal_prepare(j, sql[which], &st, e) < 0)
		return -1;
	if (which != JOURNAL_TEAM_HEADER)
		sqlite3_bind_int64(st, 1, value);
	sqlite3_bind_int64(st, 2, run_id);
	return lazy_exec(j, st, "cannot record what was shipped", e);
}

int journal_team_mark_outputs(struct journal *j, const int64_t *output_ids,
			      size_t n, struct err *e)
{
	if (!n)
		return 0;
	/* lazy like the cursors (lazy_exec) */
	if (journal_check_use(j, 1, e) < 0 ||
	    journal_exec(j, "PRAGMA synchronous = NORMAL", e) < 0)
		return -1;
	if (journal_tx_begin(j, e) < 0) {
		journal_exec(j, "PRAGMA synchronous = FULL", NULL);
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_stmt *st;
		if (journal_prepare(j, "INSERT OR IGNORE INTO team_outputs_shipped (output_id) "
				    "VALUES (?)", &st, e) < 0)
			goto fail;
		sqlite3_bind_int64(st, 1, output_ids[i]);
		int rc = sqlite3_step(st);
		sqlite3_finalize(st);
		if (rc != SQLITE_DONE) {
			journal_sql_err(j, e, "cannot record what was shipped");
			goto fail;
		}
	}
	if (journal_tx_commit(j, e) < 0) {
		journal_exec(j, "PRAGMA synchronous = FULL", NULL);
		return -1;
	}
	return journal_exec(j, "PRAGMA synchronous = FULL", e);
fail:
	journal_tx_rollback(j);
	journal_exec(j, "PRAGMA synchronous = FULL", NULL);
	return -1;
}

/* ---- rows as JSON for json_to_recordset ---- */

static cJSON *column_json(sqlite3_stmt *st, int col, size_t *bytes)
{
	char num[24];
	switch (sqlite3_column_type(st, col)) {
	case SQLITE_INTEGER:
		snprintf(num, sizeof num, "%lld", (long long)sqlite3_column_int64(st, col));
		*bytes += strlen(num);
		return cJSON_CreateString(num);
	case SQLITE_BLOB: {
		const unsigned char *b = sqlite3_column_blob(st, col);
		size_t n = (size_t)sqlite3_column_bytes(st, col);
		char *hex = xmalloc(2 * n + 1);
		for (size_t i = 0; i < n; i++)
			snprintf(hex + 2 * i, 3, "%02x", b[i]);
		hex[2 * n] = '\0';
		cJSON *s = cJSON_CreateString(hex);
		free(hex);
		*bytes += 2 * n;
		return s;
	}
	case SQLITE_NULL:
		return cJSON_CreateNull();
	default: {
		const unsigned char *t = sqlite3_column_text(st, col);
		*bytes += (size_t)sqlite3_column_bytes(st, col);
		return cJSON_CreateString(t ? (const char *)t : "");
	}
	}
}

/* Steps st into an array of objects named by the columns (cursor_col,
 * when >= 0, is not part of the object: it moves *last). */
static int rows_json(struct journal *j, sqlite3_stmt *st, int cursor_col,
		     size_t max_rows, size_t max_bytes, cJSON *arr,
		     int64_t *last, const char *what, struct err *e)
{
	size_t rows = 0, bytes = 0;
	int rc = SQLITE_DONE; /* set whenever the test below reads it */
	while (rows < max_rows && bytes < max_bytes && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		for (int c = 0; c < sqlite3_column_count(st); c++) {
			if (c == cursor_col) {
				*last = sqlite3_column_int64(st, c);
				continue;
			}
			cJSON_AddItemToObject(o, sqlite3_column_name(st, c), column_json(st, c, &bytes));
		}
		cJSON_AddItemToArray(arr, o);
		rows++;
	}
	if (rows < max_rows && bytes < max_bytes && rc != SQLITE_DONE) {
		sqlite3_finalize(st);
		return journal_sql_err(j, e, what);
	}
	sqlite3_finalize(st);
	return 0;
}

int journal_team_header(struct journal *j, int64_t run_id, cJSON **row,
			struct err *e)
{
	sqlite3_stmt *st;
	cJSON *arr = cJSON_CreateArray();
	int64_t unused = 0;
	*row = NULL;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT r.id AS local_id, r.host, r.runbook_path, r.runbook_sha256, "
			    "b.text AS runbook_text, r.title, r.operator, r.os_user, r.uid, r.mode, "
			    "r.started_at, r.vars FROM runs r LEFT JOIN runbooks b ON "
			    "b.sha256 = r.runbook_sha256 WHERE r.id = ?", &st, e) < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	sqlite3_bind_int64(st, 1, run_id);
	if (rows_json(j, st, -1, 1, SIZE_MAX, arr, &unused, "cannot read the run", e) < 0) {
		cJSON_Delete(arr);
		return -1;
	}
	*row = cJSON_DetachItemFromArray(arr, 0);
	cJSON_Delete(arr);
	return *row ? 0 : err_set(e, "no run %lld in the journal", (long long)run_id);
}

int journal_team_events(struct journal *j, int64_t run_id, int64_t after,
			int64_t upto, size_t max_rows, size_t max_bytes,
			cJSON **rows, int64_t *last, struct err *e)
{
	sqlite3_stmt *st;
	*rows = cJSON_CreateArray();
	*last = after;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT seq, wall_ms, mono_ns, step, type, actor, payload, "
			    "prev_hash, hash FROM events WHERE run_id = ? AND seq > ? AND seq <= ? "
			    "ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after);
	sqlite3_bind_int64(st, 3, upto);
	if (rows_json(j, st, -1, max_rows, max_bytes, *rows, last, "cannot read events", e) < 0)
		return -1;
	const cJSON *end = cJSON_GetArrayItem(*rows, cJSON_GetArraySize(*rows) - 1);
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(end, "seq");
	if (cJSON_IsString(seq))
		*last = strtoll(seq->valuestring, NULL, 10);
	return 0;
}

#define CHUNK_COLS "o.step, o.attempt, coalesce(o.task, 0) AS task, o.label, o.stream, " \
	"c.part, c.offset AS off, c.data"

int journal_team_chunks(struct journal *j, int64_t run_id, int64_t after,
			size_t max_rows, size_t max_bytes, cJSON **rows,
			int64_t *last, struct err *e)
{
	sqlite3_stmt *st;
	*rows = cJSON_CreateArray();
	*last = after;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT c.id, " CHUNK_COLS " FROM output_chunks c JOIN outputs o "
			    "ON o.id = c.output_id WHERE o.run_id = ? AND c.part = 0 AND c.id > ? "
			    "ORDER BY c.id", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after);
	return rows_json(j, st, 0, max_rows, max_bytes, *rows, last,
			 "cannot read output to ship", e);
}

int journal_team_outputs(struct journal *j, int64_t run_id, size_t max,
			 cJSON **outputs, cJSON **chunks, int64_t **ids,
			 size_t *n, struct err *e)
{
	sqlite3_stmt *st;
	int64_t unused = 0;
	*outputs = cJSON_CreateArray();
	*chunks = cJSON_CreateArray();
	*ids = NULL;
	*n = 0;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT o.id, o.step, o.attempt, coalesce(o.task, 0) AS task, "
			    "o.label, o.stream, o.total_bytes, o.stored_end, o.lost_bytes, o.sha256, "
			    "o.truncated FROM outputs o WHERE o.run_id = ? AND o.finished = 1 AND "
			    "o.id NOT IN (SELECT output_id FROM team_outputs_shipped) ORDER BY o.id",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	if (rows_json(j, st, -1, max, SIZE_MAX, *outputs, &unused,
		      "cannot read output to ship", e) < 0)
		return -1;
	size_t count = (size_t)cJSON_GetArraySize(*outputs);
	*ids = xcalloc(count ? count : 1, sizeof **ids);
	cJSON *row;
	cJSON_ArrayForEach(row, *outputs)
	{
		cJSON *id = cJSON_DetachItemFromObjectCaseSensitive(row, "id");
		(*ids)[(*n)++] = cJSON_IsString(id) ? strtoll(id->valuestring, NULL, 10) : 0;
		cJSON_Delete(id);
	}
	for (size_t i = 0; i < *n; i++) {
		if (journal_prepare(j, "SELECT " CHUNK_COLS " FROM output_chunks c JOIN outputs o "
				    "ON o.id = c.output_id WHERE c.output_id = ? AND c.part <> 0 "
				    "ORDER BY c.id", &st, e) < 0)
			return -1;
		sqlite3_bind_int64(st, 1, (*ids)[i]);
		if (rows_json(j, st, -1, SIZE_MAX, SIZE_MAX, *chunks, &unused,
			      "cannot read output to ship", e) < 0)
			return -1;
	}
	return 0;
}

int journal_team_samples(struct journal *j, int64_t run_id, int64_t after,
			 size_t max_rows, cJSON **rows, int64_t *last,
			 struct err *e)
{
	sqlite3_stmt *st;
	int64_t has = 0;
	*rows = cJSON_CreateArray();
	*last = after;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_int_query(j, "SELECT count(*) FROM sqlite_master WHERE type = 'table' "
			      "AND name = 'probe_samples' AND ?1 = ?1", 0, &has,
			      "cannot look for probe samples", e) < 0)
		return -1;
	if (!has)
		return 0;
	if (journal_prepare(j, "SELECT seq AS cursor, seq, probe, wall_ms, mono_ns, duration_ms, "
			    "late_ms, skipped, result, state, value, values_json FROM probe_samples "
			    "WHERE run_id = ? AND seq > ? ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after);
	return rows_json(j, st, 0, max_rows, SIZE_MAX, *rows, last,
			 "cannot read probe samples to ship", e);
}
