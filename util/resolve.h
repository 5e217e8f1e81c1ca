/* resolve: a host name looked up without blocking the loop.
 *
 * getaddrinfo(3) blocks for as long as DNS takes, so each lookup runs in
 * a detached thread whose only job is that one call; the answer comes
 * back to the loop through a pipe, and the callback runs from the loop.
 * resolve_free may be called at any time (also from the callback): the
 * thread is never waited for; if it is still running it finishes on its
 * own, finds the lookup abandoned and frees what is left. No callback
 * comes after resolve_free. */
#ifndef QRH_UTIL_RESOLVE_H
#define QRH_UTIL_RESOLVE_H

#include <stddef.h>

#include "util/err.h"
#include "util/loop.h"

#define RESOLVE_MAX_ADDRS 8

struct resolve;

/* Called once, from the loop, when the lookup has ended. */
typedef void resolve_done_fn(struct resolve *rq, void *arg);

/* Starts looking up `host` (TCP addresses of any family). */
struct resolve *resolve_start(struct loop *l, const char *host,
			      resolve_done_fn *done, void *arg, struct err *e);

/* After done: the numeric addresses found (at most RESOLVE_MAX_ADDRS, in
 * getaddrinfo's order, duplicates removed) as NUL-terminated strings in
 * addrs[0..*n-1], each at most 46 bytes. Returns 0, or -1 with the
 * resolver's message ("db1.example.com: Name or service not known"). */
int resolve_result(const struct resolve *rq, char addrs[][46], size_t *n,
		   struct err *e);

/* After done: the same addresses as a getaddrinfo list for TCP to `port`
 * (the caller frees it with freeaddrinfo). 0, or -1 as resolve_result. */
struct addrinfo;
int resolve_addrinfo(const struct resolve *rq, int port, struct addrinfo **out,
		     struct err *e);

/* A numeric address (IPv4 or IPv6) is its own answer: no thread, the
 * callback still comes from the loop. */
void resolve_free(struct resolve *rq);

#endif
