/*
 * An exporter's clock offset: how far its clock (the export time in each message header) is
 * ahead of ours (the time the message was received). docs/internals/clock.md.
 *
 * A message is received some time after it was exported: the network and the socket's queue
 * only ever add delay. So receive - export is the offset plus a delay that is never negative,
 * and the smallest such value over many messages is the offset plus the smallest delay: the
 * estimate is the largest export - receive seen in a sliding window of receive time. A mean
 * would carry the average queueing delay, and a burst of queueing would swing it; the maximum
 * is moved by none of it. The export time has whole seconds only (it is truncated), so the
 * estimate is a lower bound that comes within the truncation's fraction of a second as
 * messages are exported at varied moments of the second.
 *
 * The window is IXD_CLOCK_BUCKETS buckets of IXD_CLOCK_BUCKET_USEC of receive time, each
 * holding its largest value: constant memory and work per message whatever the rate, and a
 * clock that was stepped (corrected by NTP) is followed within the window.
 *
 * One estimator per exporter and worker, owned by the worker thread (the snapshot reads it
 * there too).
 */
#ifndef IXD_IPFIX_CLOCK_OFFSET_H
#define IXD_IPFIX_CLOCK_OFFSET_H

#include <stdint.h>

#define IXD_CLOCK_BUCKETS 8
#define IXD_CLOCK_BUCKET_USEC 15000000 /* 8 x 15 s: a window of two minutes */

struct ixd_clock_offset {
    int64_t bucket[IXD_CLOCK_BUCKETS]; /* receive time / IXD_CLOCK_BUCKET_USEC, 0 = empty */
    int64_t most[IXD_CLOCK_BUCKETS];   /* largest export - receive in it, usec */
    uint64_t samples;                  /* messages measured, ever */
    int64_t offset_usec;               /* the estimate after the last message */
    int known;                         /* offset_usec holds an estimate */
};

/* Measures one message: export_time (header, UNIX seconds of the exporter's clock) against
 * received_usec (UNIX usec, ours). An export time of 0 (not set) is ignored. */
void ixd_clock_offset_add(struct ixd_clock_offset *o, uint32_t export_time, int64_t received_usec);

/* The estimate as of now_usec, in usec (positive: the exporter's clock is ahead): 0, or -1 when
 * no message was measured within the window before now_usec. */
int ixd_clock_offset_get(const struct ixd_clock_offset *o, int64_t now_usec, int64_t *offset_usec);

#endif
