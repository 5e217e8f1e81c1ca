/* resolve: host names to addresses without blocking the loop.
 *
 * getaddrinfo(3) blocks for as long as DNS takes. A numeric address (IPv4
 * or IPv6) is converted at once, with no lookup; a name is looked up by a
 * thread whose only job is that one getaddrinfo call, and the answer comes
 * back to the loop through an eventfd the loop watches. The promises:
 * - the callback runs exactly once per resolve_start that succeeded, from
 *   a loop callback (never from inside resolve_start), unless
 *   resolve_cancel came first; after resolve_cancel it never runs.
 * - the callback owns the addresses it is given (freeaddrinfo them);
 *   on failure it gets NULL and getaddrinfo's message.
 * - resolve_cancel returns at once: a thread still waiting for DNS
 *   finishes on its own later and frees what it holds; nothing it does
 *   reaches the loop or the caller.
 * The thread blocks every signal, so the loop's handlers only ever run on
 * the loop's own thread. */
#ifndef QRH_RESOLVE_H
#define QRH_RESOLVE_H

#include <netdb.h>

#include "util/err.h"
#include "util/loop.h"

struct resolve;

/* res: the addresses (the callee frees them), or NULL with `error` the
 * reason ("name or service not known"). */
typedef void resolve_fn(void *arg, struct addrinfo *res, const char *error);

/* Starts resolving host for a TCP connection to port. NULL with *e set if
 * nothing could be started (no thread, no eventfd). */
struct resolve *resolve_start(struct loop *l, const char *host, int port,
			      resolve_fn *cb, void *arg, struct err *e);
/* Forgets a pending lookup; harmless on NULL. Not to be called after the
 * callback has run (the handle is gone by then). */
void resolve_cancel(struct resolve *r);

#endif
