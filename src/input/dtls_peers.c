#include "input/dtls_peers.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/hash.h"
#include "core/relaxed_counter.h"

struct peer_key {
    struct in6_addr addr; /* IPv4 as IPv4-mapped */
    uint16_t port;
};

struct ixd_dtls_peer {
    struct peer_key key;
    struct sockaddr_storage from;
    socklen_t fromlen;
    struct ixd_tls *tls;
    int established;
    double since, last;                /* began; last datagram */
    struct ixd_dtls_peer *prev, *next; /* in handshaking, until established */
};

static const struct ixd_counter_def defs[] = {
    {.key = "associations",
     .metric = "ipfixd_collector_dtls_associations",
     .kind = IXD_COUNTER_GAUGE,
     .help = "DTLS associations established now"},
    {.key = "cookies",
     .metric = "ipfixd_collector_dtls_cookies_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "ClientHellos answered with a cookie (HelloVerifyRequest), which costs no state"},
    {.key = "stray_datagrams",
     .metric = "ipfixd_collector_dtls_stray_datagrams_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "datagrams from peers without an association that are not a ClientHello"},
    {.key = "associations_refused",
     .metric = "ipfixd_collector_dtls_associations_refused_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "verified ClientHellos refused: the associations limit was reached"},
};

static guint
key_hash(gconstpointer p)
{
    const struct peer_key *k = p;

    return (ixd_fnv32(IXD_FNV32_INIT, k->addr.s6_addr, 16) ^ k->port) * 16777619u;
}

static gboolean
key_equal(gconstpointer a, gconstpointer b)
{
    const struct peer_key *x = a, *y = b;

    return x->port == y->port && memcmp(&x->addr, &y->addr, sizeof(x->addr)) == 0;
}

static void
key_of(const struct sockaddr *from, struct peer_key *k)
{
    memset(k, 0, sizeof(*k));
    ixd_address_mapped(from, &k->addr, &k->port);
}

int
ixd_dtls_demux_init(struct ixd_dtls_demux *d, const char *collector, int fd, struct ixd_tls_ctx *c,
                    struct ixd_tls_counters *counters, ixd_dtls_deliver_fn deliver, void *arg)
{
    memset(d, 0, offsetof(struct ixd_dtls_demux, plain)); /* plain needs no zeroes */
    d->fd = fd;
    d->deliver = deliver;
    d->deliver_arg = arg;
    if (ixd_handshakes_init(&d->hs, collector, counters) == -1) {
        return -1;
    }
    d->peers = g_hash_table_new(key_hash, key_equal);
    d->listener = c != NULL ? ixd_dtls_listener_new(c, fd, &d->hs.c->cookies) : NULL;
    if (d->peers == NULL || (c != NULL && d->listener == NULL)) {
        ixd_dtls_demux_release(d);
        return -1;
    }
    return 0;
}

int
ixd_dtls_demux_set_ctx(struct ixd_dtls_demux *d, struct ixd_tls_ctx *c)
{
    struct ixd_dtls_listener *l =
        c != NULL ? ixd_dtls_listener_new(c, d->fd, &d->hs.c->cookies) : NULL;

    if (c != NULL && l == NULL) {
        return -1;
    }
    ixd_dtls_listener_free(d->listener);
    d->listener = l;
    return 0;
}

static void
handshaking_unlink(struct ixd_dtls_demux *d, struct ixd_dtls_peer *p)
{
    if (p->prev != NULL) {
        p->prev->next = p->next;
    } else if (d->handshaking == p) {
        d->handshaking = p->next;
    }
    if (p->next != NULL) {
        p->next->prev = p->prev;
    }
    p->prev = p->next = NULL;
}

/* Forgets a peer: its handshake, if it had not finished, counted as `why`. */
static void
peer_free(struct ixd_dtls_demux *d, struct ixd_dtls_peer *p, enum ixd_tls_fail why,
          const char *what, double now)
{
    g_hash_table_remove(d->peers, &p->key);
    d->n_peers--;
    if (p->established) {
        IXD_CNT_ADD(d->hs.c->established, (uint64_t)-1);
    } else {
        handshaking_unlink(d, p);
        ixd_handshakes_failed(&d->hs, (struct sockaddr *)&p->from, why, what, now);
    }
    ixd_tls_free(p->tls);
    free(p);
}

void
ixd_dtls_demux_release(struct ixd_dtls_demux *d)
{
    GHashTableIter it;
    gpointer v;

    if (d->peers != NULL) {
        g_hash_table_iter_init(&it, d->peers);
        while (g_hash_table_iter_next(&it, NULL, &v)) {
            struct ixd_dtls_peer *p = v;
            if (p->established) {
                /* the exporter learns that this association is gone, and makes a new one
                 * when ipfixd is back, rather than sending into the void */
                ixd_tls_shutdown(p->tls);
            }
            ixd_tls_free(p->tls);
            free(p);
        }
        g_hash_table_destroy(d->peers);
        d->peers = NULL;
    }
    ixd_dtls_listener_free(d->listener);
    d->listener = NULL;
    ixd_handshakes_release(&d->hs);
}

/* Decrypts what the datagram brought; each record is a message. -1 when the peer went. */
static int
peer_read(struct ixd_dtls_demux *d, struct ixd_dtls_peer *p, double now)
{
    ssize_t n;

    while ((n = ixd_tls_read(p->tls, d->plain, sizeof(d->plain))) > 0) {
        d->deliver(d->deliver_arg, (struct sockaddr *)&p->from, ixd_tls_subject(p->tls), d->plain,
                   (size_t)n, now);
    }
    if (n < 0) {
        if (!ixd_tls_closed(p->tls)) {
            ixd_handshakes_tls_error(&d->hs, (struct sockaddr *)&p->from, ixd_tls_error(p->tls),
                                     now);
        }
        peer_free(d, p, IXD_TLS_FAIL_NONE, NULL, now);
        return -1;
    }
    return 0;
}

/* One handshake step of a peer; 1 once established. */
static int
peer_handshake(struct ixd_dtls_demux *d, struct ixd_dtls_peer *p, double now)
{
    int r = ixd_tls_handshake(p->tls);
    char peer[64], what[128];

    if (r == 0) {
        return 0;
    }
    if (r == -1) {
        peer_free(d, p, ixd_tls_failure(p->tls), ixd_tls_error(p->tls), now);
        return -1;
    }
    handshaking_unlink(d, p);
    p->established = 1;
    ixd_handshakes_done(&d->hs, (struct sockaddr *)&p->from);
    IXD_CNT_ADD(d->hs.c->established, 1);
    ixd_handshakes_peer_text((struct sockaddr *)&p->from, peer, sizeof(peer));
    ixd_tls_describe(p->tls, what, sizeof(what));
    log_info("collector %s: %s associated over %s as %s", d->hs.collector, peer, what,
             ixd_tls_subject(p->tls)[0] != '\0' ? ixd_tls_subject(p->tls) : "(no certificate)");
    return 1;
}

/* A verified ClientHello made association t for `from`: within the limits, it replaces what
 * the peer had (an exporter that restarted on the same port). */
static void
peer_new(struct ixd_dtls_demux *d, struct ixd_tls *t, const struct peer_key *k,
         const struct sockaddr *from, socklen_t fromlen, double now)
{
    struct ixd_dtls_peer *old = g_hash_table_lookup(d->peers, k), *p;

    if (old == NULL && d->n_peers >= d->limits.associations) {
        IXD_CNT_ADD(d->hs.c->associations_limit, 1);
        ixd_log_limited(&d->rl, now, IXD_LOG_WARNING,
                        "collector %s: %u DTLS associations; refusing another", d->hs.collector,
                        d->n_peers);
        ixd_tls_free(t);
        return;
    }
    if (ixd_handshakes_begin(&d->hs, from, d->limits.pending, d->limits.pending_per_address, now) ==
            -1 ||
        (p = calloc(1, sizeof(*p))) == NULL) {
        ixd_tls_free(t);
        return;
    }
    if (old != NULL) {
        peer_free(d, old, IXD_TLS_FAIL_CLOSED, "a new handshake replaced it", now);
    }
    p->key = *k;
    memcpy(&p->from, from, fromlen);
    p->fromlen = fromlen;
    p->tls = t;
    p->since = p->last = now;
    g_hash_table_insert(d->peers, &p->key, p);
    d->n_peers++;
    p->next = d->handshaking;
    if (p->next != NULL) {
        p->next->prev = p;
    }
    d->handshaking = p;
    if (peer_handshake(d, p, now) == 1) {
        peer_read(d, p, now);
    }
}

void
ixd_dtls_demux_datagram(struct ixd_dtls_demux *d, const uint8_t *data, size_t len,
                        const struct sockaddr *from, socklen_t fromlen, double now)
{
    struct peer_key k;
    struct ixd_dtls_peer *p;
    struct ixd_tls *t = NULL;
    int hello = ixd_dtls_is_client_hello(data, len);

    key_of(from, &k);
    p = g_hash_table_lookup(d->peers, &k);
    /* a ClientHello to an established association is a peer starting again: it must prove
     * its address with a cookie like any new peer before the association is replaced */
    if (p != NULL && !(p->established && hello)) {
        p->last = now;
        ixd_dtls_input(p->tls, data, len);
        if (!p->established && peer_handshake(d, p, now) != 1) {
            return;
        }
        peer_read(d, p, now);
        return;
    }
    if (!hello) {
        IXD_CNT_ADD(d->hs.c->stray, 1);
        return;
    }
    if (d->listener != NULL && ixd_dtls_listen(d->listener, data, len, from, fromlen, &t) == 1) {
        peer_new(d, t, &k, from, fromlen, now);
    }
}

void
ixd_dtls_demux_tick(struct ixd_dtls_demux *d, double now)
{
    struct ixd_dtls_peer *p, *next;
    GHashTableIter it;
    GPtrArray *idle;
    gpointer v;

    for (p = d->handshaking; p != NULL; p = next) {
        next = p->next;
        if (now - p->since > d->limits.handshake_timeout) {
            peer_free(d, p, IXD_TLS_FAIL_TIMEOUT, "not done in time", now);
        } else if (ixd_dtls_timer(p->tls) == -1) {
            peer_free(d, p, IXD_TLS_FAIL_TIMEOUT, ixd_tls_error(p->tls), now);
        }
    }
    if (d->limits.idle_timeout <= 0) {
        return;
    }
    idle = g_ptr_array_new();
    g_hash_table_iter_init(&it, d->peers);
    while (g_hash_table_iter_next(&it, NULL, &v)) {
        p = v;
        if (p->established && now - p->last > d->limits.idle_timeout) {
            g_ptr_array_add(idle, p);
        }
    }
    for (guint i = 0; i < idle->len; i++) {
        peer_free(d, g_ptr_array_index(idle, i), IXD_TLS_FAIL_NONE, NULL, now);
    }
    g_ptr_array_free(idle, TRUE);
}

unsigned
ixd_dtls_demux_associations(const struct ixd_dtls_demux *d)
{
    return (unsigned)IXD_CNT_GET(d->hs.c->established);
}

void
ixd_dtls_counters_report(const struct ixd_tls_counters *c, ixd_counter_fn fn, void *arg)
{
    ixd_handshakes_report(c, fn, arg);
    fn(arg, &defs[0], NULL, IXD_CNT_GET(c->established));
    fn(arg, &defs[1], NULL, __atomic_load_n(&c->cookies, __ATOMIC_RELAXED));
    fn(arg, &defs[2], NULL, IXD_CNT_GET(c->stray));
    fn(arg, &defs[3], NULL, IXD_CNT_GET(c->associations_limit));
}
