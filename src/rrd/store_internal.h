/* What store.c and its helpers (store_hw.c, store_catalog.c) share. Writer thread only. */
#ifndef IXD_RRD_STORE_INTERNAL_H
#define IXD_RRD_STORE_INTERNAL_H

#include <glib.h>
#include <stdint.h>

#include "core/board.h"
#include "core/log.h"
#include "rrd/alerts.h"
#include "rrd/creator.h"
#include "rrd/store.h"

/* Steps a series' counts may wait for their file or for a round: 5 min 20 s. */
#define PENDING 32

enum series_state {
    S_NEW = 0,  /* no file yet: asked for when the first round comes */
    S_CREATING, /* asked for */
    S_FAILED,   /* creating or reading it failed: asked again at retry_at */
    S_KNOWN,    /* a file from before: its last update is read before the first row */
    S_READY,    /* written every step */
    S_REFUSED,  /* max-files: never gets a file */
};

struct series {
    struct ixd_rrd_key key; /* first: the table's key */
    char id[IXD_RRD_ID_MAX];
    char *path;
    uint8_t state;
    uint8_t hw;      /* the file has the Holt-Winters archives */
    uint8_t traffic; /* counted from records; else health */
    uint8_t columns;
    int64_t next;      /* start of the first step not written (traffic; 0: no count yet) */
    int64_t file_last; /* the file's last update; -1: to be read */
    int64_t start;     /* the time the file was asked to start at */
    int64_t retry_at;
    uint32_t backoff;
    unsigned head;                    /* the ring slot of step next */
    uint64_t pend[PENDING][3];        /* counts of steps next, next + step, ... */
    uint64_t health[IXD_RRD_COLUMNS]; /* the latest sample (health) */
    int64_t health_t;                 /* its time; 0: none since the last row */
    /* exporters: alerts */
    int64_t last_traffic;     /* end of the last step with records (0: none in this process) */
    uint32_t low[3], high[3]; /* violations of the band over the last steps, a bit each */
    uint64_t seq_lost, seq_records; /* as last sampled */
    int seq_known;
};

struct ixd_rrd_store {
    const struct ixd_rrd_settings *s;
    char *output;
    char *directory;                 /* absolute */
    struct ixd_rrdc *conn;           /* the writer's rrdcached connection; NULL: direct */
    struct ixd_rrd_creator *creator; /* NULL: files are created in the round */
    GHashTable *series;              /* struct ixd_rrd_key -> struct series */
    size_t files;                    /* series that hold or are getting a file */
    size_t refused_kept;             /* refused series remembered (bounded) */
    struct ixd_rrd_alerts *alerts;
    struct ixd_board_slot *slot; /* the catalogue */
    int catalog_changed;
    int64_t sampled_at; /* the last sample's step */
    struct ixd_ratelimit log_create, log_update;
    struct ixd_rrd_store_stats c; /* the writer's; relaxed for other threads */
};

/* store_hw.c: what the Holt-Winters archives say about the rows just written to exporter s
 * (times t[0..n-1], counts v), through rows or, with rrdcached, a fetch. */
void ixd_rrd_store_hw_rows(struct ixd_rrd_store *st, struct series *s, size_t n, const int64_t *t,
                           const uint64_t *v, int direct_rows_seen, const double *rows);
/* Rows of HW values kept while librrd reports them: [row][cf][column]. */
enum { HW_AVERAGE = 0, HW_PREDICT, HW_DEVPREDICT, HW_FAILURES, HW_CFS };
/* The row callback that fills such a table (arg: struct hw_rows). */
struct hw_rows {
    size_t n;
    const int64_t *t;
    double *v; /* n * HW_CFS * 3, NaN where nothing came */
    int seen;
};
void ixd_rrd_store_hw_row(void *arg, int64_t t, const char *cf, unsigned column, double value);
/* Silent exporters at due. */
void ixd_rrd_store_silent(struct ixd_rrd_store *st, struct series *s, int64_t due);

/* store_catalog.c: posts the list of series when it changed. */
void ixd_rrd_store_post_catalog(struct ixd_rrd_store *st);

#endif
