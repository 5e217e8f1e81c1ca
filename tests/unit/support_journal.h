/* support_journal: what the journal tests share — a temporary directory
 * per test, opening a journal or failing the test, raw SQL as the
 * attacker (or an older qrh) would write it, and verify's verdict. */
#ifndef QRH_TEST_SUPPORT_JOURNAL_H
#define QRH_TEST_SUPPORT_JOURNAL_H

#include <stdint.h>

#include "state/journal.h"

/* A legacy (step, attempt) output key, as the engine passes today. */
#define KEY(s, a) (&(const struct journal_okey){ .step = (s), .attempt = (a) })
/* A task's output key. */
#define TASK(s, a, t, l) (&(const struct journal_okey){ .step = (s), \
	.attempt = (a), .task = (t), .label = (l) })

struct jt_fixture {
	char dir[64];		/* removed with everything in it */
	char path[160];		/* the journal: dir + the name given */
};

/* cmocka setup: a fresh /tmp/qrh-jt-XXXXXX, journal at dir/journal.db. */
int jt_setup(void **state);
/* The same with the journal at dir/NAME (NAME may hold directories). */
int jt_setup_at(void **state, const char *name);
int jt_teardown(void **state);

/* journal_open, or the test fails with the reason. */
struct journal *jt_open(const char *path);
/* SQL on its own connection, as another program would; fails the test
 * when SQLite refuses it. */
void jt_sql(const char *path, const char *sql);
/* The first column of the first row, or -1. */
int64_t jt_sql_int(const char *path, const char *sql);
/* journal_verify of one run (0: all) through a read-only handle. */
struct journal_verify_result jt_verify(const char *path, int64_t run);

#endif
