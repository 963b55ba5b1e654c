/*
 * Templates that survive a restart: at a clean stop the UDP templates of a collector are written
 * to a file in the state directory (atomically: a temporary file, fsync, rename); at start they
 * are read back and restored while still within their lifetime. A file that is corrupt, cut
 * short or written for another collector is ignored with a log line. TCP templates are never
 * saved: a new connection must send its templates again (RFC 7011 section 8).
 */
#ifndef IXD_IPFIX_PERSIST_H
#define IXD_IPFIX_PERSIST_H

#include <stddef.h>
#include <stdint.h>

#include "ipfix/session.h"

/* Templates read from a file, ready to be restored into any number of workers. */
struct ixd_saved_templates;

/* The file that holds a collector's templates under dir (caller frees). */
char *ixd_templates_path(const char *dir, const char *collector);

/*
 * Writes the UDP templates of the n session tables (one per worker) to path. now_wall is UNIX
 * seconds and now_mono the monotonic clock, to turn refresh times into wall-clock times.
 * Returns the number of templates written, or -1 with err.
 */
long ixd_templates_save(const char *path, const char *collector,
                        struct ixd_sessions *const *tables, size_t n, double now_mono,
                        int64_t now_wall, char *err, size_t errlen);

/*
 * The same layout in memory (the HA channel sends it, src/ha/): returns a malloc'd buffer of
 * *len bytes holding *count templates; skip_from_peer leaves out the templates that came from
 * the HA peer (no echo). Only from the thread that owns the tables (or while they are still).
 */
uint8_t *ixd_templates_encode(const char *collector, struct ixd_sessions *const *tables, size_t n,
                              double now_mono, int64_t now_wall, int skip_from_peer, size_t *len,
                              long *count);
/* Checks and decodes such a buffer (copied); NULL with err when it is unusable. */
struct ixd_saved_templates *ixd_templates_decode(const uint8_t *data, size_t len,
                                                 const char *collector, char *err, size_t errlen);

/* Reads path; NULL with err when the file is absent (err empty) or unusable (err says why). */
struct ixd_saved_templates *ixd_templates_load(const char *path, const char *collector,
                                               char *err, size_t errlen);
/* Restores the templates still within lifetime into ss; returns how many. */
size_t ixd_templates_restore(const struct ixd_saved_templates *saved, struct ixd_sessions *ss,
                             double now_mono, int64_t now_wall);
/* The same for templates from the HA peer: never over a template this worker refreshed more
 * recently, and marked as the peer's (not shared back). Returns how many were taken. */
size_t ixd_templates_restore_peer(const struct ixd_saved_templates *saved, struct ixd_sessions *ss,
                                  double now_mono, int64_t now_wall);
size_t ixd_saved_templates_count(const struct ixd_saved_templates *saved);
void ixd_saved_templates_free(struct ixd_saved_templates *saved);

#endif
