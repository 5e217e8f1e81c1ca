/* ssh_session: one SSH connection of the ssh kind, and the pool that keeps
 * authenticated connections for reuse during a run.
 *
 * Setting a session up is a chain of non-blocking phases on the loop:
 * resolve (util/resolve: numeric addresses at once, names on a resolver
 * thread), connect (a non-blocking socket, each address in turn),
 * handshake (libssh2, host key methods limited to ed25519 and ECDSA, the
 * types known_hosts holds for the host first), host key (ssh_keys: checked
 * before anything is sent to authenticate; an unknown key only with
 * trust_new, a changed one never), authentication (publickey only: a key
 * file, or the ssh-agent's keys; never a password). The session never
 * decides when it is done waiting: its owner (one action run) calls
 * ssh_sess_setup whenever the session wakes it, and keeps the deadline.
 * The exchange with a local ssh-agent is synchronous (libssh2 1.10 talks
 * to the agent's Unix socket with blocking calls), each reply waited for
 * at most 5 seconds; everything that crosses the network is not. Sends
 * never raise SIGPIPE.
 *
 * A session serves one action at a time (one channel). The pool hands an
 * idle session to the next action for the same target (same host, port,
 * user, identity, known_hosts, agent and trust_new) and keeps at most
 * SSH_IDLE_MAX idle ones, closing the least recently used. An idle session
 * is not watched: a connection the server closed while idle shows up when
 * the next action opens a channel on it, and that action reconnects. */
#ifndef QRH_ACTIONS_SSH_SESSION_H
#define QRH_ACTIONS_SSH_SESSION_H

#include <libssh2.h>
#include <stdbool.h>

#include "actions/ssh_keys.h"
#include "util/err.h"
#include "util/loop.h"

#define SSH_IDLE_MAX 128

/* What a session is for: the resolved target, with defaults applied. */
struct ssh_conf {
	char *host;
	int port;
	char *user;
	char *identity;    /* private key file, NULL with agent */
	char *known_hosts;
	bool agent;
	bool trust_new;
};

enum ssh_phase {
	SSH_RESOLVE,
	SSH_CONNECT,
	SSH_HANDSHAKE,
	SSH_AUTH,
	SSH_READY,
};

struct ssh_pool;
struct resolve;
struct addrinfo;

struct ssh_sess {
	struct ssh_pool *pool;
	struct ssh_sess *prev_idle, *next_idle;
	struct ssh_conf conf;
	enum ssh_phase phase;
	int fd;
	bool watched;
	bool connecting;
	struct resolve *resolving;
	struct addrinfo *addrs, *addr;
	char connect_error[256];
	LIBSSH2_SESSION *ls;
	struct ssh_known known;
	char name[300]; /* as known_hosts names it */
	struct ssh_hostkey hostkey;
	bool trusted_new; /* the key was not in known_hosts: accepted */
	/* authentication */
	bool listed;
	LIBSSH2_AGENT *agent;
	struct libssh2_agent_publickey *agent_key;
	int agent_tried, agent_rsa;
	char auth_key[SSH_FP_MAX]; /* the user key that logged in */
	int channels_run;          /* actions this session has served */
	/* the owner's wake-up: fd readiness and resolver answers */
	void (*wake)(void *arg);
	void *wake_arg;
};

struct ssh_pool *ssh_pool_new(struct loop *l);
/* Closes every idle session (a disconnect message, then the socket). */
void ssh_pool_free(struct ssh_pool *p);

/* An idle session for conf, now owned by the caller, or NULL. */
struct ssh_sess *ssh_pool_take(struct ssh_pool *p, const struct ssh_conf *conf);
/* Gives a session with no channel back for reuse. */
void ssh_pool_put(struct ssh_sess *s);

/* A new session for conf (copied), not started: the first ssh_sess_setup
 * reads known_hosts and starts resolving. */
struct ssh_sess *ssh_sess_new(struct ssh_pool *p, const struct ssh_conf *conf,
			      void (*wake)(void *), void *arg);
/* Moves setup on: 1 ready, 0 waiting (the session will wake its owner),
 * -1 failed with *e set (the session is then only good for freeing). */
int ssh_sess_setup(struct ssh_sess *s, struct err *e);
/* After a libssh2 call said EAGAIN: waits for what libssh2 is blocked on
 * (reading, unless it says writing), or for nothing when `idle`. */
void ssh_sess_wait(struct ssh_sess *s, bool idle);
/* libssh2's last error message for the session. */
const char *ssh_sess_error(struct ssh_sess *s);
/* Drops the connection at once (the socket is shut down first, so
 * libssh2 cannot wait on it) and frees the session. NULL is fine. */
void ssh_sess_free(struct ssh_sess *s);

void ssh_conf_copy(struct ssh_conf *dst, const struct ssh_conf *src);
void ssh_conf_release(struct ssh_conf *c);

#endif
