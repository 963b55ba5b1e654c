"""RFC 7011 section 3.1 (message header) and 3.3 (sets): framing on UDP and TCP.

A malformed UDP message is dropped whole and counted once; the exporter's next message decodes.
On TCP a bad header means the framing is lost: the connection is closed and counted.
"""
import struct

import ipfix
from conf import (PROBE, Ixd, finish, mark, msg, plus, shared, small_set, tcp, tmpl, tmpl_set,
                  udp, wait_closed, main)

IXD = shared(lambda: Ixd(workers=2))
TID = 300


def template_and_data(k, tid=TID):
    return [tmpl_set(tmpl(tid, ipfix.SMALL_FIELDS)), small_set(tid, [k])]


def udp_case(datagrams, **expect):
    """Sends each datagram from one socket, then a probe from it; checks the counters."""
    x = IXD()
    s = udp()
    before = x.stats()
    for dg in datagrams:
        s.sendto(dg, ("127.0.0.1", x.port))
    x.probe(s)
    x.expect(before, "u", **plus(PROBE, expect))
    s.close()
    return x


def test_3_1_version_not_10():
    """RFC 7011 3.1: Version Number must be 10. Versions 0, 8 (NetFlow v8), 11 and 0xffff are
    refused and counted (9 and 5 are NetFlow v9/v5, which ipfixd reads on the same socket)."""
    ks = [mark() for _ in range(4)]
    bad = []
    for k, v in zip(ks, (0, 8, 11, 0xffff)):
        m = bytearray(msg(*template_and_data(k)))
        m[0:2] = struct.pack(">H", v)
        bad.append(bytes(m))
    x = udp_case(bad, messages=4, version=4)
    for k in ks:
        x.assert_none(k)


def test_3_1_message_length_below_16():
    """RFC 7011 3.1: Length counts the 16-byte header, so a length < 16 is invalid; a
    datagram shorter than the header (0, 2, 15 bytes) is no message either."""
    hdr15 = struct.pack(">HHIII", 10, 15, 0, 0, 1)
    udp_case([hdr15, b"", b"\x00\x0a", hdr15[:15]], messages=4, message_length=4)


def test_3_1_message_length_past_datagram():
    """RFC 7011 3.1: a Length larger than the bytes received (a cut datagram)."""
    k = mark()
    m = bytearray(msg(*template_and_data(k)))
    m[2:4] = struct.pack(">H", len(m) + 100)
    x = udp_case([bytes(m), bytes(m[:40])], messages=2, message_length=2)
    x.assert_none(k)


def test_3_1_message_length_short_of_datagram():
    """RFC 7011 3.1 / 10.3.2: one message per datagram, so a Length smaller than the datagram
    (trailing bytes, or a second message in the same datagram) is invalid."""
    k1, k2 = mark(), mark()
    m1 = msg(*template_and_data(k1))
    m2 = msg(*template_and_data(k2))
    x = udp_case([m1 + b"\0\0\0\0", m1 + m2], messages=2, message_length=2)
    x.assert_none(k1)
    x.assert_none(k2)


def test_3_1_header_only_message():
    """RFC 7011 3.1/3.3: a message may hold no set at all (16 bytes): valid, no records."""
    udp_case([msg(), msg(seq=0, odid=7)], messages=2)


def test_3_3_2_set_length_below_4():
    """RFC 7011 3.3.2: Set Length includes the 4-byte set header; 0 (which would loop
    forever) and 2 are invalid. The message cannot be walked: dropped whole, counted once."""
    k = mark()
    good = template_and_data(k)
    zero = msg(good[0], struct.pack(">HH", TID, 0) + b"\0" * 8)
    two = msg(struct.pack(">HH", 2, 2), *good)
    x = udp_case([zero, two], messages=2, set_length=2)
    x.assert_none(k)


def test_3_3_2_set_past_message_end():
    """RFC 7011 3.3.2: a set whose Length runs past the end of the message."""
    k = mark()
    sets = template_and_data(k)
    bad = bytearray(sets[1])
    bad[2:4] = struct.pack(">H", len(bad) + 1)
    x = udp_case([msg(sets[0], bytes(bad)), msg(struct.pack(">HH", 2, 400) + b"\0" * 20)],
                 messages=2, set_length=2)
    x.assert_none(k)


def test_3_3_2_set_length_4_empty_set():
    """RFC 7011 3.3.2: a set of just its header (length 4) is empty, not an error; the
    template set of the same message is still read."""
    k = mark()
    sets = template_and_data(k)
    udp_case([msg(ipfix.set_(2, b""), sets[0], ipfix.set_(TID, b""), sets[1])],
             messages=1, templates=1, records=1)
    assert len(IXD().marked(k)) == 1


def test_3_3_2_set_id_0_1_and_4_to_255():
    """RFC 7011 3.3.2: Set IDs 0 and 1 (NetFlow v9's) and 4-255 are reserved: each such set is
    skipped and counted; the valid sets around them in the same message still decode."""
    k = mark()
    sets = template_and_data(k)
    junk = [ipfix.set_(i, b"\x01" * 12) for i in (0, 1, 4, 100, 255)]
    x = udp_case([msg(junk[0], junk[1], sets[0], junk[2], junk[3], sets[1], junk[4])],
                 messages=1, templates=1, records=1, set_id=5)
    assert len(x.marked(k)) == 1


def test_3_3_1_padding_shorter_than_a_record():
    """RFC 7011 3.3.1: padding (zero bytes shorter than the smallest record) at the end of a
    data set or a template set is ignored, not decoded and not an error."""
    ks = [mark() for _ in range(3)]
    t = ipfix.set_(2, tmpl(TID + 1, ipfix.SMALL_FIELDS) + b"\0\0")  # < 4 bytes after records
    recs = b"".join(ipfix.small_record(k) for k in ks)
    data = ipfix.set_(TID + 1, recs + b"\0" * 20)                  # record length is 21
    x = udp_case([msg(t, data)], messages=1, templates=1, records=3)
    for k in ks:
        assert len(x.marked(k)) == 1


def test_10_4_tcp_version_not_10_closes_connection():
    """RFC 7011 10.4.1/3.1: on TCP a bad version means the message framing is lost: ipfixd
    closes the connection (counted as tcp_framing) after decoding what came before."""
    x = IXD()
    k1, k2 = mark(), mark()
    before = x.stats()
    s = tcp(x.port)
    bad = bytearray(msg(*template_and_data(k2)))
    bad[0:2] = b"\x00\x05"
    s.sendall(msg(*template_and_data(k1)) + bytes(bad))
    assert wait_closed(s), "ipfixd kept a connection whose stream is not IPFIX"
    s.close()
    x.wait_records(lambda r: r.get("octetDeltaCount") == k1)
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, messages=1, templates=1, records=1,
                                 tcp_framing=1))
    x.assert_none(k2)


def test_10_4_tcp_length_below_16_closes_connection():
    """RFC 7011 10.4.1/3.1: on TCP a Length < 16 cannot delimit a message: closed, counted."""
    x = IXD()
    k = mark()
    before = x.stats()
    s = tcp(x.port)
    s.sendall(msg(*template_and_data(k)) + struct.pack(">HHIII", 10, 8, 0, 0, 1) + b"\0" * 64)
    assert wait_closed(s), "ipfixd kept a connection with a message length of 8"
    s.close()
    x.wait_records(lambda r: r.get("octetDeltaCount") == k)
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, messages=1, templates=1, records=1,
                                 tcp_framing=1))


def test_10_4_tcp_bad_set_length_keeps_connection():
    """RFC 7011 3.3.2 on TCP: a message with a bad set length is still delimited by its header:
    that message is dropped and counted, the connection and its templates stay."""
    x = IXD()
    k1, k2 = mark(), mark()
    before = x.stats()
    s = tcp(x.port)
    s.sendall(msg(*template_and_data(k1)))
    s.sendall(msg(struct.pack(">HH", TID, 0) + b"\0" * 12))
    s.sendall(msg(small_set(TID, [k2]), seq=1))   # the template of the first message still holds
    x.wait_records(lambda r: r.get("octetDeltaCount") == k2)
    x.probe(s, collector="t")
    finish(s)
    x.expect(before, "t", **plus(PROBE, messages=3, templates=1, records=2,
                                 set_length=1))


if __name__ == "__main__":
    main([test_3_1_version_not_10, test_3_1_message_length_below_16,
          test_3_1_message_length_past_datagram, test_3_1_message_length_short_of_datagram,
          test_3_1_header_only_message, test_3_3_2_set_length_below_4,
          test_3_3_2_set_past_message_end, test_3_3_2_set_length_4_empty_set,
          test_3_3_2_set_id_0_1_and_4_to_255, test_3_3_1_padding_shorter_than_a_record,
          test_10_4_tcp_version_not_10_closes_connection,
          test_10_4_tcp_length_below_16_closes_connection,
          test_10_4_tcp_bad_set_length_keeps_connection])
