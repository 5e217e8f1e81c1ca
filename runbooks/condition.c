/* Conditions on a probe's values (runbooks/condition.h). */
#include "runbooks/condition.h"

#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static bool is_blank(char c)
{
	return c == ' ' || c == '\t';
}

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '-';
}

bool cond_path_valid(const char *s)
{
	size_t n = strlen(s);
	if (!n || n >= COND_PATH_MAX || s[0] == '.' || s[n - 1] == '.')
		return false;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
		if (s[i] != '.' && !is_name_char(s[i]))
			return false;
	}
	return true;
}

/* A decimal number with an optional sign and fraction, locale-free
 * (strtod would follow LC_NUMERIC); *end after it. */
static bool decimal(const char *s, double *out, const char **end)
{
	const char *p = s;
	double v = 0, scale = 1;
	bool neg = *p == '-', digits = false;
	if (*p == '-' || *p == '+')
		p++;
	for (; *p >= '0' && *p <= '9'; p++, digits = true)
		v = v * 10 + (*p - '0');
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++, digits = true) {
			scale /= 10;
			v += (*p - '0') * scale;
		}
	}
	if (!digits)
		return false;
	*out = neg ? -v : v;
	*end = p;
	return true;
}

bool cond_text_number(const char *s, double *out)
{
	const char *end;
	return s && decimal(s, out, &end) && !*end;
}

bool cond_value_number(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v)) {
		*out = v->valuedouble;
		return true;
	}
	return cJSON_IsString(v) && cond_text_number(v->valuestring, out);
}

bool cond_value_text(const cJSON *v, char *out, size_t n)
{
	if (cJSON_IsString(v)) {
		snprintf(out, n, "%s", v->valuestring);
	} else if (cJSON_IsBool(v)) {
		snprintf(out, n, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNumber(v)) {
		double d = v->valuedouble;
		if (d == floor(d) && fabs(d) < 1e15)
			snprintf(out, n, "%lld", (long long)d);
		else
			snprintf(out, n, "%.6g", d);
	} else {
		return false;
	}
	return true;
}

const cJSON *cond_lookup(const cJSON *values, const char *path)
{
	char name[COND_PATH_MAX];
	const cJSON *v = values;
	for (const char *p = path; v && *p;) {
		size_t n = strcspn(p, ".");
		if (n >= sizeof name)
			return NULL;
		memcpy(name, p, n);
		name[n] = '\0';
		v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, name) : NULL;
		p += n + (p[n] == '.');
	}
	return v && !cJSON_IsNull(v) ? v : NULL;
}

/* ---- parsing ---- */

struct parser {
	const char *s;
	const char *p;
	size_t *at;
	char *msg;
};

__attribute__((format(printf, 3, 4)))
static int bad(struct parser *ps, const char *where, const char *fmt, ...)
{
	va_list ap;
	*ps->at = (size_t)(where - ps->s);
	va_start(ap, fmt);
	vsnprintf(ps->msg, COND_MSG_MAX, fmt, ap);
	va_end(ap);
	return -1;
}

static void skip_blanks(struct parser *ps)
{
	while (is_blank(*ps->p))
		ps->p++;
}

static const struct {
	const char *text;
	enum cond_op op;
} ops[] = {
	{ "!=", COND_NE }, { "!~", COND_HASNT }, { "<=", COND_LE }, { ">=", COND_GE },
	{ "=", COND_EQ },  { "<", COND_LT },	 { ">", COND_GT },  { "~", COND_HAS },
};

static int parse_op(struct parser *ps, enum cond_op *op)
{
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		size_t n = strlen(ops[i].text);
		if (!strncmp(ps->p, ops[i].text, n)) {
			*op = ops[i].op;
			ps->p += n;
			return 0;
		}
	}
	return bad(ps, ps->p, "expected an operator (=, !=, <, <=, >, >=, ~ or !~)");
}

/* " and " or " or " at p (p at a blank): the connector's length, or 0. */
static size_t connector_at(const char *p, bool *is_or)
{
	const char *q = p;
	while (is_blank(*q))
		q++;
	if (q == p)
		return 0;
	size_t w = !strncmp(q, "and", 3) ? 3 : !strncmp(q, "or", 2) ? 2 : 0;
	if (!w || !(is_blank(q[w]) || !q[w]))
		return 0;
	*is_or = w == 2;
	return (size_t)(q - p);
}

static const struct {
	const char *name;
	double seconds;
} units[] = { { "ms", 0.001 }, { "s", 1 }, { "m", 60 }, { "h", 3600 } };

/* Is the path's last name a number of milliseconds? */
static bool path_in_ms(const char *path)
{
	size_t n = strlen(path);
	return n >= 3 && !strcmp(path + n - 3, "_ms");
}

static bool status_pattern(const char *t)
{
	bool wild = false;
	for (;;) {
		for (int i = 0; i < 3; i++) {
			if (!((t[i] >= '0' && t[i] <= '9') || t[i] == 'x'))
				return false;
			wild = wild || t[i] == 'x';
		}
		t += 3;
		if (!*t)
			return wild;
		if (*t++ != ',')
			return false;
		wild = true; /* a list: a pattern even without an x */
	}
}

/* What kind of literal, and its number. */
static int classify(struct parser *ps, const char *where, struct cond_clause *cl,
		    bool quoted)
{
	const char *end;
	double d;
	cl->lit = COND_LIT_TEXT;
	if (quoted || cl->op == COND_HAS || cl->op == COND_HASNT)
		goto text;
	if (status_pattern(cl->text)) {
		cl->lit = COND_LIT_STATUS;
		if (cl->op != COND_EQ && cl->op != COND_NE)
			return bad(ps, where, "a status pattern like '%s' goes with = or !=",
				   cl->text);
		return 0;
	}
	if (decimal(cl->text, &d, &end)) {
		if (!*end) {
			cl->lit = COND_LIT_NUMBER;
			cl->number = d;
			return 0;
		}
		for (size_t i = 0; i < sizeof units / sizeof *units; i++) {
			if (!strcmp(end, units[i].name)) {
				cl->lit = COND_LIT_NUMBER;
				cl->duration = true;
				cl->number = d * units[i].seconds * (path_in_ms(cl->path) ? 1000 : 1);
				return 0;
			}
		}
	}
text:
	if (cl->op != COND_EQ && cl->op != COND_NE && cl->op != COND_HAS && cl->op != COND_HASNT)
		return bad(ps, where, "'%s' is not a number: <, <=, > and >= compare numbers "
				      "(30, 2.5, 30s, 250ms)", cl->text);
	return 0;
}

/* The literal, quoted or up to the next connector; leaves p after it. */
static int parse_literal(struct parser *ps, struct cond_clause *cl)
{
	const char *start = ps->p;
	bool quoted = *ps->p == '"';
	if (quoted) {
		const char *close = strchr(ps->p + 1, '"');
		if (!close)
			return bad(ps, start, "a quoted value needs its closing quote");
		cl->text = xstrndup(ps->p + 1, (size_t)(close - ps->p - 1));
		ps->p = close + 1;
	} else {
		const char *q = ps->p;
		bool is_or;
		while (*q && !(is_blank(*q) && connector_at(q, &is_or)))
			q++;
		const char *e = q;
		while (e > ps->p && is_blank(e[-1]))
			e--;
		if (e == ps->p)
			return bad(ps, start, "a value must follow the operator");
		cl->text = xstrndup(ps->p, (size_t)(e - ps->p));
		ps->p = q;
	}
	return classify(ps, start, cl, quoted);
}

static int parse_clause(struct parser *ps, struct cond_clause *cl)
{
	skip_blanks(ps);
	const char *start = ps->p;
	while (is_name_char(*ps->p) || *ps->p == '.')
		ps->p++;
	if (ps->p == start)
		return bad(ps, start, "expected the name of a value (status, lag_seconds, "
				      "first_row.n...)");
	cl->path = xstrndup(start, (size_t)(ps->p - start));
	if (!cond_path_valid(cl->path))
		return bad(ps, start, "bad value name '%s'", cl->path);
	skip_blanks(ps);
	if (parse_op(ps, &cl->op) < 0)
		return -1;
	skip_blanks(ps);
	return parse_literal(ps, cl);
}

int cond_parse(const char *s, struct cond *out, size_t *at, char msg[COND_MSG_MAX])
{
	struct parser ps = { .s = s, .p = s, .at = at, .msg = msg };
	memset(out, 0, sizeof *out);
	bool or_next = false;
	for (;;) {
		if (out->n == COND_MAX_CLAUSES) {
			bad(&ps, ps.p, "too many clauses (at most 16)");
			break;
		}
		out->v = xrealloc(out->v, (out->n + 1) * sizeof *out->v);
		struct cond_clause *cl = &out->v[out->n++];
		memset(cl, 0, sizeof *cl);
		cl->or_before = or_next;
		if (parse_clause(&ps, cl) < 0)
			break;
		bool is_or = false;
		size_t blanks = connector_at(ps.p, &is_or);
		skip_blanks(&ps);
		if (!*ps.p)
			return 0;
		if (!blanks) {
			bad(&ps, ps.p, "expected 'and', 'or' or the end");
			break;
		}
		ps.p += is_or ? 2 : 3;
		or_next = is_or;
	}
	cond_release(out);
	return -1;
}

void cond_release(struct cond *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].text);
	}
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* ---- evaluating ---- */

static bool status_matches(const char *pattern, double d)
{
	char digits[8];
	if (d != floor(d) || d < 0 || d > 999)
		return false;
	snprintf(digits, sizeof digits, "%03d", (int)d);
	for (const char *p = pattern; *p; p += p[3] ? 4 : 3) {
		bool all = true;
		for (int i = 0; i < 3; i++)
			all = all && (p[i] == 'x' || p[i] == digits[i]);
		if (all)
			return true;
		if (!p[3])
			break;
	}
	return false;
}

static bool compare(enum cond_op op, double a, double b)
{
	double eps = 1e-9 * (fabs(a) > fabs(b) ? fabs(a) : fabs(b));
	switch (op) {
	case COND_EQ: return fabs(a - b) <= eps;
	case COND_NE: return fabs(a - b) > eps;
	case COND_LT: return a < b;
	case COND_LE: return a <= b;
	case COND_GT: return a > b;
	case COND_GE: return a >= b;
	default: return false;
	}
}

static bool clause_holds(const struct cond_clause *cl, const cJSON *values)
{
	const cJSON *v = cond_lookup(values, cl->path);
	char text[512];
	double d;
	if (!v)
		return false;
	switch (cl->lit) {
	case COND_LIT_STATUS:
		if (!cond_value_number(v, &d))
			return false;
		return status_matches(cl->text, d) == (cl->op == COND_EQ);
	case COND_LIT_NUMBER:
		return cond_value_number(v, &d) && compare(cl->op, d, cl->number);
	case COND_LIT_TEXT:
		break;
	}
	if (!cond_value_text(v, text, sizeof text))
		return false;
	switch (cl->op) {
	case COND_EQ: return !strcmp(text, cl->text);
	case COND_NE: return strcmp(text, cl->text) != 0;
	case COND_HAS: return strstr(text, cl->text) != NULL;
	case COND_HASNT: return strstr(text, cl->text) == NULL;
	default: return false;
	}
}

bool cond_eval(const struct cond *c, const cJSON *values)
{
	bool any = false, group = true;
	for (size_t i = 0; i < c->n; i++) {
		if (i && c->v[i].or_before) {
			any = any || group;
			group = true;
		}
		group = group && clause_holds(&c->v[i], values);
	}
	return c->n && (any || group);
}
