/* support_engine.c: the engine tests' environment (support_engine.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "tests/unit/fake_action.h"
#include "tests/unit/support_engine.h"

void engine_env_open(struct engine_env *env, const char *name)
{
	struct err e;
	snprintf(env->dir, sizeof env->dir, "/tmp/qrh-%s.XXXXXX", name);
	assert_non_null(mkdtemp(env->dir));
	snprintf(env->path, sizeof env->path, "%s/j.db", env->dir);
	env->j = journal_open(env->path, &e);
	assert_non_null(env->j);
	env->loop = loop_new(&e);
	assert_non_null(env->loop);
	env->reaper = proc_reaper_new(env->loop, &e);
	assert_non_null(env->reaper);
	fake_reset();
}

void engine_env_close(struct engine_env *env, struct run *run, struct runbook *rb)
{
	char cmd[160];
	run_free(run);
	runbook_free(rb);
	proc_reaper_free(env->reaper);
	loop_free(env->loop);
	journal_close(env->j);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", env->dir);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(fake_stats.running, 0);
}
