/*
 * Worker threads: each runs its own libev loop and owns, for every collector, one UDP socket
 * or TCP listening socket, the connections it accepted, its sessions and templates, and its
 * lane of every output. The control thread talks to a worker only through commands that the
 * worker acknowledges (ixd_worker_command blocks the control thread until then).
 */
#ifndef IXD_DAEMON_WORKER_H
#define IXD_DAEMON_WORKER_H

#include "daemon/runtime.h"
#include "pipeline/pipeline.h"
#include "ha/state.h"
#include "ipfix/counters.h"

struct ixd_worker;

struct ixd_worker *ixd_worker_start(unsigned index, struct ixd_runtime *rt, char *err,
                                    size_t errlen);
/* Switches the worker to rt (keeping the state of unchanged collectors); returns when done. */
void ixd_worker_apply(struct ixd_worker *w, struct ixd_runtime *rt);
/* HA (ha/state.h): has the worker restore what the peer shared into its collector of that
 * name, adding what it took to *got; returns when done. Control thread. */
void ixd_worker_ha_restore(struct ixd_worker *w, const struct ixd_ha_peer_state *st,
                           struct ixd_ha_restored *got);
/* Where the worker publishes its state for the peer; lives as long as the worker. */
struct ixd_ha_outbox *ixd_worker_ha_outbox(struct ixd_worker *w);
/* Drains the sockets, flushes outputs, closes connections and ends the thread. */
void ixd_worker_stop(struct ixd_worker *w);
/* Frees a stopped worker and all it owned. */
void ixd_worker_free(struct ixd_worker *w);

/* Where this worker publishes its snapshots for the API (snapshot/snapshot.h); lives as long as
 * the worker. */
struct ixd_snapshot_publisher *ixd_worker_snapshots(struct ixd_worker *w);

/* Adds this worker's counters for collector `name` into sum; 0, or -1 if it has none. */
/* When the worker's loop last ran its 100 ms tick (monotonic seconds; 0 before the first). */
double ixd_worker_last_tick(struct ixd_worker *w);
/* Adds the counters of this worker's runs of config pipeline `pipeline` (control thread). */
/* Adds the counters of stage `stage` of pipeline `pipeline` in this worker's runs to list (an
 * ixd_counter_list, summed: ixd_counter_list_sum). Any thread. */
void ixd_worker_stage_counters(struct ixd_worker *w, size_t pipeline, size_t stage, void *list);
void ixd_worker_pipeline_counters(struct ixd_worker *w, size_t pipeline,
                                  struct ixd_pipeline_counters *sum);
int ixd_worker_collector_counters(struct ixd_worker *w, const char *name, struct ixd_counters *sum,
                                  unsigned *tcp_connections, unsigned *sessions);

/* This worker's sessions of a collector, or NULL. Only while the worker is stopped. */
struct ixd_sessions *ixd_worker_sessions(struct ixd_worker *w, const char *collector);

/* Calls fn for each exporter this worker knows (odid -1) and for each of its observation
 * domains. Only while the worker is stopped or from its own thread (the tables are not shared). */
typedef void (*ixd_exporter_fn)(void *arg, const char *collector, const char *exporter,
                                int64_t odid, const struct ixd_counters *c);
void ixd_worker_each_exporter(struct ixd_worker *w, ixd_exporter_fn fn, void *arg);

#endif
