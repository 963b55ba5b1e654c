/*
 * The ClickHouse output's inserter (docs/sinks.md#clickhouse): a thread of its own that takes
 * finished batches from a bounded queue and inserts them over HTTP, so that a slow or hung
 * server holds this thread, never the writer thread that serves the workers' lanes. A batch
 * that cannot be inserted now is retried, then spooled (spool.h) and replayed in order; one
 * ClickHouse refuses for its data is counted and logged, never retried.
 */
#ifndef IXD_OUTPUT_CLICKHOUSE_INSERT_H
#define IXD_OUTPUT_CLICKHOUSE_INSERT_H

#include <stddef.h>
#include <stdint.h>

#include "output/spool.h"

struct ixd_ch_inserter_conf {
    const char *name;      /* the output's, for log lines; borrowed */
    const char *url;       /* of the INSERT; borrowed */
    const char *user;      /* NULL: no authentication */
    const char *password;  /* borrowed */
    long timeout_ms;       /* of one insert */
    unsigned retries;      /* quick retries before spooling */
    size_t queue_max;      /* bytes of batches waiting in memory */
    const char *spool_dir; /* NULL: a batch that cannot go is dropped; borrowed */
    size_t spool_size;
};

/* What it counts; written by its thread, read by any with relaxed loads. */
struct ixd_ch_insert_counts {
    uint64_t inserted, batches, bytes;
    uint64_t rejected;      /* rows ClickHouse refused for their data */
    uint64_t spool_dropped; /* rows dropped: no spool, spool full, unreadable */
    uint64_t queue_dropped; /* rows dropped because the queue was full */
    uint64_t retries, ambiguous, ambiguous_rows;
    uint64_t queued_bytes; /* gauge */
};

struct ixd_ch_inserter;

/* Control thread: starts the thread, which opens the spool (waiting while the output this one
 * replaces still holds it). NULL with err. */
struct ixd_ch_inserter *ixd_ch_inserter_new(const struct ixd_ch_inserter_conf *conf, char *err,
                                            size_t errlen);

/* Control thread: inserts (or spools) everything queued, stops the thread, frees. NULL: no-op. */
void ixd_ch_inserter_free(struct ixd_ch_inserter *ins);

/* Writer thread: queues a batch (body is malloc'd and moves to the inserter). Returns 0, or -1
 * when the queue is full: the batch is freed and its rows counted as dropped. */
int ixd_ch_inserter_push(struct ixd_ch_inserter *ins, void *body, size_t len, uint64_t rows,
                         int gzip);

const struct ixd_ch_insert_counts *ixd_ch_inserter_counts(const struct ixd_ch_inserter *ins);
/* Rows and bytes in the spool (0 without one). */
uint64_t ixd_ch_inserter_spooled(const struct ixd_ch_inserter *ins, uint64_t *bytes);

#endif
