"""RFC 7011 section 3.4 (templates, options templates) and section 8 (template management):
IDs, field specifiers, scope counts, refresh, replacement, withdrawal on TCP and UDP, data that
comes before its template, and the configured template limits.
"""
import struct

import ipfix
from conf import (PROBE, Exporter, Ixd, mark, opt_set, plus, shared, small_set, tmpl,
                  tmpl_set, main)

IXD = shared(lambda: Ixd(workers=2,
                         limits={"templates-per-session": 8, "fields-per-template": 16,
                                 "bytes-per-template": 1000, "held-sets-per-session": 4,
                                 "held-bytes-per-session": 400},
                         extra=[("n", "udp", {"hold-unknown": "false"})]))
SMALL = ipfix.SMALL_FIELDS


def rec_of(x, k, n=1, **kw):
    return x.wait_records(lambda r: r.get("octetDeltaCount") == k, n=n, **kw)


def one_small(x, k, tid, late=False):
    from conf import check_small
    r = rec_of(x, k)[0]
    check_small(r, k, tid=tid, late=late)
    return r


def test_3_4_1_template_id_below_256():
    """RFC 7011 3.4.1: Template IDs 0-255 are reserved (0, 2 and 255 here): each record is
    refused and counted; the valid template after them in the same set is still read."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(0, SMALL), tmpl(255, SMALL), tmpl(2, SMALL), tmpl(301, SMALL)))
    e.send(small_set(301, [k]), records=1)
    one_small(x, k, 301)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=1,
                                 template_id=3))


def test_3_4_1_field_count_larger_than_the_set():
    """RFC 7011 3.4.1: a Field Count of 65535 with two specifiers present: refused before any
    allocation, counted once; the session keeps working."""
    x = IXD()
    e = Exporter(x)
    before = x.stats()
    e.send(tmpl_set(struct.pack(">HH", 302, 65535) + ipfix.field(8, 4) + ipfix.field(12, 4)))
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=1, template_length=1))


def test_3_4_1_enterprise_number_cut_off():
    """RFC 7011 3.4.1: a specifier with the enterprise bit set needs 4 more bytes for the
    PEN; cut off at the set end, the template is refused. Its data is not decoded with a
    guessed layout (TCP: held, then dropped with the connection)."""
    x = IXD()
    e = Exporter(x, "t")
    k = mark()
    before = x.stats()
    e.send(tmpl_set(struct.pack(">HH", 303, 2) + ipfix.field(1, 8) +
                    struct.pack(">HH", 0x8000 | 100, 4)))
    e.send(tmpl_set(struct.pack(">HHHH", 304, 1, 0x8000 | 12, 4) + b"\0\0"))
    e.send(ipfix.set_(303, struct.pack(">QI", k, 7)), records=1)
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=3, template_length=2, held_sets=1,
                                 held_dropped=1, no_template=1))
    x.assert_none(k)


def test_3_4_2_options_scope_count_zero_or_above_field_count():
    """RFC 7011 3.4.2.2: Scope Field Count must be 1..Field Count. Scope 0 and scope 3 of 1
    field are refused and counted; the valid options template after them is read and its
    records are options records."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    fields = [(149, 4), (1, 8)]  # observationDomainId (scope), octetDeltaCount
    before = x.stats()
    e.send(opt_set(ipfix.options_template_record(305, 0, fields),
                   ipfix.options_template_record(306, 3, fields[:1]),
                   ipfix.options_template_record(307, 1, fields)))
    e.send(ipfix.set_(307, struct.pack(">IQ", 77, k)), records=1)
    r = rec_of(x, k)[0]
    assert r.get("observationDomainId") == 77 and r.get("@template") == 307, r
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=1,
                                 options_records=1, template_scope=2))


def test_3_4_1_record_of_total_length_zero():
    """RFC 7011 3.4.1/8: a template whose every field has length 0 describes records of length
    0 (a decoder would loop forever): refused, counted as template_empty."""
    x = IXD()
    e = Exporter(x, "t")
    before = x.stats()
    e.send(tmpl_set(tmpl(308, [(8, 0), (12, 0)]), tmpl(309, [(1, 0)])))
    e.send(ipfix.set_(308, b"\0" * 16))
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=2, template_empty=2, held_sets=1,
                                 held_dropped=1, no_template=1))


def test_8_same_template_again_is_a_refresh():
    """RFC 7011 8.1/8.4: an exporter sends the same template again (UDP refresh): no churn, not
    counted as replaced; the data keeps decoding."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    for _ in range(3):
        e.send(tmpl_set(tmpl(310, SMALL)))
    e.send(small_set(310, [k]), records=1)
    one_small(x, k, 310)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=4, templates=3, records=1,
                                 templates_replaced=0))


def replaced_case(collector):
    x = IXD()
    e = Exporter(x, collector)
    k1, k2 = mark(), mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(311, SMALL)), small_set(311, [k1]), records=1)
    e.send(tmpl_set(tmpl(311, [(1, 8), (4, 1)])),
           ipfix.set_(311, struct.pack(">QB", k2, 17)), records=1)
    one_small(x, k1, 311)
    r = rec_of(x, k2)[0]
    assert r.get("protocolIdentifier") == 17 and "sourceIPv4Address" not in r, r
    e.probe()
    e.finish()
    x.expect(before, collector, **plus(PROBE, messages=2, templates=2, records=2,
                                       templates_replaced=1))


def test_8_different_template_same_id_udp():
    """RFC 7011 8.4: on UDP a template ID may be reused with a different layout: the new
    layout decodes the data that follows; counted as templates_replaced."""
    replaced_case("u")


def test_8_different_template_same_id_tcp():
    """RFC 7011 8.1: on TCP redefining a template without withdrawing it is an error; ipfixd
    (docs/internals/templates.md) replaces it and counts it, keeping the connection."""
    replaced_case("t")


def test_8_1_withdrawal_of_one_template_tcp():
    """RFC 7011 8.1: on TCP a template record with Field Count 0 withdraws that template: its
    later data is an exporter error, not decoded and not held (a later definition of the ID
    must not decode it); others still decode."""
    x = IXD()
    e = Exporter(x, "t")
    k1, k2, k3, k4 = mark(), mark(), mark(), mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(312, SMALL), tmpl(313, SMALL)), small_set(312, [k1]),
           small_set(313, [k2]), records=2)
    e.send(tmpl_set(struct.pack(">HH", 312, 0)))
    e.send(small_set(312, [k3]), small_set(313, [k4]), records=2)
    one_small(x, k1, 312)
    one_small(x, k2, 313)
    one_small(x, k4, 313)
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=3, templates=2, records=3,
                                 no_template=1, templates_withdrawn=1))
    x.assert_none(k3)


def test_8_1_withdraw_all_with_ids_2_and_3_tcp():
    """RFC 7011 8.1: Template ID 2 with Field Count 0 (in a template set) withdraws every
    template of the domain, ID 3 (in an options template set) every options template."""
    x = IXD()
    e = Exporter(x, "t")
    ks = [mark() for _ in range(6)]
    opt_fields = [(149, 4), (1, 8)]
    before = x.stats()
    e.send(tmpl_set(tmpl(314, SMALL), tmpl(315, SMALL)),
           opt_set(ipfix.options_template_record(316, 1, opt_fields)))
    e.send(tmpl_set(struct.pack(">HH", 2, 0)))
    e.send(small_set(314, [ks[0]]), small_set(315, [ks[1]]),
           ipfix.set_(316, struct.pack(">IQ", 1, ks[2])), records=3)
    rec_of(x, ks[2])
    e.send(opt_set(struct.pack(">HH", 3, 0)))
    e.send(ipfix.set_(316, struct.pack(">IQ", 1, ks[3])), records=1)
    e.send(tmpl_set(tmpl(323, SMALL)), small_set(323, [ks[4]]), records=1)
    one_small(x, ks[4], 323)
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=6, templates=4, records=2,
                                 options_records=1, no_template=3, templates_withdrawn=3))
    for k in ks[:2] + ks[3:4]:
        x.assert_none(k)


def test_8_4_withdrawal_on_udp_is_ignored():
    """RFC 7011 8.4: template withdrawal messages MUST NOT be sent on UDP and a collector
    ignores them: the template keeps decoding, nothing is counted as withdrawn."""
    x = IXD()
    e = Exporter(x)
    k1, k2 = mark(), mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(317, SMALL)), small_set(317, [k1]), records=1)
    e.send(tmpl_set(struct.pack(">HH", 317, 0)))
    e.send(tmpl_set(struct.pack(">HH", 2, 0)))
    e.send(small_set(317, [k2]), records=1)
    one_small(x, k1, 317)
    one_small(x, k2, 317)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=4, templates=1, records=2,
                                 templates_withdrawn=0))


def test_8_1_withdrawal_of_an_unknown_template_id():
    """RFC 7011 8.1: withdrawing an ID that was never defined is harmless (nothing withdrawn);
    withdrawing a reserved ID (100) is a template_id error. The connection stays."""
    x = IXD()
    e = Exporter(x, "t")
    before = x.stats()
    e.send(tmpl_set(struct.pack(">HH", 999, 0), struct.pack(">HH", 100, 0)))
    e.send(opt_set(struct.pack(">HH", 998, 0)))
    e.probe()
    e.finish()
    x.expect(before, "t", **plus(PROBE, messages=2, template_id=1,
                                 templates_withdrawn=0))


def test_8_template_and_data_in_one_message():
    """RFC 7011 8: a template and its data in the same message (template set first)."""
    x = IXD()
    e = Exporter(x)
    ks = [mark() for _ in range(3)]
    before = x.stats()
    e.send(tmpl_set(tmpl(318, SMALL)), small_set(318, ks), records=3)
    for k in ks:
        one_small(x, k, 318)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=1, templates=1, records=3))


def test_8_data_set_before_its_template_in_one_message():
    """RFC 7011 8: a data set may precede its template set within a message: held, then
    decoded when the template set is read, marked "@late"."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(small_set(319, [k]), tmpl_set(tmpl(319, SMALL)), records=1)
    one_small(x, k, 319, late=True)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=1, templates=1, records=1,
                                 held_sets=1, late_records=1))


def data_before_template_case(collector):
    x = IXD()
    e = Exporter(x, collector)
    ks = [mark() for _ in range(3)]
    before = x.stats()
    e.send(small_set(320, ks[:2]), records=2)
    e.send(small_set(320, ks[2:]), records=1)
    e.send(tmpl_set(tmpl(320, SMALL)))
    for k in ks:
        one_small(x, k, 320, late=True)
    e.probe()
    e.finish()
    x.expect(before, collector, **plus(PROBE, messages=3, templates=1, records=3,
                                       held_sets=2, late_records=3))


def test_8_data_before_template_udp_held_and_decoded_late():
    """RFC 7011 8 (UDP): data sets that arrive before their template are held (hold-unknown,
    bounded) and decoded when the template arrives, marked "@late": true."""
    data_before_template_case("u")


def test_8_data_before_template_tcp_held_and_decoded_late():
    """RFC 7011 8 (TCP): the same on a connection."""
    data_before_template_case("t")


def test_8_data_before_template_hold_unknown_false():
    """RFC 7011 8 with hold-unknown: false: a data set without its template is counted at once
    as no_template and is not decoded when the template comes later."""
    x = IXD()
    e = Exporter(x, "n")
    k1, k2 = mark(), mark()
    before = x.stats()
    e.send(small_set(321, [k1]), records=1)
    e.send(tmpl_set(tmpl(321, SMALL)))
    e.send(small_set(321, [k2]), records=1)
    one_small(x, k2, 321)
    e.probe()
    x.expect(before, "n", **plus(PROBE, messages=3, templates=1, records=1,
                                 no_template=1))
    x.assert_none(k1)


def test_8_held_data_sets_are_bounded():
    """RFC 7011 8 / reliability.md: held sets are bounded (held-sets-per-session: 4): the 5th
    unknown data set is dropped at once (held_dropped and no_template), the 4 held decode."""
    x = IXD()
    e = Exporter(x)
    ks = [mark() for _ in range(5)]
    before = x.stats()
    for k in ks:
        e.send(small_set(322, [k]), records=1)
    e.send(tmpl_set(tmpl(322, SMALL)))
    for k in ks[:4]:
        one_small(x, k, 322, late=True)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=6, templates=1, records=4,
                                 held_sets=4, late_records=4, held_dropped=1,
                                 no_template=1))
    x.assert_none(ks[4])


def test_8_held_bytes_are_bounded():
    """RFC 7011 8 / reliability.md: held data is bounded in bytes (held-bytes-per-session:
    400): a 300-byte set is held, a following 200-byte set does not fit and is dropped at once;
    the held one decodes late when the template comes."""
    x = IXD()
    e = Exporter(x)
    big = [mark() for _ in range(14)]      # 14 x 21 = 294 bytes
    more = [mark() for _ in range(9)]      # 189 bytes
    before = x.stats()
    e.send(small_set(324, big), records=14)
    e.send(small_set(324, more), records=9)
    e.send(tmpl_set(tmpl(324, SMALL)))
    for k in big:
        one_small(x, k, 324, late=True)
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=3, templates=1, records=14, held_sets=1,
                                 late_records=14, held_dropped=1, no_template=1))
    for k in more:
        x.assert_none(k)


def test_limits_templates_per_session():
    """RFC 7011 8 and 11 (resource limit templates-per-session: 8): the 9th template of a
    session is refused and counted as template_limit; the first 8 keep decoding."""
    x = IXD()
    e = Exporter(x, "t")
    k1, k9 = mark(), mark()
    before = x.stats()
    e.send(tmpl_set(*[tmpl(330 + i, SMALL) for i in range(8)]))
    e.send(tmpl_set(tmpl(340, SMALL)))
    e.send(small_set(340, [k9]), small_set(337, [k1]), records=2)
    one_small(x, k1, 337)
    e.finish()
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, messages=3, templates=8, records=1,
                                 template_limit=1, held_sets=1, held_dropped=1,
                                 no_template=1))
    x.assert_none(k9)


def test_limits_fields_per_template():
    """RFC 7011 3.4.1 and 11 (resource limit fields-per-template: 16): a template of 17 fields
    is refused (template_limit); one of 16 fields is fine."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(341, [(1, 8)] + [(210, 1)] * 16), tmpl(342, [(1, 8)] + [(210, 1)] * 15)))
    e.send(ipfix.set_(342, struct.pack(">Q", k) + b"\0" * 15), records=1)
    r = rec_of(x, k)[0]
    assert r.get("@template") == 342, r
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=1,
                                 template_limit=1))


def test_limits_bytes_per_template():
    """RFC 7011 3.4.1 and 11 (resource limit bytes-per-template: 1000): a template whose
    records are 1001 bytes long is refused (template_limit); one of exactly 1000 bytes
    decodes."""
    x = IXD()
    e = Exporter(x)
    k = mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(343, [(1, 8), (32001, 993)]), tmpl(344, [(1, 8), (32001, 992)])))
    e.send(ipfix.set_(344, struct.pack(">Q", k) + b"\xab" * 992), records=1)
    r = rec_of(x, k)[0]
    assert r.get("@template") == 344 and r.get("id32001") == "ab" * 992, r["@template"]
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=2, templates=1, records=1,
                                 template_limit=1))


def test_8_template_redefined_within_one_message():
    """RFC 7011 8.4 (UDP): a message that defines template 350, carries its data, redefines 350
    with another layout and carries data again: each data set decodes with the definition
    in force at its place in the message (and nothing refers to the freed first layout)."""
    x = IXD()
    e = Exporter(x)
    k1, k2 = mark(), mark()
    before = x.stats()
    e.send(tmpl_set(tmpl(350, SMALL)), small_set(350, [k1]),
           tmpl_set(tmpl(350, [(4, 1), (1, 8)])), ipfix.set_(350, struct.pack(">BQ", 17, k2)),
           records=2)
    one_small(x, k1, 350)
    r = rec_of(x, k2)[0]
    assert r.get("protocolIdentifier") == 17 and "sourceIPv4Address" not in r, r
    e.probe()
    x.expect(before, "u", **plus(PROBE, messages=1, templates=2, records=2,
                                 templates_replaced=1))


if __name__ == "__main__":
    main([test_3_4_1_template_id_below_256, test_3_4_1_field_count_larger_than_the_set,
          test_3_4_1_enterprise_number_cut_off,
          test_3_4_2_options_scope_count_zero_or_above_field_count,
          test_3_4_1_record_of_total_length_zero, test_8_same_template_again_is_a_refresh,
          test_8_different_template_same_id_udp, test_8_different_template_same_id_tcp,
          test_8_1_withdrawal_of_one_template_tcp, test_8_1_withdraw_all_with_ids_2_and_3_tcp,
          test_8_4_withdrawal_on_udp_is_ignored, test_8_1_withdrawal_of_an_unknown_template_id,
          test_8_template_and_data_in_one_message,
          test_8_data_set_before_its_template_in_one_message,
          test_8_data_before_template_udp_held_and_decoded_late,
          test_8_data_before_template_tcp_held_and_decoded_late,
          test_8_data_before_template_hold_unknown_false, test_8_held_data_sets_are_bounded,
          test_8_held_bytes_are_bounded,
          test_limits_templates_per_session, test_limits_fields_per_template,
          test_limits_bytes_per_template, test_8_template_redefined_within_one_message])
