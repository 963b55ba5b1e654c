/**
 * @file input.h
 * An input type: where a collector's records come from (docs/internals/modules.md).
 *
 * The config's `collectors:` entry names an input type with `transport:` (udp, tcp, file) and
 * holds the type's keys beside `name`; the type declares them once as a table (src/core/keys.h).
 * The control thread opens what must outlive a reload (listening sockets, one per worker); each
 * worker then starts its own instance on its own loop, which reads the network or a file and
 * hands IPFIX messages (NetFlow v9/v5 too) to the collector's sessions: the decoder and the
 * pipelines follow on the same thread. Built-in types are listed in src/registry/registry.c.
 */
#ifndef IPFIXD_INPUT_H
#define IPFIXD_INPUT_H

#include <stddef.h>

#include "ipfixd/module.h"

struct ev_loop;
struct ixd_cnode;
struct ixd_decoder;
struct ixd_intake;
struct ixd_key;
struct ixd_session;
struct ixd_sessions;
struct ixd_udp_rx;

/** What a worker gives each instance it starts; valid until stop(). The worker updates
 * max_connections when a reload changes the limits (between callbacks, on its own thread). */
struct ixd_input_ctx {
    struct ev_loop *loop;          /**< the worker's loop */
    unsigned worker, workers;      /**< this worker's index, and how many there are */
    const char *name;              /**< the collector's */
    struct ixd_sessions *sessions; /**< the collector's transport sessions on this worker */
    struct ixd_decoder *dec;       /**< the worker's decoder (src/ipfix/dispatch.h) */
    struct ixd_udp_rx *rx;         /**< the worker's receive buffers (src/net/udp.h) */
    unsigned max_connections;      /**< this worker's share of limits.tcp-connections */
};

/** Flags of a type. */
enum {
    /** Its sessions are datagram sessions that outlive any connection: their templates are
     * saved at stop, restored at start and shared with an HA peer (UDP). */
    IXD_INPUT_DATAGRAMS = 1,
    /** Its sessions are connections, each a session of its own (TCP). */
    IXD_INPUT_CONNECTIONS = 2,
};

struct ixd_input_type {
    struct ixd_module_type m; /**< name, keys, settings_size, check, conflicts */
    unsigned flags;           /**< IXD_INPUT_* */
    /** The IPFIX intake settings within its settings (template lifetime, holding, sampling). */
    const struct ixd_intake *(*intake)(const void *settings);
    /** The address as the config wrote it, for the API ("" when it has none). */
    const char *(*address)(const void *settings);
    /**
     * Control thread: opens what outlives a reload of an unchanged collector (its sockets, one
     * per worker) and writes where it listens into bound. NULL with err on failure.
     */
    void *(*open)(const void *settings, const char *name, unsigned workers, char *bound,
                  size_t boundlen, char *err, size_t errlen);
    /** Control thread: closes what open() made, once no worker uses it. */
    void (*close)(void *shared, unsigned workers);
    /** Worker: starts reading on ctx->loop. NULL only when out of memory. */
    void *(*start)(void *shared, const void *settings, const struct ixd_input_ctx *ctx);
    /** Worker: the collector's settings changed in keys a reload applies in place (allow-list,
     * sampling, holding); settings is valid until the next apply() or stop(). NULL: none. */
    void (*apply)(void *state, const void *settings);
    /** Worker, every 100 ms (NULL: none). */
    void (*tick)(void *state, double now);
    /** Worker, at stop: reads what has already arrived, then stops reading. NULL: nothing. */
    void (*drain)(void *state);
    /** Worker: stops and frees the instance (connections close, their sessions go). */
    void (*stop)(void *state);
    /** Worker (its own thread): calls fn for each session that is a connection (snapshots). */
    void (*each_connection)(void *state, void (*fn)(void *arg, const struct ixd_session *s),
                            void *arg);
    /** Any thread: connections open now (relaxed); NULL: none. */
    unsigned (*connections)(const void *state);
    /** 1 while it reads (a listening socket, a file not yet read to its end). */
    int (*up)(const void *state);
    /**
     * The collector's own counters, from what open() made (shared), through fn
     * (include/ipfixd/counters.h): the SIGUSR1 summary, /metrics and the API's collector
     * resource render them beside the IPFIX counters every collector has. Runs on the control
     * thread and on worker 0 while the workers count: read with relaxed loads. NULL: none.
     */
    void (*stats)(const void *shared, ixd_counter_fn fn, void *arg);
};

#endif
