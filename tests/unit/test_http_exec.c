/* Tests for the http executor (actions/http.c) through its action_entry,
 * on a real loop, against a real HTTP/1.1 server on loopback that this
 * file runs on the same loop (so a test can make it answer 503 N times,
 * answer late, never answer, or never even accept). Timing assertions are
 * lower bounds from the executor's own rules, or upper bounds far above
 * what any machine needs; nothing asserts speed. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "actions/action.h"
#include "util/buf.h"
#include "util/clock.h"
#include "util/loop.h"
#include "util/xalloc.h"

#define LIMIT_MS 20000 /* a test that takes this long has hung */
#define MS 1000000LL
#define MAX_CONNS 64

/* ---- a DNS server that does not answer ----
 * The test binary's own getaddrinfo comes before the C library's for
 * libcurl too: a lookup of slow.test takes 3 s, as when the configured
 * name server is down; every other name is looked up for real. */

#define SLOW_LOOKUP_MS 3000
/* A timer this late means the loop was held: a blocked call holds it for a
 * lookup (3 s) or a timeout (5 s); a loaded sanitizer build, far less. */
#define BLOCKED_MS 2500
static atomic_int slow_lookups; /* running now */

typedef int getaddrinfo_fn(const char *, const char *, const struct addrinfo *,
			   struct addrinfo **);

int getaddrinfo(const char *node, const char *service, const struct addrinfo *hints,
		struct addrinfo **res)
{
	getaddrinfo_fn *real = (getaddrinfo_fn *)dlsym(RTLD_NEXT, "getaddrinfo");
	if (node && !strcmp(node, "slow.test")) {
		atomic_fetch_add(&slow_lookups, 1);
		usleep(SLOW_LOOKUP_MS * 1000);
		atomic_fetch_sub(&slow_lookups, 1);
		return EAI_AGAIN;
	}
	return real(node, service, hints, res);
}

/* ---- a tiny HTTP server on the test's loop ---- */

struct srv;

struct conn {
	struct srv *s;
	int fd;
	struct buf in;
	uint64_t timer;
	bool answered;
};

struct srv {
	struct loop *loop;
	int lfd;
	int port;
	bool no_accept;   /* leave connections in the backlog */
	bool hang;        /* read the request, never answer */
	int fail_first;   /* answer 503 to this many requests first */
	int delay_ms;     /* answer this late */
	const char *body; /* of a 200 */
	size_t big;       /* a 200 with this many bytes instead */
	int requests;
	int64_t req_ns[256];
	int open, max_open;
	struct conn *c[MAX_CONNS];
};

static void conn_close(struct conn *c)
{
	struct srv *s = c->s;
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->c[i] == c)
			s->c[i] = NULL;
	loop_fd_remove(s->loop, c->fd);
	if (c->timer)
		loop_timer_cancel(s->loop, c->timer);
	close(c->fd);
	buf_release(&c->in);
	free(c);
	s->open--;
}

static void conn_answer(struct conn *c)
{
	struct srv *s = c->s;
	struct buf out;
	int n = s->requests;
	bool fail = n <= s->fail_first;
	buf_init(&out, BUF_UNLIMITED);
	size_t len = fail ? 5 : s->big ? s->big : strlen(s->body);
	buf_addf(&out, "HTTP/1.1 %d %s\r\nContent-Length: %zu\r\nConnection: close\r\n\r\n",
		 fail ? 503 : 200, fail ? "Service Unavailable" : "OK", len);
	if (fail)
		buf_adds(&out, "down\n");
	else if (s->big)
		for (size_t i = 0; i < s->big; i++)
			buf_addc(&out, 'x');
	else
		buf_adds(&out, s->body);
	/* loopback takes this much at once, or we keep writing */
	int fl = fcntl(c->fd, F_GETFL);
	fcntl(c->fd, F_SETFL, fl & ~O_NONBLOCK);
	size_t off = 0;
	while (off < out.len) {
		ssize_t w = write(c->fd, out.data + off, out.len - off);
		if (w <= 0)
			break;
		off += (size_t)w;
	}
	buf_release(&out);
	c->answered = true;
	shutdown(c->fd, SHUT_WR);
}

static void on_answer_timer(struct loop *l, uint64_t id, void *arg)
{
	struct conn *c = arg;
	(void)l;
	(void)id;
	c->timer = 0;
	conn_answer(c);
}

static void on_conn(struct loop *l, int fd, short ev, void *arg)
{
	struct conn *c = arg;
	char tmp[4096];
	(void)l;
	(void)ev;
	ssize_t n = read(fd, tmp, sizeof tmp);
	if (n <= 0) {
		if (n == 0 || (errno != EAGAIN && errno != EINTR))
			conn_close(c);
		return;
	}
	buf_add(&c->in, tmp, (size_t)n);
	if (c->answered || c->timer || !strstr(c->in.data, "\r\n\r\n"))
		return;
	struct srv *s = c->s;
	if (s->requests < 256)
		s->req_ns[s->requests] = clock_mono_ns();
	s->requests++;
	if (s->hang)
		return;
	if (s->delay_ms)
		c->timer = loop_timer_add(s->loop, s->delay_ms, on_answer_timer, c);
	else
		conn_answer(c);
}

static void on_listen(struct loop *l, int fd, short ev, void *arg)
{
	struct srv *s = arg;
	(void)ev;
	int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (cfd < 0)
		return;
	struct conn *c = xcalloc(1, sizeof *c);
	c->s = s;
	c->fd = cfd;
	buf_init(&c->in, 65536);
	for (int i = 0; i < MAX_CONNS; i++)
		if (!s->c[i]) {
			s->c[i] = c;
			break;
		}
	s->open++;
	if (s->open > s->max_open)
		s->max_open = s->open;
	loop_fd_add(l, cfd, POLLIN, on_conn, c, NULL);
}

static void srv_start(struct srv *s, struct loop *loop)
{
	struct sockaddr_in a = { .sin_family = AF_INET };
	socklen_t alen = sizeof a;
	s->loop = loop;
	if (!s->body)
		s->body = "region=dr status=ok\n";
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&a, sizeof a), 0);
	assert_int_equal(listen(s->lfd, 128), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&a, &alen), 0);
	s->port = ntohs(a.sin_port);
	if (!s->no_accept)
		assert_int_equal(loop_fd_add(loop, s->lfd, POLLIN, on_listen, s, NULL), 0);
}

static void srv_stop(struct srv *s)
{
	for (int i = 0; i < MAX_CONNS; i++)
		if (s->c[i])
			conn_close(s->c[i]);
	loop_fd_remove(s->loop, s->lfd);
	close(s->lfd);
}

/* ---- a fake engine: what the sink hears ---- */

struct seen {
	struct buf out, err;
	int progress;
	cJSON *last_progress;
	bool done;
	int dones;
	struct action_result res;
	cJSON *values;
	int64_t done_ns;
	/* what the engine does from inside a callback */
	bool free_in_done, free_in_output;
	const struct action_entry *ent;
	struct action_run **run;
};

static void on_output(void *arg, enum proc_stream s, const char *d, size_t n)
{
	struct seen *w = arg;
	buf_add(s == PROC_STDOUT ? &w->out : &w->err, d, n);
	if (w->free_in_output && *w->run) {
		w->ent->free(*w->run);
		*w->run = NULL;
		w->done = true; /* nothing more will come */
	}
}

static void on_progress(void *arg, const cJSON *v)
{
	struct seen *w = arg;
	w->progress++;
	cJSON_Delete(w->last_progress);
	w->last_progress = cJSON_Duplicate(v, 1);
}

static void on_done(void *arg, const struct action_result *res)
{
	struct seen *w = arg;
	w->dones++;
	w->done = true;
	w->res = *res;
	w->values = res->values ? cJSON_Duplicate(res->values, 1) : NULL;
	w->res.values = NULL;
	w->done_ns = clock_mono_ns();
	if (w->free_in_done && *w->run) {
		w->ent->free(*w->run);
		*w->run = NULL;
	}
}

static void seen_init(struct seen *w)
{
	memset(w, 0, sizeof *w);
	buf_init(&w->out, BUF_UNLIMITED);
	buf_init(&w->err, BUF_UNLIMITED);
}

static void seen_release(struct seen *w)
{
	buf_release(&w->out);
	buf_release(&w->err);
	cJSON_Delete(w->values);
	cJSON_Delete(w->last_progress);
}

static const char *no_vars(void *arg, const char *name)
{
	(void)arg;
	(void)name;
	return NULL;
}

/* ---- fixture ---- */

struct fx {
	struct loop *loop;
	struct srv srv;
	struct action a;
	const struct action_entry *ent;
	struct action_kind_state *ks;
	struct seen w;
	struct action_run *run;
	char url[128];
};

static int fx_setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof *f);
	struct err e;
	f->loop = loop_new(&e);
	f->ent = action_entry_for(ACTION_HTTP);
	action_init(&f->a, ACTION_HTTP);
	seen_init(&f->w);
	f->w.ent = f->ent;
	f->w.run = &f->run;
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;
	if (f->run)
		f->ent->free(f->run);
	if (f->ks)
		f->ent->close(f->ks);
	if (f->srv.loop)
		srv_stop(&f->srv);
	action_release(&f->a);
	seen_release(&f->w);
	loop_free(f->loop);
	free(f);
	return 0;
}

static void fx_server(struct fx *f, const char *path)
{
	srv_start(&f->srv, f->loop);
	snprintf(f->url, sizeof f->url, "http://127.0.0.1:%d%s", f->srv.port, path);
	f->a.url = xstrdup(f->url);
}

static struct action_ctx fx_ctx(struct fx *f, struct seen *w)
{
	struct action_ctx ctx = {
		.loop = f->loop,
		.ks = f->ks,
		.lookup = no_vars,
		.sink = { .output = on_output, .progress = on_progress, .done = on_done, .arg = w },
	};
	return ctx;
}

/* A run of f->a (or of a) heard by w. */
static struct action_run *fx_start_as(struct fx *f, const struct action *a,
				      struct seen *w)
{
	struct err e = { "" };
	struct action_ctx ctx = fx_ctx(f, w);
	struct action_run *r = f->ent->start(a ? a : &f->a, &ctx, &e);
	if (!r)
		fail_msg("start failed: %s", e.msg);
	assert_false(w->done); /* never from inside start */
	return r;
}

static void fx_start(struct fx *f)
{
	f->run = fx_start_as(f, NULL, &f->w);
}

static void run_until(struct fx *f, const bool *flag)
{
	int64_t end = clock_mono_ns() + (int64_t)LIMIT_MS * MS;
	while (!*flag) {
		assert_true(clock_mono_ns() < end);
		assert_int_not_equal(loop_run_once(f->loop, 50), -1);
	}
}

static void run_for(struct fx *f, int64_t ms)
{
	int64_t end = clock_mono_ns() + ms * MS;
	while (clock_mono_ns() < end)
		loop_run_once(f->loop, 10);
}

static double num(const cJSON *v, const char *key)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(v, key);
	if (!cJSON_IsNumber(n))
		fail_msg("values have no number '%s'", key);
	return n->valuedouble;
}

static const char *str(const cJSON *v, const char *key)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(v, key);
	if (!cJSON_IsString(s))
		fail_msg("values have no string '%s'", key);
	return s->valuestring;
}

/* ---- one request ---- */

static void test_single_ok(void **state)
{
	struct fx *f = *state;
	fx_server(f, "/healthz?token=s3cret");
	f->a.contains = xstrdup("region=dr");
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_OK);
	assert_string_equal(f->w.out.data, "region=dr status=ok\n");
	assert_non_null(strstr(f->w.err.data, "HTTP/1.1 200 OK"));
	const cJSON *v = f->w.values;
	assert_non_null(v);
	assert_int_equal((int)num(v, "status"), 200);
	assert_int_equal((int)num(v, "attempts"), 1);
	assert_int_equal((int)num(v, "port"), f->srv.port);
	assert_string_equal(str(v, "ip"), "127.0.0.1");
	assert_string_equal(str(v, "method"), "GET");
	assert_string_equal(str(v, "body"), "region=dr status=ok\n");
	assert_null(strstr(str(v, "url"), "s3cret")); /* the query is left out */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(v, "tls_verified")));
	assert_true(num(v, "latency_ms") >= 0);
	assert_int_equal(f->w.progress, 1);
	assert_int_equal(f->w.dones, 1);
}

static void test_single_fails_on_status_and_body(void **state)
{
	struct fx *f = *state;
	f->srv.fail_first = 1;
	fx_server(f, "/");
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_FAILED);
	assert_string_equal(f->w.res.summary, "503, not 2xx");
	assert_string_equal(f->w.out.data, "down\n"); /* the body is shown anyway */

	struct seen w2;
	seen_init(&w2);
	free(f->a.contains);
	f->a.contains = xstrdup("region=primary");
	struct action_run *r = fx_start_as(f, NULL, &w2);
	run_until(f, &w2.done);
	assert_int_equal(w2.res.status, ACTION_FAILED);
	assert_string_equal(w2.res.summary, "200, but the body does not contain 'region=primary'");
	f->ent->free(r);
	seen_release(&w2);
}

static void test_body_cut_at_max_bytes(void **state)
{
	struct fx *f = *state;
	f->srv.big = 100000;
	fx_server(f, "/");
	f->a.max_bytes = 1000;
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_OK);
	assert_int_equal(f->w.out.len, 1001); /* and a newline */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(f->w.values, "truncated")));
	assert_int_equal((int)num(f->w.values, "body_bytes"), 1000);
	assert_int_equal(strlen(str(f->w.values, "body")), 200); /* the excerpt */
	assert_non_null(strstr(f->w.res.summary, "body cut at 1000 bytes"));
}

/* A request that was sent and got no answer: a GET failed, a POST may
 * have been carried out. */
static void test_no_answer_unknown_for_post(void **state)
{
	struct fx *f = *state;
	f->srv.hang = true;
	fx_server(f, "/");
	f->a.request_timeout_ms = 200;
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_FAILED);

	struct seen w2;
	seen_init(&w2);
	f->a.method = xstrdup("POST");
	f->a.body = xstrdup("{\"promote\": true}");
	struct action_run *r = fx_start_as(f, NULL, &w2);
	run_until(f, &w2.done);
	assert_int_equal(w2.res.status, ACTION_UNKNOWN);
	assert_non_null(strstr(w2.res.summary, "outcome unknown"));
	f->ent->free(r);
	seen_release(&w2);
}

/* ---- waits ---- */

static void test_wait_measures_the_gap(void **state)
{
	struct fx *f = *state;
	f->srv.fail_first = 3;
	fx_server(f, "/healthz");
	f->a.until = xstrdup("2xx");
	f->a.contains = xstrdup("region=dr");
	f->a.every_ms = 100;
	int64_t t0 = clock_mono_ns();
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_OK);
	const cJSON *v = f->w.values;
	assert_int_equal((int)num(v, "attempts"), 4);
	assert_int_equal(f->srv.requests, 4);
	/* attempt N starts `every` after N-1 started: never before N*every */
	for (int i = 1; i < 4; i++)
		assert_true(f->srv.req_ns[i] - t0 >= i * 100 * MS);
	assert_true(num(v, "first_ok_ms") >= 300);
	assert_true(num(v, "down_at_ms") < 100);
	assert_true(num(v, "last_down_ms") >= 200);
	assert_true(num(v, "up_at_ms") == num(v, "first_ok_ms"));
	assert_true(num(v, "outage_ms") == num(v, "up_at_ms") - num(v, "down_at_ms"));
	assert_int_equal((int)num(v, "status"), 200);
	assert_int_equal(f->w.progress, 4);
	assert_int_equal((int)num(f->w.last_progress, "attempts"), 4);
	assert_non_null(strstr(f->w.err.data, "attempt 1: HTTP/1.1 503"));
	assert_non_null(strstr(f->w.err.data, "attempt 4: HTTP/1.1 200 OK"));
	assert_string_equal(f->w.out.data, "region=dr status=ok\n");
	assert_int_equal(f->srv.max_open, 1); /* never two attempts at once */
}

/* An attempt slower than `every`: the next starts when it ends, not
 * earlier, and they never overlap. */
static void test_wait_slow_attempts_do_not_overlap(void **state)
{
	struct fx *f = *state;
	f->srv.fail_first = 2;
	f->srv.delay_ms = 250;
	fx_server(f, "/");
	f->a.until = xstrdup("200");
	f->a.every_ms = 100;
	fx_start(f);
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_OK);
	assert_int_equal(f->srv.requests, 3);
	/* the answer to N-1 left 250 ms after it came in; N started after */
	for (int i = 1; i < 3; i++)
		assert_true(f->srv.req_ns[i] - f->srv.req_ns[i - 1] >= 250 * MS);
	assert_int_equal(f->srv.max_open, 1);
}

static void test_wait_gives_up_within(void **state)
{
	struct fx *f = *state;
	f->srv.fail_first = 1000;
	fx_server(f, "/");
	f->a.until = xstrdup("2xx");
	f->a.every_ms = 100;
	f->a.within_ms = 450;
	int64_t t0 = clock_mono_ns();
	fx_start(f);
	run_until(f, &f->w.done);
	int64_t took = (f->w.done_ns - t0) / MS;
	assert_int_equal(f->w.res.status, ACTION_FAILED);
	assert_int_equal((int)num(f->w.values, "attempts"), 5);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(f->w.values, "first_ok_ms")));
	assert_true(took >= 400 && took < 450 + 5000);
	assert_non_null(strstr(f->w.res.summary, "no 2xx within 450ms after 5 attempts"));
}

/* ---- cancel and free ---- */

static void test_cancel_reports_later(void **state)
{
	struct fx *f = *state;
	f->srv.hang = true;
	fx_server(f, "/");
	f->a.until = xstrdup("2xx");
	fx_start(f);
	run_for(f, 200);
	assert_int_equal(f->srv.requests, 1);
	f->ent->cancel(f->run, ACTION_CANCEL_TIMEOUT);
	f->ent->cancel(f->run, ACTION_CANCEL_OPERATOR);
	assert_false(f->w.done); /* never from inside cancel */
	run_until(f, &f->w.done);
	assert_int_equal(f->w.res.status, ACTION_CANCELLED);
	assert_int_equal(f->w.dones, 1);
	assert_non_null(strstr(f->w.res.summary, "timed out after 1 attempts"));
	run_for(f, 100);
	assert_int_equal(f->srv.open, 0); /* the connection is closed */
	assert_int_equal(f->w.dones, 1);
}

static void test_free_inside_callbacks(void **state)
{
	struct fx *f = *state;
	fx_server(f, "/");
	f->w.free_in_done = true;
	fx_start(f);
	run_until(f, &f->w.done);
	assert_null(f->run);

	struct seen w2;
	seen_init(&w2);
	w2.ent = f->ent;
	w2.free_in_output = true;
	struct action_run *r;
	w2.run = &r;
	r = fx_start_as(f, NULL, &w2);
	run_until(f, &w2.done);
	assert_null(r);
	assert_int_equal(w2.dones, 0);
	run_for(f, 50);
	seen_release(&w2);
}

static void test_free_while_running(void **state)
{
	struct fx *f = *state;
	struct err e;
	f->srv.hang = true;
	fx_server(f, "/");
	assert_int_equal(f->ent->open(&(struct action_host){ .loop = f->loop }, &f->ks, &e), 0);
	fx_start(f);
	run_for(f, 200);
	assert_int_equal(f->srv.open, 1);
	f->ent->free(f->run);
	f->run = NULL;
	run_for(f, 200);
	assert_false(f->w.done);
	assert_int_equal(f->srv.open, 0);
}

/* ---- the loop is never blocked ---- */

struct ticker {
	struct loop *loop;
	int64_t due_ns;
	int64_t worst_ns;
	int ticks;
	bool stop;
};

static void on_tick(struct loop *l, uint64_t id, void *arg)
{
	struct ticker *t = arg;
	(void)id;
	int64_t late = clock_mono_ns() - t->due_ns;
	if (late > t->worst_ns)
		t->worst_ns = late;
	t->ticks++;
	if (t->stop)
		return;
	t->due_ns = clock_mono_ns() + 10 * MS;
	loop_timer_add(l, 10, on_tick, t);
}

/* 20 requests to a server that accepts and never answers, 20 to one that
 * never accepts, and 4 to a name that must be resolved, all at once on
 * one multi handle, while a 10 ms timer measures how late it fires. A
 * blocking call anywhere would hold the loop for a request's whole
 * timeout (5 s); the bound allows for a slow, shared machine. */
static void test_loop_never_blocked(void **state)
{
	struct fx *f = *state;
	struct err e;
	struct srv quiet = { .no_accept = true };
	enum { N = 44 };
	struct seen w[N];
	struct action_run *r[N];
	struct action acts[3];
	f->srv.hang = true;
	fx_server(f, "/");
	srv_start(&quiet, f->loop);
	assert_int_equal(f->ent->open(&(struct action_host){ .loop = f->loop }, &f->ks, &e), 0);
	for (int k = 0; k < 3; k++) {
		char url[128];
		action_init(&acts[k], ACTION_HTTP);
		snprintf(url, sizeof url, "http://%s:%d/", k == 2 ? "localhost" : "127.0.0.1",
			 k == 1 ? quiet.port : f->srv.port);
		acts[k].url = xstrdup(url);
		acts[k].request_timeout_ms = 5000;
		acts[k].connect_timeout_ms = 5000;
	}
	struct ticker t = { .loop = f->loop, .due_ns = clock_mono_ns() + 10 * MS };
	loop_timer_add(f->loop, 10, on_tick, &t);
	for (int i = 0; i < N; i++) {
		seen_init(&w[i]);
		r[i] = fx_start_as(f, &acts[i < 20 ? 0 : i < 40 ? 1 : 2], &w[i]);
	}
	run_for(f, 1500);
	assert_true(f->srv.requests >= 20);
	for (int i = 0; i < N; i++)
		assert_false(w[i].done);
	for (int i = 0; i < N; i++)
		f->ent->cancel(r[i], ACTION_CANCEL_SHUTDOWN);
	for (int i = 0; i < N; i++)
		run_until(f, &w[i].done);
	t.stop = true;
	print_message("timer: %d ticks, at most %lld ms late\n", t.ticks,
		      (long long)(t.worst_ns / MS));
	assert_true(t.ticks >= 50);
	assert_true(t.worst_ns < BLOCKED_MS * MS);
	for (int i = 0; i < N; i++) {
		assert_int_equal(w[i].res.status, ACTION_CANCELLED);
		f->ent->free(r[i]);
		seen_release(&w[i]);
	}
	for (int k = 0; k < 3; k++)
		action_release(&acts[k]);
	srv_stop(&quiet);
	run_for(f, 20);
}

/* A lookup that hangs ends the request at its connect timeout, and a
 * cancel ends it at once; neither waits for the lookup (libcurl 7.88
 * would join the resolver's thread without CURLOPT_QUICK_EXIT). */
static void test_slow_dns_never_blocks(void **state)
{
	struct fx *f = *state;
	struct ticker t = { .loop = f->loop, .due_ns = clock_mono_ns() + 10 * MS };
	loop_timer_add(f->loop, 10, on_tick, &t);
	f->a.url = xstrdup("http://slow.test:9/");
	f->a.connect_timeout_ms = 300;
	int64_t t0 = clock_mono_ns();
	fx_start(f);
	run_until(f, &f->w.done);
	int64_t took = (f->w.done_ns - t0) / MS;
	assert_int_equal(f->w.res.status, ACTION_FAILED);
	assert_non_null(strstr(f->w.res.summary, "Resolving timed out"));
	assert_true(took < SLOW_LOOKUP_MS - 500);

	struct seen w2;
	seen_init(&w2);
	f->a.connect_timeout_ms = 10000;
	t0 = clock_mono_ns();
	struct action_run *r = fx_start_as(f, NULL, &w2);
	run_for(f, 100);
	f->ent->cancel(r, ACTION_CANCEL_OPERATOR);
	run_until(f, &w2.done);
	assert_int_equal(w2.res.status, ACTION_CANCELLED);
	assert_true((w2.done_ns - t0) / MS < SLOW_LOOKUP_MS - 500);
	f->ent->free(r);
	seen_release(&w2);
	t.stop = true;
	print_message("timer at most %lld ms late\n", (long long)(t.worst_ns / MS));
	assert_true(t.worst_ns < BLOCKED_MS * MS);
	/* let the abandoned lookups end before the next test */
	int64_t end = clock_mono_ns() + (int64_t)LIMIT_MS * MS;
	while (atomic_load(&slow_lookups) && clock_mono_ns() < end)
		run_for(f, 50);
	assert_int_equal(atomic_load(&slow_lookups), 0);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, fx_setup, fx_teardown)
	const struct CMUnitTest tests[] = {
		T(test_single_ok),
		T(test_single_fails_on_status_and_body),
		T(test_body_cut_at_max_bytes),
		T(test_no_answer_unknown_for_post),
		T(test_wait_measures_the_gap),
		T(test_wait_slow_attempts_do_not_overlap),
		T(test_wait_gives_up_within),
		T(test_cancel_reports_later),
		T(test_free_inside_callbacks),
		T(test_free_while_running),
		T(test_loop_never_blocked),
		T(test_slow_dns_never_blocks),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
