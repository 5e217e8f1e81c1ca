/* styled: lines of sanitized text with style spans (see styled.h). */
#include "tui/styled.h"

#include <stdlib.h>
#include <string.h>

#include "tui/sanitize.h"
#include "util/xalloc.h"

/* Start empty; the first line allocates. */
void styled_init(struct styled_text *t)
{
	t->lines = NULL;
	t->n = 0;
	t->cap = 0;
}

/* Every line owns its text and spans. */
void styled_release(struct styled_text *t)
{
	for (size_t i = 0; i < t->n; i++) {
		free(t->lines[i].text);
		free(t->lines[i].spans);
	}
	free(t->lines);
	styled_init(t);
}

/* One line of text qrh did not write, in a single style: it is made one
 * line (a newline shows as ^J) so it can never break the layout. */
void styled_add_plain(struct styled_text *t, const char *s, size_t n,
		      unsigned style)
{
	struct styled_line *line;

	t->lines = xgrow(t->lines, &t->cap, t->n + 1, sizeof(*t->lines));
	line = &t->lines[t->n++];
	line->text = sanitize_string(s, n);
	line->len = strlen(line->text);
	line->spans = xmalloc(sizeof(*line->spans));
	line->spans[0] = (struct span){ .off = 0, .len = line->len,
					.style = style };
	line->n_spans = 1;
}
