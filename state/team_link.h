/* team_link: ships a run from the local journal to the team database, in
 * order, asynchronously, exactly once.
 *
 * The local journal is the source of truth and the outbox
 * (state/journal_team.h): the link reads what was committed and not yet
 * shipped, sends it in batches on the loop (one statement in flight,
 * libpq's asynchronous API: a step never waits for the database), and
 * moves the journal's cursors once the server has committed a batch.
 * Order: the run's header first, then, in each round, the output and
 * probe samples committed so far, then the events up to the head read at
 * the round's start: what an event names is central before the event.
 * Exactly once: every central row has a key (run UUID and seq, or the
 * output's key and offset) and the inserts ignore a key that exists, so
 * a batch sent again after a lost acknowledgement or a crash adds
 * nothing. While the database is unreachable nothing is lost: the link
 * reconnects by itself and ships from the cursors. Runs linked earlier
 * that still have something to ship go after the current one.
 *
 * The link also listens for what other machines send the run (approvals
 * of dual-control steps, notes): each is handed to the request callback,
 * possibly more than once (after a reconnect): the receiver dedups by id. */
#ifndef QRH_STATE_TEAM_LINK_H
#define QRH_STATE_TEAM_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "state/journal.h"
#include "util/err.h"
#include "util/loop.h"

struct team_link;

enum team_link_status {
	TEAM_LINK_CONNECTING,  /* never connected yet */
	TEAM_LINK_SYNCED,      /* everything committed is central */
	TEAM_LINK_BEHIND,      /* connected, shipping */
	TEAM_LINK_UNREACHABLE, /* down since `since_ms` */
};

struct team_link_view {
	enum team_link_status status;
	int64_t behind;    /* events of the current run not shipped yet */
	int64_t since_ms;  /* UNREACHABLE: wall clock it went down */
	const char *role;  /* our session_user, "" before connecting */
	const char *error; /* the last problem, "" none */
	uint64_t events_shipped; /* this session: rows the server took */
	uint64_t batches;
};

/* Something sent to the run from another machine. */
struct team_request {
	bool approval; /* else a note */
	const char *id; /* the row's UUID */
	const char *role; /* who inserted it: the server's session_user */
	int64_t at_ms;
	/* approval */
	const char *step_id;
	int64_t request_seq;
	const char *command_sha256;
	const char *decision; /* "approve" | "refuse" */
	const char *comment;
	/* note */
	const char *text;
};
typedef void team_request_fn(void *arg, const struct team_request *rq);

struct team_link *team_link_new(struct loop *l, struct journal *j,
				const char *conninfo, struct err *e);
void team_link_free(struct team_link *t);
/* Links run `run_id` (journal_team_link) and ships it first. */
int team_link_run(struct team_link *t, int64_t run_id, struct err *e);
/* Something was committed: ship soon (cheap; call after every commit).
 * Commits within a quarter second of the first go in one round. */
void team_link_kick(struct team_link *t);
/* Ship now, without waiting for more commits (the run's end). */
void team_link_flush(struct team_link *t);
/* Requests for the current run (approvals, notes); NULL: none. */
void team_link_on_request(struct team_link *t, team_request_fn *fn, void *arg);
/* Look for requests now (an approval is awaited). */
void team_link_poll_requests(struct team_link *t);
/* Our own statement of state; strings live until the next loop pass. */
void team_link_view(struct team_link *t, struct team_link_view *v);
/* "team: synced", "team: 42 events behind", "team: unreachable since
 * 14:02", "team: connecting" into buf. */
void team_link_describe(const struct team_link_view *v, char *buf, size_t n);
/* Nothing of any linked run is left to ship (and connected). */
bool team_link_synced(struct team_link *t);
/* The run's UUID ("" before team_link_run). */
const char *team_link_uuid(const struct team_link *t);

#endif
