/* Transport (UDP/TCP sockets, one per simulated exporter) and rate pacing for ipfixd-send. */
#ifndef IXD_SEND_PACE_H
#define IXD_SEND_PACE_H

#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* Most messages handed to one sendmmsg() call; also the largest paced batch. */
#define TX_BATCH 32u

/* Set by SIGINT/SIGTERM: senders stop at the next batch and still print the summary. */
extern volatile sig_atomic_t send_stop;

struct tx;

/* Check the syntax of dest without resolving it; prints the problem and returns -1. */
int tx_check_dest(const char *dest);

/* Resolve dest ("HOST:PORT", "[V6]:PORT"), open nconn sockets (UDP) or connections (TCP).
 * chunk > 0 (TCP only) splits the stream into writes of at most chunk bytes.
 * Prints the reason and returns NULL on failure. */
struct tx *tx_open(const char *dest, int tcp, unsigned nconn, size_t chunk);

/* Largest message the transport can carry in one piece (UDP payload limit or 65535). */
size_t tx_max_message(const struct tx *tx);

/* Send n messages, in order, on connection conn. Returns 0, or -1 after printing the error. */
int tx_send(struct tx *tx, unsigned conn, const struct iovec *msgs, size_t n);

/* Messages and bytes actually handed to the kernel so far. */
void tx_counters(const struct tx *tx, uint64_t *messages, uint64_t *bytes);

/* TCP: half-close and wait (5 s at most) for the peer to close. Frees tx. Returns 0/-1. */
int tx_close(struct tx *tx);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t mono_ns(void);

/* Pacing: units (records or messages) per second from a fixed start, so that lateness in
 * one batch is made up in the next instead of accumulating. rate 0 = no pacing. */
struct pacer {
    uint64_t rate;
    uint64_t start_ns;
};

void pace_init(struct pacer *p, uint64_t rate);

/* Sleep until the moment when `done` units should have been sent. Returns -1 if interrupted
 * by a stop signal, else 0. */
int pace_wait(const struct pacer *p, uint64_t done);

/* Messages per batch: large batches at high rates keep the syscall count low, small ones at
 * low rates keep the traffic smooth (a batch covers about a millisecond). */
unsigned pace_batch(uint64_t rate, uint64_t units_per_msg);

#endif
