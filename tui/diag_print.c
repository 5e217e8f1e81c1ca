#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/sanitize.h"

void diags_print(FILE *out, const char *file, const struct diags *d)
{
	char *name = sanitize_string(file, strlen(file));
	for (size_t i = 0; i < d->n; i++) {
		const struct diag *g = &d->v[i];
		char *msg = sanitize_string(g->msg, strlen(g->msg));
		fprintf(out, "%s:%u:%u: %s: %s\n", name, g->pos.line, g->pos.col,
			diag_severity_name(g->severity), msg);
		free(msg);
	}
	if (d->n_dropped)
		fprintf(out, "%s: %zu more problems not shown\n", name, d->n_dropped);
	free(name);
}
