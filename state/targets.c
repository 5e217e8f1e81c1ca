/* Resolving targets: expansion, group members, members_file hosts. */
#include "state/targets.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

enum target_kind target_kind_parse(const char *kind)
{
	static const struct {
		const char *name;
		enum target_kind kind;
	} kinds[] = {
		{ "ssh", TARGET_SSH },		 { "postgres", TARGET_POSTGRES },
		{ "http", TARGET_HTTP },	 { "kubernetes", TARGET_KUBERNETES },
		{ "group", TARGET_GROUP },
	};
	for (size_t i = 0; kind && i < sizeof kinds / sizeof *kinds; i++)
		if (!strcmp(kind, kinds[i].name))
			return kinds[i].kind;
	return TARGET_NONE;
}

struct resolver {
	var_lookup_fn *lookup;
	void *arg;
	struct target_set *set;
	const char *target; /* for messages */
	struct err *e;
};

/* A copy owned by the set's pool. */
static const char *keep(struct resolver *rs, const char *s)
{
	strv_push(&rs->set->pool, s);
	return rs->set->pool.v[rs->set->pool.n - 1];
}

/* One field with its references replaced; NULL stays NULL. */
static int field(struct resolver *rs, const char *name, const char *text,
		 const char **out)
{
	struct buf b;
	if (!text) {
		*out = NULL;
		return 0;
	}
	buf_init(&b, BUF_UNLIMITED);
	if (vars_expand(text, rs->lookup, rs->arg, &b, rs->e) < 0) {
		buf_release(&b);
		return err_prefix(rs->e, "target '%s', %s", rs->target, name);
	}
	*out = keep(rs, b.data);
	buf_release(&b);
	return 0;
}

static struct action_target *add(struct target_set *s)
{
	s->v = xgrow(s->v, &s->cap, s->n + 1, sizeof *s->v);
	memset(&s->v[s->n], 0, sizeof *s->v);
	return &s->v[s->n++];
}

/* The ssh fields of `t`, where `dflt` (a group) fills in what t lacks. */
static int ssh_fields(struct resolver *rs, const struct target *t,
		      const struct target *dflt, struct action_target *o)
{
	const struct target *g = dflt ? dflt : t;
	o->port = t->port ? t->port : g->port;
	o->agent = t->agent || g->agent;
	o->trust_new = t->trust_new || g->trust_new;
	return field(rs, "user", t->user ? t->user : g->user, &o->user) < 0 ||
	       field(rs, "identity", t->identity ? t->identity : g->identity, &o->identity) < 0 ||
	       field(rs, "known_hosts", t->known_hosts ? t->known_hosts : g->known_hosts,
		     &o->known_hosts) < 0 ? -1 : 0;
}

/* One non-group target; `group` is the group it is reached through. */
static int one(struct resolver *rs, const struct target *t,
	       const struct target *group)
{
	struct action_target *o = add(rs->set);
	const char *saved = rs->target;
	rs->target = t->name;
	o->name = keep(rs, t->name);
	o->group = group ? keep(rs, group->name) : NULL;
	o->kind = target_kind_parse(t->kind);
	o->insecure = t->insecure;
	int rc = field(rs, "host", t->host, &o->host) < 0 ||
		 ssh_fields(rs, t, group, o) < 0 ||
		 field(rs, "dsn", t->dsn, &o->conninfo) < 0 ||
		 field(rs, "url", t->url, &o->url) < 0 ||
		 field(rs, "binary", t->binary, &o->binary) < 0 ||
		 field(rs, "kubeconfig", t->kubeconfig, &o->kubeconfig) < 0 ||
		 field(rs, "context", t->context, &o->context) < 0 ||
		 field(rs, "namespace", t->namespace_, &o->namespace_) < 0 ? -1 : 0;
	if (rc == 0 && t->password_var) {
		const char *pw = rs->lookup(rs->arg, t->password_var);
		if (!pw)
			rc = err_set(rs->e, "target '%s': the password variable '%s' has no value",
				     t->name, t->password_var);
		else
			o->password = keep(rs, pw);
	}
	rs->target = saved;
	return rc;
}

/* "host" or "host:port" ("[v6]:port" for IPv6 with a port). */
static int parse_host_line(const char *line, char *host, size_t cap, int *port)
{
	const char *colon = NULL;
	size_t len = strlen(line);
	*port = 0;
	if (line[0] == '[') {
		const char *close = strchr(line, ']');
		if (!close || (close[1] && close[1] != ':'))
			return -1;
		len = (size_t)(close - line - 1);
		line++;
		colon = close[1] == ':' ? close + 1 : NULL;
	} else if ((colon = strchr(line, ':')) && !strchr(colon + 1, ':')) {
		len = (size_t)(colon - line);
	} else {
		colon = NULL; /* a bare IPv6 address */
	}
	if (!len || len >= cap)
		return -1;
	memcpy(host, line, len);
	host[len] = '\0';
	if (colon) {
		char *end;
		long p = strtol(colon + 1, &end, 10);
		if (*end || p < 1 || p > 65535)
			return -1;
		*port = (int)p;
	}
	return 0;
}

static void trim(char *s)
{
	size_t n = strlen(s);
	while (n && (s[n - 1] == '\n' || s[n - 1] == '\r' || s[n - 1] == ' ' || s[n - 1] == '\t'))
		s[--n] = '\0';
	size_t lead = strspn(s, " \t");
	memmove(s, s + lead, n - lead + 1);
}

/* The hosts of a members_file, each an ssh target with the group's fields. */
static int from_file(struct resolver *rs, const struct target *g)
{
	const char *path;
	if (field(rs, "members_file", g->members_file, &path) < 0)
		return -1;
	FILE *f = fopen(path, "re");
	if (!f)
		return err_errno(rs->e, "group '%s': cannot read members_file '%s'", g->name, path);
	char line[1024];
	unsigned lineno = 0;
	int rc = 0;
	while (rc == 0 && fgets(line, sizeof line, f)) {
		lineno++;
		trim(line);
		if (!line[0] || line[0] == '#')
			continue;
		char host[256];
		int port;
		if (parse_host_line(line, host, sizeof host, &port) < 0) {
			rc = err_set(rs->e, "%s:%u: not a host or host:port", path, lineno);
			break;
		}
		if (rs->set->n >= QRH_MAX_GROUP_HOSTS) {
			rc = err_set(rs->e, "%s: more than %u hosts", path, QRH_MAX_GROUP_HOSTS);
			break;
		}
		struct action_target *o = add(rs->set);
		o->name = keep(rs, line);
		o->group = keep(rs, g->name);
		o->kind = TARGET_SSH;
		o->host = keep(rs, host);
		if (ssh_fields(rs, g, NULL, o) < 0)
			rc = -1;
		if (port)
			o->port = port;
	}
	if (rc == 0 && ferror(f))
		rc = err_errno(rs->e, "group '%s': cannot read members_file '%s'", g->name, path);
	fclose(f);
	if (rc == 0 && !rs->set->n)
		rc = err_set(rs->e, "group '%s': members_file '%s' lists no host", g->name, path);
	return rc;
}

int targets_resolve(const struct runbook *rb, const char *name,
		    var_lookup_fn *lookup, void *lookup_arg,
		    struct target_set *out, struct err *e)
{
	struct resolver rs = { .lookup = lookup, .arg = lookup_arg, .set = out,
			       .target = name, .e = e };
	memset(out, 0, sizeof *out);
	const struct target *t = runbook_target(rb, name);
	if (!t)
		return err_set(e, "target '%s' is not defined", name);
	int rc = 0;
	if (target_kind_parse(t->kind) != TARGET_GROUP) {
		rc = one(&rs, t, NULL);
	} else if (t->members_file) {
		rc = from_file(&rs, t);
	} else {
		for (size_t i = 0; rc == 0 && i < t->members.n; i++) {
			const struct target *m = runbook_target(rb, t->members.v[i]);
			if (!m)
				rc = err_set(e, "group '%s': member '%s' is not a target",
					     name, t->members.v[i]);
			else
				rc = one(&rs, m, t);
		}
	}
	if (rc < 0)
		target_set_release(out);
	return rc;
}

void target_set_release(struct target_set *s)
{
	free(s->v);
	strv_release(&s->pool);
	memset(s, 0, sizeof *s);
}
