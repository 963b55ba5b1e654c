/* Unit tests of src/crypto/cryptopan.h/.c: Crypto-PAn against published vectors, its
 * prefix-preserving and consistency properties, truncation, and key files. */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crypto/cryptopan.h"

/* The sample key of the reference implementation (Crypto-PAn 1.0, Jinliang Fan, Georgia Tech:
 * sample.cpp), used by every other implementation's tests. */
static const uint8_t sample_key[32] = {21,  34, 23,  141, 51, 164, 207, 128, 19,  10,  91,
                                       22,  73, 144, 125, 16, 216, 152, 143, 131, 121, 121,
                                       101, 39, 98,  87,  76, 45,  42,  132, 34,  2};

struct vector {
    const char *in;
    const char *out;
};

/* The distinct address pairs of sample_trace_raw.dat / sample_trace_sanitized.dat, the sample
 * trace and its anonymised form shipped with the reference implementation, as listed in Yawning
 * Angel's Go implementation (github.com/Yawning/cryptopan, cryptopan_test.go); yacryptopan
 * (Python) checks the same files. */
static const struct vector v4_vectors[] = {
    {"128.11.68.132", "135.242.180.132"},   {"129.118.74.4", "134.136.186.123"},
    {"130.132.252.244", "133.68.164.234"},  {"141.223.7.43", "141.167.8.160"},
    {"141.233.145.108", "141.129.237.235"}, {"152.163.225.39", "151.140.114.167"},
    {"156.29.3.236", "147.225.12.42"},      {"165.247.96.84", "162.9.99.234"},
    {"166.107.77.190", "160.132.178.185"},  {"192.102.249.13", "252.138.62.131"},
    {"192.215.32.125", "252.43.47.189"},    {"192.233.80.103", "252.25.108.8"},
    {"192.41.57.43", "252.222.221.184"},    {"193.150.244.223", "253.169.52.216"},
    {"195.205.63.100", "255.186.223.5"},    {"198.200.171.101", "249.199.68.213"},
    {"198.26.132.101", "249.36.123.202"},   {"198.36.213.5", "249.7.21.132"},
    {"198.51.77.238", "249.18.186.254"},    {"199.217.79.101", "248.38.184.213"},
    {"202.49.198.20", "245.206.7.234"},     {"203.12.160.252", "244.248.163.4"},
    {"204.184.162.189", "243.192.77.90"},   {"204.202.136.230", "243.178.4.198"},
    {"204.29.20.4", "243.33.20.123"},       {"205.178.38.67", "242.108.198.51"},
    {"205.188.147.153", "242.96.16.101"},   {"205.188.248.25", "242.96.88.27"},
    {"205.245.121.43", "242.21.121.163"},   {"207.105.49.5", "241.118.205.138"},
    {"207.135.65.238", "241.202.129.222"},  {"207.155.9.214", "241.220.250.22"},
    {"207.188.7.45", "241.255.249.220"},    {"207.25.71.27", "241.33.119.156"},
    {"207.33.151.131", "241.1.233.131"},    {"208.147.89.59", "227.237.98.191"},
    {"208.234.120.210", "227.154.67.17"},   {"208.28.185.184", "227.39.94.90"},
    {"208.52.56.122", "227.8.63.165"},      {"209.12.231.7", "226.243.167.8"},
    {"209.238.72.3", "226.6.119.243"},      {"209.246.74.109", "226.22.124.76"},
    {"209.68.60.238", "226.184.220.233"},   {"209.85.249.6", "226.170.70.6"},
    {"212.120.124.31", "228.135.163.231"},  {"212.146.8.236", "228.19.4.234"},
    {"212.186.227.154", "228.59.98.98"},    {"212.204.172.118", "228.71.195.169"},
    {"212.206.130.201", "228.69.242.193"},  {"216.148.237.145", "235.84.194.111"},
    {"216.157.30.252", "235.89.31.26"},     {"216.184.159.48", "235.96.225.78"},
    {"216.227.10.221", "235.28.253.36"},    {"216.254.18.172", "235.7.16.162"},
    {"216.32.132.250", "235.192.139.38"},   {"216.35.217.178", "235.195.157.81"},
    {"24.0.250.221", "100.15.198.226"},     {"24.13.62.231", "100.2.192.247"},
    {"24.14.213.138", "100.1.42.141"},      {"24.5.0.80", "100.9.15.210"},
    {"24.7.198.88", "100.10.6.25"},         {"24.94.26.44", "100.88.228.35"},
    {"38.15.67.68", "64.3.66.187"},         {"4.3.88.225", "124.60.155.63"},
    {"63.14.55.111", "95.9.215.7"},         {"63.195.241.44", "95.179.238.44"},
    {"63.97.7.140", "95.97.9.123"},         {"64.14.118.196", "0.255.183.58"},
    {"64.34.154.117", "0.221.154.117"},     {"64.39.15.238", "0.219.7.41"},
};

/* IPv6 has no reference output; these come from the Go implementation above
 * (cryptopan_test.go) and are repeated by independent ports (Rust, C++) that extend Crypto-PAn
 * to 128 bits the same way: pad and prefix bits over the whole AES block. */
static const struct vector v6_vectors[] = {
    {"::1", "78ff:f001:9fc0:20df:8380:b1f1:704:ed"},
    {"::2", "78ff:f001:9fc0:20df:8380:b1f1:704:ef"},
    {"::ffff", "78ff:f001:9fc0:20df:8380:b1f1:704:f838"},
    {"2001:db8::1", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1e"},
    {"2001:db8::2", "4401:2bc:603f:d91d:27f:ff8e:e6f1:dc1c"},
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* xorshift64*: reproducible pseudo-random addresses without touching rand()'s global state. */
static uint64_t
next_random(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * UINT64_C(2685821657736338717);
}

static void
random_bytes(uint64_t *s, uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        p[i] = (uint8_t)(next_random(s) >> 56);
    }
}

static struct ixd_cryptopan *
make(const uint8_t *key, unsigned cache_bits)
{
    char err[256] = "";
    struct ixd_cryptopan *cp = ixd_cryptopan_new(key, cache_bits, err, sizeof(err));

    if (cp == NULL) {
        fail_msg("ixd_cryptopan_new: %s", err);
    }
    return cp;
}

/* Length of the common prefix of two n-byte addresses, in bits. */
static unsigned
common_prefix(const uint8_t *a, const uint8_t *b, size_t n)
{
    unsigned bits = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        uint8_t x = a[i] ^ b[i];

        if (x == 0) {
            bits += 8;
            continue;
        }
        while ((x & 0x80) == 0) {
            bits++;
            x = (uint8_t)(x << 1);
        }
        return bits;
    }
    return bits;
}

/* A copy of a with bit k flipped and every bit after k random: shares exactly k bits. */
static void
sibling(uint64_t *s, const uint8_t *a, uint8_t *b, size_t n, unsigned k)
{
    uint8_t r[16];
    size_t i;

    random_bytes(s, r, n);
    for (i = 0; i < n; i++) {
        unsigned first = (unsigned)i * 8;
        uint8_t keep; /* bits of this byte that come from a */

        if (k >= first + 8) {
            keep = 0xFF;
        } else if (k <= first) {
            keep = 0;
        } else {
            keep = (uint8_t)(0xFF << (8 - (k - first)));
        }
        b[i] = (uint8_t)((a[i] & keep) | (r[i] & ~keep));
    }
    if (k < 8 * n) {
        uint8_t bit = (uint8_t)(0x80 >> (k % 8));

        b[k / 8] = (uint8_t)((b[k / 8] & ~bit) | (~a[k / 8] & bit));
    }
}

static void
check_v4_vectors(unsigned cache_bits)
{
    struct ixd_cryptopan *cp = make(sample_key, cache_bits);
    uint8_t a[4], want[4];
    size_t i;
    int round;

    /* Twice, so that with a cache the second round is answered from it. */
    for (round = 0; round < 2; round++) {
        for (i = 0; i < COUNT(v4_vectors); i++) {
            assert_int_equal(inet_pton(AF_INET, v4_vectors[i].in, a), 1);
            assert_int_equal(inet_pton(AF_INET, v4_vectors[i].out, want), 1);
            assert_int_equal(ixd_cryptopan_v4(cp, a), 0);
            if (memcmp(a, want, 4) != 0) {
                char got[INET_ADDRSTRLEN];

                inet_ntop(AF_INET, a, got, sizeof(got));
                fail_msg("%s -> %s, expected %s", v4_vectors[i].in, got, v4_vectors[i].out);
            }
        }
    }
    ixd_cryptopan_free(cp);
}

static void
reference_ipv4_vectors(void **state)
{
    check_v4_vectors(0);
    check_v4_vectors(IXD_CRYPTOPAN_CACHE_BITS);
    check_v4_vectors(1); /* a two-slot cache: constant eviction */
}

static void
published_ipv6_vectors(void **state)
{
    struct ixd_cryptopan *cp = make(sample_key, IXD_CRYPTOPAN_CACHE_BITS);
    uint8_t a[16], want[16];
    size_t i;

    for (i = 0; i < COUNT(v6_vectors); i++) {
        assert_int_equal(inet_pton(AF_INET6, v6_vectors[i].in, a), 1);
        assert_int_equal(inet_pton(AF_INET6, v6_vectors[i].out, want), 1);
        assert_int_equal(ixd_cryptopan_v6(cp, a), 0);
        if (memcmp(a, want, 16) != 0) {
            char got[INET6_ADDRSTRLEN];

            inet_ntop(AF_INET6, a, got, sizeof(got));
            fail_msg("%s -> %s, expected %s", v6_vectors[i].in, got, v6_vectors[i].out);
        }
    }
    ixd_cryptopan_free(cp);
}

/* Bit i of the pad depends only on the first i address bits and the pad, for both families,
 * so an IPv4 address placed in the top 32 bits of an IPv6 address (anything below) must come
 * out with the IPv4 image in its top 32 bits. Ties the IPv6 code to the reference vectors. */
static void
ipv6_top_bits_match_ipv4(void **state)
{
    struct ixd_cryptopan *cp = make(sample_key, 0);
    uint64_t seed = 0x1234567;
    uint8_t a6[16], want[4];
    size_t i;

    for (i = 0; i < COUNT(v4_vectors); i++) {
        random_bytes(&seed, a6, 16);
        assert_int_equal(inet_pton(AF_INET, v4_vectors[i].in, a6), 1);
        assert_int_equal(inet_pton(AF_INET, v4_vectors[i].out, want), 1);
        assert_int_equal(ixd_cryptopan_v6(cp, a6), 0);
        assert_memory_equal(a6, want, 4);
    }
    ixd_cryptopan_free(cp);
}

static void
check_prefixes(size_t n, unsigned cache_bits)
{
    struct ixd_cryptopan *cp = make(sample_key, cache_bits);
    uint64_t seed = 0xC0FFEE + n;
    uint8_t a[16], b[16], x[16], y[16];
    unsigned k;
    int trial;

    for (k = 0; k <= 8 * n; k++) {
        for (trial = 0; trial < 20; trial++) {
            random_bytes(&seed, a, n);
            sibling(&seed, a, b, n, k);
            assert_int_equal(common_prefix(a, b, n), k);
            memcpy(x, a, n);
            memcpy(y, b, n);
            if (n == 4) {
                assert_int_equal(ixd_cryptopan_v4(cp, x), 0);
                assert_int_equal(ixd_cryptopan_v4(cp, y), 0);
            } else {
                assert_int_equal(ixd_cryptopan_v6(cp, x), 0);
                assert_int_equal(ixd_cryptopan_v6(cp, y), 0);
            }
            if (common_prefix(x, y, n) != k) {
                fail_msg("%zu-byte pair sharing %u bits maps to a pair sharing %u", n, k,
                         common_prefix(x, y, n));
            }
        }
    }
    ixd_cryptopan_free(cp);
}

static void
prefixes_preserved_ipv4(void **state)
{
    check_prefixes(4, 0);
    check_prefixes(4, 4);
}

static void
prefixes_preserved_ipv6(void **state)
{
    check_prefixes(16, 0);
    check_prefixes(16, 4);
}

/* Same key: every context (any cache size, any history) gives the same answers. */
static void
deterministic_across_contexts(void **state)
{
    struct ixd_cryptopan *plain = make(sample_key, 0), *small = make(sample_key, 2);
    struct ixd_cryptopan *big = make(sample_key, IXD_CRYPTOPAN_CACHE_BITS);
    uint64_t seed = 42;
    uint8_t pool[64][16], a[16], b[16], c[16];
    int i, j;

    for (i = 0; i < 64; i++) {
        random_bytes(&seed, pool[i], 16);
    }
    /* Addresses from a small pool, in random order: hits, misses and evictions. */
    for (i = 0; i < 2000; i++) {
        j = (int)(next_random(&seed) % 64);
        memcpy(a, pool[j], 16);
        memcpy(b, pool[j], 16);
        memcpy(c, pool[j], 16);
        assert_int_equal(ixd_cryptopan_v4(plain, a), 0);
        assert_int_equal(ixd_cryptopan_v4(small, b), 0);
        assert_int_equal(ixd_cryptopan_v4(big, c), 0);
        assert_memory_equal(a, b, 4);
        assert_memory_equal(a, c, 4);
        memcpy(a, pool[j], 16);
        memcpy(b, pool[j], 16);
        memcpy(c, pool[j], 16);
        assert_int_equal(ixd_cryptopan_v6(plain, a), 0);
        assert_int_equal(ixd_cryptopan_v6(small, b), 0);
        assert_int_equal(ixd_cryptopan_v6(big, c), 0);
        assert_memory_equal(a, b, 16);
        assert_memory_equal(a, c, 16);
    }
    /* The all-zero address is what fresh cache slots hold: it must still be right. */
    memset(a, 0, 16);
    memset(b, 0, 16);
    assert_int_equal(ixd_cryptopan_v6(plain, a), 0);
    assert_int_equal(ixd_cryptopan_v6(big, b), 0);
    assert_memory_equal(a, b, 16);
    assert_memory_not_equal(a, (uint8_t[16]){0}, 16);
    ixd_cryptopan_free(plain);
    ixd_cryptopan_free(small);
    ixd_cryptopan_free(big);
}

static void
different_keys_differ(void **state)
{
    uint8_t key2[32];
    struct ixd_cryptopan *one, *two;
    uint64_t seed = 7;
    uint8_t a[16], b[16];
    int i, same4 = 0, same6 = 0;

    memcpy(key2, sample_key, sizeof(key2));
    key2[31] ^= 1; /* the pad alone */
    one = make(sample_key, 0);
    two = make(key2, 0);
    for (i = 0; i < 100; i++) {
        random_bytes(&seed, a, 16);
        memcpy(b, a, 16);
        assert_int_equal(ixd_cryptopan_v4(one, a), 0);
        assert_int_equal(ixd_cryptopan_v4(two, b), 0);
        same4 += memcmp(a, b, 4) == 0;
        assert_int_equal(ixd_cryptopan_v6(one, a), 0);
        assert_int_equal(ixd_cryptopan_v6(two, b), 0);
        same6 += memcmp(a, b, 16) == 0;
    }
    ixd_cryptopan_free(two);
    key2[31] ^= 1;
    key2[0] ^= 1; /* the AES key alone */
    two = make(key2, 0);
    for (i = 0; i < 100; i++) {
        random_bytes(&seed, a, 16);
        memcpy(b, a, 16);
        assert_int_equal(ixd_cryptopan_v4(one, a), 0);
        assert_int_equal(ixd_cryptopan_v4(two, b), 0);
        same4 += memcmp(a, b, 4) == 0;
    }
    /* A chance collision of 32-bit images is ~1e-7 per pair; none expected. */
    assert_int_equal(same4, 0);
    assert_int_equal(same6, 0);
    ixd_cryptopan_free(one);
    ixd_cryptopan_free(two);
}

/* A bijection on a whole small prefix: the 65,536 addresses of 10.1.0.0/16 map to 65,536
 * distinct addresses inside one /16. */
static void
one_to_one_on_a_slash16(void **state)
{
    struct ixd_cryptopan *cp = make(sample_key, 0);
    uint8_t *seen = calloc(65536, 1), first[4] = {10, 1, 0, 0}, a[4];
    uint32_t i;

    assert_non_null(seen);
    assert_int_equal(ixd_cryptopan_v4(cp, first), 0);
    for (i = 0; i < 65536; i++) {
        a[0] = 10;
        a[1] = 1;
        a[2] = (uint8_t)(i >> 8);
        a[3] = (uint8_t)i;
        assert_int_equal(ixd_cryptopan_v4(cp, a), 0);
        assert_memory_equal(a, first, 2);
        assert_int_equal(seen[a[2] << 8 | a[3]], 0);
        seen[a[2] << 8 | a[3]] = 1;
    }
    free(seen);
    ixd_cryptopan_free(cp);
}

/* What a partial transform must give: orig's first keep bits, then the full image's. */
static void
splice(const uint8_t *orig, const uint8_t *full, uint8_t *out, size_t n, unsigned keep)
{
    unsigned i;

    for (i = 0; i < 8 * n; i++) {
        const uint8_t *from = i < keep ? orig : full;
        uint8_t bit = (uint8_t)(0x80 >> (i % 8));

        out[i / 8] = (uint8_t)((out[i / 8] & ~bit) | (from[i / 8] & bit));
    }
}

static void
partial_keeps_prefix_in_clear(void **state)
{
    struct ixd_cryptopan *cp = make(sample_key, IXD_CRYPTOPAN_CACHE_BITS);
    uint64_t seed = 99;
    uint8_t orig[16], full[16], part[16], want[16];
    unsigned k;

    for (k = 0; k <= 130; k++) {
        random_bytes(&seed, orig, 16);
        memcpy(full, orig, 16);
        memcpy(part, orig, 16);
        assert_int_equal(ixd_cryptopan_v6(cp, full), 0);
        assert_int_equal(ixd_cryptopan_v6_partial(cp, part, k), 0);
        splice(orig, full, want, 16, k);
        assert_memory_equal(part, want, 16);

        memcpy(full, orig, 4);
        memcpy(part, orig, 4);
        assert_int_equal(ixd_cryptopan_v4(cp, full), 0);
        assert_int_equal(ixd_cryptopan_v4_partial(cp, part, k), 0);
        splice(orig, full, want, 4, k);
        assert_memory_equal(part, want, 4);
    }
    /* 128.11.68.132 -> 135.242.180.132 (reference vector); keeping /16: 128.11.180.132 */
    assert_int_equal(inet_pton(AF_INET, "128.11.68.132", part), 1);
    assert_int_equal(ixd_cryptopan_v4_partial(cp, part, 16), 0);
    assert_memory_equal(part, ((uint8_t[4]){128, 11, 180, 132}), 4);
    ixd_cryptopan_free(cp);
}

static void
truncation(void **state)
{
    uint8_t a[4] = {192, 0, 2, 77}, b[16];

    ixd_truncate_v4(a, 24);
    assert_memory_equal(a, ((uint8_t[4]){192, 0, 2, 0}), 4);
    ixd_truncate_v4(a, 12);
    assert_memory_equal(a, ((uint8_t[4]){192, 0, 0, 0}), 4);
    memcpy(a, (uint8_t[4]){255, 255, 255, 255}, 4);
    ixd_truncate_v4(a, 13);
    assert_memory_equal(a, ((uint8_t[4]){255, 0xF8, 0, 0}), 4);
    ixd_truncate_v4(a, 40); /* more than 32: unchanged */
    assert_memory_equal(a, ((uint8_t[4]){255, 0xF8, 0, 0}), 4);
    ixd_truncate_v4(a, 0);
    assert_memory_equal(a, ((uint8_t[4]){0, 0, 0, 0}), 4);

    memset(b, 0xFF, 16);
    ixd_truncate_v6(b, 48);
    assert_memory_equal(b, ((uint8_t[16]){0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF}), 16);
    memset(b, 0xFF, 16);
    ixd_truncate_v6(b, 127);
    assert_int_equal(b[15], 0xFE);
    assert_int_equal(b[14], 0xFF);
    memset(b, 0xFF, 16);
    ixd_truncate_v6(b, 128);
    assert_int_equal(b[15], 0xFF);
    ixd_truncate_v6(b, 1);
    assert_memory_equal(b, ((uint8_t[16]){0x80}), 16);
}

static void
cache_too_large_refused(void **state)
{
    char err[256] = "";

    assert_null(ixd_cryptopan_new(sample_key, IXD_CRYPTOPAN_CACHE_BITS_MAX + 1, err, sizeof(err)));
    assert_non_null(strstr(err, "too large"));
}

/* Key files: written into a private temporary directory. */
static char dir[64];

static int
make_dir(void **state)
{
    snprintf(dir, sizeof(dir), "/tmp/ixd-test-cryptopan-XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static const char *key_names[] = {"raw",   "raw-newline", "hex",         "short",
                                  "empty", "badhex",      "twonewlines", "space",
                                  "long",  "worldread",   "groupwrite",  "worldwrite"};

static int
remove_dir(void **state)
{
    char path[128];
    size_t i;

    for (i = 0; i < COUNT(key_names); i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, key_names[i]);
        unlink(path);
    }
    return rmdir(dir);
}

static const char *
write_key(const char *name, const void *data, size_t len, mode_t mode)
{
    static char path[128];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, name);
    f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(data, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
    return path;
}

static void
key_file_raw(void **state)
{
    uint8_t key[32];
    char err[256] = "";
    const char *p = write_key("raw", sample_key, 32, 0600);

    memset(key, 0, sizeof(key));
    if (ixd_cryptopan_key_load(p, key, err, sizeof(err)) != 0) {
        fail_msg("%s", err);
    }
    assert_memory_equal(key, sample_key, 32);
    /* 32 raw bytes that happen to end in a newline are still raw */
    p = write_key("raw-newline", "0123456789abcdef0123456789abcde\n", 32, 0600);
    assert_int_equal(ixd_cryptopan_key_load(p, key, err, sizeof(err)), 0);
    assert_memory_equal(key, "0123456789abcdef0123456789abcde\n", 32);
    ixd_cryptopan_key_wipe(key, sizeof(key));
    assert_memory_equal(key, ((uint8_t[32]){0}), 32);
}

/* The key as 64 hex digits followed by tail, into out (80 bytes). */
static void
hex_of(const uint8_t *key, char *out, int upper, const char *tail)
{
    static const char lower_digits[] = "0123456789abcdef", upper_digits[] = "0123456789ABCDEF";
    const char *d = upper ? upper_digits : lower_digits;
    int i;

    for (i = 0; i < 32; i++) {
        out[2 * i] = d[key[i] >> 4];
        out[2 * i + 1] = d[key[i] & 15];
    }
    snprintf(out + 64, 16, "%s", tail);
}

static void
key_file_hex(void **state)
{
    const char *endings[] = {"", "\n", "\r\n"};
    uint8_t key[32];
    char err[256] = "", text[80];
    const char *p;
    size_t e;

    for (e = 0; e < COUNT(endings); e++) {
        hex_of(sample_key, text, e == 1, endings[e]);
        p = write_key("hex", text, strlen(text), e == 2 ? 0640 : 0400);
        memset(key, 0, sizeof(key));
        if (ixd_cryptopan_key_load(p, key, err, sizeof(err)) != 0) {
            fail_msg("%s", err);
        }
        assert_memory_equal(key, sample_key, 32);
    }
}

static void
expect_refused(const char *path, const char *what)
{
    uint8_t key[32];
    char err[256] = "";

    assert_int_equal(ixd_cryptopan_key_load(path, key, err, sizeof(err)), -1);
    if (strstr(err, what) == NULL) {
        fail_msg("error \"%s\" does not say \"%s\"", err, what);
    }
}

static void
key_file_errors(void **state)
{
    char text[80], path[128];
    const char *p;

    snprintf(path, sizeof(path), "%s/missing", dir);
    expect_refused(path, "No such file");
    expect_refused(dir, "not a regular file");

    p = write_key("short", sample_key, 31, 0600);
    expect_refused(p, "31 bytes");
    p = write_key("empty", "", 0, 0600);
    expect_refused(p, "0 bytes");

    hex_of(sample_key, text, 0, "");
    text[10] = 'g';
    p = write_key("badhex", text, 64, 0600);
    expect_refused(p, "character 11 is not a hex digit");

    hex_of(sample_key, text, 0, "\n\n");
    p = write_key("twonewlines", text, strlen(text), 0600);
    expect_refused(p, "66 bytes");
    hex_of(sample_key, text, 0, " \n");
    p = write_key("space", text, strlen(text), 0600);
    expect_refused(p, "66 bytes");
    hex_of(sample_key, text, 0, "00\n");
    p = write_key("long", text, strlen(text), 0600);
    expect_refused(p, "more than 66 bytes");

    p = write_key("worldread", sample_key, 32, 0644);
    expect_refused(p, "mode 0644");
    p = write_key("groupwrite", sample_key, 32, 0660);
    expect_refused(p, "mode 0660");
    p = write_key("worldwrite", sample_key, 32, 0602);
    expect_refused(p, "chmod 600 or 640");
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reference_ipv4_vectors),
        cmocka_unit_test(published_ipv6_vectors),
        cmocka_unit_test(ipv6_top_bits_match_ipv4),
        cmocka_unit_test(prefixes_preserved_ipv4),
        cmocka_unit_test(prefixes_preserved_ipv6),
        cmocka_unit_test(deterministic_across_contexts),
        cmocka_unit_test(different_keys_differ),
        cmocka_unit_test(one_to_one_on_a_slash16),
        cmocka_unit_test(partial_keeps_prefix_in_clear),
        cmocka_unit_test(truncation),
        cmocka_unit_test(cache_too_large_refused),
        cmocka_unit_test(key_file_raw),
        cmocka_unit_test(key_file_hex),
        cmocka_unit_test(key_file_errors),
    };

    return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
