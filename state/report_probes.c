/* report_probes.c: a report's probes and objectives — counted from
 * probe_samples, measured from the fold — and their JSON (state/report.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/report.h"
#include "state/report_priv.h"
#include "util/xalloc.h"

struct count_ctx {
	struct run_report *r;
	int64_t rpo_seq;
};

static struct report_probe *probe_of(struct run_report *r, const char *name)
{
	for (size_t i = 0; i < r->n_probes; i++)
		if (!strcmp(r->probes[i].fp->name, name))
			return &r->probes[i];
	return NULL;
}

static int count_sample(const struct journal_sample *s, void *arg)
{
	struct count_ctx *c = arg;
	struct report_probe *p = probe_of(c->r, s->probe ? s->probe : "");
	struct fold_objectives *o = &c->r->obj;
	if (!p)
		return 0;
	p->samples++;
	p->skipped += s->skipped;
	if (s->late_ms > p->late_worst_ms)
		p->late_worst_ms = s->late_ms;
	if (o->has_rpo_from && o->rpo_from.kind == MARK_PROBE &&
	    !strcmp(o->rpo_from.name, p->fp->name)) {
		cJSON *v = cJSON_Parse(s->values ? s->values : "{}");
		objectives_rpo_values(o, v, s->seq);
		cJSON_Delete(v);
	}
	return 0;
}

int report_probes_load(struct journal *j, struct run_report *r, struct err *e)
{
	struct count_ctx c = { .r = r };
	objectives_from_vars(&r->fold, r->run.vars_json);
	r->obj = r->fold.obj;
	r->n_probes = r->fold.n_probes;
	r->probes = xcalloc(r->n_probes ? r->n_probes : 1, sizeof *r->probes);
	for (size_t i = 0; i < r->n_probes; i++)
		r->probes[i].fp = &r->fold.probes[i];
	if (!r->n_probes)
		return 0;
	return journal_samples_each(j, r->run.id, NULL, 0, count_sample, &c, e) < 0 ? -1 : 0;
}

/* ---- JSON ---- */

static cJSON *moment_json(const struct fold_moment *m, const struct mark *mark)
{
	char text[QRH_MAX_ID_LEN + 32];
	if (!m->seq)
		return cJSON_CreateNull();
	cJSON *o = cJSON_CreateObject();
	report_json_int(o, "seq", m->seq);
	mark_format(mark, text, sizeof text);
	cJSON_AddStringToObject(o, "mark", text);
	return o;
}

static void json_budget(cJSON *o, int64_t ms)
{
	report_json_int(o, "budget_ms", ms >= 0 ? ms : REPORT_NONE);
}

static void json_met(cJSON *o, int met)
{
	if (met < 0)
		cJSON_AddNullToObject(o, "met");
	else
		cJSON_AddBoolToObject(o, "met", met);
}

static cJSON *rto_json(const struct run_report *r)
{
	const struct fold_objectives *o = &r->obj;
	struct rto_clock c;
	objectives_rto_clock(&r->fold, 0, 0, &c);
	if (c.phase == RTO_NONE)
		return cJSON_CreateNull();
	cJSON *j = cJSON_CreateObject();
	json_budget(j, o->rto_budget_ms);
	report_json_int(j, "measured_ms", objectives_rto_measured_ms(&r->fold));
	report_json_time(j, "started_at", o->started.seq ? o->started.wall_ms : REPORT_NONE);
	report_json_time(j, "stopped_at", o->stopped.seq ? o->stopped.wall_ms : REPORT_NONE);
	cJSON_AddItemToObject(j, "start_event", moment_json(&o->started, &o->start));
	cJSON_AddItemToObject(j, "stop_event", moment_json(&o->stopped, &o->stop));
	bool over = r->fold.ended || r->run.outcome;
	json_met(j, c.phase == RTO_STOPPED ? c.met : (c.phase == RTO_RUNNING && over ? 0 : -1));
	return j;
}

static cJSON *rpo_json(const struct run_report *r)
{
	const struct fold_objectives *o = &r->obj;
	char text[QRH_MAX_ID_LEN + 32];
	if (o->rpo_budget_ms < 0 && !o->has_rpo_from)
		return cJSON_CreateNull();
	cJSON *j = cJSON_CreateObject();
	json_budget(j, o->rpo_budget_ms);
	report_json_int(j, "measured_ms", o->rpo_window_ms);
	report_json_int(j, "rows_lost", o->rpo_rows_lost);
	json_met(j, objectives_rpo_met(o));
	if (o->has_rpo_from) {
		mark_format(&o->rpo_from, text, sizeof text);
		cJSON_AddStringToObject(j, "source", text);
	} else {
		cJSON_AddNullToObject(j, "source");
	}
	if (o->rpo_seq) {
		cJSON *ev = cJSON_AddObjectToObject(j, "evidence");
		report_json_int(ev, o->rpo_from.kind == MARK_PROBE ? "sample" : "event", o->rpo_seq);
	} else {
		cJSON_AddNullToObject(j, "evidence");
	}
	return j;
}

static cJSON *probe_json(const struct report_probe *p)
{
	const struct fold_probe *fp = p->fp;
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "name", fp->name);
	cJSON_AddStringToObject(o, "kind", fp->kind);
	report_json_int(o, "interval_ms", fp->interval_ms);
	report_json_int(o, "timeout_ms", fp->timeout_ms);
	report_json_int(o, "samples", p->samples);
	report_json_int(o, "skipped", p->skipped);
	report_json_int(o, "late_worst_ms", p->late_worst_ms);
	cJSON *states = cJSON_AddArrayToObject(o, "states");
	for (size_t k = 0; k < fp->n_changes; k++) {
		const struct fold_probe_change *ch = &fp->changes[k];
		cJSON *s = cJSON_CreateObject();
		report_json_time(s, "at", ch->wall_ms);
		cJSON_AddStringToObject(s, "state", probe_state_name(ch->state));
		if (ch->value)
			cJSON_AddStringToObject(s, "value", ch->value);
		else
			cJSON_AddNullToObject(s, "value");
		report_json_int(s, "seq", ch->seq);
		cJSON_AddItemToArray(states, s);
	}
	return o;
}

void report_probes_json(const struct run_report *r, cJSON *doc)
{
	cJSON *obj = cJSON_AddObjectToObject(doc, "objectives");
	cJSON_AddItemToObject(obj, "rto", rto_json(r));
	cJSON_AddItemToObject(obj, "rpo", rpo_json(r));
	cJSON *probes = cJSON_AddArrayToObject(doc, "probes");
	for (size_t i = 0; i < r->n_probes; i++)
		cJSON_AddItemToArray(probes, probe_json(&r->probes[i]));
}
