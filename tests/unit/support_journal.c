/* support_journal: see support_journal.h. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "tests/unit/support_journal.h"
#include "util/xalloc.h"

int jt_setup_at(void **state, const char *name)
{
	struct jt_fixture *f = xcalloc(1, sizeof *f);

	snprintf(f->dir, sizeof f->dir, "/tmp/qrh-jt-XXXXXX");
	if (!mkdtemp(f->dir)) {
		free(f);
		return -1;
	}
	snprintf(f->path, sizeof f->path, "%s/%s", f->dir, name);
	*state = f;
	return 0;
}

int jt_setup(void **state)
{
	return jt_setup_at(state, "journal.db");
}

static int rm_one(const char *p, const struct stat *sb, int flag,
		  struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

int jt_teardown(void **state)
{
	struct jt_fixture *f = *state;

	nftw(f->dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

struct journal *jt_open(const char *path)
{
	struct err e = { "" };
	struct journal *j = journal_open(path, &e);

	if (!j)
		fail_msg("journal_open: %s", e.msg);
	return j;
}

void jt_sql(const char *path, const char *sql)
{
	sqlite3 *db;
	char *msg = NULL;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
		fail_msg("raw sql '%s': %s", sql, msg);
	sqlite3_close(db);
}

int64_t jt_sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	int64_t v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

struct journal_verify_result jt_verify(const char *path, int64_t run)
{
	struct err e = { "" };
	struct journal_verify_result res;
	struct journal *j = journal_open_ro(path, &e);

	if (!j)
		fail_msg("journal_open_ro: %s", e.msg);
	if (journal_verify(j, run, &res, &e) < 0)
		fail_msg("journal_verify: %s", e.msg);
	journal_close(j);
	return res;
}
