#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/load.h"
#include "tui/cli.h"
#include "tui/sanitize.h"

/* Checks one file; returns true when it passes. */
static bool check_one(const char *path, bool strict, bool quiet)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_file(path, &d);
	diags_print(stderr, path, &d);
	bool ok = rb && d.n_errors == 0 && (!strict || d.n_warnings == 0);
	if (ok && !quiet) {
		char *name = sanitize_string(path, strlen(path));
		printf("%s: ok, %zu step%s\n", name, rb->n_steps,
		       rb->n_steps == 1 ? "" : "s");
		free(name);
	}
	runbook_free(rb);
	diags_release(&d);
	return ok;
}

int cmd_check(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "strict", no_argument, 0, 's' },
		{ "quiet", no_argument, 0, 'q' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	bool strict = false, quiet = false;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "qh", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			strict = true;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			return help_command("check");
		default:
			return usage_error("check", "unknown option");
		}
	}
	if (optind >= argc)
		return usage_error("check", "no runbook given");
	bool all = true;
	for (int i = optind; i < argc; i++)
		all = check_one(argv[i], strict, quiet) && all;
	return all ? QRH_EXIT_OK : QRH_EXIT_USAGE;
}
