/*
 * The RRD store: what the RRD output's writer thread does with the counts the workers
 * aggregated and the counters it sampled (docs/internals/rrd.md). It merges counts per series
 * and step, creates files (on a thread of its own, so that a new exporter never holds back the
 * others), writes every series once a step in time order, evaluates the alerts, and posts its
 * list of series and its alerts on the board.
 *
 * Time is given, never read: the writer passes the wall clock, a test synthetic times, so that
 * simulated days run in seconds. One thread calls everything but ixd_rrd_store_stats().
 */
#ifndef IXD_RRD_STORE_H
#define IXD_RRD_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "rrd/rrdlib.h"
#include "rrd/series.h"

struct ixd_view;

/* An RRD output's settings (docs/configuration.md#rrd). */
struct ixd_rrd_settings {
    char directory[IXD_PATH_MAX];
    char rrdcached[IXD_PATH_MAX]; /* "": write the files directly */
    uint32_t max_files;
    int domains;          /* per (exporter, observation domain) */
    int interfaces;       /* per (exporter, ingress/egress interface) */
    int health;           /* per collector, pipeline and output, from the workers' snapshots */
    int renormalise;      /* packets and octets times the sampling rate */
    struct ixd_rrd_hw hw; /* on exporter files; hw.on: anomaly */
    int alert_high;
    uint32_t silent_after; /* seconds; 0: no silent alerts */
    double sequence_loss;  /* a fraction of records; 0: no sequence-loss alerts */
    uint32_t clear_after;  /* seconds the condition must be gone */
    char webhook[IXD_PATH_MAX];
    uint32_t webhook_timeout;
};

/* What the store counts; its writer adds, any thread reads (relaxed). */
struct ixd_rrd_store_stats {
    uint64_t series; /* known series: files and those being created */
    uint64_t files_created;
    uint64_t files_refused; /* new series max-files refused */
    uint64_t create_errors;
    uint64_t update_errors;
    uint64_t rows; /* rows written (a series' step) */
    uint64_t late; /* counts of a step already written, added to the next one */
    uint64_t lost; /* records whose counts were lost: their steps could not wait */
    uint64_t rounds;
    uint64_t round_usec; /* the last round's duration */
    uint64_t alerts_active;
    uint64_t alerts_raised;
};

struct ixd_rrd_store;

/*
 * A store for settings s (borrowed: they outlive the store) of output `output`: scans the
 * directory for the files of earlier runs, connects to rrdcached when configured, starts the
 * creating thread when threaded (else files are created in the call that needs them) and the
 * webhook's. NULL with err.
 */
struct ixd_rrd_store *ixd_rrd_store_new(const struct ixd_rrd_settings *s, const char *output,
                                        int threaded, char *err, size_t errlen);
/* Writes what is complete up to `now` (UNIX seconds) and frees the store. NULL: no-op. */
void ixd_rrd_store_free(struct ixd_rrd_store *st, int64_t now);

/* Adds counts v (flows, packets, octets) of series k to the step starting at step_start. */
void ixd_rrd_store_add(struct ixd_rrd_store *st, const struct ixd_rrd_key *k, int64_t step_start,
                       const uint64_t v[3]);
/* Counts records (flows) lost before they reached the store (a worker's hand-off). */
void ixd_rrd_store_lost(struct ixd_rrd_store *st, uint64_t records);

/* Health and sequence loss: the counters of v (a merged snapshot view) as of time now. */
void ixd_rrd_store_sample(struct ixd_rrd_store *st, const struct ixd_view *v, int64_t now);

/*
 * Writes every series' steps that end at or before due (a multiple of the step), zeros where
 * nothing came; evaluates the alerts of those steps; posts what changed. Returns how many
 * rows were written.
 */
size_t ixd_rrd_store_round(struct ixd_rrd_store *st, int64_t due);

/* Threaded: waits until every file asked for so far has been created (or failed). Tests. */
void ixd_rrd_store_settle(struct ixd_rrd_store *st);

void ixd_rrd_store_stats(const struct ixd_rrd_store *st, struct ixd_rrd_store_stats *out);
struct ixd_webhook_stats;
/* The webhook's counters (zeros without one). Any thread. */
void ixd_rrd_store_webhook_stats(const struct ixd_rrd_store *st, struct ixd_webhook_stats *out);

#endif
