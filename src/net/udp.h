/* Batched datagram receive: recvmmsg into per-worker buffers, with truncation flags and the
 * kernel's drop counter (SO_RXQ_OVFL). */
#ifndef IXD_NET_UDP_H
#define IXD_NET_UDP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define IXD_UDP_BATCH 32
#define IXD_UDP_SLOT 65536

struct ixd_datagram {
    const uint8_t *data;
    size_t len;
    int truncated;
    const struct sockaddr *from;
};

struct ixd_udp_rx {
    struct mmsghdr msgs[IXD_UDP_BATCH];
    struct iovec iov[IXD_UDP_BATCH];
    struct sockaddr_storage from[IXD_UDP_BATCH];
    char control[IXD_UDP_BATCH][64];
    uint8_t *slots; /* IXD_UDP_BATCH * IXD_UDP_SLOT bytes */
    struct ixd_datagram got[IXD_UDP_BATCH];
    uint32_t drops; /* latest SO_RXQ_OVFL value of the last socket read */
    int drops_valid;
};

int ixd_udp_rx_init(struct ixd_udp_rx *rx);
void ixd_udp_rx_release(struct ixd_udp_rx *rx);
/* Reads up to IXD_UDP_BATCH datagrams: count (0 = nothing waiting), or -1 on error. */
int ixd_udp_rx_read(struct ixd_udp_rx *rx, int fd);

#endif
