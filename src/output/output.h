/*
 * Outputs: where records leave the daemon. An output is created by the control thread, gets one
 * lane per worker (the worker writes to its lane without sharing anything), and is closed by
 * the control thread after every worker has let go of it. JSON lines (json.c), IPFIX export
 * (ipfix_export.c) and IPFIX files (ipfix_file.c) implement these operations; see
 * docs/internals/threads.md and docs/internals/export.md.
 */
#ifndef IXD_OUTPUT_OUTPUT_H
#define IXD_OUTPUT_OUTPUT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "ipfixd/record.h"

struct ixd_output_ops;

/* Every output type embeds these as its first member. */
struct ixd_output {
    const struct ixd_output_ops *ops;
    char name[IXD_NAME_MAX];
    struct ixd_config_output config; /* what it was opened with: reloads compare it */
};

struct ixd_lane {
    struct ixd_output *output;
};

/* Per destination of an output that sends to several (IPFIX export), summed over workers. */
struct ixd_output_dest_stats {
    char name[128];        /* the destination as configured */
    uint64_t records;      /* records handed to this destination */
    uint64_t messages;     /* messages sent (template-only ones included) */
    uint64_t sent;         /* data records in the messages sent */
    uint64_t dropped;      /* records lost: queue full, too large, send errors, stop */
    uint64_t reconnects;   /* TCP connections made after the first */
    uint64_t queued_bytes; /* bytes waiting in the queues now */
};

struct ixd_output_stats {
    uint64_t records;       /* records accepted from workers */
    uint64_t written_bytes; /* bytes that reached the destination */
    uint64_t dropped;       /* records lost (write errors), each one counted */
    uint64_t waits;         /* times a worker had to wait for the writer */
    /* outputs that write a series of files (ipfix-file) set has_files and these */
    uint8_t has_files;
    uint64_t files;        /* files completed (closed and given their final name) */
    uint64_t write_errors; /* failed writes, closes and renames of files */
    size_t n_destinations; /* 0 for outputs with a single destination (JSON) */
    struct ixd_output_dest_stats destinations[IXD_EXPORT_DEST_MAX];
};

struct ixd_output_ops {
    const char *type;
    /* control thread */
    struct ixd_output *(*open)(const struct ixd_config_output *cfg, unsigned workers, char *err,
                               size_t errlen);
    void (*reopen)(struct ixd_output *o); /* SIGHUP: e.g. reopen files after rotation */
    void (*close)(struct ixd_output *o);  /* flushes everything, then frees */
    /* any thread: the control thread (SIGUSR1, stop) and worker 0 (the API's snapshots) read
     * counters with relaxed loads, at the same time */
    void (*stats)(struct ixd_output *o, struct ixd_output_stats *st);
    /* worker thread `w` only */
    struct ixd_lane *(*lane)(struct ixd_output *o, unsigned w);
    void (*write)(struct ixd_lane *lane, const struct ixd_batch *batch);
    void (*flush)(struct ixd_lane *lane); /* hand buffered data on (timer, stop) */
};

/* The operations for an output type, or NULL. */
const struct ixd_output_ops *ixd_output_ops_for(enum ixd_output_type type);

#endif
