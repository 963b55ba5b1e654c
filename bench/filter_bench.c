/*
 * Nanoseconds per ixd_filter_match() for typical filters over a typical IPv4 flow template:
 * over 4096 varied records (data-dependent branches mispredict as they would on real traffic
 * of no particular shape) and over one record (every branch predicted); and what compiling a
 * program per template costs. Not part of ctest (timings belong here, not in
 * tests). Build by hand against a build directory's libraries:
 *
 *   cc -O2 -D_GNU_SOURCE -I include -I src bench/filter_bench.c build/src/libixd_pipeline.a \
 *      build/src/libixd_ipfix.a build/src/libixd_core.a \
 *      $(pkg-config --libs libfixbuf glib-2.0 yaml-0.1) -lpthread -o filter-bench
 *   ./filter-bench [matches]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "pipeline/filter.h"

#define RECORDS 4096
#define RECORD_LEN 43

static const char *const filters[] = {
    "proto tcp",
    "proto tcp and dst port in [80, 443, 8080] and not src ip in 10.0.0.0/8",
    "src ip in [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16] or dst port 1024..65535",
    "bytes > 1M or (packets < 3 and flowStartMilliseconds >= 2024-01-01T00:00:00Z)",
    "dst port in [21, 22, 23, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 3306, 5432, 8080]",
    "exists sourceIPv6Address",
};

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static void
put(uint8_t *p, uint64_t v, unsigned len)
{
    while (len-- > 0) {
        p[len] = (uint8_t)v;
        v >>= 8;
    }
}

/* sourceIPv4Address, destinationIPv4Address, ports, protocol, octets, packets (4 bytes),
 * flowStartMilliseconds, flowEndMilliseconds, tcpControlBits */
static struct ixd_template *
flow_template(const struct ixd_ie_registry *reg)
{
    static const uint16_t spec[][2] = {{8, 4}, {12, 4}, {7, 2},   {11, 2},  {4, 1},
                                       {1, 8}, {2, 4},  {152, 8}, {153, 8}, {6, 2}};
    struct ixd_template_rules rules = {reg, 512, 0};
    uint8_t buf[4 + 4 * 10];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t consumed, i;
    uint16_t tid;

    put(buf, 256, 2);
    put(buf + 2, 10, 2);
    for (i = 0; i < 10; i++) {
        put(buf + 4 + 4 * i, spec[i][0], 2);
        put(buf + 6 + 4 * i, spec[i][1], 2);
    }
    ixd_template_parse(buf, sizeof(buf), 0, &rules, &t, &tid, &consumed, &why);
    return t;
}

/*
 * The floor under the same load: "proto tcp" written by hand against the field offset. The
 * volatile sink keeps the compiler from hoisting the loop away.
 */
static void
baseline(const struct ixd_record *records, long matches)
{
    volatile long sink;
    long n, hits = 0;
    double t0 = now_ns(), t1;

    for (n = 0; n < matches; n++) {
        hits += records[n & (RECORDS - 1)].data[12] == 6;
    }
    t1 = now_ns();
    sink = hits;
    printf("%-96s %8.2f %8s %7.1f%% %10s\n", "(baseline: protocol byte == 6, by hand)",
           (t1 - t0) / (double)matches, "-", 100.0 * (double)sink / (double)matches, "-");
}

int
main(int argc, char **argv)
{
    static uint8_t data[RECORDS][RECORD_LEN];
    static struct ixd_record records[RECORDS];
    long matches = argc > 1 ? strtol(argv[1], NULL, 10) : 20000000;
    char err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_template *t;
    size_t i;
    unsigned seed = 12345;

    if (reg == NULL || (t = flow_template(reg)) == NULL || t->fixed_length != RECORD_LEN) {
        fprintf(stderr, "filter-bench: cannot set up: %s\n", reg == NULL ? err : "template");
        return 1;
    }
    for (i = 0; i < RECORDS; i++) { /* a mix so that branches are not all predicted */
        uint8_t *p = data[i];
        seed = seed * 1103515245u + 12345u;
        put(p, (seed & 1) ? 0x0a000000u | (seed >> 8 & 0xffff) : 0xc6336400u | (seed >> 24), 4);
        put(p + 4, 0xc0a80000u | (seed >> 16 & 0xff), 4);
        put(p + 8, 1024 + (seed >> 4) % 60000, 2);
        put(p + 10, (seed >> 3) % 4 == 0 ? 443 : (seed >> 3) % 4 == 1 ? 80 : (seed >> 7) % 2000, 2);
        put(p + 12, (seed >> 9) % 3 == 0 ? 17 : 6, 1);
        put(p + 13, (seed >> 11) % 3000000, 8);
        put(p + 21, 1 + (seed >> 13) % 10, 4);
        put(p + 25, UINT64_C(1704067200000) + (seed >> 5) % 1000, 8);
        put(p + 33, UINT64_C(1704067201000), 8);
        put(p + 41, 0x18, 2);
        records[i].tmpl = t;
        records[i].data = p;
        records[i].length = RECORD_LEN;
    }
    printf("%-96s %8s %8s %8s %10s\n", "filter", "ns/match", "1 record", "matched", "compile ns");
    baseline(records, matches);
    for (i = 0; i < sizeof(filters) / sizeof(filters[0]); i++) {
        struct ixd_filter *f = ixd_filter_parse(filters[i], reg, err, sizeof(err));
        struct ixd_filter_prog *prog;
        double t0, t1, t2, t3;
        long n, hits = 0, same = 0;
        int c;

        if (f == NULL) {
            fprintf(stderr, "filter-bench: %s: %s\n", filters[i], err);
            return 1;
        }
        t0 = now_ns();
        for (c = 0; c < 1000; c++) {
            ixd_filter_prog_free(ixd_filter_compile(f, t));
        }
        prog = ixd_filter_compile(f, t);
        t1 = now_ns();
        for (n = 0; n < matches; n++) {
            hits += ixd_filter_match(prog, &records[n & (RECORDS - 1)]);
        }
        t2 = now_ns();
        /* one record over and over: every branch predicted, the instructions' own cost */
        for (n = 0; n < matches; n++) {
            same += ixd_filter_match(prog, &records[0]);
        }
        t3 = now_ns();
        printf("%-96s %8.2f %8.2f %7.1f%% %10.0f\n", filters[i], (t2 - t1) / (double)matches,
               (t3 - t2) / (double)matches, 100.0 * (double)hits / (double)matches,
               (t1 - t0) / 1000);
        ixd_filter_prog_free(prog);
        ixd_filter_free(f);
    }
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
    return 0;
}
