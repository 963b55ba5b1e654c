/* Crypto-PAn over OpenSSL's AES-128, in place on network-order address bytes.
 *
 * Bit i of the one-time pad XORed into an address is the most significant bit of
 * AES_K(a[0..i-1] || pad[i..127]): the address's first i bits followed by the pad's remaining
 * bits. Because that block depends only on the first i bits, addresses sharing a prefix share
 * the pad over it, which is the whole of the prefix preservation. The blocks of one address are
 * independent of each other, so all 32 (IPv4) or 128 (IPv6) go to OpenSSL in one ECB call:
 * AES-NI then encrypts several blocks in parallel instead of waiting on one round chain at a
 * time, and the EVP dispatch is paid once per address instead of once per bit. */
#include "crypto/cryptopan.h"

#include "core/parse.h"
#include "crypto/hmac.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#define BLOCK 16
#define BITS4 32
#define BITS6 128

/* Direct-mapped caches of recent results. Every slot always holds a valid pair: they start as
 * (0.0.0.0 or ::, its image), so a lookup needs no valid flag. */
struct slot4 {
    uint32_t in;
    uint32_t out;
};
struct slot6 {
    uint8_t in[16];
    uint8_t out[16];
};

/* GCC/clang vector extension: SSE2 on x86-64, NEON on arm64, plain code elsewhere. */
typedef uint8_t v16 __attribute__((vector_size(16)));

struct ixd_cryptopan {
    EVP_CIPHER_CTX *evp;
    uint8_t pad[BLOCK];
    v16 mask[BITS6]; /* mask[i]: the first i bits set */
    /* The AES inputs and outputs of one address, rewritten by every call; cache-line aligned
     * so that no block straddles two lines. */
    _Alignas(64) uint8_t in[BITS6 * BLOCK];
    _Alignas(64) uint8_t out[BITS6 * BLOCK];
    unsigned cache_bits;
    struct slot4 *cache4;
    struct slot6 *cache6;
};

static uint32_t
load32(const uint8_t *p)
{
    uint32_t v;

    memcpy(&v, p, sizeof(v));
    return be32toh(v);
}

static void
store32(uint8_t *p, uint32_t v)
{
    v = htobe32(v);
    memcpy(p, &v, sizeof(v));
}

static uint64_t
load64(const uint8_t *p)
{
    uint64_t v;

    memcpy(&v, p, sizeof(v));
    return be64toh(v);
}

/* Writes the AES inputs of an address of bits bits into cp->in: block i is the pad with its
 * first i bits replaced by the address's, pad ^ ((addr ^ pad) & mask_i), three vector operations
 * per block with the masks precomputed in the context. Each block is computed on its own:
 * deriving block i from block i-1 in memory stalls on store forwarding (a 16-byte load over a
 * 1-byte store) and made IPv4 three times slower in bench/cryptopan_bench.c. */
static void
build_blocks(struct ixd_cryptopan *cp, const uint8_t *addr, unsigned bits)
{
    uint8_t a[16];
    v16 pad, diff;
    unsigned i;

    memcpy(a, cp->pad, sizeof(a));
    memcpy(a, addr, bits / 8);
    memcpy(&pad, cp->pad, sizeof(pad));
    memcpy(&diff, a, sizeof(diff));
    diff ^= pad;
    for (i = 0; i < bits; i++) {
        v16 b = pad ^ (diff & cp->mask[i]);

        memcpy(cp->in + i * BLOCK, &b, sizeof(b));
    }
}

static int
encrypt_blocks(struct ixd_cryptopan *cp, const uint8_t *in, int len)
{
    int outl = 0;

    if (EVP_EncryptUpdate(cp->evp, cp->out, &outl, in, len) != 1 || outl != len) {
        return -1;
    }
    return 0;
}

/* res = addr XOR its one-time pad, for an address of bits bits (32 or 128). */
static int
compute(struct ixd_cryptopan *cp, const uint8_t *addr, uint8_t *res, unsigned bits)
{
    unsigned i, j;

    build_blocks(cp, addr, bits);
    if (encrypt_blocks(cp, cp->in, (int)(bits * BLOCK)) == -1) {
        return -1;
    }
    for (i = 0; i < bits / 8; i++) {
        const uint8_t *o = cp->out + i * 8 * BLOCK;
        uint8_t otp = 0;

        for (j = 0; j < 8; j++) {
            otp |= (uint8_t)((o[j * BLOCK] >> 7) << (7 - j));
        }
        res[i] = addr[i] ^ otp;
    }
    return 0;
}

static int
compute_v4(struct ixd_cryptopan *cp, uint32_t a, uint32_t *res)
{
    uint8_t in[4], out[4];

    store32(in, a);
    if (compute(cp, in, out, BITS4) == -1) {
        return -1;
    }
    *res = load32(out);
    return 0;
}

static int
compute_v6(struct ixd_cryptopan *cp, const uint8_t addr[16], uint8_t res[16])
{
    return compute(cp, addr, res, BITS6);
}

/* Fibonacci hashing: the multiply spreads neighbouring addresses (one /24's hosts) over the
 * whole table, and the top bits are the best mixed. */
static size_t
slot_of_v4(uint32_t a, unsigned bits)
{
    return (size_t)((a * UINT32_C(0x9E3779B1)) >> (32 - bits));
}

static size_t
slot_of_v6(const uint8_t a[16], unsigned bits)
{
    uint64_t h = (load64(a) ^ load64(a + 8) * UINT64_C(0xC2B2AE3D27D4EB4F));

    return (size_t)((h * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - bits));
}

int
ixd_cryptopan_v4(struct ixd_cryptopan *cp, uint8_t addr[4])
{
    uint32_t a = load32(addr), r;
    struct slot4 *s = NULL;

    if (cp->cache4 != NULL) {
        s = &cp->cache4[slot_of_v4(a, cp->cache_bits)];
        if (s->in == a) {
            store32(addr, s->out);
            return 0;
        }
    }
    if (compute_v4(cp, a, &r) == -1) {
        memset(addr, 0, 4);
        return -1;
    }
    if (s != NULL) {
        s->in = a;
        s->out = r;
    }
    store32(addr, r);
    return 0;
}

int
ixd_cryptopan_v6(struct ixd_cryptopan *cp, uint8_t addr[16])
{
    struct slot6 *s = NULL;
    uint8_t r[16];

    if (cp->cache6 != NULL) {
        s = &cp->cache6[slot_of_v6(addr, cp->cache_bits)];
        if (memcmp(s->in, addr, 16) == 0) {
            memcpy(addr, s->out, 16);
            return 0;
        }
    }
    if (compute_v6(cp, addr, r) == -1) {
        memset(addr, 0, 16);
        return -1;
    }
    if (s != NULL) {
        memcpy(s->in, addr, 16);
        memcpy(s->out, r, 16);
    }
    memcpy(addr, r, 16);
    return 0;
}

/* Puts back the first keep bits of orig into addr (len bytes, keep <= 8 * len). */
static void
restore_prefix(uint8_t *addr, const uint8_t *orig, size_t len, unsigned keep)
{
    size_t whole = keep / 8;
    unsigned rest = keep % 8;

    memcpy(addr, orig, whole);
    if (rest != 0 && whole < len) {
        uint8_t m = (uint8_t)(0xFF << (8 - rest));

        addr[whole] = (uint8_t)((orig[whole] & m) | (addr[whole] & ~m));
    }
}

int
ixd_cryptopan_v4_partial(struct ixd_cryptopan *cp, uint8_t addr[4], unsigned keep)
{
    uint8_t orig[4];

    if (keep >= BITS4) {
        return 0;
    }
    memcpy(orig, addr, sizeof(orig));
    if (ixd_cryptopan_v4(cp, addr) == -1) {
        return -1;
    }
    restore_prefix(addr, orig, sizeof(orig), keep);
    return 0;
}

int
ixd_cryptopan_v6_partial(struct ixd_cryptopan *cp, uint8_t addr[16], unsigned keep)
{
    uint8_t orig[16];

    if (keep >= BITS6) {
        return 0;
    }
    memcpy(orig, addr, sizeof(orig));
    if (ixd_cryptopan_v6(cp, addr) == -1) {
        return -1;
    }
    restore_prefix(addr, orig, sizeof(orig), keep);
    return 0;
}

static void
truncate_bits(uint8_t *addr, size_t len, unsigned keep)
{
    size_t whole = keep / 8;
    unsigned rest = keep % 8;

    if (keep >= 8 * len) {
        return;
    }
    if (rest != 0) {
        addr[whole] &= (uint8_t)(0xFF << (8 - rest));
        whole++;
    }
    memset(addr + whole, 0, len - whole);
}

void
ixd_truncate_v4(uint8_t addr[4], unsigned keep)
{
    truncate_bits(addr, 4, keep);
}

void
ixd_truncate_v6(uint8_t addr[16], unsigned keep)
{
    truncate_bits(addr, 16, keep);
}

/* Fills every cache slot with the image of the all-zero address, which is what a lookup of
 * 0.0.0.0 or :: would find anyway; from then on no slot is ever invalid. */
static int
cache_init(struct ixd_cryptopan *cp, unsigned bits, char *err, size_t errlen)
{
    size_t n = (size_t)1 << bits, i;
    uint8_t zero6[16] = {0}, img6[16];
    uint32_t img4;

    cp->cache4 = calloc(n, sizeof(*cp->cache4));
    cp->cache6 = calloc(n, sizeof(*cp->cache6));
    if (cp->cache4 == NULL || cp->cache6 == NULL) {
        snprintf(err, errlen, "cannot allocate the crypto-pan cache: %s", strerror(errno));
        return -1;
    }
    if (compute_v4(cp, 0, &img4) == -1 || compute_v6(cp, zero6, img6) == -1) {
        snprintf(err, errlen, "aes-128-ecb encryption failed");
        return -1;
    }
    for (i = 0; i < n; i++) {
        cp->cache4[i].out = img4;
        memcpy(cp->cache6[i].out, img6, 16);
    }
    cp->cache_bits = bits;
    return 0;
}

struct ixd_cryptopan *
ixd_cryptopan_new(const uint8_t key[IXD_CRYPTOPAN_KEY_LEN], unsigned cache_bits, char *err,
                  size_t errlen)
{
    struct ixd_cryptopan *cp = NULL;
    EVP_CIPHER *aes = NULL;
    int outl = 0;
    unsigned i;

    if (cache_bits > IXD_CRYPTOPAN_CACHE_BITS_MAX) {
        snprintf(err, errlen, "crypto-pan cache of 2^%u entries is too large (at most 2^%d)",
                 cache_bits, IXD_CRYPTOPAN_CACHE_BITS_MAX);
        return NULL;
    }
    cp = aligned_alloc(_Alignof(struct ixd_cryptopan), sizeof(*cp));
    if (cp != NULL) {
        memset(cp, 0, sizeof(*cp));
    }
    if (cp == NULL) {
        snprintf(err, errlen, "cannot allocate a crypto-pan context: %s", strerror(errno));
        return NULL;
    }
    /* An explicit fetch, once: EVP_aes_128_ecb() would look the provider up again on every
     * EVP_EncryptInit, and ECB needs no re-initialisation between addresses. */
    aes = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    cp->evp = EVP_CIPHER_CTX_new();
    if (aes == NULL || cp->evp == NULL || EVP_EncryptInit_ex2(cp->evp, aes, key, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_set_padding(cp->evp, 0) != 1 ||
        EVP_EncryptUpdate(cp->evp, cp->pad, &outl, key + 16, BLOCK) != 1 || outl != BLOCK) {
        snprintf(err, errlen, "cannot set up aes-128-ecb in openssl");
        goto fail;
    }
    EVP_CIPHER_free(aes);
    aes = NULL;
    for (i = 0; i < BITS6; i++) {
        uint8_t m[16] = {0};

        memset(m, 0xFF, i / 8);
        if (i % 8 != 0) {
            m[i / 8] = (uint8_t)(0xFF << (8 - i % 8));
        }
        memcpy(&cp->mask[i], m, sizeof(m));
    }
    if (cache_bits > 0 && cache_init(cp, cache_bits, err, errlen) == -1) {
        goto fail;
    }
    return cp;

fail:
    EVP_CIPHER_free(aes);
    ixd_cryptopan_free(cp);
    return NULL;
}

void
ixd_cryptopan_free(struct ixd_cryptopan *cp)
{
    size_t n;

    if (cp == NULL) {
        return;
    }
    n = cp->cache_bits > 0 ? (size_t)1 << cp->cache_bits : 0;
    /* The cache is a table of clear addresses and their images: as sensitive as the key. */
    if (cp->cache4 != NULL) {
        OPENSSL_cleanse(cp->cache4, n * sizeof(*cp->cache4));
        free(cp->cache4);
    }
    if (cp->cache6 != NULL) {
        OPENSSL_cleanse(cp->cache6, n * sizeof(*cp->cache6));
        free(cp->cache6);
    }
    EVP_CIPHER_CTX_free(cp->evp); /* wipes the key schedule */
    OPENSSL_cleanse(cp, sizeof(*cp));
    free(cp);
}

void
ixd_cryptopan_key_wipe(void *key, size_t len)
{
    OPENSSL_cleanse(key, len);
}

/* Decodes n bytes of file content into key; the layout is told apart by length alone. */
static int
parse_key(const char *path, const uint8_t *buf, size_t n, uint8_t *key, char *err, size_t errlen)
{
    size_t i;

    if (n == IXD_CRYPTOPAN_KEY_LEN) {
        memcpy(key, buf, IXD_CRYPTOPAN_KEY_LEN);
        return 0;
    }
    if (!(n == 64 || (n == 65 && buf[64] == '\n') ||
          (n == 66 && buf[64] == '\r' && buf[65] == '\n'))) {
        snprintf(err, errlen,
                 "key file %s: %s%zu bytes, expected 32 raw bytes or 64 hex digits and an "
                 "optional newline",
                 path, n > 66 ? "more than " : "", n > 66 ? (size_t)66 : n);
        return -1;
    }
    for (i = 0; i < 64; i++) {
        if (ixd_hex_digit(buf[i]) == -1) {
            snprintf(err, errlen, "key file %s: character %zu is not a hex digit", path, i + 1);
            return -1;
        }
    }
    for (i = 0; i < IXD_CRYPTOPAN_KEY_LEN; i++) {
        key[i] = (uint8_t)(ixd_hex_digit(buf[2 * i]) << 4 | ixd_hex_digit(buf[2 * i + 1]));
    }
    return 0;
}

int
ixd_cryptopan_key_load(const char *path, uint8_t key[IXD_CRYPTOPAN_KEY_LEN], char *err,
                       size_t errlen)
{
    /* one more than the longest valid file, so that parse_key sees a longer one (and the
     * reader's own spare byte) */
    uint8_t buf[68];
    size_t n = 0;
    int rc = -1;

    /* the file checks are shared with the HA key (crypto/hmac.h); the layout is ours */
    if (ixd_key_file_read(path, buf, 0, sizeof(buf) - 1, &n, err, errlen) == 0) {
        rc = parse_key(path, buf, n, key, err, errlen);
    }
    OPENSSL_cleanse(buf, sizeof(buf));
    return rc;
}
