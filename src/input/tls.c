/*
 * transport: tls. IPFIX over TLS (RFC 7011 sections 10.4 and 11): the TCP collector's sockets
 * and sessions (one SO_REUSEPORT listening socket per worker, a connection a session of its
 * own), with a TLS handshake before anything is decoded. Handshakes are non-blocking steps on
 * the worker's loop, each bounded in time (handshake-timeout) and in number (per address and in
 * total), so a slow or hostile peer cannot stall the exporters beside it; a connection gets its
 * session and its 64 KiB framer only once its certificate was accepted. A reload that changes
 * certificates, keys, CAs or the rules applies to handshakes from then on: established
 * connections keep the context they were accepted under. docs/tls.md.
 */
#include <errno.h>
#include <ev.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/relaxed_counter.h"
#include "crypto/tls.h"
#include "input/handshakes.h"
#include "input/input.h"
#include "input/intake.h"
#include "input/stream.h"
#include "ipfix/decode.h"
#include "net/framer.h"

/* reads per wake-up before other sockets get a turn: a read is one TLS record (16 KiB at
 * most), so this lets a connection take about what 16 reads of a TCP one would */
#define TLS_ROUNDS 64
#define EXPIRE_INTERVAL 10.0 /* seconds between idle and held-data checks */

struct tls_settings {
    struct ixd_listening l; /* first: the shared functions read it */
    struct ixd_tls_settings tls;
    uint32_t idle_timeout; /* seconds; 0 = never */
    struct ixd_handshake_limits hs;
};

static const struct ixd_key tls_keys[] = {
    {.name = "(listening)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct tls_settings, l),
     .include = ixd_listening_keys},
    {.name = "(tls)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct tls_settings, tls),
     .include = ixd_tls_server_keys},
    {.name = "idle-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct tls_settings, idle_timeout),
     .def = "0",
     .help = "close connections silent for this long (0 = never)"},
    {.name = "(handshakes)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct tls_settings, hs),
     .include = ixd_handshake_limit_keys},
    {NULL},
};

struct tls_in;

struct tls_conn {
    struct tls_in *in;
    int fd;
    ev_io io;
    int events;   /* what io waits for */
    int peeked;   /* the first byte was seen to start a handshake */
    double since; /* accepted (handshakes), last data (established) */
    struct ixd_tls *tls;
    struct ixd_session *session; /* NULL until the handshake is done */
    struct ixd_framer *framer;   /* the same */
    struct sockaddr_storage from;
    struct tls_conn *prev, *next; /* in pending or conns */
};

/* One worker's listening socket of the collector, its handshakes and connections. */
struct tls_in {
    const struct ixd_input_ctx *ctx;
    const struct tls_settings *cfg;
    int fd;
    ev_io io;
    struct tls_conn *pending, *conns;
    unsigned n_pending;
    atomic_uint n_conns; /* established; read by the control thread */
    double last_expire;
    struct ixd_handshakes hs;
    struct ixd_ratelimit rl_accept, rl_framing, rl_allow;
};

static void read_cb(struct ev_loop *loop, ev_io *io, int revents);

static void
unlink_conn(struct tls_conn **list, struct tls_conn *c)
{
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        *list = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    c->prev = c->next = NULL;
}

static void
link_conn(struct tls_conn **list, struct tls_conn *c)
{
    c->next = *list;
    if (*list != NULL) {
        (*list)->prev = c;
    }
    *list = c;
}

/* Closes a connection, established or not (its handshake then counted by the caller). */
static void
conn_close(struct tls_conn *c)
{
    struct tls_in *t = c->in;

    ev_io_stop(t->ctx->loop, &c->io);
    if (c->session != NULL) {
        if (ixd_framer_pending(c->framer) > 0) {
            /* the stream ended inside a message: it is lost, and counted */
            ixd_count_error(c->session, NULL, IXD_ERR_TRUNCATED);
        }
        ixd_tls_shutdown(c->tls);
        unlink_conn(&t->conns, c);
        atomic_fetch_sub_explicit(&t->n_conns, 1, memory_order_relaxed);
        ixd_session_free(c->session); /* its templates die with the connection (RFC 7011 8) */
    } else {
        unlink_conn(&t->pending, c);
        t->n_pending--;
    }
    ixd_tls_free(c->tls);
    close(c->fd);
    free(c->framer);
    free(c);
}

static void
handshake_failed(struct tls_conn *c, enum ixd_tls_fail why, const char *what, double now)
{
    ixd_handshakes_failed(&c->in->hs, (struct sockaddr *)&c->from, why, what, now);
    conn_close(c);
}

/* Waits for what the TLS layer needs: readable, and writable when it wants to write. */
static void
want(struct tls_conn *c, int events)
{
    if (events != c->events) {
        ev_io_stop(c->in->ctx->loop, &c->io);
        ev_io_set(&c->io, c->fd, events);
        ev_io_start(c->in->ctx->loop, &c->io);
        c->events = events;
    }
}

static void
want_tls(struct tls_conn *c)
{
    want(c, ixd_tls_want_write(c->tls) ? EV_READ | EV_WRITE : EV_READ);
}

/* The handshake is done: the exporter gets its session, named by its certificate. */
static int
established(struct tls_conn *c, double now)
{
    struct tls_in *t = c->in;
    char peer[64], what[128];

    ixd_handshakes_done(&t->hs, (struct sockaddr *)&c->from);
    c->framer = malloc(sizeof(*c->framer));
    c->session = c->framer != NULL
                     ? ixd_session_tcp(t->ctx->sessions, (struct sockaddr *)&c->from, now)
                     : NULL;
    unlink_conn(&t->pending, c);
    t->n_pending--;
    if (c->session == NULL ||
        ixd_session_set_tls_subject(c->session, ixd_tls_subject(c->tls)) == -1) {
        IXD_CNT_ADD(t->ctx->sessions->counters.errors[IXD_ERR_NO_MEMORY], 1);
        ixd_session_free(c->session);
        c->session = NULL;
        ixd_tls_free(c->tls);
        close(c->fd);
        ev_io_stop(t->ctx->loop, &c->io);
        free(c->framer);
        free(c);
        return -1;
    }
    ixd_framer_init(c->framer);
    link_conn(&t->conns, c);
    atomic_fetch_add_explicit(&t->n_conns, 1, memory_order_relaxed);
    c->since = now;
    ixd_handshakes_peer_text((struct sockaddr *)&c->from, peer, sizeof(peer));
    ixd_tls_describe(c->tls, what, sizeof(what));
    log_info("collector %s: %s connected over %s as %s", t->ctx->name, peer, what,
             ixd_tls_subject(c->tls)[0] != '\0' ? ixd_tls_subject(c->tls) : "(no certificate)");
    return 0;
}

/* One handshake step; 1 when established. A peer whose first byte cannot start a handshake is
 * refused at once: most likely IPFIX sent without TLS to this port. */
static int
handshake_step(struct tls_conn *c, double now)
{
    uint8_t first;
    int r;

    if (!c->peeked) {
        ssize_t n = recv(c->fd, &first, 1, MSG_PEEK);
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)) {
            return 0;
        }
        if (n <= 0) {
            handshake_failed(c, IXD_TLS_FAIL_CLOSED, n == 0 ? "closed" : strerror(errno), now);
            return -1;
        }
        if (!ixd_tls_looks_like_tls(&first, 1)) {
            handshake_failed(c, IXD_TLS_FAIL_NOT_TLS,
                             first == 0 ? "it sent IPFIX without TLS" : "it sent something else",
                             now);
            return -1;
        }
        c->peeked = 1;
    }
    r = ixd_tls_handshake(c->tls);
    if (r == 0) {
        want_tls(c);
        return 0;
    }
    if (r == -1) {
        handshake_failed(c, ixd_tls_failure(c->tls), ixd_tls_error(c->tls), now);
        return -1;
    }
    return established(c, now) == 0 ? 1 : -1;
}

/* Decrypts what has arrived into the framer and decodes the messages it completes. */
static void
conn_read(struct tls_conn *c)
{
    for (unsigned r = 0; r < TLS_ROUNDS; r++) {
        size_t room;
        uint8_t *p = ixd_framer_space(c->framer, &room);
        ssize_t n = ixd_tls_read(c->tls, p, room);
        double now;

        if (n == 0) {
            want_tls(c);
            return;
        }
        if (n < 0) {
            if (!ixd_tls_closed(c->tls)) {
                ixd_handshakes_tls_error(&c->in->hs, (struct sockaddr *)&c->from,
                                         ixd_tls_error(c->tls), ixd_mono_now());
            }
            conn_close(c);
            return;
        }
        ixd_framer_commit(c->framer, (size_t)n);
        now = ixd_mono_now();
        c->since = now;
        if (ixd_stream_messages(c->in->ctx, c->session, c->framer, now, ixd_wall_usec()) == -1) {
            ixd_stream_framing_lost(c->in->ctx, &c->in->rl_framing, c->session, c->framer, now);
            conn_close(c);
            return;
        }
    }
    /* its turn is over; what TLS already read from the socket will not wake the loop again */
    if (ixd_tls_pending(c->tls)) {
        ev_feed_event(c->in->ctx->loop, &c->io, EV_READ);
    }
}

static void
read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tls_conn *c = io->data;

    if (c->session == NULL && handshake_step(c, ixd_mono_now()) != 1) {
        return;
    }
    conn_read(c);
}

/* A new connection from an allowed source, within the connection and handshake limits. */
static void
conn_new(void *arg, int fd, const struct sockaddr *from, socklen_t fromlen, double now)
{
    struct tls_in *t = arg;
    struct ixd_sessions *ss = t->ctx->sessions;
    unsigned share = (t->cfg->hs.pending + t->ctx->workers - 1) / t->ctx->workers;
    struct tls_conn *c;

    if (!ixd_intake_allowed(&t->cfg->l.allow, ss, from, now, &t->rl_allow)) {
        close(fd);
        return;
    }
    if (ixd_stream_at_limit(t->ctx,
                            atomic_load_explicit(&t->n_conns, memory_order_relaxed) + t->n_pending,
                            &t->rl_accept, now)) {
        close(fd);
        return;
    }
    if (t->cfg->tls.ctx == NULL ||
        ixd_handshakes_begin(&t->hs, from, share, t->cfg->hs.per_address, now) == -1) {
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->tls = ixd_tls_accept(t->cfg->tls.ctx, fd)) == NULL) {
        IXD_CNT_ADD(ss->counters.errors[IXD_ERR_NO_MEMORY], 1);
        ixd_handshakes_failed(&t->hs, from, IXD_TLS_FAIL_OTHER, "out of memory", now);
        free(c);
        close(fd);
        return;
    }
    c->in = t;
    c->fd = fd;
    c->since = now;
    memcpy(&c->from, from, fromlen);
    c->events = EV_READ;
    ev_io_init(&c->io, read_cb, fd, EV_READ);
    c->io.data = c;
    ev_io_start(t->ctx->loop, &c->io);
    link_conn(&t->pending, c);
    t->n_pending++;
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tls_in *t = io->data;

    ixd_stream_accept(t->ctx, t->fd, &t->rl_accept, conn_new, t);
}

static void *
tls_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
         char *err, size_t errlen)
{
    const struct tls_settings *s = settings;

    return ixd_tls_shared_open(name, &s->l.listen, 0, s->l.receive_buffer, workers, bound, boundlen,
                               err, errlen);
}

static void *
tls_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    struct tls_in *t = calloc(1, sizeof(*t));
    struct ixd_tls_shared *sh = shared;

    if (t == NULL || ixd_handshakes_init(&t->hs, ctx->name, &sh->counters[ctx->worker]) == -1) {
        free(t);
        return NULL;
    }
    t->ctx = ctx;
    t->cfg = settings;
    t->fd = sh->sockets->fds[ctx->worker];
    ev_io_init(&t->io, accept_cb, t->fd, EV_READ);
    t->io.data = t;
    ev_io_start(ctx->loop, &t->io);
    return t;
}

/* New certificates, keys, CAs and rules apply to handshakes from now on; a connection keeps
 * the context it was accepted under (it holds a reference). */
static void
tls_apply(void *state, const void *settings)
{
    ((struct tls_in *)state)->cfg = settings;
}

/* Handshakes past handshake-timeout are abandoned (every tick); connections silent for
 * idle-timeout close and data held for a template too long is dropped (every 10 s). */
static void
tls_tick(void *state, double now)
{
    struct tls_in *t = state;
    struct tls_conn *c, *next;

    for (c = t->pending; c != NULL; c = next) {
        next = c->next;
        if (now - c->since > (double)t->cfg->hs.timeout) {
            handshake_failed(c, IXD_TLS_FAIL_TIMEOUT, "not done in time", now);
        }
    }
    if (now - t->last_expire < EXPIRE_INTERVAL) {
        return;
    }
    t->last_expire = now;
    for (c = t->conns; c != NULL; c = next) {
        next = c->next;
        if (t->cfg->idle_timeout > 0 && now - c->since > (double)t->cfg->idle_timeout) {
            conn_close(c);
            continue;
        }
        ixd_session_expire_held(c->session, now);
    }
}

static void
close_pending(struct tls_in *t)
{
    while (t->pending != NULL) {
        handshake_failed(t->pending, IXD_TLS_FAIL_CLOSED, "ipfixd is stopping", ixd_mono_now());
    }
}

/* At stop: no new connections; what each has sent is decoded, then it closes. */
static void
tls_drain(void *state)
{
    struct tls_in *t = state;

    ev_io_stop(t->ctx->loop, &t->io);
    close_pending(t);
    while (t->conns != NULL) {
        struct tls_conn *c = t->conns;
        conn_read(c);
        if (t->conns == c) {
            conn_close(c);
        }
    }
}

static void
tls_stop(void *state)
{
    struct tls_in *t = state;

    ev_io_stop(t->ctx->loop, &t->io);
    close_pending(t);
    while (t->conns != NULL) {
        conn_close(t->conns);
    }
    ixd_handshakes_release(&t->hs);
    free(t);
}

static void
tls_each_connection(void *state, void (*fn)(void *arg, const struct ixd_session *s), void *arg)
{
    for (const struct tls_conn *c = ((struct tls_in *)state)->conns; c != NULL; c = c->next) {
        fn(arg, c->session);
    }
}

static unsigned
tls_connections(const void *state)
{
    return atomic_load_explicit(&((const struct tls_in *)state)->n_conns, memory_order_relaxed);
}

static int
tls_up(const void *state)
{
    return ((const struct tls_in *)state)->fd >= 0;
}

static int
tls_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    struct tls_settings *s = settings;

    s->l.stream = 1;
    if (ixd_listening_check(settings, env, err, errlen) == -1) {
        return -1;
    }
    return ixd_tls_settings_check(&s->tls, 1, 0, env->at, env->file, env->flags, err, errlen);
}

static void
tls_release(void *settings)
{
    ixd_tls_settings_release(&((struct tls_settings *)settings)->tls);
}

const struct ixd_input_type ixd_input_tls = {
    .m =
        {
            .name = "tls",
            .keys = tls_keys,
            .settings_size = sizeof(struct tls_settings),
            .check = tls_check,
            .conflicts = ixd_listening_conflicts,
            .release = tls_release,
        },
    .flags = IXD_INPUT_CONNECTIONS,
    .intake = ixd_listening_intake,
    .address = ixd_listening_address,
    .open = tls_open,
    .close = ixd_tls_shared_close,
    .start = tls_start,
    .apply = tls_apply,
    .tick = tls_tick,
    .drain = tls_drain,
    .stop = tls_stop,
    .each_connection = tls_each_connection,
    .connections = tls_connections,
    .up = tls_up,
    .stats = ixd_tls_shared_stats,
};
