#include "ipfix/decode.h"
#include "ipfix/validate.h"
#include "ipfix/sampling.h"

#include <stdlib.h>
#include <string.h>

#include "ipfix/session_count.h"
#include "ipfix/wire.h"

void
ixd_decoder_init(struct ixd_decoder *dec, ixd_deliver_fn deliver, void *arg)
{
    memset(dec, 0, sizeof(*dec));
    dec->deliver = deliver;
    dec->deliver_arg = arg;
    dec->batch.records = dec->records;
}

static void
flush(struct ixd_decoder *dec)
{
    if (dec->batch.count > 0 && dec->owner != NULL && dec->owner->deliver != NULL) {
        dec->owner->deliver(dec->owner->deliver_arg, &dec->batch);
    } else if (dec->batch.count > 0 && dec->deliver != NULL) {
        dec->deliver(dec->deliver_arg, &dec->batch);
    }
    dec->batch.count = 0;
    dec->scratch_used = 0;
}

static uint32_t data_set(struct ixd_decoder *dec, const struct ixd_template *t, const uint8_t *p,
                         size_t len, int *bad);
static void count_records(struct ixd_session *s, struct ixd_domain *d, const struct ixd_template *t,
                          uint32_t n);

/* Decodes the sets held for (d, tid) now that the template has come, as "@late" records. */
static void
decode_held(struct ixd_decoder *dec, struct ixd_session *s, struct ixd_domain *d, uint16_t tid,
            double now)
{
    struct ixd_held *h = ixd_session_take_held(s, d, tid);
    const struct ixd_template *t = h != NULL ? ixd_domain_template(s, d, tid, now) : NULL;

    while (h != NULL) {
        struct ixd_held *next = h->next;
        int bad = 0;
        uint32_t n;

        dec->batch.source = &h->source;
        n = data_set(dec, t, h->data, h->len, &bad);
        if (bad) {
            ixd_count_error(s, d, IXD_ERR_RECORD_LENGTH);
        }
        ixd_sampling_learn(d, t, h->data, h->len);
        count_records(s, d, t, n);
        IXD_CNT_ADD(d->counters->late_records, n);
        IXD_CNT_ADD(s->exporter->counters.late_records, n);
        IXD_CNT_ADD(s->owner->counters.late_records, n);
        flush(dec); /* the records point into h */
        free(h);
        h = next;
    }
    dec->batch.source = &s->source;
}

/* The serial of the template d holds as tid (0: none; serials start at 1), the table left as
 * it is (no use marked, nothing expired). */
static uint64_t
installed_serial(const struct ixd_domain *d, uint16_t tid)
{
    const struct ixd_template_slot *slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));

    return slot != NULL ? slot->tmpl->serial : 0;
}

/* Stores t (ixd_domain_set_template) and, when its sessions' owner asked, announces it if it is now
 * the domain's template and was not before: a refresh keeps the compiled template it refreshes (t
 * is freed), which was announced when it came. Returns what ixd_domain_set_template returned. */
static int
set_template(struct ixd_decoder *dec, struct ixd_session *s, struct ixd_domain *d,
             struct ixd_template *t, double now)
{
    uint16_t tid = t->id;
    uint64_t before;
    const struct ixd_template_slot *slot;

    if (s->owner->on_template == NULL) {
        return ixd_domain_set_template(s, d, t, now);
    }
    before = installed_serial(d, tid);
    if (!ixd_domain_set_template(s, d, t, now)) {
        return 0;
    }
    slot = g_hash_table_lookup(d->templates, GUINT_TO_POINTER(tid));
    if (slot != NULL && slot->tmpl->serial != before) {
        s->owner->on_template(s->owner->deliver_arg, slot->tmpl, &s->source);
    }
    return 1;
}

static void
template_set(struct ixd_decoder *dec, struct ixd_session *s, struct ixd_domain *d, const uint8_t *p,
             size_t len, int options, double now)
{
    const struct ixd_template_rules *rules = &s->owner->rules;

    /* records of the batch may point at templates this set replaces */
    flush(dec);
    while (len >= 4) {
        struct ixd_template *t;
        enum ixd_error why = IXD_ERR_TEMPLATE_LENGTH;
        size_t used = 0;
        uint16_t tid = 0;

        switch (ixd_template_parse(p, len, options, rules, &t, &tid, &used, &why)) {
        case IXD_TPARSE_TEMPLATE:
            if (t->bad_lengths > 0) {
                ixd_count_error(s, d, IXD_ERR_FIELD_LENGTH);
            }
            tid = t->id;
            if (set_template(dec, s, d, t, now) && s->held != NULL) {
                decode_held(dec, s, d, tid, now);
            }
            break;
        case IXD_TPARSE_WITHDRAW:
            /* RFC 7011 8.4: withdrawals are meaningless on UDP and ignored there */
            if (s->tcp) {
                if (tid == IXD_SET_TEMPLATE || tid == IXD_SET_OPTIONS_TEMPLATE) {
                    ixd_domain_withdraw_all(s, d, tid == IXD_SET_OPTIONS_TEMPLATE);
                } else {
                    ixd_domain_withdraw(s, d, tid);
                }
            }
            break;
        case IXD_TPARSE_SKIP:
            ixd_count_error(s, d, why);
            break;
        case IXD_TPARSE_STOP:
        default:
            ixd_count_error(s, d, why);
            return;
        }
        p += used;
        len -= used;
    }
    /* fewer than 4 bytes left: padding (RFC 7011 3.3.1) */
}

size_t
ixd_record_walk(const struct ixd_template *t, const uint8_t *p, size_t avail, uint16_t *offsets,
                uint16_t *lengths)
{
    size_t pos = 0;
    uint16_t i;

    for (i = 0; i < t->field_count; i++) {
        size_t flen;
        if (ixd_field_extent(&t->fields[i], p, avail, &pos, &flen) == -1) {
            return 0;
        }
        offsets[i] = (uint16_t)pos;
        lengths[i] = (uint16_t)flen;
        pos += flen;
    }
    return pos;
}

static void
add_record(struct ixd_decoder *dec, const struct ixd_template *t, const uint8_t *p, size_t len,
           uint16_t *offsets, uint16_t *lengths)
{
    struct ixd_record *r = &dec->records[dec->batch.count++];

    r->tmpl = t;
    r->data = p;
    r->length = (uint32_t)len;
    r->offsets = offsets;
    r->lengths = lengths;
}

/* The records of a set of a fixed-length template: as many as fit, batch by batch, with nothing
 * to check per record. Returns how many. */
static uint32_t
fixed_set(struct ixd_decoder *dec, const struct ixd_template *t, const uint8_t *p, size_t len)
{
    size_t rlen = t->fixed_length, left = len / rlen; /* fixed_length >= 1 (template.c) */
    uint32_t n = (uint32_t)left;

    while (left > 0) {
        size_t k = IXD_BATCH_MAX - dec->batch.count, i;
        struct ixd_record *r;

        if (k == 0) {
            flush(dec);
            k = IXD_BATCH_MAX;
        }
        k = k < left ? k : left;
        r = &dec->records[dec->batch.count];
        for (i = 0; i < k; i++, p += rlen) {
            r[i].tmpl = t;
            r[i].data = p;
            r[i].length = (uint32_t)rlen;
            r[i].offsets = NULL;
            r[i].lengths = NULL;
        }
        dec->batch.count += k;
        left -= k;
    }
    /* what is left is shorter than a record: padding (RFC 7011 3.3.1) */
    return n;
}

/* Decodes the records of one data set; returns how many, sets *bad on a malformed record. */
static uint32_t
data_set(struct ixd_decoder *dec, const struct ixd_template *t, const uint8_t *p, size_t len,
         int *bad)
{
    uint32_t n = 0;

    if (!t->has_varlen) {
        return fixed_set(dec, t, p, len);
    }
    while (len >= t->min_length) {
        size_t rlen;

        uint16_t *offs, *lens;

        if (dec->batch.count == IXD_BATCH_MAX ||
            dec->scratch_used + 2u * t->field_count > IXD_SCRATCH_MAX) {
            flush(dec);
        }
        offs = dec->scratch + dec->scratch_used;
        lens = offs + t->field_count;
        rlen = ixd_record_walk(t, p, len, offs, lens);
        if (rlen == 0) {
            *bad = 1;
            break;
        }
        dec->scratch_used += 2u * t->field_count;
        add_record(dec, t, p, rlen, offs, lens);
        p += rlen;
        len -= rlen;
        n++;
    }
    /* what is left is shorter than any record: padding (RFC 7011 3.3.1) */
    return n;
}

/* The latest options record of a set is kept with its template, for the API to show. */
static void
keep_last_options(struct ixd_session *s, struct ixd_domain *d, const struct ixd_template *t,
                  const uint8_t *p, size_t len, uint32_t n, int64_t usec)
{
    uint16_t offs[256], lens[256];
    size_t rlen = t->fixed_length;

    if (!t->has_varlen) {
        ixd_domain_keep_options(s, d, t->id, p + (size_t)(n - 1) * rlen, rlen, usec);
        return;
    }
    if (t->field_count > 256) {
        return; /* options templates are small; a huge one is not worth a walk */
    }
    while (n-- > 0 && (rlen = ixd_record_walk(t, p, len, offs, lens)) > 0) {
        if (n == 0) {
            ixd_domain_keep_options(s, d, t->id, p, rlen, usec);
            return;
        }
        p += rlen;
        len -= rlen;
    }
}

static void
count_records(struct ixd_session *s, struct ixd_domain *d, const struct ixd_template *t, uint32_t n)
{
    IXD_CNT_ADD(d->counters->records, n);
    IXD_CNT_ADD(s->exporter->counters.records, n);
    IXD_CNT_ADD(s->owner->counters.records, n);
    if (t->scope_count > 0) {
        IXD_CNT_ADD(d->counters->options_records, n);
        IXD_CNT_ADD(s->exporter->counters.options_records, n);
        IXD_CNT_ADD(s->owner->counters.options_records, n);
    }
}

static void
count_message(struct ixd_session *s, struct ixd_domain *d, size_t len)
{
    if (d != NULL) {
        IXD_CNT_ADD(d->counters->messages, 1);
        IXD_CNT_ADD(d->counters->bytes, len);
    }
    IXD_CNT_ADD(s->exporter->counters.messages, 1);
    IXD_CNT_ADD(s->exporter->counters.bytes, len);
    IXD_CNT_ADD(s->owner->counters.messages, 1);
    IXD_CNT_ADD(s->owner->counters.bytes, len);
}

/* What the message's records carry about where they come from: its domain, header and time
 * of arrival, and the exporter's clock offset, which the message's export time updates. */
static void
message_source(struct ixd_session *s, struct ixd_domain *d, const uint8_t *msg,
               int64_t received_usec)
{
    s->source.odid = d->odid;
    s->source.resolver = &d->resolver;
    s->source.export_time = ixd_get32(msg + 4);
    s->source.sequence = ixd_get32(msg + 8);
    s->source.received_usec = received_usec;
    if (s->owner->clock_offsets) {
        ixd_clock_offset_add(&s->exporter->clock, s->source.export_time, received_usec);
    }
    s->source.clock_known = (uint8_t)s->exporter->clock.known;
    s->source.clock_offset_usec = s->exporter->clock.offset_usec;
}

int
ixd_message_process(struct ixd_decoder *dec, struct ixd_session *s, const uint8_t *msg, size_t len,
                    double now, int64_t received_usec)
{
    struct ixd_domain *d = NULL;
    enum ixd_error why;
    uint32_t records = 0;
    int complete = 1;
    size_t off, mlen;

    dec->owner = s->owner; /* its records go where the session's collector sends them */
    if (ixd_message_validate(msg, len, &why) == -1) {
        count_message(s, NULL, len);
        ixd_count_error(s, NULL, why);
        return -1;
    }
    mlen = ixd_get16(msg + 2);
    d = ixd_session_domain(s, ixd_get32(msg + 12));
    if (d == NULL) {
        count_message(s, NULL, len); /* the domain limit or memory: counted there */
        return -1;
    }
    count_message(s, d, len);
    message_source(s, d, msg, received_usec);
    dec->batch.source = &s->source;

    for (off = IXD_HEADER_LEN; off < mlen;) {
        uint16_t set_id = ixd_get16(msg + off);
        size_t slen = ixd_get16(msg + off + 2);
        const uint8_t *body = msg + off + IXD_SET_HEADER_LEN;
        size_t blen = slen - IXD_SET_HEADER_LEN;

        off += slen;
        if (set_id == IXD_SET_TEMPLATE || set_id == IXD_SET_OPTIONS_TEMPLATE) {
            template_set(dec, s, d, body, blen, set_id == IXD_SET_OPTIONS_TEMPLATE, now);
        } else if (set_id >= IXD_MIN_DATA_SET) {
            const struct ixd_template *t = ixd_domain_template(s, d, set_id, now);
            int bad = 0;
            uint32_t n;

            if (t == NULL) {
                /* RFC 7011 8: data may come before its template; hold it a while */
                if (ixd_domain_withdrawn(d, set_id)) {
                    ixd_count_error(s, d, IXD_ERR_NO_TEMPLATE); /* RFC 7011 8.1: not held */
                } else if (ixd_session_hold(s, d, set_id, body, blen, now) == -1) {
                    if (s->owner->limits.hold) {
                        COUNT(s, d, held_dropped, 1);
                    }
                    ixd_count_error(s, d, IXD_ERR_NO_TEMPLATE);
                }
                complete = 0;
                continue;
            }
            n = data_set(dec, t, body, blen, &bad);
            if (bad) {
                ixd_count_error(s, d, IXD_ERR_RECORD_LENGTH);
                complete = 0;
            }
            ixd_sampling_learn(d, t, body, blen);
            if (t->scope_count > 0 && n > 0) {
                keep_last_options(s, d, t, body, blen, n, received_usec);
            }
            count_records(s, d, t, n);
            records += n;
        } else {
            ixd_count_error(s, d, IXD_ERR_SET_ID);
        }
    }
    flush(dec);
    if (!s->packet_sequence) { /* NetFlow v9 counts packets: its translator accounts for them */
        ixd_domain_sequence(s, d, ixd_get32(msg + 8), records, complete);
    }
    return (int)records;
}
