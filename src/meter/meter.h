/*
 * The flow meter: captured frames in, IPFIX biflow records out. Decoding (packet.h), the biflow
 * table (flow.h), application labels (src/dpi/) and the records (export.c: templates compiled
 * once per layout with ixd_template_parse, so they carry serials like any exporter's) are put
 * together here; the capture itself (files, interfaces) is capture.h's. Records are handed to
 * a callback in batches with one struct ixd_source: the `pcap` input gives them to its
 * collector's pipelines and outputs, `ipfixd convert` writes them out. docs/meter.md.
 *
 * A meter belongs to one thread; its counters are read by others with relaxed loads.
 */
#ifndef IXD_METER_METER_H
#define IXD_METER_METER_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/ie.h"
#include "ipfixd/counters.h"
#include "ipfixd/record.h"
#include "meter/flow.h"
#include "meter/packet.h"

struct ixd_dpi;

/* The application names (docs/meter.md) are reported again after this much packet time */
#define IXD_METER_APP_REFRESH_USEC (60 * 1000000LL)

struct ixd_meter_settings {
    uint32_t odid;
    uint32_t max_flows;
    uint32_t idle_ms, active_ms, linger_ms;
    int dpi;              /* label applications with nDPI */
    uint32_t dpi_packets; /* inspect at most this many packets of a flow */
    int tunnel_addresses; /* export a tunnel's outer addresses */
    /* with dpi: a detector to borrow (it outlives the meter), or NULL for one of the meter's
     * own (starting nDPI takes tens of milliseconds: the fuzz target shares one) */
    struct ixd_dpi *detector;
};

struct ixd_meter_counters {
    uint64_t frames;                 /* every frame read */
    uint64_t packets;                /* IP packets metered */
    uint64_t bytes;                  /* their IP bytes */
    uint64_t errors[IXD_PKT_ERRORS]; /* frames not metered, by reason ([0]: unused) */
    uint64_t read_errors;            /* a file truncated or unreadable, an interface gone */
    uint64_t kernel_dropped;         /* live capture: pcap_stats (set by the capture) */
    uint64_t interface_dropped;
    uint64_t records;         /* flow records delivered */
    uint64_t options_records; /* application id -> name mappings delivered */
    uint64_t dpi_packets;     /* packets inspected */
    uint64_t dpi_classified, dpi_unknown;
    uint64_t dpi_no_memory; /* flows not inspected: no memory for the state */
    uint64_t dpi_active;    /* gauge: flows being inspected now */
};

/* Everything a meter counts: kept by its owner, so that counters outlive a meter (a reload)
 * and are read while it runs. */
struct ixd_meter_stats {
    struct ixd_meter_counters m;
    struct ixd_flow_counters f;
};

struct ixd_meter;

typedef void (*ixd_meter_deliver_fn)(void *arg, const struct ixd_batch *batch);
typedef void (*ixd_meter_template_fn)(void *arg, const struct ixd_template *tmpl,
                                      const struct ixd_source *source);

/*
 * A meter whose records say they come from collector (borrowed: it outlives the meter) and
 * exporter (the interface or file, copied), counting into *stats (borrowed likewise). reg names
 * the elements (may be NULL). Records go to deliver(arg, batch); each template to on_template
 * (may be NULL) before its first record. NULL with err when DPI cannot start or memory runs
 * out.
 */
struct ixd_meter *ixd_meter_new(const struct ixd_meter_settings *s, struct ixd_meter_stats *stats,
                                const char *collector, const char *exporter,
                                const struct ixd_ie_registry *reg, ixd_meter_deliver_fn deliver,
                                ixd_meter_template_fn on_template, void *arg, char *err,
                                size_t errlen);
/* Ends every flow as forced, delivers them and frees the meter. NULL: nothing. */
void ixd_meter_free(struct ixd_meter *m);

/* Meters one frame of link type link, captured at usec (UNIX microseconds). */
void ixd_meter_packet(struct ixd_meter *m, int link, const uint8_t *p, uint32_t caplen,
                      int64_t usec);
/* Live capture: ends the flows whose timeouts have passed by now_usec, then hands on what is
 * waiting. */
void ixd_meter_tick(struct ixd_meter *m, int64_t now_usec);
/* Hands on the records waiting in the batch. */
void ixd_meter_deliver(struct ixd_meter *m);
/* Ends every flow as forced (end of a file) and hands on their records. */
void ixd_meter_flush(struct ixd_meter *m);

/* Bytes the flow table holds, and in *dpi_bytes those held beside it now: DPI states and the
 * extra of flows that need one (inspected, tunnelled) */
size_t ixd_meter_memory(const struct ixd_meter *m, size_t *dpi_bytes);

/* Reports stats[0..n) added up, through fn (include/ipfixd/counters.h): what the pcap input
 * shows in the SIGUSR1 summary, /metrics and the API. Any thread (relaxed loads). */
void ixd_meter_report(const struct ixd_meter_stats *stats, size_t n, ixd_counter_fn fn, void *arg);

#endif
