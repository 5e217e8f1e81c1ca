/* The velero executor held to actions/action.h with a CLI of our own (a
 * shell script): done exactly once and never from inside start or cancel,
 * the outcome from the phase and not the exit code, progress on polls,
 * the logs after a separator, free from inside an output callback, cancel
 * between two polls, and no process left behind. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/action.h"
#include "util/clock.h"

#define LIMIT_MS 30000

/* The fake CLI: a restore that is InProgress for two polls, then
 * PartiallyFailed, with `create` exiting 0 as `--wait` does. */
static const char fake_cli[] =
	"#!/bin/sh\n"
	"d=$(dirname \"$0\")\n"
	"case \"$1 $2\" in\n"
	"'restore create') echo 'Restore request \"rx\" submitted successfully.'; exit 0 ;;\n"
	"'restore get')\n"
	"  n=$(($(cat \"$d/polls\" 2>/dev/null || echo 0) + 1)); echo $n >\"$d/polls\"\n"
	"  if [ \"$n\" -lt 3 ]; then p=InProgress; else p=PartiallyFailed; fi\n"
	"  echo \"{\\\"kind\\\":\\\"Restore\\\",\\\"metadata\\\":{\\\"name\\\":\\\"rx\\\"},\\\"status\\\":{\\\"phase\\\":\\\"$p\\\","
	"\\\"errors\\\":2,\\\"progress\\\":{\\\"totalItems\\\":10,\\\"itemsRestored\\\":$((n * 3))}}}\" ;;\n"
	"'restore logs') echo 'level=error msg=\"it broke\"' ;;\n"
	"'backup get') echo '{\"kind\":\"BackupList\",\"items\":[{\"kind\":\"Backup\",\"metadata\":"
	"{\"name\":\"b1\",\"creationTimestamp\":\"2025-03-01T02:00:00Z\"},\"status\":{\"phase\":\"Completed\"}}]}' ;;\n"
	"'slow create') echo 'Restore request \"rx\" submitted successfully.'; exec sleep 30 ;;\n"
	"esac\n";

struct fx {
	struct loop *loop;
	struct proc_reaper *reaper;
	char dir[64];
	char cli[128];
	struct action_target target;
	struct action a;
	struct action_run *run;
	const struct action_entry *ent;
	/* what came back */
	int dones;
	bool in_start, in_cancel;
	bool done_inside;
	struct action_result res;
	cJSON *values;
	int progress;
	struct buf out;
	bool free_on_output;
	const char *pick_value;
};

static const char *lookup(void *arg, const char *name)
{
	struct fx *f = arg;
	return !strcmp(name, "BACKUP") ? f->pick_value : NULL;
}

static void on_output(void *arg, enum proc_stream s, const char *data, size_t len)
{
	struct fx *f = arg;
	(void)s;
	buf_add(&f->out, data, len);
	if (f->free_on_output && f->run) {
		f->ent->free(f->run);
		f->run = NULL;
	}
}

static void on_progress(void *arg, const cJSON *v)
{
	struct fx *f = arg;
	assert_non_null(cJSON_GetObjectItem(v, "phase"));
	f->progress++;
}

static void on_process(void *arg, pid_t pgid, uint64_t ticks)
{
	(void)arg;
	(void)pgid;
	(void)ticks;
}

static void on_done(void *arg, const struct action_result *res)
{
	struct fx *f = arg;
	f->dones++;
	f->done_inside = f->done_inside || f->in_start || f->in_cancel;
	f->res = *res;
	f->res.values = NULL;
	cJSON_Delete(f->values);
	f->values = res->values ? cJSON_Duplicate(res->values, 1) : NULL;
}

static int setup(void **state)
{
	struct fx *f = calloc(1, sizeof *f);
	struct err e;
	snprintf(f->dir, sizeof f->dir, "/tmp/qrh-velero-run.XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->cli, sizeof f->cli, "%s/velero", f->dir);
	FILE *fp = fopen(f->cli, "w");
	fputs(fake_cli, fp);
	fclose(fp);
	chmod(f->cli, 0755);
	f->loop = loop_new(&e);
	f->reaper = proc_reaper_new(f->loop, &e);
	f->target.kind = TARGET_KUBERNETES;
	f->target.binary = f->cli;
	f->target.context = "dr";
	f->target.namespace_ = "velero";
	buf_init(&f->out, BUF_UNLIMITED);
	f->ent = action_entry_for(ACTION_VELERO);
	action_init(&f->a, ACTION_VELERO);
	f->a.every_ms = 50;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	char cmd[128];
	if (f->run)
		f->ent->free(f->run);
	/* the reaper collects what free killed */
	int64_t end = clock_mono_ns() + (int64_t)LIMIT_MS * 1000000;
	while (proc_reaper_count(f->reaper) && clock_mono_ns() < end)
		loop_run_once(f->loop, 50);
	assert_int_equal(proc_reaper_count(f->reaper), 0);
	proc_reaper_free(f->reaper);
	loop_free(f->loop);
	action_release(&f->a);
	buf_release(&f->out);
	cJSON_Delete(f->values);
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static void words(struct fx *f, const char *line)
{
	char copy[256];
	snprintf(copy, sizeof copy, "%s", line);
	for (char *t = strtok(copy, " "); t; t = strtok(NULL, " "))
		strv_push(&f->a.argv, t);
}

static void start(struct fx *f)
{
	struct err e = { "" };
	struct action_ctx ctx = {
		.loop = f->loop,
		.reaper = f->reaper,
		.target = &f->target,
		.grace_ms = 1000,
		.lookup = lookup,
		.lookup_arg = f,
		.sink = { .output = on_output, .progress = on_progress,
			  .process = on_process, .done = on_done, .arg = f },
	};
	f->in_start = true;
	f->run = f->ent->start(&f->a, &ctx, &e);
	f->in_start = false;
	if (!f->run)
		fail_msg("start: %s", e.msg);
}

static void run_until(struct fx *f, bool (*cond)(struct fx *))
{
	int64_t end = clock_mono_ns() + (int64_t)LIMIT_MS * 1000000;
	while (!cond(f)) {
		if (clock_mono_ns() > end)
			fail_msg("timed out; output so far:\n%s", f->out.data);
		loop_run_once(f->loop, 50);
	}
}

static bool is_done(struct fx *f)
{
	return f->dones > 0;
}

static void test_follow_to_partially_failed(void **state)
{
	struct fx *f = *state;
	words(f, "restore create --from-backup b1 --wait");
	start(f);
	run_until(f, is_done);
	/* a moment more: nothing may follow done */
	for (int i = 0; i < 5; i++)
		loop_run_once(f->loop, 20);
	assert_int_equal(f->dones, 1);
	assert_false(f->done_inside);
	assert_int_equal(f->res.status, ACTION_FAILED);
	assert_int_equal(f->res.exit_code, 0); /* the CLI said 0; the phase decides */
	assert_string_equal(f->res.summary, "restore rx PartiallyFailed: 9 of 10 items restored, 0 warnings, 2 errors");
	assert_true(f->progress >= 3);
	assert_string_equal(cJSON_GetObjectItem(f->values, "phase")->valuestring, "PartiallyFailed");
	assert_int_equal(cJSON_GetObjectItem(f->values, "polls")->valueint, 3);
	assert_string_equal(cJSON_GetObjectItem(f->values, "logs")->valuestring, "attached");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f->values, "partial")));
	assert_non_null(strstr(f->out.data, "qrh: restore rx InProgress: 3 of 10 items"));
	assert_non_null(strstr(f->out.data, "--- velero restore logs rx ---\nlevel=error"));
	f->ent->free(f->run);
	f->run = NULL;
}

static void test_accept_partial(void **state)
{
	struct fx *f = *state;
	words(f, "restore create --from-backup b1");
	f->a.accept = strdup("Completed,PartiallyFailed");
	start(f);
	run_until(f, is_done);
	assert_int_equal(f->res.status, ACTION_OK);
	assert_non_null(strstr(f->res.summary, "PartiallyFailed (accepted)"));
}

static void test_free_inside_output(void **state)
{
	struct fx *f = *state;
	words(f, "restore create --from-backup b1");
	f->free_on_output = true;
	start(f);
	/* the first output frees the run; nothing may come after */
	int64_t end = clock_mono_ns() + 2000LL * 1000000;
	while (clock_mono_ns() < end)
		loop_run_once(f->loop, 20);
	assert_null(f->run);
	assert_int_equal(f->dones, 0);
}

static bool polled(struct fx *f)
{
	return f->progress > 0;
}

static void test_cancel_between_polls(void **state)
{
	struct fx *f = *state;
	words(f, "restore create --from-backup b1");
	f->a.every_ms = 10000; /* the second poll is far away */
	start(f);
	run_until(f, polled);
	/* the create has exited, the first poll is read: only a timer is left */
	for (int i = 0; i < 10; i++)
		loop_run_once(f->loop, 20);
	f->in_cancel = true;
	f->ent->cancel(f->run, ACTION_CANCEL_TIMEOUT);
	f->ent->cancel(f->run, ACTION_CANCEL_OPERATOR);
	f->in_cancel = false;
	assert_int_equal(f->dones, 0);
	run_until(f, is_done);
	assert_int_equal(f->dones, 1);
	assert_false(f->done_inside);
	assert_int_equal(f->res.status, ACTION_CANCELLED);
	assert_string_equal(f->res.summary,
			    "timed out following restore rx (last phase InProgress); it goes on in the cluster");
}

static void test_cancel_the_cli(void **state)
{
	struct fx *f = *state;
	words(f, "slow create");
	start(f);
	f->in_cancel = true;
	f->ent->cancel(f->run, ACTION_CANCEL_OPERATOR);
	f->in_cancel = false;
	run_until(f, is_done);
	assert_false(f->done_inside);
	assert_int_equal(f->res.status, ACTION_CANCELLED);
}

static void test_pick(void **state)
{
	struct fx *f = *state;
	words(f, "backup get -o json");
	f->a.pick = strdup("BACKUP");
	f->pick_value = "b1";
	start(f);
	run_until(f, is_done);
	assert_int_equal(f->res.status, ACTION_OK);
	assert_string_equal(f->res.summary, "BACKUP=b1, a Completed backup of 2025-03-01T02:00:00Z");
	cJSON *c = cJSON_GetObjectItem(f->values, "choices");
	assert_int_equal(cJSON_GetArraySize(c), 1);
	cJSON *pick = cJSON_GetObjectItem(f->values, "pick");
	assert_string_equal(cJSON_GetObjectItem(pick, "variable")->valuestring, "BACKUP");
	assert_string_equal(cJSON_GetObjectItem(pick, "value")->valuestring, "b1");
}

static void test_pick_refused_and_open(void **state)
{
	struct fx *f = *state;
	words(f, "backup get -o json");
	f->a.pick = strdup("BACKUP");
	f->pick_value = "b2";
	start(f);
	run_until(f, is_done);
	assert_int_equal(f->res.status, ACTION_FAILED);
	assert_string_equal(f->res.summary, "BACKUP=b2 is not one of the 1 backups listed");
	f->ent->free(f->run);
	f->run = NULL;
	f->dones = 0;
	f->pick_value = NULL;
	start(f);
	run_until(f, is_done);
	assert_int_equal(f->res.status, ACTION_OK);
	assert_string_equal(f->res.summary, "1 backup listed; pick one into BACKUP");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(f->values, "pick"), "value")));
}

static void test_describe(void **state)
{
	struct fx *f = *state;
	struct buf b;
	struct err e;
	words(f, "restore create r9 --from-backup ${BACKUP}");
	f->pick_value = "b1";
	buf_init(&b, BUF_UNLIMITED);
	assert_int_equal(f->ent->describe(&f->a, &f->target, lookup, f, &b, &e), 0);
	char want[1024];
	snprintf(want, sizeof want,
		 "%s restore create r9 --from-backup b1 --kubecontext dr -n velero\n"
		 "then every 50ms: %s restore get r9 -o json --kubecontext dr -n velero\n"
		 "until the phase is terminal (success: Completed); then %s restore logs r9 --kubecontext dr -n velero",
		 f->cli, f->cli, f->cli);
	assert_string_equal(b.data, want);
	buf_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_follow_to_partially_failed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_partial, setup, teardown),
		cmocka_unit_test_setup_teardown(test_free_inside_output, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_between_polls, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cancel_the_cli, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pick_refused_and_open, setup, teardown),
		cmocka_unit_test_setup_teardown(test_describe, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
