/* Unit tests of src/pipeline/filter_*.c: the filter language, its errors, and compiled matching. */
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
#include "ipfix/wire.h"
#include "pipeline/filter.h"
#include "ipfix_build.h"

#define MAX_FIELDS 32

static struct ixd_ie_registry *registry;
static struct ixd_template_rules rules;
static struct ib scratch;

/* A field specifier: IANA when pen is 0. */
struct spec {
    uint16_t id;
    uint16_t length;
    uint32_t pen;
};

/* A record under construction and the record view over it. */
struct rec {
    struct ixd_template *t;
    struct ib b;
    uint16_t offsets[MAX_FIELDS], lengths[MAX_FIELDS];
    struct ixd_record r;
};

static struct rec rec4, rec6, rec_a, rec_b;

static int
group_setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    if (registry == NULL) {
        fprintf(stderr, "registry: %s\n", err);
        return -1;
    }
    rules.registry = registry;
    rules.max_fields = 512;
    return 0;
}

static int
group_teardown(void **state)
{
    ixd_ie_registry_free(registry);
    return 0;
}

static int
teardown(void **state)
{
    struct rec *all[] = {&rec4, &rec6, &rec_a, &rec_b};
    size_t i;

    for (i = 0; i < sizeof(all) / sizeof(all[0]); i++) {
        ixd_template_free(all[i]->t);
        all[i]->t = NULL;
    }
    return 0;
}

static struct ixd_template *
make_template(const struct spec *s, size_t n)
{
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t consumed, i;
    uint16_t tid;

    ib_reset(&scratch);
    ib_template(&scratch, 256, (uint16_t)n);
    for (i = 0; i < n; i++) {
        if (s[i].pen != 0) {
            ib_field_en(&scratch, s[i].id, s[i].length, s[i].pen);
        } else {
            ib_field(&scratch, s[i].id, s[i].length);
        }
    }
    assert_int_equal(
        ixd_template_parse(scratch.buf, scratch.len, 0, &rules, &t, &tid, &consumed, &why),
        IXD_TPARSE_TEMPLATE);
    return t;
}

/* Starts a record of a new template; the values follow with ib_*() on x->b. */
static void
rec_begin(struct rec *x, const struct spec *s, size_t n)
{
    ixd_template_free(x->t);
    x->t = make_template(s, n);
    ib_reset(&x->b);
}

/* Lays the record out as the decoder does (variable-length fields walked once). */
static const struct ixd_record *
rec_end(struct rec *x)
{
    size_t pos = 0;
    uint16_t i;

    x->r.tmpl = x->t;
    x->r.data = x->b.buf;
    x->r.length = (uint32_t)x->b.len;
    x->r.offsets = NULL;
    x->r.lengths = NULL;
    if (!x->t->has_varlen) {
        assert_int_equal(x->b.len, x->t->fixed_length);
        return &x->r;
    }
    for (i = 0; i < x->t->field_count; i++) {
        size_t len = x->t->fields[i].length;
        if (len == IXD_VARLEN) {
            len = x->b.buf[pos++];
            if (len == 255) {
                len = ixd_get16(x->b.buf + pos);
                pos += 2;
            }
        }
        x->offsets[i] = (uint16_t)pos;
        x->lengths[i] = (uint16_t)len;
        pos += len;
    }
    assert_int_equal(pos, x->b.len);
    x->r.offsets = x->offsets;
    x->r.lengths = x->lengths;
    return &x->r;
}

static struct ixd_filter *
parse_ok(const char *text)
{
    char err[256];
    struct ixd_filter *f = ixd_filter_parse(text, registry, err, sizeof(err));

    if (f == NULL) {
        fail_msg("'%s' does not parse: %s", text, err);
    }
    return f;
}

static int
matches(const char *text, const struct ixd_record *r)
{
    struct ixd_filter *f = parse_ok(text);
    struct ixd_filter_prog *prog = ixd_filter_compile(f, r->tmpl);
    int m;

    assert_non_null(prog);
    m = ixd_filter_match(prog, r);
    ixd_filter_prog_free(prog);
    ixd_filter_free(f);
    return m;
}

static void
expect(const char *text, const struct ixd_record *r, int want)
{
    int got = matches(text, r);

    if (got != want) {
        fail_msg("'%s' gave %d, expected %d", text, got, want);
    }
}

/* Like expect(), and the program must have folded to that constant. */
static void
expect_constant(const char *text, const struct ixd_template *t, int want)
{
    struct ixd_filter *f = parse_ok(text);
    struct ixd_filter_prog *prog = ixd_filter_compile(f, t);
    int got = ixd_filter_prog_constant(prog);

    ixd_filter_prog_free(prog);
    ixd_filter_free(f);
    if (got != want) {
        fail_msg("'%s' folded to %d, expected %d", text, got, want);
    }
}

static void
expect_error(const char *text, const char *want)
{
    char err[256] = "";
    struct ixd_filter *f = ixd_filter_parse(text, registry, err, sizeof(err));

    if (f != NULL) {
        ixd_filter_free(f);
        fail_msg("'%s' parsed, expected: %s", text, want);
    }
    if (strcmp(err, want) != 0) {
        fail_msg("'%s'\n  got:  %s\n  want: %s", text, err, want);
    }
}

static const struct spec ipv4_flow[] = {
    {8, 4, 0},   /* sourceIPv4Address */
    {12, 4, 0},  /* destinationIPv4Address */
    {7, 2, 0},   /* sourceTransportPort */
    {11, 2, 0},  /* destinationTransportPort */
    {4, 1, 0},   /* protocolIdentifier */
    {1, 8, 0},   /* octetDeltaCount */
    {2, 4, 0},   /* packetDeltaCount, reduced to 4 bytes */
    {56, 6, 0},  /* sourceMacAddress */
    {152, 8, 0}, /* flowStartMilliseconds */
    {150, 4, 0}, /* flowStartSeconds */
    {22, 4, 0},  /* flowStartSysUpTime */
};

#define T_2024_MS UINT64_C(1704067200000) /* 2024-01-01T00:00:00Z */

/* 10.1.2.3:51000 -> 192.168.1.10:443 tcp, 1500 bytes, 3 packets, started 2024-01-01 +250 ms */
static const struct ixd_record *
ipv4_record(void)
{
    static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0x3c, 0x4d, 0x5e};

    rec_begin(&rec4, ipv4_flow, sizeof(ipv4_flow) / sizeof(ipv4_flow[0]));
    ib_u32(&rec4.b, 0x0a010203);
    ib_u32(&rec4.b, 0xc0a8010a);
    ib_u16(&rec4.b, 51000);
    ib_u16(&rec4.b, 443);
    ib_u8(&rec4.b, 6);
    ib_u64(&rec4.b, 1500);
    ib_u32(&rec4.b, 3);
    ib_bytes(&rec4.b, mac, sizeof(mac));
    ib_u64(&rec4.b, T_2024_MS + 250);
    ib_u32(&rec4.b, (uint32_t)(T_2024_MS / 1000));
    ib_u32(&rec4.b, 5000);
    return rec_end(&rec4);
}

/* [2001:db8::1]:53 -> [fe80::2]:40000 udp, 300 bytes in a 2-byte field */
static const struct ixd_record *
ipv6_record(void)
{
    static const struct spec s[] = {{27, 16, 0}, {28, 16, 0}, {7, 2, 0},
                                    {11, 2, 0},  {4, 1, 0},   {1, 2, 0}};
    static const uint8_t src[16] = {0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    static const uint8_t dst[16] = {0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2};

    rec_begin(&rec6, s, sizeof(s) / sizeof(s[0]));
    ib_bytes(&rec6.b, src, 16);
    ib_bytes(&rec6.b, dst, 16);
    ib_u16(&rec6.b, 53);
    ib_u16(&rec6.b, 40000);
    ib_u8(&rec6.b, 17);
    ib_u16(&rec6.b, 300);
    return rec_end(&rec6);
}

static void
parse_errors(void **state)
{
    char deep[200] = "";
    int i;

    expect_error("", "column 1: expected an element name, 'exists', 'not' or '(', found the end "
                     "of the filter");
    expect_error("destinationTransportPort in",
                 "column 28: expected a value after 'in', found the end of the filter");
    expect_error("sourceTransportPort in [80, 443",
                 "column 32: expected ',' or ']' to close the '[' at column 24, found the end of "
                 "the filter");
    expect_error("sourceTransportPort in []", "column 25: expected a value after '[', found ']'");
    expect_error(
        "sourceIPv4Adress == 10.0.0.1",
        "column 1: unknown element 'sourceIPv4Adress' (did you mean 'sourceIPv4Address'?)");
    expect_error(
        "sourceipv4address == 10.0.0.1",
        "column 1: unknown element 'sourceipv4address' (did you mean 'sourceIPv4Address'?)");
    expect_error("prot tcp", "column 1: unknown element 'prot' (did you mean 'proto'?)");
    expect_error("id99999 == 1", "column 1: unknown element 'id99999'");
    expect_error("destinationTransportPort == 10.0.0.0/8",
                 "column 29: a prefix does not apply to destinationTransportPort (unsigned16)");
    expect_error("sourceTransportPort == -5",
                 "column 24: -5 is negative but sourceTransportPort is unsigned16");
    expect_error("sourceTransportPort == 70000",
                 "column 24: 70000 is out of range for sourceTransportPort (unsigned16: 0..65535)");
    expect_error("octetDeltaCount > 18446744073709551616",
                 "column 19: 18446744073709551616 is out of range for octetDeltaCount (unsigned64: "
                 "0..18446744073709551615)");
    expect_error(
        "(proto tcp",
        "column 11: expected ')' to close the '(' at column 1, found the end of the filter");
    expect_error("proto tcp port 80",
                 "column 11: expected 'and', 'or' or the end of the filter, found 'port'");
    expect_error("proto == foo", "column 10: 'foo' is not a valid value for proto (unsigned8): "
                                 "expected a number or a protocol name (tcp, udp, icmp, icmp6, "
                                 "gre, esp, ...)");
    expect_error(
        "src ip == 10.1.2.3/8",
        "column 11: '10.1.2.3/8' has bits set after the prefix (did you mean 10.0.0.0/8?)");
    expect_error("dst ip in 2001:db8::1/32",
                 "column 11: '2001:db8::1/32' has bits set after the prefix (did you mean "
                 "2001:db8::/32?)");
    expect_error("src ip == 10.0.0.0/33",
                 "column 11: '10.0.0.0/33' has a bad prefix length (0..32)");
    expect_error("sourceIPv6Address == ::/129",
                 "column 22: '::/129' has a bad prefix length (0..128)");
    expect_error("ip == foo",
                 "column 7: foo is not a valid value for ip (ipv4Address or ipv6Address)");
    expect_error("ip == 10.0.0.256", "column 7: '10.0.0.256' is not a valid IPv4 address");
    expect_error("sourceIPv4Address == ::1",
                 "column 22: '::1' is not a valid value for sourceIPv4Address: expected an IPv4 "
                 "address");
    expect_error("src port 1024..80", "column 10: the range 1024..80 is empty");
    expect_error("src port < 1024..2000", "column 16: a range needs ==, != or in");
    expect_error("src port in [1..]", "column 17: expected a value after '..', found ']'");
    expect_error("src ip < 10.0.0.0/8", "column 10: a prefix needs ==, != or in");
    expect_error("src ip in [10.0.0.0/8..10.255.0.0]",
                 "column 12: a range is bounded by single values");
    expect_error("interfaceName < \"eth0\"",
                 "column 15: '<' does not apply to interfaceName (string): use ==, !=, in, "
                 "contains or startswith");
    expect_error("interfaceName in [a..b]", "column 22: a range does not apply to strings");
    expect_error("sourceTransportPort contains 8",
                 "column 21: 'contains' applies to strings and octet arrays, not to "
                 "sourceTransportPort (unsigned16)");
    expect_error("exists", "column 7: expected an element name after 'exists', found the end of "
                           "the filter");
    expect_error("src proto 6", "column 1: 'proto' takes no 'src'");
    expect_error("src foo", "column 5: expected ip, host, net, port, mac or as after 'src', found "
                            "'foo'");
    expect_error("proto tcp & port 80", "column 11: unexpected character '&' (did you mean '&&'?)");
    expect_error("proto tcp $", "column 11: unexpected character '$'");
    expect_error("interfaceName == \"eth0", "column 18: unterminated string");
    expect_error(
        "flowStartMilliseconds >= 2024-13-01T00:00:00Z",
        "column 26: '2024-13-01T00:00:00Z' is not a valid value for flowStartMilliseconds: "
        "expected an RFC 3339 time like 2024-01-01T00:00:00Z");
    expect_error("flowStartMilliseconds >= 1700000000",
                 "column 26: '1700000000' is not a valid value for flowStartMilliseconds: expected "
                 "an RFC 3339 time like 2024-01-01T00:00:00Z");
    expect_error("flowStartSeconds >= 1960-01-01T00:00:00Z",
                 "column 21: 1960-01-01T00:00:00Z is out of range for flowStartSeconds "
                 "(dateTimeSeconds: 1970-01-01T00:00:00Z..2106-02-07T06:28:15Z)");
    expect_error(
        "sourceMacAddress == 00:11:22:33:44",
        "column 21: '00:11:22:33:44' is not a valid value for sourceMacAddress: expected a "
        "MAC address like 00:1b:21:3c:4d:5e");
    expect_error("port in [80, \"x\"]",
                 "column 14: \"x\" is not a valid value for port (unsigned16)");
    expect_error("not", "column 4: expected an element name, 'exists', 'not' or '(', found the end "
                        "of the filter");
    expect_error("proto tcp and", "column 14: expected an element name, 'exists', 'not' or '(', "
                                  "found the end of the filter");
    expect_error("sourceTransportPort not 80", "column 25: expected 'in' after 'not', found '80'");
    expect_error("sourceTransportPort and 80",
                 "column 21: expected an operator (==, !=, <, <=, >, >=, in, contains, "
                 "startswith) or a value after 'sourceTransportPort', found 'and'");
    expect_error("tcpControlBits =", "column 17: expected a value after '=', found the end of the "
                                     "filter");
    expect_error("basicList == 5", "column 14: only 'exists' applies to basicList (basicList)");
    expect_error("dataRecordsReliability == yes",
                 "column 27: 'yes' is not a valid value for dataRecordsReliability: expected true "
                 "or false");
    expect_error("mibObjectValueInteger > 2147483648",
                 "column 25: 2147483648 is out of range for mibObjectValueInteger (signed32)");
    expect_error("id30000 contains 5",
                 "column 18: id30000 compares numbers with ==, !=, in and <, <=, >, >=");
    expect_error("en99999:id7 in [\"a\", 5]",
                 "column 22: a set of en99999:id7 cannot mix strings and numbers");
    expect_error("proto tcp and ) ", "column 15: expected an element name, 'exists', 'not' or "
                                     "'(', found ')'");
    for (i = 0; i < 65; i++) {
        strcat(deep, "(");
    }
    strcat(deep, "any");
    expect_error(deep, "column 65: expression nested deeper than 64");
}

static void
ipv4_operators(void **state)
{
    const struct ixd_record *r = ipv4_record();

    expect("sourceIPv4Address == 10.1.2.3", r, 1);
    expect("sourceIPv4Address = 10.1.2.3", r, 1);
    expect("sourceIPv4Address == 10.1.2.4", r, 0);
    expect("sourceIPv4Address != 10.1.2.4", r, 1);
    expect("sourceIPv4Address != 10.1.2.3", r, 0);
    expect("sourceIPv4Address < 10.1.2.4", r, 1);
    expect("sourceIPv4Address < 10.1.2.3", r, 0);
    expect("sourceIPv4Address <= 10.1.2.3", r, 1);
    expect("sourceIPv4Address > 10.1.2.2", r, 1);
    expect("sourceIPv4Address > 10.1.2.3", r, 0);
    expect("sourceIPv4Address >= 10.1.2.3", r, 1);
    expect("sourceIPv4Address >= 10.1.2.4", r, 0);
    expect("sourceIPv4Address in 10.0.0.0/8", r, 1);
    expect("sourceIPv4Address in 10.1.2.0/24", r, 1);
    expect("sourceIPv4Address in 10.1.3.0/24", r, 0);
    expect("sourceIPv4Address == 10.0.0.0/8", r, 1);
    expect("sourceIPv4Address != 10.0.0.0/8", r, 0);
    expect("sourceIPv4Address in 0.0.0.0/0", r, 1);
    expect("sourceIPv4Address in 10.1.2.3/32", r, 1);
    expect("sourceIPv4Address in [192.168.0.0/16, 10.1.2.3]", r, 1);
    expect("sourceIPv4Address in [192.168.0.0/16, 172.16.0.0/12]", r, 0);
    expect("sourceIPv4Address not in [192.168.0.0/16, 172.16.0.0/12]", r, 1);
    expect("sourceIPv4Address in [10.1.2.1..10.1.2.5]", r, 1);
    expect("sourceIPv4Address in 10.1.2.4..10.1.2.5", r, 0);
    expect("id8 == 10.1.2.3", r, 1);
    expect("src ip 10.1.2.3", r, 1);
    expect("src host 10.1.2.3", r, 1);
    expect("src net 10.0.0.0/8", r, 1);
    expect("dst net 10.0.0.0/8", r, 0);
    expect("dst ip 192.168.1.10", r, 1);
    expect("ip 192.168.1.10", r, 1);
    expect("ip 10.1.2.3", r, 1);
    expect("ip 10.9.9.9", r, 0);
    expect("src ip != 10.1.2.3", r, 0);
    expect("ip in [2001:db8::/32, 192.168.0.0/16]", r, 1);
    expect("ip in 2001:db8::/32", r, 0);
    expect("not ip in 2001:db8::/32", r, 1);
}

static void
ipv6_operators(void **state)
{
    const struct ixd_record *r = ipv6_record();

    expect("sourceIPv6Address == 2001:db8::1", r, 1);
    expect("sourceIPv6Address == 2001:db8::2", r, 0);
    expect("sourceIPv6Address != 2001:db8::2", r, 1);
    expect("sourceIPv6Address < 2001:db8::2", r, 1);
    expect("sourceIPv6Address < 2001:db8::1", r, 0);
    expect("sourceIPv6Address <= 2001:db8::1", r, 1);
    expect("sourceIPv6Address > 2001:db8::", r, 1);
    expect("sourceIPv6Address >= 2001:db8::2", r, 0);
    expect("sourceIPv6Address > ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", r, 0);
    expect("sourceIPv6Address in 2001:db8::/32", r, 1);
    expect("sourceIPv6Address in 2001:db9::/32", r, 0);
    expect("sourceIPv6Address in ::/0", r, 1);
    expect("sourceIPv6Address in 2001:db8::1/128", r, 1);
    expect("sourceIPv6Address in 2001:db8::/64", r, 1);
    expect("sourceIPv6Address in 2001:db8:0:1::/64", r, 0);
    expect("sourceIPv6Address in 2001:db8::/96", r, 1);
    expect("sourceIPv6Address in 2001:db8::1:0:0/96", r, 0);
    expect("sourceIPv6Address in [fe80::/10, 2001:db8::/32]", r, 1);
    expect("sourceIPv6Address in [2001:db8::0..2001:db8::ffff]", r, 1);
    expect("src ip 2001:db8::1", r, 1);
    expect("src ip 10.1.2.3", r, 0);
    expect("ip in fe80::/10", r, 1);
    expect("src ip != 2001:db8::1", r, 0);
    expect("dst ip != 2001:db8::1", r, 1);
    expect("ip in [10.0.0.0/8, 2001:db8::/32]", r, 1);
    expect("ip in [10.0.0.0/8, 3fff::/16, 1::1, 2::2, 3::3, 4::4, 5::5, 6::6, 7::7, 8::8, 9::9, "
           "fe80::2]",
           r, 1);
    expect("ip in [10.0.0.0/8, 3fff::/16, 1::1, 2::2, 3::3, 4::4, 5::5, 6::6, 7::7, 8::8]", r, 0);
}

static void
ports_and_protocols(void **state)
{
    const struct ixd_record *r = ipv4_record();
    const struct ixd_record *r6;

    expect("proto tcp", r, 1);
    expect("proto udp", r, 0);
    expect("proto 6", r, 1);
    expect("protocolIdentifier == tcp", r, 1);
    expect("proto in [tcp, udp]", r, 1);
    expect("proto in [icmp, icmp6, gre, esp]", r, 0);
    expect("proto != tcp", r, 0);
    expect("proto > 5 and proto < 7", r, 1);
    expect("dst port 443", r, 1);
    expect("destinationTransportPort == 443", r, 1);
    expect("dst port in [80, 443]", r, 1);
    expect("dst port in [80, 8080]", r, 0);
    expect("dst port >= 443", r, 1);
    expect("dst port > 443", r, 0);
    expect("dst port <= 443", r, 1);
    expect("dst port < 443", r, 0);
    expect("src port in [1024..65535]", r, 1);
    expect("src port in [22, 1024..65535]", r, 1);
    expect("src port 50000..52000", r, 1);
    expect("src port < 1024", r, 0);
    expect("src port < 0", r, 0);
    expect("src port > 65535", r, 0);
    expect("port 443", r, 1);
    expect("port 51000", r, 1);
    expect("port 80", r, 0);
    expect("not port 80", r, 1);
    expect("port != 443", r, 0);
    expect("port != 80", r, 1);
    expect("dst port in [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 443, 8443]", r, 1);
    expect("dst port in [1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 444, 8443]", r, 0);
    expect("dst port in [0x1bb]", r, 1);
    r6 = ipv6_record();
    expect("proto udp and src port 53", r6, 1);
    expect("proto tcp or dst port 40000", r6, 1);
}

/* octetDeltaCount in a field of length bytes holding value */
static const struct ixd_record *
counter_record(uint16_t length, uint64_t value)
{
    const struct spec s[] = {{1, length, 0}, {4, 1, 0}};
    unsigned i;

    rec_begin(&rec_a, s, 2);
    for (i = length; i-- > 0;) {
        ib_u8(&rec_a.b, (uint8_t)(value >> (8 * i)));
    }
    ib_u8(&rec_a.b, 17);
    return rec_end(&rec_a);
}

static void
counters_reduced_size(void **state)
{
    static const struct {
        uint16_t length;
        uint64_t value;
    } cases[] = {
        {1, 200}, {2, 60000}, {3, 0xabcdef}, {4, 4000000000u}, {8, UINT64_C(1000000000000)}};
    char text[128];
    size_t i;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        const struct ixd_record *r = counter_record(cases[i].length, cases[i].value);
        unsigned long long v = cases[i].value;

        snprintf(text, sizeof(text), "octetDeltaCount == %llu", v);
        expect(text, r, 1);
        snprintf(text, sizeof(text), "bytes == %llu", v + 1);
        expect(text, r, 0);
        snprintf(text, sizeof(text), "bytes != %llu", v);
        expect(text, r, 0);
        snprintf(text, sizeof(text), "bytes > %llu", v - 1);
        expect(text, r, 1);
        snprintf(text, sizeof(text), "bytes > %llu", v);
        expect(text, r, 0);
        snprintf(text, sizeof(text), "bytes >= %llu", v);
        expect(text, r, 1);
        snprintf(text, sizeof(text), "bytes < %llu", v);
        expect(text, r, 0);
        snprintf(text, sizeof(text), "bytes <= %llu", v);
        expect(text, r, 1);
        snprintf(text, sizeof(text), "bytes in [1..%llu]", v - 1);
        expect(text, r, 0);
        snprintf(text, sizeof(text), "bytes in [%llu..%llu]", v - 1, v + 1);
        expect(text, r, 1);
        snprintf(text, sizeof(text), "bytes in [7, %llu]", v);
        expect(text, r, 1);
    }
    expect("bytes > 255", counter_record(1, 255), 0);
    expect("bytes == 18446744073709551615", counter_record(8, UINT64_MAX), 1);
    expect("bytes > 18446744073709551615", counter_record(8, UINT64_MAX), 0);
    expect("bytes >= 1k and bytes < 2k", ipv4_record(), 1);
    expect("bytes > 1M", counter_record(4, 4000000000u), 1);
    expect("bytes > 4G", counter_record(4, 4000000000u), 0);
    expect("packets == 3", ipv4_record(), 1);
    expect("packetDeltaCount > 2", ipv4_record(), 1);
    expect("flowStartSysUpTime > 4999 and flowStartSysUpTime < 5001", ipv4_record(), 1);
}

static void
timestamps(void **state)
{
    static const struct spec s[] = {{154, 8, 0}, {156, 8, 0}};
    const struct ixd_record *r = ipv4_record();

    expect("flowStartMilliseconds == 2024-01-01T00:00:00.250Z", r, 1);
    expect("flowStartMilliseconds == 2024-01-01T00:00:00.25Z", r, 1);
    expect("flowStartMilliseconds == 2024-01-01T00:00:00.2505Z", r, 0);
    expect("flowStartMilliseconds == 2024-01-01T01:00:00.250+01:00", r, 1);
    expect("flowStartMilliseconds == 2023-12-31T23:00:00.250-01:00", r, 1);
    expect("flowStartMilliseconds != 2024-01-01T00:00:00.250Z", r, 0);
    expect("flowStartMilliseconds >= 2024-01-01T00:00:00Z", r, 1);
    expect("flowStartMilliseconds < 2024-01-01T00:00:00.250Z", r, 0);
    expect("flowStartMilliseconds <= 2024-01-01T00:00:00.250Z", r, 1);
    expect("flowStartMilliseconds > 2024-01-01T00:00:00.2501Z", r, 0);
    expect("flowStartMilliseconds > 2024-01-01T00:00:00.2499Z", r, 1);
    expect("flowStartMilliseconds < 2024-01-01T00:00:00.2501Z", r, 1);
    expect("flowStartMilliseconds in [2023-12-31..2024-01-02]", r, 1);
    expect("flowStartMilliseconds in [2024-01-02..2024-01-03]", r, 0);
    expect("flowStartSeconds == 2024-01-01T00:00:00Z", r, 1);
    expect("flowStartSeconds == 2024-01-01", r, 1);
    expect("flowStartSeconds == 2024-01-01T00:00:00.5Z", r, 0);
    expect("flowStartSeconds < 2024-01-01T00:00:00.5Z", r, 1);
    expect("flowStartSeconds >= 2024-01-01T00:00:00.5Z", r, 0);
    expect("flowStartSeconds > 2023-12-31T23:59:59Z", r, 1);
    expect("flowStartSeconds > 2024-01-01t00:00:00z", r, 0);

    /* NTP format: 2024-01-01T00:00:00.5Z is 3913056000 s after 1900, fraction 2^31 */
    rec_begin(&rec_b, s, 2);
    ib_u32(&rec_b.b, 3913056000u);
    ib_u32(&rec_b.b, 0x80000000u);
    ib_u32(&rec_b.b, 3913056000u);
    ib_u32(&rec_b.b, 0x80000000u);
    r = rec_end(&rec_b);
    expect("flowStartMicroseconds == 2024-01-01T00:00:00.5Z", r, 1);
    expect("flowStartMicroseconds > 2024-01-01T00:00:00.4Z", r, 1);
    expect("flowStartMicroseconds > 2024-01-01T00:00:00.5Z", r, 0);
    expect("flowStartNanoseconds < 2024-01-01T00:00:00.5Z", r, 0);
    expect("flowStartNanoseconds <= 2024-01-01T00:00:00.500000000Z", r, 1);
    expect("flowStartNanoseconds >= 2024-01-01T00:00:00.500000001Z", r, 0);
}

/* interfaceName (varlen), sourceIPv4Address after it, interfaceDescription (varlen), and
 * applicationName in a fixed 8-byte field, NUL-padded */
static const struct ixd_record *
string_record(const char *name, const char *description, int long_form)
{
    static const struct spec s[] = {
        {82, IXD_VARLEN, 0}, {8, 4, 0}, {83, IXD_VARLEN, 0}, {96, 8, 0}};

    rec_begin(&rec_a, s, 4);
    ib_varlen(&rec_a.b, name, strlen(name), long_form);
    ib_u32(&rec_a.b, 0x0a000001);
    ib_varlen(&rec_a.b, description, strlen(description), 0);
    ib_bytes(&rec_a.b, "http\0\0\0\0", 8);
    return rec_end(&rec_a);
}

static void
strings(void **state)
{
    const struct ixd_record *r = string_record("eth0", "", 0);
    char longname[400];

    expect("interfaceName == \"eth0\"", r, 1);
    expect("interfaceName == eth0", r, 1);
    expect("interfaceName == 'eth1'", r, 0);
    expect("interfaceName != eth1", r, 1);
    expect("interfaceName in [\"eth1\", \"eth0\"]", r, 1);
    expect("interfaceName in [eth1, eth2]", r, 0);
    expect("interfaceName contains th", r, 1);
    expect("interfaceName contains \"h1\"", r, 0);
    expect("interfaceName startswith eth", r, 1);
    expect("interfaceName startswith th", r, 0);
    expect("interfaceName startswith \"eth0+\"", r, 0);
    expect("sourceIPv4Address == 10.0.0.1", r, 1); /* a fixed field after a varlen one */
    expect("applicationName == http", r, 1);       /* NUL padding is not part of the string */
    expect("applicationName startswith htt", r, 1);
    expect("interfaceDescription == \"\"", r, 0);
    expect("interfaceDescription != x", r, 1);
    r = string_record("say \"hi\" \\o/", "uplink", 0);
    expect("interfaceName contains \"\\\"hi\\\"\"", r, 1);
    expect("interfaceName == 'say \"hi\" \\\\o/'", r, 1);
    expect("interfaceDescription == uplink", r, 1);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    longname[300] = 'y';
    r = string_record(longname, "d", 1);
    expect("interfaceName contains xy and interfaceName startswith xxx", r, 1);
    expect("interfaceName contains yy", r, 0);
}

static void
mac_addresses(void **state)
{
    const struct ixd_record *r = ipv4_record();

    expect("sourceMacAddress == 00:1b:21:3c:4d:5e", r, 1);
    expect("sourceMacAddress == 00-1B-21-3C-4D-5E", r, 1);
    expect("src mac 00:1b:21:3c:4d:5e", r, 1);
    expect("mac 00:1b:21:3c:4d:5f", r, 0);
    expect("sourceMacAddress != 00:1b:21:3c:4d:5e", r, 0);
    expect("sourceMacAddress in [00:00:00:00:00:00..00:1b:21:ff:ff:ff]", r, 1);
    expect("sourceMacAddress > 00:1b:21:3c:4d:5e", r, 0);
    expect("sourceMacAddress < 00:1b:21:3c:4d:5f", r, 1);
    expect("dst mac 00:1b:21:3c:4d:5e", r, 0);
}

static void
other_types(void **state)
{
    static const struct spec s[] = {{434, 2, 0}, {311, 8, 0}, {276, 1, 0}, {311, 4, 0}};
    const struct ixd_record *r;
    double probability = 0.25;
    float probability32 = -1.5f;
    uint64_t bits;
    uint32_t bits32;

    rec_begin(&rec_b, s, 4);
    ib_u16(&rec_b.b, (uint16_t)-300); /* signed32 reduced to 2 bytes */
    memcpy(&bits, &probability, sizeof(bits));
    ib_u64(&rec_b.b, bits);
    ib_u8(&rec_b.b, 1); /* true */
    memcpy(&bits32, &probability32, sizeof(bits32));
    ib_u32(&rec_b.b, bits32);
    r = rec_end(&rec_b);
    expect("mibObjectValueInteger == -300", r, 1);
    expect("mibObjectValueInteger < -299", r, 1);
    expect("mibObjectValueInteger > -300", r, 0);
    expect("mibObjectValueInteger in [-1000..0]", r, 1);
    expect("mibObjectValueInteger >= 0", r, 0);
    expect("samplingProbability == 0.25 and samplingProbability == -1.5", r, 1);
    expect("samplingProbability > 0.2 and samplingProbability < 0.3", r, 1);
    expect("samplingProbability > 0.25", r, 0);
    expect("samplingProbability < -1", r, 1);
    expect("dataRecordsReliability == true", r, 1);
    expect("dataRecordsReliability == false", r, 0);
}

static void
presence(void **state)
{
    static const struct spec zero[] = {{8, 0, 0}, {4, 1, 0}};
    const struct ixd_record *r = ipv4_record();

    expect("exists sourceIPv4Address", r, 1);
    expect_constant("exists sourceIPv4Address", r->tmpl, 1);
    expect("exists sourceIPv6Address", r, 0);
    expect_constant("exists sourceIPv6Address", r->tmpl, 0);
    expect("not exists sourceIPv6Address", r, 1);
    expect("!exists sourceIPv6Address", r, 1);
    expect("exists src ip and exists ip and exists port", r, 1);
    expect("exists dst mac", r, 0);
    r = string_record("eth0", "", 0);
    expect("exists interfaceName", r, 1);
    expect("exists interfaceDescription", r, 0); /* zero-length: absent */
    expect("not exists interfaceDescription", r, 1);
    expect_constant("exists interfaceName", r->tmpl, -1);
    rec_begin(&rec_b, zero, 2);
    ib_u8(&rec_b.b, 6);
    r = rec_end(&rec_b);
    expect("exists sourceIPv4Address", r, 0);
    expect("sourceIPv4Address == 0.0.0.0", r, 0);
    expect_constant("sourceIPv4Address != 0.0.0.0", r->tmpl, 1);
}

static void
precedence(void **state)
{
    const struct ixd_record *r = ipv4_record(); /* tcp, dst port 443 */

    expect("proto udp or proto tcp and dst port 443", r, 1);
    expect("proto udp or proto tcp and dst port 80", r, 0);
    expect("proto tcp or proto udp and dst port 80", r, 1);
    expect("(proto tcp or proto udp) and dst port 80", r, 0);
    expect("(proto udp or proto tcp) and dst port 443", r, 1);
    expect("not proto udp and dst port 443", r, 1);
    expect("not proto tcp and dst port 443", r, 0);
    expect("not (proto tcp and dst port 443)", r, 0);
    expect("not proto tcp or dst port 443", r, 1);
    expect("!proto udp && (dst port 443 || dst port 80)", r, 1);
    expect("not not proto tcp", r, 1);
    expect("((((proto tcp))))", r, 1);
    expect("proto tcp and dst port 443 and src port 51000 and src ip 10.1.2.3 and bytes > 1000", r,
           1);
    expect("proto udp or dst port 80 or src port 1 or src ip 10.1.2.3", r, 1);
    expect("dst port>=443&&proto!=udp&&!(src port<1024)", r, 1);
    expect("any", r, 1);
    expect("not any", r, 0);
    expect_constant("any or proto tcp", r->tmpl, 1);
}

static void
repeated_elements(void **state)
{
    static const struct spec s[] = {{8, 4, 0}, {7, 2, 0}, {8, 4, 0}};
    const struct ixd_record *r;

    rec_begin(&rec_b, s, 3);
    ib_u32(&rec_b.b, 0xc0000201); /* 192.0.2.1 (outer) */
    ib_u16(&rec_b.b, 1234);
    ib_u32(&rec_b.b, 0x0a000005); /* 10.0.0.5 (inner) */
    r = rec_end(&rec_b);
    assert_int_equal(r->tmpl->fields[2].repeat, 2);
    expect("sourceIPv4Address == 10.0.0.5", r, 1);
    expect("sourceIPv4Address == 192.0.2.1", r, 1);
    expect("sourceIPv4Address == 1.1.1.1", r, 0);
    expect("sourceIPv4Address != 10.0.0.5", r, 0); /* "not ==": some occurrence equals */
    expect("sourceIPv4Address != 1.1.1.1", r, 1);
    expect("sourceIPv4Address in 10.0.0.0/8 and sourceIPv4Address in 192.0.2.0/24", r, 1);
    expect("sourceIPv4Address > 192.0.2.0", r, 1);
    expect("sourceIPv4Address < 10.0.0.5", r, 0);
    expect("exists sourceIPv4Address", r, 1);
}

static void
unknown_elements(void **state)
{
    static const struct spec s[] = {{30000, 2, 0}, {7, IXD_VARLEN, 99999}, {30001, 12, 0}};
    const struct ixd_record *r;

    rec_begin(&rec_b, s, 3);
    ib_u16(&rec_b.b, 0x1234);
    ib_varlen(&rec_b.b, "abc", 3, 0);
    ib_bytes(&rec_b.b, "0123456789ab", 12);
    r = rec_end(&rec_b);
    expect("id30000 == 0x1234", r, 1);
    expect("id30000 == 4660", r, 1);
    expect("id30000 > 5000", r, 0);
    expect("en99999:id7 == \"abc\"", r, 1);
    expect("en99999:id7 contains \"b\"", r, 1);
    expect("en99999:id7 == 6382179", r, 1); /* "abc" as a 3-byte big-endian number */
    expect("id30001 == 5", r, 0);           /* longer than 8 bytes: not a number */
    expect("id30001 startswith \"0123\"", r, 1);
    expect("exists en99999:id7 and exists id30000", r, 1);
    expect("exists id30002", r, 0);
}

static void
bad_length_field(void **state)
{
    static const struct spec s[] = {{1, 9, 0}}; /* octetDeltaCount cannot take 9 bytes */
    const struct ixd_record *r;
    int i;

    rec_begin(&rec_b, s, 1);
    for (i = 0; i < 9; i++) {
        ib_u8(&rec_b.b, 0);
    }
    r = rec_end(&rec_b);
    expect("octetDeltaCount == 0", r, 0);
    expect("exists octetDeltaCount", r, 1);
}

/* One program per template, reused for every record of it */
static void
program_reused(void **state)
{
    struct ixd_filter *f = parse_ok("src ip in 10.0.0.0/28 and not src ip 10.0.0.3");
    struct ixd_filter_prog *prog;
    int i, n = 0;

    rec_begin(&rec_a, ipv4_flow, sizeof(ipv4_flow) / sizeof(ipv4_flow[0]));
    prog = ixd_filter_compile(f, rec_a.t);
    assert_non_null(prog);
    assert_int_equal(ixd_filter_prog_constant(prog), -1);
    for (i = 0; i < 100; i++) {
        ib_reset(&rec_a.b);
        ib_u32(&rec_a.b, 0x0a000000u + (uint32_t)i);
        while (rec_a.b.len < rec_a.t->fixed_length) {
            ib_u8(&rec_a.b, 0);
        }
        n += ixd_filter_match(prog, rec_end(&rec_a));
    }
    assert_int_equal(n, 15);
    ixd_filter_prog_free(prog);
    ixd_filter_free(f);
    ixd_filter_free(NULL);
    ixd_filter_prog_free(NULL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(parse_errors),
        cmocka_unit_test_teardown(ipv4_operators, teardown),
        cmocka_unit_test_teardown(ipv6_operators, teardown),
        cmocka_unit_test_teardown(ports_and_protocols, teardown),
        cmocka_unit_test_teardown(counters_reduced_size, teardown),
        cmocka_unit_test_teardown(timestamps, teardown),
        cmocka_unit_test_teardown(strings, teardown),
        cmocka_unit_test_teardown(mac_addresses, teardown),
        cmocka_unit_test_teardown(other_types, teardown),
        cmocka_unit_test_teardown(presence, teardown),
        cmocka_unit_test_teardown(precedence, teardown),
        cmocka_unit_test_teardown(repeated_elements, teardown),
        cmocka_unit_test_teardown(unknown_elements, teardown),
        cmocka_unit_test_teardown(bad_length_field, teardown),
        cmocka_unit_test_teardown(program_reused, teardown),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
