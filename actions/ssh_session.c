#include "actions/ssh_session.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "util/resolve.h"
#include "util/xalloc.h"

/* libssh2_session_free can only say EAGAIN while its socket works; after
 * shutdown it cannot, but it is not allowed to spin for ever either. */
#define FREE_TRIES 16
/* the longest a reply from the local ssh-agent is waited for */
#define SSH_AGENT_WAIT_MS 5000

#ifdef __SANITIZE_ADDRESS__
/* libssh2 1.10 leaks a BIGNUM (56 bytes) each time it reads an
 * OpenSSH-format ECDSA private key (gen_publickey_from_ecdsa_openssh_priv_
 * data never frees bn_exponent), which a login with an ECDSA key file
 * does. The suppression names the one call that reaches it; nothing of
 * qrh's own is allocated under it. */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void)
{
	return "leak:libssh2_userauth_publickey_fromfile_ex\n";
}
#endif

struct ssh_pool {
	struct loop *loop;
	struct ssh_sess *idle_head, *idle_tail; /* head: most recently used */
	size_t n_idle;
};

void ssh_conf_copy(struct ssh_conf *dst, const struct ssh_conf *src)
{
	dst->host = xstrdup_or_null(src->host);
	dst->port = src->port;
	dst->user = xstrdup_or_null(src->user);
	dst->identity = xstrdup_or_null(src->identity);
	dst->known_hosts = xstrdup_or_null(src->known_hosts);
	dst->agent = src->agent;
	dst->trust_new = src->trust_new;
}

void ssh_conf_release(struct ssh_conf *c)
{
	free(c->host);
	free(c->user);
	free(c->identity);
	free(c->known_hosts);
	memset(c, 0, sizeof *c);
}

static bool str_eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && !strcmp(a, b));
}

static bool conf_eq(const struct ssh_conf *a, const struct ssh_conf *b)
{
	return str_eq(a->host, b->host) && a->port == b->port &&
	       str_eq(a->user, b->user) && str_eq(a->identity, b->identity) &&
	       str_eq(a->known_hosts, b->known_hosts) && a->agent == b->agent &&
	       a->trust_new == b->trust_new;
}

/* ---- the pool ---- */

struct ssh_pool *ssh_pool_new(struct loop *l)
{
	struct ssh_pool *p = xcalloc(1, sizeof *p);
	p->loop = l;
	return p;
}

static void unlink_idle(struct ssh_sess *s)
{
	struct ssh_pool *p = s->pool;
	if (s->prev_idle)
		s->prev_idle->next_idle = s->next_idle;
	else
		p->idle_head = s->next_idle;
	if (s->next_idle)
		s->next_idle->prev_idle = s->prev_idle;
	else
		p->idle_tail = s->prev_idle;
	s->prev_idle = s->next_idle = NULL;
	p->n_idle--;
}

/* A polite goodbye if the socket takes it at once; then the hard close. */
static void close_gracefully(struct ssh_sess *s)
{
	if (s->ls && s->phase == SSH_READY)
		libssh2_session_disconnect(s->ls, "qrh: run ended");
	ssh_sess_free(s);
}

void ssh_pool_free(struct ssh_pool *p)
{
	if (!p)
		return;
	while (p->idle_head) {
		struct ssh_sess *s = p->idle_head;
		unlink_idle(s);
		close_gracefully(s);
	}
	free(p);
}

struct ssh_sess *ssh_pool_take(struct ssh_pool *p, const struct ssh_conf *conf)
{
	for (struct ssh_sess *s = p->idle_head; s; s = s->next_idle) {
		if (conf_eq(&s->conf, conf)) {
			unlink_idle(s);
			return s;
		}
	}
	return NULL;
}

void ssh_pool_put(struct ssh_sess *s)
{
	struct ssh_pool *p = s->pool;
	s->wake = NULL;
	s->wake_arg = NULL;
	if (s->watched)
		loop_fd_set(p->loop, s->fd, 0);
	s->next_idle = p->idle_head;
	s->prev_idle = NULL;
	if (p->idle_head)
		p->idle_head->prev_idle = s;
	else
		p->idle_tail = s;
	p->idle_head = s;
	p->n_idle++;
	while (p->n_idle > SSH_IDLE_MAX) {
		struct ssh_sess *old = p->idle_tail;
		unlink_idle(old);
		close_gracefully(old);
	}
}

/* ---- one session ---- */

static void on_fd(struct loop *l, int fd, short revents, void *arg)
{
	struct ssh_sess *s = arg;
	(void)l;
	(void)fd;
	(void)revents;
	if (s->wake)
		s->wake(s->wake_arg);
	else if (s->watched)
		loop_fd_set(s->pool->loop, s->fd, 0); /* idle: not watched */
}

static void on_resolved(struct resolve *rq, void *arg)
{
	struct ssh_sess *s = arg;
	struct err e = { "" };
	struct addrinfo *res = NULL;
	if (resolve_addrinfo(rq, s->conf.port, &res, &e) < 0)
		res = NULL;
	resolve_free(rq);
	s->resolving = NULL;
	s->addrs = res;
	s->addr = NULL;
	if (!res)
		snprintf(s->connect_error, sizeof s->connect_error, "%.200s", e.msg);
	s->phase = SSH_CONNECT;
	if (s->wake)
		s->wake(s->wake_arg);
}

struct ssh_sess *ssh_sess_new(struct ssh_pool *p, const struct ssh_conf *conf,
			      void (*wake)(void *), void *arg)
{
	struct ssh_sess *s = xcalloc(1, sizeof *s);
	s->pool = p;
	ssh_conf_copy(&s->conf, conf);
	s->fd = -1;
	s->phase = SSH_RESOLVE;
	s->wake = wake;
	s->wake_arg = arg;
	ssh_known_name(conf->host, conf->port, s->name, sizeof s->name);
	return s;
}

const char *ssh_sess_error(struct ssh_sess *s)
{
	char *msg = NULL;
	if (!s->ls)
		return "no session";
	libssh2_session_last_error(s->ls, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown libssh2 error";
}

void ssh_sess_wait(struct ssh_sess *s, bool idle)
{
	short ev = 0;
	if (!idle) {
		int dirs = s->ls ? libssh2_session_block_directions(s->ls) : 0;
		if (dirs & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			ev |= POLLOUT;
		if ((dirs & LIBSSH2_SESSION_BLOCK_INBOUND) || !ev)
			ev |= POLLIN;
	}
	if (s->watched)
		loop_fd_set(s->pool->loop, s->fd, ev);
}

/* libssh2's own send, with MSG_NOSIGNAL always: libssh2 1.10 talks to the
 * ssh-agent with flags 0, and qrh must not die of SIGPIPE when an agent
 * goes away mid-exchange. */
static LIBSSH2_SEND_FUNC(send_nosignal)
{
	(void)abstract;
	ssize_t n = send(socket, buffer, length, flags | MSG_NOSIGNAL);
	return n < 0 ? -errno : n;
}

/* libssh2's own recv, except that on a socket other than the session's
 * (the ssh-agent's, which libssh2 1.10 reads with blocking calls) it
 * waits at most SSH_AGENT_WAIT_MS: a stuck agent fails the login instead
 * of freezing the console. */
static LIBSSH2_RECV_FUNC(recv_bounded)
{
	const struct ssh_sess *s = *abstract;
	if (socket != s->fd) {
		struct pollfd pf = { .fd = socket, .events = POLLIN };
		int rc = poll(&pf, 1, SSH_AGENT_WAIT_MS);
		if (rc == 0)
			return -ETIMEDOUT;
		if (rc < 0)
			return -errno;
	}
	ssize_t n = recv(socket, buffer, length, flags);
	return n < 0 ? -errno : n;
}

/* Reads known_hosts and creates the libssh2 session with its host key
 * preferences; then starts resolving. */
static int begin(struct ssh_sess *s, struct err *e)
{
	char methods[256];
	s->ls = libssh2_session_init_ex(NULL, NULL, NULL, s);
	if (!s->ls)
		return err_set(e, "cannot create an ssh session (libssh2_session_init)");
	libssh2_session_set_blocking(s->ls, 0);
	libssh2_session_callback_set(s->ls, LIBSSH2_CALLBACK_SEND, (void *)send_nosignal);
	libssh2_session_callback_set(s->ls, LIBSSH2_CALLBACK_RECV, (void *)recv_bounded);
	if (ssh_known_load(&s->known, s->ls, s->conf.known_hosts, e) < 0)
		return -1;
	ssh_known_methods(&s->known, s->name, methods, sizeof methods);
	if (libssh2_session_method_pref(s->ls, LIBSSH2_METHOD_HOSTKEY, methods) < 0)
		return err_set(e, "cannot set the host key methods: %s", ssh_sess_error(s));
	s->resolving = resolve_start(s->pool->loop, s->conf.host, on_resolved, s, e);
	return s->resolving ? 0 : -1;
}

static void close_fd(struct ssh_sess *s)
{
	if (s->watched)
		loop_fd_remove(s->pool->loop, s->fd);
	s->watched = false;
	if (s->fd >= 0)
		close(s->fd);
	s->fd = -1;
}

static void addr_text(const struct addrinfo *a, char *out, size_t cap)
{
	if (getnameinfo(a->ai_addr, a->ai_addrlen, out, (socklen_t)cap, NULL, 0,
			NI_NUMERICHOST) != 0)
		snprintf(out, cap, "?");
}

/* Starts a connection to the next address; 0 started, -1 none left. */
static int connect_next(struct ssh_sess *s, struct err *e)
{
	for (;;) {
		s->addr = s->addr ? s->addr->ai_next : s->addrs;
		if (!s->addr)
			return err_set(e, "cannot connect to %s port %d: %s", s->conf.host,
				       s->conf.port, s->connect_error[0] ? s->connect_error : "no address");
		const struct addrinfo *a = s->addr;
		s->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       a->ai_protocol);
		if (s->fd < 0) {
			snprintf(s->connect_error, sizeof s->connect_error, "socket: %s", strerror(errno));
			continue;
		}
		int one = 1;
		setsockopt(s->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (connect(s->fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			char at[64];
			addr_text(a, at, sizeof at);
			snprintf(s->connect_error, sizeof s->connect_error, "%s: %s", at, strerror(errno));
			close_fd(s);
			continue;
		}
		if (loop_fd_add(s->pool->loop, s->fd, POLLOUT, on_fd, s, e) < 0) {
			close_fd(s);
			return -1;
		}
		s->watched = true;
		s->connecting = true;
		return 0;
	}
}

/* 1 connected, 0 still connecting, -1 no address left. */
static int connect_step(struct ssh_sess *s, struct err *e)
{
	if (!s->addrs)
		return err_set(e, "cannot resolve '%s': %s", s->conf.host, s->connect_error);
	if (!s->connecting)
		return connect_next(s, e) < 0 ? -1 : 0;
	struct pollfd pf = { .fd = s->fd, .events = POLLOUT };
	if (poll(&pf, 1, 0) == 0)
		return 0;
	int soerr = 0;
	socklen_t len = sizeof soerr;
	if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0) {
		s->connecting = false;
		return 1;
	}
	char at[64];
	addr_text(s->addr, at, sizeof at);
	snprintf(s->connect_error, sizeof s->connect_error, "%s: %s", at, strerror(soerr));
	close_fd(s);
	s->connecting = false;
	return connect_next(s, e) < 0 ? -1 : 0;
}

static int hostkey_step(struct ssh_sess *s, struct err *e)
{
	switch (ssh_known_check(&s->known, s->ls, s->name, &s->hostkey, e)) {
	case SSH_HOST_KNOWN:
		return 0;
	case SSH_HOST_UNKNOWN:
		if (!s->conf.trust_new)
			return -1;
		s->trusted_new = true; /* journaled by the action's values */
		return 0;
	default:
		return -1;
	}
}

static bool offers(const char *list, const char *method)
{
	size_t n = strlen(method);
	for (const char *p = list; p && *p;) {
		size_t len = strcspn(p, ",");
		if (len == n && !strncmp(p, method, n))
			return true;
		p += len;
		if (*p == ',')
			p++;
	}
	return false;
}

static void agent_advance(struct ssh_sess *s)
{
	struct libssh2_agent_publickey *prev = s->agent_key;
	if (libssh2_agent_get_identity(s->agent, &s->agent_key, prev) != 0)
		s->agent_key = NULL;
}

/* Moves past the agent's RSA and DSA keys: libssh2 1.10 would offer them
 * with SHA-1 signatures, which OpenSSH 8.8+ refuses. */
static int agent_usable(struct ssh_sess *s, struct err *e)
{
	while (s->agent_key) {
		char type[SSH_KEYTYPE_MAX];
		ssh_blob_type(s->agent_key->blob, s->agent_key->blob_len, type, sizeof type);
		if (strcmp(type, "ssh-rsa") && strcmp(type, "ssh-dss"))
			return 0;
		s->agent_rsa++;
		agent_advance(s);
	}
	if (!s->agent_tried && !s->agent_rsa)
		return err_set(e, "the ssh-agent holds no keys");
	if (!s->agent_tried)
		return err_set(e, "the ssh-agent holds only RSA or DSA keys: " SSH_RSA_REFUSED);
	return err_set(e, "authentication as '%s' on %s failed: the server accepted none of the ssh-agent's %d ed25519/ECDSA key(s)%s",
		       s->conf.user, s->name, s->agent_tried,
		       s->agent_rsa ? " (its RSA keys were not offered: " SSH_RSA_REFUSED ")" : "");
}

static int agent_start(struct ssh_sess *s, struct err *e)
{
	s->agent = libssh2_agent_init(s->ls);
	if (!s->agent)
		return err_set(e, "cannot use the ssh-agent: %s", ssh_sess_error(s));
	if (libssh2_agent_connect(s->agent) != 0)
		return err_set(e, "cannot reach the ssh-agent (SSH_AUTH_SOCK%s): %s",
			       getenv("SSH_AUTH_SOCK") ? "" : " is not set", ssh_sess_error(s));
	if (libssh2_agent_list_identities(s->agent) != 0)
		return err_set(e, "cannot list the ssh-agent's keys: %s", ssh_sess_error(s));
	if (libssh2_agent_get_identity(s->agent, &s->agent_key, NULL) != 0)
		s->agent_key = NULL;
	return agent_usable(s, e);
}

/* 1 authenticated, 0 waiting, -1 refused. */
static int agent_step(struct ssh_sess *s, struct err *e)
{
	if (!s->agent && agent_start(s, e) < 0)
		return -1;
	for (;;) {
		int rc = libssh2_agent_userauth(s->agent, s->conf.user, s->agent_key);
		if (rc == LIBSSH2_ERROR_EAGAIN)
			return 0;
		if (rc == 0) {
			ssh_fingerprint(s->agent_key->blob, s->agent_key->blob_len, s->auth_key);
			return 1;
		}
		s->agent_tried++;
		agent_advance(s);
		if (agent_usable(s, e) < 0)
			return -1;
	}
}

static int file_step(struct ssh_sess *s, struct err *e)
{
	char pub[4096];
	snprintf(pub, sizeof pub, "%s.pub", s->conf.identity);
	bool have_pub = access(pub, R_OK) == 0;
	int rc = libssh2_userauth_publickey_fromfile_ex(
		s->ls, s->conf.user, (unsigned)strlen(s->conf.user),
		have_pub ? pub : NULL, s->conf.identity, NULL);
	if (rc == LIBSSH2_ERROR_EAGAIN)
		return 0;
	if (rc == 0)
		return 1;
	return err_set(e, "authentication as '%s' on %s with %s failed: %s", s->conf.user,
		       s->name, s->conf.identity, ssh_sess_error(s));
}

/* 1 authenticated, 0 waiting, -1 refused. */
static int auth_step(struct ssh_sess *s, struct err *e)
{
	if (!s->listed) {
		const char *list = libssh2_userauth_list(s->ls, s->conf.user,
							 (unsigned)strlen(s->conf.user));
		if (!list) {
			if (libssh2_userauth_authenticated(s->ls))
				return 1;
			if (libssh2_session_last_errno(s->ls) == LIBSSH2_ERROR_EAGAIN)
				return 0;
			return err_set(e, "cannot authenticate on %s: %s", s->name, ssh_sess_error(s));
		}
		if (!offers(list, "publickey"))
			return err_set(e, "%s does not accept public keys for '%s' (it offers: %s); qrh never sends a password",
				       s->name, s->conf.user, list);
		s->listed = true;
	}
	return s->conf.agent ? agent_step(s, e) : file_step(s, e);
}

int ssh_sess_setup(struct ssh_sess *s, struct err *e)
{
	int rc;
	for (;;) {
		switch (s->phase) {
		case SSH_RESOLVE:
			if (!s->ls && begin(s, e) < 0)
				return -1;
			return 0; /* the resolver moves the phase on */
		case SSH_CONNECT:
			rc = connect_step(s, e);
			if (rc <= 0)
				return rc;
			s->phase = SSH_HANDSHAKE;
			break;
		case SSH_HANDSHAKE:
			rc = libssh2_session_handshake(s->ls, s->fd);
			if (rc == LIBSSH2_ERROR_EAGAIN) {
				ssh_sess_wait(s, false);
				return 0;
			}
			if (rc)
				return err_set(e, "ssh handshake with %s failed: %s", s->name,
					       ssh_sess_error(s));
			if (hostkey_step(s, e) < 0)
				return -1;
			s->phase = SSH_AUTH;
			break;
		case SSH_AUTH:
			rc = auth_step(s, e);
			if (rc < 0)
				return -1;
			if (rc == 0) {
				ssh_sess_wait(s, false);
				return 0;
			}
			s->phase = SSH_READY;
			break;
		case SSH_READY:
			return 1;
		}
	}
}

void ssh_sess_free(struct ssh_sess *s)
{
	if (!s)
		return;
	resolve_free(s->resolving);
	if (s->fd >= 0)
		shutdown(s->fd, SHUT_RDWR); /* nothing left for libssh2 to wait on */
	if (s->agent) {
		libssh2_agent_disconnect(s->agent);
		libssh2_agent_free(s->agent);
	}
	ssh_known_release(&s->known);
	if (s->ls) {
		int tries = 0;
		while (libssh2_session_free(s->ls) == LIBSSH2_ERROR_EAGAIN && ++tries < FREE_TRIES)
			;
	}
	close_fd(s);
	if (s->addrs)
		freeaddrinfo(s->addrs);
	ssh_conf_release(&s->conf);
	free(s);
}
