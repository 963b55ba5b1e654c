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

#include "bench_flows.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "pipeline/filter.h"

#define RECORDS 4096
#define RECORD_LEN BENCH_FLOW_LEN

static const char *const filters[] = {
    "proto tcp",
    "proto tcp and dst port in [80, 443, 8080] and not src ip in 10.0.0.0/8",
    "src ip in [10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16] or dst port 1024..65535",
    "bytes > 1M or (packets < 3 and flowStartMilliseconds >= 2024-01-01T00:00:00Z)",
    "dst port in [21, 22, 23, 25, 53, 80, 110, 143, 443, 465, 587, 993, 995, 3306, 5432, 8080]",
    "exists sourceIPv6Address",
};

/*
 * The floor under the same load: "proto tcp" written by hand against the field offset. The
 * volatile sink keeps the compiler from hoisting the loop away.
 */
static void
baseline(const struct ixd_record *records, long matches)
{
    volatile long sink;
    long n, hits = 0;
    double t0 = bench_mono_ns(), t1;

    for (n = 0; n < matches; n++) {
        hits += records[n & (RECORDS - 1)].data[12] == 6;
    }
    t1 = bench_mono_ns();
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

    if (reg == NULL || (t = bench_template(reg, bench_flow_spec, BENCH_FLOW_FIELDS)) == NULL ||
        t->fixed_length != RECORD_LEN) {
        fprintf(stderr, "filter-bench: cannot set up: %s\n", reg == NULL ? err : "template");
        return 1;
    }
    for (i = 0; i < RECORDS; i++) {
        bench_flow(data[i], &seed);
        records[i].tmpl = t;
        records[i].data = data[i];
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
        t0 = bench_mono_ns();
        for (c = 0; c < 1000; c++) {
            ixd_filter_prog_free(ixd_filter_compile(f, t));
        }
        prog = ixd_filter_compile(f, t);
        t1 = bench_mono_ns();
        for (n = 0; n < matches; n++) {
            hits += ixd_filter_match(prog, &records[n & (RECORDS - 1)]);
        }
        t2 = bench_mono_ns();
        /* one record over and over: every branch predicted, the instructions' own cost */
        for (n = 0; n < matches; n++) {
            same += ixd_filter_match(prog, &records[0]);
        }
        t3 = bench_mono_ns();
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
