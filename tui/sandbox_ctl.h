/* sandbox_ctl: the DR sandbox as qrh drives it (sandbox/sandbox.sh).
 *
 * The script is found next to the binary: ./qrh and build/qrh in a source
 * tree (sandbox/ beside or above them), PREFIX/share/qrh/sandbox when
 * installed, or $QRH_SANDBOX_SRC (a source tree). The state directory is
 * $QRH_SANDBOX_DIR, default /tmp/qrh-sandbox. */
#ifndef QRH_TUI_SANDBOX_CTL_H
#define QRH_TUI_SANDBOX_CTL_H

#include <stdbool.h>
#include <stddef.h>

#include "runbooks/model.h"

#define SANDBOX_DEFAULT_DIR "/tmp/qrh-sandbox"

/* The script's path into out; -1 when it cannot be found. Also exports
 * QRH_BUILD for the script when the binary sits in a build directory. */
int sandbox_script(char *out, size_t n);
/* The state directory. */
const char *sandbox_dir(void);
/* Runs `sandbox.sh ARGS...` (args NULL-terminated) and waits: its exit
 * status, or -1 when it could not run. Its output goes to a file in the
 * state directory when quiet (a console is on the terminal), else to
 * stderr. */
int sandbox_call(const char *const *args, bool quiet);
/* A sandbox has been set up in the state directory (its env file). */
bool sandbox_exists(void);
/* NAME=VALUE lines of the sandbox's runbook variables ($DIR/env); false
 * when there is no sandbox. */
bool sandbox_env(struct strv *out);

#endif
