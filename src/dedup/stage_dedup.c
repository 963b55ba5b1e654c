/*
 * The dedup stage: a record whose flow another exporter already reported within the window is
 * dropped, so a flow that crosses several routers is written once (docs/enrichment.md, dedup).
 * A flow is the values of the key elements (the 5-tuple unless configured) and its start time,
 * matched within a tolerance, since two routers stamp the same flow a little apart.
 *
 * SO_REUSEPORT hands two routers' datagrams to different workers, so the copies meet in one
 * table every worker of the config shares (dedup_table.h), striped by the key's hash; each
 * worker keeps only what it compiled per template. The table is allocated by the first worker
 * that starts (ipfixd -t allocates nothing) and freed with the config: a reload starts empty.
 */
#include <glib.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/address.h"
#include "core/cnode.h"
#include "core/keys.h"
#include "core/keys_net.h"
#include "core/relaxed_counter.h"
#include "dedup/dedup_table.h"
#include "ipfix/decode.h"
#include "ipfix/ie.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "pipeline/pipeline.h"

#define KEY_MAX 16
#define ROLES_MAX 16
#define ROLE_LEN 64
#define ROLE_RANK 128 /* a record of a preferred interface outranks every exporter rank */
#define PLANS_MAX 4096
#define NTP_UNIX_SECONDS INT64_C(2208988800)

static const char *const default_key[] = {"sourceIPv4Address",   "destinationIPv4Address",
                                          "sourceIPv6Address",   "destinationIPv6Address",
                                          "sourceTransportPort", "destinationTransportPort",
                                          "protocolIdentifier"};

/* prefer-interfaces: words looked for in the ingress interface's name and description. */
struct roles {
    size_t n;
    char word[ROLES_MAX][ROLE_LEN];
};

struct dedup_settings {
    int key_given; /* the key key's list is read in conf(), which has the element names */
    uint32_t tolerance_ms;
    uint32_t window;
    uint32_t entries;
    struct ixd_prefix_list prefer;
    struct roles roles;
};

struct dedup_conf {
    uint32_t key_pen[KEY_MAX];
    uint16_t key_id[KEY_MAX];
    size_t n_key;
    int64_t tolerance_ms, window_usec;
    size_t entries;
    struct ixd_prefix_list prefer; /* owned: the settings' list moves here */
    struct roles roles;
    uint32_t own_pen;    /* ipfixd's elements, where enrich puts interface names */
    uint16_t role_id[2]; /* ingressInterfaceName, ingressInterfaceDescription */
    uint64_t seed;
    pthread_mutex_t lock; /* guards table's creation */
    struct ixd_dedup_table *table;
};

/* Where a template carries the key and the start time. */
struct plan {
    int16_t key[KEY_MAX]; /* field index, or -1 */
    int16_t start;        /* field index, or -1 */
    uint16_t start_id;    /* its element */
    uint8_t keyed;        /* 1: some key element is there */
    int16_t role[2];      /* ingress interface name and description fields, or -1 */
};

struct dedup_state {
    struct dedup_conf *conf;
    GHashTable *plans; /* template serial -> struct plan */
    unsigned worker;
    uint64_t hash[IXD_BATCH_MAX]; /* the batch's flows, read before they are looked up */
    int64_t start[IXD_BATCH_MAX];
    uint8_t rank[IXD_BATCH_MAX];
    uint64_t unique, duplicates, same, preferred, unkeyed;
};

static int
parse_key_shape(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
                const struct ixd_key_env *env, char *err, size_t errlen)
{
    if (v->kind != IXD_CNODE_SEQUENCE || v->n == 0 || v->n > KEY_MAX) {
        return ixd_cnode_fail(v, env->file, err, errlen,
                              "%s must list 1 to %d information element names", key->name, KEY_MAX);
    }
    *(int *)field = 1;
    return 0;
}

static int
parse_roles(const struct ixd_key *key, const struct ixd_cnode *v, void *field,
            const struct ixd_key_env *env, char *err, size_t errlen)
{
    struct roles *r = field;

    if (v->kind != IXD_CNODE_SEQUENCE || v->n == 0 || v->n > ROLES_MAX) {
        return ixd_cnode_fail(v, env->file, err, errlen, "%s must list 1 to %d words", key->name,
                              ROLES_MAX);
    }
    for (size_t i = 0; i < v->n; i++) {
        const struct ixd_cnode *w = &v->items[i];
        if (w->kind != IXD_CNODE_SCALAR || w->text[0] == '\0' || strlen(w->text) >= ROLE_LEN) {
            return ixd_cnode_fail(w, env->file, err, errlen,
                                  "a %s entry is a word of 1 to %d characters", key->name,
                                  ROLE_LEN - 1);
        }
        snprintf(r->word[i], ROLE_LEN, "%s", w->text);
    }
    r->n = v->n;
    return 0;
}

static const struct ixd_key dedup_keys[] = {
    {.name = "key",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct dedup_settings, key_given),
     .parse = parse_key_shape,
     .help = "the elements whose values make a flow (the 5-tuple in IPv4 and IPv6)"},
    {.name = "tolerance-ms",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct dedup_settings, tolerance_ms),
     .def = "1000",
     .max = 3600000,
     .help = "how far apart two copies' flow start times may be"},
    {.name = "window",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct dedup_settings, window),
     .def = "60s",
     .min = 1,
     .max = 86400,
     .help = "how long after its last copy a flow is remembered"},
    {.name = "entries",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct dedup_settings, entries),
     .def = "262144",
     .min = 1024,
     .max = 1u << 24,
     .help = "flows remembered at most (48 bytes each); beyond, the least recently seen go"},
    {.name = "prefer-exporters",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct dedup_settings, prefer),
     .parse = ixd_key_parse_prefixes,
     .same = ixd_key_same_prefixes,
     .release = ixd_key_release_prefixes,
     .help = "exporters whose copy wins over others', the first listed most (else: first seen)"},
    {.name = "prefer-interfaces",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct dedup_settings, roles),
     .parse = parse_roles,
     .help = "words (\"edge\") whose presence in the ingress interface's name or description, "
             "as enrich adds them, makes a copy win over any other"},
    {NULL},
};

static void
dedup_conf_free(void *p)
{
    struct dedup_conf *c = p;

    if (c != NULL) {
        ixd_dedup_table_free(c->table);
        pthread_mutex_destroy(&c->lock);
        free(c->prefer.p);
        free(c);
    }
}

static int
add_element(struct dedup_conf *c, const struct ixd_cnode *n, const struct ixd_stage_env *env,
            char *err, size_t errlen)
{
    const struct ixd_ie *ie;
    size_t i;

    if (n->kind != IXD_CNODE_SCALAR || (ie = ixd_ie_lookup_name(env->registry, n->text)) == NULL) {
        return ixd_cnode_fail(n, env->file, err, errlen, "'%s' is not an information element",
                              n->kind == IXD_CNODE_SCALAR ? n->text : "");
    }
    for (i = 0; i < c->n_key; i++) {
        if (c->key_pen[i] == ie->pen && c->key_id[i] == ie->id) {
            return ixd_cnode_fail(n, env->file, err, errlen, "'%s' is in the key twice", n->text);
        }
    }
    c->key_pen[c->n_key] = ie->pen;
    c->key_id[c->n_key++] = ie->id;
    return 0;
}

static int
conf_key(struct dedup_conf *c, const struct ixd_cnode *settings, const struct ixd_stage_env *env,
         char *err, size_t errlen)
{
    const struct ixd_cnode *list = ixd_cnode_get(settings, "key");
    size_t i;

    if (list != NULL) {
        for (i = 0; i < list->n; i++) {
            if (add_element(c, &list->items[i], env, err, errlen) == -1) {
                return -1;
            }
        }
        return 0;
    }
    for (i = 0; i < sizeof(default_key) / sizeof(default_key[0]); i++) {
        const struct ixd_ie *ie = ixd_ie_lookup_name(env->registry, default_key[i]);
        if (ie == NULL) {
            return ixd_cnode_fail(settings, env->file, err, errlen, "'%s' is not defined",
                                  default_key[i]);
        }
        c->key_pen[c->n_key] = ie->pen;
        c->key_id[c->n_key++] = ie->id;
    }
    return 0;
}

static int
conf_roles(struct dedup_conf *c, const struct ixd_cnode *settings, const struct ixd_stage_env *env,
           char *err, size_t errlen)
{
    static const char *const names[2] = {"ingressInterfaceName", "ingressInterfaceDescription"};

    c->own_pen = ixd_ie_own_enterprise(env->registry);
    for (size_t i = 0; i < 2; i++) {
        const struct ixd_ie *ie = ixd_ie_lookup_name(env->registry, names[i]);
        if (c->own_pen == 0 || ie == NULL || ie->pen != c->own_pen) {
            return ixd_cnode_fail(settings, env->file, err, errlen,
                                  "ipfixd's own elements are not defined");
        }
        c->role_id[i] = ie->id;
    }
    return 0;
}

static void *
dedup_conf(const struct ixd_cnode *settings, const struct ixd_stage_env *env, char *err,
           size_t errlen)
{
    struct ixd_key_env kenv = {env->file, env->syntax_only ? IXD_CONFIG_SYNTAX_ONLY : 0,
                               "stage dedup"};
    struct ixd_cnode empty = {
        .kind = IXD_CNODE_MAPPING, .line = settings->line, .column = settings->column};
    struct dedup_settings s;
    struct dedup_conf *c = calloc(1, sizeof(*c));

    memset(&s, 0, sizeof(s));
    if (c == NULL) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&c->lock, NULL);
    if (settings->kind == IXD_CNODE_SCALAR && ixd_scalar_type(settings->text) == IXD_SCALAR_NULL) {
        settings = &empty; /* "- dedup:" with every default */
    }
    if (settings->kind != IXD_CNODE_MAPPING) {
        ixd_cnode_fail(settings, env->file, err, errlen,
                       "dedup wants settings, e.g. dedup: {window: 60s, tolerance-ms: 1000}");
        goto fail;
    }
    if (ixd_keys_parse(dedup_keys, settings, &s, &kenv, err, errlen) == -1 ||
        conf_key(c, settings, env, err, errlen) == -1) {
        goto fail;
    }
    c->tolerance_ms = s.tolerance_ms;
    c->window_usec = (int64_t)s.window * 1000000;
    c->entries = s.entries;
    if (s.roles.n > 0 && conf_roles(c, settings, env, err, errlen) == -1) {
        goto fail;
    }
    c->roles = s.roles;
    c->prefer = s.prefer;
    s.prefer.p = NULL;
    s.prefer.n = 0;
    if (getrandom(&c->seed, sizeof(c->seed), 0) != (ssize_t)sizeof(c->seed)) {
        c->seed = (uint64_t)(uintptr_t)c ^ 0x9e3779b97f4a7c15ull;
    }
    ixd_keys_release(dedup_keys, &s);
    return c;
fail:
    ixd_keys_release(dedup_keys, &s);
    dedup_conf_free(c);
    return NULL;
}

static void
plan_free(gpointer p)
{
    free(p);
}

static void *
dedup_start(const void *conf, unsigned worker, struct ixd_stage_ctx *ctx)
{
    struct dedup_conf *c = (struct dedup_conf *)conf; /* the table is the shared, locked part */
    struct dedup_state *st;

    (void)ctx;
    pthread_mutex_lock(&c->lock);
    if (c->table == NULL) {
        c->table = ixd_dedup_table_new(c->entries);
    }
    pthread_mutex_unlock(&c->lock);
    if (c->table == NULL || (st = calloc(1, sizeof(*st))) == NULL) {
        return NULL;
    }
    st->conf = c;
    st->worker = worker;
    st->plans = g_hash_table_new_full(g_int64_hash, g_int64_equal, NULL, plan_free);
    return st;
}

static const uint16_t start_ids[] = {152, 150, 154, 156, 158, 22};

static struct plan *
plan_for(struct dedup_state *st, const struct ixd_template *t)
{
    struct plan *p = g_hash_table_lookup(st->plans, &t->serial);
    const struct dedup_conf *c = st->conf;
    size_t i;

    if (p != NULL) {
        return p;
    }
    /* the key is the serial inside the plan itself: the table keeps a pointer to it */
    p = calloc(1, sizeof(*p) + sizeof(uint64_t));
    if (p == NULL) {
        return NULL;
    }
    for (i = 0; i < c->n_key; i++) {
        p->key[i] = (int16_t)ixd_template_find(t, c->key_pen[i], c->key_id[i]);
        p->keyed |= p->key[i] >= 0;
    }
    p->start = -1;
    for (i = 0; i < sizeof(start_ids) / sizeof(start_ids[0]) && p->start < 0; i++) {
        p->start = (int16_t)ixd_template_find(t, 0, start_ids[i]);
        p->start_id = start_ids[i];
    }
    for (i = 0; i < 2; i++) {
        p->role[i] =
            (int16_t)(c->roles.n > 0 ? ixd_template_find(t, c->own_pen, c->role_id[i]) : -1);
    }
    memcpy(p + 1, &t->serial, sizeof(uint64_t));
    g_hash_table_insert(st->plans, (uint64_t *)(p + 1), p);
    return p;
}

/* Mixes len bytes into h (a keyed multiply-xorshift: the seed differs per config). */
static uint64_t
mix(uint64_t h, const uint8_t *v, size_t len)
{
    while (len >= 8) {
        h = (h ^ ixd_get64(v)) * 0x9e3779b97f4a7c15ull;
        h ^= h >> 29;
        v += 8;
        len -= 8;
    }
    if (len > 0) {
        h = (h ^ (ixd_get_uint(v, (unsigned)len) | (uint64_t)len << 56)) * 0xbf58476d1ce4e5b9ull;
        h ^= h >> 31;
    }
    return h;
}

static uint64_t
key_hash(const struct dedup_state *st, const struct plan *p, const struct ixd_record *r)
{
    uint64_t h = st->conf->seed;
    uint8_t b[8];
    uint16_t len;

    for (size_t i = 0; i < st->conf->n_key; i++) {
        const uint8_t *v;
        uint8_t type;
        if (p->key[i] < 0) {
            h = (h ^ (i + 1)) * 0xff51afd7ed558ccdull; /* absent is not empty */
            continue;
        }
        v = ixd_record_field(r, (unsigned)p->key[i], &len);
        type = r->tmpl->fields[p->key[i]].type;
        if (type == IXD_TYPE_UNSIGNED && len >= 1 && len <= 8) {
            /* reduced-size encoding: one value, whatever width the exporter chose */
            ixd_put64(b, ixd_get_uint(v, len));
            v = b;
            len = 8;
        }
        h = mix(h ^ (uint64_t)(len + 1) << 48, v, len);
    }
    return h ^ h >> 33;
}

static int64_t
ntp_ms(uint64_t v)
{
    return ((int64_t)(v >> 32) - NTP_UNIX_SECONDS) * 1000 +
           (int64_t)(((v & 0xffffffffu) * 1000) >> 32);
}

/* The flow start time in UNIX ms; 0 when the record has none that can be read. */
static int64_t
start_ms(const struct plan *p, const struct ixd_record *r, const struct ixd_source *src)
{
    const uint8_t *v;
    uint16_t len;
    uint64_t x;

    if (p->start < 0) {
        return 0;
    }
    v = ixd_record_field(r, (unsigned)p->start, &len);
    if (len < 1 || len > 8) {
        return 0;
    }
    x = ixd_get_uint(v, len);
    switch (p->start_id) {
    case 152:
        return (int64_t)x;
    case 150:
        return (int64_t)x * 1000;
    case 154:
    case 156:
        return ntp_ms(x);
    case 158: /* flowStartDeltaMicroseconds, before the export time */
        return (int64_t)src->export_time * 1000 - (int64_t)(x / 1000);
    default: /* flowStartSysUpTime: since the exporter's boot, when the header told it */
        return src->system_init_ms != 0 ? src->system_init_ms + (int64_t)x : (int64_t)x;
    }
}

/* ROLE_RANK when the record's ingress interface name or description holds a preferred word. */
static uint8_t
role_rank(const struct dedup_conf *c, const struct plan *p, const struct ixd_record *r)
{
    for (size_t i = 0; i < 2; i++) {
        const uint8_t *v;
        uint16_t len;
        if (p->role[i] < 0) {
            continue;
        }
        v = ixd_record_field(r, (unsigned)p->role[i], &len);
        for (size_t k = 0; k < c->roles.n; k++) {
            if (memmem(v, len, c->roles.word[k], strlen(c->roles.word[k])) != NULL) {
                return ROLE_RANK;
            }
        }
    }
    return 0;
}

/* The batch's exporter: its identity (address and observation domain) and its rank. */
static void
exporter_of(const struct dedup_conf *c, const struct ixd_source *src, struct ixd_dedup_flow *f)
{
    struct in6_addr a;
    uint32_t odid = src->odid;

    ixd_address_mapped((const struct sockaddr *)&src->exporter, &a, NULL);
    f->exporter = mix(mix(c->seed, a.s6_addr, 16), (const uint8_t *)&odid, sizeof(odid));
    f->rank = 0;
    for (size_t i = 0; i < c->prefer.n && i < ROLE_RANK - 1; i++) {
        if (ixd_prefix_contains(&c->prefer.p[i], &a)) {
            f->rank = (uint8_t)(ROLE_RANK - 1 - i);
            break;
        }
    }
}

/* Reads the key and start time of records [from, from + n) into st->flows (hash 0: no flow to
 * compare) and fetches their buckets, so the lookups that follow find them in the cache. */
static void
read_flows(struct dedup_state *st, const struct ixd_batch *batch, size_t from, size_t n)
{
    const struct dedup_conf *c = st->conf;
    const struct ixd_template *last = NULL;
    const struct plan *p = NULL;

    for (size_t i = 0; i < n; i++) {
        const struct ixd_record *r = &batch->records[from + i];
        if (r->tmpl != last) {
            last = r->tmpl;
            p = plan_for(st, r->tmpl);
        }
        if (r->tmpl->scope_count > 0 || p == NULL || !p->keyed) {
            /* options records, records without a key element: not flows to compare (and with
             * no memory for a plan, passing beats dropping a flow unseen) */
            st->hash[i] = 0;
            continue;
        }
        st->hash[i] = key_hash(st, p, r) | 1;
        st->start[i] = start_ms(p, r, batch->source);
        st->rank[i] = c->roles.n > 0 ? role_rank(c, p, r) : 0;
        ixd_dedup_table_prefetch(st->conf->table, st->hash[i]);
    }
}

/* The entries record i's lookup will read first, fetched that many records ahead: its bucket,
 * fetched by read_flows(), says which. */
#define AHEAD 16

static void
prefetch_entries(const struct dedup_state *st, size_t i)
{
    if (st->hash[i] != 0) {
        ixd_dedup_table_prefetch_entries(st->conf->table, st->hash[i]);
    }
}

/* Whether record i of what read_flows() read goes on, counted. */
static int
keep(struct dedup_state *st, struct ixd_dedup_flow *f, uint8_t rank, size_t i, int64_t now)
{
    const struct dedup_conf *c = st->conf;

    if (st->hash[i] == 0) {
        IXD_CNT_ADD(st->unkeyed, 1);
        return 1;
    }
    f->hash = st->hash[i];
    f->start_ms = st->start[i];
    f->rank = (uint8_t)(rank | st->rank[i]);
    switch (ixd_dedup_table_check(c->table, f, now, c->window_usec, c->tolerance_ms)) {
    case IXD_DEDUP_DUPLICATE:
        IXD_CNT_ADD(st->duplicates, 1);
        return 0;
    case IXD_DEDUP_NEW:
        IXD_CNT_ADD(st->unique, 1);
        break;
    case IXD_DEDUP_SAME:
        IXD_CNT_ADD(st->same, 1);
        break;
    case IXD_DEDUP_PREFERRED:
        IXD_CNT_ADD(st->preferred, 1);
        break;
    }
    return 1;
}

static void
dedup_process(void *state, struct ixd_batch *batch)
{
    struct dedup_state *st = state;
    struct ixd_dedup_flow f;
    size_t from, i, kept = 0;
    int64_t now = batch->source->received_usec;
    uint8_t rank;

    if (g_hash_table_size(st->plans) >= PLANS_MAX) {
        g_hash_table_remove_all(st->plans); /* a template flood: compiling again is cheap */
    }
    exporter_of(st->conf, batch->source, &f);
    rank = f.rank;
    for (from = 0; from < batch->count; from += IXD_BATCH_MAX) {
        size_t n = batch->count - from < IXD_BATCH_MAX ? batch->count - from : IXD_BATCH_MAX;
        read_flows(st, batch, from, n);
        for (i = 0; i < n && i < AHEAD; i++) {
            prefetch_entries(st, i);
        }
        for (i = 0; i < n; i++) {
            if (i + AHEAD < n) {
                prefetch_entries(st, i + AHEAD);
            }
            if (keep(st, &f, rank, i, now)) {
                batch->records[kept++] = batch->records[from + i];
            }
        }
    }
    batch->count = kept;
}

static const struct ixd_counter_def dedup_defs[] = {
    {.key = "unique",
     .metric = "ipfixd_dedup_unique_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records of a flow no exporter had reported within the window"},
    {.key = "duplicates",
     .metric = "ipfixd_dedup_duplicate_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records dropped: another exporter's copy of the flow won"},
    {.key = "same_exporter",
     .metric = "ipfixd_dedup_same_exporter_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records of a flow the same exporter had reported (passed)"},
    {.key = "preferred",
     .metric = "ipfixd_dedup_preferred_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records passed although a less preferred exporter's copy had gone out"},
    {.key = "unkeyed",
     .metric = "ipfixd_dedup_unkeyed_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records passed unchecked: options records, records without a key element"},
    {.key = "entries",
     .metric = "ipfixd_dedup_entries",
     .kind = IXD_COUNTER_GAUGE,
     .help = "flows the dedup table holds"},
    {.key = "evictions",
     .metric = "ipfixd_dedup_evictions_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "flows pushed out of the full table while still within the window"},
    {.key = "expired",
     .metric = "ipfixd_dedup_expired_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "flows forgotten when their window ran out"},
};

static void
dedup_stats(const void *state, ixd_counter_fn fn, void *arg)
{
    const struct dedup_state *st = state;
    uint64_t entries = 0, evictions = 0, expired = 0;

    fn(arg, &dedup_defs[0], NULL, IXD_CNT_GET(st->unique));
    fn(arg, &dedup_defs[1], NULL, IXD_CNT_GET(st->duplicates));
    fn(arg, &dedup_defs[2], NULL, IXD_CNT_GET(st->same));
    fn(arg, &dedup_defs[3], NULL, IXD_CNT_GET(st->preferred));
    fn(arg, &dedup_defs[4], NULL, IXD_CNT_GET(st->unkeyed));
    if (st->worker == 0) {
        /* one table per config: worker 0 reports it, the others 0, so the sum is right */
        ixd_dedup_table_counts(st->conf->table, &entries, &evictions, &expired);
    }
    fn(arg, &dedup_defs[5], NULL, entries);
    fn(arg, &dedup_defs[6], NULL, evictions);
    fn(arg, &dedup_defs[7], NULL, expired);
}

static void
dedup_stop(void *state)
{
    struct dedup_state *st = state;

    g_hash_table_destroy(st->plans);
    free(st);
}

const struct ixd_stage_type ixd_stage_dedup = {
    .name = "dedup",
    .conf = dedup_conf,
    .conf_free = dedup_conf_free,
    .start = dedup_start,
    .process = dedup_process,
    .tick = NULL,
    .stop = dedup_stop,
    .failed = NULL,
    .on_template = NULL,
    .stats = dedup_stats,
};
