/* velero: runs the velero CLI, follows what it created, attaches its logs.
 *
 * The command is the target's binary (default `velero` from PATH), the
 * action's argument words (each expanded on its own, as for exec), then
 * the target's --kubeconfig, --kubecontext and -n. Its output is streamed.
 *
 * A `restore create` or `backup create` (without -o, which only prints the
 * object) is then followed: the object's name is the one in the CLI's
 * `Restore request "NAME" submitted successfully.`, else the NAME given,
 * else `<backup>-<YYYYMMDDhhmmss>` on qrh's local clock, as the CLI names
 * it. From the moment the name is known, `velero restore get NAME -o json`
 * runs every `every` (default 2s; a poll never overlaps the one before:
 * the next starts `every` after the last one started, or at once if it
 * took longer) until the phase is terminal. The outcome comes from that
 * phase, never from the CLI's exit code (`--wait` exits 0 on failure): a
 * phase in `accept` (default Completed) succeeds, any other end fails.
 * Five polls failing in a row lose track of the object: unknown. Then
 * `velero restore logs NAME` is run and its output attached after a
 * separator line (not for FailedValidation: Velero never started it, so
 * there are no logs). A change of phase is reported on stderr in a line
 * starting "qrh: ", and every poll goes to sink.progress.
 *
 * `backup get -o json` lists the backups as `choices`; with pick=VAR the
 * run's value of VAR must be one of them (the engine asks the operator to
 * pick one when VAR has no value yet).
 *
 * The velero simulator (sandbox/velero/velero) writes a line starting
 * "velero-simulator:" on stderr for every command: when one appears the
 * values say {"simulator": true}. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "actions/action.h"
#include "actions/velero_obj.h"
#include "runbooks/velero_cli.h"
#include "runbooks/words.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define EVERY_DEFAULT_MS 2000
#define POLL_OUT_MAX (8u << 20)  /* one object, managedFields and all */
#define LISTING_MAX (32u << 20) /* `backup get -o json` for a pick */
#define LINE_MAX_BYTES 4096
#define POLL_FAILURES_MAX 5
#define ERR_LINE_MAX 200
#define POLL_ERR_MAX 65536
#define SIM_MARKER "velero-simulator:"

struct action_run {
	struct action_ctx ctx;
	int64_t started_ns;
	char *binary;
	struct strv flags; /* from the target: --kubeconfig, --kubecontext, -n */
	struct strv argv;  /* the whole command, NULL-terminated */
	struct velero_words vw; /* of argv without the binary and the flags */
	const char *object;     /* "restore" / "backup" to follow, else NULL */
	char *pick;
	unsigned accept;
	int64_t every_ms;
	char stamp[16]; /* YYYYMMDDhhmmss at start, for the CLI's default name */

	struct proc *main;
	bool main_done;
	struct proc_result main_res;
	struct buf out_line, err_line;
	struct buf listing; /* stdout, when it is a list of backups */
	bool listing_full;
	char last_err[ERR_LINE_MAX];

	char *name; /* the object followed */
	struct proc *poll;
	struct buf poll_out, poll_err;
	int64_t poll_started_ns;
	uint64_t poll_timer;
	int polls, poll_failures;
	char poll_error[ERR_MSG_MAX];
	bool have_obj, lost;
	struct velero_obj obj;

	struct proc *logs;
	bool logs_started, logs_done;
	struct proc_result logs_res;

	bool simulator;
	bool cancelled;
	enum action_cancel_reason why;
	bool finished;
	struct action_later later;

	/* The engine may free the run from inside sink.output or progress
	 * (action.h): then everything stops at once, `dead` is set, and the
	 * memory goes when the outermost of our callbacks returns. */
	int depth;
	bool dead;
};

static void release(struct action_run *r);

static void enter(struct action_run *r)
{
	r->depth++;
}

static void leave(struct action_run *r)
{
	if (--r->depth == 0 && r->dead)
		release(r);
}

static void emit(struct action_run *r, enum proc_stream stream, const char *data,
		 size_t len)
{
	if (!r->dead)
		r->ctx.sink.output(r->ctx.sink.arg, stream, data, len);
}

/* ---- building the command ---- */

static const char *binary_of(const struct action_target *t)
{
	return t && t->binary && *t->binary ? t->binary : "velero";
}

static void target_flags(const struct action_target *t, struct strv *out)
{
	if (!t)
		return;
	if (t->kubeconfig && *t->kubeconfig) {
		strv_push(out, "--kubeconfig");
		strv_push(out, t->kubeconfig);
	}
	if (t->context && *t->context) {
		strv_push(out, "--kubecontext");
		strv_push(out, t->context);
	}
	if (t->namespace_ && *t->namespace_) {
		strv_push(out, "-n");
		strv_push(out, t->namespace_);
	}
}

/* binary, the expanded words, the target's flags. */
static int build_command(const struct action *a, const struct action_target *t,
			 var_lookup_fn *lookup, void *arg, struct strv *argv,
			 struct strv *flags, struct err *e)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	strv_push(argv, binary_of(t));
	for (size_t i = 0; i < a->argv.n; i++) {
		buf_reset(&b);
		if (vars_expand(a->argv.v[i], lookup, arg, &b, e) < 0) {
			buf_release(&b);
			return -1;
		}
		strv_push(argv, b.data);
	}
	buf_release(&b);
	target_flags(t, flags);
	for (size_t i = 0; i < flags->n; i++)
		strv_push(argv, flags->v[i]);
	return 0;
}

/* The words after the binary and before the target's flags. */
static void read_words(const struct strv *argv, size_t n_flags,
		       struct velero_words *vw)
{
	velero_words_read((const char *const *)argv->v + 1, argv->n - 1 - n_flags, vw);
}

static const char *object_followed(const struct velero_words *vw)
{
	/* create -o prints the object and sends nothing to the server */
	return vw->output ? NULL : velero_cmd_object(vw->cmd);
}

static void add_quoted(struct buf *out, const struct strv *words)
{
	for (size_t i = 0; i < words->n; i++) {
		if (i)
			buf_addc(out, ' ');
		words_quote(out, words->v[i]);
	}
}

/* `binary OBJECT VERB NAME [-o json] flags`, quoted. */
static void add_followup(struct buf *out, const char *binary, const char *object,
			 const char *verb, const char *name, bool json,
			 const struct strv *flags)
{
	struct strv w = { 0 };
	strv_push(&w, binary);
	strv_push(&w, object);
	strv_push(&w, verb);
	strv_push(&w, name);
	if (json) {
		strv_push(&w, "-o");
		strv_push(&w, "json");
	}
	for (size_t i = 0; i < flags->n; i++)
		strv_push(&w, flags->v[i]);
	add_quoted(out, &w);
	strv_release(&w);
}

static void accepted_names(unsigned mask, struct buf *out)
{
	bool first = true;
	for (int p = 0; p < VELERO_PHASE_COUNT; p++) {
		if (!(mask & (1u << p)))
			continue;
		buf_addf(out, "%s%s", first ? "" : ",", velero_phase_name((enum velero_phase)p));
		first = false;
	}
}

static unsigned accept_of(const struct action *a)
{
	unsigned mask = VELERO_ACCEPT_DEFAULT;
	char bad[64];
	if (a->accept && velero_accept_parse(a->accept, &mask, bad, sizeof bad) < 0)
		mask = VELERO_ACCEPT_DEFAULT; /* refused by the checker already */
	return mask;
}

static int velero_describe(const struct action *a, const struct action_target *t,
			   var_lookup_fn *lookup, void *arg, struct buf *out,
			   struct err *e)
{
	struct strv argv = { 0 }, flags = { 0 };
	if (build_command(a, t, lookup, arg, &argv, &flags, e) < 0) {
		strv_release(&argv);
		strv_release(&flags);
		return -1;
	}
	add_quoted(out, &argv);
	struct velero_words vw;
	read_words(&argv, flags.n, &vw);
	const char *object = object_followed(&vw);
	if (object) {
		const char *name = vw.name ? vw.name : "NAME";
		char every[32];
		int64_t ms = a->every_ms >= 0 ? a->every_ms : EVERY_DEFAULT_MS;
		snprintf(every, sizeof every, ms % 1000 ? "%lldms" : "%llds",
			 (long long)(ms % 1000 ? ms : ms / 1000));
		buf_addf(out, "\nthen every %s: ", every);
		add_followup(out, argv.v[0], object, "get", name, true, &flags);
		buf_adds(out, "\nuntil the phase is terminal (success: ");
		accepted_names(accept_of(a), out);
		buf_adds(out, "); then ");
		add_followup(out, argv.v[0], object, "logs", name, false, &flags);
	}
	if (a->pick)
		buf_addf(out, "\nthen a backup from the list is picked into %s", a->pick);
	strv_release(&argv);
	strv_release(&flags);
	return 0;
}

/* ---- finishing ---- */

static bool running(const struct action_run *r)
{
	return (r->main && !r->main_done) || r->poll || (r->logs && !r->logs_done);
}

static cJSON *base_values(const struct action_run *r)
{
	cJSON *v = cJSON_CreateObject();
	if (r->simulator)
		cJSON_AddTrueToObject(v, "simulator");
	return v;
}

static void finish(struct action_run *r, struct action_result *res, cJSON *values)
{
	r->finished = true;
	res->duration_ns = clock_mono_ns() - r->started_ns;
	res->values = values;
	action_later_done(&r->later, r->ctx.loop, &r->ctx.sink, res);
	cJSON_Delete(values);
}

static const char *cancel_words(const struct action_run *r)
{
	return r->why == ACTION_CANCEL_TIMEOUT ? "timed out" : "cancelled";
}

static void finish_cancelled(struct action_run *r)
{
	struct action_result res = { .status = ACTION_CANCELLED, .exit_code = -1 };
	cJSON *v = base_values(r);
	if (r->name && r->have_obj) {
		action_summary(&res, "%s following %s %s (last phase %s); it goes on in the cluster",
			       cancel_words(r), r->object, r->name,
			       r->obj.phase_text[0] ? r->obj.phase_text : "New");
		cJSON_AddItemToObject(v, "last", velero_obj_progress(&r->obj));
	} else if (r->name) {
		action_summary(&res, "%s following %s %s; it goes on in the cluster",
			       cancel_words(r), r->object, r->name);
	} else {
		action_summary(&res, "%s", cancel_words(r));
	}
	if (r->name)
		cJSON_AddStringToObject(v, "name", r->name);
	finish(r, &res, v);
}

/* The CLI's own result, for a command that is not followed. */
static void cli_result(const struct action_run *r, struct action_result *res)
{
	res->exit_code = r->main_res.exit_code;
	res->signo = r->main_res.signo;
	if (r->main_res.signo) {
		res->status = ACTION_FAILED;
		action_summary(res, "velero killed by signal %d", r->main_res.signo);
	} else if (r->main_res.exit_code) {
		res->status = ACTION_FAILED;
		action_summary(res, "velero exited %d%s%s", r->main_res.exit_code,
			       r->last_err[0] ? ": " : "", r->last_err);
	} else {
		res->status = ACTION_OK;
		action_summary(res, "exit 0");
	}
}

/* backup get -o json: the list, and the pick if the action has one. */
static void finish_listing(struct action_run *r, struct action_result *res, cJSON *v)
{
	struct err e = { "" };
	cJSON *doc = cJSON_ParseWithLength(r->listing.data, r->listing.len);
	cJSON *choices = doc ? velero_backup_choices(doc, &e) : NULL;
	if (!doc)
		err_set(&e, "%s", r->listing_full ? "larger than 32 MiB" : "not JSON");
	cJSON_Delete(doc);
	if (!choices) {
		if (r->pick) {
			res->status = ACTION_FAILED;
			action_summary(res, "cannot read the backup list: %s", e.msg);
		}
		return;
	}
	int n = cJSON_GetArraySize(choices);
	cJSON_AddItemToObject(v, "choices", choices);
	action_summary(res, "%d backup%s listed", n, n == 1 ? "" : "s");
	if (!r->pick)
		return;
	const char *have = r->ctx.lookup(r->ctx.lookup_arg, r->pick);
	cJSON *pick = cJSON_AddObjectToObject(v, "pick");
	cJSON_AddStringToObject(pick, "variable", r->pick);
	if (!n) {
		res->status = ACTION_FAILED;
		action_summary(res, "no backups to pick %s from", r->pick);
		cJSON_AddNullToObject(pick, "value");
		return;
	}
	if (!have) {
		cJSON_AddNullToObject(pick, "value");
		action_summary(res, "%d backup%s listed; pick one into %s", n, n == 1 ? "" : "s", r->pick);
		return;
	}
	cJSON_AddStringToObject(pick, "value", have);
	const cJSON *c;
	cJSON_ArrayForEach(c, choices)
	{
		const char *name = cJSON_GetObjectItem(c, "name")->valuestring;
		if (!strcmp(name, have)) {
			action_summary(res, "%s=%s, a %s backup of %s", r->pick, have,
				       cJSON_GetObjectItem(c, "phase")->valuestring,
				       cJSON_GetObjectItem(c, "created")->valuestring);
			return;
		}
	}
	res->status = ACTION_FAILED;
	action_summary(res, "%s=%s is not one of the %d backups listed", r->pick, have, n);
}

static void finish_plain(struct action_run *r)
{
	struct action_result res = { .exit_code = -1 };
	cJSON *v = base_values(r);
	cli_result(r, &res);
	if (res.status == ACTION_OK && r->vw.cmd == VELERO_CMD_BACKUP_GET && velero_output_json(&r->vw))
		finish_listing(r, &res, v);
	finish(r, &res, v);
}

static void finish_followed(struct action_run *r)
{
	struct action_result res = { .exit_code = r->main_res.exit_code, .signo = r->main_res.signo };
	cJSON *v = velero_obj_progress(&r->obj);
	const struct velero_obj *o = &r->obj;
	const char *phase = o->phase_text;
	bool ok = (r->accept & (1u << o->phase)) != 0;
	res.status = ok ? ACTION_OK : ACTION_FAILED;
	if (o->phase == VELERO_PHASE_FAILED_VALIDATION)
		action_summary(&res, "%s %s %s: %s", r->object, o->name, phase,
			       o->validation_error[0] ? o->validation_error : "no reason given");
	else if (o->phase == VELERO_PHASE_FAILED && o->failure_reason[0])
		action_summary(&res, "%s %s %s: %s", r->object, o->name, phase, o->failure_reason);
	else
		action_summary(&res, "%s %s %s%s: %lld of %lld items %s, %lld warning%s, %lld error%s",
			       r->object, o->name, phase,
			       ok && o->phase != VELERO_PHASE_COMPLETED ? " (accepted)" : "",
			       (long long)o->items_done, (long long)o->items_total,
			       !strcmp(r->object, "restore") ? "restored" : "backed up",
			       (long long)o->warnings, o->warnings == 1 ? "" : "s",
			       (long long)o->errors, o->errors == 1 ? "" : "s");
	cJSON_AddStringToObject(v, "kind", r->object);
	velero_obj_add_details(o, v);
	cJSON_AddNumberToObject(v, "polls", r->polls);
	if (!r->logs_started)
		cJSON_AddStringToObject(v, "logs", "none: it never ran");
	else if (r->cancelled)
		cJSON_AddStringToObject(v, "logs", "cancelled");
	else if (r->logs_res.exit_code == 0)
		cJSON_AddStringToObject(v, "logs", "attached");
	else
		cJSON_AddStringToObject(v, "logs", "the logs command failed");
	if (r->simulator)
		cJSON_AddTrueToObject(v, "simulator");
	finish(r, &res, v);
}

static void finish_unknown(struct action_run *r, const char *why)
{
	struct action_result res = { .status = ACTION_UNKNOWN,
				     .exit_code = r->main_res.exit_code,
				     .signo = r->main_res.signo };
	cJSON *v = base_values(r);
	action_summary(&res, "%s", why);
	if (r->name)
		cJSON_AddStringToObject(v, "name", r->name);
	if (r->have_obj)
		cJSON_AddItemToObject(v, "last", velero_obj_progress(&r->obj));
	cJSON_AddNumberToObject(v, "polls", r->polls);
	finish(r, &res, v);
}

/* ---- lines of output ---- */

static void note_err_line(struct action_run *r, const char *line)
{
	if (!strncmp(line, SIM_MARKER, strlen(SIM_MARKER))) {
		r->simulator = true;
		return;
	}
	if (*line)
		snprintf(r->last_err, sizeof r->last_err, "%s", line);
}

static void follow_start(struct action_run *r, const char *name);

/* `Restore request "NAME" submitted successfully.` */
static void note_out_line(struct action_run *r, const char *line)
{
	char prefix[32];
	if (!r->object || r->name)
		return;
	snprintf(prefix, sizeof prefix, "%c%s request \"", r->object[0] - 'a' + 'A', r->object + 1);
	size_t plen = strlen(prefix);
	if (strncmp(line, prefix, plen))
		return;
	const char *end = strchr(line + plen, '"');
	if (!end || end == line + plen || strcmp(end, "\" submitted successfully."))
		return;
	char *name = xstrndup(line + plen, (size_t)(end - line - plen));
	follow_start(r, name);
	free(name);
}

/* Splits a stream into lines (longer ones are cut at LINE_MAX_BYTES). */
static void scan_lines(struct action_run *r, struct buf *line, const char *data,
		       size_t len, void (*fn)(struct action_run *, const char *))
{
	for (size_t i = 0; i < len; i++) {
		if (data[i] != '\n') {
			buf_addc(line, data[i]);
			continue;
		}
		if (line->len && line->data[line->len - 1] == '\r')
			line->data[--line->len] = '\0';
		fn(r, line->data);
		buf_reset(line);
	}
}

static void emit_line(struct action_run *r, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void emit_line(struct action_run *r, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	buf_init(&b, BUF_UNLIMITED);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	buf_addc(&b, '\n');
	emit(r, PROC_STDERR, b.data, b.len);
	buf_release(&b);
}

/* ---- the sequence ---- */

static void advance(struct action_run *r);
static void poll_start(struct action_run *r);

static struct proc *spawn(struct action_run *r, struct strv *argv,
			  proc_output_fn *out, proc_exit_fn *ex, struct err *e)
{
	struct proc_spec spec = {
		.argv = (const char *const *)argv->v,
		.env = r->ctx.env,
		.grace_ms = r->ctx.grace_ms,
		.on_output = out,
		.on_exit = ex,
		.die_with_parent = true, /* polls and logs never outlive qrh */
		.arg = r,
	};
	return proc_spawn(r->ctx.reaper, &spec, e);
}

static void on_poll_timer(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	(void)l;
	(void)id;
	r->poll_timer = 0;
	enter(r);
	poll_start(r);
	if (!r->poll && !r->poll_timer)
		advance(r);
	leave(r);
}

static void follow_start(struct action_run *r, const char *name)
{
	r->name = xstrdup(name);
	if (!r->poll && !r->poll_timer && !r->cancelled)
		poll_start(r);
}

static void report_phase(struct action_run *r, const struct velero_obj *before)
{
	const struct velero_obj *o = &r->obj;
	if (before && !strcmp(before->phase_text, o->phase_text))
		return;
	const char *phase = o->phase_text[0] ? o->phase_text : "New (not processed yet)";
	if (o->phase == VELERO_PHASE_FAILED_VALIDATION)
		emit_line(r, "qrh: %s %s %s: %s", r->object, o->name, phase, o->validation_error);
	else if (o->phase == VELERO_PHASE_FAILED && o->failure_reason[0])
		emit_line(r, "qrh: %s %s %s: %s", r->object, o->name, phase, o->failure_reason);
	else
		emit_line(r, "qrh: %s %s %s: %lld of %lld items, %lld warnings, %lld errors%s",
			  r->object, o->name, phase, (long long)o->items_done,
			  (long long)o->items_total, (long long)o->warnings,
			  (long long)o->errors,
			  velero_phase_partial(o->phase) ? " (partially failed)" : "");
}

/* The last line of a short command's stderr that is not the simulator's
 * marker (which it notes). */
static void last_err_line(struct action_run *r, const struct buf *b, char *out,
			  size_t n)
{
	out[0] = '\0';
	for (const char *p = b->data; *p;) {
		size_t len = strcspn(p, "\n");
		if (!strncmp(p, SIM_MARKER, strlen(SIM_MARKER)))
			r->simulator = true;
		else if (len)
			snprintf(out, n, "%.*s", (int)len, p);
		p += len + (p[len] == '\n');
	}
}

static void poll_read(struct action_run *r, const struct proc_result *pr)
{
	struct err e = { "" };
	char last[ERR_LINE_MAX];
	last_err_line(r, &r->poll_err, last, sizeof last);
	if (pr->exit_code != 0 || pr->signo) {
		snprintf(r->poll_error, sizeof r->poll_error, "velero exited %d%s%s",
			 pr->exit_code, last[0] ? ": " : "", last);
		r->poll_failures++;
		return;
	}
	cJSON *doc = cJSON_ParseWithLength(r->poll_out.data, r->poll_out.len);
	const cJSON *item = doc ? velero_doc_item(doc, r->name, &e) : NULL;
	struct velero_obj o;
	if (!doc)
		err_set(&e, "the output is not JSON");
	if (item && velero_obj_read(item, &o, &e) == 0 && strcasecmp(o.kind, r->object))
		err_set(&e, "asked for a %s, got a %s", r->object, o.kind);
	if (!item || e.msg[0]) {
		snprintf(r->poll_error, sizeof r->poll_error, "%s", e.msg);
		r->poll_failures++;
		cJSON_Delete(doc);
		return;
	}
	cJSON_Delete(doc);
	struct velero_obj before = r->obj;
	bool had = r->have_obj;
	r->obj = o;
	r->have_obj = true;
	r->poll_failures = 0;
	report_phase(r, had ? &before : NULL);
	if (r->ctx.sink.progress && !r->dead) {
		cJSON *p = velero_obj_progress(&r->obj);
		cJSON_AddNumberToObject(p, "polls", r->polls);
		r->ctx.sink.progress(r->ctx.sink.arg, p);
		cJSON_Delete(p);
	}
}

static void on_poll_output(struct proc *p, enum proc_stream stream,
			   const char *data, size_t len, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	buf_add(stream == PROC_STDOUT ? &r->poll_out : &r->poll_err, data, len);
}

static void on_poll_exit(struct proc *p, const struct proc_result *pr, void *arg)
{
	struct action_run *r = arg;
	enter(r);
	r->polls++;
	if (!pr->cancelled)
		poll_read(r, pr);
	proc_free(p);
	r->poll = NULL;
	if (r->dead) {
		leave(r);
		return;
	}
	if (r->poll_failures >= POLL_FAILURES_MAX)
		r->lost = true;
	bool again = !r->cancelled && !r->lost &&
		     !(r->have_obj && velero_phase_terminal(r->obj.phase));
	if (again) {
		int64_t spent = (clock_mono_ns() - r->poll_started_ns) / 1000000;
		r->poll_timer = loop_timer_add(r->ctx.loop, r->every_ms - spent, on_poll_timer, r);
	}
	advance(r);
	leave(r);
}

static void poll_start(struct action_run *r)
{
	struct strv argv = { 0 };
	struct err e = { "" };
	strv_push(&argv, r->argv.v[0]);
	strv_push(&argv, r->object);
	strv_push(&argv, "get");
	strv_push(&argv, r->name);
	strv_push(&argv, "-o");
	strv_push(&argv, "json");
	for (size_t i = 0; i < r->flags.n; i++)
		strv_push(&argv, r->flags.v[i]);
	buf_reset(&r->poll_out);
	buf_reset(&r->poll_err);
	r->poll_started_ns = clock_mono_ns();
	r->poll = spawn(r, &argv, on_poll_output, on_poll_exit, &e);
	strv_release(&argv);
	if (!r->poll) {
		/* the binary went away: count it like a failed poll */
		snprintf(r->poll_error, sizeof r->poll_error, "%s", e.msg);
		if (++r->poll_failures >= POLL_FAILURES_MAX)
			r->lost = true;
		else
			r->poll_timer = loop_timer_add(r->ctx.loop, r->every_ms, on_poll_timer, r);
	}
}

static void on_logs_output(struct proc *p, enum proc_stream stream,
			   const char *data, size_t len, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	if (stream == PROC_STDERR && !r->simulator && memmem(data, len, SIM_MARKER, strlen(SIM_MARKER)))
		r->simulator = true;
	enter(r);
	emit(r, stream, data, len);
	leave(r);
}

static void on_logs_exit(struct proc *p, const struct proc_result *pr, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	enter(r);
	r->logs_done = true;
	r->logs_res = *pr;
	advance(r);
	leave(r);
}

static void logs_start(struct action_run *r)
{
	struct strv argv = { 0 };
	struct err e = { "" };
	struct buf sep;
	r->logs_started = true;
	buf_init(&sep, BUF_UNLIMITED);
	buf_addf(&sep, "--- velero %s logs %s ---\n", r->object, r->name);
	emit(r, PROC_STDOUT, sep.data, sep.len);
	buf_release(&sep);
	if (r->dead)
		return;
	strv_push(&argv, r->argv.v[0]);
	strv_push(&argv, r->object);
	strv_push(&argv, "logs");
	strv_push(&argv, r->name);
	for (size_t i = 0; i < r->flags.n; i++)
		strv_push(&argv, r->flags.v[i]);
	r->logs = spawn(r, &argv, on_logs_output, on_logs_exit, &e);
	strv_release(&argv);
	if (!r->logs) {
		emit_line(r, "qrh: %s", e.msg);
		r->logs_done = true;
		r->logs_res.exit_code = -1;
	}
}

/* The name when the CLI did not print it: the one given, else the CLI's
 * default `<backup or schedule>-<timestamp>`. */
static void guess_name(struct action_run *r)
{
	char name[VELERO_NAME_MAX];
	const char *src = r->vw.from_backup ? r->vw.from_backup : r->vw.from_schedule;
	if (r->vw.name)
		snprintf(name, sizeof name, "%s", r->vw.name);
	else if (src && !strcmp(r->object, "restore"))
		snprintf(name, sizeof name, "%s-%s", src, r->stamp);
	else
		return;
	emit_line(r, "qrh: the CLI did not say which %s it created: following '%s'", r->object, name);
	if (!r->dead)
		follow_start(r, name);
}

/* Decides what comes next after any event; finishes when nothing runs. */
static void advance(struct action_run *r)
{
	if (r->finished || r->dead)
		return;
	bool in_logs = r->logs_started;
	if (r->cancelled && !in_logs) {
		if (!running(r)) {
			if (r->poll_timer)
				loop_timer_cancel(r->ctx.loop, r->poll_timer);
			r->poll_timer = 0;
			finish_cancelled(r);
		}
		return;
	}
	if (!r->main_done)
		return; /* polls may already be following the object */
	if (!r->object) {
		finish_plain(r);
		return;
	}
	if (in_logs) {
		if (r->logs_done)
			finish_followed(r);
		return;
	}
	if (!r->name) {
		if (r->main_res.exit_code != 0 || r->main_res.signo) {
			finish_plain(r); /* nothing was created */
			return;
		}
		guess_name(r);
		if (r->dead)
			return;
		if (!r->name) {
			finish_unknown(r, "velero exited 0 but did not say which object it created");
			return;
		}
	}
	if (r->poll || r->poll_timer)
		return;
	if (r->lost) {
		struct buf why;
		buf_init(&why, BUF_UNLIMITED);
		buf_addf(&why, "lost track of %s %s after %d failed polls: %s", r->object,
			 r->name, POLL_FAILURES_MAX, r->poll_error);
		finish_unknown(r, why.data);
		buf_release(&why);
		return;
	}
	if (r->have_obj && velero_phase_terminal(r->obj.phase)) {
		/* FailedValidation: Velero never ran it, so it wrote no logs */
		if (r->obj.phase == VELERO_PHASE_FAILED_VALIDATION)
			finish_followed(r);
		else
			logs_start(r);
		if (r->logs_started && r->logs_done)
			finish_followed(r);
		return;
	}
	poll_start(r);
	if (!r->poll && !r->poll_timer)
		advance(r); /* it could not start, and that was the last try */
}

/* ---- the main command ---- */

static void on_main_output(struct proc *p, enum proc_stream stream,
			   const char *data, size_t len, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	enter(r);
	/* what qrh reads first: the output's receiver may free the run */
	if (stream == PROC_STDERR) {
		scan_lines(r, &r->err_line, data, len, note_err_line);
	} else {
		scan_lines(r, &r->out_line, data, len, note_out_line);
		if (r->vw.cmd == VELERO_CMD_BACKUP_GET && velero_output_json(&r->vw) &&
		    buf_add(&r->listing, data, len) < 0)
			r->listing_full = true;
	}
	emit(r, stream, data, len);
	leave(r);
}

static void on_main_exit(struct proc *p, const struct proc_result *pr, void *arg)
{
	struct action_run *r = arg;
	(void)p;
	enter(r);
	r->main_done = true;
	r->main_res = *pr;
	scan_lines(r, &r->out_line, "\n", 1, note_out_line);
	scan_lines(r, &r->err_line, "\n", 1, note_err_line);
	advance(r);
	leave(r);
}

static int on_main_spawn(pid_t pgid, uint64_t start_ticks, void *arg, struct err *e)
{
	struct action_run *r = arg;
	(void)e;
	r->ctx.sink.process(r->ctx.sink.arg, pgid, start_ticks);
	return 0;
}

/* Stops everything at once: no callback of ours comes after this. */
static void stop_all(struct action_run *r)
{
	proc_free(r->main);
	proc_free(r->poll);
	proc_free(r->logs);
	r->main = r->poll = r->logs = NULL;
	if (r->poll_timer)
		loop_timer_cancel(r->ctx.loop, r->poll_timer);
	r->poll_timer = 0;
	action_later_release(&r->later);
}

static void release(struct action_run *r)
{
	strv_release(&r->argv);
	strv_release(&r->flags);
	buf_release(&r->out_line);
	buf_release(&r->err_line);
	buf_release(&r->listing);
	buf_release(&r->poll_out);
	buf_release(&r->poll_err);
	free(r->binary);
	free(r->pick);
	free(r->name);
	free(r);
}

static void run_free(struct action_run *r)
{
	stop_all(r);
	r->dead = true;
	if (r->depth == 0)
		release(r);
}

static struct action_run *velero_start(const struct action *a,
				       const struct action_ctx *ctx,
				       struct err *e)
{
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->started_ns = clock_mono_ns();
	buf_init(&r->out_line, LINE_MAX_BYTES);
	buf_init(&r->err_line, LINE_MAX_BYTES);
	buf_init(&r->listing, LISTING_MAX);
	buf_init(&r->poll_out, POLL_OUT_MAX);
	buf_init(&r->poll_err, POLL_ERR_MAX);
	if (build_command(a, ctx->target, ctx->lookup, ctx->lookup_arg, &r->argv, &r->flags, e) < 0) {
		run_free(r);
		return NULL;
	}
	read_words(&r->argv, r->flags.n, &r->vw);
	r->object = object_followed(&r->vw);
	r->pick = xstrdup_or_null(a->pick);
	r->accept = accept_of(a);
	r->every_ms = a->every_ms >= 0 ? a->every_ms : EVERY_DEFAULT_MS;
	time_t now = time(NULL);
	struct tm tm;
	if (localtime_r(&now, &tm))
		strftime(r->stamp, sizeof r->stamp, "%Y%m%d%H%M%S", &tm);
	struct proc_spec spec = {
		.argv = (const char *const *)r->argv.v,
		.env = ctx->env,
		.cwd = NULL,
		.grace_ms = ctx->grace_ms,
		.on_output = on_main_output,
		.on_exit = on_main_exit,
		.on_spawn = ctx->sink.process ? on_main_spawn : NULL,
		.die_with_parent = ctx->die_with_qrh,
		.arg = r,
	};
	struct buf cwd;
	buf_init(&cwd, 4096);
	if (a->cwd && vars_expand(a->cwd, ctx->lookup, ctx->lookup_arg, &cwd, e) < 0) {
		buf_release(&cwd);
		run_free(r);
		return NULL;
	}
	spec.cwd = a->cwd ? cwd.data : NULL;
	r->main = proc_spawn(ctx->reaper, &spec, e);
	buf_release(&cwd);
	if (!r->main) {
		run_free(r);
		return NULL;
	}
	return r;
}

static void velero_cancel(struct action_run *r, enum action_cancel_reason why)
{
	if (r->finished)
		return;
	if (!r->cancelled)
		r->why = why;
	r->cancelled = true;
	if (r->main && !r->main_done)
		proc_cancel(r->main);
	if (r->poll)
		proc_cancel(r->poll);
	if (r->logs && !r->logs_done)
		proc_cancel(r->logs);
	if (r->poll_timer)
		loop_timer_cancel(r->ctx.loop, r->poll_timer);
	r->poll_timer = 0;
	advance(r);
}

static void velero_pause(struct action_run *r, bool pause)
{
	if (r->main && !r->main_done)
		proc_pause_output(r->main, pause);
	if (r->logs && !r->logs_done)
		proc_pause_output(r->logs, pause);
}

static void velero_free(struct action_run *r)
{
	if (r)
		run_free(r);
}

const struct action_entry action_velero = {
	.kind = ACTION_VELERO,
	.describe = velero_describe,
	.start = velero_start,
	.cancel = velero_cancel,
	.pause = velero_pause,
	.free = velero_free,
};
