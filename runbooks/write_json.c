#include <stdlib.h>
#include <string.h>

#include "runbooks/duration.h"
#include "runbooks/fields.h"
#include "runbooks/write.h"
#include "util/xalloc.h"

static cJSON *action_json(const struct action *a)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", action_kind_name(a->kind));
	field_emit(o, action_fields, a, (int)a->kind, false, 0);
	return o;
}

static cJSON *step_json(const struct step *s)
{
	cJSON *o = cJSON_CreateObject();
	field_emit(o, step_fields, s, -1, false, 0);
	cJSON *acts = cJSON_AddArrayToObject(o, "actions");
	for (size_t i = 0; i < s->n_actions; i++)
		cJSON_AddItemToArray(acts, action_json(&s->actions[i]));
	return o;
}

static cJSON *var_json(const struct var *v)
{
	cJSON *o = cJSON_CreateObject();
	field_emit(o, var_fields, v, -1, false, 0);
	const cJSON *only = o->child;
	if (only && !only->next && !strcmp(only->string, "value")) {
		cJSON *s = cJSON_CreateString(only->valuestring);
		cJSON_Delete(o);
		return s;
	}
	return o;
}

static cJSON *probe_json(const struct probe *p)
{
	cJSON *o = cJSON_CreateObject();
	field_emit(o, probe_fields, p, -1, false, 0);
	cJSON_AddStringToObject(o, "kind", action_kind_name(p->action.kind));
	cJSON *fields = cJSON_CreateObject();
	field_emit(fields, action_fields, &p->action, (int)p->action.kind, false, 0);
	cJSON_DeleteItemFromObjectCaseSensitive(fields, "name");
	while (fields->child) {
		cJSON *c = cJSON_DetachItemViaPointer(fields, fields->child);
		cJSON_AddItemToObject(o, c->string, c);
	}
	cJSON_Delete(fields);
	return o;
}

cJSON *runbook_to_cjson(const struct runbook *rb)
{
	cJSON *o = cJSON_CreateObject();
	if (rb->title)
		cJSON_AddStringToObject(o, "title", rb->title);
	if (rb->description)
		cJSON_AddStringToObject(o, "description", rb->description);
	if (rb->notes_anyone)
		cJSON_AddStringToObject(o, "notes", "anyone");
	if (rb->approval_ttl_ms >= 0) {
		char d[DURATION_TEXT_MAX];
		duration_format(rb->approval_ttl_ms, d);
		cJSON_AddStringToObject(o, "approval_ttl", d);
	}
	if (rb->n_vars) {
		cJSON *vars = cJSON_AddObjectToObject(o, "vars");
		for (size_t i = 0; i < rb->n_vars; i++)
			cJSON_AddItemToObject(vars, rb->vars[i].name, var_json(&rb->vars[i]));
	}
	if (rb->n_targets) {
		cJSON *t = cJSON_AddObjectToObject(o, "targets");
		for (size_t i = 0; i < rb->n_targets; i++) {
			cJSON *one = cJSON_CreateObject();
			field_emit(one, target_fields, &rb->targets[i], -1, false, 0);
			cJSON_AddItemToObject(t, rb->targets[i].name, one);
		}
	}
	if (rb->n_probes) {
		cJSON *p = cJSON_AddArrayToObject(o, "probes");
		for (size_t i = 0; i < rb->n_probes; i++)
			cJSON_AddItemToArray(p, probe_json(&rb->probes[i]));
	}
	cJSON *obj = cJSON_CreateObject();
	field_emit(obj, objective_fields, &rb->objectives, -1, false, 0);
	if (obj->child)
		cJSON_AddItemToObject(o, "objectives", obj);
	else
		cJSON_Delete(obj);
	if (rb->faults.n) {
		cJSON *fl = cJSON_AddArrayToObject(o, "faults");
		for (size_t i = 0; i < rb->faults.n; i++)
			cJSON_AddItemToArray(fl, cJSON_CreateString(rb->faults.v[i]));
	}
	if (rb->notify.url) {
		cJSON *n = cJSON_AddObjectToObject(o, "notify");
		field_emit(n, notify_fields, &rb->notify, -1, false, 0);
	}
	cJSON *steps = cJSON_AddArrayToObject(o, "steps");
	for (size_t i = 0; i < rb->n_steps; i++)
		cJSON_AddItemToArray(steps, step_json(&rb->steps[i]));
	return o;
}

char *runbook_write_json(const struct runbook *rb)
{
	cJSON *o = runbook_to_cjson(rb);
	char *text = cJSON_Print(o);
	cJSON_Delete(o);
	size_t n = strlen(text);
	char *out = xmalloc(n + 2);
	memcpy(out, text, n);
	out[n] = '\n';
	out[n + 1] = '\0';
	cJSON_free(text);
	return out;
}
