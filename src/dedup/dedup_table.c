/*
 * The dedup stage's shared table (dedup_table.h). A stripe's entries form an array allocated
 * once; bucket chains and the LRU list link them by index, so the table holds no pointers into
 * itself and allocates nothing after new(). The stripes' entries and buckets are slices of one
 * array each, so that where a hash's bucket lies follows from the table alone: fetching it
 * ahead reads no stripe (a stripe is a cache line of its own, and a batch's hashes select
 * stripes at random).
 *
 * Bucket heads and each stripe's oldest entry are read without the lock, only to fetch the
 * entries a lookup will read (ixd_dedup_table_prefetch_entries): they are stored with relaxed
 * atomic stores under the lock and loaded with relaxed atomic loads outside it. A stale value
 * fetches a line for nothing; nothing else is read without the lock.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/huge.h"
#include "core/relaxed_counter.h"
#include "dedup/dedup_table.h"

/* Stripes: a power of two from 64 to 1,024, about one per 64 entries, so that two workers
 * rarely wait for the same lock and a stripe's LRU list stays a fair sample of the table. */
#define STRIPE_BITS_MIN 6
#define STRIPE_BITS_MAX 10
#define NIL UINT32_MAX
#define STORE(var, v) __atomic_store_n(&(var), (v), __ATOMIC_RELAXED)
#define LOAD(var) __atomic_load_n(&(var), __ATOMIC_RELAXED)

struct entry {
    uint64_t hash;
    int64_t start_ms;
    int64_t seen_usec;
    uint64_t exporter;
    uint32_t chain;        /* next in the bucket */
    uint32_t older, newer; /* LRU list */
    uint8_t rank;
};

struct stripe {
    pthread_mutex_t lock;
    struct entry *e;
    uint32_t *buckets;
    uint32_t cap, used, mask;
    uint32_t free_head; /* chained through .chain */
    uint32_t oldest, newest;
    uint64_t in_use, evictions, expired;
} __attribute__((aligned(64)));

struct ixd_dedup_table {
    struct stripe *s;
    struct entry *entries; /* per entries of each stripe in turn */
    uint32_t *buckets;     /* mask + 1 buckets of each stripe in turn */
    unsigned bits, n;
    uint32_t per, mask, bucket_bits;
    size_t capacity;
};

static void
stripe_init(struct stripe *s)
{
    pthread_mutexattr_t a;

    /* the sections are a few dozen instructions: spinning a little beats sleeping */
    pthread_mutexattr_init(&a);
#ifdef PTHREAD_ADAPTIVE_MUTEX_INITIALIZER_NP
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ADAPTIVE_NP);
#endif
    pthread_mutex_init(&s->lock, &a);
    pthread_mutexattr_destroy(&a);
}

struct ixd_dedup_table *
ixd_dedup_table_new(size_t entries)
{
    struct ixd_dedup_table *t = calloc(1, sizeof(*t));
    uint32_t per, buckets = 1;
    unsigned i;

    if (t == NULL) {
        return NULL;
    }
    t->bits = STRIPE_BITS_MIN;
    while (t->bits < STRIPE_BITS_MAX && (entries >> (t->bits + 1)) >= 64) {
        t->bits++;
    }
    t->n = 1u << t->bits;
    per = (uint32_t)((entries + t->n - 1) / t->n);
    per = per < 1 ? 1 : per;
    while (buckets < 2 * per) {
        buckets <<= 1;
    }
    t->capacity = (size_t)per * t->n;
    t->per = per;
    t->mask = buckets - 1;
    while ((1u << t->bucket_bits) < buckets) {
        t->bucket_bits++;
    }
    t->s = aligned_alloc(64, t->n * sizeof(*t->s));
    t->entries = ixd_huge_calloc(t->capacity * sizeof(*t->entries));
    t->buckets = ixd_huge_calloc((size_t)buckets * t->n * sizeof(*t->buckets));
    if (t->s == NULL || t->entries == NULL || t->buckets == NULL) {
        free(t->s);
        free(t->entries);
        free(t->buckets);
        free(t);
        return NULL;
    }
    memset(t->s, 0, t->n * sizeof(*t->s));
    memset(t->buckets, 0xff, (size_t)buckets * t->n * sizeof(*t->buckets));
    for (i = 0; i < t->n; i++) {
        struct stripe *s = &t->s[i];
        stripe_init(s);
        s->e = t->entries + (size_t)per * i;
        s->buckets = t->buckets + ((size_t)i << t->bucket_bits);
        s->cap = per;
        s->mask = buckets - 1;
        s->free_head = s->oldest = s->newest = NIL;
    }
    return t;
}

void
ixd_dedup_table_free(struct ixd_dedup_table *t)
{
    if (t == NULL) {
        return;
    }
    for (unsigned i = 0; i < t->n; i++) {
        pthread_mutex_destroy(&t->s[i].lock);
    }
    free(t->entries);
    free(t->buckets);
    free(t->s);
    free(t);
}

static void
lru_unlink(struct stripe *s, uint32_t i)
{
    struct entry *e = &s->e[i];

    if (e->older != NIL) {
        s->e[e->older].newer = e->newer;
    } else {
        STORE(s->oldest, e->newer);
    }
    if (e->newer != NIL) {
        s->e[e->newer].older = e->older;
    } else {
        s->newest = e->older;
    }
}

static void
lru_push(struct stripe *s, uint32_t i)
{
    struct entry *e = &s->e[i];

    e->older = s->newest;
    e->newer = NIL;
    if (s->newest != NIL) {
        s->e[s->newest].newer = i;
    } else {
        STORE(s->oldest, i);
    }
    s->newest = i;
}

/* Takes entry i out of its bucket chain and the LRU list. */
static void
unlink_entry(struct stripe *s, uint32_t i)
{
    uint32_t *p = &s->buckets[s->e[i].hash & s->mask];

    while (*p != i) {
        p = &s->e[*p].chain;
    }
    STORE(*p, s->e[i].chain); /* a bucket head, or a chain link */
    lru_unlink(s, i);
}

/* Entries seen before the window, oldest first: the LRU order is the order of last sight. */
static void
expire(struct stripe *s, int64_t now_usec, int64_t window_usec)
{
    while (s->oldest != NIL && now_usec - s->e[s->oldest].seen_usec >= window_usec) {
        uint32_t i = s->oldest, next = s->e[i].newer;
        if (next != NIL) {
            /* entries expire in runs (a burst of flows a window ago): the next one's lines are
             * fetched while this one is unlinked */
            __builtin_prefetch(&s->e[next]);
            __builtin_prefetch((const char *)&s->e[next] + sizeof(s->e[next]) - 1);
        }
        unlink_entry(s, i);
        s->e[i].chain = s->free_head;
        s->free_head = i;
        IXD_CNT_ADD(s->in_use, -1);
        IXD_CNT_ADD(s->expired, 1);
    }
}

/* A slot for a new flow: a free entry, an unused one, or the least recently seen. */
static uint32_t
take(struct stripe *s)
{
    uint32_t i;

    if (s->free_head != NIL) {
        i = s->free_head;
        s->free_head = s->e[i].chain;
        IXD_CNT_ADD(s->in_use, 1);
    } else if (s->used < s->cap) {
        i = s->used++;
        IXD_CNT_ADD(s->in_use, 1);
    } else {
        i = s->oldest;
        unlink_entry(s, i);
        IXD_CNT_ADD(s->evictions, 1);
    }
    return i;
}

static int64_t
distance(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

/* The verdict on a copy that matches entry e. */
static enum ixd_dedup_verdict
matched(struct stripe *s, uint32_t i, const struct ixd_dedup_flow *f, int64_t now_usec)
{
    struct entry *e = &s->e[i];
    enum ixd_dedup_verdict v;

    if (e->exporter == f->exporter) {
        v = IXD_DEDUP_SAME;
    } else if (f->rank > e->rank) {
        e->exporter = f->exporter;
        e->rank = f->rank;
        v = IXD_DEDUP_PREFERRED;
    } else {
        /* the window runs from the winner's last copy: losers do not keep the entry alive */
        return IXD_DEDUP_DUPLICATE;
    }
    e->seen_usec = now_usec;
    lru_unlink(s, i);
    lru_push(s, i);
    return v;
}

enum ixd_dedup_verdict
ixd_dedup_table_check(struct ixd_dedup_table *t, const struct ixd_dedup_flow *f, int64_t now_usec,
                      int64_t window_usec, int64_t tolerance_ms)
{
    struct stripe *s = &t->s[f->hash >> (64 - t->bits)];
    enum ixd_dedup_verdict v = IXD_DEDUP_NEW;
    uint32_t i;

    pthread_mutex_lock(&s->lock);
    expire(s, now_usec, window_usec);
    for (i = s->buckets[f->hash & s->mask]; i != NIL; i = s->e[i].chain) {
        const struct entry *e = &s->e[i];
        if (e->hash == f->hash && distance(e->start_ms, f->start_ms) <= tolerance_ms) {
            v = matched(s, i, f, now_usec);
            break;
        }
    }
    if (i == NIL) {
        struct entry *e;
        i = take(s);
        e = &s->e[i];
        e->hash = f->hash;
        e->start_ms = f->start_ms;
        e->seen_usec = now_usec;
        e->exporter = f->exporter;
        e->rank = f->rank;
        e->chain = s->buckets[f->hash & s->mask];
        STORE(s->buckets[f->hash & s->mask], i);
        lru_push(s, i);
    }
    pthread_mutex_unlock(&s->lock);
    return v;
}

/* The bucket of hash (the stripe's slice of the table's buckets). */
static uint32_t *
bucket_of(const struct ixd_dedup_table *t, uint64_t hash)
{
    size_t stripe = (size_t)(hash >> (64 - t->bits));

    return &t->buckets[(stripe << t->bucket_bits) | (hash & t->mask)];
}

void
ixd_dedup_table_prefetch(const struct ixd_dedup_table *t, uint64_t hash)
{
    __builtin_prefetch(bucket_of(t, hash));
    __builtin_prefetch(&t->s[hash >> (64 - t->bits)]);
}

void
ixd_dedup_table_prefetch_entries(const struct ixd_dedup_table *t, uint64_t hash)
{
    size_t stripe = (size_t)(hash >> (64 - t->bits));
    const struct entry *e = t->entries + (size_t)t->per * stripe;
    uint32_t head = LOAD(*bucket_of(t, hash)), oldest = LOAD(t->s[stripe].oldest);

    /* an entry of 48 bytes lies across two cache lines one time in two: both are fetched */
    if (head < t->per) {
        __builtin_prefetch(&e[head]);
        __builtin_prefetch((const char *)&e[head] + sizeof(*e) - 1);
    }
    if (oldest < t->per) {
        /* what expiry looks at first */
        __builtin_prefetch(&e[oldest]);
        __builtin_prefetch((const char *)&e[oldest] + sizeof(*e) - 1);
    }
}

void
ixd_dedup_table_counts(const struct ixd_dedup_table *t, uint64_t *entries, uint64_t *evictions,
                       uint64_t *expired)
{
    *entries = *evictions = *expired = 0;
    for (unsigned i = 0; i < t->n; i++) {
        *entries += IXD_CNT_GET(t->s[i].in_use);
        *evictions += IXD_CNT_GET(t->s[i].evictions);
        *expired += IXD_CNT_GET(t->s[i].expired);
    }
}

size_t
ixd_dedup_table_capacity(const struct ixd_dedup_table *t)
{
    return t->capacity;
}
