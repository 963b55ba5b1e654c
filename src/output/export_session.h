/*
 * The export session (struct ixd_xsession; not the collector's sessions of src/ipfix/session.h):
 * one IPFIX transport session as an exporter sees it: per observation domain a table of export
 * templates (source template serial + variant -> export template ID, template record kept, LRU
 * bounds), the sequence numbers, and the message under construction, filled from batches of
 * records up to mtu bytes. A finished message is handed to the owner's emit callback: the
 * IPFIX export queues it for a socket, the IPFIX file output appends it to a file.
 *
 * Embedded in its owner and used by one thread at a time (a worker, or the control thread once
 * every worker has let go). See docs/internals/export.md.
 */
#ifndef IXD_OUTPUT_EXPORT_SESSION_H
#define IXD_OUTPUT_EXPORT_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "core/log.h"
#include "ipfixd/record.h"

#define IXD_XSESSION_DOMAIN_BUCKETS 64

struct ixd_xdomain;
struct ixd_xentry;

/* Takes a finished message of len bytes holding records of the records it was given, and
 * described RFC 5610 type records of its own (data records too: they take sequence numbers,
 * but are no output's records to count); templates: it defines templates (type records
 * count). The message is borrowed for the call. Returns 0, or -1 if it was dropped: then, if
 * it held templates, every template is sent again before its next use. */
typedef int (*ixd_xsession_emit_fn)(void *arg, const uint8_t *msg, size_t len, uint32_t records,
                                    uint32_t described, int templates);

/* Called for each record a new transport session must start with: its domain, the set it goes
 * in (2 or 3 for a template record; another ID for a data record: an RFC 5610 type record) and
 * the record (borrowed for the call). */
typedef void (*ixd_xsession_template_fn)(void *arg, uint32_t odid, uint16_t set_id,
                                         const uint8_t *rec, size_t len);

/* What happens to the ID of an evicted template (it will be given to another template). */
enum ixd_xwithdraw {
    IXD_XWITHDRAW_NONE = 0, /* UDP: templates are redefined, withdrawals are not sent */
    IXD_XWITHDRAW_ALL = 1,  /* TCP (RFC 7011 8.1): always withdrawn first */
    IXD_XWITHDRAW_SENT = 2, /* files: withdrawn if this file defined it */
};

struct ixd_xsession {
    /* set by ixd_xsession_init() */
    const char *name; /* the output's, for log lines */
    uint32_t mtu;     /* largest message, bytes */
    enum ixd_xwithdraw withdraw;
    ixd_xsession_emit_fn emit;
    void *emit_arg;
    /* a template whose epoch differs is sent again before its next use; owners bump it (UDP
     * refresh, a dropped message that defined templates, a new connection or file) */
    uint32_t epoch;
    /* the message being built; len 0 = none */
    uint8_t *msg;
    size_t len, set_at;
    uint16_t set_id;
    uint32_t mrecords, mdescribed, mtime; /* data records, type records among them */
    int mtemplates;
    struct ixd_xdomain *mdom;
    /* export templates per observation domain */
    struct ixd_xdomain *domains[IXD_XSESSION_DOMAIN_BUCKETS];
    size_t n_domains;
    uint64_t tick;  /* batches and records written, for LRU eviction */
    uint64_t c_key; /* the last template looked up, and where it was */
    struct ixd_xdomain *c_dom;
    struct ixd_xentry *c_entry;
    struct ixd_ratelimit errors;
};

/** Sets up an empty session; name is borrowed for the session's life. Returns -1 when out of
 * memory (the session may then be released). */
int ixd_xsession_init(struct ixd_xsession *s, const char *name, uint32_t mtu,
                      enum ixd_xwithdraw withdraw, ixd_xsession_emit_fn emit, void *emit_arg);
/** Frees the session's tables and message (what is being built is not emitted). */
void ixd_xsession_release(struct ixd_xsession *s);

/**
 * Appends the records of batch (one source, so one observation domain) to messages, each record
 * behind its template when the session has not had it since the last epoch change; full
 * messages are emitted. original_exporter: append RFC 7119 fields. now_sec is the export time
 * of a message started now. Returns the number of records dropped (too large for mtu, or out
 * of memory).
 */
size_t ixd_xsession_write(struct ixd_xsession *s, const struct ixd_batch *batch,
                          int original_exporter, uint32_t now_sec);

/** Emits the message being built, if any; its sequence number is taken now. */
void ixd_xsession_finish(struct ixd_xsession *s);

/** Starts a new transport session (a new connection or file): sequence numbers from 0 and
 * every template again before its next use. The message being built must be finished. */
void ixd_xsession_restart(struct ixd_xsession *s);

/** Calls fn for every export template, domain by domain, each domain's RFC 5610 type records
 * (their options template, then a data record per element described) first, and counts each
 * one as sent in the current epoch (the caller sends them first). */
void ixd_xsession_each_template(struct ixd_xsession *s, ixd_xsession_template_fn fn, void *arg);

/** The sequence number for a message of domain odid holding records data records, taken into
 * *seq. Returns -1 (and leaves *seq) if the session has no such domain. */
int ixd_xsession_take_seq(struct ixd_xsession *s, uint32_t odid, uint32_t records, uint32_t *seq);

#endif
