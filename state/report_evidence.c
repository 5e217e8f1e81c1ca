/* report_evidence.c: what the evidence document holds for an auditor
 * beyond the steps and the chain (state/report.h): the run's variables,
 * every operator and handover, notes, approvals and failed notifications
 * when there are any, each attempt's timings on the run's own clock (and
 * what it ran where: state/report_actions.c), the clock source and any
 * wall-clock jump seen during the run. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/report.h"
#include "state/report_json.h"
#include "util/clock.h"

/* The run row's "vars" (secret values already ***) and the objectives'
 * budgets as the runbook declared them. */
static void vars_members(const struct journal_run *run, cJSON *doc)
{
	cJSON *o = cJSON_Parse(run->vars_json ? run->vars_json : "{}");
	cJSON *vars = cJSON_DetachItemFromObjectCaseSensitive(o, "vars");
	cJSON *obj = cJSON_GetObjectItemCaseSensitive(o, "objectives");
	cJSON *budgets = cJSON_CreateObject();
	static const char *const keys[] = { "rto_ms", "rpo_ms" };

	if (!cJSON_IsObject(vars)) {
		cJSON_Delete(vars);
		vars = cJSON_CreateObject();
	}
	cJSON_AddItemToObject(doc, "vars", vars);
	for (size_t i = 0; i < 2; i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, keys[i]);
		if (cJSON_IsNumber(v))
			cJSON_AddNumberToObject(budgets, keys[i], v->valuedouble);
		else
			cJSON_AddNullToObject(budgets, keys[i]);
	}
	cJSON_AddItemToObject(doc, "budgets", budgets);
	cJSON_Delete(o);
}

static cJSON *handovers_json(const struct run_fold *f)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 1; i < f->n_segments; i++) {
		const struct fold_segment *from = &f->segments[i - 1], *to = &f->segments[i];
		if (!strcmp(from->actor, to->actor))
			continue;
		cJSON *o = cJSON_CreateObject();
		report_json_int(o, "seq", to->seq);
		report_json_time(o, "at", to->first_wall_ms);
		report_json_int(o, "at_ms", fold_offset_ms(f, (int)i, to->first_mono_ns));
		report_json_str(o, "from", from->actor);
		report_json_str(o, "to", to->actor);
		report_json_str(o, "to_os_user", to->os_user);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* Each session's start on the run's clock, for the timeline. */
static void sessions_offsets(const struct run_fold *f, const char *os_user,
			     cJSON *sessions)
{
	for (size_t i = 0; i < f->n_segments; i++) {
		cJSON *o = cJSON_GetArrayItem(sessions, (int)i);
		if (!o)
			continue;
		report_json_int(o, "at_ms", fold_offset_ms(f, (int)i, f->segments[i].first_mono_ns));
		/* run_start does not repeat the run row's OS user */
		if (i == 0 && cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, "os_user")) && os_user)
			cJSON_ReplaceItemInObjectCaseSensitive(o, "os_user", cJSON_CreateString(os_user));
	}
}

static const char *step_id_at(const struct run_report *r, int64_t index)
{
	for (size_t i = 0; i < r->n_steps; i++)
		if (r->steps[i].index == index)
			return r->steps[i].id;
	return NULL;
}

static cJSON *notes_json(const struct run_report *r)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < r->n_notes; i++) {
		const struct report_note *n = &r->notes[i];
		cJSON *o = cJSON_CreateObject();
		report_json_int(o, "seq", n->seq);
		report_json_time(o, "at", n->wall_ms);
		report_json_int(o, "step", n->step < 0 ? REPORT_NONE : n->step);
		report_json_str(o, "step_id", n->step < 0 ? NULL : step_id_at(r, n->step));
		report_json_str(o, "actor", n->actor);
		report_json_str(o, "text", n->text);
		cJSON_AddItemToArray(a, o);
	}
	return a;
}

/* ---- per attempt ---- */

static cJSON *attempt_json(const struct run_fold *f, const struct step_attempt *a)
{
	cJSON *o = cJSON_CreateObject();

	report_json_int(o, "attempt", a->n);
	cJSON_AddStringToObject(o, "status", step_status_name(a->status));
	report_json_time(o, "started_at", a->started_wall_ms);
	report_json_time(o, "ended_at", a->ended_wall_ms);
	report_json_int(o, "duration_ms", a->duration_ms);
	report_json_int(o, "exit_code", a->exit_code);
	report_json_str(o, "summary", a->summary[0] ? a->summary : NULL);
	/* where it starts on the run's clock (monotonic within a boot) */
	report_json_int(o, "at_ms", fold_offset_ms(f, a->segment, a->started_mono_ns));
	report_json_int(o, "session", a->segment);
	return o;
}

static void step_members(const struct run_report *r, const struct report_step *s,
			 cJSON *o)
{
	cJSON *t = cJSON_AddArrayToObject(o, "timings");

	for (int k = 0; s->state && k < s->state->n_attempts; k++)
		cJSON_AddItemToArray(t, attempt_json(&r->fold, &s->state->attempts[k]));
	report_json_str(o, "summary", s->summary);
	if (s->status == STEP_SKIPPED || s->status == STEP_DONE_BY_HAND) {
		cJSON *c = cJSON_AddObjectToObject(o, "closed");
		cJSON_AddStringToObject(c, "how", step_status_name(s->status));
		report_json_str(c, "by", s->closed_by);
		report_json_str(c, "text", s->detail);
	} else {
		cJSON_AddNullToObject(o, "closed");
	}
}

/* ---- what only the events say ---- */

struct scan {
	int64_t last_seq;
	int64_t prev_wall, prev_mono;
	bool have_prev;
	cJSON *jumps, *approvals, *notifications;
};

/* A wall clock stepped (NTP, by hand) or a suspend shows as wall time
 * moving apart from monotonic time between two consecutive events of one
 * boot; durations are monotonic, so they are not affected, and the
 * timeline uses monotonic offsets too. */
static void jump_check(struct scan *s, const struct journal_event *ev, bool new_boot)
{
	if (s->have_prev && !new_boot) {
		int64_t dwall = ev->wall_ms - s->prev_wall;
		int64_t dmono = (ev->mono_ns - s->prev_mono) / 1000000;
		int64_t jump = dwall - dmono;
		if (jump >= REPORT_CLOCK_JUMP_MS || jump <= -REPORT_CLOCK_JUMP_MS) {
			cJSON *o = cJSON_CreateObject();
			report_json_int(o, "seq", ev->seq);
			report_json_time(o, "at", ev->wall_ms);
			report_json_int(o, "wall_ms", dwall);
			report_json_int(o, "monotonic_ms", dmono);
			report_json_int(o, "jump_ms", jump);
			cJSON_AddItemToArray(s->jumps, o);
		}
	}
	s->prev_wall = ev->wall_ms;
	s->prev_mono = ev->mono_ns;
	s->have_prev = true;
}

static cJSON *event_brief(const struct journal_event *ev)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");

	report_json_int(o, "seq", ev->seq);
	report_json_time(o, "at", ev->wall_ms);
	report_json_int(o, "step", ev->step < 0 ? REPORT_NONE : ev->step);
	report_json_str(o, "type", ev->type);
	report_json_str(o, "actor", ev->actor);
	cJSON_AddItemToObject(o, "payload", p ? p : cJSON_CreateObject());
	return o;
}

struct scan_ctx {
	struct scan s;
	struct report_acts acts;
	char boot[FOLD_BOOT_ID_MAX]; /* of the segment being read; "": unknown */
};

/* A start or resume in another boot (or one that does not say) begins
 * a new monotonic clock: no comparison across it. */
static bool boot_changes(const struct journal_event *ev, struct scan_ctx *c)
{
	if (strcmp(ev->type, EV_RUN_START) && strcmp(ev->type, EV_RUN_RESUME))
		return false;
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(p, "boot_id");
	const char *now = cJSON_IsString(b) ? b->valuestring : "";
	bool changed = !now[0] || !c->boot[0] || strcmp(now, c->boot) != 0;
	snprintf(c->boot, sizeof c->boot, "%s", now);
	cJSON_Delete(p);
	return changed;
}

static int scan_event(const struct journal_event *ev, void *arg)
{
	struct scan_ctx *c = arg;

	if (ev->seq > c->s.last_seq)
		return 1;
	jump_check(&c->s, ev, boot_changes(ev, c));
	report_acts_event(&c->acts, ev);
	/* dual control is journaled by the approval events (any type that
	 * names an approval): listed when present */
	if (strstr(ev->type, "approv"))
		cJSON_AddItemToArray(c->s.approvals, event_brief(ev));
	else if (!strcmp(ev->type, EV_NOTIFY_FAILED))
		cJSON_AddItemToArray(c->s.notifications, event_brief(ev));
	return 0;
}

static size_t boots_count(const struct run_fold *f)
{
	size_t n = f->n_segments ? 1 : 0;
	for (size_t i = 1; i < f->n_segments; i++)
		if (!fold_same_boot(f, (int)i - 1, (int)i))
			n++;
	return n;
}

static cJSON *clock_json(const struct run_fold *f, cJSON *jumps)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "wall", "CLOCK_REALTIME (UTC), for the times shown");
	cJSON_AddStringToObject(o, "monotonic", "CLOCK_MONOTONIC, for every duration");
	cJSON_AddStringToObject(o, "durations",
				"monotonic within one boot; across a reboot, the wall "
				"clock between the two boots only");
	report_json_int(o, "boots", (int64_t)boots_count(f));
	report_json_int(o, "jump_threshold_ms", REPORT_CLOCK_JUMP_MS);
	cJSON_AddItemToObject(o, "wall_jumps", jumps);
	return o;
}

int report_evidence_json(struct journal *j, const struct run_report *r,
			 cJSON *doc, struct err *e)
{
	struct scan_ctx c = { .s = { .last_seq = r->head.seq } };
	cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run");
	cJSON *steps = cJSON_GetObjectItemCaseSensitive(doc, "steps");

	cJSON_AddBoolToObject(run, "in_progress", r->run.outcome == NULL);
	report_json_str(run, "os_user", r->run.os_user);
	report_json_int(run, "uid", r->run.uid);
	vars_members(&r->run, doc);
	cJSON_AddItemToObject(doc, "handovers", handovers_json(&r->fold));
	sessions_offsets(&r->fold, r->run.os_user, cJSON_GetObjectItemCaseSensitive(doc, "sessions"));
	cJSON_AddItemToObject(doc, "notes", notes_json(r));
	for (size_t i = 0; i < r->n_steps; i++)
		step_members(r, &r->steps[i], cJSON_GetArrayItem(steps, (int)i));
	c.s.jumps = cJSON_CreateArray();
	c.s.approvals = cJSON_CreateArray();
	c.s.notifications = cJSON_CreateArray();
	report_acts_init(&c.acts);
	if (journal_events_each(j, r->run.id, 0, scan_event, &c, e) < 0) {
		cJSON_Delete(c.s.jumps);
		cJSON_Delete(c.s.approvals);
		cJSON_Delete(c.s.notifications);
		report_acts_release(&c.acts);
		return -1;
	}
	report_acts_finish(&c.acts, doc);
	report_acts_release(&c.acts);
	cJSON_AddItemToObject(doc, "clock", clock_json(&r->fold, c.s.jumps));
	if (cJSON_GetArraySize(c.s.approvals))
		cJSON_AddItemToObject(doc, "approvals", c.s.approvals);
	else
		cJSON_Delete(c.s.approvals);
	if (cJSON_GetArraySize(c.s.notifications))
		cJSON_AddItemToObject(doc, "notifications_failed", c.s.notifications);
	else
		cJSON_Delete(c.s.notifications);
	return 0;
}

static void duration_add(struct buf *b, int64_t ms)
{
	char words[32];
	clock_duration_words(ms, words, sizeof words);
	buf_adds(b, words);
}

bool report_objective_words(const cJSON *doc, const char *name, struct buf *b)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(
		cJSON_GetObjectItemCaseSensitive(doc, "objectives"), name);
	const cJSON *budgets = cJSON_GetObjectItemCaseSensitive(doc, "budgets");
	const cJSON *v, *met;
	char key[16];
	int64_t budget = -1;

	snprintf(key, sizeof key, "%s_ms", name);
	v = cJSON_GetObjectItemCaseSensitive(o ? o : budgets, o ? "budget_ms" : key);
	if (cJSON_IsNumber(v))
		budget = (int64_t)v->valuedouble;
	if (!o && budget < 0)
		return false;
	for (const char *p = name; *p; p++)
		buf_addc(b, (char)(*p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p));
	v = o ? cJSON_GetObjectItemCaseSensitive(o, "measured_ms") : NULL;
	if (!cJSON_IsNumber(v)) {
		buf_adds(b, budget >= 0 ? " budget " : "");
		if (budget >= 0)
			duration_add(b, budget);
		buf_adds(b, ": not measured");
		return true;
	}
	buf_addc(b, ' ');
	duration_add(b, (int64_t)v->valuedouble);
	if (budget >= 0) {
		buf_adds(b, " of a ");
		duration_add(b, budget);
		buf_adds(b, " budget");
	}
	v = cJSON_GetObjectItemCaseSensitive(o, "rows_lost");
	if (cJSON_IsNumber(v))
		buf_addf(b, ", %lld rows lost", (long long)v->valuedouble);
	met = cJSON_GetObjectItemCaseSensitive(o, "met");
	buf_adds(b, cJSON_IsTrue(met) ? ": met" : cJSON_IsFalse(met) ? ": NOT MET" : "");
	return true;
}
