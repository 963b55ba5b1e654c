/*
 * The API's connection table (docs/internals/api-connections.md): every connection the server
 * holds, what it is doing and since when, so that a slow client cannot keep the table full.
 * A request's head and body must arrive whole within the request timeout (a watchdog thread
 * shuts down the connections that miss it), and when the table or a client address's share of
 * it is full, a new connection is let in by closing the oldest one that has not finished its
 * request. Nothing here knows libmicrohttpd: server.c reports each event.
 *
 * Threads: every call but api_conns_new, api_conns_free and api_conns_stats comes from the
 * server thread; the watchdog thread only shuts sockets down. A socket is shut down only under
 * the table's lock and only while its connection is in the table, and server.c takes it out
 * (api_conns_closed) before the server closes the socket, so a descriptor number reused by
 * another socket is never touched.
 */
#ifndef IXD_API_CONNS_H
#define IXD_API_CONNS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct api_conns;
struct api_conn;

struct api_conns_limits {
    uint32_t connections;     /* open connections at most (api.connections) */
    uint32_t per_ip;          /* from one client address at most (api.connections-per-ip) */
    uint32_t request_timeout; /* seconds for a request's head and body (api.request-timeout) */
    uint32_t idle_timeout;    /* seconds a kept-alive connection may wait for its next request */
};

/* How many connections went which way since the server started. */
struct api_conns_stats {
    uint64_t open;      /* connections open now */
    uint64_t timed_out; /* closed: their request did not arrive whole in time */
    uint64_t evicted;   /* closed to let a new connection in */
    uint64_t refused;   /* not let in: full of connections that are being answered */
};

/*
 * Connections the server may hold beyond limits->connections for a moment: those shut down to
 * let others in, until the server has closed them. The server's own limit is connections plus
 * this, so that it asks api_conns_admit rather than refusing by itself.
 */
#define API_CONNS_SLACK 32

/* A table for lim and its watchdog thread; NULL with err. Control thread. */
struct api_conns *api_conns_new(const struct api_conns_limits *lim, char *err, size_t errlen);
/* Stops the watchdog and frees the table; the server must be stopped first. NULL: no-op. */
void api_conns_free(struct api_conns *c);

/*
 * Whether a connection from addr may come in: 1, after shutting down the oldest unfinished
 * connection when the table or addr's share is full; 0 when every connection in the way is
 * being answered (the new one is refused).
 */
int api_conns_admit(struct api_conns *c, const struct sockaddr *addr, socklen_t addrlen);
/*
 * A connection came in on fd (its request timeout starts now). The entry stays the table's;
 * NULL when the table has no room left (then fd has been shut down: it cannot be watched).
 */
struct api_conn *api_conns_opened(struct api_conns *c, int fd, const struct sockaddr *addr,
                                  socklen_t addrlen);
/* The server is about to close conn's socket; conn is gone after this. NULL: no-op. */
void api_conns_closed(struct api_conns *c, struct api_conn *conn);
/* conn's next request began (its request line came): a kept-alive connection's timeout
 * restarts here. */
void api_conns_request_line(struct api_conns *c, struct api_conn *conn);
/* conn's request arrived whole and is being answered: no timeout but the idle one. */
void api_conns_answering(struct api_conns *c, struct api_conn *conn);
/* conn's answer went out; the connection waits for its next request. */
void api_conns_answered(struct api_conns *c, struct api_conn *conn);

/* The counters so far. Any thread. */
void api_conns_stats(struct api_conns *c, struct api_conns_stats *out);

/* addr as text ("127.0.0.1", "::1"), "?" for anything else. */
void api_addr_text(const struct sockaddr *addr, char *out, size_t outlen);

#endif
