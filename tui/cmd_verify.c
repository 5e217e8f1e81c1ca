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

/* A head recorded elsewhere: [RUN:]SEQ:HASH, the hash in full or at
 * least HEAD_HEX_MIN of its hex digits. */
#define HEAD_HEX_MIN 12

struct anchor {
	int64_t run; /* 0: not given */
	int64_t seq;
	char hash[JOURNAL_HASH_LEN + 1];
};

/* Digits only, then the separator. */
static const char *number_then(const char *p, char sep, long long *out)
{
	char *end;
	if (*p < '0' || *p > '9')
		return NULL;
	*out = strtoll(p, &end, 10);
	return *end == sep ? end + 1 : NULL;
}

static int anchor_parse(const char *s, struct anchor *a)
{
	long long first, second;
	const char *p = number_then(s, ':', &first), *q;

	memset(a, 0, sizeof *a);
	if (!p)
		return -1;
	if ((q = number_then(p, ':', &second))) { /* RUN:SEQ:HASH */
		a->run = first;
		a->seq = second;
		p = q;
	} else {
		a->seq = first;
	}
	size_t hex = strspn(p, "0123456789abcdef");
	if (hex < HEAD_HEX_MIN || hex > JOURNAL_HASH_LEN ||
	    (p[hex] && p[hex] != ' ' && p[hex] != '\t' && p[hex] != '\n'))
		return -1;
	snprintf(a->hash, sizeof a->hash, "%.*s", (int)hex, p);
	return a->seq > 0 && (q == NULL || a->run > 0) ? 0 : -1;
}

struct found {
	int64_t seq;
	char hash[JOURNAL_HASH_LEN + 1];
};

static int first_event(const struct journal_event *ev, void *ctx)
{
	struct found *f = ctx;
	f->seq = ev->seq;
	snprintf(f->hash, sizeof f->hash, "%s", ev->hash);
	return 1;
}

/* The chain verified, does the run still hold the anchored event? A
 * truncated run ends before it; a rewritten one has another hash there. */
static int anchor_check(struct journal *j, int64_t run_id, const struct anchor *a)
{
	struct found f = { 0, "" };
	struct journal_head head;
	struct err e = { "" };

	if (journal_events_each(j, run_id, a->seq - 1, first_event, &f, &e) < 0 ||
	    journal_head(j, run_id, &head, &e) < 0) {
		journal_cli_error("verify", &e);
		return QRH_EXIT_FAILED;
	}
	if (f.seq != a->seq) {
		printf("run %lld: does not reach the anchored head %lld:%s: it ends at event %lld "
		       "(truncated, or rewritten shorter, since the head was recorded)\n",
		       (long long)run_id, (long long)a->seq, a->hash, (long long)head.seq);
		return QRH_EXIT_FAILED;
	}
	if (strncmp(f.hash, a->hash, strlen(a->hash))) {
		printf("run %lld event %lld: not the anchored event: its hash is %.16s..., the "
		       "anchor says %.16s...: the run was rewritten since the head was recorded\n",
		       (long long)run_id, (long long)a->seq, f.hash, a->hash);
		return QRH_EXIT_FAILED;
	}
	printf("run %lld extends the anchored head %lld:%s (%lld event%s after it)%s\n",
	       (long long)run_id, (long long)a->seq, a->hash, (long long)(head.seq - a->seq),
	       head.seq - a->seq == 1 ? "" : "s",
	       strlen(a->hash) < JOURNAL_HASH_LEN ? "; the anchor is not the full hash: "
		       "record all 64 digits for a strong anchor" : "");
	return QRH_EXIT_OK;
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
		{ "head", required_argument, 0, 'H' },
		{ "team", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL, *head = NULL, *team = NULL;
	struct anchor an = { 0 };
	struct journal *j;
	int64_t id = 0;
	int c, rc = QRH_EXIT_OK;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 't')
			team = optarg;
		else if (c == 'H')
			head = optarg;
		else if (c == 'h')
			return help_command("verify");
		else
			return usage_error("verify", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("verify", "give at most one run");
	if (head && anchor_parse(head, &an) < 0)
		return usage_error("verify", "--head takes SEQ:HASH or RUN:SEQ:HASH (at least %d "
				   "hex digits of the hash), not '%s'", HEAD_HEX_MIN, head);
	if (team && head)
		return usage_error("verify", "--head checks the local journal: not with --team");
	if (team)
		return verify_team(team, optind < argc ? argv[optind] : NULL, journal);
	j = journal_cli_open("verify", journal);
	if (!j)
		return QRH_EXIT_USAGE;
	if (optind < argc)
		rc = journal_cli_run("verify", j, argv[optind], &id);
	if (rc == QRH_EXIT_OK && head && an.run && id && an.run != id)
		rc = usage_error("verify", "the anchor names run %lld, not run %lld",
				 (long long)an.run, (long long)id);
	if (rc == QRH_EXIT_OK && head && !id && !an.run)
		rc = journal_cli_run("verify", j, NULL, &id);
	if (rc == QRH_EXIT_OK && head && an.run)
		id = an.run;
	if (rc == QRH_EXIT_OK)
		rc = verify_run(j, id);
	if (rc == QRH_EXIT_OK && head)
		rc = anchor_check(j, id, &an);
	journal_close(j);
	return rc;
}
