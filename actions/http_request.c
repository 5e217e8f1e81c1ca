#include "actions/http_request.h"

#include <stdlib.h>
#include <string.h>

#include "runbooks/http_spec.h"
#include "util/xalloc.h"

/* ---- building (release the request also after a failure) ---- */

static int expand_list(const struct strv *in, var_lookup_fn *lookup,
		       void *arg, struct strv *out, struct err *e)
{
	bool failed = false;
	for (size_t i = 0; i < in->n; i++) {
		char *s = vars_expand_dup(in->v[i], lookup, arg, e, &failed);
		if (!s)
			return -1;
		strv_push(out, s);
		free(s);
	}
	return 0;
}

static int build_url(const struct action *a, const struct action_target *t,
		     var_lookup_fn *lookup, void *arg, struct http_request *rq,
		     struct err *e)
{
	bool failed = false;
	char *url = vars_expand_dup(a->url, lookup, arg, e, &failed);
	if (failed)
		return -1;
	const char *base = t && t->kind == TARGET_HTTP ? t->url : NULL;
	if (!url && !base) {
		return err_set(e, "no url: give url= or a target with a url");
	}
	if (url && !http_url_is_absolute(url) && !base) {
		err_set(e, "url '%s' is relative and there is no target with a base url", url);
		free(url);
		return -1;
	}
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	http_url_join(base, url, &b);
	free(url);
	rq->url = buf_detach(&b, NULL);
	if (!http_url_scheme_ok(rq->url))
		return err_set(e, "only http:// and https:// URLs can be requested, not '%s'", rq->url);
	return 0;
}

int http_request_build(const struct action *a, const struct action_target *t,
		       var_lookup_fn *lookup, void *arg,
		       struct http_request *rq, struct err *e)
{
	memset(rq, 0, sizeof *rq);
	if (build_url(a, t, lookup, arg, rq, e) < 0)
		return -1;
	bool failed = false;
	rq->body = vars_expand_dup(a->body, lookup, arg, e, &failed);
	rq->cacert = vars_expand_dup(a->cacert, lookup, arg, e, &failed);
	if (failed || expand_list(&a->headers, lookup, arg, &rq->headers, e) < 0 ||
	    expand_list(&a->resolve, lookup, arg, &rq->resolve, e) < 0)
		return -1;
	for (size_t i = 0; i < rq->resolve.n; i++) {
		const char *why;
		if (http_resolve_entry_check(rq->resolve.v[i], &why) < 0)
			return err_set(e, "bad resolve '%s': %s", rq->resolve.v[i], why);
	}
	rq->method = xstrdup(a->method ? a->method : rq->body ? "POST" : "GET");
	rq->insecure = a->insecure || (t && t->insecure);
	rq->follow = a->follow;
	rq->max_bytes = a->max_bytes > 0 ? a->max_bytes : HTTP_DEFAULT_MAX_BYTES;
	rq->connect_timeout_ms = a->connect_timeout_ms > 0 ? a->connect_timeout_ms
							   : HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	rq->request_timeout_ms = a->request_timeout_ms > 0 ? a->request_timeout_ms
							   : HTTP_DEFAULT_REQUEST_TIMEOUT_MS;
	rq->reuse = a->reuse;
	return 0;
}

void http_request_release(struct http_request *rq)
{
	free(rq->url);
	free(rq->method);
	free(rq->body);
	free(rq->cacert);
	strv_release(&rq->headers);
	strv_release(&rq->resolve);
	memset(rq, 0, sizeof *rq);
}

bool http_method_is_safe(const char *m)
{
	return !strcmp(m, "GET") || !strcmp(m, "HEAD") || !strcmp(m, "OPTIONS") ||
	       !strcmp(m, "TRACE");
}

/* ---- one call ---- */

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n;
	if (buf_add(&r->body, p, len) < 0) {
		r->truncated = true;
		return 0; /* cut: libcurl stops with CURLE_WRITE_ERROR */
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *arg)
{
	struct http_response *r = arg;
	size_t len = size * n;
	if (len > 5 && !memcmp(p, "HTTP/", 5)) {
		size_t keep = len;
		while (keep && (p[keep - 1] == '\n' || p[keep - 1] == '\r'))
			keep--;
		if (keep >= sizeof r->status_line)
			keep = sizeof r->status_line - 1;
		memcpy(r->status_line, p, keep);
		r->status_line[keep] = '\0';
		buf_reset(&r->body); /* a new response (after 100 or a redirect) */
		r->truncated = false;
	}
	return len;
}

static struct curl_slist *slist_of(const struct strv *sv)
{
	struct curl_slist *l = NULL;
	for (size_t i = 0; i < sv->n; i++) {
		struct curl_slist *n = curl_slist_append(l, sv->v[i]);
		if (!n) {
			curl_slist_free_all(l);
			return NULL;
		}
		l = n;
	}
	return l;
}

static void set_method(CURL *h, const struct http_request *rq)
{
	if (rq->body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(rq->body));
		curl_easy_setopt(h, CURLOPT_COPYPOSTFIELDS, rq->body);
		if (strcmp(rq->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	} else if (!strcmp(rq->method, "HEAD")) {
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(rq->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, rq->method);
	}
}

/* A step's request sees the world as it is now: a fresh lookup and a
 * fresh connection, closed after. A probe's may take a connection an
 * earlier sample left open, if it is younger than HTTP_REUSE_MAX_S; its
 * lookup is fresh whenever a connection is opened. Every handle carries
 * the same limit: libcurl prunes its shared cache by the settings of
 * whichever handle happens to look. */
static void set_reuse(CURL *h, const struct http_request *rq)
{
	curl_easy_setopt(h, CURLOPT_MAXLIFETIME_CONN, (long)HTTP_REUSE_MAX_S);
	curl_easy_setopt(h, CURLOPT_MAXAGE_CONN, (long)HTTP_REUSE_MAX_S);
	if (!rq->reuse) {
		curl_easy_setopt(h, CURLOPT_FRESH_CONNECT, 1L);
		curl_easy_setopt(h, CURLOPT_FORBID_REUSE, 1L);
	}
}

/* The options every call shares: what may be spoken, how long, and no
 * cache of anything from an earlier request but (set_reuse) a probe's
 * connection. */
static void set_policy(CURL *h, const struct http_request *rq, int64_t timeout_ms)
{
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, rq->follow ? 1L : 0L);
	curl_easy_setopt(h, CURLOPT_MAXREDIRS, (long)HTTP_MAX_REDIRECTS);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	/* a lookup still running when the request ends (a timeout, a cancel)
	 * is left to finish in its thread: without this libcurl 7.88 joins
	 * that thread, which blocks the loop for as long as DNS hangs */
	curl_easy_setopt(h, CURLOPT_QUICK_EXIT, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)rq->connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(timeout_ms > 0 ? timeout_ms : 1));
	set_reuse(h, rq);
	curl_easy_setopt(h, CURLOPT_DNS_CACHE_TIMEOUT, 0L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, rq->insecure ? 0L : 1L);
	curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, rq->insecure ? 0L : 2L);
	if (rq->cacert)
		curl_easy_setopt(h, CURLOPT_CAINFO, rq->cacert);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_USERAGENT, "qrh/" QRH_VERSION);
}

int http_call_init(struct http_call *c, const struct http_request *rq,
		   int64_t timeout_ms, struct err *e)
{
	memset(c, 0, sizeof *c);
	buf_init(&c->resp.body, (size_t)rq->max_bytes);
	c->easy = curl_easy_init();
	c->dns = curl_share_init();
	if (!c->easy || !c->dns) {
		http_call_release(c);
		return err_set(e, "cannot create a libcurl handle");
	}
	curl_share_setopt(c->dns, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
	struct strv hdrs = { 0 };
	for (size_t i = 0; i < rq->headers.n; i++)
		strv_push(&hdrs, rq->headers.v[i]);
	if (rq->body)
		strv_push(&hdrs, "Expect:"); /* no 100-continue pause */
	c->headers = slist_of(&hdrs);
	strv_release(&hdrs);
	c->resolve = slist_of(&rq->resolve);
	CURL *h = c->easy;
	curl_easy_setopt(h, CURLOPT_SHARE, c->dns);
	curl_easy_setopt(h, CURLOPT_URL, rq->url);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->resp.error);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &c->resp);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &c->resp);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers);
	curl_easy_setopt(h, CURLOPT_RESOLVE, c->resolve);
	set_policy(h, rq, timeout_ms);
	set_method(h, rq);
	return 0;
}

void http_call_finish(struct http_call *c, CURLcode rc)
{
	struct http_response *r = &c->resp;
	long sent = 0, port = 0;
	curl_off_t total_us = 0;
	char *ip = NULL, *loc = NULL;
	r->rc = rc == CURLE_WRITE_ERROR && r->truncated ? CURLE_OK : rc;
	if (r->rc != CURLE_OK && !r->error[0])
		snprintf(r->error, sizeof r->error, "%s", curl_easy_strerror(rc));
	curl_easy_getinfo(c->easy, CURLINFO_RESPONSE_CODE, &r->status);
	curl_easy_getinfo(c->easy, CURLINFO_REQUEST_SIZE, &sent);
	curl_easy_getinfo(c->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	curl_easy_getinfo(c->easy, CURLINFO_PRIMARY_IP, &ip);
	curl_easy_getinfo(c->easy, CURLINFO_PRIMARY_PORT, &port);
	curl_easy_getinfo(c->easy, CURLINFO_REDIRECT_URL, &loc);
	r->sent = sent > 0;
	r->latency_ms = (int64_t)((total_us + 500) / 1000);
	snprintf(r->ip, sizeof r->ip, "%s", ip ? ip : "");
	r->port = port;
	free(r->redirect_url);
	r->redirect_url = loc ? xstrdup(loc) : NULL;
}

void http_call_release(struct http_call *c)
{
	if (c->easy)
		curl_easy_cleanup(c->easy); /* before its share handle */
	if (c->dns)
		curl_share_cleanup(c->dns);
	curl_slist_free_all(c->headers);
	curl_slist_free_all(c->resolve);
	c->easy = NULL;
	c->dns = NULL;
	c->headers = c->resolve = NULL;
}

void http_response_release(struct http_response *r)
{
	buf_release(&r->body);
	free(r->redirect_url);
	r->redirect_url = NULL;
}
