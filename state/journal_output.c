/* journal_output.c: capped storage of step output — the head written once
 * as rows, the tail kept in memory and saved as periodic snapshots.
 *
 * Each stream (keyed by task, or by step attempt in journals written
 * before tasks: see journal.h) has one row in `outputs` and chunk rows
 * in `output_chunks`. Bytes at stream offsets below QRH_OUTPUT_HEAD_BYTES
 * are the head: buffered (at most flush_bytes over all streams) and
 * written as head rows, once. Later bytes go into the stream's ring, which
 * holds the last QRH_OUTPUT_TAIL_BYTES. The ring is written out as a
 * snapshot (its one or two contiguous pieces as tail rows, replacing the
 * previous snapshot) when the oldest byte not yet saved is tail_interval
 * old, on journal_flush, and at finish. A long stream so costs SQLite a
 * couple of MiB a second rather than every byte, and the hot path is
 * SHA-256 plus one memcpy.
 *
 * The outputs row records how far the stream is stored (stored_end), so a
 * crashed stream reads back as its head and its last snapshot. Finishing
 * writes the final snapshot, the marker between head and tail and the
 * totals.
 *
 * The stream's SHA-256 and byte count cover every byte appended, stored or
 * not. The journal owns the in-memory stream states; they are created by
 * the first append (or finish) and freed by finish or close. */
#include "state/journal_priv.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/xalloc.h"

#define TAIL_CAP ((size_t)QRH_OUTPUT_TAIL_BYTES)

/* The names stored in the outputs table. */
const char *journal_stream_name(enum journal_stream s)
{
	return s == JOURNAL_STDERR ? "stderr" : "stdout";
}

/* Keys are checked once, up front, so SQL never sees a bad one. */
static int stream_check(const struct journal_okey *k,
			enum journal_stream stream, struct err *e)
{
	if (stream != JOURNAL_STDOUT && stream != JOURNAL_STDERR)
		return err_set(e, "unknown output stream %d", (int)stream);
	if (!k || k->step < 0 || k->attempt < 0 || k->task < 0)
		return err_set(e, "output needs a step and an attempt >= 0 "
			       "and a task >= 0");
	return 0;
}

/* The WHERE clause naming one stream: by task, or (journals written
 * before tasks) by step attempt. Bound by key_bind; each form implies
 * the condition of its partial unique index, so SQLite uses it. */
static const char *key_where(const struct journal_okey *k)
{
	return k->task > 0 ?
		"run_id = ?1 AND task = ?2 AND stream = ?5" :
		"run_id = ?1 AND task IS NULL AND step = ?3 AND "
		"attempt = ?4 AND stream = ?5";
}

static void key_bind(sqlite3_stmt *st, int64_t run_id,
		     const struct journal_okey *k, enum journal_stream stream)
{
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, k->task);
	sqlite3_bind_int64(st, 3, k->step);
	sqlite3_bind_int(st, 4, k->attempt);
	sqlite3_bind_text(st, 5, journal_stream_name(stream), -1, SQLITE_STATIC);
}

/* Shown in messages: a task's number, or the step attempt (1-based, as
 * the operator counts steps). */
static void key_describe(char *out, size_t n, int64_t step, int attempt,
			 int64_t task, enum journal_stream stream)
{
	if (task > 0)
		snprintf(out, n, "task %lld of step %lld, %s",
			 (long long)task, (long long)step + 1,
			 journal_stream_name(stream));
	else
		snprintf(out, n, "step %lld attempt %d, %s",
			 (long long)step + 1, attempt,
			 journal_stream_name(stream));
}

/* An output is written once: a second stream under the same key (after a
 * crash, say) must use a new attempt number or task. The run must exist,
 * or every later flush (one transaction for all streams) would fail on
 * its key. */
static int stream_unused(struct journal *j, int64_t run_id,
			 const struct journal_okey *k,
			 enum journal_stream stream, struct err *e)
{
	sqlite3_stmt *st;
	char sql[256], what[96];
	int rc, run = 0, used = 0;

	snprintf(sql, sizeof sql, "SELECT (SELECT count(*) FROM runs WHERE "
		 "id = ?1), (SELECT count(*) FROM outputs WHERE %s)",
		 key_where(k));
	if (journal_prepare(j, sql, &st, e) < 0)
		return -1;
	key_bind(st, run_id, k, stream);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		run = sqlite3_column_int(st, 0);
		used = sqlite3_column_int(st, 1);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_ROW)
		return journal_sql_err(j, e, "cannot read journal output");
	if (!run)
		return err_set(e, "journal has no run %lld", (long long)run_id);
	if (used) {
		key_describe(what, sizeof what, k->step, k->attempt, k->task,
			     stream);
		return err_set(e, "output of run %lld, %s, is already recorded",
			       (long long)run_id, what);
	}
	return 0;
}

/* Cut at JOURNAL_LABEL_MAX bytes, never inside a UTF-8 character. */
static void label_copy(char out[JOURNAL_LABEL_MAX + 1], const char *label)
{
	size_t n = label ? strlen(label) : 0;

	if (n > JOURNAL_LABEL_MAX) {
		n = JOURNAL_LABEL_MAX;
		while (n && ((unsigned char)label[n] & 0xc0) == 0x80)
			n--;
	}
	if (n)
		memcpy(out, label, n);
	out[n] = '\0';
}

/* The in-memory state of a stream, created on first use. The ring comes
 * later, with the first byte past the head. */
static struct journal_ostream *stream_get(struct journal *j, int64_t run_id,
					  const struct journal_okey *k,
					  enum journal_stream stream,
					  struct err *e)
{
	struct journal_ostream *s;

	if (stream_check(k, stream, e) < 0)
		return NULL;
	s = journal_streams_find(j, run_id, k, stream);
	if (s && s->closing) {
		err_set(e, "output of run %lld is finished and waits to be "
			"recorded", (long long)run_id);
		return NULL;
	}
	if (s)
		return s;
	if (journal_run_check_owned(j, run_id, e) < 0 ||
	    stream_unused(j, run_id, k, stream, e) < 0)
		return NULL;
	s = xcalloc(1, sizeof *s);
	s->run_id = run_id;
	s->step = k->step;
	s->attempt = k->attempt;
	s->task = k->task;
	label_copy(s->label, k->label);
	s->stream = stream;
	buf_init(&s->pending, BUF_UNLIMITED);
	s->hash = sha256_new();
	journal_streams_add(j, s);
	return s;
}

/* An unfinished digest must still be finished to be freed. */
static void stream_free(struct journal_ostream *s)
{
	char dummy[SHA256_HEX_LEN + 1];

	if (s->hash)
		sha256_finish_hex(s->hash, dummy);
	buf_release(&s->pending);
	free(s->ring);
	free(s);
}

static void stream_remove(struct journal *j, struct journal_ostream *s)
{
	j->nclosing -= s->closing != 0;
	journal_streams_remove(j, s);
	stream_free(s);
}

/* Memory only: never touches the database (safe in a forked child). */
void journal_output_close_all(struct journal *j)
{
	while (j->nstreams)
		stream_remove(j, j->streams[j->nstreams - 1]);
	journal_streams_free(j);
}

/* Where the stored bytes end once the pending head bytes are written: a
 * broken stream stores nothing after its head bytes. */
static int64_t stream_stored_end(const struct journal_ostream *s)
{
	return s->broken ? s->flushed + (int64_t)s->pending.len : s->total;
}

/* ---- writing ---- */

static int step_done(struct journal *j, sqlite3_stmt *st, const char *what,
		     struct err *e)
{
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, what);
	return 0;
}

/* Created at the first write, so a stream that never flushed left no row. */
static int output_row_insert(struct journal *j, struct journal_ostream *s,
			     struct err *e)
{
	sqlite3_stmt *st;

	if (journal_prepare(j, "INSERT INTO outputs (run_id, step, attempt, "
			    "task, label, stream) VALUES (?, ?, ?, ?, ?, ?)",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, s->run_id);
	sqlite3_bind_int64(st, 2, s->step);
	sqlite3_bind_int(st, 3, s->attempt);
	if (s->task > 0)
		sqlite3_bind_int64(st, 4, s->task);
	else
		sqlite3_bind_null(st, 4);
	sqlite3_bind_text(st, 5, s->label, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, journal_stream_name(s->stream), -1, SQLITE_STATIC);
	if (step_done(j, st, "cannot record journal output", e) < 0)
		return -1;
	s->output_id = sqlite3_last_insert_rowid(j->db);
	return 0;
}

/* Bound as a blob, in place: output is bytes, not text, and a 2 MiB piece
 * of the ring should not be copied to be stored. */
static int chunk_insert(struct journal *j, int64_t output_id, int part,
			int64_t offset, const void *data, size_t len,
			struct err *e)
{
	sqlite3_stmt *st;

	if (journal_prepare(j, "INSERT INTO output_chunks (output_id, part, "
			    "offset, data) VALUES (?, ?, ?, ?)", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, output_id);
	sqlite3_bind_int(st, 2, part);
	sqlite3_bind_int64(st, 3, offset);
	sqlite3_bind_blob(st, 4, data, (int)len, SQLITE_STATIC);
	if (step_done(j, st, "cannot store journal output", e) < 0)
		return -1;
	j->stats.output_rows++;
	return 0;
}

/* A snapshot replaces the previous one whole. */
static int tail_rows_delete(struct journal *j, int64_t output_id,
			    struct err *e)
{
	sqlite3_stmt *st;

	if (journal_prepare(j, "DELETE FROM output_chunks WHERE output_id = ? "
			    "AND part = 2", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, output_id);
	return step_done(j, st, "cannot replace journal output", e);
}

/* The ring, oldest byte first: one row while it has not wrapped, else
 * [ring_pos, cap) then [0, ring_pos). */
static int tail_snapshot_write(struct journal *j,
			       const struct journal_ostream *s, struct err *e)
{
	int64_t off = s->total - (int64_t)s->ring_len;
	size_t first = s->ring_len < TAIL_CAP ? s->ring_len :
		TAIL_CAP - s->ring_pos;
	const char *start = s->ring_len < TAIL_CAP ? s->ring :
		s->ring + s->ring_pos;

	if (tail_rows_delete(j, s->output_id, e) < 0)
		return -1;
	if (first && chunk_insert(j, s->output_id, PART_TAIL, off, start,
				  first, e) < 0)
		return -1;
	if (first < s->ring_len &&
	    chunk_insert(j, s->output_id, PART_TAIL, off + (int64_t)first,
			 s->ring, s->ring_len - first, e) < 0)
		return -1;
	return 0;
}

/* Keep the stored size current so a crashed stream reads back correctly. */
static int output_row_progress(struct journal *j, int64_t output_id,
			       int64_t end, struct err *e)
{
	sqlite3_stmt *st;

	if (journal_prepare(j, "UPDATE outputs SET stored_end = ?, "
			    "total_bytes = ? WHERE id = ?", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, end);
	sqlite3_bind_int64(st, 2, end);
	sqlite3_bind_int64(st, 3, output_id);
	return step_done(j, st, "cannot record journal output", e);
}

/* A snapshot is due when its oldest unsaved byte is tail_interval old. */
static int tail_due(const struct journal *j, const struct journal_ostream *s,
		    int64_t now_ns)
{
	return s->tail_dirty_ns &&
	       now_ns - s->tail_dirty_ns >= j->tail_interval_ns;
}

static int tail_wanted(const struct journal *j, const struct journal_ostream *s,
		       int force, int64_t now_ns)
{
	return s->tail_dirty_ns && (force || tail_due(j, s, now_ns));
}

/* A tail has bytes no snapshot holds yet, since now_ns. The journal's
 * hint stays at or before the oldest such time, so asking "is any tail
 * due?" costs nothing until one might be. */
static void tail_mark(struct journal *j, struct journal_ostream *s,
		      int64_t now_ns)
{
	s->tail_dirty_ns = now_ns;
	if (!j->tail_hint_ns || now_ns < j->tail_hint_ns)
		j->tail_hint_ns = now_ns;
}

/* The hint may be early (its stream was snapshotted or finished since):
 * then the next look rescans and moves it. */
static int tail_hint_due(const struct journal *j, int64_t now_ns)
{
	return j->tail_hint_ns &&
	       now_ns - j->tail_hint_ns >= j->tail_interval_ns;
}

/* The exact oldest unsaved tail byte over all streams. */
static void tail_hint_rescan(struct journal *j)
{
	j->tail_hint_ns = 0;
	for (size_t i = 0; i < j->nstreams; i++) {
		int64_t t = j->streams[i]->tail_dirty_ns;
		if (t && (!j->tail_hint_ns || t < j->tail_hint_ns))
			j->tail_hint_ns = t;
	}
}

/* Write one stream's pending head bytes and, if `snap`, its tail snapshot.
 * Runs inside the flush transaction; in-memory state changes only after
 * the commit (see flush_settle). */
static int closing_write(struct journal *j, struct journal_ostream *s,
			 struct err *e);

static int stream_write(struct journal *j, struct journal_ostream *s,
			int snap, struct err *e)
{
	int64_t end = s->flushed + (int64_t)s->pending.len;

	if (s->closing)
		return closing_write(j, s, e);
	if (!s->pending.len && !snap)
		return 0;
	if (!s->output_id && output_row_insert(j, s, e) < 0)
		return -1;
	if (s->pending.len &&
	    chunk_insert(j, s->output_id, PART_HEAD, s->flushed,
			 s->pending.data, s->pending.len, e) < 0)
		return -1;
	if (snap) {
		if (tail_snapshot_write(j, s, e) < 0)
			return -1;
		s->snapping = 1;
		end = s->total;
	}
	return output_row_progress(j, s->output_id, end, e);
}

/* Output commits need not wait for the disk: the next event's fsync
 * covers them (see journal.h, Durability). */
static int output_tx_begin(struct journal *j, struct err *e)
{
	if (journal_exec(j, "PRAGMA synchronous = NORMAL", e) < 0)
		return -1;
	if (journal_tx_begin(j, e) < 0) {
		journal_exec(j, "PRAGMA synchronous = FULL", NULL);
		return -1;
	}
	return 0;
}

/* Whatever happened, later commits (events) go back to FULL. */
static int output_tx_end(struct journal *j, int ok, struct err *e)
{
	int rc = ok ? journal_tx_commit(j, e) : -1;

	if (!ok)
		journal_tx_rollback(j);
	if (journal_exec(j, "PRAGMA synchronous = FULL", rc < 0 ? NULL : e) < 0)
		rc = -1;
	return rc;
}

/* After a commit: the pending bytes and the snapshots are on disk. After a
 * rollback: row ids handed out inside the transaction are void, and a
 * failed snapshot is tried again an interval later, not on every append. */
static void flush_settle(struct journal *j, int committed,
			 const int64_t *ids_before, int64_t now_ns)
{
	for (size_t i = 0; i < j->nstreams; i++) {
		struct journal_ostream *s = j->streams[i];
		if (!committed) {
			s->output_id = ids_before[i];
			if (s->snapping)
				tail_mark(j, s, now_ns);
			s->snapping = 0;
			continue;
		}
		s->flushed += (int64_t)s->pending.len;
		buf_reset(&s->pending);
		if (s->snapping) {
			s->tail_dirty_ns = 0;
			j->stats.tail_snapshots++;
		}
		s->snapping = 0;
	}
	if (committed) {
		j->buffered = 0;
		j->buffered_since_ns = 0;
		j->stats.output_flushes++;
		tail_hint_rescan(j);
	}
	for (size_t i = j->nstreams; i-- > 0;) {
		struct journal_ostream *s = j->streams[i];
		if (s->closing_written && committed)
			stream_remove(j, s);	/* recorded at last */
		else
			s->closing_written = 0;
	}
}

/* Anything for a flush to write: pending head bytes or a wanted tail.
 * Walks the streams only when some tail may be wanted. */
static int flush_wanted(struct journal *j, int force, int64_t now_ns)
{
	if (j->buffered || j->nclosing || j->nsamples)
		return 1;
	if (!force && !tail_hint_due(j, now_ns))
		return 0;
	tail_hint_rescan(j);
	for (size_t i = 0; i < j->nstreams; i++)
		if (tail_wanted(j, j->streams[i], force, now_ns))
			return 1;
	return 0;
}

/* All streams in one transaction: one commit however many are open. */
static int flush_all(struct journal *j, int force, struct err *e)
{
	int64_t now = clock_mono_ns();
	int64_t *ids;
	int ok = 1, rc;

	if (!flush_wanted(j, force, now))
		return 0;
	if (output_tx_begin(j, e) < 0)
		return -1;
	ids = xcalloc(j->nstreams + 1, sizeof *ids);
	for (size_t i = 0; i < j->nstreams; i++)
		ids[i] = j->streams[i]->output_id;
	for (size_t i = 0; ok && i < j->nstreams; i++) {
		struct journal_ostream *s = j->streams[i];
		if (stream_write(j, s, tail_wanted(j, s, force, now), e) < 0)
			ok = 0;
	}
	if (ok && journal_samples_write(j, e) < 0)
		ok = 0;
	rc = output_tx_end(j, ok, e);
	flush_settle(j, rc == 0, ids, now);
	journal_samples_settle(j, rc == 0);
	free(ids);
	return rc;
}

/* Nothing to write is not an error, even on a read-only handle. */
int journal_output_flush(struct journal *j, int force_tails, struct err *e)
{
	if (journal_check_use(j, 0, e) < 0)
		return -1;
	if (!flush_wanted(j, force_tails, clock_mono_ns()))
		return 0;
	if (journal_check_use(j, 1, e) < 0)
		return -1;
	return flush_all(j, force_tails, e);
}

/* Everything: pending head bytes and a snapshot of every changed tail. */
int journal_flush(struct journal *j, struct err *e)
{
	return journal_output_flush(j, 1, e);
}

/* Head bytes waiting too long, or a tail snapshot due. */
static int flush_is_due(const struct journal *j, int64_t now_ns)
{
	if (j->buffered &&
	    now_ns - j->buffered_since_ns >= j->flush_interval_ns)
		return 1;
	if (j->nsamples &&
	    now_ns - j->samples_since_ns >= j->flush_interval_ns)
		return 1;
	return j->nclosing || tail_hint_due(j, now_ns);
}

/* For the event loop's timer (and every append). */
int journal_flush_due(struct journal *j, struct err *e)
{
	if (!flush_is_due(j, clock_mono_ns()))
		return 0;
	return journal_output_flush(j, 0, e);
}

/* The earliest deadline of the head buffer and the tail snapshots. */
static int64_t flush_deadline_ns(const struct journal *j)
{
	int64_t due = INT64_MAX;

	if (j->buffered)
		due = j->buffered_since_ns + j->flush_interval_ns;
	if (j->nclosing)	/* retried on the flush clock */
		due = j->buffered ? due : clock_mono_ns() + j->flush_interval_ns;
	if (j->nsamples && j->samples_since_ns + j->flush_interval_ns < due)
		due = j->samples_since_ns + j->flush_interval_ns;
	if (j->tail_hint_ns && j->tail_hint_ns + j->tail_interval_ns < due)
		due = j->tail_hint_ns + j->tail_interval_ns;
	return due;
}

/* Rounded up, so a poll that times out finds the flush due. */
int journal_flush_timeout_ms(const struct journal *j)
{
	int64_t due = flush_deadline_ns(j), left;

	if (due == INT64_MAX)
		return -1;
	left = due - clock_mono_ns();
	if (left <= 0)
		return 0;
	left = (left + 999999) / 1000000;
	return left > INT_MAX ? INT_MAX : (int)left;
}

/* Take up to `len` head bytes into the stream's pending buffer, never
 * letting the journal's buffered total pass the flush threshold. */
static size_t stream_take(struct journal *j, struct journal_ostream *s,
			  const char *p, size_t len)
{
	size_t room = j->flush_bytes > j->buffered ?
		j->flush_bytes - j->buffered : 0;

	if (len > room)
		len = room;
	if (!len)
		return 0;
	buf_add(&s->pending, p, len);
	if (!j->buffered)
		j->buffered_since_ns = clock_mono_ns();
	j->buffered += len;
	if (j->buffered > j->stats.buffered_peak)
		j->stats.buffered_peak = j->buffered;
	return len;
}

/* Head bytes, flushing whenever the buffer is full. Returns the bytes
 * taken: fewer than `len` only when a flush failed. */
static size_t head_put(struct journal *j, struct journal_ostream *s,
		       const char *p, size_t len, struct err *e)
{
	size_t done = 0;

	while (done < len) {
		done += stream_take(j, s, p + done, len - done);
		if (done < len && flush_all(j, 0, e) < 0)
			break;
	}
	return done;
}

/* Bytes past the head: only the last TAIL_CAP of them matter. */
static void ring_put(struct journal *j, struct journal_ostream *s,
		     const char *p, size_t len, int64_t now_ns)
{
	size_t n;

	if (!len)
		return;
	if (!s->ring)
		s->ring = xmalloc(TAIL_CAP);
	s->total += (int64_t)len;
	if (!s->tail_dirty_ns)
		tail_mark(j, s, now_ns);
	if (len >= TAIL_CAP) {
		memcpy(s->ring, p + len - TAIL_CAP, TAIL_CAP);
		s->ring_pos = 0;
		s->ring_len = TAIL_CAP;
		return;
	}
	n = TAIL_CAP - s->ring_pos;
	if (n > len)
		n = len;
	memcpy(s->ring + s->ring_pos, p, n);
	memcpy(s->ring, p + n, len - n);
	s->ring_pos = (s->ring_pos + len) % TAIL_CAP;
	s->ring_len = s->ring_len + len > TAIL_CAP ? TAIL_CAP :
		s->ring_len + len;
}

/* Storing the head failed: from here on the stream is only counted and
 * hashed. */
static int stream_break(struct journal_ostream *s, size_t left, struct err *e)
{
	char what[96];

	s->broken = 1;
	s->total += (int64_t)left;
	s->lost += (int64_t)left;
	key_describe(what, sizeof what, s->step, s->attempt, s->task,
		     s->stream);
	return err_prefix(e, "output of %s, is no longer stored", what);
}

/* Hash first: the digest must cover every byte, stored or not. */
int journal_output_append(struct journal *j, int64_t run_id,
			  const struct journal_okey *k,
			  enum journal_stream stream, const void *data,
			  size_t len, struct err *e)
{
	struct journal_ostream *s;
	const char *p = data;
	size_t head = 0;

	if (journal_check_use(j, 1, e) < 0)
		return -1;
	s = stream_get(j, run_id, k, stream, e);
	if (!s)
		return -1;
	sha256_update(s->hash, data, len);
	if (s->broken) {
		s->total += (int64_t)len;
		s->lost += (int64_t)len;
		return 0;
	}
	if (s->total < QRH_OUTPUT_HEAD_BYTES) {
		size_t took;
		head = (size_t)(QRH_OUTPUT_HEAD_BYTES - s->total);
		if (head > len)
			head = len;
		took = head_put(j, s, p, head, e);
		s->total += (int64_t)took;
		if (took < head)
			return stream_break(s, len - took, e);
	}
	ring_put(j, s, p + head, len - head, clock_mono_ns());
	return journal_flush_due(j, e);
}

/* ---- finishing ---- */

static void marker_format(struct buf *b, int64_t stored_end)
{
	buf_addf(b, "\n[qrh: output truncated: %lld bytes omitted; kept the "
		 "first %d and the last %d of %lld bytes]\n",
		 (long long)(stored_end - QRH_OUTPUT_HEAD_BYTES -
			     QRH_OUTPUT_TAIL_BYTES),
		 QRH_OUTPUT_HEAD_BYTES, QRH_OUTPUT_TAIL_BYTES,
		 (long long)stored_end);
}

/* Said plainly in the output itself, where a reader will look. */
static void lost_format(struct buf *b, int64_t lost)
{
	buf_addf(b, "\n[%lld bytes lost: the journal could not be written]\n",
		 (long long)lost);
}

/* Only bytes between head and tail are ever dropped. */
int journal_output_is_truncated(int64_t stored_end)
{
	return stored_end > (int64_t)QRH_OUTPUT_HEAD_BYTES + QRH_OUTPUT_TAIL_BYTES;
}

/* The markers are rows too, so show and export need no special case. */
static int markers_insert(struct journal *j, const struct journal_ostream *s,
			  struct err *e)
{
	int64_t end = stream_stored_end(s);
	struct buf b;
	int rc = 0;

	buf_init(&b, 1024);
	if (journal_output_is_truncated(end)) {
		marker_format(&b, end);
		rc = chunk_insert(j, s->output_id, PART_MARKER,
				  QRH_OUTPUT_HEAD_BYTES, b.data, b.len, e);
	}
	if (rc == 0 && s->lost) {
		buf_reset(&b);
		lost_format(&b, s->lost);
		rc = chunk_insert(j, s->output_id, PART_LOST, end,
				  b.data, b.len, e);
	}
	buf_release(&b);
	return rc;
}

/* The totals the caller also puts in the step's end event. */
static int output_row_finish(struct journal *j, const struct journal_ostream *s,
			     const struct journal_output_info *info,
			     struct err *e)
{
	sqlite3_stmt *st;

	if (journal_prepare(j, "UPDATE outputs SET total_bytes = ?, "
			    "stored_end = ?, lost_bytes = ?, sha256 = ?, "
			    "truncated = ?, finished = 1 WHERE id = ?",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, info->total_bytes);
	sqlite3_bind_int64(st, 2, stream_stored_end(s));
	sqlite3_bind_int64(st, 3, info->lost_bytes);
	sqlite3_bind_text(st, 4, info->sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, info->truncated);
	sqlite3_bind_int64(st, 6, s->output_id);
	return step_done(j, st, "cannot finish journal output", e);
}

/* What a finished stream stores: everything counted, less what was lost;
 * truncated means the cap dropped bytes between head and tail, nothing
 * else (lost bytes are counted as lost). */
static void info_from_stream(const struct journal_ostream *s,
			     const char *sha, struct journal_output_info *info)
{
	int64_t end = stream_stored_end(s);

	memset(info, 0, sizeof *info);
	info->total_bytes = s->total;
	info->stored_bytes = s->flushed + (int64_t)s->pending.len +
		(int64_t)s->ring_len;
	info->lost_bytes = s->lost;
	snprintf(info->sha256, sizeof info->sha256, "%s", sha);
	info->truncated = journal_output_is_truncated(end);
	info->finished = 1;
}

/* The finish could not be written (the journal is locked, the disk
 * full). What is committed stays: the head bytes [0, flushed). The rest,
 * pending head bytes and the tail, is lost, and is recorded as lost by
 * the first flush that can write (before the next event, on the flush
 * clock, at close). `final` is exactly what that record will say. */
static void stream_close_later(struct journal *j, struct journal_ostream *s,
			       const char *sha)
{
	j->buffered -= s->pending.len;
	if (!j->buffered)
		j->buffered_since_ns = 0;
	buf_reset(&s->pending);
	free(s->ring);
	s->ring = NULL;
	s->ring_len = s->ring_pos = 0;
	s->tail_dirty_ns = 0;
	s->broken = 1;
	s->lost = s->total - s->flushed;
	info_from_stream(s, sha, &s->final);
	s->closing = 1;
	j->nclosing++;
}

/* The record a failed finish left waiting, inside the flush transaction:
 * the row (created if the stream never flushed), no tail, the loss
 * notice, the totals. */
static int closing_write(struct journal *j, struct journal_ostream *s,
			 struct err *e)
{
	if (!s->output_id && output_row_insert(j, s, e) < 0)
		return -1;
	if (tail_rows_delete(j, s->output_id, e) < 0 ||
	    markers_insert(j, s, e) < 0 ||
	    output_row_finish(j, s, &s->final, e) < 0)
		return -1;
	s->closing_written = 1;
	return 0;
}

/* Snapshot, markers and totals commit together or not at all. */
static int finish_write(struct journal *j, struct journal_ostream *s,
			const struct journal_output_info *info, struct err *e)
{
	int64_t id_before = s->output_id;
	int ok;

	if (output_tx_begin(j, e) < 0)
		return -1;
	ok = (s->output_id || output_row_insert(j, s, e) == 0) &&
	     (!s->tail_dirty_ns || tail_snapshot_write(j, s, e) == 0) &&
	     markers_insert(j, s, e) == 0 &&
	     output_row_finish(j, s, info, e) == 0;
	if (output_tx_end(j, ok, e) < 0) {
		s->output_id = id_before;
		return -1;
	}
	j->stats.tail_snapshots += s->tail_dirty_ns != 0;
	return 0;
}

/* Pending head bytes first (all streams, one transaction), then this
 * stream's last snapshot and totals. */
int journal_output_finish(struct journal *j, int64_t run_id,
			  const struct journal_okey *k,
			  enum journal_stream stream,
			  struct journal_output_info *info, struct err *e)
{
	struct journal_output_info mine;
	struct journal_ostream *s;
	char sha[SHA256_HEX_LEN + 1];
	int rc;

	if (journal_check_use(j, 1, e) < 0)
		return -1;
	s = stream_get(j, run_id, k, stream, e);
	if (!s)
		return -1;
	rc = journal_output_flush(j, 0, e);
	sha256_finish_hex(s->hash, sha);
	s->hash = NULL;
	info_from_stream(s, sha, &mine);
	if (rc == 0)
		rc = finish_write(j, s, &mine, e);
	if (rc == 0) {
		stream_remove(j, s);
	} else {
		/* recorded later, as lost; the caller's end event says so */
		stream_close_later(j, s, sha);
		mine = s->final;
	}
	if (info)
		*info = mine;
	return rc;
}

/* ---- reading ---- */

/* The stream's summary row; 0 when the stream was never flushed. */
int journal_output_row_read(struct journal *j, int64_t run_id,
			    const struct journal_okey *k,
			    enum journal_stream stream,
			    struct journal_output_row *row, struct err *e)
{
	sqlite3_stmt *st;
	char sql[256];
	int rc;

	snprintf(sql, sizeof sql, "SELECT id, total_bytes, stored_end, "
		 "lost_bytes, truncated, finished, sha256 FROM outputs WHERE %s",
		 key_where(k));
	if (journal_prepare(j, sql, &st, e) < 0)
		return -1;
	key_bind(st, run_id, k, stream);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		const unsigned char *sha = sqlite3_column_text(st, 6);
		row->id = sqlite3_column_int64(st, 0);
		row->total = sqlite3_column_int64(st, 1);
		row->stored_end = sqlite3_column_int64(st, 2);
		row->lost = sqlite3_column_int64(st, 3);
		row->truncated = sqlite3_column_int(st, 4);
		row->finished = sqlite3_column_int(st, 5);
		snprintf(row->sha, sizeof row->sha, "%s",
			 sha ? (const char *)sha : "");
	}
	sqlite3_finalize(st);
	return journal_row_result(j, rc, "cannot read journal output", e);
}

/* Append one chunk row to `out`; tail rows are cut to the window so an
 * unfinished (crashed) stream reads back like a finished one. */
static int chunk_emit(const struct journal_output_row *row, int part, int64_t offset,
		      const char *data, size_t len, int *marked,
		      struct buf *out, struct journal_output_info *info)
{
	int64_t window = journal_output_is_truncated(row->stored_end) ?
		row->stored_end - QRH_OUTPUT_TAIL_BYTES : QRH_OUTPUT_HEAD_BYTES;

	if (part == PART_MARKER)
		*marked = 1;
	if (part == PART_TAIL) {
		if (offset + (int64_t)len <= window)
			return 0;
		if (offset < window) {
			data += window - offset;
			len -= (size_t)(window - offset);
		}
		if (!*marked && journal_output_is_truncated(row->stored_end)) {
			marker_format(out, row->stored_end);
			*marked = 1;
		}
	}
	if (part == PART_HEAD || part == PART_TAIL)
		info->stored_bytes += (int64_t)len;
	return buf_add(out, data, len);
}

/* Rows in (part, offset) order are head, marker, tail, lost-marker. */
static int chunks_read(struct journal *j, const struct journal_output_row *row,
		       struct buf *out, struct journal_output_info *info,
		       struct err *e)
{
	sqlite3_stmt *st;
	int rc, marked = 0, full = 0;

	if (journal_prepare(j, "SELECT part, offset, data FROM output_chunks "
			    "WHERE output_id = ? ORDER BY part, offset",
			    &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, row->id);
	while (!full && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *data = sqlite3_column_blob(st, 2);
		size_t len = (size_t)sqlite3_column_bytes(st, 2);
		full = chunk_emit(row, sqlite3_column_int(st, 0),
				  sqlite3_column_int64(st, 1),
				  data ? data : "", len, &marked, out, info) < 0;
	}
	sqlite3_finalize(st);
	if (full)
		return err_set(e, "journal output does not fit the buffer");
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal output");
	return 0;
}

/* Unfinished streams (a crash) read back with the totals stored so far. */
int journal_output_read(struct journal *j, int64_t run_id,
			const struct journal_okey *k,
			enum journal_stream stream, struct buf *out,
			struct journal_output_info *info, struct err *e)
{
	struct journal_output_info mine;
	struct journal_output_row row;
	int rc;

	if (!info)
		info = &mine;
	memset(info, 0, sizeof *info);
	if (journal_check_use(j, 0, e) < 0 || stream_check(k, stream, e) < 0)
		return -1;
	rc = journal_output_row_read(j, run_id, k, stream, &row, e);
	if (rc <= 0)
		return rc;
	info->total_bytes = row.finished ? row.total : row.stored_end;
	info->lost_bytes = row.lost;
	memcpy(info->sha256, row.sha, sizeof info->sha256);
	info->truncated = row.finished ? row.truncated :
		journal_output_is_truncated(row.stored_end);
	info->finished = row.finished;
	if (chunks_read(j, &row, out, info, e) < 0)
		return -1;
	return 1;
}

/* For show/export: which streams a step has. */
int journal_output_list(struct journal *j, int64_t run_id, int64_t step,
			struct journal_output_ref **refs, size_t *n,
			struct err *e)
{
	sqlite3_stmt *st;
	struct journal_output_ref *v = NULL;
	size_t count = 0, cap = 0;
	int rc;

	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT step, attempt, coalesce(task, 0), "
			    "label, stream FROM outputs WHERE run_id = ?1 AND "
			    "(?2 < 0 OR step = ?2) ORDER BY step, attempt, "
			    "coalesce(task, 0), stream DESC", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, step);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *label = sqlite3_column_text(st, 3);
		const unsigned char *name = sqlite3_column_text(st, 4);
		v = xgrow(v, &cap, count + 1, sizeof *v);
		v[count].step = sqlite3_column_int64(st, 0);
		v[count].attempt = sqlite3_column_int(st, 1);
		v[count].task = sqlite3_column_int64(st, 2);
		label_copy(v[count].label, (const char *)label);
		v[count].stream = name && !strcmp((const char *)name, "stderr") ?
			JOURNAL_STDERR : JOURNAL_STDOUT;
		count++;
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		free(v);
		return journal_sql_err(j, e, "cannot list journal output");
	}
	*refs = v;
	*n = count;
	return 0;
}

/* Stored rows and streams not yet flushed alike. */
int journal_output_max_task(struct journal *j, int64_t run_id, int64_t *max,
			    struct err *e)
{
	*max = 0;
	if (journal_int_query(j, "SELECT coalesce(max(task), 0) FROM outputs "
			      "WHERE run_id = ?1", run_id, max,
			      "cannot read journal output", e) < 0)
		return -1;
	for (size_t i = 0; i < j->nstreams; i++)
		if (j->streams[i]->run_id == run_id && j->streams[i]->task > *max)
			*max = j->streams[i]->task;
	return 0;
}
