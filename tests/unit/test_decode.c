/*
 * Unit tests of src/ipfix/decode.c: message validation (RFC 7011 3.1, 3.3), template sets,
 * data sets with fixed and variable-length records, and batching.
 */
#include "decode_fixture.h"

/* malloc and calloc are wrapped (-Wl,--wrap, see CMakeLists.txt) to count what decoding does */
void *__real_malloc(size_t size);
void *__real_calloc(size_t n, size_t size);
void *__wrap_malloc(size_t size);
void *__wrap_calloc(size_t n, size_t size);
static size_t allocations;

void *
__wrap_malloc(size_t size)
{
    allocations++;
    return __real_malloc(size);
}

void *
__wrap_calloc(size_t n, size_t size)
{
    allocations++;
    return __real_calloc(n, size);
}

static int
validate(size_t len, enum ixd_error *why)
{
    return ixd_message_validate(m.buf, len, why);
}

/* ---- ixd_message_validate (RFC 7011 3.1 and 3.3.2) ---- */

static void
validate_good_message(void **state)
{
    enum ixd_error why = IXD_ERR__COUNT;

    msg_both_256(0, 1, 2);
    assert_int_equal(validate(m.len, &why), 0);
    assert_int_equal(why, IXD_ERR__COUNT);
}

static void
validate_header_only_is_valid(void **state)
{
    enum ixd_error why;

    ib_msg_begin(&m, 0, 0, 0);
    ib_msg_end(&m);
    assert_int_equal(validate(16, &why), 0);
}

static void
validate_shorter_than_header(void **state)
{
    enum ixd_error why = IXD_ERR__COUNT;

    msg_both_256(0, 1, 1);
    assert_int_equal(validate(15, &why), -1);
    assert_int_equal(why, IXD_ERR_MESSAGE_LENGTH);
    assert_int_equal(validate(0, &why), -1);
    assert_int_equal(why, IXD_ERR_MESSAGE_LENGTH);
    m.buf[1] = 9;
    assert_int_equal(validate(10, &why), -1);
    assert_int_equal(why, IXD_ERR_VERSION);
}

static void
validate_version_9(void **state)
{
    enum ixd_error why;

    msg_both_256(0, 1, 1);
    m.buf[1] = 9;
    assert_int_equal(validate(m.len, &why), -1);
    assert_int_equal(why, IXD_ERR_VERSION);
}

static void
validate_header_length_differs_from_received(void **state)
{
    enum ixd_error why;

    msg_both_256(0, 1, 1);
    assert_int_equal(validate(m.len - 1, &why), -1);
    assert_int_equal(why, IXD_ERR_MESSAGE_LENGTH);
    assert_int_equal(validate(m.len + 1, &why), -1);
    assert_int_equal(why, IXD_ERR_MESSAGE_LENGTH);
    ib_put16(&m, 2, 12); /* length field below the header size */
    assert_int_equal(validate(12, &why), -1);
    assert_int_equal(why, IXD_ERR_MESSAGE_LENGTH);
}

static void
validate_set_length_below_4(void **state)
{
    enum ixd_error why;
    uint16_t bad;

    for (bad = 0; bad < 4; bad++) {
        ib_msg_begin(&m, 0, 0, 1);
        ib_u16(&m, 256);
        ib_u16(&m, bad);
        ib_u32(&m, 0);
        ib_msg_end(&m);
        assert_int_equal(validate(m.len, &why), -1);
        assert_int_equal(why, IXD_ERR_SET_LENGTH);
    }
}

static void
validate_set_past_end(void **state)
{
    enum ixd_error why;

    msg_both_256(0, 1, 2);
    ib_put16(&m, 16 + 2, (uint16_t)(m.len - 16 + 4)); /* first set claims 4 bytes too many */
    assert_int_equal(validate(m.len, &why), -1);
    assert_int_equal(why, IXD_ERR_SET_LENGTH);
}

static void
validate_trailing_bytes_after_last_set(void **state)
{
    enum ixd_error why;
    int extra;

    for (extra = 1; extra <= 3; extra++) {
        int i;
        msg_both_256(0, 1, 1);
        for (i = 0; i < extra; i++) {
            ib_u8(&m, 0);
        }
        ib_msg_end(&m);
        assert_int_equal(validate(m.len, &why), -1);
        assert_int_equal(why, IXD_ERR_SET_LENGTH);
    }
}

/* ---- ixd_message_process ---- */

static void
rejected_message_counted(void **state)
{
    msg_both_256(0, 1, 1);
    m.buf[1] = 9;
    assert_int_equal(process(), -1);
    assert_int_equal(ss.counters.messages, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_VERSION], 1);
    assert_int_equal(cap->n, 0);
}

/* RFC 7011 3.4.3: a template may be followed by its data in the same message */
static void
template_and_data_in_one_message(void **state)
{
    msg_both_256(7, 42, 3);
    assert_int_equal(process(), 3);
    assert_int_equal(cap->n, 3);
    assert_int_equal(cap->bad_pointers, 0);
    assert_int_equal(cap->r[0].tid, 256);
    assert_int_equal(cap->r[0].len, 16);
    assert_int_equal(cap_uint(0, 0), 0x0a000000u);
    assert_int_equal(cap_uint(2, 0), 0x0a000002u);
    assert_int_equal(cap_uint(2, 1), 0xc0a80001u);
    assert_int_equal(cap_uint(2, 2), 2000);
    assert_int_equal(ss.counters.messages, 1);
    assert_int_equal(ss.counters.records, 3);
    assert_int_equal(ss.counters.templates, 1);
    assert_int_equal(ss.counters.bytes, m.len);
    assert_int_equal(ixd_counters_errors(&ss.counters), 0);
}

static void
source_describes_the_message(void **state)
{
    msg_both_256(7, 42, 1);
    assert_int_equal(process(), 1);
    assert_string_equal(cap->src.collector, "c1");
    assert_string_equal(cap->src.exporter_text, "192.0.2.1");
    assert_int_equal(cap->src.exporter_port, 5000);
    assert_int_equal(cap->src.odid, 42);
    assert_int_equal(cap->src.sequence, 7);
    assert_int_equal(cap->src.export_time, 1700000000u);
    assert_int_equal(cap->src.received_usec, 1700000000123456LL);
}

/* RFC 7011 8: data without a known template cannot be decoded */
static void
data_before_template(void **state)
{
    msg_data_256(0, 1, 2, 0);
    assert_int_equal(process(), 0);
    assert_int_equal(cap->n, 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    assert_int_equal(sess->exporter->counters.errors[IXD_ERR_NO_TEMPLATE], 1);
    assert_int_equal(ixd_session_domain(sess, 1)->counters->errors[IXD_ERR_NO_TEMPLATE], 1);

    msg_template_256(0, 1);
    assert_int_equal(process(), 0);
    msg_data_256(0, 1, 2, 0);
    assert_int_equal(process(), 2);
    assert_int_equal(cap->n, 2);
    assert_int_equal(cap_uint(1, 2), 1000);
    assert_int_equal(ss.counters.errors[IXD_ERR_NO_TEMPLATE], 1);
}

/* RFC 7011 3.3.2: set IDs 0 and 1 are not used, 4-255 are reserved */
static void
reserved_set_ids_counted_other_sets_decoded(void **state)
{
    static const uint16_t ids[] = {0, 1, 4, 255};
    size_t i;

    ib_msg_begin(&m, 0, 0, 1);
    for (i = 0; i < 4; i++) {
        size_t s = ib_set_begin(&m, ids[i]);
        ib_u32(&m, 0xdeadbeef);
        ib_set_end(&m, s);
    }
    set_template_256(&m);
    set_data_256(&m, 2, 0);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    assert_int_equal(cap->n, 2);
    assert_int_equal(ss.counters.errors[IXD_ERR_SET_ID], 4);
}

/* RFC 7011 3.3.1: padding shorter than a record ends the set */
static void
padding_after_records_ignored(void **state)
{
    size_t s;
    int i;

    ib_msg_begin(&m, 0, 0, 1);
    set_template_256(&m);
    s = ib_set_begin(&m, 256);
    for (i = 0; i < 3; i++) {
        ib_u32(&m, 1);
        ib_u32(&m, 2);
        ib_u64(&m, 3);
    }
    for (i = 0; i < 15; i++) {
        ib_u8(&m, 0);
    }
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 3);
    assert_int_equal(cap->n, 3);
    assert_int_equal(ixd_counters_errors(&ss.counters), 0);
}

/* Template 300: sourceTransportPort (2) + interfaceName (variable length, RFC 7011 7) */
static size_t
begin_varlen_message(void)
{
    size_t s;

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 300, 2);
    ib_field(&m, 7, 2);
    ib_field(&m, 82, IXD_VARLEN);
    ib_set_end(&m, s);
    return ib_set_begin(&m, 300);
}

static void
varlen_one_byte_lengths(void **state)
{
    static uint8_t long_name[254];
    size_t s = begin_varlen_message();

    memset(long_name, 'n', sizeof(long_name));
    ib_u16(&m, 1);
    ib_varlen(&m, "eth0", 4, 0);
    ib_u16(&m, 2);
    ib_varlen(&m, "", 0, 0);
    ib_u16(&m, 3);
    ib_varlen(&m, long_name, 254, 0);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 3);
    assert_int_equal(cap->bad_pointers, 0);
    assert_int_equal(cap->r[0].len, 2 + 1 + 4);
    assert_int_equal(cap->r[0].flen[1], 4);
    assert_int_equal(cap->r[0].off[1], 3);
    assert_memory_equal(cap->r[0].data + 3, "eth0", 4);
    assert_int_equal(cap_uint(1, 0), 2);
    assert_int_equal(cap->r[1].flen[1], 0);
    assert_int_equal(cap->r[1].len, 3);
    assert_int_equal(cap_uint(2, 0), 3);
    assert_int_equal(cap->r[2].flen[1], 254);
    assert_memory_equal(cap->r[2].data + 3, long_name, 254);
}

static void
varlen_three_byte_lengths(void **state)
{
    static uint8_t name[300];
    size_t s = begin_varlen_message();
    size_t i;

    for (i = 0; i < sizeof(name); i++) {
        name[i] = (uint8_t)('a' + i % 26);
    }
    ib_u16(&m, 1);
    ib_varlen(&m, name, 300, 1);
    ib_u16(&m, 2);
    ib_varlen(&m, "abc", 3, 1); /* the 3-byte form is allowed for short values too */
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    assert_int_equal(cap->r[0].len, 2 + 3 + 300);
    assert_int_equal(cap->r[0].off[1], 5);
    assert_int_equal(cap->r[0].flen[1], 300);
    assert_memory_equal(cap->r[0].data + 5, name, 300);
    assert_int_equal(cap->r[1].flen[1], 3);
    assert_memory_equal(cap->r[1].data + 5, "abc", 3);
    assert_int_equal(cap_uint(1, 0), 2);
}

static void
varlen_past_set_end_keeps_earlier_records(void **state)
{
    size_t s = begin_varlen_message();

    ib_u16(&m, 1);
    ib_varlen(&m, "a", 1, 0);
    ib_u16(&m, 2);
    ib_varlen(&m, "bb", 2, 0);
    ib_u16(&m, 3);
    ib_u8(&m, 50); /* 50 bytes announced, 10 present */
    ib_bytes(&m, "0123456789", 10);
    ib_set_end(&m, s);
    set_data_256(&m, 1, 0); /* a later set is still decoded */
    ib_msg_end(&m);
    /* template 256 is unknown here: only the varlen set decodes */
    assert_int_equal(process(), 2);
    assert_int_equal(cap->n, 2);
    assert_int_equal(cap_uint(1, 0), 2);
    assert_int_equal(ss.counters.errors[IXD_ERR_RECORD_LENGTH], 1);
    assert_int_equal(ss.counters.records, 2);
}

static void
varlen_long_length_cut_off(void **state)
{
    size_t s = begin_varlen_message();

    ib_u16(&m, 1);
    ib_varlen(&m, "a", 1, 0);
    ib_u16(&m, 2);
    ib_u8(&m, 255);
    ib_u8(&m, 0); /* the second byte of the length is missing */
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 1);
    assert_int_equal(cap->n, 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_RECORD_LENGTH], 1);
}

static void
varlen_length_65535_with_few_bytes(void **state)
{
    size_t s = begin_varlen_message();

    ib_u16(&m, 1);
    ib_u8(&m, 255);
    ib_u16(&m, 65535);
    ib_bytes(&m, "short", 5);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 0);
    assert_int_equal(cap->n, 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_RECORD_LENGTH], 1);
}

static void
template_refresh_is_not_a_replacement(void **state)
{
    msg_both_256(0, 1, 1);
    assert_int_equal(process(), 1);
    msg_both_256(1, 1, 1);
    assert_int_equal(process(), 1);
    assert_int_equal(ss.counters.templates, 2);
    assert_int_equal(ss.counters.templates_replaced, 0);
    assert_int_equal(cap->n, 2);
}

static void
different_template_same_id_replaces(void **state)
{
    size_t s;

    msg_both_256(0, 1, 1);
    assert_int_equal(process(), 1);
    ib_msg_begin(&m, 0, 1, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 2); /* now: protocolIdentifier (1), sourceTransportPort (2) */
    ib_field(&m, 4, 1);
    ib_field(&m, 7, 2);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 256);
    ib_u8(&m, 17);
    ib_u16(&m, 53);
    ib_u8(&m, 6);
    ib_u16(&m, 443);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 2);
    assert_int_equal(ss.counters.templates_replaced, 1);
    assert_int_equal(cap->n, 3);
    assert_int_equal(cap->r[1].len, 3);
    assert_int_equal(cap_uint(1, 0), 17);
    assert_int_equal(cap_uint(1, 1), 53);
    assert_int_equal(cap_uint(2, 0), 6);
    assert_int_equal(cap_uint(2, 1), 443);
}

static void
template_record_errors_counted(void **state)
{
    size_t s;

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 200, 1); /* reserved ID: skipped, the next record still parsed */
    ib_field(&m, 8, 4);
    ib_template(&m, 256, 3);
    ib_field(&m, 8, 8); /* illegal length for an IPv4 address */
    ib_field(&m, 12, 4);
    ib_field(&m, 1, 8);
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 256);
    ib_u64(&m, 0x0102030405060708ULL);
    ib_u32(&m, 0xc0a80001u);
    ib_u64(&m, 77);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 1);
    assert_int_equal(cap_uint(0, 0), 0x0102030405060708ULL);
    assert_int_equal(cap_uint(0, 2), 77);
    assert_int_equal(ss.counters.errors[IXD_ERR_TEMPLATE_ID], 1);
    assert_int_equal(ss.counters.errors[IXD_ERR_FIELD_LENGTH], 1);
    assert_int_equal(cap->r[0].flen[0], 8);
}

static void
templates_per_session_limit(void **state)
{
    size_t s;
    uint16_t id;

    teardown(state);
    start(0, 2);
    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    for (id = 256; id < 259; id++) {
        ib_template(&m, id, 1);
        ib_field(&m, 8, 4);
    }
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 0);
    assert_int_equal(ss.counters.errors[IXD_ERR_TEMPLATE_LIMIT], 1);
    assert_null(ixd_domain_template(sess, ixd_session_domain(sess, 1), 258, T0));
    assert_non_null(ixd_domain_template(sess, ixd_session_domain(sess, 1), 257, T0));
}

static void
options_records_counted(void **state)
{
    size_t s;

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&m, 400, 2, 1);
    ib_field(&m, 149, 4);
    ib_field(&m, 41, 8);
    ib_u16(&m, 0); /* padding (RFC 7011 3.3.1) */
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 400);
    ib_u32(&m, 1);
    ib_u64(&m, 99);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 1);
    assert_int_equal(cap_uint(0, 1), 99);
    assert_int_equal(ss.counters.options_records, 1);
    assert_int_equal(ss.counters.records, 1);
}

static void
many_records_arrive_in_several_batches(void **state)
{
    size_t s, i;

    ib_msg_begin(&m, 0, 0, 1);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 256, 1);
    ib_field(&m, 4, 1); /* protocolIdentifier */
    ib_set_end(&m, s);
    s = ib_set_begin(&m, 256);
    for (i = 0; i < 600; i++) {
        ib_u8(&m, (uint8_t)i);
    }
    ib_set_end(&m, s);
    ib_msg_end(&m);
    assert_int_equal(process(), 600);
    assert_int_equal(cap->n, 600);
    assert_int_equal(cap->bad_pointers, 0);
    assert_true(cap->calls >= 3);
    for (i = 0; i < cap->calls && i < 16; i++) {
        assert_true(cap->batch_sizes[i] <= IXD_BATCH_MAX);
    }
    for (i = 0; i < 600; i++) {
        assert_int_equal(cap->r[i].len, 1);
        assert_int_equal(cap_uint(i, 0), i & 0xff);
    }
    assert_int_equal(ss.counters.records, 600);
}

/* docs/internals/record-model.md: decoding a data set allocates nothing */
static void
decoding_data_allocates_nothing(void **state)
{
    size_t s, before;

    ib_msg_begin(&m, 0, 0, 1);
    set_template_256(&m);
    s = ib_set_begin(&m, IXD_SET_TEMPLATE);
    ib_template(&m, 300, 2);
    ib_field(&m, 7, 2);
    ib_field(&m, 82, IXD_VARLEN);
    ib_set_end(&m, s);
    ib_msg_end(&m);
    before = allocations;
    assert_int_equal(process(), 0);
    assert_true(allocations > before); /* the wrap sees the templates being stored */

    ib_msg_begin(&m, 0, 0, 1);
    set_data_256(&m, 300, 0);
    s = ib_set_begin(&m, 300);
    for (unsigned i = 0; i < 300; i++) {
        ib_u16(&m, (uint16_t)i);
        ib_varlen(&m, "eth0", 4, i % 2);
    }
    ib_set_end(&m, s);
    ib_msg_end(&m);
    before = allocations;
    assert_int_equal(process(), 600);
    assert_int_equal(allocations, before);
    assert_int_equal(cap->n, 600);
    assert_int_equal(cap->bad_pointers, 0);
    assert_int_equal(cap_uint(599, 0), 299);
    assert_int_equal(cap->r[599].flen[1], 4);
}

#define U(f) cmocka_unit_test_setup_teardown(f, setup_udp, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        U(validate_good_message),
        U(validate_header_only_is_valid),
        U(validate_shorter_than_header),
        U(validate_version_9),
        U(validate_header_length_differs_from_received),
        U(validate_set_length_below_4),
        U(validate_set_past_end),
        U(validate_trailing_bytes_after_last_set),
        U(rejected_message_counted),
        U(template_and_data_in_one_message),
        U(source_describes_the_message),
        U(data_before_template),
        U(reserved_set_ids_counted_other_sets_decoded),
        U(padding_after_records_ignored),
        U(varlen_one_byte_lengths),
        U(varlen_three_byte_lengths),
        U(varlen_past_set_end_keeps_earlier_records),
        U(varlen_long_length_cut_off),
        U(varlen_length_65535_with_few_bytes),
        U(template_refresh_is_not_a_replacement),
        U(different_template_same_id_replaces),
        U(template_record_errors_counted),
        U(templates_per_session_limit),
        U(options_records_counted),
        U(many_records_arrive_in_several_batches),
        U(decoding_data_allocates_nothing),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
