/* evidence_sign.c: signing a bundle's MANIFEST with ssh-keygen and
 * checking a bundle (tui/evidence_sign.h). ssh-keygen runs from an argv,
 * never through a shell. */
#include "tui/evidence_sign.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/sha256.h"
#include "util/xalloc.h"

#define TOOL_OUTPUT_MAX 65536
#define BUNDLE_FILE_MAX (64u << 20)
#define BUNDLE_DEPTH_MAX 8

extern char **environ;

/* Runs argv (PATH lookup), stdin from in_path (NULL: /dev/null), stdout
 * and stderr into *out. The exit status, or -1 if it could not run. */
static int tool_run(const char *const args[], const char *in_path, struct buf *out)
{
	posix_spawn_file_actions_t fa;
	int pipefd[2], status = 0;
	pid_t pid;
	size_t n_args = 0;

	while (args[n_args])
		n_args++;
	char **argv = xcalloc(n_args + 1, sizeof *argv);
	for (size_t i = 0; i < n_args; i++)
		argv[i] = xstrdup(args[i]);
	if (pipe2(pipefd, O_CLOEXEC) < 0) {
		status = -1;
		goto out;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, in_path ? in_path : "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	int rc = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (rc != 0) {
		close(pipefd[0]);
		errno = rc;
		status = -1;
		goto out;
	}
	char chunk[4096];
	ssize_t n;
	while ((n = read(pipefd[0], chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		buf_add(out, chunk, (size_t)n);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			status = -1;
			goto out;
		}
	status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
out:
	for (size_t i = 0; i < n_args; i++)
		free(argv[i]);
	free(argv);
	return status;
}

/* ssh-keygen's own words, on one line. */
static const char *tool_words(struct buf *out)
{
	while (out->len && (out->data[out->len - 1] == '\n' || out->data[out->len - 1] == '\r'))
		out->data[--out->len] = '\0';
	for (size_t i = 0; i < out->len; i++)
		if (out->data[i] == '\n')
			out->data[i] = ' ';
	return out->len ? out->data : "no message";
}

int evidence_sign(const char *dir, const char *key, struct err *e)
{
	char manifest[4096];
	struct buf out;

	snprintf(manifest, sizeof manifest, "%s/%s", dir, EVIDENCE_MANIFEST);
	const char *const argv[] = { "ssh-keygen", "-q", "-Y", "sign", "-f", key, "-n",
				     EVIDENCE_NAMESPACE, manifest, NULL };
	buf_init(&out, TOOL_OUTPUT_MAX);
	int rc = tool_run(argv, NULL, &out);
	if (rc < 0)
		err_errno(e, "cannot run ssh-keygen");
	else if (rc != 0)
		err_set(e, "ssh-keygen could not sign the manifest with '%s': %s", key,
			tool_words(&out));
	buf_release(&out);
	return rc == 0 ? 0 : -1;
}

/* ---- checking ---- */

static int file_read(const char *path, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	char chunk[65536];
	ssize_t n;

	if (fd < 0)
		return -1;
	while ((n = read(fd, chunk, sizeof chunk)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || buf_add(out, chunk, (size_t)n) < 0) {
			close(fd);
			return -1;
		}
	}
	close(fd);
	return 0;
}

static void problem(struct strv *p, const char *file, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void problem(struct strv *p, const char *file, const char *fmt, ...)
{
	struct buf b;
	va_list ap;

	buf_init(&b, 8192);
	buf_addf(&b, "%s: ", file);
	va_start(ap, fmt);
	buf_vaddf(&b, fmt, ap);
	va_end(ap);
	strv_push(p, b.data);
	buf_release(&b);
}

struct listed {
	char **path;
	char (*sha)[SHA256_HEX_LEN + 1];
	size_t n, cap, cap2;
	char head[256];
	char runbook[256];
	char runbook_sha[SHA256_HEX_LEN + 1];
};

static bool hex64(const char *s)
{
	return strspn(s, "0123456789abcdef") == SHA256_HEX_LEN;
}

static bool path_safe(const char *p)
{
	if (!*p || *p == '/' || strstr(p, "//"))
		return false;
	for (const char *c = p; c; c = strchr(c, '/')) {
		c += *c == '/';
		if (!strncmp(c, "..", 2) && (c[2] == '/' || !c[2]))
			return false;
		if (c[0] == '.' && (c[1] == '/' || !c[1]))
			return false;
	}
	return !strchr(p, '\n');
}

static void header_line(struct listed *l, const char *line)
{
	const char *v;
	if ((v = strstr(line, "# head: ")) == line)
		snprintf(l->head, sizeof l->head, "%s", v + 8);
	else if ((v = strstr(line, "# runbook: ")) == line) {
		const char *comma = strstr(v, ", sha256 ");
		if (comma && comma - (v + 11) < (long)sizeof l->runbook) {
			snprintf(l->runbook, sizeof l->runbook, "%.*s", (int)(comma - (v + 11)), v + 11);
			snprintf(l->runbook_sha, sizeof l->runbook_sha, "%.64s", comma + 9);
		}
	}
}

static void manifest_parse(char *text, struct listed *l, struct strv *problems)
{
	size_t lineno = 0;

	for (char *line = text, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (line[0] == '#') {
			header_line(l, line);
			continue;
		}
		if (strlen(line) < SHA256_HEX_LEN + 3 || !hex64(line) ||
		    strncmp(line + SHA256_HEX_LEN, "  ", 2) || !path_safe(line + SHA256_HEX_LEN + 2)) {
			char n[32];
			snprintf(n, sizeof n, "%zu", lineno);
			problem(problems, EVIDENCE_MANIFEST, "line %s is not 'SHA256  FILE' "
				"with a file inside the bundle", n);
			continue;
		}
		l->path = xgrow(l->path, &l->cap, l->n + 1, sizeof *l->path);
		l->sha = xgrow(l->sha, &l->cap2, l->n + 1, sizeof *l->sha);
		l->path[l->n] = xstrdup(line + SHA256_HEX_LEN + 2);
		memcpy(l->sha[l->n], line, SHA256_HEX_LEN);
		l->sha[l->n][SHA256_HEX_LEN] = '\0';
		l->n++;
	}
}

static void files_check(const char *dir, const struct listed *l, struct strv *problems)
{
	for (size_t i = 0; i < l->n; i++) {
		char path[4096], sha[SHA256_HEX_LEN + 1];
		struct buf data;
		snprintf(path, sizeof path, "%s/%s", dir, l->path[i]);
		buf_init(&data, BUNDLE_FILE_MAX);
		if (file_read(path, &data) < 0) {
			problem(problems, l->path[i], "%s", errno == ENOENT ? "missing"
				: "cannot be read (or is too large)");
		} else {
			sha256_hex(data.data, data.len, sha);
			if (strcmp(sha, l->sha[i]))
				problem(problems, l->path[i], "%s", "changed: its SHA-256 is not the manifest's");
		}
		buf_release(&data);
	}
}

static bool listed_has(const struct listed *l, const char *rel)
{
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->path[i], rel))
			return true;
	return !strcmp(rel, EVIDENCE_MANIFEST) || !strcmp(rel, EVIDENCE_SIGNATURE);
}

/* Files in the bundle that the manifest does not list. */
static void extras_check(const char *dir, const char *rel, int depth, const struct listed *l,
			 struct strv *problems)
{
	char path[4096];
	DIR *d;
	struct dirent *de;

	snprintf(path, sizeof path, "%s%s%s", dir, *rel ? "/" : "", rel);
	if (depth > BUNDLE_DEPTH_MAX || !(d = opendir(path)))
		return;
	while ((de = readdir(d))) {
		char sub[4096];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if ((size_t)snprintf(sub, sizeof sub, "%s%s%s", rel, *rel ? "/" : "",
				     de->d_name) >= sizeof sub ||
		    (size_t)snprintf(path, sizeof path, "%s/%s", dir, sub) >= sizeof path ||
		    lstat(path, &st) < 0)
			continue;
		if (S_ISDIR(st.st_mode))
			extras_check(dir, sub, depth + 1, l, problems);
		else if (!listed_has(l, sub))
			problem(problems, sub, "%s", "not in the manifest");
	}
	closedir(d);
}

/* evidence.json must hold the manifest's head, and the runbook file the
 * SHA-256 the run recorded. */
static void cross_check(const char *dir, const struct listed *l, struct strv *problems)
{
	char path[4096];
	struct buf data;

	snprintf(path, sizeof path, "%s/evidence.json", dir);
	buf_init(&data, BUNDLE_FILE_MAX);
	cJSON *doc = file_read(path, &data) == 0 ? cJSON_Parse(data.data) : NULL;
	buf_release(&data);
	if (!doc)
		return; /* named above as missing or changed */
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(doc, "run");
	const cJSON *head = cJSON_GetObjectItemCaseSensitive(doc, "head");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "id");
	const cJSON *seq = cJSON_GetObjectItemCaseSensitive(head, "seq");
	const cJSON *hash = cJSON_GetObjectItemCaseSensitive(head, "hash");
	const cJSON *sha = cJSON_GetObjectItemCaseSensitive(run, "runbook_sha256");
	char mine[256];
	snprintf(mine, sizeof mine, "%lld:%lld:%s", (long long)(cJSON_IsNumber(id) ? id->valuedouble : 0),
		 (long long)(cJSON_IsNumber(seq) ? seq->valuedouble : 0),
		 cJSON_IsString(hash) ? hash->valuestring : "none");
	if (strcmp(mine, l->head))
		problem(problems, "evidence.json", "its head %s is not the manifest's", mine);
	if (!cJSON_IsString(sha) || strcmp(sha->valuestring, l->runbook_sha))
		problem(problems, EVIDENCE_MANIFEST, "%s", "its runbook SHA-256 is not the run's");
	for (size_t i = 0; i < l->n; i++)
		if (!strcmp(l->path[i], l->runbook) && cJSON_IsString(sha) &&
		    strcmp(l->sha[i], sha->valuestring))
			problem(problems, l->runbook, "%s", "not the runbook the run recorded: its "
				"SHA-256 differs");
	cJSON_Delete(doc);
}

/* The namespace a signature was made for (the SSHSIG blob says it in
 * clear, PROTOCOL.sshsig), or "" when the file is not a signature. */
static void sig_namespace(const char *text, char *ns, size_t max)
{
	const char *begin = strstr(text, "-----BEGIN SSH SIGNATURE-----");
	const char *end = strstr(text, "-----END SSH SIGNATURE-----");
	struct buf b64;
	unsigned char *raw;

	ns[0] = '\0';
	if (!begin || !end || end < begin)
		return;
	buf_init(&b64, 1 << 20);
	for (const char *p = begin + 29; p < end; p++)
		if (*p != '\n' && *p != '\r')
			buf_addc(&b64, *p);
	raw = xmalloc(b64.len + 4);
	int n = EVP_DecodeBlock(raw, (const unsigned char *)b64.data, (int)b64.len);
	size_t off = 6 + 4; /* "SSHSIG", version */
	if (n > 14 && !memcmp(raw, "SSHSIG", 6)) {
		for (int field = 0; field < 2 && off + 4 <= (size_t)n; field++) {
			uint32_t len = (uint32_t)raw[off] << 24 | (uint32_t)raw[off + 1] << 16 |
				       (uint32_t)raw[off + 2] << 8 | raw[off + 3];
			off += 4;
			if (len > (size_t)n - off)
				break;
			if (field == 1) /* after the public key */
				snprintf(ns, max, "%.*s", (int)(len < max ? len : max - 1), raw + off);
			off += len;
		}
	}
	free(raw);
	buf_release(&b64);
}

static void signature_check(const char *dir, const char *allowed, struct strv *problems)
{
	char sig[4096], manifest[4096], ns[128];
	struct buf text, out;

	snprintf(sig, sizeof sig, "%s/%s", dir, EVIDENCE_SIGNATURE);
	snprintf(manifest, sizeof manifest, "%s/%s", dir, EVIDENCE_MANIFEST);
	buf_init(&text, 1 << 20);
	buf_init(&out, TOOL_OUTPUT_MAX);
	if (file_read(sig, &text) < 0) {
		problem(problems, EVIDENCE_SIGNATURE, "%s", "missing: the bundle is not signed");
		goto out;
	}
	sig_namespace(text.data, ns, sizeof ns);
	if (!ns[0]) {
		problem(problems, EVIDENCE_SIGNATURE, "%s", "not an SSH signature");
		goto out;
	}
	if (strcmp(ns, EVIDENCE_NAMESPACE)) {
		problem(problems, EVIDENCE_SIGNATURE, "made for the namespace '%s', not "
			"'" EVIDENCE_NAMESPACE "'", ns);
		goto out;
	}
	const char *const find[] = { "ssh-keygen", "-Y", "find-principals", "-s", sig,
				     "-f", allowed, NULL };
	if (tool_run(find, NULL, &out) != 0) {
		problem(problems, EVIDENCE_SIGNATURE, "made by a key that %s does not allow", allowed);
		goto out;
	}
	/* the first principal that the key may sign as */
	char principal[1024];
	snprintf(principal, sizeof principal, "%.*s", (int)strcspn(out.data, "\n"), out.data);
	buf_reset(&out);
	const char *const verify[] = { "ssh-keygen", "-Y", "verify", "-f", allowed, "-I",
				       principal, "-n", EVIDENCE_NAMESPACE, "-s", sig, NULL };
	if (tool_run(verify, manifest, &out) != 0)
		problem(problems, EVIDENCE_MANIFEST, "%s", "does not match its signature "
			EVIDENCE_SIGNATURE ": changed after it was signed");
out:
	buf_release(&text);
	buf_release(&out);
}

int evidence_verify(const char *dir, const char *allowed_signers,
		    struct strv *problems, struct strv *notes, struct err *e)
{
	char path[4096];
	struct buf text;
	struct listed l = { 0 };

	snprintf(path, sizeof path, "%s/%s", dir, EVIDENCE_MANIFEST);
	buf_init(&text, BUNDLE_FILE_MAX);
	if (file_read(path, &text) < 0) {
		int missing = errno == ENOENT;
		buf_release(&text);
		if (!missing)
			return err_errno(e, "cannot read '%s'", path);
		struct stat st;
		if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
			return err_set(e, "'%s' is not a directory", dir);
		problem(problems, EVIDENCE_MANIFEST, "%s", "missing");
		return 0;
	}
	manifest_parse(text.data, &l, problems);
	buf_release(&text);
	files_check(dir, &l, problems);
	extras_check(dir, "", 0, &l, problems);
	cross_check(dir, &l, problems);
	char n[64];
	snprintf(n, sizeof n, "%zu", l.n);
	problem(notes, "files", "%s listed in the manifest", n);
	problem(notes, "head", "%s", l.head[0] ? l.head : "none");
	if (allowed_signers) {
		signature_check(dir, allowed_signers, problems);
		problem(notes, "signature", "checked against %s", allowed_signers);
	} else {
		problem(notes, "signature", "%s", "not checked (give --allowed-signers FILE)");
	}
	for (size_t i = 0; i < l.n; i++)
		free(l.path[i]);
	free(l.path);
	free(l.sha);
	return 0;
}
