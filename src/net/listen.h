/* Listening sockets: one SO_REUSEPORT socket per worker for each collector, opened by the
 * control thread and kept across reloads while the collector's settings do not change. */
#ifndef IXD_NET_LISTEN_H
#define IXD_NET_LISTEN_H

#include <stddef.h>

#include "core/config.h"

/*
 * Opens n sockets for collector c into fds (all -1 on failure, with a message in err). A "*"
 * address binds IPv6 dual-stack, falling back to IPv4 with a warning when the host has no
 * IPv6. *bound receives the address actually used, as text.
 */
int ixd_listen_open(const struct ixd_config_collector *c, unsigned n, int *fds, char *bound,
                    size_t boundlen, char *err, size_t errlen);
void ixd_listen_close(int *fds, unsigned n);

#endif
