/* ssh_keys: known_hosts, host key verdicts and the types of user keys,
 * for the ssh kind on libssh2 1.10.
 *
 * known_hosts is read line by line (libssh2_knownhost_readfile gives up at
 * the first line it cannot parse and cannot say which), so that every
 * entry keeps its line number for messages and the lines libssh2 cannot
 * read are known:
 * - `@revoked` lines: their keys are refused, whatever host they name;
 * - `@cert-authority` lines: ignored (libssh2 has no host certificates,
 *   so they can only make qrh trust less);
 * - lines libssh2 cannot parse (key types it does not know): if the line
 *   names the host being checked (plain or hashed), the host is refused,
 *   because the key it lists cannot be compared; otherwise ignored.
 * Names are matched exactly, as libssh2 does (no wildcards or negations):
 * `host` for port 22, `[host]:port` for any other port, as OpenSSH writes
 * them; names are lowercased first, as OpenSSH does.
 * A host key is checked with libssh2_knownhost_checkp given the key's own
 * type (the untyped check reports a false mismatch when known_hosts holds
 * several types for a host). */
#ifndef QRH_ACTIONS_SSH_KEYS_H
#define QRH_ACTIONS_SSH_KEYS_H

#include <libssh2.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/err.h"

#define SSH_RSA_REFUSED \
	"libssh2 1.10 cannot sign with RSA SHA-2; OpenSSH 8.8+ refuses ssh-rsa: use an ed25519 or ECDSA key"
#define SSH_FP_MAX 64      /* "SHA256:" + 43 base64 digits */
#define SSH_KEYTYPE_MAX 64
/* The host key types asked for, in order of preference. */
#define SSH_HOSTKEY_METHODS \
	"ssh-ed25519,ecdsa-sha2-nistp256,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521"

struct ssh_known_line;
struct ssh_known_odd;

struct ssh_known {
	LIBSSH2_KNOWNHOSTS *kh;
	char *path;
	bool missing; /* the file does not exist: nothing is known */
	struct ssh_known_line *lines; /* entry -> line number */
	size_t n_lines, cap_lines;
	struct ssh_known_odd *odd; /* @revoked lines and lines libssh2 skipped */
	size_t n_odd, cap_odd;
};

/* Reads path into k (for session s). -1 if it exists but cannot be read. */
int ssh_known_load(struct ssh_known *k, LIBSSH2_SESSION *s, const char *path,
		   struct err *e);
void ssh_known_release(struct ssh_known *k);

/* The name known_hosts lists host:port under: "host" for port 22,
 * "[host]:port" otherwise, lowercased. */
void ssh_known_name(const char *host, int port, char *out, size_t cap);

/* The host key methods for libssh2_session_method_pref: the types
 * known_hosts holds for `name` first (so a host known by its ECDSA key is
 * not asked for an ed25519 key it also has), then the others. */
void ssh_known_methods(const struct ssh_known *k, const char *name, char *out,
		       size_t cap);

enum ssh_verdict {
	SSH_HOST_KNOWN,
	SSH_HOST_UNKNOWN, /* no entry for this name and key type */
	SSH_HOST_CHANGED, /* an entry with another key: always refused */
	SSH_HOST_REFUSED, /* revoked, unreadable entry, or no usable key */
};

struct ssh_hostkey {
	char type[SSH_KEYTYPE_MAX];  /* "ssh-ed25519" */
	char fp[SSH_FP_MAX];         /* "SHA256:..." */
	char known_fp[SSH_FP_MAX];   /* SSH_HOST_CHANGED: the listed key */
	unsigned known_line;         /* its line, 0 if not known */
};

/* Checks the host key of the session (after its handshake) against k for
 * `name` (from ssh_known_name). Fills hk (type and fingerprint whenever
 * the session has a key) and, for every verdict but SSH_HOST_KNOWN, *e
 * with the refusal in full. */
enum ssh_verdict ssh_known_check(const struct ssh_known *k, LIBSSH2_SESSION *s,
				 const char *name, struct ssh_hostkey *hk,
				 struct err *e);

/* "SHA256:" and the unpadded base64 of SHA-256 over blob. */
void ssh_fingerprint(const unsigned char *blob, size_t len, char out[SSH_FP_MAX]);

/* The type named at the start of a public key blob ("ssh-ed25519");
 * "" if the blob is malformed. */
void ssh_blob_type(const unsigned char *blob, size_t len, char *out, size_t cap);

/* The type of the private key in `path`, from `path.pub` when it exists,
 * else from the key file itself (PEM headers, or the public part of an
 * OpenSSH-format key); "" when it cannot tell. -1 if path cannot be
 * read. */
int ssh_key_file_type(const char *path, char *out, size_t cap, struct err *e);

#endif
