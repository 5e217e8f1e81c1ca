/* qrh run and qrh resume: load the runbook, gather variable values, open
 * the journal, set up the loop, and hand over to a front end. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runbooks/duration.h"
#include "runbooks/load.h"
#include "state/notify.h"
#include "state/journal.h"
#include "state/run.h"
#include "tui/cli.h"
#include "tui/console.h"
#include "tui/drill.h"
#include "tui/plain.h"
#include "tui/sandbox_ctl.h"
#include "tui/sanitize.h"
#include "tui/team_cli.h"
#include "util/clock.h"
#include "util/sha256.h"
#include "util/xalloc.h"

struct run_args {
	const char *cmd;
	bool plain, yes, dry_run, drill, quiet_output;
	bool rerun_interrupted, skip_interrupted, changed_ok, history;
	const char *operator_name;
	const char *journal;
	const char *team;   /* --team CONNINFO */
	int64_t grace_ms;
	struct strv given; /* NAME=value */
	struct strv typed; /* ID=WORD */
	struct strv faults; /* --fault NAME[=VALUE] */
	const char *target; /* RUNBOOK for run, RUN for resume */
	const char *head_file; /* --head-file: the head appended on leaving */
};

enum {
	OPT_YES = 'y', OPT_VAR = 'v', OPT_PLAIN = 256, OPT_DRY, OPT_DRILL,
	OPT_OPERATOR, OPT_JOURNAL, OPT_TYPED, OPT_GRACE, OPT_RERUN, OPT_SKIP,
	OPT_CHANGED, OPT_QUIET_OUTPUT, OPT_HEAD_FILE, OPT_HELP, OPT_TEAM, OPT_FAULT, OPT_HISTORY,
};

static const struct option run_options[] = {
	{ "plain", no_argument, 0, OPT_PLAIN },
	{ "yes", no_argument, 0, OPT_YES },
	{ "dry-run", no_argument, 0, OPT_DRY },
	{ "drill", no_argument, 0, OPT_DRILL },
	{ "operator", required_argument, 0, OPT_OPERATOR },
	{ "journal", required_argument, 0, OPT_JOURNAL },
	{ "typed", required_argument, 0, OPT_TYPED },
	{ "grace", required_argument, 0, OPT_GRACE },
	{ "var", required_argument, 0, OPT_VAR },
	{ "rerun-interrupted", no_argument, 0, OPT_RERUN },
	{ "skip-interrupted", no_argument, 0, OPT_SKIP },
	{ "runbook-changed-ok", no_argument, 0, OPT_CHANGED },
	{ "quiet-output", no_argument, 0, OPT_QUIET_OUTPUT },
	{ "team", required_argument, 0, OPT_TEAM },
	{ "head-file", required_argument, 0, OPT_HEAD_FILE },
	{ "help", no_argument, 0, OPT_HELP },
	{ "fault", required_argument, 0, OPT_FAULT },
	{ "history", no_argument, 0, OPT_HISTORY },
	{ 0, 0, 0, 0 },
};

static int parse_one(struct run_args *a, int c)
{
	const char *why;
	switch (c) {
	case OPT_PLAIN: a->plain = true; break;
	case OPT_YES: a->yes = true; break;
	case OPT_DRY: a->dry_run = true; break;
	case OPT_DRILL: a->drill = true; break;
	case OPT_OPERATOR: a->operator_name = optarg; break;
	case OPT_JOURNAL: a->journal = optarg; break;
	case OPT_RERUN: a->rerun_interrupted = true; break;
	case OPT_SKIP: a->skip_interrupted = true; break;
	case OPT_CHANGED: a->changed_ok = true; break;
	case OPT_QUIET_OUTPUT: a->quiet_output = true; break;
	case OPT_FAULT: strv_push(&a->faults, optarg); break;
	case OPT_HISTORY:
		if (strcmp(a->cmd, "drill"))
			return usage_error(a->cmd, "--history belongs to qrh drill");
		a->history = true;
		break;
	case OPT_TEAM: a->team = optarg; break;
	case OPT_HEAD_FILE: a->head_file = optarg; break;
	case OPT_VAR:
	case OPT_TYPED:
		if (!strchr(optarg, '=') || optarg[0] == '=')
			return usage_error(a->cmd, "%s takes NAME=VALUE, not '%s'",
					   c == OPT_VAR ? "-v" : "--typed", optarg);
		strv_push(c == OPT_VAR ? &a->given : &a->typed, optarg);
		break;
	case OPT_GRACE:
		if (duration_parse(optarg, &a->grace_ms, &why) < 0 || a->grace_ms == 0)
			return usage_error(a->cmd, "bad --grace '%s': %s", optarg,
					   a->grace_ms == 0 ? "must be more than 0" : why);
		break;
	default:
		return usage_error(a->cmd, "unknown option");
	}
	return 0;
}

static int parse_args(struct run_args *a, int argc, char **argv)
{
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "yv:", run_options, NULL)) != -1) {
		if (c == OPT_HELP)
			return help_command(a->cmd) == 0 ? -1 : -1;
		if (parse_one(a, c))
			return QRH_EXIT_USAGE;
	}
	if (a->faults.n && !a->drill)
		return usage_error(a->cmd, "--fault injects a fault into a drill: give --drill (or use qrh drill)");
	if (a->rerun_interrupted && a->skip_interrupted)
		return usage_error(a->cmd, "--rerun-interrupted and --skip-interrupted exclude each other");
	if (optind < argc)
		a->target = argv[optind++];
	if (optind < argc)
		return usage_error(a->cmd, "unexpected argument '%s'", argv[optind]);
	return 0;
}

static bool has_secrets(const struct runbook *rb)
{
	for (size_t i = 0; i < rb->n_vars; i++)
		if (rb->vars[i].secret)
			return true;
	return false;
}

/* -v NAME=SPEC: the value from where SPEC says (tui/cmd_vars.c). A secret
 * written on the command line works, with a warning: ps shows it. */
static int give_value(struct run *r, const struct run_args *a, const char *arg)
{
	struct err e;
	char *name = xstrdup(arg), *eq = strchr(name, '='), *value;
	bool literal;
	int rc = -1;

	*eq = '\0';
	const struct var *decl = runbook_var(run_runbook(r), name);
	if (!decl) {
		cli_error("qrh %s: the runbook declares no variable '%s'", a->cmd, name);
		free(name);
		return -1;
	}
	value = var_value_read(eq + 1, decl->secret, &literal, &e);
	if (!value) {
		cli_error("qrh %s: -v %s: %s", a->cmd, name, e.msg);
	} else {
		if (decl->secret && literal)
			cli_error("qrh %s: warning: the secret %s was given on the command "
				  "line, where ps and /proc show it to others: use -v %s=@FILE, "
				  "-v %s=@env:VAR or -v %s=@fd:N", a->cmd, name, name, name, name);
		rc = run_set_value(r, name, value, &e);
		if (rc < 0)
			cli_error("qrh %s: %s", a->cmd, e.msg);
		explicit_bzero(value, strlen(value));
		free(value);
	}
	free(name);
	return rc;
}

/* Gives every variable a value: -v first, then a prompt on a terminal. A
 * run that will hold a secret can no longer dump core before it has one. */
static int fill_values(struct run *r, const struct run_args *a)
{
	struct err e;
	if (has_secrets(run_runbook(r)) && secrets_protect(&e) < 0) {
		cli_error("qrh %s: %s", a->cmd, e.msg);
		return -1;
	}
	for (size_t i = 0; i < a->given.n; i++)
		if (give_value(r, a, a->given.v[i]) < 0)
			return -1;
	const struct var *missing[QRH_MAX_VARS];
	size_t n = run_missing_values(r, missing, QRH_MAX_VARS);
	for (size_t i = 0; i < n; i++) {
		const struct var *v = missing[i];
		if (a->dry_run) {
			char placeholder[QRH_MAX_ID_LEN + 3];
			snprintf(placeholder, sizeof placeholder, "<%s>", v->name);
			run_set_value(r, v->name, placeholder, &e);
			continue;
		}
		char prompt[512];
		char *text = v->prompt ? sanitize_string(v->prompt, strlen(v->prompt)) : NULL;
		snprintf(prompt, sizeof prompt, "%s%s%s: ", v->name, text ? " - " : "", text ? text : "");
		free(text);
		char *answer = a->yes && !isatty(STDIN_FILENO) ? NULL : plain_ask(prompt, v->secret);
		if (!answer) {
			fprintf(stderr, "qrh %s: variable '%s' has no value: give -v %s=VALUE\n",
				a->cmd, v->name, v->name);
			return -1;
		}
		run_set_value(r, v->name, answer, &e);
		explicit_bzero(answer, strlen(answer));
		free(answer);
	}
	return 0;
}

static void identity(struct run_opts *o, const struct run_args *a,
		     char *host, size_t host_len)
{
	struct passwd *pw = getpwuid(getuid());
	memset(o, 0, sizeof *o);
	o->os_user = pw ? pw->pw_name : "unknown";
	o->uid = (int64_t)getuid();
	if (gethostname(host, host_len) < 0)
		snprintf(host, host_len, "unknown");
	host[host_len - 1] = '\0';
	o->host = host;
	o->operator_name = a->operator_name;
	o->grace_ms = a->grace_ms;
	o->mode = a->dry_run ? RUN_DRY : a->drill ? RUN_DRILL : RUN_LIVE;
}

static struct runbook *load(const char *path, const char *text, size_t len)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = text ? runbook_load_buffer(path, text, len, RUNBOOK_AUTO, &d)
				  : runbook_load_file(path, &d);
	diags_print(stderr, path, &d);
	if (rb && d.n_errors) {
		runbook_free(rb);
		rb = NULL;
	}
	diags_release(&d);
	return rb;
}

struct session {
	struct journal *j;
	struct loop *loop;
	struct proc_reaper *reaper;
	struct run *run;
	struct runbook *rb;
	struct team_link *team;
};

static void session_close(struct session *s)
{
	run_free(s->run);
	team_link_free(s->team);
	proc_reaper_free(s->reaper);
	loop_free(s->loop);
	journal_close(s->j);
	runbook_free(s->rb);
}

/* Until plain mode routes them through the loop, the signals that end a
 * run wait: a hangup during start-up must not kill qrh half-way. Children
 * start with an empty mask (proc.c), so they are not affected. */
static void hold_signals(bool hold)
{
	sigset_t set;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	sigprocmask(hold ? SIG_BLOCK : SIG_UNBLOCK, &set, NULL);
}

static int session_open(struct session *s, const struct run_args *a)
{
	struct err e;
	char *path = journal_path_default(a->journal, &e);
	if (path)
		s->j = journal_open(path, &e);
	if (!s->j) {
		cli_error("qrh %s: cannot open the journal%s%s: %s", a->cmd,
			  path ? " " : "", path ? path : "", e.msg);
		fprintf(stderr, "qrh refuses to run without a journal: give --journal PATH\n");
		free(path);
		return -1;
	}
	free(path);
	s->loop = loop_new(&e);
	s->reaper = s->loop ? proc_reaper_new(s->loop, &e) : NULL;
	if (!s->reaper) {
		cli_error("qrh %s: %s", a->cmd, e.msg);
		return -1;
	}
	return 0;
}

/* The console when there is a terminal to draw on, else plain mode. */
static int drive_front(struct session *s, const struct run_args *a);

static bool use_console(const struct run_args *a)
{
	return !a->plain && !a->dry_run && isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
}

static void listener_for(const struct run_args *a, struct run_listener *lis)
{
	if (use_console(a))
		console_listener(lis);
	else
		plain_listener(lis);
}

/* Team mode: the run ships to the team database from now on. */
static int team_attach(struct session *s, const struct run_args *a)
{
	struct err e;
	char *conninfo = team_conninfo(a->team);
	if (!conninfo)
		return 0;
	s->team = team_link_new(s->loop, s->j, conninfo, &e);
	explicit_bzero(conninfo, strlen(conninfo));
	free(conninfo);
	if (!s->team || team_link_run(s->team, run_id(s->run), &e) < 0) {
		cli_error("qrh %s: --team: %s", a->cmd, e.msg);
		return -1;
	}
	run_set_team(s->run, s->team);
	return 0;
}

static int drive(struct session *s, const struct run_args *a)
{
	int rc = drive_front(s, a);
	if (s->team)
		team_drain(s->loop, s->team, use_console(a));
	return rc;
}

static int drive_front(struct session *s, const struct run_args *a)
{
	if (use_console(a)) {
		if (a->yes || a->typed.n || a->quiet_output || a->rerun_interrupted || a->skip_interrupted)
			fprintf(stderr, "qrh: --yes, --typed, --quiet-output and --rerun/--skip-interrupted "
					"apply to plain mode; the console asks (use --plain to use them)\n");
		char resume[512];
		if (a->journal)
			snprintf(resume, sizeof resume, "qrh resume --journal %s", a->journal);
		struct console_opts co = { .resumed = !strcmp(a->cmd, "resume"),
					   .resume_cmd = a->journal ? resume : NULL,
					   .on_signals_ready = hold_signals };
		return console_drive(s->run, s->loop, &co);
	}
	struct plain_opts po = {
		.yes = a->yes,
		.dry_run = a->dry_run,
		.quiet_output = a->quiet_output,
		.typed = a->typed,
		.interrupted = a->rerun_interrupted ? INTERRUPTED_RERUN
			       : a->skip_interrupted ? INTERRUPTED_SKIP
						     : INTERRUPTED_ASK,
	};
	po.on_signals_ready = hold_signals;
	if (s->team)
		team_status_start(s->loop, s->team);
	int rc = plain_drive(s->run, s->loop, &po);
	team_status_stop();
	return rc;
}

/* Notifications still on their way get one attempt's time, no more: a
 * webhook that hangs delays leaving, never a step. Signals end the wait
 * (their handlers belonged to the front end, which is gone). */
static void notifications_finish(struct session *s)
{
	const struct notify *cfg = &s->rb->notify;
	int64_t grace = cfg->timeout_ms > 0 ? cfg->timeout_ms : NOTIFY_TIMEOUT_MS;
	int64_t until = clock_mono_ns() / 1000000 + grace + 1000;
	const char *why = NULL;
	struct err e;

	run_notify_leave(s->run);
	if (!run_notify_pending(s->run))
		return;
	int sigs[] = { SIGINT, SIGTERM, SIGHUP };
	for (size_t k = 0; k < 3; k++)
		loop_signal(s->loop, sigs[k], NULL, NULL, &e);
	hold_signals(false);
	while (run_notify_pending(s->run) && clock_mono_ns() / 1000000 < until)
		if (loop_run_once(s->loop, 100) < 0 && errno != EINTR)
			break;
	size_t lost = run_notify_lost(s->run, &why);
	if (lost)
		cli_error("qrh: %zu notification%s not delivered after the run ended (so not "
			  "journaled); the last: %s", lost, lost == 1 ? " was" : "s were", why);
	if (run_notify_pending(s->run))
		cli_error("qrh: %zu notification%s still unsent on leaving: the webhook did not "
			  "answer in time", run_notify_pending(s->run),
			  run_notify_pending(s->run) == 1 ? "" : "s");
}

/* The head on leaving, printed (after the console has given the terminal
 * back) for the operator to paste into a ticket, and appended to
 * --head-file. */
static void head_leave(struct session *s, const struct run_args *a)
{
	struct journal_head h;
	struct err e;
	int64_t id = run_id(s->run);

	if (!s->j || id <= 0 || journal_head(s->j, id, &h, &e) < 0 || !h.seq)
		return;
	printf("journal head %lld:%lld:%s\n", (long long)id, (long long)h.seq, h.hash);
	fflush(stdout);
	bool live = true;
	struct journal_run jr;
	if (journal_run_get(s->j, id, &jr, &e) > 0) {
		live = jr.outcome == NULL;
		journal_run_release(&jr);
	}
	if (a->head_file && head_file_append(a->head_file, id, &h, live, &e) < 0)
		cli_error("qrh %s: %s", a->cmd, e.msg);
}

static int drive_and_leave(struct session *s, const struct run_args *a)
{
	int rc = drive(s, a);
	notifications_finish(s);
	head_leave(s, a);
	return rc;
}

void plain_print_setup(const struct runbook *rb, bool quiet_output);

static void args_release(struct run_args *a)
{
	strv_release(&a->given);
	strv_release(&a->typed);
	strv_release(&a->faults);
}

/* qrh run and qrh drill: a new run. A drill takes the sandbox's values
 * and the trainer's faults (tui/drill.h). */
static int run_main(struct run_args *a, int argc, char **argv)
{
	int rc = parse_args(a, argc, argv);
	if (rc)
		return rc < 0 ? QRH_EXIT_OK : rc;
	if (!a->target)
		return usage_error(a->cmd, "no runbook given");
	if (a->history)
		return drill_history(a->journal, a->target);
	struct session s = { 0 };
	struct drill dr = { 0 };
	struct run_opts o;
	char host[256];
	struct run_listener lis;
	struct err e;
	rc = QRH_EXIT_USAGE;
	s.rb = load(a->target, NULL, 0);
	if (!s.rb)
		goto out;
	identity(&o, a, host, sizeof host);
	if (a->drill) {
		if (drill_setup(&dr, s.rb, &a->faults, use_console(a), a->cmd) < 0)
			goto out;
		o.drill_faults = dr.faults;
		o.sandbox_dir = dr.sandbox ? sandbox_dir() : NULL;
	}
	s.run = run_new(s.rb, &o);
	if (a->drill)
		drill_values(&dr, s.run, &a->given);
	if (fill_values(s.run, a) < 0 || session_open(&s, a) < 0)
		goto out;
	listener_for(a, &lis);
	plain_print_setup(s.rb, a->quiet_output);
	hold_signals(true);
	if (run_open(s.run, s.j, s.loop, s.reaper, &lis, &e) < 0) {
		cli_error("qrh %s: %s", a->cmd, e.msg);
		goto out;
	}
	if (team_attach(&s, a) < 0)
		goto out;
	rc = drive_and_leave(&s, a);
	if (a->drill)
		drill_after(&dr, s.j, run_id(s.run), true);
out:
	drill_release(&dr);
	session_close(&s);
	args_release(a);
	return rc;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .cmd = "run" };
	return run_main(&a, argc, argv);
}

int cmd_drill(int argc, char **argv)
{
	struct run_args a = { .cmd = "drill", .drill = true };
	return run_main(&a, argc, argv);
}

/* Which run to resume: the one named, or the newest unfinished. */
static int pick_run(struct session *s, const struct run_args *a, int64_t *id)
{
	struct err e;
	if (a->target) {
		char *end;
		*id = strtoll(a->target, &end, 10);
		if (*end || *id <= 0)
			return usage_error("resume", "RUN is a run number, not '%s'", a->target), -1;
		return 0;
	}
	int found = journal_run_find_unfinished(s->j, id, &e);
	if (found <= 0) {
		cli_error("qrh resume: %s", found < 0 ? e.msg : "no unfinished run in the journal");
		return -1;
	}
	return 0;
}

/* Loads the runbook of the run: the file as it is now when it is
 * unchanged (or the change is accepted), else refuses. */
static int load_for_resume(struct session *s, const struct run_args *a,
			   const struct journal_run *jr, bool *changed)
{
	struct runbook *now = load(jr->runbook_path, NULL, 0);
	char sha[SHA256_HEX_LEN + 1] = "";
	if (now)
		sha256_hex(now->source, now->source_len, sha);
	*changed = !now || strcmp(sha, jr->runbook_sha256) != 0;
	if (*changed && !a->changed_ok) {
		char *p = sanitize_string(jr->runbook_path, strlen(jr->runbook_path));
		fprintf(stderr, "qrh resume: the runbook %s has changed since run %lld started "
				"(or cannot be read); give --runbook-changed-ok to resume with it as it is now\n",
			p, (long long)jr->id);
		free(p);
		runbook_free(now);
		return -1;
	}
	if (!now) /* accepted and unreadable: the journal keeps the text it ran */
		now = load(jr->runbook_path, jr->runbook_text, jr->runbook_len);
	s->rb = now;
	return now ? 0 : -1;
}

/* The non-secret values the run started with (secrets are never in the
 * journal: they must be given again). */
static void restore_values(struct run *r, const struct journal_run *jr)
{
	struct err e;
	cJSON *o = cJSON_Parse(jr->vars_json ? jr->vars_json : "{}");
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(o, "vars");
	const cJSON *v;
	cJSON_ArrayForEach(v, vars)
	{
		const struct var *decl = runbook_var(run_runbook(r), v->string);
		if (cJSON_IsString(v) && decl && !decl->secret)
			run_set_value(r, v->string, v->valuestring, &e);
	}
	cJSON_Delete(o);
}

int cmd_resume(int argc, char **argv)
{
	struct run_args a = { .cmd = "resume" };
	int rc = parse_args(&a, argc, argv);
	if (rc)
		return rc < 0 ? QRH_EXIT_OK : rc;
	struct session s = { 0 };
	struct journal_run jr = { 0 };
	struct run_opts o;
	struct run_listener lis;
	struct err e;
	char host[256];
	int64_t id;
	bool changed = false;
	rc = QRH_EXIT_USAGE;
	if (session_open(&s, &a) < 0 || pick_run(&s, &a, &id) < 0)
		goto out;
	int got = journal_run_get(s.j, id, &jr, &e);
	if (got <= 0) {
		cli_error("qrh resume: %s", got < 0 ? e.msg : "no such run");
		goto out;
	}
	if (load_for_resume(&s, &a, &jr, &changed) < 0)
		goto out;
	identity(&o, &a, host, sizeof host);
	s.run = run_new(s.rb, &o);
	restore_values(s.run, &jr);
	if (fill_values(s.run, &a) < 0)
		goto out;
	listener_for(&a, &lis);
	plain_print_setup(s.rb, a.quiet_output);
	hold_signals(true);
	if (run_reopen(s.run, s.j, s.loop, s.reaper, &lis, id, changed, &e) < 0) {
		cli_error("qrh resume: %s", e.msg);
		goto out;
	}
	if (team_attach(&s, &a) < 0)
		goto out;
	rc = drive_and_leave(&s, &a);
	if (jr.mode && !strcmp(jr.mode, "drill")) {
		struct drill dr = { .sandbox = sandbox_exists(), .quiet = use_console(&a) };
		drill_after(&dr, s.j, id, true);
	}
out:
	journal_run_release(&jr);
	session_close(&s);
	args_release(&a);
	return rc;
}
