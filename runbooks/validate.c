#include "runbooks/validate.h"

#include <regex.h>
#include <stdlib.h>
#include <string.h>

#include "runbooks/fields.h"
#include "runbooks/suggest.h"
#include "runbooks/vars.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define SLUG_MAX 48

char *step_slug(const char *title)
{
	char out[SLUG_MAX + 1];
	size_t n = 0;
	int dash = 0;
	for (const char *p = title; *p && n < SLUG_MAX; p++) {
		char c = *p;
		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
			if (dash && n)
				out[n++] = '-';
			if (n < SLUG_MAX)
				out[n++] = c;
			dash = 0;
		} else {
			dash = 1;
		}
	}
	out[n] = '\0';
	return xstrdup(n ? out : "step");
}

static int id_taken(const struct runbook *rb, const char *id, size_t upto)
{
	for (size_t i = 0; i < rb->n_steps; i++) {
		const struct step *s = &rb->steps[i];
		if (s->id && (s->id_explicit || i < upto) && !strcmp(s->id, id))
			return 1;
	}
	return 0;
}

void runbook_assign_ids(struct runbook *rb)
{
	for (size_t i = 0; i < rb->n_steps; i++) {
		struct step *s = &rb->steps[i];
		if (s->id)
			continue;
		char *base = step_slug(s->title ? s->title : "");
		struct buf b;
		buf_init(&b, 128);
		buf_adds(&b, base);
		for (int k = 2; id_taken(rb, b.data, i); k++) {
			buf_reset(&b);
			buf_addf(&b, "%s-%d", base, k);
		}
		s->id = buf_detach(&b, NULL);
		free(base);
	}
}

static void check_ids(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_steps; i++) {
		for (size_t j = 0; j < i; j++) {
			if (strcmp(rb->steps[i].id, rb->steps[j].id))
				continue;
			diag_error(d, rb->steps[i].pos,
				   "duplicate step id '%s' (first at %u:%u)",
				   rb->steps[i].id, rb->steps[j].pos.line,
				   rb->steps[j].pos.col);
			break;
		}
	}
}

static const char *const target_kind_for[ACTION_KIND_COUNT] = {
	[ACTION_SSH] = "ssh",
	[ACTION_SQL] = "postgres",
	[ACTION_HTTP] = "http",
	[ACTION_VELERO] = "kubernetes",
};

static void check_target(const struct runbook *rb, const struct action *a,
			 struct diags *d)
{
	if (!a->target) {
		if (a->kind == ACTION_SSH || a->kind == ACTION_SQL)
			diag_error(d, a->pos, "a %s action needs a target=NAME",
				   action_kind_name(a->kind));
		return;
	}
	const struct target *t = runbook_target(rb, a->target);
	if (!t) {
		const char *names[QRH_MAX_TARGETS];
		for (size_t i = 0; i < rb->n_targets; i++)
			names[i] = rb->targets[i].name;
		const char *near = suggest_closest(a->target, names, rb->n_targets);
		diag_error(d, a->pos, "target '%s' is not defined%s%s%s", a->target,
			   near ? " (did you mean '" : "", near ? near : "",
			   near ? "'?)" : "");
		return;
	}
	const char *want = target_kind_for[a->kind];
	if (want && t->kind && strcmp(t->kind, want))
		diag_error(d, a->pos, "target '%s' is a %s target; a %s action needs a %s target",
			   t->name, t->kind, action_kind_name(a->kind), want);
}

static void check_action(const struct runbook *rb, const struct action *a,
			 struct diags *d)
{
	const char *kind = action_kind_name(a->kind);
	switch (a->kind) {
	case ACTION_SH:
	case ACTION_SSH:
	case ACTION_SQL:
		if (!a->body || !*a->body)
			diag_error(d, a->pos, "empty %s block: nothing to run", kind);
		break;
	case ACTION_EXEC:
	case ACTION_VELERO:
		if (!a->argv.n)
			diag_error(d, a->pos, "empty %s block: nothing to run", kind);
		break;
	case ACTION_HTTP: {
		const struct target *t = a->target ? runbook_target(rb, a->target) : NULL;
		if (!a->url && !(t && t->url))
			diag_error(d, a->pos, "an http action needs url=... (or a target with a url)");
		break;
	}
	case ACTION_WAIT: {
		int n = (a->for_ms >= 0) + (a->probe != NULL) + (a->stop != NULL);
		if (n != 1)
			diag_error(d, a->pos, "a wait action needs exactly one of for=DURATION, probe=NAME or stop=NAME");
		if (a->probe && !runbook_probe(rb, a->probe))
			diag_error(d, a->pos, "probe '%s' is not defined", a->probe);
		break;
	}
	default:
		break;
	}
	check_target(rb, a, d);
}

static void check_probes(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_probes; i++) {
		const struct probe *p = &rb->probes[i];
		if (p->action.kind == ACTION_WAIT)
			diag_error(d, p->pos, "a probe cannot be a wait");
		else
			check_action(rb, &p->action, d);
		for (size_t j = 0; j < i; j++)
			if (p->name && rb->probes[j].name && !strcmp(p->name, rb->probes[j].name))
				diag_error(d, p->pos, "duplicate probe '%s'", p->name);
	}
}

/* ---- lint: destructive commands in unconfirmed steps ---- */

struct pattern {
	const char *re;
	const char *what;
};

#define B "(^|[^[:alnum:]_])"
static const struct pattern destructive[] = {
	{ B "drop[[:space:]]+(table|database|schema|index|role|user|view)", "DROP" },
	{ B "truncate([[:space:]]+table)?[[:space:]]+[[:alnum:]_\"]", "TRUNCATE" },
	{ B "delete[[:space:]]+from", "DELETE FROM" },
	{ B "rm[[:space:]]+(-[[:alpha:]]*(r[[:alpha:]]*f|f[[:alpha:]]*r)|-r[[:space:]]+-f|-f[[:space:]]+-r|--recursive)", "rm -rf" },
	{ B "pg_promote", "pg_promote" },
	{ B "pg_ctl[^\n]*promote", "pg_ctl promote" },
	{ B "restore[[:space:]]+create", "velero restore create" },
	{ B "kubectl[[:space:]]+([^\n]*[[:space:]])?delete", "kubectl delete" },
	{ B "mkfs", "mkfs" },
};
#undef B
#define N_DESTRUCTIVE (sizeof destructive / sizeof *destructive)

static void action_text(const struct action *a, struct buf *b)
{
	if (a->kind == ACTION_VELERO)
		buf_adds(b, "velero ");
	if (a->body)
		buf_adds(b, a->body);
	for (size_t i = 0; i < a->argv.n; i++) {
		buf_adds(b, a->argv.v[i]);
		buf_addc(b, ' ');
	}
}

static void lint_destructive(const struct step *s, regex_t *res, int ok,
			     struct diags *d)
{
	if (s->confirm != CONFIRM_NO || !ok)
		return;
	for (size_t i = 0; i < s->n_actions; i++) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		action_text(&s->actions[i], &b);
		for (size_t k = 0; k < N_DESTRUCTIVE; k++) {
			if (regexec(&res[k], b.data, 0, NULL, 0) == 0) {
				diag_warn(d, s->actions[i].pos,
					  "destructive command '%s' in a step that runs without confirmation",
					  destructive[k].what);
				break;
			}
		}
		buf_release(&b);
	}
}

static void check_step(struct runbook *rb, size_t idx, struct var_scope *scope,
		       regex_t *res, int res_ok, struct diags *d)
{
	struct step *s = &rb->steps[idx];
	for (size_t i = 0; i < s->n_actions; i++) {
		check_action(rb, &s->actions[i], d);
		vars_check_action(&s->actions[i], scope, d);
	}
	if (s->dual_control && s->confirm == CONFIRM_NO)
		diag_error(d, s->pos, "dual_control needs a confirmation: remove confirm=no");
	lint_destructive(s, res, res_ok, d);
	if (s->capture)
		var_scope_add(scope, s->capture);
}

/* A secret written into the runbook is in every copy of the file (and in
 * the journal, which keeps the runbook's text as evidence). */
static void lint_secrets(const struct runbook *rb, struct diags *d)
{
	for (size_t i = 0; i < rb->n_vars; i++)
		if (rb->vars[i].secret && rb->vars[i].value && rb->vars[i].value[0])
			diag_warn(d, rb->vars[i].pos,
				  "secret '%s' has its value written in the runbook: give it with -v or a prompt instead",
				  rb->vars[i].name);
}

void runbook_validate(struct runbook *rb, struct diags *d)
{
	runbook_assign_ids(rb);
	lint_secrets(rb, d);
	if (rb->n_steps == 0)
		diag_error(d, (struct srcpos){ 1, 1 },
			   "no steps: write a '## Step' section per step, a list of steps, or \"steps\" in JSON");
	check_ids(rb, d);
	check_probes(rb, d);
	regex_t res[N_DESTRUCTIVE];
	int ok = 1;
	size_t compiled = 0;
	for (; compiled < N_DESTRUCTIVE && ok; compiled++)
		ok = regcomp(&res[compiled], destructive[compiled].re,
			     REG_EXTENDED | REG_ICASE | REG_NOSUB) == 0;
	if (!ok)
		compiled--;
	struct var_scope scope;
	var_scope_init(&scope, rb);
	for (size_t i = 0; i < rb->n_probes; i++)
		vars_check_action(&rb->probes[i].action, &scope, d);
	for (size_t i = 0; i < rb->n_targets; i++)
		vars_check_target(&rb->targets[i], &scope, d);
	for (size_t i = 0; i < rb->n_steps; i++)
		check_step(rb, i, &scope, res, ok, d);
	var_scope_release(&scope);
	for (size_t i = 0; i < compiled; i++)
		regfree(&res[i]);
}
