/* Listening sockets: one SO_REUSEPORT socket per worker for each collector, opened by the
 * control thread and kept across reloads while the collector's settings do not change. */
#ifndef IXD_NET_LISTEN_H
#define IXD_NET_LISTEN_H

#include <stddef.h>

#include "core/address.h"

/* What a collector listens on. */
struct ixd_listen_spec {
    const char *collector;               /* its name, for messages */
    const struct ixd_listen_addr *addr;  /* where */
    int stream;                          /* TCP; else UDP */
    size_t receive_buffer;               /* SO_RCVBUF wanted; 0 = the default (UDP: 8 MiB) */
};

/*
 * Opens n sockets for collector c into fds (all -1 on failure, with a message in err). A "*"
 * address binds IPv6 dual-stack, falling back to IPv4 with a warning when the host has no
 * IPv6. *bound receives the address actually used, as text.
 */
int ixd_listen_open(const struct ixd_listen_spec *c, unsigned n, int *fds, char *bound,
                    size_t boundlen, char *err, size_t errlen);
void ixd_listen_close(int *fds, unsigned n);

#endif
