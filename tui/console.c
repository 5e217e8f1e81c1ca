/* The console's loop: curses set up and torn down, keys read when the
 * terminal is readable (and after every pass, for KEY_RESIZE), the
 * engine's events turned into state, a frame drawn at most CONSOLE_FPS
 * times a second when something changed. */
#include <cjson/cJSON.h>
#include <curses.h>
#include <errno.h>
#include <limits.h>
#include <langinfo.h>
#include <locale.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <unistd.h>

#include "state/events.h"
#include "state/journal.h"
#include "tui/cli.h"
#include "tui/console.h"
#include "tui/console_ui.h"
#include "util/clock.h"
#include "util/xalloc.h"

/* curses is global; so is the one console that draws with it. */
static struct console the_console;
static bool curses_up;

static void curses_restore(void)
{
	if (curses_up) {
		curs_set(1);
		endwin();
		curses_up = false;
	}
}

void console_mark_dirty(struct console *c)
{
	c->dirty = true;
}

void console_set_status(struct console *c, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(c->status, sizeof c->status, fmt, ap);
	va_end(ap);
	c->dirty = true;
}

/* ---- the engine's events ---- */

/* qrh watch follows the run as the console running it does: a step that
 * starts is shown with its output, a step that is settled gives way to
 * the next; unless the watcher chose a step of their own. */
static void watch_follow(struct console *c, const struct journal_event *ev)
{
	if (ev->step < 0 || (size_t)ev->step >= c->rb->n_steps)
		return;
	size_t i = (size_t)ev->step;
	if (!strcmp(ev->type, EV_STEP_START)) {
		if (!c->user_moved) {
			c->sel = i;
			c->view = VIEW_OUTPUT;
		}
	} else if ((!strcmp(ev->type, EV_STEP_END) || !strcmp(ev->type, EV_STEP_SKIP) ||
		    !strcmp(ev->type, EV_STEP_DONE_BY_HAND)) &&
		   run_step_settled(c->run, i)) {
		console_follow_next(c);
	}
}

/* An action that measured the RPO (values.window_ms): for the header. */
static void note_rpo(struct console *c, const struct journal_event *ev)
{
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, "values");
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(v, "window_ms");
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(v, "rows_lost");
	if (cJSON_IsNumber(w)) {
		c->rpo_window_ms = (int64_t)w->valuedouble;
		c->rpo_rows_lost = cJSON_IsNumber(rows) ? (int64_t)rows->valuedouble : 0;
	}
	cJSON_Delete(p);
}

static void on_event(void *arg, const struct journal_event *ev)
{
	struct console *c = &the_console;
	(void)arg;
	c->head_seq = ev->seq;
	snprintf(c->head_hash, sizeof c->head_hash, "%.8s", ev->hash);
	if (!strcmp(ev->type, EV_NOTE))
		c->n_notes++;
	if (!strcmp(ev->type, EV_ACTION_END))
		note_rpo(c, ev);
	if (!strcmp(ev->type, EV_STEP_START) && ev->step >= 0 &&
	    (size_t)ev->step < c->rb->n_steps) {
		/* a new attempt shows its own output */
		struct step_view *v = &c->sv[ev->step];
		scrollback_free(v->sb);
		v->sb = scrollback_new();
		v->scroll = 0;
	}
	if (c->read_only)
		watch_follow(c, ev);
	c->dirty = true;
}

/* A step whose process is writing now. */
static bool step_writing(const struct console *c, size_t i)
{
	return run_step(c->run, i)->status == STEP_RUNNING;
}

/* Frees the least recently used scrollback beyond the kept number,
 * never the selected step's nor one being fed. */
static void evict(struct console *c, size_t keep)
{
	size_t live = 0, victim = SIZE_MAX;
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		struct step_view *v = &c->sv[i];
		if (!v->sb)
			continue;
		live++;
		if (i != c->sel && i != keep && !step_writing(c, i) &&
		    (victim == SIZE_MAX || v->used < c->sv[victim].used))
			victim = i;
	}
	if (live > CONSOLE_SCROLLBACKS_KEPT && victim != SIZE_MAX) {
		scrollback_free(c->sv[victim].sb);
		c->sv[victim].sb = NULL;
		c->sv[victim].evicted = true;
	}
}

static void on_output(void *arg, const struct run_chunk *ch)
{
	struct console *c = &the_console;
	size_t step = ch->step;
	enum proc_stream stream = ch->stream;
	const char *data = ch->data;
	size_t len = ch->len;
	(void)arg;
	if (step >= c->rb->n_steps)
		return;
	struct step_view *v = &c->sv[step];
	v->used = ++c->clock;
	if (!v->sb) {
		v->sb = scrollback_new();
		evict(c, step);
	}
	uint64_t dropped = scrollback_dropped(v->sb);
	uint64_t lines = scrollback_count(v->sb) + dropped;
	scrollback_feed(v->sb, stream == PROC_STDOUT ? SB_STDOUT : SB_STDERR,
			data, len);
	/* a view scrolled back stays on the lines being read: new lines
	 * push it further from the bottom instead of moving the text */
	uint64_t added = scrollback_count(v->sb) + scrollback_dropped(v->sb) - lines;
	if (v->scroll > 0)
		v->scroll = added > (uint64_t)(INT_MAX - v->scroll) ? INT_MAX : v->scroll + (int)added;
	if (step == c->sel && c->match >= 0) {
		/* the match is an index into the ring, whose front may have gone */
		uint64_t gone = scrollback_dropped(v->sb) - dropped;
		c->match = gone > (uint64_t)c->match ? -1 : c->match - (long)gone;
	}
	if (step == c->sel)
		c->dirty = true;
}

static void offer_failure(struct console *c, size_t i);
static void offer_interrupted(struct console *c, size_t i);

/* ---- a value to pick from a list the step printed (a velero backup) ---- */

static void picked(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (!text || !*text)
		console_set_status(c, "nothing picked");
	else if (run_pick(c->run, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else
		console_set_status(c, "picked: %s", text);
}

/* The choices, numbered, in a dialog that takes a number or a name. */
static bool offer_pick(struct console *c)
{
	size_t step;
	const char *var;
	const cJSON *choices = run_pick_pending(c->run, &step, &var);
	if (!choices || c->read_only)
		return false;
	char title[160];
	snprintf(title, sizeof title, "Pick %s (step %zu listed them): type its number or name", var,
		 step + 1);
	dialog_open(c, DLG_TEXT, title, picked);
	c->dlg.step = step;
	int k = 0;
	const cJSON *ch;
	cJSON_ArrayForEach(ch, choices)
	{
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(ch, "name");
		const cJSON *phase = cJSON_GetObjectItemCaseSensitive(ch, "phase");
		const cJSON *created = cJSON_GetObjectItemCaseSensitive(ch, "created");
		char line[256];
		snprintf(line, sizeof line, "%2d  %.80s  %.24s  %.32s", ++k,
			 cJSON_IsString(name) ? name->valuestring : "?",
			 cJSON_IsString(phase) ? phase->valuestring : "",
			 cJSON_IsString(created) ? created->valuestring : "");
		/* names and phases come from outside: shown through the sanitizer */
		styled_add_plain(&c->dlg.body, line, strlen(line), 0);
	}
	return true;
}

static void on_step_done(void *arg, size_t i)
{
	struct console *c = &the_console;
	(void)arg;
	const struct step_state *st = run_step(c->run, i);
	if (c->sv[i].sb)
		scrollback_finish(c->sv[i].sb);
	c->dirty = true;
	if (run_step_settled(c->run, i)) {
		console_follow_next(c);
		offer_pick(c);
		return;
	}
	if (st->status == STEP_FAILED || st->status == STEP_TIMEOUT ||
	    st->status == STEP_CANCELLED) {
		offer_failure(c, i);
	} else if (st->status == STEP_INTERRUPTED) {
		offer_interrupted(c, i); /* its survivors have ended */
	}
}

static void on_journal_failed(void *arg, const char *msg)
{
	(void)arg;
	console_set_status(&the_console, "the journal cannot be written: %s", msg);
}

void console_listener(struct run_listener *lis)
{
	memset(lis, 0, sizeof *lis);
	lis->event = on_event;
	lis->output = on_output;
	lis->step_done = on_step_done;
	lis->journal_failed = on_journal_failed;
}

/* ---- steps: confirming, running, failing ---- */

void console_start_step(struct console *c, size_t i, const char *how)
{
	struct err e;
	if (run_step_begin(c->run, i, how, &e) < 0) {
		console_set_status(c, "%s", e.msg);
		return;
	}
	c->sel = i;
	c->view = VIEW_OUTPUT;
	/* the cursor is where the operator wanted it: follow from here */
	c->user_moved = false;
	c->dirty = true;
}

static void failure_chosen(struct console *c, int key, const char *text)
{
	size_t i = c->dlg.step;
	(void)text;
	switch (key) {
	case 'r':
		/* a step that needs its word needs it again for another run */
		if (c->rb->steps[i].confirm == CONFIRM_TYPED)
			console_ask_step(c, i);
		else
			console_start_step(c, i, "enter");
		return;
	case 's': /* with a reason, as the s key asks for */
		console_ask_skip(c, i);
		return;
	case 'd': /* with a note of what was done */
		console_ask_done(c, i);
		return;
	case 'a':
		c->quit = true;
		c->aborted = true;
		c->exit_code = QRH_EXIT_FAILED;
		return;
	default:
		console_set_status(c, "step %zu '%s' failed: Enter runs it again, s skips it, d marks it done by hand",
				   i + 1, c->rb->steps[i].id);
	}
}

static void offer_failure(struct console *c, size_t i)
{
	const struct step_state *st = run_step(c->run, i);
	char title[160];
	const char *status = step_status_name(st->status);
	/* "Step 2 failed: exit 3", but not "Step 2 cancelled: cancelled" */
	bool same = !st->summary[0] || !strcmp(st->summary, status);
	snprintf(title, sizeof title, "Step %zu %s%s%.100s", i + 1, status,
		 same ? "" : ": ", same ? "" : st->summary);
	c->sel = i;
	dialog_open(c, DLG_MENU, title, failure_chosen);
	snprintf(c->dlg.choices, sizeof c->dlg.choices, "rsda");
	c->dlg.step = i;
	/* one choice a line: nothing wraps at 80 columns */
	styled_add_str(&c->dlg.body, "[r] retry: run it again", 0);
	styled_add_str(&c->dlg.body, "[s] skip it (asks why)", 0);
	styled_add_str(&c->dlg.body, "[d] done by hand (asks what was done)", 0);
	styled_add_str(&c->dlg.body, "[a] abort the run", 0);
	styled_add_str(&c->dlg.body, "[Esc] decide later", 0);
}

static void ask_confirmation(struct console *c, size_t i);

static void interrupted_chosen(struct console *c, int key, const char *text)
{
	struct err e = { "" };
	size_t i = c->dlg.step;
	int rc = 0;
	(void)text;
	if (key == 'r' && c->rb->steps[i].confirm == CONFIRM_TYPED)
		ask_confirmation(c, i); /* running it again still takes the word */
	else if (key == 'r')
		console_start_step(c, i, "rerun-interrupted");
	else if (key == 's')
		rc = run_step_skip(c->run, i, "interrupted step skipped on resume", &e);
	else if (key == 'w')
		rc = run_survivors_wait(c->run, i, &e);
	else if (key == 'k')
		rc = run_survivors_stop(c->run, i, &e);
	else if (key == 'd')
		console_ask_done(c, i);
	if (rc < 0)
		console_set_status(c, "%s", e.msg);
	else if (key == 'w' || key == 'k')
		console_set_status(c, "step %zu: %s its process; the choice comes back when it has ended",
				   i + 1, key == 'w' ? "waiting for" : "stopping");
}

static void offer_interrupted(struct console *c, size_t i)
{
	char title[160];
	unsigned ch = run_choices(c->run, i);
	snprintf(title, sizeof title, "Step %zu was running when qrh stopped: its outcome is unknown", i + 1);
	c->sel = i;
	c->view = VIEW_OUTPUT; /* what it printed before qrh stopped */
	dialog_open(c, DLG_MENU, title, interrupted_chosen);
	c->dlg.step = i;
	styled_add_str(&c->dlg.body, "Check what it did before you decide.", 0);
	const struct run_survivor *sv;
	size_t n = run_survivors(c->run, i, &sv);
	for (size_t k = 0; k < n; k++) {
		if (!sv[k].alive)
			continue;
		char line[256];
		snprintf(line, sizeof line, "pid %d (%.80s) is still running, started %lld s ago",
			 (int)sv[k].pgid, sv[k].command, (long long)(sv[k].age_ms / 1000));
		styled_add_plain(&c->dlg.body, line, strlen(line), STYLE_BOLD);
	}
	if (ch & CHOICE_WAIT) {
		snprintf(c->dlg.choices, sizeof c->dlg.choices, "wkds");
		styled_add_str(&c->dlg.body, "[w] wait for it to end   [k] stop it", 0);
		styled_add_str(&c->dlg.body, "[d] done by hand   [s] skip it   [Esc] later", 0);
	} else {
		snprintf(c->dlg.choices, sizeof c->dlg.choices, "rsd");
		styled_add_str(&c->dlg.body, "[r] run it again   [s] skip it   [d] done by hand", 0);
		styled_add_str(&c->dlg.body, "[Esc] later", 0);
	}
}

static void confirmed(struct console *c, int key, const char *text)
{
	size_t i = c->dlg.step;
	const struct step *s = &c->rb->steps[i];
	if (s->confirm == CONFIRM_TYPED) {
		if (text && !strcmp(text, s->confirm_word))
			console_start_step(c, i, "typed");
		else
			console_set_status(c, "not confirmed: the word did not match; nothing ran");
		return;
	}
	if (key == 'y')
		console_start_step(c, i, "enter");
	else
		console_set_status(c, "not confirmed; nothing ran");
}

static void ask_confirmation(struct console *c, size_t i);
static bool offer_pick(struct console *c);

void console_ask_step(struct console *c, size_t i)
{
	const struct step *s = &c->rb->steps[i];
	const struct step_state *st = run_step(c->run, i);
	if (offer_pick(c))
		return; /* what an earlier step listed is picked first */
	if (run_step_active(c->run)) {
		console_set_status(c, "a step is running; wait for it, or x to cancel it");
		return;
	}
	if (step_status_final(st->status)) {
		console_set_status(c, "step %zu '%s' was already %s", i + 1, s->id, step_status_words(st->status));
		return;
	}
	if (st->status == STEP_INTERRUPTED) {
		offer_interrupted(c, i);
		return;
	}
	if (s->dual_control) {
		console_set_status(c, "step %zu '%s' needs dual control, which this version cannot give", i + 1, s->id);
		return;
	}
	ask_confirmation(c, i);
}

/* The dialog that shows what step i runs and asks for its confirmation. */
static void ask_confirmation(struct console *c, size_t i)
{
	const struct step *s = &c->rb->steps[i];
	char title[160];
	snprintf(title, sizeof title, "Run step %zu?", i + 1);
	dialog_open(c, s->confirm == CONFIRM_TYPED ? DLG_TYPED : DLG_YESNO, title, confirmed);
	c->dlg.step = i;
	struct buf d;
	struct err e;
	buf_init(&d, BUF_UNLIMITED);
	if (run_describe_step(c->run, i, &d, &e) < 0)
		buf_adds(&d, e.msg);
	long first = run_next_step(c->run);
	if (first >= 0 && (size_t)first < i) {
		char warn[128];
		snprintf(warn, sizeof warn, "Out of order: step %ld is not done yet.", first + 1);
		styled_add_plain(&c->dlg.body, warn, strlen(warn), STYLE_BOLD);
	}
	for (const char *p = d.data; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		styled_add_plain(&c->dlg.body, p, n, STYLE_CODE);
		p += n + (nl ? 1 : 0);
	}
	buf_release(&d);
	if (s->confirm == CONFIRM_TYPED)
		snprintf(c->dlg.word, sizeof c->dlg.word, "%s", s->confirm_word);
	snprintf(c->dlg.done_label, sizeof c->dlg.done_label, "%s",
		 s->n_actions ? "[y] yes, run it   [n] no" : "[y] yes, it is done   [n] no");
}

/* Runs confirm=no steps when they come up in order, like a checklist
 * whose read-only checks need no signature. */
static void auto_advance(struct console *c)
{
	if (c->read_only)
		return;
	long i = run_next_step(c->run);
	size_t pick_step;
	const char *pick_var;
	if (i < 0 || run_step_active(c->run) || c->dlg.kind != DLG_NONE || c->hangup ||
	    c->interrupt || c->quit || run_pick_pending(c->run, &pick_step, &pick_var))
		return; /* a pick waits for the operator before anything goes on */
	const struct step_state *st = run_step(c->run, (size_t)i);
	if (c->rb->steps[i].confirm == CONFIRM_NO && st->status == STEP_PENDING &&
	    !c->rb->steps[i].dual_control)
		console_start_step(c, (size_t)i, "auto");
}

void console_follow_next(struct console *c)
{
	long i = run_next_step(c->run);
	if (i >= 0 && !c->user_moved) {
		c->sel = (size_t)i;
		c->view = run_step(c->run, (size_t)i)->status == STEP_PENDING ? VIEW_INSTRUCTIONS : VIEW_OUTPUT;
		c->instr_scroll = 0;
	}
	c->user_moved = false;
	c->dirty = true;
}

/* T+ counts from when the run started, not from when this console did
 * (a resumed run, a watcher), and stops when the run ends; the header
 * shows the journal's head from the start. */
static void run_clock_and_head(struct console *c)
{
	struct journal *j = run_journal(c->run);
	struct journal_run jr = { 0 };
	struct journal_head h;
	struct err e;
	int64_t now_ns = clock_mono_ns(), now_ms = clock_wall_ms();
	c->start_ns = now_ns;
	c->end_ns = 0;
	if (j && journal_run_get(j, run_id(c->run), &jr, &e) > 0) {
		if (jr.started_ms > 0 && jr.started_ms <= now_ms)
			c->start_ns = now_ns - (now_ms - jr.started_ms) * 1000000;
		if (jr.ended_ms > 0 && jr.ended_ms >= jr.started_ms)
			c->end_ns = c->start_ns + (jr.ended_ms - jr.started_ms) * 1000000;
		journal_run_release(&jr);
	}
	if (j && journal_head(j, run_id(c->run), &h, &e) >= 0 && h.seq > 0) {
		c->head_seq = h.seq;
		snprintf(c->head_hash, sizeof c->head_hash, "%.8s", h.hash);
	}
}

/* ---- output from the journal: qrh watch, and evicted scrollbacks ---- */

/* Appends one stored stream (or nothing) to text; adds its size. */
static void read_stream(struct console *c, const struct journal_output_ref *ref,
			struct buf *text, int64_t *total)
{
	struct journal_output_info info;
	struct err e;
	struct journal_okey k = { .step = ref->step, .attempt = ref->attempt,
				  .task = ref->task };
	memset(&info, 0, sizeof info);
	journal_output_read(run_journal(c->run), run_id(c->run), &k, ref->stream, text,
			    &info, &e);
	*total += info.total_bytes;
}

/* Is this stored stream shown with step i's latest attempt: its own
 * tasks, and background tasks of the step (attempt 0 in old journals). */
static bool ref_shown(const struct console *c, const struct journal_output_ref *ref,
		      int attempt)
{
	if (ref->attempt == attempt)
		return true;
	if (!ref->task)
		return ref->attempt == 0;
	const struct fold_task *t = fold_task_by_id(run_fold(c->run), ref->task);
	return t && t->role == FOLD_TASK_BACKGROUND;
}

/* The stored output of step i (its background tasks and its latest
 * attempt), when it grew. stdout and stderr are stored apart, so each
 * task shows its stdout lines, then its stderr lines. */
static void journal_output(struct console *c, size_t i)
{
	const struct step_state *st = run_step(c->run, i);
	struct step_view *v = &c->sv[i];
	struct journal_output_ref *refs = NULL;
	size_t n = 0;
	struct err e;
	int64_t total = 0;
	if (!st->attempt ||
	    journal_output_list(run_journal(c->run), run_id(c->run), (int64_t)i, &refs, &n, &e) < 0)
		return;
	struct buf *text = xcalloc(n ? n : 1, sizeof *text);
	for (size_t k = 0; k < n; k++) {
		buf_init(&text[k], BUF_UNLIMITED);
		if (ref_shown(c, &refs[k], st->attempt))
			read_stream(c, &refs[k], &text[k], &total);
	}
	if (total != v->seen_bytes || st->attempt != v->seen_attempt) {
		scrollback_free(v->sb);
		v->sb = scrollback_new();
		for (size_t k = 0; k < n; k++)
			scrollback_feed(v->sb, refs[k].stream == JOURNAL_STDERR ? SB_STDERR : SB_STDOUT,
					text[k].data, text[k].len);
		scrollback_finish(v->sb);
		v->seen_bytes = total;
		v->seen_attempt = st->attempt;
		c->dirty = true;
	}
	for (size_t k = 0; k < n; k++)
		buf_release(&text[k]);
	free(text);
	free(refs);
}

static void on_watch_poll(struct loop *l, uint64_t id, void *arg)
{
	struct console *c = arg;
	struct err e;
	bool ended = false;
	(void)id;
	if (run_observe_poll(c->run, &ended, &e) < 0)
		console_set_status(c, "%s", e.msg);
	if (ended && !c->finished) {
		c->finished = true;
		run_clock_and_head(c);
		console_set_status(c, "the run has ended; q leaves");
	}
	journal_output(c, c->sel);
	c->poll_timer = loop_timer_add(l, 250, on_watch_poll, c);
}

void console_show_output(struct console *c, size_t i)
{
	struct step_view *v = &c->sv[i];
	v->used = ++c->clock;
	if (v->evicted && !v->sb) {
		v->seen_bytes = -1;
		journal_output(c, i);
		v->evicted = false;
		evict(c, i);
	}
}

/* ---- the loop ---- */

static void on_tick(struct loop *l, uint64_t id, void *arg);

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
	struct console *c = arg;
	(void)id;
	c->spin++;
	c->dirty = true;
	c->tick_timer = loop_timer_add(l, 250, on_tick, c);
}

static void on_draw(struct loop *l, uint64_t id, void *arg)
{
	struct console *c = arg;
	(void)l;
	(void)id;
	c->draw_timer = 0;
	if (c->dirty && !c->hangup) {
		console_draw(c);
		c->dirty = false;
		c->drawn_ns = clock_mono_ns();
	}
}

static void read_keys(struct console *c)
{
	int ch;
	while (!c->hangup && (ch = getch()) != ERR) {
		if (ch == KEY_RESIZE) {
			getmaxyx(stdscr, c->lines, c->cols);
			c->dirty = true;
			continue;
		}
		console_key(c, ch);
	}
}

static void on_stdin(struct loop *l, int fd, short revents, void *arg)
{
	struct console *c = arg;
	(void)l;
	(void)fd;
	if (revents & (POLLHUP | POLLERR | POLLNVAL)) {
		loop_fd_remove(c->loop, STDIN_FILENO);
		return;
	}
	read_keys(c);
}

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct console *c = arg;
	struct err e;
	(void)l;
	if (signo == SIGHUP) {
		/* nobody is watching: stop drawing, let the step finish */
		if (!c->hangup)
			run_mark(c->run, EV_HANGUP, NULL, &e);
		c->hangup = true;
		loop_fd_remove(c->loop, STDIN_FILENO);
		curses_restore();
		return;
	}
	if (!c->interrupt)
		run_mark(c->run, EV_SIGNAL, signo == SIGINT ? "SIGINT" : "SIGTERM", &e);
	c->interrupt = signo;
	run_cancel_step(c->run);
}

static bool utf8_locale(void)
{
	const char *cs = nl_langinfo(CODESET);
	return cs && !strcmp(cs, "UTF-8");
}

/* A crash must not leave the operator's terminal in raw mode with no
 * cursor: put it back, then die of the same signal. endwin is not
 * async-signal-safe; on the way out of a crash, best effort is right. */
static void on_fatal(int signo)
{
	if (curses_up) {
		curses_up = false;
		endwin();
	}
	signal(signo, SIG_DFL);
	raise(signo);
}

static void restore_on_fatal(void)
{
#ifdef __SANITIZE_ADDRESS__
	return; /* AddressSanitizer's own handler reports the crash */
#endif
	int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_fatal;
	sa.sa_flags = SA_RESETHAND;
	sigemptyset(&sa.sa_mask);
	for (size_t i = 0; i < sizeof sigs / sizeof *sigs; i++)
		sigaction(sigs[i], &sa, NULL);
}

static void curses_start(struct console *c)
{
	initscr();
	curses_up = true;
	restore_on_fatal();
	/* a lone Esc closes a dialog: do not wait a second for the rest of
	 * an escape sequence that is not coming (htop does the same) */
	set_escdelay(25);
	atexit(curses_restore);
	raw();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	const char *nc = getenv("NO_COLOR");
	c->color = has_colors() && !(nc && *nc);
	if (c->color) {
		start_color();
		use_default_colors();
		init_pair(1, COLOR_GREEN, -1);
		init_pair(2, COLOR_RED, -1);
		init_pair(3, COLOR_YELLOW, -1);
		init_pair(4, COLOR_CYAN, -1);
	}
	c->ascii = !utf8_locale() || getenv("QRH_ASCII");
	c->ascii_lines = getenv("QRH_ASCII") != NULL;
	getmaxyx(stdscr, c->lines, c->cols);
}

static bool everything_final(const struct console *c)
{
	return run_next_step(c->run) < 0;
}

static bool any_failed(const struct console *c)
{
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		enum step_status s = run_step(c->run, i)->status;
		if (s == STEP_FAILED || s == STEP_TIMEOUT)
			return true;
	}
	return false;
}

/* The end of the run: every step final, and the journal says so. */
static void finish_run(struct console *c)
{
	struct err e;
	if (c->read_only || c->finished || !everything_final(c) || run_step_active(c->run))
		return;
	c->finished = true;
	const char *outcome = any_failed(c) ? "failed" : "ok";
	snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
	c->end_ns = clock_mono_ns();
	if (run_end(c->run, outcome, false, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else
		console_set_status(c, "run finished: %s. Press q to leave.", outcome);
	c->exit_code = any_failed(c) ? QRH_EXIT_FAILED : QRH_EXIT_OK;
}

static void first_offer(struct console *c)
{
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		if (run_step(c->run, i)->status == STEP_INTERRUPTED) {
			offer_interrupted(c, i);
			return;
		}
	}
}

static void console_setup(struct console *c, struct run *r, struct loop *l)
{
	memset(c, 0, sizeof *c);
	c->run = r;
	c->loop = l;
	c->rb = run_runbook(r);
	c->sv = xcalloc(c->rb->n_steps ? c->rb->n_steps : 1, sizeof *c->sv);
	run_clock_and_head(c);
	c->match = -1;
	c->rpo_window_ms = c->rpo_rows_lost = STEP_NONE;
	c->exit_code = QRH_EXIT_INTERRUPTED;
	long next = run_next_step(r);
	c->sel = next >= 0 ? (size_t)next : 0;
	/* resumed: what earlier attempts printed is read from the journal
	 * when their step is shown */
	for (size_t i = 0; i < c->rb->n_steps; i++)
		if (run_step(r, i)->attempt > 0)
			c->sv[i].evicted = true;
}

static void console_teardown(struct console *c)
{
	curses_restore();
	for (size_t i = 0; i < c->rb->n_steps; i++)
		scrollback_free(c->sv[i].sb);
	free(c->sv);
	dialog_close(c);
}

/* How long to sleep at most: the loop wakes for its timers anyway. */
static int wait_ms(struct console *c)
{
	(void)c;
	return 1000;
}

/* Draws now when the last frame is a frame's time old, so a key shows at
 * once; else when that time is up. Never more than CONSOLE_FPS frames a
 * second, however fast output arrives. */
static void schedule_draw(struct console *c)
{
	if (!c->dirty || c->draw_timer)
		return;
	int64_t frame_ms = 1000 / CONSOLE_FPS;
	int64_t since_ms = (clock_mono_ns() - c->drawn_ns) / 1000000;
	if (since_ms >= frame_ms)
		on_draw(c->loop, 0, c);
	else
		c->draw_timer = loop_timer_add(c->loop, frame_ms - since_ms, on_draw, c);
}

int console_drive(struct run *r, struct loop *l, const struct console_opts *o)
{
	struct console *c = &the_console;
	struct err e;
	console_setup(c, r, l);
	c->resumed = o->resumed;
	snprintf(c->resume_cmd, sizeof c->resume_cmd, "%s", o->resume_cmd ? o->resume_cmd : "qrh resume");
	c->read_only = o->read_only;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t k = 0; k < 3; k++)
		loop_signal(l, sigs[k], on_signal, c, &e);
	if (o->on_signals_ready)
		o->on_signals_ready(false);
	curses_start(c);
	loop_fd_add(l, STDIN_FILENO, POLLIN, on_stdin, c, &e);
	c->tick_timer = loop_timer_add(l, 250, on_tick, c);
	if (c->read_only)
		on_watch_poll(l, 0, c);
	console_draw(c);
	if (!c->read_only)
		first_offer(c);
	c->dirty = true;
	while (!c->quit) {
		auto_advance(c);
		finish_run(c);
		schedule_draw(c);
		if (loop_run_once(l, wait_ms(c)) < 0 && errno != EINTR)
			break;
		if (!c->hangup)
			read_keys(c);
		if ((c->hangup || c->interrupt) && !run_step_active(r))
			break;
	}
	loop_fd_remove(l, STDIN_FILENO);
	loop_timer_cancel(l, c->tick_timer);
	loop_timer_cancel(l, c->draw_timer);
	loop_timer_cancel(l, c->poll_timer);
	curses_restore();
	if (c->read_only) {
		console_teardown(c);
		return QRH_EXIT_OK;
	}
	run_cancel_step(r);
	run_stop_background(r);
	while (run_busy(r) && loop_run_once(l, wait_ms(c)) >= 0)
		;
	finish_run(c);
	int code = c->finished ? c->exit_code
		 : c->exit_code == QRH_EXIT_FAILED ? QRH_EXIT_FAILED : QRH_EXIT_INTERRUPTED;
	if (c->aborted && !c->finished && run_end(r, "aborted", true, &e) < 0)
		cli_error("qrh: %s", e.msg);
	console_teardown(c);
	return code;
}
