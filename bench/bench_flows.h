/*
 * What the in-process pipeline benches (lua_bench.c, filter_bench.c, enrich_stage_bench.c)
 * share: big-endian fields, a template compiled from (element, length) pairs, the typical IPv4
 * flow record with a mix of values so that branches are not all predicted, and the order a
 * median is taken in. Headers only, so that filter_bench.c still builds by hand (its header).
 */
#ifndef IXD_BENCH_FLOWS_H
#define IXD_BENCH_FLOWS_H

#include <stdint.h>
#include <time.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"

#define BENCH_SPEC_MAX 32
#define BENCH_FLOW_FIELDS 10
#define BENCH_FLOW_LEN 43

/* sourceIPv4Address, destinationIPv4Address, ports, protocol, octets, packets (4 bytes),
 * flowStartMilliseconds, flowEndMilliseconds, tcpControlBits */
static const uint16_t bench_flow_spec[BENCH_FLOW_FIELDS][2] = {
    {8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}, {152, 8}, {153, 8}, {6, 2}};

static inline double
bench_mono_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static inline void
bench_put(uint8_t *p, uint64_t v, unsigned len)
{
    while (len-- > 0) {
        p[len] = (uint8_t)v;
        v >>= 8;
    }
}

/* Template 256 of the n (at most BENCH_SPEC_MAX) fields of spec; NULL when it does not
 * compile. */
static inline struct ixd_template *
bench_template(const struct ixd_ie_registry *reg, const uint16_t (*spec)[2], size_t n)
{
    struct ixd_template_rules rules = {reg, 512, 0};
    uint8_t buf[4 + 4 * BENCH_SPEC_MAX];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t consumed, i;
    uint16_t tid;

    if (n > BENCH_SPEC_MAX) {
        return NULL;
    }
    bench_put(buf, 256, 2);
    bench_put(buf + 2, (uint16_t)n, 2);
    for (i = 0; i < n; i++) {
        bench_put(buf + 4 + 4 * i, spec[i][0], 2);
        bench_put(buf + 6 + 4 * i, spec[i][1], 2);
    }
    ixd_template_parse(buf, 4 + 4 * n, 0, &rules, &t, &tid, &consumed, &why);
    return t;
}

/* The next BENCH_FLOW_LEN bytes of a flow of bench_flow_spec at p, from *seed (advanced). */
static inline void
bench_flow(uint8_t *p, unsigned *seed)
{
    unsigned s = *seed = *seed * 1103515245u + 12345u;

    bench_put(p, (s & 1) ? 0x0a000000u | (s >> 8 & 0xffff) : 0xc6336400u | (s >> 24), 4);
    bench_put(p + 4, 0xc0a80000u | (s >> 16 & 0xff), 4);
    bench_put(p + 8, 1024 + (s >> 4) % 60000, 2);
    bench_put(p + 10, (s >> 3) % 4 == 0 ? 443 : (s >> 3) % 4 == 1 ? 80 : (s >> 7) % 2000, 2);
    bench_put(p + 12, (s >> 9) % 3 == 0 ? 17 : 6, 1);
    bench_put(p + 13, (s >> 11) % 3000000, 8);
    bench_put(p + 21, 1 + (s >> 13) % 10, 4);
    bench_put(p + 25, UINT64_C(1704067200000) + (s >> 5) % 1000, 8);
    bench_put(p + 33, UINT64_C(1704067201000), 8);
    bench_put(p + 41, 0x18, 2);
}

/* qsort order of doubles, for medians. */
static inline int
bench_by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

#endif
