/* qrh team init|check|sync: set up the team database, check its grants,
 * and ship what linked runs left in the local journal. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "state/journal_team.h"
#include "state/team.h"
#include "state/team_link.h"
#include "tui/cli.h"
#include "tui/sanitize.h"
#include "tui/team_cli.h"
#include "util/clock.h"

static void say(void *arg, const char *sql)
{
	(void)arg;
	printf("%s\n", sql);
	fflush(stdout);
}

static int team_check_print(PGconn *c)
{
	struct team_finding *f = NULL;
	size_t n = 0;
	struct err e;
	int problems = team_check(c, &f, &n, &e);
	for (size_t i = 0; i < n; i++)
		printf("%s %s\n", f[i].ok ? "ok     " : "PROBLEM", f[i].text);
	free(f);
	if (problems < 0) {
		cli_error("qrh team check: %s", e.msg);
		return QRH_EXIT_FAILED;
	}
	printf("%s\n", problems ? "the team database is NOT append-only for its writers"
				: "the team database is append-only for its writers");
	return problems ? QRH_EXIT_FAILED : QRH_EXIT_OK;
}

static int init(const char *conninfo, bool check_only)
{
	struct err e;
	PGconn *c = team_connect(conninfo, &e);
	if (!c) {
		cli_error("qrh team: %s", e.msg);
		return QRH_EXIT_FAILED;
	}
	int rc = QRH_EXIT_OK, from, to;
	if (!check_only) {
		if (team_init(c, say, NULL, &from, &to, &e) < 0) {
			cli_error("qrh team init: %s", e.msg);
			rc = QRH_EXIT_FAILED;
		} else if (from == to) {
			printf("-- the team schema is at version %d: nothing to do\n", to);
		} else {
			printf("-- the team schema is now at version %d (was %d)\n", to, from);
		}
	}
	if (rc == QRH_EXIT_OK && check_only)
		rc = team_check_print(c);
	PQfinish(c);
	return rc;
}

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	(void)arg;
	loop_stop(l);
}

/* Ships every linked run with something left, until done or the time is up. */
static int sync_runs(const char *conninfo, const char *journal_path, int64_t limit_s)
{
	struct err e;
	char *path = journal_path_default(journal_path, &e);
	struct journal *j = path ? journal_open(path, &e) : NULL;
	free(path);
	struct loop *l = j ? loop_new(&e) : NULL;
	struct team_link *t = l ? team_link_new(l, j, conninfo, &e) : NULL;
	int rc = QRH_EXIT_FAILED;
	if (!t) {
		cli_error("qrh team sync: %s", e.msg);
		goto out;
	}
	int64_t start = clock_mono_ns();
	struct team_link_view v;
	team_link_kick(t);
	while ((clock_mono_ns() - start) / 1000000000 < limit_s) {
		uint64_t tick = loop_timer_add(l, 100, on_tick, NULL);
		loop_run(l);
		loop_timer_cancel(l, tick);
		if (team_link_synced(t))
			break;
	}
	team_link_view(t, &v);
	if (team_link_synced(t)) {
		printf("team: synced (%llu events shipped)\n", (unsigned long long)v.events_shipped);
		rc = QRH_EXIT_OK;
	} else {
		char line[160];
		team_link_describe(&v, line, sizeof line);
		cli_error("qrh team sync: %s%s%s", line, *v.error ? ": " : "", v.error);
	}
out:
	team_link_free(t);
	loop_free(l);
	journal_close(j);
	return rc;
}

int cmd_team(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "check", no_argument, 0, 'c' },
		{ "team", required_argument, 0, 't' },
		{ "journal", required_argument, 0, 'J' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *team = NULL, *journal = NULL;
	bool check = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'c')
			check = true;
		else if (c == 't')
			team = optarg;
		else if (c == 'J')
			journal = optarg;
		else if (c == 'h')
			return help_command("team");
		else
			return usage_error("team", "unknown option");
	}
	if (optind >= argc)
		return usage_error("team", "say init, check or sync");
	const char *what = argv[optind++];
	if (optind < argc && !team)
		team = argv[optind++];
	if (optind < argc)
		return usage_error("team", "unexpected argument '%s'", argv[optind]);
	char *conninfo = team_conninfo(team);
	if (!conninfo)
		return usage_error("team", "no team database: give CONNINFO, --team, $QRH_TEAM or "
				   "~/.config/qrh/team.conf");
	int rc;
	if (!strcmp(what, "init"))
		rc = init(conninfo, check);
	else if (!strcmp(what, "check"))
		rc = init(conninfo, true);
	else if (!strcmp(what, "sync"))
		rc = sync_runs(conninfo, journal, 60);
	else
		rc = usage_error("team", "unknown subcommand '%s' (init, check or sync)", what);
	free(conninfo);
	return rc;
}
