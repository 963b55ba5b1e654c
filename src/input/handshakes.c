#include "input/handshakes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/hash.h"
#include "core/relaxed_counter.h"
#include "input/dtls_peers.h"
#include "input/intake.h"

const struct ixd_key ixd_handshake_limit_keys[] = {
    {.name = "handshake-timeout",
     .kind = IXD_KEY_DURATION,
     IXD_KEY_AT(struct ixd_handshake_limits, timeout),
     .min = 1,
     .max = 3600,
     .def = "10s",
     .reload = IXD_RELOAD_HOT,
     .help = "a handshake not done within this is abandoned"},
    {.name = "pending-handshakes",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ixd_handshake_limits, pending),
     .min = 1,
     .max = 1u << 20,
     .def = "256",
     .reload = IXD_RELOAD_HOT,
     .help = "handshakes in progress at most (shared out over the workers)"},
    {.name = "pending-handshakes-per-address",
     .kind = IXD_KEY_U32,
     IXD_KEY_AT(struct ixd_handshake_limits, per_address),
     .min = 1,
     .max = 1u << 20,
     .def = "16",
     .reload = IXD_RELOAD_HOT,
     .help = "handshakes in progress from one address at most, per worker"},
    {NULL},
};

static const struct ixd_counter_def defs[] = {
    {.key = "handshakes",
     .metric = "ipfixd_collector_tls_handshakes_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "TLS or DTLS handshakes completed: exporters let in"},
    {.key = "pending_handshakes",
     .metric = "ipfixd_collector_tls_pending_handshakes",
     .kind = IXD_COUNTER_GAUGE,
     .help = "TLS or DTLS handshakes in progress"},
    {.key = "tls_errors",
     .metric = "ipfixd_collector_tls_errors_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "connections or associations ended by a TLS error after their handshake"},
    {.key = "handshake_failures",
     .metric = "ipfixd_collector_tls_handshake_failures_total",
     .kind = IXD_COUNTER_TOTAL,
     .help = "TLS or DTLS handshakes refused or failed, by reason (docs/tls.md)",
     .label = "reason"},
};

static guint
addr_hash(gconstpointer p)
{
    return ixd_fnv32(IXD_FNV32_INIT, p, 16);
}

static gboolean
addr_equal(gconstpointer a, gconstpointer b)
{
    return memcmp(a, b, 16) == 0;
}

/* Handshakes in progress from one address; the key points into it. */
struct per_address {
    struct in6_addr addr;
    unsigned n;
};

int
ixd_handshakes_init(struct ixd_handshakes *h, const char *collector,
                    struct ixd_tls_counters *counters)
{
    memset(h, 0, sizeof(*h));
    h->c = counters != NULL ? counters : &h->own;
    snprintf(h->collector, sizeof(h->collector), "%s", collector);
    h->per_address = g_hash_table_new_full(addr_hash, addr_equal, NULL, free);
    return h->per_address != NULL ? 0 : -1;
}

void
ixd_handshakes_release(struct ixd_handshakes *h)
{
    if (h->per_address != NULL) {
        g_hash_table_destroy(h->per_address);
        h->per_address = NULL;
    }
}

void
ixd_handshakes_peer_text(const struct sockaddr *from, char *out, size_t outlen)
{
    struct in6_addr a;
    uint16_t port;
    char text[INET6_ADDRSTRLEN];

    ixd_address_mapped(from, &a, &port);
    if (IN6_IS_ADDR_V4MAPPED(&a)) {
        inet_ntop(AF_INET, &a.s6_addr[12], text, sizeof(text));
        snprintf(out, outlen, "%s:%u", text, port);
    } else {
        inet_ntop(AF_INET6, &a, text, sizeof(text));
        snprintf(out, outlen, "[%s]:%u", text, port);
    }
}

int
ixd_handshakes_begin(struct ixd_handshakes *h, const struct sockaddr *from, unsigned total,
                     unsigned per_address, double now)
{
    struct in6_addr a;
    struct per_address *pa;
    char peer[64];

    ixd_address_mapped(from, &a, NULL);
    pa = g_hash_table_lookup(h->per_address, &a);
    if (h->pending >= total || (pa != NULL && pa->n >= per_address)) {
        IXD_CNT_ADD(h->c->failed[IXD_TLS_FAIL_LIMIT], 1);
        ixd_handshakes_peer_text(from, peer, sizeof(peer));
        if (h->pending >= total) {
            ixd_log_limited(&h->rl, now, IXD_LOG_WARNING,
                            "collector %s: %u handshakes in progress; refusing %s", h->collector,
                            h->pending, peer);
        } else {
            ixd_log_limited(&h->rl, now, IXD_LOG_WARNING,
                            "collector %s: %u handshakes from the address of %s in progress; "
                            "refusing another",
                            h->collector, pa->n, peer);
        }
        return -1;
    }
    if (pa == NULL) {
        pa = calloc(1, sizeof(*pa));
        if (pa == NULL) {
            return -1;
        }
        pa->addr = a;
        g_hash_table_insert(h->per_address, &pa->addr, pa);
    }
    pa->n++;
    h->pending++;
    IXD_CNT_SET(h->c->pending_gauge, h->pending);
    return 0;
}

/* One handshake of `from` fewer in progress. */
static void
end(struct ixd_handshakes *h, const struct sockaddr *from)
{
    struct in6_addr a;
    struct per_address *pa;

    ixd_address_mapped(from, &a, NULL);
    pa = g_hash_table_lookup(h->per_address, &a);
    if (pa != NULL && --pa->n == 0) {
        g_hash_table_remove(h->per_address, &a);
    }
    if (h->pending > 0) {
        h->pending--;
    }
    IXD_CNT_SET(h->c->pending_gauge, h->pending);
}

void
ixd_handshakes_done(struct ixd_handshakes *h, const struct sockaddr *from)
{
    end(h, from);
    IXD_CNT_ADD(h->c->done, 1);
}

void
ixd_handshakes_failed(struct ixd_handshakes *h, const struct sockaddr *from, enum ixd_tls_fail why,
                      const char *what, double now)
{
    char peer[64];

    end(h, from);
    IXD_CNT_ADD(h->c->failed[why < IXD_TLS_FAIL__COUNT ? why : IXD_TLS_FAIL_OTHER], 1);
    ixd_handshakes_peer_text(from, peer, sizeof(peer));
    ixd_log_limited(&h->rl, now, IXD_LOG_WARNING, "collector %s: handshake with %s failed: %s (%s)",
                    h->collector, peer, ixd_tls_fail_name(why), what);
}

void
ixd_handshakes_tls_error(struct ixd_handshakes *h, const struct sockaddr *from, const char *what,
                         double now)
{
    char peer[64];

    IXD_CNT_ADD(h->c->tls_errors, 1);
    ixd_handshakes_peer_text(from, peer, sizeof(peer));
    ixd_log_limited(&h->rl, now, IXD_LOG_WARNING, "collector %s: closing %s: %s", h->collector,
                    peer, what);
}

void
ixd_handshakes_report(const struct ixd_tls_counters *c, ixd_counter_fn fn, void *arg)
{
    fn(arg, &defs[0], NULL, IXD_CNT_GET(c->done));
    fn(arg, &defs[1], NULL, IXD_CNT_GET(c->pending_gauge));
    fn(arg, &defs[2], NULL, IXD_CNT_GET(c->tls_errors));
    for (int i = IXD_TLS_FAIL_NONE + 1; i < IXD_TLS_FAIL__COUNT; i++) {
        uint64_t n = IXD_CNT_GET(c->failed[i]);
        if (n > 0) {
            fn(arg, &defs[3], ixd_tls_fail_name((enum ixd_tls_fail)i), n);
        }
    }
}

struct ixd_tls_shared *
ixd_tls_shared_open(const char *name, const struct ixd_listen_addr *addr, int datagram,
                    size_t receive_buffer, unsigned workers, char *bound, size_t boundlen,
                    char *err, size_t errlen)
{
    struct ixd_tls_shared *sh = calloc(1, sizeof(*sh) + workers * sizeof(sh->counters[0]));

    if (sh == NULL) {
        snprintf(err, errlen, "collector %s: out of memory", name);
        return NULL;
    }
    sh->sockets = ixd_input_sockets_open(name, addr, !datagram, receive_buffer, workers, bound,
                                         boundlen, err, errlen);
    if (sh->sockets == NULL) {
        free(sh);
        return NULL;
    }
    sh->datagram = datagram;
    sh->workers = workers;
    return sh;
}

void
ixd_tls_shared_close(void *shared, unsigned workers)
{
    struct ixd_tls_shared *sh = shared;

    if (sh != NULL) {
        ixd_input_sockets_close(sh->sockets, workers);
        free(sh);
    }
}

/* Adds what one worker counted to sum (relaxed loads of another thread's counters). */
static void
counters_add(struct ixd_tls_counters *sum, const struct ixd_tls_counters *c)
{
    sum->done += IXD_CNT_GET(c->done);
    sum->tls_errors += IXD_CNT_GET(c->tls_errors);
    sum->pending_gauge += IXD_CNT_GET(c->pending_gauge);
    for (int i = 0; i < IXD_TLS_FAIL__COUNT; i++) {
        sum->failed[i] += IXD_CNT_GET(c->failed[i]);
    }
    sum->established += IXD_CNT_GET(c->established);
    sum->stray += IXD_CNT_GET(c->stray);
    sum->associations_limit += IXD_CNT_GET(c->associations_limit);
    sum->cookies += __atomic_load_n(&c->cookies, __ATOMIC_RELAXED);
}

void
ixd_tls_shared_stats(const void *shared, ixd_counter_fn fn, void *arg)
{
    const struct ixd_tls_shared *sh = shared;
    struct ixd_tls_counters sum;

    memset(&sum, 0, sizeof(sum));
    for (unsigned i = 0; i < sh->workers; i++) {
        counters_add(&sum, &sh->counters[i]);
    }
    if (sh->datagram) {
        ixd_dtls_counters_report(&sum, fn, arg);
    } else {
        ixd_handshakes_report(&sum, fn, arg);
    }
}
