/*
 * Nanoseconds per record of pipelines with a lua stage, side by side in one process with the
 * same pipeline without it and with the built-in filter (docs/benchmarks.md, "Lua stage"):
 * batches of 256 records of a typical IPv4 flow template, 4096 varied records in all, run
 * through ixd_pipeline_process() as a worker runs them (the copy of the record array, every
 * stage, no outputs). Each case is measured in rounds that alternate between the cases, and the
 * median round is reported, so that a neighbour's load on a shared machine hits all of them
 * alike. Not part of ctest (timings belong here, not in tests).
 *
 *   build/bench/ixd-lua-bench [rounds [case]]   (case: run only that one, for a profiler)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/config.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "bench_pipeline.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define RECORDS 4096
#define RECORD_LEN BENCH_FLOW_LEN
#define PASSES 40 /* of the 4096 records per round and case */

static const struct {
    const char *name;
    const char *stage; /* "" for the pipeline without stages */
} cases[] = {
    {"pipeline without stages", ""},
    {"lua on_record returns true (JIT)", "lua: {file: true.lua, trusted: true}"},
    {"filter \"proto tcp and dst port 443\"", "filter: \"proto tcp and dst port 443\""},
    {"lua filter, same test (JIT)", "lua: {file: filter.lua, trusted: true}"},
    {"lua rewrite packetDeltaCount (JIT)", "lua: {file: rewrite.lua, trusted: true}"},
    {"lua on_record returns true (sandbox, JIT off)", "lua: {file: true.lua}"},
    {"lua filter, same test (sandbox, JIT off)", "lua: {file: filter.lua}"},
    {"lua rewrite packetDeltaCount (sandbox, JIT off)", "lua: {file: rewrite.lua}"},
};
#define CASES (sizeof(cases) / sizeof(cases[0]))

static const struct {
    const char *file, *text;
} scripts[] = {
    {"true.lua", "function on_record(r) return true end\n"},
    {"filter.lua", "function on_record(r)\n"
                   "  return r.protocolIdentifier == 6 and r.destinationTransportPort == 443\n"
                   "end\n"},
    {"rewrite.lua", "function on_record(r) r.packetDeltaCount = r.packetDeltaCount * 2 end\n"},
};

static void
fill(uint8_t (*data)[RECORD_LEN], struct ixd_record *records, const struct ixd_template *t)
{
    unsigned seed = 12345;

    for (size_t i = 0; i < RECORDS; i++) {
        bench_flow(data[i], &seed);
        records[i] = (struct ixd_record){t, data[i], RECORD_LEN, NULL, NULL};
    }
}
/* The pipelines, one per case, from a config with one collector and no outputs in use. */
static struct ixd_instances *
instances(const struct ixd_ie_registry *reg, const char *dir, struct ixd_config **cfg)
{
    char text[8192], err[1024];
    size_t used;

    used = (size_t)snprintf(text, sizeof(text),
                            "lua: {directory: %s}\n"
                            "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
                            "outputs: [{name: o, type: count}]\n"
                            "pipelines:\n",
                            dir);
    for (size_t c = 0; c < CASES; c++) {
        used +=
            (size_t)snprintf(text + used, sizeof(text) - used,
                             "  - {name: p%zu, from: a, to: o, stages: [%s]}\n", c, cases[c].stage);
    }
    *cfg = ixd_config_parse("bench.yaml", text, strlen(text), err, sizeof(err));
    if (*cfg == NULL) {
        fprintf(stderr, "lua-bench: %s\n", err);
        exit(1);
    }
    struct ixd_instances *in = ixd_instances_conf(*cfg, reg, 1, 0, err, sizeof(err));
    if (in == NULL) {
        fprintf(stderr, "lua-bench: %s\n", err);
        exit(1);
    }
    return in;
}

int
main(int argc, char **argv)
{
    static uint8_t data[RECORDS][RECORD_LEN];
    static struct ixd_record records[RECORDS];
    static double ns[CASES][64];
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    int rounds = argc > 1 ? atoi(argv[1]) : 21;
    int only = argc > 2 ? atoi(argv[2]) : -1;
    char dir[] = "/tmp/ixd-lua-bench-XXXXXX", path[256], err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_pipeline_run *runs[CASES];
    struct ixd_instances *in;
    struct ixd_config *cfg;
    struct ixd_template *t;

    if (rounds < 1 || rounds > 64 || reg == NULL || mkdtemp(dir) == NULL ||
        (t = bench_template(reg, bench_flow_spec, BENCH_FLOW_FIELDS)) == NULL) {
        fprintf(stderr, "lua-bench: cannot set up (rounds 1 to 64)\n");
        return 1;
    }
    for (size_t s = 0; s < sizeof(scripts) / sizeof(scripts[0]); s++) {
        FILE *f;
        snprintf(path, sizeof(path), "%s/%s", dir, scripts[s].file);
        f = fopen(path, "w");
        fputs(scripts[s].text, f);
        fclose(f);
    }
    fill(data, records, t);
    in = instances(reg, dir, &cfg);
    for (size_t c = 0; c < CASES; c++) {
        runs[c] = ixd_pipeline_start(&in->pipelines[c], 0, NULL, 0);
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t c = 0; c < CASES; c++) {
            if (only >= 0 && (size_t)only != c) {
                continue; /* profiling one case */
            }
            ns[c][r] = bench_pipeline_ns(runs[c], &source, records, RECORDS, PASSES, bench_mono_ns);
        }
    }
    printf("%-52s %10s %10s %10s\n", "pipeline (batches of 256 records)", "ns/record", "min",
           "+ stage");
    for (size_t c = 0; c < CASES; c++) {
        qsort(ns[c], (size_t)rounds, sizeof(double), bench_by_value);
    }
    for (size_t c = 0; c < CASES; c++) {
        double med = ns[c][rounds / 2];
        printf("%-52s %10.2f %10.2f %10.2f\n", cases[c].name, med, ns[c][0],
               med - ns[0][rounds / 2]);
    }
    for (size_t c = 0; c < CASES; c++) {
        ixd_pipeline_stop(runs[c]);
    }
    ixd_instances_free(in);
    ixd_config_free(cfg);
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
    for (size_t s = 0; s < sizeof(scripts) / sizeof(scripts[0]); s++) {
        snprintf(path, sizeof(path), "%s/%s", dir, scripts[s].file);
        unlink(path);
    }
    rmdir(dir);
    return 0;
}
