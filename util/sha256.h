/* sha256: incremental SHA-256 over OpenSSL's EVP interface.
 *
 * qrh never implements a hash itself. A context is created, fed any number
 * of times and finished once; finishing frees it. */
#ifndef QRH_SHA256_H
#define QRH_SHA256_H

#include <stddef.h>

#define SHA256_HEX_LEN 64
#define SHA256_BASE64_LEN 44

struct sha256;

struct sha256 *sha256_new(void);
void sha256_update(struct sha256 *h, const void *p, size_t n);
/* Writes 64 lowercase hex digits and a NUL into hex[65]; frees h. */
void sha256_finish_hex(struct sha256 *h, char hex[SHA256_HEX_LEN + 1]);
/* One-shot convenience. */
void sha256_hex(const void *p, size_t n, char hex[SHA256_HEX_LEN + 1]);
/* The digest in base64 (as a Content-Security-Policy hash wants it). */
void sha256_base64(const void *p, size_t n, char out[SHA256_BASE64_LEN + 1]);

#endif
