#include "actions/ssh_keys.h"

#include <ctype.h>
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define KEY_FILE_MAX (64u << 10)
#define KNOWN_LINE_MAX 16384

struct ssh_known_line {
	const struct libssh2_knownhost *entry;
	unsigned line;
};

enum odd_kind { ODD_REVOKED, ODD_UNREADABLE };

struct ssh_known_odd {
	enum odd_kind kind;
	unsigned line;
	char *hosts; /* the host field (unreadable lines) */
	char *key;   /* the base64 key (revoked lines) */
};

static const struct {
	int hostkey_type; /* LIBSSH2_HOSTKEY_TYPE_* */
	int known_bit;    /* LIBSSH2_KNOWNHOST_KEY_* */
	const char *name;
} key_types[] = {
	{ LIBSSH2_HOSTKEY_TYPE_ED25519, LIBSSH2_KNOWNHOST_KEY_ED25519, "ssh-ed25519" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_256, LIBSSH2_KNOWNHOST_KEY_ECDSA_256, "ecdsa-sha2-nistp256" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_384, LIBSSH2_KNOWNHOST_KEY_ECDSA_384, "ecdsa-sha2-nistp384" },
	{ LIBSSH2_HOSTKEY_TYPE_ECDSA_521, LIBSSH2_KNOWNHOST_KEY_ECDSA_521, "ecdsa-sha2-nistp521" },
	{ LIBSSH2_HOSTKEY_TYPE_RSA, LIBSSH2_KNOWNHOST_KEY_SSHRSA, "ssh-rsa" },
	{ LIBSSH2_HOSTKEY_TYPE_DSS, LIBSSH2_KNOWNHOST_KEY_SSHDSS, "ssh-dss" },
};
#define N_KEY_TYPES (sizeof key_types / sizeof *key_types)
/* the first four are the ones asked for (SSH_HOSTKEY_METHODS) */
#define N_WANTED_TYPES 4

/* ---- encodings ---- */

static void base64_unpadded(const unsigned char *in, size_t n, char *out,
			    size_t cap)
{
	unsigned char tmp[128];
	if (4 * ((n + 2) / 3) + 1 > sizeof tmp) {
		snprintf(out, cap, "?");
		return;
	}
	int len = EVP_EncodeBlock(tmp, in, (int)n);
	while (len > 0 && tmp[len - 1] == '=')
		len--;
	snprintf(out, cap, "%.*s", len, (const char *)tmp);
}

/* Decodes base64 text; the decoded length, or -1 if it is not base64. */
static long base64_decode(const char *text, size_t n, unsigned char **out)
{
	if (n == 0 || n % 4 || n > (1u << 20))
		return -1;
	*out = xmalloc(n / 4 * 3 + 1);
	int len = EVP_DecodeBlock(*out, (const unsigned char *)text, (int)n);
	if (len < 0) {
		free(*out);
		*out = NULL;
		return -1;
	}
	for (size_t i = n; i > 0 && text[i - 1] == '='; i--)
		len--;
	return len;
}

void ssh_fingerprint(const unsigned char *blob, size_t len, char out[SSH_FP_MAX])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	char b64[48];
	EVP_Digest(blob, len, md, &mdlen, EVP_sha256(), NULL);
	base64_unpadded(md, mdlen, b64, sizeof b64);
	snprintf(out, SSH_FP_MAX, "SHA256:%s", b64);
}

static void fingerprint_b64(const char *key, char out[SSH_FP_MAX])
{
	unsigned char *blob = NULL;
	long n = base64_decode(key, strlen(key), &blob);
	if (n < 0) {
		snprintf(out, SSH_FP_MAX, "(unreadable key)");
		return;
	}
	ssh_fingerprint(blob, (size_t)n, out);
	free(blob);
}

/* An SSH string (uint32 length, bytes) at *p; false past the end. */
static bool read_string(const unsigned char **p, const unsigned char *end,
			const unsigned char **s, size_t *len)
{
	if (end - *p < 4)
		return false;
	uint32_t n = (uint32_t)(*p)[0] << 24 | (uint32_t)(*p)[1] << 16 |
		     (uint32_t)(*p)[2] << 8 | (*p)[3];
	*p += 4;
	if ((size_t)(end - *p) < n)
		return false;
	*s = *p;
	*len = n;
	*p += n;
	return true;
}

void ssh_blob_type(const unsigned char *blob, size_t len, char *out, size_t cap)
{
	const unsigned char *p = blob, *s;
	size_t n;
	out[0] = '\0';
	if (read_string(&p, blob + len, &s, &n) && n < cap)
		snprintf(out, cap, "%.*s", (int)n, (const char *)s);
}

/* ---- user key files ---- */

static char *slurp(const char *path, size_t max, size_t *len, struct err *e)
{
	FILE *f = fopen(path, "re");
	if (!f) {
		err_errno(e, "cannot read '%s'", path);
		return NULL;
	}
	char *data = xmalloc(max + 1);
	*len = fread(data, 1, max, f);
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(data);
		err_set(e, "cannot read '%s'", path);
		return NULL;
	}
	data[*len] = '\0';
	return data;
}

/* The public key inside an OpenSSH-format private key is not encrypted:
 * "openssh-key-v1\0", cipher, kdf, kdf options, count, public key. */
static void openssh_key_type(const char *pem, char *out, size_t cap)
{
	const char *begin = strstr(pem, "-----BEGIN OPENSSH PRIVATE KEY-----");
	const char *end = begin ? strstr(begin, "-----END OPENSSH PRIVATE KEY-----") : NULL;
	if (!end)
		return;
	struct buf b64;
	buf_init(&b64, KEY_FILE_MAX);
	for (const char *p = begin + 35; p < end; p++)
		if (!isspace((unsigned char)*p))
			buf_addc(&b64, *p);
	unsigned char *raw = NULL;
	long n = base64_decode(b64.data, b64.len, &raw);
	buf_release(&b64);
	static const char magic[] = "openssh-key-v1";
	if (n < (long)sizeof magic || memcmp(raw, magic, sizeof magic)) {
		free(raw);
		return;
	}
	const unsigned char *p = raw + sizeof magic, *lim = raw + n, *s;
	size_t len;
	for (int i = 0; i < 3; i++)
		if (!read_string(&p, lim, &s, &len))
			goto out;
	if (lim - p < 4)
		goto out;
	p += 4; /* number of keys */
	if (read_string(&p, lim, &s, &len))
		ssh_blob_type(s, len, out, cap);
out:
	free(raw);
}

int ssh_key_file_type(const char *path, char *out, size_t cap, struct err *e)
{
	struct buf pub;
	size_t len;
	out[0] = '\0';
	char *key = slurp(path, KEY_FILE_MAX, &len, e);
	if (!key)
		return err_prefix(e, "identity");
	buf_init(&pub, BUF_UNLIMITED);
	buf_addf(&pub, "%s.pub", path);
	char *text = slurp(pub.data, 16384, &len, NULL);
	buf_release(&pub);
	if (text) {
		size_t n = strcspn(text, " \t\r\n");
		if (n < cap)
			snprintf(out, cap, "%.*s", (int)n, text);
		free(text);
	}
	if (!out[0]) {
		if (strstr(key, "-----BEGIN RSA PRIVATE KEY-----"))
			snprintf(out, cap, "ssh-rsa");
		else if (strstr(key, "-----BEGIN DSA PRIVATE KEY-----"))
			snprintf(out, cap, "ssh-dss");
		else if (strstr(key, "-----BEGIN EC PRIVATE KEY-----"))
			snprintf(out, cap, "ecdsa");
		else
			openssh_key_type(key, out, cap);
	}
	free(key);
	return 0;
}

/* ---- known_hosts ---- */

void ssh_known_name(const char *host, int port, char *out, size_t cap)
{
	if (port == 0 || port == 22)
		snprintf(out, cap, "%s", host);
	else
		snprintf(out, cap, "[%s]:%d", host, port);
	for (char *p = out; *p; p++)
		*p = (char)tolower((unsigned char)*p);
}

static void add_odd(struct ssh_known *k, enum odd_kind kind, unsigned line,
		    const char *hosts, const char *key)
{
	k->odd = xgrow(k->odd, &k->cap_odd, k->n_odd + 1, sizeof *k->odd);
	struct ssh_known_odd *o = &k->odd[k->n_odd++];
	o->kind = kind;
	o->line = line;
	o->hosts = xstrdup_or_null(hosts);
	o->key = xstrdup_or_null(key);
}

/* The whitespace-separated field number i of line, copied into out. */
static bool field(const char *line, int i, char *out, size_t cap)
{
	const char *p = line;
	for (;;) {
		p += strspn(p, " \t");
		size_t n = strcspn(p, " \t");
		if (!n)
			return false;
		if (i-- == 0) {
			if (n >= cap)
				return false;
			memcpy(out, p, n);
			out[n] = '\0';
			return true;
		}
		p += n;
	}
}

/* Notes the line numbers of the entries libssh2 added for one line;
 * false if one of them has a key type libssh2 does not know (it keeps
 * such entries, but no check ever matches them). */
static bool note_entries(struct ssh_known *k, unsigned line,
			 struct libssh2_knownhost **last)
{
	struct libssh2_knownhost *e;
	bool known = true;
	while (libssh2_knownhost_get(k->kh, &e, *last) == 0) {
		k->lines = xgrow(k->lines, &k->cap_lines, k->n_lines + 1, sizeof *k->lines);
		k->lines[k->n_lines].entry = e;
		k->lines[k->n_lines].line = line;
		k->n_lines++;
		*last = e;
		int type = e->typemask & LIBSSH2_KNOWNHOST_KEY_MASK;
		if (type == LIBSSH2_KNOWNHOST_KEY_UNKNOWN || type == LIBSSH2_KNOWNHOST_KEY_RSA1)
			known = false;
	}
	return known;
}

static void load_line(struct ssh_known *k, char *line, unsigned lineno,
		      struct libssh2_knownhost **last)
{
	char first[KNOWN_LINE_MAX], key[KNOWN_LINE_MAX];
	line[strcspn(line, "\r\n")] = '\0';
	if (!field(line, 0, first, sizeof first) || first[0] == '#')
		return;
	if (!strcmp(first, "@revoked")) {
		if (field(line, 3, key, sizeof key))
			add_odd(k, ODD_REVOKED, lineno, NULL, key);
		return;
	}
	if (first[0] == '@')
		return; /* @cert-authority: no host certificates in libssh2 */
	if (libssh2_knownhost_readline(k->kh, line, strlen(line),
				       LIBSSH2_KNOWNHOST_FILE_OPENSSH) < 0 ||
	    !note_entries(k, lineno, last))
		add_odd(k, ODD_UNREADABLE, lineno, first, NULL);
}

int ssh_known_load(struct ssh_known *k, LIBSSH2_SESSION *s, const char *path,
		   struct err *e)
{
	memset(k, 0, sizeof *k);
	k->path = xstrdup(path);
	k->kh = libssh2_knownhost_init(s);
	if (!k->kh)
		return err_set(e, "cannot read known_hosts: libssh2_knownhost_init failed");
	FILE *f = fopen(path, "re");
	if (!f) {
		if (errno == ENOENT) {
			k->missing = true;
			return 0;
		}
		return err_errno(e, "cannot read known_hosts '%s'", path);
	}
	char *line = NULL;
	size_t cap = 0;
	unsigned lineno = 0;
	struct libssh2_knownhost *last = NULL;
	while (getline(&line, &cap, f) >= 0) {
		lineno++;
		if (strlen(line) < KNOWN_LINE_MAX)
			load_line(k, line, lineno, &last);
	}
	int bad = ferror(f);
	free(line);
	fclose(f);
	if (bad)
		return err_set(e, "cannot read known_hosts '%s'", path);
	return 0;
}

void ssh_known_release(struct ssh_known *k)
{
	if (k->kh)
		libssh2_knownhost_free(k->kh);
	for (size_t i = 0; i < k->n_odd; i++) {
		free(k->odd[i].hosts);
		free(k->odd[i].key);
	}
	free(k->odd);
	free(k->lines);
	free(k->path);
	memset(k, 0, sizeof *k);
}

static unsigned line_of(const struct ssh_known *k, const struct libssh2_knownhost *e)
{
	for (size_t i = 0; i < k->n_lines; i++)
		if (k->lines[i].entry == e)
			return k->lines[i].line;
	return 0;
}

/* Does the host field of a line libssh2 could not read name `name`?
 * Plain patterns are compared exactly, hashed ones (|1|salt|hash)
 * through HMAC-SHA1 as OpenSSH hashes them. */
static bool hosts_field_names(const char *hosts, const char *name)
{
	char item[1024];
	const char *p = hosts;
	while (*p) {
		size_t n = strcspn(p, ",");
		if (n < sizeof item) {
			memcpy(item, p, n);
			item[n] = '\0';
			if (!strncmp(item, "|1|", 3)) {
				char *bar = strchr(item + 3, '|');
				unsigned char *salt = NULL, *hash = NULL;
				long sl = bar ? base64_decode(item + 3, (size_t)(bar - item - 3), &salt) : -1;
				long hl = bar ? base64_decode(bar + 1, strlen(bar + 1), &hash) : -1;
				unsigned char md[EVP_MAX_MD_SIZE];
				unsigned int mdlen = 0;
				bool match = sl > 0 && hl == 20 &&
					     HMAC(EVP_sha1(), salt, (int)sl, (const unsigned char *)name,
						  strlen(name), md, &mdlen) &&
					     mdlen == 20 && !memcmp(md, hash, 20);
				free(salt);
				free(hash);
				if (match)
					return true;
			} else if (!strcasecmp(item, name)) {
				return true;
			}
		}
		p += n;
		if (*p == ',')
			p++;
	}
	return false;
}

static int known_bit(int hostkey_type)
{
	for (size_t i = 0; i < N_KEY_TYPES; i++)
		if (key_types[i].hostkey_type == hostkey_type)
			return key_types[i].known_bit;
	return LIBSSH2_KNOWNHOST_KEY_UNKNOWN;
}

/* An entry of this type exists for name: a made-up key mismatches it. */
static bool has_type(const struct ssh_known *k, const char *name, int bit)
{
	static const char fake[] = "not a key";
	return libssh2_knownhost_checkp(k->kh, name, -1, fake, sizeof fake - 1,
					LIBSSH2_KNOWNHOST_TYPE_PLAIN |
						LIBSSH2_KNOWNHOST_KEYENC_RAW | bit,
					NULL) == LIBSSH2_KNOWNHOST_CHECK_MISMATCH;
}

void ssh_known_methods(const struct ssh_known *k, const char *name, char *out,
		       size_t cap)
{
	bool known[N_WANTED_TYPES];
	struct buf b;
	buf_init(&b, BUF_UNLIMITED);
	for (size_t i = 0; i < N_WANTED_TYPES; i++)
		known[i] = k->kh && has_type(k, name, key_types[i].known_bit);
	for (int pass = 0; pass < 2; pass++)
		for (size_t i = 0; i < N_WANTED_TYPES; i++)
			if (known[i] == (pass == 0))
				buf_addf(&b, "%s%s", b.len ? "," : "", key_types[i].name);
	snprintf(out, cap, "%s", b.data);
	buf_release(&b);
}

/* What the file could not tell, for a host it seems not to know. */
static enum ssh_verdict odd_lines(const struct ssh_known *k, const char *name,
				  const char *b64, struct err *e)
{
	for (size_t i = 0; i < k->n_odd; i++) {
		const struct ssh_known_odd *o = &k->odd[i];
		if (o->kind == ODD_REVOKED && !strcmp(o->key, b64)) {
			err_set(e, "the host key of %s is marked @revoked in %s:%u: refused",
				name, k->path, o->line);
			return SSH_HOST_REFUSED;
		}
		if (o->kind == ODD_UNREADABLE && hosts_field_names(o->hosts, name)) {
			err_set(e, "%s:%u lists %s with a key libssh2 1.10 cannot read: refused "
				   "(add its ed25519 or ECDSA key)",
				k->path, o->line, name);
			return SSH_HOST_REFUSED;
		}
	}
	return SSH_HOST_KNOWN;
}

enum ssh_verdict ssh_known_check(const struct ssh_known *k, LIBSSH2_SESSION *s,
				 const char *name, struct ssh_hostkey *hk,
				 struct err *e)
{
	size_t len = 0;
	int type = 0;
	memset(hk, 0, sizeof *hk);
	const char *key = libssh2_session_hostkey(s, &len, &type);
	if (!key || !len) {
		err_set(e, "%s sent no host key", name);
		return SSH_HOST_REFUSED;
	}
	ssh_blob_type((const unsigned char *)key, len, hk->type, sizeof hk->type);
	ssh_fingerprint((const unsigned char *)key, len, hk->fp);
	char *b64 = NULL;
	{
		unsigned char tmp[8192 * 4 / 3 + 8];
		if (len > 8192) {
			err_set(e, "the host key of %s is too large", name);
			return SSH_HOST_REFUSED;
		}
		EVP_EncodeBlock(tmp, (const unsigned char *)key, (int)len);
		b64 = xstrdup((const char *)tmp);
	}
	enum ssh_verdict v = odd_lines(k, name, b64, e);
	free(b64);
	if (v != SSH_HOST_KNOWN)
		return v;
	struct libssh2_knownhost *found = NULL;
	int rc = libssh2_knownhost_checkp(k->kh, name, -1, key, len,
					  LIBSSH2_KNOWNHOST_TYPE_PLAIN |
						  LIBSSH2_KNOWNHOST_KEYENC_RAW | known_bit(type),
					  &found);
	switch (rc) {
	case LIBSSH2_KNOWNHOST_CHECK_MATCH:
		return SSH_HOST_KNOWN;
	case LIBSSH2_KNOWNHOST_CHECK_MISMATCH:
		if (found && found->key)
			fingerprint_b64(found->key, hk->known_fp);
		hk->known_line = found ? line_of(k, found) : 0;
		err_set(e, "the host key of %s has changed: %s lists %s %s (line %u), the server offers %s %s: refused",
			name, k->path, hk->type, hk->known_fp[0] ? hk->known_fp : "?",
			hk->known_line, hk->type, hk->fp);
		return SSH_HOST_CHANGED;
	case LIBSSH2_KNOWNHOST_CHECK_NOTFOUND: {
		/* a host known only by keys qrh does not ask for */
		bool rsa = has_type(k, name, LIBSSH2_KNOWNHOST_KEY_SSHRSA) ||
			   has_type(k, name, LIBSSH2_KNOWNHOST_KEY_SSHDSS);
		err_set(e, "the host key of %s is not in %s%s (%s %s): refused; %s",
			name, k->path,
			k->missing ? ", which does not exist"
			: rsa	   ? " (it lists only RSA/DSA keys for it, which qrh does not use)"
				   : "",
			hk->type, hk->fp,
			"check the fingerprint and add it, or set trust_new=true on the target");
		return SSH_HOST_UNKNOWN;
	}
	default:
		err_set(e, "cannot check the host key of %s against %s", name, k->path);
		return SSH_HOST_REFUSED;
	}
}
