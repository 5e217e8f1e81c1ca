/* ssh_script: the program qrh sends to a remote `/bin/sh -s`, and how the
 * script's exit status is found again in what comes back.
 *
 * The program (ssh_program_build) exports the run's variables, each value
 * single-quoted, then defines one function and calls it. The function
 * holds the action's script as a single-quoted string and runs it as
 * `( set -e; eval "$script" ) </dev/null &` (errexit and no stdin, as the
 * local sh kind runs a script), so an `exit` or a trap in the script
 * cannot skip what follows: after `wait`, the function prints a marker
 * line `QRH_EXIT_<nonce> <status>` to stderr and exits with the status.
 * Because the shell must read the whole function before it runs any of
 * it, nothing runs unless the program arrived complete.
 * Next to the script runs a watchdog reading the channel's stdin, which
 * qrh leaves open: when the channel closes (qrh cancels, or the connection
 * is lost) the watchdog sends SIGTERM to the remote process group, and
 * SIGKILL `grace` seconds later. The function stops the watchdog once the
 * script has ended.
 *
 * The sentinel scanner (ssh_sentinel_*) takes stderr as it streams, holds
 * back only what could still be the start of the marker, removes the
 * marker line and keeps the status it carried. */
#ifndef QRH_ACTIONS_SSH_SCRIPT_H
#define QRH_ACTIONS_SSH_SCRIPT_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"

#define SSH_NONCE_HEX 32
#define SSH_MARKER_PREFIX "QRH_EXIT_"
/* "QRH_EXIT_" + nonce + " " */
#define SSH_MARKER_LEN (sizeof SSH_MARKER_PREFIX - 1 + SSH_NONCE_HEX + 1)

/* Appends s as one single-quoted sh word ('it'\''s'). */
void ssh_quote(struct buf *out, const char *s);

/* True for a name sh can export: [A-Za-z_][A-Za-z0-9_]*. */
bool ssh_env_name_ok(const char *name, size_t len);

struct ssh_program {
	const char *const *env; /* NAME=value entries, NULL-terminated; may be NULL */
	const char *script;
	const char *nonce;      /* SSH_NONCE_HEX lowercase hex digits */
	int grace_s;            /* remote SIGTERM to SIGKILL, seconds (>= 1) */
};

/* The text to write to the remote shell's stdin. Entries of env whose
 * name sh cannot export are left out. */
void ssh_program_build(const struct ssh_program *p, struct buf *out);

/* Fills nonce[SSH_NONCE_HEX + 1] with random hex digits. -1 if the
 * system has no randomness to give. */
int ssh_nonce(char nonce[SSH_NONCE_HEX + 1]);

struct ssh_sentinel {
	char marker[SSH_MARKER_LEN + 1];
	struct buf hold; /* a possible start of the marker, or the marker and
			  * the status digits read so far */
	int state;       /* 0 searching, 1 reading the status, 2 found */
	int status;
};

void ssh_sentinel_init(struct ssh_sentinel *s, const char *nonce);
void ssh_sentinel_release(struct ssh_sentinel *s);
/* Appends to out the bytes of in that are output (everything but the
 * marker line), holding back at most the marker's length. */
void ssh_sentinel_feed(struct ssh_sentinel *s, const char *in, size_t n,
		       struct buf *out);
/* End of the stream: releases what was held back (an incomplete marker
 * line is output, not a status). */
void ssh_sentinel_finish(struct ssh_sentinel *s, struct buf *out);
/* True once a complete marker line was read; *status is its status. */
bool ssh_sentinel_found(const struct ssh_sentinel *s, int *status);

#endif
