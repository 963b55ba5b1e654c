/* The record checks shared by the IPFIX fuzz targets (fuzz_message, fuzz_stream). */
#ifndef IXD_FUZZ_RECORDS_H
#define IXD_FUZZ_RECORDS_H

#include "fuzz.h"
#include "ipfix/decode.h"

/* The longest collector name the config accepts (63 bytes): the JSON prefix at its longest. */
#define FUZZ_COLLECTOR "fuzz-collector-with-the-longest-name-the-config-allows_63-bytes"

/* What the deliver callback checks records against; reset per message. */
struct fuzz_sink {
    const uint8_t *msg_lo, *msg_hi; /* records must lie in the message being processed */
    size_t records;                 /* records delivered since the last reset */
    size_t late;                    /* of which held sets decoded late (in their own copies) */
};

/* The template rules every IPFIX target uses (registry built once per process). */
const struct ixd_template_rules *fuzz_rules(void);

/* The daemon's default limits, or tiny ones that every eviction and refusal path reaches. */
void fuzz_limits(struct ixd_session_limits *l, int small, uint32_t template_lifetime);

/* A decoder (too big for the stack) whose deliver callback runs fuzz_check_batch on sink. */
struct ixd_decoder *fuzz_decoder(struct fuzz_sink *sink);

/*
 * Checks every record of a batch: it lies inside the message (or its held copy when late), each
 * field inside the record, and its JSON line (prefix + record) fits ixd_json_bound(), ends in
 * "}\n" and is valid JSON (strings valid UTF-8).
 */
void fuzz_check_batch(void *arg, const struct ixd_batch *batch);

/* ixd_message_process with the sink's bounds set and the delivered counts checked. */
int fuzz_process(struct ixd_decoder *dec, struct fuzz_sink *sink, struct ixd_session *s,
                 const uint8_t *msg, size_t len, double now);

/* One UDP datagram as the worker handles it: NetFlow v9/v5 rewritten (the rewrite also checked
 * on its own), anything else through fuzz_process. */
int fuzz_datagram(struct ixd_decoder *dec, struct fuzz_sink *sink, struct ixd_session *s,
                  const uint8_t *pkt, size_t len, double now);

#endif
