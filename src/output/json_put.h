/*
 * The value writers the JSON formatters share (json_format.c formats a record field by field,
 * json_prog.c runs a template's compiled program), and what they need to know of a record
 * beyond its bytes. Internal to src/output/.
 *
 * Writers store whole machine words: each may write up to IXD_JSON_OVERRUN bytes past the
 * length it returns (the bytes after are written again or never read). Every buffer a line is
 * formatted into has that room: ixd_json_bound() counts it.
 */
#ifndef IXD_OUTPUT_JSON_PUT_H
#define IXD_OUTPUT_JSON_PUT_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipfixd/record.h"

#define IXD_JSON_OVERRUN 32

/* What formatting a record needs beyond the record. */
struct ixd_json_fmt {
    int64_t system_init_ms;
    const struct ixd_resolver *resolver;
    unsigned depth; /* lists entered so far */
    uint32_t rate;  /* renormalisation: counts are multiplied by it (1: as sent) */
};

extern const char ixd_json_digit_pairs[201];
extern const char ixd_json_octets[256][4]; /* digits of an octet, then dots */
extern const uint8_t ixd_json_octet_len[256]; /* digits of an octet and one dot */
extern const uint64_t ixd_json_pow10[20];

static inline void
ixd_json_store64(char *out, uint64_t w)
{
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    w = __builtin_bswap64(w); /* the words below hold their first character lowest */
#endif
    memcpy(out, &w, 8);
}

/* Decimal digits of v (1 for 0). */
static inline unsigned
ixd_json_digits(uint64_t v)
{
    uint64_t w = v | 1; /* 0 has a digit; no other count changes (10^t - 1 is odd) */
    unsigned t = (unsigned)(64 - __builtin_clzll(w)) * 1233 >> 12; /* ~ bits * log10(2) */

    return t + (w >= ixd_json_pow10[t]);
}

/*
 * The 8 decimal digits of v < 10^8, leading zeros included, first digit in the lowest byte:
 * four numbers below 100 in 16-bit lanes, then eight digits in bytes, each split by a
 * multiplication (x * 10486 >> 20 is x / 100 below 10^4, x * 103 >> 10 is x / 10 below 100).
 */
static inline uint64_t
ixd_json_digits8(uint32_t v)
{
    uint64_t x = (v / 10000) | ((uint64_t)(v % 10000) << 32);
    uint64_t y = ((x * 10486) >> 20) & 0x0000007f0000007fULL;

    x = y | ((x - y * 100) << 16);
    y = ((x * 103) >> 10) & 0x000f000f000f000fULL;
    x = y | ((x - y * 10) << 8);
    return x | 0x3030303030303030ULL;
}

/* v in decimal, from the octets' table: one word, no test of its size; writes up to 3 bytes past
 * what it returns. */
static inline size_t
ixd_json_put_u8(char *out, uint8_t v)
{
    memcpy(out, ixd_json_octets[v], 4);
    return ixd_json_octet_len[v] - 1u; /* without the dot */
}

/* v >= 10^8 in decimal (json_format.c); writes up to 8 bytes past what it returns. */
size_t ixd_json_put_big(char *out, uint64_t v);

/* v in decimal; writes up to 8 bytes past what it returns. Most values in flow records are
 * small: below 256 a word from the octets' table, below 10^4 two pairs, below 10^5 (ports, AS numbers)
 * a digit and two pairs, below 10^8 eight digits at once, leading zeros shifted out. */
static inline __attribute__((always_inline)) size_t
ixd_json_put_u64(char *out, uint64_t v)
{
    unsigned n;

    if (v < 256) {
        return ixd_json_put_u8(out, (uint8_t)v);
    }
    if (v < 10000) {
        uint32_t hi = (uint32_t)v * 5243 >> 19; /* v / 100 below 43,699 */
        n = 3 + (v >= 1000);
        memcpy(out, ixd_json_digit_pairs + 2 * hi + (n == 3), 2);
        memcpy(out + n - 2, ixd_json_digit_pairs + 2 * (v - 100 * hi), 2);
        return n;
    }
    if (v < 100000) {
        /* ports and AS numbers: a digit, then two pairs */
        uint32_t hi = (uint32_t)v / 10000, lo = (uint32_t)v - 10000 * hi, mid = lo * 5243 >> 19;
        out[0] = (char)('0' + hi);
        memcpy(out + 1, ixd_json_digit_pairs + 2 * mid, 2);
        memcpy(out + 3, ixd_json_digit_pairs + 2 * (lo - 100 * mid), 2);
        return 5;
    }
    if (v < 100000000) {
        n = ixd_json_digits(v);
        ixd_json_store64(out, ixd_json_digits8((uint32_t)v) >> (8 * (8 - n)));
        return n;
    }
    return ixd_json_put_big(out, v);
}

/* a.b.c.d without quotes; writes up to 3 bytes past what it returns. */
static inline __attribute__((always_inline)) size_t
ixd_json_put_ipv4(char *out, const uint8_t *p)
{
    /* an octet's digits and a dot in one word; the last octet's dot is past the address */
    size_t o1 = ixd_json_octet_len[p[0]], o2 = o1 + ixd_json_octet_len[p[1]];
    size_t o3 = o2 + ixd_json_octet_len[p[2]];

    memcpy(out, ixd_json_octets[p[0]], 4);
    memcpy(out + o1, ixd_json_octets[p[1]], 4);
    memcpy(out + o2, ixd_json_octets[p[2]], 4);
    memcpy(out + o3, ixd_json_octets[p[3]], 4);
    return o3 + ixd_json_octet_len[p[3]] - 1;
}

/* n bytes of s, in blocks of IXD_JSON_OVERRUN bytes, the last one overlapping the one before it
 * (nothing read or written past n): for the lengths of a line's prefix, inline, not a call. */
static inline __attribute__((always_inline)) void
ixd_json_copy(char *out, const char *s, size_t n)
{
    size_t i;

    if (n < IXD_JSON_OVERRUN) {
        memcpy(out, s, n);
        return;
    }
    for (i = 0; i + IXD_JSON_OVERRUN < n; i += IXD_JSON_OVERRUN) {
        memcpy(out + i, s + i, IXD_JSON_OVERRUN);
    }
    memcpy(out + n - IXD_JSON_OVERRUN, s + n - IXD_JSON_OVERRUN, IXD_JSON_OVERRUN);
}

/* The address as inet_ntop() writes it (RFC 5952 text), without quotes. */
size_t ixd_json_put_ipv6(char *out, const uint8_t *p);

/* Writes the value of field i of r (its key not included), or returns 0 when the field is
 * absent (declared with length zero). */
size_t ixd_json_field_value(const struct ixd_record *r, unsigned i, char *out,
                            const struct ixd_json_fmt *c);

/* Writes ,"key":value for field i of r as a field that is not repeated (an uptime's key names
 * the absolute time once the exporter's boot time is known); 0 when the field is absent. */
size_t ixd_json_field(const struct ixd_record *r, unsigned i, char *out,
                      const struct ixd_json_fmt *c);

/* The text between "@template": and the first field of a record of t (its ID, "@options"). */
size_t ixd_json_head(const struct ixd_template *t, char *out);

/* ,"@sampling_rate":rate */
size_t ixd_json_rate(char *out, uint32_t rate);

/* "YYYY-MM-DDThh:mm:ss" of sec (UNIX time) in out[0..19). */
void ixd_json_clock(char *out, int64_t sec);

#endif
