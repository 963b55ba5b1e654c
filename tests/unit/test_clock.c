/* The clock offset estimator (src/ipfix/clock_offset.c) against queueing delays, an empty
 * window and a stepped clock; the clock stage (src/pipeline/stage_clock.c) through its stage
 * type: times of every unit moved by the offset, boot-relative times through the source, absurd
 * times counted and fixed, its settings refused with their position. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/cnode.h"
#include "ipfix/clock_offset.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "ipfixd/stage.h"

extern const struct ixd_stage_type ixd_stage_clock;

#define T0 1800000000000000LL /* our clock, UNIX usec */
#define SEC 1000000LL
#define NTP_UNIX 2208988800LL

/* ---- the estimator ---- */

/* A message exported at exporter time `exporter_usec` (truncated to its second, as headers
 * carry it), received at `received`. */
static void
measure(struct ixd_clock_offset *o, int64_t exporter_usec, int64_t received)
{
    ixd_clock_offset_add(o, (uint32_t)(exporter_usec / SEC), received);
}

static void
queueing_delay_does_not_move_it(void **state)
{
    struct ixd_clock_offset o = {0};
    int64_t off = 90 * SEC, got;
    unsigned seed = 7;

    (void)state;
    assert_int_equal(ixd_clock_offset_get(&o, T0, &got), -1);
    /* 2,000 messages over 100 s, each sent at a moment of its own in the second, most queued
     * 0 to 2 s, every tenth not at all */
    for (int i = 0; i < 2000; i++) {
        int64_t sent = T0 + i * 50000 + (int64_t)(rand_r(&seed) % 1000);
        int64_t delay = i % 10 == 0 ? 0 : (int64_t)(rand_r(&seed) % 2000000);
        measure(&o, sent + off, sent + delay);
    }
    assert_int_equal(ixd_clock_offset_get(&o, T0 + 100 * SEC, &got), 0);
    assert_true(o.known);
    assert_int_equal(o.samples, 2000);
    /* a lower bound, within what the truncation to seconds leaves (messages every 50 ms) */
    assert_true(got <= off);
    assert_true(got >= off - 60000);
    assert_int_equal(o.offset_usec, got);
}

static void
a_mean_would_not_do(void **state)
{
    /* the same exporter with half its messages queued 3 s: the estimate stays where the
     * unqueued ones put it */
    struct ixd_clock_offset o = {0};
    int64_t got;

    (void)state;
    for (int i = 0; i < 100; i++) {
        int64_t sent = T0 + i * 333333;
        measure(&o, sent - 5 * SEC, sent + (i % 2 ? 3 * SEC : 0)); /* 5 s slow */
    }
    assert_int_equal(ixd_clock_offset_get(&o, T0 + 40 * SEC, &got), 0);
    assert_true(got <= -5 * SEC && got >= -5 * SEC - 400000);
}

static void
window_follows_a_stepped_clock(void **state)
{
    struct ixd_clock_offset o = {0};
    int64_t got, t;

    (void)state;
    for (t = T0; t < T0 + 60 * SEC; t += 100000) {
        measure(&o, t + 30 * SEC, t);
    }
    assert_int_equal(ixd_clock_offset_get(&o, t, &got), 0);
    assert_true(got > 29 * SEC && got <= 30 * SEC);
    /* NTP sets the exporter right: within the window the old, larger values still count */
    for (; t < T0 + 120 * SEC; t += 100000) {
        measure(&o, t, t);
    }
    assert_int_equal(ixd_clock_offset_get(&o, t, &got), 0);
    assert_true(got > 29 * SEC);
    /* past the window (8 x 15 s) they are gone */
    for (; t < T0 + 60 * SEC + IXD_CLOCK_BUCKETS * IXD_CLOCK_BUCKET_USEC + 2 * SEC; t += 100000) {
        measure(&o, t, t);
    }
    assert_int_equal(ixd_clock_offset_get(&o, t, &got), 0);
    assert_true(got > -SEC && got <= 0);
    assert_int_equal(o.offset_usec, got);
    /* nothing heard for the length of the window: no estimate */
    assert_int_equal(ixd_clock_offset_get(&o, t + IXD_CLOCK_BUCKETS * IXD_CLOCK_BUCKET_USEC, &got),
                     -1);
}

static void
unset_export_time_is_ignored(void **state)
{
    struct ixd_clock_offset o = {0};
    int64_t got;

    (void)state;
    ixd_clock_offset_add(&o, 0, T0);
    assert_int_equal(o.samples, 0);
    assert_false(o.known);
    assert_int_equal(ixd_clock_offset_get(&o, T0, &got), -1);
}

/* ---- the stage ---- */

static struct ixd_ie_registry *reg;
static struct ixd_template *tmpl, *uptime_tmpl;
static char err[512];
static struct ixd_stage_env env = {.file = "c.yaml"};

/* sourceIPv4Address, flowStartSeconds, flowEndMilliseconds, flowStartMicroseconds,
 * flowEndNanoseconds, octetDeltaCount: 4 + 4 + 8 + 8 + 8 + 8 = 40 bytes */
static const uint8_t spec[] = {1, 0, 0, 6,   0, 8, 0, 4,   0, 150, 0, 4, 0, 153,
                               0, 8, 0, 154, 0, 8, 0, 157, 0, 8,   0, 1, 0, 8};
/* flowStartSysUpTime, flowEndSysUpTime, octetDeltaCount: 16 bytes */
static const uint8_t uptime_spec[] = {1, 1, 0, 3, 0, 22, 0, 4, 0, 21, 0, 4, 0, 1, 0, 8};

static int
setup(void **state)
{
    struct ixd_template_rules rules;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    (void)state;
    reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    assert_non_null(reg);
    rules = (struct ixd_template_rules){reg, 512, 0};
    env.registry = reg;
    assert_int_equal(ixd_template_parse(spec, sizeof(spec), 0, &rules, &tmpl, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_parse(uptime_spec, sizeof(uptime_spec), 0, &rules, &uptime_tmpl,
                                        &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return 0;
}

static int
teardown(void **state)
{
    (void)state;
    ixd_template_free(tmpl);
    ixd_template_free(uptime_tmpl);
    ixd_ie_registry_free(reg);
    return 0;
}

static uint64_t
ntp(int64_t usec)
{
    int64_t sec = usec / SEC;
    return ((uint64_t)(sec + NTP_UNIX) << 32) | ((uint64_t)(usec - sec * SEC) << 32) / 1000000;
}

static int64_t
ntp_usec(const uint8_t *p)
{
    uint64_t v = ixd_get64(p);
    return ((int64_t)(v >> 32) - NTP_UNIX) * SEC + (int64_t)(((v & 0xffffffffu) * 1000000) >> 32);
}

/* A record of a flow from start to end (the exporter's clock, usec). */
static void
make_record(uint8_t *r, int64_t start, int64_t end)
{
    memcpy(r, "\x0a\x00\x00\x01", 4);
    ixd_put32(r + 4, (uint32_t)(start / SEC));
    ixd_put64(r + 8, (uint64_t)(end / 1000));
    ixd_put64(r + 16, ntp(start));
    ixd_put64(r + 24, ntp(end));
    ixd_put64(r + 32, 1500);
}

struct counts {
    uint64_t corrected, unmeasured, future, before_boot, fixed;
};

static void
count_cb(void *arg, const struct ixd_counter_def *def, const char *label, uint64_t v)
{
    struct counts *c = arg;

    (void)label;
    if (strcmp(def->key, "corrected") == 0) {
        c->corrected = v;
    } else if (strcmp(def->key, "unmeasured") == 0) {
        c->unmeasured = v;
    } else if (strcmp(def->key, "future") == 0) {
        c->future = v;
    } else if (strcmp(def->key, "before_boot") == 0) {
        c->before_boot = v;
    } else if (strcmp(def->key, "fixed") == 0) {
        c->fixed = v;
    }
}

static struct ixd_cnode
scalar(const char *text, unsigned line, unsigned column)
{
    struct ixd_cnode n = {.kind = IXD_CNODE_SCALAR, .line = line, .column = column};

    n.text = strdup(text);
    assert_non_null(n.text);
    return n;
}

/* {k: v} on line 5, the value at column 20 */
static void *
conf_with(const char *k, const char *v)
{
    struct ixd_cnode m = {.kind = IXD_CNODE_MAPPING, .line = 5, .column = 9, .n = 1};
    void *c;

    m.items = calloc(2, sizeof(*m.items));
    assert_non_null(m.items);
    m.items[0] = scalar(k, 5, 10);
    m.items[1] = scalar(v, 5, 20);
    err[0] = '\0';
    c = ixd_stage_clock.conf(&m, &env, err, sizeof(err));
    ixd_cnode_release(&m);
    return c;
}

static void
moves_every_time_by_the_offset(void **state)
{
    void *conf = conf_with("absurd", "keep");
    void *st;
    int64_t off = 90 * SEC + 250000, received = T0;
    int64_t start = received - 20 * SEC, end = received - 2 * SEC; /* true times */
    uint8_t data[2][40], before[40];
    struct ixd_record recs[2];
    struct ixd_source src = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct ixd_batch batch = {&src, 2, recs};
    struct counts c = {0};

    (void)state;
    assert_non_null(conf);
    st = ixd_stage_clock.start(conf, 0, NULL);
    assert_non_null(st);
    make_record(data[0], start + off, end + off);
    make_record(data[1], start + off - SEC, end + off - SEC);
    memcpy(before, data[0], sizeof(before));
    for (int i = 0; i < 2; i++) {
        recs[i] = (struct ixd_record){tmpl, data[i], 40, NULL, NULL};
    }
    src.received_usec = received;
    src.export_time = (uint32_t)((received + off) / SEC);
    src.clock_known = 1;
    src.clock_offset_usec = off;
    ixd_stage_clock.process(st, &batch);

    assert_int_equal(batch.count, 2);
    /* the decoder's bytes are not touched: the stage wrote its own copy */
    assert_memory_equal(data[0], before, sizeof(before));
    assert_ptr_not_equal(recs[0].data, data[0]);
    /* seconds to the nearest second, milliseconds to the millisecond, NTP to the usec */
    assert_int_equal(ixd_get32(recs[0].data + 4), (uint32_t)(start / SEC));
    assert_int_equal(ixd_get64(recs[0].data + 8), (uint64_t)(end / 1000));
    assert_true(llabs(ntp_usec(recs[0].data + 16) - start) <= 1);
    assert_true(llabs(ntp_usec(recs[0].data + 24) - end) <= 1);
    assert_int_equal(ixd_get64(recs[1].data + 8), (uint64_t)((end - SEC) / 1000));
    /* microseconds keep the low 11 bits of the fraction 0 (RFC 7011 6.1.9) */
    assert_int_equal(ixd_get64(recs[0].data + 16) & 0x7ff, 0);
    assert_int_equal(ixd_get64(recs[0].data + 32), 1500);
    /* the batch's source has our export time, and no offset left for a second stage */
    assert_ptr_not_equal(batch.source, &src);
    assert_int_equal(batch.source->export_time, (uint32_t)(received / SEC));
    assert_int_equal(batch.source->clock_offset_usec, 0);
    ixd_stage_clock.stats(st, count_cb, &c);
    assert_int_equal(c.corrected, 2);
    assert_int_equal(c.future + c.before_boot + c.fixed + c.unmeasured, 0);
    ixd_stage_clock.stop(st);
    ixd_stage_clock.conf_free(conf);
}

static void
small_or_unknown_offsets_change_nothing(void **state)
{
    void *conf = conf_with("min-offset", "2");
    void *st = ixd_stage_clock.start(conf, 0, NULL);
    uint8_t data[40];
    struct ixd_record rec;
    struct ixd_source src = {.received_usec = T0, .clock_known = 1};
    struct ixd_batch batch = {&src, 1, &rec};
    struct counts c = {0};

    (void)state;
    make_record(data, T0 - 10 * SEC, T0 - SEC);
    rec = (struct ixd_record){tmpl, data, 40, NULL, NULL};
    src.clock_offset_usec = -1900000; /* 1.9 s slow: below min-offset */
    ixd_stage_clock.process(st, &batch);
    assert_ptr_equal(rec.data, data);
    src.clock_known = 0;
    src.clock_offset_usec = 50 * SEC; /* not an estimate */
    batch.source = &src;
    ixd_stage_clock.process(st, &batch);
    assert_ptr_equal(rec.data, data);
    ixd_stage_clock.stats(st, count_cb, &c);
    assert_int_equal(c.corrected, 0);
    assert_int_equal(c.unmeasured, 1);
    ixd_stage_clock.stop(st);
    ixd_stage_clock.conf_free(conf);
}

static void
absurd_times_counted_and_fixed(void **state)
{
    void *conf = conf_with("absurd", "receive-time");
    void *st = ixd_stage_clock.start(conf, 0, NULL);
    int64_t off = 90 * SEC;
    uint8_t data[3][40];
    struct ixd_record recs[3];
    struct ixd_source src = {.received_usec = T0, .clock_known = 1, .clock_offset_usec = off};
    struct ixd_batch batch = {&src, 3, recs};
    struct counts c = {0};

    (void)state;
    make_record(data[0], T0 + off - 5 * SEC, T0 + off + 3600 * SEC); /* ends in an hour */
    make_record(data[1], T0 + off - 5 * SEC, T0 + off + 8 * SEC);    /* within the tolerance */
    make_record(data[2], T0 + off - 5 * SEC, T0 + off - SEC);
    for (int i = 0; i < 3; i++) {
        recs[i] = (struct ixd_record){tmpl, data[i], 40, NULL, NULL};
    }
    ixd_stage_clock.process(st, &batch);
    /* every time of the absurd record is its receive time */
    assert_int_equal(ixd_get32(recs[0].data + 4), (uint32_t)(T0 / SEC));
    assert_int_equal(ixd_get64(recs[0].data + 8), (uint64_t)(T0 / 1000));
    assert_true(llabs(ntp_usec(recs[0].data + 16) - T0) <= 1);
    assert_true(llabs(ntp_usec(recs[0].data + 24) - T0) <= 1);
    assert_int_equal(ixd_get64(recs[1].data + 8), (uint64_t)((T0 + 8 * SEC) / 1000));
    assert_int_equal(ixd_get64(recs[2].data + 8), (uint64_t)((T0 - SEC) / 1000));
    ixd_stage_clock.stats(st, count_cb, &c);
    assert_int_equal(c.future, 1);
    assert_int_equal(c.fixed, 1);
    assert_int_equal(c.corrected, 2);
    ixd_stage_clock.stop(st);
    ixd_stage_clock.conf_free(conf);
}

static void
boot_relative_times_and_before_boot(void **state)
{
    void *conf = conf_with("absurd", "keep");
    void *st = ixd_stage_clock.start(conf, 0, NULL);
    int64_t off = -30 * SEC, boot_ms = (T0 + off) / 1000 - 3600000; /* booted an hour ago */
    uint8_t up[16], dt[40];
    struct ixd_record rec;
    struct ixd_source src = {.received_usec = T0, .clock_known = 1, .clock_offset_usec = off};
    struct ixd_batch batch = {&src, 1, &rec};
    struct counts c = {0};

    (void)state;
    src.system_init_ms = boot_ms;
    ixd_put32(up, 3600000 - 5000);
    ixd_put32(up + 4, 3600000 - 1000);
    ixd_put64(up + 8, 7);
    rec = (struct ixd_record){uptime_tmpl, up, 16, NULL, NULL};
    ixd_stage_clock.process(st, &batch);
    /* the bytes stay; the source's boot time moves, and with it what outputs make of them */
    assert_ptr_equal(rec.data, up);
    assert_int_equal(batch.source->system_init_ms, boot_ms + 30000);
    assert_int_equal(batch.source->system_init_ms + 3600000 - 1000, T0 / 1000 - 1000);
    /* a dateTime before the exporter booted */
    batch.source = &src;
    make_record(dt, (boot_ms - 60000) * 1000, T0 + off - SEC);
    rec = (struct ixd_record){tmpl, dt, 40, NULL, NULL};
    ixd_stage_clock.process(st, &batch);
    ixd_stage_clock.stats(st, count_cb, &c);
    assert_int_equal(c.before_boot, 1);
    assert_int_equal(c.future, 0);
    assert_int_equal(c.corrected, 2);
    assert_int_equal(c.fixed, 0); /* absurd: keep */
    ixd_stage_clock.stop(st);
    ixd_stage_clock.conf_free(conf);
}

/* A template of one time field (ie, length) and octetDeltaCount. */
static struct ixd_template *
one_time_template(uint16_t ie, uint16_t len)
{
    uint8_t sp[] = {1, 2, 0, 2, (uint8_t)(ie >> 8), (uint8_t)ie, 0, (uint8_t)len, 0, 1, 0, 8};
    struct ixd_template_rules rules = {reg, 512, 0};
    struct ixd_template *t;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    assert_int_equal(ixd_template_parse(sp, sizeof(sp), 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

static void
each_unit_alone_is_read(void **state)
{
    /* flowEndSeconds, flowEndMilliseconds, flowEndMicroseconds, flowEndNanoseconds: a record
     * whose only time is an hour ahead of the receive time is from the future, one a second
     * before it is not, whatever the unit */
    static const uint16_t ies[][2] = {{151, 4}, {153, 8}, {155, 8}, {157, 8}};
    void *conf = conf_with("absurd", "keep");

    (void)state;
    for (size_t i = 0; i < sizeof(ies) / sizeof(ies[0]); i++) {
        struct ixd_template *t = one_time_template(ies[i][0], ies[i][1]);
        void *st = ixd_stage_clock.start(conf, 0, NULL);
        struct ixd_source src = {.received_usec = T0, .clock_known = 1, .clock_offset_usec = 0};
        uint8_t data[2][16] = {{0}};
        struct ixd_record recs[2];
        struct ixd_batch batch = {&src, 2, recs};
        struct counts c = {0};

        for (int k = 0; k < 2; k++) {
            int64_t at = k == 0 ? T0 + 3600 * SEC : T0 - SEC;
            if (ies[i][1] == 4) {
                ixd_put32(data[k], (uint32_t)(at / SEC));
            } else if (ies[i][0] == 153) {
                ixd_put64(data[k], (uint64_t)(at / 1000));
            } else {
                ixd_put64(data[k], ntp(at));
            }
            recs[k] = (struct ixd_record){t, data[k], (uint32_t)ies[i][1] + 8, NULL, NULL};
        }
        ixd_stage_clock.process(st, &batch);
        ixd_stage_clock.stats(st, count_cb, &c);
        if (c.future != 1) {
            fail_msg("element %u: %llu records from the future", ies[i][0],
                     (unsigned long long)c.future);
        }
        ixd_stage_clock.stop(st);
        ixd_template_free(t);
    }
    ixd_stage_clock.conf_free(conf);
}

static void
settings_refused_where_written(void **state)
{
    (void)state;
    assert_null(conf_with("tolerence", "5"));
    assert_string_equal(err, "c.yaml:5:10: clock knows the keys tolerance, min-offset and absurd");
    assert_null(conf_with("absurd", "drop"));
    assert_string_equal(err, "c.yaml:5:20: absurd is keep or receive-time");
    assert_null(conf_with("tolerance", "-3"));
    assert_non_null(strstr(err, "c.yaml:5:20: wants a duration"));
    assert_null(conf_with("min-offset", "400d"));
    assert_non_null(strstr(err, "c.yaml:5:20: wants a duration"));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(queueing_delay_does_not_move_it),
        cmocka_unit_test(a_mean_would_not_do),
        cmocka_unit_test(window_follows_a_stepped_clock),
        cmocka_unit_test(unset_export_time_is_ignored),
        cmocka_unit_test(moves_every_time_by_the_offset),
        cmocka_unit_test(small_or_unknown_offsets_change_nothing),
        cmocka_unit_test(absurd_times_counted_and_fixed),
        cmocka_unit_test(boot_relative_times_and_before_boot),
        cmocka_unit_test(each_unit_alone_is_read),
        cmocka_unit_test(settings_refused_where_written),
    };

    return cmocka_run_group_tests(tests, setup, teardown);
}
