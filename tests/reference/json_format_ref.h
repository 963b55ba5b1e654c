/* The JSON formatter before compiled templates (json_format_ref.c): the reference of
 * test_json_reference.c. Same contracts as src/output/json_format.h. */
#ifndef IXD_TEST_JSON_FORMAT_REF_H
#define IXD_TEST_JSON_FORMAT_REF_H

#include <stddef.h>
#include <stdint.h>

#include "ipfixd/record.h"

size_t ref_json_bound(const struct ixd_record *r);
size_t ref_json_prefix(const struct ixd_source *src, char *buf, size_t size);
size_t ref_json_record(const struct ixd_record *r, const char *prefix, size_t prefix_len,
                       char *out);
size_t ref_json_record_from(const struct ixd_record *r, const struct ixd_source *src,
                            const char *prefix, size_t prefix_len, char *out);
size_t ref_json_record_scaled(const struct ixd_record *r, const struct ixd_source *src,
                              uint32_t rate, const char *prefix, size_t prefix_len, char *out);
size_t ref_json_string(char *out, const uint8_t *s, size_t len);
size_t ref_json_rfc3339(char *out, int64_t sec, uint32_t frac, int digits);
size_t ref_json_u64(char *out, uint64_t v);

#endif
