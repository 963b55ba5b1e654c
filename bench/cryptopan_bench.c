/*
 * Crypto-PAn cost per address: ns per IPv4 and IPv6 address on one core, through the API the
 * anonymise stage uses (src/crypto/cryptopan.h), without and with the per-context cache, on
 * distinct random addresses (every call a miss) and on a flow-like stream (a few thousand hosts,
 * a few of them in most records). A baseline encrypts one AES block per EVP call, the
 * straightforward port of the reference code, to show what batching the blocks buys.
 *
 * usage: ixd-cryptopan-bench [SECONDS_PER_CASE]     (default 0.5)
 *
 * Not a test: figures depend on the machine and its load. docs/anonymisation.md has results.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/evp.h>

#include "crypto/cryptopan.h"

/* Addresses prepared per case and cycled through: far more than the cache holds, so that the
 * random cases really miss. */
#define POOL (1 << 18)
#define CHUNK 1024
#define HOSTS 3000 /* distinct hosts in the flow-like stream */

static const uint8_t key[32] = {21,  34, 23,  141, 51, 164, 207, 128, 19,  10,  91,
                                22,  73, 144, 125, 16, 216, 152, 143, 131, 121, 121,
                                101, 39, 98,  87,  76, 45,  42,  132, 34,  2};

static uint64_t seed = 88172645463325252ULL;

static uint64_t
next_random(void)
{
    seed ^= seed << 13;
    seed ^= seed >> 7;
    seed ^= seed << 17;
    return seed;
}

static double
now(void)
{
    struct timespec ts;

    /* CPU time of this thread: the machine may be shared, and time spent preempted is not
     * the cost of an address. */
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* POOL addresses of len bytes: all distinct and random, or drawn from HOSTS hosts with a
 * skew (the square of a uniform variate) so that a few hosts appear in most records, as
 * servers and busy clients do in flow data. */
static void
fill(uint8_t *pool, size_t len, int flowlike)
{
    static uint8_t hosts[HOSTS][16];
    size_t i, j;

    for (i = 0; i < HOSTS; i++) {
        for (j = 0; j < 16; j++) {
            hosts[i][j] = (uint8_t)next_random();
        }
    }
    for (i = 0; i < POOL; i++) {
        if (flowlike) {
            double u = (double)(next_random() % 1000000) / 1e6;

            memcpy(pool + i * len, hosts[(size_t)(u * u * HOSTS)], len);
        } else {
            for (j = 0; j < len; j++) {
                pool[i * len + j] = (uint8_t)next_random();
            }
        }
    }
}

typedef int (*anon_fn)(void *ctx, uint8_t *addr);

static int
v4(void *ctx, uint8_t *addr)
{
    return ixd_cryptopan_v4(ctx, addr);
}

static int
v6(void *ctx, uint8_t *addr)
{
    return ixd_cryptopan_v6(ctx, addr);
}

/* The baseline: one EVP_EncryptUpdate per address bit, as a direct port of the reference
 * implementation's loop would do. Same results, used only to time the difference. */
struct naive {
    EVP_CIPHER_CTX *evp;
    uint8_t pad[16];
};

static int
naive_any(struct naive *n, uint8_t *addr, unsigned bits)
{
    uint8_t in[16], out[16], otp[16] = {0};
    unsigned i, j;
    int outl;

    for (i = 0; i < bits; i++) {
        memcpy(in, n->pad, 16);
        for (j = 0; j < i; j++) {
            uint8_t bit = (uint8_t)(0x80 >> (j % 8));

            in[j / 8] = (uint8_t)((in[j / 8] & ~bit) | (addr[j / 8] & bit));
        }
        if (EVP_EncryptUpdate(n->evp, out, &outl, in, 16) != 1) {
            return -1;
        }
        otp[i / 8] |= (uint8_t)((out[0] >> 7) << (7 - i % 8));
    }
    for (i = 0; i < bits / 8; i++) {
        addr[i] ^= otp[i];
    }
    return 0;
}

static int
naive_v4(void *ctx, uint8_t *addr)
{
    return naive_any(ctx, addr, 32);
}

static int
naive_v6(void *ctx, uint8_t *addr)
{
    return naive_any(ctx, addr, 128);
}

/* Best of five rounds of seconds / 5 each: the least disturbed round is the cost. */
static double
run(const char *label, anon_fn fn, void *ctx, size_t len, int flowlike, double seconds)
{
    static uint8_t pool[POOL * 16], work[CHUNK * 16];
    double start, elapsed, ns, best = 0;
    uint64_t done;
    size_t i;
    int round;

    fill(pool, len, flowlike);
    for (round = 0; round < 5; round++) {
        done = 0;
        start = now();
        do {
            /* a chunk at a time, so that the slow baseline still stops on time */
            size_t at = (size_t)(done % POOL) * len;

            memcpy(work, pool + at, CHUNK * len);
            for (i = 0; i < CHUNK; i++) {
                if (fn(ctx, work + i * len) != 0) {
                    fprintf(stderr, "cryptopan-bench: %s failed\n", label);
                    exit(1);
                }
            }
            done += CHUNK;
            elapsed = now() - start;
        } while (elapsed < seconds / 5);
        ns = elapsed * 1e9 / (double)done;
        if (round == 0 || ns < best) {
            best = ns;
        }
    }
    printf("%-44s %8.1f ns/address  %10.0f addresses/s\n", label, best, 1e9 / best);
    return best;
}

int
main(int argc, char **argv)
{
    double seconds = argc > 1 ? strtod(argv[1], NULL) : 0.5;
    char err[256];
    struct ixd_cryptopan *plain, *cached;
    struct naive naive;
    EVP_CIPHER *aes;
    int outl;

    if (seconds <= 0) {
        seconds = 0.5;
    }
    plain = ixd_cryptopan_new(key, 0, err, sizeof(err));
    cached = ixd_cryptopan_new(key, IXD_CRYPTOPAN_CACHE_BITS, err, sizeof(err));
    aes = EVP_CIPHER_fetch(NULL, "AES-128-ECB", NULL);
    naive.evp = EVP_CIPHER_CTX_new();
    if (plain == NULL || cached == NULL || aes == NULL || naive.evp == NULL ||
        EVP_EncryptInit_ex2(naive.evp, aes, key, NULL, NULL) != 1 ||
        EVP_EncryptUpdate(naive.evp, naive.pad, &outl, key + 16, 16) != 1) {
        fprintf(stderr, "cryptopan-bench: set-up failed: %s\n", err);
        return 1;
    }
    EVP_CIPHER_free(aes);
    {
        /* the baseline must compute the same thing to be a fair comparison */
        uint8_t a[16] = {32, 1, 13, 184}, b[16] = {32, 1, 13, 184};

        if (naive_v6(&naive, a) != 0 || ixd_cryptopan_v6(plain, b) != 0 || memcmp(a, b, 16)) {
            fprintf(stderr, "cryptopan-bench: baseline disagrees with ixd_cryptopan_v6\n");
            return 1;
        }
    }

    run("ipv4 one EVP call per bit (baseline)", naive_v4, &naive, 4, 0, seconds);
    run("ipv4 batched, no cache, random", v4, plain, 4, 0, seconds);
    run("ipv4 batched, cache, random (all miss)", v4, cached, 4, 0, seconds);
    run("ipv4 batched, no cache, flow-like", v4, plain, 4, 1, seconds);
    run("ipv4 batched, cache, flow-like", v4, cached, 4, 1, seconds);
    run("ipv6 one EVP call per bit (baseline)", naive_v6, &naive, 16, 0, seconds);
    run("ipv6 batched, no cache, random", v6, plain, 16, 0, seconds);
    run("ipv6 batched, cache, random (all miss)", v6, cached, 16, 0, seconds);
    run("ipv6 batched, no cache, flow-like", v6, plain, 16, 1, seconds);
    run("ipv6 batched, cache, flow-like", v6, cached, 16, 1, seconds);

    EVP_CIPHER_CTX_free(naive.evp);
    ixd_cryptopan_free(plain);
    ixd_cryptopan_free(cached);
    return 0;
}
