/* Tasks: one action run on one target, owned by a step attempt, a fan-out
 * or a background action. A task routes what its action reports — output
 * through redaction into the journal (keyed by the task) and to the front
 * end, live values, its process group (journaled before the process runs,
 * and registered with the guard when it must not outlive qrh) — keeps the
 * action's deadline, and on done hands its owner a redacted result and the
 * journal's record of its streams. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "state/run_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

static enum journal_stream jstream(enum proc_stream s)
{
	return s == PROC_STDOUT ? JOURNAL_STDOUT : JOURNAL_STDERR;
}

static struct journal_okey task_key(const struct task *t)
{
	return (struct journal_okey){ .step = (int64_t)t->step,
				      .attempt = t->attempt, .task = t->id,
				      .label = t->label };
}

struct task *task_new(struct run *r, enum fold_task_role role, size_t step,
		      int attempt, size_t action, const struct action *a,
		      const struct action_target *target, const char *label)
{
	struct task *t = xcalloc(1, sizeof *t);
	t->run = r;
	t->id = ++r->next_task;
	t->role = role;
	t->step = step;
	t->attempt = attempt;
	t->action = action;
	t->a = a;
	t->target = target;
	t->label = label && *label ? xstrdup(label) : NULL;
	t->entry = run_entry(r, a->kind);
	for (int s = PROC_STDOUT; s <= PROC_STDERR; s++)
		redactor_init(&t->red[s], &r->values.secrets);
	r->tasks = xgrow(r->tasks, &r->cap_tasks, r->n_tasks + 1, sizeof *r->tasks);
	t->slot = r->n_tasks;
	r->tasks[r->n_tasks++] = t;
	return t;
}

/* ---- what the action reports ---- */

/* One redacted chunk: stored under the task, shown, and (stdout of a
 * capturing step) captured. */
static void deliver(struct task *t, enum proc_stream stream, const char *data,
		    size_t len)
{
	struct run *r = t->run;
	struct err e;
	if (!len)
		return;
	if (t->capture && stream == PROC_STDOUT) {
		buf_add(t->capture, data, len);
		if (t->capture_only)
			return; /* it is the secret: neither stored nor shown */
	}
	struct journal_okey k = task_key(t);
	/* tried even when the journal failed before: what cannot be stored
	 * is counted as lost, and a lock that went away stores again */
	if (journal_output_append(r->j, r->id, &k, jstream(stream), data, len, &e) < 0) {
		char msg[ERR_MSG_MAX + 64];
		snprintf(msg, sizeof msg, "step %zu '%s': %s", t->step + 1,
			 r->rb->steps[t->step].id, e.msg);
		run_journal_failure(r, msg);
	}
	run_output_written(r);
	if (r->lis.output) {
		struct run_chunk c = { .step = t->step, .attempt = t->attempt,
				       .task = t->id, .label = t->label,
				       .background = t->role == FOLD_TASK_BACKGROUND,
				       .stream = stream, .data = data, .len = len };
		r->lis.output(r->lis.arg, &c);
	}
}

static void sink_output(void *arg, enum proc_stream stream, const char *data,
			size_t len)
{
	struct task *t = arg;
	struct buf out;
	if (!t->run->values.secrets.n) {
		deliver(t, stream, data, len);
		return;
	}
	buf_init(&out, BUF_UNLIMITED);
	redactor_feed(&t->red[stream], data, len, &out);
	deliver(t, stream, out.data, out.len);
	buf_release(&out);
}

/* A copy of values with every secret masked in every string. */
static cJSON *values_redacted(const struct run *r, const cJSON *v)
{
	cJSON *c = cJSON_Duplicate(v, 1);
	if (!c || !r->values.secrets.n)
		return c;
	cJSON *stack[64];
	size_t n = 0;
	stack[n++] = c;
	while (n) {
		cJSON *node = stack[--n];
		for (cJSON *ch = node->child; ch; ch = ch->next) {
			if (cJSON_IsString(ch)) {
				char *clean = run_redact(r, ch->valuestring);
				cJSON_SetValuestring(ch, clean);
				free(clean);
			} else if ((cJSON_IsObject(ch) || cJSON_IsArray(ch)) && n < 64) {
				stack[n++] = ch;
			}
		}
	}
	return c;
}

static struct run_task_view task_view(const struct task *t)
{
	return (struct run_task_view){
		.task = t->id, .step = t->step, .attempt = t->attempt,
		.action = t->action, .label = t->label,
		.background = t->role == FOLD_TASK_BACKGROUND,
		.running = t->running, .progress = t->progress,
	};
}

static void notify_task(struct task *t)
{
	struct run *r = t->run;
	if (r->lis.task) {
		struct run_task_view v = task_view(t);
		r->lis.task(r->lis.arg, &v);
	}
}

static void sink_progress(void *arg, const cJSON *values)
{
	struct task *t = arg;
	cJSON_Delete(t->progress);
	t->progress = values ? values_redacted(t->run, values) : NULL;
	notify_task(t);
}

/* A local process group exists and runs nothing yet: journal it (durably)
 * first, and have the guard watch it if it must not outlive qrh. */
static void sink_process(void *arg, pid_t pgid, uint64_t start_ticks)
{
	struct task *t = arg;
	struct run *r = t->run;
	struct err e;
	t->pgid = pgid;
	t->start_ticks = start_ticks;
	cJSON *p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "task", (double)t->id);
	cJSON_AddNumberToObject(p, "pgid", (double)pgid);
	cJSON_AddNumberToObject(p, "start_ticks", (double)start_ticks);
	r->defer = true;
	if (run_emit(r, (long)t->step, EV_TASK_PROCESS, NULL, p, &e) == 0)
		run_flush_events_lazy(r, &e);
	if (t->role != FOLD_TASK_ACTION && t->role != FOLD_TASK_MEMBER && r->guard &&
	    guard_add(r->guard, pgid, start_ticks, &e) == 0)
		t->guarded = true;
}

static void stream_finish(struct task *t, enum proc_stream s)
{
	struct run *r = t->run;
	struct buf rest;
	struct err e;
	buf_init(&rest, BUF_UNLIMITED);
	redactor_flush(&t->red[s], &rest);
	deliver(t, s, rest.data, rest.len);
	buf_release(&rest);
	struct journal_okey k = task_key(t);
	memset(&t->out[s], 0, sizeof t->out[s]);
	if (journal_output_finish(r->j, r->id, &k, jstream(s), &t->out[s], &e) < 0)
		run_journal_failure(r, e.msg);
}

static void deadline_clear(struct task *t)
{
	if (t->deadline_timer)
		loop_timer_cancel(t->run->loop, t->deadline_timer);
	t->deadline_timer = 0;
}

static void sink_done(void *arg, const struct action_result *res)
{
	struct task *t = arg;
	struct run *r = t->run;
	deadline_clear(t);
	t->running = false;
	t->res = *res;
	t->res.values = NULL;
	if (res->status == ACTION_CANCELLED && t->cancel_sent &&
	    t->why == ACTION_CANCEL_TIMEOUT)
		t->res.status = ACTION_TIMEOUT;
	/* a summary may quote a command, a path or an error holding a value */
	char *clean = run_redact(r, res->summary);
	snprintf(t->res.summary, sizeof t->res.summary, "%s", clean);
	free(clean);
	t->values = res->values ? values_redacted(r, res->values) : NULL;
	stream_finish(t, PROC_STDOUT);
	stream_finish(t, PROC_STDERR);
	if (t->guarded)
		guard_remove(r->guard, t->pgid);
	t->guarded = false;
	notify_task(t);
	t->on_end(t); /* the owner journals the end and goes on */
}

/* ---- the deadline, the engine's ---- */

static void on_deadline(struct loop *l, uint64_t id, void *arg)
{
	struct task *t = arg;
	(void)l;
	(void)id;
	t->deadline_timer = 0;
	task_cancel(t, ACTION_CANCEL_TIMEOUT);
}

void task_cancel(struct task *t, enum action_cancel_reason why)
{
	if (!t->running || !t->ar)
		return;
	if (!t->cancel_sent)
		t->why = why;
	t->cancel_sent = true;
	t->entry->cancel(t->ar, why);
}

/* A failure to start is an ended task like any other, from the loop. */
static void on_start_failed(struct loop *l, uint64_t id, void *arg)
{
	struct task *t = arg;
	(void)l;
	(void)id;
	t->deadline_timer = 0;
	struct action_result res = t->res;
	t->running = true;
	sink_done(t, &res);
}

void task_ctx_base(struct run *r, char **env, struct action_ctx *ctx)
{
	memset(ctx, 0, sizeof *ctx);
	ctx->loop = r->loop;
	ctx->reaper = r->reaper;
	ctx->env = (const char *const *)env;
	ctx->grace_ms = r->opts.grace_ms;
	ctx->lookup = run_lookup;
	ctx->lookup_arg = r;
}

void task_start(struct task *t, const struct action_ctx *base)
{
	struct run *r = t->run;
	struct action_ctx ctx = *base;
	struct err e = { "" };
	ctx.target = t->target;
	ctx.die_with_qrh = t->role == FOLD_TASK_BACKGROUND;
	ctx.sink = (struct action_sink){ .output = sink_output,
					 .progress = sink_progress,
					 .process = sink_process,
					 .done = sink_done, .arg = t };
	t->started_ns = clock_mono_ns();
	t->running = true;
	notify_task(t);
	if (run_kind_state(r, t->a->kind, &ctx.ks, &e) == 0)
		t->ar = t->entry->start(t->a, &ctx, &e);
	if (!t->ar) {
		t->running = false;
		memset(&t->res, 0, sizeof t->res);
		t->res.status = ACTION_ERROR;
		t->res.exit_code = -1;
		action_summary(&t->res, "%s", e.msg);
		t->deadline_timer = loop_timer_add(r->loop, 0, on_start_failed, t);
		return;
	}
	if (t->a->timeout_ms > 0)
		t->deadline_timer = loop_timer_add(r->loop, t->a->timeout_ms, on_deadline, t);
	if (r->backpressure && t->entry->pause)
		t->entry->pause(t->ar, true);
}

/* ---- the record of its end ---- */

static cJSON *stream_json(const struct journal_output_info *o)
{
	cJSON *s = cJSON_CreateObject();
	cJSON_AddNumberToObject(s, "bytes", (double)o->total_bytes);
	cJSON_AddStringToObject(s, "sha256", o->sha256);
	cJSON_AddBoolToObject(s, "truncated", o->truncated);
	cJSON_AddNumberToObject(s, "lost", (double)o->lost_bytes);
	return s;
}

void task_end_payload(const struct task *t, cJSON *p)
{
	cJSON_AddNumberToObject(p, "task", (double)t->id);
	if (t->label)
		cJSON_AddStringToObject(p, t->role == FOLD_TASK_BACKGROUND ? "name" : "label",
					t->label);
	cJSON_AddStringToObject(p, "status", action_status_name(t->res.status));
	if (t->res.exit_code >= 0)
		cJSON_AddNumberToObject(p, "exit_code", t->res.exit_code);
	else
		cJSON_AddNullToObject(p, "exit_code");
	cJSON_AddNumberToObject(p, "signal", t->res.signo);
	cJSON_AddNumberToObject(p, "duration_ms",
				(double)((clock_mono_ns() - t->started_ns) / 1000000));
	cJSON_AddStringToObject(p, "summary", t->res.summary);
	if (t->values)
		cJSON_AddItemToObject(p, "values", cJSON_Duplicate(t->values, 1));
	cJSON_AddItemToObject(p, "stdout", stream_json(&t->out[PROC_STDOUT]));
	cJSON_AddItemToObject(p, "stderr", stream_json(&t->out[PROC_STDERR]));
}

/* ---- freeing ---- */

void task_free(struct task *t)
{
	if (!t)
		return;
	struct run *r = t->run;
	deadline_clear(t);
	if (t->ar)
		t->entry->free(t->ar);
	if (t->guarded && r->guard)
		guard_remove(r->guard, t->pgid);
	for (int s = PROC_STDOUT; s <= PROC_STDERR; s++)
		redactor_release(&t->red[s]);
	cJSON_Delete(t->values);
	cJSON_Delete(t->progress);
	run_env_free(t->env);
	if (t->owner_free)
		t->owner_free(t->owner);
	free(t->label);
	/* swap-remove from the run's table */
	r->tasks[t->slot] = r->tasks[--r->n_tasks];
	r->tasks[t->slot]->slot = t->slot;
	free(t);
}

void task_free_all(struct run *r)
{
	while (r->n_tasks)
		task_free(r->tasks[r->n_tasks - 1]);
}
