/*
 * ClickHouse rows of records (docs/sinks.md#clickhouse): the catalogue of what a column may
 * hold, a record written as a row in RowBinary or JSONEachRow, and the CREATE TABLE statements
 * for a set of columns. Pure functions over the record model: any thread; a plan cache belongs
 * to one thread.
 */
#ifndef IXD_OUTPUT_CLICKHOUSE_COLUMNS_H
#define IXD_OUTPUT_CLICKHOUSE_COLUMNS_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "ipfixd/record.h"

#define IXD_CH_COLUMNS_MAX 32
#define IXD_CH_NAME_MAX 64

enum ixd_ch_format { IXD_CH_ROWBINARY = 0, IXD_CH_JSON_EACH_ROW };

/* One column: what it holds (an index into the catalogue) and its name. */
struct ixd_ch_column {
    unsigned source;
    char name[IXD_CH_NAME_MAX];
};

struct ixd_ch_columns {
    unsigned n;
    struct ixd_ch_column c[IXD_CH_COLUMNS_MAX];
};

/* The catalogue index of a source name ("octetDeltaCount"), or -1. */
int ixd_ch_source_find(const char *name);
/* The names of every source, comma-separated, into out. */
void ixd_ch_source_names(char *out, size_t outlen);
/* The default flow set: time, exporter, addresses, ports, protocol, counts, interfaces, AS
 * numbers, application. */
void ixd_ch_columns_default(struct ixd_ch_columns *cols);

/* Per template: which field each column reads. A small cache, one per thread. */
#define IXD_CH_PLANS 64
struct ixd_ch_plan {
    uint64_t serial; /* of the template; 0: empty */
    const struct ixd_template *tmpl;
    int16_t field[IXD_CH_COLUMNS_MAX]; /* -1: absent */
    uint8_t variant[IXD_CH_COLUMNS_MAX];
};
struct ixd_ch_plans {
    struct ixd_ch_plan p[IXD_CH_PLANS];
};

/* The most bytes a row of cols takes in format f. */
size_t ixd_ch_row_bound(const struct ixd_ch_columns *cols, enum ixd_ch_format f);

/*
 * Writes record r of src as one row of cols at out (which has ixd_ch_row_bound() bytes), counts
 * multiplied by rate. Returns the bytes written.
 */
size_t ixd_ch_row(const struct ixd_ch_columns *cols, enum ixd_ch_format f,
                  struct ixd_ch_plans *plans, const struct ixd_record *r,
                  const struct ixd_source *src, uint32_t rate, char *out);

/* The column list of an INSERT: "(a,b,c)". */
void ixd_ch_column_list(const struct ixd_ch_columns *cols, char *out, size_t outlen);

/* What CREATE TABLE says. */
struct ixd_ch_schema {
    const char *database, *table;
    const char *cluster;      /* NULL: no Distributed table */
    const char *local_table;  /* with cluster: the shards' tables */
    const char *sharding_key; /* with cluster */
    int new_types;            /* the server has IPv4/IPv6 (19.3 and later) */
};

/* Writes the statements for cols in format f to out. */
void ixd_ch_schema_write(const struct ixd_ch_columns *cols, enum ixd_ch_format f,
                         const struct ixd_ch_schema *s, FILE *out);

/* Whether a version string ("18.16.1", "23.8.2.7") has the IPv4/IPv6 types. */
int ixd_ch_version_has_ip_types(const char *version);

#endif
