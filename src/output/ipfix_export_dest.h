/*
 * An `ipfix` output's state (ipfix_export.c): its lanes, one per worker, and in each a
 * destination with its own socket, session, queue (ipfix_export_queue.c) and counters.
 */
#ifndef IXD_OUTPUT_IPFIX_EXPORT_DEST_H
#define IXD_OUTPUT_IPFIX_EXPORT_DEST_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "crypto/tls.h"
#include "output/export_session.h"
#include "output/ipfix_export.h"
#include "output/output.h"

#define QPREFIX 12 /* before each queued message: its length, the records and type records in it   \
                    */
#define BACKOFF_MIN 0.1  /* seconds before the first reconnect attempt */
#define BACKOFF_MAX 10.0 /* ... doubling up to this */
#define CONNECT_TIMEOUT 5.0
#define HANDSHAKE_TIMEOUT 10.0 /* TLS and DTLS, after the connect */
#define DTLS_RENEW 300.0       /* seconds a DTLS association is used before a new one */
#define CLOSE_GRACE 2.0        /* close() sends what it can for this long */
#define SEND_BATCH 64          /* messages per sendmmsg / sendmsg */

enum xstate {
    XS_DOWN = 0, /* no socket; retry at retry_at */
    XS_CONNECTING,
    XS_HANDSHAKE, /* TLS, DTLS */
    XS_UP,
};

struct xoutput;

/* A destination as one worker's lane sees it: its own socket, session, queue and counters. */
struct xdest {
    const struct ixd_export_dest *cfg;
    struct xoutput *out;
    int tcp;             /* a stream: TCP or TLS */
    int secure;          /* TLS or DTLS */
    struct ixd_tls *tls; /* while connected (secure) */
    int fd;
    enum xstate state;
    int ever_up;
    double retry_at, backoff, connect_started, refresh_at, up_at;
    struct ixd_xsession s; /* templates, sequence numbers, the message being built */
    /* finished messages, oldest first: [u32 length][u32 records][message] */
    uint8_t *q;
    size_t qhead, qtail, qsent; /* qsent: bytes of the head message already written (TCP) */
    struct ixd_ratelimit errors;
    int no_gso; /* UDP: the kernel refused UDP_SEGMENT (send_udp) */
    /* counters: written by the lane's worker (or close()), read by the control thread */
    uint64_t records, messages, sent, dropped, reconnects, bytes, queued;
};

struct xlane {
    struct ixd_lane base;
    struct xdest *dests;
    uint64_t records;
};

struct xoutput {
    struct ixd_output base;
    const struct export_settings *cfg; /* base.settings */
    unsigned n_lanes;
    struct xlane *lanes;
};

/* The queue of finished messages: [u32 length][u32 records][message], oldest first */
size_t ixd_xqueue_cap(const struct xoutput *o);
/* The queued gauge: what waits, the message being built included */
void ixd_xqueue_gauge(struct xdest *d);
/* The head message leaves: sent (delivered) or dropped, counted as such */
void ixd_xqueue_pop(struct xdest *d, int delivered);
/* What is left moves to the start */
void ixd_xqueue_compact(struct xdest *d);
/* The session's emit callback (arg: the destination): -1 when full, the message dropped and
 * counted */
int ixd_xqueue_push(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described,
                    int templates);

#endif
