/* Replay of IPFIX files and pcap captures for ipfixd-send. */
#ifndef IXD_SEND_REPLAY_H
#define IXD_SEND_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "send_common.h"
#include "send_pace.h"

struct replay_src {
    const char *path;
    int pcap; /* 0: -f file of IPFIX messages, 1: -p pcap capture */
};

struct replay_cfg {
    const struct replay_src *srcs; /* in command-line order */
    size_t nsrc;
    int raw;         /* --raw: each -f file is one datagram */
    int pcap_port;   /* --pcap-port, or -1 */
    unsigned repeat; /* >= 1 */
    uint64_t rate;   /* messages per second over all exporters, 0 = unpaced */
    unsigned exporters;
    int tcp;
    int quiet;
};

/* Everything to send, loaded and checked before the first byte goes out. */
struct replay_plan {
    uint8_t **bufs; /* file images the messages point into */
    size_t nbufs;
    struct msg_list msgs;
};

/* Load and split all sources. Returns 0, or -1 after printing an error naming the file. */
int replay_prepare(const struct replay_cfg *cfg, struct replay_plan *plan);

/* Send the plan cfg->repeat times; every exporter gets every message, in order.
 * *records receives the data records counted in what was sent. Returns 0/-1. */
int replay_run(const struct replay_cfg *cfg, const struct replay_plan *plan, struct tx *tx,
               uint64_t *records);

void replay_free(struct replay_plan *plan);

#endif
