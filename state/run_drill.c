/* Drills: the drill event, fail-once faults and hints (state/run.h).
 * The sandbox's own faults are the front end's to apply (it runs the
 * sandbox); the engine journals what was applied and injects the one
 * fault that lives in qrh itself: a step whose first attempt fails. */
#include <string.h>

#include "runbooks/fault.h"
#include "state/events.h"
#include "state/run_priv.h"

static void learn(struct run *r, const cJSON *faults)
{
	const cJSON *f;
	cJSON_ArrayForEach(f, faults)
	{
		const cJSON *spec = cJSON_GetObjectItemCaseSensitive(f, "spec");
		struct fault x;
		char msg[FAULT_MSG_MAX];
		if (cJSON_IsString(spec) && fault_parse(spec->valuestring, &x, msg) == 0 &&
		    x.kind == FAULT_FAIL_ONCE)
			strv_push(&r->fail_once, x.value);
	}
}

int run_drill_begin(struct run *r, struct err *e)
{
	if (r->opts.mode != RUN_DRILL)
		return 0;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddItemToObject(p, "faults", r->opts.drill_faults
						   ? cJSON_Duplicate(r->opts.drill_faults, 1)
						   : cJSON_CreateArray());
	if (r->opts.sandbox_dir)
		cJSON_AddStringToObject(p, "sandbox", r->opts.sandbox_dir);
	else
		cJSON_AddNullToObject(p, "sandbox");
	learn(r, r->opts.drill_faults);
	return run_emit(r, -1, EV_DRILL, NULL, p, e);
}

static int reopen_event(const struct journal_event *ev, void *ctx)
{
	struct run *r = ctx;
	if (strcmp(ev->type, EV_DRILL))
		return 0;
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	strv_release(&r->fail_once);
	learn(r, cJSON_GetObjectItemCaseSensitive(p, "faults"));
	cJSON_Delete(p);
	return 0;
}

int run_drill_reopen(struct run *r, struct err *e)
{
	return journal_events_each(r->j, r->id, 0, reopen_event, r, e);
}

bool run_drill_fails(const struct run *r, size_t i, int attempt)
{
	const char *id = r->rb->steps[i].id;
	if (attempt != 1 || !id)
		return false;
	for (size_t k = 0; k < r->fail_once.n; k++)
		if (!strcmp(r->fail_once.v[k], id))
			return true;
	return false;
}

const char *run_hint(struct run *r, size_t i, struct err *e)
{
	if (r->observing || i >= r->rb->n_steps) {
		err_set(e, "no hint here");
		return NULL;
	}
	const char *hint = r->rb->steps[i].hint;
	if (!hint) {
		err_set(e, "step %zu has no hint", i + 1);
		return NULL;
	}
	cJSON *p = run_step_payload(r, i, 0);
	run_add_actor(r, p);
	if (run_emit(r, (long)i, EV_HINT, r->actor, p, e) < 0)
		return NULL;
	return hint;
}
