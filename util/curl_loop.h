/* curl_loop: a libcurl multi handle driven by qrh's event loop.
 *
 * libcurl says which sockets to watch (CURLMOPT_SOCKETFUNCTION) and when
 * to call it back (CURLMOPT_TIMERFUNCTION); this maps both onto loop_fd_*
 * and one loop timer, calls curl_multi_socket_action when the loop reports
 * readiness or the timer fires, and hands each finished transfer to its
 * owner. Nothing blocks the loop: sockets are non-blocking and names are
 * resolved by libcurl's own (threaded) resolver.
 *
 * Promises:
 *  - libcurl's callbacks only record what to watch; libcurl is called
 *    only from loop callbacks, never from inside its own callbacks.
 *  - A transfer's `done` runs once, from a loop callback, after its easy
 *    handle left the multi handle: the owner may clean it up, add other
 *    transfers or free the curl_loop (destruction then waits until the
 *    dispatch unwinds).
 *  - curl_loop_remove takes a transfer out at any time outside libcurl's
 *    callbacks; its done never runs.
 *  - Sockets belong to libcurl: they are unwatched when it says so
 *    (CURL_POLL_REMOVE), never closed here. */
#ifndef QRH_UTIL_CURL_LOOP_H
#define QRH_UTIL_CURL_LOOP_H

#include <curl/curl.h>
#include <stddef.h>

#include "util/err.h"
#include "util/loop.h"

struct curl_loop;

/* result: the transfer's CURLcode. */
typedef void curl_loop_done_fn(void *arg, CURL *easy, CURLcode result);

struct curl_loop *curl_loop_new(struct loop *loop, struct err *e);
/* Takes out every transfer still in (no done) and frees; deferred while
 * a dispatch runs. NULL is fine. */
void curl_loop_free(struct curl_loop *cl);
/* Adds easy (still the caller's): it starts from the loop, later. */
int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn *done,
		  void *arg, struct err *e);
void curl_loop_remove(struct curl_loop *cl, CURL *easy);
/* Transfers in flight. */
size_t curl_loop_count(const struct curl_loop *cl);

#endif
