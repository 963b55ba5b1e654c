#include "ipfix/template.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/sampling.h"
#include "ipfix/wire.h"

/* Longest key: "en4294967295:id65535" plus NUL */
#define KEY_MAX 24

static uint32_t
slot_of(uint32_t pen, uint16_t id, uint16_t mask)
{
    return ((pen * 2654435761u) ^ (id * 40503u)) & mask;
}

int
ixd_template_find(const struct ixd_template *t, uint32_t pen, uint16_t id)
{
    uint32_t s = slot_of(pen, id, t->index_mask);

    for (;;) {
        uint16_t v = t->index[s];
        if (v == 0) {
            return -1;
        }
        if (t->fields[v - 1].pen == pen && t->fields[v - 1].id == id) {
            return v - 1;
        }
        s = (s + 1) & t->index_mask;
    }
}

void
ixd_template_find_counts(const struct ixd_template *t, int16_t octets[3], int16_t packets[3])
{
    octets[0] = (int16_t)ixd_template_find(t, 0, 1);
    octets[1] = octets[0] < 0 ? (int16_t)ixd_template_find(t, 0, 231) : -1;
    octets[2] = octets[0] < 0 ? (int16_t)ixd_template_find(t, 0, 232) : -1;
    packets[0] = (int16_t)ixd_template_find(t, 0, 2);
    packets[1] = packets[0] < 0 ? (int16_t)ixd_template_find(t, 0, 298) : -1;
    packets[2] = packets[0] < 0 ? (int16_t)ixd_template_find(t, 0, 299) : -1;
}

/* Inserts field i, or counts it as a repeat of an earlier field with the same element. */
static void
index_field(struct ixd_template *t, uint16_t i)
{
    struct ixd_field *f = &t->fields[i];
    uint32_t s = slot_of(f->pen, f->id, t->index_mask);

    for (;;) {
        uint16_t v = t->index[s];
        if (v == 0) {
            t->index[s] = (uint16_t)(i + 1);
            f->repeat = 1;
            f->repeat_index = 0;
            return;
        }
        if (t->fields[v - 1].pen == f->pen && t->fields[v - 1].id == f->id) {
            f->repeat_index = t->fields[v - 1].repeat++;
            return;
        }
        s = (s + 1) & t->index_mask;
    }
}

int
ixd_field_longer(const struct ixd_ie *ie, uint16_t length)
{
    return (ie->type == IXD_TYPE_UNSIGNED || ie->type == IXD_TYPE_SIGNED) &&
           ie->length != IXD_VARLEN && length != IXD_VARLEN && length > ie->length && length <= 8;
}

uint8_t
ixd_field_type(const struct ixd_ie *ie, uint16_t length)
{
    uint8_t type = ie != NULL ? ie->type : IXD_TYPE_OCTETS;
    uint16_t min, max;

    if (length == IXD_VARLEN || type == IXD_TYPE_OCTETS) {
        if (length == IXD_VARLEN && type != IXD_TYPE_STRING && type < IXD_TYPE_BASIC_LIST) {
            return IXD_TYPE_OCTETS;
        }
        return type;
    }
    if (length == 0) {
        return type; /* a zero-length field is absent in every record: legal, nothing to decode */
    }
    ixd_type_lengths((enum ixd_type)type, &min, &max);
    /* reduced-size encoding (RFC 7011 6.2) may shorten a number, never lengthen it; an integer
     * sent longer than registered (samplerId in 2 or 4 bytes, as routers do) is still best read
     * as a number, and the template is counted as field_length (ixd_field_longer()) */
    if (type != IXD_TYPE_UNSIGNED && type != IXD_TYPE_SIGNED && ie->length != IXD_VARLEN &&
        ie->length >= min && ie->length < max) {
        max = ie->length;
    }
    if (length < min || length > max || (type == IXD_TYPE_FLOAT && length != 4 && length != 8)) {
        return IXD_TYPE_OCTETS;
    }
    return type;
}

/* Decides the decoded type: an element whose length is illegal for its type stays octets. */
static void
type_field(struct ixd_template *t, struct ixd_field *f, const struct ixd_ie *ie)
{
    if (f->pen == 0 && f->id == IXD_IE_PADDING) {
        f->type = IXD_TYPE_PADDING;
        return;
    }
    if (f->pen == 0 &&
        (f->id == IXD_IE_FLOW_START_SYSUPTIME || f->id == IXD_IE_FLOW_END_SYSUPTIME) &&
        f->length == 4) {
        f->type = IXD_TYPE_UPTIME;
        return;
    }
    f->type = ixd_field_type(ie, f->length);
    if (ie != NULL && (f->type != ie->type || ixd_field_longer(ie, f->length))) {
        t->bad_lengths++;
    }
    if (f->type >= IXD_TYPE_BASIC_LIST && f->type <= IXD_TYPE_SUBTEMPLATE_MULTILIST) {
        t->has_lists = 1;
    }
}

/* The JSON key of an element the model names is its name; the others get a key written into
 * the template ("en<PEN>:id<ID>"), so only they need room for one. */
static int
needs_generated_key(const struct ixd_ie *ie)
{
    return ie == NULL || strlen(ie->name) > IXD_KEY_NAME_MAX;
}

/* How many fields of the specifiers at p need a generated key. */
static uint16_t
count_generated_keys(const uint8_t *p, uint16_t count, const struct ixd_template_rules *rules)
{
    uint16_t i, n = 0;

    for (i = 0; i < count; i++) {
        uint16_t raw_id = ixd_get16(p);
        uint32_t pen = 0;

        if (raw_id & 0x8000) {
            pen = ixd_get32(p + 4);
        }
        p += raw_id & 0x8000 ? 8 : 4;
        n += needs_generated_key(
            rules->registry != NULL ? ixd_ie_lookup(rules->registry, pen, raw_id & 0x7fff) : NULL);
    }
    return n;
}

static struct ixd_template *
alloc_template(uint16_t n, uint16_t n_keys)
{
    struct ixd_template *t;
    size_t slots = 4, size;

    while (slots < (size_t)n * 2) {
        slots <<= 1;
    }
    size = sizeof(*t) + n * sizeof(struct ixd_field) + slots * sizeof(uint16_t) +
           (size_t)n_keys * KEY_MAX;
    t = calloc(1, size);
    if (t == NULL) {
        return NULL;
    }
    /* never reused, unlike addresses: outputs key what they derive from a template on it */
    static atomic_uint_fast64_t serials;
    t->serial = atomic_fetch_add_explicit(&serials, 1, memory_order_relaxed) + 1;
    t->fields = (struct ixd_field *)(t + 1);
    t->index = (uint16_t *)(t->fields + n);
    t->index_mask = (uint16_t)(slots - 1);
    return t;
}

/* Reads the field specifiers and lays the record out. Returns 0 or -1 with *why. */
static int
compile_fields(struct ixd_template *t, const uint8_t *p, const struct ixd_template_rules *rules,
               enum ixd_error *why)
{
    char *keys = (char *)(t->index + t->index_mask + 1); /* the generated keys, one by one */
    uint32_t offset = 0, min_len = 0;
    int after_varlen = 0;
    uint16_t i;

    for (i = 0; i < t->field_count; i++) {
        struct ixd_field *f = &t->fields[i];
        const struct ixd_ie *ie;
        uint16_t raw_id = ixd_get16(p);

        f->length = ixd_get16(p + 2);
        f->id = raw_id & 0x7fff;
        p += 4;
        if (raw_id & 0x8000) {
            f->pen = ixd_get32(p);
            p += 4;
        }
        ie = rules->registry != NULL ? ixd_ie_lookup(rules->registry, f->pen, f->id) : NULL;
        type_field(t, f, ie);
        if (!needs_generated_key(ie)) {
            f->key = ie->name;
            f->named = 1;
        } else {
            char *k = keys;
            keys += KEY_MAX;
            if (f->pen != 0) {
                snprintf(k, KEY_MAX, "en%u:id%u", f->pen, f->id);
            } else {
                snprintf(k, KEY_MAX, "id%u", f->id);
            }
            f->key = k;
        }
        f->key_length = (uint8_t)strlen(f->key);
        f->offset = (uint16_t)offset;
        f->after_varlen = (uint8_t)after_varlen;
        if (f->length == IXD_VARLEN) {
            t->has_varlen = 1;
            after_varlen = 1;
            min_len += 1;
        } else {
            offset += f->length;
            min_len += f->length;
        }
        index_field(t, i);
    }
    for (i = 0; i < t->field_count; i++) {
        struct ixd_field *f = &t->fields[i];
        int first = ixd_template_find(t, f->pen, f->id);
        f->repeat = t->fields[first].repeat;
    }
    ixd_sampling_compile(t);
    if (min_len == 0) {
        *why = IXD_ERR_TEMPLATE_EMPTY;
        return -1;
    }
    if (min_len > IXD_MAX_RECORD || (rules->max_record != 0 && min_len > rules->max_record)) {
        *why = IXD_ERR_TEMPLATE_LIMIT;
        return -1;
    }
    t->min_length = (uint16_t)min_len;
    t->fixed_length = t->has_varlen ? 0 : (uint16_t)min_len;
    return 0;
}

enum ixd_tparse
ixd_template_parse(const uint8_t *p, size_t avail, int options,
                   const struct ixd_template_rules *rules, struct ixd_template **out, uint16_t *tid,
                   size_t *consumed, enum ixd_error *why)
{
    size_t head = options ? 6 : 4, need, i;
    uint16_t count, scope = 0;
    const uint8_t *q;
    struct ixd_template *t;

    *out = NULL;
    *consumed = 0;
    if (avail < 4) {
        *why = IXD_ERR_TEMPLATE_LENGTH;
        return IXD_TPARSE_STOP;
    }
    *tid = ixd_get16(p);
    count = ixd_get16(p + 2);
    if (count == 0) {
        /* withdrawal: in an options template set it has no scope count either (8.1) */
        *consumed = 4;
        if (*tid < 256 && *tid != 2 && *tid != 3) {
            *why = IXD_ERR_TEMPLATE_ID;
            return IXD_TPARSE_SKIP;
        }
        return IXD_TPARSE_WITHDRAW;
    }
    if (avail < head) {
        *why = IXD_ERR_TEMPLATE_LENGTH;
        return IXD_TPARSE_STOP;
    }
    if (options) {
        scope = ixd_get16(p + 4);
    }
    /* walk the specifiers to find the record's length before allocating anything */
    need = head;
    q = p + head;
    for (i = 0; i < count; i++) {
        if (need + 4 > avail) {
            *why = IXD_ERR_TEMPLATE_LENGTH;
            return IXD_TPARSE_STOP;
        }
        need += (ixd_get16(q) & 0x8000) ? 8 : 4;
        if (need > avail) {
            *why = IXD_ERR_TEMPLATE_LENGTH;
            return IXD_TPARSE_STOP;
        }
        q = p + need;
    }
    *consumed = need;
    if (*tid < 256) {
        *why = IXD_ERR_TEMPLATE_ID;
        return IXD_TPARSE_SKIP;
    }
    if (options && (scope == 0 || scope > count)) {
        *why = IXD_ERR_TEMPLATE_SCOPE;
        return IXD_TPARSE_SKIP;
    }
    if (count > rules->max_fields) {
        *why = IXD_ERR_TEMPLATE_LIMIT;
        return IXD_TPARSE_SKIP;
    }
    t = alloc_template(count, count_generated_keys(p + head, count, rules));
    if (t == NULL) {
        *why = IXD_ERR_TEMPLATE_LIMIT;
        return IXD_TPARSE_SKIP;
    }
    t->id = *tid;
    t->field_count = count;
    t->scope_count = scope;
    if (compile_fields(t, p + head, rules, why) == -1) {
        free(t);
        return IXD_TPARSE_SKIP;
    }
    *out = t;
    return IXD_TPARSE_TEMPLATE;
}

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

size_t
ixd_template_encode(const struct ixd_template *t, uint8_t *out, size_t outlen)
{
    size_t need = t->scope_count > 0 ? 6 : 4;
    uint8_t *p = out;
    uint16_t i;

    for (i = 0; i < t->field_count; i++) {
        need += t->fields[i].pen != 0 ? 8 : 4;
    }
    if (need > outlen) {
        return 0;
    }
    p = put16(p, t->id);
    p = put16(p, t->field_count);
    if (t->scope_count > 0) {
        p = put16(p, t->scope_count);
    }
    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        p = put16(p, (uint16_t)(f->id | (f->pen != 0 ? 0x8000 : 0)));
        p = put16(p, f->length);
        if (f->pen != 0) {
            p = put16(p, (uint16_t)(f->pen >> 16));
            p = put16(p, (uint16_t)f->pen);
        }
    }
    return need;
}

void
ixd_template_free(struct ixd_template *t)
{
    free(t);
}

int
ixd_template_same(const struct ixd_template *a, const struct ixd_template *b)
{
    uint16_t i;

    if (a->field_count != b->field_count || a->scope_count != b->scope_count) {
        return 0;
    }
    for (i = 0; i < a->field_count; i++) {
        if (a->fields[i].pen != b->fields[i].pen || a->fields[i].id != b->fields[i].id ||
            a->fields[i].length != b->fields[i].length) {
            return 0;
        }
    }
    return 1;
}
