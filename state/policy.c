/* The run policy: what comes next, what the operator may do about a step,
 * when a typed word is needed, the outcome, and what a signal means. The
 * console and plain mode only present these choices. */
#include <signal.h>

#include "state/run_priv.h"

bool run_step_settled(const struct run *r, size_t i)
{
	enum step_status s = run_step(r, i)->status;
	const struct step *st = &r->rb->steps[i];
	return step_status_final(s) ||
	       ((st->on_fail == ON_FAIL_CONTINUE || st->expect_fail) &&
		(s == STEP_FAILED || s == STEP_TIMEOUT));
}

long run_next_step(const struct run *r)
{
	for (size_t i = 0; i < r->rb->n_steps; i++)
		if (!run_step_settled(r, i))
			return (long)i;
	return -1;
}

bool run_out_of_order(const struct run *r, size_t i)
{
	long next = run_next_step(r);
	return next >= 0 && (size_t)next < i;
}

size_t run_select_after(const struct run *r, size_t i)
{
	long next = run_next_step(r);
	return next >= 0 ? (size_t)next : i;
}

bool run_complete(const struct run *r)
{
	return run_next_step(r) < 0;
}

/* ok when every step went as designed: final, or failed when it was
 * meant to (expect=fail); a step meant to fail that passed did not. */
const char *run_outcome(const struct run *r)
{
	for (size_t i = 0; i < r->rb->n_steps; i++) {
		enum step_status s = run_step(r, i)->status;
		bool failed = s == STEP_FAILED || s == STEP_TIMEOUT;
		if (r->rb->steps[i].expect_fail ? s == STEP_OK || !(failed || step_status_final(s))
						 : !step_status_final(s))
			return "failed";
	}
	return "ok";
}

static bool survivor_alive(const struct run *r, size_t i)
{
	const struct run_survivor *v;
	size_t n = run_survivors(r, i, &v);
	for (size_t k = 0; k < n; k++)
		if (v[k].alive)
			return true;
	return false;
}

/* After a failure: on_fail=stop offers retry, abort or later; ask (and a
 * continue step the operator comes back to) the full choice. */
static unsigned after_failure(const struct step *s)
{
	if (s->on_fail == ON_FAIL_STOP)
		return CHOICE_RETRY | CHOICE_ABORT | CHOICE_LATER;
	return CHOICE_RETRY | CHOICE_SKIP | CHOICE_DONE_BY_HAND | CHOICE_ABORT |
	       CHOICE_LATER;
}

unsigned run_choices(const struct run *r, size_t i)
{
	if (r->observing || r->ended || i >= r->rb->n_steps)
		return 0;
	const struct step *s = &r->rb->steps[i];
	enum step_status st = run_step(r, i)->status;
	long active = run_active_step(r);
	if (active >= 0 && (size_t)active != i)
		return 0; /* one step at a time */
	switch (st) {
	case STEP_RUNNING:
	case STEP_RETRY_WAIT:
		return CHOICE_CANCEL;
	case STEP_PENDING:
		return CHOICE_RUN | CHOICE_SKIP | CHOICE_DONE_BY_HAND | CHOICE_ABORT;
	case STEP_FAILED:
	case STEP_TIMEOUT:
	case STEP_CANCELLED:
		return after_failure(s);
	case STEP_INTERRUPTED:
		if (survivor_alive(r, i))
			return CHOICE_WAIT | CHOICE_STOP | CHOICE_DONE_BY_HAND |
			       CHOICE_SKIP | CHOICE_LATER | CHOICE_ABORT;
		return CHOICE_RUN | CHOICE_SKIP | CHOICE_DONE_BY_HAND |
		       CHOICE_LATER | CHOICE_ABORT;
	case STEP_OK:
	case STEP_SKIPPED:
	case STEP_DONE_BY_HAND:
	case STEP_STATUS_COUNT:
		break;
	}
	return 0;
}

const char *run_choice_word(const struct run *r, size_t i, enum run_choice c)
{
	const struct step *s = &r->rb->steps[i];
	if (c == CHOICE_ABORT)
		return RUN_WORD_ABORT;
	if (c != CHOICE_RUN && c != CHOICE_RETRY)
		return NULL;
	/* a typed step takes its word every time it runs, retries included */
	if (s->confirm == CONFIRM_TYPED)
		return s->confirm_word;
	if (run_out_of_order(r, i))
		return RUN_WORD_OUT_OF_ORDER;
	return NULL;
}

bool run_abortable(const struct run *r)
{
	return !r->observing && !r->ended;
}

/* Why a step that is not running cannot take `want`. */
static int refusal_for_status(const struct run *r, size_t i, unsigned want,
			      struct err *e)
{
	const struct step *s = &r->rb->steps[i];
	enum step_status st = run_step(r, i)->status;
	if (step_status_final(st))
		return err_set(e, "step %zu '%s' was already %s", i + 1, s->id,
			       step_status_words(st));
	if (st == STEP_RUNNING || st == STEP_RETRY_WAIT)
		return err_set(e, "step %zu '%s' is %s", i + 1, s->id, step_status_words(st));
	if (st == STEP_INTERRUPTED && survivor_alive(r, i))
		return err_set(e, "step %zu '%s' still has a process running from before the "
			       "resume: wait for it or stop it first", i + 1, s->id);
	if ((st == STEP_FAILED || st == STEP_TIMEOUT || st == STEP_CANCELLED) &&
	    s->on_fail == ON_FAIL_STOP && (want & (CHOICE_SKIP | CHOICE_DONE_BY_HAND)))
		return err_set(e, "step %zu '%s' %s and has on_fail=stop: it can be retried, "
			       "or the run aborted", i + 1, s->id, step_status_words(st));
	if (st == STEP_PENDING && (want & CHOICE_RETRY) && !(want & CHOICE_RUN))
		return err_set(e, "step %zu '%s' has not run yet", i + 1, s->id);
	return err_set(e, "step %zu '%s' is %s", i + 1, s->id, step_status_words(st));
}

int run_refusal(const struct run *r, size_t i, unsigned want, struct err *e)
{
	if (r->observing)
		return err_set(e, "read-only: this run belongs to another qrh");
	if (r->ended)
		return err_set(e, "run %lld has ended", (long long)r->id);
	if (r->journal_broken)
		return err_set(e, "the journal cannot be written: no step may start");
	if (i >= r->rb->n_steps)
		return err_set(e, "no step %zu", i + 1);
	if (run_choices(r, i) & want)
		return 0;
	if (r->att && r->att->step != i)
		return err_set(e, "step %zu '%s' is still running", r->att->step + 1,
			       r->rb->steps[r->att->step].id);
	return refusal_for_status(r, i, want, e);
}

enum run_signal_rule run_signal_rule(int signo)
{
	return signo == SIGHUP ? RUN_SIGNAL_FINISH : RUN_SIGNAL_CANCEL;
}

bool run_step_active(const struct run *r)
{
	return r->att != NULL;
}

long run_active_step(const struct run *r)
{
	return r->att ? (long)r->att->step : -1;
}

size_t run_background_count(const struct run *r)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_tasks; i++)
		n += r->tasks[i]->role == FOLD_TASK_BACKGROUND && r->tasks[i]->running;
	return n;
}

bool run_busy(const struct run *r)
{
	if (r->att)
		return true;
	/* probes poll until the run ends: they never keep it busy */
	for (size_t i = 0; i < r->n_tasks; i++)
		if (r->tasks[i]->running && r->tasks[i]->role != FOLD_TASK_PROBE)
			return true;
	return run_survivors_busy(r);
}

size_t run_tasks(const struct run *r, struct run_task_view *out, size_t max)
{
	size_t n = 0;
	for (size_t i = 0; i < r->n_tasks && n < max; i++) {
		const struct task *t = r->tasks[i];
		if (t->role == FOLD_TASK_PROBE)
			continue; /* front ends see probes through run_probes */
		out[n++] = (struct run_task_view){
			.task = t->id, .step = t->step, .attempt = t->attempt,
			.action = t->action, .label = t->label,
			.background = t->role == FOLD_TASK_BACKGROUND,
			.running = t->running, .progress = t->progress,
		};
	}
	return n;
}
