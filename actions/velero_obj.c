#include "actions/velero_obj.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define COUNT_MAX 9007199254740991.0 /* 2^53 - 1: exact in a double */

/* Each reader leaves its output at zero or "" when the key is absent, and
 * fails on a key of the wrong type, naming it by its path. */
static int read_obj(const cJSON *parent, const char *key, const char *path,
		    const cJSON **out, struct err *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(parent, key);
	*out = NULL;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsObject(v))
		return err_set(e, "%s is not an object", path);
	*out = v;
	return 0;
}

static int read_str(const cJSON *parent, const char *key, const char *path,
		    char *out, size_t len, struct err *e)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, key) : NULL;
	out[0] = '\0';
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsString(v))
		return err_set(e, "%s is not a string", path);
	snprintf(out, len, "%s", v->valuestring);
	return 0;
}

static int read_count(const cJSON *parent, const char *key, const char *path,
		      int64_t *out, struct err *e)
{
	const cJSON *v = parent ? cJSON_GetObjectItemCaseSensitive(parent, key) : NULL;
	*out = 0;
	if (!v || cJSON_IsNull(v))
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > COUNT_MAX ||
	    v->valuedouble != (double)(int64_t)v->valuedouble)
		return err_set(e, "%s is not a count", path);
	*out = (int64_t)v->valuedouble;
	return 0;
}

static bool is_list(const cJSON *doc)
{
	const cJSON *kind = cJSON_GetObjectItemCaseSensitive(doc, "kind");
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	if (cJSON_IsString(kind)) {
		size_t n = strlen(kind->valuestring);
		if (n >= 4 && !strcmp(kind->valuestring + n - 4, "List"))
			return true;
	}
	return cJSON_IsArray(items);
}

static const char *item_name(const cJSON *item)
{
	const cJSON *meta = cJSON_GetObjectItemCaseSensitive(item, "metadata");
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(meta, "name");
	return cJSON_IsString(name) ? name->valuestring : NULL;
}

const cJSON *velero_doc_item(const cJSON *doc, const char *name, struct err *e)
{
	if (!cJSON_IsObject(doc)) {
		err_set(e, "the output is not a JSON object");
		return NULL;
	}
	if (!is_list(doc)) {
		const char *have = item_name(doc);
		if (name && (!have || strcmp(have, name))) {
			err_set(e, "the output is about '%s', not '%s'", have ? have : "?", name);
			return NULL;
		}
		return doc;
	}
	const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
	int n = cJSON_GetArraySize(items);
	if (!cJSON_IsArray(items)) {
		err_set(e, "items is not a list");
		return NULL;
	}
	if (!name && n == 1)
		return cJSON_GetArrayItem(items, 0);
	const cJSON *it;
	cJSON_ArrayForEach(it, items)
	{
		const char *have = item_name(it);
		if (name && have && !strcmp(have, name))
			return it;
	}
	if (name)
		err_set(e, "'%s' is not in the list", name);
	else
		err_set(e, "the list holds %d items, not one", n);
	return NULL;
}

static int read_status(const cJSON *status, struct velero_obj *o, struct err *e)
{
	const cJSON *progress, *ve;
	if (read_str(status, "phase", "status.phase", o->phase_text, sizeof o->phase_text, e) < 0 ||
	    read_count(status, "warnings", "status.warnings", &o->warnings, e) < 0 ||
	    read_count(status, "errors", "status.errors", &o->errors, e) < 0 ||
	    read_str(status, "startTimestamp", "status.startTimestamp", o->started,
		     sizeof o->started, e) < 0 ||
	    read_str(status, "completionTimestamp", "status.completionTimestamp", o->completed,
		     sizeof o->completed, e) < 0 ||
	    read_str(status, "expiration", "status.expiration", o->expires, sizeof o->expires, e) < 0 ||
	    read_str(status, "failureReason", "status.failureReason", o->failure_reason,
		     sizeof o->failure_reason, e) < 0 ||
	    read_obj(status, "progress", "status.progress", &progress, e) < 0)
		return -1;
	bool restore = !strcmp(o->kind, "Restore");
	const char *done = restore ? "itemsRestored" : "itemsBackedUp";
	char path[64];
	snprintf(path, sizeof path, "status.progress.%s", done);
	if (read_count(progress, "totalItems", "status.progress.totalItems", &o->items_total, e) < 0 ||
	    read_count(progress, done, path, &o->items_done, e) < 0)
		return -1;
	ve = status ? cJSON_GetObjectItemCaseSensitive(status, "validationErrors") : NULL;
	if (ve && !cJSON_IsNull(ve)) {
		if (!cJSON_IsArray(ve))
			return err_set(e, "status.validationErrors is not a list");
		o->n_validation_errors = cJSON_GetArraySize(ve);
		const cJSON *first = cJSON_GetArrayItem(ve, 0);
		if (cJSON_IsString(first))
			snprintf(o->validation_error, sizeof o->validation_error, "%s", first->valuestring);
	}
	return 0;
}

int velero_obj_read(const cJSON *item, struct velero_obj *o, struct err *e)
{
	const cJSON *meta, *spec, *status;
	char deletion[VELERO_TIME_MAX];
	memset(o, 0, sizeof *o);
	if (!cJSON_IsObject(item))
		return err_set(e, "the object is not a JSON object");
	if (read_str(item, "kind", "kind", o->kind, sizeof o->kind, e) < 0 ||
	    read_obj(item, "metadata", "metadata", &meta, e) < 0 ||
	    read_obj(item, "spec", "spec", &spec, e) < 0 ||
	    read_obj(item, "status", "status", &status, e) < 0 ||
	    read_str(meta, "name", "metadata.name", o->name, sizeof o->name, e) < 0 ||
	    read_str(meta, "creationTimestamp", "metadata.creationTimestamp", o->created,
		     sizeof o->created, e) < 0 ||
	    read_str(meta, "deletionTimestamp", "metadata.deletionTimestamp", deletion,
		     sizeof deletion, e) < 0 ||
	    read_str(spec, "backupName", "spec.backupName", o->backup, sizeof o->backup, e) < 0)
		return -1;
	if (strcmp(o->kind, "Restore") && strcmp(o->kind, "Backup"))
		return err_set(e, "kind '%s' is neither Restore nor Backup", o->kind);
	if (!o->name[0])
		return err_set(e, "metadata.name is missing");
	if (read_status(status, o, e) < 0)
		return -1;
	o->phase = velero_phase_parse(o->phase_text, &o->deleting);
	o->deleting = o->deleting || deletion[0];
	return 0;
}

cJSON *velero_obj_progress(const struct velero_obj *o)
{
	cJSON *v = cJSON_CreateObject();
	bool restore = !strcmp(o->kind, "Restore");
	cJSON_AddStringToObject(v, "name", o->name);
	/* "New" for an object not processed yet, as `velero get` shows it */
	cJSON_AddStringToObject(v, "phase", o->phase_text[0] ? o->phase_text : "New");
	cJSON_AddNumberToObject(v, restore ? "items_restored" : "items_backed_up",
				(double)o->items_done);
	cJSON_AddNumberToObject(v, "total_items", (double)o->items_total);
	cJSON_AddNumberToObject(v, "warnings", (double)o->warnings);
	cJSON_AddNumberToObject(v, "errors", (double)o->errors);
	if (velero_phase_partial(o->phase))
		cJSON_AddTrueToObject(v, "partial");
	if (o->deleting)
		cJSON_AddTrueToObject(v, "deleting");
	return v;
}

static void add_text(cJSON *v, const char *key, const char *text)
{
	if (text[0])
		cJSON_AddStringToObject(v, key, text);
}

void velero_obj_add_details(const struct velero_obj *o, cJSON *values)
{
	add_text(values, "backup", o->backup);
	add_text(values, "created", o->created);
	add_text(values, "started", o->started);
	add_text(values, "completed", o->completed);
	add_text(values, "failure_reason", o->failure_reason);
	if (o->n_validation_errors) {
		cJSON_AddNumberToObject(values, "validation_errors", o->n_validation_errors);
		add_text(values, "validation_error", o->validation_error);
	}
}

/* Completed first; within a group newest first, then by name. */
static int choice_cmp(const void *pa, const void *pb)
{
	const struct velero_obj *a = pa, *b = pb;
	bool ca = a->phase == VELERO_PHASE_COMPLETED && !a->deleting;
	bool cb = b->phase == VELERO_PHASE_COMPLETED && !b->deleting;
	if (ca != cb)
		return ca ? -1 : 1;
	int c = strcmp(b->created, a->created);
	return c ? c : strcmp(a->name, b->name);
}

cJSON *velero_backup_choices(const cJSON *doc, struct err *e)
{
	const cJSON *first;
	bool list;
	int n;
	if (!cJSON_IsObject(doc)) {
		err_set(e, "the output is not a JSON object");
		return NULL;
	}
	list = is_list(doc);
	if (list) {
		const cJSON *items = cJSON_GetObjectItemCaseSensitive(doc, "items");
		if (items && !cJSON_IsNull(items) && !cJSON_IsArray(items)) {
			err_set(e, "items is not a list");
			return NULL;
		}
		/* an empty list may print "items": null */
		first = cJSON_IsArray(items) ? items->child : NULL;
		n = cJSON_GetArraySize(items);
	} else {
		first = doc;
		n = 1;
	}
	struct velero_obj *v = xcalloc((size_t)n + 1, sizeof *v);
	int k = 0;
	for (const cJSON *it = first; it && k < n; it = list ? it->next : NULL) {
		if (velero_obj_read(it, &v[k], e) < 0) {
			err_prefix(e, "backup %d", k + 1);
			free(v);
			return NULL;
		}
		if (strcmp(v[k].kind, "Backup")) {
			err_set(e, "'%s' is a %s, not a backup", v[k].name, v[k].kind);
			free(v);
			return NULL;
		}
		k++;
	}
	qsort(v, (size_t)k, sizeof *v, choice_cmp);
	cJSON *out = cJSON_CreateArray();
	for (int i = 0; i < k; i++) {
		cJSON *c = cJSON_CreateObject();
		cJSON_AddStringToObject(c, "name", v[i].name);
		cJSON_AddStringToObject(c, "phase", v[i].phase_text[0] ? v[i].phase_text : "New");
		cJSON_AddStringToObject(c, "created", v[i].created);
		cJSON_AddStringToObject(c, "expires", v[i].expires);
		cJSON_AddNumberToObject(c, "warnings", (double)v[i].warnings);
		cJSON_AddNumberToObject(c, "errors", (double)v[i].errors);
		if (v[i].deleting)
			cJSON_AddTrueToObject(c, "deleting");
		cJSON_AddItemToArray(out, c);
	}
	free(v);
	return out;
}
