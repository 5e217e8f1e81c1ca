/* qrh show: one run from the journal — its header, each step with its
 * glyph, status, duration and who confirmed it, the notes, and with
 * --output what each step printed. Every string read from the journal
 * goes through the sanitizer before it is printed. */
#include <getopt.h>
#include <langinfo.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/journal.h"
#include "state/report.h"
#include "tui/cli.h"
#include "tui/drill.h"
#include "tui/sanitize.h"
#include "tui/show.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define SHOW_INDENT "        "

struct glyph {
	const char *utf8;
	const char *ascii;
};

static const struct glyph glyphs[] = {
	[STEP_PENDING] = { "\u00b7", "." },
	[STEP_RUNNING] = { "\u25b6", ">" },
	[STEP_OK] = { "\u2713", "+" },
	[STEP_FAILED] = { "\u2717", "x" },
	[STEP_SKIPPED] = { "\u21b7", "-" },
	[STEP_DONE_BY_HAND] = { "\u270e", "h" },
	[STEP_INTERRUPTED] = { "?", "?" },
	[STEP_CANCELLED] = { "\u2298", "c" },
	[STEP_TIMEOUT] = { "\u29d7", "t" },
};

/* Outside a UTF-8 locale the glyphs would print as mojibake. */
static const char *glyph(enum step_status s)
{
	static int utf8 = -1;

	if (utf8 < 0)
		utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	if ((unsigned)s >= sizeof glyphs / sizeof glyphs[0])
		return "?";
	return utf8 ? glyphs[s].utf8 : glyphs[s].ascii;
}

/* Text read from the journal, sanitized to one line, between two pieces
 * of qrh's own. */
static void print_clean(const char *before, const char *s, const char *after)
{
	char *clean = sanitize_string(s ? s : "", s ? strlen(s) : 0);

	printf("%s%s%s", before, clean, after);
	free(clean);
}

static void time_print(const char *label, int64_t wall_ms)
{
	char t[RFC3339_MS_LEN];

	clock_rfc3339_ms(wall_ms, t);
	printf("%s%s", label, t);
}

/* Each resume, and whether it was a handover to another operator. */
static void sessions_print(const struct run_fold *f)
{
	for (size_t i = 1; i < f->n_segments; i++) {
		const struct fold_segment *s = &f->segments[i];
		bool handover = strcmp(f->segments[i - 1].actor, s->actor) != 0;
		time_print(handover ? "  handover  " : "  resumed   ", s->first_wall_ms);
		if (handover)
			print_clean(" from ", f->segments[i - 1].actor, "");
		print_clean(handover ? " to " : " by ", s->actor, "");
		print_clean(" (os user ", s->os_user ? s->os_user : "?", ")\n");
	}
}

static void header_print(const struct run_report *r)
{
	const struct journal_run *run = &r->run;

	printf("run %lld: ", (long long)run->id);
	print_clean("", run->title, "\n");
	print_clean("  runbook   ", run->runbook_path, "\n");
	print_clean("  sha256    ", run->runbook_sha256, "\n");
	print_clean("  mode      ", run->mode, "\n");
	print_clean("  operator  ", run->operator_name, "");
	print_clean(" (os user ", run->os_user, "");
	printf(", uid %lld)", (long long)run->uid);
	print_clean(" on ", run->host, "\n");
	time_print("  started   ", run->started_ms);
	printf("\n");
	if (run->outcome) {
		time_print("  ended     ", run->ended_ms);
		print_clean(", outcome ", run->outcome, "\n");
	} else {
		printf("  ended     not yet: the run has no outcome\n");
	}
	if (r->fold.ended && r->fold.ended_by && strcmp(r->fold.ended_by, "qrh"))
		print_clean("  ended by  ", r->fold.ended_by, "\n");
	char dur[32];
	clock_duration_words(fold_elapsed_ms(&r->fold), dur, sizeof dur);
	printf("  elapsed   %s\n", dur);
	sessions_print(&r->fold);
	printf("  head      %lld:%lld:%.12s\n", (long long)run->id,
	       (long long)r->head.seq, r->head.hash);
}

/* The engine's summary is often just "exit N", already shown. */
static bool summary_says_more(const struct report_step *s)
{
	char plain[32];

	if (!s->summary || !*s->summary)
		return false;
	snprintf(plain, sizeof plain, "exit %lld", (long long)s->exit_code);
	return strcmp(s->summary, plain) != 0;
}

/* "ok in 120 ms, exit 0", "skipped: reason", ... */
static void step_status_print(const struct report_step *s)
{
	char dur[32];

	printf(SHOW_INDENT "%s", step_status_name(s->status));
	switch (s->status) {
	case STEP_OK:
	case STEP_FAILED:
	case STEP_TIMEOUT:
	case STEP_CANCELLED:
		if (s->duration_ms != REPORT_NONE) {
			clock_duration_words(s->duration_ms, dur, sizeof dur);
			printf(" in %s", dur);
		}
		if (s->exit_code != REPORT_NONE)
			printf(", exit %lld", (long long)s->exit_code);
		if (s->status != STEP_OK && summary_says_more(s))
			print_clean(" (", s->summary, ")");
		break;
	case STEP_RUNNING:
		time_print(" since ", s->started_ms);
		break;
	case STEP_RETRY_WAIT:
		printf(": waiting to try again");
		break;
	case STEP_INTERRUPTED:
		printf(": outcome unknown");
		break;
	case STEP_SKIPPED:
	case STEP_DONE_BY_HAND:
		if (s->detail)
			print_clean(": ", s->detail, "");
		break;
	case STEP_PENDING:
	case STEP_STATUS_COUNT:
		break;
	}
	if (s->attempts > 1)
		printf(", %d attempts", s->attempts);
	if (s->closed_by && (s->status == STEP_SKIPPED || s->status == STEP_DONE_BY_HAND))
		print_clean(" by ", s->closed_by, "");
	if (s->confirmed_by) {
		print_clean("; confirmed by ", s->confirmed_by, "");
		print_clean(" (", s->confirmed_how ? s->confirmed_how : "?", ")");
	}
	printf("\n");
	if (s->elapsed_ms != REPORT_NONE && s->attempts > 1) {
		clock_duration_words(s->elapsed_ms, dur, sizeof dur);
		printf(SHOW_INDENT "%d attempts over %s, from the first start\n", s->attempts, dur);
	}
}

/* A fan-out's members in the step's last attempt, as they ended:
 * "members: web1 ok, web2 failed". */
static void members_print(const struct run_fold *f, const struct report_step *s)
{
	size_t k = 0, n = 0;

	while (k < f->n_steps && &f->steps[k].st != s->state)
		k++;
	for (size_t i = 0; k < f->n_steps && i < f->n_tasks; i++) {
		const struct fold_task *t = &f->tasks[i];
		if (t->role != FOLD_TASK_MEMBER || t->step != (int64_t)k || t->attempt != s->attempts)
			continue;
		printf("%s", n++ ? ", " : SHOW_INDENT "members: ");
		print_clean("", t->label ? t->label : "?", " ");
		printf("%s", t->status[0] ? t->status : "running");
	}
	if (n)
		printf("\n");
}

static void step_print(const struct run_fold *f, const struct report_step *s)
{
	printf("  %s %3lld  ", glyph(s->status), (long long)s->index + 1);
	print_clean("", s->title ? s->title : s->id ? s->id : "(no title)", "");
	if (s->title && s->id)
		print_clean(" [", s->id, "]");
	printf("\n");
	step_status_print(s);
	members_print(f, s);
}

static void notes_print(const struct run_report *r)
{
	if (!r->n_notes)
		return;
	printf("\nnotes\n");
	for (size_t i = 0; i < r->n_notes; i++) {
		const struct report_note *n = &r->notes[i];
		time_print("  ", n->wall_ms);
		print_clean("  ", n->actor, "");
		if (n->step >= 0)
			printf(" (step %lld)", (long long)n->step + 1);
		print_clean(": ", n->text, "\n");
	}
}

/* ---- --output ---- */

/* "stdout, attempt 2", "stdout of web-1, attempt 1, action 2",
 * "stderr of background 'load'". */
static void stream_header(const struct run_fold *f,
			  const struct journal_output_ref *ref,
			  const struct journal_output_info *info,
			  const struct journal_output_verdict *v)
{
	const struct fold_task *t = ref->task ? fold_task_by_id(f, ref->task) : NULL;
	bool background = t ? t->role == FOLD_TASK_BACKGROUND : ref->attempt == 0;
	printf(SHOW_INDENT "%s", ref->stream == JOURNAL_STDERR ? "stderr" :
	       "stdout");
	if (background && ref->label[0])
		print_clean(" of background action '", ref->label, "'");
	else if (background)
		printf(" of background processes");
	else if (ref->label[0])
		print_clean(" of ", ref->label, "");
	if (!background)
		printf(", attempt %d", ref->attempt);
	if (t && !background && t->action > 0)
		printf(", action %d", t->action + 1);
	if (v->trust == JOURNAL_OUTPUT_FORGED) {
		/* the detail is qrh's words, but quotes stored numbers only */
		printf(": NOT SHOWN: the stored copy is not what the journal's "
		       "chain (event %lld) says: ", (long long)v->seq);
		print_clean("", v->detail, "\n");
		return;
	}
	if (info->finished && v->trust == JOURNAL_OUTPUT_UNCLAIMED)
		printf(" (no event on the chain records it)");
	if (!info->finished)
		printf(": unfinished, %lld bytes stored\n",
		       (long long)info->stored_bytes);
	else if (info->lost_bytes)
		printf(": %lld bytes, %lld kept, %lld lost (the journal could "
		       "not be written)\n", (long long)info->total_bytes,
		       (long long)info->stored_bytes,
		       (long long)info->lost_bytes);
	else if (info->truncated)
		printf(": %lld bytes, %lld kept\n", (long long)info->total_bytes,
		       (long long)info->stored_bytes);
	else
		printf(": %lld bytes\n", (long long)info->total_bytes);
}

/* Sanitized as a stream, then printed line by line under a margin. */
static void stream_body(const struct buf *raw, char margin)
{
	struct sanitizer san;
	struct buf clean;
	const char *p, *end;

	sanitize_init(&san, 0);
	buf_init(&clean, BUF_UNLIMITED);
	sanitize_feed(&san, raw->data, raw->len, &clean);
	sanitize_flush(&san, &clean);
	p = clean.data;
	end = clean.data + clean.len;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		printf(SHOW_INDENT "%c %.*s\n", margin, (int)n, p);
		p += n + 1;
	}
	buf_release(&clean);
}

static int stream_print(struct journal *j, const struct run_report *r,
			const struct journal_output_ref *ref)
{
	struct journal_okey key = { .step = ref->step, .attempt = ref->attempt,
				    .task = ref->task };
	struct journal_output_info info;
	struct journal_output_verdict v;
	struct err e = { "" };
	struct buf raw;
	int rc;

	int64_t run_id = r->run.id;
	buf_init(&raw, BUF_UNLIMITED);
	rc = journal_output_read(j, run_id, &key, ref->stream, &raw, &info, &e);
	if (rc == 1 &&
	    journal_output_check(j, run_id, &key, ref->stream, &v, &e) < 0)
		rc = -1;
	if (rc < 0)
		journal_cli_error("show", &e);
	if (rc == 1 && (info.total_bytes || !info.finished ||
			v.trust == JOURNAL_OUTPUT_FORGED)) {
		stream_header(&r->fold, ref, &info, &v);
		if (v.trust != JOURNAL_OUTPUT_FORGED)
			stream_body(&raw, ref->stream == JOURNAL_STDERR ? '!' : '|');
	}
	buf_release(&raw);
	if (rc < 0)
		return -1;
	return rc == 1 && v.trust == JOURNAL_OUTPUT_FORGED;
}

static int outputs_print(struct journal *j, const struct run_report *r,
			 const struct report_step *s,
			 const struct journal_output_ref *refs, size_t n)
{
	int rc = 0;

	for (size_t i = 0; i < n; i++) {
		if (refs[i].step != s->index)
			continue;
		int one = stream_print(j, r, &refs[i]);
		if (one < 0 || (one > 0 && rc == 0))
			rc = one;
	}
	return rc;
}

static int steps_print(struct journal *j, const struct run_report *r,
		       bool output)
{
	struct journal_output_ref *refs = NULL;
	struct err e = { "" };
	size_t n = 0, done = 0;
	int rc = 0;

	if (output && journal_output_list(j, r->run.id, -1, &refs, &n, &e) < 0) {
		journal_cli_error("show", &e);
		return -1;
	}
	for (size_t i = 0; i < r->n_steps; i++)
		done += step_status_final(r->steps[i].status);
	printf("\nsteps: %zu of %zu done\n", done, r->n_steps);
	for (size_t i = 0; i < r->n_steps; i++) {
		step_print(&r->fold, &r->steps[i]);
		int one = output ? outputs_print(j, r, &r->steps[i],
						 refs, n) : 0;
		if (one < 0 || (one > 0 && rc == 0))
			rc = one;
	}
	free(refs);
	return rc;
}

/* A drill's score card (the faults only once it has ended). */
static void card_print(struct journal *j, int64_t id)
{
	char *card = drill_card(j, id, false);
	if (!card)
		return;
	putchar('\n');
	for (const char *p = card; *p;) {
		size_t n = strcspn(p, "\n");
		char *line = xstrndup(p, n);
		print_clean("", line, "\n");
		free(line);
		p += n + (p[n] == '\n');
	}
	free(card);
}

static int show_run(struct journal *j, int64_t id, bool output)
{
	struct run_report r;
	struct err e = { "" };
	int rc = report_load(j, id, &r, &e);

	if (rc < 0) {
		journal_cli_error("show", &e);
		return QRH_EXIT_FAILED;
	}
	if (rc == 0) {
		journal_cli_no_run("show", id);
		return QRH_EXIT_USAGE;
	}
	header_print(&r);
	rc = steps_print(j, &r, output);
	show_probes_print(&r);
	notes_print(&r);
	if (r.run.mode && !strcmp(r.run.mode, "drill"))
		card_print(j, id);
	report_release(&r);
	if (rc > 0)
		fprintf(stderr, "qrh show: stored output of run %lld is not what "
			"its chain says (not shown): see qrh verify\n",
			(long long)id);
	return rc ? QRH_EXIT_FAILED : QRH_EXIT_OK;
}

int cmd_show(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "journal", required_argument, 0, 'j' },
		{ "output", no_argument, 0, 'o' },
		{ "help", no_argument, 0, 'h' },
		{ 0, 0, 0, 0 },
	};
	const char *journal = NULL;
	bool output = false;
	struct journal *j;
	int64_t id = 0;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (c == 'j')
			journal = optarg;
		else if (c == 'o')
			output = true;
		else if (c == 'h')
			return help_command("show");
		else
			return usage_error("show", "unknown option");
	}
	if (argc - optind > 1)
		return usage_error("show", "give at most one run");
	j = journal_cli_open("show", journal);
	if (!j)
		return QRH_EXIT_USAGE;
	rc = journal_cli_run("show", j, optind < argc ? argv[optind] : NULL,
			     &id);
	if (rc == QRH_EXIT_OK)
		rc = show_run(j, id, output);
	journal_close(j);
	return rc;
}
