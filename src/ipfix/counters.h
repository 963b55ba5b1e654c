/*
 * Counters kept per collector, per exporter and per observation domain. Each set is written by
 * exactly one worker thread and may be read by any thread: writes are relaxed atomic stores of
 * the owner's own value, so readers never see torn values and writers never contend.
 */
#ifndef IXD_IPFIX_COUNTERS_H
#define IXD_IPFIX_COUNTERS_H

#include <stdint.h>

#include "core/relaxed_counter.h"

/* Why a message, set or record was not decoded. Each has a counter and a name in reports. */
enum ixd_error {
    IXD_ERR_VERSION = 0,      /* RFC 7011 3.1: version is not 10 */
    IXD_ERR_MESSAGE_LENGTH,   /* 3.1: length < 16 or different from what arrived */
    IXD_ERR_TRUNCATED,        /* datagram larger than the receive buffer */
    IXD_ERR_SET_LENGTH,       /* 3.3.2: set length < 4 or past the message end */
    IXD_ERR_SET_ID,           /* 3.3.2: set ID 0, 1 or 4-255 */
    IXD_ERR_TEMPLATE_ID,      /* 3.4.1: template ID below 256 */
    IXD_ERR_TEMPLATE_LENGTH,  /* 3.4.1: template record runs past its set */
    IXD_ERR_TEMPLATE_SCOPE,   /* 3.4.2.2: scope count 0 or above the field count */
    IXD_ERR_TEMPLATE_EMPTY,   /* 3.4.1: records of this template would have length 0 */
    IXD_ERR_TEMPLATE_LIMIT,   /* more fields or templates than the configured limits */
    IXD_ERR_FIELD_LENGTH,     /* 6.2: fixed-type element with an illegal length (kept as octets) */
    IXD_ERR_NO_TEMPLATE,      /* 3.4.3 / 8: data set whose template is unknown (records lost) */
    IXD_ERR_RECORD_LENGTH,    /* 7: variable-length field runs past the set end */
    IXD_ERR_TCP_FRAMING,      /* 10.4: bad header on a stream: the connection is closed */
    IXD_ERR_CONNECTION_LIMIT, /* a TCP connection refused: limits.tcp-connections reached */
    IXD_ERR_DOMAIN_LIMIT,     /* a message of a new observation domain beyond the limit */
    IXD_ERR_NOT_ALLOWED,      /* a source outside the collector's allow-list */
    IXD_ERR_NO_MEMORY,        /* a session or template could not be allocated */
    IXD_ERR__COUNT
};

struct ixd_counters {
    uint64_t messages;
    uint64_t records;
    uint64_t bytes;
    uint64_t templates;          /* template and options template records received */
    uint64_t templates_replaced; /* a different template under a known ID */
    uint64_t templates_withdrawn;
    uint64_t templates_expired; /* UDP template lifetime ran out */
    uint64_t options_records;   /* data records of options templates (included in records) */
    uint64_t seq_lost;          /* records missing per sequence numbers */
    uint64_t seq_reordered;     /* messages that arrived behind the expected sequence */
    uint64_t seq_resets;        /* sequence jumped back far: exporter restart */
    uint64_t socket_drops;      /* datagrams the kernel dropped (SO_RXQ_OVFL) */
    uint64_t templates_evicted; /* pushed out by a template limit (least recently used) */
    uint64_t sessions_evicted;  /* UDP sessions pushed out by a session limit */
    uint64_t held_sets;         /* data sets held until their template arrived */
    uint64_t held_dropped;      /* held sets that aged out or did not fit (also no_template) */
    uint64_t late_records;      /* records decoded from held sets ("@late") */
    uint64_t forwarded;         /* datagrams repeated to a forward destination (each counted) */
    uint64_t forward_dropped;   /* datagrams a forward destination did not take */
    uint64_t errors[IXD_ERR__COUNT];
};

const char *ixd_error_name(enum ixd_error e);
/* Adds every counter of src into dst (dst is a private copy owned by the caller). */
void ixd_counters_sum(struct ixd_counters *dst, const struct ixd_counters *src);
uint64_t ixd_counters_errors(const struct ixd_counters *c);

#endif
