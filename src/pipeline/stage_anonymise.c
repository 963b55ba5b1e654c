/*
 * anonymise: rewrites IPv4 and IPv6 addresses in place of their field, keeping each element's
 * type and length (RFC 6235): prefix-preserving Crypto-PAn, or truncation to a prefix. See
 * docs/anonymisation.md.
 *
 * Records of one batch may feed other pipelines too, so a record is copied into this stage's
 * buffer before its addresses change; only records with an address field are copied.
 */
#include <glib.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/cnode.h"
#include "core/relaxed_counter.h"
#include "crypto/cryptopan.h"
#include "pipeline/pipeline.h"

#define ELEMENTS_MAX 64
#define PLANS_MAX 4096
#define COPY_BYTES (2 * 65536) /* a batch comes from one message or one held set: < 64 KiB */

enum anon_method { ANON_CRYPTOPAN, ANON_TRUNCATE };

struct anon_conf {
    enum anon_method method;
    uint8_t key[IXD_CRYPTOPAN_KEY_LEN];
    unsigned keep_v4, keep_v6; /* bits left in clear */
    size_t n_elements;         /* 0: every ipv4Address and ipv6Address element */
    struct {
        uint32_t pen;
        uint16_t id;
    } elements[ELEMENTS_MAX];
};

/* The address fields of one template, found once. */
struct anon_plan {
    uint16_t n;
    uint16_t fields[];
};

struct anon_state {
    const struct anon_conf *conf;
    struct ixd_cryptopan *cp;
    GHashTable *plans; /* template serial -> struct anon_plan */
    uint8_t *copy;
    size_t used;
    uint64_t dropped; /* records that could not be anonymised: never passed on in clear */
};

static int
get_bits(const struct ixd_cnode *v, const struct ixd_stage_env *env, unsigned max, unsigned *out,
         char *err, size_t errlen)
{
    char *end;
    unsigned long n = v->kind == IXD_CNODE_SCALAR ? strtoul(v->text, &end, 10) : max + 1;

    if (v->kind != IXD_CNODE_SCALAR || v->text[0] < '0' || v->text[0] > '9' || *end != '\0' ||
        n > max) {
        return ixd_cnode_fail(v, env->file, err, errlen, "a prefix length from 0 to %u", max);
    }
    *out = (unsigned)n;
    return 0;
}

static int
anon_key(struct anon_conf *c, const char *key, const struct ixd_cnode *v,
         const struct ixd_stage_env *env, char *err, size_t errlen)
{
    if (strcmp(key, "method") == 0) {
        if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "cryptopan") == 0) {
            c->method = ANON_CRYPTOPAN;
        } else if (v->kind == IXD_CNODE_SCALAR && strcmp(v->text, "truncate") == 0) {
            c->method = ANON_TRUNCATE;
        } else {
            return ixd_cnode_fail(v, env->file, err, errlen,
                                  "method must be cryptopan or truncate");
        }
        return 0;
    }
    if (strcmp(key, "key-file") == 0) {
        char why[256];
        if (v->kind == IXD_CNODE_SCALAR && env->syntax_only) {
            return 0;
        }
        if (v->kind != IXD_CNODE_SCALAR ||
            ixd_cryptopan_key_load(v->text, c->key, why, sizeof(why)) == -1) {
            return ixd_cnode_fail(v, env->file, err, errlen, "%s",
                                  v->kind == IXD_CNODE_SCALAR ? why : "key-file wants a path");
        }
        return 0;
    }
    if (strcmp(key, "ipv4-prefix") == 0) {
        return get_bits(v, env, 32, &c->keep_v4, err, errlen);
    }
    if (strcmp(key, "ipv6-prefix") == 0) {
        return get_bits(v, env, 128, &c->keep_v6, err, errlen);
    }
    if (strcmp(key, "elements") == 0) {
        size_t i;
        if (v->kind != IXD_CNODE_SEQUENCE || v->n == 0 || v->n > ELEMENTS_MAX) {
            return ixd_cnode_fail(v, env->file, err, errlen,
                                  "elements wants a list of 1 to %d address element names",
                                  ELEMENTS_MAX);
        }
        for (i = 0; i < v->n; i++) {
            const struct ixd_cnode *e = &v->items[i];
            const struct ixd_ie *ie =
                e->kind == IXD_CNODE_SCALAR ? ixd_ie_lookup_name(env->registry, e->text) : NULL;
            if (ie == NULL || (ie->type != IXD_TYPE_IPV4 && ie->type != IXD_TYPE_IPV6)) {
                return ixd_cnode_fail(e, env->file, err, errlen,
                                      ie == NULL ? "no information element named '%s'"
                                                 : "'%s' is not an IPv4 or IPv6 address element",
                                      e->kind == IXD_CNODE_SCALAR ? e->text : "?");
            }
            c->elements[i].pen = ie->pen;
            c->elements[i].id = ie->id;
        }
        c->n_elements = v->n;
        return 0;
    }
    return ixd_cnode_fail(&v[-1], env->file, err, errlen,
                          "unknown key '%s' in anonymise (known: method, key-file, ipv4-prefix, "
                          "ipv6-prefix, elements)",
                          key);
}

static void *
anon_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
          size_t errlen)
{
    struct anon_conf *c = calloc(1, sizeof(*c));
    int has_key = 0, has_keep = 0;
    size_t i;

    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (settings->kind != IXD_CNODE_MAPPING) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "anonymise wants settings, e.g. {method: cryptopan, key-file: PATH}");
        free(c);
        return NULL;
    }
    for (i = 0; i < settings->n; i++) {
        const char *key = settings->items[2 * i].text;
        if (anon_key(c, key, &settings->items[2 * i + 1], env, err, errlen) == -1) {
            ixd_cryptopan_key_wipe(c, sizeof(*c));
            free(c);
            return NULL;
        }
        has_key |= strcmp(key, "key-file") == 0;
        has_keep |= strcmp(key, "ipv4-prefix") == 0 || strcmp(key, "ipv6-prefix") == 0;
    }
    if (c->method == ANON_CRYPTOPAN && !has_key) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "method cryptopan needs a key-file (32 random bytes or 64 hex digits)");
        free(c);
        return NULL;
    }
    if (c->method == ANON_TRUNCATE && !has_keep) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "method truncate needs ipv4-prefix and/or ipv6-prefix (the bits kept)");
        free(c);
        return NULL;
    }
    if (c->method == ANON_TRUNCATE) {
        /* a family without a prefix is kept whole only if asked: zero it by default */
        c->keep_v4 = ixd_cnode_get(settings, "ipv4-prefix") != NULL ? c->keep_v4 : 0;
        c->keep_v6 = ixd_cnode_get(settings, "ipv6-prefix") != NULL ? c->keep_v6 : 0;
    }
    return c;
}

static void
anon_conf_free(void *conf)
{
    ixd_cryptopan_key_wipe(conf, sizeof(struct anon_conf));
    free(conf);
}

static void *
anon_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    const struct anon_conf *c = conf;
    struct anon_state *st = calloc(1, sizeof(*st));
    char err[256];

    (void)worker;
    (void)ctx;
    if (st == NULL || (st->copy = malloc(COPY_BYTES)) == NULL) {
        free(st);
        return NULL;
    }
    st->conf = c;
    st->plans = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free);
    if (c->method == ANON_CRYPTOPAN) {
        st->cp = ixd_cryptopan_new(c->key, IXD_CRYPTOPAN_CACHE_BITS, err, sizeof(err));
        if (st->cp == NULL) {
            g_hash_table_destroy(st->plans);
            free(st->copy);
            free(st);
            return NULL;
        }
    }
    return st;
}

static int
selected(const struct anon_conf *c, const struct ixd_field *f)
{
    size_t i;

    if (f->type != IXD_TYPE_IPV4 && f->type != IXD_TYPE_IPV6) {
        return 0;
    }
    for (i = 0; i < c->n_elements; i++) {
        if (c->elements[i].pen == f->pen && c->elements[i].id == f->id) {
            return 1;
        }
    }
    return c->n_elements == 0;
}

static const struct anon_plan *
plan_for(struct anon_state *st, const struct ixd_template *t)
{
    gpointer key = (gpointer)(uintptr_t)t->serial;
    struct anon_plan *plan = g_hash_table_lookup(st->plans, key);
    uint16_t i;

    if (plan != NULL) {
        return plan;
    }
    if (g_hash_table_size(st->plans) >= PLANS_MAX) {
        g_hash_table_remove_all(st->plans);
    }
    plan = malloc(sizeof(*plan) + t->field_count * sizeof(uint16_t));
    if (plan == NULL) {
        return NULL;
    }
    plan->n = 0;
    for (i = 0; i < t->field_count; i++) {
        if (selected(st->conf, &t->fields[i])) {
            plan->fields[plan->n++] = i;
        }
    }
    g_hash_table_insert(st->plans, key, plan);
    return plan;
}

/* Rewrites one address; 0, or -1 when it could not be done. */
static int
rewrite(struct anon_state *st, uint8_t *p, uint16_t len)
{
    const struct anon_conf *c = st->conf;

    if (len == 4) {
        if (c->method == ANON_TRUNCATE) {
            ixd_truncate_v4(p, c->keep_v4);
            return 0;
        }
        return ixd_cryptopan_v4_partial(st->cp, p, c->keep_v4);
    }
    if (len == 16) {
        if (c->method == ANON_TRUNCATE) {
            ixd_truncate_v6(p, c->keep_v6);
            return 0;
        }
        return ixd_cryptopan_v6_partial(st->cp, p, c->keep_v6);
    }
    return -1;
}

static void
anon_process(void *state, struct ixd_batch *batch)
{
    struct anon_state *st = state;
    const struct ixd_template *last = NULL;
    const struct anon_plan *plan = NULL;
    size_t i, kept = 0;

    st->used = 0;
    for (i = 0; i < batch->count; i++) {
        struct ixd_record r = batch->records[i];
        int ok = 1;

        if (r.tmpl != last) {
            last = r.tmpl;
            plan = plan_for(st, r.tmpl);
        }
        if (plan == NULL || (plan->n > 0 && r.length > COPY_BYTES - st->used)) {
            ok = 0;
        } else if (plan->n > 0) {
            uint8_t *copy = st->copy + st->used;
            memcpy(copy, r.data, r.length);
            st->used += r.length;
            r.data = copy;
            for (uint16_t k = 0; k < plan->n && ok; k++) {
                uint16_t len;
                uint8_t *p = (uint8_t *)ixd_record_field(&r, plan->fields[k], &len);
                ok = len == 0 || rewrite(st, p, len) == 0;
            }
        }
        if (ok) {
            batch->records[kept++] = r;
        } else {
            IXD_CNT_ADD(st->dropped, 1);
        }
    }
    batch->count = kept;
}

static uint64_t
anon_failed(const void *state)
{
    return IXD_CNT_GET(((const struct anon_state *)state)->dropped);
}

static void
anon_stop(void *state)
{
    struct anon_state *st = state;

    ixd_cryptopan_free(st->cp);
    g_hash_table_destroy(st->plans);
    free(st->copy);
    free(st);
}

const struct ixd_stage_type ixd_stage_anonymise = {
    .name = "anonymise",
    .conf = anon_conf,
    .conf_free = anon_conf_free,
    .start = anon_start,
    .process = anon_process,
    .tick = NULL,
    .stop = anon_stop,
    .failed = anon_failed,
};
