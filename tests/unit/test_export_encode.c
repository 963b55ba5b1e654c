/* Unit tests of src/output/ipfix_encode.c: what the IPFIX export does to a record's fields.
 * RFC 7119 original-exporter fields appended, delta times moved to the new export time,
 * NetFlow uptimes made absolute, everything else copied; through a real export session whose
 * messages ipfixd's own decoder reads back (export_fixture.h), and the plan functions alone. */
#include "export_fixture.h"

/* RFC 7119: originalExporterIPv4Address and originalObservationDomainId appended to every
 * record (in an options template, as non-scope fields). */
static void
test_original_exporter_v4(void **state)
{
    size_t s;

    original_exporter = 1;
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 42);
    set_template_256(&in_m);
    s = ib_set_begin(&in_m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&in_m, 500, 2, 1);
    ib_field(&in_m, 149, 4); /* observationDomainId, scope */
    ib_field(&in_m, 34, 4);  /* samplingInterval */
    ib_set_end(&in_m, s);
    set_data_256(&in_m, 2, 0);
    s = ib_set_begin(&in_m, 500);
    ib_u32(&in_m, 42);
    ib_u32(&in_m, 100);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 1);
    assert_int_equal(walk_new(1400), 3);
    assert_int_equal(tdefs[256].n, 5);
    assert_int_equal(tdefs[256].id[3], 403);
    assert_int_equal(tdefs[256].len[3], 4);
    assert_int_equal(tdefs[256].id[4], 405);
    assert_int_equal(tdefs[256].len[4], 4);
    assert_int_equal(tdefs[500].n, 4);
    assert_int_equal(tdefs[500].scope, 1);
    assert_int_equal(tdefs[500].id[2], 403);
    assert_int_equal(tdefs[500].id[3], 405);

    collect(0);
    assert_int_equal(cap->n, 3);
    assert_int_equal(cap->r[0].len, 16 + 8);
    assert_int_equal(cap_uint(0, 3), 0xc0000201u); /* 192.0.2.1 */
    assert_int_equal(cap_uint(0, 4), 42);
    assert_int_equal(cap_uint(1, 2), 1000);
    assert_int_equal(cap->r[2].tid, 500);
    assert_int_equal(cap_uint(2, 1), 100);
    assert_int_equal(cap_uint(2, 2), 0xc0000201u);
    assert_int_equal(cap_uint(2, 3), 42);
}

static void
test_original_exporter_v6(void **state)
{
    original_exporter = 1;
    src_msg(0x01020304, 1, 9);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 1);
    assert_int_equal(tdefs[256].n, 5);
    assert_int_equal(tdefs[256].id[3], 404);
    assert_int_equal(tdefs[256].len[3], 16);
    collect(0);
    assert_int_equal(cap->n, 1);
    assert_int_equal(cap->r[0].len, 16 + 20);
    assert_memory_equal(cap->r[0].data + 16, exporter6.sin6_addr.s6_addr, 16);
    assert_int_equal(cap_uint(0, 4), 0x01020304);
    assert_int_equal(cap_uint(0, 0), 0x0a000009u);
}

/* A source template with delta times: the record's time of export moved from the source's
 * export time to the session's (and what stays of the record unchanged). */
static void
delta_msg(uint32_t start_delta, uint16_t end_delta)
{
    size_t s;

    ib_msg_begin(&in_m, SOURCE_TIME, 0, 1);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 260, 3);
    ib_field(&in_m, 8, 4);   /* sourceIPv4Address */
    ib_field(&in_m, 158, 4); /* flowStartDeltaMicroseconds */
    ib_field(&in_m, 159, 2); /* flowEndDeltaMicroseconds, reduced to 2 bytes */
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 260);
    ib_u32(&in_m, 0xc6336401u);
    ib_u32(&in_m, start_delta);
    ib_u16(&in_m, end_delta);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
}

static void
test_delta_times_shifted(void **state)
{
    /* exported 100 s after the source's export time: 100,000,000 us further back */
    delta_msg(5000, 7);
    feed();
    delta_msg(0xfffff000u, 1); /* saturates at what 4 and 2 bytes hold */
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 2);
    assert_int_equal(tdefs[260].len[1], 4);
    assert_int_equal(tdefs[260].len[2], 2);
    collect(0);
    assert_int_equal(cap->n, 2);
    assert_int_equal(cap_uint(0, 0), 0xc6336401u);
    assert_int_equal(cap_uint(0, 1), 100005000u);
    assert_int_equal(cap_uint(0, 2), 65535);
    assert_int_equal(cap_uint(1, 1), 0xffffffffu);
}

/* The plan and record encoders alone: a mediator whose clock is behind the exporter's clamps
 * delta times at 0; a plan without changes writes the template as it came. */
static void
test_encode_plan(void **state)
{
    struct ixd_template *t = NULL;
    struct ixd_xplan plan;
    struct ixd_source src;
    struct ixd_record r;
    enum ixd_error why;
    uint8_t rec[16], enc[64], orig[64], rout[64];
    size_t used, n;
    uint16_t tid;
    struct ib b;

    ib_reset(&b);
    ib_options_template(&b, 777, 3, 1);
    ib_field_en(&b, 12, 4, 29305); /* reverse destinationIPv4Address: copied, not shifted */
    ib_field(&b, 158, 4);
    ib_field_en(&b, 158, 4, 29305); /* reverse flowStartDeltaMicroseconds: copied */
    assert_int_equal(ixd_template_parse(b.buf, b.len, 1, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    ixd_xplan_init(&plan, t, 0, IXD_XORIG_NONE);
    assert_int_equal(plan.n_conv, 1);
    assert_int_equal(plan.extra, 0);
    assert_int_equal(plan.template_bytes, b.len);
    /* what ixd_template_encode writes, under another ID */
    n = ixd_xplan_template(&plan, t, 4000, enc, sizeof(enc));
    assert_int_equal(n, b.len);
    assert_int_equal(ixd_template_encode(t, orig, sizeof(orig)), b.len);
    assert_int_equal(ixd_get16(enc), 4000);
    assert_memory_equal(enc + 2, orig + 2, n - 2);
    assert_int_equal(ixd_xplan_template(&plan, t, 4000, enc, n - 1), 0);

    memset(&src, 0, sizeof(src));
    src.export_time = 2000;
    ixd_put32(rec, 0x0a000001u);
    ixd_put32(rec + 4, 3000000); /* 3 s before the source's export */
    ixd_put32(rec + 8, 3000000);
    r = (struct ixd_record){t, rec, 12, NULL, NULL};
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 2002, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 5000000);
    assert_int_equal(ixd_get32(rout + 8), 3000000);
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 1998, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 1000000);
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 1990, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 0);
    assert_memory_equal(rout, rec, 4);
    assert_int_equal(ixd_get32(rec + 4), 3000000); /* the source record stays as it was */

    /* with the original exporter: 8 more template bytes, 8 more record bytes */
    ixd_xplan_init(&plan, t, 0, IXD_XORIG_V4);
    assert_int_equal(plan.template_bytes, b.len + 8);
    assert_int_equal(plan.extra, 8);
    ixd_template_free(t);
}

/* NetFlow uptimes with the exporter's boot time known become absolute milliseconds (152/153,
 * 8 bytes each) in a template of their own. */
static void
test_uptimes_become_milliseconds(void **state)
{
    size_t s;

    boot_ms = 1600000000000LL;
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 1);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 270, 3);
    ib_field(&in_m, 22, 4); /* flowStartSysUpTime */
    ib_field(&in_m, 21, 4); /* flowEndSysUpTime */
    ib_field(&in_m, 2, 8);  /* packetDeltaCount */
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 270);
    ib_u32(&in_m, 1000);
    ib_u32(&in_m, 61500);
    ib_u64(&in_m, 12);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 1);
    assert_int_equal(tdefs[270].id[0], 152);
    assert_int_equal(tdefs[270].len[0], 8);
    assert_int_equal(tdefs[270].id[1], 153);
    assert_int_equal(tdefs[270].len[1], 8);
    assert_int_equal(tdefs[270].id[2], 2);
    collect(0);
    assert_int_equal(cap->n, 1);
    assert_int_equal(cap->r[0].len, 24);
    assert_int_equal(cap_uint(0, 0), 1600000001000ULL);
    assert_int_equal(cap_uint(0, 1), 1600000061500ULL);
    assert_int_equal(cap_uint(0, 2), 12);
}

int
main(void)
{
#define T(name, setup) cmocka_unit_test_setup_teardown(test_##name, setup, teardown_export)
    const struct CMUnitTest tests[] = {
        T(original_exporter_v4, setup_udp1400),        T(original_exporter_v6, setup_udp1400_v6),
        T(delta_times_shifted, setup_udp1400),         T(encode_plan, setup_udp1400),
        T(uptimes_become_milliseconds, setup_udp1400),
    };
#undef T
    return cmocka_run_group_tests(tests, export_group_setup, export_group_teardown);
}
