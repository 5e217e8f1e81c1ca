/* The questions the run policy asks, as dialogs: run a step (showing what
 * it runs, or a manual step's instructions, and asking for the typed word
 * when run_choice_word names one: the step's own, or OUT-OF-ORDER); what
 * now after a failure or an interruption (exactly the choices run_choices
 * offers, each on its own key); abort (the word ABORT). The console
 * decides nothing here: it asks the policy and presents the answer. */
#include <stdlib.h>
#include <string.h>

#include "tui/cli.h"
#include "tui/console_ui.h"
#include "tui/mdrender.h"
#include "tui/sanitize.h"

/* Each choice's key in the what-now menu. Esc is always "later". */
static const struct {
	unsigned choice;
	char key;
	const char *text;
} menu[] = {
	{ CHOICE_RETRY, 'r', "[r] retry: run it again" },
	{ CHOICE_RUN, 'r', "[r] run it again" },
	{ CHOICE_WAIT, 'w', "[w] wait for its process to end" },
	{ CHOICE_STOP, 'k', "[k] stop its process (SIGTERM, then SIGKILL)" },
	{ CHOICE_SKIP, 's', "[s] skip it (asks why)" },
	{ CHOICE_DONE_BY_HAND, 'd', "[d] done by hand (asks what was done)" },
	{ CHOICE_ABORT, 'A', "[A] abort the run (asks for the word ABORT)" },
	{ CHOICE_LATER, 27, "[Esc] decide later: the run stays open" },
};

#define N_MENU (sizeof menu / sizeof *menu)

static void body(struct console *c, const char *s, unsigned style)
{
	styled_add_str(&c->dlg.body, s, style);
}

/* The width a dialog's body is drawn at (console_draw.c's dialog). */
static int body_width(const struct console *c)
{
	int w = c->cols - 4 > 100 ? 100 : c->cols - 4;
	return w - 4 > 20 ? w - 4 : 20;
}

/* ---- running a step ---- */

static void confirmed(struct console *c, int key, const char *text)
{
	size_t i = c->dlg.step;
	if (c->dlg.word[0]) {
		if (text && !strcmp(text, c->dlg.word))
			console_start_step(c, i, "typed");
		else
			console_set_status(c, "not confirmed: the word did not match; nothing ran");
		return;
	}
	if (key == 'y')
		console_start_step(c, i, c->dlg.how);
	else
		console_set_status(c, "not confirmed; nothing ran");
}

/* What the step runs, one block per action (secrets masked); a manual
 * step's instructions, since confirming it says they were followed. */
static void describe(struct console *c, size_t i)
{
	const struct step *s = &c->rb->steps[i];
	if (!s->n_actions) {
		if (s->doc)
			md_render(s->doc, strlen(s->doc), body_width(c), c->ascii, &c->dlg.body);
		body(c, "", 0);
		body(c, "A manual step: nothing runs. Confirm that it was done.", STYLE_BOLD);
		return;
	}
	struct buf d;
	struct err e;
	buf_init(&d, BUF_UNLIMITED);
	if (run_describe_step(c->run, i, &d, &e) < 0)
		buf_adds(&d, e.msg);
	for (const char *p = d.data; *p;) {
		const char *nl = strchr(p, '\n');
		size_t n = nl ? (size_t)(nl - p) : strlen(p);
		styled_add_plain(&c->dlg.body, p, n, STYLE_CODE);
		p += n + (nl ? 1 : 0);
	}
	buf_release(&d);
}

/* The confirmation of step i for choice (CHOICE_RUN or CHOICE_RETRY),
 * journaled as `how` when y confirms it. */
static void ask_confirmation(struct console *c, size_t i, enum run_choice choice,
			     const char *how)
{
	const struct step *s = &c->rb->steps[i];
	const char *word = run_choice_word(c->run, i, choice);
	char title[160];
	snprintf(title, sizeof title, "Run step %zu?", i + 1);
	dialog_open(c, word ? DLG_TYPED : DLG_YESNO, title, confirmed);
	c->dlg.step = i;
	snprintf(c->dlg.how, sizeof c->dlg.how, "%s", how);
	if (run_out_of_order(c->run, i)) {
		long first = run_next_step(c->run);
		char warn[200];
		snprintf(warn, sizeof warn, "Out of order: step %ld '%s' is not settled yet.",
			 first + 1, c->rb->steps[first].id);
		body(c, warn, STYLE_BOLD);
		body(c, "", 0);
	}
	describe(c, i);
	if (word) {
		snprintf(c->dlg.word, sizeof c->dlg.word, "%s", word);
		snprintf(c->dlg.done_label, sizeof c->dlg.done_label, "%s",
			 s->n_actions ? "to run it" : "to confirm it");
	} else {
		snprintf(c->dlg.done_label, sizeof c->dlg.done_label, "%s",
			 s->n_actions ? "[y] yes, run it   [n] no" : "[y] yes, it is done   [n] no");
	}
}

static bool failed(enum step_status s)
{
	return s == STEP_FAILED || s == STEP_TIMEOUT || s == STEP_CANCELLED;
}

bool console_approval_status(struct console *c, size_t i)
{
	const struct step *s = &c->rb->steps[i];
	struct run_approval a;
	run_approval(c->run, i, &a);
	if (a.state == RUN_APPROVAL_GRANTED)
		console_set_status(c, "step %zu '%s' approved by %s (%s): Enter to run it", i + 1,
				   s->id, a.approver, a.via);
	else if (a.state == RUN_APPROVAL_WAITING && a.refused[0])
		console_set_status(c, "step %zu '%s': refused: %s; awaiting %s: %s", i + 1, s->id,
				   a.refused, a.awaited, a.how_to);
	else if (a.state == RUN_APPROVAL_WAITING)
		console_set_status(c, "step %zu '%s' awaits an approval by %s: %s", i + 1, s->id,
				   a.awaited, a.how_to);
	else if (a.state == RUN_APPROVAL_NEEDED && a.refused[0])
		console_set_status(c, "step %zu '%s': %s; Enter asks again", i + 1, s->id, a.refused);
	return a.state == RUN_APPROVAL_GRANTED;
}

/* Dual control: asks for the approval of step i (once), or says who is
 * awaited; true once it is granted. */
static bool approved(struct console *c, size_t i)
{
	struct run_approval a;
	struct err e;
	run_approval(c->run, i, &a);
	if (a.state != RUN_APPROVAL_GRANTED && run_approval_request(c->run, i, &e) < 0) {
		console_refuse(c, "step %zu '%s': %s", i + 1, c->rb->steps[i].id, e.msg);
		return false;
	}
	return console_approval_status(c, i);
}

void console_ask_step(struct console *c, size_t i)
{
	struct err e;
	const struct step_state *st = run_step(c->run, i);
	unsigned ch = run_choices(c->run, i);
	if (console_offer_pick(c))
		return; /* what an earlier step listed is picked first */
	if ((st->status == STEP_INTERRUPTED || failed(st->status)) && ch) {
		console_offer(c, i);
		return;
	}
	if (c->rb->steps[i].dual_control && (ch & CHOICE_RUN) && !approved(c, i))
		return;
	if (run_refusal(c->run, i, CHOICE_RUN, &e) < 0) {
		bool running = st->status == STEP_RUNNING || st->status == STEP_RETRY_WAIT;
		console_refuse(c, "%s%s", e.msg, running ? "; x cancels it" : "");
		return;
	}
	ask_confirmation(c, i, CHOICE_RUN, "enter");
}

/* ---- after a failure or an interruption ---- */

/* The last lines a step printed (and how its attempt ended). */
static void last_lines(struct console *c, size_t i, size_t max)
{
	console_show_output(c, i);
	const struct scrollback *sb = c->sv[i].sb;
	size_t n = sb ? scrollback_count(sb) : 0, from = n > max ? n - max : 0;
	if (!n) {
		body(c, "It printed nothing.", STYLE_DIM);
		return;
	}
	body(c, "Its last lines:", 0);
	for (size_t k = from; k < n; k++) {
		const struct sb_line *l = scrollback_line(sb, k);
		if (l->stream == SB_MARK) { /* qrh's own: how an attempt ended */
			char line[SCROLLBACK_MAX_LINE_BYTES + 16];
			const char *rule = c->ascii ? "--" : "──";
			snprintf(line, sizeof line, "%s %.*s %s", rule, (int)l->len, l->text, rule);
			body(c, line, STYLE_DIM);
		} else {
			styled_add_plain(&c->dlg.body, l->text, l->len,
					 l->stream == SB_STDERR ? STYLE_ERROR : STYLE_CODE);
		}
	}
}

static void survivors(struct console *c, size_t i)
{
	const struct run_survivor *sv;
	size_t n = run_survivors(c->run, i, &sv), alive = 0;
	for (size_t k = 0; k < n; k++) {
		if (!sv[k].alive)
			continue;
		char line[256];
		char *cmd = sanitize_string(sv[k].command, strlen(sv[k].command));
		snprintf(line, sizeof line, "Its process is still running: pid %d (%.120s), started %lld s ago.",
			 (int)sv[k].pgid, cmd, (long long)(sv[k].age_ms / 1000));
		free(cmd);
		body(c, line, STYLE_BOLD);
		alive++;
	}
	if (!alive)
		body(c, n ? "Its process has ended since." : "No process of it is left running.", 0);
}

static void menu_chosen(struct console *c, int key, const char *text)
{
	struct err e = { "" };
	size_t i = c->dlg.step;
	unsigned ch = run_choices(c->run, i);
	int rc = 0;
	(void)text;
	if (key == 'r' && (ch & (CHOICE_RUN | CHOICE_RETRY))) {
		enum run_choice which = ch & CHOICE_RETRY ? CHOICE_RETRY : CHOICE_RUN;
		const char *how = run_step(c->run, i)->status == STEP_INTERRUPTED ? "rerun-interrupted"
										   : "enter";
		if (run_choice_word(c->run, i, which))
			ask_confirmation(c, i, which, how); /* its word, every time */
		else
			console_start_step(c, i, how);
	} else if (key == 's' || key == 'd') {
		console_ask_close(c, i, key == 's' ? CHOICE_SKIP : CHOICE_DONE_BY_HAND);
	} else if (key == 'A') {
		console_ask_abort(c);
	} else if (key == 'w') {
		rc = run_survivors_wait(c->run, i, &e);
	} else if (key == 'k') {
		rc = run_survivors_stop(c->run, i, &e);
	} else {
		console_set_status(c, "step %zu '%s' waits for a decision: Enter on it asks again",
				   i + 1, c->rb->steps[i].id);
	}
	if (rc < 0)
		console_set_status(c, "%s", e.msg);
	else if (key == 'w' || key == 'k')
		console_set_status(c, "step %zu: %s its process; the choice comes back when it has ended",
				   i + 1, key == 'w' ? "waiting for" : "stopping");
}

/* "Step 6 failed: exit 3", but not "Step 6 cancelled: cancelled". */
static void offer_title(struct console *c, size_t i, char *out, size_t n)
{
	const struct step_state *st = run_step(c->run, i);
	if (st->status == STEP_INTERRUPTED) {
		snprintf(out, n, "Step %zu was running when qrh stopped: its outcome is unknown", i + 1);
		return;
	}
	const char *words = step_status_words(st->status);
	bool same = !st->summary[0] || !strcmp(st->summary, step_status_name(st->status)) ||
		    !strcmp(st->summary, words);
	char *summary = sanitize_string(st->summary, strlen(st->summary));
	snprintf(out, n, "Step %zu %s%s%.100s", i + 1, words, same ? "" : ": ", same ? "" : summary);
	free(summary);
}

/* Why the choice is what it is. */
static void offer_intro(struct console *c, size_t i)
{
	const struct step *s = &c->rb->steps[i];
	const struct step_state *st = run_step(c->run, i);
	if (st->status == STEP_INTERRUPTED) {
		survivors(c, i);
		body(c, "Check what it did before you decide.", 0);
	} else if (run_step_settled(c->run, i)) {
		body(c, "on_fail=continue: the run went on past it.", 0);
	} else if (s->on_fail == ON_FAIL_STOP && st->status != STEP_CANCELLED) {
		body(c, "on_fail=stop: the run stops here until it is retried, or aborted.", 0);
	}
	last_lines(c, i, 4);
	body(c, "", 0);
}

void console_offer(struct console *c, size_t i)
{
	char title[200];
	if (c->dlg.kind != DLG_NONE || c->read_only) {
		c->offer = c->read_only ? -1 : (long)i; /* asked when it closes */
		return;
	}
	c->offer = -1;
	unsigned ch = run_choices(c->run, i);
	enum step_status st = run_step(c->run, i)->status;
	if (!ch || !(failed(st) || st == STEP_INTERRUPTED))
		return; /* decided meanwhile */
	console_select(c, i);
	c->view = VIEW_OUTPUT;
	offer_title(c, i, title, sizeof title);
	dialog_open(c, DLG_MENU, title, menu_chosen);
	c->dlg.step = i;
	offer_intro(c, i);
	size_t nk = 0;
	for (size_t k = 0; k < N_MENU; k++) {
		if (!(ch & menu[k].choice))
			continue;
		const char *word = menu[k].choice & (CHOICE_RUN | CHOICE_RETRY)
					   ? run_choice_word(c->run, i, menu[k].choice) : NULL;
		char line[160];
		snprintf(line, sizeof line, "%s%s%s%s", menu[k].text, word ? " (asks for " : "",
			 word ? word : "", word ? ")" : "");
		body(c, line, 0);
		if (menu[k].key != 27 && nk + 1 < sizeof c->dlg.choices &&
		    !strchr(c->dlg.choices, menu[k].key)) {
			c->dlg.choices[nk++] = menu[k].key;
			c->dlg.choices[nk] = '\0';
		}
	}
}

/* ---- skip, done by hand, abort ---- */

/* The reason for a skip or the note for done by hand (dlg.how says
 * which): either is required, and journaled. */
static void close_given(struct console *c, int key, const char *text)
{
	struct err e;
	bool skip = !strcmp(c->dlg.how, "skip");
	(void)key;
	if (!text || !*text) {
		console_set_status(c, "%s", skip ? "a skip needs a reason; the step was not skipped"
						 : "done by hand needs a note saying what was done");
		return;
	}
	int rc = skip ? run_step_skip(c->run, c->dlg.step, text, &e)
		      : run_step_done_by_hand(c->run, c->dlg.step, text, &e);
	if (rc < 0)
		console_set_status(c, "%s", e.msg);
}

void console_ask_close(struct console *c, size_t i, enum run_choice choice)
{
	char t[96];
	bool skip = choice == CHOICE_SKIP;
	snprintf(t, sizeof t, skip ? "Skip step %zu: why?" : "Step %zu done by hand: what was done?",
		 i + 1);
	dialog_open(c, DLG_TEXT, t, close_given);
	c->dlg.step = i;
	snprintf(c->dlg.how, sizeof c->dlg.how, "%s", skip ? "skip" : "done");
}

static void abort_given(struct console *c, int key, const char *text)
{
	(void)key;
	if (!text || strcmp(text, c->dlg.word)) {
		console_set_status(c, "not aborted: the word did not match; the run goes on");
		return;
	}
	c->aborted = true;
	c->quit = true;
	c->exit_code = QRH_EXIT_FAILED;
}

void console_ask_abort(struct console *c)
{
	dialog_open(c, DLG_TYPED, "Abort the run?", abort_given);
	body(c, "The remaining steps will not run: the run ends as aborted,", 0);
	body(c, "and qrh resume cannot continue it.", 0);
	if (run_step_active(c->run))
		body(c, "The running step is cancelled first.", STYLE_BOLD);
	if (console_bg_count(c))
		body(c, "Background actions are stopped.", 0);
	snprintf(c->dlg.word, sizeof c->dlg.word, "%s",
		 c->rb->n_steps ? run_choice_word(c->run, c->sel, CHOICE_ABORT) : RUN_WORD_ABORT);
	snprintf(c->dlg.done_label, sizeof c->dlg.done_label, "to abort the run");
}
