/* qrh note --team: a team member's note on a run someone else is running,
 * through the team database (state/team_note.h). In the console, the a key
 * adds a note; this is for another machine or a script. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/team.h"
#include "state/team_note.h"
#include "tui/cli.h"
#include "tui/team_cli.h"
#include "util/buf.h"

#define NOTE_WAIT_MS 10000

#define NOTE_USAGE "usage: qrh note --team CONNINFO [--no-wait] RUN TEXT..."

/* The words of the note, joined by single spaces. */
static char *note_text(int argc, char **argv)
{
	struct buf b;
	buf_init(&b, 1 << 20); /* team_note_send refuses a long one, by its length */
	for (int i = 0; i < argc; i++)
		buf_addf(&b, "%s%s", i ? " " : "", argv[i]);
	return b.data ? b.data : calloc(1, 1);
}

static int send_note(const char *conninfo, const char *run, const char *text, bool wait)
{
	struct err e;
	char uuid[UUID_TEXT_LEN + 1], role[64], id[UUID_TEXT_LEN + 1];
	int64_t seq = 0;
	int rc = QRH_EXIT_FAILED;
	PGconn *c = team_connect(conninfo, &e);
	if (!c || team_run_find(c, run, uuid, role, sizeof role, &e) < 0 ||
	    team_note_send(c, uuid, text, id, &e) < 0) {
		cli_error("qrh note: %s", e.msg);
		goto out;
	}
	if (!wait) {
		printf("note sent to run %s as role %s\n", uuid, role);
		rc = QRH_EXIT_OK;
		goto out;
	}
	int got = team_note_journaled(c, uuid, id, NOTE_WAIT_MS, &seq, &e);
	if (got < 0)
		cli_error("qrh note: %s", e.msg);
	else if (!got)
		cli_error("qrh note: the note is in the team database, but run %s has not "
			  "journaled it within %d s: a run takes notes while its qrh runs with "
			  "--team, when its runbook says notes: anyone", uuid, NOTE_WAIT_MS / 1000);
	else {
		printf("note journaled in run %s as event %lld, by role %s\n", uuid,
		       (long long)seq, role);
		rc = QRH_EXIT_OK;
	}
out:
	PQfinish(c);
	return rc;
}

enum { OPT_TEAM = 256, OPT_NO_WAIT };

int cmd_note(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "team", required_argument, 0, OPT_TEAM },
		{ "no-wait", no_argument, 0, OPT_NO_WAIT },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *team = NULL;
	bool team_given = false, wait = true;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_TEAM: team_given = true; team = optarg; break;
		case OPT_NO_WAIT: wait = false; break;
		case 'h': return help_command("note");
		default: return QRH_EXIT_USAGE;
		}
	}
	if (argc - optind < 2) {
		cli_error(NOTE_USAGE);
		return QRH_EXIT_USAGE;
	}
	if (!team_given) {
		cli_error("qrh note: a note from outside the console goes through the team "
			  "database (--team); in the console, the a key adds one");
		return QRH_EXIT_USAGE;
	}
	char *conninfo = team_conninfo(team);
	if (!conninfo) {
		cli_error("qrh note: --team: no team database (give CONNINFO, $QRH_TEAM or team.conf)");
		return QRH_EXIT_USAGE;
	}
	char *text = note_text(argc - optind - 1, argv + optind + 1);
	int rc = send_note(conninfo, argv[optind], text, wait);
	free(text);
	free(conninfo);
	return rc;
}
