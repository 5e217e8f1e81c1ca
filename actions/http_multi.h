/* http_multi: one libcurl multi handle driven by qrh's event loop.
 *
 * libcurl tells us which sockets to watch (CURLMOPT_SOCKETFUNCTION) and
 * when to call it back (CURLMOPT_TIMERFUNCTION); this module maps both onto
 * loop_fd_* and one loop timer, calls curl_multi_socket_action when the
 * loop reports readiness or the timer fires, and hands each finished
 * transfer to its owner. Nothing here blocks: name resolution is libcurl's
 * own (its threaded resolver), and every socket is non-blocking.
 *
 * Promises:
 * - libcurl's callbacks only record what to watch; libcurl is called only
 *   from loop callbacks, never from inside one of its own callbacks.
 * - A transfer's `done` is called once, from a loop callback, after the
 *   easy handle has been taken out of the multi handle: the owner may
 *   clean it up, add new transfers, or free the http_multi itself (the
 *   destruction waits until the dispatch that called `done` unwinds).
 * - http_multi_remove takes a transfer out at any time outside libcurl's
 *   callbacks (its done is then never called); libcurl closes its
 *   connection.
 * - Sockets belong to libcurl: this module stops watching one when told to
 *   (CURL_POLL_REMOVE), never closes it.
 * - A connection a finished transfer may leave open (a probe's: reuse_ms
 *   in actions/http_request.h) waits in the multi handle's cache, at most
 *   HTTP_MULTI_MAX_IDLE of them, the oldest closed first; all close with
 *   http_multi_free. */
#ifndef QRH_ACTIONS_HTTP_MULTI_H
#define QRH_ACTIONS_HTTP_MULTI_H

#include <curl/curl.h>

#include "util/err.h"
#include "util/loop.h"

struct http_multi;

#define HTTP_MULTI_MAX_IDLE 64

/* `result` is the transfer's CURLcode. */
typedef void http_done_fn(void *arg, CURL *easy, CURLcode result);

struct http_multi *http_multi_new(struct loop *loop, struct err *e);
/* Removes every transfer still in (without calling done) and frees the
 * handle; deferred while a dispatch is running. NULL is fine. */
void http_multi_free(struct http_multi *m);

/* Adds easy (configured by the caller, who still owns it). The transfer
 * starts from the loop, never inside this call. */
int http_multi_add(struct http_multi *m, CURL *easy, http_done_fn *done,
		   void *arg, struct err *e);
/* Takes easy out (no done will come); nothing if it is not in. */
void http_multi_remove(struct http_multi *m, CURL *easy);

/* Sockets watched and transfers in flight: for tests. */
size_t http_multi_sockets(const struct http_multi *m);
size_t http_multi_transfers(const struct http_multi *m);

#endif
