/* values: the variables of one run and what they hold.
 *
 * Filled in order of precedence: -v NAME=value from the command line, the
 * runbook's defaults, what the operator types at a prompt, and what steps
 * capture as the run goes. Secret values are kept here and in children's
 * environments only, never written to the journal. */
#ifndef QRH_STATE_VALUES_H
#define QRH_STATE_VALUES_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/model.h"

struct value {
	char *name;
	char *text; /* NULL: no value yet */
	bool secret;
};

struct values {
	struct value *v;
	size_t n;
	size_t cap;
	struct strv secrets; /* the secret texts, for redaction */
	struct strv hidden;  /* secrets that are no variable's (a webhook URL
			      * from the environment): redacted too */
};

void values_init(struct values *vs);
void values_release(struct values *vs);
/* Declares (or updates) a variable; text may be NULL. */
void values_set(struct values *vs, const char *name, const char *text,
		bool secret);
const struct value *values_find(const struct values *vs, const char *name);
/* A secret that is not a variable's value, to be redacted all the same. */
void values_add_hidden(struct values *vs, const char *text);
/* Rebuilds vs->secrets from the secret values (and the hidden ones). */
void values_refresh_secrets(struct values *vs);

#endif
