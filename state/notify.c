/* notify.c: one message at a time to the webhook, retried with backoff
 * (state/notify.h). */
#include "state/notify.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/curl_loop.h"
#include "util/xalloc.h"

struct message {
	char *what;
	char *step_id;
	char *body; /* the JSON */
};

struct notifier {
	struct loop *loop;
	struct curl_loop *cl;
	char *url;
	struct notify_opts o;
	notify_failed_fn *failed;
	void *arg;
	struct message *q; /* q[0] is the one being sent */
	size_t n, cap;
	CURL *easy;        /* q[0] in flight */
	struct curl_slist *headers;
	uint64_t retry_timer;
	int attempts;      /* of q[0] */
};

static size_t discard(char *p, size_t size, size_t n, void *arg)
{
	(void)p;
	(void)arg;
	return size * n;
}

static void message_free(struct message *m)
{
	free(m->what);
	free(m->step_id);
	cJSON_free(m->body);
}

static void report(struct notifier *n, const struct message *m, int attempts, const char *why)
{
	if (n->failed)
		n->failed(n->arg, m->what, m->step_id, attempts, why);
}

static void start(struct notifier *n);

static void next(struct notifier *n)
{
	message_free(&n->q[0]);
	memmove(n->q, n->q + 1, (n->n - 1) * sizeof *n->q);
	n->n--;
	n->attempts = 0;
	if (n->n)
		start(n);
}

static void on_retry(struct loop *l, uint64_t id, void *arg)
{
	struct notifier *n = arg;
	(void)l;
	(void)id;
	n->retry_timer = 0;
	start(n);
}

/* Worth another try: the network, a timeout, too many requests, or the
 * server's own trouble. */
static bool retryable(CURLcode rc, long status)
{
	if (rc != CURLE_OK)
		return true;
	return status == 429 || status >= 500;
}

static void on_done(void *arg, CURL *easy, CURLcode rc)
{
	struct notifier *n = arg;
	long status = 0;
	char why[128];

	curl_easy_getinfo(easy, CURLINFO_RESPONSE_CODE, &status);
	curl_easy_cleanup(easy);
	n->easy = NULL;
	if (rc == CURLE_OK && status >= 200 && status < 300) {
		next(n);
		return;
	}
	if (rc != CURLE_OK)
		snprintf(why, sizeof why, "%s", curl_easy_strerror(rc));
	else
		snprintf(why, sizeof why, "the webhook answered HTTP %ld", status);
	for (char *p = why; *p; p++) /* libcurl capitalises its words */
		if (p == why && *p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (retryable(rc, status) && n->attempts <= n->o.retries) {
		int64_t wait = n->o.backoff_ms << (n->attempts - 1 < 20 ? n->attempts - 1 : 20);
		n->retry_timer = loop_timer_add(n->loop, wait, on_retry, n);
		return;
	}
	report(n, &n->q[0], n->attempts, why);
	next(n);
}

static void start(struct notifier *n)
{
	struct err e;
	CURL *easy = curl_easy_init();

	n->attempts++;
	if (!easy) {
		report(n, &n->q[0], n->attempts, "cannot create a libcurl handle");
		next(n);
		return;
	}
	curl_easy_setopt(easy, CURLOPT_URL, n->url);
	curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(easy, CURLOPT_HTTPHEADER, n->headers);
	curl_easy_setopt(easy, CURLOPT_POSTFIELDS, n->q[0].body);
	curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, (long)n->o.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, (long)n->o.timeout_ms);
	curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(easy, CURLOPT_USERAGENT, "qrh/" QRH_VERSION);
	if (curl_loop_add(n->cl, easy, on_done, n, &e) < 0) {
		curl_easy_cleanup(easy);
		report(n, &n->q[0], n->attempts, e.msg);
		next(n);
		return;
	}
	n->easy = easy;
}

struct notifier *notifier_new(struct loop *l, const char *url, const struct notify_opts *o,
			      notify_failed_fn *failed, void *arg, struct err *e)
{
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8)) {
		err_set(e, "the webhook URL is not an http:// or https:// URL");
		return NULL;
	}
	struct curl_loop *cl = curl_loop_new(l, e);
	if (!cl)
		return NULL;
	struct notifier *n = xcalloc(1, sizeof *n);
	n->loop = l;
	n->cl = cl;
	n->url = xstrdup(url);
	n->o.timeout_ms = o && o->timeout_ms > 0 ? o->timeout_ms : NOTIFY_TIMEOUT_MS;
	n->o.retries = o && o->retries >= 0 ? o->retries : NOTIFY_RETRIES;
	n->o.backoff_ms = o && o->backoff_ms > 0 ? o->backoff_ms : NOTIFY_BACKOFF_MS;
	n->failed = failed;
	n->arg = arg;
	n->headers = curl_slist_append(NULL, "Content-Type: application/json");
	return n;
}

void notifier_free(struct notifier *n)
{
	if (!n)
		return;
	if (n->easy) {
		curl_loop_remove(n->cl, n->easy);
		curl_easy_cleanup(n->easy);
	}
	if (n->retry_timer)
		loop_timer_cancel(n->loop, n->retry_timer);
	curl_loop_free(n->cl);
	for (size_t i = 0; i < n->n; i++)
		message_free(&n->q[i]);
	free(n->q);
	curl_slist_free_all(n->headers);
	explicit_bzero(n->url, strlen(n->url));
	free(n->url);
	free(n);
}

/* At most max bytes, never half a UTF-8 character. */
static char *text_cut(const char *text, size_t max)
{
	size_t len = strlen(text);
	if (len <= max)
		return xstrdup(text);
	while (max && ((unsigned char)text[max] & 0xC0) == 0x80)
		max--;
	return xstrndup(text, max);
}

void notifier_send(struct notifier *n, const char *what, const char *step_id, const char *text)
{
	cJSON *o = cJSON_CreateObject();
	char *cut = text_cut(text, NOTIFY_TEXT_MAX);

	cJSON_AddStringToObject(o, "text", cut);
	free(cut);
	if (n->n >= NOTIFY_QUEUE_MAX) {
		/* q[0] may be in flight: drop the oldest that waits */
		report(n, &n->q[1], 0, "dropped: too many notifications waiting");
		message_free(&n->q[1]);
		memmove(n->q + 1, n->q + 2, (n->n - 2) * sizeof *n->q);
		n->n--;
	}
	n->q = xgrow(n->q, &n->cap, n->n + 1, sizeof *n->q);
	n->q[n->n++] = (struct message){
		.what = xstrdup(what),
		.step_id = step_id ? xstrdup(step_id) : NULL,
		.body = cJSON_PrintUnformatted(o),
	};
	cJSON_Delete(o);
	if (n->n == 1)
		start(n);
}

size_t notifier_pending(const struct notifier *n)
{
	return n ? n->n : 0;
}
