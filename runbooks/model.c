#include "runbooks/model.h"

#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static const char *const kind_names[ACTION_KIND_COUNT] = {
	[ACTION_SH] = "sh",	    [ACTION_EXEC] = "exec",
	[ACTION_SSH] = "ssh",	    [ACTION_HTTP] = "http",
	[ACTION_SQL] = "sql",	    [ACTION_VELERO] = "velero",
	[ACTION_WAIT] = "wait",
};

const char *action_kind_name(enum action_kind k)
{
	return (unsigned)k < ACTION_KIND_COUNT ? kind_names[k] : "?";
}

int action_kind_parse(const char *s, enum action_kind *out)
{
	for (int k = 0; k < ACTION_KIND_COUNT; k++) {
		if (!strcmp(s, kind_names[k])) {
			*out = (enum action_kind)k;
			return 0;
		}
	}
	if (!strcmp(s, "bash") || !strcmp(s, "shell")) {
		*out = ACTION_SH;
		return 0;
	}
	return -1;
}

bool action_kind_is_process(enum action_kind k)
{
	return k == ACTION_SH || k == ACTION_EXEC || k == ACTION_SSH ||
	       k == ACTION_VELERO;
}

void strv_push(struct strv *sv, const char *s)
{
	sv->v = xrealloc(sv->v, (sv->n + 2) * sizeof *sv->v);
	sv->v[sv->n++] = xstrdup(s);
	sv->v[sv->n] = NULL;
}

void strv_release(struct strv *sv)
{
	for (size_t i = 0; i < sv->n; i++)
		free(sv->v[i]);
	free(sv->v);
	sv->v = NULL;
	sv->n = 0;
}

void action_init(struct action *a, enum action_kind kind)
{
	memset(a, 0, sizeof *a);
	a->kind = kind;
	a->timeout_ms = -1;
	a->every_ms = -1;
	a->within_ms = -1;
	a->for_ms = -1;
	a->max_bytes = -1;
	a->connect_timeout_ms = -1;
	a->request_timeout_ms = -1;
}

void step_init(struct step *s)
{
	memset(s, 0, sizeof *s);
	s->confirm = CONFIRM_YES;
	s->on_fail = ON_FAIL_STOP;
	s->timeout_ms = -1;
	s->backoff_ms = -1;
	s->par_ms = -1;
}

void runbook_init(struct runbook *rb)
{
	memset(rb, 0, sizeof *rb);
	rb->objectives.rto_ms = -1;
	rb->objectives.rpo_ms = -1;
	rb->notify.timeout_ms = -1;
	rb->notify.retries = -1;
	rb->notify.backoff_ms = -1;
	rb->approval_ttl_ms = -1;
}

void action_release(struct action *a)
{
	char **strs[] = { &a->lang,   &a->name,	    &a->body,	  &a->shell,
			  &a->cwd,    &a->target,   &a->method,	  &a->url,
			  &a->expect, &a->contains, &a->until,	  &a->expect_rows,
			  &a->probe,  &a->stop,	    &a->require,  &a->recipe,
			  &a->capture_col, &a->marker_table, &a->ack_file,
			  &a->accept, &a->pick, &a->matches, &a->cacert };
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++) {
		free(*strs[i]);
		*strs[i] = NULL;
	}
	strv_release(&a->argv);
	strv_release(&a->headers);
	strv_release(&a->params);
	strv_release(&a->json);
	strv_release(&a->resolve);
}

static void step_release(struct step *s)
{
	for (size_t i = 0; i < s->n_actions; i++)
		action_release(&s->actions[i]);
	free(s->actions);
	free(s->id);
	free(s->title);
	free(s->doc);
	free(s->confirm_word);
	free(s->capture);
	free(s->hint);
}

static void var_release(struct var *v)
{
	free(v->name);
	free(v->value);
	free(v->prompt);
	free(v->description);
	strv_release(&v->choices);
}

static void target_release(struct target *t)
{
	char *strs[] = { t->name,	  t->kind,	 t->host,
			 t->user,	  t->identity,	 t->known_hosts,
			 t->dsn,	  t->password_var, t->url,
			 t->binary,	  t->kubeconfig, t->context,
			 t->namespace_, t->members_file };
	for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
		free(strs[i]);
	strv_release(&t->members);
}

void runbook_free(struct runbook *rb)
{
	if (!rb)
		return;
	for (size_t i = 0; i < rb->n_steps; i++)
		step_release(&rb->steps[i]);
	for (size_t i = 0; i < rb->n_vars; i++)
		var_release(&rb->vars[i]);
	for (size_t i = 0; i < rb->n_targets; i++)
		target_release(&rb->targets[i]);
	for (size_t i = 0; i < rb->n_probes; i++) {
		struct probe *p = &rb->probes[i];
		char *strs[] = { p->name, p->ok, p->warn, p->fail, p->value,
				 p->from_step, p->until_step };
		for (size_t k = 0; k < sizeof strs / sizeof *strs; k++)
			free(strs[k]);
		action_release(&p->action);
	}
	free(rb->objectives.rto_start);
	free(rb->objectives.rto_stop);
	free(rb->objectives.rpo_from);
	free(rb->steps);
	free(rb->vars);
	free(rb->targets);
	free(rb->probes);
	free(rb->path);
	free(rb->source);
	free(rb->title);
	free(rb->description);
	strv_release(&rb->faults);
	free(rb->notify.url);
	free(rb);
}

const struct var *runbook_var(const struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_vars; i++)
		if (rb->vars[i].name && !strcmp(rb->vars[i].name, name))
			return &rb->vars[i];
	return NULL;
}

const struct target *runbook_target(const struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_targets; i++)
		if (rb->targets[i].name && !strcmp(rb->targets[i].name, name))
			return &rb->targets[i];
	return NULL;
}

const struct probe *runbook_probe(const struct runbook *rb, const char *name)
{
	for (size_t i = 0; i < rb->n_probes; i++)
		if (rb->probes[i].name && !strcmp(rb->probes[i].name, name))
			return &rb->probes[i];
	return NULL;
}
