/* diag: the problems found in one runbook file.
 *
 * Loaders and the validator never stop at the first problem: they append
 * diagnostics here and carry on where that is safe. The front end prints
 * them as "FILE:LINE:COL: error: message". At most QRH_MAX_DIAGS are kept;
 * the rest are counted, so a hostile file cannot flood the operator. */
#ifndef QRH_RUNBOOKS_DIAG_H
#define QRH_RUNBOOKS_DIAG_H

#include <stddef.h>

#include "runbooks/model.h"

#define QRH_MAX_DIAGS 200u

enum diag_severity { DIAG_ERROR, DIAG_WARNING };

struct diag {
	enum diag_severity severity;
	struct srcpos pos;
	char *msg;
};

struct diags {
	struct diag *v;
	size_t n;
	size_t cap;
	size_t n_errors;
	size_t n_warnings;
	size_t n_dropped;
};

void diags_init(struct diags *d);
void diags_release(struct diags *d);
void diags_add(struct diags *d, enum diag_severity sev, struct srcpos pos,
	       const char *fmt, ...) __attribute__((format(printf, 4, 5)));
void diag_error(struct diags *d, struct srcpos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
void diag_warn(struct diags *d, struct srcpos pos, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Where byte `off` of `text` is, when its first byte is at `base`: after
 * a newline the column restarts at base.col (an indented block). */
struct srcpos srcpos_in_text(struct srcpos base, const char *text, size_t off);
/* Stable sort by line, then column, keeping insertion order for ties. */
void diags_sort(struct diags *d);
const char *diag_severity_name(enum diag_severity sev);

#endif
