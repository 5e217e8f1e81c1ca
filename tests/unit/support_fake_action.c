/* The scripted action kind of tests/unit/fake_action.h. */
#include "tests/unit/fake_action.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/clock.h"
#include "util/xalloc.h"

struct fake_stats fake_stats;

struct action_kind_state {
	int unused;
};

struct action_run {
	struct action_ctx ctx;
	char *script;
	char *pos;
	uint64_t timer;
	bool in_cancel;
	bool done;
	bool hanging;
	cJSON *values;
	int64_t started_ns;
	struct action_later later;
};

void fake_reset(void)
{
	memset(&fake_stats, 0, sizeof fake_stats);
}

static int fake_open(const struct action_host *h, struct action_kind_state **out,
		     struct err *e)
{
	(void)h;
	(void)e;
	*out = xcalloc(1, sizeof **out);
	fake_stats.opened++;
	return 0;
}

static void fake_close(struct action_kind_state *ks)
{
	fake_stats.closed++;
	free(ks);
}

static int fake_describe(const struct action *a, const struct action_target *t,
			 var_lookup_fn *lookup, void *arg, struct buf *out,
			 struct err *e)
{
	(void)lookup;
	(void)arg;
	(void)e;
	buf_addf(out, "fake%s%s: %s", t ? " on " : "", t ? t->name : "",
		 a->body ? a->body : "");
	return 0;
}

static void finish(struct action_run *r, enum action_status st, int code,
		   const char *summary)
{
	struct action_result res = { .status = st, .exit_code = code,
				     .values = r->values };
	res.duration_ns = clock_mono_ns() - r->started_ns;
	action_summary(&res, "%s", summary);
	r->done = true;
	fake_stats.running--;
	if (r->in_cancel) {
		/* done must come later, from the loop: say so if it would not */
		action_later_done(&r->later, r->ctx.loop, &r->ctx.sink, &res);
		return;
	}
	r->ctx.sink.done(r->ctx.sink.arg, &res);
}

static void step_script(struct loop *l, uint64_t id, void *arg);

/* "a:10,b:20": the number for this task's target, else dflt. */
static long long by_target(const struct action_run *r, const char *spec, long long dflt)
{
	const char *name = r->ctx.target ? r->ctx.target->name : "";
	size_t n = strlen(name);
	for (const char *p = spec; p && *p; p = strchr(p, ',') ? strchr(p, ',') + 1 : NULL)
		if (!strncmp(p, name, n) && p[n] == ':')
			return atoll(p + n + 1);
	return dflt;
}

static void schedule(struct action_run *r, int64_t ms)
{
	r->timer = loop_timer_add(r->ctx.loop, ms, step_script, r);
}

/* Runs commands until one waits or ends the action. */
static void step_script(struct loop *l, uint64_t id, void *arg)
{
	struct action_run *r = arg;
	(void)l;
	(void)id;
	r->timer = 0;
	while (r->pos && *r->pos) {
		char *line = r->pos;
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		r->pos = nl ? nl + 1 : NULL;
		char *arg1 = strchr(line, ' ');
		if (arg1)
			*arg1++ = '\0';
		const char *a = arg1 ? arg1 : "";
		if (!strcmp(line, "out") || !strcmp(line, "err")) {
			struct buf b;
			buf_init(&b, BUF_UNLIMITED);
			buf_addf(&b, "%s\n", a);
			r->ctx.sink.output(r->ctx.sink.arg,
					   !strcmp(line, "out") ? PROC_STDOUT : PROC_STDERR,
					   b.data, b.len);
			buf_release(&b);
		} else if (!strcmp(line, "progress")) {
			cJSON *v = cJSON_Parse(a);
			r->ctx.sink.progress(r->ctx.sink.arg, v);
			cJSON_Delete(v);
		} else if (!strcmp(line, "values")) {
			cJSON_Delete(r->values);
			r->values = cJSON_Parse(a);
		} else if (!strcmp(line, "bytes")) {
			/* N bytes of output, 16 KiB a loop pass, like a stream */
			long long left = atoll(a);
			static const char block[16384] = { [0 ... 16382] = 'x', [16383] = '\n' };
			size_t n = left > (long long)sizeof block ? sizeof block : (size_t)left;
			if (n)
				r->ctx.sink.output(r->ctx.sink.arg, PROC_STDOUT, block, n);
			left -= (long long)n;
			if (left > 0) {
				/* come back to this line for the rest */
				size_t cap = 48 + (r->pos ? strlen(r->pos) : 0);
				char *again = xcalloc(1, cap);
				snprintf(again, cap, "bytes %lld\n%s", left, r->pos ? r->pos : "");
				free(r->script);
				r->script = r->pos = again;
				schedule(r, 0);
				return;
			}
		} else if (!strcmp(line, "spawn")) {
			r->ctx.sink.process(r->ctx.sink.arg, 999999, 1);
		} else if (!strcmp(line, "wait")) {
			schedule(r, atoll(a));
			return;
		} else if (!strcmp(line, "waitby")) {
			schedule(r, by_target(r, a, 0));
			return;
		} else if (!strcmp(line, "exitby")) {
			int code = (int)by_target(r, a, 0);
			char s[32];
			snprintf(s, sizeof s, "exit %d", code);
			finish(r, code ? ACTION_FAILED : ACTION_OK, code, s);
			return;
		} else if (!strcmp(line, "exit")) {
			int code = atoi(a);
			char s[32];
			snprintf(s, sizeof s, "exit %d", code);
			finish(r, code ? ACTION_FAILED : ACTION_OK, code, s);
			return;
		} else if (!strcmp(line, "unknown")) {
			finish(r, ACTION_UNKNOWN, -1, "outcome unknown");
			return;
		} else if (!strcmp(line, "hang")) {
			r->hanging = true;
			return;
		}
	}
	finish(r, ACTION_OK, 0, "exit 0");
}

static struct action_run *fake_start(const struct action *a,
				     const struct action_ctx *ctx, struct err *e)
{
	const char *body = a->body ? a->body : "";
	if (!strncmp(body, "fail-start ", 11)) {
		err_set(e, "%s", body + 11);
		return NULL;
	}
	struct action_run *r = xcalloc(1, sizeof *r);
	r->ctx = *ctx;
	r->script = xstrdup(body);
	r->pos = r->script;
	r->started_ns = clock_mono_ns();
	fake_stats.started++;
	fake_stats.running++;
	if (fake_stats.running > fake_stats.max_running)
		fake_stats.max_running = fake_stats.running;
	schedule(r, 0);
	return r;
}

static void fake_cancel(struct action_run *r, enum action_cancel_reason why)
{
	(void)why;
	if (r->done)
		return;
	if (r->timer)
		loop_timer_cancel(r->ctx.loop, r->timer);
	r->timer = 0;
	fake_stats.cancelled++;
	r->in_cancel = true;
	finish(r, ACTION_CANCELLED, -1, "cancelled");
	r->in_cancel = false;
}

static void fake_free(struct action_run *r)
{
	if (!r)
		return;
	if (!r->done) {
		fake_stats.freed_running++;
		fake_stats.running--;
	}
	if (r->timer)
		loop_timer_cancel(r->ctx.loop, r->timer);
	action_later_release(&r->later);
	cJSON_Delete(r->values);
	free(r->script);
	free(r);
}

const struct action_entry fake_entry = {
	.kind = ACTION_SH,
	.open = fake_open,
	.close = fake_close,
	.describe = fake_describe,
	.start = fake_start,
	.cancel = fake_cancel,
	.free = fake_free,
};

const struct action_entry *const fake_entries[ACTION_KIND_COUNT] = {
	[ACTION_SH] = &fake_entry,
	[ACTION_EXEC] = &fake_entry,
	[ACTION_SSH] = &fake_entry,
	[ACTION_HTTP] = &fake_entry,
};
