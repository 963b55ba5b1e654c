/*
 * transport: dtls. IPFIX over DTLS 1.2 on UDP (RFC 7011 sections 10.3 and 11): the UDP
 * collector's sockets (one SO_REUSEPORT socket per worker: the kernel hashes a peer's address
 * and port to one of them, so its association lives on one worker) and sessions (templates with
 * a lifetime, saved at stop, shared with an HA peer), with the socket's datagrams told apart by
 * peer in dtls_peers.c. Each DTLS record is one IPFIX message. docs/internals/dtls.md.
 */
#include <errno.h>
#include <ev.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/relaxed_counter.h"
#include "crypto/tls.h"
#include "input/dtls_peers.h"
#include "input/input.h"
#include "input/intake.h"
#include "ipfix/dispatch.h"
#include "net/udp.h"

#define DTLS_ROUNDS 8     /* recvmmsg calls per wake-up before other sockets get a turn */
#define DRAIN_ROUNDS 4096 /* at stop: batches read from a socket at most */

struct dtls_settings {
    struct ixd_listening l; /* first: the shared functions read it */
    struct ixd_tls_settings tls;
    uint32_t idle_timeout;
    struct ixd_handshake_limits hs;
};

static const struct ixd_key dtls_keys[] = {
    {.name = "(listening)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct dtls_settings, l),
     .include = ixd_listening_keys},
    {.name = "(tls)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct dtls_settings, tls),
     .include = ixd_tls_server_keys},
    {.name = "idle-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct dtls_settings, idle_timeout),
     .def = "30m",
     .reload = IXD_RELOAD_HOT,
     .help = "forget associations silent for this long (0 = never)"},
    {.name = "(handshakes)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct dtls_settings, hs),
     .include = ixd_handshake_limit_keys},
    {NULL},
};

/* One worker's socket of the collector and its associations. */
struct dtls_in {
    const struct ixd_input_ctx *ctx;
    const struct dtls_settings *cfg;
    int fd;
    ev_io io;
    struct ixd_dtls_demux demux;
    struct ixd_ratelimit rl_allow;
};

/* One decrypted record: an IPFIX message of the peer's UDP session. */
static void
deliver(void *arg, const struct sockaddr *from, const char *subject, const uint8_t *msg, size_t len,
        double now)
{
    struct dtls_in *u = arg;
    struct ixd_sessions *ss = u->ctx->sessions;
    struct ixd_session *s = ixd_session_udp(ss, from, now);

    if (s == NULL || ixd_session_set_tls_subject(s, subject) == -1) {
        IXD_CNT_ADD(ss->counters.errors[IXD_ERR_NO_MEMORY], 1);
        return;
    }
    ixd_datagram_process(u->ctx->dec, s, msg, len, now, ixd_wall_usec());
}

/* Reads up to `rounds` batches of datagrams; returns how many datagrams. */
static unsigned
dtls_read(struct dtls_in *u, unsigned rounds)
{
    struct ixd_udp_rx *rx = u->ctx->rx;
    struct ixd_sessions *ss = u->ctx->sessions;
    unsigned total = 0;

    for (unsigned r = 0; r < rounds; r++) {
        int n = ixd_udp_rx_read(rx, u->fd);
        double now = ixd_mono_now();

        if (n <= 0) {
            break;
        }
        for (int i = 0; i < n; i++) {
            const struct ixd_datagram *d = &rx->got[i];
            if (!ixd_intake_allowed(&u->cfg->l.allow, ss, d->from, now, &u->rl_allow)) {
                continue;
            }
            if (d->truncated) {
                IXD_CNT_ADD(ss->counters.errors[IXD_ERR_TRUNCATED], 1);
                continue;
            }
            ixd_dtls_demux_datagram(&u->demux, d->data, d->len, d->from,
                                    d->from->sa_family == AF_INET6 ? sizeof(struct sockaddr_in6)
                                                                   : sizeof(struct sockaddr_in),
                                    now);
        }
        if (rx->drops_valid) {
            IXD_CNT_SET(ss->counters.socket_drops, rx->drops);
        }
        total += (unsigned)n;
        if (n < IXD_UDP_BATCH) {
            break;
        }
    }
    return total;
}

static void
dtls_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    dtls_read(io->data, DTLS_ROUNDS);
}

static void *
dtls_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
          char *err, size_t errlen)
{
    const struct dtls_settings *s = settings;

    return ixd_tls_shared_open(name, &s->l.listen, 1, s->l.receive_buffer, workers, bound, boundlen,
                               err, errlen);
}

/* The demux's limits from the settings: a worker's share of the collector's totals. */
static void
set_limits(struct dtls_in *u)
{
    struct ixd_dtls_limits *l = &u->demux.limits;
    unsigned w = u->ctx->workers;

    l->associations = u->ctx->max_connections;
    l->pending = (u->cfg->hs.pending + w - 1) / w;
    l->pending_per_address = u->cfg->hs.per_address;
    l->handshake_timeout = u->cfg->hs.timeout;
    l->idle_timeout = u->cfg->idle_timeout;
}

static void *
dtls_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    struct dtls_in *u = malloc(sizeof(*u));
    struct ixd_tls_shared *sh = shared;

    if (u == NULL) {
        return NULL;
    }
    memset(u, 0, offsetof(struct dtls_in, demux));
    memset(&u->rl_allow, 0, sizeof(u->rl_allow));
    u->ctx = ctx;
    u->cfg = settings;
    u->fd = sh->sockets->fds[ctx->worker];
    if (ixd_dtls_demux_init(&u->demux, ctx->name, u->fd, u->cfg->tls.ctx,
                            &sh->counters[ctx->worker], deliver, u) == -1) {
        free(u);
        return NULL;
    }
    set_limits(u);
    ev_io_init(&u->io, dtls_cb, u->fd, EV_READ);
    u->io.data = u;
    ev_io_start(ctx->loop, &u->io);
    return u;
}

/* New certificates, keys, CAs and rules apply to handshakes from now on; associations keep
 * the context they were made under. */
static void
dtls_apply(void *state, const void *settings)
{
    struct dtls_in *u = state;
    const struct ixd_tls_ctx *before = u->cfg->tls.ctx;

    u->cfg = settings;
    set_limits(u);
    if (u->cfg->tls.ctx != before && ixd_dtls_demux_set_ctx(&u->demux, u->cfg->tls.ctx) == -1) {
        log_err("collector %s: out of memory taking the new TLS settings; new handshakes use "
                "the old ones",
                u->ctx->name);
    }
}

static void
dtls_tick(void *state, double now)
{
    struct dtls_in *u = state;

    u->demux.limits.associations = u->ctx->max_connections; /* a reload may change it */
    ixd_dtls_demux_tick(&u->demux, now);
}

/* What the kernel already holds for us is decoded before we go; data still waiting for its
 * template then never gets it, and is counted before the final summary. */
static void
dtls_drain(void *state)
{
    struct dtls_in *u = state;

    dtls_read(u, DRAIN_ROUNDS);
    ixd_sessions_drop_held(u->ctx->sessions);
    ev_io_stop(u->ctx->loop, &u->io);
}

static void
dtls_stop(void *state)
{
    struct dtls_in *u = state;

    ev_io_stop(u->ctx->loop, &u->io);
    ixd_dtls_demux_release(&u->demux);
    free(u);
}

static unsigned
dtls_connections(const void *state)
{
    return ixd_dtls_demux_associations(&((const struct dtls_in *)state)->demux);
}

static int
dtls_up(const void *state)
{
    return ((const struct dtls_in *)state)->fd >= 0;
}

static int
dtls_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct dtls_settings *s = settings;

    if (ixd_listening_check(settings, env, err, errlen) == -1) {
        return -1;
    }
    return ixd_tls_settings_check(&s->tls, 1, 1, env->at, env->file, env->flags, err, errlen);
}

static void
dtls_release(void *settings)
{
    ixd_tls_settings_release(&((struct dtls_settings *)settings)->tls);
}

const struct ixd_input_type ixd_input_dtls = {
    .m =
        {
            .name = "dtls",
            .keys = dtls_keys,
            .settings_size = sizeof(struct dtls_settings),
            .check = dtls_check,
            .conflicts = ixd_listening_conflicts,
            .release = dtls_release,
        },
    .flags = IXD_INPUT_DATAGRAMS,
    .intake = ixd_listening_intake,
    .address = ixd_listening_address,
    .open = dtls_open,
    .close = ixd_tls_shared_close,
    .start = dtls_start,
    .apply = dtls_apply,
    .tick = dtls_tick,
    .drain = dtls_drain,
    .stop = dtls_stop,
    .connections = dtls_connections,
    .up = dtls_up,
    .stats = ixd_tls_shared_stats,
};
