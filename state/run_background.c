/* Background actions: tasks that keep running alongside later steps (a
 * load generator during a failover drill) until a wait {stop=NAME} stops
 * them or the run ends. Any number per step; each has its own output
 * streams, journaled by its task, and must not outlive qrh (actions/guard.h). */
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/run_priv.h"
#include "util/xalloc.h"

struct task *run_background_find(struct run *r, const char *name)
{
	for (size_t i = 0; name && i < r->n_tasks; i++) {
		struct task *t = r->tasks[i];
		if (t->role == FOLD_TASK_BACKGROUND && t->running && t->label &&
		    !strcmp(t->label, name))
			return t;
	}
	return NULL;
}

/* What a background task keeps beyond the attempt that started it. */
struct bg_owner {
	char **env;
	struct target_set targets;
};

static void bg_owner_free(void *arg)
{
	struct bg_owner *o = arg;
	run_env_free(o->env);
	target_set_release(&o->targets);
	free(o);
}

static void background_end(struct task *t)
{
	struct run *r = t->run;
	struct err e;
	size_t step = t->step;
	cJSON *p = run_step_payload(r, step, 0);
	task_end_payload(t, p);
	task_free(t); /* and its owner's share */
	run_emit(r, (long)step, EV_BACKGROUND_END, NULL, p, &e);
	run_attempt_background_ended(r);
}

int run_background_start(struct run *r, const struct action *a, struct err *e)
{
	struct attempt *att = r->att;
	struct bg_owner *o = xcalloc(1, sizeof *o);
	struct target_set shown = { 0 };
	if (a->target && (targets_resolve(r->rb, a->target, run_lookup, r, &o->targets, e) < 0 ||
			  targets_resolve(r->rb, a->target, run_lookup_masked, r, &shown, e) < 0)) {
		bg_owner_free(o);
		target_set_release(&shown);
		return -1;
	}
	if (o->targets.n > 1) {
		bg_owner_free(o);
		target_set_release(&shown);
		return err_set(e, "a background action runs on one target, not on group '%s'", a->target);
	}
	const struct action_target *tg = o->targets.n ? &o->targets.v[0] : NULL;
	struct task *t = task_new(r, FOLD_TASK_BACKGROUND, att->step, att->attempt,
				  att->action, a, tg, a->name);
	struct buf desc;
	buf_init(&desc, BUF_UNLIMITED);
	if (run_entry(r, a->kind)->describe(a, shown.n ? &shown.v[0] : NULL, run_lookup_masked,
					    r, &desc, e) < 0)
		buf_reset(&desc);
	target_set_release(&shown);
	char *clean = run_redact(r, desc.data);
	buf_release(&desc);
	cJSON *p = run_step_payload(r, att->step, att->attempt);
	cJSON_AddNumberToObject(p, "action", (double)att->action);
	cJSON_AddNumberToObject(p, "task", (double)t->id);
	cJSON_AddStringToObject(p, "name", a->name ? a->name : "");
	cJSON_AddStringToObject(p, "kind", action_kind_name(a->kind));
	cJSON_AddStringToObject(p, "command", clean);
	free(clean);
	r->defer = true;
	if (run_emit(r, (long)att->step, EV_BACKGROUND_START, NULL, p, e) < 0 ||
	    run_flush_events(r, e) < 0) {
		task_free(t);
		bg_owner_free(o);
		return -1;
	}
	/* its own environment: it outlives the attempt that started it */
	o->env = run_env_build(r, tg);
	struct action_ctx base;
	task_ctx_base(r, o->env, &base);
	t->on_end = background_end;
	t->owner = o;
	t->owner_free = bg_owner_free;
	task_start(t, &base);
	return 0;
}

struct task *run_background_of(struct run *r, size_t step, size_t action)
{
	for (size_t i = 0; i < r->n_tasks; i++) {
		struct task *t = r->tasks[i];
		if (t->role == FOLD_TASK_BACKGROUND && t->running && t->step == step &&
		    t->action == action)
			return t;
	}
	return NULL;
}

int run_background_stop_named(struct run *r, const char *name)
{
	struct task *t = run_background_find(r, name);
	if (!t)
		return 0;
	task_cancel(t, ACTION_CANCEL_OPERATOR);
	return 1;
}

void run_stop_background(struct run *r)
{
	for (size_t i = 0; i < r->n_tasks; i++)
		if (r->tasks[i]->role == FOLD_TASK_BACKGROUND)
			task_cancel(r->tasks[i], ACTION_CANCEL_SHUTDOWN);
}
