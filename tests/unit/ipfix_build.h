/*
 * Byte builders for unit tests: IPFIX messages, sets, template and data records written
 * big-endian into a fixed buffer (RFC 7011 sections 3.1, 3.3.2, 3.4.1 and 3.4.2.2).
 */
#ifndef IXD_TEST_IPFIX_BUILD_H
#define IXD_TEST_IPFIX_BUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define IB_SIZE 70000

struct ib {
    size_t len;
    uint8_t buf[IB_SIZE];
};

static inline void
ib_reset(struct ib *b)
{
    b->len = 0;
}

static inline void
ib_u8(struct ib *b, uint8_t v)
{
    if (b->len < IB_SIZE) {
        b->buf[b->len++] = v;
    }
}

static inline void
ib_u16(struct ib *b, uint16_t v)
{
    ib_u8(b, (uint8_t)(v >> 8));
    ib_u8(b, (uint8_t)v);
}

static inline void
ib_u32(struct ib *b, uint32_t v)
{
    ib_u16(b, (uint16_t)(v >> 16));
    ib_u16(b, (uint16_t)v);
}

static inline void
ib_u64(struct ib *b, uint64_t v)
{
    ib_u32(b, (uint32_t)(v >> 32));
    ib_u32(b, (uint32_t)v);
}

static inline void
ib_bytes(struct ib *b, const void *p, size_t n)
{
    const uint8_t *q = p;
    size_t i;

    for (i = 0; i < n; i++) {
        ib_u8(b, q[i]);
    }
}

static inline void
ib_put16(struct ib *b, size_t at, uint16_t v)
{
    b->buf[at] = (uint8_t)(v >> 8);
    b->buf[at + 1] = (uint8_t)v;
}

/* A template record header (RFC 7011 3.4.1): template ID and field count. */
static inline void
ib_template(struct ib *b, uint16_t tid, uint16_t count)
{
    ib_u16(b, tid);
    ib_u16(b, count);
}

/* An options template record header (RFC 7011 3.4.2.2): ID, field count, scope field count. */
static inline void
ib_options_template(struct ib *b, uint16_t tid, uint16_t count, uint16_t scope)
{
    ib_u16(b, tid);
    ib_u16(b, count);
    ib_u16(b, scope);
}

/* An IANA field specifier (RFC 7011 3.2). */
static inline void
ib_field(struct ib *b, uint16_t id, uint16_t length)
{
    ib_u16(b, id);
    ib_u16(b, length);
}

/* An enterprise-specific field specifier: enterprise bit set, then the PEN (RFC 7011 3.2). */
static inline void
ib_field_en(struct ib *b, uint16_t id, uint16_t length, uint32_t pen)
{
    ib_u16(b, (uint16_t)(id | 0x8000));
    ib_u16(b, length);
    ib_u32(b, pen);
}

/* Message header (RFC 7011 3.1); the length is patched by ib_msg_end. */
static inline void
ib_msg_begin(struct ib *b, uint32_t export_time, uint32_t seq, uint32_t odid)
{
    ib_reset(b);
    ib_u16(b, 10);
    ib_u16(b, 0);
    ib_u32(b, export_time);
    ib_u32(b, seq);
    ib_u32(b, odid);
}

static inline size_t
ib_msg_end(struct ib *b)
{
    ib_put16(b, 2, (uint16_t)b->len);
    return b->len;
}

/* Set header (RFC 7011 3.3.2); returns where it starts so that ib_set_end can patch it. */
static inline size_t
ib_set_begin(struct ib *b, uint16_t set_id)
{
    size_t at = b->len;

    ib_u16(b, set_id);
    ib_u16(b, 0);
    return at;
}

static inline void
ib_set_end(struct ib *b, size_t at)
{
    ib_put16(b, at + 2, (uint16_t)(b->len - at));
}

/* A variable-length field value (RFC 7011 section 7): 1-byte length, or 255 and 2 bytes. */
static inline void
ib_varlen(struct ib *b, const void *p, size_t n, int long_form)
{
    if (n < 255 && !long_form) {
        ib_u8(b, (uint8_t)n);
    } else {
        ib_u8(b, 255);
        ib_u16(b, (uint16_t)n);
    }
    ib_bytes(b, p, n);
}

#endif
