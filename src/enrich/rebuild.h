/*
 * Writing a rebuilt record: a stage that gives records a derived template (the source's fields,
 * then fields of its own) writes them field by field and notes the offset and length of each as
 * it goes, which is what outputs read fields by, so nothing walks the finished record again.
 * A source template of fixed-length fields only is copied in one piece, its offsets and
 * lengths from a plan made once per template. docs/internals/enrichment.md, "Rebuilt records".
 */
#ifndef IXD_ENRICH_REBUILD_H
#define IXD_ENRICH_REBUILD_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "ipfix/wire.h"
#include "ipfixd/record.h"

/* A record being written: its bytes from start to p; offs and lens of fields 0 to i - 1. */
struct ixd_rebuild {
    uint8_t *start, *p;
    uint16_t *offs, *lens;
    uint16_t i; /* the next field */
};

/* The offsets, then the lengths, of the fields of t (no variable-length field): what a record
 * of t copied in one piece keeps. malloc'd (the caller frees it); NULL when out of memory. */
uint16_t *ixd_rebuild_plan(const struct ixd_template *t);

/* Appends the fields of r (a template with variable-length fields) one by one, each
 * variable-length field written again with the shortest length prefix. */
void ixd_rebuild_copy_fields(struct ixd_rebuild *w, const struct ixd_record *r);

/* Puts asn into field f (written already, 1 to 8 bytes) where it holds 0 and asn fits. */
void ixd_rebuild_patch_asn(struct ixd_rebuild *w, uint16_t f, uint32_t asn);

/* 16 bytes from s to d. */
static inline void
ixd_rebuild_copy16(uint8_t *d, const uint8_t *s)
{
    uint64_t a, b;

    memcpy(&a, s, 8);
    memcpy(&b, s + 8, 8);
    memcpy(d, &a, 8);
    memcpy(d + 8, &b, 8);
}

/* n bytes from s to d (apart). Up to 64 bytes without a call: what is written is mostly short
 * strings and small records, for which memcpy's call and choice of method cost more than the
 * copy. The moves overlap and touch no byte outside [s, s + n) and [d, d + n). */
static inline void
ixd_rebuild_bytes(uint8_t *d, const void *src, size_t n)
{
    const uint8_t *s = src;

    if (n >= 16 && n <= 32) {
        ixd_rebuild_copy16(d, s);
        ixd_rebuild_copy16(d + n - 16, s + n - 16);
    } else if (n >= 8 && n < 16) {
        uint64_t a, b;
        memcpy(&a, s, 8);
        memcpy(&b, s + n - 8, 8);
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4 && n < 8) {
        uint32_t a, b;
        memcpy(&a, s, 4);
        memcpy(&b, s + n - 4, 4);
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else if (n > 0 && n < 4) {
        d[0] = s[0];
        d[n / 2] = s[n / 2];
        d[n - 1] = s[n - 1];
    } else if (n > 32 && n <= 64) {
        ixd_rebuild_copy16(d, s);
        ixd_rebuild_copy16(d + 16, s + 16);
        ixd_rebuild_copy16(d + n - 32, s + n - 32);
        ixd_rebuild_copy16(d + n - 16, s + n - 16);
    } else if (n > 64) {
        memcpy(d, s, n);
    }
}

/* Starts a record of n fields at at (2-byte aligned): its offsets and lengths (4n bytes), then
 * its bytes. The caller has made room for both. */
static inline void
ixd_rebuild_start(struct ixd_rebuild *w, uint8_t *at, uint16_t n)
{
    w->offs = (uint16_t *)(void *)at;
    w->lens = w->offs + n;
    w->start = w->p = (uint8_t *)(w->lens + n);
    w->i = 0;
}

/* Appends the fields of r: in one copy with plan (from ixd_rebuild_plan of r's template), else
 * one by one (ixd_rebuild_copy_fields). 0, or -1 when r is not as long as its fixed-length
 * template. */
static inline int
ixd_rebuild_copy(struct ixd_rebuild *w, const struct ixd_record *r, const uint16_t *plan)
{
    uint16_t n = r->tmpl->field_count;

    if (plan == NULL) {
        ixd_rebuild_copy_fields(w, r);
        return 0;
    }
    if (r->length != r->tmpl->fixed_length) {
        return -1;
    }
    /* the fields start at the record's start: their offsets are the template's */
    ixd_rebuild_bytes(w->p, r->data, r->length);
    ixd_rebuild_bytes((uint8_t *)(w->offs + w->i), plan, 2u * n);
    ixd_rebuild_bytes((uint8_t *)(w->lens + w->i), plan + n, 2u * n);
    w->p += r->length;
    w->i += n;
    return 0;
}

/* Appends a variable-length field (len < 65535). */
static inline void
ixd_rebuild_varlen(struct ixd_rebuild *w, const void *v, size_t len)
{
    uint8_t *p = w->p;

    if (len < 255) {
        *p++ = (uint8_t)len;
    } else {
        *p++ = 255;
        ixd_put16(p, (uint16_t)len);
        p += 2;
    }
    w->offs[w->i] = (uint16_t)(p - w->start);
    w->lens[w->i++] = (uint16_t)len;
    ixd_rebuild_bytes(p, v, len);
    w->p = p + len;
}

/* Appends an unsigned of 4 or 8 bytes. */
static inline void
ixd_rebuild_uint(struct ixd_rebuild *w, uint64_t v, uint16_t len)
{
    w->offs[w->i] = (uint16_t)(w->p - w->start);
    w->lens[w->i++] = len;
    if (len == 8) {
        ixd_put64(w->p, v);
    } else {
        ixd_put32(w->p, (uint32_t)v);
    }
    w->p += len;
}

/* Bytes written so far. */
static inline size_t
ixd_rebuild_length(const struct ixd_rebuild *w)
{
    return (size_t)(w->p - w->start);
}

#endif
