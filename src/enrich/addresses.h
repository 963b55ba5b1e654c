/*
 * What the enrich stage knows of addresses: AS number, AS name, country and city, from CSV
 * prefix tables (core/prefix_table.h, the same table the Lua prefix_table uses) and MaxMind-
 * format databases (src/mmdb/), tried in the order configured: each part of the answer comes
 * from the first source that has it. Built once per config on the control thread and read-only
 * afterwards: every worker looks up in the same tables without locking; a reload builds new
 * ones (so a changed file is read again) and the old go when the last worker let go of them.
 */
#ifndef IXD_ENRICH_ADDRESSES_H
#define IXD_ENRICH_ADDRESSES_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

/* Strings are cut to this many bytes (at a UTF-8 character boundary) when written. */
#define IXD_ADDR_STRING_MAX 255

/* What is known of an address; strings are not NUL-terminated and live as long as the
 * sources. Length 0: unknown. */
struct ixd_addrinfo {
    uint32_t asn;
    uint16_t as_name_len, country_len, city_len;
    const char *as_name, *country, *city;
};

struct ixd_addresses;

struct ixd_addresses *ixd_addresses_new(void);
void ixd_addresses_free(struct ixd_addresses *a);

/*
 * Adds a CSV prefix table: lines "prefix,asn,as name,country,city" (the fields after the
 * prefix may be left out or empty; a field in double quotes may hold commas, "" is a quote;
 * the AS number may be written AS64500; '#' starts a comment line). 0, or -1 with
 * "path:line: message" in err.
 */
int ixd_addresses_add_csv(struct ixd_addresses *a, const char *path, char *err, size_t errlen);
/* Adds a MaxMind-format database. 0, or -1 with "path: message" in err. */
int ixd_addresses_add_mmdb(struct ixd_addresses *a, const char *path, char *err, size_t errlen);
size_t ixd_addresses_sources(const struct ixd_addresses *a);

/* What the sources know of addr (IPv6, IPv4 mapped). Any thread. */
void ixd_addresses_lookup(const struct ixd_addresses *a, const struct in6_addr *addr,
                          struct ixd_addrinfo *out);

#endif
