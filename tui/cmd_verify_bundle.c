/* qrh verify-bundle: check an evidence bundle against its MANIFEST and
 * its signature, naming every file that fails (tui/evidence_sign.h). */
#include <getopt.h>
#include <stdio.h>

#include "tui/cli.h"
#include "tui/evidence_sign.h"

int cmd_verify_bundle(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "allowed-signers", required_argument, 0, 'a' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *allowed = NULL;
	struct strv problems = { 0 }, notes = { 0 };
	struct err e = { "" };
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'a')
			allowed = optarg;
		else if (c == 'h')
			return help_command("verify-bundle");
		else
			return usage_error("verify-bundle", "unknown option");
	}
	if (argc - optind != 1)
		return usage_error("verify-bundle", "give one bundle directory");
	if (evidence_verify(argv[optind], allowed, &problems, &notes, &e) < 0) {
		cli_error("qrh verify-bundle: %s", e.msg);
		return QRH_EXIT_USAGE;
	}
	for (size_t i = 0; i < problems.n; i++)
		cli_error("FAILED %s", problems.v[i]);
	for (size_t i = 0; i < notes.n; i++)
		printf("%s\n", notes.v[i]);
	if (problems.n)
		printf("bundle NOT verified: %zu problem%s\n", problems.n, problems.n == 1 ? "" : "s");
	else
		printf("bundle ok\n");
	c = problems.n ? QRH_EXIT_FAILED : QRH_EXIT_OK;
	strv_release(&problems);
	strv_release(&notes);
	return c;
}
