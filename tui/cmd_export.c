/* qrh export: a run's evidence — one document (json, md, junit, html)
 * to standard output or a file, or the whole bundle in a directory
 * (tui/evidence.h); and the head, appended to a file or posted to a
 * webhook, so it can be anchored elsewhere. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/journal.h"
#include "state/report.h"
#include "tui/cli.h"
#include "tui/evidence.h"
#include "tui/sanitize.h"

enum format { F_JSON, F_MD, F_JUNIT, F_HTML, F_BUNDLE };

static int format_parse(const char *f, enum format *out)
{
	static const struct { const char *name; enum format f; } names[] = {
		{ "json", F_JSON }, { "md", F_MD }, { "markdown", F_MD },
		{ "junit", F_JUNIT }, { "html", F_HTML },
	};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (!strcmp(f, names[i].name)) {
			*out = names[i].f;
			return QRH_EXIT_OK;
		}
	return usage_error("export", "unknown format '%s' (json, md, junit or html)", f);
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

struct export_args {
	const char *journal, *path, *sign, *head_file, *head_notify;
	enum format format;
	bool format_given;
};

/* One document of the run, to stdout or a file. */
static int export_one(struct journal *j, int64_t id, const struct export_args *a,
		      struct journal_head *head, bool *live)
{
	void (*const render[])(const struct evidence *, struct buf *) = {
		[F_MD] = evidence_md, [F_JUNIT] = evidence_junit, [F_HTML] = evidence_html,
	};
	struct evidence ev;
	struct err e = { "" };
	struct buf doc;
	int rc = evidence_load(j, id, &ev, NULL, NULL, &e);

	if (rc == 0) {
		journal_cli_no_run("export", id);
		return QRH_EXIT_USAGE;
	}
	if (rc < 0) {
		journal_cli_error("export", &e);
		return QRH_EXIT_FAILED;
	}
	*head = ev.head;
	*live = ev.live;
	buf_init(&doc, BUF_UNLIMITED);
	if (a->format == F_JSON)
		buf_add(&doc, ev.doc_text, ev.doc_len);
	else
		render[a->format](&ev, &doc);
	rc = export_write(a->path, &doc);
	buf_release(&doc);
	evidence_release(&ev);
	return rc;
}

static int export_bundle(struct journal *j, int64_t id, const struct export_args *a,
			 struct journal_head *head, bool *live)
{
	struct err e = { "" };
	int rc = evidence_bundle_write(j, id, a->path, a->sign, head, &e);

	if (rc == 0) {
		journal_cli_no_run("export", id);
		return QRH_EXIT_USAGE;
	}
	if (rc < 0) {
		journal_cli_error("export", &e);
		return QRH_EXIT_FAILED;
	}
	struct journal_run run;
	*live = journal_run_get(j, id, &run, &e) > 0 && !run.outcome;
	if (*live || run.id)
		journal_run_release(&run);
	cli_error("qrh export: run %lld written to %s%s%s, head %lld:%lld:%s", (long long)id,
		  a->path, a->sign ? ", signed" : "", *live ? " (the run is still in progress)" : "",
		  (long long)id, (long long)head->seq, head->hash);
	return QRH_EXIT_OK;
}

/* The head, where the operator asked for it to be anchored. */
static int head_anchor(int64_t id, const struct journal_head *head, bool live,
		       const struct export_args *a)
{
	struct err e = { "" };
	int rc = QRH_EXIT_OK;

	if (a->head_file && head_file_append(a->head_file, id, head, live, &e) < 0) {
		cli_error("qrh export: %s", e.msg);
		rc = QRH_EXIT_FAILED;
	}
	if (a->head_notify && head_notify_send(a->head_notify, id, head, live, &e) < 0) {
		cli_error("qrh export: %s", e.msg);
		rc = QRH_EXIT_FAILED;
	}
	return rc;
}

static int export_run(struct journal *j, int64_t id, const struct export_args *a)
{
	struct journal_head head = { 0 };
	bool live = false;
	int rc = a->format == F_BUNDLE ? export_bundle(j, id, a, &head, &live)
				       : export_one(j, id, a, &head, &live);

	if (rc == QRH_EXIT_OK)
		rc = head_anchor(id, &head, live, a);
	return rc;
}

static int export_parse(struct export_args *a, int argc, char **argv)
{
	enum { OPT_JOURNAL = 256, OPT_SIGN, OPT_HEAD_FILE, OPT_HEAD_NOTIFY };
	static const struct option opts[] = {
		{ "journal", required_argument, 0, OPT_JOURNAL },
		{ "format", required_argument, 0, 'f' },
		{ "output", required_argument, 0, 'o' },
		{ "sign", required_argument, 0, OPT_SIGN },
		{ "head-file", required_argument, 0, OPT_HEAD_FILE },
		{ "head-notify", required_argument, 0, OPT_HEAD_NOTIFY },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "f:o:h", opts, NULL)) != -1) {
		if (c == OPT_JOURNAL)
			a->journal = optarg;
		else if (c == 'f' && format_parse(optarg, &a->format) != QRH_EXIT_OK)
			return QRH_EXIT_USAGE;
		else if (c == 'f')
			a->format_given = true;
		else if (c == 'o')
			a->path = optarg;
		else if (c == OPT_SIGN)
			a->sign = optarg;
		else if (c == OPT_HEAD_FILE)
			a->head_file = optarg;
		else if (c == OPT_HEAD_NOTIFY)
			a->head_notify = optarg;
		else if (c == 'h')
			return help_command("export") == QRH_EXIT_OK ? -1 : -1;
		else
			return usage_error("export", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("export", "give at most one run");
	/* -o alone is a bundle; -f writes one document (to -o FILE if given) */
	if (a->path && !a->format_given && strcmp(a->path, "-"))
		a->format = F_BUNDLE;
	if (a->sign && a->format != F_BUNDLE)
		return usage_error("export", "--sign signs a bundle: give -o DIR without -f");
	return QRH_EXIT_OK;
}

int cmd_export(int argc, char **argv)
{
	struct export_args a = { .format = F_JSON };
	struct journal *j;
	int64_t id = 0;
	int rc = export_parse(&a, argc, argv);

	if (rc)
		return rc < 0 ? QRH_EXIT_OK : rc;
	/* the documents are UTF-8 whatever the terminal's locale */
	setlocale(LC_CTYPE, "C.UTF-8");
	j = journal_cli_open("export", a.journal);
	if (!j)
		return QRH_EXIT_USAGE;
	rc = journal_cli_run("export", j, optind < argc ? argv[optind] : NULL, &id);
	if (rc == QRH_EXIT_OK)
		rc = export_run(j, id, &a);
	journal_close(j);
	return rc;
}
