#include "actions/sql_table.h"

#include <stdlib.h>
#include <string.h>
#include <wchar.h>

#include "util/xalloc.h"

void sql_table_init(struct sql_table *t, size_t ncols,
		    const char *const *names, const bool *right)
{
	memset(t, 0, sizeof *t);
	t->ncols = ncols;
	t->names = xcalloc(ncols ? ncols : 1, sizeof *t->names);
	t->right = xcalloc(ncols ? ncols : 1, sizeof *t->right);
	for (size_t i = 0; i < ncols; i++) {
		t->names[i] = xstrdup(names[i]);
		t->right[i] = right && right[i];
	}
}

size_t sql_utf8_cut(const char *s, size_t len, size_t max)
{
	if (len <= max)
		return len;
	size_t n = max;
	while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
		n--;
	return n;
}

/* The cell as shown: escapes for line-breaking bytes, cut when long. */
static char *cell_text(const char *v, size_t len)
{
	struct buf b;
	size_t keep = sql_utf8_cut(v, len, SQL_TABLE_CELL);
	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < keep; i++) {
		char c = v[i];
		if (c == '\n')
			buf_adds(&b, "\\n");
		else if (c == '\r')
			buf_adds(&b, "\\r");
		else if (c == '\t')
			buf_adds(&b, "\\t");
		else
			buf_addc(&b, c ? c : ' ');
	}
	if (keep < len)
		buf_adds(&b, "...");
	return buf_detach(&b, NULL);
}

void sql_table_add(struct sql_table *t, const char *const *vals,
		   const size_t *lens)
{
	t->rows++;
	if (t->rows_kept >= SQL_TABLE_ROWS || t->bytes >= SQL_TABLE_BYTES)
		return;
	t->cells = xgrow(t->cells, &t->cap, (t->rows_kept + 1) * t->ncols + 1,
			 sizeof *t->cells);
	char **row = t->cells + t->rows_kept * t->ncols;
	for (size_t i = 0; i < t->ncols; i++) {
		row[i] = vals[i] ? cell_text(vals[i], lens[i]) : NULL;
		t->bytes += row[i] ? strlen(row[i]) + 1 : 1;
	}
	t->rows_kept++;
}

size_t sql_text_width(const char *s)
{
	mbstate_t st;
	size_t w = 0, len = strlen(s);
	memset(&st, 0, sizeof st);
	while (len) {
		wchar_t wc;
		size_t n = mbrtowc(&wc, s, len, &st);
		if (n == (size_t)-1 || n == (size_t)-2 || n == 0) {
			memset(&st, 0, sizeof st);
			n = 1;
			w++;
		} else {
			int cw = wcwidth(wc);
			w += cw >= 0 ? (size_t)cw : 1;
		}
		s += n;
		len -= n;
	}
	return w;
}

static void pad(struct buf *out, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		buf_addc(out, c);
}

static void put_cell(struct buf *out, const char *text, size_t width,
		     bool right, bool last)
{
	size_t w = sql_text_width(text);
	size_t gap = width > w ? width - w : 0;
	buf_addc(out, ' ');
	if (right)
		pad(out, gap, ' ');
	buf_adds(out, text);
	if (!right && !last)
		pad(out, gap, ' ');
	buf_adds(out, last ? "\n" : " |");
}

void sql_table_render(const struct sql_table *t, struct buf *out)
{
	size_t *width = xcalloc(t->ncols ? t->ncols : 1, sizeof *width);
	for (size_t c = 0; c < t->ncols; c++) {
		width[c] = sql_text_width(t->names[c]);
		for (size_t r = 0; r < t->rows_kept; r++) {
			const char *v = t->cells[r * t->ncols + c];
			size_t w = v ? sql_text_width(v) : 0;
			if (w > width[c])
				width[c] = w;
		}
	}
	/* names are centred over their columns, as psql does */
	for (size_t c = 0; c < t->ncols; c++) {
		size_t w = sql_text_width(t->names[c]);
		size_t left = (width[c] - w) / 2;
		buf_addc(out, ' ');
		pad(out, left, ' ');
		buf_adds(out, t->names[c]);
		if (c + 1 < t->ncols) {
			pad(out, width[c] - w - left, ' ');
			buf_adds(out, " |");
		}
	}
	buf_addc(out, '\n');
	for (size_t c = 0; c < t->ncols; c++) {
		pad(out, width[c] + 2, '-');
		if (c + 1 < t->ncols)
			buf_addc(out, '+');
	}
	buf_addc(out, '\n');
	for (size_t r = 0; r < t->rows_kept; r++)
		for (size_t c = 0; c < t->ncols; c++) {
			const char *v = t->cells[r * t->ncols + c];
			put_cell(out, v ? v : "", width[c], t->right[c], c + 1 == t->ncols);
		}
	if (t->no_footer)
		;
	else if ((int64_t)t->rows_kept < t->rows)
		buf_addf(out, "(%lld rows, the first %zu shown)\n", (long long)t->rows,
			 t->rows_kept);
	else
		buf_addf(out, "(%lld row%s)\n", (long long)t->rows, t->rows == 1 ? "" : "s");
	free(width);
}

void sql_table_release(struct sql_table *t)
{
	for (size_t i = 0; i < t->ncols; i++)
		free(t->names[i]);
	for (size_t i = 0; i < t->rows_kept * t->ncols; i++)
		free(t->cells[i]);
	free(t->names);
	free(t->right);
	free(t->cells);
	memset(t, 0, sizeof *t);
}
