/*
 * transport: udp. One SO_REUSEPORT socket per worker (the kernel hashes an exporter's 4-tuple to
 * one of them, so its templates live on one worker), read with recvmmsg in batches; datagrams
 * from outside the allow-list are counted and dropped; forward repeats every datagram,
 * unchanged, to other collectors before it is decoded.
 */
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/relaxed_counter.h"
#include "input/input.h"
#include "input/intake.h"
#include "ipfix/dispatch.h"
#include "net/udp.h"

#define UDP_ROUNDS 8      /* recvmmsg calls per wake-up before other sockets get a turn */
#define DRAIN_ROUNDS 4096 /* at stop: batches read from a socket at most */

struct udp_settings {
    struct ixd_listening l; /* first: the shared functions read it */
    struct ixd_dest_list forward;
};

static const struct ixd_key udp_keys[] = {
    {.name = "(listening)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct udp_settings, l),
     .include = ixd_listening_keys},
    {.name = "forward",
     .kind = IXD_KEY_CUSTOM,
     IXD_KEY_AT(struct udp_settings, forward),
     .reload = IXD_RELOAD_HOT,
     .parse = ixd_key_parse_destinations,
     .same = ixd_key_same_destinations,
     .help = "collectors every datagram is repeated to, unchanged"},
    {NULL},
};

/* One worker's socket of the collector. */
struct udp_in {
    const struct ixd_input_ctx *ctx;
    const struct udp_settings *cfg;
    int fd;
    ev_io io;
    int forward_fd[2]; /* IPv4 and IPv6 sockets for cfg->forward, opened on first use */
    struct ixd_ratelimit rl_allow;
};

/* The sending socket for a forward destination's family (-1 if it cannot be had). */
static int
forward_socket(struct udp_in *u, int family)
{
    int *fd = &u->forward_fd[family == AF_INET6];

    if (*fd < 0) {
        int size = 8 << 20;
        *fd = socket(family, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
        if (*fd >= 0) {
            /* a burst of a whole receive batch must fit without waiting */
            setsockopt(*fd, SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
        }
    }
    return *fd;
}

/*
 * Repeats the datagrams of one receive batch, unchanged, to every forward destination (what a
 * flow repeater does), one sendmmsg per destination. A datagram a destination does not take
 * (its socket buffer full, no route) is counted, never retried: the worker must not wait.
 */
static void
forward(struct udp_in *u, struct mmsghdr *msgs, struct iovec *iov, unsigned n)
{
    struct ixd_sessions *ss = u->ctx->sessions;

    for (size_t d = 0; d < u->cfg->forward.n; d++) {
        const struct ixd_export_dest *dest = &u->cfg->forward.d[d];
        int fd = forward_socket(u, dest->addr.ss_family);
        unsigned sent = 0;

        for (unsigned i = 0; i < n; i++) {
            memset(&msgs[i].msg_hdr, 0, sizeof(msgs[i].msg_hdr));
            msgs[i].msg_hdr.msg_name = (void *)&dest->addr;
            msgs[i].msg_hdr.msg_namelen = dest->addrlen;
            msgs[i].msg_hdr.msg_iov = &iov[i];
            msgs[i].msg_hdr.msg_iovlen = 1;
        }
        while (fd >= 0 && sent < n) {
            int r = sendmmsg(fd, msgs + sent, n - sent, MSG_DONTWAIT);
            if (r <= 0) {
                break;
            }
            sent += (unsigned)r;
        }
        IXD_CNT_ADD(ss->counters.forwarded, sent);
        IXD_CNT_ADD(ss->counters.forward_dropped, n - sent);
    }
}

/* One datagram: allowed, kept for forwarding, decoded in its session. */
static void
datagram(struct udp_in *u, const struct ixd_datagram *d, double now, int64_t usec,
         struct iovec *fwd_iov, unsigned *n_fwd)
{
    struct ixd_sessions *ss = u->ctx->sessions;
    struct ixd_session *s;

    if (!ixd_intake_allowed(&u->cfg->l.allow, ss, d->from, now, &u->rl_allow)) {
        return;
    }
    if (u->cfg->forward.n > 0) {
        if (d->truncated) {
            /* not whole: a repeater passes datagrams unchanged or not at all */
            IXD_CNT_ADD(ss->counters.forward_dropped, u->cfg->forward.n);
        } else {
            fwd_iov[*n_fwd].iov_base = (void *)d->data;
            fwd_iov[(*n_fwd)++].iov_len = d->len;
        }
    }
    s = ixd_session_udp(ss, d->from, now);
    if (s == NULL) {
        IXD_CNT_ADD(ss->counters.errors[IXD_ERR_NO_MEMORY], 1);
        return;
    }
    if (d->truncated) {
        ixd_count_error(s, NULL, IXD_ERR_TRUNCATED);
        return;
    }
    ixd_datagram_process(u->ctx->dec, s, d->data, d->len, now, usec);
}

/* Reads up to `rounds` batches of datagrams; returns how many datagrams. */
static unsigned
udp_read(struct udp_in *u, unsigned rounds)
{
    struct ixd_udp_rx *rx = u->ctx->rx;
    unsigned total = 0;

    for (unsigned r = 0; r < rounds; r++) {
        struct mmsghdr fwd_msgs[IXD_UDP_BATCH];
        struct iovec fwd_iov[IXD_UDP_BATCH];
        unsigned n_fwd = 0;
        int n = ixd_udp_rx_read(rx, u->fd);
        double now = ixd_mono_now();
        int64_t usec = ixd_wall_usec();

        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            datagram(u, &rx->got[i], now, usec, fwd_iov, &n_fwd);
        }
        if (n_fwd > 0) {
            forward(u, fwd_msgs, fwd_iov, n_fwd);
        }
        if (rx->drops_valid) {
            IXD_CNT_SET(u->ctx->sessions->counters.socket_drops, rx->drops);
        }
        total += (unsigned)n;
        if (n < IXD_UDP_BATCH) {
            break;
        }
    }
    return total;
}

static void
udp_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    udp_read(io->data, UDP_ROUNDS);
}

static void *
udp_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
         char *err, size_t errlen)
{
    const struct udp_settings *s = settings;

    return ixd_input_sockets_open(name, &s->l.listen, 0, s->l.receive_buffer, workers, bound,
                                  boundlen, err, errlen);
}

static void *
udp_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    struct udp_in *u = calloc(1, sizeof(*u));

    if (u == NULL) {
        return NULL;
    }
    u->ctx = ctx;
    u->cfg = settings;
    u->fd = ((struct ixd_input_sockets *)shared)->fds[ctx->worker];
    u->forward_fd[0] = u->forward_fd[1] = -1;
    ev_io_init(&u->io, udp_cb, u->fd, EV_READ);
    u->io.data = u;
    ev_io_start(ctx->loop, &u->io);
    return u;
}

static void
udp_apply(void *state, const void *settings)
{
    ((struct udp_in *)state)->cfg = settings;
}

/* What the kernel already holds for us is decoded before we go; data still waiting for its
 * template then never gets it, and is counted before the final summary. */
static void
udp_drain(void *state)
{
    struct udp_in *u = state;

    udp_read(u, DRAIN_ROUNDS);
    ixd_sessions_drop_held(u->ctx->sessions);
    ev_io_stop(u->ctx->loop, &u->io);
}

static void
udp_stop(void *state)
{
    struct udp_in *u = state;

    ev_io_stop(u->ctx->loop, &u->io);
    for (int f = 0; f < 2; f++) {
        if (u->forward_fd[f] >= 0) {
            close(u->forward_fd[f]);
        }
    }
    free(u);
}

static int
udp_up(const void *state)
{
    return ((const struct udp_in *)state)->fd >= 0;
}

const struct ixd_input_type ixd_input_udp = {
    .m =
        {
            .name = "udp",
            .keys = udp_keys,
            .settings_size = sizeof(struct udp_settings),
            .check = ixd_listening_check,
            .conflicts = ixd_listening_conflicts,
        },
    .flags = IXD_INPUT_DATAGRAMS,
    .intake = ixd_listening_intake,
    .address = ixd_listening_address,
    .open = udp_open,
    .close = ixd_input_sockets_close,
    .start = udp_start,
    .apply = udp_apply,
    .drain = udp_drain,
    .stop = udp_stop,
    .up = udp_up,
};
