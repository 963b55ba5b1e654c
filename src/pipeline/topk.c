#include "pipeline/topk.h"

#include <stdlib.h>
#include <string.h>

static uint32_t
key_hash(const uint8_t *k)
{
    uint64_t a, b;

    memcpy(&a, k, 8);
    memcpy(&b, k + 8, 8);
    a = (a ^ (b * 0x9e3779b97f4a7c15ULL)) * 0xff51afd7ed558ccdULL;
    return (uint32_t)(a ^ (a >> 32));
}

int
ixd_topk_init(struct ixd_topk *t, uint32_t capacity)
{
    memset(t, 0, sizeof(*t));
    t->capacity = capacity;
    return 0;
}

void
ixd_topk_release(struct ixd_topk *t)
{
    free(t->heap);
    free(t->index);
    t->heap = NULL;
    t->index = NULL;
    t->n = 0;
}

static uint32_t
mask(const struct ixd_topk *t)
{
    return 2 * t->capacity - 1; /* capacity is a power of two */
}

/* The index slot of key: where it is, or the empty slot where it would go. */
static uint32_t
slot_of(const struct ixd_topk *t, const uint8_t *key)
{
    uint32_t m = mask(t), at = key_hash(key) & m;

    while (t->index[at] != 0 && memcmp(t->heap[t->index[at] - 1].key, key, IXD_TOPK_KEY) != 0) {
        at = (at + 1) & m;
    }
    return at;
}

/* Removes slot at from the index, moving later entries of the run back (no tombstones). */
static void
unindex(struct ixd_topk *t, uint32_t at)
{
    uint32_t m = mask(t), next = (at + 1) & m;

    t->index[at] = 0;
    while (t->index[next] != 0) {
        uint32_t want = key_hash(t->heap[t->index[next] - 1].key) & m;
        /* next may move to the hole when its wanted slot is not in (at, next] */
        if (((next - want) & m) >= ((next - at) & m)) {
            t->index[at] = t->index[next];
            t->index[next] = 0;
            at = next;
        }
        next = (next + 1) & m;
    }
}

static void
swap(struct ixd_topk *t, uint32_t i, uint32_t j)
{
    /* the slots are found while the index still agrees with the heap */
    uint32_t si = slot_of(t, t->heap[i].key), sj = slot_of(t, t->heap[j].key);
    struct ixd_topk_counter c = t->heap[i];

    t->heap[i] = t->heap[j];
    t->heap[j] = c;
    t->index[si] = j + 1;
    t->index[sj] = i + 1;
}

/* A counter that grew goes down the heap past smaller ones. */
static void
sift_down(struct ixd_topk *t, uint32_t i)
{
    for (;;) {
        uint32_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < t->n && t->heap[l].count < t->heap[m].count) {
            m = l;
        }
        if (r < t->n && t->heap[r].count < t->heap[m].count) {
            m = r;
        }
        if (m == i) {
            return;
        }
        swap(t, i, m);
        i = m;
    }
}

static int
allocate(struct ixd_topk *t)
{
    /* capacity rounded up to a power of two, so that the index's mask works */
    uint32_t cap = 1;

    while (cap < t->capacity) {
        cap <<= 1;
    }
    t->capacity = cap;
    t->heap = calloc(cap, sizeof(*t->heap));
    t->index = calloc(2 * (size_t)cap, sizeof(*t->index));
    if (t->heap == NULL || t->index == NULL) {
        ixd_topk_release(t);
        return -1;
    }
    return 0;
}

int
ixd_topk_add(struct ixd_topk *t, const uint8_t key[IXD_TOPK_KEY], uint64_t weight)
{
    uint32_t at, i;

    if (t->heap == NULL && allocate(t) == -1) {
        return -1;
    }
    t->total += weight;
    at = slot_of(t, key);
    if (t->index[at] != 0) {
        i = t->index[at] - 1;
        t->heap[i].count += weight;
        sift_down(t, i);
        return 0;
    }
    if (t->n < t->capacity) {
        /* a new counter of the smallest count so far would go first: it goes last and the
         * heap is mended from there (weights are at least 1, so it sifts up at most) */
        i = t->n++;
        memcpy(t->heap[i].key, key, IXD_TOPK_KEY);
        t->heap[i].count = weight;
        t->heap[i].error = 0;
        t->index[at] = i + 1;
        while (i > 0 && t->heap[(i - 1) / 2].count > t->heap[i].count) {
            swap(t, i, (i - 1) / 2);
            i = (i - 1) / 2;
        }
        return 0;
    }
    /* full: the item takes the smallest counter, whose count becomes its error */
    unindex(t, slot_of(t, t->heap[0].key));
    memcpy(t->heap[0].key, key, IXD_TOPK_KEY);
    t->heap[0].error = t->heap[0].count;
    t->heap[0].count += weight;
    t->index[slot_of(t, key)] = 1;
    sift_down(t, 0);
    return 0;
}

const struct ixd_topk_counter *
ixd_topk_find(const struct ixd_topk *t, const uint8_t key[IXD_TOPK_KEY])
{
    uint32_t at;

    if (t->heap == NULL) {
        return NULL;
    }
    at = slot_of(t, key);
    return t->index[at] != 0 ? &t->heap[t->index[at] - 1] : NULL;
}

uint64_t
ixd_topk_unseen(const struct ixd_topk *t)
{
    return t->n == t->capacity && t->n > 0 ? t->heap[0].count : 0;
}
