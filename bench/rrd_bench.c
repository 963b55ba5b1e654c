/*
 * What the rrd output costs a worker per record: ns of the worker thread's CPU time in the
 * output type's write() (the lane's aggregation; nothing else runs on the worker), on batches
 * of 21 records of the 15-element template ipfixd-send sends, for one exporter, for 1,000
 * exporters taking turns batch by batch (every batch a lookup), and with per-interface series.
 * The writer thread runs meanwhile on its own (merging and writing the files of a temporary
 * directory), as in the daemon.
 *
 * usage: ixd-rrd-bench [SECONDS_PER_CASE [RUNS [CASE]]]     (default 1 and 5, every case)
 *
 * Not a test: figures depend on the machine and its load. docs/benchmarks.md has results.
 */
#include <arpa/inet.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/clock.h"
#include "core/keys.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfixd/output.h"
#include "rrd/store.h"

extern const struct ixd_output_type ixd_output_rrd;

#define BATCH 21
#define EXPORTERS 1000
#define RECLEN 64

static const uint16_t fields[15][2] = {
    {8, 4},  {12, 4}, {7, 2}, {11, 2},  {4, 1},   {6, 2},  {5, 1},  {10, 4},
    {14, 4}, {2, 8},  {1, 8}, {152, 8}, {153, 8}, {15, 4}, {16, 4},
};

static double
cpu(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static uint32_t
one(const struct ixd_resolver *r, const struct ixd_record *rec)
{
    (void)r;
    (void)rec;
    return 1;
}

static void
put(uint8_t *p, uint64_t v, unsigned len)
{
    for (unsigned i = 0; i < len; i++) {
        p[i] = (uint8_t)(v >> (8 * (len - 1 - i)));
    }
}

static struct ixd_template *
make_template(void)
{
    uint8_t buf[4 + 15 * 4];
    struct ixd_template_rules rules = {NULL, 64, 0};
    struct ixd_template *t = NULL;
    uint16_t tid;
    size_t used;
    enum ixd_error why;

    put(buf, 256, 2);
    put(buf + 2, 15, 2);
    for (int i = 0; i < 15; i++) {
        put(buf + 4 + 4 * i, fields[i][0], 2);
        put(buf + 6 + 4 * i, fields[i][1], 2);
    }
    if (ixd_template_parse(buf, sizeof(buf), 0, &rules, &t, &tid, &used, &why) !=
        IXD_TPARSE_TEMPLATE) {
        fprintf(stderr, "cannot compile the template\n");
        exit(1);
    }
    return t;
}

/* One case: ns per record of write(), for `exporters` exporters taking turns. */
static double
run_case(struct ixd_lane *lane, struct ixd_source *srcs, unsigned exporters,
         struct ixd_record *recs, double seconds)
{
    uint64_t n = 0;
    double t0 = cpu(), t;
    unsigned e = 0;

    do {
        for (int k = 0; k < 1000; k++) {
            struct ixd_batch b = {&srcs[e], BATCH, recs};
            ixd_output_rrd.write(lane, &b);
            n += BATCH;
            e = e + 1 == exporters ? 0 : e + 1;
        }
        t = cpu();
    } while (t - t0 < seconds);
    /* the step's block is handed on as the worker's tick does it (every 100 ms) */
    ixd_output_rrd.flush(lane);
    return (t - t0) * 1e9 / (double)n;
}

static int
by_value(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return x < y ? -1 : x > y;
}

static struct ixd_output *
open_output(int interfaces, char *dir)
{
    struct ixd_rrd_settings *s = calloc(1, sizeof(*s));
    struct ixd_key_env env = {"bench", IXD_CONFIG_SYNTAX_ONLY, "output 'bench'"};
    struct ixd_cnode map = {.kind = IXD_CNODE_MAPPING, .line = 1, .column = 1};
    char err[512];
    struct ixd_output *o;

    if (ixd_keys_parse(ixd_output_rrd.m.keys, &map, s, &env, err, sizeof(err)) == -1) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    snprintf(s->directory, sizeof(s->directory), "%s", dir);
    s->interfaces = interfaces;
    s->health = 0;
    o = ixd_output_rrd.open(s, "bench", 1, err, sizeof(err));
    if (o == NULL) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    o->type = &ixd_output_rrd;
    o->settings = s;
    return o;
}

/* HOURS of a daily pattern up to now, written through the store as the writer would. */
static int
fill(const char *dir, double hours)
{
    struct ixd_rrd_settings s;
    struct ixd_key_env env = {"bench", IXD_CONFIG_SYNTAX_ONLY, "output 'bench'"};
    struct ixd_cnode map = {.kind = IXD_CNODE_MAPPING, .line = 1, .column = 1};
    struct ixd_rrd_key k;
    struct ixd_rrd_store *st;
    int64_t now = ixd_wall_usec() / 1000000, t;
    char err[512];

    memset(&s, 0, sizeof(s));
    if (ixd_keys_parse(ixd_output_rrd.m.keys, &map, &s, &env, err, sizeof(err)) == -1) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    snprintf(s.directory, sizeof(s.directory), "%s", dir);
    s.domains = s.health = 0;
    st = ixd_rrd_store_new(&s, "bench", 0, err, sizeof(err));
    if (st == NULL) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    memset(&k, 0, sizeof(k));
    k.kind = IXD_RRD_EXPORTER;
    snprintf(k.name, sizeof(k.name), "u");
    k.addr.s6_addr[10] = k.addr.s6_addr[11] = 0xff;
    k.addr.s6_addr[12] = 127;
    k.addr.s6_addr[15] = 1;
    now -= now % IXD_RRD_STEP;
    for (t = now - (int64_t)(hours * 3600); t < now; t += IXD_RRD_STEP) {
        double rate = 1000 + 700 * sin(2 * M_PI * (double)(t % 86400) / 86400.0);
        uint64_t v[3] = {(uint64_t)(rate * 10), (uint64_t)(rate * 100),
                         (uint64_t)(rate * 10 * 8000)};
        ixd_rrd_store_add(st, &k, t, v);
        ixd_rrd_store_round(st, t + IXD_RRD_STEP);
    }
    ixd_rrd_store_free(st, 0);
    return 0;
}

int
main(int argc, char **argv)
{
    double seconds;

    if (argc == 4 && strcmp(argv[1], "fill") == 0) {
        return fill(argv[2], atof(argv[3]));
    }
    seconds = argc > 1 ? atof(argv[1]) : 1.0;
    int runs = argc > 2 ? atoi(argv[2]) : 5;
    int only = argc > 3 ? atoi(argv[3]) : -1; /* one case (for a profiler) */
    static const struct {
        const char *name;
        unsigned exporters;
        int interfaces;
    } cases[] = {{"1 exporter", 1, 0},
                 {"1000 exporters", EXPORTERS, 0},
                 {"1 exporter, interfaces", 1, 1},
                 {"1000 exporters, interfaces", EXPORTERS, 1}};
    struct ixd_resolver res = {NULL, NULL, one};
    static struct ixd_source srcs[EXPORTERS];
    static uint8_t data[BATCH][RECLEN];
    struct ixd_record recs[BATCH];
    struct ixd_template *t = make_template();
    char dir[] = "/tmp/ixd-rrd-bench-XXXXXX";

    if (mkdtemp(dir) == NULL) {
        perror("mkdtemp");
        return 1;
    }
    for (int i = 0; i < BATCH; i++) {
        put(data[i], 0x0a000000u + (uint32_t)i, 4);      /* source */
        put(data[i] + 8, 40000 + (uint64_t)i, 2);        /* ports */
        put(data[i] + 16, 1 + (uint64_t)(i % 8), 4);     /* ingress interface */
        put(data[i] + 20, 9, 4);                         /* egress */
        put(data[i] + 24, 10 + (uint64_t)i, 8);          /* packets */
        put(data[i] + 32, 1500 * (10 + (uint64_t)i), 8); /* octets */
        recs[i] = (struct ixd_record){t, data[i], RECLEN, NULL, NULL};
    }
    for (unsigned e = 0; e < EXPORTERS; e++) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&srcs[e].exporter;
        sin->sin_family = AF_INET;
        sin->sin_addr.s_addr = htonl(0x0a800000u + e);
        srcs[e].collector = "u";
        srcs[e].odid = 1;
        srcs[e].resolver = &res;
        srcs[e].received_usec = ixd_wall_usec();
    }
    printf("# ns per record in write(), batches of %d, %d runs of %.1f s each: median "
           "(min..max)\n",
           BATCH, runs, seconds);
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        if (only >= 0 && (size_t)only != c) {
            continue;
        }
        struct ixd_output *o = open_output(cases[c].interfaces, dir);
        struct ixd_lane *lane = ixd_output_rrd.lane(o, 0);
        double v[64];
        for (int r = 0; r < runs && r < 64; r++) {
            int64_t now = ixd_wall_usec();
            for (unsigned e = 0; e < EXPORTERS; e++) {
                srcs[e].received_usec = now; /* the step under way */
            }
            v[r] = run_case(lane, srcs, cases[c].exporters, recs, seconds);
        }
        qsort(v, (size_t)runs, sizeof(v[0]), by_value);
        printf("%-28s %6.2f ns  (%.2f..%.2f)\n", cases[c].name, v[runs / 2], v[0], v[runs - 1]);
        ixd_output_rrd.close(o);
    }
    ixd_template_free(t);
    {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
        if (system(cmd) != 0) {
            fprintf(stderr, "could not remove %s\n", dir);
        }
    }
    return 0;
}
