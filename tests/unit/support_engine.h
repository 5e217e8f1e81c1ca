/* support_engine: what the engine's tests share — a temporary directory
 * with a journal, a loop and a process reaper for one run, and their
 * end: the run and its runbook freed, everything closed and removed, and
 * no scripted action (fake_action.h) left running. */
#ifndef QRH_TEST_SUPPORT_ENGINE_H
#define QRH_TEST_SUPPORT_ENGINE_H

#include "actions/proc.h"
#include "runbooks/model.h"
#include "state/journal.h"
#include "state/run.h"
#include "util/loop.h"

struct engine_env {
	char dir[64];   /* removed with everything in it */
	char path[128]; /* the journal: dir/j.db */
	struct journal *j;
	struct loop *loop;
	struct proc_reaper *reaper;
};

/* Opens all of it in /tmp/qrh-NAME.XXXXXX and resets the scripted
 * actions' counters; fails the test when something cannot be opened. */
void engine_env_open(struct engine_env *env, const char *name);
/* Frees run and rb (either may be NULL), closes and removes the rest;
 * fails the test when a scripted action is still running. */
void engine_env_close(struct engine_env *env, struct run *run, struct runbook *rb);

#endif
