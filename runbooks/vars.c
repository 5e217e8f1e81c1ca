#include "runbooks/vars.h"

#include <stdlib.h>
#include <string.h>

#include "runbooks/fields.h"
#include "runbooks/suggest.h"
#include "util/xalloc.h"

void var_scope_init(struct var_scope *s, const struct runbook *rb)
{
	s->rb = rb;
	s->captured = (struct strv){ 0 };
}

void var_scope_add(struct var_scope *s, const char *name)
{
	if (!var_scope_has(s, name))
		strv_push(&s->captured, name);
}

bool var_scope_has(const struct var_scope *s, const char *name)
{
	if (!strncmp(name, "env:", 4))
		return field_valid_varname(name + 4);
	if (!strncmp(name, "QRH_", 4))
		return !strcmp(name, "QRH_RUN_ID") || !strcmp(name, "QRH_STEP_ID") ||
		       !strcmp(name, "QRH_OPERATOR") || !strcmp(name, "QRH_RUNBOOK");
	if (runbook_var(s->rb, name))
		return true;
	for (size_t i = 0; i < s->captured.n; i++)
		if (!strcmp(s->captured.v[i], name))
			return true;
	return false;
}

void var_scope_release(struct var_scope *s)
{
	strv_release(&s->captured);
}

int vars_scan(const char *s, var_ref_fn *fn, void *arg, size_t *bad)
{
	char name[QRH_MAX_ID_LEN + 8];
	for (size_t i = 0; s[i]; i++) {
		if (s[i] != '$')
			continue;
		if (s[i + 1] == '$') {
			i++;
			continue;
		}
		if (s[i + 1] != '{')
			continue;
		const char *close = strchr(s + i + 2, '}');
		size_t n = close ? (size_t)(close - (s + i + 2)) : 0;
		if (!close || n == 0 || n >= sizeof name) {
			*bad = i;
			return -1;
		}
		memcpy(name, s + i + 2, n);
		name[n] = '\0';
		const char *bare = strncmp(name, "env:", 4) ? name : name + 4;
		if (!field_valid_varname(bare)) {
			*bad = i;
			return -1;
		}
		int r = fn(arg, name, i);
		if (r)
			return r;
		i += n + 2;
	}
	return 0;
}

struct check {
	const struct var_scope *scope;
	struct diags *d;
	struct srcpos base;
	const char *text;
	bool track; /* base is the first line of `text` in the file */
};

static struct srcpos ref_pos(const struct check *c, size_t off)
{
	return c->track ? srcpos_in_text(c->base, c->text, off) : c->base;
}

static int check_ref(void *arg, const char *name, size_t off)
{
	struct check *c = arg;
	if (var_scope_has(c->scope, name))
		return 0;
	const struct runbook *rb = c->scope->rb;
	const char *names[QRH_MAX_VARS + 64];
	size_t n = 0;
	for (size_t i = 0; i < rb->n_vars && n < QRH_MAX_VARS; i++)
		names[n++] = rb->vars[i].name;
	for (size_t i = 0; i < c->scope->captured.n && n < QRH_MAX_VARS + 64; i++)
		names[n++] = c->scope->captured.v[i];
	const char *near = suggest_closest(name, names, n);
	diag_error(c->d, ref_pos(c, off), "undefined variable '${%s}'%s%s%s", name,
		   near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
	return 0;
}

static void check_text(struct check *c, const char *s, struct srcpos pos,
		       bool track)
{
	size_t bad;
	if (!s)
		return;
	c->base = pos;
	c->text = s;
	c->track = track;
	if (vars_scan(s, check_ref, c, &bad) < 0)
		diag_error(c->d, ref_pos(c, bad),
			   "malformed variable reference: write ${NAME} (or $$ for a literal $)");
}

void vars_check_action(const struct action *a, const struct var_scope *scope,
		       struct diags *d)
{
	struct check c = { .scope = scope, .d = d };
	bool md = a->lang != NULL;
	if (a->kind != ACTION_SH && a->kind != ACTION_SSH)
		check_text(&c, a->body, a->body_pos, md);
	for (size_t i = 0; i < a->argv.n; i++)
		check_text(&c, a->argv.v[i], md ? a->body_pos : a->pos, false);
	const char *fields[] = { a->url,	 a->expect,	 a->contains,
				 a->until,	 a->cwd,	 a->expect_rows,
				 a->ack_file, a->matches, a->cacert };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		check_text(&c, fields[i], a->pos, false);
	const struct strv *lists[] = { &a->headers, &a->params, &a->json, &a->resolve };
	for (size_t k = 0; k < sizeof lists / sizeof *lists; k++)
		for (size_t i = 0; i < lists[k]->n; i++)
			check_text(&c, lists[k]->v[i], a->pos, false);
	if (a->kind == ACTION_SH || a->kind == ACTION_SSH)
		vars_lint_shell(a, d);
}

void vars_check_target(const struct target *t, const struct var_scope *scope,
		       struct diags *d)
{
	struct check c = { .scope = scope, .d = d };
	const char *fields[] = { t->host,    t->user,	   t->identity,
				 t->known_hosts, t->dsn, t->url,
				 t->binary,  t->kubeconfig, t->context,
				 t->namespace_, t->members_file };
	for (size_t i = 0; i < sizeof fields / sizeof *fields; i++)
		check_text(&c, fields[i], t->pos, false);
}

struct expand {
	var_lookup_fn *lookup;
	void *arg;
	struct buf *out;
	const char *s;
	size_t done;
	struct err *e;
};

static int expand_ref(void *arg, const char *name, size_t off)
{
	struct expand *x = arg;
	const char *v = x->lookup(x->arg, name);
	if (!v)
		return err_set(x->e, "variable '%s' has no value", name);
	/* copy the text before the reference, turning $$ into $ */
	for (size_t i = x->done; i < off; i++) {
		buf_addc(x->out, x->s[i]);
		if (x->s[i] == '$' && x->s[i + 1] == '$')
			i++;
	}
	buf_adds(x->out, v);
	x->done = off + strlen(name) + 3;
	return 0;
}

int vars_expand(const char *s, var_lookup_fn *lookup, void *arg,
		struct buf *out, struct err *e)
{
	struct expand x = { lookup, arg, out, s, 0, e };
	size_t bad;
	int r = vars_scan(s, expand_ref, &x, &bad);
	if (r == -1 && !e->msg[0])
		return err_set(e, "malformed variable reference at offset %zu", bad);
	if (r)
		return -1;
	size_t n = strlen(s);
	for (size_t i = x.done; i < n; i++) {
		buf_addc(out, s[i]);
		if (s[i] == '$' && s[i + 1] == '$')
			i++;
	}
	return 0;
}

char *vars_expand_dup(const char *s, var_lookup_fn *lookup, void *arg,
		      struct err *e, bool *failed)
{
	struct buf b;
	if (!s || *failed)
		return NULL;
	buf_init(&b, BUF_UNLIMITED);
	if (vars_expand(s, lookup, arg, &b, e) < 0) {
		buf_release(&b);
		*failed = true;
		return NULL;
	}
	return buf_detach(&b, NULL);
}
