/* The console's loop: curses set up and torn down, keys read when the
 * terminal is readable (and after every pass, for KEY_RESIZE), the
 * engine's events turned into state, a frame drawn at most CONSOLE_FPS
 * times a second when something changed. */
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
	c->status_until_ns = 0;
	c->dirty = true;
}

void console_set_notice(struct console *c, const char *fmt, ...)
{
	va_list ap;
	if (c->status[0] && !c->status_until_ns)
		return; /* what the operator must answer or read stays */
	va_start(ap, fmt);
	vsnprintf(c->status, sizeof c->status, fmt, ap);
	va_end(ap);
	c->status_until_ns = clock_mono_ns() + (int64_t)CONSOLE_NOTICE_MS * 1000000;
	c->dirty = true;
}

/* ---- the engine's events ---- */

/* The selection rule (console_ui.h): a step that settles gives the
 * selection to run_select_after and stays on show as the result. */
static void notice_settled(struct console *c, size_t i)
{
	bool now = run_step_settled(c->run, i), was = c->settled[i];
	c->settled[i] = now;
	if (!now || was)
		return;
	size_t next = run_select_after(c->run, i);
	if (console_detail_step(c) != i || c->view != VIEW_OUTPUT) {
		c->sv[i].scrolled = false; /* its end: how it ended */
		c->match = -1;
	}
	c->sel = next;
	c->result_of = next == i ? -1 : (long)i;
	c->view = VIEW_OUTPUT;
	c->instr_scroll = 0;
}

static void on_event(void *arg, const struct journal_event *ev)
{
	struct console *c = &the_console;
	(void)arg;
	if (!c->run)
		return; /* run_open and run_reopen, before the console is up */
	c->head_seq = ev->seq;
	snprintf(c->head_hash, sizeof c->head_hash, "%.8s", ev->hash);
	console_probe_event(c, ev);
	c->dirty = true;
	console_output_event(c, ev);
	if (ev->step < 0 || (size_t)ev->step >= c->rb->n_steps)
		return;
	size_t i = (size_t)ev->step;
	if (!strcmp(ev->type, EV_STEP_START)) {
		/* a step that starts is selected and shown, following its output */
		console_select(c, i);
		c->view = VIEW_OUTPUT;
		c->sv[i].scrolled = false;
	}
	notice_settled(c, i);
}

static void on_output(void *arg, const struct run_chunk *ch)
{
	(void)arg;
	console_output_chunk(&the_console, ch);
}

static void on_step_done(void *arg, size_t i)
{
	struct console *c = &the_console;
	(void)arg;
	if (!c->run)
		return;
	const struct step_state *st = run_step(c->run, i);
	c->dirty = true;
	if (run_step_settled(c->run, i)) {
		c->pick_due = true; /* what it listed, if anything, is picked next */
		return;
	}
	if (c->rb->steps[i].dual_control && st->status == STEP_PENDING && !run_step_active(c->run)) {
		console_approval_status(c, i); /* an answer came, or the request expired */
		return;
	}
	if (st->status == STEP_FAILED || st->status == STEP_TIMEOUT ||
	    st->status == STEP_CANCELLED || st->status == STEP_INTERRUPTED)
		console_offer(c, i); /* an interrupted one: its survivors ended */
}

static void on_task(void *arg, const struct run_task_view *t)
{
	(void)arg;
	console_task(&the_console, t);
}

static void on_probe(void *arg, size_t i)
{
	(void)arg;
	(void)i;
	the_console.dirty = true;
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
	lis->task = on_task;
	lis->journal_failed = on_journal_failed;
	lis->probe = on_probe;
}

/* ---- steps ---- */

void console_start_step(struct console *c, size_t i, const char *how)
{
	struct err e;
	if (run_step_begin(c->run, i, how, &e) < 0)
		console_set_status(c, "%s", e.msg);
	c->dirty = true;
}

void console_select(struct console *c, size_t i)
{
	if (i != console_detail_step(c))
		c->match = -1; /* a line of the step shown before */
	if (i != c->sel || c->result_of >= 0)
		c->instr_scroll = 0;
	c->sel = i;
	c->result_of = -1;
	c->dirty = true;
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
	    !c->rb->steps[i].dual_control && (run_choices(c->run, (size_t)i) & CHOICE_RUN))
		console_start_step(c, (size_t)i, "auto");
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

/* ---- qrh watch ---- */

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
	console_output_watch(c, console_detail_step(c));
	c->poll_timer = loop_timer_add(l, 250, on_watch_poll, c);
}

/* ---- the loop ---- */

static void on_tick(struct loop *l, uint64_t id, void *arg);

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
	struct console *c = arg;
	(void)id;
	c->spin++;
	c->dirty = true;
	if (c->status_until_ns && clock_mono_ns() >= c->status_until_ns) {
		c->status[0] = '\0';
		c->status_until_ns = 0;
	}
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

/* The end of the run: every step settled, and the journal says so. */
static void finish_run(struct console *c)
{
	struct err e;
	if (c->read_only || c->finished || !run_complete(c->run) || run_step_active(c->run))
		return;
	c->finished = true;
	const char *outcome = run_outcome(c->run);
	snprintf(c->outcome, sizeof c->outcome, "%s", outcome);
	c->end_ns = clock_mono_ns();
	struct journal *j = run_journal(c->run);
	struct journal_head h = { 0 };
	if (run_end(c->run, outcome, false, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else if (j && journal_head(j, run_id(c->run), &h, &e) >= 0 && h.seq > 0)
		/* the head to anchor (qrh prints it whole on leaving) */
		console_set_status(c, "run finished: %s; journal head %lld:%lld:%.12s. Press q to leave.",
				   outcome, (long long)run_id(c->run), (long long)h.seq, h.hash);
	else
		console_set_status(c, "run finished: %s. Press q to leave.", outcome);
	c->exit_code = strcmp(outcome, "ok") ? QRH_EXIT_FAILED : QRH_EXIT_OK;
}

/* After a resume, the first interrupted step asks what now. */
static void first_offer(struct console *c)
{
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		if (run_step(c->run, i)->status == STEP_INTERRUPTED) {
			console_offer(c, i);
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
	size_t n = c->rb->n_steps ? c->rb->n_steps : 1;
	c->sv = xcalloc(n, sizeof *c->sv);
	c->settled = xcalloc(n, sizeof *c->settled);
	run_clock_and_head(c);
	c->match = -1;
	c->rpo_window_ms = c->rpo_rows_lost = STEP_NONE;
	c->result_of = -1;
	c->offer = -1;
	c->exit_code = QRH_EXIT_INTERRUPTED;
	long next = run_next_step(r);
	c->sel = next >= 0 ? (size_t)next : 0;
	/* resumed: what earlier attempts printed is read from the journal
	 * when their step is shown */
	for (size_t i = 0; i < c->rb->n_steps; i++) {
		c->settled[i] = run_step_settled(r, i);
		if (run_step(r, i)->attempt > 0)
			c->sv[i].evicted = true;
	}
}

static void console_teardown(struct console *c)
{
	curses_restore();
	dialog_close(c);
	console_output_free(c);
	free(c->sv);
	free(c->settled);
	c->run = NULL;
}

/* On leaving: the run's number and what became of it, on standard
 * output, to paste into the incident ticket; qrh run prints the journal's
 * head on the next line (cmd_run.c's head_leave). */
static void print_leave_line(struct console *c)
{
	long long id = (long long)run_id(c->run);
	const struct run_fold *f = run_fold(c->run);
	if (f->ended)
		printf("qrh: run %lld %s%s\n", id, strcmp(f->outcome, "aborted") ? "ended: " : "",
		       f->outcome);
	else
		printf("qrh: run %lld left open (qrh resume %lld continues it)\n", id, id);
	fflush(stdout);
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
	c->send_note = o->send_note;
	c->note_arg = o->note_arg;
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
		if (c->offer >= 0 && c->dlg.kind == DLG_NONE)
			console_offer(c, (size_t)c->offer);
		if (c->pick_due && c->dlg.kind == DLG_NONE) {
			c->pick_due = false;
			console_offer_pick(c);
		}
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
	if (!c->hangup) /* else nobody is there to read it */
		print_leave_line(c);
	console_teardown(c);
	return code;
}
