/* target: a named endpoint of the runbook, resolved for one action.
 *
 * The runbook's `targets` (runbooks/model.h) name endpoints with variable
 * references; the engine resolves one — expanding ${NAME}, applying a
 * group's defaults to each member, reading a password from the secret
 * variable that holds it — into this plain struct, and hands it to the
 * action's describe and start. A fan-out over a group gives each member's
 * task its own resolved target. Strings are owned by the resolver and live
 * until the task ends; NULL means "not given, use the default". */
#ifndef QRH_ACTIONS_TARGET_H
#define QRH_ACTIONS_TARGET_H

#include <stdbool.h>

enum target_kind {
	TARGET_NONE,
	TARGET_SSH,
	TARGET_POSTGRES,
	TARGET_HTTP,
	TARGET_KUBERNETES, /* a Velero / kubectl context */
	TARGET_GROUP,      /* only in the runbook: resolved per member */
};

struct action_target {
	const char *name; /* the target (for a group member: the member) */
	const char *group; /* the group it was reached through, or NULL */
	enum target_kind kind;
	/* ssh */
	const char *host;
	int port; /* 0: the protocol's default */
	const char *user;
	const char *identity;    /* private key file; NULL: agent or default */
	const char *known_hosts; /* NULL: ~/.ssh/known_hosts */
	bool agent;              /* authenticate with ssh-agent */
	bool trust_new;          /* accept (and journal) an unknown host key */
	/* postgres: a libpq conninfo without the password; the password,
	 * when a secret variable holds it (NULL: libpq's own PGPASSWORD or
	 * ~/.pgpass) */
	const char *conninfo;
	const char *password;
	/* http */
	const char *url;  /* base URL */
	bool insecure;    /* TLS not verified: journaled */
	/* kubernetes / velero */
	const char *binary;     /* the velero CLI; NULL: "velero" from PATH */
	const char *kubeconfig;
	const char *context;
	const char *namespace_; /* Velero's own namespace */
};

const char *target_kind_name(enum target_kind k);

#endif
