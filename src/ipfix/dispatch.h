/*
 * What arrives on a collector's socket may be IPFIX or NetFlow v9/v5 (rewritten as IPFIX,
 * netflow.h): the version field tells them apart. Every input that carries datagrams or a
 * stream of messages hands them here.
 */
#ifndef IXD_IPFIX_DISPATCH_H
#define IXD_IPFIX_DISPATCH_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/decode.h"
#include "ipfix/session.h"

/*
 * One datagram of UDP session s, received at now (monotonic) and usec (wall clock): NetFlow v9
 * or v5 by its version, IPFIX otherwise. Records go where s's collector sends them
 * (ixd_sessions_deliver_to); every outcome is counted on s.
 */
void ixd_datagram_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *data,
                          size_t len, double now, int64_t usec);

#endif
