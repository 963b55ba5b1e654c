/*
 * What an RRD output posts on the board (core/board.h) for the API: its list of series with
 * their files, and its alerts. Both are immutable once posted; the output posts a new one
 * when something changed (at most once a step). The API reads them and asks ixd_rrd_query_*()
 * for a series' points or graph (query.c), on its own threads.
 */
#ifndef IXD_RRD_CATALOG_H
#define IXD_RRD_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include "rrd/rrdlib.h"
#include "rrd/series.h"

#define IXD_RRD_SERIES_TOPIC "rrd.series" /* a struct ixd_rrd_catalog per output */
#define IXD_RRD_ALERTS_TOPIC "rrd.alerts" /* a struct ixd_rrd_alert_list per output */

struct ixd_rrd_entry {
    char id[IXD_RRD_ID_MAX];
    struct ixd_rrd_key key;
    char *path;
    int hw;      /* the file has the Holt-Winters archives */
    int written; /* this process writes it (else a file from before, kept for its history) */
};

struct ixd_rrd_catalog {
    char *output;
    char *directory;
    char *rrdcached;   /* NULL: the files are read directly */
    double deviations; /* the band's half-width in deviations (graphs) */
    size_t n;
    struct ixd_rrd_entry *entries; /* sorted by id */
};

/* The entry of series id, or NULL. */
const struct ixd_rrd_entry *ixd_rrd_catalog_find(const struct ixd_rrd_catalog *c, const char *id);
/* A board item's release. */
void ixd_rrd_catalog_free(void *catalog);

enum ixd_rrd_alert_kind {
    IXD_ALERT_LOW_TRAFFIC = 0, /* below the Holt-Winters band */
    IXD_ALERT_HIGH_TRAFFIC,    /* above it (alert-on-high) */
    IXD_ALERT_SILENT,          /* no records for silent-after */
    IXD_ALERT_SEQUENCE_LOSS,   /* sequence loss above sequence-loss */
    IXD_ALERT_KINDS,
};

/* "low-traffic", "high-traffic", "silent", "sequence-loss" */
const char *ixd_rrd_alert_kind_name(enum ixd_rrd_alert_kind kind);

struct ixd_rrd_alert {
    uint64_t id; /* increasing, per output */
    enum ixd_rrd_alert_kind kind;
    int active;
    struct ixd_rrd_key exporter; /* an IXD_RRD_EXPORTER key: the collector and address */
    char address[48];            /* the exporter's as text */
    char series[IXD_RRD_ID_MAX]; /* the exporter's series */
    int64_t since;               /* UNIX seconds: the step the condition began */
    int64_t until;               /* when it was resolved (0 while active) */
    int64_t last;                /* the last step the condition held */
    /* low- and high-traffic: the rate (column) that left the band, at the step the alert was
     * raised */
    char column[16];
    double observed, expected, lower, upper;
    /* sequence-loss: over the step it was raised at */
    uint64_t lost, records;
    char summary[256]; /* one line: what and why, with the numbers */
};

struct ixd_rrd_alert_list {
    char *output;
    size_t n;
    struct ixd_rrd_alert *alerts; /* active ones first, oldest first; then resolved ones,
                                     latest first */
};

void ixd_rrd_alert_list_free(void *list);

/*
 * Reads series e of catalogue c: cf ("AVERAGE", "MAX") from start to end, at the archive whose
 * step is the smallest at least step that fits (end - start) / step in max_points rows (a
 * longer answer's rows are consolidated by groups). Any thread but the writer's (opens its own
 * rrdcached connection). 0, or -1 with err.
 */
int ixd_rrd_query_fetch(const struct ixd_rrd_catalog *c, const struct ixd_rrd_entry *e,
                        const char *cf, int64_t start, int64_t end, unsigned long step,
                        size_t max_points, struct ixd_rrd_fetched *out, char *err, size_t errlen);

/* A PNG of series e from start to end, width x height pixels: a traffic series in bits/s
 * with its Holt-Winters band and failures when it has them, a health series' columns. The
 * graph thread only (ixd_rrd_graph). 0, or -1 with err. */
int ixd_rrd_query_graph(const struct ixd_rrd_catalog *c, const struct ixd_rrd_entry *e,
                        int64_t start, int64_t end, unsigned width, unsigned height, void **png,
                        size_t *len, char *err, size_t errlen);

#endif
