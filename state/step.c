/* The step status table and the one transition function (state/step.h). */
#include "state/step.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "util/xalloc.h"

static const struct {
	const char *name;
	const char *words;
} statuses[STEP_STATUS_COUNT] = {
	[STEP_PENDING] = { "pending", "not run yet" },
	[STEP_RUNNING] = { "running", "running" },
	[STEP_RETRY_WAIT] = { "retry_wait", "waiting to try again" },
	[STEP_OK] = { "ok", "done" },
	[STEP_FAILED] = { "failed", "failed" },
	[STEP_TIMEOUT] = { "timeout", "timed out" },
	[STEP_CANCELLED] = { "cancelled", "cancelled" },
	[STEP_SKIPPED] = { "skipped", "skipped" },
	[STEP_DONE_BY_HAND] = { "done_by_hand", "done by hand" },
	[STEP_INTERRUPTED] = { "interrupted", "interrupted, outcome unknown" },
};

const char *step_status_name(enum step_status s)
{
	return (unsigned)s < STEP_STATUS_COUNT ? statuses[s].name : "unknown";
}

const char *step_status_words(enum step_status s)
{
	return (unsigned)s < STEP_STATUS_COUNT ? statuses[s].words : "unknown";
}

enum step_status step_status_parse(const char *name)
{
	for (int s = 0; name && s < STEP_STATUS_COUNT; s++)
		if (!strcmp(name, statuses[s].name))
			return (enum step_status)s;
	return STEP_FAILED;
}

bool step_status_final(enum step_status s)
{
	return s == STEP_OK || s == STEP_SKIPPED || s == STEP_DONE_BY_HAND;
}

void step_state_init(struct step_state *st)
{
	memset(st, 0, sizeof *st);
	st->status = STEP_PENDING;
	st->started_wall_ms = st->ended_wall_ms = STEP_NONE;
	st->duration_ms = st->elapsed_ms = st->exit_code = STEP_NONE;
	st->retry_at_wall_ms = STEP_NONE;
}

void step_state_release(struct step_state *st)
{
	free(st->attempts);
	free(st->detail);
	free(st->confirmed_by);
	free(st->confirmed_how);
	free(st->closed_by);
	step_state_init(st);
}

const struct step_attempt *step_state_attempt(const struct step_state *st,
					      int n)
{
	for (int i = st->n_attempts - 1; i >= 0; i--)
		if (st->attempts[i].n == n)
			return &st->attempts[i];
	return NULL;
}

/* ---- parsing ---- */

static const struct {
	const char *type;
	enum step_event_kind kind;
} kinds[] = {
	{ EV_STEP_CONFIRM, STEP_EV_CONFIRM },
	{ EV_STEP_START, STEP_EV_START },
	{ EV_STEP_END, STEP_EV_END },
	{ EV_STEP_RETRY, STEP_EV_RETRY },
	{ EV_STEP_CANCEL, STEP_EV_CANCEL },
	{ EV_STEP_SKIP, STEP_EV_SKIP },
	{ EV_STEP_DONE_BY_HAND, STEP_EV_DONE_BY_HAND },
	{ EV_STEP_INTERRUPTED, STEP_EV_INTERRUPTED },
};

static const char *member_str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* An integer member, or STEP_NONE; NaN and huge values are not numbers. */
static int64_t member_int(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	if (!cJSON_IsNumber(v) || !(v->valuedouble > -9.2e18 && v->valuedouble < 9.2e18))
		return STEP_NONE;
	return (int64_t)v->valuedouble;
}

void step_event_parse(const struct journal_event *ev, const cJSON *p,
		      int segment, struct step_event *out)
{
	memset(out, 0, sizeof *out);
	out->exit_code = out->duration_ms = out->backoff_ms = STEP_NONE;
	for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(ev->type, kinds[i].type))
			out->kind = kinds[i].kind;
	if (out->kind == STEP_EV_NONE)
		return;
	out->wall_ms = ev->wall_ms;
	out->mono_ns = ev->mono_ns;
	out->segment = segment;
	out->actor = ev->actor;
	int64_t attempt = member_int(p, "attempt");
	out->attempt = attempt > 0 && attempt < 1000000 ? (int)attempt : 0;
	switch (out->kind) {
	case STEP_EV_END:
		out->status = step_status_parse(member_str(p, "status"));
		out->exit_code = member_int(p, "exit_code");
		out->duration_ms = member_int(p, "duration_ms");
		out->summary = member_str(p, "summary");
		break;
	case STEP_EV_RETRY:
		out->backoff_ms = member_int(p, "backoff_ms");
		break;
	case STEP_EV_CONFIRM:
		out->text = member_str(p, "how");
		break;
	case STEP_EV_SKIP:
		out->text = member_str(p, "reason");
		break;
	case STEP_EV_DONE_BY_HAND:
		out->text = member_str(p, "note");
		break;
	default:
		break;
	}
}

/* ---- transitions ---- */

bool step_allowed(enum step_status from, enum step_event_kind k)
{
	switch (k) {
	case STEP_EV_CONFIRM:
		return !step_status_final(from) && from != STEP_RUNNING;
	case STEP_EV_START:
		return from == STEP_PENDING || from == STEP_FAILED ||
		       from == STEP_TIMEOUT || from == STEP_CANCELLED ||
		       from == STEP_INTERRUPTED || from == STEP_RETRY_WAIT;
	case STEP_EV_END:
	case STEP_EV_INTERRUPTED:
		return from == STEP_RUNNING;
	case STEP_EV_RETRY:
		return from == STEP_FAILED || from == STEP_TIMEOUT;
	case STEP_EV_CANCEL:
		return from == STEP_RETRY_WAIT;
	case STEP_EV_SKIP:
	case STEP_EV_DONE_BY_HAND:
		return !step_status_final(from) && from != STEP_RUNNING &&
		       from != STEP_RETRY_WAIT;
	case STEP_EV_NONE:
		break;
	}
	return false;
}

static void set_str(char **slot, const char *s)
{
	free(*slot);
	*slot = s ? xstrdup(s) : NULL;
}

static struct step_attempt *attempt_open(struct step_state *st,
					 const struct step_event *ev)
{
	int n = ev->attempt ? ev->attempt : st->attempt + 1;
	st->attempts = xrealloc(st->attempts, (size_t)(st->n_attempts + 1) * sizeof *st->attempts);
	struct step_attempt *a = &st->attempts[st->n_attempts++];
	memset(a, 0, sizeof *a);
	a->n = n;
	a->started_wall_ms = ev->wall_ms;
	a->started_mono_ns = ev->mono_ns;
	a->segment = ev->segment;
	a->ended_wall_ms = a->duration_ms = a->exit_code = STEP_NONE;
	a->status = STEP_RUNNING;
	if (n > st->attempt)
		st->attempt = n;
	return a;
}

/* The step's wall time so far: monotonic within one boot, else wall. */
static void elapsed_to(struct step_state *st, const struct step_event *ev,
		       bool same_boot)
{
	if (!st->n_attempts)
		return;
	const struct step_attempt *first = &st->attempts[0];
	st->elapsed_ms = same_boot ? (ev->mono_ns - first->started_mono_ns) / 1000000
				   : ev->wall_ms - first->started_wall_ms;
	if (st->elapsed_ms < 0)
		st->elapsed_ms = 0;
}

static void apply_end(struct step_state *st, const struct step_event *ev,
		      bool same_boot)
{
	struct step_attempt *a = st->n_attempts ? &st->attempts[st->n_attempts - 1] : NULL;
	if (!a || (ev->attempt && a->n != ev->attempt))
		a = attempt_open(st, ev); /* an end without its start: record it */
	a->status = ev->status;
	a->ended_wall_ms = ev->wall_ms;
	a->duration_ms = ev->duration_ms;
	a->exit_code = ev->exit_code;
	snprintf(a->summary, sizeof a->summary, "%s", ev->summary ? ev->summary : "");
	st->status = ev->status;
	st->ended_wall_ms = ev->wall_ms;
	st->duration_ms = ev->duration_ms;
	st->exit_code = ev->exit_code;
	snprintf(st->summary, sizeof st->summary, "%s", a->summary);
	elapsed_to(st, ev, same_boot);
}

static void apply_close(struct step_state *st, const struct step_event *ev,
			enum step_status to, bool same_boot)
{
	st->status = to;
	st->ended_wall_ms = ev->wall_ms;
	set_str(&st->detail, ev->text);
	set_str(&st->closed_by, ev->actor);
	elapsed_to(st, ev, same_boot);
}

int step_apply(struct step_state *st, const struct step_event *ev,
	       bool same_boot)
{
	bool ok = step_allowed(st->status, ev->kind);
	if (ev->kind != STEP_EV_NONE && ev->kind != STEP_EV_CONFIRM)
		st->retry_at_wall_ms = STEP_NONE; /* set again by a retry */
	switch (ev->kind) {
	case STEP_EV_NONE:
		return 0;
	case STEP_EV_CONFIRM:
		set_str(&st->confirmed_by, ev->actor);
		set_str(&st->confirmed_how, ev->text);
		break;
	case STEP_EV_START:
		attempt_open(st, ev);
		st->status = STEP_RUNNING;
		if (st->started_wall_ms == STEP_NONE)
			st->started_wall_ms = ev->wall_ms;
		st->exit_code = STEP_NONE;
		st->summary[0] = '\0';
		break;
	case STEP_EV_END:
		apply_end(st, ev, same_boot);
		break;
	case STEP_EV_RETRY:
		st->status = STEP_RETRY_WAIT;
		/* a front end counts down to the next attempt */
		st->retry_at_wall_ms = ev->backoff_ms >= 0 ? ev->wall_ms + ev->backoff_ms
							   : STEP_NONE;
		break;
	case STEP_EV_CANCEL:
		st->status = STEP_CANCELLED;
		st->ended_wall_ms = ev->wall_ms;
		snprintf(st->summary, sizeof st->summary, "cancelled while waiting to try again");
		break;
	case STEP_EV_SKIP:
		apply_close(st, ev, STEP_SKIPPED, same_boot);
		break;
	case STEP_EV_DONE_BY_HAND:
		apply_close(st, ev, STEP_DONE_BY_HAND, same_boot);
		break;
	case STEP_EV_INTERRUPTED:
		st->status = STEP_INTERRUPTED;
		if (st->n_attempts)
			st->attempts[st->n_attempts - 1].status = STEP_INTERRUPTED;
		snprintf(st->summary, sizeof st->summary, "interrupted: outcome unknown");
		break;
	}
	return ok ? 0 : -1;
}
