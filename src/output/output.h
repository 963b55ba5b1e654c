/*
 * Outputs: where records leave the daemon (include/ipfixd/output.h is the interface every type
 * implements; src/registry/registry.c lists the built-in ones). An output is opened by the
 * control thread, gets one lane per worker (the worker writes to its lane without sharing
 * anything), and is closed by the control thread after every worker has let go of it. JSON
 * lines (json.c, writing from a thread of its own through writer.h), IPFIX export
 * (ipfix_export.c) and IPFIX files (ipfix_file.c) implement it; see docs/internals/modules.md,
 * threads.md, writer.md and export.md.
 */
#ifndef IXD_OUTPUT_OUTPUT_H
#define IXD_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "core/keys.h"
#include "ipfixd/output.h"
#include "ipfixd/record.h"

/* What most outputs count (counters.c): records handed to them, bytes that reached the
 * destination, records lost, and times a worker waited. */
struct ixd_output_counts {
    uint64_t records, written_bytes, dropped, waits;
};
void ixd_output_report(ixd_counter_fn fn, void *arg, const struct ixd_output_counts *c);
/* The "records" one alone, for an output that counts nothing else of these. */
extern const struct ixd_counter_def *const ixd_output_records_def;

/* Per destination of an output (an export's collectors, a file output's directory). */
struct ixd_destination_counts {
    uint64_t records;      /* handed to this destination */
    uint64_t messages;     /* sent (template-only ones included) */
    uint64_t sent;         /* data records in the messages sent */
    uint64_t dropped;      /* records lost: queue full, too large, send errors, stop */
    uint64_t reconnects;   /* TCP connections made after the first */
    uint64_t queued_bytes; /* waiting now */
};
void ixd_destination_report(ixd_counter_fn fn, void *arg, const char *name,
                            const struct ixd_destination_counts *c);

#endif
