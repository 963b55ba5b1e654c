/*
 * select, drop and set: change which elements records carry. The result is a derived template
 * (compiled once per source template, like one from the wire) and records rebuilt into this
 * stage's buffer: fields kept are copied byte for byte, set values are encoded once at
 * configuration time. Options records pass unchanged: their scope must stay what the
 * exporter said it is.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/relaxed_counter.h"
#include "ipfix/decode.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"

#define ELEMENTS_MAX 64
#define VALUE_MAX 255 /* a set value; strings longer than this are refused */
#define DERIVED_MAX 4096
#define BATCH_BYTES (2 * 65536)

enum fields_kind { FIELDS_SELECT, FIELDS_DROP, FIELDS_SET };

struct element_value {
    uint32_t pen;
    uint16_t id;
    uint16_t length; /* encoded length; IXD_VARLEN for strings */
    uint16_t value_length;
    uint8_t value[VALUE_MAX];
};

struct fields_conf {
    enum fields_kind kind;
    const struct ixd_ie_registry *registry;
    size_t n;
    struct element_value elements[ELEMENTS_MAX];
    size_t extra; /* most bytes a record can grow by */
};

/* A derived template and where each of its fields comes from. */
struct derived {
    struct ixd_template *tmpl; /* NULL: records of the source template are dropped */
    uint16_t n;
    int32_t from[]; /* >= 0: source field; < 0: -1 - index of a set value */
};

struct fields_state {
    const struct fields_conf *conf;
    GHashTable *derived; /* source template serial -> struct derived */
    uint8_t *buf;
    size_t size, used;
    uint64_t failed;
};

static int
parse_value(const struct ixd_cnode *v, const struct ixd_ie *ie, struct element_value *e,
            const struct ixd_stage_env *env, char *err, size_t errlen)
{
    const char *s = v->text;
    char *end;

    e->pen = ie->pen;
    e->id = ie->id;
    if (v->kind != IXD_CNODE_SCALAR) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s wants a single value", ie->name);
    }
    switch (ie->type) {
    case IXD_TYPE_UNSIGNED: {
        unsigned long long n;
        unsigned len = ie->length >= 1 && ie->length <= 8 ? ie->length : 8;
        errno = 0;
        n = strtoull(s, &end, 0);
        if (s[0] == '-' || *end != '\0' || errno != 0 || (len < 8 && n >> (8 * len) != 0)) {
            return ixd_cnode_fail(v, env->file, err, errlen,
                                  "%s is unsigned%u: '%s' is not a value it can hold", ie->name,
                                  8 * len, s);
        }
        e->length = e->value_length = (uint16_t)len;
        for (unsigned i = 0; i < len; i++) {
            e->value[len - 1 - i] = (uint8_t)(n >> (8 * i));
        }
        return 0;
    }
    case IXD_TYPE_IPV4:
        e->length = e->value_length = 4;
        if (inet_pton(AF_INET, s, e->value) != 1) {
            return ixd_cnode_fail(v, env->file, err, errlen, "'%s' is not an IPv4 address", s);
        }
        return 0;
    case IXD_TYPE_IPV6:
        e->length = e->value_length = 16;
        if (inet_pton(AF_INET6, s, e->value) != 1) {
            return ixd_cnode_fail(v, env->file, err, errlen, "'%s' is not an IPv6 address", s);
        }
        return 0;
    case IXD_TYPE_STRING:
        if (strlen(s) > VALUE_MAX) {
            return ixd_cnode_fail(v, env->file, err, errlen, "at most %d bytes", VALUE_MAX);
        }
        e->length = IXD_VARLEN;
        e->value_length = (uint16_t)strlen(s);
        memcpy(e->value, s, e->value_length);
        return 0;
    case IXD_TYPE_BOOLEAN:
        if (strcmp(s, "true") != 0 && strcmp(s, "false") != 0) {
            return ixd_cnode_fail(v, env->file, err, errlen, "%s is true or false", ie->name);
        }
        e->length = e->value_length = 1;
        e->value[0] = s[0] == 't' ? 1 : 2; /* RFC 7011 6.1.5 */
        return 0;
    default:
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "set supports unsigned, address, string and boolean elements; "
                              "%s is none of them",
                              ie->name);
    }
}

static const struct ixd_ie *
element_named(const struct ixd_cnode *n, const struct ixd_stage_env *env, char *err, size_t errlen)
{
    const struct ixd_ie *ie =
        n->kind == IXD_CNODE_SCALAR ? ixd_ie_lookup_name(env->registry, n->text) : NULL;

    if (ie == NULL) {
        ixd_cnode_fail(n, env->file, err, errlen, "no information element named '%s'",
                       n->kind == IXD_CNODE_SCALAR ? n->text : "?");
    }
    return ie;
}

static void *
fields_conf(enum fields_kind kind, const struct ixd_cnode *settings,
            const struct ixd_stage_env *env, char *err, size_t errlen)
{
    struct fields_conf *c = calloc(1, sizeof(*c));
    size_t i, n = settings->n;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    c->kind = kind;
    c->registry = env->registry;
    if ((kind == FIELDS_SET && settings->kind != IXD_CNODE_MAPPING) ||
        (kind != FIELDS_SET && settings->kind != IXD_CNODE_SEQUENCE) || n == 0 ||
        n > ELEMENTS_MAX) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       kind == FIELDS_SET ? "set wants element: value pairs (at most %d)"
                                          : "wants a list of 1 to %d element names",
                       ELEMENTS_MAX);
        free(c);
        return NULL;
    }
    for (i = 0; i < n; i++) {
        const struct ixd_cnode *name =
            kind == FIELDS_SET ? &settings->items[2 * i] : &settings->items[i];
        const struct ixd_ie *ie = element_named(name, env, err, errlen);
        struct element_value *e = &c->elements[i];

        if (ie == NULL) {
            free(c);
            return NULL;
        }
        e->pen = ie->pen;
        e->id = ie->id;
        if (kind == FIELDS_SET) {
            if (parse_value(&settings->items[2 * i + 1], ie, e, env, err, errlen) == -1) {
                free(c);
                return NULL;
            }
            c->extra += 3u + e->value_length + 8u; /* varlen prefix, value, a new specifier */
        }
    }
    c->n = n;
    return c;
}

static void *
select_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *err, size_t len)
{
    return fields_conf(FIELDS_SELECT, s, env, err, len);
}

static void *
drop_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *err, size_t len)
{
    return fields_conf(FIELDS_DROP, s, env, err, len);
}

static void *
set_conf(const struct ixd_cnode *s, const struct ixd_stage_env *env, char *err, size_t len)
{
    return fields_conf(FIELDS_SET, s, env, err, len);
}

static void
derived_free(gpointer p)
{
    struct derived *d = p;

    ixd_template_free(d->tmpl);
    free(d);
}

static void *
fields_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    const struct fields_conf *c = conf;
    struct fields_state *st = calloc(1, sizeof(*st));

    (void)worker;
    (void)ctx;
    if (st == NULL) {
        return NULL;
    }
    st->conf = c;
    st->size = BATCH_BYTES + IXD_BATCH_MAX * c->extra;
    st->buf = malloc(st->size);
    st->derived = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, derived_free);
    if (st->buf == NULL) {
        g_hash_table_destroy(st->derived);
        free(st);
        return NULL;
    }
    return st;
}

static int
listed(const struct fields_conf *c, uint32_t pen, uint16_t id)
{
    size_t i;

    for (i = 0; i < c->n; i++) {
        if (c->elements[i].pen == pen && c->elements[i].id == id) {
            return (int)i;
        }
    }
    return -1;
}

/* Builds the derived template of t: its specifiers written out and compiled like any other. */
static struct derived *
derive(const struct fields_conf *c, const struct ixd_template *t)
{
    struct derived *d = calloc(1, sizeof(*d) + (t->field_count + c->n) * sizeof(int32_t));
    uint8_t *rec = malloc(4 + 8u * (t->field_count + c->n)), *p;
    struct ixd_template_rules rules = {c->registry, 65535, 0};
    enum ixd_error why;
    size_t consumed;
    uint16_t i, tid;
    int k;

    if (d == NULL || rec == NULL) {
        free(d);
        free(rec);
        return NULL;
    }
    p = rec + 4;
    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        k = listed(c, f->pen, f->id);
        if ((c->kind == FIELDS_SELECT && k < 0) || (c->kind == FIELDS_DROP && k >= 0)) {
            continue;
        }
        if (c->kind == FIELDS_SET && k >= 0) {
            ixd_put_specifier(&p, f->pen, f->id, c->elements[k].length);
            d->from[d->n++] = -1 - k; /* replaced in place, the template's order kept */
            continue;
        }
        ixd_put_specifier(&p, f->pen, f->id, f->length);
        d->from[d->n++] = i;
    }
    for (k = 0; c->kind == FIELDS_SET && k < (int)c->n; k++) {
        if (ixd_template_find(t, c->elements[k].pen, c->elements[k].id) < 0) {
            ixd_put_specifier(&p, c->elements[k].pen, c->elements[k].id, c->elements[k].length);
            d->from[d->n++] = -1 - k;
        }
    }
    ixd_put16(rec, t->id);
    ixd_put16(rec + 2, d->n);
    if (d->n > 0 && ixd_template_parse(rec, (size_t)(p - rec), 0, &rules, &d->tmpl, &tid, &consumed,
                                       &why) != IXD_TPARSE_TEMPLATE) {
        d->tmpl = NULL; /* e.g. only zero-length fields left: nothing to carry */
    }
    free(rec);
    return d;
}

static const struct derived *
derived_for(struct fields_state *st, const struct ixd_template *t)
{
    gpointer key = (gpointer)(uintptr_t)t->serial;
    struct derived *d = g_hash_table_lookup(st->derived, key);

    if (d == NULL) {
        d = derive(st->conf, t);
        if (d != NULL) {
            g_hash_table_insert(st->derived, key, d);
        }
    }
    return d;
}

/* Rebuilds r under d into st's buffer; 0, or -1 when it does not fit. */
static int
rebuild(struct fields_state *st, const struct derived *d, struct ixd_record *r)
{
    size_t room = st->size - st->used;
    uint8_t *start = st->buf + st->used, *p = start;
    uint16_t i;

    /* the worst case: every kept field as it was, every value with a 3-byte prefix, then
     * the offsets and lengths of a variable-length layout (aligned) */
    if (r->length + st->conf->extra + 7u * d->n + 1 > room) {
        return -1;
    }
    for (i = 0; i < d->n; i++) {
        const struct ixd_field *out = &d->tmpl->fields[i];
        const uint8_t *v;
        uint16_t len;

        if (d->from[i] >= 0) {
            v = ixd_record_field(r, (unsigned)d->from[i], &len);
        } else {
            const struct element_value *e = &st->conf->elements[-1 - d->from[i]];
            v = e->value;
            len = e->value_length;
        }
        if (out->length == IXD_VARLEN) {
            p = ixd_put_varlen(p, v, len);
        } else {
            memcpy(p, v, len);
            p += len;
        }
    }
    if ((size_t)(p - start) > 65535) {
        return -1;
    }
    r->tmpl = d->tmpl;
    r->data = start;
    r->length = (uint32_t)(p - start);
    r->offsets = r->lengths = NULL;
    if (d->tmpl->has_varlen) {
        /* the derived template's own walk gives the offsets outputs read fields by */
        size_t at = (st->used + r->length + 1) & ~(size_t)1;
        uint16_t *offs = (uint16_t *)(void *)(st->buf + at);
        if (ixd_record_walk(d->tmpl, start, r->length, offs, offs + d->n) != r->length) {
            return -1;
        }
        r->offsets = offs;
        r->lengths = offs + d->n;
        st->used = (size_t)((uint8_t *)(offs + 2 * d->n) - st->buf);
        return 0;
    }
    st->used += r->length;
    return 0;
}

static void
fields_process(void *state, struct ixd_batch *batch)
{
    struct fields_state *st = state;
    const struct ixd_template *last = NULL;
    const struct derived *d = NULL;
    size_t i, kept = 0;

    st->used = 0;
    /* emptied between batches only: the records of the last one were rebuilt under these
     * templates, and like the bytes in buf they are valid until this call (the table grows
     * past its bound by at most one batch's templates) */
    if (g_hash_table_size(st->derived) >= DERIVED_MAX) {
        g_hash_table_remove_all(st->derived);
    }
    for (i = 0; i < batch->count; i++) {
        struct ixd_record r = batch->records[i];

        if (r.tmpl->scope_count > 0) {
            batch->records[kept++] = r; /* options records keep their scope as sent */
            continue;
        }
        if (r.tmpl != last) {
            last = r.tmpl;
            d = derived_for(st, r.tmpl);
        }
        if (d == NULL || d->tmpl == NULL || rebuild(st, d, &r) == -1) {
            /* nothing left to carry (selected away: on purpose), or no memory (a failure) */
            if (d == NULL || (d->tmpl != NULL)) {
                IXD_CNT_ADD(st->failed, 1);
            }
            continue;
        }
        batch->records[kept++] = r;
    }
    batch->count = kept;
}

static uint64_t
fields_failed(const void *state)
{
    return IXD_CNT_GET(((const struct fields_state *)state)->failed);
}

static void
fields_stop(void *state)
{
    struct fields_state *st = state;

    g_hash_table_destroy(st->derived);
    free(st->buf);
    free(st);
}

const struct ixd_stage_type ixd_stage_select = {
    .name = "select",
    .conf = select_conf,
    .conf_free = free,
    .start = fields_start,
    .process = fields_process,
    .tick = NULL,
    .stop = fields_stop,
    .failed = fields_failed,
};

const struct ixd_stage_type ixd_stage_drop = {
    .name = "drop",
    .conf = drop_conf,
    .conf_free = free,
    .start = fields_start,
    .process = fields_process,
    .tick = NULL,
    .stop = fields_stop,
    .failed = fields_failed,
};

const struct ixd_stage_type ixd_stage_set = {
    .name = "set",
    .conf = set_conf,
    .conf_free = free,
    .start = fields_start,
    .process = fields_process,
    .tick = NULL,
    .stop = fields_stop,
    .failed = fields_failed,
};
