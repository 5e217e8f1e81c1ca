#include "runbooks/diag.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "util/buf.h"
#include "util/xalloc.h"

void diags_init(struct diags *d)
{
	d->v = NULL;
	d->n = d->cap = 0;
	d->n_errors = d->n_warnings = d->n_dropped = 0;
}

void diags_release(struct diags *d)
{
	for (size_t i = 0; i < d->n; i++)
		free(d->v[i].msg);
	free(d->v);
	diags_init(d);
}

static void diags_vadd(struct diags *d, enum diag_severity sev,
		       struct srcpos pos, const char *fmt, va_list ap)
	__attribute__((format(printf, 4, 0)));

void diags_add(struct diags *d, enum diag_severity sev, struct srcpos pos,
	       const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_vadd(d, sev, pos, fmt, ap);
	va_end(ap);
}

void diag_error(struct diags *d, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_vadd(d, DIAG_ERROR, pos, fmt, ap);
	va_end(ap);
}

void diag_warn(struct diags *d, struct srcpos pos, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	diags_vadd(d, DIAG_WARNING, pos, fmt, ap);
	va_end(ap);
}

static void diags_vadd(struct diags *d, enum diag_severity sev,
		       struct srcpos pos, const char *fmt, va_list ap)
{
	if (sev == DIAG_ERROR)
		d->n_errors++;
	else
		d->n_warnings++;
	if (d->n >= QRH_MAX_DIAGS) {
		d->n_dropped++;
		return;
	}
	struct buf b;
	buf_init(&b, 4096);
	buf_vaddf(&b, fmt, ap);
	d->v = xgrow(d->v, &d->cap, d->n + 1, sizeof *d->v);
	if (pos.line == 0) {
		pos.line = 1;
		pos.col = 1;
	}
	if (pos.col == 0)
		pos.col = 1;
	d->v[d->n++] = (struct diag){ sev, pos, buf_detach(&b, NULL) };
}

static int cmp_pos(const void *a, const void *b)
{
	const struct diag *x = a, *y = b;
	if (x->pos.line != y->pos.line)
		return x->pos.line < y->pos.line ? -1 : 1;
	if (x->pos.col != y->pos.col)
		return x->pos.col < y->pos.col ? -1 : 1;
	return 0;
}

void diags_sort(struct diags *d)
{
	/* insertion sort: stable, and n is small (bounded by QRH_MAX_DIAGS) */
	for (size_t i = 1; i < d->n; i++) {
		struct diag cur = d->v[i];
		size_t j = i;
		while (j > 0 && cmp_pos(&d->v[j - 1], &cur) > 0) {
			d->v[j] = d->v[j - 1];
			j--;
		}
		d->v[j] = cur;
	}
}

const char *diag_severity_name(enum diag_severity sev)
{
	return sev == DIAG_ERROR ? "error" : "warning";
}

struct srcpos srcpos_in_text(struct srcpos base, const char *text, size_t off)
{
	struct srcpos p = base;
	for (size_t i = 0; i < off && text[i]; i++) {
		if (text[i] == '\n') {
			p.line++;
			p.col = base.col;
		} else {
			p.col++;
		}
	}
	return p;
}
