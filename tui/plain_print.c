/* How plain mode prints events and output. Everything that came from
 * outside qrh (titles, commands, output, notes) goes through the sanitizer
 * before it reaches the terminal or the log. */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "state/events.h"
#include "tui/cli.h"
#include "tui/plain.h"
#include "tui/sanitize.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define PLAIN_LINE_MAX 4096

struct line_state {
	struct sanitizer san;
	struct buf line;
	char prefix[32]; /* "[N] | " */
	size_t prefix_len;
	bool used;
};

/* The front end's own state: plain mode is the process's one front end. */
static struct {
	const struct runbook *rb;
	struct line_state *lines; /* 2 per step: stdout, stderr */
	size_t n;
	bool quiet_output;
} out_state;

void plain_print_setup(const struct runbook *rb, bool quiet_output);
void plain_print_flush(void);

void plain_print_setup(const struct runbook *rb, bool quiet_output)
{
	static char outbuf[1 << 16];
	if (!isatty(STDOUT_FILENO)) /* logs and pipes: fewer, larger writes */
		setvbuf(stdout, outbuf, _IOFBF, sizeof outbuf);
	out_state.rb = rb;
	out_state.n = rb->n_steps * 2;
	out_state.lines = xcalloc(out_state.n ? out_state.n : 1, sizeof *out_state.lines);
	out_state.quiet_output = quiet_output;
}

/* The hot path for big outputs: no printf per line. */
static void print_line(size_t step, enum proc_stream stream, const char *s,
		       size_t n, const char *cont)
{
	char prefix[32];
	int p = snprintf(prefix, sizeof prefix, "[%zu] %c ", step + 1,
			 stream == PROC_STDOUT ? '|' : '!');
	fwrite(prefix, 1, (size_t)p, stdout);
	fputs(cont, stdout);
	fwrite(s, 1, n, stdout);
	putchar('\n');
}

/* Prints every complete line held, prefixed, with one write. */
static void emit_lines(size_t step, enum proc_stream stream,
		       struct line_state *ls)
{
	char *p = ls->line.data;
	size_t left = ls->line.len;
	char *nl;
	struct buf batch;
	buf_init(&batch, BUF_UNLIMITED);
	while ((nl = memchr(p, '\n', left))) {
		buf_add(&batch, ls->prefix, ls->prefix_len);
		buf_add(&batch, p, (size_t)(nl - p) + 1);
		left -= (size_t)(nl - p) + 1;
		p = nl + 1;
	}
	fwrite(batch.data, 1, batch.len, stdout);
	buf_release(&batch);
	while (left > PLAIN_LINE_MAX) {
		size_t bytes;
		sanitize_clip(p, left, PLAIN_LINE_MAX / 4, &bytes);
		if (!bytes)
			bytes = 1;
		print_line(step, stream, p, bytes, "");
		printf("[%zu] %c +", step + 1, stream == PROC_STDOUT ? '|' : '!');
		printf("(line continues)\n");
		left -= bytes;
		p += bytes;
	}
	memmove(ls->line.data, p, left);
	ls->line.len = left;
	ls->line.data[left] = '\0';
}

static void on_output(void *arg, size_t step, enum proc_stream stream,
		      const char *data, size_t len)
{
	(void)arg;
	if (out_state.quiet_output || step * 2 + 1 >= out_state.n)
		return;
	struct line_state *ls = &out_state.lines[step * 2 + (stream == PROC_STDERR)];
	if (!ls->used) {
		sanitize_init(&ls->san, 0);
		buf_init(&ls->line, BUF_UNLIMITED);
		ls->prefix_len = (size_t)snprintf(ls->prefix, sizeof ls->prefix, "[%zu] %c ",
						  step + 1, stream == PROC_STDOUT ? '|' : '!');
		ls->used = true;
	}
	sanitize_feed(&ls->san, data, len, &ls->line);
	emit_lines(step, stream, ls);
}

void plain_print_flush(void)
{
	for (size_t i = 0; i < out_state.n; i++) {
		struct line_state *ls = &out_state.lines[i];
		if (!ls->used)
			continue;
		sanitize_flush(&ls->san, &ls->line);
		if (ls->line.len)
			print_line(i / 2, i % 2 ? PROC_STDERR : PROC_STDOUT,
				   ls->line.data, ls->line.len, "");
		buf_release(&ls->line);
		ls->used = false;
	}
	fflush(stdout);
}

/* ---- events ---- */

static const char *str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static long long num(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? (long long)v->valuedouble : -1;
}

/* Appends text sanitized to one line, cut at max bytes. */
static void add_clean(struct buf *b, const char *s, size_t max)
{
	const char *nl = strchr(s, '\n');
	size_t n = nl ? (size_t)(nl - s) : strlen(s);
	char *clean = sanitize_string(s, n > max ? max : n);
	buf_adds(b, clean);
	if (n > max || nl)
		buf_adds(b, " ...");
	free(clean);
}

static void describe_event(const struct journal_event *ev, const cJSON *p,
			   struct buf *b)
{
	const char *t = ev->type;
	if (!strcmp(t, EV_STEP_CONFIRM)) {
		buf_addf(b, "confirmed by ");
		add_clean(b, ev->actor, 80);
		buf_addf(b, " (%s)", str(p, "how"));
	} else if (!strcmp(t, EV_STEP_START)) {
		buf_addf(b, "started, attempt %lld", num(p, "attempt"));
	} else if (!strcmp(t, EV_ACTION_START) || !strcmp(t, EV_BACKGROUND_START)) {
		buf_addf(b, "%s %lld (%s): ", !strcmp(t, EV_ACTION_START) ? "action" : "background",
			 num(p, "action") + 1, str(p, "kind"));
		add_clean(b, str(p, "command"), 200);
	} else if (!strcmp(t, EV_ACTION_END)) {
		buf_addf(b, "action %lld %s in %lld ms: ", num(p, "action") + 1,
			 str(p, "status"), num(p, "duration_ms"));
		add_clean(b, str(p, "summary"), 200);
	} else if (!strcmp(t, EV_STEP_END)) {
		buf_addf(b, "%s in %lld ms (", str(p, "status"), num(p, "duration_ms"));
		add_clean(b, str(p, "summary"), 200);
		buf_addf(b, "), output %lld bytes", num(p, "stdout_bytes") + num(p, "stderr_bytes"));
		long long lost = (num(p, "stdout_lost") > 0 ? num(p, "stdout_lost") : 0) +
				 (num(p, "stderr_lost") > 0 ? num(p, "stderr_lost") : 0);
		if (lost)
			buf_addf(b, ", %lld of them lost: the journal could not be written", lost);
	} else if (!strcmp(t, EV_STEP_RETRY)) {
		buf_addf(b, "retrying in %lld ms (attempt %lld)", num(p, "backoff_ms"), num(p, "attempt"));
	} else if (!strcmp(t, EV_STEP_SKIP) || !strcmp(t, EV_STEP_DONE_BY_HAND)) {
		buf_addf(b, "%s by ", !strcmp(t, EV_STEP_SKIP) ? "skipped" : "done by hand");
		add_clean(b, ev->actor, 80);
		buf_adds(b, ": ");
		add_clean(b, !strcmp(t, EV_STEP_SKIP) ? str(p, "reason") : str(p, "note"), 200);
	} else if (!strcmp(t, EV_STEP_INTERRUPTED)) {
		buf_addf(b, "interrupted (attempt %lld): outcome unknown", num(p, "attempt"));
	} else if (!strcmp(t, EV_CAPTURE)) {
		buf_addf(b, "captured ");
		add_clean(b, str(p, "name"), 80);
	} else if (!strcmp(t, EV_BACKGROUND_END)) {
		buf_addf(b, "background ");
		add_clean(b, str(p, "name"), 80);
		buf_addf(b, " ended (exit %lld, signal %lld)", num(p, "exit_code"), num(p, "signal"));
	} else if (!strcmp(t, EV_DRY_RUN)) {
		buf_adds(b, "dry run, would run:");
	} else {
		buf_adds(b, t);
	}
}

static void step_prefix(const struct journal_event *ev, struct buf *b)
{
	const struct runbook *rb = out_state.rb;
	buf_addf(b, "[%lld/%zu] ", (long long)ev->step + 1, rb->n_steps);
	if ((size_t)ev->step < rb->n_steps)
		add_clean(b, rb->steps[ev->step].id, 80);
	buf_adds(b, ": ");
}

static void run_event_text(const struct journal_event *ev, const cJSON *p,
			   struct buf *b)
{
	const char *t = ev->type;
	const struct runbook *rb = out_state.rb;
	if (!strcmp(t, EV_RUN_START)) {
		buf_addf(b, "run %lld started: ", (long long)ev->run_id);
		add_clean(b, rb->title ? rb->title : "(untitled)", 120);
		buf_adds(b, ", operator ");
		add_clean(b, ev->actor, 80);
	} else if (!strcmp(t, EV_RUN_RESUME)) {
		buf_addf(b, "run %lld resumed by ", (long long)ev->run_id);
		add_clean(b, ev->actor, 80);
	} else if (!strcmp(t, EV_RUN_END)) {
		buf_addf(b, "run %lld ended: %s after %lld ms; journal head %lld:%.12s",
			 (long long)ev->run_id, str(p, "outcome"), num(p, "duration_ms"),
			 (long long)ev->seq, ev->hash);
	} else if (!strcmp(t, EV_NOTE)) {
		buf_adds(b, "note by ");
		add_clean(b, ev->actor, 80);
		buf_adds(b, ": ");
		add_clean(b, str(p, "text"), 400);
	} else if (!strcmp(t, EV_SIGNAL)) {
		buf_addf(b, "%s received", str(p, "signal"));
	} else if (!strcmp(t, EV_HANGUP)) {
		buf_adds(b, "hangup: the terminal went away; finishing the running step");
	} else {
		buf_adds(b, t);
	}
}

static void on_event(void *arg, const struct journal_event *ev)
{
	char when[RFC3339_MS_LEN];
	struct buf b;
	(void)arg;
	buf_init(&b, BUF_UNLIMITED);
	cJSON *p = cJSON_Parse(ev->payload ? ev->payload : "{}");
	clock_rfc3339_ms(ev->wall_ms, when);
	if (ev->step >= 0) {
		step_prefix(ev, &b);
		describe_event(ev, p, &b);
	} else {
		run_event_text(ev, p, &b);
	}
	printf("%s %s\n", when, b.data);
	if (!strcmp(ev->type, EV_DRY_RUN)) {
		const cJSON *c = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(p, "commands"), 0);
		if (cJSON_IsString(c)) {
			struct sanitizer s;
			struct buf clean;
			sanitize_init(&s, 0);
			buf_init(&clean, BUF_UNLIMITED);
			sanitize_feed(&s, c->valuestring, strlen(c->valuestring), &clean);
			sanitize_flush(&s, &clean);
			const char *line = clean.data, *end = clean.data + clean.len;
			while (line < end) {
				const char *nl = memchr(line, '\n', (size_t)(end - line));
				size_t n = nl ? (size_t)(nl - line) : (size_t)(end - line);
				printf("    %.*s\n", (int)n, line);
				line += n + 1;
			}
			buf_release(&clean);
		}
	}
	fflush(stdout);
	cJSON_Delete(p);
	buf_release(&b);
}

static void on_journal_failed(void *arg, const char *msg)
{
	(void)arg;
	cli_error("qrh: the journal cannot be written: %s", msg);
}

void plain_listener(struct run_listener *lis)
{
	memset(lis, 0, sizeof *lis);
	lis->event = on_event;
	lis->output = on_output;
	lis->journal_failed = on_journal_failed;
}
