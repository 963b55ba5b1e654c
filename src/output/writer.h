/*
 * The writer lane: how an output that writes from a thread of its own gets its data there
 * (docs/internals/writer.md). Each worker fills fixed-size buffers in its own lane; a full buffer
 * goes to the output's one writer thread through a single-producer/single-consumer ring
 * (core/spsc.h) and comes back empty through another, so the record path takes no lock and
 * never makes the system call the destination needs. The output supplies what the writer
 * thread does with a buffer (write it to a file descriptor, produce it to a broker, insert it
 * into a database) and what a SIGHUP reopens.
 *
 * Threads and ownership:
 * - The control thread calls ixd_writer_new(), ixd_writer_reopen() and ixd_writer_free().
 * - Worker `w` alone calls the ixd_writer_lane_*() functions and the inline ones below on lane
 *   `w`, from the time it takes the lane until it lets go of the output (its last flush).
 * - The writer thread alone calls the callbacks of struct ixd_writer_conf.
 * - ixd_writer_stats() may be called by any thread at any time.
 * - A buffer belongs to its lane's worker while it is the lane's current one, to the writer
 *   from the push onto the full ring until it is pushed back empty. A callback borrows it for
 *   the length of the call and must not keep a pointer into it.
 */
#ifndef IXD_OUTPUT_WRITER_H
#define IXD_OUTPUT_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "core/spsc.h"

struct ixd_writer;

/* One buffer: bytes of whole records, except that a record longer than a buffer continues in
 * the next buffers of the same lane, and is counted in the buffer where it ends. */
struct ixd_wbuf {
    size_t len;       /* bytes in data */
    uint64_t records; /* records that end in this buffer */
    unsigned lane;    /* the worker that filled it */
    char data[];      /* ixd_writer_conf.buf_size bytes */
};

/*
 * What an output asks of its writer. Copied by ixd_writer_new(); arg must stay valid until
 * ixd_writer_free() has returned.
 */
struct ixd_writer_conf {
    const char *name;       /* the output's name, for log lines; borrowed as arg is */
    size_t buf_size;        /* bytes per buffer */
    unsigned bufs_per_lane; /* a power of two, at least 2: a worker waits when all are away */
    /*
     * Writer thread: does with a buffer what the output does (may block: a slow destination
     * holds the buffers, and then the workers, back). Returns how many of b->records did not
     * reach the destination: the writer counts them as dropped, the output logs why. A sink
     * that retries must give up once ixd_writer_stopping() says so, or closing waits for it.
     */
    uint64_t (*consume)(void *arg, const struct ixd_wbuf *b);
    /* Writer thread, on SIGHUP, between two buffers: once every buffer handed on before the
     * request has been consumed (one handed on while it wakes may go first too). NULL:
     * nothing to reopen. */
    void (*reopen)(void *arg);
    /* Writer thread, every tick_ms while it runs (between buffers, and when idle) and once
     * more after the last buffer at stop: for a sink that batches by time or learns of
     * failures late (delivery reports). Returns records lost since the last call, counted as
     * dropped. NULL: no tick, the writer sleeps until there is work. */
    uint64_t (*tick)(void *arg);
    unsigned tick_ms;
    void *arg;
};

/* A worker's lane. The inline functions below read its fields; nothing else should. */
struct ixd_writer_lane {
    struct ixd_writer *writer;
    struct ixd_wbuf *cur;  /* being filled */
    size_t size;           /* of a buffer's data */
    uint64_t waits;        /* times the worker slept because every buffer was away */
    uint64_t dropped;      /* records the worker could not put into a buffer */
    struct ixd_spsc full;  /* worker -> writer */
    struct ixd_spsc empty; /* writer -> worker */
};

/* What the writer counts, for the output's stats callback. */
struct ixd_writer_stats {
    uint64_t waits;   /* every lane's */
    uint64_t dropped; /* records consume() or tick() reported lost, plus the lanes' drops */
};

/*
 * Control thread: allocates `lanes` lanes of conf->bufs_per_lane buffers each and starts the
 * writer thread (with the caller's signal mask). NULL with "output NAME: cannot set up: ..." in
 * err on failure. The caller owns the result and frees it with ixd_writer_free().
 */
struct ixd_writer *ixd_writer_new(const struct ixd_writer_conf *conf, unsigned lanes, char *err,
                                  size_t errlen);

/*
 * Control thread, once every worker has let go of the lanes: hands on what a lane still holds,
 * waits until the writer thread has consumed every buffer and ended, then frees everything.
 * After it returns no callback runs, so the output may finish its destination on the calling
 * thread. NULL: nothing.
 */
void ixd_writer_free(struct ixd_writer *w);

/* Control thread: the writer calls conf.reopen between two buffers (see there). */
void ixd_writer_reopen(struct ixd_writer *w);

/* Writer thread (a consume() or tick() that retries): 1 once ixd_writer_free() has begun. */
int ixd_writer_stopping(const struct ixd_writer *w);

/* Any thread: relaxed reads of the counters. */
void ixd_writer_stats(const struct ixd_writer *w, struct ixd_writer_stats *st);

/* Lane `index` (< lanes), for worker `index`; owned by w. */
struct ixd_writer_lane *ixd_writer_lane(struct ixd_writer *w, unsigned index);

/* Worker: hands the current buffer on if it holds anything (every 100 ms, at stop). */
void ixd_writer_lane_flush(struct ixd_writer_lane *l);

/* Worker: appends len bytes that may span buffers (a record longer than one), counting
 * `records` in the buffer where they end. */
void ixd_writer_lane_append(struct ixd_writer_lane *l, const void *data, size_t len,
                            uint64_t records);

/* Worker: counts records lost before they reached a buffer (e.g. no memory to format them). */
void ixd_writer_lane_drop(struct ixd_writer_lane *l, uint64_t records);

/* Worker: the slow path of ixd_writer_reserve(). */
char *ixd_writer_lane_make_room(struct ixd_writer_lane *l, size_t need);

/*
 * Worker: where to put up to `need` bytes, in the current buffer (handing it on first, and
 * waiting for an empty one, if it has less room). NULL when need exceeds a buffer: use
 * ixd_writer_lane_append(). Follow with ixd_writer_commit().
 */
static inline char *
ixd_writer_reserve(struct ixd_writer_lane *l, size_t need)
{
    if (l->cur->len + need > l->size) {
        return ixd_writer_lane_make_room(l, need);
    }
    return l->cur->data + l->cur->len;
}

/* Worker: len bytes were written at what ixd_writer_reserve() gave, ending `records` records. */
static inline void
ixd_writer_commit(struct ixd_writer_lane *l, size_t len, uint64_t records)
{
    l->cur->len += len;
    l->cur->records += records;
}

#endif
