/*
 * Interface tables: what ifIndex N of an exporter is called, how it is described and how fast it
 * is, per (exporter address, observation domain, source), learned from every interfaceName /
 * interfaceDescription options record an exporter sends (source options) and from SNMP
 * (source snmp, domain 0: an agent knows no domains).
 *
 * One store per process, shared by every enrich stage of every config, so that what exporters
 * announced survives a reload, and by every worker, since an exporter's datagrams reach several
 * (SO_REUSEPORT spreads its source ports). Writers (a worker that saw an options record, the
 * SNMP poller) change a master copy under a mutex; readers use immutable snapshots built from it,
 * each worker holding a reference to one and changing to the newest when the store's version
 * moves (one atomic load per batch). Snapshots share the tables that did not change, so a
 * change costs the copy of one exporter's table. docs/internals/enrichment.md.
 */
#ifndef IXD_ENRICH_IFSTORE_H
#define IXD_ENRICH_IFSTORE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "ipfixd/counters.h"

enum ixd_ifsource {
    IXD_IFSOURCE_OPTIONS = 0,
    IXD_IFSOURCE_SNMP = 1,
};
#define IXD_IFSOURCES 2

/* Strings longer than this are cut (at a UTF-8 character boundary). */
#define IXD_IFSTRING_MAX 255
/* Interfaces per (exporter, domain, source): further ifIndex values are counted and dropped. */
#define IXD_IFSTORE_PER_TABLE 65536
/* Interfaces in all: beyond, the least recently updated table goes (counted as evicted). */
#define IXD_IFSTORE_TOTAL 262144

/* One interface as a snapshot holds it; the strings are NUL-terminated. */
struct ixd_ifinfo {
    uint32_t ifindex;
    uint16_t name_len, description_len;
    uint64_t speed; /* bits per second; 0: unknown */
    const char *name, *description;
};

struct ixd_ifstore;
struct ixd_ifsnap;
struct ixd_iftable;

/* The process's store (made on first use), one reference more; NULL when out of memory. Any
 * thread. */
struct ixd_ifstore *ixd_ifstore_acquire(void);
/* Drops a reference; the last frees the store. */
void ixd_ifstore_release(struct ixd_ifstore *s);

/* ---- writers (any thread) ---- */

/* One interface learned: name and description (n and d bytes, d may be 0) replace what the
 * table had for ifindex; speed 0 keeps the speed known. Takes the lock each call: callers with
 * many batch them between ixd_ifstore_lock and ixd_ifstore_unlock with ixd_ifstore_put_locked. */
void ixd_ifstore_lock(struct ixd_ifstore *s);
void ixd_ifstore_put_locked(struct ixd_ifstore *s, const struct in6_addr *exporter, uint32_t odid,
                            enum ixd_ifsource src, uint32_t ifindex, const char *name, size_t n,
                            const char *description, size_t d, uint64_t speed);
/* Empties the table of (exporter, odid, src) (a fresh SNMP walk replaces it whole). */
void ixd_ifstore_clear_locked(struct ixd_ifstore *s, const struct in6_addr *exporter, uint32_t odid,
                              enum ixd_ifsource src);
/* Unlocks; with changes made, a new snapshot is published at once when the last is older than
 * 100 ms, else at the next ixd_ifstore_tick (so a flood of changes costs at most ten snapshots a
 * second). now: monotonic seconds. */
void ixd_ifstore_unlock(struct ixd_ifstore *s, double now);
/* Publishes pending changes (workers call it on their ticks). */
void ixd_ifstore_tick(struct ixd_ifstore *s, double now);

/* ---- readers (each worker its own snapshot) ---- */

/* Moves with every published snapshot (acquire). */
uint64_t ixd_ifstore_version(const struct ixd_ifstore *s);
/* The newest snapshot, one reference more, and its version into *version. Never NULL after
 * acquire succeeded (an empty store has an empty snapshot). */
struct ixd_ifsnap *ixd_ifstore_snapshot(struct ixd_ifstore *s, uint64_t *version);
void ixd_ifsnap_release(struct ixd_ifstore *s, struct ixd_ifsnap *snap);

/* The table of (exporter, odid, src) in snap, or NULL. */
const struct ixd_iftable *ixd_ifsnap_table(const struct ixd_ifsnap *snap,
                                           const struct in6_addr *exporter, uint32_t odid,
                                           enum ixd_ifsource src);
/* The interface ifindex of t, or NULL. */
const struct ixd_ifinfo *ixd_iftable_find(const struct ixd_iftable *t, uint32_t ifindex);

/* ---- counters ---- */

/* The store's counters: interfaces and tables (gauges), interfaces dropped (a table full) and
 * evicted (the store full), snapshots published. Any thread. */
void ixd_ifstore_stats(struct ixd_ifstore *s, ixd_counter_fn fn, void *arg);

#endif
