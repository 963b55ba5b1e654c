/*
 * How a collected record is written back as IPFIX by the export output: an export plan per
 * source template says which fields change (delta times, NetFlow uptimes) and what is appended
 * (the original exporter, RFC 7119); everything else is copied byte for byte. Pure functions,
 * no state: any thread may call them. See docs/internals/export.md.
 */
#ifndef IXD_OUTPUT_IPFIX_ENCODE_H
#define IXD_OUTPUT_IPFIX_ENCODE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

/* Rewritten fields per template; further ones (a template repeating 158/159/21/22 more often
 * than this) are copied as they are. */
#define IXD_XPLAN_MAX_CONV 8

enum ixd_xconv {
    IXD_XCONV_DELTA = 1,  /* flowStart/EndDeltaMicroseconds: shifted to the new export time */
    IXD_XCONV_UPTIME = 2, /* flowStart/EndSysUpTime (4 bytes) -> flowStart/EndMilliseconds (8) */
};

enum ixd_xorig {
    IXD_XORIG_NONE = 0,
    IXD_XORIG_V4 = 1, /* + originalExporterIPv4Address (403), originalObservationDomainId (405) */
    IXD_XORIG_V6 = 2, /* + originalExporterIPv6Address (404), originalObservationDomainId (405) */
};

struct ixd_xplan {
    uint16_t n_conv;
    struct {
        uint16_t field; /* index in the source template, in template order */
        uint8_t op;     /* enum ixd_xconv */
    } conv[IXD_XPLAN_MAX_CONV];
    uint8_t orig;            /* enum ixd_xorig */
    uint16_t extra;          /* bytes an exported record is longer than the original */
    uint16_t template_bytes; /* length of the export template record */
};

/* Plans the export of records of t. convert_uptime: the source knows the exporter's boot time
 * (NetFlow), so uptimes become absolute times. */
void ixd_xplan_init(struct ixd_xplan *p, const struct ixd_template *t, int convert_uptime,
                    enum ixd_xorig orig);
/* Writes the export template record for t under template ID tid. Returns its length
 * (p->template_bytes), or 0 if out is too small. */
size_t ixd_xplan_template(const struct ixd_xplan *p, const struct ixd_template *t, uint16_t tid,
                          uint8_t *out, size_t outlen);
/* Writes record r (of the template p was made for) as exported in a message whose export time
 * is export_time. out must hold r->length + p->extra bytes; returns that length. */
size_t ixd_xplan_record(const struct ixd_xplan *p, const struct ixd_record *r,
                        const struct ixd_source *src, uint32_t export_time, uint8_t *out);

#endif
