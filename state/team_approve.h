/* team_approve: the approver's side of dual control through the team
 * database (`qrh approve --team`): the request awaiting an answer, read
 * from the central copy of the run's events, the answer inserted into
 * qrh.approvals (the server stamps who: session_user), and the running
 * qrh's verdict, which comes back as a journaled event. Blocking: for a
 * command, not the loop. */
#ifndef QRH_STATE_TEAM_APPROVE_H
#define QRH_STATE_TEAM_APPROVE_H

#include <cjson/cJSON.h>
#include <libpq-fe.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/err.h"
#include "util/uuid.h"

struct team_pending {
	char uuid[UUID_TEXT_LEN + 1];
	char role[64];     /* our session_user */
	int64_t seq;       /* the request's */
	cJSON *request;    /* its payload (caller frees) */
	char requester[128];
	bool answered;     /* an approval already exists for it */
};
/* The newest request of step `step` (an id) in run `run` (a UUID or a
 * prefix of one). */
int team_approval_pending(PGconn *c, const char *run, const char *step,
			  struct team_pending *out, struct err *e);
/* Inserts the answer; *id gets the row's UUID. */
int team_approval_send(PGconn *c, const struct team_pending *p, bool approve,
		       const char *comment, char id[UUID_TEXT_LEN + 1],
		       struct err *e);
/* Waits up to timeout_ms for the running qrh's verdict on answer `id`:
 * 1 approved, 0 refused (why in reason), -1 an error or no verdict. */
int team_approval_verdict(PGconn *c, const char *uuid, const char *id,
			  int timeout_ms, char *reason, size_t n, struct err *e);

#endif
