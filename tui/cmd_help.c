#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/console_ui.h"
#include "tui/sanitize.h"
#include "util/buf.h"

void usage_print(FILE *out)
{
	fprintf(out,
		"usage: qrh COMMAND [ARGS]\n"
		"\n"
		"qrh runs infrastructure runbooks step by step, each step only after the\n"
		"operator confirms it, and journals every event as evidence.\n"
		"\n"
		"Commands:\n");
	for (const struct command *c = qrh_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\n"
		"Options:\n"
		"  -h, --help     show this help\n"
		"  --version      print the version\n"
		"\n"
		"Exit status: 0 ok, 1 a step failed, 2 bad input or usage, 3 interrupted.\n"
		"See qrh help COMMAND, qrh(1) and qrh-runbook(5).\n");
}

/* One line of stderr, made safe as a whole: messages quote paths, names
 * and SQLite's words, any of which may hold control bytes. */
static void line_vprint(const char *fmt, va_list ap)
{
	struct buf b;
	char *clean;

	buf_init(&b, BUF_UNLIMITED);
	buf_vaddf(&b, fmt, ap);
	clean = sanitize_string(b.data, b.len);
	fprintf(stderr, "%s\n", clean);
	free(clean);
	buf_release(&b);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	line_vprint(fmt, ap);
	va_end(ap);
}

int usage_error(const char *cmd, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, BUF_UNLIMITED);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	cli_error("qrh %s: %s", cmd, b.data);
	buf_release(&b);
	fprintf(stderr, "Try 'qrh help %s'.\n", cmd);
	return QRH_EXIT_USAGE;
}

int cmd_help(int argc, char **argv)
{
	if (argc < 2) {
		usage_print(stdout);
		return QRH_EXIT_OK;
	}
	if (!strcmp(argv[1], "keys")) {
		console_keys_print(stdout);
		return QRH_EXIT_OK;
	}
	if (!command_find(argv[1])) {
		cli_error("qrh help: unknown command '%s'", argv[1]);
		return QRH_EXIT_USAGE;
	}
	return help_command(argv[1]);
}

int help_command(const char *name)
{
	const struct command *c = command_find(name);
	if (!c)
		return QRH_EXIT_USAGE;
	printf("usage: %s\n\n%s\n%s", c->synopsis, c->summary, c->help[0] ? "\n" : "");
	fputs(c->help, stdout);
	return QRH_EXIT_OK;
}

int cmd_version(int argc, char **argv)
{
	(void)argc;
	(void)argv;
	printf("qrh %s\n", QRH_VERSION);
	return QRH_EXIT_OK;
}
