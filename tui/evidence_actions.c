/* evidence_actions.c: the sections of evidence.md and report.html that say
 * what each attempt ran and where (the resolved target, a fan-out's
 * members one row each), the values the operator picked, and what a
 * resume found (interrupted steps, the processes that survived them,
 * background tasks reaped, what the operator chose for the survivors and
 * how they went); and the failed members junit.xml names. All from the
 * document's "actions", "picks", "interruptions", "reaped" and
 * "survivor_choices" (state/report.h). */
#include <stdio.h>
#include <string.h>

#include "tui/evidence.h"

/* Where an action ran, in words: "group fleet: 3 members, 2 at a time,
 * require all", "replica (postgres host=db2 user=qrh)", "this machine",
 * "this machine, for web1 (ssh ops@web1)". */
static void where(const struct ev_markup *m, const cJSON *a, struct buf *b)
{
	const cJSON *fo = cJSON_GetObjectItemCaseSensitive(a, "fanout");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(a, "target");
	struct buf w;

	buf_init(&w, 1024);
	/* an sh or exec action runs here, whatever its target says */
	if ((cJSON_IsObject(fo) || cJSON_IsObject(t)) && ev_str(a, "kind") &&
	    (!strcmp(ev_str(a, "kind"), "sh") || !strcmp(ev_str(a, "kind"), "exec")))
		buf_adds(&w, "this machine, for ");
	if (cJSON_IsObject(fo)) {
		buf_addf(&w, "group %s: %lld members, %lld at a time, require %s",
			 ev_str(fo, "group") ? ev_str(fo, "group") : "?",
			 (long long)ev_int(fo, "members", 0), (long long)ev_int(fo, "parallel", 0),
			 ev_str(fo, "require") ? ev_str(fo, "require") : "all");
	} else if (cJSON_IsObject(t)) {
		buf_addf(&w, "%s (%s", ev_str(t, "name") ? ev_str(t, "name") : "?",
			 ev_str(t, "kind") ? ev_str(t, "kind") : "?");
		if (ev_str(t, "url"))
			buf_addf(&w, " %s", ev_str(t, "url"));
		if (ev_str(t, "dsn"))
			buf_addf(&w, " %s", ev_str(t, "dsn"));
		if (ev_str(t, "context"))
			buf_addf(&w, " context %s", ev_str(t, "context"));
		if (ev_str(t, "host"))
			buf_addf(&w, " %s%s%s", ev_str(t, "user") ? ev_str(t, "user") : "",
				 ev_str(t, "user") ? "@" : "", ev_str(t, "host"));
		if (ev_has_num(t, "port"))
			buf_addf(&w, ":%lld", (long long)ev_int(t, "port", 0));
		buf_adds(&w, ev_bool(t, "insecure") ? ", TLS NOT VERIFIED" : "");
		buf_adds(&w, ev_bool(t, "trust_new") ? ", new host keys trusted" : "");
		buf_adds(&w, ")");
	} else {
		buf_adds(&w, "this machine");
	}
	m->text(b, w.data);
	buf_release(&w);
}

static void result(const struct ev_markup *m, const cJSON *o, struct buf *b)
{
	m->text(b, ev_str(o, "status") ? ev_str(o, "status") : "running");
	if (ev_str(o, "summary")) {
		buf_adds(b, ": ");
		m->text(b, ev_str(o, "summary"));
	}
}

static void action_row(const struct ev_markup *m, const cJSON *s, const cJSON *t,
		       const cJSON *a, struct buf *b)
{
	buf_adds(b, m->row);
	buf_addf(b, "%lld%s%lld%s%lld ", (long long)ev_int(s, "index", 0) + 1, m->cell_sep,
		 (long long)ev_int(t, "attempt", 0), m->cell_sep,
		 (long long)ev_int(a, "action", 0) + 1);
	m->text(b, ev_str(a, "kind") ? ev_str(a, "kind") : "?");
	buf_adds(b, m->cell_sep);
	where(m, a, b);
	buf_adds(b, m->cell_sep);
	result(m, a, b);
	buf_adds(b, m->cell_sep);
	ev_duration(b, ev_int(a, "duration_ms", -1));
	buf_adds(b, m->row_end);
}

static void member_row(const struct ev_markup *m, const cJSON *h, struct buf *b)
{
	buf_adds(b, m->html ? "<tr class=\"member\"><td>" : m->row);
	buf_addf(b, "%s%s\u21b3 member%s", m->cell_sep, m->cell_sep, m->cell_sep);
	m->text(b, ev_str(h, "label") ? ev_str(h, "label") : "?");
	buf_adds(b, m->cell_sep);
	result(m, h, b);
	buf_adds(b, m->cell_sep);
	ev_duration(b, ev_int(h, "duration_ms", -1));
	buf_adds(b, m->row_end);
}

void ev_section_actions(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	static const char *const cols[] = { "#", "attempt", "action", "where", "result",
					    "duration", NULL };
	const cJSON *s, *t, *a, *h;
	bool any = false;

	cJSON_ArrayForEach(s, cJSON_GetObjectItemCaseSensitive(ev->doc, "steps")) {
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s, "timings")) {
			cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(t, "actions")) {
				if (!any) {
					buf_addf(b, "%sActions and targets%s", m->h2, m->h2_end);
					ev_table_head(m, b, "actions", cols);
				}
				any = true;
				action_row(m, s, t, a, b);
				cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(a, "hosts"))
					member_row(m, h, b);
			}
		}
	}
	if (any)
		buf_addf(b, "%s%sTargets as the operator confirmed them, secrets left out; a "
			 "fan-out's members one row each (not_run: never started).%s",
			 m->table_end, m->para, m->para_end);
}

static void survivors(const struct ev_markup *m, const cJSON *i, struct buf *b)
{
	const cJSON *v, *all = cJSON_GetObjectItemCaseSensitive(i, "survivors");

	if (!cJSON_GetArraySize(all)) {
		buf_adds(b, "; no process of it was left");
		return;
	}
	buf_adds(b, "; still running then: ");
	cJSON_ArrayForEach(v, all) {
		buf_addf(b, "%stask %lld, process group %lld, ", v == all->child ? "" : m->br,
			 (long long)ev_int(v, "task", 0), (long long)ev_int(v, "pgid", 0));
		m->text(b, ev_str(v, "command") ? ev_str(v, "command") : "?");
		buf_adds(b, " (started ");
		ev_duration(b, ev_int(v, "started_ms_ago", -1));
		buf_adds(b, " before)");
	}
}

/* "…: ops chose to stop the processes step promote left running (process
 * group 4242)", "…: process group 4242 of step promote stopped, 3 s after
 * the choice" */
static void survivor_choice(const struct ev_markup *m, const cJSON *o, struct buf *b)
{
	const char *what = ev_str(o, "what") ? ev_str(o, "what") : "";
	const cJSON *g, *pgids = cJSON_GetObjectItemCaseSensitive(o, "pgids");

	buf_adds(b, m->item);
	m->text(b, ev_str(o, "at"));
	buf_adds(b, ": ");
	if (!strcmp(what, "end")) {
		const char *how = ev_str(o, "how") ? ev_str(o, "how") : "";
		buf_addf(b, "process group %lld of step ", (long long)ev_int(o, "pgid", 0));
		m->text(b, ev_str(o, "step_id"));
		buf_addf(b, " %s, ", !strcmp(how, "killed") ? "was killed (SIGKILL after the grace)" :
			 !strcmp(how, "stopped") ? "stopped" : "ended on its own");
		ev_duration(b, ev_int(o, "after_ms", -1));
		buf_addf(b, " after the choice%s", m->item_end);
		return;
	}
	m->text(b, ev_str(o, "actor"));
	buf_addf(b, " chose to %s the processes step ", !strcmp(what, "stop") ? "stop" : "wait for");
	m->text(b, ev_str(o, "step_id"));
	buf_adds(b, " left running (process group");
	cJSON_ArrayForEach(g, pgids)
		buf_addf(b, " %lld", cJSON_IsNumber(g) ? (long long)g->valuedouble : -1LL);
	buf_addf(b, ")%s", m->item_end);
}

void ev_section_resumes(const struct ev_markup *m, const struct evidence *ev, struct buf *b)
{
	const cJSON *picks = cJSON_GetObjectItemCaseSensitive(ev->doc, "picks");
	const cJSON *intr = cJSON_GetObjectItemCaseSensitive(ev->doc, "interruptions");
	const cJSON *reaped = cJSON_GetObjectItemCaseSensitive(ev->doc, "reaped"), *o;

	if (cJSON_GetArraySize(picks)) {
		buf_addf(b, "%sPicked by the operator%s%s", m->h2, m->h2_end, m->list);
		cJSON_ArrayForEach(o, picks) {
			buf_adds(b, m->item);
			m->text(b, ev_str(o, "at"));
			buf_adds(b, ", ");
			m->text(b, ev_str(o, "actor"));
			buf_adds(b, " picked ");
			m->text(b, ev_str(o, "name"));
			buf_adds(b, " = ");
			m->text(b, ev_str(o, "value") ? ev_str(o, "value") : "***");
			buf_adds(b, " (step ");
			m->text(b, ev_str(o, "step_id"));
			buf_addf(b, ", event %lld)%s", (long long)ev_int(o, "seq", 0), m->item_end);
		}
		buf_adds(b, m->list_end);
	}
	const cJSON *chosen = cJSON_GetObjectItemCaseSensitive(ev->doc, "survivor_choices");
	if (!cJSON_GetArraySize(intr) && !cJSON_GetArraySize(reaped) && !cJSON_GetArraySize(chosen))
		return;
	buf_addf(b, "%sInterrupted and survivors%s%s", m->h2, m->h2_end, m->list);
	cJSON_ArrayForEach(o, intr) {
		buf_adds(b, m->item);
		m->text(b, ev_str(o, "at"));
		buf_adds(b, ": step ");
		m->text(b, ev_str(o, "step_id"));
		buf_addf(b, " attempt %lld was running when qrh stopped, its outcome unknown",
			 (long long)ev_int(o, "attempt", 0));
		survivors(m, o, b);
		buf_adds(b, m->item_end);
	}
	cJSON_ArrayForEach(o, reaped) {
		const char *how = ev_str(o, "how") ? ev_str(o, "how") : "";
		buf_adds(b, m->item);
		m->text(b, ev_str(o, "at"));
		buf_addf(b, ": background task %lld of an earlier session %s%s",
			 (long long)ev_int(o, "task", 0),
			 !strcmp(how, "killed") ? "was still running: killed" : "had ended",
			 m->item_end);
	}
	cJSON_ArrayForEach(o, chosen)
		survivor_choice(m, o, b);
	buf_adds(b, m->list_end);
}

void ev_failed_members(const cJSON *step, void (*text)(struct buf *, const char *),
		       struct buf *b)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(step, "timings");
	const cJSON *t = cJSON_GetArrayItem(all, cJSON_GetArraySize(all) - 1), *a, *h;

	cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(t, "actions"))
		cJSON_ArrayForEach(h, cJSON_GetObjectItemCaseSensitive(a, "hosts")) {
			const char *st = ev_str(h, "status");
			if (st && !strcmp(st, "ok"))
				continue;
			buf_adds(b, "member ");
			text(b, ev_str(h, "label") ? ev_str(h, "label") : "?");
			buf_adds(b, ": ");
			text(b, st ? st : "running");
			if (ev_str(h, "summary")) {
				buf_adds(b, ": ");
				text(b, ev_str(h, "summary"));
			}
			buf_addc(b, '\n');
		}
}
