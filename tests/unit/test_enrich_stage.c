/* The enrich stage inside a pipeline (src/enrich/stage_enrich.c): the records a stage after it
 * sees, their derived templates alive for the whole batch when the stage's bound on derived
 * templates is reached in the middle of one; rebuilt records read field by field against what
 * was sent and what the sources know, their offsets and lengths against a walk of their bytes,
 * for a template of fixed-length fields only and one with variable-length fields among them. */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/clock.h"
#include "core/config.h"
#include "enrich/ifstore.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"
#include "registry/registry.h"

#define TEMPLATES 4400 /* beyond the stage's 4,096 derived templates */

static uint64_t seen, seen_named;

/* A stage after enrich: reads every record's template (a freed one is a use after free). */
static void *
check_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *e, size_t n)
{
    return (void *)1;
}

static void
check_conf_free(void *c)
{
}

static void *
check_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    return (void *)1;
}

static void
check_process(void *state, struct ixd_batch *b)
{
    for (size_t i = 0; i < b->count; i++) {
        const struct ixd_template *t = b->records[i].tmpl;
        seen++;
        /* the two fields sent, two AS numbers and six strings added */
        seen_named += t->field_count == 10 && t->fields[9].pen == 32473;
    }
}

static void
check_stop(void *state)
{
}

static const struct ixd_stage_type check = {
    .name = "check",
    .conf = check_conf,
    .conf_free = check_conf_free,
    .start = check_start,
    .process = check_process,
    .stop = check_stop,
};

/* A pipeline from a to o: an enrich stage (settings, then the CSV as its addresses) and the
 * stage after, started for worker 0; the CSV is removed once read. */
struct started {
    struct ixd_config *cfg;
    struct ixd_instances *in;
    struct ixd_pipeline_run *run;
};

static void
start_enrich(struct started *s, const struct ixd_ie_registry *reg, const char *settings,
             const char *csv, const char *after)
{
    char err[1024], text[1024];

    snprintf(text, sizeof(text),
             "collectors: [{name: a, listen: \"127.0.0.1:4739\"}]\n"
             "outputs: [{name: o, type: count}]\n"
             "pipelines:\n"
             "  - {name: p, from: a, to: o, stages: [{enrich: {%saddresses: [%s]}}, {%s: x}]}\n",
             settings, csv, after);
    s->cfg = ixd_config_parse("t.yaml", text, strlen(text), err, sizeof(err));
    assert_non_null(s->cfg);
    s->in = ixd_instances_conf(s->cfg, reg, 1, IXD_CONFIG_DEFAULT, err, sizeof(err));
    if (s->in == NULL) {
        fail_msg("%s", err);
    }
    unlink(csv);
    s->run = ixd_pipeline_start(&s->in->pipelines[0], 0, NULL, 0);
    assert_non_null(s->run);
}

static void
stop_enrich(struct started *s)
{
    ixd_pipeline_stop(s->run);
    ixd_instances_free(s->in);
    ixd_config_free(s->cfg);
}

static void
derived_templates_live_through_the_batch(void **state)
{
    static struct ixd_template *t[TEMPLATES];
    static struct ixd_record recs[TEMPLATES];
    static uint8_t data[TEMPLATES][8];
    char err[1024], csv[] = "/tmp/ixd-enrich-stage-XXXXXX.csv";
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct ixd_template_rules rules = {reg, 512, 0};
    struct started st;
    int fd = mkstemps(csv, 4);
    size_t i;

    assert_non_null(reg);
    assert_int_equal(ixd_ie_registry_add_own(reg, 32473), 0);
    assert_int_equal(ixd_registry_add_stage_type(&check), 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "10.0.0.0/8,65001,Ten\n", 21), 21);
    close(fd);
    for (i = 0; i < TEMPLATES; i++) { /* one layout, but each its own template (serial) */
        static const uint8_t spec[] = {1, 0, 0, 2, 0, 8, 0, 4, 0, 12, 0, 4};
        enum ixd_error why;
        size_t used;
        uint16_t tid;
        assert_int_equal(
            ixd_template_parse(spec, sizeof(spec), 0, &rules, &t[i], &tid, &used, &why),
            IXD_TPARSE_TEMPLATE);
        memcpy(data[i], "\x0a\x00\x00\x01\xc0\x00\x02\x01", 8);
        recs[i] = (struct ixd_record){t[i], data[i], 8, NULL, NULL};
    }
    start_enrich(&st, reg, "", csv, "check");
    for (i = 0; i < TEMPLATES;) { /* a first batch of 100: the bound falls inside a batch */
        size_t n = i == 0 ? 100 : TEMPLATES - i < IXD_BATCH_MAX ? TEMPLATES - i : IXD_BATCH_MAX;
        struct ixd_batch batch = {&source, n, recs + i};
        ixd_pipeline_process(st.run, &batch);
        i += n;
    }
    assert_int_equal(seen, TEMPLATES);
    assert_int_equal(seen_named, TEMPLATES);
    stop_enrich(&st);
    for (i = 0; i < TEMPLATES; i++) {
        ixd_template_free(t[i]);
    }
    ixd_ie_registry_free(reg);
}

/* ---- rebuilt records, field by field ---- */

#define KEPT_MAX 16

/* What a stage after enrich saw: each record's template, bytes, offsets and lengths, copied. */
static struct kept {
    const struct ixd_template *tmpl;
    uint8_t data[2048];
    uint32_t length;
    int has_offsets;
    uint16_t offs[64], lens[64];
} kept[KEPT_MAX];
static size_t n_kept;

static void
keep_process(void *state, struct ixd_batch *b)
{
    for (size_t i = 0; i < b->count && n_kept < KEPT_MAX; i++) {
        const struct ixd_record *r = &b->records[i];
        struct kept *k = &kept[n_kept++];
        assert_true(r->length <= sizeof(k->data) && r->tmpl->field_count <= 64);
        k->tmpl = r->tmpl;
        memcpy(k->data, r->data, r->length);
        k->length = r->length;
        k->has_offsets = r->offsets != NULL;
        if (r->offsets != NULL) {
            memcpy(k->offs, r->offsets, 2u * r->tmpl->field_count);
            memcpy(k->lens, r->lengths, 2u * r->tmpl->field_count);
        }
    }
}

static const struct ixd_stage_type keep = {
    .name = "keep",
    .conf = check_conf,
    .conf_free = check_conf_free,
    .start = check_start,
    .process = keep_process,
    .stop = check_stop,
};

static struct ixd_template *
parse_template(const struct ixd_ie_registry *reg, const uint8_t *spec, size_t n)
{
    struct ixd_template_rules rules = {reg, 65535, 0};
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t tid;

    assert_int_equal(ixd_template_parse(spec, n, 0, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

/* Field (pen, id) of k as the record's own offsets say, checked against where a walk of its
 * bytes under its template puts it. */
static const uint8_t *
kept_field(const struct kept *k, uint32_t pen, uint16_t id, uint16_t *len)
{
    int f = ixd_template_find(k->tmpl, pen, id);

    assert_true(f >= 0);
    *len = k->lens[f];
    return k->data + k->offs[f];
}

/* The offsets and lengths the stage gave k are those of a walk of its bytes, to the last. */
static void
assert_walks(const struct kept *k)
{
    uint16_t offs[64], lens[64];

    assert_true(k->has_offsets);
    assert_int_equal(ixd_record_walk(k->tmpl, k->data, k->length, offs, lens), k->length);
    assert_memory_equal(offs, k->offs, 2u * k->tmpl->field_count);
    assert_memory_equal(lens, k->lens, 2u * k->tmpl->field_count);
}

static void
assert_string(const struct kept *k, uint32_t pen, const struct ixd_ie_registry *reg,
              const char *name, const char *want)
{
    const struct ixd_ie *ie = ixd_ie_lookup_name(reg, name);
    uint16_t len;
    const uint8_t *v;

    assert_non_null(ie);
    v = kept_field(k, pen, ie->id, &len);
    assert_int_equal(len, strlen(want));
    assert_memory_equal(v, want, len);
}

static uint64_t
kept_uint(const struct kept *k, uint32_t pen, uint16_t id)
{
    uint16_t len;
    const uint8_t *v = kept_field(k, pen, id, &len);

    return ixd_get_uint(v, len);
}

/* What the sources say of 10.0.0.1 (source), 192.0.2.7 (destination), interfaces 3 and 7. */
static void
assert_added(const struct kept *k, const struct ixd_ie_registry *reg)
{
    const struct ixd_ie *in_speed = ixd_ie_lookup_name(reg, "ingressInterfaceSpeed");
    const struct ixd_ie *out_speed = ixd_ie_lookup_name(reg, "egressInterfaceSpeed");

    assert_int_equal(kept_uint(k, 0, 16), 65001); /* 0 in the record: filled in */
    assert_int_equal(kept_uint(k, 0, 17), 64500);
    assert_string(k, 32473, reg, "sourceAsName", "Ten AS");
    assert_string(k, 32473, reg, "destinationAsName", "Documentation");
    assert_string(k, 32473, reg, "sourceCountryCode", "DE");
    assert_string(k, 32473, reg, "destinationCountryCode", "FR");
    assert_string(k, 32473, reg, "sourceCityName", "Berlin");
    assert_string(k, 32473, reg, "destinationCityName", "Paris");
    assert_string(k, 32473, reg, "ingressInterfaceName", "ge-0/0/3");
    assert_string(k, 32473, reg, "egressInterfaceName", "xe-1/0/7");
    assert_string(k, 32473, reg, "ingressInterfaceDescription", "uplink to the core");
    assert_string(k, 32473, reg, "egressInterfaceDescription", "");
    assert_int_equal(kept_uint(k, 32473, in_speed->id), UINT64_C(10000000000));
    assert_int_equal(kept_uint(k, 32473, out_speed->id), 0);
}

/* A 15-field-like record of fixed-length fields only, and one with a variable-length field in
 * the middle (its length sent in three bytes though short) and a long one (three bytes again)
 * before the end: every field of the rebuilt records is where a walk of their bytes finds it,
 * holds what was sent (the AS numbers the exporter left 0 filled in) or what the sources know. */
static void
rebuilt_records_hold_each_field(void **state)
{
    /* sourceIPv4Address, destinationIPv4Address, ingressInterface, egressInterface (2 bytes:
     * reduced size), bgpSourceAsNumber, octetDeltaCount */
    static const uint8_t fixed_spec[] = {1, 0, 0, 6,  0, 8, 0, 4,  0, 12, 0, 4, 0, 10,
                                         0, 4, 0, 14, 0, 2, 0, 16, 0, 4,  0, 1, 0, 8};
    /* sourceIPv4Address, applicationName (varlen), destinationIPv4Address, ingressInterface,
     * bgpSourceAsNumber, interfaceDescription (varlen), egressInterface, octetDeltaCount */
    static const uint8_t var_spec[] = {1, 0,  0,    8,    0, 8,  0, 4, 0, 96, 0xff, 0xff,
                                       0, 12, 0,    4,    0, 10, 0, 4, 0, 16, 0,    4,
                                       0, 83, 0xff, 0xff, 0, 14, 0, 4, 0, 1,  0,    8};
    static const uint8_t fixed_rec[] = {10, 0, 0, 1, 192, 0, 2, 7, 0, 0, 0, 3,    0,
                                        7,  0, 0, 0, 0,   0, 0, 0, 0, 0, 0, 0x12, 0x34};
    static uint8_t var_rec[512];
    char err[1024], csv[] = "/tmp/ixd-enrich-stage-XXXXXX.csv";
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct sockaddr_in *sin = (struct sockaddr_in *)&source.exporter;
    struct ixd_template *tf, *tv;
    struct ixd_record recs[2];
    struct ixd_batch batch = {&source, 2, recs};
    struct ixd_ifstore *store = ixd_ifstore_acquire();
    struct in6_addr exporter;
    struct started st;
    uint8_t long_text[300], *p = var_rec;
    const uint8_t *v;
    uint16_t len;
    int fd = mkstemps(csv, 4);

    static const char table[] = "10.0.0.0/8,65001,Ten AS,DE,Berlin\n"
                                "192.0.2.0/24,AS64500,Documentation,FR,Paris\n";
    assert_non_null(reg);
    assert_non_null(store);
    assert_int_equal(ixd_ie_registry_add_own(reg, 32473), 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, table, sizeof(table) - 1), (ssize_t)sizeof(table) - 1);
    close(fd);

    /* the exporter's interfaces, as its options records would have put them */
    sin->sin_family = AF_INET;
    inet_pton(AF_INET, "192.0.2.1", &sin->sin_addr);
    memset(&exporter, 0, sizeof(exporter));
    exporter.s6_addr[10] = exporter.s6_addr[11] = 0xff;
    memcpy(exporter.s6_addr + 12, &sin->sin_addr, 4);
    ixd_ifstore_lock(store);
    ixd_ifstore_put_locked(store, &exporter, 1, IXD_IFSOURCE_OPTIONS, 3, "ge-0/0/3", 8,
                           "uplink to the core", 18, UINT64_C(10000000000));
    ixd_ifstore_put_locked(store, &exporter, 1, IXD_IFSOURCE_OPTIONS, 7, "xe-1/0/7", 8, "", 0, 0);
    ixd_ifstore_unlock(store, ixd_mono_now() + 1); /* 100 ms after the last: published now */

    tf = parse_template(reg, fixed_spec, sizeof(fixed_spec));
    tv = parse_template(reg, var_spec, sizeof(var_spec));
    memset(long_text, 'x', sizeof(long_text));
    memcpy(p, "\x0a\x00\x00\x01", 4);
    p += 4;
    memcpy(p, "\xff\x00\x05https", 8); /* 5 bytes in the 3-byte form */
    p += 8;
    memcpy(p, "\xc0\x00\x02\x07\x00\x00\x00\x03\x00\x00\x00\x00", 12);
    p += 12;
    *p++ = 255;
    ixd_put16(p, sizeof(long_text));
    memcpy(p + 2, long_text, sizeof(long_text));
    p += 2 + sizeof(long_text);
    memcpy(p, "\x00\x00\x00\x07\x00\x00\x00\x00\x00\x00\x56\x78", 12);
    p += 12;
    recs[0] = (struct ixd_record){tf, fixed_rec, sizeof(fixed_rec), NULL, NULL};
    recs[1] = (struct ixd_record){tv, var_rec, (uint32_t)(p - var_rec), NULL, NULL};
    {
        static uint16_t offs[8], lens[8];
        assert_int_equal(ixd_record_walk(tv, var_rec, recs[1].length, offs, lens), recs[1].length);
        recs[1].offsets = offs;
        recs[1].lengths = lens;
    }

    start_enrich(&st, reg, "interfaces: [options], ", csv, "keep");
    ixd_pipeline_process(st.run, &batch);
    ixd_pipeline_process(st.run, &batch); /* again: the derived templates from the stage's table */
    assert_int_equal(n_kept, 4);

    for (size_t i = 0; i < n_kept; i++) {
        const struct kept *k = &kept[i];
        int fixed = i % 2 == 0;
        assert_int_equal(k->tmpl->field_count, (fixed ? 6 : 8) + 1 + 6 + 6);
        assert_walks(k);
        assert_added(k, reg);
        assert_int_equal(kept_uint(k, 0, 8), 0x0a000001);
        assert_int_equal(kept_uint(k, 0, 12), 0xc0000207);
        assert_int_equal(kept_uint(k, 0, 10), 3);
        assert_int_equal(kept_uint(k, 0, 14), 7);
        assert_int_equal(kept_uint(k, 0, 1), fixed ? 0x1234 : 0x5678);
        if (fixed) {
            /* one copy of the record: its bytes as sent but for the AS number filled in */
            assert_memory_equal(k->data, fixed_rec, 14);
            assert_memory_equal(k->data + 18, fixed_rec + 18, sizeof(fixed_rec) - 18);
            continue;
        }
        v = kept_field(k, 0, 96, &len);
        assert_int_equal(len, 5);
        assert_memory_equal(v, "https", 5);
        assert_int_equal(v[-1], 5); /* written again in the short form */
        v = kept_field(k, 0, 83, &len);
        assert_int_equal(len, sizeof(long_text));
        assert_memory_equal(v, long_text, sizeof(long_text));
    }

    stop_enrich(&st);
    ixd_template_free(tf);
    ixd_template_free(tv);
    ixd_ie_registry_free(reg);
    ixd_ifstore_release(store);
}

/* IPv6 addresses, one IPv4-mapped: looked up as what they are, twice (the second time from the
 * worker's cache), the answers in the right records. */
static void
ipv6_addresses_looked_up(void **state)
{
    /* sourceIPv6Address, destinationIPv6Address, octetDeltaCount */
    static const uint8_t spec[] = {1, 0, 0, 3, 0, 27, 0, 16, 0, 28, 0, 16, 0, 1, 0, 8};
    static uint8_t recs_data[2][40];
    char err[1024], csv[] = "/tmp/ixd-enrich-stage-XXXXXX.csv";
    struct ixd_ie_registry *reg = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    struct ixd_source source = {.collector = "a", .exporter_text = "192.0.2.1", .odid = 1};
    struct ixd_record recs[2];
    struct ixd_batch batch = {&source, 2, recs};
    struct ixd_template *t;
    struct started st;
    int fd = mkstemps(csv, 4);

    static const char table[] = "2001:db8::/32,64496,Six,NL,Amsterdam\n"
                                "2001:db8:1::/48,64497,Six one,BE,Brussels\n"
                                "10.0.0.0/8,65001,Ten AS,DE,Berlin\n";
    assert_non_null(reg);
    assert_int_equal(ixd_ie_registry_add_own(reg, 32473), 0);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, table, sizeof(table) - 1), (ssize_t)sizeof(table) - 1);
    close(fd);
    t = parse_template(reg, spec, sizeof(spec));
    /* 2001:db8:1::5 to 2001:db8:ff::1; ::ffff:10.0.0.1 to 2001:db8:1::5 */
    inet_pton(AF_INET6, "2001:db8:1::5", recs_data[0]);
    inet_pton(AF_INET6, "2001:db8:ff::1", recs_data[0] + 16);
    inet_pton(AF_INET6, "::ffff:10.0.0.1", recs_data[1]);
    inet_pton(AF_INET6, "2001:db8:1::5", recs_data[1] + 16);
    recs[0] = (struct ixd_record){t, recs_data[0], 40, NULL, NULL};
    recs[1] = (struct ixd_record){t, recs_data[1], 40, NULL, NULL};
    start_enrich(&st, reg, "", csv, "keep");
    n_kept = 0;
    ixd_pipeline_process(st.run, &batch);
    ixd_pipeline_process(st.run, &batch);
    assert_int_equal(n_kept, 4);
    for (size_t i = 0; i < n_kept; i++) {
        const struct kept *k = &kept[i];
        assert_walks(k);
        if (i % 2 == 0) {
            assert_int_equal(kept_uint(k, 0, 16), 64497);
            assert_int_equal(kept_uint(k, 0, 17), 64496);
            assert_string(k, 32473, reg, "sourceCountryCode", "BE");
            assert_string(k, 32473, reg, "destinationCityName", "Amsterdam");
        } else {
            assert_int_equal(kept_uint(k, 0, 16), 65001);
            assert_int_equal(kept_uint(k, 0, 17), 64497);
            assert_string(k, 32473, reg, "sourceAsName", "Ten AS");
            assert_string(k, 32473, reg, "destinationCityName", "Brussels");
        }
    }
    stop_enrich(&st);
    ixd_template_free(t);
    ixd_ie_registry_free(reg);
}

int
main(void)
{
    if (ixd_registry_add_stage_type(&keep) == -1) { /* the stage after enrich in two tests */
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(derived_templates_live_through_the_batch),
        cmocka_unit_test(rebuilt_records_hold_each_field),
        cmocka_unit_test(ipv6_addresses_looked_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
