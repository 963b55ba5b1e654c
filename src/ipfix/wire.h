/* Big-endian reads from unaligned wire bytes, and IPFIX wire constants (RFC 7011). */
#ifndef IXD_IPFIX_WIRE_H
#define IXD_IPFIX_WIRE_H

#include <stdint.h>
#include <string.h>

#define IXD_IPFIX_VERSION 10
#define IXD_HEADER_LEN 16
#define IXD_SET_HEADER_LEN 4
#define IXD_SET_TEMPLATE 2
#define IXD_SET_OPTIONS_TEMPLATE 3
#define IXD_MIN_DATA_SET 256
#define IXD_MAX_MESSAGE 65535
#define IXD_IE_FLOW_END_SYSUPTIME 21   /* NetFlow v9 LAST_SWITCHED */
#define IXD_IE_FLOW_START_SYSUPTIME 22 /* NetFlow v9 FIRST_SWITCHED */
#define IXD_IE_PADDING 210             /* paddingOctets */
/* a record must fit in one message after the message and set headers */
#define IXD_MAX_RECORD (IXD_MAX_MESSAGE - IXD_HEADER_LEN - IXD_SET_HEADER_LEN)

static inline uint16_t
ixd_get16(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

static inline uint32_t
ixd_get32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

static inline void
ixd_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static inline void
ixd_put32(uint8_t *p, uint32_t v)
{
    ixd_put16(p, (uint16_t)(v >> 16));
    ixd_put16(p + 2, (uint16_t)v);
}

static inline void
ixd_put64(uint8_t *p, uint64_t v)
{
    ixd_put32(p, (uint32_t)(v >> 32));
    ixd_put32(p + 4, (uint32_t)v);
}

static inline uint64_t
ixd_get64(const uint8_t *p)
{
    return ((uint64_t)ixd_get32(p) << 32) | ixd_get32(p + 4);
}

/* Unsigned integer of 1 to 8 bytes (reduced-size encoding, RFC 7011 section 6.2). */
static inline uint64_t
ixd_get_uint(const uint8_t *p, unsigned len)
{
    uint64_t v = 0;
    unsigned i;

    switch (len) { /* the common widths without a loop */
    case 1:
        return p[0];
    case 2:
        return ixd_get16(p);
    case 4:
        return ixd_get32(p);
    case 8:
        return ixd_get64(p);
    default:
        break;
    }
    for (i = 0; i < len; i++) {
        v = (v << 8) | p[i];
    }
    return v;
}

/* A field specifier of a template record at *p, which it moves past: 4 bytes, 8 with an
 * enterprise number (pen != 0 sets the enterprise bit). */
static inline void
ixd_put_specifier(uint8_t **p, uint32_t pen, uint16_t id, uint16_t length)
{
    ixd_put16(*p, (uint16_t)(id | (pen != 0 ? 0x8000 : 0)));
    ixd_put16(*p + 2, length);
    *p += 4;
    if (pen != 0) {
        ixd_put32(*p, pen);
        *p += 4;
    }
}

/* A variable-length value at p with its 1- or 3-byte length prefix (RFC 7011 section 7);
 * len at most 65535 (v may be NULL when len is 0). Returns the byte after it. */
static inline uint8_t *
ixd_put_varlen(uint8_t *p, const void *v, size_t len)
{
    if (len < 255) {
        *p++ = (uint8_t)len;
    } else {
        *p++ = 255;
        ixd_put16(p, (uint16_t)len);
        p += 2;
    }
    if (len > 0) {
        memcpy(p, v, len);
    }
    return p + len;
}

#endif
