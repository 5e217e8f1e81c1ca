/* The ssh kind: the action's script run on a target by `/bin/sh -s` over
 * SSH (libssh2 1.10, non-blocking, on the engine's loop).
 *
 * One action run is one channel on one session (ssh_session.h: taken from
 * the run's pool, or set up anew). The channel runs `/bin/sh -s` and gets
 * the program of ssh_script.h on stdin; stdout and stderr stream apart;
 * the exit marker is taken out of stderr. The outcome is decided only
 * once both streams have ended and the channel has closed:
 * - the marker was seen: its status (0 ok, else failed);
 * - no marker, but an exit signal: failed (the remote shell was killed);
 * - no marker, a non-zero exit status: failed (the shell never ran the
 *   program, e.g. a login shell that refuses);
 * - neither: unknown. libssh2 1.10 reports exit status 0 when none ever
 *   arrived, so a 0 without the marker is never taken as success.
 * A connection lost after the script was sent is unknown (unless the
 * marker came first); one lost before is an error (nothing ran: the
 * remote shell runs nothing until the whole program has arrived).
 * Cancelling sends EOF on the channel: the remote watchdog then stops the
 * remote process group (SIGTERM, SIGKILL after the grace period) and the
 * channel closes with the shell's exit signal. libssh2 1.10 has no
 * channel signals (libssh2_channel_signal_ex is 1.11), hence the
 * watchdog. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "actions/action.h"
#include "actions/ssh_conf.h"
#include "actions/ssh_script.h"
#include "actions/ssh_session.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define SSH_SETUP_TIMEOUT_MS 30000 /* connect, key exchange, login, exec */
#define SSH_CANCEL_EXTRA_MS 5000   /* after the remote grace period */
#define READ_CHUNK 32768
#define READ_BUDGET (256u << 10)   /* per loop pass, then yield */
#define REMOTE_COMMAND "/bin/sh -s"

struct action_kind_state {
	struct ssh_pool *pool;
};

enum phase { P_SESSION, P_OPEN, P_EXEC, P_RUN, P_CLOSE, P_END };
enum timer_why { T_NONE, T_SETUP, T_LEFTOVER, T_CANCEL, T_CLOSE };
enum step_rc { STEP_WAIT, STEP_NEXT, STEP_DONE };

struct action_run {
	struct action_ctx ctx;
	struct action_kind_state *own_ks; /* when the engine opened none */
	struct ssh_pool *pool;
	struct ssh_conf conf;
	struct ssh_sess *sess;
	bool reused, retried;
	/* what the session learnt, kept when it is pooled or dropped */
	struct ssh_hostkey hostkey;
	bool trusted_new;
	char auth_key[SSH_FP_MAX];
	enum ssh_phase sess_phase;
	int last_phase_shown;
	LIBSSH2_CHANNEL *ch;
	enum phase phase;
	struct buf program;
	size_t sent;
	char nonce[SSH_NONCE_HEX + 1];
	struct ssh_sentinel sentinel;
	int64_t started_ns;
	int64_t bytes[3]; /* by enum proc_stream */
	uint64_t timer, kick;
	enum timer_why timer_why;
	bool paused;
	bool cancel_wanted, eof_sent;
	enum action_cancel_reason why;
	bool leftover; /* something kept the output open after the marker */
	int depth;     /* callbacks of ours on the stack */
	bool zombie;   /* freed while on the stack: destroyed when it unwinds */
	struct action_later later;
};

static void dispatch(struct action_run *r);
static void destroy(struct action_run *r);

static void on_wake(void *arg)
{
	dispatch(arg);
}

/* ---- per-kind state ---- */

static int ssh_open(const struct action_host *h, struct action_kind_state **out,
		    struct err *e)
{
	if (libssh2_init(0) != 0)
		return err_set(e, "cannot initialise libssh2");
	struct action_kind_state *ks = xcalloc(1, sizeof *ks);
	ks->pool = ssh_pool_new(h->loop);
	*out = ks;
	return 0;
}

static void ssh_close(struct action_kind_state *ks)
{
	if (!ks)
		return;
	ssh_pool_free(ks->pool);
	free(ks);
	libssh2_exit();
}

/* ---- describe ---- */

static int ssh_describe(const struct action *a, const struct action_target *t,
			var_lookup_fn *lookup, void *arg, struct buf *out,
			struct err *e)
{
	struct ssh_conf c;
	struct err ignored;
	(void)lookup;
	(void)arg;
	(void)e;
	if (ssh_conf_from_target(t, &c, &ignored) == 0) {
		ssh_conf_describe(&c, t->name, out);
		ssh_conf_release(&c);
	} else {
		buf_addf(out, "ssh on %s (%s)", a->target ? a->target : "?", ignored.msg);
	}
	/* the script as written: values reach it exported, never pasted */
	buf_addf(out, ", running %s:\n%s", REMOTE_COMMAND, a->body ? a->body : "");
	return 0;
}

/* ---- results ---- */

static const char *phase_name(const struct action_run *r)
{
	static const char *const setup[] = {
		[SSH_RESOLVE] = "resolving", [SSH_CONNECT] = "connecting",
		[SSH_HANDSHAKE] = "handshake", [SSH_AUTH] = "authenticating",
		[SSH_READY] = "opening a channel",
	};
	switch (r->phase) {
	case P_SESSION:
		return setup[r->sess ? r->sess->phase : r->sess_phase];
	case P_OPEN:
	case P_EXEC:
		return "opening a channel";
	case P_RUN:
		return r->sent < r->program.len ? "sending the script" : "running";
	case P_CLOSE:
		return "closing";
	default:
		return "ended";
	}
}

/* What the session learnt that an auditor wants: who, where, which keys. */
static void add_session_values(const struct action_run *r, cJSON *v)
{
	cJSON_AddStringToObject(v, "host", r->conf.host);
	cJSON_AddNumberToObject(v, "port", r->conf.port);
	cJSON_AddStringToObject(v, "user", r->conf.user);
	cJSON_AddStringToObject(v, "auth", r->conf.agent ? "agent" : "publickey");
	if (r->conf.identity)
		cJSON_AddStringToObject(v, "identity", r->conf.identity);
	const struct ssh_sess *s = r->sess;
	const struct ssh_hostkey *hk = s ? &s->hostkey : &r->hostkey;
	const char *auth_key = s ? s->auth_key : r->auth_key;
	if (auth_key[0])
		cJSON_AddStringToObject(v, "auth_key", auth_key);
	if (hk->fp[0]) {
		cJSON_AddStringToObject(v, "host_key", hk->fp);
		cJSON_AddStringToObject(v, "host_key_type", hk->type);
	}
	if (s ? s->trusted_new : r->trusted_new)
		cJSON_AddBoolToObject(v, "host_key_trusted_new", true);
	if (hk->known_fp[0])
		cJSON_AddStringToObject(v, "host_key_known", hk->known_fp);
	cJSON_AddBoolToObject(v, "session_reused", r->reused);
	if (r->retried) /* the idle session had died: a new one was made */
		cJSON_AddBoolToObject(v, "session_reconnected", true);
}

static void show_progress(struct action_run *r)
{
	if (!r->ctx.sink.progress)
		return;
	cJSON *v = cJSON_CreateObject();
	cJSON_AddStringToObject(v, "phase", phase_name(r));
	add_session_values(r, v);
	cJSON_AddNumberToObject(v, "stdout_bytes", (double)r->bytes[PROC_STDOUT]);
	cJSON_AddNumberToObject(v, "stderr_bytes", (double)r->bytes[PROC_STDERR]);
	r->ctx.sink.progress(r->ctx.sink.arg, v);
	cJSON_Delete(v);
}

/* Progress when the phase changed since it was last shown. */
static void phase_progress(struct action_run *r)
{
	int now = (int)r->phase * 10 + (r->sess ? (int)r->sess->phase : 0);
	if (now != r->last_phase_shown) {
		r->last_phase_shown = now;
		show_progress(r);
	}
}

static void stop_timer(struct action_run *r)
{
	if (r->timer)
		loop_timer_cancel(r->ctx.loop, r->timer);
	r->timer = 0;
	r->timer_why = T_NONE;
}

static int signal_number(const char *name)
{
	static const struct {
		const char *name;
		int no;
	} sigs[] = { { "HUP", SIGHUP },	  { "INT", SIGINT },   { "QUIT", SIGQUIT },
		     { "ILL", SIGILL },	  { "ABRT", SIGABRT }, { "FPE", SIGFPE },
		     { "KILL", SIGKILL }, { "SEGV", SIGSEGV }, { "PIPE", SIGPIPE },
		     { "ALRM", SIGALRM }, { "TERM", SIGTERM }, { "USR1", SIGUSR1 },
		     { "USR2", SIGUSR2 } };
	for (size_t i = 0; name && i < sizeof sigs / sizeof *sigs; i++)
		if (!strcmp(sigs[i].name, name))
			return sigs[i].no;
	return 0;
}

/* Delivers the result; the session must already be pooled or dropped.
 * exit_code -1: none. `from`: what the exit status was read from. */
static void finish(struct action_run *r, enum action_status st, int exit_code,
		   const char *exit_signal, const char *from, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));

static void finish(struct action_run *r, enum action_status st, int exit_code,
		   const char *exit_signal, const char *from, const char *fmt, ...)
{
	struct action_result res = { .status = st, .exit_code = exit_code };
	va_list ap;
	stop_timer(r);
	res.duration_ns = clock_mono_ns() - r->started_ns;
	res.signo = signal_number(exit_signal);
	va_start(ap, fmt);
	vsnprintf(res.summary, sizeof res.summary, fmt, ap);
	va_end(ap);
	cJSON *v = cJSON_CreateObject();
	add_session_values(r, v);
	if (exit_code >= 0)
		cJSON_AddNumberToObject(v, "exit_code", exit_code);
	else
		cJSON_AddNullToObject(v, "exit_code");
	if (exit_signal)
		cJSON_AddStringToObject(v, "exit_signal", exit_signal);
	cJSON_AddStringToObject(v, "exit_status_from", from);
	if (st == ACTION_ERROR || st == ACTION_UNKNOWN)
		cJSON_AddStringToObject(v, "phase", phase_name(r));
	cJSON_AddNumberToObject(v, "stdout_bytes", (double)r->bytes[PROC_STDOUT]);
	cJSON_AddNumberToObject(v, "stderr_bytes", (double)r->bytes[PROC_STDERR]);
	cJSON_AddNumberToObject(v, "duration_ms", (double)(res.duration_ns / 1000000));
	res.values = v;
	r->phase = P_END;
	r->ctx.sink.done(r->ctx.sink.arg, &res);
	cJSON_Delete(v);
}

/* The result for a cancel that took effect before anything could run:
 * delivered from a timer (never from inside cancel). */
static void finish_later(struct action_run *r, const char *what)
{
	struct action_result res = { .status = ACTION_CANCELLED, .exit_code = -1 };
	stop_timer(r);
	res.duration_ns = clock_mono_ns() - r->started_ns;
	action_summary(&res, "%s %s", r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled", what);
	cJSON *v = cJSON_CreateObject();
	add_session_values(r, v);
	cJSON_AddNullToObject(v, "exit_code");
	cJSON_AddStringToObject(v, "exit_status_from", "none");
	cJSON_AddStringToObject(v, "phase", phase_name(r));
	res.values = v;
	r->phase = P_END;
	action_later_done(&r->later, r->ctx.loop, &r->ctx.sink, &res);
	cJSON_Delete(v);
}

/* Keeps what the session learnt before it goes away. */
static void remember_session(struct action_run *r)
{
	if (!r->sess)
		return;
	r->hostkey = r->sess->hostkey;
	r->trusted_new = r->sess->trusted_new;
	r->sess_phase = r->sess->phase;
	memcpy(r->auth_key, r->sess->auth_key, sizeof r->auth_key);
}

static void drop_session(struct action_run *r)
{
	remember_session(r);
	ssh_sess_free(r->sess);
	r->sess = NULL;
	r->ch = NULL; /* freed with its session */
}

/* ---- output ---- */

static void deliver(struct action_run *r, enum proc_stream st, const char *p,
		    size_t n)
{
	if (!n)
		return;
	r->bytes[st] += (int64_t)n;
	r->ctx.sink.output(r->ctx.sink.arg, st, p, n);
}

static void set_timer(struct action_run *r, enum timer_why why, int64_t ms);

/* Stderr through the sentinel scanner. */
static void deliver_stderr(struct action_run *r, const char *p, size_t n, bool end)
{
	struct buf out;
	int status;
	bool had = ssh_sentinel_found(&r->sentinel, &status);
	buf_init(&out, BUF_UNLIMITED);
	if (n)
		ssh_sentinel_feed(&r->sentinel, p, n, &out);
	if (end)
		ssh_sentinel_finish(&r->sentinel, &out);
	if (!had && ssh_sentinel_found(&r->sentinel, &status) && !r->eof_sent)
		set_timer(r, T_LEFTOVER, r->ctx.grace_ms); /* the script has ended */
	deliver(r, PROC_STDERR, out.data, out.len);
	buf_release(&out);
}

/* Reads both streams until libssh2 has nothing more. 1: both ended
 * (remote EOF), 0: wait for the socket, 2: more to read after other
 * callbacks have had their turn, -1: the connection failed. */
static int pump(struct action_run *r)
{
	char chunk[READ_CHUNK];
	size_t budget = READ_BUDGET;
	for (;;) {
		bool got = false;
		for (int st = 0; st < 2 && !r->paused; st++) {
			ssize_t n = libssh2_channel_read_ex(r->ch, st, chunk, sizeof chunk);
			if (n == LIBSSH2_ERROR_EAGAIN || n == 0)
				continue;
			if (n < 0)
				return -1;
			got = true;
			budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
			if (st == 0)
				deliver(r, PROC_STDOUT, chunk, (size_t)n);
			else
				deliver_stderr(r, chunk, (size_t)n, false);
			if (r->zombie)
				return 0;
		}
		if (r->paused)
			return 0;
		if (libssh2_channel_eof(r->ch) == 1)
			return 1;
		/* a read of one stream may have queued data for the other */
		if (!got && libssh2_poll_channel_read(r->ch, 1) <= 0)
			return 0;
		if (!budget)
			return 2;
	}
}

/* ---- the end of a run ---- */

/* The connection failed while the channel was open. */
static void lost(struct action_run *r)
{
	char why[256];
	int status;
	snprintf(why, sizeof why, "%s", ssh_sess_error(r->sess));
	bool found = ssh_sentinel_found(&r->sentinel, &status);
	bool sent = r->sent == r->program.len;
	drop_session(r);
	if (found)
		finish(r, status ? ACTION_FAILED : ACTION_OK, status, NULL, "marker",
		       "exit %d; the connection was lost after the script ended", status);
	else if (!sent)
		finish(r, ACTION_ERROR, -1, NULL, "none",
		       "the connection to %s was lost before the script was sent: it did not run (%s)",
		       r->conf.host, why);
	else if (r->eof_sent)
		finish(r, ACTION_CANCELLED, -1, NULL, "none",
		       "%s; the connection was lost: the remote watchdog stops the script when it notices",
		       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled");
	else
		finish(r, ACTION_UNKNOWN, -1, NULL, "none",
		       "the connection to %s was lost while the script ran: its outcome is unknown (%s)",
		       r->conf.host, why);
}

/* The channel has closed (or was given up on after the grace period):
 * the outcome from the marker, the exit signal or the exit status. */
static void conclude(struct action_run *r, bool closed)
{
	int status = 0;
	char *sig = NULL;
	size_t siglen = 0;
	bool found = ssh_sentinel_found(&r->sentinel, &status);
	int exit_status = r->ch ? libssh2_channel_get_exit_status(r->ch) : 0;
	if (r->ch)
		libssh2_channel_get_exit_signal(r->ch, &sig, &siglen, NULL, NULL, NULL, NULL);
	char signame[32] = "";
	if (sig)
		snprintf(signame, sizeof signame, "%.*s", (int)siglen, sig);
	if (sig)
		libssh2_free(r->sess->ls, sig);
	if (closed && r->ch && libssh2_channel_free(r->ch) == 0) {
		r->ch = NULL;
		r->sess->channels_run++;
		remember_session(r);
		ssh_pool_put(r->sess);
		r->sess = NULL;
	} else {
		drop_session(r);
	}
	const char *note = r->leftover ? "; a remote process kept the output open and the channel was closed" : "";
	const char *stop = r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled";
	if (found)
		finish(r, status ? ACTION_FAILED : ACTION_OK, status, NULL, "marker",
		       "exit %d%s", status, note);
	else if (r->eof_sent)
		finish(r, ACTION_CANCELLED, -1, signame[0] ? signame : NULL, "none",
		       "%s: the remote script was stopped%s%s", stop, signame[0] ? " by SIG" : "", signame);
	else if (signame[0])
		finish(r, ACTION_FAILED, -1, signame, "exit-signal",
		       "the remote shell was killed by SIG%s", signame);
	else if (exit_status != 0)
		finish(r, ACTION_FAILED, exit_status, NULL, "exit-status",
		       "exit %d, without the completion marker: the remote shell did not run the whole script",
		       exit_status);
	else
		finish(r, ACTION_UNKNOWN, -1, NULL, "none",
		       "the channel closed without an exit status or the completion marker: the outcome is unknown%s",
		       closed ? "" : " (the close was not confirmed)");
}

/* A failure before the script could start: nothing ran. A session taken
 * from the pool may have died while idle: one fresh connection is tried. */
static enum step_rc not_started(struct action_run *r, const char *what)
{
	char why[256];
	snprintf(why, sizeof why, "%s", ssh_sess_error(r->sess));
	drop_session(r);
	if (r->reused && !r->retried) {
		r->retried = true;
		r->reused = false;
		r->sess = ssh_sess_new(r->pool, &r->conf, on_wake, r);
		r->phase = P_SESSION;
		return STEP_NEXT;
	}
	finish(r, ACTION_ERROR, -1, NULL, "none", "%s on %s: %s", what, r->conf.host, why);
	return STEP_DONE;
}

/* ---- timers ---- */

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	enum timer_why why = r->timer_why;
	(void)l;
	(void)id;
	r->timer = 0;
	r->timer_why = T_NONE;
	r->depth++;
	switch (why) {
	case T_SETUP:
		drop_session(r);
		finish(r, ACTION_ERROR, -1, NULL, "none", "no answer from %s port %d within %ds (%s)",
		       r->conf.host, r->conf.port, SSH_SETUP_TIMEOUT_MS / 1000, phase_name(r));
		break;
	case T_LEFTOVER:
		r->leftover = true;
		r->phase = P_CLOSE;
		set_timer(r, T_CLOSE, r->ctx.grace_ms);
		break;
	case T_CANCEL:
		drop_session(r);
		finish(r, ACTION_CANCELLED, -1, NULL, "none",
		       "%s; %s did not confirm that the remote script stopped within %llds",
		       r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled", r->conf.host,
		       (long long)((r->ctx.grace_ms + SSH_CANCEL_EXTRA_MS) / 1000));
		break;
	case T_CLOSE:
		conclude(r, false);
		break;
	case T_NONE:
		break;
	}
	r->depth--;
	dispatch(r);
}

static void set_timer(struct action_run *r, enum timer_why why, int64_t ms)
{
	stop_timer(r);
	r->timer_why = why;
	r->timer = loop_timer_add(r->ctx.loop, ms, on_timer, r);
}

static void on_kick(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	(void)l;
	(void)id;
	r->kick = 0;
	dispatch(r);
}

static void kick(struct action_run *r)
{
	if (!r->kick)
		r->kick = loop_timer_add(r->ctx.loop, 0, on_kick, r);
}

/* ---- the phases ---- */

static enum step_rc session_step(struct action_run *r)
{
	struct err e = { "" };
	int rc = ssh_sess_setup(r->sess, &e);
	phase_progress(r);
	if (rc == 0)
		return STEP_WAIT;
	if (rc < 0) {
		finish(r, ACTION_ERROR, -1, NULL, "none", "%s", e.msg);
		drop_session(r);
		return STEP_DONE;
	}
	r->phase = P_OPEN;
	return STEP_NEXT;
}

static enum step_rc open_step(struct action_run *r)
{
	r->ch = libssh2_channel_open_session(r->sess->ls);
	if (!r->ch) {
		if (libssh2_session_last_errno(r->sess->ls) == LIBSSH2_ERROR_EAGAIN) {
			ssh_sess_wait(r->sess, false);
			return STEP_WAIT;
		}
		return not_started(r, "cannot open an ssh channel");
	}
	r->phase = P_EXEC;
	return STEP_NEXT;
}

static enum step_rc exec_step(struct action_run *r)
{
	int rc = libssh2_channel_exec(r->ch, REMOTE_COMMAND);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_sess_wait(r->sess, false);
		return STEP_WAIT;
	}
	if (rc < 0)
		return not_started(r, "cannot start " REMOTE_COMMAND);
	stop_timer(r); /* set up: the engine's timeout= rules from here */
	r->phase = P_RUN;
	phase_progress(r);
	return STEP_NEXT;
}

/* Writes what is left of the program; -1 if the connection failed. */
static int write_program(struct action_run *r)
{
	while (r->sent < r->program.len) {
		ssize_t n = libssh2_channel_write(r->ch, r->program.data + r->sent,
						  r->program.len - r->sent);
		if (n == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (n < 0)
			return -1;
		r->sent += (size_t)n;
	}
	return 0;
}

static enum step_rc run_step(struct action_run *r)
{
	if (write_program(r) < 0) {
		lost(r);
		return STEP_DONE;
	}
	if (r->cancel_wanted && !r->eof_sent && r->sent == r->program.len) {
		int rc = libssh2_channel_send_eof(r->ch);
		if (rc == 0) {
			r->eof_sent = true;
			set_timer(r, T_CANCEL, r->ctx.grace_ms + SSH_CANCEL_EXTRA_MS);
		} else if (rc != LIBSSH2_ERROR_EAGAIN) {
			lost(r);
			return STEP_DONE;
		}
	}
	switch (pump(r)) {
	case -1:
		lost(r);
		return STEP_DONE;
	case 1:
		deliver_stderr(r, NULL, 0, true);
		if (r->zombie)
			return STEP_WAIT;
		r->phase = P_CLOSE;
		if (r->timer_why != T_CANCEL)
			set_timer(r, T_CLOSE, r->ctx.grace_ms);
		return STEP_NEXT;
	case 2:
		kick(r);
		return STEP_WAIT;
	default:
		if (!r->zombie)
			ssh_sess_wait(r->sess, r->paused && r->sent == r->program.len);
		return STEP_WAIT;
	}
}

static enum step_rc close_step(struct action_run *r)
{
	int rc = libssh2_channel_close(r->ch);
	if (rc == LIBSSH2_ERROR_EAGAIN) {
		ssh_sess_wait(r->sess, false);
		return STEP_WAIT;
	}
	conclude(r, rc == 0);
	return STEP_DONE;
}

static void step(struct action_run *r)
{
	for (;;) {
		enum step_rc rc = STEP_WAIT;
		if (r->zombie)
			return;
		switch (r->phase) {
		case P_SESSION:
			rc = session_step(r);
			break;
		case P_OPEN:
			rc = open_step(r);
			break;
		case P_EXEC:
			rc = exec_step(r);
			break;
		case P_RUN:
			rc = run_step(r);
			break;
		case P_CLOSE:
			rc = close_step(r);
			break;
		case P_END:
			return;
		}
		if (rc != STEP_NEXT)
			return;
	}
}

/* Every way into a run goes through here, so a free from inside one of
 * the sink's callbacks waits until the stack has unwound. */
static void dispatch(struct action_run *r)
{
	r->depth++;
	step(r);
	r->depth--;
	if (r->zombie && r->depth == 0)
		destroy(r);
}

/* ---- the entry points ---- */

static struct action_run *ssh_start(const struct action *a,
				    const struct action_ctx *ctx, struct err *e)
{
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	if (r->ctx.grace_ms <= 0)
		r->ctx.grace_ms = PROC_GRACE_MS_DEFAULT;
	r->started_ns = clock_mono_ns();
	r->last_phase_shown = -1;
	buf_init(&r->program, BUF_UNLIMITED);
	int no_nonce = ssh_nonce(r->nonce);
	ssh_sentinel_init(&r->sentinel, r->nonce);
	struct action_host host = { .loop = ctx->loop, .reaper = ctx->reaper,
				    .grace_ms = ctx->grace_ms };
	if ((no_nonce && err_set(e, "no randomness for the ssh exit marker") < 0) ||
	    ssh_conf_from_target(ctx->target, &r->conf, e) < 0 ||
	    ssh_conf_check_identity(&r->conf, ctx->target->name, e) < 0 ||
	    /* an engine that keeps no kind state: this run keeps its own */
	    (!ctx->ks && ssh_open(&host, &r->own_ks, e) < 0)) {
		destroy(r);
		return NULL;
	}
	r->pool = ctx->ks ? ctx->ks->pool : r->own_ks->pool;
	struct ssh_program p = { .env = ctx->env, .script = a->body ? a->body : "",
				 .nonce = r->nonce,
				 .grace_s = (int)((r->ctx.grace_ms + 999) / 1000) };
	ssh_program_build(&p, &r->program);
	r->sess = ssh_pool_take(r->pool, &r->conf);
	if (r->sess) {
		r->reused = true;
		r->sess->wake = on_wake;
		r->sess->wake_arg = r;
		r->phase = P_OPEN;
	} else {
		r->sess = ssh_sess_new(r->pool, &r->conf, on_wake, r);
		r->phase = P_SESSION;
	}
	set_timer(r, T_SETUP, SSH_SETUP_TIMEOUT_MS);
	kick(r); /* nothing happens inside start */
	return r;
}

static void ssh_cancel(struct action_run *r, enum action_cancel_reason why)
{
	if (r->phase == P_END || r->phase == P_CLOSE || r->cancel_wanted)
		return;
	r->why = why;
	r->cancel_wanted = true;
	if (r->phase == P_RUN && r->sent == r->program.len) {
		kick(r); /* EOF to the remote watchdog, from the loop */
		return;
	}
	/* nothing can have run: the remote shell runs nothing before the
	 * whole program has arrived */
	bool sending = r->phase == P_RUN;
	drop_session(r);
	finish_later(r, sending ? "before the script was sent: it did not run"
				: "before the script started");
}

static void ssh_pause(struct action_run *r, bool pause)
{
	r->paused = pause;
	if (!pause)
		kick(r);
}

static void destroy(struct action_run *r)
{
	stop_timer(r);
	if (r->kick)
		loop_timer_cancel(r->ctx.loop, r->kick);
	action_later_release(&r->later);
	drop_session(r);
	ssh_close(r->own_ks);
	ssh_sentinel_release(&r->sentinel);
	ssh_conf_release(&r->conf);
	buf_release(&r->program);
	free(r);
}

static void ssh_free(struct action_run *r)
{
	if (!r)
		return;
	if (r->depth > 0) {
		r->zombie = true;
		return;
	}
	destroy(r);
}

const struct action_entry action_ssh = {
	.kind = ACTION_SSH,
	.open = ssh_open,
	.close = ssh_close,
	.describe = ssh_describe,
	.start = ssh_start,
	.cancel = ssh_cancel,
	.pause = ssh_pause,
	.free = ssh_free,
};
