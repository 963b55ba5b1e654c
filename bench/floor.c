/*
 * The receive floor: the least a collector can do per message on this machine.
 *
 * UDP: binds a UDP socket, waits in poll() and reads with non-blocking recvmmsg in batches of 32
 * into 64 KiB slots until the socket is empty (as ipfixd does), and only counts datagrams and
 * bytes. TCP (-T): accepts connections and reads each stream into a 64 KiB buffer (ipfixd's
 * framer size) until the socket is empty, counting bytes and the IPFIX messages the stream
 * holds (their length fields only). With -t N, N threads each on a socket of their own bound
 * with SO_REUSEPORT, as ipfixd's N workers are. Stops on SIGTERM/SIGINT and prints its counts
 * to stderr.
 *
 * usage: ixd-floor [-T] [-t THREADS] PORT [RCVBUF_BYTES]
 */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define SLOT 65536
#define THREADS_MAX 64
#define CONNS_MAX 1024
#define WAIT_MS 200 /* threads look at the stop flag this often when idle */

static volatile sig_atomic_t stop;
static atomic_ullong total_msgs, total_bytes;
static int tcp;

static void
on_signal(int sig)
{
    (void)sig;
    stop = 1;
}

static int
open_socket(long port, int rcvbuf)
{
    struct sockaddr_in6 addr;
    int fd, off = 0, on = 1;

    fd = socket(AF_INET6, (tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK, 0);
    if (fd == -1) {
        perror("ixd-floor: socket");
        return -1;
    }
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &on, sizeof(on));
    if (rcvbuf > 0 && setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)) == -1) {
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    }
    memset(&addr, 0, sizeof(addr));
    addr.sin6_family = AF_INET6;
    addr.sin6_addr = in6addr_any;
    addr.sin6_port = htons((uint16_t)port);
    if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) == -1 || (tcp && listen(fd, 128) == -1)) {
        perror("ixd-floor: bind");
        close(fd);
        return -1;
    }
    return fd;
}

static void *
udp_thread(void *arg)
{
    static _Thread_local struct mmsghdr msgs[BATCH];
    static _Thread_local struct iovec iov[BATCH];
    static _Thread_local struct sockaddr_storage from[BATCH];
    int fd = (int)(intptr_t)arg, i;
    unsigned long long datagrams = 0, bytes = 0;
    char *slots = malloc((size_t)BATCH * SLOT);

    while (slots != NULL && !stop) {
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
                poll(&pfd, 1, WAIT_MS);
            } else if (errno != EINTR) {
                perror("ixd-floor: recvmmsg");
                break;
            }
            continue;
        }
        for (i = 0; i < n; i++) {
            bytes += msgs[i].msg_len;
        }
        datagrams += (unsigned long long)n;
    }
    free(slots);
    atomic_fetch_add(&total_msgs, datagrams);
    atomic_fetch_add(&total_bytes, bytes);
    return NULL;
}

/* A connection's stream: the bytes of the message being read are skipped by its length. */
struct conn {
    int fd;
    size_t skip; /* bytes of the current message still to come */
    uint8_t head[4];
    size_t have; /* bytes of the next header read so far */
};

/* Counts the messages whose headers pass in buf[0..n). */
static unsigned long long
count_messages(struct conn *c, const uint8_t *buf, size_t n)
{
    unsigned long long msgs = 0;
    size_t i = 0;

    while (i < n) {
        if (c->skip > 0) {
            size_t k = n - i < c->skip ? n - i : c->skip;
            i += k;
            c->skip -= k;
            continue;
        }
        c->head[c->have++] = buf[i++];
        if (c->have == 4) {
            size_t len = (size_t)c->head[2] << 8 | c->head[3];
            c->have = 0;
            c->skip = len > 4 ? len - 4 : 0;
            msgs++;
        }
    }
    return msgs;
}

static void *
tcp_thread(void *arg)
{
    int lfd = (int)(intptr_t)arg, ep = epoll_create1(0);
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = NULL}, got[64];
    unsigned long long msgs = 0, bytes = 0;
    uint8_t *buf = malloc(SLOT);

    epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
    while (buf != NULL && !stop) {
        int n = epoll_wait(ep, got, 64, WAIT_MS);
        for (int i = 0; i < n; i++) {
            struct conn *c = got[i].data.ptr;
            if (c == NULL) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK);
                c = fd >= 0 ? calloc(1, sizeof(*c)) : NULL;
                if (c != NULL) {
                    struct epoll_event cev = {.events = EPOLLIN, .data.ptr = c};
                    c->fd = fd;
                    epoll_ctl(ep, EPOLL_CTL_ADD, fd, &cev);
                }
                continue;
            }
            for (;;) {
                ssize_t r = read(c->fd, buf, SLOT);
                if (r > 0) {
                    bytes += (unsigned long long)r;
                    msgs += count_messages(c, buf, (size_t)r);
                    continue;
                }
                if (r == 0 || (errno != EAGAIN && errno != EINTR)) {
                    close(c->fd); /* also leaves the epoll set */
                    free(c);
                }
                break;
            }
        }
    }
    free(buf);
    close(ep);
    atomic_fetch_add(&total_msgs, msgs);
    atomic_fetch_add(&total_bytes, bytes);
    return NULL;
}

int
main(int argc, char **argv)
{
    pthread_t th[THREADS_MAX];
    struct sigaction sa;
    long threads = 1, port;
    int fds[THREADS_MAX], opt, rcvbuf;
    char *end;

    while ((opt = getopt(argc, argv, "Tt:")) != -1) {
        if (opt == 'T') {
            tcp = 1;
        } else if (opt == 't') {
            threads = strtol(optarg, &end, 10);
            if (*end != '\0' || threads < 1 || threads > THREADS_MAX) {
                fprintf(stderr, "ixd-floor: bad thread count '%s'\n", optarg);
                return 2;
            }
        } else {
            return 2;
        }
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: ixd-floor [-T] [-t THREADS] PORT [RCVBUF_BYTES]\n");
        return 2;
    }
    port = strtol(argv[optind], &end, 10);
    if (*end != '\0' || port <= 0 || port > 65535) {
        fprintf(stderr, "ixd-floor: bad port '%s'\n", argv[optind]);
        return 2;
    }
    /* UDP: 8 MiB unless told (as the benchmark's ipfixd); TCP: the system's default */
    rcvbuf = optind + 1 < argc ? (int)strtol(argv[optind + 1], NULL, 10) : tcp ? 0 : 8 << 20;
    for (long i = 0; i < threads; i++) {
        fds[i] = open_socket(port, rcvbuf);
        if (fds[i] == -1) {
            return 1;
        }
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: waits return EINTR */
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    for (long i = 0; i < threads; i++) {
        pthread_create(&th[i], NULL, tcp ? tcp_thread : udp_thread, (void *)(intptr_t)fds[i]);
    }
    fprintf(stderr, "ixd-floor: listening\n");
    for (long i = 0; i < threads; i++) {
        pthread_join(th[i], NULL);
        close(fds[i]);
    }
    fprintf(stderr, "ixd-floor: %s=%llu bytes=%llu\n", tcp ? "messages" : "datagrams",
            (unsigned long long)total_msgs, (unsigned long long)total_bytes);
    return 0;
}
