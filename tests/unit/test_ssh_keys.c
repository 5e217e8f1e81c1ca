/* test_ssh_keys: the parts of ssh_keys that need no server: names as
 * known_hosts writes them, fingerprints, key types of blobs and key files
 * (from .pub, PEM headers, or the public half of an OpenSSH-format key),
 * and the host key methods ordered by what known_hosts holds (plain and
 * hashed names). Host key verdicts need a handshake: tests/integration/
 * ssh.sh checks them against a real sshd. */
#include <libssh2.h>
#include <openssl/evp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "actions/ssh_keys.h"
#include "util/buf.h"

/* fixtures: public keys made with ssh-keygen, their SHA256 fingerprints */
#define ED_B64 "AAAAC3NzaC1lZDI1NTE5AAAAICWmoejdDTQvx/sppw9xHX037KhtZq1/Wghb4XbwLRTd"
#define ED_FP "SHA256:KKnC4yfrHXSggAfCIjqZyKI8g+00uZZUDkU916FNSLM"
#define EC_B64 "AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBIQ1e7JbRvs2ANtb8G6f+QnNnYQ4wyt4dkKaBuuk9bTiO1aYRAU1cDJ1meeQeMyc1kjj5F9AZrH/JT02xUsJrQA="
#define EC_FP "SHA256:jTO8EeFvA1vvCbIg4gNancU6nOMSJNoUYJn/a2CHhlg"
/* ED_B64 for [h]:2222, hashed by ssh-keygen -H */
#define HASHED_H2222 "|1|90uAuPSSySVWxQmeEeTk0cyIVdI=|F25U0aFqrIbUn780b5x2St3SfY4="

static char dir[] = "/tmp/qrh-test-ssh-keys.XXXXXX";

static size_t decode(const char *b64, unsigned char *out)
{
	size_t n = strlen(b64);
	int len = EVP_DecodeBlock(out, (const unsigned char *)b64, (int)n);
	assert_true(len > 0);
	while (n && b64[n - 1] == '=') {
		n--;
		len--;
	}
	return (size_t)len;
}

static void write_file(const char *name, const char *text, char *path, size_t cap)
{
	snprintf(path, cap, "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_names(void **state)
{
	char out[300];
	(void)state;
	ssh_known_name("DB1.Example.COM", 22, out, sizeof out);
	assert_string_equal(out, "db1.example.com");
	ssh_known_name("h", 0, out, sizeof out);
	assert_string_equal(out, "h");
	ssh_known_name("10.0.0.5", 2222, out, sizeof out);
	assert_string_equal(out, "[10.0.0.5]:2222");
}

static void test_fingerprint_and_type(void **state)
{
	unsigned char blob[256];
	char fp[SSH_FP_MAX], type[SSH_KEYTYPE_MAX];
	(void)state;
	size_t n = decode(ED_B64, blob);
	ssh_fingerprint(blob, n, fp);
	assert_string_equal(fp, ED_FP);
	ssh_blob_type(blob, n, type, sizeof type);
	assert_string_equal(type, "ssh-ed25519");
	n = decode(EC_B64, blob);
	ssh_fingerprint(blob, n, fp);
	assert_string_equal(fp, EC_FP);
	ssh_blob_type(blob, n, type, sizeof type);
	assert_string_equal(type, "ecdsa-sha2-nistp256");
	ssh_blob_type(blob, 3, type, sizeof type); /* cut short */
	assert_string_equal(type, "");
	ssh_blob_type((const unsigned char *)"\0\0\0\xff" "abc", 7, type, sizeof type);
	assert_string_equal(type, "");
}

/* An OpenSSH-format private key around a public key blob (the private
 * part is filler: only the public half is read). */
static void openssh_key_text(const unsigned char *pub, size_t n, struct buf *out)
{
	unsigned char raw[1024], b64[2048];
	size_t len = 0;
	memcpy(raw, "openssh-key-v1", 15);
	len = 15;
	static const char *const strs[] = { "none", "none", "" };
	for (int i = 0; i < 3; i++) {
		uint32_t l = (uint32_t)strlen(strs[i]);
		raw[len++] = 0, raw[len++] = 0, raw[len++] = 0, raw[len++] = (unsigned char)l;
		memcpy(raw + len, strs[i], l);
		len += l;
	}
	raw[len++] = 0, raw[len++] = 0, raw[len++] = 0, raw[len++] = 1;
	raw[len++] = 0, raw[len++] = 0, raw[len++] = (unsigned char)(n >> 8),
	raw[len++] = (unsigned char)n;
	memcpy(raw + len, pub, n);
	len += n;
	memcpy(raw + len, "\0\0\0\4fill", 8);
	len += 8;
	int b = EVP_EncodeBlock(b64, raw, (int)len);
	buf_adds(out, "-----BEGIN OPENSSH PRIVATE KEY-----\n");
	for (int i = 0; i < b; i += 70) {
		buf_add(out, b64 + i, (size_t)(b - i < 70 ? b - i : 70));
		buf_addc(out, '\n');
	}
	buf_adds(out, "-----END OPENSSH PRIVATE KEY-----\n");
}

static void test_key_files(void **state)
{
	char path[512], pub[512], type[SSH_KEYTYPE_MAX];
	struct err e;
	unsigned char blob[256];
	(void)state;
	/* the .pub file says */
	write_file("a", "whatever\n", path, sizeof path);
	write_file("a.pub", "ssh-rsa AAAA comment\n", pub, sizeof pub);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), 0);
	assert_string_equal(type, "ssh-rsa");
	/* PEM headers */
	write_file("b", "-----BEGIN RSA PRIVATE KEY-----\nMIIE\n-----END RSA PRIVATE KEY-----\n",
		   path, sizeof path);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), 0);
	assert_string_equal(type, "ssh-rsa");
	write_file("c", "-----BEGIN EC PRIVATE KEY-----\nMHcC\n-----END EC PRIVATE KEY-----\n",
		   path, sizeof path);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), 0);
	assert_string_equal(type, "ecdsa");
	/* the public half of an OpenSSH-format key, no .pub beside it */
	struct buf text;
	buf_init(&text, BUF_UNLIMITED);
	openssh_key_text(blob, decode(ED_B64, blob), &text);
	write_file("d", text.data, path, sizeof path);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), 0);
	assert_string_equal(type, "ssh-ed25519");
	buf_release(&text);
	/* cannot tell, cannot read */
	write_file("e", "not a key\n", path, sizeof path);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), 0);
	assert_string_equal(type, "");
	snprintf(path, sizeof path, "%s/missing", dir);
	assert_int_equal(ssh_key_file_type(path, type, sizeof type, &e), -1);
	assert_non_null(strstr(e.msg, "identity: cannot read"));
}

static void test_methods(void **state)
{
	char path[512], methods[256];
	struct ssh_known k;
	struct err e;
	(void)state;
	LIBSSH2_SESSION *s = libssh2_session_init();
	assert_non_null(s);
	write_file("kh",
		   "# comment\n"
		   "\n"
		   "[ec]:2222 ecdsa-sha2-nistp256 " EC_B64 "\n"
		   HASHED_H2222 " ssh-ed25519 " ED_B64 "\n"
		   "[h]:2222 ecdsa-sha2-nistp256 " EC_B64 "\n"
		   "rsaonly ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7\n"
		   "@revoked * ssh-ed25519 " ED_B64 "\n"
		   "@cert-authority *.example.com ssh-ed25519 " ED_B64 "\n",
		   path, sizeof path);
	assert_int_equal(ssh_known_load(&k, s, path, &e), 0);
	assert_false(k.missing);
	ssh_known_methods(&k, "[ec]:2222", methods, sizeof methods);
	assert_string_equal(methods, "ecdsa-sha2-nistp256,ssh-ed25519,ecdsa-sha2-nistp384,ecdsa-sha2-nistp521");
	ssh_known_methods(&k, "[h]:2222", methods, sizeof methods); /* hashed ed25519 + plain ecdsa */
	assert_string_equal(methods, SSH_HOSTKEY_METHODS);
	ssh_known_methods(&k, "[ec]:22", methods, sizeof methods); /* another port: not known */
	assert_string_equal(methods, SSH_HOSTKEY_METHODS);
	ssh_known_methods(&k, "rsaonly", methods, sizeof methods);
	assert_string_equal(methods, SSH_HOSTKEY_METHODS);
	ssh_known_release(&k);
	/* a missing file is an empty one */
	snprintf(path, sizeof path, "%s/none", dir);
	assert_int_equal(ssh_known_load(&k, s, path, &e), 0);
	assert_true(k.missing);
	ssh_known_release(&k);
	libssh2_session_free(s);
}

static int setup(void **state)
{
	(void)state;
	return mkdtemp(dir) ? libssh2_init(0) : -1;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;
	libssh2_exit();
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_fingerprint_and_type),
		cmocka_unit_test(test_key_files),
		cmocka_unit_test(test_methods),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
