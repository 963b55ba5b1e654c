/*
 * The table the dedup stage's workers share (docs/internals/dedup.md): flows by a hash of their
 * key, each with its start time, the exporter whose copy won and when it was last seen. The
 * table is split into stripes by the hash's top bits, each with its own lock, bucket chains and
 * an LRU list of a fixed number of entries: a copy from one worker and a copy from another meet
 * in the stripe their key selects, and the memory never grows past what new() allocated.
 * Every function may be called from any thread.
 */
#ifndef IXD_DEDUP_TABLE_H
#define IXD_DEDUP_TABLE_H

#include <stddef.h>
#include <stdint.h>

/* One copy of a flow as the stage read it. */
struct ixd_dedup_flow {
    uint64_t hash;     /* of the key fields (not the start time) */
    int64_t start_ms;  /* flow start, UNIX ms (0: the record has none) */
    uint64_t exporter; /* the exporter's identity (address and observation domain) */
    uint8_t rank;      /* 0, or higher for exporters the configuration prefers */
};

/* What the table says of a copy. */
enum ixd_dedup_verdict {
    IXD_DEDUP_NEW,       /* no copy of it in the window: pass (now in the table) */
    IXD_DEDUP_SAME,      /* seen from this exporter already (an update of its flow): pass */
    IXD_DEDUP_DUPLICATE, /* another exporter's copy won: drop */
    IXD_DEDUP_PREFERRED, /* another exporter's copy went out, but this one ranks higher: pass,
                            and it wins from now on */
};

struct ixd_dedup_table;

/* A table of about entries flows (rounded up to a multiple of the stripes), all allocated
 * here. NULL when out of memory. */
struct ixd_dedup_table *ixd_dedup_table_new(size_t entries);
void ixd_dedup_table_free(struct ixd_dedup_table *t);

/*
 * Looks f up at time now_usec: a copy matches an entry with the same hash whose start time is
 * within tolerance_ms and which was seen less than window_usec ago (older entries are expired
 * first). A copy that matches nothing takes an entry: a free one, or the stripe's least
 * recently seen, which counts as an eviction.
 */
enum ixd_dedup_verdict ixd_dedup_table_check(struct ixd_dedup_table *t,
                                             const struct ixd_dedup_flow *f, int64_t now_usec,
                                             int64_t window_usec, int64_t tolerance_ms);

/* A hint that hash is looked up soon: its bucket and its stripe (the lock, the LRU ends) are
 * fetched into the cache. Reads nothing of the table but where they are. */
void ixd_dedup_table_prefetch(const struct ixd_dedup_table *t, uint64_t hash);

/* The second step, once the bucket has had time to arrive: the first entry of its chain and
 * the oldest entry of its stripe (which expiry reads first) are fetched, as the bucket and the
 * stripe say without the lock (a stale index fetches a line for nothing). */
void ixd_dedup_table_prefetch_entries(const struct ixd_dedup_table *t, uint64_t hash);

/* Counters (relaxed reads, any thread): entries in use, entries pushed out while still within
 * the window, entries that aged out of it. */
void ixd_dedup_table_counts(const struct ixd_dedup_table *t, uint64_t *entries, uint64_t *evictions,
                            uint64_t *expired);

/* Entries the table holds at most. */
size_t ixd_dedup_table_capacity(const struct ixd_dedup_table *t);

#endif
