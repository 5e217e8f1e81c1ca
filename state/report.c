/* report.c: a run's summary derived from its events, and the JSON
 * evidence document. The rules are in state/report.h. */
#include "state/report.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/load.h"
#include "state/events.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* Integers beyond this lose precision as a double (cJSON's numbers). */
#define JSON_EXACT_MAX (1LL << 53)

static const char *const status_names[] = {
	[REPORT_PENDING] = "pending",
	[REPORT_RUNNING] = "running",
	[REPORT_OK] = "ok",
	[REPORT_FAILED] = "failed",
	[REPORT_SKIPPED] = "skipped",
	[REPORT_DONE_BY_HAND] = "done_by_hand",
	[REPORT_INTERRUPTED] = "interrupted",
	[REPORT_CANCELLED] = "cancelled",
	[REPORT_TIMEOUT] = "timeout",
};

const char *report_status_name(enum report_status s)
{
	if ((unsigned)s >= sizeof status_names / sizeof status_names[0])
		return "unknown";
	return status_names[s];
}

int report_status_done(enum report_status s)
{
	return s == REPORT_OK || s == REPORT_SKIPPED || s == REPORT_DONE_BY_HAND;
}

/* ---- payload members ---- */

static const char *member_str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t member_int(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	/* written as !(in range) so that NaN is refused too */
	if (!cJSON_IsNumber(v) ||
	    !(v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18))
		return REPORT_NONE;
	return (int64_t)v->valuedouble;
}

/* 1, 0, or -1 when absent. */
static int member_bool(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsBool(v) ? cJSON_IsTrue(v) : -1;
}

/* Replace an owned string; NULL clears it. */
static void str_set(char **slot, const char *s)
{
	free(*slot);
	*slot = xstrdup_or_null(s);
}

/* ---- steps ---- */

struct builder {
	struct run_report *r;
	size_t cap;
	size_t from_runbook;		/* steps[0, from_runbook) are the runbook's */
	int ended;			/* a run_end event was read */
};

static void stream_unknown(struct report_stream *s)
{
	s->bytes = REPORT_NONE;
	s->sha256[0] = '\0';
	s->truncated = -1;
	s->lost = REPORT_NONE;
}

/* A new step at the end of the list, pending, nothing known. */
static struct report_step *step_add(struct builder *b, int64_t index,
				    const char *id, const char *title)
{
	struct run_report *r = b->r;
	struct report_step *s;

	r->steps = xgrow(r->steps, &b->cap, r->n_steps + 1, sizeof *r->steps);
	s = &r->steps[r->n_steps++];
	memset(s, 0, sizeof *s);
	s->index = index;
	s->id = xstrdup_or_null(id);
	s->title = xstrdup_or_null(title);
	s->status = REPORT_PENDING;
	s->started_ms = s->ended_ms = s->duration_ms = REPORT_NONE;
	s->exit_code = REPORT_NONE;
	stream_unknown(&s->out);
	stream_unknown(&s->err);
	return s;
}

/* The steps of the stored runbook, if it still loads at all (a runbook
 * with semantic errors still has its steps). */
static void steps_from_runbook(struct builder *b)
{
	const struct journal_run *run = &b->r->run;
	struct runbook *rb;
	struct diags d;

	if (!run->runbook_text)
		return;
	diags_init(&d);
	rb = runbook_load_buffer(run->runbook_path, run->runbook_text,
				 run->runbook_len, RUNBOOK_AUTO, &d);
	diags_release(&d);
	if (!rb)
		return;
	for (size_t i = 0; i < rb->n_steps; i++)
		step_add(b, (int64_t)i, rb->steps[i].id, rb->steps[i].title);
	b->from_runbook = rb->n_steps;
	b->r->runbook_loaded = 1;
	runbook_free(rb);
}

/* By step_id as resume does, else by index; a step the runbook does not
 * have (or every step, when it did not load) is added as it appears. */
static struct report_step *step_find(struct builder *b, int64_t index,
				     const cJSON *p)
{
	struct run_report *r = b->r;
	const char *id = member_str(p, "step_id");

	for (size_t i = 0; i < r->n_steps; i++) {
		const struct report_step *s = &r->steps[i];
		if (id ? s->id && !strcmp(s->id, id) : s->index == index)
			return &r->steps[i];
	}
	return step_add(b, index, id, NULL);
}

static void attempt_reset(struct report_step *s)
{
	s->ended_ms = s->duration_ms = s->exit_code = REPORT_NONE;
	str_set(&s->summary, NULL);
	stream_unknown(&s->out);
	stream_unknown(&s->err);
}

static void stream_from(struct report_stream *s, const cJSON *p,
			const char *name)
{
	char key[32];
	const char *sha;

	snprintf(key, sizeof key, "%s_bytes", name);
	s->bytes = member_int(p, key);
	snprintf(key, sizeof key, "%s_sha256", name);
	sha = member_str(p, key);
	snprintf(s->sha256, sizeof s->sha256, "%s", sha ? sha : "");
	snprintf(key, sizeof key, "%s_truncated", name);
	s->truncated = member_bool(p, key);
	snprintf(key, sizeof key, "%s_lost", name);
	s->lost = member_int(p, key);
}

/* step_end's status; anything unknown counts as failed. */
static enum report_status end_status(const cJSON *p)
{
	const char *st = member_str(p, "status");

	if (st && !strcmp(st, "ok"))
		return REPORT_OK;
	if (st && !strcmp(st, "timeout"))
		return REPORT_TIMEOUT;
	if (st && !strcmp(st, "cancelled"))
		return REPORT_CANCELLED;
	return REPORT_FAILED;
}

static void step_started(struct report_step *s, const struct journal_event *ev,
			 const cJSON *p)
{
	int64_t attempt = member_int(p, "attempt");

	if (attempt != REPORT_NONE && attempt > s->attempts && attempt < 1000000)
		s->attempts = (int)attempt;
	else
		s->attempts++;
	if (s->started_ms == REPORT_NONE)
		s->started_ms = ev->wall_ms;
	s->status = REPORT_RUNNING;
	attempt_reset(s);
}

static void step_ended(struct report_step *s, const struct journal_event *ev,
		       const cJSON *p)
{
	s->status = end_status(p);
	s->ended_ms = ev->wall_ms;
	s->duration_ms = member_int(p, "duration_ms");
	s->exit_code = member_int(p, "exit_code");
	str_set(&s->summary, member_str(p, "summary"));
	stream_from(&s->out, p, "stdout");
	stream_from(&s->err, p, "stderr");
}

/* Operator closes: skipped or done by hand, with the reason or note. */
static void step_closed(struct report_step *s, const struct journal_event *ev,
			enum report_status st, const char *detail)
{
	s->status = st;
	s->ended_ms = ev->wall_ms;
	str_set(&s->detail, detail);
}

/* Returns 0 when `type` is not a step event. */
static int step_apply(struct builder *b, const struct journal_event *ev,
		      const cJSON *p)
{
	const char *t = ev->type;
	struct report_step *s;

	if (strcmp(t, EV_STEP_CONFIRM) && strcmp(t, EV_STEP_START) &&
	    strcmp(t, EV_STEP_END) && strcmp(t, EV_STEP_SKIP) &&
	    strcmp(t, EV_STEP_DONE_BY_HAND) && strcmp(t, EV_STEP_INTERRUPTED))
		return 0;
	s = step_find(b, ev->step, p);
	if (!strcmp(t, EV_STEP_CONFIRM)) {
		str_set(&s->confirmed_by, ev->actor);
		str_set(&s->confirmed_how, member_str(p, "how"));
	} else if (!strcmp(t, EV_STEP_START)) {
		step_started(s, ev, p);
	} else if (!strcmp(t, EV_STEP_END)) {
		step_ended(s, ev, p);
	} else if (!strcmp(t, EV_STEP_SKIP)) {
		step_closed(s, ev, REPORT_SKIPPED, member_str(p, "reason"));
	} else if (!strcmp(t, EV_STEP_DONE_BY_HAND)) {
		step_closed(s, ev, REPORT_DONE_BY_HAND, member_str(p, "note"));
	} else {
		s->status = REPORT_INTERRUPTED;
	}
	return 1;
}

static void note_add(struct builder *b, const struct journal_event *ev,
		     const cJSON *p)
{
	struct run_report *r = b->r;
	struct report_note *n;
	const char *text = member_str(p, "text");

	r->notes = xrealloc(r->notes, (r->n_notes + 1) * sizeof *r->notes);
	n = &r->notes[r->n_notes++];
	n->seq = ev->seq;
	n->wall_ms = ev->wall_ms;
	n->step = ev->step;
	n->actor = xstrdup(ev->actor);
	n->text = xstrdup(text ? text : "");
}

static int report_event(const struct journal_event *ev, void *ctx)
{
	struct builder *b = ctx;
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");

	b->r->n_events++;
	b->r->head.seq = ev->seq;
	snprintf(b->r->head.hash, sizeof b->r->head.hash, "%s", ev->hash);
	if (!strcmp(ev->type, EV_RUN_END))
		b->ended = 1;
	else if (!strcmp(ev->type, EV_NOTE))
		note_add(b, ev, p);
	else if (ev->step >= 0)
		step_apply(b, ev, p);
	cJSON_Delete(p);
	return 0;
}

/* Steps only the events know go after the runbook's, by index. */
static int step_cmp(const void *a, const void *b)
{
	const struct report_step *x = a, *y = b;

	if (x->index != y->index)
		return x->index < y->index ? -1 : 1;
	return strcmp(x->id ? x->id : "", y->id ? y->id : "");
}

/* What the events cannot say alone: a step never ended is running only
 * while the run is. */
static void report_settle(struct builder *b)
{
	struct run_report *r = b->r;
	int over = b->ended || r->run.outcome;

	qsort(r->steps + b->from_runbook, r->n_steps - b->from_runbook,
	      sizeof *r->steps, step_cmp);
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].status == REPORT_RUNNING && over)
			r->steps[i].status = REPORT_INTERRUPTED;
}

int report_load(struct journal *j, int64_t run_id, struct run_report *out,
		struct err *e)
{
	struct builder b = { .r = out };
	int rc;

	memset(out, 0, sizeof *out);
	rc = journal_run_get(j, run_id, &out->run, e);
	if (rc <= 0)
		return rc;
	steps_from_runbook(&b);
	if (journal_events_each(j, run_id, 0, report_event, &b, e) < 0) {
		report_release(out);
		return -1;
	}
	report_settle(&b);
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
		free(s->summary);
		free(s->detail);
	}
	free(r->steps);
	for (size_t i = 0; i < r->n_notes; i++) {
		free(r->notes[i].actor);
		free(r->notes[i].text);
	}
	free(r->notes);
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
	cJSON_AddStringToObject(o, "status", report_status_name(s->status));
	json_time(o, "started_at", s->started_ms);
	json_time(o, "ended_at", s->ended_ms);
	json_int(o, "duration_ms", s->duration_ms);
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

int report_export_json(struct journal *j, const struct run_report *r,
		       struct buf *out, struct err *e)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *steps = cJSON_CreateArray();
	struct export_ctx c = { .last_seq = r->head.seq };
	char *text;
	int rc;

	cJSON_AddItemToObject(doc, "run", run_json(&r->run));
	for (size_t i = 0; i < r->n_steps; i++)
		cJSON_AddItemToArray(steps, step_json(&r->steps[i]));
	cJSON_AddItemToObject(doc, "steps", steps);
	c.events = cJSON_AddArrayToObject(doc, "events");
	rc = journal_events_each(j, r->run.id, 0, event_json_add, &c, e);
	if (rc < 0) {
		cJSON_Delete(doc);
		return -1;
	}
	cJSON_AddItemToObject(doc, "head", head_json(&r->head));
	text = cJSON_Print(doc);
	cJSON_Delete(doc);
	if (!text)
		return err_set(e, "cannot format the evidence document");
	rc = buf_adds(out, text) < 0 || buf_addc(out, '\n') < 0 ?
		err_set(e, "the evidence document is too large") : 0;
	cJSON_free(text);
	return rc;
}
