/* approval_sock: the Unix socket through which a second local identity
 * approves a dual-control step (both ends of one small protocol).
 *
 * Where: $QRH_APPROVE_DIR (default /tmp) holds one directory per operator
 * uid, qrh-approve-UID, made by the console with mode 0711 and refused
 * unless it is a real directory that uid owns and nobody else may write:
 * others may reach a socket whose name they know, never list or replace
 * one. The socket is RUN-UUID.sock in it, mode 0666: anyone may connect,
 * since who connected is the kernel's word (SO_PEERCRED), never a claim
 * of the client. The client checks the same of the directory and that
 * the peer that answers is the uid the directory is named after.
 *
 * Protocol: one JSON object per line. On connect the console sends its
 * hello (the run and the requests awaiting an answer, see approval.c);
 * the client sends one answer object; the console sends one reply
 * ({"ok": bool, "message": text}) and closes. Lines are limited to
 * APPROVAL_LINE_MAX; at most APPROVAL_CLIENTS clients at once (the
 * oldest goes first). */
#ifndef QRH_STATE_APPROVAL_SOCK_H
#define QRH_STATE_APPROVAL_SOCK_H

#include <cjson/cJSON.h>
#include <sys/types.h>

#include "util/err.h"
#include "util/loop.h"

#define APPROVAL_LINE_MAX (256 * 1024)
#define APPROVAL_CLIENTS 8

struct approval_sock;

/* The hello for a new client (the callee builds it; the socket frees it). */
typedef cJSON *approval_hello_fn(void *arg);
/* An answer from a client the kernel says is uid/pid; returns the reply
 * (freed by the socket). */
typedef cJSON *approval_answer_fn(void *arg, uid_t uid, pid_t pid,
				  const cJSON *answer);

struct approval_sock *approval_sock_open(struct loop *l, const char *uuid,
					 approval_hello_fn *hello,
					 approval_answer_fn *answer, void *arg,
					 struct err *e);
const char *approval_sock_path(const struct approval_sock *s);
/* Closes every client and removes the socket. NULL is fine. */
void approval_sock_close(struct approval_sock *s);

/* Client: finds the console of run `uuid` among the operators'
 * directories, connects (blocking, at most timeout_ms per read) and
 * reads its hello. *fd and *hello (caller: close, cJSON_Delete);
 * *console_uid: who answered, by the kernel's word. */
int approval_sock_connect(const char *uuid, int timeout_ms, int *fd,
			  uid_t *console_uid, cJSON **hello, struct err *e);
/* Sends an answer and reads the reply (caller frees). */
int approval_sock_ask(int fd, const cJSON *answer, int timeout_ms,
		      cJSON **reply, struct err *e);

#endif
