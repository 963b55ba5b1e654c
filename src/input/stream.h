/*
 * What the stream inputs (tcp, tls) share once bytes are in a connection's framer: decoding the
 * messages it completes, giving up on a stream that is not IPFIX, the connection limit, and the
 * accept loop of a worker's listening socket.
 */
#ifndef IXD_INPUT_STREAM_H
#define IXD_INPUT_STREAM_H

#include <stdint.h>
#include <sys/socket.h>

#include "core/log.h"
#include "ipfixd/input.h"

struct ixd_framer;
struct ixd_session;

/* Decodes every complete message in f for session s; 0 when it needs more bytes, -1 when
 * framing is lost (the caller then calls ixd_stream_framing_lost and closes). Worker thread. */
int ixd_stream_messages(const struct ixd_input_ctx *ctx, struct ixd_session *s,
                        struct ixd_framer *f, double now, int64_t usec);

/* Counts (errors tcp_framing) and logs, at most once a second per rl, a stream that is not
 * IPFIX, and empties f so that closing the connection does not count it truncated too. */
void ixd_stream_framing_lost(const struct ixd_input_ctx *ctx, struct ixd_ratelimit *rl,
                             struct ixd_session *s, struct ixd_framer *f, double now);

/* 1 when a worker holding n connections (established and in handshake) must refuse another:
 * counted (errors connection_limit) and logged at most once a second per rl. */
int ixd_stream_at_limit(const struct ixd_input_ctx *ctx, unsigned n, struct ixd_ratelimit *rl,
                        double now);

/* Takes a connection accepted on a worker's socket; it owns fd from then on. */
typedef void (*ixd_stream_conn_fn)(void *arg, int fd, const struct sockaddr *from,
                                   socklen_t fromlen, double now);

/* Accepts every connection waiting on fd (non-blocking, close-on-exec) and hands each to fn;
 * accept errors other than the transient ones are logged at most once a second per rl. */
void ixd_stream_accept(const struct ixd_input_ctx *ctx, int fd, struct ixd_ratelimit *rl,
                       ixd_stream_conn_fn fn, void *arg);

#endif
