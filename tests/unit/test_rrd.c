/*
 * The RRD output's parts driven with synthetic times: series names, a worker's lane (counts per
 * series and step, sampling), the store (rows in real files read back with librrd, late counts,
 * restarts, max-files) and the Holt-Winters alerts over simulated days.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <glib.h>

#include "core/board.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix_build.h"
#include "rrd/alerts.h"
#include "rrd/catalog.h"
#include "rrd/lane.h"
#include "rrd/rrdlib.h"
#include "rrd/store.h"

#define T0 1700000000LL /* a multiple of the step */

static char dir[64];
static struct ixd_rrd_settings cfg;

static void
defaults(void)
{
    memset(&cfg, 0, sizeof(cfg));
    snprintf(cfg.directory, sizeof(cfg.directory), "%s", dir);
    cfg.max_files = 100;
    cfg.domains = 1;
    cfg.health = 1;
    cfg.renormalise = 1;
    /* the documented defaults (docs/configuration.md, rrd) */
    cfg.hw = (struct ixd_rrd_hw){1, 0.005, 0.0005, 0.1, 86400, 14, 18, 2};
    cfg.silent_after = 300;
    cfg.sequence_loss = 0.01;
    cfg.clear_after = 300;
}

static int
setup(void **state)
{
    /* tmpfs when there is one: librrd drops what it wrote from the page cache after each
     * update, which on a disk makes simulated days take minutes */
    snprintf(dir, sizeof(dir), "%s/ixdrrd-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (mkdtemp(dir) == NULL) {
        return -1;
    }
    defaults();
    return 0;
}

static int
teardown(void **state)
{
    char cmd[128];

    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct ixd_rrd_key
exporter(const char *collector, const char *addr)
{
    struct ixd_rrd_key k;

    memset(&k, 0, sizeof(k));
    k.kind = IXD_RRD_EXPORTER;
    snprintf(k.name, sizeof(k.name), "%s", collector);
    assert_int_equal(ixd_rrd_key_parse_address(addr, &k.addr), 0);
    return k;
}

static struct ixd_rrd_key
domain_of(struct ixd_rrd_key k, uint32_t odid)
{
    k.kind = IXD_RRD_DOMAIN;
    k.num = odid;
    return k;
}

/* ---- names ---- */

static void
test_series_names(void **state)
{
    static const char *const good[] = {
        "exporter~u~192.0.2.1",
        "exporter~u~2001-db8--1",
        "domain~c.2~192.0.2.1~7",
        "interface~u~192.0.2.1~in~3",
        "interface~u~2001-db8--1~out~4294967295",
        "collector~u",
        "pipeline~p_1",
        "output~rrd",
    };
    static const char *const bad[] = {
        "exporter~u~192.0.2.01",      /* not as ipfixd writes it */
        "exporter~u~-ffff-192.0.2.1", /* a mapped address is written as IPv4 */
        "domain~u~192.0.2.1~07",
        "domain~u~192.0.2.1~4294967296",
        "domain~u~192.0.2.1",
        "interface~u~192.0.2.1~up~3",
        "exporter~u~not-an-address",
        "exporter~~192.0.2.1",
        "collector~u~x",
        "volume~u",
        "exporter~u v~192.0.2.1",
        "",
    };
    struct ixd_rrd_key k = exporter("u", "2001:db8::1"), p;
    char id[IXD_RRD_ID_MAX];

    assert_int_equal(ixd_rrd_key_id(&k, id, sizeof(id)), 0);
    assert_string_equal(id, "exporter~u~2001-db8--1");
    k = domain_of(exporter("u", "192.0.2.1"), 7);
    assert_int_equal(ixd_rrd_key_id(&k, id, sizeof(id)), 0);
    assert_string_equal(id, "domain~u~192.0.2.1~7");
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_int_equal(ixd_rrd_key_parse(good[i], &p), 0);
        assert_int_equal(ixd_rrd_key_id(&p, id, sizeof(id)), 0);
        assert_string_equal(id, good[i]);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (ixd_rrd_key_parse(bad[i], &p) == 0) {
            fail_msg("'%s' was taken for a series name", bad[i]);
        }
    }
}

/* ---- the lane ---- */

static struct ixd_template *
template_of(int options)
{
    static const uint16_t f[][2] = {{8, 4}, {1, 8}, {2, 4}, {10, 4}, {14, 4}};
    struct ixd_template_rules rules = {NULL, 64, 0};
    struct ixd_template *t = NULL;
    struct ib b;
    uint16_t tid;
    size_t used;
    enum ixd_error why;
    char err[256];

    rules.registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    ib_reset(&b);
    ib_u16(&b, (uint16_t)(options ? 300 : 256));
    ib_u16(&b, 5);
    if (options) {
        ib_u16(&b, 1);
    }
    for (size_t i = 0; i < 5; i++) {
        ib_u16(&b, f[i][0]);
        ib_u16(&b, f[i][1]);
    }
    assert_int_equal(ixd_template_parse(b.buf, b.len, options, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    ixd_ie_registry_free((struct ixd_ie_registry *)rules.registry);
    return t;
}

static uint32_t
one_in_100(const struct ixd_resolver *r, const struct ixd_record *rec)
{
    return 100;
}

struct rec_bytes {
    uint8_t b[24];
};

static void
record(struct rec_bytes *out, uint64_t octets, uint32_t packets, uint32_t in, uint32_t outif)
{
    struct ib b;

    ib_reset(&b);
    ib_u32(&b, 0x0a000001);
    ib_u64(&b, octets);
    ib_u32(&b, packets);
    ib_u32(&b, in);
    ib_u32(&b, outif);
    memcpy(out->b, b.buf, sizeof(out->b));
}

static const struct ixd_rrd_entry_counts *
entry(const struct ixd_rrd_block *b, const struct ixd_rrd_key *k)
{
    for (size_t i = 0; i < b->n; i++) {
        if (memcmp(&b->e[i].key, k, sizeof(*k)) == 0) {
            return &b->e[i];
        }
    }
    fail_msg("no entry for a series of kind %u", k->kind);
    return NULL;
}

/* Counts per exporter, domain and interface, packets and octets times the sampling rate;
 * options records add nothing; a record of the next step hands the block on. */
static void
test_lane(void **state)
{
    struct ixd_template *t = template_of(0), *opt = template_of(1);
    struct ixd_resolver res = {NULL, NULL, one_in_100};
    struct ixd_source src;
    struct rec_bytes rb[4];
    struct ixd_record recs[4];
    struct ixd_batch batch = {&src, 4, recs};
    struct ixd_rrd_lane l;
    struct ixd_rrd_block *done = NULL, *b;
    struct ixd_rrd_key k = exporter("u", "192.0.2.1"), ik;
    struct sockaddr_in *sin = (struct sockaddr_in *)&src.exporter;
    uint64_t lost = 0;

    memset(&src, 0, sizeof(src));
    src.collector = "u";
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0xc0000201);
    src.odid = 7;
    src.received_usec = (T0 + 3) * 1000000;
    src.resolver = &res;
    record(&rb[0], 1000, 1, 1, 5);
    record(&rb[1], 2000, 2, 1, 5);
    record(&rb[2], 3000, 3, 2, 5);
    record(&rb[3], 9999, 9, 9, 9);
    for (int i = 0; i < 4; i++) {
        recs[i] = (struct ixd_record){i < 3 ? t : opt, rb[i].b, 24, NULL, NULL};
    }
    assert_int_equal(ixd_rrd_lane_init(&l, 1, 1, 1), 0);
    assert_int_equal(ixd_rrd_lane_add(&l, &batch, &done, &lost), 0);
    assert_null(done);
    assert_null(ixd_rrd_lane_take(&l, T0)); /* its step is not over */
    src.received_usec = (T0 + 12) * 1000000;
    batch.count = 1;
    assert_int_equal(ixd_rrd_lane_add(&l, &batch, &done, &lost), 0);
    b = done;
    assert_non_null(b);
    assert_true(b->step == T0);
    assert_int_equal(b->records, 3);
    assert_int_equal(b->n, 2 + 3); /* exporter, domain, in 1, in 2, out 5 */
    assert_int_equal(entry(b, &k)->v[0], 3);
    assert_int_equal(entry(b, &k)->v[1], 600);
    assert_int_equal(entry(b, &k)->v[2], 600000);
    ik = domain_of(k, 7);
    assert_int_equal(entry(b, &ik)->v[2], 600000);
    ik = k;
    ik.kind = IXD_RRD_INTERFACE;
    ik.num = 1;
    assert_int_equal(entry(b, &ik)->v[0], 2);
    assert_int_equal(entry(b, &ik)->v[1], 300);
    ik.num = 2;
    assert_int_equal(entry(b, &ik)->v[2], 300000);
    ik.dir = 1;
    ik.num = 5;
    assert_int_equal(entry(b, &ik)->v[0], 3);
    free(b);
    /* the next step's block: the one record (renormalised), taken once its step is over */
    b = ixd_rrd_lane_take(&l, T0 + 20);
    assert_non_null(b);
    assert_true(b->step == T0 + 10);
    assert_int_equal(entry(b, &k)->v[1], 100);
    free(b);
    ixd_rrd_lane_release(&l);
    ixd_template_free(t);
    ixd_template_free(opt);
}

/*
 * A thousand exporters of one /16 taking turns, as behind a NAT-less campus core: after the
 * first round each is found again in the lane's cache, not in the block's index (the first
 * octets of an address, which all of them share, must not pick the cache line), and every
 * exporter's counts end up in its own entries.
 */
static void
test_lane_cache(void **state)
{
    struct ixd_template *t = template_of(0);
    struct ixd_source src;
    struct rec_bytes rb;
    struct ixd_record rec;
    struct ixd_batch batch = {&src, 1, &rec};
    struct ixd_rrd_lane l;
    struct ixd_rrd_block *done = NULL, *b;
    struct sockaddr_in *sin = (struct sockaddr_in *)&src.exporter;
    uint64_t lost = 0, first = 0;
    char addr[32];

    memset(&src, 0, sizeof(src));
    src.collector = "u";
    sin->sin_family = AF_INET;
    src.odid = 1;
    src.received_usec = (T0 + 3) * 1000000;
    record(&rb, 1000, 10, 1, 2);
    rec = (struct ixd_record){t, rb.b, 24, NULL, NULL};
    assert_int_equal(ixd_rrd_lane_init(&l, 1, 0, 0), 0);
    for (int round = 0; round < 3; round++) {
        for (uint32_t e = 0; e < 1000; e++) {
            sin->sin_addr.s_addr = htonl(0x0a800000u + e); /* 10.128.0.0 and on */
            assert_int_equal(ixd_rrd_lane_add(&l, &batch, &done, &lost), 0);
            assert_null(done);
        }
        if (round == 0) {
            first = l.ecache_misses;
            assert_int_equal(first, 1000);
        }
    }
    print_message("lookups past the cache: %llu in the first round, %llu in the next two\n",
                  (unsigned long long)first, (unsigned long long)(l.ecache_misses - first));
    assert_true(l.ecache_misses - first <= 2 * 100);
    b = ixd_rrd_lane_take(&l, T0 + 10);
    assert_non_null(b);
    assert_int_equal(b->n, 2 * 1000);
    assert_int_equal(b->records, 3 * 1000);
    for (uint32_t e = 0; e < 1000; e += 111) {
        struct ixd_rrd_key k;
        snprintf(addr, sizeof(addr), "10.128.%u.%u", e >> 8, e & 255);
        k = exporter("u", addr);
        assert_int_equal(entry(b, &k)->v[0], 3);
        assert_int_equal(entry(b, &k)->v[2], 3000);
        k = domain_of(k, 1);
        assert_int_equal(entry(b, &k)->v[1], 30);
    }
    free(b);
    ixd_rrd_lane_release(&l);
    ixd_template_free(t);
}

/* ---- the store ---- */

static void
add(struct ixd_rrd_store *st, const struct ixd_rrd_key *k, int64_t step, uint64_t flows,
    uint64_t packets, uint64_t octets)
{
    uint64_t v[3] = {flows, packets, octets};

    ixd_rrd_store_add(st, k, step, v);
}

static char *
path_of(const struct ixd_rrd_key *k)
{
    char id[IXD_RRD_ID_MAX];

    ixd_rrd_key_id(k, id, sizeof(id));
    return g_strdup_printf("%s/%s.rrd", dir, id);
}

/* The AVERAGE rows of k's file in (from, to]: n rows of three columns into v. */
static size_t
fetch(const struct ixd_rrd_key *k, int64_t from, int64_t to, double *v, size_t max)
{
    struct ixd_rrd_fetched f;
    char err[512], *path = path_of(k);
    size_t n;

    if (ixd_rrd_fetch(NULL, path, "AVERAGE", from, to, 10, &f, err, sizeof(err)) == -1) {
        fail_msg("%s", err);
    }
    g_free(path);
    assert_true(f.start == from && f.step == 10);
    n = ixd_rrd_fetched_rows(&f);
    assert_true(n <= max);
    memcpy(v, f.data, n * f.columns * sizeof(double));
    ixd_rrd_fetched_release(&f);
    return n;
}

static const struct ixd_rrd_catalog *
catalog(struct ixd_board_item **it)
{
    *it = ixd_board_get(IXD_RRD_SERIES_TOPIC, "t");
    assert_non_null(*it);
    return ixd_board_item_obj(*it);
}

/* Counts become rates in the file, step by step, a step without counts a zero. */
static void
test_rates_in_the_file(void **state)
{
    struct ixd_rrd_key a = exporter("u", "192.0.2.1"), d = domain_of(a, 1);
    struct ixd_rrd_store_stats s;
    struct ixd_rrd_store *st;
    struct ixd_board_item *it;
    char err[512];
    double v[12];

    st = ixd_rrd_store_new(&cfg, "t", 0, err, sizeof(err));
    assert_non_null(st);
    add(st, &a, T0, 5, 50, 5000);
    add(st, &d, T0, 5, 50, 5000);
    add(st, &a, T0 + 10, 10, 100, 10000);
    add(st, &a, T0 + 30, 1, 1, 1);
    assert_int_equal(ixd_rrd_store_round(st, T0 + 40), 8);
    assert_int_equal(fetch(&a, T0, T0 + 40, v, 4), 4);
    assert_true(v[0] == 0.5 && v[1] == 5 && v[2] == 500);
    assert_true(v[3] == 1 && v[4] == 10 && v[5] == 1000);
    assert_true(v[6] == 0 && v[7] == 0 && v[8] == 0);
    assert_true(v[9] == 0.1 && v[10] == 0.1 && v[11] == 0.1);
    assert_int_equal(fetch(&d, T0, T0 + 20, v, 2), 2);
    assert_true(v[2] == 500 && v[5] == 0); /* the domain had nothing after its first step */
    ixd_rrd_store_stats(st, &s);
    assert_int_equal(s.files_created, 2);
    assert_int_equal(s.rows, 8);
    assert_int_equal(s.rounds, 1);
    /* a round with nothing new writes nothing */
    assert_int_equal(ixd_rrd_store_round(st, T0 + 40), 0);
    const struct ixd_rrd_catalog *c = catalog(&it);
    assert_int_equal(c->n, 2);
    assert_string_equal(c->entries[0].id, "domain~u~192.0.2.1~1");
    assert_string_equal(c->entries[1].id, "exporter~u~192.0.2.1");
    assert_true(c->entries[1].hw && !c->entries[0].hw && c->entries[1].written);
    ixd_board_put(it);
    ixd_rrd_store_free(st, 0);
}

/* Counts of a step already written go to the next one, counted late; a restarted store knows
 * the files, marks the gap unknown and goes on. */
static void
test_late_counts_and_a_restart(void **state)
{
    struct ixd_rrd_key a = exporter("u", "192.0.2.1");
    struct ixd_rrd_store_stats s;
    struct ixd_rrd_store *st;
    struct ixd_board_item *it;
    char err[512];
    double v[24];

    cfg.domains = 0;
    st = ixd_rrd_store_new(&cfg, "t", 0, err, sizeof(err));
    assert_non_null(st);
    add(st, &a, T0, 10, 10, 10);
    ixd_rrd_store_round(st, T0 + 10);
    add(st, &a, T0 + 5, 20, 20, 20); /* received in a step written already */
    ixd_rrd_store_round(st, T0 + 20);
    ixd_rrd_store_stats(st, &s);
    assert_int_equal(s.late, 20);
    ixd_rrd_store_free(st, 0);

    st = ixd_rrd_store_new(&cfg, "t", 0, err, sizeof(err));
    assert_non_null(st);
    const struct ixd_rrd_catalog *c = catalog(&it);
    assert_int_equal(c->n, 1);
    assert_false(c->entries[0].written); /* known for its history until counts come */
    ixd_board_put(it);
    add(st, &a, T0 + 60, 30, 30, 30);
    assert_int_equal(ixd_rrd_store_round(st, T0 + 70), 2); /* the gap, then the step */
    assert_int_equal(fetch(&a, T0, T0 + 70, v, 7), 7);
    assert_true(v[0] == 1 && v[3] == 2);
    for (int i = 2; i < 6; i++) {
        assert_true(isnan(v[i * 3])); /* nothing is known of the restart's gap */
    }
    assert_true(v[18] == 3);
    ixd_rrd_store_free(st, 0);
}

/* max-files: the series past it get no file, each counted once. */
static void
test_max_files(void **state)
{
    struct ixd_rrd_key a = exporter("u", "192.0.2.1"), b = exporter("u", "192.0.2.2");
    struct ixd_rrd_key c = exporter("u", "192.0.2.3"), bd = domain_of(b, 1);
    struct ixd_rrd_store_stats s;
    struct ixd_rrd_store *st;
    char err[512], *p;

    cfg.max_files = 3;
    st = ixd_rrd_store_new(&cfg, "t", 0, err, sizeof(err));
    assert_non_null(st);
    add(st, &a, T0, 1, 1, 1);
    add(st, &b, T0, 1, 1, 1);
    add(st, &bd, T0, 1, 1, 1);
    add(st, &c, T0, 1, 1, 1);
    add(st, &c, T0 + 10, 1, 1, 1); /* refused again: counted once */
    ixd_rrd_store_round(st, T0 + 20);
    ixd_rrd_store_stats(st, &s);
    assert_int_equal(s.files_created, 3);
    assert_int_equal(s.files_refused, 1);
    assert_int_equal(s.series, 3);
    p = path_of(&c);
    assert_int_equal(access(p, F_OK), -1);
    g_free(p);
    p = path_of(&bd);
    assert_int_equal(access(p, F_OK), 0);
    g_free(p);
    ixd_rrd_store_free(st, 0);
}

/* ---- Holt-Winters ---- */

/* A deterministic stream: xorshift, and a normal variate from twelve uniform ones. */
static uint64_t rng = 88172645463325252ULL;

static double
uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

static double
normal(void)
{
    double s = 0;

    for (int i = 0; i < 12; i++) {
        s += uniform();
    }
    return s - 6;
}

/* Flows per second with a daily pattern: from 300 at night to 1700 in the afternoon. */
static double
daily(int64_t t)
{
    return 1000 + 700 * sin(2 * M_PI * (double)((t - T0) % 86400) / 86400.0);
}

static const struct ixd_rrd_alert_list *
alerts(struct ixd_board_item **it)
{
    *it = ixd_board_get(IXD_RRD_ALERTS_TOPIC, "t");
    assert_non_null(*it);
    return ixd_board_item_obj(*it);
}

#define DROP_AT (T0 + 3 * 86400 + 6 * 3600) /* day 4, 06:00 */
#define DROP_FOR 3600

/*
 * Three simulated days of a daily pattern with noise, then half a day more: exporter A's
 * traffic drops to a third for an hour on the fourth morning, B's does not. With the
 * documented parameters A raises one low-traffic alert, within minutes of the drop, which is
 * resolved after the level returns; B raises none.
 */
static void
test_holt_winters_drop(void **state)
{
    struct ixd_rrd_key a = exporter("u", "192.0.2.1"), b = exporter("u", "192.0.2.2");
    int64_t end = T0 + 3 * 86400 + 12 * 3600;
    const struct ixd_rrd_alert_list *l;
    struct ixd_board_item *it;
    struct ixd_rrd_store *st;
    char err[512];

    cfg.domains = 0;
    st = ixd_rrd_store_new(&cfg, "t", 0, err, sizeof(err));
    assert_non_null(st);
    for (int64_t t = T0; t < end; t += 10) {
        for (int which = 0; which < 2; which++) {
            double rate = daily(t);
            uint64_t flows;
            if (which == 0 && t >= DROP_AT && t < DROP_AT + DROP_FOR) {
                rate /= 3;
            }
            /* three times the spread of a Poisson count: traffic is burstier than that */
            flows = (uint64_t)fmax(0, rate * 10 + 3 * sqrt(rate * 10) * normal());
            add(st, which == 0 ? &a : &b, t, flows, flows * 10, flows * 8000);
        }
        ixd_rrd_store_round(st, t + 10);
    }
    l = alerts(&it);
    assert_int_equal(l->n, 1);
    {
        const struct ixd_rrd_alert *al = &l->alerts[0];
        print_message("low-traffic raised %lld s after the drop, resolved %lld s after the level "
                      "returned\n",
                      (long long)(al->since - DROP_AT),
                      (long long)(al->until - DROP_AT - DROP_FOR));
        assert_int_equal(al->kind, IXD_ALERT_LOW_TRAFFIC);
        assert_memory_equal(&al->exporter, &a, sizeof(a));
        assert_string_equal(al->address, "192.0.2.1");
        assert_string_equal(al->series, "exporter~u~192.0.2.1");
        assert_false(al->active);
        /* raised once failure-threshold steps of the window were below the band */
        assert_true(al->since >= DROP_AT + 14 * 10 && al->since <= DROP_AT + 10 * 60);
        /* resolved clear-after once the level is back (the window empties first) */
        assert_true(al->until >= DROP_AT + DROP_FOR + 300);
        assert_true(al->until <= DROP_AT + DROP_FOR + 300 + 18 * 10 + 60);
        assert_true(al->observed < al->lower && al->lower < al->expected);
        assert_true(al->expected > 2 * al->observed); /* a third of what was expected */
        assert_non_null(strstr(al->summary, "below the band"));
    }
    ixd_board_put(it);
    ixd_rrd_store_free(st, 0);
}

/* The webhook's body is Alertmanager's webhook format. */
static void
test_webhook_body(void **state)
{
    struct ixd_rrd_alert al;
    char *body;

    memset(&al, 0, sizeof(al));
    al.kind = IXD_ALERT_SILENT;
    al.active = 1;
    al.exporter = exporter("u", "192.0.2.9");
    snprintf(al.address, sizeof(al.address), "192.0.2.9");
    snprintf(al.series, sizeof(al.series), "exporter~u~192.0.2.9");
    snprintf(al.summary, sizeof(al.summary), "no records for 300 s");
    al.since = T0;
    body = ixd_rrd_alert_webhook_body(&al, "rrd");
    assert_non_null(body);
    assert_non_null(strstr(body, "\"version\":\"4\""));
    assert_non_null(strstr(body, "\"status\":\"firing\""));
    assert_non_null(strstr(body, "\"alertname\":\"IpfixdExporterSilent\""));
    assert_non_null(strstr(body, "\"startsAt\":\"2023-11-14T22:13:20Z\""));
    assert_non_null(strstr(body, "\"endsAt\":\"0001-01-01T00:00:00Z\""));
    free(body);
    al.active = 0;
    al.until = T0 + 600;
    body = ixd_rrd_alert_webhook_body(&al, "rrd");
    assert_non_null(strstr(body, "\"status\":\"resolved\""));
    assert_non_null(strstr(body, "\"endsAt\":\"2023-11-14T22:23:20Z\""));
    free(body);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_series_names),
        cmocka_unit_test(test_lane),
        cmocka_unit_test(test_lane_cache),
        cmocka_unit_test_setup_teardown(test_rates_in_the_file, setup, teardown),
        cmocka_unit_test_setup_teardown(test_late_counts_and_a_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_files, setup, teardown),
        cmocka_unit_test_setup_teardown(test_holt_winters_drop, setup, teardown),
        cmocka_unit_test(test_webhook_body),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
