/* pg_params: the connection parameters of a postgres target.
 *
 * The target's conninfo (key=value or a postgresql:// URI) is parsed by
 * libpq into keyword/value pairs for PQconnectStartParams, with what qrh
 * adds: the password from the target's secret variable, gssencmode=disable
 * unless the conninfo sets it (a Kerberos lookup would block the loop),
 * application_name=qrh as a fallback, and PGHOST/PGHOSTADDR/PGPORT from
 * qrh's environment when the conninfo has no host, so that every host
 * libpq will reach is visible here.
 *
 * DNS. libpq resolves a host name synchronously inside PQconnectPoll.
 * Names are therefore looked up by qrh beforehand (util/resolve.h) and
 * handed to libpq as hostaddr, host staying as written (for TLS
 * verification and ~/.pgpass). Numeric addresses and socket directories
 * need no lookup; neither does a conninfo that gives hostaddr itself.
 * service= is refused: the host it names would be looked up blocking. */
#ifndef QRH_ACTIONS_PG_PARAMS_H
#define QRH_ACTIONS_PG_PARAMS_H

#include <stddef.h>
#include <stdint.h>

#include "actions/target.h"
#include "runbooks/model.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/resolve.h"

#define PG_CONNECT_TIMEOUT_MS 15000

struct pg_params {
	/* NULL-terminated, for PQconnectStartParams; values never NULL */
	char **kw;
	char **val;
	size_t n, cap;
	int64_t connect_timeout_ms; /* connect_timeout= or the default */
};

int pg_params_build(const struct action_target *t, struct pg_params *p,
		    struct err *e);
void pg_params_release(struct pg_params *p);
void pg_params_copy(struct pg_params *dst, const struct pg_params *src);

/* NULL when absent. */
const char *pg_params_get(const struct pg_params *p, const char *kw);
void pg_params_set(struct pg_params *p, const char *kw, const char *val);

/* "host=db1 port=5432 dbname=app user=qrh" without the password, values
 * quoted as libpq reads them; "(libpq defaults)" when empty. */
void pg_params_describe(const struct pg_params *p, struct buf *out);

/* The distinct host names that need a lookup (none when hostaddr is
 * given). */
void pg_params_names(const struct pg_params *p, struct strv *names);

/* What a lookup of one name found (n 0: it failed). */
struct pg_lookup {
	const char *name;
	char addrs[RESOLVE_MAX_ADDRS][46];
	size_t n;
};

/* After the lookups: rewrites host, port and hostaddr so that every
 * address is one entry libpq tries, in order; a name whose lookup failed
 * is dropped. -1 when no host is left. */
int pg_params_apply(struct pg_params *p, const struct pg_lookup *lk,
		    size_t n_lk, struct err *e);

/* Two parameter sets that reach the same server as the same user, with
 * the same password: a pooled connection may serve both. */
int pg_params_same(const struct pg_params *a, const struct pg_params *b);

#endif
