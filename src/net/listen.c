#include "net/listen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"

#define TCP_BACKLOG 256
#define IXD_DEFAULT_UDP_RCVBUF (8 << 20)

static void
address_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN];

    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(s4->sin_port));
    }
}

/*
 * Asks for the receive buffer; as root SO_RCVBUFFORCE passes net.core.rmem_max. UDP gets
 * IXD_DEFAULT_UDP_RCVBUF unless configured: the kernel's 208 KiB default holds ~3 ms of a busy
 * exporter. Only a configured size that the kernel cut short is worth a warning.
 */
static void
set_rcvbuf(int fd, const struct ixd_listen_spec *c, int first)
{
    int want, got = 0;
    socklen_t len = sizeof(got);

    if (c->receive_buffer == 0 && c->stream) {
        return;
    }
    want = c->receive_buffer != 0 ? (int)c->receive_buffer : IXD_DEFAULT_UDP_RCVBUF;
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &want, sizeof(want)) == -1) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &want, sizeof(want));
    }
    /* Linux reports twice the usable size it granted */
    if (first && c->receive_buffer != 0 && getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &got, &len) == 0 &&
        got / 2 < want) {
        log_warn("collector %s: receive buffer is %d bytes, not the %d asked for "
                 "(raise net.core.rmem_max)",
                 c->collector, got / 2, want);
    }
}

static int
open_one(const struct ixd_listen_spec *c, const struct sockaddr_storage *addr, socklen_t addrlen,
         int first, char *err, size_t errlen)
{
    int type = c->stream ? SOCK_STREAM : SOCK_DGRAM;
    int fd, on = 1, off = 0;

    fd = socket(addr->ss_family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd == -1) {
        snprintf(err, errlen, "cannot create socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on)) == -1) {
        snprintf(err, errlen, "cannot set SO_REUSEPORT: %s", strerror(errno));
        goto fail;
    }
    if (addr->ss_family == AF_INET6 && c->addr->any) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (type == SOCK_DGRAM) {
        /* the kernel then reports its drop count with every datagram */
        setsockopt(fd, SOL_SOCKET, SO_RXQ_OVFL, &on, sizeof(on));
    }
    set_rcvbuf(fd, c, first);
    if (bind(fd, (const struct sockaddr *)addr, addrlen) == -1) {
        char text[80];
        address_text(addr, text, sizeof(text));
        snprintf(err, errlen, "cannot bind %s %s: %s", type == SOCK_DGRAM ? "udp" : "tcp", text,
                 strerror(errno));
        goto fail;
    }
    if (type == SOCK_STREAM && listen(fd, TCP_BACKLOG) == -1) {
        snprintf(err, errlen, "cannot listen: %s", strerror(errno));
        goto fail;
    }
    return fd;
fail:
    on = errno;
    close(fd);
    errno = on;
    return -1;
}

/* IPv4 wildcard with the collector's port, for hosts without IPv6. */
static void
ipv4_any(const struct ixd_listen_spec *c, struct sockaddr_storage *addr, socklen_t *len)
{
    const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)&c->addr->addr;
    struct sockaddr_in *s4 = (struct sockaddr_in *)addr;

    memset(addr, 0, sizeof(*addr));
    s4->sin_family = AF_INET;
    s4->sin_addr.s_addr = htonl(INADDR_ANY);
    s4->sin_port = s6->sin6_port;
    *len = sizeof(*s4);
}

int
ixd_listen_open(const struct ixd_listen_spec *c, unsigned n, int *fds, char *bound, size_t boundlen,
                char *err, size_t errlen)
{
    struct sockaddr_storage addr = c->addr->addr;
    socklen_t addrlen = c->addr->addrlen;
    unsigned i;

    for (i = 0; i < n; i++) {
        fds[i] = -1;
    }
    for (i = 0; i < n; i++) {
        fds[i] = open_one(c, &addr, addrlen, i == 0, err, errlen);
        if (fds[i] == -1 && i == 0 && c->addr->any && addr.ss_family == AF_INET6 &&
            (errno == EAFNOSUPPORT || errno == EADDRNOTAVAIL)) {
            log_warn("collector %s: this host has no IPv6; listening on IPv4 only", c->collector);
            ipv4_any(c, &addr, &addrlen);
            fds[i] = open_one(c, &addr, addrlen, 1, err, errlen);
        }
        if (fds[i] == -1) {
            ixd_listen_close(fds, n);
            return -1;
        }
    }
    address_text(&addr, bound, boundlen);
    return 0;
}

void
ixd_listen_close(int *fds, unsigned n)
{
    unsigned i;

    for (i = 0; i < n; i++) {
        if (fds[i] != -1) {
            close(fds[i]);
            fds[i] = -1;
        }
    }
}
