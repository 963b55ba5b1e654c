#include "output/output.h"
#include "core/clock.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/udp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "core/hash.h"
#include "core/keys_net.h"
#include "core/log.h"
#include "core/relaxed_counter.h"
#include "crypto/tls.h"
#include "ipfix/wire.h"
#include "output/export_session.h"
#include "output/ipfix_export.h"
#include "output/ipfix_export_dest.h"

static struct xoutput *
output_of(const struct xlane *l)
{
    return (struct xoutput *)l->base.output;
}

/* ---- sending ---- */

static void
close_socket(struct xdest *d)
{
    ixd_tls_free(d->tls);
    d->tls = NULL;
    if (d->fd != -1) {
        close(d->fd);
        d->fd = -1;
    }
}

static void
disconnect(struct xoutput *o, struct xdest *d, const char *why)
{
    close_socket(d);
    d->state = XS_DOWN;
    d->qsent = 0; /* a partly written message is sent whole on the next connection */
    d->retry_at = ixd_mono_now() + d->backoff;
    log_warn("output %s: %s %s: %s; retrying in %.1fs", o->base.name,
             d->tcp || d->secure ? "lost connection to" : "cannot send to", d->cfg->text, why,
             d->backoff);
    d->backoff = d->backoff * 2 > BACKOFF_MAX ? BACKOFF_MAX : d->backoff * 2;
}

#ifndef UDP_SEGMENT
#define UDP_SEGMENT 103 /* linux/udp.h, Linux 4.18 */
#endif
#define GSO_SEGS_MAX 64      /* UDP_MAX_SEGMENTS of the oldest kernels that have it */
#define GSO_BYTES_MAX 65507u /* a UDP payload in IPv4 */

/*
 * The messages from the head of d's queue that one UDP_SEGMENT send can carry: a run of equal
 * lengths, the last one of it possibly shorter (the kernel cuts every gso_size bytes); a message
 * alone goes as a plain datagram. 1: sent; 0: would block; -1: the kernel refused to segment
 * (d->no_gso set: the caller sends datagram by datagram from now on), or the head message could
 * not be sent and was dropped.
 */
static int
send_segmented(struct xoutput *o, struct xdest *d)
{
    union {
        char buf[CMSG_SPACE(sizeof(uint16_t))];
        struct cmsghdr align;
    } ctl;
    struct iovec iov[GSO_SEGS_MAX];
    struct msghdr mh = {.msg_iov = iov};
    uint32_t seg = ixd_get32(d->q + d->qhead), len = seg;
    size_t at = d->qhead, total = 0;
    uint16_t size = (uint16_t)seg;
    int k = 0;

    while (at < d->qtail && k < GSO_SEGS_MAX && len == seg) {
        len = ixd_get32(d->q + at);
        if (k > 0 && (len > seg || total + len > GSO_BYTES_MAX)) {
            break;
        }
        iov[k].iov_base = d->q + at + QPREFIX;
        iov[k++].iov_len = len;
        total += len;
        at += QPREFIX + len;
    }
    mh.msg_iovlen = (size_t)k;
    if (k > 1) {
        struct cmsghdr *cm;
        mh.msg_control = ctl.buf;
        mh.msg_controllen = sizeof(ctl.buf);
        cm = CMSG_FIRSTHDR(&mh);
        cm->cmsg_level = SOL_UDP;
        cm->cmsg_type = UDP_SEGMENT;
        cm->cmsg_len = CMSG_LEN(sizeof(size));
        memcpy(CMSG_DATA(cm), &size, sizeof(size));
    }
    if (sendmsg(d->fd, &mh, MSG_DONTWAIT) != -1) {
        while (k-- > 0) {
            ixd_xqueue_pop(d, 1);
        }
        return 1;
    }
    if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS) {
        return errno == EINTR ? 1 : 0;
    }
    if (k > 1 && (errno == EIO || errno == EINVAL || errno == EMSGSIZE || errno == ENOPROTOOPT ||
                  errno == EOPNOTSUPP)) {
        /* no UDP_SEGMENT here, or not on this route (its MTU, IPsec, no checksum offload) */
        log_info("output %s: %s: the kernel does not segment UDP (%s); sending one datagram "
                 "per message",
                 o->base.name, d->cfg->text, strerror(errno));
        d->no_gso = 1;
        return -1;
    }
    /* as below: this datagram cannot be sent (e.g. no route); drop it, keep the socket */
    ixd_log_limited(&d->errors, ixd_mono_now(), IXD_LOG_WARNING, "output %s: cannot send to %s: %s",
                    o->base.name, d->cfg->text, strerror(errno));
    ixd_xqueue_pop(d, 0);
    return -1;
}

/* UDP: what is queued before messages are sent as they are written (the tick sends the rest):
 * enough for one system call to carry a run of them. */
static size_t
udp_send_at(const struct xoutput *o)
{
    return ixd_xqueue_cap(o) / 2 < GSO_BYTES_MAX ? ixd_xqueue_cap(o) / 2 : GSO_BYTES_MAX;
}

/* UDP: one datagram per message; runs of equal length in one system call the kernel segments
 * (UDP_SEGMENT), or, where it refuses, SEND_BATCH messages per sendmmsg. 0 = would block or
 * done. */
static int
send_udp(struct xoutput *o, struct xdest *d)
{
    while (d->qhead < d->qtail) {
        struct mmsghdr mm[SEND_BATCH];
        struct iovec iov[SEND_BATCH];
        size_t at = d->qhead;
        int k = 0, n, i;

        if (!d->no_gso) {
            n = send_segmented(o, d);
            if (n == 0) {
                return 0;
            }
            continue; /* sent, dropped, or refused: then the batch below */
        }
        memset(mm, 0, sizeof(mm));
        while (at < d->qtail && k < SEND_BATCH) {
            uint32_t len = ixd_get32(d->q + at);
            iov[k].iov_base = d->q + at + QPREFIX;
            iov[k].iov_len = len;
            mm[k].msg_hdr.msg_iov = &iov[k];
            mm[k].msg_hdr.msg_iovlen = 1; /* the socket is connected: no address */
            at += QPREFIX + len;
            k++;
        }
        n = sendmmsg(d->fd, mm, (unsigned)k, MSG_DONTWAIT);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)) {
            return 0;
        }
        if (n == -1) {
            /* this datagram cannot be sent (e.g. no route): drop it, keep the socket */
            ixd_log_limited(&d->errors, ixd_mono_now(), IXD_LOG_WARNING,
                            "output %s: cannot send to %s: %s", o->base.name, d->cfg->text,
                            strerror(errno));
            ixd_xqueue_pop(d, 0);
            continue;
        }
        for (i = 0; i < n; i++) {
            ixd_xqueue_pop(d, 1);
        }
    }
    return 0;
}

/* TCP: the queue is the stream; a partial write is resumed. -1 when the connection broke. */
static int
send_tcp(struct xoutput *o, struct xdest *d)
{
    while (d->qhead < d->qtail) {
        struct iovec iov[SEND_BATCH];
        struct msghdr mh;
        size_t at = d->qhead, skip = d->qsent;
        ssize_t n;
        int k = 0;

        while (at < d->qtail && k < SEND_BATCH) {
            uint32_t len = ixd_get32(d->q + at);
            iov[k].iov_base = d->q + at + QPREFIX + skip;
            iov[k].iov_len = len - skip;
            skip = 0;
            at += QPREFIX + len;
            k++;
        }
        memset(&mh, 0, sizeof(mh));
        mh.msg_iov = iov;
        mh.msg_iovlen = (size_t)k;
        n = sendmsg(d->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return 0;
        }
        if (n == -1) {
            disconnect(o, d, strerror(errno));
            return -1;
        }
        while (n > 0) {
            size_t rest = ixd_get32(d->q + d->qhead) - d->qsent;
            if ((size_t)n >= rest) {
                n -= (ssize_t)rest;
                ixd_xqueue_pop(d, 1);
            } else {
                d->qsent += (size_t)n;
                n = 0;
            }
        }
    }
    return 0;
}

/* TLS: the queue is the stream, written message by message (a message of 64 KiB is four
 * records); a partial write is resumed. -1 when the connection broke. */
static int
send_tls(struct xoutput *o, struct xdest *d)
{
    while (d->qhead < d->qtail) {
        uint32_t len = ixd_get32(d->q + d->qhead);
        ssize_t n = ixd_tls_write(d->tls, d->q + d->qhead + QPREFIX + d->qsent, len - d->qsent);

        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            disconnect(o, d, ixd_tls_error(d->tls));
            return -1;
        }
        d->qsent += (size_t)n;
        if (d->qsent == len) {
            ixd_xqueue_pop(d, 1);
        }
    }
    return 0;
}

/* DTLS: one record per message, one datagram per record. A collector that is not there (an
 * ICMP error on the connected socket) breaks the association: a new one is made. */
static int
send_dtls(struct xoutput *o, struct xdest *d)
{
    while (d->qhead < d->qtail) {
        uint32_t len = ixd_get32(d->q + d->qhead);
        ssize_t n = ixd_tls_write(d->tls, d->q + d->qhead + QPREFIX, len);

        if (n == 0) {
            return 0;
        }
        if (n < 0) {
            disconnect(o, d, ixd_tls_error(d->tls));
            return -1;
        }
        ixd_xqueue_pop(d, 1);
    }
    return 0;
}

static void
send_queue(struct xoutput *o, struct xdest *d)
{
    if (d->state == XS_UP) {
        if (d->secure) {
            if (d->tcp) {
                send_tls(o, d);
            } else {
                send_dtls(o, d);
            }
        } else if (d->tcp) {
            send_tcp(o, d);
        } else {
            send_udp(o, d);
        }
    }
    ixd_xqueue_gauge(d);
}

/* ---- transport sessions ---- */

/* Template messages built in front of the queue when a TCP session starts, in the queue's
 * format (each message behind its QPREFIX). */
struct prelude {
    uint8_t *buf;
    size_t len, size;
    size_t msg_at, set_at;
    uint16_t set_id;
    uint32_t odid; /* of the message being built */
    uint32_t mtu, now_sec;
    int failed;
};

static void
prelude_close(struct prelude *p)
{
    if (p->set_at != 0) {
        ixd_put16(p->buf + p->set_at + 2, (uint16_t)(p->len - p->set_at));
        p->set_at = 0;
    }
    if (p->msg_at != SIZE_MAX) {
        ixd_put16(p->buf + p->msg_at + QPREFIX + 2, (uint16_t)(p->len - p->msg_at - QPREFIX));
        ixd_put32(p->buf + p->msg_at, (uint32_t)(p->len - p->msg_at - QPREFIX));
        p->msg_at = SIZE_MAX;
    }
}

/* The session's template callback: appends a template record (or a type record, set_id above
 * 255) to the prelude, in messages of its own domain of at most mtu bytes. */
static void
prelude_add(void *arg, uint32_t odid, uint16_t set_id, const uint8_t *rec, size_t rec_len)
{
    struct prelude *p = arg;
    size_t need = QPREFIX + IXD_HEADER_LEN + 2 * IXD_SET_HEADER_LEN + rec_len;

    if (p->len + need > p->size) {
        size_t size = p->size * 2 > p->len + need ? p->size * 2 : p->len + need + 65536;
        uint8_t *b = realloc(p->buf, size);
        if (b == NULL) {
            p->failed = 1;
            return;
        }
        p->buf = b;
        p->size = size;
    }
    if (p->msg_at != SIZE_MAX &&
        (p->odid != odid || p->len - p->msg_at - QPREFIX + IXD_SET_HEADER_LEN + rec_len > p->mtu)) {
        prelude_close(p);
    }
    if (p->msg_at == SIZE_MAX) {
        p->msg_at = p->len;
        p->odid = odid;
        ixd_put32(p->buf + p->len + 4, 0); /* no records of the output's */
        ixd_put32(p->buf + p->len + 8, 0); /* type records: counted below */
        p->len += QPREFIX;
        ixd_put16(p->buf + p->len, IXD_IPFIX_VERSION);
        ixd_put32(p->buf + p->len + 4, p->now_sec);
        ixd_put32(p->buf + p->len + 8, 0); /* rewritten with the rest of the queue */
        ixd_put32(p->buf + p->len + 12, odid);
        p->len += IXD_HEADER_LEN;
        p->set_id = 0;
    }
    if (p->set_at == 0 || p->set_id != set_id) {
        if (p->set_at != 0) {
            ixd_put16(p->buf + p->set_at + 2, (uint16_t)(p->len - p->set_at));
        }
        p->set_at = p->len;
        p->set_id = set_id;
        ixd_put16(p->buf + p->len, set_id);
        p->len += IXD_SET_HEADER_LEN;
    }
    memcpy(p->buf + p->len, rec, rec_len);
    p->len += rec_len;
    if (set_id >= IXD_MIN_DATA_SET) {
        ixd_put32(p->buf + p->msg_at + 8, ixd_get32(p->buf + p->msg_at + 8) + 1);
    }
}

/*
 * A new TCP connection is a new transport session: every template this lane has defined goes
 * first (the queued messages may use any of them), and the queued messages get the sequence
 * numbers of the new session.
 */
static void
restart_session(struct xoutput *o, struct xdest *d)
{
    struct prelude p = {NULL, 0, 0, SIZE_MAX, 0, 0, 0, o->cfg->mtu, ixd_wall_sec(), 0};
    size_t at;

    ixd_xsession_restart(&d->s);
    ixd_xsession_each_template(&d->s, prelude_add, &p);
    prelude_close(&p);
    ixd_xqueue_compact(d);
    if (p.failed || d->qtail + p.len > ixd_xqueue_cap(o)) {
        /* no room for the templates in front of the queue: drop what is queued instead, and
         * let every template go again before its next use */
        while (d->qhead < d->qtail) {
            ixd_xqueue_pop(d, 0);
        }
        d->s.epoch++;
        p.len = 0;
    }
    if (p.len > 0) {
        memmove(d->q + p.len, d->q, d->qtail);
        memcpy(d->q, p.buf, p.len);
        d->qtail += p.len;
    }
    free(p.buf);
    for (at = d->qhead; at < d->qtail;) {
        uint32_t len = ixd_get32(d->q + at), seq;
        uint32_t records = ixd_get32(d->q + at + 4) + ixd_get32(d->q + at + 8);
        if (ixd_xsession_take_seq(&d->s, ixd_get32(d->q + at + QPREFIX + 12), records, &seq) == 0) {
            ixd_put32(d->q + at + QPREFIX + 8, seq);
        }
        at += QPREFIX + len;
    }
}

static void
connected(struct xoutput *o, struct xdest *d, double now)
{
    char what[128] = "";

    d->state = XS_UP;
    d->up_at = now;
    d->backoff = BACKOFF_MIN;
    if (d->ever_up) {
        IXD_CNT_ADD(d->reconnects, 1);
    }
    d->ever_up = 1;
    if (d->secure) {
        ixd_tls_describe(d->tls, what, sizeof(what));
        log_info("output %s: connected to %s over %s as %s", o->base.name, d->cfg->text, what,
                 ixd_tls_subject(d->tls));
    } else if (d->tcp) {
        log_info("output %s: connected to %s", o->base.name, d->cfg->text);
    }
    if (d->tcp) {
        restart_session(o, d);
    } else if (d->secure) {
        /* a new DTLS association: the collector may have lost what the last one defined, so
         * templates go again before their next use (sequence numbers go on, as on UDP) */
        d->s.epoch++;
        d->refresh_at = now + o->cfg->template_refresh;
    }
}

/* The handshake on a connected socket (TLS, DTLS), within HANDSHAKE_TIMEOUT. */
static void
handshake_progress(struct xoutput *o, struct xdest *d, double now)
{
    char why[300];
    int r = ixd_tls_handshake(d->tls);

    if (r == 1) {
        connected(o, d, now);
        return;
    }
    if (r == -1) {
        snprintf(why, sizeof(why), "handshake failed: %s (%s)",
                 ixd_tls_fail_name(ixd_tls_failure(d->tls)), ixd_tls_error(d->tls));
        disconnect(o, d, why);
    } else if (!d->tcp && ixd_dtls_timer(d->tls) == -1) {
        disconnect(o, d, "the collector does not answer the DTLS handshake");
    } else if (now - d->connect_started > HANDSHAKE_TIMEOUT) {
        disconnect(o, d, "handshake timed out");
    }
}

/* The socket is connected: TLS and DTLS go on with their handshake, the others are up. */
static void
socket_connected(struct xoutput *o, struct xdest *d, double now)
{
    if (!d->secure) {
        connected(o, d, now);
        return;
    }
    d->tls = ixd_tls_connect(o->cfg->tls.ctx, d->fd, (const struct sockaddr *)&d->cfg->addr);
    if (d->tls == NULL) {
        disconnect(o, d, "out of memory");
        return;
    }
    d->state = XS_HANDSHAKE;
    d->connect_started = now;
    handshake_progress(o, d, now);
}

static void
connect_start(struct xoutput *o, struct xdest *d, double now)
{
    int type = (d->tcp ? SOCK_STREAM : SOCK_DGRAM) | SOCK_NONBLOCK | SOCK_CLOEXEC;
    int buf = 1 << 20;

    d->fd = socket(d->cfg->addr.ss_family, type, 0);
    if (d->fd == -1) {
        disconnect(o, d, strerror(errno));
        return;
    }
    if (!d->tcp) {
        /* absorbs the bursts between flushes; the kernel caps it at wmem_max */
        setsockopt(d->fd, SOL_SOCKET, SO_SNDBUF, &buf, sizeof(buf));
        /* a connected UDP socket looks its route up once, not once per datagram (the relay's
         * largest cost after the copy itself: docs/benchmarks.md) */
        if (connect(d->fd, (const struct sockaddr *)&d->cfg->addr, d->cfg->addrlen) == -1) {
            disconnect(o, d, strerror(errno));
            return;
        }
        socket_connected(o, d, now);
        return;
    }
    if (connect(d->fd, (const struct sockaddr *)&d->cfg->addr, d->cfg->addrlen) == 0) {
        socket_connected(o, d, now);
        return;
    }
    if (errno != EINPROGRESS) {
        disconnect(o, d, strerror(errno));
        return;
    }
    d->state = XS_CONNECTING;
    d->connect_started = now;
}

static void
connect_progress(struct xoutput *o, struct xdest *d, double now)
{
    struct pollfd pfd = {.fd = d->fd, .events = POLLOUT};
    int err = 0;
    socklen_t len = sizeof(err);

    if (poll(&pfd, 1, 0) == 1) {
        if (getsockopt(d->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1) {
            err = errno;
        }
        if (err == 0) {
            socket_connected(o, d, now);
        } else {
            disconnect(o, d, strerror(err));
        }
    } else if (now - d->connect_started > CONNECT_TIMEOUT) {
        disconnect(o, d, "connection timed out");
    }
}

/* A collector sends nothing over IPFIX/TCP: readable means it closed (or reset) the
 * connection, which is the only way to learn that before the next write fails. */
static void
check_peer(struct xoutput *o, struct xdest *d)
{
    uint8_t buf[512];
    ssize_t n;

    if (d->secure) {
        /* what a collector may send over TLS: session tickets, alerts, close_notify */
        while ((n = ixd_tls_read(d->tls, buf, sizeof(buf))) > 0) {
        }
        if (n < 0) {
            disconnect(o, d,
                       ixd_tls_closed(d->tls) ? "closed by the collector" : ixd_tls_error(d->tls));
        }
        return;
    }
    n = recv(d->fd, buf, sizeof(buf), MSG_DONTWAIT);

    if (n == 0) {
        disconnect(o, d, "closed by the collector");
    } else if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        disconnect(o, d, strerror(errno));
    }
}

/* Moves the destination on: connects when due, notices a closed peer, sends the queue. */
static void
drive(struct xoutput *o, struct xdest *d, double now)
{
    if (d->state == XS_DOWN && now >= d->retry_at) {
        connect_start(o, d, now);
    }
    if (d->state == XS_CONNECTING) {
        connect_progress(o, d, now);
    }
    if (d->state == XS_HANDSHAKE) {
        handshake_progress(o, d, now);
    }
    if (d->state == XS_UP && (d->tcp || d->secure)) {
        check_peer(o, d);
    }
    send_queue(o, d);
}

/* ---- the record path ---- */

static void
write_dest(struct xoutput *o, struct xdest *d, const struct ixd_batch *batch, uint32_t now_sec)
{
    size_t dropped;

    IXD_CNT_ADD(d->records, batch->count);
    dropped = ixd_xsession_write(&d->s, batch, o->cfg->original_exporter, now_sec);
    if (dropped > 0) {
        IXD_CNT_ADD(d->dropped, dropped);
    }
    if (d->state != XS_UP) {
        drive(o, d, ixd_mono_now()); /* the first connection, or a retry that fell due */
    } else if (d->qhead < d->qtail && (d->tcp || d->qtail - d->qhead >= udp_send_at(o))) {
        send_queue(o, d);
    }
}

/* FNV-1a over the exporter's address: an exporter (all its ports and domains) stays on one
 * destination, so its templates do too. */
static unsigned
pick(const struct ixd_source *src, unsigned n)
{
    const uint8_t *p;
    size_t len;

    if (src->exporter.ss_family == AF_INET6) {
        p = (const uint8_t *)&((const struct sockaddr_in6 *)&src->exporter)->sin6_addr;
        len = 16;
    } else {
        p = (const uint8_t *)&((const struct sockaddr_in *)&src->exporter)->sin_addr;
        len = 4;
    }
    return ixd_fnv32(IXD_FNV32_INIT, p, len) % n;
}

static void
x_write(struct ixd_lane *lane, const struct ixd_batch *batch)
{
    struct xlane *l = (struct xlane *)lane;
    struct xoutput *o = output_of(l);
    uint32_t now_sec = ixd_wall_sec();
    size_t i, n = o->cfg->dests.n;

    if (batch->count == 0) {
        return;
    }
    IXD_CNT_ADD(l->records, batch->count);
    if (o->cfg->mode == XM_BALANCE && n > 1) {
        write_dest(o, &l->dests[pick(batch->source, (unsigned)n)], batch, now_sec);
        return;
    }
    for (i = 0; i < n; i++) {
        write_dest(o, &l->dests[i], batch, now_sec);
    }
}

static void
x_flush(struct ixd_lane *lane)
{
    struct xlane *l = (struct xlane *)lane;
    struct xoutput *o = output_of(l);
    double now = ixd_mono_now();
    size_t i;

    for (i = 0; i < o->cfg->dests.n; i++) {
        struct xdest *d = &l->dests[i];
        if (!d->tcp && now >= d->refresh_at) {
            /* UDP loses and reorders: templates go again before their next use */
            d->s.epoch++;
            d->refresh_at = now + o->cfg->template_refresh;
        }
        if (d->secure && !d->tcp && d->state == XS_UP && now - d->up_at >= DTLS_RENEW) {
            /* a collector that restarted between two sends lost the association without a
             * word (no ICMP error came): what is sent goes nowhere until a new one is made */
            ixd_tls_shutdown(d->tls);
            close_socket(d);
            d->state = XS_DOWN;
            d->retry_at = now;
        }
        ixd_xsession_finish(&d->s);
        drive(o, d, now);
    }
}

/* ---- the control thread's side ---- */

static struct ixd_lane *
x_lane(struct ixd_output *out, unsigned w)
{
    struct xoutput *o = (struct xoutput *)out;

    return w < o->n_lanes ? &o->lanes[w].base : NULL;
}

static void
dest_release(struct xdest *d)
{
    ixd_xsession_release(&d->s);
    if (d->state == XS_UP) {
        ixd_tls_shutdown(d->tls); /* the collector sees the end, not a truncation */
    }
    close_socket(d);
    free(d->q);
}

static void
free_output(struct xoutput *o)
{
    unsigned i;
    size_t j;

    for (i = 0; i < o->n_lanes; i++) {
        if (o->lanes[i].dests == NULL) {
            continue;
        }
        for (j = 0; j < o->cfg->dests.n; j++) {
            dest_release(&o->lanes[i].dests[j]);
        }
        free(o->lanes[i].dests);
    }
    free(o->lanes);
    free(o);
}

static int
init_lane(struct xoutput *o, struct xlane *l)
{
    size_t j;
    double now = ixd_mono_now();

    l->base.output = &o->base;
    l->dests = calloc(o->cfg->dests.n, sizeof(*l->dests));
    if (l->dests == NULL) {
        return -1;
    }
    for (j = 0; j < o->cfg->dests.n; j++) {
        struct xdest *d = &l->dests[j];
        d->fd = -1;
        d->cfg = &o->cfg->dests.d[j];
        d->out = o;
        d->tcp = ixd_export_stream(o->cfg);
        d->secure = ixd_export_secure(o->cfg);
        d->backoff = BACKOFF_MIN;
        d->refresh_at = now + o->cfg->template_refresh;
        d->q = malloc(o->cfg->queue);
        if (ixd_xsession_init(&d->s, o->base.name, o->cfg->mtu,
                              d->tcp ? IXD_XWITHDRAW_ALL : IXD_XWITHDRAW_NONE, ixd_xqueue_push,
                              d) == -1 ||
            d->q == NULL) {
            return -1;
        }
    }
    return 0;
}

static struct ixd_output *
x_open(const void *settings, const char *name, unsigned workers, char *err, size_t errlen)
{
    struct xoutput *o = calloc(1, sizeof(*o));
    unsigned i;

    if (o == NULL) {
        snprintf(err, errlen, "output %s: out of memory", name);
        return NULL;
    }
    o->base.name = name;
    o->cfg = settings;
    o->lanes = calloc(workers, sizeof(*o->lanes));
    if (o->lanes == NULL) {
        goto fail;
    }
    o->n_lanes = workers;
    for (i = 0; i < workers; i++) {
        if (init_lane(o, &o->lanes[i]) == -1) {
            goto fail;
        }
    }
    return &o->base;
fail:
    snprintf(err, errlen, "output %s: out of memory for %u queues of %zu bytes", name,
             workers * (unsigned)o->cfg->dests.n, o->cfg->queue);
    free_output(o);
    return NULL;
}

static void
x_reopen(struct ixd_output *out)
{
    (void)out; /* nothing to reopen: connections are retried on their own */
}

/*
 * Called once every worker has let go of the output: sends what is built and queued for up to
 * CLOSE_GRACE seconds (connecting if need be), then counts whatever is left as dropped.
 */
static void
x_close(struct ixd_output *out)
{
    struct xoutput *o = (struct xoutput *)out;
    double deadline;
    unsigned i;
    size_t j;
    int pending = 1;

    if (o == NULL) {
        return;
    }
    for (i = 0; i < o->n_lanes; i++) {
        for (j = 0; j < o->cfg->dests.n; j++) {
            ixd_xsession_finish(&o->lanes[i].dests[j].s);
        }
    }
    deadline = ixd_mono_now() + CLOSE_GRACE;
    while (pending) {
        double now = ixd_mono_now();
        struct timespec ts = {0, 10000000};
        pending = 0;
        for (i = 0; i < o->n_lanes; i++) {
            for (j = 0; j < o->cfg->dests.n; j++) {
                struct xdest *d = &o->lanes[i].dests[j];
                if (d->qhead < d->qtail) {
                    drive(o, d, now);
                    pending |= d->qhead < d->qtail;
                }
            }
        }
        if (!pending || now >= deadline) {
            break;
        }
        nanosleep(&ts, NULL);
    }
    for (i = 0; i < o->n_lanes; i++) {
        for (j = 0; j < o->cfg->dests.n; j++) {
            struct xdest *d = &o->lanes[i].dests[j];
            if (d->qhead < d->qtail) {
                log_warn("output %s: %zu bytes for %s not sent at stop", o->base.name,
                         d->qtail - d->qhead, d->cfg->text);
            }
            while (d->qhead < d->qtail) {
                ixd_xqueue_pop(d, 0);
            }
        }
    }
    free_output(o);
}

static void
x_stats(struct ixd_output *out, ixd_counter_fn fn, void *arg)
{
    struct xoutput *o = (struct xoutput *)out;
    struct ixd_output_counts c = {0};
    unsigned i;
    size_t j;

    for (i = 0; i < o->n_lanes; i++) {
        c.records += IXD_CNT_GET(o->lanes[i].records);
        for (j = 0; j < o->cfg->dests.n; j++) {
            c.written_bytes += IXD_CNT_GET(o->lanes[i].dests[j].bytes);
            c.dropped += IXD_CNT_GET(o->lanes[i].dests[j].dropped);
        }
    }
    ixd_output_report(fn, arg, &c);
    for (j = 0; j < o->cfg->dests.n; j++) {
        struct ixd_destination_counts dc = {0};
        for (i = 0; i < o->n_lanes; i++) {
            const struct xdest *d = &o->lanes[i].dests[j];
            dc.records += IXD_CNT_GET(d->records);
            dc.messages += IXD_CNT_GET(d->messages);
            dc.sent += IXD_CNT_GET(d->sent);
            dc.dropped += IXD_CNT_GET(d->dropped);
            dc.reconnects += IXD_CNT_GET(d->reconnects);
            dc.queued_bytes += IXD_CNT_GET(d->queued);
        }
        ixd_destination_report(fn, arg, o->cfg->dests.d[j].text, &dc);
    }
}

const struct ixd_output_type ixd_output_ipfix = {
    .m =
        {
            .name = "ipfix",
            .keys = ixd_export_keys,
            .settings_size = sizeof(struct export_settings),
            .check = ixd_export_check,
            .release = ixd_export_release,
        },
    .open = x_open,
    .reopen = x_reopen,
    .close = x_close,
    .stats = x_stats,
    .lane = x_lane,
    .write = x_write,
    .flush = x_flush,
};
