#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "runbooks/attrs.h"
#include "runbooks/fields.h"
#include "runbooks/load.h"
#include "runbooks/validate.h"
#include "runbooks/words.h"
#include "runbooks/write.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* ---- front matter through libyaml's emitter ---- */

static int yaml_write(void *data, unsigned char *p, size_t n)
{
	buf_add(data, p, n);
	return 1;
}

/* Would the YAML reader take this plain scalar as something else? */
static int needs_quotes(const char *s)
{
	static const char *const special[] = { "", "~", "null", "Null", "NULL",
					       "true", "True", "TRUE", "false",
					       "False", "FALSE" };
	for (size_t i = 0; i < sizeof special / sizeof *special; i++)
		if (!strcmp(s, special[i]))
			return 1;
	const char *p = s + (*s == '-' || *s == '+');
	if (!*p)
		return 0;
	for (; *p; p++)
		if (*p < '0' || *p > '9')
			return 0;
	return 1;
}

static void emit(yaml_emitter_t *em, yaml_event_t *ev)
{
	yaml_emitter_emit(em, ev);
}

static void emit_scalar(yaml_emitter_t *em, const char *s, int force_quotes)
{
	yaml_event_t ev;
	int plain = !force_quotes;
	/* libyaml copies the value but takes it as non-const */
	char *copy = xstrdup(s);
	yaml_scalar_event_initialize(&ev, NULL, NULL, (yaml_char_t *)copy,
				     (int)strlen(copy), plain, 1,
				     YAML_ANY_SCALAR_STYLE);
	free(copy);
	emit(em, &ev);
}

static void emit_node(yaml_emitter_t *em, const cJSON *n)
{
	yaml_event_t ev;
	char num[64];
	if (cJSON_IsObject(n)) {
		yaml_mapping_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_MAPPING_STYLE);
		emit(em, &ev);
		const cJSON *c;
		cJSON_ArrayForEach(c, n)
		{
			emit_scalar(em, c->string, needs_quotes(c->string));
			emit_node(em, c);
		}
		yaml_mapping_end_event_initialize(&ev);
		emit(em, &ev);
	} else if (cJSON_IsArray(n)) {
		yaml_sequence_start_event_initialize(&ev, NULL, NULL, 1, YAML_BLOCK_SEQUENCE_STYLE);
		emit(em, &ev);
		const cJSON *c;
		cJSON_ArrayForEach(c, n) emit_node(em, c);
		yaml_sequence_end_event_initialize(&ev);
		emit(em, &ev);
	} else if (cJSON_IsString(n)) {
		emit_scalar(em, n->valuestring, needs_quotes(n->valuestring));
	} else if (cJSON_IsBool(n)) {
		emit_scalar(em, cJSON_IsTrue(n) ? "true" : "false", 0);
	} else if (cJSON_IsNumber(n)) {
		snprintf(num, sizeof num, "%lld", (long long)n->valuedouble);
		emit_scalar(em, num, 0);
	} else {
		emit_scalar(em, "null", 0);
	}
}

static void front_matter(struct buf *b, const struct runbook *rb)
{
	cJSON *all = runbook_to_cjson(rb);
	cJSON *fm = cJSON_CreateObject();
	static const char *const keys[] = { "notes", "approval_ttl", "vars", "targets", "probes", "objectives", "faults", "notify" };
	for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
		cJSON *c = cJSON_DetachItemFromObjectCaseSensitive(all, keys[i]);
		if (c)
			cJSON_AddItemToObject(fm, keys[i], c);
	}
	cJSON_Delete(all);
	if (!fm->child) {
		cJSON_Delete(fm);
		return;
	}
	yaml_emitter_t em;
	yaml_event_t ev;
	yaml_emitter_initialize(&em);
	yaml_emitter_set_output(&em, yaml_write, b);
	yaml_emitter_set_unicode(&em, 1);
	yaml_emitter_set_width(&em, -1);
	buf_adds(b, "---\n");
	yaml_stream_start_event_initialize(&ev, YAML_UTF8_ENCODING);
	emit(&em, &ev);
	yaml_document_start_event_initialize(&ev, NULL, NULL, NULL, 1);
	emit(&em, &ev);
	emit_node(&em, fm);
	yaml_document_end_event_initialize(&ev, 1);
	emit(&em, &ev);
	yaml_stream_end_event_initialize(&ev);
	emit(&em, &ev);
	yaml_emitter_delete(&em);
	buf_adds(b, "---\n\n");
	cJSON_Delete(fm);
}

/* ---- body ---- */

static size_t longest_run(const char *s, char c)
{
	size_t best = 0, run = 0;
	for (; s && *s; s++) {
		run = *s == c ? run + 1 : 0;
		if (run > best)
			best = run;
	}
	return best;
}

/* A fence longer than any run of its character in the content; tildes
 * when the attributes hold a backtick, which a backtick fence's info
 * string may not (CommonMark). */
static void write_fence(struct buf *b, const struct action *a)
{
	cJSON *attrs = cJSON_CreateObject();
	struct buf info, content;
	buf_init(&info, BUF_UNLIMITED);
	buf_init(&content, BUF_UNLIMITED);
	field_emit(attrs, action_fields, a, (int)a->kind, true, 0);
	buf_adds(&info, action_kind_name(a->kind));
	attrs_write(&info, attrs);
	cJSON_Delete(attrs);
	if (a->body) {
		buf_adds(&content, a->body);
		buf_addc(&content, '\n');
	}
	for (size_t i = 0; i < a->argv.n; i++) {
		if (i)
			buf_addc(&content, ' ');
		words_quote(&content, a->argv.v[i]);
	}
	if (a->argv.n)
		buf_addc(&content, '\n');
	char ch = strchr(info.data, '`') ? '~' : '`';
	size_t fence = longest_run(content.data, ch) + 1;
	if (fence < 3)
		fence = 3;
	for (size_t i = 0; i < fence; i++)
		buf_addc(b, ch);
	buf_add(b, info.data, info.len);
	buf_addc(b, '\n');
	buf_add(b, content.data, content.len);
	for (size_t i = 0; i < fence; i++)
		buf_addc(b, ch);
	buf_adds(b, "\n\n");
	buf_release(&info);
	buf_release(&content);
}

static void write_step(struct buf *b, const struct step *s)
{
	cJSON *attrs = cJSON_CreateObject();
	field_emit(attrs, step_fields, s, -1, true, 0);
	char *slug = step_slug(s->title ? s->title : "");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(attrs, "id");
	if (id && !strcmp(id->valuestring, slug))
		cJSON_DeleteItemFromObjectCaseSensitive(attrs, "id");
	free(slug);
	buf_addf(b, "## %s", s->title ? s->title : "");
	size_t tl = s->title ? strlen(s->title) : 0;
	while (tl && strchr(" \t", s->title[tl - 1])) /* the reader trims these */
		tl--;
	if (!attrs->child && tl && (s->title[tl - 1] == '}' || s->title[tl - 1] == '#'))
		buf_adds(b, " {}"); /* the title's own braces or #s stay title */
	attrs_write(b, attrs);
	buf_adds(b, "\n\n");
	cJSON_Delete(attrs);
	if (s->doc) {
		char *doc = markdown_close_fences(xstrdup(s->doc));
		buf_adds(b, doc);
		buf_adds(b, "\n\n");
		free(doc);
	}
	for (size_t i = 0; i < s->n_actions; i++)
		write_fence(b, &s->actions[i]);
}

/* A newline would end a title line or an attribute list early. */
static bool one_line(const cJSON *attrs, char *bad, size_t n)
{
	const cJSON *m;
	cJSON_ArrayForEach(m, attrs)
	{
		const cJSON *v = cJSON_IsArray(m) ? m->child : m;
		for (; v; v = cJSON_IsArray(m) ? v->next : NULL)
			if (cJSON_IsString(v) && strpbrk(v->valuestring, "\n\r")) {
				snprintf(bad, n, "%s", m->string);
				return false;
			}
	}
	return true;
}

/* Is every title and attribute of step s on one line? */
static bool step_one_line(const struct step *s, char *bad, size_t n)
{
	cJSON *attrs = cJSON_CreateObject();
	snprintf(bad, n, "title");
	field_emit(attrs, step_fields, s, -1, true, 0);
	bool ok = (!s->title || !strpbrk(s->title, "\n\r")) && one_line(attrs, bad, n);
	cJSON_Delete(attrs);
	for (size_t k = 0; ok && k < s->n_actions; k++) {
		attrs = cJSON_CreateObject();
		field_emit(attrs, action_fields, &s->actions[k], (int)s->actions[k].kind, true, 0);
		ok = one_line(attrs, bad, n);
		cJSON_Delete(attrs);
	}
	return ok;
}

/* A carriage return anywhere would come back as a line break. */
static bool has_cr(const cJSON *n)
{
	if (cJSON_IsString(n) && strchr(n->valuestring, '\r'))
		return true;
	if (n->string && strchr(n->string, '\r'))
		return true;
	for (const cJSON *c = n->child; c; c = c->next)
		if (has_cr(c))
			return true;
	return false;
}

static int steps_one_line(const struct runbook *rb, struct err *e)
{
	char bad[64];
	for (size_t i = 0; i < rb->n_steps; i++)
		if (!step_one_line(&rb->steps[i], bad, sizeof bad))
			return err_set(e, "step '%s': its %s holds a line break, which Markdown cannot write",
				       rb->steps[i].id, bad);
	if (rb->title && strpbrk(rb->title, "\n\r"))
		return err_set(e, "the title holds a line break, which Markdown cannot write");
	cJSON *all = runbook_to_cjson(rb);
	bool cr = has_cr(all);
	cJSON_Delete(all);
	if (cr)
		return err_set(e, "a text holds a carriage return, which Markdown reads as a line break");
	return 0;
}

/* Prose must stay prose: a level-2 heading in a step's instructions would
 * start a new step, a description opening with a level-1 heading would
 * become the title. */
static int headings_stay(const struct runbook *rb, struct err *e)
{
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].doc && markdown_top_heading(rb->steps[i].doc, 2, false))
			return err_set(e, "step '%s': its instructions hold a level-2 heading, "
					  "which in Markdown would start a new step", rb->steps[i].id);
	if (rb->description && markdown_top_heading(rb->description, 2, false))
		return err_set(e, "the description holds a level-2 heading, which in Markdown would start a step");
	if (!rb->title && rb->description && markdown_top_heading(rb->description, 1, true))
		return err_set(e, "the description starts with a level-1 heading, which Markdown would read as the title");
	return 0;
}

int runbook_markdown_safe(const struct runbook *rb, struct err *e)
{
	size_t line;
	if (steps_one_line(rb, e) < 0 || headings_stay(rb, e) < 0)
		return -1;
	for (size_t i = 0; i < rb->n_steps; i++)
		if (rb->steps[i].doc && doc_action_fence(rb->steps[i].doc, &line))
			return err_set(e, "step '%s': line %zu of its instructions is a code block in an action language; "
					  "in Markdown it would become a command that runs",
				       rb->steps[i].id, line);
	if (rb->description && doc_action_fence(rb->description, &line))
		return err_set(e, "line %zu of the description is a code block in an action language; "
				  "in Markdown it would be refused", line);
	return 0;
}

char *runbook_write_markdown(const struct runbook *rb)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	size_t fm = b.len;
	front_matter(&b, rb);
	/* a body that starts with "---" would be read as front matter */
	if (b.len == fm && !rb->title && rb->description &&
	    !strncmp(rb->description, "---", 3))
		buf_adds(&b, "---\n---\n\n");
	if (rb->title)
		buf_addf(&b, "# %s\n\n", rb->title);
	if (rb->description) {
		char *desc = markdown_close_fences(xstrdup(rb->description));
		buf_addf(&b, "%s\n\n", desc);
		free(desc);
	}
	for (size_t i = 0; i < rb->n_steps; i++)
		write_step(&b, &rb->steps[i]);
	while (b.len >= 2 && b.data[b.len - 1] == '\n' && b.data[b.len - 2] == '\n')
		b.data[--b.len] = '\0';
	return buf_detach(&b, NULL);
}
