/* NetFlow v9 and v5 rewritten as IPFIX (docs/internals/netflow.md), then decoded. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/netflow.h"
#include "ipfix/wire.h"
#include "ipfix_build.h"

static struct ixd_ie_registry *registry;
static struct ixd_sessions ss;
static struct ixd_session *sess;
static struct ixd_decoder *dec;
static struct ib m;
static struct {
    unsigned n;
    const struct ixd_template *tmpl;
    uint8_t first[64];
    int64_t system_init_ms;
} got;

static void
deliver(void *arg, const struct ixd_batch *b)
{
    if (got.n == 0 && b->count > 0) {
        got.tmpl = b->records[0].tmpl;
        memcpy(got.first, b->records[0].data,
               b->records[0].length < 64 ? b->records[0].length : 64);
    }
    got.system_init_ms = b->source->system_init_ms;
    got.n += (unsigned)b->count;
}

static int
setup(void **state)
{
    struct ixd_session_limits limits;
    struct ixd_template_rules rules;
    struct sockaddr_in sin;
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    dec = calloc(1, sizeof(*dec));
    ixd_session_limits_default(&limits);
    limits.hold = 0;
    rules.registry = registry;
    rules.max_fields = 512;
    rules.max_record = 0;
    ixd_sessions_init(&ss, "nf", 0, &rules, &limits);
    memset(&sin, 0, sizeof(sin));
    sin.sin_family = AF_INET;
    sin.sin_port = htons(2055);
    sin.sin_addr.s_addr = htonl(0xc0000201);
    sess = ixd_session_udp(&ss, (const struct sockaddr *)&sin, 1000.0);
    ixd_decoder_init(dec, deliver, NULL);
    memset(&got, 0, sizeof(got));
    return registry != NULL && dec != NULL && sess != NULL ? 0 : -1;
}

static int
teardown(void **state)
{
    ixd_sessions_release(&ss);
    ixd_ie_registry_free(registry);
    free(dec);
    return 0;
}

/* v9 header (RFC 3954 5.1): version, count, uptime, unix_secs, sequence, source ID */
static void
v9_header(uint32_t seq)
{
    ib_reset(&m);
    ib_u16(&m, 9);
    ib_u16(&m, 0);
    ib_u32(&m, 60000);      /* up for a minute */
    ib_u32(&m, 1700000000); /* 2023-11-14T22:13:20Z */
    ib_u32(&m, seq);
    ib_u32(&m, 7);
}

static int
process(void)
{
    return ixd_netflow_process(dec, sess, m.buf, m.len, 1000.0, 0);
}

static void
v9_vendor_types_become_enterprise_elements(void **state)
{
    size_t s;

    v9_header(0);
    s = ib_set_begin(&m, 0);
    ib_template(&m, 260, 3);
    ib_field(&m, 8, 4);      /* IPV4_SRC_ADDR */
    ib_field(&m, 40005, 1);  /* Cisco ASA NF_F_FW_EVENT: a vendor type, not the enterprise bit */
    ib_field(&m, 22, 4);     /* FIRST_SWITCHED */
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 260);
    ib_u32(&m, 0x0a000001);
    ib_u8(&m, 2);
    ib_u32(&m, 59000);       /* a second before the export */
    ib_set_end(&m, s);
    assert_int_equal(process(), 1);
    assert_int_equal(got.n, 1);
    assert_int_equal(got.tmpl->fields[1].pen, 9);
    assert_int_equal(got.tmpl->fields[1].id, 40005 - 32768);
    assert_string_equal(got.tmpl->fields[1].key, "en9:id7237");
    assert_int_equal(got.tmpl->fields[2].type, IXD_TYPE_UPTIME);
    /* boot time from the header: unix_secs * 1000 - uptime */
    assert_int_equal(got.system_init_ms, 1700000000000LL - 60000);
    assert_int_equal(ss.counters.records, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_TEMPLATE_ID], 0);
}

static void
v9_options_scope_types_map_to_ipfix_elements(void **state)
{
    size_t s;

    v9_header(0);
    s = ib_set_begin(&m, 1);
    ib_u16(&m, 300); /* template ID */
    ib_u16(&m, 4);   /* scope length in bytes: one scope field */
    ib_u16(&m, 8);   /* option length in bytes: two fields */
    ib_field(&m, 2, 4);  /* scope Interface */
    ib_field(&m, 34, 4); /* SAMPLING_INTERVAL */
    ib_field(&m, 35, 1); /* SAMPLING_ALGORITHM */
    ib_u16(&m, 0);       /* padding */
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 300);
    ib_u32(&m, 5);
    ib_u32(&m, 100);
    ib_u8(&m, 1);
    ib_set_end(&m, s);
    assert_int_equal(process(), 1);
    assert_int_equal(got.tmpl->scope_count, 1);
    assert_string_equal(got.tmpl->fields[0].key, "ingressInterface");
    assert_string_equal(got.tmpl->fields[1].key, "samplingInterval");
    assert_int_equal(ss.counters.options_records, 1);
}

static void
v9_trailing_zeros_are_padding_but_garbage_is_not(void **state)
{
    size_t s;
    int i;

    v9_header(0);
    s = ib_set_begin(&m, 0);
    ib_template(&m, 261, 1);
    ib_field(&m, 8, 4);
    ib_set_end(&m, s);
    for (i = 0; i < 64; i++) {
        ib_u8(&m, 0);
    }
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.templates, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_SET_LENGTH], 0);
    v9_header(1);
    ib_u16(&m, 0);
    ib_u16(&m, 2); /* a flowset length of 2 */
    ib_u32(&m, 0xdeadbeef);
    assert_int_equal(process(), -1);
    assert_int_equal(ss.counters.errors[IXD_ERR_SET_LENGTH], 1);
}

/* v9 sequence numbers count packets (RFC 3954 5.1), not records */
static void
v9_sequence_counts_packets(void **state)
{
    int i;

    for (i = 0; i < 3; i++) {
        v9_header(i == 2 ? 5 : (uint32_t)i);
        process();
    }
    assert_int_equal(ss.counters.seq_lost, 3);
}

static void
v5_records_decode_with_their_ipfix_elements(void **state)
{
    uint8_t rec[48];
    int i;

    ib_reset(&m);
    ib_u16(&m, 5);
    ib_u16(&m, 2);          /* count */
    ib_u32(&m, 60000);      /* uptime */
    ib_u32(&m, 1700000000); /* unix_secs */
    ib_u32(&m, 500000000);  /* unix_nsecs: half a second */
    ib_u32(&m, 40);         /* flow_sequence */
    ib_u8(&m, 1);           /* engine type */
    ib_u8(&m, 2);           /* engine id */
    ib_u16(&m, 0);          /* sampling */
    memset(rec, 0, sizeof(rec));
    rec[0] = 10, rec[3] = 1;        /* srcaddr 10.0.0.1 */
    rec[19] = 7;                    /* dOctets 7 */
    rec[32] = 0x01, rec[33] = 0xbb; /* srcport 443 */
    rec[38] = 6;                    /* prot */
    for (i = 0; i < 2; i++) {
        ib_bytes(&m, rec, sizeof(rec));
    }
    assert_int_equal(process(), 2);
    assert_int_equal(got.n, 2);
    assert_int_equal(got.tmpl->fixed_length, 48);
    assert_string_equal(got.tmpl->fields[0].key, "sourceIPv4Address");
    assert_string_equal(got.tmpl->fields[6].key, "octetDeltaCount");
    assert_string_equal(got.tmpl->fields[9].key, "sourceTransportPort");
    assert_string_equal(got.tmpl->fields[13].key, "protocolIdentifier");
    assert_int_equal(got.tmpl->fields[11].type, IXD_TYPE_PADDING);
    assert_int_equal(got.system_init_ms, 1700000000500LL - 60000);
    assert_int_equal(ss.counters.records, 2);
    /* flow_sequence counts flows like IPFIX: the next packet at 42 loses nothing */
    m.buf[19] = 42;
    process();
    assert_int_equal(ss.counters.seq_lost, 0);
}

static void
v5_count_beyond_30_is_refused(void **state)
{
    ib_reset(&m);
    ib_u16(&m, 5);
    ib_u16(&m, 55582);
    while (m.len < 24 + 30 * 48) {
        ib_u8(&m, 0);
    }
    assert_int_equal(process(), -1);
    assert_int_equal(ss.counters.errors[IXD_ERR_MESSAGE_LENGTH], 1);
    assert_int_equal(got.n, 0);
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(v9_vendor_types_become_enterprise_elements),
        T(v9_options_scope_types_map_to_ipfix_elements),
        T(v9_trailing_zeros_are_padding_but_garbage_is_not),
        T(v9_sequence_counts_packets),
        T(v5_records_decode_with_their_ipfix_elements),
        T(v5_count_beyond_30_is_refused),
    };
#undef T
    return cmocka_run_group_tests(tests, NULL, NULL);
}
