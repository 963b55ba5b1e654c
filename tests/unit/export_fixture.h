/*
 * Shared fixture of test_export_session.c and test_export_encode.c: an IPFIX export session
 * (src/output/export_session.c) fed with records decoded from real messages on the exporter
 * side, every message it emits kept, a walker that checks each one (header, set lengths,
 * sequence numbers, the MTU, whole records of defined templates), and decode_fixture.h as
 * the collector that decodes them again.
 */
#ifndef IXD_TEST_EXPORT_FIXTURE_H
#define IXD_TEST_EXPORT_FIXTURE_H

#include "decode_fixture.h"

#include <netinet/in.h>

#include "output/ipfix_encode.h"
#include "output/export_session.h"

#define EXPORT_NOW 1700000100u /* export time of the messages the session starts */
#define SOURCE_TIME 1700000000u
#define OUT_MAX 8192
#define TDEF_FIELDS 16

/* ---- what the session emits ---- */

struct out_msg {
    uint8_t *buf;
    size_t len;
    uint32_t records;   /* as the session said: the records it was given */
    uint32_t described; /* and the type records of its own */
    int templates;
    int refused; /* the emit callback returned -1 */
};

static struct out_msg out[OUT_MAX];
static size_t n_out;
static unsigned refuse_next; /* emits still to refuse */

static inline int
emit(void *arg, const uint8_t *msg, size_t len, uint32_t records, uint32_t described, int templates)
{
    struct out_msg *o;

    assert_true(n_out < OUT_MAX);
    o = &out[n_out++];
    o->buf = malloc(len);
    assert_non_null(o->buf);
    memcpy(o->buf, msg, len);
    o->len = len;
    o->records = records;
    o->described = described;
    o->templates = templates;
    o->refused = refuse_next > 0;
    if (refuse_next > 0) {
        refuse_next--;
        return -1;
    }
    return 0;
}

/* ---- the message walker: framing, templates defined, records per data set ---- */

/* A template as an emitted template set defined it (keyed by its ID alone: the tests that use
 * several domains define the same layouts in each). n 0: not defined, or withdrawn. */
struct tdef {
    uint16_t n, scope;
    uint16_t id[TDEF_FIELDS], len[TDEF_FIELDS];
    uint32_t pen[TDEF_FIELDS];
};

static struct tdef *tdefs;

struct walked {
    uint32_t records;      /* data records */
    unsigned definitions;  /* template records */
    unsigned withdrawals;  /* template records of field count 0 (IDs 2 and 3 included) */
    unsigned descriptions; /* RFC 5610 type records (scope privateEnterpriseNumber, ...) */
    uint16_t first_set;    /* ID of the first set */
};

static inline void
walk_templates(const uint8_t *p, size_t len, int options, struct walked *w)
{
    size_t at = 0;

    while (at + 4 <= len) {
        uint16_t tid = ixd_get16(p + at), n = ixd_get16(p + at + 2), k;
        struct tdef *t = &tdefs[tid];

        at += 4;
        if (n == 0) {
            w->withdrawals++;
            t->n = 0;
            continue;
        }
        assert_true(n <= TDEF_FIELDS);
        t->scope = options ? ixd_get16(p + at) : 0;
        at += options ? 2 : 0;
        for (k = 0; k < n; k++) {
            uint16_t id = ixd_get16(p + at);
            t->id[k] = id & 0x7fff;
            t->len[k] = ixd_get16(p + at + 2);
            t->pen[k] = id & 0x8000 ? ixd_get32(p + at + 4) : 0;
            at += id & 0x8000 ? 8 : 4;
        }
        t->n = n;
        w->definitions++;
    }
    assert_int_equal(at, len); /* the session never pads */
}

/* Length of one record of t at p (avail bytes), following variable-length prefixes. */
static inline size_t
record_length(const struct tdef *t, const uint8_t *p, size_t avail)
{
    size_t at = 0;
    uint16_t k;

    for (k = 0; k < t->n; k++) {
        size_t n = t->len[k];
        if (n == IXD_VARLEN) {
            assert_true(at < avail);
            n = p[at++];
            if (n == 255) {
                n = ixd_get16(p + at);
                at += 2;
            }
        }
        at += n;
        assert_true(at <= avail); /* a record never runs past its set */
    }
    return at;
}

/* Checks one emitted message: version, header length = bytes emitted, within mtu, sets that
 * fill it exactly, data sets of whole records of a defined template. */
static inline struct walked
walk(const struct out_msg *o, uint32_t mtu)
{
    const uint8_t *p = o->buf;
    struct walked w = {0, 0, 0, 0, 0};
    size_t at = IXD_HEADER_LEN;

    assert_true(o->len <= mtu);
    assert_true(o->len > IXD_HEADER_LEN);
    assert_int_equal(ixd_get16(p), IXD_IPFIX_VERSION);
    assert_int_equal(ixd_get16(p + 2), o->len);
    while (at < o->len) {
        uint16_t id = ixd_get16(p + at), slen = ixd_get16(p + at + 2);

        assert_true(at + 4 <= o->len);
        assert_true(slen > 4);
        assert_true(at + slen <= o->len);
        if (w.first_set == 0) {
            w.first_set = id;
        }
        if (id == IXD_SET_TEMPLATE || id == IXD_SET_OPTIONS_TEMPLATE) {
            walk_templates(p + at + 4, slen - 4u, id == IXD_SET_OPTIONS_TEMPLATE, &w);
        } else {
            size_t r = at + 4;
            assert_true(id >= IXD_MIN_DATA_SET);
            assert_int_not_equal(tdefs[id].n, 0); /* defined before its data */
            int described = tdefs[id].scope == 2 && tdefs[id].id[0] == 346;
            while (r < at + slen) {
                r += record_length(&tdefs[id], p + r, at + slen - r);
                w.records++;
                w.descriptions += described;
            }
            assert_int_equal(r, at + slen); /* whole records, nothing left */
        }
        at += slen;
    }
    assert_int_equal(at, o->len);
    assert_int_equal(w.records, o->records + o->described);
    assert_int_equal(w.descriptions, o->described);
    /* type records count as templates: when they are lost, they go again with the templates */
    assert_int_equal(o->templates, w.definitions + w.withdrawals + w.descriptions > 0);
    return w;
}

/* Sequence numbers per domain: data records of that domain in earlier messages. */
#define SEQ_DOMAINS 2048
static struct {
    uint32_t odid, next;
} seqs[SEQ_DOMAINS];
static size_t n_seqs, n_walked;

static inline uint32_t *
seq_of(uint32_t odid)
{
    size_t i;

    for (i = 0; i < n_seqs; i++) {
        if (seqs[i].odid == odid) {
            return &seqs[i].next;
        }
    }
    assert_true(n_seqs < SEQ_DOMAINS);
    seqs[n_seqs].odid = odid;
    seqs[n_seqs].next = 0;
    return &seqs[n_seqs++].next;
}

/* Walks the messages emitted since the last call; returns the data records they hold. */
static inline uint32_t
walk_new(uint32_t mtu)
{
    uint32_t records = 0;

    for (; n_walked < n_out; n_walked++) {
        const struct out_msg *o = &out[n_walked];
        struct walked w = walk(o, mtu);
        uint32_t *next = seq_of(ixd_get32(o->buf + 12));

        assert_int_equal(ixd_get32(o->buf + 4), EXPORT_NOW);
        assert_int_equal(ixd_get32(o->buf + 8), *next);
        *next += w.records;
        records += w.records;
    }
    return records;
}

/* A new transport session: sequence numbers from 0 (ixd_xsession_restart). */
static inline void
seq_restart(void)
{
    n_seqs = 0;
}

/* ---- the exporter side: records decoded from messages, written into the session ---- */

static struct ixd_xsession xs;
static struct ixd_sessions in_ss;
static struct ixd_session *in_sess;
static struct ixd_decoder *in_dec;
static struct ib in_m;
static int original_exporter;
static int64_t boot_ms; /* when set: the source's system_init_ms (a NetFlow header gave it) */
static size_t dropped;
static unsigned
    drop_every; /* when set: every drop_every-th record is taken out, as a filter does */

static inline void
to_export(void *arg, const struct ixd_batch *batch)
{
    struct ixd_source src = *batch->source;
    struct ixd_batch b = *batch;
    struct ixd_record kept[IXD_BATCH_MAX];

    if (boot_ms != 0) {
        src.system_init_ms = boot_ms;
        b.source = &src;
    }
    if (drop_every != 0) {
        b.count = 0;
        b.records = kept;
        for (size_t i = 0; i < batch->count; i++) {
            if (i % drop_every != drop_every - 1) {
                kept[b.count++] = batch->records[i];
            }
        }
    }
    dropped += ixd_xsession_write(&xs, &b, original_exporter, EXPORT_NOW);
}

static const struct sockaddr_in6 exporter6 = {
    .sin6_family = AF_INET6,
    .sin6_addr = {{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}}},
};

/* The exporter's sessions; v6: it is 2001:db8::7 rather than 192.0.2.1. */
static inline void
in_start(int v6)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session_limits limits;

    ixd_session_limits_default(&limits);
    ixd_sessions_init(&in_ss, "in", 0, &rules, &limits);
    in_sess = ixd_session_udp(
        &in_ss, v6 ? (const struct sockaddr *)&exporter6 : (const struct sockaddr *)&sin, T0);
    assert_non_null(in_sess);
    ixd_decoder_init(in_dec, to_export, NULL);
}

/* Decodes in_m on the exporter side: its records go into the export session. */
static inline void
feed(void)
{
    assert_true(ixd_message_process(in_dec, in_sess, in_m.buf, in_m.len, T0, 1) >= 0);
}

/* Decodes the emitted messages [from, n_out) on the collector side (decode_fixture.h). */
static inline void
collect(size_t from)
{
    for (; from < n_out; from++) {
        if (out[from].refused) {
            continue;
        }
        memcpy(m.buf, out[from].buf, out[from].len);
        m.len = out[from].len;
        assert_true(process() >= 0);
    }
}

static inline int
setup_export(uint32_t mtu, enum ixd_xwithdraw withdraw, int v6, int tcp_collector)
{
    start(tcp_collector, 8192); /* also sets the template rules both sides use */
    assert_int_equal(ixd_xsession_init(&xs, "x", mtu, withdraw, emit, NULL), 0);
    memset(tdefs, 0, 65536 * sizeof(*tdefs));
    n_out = n_walked = 0;
    refuse_next = 0;
    seq_restart();
    original_exporter = 0;
    boot_ms = 0;
    dropped = 0;
    in_start(v6);
    return 0;
}

static inline int
setup_udp1400(void **state)
{
    return setup_export(1400, IXD_XWITHDRAW_NONE, 0, 0);
}

static inline int
setup_udp1400_v6(void **state)
{
    return setup_export(1400, IXD_XWITHDRAW_NONE, 1, 0);
}

static inline int
teardown_export(void **state)
{
    size_t i;

    ixd_xsession_release(&xs);
    ixd_sessions_release(&in_ss);
    teardown(state);
    for (i = 0; i < n_out; i++) {
        free(out[i].buf);
    }
    n_out = 0;
    return 0;
}

static inline int
export_group_setup(void **state)
{
    in_dec = malloc(sizeof(*in_dec));
    tdefs = malloc(65536 * sizeof(*tdefs));
    if (in_dec == NULL || tdefs == NULL) {
        return -1;
    }
    return group_setup(state);
}

static inline int
export_group_teardown(void **state)
{
    free(in_dec);
    free(tdefs);
    return group_teardown(state);
}

/* A source message of domain odid: template 256 (source, destination, octets) and n records
 * from base (decode_fixture.h). */
static inline void
src_msg(uint32_t odid, unsigned n, unsigned base)
{
    ib_msg_begin(&in_m, SOURCE_TIME, 0, odid);
    set_template_256(&in_m);
    if (n > 0) {
        set_data_256(&in_m, n, base);
    }
    ib_msg_end(&in_m);
}

#endif
