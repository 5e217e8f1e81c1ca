#include "actions/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/xalloc.h"

/* What the child was doing when it failed, sent with errno on the status pipe. */
enum proc_stage {
	PROC_STAGE_SETUP = 1,
	PROC_STAGE_CWD,
	PROC_STAGE_EXEC,
};

/* The fd the child keeps its status pipe on while it closes everything else. */
#define PROC_CHILD_STATUS_FD 3

struct proc_reaper {
	struct loop *loop;
	struct proc *procs;	/* every proc not yet reaped */
	char buf[PROC_READ_MAX];/* one read at a time, handed to on_output */
};

struct proc {
	struct proc_reaper *r;
	struct proc *next;
	pid_t pid;
	int fd[2];		/* stdout, stderr read ends; -1 once closed */
	bool paused;
	bool exited;		/* exit collected; the zombie still anchors the pgid */
	bool gone;		/* reaped behind our back: nothing left to wait for */
	bool finished;
	bool detached;		/* freed by its owner before it finished */
	bool in_output;
	bool free_pending;	/* proc_free called from on_output */
	bool term_sent;
	int64_t start_ns;
	int64_t grace_ms;
	uint64_t timeout_timer, kill_timer, linger_timer;
	struct proc_result res;
	proc_output_fn *on_output;
	proc_exit_fn *on_exit;
	void *arg;
};

/* Everything the child needs, built in the parent so the child only makes
 * system calls between fork and exec. */
struct proc_launch {
	char **argv;
	char **envp;
	const char *cwd;
	int devnull;
	int out[2], err[2], status[2];
	int go[2];		/* on_spawn: the child waits for a byte here */
	bool die_with_parent;
	pid_t parent;
};

static void proc_on_sigchld(struct loop *l, int signo, void *arg);
static void proc_finish(struct proc *p);

/* ---- reaper ---- */

/* One reaper per loop: the single owner of SIGCHLD. */
struct proc_reaper *proc_reaper_new(struct loop *l, struct err *e)
{
	struct proc_reaper *r = xcalloc(1, sizeof *r);
	r->loop = l;
	if (loop_signal(l, SIGCHLD, proc_on_sigchld, r, e) < 0) {
		free(r);
		return NULL;
	}
	return r;
}

/* For shutdown: is anything of ours still alive? */
size_t proc_reaper_count(const struct proc_reaper *r)
{
	size_t n = 0;
	for (const struct proc *p = r->procs; p; p = p->next)
		n++;
	return n;
}

/* Reaped procs leave the registry; nothing more can happen to them. */
static void proc_unlink(struct proc *p)
{
	for (struct proc **pp = &p->r->procs; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	p->next = NULL;
}

/* Close one output pipe and stop watching it. */
static void proc_pipe_close(struct proc *p, int i)
{
	if (p->fd[i] < 0)
		return;
	loop_fd_remove(p->r->loop, p->fd[i]);
	close(p->fd[i]);
	p->fd[i] = -1;
}

/* Half of "finished": the other half is the collected exit. */
static bool proc_pipes_open(const struct proc *p)
{
	return p->fd[0] >= 0 || p->fd[1] >= 0;
}

/* Cancel and forget a timer id, so it is never cancelled twice. */
static void proc_timer_cancel(struct proc *p, uint64_t *id)
{
	if (*id)
		loop_timer_cancel(p->r->loop, *id);
	*id = 0;
}

/* A finished or abandoned proc must leave no timer pointing at it. */
static void proc_timers_cancel(struct proc *p)
{
	proc_timer_cancel(p, &p->timeout_timer);
	proc_timer_cancel(p, &p->kill_timer);
	proc_timer_cancel(p, &p->linger_timer);
}

/* Signal the whole group, but only while we still hold the leader (alive
 * or a zombie): after that the pgid could name a stranger's group. */
static void proc_group_signal(struct proc *p, int signo)
{
	if (!p->gone)
		kill(-p->pid, signo);
}

/* Kill whatever is left of the group while the unreaped leader still
 * holds the pgid (so it cannot name someone else's group), then reap. */
static void proc_reap(struct proc *p)
{
	if (!p->gone) {
		proc_group_signal(p, SIGKILL);
		while (waitpid(p->pid, NULL, 0) < 0 && errno == EINTR)
			;
		p->gone = true;
	}
	proc_unlink(p);
}

/* Teardown without callbacks: used when the owner or the reaper goes away. */
static void proc_abandon(struct proc *p)
{
	proc_pipe_close(p, 0);
	proc_pipe_close(p, 1);
	proc_timers_cancel(p);
	p->on_output = NULL;
	p->on_exit = NULL;
	proc_group_signal(p, SIGKILL);
}

/* Last resort at shutdown: nothing may outlive the reaper. Blocking is
 * fine here, every process has just been sent SIGKILL. */
void proc_reaper_free(struct proc_reaper *r)
{
	if (!r)
		return;
	while (r->procs) {
		struct proc *p = r->procs;
		proc_abandon(p);
		proc_reap(p);
		if (p->detached)
			free(p);
		else
			p->finished = true;
	}
	loop_signal(r->loop, SIGCHLD, NULL, NULL, NULL);
	free(r);
}

/* Has the child exited? Looks without reaping (WNOWAIT): the zombie keeps
 * the pid and pgid ours until proc_reap. */
static bool proc_exit_poll(struct proc *p)
{
	siginfo_t si;
	memset(&si, 0, sizeof si);
	int rc;
	do
		rc = waitid(P_PID, (id_t)p->pid, &si,
			    WEXITED | WNOHANG | WNOWAIT);
	while (rc < 0 && errno == EINTR);
	if (rc < 0 && errno == ECHILD) {
		/* Someone reaped it with waitpid(-1): status unknown. */
		p->gone = true;
		p->res.exit_code = -1;
	} else if (rc < 0 || si.si_pid != p->pid) {
		return false;
	} else if (si.si_code == CLD_EXITED) {
		p->res.exit_code = si.si_status;
	} else {
		p->res.exit_code = -1;
		p->res.signo = si.si_status;
	}
	p->exited = true;
	p->res.duration_ns = clock_mono_ns() - p->start_ns;
	return true;
}

/* "pipe:[INO]" is how /proc names a pipe end; both ends share the inode. */
static bool proc_fd_is_pipe(int dfd, const char *name, const ino_t ino[2])
{
	char link[64];
	ssize_t n = readlinkat(dfd, name, link, sizeof link - 1);
	unsigned long long v;
	char tail;

	if (n <= 0)
		return false;
	link[n] = '\0';
	if (sscanf(link, "pipe:[%llu%c", &v, &tail) != 2 || tail != ']')
		return false;
	return v == (unsigned long long)ino[0] || v == (unsigned long long)ino[1];
}

/* Does process `pid` hold one of the pipes? Only its fd table says. */
static bool proc_holds(pid_t pid, const ino_t ino[2])
{
	char path[64];
	bool held = false;

	snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
	int dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	DIR *d = dfd >= 0 ? fdopendir(dfd) : NULL;
	if (!d) {
		if (dfd >= 0)
			close(dfd);
		return false;
	}
	for (struct dirent *de; !held && (de = readdir(d));)
		held = de->d_name[0] != '.' && proc_fd_is_pipe(dfd, de->d_name, ino);
	closedir(d);
	return held;
}

static void proc_holder_add(pid_t *v, size_t *n, pid_t pid)
{
	if (*n < PROC_HOLDERS_MAX)
		v[(*n)++] = pid;
}

/* Before the group is killed: which processes still hold the child's
 * pipes, and are they in its group (the kill reaches them) or not? The
 * record must say what happened to them, not what we hoped. */
static void proc_find_holders(struct proc *p)
{
	ino_t ino[2] = { 0, 0 };
	struct stat st;
	DIR *d;

	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0 && fstat(p->fd[i], &st) == 0)
			ino[i] = st.st_ino;
	d = opendir("/proc");
	if (!d)
		return;
	for (struct dirent *de; (de = readdir(d));) {
		char *end;
		long v = strtol(de->d_name, &end, 10);
		pid_t pid = (pid_t)v;
		if (*end || v <= 0 || pid == getpid() || !proc_holds(pid, ino))
			continue;
		if (getpgid(pid) == p->pid)
			proc_holder_add(p->res.held_killed, &p->res.n_held_killed, pid);
		else
			proc_holder_add(p->res.held_running, &p->res.n_held_running, pid);
	}
	closedir(d);
}

/* Give output left in the pipes grace_ms to drain, then close them. While
 * the owner has output paused the wait starts over: the bytes still in the
 * pipe are the child's last words, not a straggler's. */
static void proc_on_linger(struct loop *l, uint64_t id, void *arg)
{
	(void)id;
	struct proc *p = arg;
	if (p->paused) {
		p->linger_timer = loop_timer_add(l, p->grace_ms, proc_on_linger, p);
		return;
	}
	p->linger_timer = 0;
	p->res.pipes_held = true;
	proc_find_holders(p);
	proc_pipe_close(p, 0);
	proc_pipe_close(p, 1);
	proc_finish(p);
}

/* The leader is gone: signals are moot, only the pipes may keep us waiting. */
static void proc_on_exited(struct proc *p)
{
	proc_timer_cancel(p, &p->timeout_timer);
	proc_timer_cancel(p, &p->kill_timer);
	if (proc_pipes_open(p) && !p->linger_timer)
		p->linger_timer = loop_timer_add(p->r->loop, p->grace_ms,
						 proc_on_linger, p);
}

/* The next proc whose exit is collected and whose pipes are closed. */
static struct proc *proc_reaper_next_ready(struct proc_reaper *r)
{
	for (struct proc *p = r->procs; p; p = p->next)
		if (p->exited && !proc_pipes_open(p))
			return p;
	return NULL;
}

/* SIGCHLD: first collect every exit (no callbacks), then finish the ready
 * ones one at a time, rescanning, since on_exit may free or spawn procs. */
static void proc_on_sigchld(struct loop *l, int signo, void *arg)
{
	(void)l;
	(void)signo;
	struct proc_reaper *r = arg;
	for (struct proc *p = r->procs; p; p = p->next)
		if (!p->exited && proc_exit_poll(p))
			proc_on_exited(p);
	struct proc *p;
	while ((p = proc_reaper_next_ready(r))) {
		if (p->detached) {
			proc_reap(p);
			free(p);
		} else {
			proc_finish(p);
		}
	}
}

/* ---- a running proc ---- */

/* Reap, then tell the owner; p must not be touched after on_exit. */
static void proc_finish(struct proc *p)
{
	proc_timers_cancel(p);
	proc_reap(p);
	p->finished = true;
	if (p->on_exit)
		p->on_exit(p, &p->res, p->arg);
}

/* Escalation, second half: nothing ignores SIGKILL. */
static void proc_on_kill(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct proc *p = arg;
	p->kill_timer = 0;
	proc_group_signal(p, SIGKILL);
}

/* Escalation, first half: ask the whole group politely, once. */
static void proc_terminate(struct proc *p)
{
	if (p->term_sent)
		return;
	p->term_sent = true;
	proc_group_signal(p, SIGTERM);
	p->kill_timer = loop_timer_add(p->r->loop, p->grace_ms, proc_on_kill, p);
}

/* timeout_ms passed: escalate exactly as a cancel would, but say why. */
static void proc_on_timeout(struct loop *l, uint64_t id, void *arg)
{
	(void)l;
	(void)id;
	struct proc *p = arg;
	p->timeout_timer = 0;
	p->res.timed_out = true;
	proc_terminate(p);
}

/* The operator aborted the step: same escalation as a timeout. */
void proc_cancel(struct proc *p)
{
	if (p->finished || p->detached)
		return;
	p->res.cancelled = true;
	proc_terminate(p);
}

/* Back-pressure: an idle watch is not polled, so the child blocks on a
 * full pipe and nothing accumulates here. */
void proc_pause_output(struct proc *p, bool pause)
{
	if (p->finished || p->detached)
		return;
	p->paused = pause;
	for (int i = 0; i < 2; i++)
		if (p->fd[i] >= 0)
			loop_fd_set(p->r->loop, p->fd[i], pause ? 0 : POLLIN);
}

/* For display, journaling and tests; also the pgid and sid. */
pid_t proc_pid(const struct proc *p)
{
	return p->pid;
}

/* True once on_exit has run (or would have, for a silent finish). */
bool proc_finished(const struct proc *p)
{
	return p->finished;
}

/* Finished: just memory. Exited: reap now. Running: kill the group and let
 * the reaper collect it later, with no more callbacks. */
static void proc_release(struct proc *p)
{
	if (p->finished) {
		free(p);
		return;
	}
	proc_abandon(p);
	if (p->exited) {
		proc_reap(p);
		free(p);
		return;
	}
	p->detached = true;
}

/* From inside on_output the free waits until the callback returns. */
void proc_free(struct proc *p)
{
	if (!p)
		return;
	if (p->in_output) {
		p->free_pending = true;
		return;
	}
	proc_release(p);
}

/* One read per readiness into the reaper's buffer, straight to the owner. */
static void proc_on_readable(struct loop *l, int fd, short revents, void *arg)
{
	(void)l;
	(void)revents;
	struct proc *p = arg;
	int i = fd == p->fd[0] ? 0 : 1;
	ssize_t n = read(fd, p->r->buf, sizeof p->r->buf);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n > 0) {
		if (!p->on_output)
			return;
		p->in_output = true;
		p->on_output(p, i ? PROC_STDERR : PROC_STDOUT, p->r->buf,
			     (size_t)n, p->arg);
		p->in_output = false;
		if (p->free_pending)
			proc_release(p);
		return;
	}
	/* EOF, or a read error that ends the stream just the same. */
	proc_pipe_close(p, i);
	if (proc_pipes_open(p))
		return;
	if (!p->exited && proc_exit_poll(p))
		proc_on_exited(p);
	if (p->exited)
		proc_finish(p);
}

/* ---- spawning ---- */

/* Keep our own fds off 0, 1 and 2 so the child's dup2 calls cannot
 * clobber one another (if qrh was started with a std fd closed). */
static int proc_fd_lift(int *fd)
{
	if (*fd >= 3)
		return 0;
	int nfd = fcntl(*fd, F_DUPFD_CLOEXEC, 3);
	if (nfd < 0)
		return -1;
	close(*fd);
	*fd = nfd;
	return 0;
}

/* A CLOEXEC pipe; the child gets its end by dup2, which clears the flag. */
static int proc_pipe_open(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	return proc_fd_lift(&fds[0]) < 0 || proc_fd_lift(&fds[1]) < 0 ? -1 : 0;
}

/* Close and mark closed, so cleanup paths can run twice. */
static void proc_fd_close(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Free a NULL-terminated vector of owned strings. */
static void proc_strv_free(char **v)
{
	if (!v)
		return;
	for (char **s = v; *s; s++)
		free(*s);
	free(v);
}

/* Whatever was prepared, release it; safe on a half-prepared launch. */
static void proc_launch_release(struct proc_launch *c)
{
	proc_strv_free(c->argv);
	proc_strv_free(c->envp);
	proc_fd_close(&c->devnull);
	for (int i = 0; i < 2; i++) {
		proc_fd_close(&c->out[i]);
		proc_fd_close(&c->err[i]);
		proc_fd_close(&c->status[i]);
		proc_fd_close(&c->go[i]);
	}
}

/* Length of the NAME in "NAME=value", or 0 if there is no '=' or no name. */
static size_t proc_env_name_len(const char *s)
{
	const char *eq = strchr(s, '=');
	return eq ? (size_t)(eq - s) : 0;
}

/* Does list (from index `from`) set the variable named by s? */
static bool proc_env_has(const char *const *list, size_t from, const char *s)
{
	size_t n = proc_env_name_len(s);
	for (size_t i = from; list && list[i]; i++)
		if (proc_env_name_len(list[i]) == n &&
		    !strncmp(list[i], s, n))
			return true;
	return false;
}

/* Our environment minus what `extra` overrides, then `extra`; within extra
 * the last setting of a name wins. */
static char **proc_envp_build(const char *const *extra)
{
	extern char **environ;
	size_t n = 0, k = 0;
	for (char **s = environ; s && *s; s++)
		n++;
	for (size_t i = 0; extra && extra[i]; i++)
		n++;
	char **envp = xcalloc(n + 1, sizeof *envp);
	for (char **s = environ; s && *s; s++)
		if (!proc_env_has(extra, 0, *s))
			envp[k++] = xstrdup(*s);
	for (size_t i = 0; extra && extra[i]; i++)
		if (!proc_env_has(extra, i + 1, extra[i]))
			envp[k++] = xstrdup(extra[i]);
	return envp;
}

/* execvpe wants mutable strings; copy rather than cast away const. */
static char **proc_argv_copy(const char *const *argv)
{
	size_t n = 0;
	while (argv[n])
		n++;
	char **v = xcalloc(n + 1, sizeof *v);
	for (size_t i = 0; i < n; i++)
		v[i] = xstrdup(argv[i]);
	return v;
}

/* Check the spec and open every fd the child will need. */
static int proc_launch_prepare(struct proc_launch *c,
			       const struct proc_spec *spec, struct err *e)
{
	const char *name = spec->argv[0];
	for (size_t i = 0; spec->env && spec->env[i]; i++)
		if (!proc_env_name_len(spec->env[i]))
			return err_set(e, "cannot run '%s': bad environment entry '%s' (want NAME=value)",
				       name, spec->env[i]);
	if (proc_pipe_open(c->out) < 0 || proc_pipe_open(c->err) < 0 ||
	    proc_pipe_open(c->status) < 0 ||
	    (spec->on_spawn && proc_pipe_open(c->go) < 0))
		return err_errno(e, "cannot run '%s': pipe", name);
	c->devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (c->devnull < 0 || proc_fd_lift(&c->devnull) < 0)
		return err_errno(e, "cannot run '%s': cannot open '/dev/null'", name);
	c->argv = proc_argv_copy(spec->argv);
	c->envp = proc_envp_build(spec->env);
	c->cwd = spec->cwd;
	c->die_with_parent = spec->die_with_parent;
	c->parent = getpid();
	return 0;
}

/* Child only: report how we failed and die without running atexit code. */
__attribute__((noreturn))
static void proc_child_fail(int status_fd, enum proc_stage stage)
{
	int rep[2] = { (int)stage, errno };
	ssize_t n = write(status_fd, rep, sizeof rep);
	(void)n;
	_exit(127);
}

/* Child only: the parent's handlers and mask mean nothing in the child. */
/* The kernel's sigaction, for the two signals glibc keeps for itself (32
 * and 33), which its wrapper refuses to touch: a child must not inherit
 * them ignored from whoever started qrh. */
struct proc_kernel_sigaction {
	void (*handler)(int);
	unsigned long flags;
	void (*restorer)(void);
	uint64_t mask;
};

static void proc_child_signals_reset(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = SIG_DFL;
	sigemptyset(&sa.sa_mask);
	for (int s = 1; s < NSIG; s++) {
		if (sigaction(s, &sa, NULL) == 0 || s == SIGKILL || s == SIGSTOP)
			continue;
		struct proc_kernel_sigaction ka = { .handler = SIG_DFL };
		syscall(SYS_rt_sigaction, s, &ka, NULL, sizeof ka.mask);
	}
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

/* Child only: "123" -> 123, anything else -> -1. */
static int proc_child_fd_parse(const char *s)
{
	int v = 0;
	if (!*s)
		return -1;
	for (; *s; s++) {
		if (*s < '0' || *s > '9' || v > 100000000)
			return -1;
		v = v * 10 + (*s - '0');
	}
	return v;
}

/* Child only: close every fd >= low. close_range where the kernel has it
 * (5.9+), else walk /proc/self/fd with getdents64 (no malloc after fork),
 * else close up to the fd limit. */
static void proc_child_close_from(int low)
{
	if (close_range((unsigned)low, ~0U, 0) == 0)
		return;
	int dfd = open("/proc/self/fd", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd >= 0) {
		char buf[4096] __attribute__((aligned(8)));
		ssize_t n;
		while ((n = getdents64(dfd, buf, sizeof buf)) > 0) {
			for (ssize_t off = 0; off < n;) {
				struct dirent64 *d = (void *)(buf + off);
				int fd = proc_child_fd_parse(d->d_name);
				if (fd >= low && fd != dfd)
					close(fd);
				off += d->d_reclen;
			}
		}
		close(dfd);
		return;
	}
	struct rlimit rl;
	int max = 65536;
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < (rlim_t)max)
		max = (int)rl.rlim_cur;
	for (int fd = low; fd < max; fd++)
		close(fd);
}

/* Child only, between fork and exec: system calls, no allocation. */
__attribute__((noreturn))
static void proc_child_run(const struct proc_launch *c)
{
	int sfd = c->status[1];
	setsid();
	proc_child_signals_reset();
	if (c->die_with_parent &&
	    (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != c->parent))
		_exit(127);
	if (c->go[0] >= 0) {
		char go;
		ssize_t n;
		close(c->go[1]); /* else EOF never comes if the parent dies */
		do
			n = read(c->go[0], &go, 1);
		while (n < 0 && errno == EINTR);
		if (n != 1)
			_exit(127); /* the parent said no: run nothing */
	}
	if (c->cwd && chdir(c->cwd) < 0)
		proc_child_fail(sfd, PROC_STAGE_CWD);
	if (dup2(c->devnull, 0) < 0 || dup2(c->out[1], 1) < 0 ||
	    dup2(c->err[1], 2) < 0)
		proc_child_fail(sfd, PROC_STAGE_SETUP);
	if (sfd != PROC_CHILD_STATUS_FD) {
		if (dup3(sfd, PROC_CHILD_STATUS_FD, O_CLOEXEC) < 0)
			proc_child_fail(sfd, PROC_STAGE_SETUP);
		sfd = PROC_CHILD_STATUS_FD;
	}
	proc_child_close_from(PROC_CHILD_STATUS_FD + 1);
	execvpe(c->argv[0], c->argv, c->envp);
	proc_child_fail(sfd, PROC_STAGE_EXEC);
}

/* fork with every signal blocked, so no handler of ours (the loop's
 * self-pipe writer above all) can run in the child before it resets them. */
static pid_t proc_fork(const struct proc_launch *c)
{
	sigset_t all, old;
	sigfillset(&all);
	sigprocmask(SIG_SETMASK, &all, &old);
	pid_t pid = fork();
	if (pid == 0)
		proc_child_run(c);
	int saved = errno;
	sigprocmask(SIG_SETMASK, &old, NULL);
	errno = saved;
	return pid;
}

/* Wait for exec: EOF on the CLOEXEC status pipe means it happened; a
 * report means the child failed, and is turned into the error message. */
static int proc_exec_wait(struct proc_launch *c, pid_t pid,
			  const struct proc_spec *spec, struct err *e)
{
	int rep[2];
	ssize_t n;
	proc_fd_close(&c->status[1]);
	do
		n = read(c->status[0], rep, sizeof rep);
	while (n < 0 && errno == EINTR);
	if (n != (ssize_t)sizeof rep)
		return 0;
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
	errno = rep[1];
	const char *name = spec->argv[0];
	if (rep[0] == PROC_STAGE_CWD)
		return err_errno(e, "cannot run '%s' in '%s'", name, spec->cwd);
	if (rep[0] == PROC_STAGE_SETUP)
		return err_errno(e, "cannot run '%s': child setup", name);
	return err_errno(e, "cannot run '%s'", name);
}

/* on_spawn first, then the byte that lets the child go on; a refusal
 * closes the pipe instead, and the child exits having run nothing. */
static int proc_release_child(struct proc_launch *c, pid_t pid,
			      const struct proc_spec *spec, struct err *e)
{
	uint64_t ticks = 0;
	proc_fd_close(&c->go[0]);
	proc_start_ticks(pid, &ticks);
	if (spec->on_spawn(pid, ticks, spec->arg, e) < 0) {
		proc_fd_close(&c->go[1]);
		kill(pid, SIGKILL);
		while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
			;
		return -1;
	}
	ssize_t n;
	do
		n = write(c->go[1], "g", 1);
	while (n < 0 && errno == EINTR);
	proc_fd_close(&c->go[1]);
	return 0;
}

/* The fields of /proc/PID/stat qrh reads: state (3), pgrp (5) and start
 * time (22). The command name (field 2) may hold spaces and parentheses:
 * fields are counted from its last ')'. */
struct proc_stat {
	char state;
	pid_t pgrp;
	uint64_t start_ticks;
};

static int proc_stat_read(pid_t pid, struct proc_stat *out)
{
	char path[64], buf[1024];
	snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	ssize_t n = read(fd, buf, sizeof buf - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	char *p = strrchr(buf, ')');
	if (!p || !p[1] || !p[2])
		return -1;
	out->state = p[2];
	p++; /* the space before field 3 */
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p + 1, ' '); /* now the space before field + 1 */
		if (p && field + 1 == 5)
			out->pgrp = (pid_t)strtol(p + 1, NULL, 10);
	}
	if (!p)
		return -1;
	out->start_ticks = strtoull(p + 1, NULL, 10);
	return 0;
}

int proc_start_ticks(pid_t pid, uint64_t *out)
{
	struct proc_stat st;
	if (proc_stat_read(pid, &st) < 0)
		return -1;
	*out = st.start_ticks;
	return 0;
}

int proc_group_live(pid_t pgid, uint64_t leader_ticks)
{
	struct proc_stat st;
	if (pgid <= 1)
		return 0;
	if (proc_stat_read(pgid, &st) == 0) {
		if (st.start_ticks != leader_ticks)
			return 0; /* the pid names someone else now */
		if (st.state != 'Z')
			return 1;
	}
	/* the leader is gone or a zombie: is anything alive in its group? */
	DIR *d = opendir("/proc");
	int live = 0;
	if (!d)
		return kill(-pgid, 0) == 0;
	struct dirent *de;
	while (!live && (de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		if (*end || pid <= 1 || pid == pgid)
			continue;
		if (proc_stat_read((pid_t)pid, &st) == 0 && st.pgrp == pgid &&
		    st.state != 'Z' && st.start_ticks >= leader_ticks)
			live = 1;
	}
	closedir(d);
	return live;
}

/* Hand the read ends to the loop; the proc owns them from here. */
static int proc_watch(struct proc *p, struct proc_launch *c, struct err *e)
{
	p->fd[0] = c->out[0];
	p->fd[1] = c->err[0];
	c->out[0] = c->err[0] = -1;
	for (int i = 0; i < 2; i++) {
		int fl = fcntl(p->fd[i], F_GETFL);
		if (fl < 0 || fcntl(p->fd[i], F_SETFL, fl | O_NONBLOCK) < 0)
			return err_errno(e, "cannot run '%s': pipe",
					 c->argv[0]);
		if (loop_fd_add(p->r->loop, p->fd[i], POLLIN, proc_on_readable,
				p, e) < 0)
			return -1;
	}
	return 0;
}

/* The parent-side record, before the child exists. */
static struct proc *proc_new(struct proc_reaper *r, const struct proc_spec *spec)
{
	struct proc *p = xcalloc(1, sizeof *p);
	p->r = r;
	p->fd[0] = p->fd[1] = -1;
	p->grace_ms = spec->grace_ms > 0 ? spec->grace_ms : PROC_GRACE_MS_DEFAULT;
	p->on_output = spec->on_output;
	p->on_exit = spec->on_exit;
	p->arg = spec->arg;
	return p;
}

/* fork, exec, and plug the child into the loop; see proc.h for the promises. */
struct proc *proc_spawn(struct proc_reaper *r, const struct proc_spec *spec,
			struct err *e)
{
	if (!spec->argv || !spec->argv[0] || !spec->argv[0][0]) {
		err_set(e, "cannot run an empty command");
		return NULL;
	}
	struct proc_launch c = {
		.devnull = -1,
		.out = { -1, -1 }, .err = { -1, -1 }, .status = { -1, -1 },
		.go = { -1, -1 },
	};
	if (proc_launch_prepare(&c, spec, e) < 0) {
		proc_launch_release(&c);
		return NULL;
	}
	struct proc *p = proc_new(r, spec);
	p->start_ns = clock_mono_ns();
	p->pid = proc_fork(&c);
	if (p->pid < 0) {
		err_errno(e, "cannot run '%s': fork", spec->argv[0]);
		goto fail;
	}
	proc_fd_close(&c.out[1]);
	proc_fd_close(&c.err[1]);
	proc_fd_close(&c.devnull);
	if (spec->on_spawn && proc_release_child(&c, p->pid, spec, e) < 0)
		goto fail;
	if (proc_exec_wait(&c, p->pid, spec, e) < 0)
		goto fail;
	p->next = r->procs;
	r->procs = p;
	if (proc_watch(p, &c, e) < 0) {
		proc_launch_release(&c);
		proc_abandon(p);
		proc_reap(p);
		free(p);
		return NULL;
	}
	if (spec->timeout_ms > 0)
		p->timeout_timer = loop_timer_add(r->loop, spec->timeout_ms,
						  proc_on_timeout, p);
	proc_launch_release(&c);
	return p;
fail:
	proc_launch_release(&c);
	free(p);
	return NULL;
}
