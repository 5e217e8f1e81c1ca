#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/load.h"
#include "runbooks/write.h"
#include "tui/cli.h"

int cmd_convert(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "to", required_argument, 0, 't' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *to = NULL;
	int c;
	optind = 1;
	while ((c = getopt_long(argc, argv, "t:h", opts, NULL)) != -1) {
		if (c == 't') {
			to = optarg;
		} else if (c == 'h') {
			return help_command("convert");
		} else {
			return usage_error("convert", "unknown option");
		}
	}
	if (to && strcmp(to, "json") && strcmp(to, "md") && strcmp(to, "markdown"))
		return usage_error("convert", "--to takes json or md, not '%s'", to);
	if (optind + 1 != argc)
		return usage_error("convert", "give exactly one runbook");
	const char *path = argv[optind];
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_file(path, &d);
	diags_print(stderr, path, &d);
	int rc = QRH_EXIT_USAGE;
	struct err e;
	int want_json = 0;
	if (rb && d.n_errors == 0) {
		want_json = to ? !strcmp(to, "json")
			       : runbook_guess_format(path, rb->source, rb->source_len) ==
					 RUNBOOK_MARKDOWN;
		if (!want_json && runbook_markdown_safe(rb, &e) < 0) {
			cli_error("qrh convert: cannot write Markdown: %s", e.msg);
			runbook_free(rb);
			diags_release(&d);
			return QRH_EXIT_USAGE;
		}
	}
	if (rb && d.n_errors == 0) {
		char *text = want_json ? runbook_write_json(rb) : runbook_write_markdown(rb);
		fputs(text, stdout);
		if (!want_json)
			fputc('\n', stdout);
		free(text);
		rc = fflush(stdout) == 0 ? QRH_EXIT_OK : QRH_EXIT_USAGE;
	}
	runbook_free(rb);
	diags_release(&d);
	return rc;
}
