/*
 * Templates compiled for JSON: the line of a record of template t is the same constant text
 * between values for every record of t (keys with their quotes and colons, the quotes around
 * addresses and times, the brackets of repeated elements), so it is rendered once, when t is
 * first seen, and a record is written as a list of operations, each one copy of constant text
 * and one value written by a writer chosen for the field's type and length. What the program
 * writes is byte for byte what ixd_json_record_scaled() writes (json_format.c), which stays
 * the path for what a program does not cover (RFC 6313 lists nest records whose templates are
 * resolved per record, templates without a serial, very wide templates).
 */
#include "output/json_format.h"

#include <stdlib.h>
#include <string.h>

#include "ipfix/sampling.h"
#include "ipfix/wire.h"
#include "output/json_put.h"

#define CACHE_SLOTS 256                    /* a power of two */
#define CACHE_BYTES_MAX (4u << 20)         /* beyond, the cache starts again empty */
#define PROG_FIELDS_MAX 1024               /* wider templates are formatted field by field */
#define TEXT_ROOM (160 + IXD_JSON_OVERRUN) /* text one field adds at most, with the head's */

enum op_kind {
    OP_U8, /* unsigned of 1, 2, 4 or 8 bytes (1: from a table, no test of its size) */
    OP_U16,
    OP_U32,
    OP_U64,
    OP_UINT,     /* unsigned of another length up to 8 */
    OP_SCALED64, /* unsigned of 8 bytes that renormalisation multiplies by the sampling rate */
    OP_SCALED,   /* the same, of another length */
    OP_IPV4,
    OP_IPV6,
    OP_MSEC,  /* dateTimeMilliseconds */
    OP_SEC,   /* dateTimeSeconds */
    OP_VALUE, /* anything else: json_format.c writes the value */
    OP_FIELD, /* an uptime, whose key depends on the source: json_format.c writes key and value */
    OP_TEXT,  /* 32 bytes of a longer text: no value */
};

/* Text before a value, then the value. */
struct json_op {
    char bytes[IXD_JSON_OVERRUN]; /* the text, in the op: one block read with the op */
    uint32_t text;                /* its offset in the program's text, while compiling */
    uint16_t text_len;
    uint16_t offset; /* of the value, in records without per-field offsets */
    uint16_t field;
    uint8_t kind;
    uint8_t len;    /* declared length (OP_UINT, OP_SCALED) */
    uint16_t clock; /* OP_MSEC, OP_SEC: its entry in clocks */
};

/* The second a time field wrote last, as text: consecutive records' times share it. */
struct json_clock {
    int64_t sec;
    char text[24]; /* "YYYY-MM-DDThh:mm:ss.000Z" */
};

struct json_prog {
    uint64_t serial; /* of the template it was compiled from */
    size_t bytes;
    uint32_t n_ops;
    uint16_t head_len; /* text[0..head_len): the "@template" value, "@options" */
    uint16_t tail_len; /* text[tail..): after the last value, "}\n" included */
    uint32_t tail;
    struct json_op *ops;
    struct json_clock *clocks;
    char *text; /* IXD_JSON_OVERRUN bytes longer than what it holds: read a word at a time */
};

struct ixd_json_cache {
    struct json_prog *slot[CACHE_SLOTS];
    struct json_prog *last;
    size_t bytes;
};

/* A program under construction: its text grows, ops are appended. */
struct builder {
    const struct ixd_template *t;
    char *text;
    size_t len, pending; /* text written; where the text of the next op starts */
    struct json_op *ops;
    uint32_t n_ops;
    uint16_t n_clocks;
};

static void
add_text(struct builder *b, const char *s, size_t n)
{
    memcpy(b->text + b->len, s, n);
    b->len += n;
}

/* ,"key": of field f. */
static void
add_key(struct builder *b, const struct ixd_field *f)
{
    add_text(b, ",\"", 2);
    add_text(b, f->key, f->key_length);
    add_text(b, "\":", 2);
}

/* A new op for field i, which writes the text since the last op first: what passes
 * IXD_JSON_OVERRUN bytes goes to ops of their own, so that every op copies its text as one
 * block of that size. */
static struct json_op *
take_text(struct builder *b, unsigned i)
{
    struct json_op *op;

    while (b->len - b->pending > IXD_JSON_OVERRUN) {
        op = &b->ops[b->n_ops++];
        op->kind = OP_TEXT;
        op->text = (uint32_t)b->pending;
        op->text_len = IXD_JSON_OVERRUN;
        b->pending += IXD_JSON_OVERRUN;
    }
    op = &b->ops[b->n_ops++];
    op->field = (uint16_t)i;
    op->offset = b->t->fields[i].offset;
    op->len = (uint8_t)b->t->fields[i].length;
    op->text = (uint32_t)b->pending;
    op->text_len = (uint16_t)(b->len - b->pending);
    b->pending = b->len;
    return op;
}

/* The kind of op that writes the value of f. */
static enum op_kind
kind_of(const struct ixd_field *f)
{
    if (f->length == IXD_VARLEN || (f->type != IXD_TYPE_UNSIGNED && ixd_sampling_scales(f))) {
        return OP_VALUE; /* its length is the record's; renormalised whatever its type */
    }
    switch (f->type) {
    case IXD_TYPE_UNSIGNED:
        return ixd_sampling_scales(f) ? (f->length == 8 ? OP_SCALED64 : OP_SCALED)
               : f->length == 1       ? OP_U8
               : f->length == 2       ? OP_U16
               : f->length == 4       ? OP_U32
               : f->length == 8       ? OP_U64
                                      : OP_UINT;
    case IXD_TYPE_IPV4:
        return OP_IPV4;
    case IXD_TYPE_IPV6:
        return OP_IPV6;
    case IXD_TYPE_TIME_MSEC:
        return OP_MSEC;
    case IXD_TYPE_TIME_SEC:
        return OP_SEC;
    default:
        return OP_VALUE;
    }
}

/* The operation for field i's value; the quotes around addresses and times are text. */
static void
add_value(struct builder *b, unsigned i)
{
    enum op_kind kind = kind_of(&b->t->fields[i]);
    int quoted = kind >= OP_IPV4 && kind <= OP_SEC;
    struct json_op *op;

    if (quoted) {
        add_text(b, "\"", 1);
    }
    op = take_text(b, i);
    op->kind = (uint8_t)kind;
    if (kind == OP_MSEC || kind == OP_SEC) {
        op->clock = b->n_clocks++;
    }
    if (quoted) {
        add_text(b, "\"", 1);
    }
}

/* A repeated element: one key, an array of the values of its present occurrences. */
static void
add_repeated(struct builder *b, unsigned first)
{
    const struct ixd_template *t = b->t;
    const struct ixd_field *f = &t->fields[first];
    unsigned i, n = 0;

    for (i = first; i < t->field_count; i++) {
        const struct ixd_field *g = &t->fields[i];
        if (g->id != f->id || g->pen != f->pen || g->length == 0) {
            continue; /* another element, or absent */
        }
        if (n++ == 0) {
            add_key(b, f);
            add_text(b, "[", 1);
        } else {
            add_text(b, ",", 1);
        }
        add_value(b, i);
    }
    if (n > 0) {
        add_text(b, "]", 1);
    }
}

static void
add_fields(struct builder *b)
{
    const struct ixd_template *t = b->t;
    unsigned i;

    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        if (f->type == IXD_TYPE_PADDING || (f->repeat > 1 && f->repeat_index > 0)) {
            continue; /* written nowhere, or in its first occurrence's array */
        }
        if (f->repeat > 1) {
            add_repeated(b, i); /* the first occurrence, even absent, holds the array */
        } else if (f->length == 0) {
            continue; /* absent */
        } else if (f->type == IXD_TYPE_UPTIME) {
            take_text(b, i)->kind = OP_FIELD;
        } else {
            add_key(b, f);
            add_value(b, i);
        }
    }
}

/* The program for t, in one allocation; NULL when out of memory. */
static struct json_prog *
compile(const struct ixd_template *t)
{
    size_t room = TEXT_ROOM * ((size_t)t->field_count + 1), bytes, head;
    struct builder b = {.t = t};
    struct json_prog *p = NULL;
    char *at;

    b.text = malloc(room);
    /* a field's text (key, brackets, quotes) takes at most 4 ops of 32 bytes of its own */
    b.ops = calloc(5 * ((size_t)t->field_count + 1), sizeof(*b.ops));
    if (b.text == NULL || b.ops == NULL) {
        goto fail;
    }
    head = ixd_json_head(t, b.text);
    b.len = b.pending = head;
    add_fields(&b);
    add_text(&b, "}\n", 2);
    bytes = sizeof(*p) + b.n_ops * sizeof(*b.ops) + b.n_clocks * sizeof(struct json_clock) + b.len +
            IXD_JSON_OVERRUN;
    p = calloc(1, bytes);
    if (p == NULL) {
        goto fail;
    }
    p->serial = t->serial;
    p->bytes = bytes;
    p->n_ops = b.n_ops;
    p->head_len = (uint16_t)head;
    p->tail = (uint32_t)b.pending;
    p->tail_len = (uint16_t)(b.len - b.pending);
    p->clocks = (struct json_clock *)(p + 1);
    p->ops = (struct json_op *)(p->clocks + b.n_clocks);
    at = (char *)(p->ops + b.n_ops);
    p->text = at;
    memcpy(p->ops, b.ops, b.n_ops * sizeof(*b.ops));
    memcpy(p->text, b.text, b.len);
    for (uint32_t k = 0; k < b.n_ops; k++) {
        memcpy(p->ops[k].bytes, p->text + p->ops[k].text, IXD_JSON_OVERRUN);
    }
    for (uint16_t k = 0; k < b.n_clocks; k++) {
        p->clocks[k].sec = INT64_MIN; /* no second yet */
    }
fail:
    free(b.text);
    free(b.ops);
    return p;
}

struct ixd_json_cache *
ixd_json_cache_new(void)
{
    return calloc(1, sizeof(struct ixd_json_cache));
}

static void
cache_clear(struct ixd_json_cache *c)
{
    for (size_t i = 0; i < CACHE_SLOTS; i++) {
        free(c->slot[i]);
        c->slot[i] = NULL;
    }
    c->last = NULL;
    c->bytes = 0;
}

void
ixd_json_cache_free(struct ixd_json_cache *c)
{
    if (c != NULL) {
        cache_clear(c);
        free(c);
    }
}

/* t's program, compiled on first use; NULL: format t field by field. */
static struct json_prog *
program_of(struct ixd_json_cache *c, const struct ixd_template *t)
{
    struct json_prog **slot, *p;

    if (c->last != NULL && c->last->serial == t->serial) {
        return c->last; /* records of a set share their template */
    }
    if (t->serial == 0 || t->field_count > PROG_FIELDS_MAX) {
        return NULL;
    }
    slot = &c->slot[(t->serial * 0x9e3779b97f4a7c15ULL) >> 56 & (CACHE_SLOTS - 1)];
    if (*slot == NULL || (*slot)->serial != t->serial) {
        p = compile(t);
        if (p == NULL) {
            return NULL;
        }
        if (c->bytes + p->bytes > CACHE_BYTES_MAX) {
            cache_clear(c); /* templates come and go: start again from those in use */
        }
        if (*slot != NULL) {
            c->bytes -= (*slot)->bytes;
            free(*slot);
        }
        *slot = p;
        c->bytes += p->bytes;
    }
    c->last = *slot;
    return *slot;
}

/* Constant text of n <= IXD_JSON_OVERRUN bytes: one block of that size, read past n in the padded
 * text. */
static inline char *
put_text(char *o, const char *s, size_t n)
{
    memcpy(o, s, IXD_JSON_OVERRUN);
    return o + n;
}

/* A time: the clock text of its second (kept while the second stays), then the fraction. */
static inline size_t
put_time(char *o, struct json_clock *k, int64_t sec, int ms)
{
    if (k->sec != sec) {
        ixd_json_clock(k->text, sec);
        k->text[19] = '.';
        k->text[23] = 'Z';
        k->sec = sec;
    }
    memcpy(o, k->text, 24);
    if (ms < 0) {
        o[19] = 'Z';
        return 20;
    }
    o[20] = (char)('0' + ms / 100);
    memcpy(o + 21, ixd_json_digit_pairs + 2 * (ms % 100), 2);
    return 24;
}

/* A count renormalised: multiplied by the sampling rate, saturating. */
static inline uint64_t
scale(uint64_t x, uint32_t rate)
{
    if (rate > 1) {
        x = x > UINT64_MAX / rate ? UINT64_MAX : x * rate;
    }
    return x;
}

/* The text of op, then its value, whose bytes are at v. */
static inline __attribute__((always_inline)) char *
put_op(char *o, struct json_prog *p, const struct json_op *op, const uint8_t *v,
       const struct ixd_record *r, const struct ixd_json_fmt *c)
{
    uint64_t x;

    o = put_text(o, op->bytes, op->text_len);
    switch (op->kind) {
    case OP_U8:
        return o + ixd_json_put_u8(o, v[0]);
    case OP_U16:
        return o + ixd_json_put_u64(o, ixd_get16(v));
    case OP_U32:
        return o + ixd_json_put_u64(o, ixd_get32(v));
    case OP_U64:
        return o + ixd_json_put_u64(o, ixd_get64(v));
    case OP_UINT:
        return o + ixd_json_put_u64(o, ixd_get_uint(v, op->len));
    case OP_SCALED64:
        return o + ixd_json_put_u64(o, scale(ixd_get64(v), c->rate));
    case OP_SCALED:
        return o + ixd_json_put_u64(o, scale(ixd_get_uint(v, op->len), c->rate));
    case OP_IPV4:
        return o + ixd_json_put_ipv4(o, v);
    case OP_IPV6:
        return o + ixd_json_put_ipv6(o, v);
    case OP_MSEC:
        x = ixd_get64(v);
        return o + put_time(o, &p->clocks[op->clock], (int64_t)(x / 1000), (int)(x % 1000));
    case OP_SEC:
        return o + put_time(o, &p->clocks[op->clock], (int64_t)ixd_get32(v), -1);
    case OP_VALUE:
        return o + ixd_json_field_value(r, op->field, o, c);
    case OP_FIELD:
        return o + ixd_json_field(r, op->field, o, c);
    case OP_TEXT:
        return o;
    default:
        __builtin_unreachable(); /* compile() makes no other kind */
    }
}

/* Runs p over r: the values of its fields between p's texts. Records of templates without
 * variable-length fields find every value at its template offset: a loop of their own. */
static char *
run(struct json_prog *p, const struct ixd_record *r, const struct ixd_json_fmt *c, char *o)
{
    const struct json_op *op = p->ops, *end = p->ops + p->n_ops;

    if (r->offsets == NULL) {
        for (; op < end; op++) {
            o = put_op(o, p, op, r->data + op->offset, r, c);
        }
    } else {
        for (; op < end; op++) {
            o = put_op(o, p, op, r->data + r->offsets[op->field], r, c);
        }
    }
    if (p->tail_len <= IXD_JSON_OVERRUN) {
        return put_text(o, p->text + p->tail, p->tail_len);
    }
    ixd_json_copy(o, p->text + p->tail, p->tail_len);
    return o + p->tail_len;
}

size_t
ixd_json_cache_record(struct ixd_json_cache *cache, const struct ixd_record *r,
                      const struct ixd_source *src, uint32_t rate, const char *prefix,
                      size_t prefix_len, char *out)
{
    struct json_prog *p = program_of(cache, r->tmpl);
    struct ixd_json_fmt c = {src != NULL ? src->system_init_ms : 0,
                             src != NULL ? src->resolver : NULL, 0, rate};
    char *o = out + prefix_len;

    if (p == NULL) {
        return ixd_json_record_scaled(r, src, rate, prefix, prefix_len, out);
    }
    ixd_json_copy(out, prefix, prefix_len);
    o = put_text(o, p->text, p->head_len);
    if (rate > 1) {
        o += ixd_json_rate(o, rate);
    }
    return (size_t)(run(p, r, &c, o) - out);
}
