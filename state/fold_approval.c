/* fold_approval.c: dual-control events in the fold (state/fold.h). */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/fold.h"
#include "util/xalloc.h"

static const char *str(const cJSON *p, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static int64_t num(const cJSON *p, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p, k);
	return cJSON_IsNumber(v) ? (int64_t)v->valuedouble : 0;
}

void fold_approval_event(struct run_fold *f, const struct journal_event *ev,
			 const cJSON *p, int64_t step)
{
	f->approvals = xrealloc(f->approvals, (f->n_approvals + 1) * sizeof *f->approvals);
	struct fold_approval *a = &f->approvals[f->n_approvals++];
	memset(a, 0, sizeof *a);
	a->seq = ev->seq;
	a->wall_ms = ev->wall_ms;
	a->step = step;
	snprintf(a->type, sizeof a->type, "%s", ev->type);
	a->actor = xstrdup(ev->actor);
	a->via = xstrdup(str(p, "via"));
	a->reason = xstrdup(str(p, "reason"));
	a->command_sha256 = xstrdup(str(p, "command_sha256"));
	a->request_seq = strcmp(ev->type, "approval_request") ? num(p, "request_seq") : ev->seq;
	a->expires_ms = num(p, "expires_ms");
	a->id = xstrdup(str(p, "approval_id"));
}

void fold_approvals_release(struct run_fold *f)
{
	for (size_t i = 0; i < f->n_approvals; i++) {
		free(f->approvals[i].actor);
		free(f->approvals[i].via);
		free(f->approvals[i].reason);
		free(f->approvals[i].command_sha256);
		free(f->approvals[i].id);
	}
	free(f->approvals);
	f->approvals = NULL;
	f->n_approvals = 0;
}
