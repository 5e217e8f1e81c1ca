#include "util/sha256.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>

struct sha256 {
	EVP_MD_CTX *ctx;
};

static void crypto_fail(void)
{
	fprintf(stderr, "qrh: OpenSSL SHA-256 failed\n");
	abort();
}

struct sha256 *sha256_new(void)
{
	struct sha256 *h = malloc(sizeof *h);
	if (!h)
		crypto_fail();
	h->ctx = EVP_MD_CTX_new();
	if (!h->ctx || EVP_DigestInit_ex(h->ctx, EVP_sha256(), NULL) != 1)
		crypto_fail();
	return h;
}

void sha256_update(struct sha256 *h, const void *p, size_t n)
{
	if (n && EVP_DigestUpdate(h->ctx, p, n) != 1)
		crypto_fail();
}

static void finish_raw(struct sha256 *h, unsigned char md[EVP_MAX_MD_SIZE])
{
	unsigned int len = 0;
	if (EVP_DigestFinal_ex(h->ctx, md, &len) != 1 || len != 32)
		crypto_fail();
	EVP_MD_CTX_free(h->ctx);
	free(h);
}

void sha256_base64(const void *p, size_t n, char out[SHA256_BASE64_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	struct sha256 *h = sha256_new();
	sha256_update(h, p, n);
	finish_raw(h, md);
	EVP_EncodeBlock((unsigned char *)out, md, 32);
}

void sha256_finish_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	finish_raw(h, md);
	static const char digits[] = "0123456789abcdef";
	for (unsigned i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
}

void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1])
{
	struct sha256 *h = sha256_new();
	sha256_update(h, p, n);
	sha256_finish_hex(h, hex);
}
