/* Modal questions: yes/no, a typed word, a line of text, a menu, help.
 * While one is open every key goes to it; Esc closes it without doing
 * anything, which is always the safe answer. A dialog takes no key for
 * CONSOLE_DIALOG_GUARD_MS after it opens: keys typed ahead (the second y
 * of yy, the rest of a sentence, a key pressed just as a failure dialog
 * opened) are dropped and counted, and the dialog says so. */
#include <curses.h>
#include <string.h>

#include "tui/console_ui.h"
#include "util/clock.h"

/* The guard is over: the prompt shows. */
static void on_guard(struct loop *l, uint64_t id, void *arg)
{
	struct console *c = arg;
	(void)l;
	(void)id;
	c->dlg.guard_timer = 0;
	console_mark_dirty(c);
}

void dialog_open(struct console *c, enum dialog_kind kind, const char *title,
		 dialog_done_fn *done)
{
	dialog_close(c);
	c->dlg.kind = kind;
	snprintf(c->dlg.title, sizeof c->dlg.title, "%s", title);
	styled_init(&c->dlg.body);
	buf_init(&c->dlg.input, CONSOLE_INPUT_MAX);
	c->dlg.done = done;
	c->dlg.choices[0] = '\0';
	c->dlg.word[0] = '\0';
	c->dlg.done_label[0] = '\0';
	c->dlg.how[0] = '\0';
	c->dlg.scroll = 0;
	c->dlg.page = 1;
	c->dlg.opened_ns = clock_mono_ns();
	c->dlg.dropped = 0;
	if (c->loop)
		c->dlg.guard_timer = loop_timer_add(c->loop, CONSOLE_DIALOG_GUARD_MS + 1, on_guard, c);
	console_mark_dirty(c);
}

bool dialog_guarded(const struct console *c)
{
	return clock_mono_ns() - c->dlg.opened_ns < (int64_t)CONSOLE_DIALOG_GUARD_MS * 1000000;
}

/* The step, word and how stay for the callback that finish calls. */
void dialog_close(struct console *c)
{
	if (c->dlg.kind == DLG_NONE)
		return;
	if (c->dlg.guard_timer && c->loop)
		loop_timer_cancel(c->loop, c->dlg.guard_timer);
	c->dlg.guard_timer = 0;
	styled_release(&c->dlg.body);
	buf_release(&c->dlg.input);
	c->dlg.kind = DLG_NONE;
	console_mark_dirty(c);
}

/* Calls the dialog's callback after closing it, so the callback may open
 * the next dialog. */
static void finish(struct console *c, int key, bool with_text)
{
	dialog_done_fn *done = c->dlg.done;
	char text[CONSOLE_INPUT_MAX + 1];
	snprintf(text, sizeof text, "%s", c->dlg.input.data);
	size_t step = c->dlg.step;
	dialog_close(c);
	c->dlg.step = step;
	if (done)
		done(c, key, with_text ? text : NULL);
}

static void edit(struct console *c, int key)
{
	struct buf *in = &c->dlg.input;
	if (key == KEY_BACKSPACE || key == 127 || key == 8) {
		/* drop a whole UTF-8 character */
		while (in->len && (in->data[in->len - 1] & 0xc0) == 0x80)
			in->len--;
		if (in->len)
			in->len--;
		in->data[in->len] = '\0';
	} else if (key == ('u' & 0x1f)) {
		buf_reset(in);
	} else if (key >= 0x20 && key < 0x100 && key != 0x7f) {
		/* raw() hands over bytes: UTF-8 typed in arrives byte by byte */
		buf_addc(in, (char)key);
	}
}

/* Keys that scroll a body taller than the dialog, in every kind: the
 * arrows and pages; j/k too where they cannot be an answer or text. */
static bool scroll_key(struct dialog *d, int key)
{
	bool letters = d->kind == DLG_HELP || d->kind == DLG_YESNO ||
		       (d->kind == DLG_MENU && !strchr(d->choices, 'j') &&
			!strchr(d->choices, 'k'));
	int page = d->page > 0 ? d->page : 1;
	if (key == KEY_DOWN || (letters && key == 'j'))
		d->scroll++;
	else if (key == KEY_UP || (letters && key == 'k'))
		d->scroll--;
	else if (key == KEY_NPAGE)
		d->scroll += page;
	else if (key == KEY_PPAGE)
		d->scroll -= page;
	else
		return false;
	if (d->scroll < 0) /* the bottom is clamped when drawn */
		d->scroll = 0;
	return true;
}

void dialog_key(struct console *c, int key)
{
	struct dialog *d = &c->dlg;
	if (dialog_guarded(c)) {
		d->dropped++;
		return;
	}
	if (key == 27) {
		finish(c, 27, false);
		return;
	}
	if (scroll_key(d, key))
		return;
	switch (d->kind) {
	case DLG_YESNO:
		if (key == 'y' || key == 'Y')
			finish(c, 'y', false);
		else if (key == 'n' || key == 'N' || key == 'q')
			finish(c, 'n', false);
		break;
	case DLG_MENU:
		if (key > 0 && key < 0x80 && strchr(d->choices, key))
			finish(c, key, false);
		else if (key > 0x20 && key < 0x7f)
			console_set_status(c, "'%c' is not one of the choices here: %s, or Esc",
					   key, d->choices);
		break;
	case DLG_TYPED:
	case DLG_TEXT:
		if (key == '\n' || key == '\r' || key == KEY_ENTER)
			finish(c, '\n', true);
		else
			edit(c, key);
		break;
	case DLG_HELP:
		finish(c, key, false);
		break;
	default:
		break;
	}
}
