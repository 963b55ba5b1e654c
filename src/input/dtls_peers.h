/*
 * The DTLS demultiplexer of one worker's UDP socket (docs/internals/dtls.md): a table of
 * associations keyed by the peer's address and port, and the stateless listener for peers
 * without one. A datagram from a known peer goes to its association; a ClientHello from an
 * unknown peer goes to the listener, which answers with a cookie and keeps nothing, so only a
 * peer that receives at its address ever gets state here, within the bounds on handshakes in
 * progress (handshakes.h) and on associations. Anything else from an unknown peer is counted as
 * stray and dropped.
 *
 * Each decrypted record (one IPFIX message) goes to the deliver callback with the peer's
 * address and certificate subject. One worker thread uses a demux; counters are read by others.
 */
#ifndef IXD_INPUT_DTLS_PEERS_H
#define IXD_INPUT_DTLS_PEERS_H

#include <glib.h>
#include <stdint.h>
#include <sys/socket.h>

#include "crypto/tls.h"
#include "input/handshakes.h"

typedef void (*ixd_dtls_deliver_fn)(void *arg, const struct sockaddr *from, const char *subject,
                                    const uint8_t *msg, size_t len, double now);

/* What the demux is allowed (the collector's settings; a reload changes them in place). */
struct ixd_dtls_limits {
    unsigned associations;        /* established and in handshake, on this worker */
    unsigned pending;             /* handshakes in progress on this worker */
    unsigned pending_per_address; /* of one address on this worker */
    double handshake_timeout;     /* seconds */
    double idle_timeout;          /* seconds; 0: never */
};

struct ixd_dtls_peer;

struct ixd_dtls_demux {
    int fd;
    struct ixd_dtls_listener *listener; /* for new handshakes, under the current context */
    GHashTable *peers;                  /* peer key -> struct ixd_dtls_peer */
    struct ixd_dtls_peer *handshaking;  /* those not established yet */
    unsigned n_peers;
    struct ixd_handshakes hs;
    struct ixd_dtls_limits limits;
    ixd_dtls_deliver_fn deliver;
    void *deliver_arg;
    struct ixd_ratelimit rl;
    uint8_t plain[IXD_DTLS_RECORD_MAX];
};

/* For collector `collector` on socket fd with context c, counting into counters (NULL: the
 * demux's own). 0, or -1 when out of memory. */
int ixd_dtls_demux_init(struct ixd_dtls_demux *d, const char *collector, int fd,
                        struct ixd_tls_ctx *c, struct ixd_tls_counters *counters,
                        ixd_dtls_deliver_fn deliver, void *arg);
/* Frees every association (established ones get a close_notify) and the listener. */
void ixd_dtls_demux_release(struct ixd_dtls_demux *d);
/* A reload: new handshakes use c; established associations keep theirs. -1 out of memory (the
 * old context stays). */
int ixd_dtls_demux_set_ctx(struct ixd_dtls_demux *d, struct ixd_tls_ctx *c);

/* One datagram that arrived from `from` (borrowed for the call). */
void ixd_dtls_demux_datagram(struct ixd_dtls_demux *d, const uint8_t *data, size_t len,
                             const struct sockaddr *from, socklen_t fromlen, double now);
/* Handshake retransmissions and timeouts, idle associations (every ~100 ms). */
void ixd_dtls_demux_tick(struct ixd_dtls_demux *d, double now);

/* Established associations now (any thread, relaxed). */
unsigned ixd_dtls_demux_associations(const struct ixd_dtls_demux *d);
/* The handshake counters of c and the DTLS ones (cookies, stray datagrams; any thread). */
void ixd_dtls_counters_report(const struct ixd_tls_counters *c, ixd_counter_fn fn, void *arg);

#endif
