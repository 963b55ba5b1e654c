/* The validator: an IPFIX message's header and set framing, checked before it is decoded. */
#ifndef IXD_IPFIX_VALIDATE_H
#define IXD_IPFIX_VALIDATE_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/counters.h"

/*
 * Checks the message header and set framing (RFC 7011 sections 3.1 and 3.3). len is the number
 * of bytes that arrived for this message. Returns 0, or -1 with *why.
 */
int ixd_message_validate(const uint8_t *msg, size_t len, enum ixd_error *why);

#endif
