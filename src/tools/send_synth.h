/* Synthetic IPFIX records for ipfixd-send. The field values are a pure function of the record
 * index k, so tests can recompute every record (formulas: docs/ipfixd-send.md). */
#ifndef IXD_SEND_SYNTH_H
#define IXD_SEND_SYNTH_H

#include <stddef.h>
#include <stdint.h>

#include "send_pace.h"

#define SYNTH_TEMPLATE_ID 256u
#define SYNTH_DEFAULT_RPM_V4 21u /* 16 + 4 + 21 * 64 = 1364 bytes */
#define SYNTH_DEFAULT_RPM_V6 13u /* 16 + 4 + 13 * 100 = 1320 bytes */

struct synth_cfg {
    uint64_t count;       /* records to send */
    uint64_t start;       /* index of the first record */
    uint64_t rate;        /* records per second, 0 = unpaced */
    unsigned rec_per_msg; /* already capped with synth_max_records() */
    unsigned exporters;
    unsigned template_interval; /* seconds; UDP only; 0 = only at start */
    uint32_t odid;
    int ipv6;
    int tcp;
};

/* Bytes per data record: 64 (IPv4 template) or 100 (IPv6 template). */
unsigned synth_record_len(int ipv6);

/* Most records that fit a message of max_msg bytes. */
unsigned synth_max_records(int ipv6, size_t max_msg);

/* Write record k at p (synth_record_len() bytes). */
void synth_encode_record(uint8_t *p, uint64_t k, int ipv6);

/* Send the configured records; *records receives how many went out. Returns 0/-1. */
int synth_run(const struct synth_cfg *cfg, struct tx *tx, uint64_t *records);

#endif
