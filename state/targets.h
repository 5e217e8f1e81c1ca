/* targets: the runbook's named endpoints, resolved for one action.
 *
 * A step's action names a target; the engine resolves it here into plain
 * structs (actions/target.h) that the action gets in describe and start:
 * every ${NAME} expanded with the lookup given (real values to run, masked
 * ones to show), a postgres password read from the secret variable that
 * holds it, a group turned into its members (in the runbook's order, or
 * the order of its members_file), each member taking the group's ssh
 * defaults where it has none of its own. Nothing here connects anywhere;
 * reading a members_file is the only I/O. */
#ifndef QRH_STATE_TARGETS_H
#define QRH_STATE_TARGETS_H

#include <stddef.h>

#include "actions/target.h"
#include "runbooks/model.h"
#include "runbooks/vars.h"
#include "util/err.h"

struct target_set {
	struct action_target *v; /* one for a target, one per member for a group */
	size_t n, cap;
	struct strv pool; /* owns every string the targets point at */
};

/* Resolves target `name` of rb. -1 with a message naming the target and
 * the field when a reference has no value, the file cannot be read, or a
 * group is empty. */
int targets_resolve(const struct runbook *rb, const char *name,
		    var_lookup_fn *lookup, void *lookup_arg,
		    struct target_set *out, struct err *e);
void target_set_release(struct target_set *s);

/* The kind of a runbook target's kind string; TARGET_NONE if unknown. */
enum target_kind target_kind_parse(const char *kind);

#endif
