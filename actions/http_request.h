/* http_request: one HTTP request of an http action, as libcurl runs it.
 *
 * http_request_build expands an action's fields (and its target's base
 * URL) into a request; the same code serves describe (masked values) and
 * start (real ones), so what is shown is what is sent. An http_call is one
 * attempt of a request: a configured easy handle, its response collected
 * in memory up to the request's max_bytes.
 *
 * Every call connects anew and resolves the name anew, in a DNS cache of
 * its own (a share handle per call): no connection or DNS answer outlives
 * one request, and `resolve` entries never leak into another action. Only
 * http and https are spoken, redirects are followed only when asked. */
#ifndef QRH_ACTIONS_HTTP_REQUEST_H
#define QRH_ACTIONS_HTTP_REQUEST_H

#include <curl/curl.h>
#include <stdbool.h>
#include <stdint.h>

#include "actions/target.h"
#include "runbooks/model.h"
#include "runbooks/vars.h"
#include "util/buf.h"
#include "util/err.h"

#define HTTP_DEFAULT_MAX_BYTES (1 << 20)
#define HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define HTTP_DEFAULT_REQUEST_TIMEOUT_MS 30000
/* How long a probe's connection may serve later samples: long enough to
 * spare a frequent probe a connection (and a TLS handshake) a sample,
 * short enough that no sample is further behind than this from where a
 * new client would land after a DNS or load-balancer switch. */
#define HTTP_REUSE_MAX_S 10
#define HTTP_MAX_REDIRECTS 5

struct http_request {
	char *url;
	char *method;   /* as sent: GET, POST (a body and no method), ... */
	char *body;     /* NULL: none */
	struct strv headers;
	struct strv resolve;
	char *cacert;
	bool insecure;  /* the action's or its target's */
	bool follow;
	int64_t max_bytes;
	int64_t connect_timeout_ms;
	int64_t request_timeout_ms;
	bool reuse;       /* false: a fresh connection, closed after (steps) */
};

/* Expands a's url (joined with t's base URL), headers, body, resolve and
 * cacert with lookup. -1 with a message for a missing value or a URL that
 * is not http or https. */
int http_request_build(const struct action *a, const struct action_target *t,
		       var_lookup_fn *lookup, void *arg,
		       struct http_request *out, struct err *e);
void http_request_release(struct http_request *rq);
/* GET, HEAD, OPTIONS, TRACE: sending one again changes nothing. */
bool http_method_is_safe(const char *method);

struct http_response {
	CURLcode rc;     /* CURLE_OK also when the body was cut */
	char error[CURL_ERROR_SIZE]; /* libcurl's message when rc != OK */
	long status;     /* 0: no response */
	char status_line[160];
	struct buf body; /* at most max_bytes */
	bool truncated;  /* the body was longer than max_bytes */
	bool sent;       /* the request (or part of it) went out */
	int64_t latency_ms;
	char ip[64];
	long port;
	char *redirect_url; /* a redirect that was not followed */
};

struct http_call {
	CURL *easy;
	CURLSH *dns; /* this call's own DNS cache */
	struct curl_slist *headers, *resolve;
	struct http_response resp;
};

/* Prepares one attempt that may last at most timeout_ms in all. */
int http_call_init(struct http_call *c, const struct http_request *rq,
		   int64_t timeout_ms, struct err *e);
/* After the transfer ended with rc: fills c->resp from the handle. */
void http_call_finish(struct http_call *c, CURLcode rc);
/* Frees the handles; the response stays (http_response_release). */
void http_call_release(struct http_call *c);
void http_response_release(struct http_response *r);

#endif
