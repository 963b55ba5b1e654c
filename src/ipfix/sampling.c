#include "ipfix/sampling.h"

#include "core/address.h"
#include "core/config.h"
#include "ipfix/decode.h"
#include "ipfix/session.h"
#include "ipfix/template.h"
#include "ipfix/wire.h"

/* Information elements (IANA registry) sampling is announced with. */
enum {
    IE_SAMPLING_INTERVAL = 34,         /* NetFlow v9 SAMPLING_INTERVAL; deprecated in IPFIX */
    IE_SAMPLER_ID = 48,                /* samplerId, v9 FLOW_SAMPLER_ID */
    IE_SAMPLER_RANDOM_INTERVAL = 50,   /* samplerRandomInterval, v9 FLOW_SAMPLER_RANDOM_INTERVAL */
    IE_SELECTOR_ID = 302,              /* RFC 5477 */
    IE_SAMPLING_PACKET_INTERVAL = 305, /* RFC 5477: n packets selected ... */
    IE_SAMPLING_PACKET_SPACE = 306,    /* ... then m packets skipped */
    IE_REVERSE_PEN = 29305,            /* RFC 5103 */
};

#define LEARN_FIELDS_MAX 256 /* options templates that announce sampling are small */

static int
find(const struct ixd_template *t, uint16_t id)
{
    return ixd_template_find(t, 0, id);
}

void
ixd_sampling_compile(struct ixd_template *t)
{
    int f = find(t, IE_SAMPLING_INTERVAL);

    if (f < 0) {
        f = find(t, IE_SAMPLER_RANDOM_INTERVAL);
    }
    if (f < 0) {
        f = find(t, IE_SAMPLING_PACKET_INTERVAL);
    }
    t->sampling_field = (int16_t)f;
    f = find(t, IE_SAMPLER_ID);
    t->sampler_field = (int16_t)(f >= 0 ? f : find(t, IE_SELECTOR_ID));
}

static uint64_t
field_uint(const struct ixd_record *r, int i, int *ok)
{
    const struct ixd_field *f = &r->tmpl->fields[i];
    uint16_t len;
    const uint8_t *p = ixd_record_field(r, (unsigned)i, &len);

    /* identifiers and intervals sent longer than registered (samplerId is unsigned8, often
     * sent in 2 or 4 bytes) are still numbers: only what cannot be one is refused */
    *ok = (f->type == IXD_TYPE_UNSIGNED || f->type == IXD_TYPE_OCTETS) && len >= 1 && len <= 8;
    return *ok ? ixd_get_uint(p, len) : 0;
}

/* The interval a record announces or carries: 1 in N packets; 0 when it has none. */
static uint32_t
record_interval(const struct ixd_record *r)
{
    const struct ixd_template *t = r->tmpl;
    uint64_t n;
    int ok;

    if (t->sampling_field < 0) {
        return 0;
    }
    n = field_uint(r, t->sampling_field, &ok);
    if (ok && t->fields[t->sampling_field].id == IE_SAMPLING_PACKET_INTERVAL) {
        /* RFC 5476 systematic count-based: n selected out of every n + m */
        int space = find(t, IE_SAMPLING_PACKET_SPACE), ok2;
        uint64_t m = space >= 0 ? field_uint(r, space, &ok2) : 0;
        n = n > 0 && space >= 0 && ok2 ? (n + m) / n : 0;
    }
    return ok && n > 0 ? (uint32_t)(n > UINT32_MAX ? UINT32_MAX : n) : 0;
}

static void
remember(struct ixd_domain *d, int has_id, uint32_t id, uint32_t interval)
{
    unsigned i;

    if (!has_id) {
        d->sampling = interval;
        return;
    }
    for (i = 0; i < d->n_samplers; i++) {
        if (d->samplers[i].id == id) {
            d->samplers[i].interval = interval;
            return;
        }
    }
    /* bounded: past the table's size the oldest announcement makes room */
    i = d->n_samplers < IXD_SAMPLERS_PER_DOMAIN ? d->n_samplers++ : d->next_sampler;
    d->next_sampler = (uint8_t)((i + 1) % IXD_SAMPLERS_PER_DOMAIN);
    d->samplers[i].id = id;
    d->samplers[i].interval = interval;
}

void
ixd_sampling_learn(struct ixd_domain *d, const struct ixd_template *t, const uint8_t *set,
                   size_t len)
{
    uint16_t offsets[LEARN_FIELDS_MAX], lengths[LEARN_FIELDS_MAX];

    if (t->scope_count == 0 || t->sampling_field < 0 || t->field_count > LEARN_FIELDS_MAX) {
        return;
    }
    while (len >= t->min_length) {
        struct ixd_record r = {t, set, t->fixed_length, NULL, NULL};
        uint32_t interval;
        uint64_t id = 0;
        int has_id = 0;

        if (t->has_varlen) {
            r.length = (uint32_t)ixd_record_walk(t, set, len, offsets, lengths);
            if (r.length == 0) {
                return;
            }
            r.offsets = offsets;
            r.lengths = lengths;
        }
        interval = record_interval(&r);
        if (t->sampler_field >= 0) {
            id = field_uint(&r, t->sampler_field, &has_id);
        }
        if (interval > 0) {
            remember(d, has_id, (uint32_t)id, interval);
        }
        set += r.length;
        len -= r.length;
    }
}

uint32_t
ixd_sampling_rate(const struct ixd_domain *d, const struct ixd_record *r)
{
    const struct ixd_template *t = r->tmpl;
    const struct ixd_session_limits *limits;
    uint32_t n;
    unsigned i;

    if (t->scope_count > 0) {
        return 1; /* options records describe the exporter: their counts are not sampled */
    }
    if ((n = record_interval(r)) > 0) {
        return n;
    }
    if (t->sampler_field >= 0) {
        int ok;
        uint64_t id = field_uint(r, t->sampler_field, &ok);
        for (i = 0; ok && i < d->n_samplers; i++) {
            if (d->samplers[i].id == id) {
                return d->samplers[i].interval;
            }
        }
    }
    if (d->sampling > 0) {
        return d->sampling;
    }
    limits = &d->session->owner->limits;
    for (i = 0; i < limits->n_sampling; i++) {
        if (ixd_prefix_contains(&limits->sampling[i].prefix, &d->session->exporter->addr)) {
            return limits->sampling[i].rate;
        }
    }
    return 1;
}

int
ixd_sampling_scales(const struct ixd_field *f)
{
    if (f->pen != 0 && f->pen != IE_REVERSE_PEN) {
        return 0;
    }
    switch (f->id) {
    case 1:   /* octetDeltaCount */
    case 2:   /* packetDeltaCount */
    case 19:  /* postMCastPacketDeltaCount */
    case 20:  /* postMCastOctetDeltaCount */
    case 23:  /* postOctetDeltaCount */
    case 24:  /* postPacketDeltaCount */
    case 85:  /* octetTotalCount */
    case 86:  /* packetTotalCount */
    case 231: /* initiatorOctets */
    case 232: /* responderOctets */
    case 298: /* initiatorPackets */
    case 299: /* responderPackets */
        return f->type == IXD_TYPE_UNSIGNED;
    default:
        return 0;
    }
}
