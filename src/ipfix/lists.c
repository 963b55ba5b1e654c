#include "ipfix/lists.h"

#include "ipfix/decode.h"
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

/* ---- template references, for re-export ---- */

struct refs_walk {
    const struct ixd_resolver *res;
    const uint8_t *base; /* the record's first byte: offsets are from here */
    struct ixd_list_ref *refs;
    size_t n, max;
};

/* Each walker returns 0, or -1 when a limit stops the walk (too many references, too deep).
 * Malformed structure ends the walk of that value quietly: it names no template a collector
 * could use, and the references found before it are still right. */
static int walk_value(struct refs_walk *w, uint8_t type, const uint8_t *p, size_t len, int depth);

static int
is_list(uint8_t type)
{
    return type == IXD_TYPE_BASIC_LIST || type == IXD_TYPE_SUBTEMPLATE_LIST ||
           type == IXD_TYPE_SUBTEMPLATE_MULTILIST;
}

/* The records of template t filling p..p+len (a list holds whole records and nothing else). */
static int
walk_records(struct refs_walk *w, const struct ixd_template *t, const uint8_t *p, size_t len,
             int depth)
{
    while (len > 0) {
        size_t pos = 0;
        uint16_t i;

        for (i = 0; i < t->field_count; i++) {
            size_t flen;
            if (ixd_field_extent(&t->fields[i], p, len, &pos, &flen) == -1) {
                return 0;
            }
            if (walk_value(w, t->fields[i].type, p + pos, flen, depth) == -1) {
                return -1;
            }
            pos += flen;
        }
        if (pos == 0) {
            return 0; /* a template of zero-length fields would never end the list */
        }
        p += pos;
        len -= pos;
    }
    return 0;
}

/* One block of records of the template named at tid_at. An unknown template's records cannot
 * be walked; its reference is still reported. */
static int
walk_block(struct refs_walk *w, const uint8_t *tid_at, const uint8_t *p, size_t len, int depth)
{
    const struct ixd_template *t = w->res->template_of(w->res, ixd_get16(tid_at));

    if (w->n == w->max) {
        return -1;
    }
    w->refs[w->n].offset = (uint32_t)(tid_at - w->base);
    w->refs[w->n].tmpl = t;
    w->n++;
    if (t == NULL || !t->has_lists) {
        return 0;
    }
    return walk_records(w, t, p, len, depth + 1);
}

static int
walk_value(struct refs_walk *w, uint8_t type, const uint8_t *p, size_t len, int depth)
{
    if (!is_list(type)) {
        return 0;
    }
    if (depth >= IXD_LIST_REFS_DEPTH) {
        return -1;
    }
    if (type == IXD_TYPE_SUBTEMPLATE_LIST) {
        struct ixd_subtemplate_list l;
        if (ixd_subtemplate_list_open(p, len, &l) == -1) {
            return 0; /* too short to name a template */
        }
        return walk_block(w, p + 1, l.records, l.length, depth);
    }
    if (type == IXD_TYPE_SUBTEMPLATE_MULTILIST) {
        struct ixd_subtemplate_block b;
        size_t pos = 1;
        uint8_t semantic;
        if (ixd_subtemplate_multilist_open(p, len, &semantic) == -1) {
            return 0;
        }
        while (ixd_subtemplate_multilist_next(p, len, &pos, &b) == 1) {
            if (walk_block(w, b.records - BLOCK_HEADER, b.records, b.length, depth) == -1) {
                return -1;
            }
        }
        return 0;
    }
    {
        /* a basicList of lists holds references too */
        struct ixd_basic_list l;
        const struct ixd_ie *ie;
        const uint8_t *v;
        uint16_t vlen;
        size_t pos = 0;
        if (ixd_basic_list_open(p, len, &l) == -1) {
            return 0;
        }
        ie = w->res->element_of(w->res, l.pen, l.id);
        if (ie == NULL || !is_list(ie->type)) {
            return 0;
        }
        while (ixd_basic_list_next(&l, &pos, &v, &vlen) == 1) {
            if (walk_value(w, ie->type, v, vlen, depth + 1) == -1) {
                return -1;
            }
        }
        return 0;
    }
}

size_t
ixd_list_refs(const struct ixd_record *r, const struct ixd_resolver *res, struct ixd_list_ref *refs,
              size_t max, int *complete)
{
    struct refs_walk w = {res, r->data, refs, 0, max};
    unsigned i;

    *complete = 1;
    for (i = 0; i < r->tmpl->field_count; i++) {
        uint16_t flen;
        const uint8_t *v = ixd_record_field(r, i, &flen);
        if (walk_value(&w, r->tmpl->fields[i].type, v, flen, 0) == -1) {
            *complete = 0;
            break;
        }
    }
    return w.n;
}
