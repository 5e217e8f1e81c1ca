/* evidence_bundle.c: `qrh export RUN -o DIR` — every document of the run,
 * the runbook as run, each output stream, and a MANIFEST with the SHA-256
 * of every file (sha256sum -c reads it) and the journal head, signed on
 * request with ssh-keygen -Y sign (tui/evidence_sign.c). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tui/evidence.h"
#include "tui/evidence_sign.h"
#include "util/sha256.h"
#include "util/xalloc.h"

struct written {
	char *path;
	char sha[SHA256_HEX_LEN + 1];
};

struct bundle {
	const char *dir;
	struct written *files;
	size_t n, cap;
};

/* mkdir -p of rel's parent directories inside the bundle. */
static int parents_make(const struct bundle *bd, const char *rel, struct err *e)
{
	char path[4096];

	if ((size_t)snprintf(path, sizeof path, "%s/%s", bd->dir, rel) >= sizeof path)
		return err_set(e, "the path '%s/%s' is too long", bd->dir, rel);
	for (char *p = path + strlen(bd->dir) + 1; (p = strchr(p, '/')); p++) {
		*p = '\0';
		if (mkdir(path, 0755) < 0 && errno != EEXIST)
			return err_errno(e, "cannot create '%s'", path);
		*p = '/';
	}
	return 0;
}

/* Written whole and synced, never over something already there. */
static int file_put(struct bundle *bd, const char *rel, const void *data, size_t len,
		    struct err *e)
{
	char path[4096];
	int fd;

	if (parents_make(bd, rel, e) < 0)
		return -1;
	snprintf(path, sizeof path, "%s/%s", bd->dir, rel);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0)
		return err_errno(e, "cannot create '%s'", path);
	for (size_t off = 0; off < len;) {
		ssize_t n = write(fd, (const char *)data + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			err_errno(e, "cannot write '%s'", path);
			close(fd);
			return -1;
		}
		off += (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0)
		return err_errno(e, "cannot write '%s'", path);
	bd->files = xgrow(bd->files, &bd->cap, bd->n + 1, sizeof *bd->files);
	bd->files[bd->n].path = xstrdup(rel);
	sha256_hex(data, len, bd->files[bd->n].sha);
	bd->n++;
	return 0;
}

static int output_put(void *arg, const struct evidence_output *o, const char *data,
		      size_t len, struct err *e)
{
	return file_put(arg, o->path, data, len, e);
}

/* The directory is new, or empty. */
static int dir_make(const char *dir, struct err *e)
{
	if (mkdir(dir, 0755) == 0)
		return 0;
	if (errno != EEXIST)
		return err_errno(e, "cannot create '%s'", dir);
	if (rmdir(dir) == 0 && mkdir(dir, 0755) == 0)
		return 0;
	return err_set(e, "'%s' exists and is not an empty directory: give a new one", dir);
}

static int path_cmp(const void *a, const void *b)
{
	return strcmp(((const struct written *)a)->path, ((const struct written *)b)->path);
}

static void manifest_text(const struct evidence *ev, struct bundle *bd, struct buf *m)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(ev->doc, "run");
	const char *sha = ev_str(run, "runbook_sha256");

	buf_addf(m, "# qrh evidence bundle, format %d: check it with qrh verify-bundle DIR "
		 "(or sha256sum -c MANIFEST)\n# run: %lld\n# head: ", EVIDENCE_FORMAT,
		 (long long)ev->run_id);
	ev_head(m, ev);
	buf_adds(m, "\n# status: ");
	if (ev->live)
		ev_live_sentence(m, ev);
	else
		buf_addf(m, "ended, outcome %s", ev_str(run, "outcome") ? ev_str(run, "outcome") : "?");
	buf_addf(m, "\n# runbook: %s, sha256 %s as the run recorded it\n", ev->runbook_name,
		 sha ? sha : "unknown");
	qsort(bd->files, bd->n, sizeof *bd->files, path_cmp);
	for (size_t i = 0; i < bd->n; i++)
		buf_addf(m, "%s  %s\n", bd->files[i].sha, bd->files[i].path);
}

static int documents_put(struct bundle *bd, const struct evidence *ev, struct err *e)
{
	void (*const render[])(const struct evidence *, struct buf *) = {
		evidence_md, evidence_junit, evidence_html,
	};
	static const char *const names[] = { "evidence.md", "junit.xml", "report.html" };
	struct buf doc;
	int rc = file_put(bd, "evidence.json", ev->doc_text, ev->doc_len, e);

	if (rc == 0)
		rc = file_put(bd, ev->runbook_name, ev->runbook_text, ev->runbook_len, e);
	buf_init(&doc, BUF_UNLIMITED);
	for (size_t i = 0; i < 3 && rc == 0; i++) {
		buf_reset(&doc);
		render[i](ev, &doc);
		rc = file_put(bd, names[i], doc.data, doc.len, e);
	}
	buf_release(&doc);
	return rc;
}

int evidence_bundle_write(struct journal *j, int64_t run_id, const char *dir,
			  const char *sign_key, struct journal_head *head,
			  struct err *e)
{
	struct bundle bd = { .dir = dir };
	struct evidence ev;
	struct buf m;
	int rc;

	if (dir_make(dir, e) < 0)
		return -1;
	rc = evidence_load(j, run_id, &ev, output_put, &bd, e);
	if (rc == 0)
		rmdir(dir);
	if (rc <= 0)
		goto out;
	*head = ev.head;
	rc = documents_put(&bd, &ev, e) < 0 ? -1 : 1;
	if (rc > 0) {
		buf_init(&m, BUF_UNLIMITED);
		manifest_text(&ev, &bd, &m);
		rc = file_put(&bd, EVIDENCE_MANIFEST, m.data, m.len, e) < 0 ? -1 : 1;
		buf_release(&m);
	}
	if (rc > 0 && sign_key)
		rc = evidence_sign(dir, sign_key, e) < 0 ? -1 : 1;
	evidence_release(&ev);
out:
	for (size_t i = 0; i < bd.n; i++)
		free(bd.files[i].path);
	free(bd.files);
	return rc;
}
