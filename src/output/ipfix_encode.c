#include "output/ipfix_encode.h"

#include <netinet/in.h>
#include <string.h>

#include "ipfix/wire.h"

#define IE_FLOW_START_MSEC 152
#define IE_FLOW_END_MSEC 153
#define IE_FLOW_START_DELTA_USEC 158
#define IE_FLOW_END_DELTA_USEC 159
#define IE_ORIG_EXPORTER_V4 403
#define IE_ORIG_EXPORTER_V6 404
#define IE_ORIG_ODID 405

static uint8_t *
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static void
put_uint(uint8_t *p, uint64_t v, unsigned len)
{
    while (len > 0) {
        p[--len] = (uint8_t)v;
        v >>= 8;
    }
}

static int
is_delta(const struct ixd_field *f)
{
    /* only a fixed-length unsigned value can be shifted; anything else is left as it came */
    return f->pen == 0 && (f->id == IE_FLOW_START_DELTA_USEC || f->id == IE_FLOW_END_DELTA_USEC) &&
           f->type == IXD_TYPE_UNSIGNED && f->length >= 1 && f->length <= 8;
}

void
ixd_xplan_init(struct ixd_xplan *p, const struct ixd_template *t, int convert_uptime,
               enum ixd_xorig orig)
{
    uint16_t i;

    memset(p, 0, sizeof(*p));
    p->orig = (uint8_t)orig;
    p->template_bytes = t->scope_count > 0 ? 6 : 4;
    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        p->template_bytes += f->pen != 0 ? 8 : 4;
        if (p->n_conv == IXD_XPLAN_MAX_CONV) {
            continue;
        }
        if (convert_uptime && f->type == IXD_TYPE_UPTIME && f->length == 4) {
            p->conv[p->n_conv].field = i;
            p->conv[p->n_conv++].op = IXD_XCONV_UPTIME;
            p->extra += 4;
        } else if (is_delta(f)) {
            p->conv[p->n_conv].field = i;
            p->conv[p->n_conv++].op = IXD_XCONV_DELTA;
        }
    }
    if (orig != IXD_XORIG_NONE) {
        p->template_bytes += 8;
        p->extra += (orig == IXD_XORIG_V4 ? 4 : 16) + 4;
    }
}

static int
conv_op(const struct ixd_xplan *p, uint16_t field)
{
    uint16_t k;

    for (k = 0; k < p->n_conv; k++) {
        if (p->conv[k].field == field) {
            return p->conv[k].op;
        }
    }
    return 0;
}

size_t
ixd_xplan_template(const struct ixd_xplan *p, const struct ixd_template *t, uint16_t tid,
                   uint8_t *out, size_t outlen)
{
    uint8_t *o = out;
    uint16_t i, n = t->field_count;

    if (outlen < p->template_bytes) {
        return 0;
    }
    if (p->orig != IXD_XORIG_NONE) {
        n = (uint16_t)(n + 2);
    }
    o = put16(o, tid);
    o = put16(o, n);
    if (t->scope_count > 0) {
        o = put16(o, t->scope_count); /* the appended fields are not scope fields */
    }
    for (i = 0; i < t->field_count; i++) {
        const struct ixd_field *f = &t->fields[i];
        if (conv_op(p, i) == IXD_XCONV_UPTIME) {
            o = put16(o,
                      f->id == IXD_IE_FLOW_START_SYSUPTIME ? IE_FLOW_START_MSEC : IE_FLOW_END_MSEC);
            o = put16(o, 8);
            continue;
        }
        o = put16(o, (uint16_t)(f->id | (f->pen != 0 ? 0x8000 : 0)));
        o = put16(o, f->length);
        if (f->pen != 0) {
            o = put16(o, (uint16_t)(f->pen >> 16));
            o = put16(o, (uint16_t)f->pen);
        }
    }
    if (p->orig != IXD_XORIG_NONE) {
        o = put16(o, p->orig == IXD_XORIG_V4 ? IE_ORIG_EXPORTER_V4 : IE_ORIG_EXPORTER_V6);
        o = put16(o, p->orig == IXD_XORIG_V4 ? 4 : 16);
        o = put16(o, IE_ORIG_ODID);
        o = put16(o, 4);
    }
    return (size_t)(o - out);
}

/*
 * A delta time counts microseconds back from the message's export time: the same instant in a
 * later message is further back. Saturates at what the field's length can hold, and at 0 if the
 * mediator's clock is behind the exporter's.
 */
static void
shift_delta(uint8_t *out, const uint8_t *in, unsigned len, int64_t shift_usec)
{
    uint64_t v = ixd_get_uint(in, len);
    uint64_t max = len >= 8 ? UINT64_MAX : ((uint64_t)1 << (8 * len)) - 1;

    if (shift_usec >= 0) {
        v = max - v < (uint64_t)shift_usec ? max : v + (uint64_t)shift_usec;
    } else {
        v = v < (uint64_t)-shift_usec ? 0 : v - (uint64_t)-shift_usec;
    }
    put_uint(out, v, len);
}

size_t
ixd_xplan_record(const struct ixd_xplan *p, const struct ixd_record *r,
                 const struct ixd_source *src, uint32_t export_time, uint8_t *out)
{
    const uint8_t *cur = r->data, *end = r->data + r->length;
    uint8_t *o = out;
    int64_t shift = ((int64_t)export_time - (int64_t)src->export_time) * 1000000;
    uint16_t k;

    /* the rewritten fields are fixed-length; the bytes between them (variable-length fields,
     * lists, enterprise elements) are copied as one block each */
    for (k = 0; k < p->n_conv; k++) {
        uint16_t len;
        const uint8_t *at = ixd_record_field(r, p->conv[k].field, &len);

        memcpy(o, cur, (size_t)(at - cur));
        o += at - cur;
        if (p->conv[k].op == IXD_XCONV_UPTIME) {
            int64_t ms = src->system_init_ms + (int64_t)ixd_get32(at);
            put_uint(o, (uint64_t)ms, 8);
            o += 8;
        } else {
            shift_delta(o, at, len, shift);
            o += len;
        }
        cur = at + len;
    }
    memcpy(o, cur, (size_t)(end - cur));
    o += end - cur;
    if (p->orig == IXD_XORIG_V4) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)&src->exporter;
        memcpy(o, &sin->sin_addr, 4);
        o += 4;
    } else if (p->orig == IXD_XORIG_V6) {
        const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&src->exporter;
        memcpy(o, &sin6->sin6_addr, 16);
        o += 16;
    }
    if (p->orig != IXD_XORIG_NONE) {
        put_uint(o, src->odid, 4);
        o += 4;
    }
    return (size_t)(o - out);
}
