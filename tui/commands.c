#include <string.h>

#include "tui/cli.h"

const struct command qrh_commands[] = {
	{ "run", cmd_run,
	  "qrh run [--plain] [--yes] [--dry-run] [--drill] [--operator NAME] [-v NAME=VALUE]... [--typed ID=WORD]... [--journal DB] [--grace DURATION] [--quiet-output] RUNBOOK",
	  "run a runbook step by step, journaling every event",
	  "Opens a run in the journal and runs the runbook's steps in order, each\n"
	  "only after it is confirmed. In plain mode (the only mode of this release)\n"
	  "every event is printed as one line with a timestamp, and step output as\n"
	  "\"[N] | line\" (stdout) or \"[N] ! line\" (stderr), with control characters\n"
	  "and escape sequences shown visibly.\n"
	  "\n"
	  "  --plain             line mode (also chosen when there is no terminal)\n"
	  "  -y, --yes           confirm ordinary steps; typed and dual-control\n"
	  "                      steps still need their own confirmation\n"
	  "  --typed ID=WORD     the word a confirm=typed:WORD step asks for\n"
	  "  --dry-run           print what each step would run; run nothing\n"
	  "  --drill             record the run as a drill, not a live incident\n"
	  "  --operator NAME     who is running it (default: the OS user)\n"
	  "  -v, --var NAME=VALUE  give a variable its value\n"
	  "  --journal DB        the journal (default $QRH_JOURNAL, then\n"
	  "                      $XDG_STATE_HOME/qrh/journal.db)\n"
	  "  --grace DURATION    between SIGTERM and SIGKILL on timeout (default 5s)\n"
	  "  --quiet-output      journal step output but do not print it\n"
	  "\n"
	  "Without --yes, steps are confirmed on the terminal, or refused when\n"
	  "standard input is not one. SIGINT and SIGTERM cancel the running step;\n"
	  "SIGHUP lets it finish; either way the run stays open for qrh resume.\n"
	  "\n"
	  "Exit status: 0 every step ok, 1 a step failed, 2 bad input or usage,\n"
	  "3 interrupted.\n" },
	{ "resume", cmd_resume,
	  "qrh resume [--plain] [--yes] [--rerun-interrupted | --skip-interrupted] [--runbook-changed-ok] [--operator NAME] [-v NAME=VALUE]... [--typed ID=WORD]... [--journal DB] [RUN]",
	  "continue an unfinished run after a crash, kill or hangup",
	  "Continues run RUN, or the newest unfinished run. Steps the journal\n"
	  "records as finished never run again. A step that was running when qrh\n"
	  "stopped is interrupted, its outcome unknown: it runs again only with\n"
	  "--rerun-interrupted, is skipped with --skip-interrupted, and otherwise\n"
	  "qrh names it and exits 2. If the runbook file changed since the run\n"
	  "started, qrh refuses unless --runbook-changed-ok is given (journaled).\n"
	  "Options as for qrh run.\n"
	  "\n"
	  "Exit status as for qrh run.\n" },
	{ "check", cmd_check, "qrh check [--strict] [-q] RUNBOOK...",
	  "validate runbooks; errors as FILE:LINE:COL",
	  "Loads each runbook (Markdown or JSON) and reports every problem, one per\n"
	  "line on stderr, as FILE:LINE:COL: error: MESSAGE. Lint findings are\n"
	  "reported as warnings and do not fail the check unless --strict is given.\n"
	  "\n"
	  "  --strict   treat warnings as errors\n"
	  "  -q         print nothing for files that are valid\n"
	  "\n"
	  "Exit status: 0 when every file is valid, 2 otherwise.\n" },
	{ "convert", cmd_convert, "qrh convert [--to json|md] RUNBOOK",
	  "write a runbook in the other format (Markdown <-> JSON)",
	  "Writes the runbook to standard output in the other format, or in the\n"
	  "format named by --to. JSON output is canonical: converting Markdown to\n"
	  "JSON, back to Markdown and to JSON again gives the same bytes.\n"
	  "\n"
	  "  --to json|md   the output format (default: the other one)\n"
	  "\n"
	  "Exit status: 0 on success, 2 when the runbook is not valid.\n" },
	{ "help", cmd_help, "qrh help [COMMAND]", "show help for qrh or a command",
	  "Shows the list of commands, or the help of one command.\n" },
	{ "version", cmd_version, "qrh version", "print the version",
	  "Prints the version of qrh (same as qrh --version).\n" },
	{ 0 },
};

const struct command *command_find(const char *name)
{
	for (const struct command *c = qrh_commands; c->name; c++)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}
