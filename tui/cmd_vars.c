/* cmd_vars: where a -v value comes from, and keeping secrets out of core
 * files.
 *
 *   -v NAME=text        the text itself (on the command line: ps, /proc
 *                       and shell history show it to others)
 *   -v NAME=@PATH       the contents of file PATH; for a secret, refused
 *                       if the file is readable by its group or others
 *   -v NAME=@env:VAR    environment variable VAR (for a secret, removed
 *                       from qrh's environment once read, so no step
 *                       inherits it under its old name)
 *   -v NAME=@fd:N       everything read from file descriptor N (closed)
 *   -v NAME=@@text      the text "@text"
 * One trailing newline (LF or CRLF) of a file or a descriptor is dropped,
 * as `echo secret >file` writes one. A value may not hold a NUL byte. */
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/cli.h"
#include "util/buf.h"
#include "util/err.h"
#include "util/xalloc.h"

#define VAR_VALUE_MAX (64 * 1024)

/* All of fd into *out (at most VAR_VALUE_MAX bytes). */
static int read_all(int fd, const char *what, struct buf *out, struct err *e)
{
	char chunk[4096];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return err_errno(e, "cannot read %s", what);
		if (n == 0)
			return 0;
		if (buf_add(out, chunk, (size_t)n) < 0)
			return err_set(e, "%s holds more than %d bytes", what,
				       VAR_VALUE_MAX);
	}
}

/* A secret's file must be private: anyone who can read it has it. */
static int file_value(const char *path, bool secret, struct buf *out,
		      struct err *e)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), rc;

	if (fd < 0)
		return err_errno(e, "cannot open '%s'", path);
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return err_set(e, "'%s' is not a regular file", path);
	}
	if (secret && (st.st_mode & 044)) {
		close(fd);
		return err_set(e, "'%s' is readable by its group or others (mode "
			       "%04o): a secret's file must be private, e.g. "
			       "chmod 600 '%s'", path,
			       (unsigned)(st.st_mode & 07777), path);
	}
	rc = read_all(fd, path, out, e);
	close(fd);
	return rc;
}

static int fd_value(const char *digits, struct buf *out, struct err *e)
{
	char *end, what[32];
	long fd = strtol(digits, &end, 10);
	int rc;

	if (!*digits || *end || fd < 0 || fd > 1000000 || fd == 1 || fd == 2)
		return err_set(e, "@fd: takes a file descriptor number other "
			       "than 1 and 2, not '%s'", digits);
	if (fcntl((int)fd, F_GETFD) < 0)
		return err_set(e, "file descriptor %ld is not open", fd);
	snprintf(what, sizeof what, "file descriptor %ld", fd);
	rc = read_all((int)fd, what, out, e);
	close((int)fd);
	return rc;
}

static int env_value(const char *name, bool secret, struct buf *out,
		     struct err *e)
{
	const char *v = *name ? getenv(name) : NULL;

	if (!v)
		return err_set(e, "environment variable '%s' is not set", name);
	buf_adds(out, v);
	if (secret)
		unsetenv(name);
	return 0;
}

/* Files and descriptors usually end with a newline the value does not. */
static void chomp(struct buf *b)
{
	if (b->len && b->data[b->len - 1] == '\n')
		b->data[--b->len] = '\0';
	if (b->len && b->data[b->len - 1] == '\r')
		b->data[--b->len] = '\0';
}

char *var_value_read(const char *spec, bool secret, bool *literal,
		     struct err *e)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, VAR_VALUE_MAX);
	*literal = spec[0] != '@' || spec[1] == '@';
	if (*literal) {
		buf_adds(&b, spec[0] == '@' ? spec + 1 : spec);
		return buf_detach(&b, NULL);
	}
	if (!strncmp(spec, "@env:", 5)) {
		rc = env_value(spec + 5, secret, &b, e);
	} else {
		rc = !strncmp(spec, "@fd:", 4) ? fd_value(spec + 4, &b, e) :
			file_value(spec + 1, secret, &b, e);
		if (rc == 0)
			chomp(&b);
	}
	if (rc == 0 && memchr(b.data, '\0', b.len))
		rc = err_set(e, "the value holds a NUL byte");
	if (rc < 0) {
		explicit_bzero(b.data, b.len);
		buf_release(&b);
		return NULL;
	}
	return buf_detach(&b, NULL);
}

/* A core file of a process that holds a secret holds the secret: no core,
 * and no ptrace or /proc/PID/mem by other processes of the same user
 * (PR_SET_DUMPABLE 0 does both). Sanitizer builds keep their crash
 * reports, which matter more there than a test secret. */
int secrets_protect(struct err *e)
{
#if defined(__SANITIZE_ADDRESS__) || defined(QRH_SANITIZE)
	(void)e;
	return 0;
#else
	struct rlimit none = { 0, 0 };

	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return err_errno(e, "cannot make qrh non-dumpable");
	if (setrlimit(RLIMIT_CORE, &none) < 0)
		return err_errno(e, "cannot turn core files off");
	return 0;
#endif
}
