/*
 * NetFlow v9 (RFC 3954) and v5, on the same sockets as IPFIX: each packet is rewritten into an
 * IPFIX message and decoded by the IPFIX path, so a NetFlow record looks like an IPFIX record to
 * every output. See docs/internals/netflow.md for the mapping.
 */
#ifndef IXD_IPFIX_NETFLOW_H
#define IXD_IPFIX_NETFLOW_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/decode.h"

#define IXD_NETFLOW5_VERSION 5
#define IXD_NETFLOW9_VERSION 9

/*
 * Rewrites a NetFlow v9 packet as an IPFIX message into out (outlen >= 65535). Field types
 * >= 32768 become enterprise elements (pen, type - 32768). Returns the message length, or 0 with
 * *why when the packet cannot be read. *sequence, *uptime_ms and *unix_secs are the header's.
 */
size_t ixd_netflow9_rewrite(const uint8_t *pkt, size_t len, uint32_t pen, uint8_t *out,
                            size_t outlen, uint32_t *sequence, uint32_t *uptime_ms,
                            uint32_t *unix_secs, enum ixd_error *why);

/* The same for NetFlow v5: a template describing the v5 record layout, then the records. */
size_t ixd_netflow5_rewrite(const uint8_t *pkt, size_t len, uint8_t *out, size_t outlen,
                            int64_t *system_init_ms, enum ixd_error *why);

/*
 * Decodes a NetFlow v9 or v5 packet of session s (any version other than 5 and 9 is an error
 * counted as `version`). Returns the number of records, or -1.
 */
int ixd_netflow_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *pkt,
                        size_t len, double now, int64_t received_usec);

#endif
