/* Unit tests of src/output/ipfix_session.c and ipfix_encode.c: the IPFIX export session as an
 * exporter. Records decoded from real messages (or built on real templates) are written into a
 * session; every message it emits is checked byte by byte where it matters (header, set
 * lengths, sequence numbers, the MTU, whole records) and decoded again by ipfixd's own decoder
 * (decode_fixture.h: the collector side) to compare values. */
#include "decode_fixture.h"

#include <netinet/in.h>

#include "output/ipfix_encode.h"
#include "output/ipfix_session.h"

#define EXPORT_NOW 1700000100u /* export time of the messages the session starts */
#define SOURCE_TIME 1700000000u
#define OUT_MAX 8192
#define TDEF_FIELDS 16

/* ---- what the session emits ---- */

struct out_msg {
    uint8_t *buf;
    size_t len;
    uint32_t records; /* as the session said */
    int templates;
    int refused; /* the emit callback returned -1 */
};

static struct out_msg out[OUT_MAX];
static size_t n_out;
static unsigned refuse_next; /* emits still to refuse */

static int
emit(void *arg, const uint8_t *msg, size_t len, uint32_t records, int templates)
{
    struct out_msg *o;

    assert_true(n_out < OUT_MAX);
    o = &out[n_out++];
    o->buf = malloc(len);
    assert_non_null(o->buf);
    memcpy(o->buf, msg, len);
    o->len = len;
    o->records = records;
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
    uint32_t records;     /* data records */
    unsigned definitions; /* template records */
    unsigned withdrawals; /* template records of field count 0 (IDs 2 and 3 included) */
    uint16_t first_set;   /* ID of the first set */
};

static void
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
static size_t
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
static struct walked
walk(const struct out_msg *o, uint32_t mtu)
{
    const uint8_t *p = o->buf;
    struct walked w = {0, 0, 0, 0};
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
            while (r < at + slen) {
                r += record_length(&tdefs[id], p + r, at + slen - r);
                w.records++;
            }
            assert_int_equal(r, at + slen); /* whole records, nothing left */
        }
        at += slen;
    }
    assert_int_equal(at, o->len);
    assert_int_equal(w.records, o->records);
    assert_int_equal(o->templates, w.definitions + w.withdrawals > 0);
    return w;
}

/* Sequence numbers per domain: data records of that domain in earlier messages. */
#define SEQ_DOMAINS 2048
static struct {
    uint32_t odid, next;
} seqs[SEQ_DOMAINS];
static size_t n_seqs, n_walked;

static uint32_t *
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
static uint32_t
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
static void
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

static void
to_export(void *arg, const struct ixd_batch *batch)
{
    struct ixd_source src = *batch->source;
    struct ixd_batch b = *batch;

    if (boot_ms != 0) {
        src.system_init_ms = boot_ms;
        b.source = &src;
    }
    dropped += ixd_xsession_write(&xs, &b, original_exporter, EXPORT_NOW);
}

static const struct sockaddr_in6 exporter6 = {
    .sin6_family = AF_INET6,
    .sin6_addr = {{{0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}}},
};

/* The exporter's sessions; v6: it is 2001:db8::7 rather than 192.0.2.1. */
static void
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
static void
feed(void)
{
    assert_true(ixd_message_process(in_dec, in_sess, in_m.buf, in_m.len, T0, 1) >= 0);
}

/* Decodes the emitted messages [from, n_out) on the collector side (decode_fixture.h). */
static void
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

static int
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

static int
setup_udp1400(void **state)
{
    return setup_export(1400, IXD_XWITHDRAW_NONE, 0, 0);
}

static int
setup_udp1400_v6(void **state)
{
    return setup_export(1400, IXD_XWITHDRAW_NONE, 1, 0);
}

static int
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

static int
export_group_setup(void **state)
{
    in_dec = malloc(sizeof(*in_dec));
    tdefs = malloc(65536 * sizeof(*tdefs));
    if (in_dec == NULL || tdefs == NULL) {
        return -1;
    }
    return group_setup(state);
}

static int
export_group_teardown(void **state)
{
    free(in_dec);
    free(tdefs);
    return group_teardown(state);
}

/* A source message of domain odid: template 256 (source, destination, octets) and n records
 * from base (decode_fixture.h). */
static void
src_msg(uint32_t odid, unsigned n, unsigned base)
{
    ib_msg_begin(&in_m, SOURCE_TIME, 0, odid);
    set_template_256(&in_m);
    if (n > 0) {
        set_data_256(&in_m, n, base);
    }
    ib_msg_end(&in_m);
}

/* ---- tests ---- */

/* One batch of five records: the message as RFC 7011 lays it out, its records byte for byte
 * the source's, and the collector decodes the same values. */
static void
test_one_message_byte_by_byte(void **state)
{
    static const uint8_t tset[] = {0, 2, 0, 20, 1, 0, 0, 3, 0, 8, 0, 4, 0, 12, 0, 4, 0, 1, 0, 8};
    const uint8_t *p;
    size_t i;

    src_msg(7, 5, 0);
    feed();
    assert_int_equal(n_out, 0); /* still being built */
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 1);
    assert_int_equal(out[0].len, 16 + 20 + 4 + 5 * 16);
    assert_int_equal(out[0].records, 5);
    assert_int_equal(out[0].templates, 1);
    p = out[0].buf;
    assert_int_equal(ixd_get16(p), 10);
    assert_int_equal(ixd_get16(p + 2), 120);
    assert_int_equal(ixd_get32(p + 4), EXPORT_NOW);
    assert_int_equal(ixd_get32(p + 8), 0);
    assert_int_equal(ixd_get32(p + 12), 7);
    assert_memory_equal(p + 16, tset, sizeof(tset));
    assert_int_equal(ixd_get16(p + 36), 256);
    assert_int_equal(ixd_get16(p + 38), 4 + 5 * 16);
    /* the source message: header, template set of 20 bytes, data set header */
    assert_memory_equal(p + 40, in_m.buf + 16 + 20 + 4, 5 * 16);
    assert_int_equal(walk_new(1400), 5);
    ixd_xsession_finish(&xs); /* nothing being built: nothing more */
    assert_int_equal(n_out, 1);

    collect(0);
    assert_int_equal(cap->n, 5);
    assert_int_equal(cap->src.odid, 7);
    for (i = 0; i < 5; i++) {
        assert_int_equal(cap->r[i].tid, 256);
        assert_int_equal(cap_uint(i, 0), 0x0a000000u + i);
        assert_int_equal(cap_uint(i, 1), 0xc0a80001u);
        assert_int_equal(cap_uint(i, 2), 1000u * i);
    }
    assert_int_equal(ss.counters.seq_lost, 0);
}

/* Sequence numbers count the data records of the same domain sent before, per domain; a
 * message of another domain finishes the one being built; a restart begins again at 0 with
 * every template again; take_seq hands out numbers as a queued message would use them. */
static void
test_sequence_numbers_per_domain(void **state)
{
    uint32_t seq = 99;

    src_msg(7, 3, 0);
    feed();
    src_msg(9, 2, 10);
    feed(); /* finishes the domain 7 message */
    assert_int_equal(n_out, 1);
    src_msg(7, 4, 20);
    feed();
    src_msg(7, 6, 30); /* same domain: the same message */
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 3);
    assert_int_equal(ixd_get32(out[0].buf + 12), 7);
    assert_int_equal(ixd_get32(out[0].buf + 8), 0);
    assert_int_equal(ixd_get32(out[1].buf + 12), 9);
    assert_int_equal(ixd_get32(out[1].buf + 8), 0);
    assert_int_equal(ixd_get32(out[2].buf + 12), 7);
    assert_int_equal(ixd_get32(out[2].buf + 8), 3);
    assert_int_equal(out[2].records, 10);
    assert_int_equal(walk_new(1400), 15);
    /* templates go once per domain per epoch: the third message has none */
    assert_int_equal(out[2].templates, 0);

    /* a queued message takes 5 numbers of domain 7; the next one follows it */
    assert_int_equal(ixd_xsession_take_seq(&xs, 7, 5, &seq), 0);
    assert_int_equal(seq, 13);
    assert_int_equal(ixd_xsession_take_seq(&xs, 8, 5, &seq), -1);
    assert_int_equal(seq, 13);
    src_msg(7, 1, 40);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(ixd_get32(out[3].buf + 8), 18);
    n_walked = n_out;

    /* the collector sees consecutive numbers, the 5 taken counted as lost */
    collect(0);
    assert_int_equal(cap->n, 3 + 2 + 10 + 1);
    assert_int_equal(ss.counters.seq_lost, 5);
    assert_int_equal(ss.counters.seq_reordered, 0);

    /* a new transport session: from 0, templates again */
    ixd_xsession_restart(&xs);
    seq_restart();
    src_msg(9, 2, 50);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(ixd_get32(out[4].buf + 8), 0);
    assert_int_equal(out[4].templates, 1);
    assert_int_equal(walk_new(1400), 2);
}

/* Messages split at every MTU from the smallest that holds a record with its template up:
 * none longer, none holding part of a record, records in order with consecutive sequence
 * numbers, the template only in the first message; below that, every record is dropped. */
static void
test_mtu_splits_whole_records(void **state)
{
    uint32_t mtu;
    size_t i;

    /* header 16 + template set 20 + data set header 4 + one record 16 */
    for (mtu = 56; mtu <= 400; mtu++) {
        size_t first = n_out, k, total = 0;

        ixd_xsession_release(&xs);
        assert_int_equal(ixd_xsession_init(&xs, "x", mtu, IXD_XWITHDRAW_NONE, emit, NULL), 0);
        /* the records of the exporter's message, written twice */
        ib_msg_begin(&in_m, SOURCE_TIME, 0, 3);
        set_template_256(&in_m);
        set_data_256(&in_m, 40, 0);
        ib_msg_end(&in_m);
        feed();
        feed();
        ixd_xsession_finish(&xs);
        assert_int_equal(dropped, 0);
        memset(tdefs, 0, 65536 * sizeof(*tdefs));
        seq_restart();
        n_walked = first;
        assert_int_equal(walk_new(mtu), 80);
        for (k = first; k < n_out; k++) {
            assert_int_equal(out[k].templates, k == first);
            total += out[k].records;
            /* full: the next record (16 bytes, 20 with a set header) did not fit */
            if (k + 1 < n_out) {
                assert_true(out[k].len + 16 > mtu);
            }
        }
        assert_int_equal(total, 80);
        if (mtu == 88) { /* exactly full: 16 + 20 + 4 + 3 * 16, then 16 + 4 + 4 * 16 = 84 */
            assert_int_equal(out[first].len, 88);
            assert_int_equal(out[first].records, 3);
            assert_int_equal(out[first + 1].records, 4);
        }
        if (mtu == 400) {
            memset(cap, 0, sizeof(*cap));
            collect(first);
            assert_int_equal(cap->n, 80);
            for (i = 0; i < 80; i++) {
                assert_int_equal(cap_uint(i, 2), 1000u * (i % 40));
            }
            assert_int_equal(ss.counters.seq_lost, 0);
        }
        for (k = first; k < n_out; k++) {
            free(out[k].buf);
        }
        n_out = n_walked = first;
    }

    /* one byte short of a record with its template: dropped, nothing emitted */
    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 55, IXD_XWITHDRAW_NONE, emit, NULL), 0);
    dropped = 0;
    src_msg(3, 4, 0);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(dropped, 4);
    assert_int_equal(n_out, 0);
}

/* Two exporters' templates 256 in one export domain get two IDs (the second the next free
 * one), a free original ID is kept, and each layout decodes as its exporter sent it. */
static void
test_template_ids_per_domain(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session *other;
    size_t i;

    src_msg(5, 2, 0);
    feed();
    /* another exporter (another port: another transport session), its own template 256 of
     * two fields, and a template 300 */
    sin.sin_port = htons(5001);
    other = ixd_session_udp(&in_ss, (const struct sockaddr *)&sin, T0);
    assert_non_null(other);
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 5);
    {
        size_t s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
        ib_template(&in_m, 256, 2);
        ib_field(&in_m, 7, 2);  /* sourceTransportPort */
        ib_field(&in_m, 11, 2); /* destinationTransportPort */
        ib_template(&in_m, 300, 1);
        ib_field(&in_m, 4, 1); /* protocolIdentifier */
        ib_set_end(&in_m, s);
        s = ib_set_begin(&in_m, 256);
        ib_u16(&in_m, 1234);
        ib_u16(&in_m, 53);
        ib_set_end(&in_m, s);
        s = ib_set_begin(&in_m, 300);
        ib_u8(&in_m, 17);
        ib_set_end(&in_m, s);
    }
    ib_msg_end(&in_m);
    assert_true(ixd_message_process(in_dec, other, in_m.buf, in_m.len, T0, 1) == 2);
    src_msg(5, 1, 7); /* the first exporter again: its template is known, not sent again */
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 1);
    assert_int_equal(walk_new(1400), 5);
    assert_int_equal(tdefs[256].n, 3);
    assert_int_equal(tdefs[257].n, 2);
    assert_int_equal(tdefs[257].id[0], 7);
    assert_int_equal(tdefs[257].id[1], 11);
    assert_int_equal(tdefs[300].n, 1);

    collect(0);
    assert_int_equal(cap->n, 5);
    assert_int_equal(cap->r[0].tid, 256);
    assert_int_equal(cap->r[2].tid, 257);
    assert_int_equal(cap_uint(2, 0), 1234);
    assert_int_equal(cap_uint(2, 1), 53);
    assert_int_equal(cap->r[3].tid, 300);
    assert_int_equal(cap_uint(3, 0), 17);
    assert_int_equal(cap->r[4].tid, 256);
    assert_int_equal(cap_uint(4, 2), 7000);
    for (i = 0; i < 5; i++) {
        assert_int_equal(cap->r[i].len, i == 2 ? 4 : i == 3 ? 1 : 16);
    }
}

/* A message refused by its emitter still takes its sequence numbers (the collector sees the
 * loss); when it held templates, they go again before their next use; a refused message
 * without templates changes nothing else. */
static void
test_refused_message(void **state)
{
    refuse_next = 1;
    src_msg(7, 3, 0);
    feed();
    ixd_xsession_finish(&xs);
    src_msg(7, 2, 3);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 2);
    assert_true(out[0].refused);
    assert_int_equal(out[0].templates, 1);
    assert_int_equal(out[1].templates, 1); /* sent again */
    assert_int_equal(ixd_get32(out[1].buf + 8), 3);
    refuse_next = 1;
    src_msg(7, 1, 5);
    feed();
    ixd_xsession_finish(&xs);
    src_msg(7, 1, 6);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(out[2].templates, 0);
    assert_int_equal(out[3].templates, 0); /* the refused one had none to lose */
    assert_int_equal(ixd_get32(out[3].buf + 8), 6);
    assert_int_equal(walk_new(1400), 7);

    /* the collector misses the refused ones: the first it sees starts at 3 (it cannot know
     * what came before), then one record is missing */
    collect(0);
    assert_int_equal(cap->n, 3);
    assert_int_equal(ss.counters.seq_lost, 1);
}

/* RFC 7119: originalExporterIPv4Address and originalObservationDomainId appended to every
 * record (after the scope fields' non-scope ones in an options template). */
static void
test_original_exporter_v4(void **state)
{
    size_t s;

    original_exporter = 1;
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 42);
    set_template_256(&in_m);
    s = ib_set_begin(&in_m, IXD_SET_OPTIONS_TEMPLATE);
    ib_options_template(&in_m, 500, 2, 1);
    ib_field(&in_m, 149, 4); /* observationDomainId, scope */
    ib_field(&in_m, 34, 4);  /* samplingInterval */
    ib_set_end(&in_m, s);
    set_data_256(&in_m, 2, 0);
    s = ib_set_begin(&in_m, 500);
    ib_u32(&in_m, 42);
    ib_u32(&in_m, 100);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, 1);
    assert_int_equal(walk_new(1400), 3);
    assert_int_equal(tdefs[256].n, 5);
    assert_int_equal(tdefs[256].id[3], 403);
    assert_int_equal(tdefs[256].len[3], 4);
    assert_int_equal(tdefs[256].id[4], 405);
    assert_int_equal(tdefs[256].len[4], 4);
    assert_int_equal(tdefs[500].n, 4);
    assert_int_equal(tdefs[500].scope, 1);
    assert_int_equal(tdefs[500].id[2], 403);
    assert_int_equal(tdefs[500].id[3], 405);

    collect(0);
    assert_int_equal(cap->n, 3);
    assert_int_equal(cap->r[0].len, 16 + 8);
    assert_int_equal(cap_uint(0, 3), 0xc0000201u); /* 192.0.2.1 */
    assert_int_equal(cap_uint(0, 4), 42);
    assert_int_equal(cap_uint(1, 2), 1000);
    assert_int_equal(cap->r[2].tid, 500);
    assert_int_equal(cap_uint(2, 1), 100);
    assert_int_equal(cap_uint(2, 2), 0xc0000201u);
    assert_int_equal(cap_uint(2, 3), 42);
}

static void
test_original_exporter_v6(void **state)
{
    original_exporter = 1;
    src_msg(0x01020304, 1, 9);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 1);
    assert_int_equal(tdefs[256].n, 5);
    assert_int_equal(tdefs[256].id[3], 404);
    assert_int_equal(tdefs[256].len[3], 16);
    collect(0);
    assert_int_equal(cap->n, 1);
    assert_int_equal(cap->r[0].len, 16 + 20);
    assert_memory_equal(cap->r[0].data + 16, exporter6.sin6_addr.s6_addr, 16);
    assert_int_equal(cap_uint(0, 4), 0x01020304);
    assert_int_equal(cap_uint(0, 0), 0x0a000009u);
}

/* A source template with delta times: the record's time of export moved from the source's
 * export time to the session's (and what stays of the record unchanged). */
static void
delta_msg(uint32_t start_delta, uint16_t end_delta)
{
    size_t s;

    ib_msg_begin(&in_m, SOURCE_TIME, 0, 1);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 260, 3);
    ib_field(&in_m, 8, 4);   /* sourceIPv4Address */
    ib_field(&in_m, 158, 4); /* flowStartDeltaMicroseconds */
    ib_field(&in_m, 159, 2); /* flowEndDeltaMicroseconds, reduced to 2 bytes */
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 260);
    ib_u32(&in_m, 0xc6336401u);
    ib_u32(&in_m, start_delta);
    ib_u16(&in_m, end_delta);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
}

static void
test_delta_times_shifted(void **state)
{
    /* exported 100 s after the source's export time: 100,000,000 us further back */
    delta_msg(5000, 7);
    feed();
    delta_msg(0xfffff000u, 1); /* saturates at what 4 and 2 bytes hold */
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 2);
    assert_int_equal(tdefs[260].len[1], 4);
    assert_int_equal(tdefs[260].len[2], 2);
    collect(0);
    assert_int_equal(cap->n, 2);
    assert_int_equal(cap_uint(0, 0), 0xc6336401u);
    assert_int_equal(cap_uint(0, 1), 100005000u);
    assert_int_equal(cap_uint(0, 2), 65535);
    assert_int_equal(cap_uint(1, 1), 0xffffffffu);
}

/* The plan and record encoders alone: a mediator whose clock is behind the exporter's clamps
 * delta times at 0; a plan without changes writes the template as it came. */
static void
test_encode_plan(void **state)
{
    struct ixd_template *t = NULL;
    struct ixd_xplan plan;
    struct ixd_source src;
    struct ixd_record r;
    enum ixd_error why;
    uint8_t rec[16], enc[64], orig[64], rout[64];
    size_t used, n;
    uint16_t tid;
    struct ib b;

    ib_reset(&b);
    ib_options_template(&b, 777, 3, 1);
    ib_field_en(&b, 12, 4, 29305); /* reverse destinationIPv4Address: copied, not shifted */
    ib_field(&b, 158, 4);
    ib_field_en(&b, 158, 4, 29305); /* reverse flowStartDeltaMicroseconds: copied */
    assert_int_equal(ixd_template_parse(b.buf, b.len, 1, &rules, &t, &tid, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    ixd_xplan_init(&plan, t, 0, IXD_XORIG_NONE);
    assert_int_equal(plan.n_conv, 1);
    assert_int_equal(plan.extra, 0);
    assert_int_equal(plan.template_bytes, b.len);
    /* what ixd_template_encode writes, under another ID */
    n = ixd_xplan_template(&plan, t, 4000, enc, sizeof(enc));
    assert_int_equal(n, b.len);
    assert_int_equal(ixd_template_encode(t, orig, sizeof(orig)), b.len);
    assert_int_equal(ixd_get16(enc), 4000);
    assert_memory_equal(enc + 2, orig + 2, n - 2);
    assert_int_equal(ixd_xplan_template(&plan, t, 4000, enc, n - 1), 0);

    memset(&src, 0, sizeof(src));
    src.export_time = 2000;
    ixd_put32(rec, 0x0a000001u);
    ixd_put32(rec + 4, 3000000); /* 3 s before the source's export */
    ixd_put32(rec + 8, 3000000);
    r = (struct ixd_record){t, rec, 12, NULL, NULL};
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 2002, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 5000000);
    assert_int_equal(ixd_get32(rout + 8), 3000000);
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 1998, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 1000000);
    assert_int_equal(ixd_xplan_record(&plan, &r, &src, 1990, rout), 12);
    assert_int_equal(ixd_get32(rout + 4), 0);
    assert_memory_equal(rout, rec, 4);
    assert_int_equal(ixd_get32(rec + 4), 3000000); /* the source record stays as it was */

    /* with the original exporter: 8 more template bytes, 8 more record bytes */
    ixd_xplan_init(&plan, t, 0, IXD_XORIG_V4);
    assert_int_equal(plan.template_bytes, b.len + 8);
    assert_int_equal(plan.extra, 8);
    ixd_template_free(t);
}

/* NetFlow uptimes with the exporter's boot time known become absolute milliseconds (152/153,
 * 8 bytes each) in a template of their own. */
static void
test_uptimes_become_milliseconds(void **state)
{
    size_t s;

    boot_ms = 1600000000000LL;
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 1);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 270, 3);
    ib_field(&in_m, 22, 4); /* flowStartSysUpTime */
    ib_field(&in_m, 21, 4); /* flowEndSysUpTime */
    ib_field(&in_m, 2, 8);  /* packetDeltaCount */
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 270);
    ib_u32(&in_m, 1000);
    ib_u32(&in_m, 61500);
    ib_u64(&in_m, 12);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), 1);
    assert_int_equal(tdefs[270].id[0], 152);
    assert_int_equal(tdefs[270].len[0], 8);
    assert_int_equal(tdefs[270].id[1], 153);
    assert_int_equal(tdefs[270].len[1], 8);
    assert_int_equal(tdefs[270].id[2], 2);
    collect(0);
    assert_int_equal(cap->n, 1);
    assert_int_equal(cap->r[0].len, 24);
    assert_int_equal(cap_uint(0, 0), 1600000001000ULL);
    assert_int_equal(cap_uint(0, 1), 1600000061500ULL);
    assert_int_equal(cap_uint(0, 2), 12);
}

/* A subTemplateList names the exporter's template 300, which another exporter's 300 holds in
 * the export domain: the named template is exported under the next free ID, sent in front of
 * the record, and the reference rewritten; the source record keeps 300. */
static void
test_list_reference_rewritten(void **state)
{
    struct sockaddr_in sin = exporter_addr();
    struct ixd_session *other;
    size_t s, stl_at;

    /* the other exporter first: its 300 (one byte) takes export ID 300 */
    sin.sin_port = htons(5001);
    other = ixd_session_udp(&in_ss, (const struct sockaddr *)&sin, T0);
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 8);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 300, 1);
    ib_field(&in_m, 4, 1);
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 300);
    ib_u8(&in_m, 6);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    assert_int_equal(ixd_message_process(in_dec, other, in_m.buf, in_m.len, T0, 1), 1);

    /* this exporter: 300 = one port; 400 = protocol and a subTemplateList of 300 records */
    ib_msg_begin(&in_m, SOURCE_TIME, 0, 8);
    s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
    ib_template(&in_m, 300, 1);
    ib_field(&in_m, 7, 2);
    ib_template(&in_m, 400, 2);
    ib_field(&in_m, 4, 1);
    ib_field(&in_m, 292, IXD_VARLEN);
    ib_set_end(&in_m, s);
    s = ib_set_begin(&in_m, 400);
    ib_u8(&in_m, 17);
    ib_u8(&in_m, 7); /* the list's length */
    stl_at = in_m.len;
    ib_u8(&in_m, 3); /* allOf */
    ib_u16(&in_m, 300);
    ib_u16(&in_m, 53);
    ib_u16(&in_m, 80);
    ib_set_end(&in_m, s);
    ib_msg_end(&in_m);
    feed();
    ixd_xsession_finish(&xs);
    assert_int_equal(ixd_get16(in_m.buf + stl_at + 1), 300);
    assert_int_equal(n_out, 1);
    assert_int_equal(walk_new(1400), 2);
    /* 300: the other exporter's; 256: this one's 300; 400 kept */
    assert_int_equal(tdefs[300].n, 1);
    assert_int_equal(tdefs[300].id[0], 4);
    assert_int_equal(tdefs[256].n, 1);
    assert_int_equal(tdefs[256].id[0], 7);
    assert_int_equal(tdefs[256].len[0], 2);
    assert_int_equal(tdefs[400].n, 2);

    collect(0);
    assert_int_equal(cap->n, 2);
    assert_int_equal(cap->r[1].tid, 400);
    assert_int_equal(cap->r[1].flen[1], 7);
    assert_int_equal(cap->r[1].data[cap->r[1].off[1]], 3);
    assert_int_equal(ixd_get16(cap->r[1].data + cap->r[1].off[1] + 1), 256);
    assert_int_equal(ixd_get16(cap->r[1].data + cap->r[1].off[1] + 3), 53);
    assert_int_equal(ixd_get16(cap->r[1].data + cap->r[1].off[1] + 5), 80);
}

/* ---- bounds: templates and domains evicted, withdrawn as the transport wants ---- */

#define ENTRIES 4096 /* export templates per domain (ipfix_session.c) */
#define DOMAINS 1024 /* domains per session (ipfix_session.c) */

static struct ixd_template *many[ENTRIES + 1];

/* Template tid of one field (sourceTransportPort), compiled from the wire: a serial of its
 * own each time. */
static struct ixd_template *
port_template(uint16_t tid)
{
    struct ixd_template *t = NULL;
    enum ixd_error why;
    size_t used;
    uint16_t id;
    struct ib b;

    ib_reset(&b);
    ib_template(&b, tid, 1);
    ib_field(&b, 7, 2);
    assert_int_equal(ixd_template_parse(b.buf, b.len, 0, &rules, &t, &id, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    return t;
}

static struct ixd_source
plain_source(uint32_t odid)
{
    struct ixd_source src;
    struct sockaddr_in sin = exporter_addr();

    memset(&src, 0, sizeof(src));
    src.collector = "in";
    memcpy(&src.exporter, &sin, sizeof(sin));
    snprintf(src.exporter_text, sizeof(src.exporter_text), "192.0.2.1");
    src.odid = odid;
    src.export_time = SOURCE_TIME;
    return src;
}

/* One record of t (its port value) in a batch of its own. */
static void
write_one(const struct ixd_template *t, uint32_t odid, uint16_t value)
{
    struct ixd_source src = plain_source(odid);
    uint8_t data[2];
    struct ixd_record r = {t, data, 2, NULL, NULL};
    struct ixd_batch b = {&src, 1, &r};

    ixd_put16(data, value);
    assert_int_equal(ixd_xsession_write(&xs, &b, 0, EXPORT_NOW), 0);
}

/* Fills domain 1 with ENTRIES export templates (IDs 256 + k), then writes a record of one
 * more template of ID 256 in a message of its own: the least recently used (256) goes. */
static const struct out_msg *
evict_one(enum ixd_xwithdraw mode, int new_file)
{
    size_t k;

    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 65535, mode, emit, NULL), 0);
    seq_restart();
    for (k = 0; k < ENTRIES; k++) {
        many[k] = port_template((uint16_t)(256 + k));
        write_one(many[k], 1, (uint16_t)k);
    }
    many[ENTRIES] = port_template(256);
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(65535), ENTRIES);
    if (new_file) {
        ixd_xsession_restart(&xs);
        seq_restart();
    }
    write_one(many[ENTRIES], 1, 4242);
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(65535), 1);
    return &out[n_out - 1];
}

static void
free_many(void)
{
    size_t k;

    for (k = 0; k <= ENTRIES; k++) {
        ixd_template_free(many[k]);
        many[k] = NULL;
    }
}

/* On TCP the evicted template's ID is withdrawn (RFC 7011 8.1) before another template takes
 * it, in the same template set; the collector decodes the new layout under the old ID. */
static void
test_evicted_template_withdrawn_tcp(void **state)
{
    static const uint8_t expect[] = {0, 2, 0, 16, 1, 0, 0, 0, 1, 0,    0,
                                     1, 0, 7, 0,  2, 1, 0, 0, 6, 0x10, 0x92};
    const struct out_msg *o;

    teardown(state); /* a TCP collector: withdrawals are legal there */
    start(1, 8192);
    o = evict_one(IXD_XWITHDRAW_ALL, 0);
    assert_int_equal(o->len, 16 + sizeof(expect));
    assert_memory_equal(o->buf + 16, expect, sizeof(expect));
    assert_int_equal(ixd_get32(o->buf + 8), ENTRIES);
    collect(0);
    assert_int_equal(ss.counters.records, ENTRIES + 1);
    assert_int_equal(ss.counters.templates_withdrawn, 1);
    assert_int_equal(ixd_counters_errors(&ss.counters), 0);
    assert_int_equal(cap->n, CAP_MAX);
    free_many();
}

/* UDP: no withdrawal, the template is defined again. Files: withdrawn only when this file
 * defined it. */
static void
test_evicted_template_udp_and_files(void **state)
{
    static const uint8_t redefine[] = {0, 2, 0, 12, 1, 0, 0, 1, 0, 7, 0, 2};
    const struct out_msg *o;

    o = evict_one(IXD_XWITHDRAW_NONE, 0);
    assert_int_equal(o->len, 16 + 12 + 6);
    assert_memory_equal(o->buf + 16, redefine, sizeof(redefine));
    free_many();

    o = evict_one(IXD_XWITHDRAW_SENT, 0);
    assert_int_equal(o->len, 16 + 16 + 6);
    assert_int_equal(ixd_get16(o->buf + 20), 256);
    assert_int_equal(ixd_get16(o->buf + 22), 0);
    free_many();

    o = evict_one(IXD_XWITHDRAW_SENT, 1); /* a new file never defined 256 */
    assert_int_equal(o->len, 16 + 12 + 6);
    assert_memory_equal(o->buf + 16, redefine, sizeof(redefine));
    assert_int_equal(ixd_get32(o->buf + 8), 0);
    free_many();
}

/* Past DOMAINS domains the least recently used one goes; on TCP all its templates are
 * withdrawn first (template IDs 2 and 3), in a message of that domain. */
static void
evict_domain_case(enum ixd_xwithdraw mode, int withdrawn)
{
    struct ixd_template *t = port_template(256);
    const struct out_msg *o;
    uint32_t d;
    size_t before = n_out;

    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 1400, mode, emit, NULL), 0);
    seq_restart();
    for (d = 1; d <= DOMAINS; d++) {
        write_one(t, d, (uint16_t)d);
    }
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(1400), DOMAINS);
    assert_int_equal(n_out, before + DOMAINS);
    before = n_out;
    write_one(t, DOMAINS + 1, 1);
    ixd_xsession_finish(&xs);
    assert_int_equal(n_out, before + (withdrawn ? 2 : 1));
    if (withdrawn) {
        static const uint8_t all[] = {0, 2, 0, 8, 0, 2, 0, 0, 0, 3, 0, 8, 0, 3, 0, 0};
        o = &out[before];
        assert_int_equal(o->len, 16 + sizeof(all));
        assert_int_equal(ixd_get32(o->buf + 12), 1); /* the least recently used domain */
        assert_int_equal(ixd_get32(o->buf + 8), 1);  /* after its one record */
        assert_int_equal(o->records, 0);
        assert_memory_equal(o->buf + 16, all, sizeof(all));
    }
    o = &out[n_out - 1];
    assert_int_equal(ixd_get32(o->buf + 12), DOMAINS + 1);
    assert_int_equal(o->records, 1);
    /* every template set before was withdrawn: the walker forgets 256, the record redefines */
    assert_int_equal(walk_new(1400), 1);
    ixd_template_free(t);
}

static void
test_evicted_domain(void **state)
{
    evict_domain_case(IXD_XWITHDRAW_ALL, 1);
    evict_domain_case(IXD_XWITHDRAW_NONE, 0);
    evict_domain_case(IXD_XWITHDRAW_SENT, 1);
}

/* A record too long for the MTU is dropped and counted; the others of its batch go. */
static void
test_oversized_record_dropped(void **state)
{
    struct ixd_template *t = port_template(256);
    struct ixd_template *big = NULL;
    struct ixd_source src = plain_source(1);
    uint8_t data[1400];
    struct ixd_record r[3] = {
        {t, data, 2, NULL, NULL}, {NULL, data, 1000, NULL, NULL}, {t, data, 2, NULL, NULL}};
    struct ixd_batch b = {&src, 3, r};
    enum ixd_error why;
    size_t used;
    uint16_t id;
    struct ib tb;

    ib_reset(&tb);
    ib_template(&tb, 258, 1);
    ib_field(&tb, 210, 1000); /* paddingOctets of 1000 bytes */
    assert_int_equal(ixd_template_parse(tb.buf, tb.len, 0, &rules, &big, &id, &used, &why),
                     IXD_TPARSE_TEMPLATE);
    r[1].tmpl = big;
    memset(data, 0, sizeof(data));
    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 512, IXD_XWITHDRAW_NONE, emit, NULL), 0);
    assert_int_equal(ixd_xsession_write(&xs, &b, 0, EXPORT_NOW), 1);
    ixd_xsession_finish(&xs);
    /* the message was finished to make room before the record was found too long */
    assert_int_equal(n_out, 2);
    assert_int_equal(walk_new(512), 2);
    assert_int_equal(out[1].templates, 0);
    assert_int_equal(ixd_get32(out[1].buf + 8), 1);
    ixd_template_free(big);
    ixd_template_free(t);
}

/* ---- a record whose list names a template when the domain's table is full ---- */

static struct ixd_template *named_by_list;

static const struct ixd_template *
list_template_of(const struct ixd_resolver *r, uint16_t tid)
{
    return tid == named_by_list->id ? named_by_list : NULL;
}

static const struct ixd_resolver list_resolver = {list_template_of, NULL, NULL};

/* The bucket of an export template's key in its domain (ipfix_session.c): of entries used
 * equally recently, eviction meets the head of the lowest bucket first. */
static unsigned
entry_bucket(const struct ixd_template *t)
{
    return (unsigned)(((t->serial << 2) * 0x9E3779B97F4A7C15ull) >> 58);
}

/* One batch fills the domain's table, and its last record (template 5000: a subTemplateList)
 * names a template (5001) the table does not have yet: making room for it must not evict the
 * entry of the record being written, although every entry was used by this batch. Template
 * 5000 is compiled until it lands where eviction looks first. */
static void
test_full_table_keeps_the_record_being_written(void **state)
{
    static struct ixd_record recs[ENTRIES];
    static uint8_t ports[ENTRIES][2];
    static const uint8_t list_rec[] = {5, 3, 0x13, 0x89, 0, 53};
    static const uint16_t list_off[] = {1}, list_len[] = {5};
    struct ixd_source src = plain_source(1);
    struct ixd_batch b = {&src, ENTRIES, recs};
    struct ixd_template *lt = NULL;
    const struct out_msg *o;
    size_t k, tries;
    struct ib tb;

    ib_reset(&tb);
    ib_template(&tb, 5000, 1);
    ib_field(&tb, 292, IXD_VARLEN);
    for (tries = 0; tries < 4096; tries++) {
        enum ixd_error why;
        size_t used;
        uint16_t id;
        ixd_template_free(lt);
        lt = NULL;
        assert_int_equal(ixd_template_parse(tb.buf, tb.len, 0, &rules, &lt, &id, &used, &why),
                         IXD_TPARSE_TEMPLATE);
        if (entry_bucket(lt) == 0) {
            break;
        }
    }
    assert_int_equal(entry_bucket(lt), 0);
    assert_true(lt->has_lists);
    named_by_list = port_template(5001);
    src.resolver = &list_resolver;
    for (k = 0; k + 1 < ENTRIES; k++) {
        many[k] = port_template((uint16_t)(256 + k));
        ixd_put16(ports[k], (uint16_t)k);
        recs[k] = (struct ixd_record){many[k], ports[k], 2, NULL, NULL};
    }
    recs[ENTRIES - 1] = (struct ixd_record){lt, list_rec, sizeof(list_rec), list_off, list_len};

    ixd_xsession_release(&xs);
    assert_int_equal(ixd_xsession_init(&xs, "x", 65535, IXD_XWITHDRAW_NONE, emit, NULL), 0);
    assert_int_equal(ixd_xsession_write(&xs, &b, 0, EXPORT_NOW), 0);
    ixd_xsession_finish(&xs);
    assert_int_equal(walk_new(65535), ENTRIES);
    /* the last record: data set 5000 holding the list, which names 5001 */
    o = &out[n_out - 1];
    assert_int_equal(ixd_get16(o->buf + o->len - 10), 5000);
    assert_int_equal(ixd_get16(o->buf + o->len - 8), 10);
    assert_memory_equal(o->buf + o->len - 6, list_rec, sizeof(list_rec));
    assert_int_equal(tdefs[5001].n, 1);
    assert_int_equal(tdefs[5001].id[0], 7);
    assert_int_equal(tdefs[5000].id[0], 292);
    for (k = 0; k + 1 < ENTRIES; k++) {
        ixd_template_free(many[k]);
        many[k] = NULL;
    }
    ixd_template_free(named_by_list);
    ixd_template_free(lt);
}

int
main(void)
{
#define T(name, setup) cmocka_unit_test_setup_teardown(test_##name, setup, teardown_export)
    const struct CMUnitTest tests[] = {
        T(one_message_byte_by_byte, setup_udp1400),
        T(sequence_numbers_per_domain, setup_udp1400),
        T(mtu_splits_whole_records, setup_udp1400),
        T(template_ids_per_domain, setup_udp1400),
        T(refused_message, setup_udp1400),
        T(original_exporter_v4, setup_udp1400),
        T(original_exporter_v6, setup_udp1400_v6),
        T(delta_times_shifted, setup_udp1400),
        T(encode_plan, setup_udp1400),
        T(uptimes_become_milliseconds, setup_udp1400),
        T(list_reference_rewritten, setup_udp1400),
        T(evicted_template_withdrawn_tcp, setup_udp1400),
        T(evicted_template_udp_and_files, setup_udp1400),
        T(evicted_domain, setup_udp1400),
        T(oversized_record_dropped, setup_udp1400),
        T(full_table_keeps_the_record_being_written, setup_udp1400),
    };
#undef T
    return cmocka_run_group_tests(tests, export_group_setup, export_group_teardown);
}
