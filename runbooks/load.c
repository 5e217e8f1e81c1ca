#include "runbooks/load.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "runbooks/validate.h"
#include "util/utf8.h"
#include "util/xalloc.h"

enum runbook_format runbook_guess_format(const char *path, const char *text,
					 size_t len)
{
	const char *dot = path ? strrchr(path, '.') : NULL;
	if (dot && !strcmp(dot, ".json"))
		return RUNBOOK_JSON;
	if (dot && (!strcmp(dot, ".md") || !strcmp(dot, ".markdown")))
		return RUNBOOK_MARKDOWN;
	for (size_t i = 0; i < len; i++) {
		if (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' ||
		    text[i] == '\r')
			continue;
		return text[i] == '{' ? RUNBOOK_JSON : RUNBOOK_MARKDOWN;
	}
	return RUNBOOK_MARKDOWN;
}

/* Checks encoding and line lengths; reports the first problem of each. */
static int check_text(const char *text, size_t len, int md, struct diags *d)
{
	unsigned line = 1, col = 1;
	size_t line_start = 0;
	int long_reported = 0;
	for (size_t i = 0; i < len;) {
		unsigned char c = (unsigned char)text[i];
		size_t n = utf8_seq((const unsigned char *)text + i, len - i);
		if (c == 0) {
			diag_error(d, (struct srcpos){ line, col }, "the file contains a NUL byte");
			return -1;
		}
		if (!n) {
			diag_error(d, (struct srcpos){ line, col },
				   "the file is not valid UTF-8 (byte 0x%02x)", c);
			return -1;
		}
		if (c == '\n') {
			line++;
			col = 1;
			line_start = i + 1;
		} else {
			col++;
		}
		if (md && !long_reported && c != '\n' &&
		    i - line_start >= QRH_MAX_LINE_BYTES) {
			diag_error(d, (struct srcpos){ line, 1 },
				   "line longer than %u bytes", QRH_MAX_LINE_BYTES);
			long_reported = 1;
		}
		i += n;
	}
	return long_reported ? -1 : 0;
}

/* A copy without a UTF-8 byte-order mark, with CRLF and a lone CR (as
 * CommonMark reads them: both end a line) turned into LF, so that the
 * loader's line table and cmark agree on every line. */
static char *normalise(const char *text, size_t len, size_t *out_len)
{
	char *out = xmalloc(len + 1);
	size_t o = 0, i = 0;
	if (len >= 3 && !memcmp(text, "\xef\xbb\xbf", 3))
		i = 3;
	for (; i < len; i++) {
		if (text[i] == '\r' && i + 1 < len && text[i + 1] == '\n')
			continue;
		out[o++] = text[i] == '\r' ? '\n' : text[i];
	}
	out[o] = '\0';
	*out_len = o;
	return out;
}

struct runbook *runbook_load_buffer(const char *path, const char *text,
				    size_t len, enum runbook_format fmt,
				    struct diags *d)
{
	if (len > QRH_MAX_FILE_BYTES) {
		diag_error(d, (struct srcpos){ 1, 1 },
			   "file is %zu bytes, over the limit of %u", len,
			   QRH_MAX_FILE_BYTES);
		return NULL;
	}
	if (fmt == RUNBOOK_AUTO)
		fmt = runbook_guess_format(path, text, len);
	if (check_text(text, len, fmt == RUNBOOK_MARKDOWN, d) < 0)
		return NULL;
	size_t n;
	char *work = normalise(text, len, &n);
	struct runbook *rb;
	if (fmt == RUNBOOK_JSON) {
		/* positions cost a second parse: only when there is news */
		struct diags quick;
		diags_init(&quick);
		rb = load_json(work, n, false, &quick);
		if (rb)
			runbook_validate(rb, &quick);
		if (quick.n || quick.n_dropped) {
			runbook_free(rb);
			rb = load_json(work, n, true, d);
			if (rb)
				runbook_validate(rb, d);
		}
		diags_release(&quick);
	} else {
		rb = load_markdown(work, n, d);
		if (rb)
			runbook_validate(rb, d);
	}
	free(work);
	if (!rb)
		return NULL;
	rb->path = xstrdup_or_null(path);
	rb->source = xmalloc(len + 1);
	memcpy(rb->source, text, len);
	rb->source[len] = '\0';
	rb->source_len = len;
	diags_sort(d);
	return rb;
}

static const char *file_kind(mode_t m)
{
	return S_ISDIR(m) ? "a directory" : S_ISFIFO(m) ? "a FIFO" :
	       S_ISCHR(m) ? "a character device" : S_ISBLK(m) ?
	       "a block device" : S_ISSOCK(m) ? "a socket" : "not a file";
}

struct runbook *runbook_load_file(const char *path, struct diags *d)
{
	/* O_NONBLOCK: opening a FIFO would otherwise wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	struct stat st;
	if (fd < 0 || fstat(fd, &st) < 0) {
		diag_error(d, (struct srcpos){ 1, 1 }, "cannot read the file: %s",
			   strerror(errno));
		if (fd >= 0)
			close(fd);
		return NULL;
	}
	if (!S_ISREG(st.st_mode)) {
		diag_error(d, (struct srcpos){ 1, 1 },
			   "not a regular file (%s): a runbook must be one",
			   file_kind(st.st_mode));
		close(fd);
		return NULL;
	}
	if ((uint64_t)st.st_size > QRH_MAX_FILE_BYTES) {
		diag_error(d, (struct srcpos){ 1, 1 },
			   "file is %lld bytes, over the limit of %u",
			   (long long)st.st_size, QRH_MAX_FILE_BYTES);
		close(fd);
		return NULL;
	}
	size_t cap = (size_t)st.st_size + 1, len = 0;
	char *text = xmalloc(cap);
	for (;;) {
		ssize_t r = read(fd, text + len, cap - len);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			diag_error(d, (struct srcpos){ 1, 1 }, "cannot read the file: %s",
				   strerror(errno));
			free(text);
			close(fd);
			return NULL;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len == cap) {
			if (cap > QRH_MAX_FILE_BYTES) {
				diag_error(d, (struct srcpos){ 1, 1 },
					   "file grew over the limit of %u bytes",
					   QRH_MAX_FILE_BYTES);
				free(text);
				close(fd);
				return NULL;
			}
			cap *= 2;
			text = xrealloc(text, cap);
		}
	}
	close(fd);
	struct runbook *rb = runbook_load_buffer(path, text, len, RUNBOOK_AUTO, d);
	free(text);
	return rb;
}
