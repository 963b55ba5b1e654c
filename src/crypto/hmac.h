/*
 * HMAC-SHA256, random bytes and key files for the HA channel's authentication (src/ha/). All
 * OpenSSL use stays in src/crypto/; these are thin wrappers. Any thread.
 */
#ifndef IXD_CRYPTO_HMAC_H
#define IXD_CRYPTO_HMAC_H

#include <stddef.h>
#include <stdint.h>

#define IXD_HMAC_LEN 32 /* SHA-256 */

/* One piece of an HMAC's input: the MAC covers the pieces in order, as if concatenated. */
struct ixd_hmac_part {
    const void *data;
    size_t len;
};

/* out = HMAC-SHA256(key, parts...). 0, or -1 when OpenSSL fails. */
int ixd_hmac_sha256(const uint8_t *key, size_t keylen, const struct ixd_hmac_part *parts,
                    size_t n_parts, uint8_t out[IXD_HMAC_LEN]);

/* 1 when the two MACs are equal, compared in constant time. */
int ixd_hmac_equal(const uint8_t a[IXD_HMAC_LEN], const uint8_t b[IXD_HMAC_LEN]);

/* n bytes from the OpenSSL CSPRNG. 0, or -1 when it has no entropy. */
int ixd_random_bytes(void *out, size_t n);

/*
 * Reads a secret key file of min..max bytes into buf (*len set). Refuses a file that is not a
 * regular file, or whose mode lets others read it or lets anyone but the owner write it
 * (mode & 0026): such a key protects nothing. Group read (0640) is allowed so that root can
 * own a key the daemon's group reads. max + 1 bytes of buf are used (to see a longer file).
 * 0, or -1 with a message in err. The caller wipes buf with ixd_key_wipe() when done.
 */
int ixd_key_file_read(const char *path, uint8_t *buf, size_t min, size_t max, size_t *len,
                      char *err, size_t errlen);

/* Overwrites key material in a way the compiler does not remove. */
void ixd_key_wipe(void *key, size_t len);

#endif
