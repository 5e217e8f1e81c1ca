/* Resume and watch: a run's state rebuilt from its journal alone, by the
 * same fold the live engine keeps (state/fold.h). Steps are matched by id,
 * so a runbook edited since (and accepted with --runbook-changed-ok) maps
 * onto the record by name, not by position.
 *
 * On resume, what the earlier session left running is found by the
 * process groups its tasks journaled (task_process) and their leaders'
 * start times: a step that was running is interrupted, and a process of it
 * still alive is a survivor the operator is told about (and not offered to
 * run again while it lives); a background task's survivor is stopped, as
 * the guard would have done. */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/events.h"
#include "state/run_priv.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define SURVIVOR_POLL_MS 200

int run_reopen_replay(struct run *r, struct err *e)
{
	fold_release(&r->fold);
	fold_init(&r->fold, r->rb);
	if (journal_events_each(r->j, r->id, 0, fold_event_cb, &r->fold, e) < 0)
		return -1;
	if (r->fold.ended)
		return err_set(e, "run %lld has already ended", (long long)r->id);
	r->next_task = r->fold.max_task;
	for (size_t i = 0; i < r->fold.n_captures; i++) {
		const struct var *decl = runbook_var(r->rb, r->fold.captures[i].name);
		if (!decl || !decl->secret)
			values_set(&r->values, r->fold.captures[i].name,
				   r->fold.captures[i].value, false);
	}
	return 0;
}

/* ---- what a process is ---- */

static void read_cmdline(pid_t pid, char *out, size_t cap)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	out[0] = '\0';
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	ssize_t n = read(fd, out, cap - 1);
	close(fd);
	if (n <= 0) {
		out[0] = '\0';
		return;
	}
	for (ssize_t i = 0; i < n; i++)
		if (out[i] == '\0' || (unsigned char)out[i] < 0x20)
			out[i] = ' ';
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* How long ago a process started, from its start time in clock ticks. */
static int64_t age_ms(uint64_t start_ticks)
{
	FILE *f = fopen("/proc/uptime", "re");
	double up = 0;
	if (!f)
		return 0;
	if (fscanf(f, "%lf", &up) != 1)
		up = 0;
	fclose(f);
	long hz = sysconf(_SC_CLK_TCK);
	double started = hz > 0 ? (double)start_ticks / (double)hz : 0;
	return up > started ? (int64_t)((up - started) * 1000) : 0;
}

/* ---- survivors ---- */

static struct survivors *surv_of(struct run *r, size_t i)
{
	if (!r->surv)
		r->surv = xcalloc(r->rb->n_steps ? r->rb->n_steps : 1, sizeof *r->surv);
	return &r->surv[i];
}

size_t run_survivors(const struct run *r, size_t i,
		     const struct run_survivor **out)
{
	if (!r->surv || i >= r->rb->n_steps) {
		*out = NULL;
		return 0;
	}
	*out = r->surv[i].v;
	return r->surv[i].n;
}

/* The live processes of the tasks of step fold index i that never ended. */
static cJSON *find_survivors(struct run *r, size_t i)
{
	cJSON *list = cJSON_CreateArray();
	const struct step_state *st = run_step(r, i);
	for (size_t k = 0; k < r->fold.n_tasks; k++) {
		const struct fold_task *t = &r->fold.tasks[k];
		if (t->step != (int64_t)i || t->attempt != st->attempt || t->ended ||
		    t->role == FOLD_TASK_BACKGROUND || t->pgid <= 0 ||
		    !guard_group_alive(t->pgid, t->start_ticks))
			continue;
		struct survivors *s = surv_of(r, i);
		s->v = xrealloc(s->v, (s->n + 1) * sizeof *s->v);
		struct run_survivor *v = &s->v[s->n++];
		memset(v, 0, sizeof *v);
		v->task = t->id;
		v->pgid = t->pgid;
		v->start_ticks = t->start_ticks;
		v->alive = true;
		read_cmdline(t->pgid, v->command, sizeof v->command);
		v->age_ms = age_ms(t->start_ticks);
		cJSON *o = cJSON_CreateObject();
		cJSON_AddNumberToObject(o, "task", (double)t->id);
		cJSON_AddNumberToObject(o, "pgid", t->pgid);
		char *clean = run_redact(r, v->command);
		cJSON_AddStringToObject(o, "command", clean);
		free(clean);
		cJSON_AddNumberToObject(o, "started_ms_ago", (double)v->age_ms);
		cJSON_AddItemToArray(list, o);
	}
	return list;
}

/* A background task of an earlier session: it must not outlive that qrh. */
static int reap_background(struct run *r, const struct fold_task *t,
			   struct err *e)
{
	bool alive = t->pgid > 0 && guard_group_alive(t->pgid, t->start_ticks);
	if (alive) {
		guard_signal_group(t->pgid, t->start_ticks, SIGKILL);
	}
	cJSON *p = cJSON_CreateObject();
	cJSON_AddNumberToObject(p, "task", (double)t->id);
	if (t->pgid > 0)
		cJSON_AddNumberToObject(p, "pgid", t->pgid);
	cJSON_AddStringToObject(p, "how", alive ? "killed" : "gone");
	return run_emit(r, t->step, EV_TASK_REAPED, NULL, p, e);
}

int run_reopen_settle(struct run *r, struct err *e)
{
	for (size_t k = 0; k < r->fold.n_tasks; k++) {
		struct fold_task t = r->fold.tasks[k];
		if (t.role == FOLD_TASK_BACKGROUND && !t.ended &&
		    reap_background(r, &t, e) < 0)
			return -1;
	}
	for (size_t i = 0; i < r->rb->n_steps; i++) {
		const struct step_state *st = run_step(r, i);
		if (st->status == STEP_INTERRUPTED) {
			/* interrupted before an earlier resume: alive still? */
			cJSON_Delete(find_survivors(r, i));
			continue;
		}
		if (st->status == STEP_RETRY_WAIT) {
			/* its retry died with qrh: it runs again when confirmed */
			cJSON *p = run_step_payload(r, i, st->attempt + 1);
			cJSON_AddStringToObject(p, "reason", "qrh stopped while it waited to try again");
			if (run_emit(r, (long)i, EV_STEP_CANCEL, NULL, p, e) < 0)
				return -1;
			continue;
		}
		if (st->status != STEP_RUNNING)
			continue;
		cJSON *p = run_step_payload(r, i, st->attempt);
		cJSON_AddItemToObject(p, "survivors", find_survivors(r, i));
		if (run_emit(r, (long)i, EV_STEP_INTERRUPTED, NULL, p, e) < 0)
			return -1;
	}
	return 0;
}

/* ---- waiting for or stopping survivors ---- */

static bool surv_any_alive(struct survivors *s)
{
	bool any = false;
	for (size_t k = 0; k < s->n; k++) {
		if (s->v[k].alive && !proc_group_live(s->v[k].pgid, s->v[k].start_ticks))
			s->v[k].alive = false;
		any = any || s->v[k].alive;
	}
	return any;
}

static void on_surv_poll(struct loop *l, uint64_t id, void *arg);

static void surv_arm(struct run *r, size_t i)
{
	struct survivors *s = &r->surv[i];
	if (!s->poll_timer)
		s->poll_timer = loop_timer_add(r->loop, SURVIVOR_POLL_MS, on_surv_poll,
					       (void *)&r->surv[i]);
}

/* survivor_end for each survivor of step i found gone since the last
 * look: how it went is what qrh did to it (nothing, SIGTERM, SIGKILL). */
static void surv_journal_ends(struct run *r, size_t i)
{
	struct survivors *s = &r->surv[i];
	for (size_t k = 0; k < s->n; k++) {
		struct run_survivor *v = &s->v[k];
		if (v->alive || v->ended_journaled)
			continue;
		v->ended_journaled = true;
		cJSON *p = run_step_payload(r, i, 0);
		cJSON_AddNumberToObject(p, "task", (double)v->task);
		cJSON_AddNumberToObject(p, "pgid", v->pgid);
		cJSON_AddStringToObject(p, "how", s->killed ? "killed" : s->stopping ? "stopped" : "ended");
		cJSON_AddNumberToObject(p, "after_ms", (double)((clock_mono_ns() - s->since_ns) / 1000000));
		struct err e;
		if (run_emit(r, (long)i, EV_SURVIVOR_END, NULL, p, &e) < 0)
			run_journal_failure(r, e.msg);
	}
}

static void on_surv_poll(struct loop *l, uint64_t id, void *arg)
{
	struct survivors *s = arg;
	(void)l;
	(void)id;
	s->poll_timer = 0;
	struct run *r = s->run;
	size_t i = (size_t)(s - r->surv);
	bool alive = surv_any_alive(s);
	surv_journal_ends(r, i);
	if (alive) {
		surv_arm(r, i);
		return;
	}
	s->waiting = s->stopping = s->killed = false;
	run_notify_step(r, i);
}

static void on_surv_kill(struct loop *l, uint64_t id, void *arg)
{
	struct survivors *s = arg;
	(void)l;
	(void)id;
	s->kill_timer = 0;
	surv_any_alive(s); /* who ended by the SIGTERM was stopped, not killed */
	surv_journal_ends(s->run, (size_t)(s - s->run->surv));
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].alive) {
			s->killed = true;
			guard_signal_group(s->v[k].pgid, s->v[k].start_ticks, SIGKILL);
		}
}

/* The operator's choice, journaled (survivor_wait or survivor_stop with
 * the process groups it is about) before it is carried out. */
static int surv_begin(struct run *r, size_t i, unsigned want, struct err *e)
{
	if (i >= r->rb->n_steps || !(run_choices(r, i) & want))
		return err_set(e, "step %zu has no process left running", i + 1);
	struct survivors *s = &r->surv[i];
	cJSON *p = run_step_payload(r, i, 0);
	cJSON *pgids = cJSON_AddArrayToObject(p, "pgids");
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].alive)
			cJSON_AddItemToArray(pgids, cJSON_CreateNumber(s->v[k].pgid));
	run_add_actor(r, p);
	if (run_emit(r, (long)i, want == CHOICE_WAIT ? EV_SURVIVOR_WAIT : EV_SURVIVOR_STOP,
		     r->actor, p, e) < 0)
		return -1;
	s->run = r;
	if (!s->waiting && !s->stopping)
		s->since_ns = clock_mono_ns();
	surv_arm(r, i);
	return 0;
}

int run_survivors_wait(struct run *r, size_t i, struct err *e)
{
	if (surv_begin(r, i, CHOICE_WAIT, e) < 0)
		return -1;
	r->surv[i].waiting = true;
	return 0;
}

int run_survivors_stop(struct run *r, size_t i, struct err *e)
{
	if (surv_begin(r, i, CHOICE_STOP, e) < 0)
		return -1;
	struct survivors *s = &r->surv[i];
	s->stopping = true;
	for (size_t k = 0; k < s->n; k++)
		if (s->v[k].alive)
			guard_signal_group(s->v[k].pgid, s->v[k].start_ticks, SIGTERM);
	if (!s->kill_timer)
		s->kill_timer = loop_timer_add(r->loop, r->opts.grace_ms > 0 ? r->opts.grace_ms
							: PROC_GRACE_MS_DEFAULT,
					       on_surv_kill, s);
	return 0;
}

bool run_survivors_busy(const struct run *r)
{
	for (size_t i = 0; r->surv && i < r->rb->n_steps; i++)
		if (r->surv[i].waiting || r->surv[i].stopping)
			return true;
	return false;
}

void run_survivors_free(struct run *r)
{
	for (size_t i = 0; r->surv && i < r->rb->n_steps; i++) {
		if (r->surv[i].poll_timer)
			loop_timer_cancel(r->loop, r->surv[i].poll_timer);
		if (r->surv[i].kill_timer)
			loop_timer_cancel(r->loop, r->surv[i].kill_timer);
		free(r->surv[i].v);
	}
	free(r->surv);
	r->surv = NULL;
}

/* ---- watching ---- */

static int observe_one(const struct journal_event *ev, void *ctx)
{
	struct run *r = ctx;
	fold_event(&r->fold, ev);
	if (r->lis.event)
		r->lis.event(r->lis.arg, ev);
	return 0;
}

int run_observe(struct run *r, struct journal *j, int64_t id,
		const struct run_listener *lis)
{
	r->j = j;
	r->id = id;
	r->observing = true;
	if (lis)
		r->lis = *lis;
	snprintf(r->id_text, sizeof r->id_text, "%lld", (long long)id);
	return 0;
}

int run_observe_poll(struct run *r, bool *ended, struct err *e)
{
	if (journal_events_each(r->j, r->id, r->fold.head.seq, observe_one, r, e) < 0)
		return -1;
	run_probes_observe(r);
	*ended = r->fold.ended;
	return 0;
}
