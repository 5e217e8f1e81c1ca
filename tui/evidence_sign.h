/* evidence_sign: signing a bundle's MANIFEST and checking a bundle.
 *
 * Signatures are OpenSSH's (ssh-keygen -Y sign, the format git and
 * OpenSSH use) in the namespace "qrh-evidence", over MANIFEST, written to
 * MANIFEST.sig. Checking a bundle names every file that fails: one the
 * manifest lists that is missing or whose SHA-256 differs, one that is
 * there but not listed, a runbook whose SHA-256 is not the run's, an
 * evidence.json whose head is not the manifest's, and — given an
 * allowed-signers file (ssh-keygen(1), ALLOWED SIGNERS) — a signature
 * that is missing, made for another namespace, made by a key the file
 * does not allow, or not over this MANIFEST. */
#ifndef QRH_TUI_EVIDENCE_SIGN_H
#define QRH_TUI_EVIDENCE_SIGN_H

#include "runbooks/model.h"
#include "util/err.h"

#define EVIDENCE_FORMAT 1
#define EVIDENCE_MANIFEST "MANIFEST"
#define EVIDENCE_SIGNATURE "MANIFEST.sig"
#define EVIDENCE_NAMESPACE "qrh-evidence"

/* ssh-keygen -Y sign -f key -n qrh-evidence DIR/MANIFEST. */
int evidence_sign(const char *dir, const char *key, struct err *e);

/* Checks the bundle in dir; each failure is one line "FILE: why" in
 * *problems, *notes gets what was checked. allowed_signers NULL: the
 * signature is not checked (a note says so). 0 when the check ran (see
 * problems->n), -1 when it could not (e). */
int evidence_verify(const char *dir, const char *allowed_signers,
		    struct strv *problems, struct strv *notes, struct err *e);

#endif
