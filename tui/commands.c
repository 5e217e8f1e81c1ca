#include <string.h>

#include "tui/cli.h"

const struct command qrh_commands[] = {
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
