/* The ssh kind's view of a target: defaults applied, ~ expanded, the
 * identity's key type checked before anything connects. */
#include "actions/ssh_conf.h"

#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "actions/ssh_keys.h"
#include "util/buf.h"
#include "util/xalloc.h"

static const struct passwd *me(struct passwd *pw, char *buf, size_t cap)
{
	struct passwd *out = NULL;
	if (getpwuid_r(getuid(), pw, buf, cap, &out) != 0)
		return NULL;
	return out;
}

static char *home_dir(void)
{
	struct passwd pw;
	char buf[4096];
	const char *h = getenv("HOME");
	if (h && *h)
		return xstrdup(h);
	const struct passwd *p = me(&pw, buf, sizeof buf);
	return xstrdup(p && p->pw_dir ? p->pw_dir : "/");
}

static char *expand(const char *path)
{
	if (strncmp(path, "~/", 2))
		return xstrdup(path);
	char *home = home_dir();
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s%s", home, path + 1);
	free(home);
	return buf_detach(&b, NULL);
}

static char *in_home(const char *rel)
{
	char *home = home_dir();
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s/%s", home, rel);
	free(home);
	return buf_detach(&b, NULL);
}

/* ~/.ssh/id_ed25519, then ~/.ssh/id_ecdsa (never id_rsa), or NULL. */
static char *default_identity(void)
{
	static const char *const names[] = { ".ssh/id_ed25519", ".ssh/id_ecdsa" };
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		char *p = in_home(names[i]);
		if (access(p, R_OK) == 0)
			return p;
		free(p);
	}
	return NULL;
}

int ssh_conf_from_target(const struct action_target *t, struct ssh_conf *c,
			 struct err *e)
{
	memset(c, 0, sizeof *c);
	if (!t)
		return err_set(e, "ssh actions need a target");
	if (t->kind != TARGET_SSH)
		return err_set(e, "target '%s' is a %s target, not ssh", t->name,
			       target_kind_name(t->kind));
	if (!t->host || !*t->host)
		return err_set(e, "ssh target '%s' has no host", t->name);
	c->host = xstrdup(t->host);
	c->port = t->port ? t->port : 22;
	c->agent = t->agent;
	c->trust_new = t->trust_new;
	if (t->user && *t->user) {
		c->user = xstrdup(t->user);
	} else {
		struct passwd pw;
		char buf[4096];
		const struct passwd *p = me(&pw, buf, sizeof buf);
		if (!p) {
			ssh_conf_release(c);
			return err_set(e, "ssh target '%s' has no user, and this user has no name", t->name);
		}
		c->user = xstrdup(p->pw_name);
	}
	c->known_hosts = t->known_hosts ? expand(t->known_hosts) : in_home(".ssh/known_hosts");
	if (!c->agent)
		c->identity = t->identity ? expand(t->identity) : default_identity();
	return 0;
}

int ssh_conf_check_identity(const struct ssh_conf *c, const char *target,
			    struct err *e)
{
	char type[SSH_KEYTYPE_MAX];
	if (c->agent)
		return 0;
	if (!c->identity)
		return err_set(e, "ssh target '%s': no identity= and no ~/.ssh/id_ed25519 or ~/.ssh/id_ecdsa "
				  "(or set agent=true to use the ssh-agent)",
			       target);
	if (ssh_key_file_type(c->identity, type, sizeof type, e) < 0)
		return err_prefix(e, "ssh target '%s'", target);
	if (!strcmp(type, "ssh-rsa"))
		return err_set(e, "ssh target '%s': %s is an RSA key: " SSH_RSA_REFUSED, target,
			       c->identity);
	if (!strcmp(type, "ssh-dss"))
		return err_set(e, "ssh target '%s': %s is a DSA key, which OpenSSH no longer accepts: "
				  "use an ed25519 or ECDSA key",
			       target, c->identity);
	return 0;
}

void ssh_conf_describe(const struct ssh_conf *c, const char *target,
		       struct buf *out)
{
	buf_addf(out, "ssh %s@%s", c->user, c->host);
	if (c->port != 22)
		buf_addf(out, " port %d", c->port);
	buf_addf(out, " (target %s; host key checked against %s%s; ", target,
		 c->known_hosts, c->trust_new ? ", a new key trusted" : "");
	if (c->agent)
		buf_adds(out, "key from the ssh-agent)");
	else
		buf_addf(out, "key %s)", c->identity ? c->identity : "(none found)");
}
