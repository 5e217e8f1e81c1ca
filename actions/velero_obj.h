/* velero_obj: reading what `velero ... get -o json` prints.
 *
 * The CLI prints a bare object when exactly one item matches and a
 * RestoreList / BackupList otherwise (pkg/cmd/util/output/output.go).
 * Every status field is omitempty: an absent count is 0, an absent phase
 * means the object was not processed yet. Unknown keys are ignored; a
 * known key of the wrong type is an error, so a change of format is
 * noticed rather than read as zero. Pure functions over cJSON: no I/O. */
#ifndef QRH_ACTIONS_VELERO_OBJ_H
#define QRH_ACTIONS_VELERO_OBJ_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>

#include "runbooks/velero_cli.h"
#include "util/err.h"

#define VELERO_NAME_MAX 254 /* a Kubernetes name, and its NUL */
#define VELERO_TIME_MAX 40
#define VELERO_TEXT_MAX 512

struct velero_obj {
	char kind[32]; /* "Restore", "Backup" */
	char name[VELERO_NAME_MAX];
	char phase_text[64]; /* as printed ("" when absent) */
	enum velero_phase phase;
	bool deleting; /* "(Deleting)" or metadata.deletionTimestamp */
	int64_t items_done;  /* itemsRestored / itemsBackedUp */
	int64_t items_total; /* totalItems */
	int64_t warnings, errors;
	char created[VELERO_TIME_MAX];   /* metadata.creationTimestamp */
	char started[VELERO_TIME_MAX];   /* status.startTimestamp */
	char completed[VELERO_TIME_MAX]; /* status.completionTimestamp */
	char expires[VELERO_TIME_MAX];   /* status.expiration (backups) */
	char backup[VELERO_NAME_MAX];    /* spec.backupName (restores) */
	char failure_reason[VELERO_TEXT_MAX];
	char validation_error[VELERO_TEXT_MAX]; /* the first one */
	int n_validation_errors;
};

/* The item of `doc` named `name` (NULL: the only item): doc itself when it
 * is a bare object, else the item of its "items". NULL with *e set when
 * there is no such item. */
const cJSON *velero_doc_item(const cJSON *doc, const char *name, struct err *e);

/* Reads one Restore or Backup. */
int velero_obj_read(const cJSON *item, struct velero_obj *o, struct err *e);

/* The live values of an object: {"name", "phase", "items_restored" (or
 * "items_backed_up"), "total_items", "warnings", "errors"}, plus
 * "partial": true once the phase says PartiallyFailed and "deleting": true
 * when it is being deleted. */
cJSON *velero_obj_progress(const struct velero_obj *o);

/* Adds the timestamps, the backup, the failure reason and the validation
 * error of o to values. */
void velero_obj_add_details(const struct velero_obj *o, cJSON *values);

/* The pick list of a `backup get -o json` document: an array of
 * {"name", "phase", "created", "expires", "warnings", "errors"} (and
 * "deleting": true), Completed backups first, then the others, each group
 * newest first (by creationTimestamp, then name). NULL with *e set when
 * the document is not a backup or a list of them. */
cJSON *velero_backup_choices(const cJSON *doc, struct err *e);

#endif
