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

/* Starts a record of n fields at at (2-byte aligned): its offsets and lengths (4n bytes), then
 * its bytes. The caller has made room for both. */
void ixd_rebuild_start(struct ixd_rebuild *w, uint8_t *at, uint16_t n);

/* Appends the fields of r: in one copy with plan (from ixd_rebuild_plan of r's template), else
 * one by one, variable-length fields written again with the shortest length prefix. 0, or -1
 * when r is not as long as its fixed-length template. */
int ixd_rebuild_copy(struct ixd_rebuild *w, const struct ixd_record *r, const uint16_t *plan);

/* Puts asn into field f (written already, 1 to 8 bytes) where it holds 0 and asn fits. */
void ixd_rebuild_patch_asn(struct ixd_rebuild *w, uint16_t f, uint32_t asn);

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
    if (len > 0) {
        memcpy(p, v, len);
    }
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
