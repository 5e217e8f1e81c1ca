/* validate: what makes a parsed runbook runnable, and lint.
 *
 * Errors: no steps; duplicate step ids; undefined ${VAR}s outside shell
 * scripts; targets used but not defined, or of the wrong kind; required
 * fields missing for an action's kind; probes named by wait actions.
 * Warnings: an unquoted $VAR in a shell script; a destructive-looking
 * command in a step that runs without confirmation.
 * Also assigns step ids derived from titles where none was given. */
#ifndef QRH_RUNBOOKS_VALIDATE_H
#define QRH_RUNBOOKS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/diag.h"
#include "runbooks/model.h"

void runbook_assign_ids(struct runbook *rb);
void runbook_validate(struct runbook *rb, struct diags *d);
/* The id a step titled `title` gets when the author gives none. */
char *step_slug(const char *title);

#endif
