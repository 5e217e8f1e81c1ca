/* The velero executor's pure parts: phases matched by prefix, accept
 * lists, reading argument words as the CLI does, and reading the JSON the
 * CLI prints, against the samples in tests/fixtures/velero/. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "actions/velero_obj.h"
#include "runbooks/velero_cli.h"

static cJSON *fixture(const char *name)
{
	const char *root = getenv("QRH_SRC");
	char path[1024];
	snprintf(path, sizeof path, "%s/tests/fixtures/velero/%s", root ? root : ".", name);
	FILE *f = fopen(path, "rb");
	if (!f)
		fail_msg("cannot open %s", path);
	static char text[1 << 16];
	size_t n = fread(text, 1, sizeof text - 1, f);
	fclose(f);
	text[n] = '\0';
	cJSON *doc = cJSON_Parse(text);
	if (!doc)
		fail_msg("%s is not JSON", path);
	return doc;
}

/* ---- phases ---- */

static void test_phase_prefix(void **state)
{
	static const struct {
		const char *text;
		enum velero_phase phase;
		bool deleting, terminal, partial;
	} cases[] = {
		{ NULL, VELERO_PHASE_NEW, false, false, false },
		{ "", VELERO_PHASE_NEW, false, false, false },
		{ "New", VELERO_PHASE_NEW, false, false, false },
		{ "InProgress", VELERO_PHASE_IN_PROGRESS, false, false, false },
		{ "WaitingForPluginOperations", VELERO_PHASE_WAITING, false, false, false },
		{ "WaitingForPluginOperationsPartiallyFailed", VELERO_PHASE_WAITING_PARTIAL, false, false, true },
		{ "Finalizing", VELERO_PHASE_FINALIZING, false, false, false },
		{ "FinalizingPartiallyFailed", VELERO_PHASE_FINALIZING_PARTIAL, false, false, true },
		{ "Completed", VELERO_PHASE_COMPLETED, false, true, false },
		{ "Completed (Deleting)", VELERO_PHASE_COMPLETED, true, true, false },
		{ "PartiallyFailed", VELERO_PHASE_PARTIALLY_FAILED, false, true, true },
		{ "PartiallyFailed (Deleting)", VELERO_PHASE_PARTIALLY_FAILED, true, true, true },
		{ "InProgress (Deleting)", VELERO_PHASE_IN_PROGRESS, true, false, false },
		{ "Failed", VELERO_PHASE_FAILED, false, true, false },
		{ "FailedValidation", VELERO_PHASE_FAILED_VALIDATION, false, true, false },
		{ "FailedValidation (Deleting)", VELERO_PHASE_FAILED_VALIDATION, true, true, false },
		{ "Deleting", VELERO_PHASE_DELETING, true, false, false },
		/* a prefix counts only up to a word's end */
		{ "Complete", VELERO_PHASE_UNKNOWN, false, false, false },
		{ "CompletedWithSurprises", VELERO_PHASE_UNKNOWN, false, false, false },
		{ "Finalizingish", VELERO_PHASE_UNKNOWN, false, false, false },
		{ "Unheard", VELERO_PHASE_UNKNOWN, false, false, false },
	};
	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
		bool deleting = !cases[i].deleting;
		enum velero_phase p = velero_phase_parse(cases[i].text, &deleting);
		if (p != cases[i].phase || deleting != cases[i].deleting ||
		    velero_phase_terminal(p) != cases[i].terminal ||
		    velero_phase_partial(p) != cases[i].partial)
			fail_msg("'%s': phase %s deleting %d", cases[i].text ? cases[i].text : "(null)",
				 velero_phase_name(p), deleting);
	}
}

static void test_accept(void **state)
{
	unsigned mask;
	char bad[64];
	(void)state;
	assert_int_equal(velero_accept_parse("Completed", &mask, bad, sizeof bad), 0);
	assert_int_equal(mask, VELERO_ACCEPT_DEFAULT);
	assert_int_equal(velero_accept_parse("Completed,PartiallyFailed", &mask, bad, sizeof bad), 0);
	assert_int_equal(mask, (1u << VELERO_PHASE_COMPLETED) | (1u << VELERO_PHASE_PARTIALLY_FAILED));
	assert_int_equal(velero_accept_parse("FailedValidation", &mask, bad, sizeof bad), 0);
	assert_int_equal(velero_accept_parse("Completed,InProgress", &mask, bad, sizeof bad), -1);
	assert_string_equal(bad, "InProgress");
	assert_int_equal(velero_accept_parse("Completed,", &mask, bad, sizeof bad), -1);
	assert_string_equal(bad, "");
	assert_int_equal(velero_accept_parse("completed", &mask, bad, sizeof bad), -1);
	assert_int_equal(velero_accept_parse("", &mask, bad, sizeof bad), -1);
}

/* ---- argument words ---- */

static void words(const char *line, struct velero_words *vw, char *store,
		  size_t store_len)
{
	static const char *w[32];
	size_t n = 0;
	snprintf(store, store_len, "%s", line);
	for (char *t = strtok(store, " "); t && n < 32; t = strtok(NULL, " "))
		w[n++] = t;
	velero_words_read(w, n, vw);
}

static void test_words(void **state)
{
	char s[512];
	struct velero_words vw;
	(void)state;
	words("restore create r1 --from-backup b1 --wait", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_RESTORE_CREATE);
	assert_string_equal(vw.name, "r1");
	assert_string_equal(vw.from_backup, "b1");
	assert_true(vw.wait);
	assert_true(vw.literal);
	assert_null(vw.output);

	words("create restore --from-backup=b1 -w", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_RESTORE_CREATE);
	assert_null(vw.name);
	assert_string_equal(vw.from_backup, "b1");
	assert_true(vw.wait);

	/* value flags take the next word, so the name is the word after */
	words("-n velero restore create --include-namespaces a r2 --restore-volumes", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_RESTORE_CREATE);
	assert_string_equal(vw.name, "r2");
	assert_false(vw.wait);

	words("restore create --from-schedule daily --wait=false", &vw, s, sizeof s);
	assert_string_equal(vw.from_schedule, "daily");
	assert_false(vw.wait);

	words("restore create r3 --from-backup b -o json", &vw, s, sizeof s);
	assert_string_equal(vw.output, "json");
	assert_null(velero_cmd_object(VELERO_CMD_BACKUP_GET));
	assert_string_equal(velero_cmd_object(vw.cmd), "restore");

	words("backup get -o json", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_BACKUP_GET);
	assert_true(velero_output_json(&vw));
	words("get backups -ojson", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_BACKUP_GET);
	assert_true(velero_output_json(&vw));
	words("backups get --output=json -l app=x", &vw, s, sizeof s);
	assert_true(velero_output_json(&vw));
	words("backup get -o=yaml", &vw, s, sizeof s);
	assert_false(velero_output_json(&vw));

	words("backup create nightly --include-namespaces a,b --wait", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_BACKUP_CREATE);
	assert_string_equal(vw.name, "nightly");
	assert_string_equal(velero_cmd_object(vw.cmd), "backup");

	words("restore get r1 -o json", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_OTHER);
	words("restore describe r1 --details", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_OTHER);
	words("version", &vw, s, sizeof s);
	assert_int_equal(vw.cmd, VELERO_CMD_OTHER);
	assert_false(vw.literal);

	words("${WHAT} create r1", &vw, s, sizeof s);
	assert_false(vw.literal);
	words("restore create ${NAME} --from-backup ${B}", &vw, s, sizeof s);
	assert_true(vw.literal);
	assert_string_equal(vw.name, "${NAME}");

	/* after --, everything is positional */
	words("restore create -- -odd", &vw, s, sizeof s);
	assert_string_equal(vw.name, "-odd");
}

/* ---- the JSON ---- */

static void read_fixture(const char *file, struct velero_obj *o)
{
	struct err e = { "" };
	cJSON *doc = fixture(file);
	const cJSON *item = velero_doc_item(doc, NULL, &e);
	if (!item || velero_obj_read(item, o, &e) < 0)
		fail_msg("%s: %s", file, e.msg);
	cJSON_Delete(doc);
}

static void test_restore_inprogress(void **state)
{
	struct velero_obj o;
	(void)state;
	read_fixture("restore-inprogress.json", &o);
	assert_string_equal(o.kind, "Restore");
	assert_string_equal(o.name, "daily-20250301020000-20250301093015");
	assert_int_equal(o.phase, VELERO_PHASE_IN_PROGRESS);
	assert_false(velero_phase_terminal(o.phase));
	assert_int_equal(o.items_done, 412);
	assert_int_equal(o.items_total, 1187);
	assert_int_equal(o.warnings, 0); /* absent: omitempty */
	assert_int_equal(o.errors, 0);
	assert_string_equal(o.started, "2025-03-01T09:30:16Z");
	assert_string_equal(o.completed, "");
	assert_string_equal(o.backup, "daily-20250301020000");
	assert_false(o.deleting);
}

static void test_restore_partially_failed(void **state)
{
	struct velero_obj o;
	(void)state;
	read_fixture("restore-partiallyfailed.json", &o);
	assert_int_equal(o.phase, VELERO_PHASE_PARTIALLY_FAILED);
	assert_true(velero_phase_terminal(o.phase));
	assert_true(velero_phase_partial(o.phase));
	assert_false(VELERO_ACCEPT_DEFAULT & (1u << o.phase));
	assert_int_equal(o.items_done, 1184);
	assert_int_equal(o.items_total, 1187);
	assert_int_equal(o.warnings, 14);
	assert_int_equal(o.errors, 3);
	assert_string_equal(o.completed, "2025-03-01T09:32:02Z");

	cJSON *p = velero_obj_progress(&o);
	assert_string_equal(cJSON_GetObjectItem(p, "phase")->valuestring, "PartiallyFailed");
	assert_int_equal(cJSON_GetObjectItem(p, "items_restored")->valueint, 1184);
	assert_int_equal(cJSON_GetObjectItem(p, "total_items")->valueint, 1187);
	assert_int_equal(cJSON_GetObjectItem(p, "warnings")->valueint, 14);
	assert_int_equal(cJSON_GetObjectItem(p, "errors")->valueint, 3);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(p, "partial")));
	cJSON_Delete(p);
}

static void test_restore_completed(void **state)
{
	struct velero_obj o;
	(void)state;
	read_fixture("restore-completed.json", &o);
	assert_int_equal(o.phase, VELERO_PHASE_COMPLETED);
	assert_true(VELERO_ACCEPT_DEFAULT & (1u << o.phase));
	assert_int_equal(o.items_done, 212);
	assert_int_equal(o.warnings, 2);
	assert_int_equal(o.errors, 0);
	assert_string_equal(o.backup, "pre-upgrade-payments");
	cJSON *p = velero_obj_progress(&o);
	assert_null(cJSON_GetObjectItem(p, "partial"));
	cJSON_Delete(p);
}

static void test_restore_failed_validation(void **state)
{
	struct velero_obj o;
	(void)state;
	read_fixture("restore-failedvalidation.json", &o);
	assert_int_equal(o.phase, VELERO_PHASE_FAILED_VALIDATION);
	assert_true(velero_phase_terminal(o.phase));
	assert_int_equal(o.n_validation_errors, 1);
	assert_non_null(strstr(o.validation_error, "can't find backup velero/typo-backup"));
	assert_string_equal(o.started, "");
	assert_string_equal(o.completed, "");
	assert_int_equal(o.items_total, 0);
	cJSON *v = cJSON_CreateObject();
	velero_obj_add_details(&o, v);
	assert_int_equal(cJSON_GetObjectItem(v, "validation_errors")->valueint, 1);
	assert_null(cJSON_GetObjectItem(v, "started"));
	cJSON_Delete(v);
}

static void test_get_list_or_bare(void **state)
{
	struct err e = { "" };
	struct velero_obj o;
	(void)state;
	cJSON *list = fixture("backup-list.json");
	/* several items: a name is needed */
	assert_null(velero_doc_item(list, NULL, &e));
	assert_non_null(strstr(e.msg, "2 items"));
	const cJSON *it = velero_doc_item(list, "pre-upgrade-payments", &e);
	assert_non_null(it);
	assert_int_equal(velero_obj_read(it, &o, &e), 0);
	assert_string_equal(o.kind, "Backup");
	assert_int_equal(o.phase, VELERO_PHASE_PARTIALLY_FAILED);
	assert_int_equal(o.items_done, 212); /* itemsBackedUp */
	assert_string_equal(o.expires, "2025-03-29T16:42:10Z");
	assert_null(velero_doc_item(list, "nosuch", &e));
	cJSON_Delete(list);

	/* one item: the bare object, which must be the one asked for */
	cJSON *bare = fixture("restore-completed.json");
	assert_non_null(velero_doc_item(bare, "dr-drill-payments", &e));
	assert_null(velero_doc_item(bare, "other", &e));
	assert_non_null(strstr(e.msg, "dr-drill-payments"));
	cJSON_Delete(bare);

	/* a list of one, as some versions print it */
	cJSON *one = cJSON_Parse("{\"kind\":\"RestoreList\",\"items\":[{\"kind\":\"Restore\","
				 "\"metadata\":{\"name\":\"r\"},\"status\":{\"phase\":\"Completed\"}}]}");
	assert_non_null(velero_doc_item(one, NULL, &e));
	assert_non_null(velero_doc_item(one, "r", &e));
	cJSON_Delete(one);
}

static void test_omitempty_and_types(void **state)
{
	struct err e = { "" };
	struct velero_obj o;
	(void)state;
	/* nothing processed yet: no status at all */
	cJSON *fresh = cJSON_Parse("{\"kind\":\"Restore\",\"metadata\":{\"name\":\"r\"},\"status\":{},"
				   "\"somethingNew\":{\"x\":[1,2]}}");
	assert_int_equal(velero_obj_read(fresh, &o, &e), 0);
	assert_int_equal(o.phase, VELERO_PHASE_NEW);
	assert_int_equal(o.items_total, 0);
	cJSON *p = velero_obj_progress(&o);
	assert_string_equal(cJSON_GetObjectItem(p, "phase")->valuestring, "New");
	cJSON_Delete(p);
	cJSON_Delete(fresh);

	cJSON *bad = cJSON_Parse("{\"kind\":\"Restore\",\"metadata\":{\"name\":\"r\"},"
				 "\"status\":{\"phase\":\"InProgress\",\"errors\":\"3\"}}");
	assert_int_equal(velero_obj_read(bad, &o, &e), -1);
	assert_string_equal(e.msg, "status.errors is not a count");
	cJSON_Delete(bad);

	bad = cJSON_Parse("{\"kind\":\"Restore\",\"metadata\":{\"name\":\"r\"},"
			  "\"status\":{\"progress\":{\"itemsRestored\":-1}}}");
	assert_int_equal(velero_obj_read(bad, &o, &e), -1);
	assert_string_equal(e.msg, "status.progress.itemsRestored is not a count");
	cJSON_Delete(bad);

	bad = cJSON_Parse("{\"kind\":\"Schedule\",\"metadata\":{\"name\":\"s\"}}");
	assert_int_equal(velero_obj_read(bad, &o, &e), -1);
	cJSON_Delete(bad);

	/* deletion shows in the metadata even when the phase does not say */
	cJSON *del = cJSON_Parse("{\"kind\":\"Restore\",\"metadata\":{\"name\":\"r\","
				 "\"deletionTimestamp\":\"2025-03-01T10:00:00Z\"},"
				 "\"status\":{\"phase\":\"InProgress\"}}");
	assert_int_equal(velero_obj_read(del, &o, &e), 0);
	assert_true(o.deleting);
	cJSON_Delete(del);
}

static void test_choices(void **state)
{
	struct err e = { "" };
	(void)state;
	cJSON *list = fixture("backup-list.json");
	cJSON *c = velero_backup_choices(list, &e);
	assert_non_null(c);
	assert_int_equal(cJSON_GetArraySize(c), 2);
	cJSON *first = cJSON_GetArrayItem(c, 0);
	assert_string_equal(cJSON_GetObjectItem(first, "name")->valuestring, "daily-20250301020000");
	assert_string_equal(cJSON_GetObjectItem(first, "phase")->valuestring, "Completed");
	assert_string_equal(cJSON_GetObjectItem(first, "created")->valuestring, "2025-03-01T02:00:00Z");
	assert_string_equal(cJSON_GetObjectItem(first, "expires")->valuestring, "2025-03-31T02:00:00Z");
	cJSON *second = cJSON_GetArrayItem(c, 1);
	assert_string_equal(cJSON_GetObjectItem(second, "phase")->valuestring, "PartiallyFailed");
	assert_int_equal(cJSON_GetObjectItem(second, "errors")->valueint, 2);
	cJSON_Delete(c);
	cJSON_Delete(list);

	/* Completed first, newest first within; a backup being deleted is
	 * not offered first */
	cJSON *doc = cJSON_Parse(
		"{\"kind\":\"BackupList\",\"items\":["
		"{\"kind\":\"Backup\",\"metadata\":{\"name\":\"old\",\"creationTimestamp\":\"2025-01-01T00:00:00Z\"},"
		"\"status\":{\"phase\":\"Completed\"}},"
		"{\"kind\":\"Backup\",\"metadata\":{\"name\":\"failed\",\"creationTimestamp\":\"2025-03-01T00:00:00Z\"},"
		"\"status\":{\"phase\":\"Failed\"}},"
		"{\"kind\":\"Backup\",\"metadata\":{\"name\":\"gone\",\"creationTimestamp\":\"2025-04-01T00:00:00Z\","
		"\"deletionTimestamp\":\"2025-04-02T00:00:00Z\"},\"status\":{\"phase\":\"Completed\"}},"
		"{\"kind\":\"Backup\",\"metadata\":{\"name\":\"new\",\"creationTimestamp\":\"2025-02-01T00:00:00Z\"},"
		"\"status\":{\"phase\":\"Completed\"}}]}");
	c = velero_backup_choices(doc, &e);
	assert_non_null(c);
	const char *want[] = { "new", "old", "gone", "failed" };
	for (int i = 0; i < 4; i++)
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(c, i), "name")->valuestring, want[i]);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetArrayItem(c, 2), "deleting")));
	cJSON_Delete(c);
	cJSON_Delete(doc);

	/* one backup prints bare; none prints a list with null items */
	doc = cJSON_Parse("{\"kind\":\"Backup\",\"metadata\":{\"name\":\"only\"},\"status\":{\"phase\":\"Completed\"}}");
	c = velero_backup_choices(doc, &e);
	assert_int_equal(cJSON_GetArraySize(c), 1);
	cJSON_Delete(c);
	cJSON_Delete(doc);
	doc = cJSON_Parse("{\"kind\":\"BackupList\",\"items\":null}");
	c = velero_backup_choices(doc, &e);
	assert_non_null(c);
	assert_int_equal(cJSON_GetArraySize(c), 0);
	cJSON_Delete(c);
	cJSON_Delete(doc);

	/* restores are not backups */
	doc = fixture("restore-completed.json");
	assert_null(velero_backup_choices(doc, &e));
	assert_non_null(strstr(e.msg, "not a backup"));
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_prefix),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_words),
		cmocka_unit_test(test_restore_inprogress),
		cmocka_unit_test(test_restore_partially_failed),
		cmocka_unit_test(test_restore_completed),
		cmocka_unit_test(test_restore_failed_validation),
		cmocka_unit_test(test_get_list_or_bare),
		cmocka_unit_test(test_omitempty_and_types),
		cmocka_unit_test(test_choices),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
