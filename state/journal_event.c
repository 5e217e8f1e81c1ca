/* journal_event.c: the canonical encoding, event hashes, appending and
 * reading events. The encoding is specified in state/journal.h. */
#include "state/journal_priv.h"

#include <stdio.h>
#include <string.h>

#include "util/xalloc.h"

/* Every hash starts with its domain tag, so an event digest can never
 * equal a run digest. */
void journal_enc_begin(struct journal_enc *enc, const char *domain)
{
	enc->h = sha256_new();
	journal_enc_bytes(enc, domain, strlen(domain));
}

/* Fixed width, fixed byte order: the encoding must not depend on the host. */
static void put_u64be(struct journal_enc *enc, uint64_t v)
{
	unsigned char b[8];

	for (int i = 7; i >= 0; i--) {
		b[i] = (unsigned char)(v & 0xff);
		v >>= 8;
	}
	sha256_update(enc->h, b, sizeof b);
}

/* Length first, so field boundaries are unambiguous. */
void journal_enc_bytes(struct journal_enc *enc, const void *p, size_t n)
{
	put_u64be(enc, (uint64_t)n);
	sha256_update(enc->h, p, n);
}

/* Two's complement, big-endian, as an 8-byte field. */
void journal_enc_int(struct journal_enc *enc, int64_t v)
{
	put_u64be(enc, 8);
	put_u64be(enc, (uint64_t)v);
}

/* An all-ones length: no real field can be that long. */
void journal_enc_null(struct journal_enc *enc)
{
	put_u64be(enc, UINT64_MAX);
}

/* Lowercase hex, as stored and as exported. */
void journal_enc_finish(struct journal_enc *enc, char out[JOURNAL_HASH_LEN + 1])
{
	sha256_finish_hex(enc->h, out);
	enc->h = NULL;
}

/* With explicit lengths, so verify hashes exactly the bytes stored. */
void journal_event_hash_raw(int64_t run_id, int64_t seq, int64_t wall_ms,
			    int64_t mono_ns, int has_step, int64_t step,
			    const char *type, size_t type_len,
			    const char *actor, size_t actor_len,
			    const char *payload, size_t payload_len,
			    const char *prev, size_t prev_len,
			    char out[JOURNAL_HASH_LEN + 1])
{
	struct journal_enc enc;

	journal_enc_begin(&enc, "qrh.event.v1");
	journal_enc_int(&enc, run_id);
	journal_enc_int(&enc, seq);
	journal_enc_int(&enc, wall_ms);
	journal_enc_int(&enc, mono_ns);
	if (has_step)
		journal_enc_int(&enc, step);
	else
		journal_enc_null(&enc);
	journal_enc_bytes(&enc, type, type_len);
	journal_enc_bytes(&enc, actor, actor_len);
	journal_enc_bytes(&enc, payload, payload_len);
	journal_enc_bytes(&enc, prev, prev_len);
	journal_enc_finish(&enc, out);
}

/* An absent payload is stored, and hashed, as "{}". */
static const char *event_payload(const struct journal_event *ev)
{
	return ev->payload ? ev->payload : "{}";
}

/* The caller-facing form: NUL-terminated strings. */
void journal_event_hash(const struct journal_event *ev,
			char out[JOURNAL_HASH_LEN + 1])
{
	const char *payload = event_payload(ev);

	journal_event_hash_raw(ev->run_id, ev->seq, ev->wall_ms, ev->mono_ns,
			       ev->step >= 0, ev->step,
			       ev->type, strlen(ev->type),
			       ev->actor, strlen(ev->actor),
			       payload, strlen(payload),
			       ev->prev_hash, strlen(ev->prev_hash), out);
}

/* The last event as stored in the events table (the truth; runs.head_* is
 * a copy kept for verify). */
static int head_read(struct journal *j, int64_t run_id,
		     struct journal_head *out, int *ended, struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "SELECT seq, hash, type = 'run_end' FROM "
			    "events WHERE run_id = ? ORDER BY seq DESC LIMIT 1",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	rc = sqlite3_step(st);
	out->seq = 0;
	memcpy(out->hash, JOURNAL_ZERO_HASH, sizeof out->hash);
	if (ended)
		*ended = 0;
	if (rc == SQLITE_ROW) {
		out->seq = sqlite3_column_int64(st, 0);
		const unsigned char *h = sqlite3_column_text(st, 1);
		if (h && sqlite3_column_bytes(st, 1) == JOURNAL_HASH_LEN)
			memcpy(out->hash, h, JOURNAL_HASH_LEN + 1);
		if (ended)
			*ended = sqlite3_column_int(st, 2);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read the journal head");
	return 0;
}

/* Refuse before touching the database, with a message that names the field. */
static int event_check(const struct journal_event *ev, struct err *e)
{
	if (!ev->type || !*ev->type || !ev->actor || !*ev->actor)
		return err_set(e, "journal event needs a type and an actor");
	if (ev->step < JOURNAL_NO_STEP)
		return err_set(e, "journal event has a bad step %lld",
			       (long long)ev->step);
	return 0;
}

/* One row, bound parameters only: payloads are never pasted into SQL. */
int journal_event_row_insert(struct journal *j, const struct journal_event *ev,
			     struct err *e)
{
	sqlite3_stmt *st;
	const char *payload = event_payload(ev);
	int rc;

	if (journal_prepare(j, "INSERT INTO events (run_id, seq, wall_ms, "
			    "mono_ns, step, type, actor, payload, prev_hash, "
			    "hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, ev->run_id);
	sqlite3_bind_int64(st, 2, ev->seq);
	sqlite3_bind_int64(st, 3, ev->wall_ms);
	sqlite3_bind_int64(st, 4, ev->mono_ns);
	if (ev->step >= 0)
		sqlite3_bind_int64(st, 5, ev->step);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_text(st, 6, ev->type, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, ev->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, payload, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, ev->prev_hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, ev->hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot append journal event");
	return 0;
}

/* The run row keeps a copy of the head so verify notices a cut-off tail. */
static int head_store(struct journal *j, const struct journal_event *ev,
		      struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "UPDATE runs SET head_seq = ?, head_hash = ? "
			    "WHERE id = ? AND outcome IS NULL", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, ev->seq);
	sqlite3_bind_text(st, 2, ev->hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, ev->run_id);
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot record the journal head");
	if (sqlite3_changes(j->db) != 1)
		return err_set(e, "journal has no unfinished run %lld: it "
			       "takes no more events", (long long)ev->run_id);
	return 0;
}

/* Chain `ev` after the run's head and insert it; the caller holds the
 * write transaction. Refused unless this handle owns the run and the run
 * has not ended (no run_end on the chain, no outcome in its row). On
 * failure ev's out-fields are unspecified. */
int journal_event_insert(struct journal *j, struct journal_event *ev,
			 struct err *e)
{
	struct journal_head head;
	int ended = 0;

	if (event_check(ev, e) < 0 ||
	    journal_run_check_owned(j, ev->run_id, e) < 0 ||
	    journal_json_check(j, "event payload", event_payload(ev), e) < 0 ||
	    head_read(j, ev->run_id, &head, &ended, e) < 0)
		return -1;
	if (ended)
		return err_set(e, "run %lld has ended: it takes no more events",
			       (long long)ev->run_id);
	ev->seq = head.seq + 1;
	memcpy(ev->prev_hash, head.hash, sizeof ev->prev_hash);
	journal_event_hash(ev, ev->hash);
	if (head_store(j, ev, e) < 0 || journal_event_row_insert(j, ev, e) < 0)
		return -1;
	return 0;
}

/* Pending head bytes first, so the head of output that precedes an event
 * is as durable as it. Tails are saved on their own clock (journal.h,
 * Durability): rewriting every changed tail for every event would make a
 * run with a chatty background process pay a snapshot per event. */
static int events_insert_all(struct journal *j, struct journal_event *evs,
			     size_t n, struct err *e)
{
	if (journal_tx_begin(j, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (journal_event_insert(j, &evs[i], e) < 0) {
			journal_tx_rollback(j);
			return -1;
		}
	}
	return journal_tx_commit(j, e);
}

int journal_events_append(struct journal *j, struct journal_event *evs,
			  size_t n, struct err *e)
{
	if (journal_check_use(j, 1, e) < 0 || journal_output_flush(j, 0, e) < 0)
		return -1;
	return events_insert_all(j, evs, n, e);
}

/* synchronous=NORMAL for this one commit: in WAL mode it survives a
 * crash of qrh at once and power loss from the next FULL commit on,
 * which fsyncs every earlier frame of the WAL with its own. */
int journal_events_append_lazy(struct journal *j, struct journal_event *evs,
			       size_t n, struct err *e)
{
	if (journal_check_use(j, 1, e) < 0 || journal_output_flush(j, 0, e) < 0)
		return -1;
	if (journal_exec(j, "PRAGMA synchronous = NORMAL", e) < 0)
		return -1;
	int rc = events_insert_all(j, evs, n, e);
	if (journal_exec(j, "PRAGMA synchronous = FULL", rc < 0 ? NULL : e) < 0)
		rc = -1;
	return rc;
}

int journal_event_append(struct journal *j, struct journal_event *ev,
			 struct err *e)
{
	return journal_events_append(j, ev, 1, e);
}

/* For the header line and export: the value to anchor elsewhere. */
int journal_head(struct journal *j, int64_t run_id, struct journal_head *out,
		 struct err *e)
{
	if (journal_check_use(j, 0, e) < 0)
		return -1;
	return head_read(j, run_id, out, NULL, e);
}

/* Fill `ev` from a row of the events_each query; strings point into the
 * statement and live until the next step. */
static void event_from_row(sqlite3_stmt *st, struct journal_event *ev)
{
	const unsigned char *prev = sqlite3_column_text(st, 8);
	const unsigned char *hash = sqlite3_column_text(st, 9);

	ev->run_id = sqlite3_column_int64(st, 0);
	ev->seq = sqlite3_column_int64(st, 1);
	ev->wall_ms = sqlite3_column_int64(st, 2);
	ev->mono_ns = sqlite3_column_int64(st, 3);
	ev->step = sqlite3_column_type(st, 4) == SQLITE_NULL ?
		JOURNAL_NO_STEP : sqlite3_column_int64(st, 4);
	ev->type = (const char *)sqlite3_column_text(st, 5);
	ev->actor = (const char *)sqlite3_column_text(st, 6);
	ev->payload = (const char *)sqlite3_column_text(st, 7);
	snprintf(ev->prev_hash, sizeof ev->prev_hash, "%s",
		 prev ? (const char *)prev : "");
	snprintf(ev->hash, sizeof ev->hash, "%s",
		 hash ? (const char *)hash : "");
}

/* Streaming, not an array: a long run may have many events, and watchers
 * ask only for what is new. */
int journal_events_each(struct journal *j, int64_t run_id, int64_t after_seq,
			journal_event_fn fn, void *ctx, struct err *e)
{
	sqlite3_stmt *st;
	struct journal_event ev;
	int rc, stop = 0;

	if (journal_check_use(j, 0, e) < 0)
		return -1;
	if (journal_prepare(j, "SELECT run_id, seq, wall_ms, mono_ns, step, "
			    "type, actor, payload, prev_hash, hash FROM events "
			    "WHERE run_id = ? AND seq > ? ORDER BY seq",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after_seq);
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		event_from_row(st, &ev);
		stop = fn(&ev, ctx);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal events");
	return 0;
}
