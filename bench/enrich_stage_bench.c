/*
 * Nanoseconds per record of the enrich stage (docs/benchmarks.md, "Enrich stage"): batches of
 * 256 records of a 15-field IPv4 flow template (addresses, ports, protocol, counters, times,
 * flags, ToS, next hop, interfaces, source AS), 4096 varied records, run through
 * ixd_pipeline_process() as a worker runs them (no outputs), beside the same pipeline without
 * stages. Interfaces: 64 named interfaces of the records' exporter in the store. Addresses: a
 * CSV table of N random prefixes (default 1,000,000), or a MaxMind database given; the last
 * case gives the CSV table records whose addresses are 64 values repeated (the stage's cache of
 * answers hits). Rounds alternate between the cases; the median round is reported.
 *
 *   build/bench/ixd-enrich-stage-bench [rounds [prefixes [file.mmdb]]]
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bench_pipeline.h"
#include "core/config.h"
#include "enrich/ifstore.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define RECORDS 4096
#define RECORD_LEN 60
#define PASSES 20
#define CASES 6
#define REPEATED 64 /* distinct addresses of the last case */

static const uint16_t spec[15][2] = {{8, 4}, {12, 4}, {7, 2},   {11, 2},  {4, 1},
                                     {1, 8}, {2, 4},  {152, 8}, {153, 8}, {6, 2},
                                     {5, 1}, {15, 4}, {10, 4},  {14, 4},  {16, 4}};

static double
now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts); /* the machine is shared */
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void
fill(uint8_t (*data)[RECORD_LEN], struct ixd_record *records, const struct ixd_template *t,
     int repeated)
{
    uint64_t seed = 88172645463325252ull;
    uint32_t pool[REPEATED];

    for (size_t i = 0; i < REPEATED; i++) {
        pool[i] = (uint32_t)(seed * (2 * i + 1) >> 32);
    }

    for (size_t i = 0; i < RECORDS; i++) {
        uint8_t *p = data[i];
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        memset(p, 0, RECORD_LEN);
        bench_put(p, repeated ? pool[seed % REPEATED] : (uint32_t)seed, 4);
        bench_put(p + 4, repeated ? pool[(seed >> 32) % REPEATED] : (uint32_t)(seed >> 32), 4);
        bench_put(p + 8, 1024 + seed % 60000, 2);
        bench_put(p + 10, 443, 2);
        bench_put(p + 12, 6, 1);
        bench_put(p + 13, seed % 3000000, 8);
        bench_put(p + 21, 1 + seed % 10, 4);
        bench_put(p + 25, UINT64_C(1704067200000), 8);
        bench_put(p + 33, UINT64_C(1704067201000), 8);
        bench_put(p + 41, 0x18, 2);
        bench_put(p + 48, 1 + seed % 64, 4);        /* ingressInterface */
        bench_put(p + 52, 1 + (seed >> 8) % 64, 4); /* egressInterface */
        records[i] = (struct ixd_record){t, p, RECORD_LEN, NULL, NULL};
    }
}

static void
write_csv(const char *path, size_t n)
{
    FILE *f = fopen(path, "w");
    uint64_t s = 0x9e3779b97f4a7c15ull;

    for (size_t i = 0; f != NULL && i < n; i++) {
        s ^= s << 13;
        s ^= s >> 7;
        s ^= s << 17;
        fprintf(f, "%u.%u.%u.0/%u,%u,AS name %u,DE,Berlin\n", (unsigned)(s >> 56),
                (unsigned)(s >> 48) & 255, (unsigned)(s >> 40) & 255, 8 + (unsigned)(s % 17),
                64512 + (unsigned)(s >> 20) % 20000, (unsigned)(s >> 20) % 20000);
    }
    if (f == NULL || fclose(f) != 0) {
        fprintf(stderr, "enrich-stage-bench: cannot write %s\n", path);
        exit(1);
    }
}

static struct ixd_instances *
instances(const struct ixd_ie_registry *reg, const char *csv, const char *mmdb,
          struct ixd_config **cfg)
{
    char text[4096], err[1024];

    snprintf(text, sizeof(text),
             "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
             "outputs: [{name: o, type: count}]\n"
             "pipelines:\n"
             "  - {name: p0, from: a, to: o}\n"
             "  - {name: p1, from: a, to: o, stages: [enrich: {interfaces: [options]}]}\n"
             "  - {name: p2, from: a, to: o, stages: [enrich: {addresses: [%s]}]}\n"
             "  - {name: p3, from: a, to: o, stages: [enrich: {interfaces: [options], "
             "addresses: [%s]}]}\n"
             "  - {name: p4, from: a, to: o, stages: [enrich: {addresses: [%s]}]}\n"
             "  - {name: p5, from: a, to: o, stages: [enrich: {addresses: [%s]}]}\n",
             csv, csv, mmdb != NULL ? mmdb : csv, csv);
    *cfg = ixd_config_parse("bench.yaml", text, strlen(text), err, sizeof(err));
    struct ixd_instances *in =
        *cfg != NULL ? ixd_instances_conf(*cfg, reg, 1, 0, err, sizeof(err)) : NULL;
    if (in == NULL) {
        fprintf(stderr, "enrich-stage-bench: %s\n", err);
        exit(1);
    }
    return in;
}

int
main(int argc, char **argv)
{
    static const char *const names[CASES] = {"pipeline without stages",
                                             "enrich interfaces (options, 64 named)",
                                             "enrich addresses (CSV table)",
                                             "enrich interfaces + addresses (CSV)",
                                             "enrich addresses (the .mmdb given, else CSV)",
                                             "enrich addresses (CSV), 64 addresses"};
    static uint8_t data[2][RECORDS][RECORD_LEN];
    static struct ixd_record records[2][RECORDS];
    static double ns[CASES][64];
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct sockaddr_in *sin = (struct sockaddr_in *)&source.exporter;
    int rounds = argc > 1 ? atoi(argv[1]) : 11;
    size_t prefixes = argc > 2 ? strtoul(argv[2], NULL, 10) : 1000000;
    char csv[] = "/tmp/ixd-enrich-stage-XXXXXX.csv", err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_pipeline_run *runs[CASES];
    struct ixd_ifstore *store = ixd_ifstore_acquire();
    struct in6_addr exporter;
    struct ixd_instances *in;
    struct ixd_config *cfg;
    struct ixd_template *t;
    int fd = mkstemps(csv, 4);

    if (rounds < 1 || rounds > 64 || reg == NULL || store == NULL || fd == -1 ||
        ixd_ie_registry_add_own(reg, 32473) == -1 || (t = bench_template(reg, spec, 15)) == NULL) {
        fprintf(stderr, "enrich-stage-bench: cannot set up (rounds 1 to 64)\n");
        return 1;
    }
    close(fd);
    write_csv(csv, prefixes);
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    memset(&exporter, 0, sizeof(exporter));
    exporter.s6_addr[10] = exporter.s6_addr[11] = 0xff;
    memcpy(exporter.s6_addr + 12, &sin->sin_addr, 4);
    ixd_ifstore_lock(store);
    for (uint32_t i = 1; i <= 64; i++) {
        char n[32];
        snprintf(n, sizeof(n), "ge-0/0/%u", i);
        ixd_ifstore_put_locked(store, &exporter, 1, IXD_IFSOURCE_OPTIONS, i, n, strlen(n),
                               "a description", 13, 0);
    }
    ixd_ifstore_unlock(store, 0);
    fill(data[0], records[0], t, 0);
    fill(data[1], records[1], t, 1);
    in = instances(reg, csv, argc > 3 ? argv[3] : NULL, &cfg);
    unlink(csv);
    for (size_t c = 0; c < CASES; c++) {
        runs[c] = ixd_pipeline_start(&in->pipelines[c], 0, NULL, 0);
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t c = 0; c < CASES; c++) {
            ns[c][r] = bench_pipeline_ns(runs[c], &source, records[c == CASES - 1], RECORDS, PASSES,
                                         now_ns);
        }
    }
    printf("%-46s %10s %10s %10s\n", "pipeline (batches of 256 records)", "ns/record", "min",
           "+ stage");
    for (size_t c = 0; c < CASES; c++) {
        qsort(ns[c], (size_t)rounds, sizeof(double), bench_by_value);
    }
    for (size_t c = 0; c < CASES; c++) {
        double med = ns[c][rounds / 2];
        printf("%-46s %10.2f %10.2f %10.2f\n", names[c], med, ns[c][0], med - ns[0][rounds / 2]);
    }
    for (size_t c = 0; c < CASES; c++) {
        ixd_pipeline_stop(runs[c]);
    }
    ixd_instances_free(in);
    ixd_config_free(cfg);
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
    ixd_ifstore_release(store);
    return 0;
}
