#include "runbooks/attrs.h"

#include <string.h>

static int key_char(char c, int first)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' ||
	       (!first && ((c >= '0' && c <= '9') || c == '-'));
}

static struct srcpos at(struct srcpos base, size_t off)
{
	return (struct srcpos){ base.line, base.col + (unsigned)off };
}

/* Reads one value starting at s[*i]; returns it in v. */
static int read_value(const char *s, size_t n, size_t *i, struct buf *v)
{
	if (s[*i] == '"' || s[*i] == '\'') {
		char q = s[(*i)++];
		while (*i < n && s[*i] != q) {
			if (q == '"' && s[*i] == '\\' && *i + 1 < n &&
			    (s[*i + 1] == '"' || s[*i + 1] == '\\'))
				(*i)++;
			buf_addc(v, s[(*i)++]);
		}
		if (*i >= n)
			return -1;
		(*i)++;
		return 0;
	}
	while (*i < n && s[*i] != ' ' && s[*i] != '\t')
		buf_addc(v, s[(*i)++]);
	return 0;
}

static cJSON *parse_json_attrs(const char *s, size_t n, struct srcpos pos,
			       struct posmap *pm, struct diags *d)
{
	cJSON *obj = cJSON_ParseWithLength(s, n);
	if (!cJSON_IsObject(obj)) {
		diag_error(d, pos, "attributes in JSON form must be one JSON object");
		cJSON_Delete(obj);
		return NULL;
	}
	size_t nul = tree_json_nul(s, n, 0);
	if (nul < n) {
		diag_error(d, at(pos, nul), TREE_NUL_MESSAGE);
		cJSON_Delete(obj);
		return NULL;
	}
	posmap_put(pm, obj, pos, pos);
	const cJSON *m;
	cJSON_ArrayForEach(m, obj)
	{
		const char *k = strstr(s, m->string);
		struct srcpos p = k ? at(pos, (size_t)(k - s)) : pos;
		posmap_put(pm, m, p, p);
	}
	return obj;
}

cJSON *attrs_parse(const char *s, size_t n, struct srcpos pos,
		   struct posmap *pm, struct diags *d)
{
	size_t i = 1;
	while (i < n - 1 && (s[i] == ' ' || s[i] == '\t'))
		i++;
	if (s[i] == '"')
		return parse_json_attrs(s, n, pos, pm, d);
	cJSON *obj = cJSON_CreateObject();
	posmap_put(pm, obj, pos, pos);
	struct buf key, val;
	buf_init(&key, 256);
	buf_init(&val, 65536);
	n--; /* the closing brace */
	while (i < n) {
		if (s[i] == ' ' || s[i] == '\t') {
			i++;
			continue;
		}
		size_t kstart = i;
		buf_reset(&key);
		buf_reset(&val);
		while (i < n && key_char(s[i], i == kstart))
			buf_addc(&key, s[i++]);
		if (!key.len || (i < n && s[i] != '=' && s[i] != ' ' && s[i] != '\t')) {
			diag_error(d, at(pos, i), "bad attribute: expected name=value");
			goto fail;
		}
		size_t vstart = i;
		if (i < n && s[i] == '=') {
			vstart = ++i;
			if (i >= n || s[i] == ' ' || s[i] == '\t') {
				diag_error(d, at(pos, kstart), "attribute '%s' has no value", key.data);
				goto fail;
			}
			if (read_value(s, n, &i, &val) < 0) {
				diag_error(d, at(pos, vstart), "unterminated quote in attribute '%s'", key.data);
				goto fail;
			}
		} else {
			buf_adds(&val, "true");
		}
		cJSON *v = cJSON_CreateString(val.data);
		cJSON_AddItemToObject(obj, key.data, v);
		posmap_put(pm, v, at(pos, kstart), at(pos, vstart));
	}
	buf_release(&key);
	buf_release(&val);
	return obj;
fail:
	buf_release(&key);
	buf_release(&val);
	cJSON_Delete(obj);
	return NULL;
}

static int bare_ok(const char *v)
{
	if (!*v)
		return 0;
	for (; *v; v++)
		if (*v == ' ' || *v == '\t' || *v == '"' || *v == '\'' ||
		    *v == '{' || *v == '}' || *v == '\\' || *v == '\n')
			return 0;
	return 1;
}

static void write_value(struct buf *b, const char *v)
{
	if (bare_ok(v)) {
		buf_adds(b, v);
		return;
	}
	buf_addc(b, '"');
	for (; *v; v++) {
		if (*v == '"' || *v == '\\')
			buf_addc(b, '\\');
		buf_addc(b, *v);
	}
	buf_addc(b, '"');
}

static void write_one(struct buf *b, const char *key, const cJSON *v)
{
	buf_addf(b, " %s=", key);
	if (cJSON_IsString(v))
		write_value(b, v->valuestring);
	else if (cJSON_IsBool(v))
		buf_adds(b, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v))
		buf_addf(b, "%lld", (long long)v->valuedouble);
}

void attrs_write(struct buf *b, const cJSON *obj)
{
	if (!obj || !obj->child)
		return;
	size_t start = b->len;
	const cJSON *m;
	buf_adds(b, " {");
	cJSON_ArrayForEach(m, obj)
	{
		if (cJSON_IsArray(m)) {
			const cJSON *e;
			cJSON_ArrayForEach(e, m) write_one(b, m->string, e);
		} else {
			write_one(b, m->string, m);
		}
	}
	buf_addc(b, '}');
	/* " { k=v}" -> " {k=v}" */
	memmove(b->data + start + 2, b->data + start + 3, b->len - start - 3);
	b->len--;
	b->data[b->len] = '\0';
}
