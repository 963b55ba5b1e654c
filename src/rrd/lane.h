/*
 * A worker's side of an RRD output (docs/internals/rrd.md): the records' counts added up per
 * series for the step they were received in, in a block that goes to the writer thread once
 * the step is over. Per batch one lookup of the exporter's (and domain's) entry, per record a
 * few loads and additions; nothing here waits or calls into librrd.
 *
 * Threads: one worker per lane; a block handed on belongs to the writer.
 */
#ifndef IXD_RRD_LANE_H
#define IXD_RRD_LANE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"
#include "rrd/series.h"

/* One series' counts in a step: flows, packets, octets. */
struct ixd_rrd_entry_counts {
    struct ixd_rrd_key key;
    uint64_t v[3];
};

/* A step's counts from one lane. */
struct ixd_rrd_block {
    int64_t step; /* its start, UNIX seconds */
    size_t n, cap;
    uint64_t records; /* flows of the exporters' entries: what losing the block loses */
    struct ixd_rrd_entry_counts e[];
};

/* What a template's records give, found once per template. */
struct ixd_rrd_tcache {
    uint64_t serial;               /* 0: empty */
    int16_t octets[3], packets[3]; /* field indices: the delta count, or the two of a biflow
                                      (initiator, responder); -1: none */
    int16_t in_if, out_if;
    uint8_t options;    /* an options template: no flows */
    uint8_t per_record; /* the sampling rate may differ from record to record */
    /* fixed-length records with one delta count of each (the common case): where the fields
     * are, read without the field table; lengths 1 to 8, 0 for a field that is missing */
    uint8_t fixed;
    uint8_t len[4]; /* packets, octets, ingress, egress */
    uint16_t off[4];
};

#define IXD_RRD_TCACHE 16
#define IXD_RRD_ECACHE_BITS 12
#define IXD_RRD_ECACHE                                                                             \
    (1u << IXD_RRD_ECACHE_BITS) /* exporters (and domains) found again                             \
                                   without hashing their key */
#define IXD_RRD_ICACHE 4096     /* interfaces per direction, likewise */

/* The entries of an exporter and domain in the current block (gen: the block's), and the
 * counts added since the entry was cached: they go into the block's entries when the cache
 * entry is taken by another exporter or the block is handed on, so that a batch touches one
 * cache line of the lane's instead of two entries of the block. */
struct ixd_rrd_ecache {
    const char *collector;
    struct in6_addr addr;
    uint32_t odid, gen;
    uint32_t exp, dom; /* entry numbers; dom UINT32_MAX: no domains */
    uint64_t v[3];
};

/* An interface's entry in the current block. */
struct ixd_rrd_icache {
    uint32_t gen, exp, ifindex, entry;
};

struct ixd_rrd_lane {
    int domains, interfaces, renormalise;
    struct ixd_rrd_block *cur; /* NULL until the first record */
    uint32_t *index;           /* open addressing: entry number + 1, 0 empty */
    size_t index_mask;
    uint32_t gen; /* of cur: a new block empties the caches below */
    struct ixd_rrd_tcache tc[IXD_RRD_TCACHE];
    struct ixd_rrd_ecache *ecache;                   /* IXD_RRD_ECACHE, a cache line each */
    struct ixd_rrd_icache (*icache)[IXD_RRD_ICACHE]; /* [2]: ingress, egress */
    uint64_t ecache_misses; /* batches whose exporter was looked up in the block's index */
};

/* 0, or -1 when out of memory. */
int ixd_rrd_lane_init(struct ixd_rrd_lane *l, int domains, int interfaces, int renormalise);
void ixd_rrd_lane_release(struct ixd_rrd_lane *l);

/*
 * Adds batch's records to the step they were received in. When that step is after the current
 * block's, the current block is returned in *done (the caller hands it on or frees it) and a
 * new one begins. Returns 0, or -1 when out of memory (the batch's records are lost: *lost).
 */
int ixd_rrd_lane_add(struct ixd_rrd_lane *l, const struct ixd_batch *batch,
                     struct ixd_rrd_block **done, uint64_t *lost);
/* The current block if its step started before `step` (it is over), else NULL. */
struct ixd_rrd_block *ixd_rrd_lane_take(struct ixd_rrd_lane *l, int64_t step);

#endif
