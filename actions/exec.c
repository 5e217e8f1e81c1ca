/* The process kinds: `sh` (a script given to a shell) and `exec` (an
 * argument list run directly, no shell). Both run through proc.c, so the
 * child is in its own session with stdin from /dev/null and inherits no fd
 * of qrh's.
 *
 * sh: the script is passed as one argument, `/bin/sh -e -c SCRIPT` (errexit:
 * a failing command fails the step); with shell=NAME, `NAME -e -c SCRIPT`
 * for a POSIX-style shell (sh, bash, dash, ksh, zsh, ash; a ```bash block
 * is shell=bash) and `NAME -c SCRIPT` for any other interpreter.
 * qrh never pastes variable values into the script: they arrive in the
 * environment, so "$NAME" in the script is the shell's own expansion.
 * exec: each word is expanded on its own (${NAME} -> value) and stays one
 * argument, whatever the value holds. */
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "runbooks/words.h"
#include "util/xalloc.h"

#define SH_DEFAULT "/bin/sh"

struct action_run {
	struct proc *proc;
	struct action_ctx ctx_copy;
	char **argv;
	size_t argc;
	enum action_cancel_reason why;
	bool cancelled;
};

static void free_argv(char **argv, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

/* Shells that take -e: a failing command fails the step. Any other
 * interpreter (python3, ...) gets only -c. */
static bool errexit_shell(const char *shell)
{
	static const char *const names[] = { "sh", "bash", "dash", "ksh", "zsh", "ash" };
	const char *base = strrchr(shell, '/');
	base = base ? base + 1 : shell;
	for (size_t i = 0; i < sizeof names / sizeof *names; i++)
		if (!strcmp(base, names[i]))
			return true;
	return false;
}

/* The argv that runs the action, values from `lookup`. */
static int build_argv(const struct action *a, var_lookup_fn *lookup,
		      void *arg, char ***out, size_t *n, struct err *e)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	if (a->kind == ACTION_SH) {
		const char *shell = a->shell ? a->shell : SH_DEFAULT;
		bool e_flag = errexit_shell(shell);
		*n = e_flag ? 4 : 3;
		char **v = xcalloc(*n + 1, sizeof *v);
		size_t i = 0;
		v[i++] = xstrdup(shell);
		if (e_flag)
			v[i++] = xstrdup("-e");
		v[i++] = xstrdup("-c");
		v[i++] = xstrdup(a->body ? a->body : "");
		*out = v;
		return 0;
	}
	char **v = xcalloc(a->argv.n + 1, sizeof *v);
	for (size_t i = 0; i < a->argv.n; i++) {
		buf_reset(&b);
		if (vars_expand(a->argv.v[i], lookup, arg, &b, e) < 0) {
			free_argv(v, i);
			buf_release(&b);
			return -1;
		}
		v[i] = xstrdup(b.data);
	}
	buf_release(&b);
	*out = v;
	*n = a->argv.n;
	return 0;
}

static int exec_describe(const struct action *a, const struct action_target *t,
			 var_lookup_fn *lookup, void *arg, struct buf *out,
			 struct err *e)
{
	(void)t;
	if (a->kind == ACTION_SH) {
		/* the script as written: values reach it through the
		 * environment, never pasted into it */
		if (a->shell)
			buf_addf(out, "(%s) ", a->shell);
		buf_adds(out, a->body ? a->body : "");
		return 0;
	}
	char **argv;
	size_t n;
	if (build_argv(a, lookup, arg, &argv, &n, e) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_addc(out, ' ');
		words_quote(out, argv[i]);
	}
	free_argv(argv, n);
	return 0;
}

static void on_proc_output(struct proc *p, enum proc_stream stream,
			   const char *data, size_t len, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	r->ctx_copy.sink.output(r->ctx_copy.sink.arg, stream, data, len);
}

/* "pid 12" or "pids 12, 13" */
static void pids_add(struct buf *b, const pid_t *v, size_t n)
{
	buf_addf(b, "pid%s ", n > 1 ? "s" : "");
	for (size_t i = 0; i < n; i++)
		buf_addf(b, "%s%d", i ? ", " : "", (int)v[i]);
}

/* Only what happened: a holder is "killed" only when it was in the group
 * that got SIGKILL, and "left running" when it had left it. */
static void held_summary(struct action_result *res, const struct proc_result *pr)
{
	struct buf b;
	size_t k = pr->n_held_killed, r = pr->n_held_running;

	buf_init(&b, sizeof res->summary);
	buf_adds(&b, res->summary);
	if (!k && !r) {
		buf_adds(&b, "; a process it left behind held the output open; "
			 "qrh stopped reading (the holder could not be seen)");
	} else if (!r || !k) {
		int one = (k ? k : r) == 1;
		buf_addf(&b, "; %s it left behind (", one ? "a process" : "processes");
		pids_add(&b, k ? pr->held_killed : pr->held_running, k ? k : r);
		buf_addf(&b, ") held the output open and %s %s", one ? "was" : "were",
			 k ? "killed" : "left running");
	} else {
		buf_adds(&b, "; processes it left behind held the output open: ");
		pids_add(&b, pr->held_killed, k);
		buf_addf(&b, " killed, ");
		pids_add(&b, pr->held_running, r);
		buf_addf(&b, " left running");
	}
	action_summary(res, "%s", b.data);
	buf_release(&b);
}

static void on_proc_exit(struct proc *p, const struct proc_result *pr,
			 void *arg)
{
	struct action_run *r = arg;
	struct action_result res = { .exit_code = pr->exit_code,
				     .signo = pr->signo,
				     .duration_ns = pr->duration_ns };
	(void)p;
	if (pr->cancelled && r->why == ACTION_CANCEL_TIMEOUT) {
		res.status = ACTION_CANCELLED; /* the engine calls it a timeout */
		action_summary(&res, "timed out, %s", pr->signo == 9 ? "killed" : "terminated");
	} else if (pr->cancelled) {
		res.status = ACTION_CANCELLED;
		action_summary(&res, "cancelled");
	} else if (pr->signo) {
		res.status = ACTION_FAILED;
		action_summary(&res, "killed by signal %d", pr->signo);
	} else if (pr->exit_code != 0) {
		res.status = ACTION_FAILED;
		action_summary(&res, "exit %d", pr->exit_code);
	} else {
		res.status = ACTION_OK;
		action_summary(&res, "exit 0");
	}
	if (pr->pipes_held)
		held_summary(&res, pr);
	r->ctx_copy.sink.done(r->ctx_copy.sink.arg, &res);
}

static int on_proc_spawn(pid_t pgid, uint64_t start_ticks, void *arg,
			 struct err *e)
{
	struct action_run *r = arg;
	(void)e;
	r->ctx_copy.sink.process(r->ctx_copy.sink.arg, pgid, start_ticks);
	return 0;
}

static struct action_run *exec_start(const struct action *a,
				     const struct action_ctx *ctx,
				     struct err *e)
{
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx_copy = *ctx;
	if (build_argv(a, ctx->lookup, ctx->lookup_arg, &r->argv, &r->argc, e) < 0) {
		free(r);
		return NULL;
	}
	struct buf cwd;
	buf_init(&cwd, 4096);
	if (a->cwd && vars_expand(a->cwd, ctx->lookup, ctx->lookup_arg, &cwd, e) < 0) {
		free_argv(r->argv, r->argc);
		free(r);
		buf_release(&cwd);
		return NULL;
	}
	struct proc_spec spec = {
		.argv = (const char *const *)r->argv,
		.env = ctx->env,
		.cwd = a->cwd ? cwd.data : NULL,
		.grace_ms = ctx->grace_ms,
		.on_output = on_proc_output,
		.on_exit = on_proc_exit,
		.on_spawn = ctx->sink.process ? on_proc_spawn : NULL,
		.die_with_parent = ctx->die_with_qrh,
		.arg = r,
	};
	r->proc = proc_spawn(ctx->reaper, &spec, e);
	buf_release(&cwd);
	if (!r->proc) {
		free_argv(r->argv, r->argc);
		free(r);
		return NULL;
	}
	return r;
}

static void exec_cancel(struct action_run *r, enum action_cancel_reason why)
{
	if (!r->cancelled)
		r->why = why;
	r->cancelled = true;
	proc_cancel(r->proc);
}

static void exec_pause(struct action_run *r, bool pause)
{
	proc_pause_output(r->proc, pause);
}

static void exec_free(struct action_run *r)
{
	if (!r)
		return;
	proc_free(r->proc);
	free_argv(r->argv, r->argc);
	free(r);
}

const struct action_entry action_sh = {
	.kind = ACTION_SH,
	.describe = exec_describe,
	.start = exec_start,
	.cancel = exec_cancel,
	.pause = exec_pause,
	.free = exec_free,
};

const struct action_entry action_exec = {
	.kind = ACTION_EXEC,
	.describe = exec_describe,
	.start = exec_start,
	.cancel = exec_cancel,
	.pause = exec_pause,
	.free = exec_free,
};
