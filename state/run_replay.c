/* Resume: the state of a run rebuilt from its journal alone. Steps are
 * matched by id, so a runbook edited since (and accepted with
 * --runbook-changed-ok) maps onto the record by name, not by position. */
#include <stdio.h>
#include <string.h>

#include "state/events.h"
#include "state/run_priv.h"

struct replay {
	struct run *r;
	bool ended;
	bool notify; /* observing: tell the listener about each event */
	int64_t last_seq;
};

static long step_by_id(const struct run *r, const cJSON *p)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "step_id");
	if (!cJSON_IsString(id))
		return -1;
	for (size_t i = 0; i < r->rb->n_steps; i++)
		if (!strcmp(r->rb->steps[i].id, id->valuestring))
			return (long)i;
	return -1;
}

static enum step_status status_from(const char *s)
{
	if (!strcmp(s, "ok"))
		return STEP_OK;
	if (!strcmp(s, "timeout"))
		return STEP_TIMEOUT;
	if (!strcmp(s, "cancelled"))
		return STEP_CANCELLED;
	return STEP_FAILED;
}

static int number(const cJSON *p, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

static void apply_step_event(struct run *r, struct step_state *st,
			     const struct journal_event *ev, const cJSON *p)
{
	const char *t = ev->type;
	int attempt = number(p, "attempt", 0);
	if (attempt > st->attempt)
		st->attempt = attempt;
	if (!strcmp(t, EV_STEP_START)) {
		st->status = STEP_RUNNING;
		st->started_wall_ms = ev->wall_ms;
	} else if (!strcmp(t, EV_STEP_END)) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, "status");
		const cJSON *sum = cJSON_GetObjectItemCaseSensitive(p, "summary");
		st->status = cJSON_IsString(s) ? status_from(s->valuestring) : STEP_FAILED;
		st->exit_code = number(p, "exit_code", -1);
		st->duration_ms = number(p, "duration_ms", 0);
		st->ended_wall_ms = ev->wall_ms;
		snprintf(st->summary, sizeof st->summary, "%s",
			 cJSON_IsString(sum) ? sum->valuestring : "");
	} else if (!strcmp(t, EV_STEP_RETRY)) {
		/* it was waiting to try again: it runs again when confirmed */
		st->status = STEP_FAILED;
	} else if (!strcmp(t, EV_STEP_SKIP)) {
		st->status = STEP_SKIPPED;
	} else if (!strcmp(t, EV_STEP_DONE_BY_HAND)) {
		st->status = STEP_DONE_BY_HAND;
	} else if (!strcmp(t, EV_STEP_INTERRUPTED)) {
		st->status = STEP_INTERRUPTED;
		snprintf(st->summary, sizeof st->summary, "interrupted: outcome unknown");
	} else if (!strcmp(t, EV_CAPTURE)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(p, "name");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "value");
		if (cJSON_IsString(n) && cJSON_IsString(v))
			values_set(&r->values, n->valuestring, v->valuestring, false);
	}
}

static int replay_one(const struct journal_event *ev, void *ctx)
{
	struct replay *rp = ctx;
	rp->last_seq = ev->seq;
	if (!strcmp(ev->type, EV_RUN_END))
		rp->ended = true;
	if (ev->step >= 0) {
		cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
		long i = step_by_id(rp->r, p);
		if (i >= 0)
			apply_step_event(rp->r, &rp->r->steps[i], ev, p);
		cJSON_Delete(p);
	}
	if (rp->notify && rp->r->lis.event)
		rp->r->lis.event(rp->r->lis.arg, ev);
	return 0;
}

int run_observe(struct run *r, struct journal *j, int64_t id,
		const struct run_listener *lis)
{
	r->j = j;
	r->id = id;
	r->observing = true;
	r->observed_seq = 0;
	if (lis)
		r->lis = *lis;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)id);
	return 0;
}

int run_observe_poll(struct run *r, bool *ended, struct err *e)
{
	struct replay rp = { .r = r, .notify = true, .last_seq = r->observed_seq };
	if (journal_events_each(r->j, r->id, r->observed_seq, replay_one, &rp, e) < 0)
		return -1;
	r->observed_seq = rp.last_seq;
	r->observed_end = r->observed_end || rp.ended;
	*ended = r->observed_end;
	return 0;
}

int run_reopen_replay(struct run *r, struct err *e)
{
	struct replay rp = { .r = r };
	if (journal_events_each(r->j, r->id, 0, replay_one, &rp, e) < 0)
		return -1;
	if (rp.ended)
		return err_set(e, "run %lld has already ended", (long long)r->id);
	return 0;
}
