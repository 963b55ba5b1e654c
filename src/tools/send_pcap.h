/* Extracting UDP payloads from classic libpcap files, for ipfixd-send --pcap. */
#ifndef IXD_SEND_PCAP_H
#define IXD_SEND_PCAP_H

#include <stddef.h>
#include <stdint.h>

#include "send_common.h"

struct pcap_stats {
    uint64_t packets;   /* packet records in the file */
    uint64_t payloads;  /* UDP payloads taken */
    uint64_t fragments; /* skipped: IPv4/IPv6 fragments */
    uint64_t truncated; /* skipped: cut short by the snapshot length or inconsistent lengths */
    uint64_t filtered;  /* skipped: UDP to another port than --pcap-port */
    uint64_t other;     /* skipped: not IP, not UDP, or an empty payload */
};

/* Append the UDP payloads of the pcap image buf[len] to out, as pointers into buf.
 * port < 0 takes every destination port. Returns 0, or -1 after printing an error that
 * names path. */
int pcap_payloads(const char *path, const uint8_t *buf, size_t len, int port, struct msg_list *out,
                  struct pcap_stats *st);

#endif
