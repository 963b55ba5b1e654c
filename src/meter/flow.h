/*
 * The meter's biflow table (RFC 5103): packets of both directions of a conversation go to one
 * flow, keyed by addresses, ports, protocol and VLAN, the first packet's direction being the
 * forward one. Flows end by idle or active timeout, at the end of a TCP connection (FIN both
 * ways, or RST, then a short linger for the last ACKs), when the table is full (the least
 * recently seen first, counted), or when the meter is flushed (end of a file, stop). Times are
 * the packets' own (milliseconds): reading a file, timeouts follow packet time.
 *
 * One table belongs to one thread (a worker, or `ipfixd convert`); only its counters are read
 * by others (relaxed loads). docs/meter.md.
 */
#ifndef IXD_METER_FLOW_H
#define IXD_METER_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include "meter/packet.h"

/* flowEndReason (IANA IE 136) */
enum ixd_flow_end {
    IXD_FLOW_END_IDLE = 1,
    IXD_FLOW_END_ACTIVE = 2,
    IXD_FLOW_END_EOF = 3, /* end of flow detected: TCP FIN both ways, or RST */
    IXD_FLOW_END_FORCED = 4,
    IXD_FLOW_END_RESOURCES = 5, /* the table was full */
    IXD_FLOW_END_REASONS = 6,
};

/* Flow state bits */
enum {
    IXD_FLOW_FIN_FWD = 1,
    IXD_FLOW_FIN_REV = 2,
    IXD_FLOW_CLOSING = 4, /* in the closing list */
    IXD_FLOW_MAC = 8,
    IXD_FLOW_VLAN = 16,
    IXD_FLOW_DPI_DONE = 32, /* classified, or given up */
    IXD_FLOW_USED = 64,     /* a flow, not a free slot */
};

/* One biflow: 128 bytes before its aux (DPI state while it inspects, tunnel details). Index 0
 * is forward (the first packet's direction), 1 reverse. */
struct ixd_flow {
    uint8_t src[16], dst[16]; /* the forward direction's; IPv4 in the first 4 bytes */
    uint16_t sport, dport;
    uint8_t proto, ipver;
    uint16_t vlan;
    uint32_t hnext;      /* the free list while unused (index + 1; 0: none) */
    uint32_t prev, next; /* the active or closing list */
    uint32_t packets[2];
    uint64_t octets[2];
    uint64_t first_ms;
    uint32_t last_off_ms; /* last packet: first_ms + last_off_ms */
    uint8_t tcp_flags[2];
    uint8_t ttl_first[2], ttl_min[2], ttl_max[2];
    uint8_t tos;
    uint8_t state; /* IXD_FLOW_* */
    uint8_t tunnel;
    uint8_t dpi_packets; /* packets inspected */
    uint16_t app, app_master;
    uint8_t smac[6], dmac[6];
    void *aux; /* the meter's (meter.c): set and freed by it */
};

struct ixd_flow_limits {
    uint32_t max_flows;
    uint32_t idle_ms, active_ms, linger_ms;
};

struct ixd_flow_counters {
    uint64_t created;
    uint64_t expired[IXD_FLOW_END_REASONS]; /* by flowEndReason */
    uint64_t fragments_unmatched;           /* later fragments whose first was not seen */
    uint64_t active;                        /* gauge */
    uint64_t no_memory;                     /* packets not metered: no memory for a flow */
};

struct ixd_flow_table;

/* Called for each flow that ends, before its slot is reused: the callee frees f->aux. */
typedef void (*ixd_flow_end_fn)(void *arg, struct ixd_flow *f, enum ixd_flow_end reason);

/* A table of at most l->max_flows flows, counting into *c (the caller's, zeroed or kept from
 * a table before). NULL when out of memory. */
struct ixd_flow_table *ixd_flows_new(const struct ixd_flow_limits *l, struct ixd_flow_counters *c,
                                     ixd_flow_end_fn end, void *arg);
/* Frees the table; flows still in it end as forced (with the callback) first. */
void ixd_flows_free(struct ixd_flow_table *t);

/*
 * Accounts packet p seen at ms to its flow (created when new: an older one may end first) and
 * returns it, with the packet's direction in *dir (0 forward, 1 reverse). NULL when no memory
 * (counted). Flows whose timeouts have passed by ms end first.
 */
struct ixd_flow *ixd_flows_packet(struct ixd_flow_table *t, const struct ixd_pkt *p, uint64_t ms,
                                  int *dir);
/* A packet of a batch: p and ms given, the rest the table's */
struct ixd_flow_job {
    const struct ixd_pkt *p;
    uint64_t ms;
    uint16_t sport, dport;
    uint32_t hash;
};

/* Called for job k once it is accounted, with its flow (NULL: no memory) and direction; f is
 * valid for the call only (a later packet of the batch may end it). */
typedef void (*ixd_flow_job_fn)(void *arg, size_t k, struct ixd_flow *f, int dir);

/* ixd_flows_packet() for jobs[0..n) in order, faster: what each packet will read in the table
 * is prefetched for the whole batch first. */
void ixd_flows_batch(struct ixd_flow_table *t, struct ixd_flow_job *jobs, size_t n,
                     ixd_flow_job_fn fn, void *arg);

/* Ends the flows whose idle or linger timeout has passed by now_ms. */
void ixd_flows_expire(struct ixd_flow_table *t, uint64_t now_ms);
/* Ends every flow as forced (end of file, stop). */
void ixd_flows_flush(struct ixd_flow_table *t);

/* Bytes the table holds now (flows, chunks, buckets), for the figures */
size_t ixd_flows_memory(const struct ixd_flow_table *t);

#endif
