/* The example scripts of lua/examples/, each run by the lua stage over real batches, as
 * docs/lua.md shows them configured. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "lua_harness.h"

/* Record i of feed(), with another source address. */
static void
set_source(unsigned i, const char *addr)
{
    struct in_addr a;

    assert_int_equal(inet_pton(AF_INET, addr, &a), 1);
    memcpy(bytes[i], &a, 4);
}

static void
feed_as_is(struct run *r, unsigned n, const struct ixd_source *src)
{
    struct ixd_batch b = {src, n, records};

    for (unsigned i = 0; i < n; i++) {
        records[i] = (struct ixd_record){flow, bytes[i], FLOW_LEN, NULL, NULL};
    }
    ixd_pipeline_process(r->run, &b);
}

static void
fill(unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        flow_record(bytes[i], i);
    }
}

static int
examples_setup(void **state)
{
    lua_dir = IXD_LUA_EXAMPLES;
    return harness_setup(state);
}

static void
drop_internal(void **state)
{
    struct run r;

    start(&r, NULL, "{file: drop_internal.lua}");
    fill(4);
    set_source(0, "192.0.2.9");        /* external to internal: kept */
    memcpy(bytes[1] + 4, bytes[2], 4); /* 10.0.0.1 -> 10.0.0.2: dropped */
    set_source(3, "172.16.5.5");
    memcpy(bytes[3] + 4, bytes[0], 4); /* 172.16.5.5 -> 192.0.2.9: kept */
    feed_as_is(&r, 4, &source);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(seen->len, 3);
    assert_null(strstr(line(1), "\"sourceIPv4Address\":\"10.0.0.1\""));
    stop(&r);

    /* the internal prefixes from the settings: 192.0.2.0/24 too, so 10/8 <-> 192.0.2/24 */
    start(&r, NULL, "{file: drop_internal.lua, settings: {internal: [10.0.0.0/8, 192.0.2.0/24]}}");
    feed(&r, 8);
    assert_int_equal(seen->len, 0);
    assert_int_equal(counter(&r, "dropped", NULL), 8);
    stop(&r);
}

static void
tag_subnets(void **state)
{
    struct run r;

    start(&r, NULL,
          "{file: tag_subnets.lua, settings: {file: subnets.csv, element: applicationName, "
          "default: outside}}");
    fill(4);
    set_source(1, "10.20.1.1");
    set_source(2, "10.20.99.7");
    set_source(3, "198.51.100.1");
    feed_as_is(&r, 4, &source);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_non_null(strstr(line(0), "\"applicationName\":\"campus\""));
    assert_non_null(strstr(line(1), "\"applicationName\":\"datacenter\""));
    assert_non_null(strstr(line(2), "\"applicationName\":\"dmz\""));
    assert_non_null(strstr(line(3), "\"applicationName\":\"outside\""));
    stop(&r);
}

static void
interface_names(void **state)
{
    struct ixd_template_rules rules = {reg, 64, 0};
    struct ixd_template *opt = NULL, *data = NULL;
    static const uint16_t data_spec[][2] = {{10, 4}, {1, 8}};
    uint8_t orec[2][20], drec[3][12];
    struct ixd_record recs[3];
    struct ixd_batch b = {&source, 2, recs};
    enum ixd_error why;
    size_t used;
    uint16_t tid;
    struct ib o;
    struct run r;

    /* options template 400: scope ingressInterface, interfaceName (16 bytes, NUL-padded) */
    ib_reset(&o);
    ib_u16(&o, 400);
    ib_u16(&o, 2);
    ib_u16(&o, 1);
    ib_field(&o, 10, 4);
    ib_field(&o, 82, 16);
    assert_int_equal(ixd_template_parse(o.buf, o.len, 1, &rules, &opt, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    data = make_template(401, data_spec, 2);
    memset(orec, 0, sizeof(orec));
    ixd_put32(orec[0], 3);
    memcpy(orec[0] + 4, "ge-0/0/3", 8);
    ixd_put32(orec[1], 4);
    memcpy(orec[1] + 4, "xe-1/0/0", 8);
    start(&r, NULL, "{file: interface_names.lua, trusted: true}");
    recs[0] = (struct ixd_record){opt, orec[0], 20, NULL, NULL};
    recs[1] = (struct ixd_record){opt, orec[1], 20, NULL, NULL};
    ixd_pipeline_process(r.run, &b);
    for (unsigned i = 0; i < 3; i++) {
        ixd_put32(drec[i], 3 + i); /* interfaces 3, 4 and 5 (unknown) */
        ixd_put32(drec[i] + 4, 0);
        ixd_put32(drec[i] + 8, 100 + i);
        recs[i] = (struct ixd_record){data, drec[i], 12, NULL, NULL};
    }
    b.count = 3;
    ixd_pipeline_process(r.run, &b);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(seen->len, 5); /* the options records pass too */
    assert_non_null(strstr(line(2), "\"interfaceName\":\"ge-0/0/3\""));
    assert_non_null(strstr(line(3), "\"interfaceName\":\"xe-1/0/0\""));
    assert_null(strstr(line(4), "interfaceName"));
    stop(&r);
    ixd_template_free(opt);
    ixd_template_free(data);
}

static uint32_t
one_in_ten(const struct ixd_resolver *res, const struct ixd_record *rec)
{
    return 10;
}

static void
renormalise(void **state)
{
    struct ixd_resolver res = {NULL, NULL, one_in_ten};
    struct ixd_source sampled = source;
    struct run r;

    sampled.resolver = &res;
    for (size_t m = 0; m < 2; m++) {
        start(&r, NULL,
              m == 0 ? "{file: renormalise.lua}" : "{file: renormalise.lua, trusted: true}");
        fill(4);
        feed_as_is(&r, 4, &sampled);
        assert_int_equal(counter(&r, "errors", NULL), 0);
        assert_non_null(strstr(line(2), "\"octetDeltaCount\":20000,\"packetDeltaCount\":20,"));
        /* (2^60 + 1) * 10, exactly */
        assert_non_null(strstr(line(3), "\"octetDeltaCount\":11529215046068469770,"));
        feed_as_is(&r, 4, &source); /* unsampled: as they came */
        assert_non_null(strstr(line(6), "\"octetDeltaCount\":2000,\"packetDeltaCount\":2,"));
        stop(&r);
    }
}

static void
top_talkers(void **state)
{
    struct run r;

    start(&r, NULL, "{file: top_talkers.lua, settings: {window: 0, top: 2}}");
    fill(6);
    set_source(5, "10.0.0.4"); /* 10.0.0.4 twice: 4000 + 5000 */
    feed_as_is(&r, 6, &source);
    assert_int_equal(seen->len, 6);
    ixd_pipeline_tick(r.run, 1.0);
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(seen->len, 8);
    assert_non_null(strstr(line(6), "\"sourceIPv4Address\":\"10.0.0.3\""));
    assert_non_null(strstr(line(6), "\"octetDeltaCount\":1152921504606846977"));
    assert_non_null(strstr(line(7), "\"sourceIPv4Address\":\"10.0.0.4\""));
    assert_non_null(strstr(line(7), "\"octetDeltaCount\":9000,"));
    assert_non_null(strstr(line(7), "\"packetDeltaCount\":9,"));
    assert_int_equal(counter(&r, "value", "windows"), 1);
    ixd_pipeline_tick(r.run, 2.0); /* an empty window emits nothing */
    assert_int_equal(seen->len, 8);
    stop(&r);
}

static void
dedup(void **state)
{
    struct ixd_source other = source;
    struct run r;

    snprintf(other.exporter_text, sizeof(other.exporter_text), "192.0.2.2");
    other.received_usec = source.received_usec = 1700000000000000LL;
    start(&r, NULL, "{file: dedup.lua, settings: {window: 10}}");
    fill(5);
    feed_as_is(&r, 5, &source);
    feed_as_is(&r, 5, &other);  /* the same flows from another exporter: dropped */
    feed_as_is(&r, 5, &source); /* the first exporter again: passes */
    assert_int_equal(counter(&r, "errors", NULL), 0);
    assert_int_equal(seen->len, 10);
    assert_int_equal(counter(&r, "value", "duplicates"), 5);
    other.received_usec += 11000000; /* past the window: a new flow */
    feed_as_is(&r, 5, &other);
    assert_int_equal(seen->len, 15);
    stop(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(drop_internal),   cmocka_unit_test(tag_subnets),
        cmocka_unit_test(interface_names), cmocka_unit_test(renormalise),
        cmocka_unit_test(top_talkers),     cmocka_unit_test(dedup),
    };

    return cmocka_run_group_tests(tests, examples_setup, harness_teardown);
}
