#include "runbooks/tree.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/xalloc.h"

struct posmap_slot {
	const cJSON *node;
	struct srcpos key;
	struct srcpos val;
};

struct posmap {
	struct posmap_slot *slots;
	size_t cap; /* power of two */
	size_t n;
};

struct posmap *posmap_new(void)
{
	struct posmap *pm = xcalloc(1, sizeof *pm);
	pm->cap = 256;
	pm->slots = xcalloc(pm->cap, sizeof *pm->slots);
	return pm;
}

void posmap_free(struct posmap *pm)
{
	if (!pm)
		return;
	free(pm->slots);
	free(pm);
}

static size_t slot_of(const struct posmap *pm, const cJSON *node)
{
	uintptr_t h = (uintptr_t)node;
	h ^= h >> 17;
	h *= 0x9e3779b97f4a7c15ull;
	size_t i = (size_t)(h >> 7) & (pm->cap - 1);
	while (pm->slots[i].node && pm->slots[i].node != node)
		i = (i + 1) & (pm->cap - 1);
	return i;
}

static void posmap_grow(struct posmap *pm)
{
	struct posmap old = *pm;
	pm->cap *= 2;
	pm->n = 0;
	pm->slots = xcalloc(pm->cap, sizeof *pm->slots);
	for (size_t i = 0; i < old.cap; i++)
		if (old.slots[i].node)
			posmap_put(pm, old.slots[i].node, old.slots[i].key,
				   old.slots[i].val);
	free(old.slots);
}

void posmap_put(struct posmap *pm, const cJSON *node, struct srcpos key,
		struct srcpos val)
{
	if (!pm || !node)
		return;
	if ((pm->n + 1) * 2 > pm->cap)
		posmap_grow(pm);
	size_t i = slot_of(pm, node);
	if (!pm->slots[i].node)
		pm->n++;
	pm->slots[i] = (struct posmap_slot){ node, key, val };
}

struct srcpos posmap_val(const struct posmap *pm, const cJSON *node)
{
	if (!pm || !node)
		return (struct srcpos){ 0, 0 };
	size_t i = slot_of(pm, node);
	return pm->slots[i].node ? pm->slots[i].val : (struct srcpos){ 0, 0 };
}

struct srcpos posmap_key(const struct posmap *pm, const cJSON *node)
{
	if (!pm || !node)
		return (struct srcpos){ 0, 0 };
	size_t i = slot_of(pm, node);
	if (!pm->slots[i].node)
		return (struct srcpos){ 0, 0 };
	return pm->slots[i].key.line ? pm->slots[i].key : pm->slots[i].val;
}

struct srcpos tree_offset_pos(const char *text, size_t len, size_t off)
{
	struct srcpos p = { 1, 1 };
	for (size_t i = 0; i < off && i < len; i++) {
		if (text[i] == '\n') {
			p.line++;
			p.col = 1;
		} else {
			p.col++;
		}
	}
	return p;
}

static int hex4_zero(const char *p, size_t left)
{
	return left >= 4 && p[0] == '0' && p[1] == '0' && p[2] == '0' &&
	       p[3] == '0';
}

size_t tree_json_nul(const char *text, size_t len, size_t from)
{
	int in_string = 0;

	for (size_t i = from; i < len; i++) {
		if (!in_string) {
			in_string = text[i] == '"';
		} else if (text[i] == '"') {
			in_string = 0;
		} else if (text[i] == '\\' && i + 1 < len) {
			if (text[i + 1] == 'u' &&
			    hex4_zero(text + i + 2, len - i - 2))
				return i;
			i++;
		}
	}
	return len;
}

static struct srcpos mark_pos(yaml_mark_t m, unsigned line_offset)
{
	return (struct srcpos){ (unsigned)m.line + 1 + line_offset,
				(unsigned)m.column + 1 };
}

/* YAML 1.2 core schema for plain scalars; quoted scalars stay strings. */
static cJSON *resolve_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;
	if (ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return cJSON_CreateString(v);
	if (n == 0 || !strcmp(v, "~") || !strcmp(v, "null") ||
	    !strcmp(v, "Null") || !strcmp(v, "NULL"))
		return cJSON_CreateNull();
	if (!strcmp(v, "true") || !strcmp(v, "True") || !strcmp(v, "TRUE"))
		return cJSON_CreateTrue();
	if (!strcmp(v, "false") || !strcmp(v, "False") || !strcmp(v, "FALSE"))
		return cJSON_CreateFalse();
	size_t i = (v[0] == '-' || v[0] == '+') ? 1 : 0;
	size_t digits = 0;
	while (i < n && v[i] >= '0' && v[i] <= '9')
		i++, digits++;
	if (digits && i == n && digits < 16)
		return cJSON_CreateNumber((double)strtoll(v, NULL, 10));
	return cJSON_CreateString(v);
}

struct frame {
	cJSON *node;
	char *pending_key; /* mapping: key read, value not yet */
	struct srcpos key_pos;
	struct srcpos start;
};

struct builder {
	struct frame stack[QRH_MAX_TREE_DEPTH];
	int depth;
	cJSON *root;
	struct posmap *pm;
	struct diags *d;
	unsigned line_offset;
	int failed;
	int keep_duplicates; /* indexing JSON: pair members by order */
};

/* Attaches a finished node to its parent (or makes it the root). */
static void attach(struct builder *b, cJSON *node, struct srcpos pos)
{
	if (b->depth == 0) {
		b->root = node;
		posmap_put(b->pm, node, (struct srcpos){ 0, 0 }, pos);
		return;
	}
	struct frame *f = &b->stack[b->depth - 1];
	if (cJSON_IsArray(f->node)) {
		cJSON_AddItemToArray(f->node, node);
		posmap_put(b->pm, node, (struct srcpos){ 0, 0 }, pos);
		return;
	}
	if (!f->pending_key) {
		/* this node is a key */
		if (!cJSON_IsString(node)) {
			diag_error(b->d, pos, "mapping keys must be plain strings");
			b->failed = 1;
			cJSON_Delete(node);
			return;
		}
		f->pending_key = xstrdup(node->valuestring);
		f->key_pos = pos;
		cJSON_Delete(node);
		return;
	}
	if (!b->keep_duplicates &&
	    cJSON_GetObjectItemCaseSensitive(f->node, f->pending_key)) {
		diag_error(b->d, f->key_pos, "duplicate key '%s'", f->pending_key);
		b->failed = 1;
		cJSON_Delete(node);
	} else {
		cJSON_AddItemToObject(f->node, f->pending_key, node);
		posmap_put(b->pm, node, f->key_pos, pos);
	}
	free(f->pending_key);
	f->pending_key = NULL;
}

static int builder_push(struct builder *b, cJSON *node, struct srcpos pos)
{
	if (b->depth >= QRH_MAX_TREE_DEPTH) {
		diag_error(b->d, pos, "nesting deeper than %d levels",
			   QRH_MAX_TREE_DEPTH);
		cJSON_Delete(node);
		return -1;
	}
	struct frame *f = &b->stack[b->depth++];
	f->node = node;
	f->pending_key = NULL;
	f->key_pos = pos;
	f->start = pos;
	return 0;
}

static void builder_pop(struct builder *b)
{
	struct frame f = b->stack[--b->depth];
	free(f.pending_key);
	attach(b, f.node, f.start);
}

static int builder_event(struct builder *b, yaml_event_t *ev)
{
	struct srcpos pos = mark_pos(ev->start_mark, b->line_offset);
	switch (ev->type) {
	case YAML_ALIAS_EVENT:
		diag_error(b->d, pos, "YAML aliases are not supported");
		return -1;
	case YAML_SCALAR_EVENT:
		if (ev->data.scalar.anchor) {
			diag_error(b->d, pos, "YAML anchors are not supported");
			return -1;
		}
		if (memchr(ev->data.scalar.value, '\0', ev->data.scalar.length)) {
			diag_error(b->d, pos, TREE_NUL_MESSAGE);
			return -1;
		}
		attach(b, resolve_scalar(ev), pos);
		return 0;
	case YAML_SEQUENCE_START_EVENT:
		return builder_push(b, cJSON_CreateArray(), pos);
	case YAML_MAPPING_START_EVENT:
		return builder_push(b, cJSON_CreateObject(), pos);
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT:
		builder_pop(b);
		return 0;
	default:
		return 0;
	}
}

static void builder_cleanup(struct builder *b)
{
	while (b->depth > 0) {
		struct frame *f = &b->stack[--b->depth];
		free(f->pending_key);
		cJSON_Delete(f->node);
	}
}

static int run_parser(struct builder *b, const char *text, size_t len,
		      int quiet)
{
	yaml_parser_t parser;
	yaml_event_t ev;
	int rc = 0, docs = 0;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	for (;;) {
		if (!yaml_parser_parse(&parser, &ev)) {
			if (!quiet)
				diag_error(b->d, mark_pos(parser.problem_mark, b->line_offset),
					   "YAML syntax error: %s",
					   parser.problem ? parser.problem : "invalid YAML");
			rc = -1;
			break;
		}
		yaml_event_type_t type = ev.type;
		if (type == YAML_DOCUMENT_START_EVENT && ++docs > 1) {
			if (!quiet)
				diag_error(b->d, mark_pos(ev.start_mark, b->line_offset),
					   "only one YAML document is allowed");
			rc = -1;
		}
		if (rc == 0 && builder_event(b, &ev) < 0)
			rc = -1;
		yaml_event_delete(&ev);
		if (rc < 0 || type == YAML_STREAM_END_EVENT)
			break;
	}
	yaml_parser_delete(&parser);
	return rc;
}

cJSON *tree_from_yaml(const char *text, size_t len, unsigned line_offset,
		      struct posmap *pm, struct diags *d)
{
	struct builder b = { .pm = pm, .d = d, .line_offset = line_offset };
	int rc = run_parser(&b, text, len, 0);
	builder_cleanup(&b);
	if (rc < 0 || b.failed) {
		cJSON_Delete(b.root);
		return NULL;
	}
	if (!b.root || cJSON_IsNull(b.root)) {
		cJSON_Delete(b.root);
		b.root = cJSON_CreateObject();
		posmap_put(pm, b.root, (struct srcpos){ 0, 0 },
			   (struct srcpos){ line_offset + 1, 1 });
	}
	return b.root;
}

/* Copies positions from the YAML reading onto the cJSON reading. */
static void copy_positions(const cJSON *real, const cJSON *shadow,
			   const struct posmap *from, struct posmap *to,
			   int depth)
{
	if (!real || !shadow || depth > QRH_MAX_TREE_DEPTH)
		return;
	posmap_put(to, real, posmap_key(from, shadow), posmap_val(from, shadow));
	if ((cJSON_IsObject(real) && cJSON_IsObject(shadow)) ||
	    (cJSON_IsArray(real) && cJSON_IsArray(shadow))) {
		/* both readings keep members in order, duplicates included */
		const cJSON *c = real->child, *s = shadow->child;
		for (; c && s; c = c->next, s = s->next) {
			if (c->string && (!s->string || strcmp(c->string, s->string)))
				return;
			copy_positions(c, s, from, to, depth + 1);
		}
	}
}

void tree_index_json(const char *text, size_t len, const cJSON *root,
		     struct posmap *pm)
{
	struct diags quiet;
	diags_init(&quiet);
	struct posmap *shadow_pm = posmap_new();
	struct builder b = { .pm = shadow_pm, .d = &quiet, .keep_duplicates = 1 };
	int rc = run_parser(&b, text, len, 1);
	builder_cleanup(&b);
	if (rc == 0 && !b.failed)
		copy_positions(root, b.root, shadow_pm, pm, 0);
	cJSON_Delete(b.root);
	posmap_free(shadow_pm);
	diags_release(&quiet);
}
