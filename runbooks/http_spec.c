#include "runbooks/http_spec.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/xalloc.h"

/* ---- status specs ---- */

bool http_status_spec_valid(const char *s)
{
	for (;;) {
		if (!(s[0] >= '1' && s[0] <= '5'))
			return false;
		bool xx = s[1] == 'x' && s[2] == 'x';
		bool digits = s[1] >= '0' && s[1] <= '9' && s[2] >= '0' && s[2] <= '9';
		if (!xx && !digits)
			return false;
		s += 3;
		if (!*s)
			return true;
		if (*s++ != ',')
			return false;
	}
}

bool http_status_spec_match(const char *s, long status)
{
	char want[4];
	if (status < 100 || status > 999)
		return false;
	want[0] = (char)('0' + status / 100);
	want[1] = (char)('0' + status / 10 % 10);
	want[2] = (char)('0' + status % 10);
	for (; *s; s += s[3] ? 4 : 3)
		if (s[0] == want[0] &&
		    ((s[1] == 'x' && s[2] == 'x') || (s[1] == want[1] && s[2] == want[2])))
			return true;
	return false;
}

/* ---- JSON checks ---- */

static bool key_char(char ch)
{
	return ch && !strchr(".[]=!<>\" \t", ch);
}

static const char *skip_blanks(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

/* One ".KEY", ".\"KEY\"" or "[N]" at p; returns the text after it. */
static const char *parse_step(const char *p, struct json_step *st,
			      const char **why)
{
	if (*p == '[') {
		char *end;
		if (p[1] < '0' || p[1] > '9')
			return *why = "an array index is [N] with N a number", NULL;
		st->index = strtol(p + 1, &end, 10);
		if (*end != ']')
			return *why = "an array index is [N] with N a number", NULL;
		return end + 1;
	}
	p++; /* the '.' */
	if (*p == '"') {
		const char *close = strchr(p + 1, '"');
		if (!close)
			return *why = "a quoted key has no closing quote", NULL;
		st->key = xstrndup(p + 1, (size_t)(close - p - 1));
		return close + 1;
	}
	const char *start = p;
	while (key_char(*p))
		p++;
	if (p == start)
		return *why = "a '.' must be followed by a key", NULL;
	st->key = xstrndup(start, (size_t)(p - start));
	return p;
}

static const char *parse_op(const char *p, enum json_op *op)
{
	static const struct {
		const char *s;
		enum json_op op;
	} ops[] = { { "==", JSON_OP_EQ }, { "!=", JSON_OP_NE }, { "<=", JSON_OP_LE },
		    { ">=", JSON_OP_GE }, { "=", JSON_OP_EQ },	{ "<", JSON_OP_LT },
		    { ">", JSON_OP_GT } };
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		size_t n = strlen(ops[i].s);
		if (!strncmp(p, ops[i].s, n)) {
			*op = ops[i].op;
			return p + n;
		}
	}
	return NULL;
}

static bool is_number(const char *s, double *out)
{
	char *end;
	if (!*s)
		return false;
	*out = strtod(s, &end);
	return !*end && isfinite(*out);
}

int json_check_parse(const char *text, struct json_check *c, const char **why)
{
	memset(c, 0, sizeof *c);
	c->text = xstrdup(text);
	const char *p = skip_blanks(text);
	if (*p != '.' && *p != '[')
		return *why = "a JSON check starts with a path such as .status or .items[0].name", -1;
	if (p[0] == '.' && !key_char(p[1]) && p[1] != '"') {
		p++; /* "." alone: the whole document */
	} else {
		while (*p == '.' || *p == '[') {
			if (c->n_steps == JSON_PATH_MAX_STEPS)
				return *why = "the path is too long", -1;
			p = parse_step(p, &c->steps[c->n_steps++], why);
			if (!p)
				return -1;
		}
	}
	p = skip_blanks(p);
	if (!*p) {
		c->op = JSON_OP_TRUTHY;
		return 0;
	}
	p = parse_op(p, &c->op);
	if (!p)
		return *why = "after the path comes =, ==, !=, <, <=, > or >= and a value", -1;
	p = skip_blanks(p);
	size_t n = strlen(p);
	while (n && (p[n - 1] == ' ' || p[n - 1] == '\t'))
		n--;
	if (n >= 2 && p[0] == '"' && p[n - 1] == '"') {
		p++;
		n -= 2;
	} else if (!n) {
		return *why = "the value after the operator is missing", -1;
	}
	c->value = xstrndup(p, n);
	double d;
	bool ordered = c->op == JSON_OP_LT || c->op == JSON_OP_LE || c->op == JSON_OP_GT ||
		       c->op == JSON_OP_GE;
	if (ordered && !is_number(c->value, &d))
		return *why = "<, <=, > and >= compare with a number", -1;
	return 0;
}

void json_check_release(struct json_check *c)
{
	for (int i = 0; i < c->n_steps; i++)
		free(c->steps[i].key);
	free(c->value);
	free(c->text);
	memset(c, 0, sizeof *c);
}

static void path_text(const struct json_check *c, struct buf *out)
{
	if (!c->n_steps)
		buf_adds(out, ".");
	for (int i = 0; i < c->n_steps; i++) {
		if (c->steps[i].key)
			buf_addf(out, ".%s", c->steps[i].key);
		else
			buf_addf(out, "[%ld]", c->steps[i].index);
	}
}

static const cJSON *walk(const struct json_check *c, const cJSON *root)
{
	const cJSON *v = root;
	for (int i = 0; v && i < c->n_steps; i++) {
		const struct json_step *st = &c->steps[i];
		if (st->key)
			v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, st->key) : NULL;
		else
			v = cJSON_IsArray(v) && st->index <= 0x7fffffff
				    ? cJSON_GetArrayItem(v, (int)st->index)
				    : NULL;
	}
	return v;
}

static bool compare_numbers(enum json_op op, double have, double want)
{
	switch (op) {
	case JSON_OP_EQ: return have == want;
	case JSON_OP_NE: return have != want;
	case JSON_OP_LT: return have < want;
	case JSON_OP_LE: return have <= want;
	case JSON_OP_GT: return have > want;
	case JSON_OP_GE: return have >= want;
	default: return false;
	}
}

/* -1: the comparison does not apply to this type */
static int compare(const struct json_check *c, const cJSON *v)
{
	double want, have;
	bool eq_op = c->op == JSON_OP_EQ || c->op == JSON_OP_NE;
	if (cJSON_IsNumber(v)) {
		if (!is_number(c->value, &want))
			return -1;
		return compare_numbers(c->op, v->valuedouble, want);
	}
	if (cJSON_IsString(v)) {
		if (eq_op)
			return (strcmp(v->valuestring, c->value) == 0) == (c->op == JSON_OP_EQ);
		if (!is_number(v->valuestring, &have) || !is_number(c->value, &want))
			return -1;
		return compare_numbers(c->op, have, want);
	}
	if (!eq_op)
		return -1;
	bool equal;
	if (cJSON_IsBool(v))
		equal = !strcmp(c->value, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		equal = !strcmp(c->value, "null");
	else
		equal = false; /* an object or array */
	return equal == (c->op == JSON_OP_EQ);
}

static void describe_value(const cJSON *v, struct buf *out)
{
	if (cJSON_IsObject(v)) {
		buf_adds(out, "an object");
	} else if (cJSON_IsArray(v)) {
		buf_adds(out, "an array");
	} else {
		char *s = cJSON_PrintUnformatted(v);
		if (s && strlen(s) > 80)
			buf_addf(out, "%.77s...", s);
		else
			buf_adds(out, s ? s : "?");
		free(s);
	}
}

bool json_check_eval(const struct json_check *c, const cJSON *root,
		     struct buf *why)
{
	const cJSON *v = walk(c, root);
	buf_addc(why, '\'');
	path_text(c, why);
	buf_addc(why, '\'');
	if (!v) {
		buf_adds(why, " is missing");
		return c->op == JSON_OP_NE;
	}
	buf_adds(why, " is ");
	describe_value(v, why);
	if (c->op == JSON_OP_TRUTHY)
		return !cJSON_IsNull(v) && !cJSON_IsFalse(v);
	int r = compare(c, v);
	if (r < 0) {
		buf_addf(why, ", which cannot be compared with '%s'", c->value);
		return false;
	}
	return r == 1;
}

/* ---- resolve entries ---- */

int http_resolve_entry_check(const char *s, const char **why)
{
	const char *c1 = strchr(s, ':');
	if (!c1 || c1 == s)
		return *why = "write HOST:PORT:ADDRESS, e.g. api.example.com:443:10.0.0.5", -1;
	char *end;
	long port = strtol(c1 + 1, &end, 10);
	if (end != c1 + 1 && !*end)
		return *why = "the address is missing (HOST:PORT:ADDRESS)", -1;
	if (end == c1 + 1 || *end != ':' || port < 1 || port > 65535)
		return *why = "the port must be a number from 1 to 65535 (HOST:PORT:ADDRESS)", -1;
	const char *addr = end + 1;
	if (!*addr)
		return *why = "the address is missing (HOST:PORT:ADDRESS)", -1;
	for (const char *p = addr; *p; p++)
		if (!strchr("0123456789abcdefABCDEF.:[],", *p))
			return *why = "the address must be numeric: IPv4, or IPv6 in brackets", -1;
	return 0;
}

/* ---- URLs ---- */

static size_t scheme_len(const char *url)
{
	size_t n = 0;
	while ((url[n] >= 'a' && url[n] <= 'z') || (url[n] >= 'A' && url[n] <= 'Z') ||
	       (n && ((url[n] >= '0' && url[n] <= '9') || url[n] == '+' || url[n] == '-' ||
		      url[n] == '.')))
		n++;
	return n && !strncmp(url + n, "://", 3) ? n : 0;
}

bool http_url_is_absolute(const char *url)
{
	return scheme_len(url) > 0;
}

bool http_url_scheme_ok(const char *url)
{
	size_t n = scheme_len(url);
	return (n == 4 && !strncasecmp(url, "http", 4)) || (n == 5 && !strncasecmp(url, "https", 5));
}

void http_url_join(const char *base, const char *url, struct buf *out)
{
	if (!url) {
		buf_adds(out, base ? base : "");
		return;
	}
	if (!base || http_url_is_absolute(url)) {
		buf_adds(out, url);
		return;
	}
	size_t n = strlen(base);
	while (n && base[n - 1] == '/')
		n--;
	buf_add(out, base, n);
	if (*url != '/' && *url != '?')
		buf_addc(out, '/');
	buf_adds(out, url);
}

void http_url_without_userinfo(const char *url, struct buf *out)
{
	size_t n = scheme_len(url);
	if (!n) {
		buf_adds(out, url);
		return;
	}
	const char *host = url + n + 3;
	size_t auth = strcspn(host, "/?#");
	const char *at = memrchr(host, '@', auth);
	buf_add(out, url, (size_t)(host - url));
	buf_adds(out, at ? at + 1 : host);
}
