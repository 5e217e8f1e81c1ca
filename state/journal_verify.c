/* journal_verify.c: PRAGMA integrity_check, then every run's chain
 * recomputed from the stored bytes, stopping at the first broken event.
 *
 * Per event, in seq order: the seq must be the next one (else an event is
 * missing), row ids must rise with seq (else rows were swapped), prev_hash
 * must be the previous event's hash, and the hash must match the content.
 * Event 1 must be run_start carrying the digest of the run row; nothing
 * may follow a run_end. The last event must be the head recorded in the
 * run row (else the tail was cut). The run row's other fields outside the
 * digest, outcome and ended_at, must be run_end's outcome and time (or
 * NULL without a run_end). Then every stored output stream the chain names
 * (journal_check.c) must be what the chain says of it.
 * Everything runs in one read transaction, so a live writer cannot make a
 * consistent journal look broken. */
#include "state/journal_priv.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static const char *const problem_names[] = {
	[JOURNAL_VERIFY_OK] = "ok",
	[JOURNAL_VERIFY_INTEGRITY] = "integrity check failed",
	[JOURNAL_VERIFY_NO_RUN] = "no such run",
	[JOURNAL_VERIFY_BAD_ROW] = "malformed event row",
	[JOURNAL_VERIFY_SEQ_GAP] = "event missing",
	[JOURNAL_VERIFY_REORDERED] = "events reordered",
	[JOURNAL_VERIFY_PREV_HASH] = "prev_hash mismatch",
	[JOURNAL_VERIFY_HASH] = "hash mismatch",
	[JOURNAL_VERIFY_RUN_HEADER] = "run record does not match its chain",
	[JOURNAL_VERIFY_HEAD] = "chain ends before its recorded head",
	[JOURNAL_VERIFY_ORPHAN] = "events of a missing run",
	[JOURNAL_VERIFY_AFTER_END] = "events after the run ended",
	[JOURNAL_VERIFY_OUTCOME] = "run outcome does not match its chain",
	[JOURNAL_VERIFY_OUTPUT] = "stored output does not match its chain",
	[JOURNAL_VERIFY_SAMPLES] = "probe samples do not match their digests",
};

/* Short names for front ends and test messages. */
const char *journal_verify_problem_name(enum journal_verify_problem p)
{
	if ((unsigned)p >= sizeof problem_names / sizeof problem_names[0])
		return "unknown problem";
	return problem_names[p];
}

/* Record the first problem; returns 1 so callers can `return found(...)`. */
__attribute__((format(printf, 5, 6)))
static int found(struct journal_verify_result *res,
		 enum journal_verify_problem p, int64_t run_id, int64_t seq,
		 const char *fmt, ...)
{
	va_list ap;

	res->problem = p;
	res->run_id = run_id;
	res->seq = seq;
	va_start(ap, fmt);
	vsnprintf(res->detail, sizeof res->detail, fmt, ap);
	va_end(ap);
	return 1;
}

/* Returns 1 if a problem was found, 0 if fine, -1 on error. */
static int check_integrity(struct journal *j, struct journal_verify_result *res,
			   struct err *e)
{
	sqlite3_stmt *st;
	const char *msg;
	int rc, bad = 0;

	if (journal_prepare(j, "PRAGMA integrity_check(1)", &st, e) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		msg = (const char *)sqlite3_column_text(st, 0);
		if (!msg || strcmp(msg, "ok"))
			bad = found(res, JOURNAL_VERIFY_INTEGRITY, 0, 0, "%s",
				    msg ? msg : "no answer");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return journal_sql_err(j, e, "cannot check journal integrity");
	return bad;
}

struct chain {
	int64_t run_id;
	int64_t expected;		/* next seq */
	int64_t last_rowid;
	int64_t end_seq;		/* the run_end event; 0: none yet */
	int64_t end_ms;			/* its wall time */
	char end_outcome[16];		/* its payload's outcome; "" if none */
	char prev[JOURNAL_HASH_LEN + 1];
};

#define EVENT_COLS "id, seq, wall_ms, mono_ns, step, type, actor, payload, " \
	"prev_hash, hash, CASE WHEN seq = 1 AND json_valid(payload) THEN " \
	"json_extract(payload, '$.run_sha256') END, CASE WHEN type = " \
	"'run_end' AND json_valid(payload) THEN json_extract(payload, " \
	"'$.outcome') END"

/* STRICT tables guard types on write; check anyway, the file may be forged. */
static int text_ok(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_TEXT;
}

/* A forged row with NULLs or blobs is broken, not a crash. */
static int row_wellformed(sqlite3_stmt *st)
{
	for (int col = 0; col < 4; col++)
		if (sqlite3_column_type(st, col) != SQLITE_INTEGER)
			return 0;
	if (sqlite3_column_type(st, 4) != SQLITE_INTEGER &&
	    sqlite3_column_type(st, 4) != SQLITE_NULL)
		return 0;
	for (int col = 5; col < 10; col++)
		if (!text_ok(st, col))
			return 0;
	return 1;
}

/* Recompute from the stored columns, byte for byte. */
static void row_hash(const struct chain *c, sqlite3_stmt *st,
		     char out[JOURNAL_HASH_LEN + 1])
{
	/* fetch text before bytes: column_text may convert */
	const char *type = (const char *)sqlite3_column_text(st, 5);
	size_t type_len = (size_t)sqlite3_column_bytes(st, 5);
	const char *actor = (const char *)sqlite3_column_text(st, 6);
	size_t actor_len = (size_t)sqlite3_column_bytes(st, 6);
	const char *payload = (const char *)sqlite3_column_text(st, 7);
	size_t payload_len = (size_t)sqlite3_column_bytes(st, 7);
	const char *prev = (const char *)sqlite3_column_text(st, 8);
	size_t prev_len = (size_t)sqlite3_column_bytes(st, 8);

	journal_event_hash_raw(c->run_id, sqlite3_column_int64(st, 1),
			       sqlite3_column_int64(st, 2),
			       sqlite3_column_int64(st, 3),
			       sqlite3_column_type(st, 4) != SQLITE_NULL,
			       sqlite3_column_int64(st, 4),
			       type, type_len, actor, actor_len,
			       payload, payload_len, prev, prev_len, out);
}

/* Event 1 must bind the run row: otherwise the row could be edited freely. */
static int check_run_header(struct journal *j, const struct chain *c,
			    sqlite3_stmt *st, struct journal_verify_result *res,
			    struct err *e)
{
	char digest[JOURNAL_HASH_LEN + 1];
	const char *claimed = (const char *)sqlite3_column_text(st, 10);
	int rc;

	if (strcmp((const char *)sqlite3_column_text(st, 5), "run_start"))
		return found(res, JOURNAL_VERIFY_RUN_HEADER, c->run_id, 1,
			     "event 1 is not run_start");
	rc = journal_run_digest(j, c->run_id, digest, e);
	if (rc < 0)
		return -1;
	if (rc == 0 || !claimed || strcmp(claimed, digest))
		return found(res, JOURNAL_VERIFY_RUN_HEADER, c->run_id, 1,
			     "run record of run %lld was changed after it "
			     "started", (long long)c->run_id);
	return 0;
}

/* One event against the chain so far: 1 problem, 0 fine, -1 error. */
static int check_event(struct journal *j, struct chain *c, sqlite3_stmt *st,
		       struct journal_verify_result *res, struct err *e)
{
	int64_t rowid = sqlite3_column_int64(st, 0);
	int64_t seq = sqlite3_column_int64(st, 1);
	char hash[JOURNAL_HASH_LEN + 1];

	if (!row_wellformed(st))
		return found(res, JOURNAL_VERIFY_BAD_ROW, c->run_id, seq,
			     "event %lld has a column of the wrong type",
			     (long long)seq);
	if (seq > c->expected)
		return found(res, JOURNAL_VERIFY_SEQ_GAP, c->run_id, c->expected,
			     "event %lld is missing (the next stored event is "
			     "%lld)", (long long)c->expected, (long long)seq);
	if (seq < c->expected)
		return found(res, JOURNAL_VERIFY_REORDERED, c->run_id, seq,
			     "event %lld appears twice", (long long)seq);
	if (rowid < c->last_rowid)
		return found(res, JOURNAL_VERIFY_REORDERED, c->run_id, seq - 1,
			     "events %lld and %lld are stored out of order",
			     (long long)(seq - 1), (long long)seq);
	if (strcmp((const char *)sqlite3_column_text(st, 8), c->prev))
		return found(res, JOURNAL_VERIFY_PREV_HASH, c->run_id, seq,
			     "event %lld does not follow the hash of event %lld",
			     (long long)seq, (long long)(seq - 1));
	row_hash(c, st, hash);
	if (strcmp((const char *)sqlite3_column_text(st, 9), hash))
		return found(res, JOURNAL_VERIFY_HASH, c->run_id, seq,
			     "event %lld was changed: its content does not "
			     "match its hash", (long long)seq);
	if (seq == 1 && check_run_header(j, c, st, res, e))
		return res->problem ? 1 : -1;
	if (c->end_seq)
		return found(res, JOURNAL_VERIFY_AFTER_END, c->run_id, seq,
			     "event %lld comes after run_end (event %lld): an "
			     "ended run takes no events", (long long)seq,
			     (long long)c->end_seq);
	if (!strcmp((const char *)sqlite3_column_text(st, 5), "run_end")) {
		const unsigned char *o = sqlite3_column_text(st, 11);
		c->end_seq = seq;
		c->end_ms = sqlite3_column_int64(st, 2);
		snprintf(c->end_outcome, sizeof c->end_outcome, "%s",
			 o ? (const char *)o : "");
	}
	memcpy(c->prev, hash, sizeof c->prev);
	c->last_rowid = rowid;
	c->expected++;
	res->events_checked++;
	return 0;
}

/* A chain alone cannot see its own tail cut off; the run row's copy can. */
static int check_head(const struct chain *c, int64_t head_seq,
		      const char *head_hash, struct journal_verify_result *res)
{
	int64_t last = c->expected - 1;

	if (last == 0)
		return found(res, JOURNAL_VERIFY_RUN_HEADER, c->run_id, 1,
			     "run %lld has no events", (long long)c->run_id);
	if (head_seq > last)
		return found(res, JOURNAL_VERIFY_HEAD, c->run_id, last + 1,
			     "events %lld to %lld are missing from the end",
			     (long long)(last + 1), (long long)head_seq);
	if (head_seq < last || strcmp(head_hash, c->prev))
		return found(res, JOURNAL_VERIFY_HEAD, c->run_id, head_seq,
			     "the recorded head (event %lld) does not match "
			     "the chain, which ends at event %lld",
			     (long long)head_seq, (long long)last);
	return 0;
}

/* The run row's fields the run digest does not cover: what the last
 * append and journal_run_end wrote there. */
struct run_row {
	int64_t head_seq;
	char head_hash[JOURNAL_HASH_LEN + 1];
	int has_outcome;
	char outcome[16];
	int has_ended;
	int64_t ended_ms;
};

static int run_row_read(struct journal *j, int64_t run_id,
			struct run_row *row, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	memset(row, 0, sizeof *row);
	if (journal_prepare(j, "SELECT head_seq, head_hash, outcome, ended_at "
			    "FROM runs WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(st, 1);
		const unsigned char *o = sqlite3_column_text(st, 2);
		row->head_seq = sqlite3_column_int64(st, 0);
		snprintf(row->head_hash, sizeof row->head_hash, "%s",
			 h ? (const char *)h : "");
		row->has_outcome = o != NULL;
		snprintf(row->outcome, sizeof row->outcome, "%s",
			 o ? (const char *)o : "");
		row->has_ended = sqlite3_column_type(st, 3) != SQLITE_NULL;
		row->ended_ms = sqlite3_column_int64(st, 3);
	}
	sqlite3_finalize(st);
	return journal_row_result(j, rc, "cannot read journal run", e);
}

/* Outcome and end time are copies of run_end (its payload and its time),
 * so they say what the chain says: nothing while the run has no run_end. */
static int check_outcome(const struct chain *c, const struct run_row *row,
			 struct journal_verify_result *res)
{
	if (!c->end_seq) {
		if (row->has_outcome || row->has_ended)
			return found(res, JOURNAL_VERIFY_OUTCOME, c->run_id, 0,
				     "run %lld is recorded as ended (%s) but "
				     "its chain has no run_end",
				     (long long)c->run_id, row->has_outcome ?
				     row->outcome : "an end time");
		return 0;
	}
	if (!row->has_outcome || strcmp(row->outcome, c->end_outcome))
		return found(res, JOURNAL_VERIFY_OUTCOME, c->run_id, c->end_seq,
			     "run %lld is recorded with outcome '%s' but its "
			     "run_end says '%s'", (long long)c->run_id,
			     row->has_outcome ? row->outcome : "none",
			     c->end_outcome);
	if (!row->has_ended || row->ended_ms != c->end_ms)
		return found(res, JOURNAL_VERIFY_OUTCOME, c->run_id, c->end_seq,
			     "run %lld is recorded as ended at a time that is "
			     "not its run_end's", (long long)c->run_id);
	return 0;
}

/* The stored output the chain names must be what it says. */
static int check_outputs(struct journal *j, int64_t run_id,
			 struct journal_verify_result *res, struct err *e)
{
	char detail[JOURNAL_CHECK_DETAIL];
	int64_t seq = 0;
	int rc = journal_check_outputs(j, run_id, &seq, detail, e);

	if (rc == 1)
		return found(res, JOURNAL_VERIFY_OUTPUT, run_id, seq, "%s",
			     detail);
	return rc;
}

/* The probe samples must be what the chain's digests say. */
static int check_samples(struct journal *j, int64_t run_id, int ended,
			 struct journal_verify_result *res, struct err *e)
{
	char detail[JOURNAL_CHECK_DETAIL];
	int64_t seq = 0;
	int rc = journal_check_samples(j, run_id, ended, &seq, detail, e);

	if (rc == 1)
		return found(res, JOURNAL_VERIFY_SAMPLES, run_id, seq, "%s",
			     detail);
	return rc;
}

/* Walk one run's events in seq order. */
static int verify_run(struct journal *j, int64_t run_id,
		      struct journal_verify_result *res, struct err *e)
{
	struct chain c = { .run_id = run_id, .expected = 1 };
	struct run_row row;
	sqlite3_stmt *st;
	int rc, bad = 0;

	rc = run_row_read(j, run_id, &row, e);
	if (rc <= 0)
		return rc < 0 ? -1 : found(res, JOURNAL_VERIFY_NO_RUN, run_id,
					   0, "no run %lld", (long long)run_id);
	memcpy(c.prev, JOURNAL_ZERO_HASH, sizeof c.prev);
	if (journal_prepare(j, "SELECT " EVENT_COLS " FROM events "
			    "WHERE run_id = ? ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = check_event(j, &c, st, res, e);
	sqlite3_finalize(st);
	if (bad)
		return bad;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal events");
	res->runs_checked++;
	bad = check_head(&c, row.head_seq, row.head_hash, res);
	if (!bad)
		bad = check_outcome(&c, &row, res);
	if (!bad)
		bad = check_outputs(j, run_id, res, e);
	return bad ? bad : check_samples(j, run_id, c.end_seq > 0, res, e);
}

/* Events moved to a run that does not exist would escape the per-run walk. */
static int check_orphans(struct journal *j, struct journal_verify_result *res,
			 struct err *e)
{
	sqlite3_stmt *st;
	int rc, bad = 0;

	if (journal_prepare(j, "SELECT run_id, min(seq) FROM events WHERE "
			    "run_id NOT IN (SELECT id FROM runs) "
			    "GROUP BY run_id ORDER BY run_id LIMIT 1", &st, e) < 0)
		return -1;
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		bad = found(res, JOURNAL_VERIFY_ORPHAN,
			    sqlite3_column_int64(st, 0),
			    sqlite3_column_int64(st, 1),
			    "events of run %lld, which does not exist",
			    (long long)sqlite3_column_int64(st, 0));
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal events");
	return bad;
}

/* Every run in id order, stopping at the first problem. */
static int verify_all(struct journal *j, struct journal_verify_result *res,
		      struct err *e)
{
	sqlite3_stmt *st;
	int rc, bad;

	bad = check_orphans(j, res, e);
	if (bad)
		return bad;
	if (journal_prepare(j, "SELECT id FROM runs ORDER BY id", &st, e) < 0)
		return -1;
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = verify_run(j, sqlite3_column_int64(st, 0), res, e);
	sqlite3_finalize(st);
	if (bad)
		return bad;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot list journal runs");
	return 0;
}

/* One read transaction: a consistent snapshot even with a live writer. */
int journal_verify(struct journal *j, int64_t run_id,
		   struct journal_verify_result *res, struct err *e)
{
	int rc;

	memset(res, 0, sizeof *res);
	if (journal_check_use(j, 0, e) < 0 || journal_flush(j, e) < 0)
		return -1;
	if (journal_exec(j, "BEGIN", e) < 0)
		return -1;
	rc = check_integrity(j, res, e);
	if (rc == 0)
		rc = run_id > 0 ? verify_run(j, run_id, res, e) :
			verify_all(j, res, e);
	journal_tx_rollback(j);
	if (rc < 0) {
		memset(res, 0, sizeof *res);
		return -1;
	}
	if (rc == 0)
		snprintf(res->detail, sizeof res->detail, "ok: %lld runs, "
			 "%lld events", (long long)res->runs_checked,
			 (long long)res->events_checked);
	return 0;
}
