/*
 * Unit tests of src/output/json_prog.c: templates compiled for JSON. Every line a cache writes
 * must be the line the field-by-field formatter (ixd_json_record_scaled) writes for the same
 * record, whatever the program keeps between records (the text of the last second of each time
 * field), whichever templates share or evict its slots, and for the templates it does not
 * compile.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix_build.h"
#include "json_check.h"
#include "output/json_format.h"

#define LINE_MAX_ (1u << 20)

static struct ixd_ie_registry *registry;
static struct ixd_json_cache *cache;
static struct ixd_source src;
static char prefix[512], *want, *got;
static size_t plen;

static int
group_setup(void **state)
{
    char err[256];

    (void)state;
    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    want = malloc(LINE_MAX_);
    got = malloc(LINE_MAX_);
    memset(&src, 0, sizeof(src));
    src.collector = "c1";
    snprintf(src.exporter_text, sizeof(src.exporter_text), "192.0.2.1");
    src.exporter_port = 5000;
    src.odid = 7;
    src.received_usec = 1700000000123456LL;
    plen = ixd_json_prefix(&src, prefix, sizeof(prefix));
    return registry != NULL && want != NULL && got != NULL ? 0 : -1;
}

static int
group_teardown(void **state)
{
    (void)state;
    ixd_ie_registry_free(registry);
    free(want);
    free(got);
    return 0;
}

static int
setup(void **state)
{
    (void)state;
    cache = ixd_json_cache_new();
    return cache != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    (void)state;
    ixd_json_cache_free(cache);
    return 0;
}

static struct ixd_template *
parse(const struct ib *tb, uint32_t max_fields)
{
    struct ixd_template_rules rules = {registry, max_fields, 0};
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    assert_int_equal(ixd_template_parse(tb->buf, tb->len, 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

/* r's line through the cache equals the field-by-field line, for source s and rate. */
static void
same_line(const struct ixd_record *r, const struct ixd_source *s, uint32_t rate)
{
    size_t bound = plen + ixd_json_bound(r), n, m;

    assert_true(bound <= LINE_MAX_);
    n = ixd_json_record_scaled(r, s, rate, prefix, plen, want);
    m = ixd_json_cache_record(cache, r, s, rate, prefix, plen, got);
    if (m != n || memcmp(want, got, n) != 0) {
        fail_msg("want %.*s\ngot  %.*s", (int)n, want, (int)m, got);
    }
    assert_true(json_valid(got, n - 1));
}

static struct ixd_record
record_of(const struct ixd_template *t, const struct ib *rb)
{
    struct ixd_record r = {t, rb->buf, (uint32_t)rb->len, NULL, NULL};

    assert_int_equal(rb->len, t->fixed_length);
    return r;
}

/* each time field keeps the text of its last second: records jumping across seconds, days,
 * years and back must each get their own */
static void
times_across_seconds_and_days(void **state)
{
    static const uint64_t ms[] = {1700000000123ULL,
                                  1700000000999ULL,
                                  1700000001000ULL,
                                  1700006399999ULL,
                                  1700006400000ULL,
                                  1700000000123ULL,
                                  0ULL,
                                  253402300799999ULL,
                                  253402300800000ULL,
                                  UINT64_MAX,
                                  1700000000001ULL};
    struct ib tb = {0}, rb = {0};
    struct ixd_template *t;
    size_t i, j;

    (void)state;
    ib_template(&tb, 256, 4);
    ib_field(&tb, 152, 8); /* flowStartMilliseconds */
    ib_field(&tb, 153, 8); /* flowEndMilliseconds */
    ib_field(&tb, 150, 4); /* flowStartSeconds */
    ib_field(&tb, 151, 4); /* flowEndSeconds */
    t = parse(&tb, 512);
    for (i = 0; i < sizeof(ms) / sizeof(ms[0]); i++) {
        for (j = 0; j < sizeof(ms) / sizeof(ms[0]); j += 3) {
            struct ixd_record r;
            ib_reset(&rb);
            ib_u64(&rb, ms[i]);
            ib_u64(&rb, ms[j]);
            ib_u32(&rb, (uint32_t)(ms[i] / 1000));
            ib_u32(&rb, (uint32_t)(ms[j] / 1000 + i));
            r = record_of(t, &rb);
            same_line(&r, &src, 1);
        }
    }
    ixd_template_free(t);
}

/* the key of an uptime depends on the source (absolute once the boot time is known): one
 * program serves sources with and without it */
static void
uptimes_with_and_without_boot_time(void **state)
{
    struct ixd_source booted = src;
    struct ib tb = {0}, rb = {0};
    struct ixd_template *t;
    struct ixd_record r;
    int k;

    (void)state;
    booted.system_init_ms = 1699990000000LL;
    ib_template(&tb, 257, 4);
    ib_field(&tb, 22, 4); /* flowStartSysUpTime */
    ib_field(&tb, 21, 4); /* flowEndSysUpTime */
    ib_field(&tb, 2, 4);  /* packetDeltaCount */
    ib_field(&tb, 1, 8);  /* octetDeltaCount */
    t = parse(&tb, 512);
    ib_u32(&rb, 1000);
    ib_u32(&rb, 61000);
    ib_u32(&rb, 3000000000u);
    ib_u64(&rb, UINT64_MAX / 2);
    r = record_of(t, &rb);
    for (k = 0; k < 2; k++) {
        same_line(&r, &src, 1);
        same_line(&r, &booted, 1);
        same_line(&r, &booted, 7); /* renormalised, one count saturating */
    }
    ixd_template_free(t);
}

/* unsigned values of every width the ops tell apart (1, 2, 4 and 8 bytes, and reduced-size
 * encodings of 3, 5 and 7), counts of 8 bytes and of other widths renormalised: each at the
 * digit-count boundaries and the widths' maxima, as sent and multiplied (saturating) */
static void
integers_of_every_width(void **state)
{
    static const struct {
        uint16_t id, len;
    } fields[] = {
        {4, 1},   /* protocolIdentifier */
        {7, 2},   /* sourceTransportPort */
        {10, 3},  /* ingressInterface, reduced */
        {14, 4},  /* egressInterface */
        {132, 5}, /* droppedOctetDeltaCount, reduced */
        {133, 7}, /* droppedPacketDeltaCount, reduced */
        {148, 8}, /* flowId */
        {1, 8},   /* octetDeltaCount: a count */
        {2, 4},   /* packetDeltaCount: a count, reduced */
        {24, 3},  /* postPacketDeltaCount: a count, reduced */
        {86, 8},  /* packetTotalCount: a count */
        {231, 1}, /* initiatorOctets: a count, reduced */
    };
    static const uint64_t seeds[] = {0,         9,        10,        99,         100,
                                     255,       999,      1000,      9999,       10000,
                                     65535,     99999999, 100000000, UINT32_MAX, UINT64_MAX / 3,
                                     UINT64_MAX};
    static const uint32_t rates[] = {1, 7, 1000, UINT32_MAX};
    const size_t n_fields = sizeof(fields) / sizeof(fields[0]);
    struct ib tb = {0}, rb = {0};
    struct ixd_template *t;
    struct ixd_record r;
    size_t i, k, j;
    int b;

    (void)state;
    ib_template(&tb, 259, (uint16_t)n_fields);
    for (i = 0; i < n_fields; i++) {
        ib_field(&tb, fields[i].id, fields[i].len);
    }
    t = parse(&tb, 512);
    for (k = 0; k < sizeof(seeds) / sizeof(seeds[0]); k++) {
        ib_reset(&rb);
        for (i = 0; i < n_fields; i++) {
            for (b = fields[i].len - 1; b >= 0; b--) {
                ib_u8(&rb, (uint8_t)(seeds[k] >> (8 * b))); /* the seed's low bytes */
            }
        }
        r = record_of(t, &rb);
        for (j = 0; j < sizeof(rates) / sizeof(rates[0]); j++) {
            same_line(&r, &src, rates[j]);
        }
    }
    ixd_template_free(t);
}

/* variable-length fields: the values of the fields after them are where the record says */
static void
variable_length_fields(void **state)
{
    struct ib tb = {0}, rb = {0};
    struct ixd_template *t;
    struct ixd_record r;
    uint16_t offs[4], lens[4];

    (void)state;
    ib_template(&tb, 258, 4);
    ib_field(&tb, 8, 4);           /* sourceIPv4Address */
    ib_field(&tb, 82, IXD_VARLEN); /* interfaceName */
    ib_field(&tb, 7, 2);           /* sourceTransportPort */
    ib_field(&tb, 27, 16);         /* sourceIPv6Address */
    t = parse(&tb, 512);
    ib_u32(&rb, 0xc0000201);
    ib_u8(&rb, 5);
    ib_bytes(&rb, "eth\"0", 5);
    ib_u16(&rb, 65535);
    ib_bytes(&rb, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    offs[0] = 0, lens[0] = 4;
    offs[1] = 5, lens[1] = 5;
    offs[2] = 10, lens[2] = 2;
    offs[3] = 12, lens[3] = 16;
    r = (struct ixd_record){t, rb.buf, (uint32_t)rb.len, offs, lens};
    same_line(&r, &src, 1);
    lens[1] = 0; /* an empty string */
    same_line(&r, &src, 1);
    ixd_template_free(t);
}

/* more templates than the cache has slots, interleaved: evicted programs are compiled again,
 * never confused with another template's */
static void
many_templates_share_slots(void **state)
{
    enum { N = 700 };
    struct ixd_template **ts = calloc(N, sizeof(*ts));
    struct ib rb = {0};
    int i, k;

    (void)state;
    assert_non_null(ts);
    for (i = 0; i < N; i++) {
        struct ib tb = {0};
        int f;
        ib_template(&tb, (uint16_t)(256 + i), (uint16_t)(1 + i % 5));
        for (f = 0; f < 1 + i % 5; f++) {
            /* layouts differ: the same bytes read as other elements */
            ib_field(&tb, (uint16_t)((i + f) % 2 ? 7 + f : 8 + 4 * f), (i + f) % 2 ? 2 : 4);
        }
        ts[i] = parse(&tb, 512);
    }
    for (k = 0; k < 3; k++) {
        for (i = 0; i < N; i += 1 + k) {
            struct ixd_record r;
            ib_reset(&rb);
            for (int b = 0; b < ts[i]->fixed_length; b++) {
                ib_u8(&rb, (uint8_t)(i * 31 + b * 7 + k));
            }
            r = record_of(ts[i], &rb);
            same_line(&r, &src, 1);
        }
    }
    for (i = 0; i < N; i++) {
        ixd_template_free(ts[i]);
    }
    free(ts);
}

/* wide templates: the programs of many of them exceed the cache's memory (4 MiB), which then
 * starts again; past the widest a program is made for (1024 fields), records are formatted
 * field by field */
static void
wide_templates(void **state)
{
    static const uint16_t widths[] = {1000, 1024, 1025, 3000};
    enum { N = 160 }; /* 160 programs of 1,000 fields: over 5 MiB */
    struct ixd_template **ts = calloc(N, sizeof(*ts));
    struct ib rb = {0};
    size_t w;
    int i, k, n;

    (void)state;
    assert_non_null(ts);
    for (w = 0; w < sizeof(widths) / sizeof(widths[0]); w++) {
        n = widths[w] <= 1024 ? N : 4;
        for (i = 0; i < n; i++) {
            struct ib tb = {0};
            ib_template(&tb, (uint16_t)(300 + i), widths[w]);
            for (k = 0; k < widths[w]; k++) {
                ib_field_en(&tb, (uint16_t)(k + i), 2, 99999); /* keys "en99999:idN" */
            }
            ts[i] = parse(&tb, 4000);
        }
        for (k = 0; k < 2; k++) {
            for (i = 0; i < n; i++) {
                struct ixd_record r;
                ib_reset(&rb);
                for (int b = 0; b < ts[i]->fixed_length; b++) {
                    ib_u8(&rb, (uint8_t)(b + i + k));
                }
                r = record_of(ts[i], &rb);
                same_line(&r, &src, 1);
            }
        }
        for (i = 0; i < n; i++) {
            ixd_template_free(ts[i]);
        }
    }
    free(ts);
}

/* a template that is no compiled template's (serial 0: built outside the template parser) is
 * formatted field by field */
static void
template_without_serial(void **state)
{
    struct ib tb = {0}, rb = {0};
    struct ixd_template *t, copy;
    struct ixd_record r;

    (void)state;
    ib_template(&tb, 259, 2);
    ib_field(&tb, 8, 4);
    ib_field(&tb, 4, 1);
    t = parse(&tb, 512);
    copy = *t;
    copy.serial = 0;
    ib_u32(&rb, 0x0a000001);
    ib_u8(&rb, 6);
    r = record_of(&copy, &rb);
    same_line(&r, &src, 1);
    r.tmpl = t;
    same_line(&r, &src, 1);
    ixd_template_free(t);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(times_across_seconds_and_days), T(uptimes_with_and_without_boot_time),
        T(integers_of_every_width),       T(variable_length_fields),
        T(many_templates_share_slots),    T(wide_templates),
        T(template_without_serial),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
