/* journal_run.c: the runs table — creating a run (bound into its chain by
 * event 1), reading, listing and ending runs. */
#include "state/journal_priv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/uuid.h"
#include "util/xalloc.h"

/* The columns the run digest covers, in digest order. */
#define RUN_DIGEST_COLS "r.runbook_path, r.runbook_sha256, b.text, r.title, " \
	"r.operator, r.os_user, r.uid, r.host, r.mode, r.started_at, r.vars"
#define RUN_INSERT_COLS "runbook_path, runbook_sha256, title, operator, " \
	"os_user, uid, host, mode, started_at, vars"

/* The schema checks too; checking here gives a readable message. */
static int mode_valid(const char *mode)
{
	return mode && (!strcmp(mode, "live") || !strcmp(mode, "drill") ||
			!strcmp(mode, "dry-run"));
}

/* The schema checks too; checking here gives a readable message. */
static int outcome_valid(const char *o)
{
	return o && (!strcmp(o, "ok") || !strcmp(o, "failed") ||
		     !strcmp(o, "aborted") || !strcmp(o, "interrupted"));
}

/* Hash the exact stored bytes (a runbook may hold any byte). */
static void enc_column_text(struct journal_enc *enc, sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);
	journal_enc_bytes(enc, s ? (const char *)s : "",
			  (size_t)sqlite3_column_bytes(st, col));
}

/* Digest the stored row, not the caller's struct: what verify recomputes
 * later is then byte for byte what was hashed at creation. */
int journal_run_digest(struct journal *j, int64_t run_id,
		       char out[JOURNAL_HASH_LEN + 1], struct err *e)
{
	sqlite3_stmt *st;
	struct journal_enc enc;
	int rc;

	if (journal_prepare(j, "SELECT " RUN_DIGEST_COLS " FROM runs r "
			    "LEFT JOIN runbooks b ON b.sha256 = r.runbook_sha256 "
			    "WHERE r.id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		journal_enc_begin(&enc, "qrh.run.v1");
		journal_enc_int(&enc, run_id);
		for (int col = 0; col < 11; col++) {
			if (col == 6 || col == 9)
				journal_enc_int(&enc, sqlite3_column_int64(st, col));
			else
				enc_column_text(&enc, st, col);
		}
		journal_enc_finish(&enc, out);
	}
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (rc != SQLITE_ROW)
		return journal_sql_err(j, e, "cannot read journal run");
	return 1;
}

/* Refuse before the transaction, naming what is wrong. */
static int run_check(const struct journal_run_new *r, struct err *e)
{
	if (!r->runbook_path || !r->runbook_text || !r->title ||
	    !r->operator_name || !r->os_user || !r->host)
		return err_set(e, "journal run is missing a field");
	if (r->runbook_len > INT_MAX)
		return err_set(e, "runbook '%s' is too large to journal",
			       r->runbook_path);
	if (!mode_valid(r->mode))
		return err_set(e, "journal run has an unknown mode '%s'",
			       r->mode ? r->mode : "");
	return 0;
}

/* Runbooks are stored once per distinct text, keyed by its SHA-256. */
static int runbook_insert(struct journal *j, const struct journal_run_new *r,
			  const char *sha, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "INSERT OR IGNORE INTO runbooks (sha256, text) "
			    "VALUES (?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->runbook_text, (int)r->runbook_len,
			  SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot store runbook");
	return 0;
}

/* The runbook hash is computed here, never trusted from the caller. */
static int run_row_insert(struct journal *j, const struct journal_run_new *r,
			  int64_t *run_id, struct err *e)
{
	sqlite3_stmt *st;
	char sha[JOURNAL_HASH_LEN + 1];
	int rc;

	sha256_hex(r->runbook_text, r->runbook_len, sha);
	if (runbook_insert(j, r, sha, e) < 0)
		return -1;
	if (journal_prepare(j, "INSERT INTO runs (" RUN_INSERT_COLS ") "
			    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, r->runbook_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, sha, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, r->operator_name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, r->os_user, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, r->uid);
	sqlite3_bind_text(st, 7, r->host, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, r->mode, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, r->started_ms);
	sqlite3_bind_text(st, 10, r->vars_json ? r->vars_json : "{}", -1,
			  SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot create journal run");
	*run_id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

/* Event 1 binds the run row into the chain through its digest. */
static int run_start_append(struct journal *j, const struct journal_run_new *r,
			    int64_t run_id, struct journal_head *head,
			    struct err *e)
{
	char digest[JOURNAL_HASH_LEN + 1], payload[320], uuid[UUID_TEXT_LEN + 1];
	struct journal_event ev = {
		.run_id = run_id,
		.wall_ms = r->started_ms,
		.mono_ns = r->mono_ns,
		.step = JOURNAL_NO_STEP,
		.type = "run_start",
		.actor = r->operator_name,
		.payload = payload,
	};

	if (journal_run_digest(j, run_id, digest, e) != 1)
		return -1;
	if (r->uuid ? !uuid_valid(r->uuid) : uuid_new(uuid) < 0)
		return err_set(e, "cannot name the run: %s", r->uuid ?
			       "not a lowercase UUID" : "no randomness from the kernel");
	if (r->uuid)
		snprintf(uuid, sizeof uuid, "%s", r->uuid);
	/* mode, boot id and uuid are checked words: nothing to escape */
	if (r->boot_id && *r->boot_id &&
	    strspn(r->boot_id, "0123456789abcdef-") == strlen(r->boot_id) &&
	    strlen(r->boot_id) < 64)
		snprintf(payload, sizeof payload,
			 "{\"run_sha256\":\"%s\",\"mode\":\"%s\",\"boot_id\":\"%s\",\"uuid\":\"%s\"}",
			 digest, r->mode, r->boot_id, uuid);
	else
		snprintf(payload, sizeof payload,
			 "{\"run_sha256\":\"%s\",\"mode\":\"%s\",\"uuid\":\"%s\"}",
			 digest, r->mode, uuid);
	if (journal_team_uuid_store(j, run_id, uuid, e) < 0)
		return -1;
	if (journal_event_insert(j, &ev, e) < 0)
		return -1;
	if (head) {
		head->seq = ev.seq;
		memcpy(head->hash, ev.hash, sizeof head->hash);
	}
	return 0;
}

/* Row and event 1 in one transaction: no run exists without its chain. */
int journal_run_create(struct journal *j, const struct journal_run_new *r,
		       int64_t *run_id, struct journal_head *head,
		       struct err *e)
{
	int64_t id = 0;

	if (journal_check_use(j, 1, e) < 0 || run_check(r, e) < 0 ||
	    journal_json_check(j, "run vars", r->vars_json ? r->vars_json : "{}",
			       e) < 0)
		return -1;
	if (journal_tx_begin(j, e) < 0)
		return -1;
	/* the lock before the commit: nobody sees the run unowned */
	if (run_row_insert(j, r, &id, e) < 0 ||
	    journal_run_lock(j, id, r->operator_name, e) < 0 ||
	    run_start_append(j, r, id, head, e) < 0) {
		journal_tx_rollback(j);
		journal_run_unlock(j, id);
		return -1;
	}
	if (journal_tx_commit(j, e) < 0) {
		journal_run_unlock(j, id);
		return -1;
	}
	*run_id = id;
	return 0;
}

#define RUN_SELECT "SELECT r.id, r.runbook_path, r.runbook_sha256, r.title, " \
	"r.operator, r.os_user, r.uid, r.host, r.mode, r.vars, r.started_at, " \
	"r.ended_at, r.outcome, r.head_seq, r.head_hash"
#define RUN_FROM " FROM runs r "
#define RUN_WITH_TEXT ", b.text FROM runs r LEFT JOIN runbooks b " \
	"ON b.sha256 = r.runbook_sha256 "

/* Copies everything, so the result outlives the statement. */
static void run_from_row(sqlite3_stmt *st, struct journal_run *r, int text)
{
	const unsigned char *s;

	memset(r, 0, sizeof *r);
	r->id = sqlite3_column_int64(st, 0);
	r->runbook_path = journal_column_dup(st, 1);
	s = sqlite3_column_text(st, 2);
	snprintf(r->runbook_sha256, sizeof r->runbook_sha256, "%s",
		 s ? (const char *)s : "");
	r->title = journal_column_dup(st, 3);
	r->operator_name = journal_column_dup(st, 4);
	r->os_user = journal_column_dup(st, 5);
	r->uid = sqlite3_column_int64(st, 6);
	r->host = journal_column_dup(st, 7);
	r->mode = journal_column_dup(st, 8);
	r->vars_json = journal_column_dup(st, 9);
	r->started_ms = sqlite3_column_int64(st, 10);
	r->ended_ms = sqlite3_column_int64(st, 11);
	r->outcome = journal_column_dup(st, 12);
	r->head.seq = sqlite3_column_int64(st, 13);
	s = sqlite3_column_text(st, 14);
	snprintf(r->head.hash, sizeof r->head.hash, "%s",
		 s ? (const char *)s : "");
	if (text) {
		r->runbook_text = journal_column_dup(st, 15);
		r->runbook_len = (size_t)sqlite3_column_bytes(st, 15);
	}
}

/* The one query that also loads the runbook text. */
int journal_run_get(struct journal *j, int64_t run_id, struct journal_run *out,
		    struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, RUN_SELECT RUN_WITH_TEXT "WHERE r.id = ?",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		run_from_row(st, out, 1);
	sqlite3_finalize(st);
	return journal_row_result(j, rc, "cannot read journal run", e);
}

/* Leaves *r zeroed, so a second release is harmless. */
void journal_run_release(struct journal_run *r)
{
	free(r->runbook_path);
	free(r->runbook_text);
	free(r->title);
	free(r->operator_name);
	free(r->os_user);
	free(r->host);
	free(r->mode);
	free(r->vars_json);
	free(r->outcome);
	memset(r, 0, sizeof *r);
}

/* Without runbook texts: a list must stay cheap however long the history. */
int journal_runs_list(struct journal *j, struct journal_run **runs, size_t *n,
		      struct err *e)
{
	sqlite3_stmt *st;
	struct journal_run *v = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, RUN_SELECT RUN_FROM "ORDER BY r.id DESC",
			    &st, e) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		v = xgrow(v, &cap, count + 1, sizeof *v);
		run_from_row(st, &v[count++], 0);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		journal_runs_free(v, count);
		return journal_sql_err(j, e, "cannot list journal runs");
	}
	*runs = v;
	*n = count;
	return 0;
}

/* Releases each run, then the array. */
void journal_runs_free(struct journal_run *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		journal_run_release(&runs[i]);
	free(runs);
}

/* For `qrh resume` with no run given. */
int journal_run_find_unfinished(struct journal *j, int64_t *run_id,
				struct err *e)
{
	return journal_int_query(j, "SELECT id FROM runs WHERE outcome IS NULL "
				 "ORDER BY id DESC LIMIT 1", 0, run_id,
				 "cannot search journal runs", e);
}

/* Outcome and end time are a convenience index; the run_end event is
 * the evidence. */
static int run_outcome_store(struct journal *j, int64_t run_id,
			     const char *outcome, int64_t ended_ms,
			     struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "UPDATE runs SET outcome = ?, ended_at = ? "
			    "WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, outcome, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, ended_ms);
	sqlite3_bind_int64(st, 3, run_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot end journal run");
	if (sqlite3_changes(j->db) != 1)
		return err_set(e, "journal has no run %lld", (long long)run_id);
	return 0;
}

/* 1 when the payload's "outcome" is `outcome`. */
static int end_outcome_is(struct journal *j, const struct journal_event *ev,
			  const char *outcome)
{
	sqlite3_stmt *st;
	int rc, same = 0;

	if (journal_prepare(j, "SELECT json_valid(?1) AND "
			    "json_extract(?1, '$.outcome') IS ?2", &st, NULL) < 0)
		return -1;
	sqlite3_bind_text(st, 1, ev->payload ? ev->payload : "{}", -1,
			  SQLITE_STATIC);
	sqlite3_bind_text(st, 2, outcome, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		same = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return rc == SQLITE_ROW ? same : -1;
}

/* Outcome and event together, so resume never sees one without the
 * other; the event first, since an ended run takes no event. */
int journal_run_end(struct journal *j, int64_t run_id, const char *outcome,
		    int64_t ended_ms, struct journal_event *ev, struct err *e)
{
	if (journal_check_use(j, 1, e) < 0 || journal_flush(j, e) < 0)
		return -1;
	if (!outcome_valid(outcome))
		return err_set(e, "unknown run outcome '%s'",
			       outcome ? outcome : "");
	if (!ev || ev->run_id != run_id || !ev->type ||
	    strcmp(ev->type, "run_end"))
		return err_set(e, "a run ends with its own run_end event");
	/* the row's copies must be the event's own words (verify checks) */
	if (ended_ms != ev->wall_ms || end_outcome_is(j, ev, outcome) != 1)
		return err_set(e, "the run_end event must carry the outcome "
			       "'%s' and the end time", outcome);
	if (journal_tx_begin(j, e) < 0)
		return -1;
	if (journal_event_insert(j, ev, e) < 0 ||
	    run_outcome_store(j, run_id, outcome, ended_ms, e) < 0) {
		journal_tx_rollback(j);
		return -1;
	}
	return journal_tx_commit(j, e);
}
