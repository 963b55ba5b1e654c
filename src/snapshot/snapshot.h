/*
 * Snapshots: how the REST API sees what workers own without a lock on the record path.
 *
 * Once a second each worker copies its collectors, exporters, sessions, domains, templates,
 * pipelines and counters into a struct ixd_worker_snapshot (one block of memory, immutable once
 * built, reference-counted) and publishes it into one slot per reader: an atomic pointer swap
 * each. A snapshot a reader did not take is let go by the worker when it publishes the next
 * one; the reader takes the latest with another swap and lets go of the one it held before. So
 * at most three snapshots per worker and reader exist at a time and neither side ever waits
 * for the other. A worker builds snapshots only while some reader is registered (the API, an
 * RRD output sampling the counters): without one they would cost a copy of every template.
 *
 * Each reader (one thread each: the API's, an RRD writer) merges the latest snapshot of every
 * worker into a struct ixd_view (exporters keyed by collector and address, their sessions and
 * domains under them) whenever a new one has arrived. docs/internals/threads.md.
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
    const char *tls_subject; /* TLS, DTLS: the peer certificate's subject; NULL: none */
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
    const char *tls_subject; /* of its session seen last that has one; NULL: none */
    int64_t tls_subject_usec;
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

/* A config pipeline with stages, its runs on one worker added up (every collector it reads). */
struct ixd_snap_pipeline {
    const char *name;
    uint64_t in, out, failed, emitted; /* as struct ixd_pipeline_counters */
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
    size_t n_pipelines; /* those with stages, in config order */
    struct ixd_snap_pipeline *pipelines;
    size_t n_stages;
    struct ixd_snap_stage *stages;
    struct snap_chunk *memory; /* everything above, freed as a whole */
    unsigned refs;             /* atomic: the publisher's slots and the readers holding it */
};

/* Lets go of the caller's reference to s; the last one frees it. NULL is a no-op. */
void ixd_worker_snapshot_free(struct ixd_worker_snapshot *s);

/* Readers one publisher serves at most (the API, RRD outputs). */
#define IXD_SNAPSHOT_READERS 8

/* One worker's side of the exchange, and what it remembers between snapshots. */
struct ixd_snapshot_publisher;

/* A publisher with one reference, its worker's. */
struct ixd_snapshot_publisher *ixd_snapshot_publisher_new(unsigned worker);
/* One more reference to p (a reader's, an item on the board). Any thread. */
struct ixd_snapshot_publisher *ixd_snapshot_publisher_ref(struct ixd_snapshot_publisher *p);
/* Lets go of a reference; the last one frees the publisher and what its slots still hold.
 * NULL is a no-op. */
void ixd_snapshot_publisher_free(struct ixd_snapshot_publisher *p);
/* Worker: whether a reader is registered, so that a snapshot is worth building. */
int ixd_snapshot_wanted(const struct ixd_snapshot_publisher *p);

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
/* The pipeline named name (copied), its counters on this worker; after the collectors. */
void ixd_snapshot_add_pipeline(struct ixd_snapshot_publisher *p, const char *name, uint64_t in,
                               uint64_t out, uint64_t failed, uint64_t emitted);
/* The stages of this worker with counters: n of them, their summed counters in l[i]. */
void ixd_snapshot_add_stages(struct ixd_snapshot_publisher *p, const struct ixd_snap_stage *stages,
                             const struct ixd_counter_list *l, size_t n);
void ixd_snapshot_publish(struct ixd_snapshot_publisher *p);

/* Reader of slot `reader` (what it registered): the snapshot published since its last take
 * (the caller holds a reference), or NULL. */
struct ixd_worker_snapshot *ixd_snapshot_take(struct ixd_snapshot_publisher *p, unsigned reader);
/* Registers a reader (ixd_snapshot_reader_new): the index of the slot it takes, or -1 when
 * every slot is taken. Any thread. */
int ixd_snapshot_claim(struct ixd_snapshot_publisher *p);
/* Gives slot i back and lets go of what it holds. Any thread. */
void ixd_snapshot_unclaim(struct ixd_snapshot_publisher *p, int i);

/*
 * The workers' publishers as the daemon posts them on the board (core/board.h, topic
 * IXD_SNAPSHOT_TOPIC) for a module that samples what they publish (an RRD output's health
 * series): the set holds a reference to each publisher, so a reader made from it stays valid
 * after the workers are gone.
 */
#define IXD_SNAPSHOT_TOPIC "snapshots"
struct ixd_snapshot_set {
    unsigned n;
    struct ixd_snapshot_publisher **pubs;
};
/* A set of n publishers (referenced); NULL when out of memory. */
struct ixd_snapshot_set *ixd_snapshot_set_new(struct ixd_snapshot_publisher *const *pubs,
                                              unsigned n);
/* Lets go of the publishers and frees the set (a board item's release: void *). */
void ixd_snapshot_set_free(void *set);

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
    const char *tls_subject; /* NULL: none */
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
    const char *tls_subject; /* of the session seen last that has one; NULL: none */
    int64_t tls_subject_usec;
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

/* A pipeline's runs on every worker added up. */
struct ixd_view_pipeline {
    const char *name;
    uint64_t in, out, failed, emitted;
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
    size_t n_pipelines; /* in config order, those with stages */
    struct ixd_view_pipeline *pipelines;
    size_t n_stages; /* in config order; counters summed over the workers (the view's own) */
    struct ixd_snap_stage *stages;
    struct ixd_counter_list *stage_lists; /* what stages[i].counters points into */
    struct ixd_counters total;
};

struct ixd_snapshot_reader;

/* A reader of pubs (one per worker; the reader copies the array and holds a reference to
 * each): registers a slot in every publisher. NULL when out of memory or when a publisher
 * already serves IXD_SNAPSHOT_READERS readers. Any thread; then the reader's thread only. */
struct ixd_snapshot_reader *ixd_snapshot_reader_new(struct ixd_snapshot_publisher *const *pubs,
                                                    unsigned n_workers);
/* Gives the slots back and lets go of the publishers. NULL is a no-op. */
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
