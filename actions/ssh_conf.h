/* ssh_conf: a resolved ssh target as the ssh kind uses it.
 *
 * Defaults, as OpenSSH has them (documented in qrh-runbook(5)): port 22;
 * the user running qrh; ~/.ssh/known_hosts; with agent=false the identity
 * ~/.ssh/id_ed25519, else ~/.ssh/id_ecdsa (never an RSA key). A leading ~/
 * in identity and known_hosts is $HOME. Nothing here connects. */
#ifndef QRH_ACTIONS_SSH_CONF_H
#define QRH_ACTIONS_SSH_CONF_H

#include "actions/ssh_session.h"
#include "actions/target.h"
#include "util/buf.h"
#include "util/err.h"

/* Fills c from t. -1 when t is not a usable ssh target. */
int ssh_conf_from_target(const struct action_target *t, struct ssh_conf *c,
			 struct err *e);
/* Refuses an identity that is missing, unreadable, RSA or DSA, before
 * anything connects (libssh2 1.10 cannot sign with RSA SHA-2). */
int ssh_conf_check_identity(const struct ssh_conf *c, const char *target,
			    struct err *e);
/* One line: who, where, and how the host and the user are checked. */
void ssh_conf_describe(const struct ssh_conf *c, const char *target,
		       struct buf *out);

#endif
