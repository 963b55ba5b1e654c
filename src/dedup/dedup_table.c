/*
 * The dedup stage's shared table (dedup_table.h). A stripe's entries form an array allocated
 * once; bucket chains and the LRU list link them by index, so the table holds no pointers into
 * itself and allocates nothing after new().
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/relaxed_counter.h"
#include "dedup/dedup_table.h"

/* Stripes: a power of two from 64 to 1,024, about one per 64 entries, so that two workers
 * rarely wait for the same lock and a stripe's LRU list stays a fair sample of the table. */
#define STRIPE_BITS_MIN 6
#define STRIPE_BITS_MAX 10
#define NIL UINT32_MAX

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
    unsigned bits, n;
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
    while (buckets < per) {
        buckets <<= 1;
    }
    t->capacity = (size_t)per * t->n;
    t->s = aligned_alloc(64, t->n * sizeof(*t->s));
    if (t->s == NULL) {
        free(t);
        return NULL;
    }
    memset(t->s, 0, t->n * sizeof(*t->s));
    for (i = 0; i < t->n; i++) {
        struct stripe *s = &t->s[i];
        stripe_init(s);
        s->e = calloc(per, sizeof(*s->e));
        s->buckets = malloc(buckets * sizeof(*s->buckets));
        s->cap = per;
        s->mask = buckets - 1;
        s->free_head = s->oldest = s->newest = NIL;
        if (s->e == NULL || s->buckets == NULL) {
            t->n = i + 1; /* what free() releases */
            ixd_dedup_table_free(t);
            return NULL;
        }
        memset(s->buckets, 0xff, buckets * sizeof(*s->buckets));
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
        free(t->s[i].e);
        free(t->s[i].buckets);
        pthread_mutex_destroy(&t->s[i].lock);
    }
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
        s->oldest = e->newer;
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
        s->oldest = i;
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
    *p = s->e[i].chain;
    lru_unlink(s, i);
}

/* Entries seen before the window, oldest first: the LRU order is the order of last sight. */
static void
expire(struct stripe *s, int64_t now_usec, int64_t window_usec)
{
    while (s->oldest != NIL && now_usec - s->e[s->oldest].seen_usec >= window_usec) {
        uint32_t i = s->oldest;
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
        s->buckets[f->hash & s->mask] = i;
        lru_push(s, i);
    }
    pthread_mutex_unlock(&s->lock);
    return v;
}

void
ixd_dedup_table_prefetch(const struct ixd_dedup_table *t, uint64_t hash)
{
    const struct stripe *s = &t->s[hash >> (64 - t->bits)];

    __builtin_prefetch(&s->buckets[hash & s->mask]);
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
