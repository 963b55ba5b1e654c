#include "daemon/worker.h"
#include "core/clock.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ev.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/address.h"
#include "core/log.h"
#include "daemon/snapshot.h"
#include "ipfix/decode.h"
#include "ipfix/netflow.h"
#include "ipfix/wire.h"
#include "daemon/file_reader.h"
#include "ha/state.h"
#include "net/framer.h"
#include "net/udp.h"
#include "pipeline/pipeline.h"

#define FLUSH_INTERVAL 0.1 /* seconds a JSON line may wait in a worker's buffer */
#define EXPIRE_INTERVAL 10.0
#define UDP_ROUNDS 8 /* recvmmsg calls per wake-up before other sockets get a turn */
#define TCP_ROUNDS 16
#define DRAIN_ROUNDS 4096     /* at stop: batches read from a socket at most */
#define SNAPSHOT_INTERVAL 1.0 /* seconds between snapshots for the API (snapshot.h) */

enum command { CMD_NONE = 0, CMD_APPLY, CMD_STOP, CMD_HA_RESTORE };

struct wcollector;

struct tcp_conn {
    struct wcollector *wc;
    int fd;
    ev_io io;
    double last_active;
    struct ixd_session *session;
    struct tcp_conn *prev, *next;
    struct ixd_framer framer;
};

/* A pipeline with stages, run by this worker for one collector (the run owns its lanes). */
struct wpipe {
    size_t index; /* in the config's pipelines */
    struct ixd_pipeline_run *run;
};

struct wcollector {
    struct ixd_worker *w;
    const struct ixd_config_collector *cfg;
    int fd;
    ev_io io;
    struct ixd_sessions sessions;
    size_t n_lanes;
    struct ixd_lane **lanes; /* outputs fed as decoded (pipelines without stages) */
    size_t n_pipes;
    struct wpipe *pipes; /* pipelines with stages */
    struct tcp_conn *conns;
    unsigned n_conns;
    unsigned max_conns;
    struct ixd_ratelimit rl_accept;
    struct ixd_ratelimit rl_framing;
    struct ixd_ratelimit rl_allow;
    int forward_fd[2];            /* IPv4 and IPv6 sockets for cfg->forward, opened on first use */
    struct ixd_file_reader *file; /* transport file, on worker 0 */
};

struct ixd_worker {
    unsigned index;
    pthread_t thread;
    int running;
    struct ev_loop *loop;
    ev_async wake;
    ev_timer tick;
    double last_expire;
    _Atomic double last_tick; /* monotonic; the watchdog reads it from the control thread */
    struct ixd_runtime *rt;
    size_t n_wcs;
    struct wcollector **wcs;
    struct ixd_decoder dec;
    struct ixd_udp_rx rx;
    atomic_int cmd;
    struct ixd_runtime *cmd_rt;
    sem_t done;
    struct ixd_snapshot_publisher *snap;
    double last_snapshot;
    struct ixd_ha_outbox ha_outbox;           /* HA: what this worker shares (ha/state.h) */
    double ha_shared_at;                      /* monotonic */
    const struct ixd_ha_peer_state *cmd_peer; /* CMD_HA_RESTORE: what the peer shared */
    struct ixd_ha_restored ha_restored;       /* CMD_HA_RESTORE: what this worker took */
};

static void
clock_now(double *mono, int64_t *wall_usec)
{
    *mono = ixd_mono_now();
    *wall_usec = ixd_wall_usec();
}

static void
deliver(void *arg, const struct ixd_batch *batch)
{
    struct wcollector *wc = arg;
    size_t i;

    for (i = 0; i < wc->n_lanes; i++) {
        wc->lanes[i]->output->type->write(wc->lanes[i], batch);
    }
    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_process(wc->pipes[i].run, batch);
    }
}

/* The decoder's word that an exporter defined a template: for the stages that asked. */
static void
announce(void *arg, const struct ixd_template *tmpl, const struct ixd_source *source)
{
    struct wcollector *wc = arg;
    size_t i;

    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_template(wc->pipes[i].run, tmpl, source);
    }
}

static void
process(struct wcollector *wc, struct ixd_session *s, const uint8_t *msg, size_t len, double now,
        int64_t usec)
{
    wc->w->dec.deliver_arg = wc;
    ixd_message_process(&wc->w->dec, s, msg, len, now, usec);
}

/* The allow-list: a refused source is counted on the collector and never gets a session. */
static int
allowed(struct wcollector *wc, const struct sockaddr *from, double now)
{
    if (wc->cfg->n_allow == 0 || ixd_prefix_match(wc->cfg->allow, wc->cfg->n_allow, from)) {
        return 1;
    }
    IXD_CNT_ADD(wc->sessions.counters.errors[IXD_ERR_NOT_ALLOWED], 1);
    if (ixd_log_level_get() >= IXD_LOG_WARNING) {
        struct in6_addr a;
        char text[INET6_ADDRSTRLEN];
        ixd_address_mapped(from, &a, NULL);
        inet_ntop(AF_INET6, &a, text, sizeof(text));
        ixd_log_limited(&wc->rl_allow, now, IXD_LOG_WARNING,
                        "collector %s: %s is not in the allow-list; ignoring it", wc->cfg->name,
                        text);
    }
    return 0;
}

/* The sending socket for a forward destination's family (-1 if it cannot be had). */
static int
forward_socket(struct wcollector *wc, int family)
{
    int *fd = &wc->forward_fd[family == AF_INET6];

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
forward(struct wcollector *wc, struct mmsghdr *msgs, struct iovec *iov, unsigned n)
{
    const struct ixd_config_collector *cfg = wc->cfg;
    size_t d;
    unsigned i;

    for (d = 0; d < cfg->n_forward; d++) {
        const struct ixd_export_dest *dest = &cfg->forward[d];
        int fd = forward_socket(wc, dest->addr.ss_family);
        unsigned sent = 0;

        for (i = 0; i < n; i++) {
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
        IXD_CNT_ADD(wc->sessions.counters.forwarded, sent);
        IXD_CNT_ADD(wc->sessions.counters.forward_dropped, n - sent);
    }
}

/* Reads up to `rounds` batches of datagrams; returns how many datagrams. */
static unsigned
udp_read(struct wcollector *wc, unsigned rounds)
{
    struct ixd_udp_rx *rx = &wc->w->rx;
    unsigned total = 0, r;

    for (r = 0; r < rounds; r++) {
        int64_t usec;
        double now;
        int n = ixd_udp_rx_read(rx, wc->fd);
        int i;
        struct mmsghdr fwd_msgs[IXD_UDP_BATCH];
        struct iovec fwd_iov[IXD_UDP_BATCH];
        unsigned n_fwd = 0;

        if (n <= 0) {
            break;
        }
        clock_now(&now, &usec);
        for (i = 0; i < n; i++) {
            const struct ixd_datagram *d = &rx->got[i];
            struct ixd_session *s;

            if (!allowed(wc, d->from, now)) {
                continue;
            }
            if (wc->cfg->n_forward > 0) {
                if (d->truncated) {
                    /* not whole: a repeater passes datagrams unchanged or not at all */
                    IXD_CNT_ADD(wc->sessions.counters.forward_dropped, wc->cfg->n_forward);
                } else {
                    fwd_iov[n_fwd].iov_base = (void *)d->data;
                    fwd_iov[n_fwd++].iov_len = d->len;
                }
            }
            s = ixd_session_udp(&wc->sessions, d->from, now);

            if (s == NULL) {
                IXD_CNT_ADD(wc->sessions.counters.errors[IXD_ERR_NO_MEMORY], 1);
                continue;
            }
            if (d->truncated) {
                ixd_count_error(s, NULL, IXD_ERR_TRUNCATED);
                continue;
            }
            if (d->len >= 2 && d->data[0] == 0 && d->data[1] != IXD_IPFIX_VERSION &&
                (d->data[1] == IXD_NETFLOW9_VERSION || d->data[1] == IXD_NETFLOW5_VERSION)) {
                wc->w->dec.deliver_arg = wc;
                ixd_netflow_process(&wc->w->dec, s, d->data, d->len, now, usec);
                continue;
            }
            s->packet_sequence = 0;
            s->source.system_init_ms = 0;
            process(wc, s, d->data, d->len, now, usec);
        }
        if (n_fwd > 0) {
            forward(wc, fwd_msgs, fwd_iov, n_fwd);
        }
        if (rx->drops_valid) {
            IXD_CNT_SET(wc->sessions.counters.socket_drops, rx->drops);
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

static void
conn_close(struct tcp_conn *c)
{
    struct wcollector *wc = c->wc;

    if (ixd_framer_pending(&c->framer) > 0) {
        /* the stream ended inside a message: it is lost, and counted */
        ixd_count_error(c->session, NULL, IXD_ERR_TRUNCATED);
    }
    ev_io_stop(wc->w->loop, &c->io);
    close(c->fd);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        wc->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    wc->n_conns--;
    ixd_session_free(c->session); /* its templates die with the connection (RFC 7011 8) */
    free(c);
}

/* Processes every complete message in the framer; -1 when framing is lost. */
static int
conn_messages(struct tcp_conn *c, double now, int64_t usec)
{
    const uint8_t *msg;
    size_t len;
    int r;

    while ((r = ixd_framer_next(&c->framer, &msg, &len)) == 1) {
        process(c->wc, c->session, msg, len, now, usec);
    }
    return r;
}

static void
tcp_read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tcp_conn *c = io->data;
    unsigned r;

    for (r = 0; r < TCP_ROUNDS; r++) {
        size_t room;
        uint8_t *p = ixd_framer_space(&c->framer, &room);
        ssize_t n = read(c->fd, p, room);
        int64_t usec;
        double now;

        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            return;
        }
        if (n <= 0) {
            conn_close(c);
            return;
        }
        ixd_framer_commit(&c->framer, (size_t)n);
        clock_now(&now, &usec);
        c->last_active = now;
        if (conn_messages(c, now, usec) == -1) {
            ixd_count_error(c->session, NULL, IXD_ERR_TCP_FRAMING);
            ixd_log_limited(&c->wc->rl_framing, now, IXD_LOG_WARNING,
                            "collector %s: %s:%u sent a stream that is not IPFIX; closing it",
                            c->wc->cfg->name, c->session->source.exporter_text,
                            c->session->source.exporter_port);
            c->framer.have = c->framer.start; /* nothing partial left to count */
            conn_close(c);
            return;
        }
    }
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct wcollector *wc = io->data;

    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        struct tcp_conn *c;
        int64_t usec;
        double now;
        int fd = accept4(wc->fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (fd == -1) {
            if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR &&
                errno != ECONNABORTED) {
                clock_now(&now, &usec);
                ixd_log_limited(&wc->rl_accept, now, IXD_LOG_ERROR,
                                "collector %s: cannot accept: %s", wc->cfg->name, strerror(errno));
            }
            return;
        }
        clock_now(&now, &usec);
        if (!allowed(wc, (struct sockaddr *)&from, now)) {
            close(fd);
            continue;
        }
        if (wc->n_conns >= wc->max_conns) {
            IXD_CNT_ADD(wc->sessions.counters.errors[IXD_ERR_CONNECTION_LIMIT], 1);
            ixd_log_limited(&wc->rl_accept, now, IXD_LOG_WARNING,
                            "collector %s: connection limit reached; refusing a connection",
                            wc->cfg->name);
            close(fd);
            continue;
        }
        c = calloc(1, sizeof(*c));
        if (c == NULL ||
            (c->session = ixd_session_tcp(&wc->sessions, (struct sockaddr *)&from, now)) == NULL) {
            IXD_CNT_ADD(wc->sessions.counters.errors[IXD_ERR_NO_MEMORY], 1);
            free(c);
            close(fd);
            continue;
        }
        c->wc = wc;
        c->fd = fd;
        c->last_active = now;
        ixd_framer_init(&c->framer);
        ev_io_init(&c->io, tcp_read_cb, fd, EV_READ);
        c->io.data = c;
        ev_io_start(loop, &c->io);
        c->next = wc->conns;
        if (wc->conns != NULL) {
            wc->conns->prev = c;
        }
        wc->conns = c;
        wc->n_conns++;
    }
}

static void
flush_lanes(struct ixd_worker *w)
{
    size_t i, j;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        for (j = 0; j < wc->n_lanes; j++) {
            struct ixd_lane *l = wc->lanes[j];
            l->output->type->flush(l);
        }
        for (size_t p = 0; p < wc->n_pipes; p++) {
            ixd_pipeline_flush(wc->pipes[p].run); /* a second flush of a lane hands on nothing */
        }
    }
}

/* Copies this worker's state for the API (snapshot.h); its age is also its liveness. */
static void
publish_snapshot(struct ixd_worker *w, double now, int64_t usec)
{
    size_t i;

    ixd_snapshot_begin(w->snap, w->n_wcs, now, usec);
    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        int up = wc->fd >= 0 || wc->cfg->transport == IXD_TRANSPORT_FILE;
        ixd_snapshot_add_collector(w->snap, wc->cfg, w->rt->listeners[i].bound, up, &wc->sessions,
                                   wc->n_conns);
        for (struct tcp_conn *c = wc->conns; c != NULL; c = c->next) {
            ixd_snapshot_add_session(w->snap, c->session);
        }
    }
    if (w->index == 0) {
        ixd_snapshot_add_outputs(w->snap, w->rt->outputs, w->rt->cfg->n_outputs);
    }
    ixd_snapshot_publish(w->snap);
}

/* HA: serializes what changed in this worker's UDP collectors for the peer (ha/state.h). */
static void
ha_share(struct ixd_worker *w, double now, int64_t usec)
{
    /* half a tick of slack, so that a 100 ms interval is every 100 ms tick */
    if (now - w->ha_shared_at < w->rt->cfg->ha.share_interval_ms / 1000.0 - FLUSH_INTERVAL / 2) {
        return;
    }
    w->ha_shared_at = now;
    ixd_ha_publish_begin(&w->ha_outbox);
    for (size_t i = 0; i < w->n_wcs; i++) {
        if (w->wcs[i]->cfg->transport == IXD_TRANSPORT_UDP) {
            ixd_ha_publish_add(&w->ha_outbox, &w->wcs[i]->sessions, w->index, now, usec / 1000);
        }
    }
    ixd_ha_publish_end(&w->ha_outbox);
}

/* HA: takes the peer's templates and sequence numbers into the collector of the same name. */
static void
ha_restore(struct ixd_worker *w, const struct ixd_ha_peer_state *st)
{
    int64_t usec;
    double now;

    clock_now(&now, &usec);
    memset(&w->ha_restored, 0, sizeof(w->ha_restored));
    for (size_t i = 0; i < w->n_wcs; i++) {
        if (w->wcs[i]->cfg->transport == IXD_TRANSPORT_UDP &&
            strcmp(w->wcs[i]->cfg->name, st->collector) == 0) {
            ixd_ha_restore(st, &w->wcs[i]->sessions, now, usec / 1000, &w->ha_restored);
        }
    }
}

static void
tick_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ixd_worker *w = t->data;
    int64_t usec;
    double now;
    size_t i;

    clock_now(&now, &usec);
    atomic_store_explicit(&w->last_tick, now, memory_order_relaxed);
    /* before the flush: what stages emit on their tick goes out on this one */
    for (i = 0; i < w->n_wcs; i++) {
        for (size_t k = 0; k < w->wcs[i]->n_pipes; k++) {
            ixd_pipeline_tick(w->wcs[i]->pipes[k].run, now);
        }
    }
    flush_lanes(w);
    /* only the API reads snapshots: without it they would cost a copy of every template */
    if (w->rt->cfg->api.enabled && now - w->last_snapshot >= SNAPSHOT_INTERVAL) {
        w->last_snapshot = now;
        publish_snapshot(w, now, usec);
    }
    if (w->rt->cfg->ha.enabled) {
        ha_share(w, now, usec);
    }
    if (now - w->last_expire < EXPIRE_INTERVAL) {
        return;
    }
    w->last_expire = now;
    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        struct tcp_conn *c, *next;

        ixd_sessions_expire(&wc->sessions, now);
        for (c = wc->conns; c != NULL; c = next) {
            next = c->next;
            if (wc->cfg->idle_timeout > 0 && now - c->last_active > (double)wc->cfg->idle_timeout) {
                conn_close(c);
                continue;
            }
            ixd_session_expire_held(c->session, now);
        }
    }
}

static void
stop_pipes(struct wcollector *wc)
{
    size_t i;

    for (i = 0; i < wc->n_pipes; i++) {
        ixd_pipeline_stop(wc->pipes[i].run);
    }
    free(wc->pipes);
    wc->pipes = NULL;
    wc->n_pipes = 0;
}

/* Starts this worker's instances of the pipelines with stages collector ci feeds in rt. */
static int
start_pipes(struct wcollector *wc, struct ixd_runtime *rt, size_t ci)
{
    size_t i, k;

    wc->pipes = calloc(rt->n_staged[ci] + 1, sizeof(*wc->pipes));
    if (wc->pipes == NULL) {
        return -1;
    }
    for (i = 0; i < rt->n_staged[ci]; i++) {
        size_t p = rt->staged[ci][i];
        const struct ixd_config_pipeline *pl = &rt->cfg->pipelines[p];
        struct wpipe *wp = &wc->pipes[wc->n_pipes];
        struct ixd_lane **lanes = calloc(pl->n_to + 1, sizeof(*lanes));

        if (lanes == NULL) {
            return -1;
        }
        for (k = 0; k < pl->n_to; k++) {
            struct ixd_output *o = rt->outputs[pl->to[k]];
            lanes[k] = o->type->lane(o, wc->w->index);
        }
        wp->index = p;
        wp->run = ixd_pipeline_start(&rt->instances->pipelines[p], wc->w->index, lanes, pl->n_to);
        free(lanes);
        if (wp->run == NULL) {
            return -1;
        }
        wc->n_pipes++;
    }
    return 0;
}

/* Points a collector at the lanes of the outputs its pipelines feed in rt, and starts its
 * pipelines with stages afresh (their state is per config: filters compile again). */
static int
set_lanes(struct wcollector *wc, struct ixd_runtime *rt, size_t ci)
{
    size_t i;

    stop_pipes(wc);
    if (start_pipes(wc, rt, ci) == -1) {
        return -1;
    }
    free(wc->lanes);
    wc->n_lanes = 0;
    wc->lanes = calloc(rt->n_routes[ci] + 1, sizeof(*wc->lanes));
    if (wc->lanes == NULL) {
        return -1;
    }
    for (i = 0; i < rt->n_routes[ci]; i++) {
        struct ixd_output *o = rt->routes[ci][i];
        wc->lanes[wc->n_lanes++] = o->type->lane(o, wc->w->index);
    }
    return 0;
}

/* A worker's share of a collector-wide total: totals are split evenly, rounded up. */
static uint64_t
share(uint64_t total, unsigned workers)
{
    return (total + workers - 1) / workers;
}

static uint32_t
clamp32(uint64_t v)
{
    return v > UINT32_MAX ? UINT32_MAX : (uint32_t)v;
}

/* The limits one worker applies to one collector's sessions. */
static void
session_limits(const struct ixd_runtime *rt, const struct ixd_config_collector *cfg,
               struct ixd_session_limits *sl, struct ixd_template_rules *rules)
{
    const struct ixd_config_limits *l = &rt->cfg->limits;

    sl->template_lifetime = cfg->template_lifetime;
    sl->templates_per_session = clamp32(l->templates_per_session);
    sl->templates_per_exporter = clamp32(l->templates_per_exporter);
    sl->templates_total = clamp32(share(l->templates_total, rt->workers));
    sl->template_memory = share(l->template_memory, rt->workers);
    sl->sessions_per_exporter = clamp32(l->sessions_per_exporter);
    sl->sessions_total = clamp32(share(l->sessions_total, rt->workers));
    sl->domains_per_session = clamp32(l->domains_per_session);
    sl->hold = cfg->hold;
    sl->hold_time = clamp32(l->hold_time);
    sl->held_sets_per_session = clamp32(l->held_sets_per_session);
    sl->held_bytes_per_session = l->held_bytes_per_session;
    sl->held_bytes_total = share(l->held_bytes_total, rt->workers);
    sl->netflow9_pen = cfg->netflow9_pen;
    sl->sampling = cfg->sampling;
    sl->n_sampling = cfg->n_sampling;
    rules->registry = rt->registry;
    rules->max_fields = clamp32(l->fields_per_template);
    rules->max_record = clamp32(l->bytes_per_template);
}

static struct wcollector *
wc_new(struct ixd_worker *w, struct ixd_runtime *rt, size_t ci)
{
    const struct ixd_config_collector *cfg = &rt->cfg->collectors[ci];
    struct ixd_session_limits limits;
    struct ixd_template_rules rules;
    struct wcollector *wc = calloc(1, sizeof(*wc));
    int tcp = cfg->transport == IXD_TRANSPORT_TCP;

    if (wc == NULL) {
        return NULL;
    }
    wc->forward_fd[0] = wc->forward_fd[1] = -1;
    wc->w = w;
    wc->cfg = cfg;
    wc->fd = rt->listeners[ci].fds[w->index];
    wc->max_conns = clamp32(share(rt->cfg->limits.tcp_connections, rt->workers));
    session_limits(rt, cfg, &limits, &rules);
    ixd_sessions_init(&wc->sessions, cfg->name, tcp, &rules, &limits);
    if (rt->restore != NULL && rt->restore[ci] != NULL) {
        struct timespec mono, wall;
        clock_gettime(CLOCK_MONOTONIC, &mono);
        clock_gettime(CLOCK_REALTIME, &wall);
        ixd_templates_restore(rt->restore[ci], &wc->sessions,
                              (double)mono.tv_sec + (double)mono.tv_nsec / 1e9, wall.tv_sec);
    }
    if (set_lanes(wc, rt, ci) == -1) {
        ixd_sessions_release(&wc->sessions);
        free(wc);
        return NULL;
    }
    if (cfg->transport == IXD_TRANSPORT_FILE) {
        /* one reader keeps the file's messages in order; the other workers have nothing */
        if (w->index == 0) {
            wc->file = ixd_file_reader_start(w->loop, cfg->path, &wc->sessions, &w->dec, wc);
        }
        return wc;
    }
    ev_io_init(&wc->io, tcp ? accept_cb : udp_cb, wc->fd, EV_READ);
    wc->io.data = wc;
    ev_io_start(w->loop, &wc->io);
    return wc;
}

static void
wc_free(struct wcollector *wc)
{
    ev_io_stop(wc->w->loop, &wc->io);
    ixd_file_reader_stop(wc->file);
    while (wc->conns != NULL) {
        conn_close(wc->conns);
    }
    ixd_sessions_release(&wc->sessions);
    stop_pipes(wc);
    for (int f = 0; f < 2; f++) {
        if (wc->forward_fd[f] >= 0) {
            close(wc->forward_fd[f]);
        }
    }
    free(wc->lanes);
    free(wc);
}

/* Runs in the worker (or before it starts): keeps unchanged collectors with their state. */
static void
apply(struct ixd_worker *w, struct ixd_runtime *rt)
{
    size_t n = rt->cfg->n_collectors, i, j;
    struct wcollector **next = calloc(n + 1, sizeof(*next));

    if (next == NULL) {
        ixd_fatal("worker %u: out of memory applying a config", w->index);
    }
    flush_lanes(w); /* outputs that go away get what is buffered for them */
    for (i = 0; i < n; i++) {
        const struct ixd_config_collector *cfg = &rt->cfg->collectors[i];
        for (j = 0; j < w->n_wcs && next[i] == NULL; j++) {
            struct wcollector *old = w->wcs[j];
            if (old != NULL && ixd_config_collector_same(old->cfg, cfg)) {
                /* limits, hold and allow-list apply from now on; state stays */
                old->cfg = cfg;
                old->max_conns = clamp32(share(rt->cfg->limits.tcp_connections, rt->workers));
                session_limits(rt, cfg, &old->sessions.limits, &old->sessions.rules);
                if (set_lanes(old, rt, i) == -1) {
                    ixd_fatal("worker %u: out of memory applying a config", w->index);
                }
                next[i] = old;
                w->wcs[j] = NULL;
            }
        }
        if (next[i] == NULL) {
            next[i] = wc_new(w, rt, i);
            if (next[i] == NULL) {
                ixd_fatal("worker %u: out of memory applying a config", w->index);
            }
        }
    }
    for (j = 0; j < w->n_wcs; j++) {
        if (w->wcs[j] != NULL) {
            wc_free(w->wcs[j]);
        }
    }
    free(w->wcs);
    w->wcs = next;
    w->n_wcs = n;
    w->rt = rt;
}

static void
stop(struct ixd_worker *w)
{
    size_t i;

    /* what the kernel already holds for us is decoded before we go */
    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        if (wc->cfg->transport == IXD_TRANSPORT_UDP) {
            udp_read(wc, DRAIN_ROUNDS);
            ixd_sessions_drop_held(&wc->sessions); /* counted before the final summary */
        }
        ev_io_stop(w->loop, &wc->io);
        while (wc->conns != NULL) {
            tcp_read_cb(w->loop, &wc->conns->io, EV_READ);
            if (wc->conns != NULL) {
                conn_close(wc->conns);
            }
        }
    }
    flush_lanes(w);
    ev_timer_stop(w->loop, &w->tick);
    ev_break(w->loop, EVBREAK_ALL);
}

static void
wake_cb(struct ev_loop *loop, ev_async *a, int revents)
{
    struct ixd_worker *w = a->data;
    int cmd = atomic_exchange(&w->cmd, CMD_NONE);

    if (cmd == CMD_APPLY) {
        apply(w, w->cmd_rt);
    } else if (cmd == CMD_STOP) {
        stop(w);
    } else if (cmd == CMD_HA_RESTORE) {
        ha_restore(w, w->cmd_peer);
    } else {
        return;
    }
    sem_post(&w->done);
}

static void *
worker_main(void *arg)
{
    struct ixd_worker *w = arg;

    ev_run(w->loop, 0);
    return NULL;
}

struct ixd_worker *
ixd_worker_start(unsigned index, struct ixd_runtime *rt, char *err, size_t errlen)
{
    struct ixd_worker *w = calloc(1, sizeof(*w));

    if (w == NULL || ixd_udp_rx_init(&w->rx) == -1) {
        snprintf(err, errlen, "worker %u: out of memory", index);
        free(w);
        return NULL;
    }
    {
        int64_t usec;
        double now;
        clock_now(&now, &usec);
        atomic_store_explicit(&w->last_tick, now, memory_order_relaxed); /* alive from birth */
    }
    w->index = index;
    w->snap = ixd_snapshot_publisher_new(index);
    w->loop = ev_loop_new(EVFLAG_AUTO | EVFLAG_NOSIGMASK);
    if (w->loop == NULL || w->snap == NULL) {
        snprintf(err, errlen, "worker %u: cannot create an event loop", index);
        ixd_snapshot_publisher_free(w->snap);
        if (w->loop != NULL) {
            ev_loop_destroy(w->loop);
        }
        ixd_udp_rx_release(&w->rx);
        free(w);
        return NULL;
    }
    sem_init(&w->done, 0, 0);
    ixd_decoder_init(&w->dec, deliver, NULL);
    w->dec.on_template = announce;
    ev_async_init(&w->wake, wake_cb);
    w->wake.data = w;
    ev_async_start(w->loop, &w->wake);
    ev_timer_init(&w->tick, tick_cb, FLUSH_INTERVAL, FLUSH_INTERVAL);
    w->tick.data = w;
    ev_timer_start(w->loop, &w->tick);
    apply(w, rt); /* the thread does not exist yet: nothing else touches w */
    if (pthread_create(&w->thread, NULL, worker_main, w) != 0) {
        snprintf(err, errlen, "worker %u: cannot start a thread: %s", index, strerror(errno));
        ixd_worker_free(w);
        return NULL;
    }
    w->running = 1;
    return w;
}

static void
command(struct ixd_worker *w, int cmd, struct ixd_runtime *rt)
{
    w->cmd_rt = rt;
    atomic_store(&w->cmd, cmd);
    ev_async_send(w->loop, &w->wake);
    while (sem_wait(&w->done) == -1 && errno == EINTR) {
    }
}

void
ixd_worker_apply(struct ixd_worker *w, struct ixd_runtime *rt)
{
    command(w, CMD_APPLY, rt);
}

void
ixd_worker_ha_restore(struct ixd_worker *w, const struct ixd_ha_peer_state *st,
                      struct ixd_ha_restored *got)
{
    w->cmd_peer = st;
    command(w, CMD_HA_RESTORE, NULL);
    got->templates += w->ha_restored.templates;
    got->sequences += w->ha_restored.sequences;
}

struct ixd_ha_outbox *
ixd_worker_ha_outbox(struct ixd_worker *w)
{
    return &w->ha_outbox;
}

void
ixd_worker_stop(struct ixd_worker *w)
{
    if (!w->running) {
        return;
    }
    command(w, CMD_STOP, NULL);
    pthread_join(w->thread, NULL);
    w->running = 0;
}

void
ixd_worker_free(struct ixd_worker *w)
{
    size_t i;

    if (w == NULL) {
        return;
    }
    ixd_worker_stop(w);
    for (i = 0; i < w->n_wcs; i++) {
        wc_free(w->wcs[i]);
    }
    free(w->wcs);
    ev_async_stop(w->loop, &w->wake);
    ev_timer_stop(w->loop, &w->tick);
    ev_loop_destroy(w->loop);
    ixd_udp_rx_release(&w->rx);
    sem_destroy(&w->done);
    ixd_snapshot_publisher_free(w->snap);
    ixd_ha_items_free(ixd_ha_outbox_take(&w->ha_outbox));
    free(w);
}

struct ixd_snapshot_publisher *
ixd_worker_snapshots(struct ixd_worker *w)
{
    return w->snap;
}

int
ixd_worker_collector_counters(struct ixd_worker *w, const char *name, struct ixd_counters *sum,
                              unsigned *tcp_connections, unsigned *sessions)
{
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        if (strcmp(wc->cfg->name, name) == 0) {
            ixd_counters_sum(sum, &wc->sessions.counters);
            *tcp_connections += wc->n_conns;
            *sessions += wc->sessions.tcp ? wc->n_conns : g_hash_table_size(wc->sessions.udp);
            return 0;
        }
    }
    return -1;
}

double
ixd_worker_last_tick(struct ixd_worker *w)
{
    return atomic_load_explicit(&w->last_tick, memory_order_relaxed);
}

void
ixd_worker_pipeline_counters(struct ixd_worker *w, size_t pipeline,
                             struct ixd_pipeline_counters *sum)
{
    size_t i, j;

    for (i = 0; i < w->n_wcs; i++) {
        for (j = 0; j < w->wcs[i]->n_pipes; j++) {
            if (w->wcs[i]->pipes[j].index == pipeline) {
                ixd_pipeline_counters(w->wcs[i]->pipes[j].run, sum);
            }
        }
    }
}

struct ixd_sessions *
ixd_worker_sessions(struct ixd_worker *w, const char *collector)
{
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        if (strcmp(w->wcs[i]->cfg->name, collector) == 0) {
            return &w->wcs[i]->sessions;
        }
    }
    return NULL;
}

void
ixd_worker_each_exporter(struct ixd_worker *w, ixd_exporter_fn fn, void *arg)
{
    GHashTableIter it;
    gpointer v;
    size_t i;

    for (i = 0; i < w->n_wcs; i++) {
        struct wcollector *wc = w->wcs[i];
        g_hash_table_iter_init(&it, wc->sessions.exporters);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            const struct ixd_exporter *e = v;
            GHashTableIter dit;
            gpointer dv;

            fn(arg, wc->cfg->name, e->text, -1, &e->counters);
            g_hash_table_iter_init(&dit, e->domains);
            while (g_hash_table_iter_next(&dit, NULL, &dv)) {
                const struct ixd_domain_counters *dc = dv;
                fn(arg, wc->cfg->name, e->text, dc->odid, &dc->c);
            }
        }
    }
}
