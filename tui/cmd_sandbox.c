/* qrh sandbox: the DR sandbox's up, down, reset, status and env, done by
 * sandbox/sandbox.sh (see there for what it starts and where). */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/cli.h"
#include "tui/sandbox_ctl.h"

int cmd_sandbox(int argc, char **argv)
{
	static const char *const verbs[] = { "up", "down", "reset", "status", "env", NULL };
	int i = 1;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--help"))
			return help_command("sandbox");
		if (!strcmp(argv[i], "--dir") && i + 1 < argc) {
			setenv("QRH_SANDBOX_DIR", argv[++i], 1);
			continue;
		}
		return usage_error("sandbox", "unknown option '%s'", argv[i]);
	}
	if (i >= argc)
		return usage_error("sandbox", "say up, down, reset, status or env");
	bool known = false;
	for (size_t k = 0; verbs[k]; k++)
		known = known || !strcmp(argv[i], verbs[k]);
	if (!known)
		return usage_error("sandbox", "unknown action '%s' (up, down, reset, status or env)", argv[i]);
	if (!strcmp(argv[i], "down") && i + 2 == argc && !strcmp(argv[i + 1], "--wipe")) {
		/* the one option an action takes */
	} else if (i + 1 < argc) {
		return usage_error("sandbox", "unexpected argument '%s'", argv[i + 1]);
	}
	char script[PATH_MAX];
	if (sandbox_script(script, sizeof script) < 0) {
		fprintf(stderr, "qrh sandbox: cannot find sandbox/sandbox.sh beside qrh or in "
				"$QRH_SANDBOX_SRC (run qrh from its source tree, or set QRH_SANDBOX_SRC)\n");
		return QRH_EXIT_USAGE;
	}
	char **args = calloc((size_t)(argc - i) + 3, sizeof *args);
	if (!args)
		return QRH_EXIT_FAILED;
	static char bash[] = "bash";
	args[0] = bash;
	args[1] = script;
	for (int k = i; k < argc; k++)
		args[2 + k - i] = argv[k];
	execvp("bash", args);
	perror("qrh sandbox: bash");
	free(args);
	return QRH_EXIT_FAILED;
}
