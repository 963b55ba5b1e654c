/*
 * A CSV table is a prefix table whose values are the rest of each line; every distinct value is
 * parsed once, when the table is read, into an ixd_addrinfo, so a lookup is the table's lookup
 * and an array index.
 */
#include "enrich/addresses.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"
#include "core/prefix_table.h"
#include "mmdb/mmdb.h"

#define CSV_MAX (1u << 30) /* bytes a CSV table may have */

struct csv_table {
    struct ixd_prefix_table *prefixes;
    struct ixd_addrinfo *infos; /* per distinct value */
    char *strings;              /* what infos point into */
};

struct source {
    struct csv_table *csv;
    struct ixd_mmdb *mmdb;
};

struct ixd_addresses {
    struct source *sources;
    size_t n;
};

struct ixd_addresses *
ixd_addresses_new(void)
{
    return calloc(1, sizeof(struct ixd_addresses));
}

void
ixd_addresses_free(struct ixd_addresses *a)
{
    size_t i;

    if (a == NULL) {
        return;
    }
    for (i = 0; i < a->n; i++) {
        if (a->sources[i].csv != NULL) {
            ixd_prefix_table_free(a->sources[i].csv->prefixes);
            free(a->sources[i].csv->infos);
            free(a->sources[i].csv->strings);
            free(a->sources[i].csv);
        }
        ixd_mmdb_close(a->sources[i].mmdb);
    }
    free(a->sources);
    free(a);
}

static struct source *
add_source(struct ixd_addresses *a)
{
    struct source *s = realloc(a->sources, (a->n + 1) * sizeof(*s));

    if (s == NULL) {
        return NULL;
    }
    a->sources = s;
    memset(&s[a->n], 0, sizeof(*s));
    return &s[a->n++];
}

/* The next CSV field of *p (NUL-terminated) into out (cap bytes, NUL-terminated, cut), *p
 * moved past it and its comma; -1 on an unterminated quote. */
static int
csv_field(const char **p, char *out, size_t cap, size_t *len)
{
    const char *s = *p;
    size_t n = 0;

    while (*s == ' ' || *s == '\t') {
        s++;
    }
    if (*s == '"') {
        for (s++;; s++) {
            if (*s == '\0') {
                return -1;
            }
            if (*s == '"' && s[1] != '"') {
                s++;
                break;
            }
            if (*s == '"') {
                s++; /* "" is one quote */
            }
            if (n + 1 < cap) {
                out[n++] = *s;
            }
        }
        while (*s != '\0' && *s != ',') {
            s++;
        }
    } else {
        for (; *s != '\0' && *s != ','; s++) {
            if (n + 1 < cap) {
                out[n++] = *s;
            }
        }
        while (n > 0 && (out[n - 1] == ' ' || out[n - 1] == '\t')) {
            n--;
        }
    }
    out[n] = '\0';
    *len = n;
    *p = *s == ',' ? s + 1 : s;
    return 0;
}

/* Reads one value ("asn,as name,country,city") into info, its strings appended at *str. */
static int
parse_value(const char *v, struct ixd_addrinfo *info, char **str, char *why, size_t whylen)
{
    char field[IXD_PREFIX_VALUE_MAX + 1];
    const char *p = v;
    size_t len, k;
    uint64_t asn = 0;

    memset(info, 0, sizeof(*info));
    for (k = 0; k < 4 && *p != '\0'; k++) {
        if (csv_field(&p, field, sizeof(field), &len) == -1) {
            snprintf(why, whylen, "a quoted field does not end");
            return -1;
        }
        if (k == 0) {
            const char *digits =
                (field[0] == 'A' || field[0] == 'a') && (field[1] == 'S' || field[1] == 's')
                    ? field + 2
                    : field;
            if (len > 0 && (ixd_parse_u64(digits, &asn) == -1 || asn > UINT32_MAX)) {
                snprintf(why, whylen, "'%.32s' is not an AS number", field);
                return -1;
            }
            info->asn = (uint32_t)asn;
            continue;
        }
        if (len > IXD_ADDR_STRING_MAX) {
            len = IXD_ADDR_STRING_MAX;
            while (len > 0 && ((unsigned char)field[len] & 0xc0) == 0x80) {
                len--;
            }
        }
        memcpy(*str, field, len);
        if (k == 1) {
            info->as_name = *str;
            info->as_name_len = (uint16_t)len;
        } else if (k == 2) {
            info->country = *str;
            info->country_len = (uint16_t)len;
        } else {
            info->city = *str;
            info->city_len = (uint16_t)len;
        }
        *str += len;
    }
    if (*p != '\0') {
        snprintf(why, whylen, "more than prefix, AS number, AS name, country and city");
        return -1;
    }
    return 0;
}

/* Parses every distinct value of t's table. */
static int
parse_values(struct csv_table *t, const char *path, char *err, size_t errlen)
{
    size_t n = ixd_prefix_table_values(t->prefixes), i, bytes = 0;
    char why[256], *str;

    for (i = 0; i < n; i++) {
        bytes += strlen(ixd_prefix_table_value(t->prefixes, (uint32_t)i));
    }
    t->infos = calloc(n + 1, sizeof(*t->infos));
    t->strings = malloc(bytes + 1);
    if (t->infos == NULL || t->strings == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    str = t->strings;
    for (i = 0; i < n; i++) {
        const char *v = ixd_prefix_table_value(t->prefixes, (uint32_t)i);
        if (parse_value(v, &t->infos[i], &str, why, sizeof(why)) == -1) {
            snprintf(err, errlen, "%s: '%s': %s", path, v, why);
            return -1;
        }
    }
    return 0;
}

int
ixd_addresses_add_csv(struct ixd_addresses *a, const char *path, char *err, size_t errlen)
{
    struct source *s = add_source(a);
    char *text = NULL;
    size_t len = 0;

    if (s == NULL || (s->csv = calloc(1, sizeof(*s->csv))) == NULL ||
        (s->csv->prefixes = ixd_prefix_table_new()) == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    if (ixd_read_file(path, CSV_MAX, &text, &len) == -1) {
        snprintf(err, errlen, "cannot read %s: %s", path, ixd_read_error(errno));
        return -1;
    }
    if (ixd_prefix_table_parse(s->csv->prefixes, path, text, len, err, errlen) == -1) {
        free(text);
        return -1;
    }
    free(text);
    return parse_values(s->csv, path, err, errlen);
}

int
ixd_addresses_add_mmdb(struct ixd_addresses *a, const char *path, char *err, size_t errlen)
{
    struct source *s = add_source(a);

    if (s == NULL) {
        snprintf(err, errlen, "%s: out of memory", path);
        return -1;
    }
    s->mmdb = ixd_mmdb_open(path, err, errlen);
    return s->mmdb == NULL ? -1 : 0;
}

size_t
ixd_addresses_sources(const struct ixd_addresses *a)
{
    return a->n;
}

/* Takes what out lacks from in. */
static void
merge(struct ixd_addrinfo *out, const struct ixd_addrinfo *in)
{
    if (out->asn == 0) {
        out->asn = in->asn;
    }
    if (out->as_name_len == 0) {
        out->as_name = in->as_name;
        out->as_name_len = in->as_name_len;
    }
    if (out->country_len == 0) {
        out->country = in->country;
        out->country_len = in->country_len;
    }
    if (out->city_len == 0) {
        out->city = in->city;
        out->city_len = in->city_len;
    }
}

static uint16_t
cut(uint32_t len, const char *s)
{
    if (len <= IXD_ADDR_STRING_MAX) {
        return (uint16_t)len;
    }
    len = IXD_ADDR_STRING_MAX;
    while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80) {
        len--;
    }
    return (uint16_t)len;
}

void
ixd_addresses_lookup(const struct ixd_addresses *a, const struct in6_addr *addr,
                     struct ixd_addrinfo *out)
{
    size_t i;

    memset(out, 0, sizeof(*out));
    for (i = 0; i < a->n; i++) {
        const struct source *s = &a->sources[i];
        struct ixd_addrinfo info;

        if (s->csv != NULL) {
            int32_t v = ixd_prefix_table_lookup_index(s->csv->prefixes, addr);
            if (v < 0) {
                continue;
            }
            info = s->csv->infos[v];
        } else {
            struct ixd_mmdb_result r;
            if (!ixd_mmdb_lookup(s->mmdb, addr, &r)) {
                continue;
            }
            info.asn = r.asn;
            info.as_name = r.as_name;
            info.as_name_len = cut(r.as_name_len, r.as_name);
            info.country = r.country;
            info.country_len = cut(r.country_len, r.country);
            info.city = r.city;
            info.city_len = cut(r.city_len, r.city);
        }
        merge(out, &info);
        if (out->asn != 0 && out->as_name_len != 0 && out->country_len != 0 && out->city_len != 0) {
            return;
        }
    }
}
