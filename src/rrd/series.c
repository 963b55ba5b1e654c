#include "rrd/series.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/parse.h"

static const char *const kind_names[IXD_RRD_KINDS] = {
    "exporter", "domain", "interface", "collector", "pipeline", "output",
};

static const char *const traffic_columns[] = {"flows", "packets", "octets"};
static const char *const collector_columns[] = {"records", "seq_lost", "errors", "drops"};
static const char *const pipeline_columns[] = {"records", "out", "dropped", "failed"};
static const char *const output_columns[] = {"records", "dropped"};

const char *
ixd_rrd_kind_name(enum ixd_rrd_kind kind)
{
    return kind < IXD_RRD_KINDS ? kind_names[kind] : "?";
}

int
ixd_rrd_kind_traffic(enum ixd_rrd_kind kind)
{
    return kind == IXD_RRD_EXPORTER || kind == IXD_RRD_DOMAIN || kind == IXD_RRD_INTERFACE;
}

unsigned
ixd_rrd_kind_columns(enum ixd_rrd_kind kind, const char *const **names)
{
    switch (kind) {
    case IXD_RRD_COLLECTOR:
        *names = collector_columns;
        return 4;
    case IXD_RRD_PIPELINE:
        *names = pipeline_columns;
        return 4;
    case IXD_RRD_OUTPUT:
        *names = output_columns;
        return 2;
    default:
        *names = traffic_columns;
        return 3;
    }
}

void
ixd_rrd_key_address(const struct ixd_rrd_key *k, char *out, size_t outlen)
{
    if (IN6_IS_ADDR_V4MAPPED(&k->addr)) {
        inet_ntop(AF_INET, &k->addr.s6_addr[12], out, (socklen_t)outlen);
    } else {
        inet_ntop(AF_INET6, &k->addr, out, (socklen_t)outlen);
    }
}

int
ixd_rrd_key_id(const struct ixd_rrd_key *k, char *out, size_t outlen)
{
    char addr[INET6_ADDRSTRLEN];
    int n;

    if (!ixd_rrd_kind_traffic(k->kind)) {
        n = snprintf(out, outlen, "%s~%s", ixd_rrd_kind_name(k->kind), k->name);
        return n > 0 && (size_t)n < outlen ? 0 : -1;
    }
    ixd_rrd_key_address(k, addr, sizeof(addr));
    for (char *p = addr; *p != '\0'; p++) {
        if (*p == ':') {
            *p = '-';
        }
    }
    if (k->kind == IXD_RRD_EXPORTER) {
        n = snprintf(out, outlen, "exporter~%s~%s", k->name, addr);
    } else if (k->kind == IXD_RRD_DOMAIN) {
        n = snprintf(out, outlen, "domain~%s~%s~%lu", k->name, addr, (unsigned long)k->num);
    } else {
        n = snprintf(out, outlen, "interface~%s~%s~%s~%lu", k->name, addr, k->dir ? "out" : "in",
                     (unsigned long)k->num);
    }
    return n > 0 && (size_t)n < outlen ? 0 : -1;
}

/* A config name: letters, digits, '-', '_', '.', not empty. */
static int
is_name(const char *s)
{
    if (*s == '\0' || strlen(s) >= IXD_NAME_MAX) {
        return -1;
    }
    for (; *s != '\0'; s++) {
        if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9') ||
              *s == '-' || *s == '_' || *s == '.')) {
            return -1;
        }
    }
    return 0;
}

static int
parse_address(char *text, struct in6_addr *out)
{
    struct in_addr v4;

    if (inet_pton(AF_INET, text, &v4) == 1) {
        memset(out, 0, sizeof(*out));
        out->s6_addr[10] = 0xff;
        out->s6_addr[11] = 0xff;
        memcpy(&out->s6_addr[12], &v4, 4);
        return 0;
    }
    for (char *p = text; *p != '\0'; p++) {
        if (*p == '-') {
            *p = ':';
        }
    }
    /* an IPv4-mapped address is written as IPv4: written otherwise, it is not a name ipfixd
     * gives, so that one series has one name */
    if (inet_pton(AF_INET6, text, out) != 1 || IN6_IS_ADDR_V4MAPPED(out)) {
        return -1;
    }
    return 0;
}

int
ixd_rrd_key_parse_address(const char *text, struct in6_addr *out)
{
    char buf[INET6_ADDRSTRLEN];

    if (snprintf(buf, sizeof(buf), "%s", text) >= (int)sizeof(buf) || strchr(buf, '-') != NULL) {
        return -1;
    }
    return parse_address(buf, out);
}

static int
parse_u32(const char *text, uint32_t *out)
{
    uint64_t v;

    if (ixd_parse_u64(text, &v) == -1 || v > UINT32_MAX) {
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

/* Splits id at '~' into at most max parts (in buf). */
static int
split(const char *id, char *buf, size_t buflen, char **parts, int max)
{
    int n = 0;

    if (snprintf(buf, buflen, "%s", id) >= (int)buflen) {
        return -1;
    }
    parts[n++] = buf;
    for (char *p = buf; *p != '\0'; p++) {
        if (*p == '~') {
            if (n == max) {
                return -1;
            }
            *p = '\0';
            parts[n++] = p + 1;
        }
    }
    return n;
}

int
ixd_rrd_key_parse(const char *id, struct ixd_rrd_key *k)
{
    char buf[IXD_RRD_ID_MAX], *part[6];
    int n = split(id, buf, sizeof(buf), part, 6), kind;
    char again[IXD_RRD_ID_MAX];

    memset(k, 0, sizeof(*k));
    for (kind = 0; n > 0 && kind < IXD_RRD_KINDS; kind++) {
        if (strcmp(part[0], kind_names[kind]) == 0) {
            break;
        }
    }
    if (n < 2 || kind == IXD_RRD_KINDS || is_name(part[1]) == -1) {
        return -1;
    }
    k->kind = (uint8_t)kind;
    snprintf(k->name, sizeof(k->name), "%s", part[1]);
    if (!ixd_rrd_kind_traffic(k->kind)) {
        return n == 2 ? 0 : -1;
    }
    if ((kind == IXD_RRD_EXPORTER && n != 3) || (kind == IXD_RRD_DOMAIN && n != 4) ||
        (kind == IXD_RRD_INTERFACE && n != 5) || parse_address(part[2], &k->addr) == -1) {
        return -1;
    }
    if (kind == IXD_RRD_DOMAIN && parse_u32(part[3], &k->num) == -1) {
        return -1;
    }
    if (kind == IXD_RRD_INTERFACE) {
        if ((strcmp(part[3], "in") != 0 && strcmp(part[3], "out") != 0) ||
            parse_u32(part[4], &k->num) == -1) {
            return -1;
        }
        k->dir = strcmp(part[3], "out") == 0;
    }
    /* one series, one name: "010.0.0.1" or "7" written "07" would be another file */
    if (ixd_rrd_key_id(k, again, sizeof(again)) == -1 || strcmp(again, id) != 0) {
        return -1;
    }
    return 0;
}
