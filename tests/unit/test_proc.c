/* Tests for actions/proc with real processes only. After every test the
 * fixture checks that no process of any spawned group is left and that we
 * hold no zombie. Waits have generous upper bounds; nothing asserts speed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "actions/proc.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/loop.h"
#include "util/sha256.h"

#define PT_LIMIT_MS 30000		/* a test that takes this long has hung */
#define PT_GROUP_GONE_MS 10000		/* init may take a while to reap orphans */
#define PT_CAPTURE_MAX (1024 * 1024)
#define PT_MAX_PIDS 16
/* Upper bounds on a kill or a finish only tell "it happened" from "it
 * waited for the child's own 30 s sleep", so they leave a loaded sanitizer
 * build seconds of slack: a slow machine must not fail them. */
#define PT_SLACK_MS 8000
#define MS 1000000LL

/* ---- fixture ---- */

struct pt {
	struct loop *loop;
	struct proc_reaper *r;
	pid_t pids[PT_MAX_PIDS];	/* every group spawned, checked at teardown */
	size_t npids;
};

/* One process being run and what came back from it. */
struct pt_run {
	struct pt *t;
	struct proc *p;
	bool done;
	struct proc_result res;
	int64_t spawned_ns, done_ns;
	struct buf out, err;		/* captured up to PT_CAPTURE_MAX */
	size_t total[3];		/* by stream */
	size_t max_chunk;
	size_t chunks;
	struct sha256 *hash[3];		/* optional, by stream */
	bool pause_on_first;
	bool free_on_output;
	bool free_on_exit;
	int exits;
};

static int pt_setup(void **state)
{
	struct pt *t = calloc(1, sizeof *t);
	struct err e;
	t->loop = loop_new(&e);
	t->r = proc_reaper_new(t->loop, &e);
	if (!t->r)
		return -1;
	*state = t;
	return 0;
}

/* How many processes of group pgid are alive (not zombies), from /proc. */
static int pt_group_live(pid_t pgid)
{
	DIR *d = opendir("/proc");
	assert_non_null(d);
	int live = 0;
	struct dirent *de;
	while ((de = readdir(d))) {
		char path[300], line[512];
		if (de->d_name[0] < '0' || de->d_name[0] > '9')
			continue;
		snprintf(path, sizeof path, "/proc/%s/stat", de->d_name);
		FILE *f = fopen(path, "r");
		if (!f)
			continue;
		char *rp = fgets(line, sizeof line, f) ? strrchr(line, ')') : NULL;
		fclose(f);
		char state;
		int ppid, pg;
		if (rp && sscanf(rp + 1, " %c %d %d", &state, &ppid, &pg) == 3 &&
		    pg == pgid && state != 'Z')
			live++;
	}
	closedir(d);
	return live;
}

/* Wait, boundedly, until kill(-pgid, 0) says the group is empty. A killed
 * grandchild is reparented to init and stays a group member (a zombie)
 * until init reaps it, which can take a moment, or forever where init
 * does not reap: then it is enough that no member is still alive. */
static void pt_assert_group_gone(pid_t pgid)
{
	int64_t end = clock_mono_ns() + PT_GROUP_GONE_MS * MS;
	while (kill(-pgid, 0) == 0) {
		if (clock_mono_ns() > end) {
			assert_int_equal(pt_group_live(pgid), 0);
			return;
		}
		usleep(20000);
	}
	assert_int_equal(errno, ESRCH);
}

static void pt_assert_no_zombie(void)
{
	int rc = waitpid(-1, NULL, WNOHANG);
	if (rc < 0)
		assert_int_equal(errno, ECHILD);
	else
		assert_int_equal(rc, 0);
}

static int pt_teardown(void **state)
{
	struct pt *t = *state;
	assert_int_equal(proc_reaper_count(t->r), 0);
	proc_reaper_free(t->r);
	loop_free(t->loop);
	for (size_t i = 0; i < t->npids; i++)
		pt_assert_group_gone(t->pids[i]);
	pt_assert_no_zombie();
	free(t);
	return 0;
}

/* ---- running ---- */

static void pt_on_output(struct proc *p, enum proc_stream s, const char *data,
			 size_t len, void *arg)
{
	struct pt_run *run = arg;
	assert_ptr_equal(p, run->p);
	assert_false(run->done);
	assert_true(len > 0 && len <= PROC_READ_MAX);
	run->total[s] += len;
	run->chunks++;
	if (len > run->max_chunk)
		run->max_chunk = len;
	buf_add(s == PROC_STDOUT ? &run->out : &run->err, data, len);
	if (run->hash[s])
		sha256_update(run->hash[s], data, len);
	if (run->pause_on_first) {
		run->pause_on_first = false;
		proc_pause_output(p, true);
	}
	if (run->free_on_output) {
		proc_free(p);
		run->p = NULL;
		run->free_on_output = false;
		run->done = true;
	}
}

static void pt_on_exit(struct proc *p, const struct proc_result *res,
		       void *arg)
{
	struct pt_run *run = arg;
	assert_ptr_equal(p, run->p);
	assert_true(proc_finished(p));
	run->exits++;
	run->res = *res;
	run->done = true;
	run->done_ns = clock_mono_ns();
	if (run->free_on_exit) {
		proc_free(p);
		run->p = NULL;
	}
}

static void pt_run_init(struct pt_run *run, struct pt *t)
{
	memset(run, 0, sizeof *run);
	run->t = t;
	buf_init(&run->out, PT_CAPTURE_MAX);
	buf_init(&run->err, PT_CAPTURE_MAX);
}

static void pt_run_release(struct pt_run *run)
{
	proc_free(run->p);
	run->p = NULL;
	buf_release(&run->out);
	buf_release(&run->err);
}

/* Spawn with the fixture's callbacks; NULL and the message on failure. */
static struct proc *pt_try_spawn(struct pt_run *run, struct proc_spec spec,
				 struct err *e)
{
	spec.on_output = pt_on_output;
	spec.on_exit = pt_on_exit;
	spec.arg = run;
	run->spawned_ns = clock_mono_ns();
	run->p = proc_spawn(run->t->r, &spec, e);
	if (run->p && run->t->npids < PT_MAX_PIDS)
		run->t->pids[run->t->npids++] = proc_pid(run->p);
	return run->p;
}

static void pt_spawn(struct pt_run *run, struct proc_spec spec)
{
	struct err e = { "" };
	if (!pt_try_spawn(run, spec, &e))
		fail_msg("spawn failed: %s", e.msg);
}

/* Run passes until `flag`, failing after a limit that only a hang reaches. */
static void pt_loop_until(struct pt *t, const bool *flag)
{
	int64_t end = clock_mono_ns() + PT_LIMIT_MS * MS;
	while (!*flag) {
		if (clock_mono_ns() > end)
			fail_msg("process did not finish within %d ms",
				 PT_LIMIT_MS);
		assert_int_not_equal(loop_run_once(t->loop, 100), -1);
	}
}

static void pt_loop_for(struct pt *t, int ms)
{
	int64_t end = clock_mono_ns() + ms * MS;
	while (clock_mono_ns() < end)
		assert_int_not_equal(loop_run_once(t->loop, 10), -1);
}

static void pt_wait(struct pt_run *run)
{
	pt_loop_until(run->t, &run->done);
	assert_int_equal(run->exits, 1);
}

/* Spawn argv, wait for the end, and keep the result in run. */
static void pt_run_argv(struct pt_run *run, const char *const *argv)
{
	pt_spawn(run, (struct proc_spec){ .argv = argv });
	pt_wait(run);
}

static void pt_assert_out(const struct buf *b, const char *want, size_t len)
{
	assert_int_equal(b->len, len);
	assert_memory_equal(b->data, want, len);
}

#define PT_ASSERT_OUT(b, lit) pt_assert_out((b), (lit), sizeof(lit) - 1)

/* ---- exit status ---- */

static void test_proc_exit_codes(void **state)
{
	static const struct {
		const char *script;
		int code;
	} cases[] = {
		{ "exit 0", 0 },
		{ "exit 1", 1 },
		{ "exit 42", 42 },
		{ "exit 255", 255 },
		{ "true", 0 },
		{ "false", 1 },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pt_run run;
		pt_run_init(&run, *state);
		const char *argv[] = { "sh", "-c", cases[i].script, NULL };
		pt_run_argv(&run, argv);
		assert_int_equal(run.res.exit_code, cases[i].code);
		assert_int_equal(run.res.signo, 0);
		assert_false(run.res.timed_out);
		assert_false(run.res.cancelled);
		assert_false(run.res.pipes_held);
		assert_true(run.res.duration_ns > 0);
		pt_run_release(&run);
	}
}

/* Death by signal is reported as the signal. SIGINT is ignored in the
 * parent meanwhile: the child must still die of it (handlers reset). */
static void test_proc_signal_death(void **state)
{
	static const struct {
		const char *script;
		int signo;
	} cases[] = {
		{ "kill -KILL $$", SIGKILL },
		{ "kill -TERM $$", SIGTERM },
		{ "kill -INT $$; exit 3", SIGINT },
		{ "kill -PIPE $$; exit 3", SIGPIPE },
	};
	struct sigaction ign, old_int, old_pipe;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigaction(SIGPIPE, &ign, &old_pipe);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pt_run run;
		pt_run_init(&run, *state);
		const char *argv[] = { "sh", "-c", cases[i].script, NULL };
		pt_run_argv(&run, argv);
		assert_int_equal(run.res.signo, cases[i].signo);
		assert_int_equal(run.res.exit_code, -1);
		pt_run_release(&run);
	}
	sigaction(SIGINT, &old_int, NULL);
	sigaction(SIGPIPE, &old_pipe, NULL);
}

/* Several processes alive at once: each exit reaches its own proc. */
static void test_proc_concurrent(void **state)
{
	struct pt *t = *state;
	static const char *const scripts[] = {
		"sleep 0.3; printf a; exit 3",
		"printf b; exit 4",
		"sleep 0.1; printf c; exit 5",
		"sleep 0.2; printf d; kill -TERM $$",
		"printf e >&2; exit 6",
	};
	enum { N = sizeof scripts / sizeof scripts[0] };
	struct pt_run runs[N];
	for (size_t i = 0; i < N; i++) {
		pt_run_init(&runs[i], t);
		const char *argv[] = { "sh", "-c", scripts[i], NULL };
		pt_spawn(&runs[i], (struct proc_spec){ .argv = argv });
	}
	assert_int_equal(proc_reaper_count(t->r), N);
	for (size_t i = 0; i < N; i++)
		pt_wait(&runs[i]);
	assert_int_equal(runs[0].res.exit_code, 3);
	PT_ASSERT_OUT(&runs[0].out, "a");
	assert_int_equal(runs[1].res.exit_code, 4);
	PT_ASSERT_OUT(&runs[1].out, "b");
	assert_int_equal(runs[2].res.exit_code, 5);
	PT_ASSERT_OUT(&runs[2].out, "c");
	assert_int_equal(runs[3].res.signo, SIGTERM);
	PT_ASSERT_OUT(&runs[3].out, "d");
	assert_int_equal(runs[4].res.exit_code, 6);
	PT_ASSERT_OUT(&runs[4].err, "e");
	assert_int_equal(runs[4].out.len, 0);
	assert_int_equal(proc_reaper_count(t->r), 0);
	for (size_t i = 0; i < N; i++)
		pt_run_release(&runs[i]);
}

/* ---- output ---- */

/* stdout and stderr arrive apart and byte-exact, binary included. */
static void test_proc_streams_apart(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = {
		"sh", "-c",
		"printf 'o1\\n'; printf 'e1\\n' >&2; printf 'o2\\000x\\377';"
		" printf 'e2\\r' >&2",
		NULL,
	};
	pt_run_argv(&run, argv);
	assert_int_equal(run.res.exit_code, 0);
	PT_ASSERT_OUT(&run.out, "o1\no2\0x\377");
	PT_ASSERT_OUT(&run.err, "e1\ne2\r");
	pt_run_release(&run);
}

/* SHA-256 of `len` bytes of `unit` repeated. */
static void pt_pattern_sha(const char *unit, size_t len,
			   char hex[SHA256_HEX_LEN + 1])
{
	size_t ul = strlen(unit), reps = 4096;
	char *block = malloc(ul * reps);
	for (size_t i = 0; i < reps; i++)
		memcpy(block + i * ul, unit, ul);
	struct sha256 *h = sha256_new();
	while (len) {
		size_t n = len < ul * reps ? len : ul * reps;
		sha256_update(h, block, n);
		len -= n;
	}
	sha256_finish_hex(h, hex);
	free(block);
}

/* 50 MB on stdout and 1 MB on stderr at the same time, checked by size
 * and SHA-256; chunks never exceed one read. */
static void test_proc_big_stream(void **state)
{
	const size_t out_len = 50u * 1024 * 1024, err_len = 1000000;
	struct pt_run run;
	pt_run_init(&run, *state);
	run.hash[PROC_STDOUT] = sha256_new();
	run.hash[PROC_STDERR] = sha256_new();
	const char *argv[] = {
		"sh", "-c",
		"(yes e | head -c 1000000 >&2) &"
		" yes 0123456789abcdef | head -c 52428800; wait",
		NULL,
	};
	pt_run_argv(&run, argv);
	assert_int_equal(run.res.exit_code, 0);
	assert_int_equal(run.total[PROC_STDOUT], out_len);
	assert_int_equal(run.total[PROC_STDERR], err_len);
	assert_true(run.max_chunk <= PROC_READ_MAX);

	char got[SHA256_HEX_LEN + 1], want[SHA256_HEX_LEN + 1];
	sha256_finish_hex(run.hash[PROC_STDOUT], got);
	pt_pattern_sha("0123456789abcdef\n", out_len, want);
	assert_string_equal(got, want);
	sha256_finish_hex(run.hash[PROC_STDERR], got);
	pt_pattern_sha("e\n", err_len, want);
	assert_string_equal(got, want);
	pt_run_release(&run);
}

/* Paused output is not read (so the child blocks and cannot finish), and
 * resuming delivers every byte. */
static void test_proc_pause_output(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	run.pause_on_first = true;
	const char *argv[] = { "head", "-c", "1000000", "/dev/zero", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv });
	int64_t end = clock_mono_ns() + PT_LIMIT_MS * MS;
	while (run.chunks == 0) {
		assert_true(clock_mono_ns() < end);
		loop_run_once(t->loop, 100);
	}
	size_t seen = run.total[PROC_STDOUT];
	pt_loop_for(t, 300);
	assert_int_equal(run.total[PROC_STDOUT], seen);
	assert_false(run.done);
	proc_pause_output(run.p, false);
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	assert_int_equal(run.total[PROC_STDOUT], 1000000);
	pt_run_release(&run);
}

/* Output paused past grace_ms after the child exited is not thrown away:
 * the grace period for the pipes counts only while we are reading. */
static void test_proc_pause_past_exit(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	run.pause_on_first = true;
	const char *argv[] = {
		"sh", "-c", "printf a; sleep 0.1; printf bbbb; exit 4", NULL,
	};
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .grace_ms = 200 });
	int64_t end = clock_mono_ns() + PT_LIMIT_MS * MS;
	while (run.chunks == 0) {
		assert_true(clock_mono_ns() < end);
		loop_run_once(t->loop, 100);
	}
	pt_loop_for(t, 800);
	assert_false(run.done);
	proc_pause_output(run.p, false);
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 4);
	assert_false(run.res.pipes_held);
	PT_ASSERT_OUT(&run.out, "abbbb");
	pt_run_release(&run);
}

/* ---- what reaches the child ---- */

/* The file a hostile value would create if anything ever ran it. */
static void pt_pwned_path(char path[64])
{
	snprintf(path, 64, "/tmp/pwned-%d", (int)getpid());
	unlink(path);
}

static void pt_assert_not_pwned(const char *path)
{
	assert_int_equal(access(path, F_OK), -1);
	assert_int_equal(errno, ENOENT);
}

/* argv arrives as exact bytes, hostile values included, with and without
 * a shell in between, and nothing in it is ever executed. */
static void test_proc_argv_exact(void **state)
{
	char pwned[64];
	pt_pwned_path(pwned);
	char subst[128], backq[128], semi[128], quoted[128];
	snprintf(subst, sizeof subst, "$(touch %s)", pwned);
	snprintf(backq, sizeof backq, "`touch %s`", pwned);
	snprintf(semi, sizeof semi, "; touch %s", pwned);
	snprintf(quoted, sizeof quoted, "'; touch %s; '\"", pwned);
	const char *hostile[] = {
		subst, backq, semi, quoted, "\"double\" 'single'",
		"line1\nline2", "a;b|c&d>e", "-rf", "--", "-n", "--version",
		"", "  spaced  ", "*", "\\", "$HOME", "\t\r\x1b[2J",
		"\xe2\x80\xae bidi", "%s%n", NULL,
	};
	static const char *const launchers[][4] = {
		{ "printf", "%s\\0", NULL, NULL },
		{ "sh", "-c", "printf '%s\\0' \"$@\"", "sh" },
	};
	struct buf want;
	buf_init(&want, BUF_UNLIMITED);
	for (size_t i = 0; hostile[i]; i++)
		buf_add(&want, hostile[i], strlen(hostile[i]) + 1);
	for (size_t l = 0; l < 2; l++) {
		const char *argv[32];
		size_t n = 0;
		for (size_t k = 0; k < 4 && launchers[l][k]; k++)
			argv[n++] = launchers[l][k];
		for (size_t i = 0; hostile[i]; i++)
			argv[n++] = hostile[i];
		argv[n] = NULL;
		struct pt_run run;
		pt_run_init(&run, *state);
		pt_run_argv(&run, argv);
		assert_int_equal(run.res.exit_code, 0);
		pt_assert_out(&run.out, want.data, want.len);
		assert_int_equal(run.err.len, 0);
		pt_run_release(&run);
	}
	buf_release(&want);
	pt_assert_not_pwned(pwned);
}

/* Find "NAME=" in NUL-separated `env -0` output; count of matches. */
static int pt_env_lookup(const struct buf *b, const char *name,
			 const char **value)
{
	int found = 0;
	size_t nl = strlen(name);
	for (const char *s = b->data; s < b->data + b->len; s += strlen(s) + 1) {
		if (!strncmp(s, name, nl) && s[nl] == '=') {
			*value = s + nl + 1;
			found++;
		}
	}
	return found;
}

/* Extra variables are added, override inherited ones (the last setting
 * wins), keep exact bytes, and inherited ones stay. */
static void test_proc_env(void **state)
{
	char pwned[64];
	pt_pwned_path(pwned);
	char hostile[128];
	snprintf(hostile, sizeof hostile, "QRH_T_EVIL=$(touch %s)", pwned);
	setenv("QRH_T_INHERITED", "yes", 1);
	setenv("QRH_T_OVERRIDE", "old", 1);
	const char *env[] = {
		"QRH_T_A=first", "QRH_T_OVERRIDE=new", hostile,
		"QRH_T_NL=a\nb=c", "QRH_T_EMPTY=", "QRH_T_A=last", NULL,
	};
	static const struct {
		const char *name, *value;
	} want[] = {
		{ "QRH_T_A", "last" },
		{ "QRH_T_OVERRIDE", "new" },
		{ "QRH_T_INHERITED", "yes" },
		{ "QRH_T_NL", "a\nb=c" },
		{ "QRH_T_EMPTY", "" },
	};
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "env", "-0", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .env = env });
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
		const char *v = NULL;
		assert_int_equal(pt_env_lookup(&run.out, want[i].name, &v), 1);
		assert_string_equal(v, want[i].value);
	}
	const char *v = NULL;
	assert_int_equal(pt_env_lookup(&run.out, "QRH_T_EVIL", &v), 1);
	assert_string_equal(v, hostile + strlen("QRH_T_EVIL="));
	pt_run_release(&run);
	unsetenv("QRH_T_INHERITED");
	unsetenv("QRH_T_OVERRIDE");
	pt_assert_not_pwned(pwned);
}

/* cwd is honoured; a missing one is a spawn error naming it. */
static void test_proc_cwd(void **state)
{
	char dir[] = "/tmp/qrh-proc-cwd-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char real[PATH_MAX];
	assert_non_null(realpath(dir, real));
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "pwd", "-P", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .cwd = dir });
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	assert_int_equal(run.out.len, strlen(real) + 1);
	assert_memory_equal(run.out.data, real, strlen(real));
	pt_run_release(&run);
	assert_int_equal(rmdir(dir), 0);

	pt_run_init(&run, *state);
	struct err e = { "" };
	assert_null(pt_try_spawn(&run, (struct proc_spec){ .argv = argv, .cwd = dir }, &e));
	char want[256];
	snprintf(want, sizeof want, "cannot run 'pwd' in '%s': %s", dir,
		 strerror(ENOENT));
	assert_string_equal(e.msg, want);
	pt_run_release(&run);
	pt_assert_no_zombie();
}

/* Failing to start is a clear error from proc_spawn, and leaves nothing. */
static void test_proc_spawn_errors(void **state)
{
	struct pt *t = *state;
	static const char *const noeq_env[] = { "NOEQUALS", NULL };
	static const char *const noname_env[] = { "=x", NULL };
	static const struct {
		const char *argv0;
		const char *const *env;
		const char *want;
	} cases[] = {
		{ "qrh-no-such-binary-xyz", NULL,
		  "cannot run 'qrh-no-such-binary-xyz': No such file or directory" },
		{ "/nonexistent/qrh-bin", NULL,
		  "cannot run '/nonexistent/qrh-bin': No such file or directory" },
		{ "/etc/passwd", NULL,
		  "cannot run '/etc/passwd': Permission denied" },
		{ "/tmp", NULL, "cannot run '/tmp': Permission denied" },
		{ "", NULL, "cannot run an empty command" },
		{ "true", noeq_env,
		  "cannot run 'true': bad environment entry 'NOEQUALS' (want NAME=value)" },
		{ "true", noname_env,
		  "cannot run 'true': bad environment entry '=x' (want NAME=value)" },
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct pt_run run;
		pt_run_init(&run, t);
		const char *argv[] = { cases[i].argv0, NULL };
		struct err e = { "" };
		struct proc_spec spec = { .argv = argv, .env = cases[i].env };
		assert_null(pt_try_spawn(&run, spec, &e));
		assert_string_equal(e.msg, cases[i].want);
		assert_int_equal(proc_reaper_count(t->r), 0);
		pt_assert_no_zombie();
		pt_run_release(&run);
	}
	struct err e = { "" };
	struct proc_spec spec = { 0 };
	assert_null(proc_spawn(t->r, &spec, &e));
	assert_string_equal(e.msg, "cannot run an empty command");
}

/* Numbers of the open fds of process pid, in order. */
static size_t pt_fds_of(pid_t pid, int *fds, size_t max)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	DIR *d = opendir(path);
	assert_non_null(d);
	size_t n = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		if (de->d_name[0] != '.' && n < max)
			fds[n++] = atoi(de->d_name);
	closedir(d);
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && fds[j - 1] > fds[j]; j--) {
			int x = fds[j];
			fds[j] = fds[j - 1];
			fds[j - 1] = x;
		}
	return n;
}

static void pt_fd_target(pid_t pid, int fd, char *out, size_t size)
{
	char path[64];
	snprintf(path, sizeof path, "/proc/%d/fd/%d", (int)pid, fd);
	ssize_t n = readlink(path, out, size - 1);
	assert_true(n > 0);
	out[n] = '\0';
}

/* The hex mask on a "Name:\tmask" line of /proc/pid/status. */
static unsigned long long pt_status_mask(pid_t pid, const char *name)
{
	char path[64], line[256];
	snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	unsigned long long v = ~0ULL;
	size_t nl = strlen(name);
	while (fgets(line, sizeof line, f))
		if (!strncmp(line, name, nl) && line[nl] == ':')
			v = strtoull(line + nl + 1, NULL, 16);
	fclose(f);
	return v;
}

/* The child sees fds 0, 1, 2 only (/dev/null and two distinct pipes) even
 * when we hold fds without O_CLOEXEC; it leads its own session and group;
 * no signal is blocked or ignored in it. */
static void test_proc_child_isolation(void **state)
{
	struct pt *t = *state;
	int leak = open("/dev/null", O_RDONLY);
	int leak_pipe[2];
	assert_true(leak >= 0);
	assert_int_equal(pipe(leak_pipe), 0);
	struct sigaction ign, old_int;
	memset(&ign, 0, sizeof ign);
	ign.sa_handler = SIG_IGN;
	sigaction(SIGINT, &ign, &old_int);
	sigset_t usr1, old_mask;
	sigemptyset(&usr1);
	sigaddset(&usr1, SIGUSR1);
	sigprocmask(SIG_BLOCK, &usr1, &old_mask);

	struct pt_run run;
	pt_run_init(&run, t);
	const char *argv[] = { "sleep", "30", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv });
	pid_t pid = proc_pid(run.p);
	/* EOF on the status pipe comes from inside execve, a moment before the
	 * new image's signal state is final, and the kernel names the new
	 * image a moment before it closes the close-on-exec fds: wait until
	 * it is sleep with its three fds. The fds asserted are those of that
	 * look: a second look can catch sleep's own start-up (setlocale holds
	 * the locale archive open for a moment), which is not ours to judge. */
	int fds[16];
	size_t n = 0;
	for (int tries = 0; tries < 3000; tries++) {
		char comm[64] = "", path[64];
		snprintf(path, sizeof path, "/proc/%d/comm", (int)pid);
		FILE *f = fopen(path, "r");
		if (f) {
			if (!fgets(comm, sizeof comm, f))
				comm[0] = '\0';
			fclose(f);
		}
		if (!strcmp(comm, "sleep\n") && (n = pt_fds_of(pid, fds, 16)) == 3)
			break;
		usleep(10000);
	}
	assert_int_equal(n, 3);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fds[i], i);
	char t0[128], t1[128], t2[128];
	pt_fd_target(pid, 0, t0, sizeof t0);
	pt_fd_target(pid, 1, t1, sizeof t1);
	pt_fd_target(pid, 2, t2, sizeof t2);
	assert_string_equal(t0, "/dev/null");
	assert_memory_equal(t1, "pipe:[", 6);
	assert_memory_equal(t2, "pipe:[", 6);
	assert_string_not_equal(t1, t2);

	assert_int_equal(getsid(pid), pid);
	assert_int_equal(getpgid(pid), pid);
	assert_int_equal(pt_status_mask(pid, "SigBlk"), 0);
	assert_int_equal(pt_status_mask(pid, "SigIgn"), 0);

	proc_cancel(run.p);
	pt_wait(&run);
	assert_true(run.res.cancelled);
	pt_run_release(&run);
	sigprocmask(SIG_SETMASK, &old_mask, NULL);
	sigaction(SIGINT, &old_int, NULL);
	close(leak);
	close(leak_pipe[0]);
	close(leak_pipe[1]);
}

/* stdin is /dev/null: a reader sees EOF at once instead of our terminal. */
static void test_proc_stdin_null(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "sh", "-c", "cat; echo done", NULL };
	pt_run_argv(&run, argv);
	assert_int_equal(run.res.exit_code, 0);
	PT_ASSERT_OUT(&run.out, "done\n");
	pt_run_release(&run);
}

/* ---- timeout, cancel, stragglers ---- */

/* A child that ignores SIGTERM dies of SIGKILL at timeout + grace, not
 * before, and long before its own sleep would end. */
static void test_proc_timeout_term_ignored(void **state)
{
	const int64_t timeout = 300, grace = 700;
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "sh", "-c", "trap '' TERM; sleep 30", NULL };
	pt_spawn(&run, (struct proc_spec){
		.argv = argv, .timeout_ms = timeout, .grace_ms = grace });
	pt_wait(&run);
	int64_t took = run.done_ns - run.spawned_ns;
	assert_true(took >= (timeout + grace) * MS);
	assert_true(took <= (timeout + grace + PT_SLACK_MS) * MS);
	assert_true(run.res.duration_ns >= (timeout + grace) * MS);
	assert_true(run.res.duration_ns <= (timeout + grace + PT_SLACK_MS) * MS);
	assert_true(run.res.timed_out);
	assert_false(run.res.cancelled);
	assert_int_equal(run.res.signo, SIGKILL);
	assert_int_equal(run.res.exit_code, -1);
	pt_run_release(&run);
}

/* A child that obeys SIGTERM dies of it at the timeout. */
static void test_proc_timeout_term_obeyed(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "sleep", "30", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .timeout_ms = 200 });
	pt_wait(&run);
	assert_true(run.res.timed_out);
	assert_int_equal(run.res.signo, SIGTERM);
	assert_true(run.done_ns - run.spawned_ns >= 200 * MS);
	assert_true(run.done_ns - run.spawned_ns <= (200 + PT_SLACK_MS) * MS);
	pt_run_release(&run);
}

static void pt_on_cancel_timer(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct pt_run *run = arg;
	proc_cancel(run->p);
}

/* proc_cancel signals the whole group: the leader and both background
 * sleeps go, whoever holds the pipes. */
static void test_proc_cancel_group(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	const char *argv[] = {
		"sh", "-c", "sleep 30 & sleep 30 & echo started; wait", NULL,
	};
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .grace_ms = 500 });
	loop_timer_add(t->loop, 100, pt_on_cancel_timer, &run);
	pt_wait(&run);
	assert_true(run.res.cancelled);
	assert_false(run.res.timed_out);
	assert_int_equal(run.res.signo, SIGTERM);
	PT_ASSERT_OUT(&run.out, "started\n");
	assert_true(run.done_ns - run.spawned_ns <= (100 + 500 + PT_SLACK_MS) * MS);
	pt_run_release(&run);
}

/* A grandchild holding the pipes open delays the finish by grace_ms at
 * most; it is killed and the pipes closed. */
static void test_proc_grandchild_holds_pipes(void **state)
{
	const int64_t grace = 500;
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = { "sh", "-c", "sleep 30 & echo hi", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .grace_ms = grace });
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	assert_true(run.res.pipes_held);
	/* the sleep was in the group: it is named, and it was killed */
	assert_int_equal(run.res.n_held_running, 0);
	assert_int_equal(run.res.n_held_killed, 1);
	assert_true(run.res.held_killed[0] > 0);
	PT_ASSERT_OUT(&run.out, "hi\n");
	assert_true(run.done_ns - run.spawned_ns <= (grace + PT_SLACK_MS) * MS);
	/* The duration is the leader's, without the wait for the pipes. */
	assert_true(run.res.duration_ns + grace * MS <=
		    run.done_ns - run.spawned_ns);
	pt_run_release(&run);
}

/* A process that left the group (setsid) and holds the pipes is out of
 * reach of the group kill: the result says it was left running, with its
 * pid, and it really is still running. */
static void test_proc_holder_outside_group(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = {
		"sh", "-c", "setsid sleep 1013 & echo hi", NULL,
	};
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .grace_ms = 300 });
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	assert_true(run.res.pipes_held);
	assert_int_equal(run.res.n_held_killed, 0);
	assert_int_equal(run.res.n_held_running, 1);
	pid_t pid = run.res.held_running[0];
	char path[64], cmd[256] = "";
	snprintf(path, sizeof path, "/proc/%d/cmdline", (int)pid);
	FILE *f = fopen(path, "r");
	assert_non_null(f);
	size_t n = fread(cmd, 1, sizeof cmd - 1, f);
	fclose(f);
	for (size_t i = 0; i < n; i++)
		if (!cmd[i])
			cmd[i] = ' ';
	assert_non_null(strstr(cmd, "sleep 1013"));
	assert_int_equal(kill(pid, 0), 0);	/* still alive, as reported */
	kill(pid, SIGKILL);
	pt_run_release(&run);
}

/* A background process that let go of the pipes does not delay the
 * finish, and is killed with the group when the leader is reaped. */
static void test_proc_background_killed_at_finish(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = {
		"sh", "-c", "sleep 30 >/dev/null 2>&1 & echo hi", NULL,
	};
	pt_spawn(&run, (struct proc_spec){ .argv = argv, .grace_ms = 20000 });
	pt_wait(&run);
	assert_int_equal(run.res.exit_code, 0);
	assert_false(run.res.pipes_held);
	PT_ASSERT_OUT(&run.out, "hi\n");
	assert_true(run.done_ns - run.spawned_ns <= 10000 * MS);
	pt_run_release(&run);
}

/* The child closes its output early and keeps running: the finish waits
 * for the exit, in the other order from the usual one. */
static void test_proc_eof_before_exit(void **state)
{
	struct pt_run run;
	pt_run_init(&run, *state);
	const char *argv[] = {
		"sh", "-c", "echo bye; exec >&- 2>&-; sleep 0.3; exit 9", NULL,
	};
	pt_run_argv(&run, argv);
	assert_int_equal(run.res.exit_code, 9);
	assert_true(run.res.duration_ns >= 300 * MS);
	PT_ASSERT_OUT(&run.out, "bye\n");
	pt_run_release(&run);
}

/* ---- lifetime ---- */

static void pt_loop_until_reaped(struct pt *t)
{
	int64_t end = clock_mono_ns() + PT_LIMIT_MS * MS;
	while (proc_reaper_count(t->r)) {
		assert_true(clock_mono_ns() < end);
		assert_int_not_equal(loop_run_once(t->loop, 100), -1);
	}
}

/* Freeing a running proc kills its group; the reaper still collects the
 * exit, and no callback runs after the free. */
static void test_proc_free_running(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	const char *argv[] = { "sh", "-c", "sleep 30 & sleep 30", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv });
	proc_free(run.p);
	run.p = NULL;
	assert_int_equal(proc_reaper_count(t->r), 1);
	pt_loop_until_reaped(t);
	assert_int_equal(run.exits, 0);
	pt_run_release(&run);
}

/* proc_free from inside on_output, mid-stream, and from inside on_exit. */
static void test_proc_free_in_callbacks(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	run.free_on_output = true;
	const char *argv[] = { "yes", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv });
	pt_loop_until_reaped(t);
	assert_true(run.done);
	assert_int_equal(run.exits, 0);
	assert_int_equal(run.chunks, 1);
	pt_run_release(&run);

	pt_run_init(&run, t);
	run.free_on_exit = true;
	const char *argv2[] = { "sh", "-c", "echo x; exit 2", NULL };
	pt_run_argv(&run, argv2);
	assert_null(run.p);
	assert_int_equal(run.res.exit_code, 2);
	pt_run_release(&run);
}

/* Freeing the reaper with a proc still running kills and reaps it; the
 * proc is then finished and can still be freed. */
static void test_proc_reaper_free_kills(void **state)
{
	struct pt *t = *state;
	struct pt_run run;
	pt_run_init(&run, t);
	const char *argv[] = { "sleep", "30", NULL };
	pt_spawn(&run, (struct proc_spec){ .argv = argv });
	struct err e;
	proc_reaper_free(t->r);
	assert_true(proc_finished(run.p));
	assert_int_equal(run.exits, 0);
	pt_run_release(&run);
	t->r = proc_reaper_new(t->loop, &e);
	assert_non_null(t->r);
}

int main(void)
{
#define PT(name) cmocka_unit_test_setup_teardown(name, pt_setup, pt_teardown)
	const struct CMUnitTest tests[] = {
		PT(test_proc_exit_codes),
		PT(test_proc_signal_death),
		PT(test_proc_concurrent),
		PT(test_proc_streams_apart),
		PT(test_proc_big_stream),
		PT(test_proc_pause_output),
		PT(test_proc_pause_past_exit),
		PT(test_proc_argv_exact),
		PT(test_proc_env),
		PT(test_proc_cwd),
		PT(test_proc_spawn_errors),
		PT(test_proc_child_isolation),
		PT(test_proc_stdin_null),
		PT(test_proc_timeout_term_ignored),
		PT(test_proc_timeout_term_obeyed),
		PT(test_proc_cancel_group),
		PT(test_proc_grandchild_holds_pipes),
		PT(test_proc_holder_outside_group),
		PT(test_proc_background_killed_at_finish),
		PT(test_proc_eof_before_exit),
		PT(test_proc_free_running),
		PT(test_proc_free_in_callbacks),
		PT(test_proc_reaper_free_kills),
	};
#undef PT
	return cmocka_run_group_tests(tests, NULL, NULL);
}
