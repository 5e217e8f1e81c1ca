/* The notes list: every note of the run, from its fold (so notes made
 * before a resume are there too), with its time, its author and the step
 * it was made at. */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "tui/console_ui.h"
#include "tui/sanitize.h"

static void note_line(struct console *c, const struct fold_note *n)
{
	char when[32], head[160];
	time_t t = (time_t)(n->wall_ms / 1000);
	struct tm tm;
	if (localtime_r(&t, &tm))
		strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
	else
		snprintf(when, sizeof when, "?");
	char *actor = sanitize_string(n->actor ? n->actor : "?", strlen(n->actor ? n->actor : "?"));
	if (n->step >= 0 && (size_t)n->step < c->rb->n_steps)
		snprintf(head, sizeof head, "%s  %.60s, at step %lld:", when, actor,
			 (long long)n->step + 1);
	else
		snprintf(head, sizeof head, "%s  %.60s:", when, actor);
	free(actor);
	styled_add_str(&c->dlg.body, head, STYLE_BOLD);
	const char *text = n->text ? n->text : "";
	char *clean = sanitize_string(text, strlen(text));
	styled_add_str(&c->dlg.body, clean, 0);
	free(clean);
}

void console_notes_dialog(struct console *c)
{
	const struct run_fold *f = run_fold(c->run);
	char title[64];
	snprintf(title, sizeof title, "Notes of run %lld: %zu", (long long)run_id(c->run), f->n_notes);
	dialog_open(c, DLG_HELP, title, NULL);
	if (!f->n_notes)
		styled_add_str(&c->dlg.body, "No notes yet: a adds one.", STYLE_DIM);
	for (size_t k = 0; k < f->n_notes; k++)
		note_line(c, &f->notes[k]);
}
