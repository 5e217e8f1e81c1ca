/* team_link.c: the shipper (state/team_link.h). */
#include "state/team_link.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/journal_team.h"
#include "state/team.h"
#include "state/team_conn.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define LINK_BATCH_ROWS 500
#define LINK_BATCH_BYTES (256 * 1024)
#define LINK_OUTPUTS_PER_BATCH 16
/* Commits within this long go in one round: fewer round trips and cursor
 * writes in the local journal per step (a round every 20 ms cost a run of
 * quick steps 10 to 20 % more time a step; one every 250 ms is within the
 * noise), and a watcher still sees an event within a quarter second. */
#define LINK_KICK_MS 250
#define LINK_IDLE_MS 500          /* output and samples are looked for this often */
#define LINK_OTHERS_EVERY_MS 5000 /* earlier runs left to ship */
#define LINK_MAX_OTHERS 64

enum batch_kind { B_NONE, B_HEADER, B_CHUNKS, B_OUTPUTS, B_SAMPLES, B_EVENTS, B_REQUESTS };

struct team_link {
	struct loop *loop;
	struct journal *j;
	struct team_conn *conn;
	int64_t run_id;
	char uuid[UUID_TEXT_LEN + 1];
	int64_t others[LINK_MAX_OTHERS];
	size_t n_others;
	int64_t others_at_ms;
	uint64_t pump_timer;
	bool kicked; /* pump_timer is a kick's: due within LINK_KICK_MS */
	/* the batch in flight */
	enum batch_kind kind;
	int64_t batch_run;
	int64_t batch_last;
	int64_t *batch_ids;
	size_t batch_n;
	size_t batch_rows;
	bool requests_wanted;
	team_request_fn *req_fn;
	void *req_arg;
	int64_t behind;
	bool synced;
	uint64_t shipped, batches;
	char error[ERR_MSG_MAX];
};

static void pump_soon(struct team_link *t, int64_t ms);

/* ---- requests from other machines ---- */

static const char requests_sql[] =
	"SELECT true AS approval, id::text, by_role, (extract(epoch FROM at) * 1000)::bigint::text, "
	"step_id, request_seq::text, command_sha256, decision, comment, NULL AS text "
	"FROM qrh.approvals WHERE run_uuid = $1::uuid UNION ALL "
	"SELECT false, id::text, by_role, (extract(epoch FROM at) * 1000)::bigint::text, "
	"NULL, NULL, NULL, NULL, NULL, text FROM qrh.notes WHERE run_uuid = $1::uuid ORDER BY 4";

static const char *col(const PGresult *r, int c)
{
	return PQgetisnull(r, 0, c) ? NULL : PQgetvalue(r, 0, c);
}

static void on_request_row(void *arg, const PGresult *r)
{
	struct team_link *t = arg;
	if (!t->req_fn || PQnfields(r) < 10)
		return;
	const char *seq = col(r, 5), *kind = col(r, 0), *at = col(r, 3);
	struct team_request rq = {
		.approval = kind && kind[0] == 't',
		.id = col(r, 1),
		.role = col(r, 2),
		.at_ms = at ? strtoll(at, NULL, 10) : 0,
		.step_id = col(r, 4),
		.request_seq = seq ? strtoll(seq, NULL, 10) : 0,
		.command_sha256 = col(r, 6),
		.decision = col(r, 7),
		.comment = col(r, 8),
		.text = col(r, 9),
	};
	if (rq.id && rq.role)
		t->req_fn(t->req_arg, &rq);
}

/* ---- batches ---- */

static const char header_sql[] =
	"INSERT INTO qrh.runs (uuid, local_id, host, runbook_path, runbook_sha256, runbook_text, "
	"title, operator, os_user, uid, mode, started_at, vars) SELECT $1::uuid, x.local_id, x.host, "
	"x.runbook_path, x.runbook_sha256, coalesce(x.runbook_text, ''), x.title, x.operator, "
	"x.os_user, x.uid, x.mode, x.started_at, x.vars FROM json_to_record($2::json) AS x("
	"local_id bigint, host text, runbook_path text, runbook_sha256 text, runbook_text text, "
	"title text, operator text, os_user text, uid bigint, mode text, started_at bigint, "
	"vars text) ON CONFLICT DO NOTHING";

#define CHUNKS_FROM(param) \
	"SELECT $1::uuid, x.step, x.attempt, x.task, x.label, x.stream, x.part, x.off, " \
	"decode(x.data, 'hex') FROM json_to_recordset(" param "::json) AS x(step bigint, " \
	"attempt integer, task bigint, label text, stream text, part smallint, off bigint, " \
	"data text)"
#define CHUNKS_INTO "INSERT INTO qrh.output_chunks (run_uuid, step, attempt, task, label, " \
	"stream, part, off, data) "

static const char chunks_sql[] = CHUNKS_INTO CHUNKS_FROM("$2") " ON CONFLICT DO NOTHING";

/* the streams' tails and markers, then their records: one statement */
static const char outputs_sql[] =
	"WITH c AS (" CHUNKS_INTO CHUNKS_FROM("$3") " ON CONFLICT DO NOTHING) "
	"INSERT INTO qrh.outputs (run_uuid, step, attempt, task, label, stream, total_bytes, "
	"stored_end, lost_bytes, sha256, truncated) SELECT $1::uuid, x.step, x.attempt, x.task, "
	"x.label, x.stream, x.total_bytes, x.stored_end, x.lost_bytes, x.sha256, x.truncated FROM "
	"json_to_recordset($2::json) AS x(step bigint, attempt integer, task bigint, label text, "
	"stream text, total_bytes bigint, stored_end bigint, lost_bytes bigint, sha256 text, "
	"truncated integer) ON CONFLICT DO NOTHING";

static const char samples_sql[] =
	"INSERT INTO qrh.probe_samples (run_uuid, seq, probe, wall_ms, mono_ns, duration_ms, "
	"late_ms, skipped, result, state, value, values_json) SELECT $1::uuid, x.seq, x.probe, "
	"x.wall_ms, x.mono_ns, x.duration_ms, x.late_ms, x.skipped, x.result, x.state, x.value, "
	"x.values_json FROM json_to_recordset($2::json) AS x(seq bigint, probe text, wall_ms "
	"bigint, mono_ns bigint, duration_ms bigint, late_ms bigint, skipped integer, result text, "
	"state text, value text, values_json text) ON CONFLICT DO NOTHING";

static const char events_sql[] =
	"INSERT INTO qrh.events (run_uuid, seq, wall_ms, mono_ns, step, type, actor, payload, "
	"prev_hash, hash) SELECT $1::uuid, x.seq, x.wall_ms, x.mono_ns, x.step, x.type, x.actor, "
	"x.payload, x.prev_hash, x.hash FROM json_to_recordset($2::json) AS x(seq bigint, "
	"wall_ms bigint, mono_ns bigint, step bigint, type text, actor text, payload text, "
	"prev_hash text, hash text) ON CONFLICT DO NOTHING";

static void batch_done(void *arg, bool ok, const char *msg)
{
	struct team_link *t = arg;
	struct err e;
	enum batch_kind kind = t->kind;
	t->kind = B_NONE;
	if (!ok) {
		snprintf(t->error, sizeof t->error, "%s", msg);
		free(t->batch_ids);
		t->batch_ids = NULL;
		/* refused, not lost: try again later rather than spin */
		pump_soon(t, team_conn_ready(t->conn) ? 2000 : 0);
		return;
	}
	int rc = 0;
	switch (kind) {
	case B_HEADER:
		rc = journal_team_mark(t->j, t->batch_run, JOURNAL_TEAM_HEADER, 1, &e);
		break;
	case B_CHUNKS:
		rc = journal_team_mark(t->j, t->batch_run, JOURNAL_TEAM_CHUNKS, t->batch_last, &e);
		break;
	case B_OUTPUTS:
		rc = journal_team_mark_outputs(t->j, t->batch_ids, t->batch_n, &e);
		break;
	case B_SAMPLES:
		rc = journal_team_mark(t->j, t->batch_run, JOURNAL_TEAM_SAMPLES, t->batch_last, &e);
		break;
	case B_EVENTS:
		rc = journal_team_mark(t->j, t->batch_run, JOURNAL_TEAM_EVENTS, t->batch_last, &e);
		t->shipped += t->batch_rows;
		break;
	default:
		break;
	}
	free(t->batch_ids);
	t->batch_ids = NULL;
	if (kind != B_REQUESTS)
		t->batches++;
	if (rc < 0)
		snprintf(t->error, sizeof t->error, "%s", e.msg);
	else if (kind != B_REQUESTS)
		t->error[0] = '\0';
	pump_soon(t, rc < 0 ? 1000 : 0);
}

/* Sends `json` (and json2) for run `run`; takes both. */
static int send_batch(struct team_link *t, enum batch_kind kind, const char *sql,
		      int64_t run, const char *uuid, cJSON *json, cJSON *json2)
{
	struct err e;
	char *a = cJSON_PrintUnformatted(json);
	char *b = json2 ? cJSON_PrintUnformatted(json2) : NULL;
	cJSON_Delete(json);
	cJSON_Delete(json2);
	const char *values[] = { uuid, a, b };
	t->kind = kind;
	t->batch_run = run;
	int rc = team_conn_query(t->conn, sql, b ? 3 : 2, values, NULL, batch_done, t, &e);
	cJSON_free(a);
	cJSON_free(b);
	if (rc < 0) {
		t->kind = B_NONE;
		snprintf(t->error, sizeof t->error, "%s", e.msg);
	}
	return rc;
}

/* The first thing run `run` has to ship, sent; 1 sent, 0 nothing, -1 error. */
static int ship_run(struct team_link *t, int64_t run)
{
	struct journal_team_state st;
	struct err e;
	cJSON *rows = NULL, *more = NULL;
	int64_t last;
	if (journal_team_state(t->j, run, &st, &e) <= 0)
		goto fail;
	if (run == t->run_id)
		t->behind = st.head_seq - st.events;
	if (!st.header_shipped) {
		if (journal_team_header(t->j, run, &rows, &e) < 0)
			goto fail;
		return send_batch(t, B_HEADER, header_sql, run, st.uuid, rows, NULL) < 0 ? -1 : 1;
	}
	if (journal_team_chunks(t->j, run, st.chunks, LINK_BATCH_ROWS, LINK_BATCH_BYTES, &rows,
				&last, &e) < 0)
		goto fail;
	if (cJSON_GetArraySize(rows)) {
		t->batch_last = last;
		return send_batch(t, B_CHUNKS, chunks_sql, run, st.uuid, rows, NULL) < 0 ? -1 : 1;
	}
	cJSON_Delete(rows);
	rows = NULL;
	if (st.outputs_waiting) {
		int64_t *ids;
		size_t n;
		if (journal_team_outputs(t->j, run, LINK_OUTPUTS_PER_BATCH, &rows, &more, &ids, &n,
					 &e) < 0) {
			free(ids);
			goto fail;
		}
		t->batch_ids = ids;
		t->batch_n = n;
		return send_batch(t, B_OUTPUTS, outputs_sql, run, st.uuid, rows, more) < 0 ? -1 : 1;
	}
	if (journal_team_samples(t->j, run, st.samples, LINK_BATCH_ROWS, &rows, &last, &e) < 0)
		goto fail;
	if (cJSON_GetArraySize(rows)) {
		t->batch_last = last;
		return send_batch(t, B_SAMPLES, samples_sql, run, st.uuid, rows, NULL) < 0 ? -1 : 1;
	}
	cJSON_Delete(rows);
	rows = NULL;
	if (st.events >= st.head_seq)
		return 0;
	if (journal_team_events(t->j, run, st.events, st.head_seq, LINK_BATCH_ROWS,
				LINK_BATCH_BYTES, &rows, &last, &e) < 0)
		goto fail;
	t->batch_last = last;
	t->batch_rows = (size_t)cJSON_GetArraySize(rows);
	return send_batch(t, B_EVENTS, events_sql, run, st.uuid, rows, NULL) < 0 ? -1 : 1;
fail:
	cJSON_Delete(rows);
	cJSON_Delete(more);
	snprintf(t->error, sizeof t->error, "%s", e.msg);
	return -1;
}

static void pump(struct team_link *t)
{
	struct err e;
	if (!team_conn_idle(t->conn) || t->kind != B_NONE)
		return;
	if (t->requests_wanted && t->req_fn && t->uuid[0]) {
		const char *values[] = { t->uuid };
		t->requests_wanted = false;
		t->kind = B_REQUESTS;
		if (team_conn_query(t->conn, requests_sql, 1, values, on_request_row, batch_done,
				    t, &e) < 0)
			t->kind = B_NONE;
		return;
	}
	int rc = t->run_id ? ship_run(t, t->run_id) : 0;
	if (rc != 0) {
		if (rc < 0)
			pump_soon(t, 2000);
		return;
	}
	int64_t now = clock_wall_ms();
	if (now - t->others_at_ms >= LINK_OTHERS_EVERY_MS) {
		t->others_at_ms = now;
		if (journal_team_pending(t->j, t->others, LINK_MAX_OTHERS, &t->n_others, &e) < 0)
			t->n_others = 0;
	}
	while (t->n_others) {
		int64_t run = t->others[0];
		if (run != t->run_id && (rc = ship_run(t, run)) != 0) {
			if (rc < 0)
				pump_soon(t, 2000);
			return;
		}
		memmove(t->others, t->others + 1, --t->n_others * sizeof *t->others);
	}
	t->synced = true;
	pump_soon(t, LINK_IDLE_MS);
}

static void on_pump(struct loop *l, uint64_t id, void *arg)
{
	struct team_link *t = arg;
	(void)l;
	(void)id;
	t->pump_timer = 0;
	t->kicked = false;
	pump(t);
}

static void pump_soon(struct team_link *t, int64_t ms)
{
	if (t->pump_timer && ms > 0)
		return;
	if (t->pump_timer)
		loop_timer_cancel(t->loop, t->pump_timer);
	t->kicked = false;
	t->pump_timer = loop_timer_add(t->loop, ms, on_pump, t);
}

/* ---- the connection ---- */

static void on_ready(void *arg)
{
	struct team_link *t = arg;
	t->requests_wanted = true; /* what came while we were away */
	t->others_at_ms = 0;
	pump_soon(t, 0);
}

static void on_lost(void *arg, const char *msg)
{
	struct team_link *t = arg;
	t->synced = false;
	t->kind = B_NONE;
	snprintf(t->error, sizeof t->error, "%s", msg);
}

static void on_notify(void *arg, const char *channel, const char *payload)
{
	struct team_link *t = arg;
	if (!strcmp(channel, TEAM_CHANNEL_REQUESTS) && !strcmp(payload, t->uuid)) {
		t->requests_wanted = true;
		pump_soon(t, 0);
	}
}

struct team_link *team_link_new(struct loop *l, struct journal *j,
				const char *conninfo, struct err *e)
{
	static const struct team_conn_cb cb = { .ready = on_ready, .lost = on_lost,
						.notify = on_notify };
	static const char *const channels[] = { TEAM_CHANNEL_REQUESTS, NULL };
	struct team_link *t = xcalloc(1, sizeof *t);
	t->loop = l;
	t->j = j;
	t->conn = team_conn_new(l, conninfo, channels, &cb, t, e);
	if (!t->conn) {
		free(t);
		return NULL;
	}
	return t;
}

void team_link_free(struct team_link *t)
{
	if (!t)
		return;
	team_conn_free(t->conn);
	if (t->pump_timer)
		loop_timer_cancel(t->loop, t->pump_timer);
	free(t->batch_ids);
	free(t);
}

int team_link_run(struct team_link *t, int64_t run_id, struct err *e)
{
	if (journal_team_link(t->j, run_id, t->uuid, e) < 0)
		return -1;
	t->run_id = run_id;
	t->synced = false;
	pump_soon(t, 0);
	return 0;
}

void team_link_kick(struct team_link *t)
{
	if (!t)
		return;
	t->synced = false;
	if (t->kind != B_NONE || t->kicked)
		return; /* the round under way or due soon takes it */
	if (t->pump_timer)
		loop_timer_cancel(t->loop, t->pump_timer); /* an idle round's, later */
	t->pump_timer = loop_timer_add(t->loop, LINK_KICK_MS, on_pump, t);
	t->kicked = true;
}

void team_link_flush(struct team_link *t)
{
	if (!t)
		return;
	t->synced = false;
	if (t->kind == B_NONE)
		pump_soon(t, 0);
}

void team_link_on_request(struct team_link *t, team_request_fn *fn, void *arg)
{
	t->req_fn = fn;
	t->req_arg = arg;
	t->requests_wanted = fn != NULL;
	pump_soon(t, 0);
}

void team_link_poll_requests(struct team_link *t)
{
	if (!t)
		return;
	t->requests_wanted = true;
	if (t->kind == B_NONE)
		pump_soon(t, 0);
}

void team_link_view(struct team_link *t, struct team_link_view *v)
{
	memset(v, 0, sizeof *v);
	v->role = team_conn_role(t->conn);
	v->error = t->error[0] ? t->error : team_conn_error(t->conn);
	v->events_shipped = t->shipped;
	v->batches = t->batches;
	struct journal_team_state st;
	struct err e;
	if (t->run_id && journal_team_state(t->j, t->run_id, &st, &e) > 0)
		t->behind = st.head_seq - st.events;
	v->behind = t->behind;
	if (!team_conn_ready(t->conn)) {
		v->since_ms = team_conn_down_since(t->conn);
		v->status = v->since_ms ? TEAM_LINK_UNREACHABLE : TEAM_LINK_CONNECTING;
	} else {
		v->status = t->synced && !t->behind ? TEAM_LINK_SYNCED : TEAM_LINK_BEHIND;
	}
}

void team_link_describe(const struct team_link_view *v, char *buf, size_t n)
{
	char when[16] = "?";
	time_t s = (time_t)(v->since_ms / 1000);
	struct tm tm;
	switch (v->status) {
	case TEAM_LINK_CONNECTING:
		snprintf(buf, n, "team: connecting");
		return;
	case TEAM_LINK_SYNCED:
		snprintf(buf, n, "team: synced");
		return;
	case TEAM_LINK_BEHIND:
		if (v->behind > 0)
			snprintf(buf, n, "team: %lld event%s behind", (long long)v->behind,
				 v->behind == 1 ? "" : "s");
		else
			snprintf(buf, n, "team: shipping output");
		return;
	case TEAM_LINK_UNREACHABLE:
		if (localtime_r(&s, &tm))
			strftime(when, sizeof when, "%H:%M", &tm);
		if (v->behind > 0)
			snprintf(buf, n, "team: unreachable since %s, %lld event%s behind", when,
				 (long long)v->behind, v->behind == 1 ? "" : "s");
		else
			snprintf(buf, n, "team: unreachable since %s", when);
		return;
	}
}

bool team_link_synced(struct team_link *t)
{
	struct team_link_view v;
	team_link_view(t, &v);
	return v.status == TEAM_LINK_SYNCED && t->n_others == 0;
}

const char *team_link_uuid(const struct team_link *t)
{
	return t->uuid;
}
