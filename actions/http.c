/* The http kind: one request, or a wait that repeats a request until its
 * response meets the condition (until=, with every= and within=).
 *
 * Requests run on the run's libcurl multi handle (the kind's state, see
 * http_multi.h), so nothing blocks the loop. Each attempt is a fresh
 * connection with a fresh name lookup (http_request.h).
 *
 * Wait timing: attempt N+1 starts `every` after attempt N started, or at
 * once when N took longer than that; attempts never overlap. No attempt
 * starts after `within` has passed, and each is cut off where `within`
 * ends, so a wait takes at most `within` (plus the loop's latency).
 *
 * Output: the response's body goes to stdout (what a capture= reads);
 * status lines, one line per attempt, and notes (TLS not verified, body
 * cut, redirect not followed) go to stderr. Live values after each
 * attempt: {attempts, status, latency_ms, error}. Result values: see
 * make_values() and man/qrh-runbook.5. */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "actions/http_expect.h"
#include "actions/http_multi.h"
#include "actions/http_request.h"
#include "runbooks/duration.h"
#include "util/clock.h"
#include "util/utf8.h"
#include "util/xalloc.h"

#define HTTP_DEFAULT_EVERY_MS 1000
#define HTTP_EXCERPT_BYTES 200

struct action_kind_state {
	struct http_multi *multi;
};

struct action_run {
	struct action_ctx ctx;
	struct http_multi *multi;
	struct http_multi *own; /* when the engine keeps no kind state */
	struct http_request rq;
	struct http_expect ex;
	char *shown_url; /* without user info and query: for the values */
	bool wait;
	int64_t every_ms;
	int64_t within_ms; /* -1: until the engine's deadline */
	int64_t t0_ns;

	struct http_call call; /* the attempt in flight */
	bool in_flight;
	int64_t attempt_t0_ns;
	uint64_t timer; /* the next attempt */

	int attempts;
	struct http_response last; /* the last finished attempt's */
	bool have_last;
	bool last_ok;
	struct buf why; /* why the last attempt did not meet the condition */
	int64_t down_at_ms, last_down_ms, first_ok_ms; /* -1: not seen */

	bool warned_tls;
	bool ended; /* done delivered or scheduled */
	bool *gone; /* set when freed during a call into the sink */
	struct action_later later;
};

static int64_t since_ms(int64_t from_ns)
{
	return (clock_mono_ns() - from_ns) / 1000000;
}

/* ---- calling out (the engine may free the run inside any call) ---- */

static bool emit(struct action_run *r, enum proc_stream s, const char *data,
		 size_t len)
{
	bool gone = false;
	if (!len)
		return true;
	r->gone = &gone;
	r->ctx.sink.output(r->ctx.sink.arg, s, data, len);
	if (gone)
		return false;
	r->gone = NULL;
	return true;
}

static bool emitf(struct action_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static bool emitf(struct action_run *r, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, 8192);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	bool alive = emit(r, PROC_STDERR, b.data, b.len);
	buf_release(&b);
	return alive;
}

static bool progress(struct action_run *r)
{
	bool gone = false;
	if (!r->ctx.sink.progress)
		return true;
	cJSON *v = cJSON_CreateObject();
	cJSON_AddNumberToObject(v, "attempts", r->attempts);
	if (r->last.status)
		cJSON_AddNumberToObject(v, "status", (double)r->last.status);
	else
		cJSON_AddNullToObject(v, "status");
	cJSON_AddNumberToObject(v, "latency_ms", (double)r->last.latency_ms);
	if (r->last.rc != CURLE_OK)
		cJSON_AddStringToObject(v, "error", r->last.error);
	else if (!r->last_ok)
		cJSON_AddStringToObject(v, "error", r->why.data);
	r->gone = &gone;
	r->ctx.sink.progress(r->ctx.sink.arg, v);
	cJSON_Delete(v);
	if (gone)
		return false;
	r->gone = NULL;
	return true;
}

/* ---- results ---- */

static void add_ms(cJSON *v, const char *key, int64_t ms)
{
	if (ms >= 0)
		cJSON_AddNumberToObject(v, key, (double)ms);
}

static void add_response(cJSON *v, const struct http_response *p)
{
	struct buf ex;
	if (p->status)
		cJSON_AddNumberToObject(v, "status", (double)p->status);
	else
		cJSON_AddNullToObject(v, "status");
	cJSON_AddNumberToObject(v, "latency_ms", (double)p->latency_ms);
	if (p->ip[0]) {
		cJSON_AddStringToObject(v, "ip", p->ip);
		cJSON_AddNumberToObject(v, "port", (double)p->port);
	}
	if (p->rc != CURLE_OK)
		cJSON_AddStringToObject(v, "error", p->error);
	buf_init(&ex, BUF_UNLIMITED);
	utf8_excerpt(p->body.data, p->body.len, HTTP_EXCERPT_BYTES, &ex);
	cJSON_AddStringToObject(v, "body", ex.data);
	buf_release(&ex);
	cJSON_AddNumberToObject(v, "body_bytes", (double)p->body.len);
	cJSON_AddBoolToObject(v, "truncated", p->truncated);
	if (p->redirect_url)
		cJSON_AddStringToObject(v, "redirect_url", p->redirect_url);
}

static cJSON *make_values(const struct action_run *r)
{
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "method", r->rq.method);
	cJSON_AddStringToObject(v, "url", r->shown_url);
	cJSON_AddBoolToObject(v, "tls_verified", !r->rq.insecure);
	cJSON_AddNumberToObject(v, "attempts", r->attempts);
	if (r->have_last)
		add_response(v, &r->last);
	if (!r->wait)
		return v;
	cJSON_AddStringToObject(v, "until", r->ex.status);
	add_ms(v, "every_ms", r->every_ms);
	add_ms(v, "within_ms", r->within_ms);
	if (r->first_ok_ms >= 0)
		add_ms(v, "first_ok_ms", r->first_ok_ms);
	else
		cJSON_AddNullToObject(v, "first_ok_ms");
	add_ms(v, "down_at_ms", r->down_at_ms);
	add_ms(v, "last_down_ms", r->last_down_ms);
	if (r->down_at_ms >= 0 && r->first_ok_ms >= 0) {
		add_ms(v, "up_at_ms", r->first_ok_ms);
		add_ms(v, "outage_ms", r->first_ok_ms - r->down_at_ms);
	}
	return v;
}

/* How the last attempt went, in a few words: "ok", "503, not 2xx",
 * "no response: ..." */
static void last_in_words(const struct action_run *r, struct buf *b)
{
	if (!r->have_last)
		buf_adds(b, "no attempt");
	else
		buf_adds(b, r->last_ok ? "ok" : r->why.data);
}

/* Prints the body and the notes about it; false if the run was freed. */
static bool show_body(struct action_run *r)
{
	const struct http_response *p = &r->last;
	if (!r->have_last || !p->body.len)
		return true;
	if (!emit(r, PROC_STDOUT, p->body.data, p->body.len))
		return false;
	if (p->body.data[p->body.len - 1] != '\n' && !emit(r, PROC_STDOUT, "\n", 1))
		return false;
	if (p->truncated && !emitf(r, "body cut at %lld bytes (max_bytes)\n", (long long)r->rq.max_bytes))
		return false;
	return true;
}

static void finish(struct action_run *r, enum action_status st,
		   const char *summary)
{
	struct action_result res = { .status = st, .exit_code = -1 };
	if (!show_body(r))
		return;
	if (r->have_last && r->last.redirect_url && r->last.status / 100 == 3 &&
	    !emitf(r, "redirect to %s not followed (follow=true follows it)\n", r->last.redirect_url))
		return;
	if (r->ended)
		return; /* cancelled while it was printing: that result stands */
	r->ended = true;
	res.duration_ns = clock_mono_ns() - r->t0_ns;
	action_summary(&res, "%s", summary);
	if (r->have_last && r->last.truncated)
		action_summary(&res, "%s; body cut at %lld bytes", summary, (long long)r->rq.max_bytes);
	cJSON *values = make_values(r);
	res.values = values;
	r->ctx.sink.done(r->ctx.sink.arg, &res);
	cJSON_Delete(values); /* r may be gone: not read */
}

static void finish_single(struct action_run *r)
{
	struct buf s;
	buf_init(&s, ACTION_SUMMARY_MAX);
	enum action_status st = ACTION_OK;
	if (r->last.rc != CURLE_OK) {
		bool unknown = r->last.sent && !http_method_is_safe(r->rq.method);
		st = unknown ? ACTION_UNKNOWN : ACTION_FAILED;
		buf_addf(&s, "%sno response: %s", unknown ? "outcome unknown, the request was sent: " : "",
			 r->last.error);
	} else if (!r->last_ok) {
		st = ACTION_FAILED;
		buf_addf(&s, "%s", r->why.data);
	} else {
		buf_addf(&s, "%ld in %lld ms", r->last.status, (long long)r->last.latency_ms);
	}
	finish(r, st, s.data);
	buf_release(&s);
}

static void finish_wait(struct action_run *r, bool ok)
{
	struct buf s;
	char within[DURATION_TEXT_MAX];
	buf_init(&s, ACTION_SUMMARY_MAX);
	if (ok && r->down_at_ms < 0) {
		buf_addf(&s, "%ld at attempt %d, %.2f s after the start", r->last.status, r->attempts,
			 (double)r->first_ok_ms / 1000);
	} else if (ok) {
		buf_addf(&s, "%ld at attempt %d, %.2f s after the start; not %s from %.2f s (%.2f s)",
			 r->last.status, r->attempts, (double)r->first_ok_ms / 1000, r->ex.status,
			 (double)r->down_at_ms / 1000, (double)(r->first_ok_ms - r->down_at_ms) / 1000);
	} else {
		duration_format(r->within_ms, within);
		buf_addf(&s, "no %s within %s after %d attempts; last: ", r->ex.status, within, r->attempts);
		last_in_words(r, &s);
	}
	finish(r, ok ? ACTION_OK : ACTION_FAILED, s.data);
	buf_release(&s);
}

/* ---- attempts ---- */

static void on_call_done(void *arg, CURL *easy, CURLcode rc);

static int attempt_start(struct action_run *r, struct err *e)
{
	int64_t now = clock_mono_ns();
	int64_t timeout = r->rq.request_timeout_ms;
	if (r->wait && r->within_ms > 0) {
		int64_t left = r->within_ms - (now - r->t0_ns) / 1000000;
		if (left < timeout)
			timeout = left > 0 ? left : 1;
	}
	if (http_call_init(&r->call, &r->rq, timeout, e) < 0)
		return -1;
	if (http_multi_add(r->multi, r->call.easy, on_call_done, r, e) < 0) {
		http_call_release(&r->call);
		http_response_release(&r->call.resp);
		return -1;
	}
	r->in_flight = true;
	r->attempt_t0_ns = now;
	r->attempts++;
	return 0;
}

static void on_next(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	struct err e;
	(void)l;
	(void)id;
	r->timer = 0;
	if (attempt_start(r, &e) < 0)
		finish(r, ACTION_ERROR, e.msg);
}

/* After a failed attempt: the next one, or the end of the wait. */
static void schedule_next(struct action_run *r)
{
	int64_t elapsed = since_ms(r->t0_ns);
	int64_t next = (r->attempt_t0_ns - r->t0_ns) / 1000000 + r->every_ms;
	if (next < elapsed)
		next = elapsed;
	if (r->within_ms >= 0 && next >= r->within_ms) {
		finish_wait(r, false);
		return;
	}
	r->timer = loop_timer_add(r->ctx.loop, next - elapsed, on_next, r);
}

/* One line per attempt: "attempt 3: 503 Service Unavailable in 12 ms". */
static bool report_attempt(struct action_run *r)
{
	const struct http_response *p = &r->last;
	struct buf b;
	buf_init(&b, 8192);
	if (r->wait)
		buf_addf(&b, "attempt %d: ", r->attempts);
	if (p->rc != CURLE_OK)
		buf_addf(&b, "no response: %s", p->error);
	else
		buf_adds(&b, p->status_line[0] ? p->status_line : "(no status line)");
	buf_addf(&b, " in %lld ms", (long long)p->latency_ms);
	if (p->ip[0])
		buf_addf(&b, " from %s port %ld", p->ip, p->port);
	if (r->wait && p->rc == CURLE_OK)
		buf_addf(&b, ": %s", r->last_ok ? "ok" : r->why.data);
	buf_addc(&b, '\n');
	bool alive = emit(r, PROC_STDERR, b.data, b.len);
	buf_release(&b);
	return alive;
}

static void record(struct action_run *r)
{
	int64_t start_ms = (r->attempt_t0_ns - r->t0_ns) / 1000000;
	buf_reset(&r->why);
	r->last_ok = r->last.rc == CURLE_OK &&
		     http_expect_check(&r->ex, r->last.status, r->last.body.data,
				       r->last.body.len, &r->why);
	if (r->last.rc != CURLE_OK)
		buf_addf(&r->why, "no response: %s", r->last.error);
	if (r->last_ok && r->first_ok_ms < 0)
		r->first_ok_ms = since_ms(r->t0_ns);
	if (!r->last_ok && r->first_ok_ms < 0) {
		if (r->down_at_ms < 0)
			r->down_at_ms = start_ms;
		r->last_down_ms = start_ms;
	}
}

static void on_call_done(void *arg, CURL *easy, CURLcode rc)
{
	struct action_run *r = arg;
	(void)easy;
	r->in_flight = false;
	http_call_finish(&r->call, rc);
	http_call_release(&r->call);
	http_response_release(&r->last);
	r->last = r->call.resp;
	memset(&r->call.resp, 0, sizeof r->call.resp);
	r->have_last = true;
	record(r);
	if (r->rq.insecure && !r->warned_tls) {
		r->warned_tls = true;
		if (!emitf(r, "TLS certificates are not verified for this request (insecure=true)\n"))
			return;
	}
	if (!report_attempt(r) || !progress(r) || r->ended)
		return;
	if (!r->wait)
		finish_single(r);
	else if (r->last_ok)
		finish_wait(r, true);
	else
		schedule_next(r);
}

/* ---- the entry ---- */

static int http_open(const struct action_host *h, struct action_kind_state **out,
		     struct err *e)
{
	struct http_multi *m = http_multi_new(h->loop, e);
	if (!m)
		return -1;
	*out = xcalloc(1, sizeof **out);
	(*out)->multi = m;
	return 0;
}

static void http_close(struct action_kind_state *ks)
{
	if (!ks)
		return;
	http_multi_free(ks->multi);
	free(ks);
}

static void describe_wait(const struct action *a, struct buf *out)
{
	char d[DURATION_TEXT_MAX];
	duration_format(a->every_ms >= 0 ? a->every_ms : HTTP_DEFAULT_EVERY_MS, d);
	buf_addf(out, "\nrepeat every %s until ", d);
}

static int http_describe(const struct action *a, const struct action_target *t,
			 var_lookup_fn *lookup, void *arg, struct buf *out,
			 struct err *e)
{
	struct http_request rq;
	struct http_expect ex;
	char d[DURATION_TEXT_MAX];
	int rc = -1;
	memset(&ex, 0, sizeof ex);
	if (http_request_build(a, t, lookup, arg, &rq, e) < 0 ||
	    http_expect_init(&ex, a, lookup, arg, e) < 0)
		goto out;
	buf_addf(out, "%s %s", rq.method, rq.url);
	if (t)
		buf_addf(out, " (target %s)", t->name);
	for (size_t i = 0; i < rq.headers.n; i++)
		buf_addf(out, "\nheader %s", rq.headers.v[i]);
	for (size_t i = 0; i < rq.resolve.n; i++)
		buf_addf(out, "\nresolve %s", rq.resolve.v[i]);
	if (a->until)
		describe_wait(a, out);
	else
		buf_adds(out, "\nexpect ");
	http_expect_describe(&ex, out);
	if (a->within_ms >= 0) {
		duration_format(a->within_ms, d);
		buf_addf(out, " within %s", d);
	}
	if (rq.follow)
		buf_adds(out, "\nfollow redirects");
	if (rq.insecure)
		buf_adds(out, "\nTLS certificate NOT verified (insecure=true)");
	else if (rq.cacert)
		buf_addf(out, "\nTLS verified with the CA file %s", rq.cacert);
	if (rq.body)
		buf_addf(out, "\nbody:\n%s", rq.body);
	rc = 0;
out:
	http_request_release(&rq);
	http_expect_release(&ex);
	return rc;
}

static void shown_url(struct action_run *r)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	http_url_without_userinfo(r->rq.url, &b);
	b.len = strcspn(b.data, "?#"); /* a query often holds a token */
	b.data[b.len] = '\0';
	r->shown_url = buf_detach(&b, NULL);
}

static void run_release(struct action_run *r)
{
	if (r->in_flight) {
		http_multi_remove(r->multi, r->call.easy);
		http_call_release(&r->call);
		http_response_release(&r->call.resp);
		r->in_flight = false;
	}
	if (r->timer)
		loop_timer_cancel(r->ctx.loop, r->timer);
	r->timer = 0;
}

static void http_free(struct action_run *r);

static struct action_run *http_start(const struct action *a,
				     const struct action_ctx *ctx,
				     struct err *e)
{
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->t0_ns = clock_mono_ns();
	r->wait = a->until != NULL;
	r->every_ms = a->every_ms >= 0 ? a->every_ms : HTTP_DEFAULT_EVERY_MS;
	r->within_ms = a->within_ms;
	r->down_at_ms = r->last_down_ms = r->first_ok_ms = -1;
	buf_init(&r->why, 4096);
	if (http_request_build(a, ctx->target, ctx->lookup, ctx->lookup_arg, &r->rq, e) < 0 ||
	    http_expect_init(&r->ex, a, ctx->lookup, ctx->lookup_arg, e) < 0)
		goto fail;
	shown_url(r);
	r->multi = ctx->ks ? ctx->ks->multi : (r->own = http_multi_new(ctx->loop, e));
	if (!r->multi || attempt_start(r, e) < 0)
		goto fail;
	return r;
fail:
	http_free(r);
	return NULL;
}

static void http_cancel(struct action_run *r, enum action_cancel_reason why)
{
	struct action_result res = { .status = ACTION_CANCELLED, .exit_code = -1 };
	struct buf s;
	if (r->ended)
		return;
	bool maybe_done = r->in_flight && !http_method_is_safe(r->rq.method);
	run_release(r);
	r->ended = true;
	buf_init(&s, ACTION_SUMMARY_MAX);
	buf_adds(&s, why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled");
	if (r->wait) {
		buf_addf(&s, " after %d attempts; last: ", r->attempts);
		last_in_words(r, &s);
	}
	if (maybe_done)
		buf_addf(&s, "; the %s was sent, its outcome is unknown", r->rq.method);
	res.duration_ns = clock_mono_ns() - r->t0_ns;
	action_summary(&res, "%s", s.data);
	buf_release(&s);
	cJSON *values = make_values(r);
	res.values = values;
	action_later_done(&r->later, r->ctx.loop, &r->ctx.sink, &res);
	cJSON_Delete(values);
}

static void http_free(struct action_run *r)
{
	if (!r)
		return;
	if (r->gone)
		*r->gone = true;
	run_release(r);
	action_later_release(&r->later);
	http_request_release(&r->rq);
	http_expect_release(&r->ex);
	http_response_release(&r->last);
	buf_release(&r->why);
	free(r->shown_url);
	http_multi_free(r->own);
	free(r);
}

const struct action_entry action_http = {
	.kind = ACTION_HTTP,
	.open = http_open,
	.close = http_close,
	.describe = http_describe,
	.start = http_start,
	.cancel = http_cancel,
	.free = http_free,
};
