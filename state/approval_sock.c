/* approval_sock.c: the local approval socket (state/approval_sock.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "state/approval_sock.h"
#include "util/buf.h"
#include "util/xalloc.h"

struct client {
	int fd; /* -1: free */
	uid_t uid;
	pid_t pid;
	struct buf in, out;
	size_t out_off;
	bool answered;
	uint64_t age;
};

struct approval_sock {
	struct loop *loop;
	int fd;
	char path[sizeof ((struct sockaddr_un *)0)->sun_path];
	approval_hello_fn *hello;
	approval_answer_fn *answer;
	void *arg;
	struct client c[APPROVAL_CLIENTS];
	uint64_t ages;
};

static const char *base_dir(void)
{
	const char *b = getenv("QRH_APPROVE_DIR");
	return b && *b ? b : "/tmp";
}

/* A directory uid owns, not a link, that nobody else may write. */
static int dir_trusted(const char *dir, uid_t uid, struct err *e)
{
	struct stat st;
	if (lstat(dir, &st) < 0)
		return err_set(e, "approval directory '%s': %s", dir, strerror(errno));
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 022))
		return err_set(e, "approval directory '%s' is not a directory of uid %u "
			       "that only it may write: refused", dir, (unsigned)uid);
	return 0;
}

/* ---- the console's end ---- */

static void client_drop(struct approval_sock *s, struct client *c)
{
	if (c->fd < 0)
		return;
	loop_fd_remove(s->loop, c->fd);
	close(c->fd);
	c->fd = -1;
	buf_release(&c->in);
	buf_release(&c->out);
}

static void queue(struct approval_sock *s, struct client *c, cJSON *o)
{
	char *t = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	if (t) {
		buf_adds(&c->out, t);
		buf_addc(&c->out, '\n');
		cJSON_free(t);
	}
	loop_fd_set(s->loop, c->fd, POLLOUT);
}

static void on_line(struct approval_sock *s, struct client *c)
{
	char *nl = memchr(c->in.data, '\n', c->in.len);
	if (!nl || c->answered)
		return;
	*nl = '\0';
	cJSON *a = cJSON_Parse(c->in.data);
	cJSON *reply;
	if (!cJSON_IsObject(a)) {
		reply = cJSON_CreateObject();
		cJSON_AddBoolToObject(reply, "ok", false);
		cJSON_AddStringToObject(reply, "message", "the answer is not a JSON object");
	} else {
		reply = s->answer(s->arg, c->uid, c->pid, a);
	}
	cJSON_Delete(a);
	c->answered = true;
	queue(s, c, reply);
}

static void on_client(struct loop *l, int fd, short revents, void *arg)
{
	struct approval_sock *s = arg;
	struct client *c = NULL;
	(void)l;
	for (size_t k = 0; k < APPROVAL_CLIENTS; k++)
		if (s->c[k].fd == fd)
			c = &s->c[k];
	if (!c)
		return;
	if (revents & POLLOUT) {
		ssize_t n = send(fd, c->out.data + c->out_off, c->out.len - c->out_off,
				 MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n < 0 && errno != EAGAIN && errno != EINTR) {
			client_drop(s, c);
			return;
		}
		if (n > 0)
			c->out_off += (size_t)n;
		if (c->out_off == c->out.len) {
			if (c->answered) {
				client_drop(s, c);
				return;
			}
			loop_fd_set(s->loop, fd, POLLIN);
		}
		return;
	}
	char tmp[4096];
	ssize_t n = recv(fd, tmp, sizeof tmp, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR) ||
	    (n > 0 && buf_add(&c->in, tmp, (size_t)n) < 0)) {
		client_drop(s, c); /* gone, or a line too long */
		return;
	}
	on_line(s, c);
}

static struct client *free_slot(struct approval_sock *s)
{
	struct client *old = &s->c[0];
	for (size_t k = 0; k < APPROVAL_CLIENTS; k++) {
		if (s->c[k].fd < 0)
			return &s->c[k];
		if (s->c[k].age < old->age)
			old = &s->c[k];
	}
	client_drop(s, old);
	return old;
}

static void on_accept(struct loop *l, int fd, short revents, void *arg)
{
	struct approval_sock *s = arg;
	struct err e;
	(void)revents;
	int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (cfd < 0)
		return;
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(cfd, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0) {
		close(cfd);
		return;
	}
	struct client *c = free_slot(s);
	*c = (struct client){ .fd = cfd, .uid = cr.uid, .pid = cr.pid, .age = ++s->ages };
	buf_init(&c->in, APPROVAL_LINE_MAX);
	buf_init(&c->out, BUF_UNLIMITED);
	if (loop_fd_add(l, cfd, POLLOUT, on_client, s, &e) < 0) {
		close(cfd);
		c->fd = -1;
		buf_release(&c->in);
		buf_release(&c->out);
		return;
	}
	queue(s, c, s->hello(s->arg));
}

static int make_dir(char *dir, size_t n, struct err *e)
{
	uid_t uid = geteuid();
	snprintf(dir, n, "%s/qrh-approve-%u", base_dir(), (unsigned)uid);
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return err_set(e, "cannot make approval directory '%s': %s", dir, strerror(errno));
	if (dir_trusted(dir, uid, e) < 0)
		return -1;
	/* another umask may have made it narrower: others must reach in */
	if (chmod(dir, 0711) < 0)
		return err_set(e, "approval directory '%s': %s", dir, strerror(errno));
	return 0;
}

struct approval_sock *approval_sock_open(struct loop *l, const char *uuid,
					 approval_hello_fn *hello,
					 approval_answer_fn *answer, void *arg,
					 struct err *e)
{
	char dir[sizeof ((struct sockaddr_un *)0)->sun_path];
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	if (make_dir(dir, sizeof dir, e) < 0)
		return NULL;
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s.sock", dir, uuid) >=
	    sizeof sa.sun_path) {
		err_set(e, "approval socket path under '%s' is too long", dir);
		return NULL;
	}
	struct approval_sock *s = xcalloc(1, sizeof *s);
	for (size_t k = 0; k < APPROVAL_CLIENTS; k++)
		s->c[k].fd = -1;
	s->loop = l;
	s->hello = hello;
	s->answer = answer;
	s->arg = arg;
	memcpy(s->path, sa.sun_path, sizeof s->path);
	unlink(s->path); /* our own, left by a qrh that died */
	s->fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	int rc = s->fd < 0 || bind(s->fd, (struct sockaddr *)&sa, sizeof sa) < 0 ||
		 chmod(s->path, 0666) < 0 || listen(s->fd, APPROVAL_CLIENTS) < 0
		 ? err_errno(e, "approval socket '%s'", s->path)
		 : loop_fd_add(l, s->fd, POLLIN, on_accept, s, e);
	if (rc < 0) {
		if (s->fd >= 0)
			close(s->fd);
		unlink(s->path);
		free(s);
		return NULL;
	}
	return s;
}

const char *approval_sock_path(const struct approval_sock *s)
{
	return s->path;
}

void approval_sock_close(struct approval_sock *s)
{
	if (!s)
		return;
	for (size_t k = 0; k < APPROVAL_CLIENTS; k++)
		client_drop(s, &s->c[k]);
	loop_fd_remove(s->loop, s->fd);
	close(s->fd);
	unlink(s->path);
	free(s);
}

/* ---- the approver's end ---- */

static int read_line(int fd, int timeout_ms, cJSON **out, struct err *e)
{
	struct buf b;
	buf_init(&b, APPROVAL_LINE_MAX);
	for (;;) {
		char *nl = memchr(b.data, '\n', b.len);
		if (nl) {
			*nl = '\0';
			*out = cJSON_Parse(b.data);
			buf_release(&b);
			return cJSON_IsObject(*out) ? 0 : err_set(e, "the console sent something that is not JSON");
		}
		struct pollfd p = { .fd = fd, .events = POLLIN };
		int rc = poll(&p, 1, timeout_ms);
		if (rc < 0 && errno == EINTR)
			continue;
		char tmp[4096];
		ssize_t n = rc > 0 ? read(fd, tmp, sizeof tmp) : -1;
		if (rc == 0 || n <= 0 || buf_add(&b, tmp, (size_t)n) < 0) {
			buf_release(&b);
			return err_set(e, rc == 0 ? "the console did not answer in time"
					       : "the console closed the connection");
		}
	}
}

/* The socket of run uuid in operator directory `dir` (name qrh-approve-UID). */
static int try_dir(const char *base, const char *name, const char *uuid, int *fd,
		   uid_t *uid, struct err *e)
{
	char *end;
	unsigned long u = strtoul(name + strlen("qrh-approve-"), &end, 10);
	if (*end)
		return 1;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char dir[sizeof sa.sun_path];
	snprintf(dir, sizeof dir, "%s/%s", base, name);
	if ((size_t)snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s.sock", dir, uuid) >=
	    sizeof sa.sun_path)
		return 1;
	struct stat st;
	if (lstat(sa.sun_path, &st) < 0)
		return 1; /* not this operator's run */
	if (dir_trusted(dir, (uid_t)u, e) < 0)
		return -1;
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0 || connect(s, (struct sockaddr *)&sa, sizeof sa) < 0) {
		err_set(e, "cannot reach the console of run %s (%s): is it still running?",
			uuid, strerror(errno));
		if (s >= 0)
			close(s);
		return -1;
	}
	struct ucred cr;
	socklen_t len = sizeof cr;
	if (getsockopt(s, SOL_SOCKET, SO_PEERCRED, &cr, &len) < 0 || cr.uid != (uid_t)u) {
		close(s);
		return err_set(e, "the socket of run %s is not served by uid %lu: refused", uuid, u);
	}
	*fd = s;
	*uid = cr.uid;
	return 0;
}

int approval_sock_connect(const char *uuid, int timeout_ms, int *fd,
			  uid_t *console_uid, cJSON **hello, struct err *e)
{
	const char *base = base_dir();
	DIR *d = opendir(base);
	if (!d)
		return err_set(e, "cannot read '%s': %s", base, strerror(errno));
	int rc = 1;
	struct dirent *de;
	while (rc == 1 && (de = readdir(d)))
		if (!strncmp(de->d_name, "qrh-approve-", 12))
			rc = try_dir(base, de->d_name, uuid, fd, console_uid, e);
	closedir(d);
	if (rc == 1)
		return err_set(e, "no console of run %s is waiting for approvals on this "
			       "machine (under %s)", uuid, base);
	if (rc < 0)
		return -1;
	if (read_line(*fd, timeout_ms, hello, e) < 0) {
		close(*fd);
		return -1;
	}
	return 0;
}

int approval_sock_ask(int fd, const cJSON *answer, int timeout_ms,
		      cJSON **reply, struct err *e)
{
	char *t = cJSON_PrintUnformatted(answer);
	size_t n = strlen(t), off = 0;
	t[n] = '\n'; /* the NUL becomes the line's end */
	while (off < n + 1) {
		ssize_t w = send(fd, t + off, n + 1 - off, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			cJSON_free(t);
			return err_set(e, "cannot send the answer: %s", strerror(errno));
		}
		off += (size_t)w;
	}
	cJSON_free(t);
	return read_line(fd, timeout_ms, reply, e);
}
