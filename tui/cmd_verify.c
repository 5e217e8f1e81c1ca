/* qrh verify: check the journal's integrity and hash chains, all runs or
 * one, and name the first broken event. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "tui/cli.h"
#include "tui/sanitize.h"
#include "tui/team_cli.h"
#include "util/sha256.h"
#include "state/journal_team.h"
#include <unistd.h>

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

/* A local and a central copy of one run, event by event. */
struct compare {
	struct journal *other;
	int64_t other_run;
	int64_t seq, differs, n;
	char detail[200];
	char digest[SHA256_HEX_LEN + 1];
};

static int compare_one(const struct journal_event *ev, void *ctx)
{
	struct compare *c = ctx;
	c->n++;
	c->seq = ev->seq;
	return 0;
}

/* Everything an event holds, hashes included, as one digest: two copies
 * agree only when each field does (a changed payload under its old hash
 * is a difference too, not only a broken chain). */
static void event_digest(const struct journal_event *ev, char out[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();
	char nums[96];
	int n = snprintf(nums, sizeof nums, "%lld|%lld|%lld|", (long long)ev->wall_ms,
			 (long long)ev->mono_ns, (long long)ev->step);
	sha256_update(h, nums, (size_t)n);
	const char *f[] = { ev->type ? ev->type : "", ev->actor ? ev->actor : "",
			    ev->payload ? ev->payload : "{}", ev->prev_hash, ev->hash };
	for (size_t i = 0; i < 5; i++)
		sha256_update(h, f[i], strlen(f[i]) + 1);
	sha256_finish_hex(h, out);
}

static int compare_hash(const struct journal_event *ev, void *ctx)
{
	struct compare *c = ctx;
	c->n++;
	c->seq = ev->seq;
	snprintf(c->detail, sizeof c->detail, "%s", ev->hash);
	event_digest(ev, c->digest);
	return 1;
}

/* Walks the central copy and looks each event up in the local one. */
static int compare_event(const struct journal_event *ev, void *ctx)
{
	struct compare *c = ctx;
	struct compare one = { 0 };
	struct err e;
	c->n++;
	if (journal_events_each(c->other, c->other_run, ev->seq - 1, compare_hash, &one, &e) < 0 ||
	    one.seq != ev->seq) {
		c->differs = ev->seq;
		snprintf(c->detail, sizeof c->detail, "the local journal has no event %lld",
			 (long long)ev->seq);
		return 1;
	}
	if (strcmp(one.detail, ev->hash)) {
		c->differs = ev->seq;
		snprintf(c->detail, sizeof c->detail, "hashes differ (local %.12s, central %.12s)",
			 one.detail, ev->hash);
		return 1;
	}
	char mine[SHA256_HEX_LEN + 1];
	event_digest(ev, mine);
	if (strcmp(one.digest, mine)) {
		c->differs = ev->seq;
		snprintf(c->detail, sizeof c->detail, "the same hash over different content");
		return 1;
	}
	return 0;
}

static int verify_team(const char *team, const char *run, const char *journal)
{
	struct team_mirror m;
	struct err e;
	char *conninfo = team_conninfo(team);
	char *path = journal_path_default(journal, &e);
	struct journal *local = path && access(path, F_OK) == 0 ? journal_open_ro(path, &e) : NULL;
	free(path);
	int rc = team_mirror_open(conninfo, run, local, &m, &e);
	free(conninfo);
	if (rc < 0) {
		cli_error("qrh verify --team: %s", e.msg);
		journal_close(local);
		return QRH_EXIT_FAILED;
	}
	printf("central copy of run %s (local number %lld):\n", m.uuid, (long long)m.run_id);
	rc = verify_run(m.j, m.run_id);
	int64_t local_id;
	if (local && journal_run_by_uuid(local, m.uuid, &local_id, &e) == 1) {
		struct compare c = { .other = local, .other_run = local_id };
		struct compare l = { 0 };
		journal_events_each(m.j, m.run_id, 0, compare_event, &c, &e);
		journal_events_each(local, local_id, 0, compare_one, &l, &e);
		if (c.differs) {
			printf("local run %lld and the central copy differ at event %lld: %s\n",
			       (long long)local_id, (long long)c.differs, c.detail);
			rc = QRH_EXIT_FAILED;
		} else if (l.n != c.n) {
			printf("local run %lld has %lld events, the central copy %lld%s\n",
			       (long long)local_id, (long long)l.n, (long long)c.n,
			       l.n > c.n ? ": the rest is not shipped yet (qrh team sync)" : "");
			if (l.n < c.n)
				rc = QRH_EXIT_FAILED;
		} else {
			printf("local run %lld and the central copy agree: %lld events\n",
			       (long long)local_id, (long long)c.n);
		}
	}
	journal_close(local);
	team_mirror_close(&m);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'j' },
		{ "team", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL, *team = NULL;
	struct journal *j;
	int64_t id = 0;
	int c, rc = QRH_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 't')
			team = optarg;
		else if (c == 'h')
			return help_command("verify");
		else
			return usage_error("verify", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("verify", "give at most one run");
	if (team)
		return verify_team(team, optind < argc ? argv[optind] : NULL, journal);
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
