/*
 * Creating RRD files on a thread of their own: a file takes tens of milliseconds (and much
 * more while the disk writes back), so the writer asks for it and goes on writing the files
 * that exist; the new series' counts wait in memory until its file is there.
 *
 * Threads: the writer thread calls everything; the creating thread only creates.
 */
#ifndef IXD_RRD_CREATOR_H
#define IXD_RRD_CREATOR_H

#include <stddef.h>
#include <stdint.h>

#include "rrd/rrdlib.h"

struct ixd_rrd_creator;

/* Starts the thread (with its own rrdcached connection when rrdcached is not ""). NULL with
 * err. */
struct ixd_rrd_creator *ixd_rrd_creator_new(const char *rrdcached, const char *name, char *err,
                                            size_t errlen);
/* Abandons what was not started, waits for the file being created, frees. NULL: no-op. */
void ixd_rrd_creator_free(struct ixd_rrd_creator *c);

/* Asks for path (copied) of kind starting at start; tag comes back with the result. 0, or -1
 * when out of memory. */
int ixd_rrd_creator_ask(struct ixd_rrd_creator *c, const char *path, enum ixd_rrd_kind kind,
                        int64_t start, const struct ixd_rrd_hw *hw, void *tag);
/* Calls done once per request finished since the last call: ok, or not with librrd's message. */
void ixd_rrd_creator_collect(struct ixd_rrd_creator *c,
                             void (*done)(void *arg, void *tag, int ok, const char *err),
                             void *arg);
/* Waits until every request asked so far has finished (tests). */
void ixd_rrd_creator_settle(struct ixd_rrd_creator *c);

#endif
