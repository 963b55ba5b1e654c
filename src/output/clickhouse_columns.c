#include "output/clickhouse_columns.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ipfix/sampling.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"
#include "output/json_format.h"

#define NTP_UNIX_OFFSET 2208988800LL

enum kind {
    K_RECEIVED, /* DateTime: when the record arrived */
    K_START,    /* DateTime: the flow's start, from whichever element carries it */
    K_END,
    K_EXPORTER, /* address: the exporter's */
    K_ODID,     /* UInt32 */
    K_ADDR,     /* address: element id (IPv4) or id2 (IPv6) */
    K_UINT,     /* UInt of width bytes: element id, else id2 */
    K_COUNT,    /* UInt64 renormalised: element id, else id2 */
    K_APP,      /* String "engine:selector" of applicationId */
    K_RATE,     /* UInt32: the sampling rate that applied */
};

struct source {
    const char *name;   /* in columns: */
    const char *column; /* its default column's name */
    uint8_t kind, width, in_default;
    uint16_t id, id2;
};

static const struct source sources[] = {
    {"timeReceived", "time_received", K_RECEIVED, 4, 1, 0, 0},
    {"flowStart", "flow_start", K_START, 4, 1, 0, 0},
    {"flowEnd", "flow_end", K_END, 4, 1, 0, 0},
    {"exporter", "exporter", K_EXPORTER, 16, 1, 0, 0},
    {"observationDomainId", "odid", K_ODID, 4, 0, 0, 0},
    {"sourceAddress", "src_addr", K_ADDR, 16, 1, 8, 27},
    {"destinationAddress", "dst_addr", K_ADDR, 16, 1, 12, 28},
    {"sourceTransportPort", "src_port", K_UINT, 2, 1, 7, 0},
    {"destinationTransportPort", "dst_port", K_UINT, 2, 1, 11, 0},
    {"protocolIdentifier", "protocol", K_UINT, 1, 1, 4, 0},
    {"octetDeltaCount", "bytes", K_COUNT, 8, 1, 1, 85},
    {"packetDeltaCount", "packets", K_COUNT, 8, 1, 2, 86},
    {"ingressInterface", "in_if", K_UINT, 4, 1, 10, 0},
    {"egressInterface", "out_if", K_UINT, 4, 1, 14, 0},
    {"bgpSourceAsNumber", "src_as", K_UINT, 4, 1, 16, 0},
    {"bgpDestinationAsNumber", "dst_as", K_UINT, 4, 1, 17, 0},
    {"applicationId", "application", K_APP, 0, 1, 95, 0},
    {"tcpControlBits", "tcp_flags", K_UINT, 2, 0, 6, 0},
    {"ipClassOfService", "tos", K_UINT, 1, 0, 5, 0},
    {"vlanId", "vlan", K_UINT, 2, 0, 58, 0},
    {"flowDirection", "direction", K_UINT, 1, 0, 61, 0},
    {"ipVersion", "ip_version", K_UINT, 1, 0, 60, 0},
    {"ipNextHopAddress", "next_hop", K_ADDR, 16, 0, 15, 62},
    {"samplingRate", "sampling_rate", K_RATE, 4, 0, 0, 0},
};
#define N_SOURCES (sizeof(sources) / sizeof(sources[0]))

/* Elements of a flow's start (end: each id + 1), best first, and their units. */
static const struct {
    uint16_t id;
    uint8_t unit; /* 0 s, 1 ms, 2 NTP, 3 uptime ms */
} start_ids[] = {{152, 1}, {150, 0}, {154, 2}, {156, 2}, {22, 3}};

int
ixd_ch_source_find(const char *name)
{
    for (size_t i = 0; i < N_SOURCES; i++) {
        if (strcmp(sources[i].name, name) == 0) {
            return (int)i;
        }
    }
    return -1;
}

void
ixd_ch_source_names(char *out, size_t outlen)
{
    size_t o = 0;

    out[0] = '\0';
    for (size_t i = 0; i < N_SOURCES && o < outlen; i++) {
        int n = snprintf(out + o, outlen - o, "%s%s", i > 0 ? ", " : "", sources[i].name);
        o += n > 0 ? (size_t)n : 0;
    }
}

void
ixd_ch_columns_default(struct ixd_ch_columns *cols)
{
    cols->n = 0;
    for (size_t i = 0; i < N_SOURCES; i++) {
        if (sources[i].in_default) {
            cols->c[cols->n].source = (unsigned)i;
            snprintf(cols->c[cols->n].name, IXD_CH_NAME_MAX, "%s", sources[i].column);
            cols->n++;
        }
    }
}

size_t
ixd_ch_row_bound(const struct ixd_ch_columns *cols, enum ixd_ch_format f)
{
    size_t b = 4;

    for (unsigned i = 0; i < cols->n; i++) {
        /* a value: 16 address bytes or 46 of its text, 20 digits, an application's 24 */
        b += f == IXD_CH_JSON_EACH_ROW ? strlen(cols->c[i].name) + 6 + 48 : 24;
    }
    return b;
}

/* ---- the plan: which field each column reads in a template ---- */

static void
plan_make(struct ixd_ch_plan *p, const struct ixd_ch_columns *cols, const struct ixd_template *t)
{
    p->serial = t->serial;
    p->tmpl = t;
    for (unsigned i = 0; i < cols->n; i++) {
        const struct source *s = &sources[cols->c[i].source];
        int f = -1;
        p->variant[i] = 0;
        if (s->kind == K_START || s->kind == K_END) {
            for (uint8_t v = 0; v < sizeof(start_ids) / sizeof(start_ids[0]) && f < 0; v++) {
                /* uptimes: 22 is the start and 21 the end; the others end at id + 1 */
                uint16_t id = start_ids[v].id == 22
                                  ? (s->kind == K_START ? 22 : 21)
                                  : (uint16_t)(start_ids[v].id + (s->kind == K_END));
                f = ixd_template_find(t, 0, id);
                p->variant[i] = v;
            }
        } else if (s->id != 0) {
            f = ixd_template_find(t, 0, s->id);
            if (f < 0 && s->id2 != 0) {
                f = ixd_template_find(t, 0, s->id2);
                p->variant[i] = 1;
            }
        }
        if (f >= 0 && t->fields[f].length == 0) {
            f = -1; /* declared absent (NetFlow v9) */
        }
        p->field[i] = (int16_t)f;
    }
}

static const struct ixd_ch_plan *
plan_of(struct ixd_ch_plans *plans, const struct ixd_ch_columns *cols, const struct ixd_template *t)
{
    struct ixd_ch_plan *p = &plans->p[t->serial % IXD_CH_PLANS];

    if (p->serial != t->serial || p->tmpl != t) {
        plan_make(p, cols, t);
    }
    return p;
}

/* ---- values ---- */

/* Seconds since 1970 of the flow's start or end, or received when the record has none. */
static uint32_t
time_of(const struct ixd_record *r, const struct ixd_source *src, int field, uint8_t variant)
{
    const uint8_t *p;
    uint16_t len;
    int64_t sec = src->received_usec / 1000000;

    if (field < 0) {
        return (uint32_t)sec;
    }
    p = ixd_record_field(r, (unsigned)field, &len);
    switch (start_ids[variant].unit) {
    case 0:
        sec = len >= 4 ? (int64_t)ixd_get32(p) : sec;
        break;
    case 1:
        sec = len >= 8 ? (int64_t)(ixd_get64(p) / 1000) : sec;
        break;
    case 2:
        sec = len >= 8 ? (int64_t)ixd_get32(p) - NTP_UNIX_OFFSET : sec;
        break;
    default:
        if (len == 4 && src->system_init_ms != 0) {
            sec = (src->system_init_ms + (int64_t)ixd_get32(p)) / 1000;
        }
        break;
    }
    return sec < 0 ? 0 : sec > UINT32_MAX ? UINT32_MAX : (uint32_t)sec;
}

/* An address as 16 bytes, IPv4 mapped into IPv6 (::ffff:a.b.c.d); zeros when absent. */
static void
addr_of(const struct ixd_record *r, int field, uint8_t out[16])
{
    const uint8_t *p;
    uint16_t len;

    memset(out, 0, 16);
    if (field < 0) {
        return;
    }
    p = ixd_record_field(r, (unsigned)field, &len);
    if (len == 4) {
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, p, 4);
    } else if (len == 16) {
        memcpy(out, p, 16);
    }
}

static void
exporter_addr(const struct ixd_source *src, uint8_t out[16])
{
    memset(out, 0, 16);
    if (src->exporter.ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)&src->exporter;
        out[10] = 0xff;
        out[11] = 0xff;
        memcpy(out + 12, &a->sin_addr, 4);
    } else if (src->exporter.ss_family == AF_INET6) {
        memcpy(out, &((const struct sockaddr_in6 *)&src->exporter)->sin6_addr, 16);
    }
}

/* applicationId (RFC 6759): a classification engine byte and a selector, as "E:S". */
static size_t
app_text(const struct ixd_record *r, int field, char *out)
{
    const uint8_t *p;
    uint16_t len;
    size_t o;

    if (field < 0) {
        return 0;
    }
    p = ixd_record_field(r, (unsigned)field, &len);
    if (len < 2) {
        return 0;
    }
    o = ixd_json_u64(out, p[0]);
    out[o++] = ':';
    return o + ixd_json_u64(out + o, ixd_get_uint(p + 1, len - 1 > 8 ? 8 : (unsigned)len - 1));
}

static uint64_t
scaled(uint64_t v, uint32_t rate)
{
    return rate > 1 && v > UINT64_MAX / rate ? UINT64_MAX : v * rate;
}

static size_t
put_le(char *out, uint64_t v, unsigned width)
{
    for (unsigned i = 0; i < width; i++) {
        out[i] = (char)(v >> (8 * i));
    }
    return width;
}

/* The value of column i as RowBinary. */
static size_t
binary_value(const struct source *s, int field, uint8_t variant, const struct ixd_record *r,
             const struct ixd_source *src, uint32_t rate, char *out)
{
    uint8_t a[16];
    size_t n;

    switch (s->kind) {
    case K_RECEIVED:
        return put_le(out, (uint64_t)(src->received_usec / 1000000), 4);
    case K_START:
    case K_END:
        return put_le(out, time_of(r, src, field, variant), 4);
    case K_EXPORTER:
        exporter_addr(src, a);
        memcpy(out, a, 16);
        return 16;
    case K_ODID:
        return put_le(out, src->odid, 4);
    case K_ADDR:
        addr_of(r, field, a);
        memcpy(out, a, 16);
        return 16;
    case K_UINT:
        return put_le(out, ixd_record_uint(r, field), s->width);
    case K_COUNT:
        return put_le(out, scaled(ixd_record_uint(r, field), rate), 8);
    case K_APP:
        n = app_text(r, field, out + 1);
        out[0] = (char)n; /* a varint: the text is shorter than 128 bytes */
        return n + 1;
    default:
        return put_le(out, rate, 4);
    }
}

static size_t
json_addr(char *out, const uint8_t a[16])
{
    char text[INET6_ADDRSTRLEN];
    size_t n;

    if (memcmp(a, "\0\0\0\0\0\0\0\0\0\0\xff\xff", 12) == 0) {
        inet_ntop(AF_INET, a + 12, text, sizeof(text));
    } else {
        inet_ntop(AF_INET6, a, text, sizeof(text));
    }
    n = strlen(text);
    out[0] = '"';
    memcpy(out + 1, text, n);
    out[n + 1] = '"';
    return n + 2;
}

/* The value of column i as JSON. */
static size_t
json_value(const struct source *s, int field, uint8_t variant, const struct ixd_record *r,
           const struct ixd_source *src, uint32_t rate, char *out)
{
    uint8_t a[16];
    size_t n;

    switch (s->kind) {
    case K_RECEIVED:
        return ixd_json_u64(out, (uint64_t)(src->received_usec / 1000000));
    case K_START:
    case K_END:
        return ixd_json_u64(out, time_of(r, src, field, variant));
    case K_EXPORTER:
        exporter_addr(src, a);
        return json_addr(out, a);
    case K_ODID:
        return ixd_json_u64(out, src->odid);
    case K_ADDR:
        addr_of(r, field, a);
        return json_addr(out, a);
    case K_UINT:
        return ixd_json_u64(out, ixd_record_uint(r, field) &
                                     (s->width == 8 ? UINT64_MAX : (1ULL << (8 * s->width)) - 1));
    case K_COUNT:
        return ixd_json_u64(out, scaled(ixd_record_uint(r, field), rate));
    case K_APP:
        out[0] = '"';
        n = app_text(r, field, out + 1);
        out[n + 1] = '"';
        return n + 2;
    default:
        return ixd_json_u64(out, rate);
    }
}

size_t
ixd_ch_row(const struct ixd_ch_columns *cols, enum ixd_ch_format f, struct ixd_ch_plans *plans,
           const struct ixd_record *r, const struct ixd_source *src, uint32_t rate, char *out)
{
    const struct ixd_ch_plan *p = plan_of(plans, cols, r->tmpl);
    size_t o = 0;

    if (f == IXD_CH_ROWBINARY) {
        for (unsigned i = 0; i < cols->n; i++) {
            o += binary_value(&sources[cols->c[i].source], p->field[i], p->variant[i], r, src, rate,
                              out + o);
        }
        return o;
    }
    out[o++] = '{';
    for (unsigned i = 0; i < cols->n; i++) {
        size_t n = strlen(cols->c[i].name);
        if (i > 0) {
            out[o++] = ',';
        }
        out[o++] = '"';
        memcpy(out + o, cols->c[i].name, n);
        o += n;
        out[o++] = '"';
        out[o++] = ':';
        o += json_value(&sources[cols->c[i].source], p->field[i], p->variant[i], r, src, rate,
                        out + o);
    }
    out[o++] = '}';
    out[o++] = '\n';
    return o;
}

void
ixd_ch_column_list(const struct ixd_ch_columns *cols, char *out, size_t outlen)
{
    size_t o = 0;

    o += (size_t)snprintf(out, outlen, "(");
    for (unsigned i = 0; i < cols->n && o < outlen; i++) {
        o += (size_t)snprintf(out + o, outlen - o, "%s%s", i > 0 ? "," : "", cols->c[i].name);
    }
    if (o < outlen) {
        snprintf(out + o, outlen - o, ")");
    }
}

/* ---- CREATE TABLE ---- */

static const char *
type_of(const struct source *s, enum ixd_ch_format f, int new_types)
{
    switch (s->kind) {
    case K_RECEIVED:
    case K_START:
    case K_END:
        return "DateTime";
    case K_EXPORTER:
    case K_ADDR:
        /* the same 16 bytes in RowBinary; JSON text only the IPv6 type parses */
        return new_types ? "IPv6" : f == IXD_CH_ROWBINARY ? "FixedString(16)" : "String";
    case K_ODID:
    case K_RATE:
        return "UInt32";
    case K_COUNT:
        return "UInt64";
    case K_APP:
        return "String";
    default:
        return s->width == 1 ? "UInt8" : s->width == 2 ? "UInt16" : "UInt32";
    }
}

static void
write_columns(const struct ixd_ch_columns *cols, enum ixd_ch_format f, int new_types, FILE *out)
{
    for (unsigned i = 0; i < cols->n; i++) {
        fprintf(out, "    %s %s%s\n", cols->c[i].name,
                type_of(&sources[cols->c[i].source], f, new_types), i + 1 < cols->n ? "," : "");
    }
}

/* The first DateTime column (partitions and order follow time), or NULL. */
static const char *
time_column(const struct ixd_ch_columns *cols)
{
    for (unsigned i = 0; i < cols->n; i++) {
        uint8_t k = sources[cols->c[i].source].kind;
        if (k == K_RECEIVED || k == K_START || k == K_END) {
            return cols->c[i].name;
        }
    }
    return NULL;
}

void
ixd_ch_schema_write(const struct ixd_ch_columns *cols, enum ixd_ch_format f,
                    const struct ixd_ch_schema *s, FILE *out)
{
    const char *t = time_column(cols);
    const char *local = s->cluster != NULL ? s->local_table : s->table;

    fprintf(out, "CREATE TABLE IF NOT EXISTS %s.%s\n(\n", s->database, local);
    write_columns(cols, f, s->new_types, out);
    if (t != NULL) {
        fprintf(out, ")\nENGINE = MergeTree()\nPARTITION BY toYYYYMMDD(%s)\nORDER BY (%s)\n", t, t);
    } else {
        fprintf(out, ")\nENGINE = MergeTree()\nORDER BY (%s)\n", cols->c[0].name);
    }
    fprintf(out, ";\n");
    if (s->cluster == NULL) {
        return;
    }
    fprintf(out,
            "\n-- the table above on each shard of cluster %s, and this one to insert through,\n"
            "-- asynchronously unless insert_distributed_sync=1\n"
            "CREATE TABLE IF NOT EXISTS %s.%s AS %s.%s\n"
            "ENGINE = Distributed(%s, %s, %s, %s)\n;\n",
            s->cluster, s->database, s->table, s->database, local, s->cluster, s->database, local,
            s->sharding_key);
}

int
ixd_ch_version_has_ip_types(const char *version)
{
    char *end;
    long major = strtol(version, &end, 10), minor = 0;

    if (end == version) {
        return 0;
    }
    if (*end == '.') {
        minor = strtol(end + 1, NULL, 10);
    }
    return major > 19 || (major == 19 && minor >= 3);
}
