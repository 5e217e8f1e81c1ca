/* team_pull: copies one run from the team database into a mirror journal
 * (state/journal_team.h), on the loop, and keeps it current.
 *
 * The run is named by a UUID or a prefix of one, or "" for the newest
 * unfinished run (else the newest). The puller copies the header, then
 * output chunks, finished streams' records and events in the order the
 * server numbered them, in batches, until it has everything; then it
 * waits for a NOTIFY on qrh_events naming the run (or 2 s) and copies
 * what is new. `caught_up` is reported each time it has everything the
 * server had; `failed` when the run cannot be copied at all (no such
 * run, ambiguous name, a mirror that cannot be written). A lost
 * connection is retried by itself (team_conn). */
#ifndef QRH_STATE_TEAM_PULL_H
#define QRH_STATE_TEAM_PULL_H

#include <stdbool.h>
#include <stdint.h>

#include "state/journal.h"
#include "util/err.h"
#include "util/loop.h"
#include "util/uuid.h"

struct team_pull;

struct team_pull_cb {
	void (*caught_up)(void *arg);
	void (*failed)(void *arg, const char *msg);
};

/* mirror: an empty journal opened for writing, owned by the caller. */
struct team_pull *team_pull_new(struct loop *l, const char *conninfo,
				const char *run, struct journal *mirror,
				const struct team_pull_cb *cb, void *arg,
				struct err *e);
void team_pull_free(struct team_pull *p);
/* New callbacks (a watcher takes over the puller that made the copy). */
void team_pull_bind(struct team_pull *p, const struct team_pull_cb *cb, void *arg);
/* Once the header is copied: the run's local number in the mirror (0
 * before), its UUID. */
int64_t team_pull_run_id(const struct team_pull *p);
const char *team_pull_uuid(const struct team_pull *p);
/* The connection's state, for a watcher's header: "" while connected. */
const char *team_pull_trouble(const struct team_pull *p);

#endif
