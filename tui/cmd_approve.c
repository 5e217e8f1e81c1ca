/* qrh approve: the second identity of dual control answers a step's
 * request, on this machine (the console's socket: the kernel names our
 * uid) or through the team database (--team: the server names our
 * role). Shows what exactly will run before asking. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/approval_sock.h"
#include "state/team.h"
#include "state/team_approve.h"
#include "tui/cli.h"
#include "tui/plain.h"
#include "tui/sanitize.h"
#include "tui/team_cli.h"

#define ANSWER_TIMEOUT_MS 30000

struct approve_args {
	const char *team;
	bool team_given;
	bool refuse;
	bool yes;
	const char *comment;
	const char *run;
	const char *step;
};

static void show(const char *label, const char *text)
{
	char *clean = sanitize_string(text, strlen(text));
	printf("%-10s %s\n", label, clean);
	free(clean);
}

static void show_command(const char *cmd)
{
	printf("It runs:\n");
	for (const char *p = cmd; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		char *line = sanitize_string(p, n);
		printf("    %s\n", line);
		free(line);
		p += n + (nl ? 1 : 0);
	}
}

/* Asks on the terminal unless --yes; true to go on. */
static bool agree(const struct approve_args *a)
{
	if (a->yes)
		return true;
	if (!isatty(STDIN_FILENO)) {
		cli_error("qrh approve: give --yes, or answer on a terminal");
		return false;
	}
	char *line = plain_ask(a->refuse ? "Refuse it? [y/N] " : "Approve it? [y/N] ", false);
	bool ok = line && (!strcmp(line, "y") || !strcmp(line, "yes"));
	free(line);
	return ok;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static double jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static const cJSON *pending_step(const cJSON *hello, const char *step)
{
	const cJSON *x;
	cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(hello, "pending"))
	{
		char num[24];
		snprintf(num, sizeof num, "%.0f", jnum(x, "step"));
		if (!strcmp(jstr(x, "step_id"), step) || !strcmp(num, step))
			return x;
	}
	return NULL;
}

static int local(const struct approve_args *a)
{
	struct err e;
	int fd;
	uid_t cuid;
	cJSON *hello = NULL, *reply = NULL;
	if (approval_sock_connect(a->run, ANSWER_TIMEOUT_MS, &fd, &cuid, &hello, &e) < 0) {
		cli_error("qrh approve: %s", e.msg);
		return QRH_EXIT_FAILED;
	}
	int rc = QRH_EXIT_FAILED;
	const cJSON *p = pending_step(hello, a->step);
	if (!p) {
		cli_error("qrh approve: step '%s' of run %s awaits no approval", a->step, a->run);
		goto out;
	}
	show("run", jstr(hello, "title"));
	printf("%-10s %s (uid %u)\n", "operator", jstr(hello, "operator"), (unsigned)cuid);
	show("step", jstr(p, "title"));
	show_command(jstr(p, "command"));
	if (!agree(a))
		goto out;
	cJSON *ans = cJSON_CreateObject();
	cJSON_AddStringToObject(ans, "step_id", jstr(p, "step_id"));
	cJSON_AddNumberToObject(ans, "request_seq", jnum(p, "request_seq"));
	cJSON_AddStringToObject(ans, "command_sha256", jstr(p, "command_sha256"));
	cJSON_AddStringToObject(ans, "decision", a->refuse ? "refuse" : "approve");
	cJSON_AddStringToObject(ans, "comment", a->comment ? a->comment : "");
	int ok = approval_sock_ask(fd, ans, ANSWER_TIMEOUT_MS, &reply, &e);
	cJSON_Delete(ans);
	if (ok < 0) {
		cli_error("qrh approve: %s", e.msg);
		goto out;
	}
	const cJSON *yes = cJSON_GetObjectItemCaseSensitive(reply, "ok");
	if (cJSON_IsTrue(yes)) {
		printf("approved: step %s of run %s may run\n", jstr(p, "step_id"), a->run);
		rc = QRH_EXIT_OK;
	} else {
		cli_error("qrh approve: %s: %s", a->refuse ? "journaled" : "refused",
			  jstr(reply, "message"));
	}
out:
	cJSON_Delete(hello);
	cJSON_Delete(reply);
	close(fd);
	return rc;
}

static int team(const struct approve_args *a, const char *conninfo)
{
	struct err e;
	PGconn *c = team_connect(conninfo, &e);
	struct team_pending p = { 0 };
	int rc = QRH_EXIT_FAILED;
	if (!c || team_approval_pending(c, a->run, a->step, &p, &e) < 0) {
		cli_error("qrh approve: %s", e.msg);
		goto out;
	}
	show("run", p.uuid);
	show("operator", p.requester);
	show("you", p.role);
	show("step", jstr(p.request, "step_id"));
	show_command(jstr(p.request, "command"));
	if (p.answered)
		printf("(this request was already approved)\n");
	if (!agree(a))
		goto out;
	char id[UUID_TEXT_LEN + 1], reason[256];
	if (team_approval_send(c, &p, !a->refuse, a->comment, id, &e) < 0) {
		cli_error("qrh approve: %s", e.msg);
		goto out;
	}
	int v = team_approval_verdict(c, p.uuid, id, ANSWER_TIMEOUT_MS, reason, sizeof reason, &e);
	if (v < 0)
		cli_error("qrh approve: %s", e.msg);
	else if (v == 0)
		cli_error("qrh approve: %s: %s", a->refuse ? "journaled" : "refused", reason);
	else {
		printf("approved: step %s of run %s may run\n", jstr(p.request, "step_id"), p.uuid);
		rc = QRH_EXIT_OK;
	}
out:
	cJSON_Delete(p.request);
	PQfinish(c);
	return rc;
}

enum { OPT_TEAM = 256, OPT_REFUSE, OPT_COMMENT };

int cmd_approve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "team", required_argument, 0, OPT_TEAM },
		{ "refuse", no_argument, 0, OPT_REFUSE },
		{ "comment", required_argument, 0, OPT_COMMENT },
		{ "yes", no_argument, 0, 'y' },
		{ 0, 0, 0, 0 },
	};
	struct approve_args a = { 0 };
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "y", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TEAM: a.team_given = true; a.team = optarg; break;
		case OPT_REFUSE: a.refuse = true; break;
		case OPT_COMMENT: a.comment = optarg; break;
		case 'y': a.yes = true; break;
		default: return QRH_EXIT_USAGE;
		}
	}
	if (argc - optind != 2) {
		cli_error("usage: qrh approve [--team CONNINFO] [--refuse] [--comment TEXT] [--yes] RUN STEP");
		return QRH_EXIT_USAGE;
	}
	a.run = argv[optind];
	a.step = argv[optind + 1];
	if (!a.team_given)
		return local(&a);
	char *conninfo = team_conninfo(a.team);
	if (!conninfo) {
		cli_error("qrh approve: --team: no team database (give CONNINFO, $QRH_TEAM or team.conf)");
		return QRH_EXIT_USAGE;
	}
	int rc = team(&a, conninfo);
	free(conninfo);
	return rc;
}
