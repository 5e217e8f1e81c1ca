/* What a running action says about itself (an executor's live values: an
 * http wait's attempts and last status, a velero phase, an ssh session's
 * bytes), in a line for the step's title. The values come from outside
 * and are already redacted by the engine; they are sanitized here. */
#include <stdlib.h>
#include <string.h>

#include "tui/console_ui.h"
#include "tui/sanitize.h"
#include "util/buf.h"

/* "attempts 3, status 503, latency_ms 12": flat values only, in order. */
static void live_text(const cJSON *progress, char *out, size_t n)
{
	struct buf b;
	buf_init(&b, n - 1);
	const cJSON *v;
	cJSON_ArrayForEach(v, progress)
	{
		const char *sep = b.len ? ", " : "";
		if (cJSON_IsString(v) && *v->valuestring)
			buf_addf(&b, "%s%s %s", sep, v->string, v->valuestring);
		else if (cJSON_IsNumber(v) && v->valuedouble > -1e15 && v->valuedouble < 1e15 &&
			 v->valuedouble == (double)(long long)v->valuedouble)
			buf_addf(&b, "%s%s %.0f", sep, v->string, v->valuedouble);
		else if (cJSON_IsNumber(v))
			buf_addf(&b, "%s%s %.2f", sep, v->string, v->valuedouble);
		else if (cJSON_IsTrue(v))
			buf_addf(&b, "%s%s", sep, v->string);
	}
	char *clean = sanitize_string(b.data, b.len);
	snprintf(out, n, "%s", clean);
	free(clean);
	buf_release(&b);
}

void console_task(struct console *c, const struct run_task_view *t)
{
	if (!c->run || c->read_only || t->step >= c->rb->n_steps || t->background || t->label)
		return; /* a background task or a host says it in its own lines */
	char *live = c->sv[t->step].live;
	if (t->running && cJSON_IsObject(t->progress))
		live_text(t->progress, live, sizeof c->sv[t->step].live);
	else
		live[0] = '\0';
	if (t->step == console_detail_step(c))
		console_mark_dirty(c);
}
