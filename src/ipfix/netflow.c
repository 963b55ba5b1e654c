#include "ipfix/netflow.h"

#include <string.h>

#include "ipfix/wire.h"

#define V9_HEADER 20
#define V9_TEMPLATE_SET 0
#define V9_OPTIONS_SET 1
#define V5_HEADER 24
#define V5_RECORD 48
#define V5_MAX_RECORDS 30
#define V5_TEMPLATE_ID 256

/* Appends n bytes if they fit; the writer keeps its position and whether it overflowed. */
struct writer {
    uint8_t *buf;
    size_t len, cap;
    int overflow;
};

static uint8_t *
room(struct writer *w, size_t n)
{
    uint8_t *p;

    if (w->overflow || w->len + n > w->cap) {
        w->overflow = 1;
        return NULL;
    }
    p = w->buf + w->len;
    w->len += n;
    return p;
}

static void
field(struct writer *w, uint16_t type, uint16_t length, uint32_t pen)
{
    uint8_t *p;

    if (type >= 0x8000) {
        /* vendor-specific v9 type: an enterprise element, never IPFIX's enterprise bit */
        p = room(w, 8);
        if (p != NULL) {
            ixd_put16(p, type);
            ixd_put16(p + 2, length);
            ixd_put32(p + 4, pen);
        }
        return;
    }
    p = room(w, 4);
    if (p != NULL) {
        ixd_put16(p, type);
        ixd_put16(p + 2, length);
    }
}

/*
 * v9 options scope types (RFC 3954 6.1) as IPFIX elements: System -> exporterIPv4Address (or
 * exporterIPv6Address, or exportingProcessId by length), Interface -> ingressInterface, Line
 * Card -> lineCardId, Cache -> meteringProcessId, Template -> templateId.
 */
static uint16_t
scope_element(uint16_t type, uint16_t length)
{
    switch (type) {
    case 1:
        return length == 4 ? 130 : length == 16 ? 131 : 144;
    case 2:
        return 10;
    case 3:
        return 141;
    case 4:
        return 143;
    case 5:
        return 145;
    default:
        return type;
    }
}

/* A v9 template flowset body as an IPFIX template set body. -1 on a malformed record. */
static int
rewrite_templates(struct writer *w, const uint8_t *p, size_t len, uint32_t pen)
{
    while (len >= 4) {
        uint16_t tid = ixd_get16(p), count = ixd_get16(p + 2);
        uint8_t *h;
        size_t i;

        if ((size_t)count * 4 > len - 4) {
            return -1;
        }
        h = room(w, 4);
        if (h == NULL) {
            return 0;
        }
        ixd_put16(h, tid);
        ixd_put16(h + 2, count);
        for (i = 0; i < count; i++) {
            field(w, ixd_get16(p + 4 + 4 * i), ixd_get16(p + 6 + 4 * i), pen);
        }
        p += 4 + (size_t)count * 4;
        len -= 4 + (size_t)count * 4;
    }
    return 0; /* fewer than 4 bytes left: padding */
}

/* A v9 options template flowset body: scope and option lengths are in bytes (RFC 3954 6.1). */
static int
rewrite_options(struct writer *w, const uint8_t *p, size_t len, uint32_t pen)
{
    while (len >= 6) {
        uint16_t tid = ixd_get16(p), slen = ixd_get16(p + 2), olen = ixd_get16(p + 4);
        size_t i, n = ((size_t)slen + olen) / 4;
        uint8_t *h;

        if (slen % 4 != 0 || olen % 4 != 0 || (size_t)slen + olen > len - 6) {
            return -1;
        }
        if (tid == 0 && slen == 0 && olen == 0) {
            break; /* zero padding */
        }
        h = room(w, 6);
        if (h == NULL) {
            return 0;
        }
        ixd_put16(h, tid);
        ixd_put16(h + 2, (uint16_t)n);
        ixd_put16(h + 4, (uint16_t)(slen / 4));
        for (i = 0; i < n; i++) {
            uint16_t type = ixd_get16(p + 6 + 4 * i), flen = ixd_get16(p + 8 + 4 * i);
            field(w, i < slen / 4u ? scope_element(type, flen) : type, flen, pen);
        }
        p += 6 + (size_t)slen + olen;
        len -= 6 + (size_t)slen + olen;
    }
    return 0;
}

static int
all_zero(const uint8_t *p, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (p[i] != 0) {
            return 0;
        }
    }
    return 1;
}

size_t
ixd_netflow9_rewrite(const uint8_t *pkt, size_t len, uint32_t pen, uint8_t *out, size_t outlen,
                     uint32_t *sequence, uint32_t *uptime_ms, uint32_t *unix_secs,
                     enum ixd_error *why)
{
    struct writer w = {out, IXD_HEADER_LEN, outlen > IXD_MAX_MESSAGE ? IXD_MAX_MESSAGE : outlen, 0};
    size_t off = V9_HEADER;

    if (len < V9_HEADER || ixd_get16(pkt) != IXD_NETFLOW9_VERSION) {
        *why = len < 2 || ixd_get16(pkt) != IXD_NETFLOW9_VERSION ? IXD_ERR_VERSION
                                                                 : IXD_ERR_MESSAGE_LENGTH;
        return 0;
    }
    *uptime_ms = ixd_get32(pkt + 4);
    *unix_secs = ixd_get32(pkt + 8);
    *sequence = ixd_get32(pkt + 12);
    while (off + 4 <= len) {
        uint16_t id = ixd_get16(pkt + off), slen = ixd_get16(pkt + off + 2);
        size_t at = w.len;
        uint8_t *h;
        int rc = 0;

        if (slen < 4 || slen > len - off) {
            if (all_zero(pkt + off, len - off)) {
                break; /* exporters pad packets with zeros: no flowset can have length 0 */
            }
            *why = IXD_ERR_SET_LENGTH;
            return 0;
        }
        h = room(&w, 4);
        if (h == NULL) {
            break;
        }
        if (id == V9_TEMPLATE_SET) {
            ixd_put16(h, IXD_SET_TEMPLATE);
            rc = rewrite_templates(&w, pkt + off + 4, slen - 4u, pen);
        } else if (id == V9_OPTIONS_SET) {
            ixd_put16(h, IXD_SET_OPTIONS_TEMPLATE);
            rc = rewrite_options(&w, pkt + off + 4, slen - 4u, pen);
        } else {
            /* data (>= 256) as it is; reserved IDs pass on and are counted by the decoder */
            uint8_t *body = room(&w, slen - 4u);
            ixd_put16(h, id);
            if (body != NULL) {
                memcpy(body, pkt + off + 4, slen - 4u);
            }
        }
        if (rc == -1) {
            *why = IXD_ERR_TEMPLATE_LENGTH;
            return 0;
        }
        if (!w.overflow) {
            ixd_put16(out + at + 2, (uint16_t)(w.len - at));
        }
        off += slen;
    }
    if (w.overflow) {
        *why = IXD_ERR_MESSAGE_LENGTH; /* rewritten, it would not fit one IPFIX message */
        return 0;
    }
    /* trailing bytes shorter than a flowset header: padding */
    ixd_put16(out, IXD_IPFIX_VERSION);
    ixd_put16(out + 2, (uint16_t)w.len);
    ixd_put32(out + 4, *unix_secs);
    ixd_put32(out + 8, 0);
    memcpy(out + 12, pkt + 16, 4); /* source ID -> observation domain */
    return w.len;
}

/* The v5 record (48 bytes) as an IPFIX template, field for field, pads included. */
static const uint16_t v5_layout[][2] = {
    {8, 4},  {12, 4},  {15, 4}, {10, 2}, {14, 2}, {2, 4},  {1, 4},  {22, 4}, {21, 4}, {7, 2},
    {11, 2}, {210, 1}, {6, 1},  {4, 1},  {5, 1},  {16, 2}, {17, 2}, {9, 1},  {13, 1}, {210, 2},
};

size_t
ixd_netflow5_rewrite(const uint8_t *pkt, size_t len, uint8_t *out, size_t outlen,
                     int64_t *system_init_ms, enum ixd_error *why)
{
    size_t nfields = sizeof(v5_layout) / sizeof(v5_layout[0]);
    size_t tset = 4 + 4 + nfields * 4, count, total, i;
    uint8_t *p;

    if (len < V5_HEADER || ixd_get16(pkt) != IXD_NETFLOW5_VERSION) {
        *why = len < 2 || ixd_get16(pkt) != IXD_NETFLOW5_VERSION ? IXD_ERR_VERSION
                                                                 : IXD_ERR_MESSAGE_LENGTH;
        return 0;
    }
    count = ixd_get16(pkt + 2);
    if (count == 0 || count > V5_MAX_RECORDS || len < V5_HEADER + count * V5_RECORD) {
        *why = IXD_ERR_MESSAGE_LENGTH;
        return 0;
    }
    total = IXD_HEADER_LEN + tset + 4 + count * V5_RECORD;
    if (total > outlen) {
        *why = IXD_ERR_MESSAGE_LENGTH;
        return 0;
    }
    /* boot time = export time - uptime, to the millisecond the header gives */
    *system_init_ms = (int64_t)ixd_get32(pkt + 8) * 1000 + ixd_get32(pkt + 12) / 1000000 -
                      (int64_t)ixd_get32(pkt + 4);
    ixd_put16(out, IXD_IPFIX_VERSION);
    ixd_put16(out + 2, (uint16_t)total);
    memcpy(out + 4, pkt + 8, 4);  /* export time: unix_secs */
    memcpy(out + 8, pkt + 16, 4); /* flow_sequence counts records, as IPFIX's does */
    ixd_put32(out + 12, ((uint32_t)pkt[20] << 8) | pkt[21]); /* engine type and ID as the domain */
    p = out + IXD_HEADER_LEN;
    ixd_put16(p, IXD_SET_TEMPLATE);
    ixd_put16(p + 2, (uint16_t)tset);
    ixd_put16(p + 4, V5_TEMPLATE_ID);
    ixd_put16(p + 6, (uint16_t)nfields);
    for (i = 0; i < nfields; i++) {
        ixd_put16(p + 8 + 4 * i, v5_layout[i][0]);
        ixd_put16(p + 10 + 4 * i, v5_layout[i][1]);
    }
    p += tset;
    ixd_put16(p, V5_TEMPLATE_ID);
    ixd_put16(p + 2, (uint16_t)(4 + count * V5_RECORD));
    memcpy(p + 4, pkt + V5_HEADER, count * V5_RECORD);
    return total;
}

int
ixd_netflow_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *pkt, size_t len,
                    double now, int64_t received_usec)
{
    enum ixd_error why = IXD_ERR_VERSION;
    uint32_t seq = 0, uptime = 0, secs = 0;
    int64_t boot = 0;
    size_t n = 0;
    int records;

    if (len >= 2 && ixd_get16(pkt) == IXD_NETFLOW9_VERSION) {
        n = ixd_netflow9_rewrite(pkt, len, s->owner->limits.netflow9_pen, dec->translated,
                                 sizeof(dec->translated), &seq, &uptime, &secs, &why);
        boot = (int64_t)secs * 1000 - uptime;
        s->packet_sequence = 1;
    } else if (len >= 2 && ixd_get16(pkt) == IXD_NETFLOW5_VERSION) {
        n = ixd_netflow5_rewrite(pkt, len, dec->translated, sizeof(dec->translated), &boot, &why);
        s->packet_sequence = 0;
        if (n > 0) {
            /* the header's sampling field: 2 bits of mode, 14 of interval; it covers the
             * records of this packet, which carry nothing of their own */
            struct ixd_domain *d = ixd_session_domain(s, ixd_get32(dec->translated + 12));
            uint32_t interval = ixd_get16(pkt + 22) & 0x3fff;
            if (d != NULL) {
                d->sampling = interval > 1 ? interval : 0;
            }
        }
    }
    if (n == 0) {
        ixd_count_error(s, NULL, why);
        IXD_CNT_ADD(s->exporter->counters.messages, 1);
        IXD_CNT_ADD(s->owner->counters.messages, 1);
        return -1;
    }
    s->source.system_init_ms = boot;
    records = ixd_message_process(dec, s, dec->translated, n, now, received_usec);
    if (records >= 0 && s->packet_sequence) {
        struct ixd_domain *d = ixd_session_domain(s, ixd_get32(pkt + 16));
        if (d != NULL) {
            ixd_domain_sequence(s, d, seq, 1, 1); /* v9 sequence numbers count packets */
        }
    }
    return records;
}
