#include "util/resolve.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <poll.h>
#include <unistd.h>

#include "util/xalloc.h"

/* What the lookup thread and the loop share. The mutex guards `abandoned`
 * and the write end of the pipe: the thread writes only while the loop
 * side still holds it, so it can never write into a reused fd number.
 * The last of the two to let go frees it. */
struct shared {
	pthread_mutex_t mu;
	int refs;
	bool abandoned;
	int wfd;
	char *host;
	int gai; /* getaddrinfo's result code */
	int saved_errno;
	char addrs[RESOLVE_MAX_ADDRS][46];
	size_t n;
};

struct resolve {
	struct loop *loop;
	int rfd;
	struct shared *sh;
	resolve_done_fn *done;
	void *arg;
};

static void shared_unref(struct shared *sh)
{
	pthread_mutex_lock(&sh->mu);
	int left = --sh->refs;
	pthread_mutex_unlock(&sh->mu);
	if (left)
		return;
	pthread_mutex_destroy(&sh->mu);
	free(sh->host);
	free(sh);
}

static void keep_addrs(struct shared *sh, const struct addrinfo *ai)
{
	for (; ai && sh->n < RESOLVE_MAX_ADDRS; ai = ai->ai_next) {
		char text[46];
		const void *a = ai->ai_family == AF_INET
					? (const void *)&((const struct sockaddr_in *)(const void *)ai->ai_addr)->sin_addr
					: (const void *)&((const struct sockaddr_in6 *)(const void *)ai->ai_addr)->sin6_addr;
		if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
		    !inet_ntop(ai->ai_family, a, text, sizeof text))
			continue;
		bool dup = false;
		for (size_t i = 0; i < sh->n && !dup; i++)
			dup = !strcmp(sh->addrs[i], text);
		if (!dup)
			memcpy(sh->addrs[sh->n++], text, sizeof text);
	}
}

static void *lookup_thread(void *arg)
{
	struct shared *sh = arg;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_ADDRCONFIG };
	struct addrinfo *res = NULL;
	int gai = getaddrinfo(sh->host, NULL, &hints, &res);
	int saved = errno;
	pthread_mutex_lock(&sh->mu);
	sh->gai = gai;
	sh->saved_errno = saved;
	if (gai == 0)
		keep_addrs(sh, res);
	if (!sh->abandoned) {
		char one = 1;
		ssize_t w = write(sh->wfd, &one, 1);
		(void)w; /* a full pipe already says "ready" */
	}
	pthread_mutex_unlock(&sh->mu);
	if (res)
		freeaddrinfo(res);
	shared_unref(sh);
	return NULL;
}

static void on_ready(struct loop *l, int fd, short revents, void *arg)
{
	struct resolve *rq = arg;
	(void)revents;
	loop_fd_remove(l, fd);
	rq->done(rq, rq->arg);
}

/* A numeric address needs no lookup and no thread: it is its own answer,
 * delivered through the pipe like any other. */
static bool numeric_answer(struct shared *sh)
{
	unsigned char buf[sizeof(struct in6_addr)];
	if (inet_pton(AF_INET, sh->host, buf) != 1 && inet_pton(AF_INET6, sh->host, buf) != 1)
		return false;
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_NUMERICHOST };
	struct addrinfo *res = NULL;
	sh->gai = getaddrinfo(sh->host, NULL, &hints, &res);
	if (sh->gai == 0)
		keep_addrs(sh, res);
	if (res)
		freeaddrinfo(res);
	char one = 1;
	ssize_t w = write(sh->wfd, &one, 1);
	(void)w;
	return true;
}

struct resolve *resolve_start(struct loop *l, const char *host,
			      resolve_done_fn *done, void *arg, struct err *e)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0) {
		err_errno(e, "cannot look up '%s'", host);
		return NULL;
	}
	struct shared *sh = xcalloc(1, sizeof *sh);
	pthread_mutex_init(&sh->mu, NULL);
	sh->refs = 2;
	sh->wfd = p[1];
	sh->host = xstrdup(host);
	struct resolve *rq = xcalloc(1, sizeof *rq);
	*rq = (struct resolve){ .loop = l, .rfd = p[0], .sh = sh, .done = done, .arg = arg };
	if (loop_fd_add(l, p[0], POLLIN, on_ready, rq, e) < 0)
		goto fail;
	if (numeric_answer(sh)) {
		sh->refs = 1; /* no thread holds it */
		return rq;
	}
	/* signals stay with the loop's thread */
	sigset_t all, old;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	pthread_t t;
	int rc = pthread_create(&t, &attr, lookup_thread, sh);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (rc != 0) {
		errno = rc;
		err_errno(e, "cannot look up '%s'", host);
		loop_fd_remove(l, p[0]);
		goto fail;
	}
	return rq;
fail:
	close(p[0]);
	close(p[1]);
	pthread_mutex_destroy(&sh->mu);
	free(sh->host);
	free(sh);
	free(rq);
	return NULL;
}

int resolve_result(const struct resolve *rq, char addrs[][46], size_t *n,
		   struct err *e)
{
	struct shared *sh = rq->sh;
	pthread_mutex_lock(&sh->mu);
	int gai = sh->gai, saved = sh->saved_errno;
	*n = sh->n;
	memcpy(addrs, sh->addrs, sh->n * sizeof sh->addrs[0]);
	pthread_mutex_unlock(&sh->mu);
	if (gai == EAI_SYSTEM) {
		errno = saved;
		return err_errno(e, "%s", sh->host);
	}
	if (gai)
		return err_set(e, "%s: %s", sh->host, gai_strerror(gai));
	if (!*n)
		return err_set(e, "%s: no address", sh->host);
	return 0;
}

void resolve_free(struct resolve *rq)
{
	if (!rq)
		return;
	struct shared *sh = rq->sh;
	loop_fd_remove(rq->loop, rq->rfd);
	pthread_mutex_lock(&sh->mu);
	sh->abandoned = true;
	close(sh->wfd);
	sh->wfd = -1;
	pthread_mutex_unlock(&sh->mu);
	close(rq->rfd);
	shared_unref(sh);
	free(rq);
}

int resolve_addrinfo(const struct resolve *rq, int port, struct addrinfo **out,
		     struct err *e)
{
	char addrs[RESOLVE_MAX_ADDRS][46], service[16];
	size_t n;
	struct addrinfo *head = NULL, **tail = &head;
	if (resolve_result(rq, addrs, &n, e) < 0)
		return -1;
	snprintf(service, sizeof service, "%d", port);
	for (size_t i = 0; i < n; i++) {
		struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
					  .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
		struct addrinfo *one = NULL;
		if (getaddrinfo(addrs[i], service, &hints, &one) != 0)
			continue;
		*tail = one;
		while (*tail)
			tail = &(*tail)->ai_next;
	}
	if (!head)
		return err_set(e, "%s: no usable address", rq->sh->host);
	*out = head;
	return 0;
}
