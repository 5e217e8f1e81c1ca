/* bench/tasks: many concurrent tasks through the engine. One step fans a
 * scripted action (tests/unit/fake_action.h) out over N members at once;
 * each member prints B bytes in 16 KiB chunks, which the engine redacts
 * (no secrets: passed through), journals under its task (head kept, SHA-256
 * of all) and hands to a listener that drops it. Prints wall time,
 * throughput and qrh's peak RSS against the RSS before the run.
 * Usage: build/bench/tasks [N [BYTES]]   (default 1000 tasks, 1 MiB each) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "runbooks/load.h"
#include "state/run.h"
#include "tests/unit/fake_action.h"
#include "util/buf.h"
#include "util/clock.h"

static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long v = -1;
	while (f && fgets(line, sizeof line, f))
		if (!strncmp(line, "VmHWM:", 6))
			v = atol(line + 6);
	if (f)
		fclose(f);
	return v;
}

static void on_output(void *arg, const struct run_chunk *c)
{
	*(long long *)arg += (long long)c->len;
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1000;
	long long bytes = argc > 2 ? atoll(argv[2]) : 1 << 20;
	char dir[] = "/tmp/qrh-bench-tasks.XXXXXX", path[96];
	struct err e;
	struct buf md;
	if (n < 1 || n > QRH_MAX_PARALLEL || !mkdtemp(dir))
		return 2;
	snprintf(path, sizeof path, "%s/j.db", dir);
	/* a fleet is a host list: members_file */
	char hosts[96];
	snprintf(hosts, sizeof hosts, "%s/hosts", dir);
	FILE *hf = fopen(hosts, "we");
	if (!hf)
		return 2;
	for (int i = 0; i < n; i++)
		fprintf(hf, "host-%d\n", i);
	fclose(hf);
	buf_init(&md, BUF_UNLIMITED);
	buf_addf(&md, "---\ntargets:\n  all: {kind: group, members_file: %s}\n---\n"
		 "## Fan out {confirm=no}\n```sh {target=all parallel=%d}\nbytes %lld\n```\n",
		 hosts, n, bytes);
	struct diags d;
	diags_init(&d);
	struct runbook *rb = runbook_load_buffer("bench.md", md.data, md.len, RUNBOOK_MARKDOWN, &d);
	if (!rb || d.n_errors) {
		fprintf(stderr, "bench: the runbook does not load: %s\n", d.n ? d.v[0].msg : "?");
		return 1;
	}
	struct journal *j = journal_open(path, &e);
	struct loop *l = loop_new(&e);
	struct proc_reaper *reaper = proc_reaper_new(l, &e);
	struct run_opts o = { .operator_name = "bench", .os_user = "bench", .host = "h",
			      .entries = fake_entries };
	struct run *r = run_new(rb, &o);
	long long seen = 0;
	struct run_listener lis = { .output = on_output, .arg = &seen };
	if (!j || !reaper || run_open(r, j, l, reaper, &lis, &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return 1;
	}
	long before = rss_kib();
	int64_t t0 = clock_mono_ns();
	if (run_step_begin(r, 0, "auto", &e) < 0) {
		fprintf(stderr, "bench: %s\n", e.msg);
		return 1;
	}
	while (run_step_active(r))
		loop_run_once(l, 100);
	double secs = (double)(clock_mono_ns() - t0) / 1e9;
	long peak = rss_kib();
	const char *status = step_status_name(run_step(r, 0)->status);
	run_end(r, "ok", false, &e);
	run_free(r);
	proc_reaper_free(reaper);
	loop_free(l);
	journal_close(j);
	runbook_free(rb);
	buf_release(&md);
	diags_release(&d);
	printf("tasks at once           %d (fake actions, one fan-out step: %s; %d started, most at once %d)\n",
	       n, status, fake_stats.started, fake_stats.max_running);
	printf("output                  %lld bytes each, %.1f MiB in all (%.1f MiB seen by the listener)\n",
	       bytes, (double)bytes * n / 1048576, (double)seen / 1048576);
	printf("wall time               %.2f s, %.0f MiB/s journaled (head kept, SHA-256 of every byte)\n",
	       secs, (double)bytes * n / 1048576 / secs);
	printf("peak RSS (VmHWM)        %.1f MiB; %.1f MiB before the step (goal < 64 MiB)\n",
	       peak / 1024.0, before / 1024.0);
	char cmd[128];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 && fake_stats.started == n && seen == bytes * n ? 0 : 1;
}
