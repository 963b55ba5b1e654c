"""RFC 7011 section 10.3 (UDP) and 10.4 (TCP): sessions, exporter restarts, resets, partial
writes, maximum message sizes, and the transport limits (connections, idle timeout, allow-list,
domains per session).
"""
import socket
import struct
import time

import ipfix
from conf import (PROBE, SLOW, Exporter, Ixd, finish, mark, msg, plus, reset, shared,
                  small_set, tcp, tmpl, tmpl_set, udp, wait_closed, main)

IXD = shared(lambda: Ixd(workers=2))
# one worker: the connection limit is per worker (split evenly), and the limits below are small
LIM = shared(lambda: Ixd(workers=1, limits={"tcp-connections": 2, "domains-per-session": 2,
                                            "sessions-per-exporter": 2,
                                            "templates-per-exporter": 4},
                         t_opts={"idle-timeout": "2s"},
                         extra=[("a", "udp", {"allow": '["127.0.0.2/32"]'}),
                                ("at", "tcp", {"allow": '["127.0.0.2/32", "::1"]'}),
                                ("us", "udp", {}), ("ue", "udp", {})]))
SMALL = ipfix.SMALL_FIELDS
TID = 500


def small(e, k, with_template=True, odid=1):
    sets = [tmpl_set(tmpl(TID, SMALL))] if with_template else []
    e.send(*(sets + [small_set(TID, [k])]), records=1, odid=odid)


def test_10_4_reset_mid_message_discards_partial_and_templates():
    """RFC 7011 10.4.1/8: a connection reset in the middle of a message: the partial message
    is discarded and counted (truncated); the session's templates die with it, so the
    reconnected exporter's data is not decoded until it sends its templates again."""
    x = IXD()
    k1, k2, k3, k4 = mark(), mark(), mark(), mark()
    before = x.stats()
    e = Exporter(x, "t")
    small(e, k1)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k1)
    part = msg(small_set(TID, [k2]), seq=1)
    e.raw(part[:len(part) - 5])
    time.sleep(0.3 * SLOW)  # let ipfixd read the partial message before the reset
    reset(e.sock)
    x.wait_stats(lambda c: c["tcp_connections"] == 0, "t")
    e2 = Exporter(x, "t")
    small(e2, k3, with_template=False)     # no template on this connection: held
    small(e2, k4)                          # with it: decoded (and the held set, late)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k4)
    recs = x.wait_records(lambda r: r.get("octetDeltaCount") == k3)
    assert recs[0].get("@late") is True, recs
    e2.probe()
    e2.finish()
    x.expect(before, "t", **plus(PROBE, messages=3, templates=2, records=3,
                                 truncated=1, held_sets=1, late_records=1))
    x.assert_none(k2)


def test_10_4_reconnect_must_resend_templates():
    """RFC 7011 10.4/8: after a clean close, a new connection from the same exporter has no
    templates: its data is held, then dropped (no_template) when it closes without them."""
    x = IXD()
    k1, k2 = mark(), mark()
    before = x.stats()
    e = Exporter(x, "t")
    small(e, k1)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k1)
    e.finish()
    e2 = Exporter(x, "t")
    small(e2, k2, with_template=False)
    e2.probe()
    e2.finish()
    x.expect(before, "t", **plus(PROBE, messages=2, templates=1, records=1,
                                 held_sets=1, held_dropped=1, no_template=1))
    x.assert_none(k2)


def test_10_4_one_byte_writes():
    """RFC 7011 10.4: TCP is a byte stream: a template and three data messages (with variable-
    length fields) written one byte at a time decode exactly as if written whole."""
    x = IXD()
    ks = [mark() for _ in range(6)]
    fields = [(1, 8), (82, 65535), (4, 1)]
    stream = msg(tmpl_set(tmpl(501, fields)))
    for i in range(3):
        recs = b"".join(struct.pack(">Q", k) + ipfix.varlen(b"if%d" % k) + b"\x06"
                        for k in ks[2 * i:2 * i + 2])
        stream += msg(ipfix.set_(501, recs), seq=2 * i)
    before = x.stats()
    s = tcp(x.port)
    for i in range(len(stream)):
        s.send(stream[i:i + 1])
        if i % 8 == 7:
            time.sleep(0.001)
    got = x.wait_records(lambda r: r.get("octetDeltaCount") in ks, n=6)
    for r in got:
        assert r.get("interfaceName") == "if%d" % r["octetDeltaCount"], r
    x.probe(s, collector="t")
    finish(s)
    x.expect(before, "t", **plus(PROBE, messages=4, templates=1, records=6))


def big_message(limit, tid, base):
    """A template and as many 21-byte records as fit in `limit` bytes (padding the rest)."""
    t = tmpl_set(tmpl(tid, SMALL))
    room = limit - 16 - len(t) - 4
    n = room // 21
    body = b"".join(ipfix.small_record(base + i) for i in range(n)) + b"\0" * (room - 21 * n)
    m = msg(t, ipfix.set_(tid, body))
    assert len(m) == limit
    return m, n


def test_10_4_message_of_65535_bytes_on_tcp():
    """RFC 7011 3.1/10.4: the largest message (Length 65535) decodes on TCP."""
    x = IXD()
    base = mark()
    m, n = big_message(65535, 502, base)
    for _ in range(n):
        mark()
    before = x.stats()
    s = tcp(x.port)
    s.sendall(m)
    x.wait_records(lambda r: base <= r.get("octetDeltaCount", 0) < base + n, n=n)
    x.probe(s, collector="t")
    finish(s)
    x.expect(before, "t", **plus(PROBE, messages=1, templates=1, records=n))


def test_10_3_largest_udp_datagram():
    """RFC 7011 10.3.3: a message as large as one IPv4 UDP datagram can be (65507 bytes)."""
    x = IXD()
    base = mark()
    m, n = big_message(65507, 503, base)
    for _ in range(n):
        mark()
    before = x.stats()
    s = udp()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 1 << 20)
    s.sendto(m, ("127.0.0.1", x.port))
    x.wait_records(lambda r: base <= r.get("octetDeltaCount", 0) < base + n, n=n)
    x.probe(s)
    x.expect(before, "u", **plus(PROBE, messages=1, templates=1, records=n))


def test_10_3_exporter_restart_from_a_new_source_port():
    """RFC 7011 10.3/8: an exporter restarted from a new source port is a new session: the
    old port's templates do not apply (its data is held until its own template arrives),
    while the old session keeps its templates."""
    x = IXD()
    k1, k2, k3 = mark(), mark(), mark()
    before = x.stats()
    old, new = Exporter(x), Exporter(x)
    small(old, k1)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k1)
    small(new, k2, with_template=False)
    new.probe()  # the probe's line means the held set was processed
    x.assert_none(k2)
    new.send(tmpl_set(tmpl(TID, SMALL)))
    rec = x.wait_records(lambda r: r.get("octetDeltaCount") == k2)[0]
    assert rec.get("@late") is True and rec["@exporter_port"] == new.sock.getsockname()[1], rec
    small(old, k3, with_template=False)
    x.wait_records(lambda r: r.get("octetDeltaCount") == k3)
    old.probe()
    x.expect(before, "u", **plus(PROBE, PROBE, messages=4, templates=2, records=3,
                                 held_sets=1, late_records=1))


def test_10_4_connection_limit():
    """RFC 7011 10.4 and 11 (resource limit tcp-connections: 2, one worker): a third connection
    is closed at once and counted (connection_limit); the two open ones keep decoding."""
    x = LIM()
    k1, k2 = mark(), mark()
    before = x.stats()
    c1, c2 = Exporter(x, "t"), Exporter(x, "t")
    small(c1, k1)
    x.wait_stats(lambda c: c["tcp_connections"] == 2, "t")
    c3 = tcp(x.port)
    assert wait_closed(c3, timeout=5), "a third connection was accepted beyond the limit of 2"
    c3.close()
    small(c2, k2)
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k1, k2), n=2)
    c1.probe()
    c1.finish()
    c2.finish()
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, PROBE, messages=2, templates=2, records=2,
                                 connection_limit=1))


def test_10_4_idle_connections_are_closed():
    """RFC 7011 10.4 (TCP idle timeout, idle-timeout: 2s): connections that send nothing are
    closed by ipfixd (at its next expiry sweep, within ~10 s), their held sets dropped and
    counted; new connections are then accepted again up to the limit."""
    x = LIM()
    k = mark()
    before = x.stats()
    c1, c2 = Exporter(x, "t"), Exporter(x, "t")
    small(c1, k, with_template=False)  # held until the connection goes
    c2.send(tmpl_set(tmpl(TID, SMALL)))
    t0 = time.time()
    assert wait_closed(c1.sock, timeout=20), "idle connection 1 was never closed"
    assert wait_closed(c2.sock, timeout=20), "idle connection 2 was never closed"
    assert time.time() - t0 >= 1.5, "closed before the idle timeout"
    c1.sock.close()
    c2.sock.close()
    x.tcp_probe()
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, PROBE, messages=2, templates=1, held_sets=1,
                                 held_dropped=1, no_template=1))
    x.assert_none(k)


def test_allow_list_udp():
    """RFC 7011 10.3 and 11 (collector allow-list): datagrams from a source outside it
    (127.0.0.3) are counted as not_allowed and never decoded; the allowed source (127.0.0.2)
    decodes."""
    x = LIM()
    k = mark()
    before = x.stats()
    bad = Exporter(x, "a", source="127.0.0.3")
    small(bad, k)
    small(bad, k, with_template=False)
    good = Exporter(x, "a", source="127.0.0.2")
    good.probe()
    x.expect(before, "a", **plus(PROBE, not_allowed=2))
    x.assert_none(k)


def test_allow_list_tcp():
    """RFC 7011 10.4 and 11 (collector allow-list on TCP): a connection from outside it is
    closed at once and counted (not_allowed); the allowed source decodes."""
    x = LIM()
    before = x.stats()
    s = tcp(x.ports["at"], source="127.0.0.3")
    assert wait_closed(s, timeout=5), "a connection from outside the allow-list stayed open"
    s.close()
    good = Exporter(x, "at", source="127.0.0.2")
    good.probe()
    good.finish()
    x.expect(before, "at", **plus(PROBE, not_allowed=1))


def test_domain_limit():
    """RFC 7011 3.1 and 11 (resource limit domains-per-session: 2): a message of a third
    observation domain on one session is refused (domain_limit, nothing decoded); the first two
    still decode."""
    x = LIM()
    k1, k2, k3, k4 = mark(), mark(), mark(), mark()
    before = x.stats()
    e = Exporter(x)
    small(e, k1, odid=1)
    small(e, k2, odid=2)
    small(e, k3, odid=3)
    small(e, k4, with_template=False, odid=1)
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k1, k2, k4), n=3)
    x.probe()  # a fresh exporter
    x.expect(before, "u", **plus(PROBE, messages=4, templates=2, records=3,
                                 domain_limit=1))
    x.assert_none(k3)


def test_10_3_sessions_per_exporter_evicts_the_oldest():
    """RFC 7011 10.3 and 11 (resource limit sessions-per-exporter: 2, one worker): a third
    source port of the same exporter address pushes out its least recently used session
    (sessions_evicted), whose templates go with it: that port's next data is held as for a new
    session."""
    x = LIM()
    k1, k2, k3, k4 = mark(), mark(), mark(), mark()
    before = x.stats()
    a, b, c = Exporter(x, "us"), Exporter(x, "us"), Exporter(x, "us")
    small(a, k1)
    small(b, k2)
    small(c, k3)                           # evicts a's session
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k1, k2, k3), n=3)
    small(a, k4, with_template=False)      # a new session for a (evicts b): held
    a.probe()
    x.expect(before, "us", **plus(PROBE, messages=4, templates=3, records=3,
                                  sessions_evicted=2, held_sets=1))
    x.assert_none(k4)


def test_templates_per_exporter_evicts_its_own_oldest():
    """RFC 7011 8 and 11 (resource limit templates-per-exporter: 4): an exporter defining a 5th
    template loses its own least recently used one (templates_evicted), whose data is then
    held; another exporter's template is untouched."""
    x = LIM()
    k0, k1, k2 = mark(), mark(), mark()
    before = x.stats()
    other = Exporter(x, "ue", source="127.0.0.2")
    other.send(tmpl_set(tmpl(900, SMALL)))
    e = Exporter(x, "ue")
    e.send(tmpl_set(*[tmpl(801 + i, SMALL) for i in range(5)]))   # 801 goes
    e.send(small_set(802, [k1]), records=1)
    e.send(small_set(801, [k2]), records=1)                         # held
    other.send(small_set(900, [k0]), records=1)
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k0, k1), n=2)
    e.probe()                  # its template pushes out 803, the least recently used
    x.expect(before, "ue", **plus(PROBE, messages=5, templates=6, records=2,
                                  templates_evicted=2, held_sets=1))
    x.assert_none(k2)


if __name__ == "__main__":
    main([test_10_4_reset_mid_message_discards_partial_and_templates,
          test_10_4_reconnect_must_resend_templates, test_10_4_one_byte_writes,
          test_10_4_message_of_65535_bytes_on_tcp, test_10_3_largest_udp_datagram,
          test_10_3_exporter_restart_from_a_new_source_port, test_10_4_connection_limit,
          test_10_4_idle_connections_are_closed, test_allow_list_udp, test_allow_list_tcp,
          test_domain_limit, test_10_3_sessions_per_exporter_evicts_the_oldest,
          test_templates_per_exporter_evicts_its_own_oldest])
