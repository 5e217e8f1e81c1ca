/* report_actions.c: what each attempt ran and where, for the evidence
 * document (state/report.h): every action with its resolved target (as
 * the operator confirmed it, no secret), a fan-out's members one by one,
 * values the operator picked, steps found interrupted on a resume with the
 * processes that survived them, background tasks reaped then, and what
 * the operator chose for the survivors. Only the events know these; the
 * fold keeps none of it. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "state/events.h"
#include "state/report.h"
#include "state/report_json.h"

void report_acts_init(struct report_acts *a)
{
	a->by_attempt = cJSON_CreateObject();
	a->picks = cJSON_CreateArray();
	a->interruptions = cJSON_CreateArray();
	a->reaped = cJSON_CreateArray();
	a->survivor_choices = cJSON_CreateArray();
}

void report_acts_release(struct report_acts *a)
{
	cJSON_Delete(a->by_attempt);
	cJSON_Delete(a->picks);
	cJSON_Delete(a->interruptions);
	cJSON_Delete(a->reaped);
	cJSON_Delete(a->survivor_choices);
	memset(a, 0, sizeof *a);
}

static void attempt_key(char *key, size_t n, int64_t step, int attempt)
{
	snprintf(key, n, "%lld:%d", (long long)step, attempt);
}

/* Copies member `key` of p into o (null when p lacks it). */
static void copy(cJSON *o, const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	cJSON_AddItemToObject(o, key, v ? cJSON_Duplicate(v, true) : cJSON_CreateNull());
}

static int num(const cJSON *p, const char *key, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

/* The action `action` of the attempt an event names, created on demand
 * (an action_end without its start: a journal cut short). */
static cJSON *action_of(struct report_acts *a, const struct journal_event *ev,
			const cJSON *p, bool create)
{
	char key[48];
	int action = num(p, "action", -1);
	attempt_key(key, sizeof key, ev->step, num(p, "attempt", 0));
	cJSON *list = cJSON_GetObjectItemCaseSensitive(a->by_attempt, key);
	cJSON *o;

	if (!list) {
		if (!create)
			return NULL;
		list = cJSON_AddArrayToObject(a->by_attempt, key);
	}
	cJSON_ArrayForEach(o, list)
		if (num(o, "action", -2) == action)
			return o;
	if (!create)
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddNumberToObject(o, "action", action);
	static const char *const keys[] = { "kind", "command", "target", "fanout", "task",
					    "status", "exit_code", "duration_ms", "summary",
					    "values" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		cJSON_AddNullToObject(o, keys[i]);
	cJSON_AddItemToArray(list, o);
	return o;
}

static void set(cJSON *o, const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	if (v)
		cJSON_ReplaceItemInObjectCaseSensitive(o, key, cJSON_Duplicate(v, true));
}

static void on_action_start(struct report_acts *a, const struct journal_event *ev,
			    const cJSON *p)
{
	cJSON *o = action_of(a, ev, p, true);
	static const char *const keys[] = { "kind", "command", "target", "fanout", "task" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		set(o, p, keys[i]);
	if (cJSON_GetObjectItemCaseSensitive(p, "fanout"))
		cJSON_AddArrayToObject(o, "hosts");
}

static cJSON *host_json(const cJSON *p)
{
	cJSON *h = cJSON_CreateObject();
	static const char *const keys[] = { "label", "task", "status", "exit_code",
					     "duration_ms", "summary" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		copy(h, p, keys[i]);
	return h;
}

/* A member's end, as it happens: a fan-out still running shows those done. */
static void on_task_end(struct report_acts *a, const struct journal_event *ev,
			const cJSON *p)
{
	cJSON *o = action_of(a, ev, p, true);
	cJSON *hosts = cJSON_GetObjectItemCaseSensitive(o, "hosts");
	if (!hosts)
		hosts = cJSON_AddArrayToObject(o, "hosts");
	cJSON_AddItemToArray(hosts, host_json(p));
}

/* The action's end has every member, those never started included; the
 * members' own ends add their durations. */
static void on_action_end(struct report_acts *a, const struct journal_event *ev,
			  const cJSON *p)
{
	cJSON *o = action_of(a, ev, p, true);
	static const char *const keys[] = { "status", "exit_code", "duration_ms", "summary",
					    "values", "task" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++)
		set(o, p, keys[i]);
	const cJSON *ended = cJSON_GetObjectItemCaseSensitive(p, "hosts"), *h;
	if (!cJSON_IsArray(ended))
		return;
	cJSON *seen = cJSON_GetObjectItemCaseSensitive(o, "hosts");
	cJSON *all = cJSON_CreateArray();
	cJSON_ArrayForEach(h, ended) {
		cJSON *row = host_json(h), *s;
		cJSON_ArrayForEach(s, seen)
			if (num(s, "task", -1) == num(h, "task", -2))
				set(row, s, "duration_ms");
		cJSON_AddItemToArray(all, row);
	}
	if (seen)
		cJSON_ReplaceItemInObjectCaseSensitive(o, "hosts", all);
	else
		cJSON_AddItemToObject(o, "hosts", all);
}

static cJSON *brief(const struct journal_event *ev, const cJSON *p)
{
	cJSON *o = cJSON_CreateObject();
	report_json_int(o, "seq", ev->seq);
	report_json_time(o, "at", ev->wall_ms);
	report_json_int(o, "step", ev->step < 0 ? REPORT_NONE : ev->step);
	copy(o, p, "step_id");
	return o;
}

void report_acts_event(struct report_acts *a, const struct journal_event *ev)
{
	const char *t = ev->type;
	cJSON *p, *o;

	if (strcmp(t, EV_ACTION_START) && strcmp(t, EV_ACTION_END) && strcmp(t, EV_TASK_END) &&
	    strcmp(t, EV_CAPTURE) && strcmp(t, EV_STEP_INTERRUPTED) && strcmp(t, EV_TASK_REAPED) &&
	    strncmp(t, "survivor_", 9))
		return;
	p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	if (!cJSON_IsObject(p)) {
		cJSON_Delete(p);
		return;
	}
	if (!strcmp(t, EV_ACTION_START)) {
		on_action_start(a, ev, p);
	} else if (!strcmp(t, EV_TASK_END)) {
		on_task_end(a, ev, p);
	} else if (!strcmp(t, EV_ACTION_END)) {
		on_action_end(a, ev, p);
	} else if (!strcmp(t, EV_CAPTURE)) {
		const cJSON *how = cJSON_GetObjectItemCaseSensitive(p, "how");
		if (cJSON_IsString(how) && !strcmp(how->valuestring, "picked")) {
			o = brief(ev, p);
			report_json_str(o, "actor", ev->actor);
			copy(o, p, "name");
			copy(o, p, "value");
			cJSON_AddItemToArray(a->picks, o);
		}
	} else if (!strncmp(t, "survivor_", 9)) {
		o = brief(ev, p);
		report_json_str(o, "actor", ev->actor);
		report_json_str(o, "what", t + 9);
		copy(o, p, "pgids");
		copy(o, p, "task");
		copy(o, p, "pgid");
		copy(o, p, "how");
		copy(o, p, "after_ms");
		cJSON_AddItemToArray(a->survivor_choices, o);
	} else if (!strcmp(t, EV_STEP_INTERRUPTED)) {
		o = brief(ev, p);
		copy(o, p, "attempt");
		copy(o, p, "survivors");
		cJSON_AddItemToArray(a->interruptions, o);
	} else {
		o = brief(ev, p);
		copy(o, p, "task");
		copy(o, p, "pgid");
		copy(o, p, "how");
		cJSON_AddItemToArray(a->reaped, o);
	}
	cJSON_Delete(p);
}

/* Moves what was gathered into the document: each timing of each step
 * gets its "actions" (possibly empty); "picks", "interruptions" and
 * "reaped" and "survivor_choices" are always there. */
void report_acts_finish(struct report_acts *a, cJSON *doc)
{
	const cJSON *s;
	cJSON *t;
	char key[48];

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(doc, "steps")) {
		const cJSON *index = cJSON_GetObjectItemCaseSensitive(s, "index");
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "timings")) {
			attempt_key(key, sizeof key, cJSON_IsNumber(index) ? (int64_t)index->valuedouble : -1,
				    num(t, "attempt", 0));
			cJSON *list = cJSON_DetachItemFromObjectCaseSensitive(a->by_attempt, key);
			cJSON_AddItemToObject(t, "actions", list ? list : cJSON_CreateArray());
		}
	}
	cJSON_AddItemToObject(doc, "picks", a->picks);
	cJSON_AddItemToObject(doc, "interruptions", a->interruptions);
	cJSON_AddItemToObject(doc, "reaped", a->reaped);
	cJSON_AddItemToObject(doc, "survivor_choices", a->survivor_choices);
	a->picks = a->interruptions = a->reaped = a->survivor_choices = NULL;
}
