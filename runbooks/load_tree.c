#include "runbooks/load_tree.h"

#include <stdlib.h>
#include <string.h>

#include "runbooks/duration.h"
#include "runbooks/fault.h"
#include "runbooks/suggest.h"
#include "util/xalloc.h"

static bool in_list(const char *name, const char *const *skip)
{
	for (; skip && *skip; skip++)
		if (!strcmp(name, *skip))
			return true;
	return false;
}

/* Duplicate members are legal JSON to cJSON; in a runbook they are a typo. */
static bool seen_before(const cJSON *obj, const cJSON *member)
{
	for (const cJSON *c = obj->child; c && c != member; c = c->next)
		if (!strcmp(c->string, member->string))
			return true;
	return false;
}

void tree_apply_object(struct load_ctx *c, const struct field *table,
		       void *target, int kind, const cJSON *obj,
		       const char *const *skip)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, obj)
	{
		const struct field *f = field_find(table, m->string);
		bool repeat = c->text_values && f && (f->flags & FIELD_REPEAT);
		if (!repeat && seen_before(obj, m)) {
			field_error_at(c, posmap_key(c->pm, m),
				       "duplicate %s '%s'", c->what, m->string);
			continue;
		}
		if (in_list(m->string, skip))
			continue;
		field_apply(c, table, target, kind, m);
	}
}

static bool want_object(struct load_ctx *c, const cJSON *v, const char *what)
{
	if (cJSON_IsObject(v))
		return true;
	field_error(c, v, "'%s' must be %s", v->string ? v->string : "item",
		    what);
	return false;
}

/* Reads a JSON list of at most `limit` items of `size` bytes each; `one`
 * loads an item and says whether it is kept. */
typedef bool load_item_fn(struct load_ctx *c, const cJSON *e, void *item);

static void *load_list(struct load_ctx *c, const cJSON *arr, const char *key,
		       unsigned limit, size_t size, size_t *count,
		       load_item_fn *one)
{
	if (!cJSON_IsArray(arr)) {
		field_error(c, arr, "'%s' must be a list", key);
		return NULL;
	}
	size_t n = (size_t)cJSON_GetArraySize(arr);
	if (n > limit) {
		field_error(c, arr, "%zu %s (the limit is %u)", n, key, limit);
		return NULL;
	}
	size_t base = ctx_path_push_key(c, key);
	char *v = xcalloc(n, size);
	const cJSON *e;
	cJSON_ArrayForEach(e, arr)
	{
		size_t len = ctx_path_push_index(c, *count);
		if (one(c, e, v + *count * size))
			(*count)++;
		ctx_path_pop(c, len);
	}
	ctx_path_pop(c, base);
	return v;
}

void tree_unknown_kind(struct load_ctx *c, struct srcpos pos, const char *kind)
{
	const char *names[ACTION_KIND_COUNT];
	for (int k = 0; k < ACTION_KIND_COUNT; k++)
		names[k] = action_kind_name((enum action_kind)k);
	const char *near = suggest_closest(kind, names, ACTION_KIND_COUNT);
	if (near)
		field_error_at(c, pos, "unknown action kind '%s' (did you mean '%s'?)",
			       kind, near);
	else
		field_error_at(c, pos, "unknown action kind '%s' (known: sh, exec, ssh, http, sql, velero, wait)",
			       kind);
}

/* command_ok: a probe's kind may be "command", a local command: exec
 * when it has an argv, else sh. */
static int load_action(struct load_ctx *c, const cJSON *obj, struct action *a,
		       const char *const *skip, bool command_ok)
{
	const cJSON *k = cJSON_GetObjectItemCaseSensitive(obj, "kind");
	enum action_kind kind;
	a->pos = posmap_val(c->pm, obj);
	a->body_pos = a->pos;
	if (!k) {
		field_error_at(c, a->pos, "an action needs a 'kind'");
		return -1;
	}
	if (!cJSON_IsString(k)) {
		field_error(c, k, "'kind' must be a string");
		return -1;
	}
	if (command_ok && !strcmp(k->valuestring, "command")) {
		kind = cJSON_GetObjectItemCaseSensitive(obj, "argv") ? ACTION_EXEC : ACTION_SH;
	} else if (action_kind_parse(k->valuestring, &kind) < 0) {
		size_t len = ctx_path_push_key(c, "kind");
		tree_unknown_kind(c, posmap_val(c->pm, k), k->valuestring);
		ctx_path_pop(c, len);
		return -1;
	}
	action_init(a, kind);
	a->pos = posmap_val(c->pm, obj);
	a->body_pos = a->pos;
	tree_apply_object(c, action_fields, a, kind, obj, skip);
	if (!strcmp(k->valuestring, "bash") && !a->shell) /* as in Markdown */
		a->shell = xstrdup("bash");
	return 0;
}

int tree_load_action(struct load_ctx *c, const cJSON *obj, struct action *a,
		     const char *const *skip)
{
	return load_action(c, obj, a, skip, false);
}

static const char *const skip_kind[] = { "kind", NULL };

static bool load_action_item(struct load_ctx *c, const cJSON *e, void *item)
{
	struct action *a = item;
	action_init(a, ACTION_SH);
	if (want_object(c, e, "an object") && tree_load_action(c, e, a, skip_kind) == 0)
		return true;
	action_release(a);
	return false;
}

static const char *const skip_actions[] = { "actions", NULL };

static void load_step(struct load_ctx *c, const cJSON *obj, struct step *s)
{
	step_init(s);
	s->pos = posmap_val(c->pm, obj);
	tree_apply_object(c, step_fields, s, -1, obj, skip_actions);
	if (!s->title)
		field_error_at(c, s->pos, "a step needs a 'title'");
	const cJSON *acts = cJSON_GetObjectItemCaseSensitive(obj, "actions");
	if (acts)
		s->actions = load_list(c, acts, "actions", QRH_MAX_ACTIONS_PER_STEP,
				       sizeof *s->actions, &s->n_actions, load_action_item);
}

static bool load_step_item(struct load_ctx *c, const cJSON *e, void *item)
{
	if (!want_object(c, e, "an object"))
		return false;
	load_step(c, e, item);
	return true;
}

static void load_var(struct load_ctx *c, const cJSON *v, struct var *var)
{
	var->name = xstrdup(v->string);
	var->pos = posmap_key(c->pm, v);
	if (!field_valid_varname(v->string))
		field_error_at(c, var->pos, "bad variable name '%s': use letters, digits and '_'",
			       v->string);
	if (cJSON_IsObject(v)) {
		size_t len = ctx_path_push_key(c, v->string);
		tree_apply_object(c, var_fields, var, -1, v, NULL);
		ctx_path_pop(c, len);
	} else if (cJSON_IsArray(v)) {
		field_error(c, v, "variable '%s' must be a value or an object", v->string);
	} else {
		/* NAME: value is short for NAME: {value: value} */
		field_find(var_fields, "value")->set(c, var, field_find(var_fields, "value"), v);
	}
}

/* Reads a "name: {...}" map into an array of named entries. */
#define LOAD_MAP(c, obj, arr, count, limit, what, load_one)                     \
	do {                                                                    \
		size_t n_ = (size_t)cJSON_GetArraySize(obj);                    \
		if (n_ > (limit)) {                                             \
			field_error((c), (obj), "%zu %s (the limit is %u)", n_, \
				    (what), (unsigned)(limit));                  \
			break;                                                  \
		}                                                               \
		(arr) = xcalloc(n_, sizeof *(arr));                             \
		const cJSON *m_;                                                \
		cJSON_ArrayForEach(m_, (obj))                                   \
		{                                                               \
			if (seen_before((obj), m_)) {                           \
				field_error_at((c), posmap_key((c)->pm, m_),    \
					       "duplicate %s '%s'", (what),     \
					       m_->string);                     \
				continue;                                       \
			}                                                       \
			load_one((c), m_, &(arr)[(count)++]);                   \
		}                                                               \
	} while (0)

static void load_vars(struct load_ctx *c, const cJSON *obj, struct runbook *rb)
{
	if (!want_object(c, obj, "a map of NAME: value"))
		return;
	size_t base = ctx_path_push_key(c, "vars");
	LOAD_MAP(c, obj, rb->vars, rb->n_vars, QRH_MAX_VARS, "variables", load_var);
	ctx_path_pop(c, base);
}

static void load_target(struct load_ctx *c, const cJSON *v, struct target *t)
{
	t->name = xstrdup(v->string);
	t->pos = posmap_key(c->pm, v);
	if (!field_valid_id(v->string))
		field_error_at(c, t->pos, "bad target name '%s': use lowercase letters, digits, '-' and '_'",
			       v->string);
	if (!want_object(c, v, "an object"))
		return;
	size_t len = ctx_path_push_key(c, v->string);
	tree_apply_object(c, target_fields, t, -1, v, NULL);
	if (!t->kind)
		field_error_at(c, t->pos, "target '%s' needs a 'kind' (ssh, postgres, http, kubernetes or group)",
			       t->name);
	ctx_path_pop(c, len);
}

static void load_targets(struct load_ctx *c, const cJSON *obj,
			 struct runbook *rb)
{
	if (!want_object(c, obj, "a map of name: {kind: ...}"))
		return;
	size_t base = ctx_path_push_key(c, "targets");
	LOAD_MAP(c, obj, rb->targets, rb->n_targets, QRH_MAX_TARGETS, "targets",
		 load_target);
	ctx_path_pop(c, base);
}

static const char *const skip_probe[] = { "kind", "name", "every", "ok", "warn", "fail",
					  "value", "from_step", "until_step", "reuse", NULL };

static void load_probe(struct load_ctx *c, const cJSON *v, struct probe *p)
{
	p->pos = posmap_val(c->pm, v);
	p->every_ms = -1;
	action_init(&p->action, ACTION_HTTP);
	if (!want_object(c, v, "an object"))
		return;
	const cJSON *m;
	cJSON_ArrayForEach(m, v)
	{
		if (field_find(probe_fields, m->string))
			field_apply(c, probe_fields, p, -1, m);
	}
	if (!p->name)
		field_error_at(c, p->pos, "a probe needs a 'name'");
	load_action(c, v, &p->action, skip_probe, true);
	if (p->action.kind == ACTION_HTTP)
		p->action.reuse = !p->no_reuse;
	else if (p->no_reuse)
		field_error(c, cJSON_GetObjectItemCaseSensitive(v, "reuse"),
			    "'reuse' is for http probes");
}

static bool load_probe_item(struct load_ctx *c, const cJSON *e, void *item)
{
	load_probe(c, e, item);
	return true;
}

static void set_text(struct load_ctx *c, const cJSON *v, char **slot)
{
	if (!cJSON_IsString(v)) {
		field_error(c, v, "'%s' must be a string", v->string);
		return;
	}
	free(*slot);
	*slot = xstrdup(v->valuestring);
}

/* steps last: the front matter of a Markdown runbook does not take it */
static const char *const top_names[] = { "title",   "description", "vars",
					 "targets", "probes",	   "objectives",
					 "faults",  "notes",	   "notify",
					 "approval_ttl", "steps" };
#define N_TOP_NAMES (sizeof top_names / sizeof *top_names)

/* approval_ttl: how long a dual-control request stands (state/run.h). */
static void load_approval_ttl(struct load_ctx *c, const cJSON *m, struct runbook *rb)
{
	const char *why;
	int64_t ms;
	if (!cJSON_IsString(m))
		field_error(c, m, "approval_ttl must be a duration like \"15m\"");
	else if (duration_parse(m->valuestring, &ms, &why) < 0)
		field_error(c, m, "bad approval_ttl '%s': %s", m->valuestring, why);
	else if (ms < RUNBOOK_APPROVAL_TTL_MIN_MS || ms > RUNBOOK_APPROVAL_TTL_MAX_MS)
		field_error(c, m, "approval_ttl must be between 1s and 24h");
	else
		rb->approval_ttl_ms = ms;
}

/* faults: a list of NAME or NAME=VALUE (runbooks/fault.h). */
static void load_faults(struct load_ctx *c, const cJSON *m, struct runbook *rb)
{
	const cJSON *v;
	if (!cJSON_IsArray(m)) {
		field_error(c, m, "'faults' must be a list like [replica-lag=45s, fail-once=promote]");
		return;
	}
	cJSON_ArrayForEach(v, m)
	{
		struct fault f;
		char msg[FAULT_MSG_MAX];
		if (!cJSON_IsString(v))
			field_error(c, v, "a fault is a string like replica-lag=45s");
		else if (fault_parse(v->valuestring, &f, msg) < 0)
			field_error(c, v, "bad fault '%s': %s", v->valuestring, msg);
		else
			strv_push(&rb->faults, v->valuestring);
	}
}

/* notify: {url, timeout, retries, backoff}, or just the url. */
static void load_notify(struct load_ctx *c, const cJSON *m, struct runbook *rb)
{
	rb->notify.pos = posmap_val(c->pm, m);
	if (cJSON_IsString(m)) {
		free(rb->notify.url);
		rb->notify.url = xstrdup(m->valuestring);
		return;
	}
	if (!cJSON_IsObject(m)) {
		field_error(c, m, "'notify' must be a webhook URL reference or an object "
			    "with 'url' (and 'timeout', 'retries', 'backoff')");
		return;
	}
	size_t len = ctx_path_push_key(c, "notify");
	tree_apply_object(c, notify_fields, &rb->notify, -1, m, NULL);
	ctx_path_pop(c, len);
}

void tree_load_runbook(struct load_ctx *c, const cJSON *root,
		       struct runbook *rb, bool allow_steps)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, root)
	{
		const char *k = m->string;
		if (seen_before(root, m))
			field_error_at(c, posmap_key(c->pm, m), "duplicate key '%s'", k);
		else if (!strcmp(k, "title"))
			set_text(c, m, &rb->title);
		else if (!strcmp(k, "description"))
			set_text(c, m, &rb->description);
		else if (!strcmp(k, "vars"))
			load_vars(c, m, rb);
		else if (!strcmp(k, "notes")) {
			if (cJSON_IsString(m) && (!strcmp(m->valuestring, "anyone") ||
						  !strcmp(m->valuestring, "operator")))
				rb->notes_anyone = !strcmp(m->valuestring, "anyone");
			else
				field_error(c, m, "'notes' is 'anyone' (watchers may add notes) or 'operator'");
		}
		else if (!strcmp(k, "targets"))
			load_targets(c, m, rb);
		else if (!strcmp(k, "probes"))
			rb->probes = load_list(c, m, "probes", QRH_MAX_PROBES, sizeof *rb->probes,
					       &rb->n_probes, load_probe_item);
		else if (!strcmp(k, "notify"))
			load_notify(c, m, rb);
		else if (!strcmp(k, "objectives")) {
			if (want_object(c, m, "an object")) {
				size_t len = ctx_path_push_key(c, "objectives");
				rb->objectives.pos = posmap_val(c->pm, m);
				tree_apply_object(c, objective_fields, &rb->objectives, -1, m, NULL);
				ctx_path_pop(c, len);
			}
		} else if (!strcmp(k, "faults"))
			load_faults(c, m, rb);
		else if (!strcmp(k, "approval_ttl"))
			load_approval_ttl(c, m, rb);
		else if (!strcmp(k, "steps") && allow_steps)
			rb->steps = load_list(c, m, "steps", QRH_MAX_STEPS, sizeof *rb->steps,
					      &rb->n_steps, load_step_item);
		else if (!strcmp(k, "steps"))
			field_error_at(c, posmap_key(c->pm, m),
				       "steps come from the document, not the front matter");
		else {
			const char *near = suggest_closest(k, top_names, N_TOP_NAMES - !allow_steps);
			if (near)
				field_error_at(c, posmap_key(c->pm, m), "unknown key '%s' (did you mean '%s'?)", k, near);
			else
				field_error_at(c, posmap_key(c->pm, m), "unknown key '%s'", k);
		}
	}
}
