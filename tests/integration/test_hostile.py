"""Hostile input: random, truncated and mutated messages never stop ipfixd, and are counted.

Each case sends its bytes, then checks that a valid message from a fresh exporter still decodes.
The sanitizer build runs the same file, so any memory error or leak fails it too.
"""
import os
import random
import socket
import struct
import tempfile
import time

import ipfix
from ixdtest import SLOW, Daemon, free_port, read_json_lines, run, udp_tcp_config, wait_lines


def start():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(udp_tcp_config(port, out))

    return d, port, out


def still_decodes(d, port, out, k):
    """A fresh exporter's template and data must come out as one more line."""
    before = wait_lines(out, 0, timeout=0.1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.sendto(ipfix.small_template_message() + b"", ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([k]), ("127.0.0.1", port))
    s.close()
    assert d.alive(), d.log()
    assert wait_lines(out, before + 1, timeout=10) >= before + 1, "valid message after case %d lost" % k


def valid_messages(rng):
    """A template message and a data message with variable-length and enterprise fields."""
    fields = [(8, 4), (12, 4), (7, 2), (82, 65535), (1, 8), (100, 4, 6871), (4, 1)]
    tmpl = ipfix.message([ipfix.set_(2, ipfix.template_record(300, fields))])
    recs = b"".join(struct.pack(">4s4sH", b"\x0a\0\0\x01", b"\xc0\0\x02\x01", 80) +
                    ipfix.varlen(b"eth%d" % i) + struct.pack(">QIB", i, 7, 6) for i in range(5))
    data = ipfix.message([ipfix.set_(300, recs)])
    return [tmpl, data]


def mutate(rng, msg):
    b = bytearray(msg)
    for _ in range(rng.randint(1, 4)):
        op = rng.randint(0, 3)
        if op == 0 and b:
            b[rng.randrange(len(b))] = rng.randrange(256)
        elif op == 1 and len(b) > 1:
            del b[rng.randrange(len(b)):]
        elif op == 2 and len(b) > 4:
            i = rng.randrange(len(b) - 1)
            b[i:i + 2] = struct.pack(">H", rng.choice([0, 1, 3, 4, 255, 256, 0xffff, len(b)]))
        else:
            b += bytes(rng.randrange(256) for _ in range(rng.randint(1, 16)))
    return bytes(b)


def test_crafted_cases():
    d, port, out = start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    cases = [
        b"",                                                       # empty datagram
        b"\x00\x0a",                                               # 2 bytes
        struct.pack(">HHIII", 8, 16, 0, 0, 0),                     # version 8: not a format read here
        struct.pack(">HHIII", 10, 15, 0, 0, 0),                    # length < 16
        struct.pack(">HHIII", 10, 100, 0, 0, 0),                   # length past the datagram
        ipfix.message([]) + b"\0\0",                               # trailing bytes
        ipfix.message([struct.pack(">HH", 2, 2)]),                 # set length < 4
        ipfix.message([struct.pack(">HH", 2, 400)]),               # set past the end
        ipfix.message([ipfix.set_(0, b"\0" * 4), ipfix.set_(1, b"\0" * 4), ipfix.set_(100, b"\0" * 4)]),
        ipfix.message([ipfix.set_(2, struct.pack(">HH", 256, 65535))]),          # huge field count
        ipfix.message([ipfix.set_(2, struct.pack(">HHHH", 256, 1, 0x8001, 4))]),  # PEN cut off
        ipfix.message([ipfix.set_(2, ipfix.template_record(255, [(8, 4)]))]),     # template ID < 256
        ipfix.message([ipfix.set_(2, ipfix.template_record(0, [(8, 4)]))]),       # template ID 0
        ipfix.message([ipfix.set_(2, ipfix.template_record(257, [(8, 0)]))]),     # record length 0
        ipfix.message([ipfix.set_(3, ipfix.options_template_record(258, 0, [(8, 4)]))]),  # scope 0
        ipfix.message([ipfix.set_(3, ipfix.options_template_record(258, 3, [(8, 4)]))]),  # scope > count
        ipfix.message([ipfix.set_(2, ipfix.template_record(259, [(82, 65535)])),
                       ipfix.set_(259, b"\xff\xff\xff" + b"x" * 10)]),            # varlen 65535, 10 bytes
        ipfix.message([ipfix.set_(2, ipfix.template_record(260, [(82, 65535)])),
                       ipfix.set_(260, b"\xff\x00")]),                           # 255 with length cut
        ipfix.message([ipfix.set_(2, ipfix.template_record(261, [(8, 8)])),
                       ipfix.set_(261, b"\x01" * 16)]),                          # IPv4 address of 8 bytes
        ipfix.message([ipfix.set_(2, ipfix.template_record(262, [(8, 4)])),
                       ipfix.set_(2, struct.pack(">HH", 262, 0)),                # UDP withdrawal (ignored)
                       ipfix.set_(262, b"\x01\x02\x03\x04")]),
        ipfix.message([ipfix.set_(999, b"\0" * 40)]),                            # data, no template
    ]
    for i, c in enumerate(cases):
        s.sendto(c, ("127.0.0.1", port))
        still_decodes(d, port, out, 1000 + i)
    final = d.stop()
    log = d.log()
    recs = read_json_lines(out)
    ks = {r.get("octetDeltaCount") for r in recs}
    assert set(range(1000, 1000 + len(cases))) <= ks
    for reason in ("version=", "message_length=", "set_length=", "set_id=", "template_length=",
                   "template_id=", "template_scope=", "template_empty=", "field_length=",
                   "no_template=", "record_length="):
        assert reason in log, "no %s counted:\n%s" % (reason, log)
    # the IPv4 address of 8 bytes is kept as hex, the withdrawn-on-UDP template still decodes
    assert any(r.get("sourceIPv4Address") == "0101010101010101" for r in recs), recs
    assert any(r.get("@template") == 262 and r.get("sourceIPv4Address") == "1.2.3.4" for r in recs)
    assert final["u"]["errors"] >= len(cases) - 3, final


def test_random_and_mutated_datagrams():
    d, port, out = start()
    rng = random.Random(7011)
    n = int(10000 / SLOW)
    base = valid_messages(rng)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(8)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    for i in range(n):
        s = socks[i % len(socks)]
        kind = rng.randrange(3)
        if kind == 0:
            msg = bytes(rng.randrange(256) for _ in range(rng.randint(0, 600)))
        elif kind == 1:
            msg = mutate(rng, rng.choice(base))
        else:
            msg = rng.choice(base)
        s.sendto(msg, ("127.0.0.1", port))
        if i % 64 == 63:
            time.sleep(0.001)
    still_decodes(d, port, out, 424242)
    final = d.stop()
    assert final["u"]["messages"] + final["u"]["socket_drops"] >= n, final
    assert final["u"]["errors"] > 0, final
    recs = read_json_lines(out)
    assert any(r.get("octetDeltaCount") == 424242 for r in recs)


def test_tcp_garbage_resets_and_partial_messages():
    d, port, out = start()
    rng = random.Random(5655)
    tmpl, data = valid_messages(rng)
    for i in range(int(200 / SLOW)):
        t = socket.create_connection(("127.0.0.1", port))
        kind = i % 4
        if kind == 0:
            t.sendall(bytes(rng.randrange(256) for _ in range(rng.randint(1, 3000))))
        elif kind == 1:
            t.sendall(tmpl + data[:rng.randrange(len(data))])  # ends mid-message
        elif kind == 2:
            t.sendall(mutate(rng, tmpl) + mutate(rng, data))
        else:
            t.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            t.sendall(tmpl + data[:20])                          # reset mid-message
        t.close()
    t = socket.create_connection(("127.0.0.1", port))
    t.sendall(ipfix.small_template_message() + ipfix.small_data_message([777]))
    t.close()
    assert wait_lines(out, 1, timeout=10) >= 1
    time.sleep(0.3)
    final = d.stop()
    assert final["t"]["tcp_connections"] == 0, final
    assert final["t"]["errors"] > 0, final
    assert any(r.get("octetDeltaCount") == 777 for r in read_json_lines(out))


if __name__ == "__main__":
    run([test_crafted_cases, test_random_and_mutated_datagrams,
         test_tcp_garbage_resets_and_partial_messages])
