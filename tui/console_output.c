/* What a step printed, as the console shows it.
 *
 * A step's view holds its attempts in one scrollback, one after another,
 * each closed by a mark line qrh writes (how it ended: status, exit
 * status, duration, reason; how it was skipped or done by hand), and each
 * of its background tasks and fan-out members (one a host) in a
 * scrollback of its own under a header line (its name; running, or how it
 * ended), so two hosts' lines never mix. It is fed live by the engine's
 * chunks and events, and read back from the journal, with the same marks
 * from the fold's attempts, when a view evicted for memory is shown
 * again, after a resume, and in qrh watch. Lines are indexed across the
 * whole view; a scrolled view keeps its place, and the search match its
 * line, while output arrives anywhere in it. */
#include <cjson/cJSON.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "tui/console_ui.h"
#include "tui/sanitize.h"
#include "util/xalloc.h"

/* ---- the lines of a view ---- */

static size_t sb_count(const struct scrollback *sb)
{
	return sb ? scrollback_count(sb) : 0;
}

/* Where background task b's header is, in the view's lines. */
static size_t bg_start(const struct step_view *v, size_t b)
{
	size_t n = sb_count(v->sb);
	for (size_t k = 0; k < b; k++)
		n += 1 + sb_count(v->bg[k].sb);
	return n;
}

size_t console_out_count(struct console *c, size_t i)
{
	const struct step_view *v = &c->sv[i];
	return bg_start(v, v->n_bg);
}

static void add_clean(struct buf *b, const char *s);

/* A fan-out member's header: its host, and how it ended there. */
static void member_head(const struct fold_task *t, struct bg_view *b)
{
	struct buf h;
	char dur[32];
	buf_init(&h, sizeof b->head_text - 1);
	buf_addf(&h, "on %s", b->label ? b->label : "(unnamed)");
	if (t && t->attempt > 1)
		buf_addf(&h, " (attempt %d)", t->attempt);
	if (!t || !t->ended) {
		buf_adds(&h, ": running");
	} else {
		buf_addf(&h, ": %s", step_status_words(step_status_parse(t->status)));
		if (t->exit_code != STEP_NONE)
			buf_addf(&h, ", exit %lld", (long long)t->exit_code);
		if (t->duration_ms != STEP_NONE) {
			console_format_duration(t->duration_ms, dur, sizeof dur);
			buf_addf(&h, ", %s", dur);
		}
		char num[32];
		snprintf(num, sizeof num, "exit %lld", (long long)t->exit_code);
		if (t->summary[0] && strcmp(t->summary, num) && strcmp(t->summary, "done")) {
			buf_adds(&h, ": ");
			add_clean(&h, t->summary);
		}
	}
	snprintf(b->head_text, sizeof b->head_text, "%s", h.data);
	buf_release(&h);
}

/* The header of a background task says whether it still runs; a
 * member's, how it ended on its host. */
static void bg_head(struct console *c, struct bg_view *b)
{
	const struct fold_task *t = fold_task_by_id(run_fold(c->run), b->task);
	const char *name = b->label ? b->label : "(unnamed)";
	if (b->member)
		member_head(t, b);
	else if (!t || !t->ended)
		snprintf(b->head_text, sizeof b->head_text, "background %s: running", name);
	else if (!strcmp(t->status, "killed") || !strcmp(t->status, "gone"))
		snprintf(b->head_text, sizeof b->head_text, "background %s: ended with qrh (%s)",
			 name, t->status);
	else
		snprintf(b->head_text, sizeof b->head_text, "background %s: ended, %s", name,
			 step_status_words(step_status_parse(t->status)));
	b->head = (struct sb_line){ .text = b->head_text, .len = strlen(b->head_text),
				    .stream = SB_MARK };
}

const struct sb_line *console_out_line(struct console *c, size_t i, size_t k)
{
	struct step_view *v = &c->sv[i];
	size_t n = sb_count(v->sb);
	if (k < n)
		return scrollback_line(v->sb, k);
	k -= n;
	for (size_t b = 0; b < v->n_bg; b++) {
		if (k == 0) {
			bg_head(c, &v->bg[b]);
			return &v->bg[b].head;
		}
		k--;
		n = sb_count(v->bg[b].sb);
		if (k < n)
			return scrollback_line(v->bg[b].sb, k);
		k -= n;
	}
	return NULL;
}

/* ---- keeping a place while lines come and go ---- */

struct snap {
	size_t n;
	uint64_t dropped;
};

static struct snap snap(const struct scrollback *sb)
{
	return (struct snap){ scrollback_count(sb), scrollback_dropped(sb) };
}

/* Line idx after a segment starting at `start` went from was.n lines to
 * now (dropping d from its front); -1 when idx itself was dropped. */
static long shift(size_t idx, size_t start, struct snap was, size_t now, uint64_t d)
{
	if (idx < start)
		return (long)idx;
	if (idx < start + was.n) {
		size_t off = idx - start;
		return off < d ? -1 : (long)(idx - d);
	}
	return (long)(idx - was.n + now);
}

/* A segment of step i's view changed: the scrolled place and the search
 * match stay on their lines. */
static void changed(struct console *c, size_t i, size_t start,
		    const struct scrollback *sb, struct snap was)
{
	struct step_view *v = &c->sv[i];
	struct snap now = snap(sb);
	uint64_t d = now.dropped - was.dropped;
	if (v->scrolled) {
		long t = shift(v->top, start, was, now.n, d);
		if (t < 0) {
			v->top = start;
			v->top_row = 0;
		} else {
			v->top = (size_t)t;
		}
	}
	if (i == console_detail_step(c) && c->match >= 0)
		c->match = shift((size_t)c->match, start, was, now.n, d);
	if (i == console_detail_step(c))
		c->dirty = true;
}

/* ---- memory ---- */

static void view_release(struct step_view *v)
{
	scrollback_free(v->sb);
	v->sb = NULL;
	for (size_t b = 0; b < v->n_bg; b++) {
		scrollback_free(v->bg[b].sb);
		free(v->bg[b].label);
	}
	free(v->bg);
	v->bg = NULL;
	v->n_bg = 0;
}

void console_output_free(struct console *c)
{
	for (size_t i = 0; c->sv && i < c->rb->n_steps; i++)
		view_release(&c->sv[i]);
}

bool console_bg_running(const struct console *c, long i)
{
	const struct run_fold *f = run_fold(c->run);
	for (size_t k = 0; k < f->n_tasks; k++)
		if (f->tasks[k].role == FOLD_TASK_BACKGROUND && !f->tasks[k].ended &&
		    (i < 0 || f->tasks[k].step == i))
			return true;
	return false;
}

size_t console_bg_count(const struct console *c)
{
	if (!c->read_only)
		return run_background_count(c->run);
	const struct run_fold *f = run_fold(c->run);
	size_t n = 0;
	for (size_t k = 0; k < f->n_tasks; k++)
		n += f->tasks[k].role == FOLD_TASK_BACKGROUND && !f->tasks[k].ended;
	return n;
}

/* A view that may be fed now: never the shown step's, nor one whose step
 * or background task is writing. */
static bool evictable(const struct console *c, size_t i, size_t keep)
{
	return c->sv[i].sb && i != keep && i != console_detail_step(c) &&
	       run_step(c->run, i)->status != STEP_RUNNING &&
	       !console_bg_running(c, (long)i);
}

/* Frees the least recently used view beyond the kept number. */
static void evict(struct console *c, size_t keep)
{
	size_t live = 0, victim = SIZE_MAX;
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		if (!c->sv[i].sb)
			continue;
		live++;
		if (evictable(c, i, keep) &&
		    (victim == SIZE_MAX || c->sv[i].used < c->sv[victim].used))
			victim = i;
	}
	if (live > CONSOLE_SCROLLBACKS_KEPT && victim != SIZE_MAX) {
		view_release(&c->sv[victim]);
		c->sv[victim].evicted = true;
	}
}

/* ---- the marks qrh writes ---- */

static void add_clean(struct buf *b, const char *s)
{
	char *clean = sanitize_string(s, strlen(s));
	buf_adds(b, clean);
	free(clean);
}

/* "attempt 2/3 failed, exit 3, 0.1s: cannot run 'x'" */
static void attempt_text(struct console *c, size_t i, const struct step_attempt *a,
			 struct buf *b)
{
	const struct step *s = &c->rb->steps[i];
	const struct step_state *st = run_step(c->run, i);
	char num[32], dur[32];
	if (s->retries > 0 && a->n <= s->retries + 1)
		buf_addf(b, "attempt %d/%d ", a->n, s->retries + 1);
	else if (a->n > 1 || st->n_attempts > 1)
		buf_addf(b, "attempt %d ", a->n);
	buf_adds(b, step_status_words(a->status));
	if (!s->n_actions && a->status == STEP_OK)
		buf_adds(b, " (a manual step)");
	if (a->exit_code != STEP_NONE)
		buf_addf(b, ", exit %lld", (long long)a->exit_code);
	if (a->duration_ms != STEP_NONE) {
		console_format_duration(a->duration_ms, dur, sizeof dur);
		buf_addf(b, ", %s", dur);
	}
	snprintf(num, sizeof num, "exit %lld", (long long)a->exit_code);
	if (a->summary[0] && strcmp(a->summary, num) && strcmp(a->summary, "done") &&
	    strcmp(a->summary, step_status_name(a->status))) {
		buf_adds(b, ": ");
		add_clean(b, a->summary);
	}
	bool last = st->n_attempts && a == &st->attempts[st->n_attempts - 1];
	if (last && run_step_settled(c->run, i) && !step_status_final(st->status))
		buf_adds(b, "; on_fail=continue: the run goes on");
}

/* How a step was closed without running: by whom, and why. */
static void close_text(struct console *c, size_t i, struct buf *b)
{
	const struct step_state *st = run_step(c->run, i);
	buf_adds(b, step_status_words(st->status));
	if (st->closed_by) {
		buf_adds(b, " by ");
		add_clean(b, st->closed_by);
	}
	if (st->detail) {
		buf_adds(b, ": ");
		add_clean(b, st->detail);
	}
}

/* Appends a mark to step i's attempts, after what they printed. */
static void mark(struct console *c, size_t i, const struct buf *text)
{
	struct step_view *v = &c->sv[i];
	if (!v->sb)
		v->sb = scrollback_new();
	struct snap was = snap(v->sb);
	scrollback_finish(v->sb);
	scrollback_mark(v->sb, text->data, text->len);
	changed(c, i, 0, v->sb, was);
}

static void mark_attempt_start(struct console *c, size_t i, int n)
{
	const struct step *s = &c->rb->steps[i];
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	if (s->retries > 0 && n <= s->retries + 1)
		buf_addf(&b, "attempt %d/%d", n, s->retries + 1);
	else
		buf_addf(&b, "attempt %d", n);
	mark(c, i, &b);
	buf_release(&b);
}

static void mark_attempt_end(struct console *c, size_t i, const struct step_attempt *a)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	attempt_text(c, i, a, &b);
	mark(c, i, &b);
	buf_release(&b);
}

static void mark_close(struct console *c, size_t i)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	close_text(c, i, &b);
	mark(c, i, &b);
	buf_release(&b);
}

static void mark_words(struct console *c, size_t i, const char *words)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_adds(&b, words);
	mark(c, i, &b);
	buf_release(&b);
}

/* ---- background tasks ---- */

static struct bg_view *bg_find(struct console *c, size_t i, int64_t task,
			       const char *label)
{
	struct step_view *v = &c->sv[i];
	for (size_t b = 0; b < v->n_bg; b++)
		if (v->bg[b].task == task)
			return &v->bg[b];
	v->bg = xrealloc(v->bg, (v->n_bg + 1) * sizeof *v->bg);
	struct bg_view *b = &v->bg[v->n_bg++];
	memset(b, 0, sizeof *b);
	b->task = task;
	b->label = label && *label ? sanitize_string(label, strlen(label)) : NULL;
	b->sb = scrollback_new();
	/* a header appended at the end moves no line that was there */
	return b;
}

/* Whether a stored stream is a background task's or a member's: shown
 * under its own header. */
static bool ref_own_segment(struct console *c, const struct journal_output_ref *ref)
{
	if (!ref->task)
		return ref->attempt == 0; /* journals written before tasks */
	const struct fold_task *t = fold_task_by_id(run_fold(c->run), ref->task);
	return t && (t->role == FOLD_TASK_BACKGROUND || t->role == FOLD_TASK_MEMBER);
}

/* Task id's segment in step i's view; a member's says so. */
static struct bg_view *segment(struct console *c, size_t i, int64_t id, const char *label)
{
	struct bg_view *b = bg_find(c, i, id, label);
	const struct fold_task *t = fold_task_by_id(run_fold(c->run), id);
	b->member = t && t->role == FOLD_TASK_MEMBER;
	return b;
}

/* ---- reading a view back from the journal ---- */

/* What the journal stored of a step: every stream, read whole (its first
 * and last 2 MiB). */
struct stored {
	struct journal_output_ref *refs;
	size_t n;
	struct buf *text;
	int64_t total;
};

static void stored_read(struct console *c, size_t i, struct stored *s)
{
	struct err e;
	memset(s, 0, sizeof *s);
	if (!run_step(c->run, i)->attempt ||
	    journal_output_list(run_journal(c->run), run_id(c->run), (int64_t)i, &s->refs,
				&s->n, &e) < 0)
		s->n = 0;
	s->text = xcalloc(s->n ? s->n : 1, sizeof *s->text);
	for (size_t k = 0; k < s->n; k++) {
		const struct journal_output_ref *ref = &s->refs[k];
		struct journal_okey key = { .step = ref->step, .attempt = ref->attempt,
					    .task = ref->task };
		struct journal_output_info info;
		memset(&info, 0, sizeof info);
		buf_init(&s->text[k], BUF_UNLIMITED);
		journal_output_read(run_journal(c->run), run_id(c->run), &key, ref->stream,
				    &s->text[k], &info, &e);
		s->total += info.total_bytes;
	}
}

static void stored_release(struct stored *s)
{
	for (size_t k = 0; k < s->n; k++)
		buf_release(&s->text[k]);
	free(s->text);
	free(s->refs);
}

static void feed_stored(const struct stored *s, size_t k, struct scrollback *sb)
{
	scrollback_feed(sb, s->refs[k].stream == JOURNAL_STDERR ? SB_STDERR : SB_STDOUT,
			s->text[k].data, s->text[k].len);
}

/* Step i's view, rebuilt from what the journal stored and what the fold
 * says: attempts in order, stdout then stderr of each task (they are
 * stored apart), the marks, then the background tasks. */
static void build(struct console *c, size_t i, const struct stored *s)
{
	const struct step_state *st = run_step(c->run, i);
	struct step_view *v = &c->sv[i];
	view_release(v);
	v->sb = scrollback_new();
	for (int a = 0; a < st->n_attempts; a++) {
		const struct step_attempt *at = &st->attempts[a];
		if (at->n > 1)
			mark_attempt_start(c, i, at->n);
		for (size_t k = 0; k < s->n; k++)
			if (s->refs[k].attempt == at->n && !ref_own_segment(c, &s->refs[k]))
				feed_stored(s, k, v->sb);
		if (at->status != STEP_RUNNING && at->status != STEP_INTERRUPTED)
			mark_attempt_end(c, i, at);
	}
	const struct run_fold *f = run_fold(c->run);
	for (size_t k = 0; k < f->n_tasks; k++) /* every host, printed or not */
		if (f->tasks[k].role == FOLD_TASK_MEMBER && f->tasks[k].step == (int64_t)i)
			segment(c, i, f->tasks[k].id, f->tasks[k].label);
	for (size_t k = 0; k < s->n; k++) {
		if (!ref_own_segment(c, &s->refs[k]))
			continue;
		struct bg_view *b = segment(c, i, s->refs[k].task, s->refs[k].label);
		feed_stored(s, k, b->sb);
		scrollback_finish(b->sb);
	}
	if (st->status == STEP_SKIPPED || st->status == STEP_DONE_BY_HAND)
		mark_close(c, i);
	else if (st->status == STEP_INTERRUPTED)
		mark_words(c, i, "interrupted: qrh stopped while it ran; outcome unknown");
	else if (st->status == STEP_CANCELLED && st->n_attempts &&
		 st->attempts[st->n_attempts - 1].status != STEP_CANCELLED)
		mark_words(c, i, st->summary); /* while it waited to try again */
	if (st->status != STEP_RUNNING)
		scrollback_finish(v->sb);
	v->scrolled = false;
	v->evicted = false;
	if (i == console_detail_step(c))
		c->match = -1;
	c->dirty = true;
}

static void load(struct console *c, size_t i)
{
	struct stored s;
	stored_read(c, i, &s);
	build(c, i, &s);
	stored_release(&s);
}

void console_show_output(struct console *c, size_t i)
{
	struct step_view *v = &c->sv[i];
	v->used = ++c->clock;
	if (v->evicted && !v->sb) {
		load(c, i);
		evict(c, i);
	}
}

/* qrh watch: what the journal holds now, built again when it changed (an
 * event of the run, or more output); the watcher keeps their place. */
void console_output_watch(struct console *c, size_t i)
{
	struct step_view *v = &c->sv[i];
	struct stored s;
	stored_read(c, i, &s);
	int64_t sig = s.total * 1000003 + run_fold(c->run)->n_events;
	if (sig != v->seen_sig || !v->sb) {
		bool scrolled = v->scrolled;
		size_t top = v->top;
		int row = v->top_row;
		build(c, i, &s);
		v->seen_sig = sig;
		if (scrolled && top < console_out_count(c, i)) {
			v->scrolled = true;
			v->top = top;
			v->top_row = row;
		}
	}
	stored_release(&s);
}

/* ---- fed live ---- */

/* Step i's view exists; read back from the journal first if it was
 * evicted (its new attempt adds to what is there). */
static void ensure(struct console *c, size_t i)
{
	struct step_view *v = &c->sv[i];
	v->used = ++c->clock;
	if (v->evicted && !v->sb)
		load(c, i);
	if (!v->sb)
		v->sb = scrollback_new();
	evict(c, i);
}

void console_output_chunk(struct console *c, const struct run_chunk *ch)
{
	size_t i = ch->step;
	if (!c->run || c->read_only || i >= c->rb->n_steps)
		return;
	ensure(c, i);
	struct step_view *v = &c->sv[i];
	struct scrollback *sb = v->sb;
	size_t start = 0;
	if (ch->background || ch->label) { /* a background task, a host */
		struct bg_view *b = segment(c, i, ch->task, ch->label);
		sb = b->sb;
		start = bg_start(v, (size_t)(b - v->bg)) + 1;
	}
	struct snap was = snap(sb);
	scrollback_feed(sb, ch->stream == PROC_STDOUT ? SB_STDOUT : SB_STDERR, ch->data, ch->len);
	changed(c, i, start, sb, was);
}

/* The last attempt of step i, as the fold has it after the event. */
static const struct step_attempt *last_attempt(struct console *c, size_t i)
{
	const struct step_state *st = run_step(c->run, i);
	return st->n_attempts ? &st->attempts[st->n_attempts - 1] : NULL;
}

void console_output_event(struct console *c, const struct journal_event *ev)
{
	if (!c->run || c->read_only || ev->step < 0 || (size_t)ev->step >= c->rb->n_steps)
		return;
	size_t i = (size_t)ev->step;
	const char *t = ev->type;
	const struct step_attempt *a = last_attempt(c, i);
	if (!strcmp(t, EV_STEP_START)) {
		c->sv[i].live[0] = '\0'; /* what an earlier attempt said */
		ensure(c, i);
		if (a && a->n > 1)
			mark_attempt_start(c, i, a->n);
	} else if (!strcmp(t, EV_STEP_END) && a) {
		ensure(c, i);
		mark_attempt_end(c, i, a);
	} else if (!strcmp(t, EV_STEP_SKIP) || !strcmp(t, EV_STEP_DONE_BY_HAND)) {
		ensure(c, i);
		mark_close(c, i);
	} else if (!strcmp(t, EV_STEP_CANCEL)) {
		ensure(c, i);
		mark_words(c, i, run_step(c->run, i)->summary);
	} else if (!strcmp(t, EV_TASK_START)) {
		ensure(c, i); /* a host shows from its start, printing or not */
		cJSON *p = ev->payload ? cJSON_Parse(ev->payload) : NULL;
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(p, "task");
		const struct fold_task *k =
			cJSON_IsNumber(id) ? fold_task_by_id(run_fold(c->run), (int64_t)id->valuedouble) : NULL;
		if (k && k->role == FOLD_TASK_MEMBER)
			segment(c, i, k->id, k->label);
		cJSON_Delete(p);
		c->dirty = true;
	} else if (!strcmp(t, EV_BACKGROUND_END) || !strcmp(t, EV_TASK_END)) {
		c->dirty = true; /* its header says so */
	}
}

/* ---- rows: wrapping and scrolling ---- */

int console_out_cols(const struct console *c)
{
	int w = c->lay.detail.w - 1; /* a gutter column for marks */
	return w > 1 ? w : 1;
}

int console_out_rows(const struct console *c)
{
	int h = c->lay.detail.h - 1; /* the pane's title */
	return h > 1 ? h : 1;
}

/* The columns a line's text takes: qrh's marks give 3 to their rule. */
static int text_cols(const struct sb_line *l, int cols)
{
	int w = l->stream == SB_MARK ? cols - 3 : cols;
	return w > 1 ? w : 1;
}

/* Output lines scroll sideways in hscroll mode; qrh's marks always wrap,
 * since they say how an attempt ended. */
static bool wraps(const struct console *c, const struct sb_line *l)
{
	return !c->hscroll || l->stream == SB_MARK;
}

/* The bytes of the row that starts at off: output is cut where the
 * width ends (its bytes are what they are), qrh's marks between words. */
static size_t row_bytes(const struct sb_line *l, size_t off, int w)
{
	size_t bytes;
	sanitize_clip(l->text + off, l->len - off, w, &bytes);
	if (!bytes) /* not one character fits */
		return l->len - off;
	if (l->stream == SB_MARK && off + bytes < l->len && l->text[off + bytes] != ' ') {
		size_t space = bytes;
		while (space > 0 && l->text[off + space - 1] != ' ')
			space--;
		if (space > 0)
			bytes = space;
	}
	return bytes;
}

int console_line_rows(const struct console *c, const struct sb_line *l, int cols)
{
	if (!wraps(c, l))
		return 1;
	int rows = 0, w = text_cols(l, cols);
	size_t off = 0;
	do {
		off += row_bytes(l, off, w);
		rows++;
	} while (off < l->len);
	return rows;
}

size_t console_row_start(const struct console *c, const struct sb_line *l,
			 int cols, int row)
{
	size_t off = 0;
	int w = text_cols(l, cols);
	if (!wraps(c, l))
		return 0;
	for (int r = 0; r < row && off < l->len; r++)
		off += row_bytes(l, off, w);
	return off;
}

size_t console_out_follow_top(struct console *c, size_t i, int *row)
{
	int cols = console_out_cols(c), need = console_out_rows(c);
	size_t n = console_out_count(c, i), k = n;
	*row = 0;
	while (k > 0 && need > 0) {
		int r = console_line_rows(c, console_out_line(c, i, k - 1), cols);
		k--;
		if (r > need) {
			*row = r - need;
			return k;
		}
		need -= r;
	}
	return k;
}

/* Rows from (top, row) to the end of the view, counting at most max. */
static int rows_left(struct console *c, size_t i, size_t top, int row, int max)
{
	int cols = console_out_cols(c), sum = -row;
	size_t n = console_out_count(c, i);
	for (size_t k = top; k < n && sum <= max; k++)
		sum += console_line_rows(c, console_out_line(c, i, k), cols);
	return sum;
}

void console_out_follow(struct console *c)
{
	c->sv[console_detail_step(c)].scrolled = false;
}

/* A scrolled view that reaches the end follows it again. */
static void settle_scroll(struct console *c, size_t i)
{
	struct step_view *v = &c->sv[i];
	if (v->scrolled && rows_left(c, i, v->top, v->top_row, console_out_rows(c)) <=
				   console_out_rows(c))
		v->scrolled = false;
}

void console_out_scroll(struct console *c, int rows)
{
	size_t i = console_detail_step(c);
	struct step_view *v = &c->sv[i];
	int cols = console_out_cols(c);
	size_t n = console_out_count(c, i);
	if (!n || (!v->scrolled && rows > 0))
		return;
	if (v->scrolled && v->top >= n) { /* the view was read again, shorter */
		v->top = n - 1;
		v->top_row = 0;
	}
	if (!v->scrolled) {
		v->top = console_out_follow_top(c, i, &v->top_row);
		v->scrolled = true;
	}
	for (; rows < 0; rows++) {
		if (v->top_row > 0) {
			v->top_row--;
		} else if (v->top > 0) {
			v->top--;
			v->top_row = console_line_rows(c, console_out_line(c, i, v->top), cols) - 1;
		} else {
			break;
		}
	}
	for (; rows > 0; rows--) {
		if (v->top_row + 1 < console_line_rows(c, console_out_line(c, i, v->top), cols))
			v->top_row++;
		else if (v->top + 1 < n)
			v->top++, v->top_row = 0;
		else
			break;
	}
	settle_scroll(c, i);
}

void console_out_top(struct console *c)
{
	size_t i = console_detail_step(c);
	struct step_view *v = &c->sv[i];
	v->scrolled = true;
	v->top = 0;
	v->top_row = 0;
	settle_scroll(c, i);
}

void console_out_reveal(struct console *c, size_t k)
{
	size_t i = console_detail_step(c);
	struct step_view *v = &c->sv[i];
	v->scrolled = true;
	v->top = k;
	v->top_row = 0;
	settle_scroll(c, i);
}

long console_out_search(struct console *c, size_t i, const char *needle,
			size_t from, int dir)
{
	size_t count = console_out_count(c, i);
	if (!count || !*needle)
		return -1;
	char *lower = scrollback_fold(needle);
	long found = -1;
	from %= count;
	for (size_t k = 0; k < count && found < 0; k++) {
		size_t at = dir < 0 ? (from + count - k) % count : (from + k) % count;
		if (scrollback_line_has(console_out_line(c, i, at), lower))
			found = (long)at;
	}
	free(lower);
	return found;
}
