/*
 * Interface names by SNMP (IF-MIB ifName, ifAlias, ifHighSpeed/ifSpeed), read with net-snmp:
 * all use of it stays in this folder. One poller thread per enrich stage config walks its
 * agents one after the other (one request outstanding at a time), off the packet threads, and
 * replaces each agent's table in the interface store (source snmp, domain 0) after a complete
 * walk; an agent that does not answer keeps what it said last.
 */
#ifndef IXD_SNMP_SNMP_H
#define IXD_SNMP_SNMP_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

#include "enrich/ifstore.h"

/* One agent: the exporter its interfaces are of, where to ask (net-snmp's peer syntax,
 * "udp:192.0.2.1:161"); SNMPv2c with community, or SNMPv3 as user with the USM passphrases
 * (HMAC-SHA-1 authentication; AES-128 privacy when priv is not empty). */
struct ixd_snmp_agent {
    struct in6_addr exporter;
    char peer[128];
    int version; /* 2 (v2c) or 3 */
    char community[128];
    char user[64], auth[128], priv[128];
};

struct ixd_snmp_poller;

/* Starts polling agents (copied) every interval seconds into s; NULL with err on failure. */
struct ixd_snmp_poller *ixd_snmp_start(struct ixd_ifstore *s, const struct ixd_snmp_agent *agents,
                                       size_t n, double interval, char *err, size_t errlen);
/* Stops the thread (at most one request's timeout later) and frees p. */
void ixd_snmp_stop(struct ixd_snmp_poller *p);
/* Complete walks, and walks that failed (no answer, an error), so far. Any thread. */
void ixd_snmp_counts(const struct ixd_snmp_poller *p, uint64_t *walks, uint64_t *failures);

#endif
