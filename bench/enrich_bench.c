/*
 * The enrich stage's address sources on their own: a CSV prefix table of N random IPv4 and IPv6
 * prefixes (AS numbers and names; default 1,000,000), loaded as the stage loads it (time, bytes
 * per prefix), then looked up (ns per address); optionally a MaxMind database given as argument,
 * looked up at random addresses (ns per address, uncached). Times are the thread's CPU time.
 *   ixd-enrich-bench [prefixes] [file.mmdb]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/prefix_table.h"
#include "enrich/addresses.h"

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

/* The thread's CPU time: the machine is shared, and time descheduled is not the code's. */
static double
now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
random_addr(struct in6_addr *a)
{
    uint64_t hi = next(), lo = next();

    memcpy(a->s6_addr, &hi, 8);
    memcpy(a->s6_addr + 8, &lo, 8);
    if (next() % 4 != 0) { /* three in four IPv4 */
        memset(a->s6_addr, 0, 10);
        a->s6_addr[10] = a->s6_addr[11] = 0xff;
    }
}

/* A CSV of n prefixes (three in four IPv4, /8../32; the rest IPv6, /16../64) at path. */
static int
write_csv(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    size_t i;

    if (f == NULL) {
        return -1;
    }
    for (i = 0; i < n; i++) {
        uint32_t asn = 64512 + (uint32_t)(next() % 20000);
        if (next() % 4 != 0) {
            uint32_t a = (uint32_t)next();
            fprintf(f, "%u.%u.%u.%u/%u,%u,AS name %u,DE,Berlin\n", a >> 24, (a >> 16) & 255,
                    (a >> 8) & 255, a & 255, 8 + (unsigned)(next() % 25), asn, asn);
        } else {
            uint64_t a = next();
            fprintf(f, "%x:%x:%x:%x::/%u,%u,AS name %u,NL,\n", (unsigned)(a >> 48),
                    (unsigned)(a >> 32) & 0xffff, (unsigned)(a >> 16) & 0xffff,
                    (unsigned)a & 0xffff, 16 + (unsigned)(next() % 49), asn, asn);
        }
    }
    return fclose(f);
}

/* ns per lookup of a over addrs. */
static double
lookups(const struct ixd_addresses *a, const struct in6_addr *addrs, size_t n, uint64_t *found)
{
    struct ixd_addrinfo info;
    double t0 = now();
    size_t i;

    for (i = 0; i < n; i++) {
        ixd_addresses_lookup(a, &addrs[i], &info);
        *found += info.asn != 0;
    }
    return (now() - t0) * 1e9 / (double)n;
}

int
main(int argc, char **argv)
{
    size_t n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000, i, m = 2000000;
    char path[] = "/tmp/ixd-enrich-bench-XXXXXX", err[512];
    struct in6_addr *addrs = malloc(m * sizeof(*addrs));
    struct ixd_addresses *a = ixd_addresses_new();
    uint64_t found = 0;
    double t0, ns;
    int fd = mkstemp(path);

    if (fd == -1 || addrs == NULL || a == NULL) {
        fprintf(stderr, "cannot start\n");
        return 1;
    }
    close(fd);
    if (write_csv(path, n) == -1) {
        fprintf(stderr, "cannot write %s\n", path);
        return 1;
    }
    t0 = now();
    if (ixd_addresses_add_csv(a, path, err, sizeof(err)) == -1) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    printf("csv: %zu prefixes loaded in %.3f s\n", n, now() - t0);
    unlink(path);
    for (i = 0; i < m; i++) {
        random_addr(&addrs[i]);
    }
    ns = lookups(a, addrs, m, &found);
    printf("csv: %.1f ns per lookup, random addresses (%.0f%% found)\n", ns,
           100.0 * (double)found / (double)m);
    /* traffic repeats addresses: 4,096 of them over and over (the table's paths stay cached) */
    for (i = 4096; i < m; i++) {
        addrs[i] = addrs[i % 4096];
    }
    found = 0;
    ns = lookups(a, addrs, m, &found);
    printf("csv: %.1f ns per lookup, 4,096 addresses repeated\n", ns);
    for (i = 0; i < m; i++) {
        random_addr(&addrs[i]);
    }
    ixd_addresses_free(a);
    if (argc > 2) {
        a = ixd_addresses_new();
        if (ixd_addresses_add_mmdb(a, argv[2], err, sizeof(err)) == -1) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        found = 0;
        ns = lookups(a, addrs, m, &found);
        printf("mmdb: %.1f ns per lookup, random addresses (%.0f%% found)\n", ns,
               100.0 * (double)found / (double)m);
        ixd_addresses_free(a);
    }
    {
        /* bytes per prefix of the table alone (values counted once each) */
        struct ixd_prefix_table *t = ixd_prefix_table_new();
        char p[64];
        for (i = 0; i < n; i++) {
            uint32_t v = (uint32_t)next();
            snprintf(p, sizeof(p), "%u.%u.%u.%u/%u", v >> 24, (v >> 16) & 255, (v >> 8) & 255,
                     v & 255, 8 + (unsigned)(next() % 25));
            snprintf(err, sizeof(err), "%u", (unsigned)(next() % 20000));
            if (ixd_prefix_table_add(t, p, err, err, sizeof(err)) == -1) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
        }
        t0 = now();
        if (ixd_prefix_table_build(t, err, sizeof(err)) == -1) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("table: %zu prefixes built in %.3f s, %.1f bytes per prefix\n",
               ixd_prefix_table_count(t), now() - t0,
               (double)ixd_prefix_table_bytes(t) / (double)ixd_prefix_table_count(t));
        ixd_prefix_table_free(t);
    }
    free(addrs);
    return 0;
}
