/*
 * IPv6 addresses as JSON text (RFC 5952, as inet_ntop() writes them), for both JSON formatters
 * (json_format.c field by field, json_prog.c's compiled templates). Any thread.
 */
#include <stdint.h>
#include <string.h>

#include "output/json_put.h"

#ifdef __SSE2__
#include <emmintrin.h>
#endif

/* The 32 hex digits of the 16 bytes at p, in order, into h: in vectors of 16 bytes (SSE2 on
 * x86-64, plain words where a target has no vectors), with no table. */
static inline void
hex_digits32(char *h, const uint8_t *p)
{
    uint8_t __attribute__((vector_size(16))) v, hi, lo;
    int8_t __attribute__((vector_size(16))) a, b; /* digits 0..15: a signed compare is one op */

    memcpy(&v, p, 16);
    hi = v >> 4;
    lo = v & 15;
    a = (__typeof__(a))__builtin_shufflevector(hi, lo, 0, 16, 1, 17, 2, 18, 3, 19, 4, 20, 5, 21, 6,
                                               22, 7, 23);
    b = (__typeof__(b))__builtin_shufflevector(hi, lo, 8, 24, 9, 25, 10, 26, 11, 27, 12, 28, 13, 29,
                                               14, 30, 15, 31);
    /* a digit above 9 is a letter: 'a' - '0' - 10 further on (the mask and one addition: a
     * select, as the compiler makes of a + ('0' or 'a' - 10), takes three) */
    a += ((a > 9) & ('a' - '0' - 10));
    b += ((b > 9) & ('a' - '0' - 10));
    a += '0';
    b += '0';
    memcpy(h, &a, 16);
    memcpy(h + 16, &b, 16);
}

/* A group of an IPv6 address from its four hex digits at h: without leading zeros, then a
 * colon, in one word (8 bytes stored). */
static inline size_t
put_group(char *out, const char *h)
{
    uint32_t t;
    unsigned skip;

    memcpy(&t, h, 4);
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
    t = __builtin_bswap32(t); /* the first digit lowest, as below */
#endif
    /* leading '0' digits, the last digit kept: "0" for a zero group */
    skip = (unsigned)__builtin_ctz((t ^ 0x30303030u) | 1u << 24) & ~7u;
    ixd_json_store64(out, ((uint64_t)t | (uint64_t)':' << 32) >> skip);
    return 5 - (skip >> 3);
}

/* Bit i set: group i of the address at p is zero. */
static inline unsigned
zero_groups(const uint8_t *p)
{
#ifdef __SSE2__
    /* the compare's 16-bit flags packed to bytes, then their top bits: group i at bit i */
    __m128i z =
        _mm_cmpeq_epi16(_mm_loadu_si128((const __m128i *)(const void *)p), _mm_setzero_si128());

    return (unsigned)_mm_movemask_epi8(_mm_packs_epi16(z, z)) & 0xff;
#else
    uint16_t __attribute__((vector_size(16))) v;
    int16_t __attribute__((vector_size(16))) z;
    uint64_t x[2];
    unsigned k, bits = 0;

    memcpy(&v, p, 16);
    z = v == 0; /* -1 in each zero group */
    memcpy(x, &z, 16);
    for (k = 0; k < 2; k++) {
#if __BYTE_ORDER__ == __ORDER_BIG_ENDIAN__
        x[k] = __builtin_bswap64(x[k]); /* the first group in the low lane */
#endif
        /* the flags at bits 0, 16, 32 and 48, moved to 60..63 by one multiplication (the
         * sixteen partial products land on distinct bits: no carries) */
        bits |= (unsigned)(((x[k] & 0x0001000100010001ULL) * 0x1000200040008000ULL) >> 60) << 4 * k;
    }
    return bits;
#endif
}

/* Indexed by the zero groups of an address (bit i: group i is zero): the first longest run of
 * two or more zero groups as its length << 4 | its first group, 0 without one. Written out
 * once by scanning each index; test_json checks every index against inet_ntop(). */
static const uint8_t zero_run[256] = {
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x00, 0x00, 0x00, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x23, 0x23, 0x23, 0x20, 0x32, 0x32, 0x41, 0x50,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x00, 0x00, 0x00, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x24, 0x24, 0x24, 0x20, 0x24, 0x24, 0x21, 0x30, 0x33, 0x33, 0x33, 0x33, 0x42, 0x42, 0x51, 0x60,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x00, 0x00, 0x00, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x23, 0x23, 0x23, 0x20, 0x32, 0x32, 0x41, 0x50,
    0x25, 0x25, 0x25, 0x20, 0x25, 0x25, 0x21, 0x30, 0x25, 0x25, 0x25, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x34, 0x30, 0x43, 0x43, 0x43, 0x43, 0x52, 0x52, 0x61, 0x70,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x00, 0x00, 0x00, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x23, 0x23, 0x23, 0x20, 0x32, 0x32, 0x41, 0x50,
    0x00, 0x00, 0x00, 0x20, 0x00, 0x00, 0x21, 0x30, 0x00, 0x00, 0x00, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x24, 0x24, 0x24, 0x20, 0x24, 0x24, 0x21, 0x30, 0x33, 0x33, 0x33, 0x33, 0x42, 0x42, 0x51, 0x60,
    0x26, 0x26, 0x26, 0x20, 0x26, 0x26, 0x21, 0x30, 0x26, 0x26, 0x26, 0x20, 0x22, 0x22, 0x31, 0x40,
    0x26, 0x26, 0x26, 0x20, 0x26, 0x26, 0x21, 0x30, 0x23, 0x23, 0x23, 0x20, 0x32, 0x32, 0x41, 0x50,
    0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x30, 0x35, 0x35, 0x35, 0x35, 0x35, 0x35, 0x31, 0x40,
    0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x44, 0x53, 0x53, 0x53, 0x53, 0x62, 0x62, 0x71, 0x80,
};

/*
 * RFC 5952 text, as inet_ntop() writes it: the first longest run of two or more zero groups
 * becomes "::"; ::a.b.c.d and ::ffff:a.b.c.d keep their IPv4 address dotted. The run comes
 * from one table look-up (the zero groups found eight at a time), so the cost is the groups
 * written.
 */
size_t
ixd_json_put_ipv6(char *out, const uint8_t *p)
{
    unsigned run = zero_run[zero_groups(p)];
    unsigned best = run & 15, end = best + (run >> 4), i;
    size_t o = 0;
    char h[32];

    hex_digits32(h, p);

    if (run == 0) {
        for (i = 0; i < 32; i += 4) {
            o += put_group(out + o, h + i);
        }
        return o - 1;
    }
    for (i = 0; i < best; i++) {
        o += put_group(out + o, h + 4 * i);
    }
    if (best == 0) {
        if (end == 6) {
            memcpy(out, "::", 2);
            return 2 + ixd_json_put_ipv4(out + 2, p + 12);
        }
        if (end == 5 && p[10] == 0xff && p[11] == 0xff) {
            memcpy(out, "::ffff:", 7);
            return 7 + ixd_json_put_ipv4(out + 7, p + 12);
        }
        out[o++] = ':';
    }
    out[o++] = ':';
    if (end == 8) {
        return o;
    }
    for (i = end; i < 8; i++) {
        o += put_group(out + o, h + 4 * i);
    }
    return o - 1;
}
