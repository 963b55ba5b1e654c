/* The counters most outputs keep (output.h): one definition each, so that /metrics has one
 * family per name whatever the output's type. */
#include "output/output.h"

static const struct ixd_counter_def common[] = {
    {.key = "records",
     .metric = "ipfixd_output_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records handed to the output"},
    {.key = "written_bytes",
     .metric = "ipfixd_output_written_bytes_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "bytes that reached the destination",
     .line_key = "bytes"},
    {.key = "dropped",
     .metric = "ipfixd_output_dropped_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records lost, each one counted"},
    {.key = "waits",
     .metric = "ipfixd_output_waits_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "times a worker waited for the output"},
};

static const struct ixd_counter_def destination[] = {
    {.key = "records",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records handed to this destination",
     .label = "destination"},
    {.key = "messages", .kind = IXD_COUNTER_TOTAL, .help = "messages sent", .label = "destination"},
    {.key = "sent",
     .metric = "ipfixd_output_destination_sent_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "data records sent",
     .label = "destination"},
    {.key = "dropped",
     .metric = "ipfixd_output_destination_dropped_records_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "records lost",
     .label = "destination"},
    {.key = "reconnects",
     .metric = "ipfixd_output_destination_reconnects_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "TCP connections after the first",
     .label = "destination"},
    {.key = "queued_bytes",
     .metric = "ipfixd_output_destination_queue_bytes",
     .kind = IXD_COUNTER_GAUGE,
     .help = "bytes waiting in the queues",
     .label = "destination"},
};

const struct ixd_counter_def *const ixd_output_records_def = &common[0];

void
ixd_output_report(ixd_counter_fn fn, void *arg, const struct ixd_output_counts *c)
{
    fn(arg, &common[0], NULL, c->records);
    fn(arg, &common[1], NULL, c->written_bytes);
    fn(arg, &common[2], NULL, c->dropped);
    fn(arg, &common[3], NULL, c->waits);
}

void
ixd_destination_report(ixd_counter_fn fn, void *arg, const char *name,
                       const struct ixd_destination_counts *c)
{
    fn(arg, &destination[0], name, c->records);
    fn(arg, &destination[1], name, c->messages);
    fn(arg, &destination[2], name, c->sent);
    fn(arg, &destination[3], name, c->dropped);
    fn(arg, &destination[4], name, c->reconnects);
    fn(arg, &destination[5], name, c->queued_bytes);
}
