/*
 * Transport sessions, observation domains and their template tables, per worker and collector.
 *
 * A UDP session is (collector, exporter address, exporter port); a TCP session is one
 * connection. Each holds its observation domains; a domain holds its templates and sequence
 * state. An exporter is (collector, exporter address) and carries counters that outlive its
 * sessions. Everything here belongs to one worker thread; only counters are read by others.
 *
 * Every table is bounded (struct ixd_session_limits). Where a bound is reached by someone's new
 * state, the least recently used state of the same exporter goes first, then the least recently
 * used overall, so that a source flooding templates or ports evicts its own state, not that of
 * other exporters (docs/internals/templates.md).
 */
#ifndef IXD_IPFIX_SESSION_H
#define IXD_IPFIX_SESSION_H

#include <glib.h>
#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "core/config.h"
#include "ipfix/clock_offset.h"
#include "ipfix/counters.h"
#include "ipfix/template.h"
#include "ipfixd/record.h"

struct ixd_session_limits {
    uint32_t template_lifetime;      /* seconds, UDP */
    uint32_t templates_per_session;  /* new templates beyond are refused */
    uint32_t templates_per_exporter; /* beyond: the exporter's least recently used goes */
    uint32_t templates_total;        /* this worker's share; beyond: least recently used goes */
    size_t template_memory;          /* this worker's share, bytes; same policy */
    uint32_t sessions_per_exporter;  /* UDP; beyond: the exporter's least recently used goes */
    uint32_t sessions_total;         /* UDP, this worker's share; beyond: LRU goes */
    uint32_t domains_per_session;    /* new domains beyond are refused */
    int hold;                        /* keep data sets whose template has not arrived yet */
    uint32_t hold_time;              /* seconds a held set waits for its template */
    uint32_t held_sets_per_session;
    size_t held_bytes_per_session;
    size_t held_bytes_total;                  /* this worker's share */
    uint32_t netflow9_pen;                    /* enterprise number for NetFlow v9 types >= 32768 */
    const struct ixd_sampling_rule *sampling; /* configured rates (the config outlives them) */
    size_t n_sampling;
};

/* The defaults documented in docs/configuration.md, for one worker. */
void ixd_session_limits_default(struct ixd_session_limits *l);

/* Counters of one observation domain of an exporter: they outlive the sessions that fed them. */
struct ixd_domain_counters {
    uint32_t odid;
    struct ixd_counters c;
};

/* An intrusive doubly linked list, least recently used first. */
struct ixd_lru {
    void *head, *tail;
};

struct ixd_lru_link {
    void *prev, *next;
};

struct ixd_exporter {
    struct in6_addr addr; /* IPv4 as IPv4-mapped */
    char text[48];
    unsigned sessions;  /* live sessions referring to it */
    unsigned templates; /* live templates of its sessions */
    double last_seen;
    struct ixd_lru session_lru;  /* its UDP sessions */
    struct ixd_lru template_lru; /* its templates */
    struct ixd_counters counters;
    struct ixd_clock_offset clock;             /* how far its clock is ahead of ours */
    GHashTable *domains;                       /* odid -> struct ixd_domain_counters */
    struct ixd_domain_counters *other_domains; /* beyond domains-per-session odids */
    int retired;                               /* no sessions left: in the owner's retired list */
    struct ixd_lru_link retired_link;
};

/* The odid under which domains beyond the limit are counted together. */
#define IXD_ODID_OTHER UINT32_MAX

struct ixd_session;
struct ixd_domain;

struct ixd_template_slot {
    struct ixd_template *tmpl;
    double last_seen; /* last refresh (monotonic): UDP template lifetime */
    size_t bytes;     /* memory charged for it */
    int from_peer;    /* last defined or refreshed by the HA peer: never shared back to it */
    /* options templates: the latest options record (what the API shows), charged to bytes */
    uint8_t *options_record;
    uint16_t options_length;
    int64_t options_usec; /* when it arrived (wall clock) */
    struct ixd_session *session;
    struct ixd_domain *domain;
    struct ixd_lru_link all;  /* in the owner's template LRU */
    struct ixd_lru_link mine; /* in the exporter's template LRU */
};

/* A data set that arrived before its template, copied with where it came from. */
struct ixd_held {
    struct ixd_held *next;
    struct ixd_domain *domain;
    uint16_t tid;
    double since;             /* monotonic arrival */
    struct ixd_source source; /* the metadata its records will carry (late = 1) */
    size_t len;
    uint8_t data[];
};

/* A run of sequence numbers counted lost, remembered so that a late message can fill it. */
struct ixd_seq_gap {
    uint32_t start, length;
};

#define IXD_SEQ_GAPS 8
#define IXD_SAMPLERS_PER_DOMAIN 16

struct ixd_domain {
    uint32_t odid;
    struct ixd_resolver resolver; /* what its records' structured data refers to */
    struct ixd_session *session;
    GHashTable *templates;               /* template ID -> struct ixd_template_slot */
    struct ixd_template_slot *last_slot; /* of the last lookup: exporters repeat templates */
    GHashTable *withdrawn;               /* TCP: IDs withdrawn and not defined again (lazy) */
    uint32_t seq_next;                   /* sequence number expected next */
    int seq_valid;
    int seq_from_peer; /* seq_next is the HA peer's (src/ha/): not shared back */
    double seq_time;   /* monotonic: when seq_next was last set, here or at the peer */
    unsigned gap_next; /* ring position in gaps */
    struct ixd_seq_gap gaps[IXD_SEQ_GAPS];
    struct ixd_counters *counters; /* the exporter's counters for this odid */
    uint32_t sampling;             /* announced without a sampler ID (or by a v5 header) */
    uint8_t n_samplers, next_sampler;
    struct {
        uint32_t id, interval;
    } samplers[IXD_SAMPLERS_PER_DOMAIN]; /* announced per samplerId / selectorId */
};

/* 1 when tid was withdrawn (TCP) and not defined since: its data is an exporter error. */
int ixd_domain_withdrawn(const struct ixd_domain *d, uint16_t tid);

struct ixd_session {
    struct ixd_sessions *owner;
    struct ixd_exporter *exporter;
    int tcp;
    int packet_sequence; /* NetFlow v9: sequence numbers count packets */
    double last_seen;
    void *key;                /* its key in owner->udp (UDP only) */
    struct ixd_lru_link all;  /* in the owner's UDP session LRU */
    struct ixd_lru_link mine; /* in the exporter's UDP session LRU */
    unsigned templates;
    GHashTable *domains;            /* odid -> struct ixd_domain */
    struct ixd_domain *last_domain; /* of the last message: exporters repeat domains */
    struct ixd_held *held, *held_last;
    unsigned held_count;
    size_t held_bytes;
    char *tls_subject;        /* TLS, DTLS: the peer certificate's subject (owned), or NULL */
    struct ixd_source source; /* filled per message, shared by its records */
};

/* What changed in a collector's tables, so that the HA channel shares only when something did
 * (src/ha/state.c). Written by the owning worker only. */
struct ixd_ha_marks {
    uint64_t changes;   /* templates stored, replaced, withdrawn, expired or evicted */
    uint64_t refreshes; /* templates refreshed by their exporter */
    uint64_t sequences; /* messages that moved a sequence number */
    /* the values of the three when they were last published */
    uint64_t shared_changes, shared_refreshes, shared_sequences;
    double templates_shared_at; /* monotonic */
};

/* All sessions of one collector on one worker. */
struct ixd_sessions {
    char collector[64]; /* name: records point at it, so it lives as long as they */
    int tcp;
    int clock_offsets; /* 1 (the default): measure exporters' clocks; 0 for files */
    struct ixd_session_limits limits;
    struct ixd_template_rules rules;
    GHashTable *udp;              /* (address, port) -> struct ixd_session */
    struct ixd_session *last_udp; /* the session of the last datagram: exporters send bursts */
    GHashTable *exporters;        /* address -> struct ixd_exporter */
    struct ixd_lru session_lru;   /* UDP sessions */
    struct ixd_lru template_lru;
    struct ixd_lru retired; /* exporters without sessions, kept for their counters */
    unsigned n_retired;
    unsigned templates;
    size_t template_bytes;
    size_t held_bytes;
    struct ixd_counters counters;
    struct ixd_ha_marks ha;
    /* where the records of these sessions go, and the templates they define (a new or changed
     * one, before any of its records) are announced (ixd_sessions_deliver_to); NULL: the
     * decoder's, and no announcements */
    void (*deliver)(void *arg, const struct ixd_batch *batch);
    void (*on_template)(void *arg, const struct ixd_template *tmpl,
                        const struct ixd_source *source);
    void *deliver_arg;
};

void ixd_sessions_init(struct ixd_sessions *ss, const char *collector, int tcp,
                       const struct ixd_template_rules *rules,
                       const struct ixd_session_limits *limits);
void ixd_sessions_release(struct ixd_sessions *ss);
/* Sends every record decoded for these sessions to deliver(arg, batch), and each template an
 * exporter defines (new or changed, not a refresh) to on_template (may be NULL): given once
 * (the collector's pipelines and outputs), called on the thread that owns the sessions. */
void ixd_sessions_deliver_to(struct ixd_sessions *ss,
                             void (*deliver)(void *arg, const struct ixd_batch *batch),
                             void (*on_template)(void *arg, const struct ixd_template *tmpl,
                                                 const struct ixd_source *source),
                             void *arg);

/* The UDP session of a source address, created on first use (NULL: out of memory). */
struct ixd_session *ixd_session_udp(struct ixd_sessions *ss, const struct sockaddr *from,
                                    double now);
/* The domain odid of the UDP session of (addr, port), both made if need be: where state saved
 * at a stop or shared by an HA peer goes back. *s (may be NULL) receives the session. NULL when
 * a limit or memory refuses it. */
struct ixd_domain *ixd_sessions_saved_domain(struct ixd_sessions *ss, const struct in6_addr *addr,
                                             uint16_t port, uint32_t odid, double now,
                                             struct ixd_session **s);
/* A new TCP session for an accepted connection; freed with ixd_session_free. */
struct ixd_session *ixd_session_tcp(struct ixd_sessions *ss, const struct sockaddr *from,
                                    double now);
void ixd_session_free(struct ixd_session *s);
/* The subject of the certificate s's peer presented (TLS, DTLS; NULL or "": none): its records
 * carry it from now on (source.tls_subject), held ones too. A copy is kept while it is the same.
 * 0, or -1 when out of memory (the previous subject stays). */
int ixd_session_set_tls_subject(struct ixd_session *s, const char *subject);

/* The domain, created on first use; NULL when domains-per-session is reached (counted). */
struct ixd_domain *ixd_session_domain(struct ixd_session *s, uint32_t odid);

/* Template table operations; they count what they do on the domain and its parents. A lookup
 * marks the template as recently used. */
const struct ixd_template *ixd_domain_template(struct ixd_session *s, struct ixd_domain *d,
                                               uint16_t tid, double now);
/* Stores t (taking it over); returns 1 when it is now the domain's template tid, 0 if refused. */
int ixd_domain_set_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                            double now);
/* The same for a template saved before a restart (not counted as received); refreshed is when
 * it was last refreshed, on the monotonic clock. */
int ixd_domain_restore_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                                double refreshed);
/* The same for a template the HA peer shares; refreshed is its refresh time on this host's
 * monotonic clock. Never replaces (nor refreshes) a template this worker itself refreshed more
 * recently; what it stores is marked from_peer. Returns 1 when stored or refreshed. */
int ixd_domain_peer_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                             double refreshed);
void ixd_domain_withdraw(struct ixd_session *s, struct ixd_domain *d, uint16_t tid);
void ixd_domain_withdraw_all(struct ixd_session *s, struct ixd_domain *d, int options);

/*
 * Sequence accounting (RFC 7011 section 3.1): seq is the message's sequence number, records
 * the data records it carried; complete is 0 when some of its records could not be decoded
 * (their count is then unknown and the next message re-synchronises).
 */
void ixd_domain_sequence(struct ixd_session *s, struct ixd_domain *d, uint32_t seq,
                         uint32_t records, int complete);

/*
 * The HA peer's next expected sequence number for d, as of `when` (monotonic, this host). Taken
 * when d has none of its own or the peer's is newer than the last message seen here, so that
 * after a failover the first message's gap is counted as seq_lost. Returns 1 when taken.
 */
int ixd_domain_peer_sequence(struct ixd_domain *d, uint32_t next, double when);

/* Options records at most this long are kept (the latest per options template). */
#define IXD_OPTIONS_KEEP_MAX 1024

/* Keeps a copy of rec (len bytes), the latest record of options template tid in d, replacing
 * the one kept before; a no-op for other templates or longer records. */
void ixd_domain_keep_options(struct ixd_session *s, struct ixd_domain *d, uint16_t tid,
                             const uint8_t *rec, size_t len, int64_t usec);

/* Holds a copy of a data set of unknown template tid. 0, or -1 when it cannot be held (the
 * bounds; counted). */
int ixd_session_hold(struct ixd_session *s, struct ixd_domain *d, uint16_t tid, const uint8_t *set,
                     size_t len, double now);
/* Detaches the held sets of (d, tid), oldest first; the caller frees them with free(). */
struct ixd_held *ixd_session_take_held(struct ixd_session *s, struct ixd_domain *d, uint16_t tid);

/* Drops every held set of s, counting them. */
void ixd_session_drop_held(struct ixd_session *s);
/* Drops every held set of every UDP session, counting them (at stop, before the summary). */
void ixd_sessions_drop_held(struct ixd_sessions *ss);

/* Drops held sets of s older than hold_time (TCP sessions: the worker calls it). */
void ixd_session_expire_held(struct ixd_session *s, double now);

/* Drops expired templates, held sets past hold_time and idle UDP sessions. Returns how many
 * templates expired. */
unsigned ixd_sessions_expire(struct ixd_sessions *ss, double now);

/* Adds an error to session, exporter and collector counters (d may be NULL). */
void ixd_count_error(struct ixd_session *s, struct ixd_domain *d, enum ixd_error e);

/* Backward jumps within this many records are reordering; beyond, an exporter restart. */
#define IXD_SEQ_REORDER_WINDOW 65536u
/* Forward jumps beyond this many records are a restart, not loss. */
#define IXD_SEQ_JUMP_MAX (1u << 24)

#endif
