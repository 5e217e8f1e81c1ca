#include "runbooks/sqltext.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runbooks/vars.h"
#include "util/xalloc.h"

/* ---- parameters ---- */

struct ref {
	size_t off, len; /* of the whole ${NAME} */
	char *name;
};

struct refs {
	struct ref *v;
	size_t n, cap;
};

static int collect_ref(void *arg, const char *name, size_t off)
{
	struct refs *rs = arg;
	rs->v = xgrow(rs->v, &rs->cap, rs->n + 1, sizeof *rs->v);
	rs->v[rs->n++] = (struct ref){ off, strlen(name) + 3, xstrdup(name) };
	return 0;
}

static void refs_release(struct refs *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		free(rs->v[i].name);
	free(rs->v);
}

static bool ident_start(unsigned char c)
{
	return isalpha(c) || c == '_' || c >= 0x80;
}

static bool ident_char(unsigned char c)
{
	return ident_start(c) || isdigit(c) || c == '$';
}

/* The end of a quoted region starting at q[i] (the opening quote). */
static size_t skip_quoted(const char *q, size_t i, char quote, bool backslash)
{
	for (i++; q[i]; i++) {
		if (backslash && q[i] == '\\' && q[i + 1]) {
			i++;
		} else if (q[i] == quote) {
			if (q[i + 1] != quote)
				return i + 1;
			i++;
		}
	}
	return i;
}

static size_t skip_block_comment(const char *q, size_t i)
{
	int depth = 0;
	while (q[i]) {
		if (q[i] == '/' && q[i + 1] == '*') {
			depth++;
			i += 2;
		} else if (q[i] == '*' && q[i + 1] == '/') {
			i += 2;
			if (--depth == 0)
				return i;
		} else {
			i++;
		}
	}
	return i;
}

/* Length of a dollar-quote tag "$tag$" / "$$" at q[i], or 0. */
static size_t dollar_tag(const char *q, size_t i)
{
	size_t j = i + 1;
	if (q[j] != '$' && !ident_start((unsigned char)q[j]))
		return 0;
	while (q[j] && q[j] != '$') {
		unsigned char c = (unsigned char)q[j];
		if (!ident_start(c) && !isdigit(c))
			return 0;
		j++;
	}
	return q[j] == '$' ? j - i + 1 : 0;
}

static size_t skip_dollar_body(const char *q, size_t i, size_t taglen)
{
	for (const char *p = q + i + taglen; *p; p++)
		if (*p == '$' && !strncmp(p, q + i, taglen))
			return (size_t)(p - q) + taglen;
	return strlen(q);
}

struct scan {
	const char *q;
	struct refs refs;
	size_t next_ref;
	struct sql_scan_error *pe;
};

/* A reference inside [from, to) that is quoted: refused. */
static int check_quoted(struct scan *s, size_t from, size_t to,
			const char *what)
{
	while (s->next_ref < s->refs.n && s->refs.v[s->next_ref].off < to) {
		const struct ref *r = &s->refs.v[s->next_ref];
		if (r->off >= from) {
			s->pe->off = r->off;
			snprintf(s->pe->msg, sizeof s->pe->msg,
				 "${%s} inside a %s cannot be a query parameter: write it outside quotes (its value is sent as a parameter, never pasted)",
				 r->name, what);
			return -1;
		}
		s->next_ref++;
	}
	return 0;
}

static size_t name_index(struct strv *names, const char *name)
{
	for (size_t i = 0; i < names->n; i++)
		if (!strcmp(names->v[i], name))
			return i;
	strv_push(names, name);
	return names->n - 1;
}

/* One step of the scan at q[i] in plain SQL; returns the next offset or
 * (size_t)-1 on error. */
static size_t scan_step(struct scan *s, size_t i, size_t n_fixed,
			struct buf *out, struct strv *names, long *max_author,
			size_t *max_off)
{
	const char *q = s->q;
	unsigned char c = (unsigned char)q[i];
	size_t end = i + 1;
	const char *what = NULL;
	if ((c == 'E' || c == 'e') && q[i + 1] == '\'') {
		end = skip_quoted(q, i + 1, '\'', true);
		what = "quoted string";
	} else if (ident_start(c)) {
		while (q[end] && ident_char((unsigned char)q[end]))
			end++;
	} else if (isdigit(c)) {
		while (q[end] && (isalnum((unsigned char)q[end]) || q[end] == '.'))
			end++;
	} else if (c == '\'') {
		end = skip_quoted(q, i, '\'', false);
		what = "quoted string";
	} else if (c == '"') {
		end = skip_quoted(q, i, '"', false);
		what = "quoted identifier";
	} else if (c == '-' && q[i + 1] == '-') {
		end = i + strcspn(q + i, "\n");
		what = "comment";
	} else if (c == '/' && q[i + 1] == '*') {
		end = skip_block_comment(q, i);
		what = "comment";
	} else if (c == '$' && s->next_ref < s->refs.n && s->refs.v[s->next_ref].off == i) {
		size_t k = name_index(names, s->refs.v[s->next_ref].name);
		buf_addf(out, "$%zu", n_fixed + 1 + k);
		end = i + s->refs.v[s->next_ref].len;
		s->next_ref++;
		return end;
	} else if (c == '$' && isdigit((unsigned char)q[i + 1])) {
		long v = 0;
		for (end = i + 1; isdigit((unsigned char)q[end]); end++)
			v = v < 100000 ? v * 10 + (q[end] - '0') : v;
		if (v > *max_author) {
			*max_author = v;
			*max_off = i;
		}
	} else if (c == '$') {
		size_t tag = dollar_tag(q, i);
		if (tag) {
			end = skip_dollar_body(q, i, tag);
			what = "dollar-quoted body";
		}
	}
	if (what && check_quoted(s, i, end, what) < 0)
		return (size_t)-1;
	buf_add(out, q + i, end - i);
	return end;
}

int sql_params_translate(const char *query, size_t n_fixed, struct buf *out,
			 struct strv *names, struct sql_scan_error *pe)
{
	struct scan s = { .q = query, .pe = pe };
	size_t bad;
	int rc = 0;
	if (vars_scan(query, collect_ref, &s.refs, &bad) < 0) {
		pe->off = bad;
		snprintf(pe->msg, sizeof pe->msg,
			 "malformed variable reference: write ${NAME}");
		refs_release(&s.refs);
		return -2;
	}
	long max_author = 0;
	size_t max_off = 0, i = 0;
	while (query[i]) {
		i = scan_step(&s, i, n_fixed, out, names, &max_author, &max_off);
		if (i == (size_t)-1) {
			rc = -1;
			break;
		}
	}
	if (rc == 0 && max_author > (long)n_fixed) {
		pe->off = max_off;
		snprintf(pe->msg, sizeof pe->msg,
			 "the query uses $%ld but params= gives %zu value%s", max_author,
			 n_fixed, n_fixed == 1 ? "" : "s");
		rc = -1;
	} else if (rc == 0 && n_fixed > (size_t)max_author) {
		pe->off = 0;
		snprintf(pe->msg, sizeof pe->msg,
			 "params= gives %zu value%s but the query uses %s%ld", n_fixed,
			 n_fixed == 1 ? "" : "s", max_author ? "only up to $" : "no $",
			 max_author ? max_author : 1);
		rc = -1;
	}
	refs_release(&s.refs);
	return rc;
}

/* ---- assertions ---- */

static const char *const op_texts[] = { "=", "!=", "<", "<=", ">", ">=" };

const char *sql_op_text(enum sql_op op)
{
	return (unsigned)op < 6 ? op_texts[op] : "?";
}

/* The operator at s (longest match first); its length, or 0. */
static size_t op_at(const char *s, enum sql_op *op)
{
	static const struct {
		const char *t;
		enum sql_op op;
	} ops[] = { { "!=", SQL_NE }, { "<>", SQL_NE }, { "<=", SQL_LE },
		    { ">=", SQL_GE }, { "=", SQL_EQ },  { "<", SQL_LT },
		    { ">", SQL_GT } };
	for (size_t i = 0; i < sizeof ops / sizeof *ops; i++) {
		size_t n = strlen(ops[i].t);
		if (!strncmp(s, ops[i].t, n)) {
			*op = ops[i].op;
			return n;
		}
	}
	return 0;
}

static char *trimmed(const char *s, size_t n)
{
	while (n && isspace((unsigned char)*s))
		s++, n--;
	while (n && isspace((unsigned char)s[n - 1]))
		n--;
	return xstrndup(s, n);
}

int sql_expect_parse(const char *spec, struct sql_expect *out,
		     const char **why)
{
	memset(out, 0, sizeof *out);
	const char *p = spec;
	for (;;) {
		size_t len = strcspn(p, ",");
		size_t at = strcspn(p, "=!<>");
		enum sql_op op;
		size_t oplen = at < len ? op_at(p + at, &op) : 0;
		if (!oplen) {
			*why = "each assertion is COLUMN=VALUE (or != < <= > >=)";
			goto bad;
		}
		if (out->n == SQL_MAX_ASSERTS) {
			*why = "at most 32 assertions";
			goto bad;
		}
		struct sql_assert *a = &out->v[out->n++];
		a->column = trimmed(p, at);
		a->op = op;
		a->value = trimmed(p + at + oplen, len - at - oplen);
		if (!*a->column) {
			*why = "an assertion needs a column name before its operator";
			goto bad;
		}
		if (!strcmp(a->value, "NULL") && op != SQL_EQ && op != SQL_NE) {
			*why = "NULL compares with = or != only";
			goto bad;
		}
		if (!p[len])
			return 0;
		p += len + 1;
	}
bad:
	sql_expect_release(out);
	return -1;
}

void sql_expect_release(struct sql_expect *x)
{
	for (size_t i = 0; i < x->n; i++) {
		free(x->v[i].column);
		free(x->v[i].value);
	}
	x->n = 0;
}

int sql_rows_parse(const char *spec, enum sql_op *op, int64_t *n)
{
	size_t oplen = op_at(spec, op);
	if (!oplen)
		*op = SQL_EQ;
	const char *d = spec + oplen;
	if (!isdigit((unsigned char)*d))
		return -1;
	char *end;
	errno = 0;
	long long v = strtoll(d, &end, 10);
	if (*end || errno)
		return -1;
	*n = v;
	return 0;
}

static int compare_i64(int64_t a, int64_t b)
{
	return (a > b) - (a < b);
}

static bool op_holds(enum sql_op op, int cmp)
{
	switch (op) {
	case SQL_EQ: return cmp == 0;
	case SQL_NE: return cmp != 0;
	case SQL_LT: return cmp < 0;
	case SQL_LE: return cmp <= 0;
	case SQL_GT: return cmp > 0;
	case SQL_GE: return cmp >= 0;
	}
	return false;
}

bool sql_rows_match(int64_t rows, enum sql_op op, int64_t n)
{
	return op_holds(op, compare_i64(rows, n));
}

static bool as_number(const char *s, double *out)
{
	char *end;
	if (!*s || isspace((unsigned char)*s))
		return false;
	errno = 0;
	*out = strtod(s, &end);
	return !*end && !errno && isfinite(*out);
}

static bool as_bool(const char *s, bool *out)
{
	if (!strcasecmp(s, "t") || !strcasecmp(s, "true"))
		return *out = true, true;
	if (!strcasecmp(s, "f") || !strcasecmp(s, "false"))
		return *out = false, true;
	return false;
}

bool sql_value_matches(const char *actual, enum sql_op op,
		       const char *expected)
{
	bool want_null = !strcmp(expected, "NULL");
	if (want_null || !actual) {
		bool same = want_null == !actual;
		return op == SQL_EQ ? same : op == SQL_NE ? !same : false;
	}
	double x, y;
	if (as_number(actual, &x) && as_number(expected, &y))
		return op_holds(op, (x > y) - (x < y));
	if (op != SQL_EQ && op != SQL_NE)
		return false;
	bool bx, by;
	if (as_bool(actual, &bx) && as_bool(expected, &by))
		return op_holds(op, bx != by);
	return op_holds(op, strcmp(actual, expected) != 0);
}

static bool ident_ok(const char *s, size_t n)
{
	if (!n || n > 63 || !(isalpha((unsigned char)s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!(isalnum((unsigned char)s[i]) || s[i] == '_' || s[i] == '$'))
			return false;
	return true;
}

bool sql_table_name_ok(const char *s)
{
	const char *dot = strchr(s, '.');
	if (!dot)
		return ident_ok(s, strlen(s));
	return ident_ok(s, (size_t)(dot - s)) && ident_ok(dot + 1, strlen(dot + 1));
}
