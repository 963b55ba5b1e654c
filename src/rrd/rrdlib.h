/*
 * librrd behind one file (docs/internals/rrd.md): creating, updating, fetching and graphing
 * round-robin files, directly or through rrdcached. Nothing else includes <rrd.h>.
 *
 * Threads: librrd keeps its error text per thread, and its update, create and fetch are safe on
 * different files from different threads; its graph code is not safe concurrently with itself,
 * so ixd_rrd_graph() runs on one thread of the process only (the API's graph thread).
 * librrd keeps one rrdcached connection for the whole process, used under its own lock: every
 * struct ixd_rrdc (one per thread that talks to rrdcached) goes through it, so one rrdcached
 * address serves every RRD output.
 */
#ifndef IXD_RRD_RRDLIB_H
#define IXD_RRD_RRDLIB_H

#include <stddef.h>
#include <stdint.h>

#include "rrd/series.h"

/* The step of every file: 10 seconds. */
#define IXD_RRD_STEP 10

/* What the Holt-Winters archives of a file are made with (docs/configuration.md, rrd). */
struct ixd_rrd_hw {
    int on; /* 0: the file has none */
    double alpha, beta, gamma;
    uint32_t season;    /* seconds; rows are season / step */
    uint32_t threshold; /* violations in window that make a failure */
    uint32_t window;    /* steps */
    double deviations;  /* the band: predicted +- this many deviations */
};

/* A connection to rrdcached ("unix:/run/rrdcached.sock", "/path", "host:port"). */
struct ixd_rrdc;
/* NULL with err when it cannot connect. */
struct ixd_rrdc *ixd_rrdc_new(const char *address, char *err, size_t errlen);
void ixd_rrdc_free(struct ixd_rrdc *c);

/*
 * Creates path (replacing what is there) for a series of kind, its first step ending after
 * start: 10 s for a day, 1 min for 7 days, 5 min for 31 days, 1 h for a year, AVERAGE and MAX,
 * and the Holt-Winters archives when hw->on. c: through rrdcached, else directly. 0, or -1
 * with librrd's message in err.
 */
int ixd_rrd_create(struct ixd_rrdc *c, const char *path, enum ixd_rrd_kind kind, int64_t start,
                   const struct ixd_rrd_hw *hw, char *err, size_t errlen);

/* One row librrd wrote in an update: its time, archive (AVERAGE, HWPREDICT, DEVPREDICT,
 * FAILURES, ...), column index and value (NaN: unknown). Only single-step rows are passed. */
typedef void (*ixd_rrd_row_fn)(void *arg, int64_t t, const char *cf, unsigned column, double value);

/*
 * Updates path with n rows: times t[i] (increasing), values v[i * columns + j] (known[] the
 * same shape, NULL: all known; unknown ones are written U). Directly, row (may be NULL) hears
 * of every single-step row written; through rrdcached it hears of none. 0, or -1 with err.
 */
int ixd_rrd_update(struct ixd_rrdc *c, const char *path, unsigned columns, size_t n,
                   const int64_t *t, const uint64_t *v, const uint8_t *known, ixd_rrd_row_fn row,
                   void *arg, char *err, size_t errlen);

/* Whether path has the Holt-Winters archives: 1, 0, or -1 with err (not an RRD file). */
int ixd_rrd_has_hw(struct ixd_rrdc *c, const char *path, char *err, size_t errlen);

/* The time of the last update of path; -1 with err. */
int64_t ixd_rrd_last(struct ixd_rrdc *c, const char *path, char *err, size_t errlen);

/* What a fetch returns: rows from start (exclusive) to end, step apart; data[row * columns +
 * column], NaN for unknown. Freed with ixd_rrd_fetched_release. */
struct ixd_rrd_fetched {
    int64_t start, end;
    unsigned long step, columns;
    char **names;
    double *data;
};
/* Fetches cf ("AVERAGE", "MAX", "HWPREDICT", ...) of path between start and end at the step
 * closest to step (librrd picks the archive). 0, or -1 with err. */
int ixd_rrd_fetch(struct ixd_rrdc *c, const char *path, const char *cf, int64_t start, int64_t end,
                  unsigned long step, struct ixd_rrd_fetched *out, char *err, size_t errlen);
void ixd_rrd_fetched_release(struct ixd_rrd_fetched *f);
/* The number of rows of f. */
size_t ixd_rrd_fetched_rows(const struct ixd_rrd_fetched *f);

/*
 * Renders a PNG of argv (rrdtool graph's arguments after the file name) to memory: *png
 * (malloc'd, the caller frees) and *len. rrdcached: its address, so that rrdtool flushes what
 * it holds of the files first (NULL: none). The graph thread only. 0, or -1 with err.
 */
int ixd_rrd_graph(int argc, const char *const *argv, const char *rrdcached, void **png, size_t *len,
                  char *err, size_t errlen);

#endif
