/* qrh drill's front-end part (tui/drill.h). */
#include "tui/drill.h"

#include <langinfo.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runbooks/fault.h"
#include "runbooks/load.h"
#include "state/report.h"
#include "state/score.h"
#include "tui/cli.h"
#include "tui/sandbox_ctl.h"
#include "tui/sanitize.h"
#include "util/xalloc.h"

static int add_fault(struct drill *d, const struct runbook *rb, const char *spec,
		     const char *cmd)
{
	struct fault f;
	char msg[FAULT_MSG_MAX];
	if (fault_parse(spec, &f, msg) < 0) {
		cli_error("qrh %s: bad fault '%s': %s", cmd, spec, msg);
		return -1;
	}
	if (!fault_step_known(rb, &f)) {
		cli_error("qrh %s: fault '%s': no step has the id '%s'", cmd, spec, f.value);
		return -1;
	}
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "spec", spec);
	cJSON_AddStringToObject(o, "name", fault_name(f.kind));
	cJSON_AddItemToArray(d->faults, o);
	return 0;
}

/* The sandbox applies each fault that is its own; the result is recorded. */
static void apply(struct drill *d)
{
	cJSON *f;
	cJSON_ArrayForEach(f, d->faults)
	{
		const char *spec = cJSON_GetObjectItemCaseSensitive(f, "spec")->valuestring;
		struct fault x;
		char msg[FAULT_MSG_MAX];
		fault_parse(spec, &x, msg);
		bool ok = true;
		if (fault_in_sandbox(&x)) {
			const char *args[] = { "fault", "apply", spec, NULL };
			ok = d->sandbox && sandbox_call(args, d->quiet) == 0;
			if (!ok)
				cJSON_AddStringToObject(f, "error", d->sandbox ? "the sandbox could not apply it"
										: "no sandbox is up");
		}
		cJSON_AddBoolToObject(f, "applied", ok);
	}
}

int drill_setup(struct drill *d, const struct runbook *rb,
		const struct strv *cli_faults, bool quiet, const char *cmd)
{
	memset(d, 0, sizeof *d);
	d->faults = cJSON_CreateArray();
	d->quiet = quiet;
	d->sandbox = sandbox_exists();
	for (size_t i = 0; i < rb->faults.n; i++)
		if (add_fault(d, rb, rb->faults.v[i], cmd) < 0)
			return -1;
	for (size_t i = 0; cli_faults && i < cli_faults->n; i++)
		if (add_fault(d, rb, cli_faults->v[i], cmd) < 0)
			return -1;
	if (cJSON_GetArraySize(d->faults)) {
		/* a fault left by a drill that never ended must not add up */
		const char *clear[] = { "fault", "clear", NULL };
		if (d->sandbox)
			sandbox_call(clear, quiet);
		apply(d);
	}
	return 0;
}

static bool given_with_v(const struct strv *given, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; given && i < given->n; i++)
		if (!strncmp(given->v[i], name, n) && given->v[i][n] == '=')
			return true;
	return false;
}

void drill_values(struct drill *d, struct run *r, const struct strv *given)
{
	struct strv env = { 0 };
	struct err e;
	if (!d->sandbox || !sandbox_env(&env))
		return;
	for (size_t i = 0; i < env.n; i++) {
		char *name = xstrdup(env.v[i]), *eq = strchr(name, '=');
		*eq = '\0';
		if (runbook_var(run_runbook(r), name) && !given_with_v(given, name))
			run_set_value(r, name, eq + 1, &e);
		free(name);
	}
	strv_release(&env);
}

char *drill_card(struct journal *j, int64_t id, bool hide_faults)
{
	struct run_report r;
	struct drill_score s;
	struct err e;
	if (report_load(j, id, &r, &e) <= 0)
		return NULL;
	char *text = NULL;
	if (score_load(j, &r, &s, &e) == 0) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		score_text(&s, hide_faults || !r.run.outcome, &b);
		text = buf_detach(&b, NULL);
		score_release(&s);
	}
	report_release(&r);
	return text;
}

/* Text with titles from the runbook: each line sanitized. */
static void print_lines(const char *text)
{
	for (const char *p = text; *p;) {
		size_t n = strcspn(p, "\n");
		char *clean = sanitize_string(p, n);
		printf("%s\n", clean);
		free(clean);
		p += n + (p[n] == '\n');
	}
}

void drill_after(struct drill *d, struct journal *j, int64_t id, bool print)
{
	struct journal_run jr = { 0 };
	struct err e;
	if (journal_run_get(j, id, &jr, &e) <= 0)
		return;
	if (jr.outcome) {
		const char *clear[] = { "fault", "clear", NULL };
		if (d->sandbox)
			sandbox_call(clear, d->quiet);
		char *card = print ? drill_card(j, id, false) : NULL;
		if (card)
			print_lines(card);
		free(card);
	}
	journal_run_release(&jr);
}

void drill_release(struct drill *d)
{
	cJSON_Delete(d->faults);
	d->faults = NULL;
}

/* ---- qrh drill --history ---- */

struct past {
	struct journal_run *run;
	struct drill_score score;
};

static bool same_runbook(const struct journal_run *jr, const char *real, const char *title)
{
	char other[PATH_MAX];
	if (!jr->mode || strcmp(jr->mode, "drill"))
		return false;
	if (real && jr->runbook_path && realpath(jr->runbook_path, other) && !strcmp(real, other))
		return true;
	return title && jr->title && !strcmp(title, jr->title);
}

/* One character per value: higher is longer. */
static void sparkline(const int64_t *v, size_t n, bool utf8, struct buf *out)
{
	static const char *const bars[] = { "\u2581", "\u2582", "\u2583", "\u2584",
					    "\u2585", "\u2586", "\u2587", "\u2588" };
	static const char ascii[] = "_.-=+*#@";
	int64_t lo = INT64_MAX, hi = 0;
	for (size_t i = 0; i < n; i++)
		if (v[i] >= 0) {
			lo = v[i] < lo ? v[i] : lo;
			hi = v[i] > hi ? v[i] : hi;
		}
	for (size_t i = 0; i < n; i++) {
		if (v[i] < 0) {
			buf_addc(out, ' ');
			continue;
		}
		int k = hi > lo ? (int)((v[i] - lo) * 7 / (hi - lo)) : 3;
		if (utf8)
			buf_adds(out, bars[k]);
		else
			buf_addc(out, ascii[k]);
	}
}

static void history_print(struct past *p, size_t n, const struct runbook *rb)
{
	bool utf8 = !strcmp(nl_langinfo(CODESET), "UTF-8");
	char t[32], rto[32], rpo[32];
	printf("run   started (UTC)        outcome      time  steps in par  skips retries hints  RTO      RPO\n");
	for (size_t i = 0; i < n; i++) {
		const struct drill_score *s = &p[i].score;
		char when[32];
		time_t secs = (time_t)(p[i].run->started_ms / 1000);
		struct tm tm;
		gmtime_r(&secs, &tm);
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
		score_duration(s->total_ms, t, sizeof t);
		score_duration(s->rto.measured_ms, rto, sizeof rto);
		score_duration(s->rpo.measured_ms, rpo, sizeof rpo);
		printf("%-5lld %-20s %-10s %7s  %5d/%-6d %5d %7d %5d  %-8s %s\n",
		       (long long)p[i].run->id, when, s->ended ? s->outcome : "unfinished", t,
		       s->within_par, s->with_par, s->skips, s->retries, s->hints, rto, rpo);
	}
	printf("\nper step, oldest drill first:\n");
	printf("    step                             par      trend%*s last     best\n",
	       n > 5 ? (int)n - 5 : 0, "");
	int64_t *v = xcalloc(n ? n : 1, sizeof *v);
	for (size_t k = 0; k < rb->n_steps; k++) {
		int64_t best = -1, last = -1;
		for (size_t i = 0; i < n; i++) {
			v[i] = -1;
			const struct drill_score *s = &p[i].score;
			for (size_t m = 0; m < s->n_steps; m++)
				if (rb->steps[k].id && !strcmp(s->steps[m].id, rb->steps[k].id) &&
				    s->steps[m].time_ms != REPORT_NONE)
					v[i] = s->steps[m].time_ms;
			if (v[i] >= 0) {
				last = v[i];
				best = best < 0 || v[i] < best ? v[i] : best;
			}
		}
		struct buf line;
		buf_init(&line, BUF_UNLIMITED);
		sparkline(v, n, utf8, &line);
		for (size_t i = n; i < 5; i++)
			buf_addc(&line, ' ');
		char par[32], l[32], b[32];
		score_duration(rb->steps[k].par_ms, par, sizeof par);
		score_duration(last, l, sizeof l);
		score_duration(best, b, sizeof b);
		char *title = sanitize_string(rb->steps[k].title ? rb->steps[k].title : "",
					      rb->steps[k].title ? strlen(rb->steps[k].title) : 0);
		printf("%3zu %-32.32s %-8s %s %-8s %s\n", k + 1, title, par, line.data, l, b);
		free(title);
		buf_release(&line);
	}
	free(v);
}

int drill_history(const char *journal_path, const char *runbook)
{
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_file(runbook, &d);
	diags_print(stderr, runbook, &d);
	diags_release(&d);
	if (!rb)
		return QRH_EXIT_USAGE;
	struct journal *j = journal_cli_open("drill", journal_path);
	if (!j) {
		runbook_free(rb);
		return QRH_EXIT_USAGE;
	}
	struct journal_run *runs = NULL;
	size_t n_runs = 0, n = 0;
	struct err e;
	int rc = QRH_EXIT_OK;
	char real[PATH_MAX];
	const char *rp = realpath(runbook, real);
	if (journal_runs_list(j, &runs, &n_runs, &e) < 0) {
		journal_cli_error("drill", &e);
		rc = QRH_EXIT_FAILED;
		goto out;
	}
	struct past *p = xcalloc(n_runs ? n_runs : 1, sizeof *p);
	for (size_t i = n_runs; i-- > 0;) { /* oldest first */
		struct run_report r;
		if (!same_runbook(&runs[i], rp, rb->title) || report_load(j, runs[i].id, &r, &e) <= 0)
			continue;
		if (score_load(j, &r, &p[n].score, &e) == 0)
			p[n++].run = &runs[i];
		report_release(&r);
	}
	char *title = sanitize_string(rb->title ? rb->title : runbook,
				      strlen(rb->title ? rb->title : runbook));
	printf("drills of %s: %zu\n", title, n);
	free(title);
	if (n)
		history_print(p, n, rb);
	for (size_t i = 0; i < n; i++)
		score_release(&p[i].score);
	free(p);
out:
	journal_runs_free(runs, n_runs);
	journal_close(j);
	runbook_free(rb);
	return rc;
}
