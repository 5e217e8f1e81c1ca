/* The pattern of curl's docs/examples/multi-event.c and ephiperfifo.c,
 * on qrh's loop. The loop already dispatches one fd at a time from its own
 * snapshot and never hands a removed (or re-added) fd stale readiness, so
 * the fd table kept here only has to mirror what libcurl asked for. */
#include "actions/http_multi.h"

#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

struct watch {
	curl_socket_t fd;
	short events;
};

struct transfer {
	CURL *easy;
	http_done_fn *done;
	void *arg;
};

struct http_multi {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer; /* the one deadline libcurl asked for; 0: none */
	struct watch *w;
	size_t n_w, cap_w;
	struct transfer *t;
	size_t n_t, cap_t;
	int depth;    /* dispatches on the stack */
	bool doomed;  /* freed during a dispatch: destroy when it unwinds */
};

static struct watch *watch_find(struct http_multi *m, curl_socket_t fd)
{
	for (size_t i = 0; i < m->n_w; i++)
		if (m->w[i].fd == fd)
			return &m->w[i];
	return NULL;
}

static void watch_forget(struct http_multi *m, curl_socket_t fd)
{
	struct watch *w = watch_find(m, fd);
	if (!w)
		return;
	loop_fd_remove(m->loop, fd);
	*w = m->w[--m->n_w];
}

static void drive(struct http_multi *m, curl_socket_t fd, int ev);

static void on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct http_multi *m = arg;
	int ev = 0;
	(void)l;
	if (revents & POLLIN)
		ev |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		ev |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP | POLLNVAL))
		ev |= CURL_CSELECT_ERR;
	if (revents & POLLNVAL)
		watch_forget(m, fd); /* closed under us: do not spin on it */
	drive(m, fd, ev);
}

/* CURLMOPT_SOCKETFUNCTION: record only. */
static int on_socket(CURL *easy, curl_socket_t fd, int what, void *userp,
		     void *socketp)
{
	struct http_multi *m = userp;
	(void)easy;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		watch_forget(m, fd); /* libcurl's socket: never closed here */
		return 0;
	}
	short ev = (short)(((what & CURL_POLL_IN) ? POLLIN : 0) |
			   ((what & CURL_POLL_OUT) ? POLLOUT : 0));
	struct watch *w = watch_find(m, fd);
	if (w) {
		w->events = ev;
		return loop_fd_set(m->loop, fd, ev) < 0 ? -1 : 0;
	}
	if (loop_fd_add(m->loop, fd, ev, on_fd, m, NULL) < 0)
		return -1;
	m->w = xgrow(m->w, &m->cap_w, m->n_w + 1, sizeof *m->w);
	m->w[m->n_w++] = (struct watch){ fd, ev };
	return 0;
}

static void on_timer(struct loop *l, uint64_t id, void *arg)
{
	struct http_multi *m = arg;
	(void)l;
	(void)id;
	m->timer = 0;
	drive(m, CURL_SOCKET_TIMEOUT, 0);
}

/* CURLMOPT_TIMERFUNCTION: one deadline; a new one replaces it, -1 deletes
 * it, 0 means at once (a zero-delay loop timer: later, from the loop). */
static int on_timer_set(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_multi *m = userp;
	(void)multi;
	if (m->timer)
		loop_timer_cancel(m->loop, m->timer);
	m->timer = timeout_ms >= 0 ? loop_timer_add(m->loop, timeout_ms, on_timer, m) : 0;
	return 0;
}

static bool transfer_take(struct http_multi *m, CURL *easy, struct transfer *out)
{
	for (size_t i = 0; i < m->n_t; i++) {
		if (m->t[i].easy != easy)
			continue;
		*out = m->t[i];
		memmove(&m->t[i], &m->t[i + 1], (m->n_t - i - 1) * sizeof *m->t);
		m->n_t--;
		return true;
	}
	return false;
}

static void destroy(struct http_multi *m)
{
	for (size_t i = 0; i < m->n_t; i++)
		curl_multi_remove_handle(m->multi, m->t[i].easy);
	m->n_t = 0;
	curl_multi_cleanup(m->multi); /* may still report sockets removed */
	while (m->n_w)
		watch_forget(m, m->w[0].fd);
	if (m->timer)
		loop_timer_cancel(m->loop, m->timer);
	free(m->w);
	free(m->t);
	free(m);
	curl_global_cleanup();
}

/* Hands every finished transfer to its owner. A done callback may free
 * the multi handle: stop reading messages then. */
static void drain(struct http_multi *m)
{
	CURLMsg *msg;
	int left;
	while (!m->doomed && (msg = curl_multi_info_read(m->multi, &left))) {
		if (msg->msg != CURLMSG_DONE)
			continue;
		CURL *easy = msg->easy_handle;
		CURLcode rc = msg->data.result;
		struct transfer t;
		/* msg is invalid after remove_handle: read it first */
		curl_multi_remove_handle(m->multi, easy);
		if (transfer_take(m, easy, &t))
			t.done(t.arg, easy, rc);
	}
}

static void drive(struct http_multi *m, curl_socket_t fd, int ev)
{
	int running;
	m->depth++;
	curl_multi_socket_action(m->multi, fd, ev, &running);
	drain(m);
	m->depth--;
	if (!m->depth && m->doomed)
		destroy(m);
}

struct http_multi *http_multi_new(struct loop *loop, struct err *e)
{
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(e, "cannot initialise libcurl");
		return NULL;
	}
	struct http_multi *m = xcalloc(1, sizeof *m);
	m->loop = loop;
	m->multi = curl_multi_init();
	if (!m->multi) {
		free(m);
		curl_global_cleanup();
		err_set(e, "cannot create a libcurl multi handle");
		return NULL;
	}
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(m->multi, CURLMOPT_SOCKETDATA, m);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(m->multi, CURLMOPT_TIMERDATA, m);
	/* only probes leave connections open (actions/http_request.c): as
	 * many as distinct places a large runbook probes, each an fd */
	curl_multi_setopt(m->multi, CURLMOPT_MAXCONNECTS, (long)HTTP_MULTI_MAX_IDLE);
	return m;
}

void http_multi_free(struct http_multi *m)
{
	if (!m)
		return;
	if (m->depth) {
		m->doomed = true;
		return;
	}
	destroy(m);
}

int http_multi_add(struct http_multi *m, CURL *easy, http_done_fn *done,
		   void *arg, struct err *e)
{
	CURLMcode rc = curl_multi_add_handle(m->multi, easy);
	if (rc != CURLM_OK)
		return err_set(e, "cannot start the request: %s", curl_multi_strerror(rc));
	m->t = xgrow(m->t, &m->cap_t, m->n_t + 1, sizeof *m->t);
	m->t[m->n_t++] = (struct transfer){ easy, done, arg };
	return 0;
}

void http_multi_remove(struct http_multi *m, CURL *easy)
{
	struct transfer t;
	if (transfer_take(m, easy, &t))
		curl_multi_remove_handle(m->multi, easy);
}

size_t http_multi_sockets(const struct http_multi *m)
{
	return m->n_w;
}

size_t http_multi_transfers(const struct http_multi *m)
{
	return m->n_t;
}
