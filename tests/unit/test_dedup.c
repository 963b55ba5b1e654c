/* The dedup stage (src/dedup/): its shared table on its own (verdicts, the window, the start
 * time tolerance, eviction at the bound, two threads on one table) and the stage in a pipeline
 * (the default and a configured key, start times of several kinds, a preferred exporter, two
 * workers' runs sharing one table, records that are no flows). */
#include <arpa/inet.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/config.h"
#include "dedup/dedup_table.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define SEC INT64_C(1000000)
#define WINDOW (60 * SEC)

static enum ixd_dedup_verdict
check(struct ixd_dedup_table *t, uint64_t hash, int64_t start, uint64_t exporter, uint8_t rank,
      int64_t now)
{
    struct ixd_dedup_flow f = {hash, start, exporter, rank};

    return ixd_dedup_table_check(t, &f, now, WINDOW, 1000);
}

static void
table_verdicts(void **state)
{
    struct ixd_dedup_table *t = ixd_dedup_table_new(4096);
    uint64_t entries, evictions, expired;

    (void)state;
    assert_non_null(t);
    assert_int_equal(check(t, 42, 5000, 1, 0, SEC), IXD_DEDUP_NEW);
    assert_int_equal(check(t, 42, 5000, 1, 0, SEC), IXD_DEDUP_SAME);
    assert_int_equal(check(t, 42, 5300, 2, 0, SEC), IXD_DEDUP_DUPLICATE);
    assert_int_equal(check(t, 43, 5000, 2, 0, SEC), IXD_DEDUP_NEW); /* another key */
    /* a preferred exporter's copy passes and wins: the first exporter's are dropped after it */
    assert_int_equal(check(t, 42, 5000, 3, 200, SEC), IXD_DEDUP_PREFERRED);
    assert_int_equal(check(t, 42, 5000, 1, 0, SEC), IXD_DEDUP_DUPLICATE);
    assert_int_equal(check(t, 42, 5000, 4, 100, SEC), IXD_DEDUP_DUPLICATE);
    assert_int_equal(check(t, 42, 5000, 3, 200, SEC), IXD_DEDUP_SAME);
    ixd_dedup_table_counts(t, &entries, &evictions, &expired);
    assert_int_equal(entries, 2);
    assert_int_equal(evictions, 0);
    assert_int_equal(expired, 0);
    ixd_dedup_table_free(t);
}

static void
table_window(void **state)
{
    struct ixd_dedup_table *t = ixd_dedup_table_new(4096);
    uint64_t entries, evictions, expired;

    (void)state;
    assert_int_equal(check(t, 7, 0, 1, 0, SEC), IXD_DEDUP_NEW);
    assert_int_equal(check(t, 7, 0, 2, 0, SEC + WINDOW - 1), IXD_DEDUP_DUPLICATE);
    /* a loser's copy does not keep the flow: the window runs from the winner's last copy */
    assert_int_equal(check(t, 7, 0, 2, 0, SEC + WINDOW), IXD_DEDUP_NEW);
    ixd_dedup_table_counts(t, &entries, &evictions, &expired);
    assert_int_equal(expired, 1);
    assert_int_equal(entries, 1);
    /* the winner's own copies do */
    assert_int_equal(check(t, 7, 0, 2, 0, SEC + 2 * WINDOW - 1), IXD_DEDUP_SAME);
    assert_int_equal(check(t, 7, 0, 1, 0, SEC + 3 * WINDOW - 2), IXD_DEDUP_DUPLICATE);
    ixd_dedup_table_free(t);
}

static void
table_tolerance(void **state)
{
    struct ixd_dedup_table *t = ixd_dedup_table_new(4096);

    (void)state;
    assert_int_equal(check(t, 9, 10000, 1, 0, SEC), IXD_DEDUP_NEW);
    assert_int_equal(check(t, 9, 11000, 2, 0, SEC), IXD_DEDUP_DUPLICATE);
    assert_int_equal(check(t, 9, 9000, 2, 0, SEC), IXD_DEDUP_DUPLICATE);
    /* beyond the tolerance: another flow of the same 5-tuple, with an entry of its own */
    assert_int_equal(check(t, 9, 11001, 2, 0, SEC), IXD_DEDUP_NEW);
    assert_int_equal(check(t, 9, 12000, 1, 0, SEC), IXD_DEDUP_DUPLICATE);
    assert_int_equal(check(t, 9, 8999, 2, 0, SEC), IXD_DEDUP_NEW);
    ixd_dedup_table_free(t);
}

static void
table_eviction(void **state)
{
    /* 64 entries: one per stripe; hashes with the same top bits share a stripe */
    struct ixd_dedup_table *t = ixd_dedup_table_new(64);
    uint64_t entries, evictions, expired, a = 1, b = 2, c = 3;

    (void)state;
    assert_int_equal(ixd_dedup_table_capacity(t), 64);
    assert_int_equal(check(t, a, 0, 1, 0, SEC), IXD_DEDUP_NEW);
    assert_int_equal(check(t, b, 0, 1, 0, SEC + 1), IXD_DEDUP_NEW);
    ixd_dedup_table_counts(t, &entries, &evictions, &expired);
    assert_int_equal(evictions, 1);
    assert_int_equal(entries, 1);
    /* a was forgotten: its copy from another exporter passes (and pushes b out) */
    assert_int_equal(check(t, a, 0, 2, 0, SEC + 2), IXD_DEDUP_NEW);
    assert_int_equal(check(t, c | UINT64_C(1) << 63, 0, 2, 0, SEC + 3), IXD_DEDUP_NEW);
    assert_int_equal(check(t, a, 0, 3, 0, SEC + 4), IXD_DEDUP_DUPLICATE); /* another stripe */
    ixd_dedup_table_counts(t, &entries, &evictions, &expired);
    assert_int_equal(evictions, 2);
    assert_int_equal(entries, 2);
    assert_int_equal(expired, 0);
    ixd_dedup_table_free(t);
}

#define FLOWS 200000

struct racer {
    struct ixd_dedup_table *t;
    uint64_t exporter;
    unsigned verdicts[4];
};

static void *
race(void *p)
{
    struct racer *r = p;

    for (uint64_t i = 0; i < FLOWS; i++) {
        uint64_t h = (i + 1) * 0x9e3779b97f4a7c15ull;
        r->verdicts[check(r->t, h, (int64_t)i, r->exporter, 0, SEC)]++;
    }
    return NULL;
}

static void
table_two_threads(void **state)
{
    struct ixd_dedup_table *t = ixd_dedup_table_new(2 * FLOWS);
    struct racer r[2] = {{t, 1, {0}}, {t, 2, {0}}};
    pthread_t th[2];

    (void)state;
    for (int i = 0; i < 2; i++) {
        assert_int_equal(pthread_create(&th[i], NULL, race, &r[i]), 0);
    }
    for (int i = 0; i < 2; i++) {
        pthread_join(th[i], NULL);
    }
    /* each flow passed once, whichever thread came first */
    assert_int_equal(r[0].verdicts[IXD_DEDUP_NEW] + r[1].verdicts[IXD_DEDUP_NEW], FLOWS);
    assert_int_equal(r[0].verdicts[IXD_DEDUP_DUPLICATE] + r[1].verdicts[IXD_DEDUP_DUPLICATE],
                     FLOWS);
    ixd_dedup_table_free(t);
}

/* The stage in a pipeline. */

struct fixture {
    struct ixd_ie_registry *reg;
    struct ixd_config *cfg;
    struct ixd_instances *in;
    struct ixd_pipeline_run *run[2];
    uint64_t out;
};

static void
start(struct fixture *fx, const char *stage)
{
    char text[1024], err[1024];

    memset(fx, 0, sizeof(*fx));
    fx->reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    assert_non_null(fx->reg);
    assert_int_equal(ixd_ie_registry_add_own(fx->reg, 32473), 0);
    snprintf(text, sizeof(text),
             "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
             "outputs: [{name: o, type: count}]\n"
             "pipelines:\n"
             "  - {name: p, from: a, to: o, stages: [dedup: %s]}\n",
             stage);
    fx->cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    if (fx->cfg == NULL) {
        fail_msg("%s", err);
    }
    fx->in = ixd_instances_conf(fx->cfg, fx->reg, 2, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (fx->in == NULL) {
        fail_msg("%s", err);
    }
    fx->run[0] = ixd_pipeline_start(&fx->in->pipelines[0], 0, NULL, 0);
    fx->run[1] = ixd_pipeline_start(&fx->in->pipelines[0], 1, NULL, 0);
    assert_non_null(fx->run[0]);
    assert_non_null(fx->run[1]);
}

static void
finish(struct fixture *fx)
{
    ixd_pipeline_stop(fx->run[0]);
    ixd_pipeline_stop(fx->run[1]);
    ixd_instances_free(fx->in);
    ixd_config_free(fx->cfg);
    ixd_ie_registry_free(fx->reg);
}

static struct ixd_template *
tmpl(struct fixture *fx, const uint16_t (*spec)[2], size_t n, uint16_t scopes)
{
    struct ixd_template_rules rules = {fx->reg, 512, 0};
    uint8_t buf[6 + 4 * 16];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used, i, h = scopes > 0 ? 6 : 4;
    uint16_t tid;

    ixd_put16(buf, 256);
    ixd_put16(buf + 2, (uint16_t)n);
    if (scopes > 0) {
        ixd_put16(buf + 4, scopes);
    }
    for (i = 0; i < n; i++) {
        ixd_put16(buf + h + 4 * i, spec[i][0]);
        ixd_put16(buf + h + 2 + 4 * i, spec[i][1]);
    }
    ixd_template_parse(buf, h + 4 * n, scopes > 0, &rules, &t, &tid, &used, &why);
    assert_non_null(t);
    return t;
}

/* Runs one record through worker w's run as exporter ip; 1 when it went out. */
static int
pass(struct fixture *fx, unsigned w, const char *ip, const struct ixd_template *t,
     const uint8_t *data, uint32_t len)
{
    struct ixd_source src = {.collector = "a", .odid = 1, .received_usec = 1700000000 * SEC};
    struct sockaddr_in *sin = (struct sockaddr_in *)&src.exporter;
    struct ixd_record r = {t, data, len, NULL, NULL};
    struct ixd_batch b = {&src, 1, &r};
    struct ixd_pipeline_counters c0 = {0}, c1 = {0};

    sin->sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sin->sin_addr);
    snprintf(src.exporter_text, sizeof(src.exporter_text), "%s", ip);
    ixd_pipeline_counters(fx->run[w], &c0);
    ixd_pipeline_process(fx->run[w], &b);
    ixd_pipeline_counters(fx->run[w], &c1);
    return (int)(c1.out - c0.out);
}

/* 5-tuple, flowStartMilliseconds */
static const uint16_t ms_spec[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {152, 8}};
/* 5-tuple, flowStartSeconds */
static const uint16_t sec_spec[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {150, 4}};

static void
flow_ms(uint8_t *p, uint8_t host, uint16_t sport, uint64_t start)
{
    memcpy(p, "\x0a\x00\x00", 3);
    p[3] = host;
    memcpy(p + 4, "\xc0\x00\x02\x01", 4);
    ixd_put16(p + 8, sport);
    ixd_put16(p + 10, 443);
    p[12] = 6;
    ixd_put64(p + 13, start);
}

static void
stage_default_key(void **state)
{
    struct fixture fx;
    struct ixd_template *ms, *sec;
    uint8_t a[21], b[21], c[17];

    (void)state;
    start(&fx, "{tolerance-ms: 1000}");
    ms = tmpl(&fx, ms_spec, 6, 0);
    sec = tmpl(&fx, sec_spec, 6, 0);
    flow_ms(a, 1, 1000, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 1);
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 1); /* the same exporter again */
    flow_ms(b, 1, 1000, UINT64_C(1700000000400));
    assert_int_equal(pass(&fx, 1, "192.0.2.2", ms, b, 21), 0); /* the other worker's copy */
    flow_ms(b, 1, 1001, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 1, "192.0.2.2", ms, b, 21), 1); /* another source port */
    flow_ms(b, 1, 1000, UINT64_C(1700000002000));
    assert_int_equal(pass(&fx, 1, "192.0.2.2", ms, b, 21), 1); /* started 2 s later */
    /* flowStartSeconds against flowStartMilliseconds: the same time, the same flow */
    memcpy(c, a, 13);
    ixd_put32(c + 13, 1700000000);
    assert_int_equal(pass(&fx, 0, "192.0.2.3", sec, c, 17), 0);
    ixd_template_free(ms);
    ixd_template_free(sec);
    finish(&fx);
}

static void
stage_configured_key(void **state)
{
    struct fixture fx;
    struct ixd_template *ms;
    uint8_t a[21];

    (void)state;
    start(&fx, "{key: [sourceIPv4Address, destinationIPv4Address]}");
    ms = tmpl(&fx, ms_spec, 6, 0);
    flow_ms(a, 1, 1000, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 1);
    flow_ms(a, 1, 2000, UINT64_C(1700000000000)); /* ports are not in this key */
    assert_int_equal(pass(&fx, 1, "192.0.2.2", ms, a, 21), 0);
    flow_ms(a, 2, 1000, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 1, "192.0.2.2", ms, a, 21), 1);
    ixd_template_free(ms);
    finish(&fx);
}

static uint64_t got_preferred, got_duplicates, got_unkeyed;

static void
collect(void *arg, const struct ixd_counter_def *def, const char *label, uint64_t v)
{
    (void)arg;
    (void)label;
    if (strcmp(def->key, "preferred") == 0) {
        got_preferred += v;
    } else if (strcmp(def->key, "duplicates") == 0) {
        got_duplicates += v;
    } else if (strcmp(def->key, "unkeyed") == 0) {
        got_unkeyed += v;
    }
}

static void
counters(struct fixture *fx)
{
    got_preferred = got_duplicates = got_unkeyed = 0;
    ixd_pipeline_stage_stats(fx->run[0], 0, collect, NULL);
    ixd_pipeline_stage_stats(fx->run[1], 0, collect, NULL);
}

static void
stage_preferred_exporter(void **state)
{
    struct fixture fx;
    struct ixd_template *ms;
    uint8_t a[21];

    (void)state;
    start(&fx, "{prefer-exporters: [198.51.100.0/24, 192.0.2.9]}");
    ms = tmpl(&fx, ms_spec, 6, 0);
    flow_ms(a, 1, 1000, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 1);    /* first seen: out */
    assert_int_equal(pass(&fx, 1, "192.0.2.9", ms, a, 21), 1);    /* preferred: out, wins */
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 0);    /* the first one's now drops */
    assert_int_equal(pass(&fx, 1, "198.51.100.7", ms, a, 21), 1); /* listed before: wins */
    assert_int_equal(pass(&fx, 0, "192.0.2.9", ms, a, 21), 0);
    flow_ms(a, 2, 1000, UINT64_C(1700000000000));
    assert_int_equal(pass(&fx, 1, "198.51.100.7", ms, a, 21), 1);
    assert_int_equal(pass(&fx, 0, "192.0.2.9", ms, a, 21), 0);
    assert_int_equal(pass(&fx, 0, "192.0.2.1", ms, a, 21), 0);
    counters(&fx);
    assert_int_equal(got_preferred, 2);
    assert_int_equal(got_duplicates, 4);
    ixd_template_free(ms);
    finish(&fx);
}

/* 5-tuple, flowStartMilliseconds, ingressInterfaceDescription (ipfixd's own, 8 bytes) */
static struct ixd_template *
role_template(struct fixture *fx)
{
    struct ixd_template_rules rules = {fx->reg, 512, 0};
    const struct ixd_ie *ie = ixd_ie_lookup_name(fx->reg, "ingressInterfaceDescription");
    uint8_t buf[4 + 4 * 6 + 8];
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    assert_non_null(ie);
    ixd_put16(buf, 256);
    ixd_put16(buf + 2, 7);
    for (size_t i = 0; i < 6; i++) {
        ixd_put16(buf + 4 + 4 * i, ms_spec[i][0]);
        ixd_put16(buf + 6 + 4 * i, ms_spec[i][1]);
    }
    ixd_put16(buf + 28, (uint16_t)(ie->id | 0x8000));
    ixd_put16(buf + 30, 8);
    ixd_put32(buf + 32, ie->pen);
    ixd_template_parse(buf, sizeof(buf), 0, &rules, &t, &tid, &used, &why);
    assert_non_null(t);
    return t;
}

static void
stage_preferred_interface(void **state)
{
    struct fixture fx;
    struct ixd_template *t;
    uint8_t a[29];

    (void)state;
    start(&fx, "{prefer-interfaces: [edge, transit], prefer-exporters: [192.0.2.1]}");
    t = role_template(&fx);
    flow_ms(a, 1, 1000, UINT64_C(1700000000000));
    memcpy(a + 21, "core-1\0\0", 8);
    assert_int_equal(pass(&fx, 0, "192.0.2.1", t, a, 29), 1); /* first seen */
    memcpy(a + 21, "xedge-7\0", 8);
    assert_int_equal(pass(&fx, 1, "192.0.2.2", t, a, 29), 1); /* its ingress is an edge */
    memcpy(a + 21, "core-1\0\0", 8);
    /* the preferred exporter's copy without the role loses to the edge's */
    assert_int_equal(pass(&fx, 0, "192.0.2.1", t, a, 29), 0);
    memcpy(a + 21, "transit1", 8);
    assert_int_equal(pass(&fx, 0, "192.0.2.3", t, a, 29), 0); /* both roles: the first wins */
    counters(&fx);
    assert_int_equal(got_preferred, 1);
    assert_int_equal(got_duplicates, 2);
    ixd_template_free(t);
    finish(&fx);
}

static void
stage_passes_what_is_no_flow(void **state)
{
    static const uint16_t counts[][2] = {{1, 8}, {2, 8}};
    static const uint16_t opts[][2] = {{10, 4}, {8, 4}};
    struct fixture fx;
    struct ixd_template *t, *o;
    uint8_t a[16] = {0}, b[8] = {10, 0, 0, 1, 1, 2, 3, 4};

    (void)state;
    start(&fx, "{}");
    t = tmpl(&fx, counts, 2, 0);
    o = tmpl(&fx, opts, 2, 1);
    assert_int_equal(pass(&fx, 0, "192.0.2.1", t, a, 16), 1);
    assert_int_equal(pass(&fx, 1, "192.0.2.2", t, a, 16), 1);
    assert_int_equal(pass(&fx, 0, "192.0.2.1", o, b, 8), 1);
    assert_int_equal(pass(&fx, 1, "192.0.2.2", o, b, 8), 1);
    counters(&fx);
    assert_int_equal(got_unkeyed, 4);
    assert_int_equal(got_duplicates, 0);
    ixd_template_free(t);
    ixd_template_free(o);
    finish(&fx);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(table_verdicts),
        cmocka_unit_test(table_window),
        cmocka_unit_test(table_tolerance),
        cmocka_unit_test(table_eviction),
        cmocka_unit_test(table_two_threads),
        cmocka_unit_test(stage_default_key),
        cmocka_unit_test(stage_configured_key),
        cmocka_unit_test(stage_preferred_exporter),
        cmocka_unit_test(stage_preferred_interface),
        cmocka_unit_test(stage_passes_what_is_no_flow),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
