/*
 * The receive floor: the least a UDP collector can do per datagram on this machine. It binds a
 * UDP socket, waits in poll() and reads with non-blocking recvmmsg in batches of 32 into 64 KiB
 * slots until the socket is empty (as ipfixd does), and only counts datagrams and bytes. Stops
 * on SIGTERM/SIGINT and prints its counts to stderr.
 *
 * usage: ixd-floor PORT [RCVBUF_BYTES]
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define SLOT 65536

static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int
open_socket(const char *port_text, const char *rcvbuf_text)
{
    struct sockaddr_in6 addr;
    char *end;
    long port = strtol(port_text, &end, 10);
    int fd, rcvbuf = rcvbuf_text != NULL ? (int)strtol(rcvbuf_text, NULL, 10) : 8 << 20;
    int off = 0;

    if (*end != '\0' || port <= 0 || port > 65535) {
        fprintf(stderr, "ixd-floor: bad port '%s'\n", port_text);
        return -1;
    }
    fd = socket(AF_INET6, SOCK_DGRAM, 0);
    if (fd == -1) {
        perror("ixd-floor: socket");
        return -1;
    }
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    if (setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1) {
        perror("ixd-floor: bind");
        close(fd);
        return -1;
    }
    return fd;
}

int
main(int argc, char **argv)
{
    static struct mmsghdr msgs[BATCH];
    static struct iovec iov[BATCH];
    static struct sockaddr_storage from[BATCH];
    unsigned long long datagrams = 0, bytes = 0;
    struct sigaction sa;
    char *slots;
    int fd, i;

    if (argc < 2) {
        fprintf(stderr, "usage: ixd-floor PORT [RCVBUF_BYTES]\n");
        return 2;
    }
    fd = open_socket(argv[1], argc > 2 ? argv[2] : NULL);
    slots = malloc((size_t)BATCH * SLOT);
    if (fd == -1 || slots == NULL) {
        return 1;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: recvmmsg returns EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    fprintf(stderr, "ixd-floor: listening\n");
    while (!stop) {
        int n;
        for (i = 0; i < BATCH; i++) {
            iov[i].iov_base = slots + (size_t)i * SLOT;
            iov[i].iov_len = SLOT;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
            msgs[i].msg_hdr.msg_name = &from[i];
            msgs[i].msg_hdr.msg_namelen = sizeof(from[i]);
        }
        n = recvmmsg(fd, msgs, BATCH, MSG_DONTWAIT, NULL);
        if (n == -1) {
            if (errno == EAGAIN) {
                struct pollfd pfd = {.fd = fd, .events = POLLIN};
                poll(&pfd, 1, -1);
                continue;
            }
            if (errno == EINTR) {
                continue;
            }
            perror("ixd-floor: recvmmsg");
            return 1;
        }
        for (i = 0; i < n; i++) {
            bytes += msgs[i].msg_len;
        }
        datagrams += (unsigned long long)n;
    }
    fprintf(stderr, "ixd-floor: datagrams=%llu bytes=%llu\n", datagrams, bytes);
    free(slots);
    close(fd);
    return 0;
}
