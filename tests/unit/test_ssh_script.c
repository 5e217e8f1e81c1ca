/* test_ssh_script: the remote program of the ssh kind and its sentinel.
 *
 * Quoting and the sentinel scanner are checked on tables and on every way
 * of splitting a stream; the program itself is run by the local /bin/sh
 * exactly as the remote one gets it (on stdin, stdin left open), so the
 * exit status, errexit, `exit` inside the script, quoted values and the
 * watchdog are checked against a real shell. */
#include <errno.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/ssh_script.h"
#include "util/buf.h"

#define NONCE "0123456789abcdef0123456789abcdef"
#define MARK "QRH_EXIT_" NONCE " "

static void test_quote(void **state)
{
	static const struct {
		const char *in, *want;
	} cases[] = {
		{ "", "''" },
		{ "plain", "'plain'" },
		{ "it's", "'it'\\''s'" },
		{ "'", "''\\'''" },
		{ "$(rm -rf /) `x` \"q\" \\ ;|&", "'$(rm -rf /) `x` \"q\" \\ ;|&'" },
		{ "two\nlines", "'two\nlines'" },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct buf b;
		buf_init(&b, BUF_UNLIMITED);
		ssh_quote(&b, cases[i].in);
		assert_string_equal(b.data, cases[i].want);
		buf_release(&b);
	}
}

static void test_env_names(void **state)
{
	(void)state;
	assert_true(ssh_env_name_ok("A", 1));
	assert_true(ssh_env_name_ok("_x9", 3));
	assert_false(ssh_env_name_ok("", 0));
	assert_false(ssh_env_name_ok("9A", 2));
	assert_false(ssh_env_name_ok("A-B", 3));
	assert_false(ssh_env_name_ok("A B", 3));
}

static void test_program_text(void **state)
{
	const char *env[] = { "HOST=db'1", "bad-name=x", "QRH_STEP_ID=s1", "NOEQ", NULL };
	struct ssh_program p = { .env = env, .script = "echo hi\n", .nonce = NONCE,
				 .grace_s = 3 };
	struct buf b;
	(void)state;
	buf_init(&b, BUF_UNLIMITED);
	ssh_program_build(&p, &b);
	assert_non_null(strstr(b.data, "export HOST='db'\\''1'\n"));
	assert_non_null(strstr(b.data, "export QRH_STEP_ID='s1'\n"));
	assert_null(strstr(b.data, "bad-name"));
	assert_null(strstr(b.data, "NOEQ"));
	assert_non_null(strstr(b.data, "qrh_script='echo hi\n'\n"));
	assert_non_null(strstr(b.data, "sleep 3;"));
	assert_non_null(strstr(b.data, "'QRH_EXIT_" NONCE "'"));
	/* the call is the very last line: nothing runs before it arrives */
	size_t n = strlen("}\nqrh_main\n");
	assert_true(b.len > n);
	assert_string_equal(b.data + b.len - n, "}\nqrh_main\n");
	buf_release(&b);
}

static void test_nonce(void **state)
{
	char a[SSH_NONCE_HEX + 1], b[SSH_NONCE_HEX + 1];
	(void)state;
	assert_int_equal(ssh_nonce(a), 0);
	assert_int_equal(ssh_nonce(b), 0);
	assert_int_equal(strlen(a), SSH_NONCE_HEX);
	assert_int_equal(strspn(a, "0123456789abcdef"), SSH_NONCE_HEX);
	assert_string_not_equal(a, b);
}

/* ---- the sentinel ---- */

struct scan_case {
	const char *name;
	const char *in;
	const char *out; /* what passes through */
	int found;       /* -1: no marker line */
};

static const struct scan_case scans[] = {
	{ "no marker", "warning: x\nmore\n", "warning: x\nmore\n", -1 },
	{ "marker only", MARK "0\n", "", 0 },
	{ "after output", "err line\n" MARK "3\n", "err line\n", 3 },
	{ "after a partial line", "no newline" MARK "127\n", "no newline", 127 },
	{ "output after the marker", MARK "1\nlate\n", "late\n", 1 },
	{ "marker without its newline", "x" MARK "2", "x" MARK "2", -1 },
	{ "marker with a bad status", MARK "1a\n", MARK "1a\n", -1 },
	{ "marker with no digits", MARK "\n", MARK "\n", -1 },
	{ "another nonce", "QRH_EXIT_ffffffffffffffffffffffffffffffff 0\n",
	  "QRH_EXIT_ffffffffffffffffffffffffffffffff 0\n", -1 },
	{ "prefix at the end", "abc QRH_EX", "abc QRH_EX", -1 },
	{ "two markers: the first counts", MARK "4\n" MARK "5\n", MARK "5\n", 4 },
	{ "bad then good", MARK "x\n" MARK "6\n", MARK "x\n", 6 },
};

static void scan_split(const struct scan_case *c, size_t cut1, size_t cut2)
{
	struct ssh_sentinel s;
	struct buf out;
	size_t len = strlen(c->in);
	int status = -1;
	ssh_sentinel_init(&s, NONCE);
	buf_init(&out, BUF_UNLIMITED);
	ssh_sentinel_feed(&s, c->in, cut1, &out);
	ssh_sentinel_feed(&s, c->in + cut1, cut2 - cut1, &out);
	ssh_sentinel_feed(&s, c->in + cut2, len - cut2, &out);
	ssh_sentinel_finish(&s, &out);
	if (strcmp(out.data, c->out))
		fail_msg("%s (cut at %zu, %zu): got '%s'", c->name, cut1, cut2, out.data);
	bool found = ssh_sentinel_found(&s, &status);
	if (found != (c->found >= 0) || (found && status != c->found))
		fail_msg("%s (cut at %zu, %zu): found %d status %d", c->name, cut1,
			 cut2, found, status);
	buf_release(&out);
	ssh_sentinel_release(&s);
}

static void test_sentinel_splits(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof scans / sizeof *scans; i++) {
		size_t len = strlen(scans[i].in);
		for (size_t a = 0; a <= len; a++)
			for (size_t b = a; b <= len; b++)
				scan_split(&scans[i], a, b);
	}
}

static void test_sentinel_holds_little(void **state)
{
	struct ssh_sentinel s;
	struct buf out;
	(void)state;
	ssh_sentinel_init(&s, NONCE);
	buf_init(&out, BUF_UNLIMITED);
	ssh_sentinel_feed(&s, "progress 50%\n", 13, &out);
	assert_string_equal(out.data, "progress 50%\n"); /* nothing held */
	ssh_sentinel_feed(&s, "QRH", 3, &out);
	assert_string_equal(out.data, "progress 50%\n"); /* may be the marker */
	ssh_sentinel_feed(&s, "!", 1, &out);
	assert_string_equal(out.data, "progress 50%\nQRH!");
	buf_release(&out);
	ssh_sentinel_release(&s);
}

/* ---- the program, run by the local shell ---- */

struct ran {
	int exit_status; /* of the shell */
	int marker;      /* -1: none */
	char out[4096];
	char err[4096];
};

static void read_into(int fd, char *dst, size_t cap, size_t *len)
{
	ssize_t n = read(fd, dst + *len, cap - 1 - *len);
	if (n > 0)
		*len += (size_t)n;
	dst[*len] = '\0';
}

/* Runs the program with `sh -s`, stdin kept open until the shell exits
 * (or closed after close_after_ms, like a channel closing). */
static void run_program(const char *script, const char *const *env,
			int close_after_ms, struct ran *r)
{
	struct ssh_program p = { .env = env, .script = script, .nonce = NONCE,
				 .grace_s = 1 };
	struct buf prog;
	int in[2], out[2], err[2];
	buf_init(&prog, BUF_UNLIMITED);
	ssh_program_build(&p, &prog);
	assert_int_equal(pipe(in), 0);
	assert_int_equal(pipe(out), 0);
	assert_int_equal(pipe(err), 0);
	pid_t pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setsid();
		dup2(in[0], 0);
		dup2(out[1], 1);
		dup2(err[1], 2);
		for (int fd = 3; fd < 64; fd++)
			close(fd);
		execl("/bin/sh", "sh", "-s", (char *)NULL);
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	close(err[1]);
	assert_int_equal(write(in[1], prog.data, prog.len), (ssize_t)prog.len);
	buf_release(&prog);
	size_t olen = 0, elen = 0;
	int open_fds = 2, waited_ms = 0;
	struct pollfd pf[2] = { { .fd = out[0], .events = POLLIN },
				{ .fd = err[0], .events = POLLIN } };
	while (open_fds > 0 && waited_ms < 20000) {
		if (close_after_ms >= 0 && waited_ms >= close_after_ms && in[1] >= 0) {
			close(in[1]);
			in[1] = -1;
		}
		if (poll(pf, 2, 50) == 0) {
			waited_ms += 50;
			continue;
		}
		for (int i = 0; i < 2; i++) {
			if (pf[i].fd < 0 || !pf[i].revents)
				continue;
			size_t before = i ? elen : olen;
			read_into(pf[i].fd, i ? r->err : r->out, sizeof r->out, i ? &elen : &olen);
			if ((i ? elen : olen) == before) {
				close(pf[i].fd);
				pf[i].fd = -1;
				open_fds--;
			}
		}
	}
	int st;
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (in[1] >= 0)
		close(in[1]);
	r->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	r->marker = -1;
	char *m = strstr(r->err, MARK);
	if (m)
		r->marker = atoi(m + strlen(MARK));
}

static void test_program_runs(void **state)
{
	static const struct {
		const char *script;
		int status;
		const char *out;
	} cases[] = {
		{ "echo hello", 0, "hello\n" },
		{ "exit 3", 3, "" },
		{ "echo before; exit 0; echo after", 0, "before\n" },
		{ "false\necho not reached", 1, "" },         /* errexit */
		{ "if false; then :; fi; echo ok", 0, "ok\n" }, /* not for conditions */
		{ "trap 'echo trapped' EXIT; exit 4", 4, "trapped\n" },
		{ "printf '%s|' \"$V1\" \"$V2\"", 0, "it's $(x)|two\nlines|" },
		{ "read x || echo no-stdin", 0, "no-stdin\n" },
		{ "echo \"[$qrh_rc]\"; sh -c 'kill -TERM $PPID'", 143, "[]\n" },
	};
	const char *env[] = { "V1=it's $(x)", "V2=two\nlines", NULL };
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		struct ran r = { 0 };
		run_program(cases[i].script, env, -1, &r);
		if (r.exit_status != cases[i].status || r.marker != cases[i].status ||
		    strcmp(r.out, cases[i].out))
			fail_msg("script '%s': exit %d marker %d out '%s' err '%s'",
				 cases[i].script, r.exit_status, r.marker, r.out, r.err);
	}
}

/* stdin closing is the channel closing: the script is stopped. */
static void test_program_watchdog(void **state)
{
	struct ran r = { 0 };
	struct timespec t0, t1;
	(void)state;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	run_program("echo started; sleep 30; echo finished", NULL, 300, &r);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	assert_string_equal(r.out, "started\n");
	assert_int_equal(r.marker, -1); /* the shell itself was stopped */
	assert_int_equal(r.exit_status, 128 + SIGTERM);
	assert_true(ms < 15000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_quote),
		cmocka_unit_test(test_env_names),
		cmocka_unit_test(test_program_text),
		cmocka_unit_test(test_nonce),
		cmocka_unit_test(test_sentinel_splits),
		cmocka_unit_test(test_sentinel_holds_little),
		cmocka_unit_test(test_program_runs),
		cmocka_unit_test(test_program_watchdog),
	};
	signal(SIGPIPE, SIG_IGN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
