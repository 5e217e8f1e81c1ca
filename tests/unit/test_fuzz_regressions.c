/* test_fuzz_regressions: replays every input kept in tests/fuzz/regressions/
 * through the fuzzers' own code path (tests/fuzz/roundtrip.h), one test per
 * file, and checks the outcome written in its sidecar FILE.expect: the first
 * line is "ok" (loads without errors and converts MD -> JSON -> MD -> JSON
 * unchanged) or "error" (refused with diagnostics); the rest is a note.
 *
 * Each input runs in a child process: these files were crashes once, and
 * one that crashes again must not take the others down with it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tests/fuzz/roundtrip.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* Exit codes of the child: RT_* + this, clear of the sanitizers' own
 * (1 for ASan and UBSan, 23 for LeakSanitizer). */
#define CHILD_BASE 40

struct regression {
	char *path;
	enum runbook_format fmt;
};

static const struct {
	const char *dir;
	enum runbook_format fmt;
} formats[] = {
	{ "markdown", RUNBOOK_MARKDOWN },
	{ "json", RUNBOOK_JSON },
};

static char *root_path(const char *rel)
{
	const char *root = getenv("QRH_SRC");
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s/tests/fuzz/regressions/%s", root && *root ? root : ".", rel);
	return buf_detach(&b, NULL);
}

/* The whole file, or NULL with errno set. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	if (!f)
		return NULL;
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	char chunk[8192];
	size_t n;
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		buf_add(&b, chunk, n);
	fclose(f);
	return buf_detach(&b, len);
}

/* First line of PATH.expect, trimmed; NULL when there is none. */
static char *expectation(const char *path)
{
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s.expect", path);
	size_t len;
	char *text = slurp(b.data, &len);
	buf_release(&b);
	if (!text)
		return NULL;
	text[strcspn(text, "\n")] = '\0';
	size_t n = strlen(text);
	while (n && (text[n - 1] == ' ' || text[n - 1] == '\t' || text[n - 1] == '\r'))
		text[--n] = '\0';
	return text;
}

static void test_regression(void **state)
{
	const struct regression *r = *state;
	char *want = expectation(r->path);
	if (!want)
		fail_msg("%s: no %s.expect saying \"ok\" or \"error\"", r->path,
			 r->path);
	if (strcmp(want, "ok") && strcmp(want, "error")) {
		print_error("%s.expect: first line is \"%s\", not ok or error\n",
			    r->path, want);
		free(want);
		fail();
	}
	size_t len;
	char *data = slurp(r->path, &len);
	assert_non_null(data);

	fflush(NULL);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* cmocka's handlers would turn a crash into a test failure
		 * inside the child and carry on there: die of it instead */
		static const int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL,
					     SIGABRT, SIGSYS };
		for (size_t i = 0; i < sizeof fatal / sizeof fatal[0]; i++)
			signal(fatal[i], SIG_DFL);
		struct rt_result res;
		rt_run(data, len, r->fmt, &res);
		if (res.outcome == RT_UNSTABLE)
			fputs(res.why.data, stderr);
		int code = CHILD_BASE + (int)res.outcome;
		rt_result_release(&res);
		free(data);
		free(want);
		/* exit, not _exit: LeakSanitizer checks at exit */
		exit(code);
	}
	free(data);
	int status;
	while (waitpid(pid, &status, 0) < 0)
		assert_int_equal(errno, EINTR);
	if (WIFSIGNALED(status)) {
		print_error("%s: killed by signal %d (%s); expected \"%s\"\n",
			    r->path, WTERMSIG(status), strsignal(WTERMSIG(status)),
			    want);
		free(want);
		fail();
	}
	int code = WEXITSTATUS(status) - CHILD_BASE;
	if (code != RT_OK && code != RT_ERROR && code != RT_UNSTABLE) {
		print_error("%s: exited with status %d (a sanitizer report?); expected \"%s\"\n",
			    r->path, WEXITSTATUS(status), want);
		free(want);
		fail();
	}
	const char *got = rt_outcome_name((enum rt_outcome)code);
	if (strcmp(got, want)) {
		print_error("%s: outcome \"%s\", expected \"%s\"\n", r->path, got,
			    want);
		free(want);
		fail();
	}
	free(want);
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The inputs of one directory, sorted: every file but the sidecars. */
static size_t list_inputs(const char *dir, char ***out)
{
	char **v = NULL;
	size_t n = 0, cap = 0;
	DIR *d = opendir(dir);
	struct dirent *e;
	while (d && (e = readdir(d))) {
		size_t len = strlen(e->d_name);
		if (e->d_name[0] == '.' ||
		    (len > 7 && !strcmp(e->d_name + len - 7, ".expect")))
			continue;
		v = xgrow(v, &cap, n + 1, sizeof *v);
		v[n++] = xstrdup(e->d_name);
	}
	if (d)
		closedir(d);
	if (n)
		qsort(v, n, sizeof *v, by_name);
	*out = v;
	return n;
}

int main(void)
{
	struct CMUnitTest *tests = NULL;
	struct regression *regs = NULL;
	size_t n = 0, cap = 0, rcap = 0;
	int empty = 0;

	for (size_t f = 0; f < sizeof formats / sizeof formats[0]; f++) {
		char *dir = root_path(formats[f].dir);
		char **names;
		size_t k = list_inputs(dir, &names);
		if (!k) {
			/* an empty directory would make this test pass vacuously */
			fprintf(stderr, "test_fuzz_regressions: no inputs in %s\n", dir);
			empty = 1;
		}
		for (size_t i = 0; i < k; i++) {
			tests = xgrow(tests, &cap, n + 1, sizeof *tests);
			regs = xgrow(regs, &rcap, n + 1, sizeof *regs);
			struct buf p;
			buf_init(&p, BUF_UNLIMITED);
			buf_addf(&p, "%s/%s", dir, names[i]);
			regs[n].path = buf_detach(&p, NULL);
			regs[n].fmt = formats[f].fmt;
			free(names[i]);
			n++;
		}
		free(names);
		free(dir);
	}
	/* regs no longer moves: point the tests at it */
	for (size_t i = 0; i < n; i++) {
		const char *name = strstr(regs[i].path, "regressions/");
		tests[i] = (struct CMUnitTest){
			.name = name ? name + 12 : regs[i].path,
			.test_func = test_regression,
			.initial_state = &regs[i],
		};
	}
	int failed = empty;
	if (n)
		failed += _cmocka_run_group_tests("fuzz_regressions", tests, n,
						  NULL, NULL);
	for (size_t i = 0; i < n; i++)
		free(regs[i].path);
	free(regs);
	free(tests);
	return failed ? 1 : 0;
}
