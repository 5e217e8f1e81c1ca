/* qrh export: a run's evidence document. JSON only for now; the other
 * formats of the design (md, junit, html) are refused by name. */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/journal.h"
#include "state/report.h"
#include "tui/cli.h"
#include "tui/sanitize.h"

/* Formats the design promises; only json exists in this release. */
static int format_check(const char *f)
{
	static const char *const later[] = { "md", "markdown", "junit", "html" };

	if (!strcmp(f, "json"))
		return QRH_EXIT_OK;
	for (size_t i = 0; i < sizeof later / sizeof later[0]; i++)
		if (!strcmp(f, later[i])) {
			fprintf(stderr, "qrh export: the %s format is not "
				"available yet; this release writes json only\n",
				later[i]);
			return QRH_EXIT_USAGE;
		}
	return usage_error("export", "unknown format (only json is "
			   "available)");
}

/* JSON escapes C0 controls, not DEL, C1 controls or bidi overrides: shown
 * on a terminal the document is sanitized like any other journal text.
 * Written to a pipe or a file it stays byte for byte. */
static int stdout_write(const struct buf *doc)
{
	struct sanitizer san;
	struct buf clean;
	int rc;

	if (!isatty(STDOUT_FILENO)) {
		fwrite(doc->data, 1, doc->len, stdout);
		return fflush(stdout) == 0 ? 0 : -1;
	}
	sanitize_init(&san, SANITIZE_SHOW_SGR);
	buf_init(&clean, BUF_UNLIMITED);
	sanitize_feed(&san, doc->data, doc->len, &clean);
	sanitize_flush(&san, &clean);
	fwrite(clean.data, 1, clean.len, stdout);
	rc = fflush(stdout) == 0 ? 0 : -1;
	buf_release(&clean);
	return rc;
}

/* A failed write leaves no half a document behind. */
static int file_write(const char *path, const struct buf *doc)
{
	FILE *f = fopen(path, "w");
	int ok, saved;

	if (!f)
		return -1;
	ok = fwrite(doc->data, 1, doc->len, f) == doc->len && fflush(f) == 0 &&
	     fsync(fileno(f)) == 0;
	saved = errno;
	if (fclose(f) != 0 && ok) {
		ok = 0;
		saved = errno;
	}
	if (ok)
		return 0;
	remove(path);
	errno = saved;
	return -1;
}

static int export_write(const char *path, const struct buf *doc)
{
	char *clean;

	if (!path || !strcmp(path, "-")) {
		if (stdout_write(doc) == 0)
			return QRH_EXIT_OK;
		fprintf(stderr, "qrh export: cannot write the document: %s\n",
			strerror(errno));
		return QRH_EXIT_FAILED;
	}
	if (file_write(path, doc) == 0)
		return QRH_EXIT_OK;
	clean = sanitize_string(path, strlen(path));
	fprintf(stderr, "qrh export: cannot write '%s': %s\n", clean,
		strerror(errno));
	free(clean);
	return QRH_EXIT_FAILED;
}

static int export_run(struct journal *j, int64_t id, const char *path)
{
	struct run_report r;
	struct err e = { "" };
	struct buf doc;
	int rc = report_load(j, id, &r, &e);

	if (rc == 0) {
		journal_cli_no_run("export", id);
		return QRH_EXIT_USAGE;
	}
	if (rc < 0) {
		journal_cli_error("export", &e);
		return QRH_EXIT_FAILED;
	}
	buf_init(&doc, BUF_UNLIMITED);
	if (report_export_json(j, &r, &doc, &e) < 0) {
		journal_cli_error("export", &e);
		rc = QRH_EXIT_FAILED;
	} else {
		rc = export_write(path, &doc);
	}
	buf_release(&doc);
	report_release(&r);
	return rc;
}

int cmd_export(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'j' },
		{ "format", required_argument, 0, 'f' },
		{ "output", required_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL, *format = "json", *path = NULL;
	struct journal *j;
	int64_t id = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 'f')
			format = optarg;
		else if (c == 'o')
			path = optarg;
		else if (c == 'h')
			return help_command("export");
		else
			return usage_error("export", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("export", "give at most one run");
	rc = format_check(format);
	if (rc != QRH_EXIT_OK)
		return rc;
	j = journal_cli_open("export", journal);
	if (!j)
		return QRH_EXIT_USAGE;
	rc = journal_cli_run("export", j, optind < argc ? argv[optind] : NULL,
			     &id);
	if (rc == QRH_EXIT_OK)
		rc = export_run(j, id, path);
	journal_close(j);
	return rc;
}
