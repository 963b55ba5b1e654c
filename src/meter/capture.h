/*
 * Captures: libpcap stays behind this file. A capture is a pcap or pcapng file read once, or an
 * interface read through libpcap's TPACKET_V3 ring (a buffer and a block timeout, not immediate
 * mode, which would fall back to TPACKET_V2), optionally one of several sockets joined in a
 * PACKET_FANOUT group that spreads flows over them by hash. Opening an interface needs
 * CAP_NET_RAW: the daemon opens captures on its control thread before it drops privileges.
 */
#ifndef IXD_METER_CAPTURE_H
#define IXD_METER_CAPTURE_H

#include <stddef.h>
#include <stdint.h>

struct ixd_capture;

struct ixd_capture_live {
    const char *interface;
    uint32_t snaplen;
    const char *filter; /* BPF; "" or NULL: none */
    int promiscuous;
    size_t buffer; /* the ring's size, bytes */
    uint32_t timeout_ms;
    uint16_t fanout_group; /* 0: not in a fanout group */
};

/* An interface capture, non-blocking. NULL with err. */
struct ixd_capture *ixd_capture_open_live(const struct ixd_capture_live *o, char *err,
                                          size_t errlen);
/* A pcap or pcapng file, with an optional BPF filter. NULL with err. */
struct ixd_capture *ixd_capture_open_file(const char *path, const char *filter, char *err,
                                          size_t errlen);
void ixd_capture_close(struct ixd_capture *c);

/* The link type (DLT_*, packet.h's IXD_LINK_*) */
int ixd_capture_link(const struct ixd_capture *c);
/* The descriptor a loop waits on (live captures) */
int ixd_capture_fd(const struct ixd_capture *c);

typedef void (*ixd_capture_fn)(void *arg, const uint8_t *frame, uint32_t caplen, int64_t usec);

/*
 * Reads at most max frames, handing each to fn. Returns how many were read (0: none waiting),
 * IXD_CAPTURE_EOF at the end of a file, or IXD_CAPTURE_ERROR with err (a truncated or damaged
 * file, an interface gone).
 */
int ixd_capture_read(struct ixd_capture *c, int max, ixd_capture_fn fn, void *arg, char *err,
                     size_t errlen);
#define IXD_CAPTURE_EOF (-2)
#define IXD_CAPTURE_ERROR (-1)

/* Live: what the kernel and the interface dropped so far. 0, or -1. */
int ixd_capture_drops(struct ixd_capture *c, uint64_t *kernel, uint64_t *interface);
/* Files: how far reading has come, 0 to 1 (-1: unknown). */
double ixd_capture_progress(const struct ixd_capture *c);

#endif
