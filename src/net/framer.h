/*
 * IPFIX over a byte stream (RFC 7011 section 10.4): messages are cut out of whatever the
 * socket delivers, split across reads at any byte. The framer only trusts the version and the
 * length field; a bad header means framing is lost for good.
 */
#ifndef IXD_NET_FRAMER_H
#define IXD_NET_FRAMER_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define IXD_FRAMER_SIZE 65536

struct ixd_framer {
    size_t start; /* first byte not yet handed out */
    size_t have;  /* bytes in buf */
    uint8_t buf[IXD_FRAMER_SIZE];
};

void ixd_framer_init(struct ixd_framer *f);
/* Room to read into, after compacting what is left. */
uint8_t *ixd_framer_space(struct ixd_framer *f, size_t *room);
void ixd_framer_commit(struct ixd_framer *f, size_t n);
/*
 * The next complete message: 1 with *msg and *len (valid until the next space() call), 0 when more
 * bytes are needed, -1 when the header is not IPFIX (version 10, length >= 16).
 */
int ixd_framer_next(struct ixd_framer *f, const uint8_t **msg, size_t *len);
/* Bytes of an incomplete message still held (discarded when the stream ends). */
size_t ixd_framer_pending(const struct ixd_framer *f);

#endif
