/* qrh watch: a read-only console that follows a run from another
 * terminal by reading the journal, for a second responder or a trainer. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runbooks/load.h"
#include "state/journal.h"
#include "state/run.h"
#include "tui/cli.h"
#include "tui/console.h"
#include "tui/team_cli.h"
#include "state/team.h"
#include "state/team_note.h"
#include "state/team_pull.h"

/* The run to follow: the one named, the newest unfinished, or the newest. */
static int pick(struct journal *j, const char *arg, int64_t *id)
{
	struct err e;
	if (arg) {
		char *end;
		*id = strtoll(arg, &end, 10);
		return *end || *id <= 0 ? usage_error("watch", "RUN is a run number, not '%s'", arg), -1 : 0;
	}
	int found = journal_run_find_unfinished(j, id, &e);
	if (found > 0)
		return 0;
	struct journal_run *runs = NULL;
	size_t n = 0;
	if (journal_runs_list(j, &runs, &n, &e) < 0 || !n) {
		cli_error("qrh watch: %s", n ? e.msg : "the journal has no runs");
		journal_runs_free(runs, n);
		return -1;
	}
	*id = runs[0].id;
	journal_runs_free(runs, n);
	return 0;
}

static struct runbook *runbook_of(const struct journal_run *jr)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_buffer(jr->runbook_path, jr->runbook_text,
						 jr->runbook_len, RUNBOOK_AUTO, &d);
	diags_release(&d);
	return rb;
}

/* A watcher's notes (notes: anyone): a connection of their own, made at
 * the first note, blocking for as long as an insert takes (a key press,
 * not the loop's work). */
struct watch_notes {
	const char *conninfo;
	const char *uuid;
	PGconn *c;
	char role[64];
};

static int watch_note(void *arg, const char *text, char *msg, size_t n)
{
	struct watch_notes *w = arg;
	struct err e;
	char id[UUID_TEXT_LEN + 1], uuid[UUID_TEXT_LEN + 1];
	if (!w->c && (!(w->c = team_connect(w->conninfo, &e)) ||
		      team_run_find(w->c, w->uuid, uuid, w->role, sizeof w->role, &e) < 0))
		goto fail;
	if (team_note_send(w->c, w->uuid, text, id, &e) < 0)
		goto fail;
	snprintf(msg, n, "note sent as %s: listed (l) once the running qrh journals it", w->role);
	return 0;
fail:
	snprintf(msg, n, "note not sent: %s", e.msg);
	PQfinish(w->c);
	w->c = NULL;
	return -1;
}

/* qrh watch --team: the run copied into a private mirror, kept current by
 * a puller on the console's loop; the console reads the mirror as it
 * would read a local journal. */
static int watch_team(const char *team, const char *run)
{
	struct team_mirror m;
	struct err e;
	struct journal_run jr = { 0 };
	struct runbook *rb = NULL;
	struct run *r = NULL;
	struct team_pull *p = NULL;
	int rc = QRH_EXIT_USAGE;
	char *conninfo = team_conninfo(team);
	struct loop *l = loop_new(&e);
	if (!l || team_mirror_follow(conninfo, run ? run : "", l, &m, &p, &e) < 0) {
		cli_error("qrh watch --team: %s", e.msg);
		free(conninfo);
		loop_free(l);
		return QRH_EXIT_USAGE;
	}
	if (journal_run_get(m.j, m.run_id, &jr, &e) <= 0 || !(rb = runbook_of(&jr))) {
		fprintf(stderr, "qrh watch: run %s cannot be shown\n", m.uuid);
		goto out;
	}
	struct run_opts o = { .mode = RUN_LIVE };
	struct run_listener lis;
	r = run_new(rb, &o);
	console_listener(&lis);
	run_observe(r, m.j, m.run_id, &lis);
	struct console_opts co = { .read_only = true };
	struct watch_notes notes = { .conninfo = conninfo, .uuid = m.uuid };
	if (rb->notes_anyone) {
		co.send_note = watch_note;
		co.note_arg = &notes;
	}
	rc = console_drive(r, l, &co);
	PQfinish(notes.c);
out:
	run_free(r);
	team_pull_free(p);
	loop_free(l);
	runbook_free(rb);
	journal_run_release(&jr);
	team_mirror_close(&m);
	free(conninfo);
	return rc;
}

int cmd_watch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'J' },
		{ "team", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL, *team = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'J')
			journal = optarg;
		else if (c == 't')
			team = optarg;
		else if (c == 'h')
			return help_command("watch");
		else
			return usage_error("watch", "unknown option");
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		fprintf(stderr, "qrh watch: needs a terminal (for a log, use qrh show)\n");
		return QRH_EXIT_USAGE;
	}
	if (team)
		return watch_team(team, optind < argc ? argv[optind] : NULL);
	struct err e;
	int rc = QRH_EXIT_USAGE;
	int64_t id;
	struct journal_run jr = { 0 };
	struct runbook *rb = NULL;
	struct run *r = NULL;
	struct loop *l = NULL;
	char *path = journal_path_default(journal, &e);
	struct journal *j = path ? journal_open_ro(path, &e) : NULL;
	free(path);
	if (!j) {
		cli_error("qrh watch: cannot open the journal: %s", e.msg);
		return QRH_EXIT_USAGE;
	}
	if (pick(j, optind < argc ? argv[optind] : NULL, &id) < 0)
		goto out;
	if (journal_run_get(j, id, &jr, &e) <= 0 || !(rb = runbook_of(&jr))) {
		fprintf(stderr, "qrh watch: run %lld cannot be shown\n", (long long)id);
		goto out;
	}
	l = loop_new(&e);
	if (!l)
		goto out;
	struct run_opts o = { .mode = RUN_LIVE };
	struct run_listener lis;
	r = run_new(rb, &o);
	console_listener(&lis);
	run_observe(r, j, id, &lis);
	struct console_opts co = { .read_only = true };
	rc = console_drive(r, l, &co);
out:
	run_free(r);
	loop_free(l);
	runbook_free(rb);
	journal_run_release(&jr);
	journal_close(j);
	return rc;
}
