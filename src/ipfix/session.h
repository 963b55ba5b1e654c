/*
 * Transport sessions, observation domains and their template tables, per worker and collector.
 *
 * A UDP session is (collector, exporter address, exporter port); a TCP session is one
 * connection. Each holds its observation domains; a domain holds its templates and sequence
 * state. An exporter is (collector, exporter address) and carries counters that outlive its
 * sessions. Everything here belongs to one worker thread; only counters are read by others.
 */
#ifndef IXD_IPFIX_SESSION_H
#define IXD_IPFIX_SESSION_H

#include <glib.h>
#include <netinet/in.h>
#include <stdint.h>

#include "ipfix/counters.h"
#include "ipfix/template.h"
#include "ipfixd/record.h"

/* Counters of one observation domain of an exporter: they outlive the sessions that fed them. */
struct ixd_domain_counters {
    uint32_t odid;
    struct ixd_counters c;
};

struct ixd_exporter {
    struct in6_addr addr; /* IPv4 as IPv4-mapped */
    char text[48];
    unsigned sessions; /* live sessions referring to it */
    double last_seen;
    struct ixd_counters counters;
    GHashTable *domains; /* odid -> struct ixd_domain_counters */
};

struct ixd_template_slot {
    struct ixd_template *tmpl;
    double last_seen; /* monotonic seconds: template lifetime on UDP */
};

struct ixd_domain {
    uint32_t odid;
    GHashTable *templates; /* template ID -> struct ixd_template_slot */
    uint32_t seq_next;     /* sequence number expected next */
    int seq_valid;
    struct ixd_counters *counters; /* the exporter's counters for this odid */
};

struct ixd_session {
    struct ixd_sessions *owner;
    struct ixd_exporter *exporter;
    int tcp;
    double last_seen;
    GHashTable *domains;      /* odid -> struct ixd_domain */
    struct ixd_source source; /* filled per message, shared by its records */
};

/* All sessions of one collector on one worker. */
struct ixd_sessions {
    char collector[64]; /* name: records point at it, so it lives as long as they do */
    int tcp;
    uint32_t template_lifetime;
    uint32_t templates_per_domain;
    struct ixd_template_rules rules;
    GHashTable *udp;       /* (address, port) -> struct ixd_session */
    GHashTable *exporters; /* address -> struct ixd_exporter */
    struct ixd_counters counters;
};

void ixd_sessions_init(struct ixd_sessions *ss, const char *collector, int tcp,
                       uint32_t template_lifetime, const struct ixd_template_rules *rules,
                       uint32_t templates_per_domain);
void ixd_sessions_release(struct ixd_sessions *ss);

/* The UDP session of a source address, created on first use. */
struct ixd_session *ixd_session_udp(struct ixd_sessions *ss, const struct sockaddr *from,
                                    double now);
/* A new TCP session for an accepted connection; freed with ixd_session_free. */
struct ixd_session *ixd_session_tcp(struct ixd_sessions *ss, const struct sockaddr *from,
                                    double now);
void ixd_session_free(struct ixd_session *s);

struct ixd_domain *ixd_session_domain(struct ixd_session *s, uint32_t odid);

/* Template table operations; they count what they do on the domain and its parents. */
const struct ixd_template *ixd_domain_template(struct ixd_session *s, struct ixd_domain *d,
                                               uint16_t tid, double now);
void ixd_domain_set_template(struct ixd_session *s, struct ixd_domain *d, struct ixd_template *t,
                             double now);
void ixd_domain_withdraw(struct ixd_session *s, struct ixd_domain *d, uint16_t tid);
void ixd_domain_withdraw_all(struct ixd_session *s, struct ixd_domain *d, int options);

/*
 * Sequence accounting (RFC 7011 section 3.1): seq is the message's sequence number, records
 * the data records it carried; complete is 0 when some of its records could not be decoded
 * (their count is then unknown and the next message re-synchronises).
 */
void ixd_domain_sequence(struct ixd_session *s, struct ixd_domain *d, uint32_t seq,
                         uint32_t records, int complete);

/* Drops expired templates and idle UDP sessions. Returns how many templates expired. */
unsigned ixd_sessions_expire(struct ixd_sessions *ss, double now);

/* Adds an error to session, exporter and collector counters (d may be NULL). */
void ixd_count_error(struct ixd_session *s, struct ixd_domain *d, enum ixd_error e);

/* Backward jumps within this many records are reordering; beyond, an exporter restart. */
#define IXD_SEQ_REORDER_WINDOW 65536u
/* Forward jumps beyond this many records are a restart, not loss. */
#define IXD_SEQ_JUMP_MAX (1u << 24)

#endif
