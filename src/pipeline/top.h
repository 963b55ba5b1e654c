/*
 * Top talkers (docs/top-talkers.md): what the top-talkers stage keeps and posts, and how the
 * API asks it. Each worker's stage counts, per exporter, the octets and packets of every
 * source and destination address, port, protocol and AS number in space-saving summaries
 * (topk.h), one set per slot of time; a slot that ends is handed over whole (immutable from
 * then on) and the stage posts on the board (core/board.h, topic IXD_TOP_TOPIC, under the
 * stage's name) its window: the slots that ended within it. A query merges the windows of
 * every worker.
 */
#ifndef IXD_PIPELINE_TOP_H
#define IXD_PIPELINE_TOP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "pipeline/topk.h"

#define IXD_TOP_TOPIC "top"
#define IXD_TOP_SLOTS_MAX 60

enum ixd_top_dim {
    IXD_TOP_SRC_ADDR = 0,
    IXD_TOP_DST_ADDR,
    IXD_TOP_SRC_PORT,
    IXD_TOP_DST_PORT,
    IXD_TOP_PROTOCOL,
    IXD_TOP_SRC_AS,
    IXD_TOP_DST_AS,
    IXD_TOP_DIMS,
};

enum ixd_top_metric { IXD_TOP_OCTETS = 0, IXD_TOP_PACKETS, IXD_TOP_METRICS };

/* "source-address", ... */
const char *ixd_top_dim_name(enum ixd_top_dim d);
/* The dimension of that name, or -1. */
int ixd_top_dim_parse(const char *name);
/* A key as text: an address, or the number it holds (ports, protocols, AS numbers). */
void ixd_top_key_text(enum ixd_top_dim d, const uint8_t *key, char *out, size_t outlen);

/* One exporter's summaries in a slot. other: the exporters past the stage's table. */
struct ixd_top_exporter {
    char collector[IXD_NAME_MAX];
    struct in6_addr addr; /* IPv4 mapped */
    int other;
    struct ixd_topk sum[IXD_TOP_DIMS][IXD_TOP_METRICS];
};

/* A slot of time that ended: its exporters, reference-counted, read-only. */
struct ixd_top_slot {
    unsigned refs;      /* atomic */
    int64_t start, end; /* UNIX seconds */
    unsigned dims;      /* the dimensions counted, a bit each */
    uint32_t capacity;
    size_t n;
    struct ixd_top_exporter *exp;
};

struct ixd_top_slot *ixd_top_slot_ref(struct ixd_top_slot *s);
void ixd_top_slot_unref(struct ixd_top_slot *s);

/* What a worker's stage posts: the slots that ended within its window, oldest first. */
struct ixd_top_window {
    unsigned worker;
    uint32_t slot_seconds, window_seconds;
    size_t n;
    struct ixd_top_slot *slot[IXD_TOP_SLOTS_MAX];
};

/* A board item's release: lets go of the slots. */
void ixd_top_window_free(void *window);

/* One item of an answer: its key, an upper bound of its weight and a lower one. */
struct ixd_top_item {
    uint8_t key[IXD_TOPK_KEY];
    uint64_t upper, lower;
};

struct ixd_top_query {
    enum ixd_top_dim dim;
    enum ixd_top_metric metric;
    const char *collector;       /* NULL: any */
    const struct in6_addr *addr; /* the exporter (IPv4 mapped); NULL: every exporter */
    uint32_t seconds;            /* the last this many seconds of slots (rounded up) */
    size_t limit;
};

struct ixd_top_answer {
    int64_t from, to; /* the slots merged (0 when none) */
    uint64_t total;   /* the weight of every item in them */
    uint64_t error;   /* the most any count may be over (the merged summaries' bound) */
    size_t n;         /* items, heaviest first, at most the query's limit */
    struct ixd_top_item *items;
};

/* Merges the slots of windows (n of them, one per worker) that q asks for. 0, or -1 when out
 * of memory. Any thread. Free the answer with ixd_top_answer_release. */
int ixd_top_merge(const struct ixd_top_window *const *windows, size_t n,
                  const struct ixd_top_query *q, struct ixd_top_answer *out);
void ixd_top_answer_release(struct ixd_top_answer *a);

#endif
