/* SHA-256 digests as hex, for signed uploads (x-amz-content-sha256). Any thread. */
#ifndef IXD_CRYPTO_SHA256_H
#define IXD_CRYPTO_SHA256_H

#include <stddef.h>

/* The digest of len bytes at data, as 64 lowercase hex digits and a NUL, into out. */
void ixd_sha256_hex(const void *data, size_t len, char out[65]);

#endif
