/*
 * Nanoseconds per record of the dedup stage (docs/benchmarks.md, "Dedup stage"): batches of 256
 * records of the 15-field IPv4 flow template, 4,096 flows per pass, each pass's flows starting
 * 10 s after the last pass's (new flows), 20 passes a round, every batch sent by two exporters
 * (192.0.2.1 and 192.0.2.2: half the records are new, half duplicates). Each round's receive
 * time is 120 s after the last, so the table expires the last round's flows as it goes.
 *
 *   one thread:  one run (worker 0) gets each batch from both exporters in turn;
 *   two threads: worker 0's run gets exporter 1's batches and worker 1's exporter 2's, at the
 *                same time, on one table (the stripes' locks contended as under SO_REUSEPORT):
 *                in lockstep (both copies of a flow at once: the worst case, every lookup on a
 *                line the other thread just wrote), and 10 passes apart (the copies meet
 *                later, as when one router exports a little after the other).
 *
 * Thread CPU time per record (the machine is shared) and, for two threads, wall time per record
 * of both; median of the rounds. Pipelines: without stages, dedup with its default table
 * (262,144 flows: no evictions), dedup with 16,384 flows (every new flow evicts one).
 *
 *   build/bench/ixd-dedup-bench [rounds]
 */
#include <arpa/inet.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/config.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#include "dedup_flows.h"

#define CASES 3
#define SEC INT64_C(1000000)

static const uint16_t spec[15][2] = {{8, 4}, {12, 4}, {7, 2},   {11, 2},  {4, 1},
                                     {1, 8}, {2, 4},  {152, 8}, {153, 8}, {6, 2},
                                     {5, 1}, {15, 4}, {10, 4},  {14, 4},  {16, 4}};

static struct ixd_record records[PASSES][RECORDS];

static double
clock_ns(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static struct ixd_template *
flow_template(const struct ixd_ie_registry *reg)
{
    struct ixd_template_rules rules = {reg, 512, 0};
    uint8_t buf[4 + 4 * 15];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t consumed, i;
    uint16_t tid;

    ixd_put16(buf, 256);
    ixd_put16(buf + 2, 15);
    for (i = 0; i < 15; i++) {
        ixd_put16(buf + 4 + 4 * i, spec[i][0]);
        ixd_put16(buf + 6 + 4 * i, spec[i][1]);
    }
    ixd_template_parse(buf, sizeof(buf), 0, &rules, &t, &tid, &consumed, &why);
    return t;
}

static void
fill(const struct ixd_template *t)
{
    dedup_flows_fill();
    for (size_t p = 0; p < PASSES; p++) {
        for (size_t i = 0; i < RECORDS; i++) {
            records[p][i] = (struct ixd_record){t, data[p][i], RECORD_LEN, NULL, NULL};
        }
    }
}

static void
source(struct ixd_source *s, const char *ip)
{
    struct sockaddr_in *sin = (struct sockaddr_in *)&s->exporter;

    memset(s, 0, sizeof(*s));
    s->collector = "a";
    s->odid = 1;
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin->sin_addr);
    snprintf(s->exporter_text, sizeof(s->exporter_text), "%s", ip);
}

struct feeder {
    struct ixd_pipeline_run *run;
    struct ixd_source src[2];
    size_t n_src;
    size_t first; /* the pass it starts at */
    pthread_barrier_t *go;
    double cpu_ns;
};

static void *
feed(void *p)
{
    struct feeder *f = p;
    double t0;

    if (f->go != NULL) {
        pthread_barrier_wait(f->go);
    }
    t0 = clock_ns(CLOCK_THREAD_CPUTIME_ID);
    for (size_t k = 0; k < PASSES; k++) {
        size_t pass = (f->first + k) % PASSES;
        for (size_t b = 0; b < RECORDS; b += IXD_BATCH_MAX) {
            for (size_t s = 0; s < f->n_src; s++) {
                struct ixd_batch batch = {&f->src[s], IXD_BATCH_MAX, records[pass] + b};
                ixd_pipeline_process(f->run, &batch);
            }
        }
    }
    f->cpu_ns = clock_ns(CLOCK_THREAD_CPUTIME_ID) - t0;
    return NULL;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

/* One round of one case on one thread: ns per record. */
static double
one_thread(struct ixd_pipeline_run *run, int64_t now)
{
    struct feeder f = {.run = run, .n_src = 2};

    source(&f.src[0], "192.0.2.1");
    source(&f.src[1], "192.0.2.2");
    f.src[0].received_usec = f.src[1].received_usec = now;
    feed(&f);
    return f.cpu_ns / (2.0 * PASSES * RECORDS);
}

/* Two threads at once: CPU ns per record of each thread (mean) into *cpu, wall ns per record of
 * both into *wall. */
static void
two_threads(struct ixd_pipeline_run *r0, struct ixd_pipeline_run *r1, size_t lag, int64_t now,
            double *cpu, double *wall)
{
    pthread_barrier_t go;
    struct feeder f[2] = {{.run = r0, .n_src = 1, .go = &go},
                          {.run = r1, .n_src = 1, .first = lag, .go = &go}};
    pthread_t th[2];
    double t0;

    pthread_barrier_init(&go, NULL, 3);
    source(&f[0].src[0], "192.0.2.1");
    source(&f[1].src[0], "192.0.2.2");
    f[0].src[0].received_usec = f[1].src[0].received_usec = now;
    pthread_create(&th[0], NULL, feed, &f[0]);
    pthread_create(&th[1], NULL, feed, &f[1]);
    pthread_barrier_wait(&go);
    t0 = clock_ns(CLOCK_MONOTONIC);
    pthread_join(th[0], NULL);
    pthread_join(th[1], NULL);
    *wall = (clock_ns(CLOCK_MONOTONIC) - t0) / (2.0 * PASSES * RECORDS);
    *cpu = (f[0].cpu_ns + f[1].cpu_ns) / (2.0 * PASSES * RECORDS);
    pthread_barrier_destroy(&go);
}

int
main(int argc, char **argv)
{
    static const char *const names[CASES] = {"pipeline without stages",
                                             "dedup (262,144 flows, no evictions)",
                                             "dedup (16,384 flows, evicting)"};
    static double one[CASES][64], cpu2[CASES][64], wall2[CASES][64], cpu3[CASES][64],
        wall3[CASES][64];
    const char *text = "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
                       "outputs: [{name: o, type: count}]\n"
                       "pipelines:\n"
                       "  - {name: p0, from: a, to: o}\n"
                       "  - {name: p1, from: a, to: o, stages: [dedup: {}]}\n"
                       "  - {name: p2, from: a, to: o, stages: [dedup: {entries: 16384}]}\n";
    int rounds = argc > 1 ? atoi(argv[1]) : 11;
    char err[1024];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_pipeline_run *runs[CASES][2];
    struct ixd_instances *in = NULL;
    struct ixd_config *cfg = NULL;
    struct ixd_template *t = reg != NULL ? flow_template(reg) : NULL;

    if (rounds < 1 || rounds > 64 || t == NULL ||
        (cfg = ixd_config_parse("bench.yaml", text, strlen(text), err, sizeof(err))) == NULL ||
        (in = ixd_instances_conf(cfg, reg, 2, 0, err, sizeof(err))) == NULL) {
        fprintf(stderr, "dedup-bench: cannot set up (rounds 1 to 64): %s\n", err);
        return 1;
    }
    fill(t);
    for (size_t c = 0; c < CASES; c++) {
        runs[c][0] = ixd_pipeline_start(&in->pipelines[c], 0, NULL, 0);
        runs[c][1] = ixd_pipeline_start(&in->pipelines[c], 1, NULL, 0);
    }
    for (int r = 0; r < rounds; r++) {
        for (size_t c = 0; c < CASES; c++) {
            /* each measurement a round of its own: the flows are new to the table */
            one[c][r] = one_thread(runs[c][0], (3 * r + 1) * 120 * SEC);
            two_threads(runs[c][0], runs[c][1], 0, (3 * r + 2) * 120 * SEC, &cpu2[c][r],
                        &wall2[c][r]);
            two_threads(runs[c][0], runs[c][1], PASSES / 2, (3 * r + 3) * 120 * SEC, &cpu3[c][r],
                        &wall3[c][r]);
        }
    }
    printf("%-38s %9s %8s %22s %22s\n", "", "1 thread", "", "2 threads, same flows",
           "2 threads, 10 passes apart");
    printf("%-38s %9s %8s %11s %10s %11s %10s\n", "pipeline (batches of 256 records)", "ns/rec",
           "+ stage", "cpu ns/rec", "wall", "cpu ns/rec", "wall");
    for (size_t c = 0; c < CASES; c++) {
        qsort(one[c], (size_t)rounds, sizeof(double), by_value);
        qsort(cpu2[c], (size_t)rounds, sizeof(double), by_value);
        qsort(wall2[c], (size_t)rounds, sizeof(double), by_value);
        qsort(cpu3[c], (size_t)rounds, sizeof(double), by_value);
        qsort(wall3[c], (size_t)rounds, sizeof(double), by_value);
    }
    for (size_t c = 0; c < CASES; c++) {
        int m = rounds / 2;
        printf("%-38s %9.1f %8.1f %11.1f %10.1f %11.1f %10.1f\n", names[c], one[c][m],
               one[c][m] - one[0][m], cpu2[c][m], wall2[c][m], cpu3[c][m], wall3[c][m]);
    }
    for (size_t c = 0; c < CASES; c++) {
        ixd_pipeline_stop(runs[c][0]);
        ixd_pipeline_stop(runs[c][1]);
    }
    ixd_instances_free(in);
    ixd_config_free(cfg);
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
    return 0;
}
