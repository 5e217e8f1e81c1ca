/* vars: ${NAME} references in runbook text.
 *
 * Outside shell scripts qrh replaces ${NAME} itself, always as part of one
 * argument, URL or query parameter, never as shell text; "$$" is a literal
 * "$". Inside sh and ssh scripts qrh replaces nothing: the variables are
 * passed in the environment, and the shell expands them (so a script
 * should quote them: "$NAME"). A reference may name a runbook variable, a
 * value captured by an earlier step, env:NAME (qrh's own environment), or
 * a QRH_* value qrh provides (QRH_RUN_ID, QRH_STEP_ID, QRH_OPERATOR,
 * QRH_RUNBOOK). */
#ifndef QRH_RUNBOOKS_VARS_H
#define QRH_RUNBOOKS_VARS_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/model.h"
#include "util/buf.h"
#include "util/err.h"

/* The names defined at a point of the run: declared, then captured. */
struct var_scope {
	const struct runbook *rb;
	struct strv captured;
};

void var_scope_init(struct var_scope *s, const struct runbook *rb);
void var_scope_add(struct var_scope *s, const char *name);
bool var_scope_has(const struct var_scope *s, const char *name);
void var_scope_release(struct var_scope *s);

/* Calls fn(arg, name, offset) for each reference in s, in order. Returns 0,
 * or -1 with *bad at the offset of a malformed reference. fn returning
 * non-zero stops the scan and is returned. */
typedef int var_ref_fn(void *arg, const char *name, size_t off);
int vars_scan(const char *s, var_ref_fn *fn, void *arg, size_t *bad);

/* Errors for undefined or malformed references in every field qrh expands. */
void vars_check_action(const struct action *a, const struct var_scope *scope,
		       struct diags *d);
void vars_check_target(const struct target *t, const struct var_scope *scope,
		       struct diags *d);

/* Replaces references using lookup(); a NULL from lookup is an error. */
typedef const char *var_lookup_fn(void *arg, const char *name);
int vars_expand(const char *s, var_lookup_fn *lookup, void *arg,
		struct buf *out, struct err *e);

/* A new string: s with its references replaced. NULL when s is NULL, and
 * on an error, which also sets *failed; once *failed is set, further
 * calls do nothing (so several fields can be expanded, then checked). */
char *vars_expand_dup(const char *s, var_lookup_fn *lookup, void *arg,
		      struct err *e, bool *failed);

/* Warns about $NAME / ${NAME} outside double quotes in a shell script. */
void vars_lint_shell(const struct action *a, struct diags *d);

#endif
