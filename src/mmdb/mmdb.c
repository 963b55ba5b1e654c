#include "mmdb/mmdb.h"

#include <arpa/inet.h>
#include <errno.h>
#include <maxminddb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct ixd_mmdb {
    MMDB_s db;
};

struct ixd_mmdb *
ixd_mmdb_open(const char *path, char *err, size_t errlen)
{
    struct ixd_mmdb *m = calloc(1, sizeof(*m));
    int rc;

    if (m == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    errno = 0;
    rc = MMDB_open(path, MMDB_MODE_MMAP, &m->db);
    if (rc != MMDB_SUCCESS) {
        int e = errno;
        if ((rc == MMDB_FILE_OPEN_ERROR || rc == MMDB_IO_ERROR) && e != 0) {
            snprintf(err, errlen, "%s: cannot be read: %s", path, strerror(e));
        } else {
            snprintf(err, errlen, "%s: %s", path, MMDB_strerror(rc));
        }
        free(m);
        return NULL;
    }
    return m;
}

void
ixd_mmdb_close(struct ixd_mmdb *m)
{
    if (m != NULL) {
        MMDB_close(&m->db);
        free(m);
    }
}

/* The string at path in entry, or nothing. */
static void
string_at(MMDB_entry_s *entry, const char *const *path, const char **out, uint32_t *len)
{
    MMDB_entry_data_s d;

    if (MMDB_aget_value(entry, &d, path) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UTF8_STRING) {
        *out = d.utf8_string;
        *len = d.data_size;
    }
}

int
ixd_mmdb_lookup(const struct ixd_mmdb *m, const struct in6_addr *addr, struct ixd_mmdb_result *r)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    static const char *const asn_path[] = {"autonomous_system_number", NULL};
    static const char *const org_path[] = {"autonomous_system_organization", NULL};
    static const char *const country_path[] = {"country", "iso_code", NULL};
    static const char *const registered_path[] = {"registered_country", "iso_code", NULL};
    static const char *const city_path[] = {"city", "names", "en", NULL};
    struct sockaddr_storage ss;
    MMDB_lookup_result_s found;
    MMDB_entry_data_s d;
    int error = 0;

    memset(r, 0, sizeof(*r));
    memset(&ss, 0, sizeof(ss));
    if (memcmp(addr->s6_addr, mapped, 12) == 0) {
        struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
        sin->sin_family = AF_INET;
        memcpy(&sin->sin_addr, addr->s6_addr + 12, 4);
    } else {
        struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
        sin6->sin6_family = AF_INET6;
        sin6->sin6_addr = *addr;
    }
    /* an IPv6 address in an IPv4-only database is an error that only means "not there" */
    found = MMDB_lookup_sockaddr(&m->db, (const struct sockaddr *)&ss, &error);
    if (error != MMDB_SUCCESS || !found.found_entry) {
        return 0;
    }
    if (MMDB_aget_value(&found.entry, &d, asn_path) == MMDB_SUCCESS && d.has_data &&
        d.type == MMDB_DATA_TYPE_UINT32) {
        r->asn = d.uint32;
    }
    string_at(&found.entry, org_path, &r->as_name, &r->as_name_len);
    string_at(&found.entry, country_path, &r->country, &r->country_len);
    if (r->country_len == 0) {
        string_at(&found.entry, registered_path, &r->country, &r->country_len);
    }
    string_at(&found.entry, city_path, &r->city, &r->city_len);
    return 1;
}

uint32_t
ixd_mmdb_nodes(const struct ixd_mmdb *m)
{
    return m->db.metadata.node_count;
}

const char *
ixd_mmdb_type(const struct ixd_mmdb *m)
{
    return m->db.metadata.database_type != NULL ? m->db.metadata.database_type : "?";
}
