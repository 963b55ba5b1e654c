#include "input/handshakes.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/address.h"
#include "core/counter.h"

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
    const uint8_t *a = p;
    guint h = 2166136261u;

    for (int i = 0; i < 16; i++) {
        h = (h ^ a[i]) * 16777619u;
    }
    return h;
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
ixd_handshakes_init(struct ixd_handshakes *h, const char *collector)
{
    memset(h, 0, sizeof(*h));
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
        IXD_CNT_ADD(h->failed[IXD_TLS_FAIL_LIMIT], 1);
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
    IXD_CNT_SET(h->pending_gauge, h->pending);
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
    IXD_CNT_SET(h->pending_gauge, h->pending);
}

void
ixd_handshakes_done(struct ixd_handshakes *h, const struct sockaddr *from)
{
    end(h, from);
    IXD_CNT_ADD(h->done, 1);
}

void
ixd_handshakes_failed(struct ixd_handshakes *h, const struct sockaddr *from, enum ixd_tls_fail why,
                      const char *what, double now)
{
    char peer[64];

    end(h, from);
    IXD_CNT_ADD(h->failed[why < IXD_TLS_FAIL__COUNT ? why : IXD_TLS_FAIL_OTHER], 1);
    ixd_handshakes_peer_text(from, peer, sizeof(peer));
    ixd_log_limited(&h->rl, now, IXD_LOG_WARNING, "collector %s: handshake with %s failed: %s (%s)",
                    h->collector, peer, ixd_tls_fail_name(why), what);
}

void
ixd_handshakes_tls_error(struct ixd_handshakes *h, const struct sockaddr *from, const char *what,
                         double now)
{
    char peer[64];

    IXD_CNT_ADD(h->tls_errors, 1);
    ixd_handshakes_peer_text(from, peer, sizeof(peer));
    ixd_log_limited(&h->rl, now, IXD_LOG_WARNING, "collector %s: closing %s: %s", h->collector,
                    peer, what);
}

void
ixd_handshakes_report(const struct ixd_handshakes *h, ixd_counter_fn fn, void *arg)
{
    fn(arg, &defs[0], NULL, IXD_CNT_GET(h->done));
    fn(arg, &defs[1], NULL, IXD_CNT_GET(h->pending_gauge));
    fn(arg, &defs[2], NULL, IXD_CNT_GET(h->tls_errors));
    for (int i = IXD_TLS_FAIL_NONE + 1; i < IXD_TLS_FAIL__COUNT; i++) {
        uint64_t n = IXD_CNT_GET(h->failed[i]);
        if (n > 0) {
            fn(arg, &defs[3], ixd_tls_fail_name((enum ixd_tls_fail)i), n);
        }
    }
}
