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
#include "tui/outq.h"
#include "tui/plain.h"
#include "tui/probe_text.h"
#include "tui/sanitize.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/xalloc.h"

#define PLAIN_LINE_MAX 4096

/* A task's stream being cut into lines. */
struct line_state {
	int64_t task;
	enum proc_stream stream;
	size_t step;
	struct sanitizer san;
	struct buf line;
	char prefix[96]; /* "[N] | " or "[N web-1] | " */
	size_t prefix_len;
};

/* The front end's own state: plain mode is the process's one front end. */
static struct {
	const struct runbook *rb;
	struct line_state *lines; /* the open streams of running tasks */
	size_t n, cap;
	bool quiet_output;
	const struct run *run;           /* for its clocks; NULL: none */
	int64_t rto_started, rto_stopped; /* the clock news already told */
} out_state;

void plain_print_setup(const struct runbook *rb, bool quiet_output);
void plain_print_flush(void);

void plain_print_setup(const struct runbook *rb, bool quiet_output)
{
	out_state.rb = rb;
	out_state.quiet_output = quiet_output;
}

/* Prints every complete line held, prefixed, in one queued write; a line
 * longer than PLAIN_LINE_MAX is cut and marked as going on. */
static void emit_lines(struct line_state *ls)
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
	while (left > PLAIN_LINE_MAX) {
		size_t bytes;
		sanitize_clip(p, left, PLAIN_LINE_MAX / 4, &bytes);
		if (!bytes)
			bytes = 1;
		buf_add(&batch, ls->prefix, ls->prefix_len);
		buf_add(&batch, p, bytes);
		buf_adds(&batch, "\n");
		buf_add(&batch, ls->prefix, ls->prefix_len - 2);
		buf_adds(&batch, "+(line continues)\n");
		left -= bytes;
		p += bytes;
	}
	outq_add(batch.data, batch.len);
	buf_release(&batch);
	memmove(ls->line.data, p, left);
	ls->line.len = left;
	ls->line.data[left] = '\0';
}

static struct line_state *line_for(const struct run_chunk *c)
{
	for (size_t i = 0; i < out_state.n; i++)
		if (out_state.lines[i].task == c->task && out_state.lines[i].stream == c->stream)
			return &out_state.lines[i];
	out_state.lines = xgrow(out_state.lines, &out_state.cap, out_state.n + 1,
				sizeof *out_state.lines);
	struct line_state *ls = &out_state.lines[out_state.n++];
	memset(ls, 0, sizeof *ls);
	ls->task = c->task;
	ls->stream = c->stream;
	ls->step = c->step;
	sanitize_init(&ls->san, 0);
	buf_init(&ls->line, BUF_UNLIMITED);
	char *label = c->label ? sanitize_string(c->label, strlen(c->label)) : NULL;
	ls->prefix_len = (size_t)snprintf(ls->prefix, sizeof ls->prefix, "[%zu%s%.40s] %c ",
					  c->step + 1, label ? " " : "", label ? label : "",
					  c->stream == PROC_STDOUT ? '|' : '!');
	if (ls->prefix_len >= sizeof ls->prefix)
		ls->prefix_len = sizeof ls->prefix - 1;
	free(label);
	return ls;
}

static void on_output(void *arg, const struct run_chunk *c)
{
	(void)arg;
	if (out_state.quiet_output)
		return;
	struct line_state *ls = line_for(c);
	sanitize_feed(&ls->san, c->data, c->len, &ls->line);
	emit_lines(ls);
}

/* The last, unterminated line of a stream. */
static void line_close(size_t i)
{
	struct line_state *ls = &out_state.lines[i];
	sanitize_flush(&ls->san, &ls->line);
	if (ls->line.len) {
		outq_add(ls->prefix, ls->prefix_len);
		outq_add(ls->line.data, ls->line.len);
		outq_add("\n", 1);
	}
	buf_release(&ls->line);
	out_state.lines[i] = out_state.lines[--out_state.n];
}

/* A task ended: its last lines go out before what the engine says of it. */
static void on_task(void *arg, const struct run_task_view *t)
{
	(void)arg;
	if (t->running)
		return;
	for (size_t i = out_state.n; i-- > 0;)
		if (out_state.lines[i].task == t->task)
			line_close(i);
}

void plain_print_flush(void)
{
	while (out_state.n)
		line_close(out_state.n - 1);
	free(out_state.lines);
	out_state.lines = NULL;
	out_state.cap = 0;
	outq_drain();
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

/* "; 4096 bytes of its output lost: the journal could not be written" */
static void lost_add(struct buf *b, const cJSON *p)
{
	long long lost = 0;
	for (int i = 0; i < 2; i++) {
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(p, i ? "stderr" : "stdout");
		const cJSON *l = cJSON_GetObjectItemCaseSensitive(s, "lost");
		if (cJSON_IsNumber(l) && l->valuedouble > 0)
			lost += (long long)l->valuedouble;
	}
	if (lost)
		buf_addf(b, "; %lld bytes of its output lost: the journal could not be written", lost);
}

/* survivor_wait, survivor_stop, survivor_end */
static void describe_survivor(const struct journal_event *ev, const cJSON *p,
			      struct buf *b)
{
	if (!strcmp(ev->type, EV_SURVIVOR_END)) {
		const char *how = str(p, "how");
		buf_addf(b, "its process left running (pid %lld) %s, %lld s after the choice",
			 num(p, "pgid"), !strcmp(how, "killed") ? "was killed" :
			 !strcmp(how, "stopped") ? "stopped" : "ended on its own",
			 num(p, "after_ms") / 1000);
		return;
	}
	buf_adds(b, !strcmp(ev->type, EV_SURVIVOR_WAIT) ? "waiting for" : "stopping");
	buf_adds(b, " its process left running (pid");
	const cJSON *g;
	cJSON_ArrayForEach(g, cJSON_GetObjectItemCaseSensitive(p, "pgids"))
		buf_addf(b, " %lld", cJSON_IsNumber(g) ? (long long)g->valuedouble : -1LL);
	buf_adds(b, "): chosen by ");
	add_clean(b, ev->actor, 80);
}

static void describe_event(const struct journal_event *ev, const cJSON *p,
			   struct buf *b)
{
	const char *t = ev->type;
	if (!strcmp(t, EV_STEP_CONFIRM)) {
		buf_addf(b, "confirmed by ");
		add_clean(b, ev->actor, 80);
		buf_addf(b, " (%s%s)", str(p, "how"),
			 cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(p, "out_of_order"))
				 ? ", out of order" : "");
	} else if (!strcmp(t, EV_APPROVAL_REQUEST)) {
		buf_addf(b, "approval by another identity asked (sha256 %.12s, within %lld s)",
			 str(p, "command_sha256"), num(p, "ttl_ms") / 1000);
	} else if (!strcmp(t, EV_APPROVAL) || !strcmp(t, EV_APPROVAL_REFUSED)) {
		buf_adds(b, !strcmp(t, EV_APPROVAL) ? "approved by " : "approval refused: ");
		add_clean(b, ev->actor, 80);
		buf_adds(b, " (");
		add_clean(b, str(p, "via"), 8);
		buf_adds(b, ")");
		if (*str(p, "reason")) {
			buf_adds(b, ": ");
			add_clean(b, str(p, "reason"), 200);
		}
	} else if (!strcmp(t, EV_STEP_START)) {
		buf_addf(b, "started, attempt %lld", num(p, "attempt"));
	} else if (!strcmp(t, EV_ACTION_START) || !strcmp(t, EV_BACKGROUND_START)) {
		buf_addf(b, "%s %lld (%s): ", !strcmp(t, EV_ACTION_START) ? "action" : "background",
			 num(p, "action") + 1, str(p, "kind"));
		const cJSON *fo = cJSON_GetObjectItemCaseSensitive(p, "fanout");
		if (fo)
			buf_addf(b, "on %lld members of %s, %lld at a time: ", num(fo, "members"),
				 str(fo, "group"), num(fo, "parallel"));
		add_clean(b, str(p, "command"), 200);
	} else if (!strcmp(t, EV_TASK_START)) {
		buf_adds(b, "on ");
		add_clean(b, str(p, "label"), 80);
		buf_adds(b, ": started");
	} else if (!strcmp(t, EV_TASK_END)) {
		buf_adds(b, "on ");
		add_clean(b, str(p, "label"), 80);
		buf_addf(b, ": %s in %lld ms: ", str(p, "status"), num(p, "duration_ms"));
		add_clean(b, str(p, "summary"), 200);
		lost_add(b, p);
	} else if (!strcmp(t, EV_ACTION_END)) {
		buf_addf(b, "action %lld %s in %lld ms: ", num(p, "action") + 1,
			 str(p, "status"), num(p, "duration_ms"));
		add_clean(b, str(p, "summary"), 200);
		lost_add(b, p);
	} else if (!strcmp(t, EV_STEP_END)) {
		buf_addf(b, "%s in %lld ms (", str(p, "status"), num(p, "duration_ms"));
		add_clean(b, str(p, "summary"), 200);
		buf_adds(b, ")");
		if (num(p, "elapsed_ms") > num(p, "duration_ms"))
			buf_addf(b, ", %lld ms since its first start", num(p, "elapsed_ms"));
	} else if (!strcmp(t, EV_STEP_RETRY)) {
		buf_addf(b, "retrying in %lld ms (attempt %lld)", num(p, "backoff_ms"), num(p, "attempt"));
	} else if (!strcmp(t, EV_STEP_CANCEL)) {
		buf_adds(b, "cancelled while waiting to try again");
	} else if (!strcmp(t, EV_STEP_SKIP) || !strcmp(t, EV_STEP_DONE_BY_HAND)) {
		buf_addf(b, "%s by ", !strcmp(t, EV_STEP_SKIP) ? "skipped" : "done by hand");
		add_clean(b, ev->actor, 80);
		buf_adds(b, ": ");
		add_clean(b, !strcmp(t, EV_STEP_SKIP) ? str(p, "reason") : str(p, "note"), 200);
	} else if (!strcmp(t, EV_STEP_INTERRUPTED)) {
		buf_addf(b, "interrupted (attempt %lld): outcome unknown", num(p, "attempt"));
		const cJSON *sv;
		cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(p, "survivors"))
		{
			buf_addf(b, "; pid %lld (", num(sv, "pgid"));
			add_clean(b, str(sv, "command"), 60);
			buf_addf(b, ") is still running, started %lld s ago",
				 num(sv, "started_ms_ago") / 1000);
		}
	} else if (!strcmp(t, EV_CAPTURE)) {
		buf_addf(b, "captured ");
		add_clean(b, str(p, "name"), 80);
	} else if (!strcmp(t, EV_BACKGROUND_END)) {
		buf_addf(b, "background ");
		add_clean(b, str(p, "name"), 80);
		buf_addf(b, " ended (%s", str(p, "status"));
		if (num(p, "exit_code") >= 0)
			buf_addf(b, ", exit %lld", num(p, "exit_code"));
		buf_adds(b, ")");
		lost_add(b, p);
	} else if (!strncmp(t, "survivor_", 9)) {
		describe_survivor(ev, p, b);
	} else if (!strcmp(t, EV_TASK_REAPED)) {
		buf_addf(b, "a background process of the earlier session: %s", str(p, "how"));
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
	} else if (!strcmp(t, EV_NOTIFY_FAILED)) {
		buf_adds(b, "notification not delivered (");
		add_clean(b, str(p, "what"), 40);
		if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(p, "step_id"))) {
			buf_adds(b, " of ");
			add_clean(b, str(p, "step_id"), 80);
		}
		buf_addf(b, ", %lld attempts): ", num(p, "attempts"));
		add_clean(b, str(p, "error"), 200);
		buf_adds(b, "; the run goes on");
	} else if (!strcmp(t, EV_HANGUP)) {
		buf_adds(b, "hangup: the terminal went away; finishing the running step");
	} else if (probe_event_text(ev, p, b)) {
		/* probes and objectives: tui/probe_text.c */
	} else if (!strcmp(t, EV_DRILL)) {
		/* which faults: only in the score card at the end */
		buf_addf(b, "drill: %d faults injected (shown at the end)",
			 cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "faults")));
	} else if (!strcmp(t, EV_HINT)) {
		buf_adds(b, "hint shown");
	} else {
		buf_adds(b, t);
	}
}

void plain_listener_run(const struct run *r)
{
	out_state.run = r;
	out_state.rto_started = out_state.rto_stopped = 0;
}

/* The RTO clock starting or stopping, and the verdict at the end. */
static void clock_news(const struct journal_event *ev, const char *when)
{
	struct buf b;
	if (!out_state.run)
		return;
	buf_init(&b, BUF_UNLIMITED);
	objectives_news(run_fold(out_state.run), &out_state.rto_started,
			&out_state.rto_stopped, &b);
	if (!strcmp(ev->type, EV_RUN_END)) {
		struct fold_objectives o;
		run_objectives(out_state.run, &o);
		if (o.recorded) {
			buf_adds(&b, "objectives: ");
			objectives_verdict(run_fold(out_state.run), &o, &b);
			buf_addc(&b, '\n');
		}
	}
	for (const char *line = b.data; *line;) {
		const char *nl = strchr(line, '\n');
		outq_printf("%s %.*s\n", when, (int)(nl - line), line);
		line = nl + 1;
	}
	buf_release(&b);
}

static void on_event(void *arg, const struct journal_event *ev)
{
	if (!strcmp(ev->type, EV_TASK_PROCESS))
		return; /* bookkeeping for resume: nothing to read */
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
	outq_printf("%s %s\n", when, b.data);
	clock_news(ev, when);
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
				outq_printf("    %.*s\n", (int)n, line);
				line += n + 1;
			}
			buf_release(&clean);
		}
	}
	cJSON_Delete(p);
	buf_release(&b);
}

static void on_journal_failed(void *arg, const char *msg)
{
	(void)arg;
	cli_error("qrh: the journal cannot be written: %s", msg);
}

static struct {
	void (*fn)(void *arg, size_t step);
	void *arg;
} steps_hook;

void plain_listener_steps(void (*fn)(void *arg, size_t step), void *arg)
{
	steps_hook.fn = fn;
	steps_hook.arg = arg;
}

static void on_step_done(void *arg, size_t step)
{
	(void)arg;
	if (steps_hook.fn)
		steps_hook.fn(steps_hook.arg, step);
}

void plain_listener(struct run_listener *lis)
{
	memset(lis, 0, sizeof *lis);
	lis->event = on_event;
	lis->output = on_output;
	lis->task = on_task;
	lis->step_done = on_step_done;
	lis->journal_failed = on_journal_failed;
}
