#include "ipfix/lists.h"

#include "ipfix/wire.h"

/* RFC 6313 section 4.5.3 block header: template ID and a length that counts the header too */
#define BLOCK_HEADER 4
#define VARLEN 65535

const char *
ixd_list_semantic_name(uint8_t semantic)
{
    static const char *const names[] = {"noneOf", "exactlyOneOf", "oneOrMoreOf", "allOf",
                                        "ordered"};

    if (semantic < sizeof(names) / sizeof(names[0])) {
        return names[semantic];
    }
    return semantic == 0xff ? "undefined" : NULL;
}

int
ixd_basic_list_open(const uint8_t *p, size_t len, struct ixd_basic_list *out)
{
    size_t header = 5;
    uint16_t raw_id;

    if (len < header) {
        return -1;
    }
    out->semantic = p[0];
    raw_id = ixd_get16(p + 1);
    out->id = raw_id & 0x7fff;
    out->element_length = ixd_get16(p + 3);
    out->pen = 0;
    if (raw_id & 0x8000) {
        if (len < header + 4) {
            return -1;
        }
        out->pen = ixd_get32(p + 5);
        header += 4;
    }
    out->elements = p + header;
    out->length = len - header;
    if (out->element_length == 0 && out->length > 0) {
        return -1;
    }
    return 0;
}

int
ixd_basic_list_next(const struct ixd_basic_list *l, size_t *pos, const uint8_t **v, uint16_t *vlen)
{
    size_t at = *pos, n;

    if (at >= l->length) {
        return 0;
    }
    n = l->element_length;
    if (n == VARLEN) {
        n = l->elements[at++];
        if (n == 255) {
            if (l->length - at < 2) {
                return -1;
            }
            n = ixd_get16(l->elements + at);
            at += 2;
        }
    }
    if (n > l->length - at) {
        return -1;
    }
    *v = l->elements + at;
    *vlen = (uint16_t)n;
    *pos = at + n;
    return 1;
}

int
ixd_subtemplate_list_open(const uint8_t *p, size_t len, struct ixd_subtemplate_list *out)
{
    if (len < 3) {
        return -1;
    }
    out->semantic = p[0];
    out->tid = ixd_get16(p + 1);
    out->records = p + 3;
    out->length = len - 3;
    return 0;
}

int
ixd_subtemplate_multilist_open(const uint8_t *p, size_t len, uint8_t *semantic)
{
    if (len < 1) {
        return -1;
    }
    *semantic = p[0];
    return 0;
}

int
ixd_subtemplate_multilist_next(const uint8_t *p, size_t len, size_t *pos,
                               struct ixd_subtemplate_block *b)
{
    size_t at = *pos, blen;

    if (at >= len) {
        return 0;
    }
    if (len - at < BLOCK_HEADER) {
        return -1;
    }
    b->tid = ixd_get16(p + at);
    blen = ixd_get16(p + at + 2);
    if (blen < BLOCK_HEADER || blen > len - at) {
        return -1;
    }
    b->records = p + at + BLOCK_HEADER;
    b->length = blen - BLOCK_HEADER;
    *pos = at + blen;
    return 1;
}
