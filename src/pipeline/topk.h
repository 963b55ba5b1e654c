/*
 * A space-saving summary (Metwally, Agrawal and El Abbadi, 2005) of weighted items: at most
 * `capacity` counters; an item that has none takes the smallest one's, inheriting its count as
 * its error. So with W the weight seen: every item heavier than W / capacity has a counter, and
 * a counter overestimates its item's weight by at most its error, itself at most W / capacity
 * (docs/top-talkers.md). A min-heap finds the smallest counter; an open-addressing index finds
 * an item's counter.
 *
 * Threads: one writer; once handed on (top-talkers' closed slots) read-only for any reader.
 */
#ifndef IXD_PIPELINE_TOPK_H
#define IXD_PIPELINE_TOPK_H

#include <stddef.h>
#include <stdint.h>

#define IXD_TOPK_KEY 16 /* an IPv6 (or IPv4-mapped) address, or a number in its first bytes */

struct ixd_topk_counter {
    uint8_t key[IXD_TOPK_KEY];
    uint64_t count; /* an upper bound of the item's weight */
    uint64_t error; /* count - error is a lower bound */
};

struct ixd_topk {
    uint32_t capacity, n;
    uint64_t total;                /* every weight added */
    struct ixd_topk_counter *heap; /* n counters, the smallest count first */
    uint32_t *index;               /* 2 * capacity slots: heap position + 1, 0 empty */
};

/* 0, or -1 when out of memory. Counters are allocated as they are needed, up to capacity. */
int ixd_topk_init(struct ixd_topk *t, uint32_t capacity);
void ixd_topk_release(struct ixd_topk *t);
/* Adds weight to key's counter. -1 when out of memory (the weight is not counted). */
int ixd_topk_add(struct ixd_topk *t, const uint8_t key[IXD_TOPK_KEY], uint64_t weight);
/* The counter of key, or NULL. */
const struct ixd_topk_counter *ixd_topk_find(const struct ixd_topk *t,
                                             const uint8_t key[IXD_TOPK_KEY]);
/* The largest count an item without a counter may have: the smallest count when full, else 0. */
uint64_t ixd_topk_unseen(const struct ixd_topk *t);

#endif
