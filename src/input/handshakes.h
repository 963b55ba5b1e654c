/*
 * What the TLS and DTLS collectors share on each worker: the bound on handshakes in progress
 * (per address and in total, so that slow or hostile peers cannot take every slot nor hold
 * memory without ever authenticating) and the counters of handshakes and their failures by
 * reason, kept per worker in what the collector's open() made and reported, summed, through the
 * input type's stats (include/ipfixd/input.h).
 *
 * One per worker instance, used by its worker thread; its counters, in the shared part, are read
 * by others.
 */
#ifndef IXD_INPUT_HANDSHAKES_H
#define IXD_INPUT_HANDSHAKES_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/keys.h"
#include "core/log.h"
#include "crypto/tls.h"
#include "ipfixd/counters.h"

/* A worker's TLS or DTLS counters: its instance writes them, anyone reads (relaxed). They live
 * in what the collector's open() made (struct ixd_tls_shared), which outlives the instances, so
 * that the type's stats() can sum the workers' from there at any time. */
struct ixd_tls_counters {
    uint64_t done, failed[IXD_TLS_FAIL__COUNT], tls_errors, pending_gauge;
    /* DTLS only (dtls_peers.c) */
    uint64_t established, stray, associations_limit;
    uint64_t cookies; /* HelloVerifyRequests sent (the listener counts them here) */
};

/* The handshake bounds of a TLS or DTLS collector's settings. */
struct ixd_handshake_limits {
    uint32_t timeout;     /* seconds: a handshake not done within this is abandoned */
    uint32_t pending;     /* in progress per collector (a share per worker) */
    uint32_t per_address; /* in progress from one address, per worker */
};

/* handshake-timeout, pending-handshakes and pending-handshakes-per-address, for an
 * IXD_KEY_INCLUDE at the struct ixd_handshake_limits of a type's settings. */
extern const struct ixd_key ixd_handshake_limit_keys[];

struct ixd_handshakes {
    char collector[64]; /* a copy: the config it came from goes at a reload, the instance stays */
    GHashTable *per_address; /* in6 address -> handshakes in progress */
    unsigned pending;
    struct ixd_tls_counters *c; /* the worker's in the shared part, or own */
    struct ixd_tls_counters own;
    struct ixd_ratelimit rl;
};

/* Counting into counters (NULL: its own). 0, or -1 when out of memory. */
int ixd_handshakes_init(struct ixd_handshakes *h, const char *collector,
                        struct ixd_tls_counters *counters);
void ixd_handshakes_release(struct ixd_handshakes *h);

/*
 * A handshake from `from` would start: 0 when there is room (the caller ends it with
 * ixd_handshakes_done or ixd_handshakes_failed), -1 when `total` are in progress on this worker
 * or `per_address` from this address (counted as failure `limit`, logged at most once a second).
 */
int ixd_handshakes_begin(struct ixd_handshakes *h, const struct sockaddr *from, unsigned total,
                         unsigned per_address, double now);
/* The handshake begun for `from` finished. */
void ixd_handshakes_done(struct ixd_handshakes *h, const struct sockaddr *from);
/* It failed for `why`: counted, and logged (at most once a second) with the peer and what. */
void ixd_handshakes_failed(struct ixd_handshakes *h, const struct sockaddr *from,
                           enum ixd_tls_fail why, const char *what, double now);
/* An established connection or association ended on a TLS error (not a close). */
void ixd_handshakes_tls_error(struct ixd_handshakes *h, const struct sockaddr *from,
                              const char *what, double now);

/* Reports handshakes, handshake_failures by reason (those that happened), pending_handshakes
 * and tls_errors of c (any thread). */
void ixd_handshakes_report(const struct ixd_tls_counters *c, ixd_counter_fn fn, void *arg);

/* ---- what a TLS or DTLS collector's open() makes (a reload that keeps its sockets keeps it) */

struct ixd_input_sockets;
struct ixd_listen_addr;

struct ixd_tls_shared {
    struct ixd_input_sockets *sockets;
    int datagram; /* DTLS: its counters are reported too */
    unsigned workers;
    struct ixd_tls_counters counters[]; /* one per worker */
};

/* The sockets as ixd_input_sockets_open opens them, and zeroed counters; NULL with err. */
struct ixd_tls_shared *ixd_tls_shared_open(const char *name, const struct ixd_listen_addr *addr,
                                           int datagram, size_t receive_buffer, unsigned workers,
                                           char *bound, size_t boundlen, char *err, size_t errlen);
void ixd_tls_shared_close(void *shared, unsigned workers);
/* An input type's stats: the workers' counters summed (any thread). */
void ixd_tls_shared_stats(const void *shared, ixd_counter_fn fn, void *arg);

/* "192.0.2.1:4739" / "[2001:db8::1]:4739", for log lines. */
void ixd_handshakes_peer_text(const struct sockaddr *from, char *out, size_t outlen);

#endif
