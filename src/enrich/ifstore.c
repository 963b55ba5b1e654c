/*
 * The master copy is a hash of tables (glib), each a hash of interfaces, changed under the
 * store's mutex. A snapshot is a flat open-addressing array of immutable tables, each one block
 * of memory (index, entries, strings); a table that did not change since the last snapshot is
 * shared with it. Reference counts of snapshots and tables change under the mutex only: a worker
 * takes the lock when the version moved, never per record.
 */
#include "enrich/ifstore.h"

#include <glib.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "core/relaxed_counter.h"

struct tkey {
    struct in6_addr addr;
    uint32_t odid;
    uint32_t src;
};

struct ixd_iftable {
    unsigned refs; /* under the store's lock */
    struct tkey key;
    uint32_t n, mask;
    uint32_t *slots; /* mask + 1 entries: 0 empty, else 1 + index into infos */
    struct ixd_ifinfo *infos;
    /* then the slots, the infos and the strings, in one allocation */
};

struct ixd_ifsnap {
    unsigned refs;
    uint32_t n, mask;
    const struct ixd_iftable **slots; /* mask + 1 entries, NULL empty */
};

/* One interface of the master copy. */
struct mif {
    uint32_t ifindex;
    uint16_t name_len, description_len;
    uint64_t speed;
    char name[IXD_IFSTRING_MAX + 1];
    char description[IXD_IFSTRING_MAX + 1];
};

struct mtable {
    struct tkey key;
    GHashTable *ifs;           /* ifindex -> struct mif */
    struct ixd_iftable *built; /* the immutable copy; NULL when changed since */
    uint64_t updated;          /* the store's change count at the last change: LRU */
};

struct ixd_ifstore {
    unsigned refs; /* under store_lock */
    pthread_mutex_t lock;
    GHashTable *tables; /* struct tkey -> struct mtable */
    size_t interfaces;
    uint64_t changes;
    int dirty;
    double published_at;
    struct ixd_ifsnap *current;
    _Atomic uint64_t version;
    uint64_t dropped, evicted, published; /* relaxed: stats() reads them */
    uint64_t n_interfaces, n_tables;
};

static pthread_mutex_t store_lock = PTHREAD_MUTEX_INITIALIZER;
static struct ixd_ifstore *the_store;

static uint64_t
mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ull;
    return h ^ (h >> 33);
}

static uint64_t
key_hash(const struct tkey *k)
{
    uint64_t a, b;

    memcpy(&a, k->addr.s6_addr, 8);
    memcpy(&b, k->addr.s6_addr + 8, 8);
    return mix(a ^ mix(b ^ mix(((uint64_t)k->odid << 32) | k->src)));
}

static guint
tkey_hash(gconstpointer p)
{
    return (guint)key_hash(p);
}

static gboolean
tkey_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, sizeof(struct tkey)) == 0;
}

static void
make_key(struct tkey *k, const struct in6_addr *addr, uint32_t odid, enum ixd_ifsource src)
{
    memset(k, 0, sizeof(*k));
    k->addr = *addr;
    k->odid = odid;
    k->src = (uint32_t)src;
}

/* ---- immutable tables and snapshots ---- */

static void
table_unref(struct ixd_iftable *t)
{
    if (t != NULL && --t->refs == 0) {
        free(t);
    }
}

static size_t
pow2_at_least(size_t n)
{
    size_t p = 4;

    while (p < n) {
        p *= 2;
    }
    return p;
}

/* The immutable copy of m (one reference, the master's), or NULL when out of memory. */
static struct ixd_iftable *
table_build(const struct mtable *m)
{
    size_t n = g_hash_table_size(m->ifs), slots = pow2_at_least(2 * n + 1), strings = 0, i = 0;
    GHashTableIter it;
    gpointer v;
    struct ixd_iftable *t;
    char *str;

    g_hash_table_iter_init(&it, m->ifs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct mif *f = v;
        strings += f->name_len + f->description_len + 2u;
    }
    t = calloc(1, sizeof(*t) + slots * sizeof(uint32_t) + n * sizeof(struct ixd_ifinfo) + strings);
    if (t == NULL) {
        return NULL;
    }
    t->refs = 1;
    t->key = m->key;
    t->n = (uint32_t)n;
    t->mask = (uint32_t)(slots - 1);
    t->slots = (uint32_t *)(void *)(t + 1);
    t->infos = (struct ixd_ifinfo *)(void *)(t->slots + slots);
    str = (char *)(t->infos + n);
    g_hash_table_iter_init(&it, m->ifs);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        const struct mif *f = v;
        struct ixd_ifinfo *info = &t->infos[i];
        uint32_t h = (uint32_t)mix(f->ifindex) & t->mask;

        info->ifindex = f->ifindex;
        info->speed = f->speed;
        info->name_len = f->name_len;
        info->description_len = f->description_len;
        memcpy(str, f->name, f->name_len + 1u);
        info->name = str;
        str += f->name_len + 1u;
        memcpy(str, f->description, f->description_len + 1u);
        info->description = str;
        str += f->description_len + 1u;
        while (t->slots[h] != 0) {
            h = (h + 1) & t->mask;
        }
        t->slots[h] = (uint32_t)++i;
    }
    return t;
}

static void
snap_unref(struct ixd_ifsnap *snap)
{
    uint32_t i;

    if (snap == NULL || --snap->refs > 0) {
        return;
    }
    for (i = 0; snap->slots != NULL && i <= snap->mask; i++) {
        table_unref((struct ixd_iftable *)snap->slots[i]);
    }
    free(snap->slots);
    free(snap);
}

static struct ixd_ifsnap *
snap_new(size_t n)
{
    struct ixd_ifsnap *snap = calloc(1, sizeof(*snap));
    size_t slots = pow2_at_least(2 * n + 1);

    if (snap == NULL) {
        return NULL;
    }
    snap->slots = calloc(slots, sizeof(*snap->slots));
    if (snap->slots == NULL) {
        free(snap);
        return NULL;
    }
    snap->refs = 1;
    snap->mask = (uint32_t)(slots - 1);
    return snap;
}

/* Builds what changed and swaps the current snapshot for a new one; under the lock. On no
 * memory the old snapshot stays and the store stays dirty (the next tick tries again). */
static void
publish(struct ixd_ifstore *s, double now)
{
    struct ixd_ifsnap *snap = snap_new(g_hash_table_size(s->tables));
    GHashTableIter it;
    gpointer v;

    if (snap == NULL) {
        return;
    }
    g_hash_table_iter_init(&it, s->tables);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct mtable *m = v;
        uint32_t h;

        if (m->built == NULL && (m->built = table_build(m)) == NULL) {
            snap_unref(snap);
            return;
        }
        if (m->built->n == 0) {
            continue;
        }
        m->built->refs++;
        h = (uint32_t)key_hash(&m->key) & snap->mask;
        while (snap->slots[h] != NULL) {
            h = (h + 1) & snap->mask;
        }
        snap->slots[h] = m->built;
        snap->n++;
    }
    snap_unref(s->current);
    s->current = snap;
    IXD_CNT_SET(s->dirty, 0);
    s->published_at = now;
    IXD_CNT_ADD(s->published, 1);
    IXD_CNT_SET(s->n_interfaces, s->interfaces);
    IXD_CNT_SET(s->n_tables, g_hash_table_size(s->tables));
    atomic_fetch_add_explicit(&s->version, 1, memory_order_release);
}

/* ---- the store ---- */

static void
mtable_free(gpointer p)
{
    struct mtable *m = p;

    g_hash_table_destroy(m->ifs);
    table_unref(m->built);
    free(m);
}

static struct ixd_ifstore *
store_new(void)
{
    struct ixd_ifstore *s = calloc(1, sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    pthread_mutex_init(&s->lock, NULL);
    s->tables = g_hash_table_new_full(tkey_hash, tkey_equal, NULL, mtable_free);
    s->current = snap_new(0);
    if (s->current == NULL) {
        g_hash_table_destroy(s->tables);
        free(s);
        return NULL;
    }
    s->published_at = -1e9;
    return s;
}

struct ixd_ifstore *
ixd_ifstore_acquire(void)
{
    struct ixd_ifstore *s;

    pthread_mutex_lock(&store_lock);
    if (the_store == NULL) {
        the_store = store_new();
    }
    s = the_store;
    if (s != NULL) {
        s->refs++;
    }
    pthread_mutex_unlock(&store_lock);
    return s;
}

void
ixd_ifstore_release(struct ixd_ifstore *s)
{
    if (s == NULL) {
        return;
    }
    pthread_mutex_lock(&store_lock);
    if (--s->refs > 0) {
        pthread_mutex_unlock(&store_lock);
        return;
    }
    the_store = NULL;
    pthread_mutex_unlock(&store_lock);
    g_hash_table_destroy(s->tables);
    snap_unref(s->current);
    pthread_mutex_destroy(&s->lock);
    free(s);
}

void
ixd_ifstore_lock(struct ixd_ifstore *s)
{
    pthread_mutex_lock(&s->lock);
}

void
ixd_ifstore_unlock(struct ixd_ifstore *s, double now)
{
    if (s->dirty && now - s->published_at >= 0.1) {
        publish(s, now);
    }
    pthread_mutex_unlock(&s->lock);
}

void
ixd_ifstore_tick(struct ixd_ifstore *s, double now)
{
    /* a relaxed look first: most ticks have nothing to publish */
    if (!__atomic_load_n(&s->dirty, __ATOMIC_RELAXED)) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    if (s->dirty && now - s->published_at >= 0.1) {
        publish(s, now);
    }
    pthread_mutex_unlock(&s->lock);
}

/* Copies at most IXD_IFSTRING_MAX bytes of v (up to its first NUL: exporters pad fixed-length
 * names with zeros) into out, not splitting a UTF-8 character; returns the length. */
static uint16_t
copy_string(char *out, const char *v, size_t n)
{
    const char *nul = memchr(v, '\0', n);

    if (nul != NULL) {
        n = (size_t)(nul - v);
    }
    if (n > IXD_IFSTRING_MAX) {
        n = IXD_IFSTRING_MAX;
        while (n > 0 && ((unsigned char)v[n] & 0xc0) == 0x80) {
            n--;
        }
    }
    memcpy(out, v, n);
    out[n] = '\0';
    return (uint16_t)n;
}

/* Makes room for one interface more: evicts the least recently changed table but keep. */
static void
evict_for(struct ixd_ifstore *s, const struct mtable *keep)
{
    GHashTableIter it;
    gpointer v;
    struct mtable *oldest = NULL;

    g_hash_table_iter_init(&it, s->tables);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        struct mtable *m = v;
        if (m != keep && g_hash_table_size(m->ifs) > 0 &&
            (oldest == NULL || m->updated < oldest->updated)) {
            oldest = m;
        }
    }
    if (oldest == NULL) {
        return;
    }
    IXD_CNT_ADD(s->evicted, g_hash_table_size(oldest->ifs));
    s->interfaces -= g_hash_table_size(oldest->ifs);
    g_hash_table_remove(s->tables, &oldest->key);
    IXD_CNT_SET(s->dirty, 1);
}

static struct mtable *
table_get(struct ixd_ifstore *s, const struct tkey *k)
{
    struct mtable *m = g_hash_table_lookup(s->tables, k);

    if (m == NULL) {
        m = calloc(1, sizeof(*m));
        if (m == NULL) {
            return NULL;
        }
        m->key = *k;
        m->ifs = g_hash_table_new_full(g_direct_hash, g_direct_equal, NULL, free);
        g_hash_table_insert(s->tables, &m->key, m);
    }
    return m;
}

/* 1 when f would change by the values given */
static int
differs(const struct mif *f, const char *name, uint16_t n, const char *d, uint16_t dl,
        uint64_t speed)
{
    return f->name_len != n || memcmp(f->name, name, n) != 0 || f->description_len != dl ||
           memcmp(f->description, d, dl) != 0 || (speed != 0 && f->speed != speed);
}

void
ixd_ifstore_put_locked(struct ixd_ifstore *s, const struct in6_addr *exporter, uint32_t odid,
                       enum ixd_ifsource src, uint32_t ifindex, const char *name, size_t n,
                       const char *description, size_t d, uint64_t speed)
{
    char nbuf[IXD_IFSTRING_MAX + 1], dbuf[IXD_IFSTRING_MAX + 1];
    uint16_t nl = copy_string(nbuf, name, n), dl = copy_string(dbuf, description, d);
    struct tkey k;
    struct mtable *m;
    struct mif *f;

    make_key(&k, exporter, odid, src);
    m = table_get(s, &k);
    if (m == NULL) {
        IXD_CNT_ADD(s->dropped, 1);
        return;
    }
    f = g_hash_table_lookup(m->ifs, GUINT_TO_POINTER(ifindex));
    if (f != NULL && !differs(f, nbuf, nl, dbuf, dl, speed)) {
        return; /* the periodic repeat of what is known: nothing to publish */
    }
    if (f == NULL) {
        if (g_hash_table_size(m->ifs) >= IXD_IFSTORE_PER_TABLE) {
            IXD_CNT_ADD(s->dropped, 1);
            return;
        }
        if (s->interfaces >= IXD_IFSTORE_TOTAL) {
            evict_for(s, m);
            if (s->interfaces >= IXD_IFSTORE_TOTAL) {
                IXD_CNT_ADD(s->dropped, 1);
                return;
            }
        }
        f = calloc(1, sizeof(*f));
        if (f == NULL) {
            IXD_CNT_ADD(s->dropped, 1);
            return;
        }
        f->ifindex = ifindex;
        g_hash_table_insert(m->ifs, GUINT_TO_POINTER(ifindex), f);
        s->interfaces++;
    }
    memcpy(f->name, nbuf, nl + 1u);
    f->name_len = nl;
    memcpy(f->description, dbuf, dl + 1u);
    f->description_len = dl;
    if (speed != 0) {
        f->speed = speed;
    }
    table_unref(m->built);
    m->built = NULL;
    m->updated = ++s->changes;
    IXD_CNT_SET(s->dirty, 1);
}

void
ixd_ifstore_clear_locked(struct ixd_ifstore *s, const struct in6_addr *exporter, uint32_t odid,
                         enum ixd_ifsource src)
{
    struct tkey k;
    struct mtable *m;

    make_key(&k, exporter, odid, src);
    m = g_hash_table_lookup(s->tables, &k);
    if (m != NULL && g_hash_table_size(m->ifs) > 0) {
        s->interfaces -= g_hash_table_size(m->ifs);
        g_hash_table_remove(s->tables, &k);
        IXD_CNT_SET(s->dirty, 1);
    }
}

uint64_t
ixd_ifstore_version(const struct ixd_ifstore *s)
{
    return atomic_load_explicit(&s->version, memory_order_acquire);
}

struct ixd_ifsnap *
ixd_ifstore_snapshot(struct ixd_ifstore *s, uint64_t *version)
{
    struct ixd_ifsnap *snap;

    pthread_mutex_lock(&s->lock);
    snap = s->current;
    snap->refs++;
    *version = atomic_load_explicit(&s->version, memory_order_relaxed);
    pthread_mutex_unlock(&s->lock);
    return snap;
}

void
ixd_ifsnap_release(struct ixd_ifstore *s, struct ixd_ifsnap *snap)
{
    if (snap == NULL) {
        return;
    }
    pthread_mutex_lock(&s->lock);
    snap_unref(snap);
    pthread_mutex_unlock(&s->lock);
}

const struct ixd_iftable *
ixd_ifsnap_table(const struct ixd_ifsnap *snap, const struct in6_addr *exporter, uint32_t odid,
                 enum ixd_ifsource src)
{
    struct tkey k;
    uint32_t h;

    if (snap->n == 0) {
        return NULL;
    }
    make_key(&k, exporter, odid, src);
    for (h = (uint32_t)key_hash(&k) & snap->mask; snap->slots[h] != NULL;
         h = (h + 1) & snap->mask) {
        if (memcmp(&snap->slots[h]->key, &k, sizeof(k)) == 0) {
            return snap->slots[h];
        }
    }
    return NULL;
}

const struct ixd_ifinfo *
ixd_iftable_find(const struct ixd_iftable *t, uint32_t ifindex)
{
    uint32_t h, i;

    for (h = (uint32_t)mix(ifindex) & t->mask; (i = t->slots[h]) != 0; h = (h + 1) & t->mask) {
        if (t->infos[i - 1].ifindex == ifindex) {
            return &t->infos[i - 1];
        }
    }
    return NULL;
}

static const struct ixd_counter_def store_defs[] = {
    {.key = "interfaces",
     .metric = "ipfixd_enrich_interfaces",
     .kind = IXD_COUNTER_GAUGE,
     .help = "interfaces the enrich stages know (all exporters, all sources)"},
    {.key = "interface_tables",
     .metric = "ipfixd_enrich_interface_tables",
     .kind = IXD_COUNTER_GAUGE,
     .help = "interface tables: one per exporter, observation domain and source"},
    {.key = "interfaces_dropped",
     .metric = "ipfixd_enrich_interfaces_dropped_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "interfaces not kept: their table or the store was full, or no memory"},
    {.key = "interfaces_evicted",
     .metric = "ipfixd_enrich_interfaces_evicted_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "interfaces forgotten to make room (the least recently changed table goes)"},
    {.key = "interface_snapshots",
     .metric = "ipfixd_enrich_interface_snapshots_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "interface snapshots published to the workers"},
};

void
ixd_ifstore_stats(struct ixd_ifstore *s, ixd_counter_fn fn, void *arg)
{
    fn(arg, &store_defs[0], NULL, IXD_CNT_GET(s->n_interfaces));
    fn(arg, &store_defs[1], NULL, IXD_CNT_GET(s->n_tables));
    fn(arg, &store_defs[2], NULL, IXD_CNT_GET(s->dropped));
    fn(arg, &store_defs[3], NULL, IXD_CNT_GET(s->evicted));
    fn(arg, &store_defs[4], NULL, IXD_CNT_GET(s->published));
}
