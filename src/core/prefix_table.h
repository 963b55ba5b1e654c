/*
 * Longest-prefix match from IPv4 and IPv6 prefixes to values (strings): prefixes are added (from
 * a CSV file of "prefix,value" lines, or one by one), then the table is built once — flattened
 * into sorted, disjoint address ranges, each with the value of the longest prefix that holds it,
 * and an index over their first bits — and is read-only afterwards, so any number of threads may
 * look addresses up in it without locking. Equal values are stored once. Used where records are
 * tagged by the subnet their addresses fall in: Lua scripts' ipfixd.prefix_table and the enrich
 * stage's CSV prefix tables (AS numbers, names, places).
 */
#ifndef IXD_CORE_PREFIX_TABLE_H
#define IXD_CORE_PREFIX_TABLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ixd_prefix_table;

/* Prefixes a table holds at most: a file that lists more is refused. */
#define IXD_PREFIX_TABLE_MAX (1u << 22)
/* Bytes a value holds at most. */
#define IXD_PREFIX_VALUE_MAX 1023

/* An empty table (NULL when out of memory). */
struct ixd_prefix_table *ixd_prefix_table_new(void);
void ixd_prefix_table_free(struct ixd_prefix_table *t);

/*
 * Adds prefix (as ixd_prefix_parse reads it: "10.0.0.0/8", "2001:db8::/32", an address; bits
 * beyond the length are ignored) with value (copied). The same prefix again replaces its value.
 * Before ixd_prefix_table_build only. 0, or -1 with a message in err.
 */
int ixd_prefix_table_add(struct ixd_prefix_table *t, const char *prefix, const char *value,
                         char *err, size_t errlen);

/* Makes the table ready for lookups (after the last add). 0, or -1 (no memory) with err. */
int ixd_prefix_table_build(struct ixd_prefix_table *t, char *err, size_t errlen);

/*
 * Reads "prefix,value" lines (blank lines and lines starting with '#' are skipped; spaces
 * around the prefix and the value are ignored; a line with one field maps its prefix to "";
 * the value is the rest of the line, commas included) from text, then builds the table. name
 * is for messages: "name:line: message" in err on the first bad line.
 */
int ixd_prefix_table_parse(struct ixd_prefix_table *t, const char *name, const char *text,
                           size_t len, char *err, size_t errlen);

/* The value of the longest prefix that holds addr (IPv6; IPv4 mapped), or NULL. Built tables
 * only (NULL before). */
const char *ixd_prefix_table_lookup(const struct ixd_prefix_table *t, const struct in6_addr *addr);

/* The same as an index into the table's distinct values (0 .. ixd_prefix_table_values - 1),
 * or -1. */
int32_t ixd_prefix_table_lookup_index(const struct ixd_prefix_table *t,
                                      const struct in6_addr *addr);
/* Distinct values, and value i. */
size_t ixd_prefix_table_values(const struct ixd_prefix_table *t);
const char *ixd_prefix_table_value(const struct ixd_prefix_table *t, uint32_t i);

/* The same for an address as text ("192.0.2.1", "2001:db8::1"); NULL also when text is not
 * an address. */
const char *ixd_prefix_table_lookup_text(const struct ixd_prefix_table *t, const char *text);

/* Prefixes added (a prefix added twice counts once after the build). */
size_t ixd_prefix_table_count(const struct ixd_prefix_table *t);
/* Bytes the table holds (for memory accounting). */
size_t ixd_prefix_table_bytes(const struct ixd_prefix_table *t);

#endif
