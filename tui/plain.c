/* Plain mode's driver: walks the steps in order, gets each confirmation
 * from the flags or the terminal, lets the engine run the step on the
 * event loop, and decides what a failure means (on_fail). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <unistd.h>

#include "state/events.h"
#include "tui/cli.h"
#include "tui/plain.h"
#include "tui/sanitize.h"
#include "util/xalloc.h"

void plain_print_flush(void);

/* What the signals asked for; set from loop callbacks, never from a
 * signal handler. */
struct driver {
	struct run *run;
	struct loop *loop;
	const struct plain_opts *o;
	int interrupt; /* SIGINT or SIGTERM */
	bool hangup;
	bool failed;
};

static void on_signal(struct loop *l, int signo, void *arg)
{
	struct driver *d = arg;
	struct err e;
	(void)l;
	if (signo == SIGHUP) {
		if (!d->hangup)
			run_mark(d->run, EV_HANGUP, NULL, &e);
		d->hangup = true;
		return;
	}
	if (!d->interrupt)
		run_mark(d->run, EV_SIGNAL, signo == SIGINT ? "SIGINT" : "SIGTERM", &e);
	d->interrupt = signo;
	run_cancel_step(d->run);
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

/* Gets the confirmation for step i: 1 confirmed (how set), 0 declined,
 * -1 refused because nobody can confirm it here. */
static int confirm(struct driver *d, size_t i, const char **how)
{
	const struct step *s = &run_runbook(d->run)->steps[i];
	if (s->dual_control) {
		fprintf(stderr, "qrh: step %zu '%s' needs dual control, which plain mode cannot give yet\n",
			i + 1, s->id);
		return -1;
	}
	if (s->confirm == CONFIRM_NO) {
		*how = "auto";
		return 1;
	}
	if (s->confirm == CONFIRM_TYPED) {
		const char *w = typed_flag(d->o, s->id);
		if (w && !strcmp(w, s->confirm_word)) {
			*how = "typed";
			return 1;
		}
		if (w) {
			cli_error("qrh: --typed %s=%s does not match the word the step asks for", s->id, w);
			return -1;
		}
	} else if (d->o->yes) {
		*how = "yes-flag";
		return 1;
	}
	if (d->hangup || !isatty(STDIN_FILENO)) {
		if (s->confirm == CONFIRM_TYPED)
			fprintf(stderr, "qrh: step %zu '%s' needs a confirmation: give --typed %s=%s\n",
				i + 1, s->id, s->id, s->confirm_word);
		else
			fprintf(stderr, "qrh: step %zu '%s' needs a confirmation: give --yes or run on a terminal\n",
				i + 1, s->id);
		return -1;
	}
	show_step(d->run, i);
	char prompt[256];
	if (s->confirm == CONFIRM_TYPED)
		snprintf(prompt, sizeof prompt, "Type %s to run this step: ", s->confirm_word);
	else
		snprintf(prompt, sizeof prompt, "Run this step? [y/N] ");
	char *answer = plain_ask(prompt, false);
	int ok = answer && (s->confirm == CONFIRM_TYPED ? !strcmp(answer, s->confirm_word)
				: (!strcmp(answer, "y") || !strcmp(answer, "yes")));
	free(answer);
	*how = s->confirm == CONFIRM_TYPED ? "typed" : "enter";
	return ok;
}

static void wait_idle(struct driver *d, bool step_only)
{
	while (step_only ? run_step_active(d->run) : run_busy(d->run)) {
		int t = run_poll_timeout_ms(d->run);
		if (loop_run_once(d->loop, t < 0 ? 1000 : t) < 0 && errno != EINTR)
			break;
		run_tick(d->run);
		fflush(stdout); /* a log shows output as it comes, once per pass */
	}
}

/* A step failed for good: what now? Returns 1 to go on, 0 to stop. */
static int after_failure(struct driver *d, size_t i)
{
	const struct step *s = &run_runbook(d->run)->steps[i];
	struct err e;
	if (s->on_fail == ON_FAIL_CONTINUE) {
		d->failed = true;
		return 1;
	}
	if (s->on_fail == ON_FAIL_ASK && !d->hangup && isatty(STDIN_FILENO)) {
		char *a = plain_ask("Step failed: [r]etry, [s]kip, [d]one by hand, [a]bort? ", false);
		int go = 0;
		if (a && a[0] == 'r') {
			/* a retry of a typed step takes its word again */
			const char *how = "enter";
			if (s->confirm == CONFIRM_TYPED) {
				char prompt[128];
				snprintf(prompt, sizeof prompt, "Type %s to run it again: ", s->confirm_word);
				char *w = plain_ask(prompt, false);
				bool ok = w && !strcmp(w, s->confirm_word);
				free(w);
				how = ok ? "typed" : NULL;
			}
			go = how && run_step_begin(d->run, i, how, &e) == 0 ? 2 : 0;
		}
		else if (a && a[0] == 's')
			go = run_step_skip(d->run, i, "skipped after failure", &e) == 0;
		else if (a && a[0] == 'd')
			go = run_step_done_by_hand(d->run, i, "done by hand after failure", &e) == 0;
		free(a);
		if (go == 2) {
			wait_idle(d, true);
			const struct step_state *st = run_step(d->run, i);
			return st->status == STEP_OK ? 1 : after_failure(d, i);
		}
		if (go)
			return 1;
	}
	return 0;
}

static int handle_interrupted(struct driver *d, size_t i)
{
	struct err e;
	const char *id = run_runbook(d->run)->steps[i].id;
	if (d->o->interrupted == INTERRUPTED_SKIP)
		return run_step_skip(d->run, i, "interrupted step skipped on resume", &e) == 0 ? 1 : -1;
	if (d->o->interrupted == INTERRUPTED_RERUN) {
		/* running it again still takes its typed word */
		const struct step *s = &run_runbook(d->run)->steps[i];
		const char *w = s->confirm == CONFIRM_TYPED ? typed_flag(d->o, s->id) : NULL;
		if (s->confirm == CONFIRM_TYPED && (!w || strcmp(w, s->confirm_word))) {
			fprintf(stderr, "qrh: step %zu '%s' was interrupted; to run it again give --typed %s=%s\n",
				i + 1, id, id, s->confirm_word);
			return -1;
		}
		return run_step_begin(d->run, i, "rerun-interrupted", &e) == 0 ? 2 : -1;
	}
	fprintf(stderr, "qrh: step %zu '%s' was running when qrh stopped: its outcome is unknown; "
			"give --rerun-interrupted or --skip-interrupted\n", i + 1, id);
	return -1;
}

static int finish(struct driver *d, const char *outcome, int code)
{
	struct err e;
	run_stop_background(d->run);
	wait_idle(d, false);
	plain_print_flush();
	if (outcome && run_end(d->run, outcome, &e) < 0) {
		cli_error("qrh: %s", e.msg);
		return QRH_EXIT_USAGE;
	}
	plain_print_flush();
	return code;
}

static int drive_step(struct driver *d, size_t i)
{
	struct err e;
	const struct step_state *st = run_step(d->run, i);
	int started = 0;
	if (st->status == STEP_INTERRUPTED) {
		started = handle_interrupted(d, i);
		if (started < 0)
			return -1;
	}
	if (!started) {
		const char *how = NULL;
		int c = confirm(d, i, &how);
		if (c <= 0)
			return c < 0 ? -1 : -2;
		if (run_step_begin(d->run, i, how, &e) < 0) {
			cli_error("qrh: %s", e.msg);
			return -1;
		}
	}
	wait_idle(d, true);
	return 0;
}

int plain_drive(struct run *r, struct loop *l, const struct plain_opts *o)
{
	struct driver d = { .run = r, .loop = l, .o = o };
	struct err e;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t k = 0; k < 3; k++)
		if (loop_signal(l, sigs[k], on_signal, &d, &e) < 0)
			cli_error("qrh: %s", e.msg);
	if (o->on_signals_ready)
		o->on_signals_ready(false);
	const struct runbook *rb = run_runbook(r);
	if (o->dry_run) {
		for (size_t i = 0; i < rb->n_steps; i++)
			if (run_dry_step(r, i, &e) < 0)
				cli_error("qrh: step %zu '%s': %s", i + 1, rb->steps[i].id, e.msg);
		return finish(&d, "ok", QRH_EXIT_OK);
	}
	for (size_t i = 0; i < rb->n_steps; i++) {
		if (run_step_settled(r, i)) {
			/* settled by failing on_fail=continue before a resume */
			d.failed = d.failed || !step_status_final(run_step(r, i)->status);
			continue;
		}
		if (d.interrupt || d.hangup)
			break;
		int rc = drive_step(&d, i);
		if (rc == -1)
			return finish(&d, NULL, QRH_EXIT_USAGE);
		if (rc == -2) {
			fprintf(stderr, "qrh: step %zu '%s' not confirmed; the run stops here and can be resumed\n",
				i + 1, rb->steps[i].id);
			return finish(&d, NULL, QRH_EXIT_INTERRUPTED);
		}
		if (d.interrupt || d.hangup)
			break;
		if (!step_status_final(run_step(r, i)->status) && !after_failure(&d, i))
			return finish(&d, "failed", QRH_EXIT_FAILED);
	}
	if (d.interrupt || d.hangup) /* the run stays open for resume */
		return finish(&d, NULL, QRH_EXIT_INTERRUPTED);
	return finish(&d, d.failed ? "failed" : "ok",
		      d.failed ? QRH_EXIT_FAILED : QRH_EXIT_OK);
}
