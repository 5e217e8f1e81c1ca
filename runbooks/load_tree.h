/* load_tree: reads the structured parts of a runbook from a cJSON tree.
 *
 * Shared by the JSON loader (the whole runbook) and the Markdown loader
 * (front matter, and attributes written as objects). Every problem is
 * reported through the context and loading continues with the next member,
 * so one pass finds them all. */
#ifndef QRH_RUNBOOKS_LOAD_TREE_H
#define QRH_RUNBOOKS_LOAD_TREE_H

#include <cjson/cJSON.h>

#include "runbooks/fields.h"
#include "runbooks/model.h"

/* Top-level members: title, description, vars, targets, probes, objectives,
 * and, when allow_steps, steps. */
void tree_load_runbook(struct load_ctx *c, const cJSON *root,
		       struct runbook *rb, bool allow_steps);

/* Applies each member of `obj` through `table`; members named in `skip`
 * (NULL-terminated) are left to the caller. */
void tree_apply_object(struct load_ctx *c, const struct field *table,
		       void *target, int kind, const cJSON *obj,
		       const char *const *skip);

/* Reads {"kind": ..., fields...} into a, leaving the members named in
 * `skip` (which must include "kind") to the caller; returns -1 if the kind
 * is missing or unknown. */
int tree_load_action(struct load_ctx *c, const cJSON *obj, struct action *a,
		     const char *const *skip);

/* Reports an unknown action kind with a suggestion. */
void tree_unknown_kind(struct load_ctx *c, struct srcpos pos,
		       const char *kind);

#endif
