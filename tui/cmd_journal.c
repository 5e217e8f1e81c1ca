/* cmd_journal: what the commands that read the journal (list, show,
 * verify, export) share: opening it read-only and naming a run. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "tui/cli.h"
#include "tui/sanitize.h"

/* Messages quote paths and SQLite's words, which may hold anything. */
void journal_cli_error(const char *cmd, const struct err *e)
{
	cli_error("qrh %s: %s", cmd, e->msg);
}

struct journal *journal_cli_open(const char *cmd, const char *cli_path)
{
	struct err e = { "" };
	struct journal *j = NULL;
	char *path = journal_path_default(cli_path, &e);

	if (path)
		j = journal_open_ro(path, &e);
	if (!j)
		journal_cli_error(cmd, &e);
	free(path);
	return j;
}

/* Digits only: "12abc", "-1" and "0" are not run ids. */
static int run_id_parse(const char *s, int64_t *id)
{
	char *end;
	long long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || v <= 0)
		return -1;
	*id = v;
	return 0;
}

/* The highest id is the newest run. */
static int run_newest(const char *cmd, struct journal *j, int64_t *id)
{
	struct journal_run *runs = NULL;
	struct err e = { "" };
	size_t n = 0;

	if (journal_runs_list(j, &runs, &n, &e) < 0) {
		journal_cli_error(cmd, &e);
		return QRH_EXIT_FAILED;
	}
	if (n)
		*id = runs[0].id;
	journal_runs_free(runs, n);
	if (!n) {
		fprintf(stderr, "qrh %s: the journal has no runs yet\n", cmd);
		return QRH_EXIT_USAGE;
	}
	return QRH_EXIT_OK;
}

int journal_cli_run(const char *cmd, struct journal *j, const char *arg,
		    int64_t *id)
{
	if (!arg)
		return run_newest(cmd, j, id);
	if (run_id_parse(arg, id) < 0)
		return usage_error(cmd, "'%s' is not a run id (a number, as "
				   "qrh list shows)", arg);
	return QRH_EXIT_OK;
}

void journal_cli_no_run(const char *cmd, int64_t id)
{
	fprintf(stderr, "qrh %s: no run %lld in the journal (see qrh list)\n",
		cmd, (long long)id);
}
