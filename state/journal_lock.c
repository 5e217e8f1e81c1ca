/* journal_lock.c: who runs a run. Each run has a lock file beside the
 * journal, "<journal>-run-<id>.lock" (0600, the journal's directory), and
 * its owner is the process holding an exclusive flock on it. The kernel
 * drops the lock when the owner dies however it dies, so a crashed run
 * is free to resume and a live one never is. The file says who holds it
 * (JSON: pid, host, boot_id, operator, started_ms), for the message a
 * refused second owner gets.
 *
 * The owner unlinks the file before letting go, so a lock file on disk is
 * either held or left by a process that crashed. A locker checks after
 * flock that the path still names the file it locked: otherwise it
 * locked a file its owner had just unlinked, and tries again. */
#include "state/journal_priv.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/clock.h"
#include "util/xalloc.h"

#define LOCK_TRIES 8
#define LOCK_INFO_MAX 4096

static char *lock_path(const struct journal *j, int64_t run_id)
{
	struct buf b;

	buf_init(&b, BUF_UNLIMITED);
	buf_addf(&b, "%s-run-%lld.lock", j->path, (long long)run_id);
	return buf_detach(&b, NULL);
}

static int lock_find(const struct journal *j, int64_t run_id)
{
	for (size_t i = 0; i < j->nlocks; i++)
		if (j->locks[i].run_id == run_id)
			return (int)i;
	return -1;
}

int journal_run_owned(const struct journal *j, int64_t run_id)
{
	return lock_find(j, run_id) >= 0;
}

/* The kernel's id for this boot: with the pid, it names a process. */
static void boot_id(char *out, size_t n)
{
	FILE *f = fopen("/proc/sys/kernel/random/boot_id", "re");

	out[0] = '\0';
	if (f) {
		if (fgets(out, (int)n, f))
			out[strcspn(out, "\n")] = '\0';
		fclose(f);
	}
}

/* What a refused second owner is told. */
static char *owner_json(const char *operator_name)
{
	char host[256], boot[64];
	cJSON *o = cJSON_CreateObject();
	char *text, *copy;

	if (gethostname(host, sizeof host) < 0)
		snprintf(host, sizeof host, "unknown");
	host[sizeof host - 1] = '\0';
	boot_id(boot, sizeof boot);
	cJSON_AddNumberToObject(o, "pid", (double)getpid());
	cJSON_AddStringToObject(o, "host", host);
	cJSON_AddStringToObject(o, "boot_id", boot);
	cJSON_AddStringToObject(o, "operator", operator_name ? operator_name : "");
	cJSON_AddNumberToObject(o, "started_ms", (double)clock_wall_ms());
	text = cJSON_PrintUnformatted(o);
	cJSON_Delete(o);
	copy = xstrdup(text ? text : "{}");
	cJSON_free(text);
	return copy;
}

/* "14:02:11" today, "2026-11-30 14:02:11" another day: local time, as
 * the operator reads a clock. */
static void since_format(double ms, char *out, size_t n)
{
	time_t t = (time_t)(ms / 1000), now = time(NULL);
	struct tm tm, today;

	localtime_r(&t, &tm);
	localtime_r(&now, &today);
	if (tm.tm_year == today.tm_year && tm.tm_yday == today.tm_yday)
		strftime(out, n, "%H:%M:%S", &tm);
	else
		strftime(out, n, "%Y-%m-%d %H:%M:%S", &tm);
}

/* The holder's own words, read from the file it holds. */
static int refuse_held(int fd, const char *path, int64_t run_id,
		       struct err *e)
{
	char text[LOCK_INFO_MAX], since[32];
	ssize_t n = pread(fd, text, sizeof text - 1, 0);
	cJSON *o;
	const cJSON *op, *host, *pid, *ms;

	text[n > 0 ? n : 0] = '\0';
	o = cJSON_Parse(text);
	op = cJSON_GetObjectItemCaseSensitive(o, "operator");
	host = cJSON_GetObjectItemCaseSensitive(o, "host");
	pid = cJSON_GetObjectItemCaseSensitive(o, "pid");
	ms = cJSON_GetObjectItemCaseSensitive(o, "started_ms");
	if (!cJSON_IsString(op) || !cJSON_IsString(host) ||
	    !cJSON_IsNumber(pid) || !cJSON_IsNumber(ms)) {
		cJSON_Delete(o);
		return err_set(e, "run %lld is being run by another qrh (its "
			       "lock '%s' is held)", (long long)run_id, path);
	}
	since_format(ms->valuedouble, since, sizeof since);
	err_set(e, "run %lld is being run by %s (pid %.0f on host %s) since "
		"%s", (long long)run_id, op->valuestring, pid->valuedouble,
		host->valuestring, since);
	cJSON_Delete(o);
	return -1;
}

/* Still the file at `path`? Otherwise its owner unlinked it meanwhile. */
static int still_there(int fd, const char *path)
{
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(path, &b) == 0 &&
	       a.st_dev == b.st_dev && a.st_ino == b.st_ino;
}

/* Open (never through a symlink), flock without waiting, and make sure
 * the locked file is the one the path names. Returns the fd, or -1. */
static int lock_take(const char *path, int64_t run_id, struct err *e)
{
	for (int tries = 0; tries < LOCK_TRIES; tries++) {
		int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW,
			      0600);
		if (fd < 0)
			return err_errno(e, "cannot open the lock of run %lld "
					 "'%s'", (long long)run_id, path);
		if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
			int rc = errno == EWOULDBLOCK ?
				refuse_held(fd, path, run_id, e) :
				err_errno(e, "cannot lock run %lld ('%s')",
					  (long long)run_id, path);
			close(fd);
			return rc;
		}
		if (still_there(fd, path))
			return fd;
		close(fd);
	}
	return err_set(e, "cannot lock run %lld: its lock file '%s' keeps "
		       "changing", (long long)run_id, path);
}

static int owner_write(int fd, const char *path, const char *operator_name,
		       struct err *e)
{
	char *text = owner_json(operator_name);
	size_t len = strlen(text);
	int ok = ftruncate(fd, 0) == 0 &&
		 pwrite(fd, text, len, 0) == (ssize_t)len;

	free(text);
	if (!ok)
		return err_errno(e, "cannot write the run lock '%s'", path);
	return 0;
}

int journal_run_lock(struct journal *j, int64_t run_id,
		     const char *operator_name, struct err *e)
{
	char *path;
	int fd;

	if (journal_check_use(j, 1, e) < 0)
		return -1;
	if (run_id <= 0)
		return err_set(e, "no run %lld to lock", (long long)run_id);
	if (journal_run_owned(j, run_id))
		return 0;
	path = lock_path(j, run_id);
	fd = lock_take(path, run_id, e);
	if (fd >= 0 && owner_write(fd, path, operator_name, e) < 0) {
		unlink(path);
		close(fd);
		fd = -1;
	}
	free(path);
	if (fd < 0)
		return -1;
	j->locks = xgrow(j->locks, &j->locks_cap, j->nlocks + 1,
			 sizeof *j->locks);
	j->locks[j->nlocks].run_id = run_id;
	j->locks[j->nlocks].fd = fd;
	j->nlocks++;
	return 0;
}

/* Unlink while still holding it, then let go (see the top of the file).
 * In a forked child only the fd goes: the lock is the parent's. */
static void lock_drop(struct journal *j, size_t i)
{
	if (j->pid == getpid()) {
		char *path = lock_path(j, j->locks[i].run_id);
		if (still_there(j->locks[i].fd, path))
			unlink(path);
		free(path);
	}
	close(j->locks[i].fd);
	j->locks[i] = j->locks[--j->nlocks];
}

void journal_run_unlock(struct journal *j, int64_t run_id)
{
	int i = lock_find(j, run_id);

	if (i >= 0)
		lock_drop(j, (size_t)i);
}

void journal_locks_release(struct journal *j)
{
	while (j->nlocks)
		lock_drop(j, j->nlocks - 1);
	free(j->locks);
	j->locks = NULL;
	j->locks_cap = 0;
}

/* Every writer of a run's events and output passes here. */
int journal_run_check_owned(const struct journal *j, int64_t run_id,
			    struct err *e)
{
	if (journal_run_owned(j, run_id))
		return 0;
	return err_set(e, "run %lld is not owned by this qrh: lock it "
		       "(journal_run_lock) before writing to it",
		       (long long)run_id);
}
