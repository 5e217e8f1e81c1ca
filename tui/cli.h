/* cli: the command table and what every command shares.
 *
 * One table lists every command with its synopsis, one-line summary and
 * help text; `qrh --help`, `qrh help CMD` and the test that keeps man/qrh.1
 * in step all read it. Commands return an exit code (enum qrh_exit). */
#ifndef QRH_TUI_CLI_H
#define QRH_TUI_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "runbooks/diag.h"

struct err;
struct journal;

enum qrh_exit {
	QRH_EXIT_OK = 0,          /* done; every step ok */
	QRH_EXIT_FAILED = 1,      /* a step failed and the run stopped */
	QRH_EXIT_USAGE = 2,       /* bad input or usage */
	QRH_EXIT_INTERRUPTED = 3, /* interrupted: hangup, signal, quit */
};

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *synopsis;
	const char *summary;
	const char *help;
};

extern const struct command qrh_commands[];
const struct command *command_find(const char *name);

int cmd_run(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_watch(int argc, char **argv);
int cmd_check(int argc, char **argv);
int cmd_convert(int argc, char **argv);
int cmd_help(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_show(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_sandbox(int argc, char **argv);
int cmd_drill(int argc, char **argv);
int cmd_team(int argc, char **argv);
int cmd_approve(int argc, char **argv);
int cmd_note(int argc, char **argv);
int cmd_verify_bundle(int argc, char **argv);

/* The journal commands (tui/cmd_journal.c). Open the journal named by
 * --journal (cli_path, may be NULL), $QRH_JOURNAL or the default,
 * read-only; on failure print why and return NULL. */
struct journal *journal_cli_open(const char *cmd, const char *cli_path);
/* RUN as given (NULL: the newest run) into *id; returns a qrh_exit code,
 * having printed why when it is not QRH_EXIT_OK. */
int journal_cli_run(const char *cmd, struct journal *j, const char *arg,
		    int64_t *id);
void journal_cli_no_run(const char *cmd, int64_t id);
/* "qrh CMD: message" on stderr, sanitized. */
void journal_cli_error(const char *cmd, const struct err *e);

void usage_print(FILE *out);
/* Prints the help of one command to stdout; returns QRH_EXIT_OK. */
int help_command(const char *name);
/* printf to stderr as one line, sanitized as a whole (tui/sanitize.h):
 * every message that may quote a path, a name or a library's words goes
 * through here, so no control byte reaches the terminal. */
void cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "qrh CMD: message" on stderr, then a hint to `qrh help CMD`. */
int usage_error(const char *cmd, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The value a -v NAME=SPEC gives (tui/cmd_vars.c): SPEC itself, or
 * @PATH, @env:VAR, @fd:N, @@text. *literal says it was written on the
 * command line. A secret's file must not be readable by group or others.
 * Caller frees (after explicit_bzero for a secret); NULL with e set. */
char *var_value_read(const char *spec, bool secret, bool *literal,
		     struct err *e);
/* No core file and no ptrace for a process that holds secrets
 * (PR_SET_DUMPABLE 0, RLIMIT_CORE 0); a no-op in sanitizer builds. */
int secrets_protect(struct err *e);

struct journal_head;
/* The head of run `run`, anchored (tui/head_anchor.c): appended to a file
 * as one line "RUN:SEQ:HASH TIME[ in-progress]", or posted to a webhook
 * whose URL comes as -v takes a secret (@env:VAR, @FILE, @fd:N; a literal
 * URL warns), waiting for it (retries included). */
int head_file_append(const char *path, int64_t run, const struct journal_head *h,
		     bool live, struct err *e);
int head_notify_send(const char *spec, int64_t run, const struct journal_head *h,
		     bool live, struct err *e);

/* Prints FILE:LINE:COL: severity: message for each diagnostic, text
 * sanitized, and a count of those that were dropped. */
void diags_print(FILE *out, const char *file, const struct diags *d);

#endif
