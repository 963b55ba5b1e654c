/*
 * The record checks shared by fuzz_message and fuzz_stream: every record the decoder hands
 * over is read field by field and formatted as the JSON output would, in a buffer of exactly the
 * size the output reserves, so an overrun of ixd_json_bound() is an ASan finding, and compared
 * with what the field-by-field formatter and the reference formatter write; and every
 * batch is written as the IPFIX export writes it (lists' template references rewritten), each
 * message it emits checked for framing.
 */
#include "fuzz_records.h"

#include <stddef.h>
#include <string.h>

#include "../unit/json_check.h"
#include "ipfix/ie.h"
#include "ipfix/netflow.h"
#include "ipfix/wire.h"
#include "output/export_session.h"
#include "output/json_format.h"
#include "../reference/json_format_ref.h"

/* Small enough that records with their templates often do not fit: the drop path runs too. */
#define EXPORT_MTU 512

const struct ixd_template_rules *
fuzz_rules(void)
{
    static struct ixd_template_rules rules;
    static int ready;

    /* building the registry costs milliseconds: once per process, read-only afterwards */
    if (!ready) {
        char err[256];

        memset(&rules, 0, sizeof(rules));
        rules.registry = ixd_ie_registry_new(NULL, 0, err, sizeof(err));
        if (rules.registry == NULL) {
            fprintf(stderr, "fuzz: information model: %s\n", err);
            abort();
        }
        rules.max_fields = 512; /* the shipped default (config/ipfixd.yaml) */
        ready = 1;
    }
    return &rules;
}

void
fuzz_limits(struct ixd_session_limits *l, int small, uint32_t template_lifetime)
{
    ixd_session_limits_default(l);
    l->template_lifetime = template_lifetime;
    if (small) {
        /* a handful of anything: inputs of a few messages reach every bound */
        l->templates_per_session = 6;
        l->templates_per_exporter = 8;
        l->templates_total = 10;
        l->template_memory = 4096;
        l->sessions_per_exporter = 2;
        l->sessions_total = 3;
        l->domains_per_session = 3;
        l->hold_time = 20;
        l->held_sets_per_session = 3;
        l->held_bytes_per_session = 512;
        l->held_bytes_total = 1024;
    }
}

struct ixd_decoder *
fuzz_decoder(struct fuzz_sink *sink)
{
    static struct ixd_decoder *dec;

    if (dec == NULL) {
        dec = malloc(sizeof(*dec));
        FUZZ_CHECK(dec != NULL);
    }
    ixd_decoder_init(dec, fuzz_check_batch, sink);
    return dec;
}

/*
 * The line of r as json.c writes it (a compiled template), as the field-by-field formatter and
 * as the formatter before compiled templates (tests/reference/json_format_ref.c) write it: all
 * three byte for byte the same, each in a buffer of exactly the size its bound promises.
 */
static void
check_json(const struct ixd_record *r, const struct ixd_source *src, const char *prefix,
           size_t plen)
{
    static struct ixd_json_cache *cache; /* kept across inputs, as a lane keeps it */
    size_t room = plen + ixd_json_bound(r), n, m;
    char *line = malloc(room), *other = malloc(room), ref_prefix[IXD_JSON_PREFIX_MAX];
    size_t rplen = ref_json_prefix(src, ref_prefix, sizeof(ref_prefix));
    char *ref = malloc(rplen + ref_json_bound(r));

    if (cache == NULL) {
        cache = ixd_json_cache_new();
    }
    FUZZ_CHECK(line != NULL && other != NULL && ref != NULL && cache != NULL);
    n = ixd_json_cache_record(cache, r, src, 1, prefix, plen, line); /* as json.c writes it */
    FUZZ_CHECK(n <= room);
    FUZZ_CHECK(n >= plen + 3 && line[n - 2] == '}' && line[n - 1] == '\n');
    FUZZ_CHECK(memchr(line, '\n', n - 1) == NULL);
    FUZZ_CHECK(json_valid(line, n - 1)); /* strict RFC 8259, strings strict UTF-8 */
    m = ixd_json_record_from(r, src, prefix, plen, other);
    FUZZ_CHECK(m == n && memcmp(line, other, n) == 0);
    m = ref_json_record_from(r, src, ref_prefix, rplen, ref);
    FUZZ_CHECK(rplen == plen && m == n && memcmp(line, ref, n) == 0);
    /* renormalised: counts multiplied, saturating */
    n = ixd_json_cache_record(cache, r, src, 1000, prefix, plen, line);
    m = ref_json_record_scaled(r, src, 1000, ref_prefix, rplen, ref);
    FUZZ_CHECK(m == n && memcmp(line, ref, n) == 0);
    free(line);
    free(other);
    free(ref);
}

static void
check_record(const struct ixd_record *r, const uint8_t *lo, const uint8_t *hi)
{
    const struct ixd_template *t = r->tmpl;
    unsigned i;

    FUZZ_CHECK(t != NULL && r->length > 0);
    FUZZ_CHECK(r->data >= lo && r->data < hi && r->length <= (size_t)(hi - r->data));
    FUZZ_CHECK(r->length >= t->min_length);
    FUZZ_CHECK(t->has_varlen ? r->offsets != NULL : r->length == t->fixed_length);
    for (i = 0; i < t->field_count; i++) {
        uint16_t len;
        const uint8_t *p = ixd_record_field(r, i, &len);

        FUZZ_CHECK(p >= r->data && len <= r->length - (size_t)(p - r->data));
    }
}

/* A message as the export emits it: one header, then sets that fill it exactly. */
static int
check_export_message(void *arg, const uint8_t *msg, size_t len, uint32_t records,
                     uint32_t described, int templates)
{
    size_t at = IXD_HEADER_LEN;

    (void)arg;
    (void)records;
    (void)described;
    (void)templates;
    FUZZ_CHECK(len >= IXD_HEADER_LEN && len <= EXPORT_MTU);
    FUZZ_CHECK(ixd_get16(msg) == IXD_IPFIX_VERSION && ixd_get16(msg + 2) == len);
    while (at < len) {
        size_t set_len;
        FUZZ_CHECK(len - at >= IXD_SET_HEADER_LEN);
        set_len = ixd_get16(msg + at + 2);
        FUZZ_CHECK(set_len >= IXD_SET_HEADER_LEN && set_len <= len - at);
        at += set_len;
    }
    return 0;
}

/* The batch through a fresh export session (so a finding replays alone), with the RFC 7119
 * fields appended and withdrawals as on TCP. */
static void
check_export(const struct ixd_batch *batch)
{
    struct ixd_xsession xs;

    FUZZ_CHECK(ixd_xsession_init(&xs, "fuzz", EXPORT_MTU, IXD_XWITHDRAW_ALL, check_export_message,
                                 NULL) == 0);
    (void)ixd_xsession_write(&xs, batch, 1, 1000);
    ixd_xsession_finish(&xs);
    ixd_xsession_release(&xs);
}

void
fuzz_check_batch(void *arg, const struct ixd_batch *batch)
{
    struct fuzz_sink *sink = arg;
    const struct ixd_source *src = batch->source;
    const uint8_t *lo = sink->msg_lo, *hi = sink->msg_hi;
    char prefix[IXD_JSON_PREFIX_MAX];
    size_t plen, i;

    FUZZ_CHECK(batch->count > 0 && batch->count <= IXD_BATCH_MAX);
    if (src->late) {
        /* a held set's records lie in its copy, the struct ixd_held around this source */
        const struct ixd_held *h =
            (const struct ixd_held *)(const void *)((const char *)src -
                                                    offsetof(struct ixd_held, source));
        lo = h->data;
        hi = h->data + h->len;
        sink->late += batch->count;
    }
    plen = ixd_json_prefix(src, prefix, sizeof(prefix));
    FUZZ_CHECK(plen < sizeof(prefix));
    for (i = 0; i < batch->count; i++) {
        check_record(&batch->records[i], lo, hi);
        check_json(&batch->records[i], src, prefix, plen);
    }
    check_export(batch);
    sink->records += batch->count;
}

int
fuzz_process(struct ixd_decoder *dec, struct fuzz_sink *sink, struct ixd_session *s,
             const uint8_t *msg, size_t len, double now)
{
    enum ixd_error why;
    int valid = ixd_message_validate(msg, len, &why) == 0, n;

    sink->msg_lo = msg;
    sink->msg_hi = msg + len;
    sink->records = 0;
    sink->late = 0;
    n = ixd_message_process(dec, s, msg, len, now, 1700000000123456LL + (int64_t)(now * 1e6));
    /* only a valid message is processed (or refused whole: the domain limit), and the decoder
     * delivers exactly the records it reports, plus held ones decoded late */
    FUZZ_CHECK(n >= -1 && (valid || n == -1));
    FUZZ_CHECK(n == -1 ? sink->records == 0 : (size_t)n == sink->records - sink->late);
    return n;
}

/* A NetFlow packet rewritten into a buffer of exactly the size promised: ASan sees overruns. */
static void
check_rewrite(const uint8_t *pkt, size_t len, uint32_t pen)
{
    uint8_t *out = malloc(IXD_MAX_MESSAGE);
    enum ixd_error why;
    uint32_t seq, uptime, secs;
    int64_t boot;
    size_t n;

    FUZZ_CHECK(out != NULL);
    if (pkt[1] == IXD_NETFLOW9_VERSION) {
        n = ixd_netflow9_rewrite(pkt, len, pen, out, IXD_MAX_MESSAGE, &seq, &uptime, &secs, &why);
    } else {
        n = ixd_netflow5_rewrite(pkt, len, out, IXD_MAX_MESSAGE, &boot, &why);
    }
    /* what the rewriter produces must be an IPFIX message the validator accepts */
    FUZZ_CHECK(n == 0 || ixd_message_validate(out, n, &why) == 0);
    free(out);
}

int
fuzz_datagram(struct ixd_decoder *dec, struct fuzz_sink *sink, struct ixd_session *s,
              const uint8_t *pkt, size_t len, double now)
{
    int n;

    /* the dispatch of the worker's UDP path (src/daemon/worker.c) */
    if (!(len >= 2 && pkt[0] == 0 &&
          (pkt[1] == IXD_NETFLOW9_VERSION || pkt[1] == IXD_NETFLOW5_VERSION))) {
        s->packet_sequence = 0;
        s->source.system_init_ms = 0;
        return fuzz_process(dec, sink, s, pkt, len, now);
    }
    check_rewrite(pkt, len, s->owner->limits.netflow9_pen);
    sink->msg_lo = dec->translated; /* records point into the rewritten message */
    sink->msg_hi = dec->translated + sizeof(dec->translated);
    sink->records = 0;
    sink->late = 0;
    n = ixd_netflow_process(dec, s, pkt, len, now, 1700000000123456LL + (int64_t)(now * 1e6));
    FUZZ_CHECK(n >= -1);
    FUZZ_CHECK(n == -1 ? sink->records == 0 : (size_t)n == sink->records - sink->late);
    return n;
}
