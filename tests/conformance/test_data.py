"""RFC 7011 section 6 (data types, reduced-size encoding), section 7 (variable-length fields)
and RFC 6313 (structured data: basicList, subTemplateList, subTemplateMultiList).

Each case defines its template and data on its own exporter, checks the exact JSON values and
the exact counters, then probes the same exporter.
"""
import json
import struct

import ipfix
from conf import PROBE, Exporter, Ixd, mark, plus, shared, tmpl, tmpl_set, main

IXD = shared(lambda: Ixd(workers=2))
VARLEN = 65535


def case(fields, records, n_dec=None, tid=400, collector="u", values=None, pre=(), **expect):
    """Sends template `fields` (octetDeltaCount first, as the marker) and the record bodies
    (each given without the marker), checks counters; returns the decoded records in order.
    pre: template records sent before it (what structured data refers to)."""
    x = IXD()
    e = Exporter(x, collector)
    ks = [mark() for _ in records]
    body = b"".join(struct.pack(">Q", k) + r for k, r in zip(ks, records))
    n = len(records) if n_dec is None else n_dec
    before = x.stats()
    e.send(tmpl_set(*pre, tmpl(tid, [(1, 8)] + fields)), ipfix.set_(tid, body),
           records=len(records))
    want = set(ks[:n])
    got = x.wait_records(lambda r: r.get("octetDeltaCount") in want, n=n)
    by_mark = {r["octetDeltaCount"]: r for r in got}
    assert len(by_mark) == n, "a record came out twice"
    out = [by_mark[k] for k in ks[:n]]
    for r in out:
        assert r.get("@template") == tid, r
    if values is not None:
        values(out)  # the decoded values first: they say more than a counter when both fail
    e.probe()
    e.finish()
    x.expect(before, collector, **plus(PROBE, messages=1, templates=1 + len(pre), records=n,
                                       **expect))
    for k in ks[n:]:
        x.assert_none(k)
    return out


def test_6_2_reduced_size_unsigned_1_to_7_bytes():
    """RFC 7011 6.2: unsigned64 elements sent in 1..7 bytes (and an unsigned32 in 3) are
    valid and decode to their value."""
    ies = [2, 85, 86, 23, 24, 218, 219]  # unsigned64 elements
    names = ["packetDeltaCount", "octetTotalCount", "packetTotalCount", "postOctetDeltaCount",
             "postPacketDeltaCount", "tcpSynTotalCount", "tcpFinTotalCount"]
    fields = [(ie, n + 1) for n, ie in enumerate(ies)] + [(10, 3)]
    values = [int.from_bytes(bytes(range(0xf0, 0xf0 + n + 1)), "big") for n in range(7)]
    rec = b"".join(v.to_bytes(n + 1, "big") for n, v in enumerate(values)) + b"\x01\x02\x03"
    r = case(fields, [rec])[0]
    for name, v in zip(names, values):
        assert r.get(name) == v, (name, r.get(name), v, r)
    assert r.get("ingressInterface") == 0x010203, r


def test_6_2_float64_sent_as_float32():
    """RFC 7011 6.2: a float64 element may be sent as 4 bytes (float32): samplingProbability
    in 4 bytes and absoluteError in 8 both decode to their value."""
    rec = struct.pack(">fd", 0.25, -1.5)
    r = case([(311, 4), (320, 8)], [rec])[0]
    assert r.get("samplingProbability") == 0.25 and r.get("absoluteError") == -1.5, r


def test_6_2_float64_of_another_length_is_hex():
    """RFC 7011 6.2: a float64 in 2 bytes is no legal encoding: kept as hex, field_length."""
    r = case([(321, 2)], [b"\x3c\x00"], field_length=1)[0]
    assert r.get("relativeError") == "3c00", r


def test_6_2_addresses_and_timestamps_of_other_lengths_are_hex():
    """RFC 7011 6.2: reduced-size encoding is for integers and float64 only: an IPv4 address
    of 8, an IPv6 address of 4, a MAC of 8, dateTimeMilliseconds of 4 are kept as hex and
    counted (field_length, once per template)."""
    r = case([(8, 8), (27, 4), (56, 8), (152, 4)],
             [b"\x0a\0\0\x01\x0a\0\0\x02" + b"\x20\x01\x0d\xb8" + b"\x11" * 8 +
              b"\x65\x5a\x2b\x00"],
             field_length=1)[0]
    assert r.get("sourceIPv4Address") == "0a0000010a000002", r
    assert r.get("sourceIPv6Address") == "20010db8", r
    assert r.get("sourceMacAddress") == "1111111111111111", r
    assert r.get("flowStartMilliseconds") == "655a2b00", r


def test_6_2_unsigned64_of_9_bytes_is_hex():
    """RFC 7011 6.2: no integer type is longer than 8 bytes: 9 bytes are kept as hex."""
    r = case([(2, 9)], [b"\x01" * 9], field_length=1)[0]
    assert r.get("packetDeltaCount") == "010101010101010101", r


def test_6_2_unsigned8_and_unsigned32_longer_than_their_type_are_numbers():
    """RFC 7011 6.2: reduced-size encoding only shortens a type: ipClassOfService (unsigned8)
    in 2 bytes and ingressInterface (unsigned32) in 8 bytes are illegal lengths, counted as
    field_length; still integers, they are decoded as numbers (docs/json-output.md)."""
    def values(rs):
        got = (rs[0].get("ipClassOfService"), rs[0].get("ingressInterface"))
        assert got == (0x0102, 0x100000002), \
            "ipClassOfService, ingressInterface are %r, expected (258, 4294967298)" % (got,)
    case([(5, 2), (10, 8)], [b"\x01\x02" + b"\x00\x00\x00\x01\x00\x00\x00\x02"],
         values=values, field_length=1)


def test_3_4_1_single_zero_length_field_is_absent():
    """RFC 7011 3.4.1 / NetFlow v9 practice: a field declared with length 0 among others is
    legal; it is absent from the JSON object while the other fields decode."""
    r = case([(8, 4), (12, 0), (4, 1)], [b"\x0a\x00\x00\x07\x11"])[0]
    assert r.get("sourceIPv4Address") == "10.0.0.7" and r.get("protocolIdentifier") == 17, r
    assert "destinationIPv4Address" not in r, r


def test_7_varlen_prefix_0_to_254():
    """RFC 7011 7: a one-byte length prefix of 0..254; 0 is an empty value ("" for a
    string)."""
    texts = [b"", b"a", b"x" * 100, b"y" * 254]
    rs = case([(82, VARLEN), (4, 1)], [ipfix.varlen(t) + b"\x06" for t in texts])
    for r, t in zip(rs, texts):
        assert r.get("interfaceName") == t.decode() and r.get("protocolIdentifier") == 6, r


def test_7_varlen_prefix_255_and_two_byte_length():
    """RFC 7011 7: prefix 255 and a two-byte length (255, 300, 1000 bytes), also legal for
    short values (5 and 0 bytes in the three-byte form)."""
    texts = [b"a" * 255, b"b" * 300, b"c" * 1000]
    recs = [ipfix.varlen(t) + b"\x11" for t in texts]
    recs += [b"\xff\x00\x05hello\x11", b"\xff\x00\x00\x11"]
    rs = case([(82, VARLEN), (4, 1)], recs)
    want = [t.decode() for t in texts] + ["hello", ""]
    for r, w in zip(rs, want):
        assert r.get("interfaceName") == w and r.get("protocolIdentifier") == 17, r


def test_7_varlen_255_with_the_length_cut_off():
    """RFC 7011 7: prefix 255 at the end of the set with its two-byte length cut off: the
    record is malformed (record_length); the record before it in the set decodes."""
    case([(82, VARLEN)], [ipfix.varlen(b"ok"), b"\xff\x00"], n_dec=1, record_length=1)


def test_7_varlen_length_past_the_set_end():
    """RFC 7011 7: a length prefix of 50 with 10 bytes left in the set: record_length."""
    case([(82, VARLEN)], [ipfix.varlen(b"ok"), b"\x32" + b"z" * 10], n_dec=1, record_length=1)


def test_7_varlen_declared_65535_with_few_bytes():
    """RFC 7011 7: a declared length of 65535 (no such allocation) with 12 bytes present."""
    case([(82, VARLEN)], [ipfix.varlen(b"ok"), b"\xff\xff\xff" + b"q" * 12], n_dec=1,
         record_length=1)


def test_7_varlen_fixed_type_element_is_hex():
    """RFC 7011 7: variable length is for strings, octet arrays and lists; a variable-length
    ipv4Address cannot be decoded by type: kept as hex, counted as field_length."""
    r = case([(8, VARLEN), (82, VARLEN)], [ipfix.varlen(b"\x0a\0\0\x01") + ipfix.varlen(b"e0")],
             field_length=1)[0]
    assert r.get("sourceIPv4Address") == "0a000001" and r.get("interfaceName") == "e0", r


def list_case(ie, content, name):
    r = case([(ie, VARLEN), (4, 1)], [ipfix.varlen(content) + b"\x06"])[0]
    assert r.get(name) == content.hex(), (name, r)
    assert r.get("protocolIdentifier") == 6, r


def test_rfc6313_basic_list_with_element_length_past_the_end():
    """RFC 6313 4.5.1: a basicList whose elements' length runs past the list: the record still
    decodes (the list as hex, docs/json-output.md), nothing else breaks."""
    bl = struct.pack(">BHH", 3, 8, 4) + b"\x0a\x00\x00\x01\x0a\x00"  # 1.5 IPv4 addresses
    list_case(291, bl, "basicList")


def test_rfc6313_basic_list_with_enterprise_element_cut_off():
    """RFC 6313 4.5.1: a basicList of an enterprise element whose PEN is cut off."""
    list_case(291, struct.pack(">BHH", 3, 0x8000 | 12, 4) + b"\x00\x00", "basicList")


def test_rfc6313_sub_template_list_with_unknown_template():
    """RFC 6313 4.5.2: a subTemplateList that refers to template 999, never defined."""
    stl = struct.pack(">BH", 3, 999) + b"\x01\x02\x03\x04" * 3
    list_case(292, stl, "subTemplateList")


def test_rfc6313_sub_template_multi_list_lengths_past_the_end():
    """RFC 6313 4.5.3: a subTemplateMultiList whose inner Data Records Length runs past the
    end, followed by a header with a length below 4."""
    stml = struct.pack(">BHH", 3, 400, 200) + b"\x01" * 8 + struct.pack(">HH", 401, 1)
    list_case(293, stml, "subTemplateMultiList")


def test_rfc6313_deeply_nested_lists():
    """RFC 6313 4.5: 100 basicLists nested in each other: bounded work, the record decodes;
    four levels become JSON (docs/json-output.md), the rest stays hex."""
    levels = [b"\x00\x01"]
    for _ in range(100):
        levels.append(struct.pack(">BHH", 3, 291, 65535) + ipfix.varlen(levels[-1]))
    r = case([(291, VARLEN), (4, 1)], [ipfix.varlen(levels[-1]) + b"\x06"])[0]
    v = r.get("basicList")
    for depth in range(4):
        assert v.get("@semantic") == "allOf" and len(v.get("basicList", [])) == 1, (depth, v)
        v = v["basicList"][0]
    assert v == levels[-5].hex(), v
    assert r.get("protocolIdentifier") == 6, r


def bl(semantic, ie, elen, values, pen=0):
    head = struct.pack(">BHH", semantic, ie | (0x8000 if pen else 0), elen)
    return head + (struct.pack(">I", pen) if pen else b"") + b"".join(values)


def test_rfc6313_basic_list_of_addresses():
    """RFC 6313 4.5.1: a basicList of sourceIPv4Address, semantic allOf: an object naming the
    semantic and the element, its values typed."""
    lst = bl(3, 8, 4, [bytes([10, 0, 0, 1]), bytes([10, 0, 0, 2])])
    r = case([(291, VARLEN), (4, 1)], [ipfix.varlen(lst) + b"\x11"])[0]
    assert r.get("basicList") == {"@semantic": "allOf",
                                  "sourceIPv4Address": ["10.0.0.1", "10.0.0.2"]}, r
    assert r.get("protocolIdentifier") == 17, r


def test_rfc6313_basic_list_variable_length_and_semantics():
    """RFC 6313 4.5.1: variable-length elements (an empty one is null), an enterprise element
    no file defines (hex under its stable key), semantics undefined (255) and unassigned (7)."""
    names = bl(255, 82, VARLEN, [ipfix.varlen(b"ge-0/0/1"), ipfix.varlen(b""),
                                 ipfix.varlen(b"x" * 300)])
    vendor = bl(7, 5, 2, [b"\xab\xcd", b"\x00\x01"], pen=99999)
    empty = bl(4, 7, 2, [])
    r = case([(291, VARLEN), (291, VARLEN), (291, 5)],  # the last one fixed-length
             [ipfix.varlen(names) + ipfix.varlen(vendor) + empty])[0]
    a, b, c = r.get("basicList")
    assert a == {"@semantic": "undefined", "interfaceName": ["ge-0/0/1", None, "x" * 300]}, a
    assert b == {"@semantic": 7, "en99999:id5": ["abcd", "0001"]}, b
    assert c == {"@semantic": "ordered", "sourceTransportPort": []}, c


def test_rfc6313_sub_template_list():
    """RFC 6313 4.5.2: a subTemplateList of template 401 (ports, protocol): its records as
    objects, with the semantic and the template."""
    inner = tmpl(401, [(7, 2), (4, 1)])
    recs = struct.pack(">HB", 53, 17) + struct.pack(">HB", 443, 6)
    stl = struct.pack(">BH", 1, 401) + recs
    r = case([(292, VARLEN)], [ipfix.varlen(stl)], pre=[inner])[0]
    assert r.get("subTemplateList") == {
        "@semantic": "exactlyOneOf", "@template": 401,
        "@records": [{"sourceTransportPort": 53, "protocolIdentifier": 17},
                     {"sourceTransportPort": 443, "protocolIdentifier": 6}]}, r


def test_rfc6313_sub_template_multi_list_with_nested_basic_list():
    """RFC 6313 4.5.3: blocks of two templates, one of them variable-length and holding a
    basicList: every record carries its template; an empty block is skipped."""
    t1 = tmpl(402, [(82, VARLEN), (291, VARLEN)])
    t2 = tmpl(403, [(8, 4)])
    r1 = ipfix.varlen(b"eth0") + ipfix.varlen(bl(3, 7, 2, [b"\x00\x50", b"\x01\xbb"]))
    r2 = ipfix.varlen(b"") + ipfix.varlen(bl(3, 7, 2, []))
    b1 = struct.pack(">HH", 402, 4 + len(r1) + len(r2)) + r1 + r2
    b2 = struct.pack(">HH", 403, 4) + struct.pack(">HH", 403, 8) + bytes([192, 0, 2, 1])
    stml = struct.pack(">B", 2) + b1 + b2
    r = case([(293, VARLEN)], [ipfix.varlen(stml)], pre=[t1, t2])[0]
    ports = {"@semantic": "allOf", "sourceTransportPort": [80, 443]}
    assert r.get("subTemplateMultiList") == {
        "@semantic": "oneOrMoreOf",
        "@records": [{"@template": 402, "interfaceName": "eth0", "basicList": ports},
                     {"@template": 402, "interfaceName": "",
                      "basicList": {"@semantic": "allOf", "sourceTransportPort": []}},
                     {"@template": 403, "sourceIPv4Address": "192.0.2.1"}]}, r


def test_rfc6313_sub_template_list_of_a_trailing_partial_record():
    """RFC 6313 4.5.2: a subTemplateList holds whole records: 1.5 records of template 404
    make the list unreadable, so it is kept as hex (the record itself decodes)."""
    stl = struct.pack(">BH", 3, 404) + b"\x00\x01\x02\x03" + b"\x00\x01"
    r = case([(292, VARLEN), (4, 1)], [ipfix.varlen(stl) + b"\x06"], pre=[tmpl(404, [(8, 4)])])[0]
    assert r.get("subTemplateList") == stl.hex(), r
    assert r.get("protocolIdentifier") == 6, r


def test_6_1_6_strings_with_invalid_utf8_and_control_bytes():
    """RFC 7011 6.1.6: a string is UTF-8; invalid sequences, NUL, control bytes, quotes and
    backslashes still make a valid JSON line (U+FFFD and escapes)."""
    raw = b'a"b\\c\x00\x01\n\xff\xc3\x28\xe2\x82\xac\xf0\x9f\x98\x80z'
    r = case([(82, VARLEN)], [ipfix.varlen(raw)])[0]
    want = 'a"b\\c\x00\x01\n\ufffd\ufffd(\u20ac\U0001F600z'
    assert r.get("interfaceName") == want, (r.get("interfaceName"), want)


def test_6_1_5_boolean_values():
    """RFC 7011 6.1.5: boolean is 1 (true) or 2 (false); other bytes keep their number."""
    rs = case([(276, 1)], [b"\x01", b"\x02", b"\x00", b"\x03"])
    got = [r.get("dataRecordsReliability") for r in rs]
    assert got == [True, False, 0, 3], got


def test_6_1_7_to_6_1_10_date_time_types():
    """RFC 7011 6.1.7-6.1.10: dateTimeSeconds, -Milliseconds, -Microseconds (NTP, low 11 bits
    of the fraction ignored) and -Nanoseconds (NTP)."""
    ntp = 1700000000 + 2208988800
    rec = struct.pack(">IQII", 1700000000, 1700000000123, ntp, 0x80000000 | 0x7ff) + \
        struct.pack(">II", ntp, 0x40000000)
    r = case([(150, 4), (152, 8), (154, 8), (156, 8)], [rec])[0]
    assert r.get("flowStartSeconds") == "2023-11-14T22:13:20Z", r
    assert r.get("flowStartMilliseconds") == "2023-11-14T22:13:20.123Z", r
    assert r.get("flowStartMicroseconds") == "2023-11-14T22:13:20.500000Z", r
    assert r.get("flowStartNanoseconds") == "2023-11-14T22:13:20.250000000Z", r


def test_8_repeated_information_element():
    """RFC 7011 8 (an element may appear several times in a template): one JSON key with an
    array of the values in template order; the line stays valid JSON."""
    r = case([(12, 4), (12, 4), (82, VARLEN), (12, 4)],
             [b"\x01\x01\x01\x01\x02\x02\x02\x02" + ipfix.varlen(b"if") + b"\x03\x03\x03\x03"])[0]
    assert r.get("destinationIPv4Address") == ["1.1.1.1", "2.2.2.2", "3.3.3.3"], r
    json.dumps(r)


def test_3_2_enterprise_specific_elements():
    """RFC 7011 3.2: a field specifier with the enterprise bit carries a PEN: an element unknown
    to the information model is written as hex under "en<PEN>:id<ID>"; PEN 29305 (RFC 5103)
    is the reverse direction of the IANA element; an unknown IANA element is "id<ID>"."""
    r = case([(100, 4, 12345), (1, 8, 29305), (32000, 2)],
             [b"\xde\xad\xbe\xef" + struct.pack(">Q", 4242) + b"\x01\x02"])[0]
    assert r.get("en12345:id100") == "deadbeef", r
    assert r.get("reverseOctetDeltaCount") == 4242, r
    assert r.get("id32000") == "0102", r


def test_7_many_variable_length_records_in_one_message():
    """RFC 7011 7: 300 records of 200 variable-length fields each in one message (more than
    ipfixd decodes in one batch): every record and field comes out exactly once."""
    rec = ipfix.varlen(b"") * 199 + ipfix.varlen(b"x")
    rs = case([(82, VARLEN)] * 200, [rec] * 300)
    for r in rs:
        v = r.get("interfaceName")
        assert isinstance(v, list) and len(v) == 200 and v[-1] == "x" and v[0] == "", r


if __name__ == "__main__":
    main([test_6_2_reduced_size_unsigned_1_to_7_bytes, test_6_2_float64_sent_as_float32,
          test_6_2_float64_of_another_length_is_hex,
          test_6_2_addresses_and_timestamps_of_other_lengths_are_hex,
          test_6_2_unsigned64_of_9_bytes_is_hex,
          test_6_2_unsigned8_and_unsigned32_longer_than_their_type_are_numbers,
          test_3_4_1_single_zero_length_field_is_absent, test_7_varlen_prefix_0_to_254,
          test_7_varlen_prefix_255_and_two_byte_length, test_7_varlen_255_with_the_length_cut_off,
          test_7_varlen_length_past_the_set_end, test_7_varlen_declared_65535_with_few_bytes,
          test_7_varlen_fixed_type_element_is_hex,
          test_rfc6313_basic_list_with_element_length_past_the_end,
          test_rfc6313_basic_list_with_enterprise_element_cut_off,
          test_rfc6313_sub_template_list_with_unknown_template,
          test_rfc6313_sub_template_multi_list_lengths_past_the_end,
          test_rfc6313_deeply_nested_lists, test_rfc6313_basic_list_of_addresses,
          test_rfc6313_basic_list_variable_length_and_semantics, test_rfc6313_sub_template_list,
          test_rfc6313_sub_template_multi_list_with_nested_basic_list,
          test_rfc6313_sub_template_list_of_a_trailing_partial_record,
          test_6_1_6_strings_with_invalid_utf8_and_control_bytes,
          test_6_1_5_boolean_values, test_6_1_7_to_6_1_10_date_time_types,
          test_8_repeated_information_element, test_3_2_enterprise_specific_elements,
          test_7_many_variable_length_records_in_one_message])
