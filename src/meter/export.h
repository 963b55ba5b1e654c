/*
 * The meter's records (meter-internal): one field list from which both the templates and the
 * records are written, so that they cannot disagree. A template per layout (IPv4 or IPv6, with
 * or without VLAN, MAC addresses, tunnel details, application labels) is compiled on first use
 * with ixd_template_parse and kept: its serial stays the same for the meter's life. Records are
 * written into a batch handed on when full or when asked.
 */
#ifndef IXD_METER_EXPORT_H
#define IXD_METER_EXPORT_H

#include <stdint.h>

#include "ipfix/template.h"
#include "meter/flow.h"
#include "meter/meter.h"

#define IXD_MEXPORT_BATCH 64
#define IXD_MEXPORT_RECORD_MAX 320 /* the longest layout with a 64-byte application name */
#define IXD_MEXPORT_FIELDS_MAX 48
#define IXD_MEXPORT_LAYOUTS 128
#define IXD_MEXPORT_NAME_MAX 64

/* What a flow record holds besides the flow itself */
struct ixd_mflow {
    const struct ixd_flow *f;
    enum ixd_flow_end reason;
    /* tunnels */
    uint32_t vni;
    uint64_t outer_octets[2];
    uint8_t outer_ipver; /* 0: no outer addresses exported */
    const uint8_t *outer_src, *outer_dst;
    /* DPI: has_app 0 leaves the application fields out */
    int has_app;
    uint16_t app_id;
    const char *app_name;
};

struct ixd_mexport {
    struct ixd_template_rules rules;
    struct ixd_template *layouts[IXD_MEXPORT_LAYOUTS];
    struct ixd_template *options;
    uint32_t own_pen; /* of the tunnel elements: elements.enterprise */
    struct ixd_source src;
    ixd_meter_deliver_fn deliver;
    ixd_meter_template_fn on_template;
    void *arg;
    uint64_t *records, *options_records; /* counters */
    size_t n, used;
    struct ixd_record recs[IXD_MEXPORT_BATCH];
    uint16_t offsets[IXD_MEXPORT_BATCH][IXD_MEXPORT_FIELDS_MAX];
    uint16_t lengths[IXD_MEXPORT_BATCH][IXD_MEXPORT_FIELDS_MAX];
    uint8_t buf[IXD_MEXPORT_BATCH * IXD_MEXPORT_RECORD_MAX];
};

/* Sets up x; its source says collector (borrowed), exporter (copied: its last 47 bytes when
 * longer) and odid. */
void ixd_mexport_init(struct ixd_mexport *x, const struct ixd_ie_registry *reg,
                      const char *collector, const char *exporter, uint32_t odid,
                      ixd_meter_deliver_fn deliver, ixd_meter_template_fn on_template, void *arg,
                      uint64_t *records, uint64_t *options_records);
void ixd_mexport_release(struct ixd_mexport *x);

/* Writes the record of a flow that ended at now_usec (the meter's clock). 0, or -1 when its
 * template cannot be compiled (no memory). */
int ixd_mexport_flow(struct ixd_mexport *x, const struct ixd_mflow *v, int64_t now_usec);
/* Writes the options record that maps application id to its name (RFC 6759). */
int ixd_mexport_app(struct ixd_mexport *x, uint16_t id, const char *name, int64_t now_usec);
/* Hands on the batch. */
void ixd_mexport_deliver(struct ixd_mexport *x);

#endif
