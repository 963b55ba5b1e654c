/*
 * Nanoseconds per record of the clock stage (docs/benchmarks.md, "Clock stage"): batches of 256
 * records of the 15-field IPv4 flow template (two of its fields flowStart/EndMilliseconds),
 * 4096 records, through the stage's process() as a worker calls it, in three cases: an offset
 * within min-offset (the checks only), a 90 s offset (every record copied and its times
 * rewritten), and absurd: receive-time with every record from the future. Rounds alternate
 * between the cases; the median round is reported.
 *
 *   build/bench/ixd-clock-stage-bench [rounds]
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/cnode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "ipfixd/stage.h"

extern const struct ixd_stage_type ixd_stage_clock;

#define RECORDS 4096
#define RECORD_LEN 60
#define BATCH 256
#define CASES 3
#define T0 1800000000000000LL

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

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static void *
conf_of(const char *absurd, const struct ixd_ie_registry *reg)
{
    struct ixd_cnode items[2] = {{.kind = IXD_CNODE_SCALAR, .text = (char *)"absurd"},
                                 {.kind = IXD_CNODE_SCALAR, .text = (char *)absurd}};
    struct ixd_cnode m = {.kind = IXD_CNODE_MAPPING, .n = 1, .items = items};
    struct ixd_stage_env env = {.file = "bench", .registry = reg};
    char err[256];
    void *c = ixd_stage_clock.conf(&m, &env, err, sizeof(err));

    if (c == NULL) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    return c;
}

int
main(int argc, char **argv)
{
    static uint8_t data[RECORDS][RECORD_LEN];
    static struct ixd_record recs[RECORDS], work[BATCH];
    static const char *const names[CASES] = {"checks only (offset below min-offset)",
                                             "90 s offset applied",
                                             "absurd: receive-time, every record fixed"};
    int rounds = argc > 1 ? atoi(argv[1]) : 15;
    double *ns = calloc((size_t)rounds * CASES, sizeof(*ns));
    char err[256];
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_template_rules rules = {reg, 512, 0};
    struct ixd_template *t = NULL;
    uint8_t buf[4 + 4 * 15];
    enum ixd_error why;
    size_t used;
    uint16_t tid;
    void *keep, *fix;

    if (reg == NULL || ns == NULL || rounds < 1) {
        return 1;
    }
    ixd_put16(buf, 256);
    ixd_put16(buf + 2, 15);
    for (int i = 0; i < 15; i++) {
        ixd_put16(buf + 4 + 4 * i, spec[i][0]);
        ixd_put16(buf + 6 + 4 * i, spec[i][1]);
    }
    if (ixd_template_parse(buf, sizeof(buf), 0, &rules, &t, &tid, &used, &why) !=
        IXD_TPARSE_TEMPLATE) {
        return 1;
    }
    for (int k = 0; k < RECORDS; k++) {
        memset(data[k], k & 0xff, RECORD_LEN);
        ixd_put64(data[k] + t->fields[7].offset, (uint64_t)((T0 + 90000000LL) / 1000 - 5000 - k));
        ixd_put64(data[k] + t->fields[8].offset, (uint64_t)((T0 + 90000000LL) / 1000 - k));
        recs[k] = (struct ixd_record){t, data[k], RECORD_LEN, NULL, NULL};
    }
    keep = conf_of("keep", reg);
    fix = conf_of("receive-time", reg);
    for (int r = 0; r < rounds; r++) {
        for (int c = 0; c < CASES; c++) {
            void *st = ixd_stage_clock.start(c == 2 ? fix : keep, 0, NULL);
            struct ixd_source src = {.received_usec = c == 2 ? T0 - 3600000000LL : T0,
                                     .clock_known = 1,
                                     .clock_offset_usec = c == 0 ? 400000 : 90000000};
            double start = now_ns();
            for (int pass = 0; pass < 10; pass++) {
                for (int k = 0; k < RECORDS; k += BATCH) {
                    struct ixd_batch b = {&src, BATCH, work};
                    memcpy(work, recs + k, sizeof(work));
                    ixd_stage_clock.process(st, &b);
                }
            }
            ns[c * rounds + r] = (now_ns() - start) / (10.0 * RECORDS);
            ixd_stage_clock.stop(st);
        }
    }
    for (int c = 0; c < CASES; c++) {
        qsort(ns + c * rounds, (size_t)rounds, sizeof(*ns), by_value);
        printf("%-45s %6.1f ns/record (median of %d rounds)\n", names[c],
               ns[c * rounds + rounds / 2], rounds);
    }
    ixd_stage_clock.conf_free(keep);
    ixd_stage_clock.conf_free(fix);
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
    free(ns);
    return 0;
}
