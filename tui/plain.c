/* Plain mode's driver: walks the steps in order as the run policy says,
 * gets each confirmation from the flags or the terminal, and lets the
 * engine run the step. Everything happens on the event loop, prompts
 * included: while it waits for an answer, background actions and timers
 * go on, and its output never blocks the loop (tui/outq.h). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "state/events.h"
#include "tui/cli.h"
#include "tui/outq.h"
#include "tui/pick_line.h"
#include "tui/plain.h"
#include "tui/sanitize.h"
#include "util/clock.h"
#include "util/xalloc.h"

void plain_print_flush(void);

#define PLAIN_ANSWER_MAX 4096

struct driver;
typedef void answer_fn(struct driver *d, const char *line);

/* What the signals asked for is set from loop callbacks, never from a
 * signal handler. */
struct driver {
	struct run *run;
	struct loop *loop;
	const struct plain_opts *o;
	int interrupt; /* SIGINT or SIGTERM */
	bool hangup;
	bool failed;
	bool finishing;
	bool done;
	const char *outcome; /* at the end; NULL: the run stays open */
	int exit_code;
	size_t step;       /* the step being asked about or run */
	bool step_ran;     /* it ran in this session and did not settle */
	long waiting_for;  /* the interrupted step whose survivors we wait for */
	uint64_t kick;     /* decide again, from a clean stack */
	uint64_t idle_timer; /* finishing: waiting for the run to be idle */
	bool reading;
	struct buf input;
	answer_fn *on_answer;
	size_t asked;      /* 1 + the step whose approval we asked for, 0 none */
	char refused[200]; /* the last refusal told */
};

static void decide(struct driver *d);
static void finish(struct driver *d, const char *outcome, int code);

static void on_kick(struct loop *l, uint64_t id, void *arg)
{
	struct driver *d = arg;
	(void)l;
	(void)id;
	d->kick = 0;
	decide(d);
}

static void kick(struct driver *d)
{
	if (!d->kick && !d->done)
		d->kick = loop_timer_add(d->loop, 0, on_kick, d);
}

/* ---- asking on the terminal, through the loop ---- */

static void stop_reading(struct driver *d)
{
	if (!d->reading)
		return;
	loop_fd_remove(d->loop, STDIN_FILENO);
	d->reading = false;
}

static void on_stdin(struct loop *l, int fd, short revents, void *arg)
{
	struct driver *d = arg;
	char chunk[512];
	(void)l;
	(void)revents;
	ssize_t n = read(fd, chunk, sizeof chunk);
	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n > 0) {
		buf_add(&d->input, chunk, (size_t)n);
		char *nl = memchr(d->input.data, '\n', d->input.len);
		if (!nl && d->input.len < PLAIN_ANSWER_MAX)
			return;
		if (nl)
			*nl = '\0';
		size_t len = strlen(d->input.data);
		while (len && d->input.data[len - 1] == '\r')
			d->input.data[--len] = '\0';
	}
	stop_reading(d);
	char *line = n > 0 ? xstrdup(d->input.data) : NULL;
	buf_reset(&d->input);
	d->on_answer(d, line);
	free(line);
}

/* Asks on stderr and reads the answer from the terminal through the loop;
 * on_answer gets the line, or NULL at end of file. */
static void ask(struct driver *d, const char *prompt, answer_fn *on_answer)
{
	fputs(prompt, stderr);
	fflush(stderr);
	d->on_answer = on_answer;
	buf_reset(&d->input);
	struct err e;
	if (loop_fd_add(d->loop, STDIN_FILENO, POLLIN, on_stdin, d, &e) < 0) {
		on_answer(d, NULL);
		return;
	}
	d->reading = true;
}

char *plain_ask(const char *prompt, bool secret)
{
	if (!isatty(STDIN_FILENO))
		return NULL;
	struct termios old, quiet;
	bool hide = secret && tcgetattr(STDIN_FILENO, &old) == 0;
	fputs(prompt, stderr);
	fflush(stderr);
	if (hide) {
		quiet = old;
		quiet.c_lflag &= ~(tcflag_t)ECHO;
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = getline(&line, &cap, stdin);
	if (hide) {
		tcsetattr(STDIN_FILENO, TCSAFLUSH, &old);
		fputc('\n', stderr);
	}
	if (n < 0) {
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* ---- signals ---- */

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct driver *d = arg;
	struct err e;
	(void)l;
	if (run_signal_rule(signo) == RUN_SIGNAL_FINISH) {
		if (!d->hangup)
			run_mark(d->run, EV_HANGUP, NULL, &e);
		d->hangup = true;
	} else {
		if (!d->interrupt)
			run_mark(d->run, EV_SIGNAL, signo == SIGINT ? "SIGINT" : "SIGTERM", &e);
		d->interrupt = signo;
		run_cancel_step(d->run);
		run_stop_background(d->run);
	}
	stop_reading(d);
	kick(d);
}

/* ---- confirming a step ---- */

/* The word given with --typed ID=WORD for this step, or NULL. */
static const char *typed_flag(const struct plain_opts *o, const char *id)
{
	size_t n = strlen(id);
	for (size_t i = 0; i < o->typed.n; i++)
		if (!strncmp(o->typed.v[i], id, n) && o->typed.v[i][n] == '=')
			return o->typed.v[i] + n + 1;
	return NULL;
}

static void show_step(struct run *r, size_t i)
{
	const struct step *s = &run_runbook(r)->steps[i];
	struct buf d;
	struct err e;
	buf_init(&d, BUF_UNLIMITED);
	char *title = sanitize_string(s->title, strlen(s->title));
	fprintf(stderr, "\nStep %zu: %s\n", i + 1, title);
	free(title);
	if (run_describe_step(r, i, &d, &e) == 0) {
		const char *p = d.data, *end = d.data + d.len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
			char *line = sanitize_string(p, n);
			fprintf(stderr, "    %s\n", line);
			free(line);
			p += n + 1;
		}
	}
	buf_release(&d);
}

static void begin(struct driver *d, const char *how)
{
	struct err e;
	d->asked = 0;
	if (run_step_begin(d->run, d->step, how, &e) < 0) {
		cli_error("qrh: %s", e.msg);
		finish(d, NULL, QRH_EXIT_USAGE);
	}
}

static void on_confirm_answer(struct driver *d, const char *line)
{
	const struct step *s = &run_runbook(d->run)->steps[d->step];
	const char *word = run_choice_word(d->run, d->step, CHOICE_RUN);
	bool ok = line && (word ? !strcmp(line, word)
				: (!strcmp(line, "y") || !strcmp(line, "yes")));
	if (d->interrupt || d->hangup) {
		kick(d);
		return;
	}
	if (!ok) {
		fprintf(stderr, "qrh: step %zu '%s' not confirmed; the run stops here and can be resumed\n",
			d->step + 1, run_runbook(d->run)->steps[d->step].id);
		finish(d, NULL, QRH_EXIT_INTERRUPTED);
		return;
	}
	begin(d, s->confirm == CONFIRM_TYPED || word ? "typed" : "enter");
}

/* Dual control: asks for the approval of the step and says who is
 * awaited; true while it must wait (the answer reports the step). */
static bool awaiting_approval(struct driver *d)
{
	const struct step *s = &run_runbook(d->run)->steps[d->step];
	struct run_approval a;
	struct err e;
	run_approval(d->run, d->step, &a);
	if (a.state == RUN_APPROVAL_NONE)
		return false;
	if (a.refused[0] && strcmp(a.refused, d->refused)) {
		char *clean = sanitize_string(a.refused, strlen(a.refused));
		fprintf(stderr, "qrh: step %zu '%s': approval refused: %s\n", d->step + 1, s->id, clean);
		free(clean);
		snprintf(d->refused, sizeof d->refused, "%s", a.refused);
	}
	if (a.state == RUN_APPROVAL_GRANTED) {
		char *clean = sanitize_string(a.approver, strlen(a.approver));
		fprintf(stderr, "qrh: step %zu '%s' approved by %s (%s)\n", d->step + 1, s->id, clean, a.via);
		free(clean);
		return false;
	}
	if (a.state == RUN_APPROVAL_NEEDED && d->asked == d->step + 1) {
		fprintf(stderr, "qrh: step %zu '%s': the request for approval expired; the run stops "
			"here and can be resumed\n", d->step + 1, s->id);
		finish(d, NULL, QRH_EXIT_INTERRUPTED);
		return true;
	}
	if (d->asked != d->step + 1) {
		if (run_approval_request(d->run, d->step, &e) < 0) {
			cli_error("qrh: step %zu '%s': %s", d->step + 1, s->id, e.msg);
			finish(d, NULL, QRH_EXIT_USAGE);
			return true;
		}
		d->asked = d->step + 1;
		show_step(d->run, d->step);
		run_approval(d->run, d->step, &a);
		fprintf(stderr, "qrh: step %zu '%s' needs an approval by %s, within %lld s: %s\n",
			d->step + 1, s->id, a.awaited,
			(long long)((a.expires_ms - clock_wall_ms()) / 1000), a.how_to);
	}
	return true;
}

/* How step i is confirmed: from the runbook, the flags, or the terminal. */
static void confirm(struct driver *d)
{
	const struct step *s = &run_runbook(d->run)->steps[d->step];
	const char *word = run_choice_word(d->run, d->step, CHOICE_RUN);
	if (awaiting_approval(d))
		return;
	if (s->confirm == CONFIRM_NO && !word) {
		begin(d, "auto");
		return;
	}
	if (word) {
		const char *w = typed_flag(d->o, s->id);
		if (w && !strcmp(w, word)) {
			begin(d, "typed");
			return;
		}
		if (w) {
			cli_error("qrh: --typed %s=%s does not match the word the step asks for", s->id, w);
			finish(d, NULL, QRH_EXIT_USAGE);
			return;
		}
	} else if (d->o->yes) {
		begin(d, "yes-flag");
		return;
	}
	if (d->hangup || !isatty(STDIN_FILENO)) {
		if (word)
			fprintf(stderr, "qrh: step %zu '%s' needs a confirmation: give --typed %s=%s\n",
				d->step + 1, s->id, s->id, word);
		else
			fprintf(stderr, "qrh: step %zu '%s' needs a confirmation: give --yes or run on a terminal\n",
				d->step + 1, s->id);
		finish(d, NULL, QRH_EXIT_USAGE);
		return;
	}
	show_step(d->run, d->step);
	char prompt[256];
	if (word)
		snprintf(prompt, sizeof prompt, "Type %s to run this step: ", word);
	else
		snprintf(prompt, sizeof prompt, "Run this step? [y/N] ");
	ask(d, prompt, on_confirm_answer);
}

/* ---- an interrupted step, after a resume ---- */

static void interrupted(struct driver *d)
{
	struct err e;
	size_t i = d->step;
	const struct step *s = &run_runbook(d->run)->steps[i];
	unsigned ch = run_choices(d->run, i);
	const struct run_survivor *sv;
	size_t n = run_survivors(d->run, i, &sv);
	if (d->o->interrupted == INTERRUPTED_SKIP) {
		if (run_step_skip(d->run, i, "interrupted step skipped on resume", &e) < 0)
			finish(d, NULL, QRH_EXIT_USAGE);
		return;
	}
	if ((ch & CHOICE_WAIT) && d->o->interrupted == INTERRUPTED_RERUN) {
		/* asked to run it again: not while it lives; wait for its end */
		if (d->waiting_for == (long)i)
			return;
		for (size_t k = 0; k < n; k++) {
			if (!sv[k].alive)
				continue;
			char *cmd = sanitize_string(sv[k].command, strlen(sv[k].command));
			fprintf(stderr, "qrh: step %zu '%s' was interrupted, and its pid %d (%s) is still "
					"running: waiting for it to end before running the step again\n",
				i + 1, s->id, (int)sv[k].pgid, cmd);
			free(cmd);
		}
		if (run_survivors_wait(d->run, i, &e) < 0) {
			cli_error("qrh: %s", e.msg);
			finish(d, NULL, QRH_EXIT_USAGE);
			return;
		}
		d->waiting_for = (long)i;
		return;
	}
	d->waiting_for = -1;
	if (ch & CHOICE_WAIT) {
		for (size_t k = 0; k < n; k++) {
			if (!sv[k].alive)
				continue;
			char *cmd = sanitize_string(sv[k].command, strlen(sv[k].command));
			fprintf(stderr, "qrh: step %zu '%s' was interrupted, and its pid %d (%s) is still "
					"running, started %lld s ago: it is not run again while it lives; "
					"wait for it, stop it, or give --skip-interrupted\n",
				i + 1, s->id, (int)sv[k].pgid, cmd, (long long)(sv[k].age_ms / 1000));
			free(cmd);
		}
		finish(d, NULL, QRH_EXIT_USAGE);
		return;
	}
	if (d->o->interrupted == INTERRUPTED_RERUN) {
		/* running it again still takes its typed word */
		const char *word = run_choice_word(d->run, i, CHOICE_RUN);
		const char *w = word ? typed_flag(d->o, s->id) : NULL;
		if (word && (!w || strcmp(w, word))) {
			fprintf(stderr, "qrh: step %zu '%s' was interrupted; to run it again give --typed %s=%s\n",
				i + 1, s->id, s->id, word);
			finish(d, NULL, QRH_EXIT_USAGE);
			return;
		}
		begin(d, "rerun-interrupted");
		return;
	}
	fprintf(stderr, "qrh: step %zu '%s' was running when qrh stopped: its outcome is unknown; "
			"give --rerun-interrupted or --skip-interrupted\n", i + 1, s->id);
	finish(d, NULL, QRH_EXIT_USAGE);
}

/* ---- after a failure ---- */

static void on_retry_word(struct driver *d, const char *line)
{
	struct err e;
	const char *word = run_choice_word(d->run, d->step, CHOICE_RETRY);
	if (d->interrupt || d->hangup) {
		kick(d);
		return;
	}
	if (!line || !word || strcmp(line, word)) {
		finish(d, "failed", QRH_EXIT_FAILED);
		return;
	}
	if (run_step_begin(d->run, d->step, "typed", &e) < 0)
		finish(d, "failed", QRH_EXIT_FAILED);
}

static void on_failure_answer(struct driver *d, const char *line)
{
	struct err e;
	size_t i = d->step;
	int rc = 0;
	if (d->interrupt || d->hangup) {
		kick(d);
		return;
	}
	if (line && line[0] == 'r') {
		/* a retry of a typed step takes its word again */
		const char *word = run_choice_word(d->run, i, CHOICE_RETRY);
		if (word) {
			char prompt[128];
			snprintf(prompt, sizeof prompt, "Type %s to run it again: ", word);
			ask(d, prompt, on_retry_word);
			return;
		}
		rc = run_step_begin(d->run, i, "enter", &e);
	} else if (line && line[0] == 's') {
		rc = run_step_skip(d->run, i, "skipped after failure", &e);
	} else if (line && line[0] == 'd') {
		rc = run_step_done_by_hand(d->run, i, "done by hand after failure", &e);
	} else {
		finish(d, "failed", QRH_EXIT_FAILED);
		return;
	}
	if (rc < 0)
		finish(d, "failed", QRH_EXIT_FAILED);
	else
		kick(d);
}

static void after_failure(struct driver *d)
{
	const struct step *s = &run_runbook(d->run)->steps[d->step];
	unsigned ch = run_choices(d->run, d->step);
	if (s->on_fail == ON_FAIL_ASK && (ch & CHOICE_SKIP) && !d->hangup &&
	    isatty(STDIN_FILENO)) {
		ask(d, "Step failed: [r]etry, [s]kip, [d]one by hand, [a]bort? ", on_failure_answer);
		return;
	}
	finish(d, "failed", QRH_EXIT_FAILED);
}

/* ---- a value to pick from a list (a velero backup) ---- */

static void on_pick_answer(struct driver *d, const char *line)
{
	struct err e;
	if (d->interrupt || d->hangup) {
		kick(d);
		return;
	}
	if (!line || !*line || run_pick(d->run, line, &e) < 0) {
		cli_error("qrh: %s", line && *line ? e.msg : "nothing picked");
		finish(d, NULL, QRH_EXIT_INTERRUPTED);
		return;
	}
	kick(d);
}

/* Returns true when a pick is waiting (asked, or the run stops). */
static bool pick(struct driver *d)
{
	size_t step;
	const char *var;
	const cJSON *choices = run_pick_pending(d->run, &step, &var);
	if (!choices)
		return false;
	if (d->hangup || !isatty(STDIN_FILENO)) {
		cli_error("qrh: step %zu '%s' listed the choices for %s: give -v %s=NAME (one of them)",
			  step + 1, run_runbook(d->run)->steps[step].id, var, var);
		finish(d, NULL, QRH_EXIT_USAGE);
		return true;
	}
	fprintf(stderr, "\nPick %s:\n", var);
	int k = 0;
	const cJSON *c;
	cJSON_ArrayForEach(c, choices)
	{
		char line[256];
		pick_line(c, ++k, line, sizeof line);
		char *clean = sanitize_string(line, strlen(line)); /* from outside */
		fprintf(stderr, "  %s\n", clean);
		free(clean);
	}
	char prompt[128];
	snprintf(prompt, sizeof prompt, "Number or name of the one to use for %s: ", var);
	ask(d, prompt, on_pick_answer);
	return true;
}

/* ---- what next ---- */

static void decide(struct driver *d)
{
	if (d->finishing || d->reading || run_step_active(d->run))
		return;
	if (d->interrupt || d->hangup) {
		finish(d, NULL, QRH_EXIT_INTERRUPTED); /* the run stays open for resume */
		return;
	}
	if (pick(d))
		return;
	long next = run_next_step(d->run);
	if (next < 0) {
		const char *outcome = run_outcome(d->run);
		finish(d, outcome, strcmp(outcome, "ok") ? QRH_EXIT_FAILED : QRH_EXIT_OK);
		return;
	}
	d->step = (size_t)next;
	switch (run_step(d->run, d->step)->status) {
	case STEP_INTERRUPTED:
		interrupted(d);
		break;
	case STEP_FAILED:
	case STEP_TIMEOUT:
	case STEP_CANCELLED:
		if (d->step_ran) {
			d->step_ran = false;
			after_failure(d);
			break;
		}
		confirm(d); /* failed before a resume: it runs again when confirmed */
		break;
	default:
		confirm(d);
		break;
	}
}

static void on_step_done(void *arg, size_t step)
{
	struct driver *d = arg;
	enum step_status st = run_step(d->run, step)->status;
	if (st == STEP_RETRY_WAIT)
		return;
	if (!step_status_final(st))
		d->step_ran = true;
	kick(d);
}

/* ---- the end ---- */

static void on_idle_check(struct loop *l, uint64_t id, void *arg)
{
	struct driver *d = arg;
	struct err e;
	(void)l;
	(void)id;
	d->idle_timer = 0;
	if (run_busy(d->run)) {
		d->idle_timer = loop_timer_add(d->loop, 20, on_idle_check, d);
		return;
	}
	plain_print_flush();
	if (d->outcome && run_end(d->run, d->outcome, false, &e) < 0) {
		cli_error("qrh: %s", e.msg);
		d->exit_code = QRH_EXIT_USAGE;
	}
	plain_print_flush();
	d->done = true;
	loop_stop(d->loop);
}

static void finish(struct driver *d, const char *outcome, int code)
{
	if (d->finishing)
		return;
	d->finishing = true;
	d->outcome = outcome;
	d->exit_code = code;
	stop_reading(d);
	run_stop_background(d->run);
	d->idle_timer = loop_timer_add(d->loop, 0, on_idle_check, d);
}

static void on_pressure(void *arg, bool slow_down)
{
	run_set_backpressure(arg, slow_down);
}

int plain_drive(struct run *r, struct loop *l, const struct plain_opts *o)
{
	struct driver d = { .run = r, .loop = l, .o = o, .waiting_for = -1 };
	struct err e;
	buf_init(&d.input, PLAIN_ANSWER_MAX + 512);
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t k = 0; k < 3; k++)
		if (loop_signal(l, sigs[k], on_signal, &d, &e) < 0)
			cli_error("qrh: %s", e.msg);
	if (o->on_signals_ready)
		o->on_signals_ready(false);
	outq_attach(l, on_pressure, r);
	plain_listener_steps(on_step_done, &d);
	if (o->dry_run) {
		const struct runbook *rb = run_runbook(r);
		for (size_t i = 0; i < rb->n_steps; i++)
			if (run_dry_step(r, i, &e) < 0)
				cli_error("qrh: step %zu '%s': %s", i + 1, rb->steps[i].id, e.msg);
		finish(&d, "ok", QRH_EXIT_OK);
	} else {
		kick(&d);
	}
	while (!d.done)
		if (loop_run(l) < 0 && errno != EINTR)
			break;
	stop_reading(&d);
	if (d.kick)
		loop_timer_cancel(l, d.kick);
	if (d.idle_timer)
		loop_timer_cancel(l, d.idle_timer);
	buf_release(&d.input);
	plain_listener_steps(NULL, NULL);
	return d.exit_code;
}
