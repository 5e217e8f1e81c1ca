/* run_notify.c: the runbook's notify: webhook, told of the run as it goes
 * — its start and each resume, each step's end (skips, done by hand and
 * interruptions included; failures say so first), and its end with the
 * objectives and the journal head.
 *
 * It listens to the run's journaled events by standing between the run
 * and the front end's listener, so every front end gets it, and it only
 * queues messages (state/notify.h): nothing a step does waits for a
 * webhook. A message that finally fails is journaled as notify_failed
 * (the front end shows it like any event) while the run is open; after
 * run_end nothing can be journaled, so it is kept for the front end to
 * say on leaving (run_notify_lost). The URL is registered as a secret:
 * output that prints it is redacted like a secret variable's value. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/vars.h"
#include "state/events.h"
#include "state/notify.h"
#include "state/report.h"
#include "state/run_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

struct run_notify {
	struct run *run;
	struct notifier *n;
	struct run_listener front;
	char *setup_error; /* journaled with the first event */
	size_t lost;       /* failures after the run ended */
	char lost_why[256];
};

/* ---- the messages ---- */

static void step_name(const struct run *r, int64_t step, struct buf *b)
{
	const struct runbook *rb = r->rb;
	if (step < 0 || (size_t)step >= rb->n_steps) {
		buf_addf(b, "step %lld", (long long)step + 1);
		return;
	}
	buf_addf(b, "step %lld/%zu %s", (long long)step + 1, rb->n_steps, rb->steps[step].id);
	if (rb->steps[step].title && strcmp(rb->steps[step].title, rb->steps[step].id))
		buf_addf(b, " (%s)", rb->steps[step].title);
}

static const char *member(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t member_int(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

static void duration_add(struct buf *b, int64_t ms)
{
	char words[32];
	clock_duration_words(ms < 0 ? 0 : ms, words, sizeof words);
	buf_adds(b, words);
}

static void step_end_text(const struct run *r, const struct journal_event *ev,
			  const cJSON *p, struct buf *b)
{
	const char *status = member(p, "status") ? member(p, "status") : "unknown";
	bool ok = !strcmp(status, "ok");

	buf_adds(b, ok ? "" : "FAILED: ");
	step_name(r, ev->step, b);
	buf_addf(b, " %s in ", status);
	duration_add(b, member_int(p, "duration_ms"));
	if (member_int(p, "exit_code") >= 0 && !ok)
		buf_addf(b, ", exit %lld", (long long)member_int(p, "exit_code"));
	if (member_int(p, "attempt") > 1)
		buf_addf(b, ", attempt %lld", (long long)member_int(p, "attempt"));
	const char *summary = member(p, "summary");
	char plain[32];
	snprintf(plain, sizeof plain, "exit %lld", (long long)member_int(p, "exit_code"));
	if (!ok && summary && *summary && strcmp(summary, plain))
		buf_addf(b, ": %s", summary);
}

/* The objectives as the evidence document states them. */
static void objectives_text(struct run *r, struct buf *b)
{
	struct run_report rep;
	struct buf doc;
	struct err e;
	static const char *const names[] = { "rto", "rpo" };

	if (report_load(r->j, r->id, &rep, &e) <= 0)
		return;
	buf_init(&doc, BUF_UNLIMITED);
	cJSON *o = report_export_json(r->j, &rep, &doc, &e) == 0 ? cJSON_Parse(doc.data) : NULL;
	for (size_t i = 0; o && i < 2; i++) {
		struct buf w;
		buf_init(&w, 512);
		if (report_objective_words(o, names[i], &w))
			buf_addf(b, "; %s", w.data);
		buf_release(&w);
	}
	cJSON_Delete(o);
	buf_release(&doc);
	report_release(&rep);
}

static void run_end_text(struct run *r, const struct journal_event *ev, const cJSON *p,
			 struct buf *b)
{
	buf_addf(b, "run ended: %s after ", member(p, "outcome") ? member(p, "outcome") : "?");
	duration_add(b, member_int(p, "duration_ms"));
	objectives_text(r, b);
	buf_addf(b, "; journal head %lld:%lld:%s", (long long)r->id, (long long)ev->seq, ev->hash);
}

/* What the event says, in one message; false for events not notified. */
static bool message(struct run *r, const struct journal_event *ev, const cJSON *p,
		    struct buf *b)
{
	const char *t = ev->type;
	const struct run_fold *f = &r->fold;

	buf_addf(b, "qrh run %lld (%s): ", (long long)r->id, r->rb->title ? r->rb->title : "");
	if (!strcmp(t, EV_RUN_START)) {
		buf_addf(b, "started by %s on %s, %s run", ev->actor,
			 r->opts.host ? r->opts.host : "?", r->opts.mode == RUN_DRILL ? "a drill"
			 : r->opts.mode == RUN_DRY ? "a dry" : "a live");
	} else if (!strcmp(t, EV_RUN_RESUME)) {
		buf_addf(b, "resumed by %s", ev->actor);
		if (f->n_segments > 1 && strcmp(f->segments[f->n_segments - 2].actor, ev->actor))
			buf_addf(b, ": a handover from %s", f->segments[f->n_segments - 2].actor);
	} else if (!strcmp(t, EV_STEP_END)) {
		step_end_text(r, ev, p, b);
	} else if (!strcmp(t, EV_STEP_SKIP) || !strcmp(t, EV_STEP_DONE_BY_HAND)) {
		bool skip = !strcmp(t, EV_STEP_SKIP);
		step_name(r, ev->step, b);
		buf_addf(b, " %s by %s: %s", skip ? "skipped" : "done by hand", ev->actor,
			 member(p, skip ? "reason" : "note") ? member(p, skip ? "reason" : "note") : "");
	} else if (!strcmp(t, EV_STEP_INTERRUPTED)) {
		buf_adds(b, "FAILED: ");
		step_name(r, ev->step, b);
		buf_adds(b, " interrupted: qrh stopped while it ran, its outcome is unknown");
	} else if (!strcmp(t, EV_RUN_END)) {
		run_end_text(r, ev, p, b);
	} else {
		return false;
	}
	return true;
}

/* ---- failures ---- */

static void on_failed(void *arg, const char *what, const char *step_id, int attempts,
		      const char *why)
{
	struct run_notify *rn = arg;
	struct run *r = rn->run;
	struct err e;

	if (r->ended || r->journal_broken || !r->j) {
		rn->lost++;
		snprintf(rn->lost_why, sizeof rn->lost_why, "the %s notification: %s", what, why);
		return;
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "what", what);
	if (step_id)
		cJSON_AddStringToObject(p, "step_id", step_id);
	cJSON_AddNumberToObject(p, "attempts", attempts);
	cJSON_AddStringToObject(p, "error", why);
	run_emit(r, -1, EV_NOTIFY_FAILED, NULL, p, &e);
}

static void on_event(struct run_notify *rn, const struct journal_event *ev)
{
	struct run *r = rn->run;
	struct buf b;
	struct err e;

	if (rn->setup_error && (!strcmp(ev->type, EV_RUN_START) || !strcmp(ev->type, EV_RUN_RESUME))) {
		cJSON *p = cJSON_CreateObject();
		cJSON_AddStringToObject(p, "what", "setup");
		cJSON_AddNumberToObject(p, "attempts", 0);
		cJSON_AddStringToObject(p, "error", rn->setup_error);
		free(rn->setup_error);
		rn->setup_error = NULL;
		run_emit(r, -1, EV_NOTIFY_FAILED, NULL, p, &e);
	}
	if (!rn->n)
		return;
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	buf_init(&b, 8192);
	if (message(r, ev, p, &b)) {
		char *clean = run_redact(r, b.data);
		const char *id = ev->step >= 0 && (size_t)ev->step < r->rb->n_steps
					 ? r->rb->steps[ev->step].id : NULL;
		notifier_send(rn->n, ev->type, id, clean);
		free(clean);
	}
	buf_release(&b);
	cJSON_Delete(p);
}

/* ---- standing between the run and the front end ---- */

static void tee_event(void *arg, const struct journal_event *ev)
{
	struct run_notify *rn = arg;
	if (rn->front.event)
		rn->front.event(rn->front.arg, ev);
	on_event(rn, ev);
}

static void tee_output(void *arg, const struct run_chunk *c)
{
	struct run_notify *rn = arg;
	if (rn->front.output)
		rn->front.output(rn->front.arg, c);
}

static void tee_task(void *arg, const struct run_task_view *t)
{
	struct run_notify *rn = arg;
	if (rn->front.task)
		rn->front.task(rn->front.arg, t);
}

static void tee_step_done(void *arg, size_t step)
{
	struct run_notify *rn = arg;
	if (rn->front.step_done)
		rn->front.step_done(rn->front.arg, step);
}

static void tee_journal_failed(void *arg, const char *msg)
{
	struct run_notify *rn = arg;
	if (rn->front.journal_failed)
		rn->front.journal_failed(rn->front.arg, msg);
}

/* The webhook's URL: the secret variable's value or the environment's. */
static char *url_resolve(struct run *r, struct err *e)
{
	struct buf b;

	buf_init(&b, 8192);
	if (vars_expand(r->rb->notify.url, run_lookup, r, &b, e) < 0) {
		buf_release(&b);
		return NULL;
	}
	if (!b.len) {
		buf_release(&b);
		err_set(e, "the webhook URL (%s) is empty", r->rb->notify.url);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

void run_notify_attach(struct run *r)
{
	const struct notify *cfg = &r->rb->notify;
	struct run_notify *rn;
	struct err e;

	if (!cfg->url || r->notify)
		return;
	rn = xcalloc(1, sizeof *rn);
	rn->run = r;
	rn->front = r->lis;
	char *url = url_resolve(r, &e);
	if (url) {
		struct notify_opts o = { cfg->timeout_ms, cfg->retries, cfg->backoff_ms };
		values_add_hidden(&r->values, url);
		rn->n = notifier_new(r->loop, url, &o, on_failed, rn, &e);
		explicit_bzero(url, strlen(url));
		free(url);
	}
	if (!rn->n)
		rn->setup_error = xstrdup(e.msg);
	r->notify = rn;
	r->lis = (struct run_listener){
		.event = tee_event, .output = tee_output, .task = tee_task,
		.step_done = tee_step_done, .journal_failed = tee_journal_failed, .arg = rn,
	};
}

void run_notify_free(struct run *r)
{
	struct run_notify *rn = r->notify;
	if (!rn)
		return;
	notifier_free(rn->n);
	free(rn->setup_error);
	r->lis = rn->front;
	free(rn);
	r->notify = NULL;
}

void run_notify_leave(struct run *r)
{
	struct journal_head h;
	struct err e;
	struct buf b;

	if (!r->notify || !r->notify->n || r->ended || !r->j ||
	    journal_head(r->j, r->id, &h, &e) < 0)
		return;
	buf_init(&b, 1024);
	buf_addf(&b, "qrh run %lld (%s): left unfinished by %s, to be resumed; journal head "
		 "%lld:%lld:%s", (long long)r->id, r->rb->title ? r->rb->title : "", r->actor,
		 (long long)r->id, (long long)h.seq, h.hash);
	char *clean = run_redact(r, b.data);
	notifier_send(r->notify->n, "leave", NULL, clean);
	free(clean);
	buf_release(&b);
}

size_t run_notify_pending(const struct run *r)
{
	return r->notify ? notifier_pending(r->notify->n) : 0;
}

size_t run_notify_lost(const struct run *r, const char **why)
{
	if (!r->notify || !r->notify->lost)
		return 0;
	*why = r->notify->lost_why;
	return r->notify->lost;
}
