/* The meter's counters as named, labelled counters (include/ipfixd/counters.h). */
#include <stddef.h>

#include "core/relaxed_counter.h"
#include "meter/meter.h"

enum {
    C_FRAMES,
    C_PACKETS,
    C_BYTES,
    C_READ_ERRORS,
    C_KERNEL,
    C_IFDROP,
    C_FLOWS_ACTIVE,
    C_FLOWS_CREATED,
    C_RECORDS,
    C_OPTIONS,
    C_FRAG,
    C_NOMEM,
    C_DPI_PACKETS,
    C_DPI_CLASSIFIED,
    C_DPI_UNKNOWN,
    C_DPI_ACTIVE,
    C_DPI_NOMEM,
    C_ERRORS,
    C_EXPIRED,
    C_N,
};

static const struct ixd_counter_def defs[C_N] = {
    [C_FRAMES] = {.key = "frames",
                  .metric = "ipfixd_capture_frames_total",
                  .help = "frames the capture read"},
    [C_PACKETS] = {.key = "packets",
                   .metric = "ipfixd_capture_packets_total",
                   .help = "IP packets metered into flows"},
    [C_BYTES] = {.key = "bytes",
                 .metric = "ipfixd_capture_bytes_total",
                 .help = "IP bytes of the packets metered"},
    [C_READ_ERRORS] = {.key = "read_errors",
                       .metric = "ipfixd_capture_read_errors_total",
                       .help = "captures that ended in an error: a truncated or unreadable file, "
                               "an interface gone"},
    [C_KERNEL] = {.key = "kernel_dropped",
                  .metric = "ipfixd_capture_kernel_dropped_total",
                  .help = "packets the kernel dropped before the capture read them (pcap_stats)"},
    [C_IFDROP] = {.key = "interface_dropped",
                  .metric = "ipfixd_capture_interface_dropped_total",
                  .help = "packets the interface or its driver dropped (pcap_stats)"},
    [C_FLOWS_ACTIVE] = {.key = "flows_active",
                        .metric = "ipfixd_capture_flows_active",
                        .kind = IXD_COUNTER_GAUGE,
                        .help = "flows in the flow tables now"},
    [C_FLOWS_CREATED] = {.key = "flows_created",
                         .metric = "ipfixd_capture_flows_created_total",
                         .help = "flows started"},
    [C_RECORDS] = {.key = "records",
                   .metric = "ipfixd_capture_records_total",
                   .help = "flow records handed to the collector's pipelines and outputs"},
    [C_OPTIONS] = {.key = "options_records",
                   .metric = "ipfixd_capture_options_records_total",
                   .help = "application id to name records (RFC 6759)"},
    [C_FRAG] = {.key = "fragments_unmatched",
                .metric = "ipfixd_capture_fragments_unmatched_total",
                .help = "later IP fragments whose first fragment was not seen (ports 0)"},
    [C_NOMEM] = {.key = "no_memory",
                 .metric = "ipfixd_capture_no_memory_total",
                 .help = "packets not metered for want of memory for a flow"},
    [C_DPI_PACKETS] = {.key = "dpi_packets",
                       .metric = "ipfixd_capture_dpi_packets_total",
                       .help = "packets inspected by DPI"},
    [C_DPI_CLASSIFIED] = {.key = "dpi_classified",
                          .metric = "ipfixd_capture_dpi_classified_total",
                          .help = "flows DPI named an application for"},
    [C_DPI_UNKNOWN] = {.key = "dpi_unknown",
                       .metric = "ipfixd_capture_dpi_unknown_total",
                       .help = "flows DPI gave up on"},
    [C_DPI_ACTIVE] = {.key = "dpi_active",
                      .metric = "ipfixd_capture_dpi_flows",
                      .kind = IXD_COUNTER_GAUGE,
                      .help = "flows being inspected now"},
    [C_DPI_NOMEM] = {.key = "dpi_no_memory",
                     .metric = "ipfixd_capture_dpi_no_memory_total",
                     .help = "flows not inspected for want of memory"},
    [C_ERRORS] = {.key = "frames",
                  .metric = "ipfixd_capture_decode_errors_total",
                  .help = "frames not metered, by reason",
                  .label = "decode_error"},
    [C_EXPIRED] = {.key = "flows",
                   .metric = "ipfixd_capture_flows_expired_total",
                   .help = "flows ended, by reason",
                   .label = "end_reason"},
};

static const char *const end_names[IXD_FLOW_END_REASONS] = {
    "", "idle", "active", "end_of_flow", "forced", "lack_of_resources",
};

void
ixd_meter_report(const struct ixd_meter_stats *stats, size_t n, ixd_counter_fn fn, void *arg)
{
    uint64_t v[C_N] = {0}, errors[IXD_PKT_ERRORS] = {0}, ends[IXD_FLOW_END_REASONS] = {0};
    size_t i, k;

    for (i = 0; i < n; i++) {
        const struct ixd_meter_counters *m = &stats[i].m;
        const struct ixd_flow_counters *f = &stats[i].f;

        v[C_FRAMES] += IXD_CNT_GET(m->frames);
        v[C_PACKETS] += IXD_CNT_GET(m->packets);
        v[C_BYTES] += IXD_CNT_GET(m->bytes);
        v[C_READ_ERRORS] += IXD_CNT_GET(m->read_errors);
        v[C_KERNEL] += IXD_CNT_GET(m->kernel_dropped);
        v[C_IFDROP] += IXD_CNT_GET(m->interface_dropped);
        v[C_FLOWS_ACTIVE] += IXD_CNT_GET(f->active);
        v[C_FLOWS_CREATED] += IXD_CNT_GET(f->created);
        v[C_RECORDS] += IXD_CNT_GET(m->records);
        v[C_OPTIONS] += IXD_CNT_GET(m->options_records);
        v[C_FRAG] += IXD_CNT_GET(f->fragments_unmatched);
        v[C_NOMEM] += IXD_CNT_GET(f->no_memory);
        v[C_DPI_PACKETS] += IXD_CNT_GET(m->dpi_packets);
        v[C_DPI_CLASSIFIED] += IXD_CNT_GET(m->dpi_classified);
        v[C_DPI_UNKNOWN] += IXD_CNT_GET(m->dpi_unknown);
        v[C_DPI_ACTIVE] += IXD_CNT_GET(m->dpi_active);
        v[C_DPI_NOMEM] += IXD_CNT_GET(m->dpi_no_memory);
        for (k = 1; k < IXD_PKT_ERRORS; k++) {
            errors[k] += IXD_CNT_GET(m->errors[k]);
        }
        for (k = 1; k < IXD_FLOW_END_REASONS; k++) {
            ends[k] += IXD_CNT_GET(f->expired[k]);
        }
    }
    for (k = 0; k < C_ERRORS; k++) {
        fn(arg, &defs[k], NULL, v[k]);
    }
    for (k = 1; k < IXD_PKT_ERRORS; k++) {
        fn(arg, &defs[C_ERRORS], ixd_pkt_error_names[k], errors[k]);
    }
    for (k = 1; k < IXD_FLOW_END_REASONS; k++) {
        fn(arg, &defs[C_EXPIRED], end_names[k], ends[k]);
    }
}
