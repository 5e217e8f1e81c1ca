/* team_pull.c: a run copied from the team database (state/team_pull.h). */
#include "state/team_pull.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal_team.h"
#include "state/team.h"
#include "state/team_conn.h"
#include "util/xalloc.h"

#define PULL_ROWS 500
#define PULL_IDLE_MS 2000

enum step { P_RESOLVE, P_HEADER, P_CHUNKS, P_OUTPUTS, P_EVENTS, P_IDLE, P_FAILED };

struct team_pull {
	struct loop *loop;
	struct team_conn *conn;
	struct journal *mirror;
	struct team_pull_cb cb;
	void *arg;
	char *want;
	char uuid[UUID_TEXT_LEN + 1];
	int found; /* rows that matched the name */
	int64_t run_id;
	enum step step;
	int64_t chunk_id, output_id, seq;
	int rows; /* of the batch in flight */
	bool more; /* a batch came back full: there is more */
	bool dirty; /* a notification came while busy */
	uint64_t timer;
	char trouble[ERR_MSG_MAX];
	struct journal_event *evs;
	size_t n_evs, cap_evs;
	struct buf strings; /* the batch's event strings */
};

static void next(struct team_pull *p);

static void fail(struct team_pull *p, const char *msg)
{
	p->step = P_FAILED;
	if (p->cb.failed)
		p->cb.failed(p->arg, msg);
}

static const char *v(const PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

static int64_t iv(const PGresult *r, int c)
{
	const char *s = v(r, c);
	return s ? strtoll(s, NULL, 10) : 0;
}

/* ---- rows ---- */

static void on_resolve(void *arg, const PGresult *r)
{
	struct team_pull *p = arg;
	if (!p->found++)
		snprintf(p->uuid, sizeof p->uuid, "%s", v(r, 0) ? v(r, 0) : "");
}

static void on_header(void *arg, const PGresult *r)
{
	struct team_pull *p = arg;
	struct err e;
	const char *text = v(r, 3) ? v(r, 3) : "";
	struct journal_mirror_run m = {
		.local_id = iv(r, 0), .uuid = p->uuid, .host = v(r, 1), .runbook_path = v(r, 2),
		.runbook_text = text, .runbook_len = strlen(text), .title = v(r, 4),
		.operator_name = v(r, 5), .os_user = v(r, 6), .uid = iv(r, 7), .mode = v(r, 8),
		.started_at = iv(r, 9), .vars = v(r, 10),
	};
	p->found++;
	if (journal_mirror_run(p->mirror, &m, &e) < 0)
		snprintf(p->trouble, sizeof p->trouble, "%s", e.msg);
	else
		p->run_id = m.local_id;
}

/* "\x0a0b..." (bytea's hex output) into bytes, in place. */
static size_t unhex(char *s)
{
	size_t n = 0;
	if (s[0] != '\\' || s[1] != 'x')
		return 0;
	for (const char *q = s + 2; q[0] && q[1]; q += 2) {
		unsigned hi, lo;
		if (sscanf(q, "%1x%1x", &hi, &lo) != 2)
			break;
		s[n++] = (char)(hi << 4 | lo);
	}
	return n;
}

static void okey_of(const PGresult *r, int c, struct journal_okey *k,
		    enum journal_stream *stream)
{
	k->step = iv(r, c);
	k->attempt = (int)iv(r, c + 1);
	k->task = iv(r, c + 2);
	k->label = v(r, c + 3);
	*stream = v(r, c + 4) && !strcmp(v(r, c + 4), "stderr") ? JOURNAL_STDERR : JOURNAL_STDOUT;
}

static void on_chunk(void *arg, const PGresult *r)
{
	struct team_pull *p = arg;
	struct journal_okey k;
	enum journal_stream stream;
	struct err e;
	p->rows++;
	p->chunk_id = iv(r, 0);
	okey_of(r, 1, &k, &stream);
	char *data = xstrdup(v(r, 8) ? v(r, 8) : "");
	size_t n = unhex(data);
	if (journal_mirror_chunk(p->mirror, p->run_id, &k, stream, (int)iv(r, 6), iv(r, 7), data,
				 n, &e) < 0)
		snprintf(p->trouble, sizeof p->trouble, "%s", e.msg);
	free(data);
}

static void on_output(void *arg, const PGresult *r)
{
	struct team_pull *p = arg;
	struct journal_okey k;
	enum journal_stream stream;
	struct err e;
	p->rows++;
	p->output_id = iv(r, 0);
	okey_of(r, 1, &k, &stream);
	struct journal_output_row_info info = {
		.total_bytes = iv(r, 6), .stored_end = iv(r, 7), .lost_bytes = iv(r, 8),
		.sha256 = v(r, 9), .truncated = (int)iv(r, 10),
	};
	if (journal_mirror_output(p->mirror, p->run_id, &k, stream, &info, &e) < 0)
		snprintf(p->trouble, sizeof p->trouble, "%s", e.msg);
}

/* Events are kept until the batch ends, then copied in one transaction. */
static void on_event(void *arg, const PGresult *r)
{
	struct team_pull *p = arg;
	p->rows++;
	p->evs = xgrow(p->evs, &p->cap_evs, p->n_evs + 1, sizeof *p->evs);
	struct journal_event *ev = &p->evs[p->n_evs++];
	memset(ev, 0, sizeof *ev);
	ev->run_id = p->run_id;
	ev->seq = iv(r, 0);
	ev->wall_ms = iv(r, 1);
	ev->mono_ns = iv(r, 2);
	ev->step = v(r, 3) ? iv(r, 3) : JOURNAL_NO_STEP;
	/* the strings' offsets, made pointers once the batch is whole */
	for (int c = 4; c < 7; c++) {
		size_t off = p->strings.len;
		buf_adds(&p->strings, v(r, c) ? v(r, c) : "");
		buf_addc(&p->strings, '\0');
		const char **slot = c == 4 ? &ev->type : c == 5 ? &ev->actor : &ev->payload;
		*slot = (const char *)(uintptr_t)off;
	}
	snprintf(ev->prev_hash, sizeof ev->prev_hash, "%s", v(r, 7) ? v(r, 7) : "");
	snprintf(ev->hash, sizeof ev->hash, "%s", v(r, 8) ? v(r, 8) : "");
	p->seq = ev->seq;
}

static void events_store(struct team_pull *p)
{
	struct err e;
	for (size_t i = 0; i < p->n_evs; i++) {
		p->evs[i].type = p->strings.data + (uintptr_t)p->evs[i].type;
		p->evs[i].actor = p->strings.data + (uintptr_t)p->evs[i].actor;
		p->evs[i].payload = p->strings.data + (uintptr_t)p->evs[i].payload;
	}
	if (p->n_evs && journal_mirror_events(p->mirror, p->evs, p->n_evs, &e) < 0)
		snprintf(p->trouble, sizeof p->trouble, "%s", e.msg);
	p->n_evs = 0;
	buf_reset(&p->strings);
}

/* ---- the cycle ---- */

static void on_done(void *arg, bool ok, const char *msg)
{
	struct team_pull *p = arg;
	if (p->step == P_EVENTS)
		events_store(p);
	if (!ok) {
		snprintf(p->trouble, sizeof p->trouble, "%s", msg);
		return; /* lost: resumes on ready; refused: the next notify */
	}
	if (p->step == P_RESOLVE) {
		if (!p->found) {
			fail(p, *p->want ? "no such run in the team database" :
					   "the team database has no runs");
			return;
		}
		if (p->found > 1 && *p->want) {
			fail(p, "several runs in the team database start so: give more of the uuid");
			return;
		}
		p->step = P_HEADER;
	} else if (p->step == P_HEADER) {
		if (!p->run_id) {
			fail(p, p->trouble[0] ? p->trouble : "the run has no header");
			return;
		}
		p->step = P_CHUNKS;
	} else {
		p->more = p->more || p->rows >= PULL_ROWS;
		p->step = p->step == P_CHUNKS ? P_OUTPUTS : p->step == P_OUTPUTS ? P_EVENTS : P_IDLE;
	}
	p->trouble[0] = '\0';
	next(p);
}

static void query(struct team_pull *p, const char *sql, int n, const char *const *vals,
		  team_row_fn *row)
{
	struct err e;
	p->rows = 0;
	if (team_conn_query(p->conn, sql, n, vals, row, on_done, p, &e) < 0)
		snprintf(p->trouble, sizeof p->trouble, "%s", e.msg);
}

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct team_pull *p = arg;
	(void)l;
	(void)id;
	p->timer = 0;
	if (p->step == P_IDLE)
		p->step = P_CHUNKS;
	next(p);
}

static void next(struct team_pull *p)
{
	char a[24], b[24];
	const char *vals[] = { p->uuid, a, b };
	if (!team_conn_idle(p->conn) || p->step == P_FAILED)
		return;
	switch (p->step) {
	case P_RESOLVE: {
		const char *want[] = { p->want };
		query(p, "SELECT r.uuid::text FROM qrh.runs r WHERE $1 = '' OR r.uuid::text LIKE "
		      "$1 || '%' ORDER BY NOT EXISTS (SELECT 1 FROM qrh.events e WHERE e.run_uuid = "
		      "r.uuid AND e.type = 'run_end') DESC, r.started_at DESC LIMIT 2", 1, want,
		      on_resolve);
		return;
	}
	case P_HEADER:
		query(p, "SELECT local_id, host, runbook_path, runbook_text, title, operator, os_user, "
		      "uid, mode, started_at, vars FROM qrh.runs WHERE uuid = $1::uuid", 1, vals,
		      on_header);
		return;
	case P_CHUNKS:
		p->more = false;
		snprintf(a, sizeof a, "%lld", (long long)p->chunk_id);
		query(p, "SELECT id, step, attempt, task, label, stream, part, off, data FROM "
		      "qrh.output_chunks WHERE run_uuid = $1::uuid AND id > $2::bigint ORDER BY id "
		      "LIMIT 500", 2, vals, on_chunk);
		return;
	case P_OUTPUTS:
		snprintf(a, sizeof a, "%lld", (long long)p->output_id);
		query(p, "SELECT id, step, attempt, task, label, stream, total_bytes, stored_end, "
		      "lost_bytes, sha256, truncated FROM qrh.outputs WHERE run_uuid = $1::uuid AND "
		      "id > $2::bigint ORDER BY id LIMIT 500", 2, vals, on_output);
		return;
	case P_EVENTS:
		snprintf(a, sizeof a, "%lld", (long long)p->seq);
		snprintf(b, sizeof b, "%d", PULL_ROWS);
		query(p, "SELECT seq, wall_ms, mono_ns, step, type, actor, payload, prev_hash, hash "
		      "FROM qrh.events WHERE run_uuid = $1::uuid AND seq > $2::bigint ORDER BY seq "
		      "LIMIT $3::integer", 3, vals, on_event);
		return;
	case P_IDLE:
		if (p->more || p->dirty) {
			p->dirty = false;
			p->step = P_CHUNKS;
			next(p);
			return;
		}
		if (p->cb.caught_up)
			p->cb.caught_up(p->arg);
		if (!p->timer && p->step == P_IDLE)
			p->timer = loop_timer_add(p->loop, PULL_IDLE_MS, on_timer, p);
		return;
	case P_FAILED:
		return;
	}
}

static void on_ready(void *arg)
{
	struct team_pull *p = arg;
	if (p->step == P_IDLE)
		p->step = P_CHUNKS;
	next(p);
}

static void on_lost(void *arg, const char *msg)
{
	struct team_pull *p = arg;
	snprintf(p->trouble, sizeof p->trouble, "%s", msg);
	if (p->step == P_EVENTS) {
		p->n_evs = 0;
		buf_reset(&p->strings);
	}
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct team_pull *p = arg;
	(void)channel;
	if (strcmp(payload, p->uuid))
		return;
	if (p->step != P_IDLE) {
		p->dirty = true;
		return;
	}
	if (p->timer)
		loop_timer_cancel(p->loop, p->timer);
	p->timer = 0;
	p->step = P_CHUNKS;
	next(p);
}

struct team_pull *team_pull_new(struct loop *l, const char *conninfo,
				const char *run, struct journal *mirror,
				const struct team_pull_cb *cb, void *arg,
				struct err *e)
{
	static const struct team_conn_cb ccb = { .ready = on_ready, .lost = on_lost,
						 .notify = on_notify };
	static const char *const channels[] = { TEAM_CHANNEL_EVENTS, NULL };
	struct team_pull *p = xcalloc(1, sizeof *p);
	p->loop = l;
	p->mirror = mirror;
	p->cb = *cb;
	p->arg = arg;
	p->want = xstrdup(run ? run : "");
	buf_init(&p->strings, BUF_UNLIMITED);
	p->conn = team_conn_new(l, conninfo, channels, &ccb, p, e);
	if (!p->conn) {
		team_pull_free(p);
		return NULL;
	}
	return p;
}

void team_pull_free(struct team_pull *p)
{
	if (!p)
		return;
	team_conn_free(p->conn);
	if (p->timer)
		loop_timer_cancel(p->loop, p->timer);
	free(p->evs);
	buf_release(&p->strings);
	free(p->want);
	free(p);
}

void team_pull_bind(struct team_pull *p, const struct team_pull_cb *cb, void *arg)
{
	p->cb = *cb;
	p->arg = arg;
}

int64_t team_pull_run_id(const struct team_pull *p)
{
	return p->run_id;
}

const char *team_pull_uuid(const struct team_pull *p)
{
	return p->uuid;
}

const char *team_pull_trouble(const struct team_pull *p)
{
	return p->trouble;
}
