/* Unit tests of src/output/json_format.c: JSON strings, times, numbers and whole record lines. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix_build.h"
#include "json_check.h"
#include "output/json_format.h"
#include "output/json_put.h"

static void
validator_self_check(void **state)
{
    static const char *const good[] = {
        "\"a\"", "{\"a\":[1,-2.5e3,true,null,\"\\u00e9\"]}", "\"\xc3\xa9\"", "[]", "{}", "0"};
    static const char *const bad[] = {
        "\"a",   "\"\x01\"", "\"\xff\"",     "\"\\x\"",          "01",
        "{a:1}", "[1,]",     "\"\xc0\x80\"", "\"\xed\xa0\x80\"", "tru"};
    size_t i;

    for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        assert_true(json_valid(good[i], strlen(good[i])));
    }
    for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_false(json_valid(bad[i], strlen(bad[i])));
    }
}

/* ---- ixd_json_string ---- */

static char out[65536];

/* Formats s, checks the length returned, and that the result is one valid JSON string. */
static const char *
str(const void *s, size_t len)
{
    size_t n;

    memset(out, 'X', sizeof(out));
    n = ixd_json_string(out, s, len);
    assert_true(n < sizeof(out) - 1);
    assert_true(n <= 6 * len + 2);
    out[n] = '\0';
    if (!json_valid(out, n)) {
        fail_msg("not a JSON string: %s", out);
    }
    return out;
}

static void
string_plain_ascii(void **state)
{
    assert_string_equal(str("abc", 3), "\"abc\"");
    assert_string_equal(str("", 0), "\"\"");
    assert_string_equal(str("ge-0/0/1 x~", 11), "\"ge-0/0/1 x~\"");
}

static void
string_quote_and_backslash_escaped(void **state)
{
    assert_string_equal(str("a\"b\\c", 5), "\"a\\\"b\\\\c\"");
}

static void
string_control_bytes_and_nul(void **state)
{
    assert_string_equal(str("\0", 1), "\"\\u0000\"");
    assert_string_equal(str("a\nb\tc\r\x1f", 7), "\"a\\u000ab\\u0009c\\u000d\\u001f\"");
    assert_string_equal(str("eth0\0\0\0\0", 8), "\"eth0\\u0000\\u0000\\u0000\\u0000\"");
    assert_string_equal(str("\x7f", 1), "\"\x7f\""); /* DEL needs no escape */
}

static void
string_valid_utf8_kept(void **state)
{
    assert_string_equal(str("caf\xc3\xa9", 5), "\"caf\xc3\xa9\"");
    assert_string_equal(str("\xe2\x82\xac", 3), "\"\xe2\x82\xac\"");
    assert_string_equal(str("\xf0\x9f\x98\x80", 4), "\"\xf0\x9f\x98\x80\"");
    assert_string_equal(str("\xf4\x8f\xbf\xbf", 4), "\"\xf4\x8f\xbf\xbf\""); /* U+10FFFF */
    assert_string_equal(str("\xed\x9f\xbf", 3), "\"\xed\x9f\xbf\"");         /* U+D7FF */
}

static void
string_invalid_utf8_replaced(void **state)
{
    assert_string_equal(str("\xff", 1), "\"\\ufffd\"");
    assert_string_equal(str("a\xfe"
                            "b",
                            3),
                        "\"a\\ufffdb\"");
    assert_string_equal(str("\x80", 1), "\"\\ufffd\"");
}

/* Invalid sequences: valid JSON, at least one U+FFFD, no raw byte of the sequence left, and
 * the ASCII around them intact. */
static void
assert_replaced(const char *bytes, size_t n)
{
    char in[16];
    const char *r;

    assert_true(n + 2 <= sizeof(in));
    in[0] = '<';
    memcpy(in + 1, bytes, n);
    in[n + 1] = '>';
    r = str(in, n + 2);
    assert_true(strncmp(r, "\"<\\ufffd", 8) == 0);
    assert_true(strlen(r) >= 4 && strcmp(r + strlen(r) - 2, ">\"") == 0);
    for (; *r != '\0'; r++) {
        assert_true((unsigned char)*r < 0x80);
    }
}

static void
string_truncated_overlong_surrogate_replaced(void **state)
{
    assert_replaced("\xe2\x82", 2);         /* truncated 3-byte sequence */
    assert_replaced("\xf0\x9f\x98", 3);     /* truncated 4-byte sequence */
    assert_replaced("\xc3", 1);             /* lead byte alone */
    assert_replaced("\xc0\x80", 2);         /* overlong NUL */
    assert_replaced("\xc1\xbf", 2);         /* overlong */
    assert_replaced("\xe0\x80\x80", 3);     /* overlong 3-byte */
    assert_replaced("\xf0\x80\x80\x80", 4); /* overlong 4-byte */
    assert_replaced("\xed\xa0\x80", 3);     /* surrogate U+D800 */
    assert_replaced("\xed\xbf\xbf", 3);     /* surrogate U+DFFF */
    assert_replaced("\xf4\x90\x80\x80", 4); /* above U+10FFFF */
    assert_replaced("\xe2\x28\xa1", 3);     /* bad continuation */
    /* a truncated sequence at the very end of the value */
    assert_true(strncmp(str("ab\xe2\x82", 4), "\"ab\\ufffd", 9) == 0);
}

static void
string_every_byte_value_gives_valid_json(void **state)
{
    uint8_t all[512];
    unsigned i;

    for (i = 0; i < 512; i++) {
        all[i] = (uint8_t)(i * 37 + (i >> 8));
    }
    str(all, sizeof(all));
    for (i = 0; i < 256; i++) {
        uint8_t b[3] = {(uint8_t)i, 0x80, 0x80};
        str(b, 1);
        str(b, 3);
    }
}

/* ---- ixd_json_rfc3339 and ixd_json_u64 ---- */

static const char *
t3339(int64_t sec, uint32_t frac, int digits)
{
    size_t n;

    memset(out, 'X', 64);
    n = ixd_json_rfc3339(out, sec, frac, digits);
    out[n] = '\0';
    return out;
}

static void
rfc3339_epoch(void **state)
{
    assert_string_equal(t3339(0, 0, 0), "\"1970-01-01T00:00:00Z\"");
}

static void
rfc3339_fraction_digits(void **state)
{
    assert_string_equal(t3339(1700000000, 123, 3), "\"2023-11-14T22:13:20.123Z\"");
    assert_string_equal(t3339(1700000000, 5, 3), "\"2023-11-14T22:13:20.005Z\"");
    assert_string_equal(t3339(1700000000, 123456, 6), "\"2023-11-14T22:13:20.123456Z\"");
    assert_string_equal(t3339(1700000000, 123456789, 9), "\"2023-11-14T22:13:20.123456789Z\"");
    assert_string_equal(t3339(1700000000, 0, 9), "\"2023-11-14T22:13:20.000000000Z\"");
}

static void
rfc3339_calendar(void **state)
{
    assert_string_equal(t3339(951782400, 0, 0), "\"2000-02-29T00:00:00Z\"");
    assert_string_equal(t3339(4102444799LL, 0, 0), "\"2099-12-31T23:59:59Z\"");
    assert_string_equal(t3339(253402300799LL, 0, 0), "\"9999-12-31T23:59:59Z\"");
}

static void
rfc3339_negative_seconds(void **state)
{
    assert_string_equal(t3339(-1, 0, 0), "\"1969-12-31T23:59:59Z\"");
    assert_string_equal(t3339(-86400, 0, 0), "\"1969-12-31T00:00:00Z\"");
    assert_string_equal(t3339(-86401, 0, 0), "\"1969-12-30T23:59:59Z\"");
    assert_string_equal(t3339(-2208988800LL, 0, 0), "\"1900-01-01T00:00:00Z\"");
}

/* the formatter keeps the last date per thread: changing days must not reuse it */
static void
rfc3339_alternating_days(void **state)
{
    int i;

    for (i = 0; i < 3; i++) {
        assert_string_equal(t3339(1700000000, 0, 0), "\"2023-11-14T22:13:20Z\"");
        assert_string_equal(t3339(1700006400, 0, 0), "\"2023-11-15T00:00:00Z\"");
        assert_string_equal(t3339(1700006399, 0, 0), "\"2023-11-14T23:59:59Z\"");
        assert_string_equal(t3339(-1, 0, 0), "\"1969-12-31T23:59:59Z\"");
        assert_string_equal(t3339(0, 0, 0), "\"1970-01-01T00:00:00Z\"");
    }
}

static void
u64_digit_count_boundaries(void **state)
{
    uint64_t v = 1;
    char want[32];
    int k;

    for (k = 0; k < 20; k++) {
        uint64_t vals[3] = {v - 1, v, v + 1};
        int j;
        for (j = 0; j < 3; j++) {
            size_t n;
            snprintf(want, sizeof(want), "%llu", (unsigned long long)vals[j]);
            memset(out, 'X', 32);
            n = ixd_json_u64(out, vals[j]);
            assert_int_equal(n, strlen(want));
            assert_memory_equal(out, want, n);
            assert_int_equal(out[n + 8], 'X'); /* it stores words: 8 bytes past at most */
        }
        if (k < 19) {
            v *= 10;
        }
    }
}

static void
u64_zero_and_max(void **state)
{
    size_t n;

    memset(out, 'X', 32);
    n = ixd_json_u64(out, 0);
    assert_int_equal(n, 1);
    assert_memory_equal(out, "0", 1);
    assert_int_equal(out[9], 'X');
    n = ixd_json_u64(out, UINT64_MAX);
    assert_int_equal(n, 20);
    assert_memory_equal(out, "18446744073709551615", 20);
    assert_int_equal(out[28], 'X');
    n = ixd_json_u64(out, 1000);
    assert_memory_equal(out, "1000", n);
}

/* a pseudo-random walk over the whole range, and every length of digits */
static void
u64_random_values(void **state)
{
    uint64_t x = 88172645463325252ULL;
    char want[32];
    int i;

    for (i = 0; i < 200000; i++) {
        uint64_t v;
        size_t n;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        v = x >> (x % 64); /* small values as often as large ones */
        snprintf(want, sizeof(want), "%llu", (unsigned long long)v);
        n = ixd_json_u64(out, v);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, n);
    }
}

/* An address as a record of one sourceIPv6Address writes it, quotes taken off. */
static void
check_ipv6(const uint8_t *a)
{
    char want[INET6_ADDRSTRLEN];
    size_t n;

    assert_non_null(inet_ntop(AF_INET6, a, want, sizeof(want)));
    memset(out, 'X', 64);
    n = ixd_json_put_ipv6(out, a);
    if (n != strlen(want) || memcmp(out, want, n) != 0) {
        fail_msg("want %s, got %.*s", want, (int)n, out);
    }
    assert_int_equal(out[n + IXD_JSON_OVERRUN], 'X');
}

/* RFC 5952 as inet_ntop writes it: zero runs of every place and length, IPv4 in IPv6 */
static void
ipv6_text_as_inet_ntop(void **state)
{
    static const char *const texts[] = {"::",
                                        "::1",
                                        "1::",
                                        "2001:db8::1",
                                        "2001:db8:0:1:1:1:1:1",
                                        "2001:0:0:1::1",
                                        "2001:db8::1:0:0:1",
                                        "::ffff:192.0.2.1",
                                        "::192.0.2.1",
                                        "::ffff:0:192.0.2.1",
                                        "64:ff9b::192.0.2.1",
                                        "fe80::",
                                        "::1:0",
                                        "::1:0:0",
                                        "1:0:0:2:0:0:0:3",
                                        "1:0:0:0:2:0:0:3",
                                        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
                                        "::ffff:0.0.0.0",
                                        "::0.0.0.1",
                                        "0:0:0:0:0:1:0:0",
                                        "1:2:3:4:5:6:7:0",
                                        "abcd:ef01:2345:6789:abcd:ef01:2345:6789"};
    uint8_t a[16];
    uint64_t x = 0x9e3779b97f4a7c15ULL;
    size_t i;
    int k;

    for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        assert_int_equal(inet_pton(AF_INET6, texts[i], a), 1);
        check_ipv6(a);
    }
    /* every pattern of zero and non-zero groups, with values of every hex width */
    for (k = 0; k < 256 * 64; k++) {
        for (i = 0; i < 8; i++) {
            unsigned w = 0;
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            if (k & (1 << i)) {
                w = (unsigned)(x >> (x % 16 + 32)) & 0xffff;
                w = w == 0 ? 1 : w;
            }
            if ((k >> 8) == 1 && i == 5) {
                w = 0xffff; /* the IPv4-mapped prefix */
            }
            a[2 * i] = (uint8_t)(w >> 8);
            a[2 * i + 1] = (uint8_t)w;
        }
        check_ipv6(a);
    }
}

/* The text of each RFC 5952 case spelled out (not taken from inet_ntop): what ipfixd has
 * always written for it, group by group. */
static void
ipv6_text_rfc5952_cases(void **state)
{
    static const struct {
        uint16_t w[8];
        const char *text;
    } cases[] = {
        {{0, 0, 0, 0, 0, 0, 0, 0}, "::"},
        {{0, 0, 0, 0, 0, 0, 0, 1}, "::1"}, /* seven zeros: hex, not ::0.0.0.1 */
        {{1, 0, 0, 0, 0, 0, 0, 0}, "1::"},
        {{0, 0, 0, 1, 2, 3, 4, 5}, "::1:2:3:4:5"},
        {{1, 2, 3, 4, 5, 0, 0, 0}, "1:2:3:4:5::"},
        {{1, 0, 0, 2, 3, 0, 0, 4}, "1::2:3:0:0:4"}, /* two equal runs: the first */
        {{0, 0, 1, 2, 3, 4, 0, 0}, "::1:2:3:4:0:0"},
        {{1, 0, 0, 2, 0, 0, 0, 3}, "1:0:0:2::3"}, /* the longer run, even second */
        {{0, 0, 1, 0, 0, 0, 0, 0}, "0:0:1::"},
        {{1, 0, 2, 3, 4, 5, 6, 7}, "1:0:2:3:4:5:6:7"}, /* one zero group stays */
        {{1, 2, 3, 4, 5, 6, 7, 0}, "1:2:3:4:5:6:7:0"},
        {{0, 1, 2, 3, 4, 5, 6, 7}, "0:1:2:3:4:5:6:7"},
        {{1, 0, 2, 0, 3, 0, 4, 0}, "1:0:2:0:3:0:4:0"},
        {{1, 2, 3, 0, 0, 4, 5, 6}, "1:2:3::4:5:6"}, /* a run across the two halves */
        {{0x2001, 0xdb8, 0, 0, 0, 0, 0x12, 0x3456}, "2001:db8::12:3456"},
        {{0x2001, 0xdb8, 1, 0, 0, 0, 0xab, 0xcdef}, "2001:db8:1::ab:cdef"},
        {{0xfe80, 0, 0, 0, 0, 0, 0, 0x1a2b}, "fe80::1a2b"},
        {{0x1, 0x12, 0x123, 0x1234, 0xabcd, 0xef, 0xf, 0x100}, "1:12:123:1234:abcd:ef:f:100"},
        {{0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff, 0xffff},
         "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"},
        {{0, 0, 0, 0, 0, 0xffff, 0xc000, 0x201}, "::ffff:192.0.2.1"}, /* IPv4-mapped */
        {{0, 0, 0, 0, 0, 0xffff, 0, 0}, "::ffff:0.0.0.0"},
        {{0, 0, 0, 0, 0, 0, 0xc000, 0x201}, "::192.0.2.1"}, /* IPv4-compatible */
        {{0, 0, 0, 0, 0, 0, 1, 0}, "::0.1.0.0"},
        {{0, 0, 0, 0, 0, 0, 0xffff, 0xffff}, "::255.255.255.255"},
        {{0, 0, 0, 0, 0, 0xfffe, 0xc000, 0x201}, "::fffe:c000:201"},
        {{0, 0, 0, 0, 0xffff, 0, 0xc000, 0x201}, "::ffff:0:c000:201"},
        {{1, 0, 0, 0, 0, 0xffff, 0xc000, 0x201}, "1::ffff:c000:201"},
        {{0x64, 0xff9b, 0, 0, 0, 0, 0xc000, 0x201}, "64:ff9b::c000:201"},
    };
    uint8_t a[16];
    size_t i, n;
    int g;

    for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        for (g = 0; g < 8; g++) {
            a[2 * g] = (uint8_t)(cases[i].w[g] >> 8);
            a[2 * g + 1] = (uint8_t)cases[i].w[g];
        }
        memset(out, 'X', 128);
        n = ixd_json_put_ipv6(out + 1, a);
        if (n != strlen(cases[i].text) || memcmp(out + 1, cases[i].text, n) != 0) {
            fail_msg("case %zu: want %s, got %.*s", i, cases[i].text, (int)n, out + 1);
        }
        assert_int_equal(out[0], 'X');
        assert_int_equal(out[1 + n + IXD_JSON_OVERRUN], 'X');
    }
}

static void
ipv4_every_octet(void **state)
{
    char want[16];
    uint8_t a[4];
    unsigned b;
    size_t n;

    for (b = 0; b < 256; b++) {
        a[0] = (uint8_t)b;
        a[1] = (uint8_t)(255 - b);
        a[2] = (uint8_t)(b * 7);
        a[3] = (uint8_t)(b / 3);
        snprintf(want, sizeof(want), "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        memset(out, 'X', 64);
        n = ixd_json_put_ipv4(out, a);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, n);
        assert_int_equal(out[n + IXD_JSON_OVERRUN], 'X');
    }
}

/* Every value of a 1-byte unsigned, written from the octets' table without a test. */
static void
u8_every_value(void **state)
{
    char want[8];
    unsigned v;
    size_t n;

    (void)state;
    for (v = 0; v < 256; v++) {
        snprintf(want, sizeof(want), "%u", v);
        memset(out, 'X', 64);
        n = ixd_json_put_u8(out, (uint8_t)v);
        assert_int_equal(n, strlen(want));
        assert_memory_equal(out, want, n);
        assert_int_equal(out[n + IXD_JSON_OVERRUN], 'X');
    }
}

/* ---- whole records ---- */

static struct ixd_ie_registry *registry;
static struct ixd_template *tmpl;
static struct ib tb, rb;
static char line[65536 * 8], compiled[65536 * 8];

static int
group_setup(void **state)
{
    char err[256];

    registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
    return registry != NULL ? 0 : -1;
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
    ib_reset(&tb);
    ib_reset(&rb);
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

static void
compile(void)
{
    struct ixd_template_rules rules = {registry, 512, 0};
    uint16_t tid;
    size_t used;
    enum ixd_error why;

    assert_int_equal(ixd_template_parse(tb.buf, tb.len, 0, &rules, &tmpl, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
}

#define PREFIX                                                                                     \
    "{\"@collector\":\"c1\",\"@exporter\":\"192.0.2.1\",\"@exporter_port\":5000,\"@odid\":7,"      \
    "\"@received\":\"2023-11-14T22:13:20.123456Z\",\"@template\":"

/* The line of r through a compiled template (output/json_prog.c), twice (the second time with
 * what the program keeps from the first), equal to what the field-by-field formatter wrote into
 * line; and once more with the counts renormalised, equal to the field-by-field one. */
static void
same_compiled(const struct ixd_record *r, const struct ixd_source *src, const char *prefix,
              size_t plen, size_t n)
{
    struct ixd_json_cache *cache = ixd_json_cache_new();
    int k;

    assert_non_null(cache);
    for (k = 0; k < 2; k++) {
        assert_int_equal(ixd_json_cache_record(cache, r, src, 1, prefix, plen, compiled), n);
        assert_memory_equal(compiled, line, n);
    }
    n = ixd_json_record_scaled(r, src, 3, prefix, plen, line);
    assert_int_equal(ixd_json_cache_record(cache, r, src, 3, prefix, plen, compiled), n);
    assert_memory_equal(compiled, line, n);
    ixd_json_cache_free(cache);
}

/* Formats record r as a line and checks the common properties; returns it NUL-terminated. */
static const char *
format(const struct ixd_record *r)
{
    struct ixd_source src;
    char prefix[512];
    size_t plen, n, bound = ixd_json_bound(r);

    memset(&src, 0, sizeof(src));
    src.collector = "c1";
    strcpy(src.exporter_text, "192.0.2.1");
    src.exporter_port = 5000;
    src.odid = 7;
    src.received_usec = 1700000000123456LL;
    plen = ixd_json_prefix(&src, prefix, sizeof(prefix));
    assert_int_equal(plen, strlen(PREFIX));
    assert_memory_equal(prefix, PREFIX, plen);
    assert_true(bound < sizeof(line));
    memset(line, 'X', sizeof(line));
    n = ixd_json_record(r, prefix, plen, line);
    assert_true(n <= bound);
    assert_true(n >= 2 && line[n - 2] == '}' && line[n - 1] == '\n');
    line[n] = '\0';
    assert_null(memchr(line, '\n', n - 1)); /* one line */
    if (!json_valid(line, n)) {
        fail_msg("not JSON: %s", line);
    }
    same_compiled(r, &src, prefix, plen, n);
    n = ixd_json_record_from(r, &src, prefix, plen, line);
    line[n] = '\0';
    return line;
}

static void
fixed_record(struct ixd_record *r)
{
    memset(r, 0, sizeof(*r));
    r->tmpl = tmpl;
    r->data = rb.buf;
    r->length = (uint32_t)rb.len;
    assert_int_equal(rb.len, tmpl->fixed_length);
}

static void
record_with_every_kind_of_value(void **state)
{
    static const uint8_t mac[6] = {0x00, 0x1b, 0x21, 0xab, 0xcd, 0xef};
    struct ixd_record r;
    double d = 1.5;
    uint64_t bits;

    ib_template(&tb, 256, 18);
    ib_field(&tb, 8, 4);          /* sourceIPv4Address */
    ib_field(&tb, 12, 4);         /* destinationIPv4Address */
    ib_field(&tb, 7, 2);          /* sourceTransportPort */
    ib_field(&tb, 11, 2);         /* destinationTransportPort */
    ib_field(&tb, 4, 1);          /* protocolIdentifier */
    ib_field(&tb, 152, 8);        /* flowStartMilliseconds */
    ib_field(&tb, 56, 6);         /* sourceMacAddress */
    ib_field(&tb, 82, 8);         /* interfaceName */
    ib_field(&tb, 313, 4);        /* ipHeaderPacketSection: octetArray */
    ib_field(&tb, 276, 1);        /* dataRecordsReliability: boolean */
    ib_field(&tb, 434, 2);        /* mibObjectValueInteger: signed32 as 2 bytes */
    ib_field(&tb, 320, 8);        /* absoluteError: float64 */
    ib_field(&tb, 999, 2);        /* unknown IANA element */
    ib_field_en(&tb, 5, 3, 6871); /* unknown enterprise element */
    ib_field(&tb, 8, 4);          /* sourceIPv4Address again */
    ib_field(&tb, 16, 0);         /* bgpSourceAsNumber declared with length 0 */
    ib_field(&tb, 150, 4);        /* flowStartSeconds */
    ib_field(&tb, 27, 16);        /* sourceIPv6Address */
    compile();
    ib_u32(&rb, 0xc0000201);
    ib_u32(&rb, 0xc6336407);
    ib_u16(&rb, 443);
    ib_u16(&rb, 51000);
    ib_u8(&rb, 6);
    ib_u64(&rb, 1700000000123ULL);
    ib_bytes(&rb, mac, 6);
    ib_bytes(&rb, "ge-0/0/1", 8);
    ib_u32(&rb, 0xdeadbeef);
    ib_u8(&rb, 1);
    ib_u16(&rb, 0xfffe);
    memcpy(&bits, &d, 8);
    ib_u64(&rb, bits);
    ib_u16(&rb, 0x0102);
    ib_bytes(&rb, "\xab\xcd\xef", 3);
    ib_u32(&rb, 0x0a010203);
    ib_u32(&rb, 1700000000u);
    ib_bytes(&rb, "\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01", 16);
    fixed_record(&r);
    assert_string_equal(format(&r), PREFIX "256"
                                           ",\"sourceIPv4Address\":[\"192.0.2.1\",\"10.1.2.3\"]"
                                           ",\"destinationIPv4Address\":\"198.51.100.7\""
                                           ",\"sourceTransportPort\":443"
                                           ",\"destinationTransportPort\":51000"
                                           ",\"protocolIdentifier\":6"
                                           ",\"flowStartMilliseconds\":\"2023-11-14T22:13:20.123Z\""
                                           ",\"sourceMacAddress\":\"00:1b:21:ab:cd:ef\""
                                           ",\"interfaceName\":\"ge-0/0/1\""
                                           ",\"ipHeaderPacketSection\":\"deadbeef\""
                                           ",\"dataRecordsReliability\":true"
                                           ",\"mibObjectValueInteger\":-2"
                                           ",\"absoluteError\":1.5"
                                           ",\"id999\":\"0102\""
                                           ",\"en6871:id5\":\"abcdef\""
                                           ",\"flowStartSeconds\":\"2023-11-14T22:13:20Z\""
                                           ",\"sourceIPv6Address\":\"2001:db8::1\""
                                           "}\n");
}

static void
record_signed_float_boolean_edges(void **state)
{
    struct ixd_record r;
    float f = -0.25f;
    uint32_t fbits;

    ib_template(&tb, 300, 7);
    ib_field(&tb, 434, 1); /* signed as 1 byte */
    ib_field(&tb, 434, 4);
    ib_field(&tb, 276, 1); /* boolean false */
    ib_field(&tb, 320, 4); /* float64 sent as float32 */
    ib_field(&tb, 320, 8); /* NaN */
    ib_field(&tb, 276, 1); /* boolean with another byte */
    ib_field(&tb, 1, 3);   /* reduced-size unsigned */
    compile();
    ib_u8(&rb, 0x80);
    ib_u32(&rb, 0x7fffffff);
    ib_u8(&rb, 2);
    memcpy(&fbits, &f, 4);
    ib_u32(&rb, fbits);
    ib_u64(&rb, 0x7ff8000000000000ULL);
    ib_u8(&rb, 7);
    ib_bytes(&rb, "\x01\x00\x00", 3);
    fixed_record(&r);
    assert_string_equal(format(&r), PREFIX "300"
                                           ",\"mibObjectValueInteger\":[-128,2147483647]"
                                           ",\"dataRecordsReliability\":[false,7]"
                                           ",\"absoluteError\":[-0.25,null]"
                                           ",\"octetDeltaCount\":65536}\n");
}

static void
record_ntp_timestamps(void **state)
{
    struct ixd_record r;

    ib_template(&tb, 301, 2);
    ib_field(&tb, 154, 8); /* flowStartMicroseconds */
    ib_field(&tb, 156, 8); /* flowStartNanoseconds */
    compile();
    ib_u32(&rb, 1700000000u + 2208988800u);
    ib_u32(&rb, 0x80000000u | 0x7ffu); /* the low 11 bits carry nothing (RFC 7011 6.1.9) */
    ib_u32(&rb, 1700000000u + 2208988800u);
    ib_u32(&rb, 0x40000000u);
    fixed_record(&r);
    assert_string_equal(format(&r),
                        PREFIX "301"
                               ",\"flowStartMicroseconds\":\"2023-11-14T22:13:20.500000Z\""
                               ",\"flowStartNanoseconds\":\"2023-11-14T22:13:20.250000000Z\"}\n");
}

static void
record_illegal_length_as_hex(void **state)
{
    struct ixd_record r;

    ib_template(&tb, 302, 2);
    ib_field(&tb, 8, 8);   /* IPv4 address of 8 bytes (RFC 7011 6.2) */
    ib_field(&tb, 152, 3); /* timestamp of 3 bytes */
    compile();
    assert_int_equal(tmpl->bad_lengths, 2);
    ib_u64(&rb, 0x0102030405060708ULL);
    ib_bytes(&rb, "\x0a\x0b\x0c", 3);
    fixed_record(&r);
    assert_string_equal(format(&r), PREFIX "302"
                                           ",\"sourceIPv4Address\":\"0102030405060708\""
                                           ",\"flowStartMilliseconds\":\"0a0b0c\"}\n");
}

static void
repeated_element_with_absent_members(void **state)
{
    struct ixd_record r;

    ib_template(&tb, 303, 4);
    ib_field(&tb, 8, 0);
    ib_field(&tb, 8, 4);
    ib_field(&tb, 8, 0);
    ib_field(&tb, 8, 4);
    compile();
    ib_u32(&rb, 0x01010101);
    ib_u32(&rb, 0x02020202);
    fixed_record(&r);
    assert_string_equal(format(&r),
                        PREFIX "303,\"sourceIPv4Address\":[\"1.1.1.1\",\"2.2.2.2\"]}\n");
}

/* NetFlow v9 exporters pad templates with several zero-length fields of type 0: no key */
static void
repeated_element_all_absent(void **state)
{
    struct ixd_record r;

    ib_template(&tb, 306, 3);
    ib_field(&tb, 7, 2);
    ib_field(&tb, 0, 0);
    ib_field(&tb, 0, 0);
    compile();
    ib_u16(&rb, 53);
    fixed_record(&r);
    assert_string_equal(format(&r), PREFIX "306,\"sourceTransportPort\":53}\n");
}

/* RFC 7011 section 7: variable-length fields; the record carries per-field offsets */
static void
varlen_record_empty_string_and_octets(void **state)
{
    struct ixd_record r;
    uint16_t offs[3] = {0, 3, 3}, lens[3] = {2, 0, 0};

    ib_template(&tb, 304, 3);
    ib_field(&tb, 7, 2);
    ib_field(&tb, 82, IXD_VARLEN);
    ib_field(&tb, 313, IXD_VARLEN);
    compile();
    ib_u16(&rb, 53);
    ib_u8(&rb, 0);
    ib_u8(&rb, 0);
    memset(&r, 0, sizeof(r));
    r.tmpl = tmpl;
    r.data = rb.buf;
    r.length = (uint32_t)rb.len;
    r.offsets = offs;
    r.lengths = lens;
    offs[2] = 4;
    assert_string_equal(format(&r),
                        PREFIX "304,\"sourceTransportPort\":53"
                               ",\"interfaceName\":\"\",\"ipHeaderPacketSection\":\"\"}\n");
}

static void
bound_holds_for_worst_case_string(void **state)
{
    struct ixd_record r;
    uint16_t offs[2], lens[2];
    size_t n;
    const char *l;

    ib_template(&tb, 305, 2);
    ib_field(&tb, 82, IXD_VARLEN);
    ib_field(&tb, 83, IXD_VARLEN); /* interfaceDescription */
    compile();
    ib_u8(&rb, 255);
    ib_u16(&rb, 20000);
    offs[0] = 3;
    lens[0] = 20000;
    for (n = 0; n < 20000; n++) {
        ib_u8(&rb, (uint8_t)(n % 2 ? 0x01 : 0xff)); /* 6 output bytes each */
    }
    ib_u8(&rb, 255);
    ib_u16(&rb, 0);
    offs[1] = (uint16_t)(rb.len);
    lens[1] = 0;
    memset(&r, 0, sizeof(r));
    r.tmpl = tmpl;
    r.data = rb.buf;
    r.length = (uint32_t)rb.len;
    r.offsets = offs;
    r.lengths = lens;
    l = format(&r);
    assert_true(strlen(l) > 6 * 20000);
}

#define R(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(validator_self_check),
        cmocka_unit_test(string_plain_ascii),
        cmocka_unit_test(string_quote_and_backslash_escaped),
        cmocka_unit_test(string_control_bytes_and_nul),
        cmocka_unit_test(string_valid_utf8_kept),
        cmocka_unit_test(string_invalid_utf8_replaced),
        cmocka_unit_test(string_truncated_overlong_surrogate_replaced),
        cmocka_unit_test(string_every_byte_value_gives_valid_json),
        cmocka_unit_test(rfc3339_epoch),
        cmocka_unit_test(rfc3339_fraction_digits),
        cmocka_unit_test(rfc3339_calendar),
        cmocka_unit_test(rfc3339_negative_seconds),
        cmocka_unit_test(rfc3339_alternating_days),
        cmocka_unit_test(u64_digit_count_boundaries),
        cmocka_unit_test(u64_zero_and_max),
        cmocka_unit_test(u64_random_values),
        cmocka_unit_test(ipv6_text_as_inet_ntop),
        cmocka_unit_test(ipv6_text_rfc5952_cases),
        cmocka_unit_test(ipv4_every_octet),
        cmocka_unit_test(u8_every_value),
        R(record_with_every_kind_of_value),
        R(record_signed_float_boolean_edges),
        R(record_ntp_timestamps),
        R(record_illegal_length_as_hex),
        R(repeated_element_with_absent_members),
        R(repeated_element_all_absent),
        R(varlen_record_empty_string_and_octets),
        R(bound_holds_for_worst_case_string),
    };

    return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
