/* Unit tests of src/ipfix/template.c: template records parsed and compiled (RFC 7011 3.4). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix_build.h"

/* calloc is wrapped (-Wl,--wrap=calloc, see CMakeLists.txt) to see what the parser allocates */
void *__real_calloc(size_t n, size_t size);
void *__wrap_calloc(size_t n, size_t size);
static int calloc_watch;
static size_t calloc_calls, calloc_largest;

void *
__wrap_calloc(size_t n, size_t size)
{
    if (calloc_watch) {
        calloc_calls++;
        if (n * size > calloc_largest) {
            calloc_largest = n * size;
        }
    }
    return __real_calloc(n, size);
}

static struct ixd_ie_registry *registry;
static struct ixd_template_rules rules;
static struct ib rec;

/* result of the last parse() */
static struct ixd_template *tmpl;
static uint16_t tid;
static size_t consumed;
static enum ixd_error why;

static int
group_setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    if (registry == NULL) {
        fprintf(stderr, "registry: %s\n", err);
        return -1;
    }
    return 0;
}

static int
group_teardown(void **state)
{
    ixd_ie_registry_free(registry);
    return 0;
}

static int
setup(void **state)
{
    rules.registry = registry;
    rules.max_fields = 512;
    ib_reset(&rec);
    tmpl = NULL;
    return 0;
}

static int
teardown(void **state)
{
    ixd_template_free(tmpl);
    tmpl = NULL;
    return 0;
}

static enum ixd_tparse
parse_n(size_t avail, int options)
{
    ixd_template_free(tmpl);
    tmpl = NULL;
    tid = 0;
    consumed = 99999;
    why = IXD_ERR__COUNT;
    return ixd_template_parse(rec.buf, avail, options, &rules, &tmpl, &tid, &consumed, &why);
}

static enum ixd_tparse
parse(int options)
{
    return parse_n(rec.len, options);
}

/* 15 fields, 64 bytes: the classic IPv4 flow record */
static void
build_ipv4_template(struct ib *b, uint16_t id)
{
    ib_template(b, id, 15);
    ib_field(b, 8, 4);   /* sourceIPv4Address        @0 */
    ib_field(b, 12, 4);  /* destinationIPv4Address   @4 */
    ib_field(b, 15, 4);  /* ipNextHopIPv4Address     @8 */
    ib_field(b, 10, 4);  /* ingressInterface         @12 */
    ib_field(b, 14, 4);  /* egressInterface          @16 */
    ib_field(b, 2, 8);   /* packetDeltaCount         @20 */
    ib_field(b, 1, 8);   /* octetDeltaCount          @28 */
    ib_field(b, 152, 8); /* flowStartMilliseconds    @36 */
    ib_field(b, 153, 8); /* flowEndMilliseconds      @44 */
    ib_field(b, 7, 2);   /* sourceTransportPort      @52 */
    ib_field(b, 11, 2);  /* destinationTransportPort @54 */
    ib_field(b, 6, 2);   /* tcpControlBits           @56 */
    ib_field(b, 4, 1);   /* protocolIdentifier       @58 */
    ib_field(b, 5, 1);   /* ipClassOfService         @59 */
    ib_field(b, 16, 4);  /* bgpSourceAsNumber        @60 */
}

static void
ipv4_template_compiles(void **state)
{
    static const uint16_t offsets[15] = {0, 4, 8, 12, 16, 20, 28, 36, 44, 52, 54, 56, 58, 59, 60};
    static const uint8_t types[15] = {IXD_TYPE_IPV4,     IXD_TYPE_IPV4,      IXD_TYPE_IPV4,
                                      IXD_TYPE_UNSIGNED, IXD_TYPE_UNSIGNED,  IXD_TYPE_UNSIGNED,
                                      IXD_TYPE_UNSIGNED, IXD_TYPE_TIME_MSEC, IXD_TYPE_TIME_MSEC,
                                      IXD_TYPE_UNSIGNED, IXD_TYPE_UNSIGNED,  IXD_TYPE_UNSIGNED,
                                      IXD_TYPE_UNSIGNED, IXD_TYPE_UNSIGNED,  IXD_TYPE_UNSIGNED};
    static const char *const keys[15] = {
        "sourceIPv4Address",   "destinationIPv4Address",   "ipNextHopIPv4Address",
        "ingressInterface",    "egressInterface",          "packetDeltaCount",
        "octetDeltaCount",     "flowStartMilliseconds",    "flowEndMilliseconds",
        "sourceTransportPort", "destinationTransportPort", "tcpControlBits",
        "protocolIdentifier",  "ipClassOfService",         "bgpSourceAsNumber"};
    unsigned i;

    build_ipv4_template(&rec, 256);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_non_null(tmpl);
    assert_int_equal(tid, 256);
    assert_int_equal(consumed, 64); /* 4 header + 15 * 4 */
    assert_int_equal(tmpl->id, 256);
    assert_int_equal(tmpl->field_count, 15);
    assert_int_equal(tmpl->scope_count, 0);
    assert_int_equal(tmpl->fixed_length, 64);
    assert_int_equal(tmpl->min_length, 64);
    assert_int_equal(tmpl->has_varlen, 0);
    assert_int_equal(tmpl->bad_lengths, 0);
    for (i = 0; i < 15; i++) {
        const struct ixd_field *f = &tmpl->fields[i];
        assert_int_equal(f->offset, offsets[i]);
        assert_int_equal(f->type, types[i]);
        assert_string_equal(f->key, keys[i]);
        assert_true(f->named);
        assert_int_equal(f->pen, 0);
        assert_int_equal(f->after_varlen, 0);
        assert_int_equal(f->repeat, 1);
        assert_int_equal(f->repeat_index, 0);
    }
    assert_int_equal(tmpl->fields[5].length, 8);
    assert_int_equal(tmpl->fields[12].id, 4);
    assert_int_equal(ixd_template_find(tmpl, 0, 8), 0);
    assert_int_equal(ixd_template_find(tmpl, 0, 12), 1);
    assert_int_equal(ixd_template_find(tmpl, 0, 16), 14);
    assert_int_equal(ixd_template_find(tmpl, 0, 999), -1);
    assert_int_equal(ixd_template_find(tmpl, 6871, 8), -1);
}

/* RFC 7011 3.2: the enterprise bit, then a 4-byte enterprise number */
static void
enterprise_fields(void **state)
{
    ib_template(&rec, 300, 3);
    ib_field_en(&rec, 1, 4, 12345); /* unknown enterprise element */
    ib_field_en(&rec, 1, 8, 29305); /* reverseOctetDeltaCount (RFC 5103) */
    ib_field(&rec, 999, 2);         /* unknown IANA element */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(consumed, 4 + 8 + 8 + 4);
    assert_int_equal(tmpl->fields[0].pen, 12345);
    assert_int_equal(tmpl->fields[0].id, 1); /* without the enterprise bit */
    assert_false(tmpl->fields[0].named);
    assert_int_equal(tmpl->fields[0].type, IXD_TYPE_OCTETS);
    assert_string_equal(tmpl->fields[0].key, "en12345:id1");
    assert_int_equal(tmpl->fields[1].pen, 29305);
    assert_true(tmpl->fields[1].named);
    assert_string_equal(tmpl->fields[1].key, "reverseOctetDeltaCount");
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_UNSIGNED);
    assert_int_equal(tmpl->fields[1].offset, 4);
    assert_string_equal(tmpl->fields[2].key, "id999");
    assert_int_equal(tmpl->fields[2].offset, 12);
    assert_int_equal(tmpl->fixed_length, 14);
    assert_int_equal(ixd_template_find(tmpl, 12345, 1), 0);
    assert_int_equal(ixd_template_find(tmpl, 29305, 1), 1);
    assert_int_equal(ixd_template_find(tmpl, 0, 1), -1);
    assert_int_equal(tmpl->bad_lengths, 0);
}

static void
enterprise_key_with_largest_numbers(void **state)
{
    ib_template(&rec, 300, 1);
    ib_field_en(&rec, 0x7fff, 4, 4294967295u);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_string_equal(tmpl->fields[0].key, "en4294967295:id32767");
}

/* RFC 7011 3.4.1: a specifier whose enterprise number is cut off by the set end */
static void
enterprise_pen_cut_off_stops(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 8, 4);
    ib_field_en(&rec, 1, 4, 12345);
    assert_int_equal(parse_n(rec.len - 4, 0), IXD_TPARSE_STOP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LENGTH);
    assert_null(tmpl);
    assert_int_equal(parse_n(rec.len - 1, 0), IXD_TPARSE_STOP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LENGTH);
}

static void
field_count_beyond_set_stops_without_allocating(void **state)
{
    enum ixd_tparse r;

    ib_template(&rec, 300, 65535);
    ib_field(&rec, 8, 4);
    calloc_calls = calloc_largest = 0;
    calloc_watch = 1;
    r = parse(0);
    calloc_watch = 0;
    assert_int_equal(r, IXD_TPARSE_STOP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LENGTH);
    assert_null(tmpl);
    assert_int_equal(calloc_calls, 0);
    assert_int_equal(calloc_largest, 0);

    /* the watch does see the parser's allocation when the count fits */
    ib_put16(&rec, 2, 1);
    calloc_watch = 1;
    r = parse(0);
    calloc_watch = 0;
    assert_int_equal(r, IXD_TPARSE_TEMPLATE);
    assert_int_equal(calloc_calls, 1);
    assert_true(calloc_largest > 0 && calloc_largest < 4096);
}

static void
short_record_header_stops(void **state)
{
    ib_template(&rec, 300, 1);
    ib_field(&rec, 8, 4);
    assert_int_equal(parse_n(3, 0), IXD_TPARSE_STOP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LENGTH);
    assert_int_equal(parse_n(6, 0), IXD_TPARSE_STOP);
    ib_reset(&rec);
    ib_options_template(&rec, 300, 1, 1);
    assert_int_equal(parse_n(5, 1), IXD_TPARSE_STOP); /* scope count cut off */
    assert_int_equal(why, IXD_ERR_TEMPLATE_LENGTH);
}

/* RFC 7011 3.4.1: template IDs 0-255 are reserved; the record is skipped, not the set */
static void
template_id_below_256_skipped_whole(void **state)
{
    size_t first;

    ib_template(&rec, 255, 2);
    ib_field(&rec, 8, 4);
    ib_field_en(&rec, 1, 4, 12345);
    first = rec.len;
    ib_template(&rec, 400, 1);
    ib_field(&rec, 8, 4);
    assert_int_equal(parse(0), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_ID);
    assert_int_equal(tid, 255);
    assert_int_equal(consumed, first);
    assert_null(tmpl);
    assert_int_equal(ixd_template_parse(rec.buf + consumed, rec.len - first, 0, &rules, &tmpl, &tid,
                                        &consumed, &why),
                     IXD_TPARSE_TEMPLATE);
    assert_int_equal(tid, 400);
    assert_int_equal(consumed, 8);
}

/* RFC 7011 8.1: a template withdrawal is a record with field count 0 */
static void
withdrawal_of_one_template(void **state)
{
    ib_template(&rec, 256, 0);
    assert_int_equal(parse(0), IXD_TPARSE_WITHDRAW);
    assert_int_equal(tid, 256);
    assert_int_equal(consumed, 4);
    assert_null(tmpl);
    assert_int_equal(parse(1), IXD_TPARSE_WITHDRAW); /* no scope count in options sets either */
    assert_int_equal(consumed, 4);
}

static void
withdrawal_of_all_and_reserved_ids(void **state)
{
    ib_template(&rec, 2, 0);
    assert_int_equal(parse(0), IXD_TPARSE_WITHDRAW);
    assert_int_equal(tid, 2);
    ib_reset(&rec);
    ib_template(&rec, 3, 0);
    assert_int_equal(parse(1), IXD_TPARSE_WITHDRAW);
    assert_int_equal(tid, 3);
    ib_reset(&rec);
    ib_template(&rec, 100, 0);
    assert_int_equal(parse(0), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_ID);
    assert_int_equal(consumed, 4);
}

static void
options_template_compiles(void **state)
{
    ib_options_template(&rec, 500, 3, 1);
    ib_field(&rec, 149, 4); /* observationDomainId: scope */
    ib_field(&rec, 41, 8);  /* exportedMessageTotalCount */
    ib_field(&rec, 42, 8);  /* exportedFlowRecordTotalCount */
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    assert_int_equal(consumed, 6 + 12);
    assert_int_equal(tmpl->scope_count, 1);
    assert_int_equal(tmpl->field_count, 3);
    assert_int_equal(tmpl->fixed_length, 20);
    assert_string_equal(tmpl->fields[0].key, "observationDomainId");
}

/* RFC 7011 3.4.2.2: the scope field count must not be 0 and at most the field count */
static void
options_scope_zero_or_too_large_skipped(void **state)
{
    ib_options_template(&rec, 500, 2, 0);
    ib_field(&rec, 149, 4);
    ib_field(&rec, 41, 8);
    assert_int_equal(parse(1), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_SCOPE);
    assert_int_equal(consumed, 6 + 8);
    assert_null(tmpl);
    rec.buf[5] = 3; /* scope count 3 > field count 2 */
    assert_int_equal(parse(1), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_SCOPE);
    assert_int_equal(consumed, 6 + 8);
    rec.buf[5] = 2; /* every field a scope field: legal */
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->scope_count, 2);
}

static void
only_zero_length_fields_skipped(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 8, 0);
    ib_field(&rec, 12, 0);
    assert_int_equal(parse(0), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_EMPTY);
    assert_int_equal(consumed, 12);
    assert_null(tmpl);
}

static void
one_zero_length_field_accepted(void **state)
{
    ib_template(&rec, 300, 3);
    ib_field(&rec, 8, 4);
    ib_field(&rec, 12, 0);
    ib_field(&rec, 7, 2);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fixed_length, 6);
    assert_int_equal(tmpl->fields[1].length, 0);
    assert_int_equal(tmpl->fields[1].offset, 4);
    assert_int_equal(tmpl->fields[2].offset, 4);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_IPV4);
    assert_int_equal(tmpl->bad_lengths, 0);
}

/* RFC 7011 section 7: length 65535 marks a variable-length field */
static void
variable_length_fields(void **state)
{
    ib_template(&rec, 300, 4);
    ib_field(&rec, 8, 4);       /* sourceIPv4Address */
    ib_field(&rec, 82, 65535);  /* interfaceName (string) */
    ib_field(&rec, 1, 8);       /* octetDeltaCount */
    ib_field(&rec, 313, 65535); /* ipHeaderPacketSection (octetArray) */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->has_varlen, 1);
    assert_int_equal(tmpl->min_length, 4 + 1 + 8 + 1);
    assert_int_equal(tmpl->fixed_length, 0);
    assert_int_equal(tmpl->fields[0].after_varlen, 0);
    assert_int_equal(tmpl->fields[1].after_varlen, 0);
    assert_int_equal(tmpl->fields[2].after_varlen, 1);
    assert_int_equal(tmpl->fields[3].after_varlen, 1);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_STRING);
    assert_int_equal(tmpl->fields[3].type, IXD_TYPE_OCTETS);
    assert_int_equal(tmpl->fields[1].length, IXD_VARLEN);
    assert_int_equal(tmpl->bad_lengths, 0);
}

/* RFC 7011 6.2: fixed-size types at an illegal length are kept as octets and counted */
static void
ipv4_address_length_8_is_octets(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 8, 8);
    ib_field(&rec, 12, 4);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].type, IXD_TYPE_OCTETS);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_IPV4);
    assert_int_equal(tmpl->bad_lengths, 1);
    assert_string_equal(tmpl->fields[0].key, "sourceIPv4Address");
    assert_int_equal(tmpl->fixed_length, 12);
}

static void
variable_length_unsigned_is_octets(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 1, 65535);
    ib_field(&rec, 56, 6); /* sourceMacAddress */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].type, IXD_TYPE_OCTETS);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_MAC);
    assert_int_equal(tmpl->bad_lengths, 1);
}

/* RFC 7011 6.2: reduced-size encoding of unsigned integers */
static void
reduced_size_unsigned_stays_unsigned(void **state)
{
    ib_template(&rec, 300, 3);
    ib_field(&rec, 1, 4);
    ib_field(&rec, 2, 1);
    ib_field(&rec, 1, 9); /* 9 bytes is too long for unsigned64 */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].type, IXD_TYPE_UNSIGNED);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_UNSIGNED);
    assert_int_equal(tmpl->fields[2].type, IXD_TYPE_OCTETS);
    assert_int_equal(tmpl->bad_lengths, 1);
}

/* RFC 7011 6.2: float64 may be sent as float32 */
static void
float64_as_4_bytes_stays_float_5_is_octets(void **state)
{
    ib_template(&rec, 300, 3);
    ib_field(&rec, 320, 4); /* absoluteError, float64 */
    ib_field(&rec, 320, 8);
    ib_field(&rec, 320, 5);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].type, IXD_TYPE_FLOAT);
    assert_int_equal(tmpl->fields[1].type, IXD_TYPE_FLOAT);
    assert_int_equal(tmpl->fields[2].type, IXD_TYPE_OCTETS);
    assert_int_equal(tmpl->bad_lengths, 1);
}

static void
repeated_element_indexed(void **state)
{
    ib_template(&rec, 300, 4);
    ib_field(&rec, 8, 4);
    ib_field(&rec, 12, 4);
    ib_field(&rec, 8, 4);
    ib_field(&rec, 8, 4);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].repeat, 3);
    assert_int_equal(tmpl->fields[0].repeat_index, 0);
    assert_int_equal(tmpl->fields[2].repeat, 3);
    assert_int_equal(tmpl->fields[2].repeat_index, 1);
    assert_int_equal(tmpl->fields[3].repeat, 3);
    assert_int_equal(tmpl->fields[3].repeat_index, 2);
    assert_int_equal(tmpl->fields[1].repeat, 1);
    assert_int_equal(tmpl->fields[1].repeat_index, 0);
    assert_int_equal(ixd_template_find(tmpl, 0, 8), 0);
    assert_int_equal(tmpl->fields[3].offset, 12);
}

static void
two_sources_repeat_2(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 8, 4);
    ib_field(&rec, 8, 4);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(tmpl->fields[0].repeat, 2);
    assert_int_equal(tmpl->fields[1].repeat, 2);
    assert_int_equal(tmpl->fields[0].repeat_index, 0);
    assert_int_equal(tmpl->fields[1].repeat_index, 1);
}

static void
more_fields_than_limit_skipped(void **state)
{
    unsigned i;

    rules.max_fields = 3;
    ib_template(&rec, 300, 4);
    for (i = 0; i < 4; i++) {
        ib_field(&rec, (uint16_t)(1 + i), 4);
    }
    assert_int_equal(parse(0), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LIMIT);
    assert_int_equal(consumed, 20);
    assert_null(tmpl);
    rules.max_fields = 4;
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
}

/* a record must fit in a message (RFC 7011 3.1: message length is 16 bits) */
static void
record_longer_than_a_message_skipped(void **state)
{
    ib_template(&rec, 300, 2);
    ib_field(&rec, 313, 40000);
    ib_field(&rec, 313, 40000);
    assert_int_equal(parse(0), IXD_TPARSE_SKIP);
    assert_int_equal(why, IXD_ERR_TEMPLATE_LIMIT);
    assert_null(tmpl);
}

static void
many_fields_all_findable(void **state)
{
    unsigned i;

    ib_template(&rec, 300, 200);
    for (i = 0; i < 200; i++) {
        ib_field_en(&rec, (uint16_t)(i * 7), 1, 1000 + i % 3);
    }
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    for (i = 0; i < 200; i++) {
        assert_int_equal(ixd_template_find(tmpl, 1000 + i % 3, (uint16_t)(i * 7)), (int)i);
        assert_int_equal(tmpl->fields[i].offset, i);
    }
    assert_int_equal(ixd_template_find(tmpl, 1000, 1), -1);
}

static void
template_same_compares_layout(void **state)
{
    struct ixd_template *a, *b;

    build_ipv4_template(&rec, 256);
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    a = tmpl;
    tmpl = NULL;
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_same(a, tmpl), 1);
    ixd_template_free(tmpl);
    tmpl = NULL;

    rec.buf[4 + 4 * 5 + 3] = 4; /* packetDeltaCount length 8 -> 4 */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    b = tmpl;
    tmpl = NULL;
    assert_int_equal(ixd_template_same(a, b), 0);
    ixd_template_free(b);

    rec.buf[4 + 4 * 5 + 3] = 8;
    rec.buf[4 + 4 * 5 + 1] = 3; /* packetDeltaCount -> id 3 */
    assert_int_equal(parse(0), IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_same(a, tmpl), 0);
    ixd_template_free(a);
}

static void
template_same_differs_on_count_scope_and_pen(void **state)
{
    struct ixd_template *a;

    ib_options_template(&rec, 500, 2, 1);
    ib_field_en(&rec, 1, 4, 100);
    ib_field(&rec, 2, 4);
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    a = tmpl;
    tmpl = NULL;
    rec.buf[5] = 2; /* scope count 2 */
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_same(a, tmpl), 0);
    rec.buf[5] = 1;
    rec.buf[13] = 101; /* PEN 100 -> 101 */
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_same(a, tmpl), 0);
    rec.buf[13] = 100;
    rec.buf[3] = 1; /* field count 1 */
    assert_int_equal(parse(1), IXD_TPARSE_TEMPLATE);
    assert_int_equal(ixd_template_same(a, tmpl), 0);
    ixd_template_free(a);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        T(ipv4_template_compiles),
        T(enterprise_fields),
        T(enterprise_key_with_largest_numbers),
        T(enterprise_pen_cut_off_stops),
        T(field_count_beyond_set_stops_without_allocating),
        T(short_record_header_stops),
        T(template_id_below_256_skipped_whole),
        T(withdrawal_of_one_template),
        T(withdrawal_of_all_and_reserved_ids),
        T(options_template_compiles),
        T(options_scope_zero_or_too_large_skipped),
        T(only_zero_length_fields_skipped),
        T(one_zero_length_field_accepted),
        T(variable_length_fields),
        T(ipv4_address_length_8_is_octets),
        T(variable_length_unsigned_is_octets),
        T(reduced_size_unsigned_stays_unsigned),
        T(float64_as_4_bytes_stays_float_5_is_octets),
        T(repeated_element_indexed),
        T(two_sources_repeat_2),
        T(more_fields_than_limit_skipped),
        T(record_longer_than_a_message_skipped),
        T(many_fields_all_findable),
        T(template_same_compares_layout),
        T(template_same_differs_on_count_scope_and_pen),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
