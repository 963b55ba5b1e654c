/*
 * A spool: batches kept on disk, oldest first, while their destination is out of reach
 * (docs/sinks.md#clickhouse). One file per batch in a directory of the output's own, named by
 * a sequence number, so a restart finds them again in order. Bounded in bytes: a batch that
 * would pass the bound is refused, and the caller counts it. Used by one thread (a writer).
 */
#ifndef IXD_OUTPUT_SPOOL_H
#define IXD_OUTPUT_SPOOL_H

#include <stddef.h>
#include <stdint.h>

struct ixd_spool;

/* What a batch carries besides its bytes. */
struct ixd_spool_batch {
    uint64_t rows;
    uint32_t flags; /* the owner's (ClickHouse: gzip) */
    size_t len;
    void *body; /* ixd_spool_peek(): the caller frees it */
};

/* Opens dir (creating it, 0700), locks it, and finds the batches an earlier run left. NULL
 * with err; errno EWOULDBLOCK: another spool holds the lock (it is released at close). */
struct ixd_spool *ixd_spool_open(const char *dir, size_t max_bytes, char *err, size_t errlen);
void ixd_spool_close(struct ixd_spool *s); /* the files stay */

/* Appends a batch: 0, or -1 when the bound would be passed or it cannot be written (errno:
 * ENOSPC for the bound). */
int ixd_spool_push(struct ixd_spool *s, const void *body, size_t len, uint64_t rows,
                   uint32_t flags);

/* The oldest batch into *b: 1, 0 when the spool is empty, -1 when its file cannot be read (it
 * is then removed, and b->rows says what it held if its header could be read). */
int ixd_spool_peek(struct ixd_spool *s, struct ixd_spool_batch *b);
/* Removes the oldest batch. */
void ixd_spool_pop(struct ixd_spool *s);

/* Any thread, relaxed: what is waiting. */
uint64_t ixd_spool_rows(const struct ixd_spool *s);
uint64_t ixd_spool_bytes(const struct ixd_spool *s);
uint64_t ixd_spool_batches(const struct ixd_spool *s);

#endif
