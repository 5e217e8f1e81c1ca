/* qrh list: the runs in the journal, newest first, one line each. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "state/team.h"
#include "tui/team_cli.h"
#include "util/clock.h"
#include "state/report.h"
#include "tui/cli.h"
#include "tui/sanitize.h"
#include "util/clock.h"

/* Seconds are enough to tell runs apart in a list. */
static void time_short(int64_t wall_ms, char out[RFC3339_MS_LEN])
{
	clock_rfc3339_ms(wall_ms, out);
	memcpy(out + 19, "Z", 2);
}

/* "done/total" from the run's events: the steps that are finished for good
 * over all steps; "?" when the report cannot be made. */
static void steps_format(struct journal *j, int64_t run_id, char *out,
			 size_t n)
{
	struct run_report r;
	struct err e;
	size_t done = 0;

	if (report_load(j, run_id, &r, &e) != 1) {
		snprintf(out, n, "?");
		return;
	}
	for (size_t i = 0; i < r.n_steps; i++)
		done += step_status_final(r.steps[i].status);
	snprintf(out, n, "%zu/%zu", done, r.n_steps);
	report_release(&r);
}

/* Even qrh's own words (mode, outcome) are read from a file that may
 * have been forged: everything printed goes through the sanitizer. */
static void run_line(struct journal *j, const struct journal_run *run)
{
	const char *outcome = run->outcome ? run->outcome : "unfinished";
	char when[RFC3339_MS_LEN], steps[48];
	char *title = sanitize_string(run->title, strlen(run->title));
	char *mode = sanitize_string(run->mode, strlen(run->mode));
	char *out = sanitize_string(outcome, strlen(outcome));

	time_short(run->started_ms, when);
	steps_format(j, run->id, steps, sizeof steps);
	printf("%5lld  %s  %-7s  %-11s  %-7s  %s\n", (long long)run->id, when,
	       mode, out, steps, title);
	free(title);
	free(mode);
	free(out);
}

/* qrh list --team: the team's runs, newest first. */
static int list_team(const char *team)
{
	struct err e;
	char *conninfo = team_conninfo(team);
	PGconn *c = conninfo ? team_connect(conninfo, &e) : NULL;
	free(conninfo);
	struct team_run *runs = NULL;
	size_t n = 0;
	if (!c || team_runs_list(c, &runs, &n, &e) < 0) {
		cli_error("qrh list --team: %s", e.msg);
		PQfinish(c);
		return QRH_EXIT_FAILED;
	}
	PQfinish(c);
	printf("%-8s  %-20s  %-7s  %-11s  %6s  %-24s  %s\n", "UUID", "STARTED", "MODE", "OUTCOME",
	       "EVENTS", "RUN@HOST BY", "TITLE");
	for (size_t i = 0; i < n; i++) {
		char when[RFC3339_MS_LEN], who[300], *title, *whos;
		clock_rfc3339_ms(runs[i].started_ms, when);
		when[19] = '\0';
		snprintf(who, sizeof who, "%lld@%s %s", runs[i].local_id, runs[i].host,
			 runs[i].operator_name);
		title = sanitize_string(runs[i].title, strlen(runs[i].title));
		whos = sanitize_string(who, strlen(who));
		printf("%.8s  %-20s  %-7s  %-11s  %6lld  %-24s  %s\n", runs[i].uuid, when,
		       runs[i].mode, *runs[i].outcome ? runs[i].outcome : "unfinished",
		       runs[i].events, whos, title);
		free(title);
		free(whos);
	}
	free(runs);
	return QRH_EXIT_OK;
}

int cmd_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'j' },
		{ "team", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL, *team = NULL;
	struct journal_run *runs = NULL;
	struct err e = { "" };
	struct journal *j;
	size_t n = 0;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 't')
			team = optarg;
		else if (c == 'h')
			return help_command("list");
		else
			return usage_error("list", "unknown option");
	}
	if (optind < argc)
		return usage_error("list", "unexpected argument");
	if (team)
		return list_team(team);
	j = journal_cli_open("list", journal);
	if (!j)
		return QRH_EXIT_USAGE;
	if (journal_runs_list(j, &runs, &n, &e) < 0) {
		journal_cli_error("list", &e);
		journal_close(j);
		return QRH_EXIT_FAILED;
	}
	if (n)
		printf("%5s  %-20s  %-7s  %-11s  %-7s  %s\n", "RUN", "STARTED",
		       "MODE", "OUTCOME", "STEPS", "TITLE");
	for (size_t i = 0; i < n; i++)
		run_line(j, &runs[i]);
	journal_runs_free(runs, n);
	journal_close(j);
	return QRH_EXIT_OK;
}
