/*
 * What the TLS and DTLS collectors share on each worker: the bound on handshakes in progress
 * (per address and in total, so that slow or hostile peers cannot take every slot nor hold
 * memory without ever authenticating) and the counters of handshakes and their failures by
 * reason, reported through the input type's stats (include/ipfixd/input.h).
 *
 * One per worker instance, used by its worker thread; the counters are read by others.
 */
#ifndef IXD_INPUT_HANDSHAKES_H
#define IXD_INPUT_HANDSHAKES_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "ipfixd/counters.h"

struct ixd_handshakes {
    char collector[64]; /* a copy: the config it came from goes at a reload, the instance stays */
    GHashTable *per_address; /* in6 address -> handshakes in progress */
    unsigned pending;
    /* counters: the worker writes, anyone reads (relaxed) */
    uint64_t done, failed[IXD_TLS_FAIL__COUNT], tls_errors, pending_gauge;
    struct ixd_ratelimit rl;
};

/* 0, or -1 when out of memory. */
int ixd_handshakes_init(struct ixd_handshakes *h, const char *collector);
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
 * and tls_errors (any thread). */
void ixd_handshakes_report(const struct ixd_handshakes *h, ixd_counter_fn fn, void *arg);

/* "192.0.2.1:4739" / "[2001:db8::1]:4739", for log lines. */
void ixd_handshakes_peer_text(const struct sockaddr *from, char *out, size_t outlen);

#endif
