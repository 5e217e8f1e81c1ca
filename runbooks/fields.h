/* fields: one table per node type (runbook, step, action, var, target,
 * probe) naming every field a runbook may set, its type and which action
 * kinds it applies to.
 *
 * The same tables drive the JSON loader, Markdown attributes and YAML front
 * matter (so every form accepts exactly the same names), the "did you mean"
 * suggestions, and both writers (so convert emits exactly what loads). A
 * setter reads a cJSON value into the struct; a getter returns the value as
 * cJSON, or NULL when it is the default and need not be written. */
#ifndef QRH_RUNBOOKS_FIELDS_H
#define QRH_RUNBOOKS_FIELDS_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/model.h"
#include "runbooks/tree.h"

#define KIND_BIT(k) (1u << (k))
#define KINDS_ALL ((1u << ACTION_KIND_COUNT) - 1)

/* flags */
#define FIELD_REQUIRED 1u   /* must be given (for the kinds it applies to) */
#define FIELD_FENCE_BODY 2u /* in Markdown, comes from the fence's content */
#define FIELD_HOIST 4u      /* step field that a fence's attributes may set */
#define FIELD_NO_ATTR 8u    /* never a Markdown attribute (title, doc) */
#define FIELD_REPEAT 16u    /* list: a Markdown attribute may repeat */

/* The state shared by everything that reads a tree into the model. */
struct load_ctx {
	struct diags *d;
	struct posmap *pm;
	bool json_paths;  /* prefix messages with the JSON path */
	bool text_values; /* values are Markdown attribute strings */
	const char *what; /* "attribute" or "field", for messages */
	char path[256];
};

struct field;
typedef int (*field_set_fn)(struct load_ctx *c, void *obj,
			    const struct field *f, const cJSON *v);
typedef cJSON *(*field_get_fn)(const void *obj, const struct field *f);

struct field {
	const char *name;
	field_set_fn set;
	field_get_fn get;
	size_t off;
	unsigned kinds; /* action kinds it applies to; 0 outside actions */
	unsigned flags;
};

extern const struct field step_fields[];
extern const struct field action_fields[];
extern const struct field var_fields[];
extern const struct field target_fields[];
extern const struct field objective_fields[];
extern const struct field notify_fields[];
extern const struct field probe_fields[]; /* name, every: the rest is an action */

const struct field *field_find(const struct field *table, const char *name);

/* Reports an error at v's position, prefixed with the path in JSON. */
void field_error(struct load_ctx *c, const cJSON *v, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void field_error_at(struct load_ctx *c, struct srcpos pos, const char *fmt,
		    ...) __attribute__((format(printf, 3, 4)));

/* Applies member `v` (v->string is its name) of an object to `obj`.
 * `kind` selects the applicable action fields (-1 for non-action tables).
 * Unknown names get an error with a suggestion. Returns 0 or -1. */
int field_apply(struct load_ctx *c, const struct field *table, void *obj,
		int kind, const cJSON *v);

/* Appends to `out` every non-default field of obj, in table order.
 * `kind` as above; fields with FIELD_FENCE_BODY are skipped when
 * `skip_body` is set (the Markdown writer puts them in the fence). */
void field_emit(cJSON *out, const struct field *table, const void *obj,
		int kind, bool skip_body, unsigned only_flags);

/* Path helpers for messages: push returns the previous length. */
size_t ctx_path_push_key(struct load_ctx *c, const char *key);
size_t ctx_path_push_index(struct load_ctx *c, size_t i);
void ctx_path_pop(struct load_ctx *c, size_t len);

bool field_valid_id(const char *s);
bool field_valid_varname(const char *s);

#endif
