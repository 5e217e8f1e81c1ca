/* The guard process (actions/guard.h). */
#include "actions/guard.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "actions/proc.h"
#include "util/xalloc.h"

#define GUARD_MAX 65536

struct guard_msg {
	int32_t op; /* 1 add, 2 remove */
	int32_t pgid;
	uint64_t ticks;
};

struct guard {
	pid_t pid;
	int fd; /* write end */
};

/* ---- deciding whose group it is ---- */

int guard_group_alive(pid_t pgid, uint64_t start_ticks)
{
	return proc_group_live(pgid, start_ticks);
}

int guard_signal_group(pid_t pgid, uint64_t start_ticks, int signo)
{
	if (!guard_group_alive(pgid, start_ticks))
		return 0;
	return kill(-pgid, signo) == 0;
}

/* ---- the child ---- */

struct entry {
	pid_t pgid;
	uint64_t ticks;
};

static void sleep_ms(int64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void signal_all(const struct entry *v, size_t n, int signo)
{
	for (size_t i = 0; i < n; i++)
		guard_signal_group(v[i].pgid, v[i].ticks, signo);
}

static int any_alive(const struct entry *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (guard_group_alive(v[i].pgid, v[i].ticks))
			return 1;
	return 0;
}

__attribute__((noreturn))
static void guard_child(int fd, int64_t grace_ms)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	struct guard_msg m;
	ssize_t got;
	setsid();
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (;;) {
		got = read(fd, &m, sizeof m);
		if (got < 0 && errno == EINTR)
			continue;
		if (got != (ssize_t)sizeof m)
			break; /* EOF: qrh is gone */
		if (m.op == 1 && n < GUARD_MAX) {
			v = xgrow(v, &cap, n + 1, sizeof *v);
			v[n++] = (struct entry){ m.pgid, m.ticks };
		} else if (m.op == 2) {
			for (size_t i = 0; i < n; i++)
				if (v[i].pgid == m.pgid)
					v[i--] = v[--n];
		}
	}
	if (n) {
		signal_all(v, n, SIGTERM);
		for (int64_t waited = 0; waited < grace_ms && any_alive(v, n); waited += 50)
			sleep_ms(50);
		signal_all(v, n, SIGKILL);
	}
	_exit(0);
}

/* ---- qrh's side ---- */

static int close_others(int keep)
{
	int max = (int)sysconf(_SC_OPEN_MAX);
	if (max < 0 || max > 65536)
		max = 65536;
	for (int fd = 0; fd < max; fd++)
		if (fd != keep)
			close(fd);
	return 0;
}

struct guard *guard_new(int64_t grace_ms, struct err *e)
{
	int p[2];
	/* a socket, not a pipe: send() can refuse SIGPIPE if the guard died */
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, p) < 0)
		return err_errno(e, "cannot start the process guard: socketpair"), NULL;
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0) {
		close_others(p[0]);
		guard_child(p[0], grace_ms > 0 ? grace_ms : PROC_GRACE_MS_DEFAULT);
	}
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	close(p[0]);
	if (pid < 0) {
		close(p[1]);
		errno = saved;
		return err_errno(e, "cannot start the process guard: fork"), NULL;
	}
	struct guard *g = xcalloc(1, sizeof *g);
	g->pid = pid;
	g->fd = p[1];
	return g;
}

static int send_msg(struct guard *g, const struct guard_msg *m)
{
	ssize_t n;
	do
		n = send(g->fd, m, sizeof *m, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof *m ? 0 : -1;
}

int guard_add(struct guard *g, pid_t pgid, uint64_t start_ticks, struct err *e)
{
	struct guard_msg m = { 1, (int32_t)pgid, start_ticks };
	if (send_msg(g, &m) < 0)
		return err_errno(e, "cannot register process group %d with the guard", (int)pgid);
	return 0;
}

void guard_remove(struct guard *g, pid_t pgid)
{
	struct guard_msg m = { 2, (int32_t)pgid, 0 };
	send_msg(g, &m);
}

pid_t guard_pid(const struct guard *g)
{
	return g->pid;
}

void guard_free(struct guard *g)
{
	if (!g)
		return;
	close(g->fd);
	while (waitpid(g->pid, NULL, 0) < 0 && errno == EINTR)
		;
	free(g);
}
