#include "util/resolve.h"

#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/xalloc.h"

/* Shared by the loop side and the thread; whoever lets go last frees it.
 * The thread writes res/rc before it signals the eventfd, and the loop
 * reads them only after reading the eventfd: the eventfd write/read pair
 * orders them, and the reference count (acq_rel) orders the frees. */
struct resolve {
	struct loop *loop;
	resolve_fn *cb;
	void *arg;
	char *host;
	char port[8];
	int efd;
	bool watched;
	uint64_t timer; /* numeric answers go out through a timer */
	struct addrinfo *res;
	int rc;
	char why[128]; /* getaddrinfo's message when rc != 0 */
	atomic_bool done; /* res, rc and why are written */
	atomic_int refs;
};

static void unref(struct resolve *r)
{
	if (atomic_fetch_sub_explicit(&r->refs, 1, memory_order_acq_rel) != 1)
		return;
	if (r->res)
		freeaddrinfo(r->res);
	if (r->efd >= 0)
		close(r->efd);
	free(r->host);
	free(r);
}

static const struct addrinfo *hints(bool numeric)
{
	/* no AI_ADDRCONFIG: a machine with only loopback must still find
	 * localhost */
	static const struct addrinfo tcp = { .ai_socktype = SOCK_STREAM };
	static const struct addrinfo tcp_numeric = {
		.ai_socktype = SOCK_STREAM,
		.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV,
	};
	return numeric ? &tcp_numeric : &tcp;
}

static void *lookup_thread(void *arg)
{
	struct resolve *r = arg;
	uint64_t one = 1;
	r->rc = getaddrinfo(r->host, r->port, hints(false), &r->res);
	if (r->rc != 0) {
		r->res = NULL;
		snprintf(r->why, sizeof r->why, "%s",
			 r->rc == EAI_SYSTEM ? strerror(errno) : gai_strerror(r->rc));
	}
	atomic_store_explicit(&r->done, true, memory_order_release);
	/* an eventfd write cannot block or raise SIGPIPE */
	if (write(r->efd, &one, sizeof one) < 0) {
		/* nothing to do: the loop side has gone or will time out */
	}
	unref(r);
	return NULL;
}

/* Hands the answer to the caller; the handle is gone afterwards. */
static void deliver(struct resolve *r)
{
	struct addrinfo *res = r->res;
	char why[sizeof r->why];
	resolve_fn *cb = r->cb;
	void *arg = r->arg;
	memcpy(why, r->why, sizeof why);
	r->res = NULL;
	if (r->watched)
		loop_fd_remove(r->loop, r->efd);
	r->watched = false;
	unref(r);
	cb(arg, res, why);
}

static void on_eventfd(struct loop *l, int fd, short revents, void *arg)
{
	struct resolve *r = arg;
	uint64_t n;
	(void)l;
	(void)revents;
	if (read(fd, &n, sizeof n) < 0 && errno == EAGAIN)
		return;
	if (atomic_load_explicit(&r->done, memory_order_acquire))
		deliver(r);
}

static void on_numeric(struct loop *l, uint64_t id, void *arg)
{
	struct resolve *r = arg;
	(void)l;
	(void)id;
	r->timer = 0;
	deliver(r);
}

static int start_thread(struct resolve *r, struct err *e)
{
	pthread_attr_t attr;
	pthread_t tid;
	sigset_t all, old;
	if (pthread_attr_init(&attr) != 0)
		return err_set(e, "cannot start a resolver thread");
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	/* a small stack: the thread only calls getaddrinfo */
	pthread_attr_setstacksize(&attr, 256 * 1024);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	atomic_fetch_add_explicit(&r->refs, 1, memory_order_relaxed);
	int rc = pthread_create(&tid, &attr, lookup_thread, r);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		atomic_fetch_sub_explicit(&r->refs, 1, memory_order_relaxed);
		errno = rc;
		return err_errno(e, "cannot start a resolver thread for '%s'", r->host);
	}
	return 0;
}

struct resolve *resolve_start(struct loop *l, const char *host, int port,
			      resolve_fn *cb, void *arg, struct err *e)
{
	struct resolve *r = xcalloc(1, sizeof *r);
	r->loop = l;
	r->cb = cb;
	r->arg = arg;
	r->host = xstrdup(host);
	r->efd = -1;
	snprintf(r->port, sizeof r->port, "%d", port);
	atomic_init(&r->refs, 1);
	atomic_init(&r->done, false);
	if (getaddrinfo(host, r->port, hints(true), &r->res) == 0) {
		r->timer = loop_timer_add(l, 0, on_numeric, r);
		return r;
	}
	r->res = NULL;
	r->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->efd < 0) {
		err_errno(e, "cannot resolve '%s': eventfd", host);
		unref(r);
		return NULL;
	}
	if (loop_fd_add(l, r->efd, POLLIN, on_eventfd, r, e) < 0) {
		unref(r);
		return NULL;
	}
	r->watched = true;
	if (start_thread(r, e) < 0) {
		loop_fd_remove(l, r->efd);
		unref(r);
		return NULL;
	}
	return r;
}

void resolve_cancel(struct resolve *r)
{
	if (!r)
		return;
	if (r->timer)
		loop_timer_cancel(r->loop, r->timer);
	r->timer = 0;
	if (r->watched)
		loop_fd_remove(r->loop, r->efd);
	r->watched = false;
	unref(r);
}
