/* curl_loop.c: libcurl's multi-socket API on qrh's loop (the pattern of
 * curl's docs/examples/multi-event.c). The loop dispatches one fd at a
 * time and never hands a removed or re-added fd stale readiness, so the
 * table here only mirrors what libcurl asked for. */
#include "util/curl_loop.h"

#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct sock {
	curl_socket_t fd;
};

struct xfer {
	CURL *easy;
	curl_loop_done_fn *done;
	void *arg;
};

struct curl_loop {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer; /* libcurl's one deadline; 0: none */
	struct sock *socks;
	size_t n_socks, cap_socks;
	struct xfer *xfers;
	size_t n_xfers, cap_xfers;
	int depth;   /* dispatches on the stack */
	bool doomed; /* freed during one: destroyed when it unwinds */
};

static struct sock *sock_find(struct curl_loop *cl, curl_socket_t fd)
{
	for (size_t i = 0; i < cl->n_socks; i++)
		if (cl->socks[i].fd == fd)
			return &cl->socks[i];
	return NULL;
}

static void sock_forget(struct curl_loop *cl, curl_socket_t fd)
{
	struct sock *s = sock_find(cl, fd);
	if (!s)
		return;
	loop_fd_remove(cl->loop, fd);
	*s = cl->socks[--cl->n_socks];
}

static void dispatch(struct curl_loop *cl, curl_socket_t fd, int what);

static void on_ready(struct loop *l, int fd, short revents, void *arg)
{
	struct curl_loop *cl = arg;
	int what = 0;
	(void)l;
	if (revents & POLLIN)
		what |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		what |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		what |= CURL_CSELECT_ERR;
	if (revents & POLLNVAL)
		sock_forget(cl, fd); /* closed under us: do not spin on it */
	dispatch(cl, fd, what);
}

/* CURLMOPT_SOCKETFUNCTION: records what to watch, nothing more. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct curl_loop *cl = userp;
	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		sock_forget(cl, fd);
		return 0;
	}
	short events = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
			       ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	if (sock_find(cl, fd))
		return loop_fd_set(cl->loop, fd, events) < 0 ? -1 : 0;
	if (loop_fd_add(cl->loop, fd, events, on_ready, cl, NULL) < 0)
		return -1;
	cl->socks = xgrow(cl->socks, &cl->cap_socks, cl->n_socks + 1, sizeof *cl->socks);
	cl->socks[cl->n_socks++].fd = fd;
	return 0;
}

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct curl_loop *cl = arg;
	(void)l;
	(void)id;
	cl->timer = 0;
	dispatch(cl, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: one deadline; a new one replaces it, -1 drops
 * it, 0 is "at once" — from the loop, not from here. */
static int on_timer_set(CURLM *multi, long ms, void *userp)
{
	struct curl_loop *cl = userp;
	(void)multi;
	if (cl->timer)
		loop_timer_cancel(cl->loop, cl->timer);
	cl->timer = ms >= 0 ? loop_timer_add(cl->loop, ms, on_timer, cl) : 0;
	return 0;
}

static bool xfer_take(struct curl_loop *cl, CURL *easy, struct xfer *out)
{
	for (size_t i = 0; i < cl->n_xfers; i++) {
		if (cl->xfers[i].easy != easy)
			continue;
		*out = cl->xfers[i];
		cl->xfers[i] = cl->xfers[--cl->n_xfers];
		return true;
	}
	return false;
}

static void destroy(struct curl_loop *cl)
{
	for (size_t i = 0; i < cl->n_xfers; i++)
		curl_multi_remove_handle(cl->multi, cl->xfers[i].easy);
	cl->n_xfers = 0;
	curl_multi_cleanup(cl->multi);
	while (cl->n_socks)
		sock_forget(cl, cl->socks[0].fd);
	if (cl->timer)
		loop_timer_cancel(cl->loop, cl->timer);
	free(cl->socks);
	free(cl->xfers);
	free(cl);
	curl_global_cleanup();
}

/* Every finished transfer to its owner; a done may free cl. */
static void finished(struct curl_loop *cl)
{
	CURLMsg *msg;
	int left;
	while (!cl->doomed && (msg = curl_multi_info_read(cl->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode result = msg->data.result;
		struct xfer x;
		curl_multi_remove_handle(cl->multi, easy); /* msg is gone after this */
		if (xfer_take(cl, easy, &x))
			x.done(x.arg, easy, result);
	}
}

static void dispatch(struct curl_loop *cl, curl_socket_t fd, int what)
{
	int running;
	cl->depth++;
	curl_multi_socket_action(cl->multi, fd, what, &running);
	finished(cl);
	cl->depth--;
	if (!cl->depth && cl->doomed)
		destroy(cl);
}

struct curl_loop *curl_loop_new(struct loop *loop, struct err *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(e, "cannot initialise libcurl");
		return NULL;
	}
	struct curl_loop *cl = xcalloc(1, sizeof *cl);
	cl->loop = loop;
	cl->multi = curl_multi_init();
	if (!cl->multi) {
		free(cl);
		curl_global_cleanup();
		err_set(e, "cannot create a libcurl multi handle");
		return NULL;
	}
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	return cl;
}

void curl_loop_free(struct curl_loop *cl)
{
	if (!cl)
		return;
	if (cl->depth)
		cl->doomed = true;
	else
		destroy(cl);
}

int curl_loop_add(struct curl_loop *cl, CURL *easy, curl_loop_done_fn *done, void *arg,
		  struct err *e)
{
	CURLMcode rc = curl_multi_add_handle(cl->multi, easy);
	if (rc != CURLM_OK)
		return err_set(e, "cannot start the request: %s", curl_multi_strerror(rc));
	cl->xfers = xgrow(cl->xfers, &cl->cap_xfers, cl->n_xfers + 1, sizeof *cl->xfers);
	cl->xfers[cl->n_xfers++] = (struct xfer){ easy, done, arg };
	return 0;
}

void curl_loop_remove(struct curl_loop *cl, CURL *easy)
{
	struct xfer x;
	if (xfer_take(cl, easy, &x))
		curl_multi_remove_handle(cl->multi, easy);
}

size_t curl_loop_count(const struct curl_loop *cl)
{
	return cl->n_xfers;
}
