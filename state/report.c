/* report.c: a run's summary derived from its events, and the JSON
 * evidence document. The rules are in state/report.h. */
#include "state/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/load.h"
#include "state/events.h"
#include "state/score.h"
#include "state/report_json.h"
#include "state/report_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Integers beyond this lose precision as a double (cJSON's numbers). */
#define JSON_EXACT_MAX (1LL << 53)

/* ---- the report, from the fold ---- */

/* The steps of the stored runbook, if it still loads at all (a runbook
 * with semantic errors still has its steps). */
static struct runbook *stored_runbook(const struct journal_run *run)
{
	struct diags d;
	if (!run->runbook_text)
		return NULL;
	diags_init(&d);
	struct runbook *rb = runbook_load_buffer(run->runbook_path, run->runbook_text,
						 run->runbook_len, RUNBOOK_AUTO, &d);
	diags_release(&d);
	return rb;
}

static void stream_set(struct report_stream *out, const struct fold_stream *in)
{
	out->bytes = in->known ? in->bytes : REPORT_NONE;
	snprintf(out->sha256, sizeof out->sha256, "%s", in->known ? in->sha256 : "");
	out->truncated = in->known ? in->truncated : -1;
	out->lost = in->known ? in->lost : REPORT_NONE;
}

/* The last attempt's streams: a legacy step_end's, or the sum over the
 * tasks of that attempt (one task: its hash too). */
static void streams_of(const struct run_fold *f, size_t i, struct report_step *rs)
{
	const struct fold_step *fs = &f->steps[i];
	stream_set(&rs->out, &fs->legacy[1]);
	stream_set(&rs->err, &fs->legacy[2]);
	if (fs->legacy[1].known)
		return;
	size_t tasks = 0;
	for (size_t k = 0; k < f->n_tasks; k++) {
		const struct fold_task *t = &f->tasks[k];
		if (t->step != (int64_t)i || t->attempt != fs->st.attempt ||
		    t->role == FOLD_TASK_BACKGROUND || !t->out[1].known)
			continue;
		struct report_stream *o[2] = { &rs->out, &rs->err };
		for (int s = 0; s < 2; s++) {
			const struct fold_stream *in = &t->out[s + 1];
			if (!tasks) {
				stream_set(o[s], in);
			} else {
				o[s]->bytes += in->bytes;
				o[s]->sha256[0] = '\0';
				o[s]->truncated = o[s]->truncated || in->truncated;
				if (in->lost != REPORT_NONE)
					o[s]->lost = (o[s]->lost == REPORT_NONE ? 0 : o[s]->lost) + in->lost;
			}
		}
		tasks++;
	}
}

static char *dup_or_null(const char *s)
{
	return s && *s ? xstrdup(s) : NULL;
}

static void step_from_fold(const struct run_fold *f, size_t i, int over,
			   struct report_step *rs)
{
	const struct fold_step *fs = &f->steps[i];
	const struct step_state *st = &fs->st;
	memset(rs, 0, sizeof *rs);
	rs->index = fs->index;
	rs->id = fs->id ? xstrdup(fs->id) : NULL;
	rs->title = fs->title ? xstrdup(fs->title) : NULL;
	rs->status = st->status == STEP_RUNNING && over ? STEP_INTERRUPTED : st->status;
	rs->started_ms = st->started_wall_ms;
	rs->ended_ms = st->status == STEP_RUNNING ? REPORT_NONE : st->ended_wall_ms;
	rs->duration_ms = st->duration_ms;
	rs->elapsed_ms = st->elapsed_ms;
	rs->attempts = st->attempt;
	rs->exit_code = st->exit_code;
	rs->confirmed_by = dup_or_null(st->confirmed_by);
	rs->confirmed_how = dup_or_null(st->confirmed_how);
	rs->closed_by = dup_or_null(st->closed_by);
	rs->summary = dup_or_null(st->summary);
	rs->detail = st->detail ? xstrdup(st->detail) : NULL;
	rs->state = st;
	streams_of(f, i, rs);
}

/* Steps only the events know go after the runbook's, by index. */
static int step_cmp(const void *a, const void *b)
{
	const struct report_step *x = a, *y = b;
	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

int report_load(struct journal *j, int64_t run_id, struct run_report *out,
		struct err *e)
{
	memset(out, 0, sizeof *out);
	int rc = journal_run_get(j, run_id, &out->run, e);
	if (rc <= 0)
		return rc;
	struct runbook *rb = stored_runbook(&out->run);
	out->runbook_loaded = rb != NULL;
	fold_init(&out->fold, rb);
	runbook_free(rb);
	if (journal_events_each(j, run_id, 0, fold_event_cb, &out->fold, e) < 0) {
		report_release(out);
		return -1;
	}
	const struct run_fold *f = &out->fold;
	int over = f->ended || out->run.outcome;
	out->n_steps = f->n_steps;
	out->steps = xcalloc(f->n_steps ? f->n_steps : 1, sizeof *out->steps);
	for (size_t i = 0; i < f->n_steps; i++)
		step_from_fold(f, i, over, &out->steps[i]);
	qsort(out->steps + f->from_runbook, f->n_steps - f->from_runbook,
	      sizeof *out->steps, step_cmp);
	out->n_notes = f->n_notes;
	out->notes = xcalloc(f->n_notes ? f->n_notes : 1, sizeof *out->notes);
	for (size_t i = 0; i < f->n_notes; i++) {
		out->notes[i] = (struct report_note){
			.seq = f->notes[i].seq, .wall_ms = f->notes[i].wall_ms,
			.step = f->notes[i].step, .actor = xstrdup(f->notes[i].actor),
			.text = xstrdup(f->notes[i].text),
		};
	}
	out->n_events = f->n_events;
	out->head = f->head;
	if (report_probes_load(j, out, e) < 0) {
		report_release(out);
		return -1;
	}
	return 1;
}

void report_release(struct run_report *r)
{
	for (size_t i = 0; i < r->n_steps; i++) {
		struct report_step *s = &r->steps[i];
		free(s->id);
		free(s->title);
		free(s->confirmed_by);
		free(s->confirmed_how);
		free(s->closed_by);
		free(s->summary);
		free(s->detail);
	}
	free(r->steps);
	for (size_t i = 0; i < r->n_notes; i++) {
		free(r->notes[i].actor);
		free(r->notes[i].text);
	}
	free(r->notes);
	free(r->probes);
	fold_release(&r->fold);
	journal_run_release(&r->run);
	memset(r, 0, sizeof *r);
}

/* ---- the JSON evidence document ---- */

/* Exact for any int64: past 2^53 the digits go in as a raw literal, since
 * a double would round them (mono_ns after 104 days of uptime). */
static void json_int(cJSON *o, const char *key, int64_t v)
{
	char digits[24];

	if (v == REPORT_NONE) {
		cJSON_AddNullToObject(o, key);
	} else if (v <= JSON_EXACT_MAX && v >= -JSON_EXACT_MAX) {
		cJSON_AddNumberToObject(o, key, (double)v);
	} else {
		snprintf(digits, sizeof digits, "%lld", (long long)v);
		cJSON_AddRawToObject(o, key, digits);
	}
}

static void json_str(cJSON *o, const char *key, const char *s)
{
	if (s)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

/* Hashes are fixed-size arrays: "" is the absent one. */
static void json_hash(cJSON *o, const char *key, const char *hex)
{
	json_str(o, key, hex[0] ? hex : NULL);
}

/* RFC 3339 with milliseconds; 0 and REPORT_NONE are "never". */
static void json_time(cJSON *o, const char *key, int64_t wall_ms)
{
	char t[RFC3339_MS_LEN];

	if (wall_ms == REPORT_NONE || wall_ms == 0) {
		cJSON_AddNullToObject(o, key);
		return;
	}
	clock_rfc3339_ms(wall_ms, t);
	cJSON_AddStringToObject(o, key, t);
}

static void json_bool(cJSON *o, const char *key, int v)
{
	if (v < 0)
		cJSON_AddNullToObject(o, key);
	else
		cJSON_AddBoolToObject(o, key, v);
}

/* The same formatting for the members state/report_evidence.c adds. */
void report_json_int(cJSON *o, const char *key, int64_t v)
{
	json_int(o, key, v);
}

void report_json_str(cJSON *o, const char *key, const char *s)
{
	json_str(o, key, s);
}

void report_json_time(cJSON *o, const char *key, int64_t wall_ms)
{
	json_time(o, key, wall_ms);
}

static cJSON *run_json(const struct journal_run *run)
{
	cJSON *o = cJSON_CreateObject();

	json_int(o, "id", run->id);
	json_str(o, "runbook", run->runbook_path);
	json_hash(o, "runbook_sha256", run->runbook_sha256);
	json_str(o, "title", run->title);
	json_str(o, "operator", run->operator_name);
	json_str(o, "host", run->host);
	json_str(o, "mode", run->mode);
	json_time(o, "started_at", run->started_ms);
	json_time(o, "ended_at", run->ended_ms);
	json_str(o, "outcome", run->outcome);
	return o;
}

static cJSON *confirmed_json(const struct report_step *s)
{
	cJSON *o;

	if (!s->confirmed_by)
		return cJSON_CreateNull();
	o = cJSON_CreateObject();
	json_str(o, "actor", s->confirmed_by);
	json_str(o, "how", s->confirmed_how);
	return o;
}

static cJSON *step_json(const struct report_step *s)
{
	cJSON *o = cJSON_CreateObject();

	json_int(o, "index", s->index);
	json_str(o, "id", s->id);
	json_str(o, "title", s->title);
	cJSON_AddStringToObject(o, "status", step_status_name(s->status));
	json_time(o, "started_at", s->started_ms);
	json_time(o, "ended_at", s->ended_ms);
	json_int(o, "duration_ms", s->duration_ms);
	json_int(o, "elapsed_ms", s->elapsed_ms);
	json_int(o, "attempts", s->attempts);
	json_int(o, "exit_code", s->exit_code);
	cJSON_AddItemToObject(o, "confirmed_by", confirmed_json(s));
	json_int(o, "output_bytes", s->out.bytes);
	json_hash(o, "output_sha256", s->out.sha256);
	json_bool(o, "output_truncated", s->out.truncated);
	if (s->out.lost != REPORT_NONE)
		json_int(o, "output_lost_bytes", s->out.lost);
	json_int(o, "stderr_bytes", s->err.bytes);
	json_hash(o, "stderr_sha256", s->err.sha256);
	if (s->err.lost != REPORT_NONE)
		json_int(o, "stderr_lost_bytes", s->err.lost);
	return o;
}

struct export_ctx {
	cJSON *events;
	int64_t last_seq;
};

/* A payload that does not parse (a forged row) goes in as its text. */
static cJSON *payload_json(const char *text)
{
	cJSON *p = cJSON_Parse(text ? text : "{}");

	return p ? p : cJSON_CreateString(text);
}

static int event_json_add(const struct journal_event *ev, void *ctx)
{
	struct export_ctx *c = ctx;
	cJSON *o;

	if (ev->seq > c->last_seq)
		return 1;
	o = cJSON_CreateObject();
	json_int(o, "seq", ev->seq);
	json_time(o, "time", ev->wall_ms);
	json_int(o, "mono_ns", ev->mono_ns);
	json_int(o, "step", ev->step < 0 ? REPORT_NONE : ev->step);
	json_str(o, "type", ev->type);
	json_str(o, "actor", ev->actor);
	cJSON_AddItemToObject(o, "payload", payload_json(ev->payload));
	json_hash(o, "prev_hash", ev->prev_hash);
	json_hash(o, "hash", ev->hash);
	cJSON_AddItemToArray(c->events, o);
	return 0;
}

static cJSON *head_json(const struct journal_head *h)
{
	cJSON *o = cJSON_CreateObject();

	json_int(o, "seq", h->seq);
	json_str(o, "hash", h->seq ? h->hash : NULL);
	return o;
}

/* Who ran the run: its start and each resume; another operator than the
 * one before is a handover. */
static cJSON *sessions_json(const struct run_fold *f)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < f->n_segments; i++) {
		const struct fold_segment *s = &f->segments[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "kind", s->resume ? "resume" : "start");
		json_int(o, "seq", s->seq);
		json_time(o, "at", s->first_wall_ms);
		json_str(o, "operator", s->actor);
		json_str(o, "os_user", s->os_user);
		cJSON_AddBoolToObject(o, "handover",
				      i > 0 && strcmp(f->segments[i - 1].actor, s->actor) != 0);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

static cJSON *operators_json(const struct run_fold *f)
{
	const char *names[64];
	size_t n = fold_operators(f, names, 64);
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(names[i]));
	return a;
}

int report_export_json(struct journal *j, const struct run_report *r,
		       struct buf *out, struct err *e)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *steps = cJSON_CreateArray();
	struct export_ctx c = { .last_seq = r->head.seq };
	char *text;
	int rc;

	cJSON_AddItemToObject(doc, "run", run_json(&r->run));
	cJSON_AddItemToObject(doc, "operators", operators_json(&r->fold));
	cJSON_AddItemToObject(doc, "sessions", sessions_json(&r->fold));
	json_int(cJSON_GetObjectItemCaseSensitive(doc, "run"), "elapsed_ms",
		 fold_elapsed_ms(&r->fold));
	for (size_t i = 0; i < r->n_steps; i++)
		cJSON_AddItemToArray(steps, step_json(&r->steps[i]));
	cJSON_AddItemToObject(doc, "steps", steps);
	report_probes_json(r, doc);
	c.events = cJSON_AddArrayToObject(doc, "events");
	rc = journal_events_each(j, r->run.id, 0, event_json_add, &c, e);
	if (rc < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	if (r->run.mode && !strcmp(r->run.mode, "drill")) {
		struct drill_score sc;
		if (score_load(j, r, &sc, e) < 0) {
			cJSON_Delete(doc);
			return -1;
		}
		cJSON_AddItemToObject(doc, "score", score_json(&sc, !sc.ended));
		score_release(&sc);
	}
	cJSON_AddItemToObject(doc, "head", head_json(&r->head));
	if (report_evidence_json(j, r, doc, e) < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!text)
		return err_set(e, "cannot format the evidence document");
	rc = buf_adds(out, text) < 0 || buf_addc(out, '\n') < 0 ?
		err_set(e, "the evidence document is too large") : 0;
	cJSON_free(text);
	return rc;
}
