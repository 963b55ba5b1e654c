#include "net/udp.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int
ixd_udp_rx_init(struct ixd_udp_rx *rx)
{
    memset(rx, 0, sizeof(*rx));
    rx->slots = malloc((size_t)IXD_UDP_BATCH * IXD_UDP_SLOT);
    return rx->slots != NULL ? 0 : -1;
}

void
ixd_udp_rx_release(struct ixd_udp_rx *rx)
{
    free(rx->slots);
    rx->slots = NULL;
}

int
ixd_udp_rx_read(struct ixd_udp_rx *rx, int fd)
{
    int i, n;

    for (i = 0; i < IXD_UDP_BATCH; i++) {
        struct msghdr *h = &rx->msgs[i].msg_hdr;
        rx->iov[i].iov_base = rx->slots + (size_t)i * IXD_UDP_SLOT;
        rx->iov[i].iov_len = IXD_UDP_SLOT;
        h->msg_iov = &rx->iov[i];
        h->msg_iovlen = 1;
        h->msg_name = &rx->from[i];
        h->msg_namelen = sizeof(rx->from[i]);
        h->msg_control = rx->control[i];
        h->msg_controllen = sizeof(rx->control[i]);
        h->msg_flags = 0;
    }
    do {
        n = recvmmsg(fd, rx->msgs, IXD_UDP_BATCH, MSG_DONTWAIT, NULL);
    } while (n == -1 && errno == EINTR);
    if (n == -1) {
        return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
    }
    rx->drops_valid = 0;
    for (i = 0; i < n; i++) {
        struct msghdr *h = &rx->msgs[i].msg_hdr;
        struct cmsghdr *c;

        rx->got[i].data = rx->iov[i].iov_base;
        rx->got[i].len = rx->msgs[i].msg_len;
        rx->got[i].truncated = (h->msg_flags & MSG_TRUNC) != 0;
        rx->got[i].from = (const struct sockaddr *)&rx->from[i];
        for (c = CMSG_FIRSTHDR(h); c != NULL; c = CMSG_NXTHDR(h, c)) {
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SO_RXQ_OVFL) {
                memcpy(&rx->drops, CMSG_DATA(c), sizeof(rx->drops));
                rx->drops_valid = 1;
            }
        }
    }
    return n;
}
