#include "ha/channel.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/log.h"
#include "crypto/hmac.h"
#include "ha/protocol.h"

#define READ_CHUNK 65536
#define READ_ROUNDS 64 /* reads per wake-up: the control loop has signals to serve too */
/* reads before authentication: the handshake is two frames of under 100 bytes, and a stranger
 * should cost us a page, not a read chunk */
#define HANDSHAKE_READ 512

struct ha_stats {
    uint64_t connects, reconnects, auth_failures, protocol_errors, timeouts, overflows, oversized,
        refused, evicted, frames_sent, bytes_sent, frames_received, bytes_received, templates_sent,
        sequences_sent, templates_received, sequences_received, templates_restored,
        sequences_restored, decode_errors;
};

struct conn {
    struct ixd_ha_channel *ch;
    int fd;
    int outgoing;   /* ours to the peer: it sends state; the peer's to us receives it */
    int connecting; /* connect(2) in progress */
    ev_io io;
    ev_timer handshake;
    struct ixd_ha_auth auth;
    struct ixd_ha_buf in, out;
    char name[80]; /* the other end, for messages */
    struct conn *next;
};

struct ixd_ha_channel {
    struct ev_loop *loop;
    struct ixd_config_ha cfg;
    uint8_t key[IXD_HA_KEY_MAX + 1];
    size_t keylen;
    uint8_t id[IXD_HA_ID_LEN];
    int listen_fd;
    ev_io accept_io;
    struct conn *out; /* NULL between attempts */
    ev_timer reconnect;
    double backoff;
    int attempted; /* a first attempt was made: later ones count as reconnects */
    struct conn *incoming;
    unsigned n_incoming;
    ev_timer poll;
    struct ixd_ha_outbox *const *outboxes;
    size_t n_workers;
    ixd_ha_deliver_fn deliver;
    void *deliver_arg;
    GHashTable *latest; /* "collector/kind/worker" -> struct ixd_ha_item (owned) */
    struct ha_stats st;
    struct ixd_ratelimit rl_connect, rl_peer, rl_auth, rl_listen;
};

static double
now_of(struct ixd_ha_channel *ch)
{
    return ev_now(ch->loop);
}

static void connect_start(struct ixd_ha_channel *ch);

static void
conn_events(struct conn *c)
{
    int want = EV_READ | (c->connecting || ixd_ha_buf_pending(&c->out) > 0 ? EV_WRITE : 0);

    if ((c->io.events & (EV_READ | EV_WRITE)) != want) {
        ev_io_stop(c->ch->loop, &c->io);
        ev_io_set(&c->io, c->fd, want);
        ev_io_start(c->ch->loop, &c->io);
    }
}

/* Closes c and frees it; an outgoing connection is tried again after the backoff. */
static void
conn_close(struct conn *c)
{
    struct ixd_ha_channel *ch = c->ch;

    ev_io_stop(ch->loop, &c->io);
    ev_timer_stop(ch->loop, &c->handshake);
    close(c->fd);
    ixd_ha_buf_release(&c->in);
    ixd_ha_buf_release(&c->out);
    if (c->outgoing) {
        ch->out = NULL;
        ev_timer_set(&ch->reconnect, ch->backoff, 0);
        ev_timer_start(ch->loop, &ch->reconnect);
        ch->backoff = ch->backoff * 2 > IXD_HA_BACKOFF_MAX ? IXD_HA_BACKOFF_MAX : ch->backoff * 2;
    } else {
        struct conn **p = &ch->incoming;
        while (*p != c) {
            p = &(*p)->next;
        }
        *p = c->next;
        ch->n_incoming--;
    }
    ixd_key_wipe(&c->auth, sizeof(c->auth));
    free(c);
}

static void
item_key(const struct ixd_ha_item *it, char *key, size_t keylen)
{
    snprintf(key, keylen, "%s/%u/%u", it->collector, it->kind, it->worker);
}

/* Queues one item on the authenticated outgoing connection; -1 when c was closed. */
static int
send_item(struct conn *c, const struct ixd_ha_item *it)
{
    struct ixd_ha_channel *ch = c->ch;
    size_t size = ixd_ha_state_size(it->collector, it->len);

    if (ixd_ha_buf_pending(&c->out) + size > IXD_HA_QUEUE_MAX) {
        /* the peer does not keep up: start again, and it gets the full set then */
        ch->st.overflows++;
        ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_WARNING,
                        "ha: more than %u bytes queued for %s; reconnecting", IXD_HA_QUEUE_MAX,
                        c->name);
        conn_close(c);
        return -1;
    }
    if (ixd_ha_state_append(&c->auth, &c->out, it->collector, it->kind, it->worker, it->count,
                            it->data, it->len) == -1) {
        log_err("ha: out of memory queueing state for %s", c->name);
        conn_close(c);
        return -1;
    }
    ch->st.frames_sent++;
    if (it->kind == IXD_HA_KIND_TEMPLATES) {
        ch->st.templates_sent += it->count;
    } else {
        ch->st.sequences_sent += it->count;
    }
    return 0;
}

/* A connection that comes up gets the latest of everything. */
static int
send_all(struct conn *c)
{
    GHashTableIter it;
    gpointer v;

    g_hash_table_iter_init(&it, c->ch->latest);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        if (send_item(c, v) == -1) {
            return -1;
        }
    }
    conn_events(c);
    return 0;
}

static void
receive_state(struct conn *c, const struct ixd_ha_state_view *v)
{
    struct ixd_ha_channel *ch = c->ch;
    struct ixd_ha_peer_state ps;
    struct ixd_ha_restored got = {0, 0};
    char err[256];

    ch->st.frames_received++;
    if (ixd_ha_peer_state_decode(v->collector, v->kind, v->data, v->len, &ps, err, sizeof(err)) ==
        -1) {
        ch->st.decode_errors++;
        /* the log escapes what the peer wrote (core/log.h) */
        ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_WARNING,
                        "ha: ignoring state for collector %s from %s: %s", v->collector, c->name,
                        err);
        return;
    }
    if (ps.templates != NULL) {
        ch->st.templates_received += ixd_ha_peer_state_count(&ps);
    } else {
        ch->st.sequences_received += ps.n_seqs;
    }
    ch->deliver(ch->deliver_arg, &ps, &got);
    ch->st.templates_restored += got.templates;
    ch->st.sequences_restored += got.sequences;
    ixd_ha_peer_state_release(&ps);
}

/* Handles one frame; -1 when c was closed. */
static int
conn_frame(struct conn *c, const struct ixd_ha_frame *f)
{
    struct ixd_ha_channel *ch = c->ch;
    enum ixd_ha_result r;

    if (!c->auth.done) {
        r = ixd_ha_auth_step(&c->auth, f, &c->out);
        if (r == IXD_HA_DONE) {
            ev_timer_stop(ch->loop, &c->handshake);
            log_info("ha: %s %s authenticated", c->outgoing ? "connection to" : "connection from",
                     c->name);
            if (c->outgoing) {
                ch->backoff = IXD_HA_BACKOFF_MIN;
                return send_all(c);
            }
        }
    } else if (!c->outgoing) {
        struct ixd_ha_state_view v;
        r = ixd_ha_state_open(&c->auth, f, &v);
        if (r == IXD_HA_OK) {
            receive_state(c, &v);
        }
    } else {
        r = IXD_HA_EPROTOCOL; /* the receiving end has nothing to say after AUTH_OK */
    }
    if (r >= 0) {
        return 0;
    }
    if (r == IXD_HA_EAUTH) {
        ch->st.auth_failures++;
        ixd_log_limited(&ch->rl_auth, now_of(ch), IXD_LOG_WARNING,
                        "ha: %s failed authentication (another key, or this ipfixd itself); "
                        "closing",
                        c->name);
    } else {
        ch->st.protocol_errors++;
        ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_WARNING,
                        "ha: %s broke the protocol (frame type %u); closing", c->name, f->type);
    }
    conn_close(c);
    return -1;
}

/* Reads what there is and handles every complete frame; -1 when c was closed. */
static int
conn_read(struct conn *c)
{
    struct ixd_ha_channel *ch = c->ch;
    struct ixd_ha_frame f;
    int round, r;

    for (round = 0; round < READ_ROUNDS; round++) {
        size_t chunk = c->auth.done ? READ_CHUNK : HANDSHAKE_READ;
        ssize_t n;

        if (ixd_ha_buf_reserve(&c->in, chunk) == -1) {
            conn_close(c);
            return -1;
        }
        n = recv(c->fd, c->in.data + c->in.len, chunk, 0);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n <= 0) {
            if (c->outgoing && c->auth.hello_seen && !c->auth.done) {
                /* the server closes on a proof it cannot check: it holds another key */
                ch->st.auth_failures++;
                ixd_log_limited(&ch->rl_auth, now_of(ch), IXD_LOG_WARNING,
                                "ha: %s refused our authentication (another key?)", c->name);
            } else {
                ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_INFO, "ha: %s closed (%s)",
                                c->name, n == 0 ? "end of stream" : strerror(errno));
            }
            conn_close(c);
            return -1;
        }
        c->in.len += (size_t)n;
        ch->st.bytes_received += (uint64_t)n;
        /* the cap follows the state: authentication may end within this read */
        while ((r = ixd_ha_frame_peek(&c->in, ixd_ha_frame_max(&c->auth), &f)) == 1) {
            if (conn_frame(c, &f) == -1) {
                return -1;
            }
            ixd_ha_buf_consume(&c->in, f.size);
        }
        if (r == -1) {
            ch->st.oversized++;
            ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_WARNING,
                            "ha: %s sent an empty frame or one over %zu bytes%s; closing", c->name,
                            ixd_ha_frame_max(&c->auth),
                            c->auth.done ? "" : " before authenticating");
            conn_close(c);
            return -1;
        }
    }
    return 0;
}

/* Writes what is queued; -1 when c was closed. */
static int
conn_write(struct conn *c)
{
    while (ixd_ha_buf_pending(&c->out) > 0) {
        ssize_t n =
            send(c->fd, c->out.data + c->out.off, ixd_ha_buf_pending(&c->out), MSG_NOSIGNAL);
        if (n == -1 && errno == EINTR) {
            continue;
        }
        if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            break;
        }
        if (n == -1) {
            ixd_log_limited(&c->ch->rl_peer, now_of(c->ch), IXD_LOG_INFO,
                            "ha: cannot write to %s: %s", c->name, strerror(errno));
            conn_close(c);
            return -1;
        }
        c->ch->st.bytes_sent += (uint64_t)n;
        ixd_ha_buf_consume(&c->out, (size_t)n);
    }
    conn_events(c);
    return 0;
}

static void
conn_io_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct conn *c = io->data;

    if (c->connecting && (revents & EV_WRITE)) {
        int soerr = 0;
        socklen_t len = sizeof(soerr);
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
        if (soerr != 0) {
            ixd_log_limited(&c->ch->rl_connect, now_of(c->ch), IXD_LOG_WARNING,
                            "ha: cannot connect to %s: %s", c->name, strerror(soerr));
            conn_close(c);
            return;
        }
        c->connecting = 0;
        c->ch->st.connects++;
        conn_events(c);
        return;
    }
    if ((revents & EV_READ) && conn_read(c) == -1) {
        return;
    }
    conn_write(c);
}

static void
handshake_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct conn *c = t->data;

    c->ch->st.timeouts++;
    ixd_log_limited(&c->ch->rl_peer, now_of(c->ch), IXD_LOG_WARNING,
                    "ha: %s did not authenticate within %.0fs; closing", c->name,
                    IXD_HA_HANDSHAKE_TIMEOUT);
    conn_close(c);
}

static void
address_text(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
    char host[INET6_ADDRSTRLEN] = "?";

    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &sin->sin_addr, host, sizeof(host));
        snprintf(out, outlen, "%s:%u", host, ntohs(sin->sin_port));
    } else {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &sin6->sin6_addr, host, sizeof(host));
        snprintf(out, outlen, "[%s]:%u", host, ntohs(sin6->sin6_port));
    }
}

/* Dead peers (a host that vanished) show up within seconds instead of TCP's minutes. */
static void
tune_socket(int fd)
{
    int on = 1, idle = 5, intvl = 2, cnt = 3;
    unsigned timeout_ms = 10000;

    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &on, sizeof(on));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPINTVL, &intvl, sizeof(intvl));
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPCNT, &cnt, sizeof(cnt));
    setsockopt(fd, IPPROTO_TCP, TCP_USER_TIMEOUT, &timeout_ms, sizeof(timeout_ms));
}

static struct conn *
conn_new(struct ixd_ha_channel *ch, int fd, int outgoing, const struct sockaddr_storage *addr)
{
    struct conn *c = calloc(1, sizeof(*c));

    if (c == NULL || ixd_ha_auth_init(&c->auth, outgoing, ch->key, ch->keylen, ch->id) == -1) {
        log_err("ha: out of memory or randomness for a connection");
        free(c);
        close(fd);
        return NULL;
    }
    c->ch = ch;
    c->fd = fd;
    c->outgoing = outgoing;
    address_text(addr, c->name, sizeof(c->name));
    tune_socket(fd);
    ev_io_init(&c->io, conn_io_cb, fd, EV_READ);
    c->io.data = c;
    ev_timer_init(&c->handshake, handshake_cb, IXD_HA_HANDSHAKE_TIMEOUT, 0);
    c->handshake.data = c;
    ev_timer_start(ch->loop, &c->handshake);
    return c;
}

static void
connect_start(struct ixd_ha_channel *ch)
{
    const struct sockaddr_storage *peer = &ch->cfg.peer_addr;
    int fd = socket(peer->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    struct conn *c;

    if (ch->attempted) {
        ch->st.reconnects++;
    }
    ch->attempted = 1;
    if (fd == -1) {
        ixd_log_limited(&ch->rl_connect, now_of(ch), IXD_LOG_ERROR,
                        "ha: cannot create a socket: %s", strerror(errno));
        ev_timer_set(&ch->reconnect, IXD_HA_BACKOFF_MAX, 0);
        ev_timer_start(ch->loop, &ch->reconnect);
        return;
    }
    c = conn_new(ch, fd, 1, peer);
    if (c == NULL) {
        ev_timer_set(&ch->reconnect, IXD_HA_BACKOFF_MAX, 0);
        ev_timer_start(ch->loop, &ch->reconnect);
        return;
    }
    ch->out = c;
    c->connecting = 1;
    if (connect(fd, (const struct sockaddr *)peer, ch->cfg.peer_addrlen) == -1 &&
        errno != EINPROGRESS) {
        ixd_log_limited(&ch->rl_connect, now_of(ch), IXD_LOG_WARNING,
                        "ha: cannot connect to %s: %s", c->name, strerror(errno));
        conn_close(c);
        return;
    }
    conn_events(c);
}

static void
reconnect_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    connect_start(t->data);
}

/*
 * Frees a slot for the connection from `from` when all are taken: the oldest one still
 * authenticating is closed (the list is newest first). Refusing the newcomer instead would let
 * anyone who reaches the port keep the peer out by holding every slot; this way the peer's
 * connection, whose handshake takes one round trip, gets through unless IXD_HA_INCOMING_MAX
 * newer connections arrive within that time. 0, or -1 when every slot is authenticated.
 */
static int
make_room(struct ixd_ha_channel *ch, const char *from)
{
    struct conn *c, *oldest = NULL;

    if (ch->n_incoming < IXD_HA_INCOMING_MAX) {
        return 0;
    }
    for (c = ch->incoming; c != NULL; c = c->next) {
        if (!c->auth.done) {
            oldest = c;
        }
    }
    if (oldest == NULL) {
        ch->st.refused++;
        ixd_log_limited(&ch->rl_listen, now_of(ch), IXD_LOG_WARNING,
                        "ha: refusing %s: %u authenticated connections already", from,
                        IXD_HA_INCOMING_MAX);
        return -1;
    }
    ch->st.evicted++;
    ixd_log_limited(&ch->rl_listen, now_of(ch), IXD_LOG_WARNING,
                    "ha: %u connections to the listener; closing %s, the oldest not "
                    "authenticated, for %s",
                    IXD_HA_INCOMING_MAX, oldest->name, from);
    conn_close(oldest);
    return 0;
}

static void
accept_cb(struct ev_loop *loop, ev_io *io, int revents)
{
    struct ixd_ha_channel *ch = io->data;

    for (;;) {
        struct sockaddr_storage from;
        socklen_t len = sizeof(from);
        int fd =
            accept4(ch->listen_fd, (struct sockaddr *)&from, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
        char name[80];
        struct conn *c;

        if (fd == -1) {
            return; /* EAGAIN, or an error the next readiness reports again */
        }
        address_text(&from, name, sizeof(name));
        if (make_room(ch, name) == -1) {
            close(fd);
            continue;
        }
        c = conn_new(ch, fd, 0, &from);
        if (c == NULL) {
            continue;
        }
        c->next = ch->incoming;
        ch->incoming = c;
        ch->n_incoming++;
        if (ixd_ha_auth_hello(&c->auth, &c->out) == -1) {
            conn_close(c);
            continue;
        }
        ev_io_start(loop, &c->io);
        conn_write(c);
    }
}

/* Takes what the workers published, keeps the latest of each, sends what is new. */
static void
poll_cb(struct ev_loop *loop, ev_timer *t, int revents)
{
    struct ixd_ha_channel *ch = t->data;
    size_t k;

    for (k = 0; k < ch->n_workers; k++) {
        struct ixd_ha_item *it = ixd_ha_outbox_take(ch->outboxes[k]), *next;

        for (; it != NULL; it = next) {
            char key[128];

            next = it->next;
            it->next = NULL;
            if (ixd_ha_state_size(it->collector, it->len) > IXD_HA_HEADER_LEN + IXD_HA_FRAME_MAX) {
                ch->st.oversized++;
                ixd_log_limited(&ch->rl_peer, now_of(ch), IXD_LOG_WARNING,
                                "ha: state of collector %s (worker %u) is over %u bytes; not "
                                "shared",
                                it->collector, it->worker, IXD_HA_FRAME_MAX);
                free(it);
                continue;
            }
            if (ch->out != NULL && ch->out->auth.done) {
                send_item(ch->out, it);
            }
            item_key(it, key, sizeof(key));
            g_hash_table_replace(ch->latest, g_strdup(key), it);
        }
    }
    if (ch->out != NULL && ch->out->auth.done) {
        conn_write(ch->out);
    }
}

static int
listen_on(struct ixd_ha_channel *ch, char *err, size_t errlen)
{
    const struct sockaddr_storage *a = &ch->cfg.listen_addr;
    int on = 1, off = 0;
    int fd = socket(a->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);

    if (fd == -1) {
        snprintf(err, errlen, "ha: cannot create a socket: %s", strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
    if (a->ss_family == AF_INET6) {
        setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    }
    if (bind(fd, (const struct sockaddr *)a, ch->cfg.listen_addrlen) == -1 ||
        listen(fd, IXD_HA_INCOMING_MAX) == -1) {
        snprintf(err, errlen, "ha: cannot listen on %s: %s", ch->cfg.listen, strerror(errno));
        close(fd);
        return -1;
    }
    ch->listen_fd = fd;
    return 0;
}

struct ixd_ha_channel *
ixd_ha_channel_new(struct ev_loop *loop, const struct ixd_config_ha *cfg,
                   struct ixd_ha_outbox *const *outboxes, size_t n_workers,
                   ixd_ha_deliver_fn deliver, void *arg, char *err, size_t errlen)
{
    struct ixd_ha_channel *ch = calloc(1, sizeof(*ch));
    char why[512];

    if (ch == NULL) {
        snprintf(err, errlen, "ha: out of memory");
        return NULL;
    }
    ch->loop = loop;
    ch->cfg = *cfg;
    ch->listen_fd = -1;
    ch->outboxes = outboxes;
    ch->n_workers = n_workers;
    ch->deliver = deliver;
    ch->deliver_arg = arg;
    ch->backoff = IXD_HA_BACKOFF_MIN;
    if (ixd_key_file_read(cfg->key_file, ch->key, IXD_HA_KEY_MIN, IXD_HA_KEY_MAX, &ch->keylen, why,
                          sizeof(why)) == -1) {
        snprintf(err, errlen, "ha: %s", why);
        free(ch);
        return NULL;
    }
    if (ixd_random_bytes(ch->id, sizeof(ch->id)) == -1) {
        snprintf(err, errlen, "ha: no randomness for an instance id");
        goto fail;
    }
    if (listen_on(ch, err, errlen) == -1) {
        goto fail;
    }
    ch->latest = g_hash_table_new_full(g_str_hash, g_str_equal, g_free, free);
    ev_io_init(&ch->accept_io, accept_cb, ch->listen_fd, EV_READ);
    ch->accept_io.data = ch;
    ev_io_start(loop, &ch->accept_io);
    ev_timer_init(&ch->reconnect, reconnect_cb, 0, 0);
    ch->reconnect.data = ch;
    /* half the share interval: what a worker published waits at most that long here */
    ev_timer_init(&ch->poll, poll_cb, cfg->share_interval_ms / 2000.0,
                  cfg->share_interval_ms / 2000.0);
    ch->poll.data = ch;
    ev_timer_start(loop, &ch->poll);
    connect_start(ch);
    return ch;
fail:
    ixd_key_wipe(ch->key, sizeof(ch->key));
    free(ch);
    return NULL;
}

void
ixd_ha_channel_free(struct ixd_ha_channel *ch)
{
    if (ch == NULL) {
        return;
    }
    while (ch->incoming != NULL) {
        conn_close(ch->incoming);
    }
    if (ch->out != NULL) {
        conn_close(ch->out);
    }
    ev_timer_stop(ch->loop, &ch->reconnect);
    ev_timer_stop(ch->loop, &ch->poll);
    ev_io_stop(ch->loop, &ch->accept_io);
    close(ch->listen_fd);
    g_hash_table_destroy(ch->latest);
    ixd_key_wipe(ch->key, sizeof(ch->key));
    free(ch);
}

const struct ixd_config_ha *
ixd_ha_channel_config(const struct ixd_ha_channel *ch)
{
    return &ch->cfg;
}

void
ixd_ha_channel_log(const struct ixd_ha_channel *ch, const char *when)
{
    const struct ha_stats *s = &ch->st;

    log_info("%s ha: peer=%s connected=%s incoming=%u connects=%llu reconnects=%llu "
             "auth_failures=%llu protocol_errors=%llu timeouts=%llu overflows=%llu "
             "oversized=%llu refused=%llu evicted=%llu frames_sent=%llu bytes_sent=%llu "
             "templates_sent=%llu sequences_sent=%llu frames_received=%llu "
             "bytes_received=%llu templates_received=%llu templates_restored=%llu "
             "sequences_received=%llu sequences_restored=%llu decode_errors=%llu",
             when, ch->cfg.peer, ch->out != NULL && ch->out->auth.done ? "yes" : "no",
             ch->n_incoming, (unsigned long long)s->connects, (unsigned long long)s->reconnects,
             (unsigned long long)s->auth_failures, (unsigned long long)s->protocol_errors,
             (unsigned long long)s->timeouts, (unsigned long long)s->overflows,
             (unsigned long long)s->oversized, (unsigned long long)s->refused,
             (unsigned long long)s->evicted, (unsigned long long)s->frames_sent,
             (unsigned long long)s->bytes_sent, (unsigned long long)s->templates_sent,
             (unsigned long long)s->sequences_sent, (unsigned long long)s->frames_received,
             (unsigned long long)s->bytes_received, (unsigned long long)s->templates_received,
             (unsigned long long)s->templates_restored, (unsigned long long)s->sequences_received,
             (unsigned long long)s->sequences_restored, (unsigned long long)s->decode_errors);
}
