/* Words for probes and objectives (tui/probe_text.h). */
#include "tui/probe_text.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/events.h"
#include "tui/sanitize.h"

void probe_text_ms(int64_t ms, char *out, size_t n)
{
	if (ms < 0)
		snprintf(out, n, "-");
	else if (ms < 1000)
		snprintf(out, n, "%lld ms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, n, "%.2f s", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, n, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
	else
		snprintf(out, n, "%lldh%02lldm", (long long)(ms / 3600000),
			 (long long)(ms / 60000 % 60));
}

static const char *str(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int64_t num(const cJSON *p, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, key);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : -1;
}

/* Text from outside, sanitized and cut to max bytes. */
static void add_clean(struct buf *b, const char *s, size_t max)
{
	char *clean = sanitize_string(s ? s : "", s ? strlen(s) : 0);
	size_t bytes = strlen(clean);
	if (bytes > max)
		sanitize_clip(clean, bytes, (int)max, &bytes);
	buf_add(b, clean, bytes);
	if (bytes < strlen(clean))
		buf_adds(b, "...");
	free(clean);
}

static void budget_text(struct buf *b, const char *what, const cJSON *o,
			const char *k1, const char *k2)
{
	char t[32];
	int64_t ms = num(o, "budget_ms");
	buf_addf(b, "%s ", what);
	if (ms >= 0) {
		probe_text_ms(ms, t, sizeof t);
		buf_adds(b, t);
	} else {
		buf_adds(b, "(no budget)");
	}
	if (str(o, k1))
		buf_addf(b, " from %s", str(o, k1));
	if (k2 && str(o, k2))
		buf_addf(b, " to %s", str(o, k2));
}

bool probe_event_text(const struct journal_event *ev, const cJSON *p, struct buf *b)
{
	const char *t = ev->type;
	char ms[32];
	if (!strcmp(t, EV_OBJECTIVES)) {
		buf_adds(b, "objectives: ");
		const cJSON *rto = cJSON_GetObjectItemCaseSensitive(p, "rto");
		const cJSON *rpo = cJSON_GetObjectItemCaseSensitive(p, "rpo");
		budget_text(b, "RTO", rto, "start", "stop");
		if (num(rpo, "budget_ms") >= 0 || str(rpo, "from")) {
			buf_adds(b, "; ");
			budget_text(b, "RPO", rpo, "from", NULL);
		}
	} else if (!strcmp(t, EV_PROBE_START)) {
		probe_text_ms(num(p, "interval_ms"), ms, sizeof ms);
		buf_addf(b, "probe %s: polled every %s: ", str(p, "probe"), ms);
		add_clean(b, str(p, "command"), 200);
	} else if (!strcmp(t, EV_PROBE_STATE)) {
		buf_addf(b, "probe %s: %s (was %s)", str(p, "probe"), str(p, "state"),
			 str(p, "previous"));
		if (str(p, "value")) {
			buf_adds(b, ", ");
			add_clean(b, str(p, "value"), 60);
		}
		const char *summary = str(p, "summary");
		if (summary && *summary) {
			buf_adds(b, ": ");
			add_clean(b, summary, 120);
		}
	} else if (!strcmp(t, EV_PROBE_STOP)) {
		buf_addf(b, "probe %s: stopped (%s), %lld samples, %lld skipped", str(p, "probe"),
			 str(p, "reason"), (long long)num(p, "samples"), (long long)num(p, "skipped"));
	} else if (!strcmp(t, EV_PROBE_DIGEST)) {
		buf_addf(b, "probe samples %lld-%lld digested: sha256 %.12s", (long long)num(p, "first"),
			 (long long)num(p, "last"), str(p, "sha256") ? str(p, "sha256") : "?");
	} else {
		return false;
	}
	return true;
}

static void moment_text(const struct mark *m, struct buf *b)
{
	char t[QRH_MAX_ID_LEN + 32];
	mark_format(m, t, sizeof t);
	buf_adds(b, t);
}

void objectives_news(const struct run_fold *f, int64_t *seen_start,
		     int64_t *seen_stop, struct buf *out)
{
	const struct fold_objectives *o = &f->obj;
	char a[32], b[32];
	if (o->started.seq && o->started.seq != *seen_start) {
		*seen_start = o->started.seq;
		buf_adds(out, "RTO clock started at ");
		moment_text(&o->start, out);
		if (o->rto_budget_ms >= 0) {
			probe_text_ms(o->rto_budget_ms, a, sizeof a);
			buf_addf(out, ": budget %s", a);
		}
		buf_addc(out, '\n');
	}
	if (o->stopped.seq && o->stopped.seq != *seen_stop) {
		*seen_stop = o->stopped.seq;
		int64_t rto = objectives_rto_measured_ms(f);
		probe_text_ms(rto, a, sizeof a);
		probe_text_ms(o->rto_budget_ms, b, sizeof b);
		buf_adds(out, "RTO clock stopped at ");
		moment_text(&o->stop, out);
		buf_addf(out, ": %s", a);
		if (o->rto_budget_ms >= 0)
			buf_addf(out, " of %s: %s", b, rto <= o->rto_budget_ms ? "met" : "NOT MET");
		buf_addc(out, '\n');
	}
}

void objectives_verdict(const struct run_fold *f, const struct fold_objectives *o,
			struct buf *out)
{
	struct rto_clock c;
	char a[32], b[32];
	size_t start = out->len;
	objectives_rto_clock(f, 0, 0, &c);
	probe_text_ms(c.budget_ms, b, sizeof b);
	probe_text_ms(c.elapsed_ms, a, sizeof a);
	if (c.phase == RTO_NOT_STARTED)
		buf_addf(out, "RTO %s: the clock never started", b);
	else if (c.phase == RTO_RUNNING)
		buf_addf(out, "RTO %s: NOT MET, the clock never stopped (%s at the end)", b, a);
	else if (c.phase == RTO_STOPPED && c.budget_ms >= 0)
		buf_addf(out, "RTO %s of %s: %s", a, b, c.met ? "met" : "NOT MET");
	else if (c.phase == RTO_STOPPED)
		buf_addf(out, "RTO %s (no budget)", a);
	if (o->rpo_budget_ms >= 0 || o->has_rpo_from) {
		probe_text_ms(o->rpo_budget_ms, b, sizeof b);
		probe_text_ms(o->rpo_window_ms, a, sizeof a);
		buf_adds(out, out->len > start ? "; " : "");
		if (o->rpo_window_ms == STEP_NONE && o->rpo_rows_lost == STEP_NONE)
			buf_addf(out, "RPO %s: not measured", b);
		else
			buf_addf(out, "RPO %s of %s", a, b);
		if (o->rpo_rows_lost != STEP_NONE)
			buf_addf(out, ", %lld rows lost", (long long)o->rpo_rows_lost);
		int met = objectives_rpo_met(o);
		if (met >= 0)
			buf_addf(out, ": %s", met ? "met" : "NOT MET");
	}
	if (out->len == start)
		buf_adds(out, "no objectives");
}
