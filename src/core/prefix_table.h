/*
 * Longest-prefix match from IPv4 and IPv6 prefixes to values (strings): a table built once
 * (from a CSV file of "prefix,value" lines, or prefix by prefix) and read-only afterwards, so
 * any number of threads may look addresses up in it without locking. Used where records are
 * tagged by the subnet their addresses fall in (Lua scripts' ipfixd.prefix_table).
 */
#ifndef IXD_CORE_PREFIX_TABLE_H
#define IXD_CORE_PREFIX_TABLE_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ixd_prefix_table;

/* Prefixes a table holds at most: a file that lists more is refused. */
#define IXD_PREFIX_TABLE_MAX (1u << 20)

/* An empty table (NULL when out of memory). */
struct ixd_prefix_table *ixd_prefix_table_new(void);
void ixd_prefix_table_free(struct ixd_prefix_table *t);

/*
 * Adds prefix (as ixd_prefix_parse reads it: "10.0.0.0/8", "2001:db8::/32", an address) with
 * value (copied, at most 255 bytes). The same prefix again replaces its value. 0, or -1 with a
 * message in err.
 */
int ixd_prefix_table_add(struct ixd_prefix_table *t, const char *prefix, const char *value,
                         char *err, size_t errlen);

/*
 * Reads "prefix,value" lines (blank lines and lines starting with '#' are skipped; spaces
 * around either field are ignored; a line with one field maps its prefix to "") from text.
 * name is for messages: "name:line: message" in err on the first bad line.
 */
int ixd_prefix_table_parse(struct ixd_prefix_table *t, const char *name, const char *text,
                           size_t len, char *err, size_t errlen);

/* The value of the longest prefix that holds addr (IPv6; IPv4 mapped), or NULL. */
const char *ixd_prefix_table_lookup(const struct ixd_prefix_table *t, const struct in6_addr *addr);

/* The same for an address as text ("192.0.2.1", "2001:db8::1"); NULL also when text is not
 * an address. */
const char *ixd_prefix_table_lookup_text(const struct ixd_prefix_table *t, const char *text);

size_t ixd_prefix_table_count(const struct ixd_prefix_table *t);
/* Bytes the table holds (for memory accounting). */
size_t ixd_prefix_table_bytes(const struct ixd_prefix_table *t);

#endif
