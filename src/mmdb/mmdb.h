/*
 * MaxMind-format databases (GeoLite2, GeoIP2, DB-IP "lite" and their kin, .mmdb files the
 * operator supplies), read through libmaxminddb: all use of it stays in this folder. A database
 * is mapped once, read-only, and any number of threads may look addresses up in it at once.
 * What a lookup gives points into the mapping: it stays valid until the database is closed.
 */
#ifndef IXD_MMDB_MMDB_H
#define IXD_MMDB_MMDB_H

#include <netinet/in.h>
#include <stddef.h>
#include <stdint.h>

struct ixd_mmdb;

/* What a database says of an address: any part may be missing (0, or length 0). Strings are
 * not NUL-terminated. */
struct ixd_mmdb_result {
    uint32_t asn; /* autonomous_system_number */
    uint32_t as_name_len, country_len, city_len;
    const char *as_name; /* autonomous_system_organization */
    const char *country; /* country.iso_code, else registered_country.iso_code */
    const char *city;    /* city.names.en */
};

/* Opens (maps) path; NULL with "path: message" in err. Control thread. */
struct ixd_mmdb *ixd_mmdb_open(const char *path, char *err, size_t errlen);
void ixd_mmdb_close(struct ixd_mmdb *db);

/* Fills *r for addr (IPv6; IPv4 mapped); 1 when the database has an entry for it, 0 when not
 * (r then all empty). Any thread. */
int ixd_mmdb_lookup(const struct ixd_mmdb *db, const struct in6_addr *addr,
                    struct ixd_mmdb_result *r);

/* Networks (search tree nodes) and the database type ("GeoLite2-ASN"), for messages. */
uint32_t ixd_mmdb_nodes(const struct ixd_mmdb *db);
const char *ixd_mmdb_type(const struct ixd_mmdb *db);

#endif
