/* journal_check.c: stored output against what the chain says of it.
 *
 * The chain names a finished stream in the event that ends what produced
 * it, in one of two forms (state/events.h):
 *   - step_end / background_end: flat "stdout_bytes", "stdout_sha256",
 *     "stdout_truncated" (and "stdout_lost" since lost output is
 *     recorded), keyed by (step, attempt), attempt 0 for background_end;
 *   - any event with "task": N: per stream an object "stdout": {"bytes",
 *     "sha256", "truncated", "lost"}, keyed by task N.
 * A claim with an empty or absent sha256 says nothing (the engine could
 * not finish the stream), and a later claim for the same stream does not
 * replace the first.
 *
 * A claimed stream must have its outputs row, finished, with the claim's
 * totals, hash and flags; its stored rows must be exactly the head and
 * tail that those totals imply; and when nothing was dropped (not
 * truncated, nothing lost) the stored bytes must hash to the claim. When
 * bytes were dropped, the chain's hash covers bytes that are not stored:
 * only the lengths can be checked. */
#include "state/journal_priv.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define HEAD ((int64_t)QRH_OUTPUT_HEAD_BYTES)
#define TAIL ((int64_t)QRH_OUTPUT_TAIL_BYTES)

struct claim {
	int64_t seq;
	struct journal_okey key;
	enum journal_stream stream;
	int64_t bytes;
	char sha[JOURNAL_HASH_LEN + 1];
	int truncated;			/* -1: not said */
	int64_t lost;			/* -1: not said (older events) */
};

struct claims {
	struct claim *v;
	size_t n, cap;
};

static const cJSON *member(const cJSON *o, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(o, key);
}

/* Integers only: a forged 1e300 or NaN is no claim. */
static int number_get(const cJSON *v, int64_t *out)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0 &&
				    v->valuedouble < 9.0e15) ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return 0;
	*out = (int64_t)v->valuedouble;
	return 1;
}

static int same_key(const struct claim *c, const struct journal_okey *k,
		    enum journal_stream stream)
{
	if (c->stream != stream || c->key.task != k->task)
		return 0;
	return k->task > 0 ||
	       (c->key.step == k->step && c->key.attempt == k->attempt);
}

static struct claim *claim_find(struct claims *cs,
				const struct journal_okey *k,
				enum journal_stream stream)
{
	for (size_t i = 0; i < cs->n; i++)
		if (same_key(&cs->v[i], k, stream))
			return &cs->v[i];
	return NULL;
}

/* Fills c's numbers from the bytes/sha256/truncated/lost values. */
static int claim_fill(struct claim *c, const cJSON *bytes, const cJSON *sha,
		      const cJSON *truncated, const cJSON *lost)
{
	if (!cJSON_IsString(sha) || strlen(sha->valuestring) != JOURNAL_HASH_LEN
	    || !number_get(bytes, &c->bytes))
		return 0;
	snprintf(c->sha, sizeof c->sha, "%s", sha->valuestring);
	c->truncated = cJSON_IsBool(truncated) ? cJSON_IsTrue(truncated) : -1;
	if (!number_get(lost, &c->lost))
		c->lost = -1;
	return 1;
}

static void claim_add(struct claims *cs, const struct claim *c)
{
	if (claim_find(cs, &c->key, c->stream))
		return;	/* the first claim stands */
	cs->v = xgrow(cs->v, &cs->cap, cs->n + 1, sizeof *cs->v);
	cs->v[cs->n++] = *c;
}

/* The flat form of step_end and background_end. */
static void claims_flat(struct claims *cs, struct claim *c, const cJSON *p)
{
	static const char *const names[] = { "stdout", "stderr" };
	char k[4][32];

	for (int s = 0; s < 2; s++) {
		snprintf(k[0], sizeof k[0], "%s_bytes", names[s]);
		snprintf(k[1], sizeof k[1], "%s_sha256", names[s]);
		snprintf(k[2], sizeof k[2], "%s_truncated", names[s]);
		snprintf(k[3], sizeof k[3], "%s_lost", names[s]);
		c->stream = s ? JOURNAL_STDERR : JOURNAL_STDOUT;
		if (claim_fill(c, member(p, k[0]), member(p, k[1]),
			       member(p, k[2]), member(p, k[3])))
			claim_add(cs, c);
	}
}

/* The task form: "stdout": {"bytes", "sha256", "truncated", "lost"}. */
static void claims_task(struct claims *cs, struct claim *c, const cJSON *p)
{
	static const char *const names[] = { "stdout", "stderr" };

	for (int s = 0; s < 2; s++) {
		const cJSON *o = member(p, names[s]);
		c->stream = s ? JOURNAL_STDERR : JOURNAL_STDOUT;
		if (cJSON_IsObject(o) &&
		    claim_fill(c, member(o, "bytes"), member(o, "sha256"),
			       member(o, "truncated"), member(o, "lost")))
			claim_add(cs, c);
	}
}

static void claims_from_event(struct claims *cs, int64_t seq, int64_t step,
			      const char *type, const char *payload)
{
	cJSON *p = cJSON_Parse(payload);
	struct claim c = { .seq = seq, .key.step = step < 0 ? 0 : step };
	int64_t v;

	if (!cJSON_IsObject(p)) {
		cJSON_Delete(p);
		return;
	}
	if (number_get(member(p, "task"), &v) && v > 0) {
		c.key.task = v;
		if (number_get(member(p, "attempt"), &v) && v < 1000000)
			c.key.attempt = (int)v;
		claims_task(cs, &c, p);
	} else if (!strcmp(type, "step_end") && step >= 0 &&
		   number_get(member(p, "attempt"), &v) && v < 1000000) {
		c.key.attempt = (int)v;
		claims_flat(cs, &c, p);
	} else if (!strcmp(type, "background_end") && step >= 0) {
		c.key.attempt = 0;
		claims_flat(cs, &c, p);
	}
	cJSON_Delete(p);
}

/* Every claim the run's chain makes, in chain order. */
static int claims_load(struct journal *j, int64_t run_id, struct claims *cs,
		       struct err *e)
{
	sqlite3_stmt *st;
	int rc;

	if (journal_prepare(j, "SELECT seq, step, type, payload FROM events "
			    "WHERE run_id = ? AND (type IN ('step_end', "
			    "'background_end') OR payload LIKE '%\"task\"%') "
			    "ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *type = (const char *)sqlite3_column_text(st, 2);
		const char *payload = (const char *)sqlite3_column_text(st, 3);
		claims_from_event(cs, sqlite3_column_int64(st, 0),
				  sqlite3_column_type(st, 1) == SQLITE_NULL ?
				  -1 : sqlite3_column_int64(st, 1),
				  type ? type : "", payload ? payload : "");
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal events");
	return 0;
}

/* ---- one stream against its claim ---- */

struct verdict {
	int bad;
	char detail[JOURNAL_CHECK_DETAIL];
};

__attribute__((format(printf, 2, 3)))
static int mismatch(struct verdict *v, const char *fmt, ...)
{
	va_list ap;

	v->bad = 1;
	va_start(ap, fmt);
	vsnprintf(v->detail, sizeof v->detail, fmt, ap);
	va_end(ap);
	return 1;
}

/* What the stored rows must be: head [0, head_end), tail [tail_from,
 * stored_end) when the stream passed its head. */
struct layout {
	int64_t stored_end, head_end, tail_from;
	int truncated;
};

static void layout_of(int64_t stored_end, struct layout *l)
{
	l->stored_end = stored_end;
	l->head_end = stored_end < HEAD ? stored_end : HEAD;
	l->tail_from = stored_end - TAIL > HEAD ? stored_end - TAIL : HEAD;
	l->truncated = journal_output_is_truncated(stored_end);
}

/* The row's summary must be the claim's. */
static int row_matches(const struct claim *c,
		       const struct journal_output_row *row, struct verdict *v)
{
	int64_t lost = c->lost >= 0 ? c->lost : row->lost;

	if (!row->finished)
		return mismatch(v, "the chain says it was finished with %lld "
				"bytes, but its stored copy was never finished",
				(long long)c->bytes);
	if (row->total != c->bytes || strcmp(row->sha, c->sha))
		return mismatch(v, "its stored summary (%lld bytes, sha256 "
				"%.12s) is not the chain's (%lld bytes, sha256 "
				"%.12s)", (long long)row->total, row->sha,
				(long long)c->bytes, c->sha);
	if (row->lost != lost || lost > c->bytes ||
	    row->stored_end != c->bytes - lost)
		return mismatch(v, "its stored summary says %lld bytes were "
				"lost, the chain %lld", (long long)row->lost,
				(long long)lost);
	if (c->truncated >= 0 && row->truncated != c->truncated)
		return mismatch(v, "its truncated flag is not the chain's");
	return 0;
}

struct reading {
	struct sha256 *h;
	int64_t head_next, tail_next;	/* where the next row must start */
	int marker, lost_marker;
};

static int chunk_check(const struct layout *l, struct reading *r, int part,
		       int64_t off, const void *data, int64_t len,
		       struct verdict *v)
{
	if (part == PART_MARKER || part == PART_LOST) {
		*(part == PART_MARKER ? &r->marker : &r->lost_marker) += 1;
		return 0;
	}
	if (part != PART_HEAD && part != PART_TAIL)
		return mismatch(v, "a stored row has an unknown part %d", part);
	int64_t *next = part == PART_HEAD ? &r->head_next : &r->tail_next;
	int64_t end = part == PART_HEAD ? l->head_end : l->stored_end;
	if (off != *next || len <= 0 || off + len > end)
		return mismatch(v, "its stored %s bytes at offset %lld (%lld "
				"bytes) do not fit what the chain's totals "
				"imply", part == PART_HEAD ? "head" : "tail",
				(long long)off, (long long)len);
	*next += len;
	sha256_update(r->h, data, (size_t)len);
	return 0;
}

static int chunks_check(struct journal *j, const struct claim *c,
			const struct journal_output_row *row,
			struct verdict *v, struct err *e)
{
	struct layout l;
	struct reading r = { .h = sha256_new() };
	char sha[JOURNAL_HASH_LEN + 1];
	sqlite3_stmt *st;
	int rc, bad = 0;

	layout_of(row->stored_end, &l);
	r.tail_next = l.tail_from;
	if (journal_prepare(j, "SELECT part, offset, data FROM output_chunks "
			    "WHERE output_id = ? ORDER BY part, offset",
			    &st, e) < 0) {
		sha256_finish_hex(r.h, sha);
		return -1;
	}
	sqlite3_bind_int64(st, 1, row->id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = chunk_check(&l, &r, sqlite3_column_int(st, 0),
				  sqlite3_column_int64(st, 1),
				  sqlite3_column_blob(st, 2),
				  sqlite3_column_bytes(st, 2), v);
	sqlite3_finalize(st);
	sha256_finish_hex(r.h, sha);
	if (bad)
		return 1;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal output");
	if (r.head_next != l.head_end ||
	    (l.stored_end > HEAD && r.tail_next != l.stored_end))
		return mismatch(v, "%lld of its %lld stored bytes are missing",
				(long long)(l.head_end - r.head_next +
					    (l.stored_end > HEAD ?
					     l.stored_end - r.tail_next : 0)),
				(long long)(l.head_end + (l.stored_end > HEAD ?
					    l.stored_end - l.tail_from : 0)));
	if (r.marker != l.truncated || r.lost_marker != (row->lost > 0))
		return mismatch(v, "its truncation or loss notice is missing "
				"or extra");
	if (!l.truncated && !row->lost && strcmp(sha, c->sha))
		return mismatch(v, "its stored bytes hash to %.12s, the chain "
				"says %.12s: they were changed", sha, c->sha);
	return 0;
}

static int claim_check(struct journal *j, int64_t run_id,
		       const struct claim *c, struct verdict *v, struct err *e)
{
	struct journal_output_row row;
	int rc = journal_output_row_read(j, run_id, &c->key, c->stream, &row,
					 e);

	if (rc < 0)
		return -1;
	if (rc == 0)
		return mismatch(v, "the chain says it has %lld bytes, but the "
				"journal holds no rows for it",
				(long long)c->bytes);
	if (row_matches(c, &row, v))
		return 1;
	return chunks_check(j, c, &row, v, e);
}

static void claim_name(const struct claim *c, char *out, size_t n)
{
	if (c->key.task > 0 && c->key.attempt > 0)
		snprintf(out, n, "%s of step %lld attempt %d (task %lld)",
			 journal_stream_name(c->stream), (long long)c->key.step + 1,
			 c->key.attempt, (long long)c->key.task);
	else if (c->key.task > 0)
		snprintf(out, n, "%s of task %lld", journal_stream_name(c->stream),
			 (long long)c->key.task);
	else if (c->key.attempt == 0)
		snprintf(out, n, "%s of step %lld's background processes",
			 journal_stream_name(c->stream),
			 (long long)c->key.step + 1);
	else
		snprintf(out, n, "%s of step %lld attempt %d",
			 journal_stream_name(c->stream),
			 (long long)c->key.step + 1, c->key.attempt);
}

/* Every claimed stream of the run: 0 all match, 1 with the first that
 * does not in *seq and detail, -1 on error. */
int journal_check_outputs(struct journal *j, int64_t run_id, int64_t *seq,
			  char detail[JOURNAL_CHECK_DETAIL], struct err *e)
{
	struct claims cs = { 0 };
	struct verdict v = { 0 };
	char name[96];
	int rc = claims_load(j, run_id, &cs, e);

	for (size_t i = 0; rc == 0 && i < cs.n; i++) {
		rc = claim_check(j, run_id, &cs.v[i], &v, e);
		if (rc == 1) {
			*seq = cs.v[i].seq;
			claim_name(&cs.v[i], name, sizeof name);
			struct buf b;
			buf_init(&b, JOURNAL_CHECK_DETAIL - 1);
			buf_addf(&b, "%s: %s", name, v.detail);
			memcpy(detail, b.data, b.len + 1);
			buf_release(&b);
		}
	}
	free(cs.v);
	return rc;
}

/* show asks stream by stream: the claims of a run are read once per head
 * (a new event may add claims), not once per stream. */
struct journal_claims_cache {
	int64_t run_id;
	struct journal_head head;
	struct claims cs;
};

void journal_claims_cache_free(struct journal *j)
{
	if (!j->claims)
		return;
	free(j->claims->cs.v);
	free(j->claims);
	j->claims = NULL;
}

static struct claims *claims_cached(struct journal *j, int64_t run_id,
				    struct err *e)
{
	struct journal_head head;

	if (journal_head(j, run_id, &head, e) < 0)
		return NULL;
	if (j->claims && j->claims->run_id == run_id &&
	    j->claims->head.seq == head.seq &&
	    !strcmp(j->claims->head.hash, head.hash))
		return &j->claims->cs;
	journal_claims_cache_free(j);
	j->claims = xcalloc(1, sizeof *j->claims);
	j->claims->run_id = run_id;
	j->claims->head = head;
	if (claims_load(j, run_id, &j->claims->cs, e) < 0) {
		journal_claims_cache_free(j);
		return NULL;
	}
	return &j->claims->cs;
}

int journal_output_check(struct journal *j, int64_t run_id,
			 const struct journal_okey *k,
			 enum journal_stream stream,
			 struct journal_output_verdict *out, struct err *e)
{
	struct verdict v = { 0 };
	const struct claim *c;
	struct claims *cs;
	int rc;

	memset(out, 0, sizeof *out);
	if (journal_check_use(j, 0, e) < 0 || !k)
		return k ? -1 : err_set(e, "no output key");
	cs = claims_cached(j, run_id, e);
	if (!cs)
		return -1;
	c = claim_find(cs, k, stream);
	rc = c ? claim_check(j, run_id, c, &v, e) : 0;
	if (rc < 0)
		return -1;
	out->trust = !c ? JOURNAL_OUTPUT_UNCLAIMED : rc ?
		JOURNAL_OUTPUT_FORGED : JOURNAL_OUTPUT_MATCHES;
	out->seq = c ? c->seq : 0;
	snprintf(out->detail, sizeof out->detail, "%s", v.detail);
	return 0;
}
