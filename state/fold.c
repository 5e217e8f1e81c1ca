/* Folding a run's events into its state (state/fold.h). */
#include "state/fold.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "util/jmember.h"
#include "util/xalloc.h"

static struct fold_step *step_add(struct run_fold *f, int64_t index,
				  const char *id, const char *title)
{
	f->steps = xgrow(f->steps, &f->cap_steps, f->n_steps + 1, sizeof *f->steps);
	struct fold_step *s = &f->steps[f->n_steps++];
	memset(s, 0, sizeof *s);
	s->index = index;
	s->id = id ? xstrdup(id) : NULL;
	s->title = title ? xstrdup(title) : NULL;
	step_state_init(&s->st);
	return s;
}

void fold_init(struct run_fold *f, const struct runbook *rb)
{
	memset(f, 0, sizeof *f);
	for (size_t i = 0; rb && i < rb->n_steps; i++)
		step_add(f, (int64_t)i, rb->steps[i].id, rb->steps[i].title);
	f->from_runbook = f->n_steps;
	objectives_fold_init(f);
}

void fold_release(struct run_fold *f)
{
	for (size_t i = 0; i < f->n_steps; i++) {
		free(f->steps[i].id);
		free(f->steps[i].title);
		step_state_release(&f->steps[i].st);
	}
	free(f->steps);
	for (size_t i = 0; i < f->n_segments; i++) {
		free(f->segments[i].actor);
		free(f->segments[i].os_user);
	}
	free(f->segments);
	for (size_t i = 0; i < f->n_tasks; i++)
		free(f->tasks[i].label);
	free(f->tasks);
	for (size_t i = 0; i < f->n_notes; i++) {
		free(f->notes[i].actor);
		free(f->notes[i].text);
		free(f->notes[i].id);
	}
	free(f->notes);
	fold_approvals_release(f);
	for (size_t i = 0; i < f->n_captures; i++) {
		free(f->captures[i].name);
		free(f->captures[i].value);
	}
	free(f->captures);
	free(f->ended_by);
	objectives_fold_release(f);
	memset(f, 0, sizeof *f);
}

struct fold_step *fold_step_by_id(struct run_fold *f, const char *id)
{
	for (size_t i = 0; id && i < f->n_steps; i++)
		if (f->steps[i].id && !strcmp(f->steps[i].id, id))
			return &f->steps[i];
	return NULL;
}

/* By step_id as the engine writes it, else by the row's step number. */
static struct fold_step *step_for(struct run_fold *f,
				  const struct journal_event *ev, const cJSON *p)
{
	const char *id = jmember_str(p, "step_id");
	struct fold_step *s = fold_step_by_id(f, id);
	if (s)
		return s;
	if (!id)
		for (size_t i = 0; i < f->n_steps; i++)
			if (f->steps[i].index == ev->step)
				return &f->steps[i];
	return step_add(f, ev->step, id, NULL);
}

const struct fold_task *fold_task_by_id(const struct run_fold *f, int64_t id)
{
	/* tasks are appended in id order: binary search */
	size_t lo = 0, hi = f->n_tasks;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		if (f->tasks[mid].id == id)
			return &f->tasks[mid];
		if (f->tasks[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ---- segments ---- */

static int current_segment(const struct run_fold *f)
{
	return f->n_segments ? (int)f->n_segments - 1 : 0;
}

bool fold_same_boot(const struct run_fold *f, int a, int b)
{
	if (a == b || a < 0 || b < 0 || (size_t)a >= f->n_segments ||
	    (size_t)b >= f->n_segments)
		return true;
	const char *x = f->segments[a].boot_id, *y = f->segments[b].boot_id;
	return !x[0] || !y[0] || !strcmp(x, y);
}

static void segment_open(struct run_fold *f, const struct journal_event *ev,
			 const cJSON *p, bool resume)
{
	f->segments = xrealloc(f->segments, (f->n_segments + 1) * sizeof *f->segments);
	struct fold_segment *s = &f->segments[f->n_segments++];
	memset(s, 0, sizeof *s);
	s->resume = resume;
	s->actor = xstrdup(ev->actor);
	const char *u = jmember_str(p, "os_user");
	s->os_user = u ? xstrdup(u) : NULL;
	s->uid = jmember_int(p, "uid", -1);
	const char *boot = jmember_str(p, "boot_id");
	snprintf(s->boot_id, sizeof s->boot_id, "%s", boot ? boot : "");
	s->first_wall_ms = s->last_wall_ms = ev->wall_ms;
	s->first_mono_ns = s->last_mono_ns = ev->mono_ns;
	s->seq = ev->seq;
}

/* From the start of segment 0 to (wall, mono) in the last segment. */
int64_t fold_elapsed_to_ms(const struct run_fold *f, int64_t wall_ms,
			   int64_t mono_ns)
{
	int64_t total = 0;
	if (!f->n_segments)
		return 0;
	/* runs of segments in one boot count on the monotonic clock; the
	 * gap to a segment in another boot on the wall clock */
	size_t first = 0;
	for (size_t i = 1; i <= f->n_segments; i++) {
		bool last = i == f->n_segments;
		if (!last && fold_same_boot(f, (int)first, (int)i))
			continue;
		const struct fold_segment *a = &f->segments[first];
		const struct fold_segment *b = &f->segments[i - 1];
		int64_t end_mono = last ? mono_ns : b->last_mono_ns;
		total += (end_mono - a->first_mono_ns) / 1000000;
		if (!last) {
			int64_t gap = f->segments[i].first_wall_ms - b->last_wall_ms;
			total += gap > 0 ? gap : 0;
		}
		(void)wall_ms;
		first = i;
	}
	return total > 0 ? total : 0;
}

int64_t fold_offset_ms(const struct run_fold *f, int seg, int64_t mono_ns)
{
	int64_t total = 0;
	size_t first = 0;
	if (!f->n_segments || seg < 0)
		return 0;
	if ((size_t)seg >= f->n_segments)
		seg = (int)f->n_segments - 1;
	/* whole boot groups before seg's, as fold_elapsed_to_ms counts them */
	for (size_t i = 1; i <= (size_t)seg; i++) {
		if (fold_same_boot(f, (int)first, (int)i))
			continue;
		const struct fold_segment *a = &f->segments[first];
		const struct fold_segment *b = &f->segments[i - 1];
		total += (b->last_mono_ns - a->first_mono_ns) / 1000000;
		int64_t gap = f->segments[i].first_wall_ms - b->last_wall_ms;
		total += gap > 0 ? gap : 0;
		first = i;
	}
	int64_t in = (mono_ns - f->segments[first].first_mono_ns) / 1000000;
	return total + (in > 0 ? in : 0);
}

int64_t fold_elapsed_ms(const struct run_fold *f)
{
	if (!f->n_segments)
		return 0;
	const struct fold_segment *s = &f->segments[f->n_segments - 1];
	return fold_elapsed_to_ms(f, s->last_wall_ms, s->last_mono_ns);
}

size_t fold_operators(const struct run_fold *f, const char **out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < f->n_segments && n < max; i++) {
		bool seen = false;
		for (size_t k = 0; k < n; k++)
			seen = seen || !strcmp(out[k], f->segments[i].actor);
		if (!seen)
			out[n++] = f->segments[i].actor;
	}
	return n;
}

/* ---- tasks ---- */

static struct fold_task *task_get(struct run_fold *f, int64_t id)
{
	return (struct fold_task *)(uintptr_t)fold_task_by_id(f, id);
}

static void task_started(struct run_fold *f, const struct journal_event *ev,
			 const cJSON *p, enum fold_task_role role,
			 const struct fold_step *s)
{
	int64_t id = jmember_int(p, "task", 0);
	if (id <= 0 || id <= f->max_task)
		return; /* legacy event, or out of order: ignored */
	f->tasks = xgrow(f->tasks, &f->cap_tasks, f->n_tasks + 1, sizeof *f->tasks);
	struct fold_task *t = &f->tasks[f->n_tasks++];
	memset(t, 0, sizeof *t);
	t->id = id;
	t->role = role;
	t->step = s ? (int64_t)(s - f->steps) : -1;
	t->attempt = (int)jmember_int(p, "attempt", 0);
	t->action = (int)jmember_int(p, "action", 0);
	const char *label = jmember_str(p, role == FOLD_TASK_BACKGROUND ? "name" : "label");
	t->label = label && *label ? xstrdup(label) : NULL;
	t->segment = current_segment(f);
	t->exit_code = t->duration_ms = STEP_NONE;
	f->max_task = id;
	(void)ev;
}

static void stream_from_object(struct fold_stream *s, const cJSON *o)
{
	if (!cJSON_IsObject(o))
		return;
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(o, "truncated");
	const char *sha = jmember_str(o, "sha256");
	s->known = true;
	s->bytes = jmember_int(o, "bytes", STEP_NONE);
	snprintf(s->sha256, sizeof s->sha256, "%s", sha ? sha : "");
	s->truncated = cJSON_IsBool(tr) ? cJSON_IsTrue(tr) : -1;
	s->lost = jmember_int(o, "lost", STEP_NONE);
}

/* step_end / background_end of journals written before tasks. */
static void stream_from_flat(struct fold_stream *s, const cJSON *p,
			     const char *name)
{
	char key[32];
	snprintf(key, sizeof key, "%s_bytes", name);
	if (!cJSON_GetObjectItemCaseSensitive(p, key))
		return;
	s->known = true;
	s->bytes = jmember_int(p, key, STEP_NONE);
	snprintf(key, sizeof key, "%s_sha256", name);
	const char *sha = jmember_str(p, key);
	snprintf(s->sha256, sizeof s->sha256, "%s", sha ? sha : "");
	snprintf(key, sizeof key, "%s_truncated", name);
	const cJSON *tr = cJSON_GetObjectItemCaseSensitive(p, key);
	s->truncated = cJSON_IsBool(tr) ? cJSON_IsTrue(tr) : -1;
	snprintf(key, sizeof key, "%s_lost", name);
	s->lost = jmember_int(p, key, STEP_NONE);
}

static void task_event(struct run_fold *f, const struct journal_event *ev,
		       const cJSON *p, struct fold_step *s)
{
	const char *t = ev->type;
	if (!strcmp(t, EV_ACTION_START) && cJSON_GetObjectItemCaseSensitive(p, "task"))
		task_started(f, ev, p, FOLD_TASK_ACTION, s);
	else if (!strcmp(t, EV_TASK_START))
		task_started(f, ev, p, FOLD_TASK_MEMBER, s);
	else if (!strcmp(t, EV_BACKGROUND_START))
		task_started(f, ev, p, FOLD_TASK_BACKGROUND, s);
	else if (!strcmp(t, EV_ACTION_END) || !strcmp(t, EV_TASK_END) ||
		 !strcmp(t, EV_BACKGROUND_END) || !strcmp(t, EV_TASK_REAPED) ||
		 !strcmp(t, EV_SURVIVOR_END)) {
		struct fold_task *task = task_get(f, jmember_int(p, "task", 0));
		if (task) {
			bool reaped = !strcmp(t, EV_TASK_REAPED) || !strcmp(t, EV_SURVIVOR_END);
			task->ended = true;
			const char *st = jmember_str(p, reaped ? "how" : "status");
			snprintf(task->status, sizeof task->status, "%s", st ? st : "");
			const char *sum = jmember_str(p, "summary");
			snprintf(task->summary, sizeof task->summary, "%s", sum ? sum : "");
			task->exit_code = jmember_int(p, "exit_code", STEP_NONE);
			task->duration_ms = jmember_int(p, "duration_ms", STEP_NONE);
			stream_from_object(&task->out[1], cJSON_GetObjectItemCaseSensitive(p, "stdout"));
			stream_from_object(&task->out[2], cJSON_GetObjectItemCaseSensitive(p, "stderr"));
		}
	} else if (!strcmp(t, EV_TASK_PROCESS)) {
		struct fold_task *task = task_get(f, jmember_int(p, "task", 0));
		if (task) {
			task->pgid = (pid_t)jmember_int(p, "pgid", 0);
			task->start_ticks = (uint64_t)jmember_int(p, "start_ticks", 0);
		}
	}
}

/* ---- the rest ---- */

static void note_add(struct run_fold *f, const struct journal_event *ev,
		     const cJSON *p)
{
	const char *text = jmember_str(p, "text");
	f->notes = xrealloc(f->notes, (f->n_notes + 1) * sizeof *f->notes);
	struct fold_note *n = &f->notes[f->n_notes++];
	n->seq = ev->seq;
	n->wall_ms = ev->wall_ms;
	n->step = ev->step;
	n->actor = xstrdup(ev->actor);
	n->text = xstrdup(text ? text : "");
	const char *id = jmember_str(p, "note_id");
	n->id = xstrdup(id ? id : "");
}

static void capture_add(struct run_fold *f, const cJSON *p)
{
	const char *name = jmember_str(p, "name"), *value = jmember_str(p, "value");
	if (!name || !value)
		return; /* a secret capture is not in the journal */
	for (size_t i = 0; i < f->n_captures; i++) {
		if (!strcmp(f->captures[i].name, name)) {
			free(f->captures[i].value);
			f->captures[i].value = xstrdup(value);
			return;
		}
	}
	f->captures = xrealloc(f->captures, (f->n_captures + 1) * sizeof *f->captures);
	f->captures[f->n_captures].name = xstrdup(name);
	f->captures[f->n_captures++].value = xstrdup(value);
}

static void step_event(struct run_fold *f, const struct journal_event *ev,
		       const cJSON *p, struct fold_step *s)
{
	struct step_event se;
	int seg = current_segment(f);
	step_event_parse(ev, p, seg, &se);
	if (se.kind == STEP_EV_NONE)
		return;
	bool same = !s->st.n_attempts || fold_same_boot(f, s->st.attempts[0].segment, seg);
	if (step_apply(&s->st, &se, same) < 0)
		f->illegal++;
	if (se.kind == STEP_EV_START) {
		memset(s->legacy, 0, sizeof s->legacy);
		s->start_seq = ev->seq;
	}
	if (se.kind == STEP_EV_END) {
		stream_from_flat(&s->legacy[1], p, "stdout");
		stream_from_flat(&s->legacy[2], p, "stderr");
	}
}

void fold_event(struct run_fold *f, const struct journal_event *ev)
{
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	const char *t = ev->type;
	f->n_events++;
	f->head.seq = ev->seq;
	snprintf(f->head.hash, sizeof f->head.hash, "%s", ev->hash);
	if (!strcmp(t, EV_RUN_START) || !strcmp(t, EV_RUN_RESUME)) {
		segment_open(f, ev, p, !strcmp(t, EV_RUN_RESUME));
	} else if (f->n_segments) {
		struct fold_segment *seg = &f->segments[f->n_segments - 1];
		seg->last_wall_ms = ev->wall_ms;
		seg->last_mono_ns = ev->mono_ns;
	}
	struct fold_step *s = ev->step >= 0 ? step_for(f, ev, p) : NULL;
	if (s)
		step_event(f, ev, p, s);
	task_event(f, ev, p, s);
	objectives_fold_event(f, ev, p, current_segment(f));
	if (!strcmp(t, EV_PROBE_DIGEST))
		f->digested = jmember_int(p, "last", f->digested);
	if (!strncmp(t, "approval", 8) && s)
		fold_approval_event(f, ev, p, s - f->steps);
	if (!strcmp(t, EV_NOTE))
		note_add(f, ev, p);
	else if (!strcmp(t, EV_CAPTURE))
		capture_add(f, p);
	else if (!strcmp(t, EV_RUN_END)) {
		f->ended = true;
		const char *o = jmember_str(p, "outcome");
		snprintf(f->outcome, sizeof f->outcome, "%s", o ? o : "");
		free(f->ended_by);
		f->ended_by = xstrdup(ev->actor);
		f->ended_wall_ms = ev->wall_ms;
	}
	cJSON_Delete(p);
}

int fold_event_cb(const struct journal_event *ev, void *ctx)
{
	fold_event(ctx, ev);
	return 0;
}
