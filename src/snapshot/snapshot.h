/*
 * Snapshots: how the REST API sees what workers own without a lock on the record path.
 *
 * Once a second each worker copies its collectors, exporters, sessions, domains, templates and
 * counters into a struct ixd_worker_snapshot (one block of memory, immutable once built) and
 * publishes it into its single-slot exchange: an atomic pointer swap. A snapshot nobody took is
 * freed by the worker when it publishes the next one; the reader takes the latest with another
 * swap and frees the one it held before. So at most three snapshots per worker exist at a time
 * and neither side ever waits for the other.
 *
 * The reader (the API's thread, one thread only) merges the latest snapshot of every worker
 * into a struct ixd_view (exporters keyed by collector and address, their sessions and domains
 * under them) whenever a new one has arrived. docs/internals/threads.md.
 */
#ifndef IXD_DAEMON_SNAPSHOT_H
#define IXD_DAEMON_SNAPSHOT_H

#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "ipfix/counters.h"
#include "ipfix/session.h"
#include "core/counter_list.h"
#include "output/output.h"

/* Every string and array below lives in the snapshot's own memory. Times are UNIX usec. */
struct ixd_snap_field {
    uint32_t pen;
    uint16_t id;
    uint16_t length;  /* as declared; 65535 = variable length */
    const char *name; /* NULL when the element is unknown to the information model */
};

struct ixd_snap_template {
    uint16_t id;
    uint16_t scope_count; /* > 0: an options template */
    uint16_t field_count;
    uint16_t exporter_port; /* the transport session that defined it */
    int64_t received_usec;  /* first seen by a snapshot (within a second of its arrival) */
    int64_t refreshed_usec; /* last received again */
    struct ixd_snap_field *fields;
    /* options templates: the latest options record as a JSON object (docs/json-output.md), or
     * NULL; and when it arrived */
    const char *options_record;
    int64_t options_usec;
};

struct ixd_snap_domain {
    uint32_t odid; /* IXD_ODID_OTHER: domains beyond the limit, counted together */
    struct ixd_counters counters;
    size_t n_templates;
    struct ixd_snap_template *templates;
};

struct ixd_snap_session {
    uint16_t port;
    int64_t last_seen_usec;
    unsigned templates;
};

struct ixd_snap_exporter {
    const char *address;
    int64_t first_seen_usec;
    int64_t last_seen_usec;
    unsigned templates;
    struct ixd_counters counters;
    int clock_known;           /* the worker measured its clock within the window */
    int64_t clock_offset_usec; /* how far its clock is ahead of ours (ipfix/clock_offset.h) */
    uint64_t clock_samples;    /* messages measured by the worker */
    size_t n_domains;          /* sorted by odid */
    struct ixd_snap_domain *domains;
    size_t n_sessions;
    struct ixd_snap_session *sessions;
};

struct ixd_snap_collector {
    const char *name;
    const char *transport; /* the input type's name: udp, tcp, file */
    const char *listen;
    const char *bound;
    int listening; /* the worker holds an open socket for it (or reads its file) */
    unsigned sessions, tcp_connections, templates;
    struct ixd_counters counters;
    size_t n_exporters;
    struct ixd_snap_exporter *exporters;
    /* the input type's own counters (include/ipfixd/input.h stats), whole-collector: worker 0
     * reports them */
    int has_input_counters;
    size_t n_input_counters;
    const struct ixd_counter_item *input_counters;
};

struct ixd_snap_output {
    const char *name;
    const char *type;
    size_t n_counters; /* as its type reported them (include/ipfixd/counters.h) */
    const struct ixd_counter_item *counters;
};

/* A pipeline stage's counters (types with stats), summed over the runs that hold a state of it
 * (one per worker and collector the pipeline reads). */
struct ixd_snap_stage {
    const char *pipeline;
    unsigned index; /* its place in the pipeline's stages, from 0 */
    const char *type;
    size_t n_counters;
    const struct ixd_counter_item *counters;
};

struct ixd_worker_snapshot {
    unsigned worker;
    double built_mono; /* CLOCK_MONOTONIC seconds: /ready looks at its age */
    int64_t built_usec;
    size_t n_collectors;
    struct ixd_snap_collector *collectors;
    int has_outputs; /* outputs are whole-process: one worker (0) reports them */
    size_t n_outputs;
    struct ixd_snap_output *outputs;
    size_t n_stages;
    struct ixd_snap_stage *stages;
    struct snap_chunk *memory; /* everything above, freed as a whole */
};

void ixd_worker_snapshot_free(struct ixd_worker_snapshot *s);

/* One worker's side of the exchange, and what it remembers between snapshots. */
struct ixd_snapshot_publisher;

struct ixd_snapshot_publisher *ixd_snapshot_publisher_new(unsigned worker);
/* Frees the publisher and a snapshot still in its slot. No reader may use it any more. */
void ixd_snapshot_publisher_free(struct ixd_snapshot_publisher *p);

/*
 * Building, on the worker's own thread only (the tables it reads are the worker's): begin, then
 * per collector add_collector followed by add_session for each of its TCP sessions (UDP
 * sessions are found in ss), then optionally add_outputs, then publish. Out of memory skips
 * this snapshot (the previous one stays; /ready then sees its age).
 */
void ixd_snapshot_begin(struct ixd_snapshot_publisher *p, size_t n_collectors, double now_mono,
                        int64_t now_usec);
void ixd_snapshot_add_collector(struct ixd_snapshot_publisher *p, const char *name,
                                const char *transport, const char *listen, const char *bound,
                                int listening, const struct ixd_sessions *ss,
                                unsigned tcp_connections);
void ixd_snapshot_add_session(struct ixd_snapshot_publisher *p, const struct ixd_session *s);
/* The counters the current collector's input type reports (its stats() on what open() made). */
void ixd_snapshot_add_input_counters(struct ixd_snapshot_publisher *p,
                                     void (*stats)(const void *shared, ixd_counter_fn fn,
                                                   void *arg),
                                     const void *shared);
void ixd_snapshot_add_outputs(struct ixd_snapshot_publisher *p, struct ixd_output *const *outputs,
                              size_t n);
/* The stages of this worker with counters: n of them, their summed counters in l[i]. */
void ixd_snapshot_add_stages(struct ixd_snapshot_publisher *p, const struct ixd_snap_stage *stages,
                             const struct ixd_counter_list *l, size_t n);
void ixd_snapshot_publish(struct ixd_snapshot_publisher *p);

/* Reader: the snapshot published since the last take (the caller owns it), or NULL. */
struct ixd_worker_snapshot *ixd_snapshot_take(struct ixd_snapshot_publisher *p);

/* --- the merged view (snapshot_view.c) --- */

struct ixd_view_domain {
    uint32_t odid;
    struct ixd_counters counters;
    size_t n_templates; /* sorted by id; of equal ids, the most recently refreshed */
    const struct ixd_snap_template **templates;
};

struct ixd_view_session {
    uint16_t port;
    unsigned worker;
    int64_t last_seen_usec;
    unsigned templates;
};

struct ixd_view_exporter {
    char *key; /* "collector/address": the sort order and what the opaque id encodes */
    char *id;  /* base64url of key */
    const char *collector;
    const char *address;
    const char *transport; /* the input type's name: udp, tcp, file */
    int64_t first_seen_usec, last_seen_usec;
    unsigned templates;
    struct ixd_counters counters;
    /* the clock offset: the largest of the workers' estimates, each a lower bound */
    int clock_known;
    int64_t clock_offset_usec;
    uint64_t clock_samples; /* summed */
    size_t n_sessions;
    struct ixd_view_session *sessions;
    size_t n_domains; /* sorted by odid */
    struct ixd_view_domain *domains;
};

struct ixd_view_collector {
    const char *name;
    const char *transport; /* the input type's name: udp, tcp, file */
    const char *listen;
    const char *bound;
    unsigned listening_workers; /* workers with an open socket for it */
    unsigned sessions, tcp_connections, templates, exporters;
    struct ixd_counters counters;
    size_t n_input_counters; /* the input type's own (worker 0's snapshot) */
    const struct ixd_counter_item *input_counters;
};

struct ixd_view_worker {
    int seen; /* has published at least once */
    double built_mono;
};

struct ixd_view {
    unsigned generation; /* changes with every rebuild */
    unsigned n_workers;
    struct ixd_view_worker *workers;
    size_t n_collectors; /* in config order */
    struct ixd_view_collector *collectors;
    size_t n_exporters; /* sorted by key */
    struct ixd_view_exporter *exporters;
    size_t n_outputs; /* in config order */
    const struct ixd_snap_output *outputs;
    size_t n_stages; /* in config order; counters summed over the workers (the view's own) */
    struct ixd_snap_stage *stages;
    struct ixd_counter_list *stage_lists; /* what stages[i].counters points into */
    struct ixd_counters total;
};

struct ixd_snapshot_reader;

/* pubs (one per worker) must outlive the reader. */
struct ixd_snapshot_reader *ixd_snapshot_reader_new(struct ixd_snapshot_publisher *const *pubs,
                                                    unsigned n_workers);
void ixd_snapshot_reader_free(struct ixd_snapshot_reader *r);
/* Takes what workers published since the last call and returns the merged view; valid until
 * the next call. NULL only when out of memory. Reader thread only. */
const struct ixd_view *ixd_snapshot_reader_view(struct ixd_snapshot_reader *r);

/* Lookups in a view: NULL when absent. */
const struct ixd_view_exporter *ixd_view_exporter(const struct ixd_view *v, const char *id);
const struct ixd_view_domain *ixd_view_domain(const struct ixd_view_exporter *e, uint32_t odid);
const struct ixd_snap_template *ixd_view_template(const struct ixd_view_domain *d, uint16_t tid);


/* base64url without padding; out needs 4 * ((len + 2) / 3) + 1 bytes. Returns out. */
char *ixd_base64url(const void *data, size_t len, char *out);
/* Decodes into out (outlen bytes, NUL-terminated); -1 on bad input or no room. */
int ixd_base64url_decode(const char *text, char *out, size_t outlen);

#endif
