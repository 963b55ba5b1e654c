/* Transport and pacing for ipfixd-send.
 *
 * UDP uses one connect()ed socket per simulated exporter, so each gets its own source port and
 * the kernel skips the route lookup per datagram; messages go out with sendmmsg() in batches.
 * TCP uses one connection per exporter and writes a batch with as few syscalls as the --chunk
 * setting allows. */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE /* sendmmsg, SO_SNDBUFFORCE */
#endif
#include "send_pace.h"
#include "send_common.h"

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

volatile sig_atomic_t send_stop;

#define SNDBUF_BYTES (4 * 1024 * 1024)
#define CLOSE_WAIT_MS 5000
/* ENOBUFS/EAGAIN retries 50 us apart: about one second before giving up. */
#define SEND_RETRIES 20000
#define RETRY_SLEEP_NS 50000L
/* iovecs gathered into one TCP write. */
#define TCP_IOV 64

struct tx {
    int tcp;
    unsigned nconn;
    int *fds;
    uint64_t *pos; /* TCP stream offset per connection, to align --chunk pieces */
    size_t chunk;
    size_t max_msg;
    char dest[300];
    uint64_t messages;
    uint64_t bytes;
    int refused_warned;
    struct mmsghdr mm[TX_BATCH];
    struct iovec iov[TX_BATCH];
};

uint64_t
mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
sleep_ns(long ns)
{
    struct timespec ts = {0, ns};
    nanosleep(&ts, NULL);
}

/* Split "HOST:PORT" / "[V6]:PORT" into its parts; the port must be a number. */
static int
split_dest(const char *dest, char *host, size_t hostsz, char *port, size_t portsz)
{
    const char *h = dest, *colon;
    size_t hlen;

    if (dest[0] == '[') {
        const char *close = strchr(dest, ']');
        if (!close || close[1] != ':') {
            fprintf(stderr, SEND_PROG ": cannot parse destination '%s' (want [ADDR]:PORT)\n", dest);
            return -1;
        }
        h = dest + 1;
        hlen = (size_t)(close - h);
        colon = close + 1;
    } else {
        colon = strrchr(dest, ':');
        if (!colon) {
            fprintf(stderr, SEND_PROG ": cannot parse destination '%s' (want HOST:PORT)\n", dest);
            return -1;
        }
        if (memchr(dest, ':', (size_t)(colon - dest))) {
            fprintf(stderr,
                    SEND_PROG
                    ": cannot parse destination '%s' (IPv6 needs brackets: [ADDR]:PORT)\n",
                    dest);
            return -1;
        }
        hlen = (size_t)(colon - dest);
    }
    char *end;
    errno = 0;
    long p = strtol(colon + 1, &end, 10);
    if (hlen == 0 || hlen >= hostsz || colon[1] == '\0' || *end != '\0' || errno || p < 1 ||
        p > 65535) {
        fprintf(stderr,
                SEND_PROG ": cannot parse destination '%s' (want HOST:PORT, port 1-65535)\n", dest);
        return -1;
    }
    memcpy(host, h, hlen);
    host[hlen] = '\0';
    snprintf(port, portsz, "%ld", p);
    return 0;
}

int
tx_check_dest(const char *dest)
{
    char host[256], port[16];
    return split_dest(dest, host, sizeof(host), port, sizeof(port));
}

static void
tune_socket(int fd, int tcp, size_t chunk)
{
    int v = SNDBUF_BYTES;
    /* SNDBUFFORCE passes net.core.wmem_max when we are root; otherwise take what we get. */
    if (setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &v, sizeof(v)) < 0)
        (void)setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &v, sizeof(v));
    if (tcp && chunk) {
        /* Without NODELAY, Nagle would merge the small pieces we are asked to produce. */
        int one = 1;
        (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    }
}

/* Open and connect one socket to ai; returns the fd or -1 with errno set. */
static int
open_one(const struct addrinfo *ai, int tcp, size_t chunk)
{
    int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0)
        return -1;
    tune_socket(fd, tcp, chunk);
    while (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        if (errno == EINTR && !send_stop)
            continue;
        int saved = errno;
        close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

/* Connect all sockets to the first address that accepts the first one. */
static int
connect_all(struct tx *tx, const struct addrinfo *list)
{
    const struct addrinfo *ai;
    int err = 0;

    for (ai = list; ai; ai = ai->ai_next) {
        tx->fds[0] = open_one(ai, tx->tcp, tx->chunk);
        if (tx->fds[0] >= 0)
            break;
        err = errno;
    }
    if (!ai) {
        fprintf(stderr, SEND_PROG ": cannot connect to %s: %s\n", tx->dest, strerror(err));
        return -1;
    }
    /* Payload limit of one datagram: 65535 minus the IP (v4 only) and UDP headers. */
    if (!tx->tcp)
        tx->max_msg = ai->ai_family == AF_INET6 ? 65527 : 65507;
    for (unsigned i = 1; i < tx->nconn; i++) {
        tx->fds[i] = open_one(ai, tx->tcp, tx->chunk);
        if (tx->fds[i] < 0) {
            fprintf(stderr, SEND_PROG ": cannot connect to %s (connection %u of %u): %s\n",
                    tx->dest, i + 1, tx->nconn, strerror(errno));
            return -1;
        }
    }
    return 0;
}

static void
tx_free(struct tx *tx)
{
    if (!tx)
        return;
    for (unsigned i = 0; tx->fds && i < tx->nconn; i++)
        if (tx->fds[i] >= 0)
            close(tx->fds[i]);
    free(tx->fds);
    free(tx->pos);
    free(tx);
}

struct tx *
tx_open(const char *dest, int tcp, unsigned nconn, size_t chunk)
{
    char host[256], port[16];
    if (split_dest(dest, host, sizeof(host), port, sizeof(port)) < 0)
        return NULL;

    struct tx *tx = calloc(1, sizeof(*tx));
    if (!tx || !(tx->fds = malloc(nconn * sizeof(int))) ||
        !(tx->pos = calloc(nconn, sizeof(uint64_t)))) {
        fprintf(stderr, SEND_PROG ": out of memory\n");
        tx_free(tx);
        return NULL;
    }
    for (unsigned i = 0; i < nconn; i++)
        tx->fds[i] = -1;
    tx->tcp = tcp;
    tx->nconn = nconn;
    tx->chunk = chunk;
    tx->max_msg = IXD_MAX_MESSAGE;
    snprintf(tx->dest, sizeof(tx->dest), "%s", dest);

    struct addrinfo hints = {0}, *res = NULL;
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
    hints.ai_flags = AI_NUMERICSERV;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0) {
        fprintf(stderr, SEND_PROG ": cannot resolve '%s': %s\n", host, gai_strerror(rc));
        tx_free(tx);
        return NULL;
    }
    rc = connect_all(tx, res);
    freeaddrinfo(res);
    if (rc < 0) {
        tx_free(tx);
        return NULL;
    }
    return tx;
}

size_t
tx_max_message(const struct tx *tx)
{
    return tx->max_msg;
}

void
tx_counters(const struct tx *tx, uint64_t *messages, uint64_t *bytes)
{
    *messages = tx->messages;
    *bytes = tx->bytes;
}

/* Decide whether a failed send is worth retrying; prints and returns -1 when it is not. */
static int
send_retry(struct tx *tx, unsigned *retries)
{
    if (errno == EINTR)
        return 0;
    if (errno == ECONNREFUSED && !tx->tcp) {
        /* An ICMP port-unreachable for an earlier datagram: the error is consumed by this
         * call, so retrying sends the current batch. The earlier datagram is lost. */
        if (!tx->refused_warned)
            fprintf(stderr,
                    SEND_PROG ": warning: %s: nobody listening (ICMP port unreachable); "
                              "datagrams are being lost\n",
                    tx->dest);
        tx->refused_warned = 1;
        return 0;
    }
    if ((errno == ENOBUFS || errno == EAGAIN || errno == EWOULDBLOCK) &&
        ++*retries < SEND_RETRIES) {
        sleep_ns(RETRY_SLEEP_NS);
        return 0;
    }
    fprintf(stderr, SEND_PROG ": send to %s: %s\n", tx->dest, strerror(errno));
    return -1;
}

static int
udp_send(struct tx *tx, int fd, const struct iovec *msgs, size_t n)
{
    size_t done = 0;
    unsigned retries = 0;

    while (done < n) {
        size_t k = n - done < TX_BATCH ? n - done : TX_BATCH;
        memset(tx->mm, 0, k * sizeof(tx->mm[0]));
        for (size_t i = 0; i < k; i++) {
            tx->iov[i] = msgs[done + i];
            tx->mm[i].msg_hdr.msg_iov = &tx->iov[i];
            tx->mm[i].msg_hdr.msg_iovlen = 1;
        }
        int r = sendmmsg(fd, tx->mm, (unsigned)k, 0);
        if (r > 0) {
            for (int i = 0; i < r; i++)
                tx->bytes += tx->iov[i].iov_len;
            tx->messages += (uint64_t)r;
            done += (size_t)r;
            retries = 0;
            continue;
        }
        if (r == 0)
            errno = EAGAIN;
        if (send_retry(tx, &retries) < 0)
            return -1;
    }
    return 0;
}

/* Write msgs[] as one byte stream, in pieces that end at multiples of tx->chunk in the
 * connection's stream, so pieces cut across message (and batch) boundaries. */
static int
tcp_send(struct tx *tx, unsigned conn, const struct iovec *msgs, size_t n)
{
    struct iovec piece[TCP_IOV];
    size_t mi = 0, off = 0;
    unsigned retries = 0;

    while (mi < n) {
        size_t want = SIZE_MAX, got = 0;
        if (tx->chunk)
            want = tx->chunk - (size_t)(tx->pos[conn] % tx->chunk);
        int cnt = 0;
        for (size_t j = mi, o = off; j < n && cnt < TCP_IOV && got < want; j++, o = 0) {
            size_t avail = msgs[j].iov_len - o;
            size_t take = avail < want - got ? avail : want - got;
            if (take == 0)
                continue;
            piece[cnt].iov_base = (char *)msgs[j].iov_base + o;
            piece[cnt].iov_len = take;
            cnt++;
            got += take;
        }
        if (cnt == 0) /* only empty messages left */
            break;
        struct msghdr mh = {0};
        mh.msg_iov = piece;
        mh.msg_iovlen = (size_t)cnt;
        /* MSG_EOR ends the skb, so Linux cannot append the next piece to it (autocorking
         * would otherwise merge pieces on a busy socket despite TCP_NODELAY). */
        ssize_t w = sendmsg(tx->fds[conn], &mh, MSG_NOSIGNAL | (tx->chunk ? MSG_EOR : 0));
        if (w < 0) {
            if (send_retry(tx, &retries) < 0)
                return -1;
            continue;
        }
        retries = 0;
        tx->pos[conn] += (uint64_t)w;
        tx->bytes += (uint64_t)w;
        /* Advance the cursor by what the kernel took (it may be a partial write). */
        size_t left = (size_t)w;
        while (mi < n && left >= msgs[mi].iov_len - off) {
            left -= msgs[mi].iov_len - off;
            mi++;
            off = 0;
        }
        off += left;
    }
    tx->messages += n;
    return 0;
}

int
tx_send(struct tx *tx, unsigned conn, const struct iovec *msgs, size_t n)
{
    if (n == 0)
        return 0;
    if (tx->tcp)
        return tcp_send(tx, conn, msgs, n);
    return udp_send(tx, tx->fds[conn], msgs, n);
}

/* Read and discard until EOF or the deadline; returns -1 on reset, 1 on timeout, 0 on EOF. */
static int
drain_until_eof(int fd, uint64_t deadline)
{
    char buf[4096];
    for (;;) {
        uint64_t now = mono_ns();
        if (now >= deadline)
            return 1;
        struct pollfd pfd = {.fd = fd, .events = POLLIN};
        int r = poll(&pfd, 1, (int)((deadline - now) / 1000000u) + 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            return r < 0 ? -1 : 1;
        ssize_t n = read(fd, buf, sizeof(buf));
        if (n == 0)
            return 0;
        if (n < 0 && errno != EINTR && errno != EAGAIN)
            return -1;
    }
}

int
tx_close(struct tx *tx)
{
    int rc = 0;
    if (tx->tcp) {
        /* Half-close so the peer sees EOF after our last byte, then wait for its close: a
         * plain close() with unread input would send a RST and could drop our tail. */
        for (unsigned i = 0; i < tx->nconn; i++)
            shutdown(tx->fds[i], SHUT_WR);
        uint64_t deadline = mono_ns() + (uint64_t)CLOSE_WAIT_MS * 1000000u;
        for (unsigned i = 0; i < tx->nconn; i++) {
            int r = drain_until_eof(tx->fds[i], deadline);
            if (r > 0) {
                fprintf(stderr, SEND_PROG ": warning: %s did not close connection %u within 5 s\n",
                        tx->dest, i + 1);
            } else if (r < 0) {
                fprintf(stderr, SEND_PROG ": connection %u to %s: %s\n", i + 1, tx->dest,
                        strerror(errno));
                rc = -1;
            }
        }
    }
    tx_free(tx);
    return rc;
}

void
pace_init(struct pacer *p, uint64_t rate)
{
    p->rate = rate;
    p->start_ns = mono_ns();
}

int
pace_wait(const struct pacer *p, uint64_t done)
{
    if (p->rate && !send_stop) {
        /* Split the division so done * 1e9 cannot overflow (rate <= 1e9 is enforced). */
        uint64_t sec = done / p->rate, rem = done % p->rate;
        uint64_t due = p->start_ns + sec * 1000000000u + rem * 1000000000u / p->rate;
        if (mono_ns() < due) {
            struct timespec ts = {(time_t)(due / 1000000000u), (long)(due % 1000000000u)};
            while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
                if (send_stop)
                    break;
        }
    }
    return send_stop ? -1 : 0;
}

unsigned
pace_batch(uint64_t rate, uint64_t units_per_msg)
{
    if (rate == 0)
        return TX_BATCH;
    uint64_t per_ms = rate / (units_per_msg ? units_per_msg : 1) / 1000u;
    if (per_ms < 1)
        return 1;
    return per_ms > TX_BATCH ? TX_BATCH : (unsigned)per_ms;
}
