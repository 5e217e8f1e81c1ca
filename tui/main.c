/* qrh: the command-line entry point. Dispatches to one command. */
#include <locale.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "tui/cli.h"

int main(int argc, char **argv)
{
	setlocale(LC_ALL, "");
	if (argc < 2) {
		usage_print(stderr);
		return QRH_EXIT_USAGE;
	}
	const char *name = argv[1];
	if (!strcmp(name, "--help") || !strcmp(name, "-h")) {
		usage_print(stdout);
		return QRH_EXIT_OK;
	}
	if (!strcmp(name, "--version"))
		return cmd_version(argc - 1, argv + 1);
	const struct command *c = command_find(name);
	if (!c && name[0] != '-' && access(name, F_OK) == 0)
		return cmd_run(argc, argv); /* qrh RUNBOOK is qrh run RUNBOOK */
	if (!c) {
		fprintf(stderr, "qrh: unknown command '%s'\n", name);
		fprintf(stderr, "Try 'qrh --help'.\n");
		return QRH_EXIT_USAGE;
	}
	return c->run(argc - 1, argv + 1);
}
