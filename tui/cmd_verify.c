/* qrh verify: check the journal's integrity and hash chains, all runs or
 * one, and name the first broken event. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "tui/cli.h"
#include "tui/sanitize.h"

/* The head to anchor: the run's, or the newest run's when all were
 * checked. 0 when there is no run at all. */
static int head_find(struct journal *j, int64_t run_id, int64_t *head_run,
		     struct journal_head *head, struct err *e)
{
	struct journal_run *runs = NULL;
	size_t n = 0;

	if (run_id > 0) {
		*head_run = run_id;
		return journal_head(j, run_id, head, e) < 0 ? -1 : 1;
	}
	if (journal_runs_list(j, &runs, &n, e) < 0)
		return -1;
	if (n) {
		*head_run = runs[0].id;
		*head = runs[0].head;
	}
	journal_runs_free(runs, n);
	return n ? 1 : 0;
}

static int verify_ok(struct journal *j, int64_t run_id,
		     const struct journal_verify_result *res)
{
	struct journal_head head;
	struct err e = { "" };
	int64_t head_run = 0;
	int rc = head_find(j, run_id, &head_run, &head, &e);

	if (rc < 0) {
		journal_cli_error("verify", &e);
		return QRH_EXIT_FAILED;
	}
	printf("journal ok: %lld run%s, %lld events, head ",
	       (long long)res->runs_checked, res->runs_checked == 1 ? "" : "s",
	       (long long)res->events_checked);
	if (rc)
		printf("%lld:%lld:%.12s\n", (long long)head_run,
		       (long long)head.seq, head.hash);
	else
		printf("none\n");
	return QRH_EXIT_OK;
}

/* The detail is qrh's own words, but the integrity check's may quote
 * anything stored in the file. */
static int verify_broken(const struct journal_verify_result *res)
{
	char *detail = sanitize_string(res->detail, strlen(res->detail));
	const char *problem = journal_verify_problem_name(res->problem);

	if (res->problem == JOURNAL_VERIFY_INTEGRITY)
		printf("journal: %s: %s\n", problem, detail);
	else
		printf("run %lld event %lld: %s: %s\n", (long long)res->run_id,
		       (long long)res->seq, problem, detail);
	free(detail);
	return QRH_EXIT_FAILED;
}

static int verify_run(struct journal *j, int64_t run_id)
{
	struct journal_verify_result res;
	struct err e = { "" };

	if (journal_verify(j, run_id, &res, &e) < 0) {
		journal_cli_error("verify", &e);
		return QRH_EXIT_FAILED;
	}
	if (res.problem == JOURNAL_VERIFY_NO_RUN) {
		journal_cli_no_run("verify", run_id);
		return QRH_EXIT_USAGE;
	}
	if (res.problem != JOURNAL_VERIFY_OK)
		return verify_broken(&res);
	return verify_ok(j, run_id, &res);
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'j' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL;
	struct journal *j;
	int64_t id = 0;
	int c, rc = QRH_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 'h')
			return help_command("verify");
		else
			return usage_error("verify", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("verify", "give at most one run");
	j = journal_cli_open("verify", journal);
	if (!j)
		return QRH_EXIT_USAGE;
	if (optind < argc)
		rc = journal_cli_run("verify", j, argv[optind], &id);
	if (rc == QRH_EXIT_OK)
		rc = verify_run(j, id);
	journal_close(j);
	return rc;
}
