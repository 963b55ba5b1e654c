/*
 * Top talkers: the space-saving summary's guarantees against exact counts of skewed streams,
 * the merge of several workers' slots, and the stage run through its type on real records.
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
#include <time.h>
#include <unistd.h>

#include "core/board.h"
#include "core/clock.h"
#include "core/cnode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix_build.h"
#include "pipeline/top.h"
#include "pipeline/topk.h"
#include "registry/registry.h"

static void
key_of(uint32_t v, uint8_t *key)
{
    memset(key, 0, IXD_TOPK_KEY);
    memcpy(key, &v, sizeof(v));
}

static uint64_t rng = 2463534242ULL;

static uint32_t
next(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (uint32_t)(rng >> 16);
}

/* An item of a skewed stream over 5000 items: log-uniform, so item i comes about 1 / (i + 1)
 * as often as item 0. */
static uint32_t
skewed(void)
{
    double u = (double)(next() % 1000000) / 1e6;

    return (uint32_t)exp(u * log(5000.0)) - 1;
}

/* Fewer items than counters: every count is exact. */
static void
test_exact_below_capacity(void **state)
{
    struct ixd_topk t;
    uint8_t k[IXD_TOPK_KEY];

    ixd_topk_init(&t, 64);
    for (uint32_t round = 0; round < 10; round++) {
        for (uint32_t i = 0; i < 50; i++) {
            key_of(i, k);
            assert_int_equal(ixd_topk_add(&t, k, i + 1), 0);
        }
    }
    for (uint32_t i = 0; i < 50; i++) {
        key_of(i, k);
        assert_non_null(ixd_topk_find(&t, k));
        assert_int_equal(ixd_topk_find(&t, k)->count, 10 * (i + 1));
        assert_int_equal(ixd_topk_find(&t, k)->error, 0);
    }
    assert_int_equal(ixd_topk_unseen(&t), 0);
    ixd_topk_release(&t);
}

/*
 * A skewed stream of weights over many more items than counters: every item heavier than
 * W / capacity has a counter, every counter is an upper bound whose error is at most W /
 * capacity and at least the true weight's distance to it.
 */
static void
test_bounds_on_a_skewed_stream(void **state)
{
    static uint64_t truth[5000];
    struct ixd_topk t;
    uint8_t k[IXD_TOPK_KEY];
    uint64_t w = 0;

    memset(truth, 0, sizeof(truth));
    ixd_topk_init(&t, 128);
    for (int n = 0; n < 200000; n++) {
        uint32_t i = skewed(), weight = 40 + next() % 1460;
        key_of(i, k);
        assert_int_equal(ixd_topk_add(&t, k, weight), 0);
        truth[i] += weight;
        w += weight;
    }
    assert_true(t.total == w);
    assert_int_equal(t.n, 128);
    for (uint32_t i = 0; i < 5000; i++) {
        const struct ixd_topk_counter *c;
        key_of(i, k);
        c = ixd_topk_find(&t, k);
        if (truth[i] > w / 128) {
            assert_non_null(c);
        }
        if (c != NULL) {
            assert_true(c->count >= truth[i]);
            assert_true(c->count - c->error <= truth[i]);
            assert_true(c->error <= w / 128);
        } else {
            assert_true(truth[i] <= ixd_topk_unseen(&t));
        }
    }
    ixd_topk_release(&t);
}

/* Two workers' windows of two slots each, merged: bounds hold, the window picks the slots. */
static void
test_merge(void **state)
{
    struct ixd_top_slot *s[4];
    struct ixd_top_window w[2];
    const struct ixd_top_window *wp[2] = {&w[0], &w[1]};
    struct ixd_top_answer a;
    struct ixd_top_query q;
    uint8_t k[IXD_TOPK_KEY];
    struct in6_addr addr;

    memset(w, 0, sizeof(w));
    memset(&addr, 0, sizeof(addr));
    addr.s6_addr[10] = addr.s6_addr[11] = 0xff;
    addr.s6_addr[15] = 1;
    for (int i = 0; i < 4; i++) {
        s[i] = calloc(1, sizeof(*s[i]));
        s[i]->refs = 1;
        s[i]->start = 1000 + 60 * (i / 2);
        s[i]->end = s[i]->start + 60;
        s[i]->dims = 1u << IXD_TOP_DST_PORT;
        s[i]->n = 1;
        s[i]->exp = calloc(1, sizeof(*s[i]->exp));
        snprintf(s[i]->exp->collector, sizeof(s[i]->exp->collector), "u");
        s[i]->exp->addr = addr;
        ixd_topk_init(&s[i]->exp->sum[IXD_TOP_DST_PORT][IXD_TOP_OCTETS], 8);
        for (uint32_t port = 1; port <= 4; port++) {
            key_of(port, k);
            ixd_topk_add(&s[i]->exp->sum[IXD_TOP_DST_PORT][IXD_TOP_OCTETS], k,
                         port * 100 + (uint32_t)i);
        }
        w[i % 2].slot[w[i % 2].n++] = s[i];
        w[i % 2].window_seconds = 120;
        w[i % 2].slot_seconds = 60;
    }
    memset(&q, 0, sizeof(q));
    q.dim = IXD_TOP_DST_PORT;
    q.metric = IXD_TOP_OCTETS;
    q.seconds = 120;
    q.limit = 2;
    q.addr = &addr;
    assert_int_equal(ixd_top_merge(wp, 2, &q, &a), 0);
    assert_int_equal(a.n, 2);
    assert_true(a.from == 1000 && a.to == 1120);
    assert_true(a.total == 4 * (100 + 200 + 300 + 400) + 4 * (0 + 1 + 2 + 3));
    key_of(4, k);
    assert_memory_equal(a.items[0].key, k, IXD_TOPK_KEY);
    assert_true(a.items[0].upper == 4 * 400 + 6 && a.items[0].lower == a.items[0].upper);
    ixd_top_answer_release(&a);
    q.seconds = 60; /* the latest slots only */
    assert_int_equal(ixd_top_merge(wp, 2, &q, &a), 0);
    assert_true(a.from == 1060 && a.items[0].upper == 2 * 400 + 2 + 3);
    ixd_top_answer_release(&a);
    memset(&addr, 0, sizeof(addr)); /* another exporter: nothing */
    assert_int_equal(ixd_top_merge(wp, 2, &q, &a), 0);
    assert_int_equal(a.n, 0);
    ixd_top_answer_release(&a);
    for (int i = 0; i < 4; i++) {
        ixd_top_slot_unref(s[i]);
    }
}

/* ---- the stage ---- */

static struct ixd_cnode *
mapping(const char *const *kv, size_t n)
{
    struct ixd_cnode *m = calloc(1, sizeof(*m));

    m->kind = IXD_CNODE_MAPPING;
    m->line = m->column = 1;
    m->n = n;
    m->items = calloc(2 * n, sizeof(*m->items));
    for (size_t i = 0; i < 2 * n; i++) {
        m->items[i].kind = IXD_CNODE_SCALAR;
        m->items[i].line = 1;
        m->items[i].column = 1;
        m->items[i].text = strdup(kv[i]);
    }
    return m;
}

static void
mapping_free(struct ixd_cnode *m)
{
    ixd_cnode_release(m);
    free(m);
}

/* Mistakes in the settings are refused where they are written. */
static void
test_stage_settings(void **state)
{
    const struct ixd_stage_type *t = ixd_stage_type_named("top-talkers");
    struct ixd_stage_env env = {.file = "c.yaml", .workers = 1, .pipeline = "p"};
    const char *bad_key[] = {"colour", "red"}, *bad_slots[] = {"window", "1h", "slot", "10s"};
    struct ixd_cnode *m;
    char err[512];

    assert_non_null(t);
    m = mapping(bad_key, 1);
    assert_null(t->conf(m, &env, err, sizeof(err)));
    assert_non_null(strstr(err, "c.yaml:1:1: unknown key 'colour'"));
    mapping_free(m);
    m = mapping(bad_slots, 2);
    assert_null(t->conf(m, &env, err, sizeof(err)));
    assert_non_null(strstr(err, "at most 60 slots"));
    mapping_free(m);
}

static struct ixd_template *
flow_template(void)
{
    static const uint16_t f[][2] = {{8, 4}, {12, 4}, {7, 2}, {11, 2}, {4, 1}, {1, 8}, {2, 4}};
    struct ixd_template_rules rules = {NULL, 64, 0};
    struct ixd_template *t = NULL;
    struct ib b;
    uint16_t tid;
    size_t used;
    enum ixd_error why;

    ib_reset(&b);
    ib_u16(&b, 256);
    ib_u16(&b, 7);
    for (size_t i = 0; i < 7; i++) {
        ib_u16(&b, f[i][0]);
        ib_u16(&b, f[i][1]);
    }
    assert_int_equal(ixd_template_parse(b.buf, b.len, 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

/*
 * Records through the stage's process(); once its slot has ended, its tick posts the window:
 * the heaviest destination addresses and ports of the exporter, by octets and by packets.
 */
static void
test_stage_counts_and_posts(void **state)
{
    const struct ixd_stage_type *t = ixd_stage_type_named("top-talkers");
    struct ixd_stage_env env = {.file = "c.yaml", .workers = 1, .pipeline = "p"};
    const char *kv[] = {"name", "t1", "slot", "1s", "window", "10s", "capacity", "16"};
    struct ixd_cnode *m = mapping(kv, 4);
    struct ixd_template *tmpl = flow_template();
    struct ixd_source src;
    uint8_t bytes[64][25];
    struct ixd_record recs[64];
    struct ixd_batch batch = {&src, 64, recs};
    struct sockaddr_in *sin = (struct sockaddr_in *)&src.exporter;
    struct ixd_board_item *it;
    const struct ixd_top_window *w;
    struct ixd_top_answer a;
    struct ixd_top_query q;
    void *conf, *st;
    char err[512], text[64];

    conf = t->conf(m, &env, err, sizeof(err));
    assert_non_null(conf);
    st = t->start(conf, 0, NULL);
    assert_non_null(st);
    memset(&src, 0, sizeof(src));
    src.collector = "u";
    sin->sin_family = AF_INET;
    sin->sin_addr.s_addr = htonl(0xc0000201);
    for (int i = 0; i < 64; i++) {
        struct ib b;
        /* destination 10.0.0.(i % 4): .3 gets the most octets, .0 the most packets */
        ib_reset(&b);
        ib_u32(&b, 0x0a010000 + (uint32_t)i);
        ib_u32(&b, 0x0a000000 + (uint32_t)(i % 4));
        ib_u16(&b, 40000);
        ib_u16(&b, (uint16_t)(i % 4 == 3 ? 443 : 53));
        ib_u8(&b, 6);
        ib_u64(&b, (uint64_t)(i % 4 + 1) * 1000);
        ib_u32(&b, (uint32_t)(i % 4 == 0 ? 100 : 1));
        memcpy(bytes[i], b.buf, 25);
        recs[i] = (struct ixd_record){tmpl, bytes[i], 25, NULL, NULL};
    }
    t->process(st, &batch);
    assert_int_equal(batch.count, 64); /* records pass */
    /* the slot ends at the next whole second */
    {
        int64_t now = ixd_wall_usec();
        usleep((useconds_t)(1000000 - now % 1000000 + 20000));
    }
    t->tick(st, ixd_mono_now());
    it = ixd_board_get(IXD_TOP_TOPIC, "t1");
    assert_non_null(it);
    w = ixd_board_item_obj(it);
    assert_int_equal(w->n, 1);
    memset(&q, 0, sizeof(q));
    q.dim = IXD_TOP_DST_ADDR;
    q.metric = IXD_TOP_OCTETS;
    q.seconds = 10;
    q.limit = 2;
    assert_int_equal(ixd_top_merge(&w, 1, &q, &a), 0);
    assert_int_equal(a.n, 2);
    ixd_top_key_text(IXD_TOP_DST_ADDR, a.items[0].key, text, sizeof(text));
    assert_string_equal(text, "10.0.0.3");
    assert_true(a.items[0].upper == 16 * 4000 && a.items[0].lower == a.items[0].upper);
    ixd_top_answer_release(&a);
    q.metric = IXD_TOP_PACKETS;
    assert_int_equal(ixd_top_merge(&w, 1, &q, &a), 0);
    ixd_top_key_text(IXD_TOP_DST_ADDR, a.items[0].key, text, sizeof(text));
    assert_string_equal(text, "10.0.0.0");
    assert_true(a.items[0].upper == 16 * 100);
    ixd_top_answer_release(&a);
    q.dim = IXD_TOP_DST_PORT;
    q.metric = IXD_TOP_OCTETS;
    assert_int_equal(ixd_top_merge(&w, 1, &q, &a), 0);
    ixd_top_key_text(IXD_TOP_DST_PORT, a.items[0].key, text, sizeof(text));
    assert_string_equal(text, "53"); /* 3 x 16 records of 1000, 2000 and 3000 octets */
    assert_true(a.items[0].upper == 16 * 6000);
    ixd_top_answer_release(&a);
    ixd_board_put(it);
    t->stop(st);
    assert_null(ixd_board_get(IXD_TOP_TOPIC, "t1")); /* withdrawn with the stage */
    t->conf_free(conf);
    ixd_template_free(tmpl);
    mapping_free(m);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exact_below_capacity),
        cmocka_unit_test(test_bounds_on_a_skewed_stream),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_stage_settings),
        cmocka_unit_test(test_stage_counts_and_posts),
    };

    return cmocka_run_group_tests(tests, NULL, NULL);
}
