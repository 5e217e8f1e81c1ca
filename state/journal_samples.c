/* journal_samples.c: probe samples — buffered rows written with output,
 * their digests, and the check of the digests on the chain (the rules
 * are in state/journal.h, "probe samples"). */
#include "state/journal_priv.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/xalloc.h"

struct journal_sample_row {
	int64_t run_id;
	struct journal_sample s; /* strings owned by the row */
};

#define SAMPLE_COLS "seq, probe, wall_ms, mono_ns, duration_ms, late_ms, " \
	"skipped, result, state, value, values_json"

static void row_free(struct journal_sample_row *r)
{
	free((char *)(uintptr_t)r->s.probe);
	free((char *)(uintptr_t)r->s.result);
	free((char *)(uintptr_t)r->s.state);
	free((char *)(uintptr_t)r->s.value);
	free((char *)(uintptr_t)r->s.values);
}

void journal_samples_free(struct journal *j)
{
	for (size_t i = 0; i < j->nsamples; i++)
		row_free(&j->samples[i]);
	free(j->samples);
	j->samples = NULL;
	j->nsamples = j->samples_cap = 0;
	j->samples_since_ns = 0;
}

/* The run's next seq: after the stored ones (a resumed run) the first
 * time, then counted here. */
static int next_seq(struct journal *j, int64_t run_id, int64_t *out,
		    struct err *e)
{
	if (j->sample_run != run_id || !j->sample_next) {
		int64_t max = 0;
		if (journal_int_query(j, "SELECT coalesce(max(seq), 0) FROM "
				      "probe_samples WHERE run_id = ?1", run_id,
				      &max, "cannot read the probe samples", e) < 0)
			return -1;
		for (size_t i = 0; i < j->nsamples; i++)
			if (j->samples[i].run_id == run_id && j->samples[i].s.seq > max)
				max = j->samples[i].s.seq;
		j->sample_run = run_id;
		j->sample_next = max + 1;
	}
	*out = j->sample_next++;
	return 0;
}

static const char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

int journal_sample_append(struct journal *j, int64_t run_id,
			  struct journal_sample *s, struct err *e)
{
	if (journal_check_use(j, 1, e) < 0 ||
	    journal_run_check_owned(j, run_id, e) < 0)
		return -1;
	if (j->nsamples >= JOURNAL_SAMPLES_PENDING_MAX)
		return err_set(e, "%zu probe samples wait for the journal: this "
			       "one is not stored", j->nsamples);
	if (next_seq(j, run_id, &s->seq, e) < 0)
		return -1;
	j->samples = xgrow(j->samples, &j->samples_cap, j->nsamples + 1,
			   sizeof *j->samples);
	struct journal_sample_row *r = &j->samples[j->nsamples++];
	r->run_id = run_id;
	r->s = *s;
	r->s.probe = xstrdup(s->probe ? s->probe : "");
	r->s.result = xstrdup(s->result ? s->result : "");
	r->s.state = xstrdup(s->state ? s->state : "unknown");
	r->s.value = dup_or_null(s->value);
	r->s.values = xstrdup(s->values ? s->values : "{}");
	if (!j->samples_since_ns)
		j->samples_since_ns = clock_mono_ns();
	return 0;
}

static int row_insert(struct journal *j, sqlite3_stmt *st,
		      const struct journal_sample_row *r, struct err *e)
{
	const struct journal_sample *s = &r->s;
	sqlite3_reset(st);
	sqlite3_bind_int64(st, 1, r->run_id);
	sqlite3_bind_int64(st, 2, s->seq);
	sqlite3_bind_text(st, 3, s->probe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, s->wall_ms);
	sqlite3_bind_int64(st, 5, s->mono_ns);
	sqlite3_bind_int64(st, 6, s->duration_ms);
	sqlite3_bind_int64(st, 7, s->late_ms);
	sqlite3_bind_int64(st, 8, s->skipped);
	sqlite3_bind_text(st, 9, s->result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, s->state, -1, SQLITE_STATIC);
	if (s->value)
		sqlite3_bind_text(st, 11, s->value, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 11);
	sqlite3_bind_text(st, 12, s->values, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot store a probe sample");
	return 0;
}

int journal_samples_write(struct journal *j, struct err *e)
{
	sqlite3_stmt *st;
	int rc = 0;

	if (!j->nsamples)
		return 0;
	if (journal_prepare(j, "INSERT INTO probe_samples (run_id, " SAMPLE_COLS
			    ") VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &st, e) < 0)
		return -1;
	for (size_t i = 0; rc == 0 && i < j->nsamples; i++)
		rc = row_insert(j, st, &j->samples[i], e);
	sqlite3_finalize(st);
	return rc;
}

void journal_samples_settle(struct journal *j, int committed)
{
	if (!committed || !j->nsamples)
		return;
	for (size_t i = 0; i < j->nsamples; i++)
		row_free(&j->samples[i]);
	j->nsamples = 0;
	j->samples_since_ns = 0;
}

/* ---- reading ---- */

/* A row of SAMPLE_COLS from column `c0` on; strings point into st. */
static void sample_from_row(sqlite3_stmt *st, int c0, struct journal_sample *s)
{
	s->seq = sqlite3_column_int64(st, c0);
	s->probe = (const char *)sqlite3_column_text(st, c0 + 1);
	s->wall_ms = sqlite3_column_int64(st, c0 + 2);
	s->mono_ns = sqlite3_column_int64(st, c0 + 3);
	s->duration_ms = sqlite3_column_int64(st, c0 + 4);
	s->late_ms = sqlite3_column_int64(st, c0 + 5);
	s->skipped = sqlite3_column_int64(st, c0 + 6);
	s->result = (const char *)sqlite3_column_text(st, c0 + 7);
	s->state = (const char *)sqlite3_column_text(st, c0 + 8);
	s->value = (const char *)sqlite3_column_text(st, c0 + 9);
	s->values = (const char *)sqlite3_column_text(st, c0 + 10);
}

static int rows_each(struct journal *j, sqlite3_stmt *st, journal_sample_fn fn,
		     void *ctx, struct err *e)
{
	struct journal_sample s;
	int rc, stop = 0;
	while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		sample_from_row(st, 0, &s);
		stop = fn(&s, ctx);
	}
	sqlite3_finalize(st);
	if (stop)
		return stop;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read probe samples");
	return 0;
}

int journal_samples_each(struct journal *j, int64_t run_id, const char *probe,
			 int64_t after, journal_sample_fn fn, void *ctx,
			 struct err *e)
{
	sqlite3_stmt *st;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT " SAMPLE_COLS " FROM probe_samples WHERE "
			    "run_id = ?1 AND seq > ?2 AND (?3 IS NULL OR probe = ?3) "
			    "ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, after);
	if (probe)
		sqlite3_bind_text(st, 3, probe, -1, SQLITE_STATIC);
	return rows_each(j, st, fn, ctx, e);
}

int journal_samples_last(struct journal *j, int64_t run_id, const char *probe,
			 size_t n, journal_sample_fn fn, void *ctx,
			 struct err *e)
{
	sqlite3_stmt *st;
	if (journal_check_use(j, 0, e) < 0 ||
	    journal_prepare(j, "SELECT * FROM (SELECT " SAMPLE_COLS " FROM "
			    "probe_samples WHERE run_id = ?1 AND probe = ?2 ORDER BY "
			    "seq DESC LIMIT ?3) ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_text(st, 2, probe, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)n);
	return rows_each(j, st, fn, ctx, e);
}

/* ---- digests ---- */

/* The stored bytes of a text column, as hashed. */
static void enc_text(struct journal_enc *enc, sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL) {
		journal_enc_null(enc);
		return;
	}
	const void *p = sqlite3_column_text(st, col);
	journal_enc_bytes(enc, p ? p : "", (size_t)sqlite3_column_bytes(st, col));
}

/* The digest of the samples with first <= seq <= last (last < 0: all
 * from first on). */
static int digest_range(struct journal *j, int64_t run_id, int64_t first,
			int64_t last, struct journal_sample_digest *d,
			struct err *e)
{
	static const int int_cols[] = { 2, 3, 4, 5, 6 };
	struct journal_enc enc;
	sqlite3_stmt *st;
	int rc;

	memset(d, 0, sizeof *d);
	if (journal_prepare(j, "SELECT " SAMPLE_COLS " FROM probe_samples WHERE "
			    "run_id = ?1 AND seq >= ?2 AND (?3 < 0 OR seq <= ?3) "
			    "ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	sqlite3_bind_int64(st, 2, first);
	sqlite3_bind_int64(st, 3, last);
	journal_enc_begin(&enc, "qrh.samples.v1");
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t seq = sqlite3_column_int64(st, 0);
		if (!d->count)
			d->first = seq;
		d->last = seq;
		d->count++;
		journal_enc_int(&enc, seq);
		enc_text(&enc, st, 1);
		for (size_t k = 0; k < sizeof int_cols / sizeof *int_cols; k++)
			journal_enc_int(&enc, sqlite3_column_int64(st, int_cols[k]));
		for (int col = 7; col <= 10; col++)
			enc_text(&enc, st, col);
	}
	sqlite3_finalize(st);
	journal_enc_finish(&enc, d->sha256);
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read probe samples");
	return 0;
}

int journal_samples_digest(struct journal *j, int64_t run_id, int64_t after,
			   struct journal_sample_digest *d, struct err *e)
{
	if (journal_check_use(j, 0, e) < 0 || journal_flush(j, e) < 0)
		return -1;
	return digest_range(j, run_id, after + 1, -1, d, e);
}

/* ---- verify ---- */

struct digest_check {
	struct journal *j;
	int64_t run_id;
	int64_t next;  /* the seq the next digest must start at */
	int64_t *seq;
	char *detail;
	struct err *e;
	int rc;
};

static int64_t member(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* One probe_digest event: its range follows the last, its rows are there
 * and hash to what it says. */
static int digest_check_one(struct digest_check *c, int64_t seq, const char *payload)
{
	cJSON *p = cJSON_Parse(payload ? payload : "");
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(p, "sha256");
	int64_t first = member(p, "first"), last = member(p, "last"), count = member(p, "count");
	struct journal_sample_digest d;
	int bad = 0;
	*c->seq = seq;
	if (!cJSON_IsString(h) || first != c->next || last < first || count != last - first + 1) {
		snprintf(c->detail, JOURNAL_CHECK_DETAIL, "the digest does not cover the samples "
			 "from %lld on, one range after the other", (long long)c->next);
		bad = 1;
	} else if (digest_range(c->j, c->run_id, first, last, &d, c->e) < 0) {
		c->rc = -1;
		bad = 1;
	} else if (d.count != count || strcmp(d.sha256, h->valuestring)) {
		snprintf(c->detail, JOURNAL_CHECK_DETAIL, "samples %lld to %lld: %lld stored, "
			 "%lld digested, and they hash to %.12s, not %.12s", (long long)first,
			 (long long)last, (long long)d.count, (long long)count, d.sha256,
			 h->valuestring);
		bad = 1;
	}
	c->next = last + 1;
	cJSON_Delete(p);
	return bad;
}

int journal_check_samples(struct journal *j, int64_t run_id, int ended,
			  int64_t *seq, char detail[JOURNAL_CHECK_DETAIL],
			  struct err *e)
{
	struct digest_check c = { .j = j, .run_id = run_id, .next = 1, .seq = seq,
				  .detail = detail, .e = e };
	sqlite3_stmt *st;
	int rc, bad = 0;
	if (journal_prepare(j, "SELECT seq, payload FROM events WHERE run_id = ? "
			    "AND type = 'probe_digest' ORDER BY seq", &st, e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, run_id);
	while (!bad && (rc = sqlite3_step(st)) == SQLITE_ROW)
		bad = digest_check_one(&c, sqlite3_column_int64(st, 0),
				       (const char *)sqlite3_column_text(st, 1));
	sqlite3_finalize(st);
	if (c.rc < 0)
		return -1;
	if (bad)
		return 1;
	if (rc != SQLITE_DONE)
		return journal_sql_err(j, e, "cannot read journal events");
	int64_t max = 0;
	if (journal_int_query(j, "SELECT coalesce(max(seq), 0) FROM probe_samples "
			      "WHERE run_id = ?1", run_id, &max,
			      "cannot read the probe samples", e) < 0)
		return -1;
	if (ended && max >= c.next) {
		*seq = 0;
		snprintf(detail, JOURNAL_CHECK_DETAIL, "samples %lld to %lld of an ended run "
			 "are in no digest", (long long)c.next, (long long)max);
		return 1;
	}
	return 0;
}
