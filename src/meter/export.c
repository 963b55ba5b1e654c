/*
 * The meter's templates and records (export.h). The field list below is the one place that
 * says what a metered record holds: a field is in a layout when the layout has every bit of
 * `need` and none of `not`.
 */
#include "meter/export.h"

#include <stdio.h>
#include <string.h>

#include "core/config.h" /* IXD_OWN_ENTERPRISE_DEFAULT */
#include "core/relaxed_counter.h"
#include "dpi/dpi.h"
#include "ipfix/decode.h"
#include "ipfix/wire.h"

#define REV 29305 /* RFC 5103 reverse elements */

/* Layout bits */
enum {
    L_V6 = 1,
    L_VLAN = 2,
    L_MAC = 4,
    L_TUN = 8,
    L_TUNADDR = 16,
    L_TUN6 = 32,
    L_APP = 64,
};

enum val {
    V_START,
    V_END,
    V_SRC,
    V_DST,
    V_SPORT,
    V_DPORT,
    V_PROTO,
    V_TOS,
    V_TTL,
    V_RTTL,
    V_MINTTL,
    V_MAXTTL,
    V_RMINTTL,
    V_RMAXTTL,
    V_OCTETS,
    V_PACKETS,
    V_ROCTETS,
    V_RPACKETS,
    V_FLAGS,
    V_RFLAGS,
    V_REASON,
    V_VLAN,
    V_SMAC,
    V_DMAC,
    V_SEGMENT,
    V_TOCTETS,
    V_RTOCTETS,
    V_TSRC,
    V_TDST,
    V_APPID,
    V_APPNAME,
};

struct fdef {
    uint32_t pen;
    uint16_t id, len;
    uint8_t val, need, not ;
};

/* In the table: the enterprise of ipfixd's own elements, as configured (struct ixd_mexport) */
#define OWN_PEN UINT32_MAX

/* applicationId: classification engine, PEN, the engine's 2-byte selector (RFC 6759 4.1) */
#define APPID_LEN 7

static const struct fdef fields[] = {
    {0, 152, 8, V_START, 0, 0},   /* flowStartMilliseconds */
    {0, 153, 8, V_END, 0, 0},     /* flowEndMilliseconds */
    {0, 8, 4, V_SRC, 0, L_V6},    /* sourceIPv4Address */
    {0, 12, 4, V_DST, 0, L_V6},   /* destinationIPv4Address */
    {0, 27, 16, V_SRC, L_V6, 0},  /* sourceIPv6Address */
    {0, 28, 16, V_DST, L_V6, 0},  /* destinationIPv6Address */
    {0, 7, 2, V_SPORT, 0, 0},     /* sourceTransportPort */
    {0, 11, 2, V_DPORT, 0, 0},    /* destinationTransportPort */
    {0, 4, 1, V_PROTO, 0, 0},     /* protocolIdentifier */
    {0, 5, 1, V_TOS, 0, 0},       /* ipClassOfService */
    {0, 1, 8, V_OCTETS, 0, 0},    /* octetDeltaCount */
    {0, 2, 8, V_PACKETS, 0, 0},   /* packetDeltaCount */
    {REV, 1, 8, V_ROCTETS, 0, 0}, /* reverseOctetDeltaCount */
    {REV, 2, 8, V_RPACKETS, 0, 0},
    {0, 6, 2, V_FLAGS, 0, 0}, /* tcpControlBits */
    {REV, 6, 2, V_RFLAGS, 0, 0},
    {0, 192, 1, V_TTL, 0, 0}, /* ipTTL: the first packet's */
    {REV, 192, 1, V_RTTL, 0, 0},
    {0, 52, 1, V_MINTTL, 0, 0}, /* minimumTTL */
    {0, 53, 1, V_MAXTTL, 0, 0}, /* maximumTTL */
    {REV, 52, 1, V_RMINTTL, 0, 0},
    {REV, 53, 1, V_RMAXTTL, 0, 0},
    {0, 136, 1, V_REASON, 0, 0},                      /* flowEndReason */
    {0, 58, 2, V_VLAN, L_VLAN, 0},                    /* vlanId */
    {0, 56, 6, V_SMAC, L_MAC, 0},                     /* sourceMacAddress */
    {0, 80, 6, V_DMAC, L_MAC, 0},                     /* destinationMacAddress */
    {0, 351, 8, V_SEGMENT, L_TUN, 0},                 /* layer2SegmentId: the VXLAN VNI */
    /* ipfixd's own elements (src/ipfix/ie.c), under elements.enterprise */
    {OWN_PEN, 13, 8, V_TOCTETS, L_TUN, 0},       /* tunnelOctetDeltaCount */
    {OWN_PEN, 14, 8, V_RTOCTETS, L_TUN, 0},      /* reverseTunnelOctetDeltaCount */
    {OWN_PEN, 15, 4, V_TSRC, L_TUNADDR, L_TUN6}, /* tunnelSourceIPv4Address */
    {OWN_PEN, 16, 4, V_TDST, L_TUNADDR, L_TUN6},
    {OWN_PEN, 17, 16, V_TSRC, L_TUNADDR | L_TUN6, 0}, /* tunnelSourceIPv6Address */
    {OWN_PEN, 18, 16, V_TDST, L_TUNADDR | L_TUN6, 0},
    {0, 95, APPID_LEN, V_APPID, L_APP, 0},    /* applicationId */
    {0, 96, IXD_VARLEN, V_APPNAME, L_APP, 0}, /* applicationName, last: the one varlen field */
};

#define N_FIELDS (sizeof(fields) / sizeof(fields[0]))
_Static_assert(N_FIELDS <= IXD_MEXPORT_FIELDS_MAX, "field arrays hold every field");

static int
in_layout(const struct fdef *d, unsigned layout)
{
    return (layout & d->need) == d->need && (layout & d->not ) == 0;
}

void
ixd_mexport_init(struct ixd_mexport *x, const struct ixd_ie_registry *reg, const char *collector,
                 const char *exporter, uint32_t odid, ixd_meter_deliver_fn deliver,
                 ixd_meter_template_fn on_template, void *arg, uint64_t *records,
                 uint64_t *options_records)
{
    size_t len = strlen(exporter);

    memset(x, 0, offsetof(struct ixd_mexport, recs));
    x->rules.registry = reg;
    x->own_pen = reg != NULL && ixd_ie_own_enterprise(reg) != 0 ? ixd_ie_own_enterprise(reg)
                                                                : IXD_OWN_ENTERPRISE_DEFAULT;
    x->rules.max_fields = IXD_MEXPORT_FIELDS_MAX;
    x->src.collector = collector;
    x->src.exporter.ss_family = AF_UNSPEC;
    snprintf(x->src.exporter_text, sizeof(x->src.exporter_text), "%s",
             len < sizeof(x->src.exporter_text)
                 ? exporter
                 : exporter + len + 1 - sizeof(x->src.exporter_text));
    x->src.odid = odid;
    x->deliver = deliver;
    x->on_template = on_template;
    x->arg = arg;
    x->records = records;
    x->options_records = options_records;
}

void
ixd_mexport_release(struct ixd_mexport *x)
{
    size_t i;

    for (i = 0; i < IXD_MEXPORT_LAYOUTS; i++) {
        ixd_template_free(x->layouts[i]);
    }
    ixd_template_free(x->options);
}

/* Compiles a template from its wire form: as an exporter's would be, with a serial. */
static struct ixd_template *
compile(struct ixd_mexport *x, const uint8_t *rec, size_t len, int options)
{
    struct ixd_template *t = NULL;
    uint16_t tid;
    size_t used;
    enum ixd_error why;

    if (ixd_template_parse(rec, len, options, &x->rules, &t, &tid, &used, &why) !=
        IXD_TPARSE_TEMPLATE) {
        return NULL;
    }
    if (x->on_template != NULL) {
        x->on_template(x->arg, t, &x->src);
    }
    return t;
}

static size_t
put_spec(uint8_t *p, uint32_t pen, uint16_t id, uint16_t len)
{
    ixd_put16(p, (uint16_t)(id | (pen != 0 ? 0x8000 : 0)));
    ixd_put16(p + 2, len);
    if (pen == 0) {
        return 4;
    }
    ixd_put32(p + 4, pen);
    return 8;
}

static const struct ixd_template *
layout_template(struct ixd_mexport *x, unsigned layout)
{
    uint8_t rec[4 + N_FIELDS * 8];
    size_t o = 4, i;
    uint16_t n = 0;

    if (x->layouts[layout] != NULL) {
        return x->layouts[layout];
    }
    for (i = 0; i < N_FIELDS; i++) {
        if (in_layout(&fields[i], layout)) {
            o += put_spec(rec + o, fields[i].pen == OWN_PEN ? x->own_pen : fields[i].pen,
                          fields[i].id, fields[i].len);
            n++;
        }
    }
    ixd_put16(rec, (uint16_t)(256 + layout));
    ixd_put16(rec + 2, n);
    x->layouts[layout] = compile(x, rec, o, 0);
    return x->layouts[layout];
}

/* The layer-2 and tunnel fields, the application id: what a layout adds to the flow's own */
static void
put_extra_value(uint8_t *p, const struct fdef *d, const struct ixd_mflow *v)
{
    const struct ixd_flow *f = v->f;

    switch (d->val) {
    case V_VLAN:
        ixd_put16(p, f->vlan);
        break;
    case V_SMAC:
        memcpy(p, f->smac, 6);
        break;
    case V_DMAC:
        memcpy(p, f->dmac, 6);
        break;
    case V_SEGMENT:
        ixd_put64(p, v->vni);
        break;
    case V_TOCTETS:
    case V_RTOCTETS:
        ixd_put64(p, v->outer_octets[d->val == V_RTOCTETS]);
        break;
    case V_TSRC:
        memcpy(p, v->outer_src, d->len);
        break;
    case V_TDST:
        memcpy(p, v->outer_dst, d->len);
        break;
    case V_APPID:
        p[0] = IXD_DPI_ENGINE;
        ixd_put32(p + 1, IXD_DPI_PEN);
        ixd_put16(p + 5, v->app_id);
        break;
    default:
        break;
    }
}

static void
put_value(uint8_t *p, const struct fdef *d, const struct ixd_mflow *v)
{
    const struct ixd_flow *f = v->f;

    switch (d->val) {
    case V_START:
        ixd_put64(p, f->first_ms);
        break;
    case V_END:
        ixd_put64(p, f->first_ms + f->last_off_ms);
        break;
    case V_SRC:
        memcpy(p, f->src, d->len);
        break;
    case V_DST:
        memcpy(p, f->dst, d->len);
        break;
    case V_SPORT:
        ixd_put16(p, f->sport);
        break;
    case V_DPORT:
        ixd_put16(p, f->dport);
        break;
    case V_PROTO:
        *p = f->proto;
        break;
    case V_TOS:
        *p = f->tos;
        break;
    case V_OCTETS:
    case V_ROCTETS:
        ixd_put64(p, f->octets[d->val == V_ROCTETS]);
        break;
    case V_PACKETS:
    case V_RPACKETS:
        ixd_put64(p, f->packets[d->val == V_RPACKETS]);
        break;
    case V_FLAGS:
    case V_RFLAGS:
        ixd_put16(p, f->tcp_flags[d->val == V_RFLAGS]);
        break;
    case V_TTL:
    case V_RTTL:
        *p = f->ttl_first[d->val == V_RTTL];
        break;
    case V_MINTTL:
    case V_RMINTTL:
        *p = f->ttl_min[d->val == V_RMINTTL];
        break;
    case V_MAXTTL:
    case V_RMAXTTL:
        *p = f->ttl_max[d->val == V_RMAXTTL];
        break;
    case V_REASON:
        *p = (uint8_t)v->reason;
        break;
    default:
        put_extra_value(p, d, v);
        break;
    }
}

/* Appends a record of template t whose bytes were written at p (len bytes). */
static void
add(struct ixd_mexport *x, const struct ixd_template *t, uint8_t *p, size_t len)
{
    struct ixd_record *r = &x->recs[x->n];

    r->tmpl = t;
    r->data = p;
    r->length = (uint32_t)len;
    r->offsets = NULL;
    r->lengths = NULL;
    if (t->has_varlen) {
        ixd_record_walk(t, p, len, x->offsets[x->n], x->lengths[x->n]);
        r->offsets = x->offsets[x->n];
        r->lengths = x->lengths[x->n];
    }
    x->n++;
    x->used += len;
}

static size_t
put_name(uint8_t *p, const char *name)
{
    size_t n = strlen(name);

    if (n > IXD_MEXPORT_NAME_MAX) {
        n = IXD_MEXPORT_NAME_MAX;
    }
    p[0] = (uint8_t)n;
    memcpy(p + 1, name, n);
    return n + 1;
}

/* Room for one more record, handing the batch on first when it is full. */
static uint8_t *
room(struct ixd_mexport *x, int64_t now_usec)
{
    if (x->n == IXD_MEXPORT_BATCH || x->used + IXD_MEXPORT_RECORD_MAX > sizeof(x->buf)) {
        ixd_mexport_deliver(x);
    }
    x->src.received_usec = now_usec;
    x->src.export_time = (uint32_t)(now_usec / 1000000);
    return x->buf + x->used;
}

int
ixd_mexport_flow(struct ixd_mexport *x, const struct ixd_mflow *v, int64_t now_usec)
{
    const struct ixd_flow *f = v->f;
    unsigned layout = (f->ipver == 6 ? L_V6 : 0) | ((f->state & IXD_FLOW_VLAN) ? L_VLAN : 0) |
                      ((f->state & IXD_FLOW_MAC) ? L_MAC : 0) | (f->tunnel ? L_TUN : 0) |
                      (v->has_app ? L_APP : 0);
    const struct ixd_template *t;
    uint8_t *p;
    size_t o = 0, i;

    if (f->tunnel && v->outer_ipver != 0) {
        layout |= L_TUNADDR | (v->outer_ipver == 6 ? L_TUN6 : 0);
    }
    t = layout_template(x, layout);
    if (t == NULL) {
        return -1;
    }
    p = room(x, now_usec);
    for (i = 0; i < N_FIELDS; i++) {
        if (!in_layout(&fields[i], layout)) {
            continue;
        }
        if (fields[i].val == V_APPNAME) {
            o += put_name(p + o, v->app_name);
        } else {
            put_value(p + o, &fields[i], v);
            o += fields[i].len;
        }
    }
    add(x, t, p, o);
    IXD_CNT_ADD(*x->records, 1);
    return 0;
}

int
ixd_mexport_app(struct ixd_mexport *x, uint16_t id, const char *name, int64_t now_usec)
{
    struct ixd_mflow v = {.app_id = id};
    uint8_t *p;
    size_t o;

    if (x->options == NULL) {
        uint8_t rec[6 + 8];

        ixd_put16(rec, 256 + IXD_MEXPORT_LAYOUTS); /* after the data templates' IDs */
        ixd_put16(rec + 2, 2);
        ixd_put16(rec + 4, 1); /* scope: applicationId */
        o = 6 + put_spec(rec + 6, 0, 95, APPID_LEN);
        o += put_spec(rec + o, 0, 96, IXD_VARLEN);
        x->options = compile(x, rec, o, 1);
        if (x->options == NULL) {
            return -1;
        }
    }
    p = room(x, now_usec);
    put_value(p, &fields[N_FIELDS - 2], &v);
    o = APPID_LEN + put_name(p + APPID_LEN, name);
    add(x, x->options, p, o);
    IXD_CNT_ADD(*x->options_records, 1);
    return 0;
}

void
ixd_mexport_deliver(struct ixd_mexport *x)
{
    struct ixd_batch b = {&x->src, x->n, x->recs};

    if (x->n > 0) {
        x->deliver(x->arg, &b);
    }
    x->n = 0;
    x->used = 0;
}
