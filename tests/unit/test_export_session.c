/* Unit tests of src/output/export_session.c: the IPFIX export session as an exporter. Records
 * decoded from real messages (or built on real templates) are written into a session; every
 * message it emits is checked byte by byte where it matters (header, set lengths, sequence
 * numbers, the MTU, whole records, withdrawals) and decoded again by ipfixd's own decoder to
 * compare values (export_fixture.h). What happens to a record's fields is test_export_encode.c. */
#include "export_fixture.h"

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

/* Records that leave as they came go into a message a run at a time: a run ends where the
 * batch's records stop following each other in memory (a filter took some out), where the
 * template changes, and where the message is full. Every record arrives, in order. */
static void
test_runs_of_records(void **state)
{
    uint32_t mtu;
    size_t s, i, k;

    for (mtu = 60; mtu <= 300; mtu += 7) {
        size_t first = n_out, want = 0;

        ixd_xsession_release(&xs);
        assert_int_equal(ixd_xsession_init(&xs, "x", mtu, IXD_XWITHDRAW_NONE, emit, NULL), 0);
        ib_msg_begin(&in_m, SOURCE_TIME, 0, 3);
        set_template_256(&in_m);
        s = ib_set_begin(&in_m, IXD_SET_TEMPLATE);
        ib_template(&in_m, 257, 1);
        ib_field(&in_m, 7, 2); /* sourceTransportPort */
        ib_set_end(&in_m, s);
        set_data_256(&in_m, 10, 0);
        s = ib_set_begin(&in_m, 257);
        for (i = 0; i < 6; i++) {
            ib_u16(&in_m, (uint16_t)(5000 + i));
        }
        ib_set_end(&in_m, s);
        set_data_256(&in_m, 10, 10);
        ib_msg_end(&in_m);
        drop_every = 4; /* the 4th, 8th, ... of the batch's 26 records are filtered out */
        feed();
        drop_every = 0;
        ixd_xsession_finish(&xs);
        assert_int_equal(dropped, 0);
        memset(tdefs, 0, 65536 * sizeof(*tdefs));
        seq_restart();
        n_walked = first;
        memset(cap, 0, sizeof(*cap));
        collect(first);
        for (k = 0, i = 0; i < 26; i++) {
            if (i % 4 == 3) {
                continue;
            }
            want++;
            if (i < 10 || i >= 16) {
                unsigned base = i < 10 ? (unsigned)i : (unsigned)i - 6;
                assert_int_equal(cap->r[k].tid, 256);
                assert_int_equal(cap_uint(k, 2), 1000u * base);
            } else {
                assert_int_equal(cap->r[k].tid, 257);
                assert_int_equal(cap_uint(k, 0), 5000 + (i - 10));
            }
            k++;
        }
        assert_int_equal(cap->n, want);
        assert_int_equal(walk_new(mtu), want);
        for (k = first; k < n_out; k++) {
            free(out[k].buf);
        }
        n_out = n_walked = first;
    }
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

#define ENTRIES 4096 /* export templates per domain (export_session.c) */
#define DOMAINS 1024 /* domains per session (export_session.c) */

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

/* The bucket of an export template's key in its domain (export_session.c): of entries used
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
        T(runs_of_records, setup_udp1400),
        T(template_ids_per_domain, setup_udp1400),
        T(refused_message, setup_udp1400),
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
