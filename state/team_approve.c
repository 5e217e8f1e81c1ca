/* team_approve.c: the approver's side through the team database
 * (state/team_approve.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/team.h"
#include "state/team_approve.h"

int team_approval_pending(PGconn *c, const char *run, const char *step,
			  struct team_pending *out, struct err *e)
{
	memset(out, 0, sizeof *out);
	if (team_run_find(c, run, out->uuid, out->role, sizeof out->role, e) < 0)
		return -1;
	const char *v[] = { out->uuid, step };
	PGresult *r = team_query(c,
		"SELECT q.seq::text, q.payload, q.actor, EXISTS (SELECT 1 FROM qrh.events a "
		"WHERE a.run_uuid = q.run_uuid AND a.type = 'approval' AND "
		"(a.payload::json->>'request_seq')::bigint = q.seq) FROM qrh.events q "
		"WHERE q.run_uuid = $1::uuid AND q.type = 'approval_request' AND "
		"(q.payload::json->>'step_id' = $2 OR (q.step + 1)::text = $2) "
		"ORDER BY q.seq DESC LIMIT 1", 2, v, "cannot read the request", e);
	if (!r)
		return -1;
	if (PQntuples(r) != 1) {
		PQclear(r);
		return err_set(e, "step '%s' of run %s has asked for no approval (yet: its request "
			       "may still be on its way)", step, out->uuid);
	}
	out->seq = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	out->request = cJSON_Parse(PQgetvalue(r, 0, 1));
	snprintf(out->requester, sizeof out->requester, "%s", PQgetvalue(r, 0, 2));
	out->answered = PQgetvalue(r, 0, 3)[0] == 't';
	PQclear(r);
	if (!cJSON_IsObject(out->request)) {
		cJSON_Delete(out->request);
		out->request = NULL;
		return err_set(e, "the request of step '%s' is not JSON", step);
	}
	return 0;
}

static const char *field(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

int team_approval_send(PGconn *c, const struct team_pending *p, bool approve,
		       const char *comment, char id[UUID_TEXT_LEN + 1],
		       struct err *e)
{
	char seq[24];
	snprintf(seq, sizeof seq, "%lld", (long long)p->seq);
	const char *v[] = { p->uuid, field(p->request, "step_id"), seq,
			    field(p->request, "command_sha256"),
			    approve ? "approve" : "refuse", comment ? comment : "" };
	return team_insert_id(c, "INSERT INTO qrh.approvals (run_uuid, step_id, request_seq, "
			      "command_sha256, decision, comment) VALUES ($1::uuid, $2, $3::bigint, "
			      "$4, $5, $6) RETURNING id::text", 6, v, "cannot send the answer", id, e);
}

int team_approval_verdict(PGconn *c, const char *uuid, const char *id,
			  int timeout_ms, char *reason, size_t n, struct err *e)
{
	const char *v[] = { uuid, id };
	PGresult *r = team_poll(c, "SELECT type, payload::json->>'reason' FROM qrh.events "
			   "WHERE run_uuid = $1::uuid AND type IN ('approval', 'approval_refused') "
			   "AND payload::json->>'approval_id' = $2 LIMIT 1", 2, v, timeout_ms,
			   "cannot read the verdict", e);
	if (!r)
		return -1;
	if (PQntuples(r) == 0) {
		PQclear(r);
		return err_set(e, "no verdict from the running qrh within %d s (it takes the "
			       "answer when it is connected)", timeout_ms / 1000);
	}
	int ok = !strcmp(PQgetvalue(r, 0, 0), "approval");
	snprintf(reason, n, "%s", PQgetvalue(r, 0, 1));
	PQclear(r);
	return ok;
}
