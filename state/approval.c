/* approval.c: dual control (state/run.h). The journal is the state:
 * whether a step may run is read from the fold's approval events, so a
 * resumed run knows what was asked and granted. Answers come from the
 * local socket (approval_sock.c: the kernel names the uid) or from the
 * team database (team_link: the server names the role); both go through
 * answer(), which journals an approval or a refusal. */
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/approval_sock.h"
#include "state/events.h"
#include "state/journal_team.h"
#include "state/run_priv.h"
#include "state/team_link.h"
#include "util/clock.h"
#include "util/sha256.h"
#include "util/xalloc.h"

struct approvals {
	struct approval_sock *sock; /* NULL until the first request */
	uint64_t timer;             /* the next expiry */
	char uuid[UUID_TEXT_LEN + 1];
};

/* One answer, from either way. */
struct answer {
	const char *via;   /* "local" | "team" */
	int64_t uid;       /* local: the kernel's word */
	int64_t pid;
	const char *role;  /* team: the server's session_user */
	const char *id;    /* team: the row's UUID */
	const char *step_id;
	int64_t request_seq;
	const char *command_sha256;
	bool refuse;       /* the approver declined */
	const char *comment;
};

/* The run's own setting (tests), the runbook's approval_ttl, the default. */
static int64_t ttl(const struct run *r)
{
	if (r->opts.approval_ttl_ms > 0)
		return r->opts.approval_ttl_ms;
	return r->rb->approval_ttl_ms > 0 ? r->rb->approval_ttl_ms : RUN_APPROVAL_TTL_MS;
}

/* The last request for step i since its last start (an older one is spent). */
static const struct fold_approval *last_request(const struct run *r, size_t i)
{
	const struct run_fold *f = &r->fold;
	const struct fold_approval *req = NULL;
	for (size_t k = 0; k < f->n_approvals; k++) {
		const struct fold_approval *a = &f->approvals[k];
		if (a->step == (int64_t)i && !strcmp(a->type, EV_APPROVAL_REQUEST) &&
		    a->seq > f->steps[i].start_seq)
			req = a;
	}
	return req;
}

/* The last answer of `type` to request req_seq. */
static const struct fold_approval *answer_of(const struct run *r, int64_t req_seq,
					     const char *type)
{
	const struct fold_approval *found = NULL;
	for (size_t k = 0; k < r->fold.n_approvals; k++)
		if (r->fold.approvals[k].request_seq == req_seq &&
		    !strcmp(r->fold.approvals[k].type, type))
			found = &r->fold.approvals[k];
	return found;
}

static const char *team_role(const struct run *r)
{
	if (!r->team)
		return "";
	struct team_link_view v;
	team_link_view(r->team, &v);
	return v.role ? v.role : "";
}

void run_approval(const struct run *r, size_t i, struct run_approval *out)
{
	memset(out, 0, sizeof *out);
	if (i >= r->rb->n_steps || !r->rb->steps[i].dual_control)
		return;
	out->state = RUN_APPROVAL_NEEDED;
	const struct fold_approval *req = last_request(r, i);
	if (!req)
		return;
	int64_t now = clock_wall_ms();
	const struct fold_approval *ok = answer_of(r, req->seq, EV_APPROVAL);
	const struct fold_approval *no = answer_of(r, req->seq, EV_APPROVAL_REFUSED);
	if (no)
		snprintf(out->refused, sizeof out->refused, "%s: %s", no->actor, no->reason);
	if (now >= req->expires_ms) {
		if (!ok)
			snprintf(out->refused, sizeof out->refused, "the request expired unanswered");
		return;
	}
	out->expires_ms = req->expires_ms;
	if (ok) {
		out->state = RUN_APPROVAL_GRANTED;
		snprintf(out->approver, sizeof out->approver, "%s", ok->actor);
		snprintf(out->via, sizeof out->via, "%s", ok->via);
		return;
	}
	out->state = RUN_APPROVAL_WAITING;
	const char *role = team_role(r);
	snprintf(out->awaited, sizeof out->awaited, "another OS user than %s (uid %lld)%s%s",
		 r->opts.os_user ? r->opts.os_user : "?", (long long)r->opts.uid,
		 *role ? " or another team role than " : "", role);
	snprintf(out->how_to, sizeof out->how_to, "qrh approve %s%s %s",
		 r->team ? "[--team CONNINFO] " : "", r->appr ? r->appr->uuid : "RUN",
		 r->rb->steps[i].id);
}

/* What step i runs, as the operator confirms it (secrets masked), and its
 * SHA-256: an approval is for exactly this. */
static int command_of(struct run *r, size_t i, struct buf *cmd,
		      char sha[SHA256_HEX_LEN + 1], struct err *e)
{
	buf_init(cmd, BUF_UNLIMITED);
	if (run_describe_step(r, i, cmd, e) < 0) {
		buf_release(cmd);
		return -1;
	}
	sha256_hex(cmd->data, cmd->len, sha);
	return 0;
}

static void on_expiry(struct loop *l, uint64_t id, void *arg);

/* Front ends are told when something changes, expiry included. */
static void arm_expiry(struct run *r)
{
	struct approvals *a = r->appr;
	int64_t now = clock_wall_ms(), next = 0;
	for (size_t k = 0; k < r->fold.n_approvals; k++) {
		int64_t x = r->fold.approvals[k].expires_ms;
		if (x > now && (!next || x < next))
			next = x;
	}
	if (a->timer)
		loop_timer_cancel(r->loop, a->timer);
	a->timer = next ? loop_timer_add(r->loop, next - now + 1, on_expiry, r) : 0;
}

static void on_expiry(struct loop *l, uint64_t id, void *arg)
{
	struct run *r = arg;
	(void)l;
	(void)id;
	r->appr->timer = 0;
	for (size_t i = 0; i < r->rb->n_steps; i++)
		if (r->rb->steps[i].dual_control)
			run_notify_step(r, i);
	arm_expiry(r);
}

static long step_by_id(const struct run *r, const char *id)
{
	for (size_t i = 0; id && i < r->rb->n_steps; i++)
		if (!strcmp(r->rb->steps[i].id, id))
			return (long)i;
	return -1;
}

static bool seen_id(const struct run *r, const char *id)
{
	for (size_t k = 0; id && *id && k < r->fold.n_approvals; k++)
		if (!strcmp(r->fold.approvals[k].id, id))
			return true;
	return false;
}

static void approver_name(const struct answer *an, char *out, size_t n)
{
	if (!strcmp(an->via, "team")) {
		snprintf(out, n, "role:%s", an->role);
		return;
	}
	struct passwd *pw = getpwuid((uid_t)an->uid);
	snprintf(out, n, "%s (uid %lld)", pw ? pw->pw_name : "?", (long long)an->uid);
}

/* Why an answer cannot approve, or NULL. */
static const char *why_not(struct run *r, long i, const struct answer *an,
			   const struct fold_approval *req)
{
	if (i < 0 || !r->rb->steps[i].dual_control)
		return "no such dual-control step";
	if (!req || req->seq != an->request_seq)
		return "no such request is awaiting an answer (it was answered, used or asked again)";
	if (clock_wall_ms() >= req->expires_ms)
		return "the request has expired";
	if (answer_of(r, req->seq, EV_APPROVAL))
		return "the request was already approved";
	if (!an->command_sha256 || strcmp(an->command_sha256, req->command_sha256))
		return "the approval is for another command than the one requested";
	if (!strcmp(an->via, "local") && an->uid == r->opts.uid)
		return "the same identity as the operator cannot approve (dual control)";
	if (!strcmp(an->via, "team")) {
		const char *role = team_role(r);
		if (!*role)
			return "the operator's team role is not known yet";
		if (!strcmp(role, an->role))
			return "the same identity as the operator cannot approve (dual control)";
	}
	if (an->refuse)
		return "declined by the approver";
	return NULL;
}

/* Journals the answer; 1 approved, 0 refused, -1 the journal failed. */
static int answer(struct run *r, const struct answer *an, const char **why, struct err *e)
{
	long i = step_by_id(r, an->step_id);
	const struct fold_approval *req = i >= 0 ? last_request(r, (size_t)i) : NULL;
	*why = why_not(r, i, an, req);
	char who[160];
	approver_name(an, who, sizeof who);
	cJSON *p = cJSON_CreateObject();
	cJSON_AddStringToObject(p, "step_id", an->step_id ? an->step_id : "");
	cJSON_AddNumberToObject(p, "request_seq", (double)an->request_seq);
	cJSON_AddStringToObject(p, "via", an->via);
	if (!strcmp(an->via, "local")) {
		cJSON_AddNumberToObject(p, "uid", (double)an->uid);
		cJSON_AddNumberToObject(p, "pid", (double)an->pid);
	} else {
		cJSON_AddStringToObject(p, "role", an->role);
		cJSON_AddStringToObject(p, "approval_id", an->id);
	}
	char *comment = run_redact(r, an->comment ? an->comment : "");
	cJSON_AddStringToObject(p, "comment", comment);
	free(comment);
	if (*why) {
		cJSON_AddStringToObject(p, "reason", *why);
	} else {
		cJSON_AddStringToObject(p, "command_sha256", an->command_sha256);
		cJSON_AddNumberToObject(p, "expires_ms", (double)req->expires_ms);
	}
	/* an answer to no step of this runbook is journaled with the run */
	if (run_emit(r, i, *why ? EV_APPROVAL_REFUSED : EV_APPROVAL, who, p, e) < 0)
		return -1;
	if (i >= 0)
		run_notify_step(r, (size_t)i);
	return *why ? 0 : 1;
}

/* ---- the local socket ---- */

static cJSON *hello(void *arg)
{
	struct run *r = arg;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "uuid", r->appr->uuid);
	cJSON_AddNumberToObject(o, "run_id", (double)r->id);
	cJSON_AddStringToObject(o, "title", r->rb->title ? r->rb->title : "");
	cJSON_AddStringToObject(o, "operator", r->actor ? r->actor : "");
	cJSON_AddNumberToObject(o, "uid", (double)r->opts.uid);
	cJSON *pend = cJSON_AddArrayToObject(o, "pending");
	for (size_t i = 0; i < r->rb->n_steps; i++) {
		struct run_approval st;
		run_approval(r, i, &st);
		const struct fold_approval *req = last_request(r, i);
		if (st.state != RUN_APPROVAL_WAITING || !req)
			continue;
		struct buf cmd;
		char sha[SHA256_HEX_LEN + 1];
		struct err e;
		cJSON *x = cJSON_CreateObject();
		cJSON_AddStringToObject(x, "step_id", r->rb->steps[i].id);
		cJSON_AddNumberToObject(x, "step", (double)i + 1);
		cJSON_AddStringToObject(x, "title", r->rb->steps[i].title);
		if (command_of(r, i, &cmd, sha, &e) == 0) {
			cJSON_AddStringToObject(x, "command", cmd.data);
			buf_release(&cmd);
		}
		cJSON_AddStringToObject(x, "command_sha256", req->command_sha256);
		cJSON_AddNumberToObject(x, "request_seq", (double)req->seq);
		cJSON_AddNumberToObject(x, "expires_ms", (double)req->expires_ms);
		cJSON_AddItemToArray(pend, x);
	}
	return o;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static cJSON *on_local_answer(void *arg, uid_t uid, pid_t pid, const cJSON *a)
{
	struct run *r = arg;
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(a, "request_seq");
	const char *decision = jstr(a, "decision");
	struct answer an = {
		.via = "local",
		.uid = uid,
		.pid = pid,
		.step_id = jstr(a, "step_id"),
		.request_seq = cJSON_IsNumber(seq) ? (int64_t)seq->valuedouble : 0,
		.command_sha256 = jstr(a, "command_sha256"),
		.refuse = !decision || strcmp(decision, "approve"),
		.comment = jstr(a, "comment"),
	};
	const char *why;
	struct err e;
	int rc = answer(r, &an, &why, &e);
	cJSON *reply = cJSON_CreateObject();
	cJSON_AddBoolToObject(reply, "ok", rc == 1);
	cJSON_AddStringToObject(reply, "message", rc < 0 ? e.msg : why ? why : "approved");
	return reply;
}

/* ---- the team database ---- */

/* A note a team member added (notes: anyone), journaled once with the
 * role the server names. */
static void team_note(struct run *r, const struct team_request *rq)
{
	struct err e;
	for (size_t k = 0; k < r->fold.n_notes; k++)
		if (!strcmp(r->fold.notes[k].id, rq->id))
			return; /* delivered again after a reconnect */
	if (!r->rb->notes_anyone || r->ended)
		return;
	char who[96];
	snprintf(who, sizeof who, "role:%s", rq->role);
	cJSON *p = cJSON_CreateObject();
	char *clean = run_redact(r, rq->text ? rq->text : "");
	cJSON_AddStringToObject(p, "text", clean);
	free(clean);
	cJSON_AddStringToObject(p, "via", "team");
	cJSON_AddStringToObject(p, "note_id", rq->id);
	if (run_emit(r, -1, EV_NOTE, who, p, &e) < 0)
		run_journal_failure(r, e.msg);
}

static void on_team_request(void *arg, const struct team_request *rq)
{
	struct run *r = arg;
	if (!rq->approval) {
		team_note(r, rq);
		return;
	}
	if (seen_id(r, rq->id))
		return; /* delivered again after a reconnect */
	struct answer an = {
		.via = "team",
		.role = rq->role,
		.id = rq->id,
		.step_id = rq->step_id,
		.request_seq = rq->request_seq,
		.command_sha256 = rq->command_sha256,
		.refuse = !rq->decision || strcmp(rq->decision, "approve"),
		.comment = rq->comment,
	};
	const char *why;
	struct err e;
	if (answer(r, &an, &why, &e) < 0)
		run_journal_failure(r, e.msg);
}

/* ---- the request ---- */

static int approvals_open(struct run *r, struct err *e)
{
	if (r->appr)
		return 0;
	struct approvals *a = xcalloc(1, sizeof *a);
	if (journal_run_uuid(r->j, r->id, a->uuid, e) < 0) {
		free(a);
		return -1;
	}
	r->appr = a;
	a->sock = approval_sock_open(r->loop, a->uuid, hello, on_local_answer, r, e);
	if (!a->sock && !r->team)
		return -1; /* no way for anyone to answer */
	return 0;
}

void run_approvals_team(struct run *r)
{
	if (r->team)
		team_link_on_request(r->team, on_team_request, r);
}

int run_approval_request(struct run *r, size_t i, struct err *e)
{
	if (r->observing || r->ended || i >= r->rb->n_steps)
		return err_set(e, "no approval can be asked for here");
	if (!r->rb->steps[i].dual_control)
		return err_set(e, "step %zu '%s' needs no approval", i + 1, r->rb->steps[i].id);
	struct run_approval st;
	run_approval(r, i, &st);
	if (approvals_open(r, e) < 0)
		return -1;
	if (st.state != RUN_APPROVAL_NEEDED) {
		arm_expiry(r);
		return 0;
	}
	struct buf cmd;
	char sha[SHA256_HEX_LEN + 1];
	if (command_of(r, i, &cmd, sha, e) < 0)
		return -1;
	int64_t expires = clock_wall_ms() + ttl(r);
	cJSON *p = run_step_payload(r, i, 0);
	cJSON_AddStringToObject(p, "command", cmd.data);
	cJSON_AddStringToObject(p, "command_sha256", sha);
	cJSON_AddNumberToObject(p, "ttl_ms", (double)ttl(r));
	cJSON_AddNumberToObject(p, "expires_ms", (double)expires);
	run_add_actor(r, p);
	if (r->team)
		cJSON_AddStringToObject(p, "team_role", team_role(r));
	if (r->appr->sock)
		cJSON_AddStringToObject(p, "socket", approval_sock_path(r->appr->sock));
	buf_release(&cmd);
	if (run_emit(r, (long)i, EV_APPROVAL_REQUEST, r->actor, p, e) < 0)
		return -1;
	if (r->team)
		team_link_poll_requests(r->team);
	arm_expiry(r);
	run_notify_step(r, i);
	return 0;
}

int run_approval_check(struct run *r, size_t i, struct err *e)
{
	struct run_approval st;
	run_approval(r, i, &st);
	if (st.state == RUN_APPROVAL_NONE)
		return 0;
	if (st.state != RUN_APPROVAL_GRANTED)
		return err_set(e, "step %zu '%s' needs an approval by another identity first "
			       "(dual control)", i + 1, r->rb->steps[i].id);
	struct buf cmd;
	char sha[SHA256_HEX_LEN + 1];
	if (command_of(r, i, &cmd, sha, e) < 0)
		return -1;
	buf_release(&cmd);
	if (strcmp(sha, last_request(r, i)->command_sha256))
		return err_set(e, "what step %zu '%s' runs changed since it was approved: "
			       "ask again", i + 1, r->rb->steps[i].id);
	return 0;
}

void run_approvals_free(struct run *r)
{
	if (r->team)
		team_link_on_request(r->team, NULL, NULL);
	if (!r->appr)
		return;
	if (r->appr->timer)
		loop_timer_cancel(r->loop, r->appr->timer);
	approval_sock_close(r->appr->sock);
	free(r->appr);
	r->appr = NULL;
}
