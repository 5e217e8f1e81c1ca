/* A value to pick from a list a step printed (a velero backup list with
 * pick=): the choices, numbered, in a dialog that takes a number or a
 * name. run_pick decides what a pick means; nothing goes on until it. */
#include <cjson/cJSON.h>
#include <string.h>

#include "tui/console_ui.h"
#include "tui/pick_line.h"

static void picked(struct console *c, int key, const char *text)
{
	struct err e;
	(void)key;
	if (!text || !*text)
		console_set_status(c, "nothing picked; Enter on the next step shows the list again");
	else if (run_pick(c->run, text, &e) < 0)
		console_set_status(c, "%s", e.msg);
	else
		console_set_status(c, "picked: %s", text);
}

bool console_offer_pick(struct console *c)
{
	size_t step;
	const char *var;
	const cJSON *choices = run_pick_pending(c->run, &step, &var);
	if (!choices || c->read_only)
		return false;
	char title[160];
	snprintf(title, sizeof title, "Pick %s (step %zu listed them): type its number or name", var,
		 step + 1);
	dialog_open(c, DLG_TEXT, title, picked);
	c->dlg.step = step;
	int k = 0;
	const cJSON *ch;
	cJSON_ArrayForEach(ch, choices)
	{
		char line[256];
		pick_line(ch, ++k, line, sizeof line);
		/* names and phases come from outside: shown through the sanitizer */
		styled_add_plain(&c->dlg.body, line, strlen(line), 0);
	}
	return true;
}
