/*
 * The series an RRD output keeps (docs/internals/rrd.md): what each is kept for (its key), its
 * name (the id the API serves it under, and the file's name without ".rrd"), and its columns.
 *
 *   exporter~COLLECTOR~ADDRESS               flows, packets, octets per second
 *   domain~COLLECTOR~ADDRESS~ODID            the same per observation domain
 *   interface~COLLECTOR~ADDRESS~in|out~IF    the same per ingress/egress interface
 *   collector~NAME                           records, seq_lost, errors, drops per second
 *   pipeline~NAME                            records, out, dropped, failed per second
 *   output~NAME                              records, dropped per second
 *
 * An IPv6 address is written with '-' for ':' (a file name rrdtool's graph arguments take as
 * they are); names are config names (letters, digits, '-', '_', '.'), so '~' separates.
 */
#ifndef IXD_RRD_SERIES_H
#define IXD_RRD_SERIES_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"

enum ixd_rrd_kind {
    IXD_RRD_EXPORTER = 0,
    IXD_RRD_DOMAIN,
    IXD_RRD_INTERFACE,
    IXD_RRD_COLLECTOR,
    IXD_RRD_PIPELINE,
    IXD_RRD_OUTPUT,
    IXD_RRD_KINDS,
};

/* Columns at most (a collector's four). */
#define IXD_RRD_COLUMNS 4
/* A series name at most, NUL included. */
#define IXD_RRD_ID_MAX 192

/* What a series is kept for. Compared and hashed as bytes: zero it before filling it. */
struct ixd_rrd_key {
    uint8_t kind;            /* enum ixd_rrd_kind */
    uint8_t dir;             /* interface: 0 in (ingress), 1 out (egress) */
    uint16_t pad;            /* zero */
    uint32_t num;            /* domain: the observation domain; interface: its index */
    struct in6_addr addr;    /* traffic kinds: the exporter (IPv4 mapped) */
    char name[IXD_NAME_MAX]; /* traffic kinds: the collector; else the collector, pipeline or
                                output named */
};

/* "exporter", "domain", ... */
const char *ixd_rrd_kind_name(enum ixd_rrd_kind kind);
/* 1 for the kinds counted from records (exporter, domain, interface): ABSOLUTE columns of
 * counts per step; 0 for the health kinds, DERIVE columns of cumulative counters. */
int ixd_rrd_kind_traffic(enum ixd_rrd_kind kind);
/* The kind's columns (their data source names); returns how many. */
unsigned ixd_rrd_kind_columns(enum ixd_rrd_kind kind, const char *const **names);

/* The exporter address of a traffic key as text ("192.0.2.1", "2001:db8::1"). */
void ixd_rrd_key_address(const struct ixd_rrd_key *k, char *out, size_t outlen);
/* The series' name into out (IXD_RRD_ID_MAX bytes is enough); 0, or -1 when it does not fit. */
int ixd_rrd_key_id(const struct ixd_rrd_key *k, char *out, size_t outlen);
/* An address as text ("192.0.2.1", "2001:db8::1") as a key holds it (IPv4 mapped); 0 or -1. */
int ixd_rrd_key_parse_address(const char *text, struct in6_addr *out);
/* The key of a series name; 0, or -1 when id is not one (a file in the directory that is not
 * a series: left alone). */
int ixd_rrd_key_parse(const char *id, struct ixd_rrd_key *k);

#endif
