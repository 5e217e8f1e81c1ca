/* velero_cli: what qrh knows about the velero command line without running
 * it. Pure functions over argument words and phase names: the checker
 * (runbooks/validate.c) and the executor (actions/velero.c) share them, so
 * what `qrh check` accepts is exactly what `qrh run` understands.
 *
 * Words are read the way cobra/pflag read them: `--flag=value`, `--flag
 * value` (unless the flag is one of Velero's boolean or optional-boolean
 * flags), `-o json`, `-ojson`, `-o=json`, and `--` ending the flags. Both
 * spellings of a command work: `restore create` and `create restore`.
 *
 * Phases (pkg/apis/velero/v1/restore_types.go, backup_types.go) are
 * matched by prefix: the longest known phase name that the text starts
 * with, followed by the end or a blank, so `Completed (Deleting)` is
 * Completed, being deleted, and `FinalizingPartiallyFailed` is not
 * `Finalizing`. An absent phase means the object was not processed yet. */
#ifndef QRH_RUNBOOKS_VELERO_CLI_H
#define QRH_RUNBOOKS_VELERO_CLI_H

#include <stdbool.h>
#include <stddef.h>

enum velero_cmd {
	VELERO_CMD_OTHER,
	VELERO_CMD_RESTORE_CREATE,
	VELERO_CMD_BACKUP_CREATE,
	VELERO_CMD_BACKUP_GET,
};

/* What an argument list asks for. Strings point into the words. */
struct velero_words {
	enum velero_cmd cmd;
	bool literal;             /* the command words hold no ${...} */
	const char *name;         /* the NAME after `create`, or NULL */
	const char *from_backup;  /* --from-backup */
	const char *from_schedule; /* --from-schedule */
	const char *output;       /* -o / --output, or NULL */
	bool wait;                /* --wait / -w (true unless =false) */
};

void velero_words_read(const char *const *w, size_t n, struct velero_words *out);

/* The kind of object a create makes: "restore", "backup", or NULL. */
const char *velero_cmd_object(enum velero_cmd c);

enum velero_phase {
	VELERO_PHASE_NEW, /* also: no phase yet (not processed) */
	VELERO_PHASE_IN_PROGRESS,
	VELERO_PHASE_WAITING,         /* WaitingForPluginOperations */
	VELERO_PHASE_WAITING_PARTIAL, /* ...PartiallyFailed */
	VELERO_PHASE_FINALIZING,
	VELERO_PHASE_FINALIZING_PARTIAL,
	VELERO_PHASE_COMPLETED,
	VELERO_PHASE_PARTIALLY_FAILED,
	VELERO_PHASE_FAILED,
	VELERO_PHASE_FAILED_VALIDATION,
	VELERO_PHASE_DELETING, /* a backup being deleted */
	VELERO_PHASE_UNKNOWN,  /* a name this qrh does not know: not terminal */
	VELERO_PHASE_COUNT
};

/* The phase of `text` (NULL or "" is NEW); *deleting is set when the text
 * carries "(Deleting)" after the phase, or is the phase Deleting. */
enum velero_phase velero_phase_parse(const char *text, bool *deleting);
const char *velero_phase_name(enum velero_phase p);
/* Completed, PartiallyFailed, Failed, FailedValidation: nothing changes
 * after them. */
bool velero_phase_terminal(enum velero_phase p);
/* Any phase whose name holds PartiallyFailed: the outcome can no longer be
 * Completed, even before the object ends. */
bool velero_phase_partial(enum velero_phase p);

/* The end phases an action accepts, one bit per terminal phase
 * (1u << phase). */
#define VELERO_ACCEPT_DEFAULT (1u << VELERO_PHASE_COMPLETED)

/* "Completed,PartiallyFailed": 0 and *mask, or -1 with the first item
 * that is not a terminal phase name copied into bad. */
int velero_accept_parse(const char *s, unsigned *mask, char *bad,
			size_t bad_len);

/* Whether the words ask for JSON output (-o json and its spellings). */
bool velero_output_json(const struct velero_words *vw);

#endif
