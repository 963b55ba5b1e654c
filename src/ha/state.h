/*
 * What HA peers share, and how it moves between threads (docs/internals/ha.md).
 *
 * Worker side: on its tick a worker serializes, for each UDP collector whose tables changed,
 * its templates (the saved-templates layout of ipfix/persist.h, without those that came from
 * the peer) and its sequence numbers, and publishes the items through a single-slot outbox
 * that the control thread empties. Control side: the channel decodes what the peer sends into
 * a struct ixd_ha_peer_state, which every worker restores (read-only, shared).
 */
#ifndef IXD_HA_STATE_H
#define IXD_HA_STATE_H

#include <netinet/in.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "ipfix/persist.h"
#include "ipfix/session.h"

enum ixd_ha_kind {
    IXD_HA_KIND_TEMPLATES = 1, /* a saved-templates buffer (ipfix/persist.h) */
    IXD_HA_KIND_SEQUENCES = 2, /* next expected sequence numbers, "IXDSEQ01" */
};

/* Templates refreshed by their exporter (nothing else changed) are shared this often at most:
 * the peer only needs their refresh time to keep them within their lifetime. */
#define IXD_HA_REFRESH_SHARE 10.0

/* One serialized piece of one worker's state for one collector. */
struct ixd_ha_item {
    struct ixd_ha_item *next;
    char collector[64];
    uint8_t kind;    /* enum ixd_ha_kind */
    uint16_t worker; /* which worker's state it replaces at the peer's channel */
    uint32_t count;  /* entries it holds */
    size_t len;
    uint8_t data[];
};

void ixd_ha_items_free(struct ixd_ha_item *items);

/* A worker's single-slot mailbox to the control thread. Zeroed memory is a valid empty one. */
struct ixd_ha_outbox {
    _Atomic(struct ixd_ha_item *) slot;
    struct ixd_ha_item *building; /* worker only */
    int force;                    /* worker only: the last publication was never taken */
};

/* Worker thread. begin, add for each UDP collector's tables, end: the items of the tables that
 * changed go into the slot. An earlier publication still in the slot is replaced, and
 * everything is then serialized again, so nothing that it carried is lost. */
void ixd_ha_publish_begin(struct ixd_ha_outbox *ob);
void ixd_ha_publish_add(struct ixd_ha_outbox *ob, struct ixd_sessions *ss, unsigned worker,
                        double now_mono, int64_t now_wall_ms);
void ixd_ha_publish_end(struct ixd_ha_outbox *ob);

/* Control thread: what the worker published since the last call (the caller frees it). */
struct ixd_ha_item *ixd_ha_outbox_take(struct ixd_ha_outbox *ob);

/* Encodes the sequence state of ss (domains whose number is this host's own) into a malloc'd
 * buffer. Worker thread (or while the tables are still). */
uint8_t *ixd_ha_sequences_encode(struct ixd_sessions *ss, double now_mono, int64_t now_wall_ms,
                                 size_t *len, uint32_t *count);

/* A peer's next expected sequence number for one (exporter, port, domain). */
struct ixd_ha_seq {
    struct in6_addr addr;
    uint16_t port;
    uint32_t odid;
    uint32_t next;
    int64_t time_ms; /* wall clock at the peer when it was set */
};

/* One item the peer sent, decoded; restored by every worker. */
struct ixd_ha_peer_state {
    char collector[64];
    struct ixd_saved_templates *templates; /* NULL for a sequences item */
    size_t n_seqs;
    struct ixd_ha_seq *seqs;
};

/* Decodes an item's data. 0, or -1 with err (state untouched). Control thread. */
int ixd_ha_peer_state_decode(const char *collector, uint8_t kind, const uint8_t *data, size_t len,
                             struct ixd_ha_peer_state *st, char *err, size_t errlen);
void ixd_ha_peer_state_release(struct ixd_ha_peer_state *st);
/* Entries it holds. */
size_t ixd_ha_peer_state_count(const struct ixd_ha_peer_state *st);

struct ixd_ha_restored {
    size_t templates; /* stored or refreshed */
    size_t sequences; /* taken */
};

/* Worker thread: restores st into ss (a UDP collector's tables of the same name), creating
 * sessions and domains as needed; adds what it took to *got. */
void ixd_ha_restore(const struct ixd_ha_peer_state *st, struct ixd_sessions *ss, double now_mono,
                    int64_t now_wall_ms, struct ixd_ha_restored *got);

#endif
