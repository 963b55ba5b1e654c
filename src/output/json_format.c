#include "output/json_format.h"

#include <ctype.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "ipfix/decode.h"
#include "ipfix/lists.h"
#include "ipfix/sampling.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "output/json_put.h"

/* seconds between the NTP epoch (1900) and the UNIX epoch (1970) */
#define NTP_UNIX_OFFSET 2208988800LL
#define KEY_BOUND 160  /* key, quotes, colon, comma, and any fixed-size value */
#define LINE_SLACK 512 /* metadata after "@template", "}\n", what writers store past the end */
_Static_assert(LINE_SLACK >= 128 + IXD_JSON_OVERRUN, "the writers' overrun is in the bound");
/*
 * RFC 6313 lists nest records in records. Their JSON is bounded twice: lists deeper than
 * LIST_DEPTH_MAX, and lists whose JSON could exceed LIST_FACTOR times their bytes (plus
 * LIST_SLACK), are written as hex like any other octets, so no exporter can make one record's
 * line grow without limit.
 */
#define LIST_DEPTH_MAX 4
#define LIST_FACTOR 40
#define LIST_SLACK 256
#define FIELDS_MAX 16384 /* fields-per-template is at most 16383 */

static const char hex_digits[] = "0123456789abcdef";

const char ixd_json_digit_pairs[201] = "00010203040506070809101112131415161718192021222324"
                                       "25262728293031323334353637383940414243444546474849"
                                       "50515253545556575859606162636465666768697071727374"
                                       "75767778798081828384858687888990919293949596979899";

const uint64_t ixd_json_pow10[20] = {1ULL,
                                     10ULL,
                                     100ULL,
                                     1000ULL,
                                     10000ULL,
                                     100000ULL,
                                     1000000ULL,
                                     10000000ULL,
                                     100000000ULL,
                                     1000000000ULL,
                                     10000000000ULL,
                                     100000000000ULL,
                                     1000000000000ULL,
                                     10000000000000ULL,
                                     100000000000000ULL,
                                     1000000000000000ULL,
                                     10000000000000000ULL,
                                     100000000000000000ULL,
                                     1000000000000000000ULL,
                                     10000000000000000000ULL};

/* An octet's decimal digits, then dots up to 4 bytes. */
#define OCTET(b)                                                                                   \
    {                                                                                              \
        (char)((b) >= 100  ? '0' + (b) / 100                                                       \
               : (b) >= 10 ? '0' + (b) / 10                                                        \
                           : '0' + (b)),                                                           \
            (char)((b) >= 100  ? '0' + (b) / 10 % 10                                               \
                   : (b) >= 10 ? '0' + (b) % 10                                                    \
                               : '.'),                                                             \
            (char)((b) >= 100 ? '0' + (b) % 10 : '.'), '.'                                         \
    }
#define OCTETS4(b) OCTET(b), OCTET((b) + 1), OCTET((b) + 2), OCTET((b) + 3)
#define OCTETS16(b) OCTETS4(b), OCTETS4((b) + 4), OCTETS4((b) + 8), OCTETS4((b) + 12)
#define OCTETS64(b) OCTETS16(b), OCTETS16((b) + 16), OCTETS16((b) + 32), OCTETS16((b) + 48)
const char ixd_json_octets[256][4] = {OCTETS64(0), OCTETS64(64), OCTETS64(128), OCTETS64(192)};
#define LEN(b) (uint8_t)(2 + ((b) >= 10) + ((b) >= 100))
#define LENS4(b) LEN(b), LEN((b) + 1), LEN((b) + 2), LEN((b) + 3)
#define LENS16(b) LENS4(b), LENS4((b) + 4), LENS4((b) + 8), LENS4((b) + 12)
#define LENS64(b) LENS16(b), LENS16((b) + 16), LENS16((b) + 32), LENS16((b) + 48)
const uint8_t ixd_json_octet_len[256] = {LENS64(0), LENS64(64), LENS64(128), LENS64(192)};

size_t
ixd_json_put_big(char *out, uint64_t v)
{
    size_t n;

    if (v < 10000000000000000ULL) {
        n = ixd_json_put_u64(out, v / 100000000);
        ixd_json_store64(out + n, ixd_json_digits8((uint32_t)(v % 100000000)));
        return n + 8;
    }
    n = ixd_json_put_u64(out, v / 10000000000000000ULL); /* at most 1844 */
    v %= 10000000000000000ULL;
    ixd_json_store64(out + n, ixd_json_digits8((uint32_t)(v / 100000000)));
    ixd_json_store64(out + n + 8, ixd_json_digits8((uint32_t)(v % 100000000)));
    return n + 16;
}

static inline size_t
put_u64(char *out, uint64_t v)
{
    return ixd_json_put_u64(out, v);
}

size_t
ixd_json_u64(char *out, uint64_t v)
{
    return put_u64(out, v);
}

static size_t
json_i64(char *out, int64_t v)
{
    if (v < 0) {
        out[0] = '-';
        return 1 + put_u64(out + 1, (uint64_t)0 - (uint64_t)v);
    }
    return put_u64(out, (uint64_t)v);
}

static size_t
put_hex(char *out, const uint8_t *p, size_t len)
{
    size_t i;

    out[0] = '"';
    for (i = 0; i < len; i++) {
        out[1 + 2 * i] = hex_digits[p[i] >> 4];
        out[2 + 2 * i] = hex_digits[p[i] & 15];
    }
    out[1 + 2 * len] = '"';
    return 2 + 2 * len;
}

/* Length of the valid UTF-8 sequence at s (RFC 3629), or 0 if it is not valid. */
static size_t
utf8_sequence(const uint8_t *s, size_t len)
{
    uint32_t cp;
    size_t n, i;

    if (s[0] < 0xc2 || s[0] > 0xf4) {
        return 0;
    }
    n = s[0] < 0xe0 ? 2 : s[0] < 0xf0 ? 3 : 4;
    if (n > len) {
        return 0;
    }
    cp = s[0] & (0x7f >> n);
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80) {
            return 0;
        }
        cp = (cp << 6) | (s[i] & 0x3f);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff)) {
        return 0;
    }
    return n;
}

size_t
ixd_json_string(char *out, const uint8_t *s, size_t len)
{
    size_t o = 0, i = 0;

    out[o++] = '"';
    while (i < len) {
        uint8_t c = s[i];
        if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
            out[o++] = (char)c;
            i++;
        } else if (c == '"' || c == '\\') {
            out[o++] = '\\';
            out[o++] = (char)c;
            i++;
        } else if (c < 0x20) {
            /* control bytes, NUL included: strings from the wire are often NUL-padded */
            memcpy(out + o, "\\u00", 4);
            out[o + 4] = hex_digits[c >> 4];
            out[o + 5] = hex_digits[c & 15];
            o += 6;
            i++;
        } else {
            size_t n = utf8_sequence(s + i, len - i);
            if (n == 0) {
                memcpy(out + o, "\\ufffd", 6); /* invalid UTF-8: the replacement character */
                o += 6;
                i++;
            } else {
                memcpy(out + o, s + i, n);
                o += n;
                i += n;
            }
        }
    }
    out[o++] = '"';
    return o;
}

/* Civil date from days since 1970-01-01 (proleptic Gregorian). */
static void
civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    int64_t era, yoe, doy, mp;

    z += 719468;
    era = (z >= 0 ? z : z - 146096) / 146097;
    yoe = z - era * 146097;
    yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
    doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

static void
two(char *o, unsigned v)
{
    memcpy(o, ixd_json_digit_pairs + 2 * v, 2);
}

/* "YYYY-MM-DD" of a day number. */
static void
format_date(char *out, int64_t days)
{
    int64_t y;
    unsigned m, d;

    civil_from_days(days, &y, &m, &d);
    if (y < 0 || y > 9999) {
        y = y < 0 ? 0 : 9999; /* out of RFC 3339's range: clamp, still valid text */
    }
    out[0] = (char)('0' + y / 1000);
    out[1] = (char)('0' + y / 100 % 10);
    two(out + 2, (unsigned)(y % 100));
    out[4] = '-';
    two(out + 5, m);
    out[7] = '-';
    two(out + 8, d);
}

void
ixd_json_clock(char *out, int64_t sec)
{
    /* timestamps of one export cluster on a few days: each thread keeps its last date */
    static _Thread_local int64_t cached_day = INT64_MIN;
    static _Thread_local char cached_date[10];
    int64_t days = sec >= 0 ? sec / 86400 : (sec - 86399) / 86400;
    int64_t rem = sec - days * 86400;

    if (days != cached_day) {
        format_date(cached_date, days);
        cached_day = days;
    }
    memcpy(out, cached_date, 10);
    out[10] = 'T';
    two(out + 11, (unsigned)(rem / 3600));
    out[13] = ':';
    two(out + 14, (unsigned)(rem / 60 % 60));
    out[16] = ':';
    two(out + 17, (unsigned)(rem % 60));
}

/* "YYYY-MM-DDThh:mm:ss[.fff]Z" in quotes; frac holds `digits` decimal digits. */
size_t
ixd_json_rfc3339(char *out, int64_t sec, uint32_t frac, int digits)
{
    size_t o = 20;
    int i;

    out[0] = '"';
    ixd_json_clock(out + 1, sec);
    if (digits > 0) {
        out[o++] = '.';
        for (i = digits - 1; i >= 0; i--) {
            out[o + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        o += (size_t)digits;
    }
    out[o++] = 'Z';
    out[o++] = '"';
    return o;
}

static size_t
put_ipv4(char *out, const uint8_t *p)
{
    size_t o = 1 + ixd_json_put_ipv4(out + 1, p);

    out[0] = '"';
    out[o++] = '"';
    return o;
}

static size_t
put_float(char *out, const uint8_t *p, size_t len)
{
    double v;
    int n;

    if (len == 4) {
        uint32_t bits = ixd_get32(p);
        float f;
        memcpy(&f, &bits, 4);
        v = f;
    } else {
        uint64_t bits = ixd_get64(p);
        memcpy(&v, &bits, 8);
    }
    if (!isfinite(v)) {
        memcpy(out, "null", 4); /* JSON has no NaN or infinity */
        return 4;
    }
    n = snprintf(out, 32, len == 4 ? "%.9g" : "%.17g", v);
    return n > 0 ? (size_t)n : 0;
}

static size_t
put_ntp(char *out, const uint8_t *p, int nanos)
{
    int64_t sec = (int64_t)ixd_get32(p) - NTP_UNIX_OFFSET;
    uint64_t frac = ixd_get32(p + 4);

    if (nanos) {
        return ixd_json_rfc3339(out, sec, (uint32_t)((frac * 1000000000ULL) >> 32), 9);
    }
    /* RFC 7011 6.1.9: the low 11 bits of a microsecond fraction carry nothing */
    return ixd_json_rfc3339(out, sec, (uint32_t)(((frac & ~0x7ffULL) * 1000000ULL) >> 32), 6);
}

static size_t
put_literal(char *out, const char *s)
{
    size_t n = strlen(s);

    memcpy(out, s, n);
    return n;
}

static size_t put_list(char *out, uint8_t type, const uint8_t *p, size_t len,
                       const struct ixd_json_fmt *c);

/* One value, typed; the field's decoded type already accounts for illegal lengths. */
static size_t
put_value(char *out, uint8_t type, const uint8_t *p, size_t len, const struct ixd_json_fmt *c)
{
    size_t n;

    switch (type) {
    case IXD_TYPE_UNSIGNED:
        return put_u64(out, ixd_get_uint(p, (unsigned)len));
    case IXD_TYPE_SIGNED: {
        uint64_t v = ixd_get_uint(p, (unsigned)len);
        if (len < 8 && (p[0] & 0x80)) {
            v |= ~0ULL << (8 * len); /* sign-extend a reduced-size value */
        }
        return json_i64(out, (int64_t)v);
    }
    case IXD_TYPE_FLOAT:
        return put_float(out, p, len);
    case IXD_TYPE_BOOLEAN:
        if (p[0] == 1 || p[0] == 2) {
            memcpy(out, p[0] == 1 ? "true" : "false", p[0] == 1 ? 4 : 5);
            return p[0] == 1 ? 4 : 5;
        }
        return put_u64(out, p[0]);
    case IXD_TYPE_MAC:
        n = 0;
        out[n++] = '"';
        for (size_t i = 0; i < 6; i++) {
            if (i > 0) {
                out[n++] = ':';
            }
            out[n++] = hex_digits[p[i] >> 4];
            out[n++] = hex_digits[p[i] & 15];
        }
        out[n++] = '"';
        return n;
    case IXD_TYPE_STRING:
        return ixd_json_string(out, p, len);
    case IXD_TYPE_TIME_SEC:
        return ixd_json_rfc3339(out, (int64_t)ixd_get32(p), 0, 0);
    case IXD_TYPE_TIME_MSEC: {
        uint64_t ms = ixd_get64(p);
        return ixd_json_rfc3339(out, (int64_t)(ms / 1000), (uint32_t)(ms % 1000), 3);
    }
    case IXD_TYPE_TIME_USEC:
        return put_ntp(out, p, 0);
    case IXD_TYPE_TIME_NSEC:
        return put_ntp(out, p, 1);
    case IXD_TYPE_IPV4:
        return put_ipv4(out, p);
    case IXD_TYPE_IPV6:
        n = 1 + ixd_json_put_ipv6(out + 1, p);
        out[0] = '"';
        out[n] = '"';
        return n + 1;
    case IXD_TYPE_BASIC_LIST:
    case IXD_TYPE_SUBTEMPLATE_LIST:
    case IXD_TYPE_SUBTEMPLATE_MULTILIST:
        return put_list(out, type, p, len, c);
    default:
        return put_hex(out, p, len);
    }
}

/* The most put_value() writes for a value of this type and length. */
static size_t
value_bound(uint8_t type, size_t len)
{
    switch (type) {
    case IXD_TYPE_UNSIGNED:
    case IXD_TYPE_SIGNED:
        return 3 * len + 4; /* 2^(8n) has fewer than 2.41n + 1 digits; "null" when empty */
    case IXD_TYPE_FLOAT:
    case IXD_TYPE_TIME_SEC:
    case IXD_TYPE_TIME_MSEC:
    case IXD_TYPE_TIME_USEC:
    case IXD_TYPE_TIME_NSEC:
    case IXD_TYPE_UPTIME:
        return 34;
    case IXD_TYPE_BOOLEAN:
        return 5;
    case IXD_TYPE_MAC:
        return 19;
    case IXD_TYPE_IPV4:
        return 17;
    case IXD_TYPE_IPV6:
        return 48;
    case IXD_TYPE_STRING:
        return 6 * len + 4;
    case IXD_TYPE_BASIC_LIST:
    case IXD_TYPE_SUBTEMPLATE_LIST:
    case IXD_TYPE_SUBTEMPLATE_MULTILIST:
        return LIST_FACTOR * len + LIST_SLACK;
    default:
        return 2 * len + 4;
    }
}

size_t
ixd_json_bound(const struct ixd_record *r)
{
    size_t bound = LINE_SLACK + (size_t)r->tmpl->field_count * KEY_BOUND + 6 * (size_t)r->length;

    if (r->tmpl->has_lists) {
        bound += (size_t)r->tmpl->field_count * LIST_SLACK + LIST_FACTOR * (size_t)r->length;
    }
    return bound;
}

size_t
ixd_json_prefix(const struct ixd_source *src, char *buf, size_t size)
{
    return ixd_json_prefix_keyed(src, "@tls_subject", buf, size);
}

size_t
ixd_json_prefix_keyed(const struct ixd_source *src, const char *subject_key, char *buf, size_t size)
{
    size_t o = 0;
    int64_t sec = src->received_usec / 1000000;

    /* >= 512 without a TLS subject: collector names are at most 63 bytes and addresses 45;
     * IXD_JSON_PREFIX_MAX with one (the subject is at most 255 printable bytes, the key 63) */
    (void)size;
    memcpy(buf + o, "{\"@collector\":", 14);
    o += 14;
    o += ixd_json_string(buf + o, (const uint8_t *)src->collector, strlen(src->collector));
    memcpy(buf + o, ",\"@exporter\":", 13);
    o += 13;
    o += ixd_json_string(buf + o, (const uint8_t *)src->exporter_text, strlen(src->exporter_text));
    memcpy(buf + o, ",\"@exporter_port\":", 18);
    o += 18;
    o += put_u64(buf + o, src->exporter_port);
    memcpy(buf + o, ",\"@odid\":", 9);
    o += 9;
    o += put_u64(buf + o, src->odid);
    memcpy(buf + o, ",\"@received\":", 13);
    o += 13;
    o += ixd_json_rfc3339(buf + o, sec, (uint32_t)(src->received_usec - sec * 1000000), 6);
    if (src->late) {
        memcpy(buf + o, ",\"@late\":true", 13);
        o += 13;
    }
    if (src->tls_subject != NULL && subject_key != NULL) {
        buf[o++] = ',';
        o += ixd_json_string(buf + o, (const uint8_t *)subject_key, strnlen(subject_key, 63));
        buf[o++] = ':';
        o += ixd_json_string(buf + o, (const uint8_t *)src->tls_subject,
                             strnlen(src->tls_subject, 255));
    }
    memcpy(buf + o, ",\"@template\":", 13);
    o += 13;
    return o;
}

size_t
ixd_json_field_value(const struct ixd_record *r, unsigned i, char *out,
                     const struct ixd_json_fmt *c)
{
    int64_t system_init_ms = c->system_init_ms;
    const struct ixd_field *f = &r->tmpl->fields[i];
    const uint8_t *p;
    uint16_t len;

    if (f->length == 0) {
        return 0; /* a declared zero-length field is absent (NetFlow v9 habit) */
    }
    p = ixd_record_field(r, i, &len);
    if (f->type == IXD_TYPE_UPTIME && len == 4) {
        if (system_init_ms != 0) {
            int64_t ms = system_init_ms + (int64_t)ixd_get32(p);
            int64_t sec = ms >= 0 ? ms / 1000 : (ms - 999) / 1000;
            return ixd_json_rfc3339(out, sec, (uint32_t)(ms - sec * 1000), 3);
        }
        return put_u64(out, ixd_get32(p));
    }
    if (len == 0) {
        /* an empty variable-length value */
        if (f->type == IXD_TYPE_STRING || f->type == IXD_TYPE_OCTETS) {
            memcpy(out, "\"\"", 2);
            return 2;
        }
        memcpy(out, "null", 4);
        return 4;
    }
    if (c->rate > 1 && ixd_sampling_scales(f) && len <= 8) {
        uint64_t v = ixd_get_uint(p, len);
        return put_u64(out, v > UINT64_MAX / c->rate ? UINT64_MAX : v * c->rate);
    }
    return put_value(out, f->type, p, len, c);
}

static size_t
put_key(char *out, const char *key, size_t n)
{
    /* Knowing n < 256 (key_length is one byte), gcc inlines the copy as `rep movsq`, whose
     * start-up cost made every record ~90 ns slower than libc's memcpy (docs/benchmarks.md);
     * the empty asm hides the bound. */
    __asm__("" : "+r"(n));
    out[0] = ',';
    out[1] = '"';
    memcpy(out + 2, key, n);
    out[n + 2] = '"';
    out[n + 3] = ':';
    return n + 4;
}

/* A repeated element becomes one key with an array of its values, in template order. */
static size_t
put_repeated(const struct ixd_record *r, unsigned first, char *out, const struct ixd_json_fmt *c)
{
    const struct ixd_template *t = r->tmpl;
    const struct ixd_field *f = &t->fields[first];
    size_t o = put_key(out, f->key, f->key_length);
    unsigned i, n = 0;

    out[o++] = '[';
    for (i = first; i < t->field_count; i++) {
        size_t v;
        if (t->fields[i].id != f->id || t->fields[i].pen != f->pen) {
            continue;
        }
        if (n > 0) {
            out[o++] = ',';
        }
        v = ixd_json_field_value(r, i, out + o, c);
        if (v == 0 && n > 0) {
            o--; /* absent: drop the comma again */
            continue;
        }
        o += v;
        n += v > 0;
    }
    if (n == 0) {
        return 0; /* every occurrence absent: so is the element */
    }
    out[o++] = ']';
    return o;
}

/* The key of field f: uptimes become absolute times once the exporter's boot time is known. */
static size_t
put_field_key(char *out, const struct ixd_field *f, int64_t system_init_ms)
{
    if (f->type == IXD_TYPE_UPTIME && system_init_ms != 0) {
        return f->id == IXD_IE_FLOW_START_SYSUPTIME
                   ? put_key(out, "flowStartMilliseconds", sizeof("flowStartMilliseconds") - 1)
                   : put_key(out, "flowEndMilliseconds", sizeof("flowEndMilliseconds") - 1);
    }
    return put_key(out, f->key, f->key_length);
}

/* Writes ,"key":value for every field of r that is present. */
static size_t
put_fields(const struct ixd_record *r, char *out, const struct ixd_json_fmt *c)
{
    const struct ixd_template *t = r->tmpl;
    size_t o = 0;
    unsigned i;

    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];

        if (f->type == IXD_TYPE_PADDING) {
            continue;
        }
        if (f->repeat > 1) {
            if (f->repeat_index == 0) {
                o += put_repeated(r, i, out + o, c);
            }
            continue;
        }
        o += ixd_json_field(r, i, out + o, c);
    }
    return o;
}

size_t
ixd_json_field(const struct ixd_record *r, unsigned i, char *out, const struct ixd_json_fmt *c)
{
    size_t k = put_field_key(out, &r->tmpl->fields[i], c->system_init_ms);
    size_t v = ixd_json_field_value(r, i, out + k, c);

    return v > 0 ? k + v : 0;
}

size_t
ixd_json_head(const struct ixd_template *t, char *out)
{
    size_t o = put_u64(out, t->id);

    if (t->scope_count > 0) {
        o += put_literal(out + o, ",\"@options\":true");
    }
    return o;
}

size_t
ixd_json_rate(char *out, uint32_t rate)
{
    size_t o = put_literal(out, ",\"@sampling_rate\":");

    return o + put_u64(out + o, rate);
}

size_t
ixd_json_record_scaled(const struct ixd_record *r, const struct ixd_source *src, uint32_t rate,
                       const char *prefix, size_t prefix_len, char *out)
{
    struct ixd_json_fmt c = {src != NULL ? src->system_init_ms : 0,
                             src != NULL ? src->resolver : NULL, 0, rate};
    size_t o = prefix_len;

    memcpy(out, prefix, prefix_len);
    o += ixd_json_head(r->tmpl, out + o);
    if (rate > 1) {
        o += ixd_json_rate(out + o, rate);
    }
    o += put_fields(r, out + o, &c);
    out[o++] = '}';
    out[o++] = '\n';
    return o;
}

/* ---- RFC 6313 structured data ---- */

/* Per thread: variable-length offsets of the records nested at each depth. */
static _Thread_local uint16_t nested_offsets[LIST_DEPTH_MAX][FIELDS_MAX];
static _Thread_local uint16_t nested_lengths[LIST_DEPTH_MAX][FIELDS_MAX];

static size_t
put_semantic(char *out, uint8_t semantic)
{
    const char *name = ixd_list_semantic_name(semantic);
    size_t o = put_literal(out, "{\"@semantic\":");

    if (name != NULL) {
        out[o++] = '"';
        o += put_literal(out + o, name);
        out[o++] = '"';
    } else {
        o += put_u64(out + o, semantic);
    }
    return o;
}

/*
 * Writes the records of template t found in [p, p + len) as JSON objects separated by commas,
 * each {"@template":N,...} when with_tid. Returns the bytes written, or (size_t)-1 when the
 * records are malformed or would pass end.
 */
static size_t
put_nested_records(char *out, const char *end, const struct ixd_template *t, const uint8_t *p,
                   size_t len, int with_tid, const struct ixd_json_fmt *c)
{
    uint16_t *offs = nested_offsets[c->depth - 1], *lens = nested_lengths[c->depth - 1];
    size_t o = 0, n = 0;

    if (t == NULL || t->field_count > FIELDS_MAX) {
        return (size_t)-1;
    }
    while (len > 0) {
        struct ixd_record r = {t, p, 0, NULL, NULL};
        size_t need = 32;
        unsigned i;

        if (len < t->min_length) {
            return (size_t)-1; /* a list holds whole records and nothing else */
        }
        if (t->has_varlen) {
            r.length = (uint32_t)ixd_record_walk(t, p, len, offs, lens);
            if (r.length == 0) {
                return (size_t)-1;
            }
            r.offsets = offs;
            r.lengths = lens;
        } else {
            r.length = t->fixed_length;
        }
        for (i = 0; i < t->field_count; i++) {
            uint16_t flen;
            ixd_record_field(&r, i, &flen);
            /* 10: quotes, colon, comma, and "flowStartMilliseconds" for a longer uptime key */
            need += 10 + t->fields[i].key_length + value_bound(t->fields[i].type, flen);
        }
        if (need > (size_t)(end - (out + o))) {
            return (size_t)-1;
        }
        if (n++ > 0) {
            out[o++] = ',';
        }
        out[o++] = '{';
        if (with_tid) {
            o += put_literal(out + o, "\"@template\":");
            o += put_u64(out + o, t->id);
            o += put_fields(&r, out + o, c);
        } else {
            /* put_fields starts every pair with a comma */
            size_t w = put_fields(&r, out + o - 1, c);
            if (w > 0) {
                out[o - 1] = '{';
                o += w - 1;
            }
        }
        out[o++] = '}';
        p += r.length;
        len -= r.length;
    }
    return o;
}

/* A name that needs no escaping and fits the header's share of LIST_SLACK. */
static int
plain_name(const char *name)
{
    size_t i;

    for (i = 0; name[i] != '\0'; i++) {
        if (i == IXD_KEY_NAME_MAX ||
            !(isalnum((unsigned char)name[i]) || strchr("_-.:", name[i]))) {
            return 0;
        }
    }
    return i > 0;
}

static size_t
put_basic_list(char *out, const char *end, const uint8_t *p, size_t len,
               const struct ixd_json_fmt *c)
{
    struct ixd_basic_list l;
    const struct ixd_ie *ie;
    const uint8_t *v;
    uint16_t vlen;
    size_t o, pos = 0, n = 0;
    uint8_t type;
    char key[40];
    int more;

    if (ixd_basic_list_open(p, len, &l) == -1) {
        return (size_t)-1;
    }
    ie = c->resolver->element_of(c->resolver, l.pen, l.id);
    type = ixd_field_type(ie, l.element_length);
    o = put_semantic(out, l.semantic);
    out[o++] = ',';
    if (ie != NULL && plain_name(ie->name)) {
        o += ixd_json_string(out + o, (const uint8_t *)ie->name, strlen(ie->name));
    } else {
        int k = l.pen != 0 ? snprintf(key, sizeof(key), "en%u:id%u", l.pen, l.id)
                           : snprintf(key, sizeof(key), "id%u", l.id);
        o += ixd_json_string(out + o, (const uint8_t *)key, (size_t)k);
    }
    out[o++] = ':';
    out[o++] = '[';
    while ((more = ixd_basic_list_next(&l, &pos, &v, &vlen)) == 1) {
        if (value_bound(type, vlen) + 8 > (size_t)(end - (out + o))) {
            return (size_t)-1;
        }
        if (n++ > 0) {
            out[o++] = ',';
        }
        if (vlen == 0) {
            o += put_literal(out + o, "null"); /* an empty element of a variable-length list */
        } else {
            o += put_value(out + o, type, v, vlen, c);
        }
    }
    if (more == -1) {
        return (size_t)-1;
    }
    out[o++] = ']';
    out[o++] = '}';
    return o;
}

static size_t
put_subtemplate_list(char *out, const char *end, const uint8_t *p, size_t len,
                     const struct ixd_json_fmt *c)
{
    struct ixd_subtemplate_list l;
    size_t o, w;

    if (ixd_subtemplate_list_open(p, len, &l) == -1) {
        return (size_t)-1;
    }
    o = put_semantic(out, l.semantic);
    o += put_literal(out + o, ",\"@template\":");
    o += put_u64(out + o, l.tid);
    o += put_literal(out + o, ",\"@records\":[");
    w = put_nested_records(out + o, end - 2, c->resolver->template_of(c->resolver, l.tid),
                           l.records, l.length, 0, c);
    if (w == (size_t)-1) {
        return w;
    }
    o += w;
    out[o++] = ']';
    out[o++] = '}';
    return o;
}

static size_t
put_subtemplate_multilist(char *out, const char *end, const uint8_t *p, size_t len,
                          const struct ixd_json_fmt *c)
{
    struct ixd_subtemplate_block b;
    uint8_t semantic;
    size_t o, pos = 1, n = 0;
    int more;

    if (ixd_subtemplate_multilist_open(p, len, &semantic) == -1) {
        return (size_t)-1;
    }
    o = put_semantic(out, semantic);
    o += put_literal(out + o, ",\"@records\":[");
    while ((more = ixd_subtemplate_multilist_next(p, len, &pos, &b)) == 1) {
        size_t w;
        if (b.length == 0) {
            continue; /* a block without records */
        }
        if (n > 0) {
            out[o++] = ',';
        }
        w = put_nested_records(out + o, end - 2, c->resolver->template_of(c->resolver, b.tid),
                               b.records, b.length, 1, c);
        if (w == (size_t)-1) {
            return w;
        }
        o += w;
        n += w > 0;
        if (w == 0 && n > 0) {
            o--;
        }
    }
    if (more == -1) {
        return (size_t)-1;
    }
    out[o++] = ']';
    out[o++] = '}';
    return o;
}

/*
 * A list as JSON, within value_bound(): an object with "@semantic" and the values or records;
 * as hex when it cannot be read (malformed, a template the domain does not have, nested too
 * deep, no resolver) or would not fit.
 */
static size_t
put_list(char *out, uint8_t type, const uint8_t *p, size_t len, const struct ixd_json_fmt *c)
{
    const char *end = out + value_bound(type, len);
    struct ixd_json_fmt inner = *c;
    size_t w = (size_t)-1;

    inner.rate = 1; /* the rate is the enclosing record's: nested counts are written as sent */

    if (c->resolver == NULL || c->depth >= LIST_DEPTH_MAX) {
        return put_hex(out, p, len);
    }
    inner.depth++;
    if (type == IXD_TYPE_BASIC_LIST) {
        w = put_basic_list(out, end, p, len, &inner);
    } else if (type == IXD_TYPE_SUBTEMPLATE_LIST) {
        w = put_subtemplate_list(out, end, p, len, &inner);
    } else {
        w = put_subtemplate_multilist(out, end, p, len, &inner);
    }
    return w != (size_t)-1 ? w : put_hex(out, p, len);
}

size_t
ixd_json_record_from(const struct ixd_record *r, const struct ixd_source *src, const char *prefix,
                     size_t prefix_len, char *out)
{
    return ixd_json_record_scaled(r, src, 1, prefix, prefix_len, out);
}

size_t
ixd_json_record(const struct ixd_record *r, const char *prefix, size_t prefix_len, char *out)
{
    return ixd_json_record_from(r, NULL, prefix, prefix_len, out);
}
