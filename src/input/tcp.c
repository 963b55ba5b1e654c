/*
 * transport: tcp. One SO_REUSEPORT listening socket per worker; a connection stays with the
 * worker that accepted it, and is a transport session of its own: its templates die with it
 * (RFC 7011 section 8). Messages are reassembled from the stream at any byte (net/framer.h); a
 * stream that is not IPFIX is counted and closed.
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
#include "input/input.h"
#include "input/intake.h"
#include "input/stream.h"
#include "ipfix/decode.h"
#include "net/framer.h"

#define TCP_ROUNDS 16        /* reads per wake-up before other sockets get a turn */
#define EXPIRE_INTERVAL 10.0 /* seconds between idle and held-data checks */

struct tcp_settings {
    struct ixd_listening l; /* first: the shared functions read it */
    uint32_t idle_timeout;  /* seconds; 0 = never */
};

static const struct ixd_key tcp_keys[] = {
    {.name = "(listening)",
     .kind = IXD_KEY_INCLUDE,
     IXD_KEY_AT(struct tcp_settings, l),
     .include = ixd_listening_keys},
    {.name = "idle-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct tcp_settings, idle_timeout),
     .def = "0",
     .help = "close connections silent for this long (0 = never)"},
    {NULL},
};

struct tcp_in;

struct tcp_conn {
    struct tcp_in *in;
    int fd;
    ev_io io;
    double last_active;
    struct ixd_session *session;
    struct tcp_conn *prev, *next;
    struct ixd_framer framer;
};

/* One worker's listening socket of the collector and the connections it accepted. */
struct tcp_in {
    const struct ixd_input_ctx *ctx;
    const struct tcp_settings *cfg;
    int fd;
    ev_io io;
    struct tcp_conn *conns;
    atomic_uint n_conns; /* read by the control thread (stats) */
    double last_expire;
    struct ixd_ratelimit rl_accept, rl_framing, rl_allow;
};

static void
conn_close(struct tcp_conn *c)
{
    struct tcp_in *t = c->in;

    if (ixd_framer_pending(&c->framer) > 0) {
        /* the stream ended inside a message: it is lost, and counted */
        ixd_count_error(c->session, NULL, IXD_ERR_TRUNCATED);
    }
    ev_io_stop(t->ctx->loop, &c->io);
    close(c->fd);
    if (c->prev != NULL) {
        c->prev->next = c->next;
    } else {
        t->conns = c->next;
    }
    if (c->next != NULL) {
        c->next->prev = c->prev;
    }
    atomic_fetch_sub_explicit(&t->n_conns, 1, memory_order_relaxed);
    ixd_session_free(c->session); /* its templates die with the connection (RFC 7011 8) */
    free(c);
}

static void
read_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tcp_conn *c = io->data;

    for (unsigned r = 0; r < TCP_ROUNDS; r++) {
        size_t room;
        uint8_t *p = ixd_framer_space(&c->framer, &room);
        ssize_t n = read(c->fd, p, room);
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
        now = ixd_mono_now();
        c->last_active = now;
        if (ixd_stream_messages(c->in->ctx, c->session, &c->framer, now, ixd_wall_usec()) == -1) {
            ixd_stream_framing_lost(c->in->ctx, &c->in->rl_framing, c->session, &c->framer, now);
            conn_close(c);
            return;
        }
    }
}

/* A new connection from an allowed source, within the connection limit. */
static void
conn_new(void *arg, int fd, const struct sockaddr *from, socklen_t fromlen, double now)
{
    struct tcp_in *t = arg;
    struct ixd_sessions *ss = t->ctx->sessions;
    struct tcp_conn *c;

    if (!ixd_intake_allowed(&t->cfg->l.allow, ss, from, now, &t->rl_allow)) {
        close(fd);
        return;
    }
    if (ixd_stream_at_limit(t->ctx, atomic_load_explicit(&t->n_conns, memory_order_relaxed),
                            &t->rl_accept, now)) {
        close(fd);
        return;
    }
    c = calloc(1, sizeof(*c));
    if (c == NULL || (c->session = ixd_session_tcp(ss, from, now)) == NULL) {
        IXD_CNT_ADD(ss->counters.errors[IXD_ERR_NO_MEMORY], 1);
        free(c);
        close(fd);
        return;
    }
    c->in = t;
    c->fd = fd;
    c->last_active = now;
    ixd_framer_init(&c->framer);
    ev_io_init(&c->io, read_cb, fd, EV_READ);
    c->io.data = c;
    ev_io_start(t->ctx->loop, &c->io);
    c->next = t->conns;
    if (t->conns != NULL) {
        t->conns->prev = c;
    }
    t->conns = c;
    atomic_fetch_add_explicit(&t->n_conns, 1, memory_order_relaxed);
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct tcp_in *t = io->data;

    ixd_stream_accept(t->ctx, t->fd, &t->rl_accept, conn_new, t);
}

static void *
tcp_open(const void *settings, const char *name, unsigned workers, char *bound, size_t boundlen,
         char *err, size_t errlen)
{
    const struct tcp_settings *s = settings;

    return ixd_input_sockets_open(name, &s->l.listen, 1, s->l.receive_buffer, workers, bound,
                                  boundlen, err, errlen);
}

static void *
tcp_start(void *shared, const void *settings, const struct ixd_input_ctx *ctx)
{
    struct tcp_in *t = calloc(1, sizeof(*t));

    if (t == NULL) {
        return NULL;
    }
    t->ctx = ctx;
    t->cfg = settings;
    t->fd = ((struct ixd_input_sockets *)shared)->fds[ctx->worker];
    ev_io_init(&t->io, accept_cb, t->fd, EV_READ);
    t->io.data = t;
    ev_io_start(ctx->loop, &t->io);
    return t;
}

static void
tcp_apply(void *state, const void *settings)
{
    ((struct tcp_in *)state)->cfg = settings;
}

/* Connections silent for idle-timeout close; data held for a template too long is dropped. */
static void
tcp_tick(void *state, double now)
{
    struct tcp_in *t = state;
    struct tcp_conn *c, *next;

    if (now - t->last_expire < EXPIRE_INTERVAL) {
        return;
    }
    t->last_expire = now;
    for (c = t->conns; c != NULL; c = next) {
        next = c->next;
        if (t->cfg->idle_timeout > 0 && now - c->last_active > (double)t->cfg->idle_timeout) {
            conn_close(c);
            continue;
        }
        ixd_session_expire_held(c->session, now);
    }
}

/* At stop: no new connections; what each has sent is decoded, then it closes. */
static void
tcp_drain(void *state)
{
    struct tcp_in *t = state;

    ev_io_stop(t->ctx->loop, &t->io);
    while (t->conns != NULL) {
        read_cb(t->ctx->loop, &t->conns->io, EV_READ);
        if (t->conns != NULL) {
            conn_close(t->conns);
        }
    }
}

static void
tcp_stop(void *state)
{
    struct tcp_in *t = state;

    ev_io_stop(t->ctx->loop, &t->io);
    while (t->conns != NULL) {
        conn_close(t->conns);
    }
    free(t);
}

static void
tcp_each_connection(void *state, void (*fn)(void *arg, const struct ixd_session *s), void *arg)
{
    for (const struct tcp_conn *c = ((struct tcp_in *)state)->conns; c != NULL; c = c->next) {
        fn(arg, c->session);
    }
}

static unsigned
tcp_connections(const void *state)
{
    return atomic_load_explicit(&((const struct tcp_in *)state)->n_conns, memory_order_relaxed);
}

static int
tcp_up(const void *state)
{
    return ((const struct tcp_in *)state)->fd >= 0;
}

static int
tcp_check(void *settings, const struct ixd_module_env *env, char *err, size_t errlen)
{
    ((struct tcp_settings *)settings)->l.stream = 1;
    return ixd_listening_check(settings, env, err, errlen);
}

const struct ixd_input_type ixd_input_tcp = {
    .m =
        {
            .name = "tcp",
            .keys = tcp_keys,
            .settings_size = sizeof(struct tcp_settings),
            .check = tcp_check,
            .conflicts = ixd_listening_conflicts,
        },
    .flags = IXD_INPUT_CONNECTIONS,
    .intake = ixd_listening_intake,
    .address = ixd_listening_address,
    .open = tcp_open,
    .close = ixd_input_sockets_close,
    .start = tcp_start,
    .apply = tcp_apply,
    .tick = tcp_tick,
    .drain = tcp_drain,
    .stop = tcp_stop,
    .each_connection = tcp_each_connection,
    .connections = tcp_connections,
    .up = tcp_up,
};
