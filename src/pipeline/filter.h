/*
 * The filter language (docs/filter.md): an expression over information elements, parsed once
 * into a tree and compiled once per template into a short branch program, so that matching a
 * record reads only the fields the expression names, at indices resolved in advance.
 *
 *     proto tcp and dst port in [80, 443, 8000..8999] and not src ip in 10.0.0.0/8
 *     exists sourceIPv6Address and flowStartMilliseconds >= 2024-01-01T00:00:00Z
 *
 * Life cycle: ixd_filter_parse() at configuration time; ixd_filter_compile() when a template is
 * first seen; ixd_filter_match() per record. A parsed filter is read-only, so any number of
 * threads may compile from it at once; a program belongs to the thread that uses it.
 */
#ifndef IXD_PIPELINE_FILTER_H
#define IXD_PIPELINE_FILTER_H

#include <stddef.h>

#include "ipfix/ie.h"
#include "ipfixd/record.h"

struct ixd_filter;
struct ixd_filter_prog;

/*
 * Parses text against the element registry reg (names and types are resolved here; the filter
 * does not keep reg). Returns a filter the caller frees with ixd_filter_free(), or NULL with
 * "column N: what was expected, found what" in err (N counts bytes from 1).
 */
struct ixd_filter *ixd_filter_parse(const char *text, const struct ixd_ie_registry *reg, char *err,
                                    size_t errlen);
void ixd_filter_free(struct ixd_filter *f);

/*
 * Compiles f for records of template t: every element is resolved to its field indices, and
 * tests on elements t lacks are folded away. Returns NULL only when out of memory. The program
 * borrows f's value sets (free every program of f before f) but not t: it stays valid for any
 * template with the same layout (ixd_template_same()).
 */
struct ixd_filter_prog *ixd_filter_compile(const struct ixd_filter *f,
                                           const struct ixd_template *t);
void ixd_filter_prog_free(struct ixd_filter_prog *prog);

/* 1 when record r (of the template prog was compiled for) matches, else 0. Allocates nothing. */
int ixd_filter_match(const struct ixd_filter_prog *prog, const struct ixd_record *r);

/*
 * 1 or 0 when the program's answer does not depend on the record (e.g. it tests an element the
 * template lacks), so a caller may pass or drop a whole set unread; -1 otherwise.
 */
int ixd_filter_prog_constant(const struct ixd_filter_prog *prog);

#endif
