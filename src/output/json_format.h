/*
 * Formats records as JSON objects (one line each). Pure functions over the record model, so
 * unit tests drive them directly. See docs/json-output.md for the keys and value forms.
 */
#ifndef IXD_OUTPUT_JSON_FORMAT_H
#define IXD_OUTPUT_JSON_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

/* Room a record's line can need at most; callers make sure the buffer has it. */
size_t ixd_json_bound(const struct ixd_record *r);

/* The longest metadata prefix: with a TLS subject (255 bytes) under a key of 63. */
#define IXD_JSON_PREFIX_MAX 2048

/*
 * Writes the batch's metadata prefix (everything before "@template") into buf: at least 512
 * bytes, IXD_JSON_PREFIX_MAX when src may carry a TLS subject (written as "@tls_subject").
 * Returns its length.
 */
size_t ixd_json_prefix(const struct ixd_source *src, char *buf, size_t size);
/* The same with the TLS subject under subject_key (NULL: not written). */
size_t ixd_json_prefix_keyed(const struct ixd_source *src, const char *subject_key, char *buf,
                             size_t size);

/* Writes one record as a line ending in '\n' at out (which has ixd_json_bound() bytes).
 * prefix is the batch's prefix. Returns the bytes written. */
size_t ixd_json_record(const struct ixd_record *r, const char *prefix, size_t prefix_len,
                       char *out);

/* The same, with the source of the batch: flowStart/EndSysUpTime become absolute
 * flowStart/EndMilliseconds when src->system_init_ms is known (NetFlow headers give it). */
size_t ixd_json_record_from(const struct ixd_record *r, const struct ixd_source *src,
                            const char *prefix, size_t prefix_len, char *out);

/* The same, with packet and octet counts multiplied by rate (the sampling rate that applies
 * to the record; saturating) and the rate written as "@sampling_rate" when above 1. */
size_t ixd_json_record_scaled(const struct ixd_record *r, const struct ixd_source *src,
                              uint32_t rate, const char *prefix, size_t prefix_len, char *out);

/*
 * Templates compiled into programs (json_prog.c): the constant text of a template's lines
 * rendered once, the values written by writers chosen per field. A cache belongs to one thread
 * (a JSON output's lane): it keeps the programs of the templates it saw, bounded in number and
 * memory, keyed by template serial. ixd_json_cache_record() writes what
 * ixd_json_record_scaled() writes, and has the same contract.
 */
struct ixd_json_cache;

struct ixd_json_cache *ixd_json_cache_new(void); /* NULL: out of memory */
void ixd_json_cache_free(struct ixd_json_cache *c);
size_t ixd_json_cache_record(struct ixd_json_cache *c, const struct ixd_record *r,
                             const struct ixd_source *src, uint32_t rate, const char *prefix,
                             size_t prefix_len, char *out);

/* Building blocks, exposed for tests. Each returns the length of what it wrote; like every
 * writer of the formatter it may store up to IXD_JSON_OVERRUN (output/json_put.h) bytes past
 * that, which the bound of a line leaves room for. */
size_t ixd_json_string(char *out, const uint8_t *s, size_t len);
size_t ixd_json_rfc3339(char *out, int64_t sec, uint32_t frac, int digits);
size_t ixd_json_u64(char *out, uint64_t v);

#endif
