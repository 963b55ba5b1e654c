#include "crypto/hmac.h"

#include <errno.h>
#include <fcntl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int
ixd_hmac_sha256(const uint8_t *key, size_t keylen, const struct ixd_hmac_part *parts,
                size_t n_parts, uint8_t out[IXD_HMAC_LEN])
{
    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *ctx = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    size_t outl = 0, i;
    int rc = -1;

    if (ctx == NULL || EVP_MAC_init(ctx, key, keylen, params) != 1) {
        goto out;
    }
    for (i = 0; i < n_parts; i++) {
        if (parts[i].len > 0 && EVP_MAC_update(ctx, parts[i].data, parts[i].len) != 1) {
            goto out;
        }
    }
    if (EVP_MAC_final(ctx, out, &outl, IXD_HMAC_LEN) == 1 && outl == IXD_HMAC_LEN) {
        rc = 0;
    }
out:
    EVP_MAC_CTX_free(ctx); /* cleanses the key schedule */
    EVP_MAC_free(mac);
    return rc;
}

int
ixd_hmac_equal(const uint8_t a[IXD_HMAC_LEN], const uint8_t b[IXD_HMAC_LEN])
{
    return CRYPTO_memcmp(a, b, IXD_HMAC_LEN) == 0;
}

int
ixd_random_bytes(void *out, size_t n)
{
    return n <= INT32_MAX && RAND_bytes(out, (int)n) == 1 ? 0 : -1;
}

void
ixd_key_wipe(void *key, size_t len)
{
    OPENSSL_cleanse(key, len);
}

int
ixd_key_file_read(const char *path, uint8_t *buf, size_t min, size_t max, size_t *len, char *err,
                  size_t errlen)
{
    struct stat st;
    size_t n = 0;
    ssize_t r;
    int fd, rc = -1;

    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd == -1) {
        snprintf(err, errlen, "cannot open key file %s: %s", path, strerror(errno));
        return -1;
    }
    /* Checked on the open descriptor, so the file checked is the file read. */
    if (fstat(fd, &st) == -1) {
        snprintf(err, errlen, "cannot stat key file %s: %s", path, strerror(errno));
        goto out;
    }
    if (!S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "key file %s is not a regular file", path);
        goto out;
    }
    if ((st.st_mode & (S_IROTH | S_IWOTH | S_IWGRP)) != 0) {
        snprintf(err, errlen,
                 "key file %s has mode %04o: it must not be readable by others nor writable "
                 "by its group or others (chmod 600 or 640)",
                 path, (unsigned)(st.st_mode & 07777));
        goto out;
    }
    while (n < max + 1) {
        r = read(fd, buf + n, max + 1 - n);
        if (r == -1 && errno == EINTR) {
            continue;
        }
        if (r == -1) {
            snprintf(err, errlen, "cannot read key file %s: %s", path, strerror(errno));
            goto out;
        }
        if (r == 0) {
            break;
        }
        n += (size_t)r;
    }
    if (n < min || n > max) {
        snprintf(err, errlen, "key file %s: %s%zu bytes, expected %zu to %zu", path,
                 n > max ? "more than " : "", n > max ? max : n, min, max);
        goto out;
    }
    *len = n;
    rc = 0;
out:
    if (rc == -1) {
        OPENSSL_cleanse(buf, max + 1);
    }
    close(fd);
    return rc;
}
