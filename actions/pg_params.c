#include "actions/pg_params.h"

#include <arpa/inet.h>
#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static void push(struct pg_params *p, const char *kw, const char *val)
{
	p->kw = xgrow(p->kw, &p->cap, p->n + 2, sizeof *p->kw);
	p->val = xrealloc(p->val, p->cap * sizeof *p->val);
	p->kw[p->n] = xstrdup(kw);
	p->val[p->n] = xstrdup(val);
	p->n++;
	p->kw[p->n] = NULL;
	p->val[p->n] = NULL;
}

const char *pg_params_get(const struct pg_params *p, const char *kw)
{
	for (size_t i = 0; i < p->n; i++)
		if (!strcmp(p->kw[i], kw))
			return p->val[i];
	return NULL;
}

void pg_params_set(struct pg_params *p, const char *kw, const char *val)
{
	for (size_t i = 0; i < p->n; i++) {
		if (!strcmp(p->kw[i], kw)) {
			free(p->val[i]);
			p->val[i] = xstrdup(val);
			return;
		}
	}
	push(p, kw, val);
}

void pg_params_release(struct pg_params *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->kw[i]);
		free(p->val[i]);
	}
	free(p->kw);
	free(p->val);
	memset(p, 0, sizeof *p);
}

void pg_params_copy(struct pg_params *dst, const struct pg_params *src)
{
	memset(dst, 0, sizeof *dst);
	for (size_t i = 0; i < src->n; i++)
		push(dst, src->kw[i], src->val[i]);
	dst->connect_timeout_ms = src->connect_timeout_ms;
}

static void from_env(struct pg_params *p, const char *kw, const char *var)
{
	const char *v = getenv(var);
	if (v && *v && !pg_params_get(p, kw))
		pg_params_set(p, kw, v);
}

int pg_params_build(const struct action_target *t, struct pg_params *p,
		    struct err *e)
{
	char *msg = NULL;
	memset(p, 0, sizeof *p);
	PQconninfoOption *opts = PQconninfoParse(t && t->conninfo ? t->conninfo : "", &msg);
	if (!opts) {
		err_set(e, "target '%s': bad dsn: %s", t && t->name ? t->name : "?",
			msg ? msg : "out of memory");
		if (msg) {
			size_t n = strlen(e->msg);
			while (n && (e->msg[n - 1] == '\n' || e->msg[n - 1] == ' '))
				e->msg[--n] = '\0';
		}
		PQfreemem(msg);
		return -1;
	}
	for (PQconninfoOption *o = opts; o->keyword; o++)
		if (o->val && strcmp(o->keyword, "password"))
			push(p, o->keyword, o->val);
	PQconninfoFree(opts);
	if (pg_params_get(p, "service")) {
		pg_params_release(p);
		return err_set(e, "target '%s': service= is not supported (its host would be looked up blocking): write host= or hostaddr=",
			       t->name ? t->name : "?");
	}
	if (!pg_params_get(p, "host") && !pg_params_get(p, "hostaddr")) {
		from_env(p, "host", "PGHOST");
		from_env(p, "hostaddr", "PGHOSTADDR");
	}
	from_env(p, "port", "PGPORT");
	if (t && t->password)
		pg_params_set(p, "password", t->password);
	if (!pg_params_get(p, "gssencmode"))
		pg_params_set(p, "gssencmode", "disable");
	if (!pg_params_get(p, "fallback_application_name"))
		pg_params_set(p, "fallback_application_name", "qrh");
	const char *ct = pg_params_get(p, "connect_timeout");
	long secs = ct ? strtol(ct, NULL, 10) : 0;
	p->connect_timeout_ms = secs > 0 ? (secs < 2 ? 2000 : secs * 1000) : PG_CONNECT_TIMEOUT_MS;
	return 0;
}

static void quote_value(struct buf *out, const char *v)
{
	bool plain = *v && !strpbrk(v, " \t\n'\\");
	if (plain) {
		buf_adds(out, v);
		return;
	}
	buf_addc(out, '\'');
	for (; *v; v++) {
		if (*v == '\'' || *v == '\\')
			buf_addc(out, '\\');
		buf_addc(out, *v);
	}
	buf_addc(out, '\'');
}

void pg_params_describe(const struct pg_params *p, struct buf *out)
{
	static const char *const first[] = { "host", "hostaddr", "port", "dbname", "user" };
	static const char *const hidden[] = { "password", "gssencmode", "fallback_application_name" };
	size_t start = out->len;
	for (size_t k = 0; k < sizeof first / sizeof *first; k++) {
		const char *v = pg_params_get(p, first[k]);
		if (!v)
			continue;
		buf_addf(out, "%s%s=", out->len > start ? " " : "", first[k]);
		quote_value(out, v);
	}
	for (size_t i = 0; i < p->n; i++) {
		bool skip = false;
		for (size_t k = 0; k < sizeof first / sizeof *first && !skip; k++)
			skip = !strcmp(p->kw[i], first[k]);
		for (size_t k = 0; k < sizeof hidden / sizeof *hidden && !skip; k++)
			skip = !strcmp(p->kw[i], hidden[k]);
		if (skip)
			continue;
		buf_addf(out, "%s%s=", out->len > start ? " " : "", p->kw[i]);
		quote_value(out, p->val[i]);
	}
	if (out->len == start)
		buf_adds(out, "(libpq defaults)");
}

/* Splits a comma-separated list (libpq's host/port/hostaddr syntax). */
static void split(const char *s, struct strv *out)
{
	memset(out, 0, sizeof *out);
	if (!s)
		return;
	for (;;) {
		size_t n = strcspn(s, ",");
		char *item = xstrndup(s, n);
		strv_push(out, item);
		free(item);
		if (!s[n])
			return;
		s += n + 1;
	}
}

static bool numeric_host(const char *h)
{
	unsigned char buf[sizeof(struct in6_addr)];
	return inet_pton(AF_INET, h, buf) == 1 || inet_pton(AF_INET6, h, buf) == 1;
}

/* A socket directory (or an abstract socket), or empty: no lookup. */
static bool local_host(const char *h)
{
	return !*h || h[0] == '/' || h[0] == '@';
}

void pg_params_names(const struct pg_params *p, struct strv *names)
{
	memset(names, 0, sizeof *names);
	if (pg_params_get(p, "hostaddr"))
		return;
	struct strv hosts;
	split(pg_params_get(p, "host"), &hosts);
	for (size_t i = 0; i < hosts.n; i++) {
		const char *h = hosts.v[i];
		bool seen = false;
		for (size_t k = 0; k < names->n && !seen; k++)
			seen = !strcmp(names->v[k], h);
		if (!seen && !local_host(h) && !numeric_host(h))
			strv_push(names, h);
	}
	strv_release(&hosts);
}

static void join(struct buf *b, const char *item)
{
	if (b->len)
		buf_addc(b, ',');
	buf_adds(b, item);
}

static const struct pg_lookup *find_lookup(const struct pg_lookup *lk,
					   size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(lk[i].name, name))
			return &lk[i];
	return NULL;
}

int pg_params_apply(struct pg_params *p, const struct pg_lookup *lk,
		    size_t n_lk, struct err *e)
{
	struct strv hosts, ports;
	struct buf h, a, pt;
	split(pg_params_get(p, "host"), &hosts);
	split(pg_params_get(p, "port"), &ports);
	bool per_host = ports.n > 1 && ports.n == hosts.n;
	buf_init(&h, BUF_UNLIMITED);
	buf_init(&a, BUF_UNLIMITED);
	buf_init(&pt, BUF_UNLIMITED);
	size_t entries = 0;
	for (size_t i = 0; i < hosts.n; i++) {
		const struct pg_lookup *l = find_lookup(lk, n_lk, hosts.v[i]);
		size_t count = l ? l->n : 1;
		for (size_t k = 0; k < count; k++, entries++) {
			join(&h, hosts.v[i]);
			if (entries)
				buf_addc(&a, ',');
			buf_adds(&a, l ? l->addrs[k] : numeric_host(hosts.v[i]) ? hosts.v[i] : "");
			if (per_host)
				join(&pt, ports.v[i]);
		}
	}
	int rc = 0;
	if (!entries) {
		rc = err_set(e, "no address for host '%s'", pg_params_get(p, "host"));
	} else if (n_lk) {
		pg_params_set(p, "host", h.data);
		pg_params_set(p, "hostaddr", a.data);
		if (per_host)
			pg_params_set(p, "port", pt.data);
	}
	strv_release(&hosts);
	strv_release(&ports);
	buf_release(&h);
	buf_release(&a);
	buf_release(&pt);
	return rc;
}

int pg_params_same(const struct pg_params *a, const struct pg_params *b)
{
	if (a->n != b->n)
		return 0;
	for (size_t i = 0; i < a->n; i++) {
		const char *v = pg_params_get(b, a->kw[i]);
		if (!v || strcmp(v, a->val[i]))
			return 0;
	}
	return 1;
}
