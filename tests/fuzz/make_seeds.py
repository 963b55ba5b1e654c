#!/usr/bin/env python3
"""Writes the hand-made seeds of the fuzz targets and copies a few real messages from the
shared corpus (docs/testing.md). Seeds minimised from campaigns are added beside these files,
named by libFuzzer (SHA-1 of the content); this script only (re)writes its own named files.

    tests/fuzz/make_seeds.py [CORPUS]   (CORPUS defaults to ../shared/corpus/flow-exports)
"""
import os
import socket
import struct
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
T = 1700000000


def msg(*sets, seq=0, odid=1, export=T):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), export, seq, odid) + body


def iset(sid, body):
    return struct.pack(">HH", sid, 4 + len(body)) + body


def field(ie, length, pen=0):
    if pen:
        return struct.pack(">HHI", ie | 0x8000, length, pen)
    return struct.pack(">HH", ie, length)


def tmpl(tid, *fields):
    return struct.pack(">HH", tid, len(fields)) + b"".join(fields)


def otmpl(tid, scope, *fields):
    return struct.pack(">HHH", tid, len(fields), scope) + b"".join(fields)


def varlen(value):
    if len(value) < 255:
        return bytes([len(value)]) + value
    return b"\xff" + struct.pack(">H", len(value)) + value


def u(n, width):
    return n.to_bytes(width, "big")


# Template 256: the usual 5-tuple and counters, fixed length 25.
T256 = tmpl(256, field(8, 4), field(12, 4), field(7, 2), field(11, 2), field(4, 1),
            field(1, 8), field(2, 4))
D256 = (bytes([10, 0, 0, 1, 192, 168, 0, 1]) + u(1234, 2) + u(80, 2) + u(6, 1) + u(1500, 8)
        + u(3, 4))
# Template 257: variable-length string and octets between fixed fields.
T257 = tmpl(257, field(8, 4), field(82, 0xffff), field(313, 0xffff), field(1, 4))
D257 = (bytes([10, 0, 0, 2]) + varlen(b"eth0") + varlen(b"") + u(7, 4)
        + bytes([10, 0, 0, 3]) + varlen("wlan\u00e9\u4e2d".encode()) + varlen(bytes(300)) + u(9, 4))
# Template 258: every abstract type the JSON output formats differently.
T258 = tmpl(258, field(56, 6), field(27, 16), field(150, 4), field(152, 8), field(154, 8),
            field(156, 8), field(434, 4), field(320, 8), field(276, 1), field(82, 8),
            field(1, 3), field(8, 8))
D258 = (bytes.fromhex("0011223344ff") + bytes.fromhex("20010db8000000000000000000000001")
        + u(T, 4) + u(T * 1000 + 123, 8) + u((T + 2208988800) << 32 | 0x80000000, 8)
        + u((T + 2208988800) << 32 | 0xffffffff, 8) + u(0xfffffffe, 4)
        + struct.pack(">d", -1.5) + u(1, 1) + b"a\"b\\c\x00\x01\xff" + u(70000, 3)
        + bytes(8))
# Template 259: enterprise elements (a reverse element known to libfixbuf, an unknown PEN),
# a repeated element and a zero-length field.
T259 = tmpl(259, field(1, 8, 29305), field(100, 4, 4242), field(0x7fff, 0xffff, 1),
            field(8, 4), field(8, 4), field(12, 0), field(2, 4))
D259 = u(5, 8) + u(6, 4) + varlen(b"\x80\x81") + bytes([1, 1, 1, 1, 2, 2, 2, 2]) + u(3, 4)
# Options template 260: scope observationDomainId, then counters.
T260 = otmpl(260, 1, field(149, 4), field(41, 8), field(42, 8), field(164, 8))
D260 = u(1, 4) + u(100, 8) + u(1000, 8) + u(0, 8)
# Template 261: RFC 6313 lists, kept as octets.
T261 = tmpl(261, field(291, 0xffff), field(292, 0xffff), field(293, 0xffff))
D261 = (varlen(b"\xff\x00\x08\x00\x04" + bytes(8)) + varlen(b"\x03\x01\x00" + bytes(8))
        + varlen(b"\x03\x01\x00\x00\x08" + bytes(4)))

MESSAGE_SEEDS = {
    "crafted-header-only": msg(),
    "crafted-5tuple": msg(iset(2, T256), iset(256, D256 * 3)),
    "crafted-data-before-template": msg(iset(256, D256), iset(2, T256)),
    "crafted-varlen": msg(iset(2, T257), iset(257, D257)),
    "crafted-varlen-cut": msg(iset(2, T257), iset(257, bytes([10, 0, 0, 2, 255, 0xff]))),
    "crafted-varlen-past-set": msg(iset(2, T257), iset(257, bytes([10, 0, 0, 2, 255, 0xff, 0xff, 1]))),
    "crafted-all-types": msg(iset(2, T258), iset(258, D258)),
    "crafted-enterprise-repeat": msg(iset(2, T259), iset(259, D259)),
    "crafted-options": msg(iset(3, T260), iset(260, D260)),
    "crafted-lists": msg(iset(2, T261), iset(261, D261)),
    "crafted-padding": msg(iset(2, T256 + b"\x00\x00"), iset(256, D256 + bytes(3))),
    "crafted-withdraw": msg(iset(2, T256 + tmpl(256)), iset(256, D256)),
    "crafted-withdraw-all": msg(iset(2, tmpl(2)), iset(3, struct.pack(">HH", 3, 0))),
    "crafted-reduced-illegal": msg(iset(2, tmpl(262, field(1, 4), field(8, 8), field(27, 4),
                                                  field(152, 2), field(320, 4))),
                                   iset(262, u(1, 4) + bytes(8) + bytes(4) + u(1, 2) + bytes(4))),
    "crafted-template-id-low": msg(iset(2, tmpl(255, field(8, 4))), iset(2, tmpl(0, field(8, 4)))),
    "crafted-field-count-huge": msg(iset(2, struct.pack(">HH", 300, 65535) + field(8, 4))),
    "crafted-enterprise-cut": msg(iset(2, struct.pack(">HHHH", 263, 1, 0x8001, 4) + b"\x00\x00")),
    "crafted-options-bad-scope": msg(iset(3, otmpl(264, 0, field(8, 4)) + otmpl(265, 3, field(8, 4)))),
    "crafted-zero-length-record": msg(iset(2, tmpl(266, field(8, 0))), iset(266, bytes(8))),
    "crafted-set-id-reserved": msg(iset(1, b""), iset(4, b"xxxx"), iset(255, b"")),
    "crafted-set-length-short": struct.pack(">HHIII", 10, 20, T, 0, 1) + b"\x00\x02\x00\x02",
    "crafted-version-9": b"\x00\x09" + msg(iset(2, T256))[2:],
}


def chunks(mode, *parts):
    """A fuzz_stream input: mode byte, then [u16 length][message] or ticks (fuzz_stream.c)."""
    out = bytes([mode])
    for p in parts:
        out += struct.pack(">H", len(p)) + p if isinstance(p, bytes) else b"\x00\x00" + bytes(p)
    return out


def tick(seconds, event=0):
    return (seconds, event)


STREAM_SEEDS = {
    "crafted-udp-template-then-data": chunks(0, msg(iset(2, T256), seq=0),
                                             msg(iset(256, D256 * 2), seq=0),
                                             msg(iset(256, D256), seq=2)),
    "crafted-tcp-template-then-data": chunks(1, msg(iset(2, T256 + T257)),
                                             msg(iset(256, D256), iset(257, D257), seq=0),
                                             msg(iset(2, tmpl(256)), seq=3),
                                             msg(iset(256, D256), seq=3)),
    "crafted-udp-expiry": chunks(0x02, msg(iset(2, T256)), tick(20), msg(iset(256, D256)),
                                 tick(200), msg(iset(256, D256), seq=1)),
    "crafted-udp-restart": chunks(0x04, msg(iset(2, T256), seq=100), tick(1, 1),
                                  msg(iset(2, T256), iset(256, D256), seq=0)),
    "crafted-tcp-reconnect": chunks(0x07, msg(iset(2, T256)), tick(1, 8),
                                    msg(iset(256, D256)), msg(iset(2, T256), iset(256, D256))),
    "crafted-tcp-withdraw-all": chunks(0x01, msg(iset(2, T256 + T257), iset(3, T260)),
                                       msg(iset(2, tmpl(2)), iset(3, struct.pack(">HH", 3, 0))),
                                       msg(iset(256, D256), iset(260, D260))),
    "crafted-template-replace": chunks(0x00, msg(iset(2, T256)),
                                       msg(iset(2, tmpl(256, field(8, 4)))),
                                       msg(iset(256, D256))),
    "crafted-template-limit": chunks(0x08, msg(iset(2, b"".join(
        tmpl(300 + i, field(8, 4)) for i in range(12)))), msg(iset(311, bytes(8)))),
    "crafted-domains-sequence": chunks(0x00, msg(iset(2, T256), odid=1, seq=5),
                                       msg(iset(2, T256), odid=2, seq=0xfffffffe),
                                       msg(iset(256, D256 * 3), odid=2, seq=0xfffffffe),
                                       msg(iset(256, D256), odid=2, seq=1),
                                       msg(iset(256, D256), odid=1, seq=1)),
    "crafted-udp-hold-late": chunks(0x00, msg(iset(256, D256 * 2), iset(257, D257), seq=0),
                                    msg(iset(2, T257)), msg(iset(2, T256), seq=4)),
    "crafted-tcp-hold-expire": chunks(0x01, msg(iset(256, D256)), tick(40),
                                      msg(iset(2, T256))),
    "crafted-hold-limits": chunks(0x08, *[msg(iset(256 + i, D256 * (i + 1))) for i in range(5)],
                                  msg(iset(2, T256 + tmpl(257, field(8, 4))))),
    "crafted-hold-off": chunks(0x10, msg(iset(256, D256)), msg(iset(2, T256))),
    "crafted-udp-ports-exporters": chunks(0x08, msg(iset(2, T256)), tick(1, 1), msg(iset(2, T256)),
                                          tick(1, 2), msg(iset(2, T256)), tick(1, 4),
                                          msg(iset(2, T256)), tick(1, 0), msg(iset(256, D256))),
    "crafted-domain-limit": chunks(0x09, *[msg(iset(2, T256), iset(256, D256), odid=i)
                                           for i in range(5)]),
    "crafted-reload": chunks(0x00, *[msg(iset(2, tmpl(300 + i, field(8, 4)))) for i in range(10)],
                             tick(1, 16), msg(iset(2, T256), iset(300, bytes(8))),
                             tick(25, 16), msg(iset(305, bytes(4)))),
    "crafted-bad-framing": chunks(0x01, msg(iset(2, T256)), msg(iset(256, D256))[:-3],
                                  msg(iset(256, D256))),
}

V4 = bytes(10) + b"\xff\xff" + bytes([192, 0, 2, 1])
V6 = bytes.fromhex("20010db8000000000000000000000001")


def saved(entries, name=b"fuzz", count=None):
    """A fuzz_persist input: a saved-templates file without its digest (src/ipfix/persist.c)."""
    out = b"IXDTPL01" + struct.pack(">H", len(name)) + name
    out += struct.pack(">I", len(entries) if count is None else count)
    for addr, port, odid, age, rec, options in entries:
        out += addr + struct.pack(">HIqH", port, odid, T - age, len(rec)) + rec + bytes([options])
    return out


PERSIST_SEEDS = {
    "crafted-empty": saved([]),
    "crafted-one": saved([(V4, 5000, 1, 10, T256, 0)]),
    "crafted-kinds": saved([(V4, 5000, 1, 10, T256, 0), (V4, 5000, 1, 10, T257, 0),
                            (V4, 5000, 2, 10, T258, 0), (V6, 5001, 1, 10, T259, 0),
                            (V6, 5001, 1, 10, T260, 1), (V4, 5002, 7, 10, T261, 0)]),
    "crafted-ages": saved([(V4, 5000, 1, 1799, T256, 0), (V4, 5000, 1, 1800, T257, 0),
                           (V4, 5000, 1, -5, T258, 0)]),
    "crafted-duplicate": saved([(V4, 5000, 1, 10, T256, 0), (V4, 5000, 1, 5,
                                                             tmpl(256, field(8, 4)), 0)]),
    "crafted-bad-records": saved([(V4, 5000, 1, 10, struct.pack(">HH", 300, 65535), 0),
                                  (V4, 5000, 1, 10, tmpl(255, field(8, 4)), 0),
                                  (V4, 5000, 1, 10, T260, 0), (V4, 5000, 1, 10, T256, 1)]),
    "crafted-other-collector": saved([(V4, 5000, 1, 10, T256, 0)], name=b"udp"),
    "crafted-count-short": saved([(V4, 5000, 1, 10, T256, 0)], count=3),
    "crafted-count-large": saved([(V4, 5000, 1, 10, T256, 0)], count=0x10000),
    "crafted-trailing": saved([(V4, 5000, 1, 10, T256, 0)]) + b"\x00\x01",
}

# Real exports: (file, message index) pairs for the message target, and template + data
# pairs (the same exporter's files) merged into one message or played as a stream.
CORPUS_SINGLE = [
    "logstash-codec-netflow/ipfix.dat", "logstash-codec-netflow/ipfix_test_netscaler_tpl.dat",
    "logstash-codec-netflow/ipfix_test_yaf_tpls_option_tpl.dat",
    "logstash-codec-netflow/ipfix_test_vmware_vds_tpl.dat",
    "telegraf/testcases/ipfix_example/ipfix_0.bin",
    "telegraf/testcases/ipfix_options/message-001.bin",
]
CORPUS_PAIRS = {
    "barracuda": ("logstash-codec-netflow/ipfix_test_barracuda_tpl.dat",
                  "logstash-codec-netflow/ipfix_test_barracuda_data256.dat"),
    "barracuda-uniflow": ("logstash-codec-netflow/ipfix_test_barracuda_extended_uniflow_tpl256.dat",
                          "logstash-codec-netflow/ipfix_test_barracuda_extended_uniflow_data256.dat"),
    "mikrotik": ("logstash-codec-netflow/ipfix_test_mikrotik_tpl.dat",
                 "logstash-codec-netflow/ipfix_test_mikrotik_data258.dat"),
    "netscaler": ("logstash-codec-netflow/ipfix_test_netscaler_tpl.dat",
                  "logstash-codec-netflow/ipfix_test_netscaler_data.dat"),
    "vmware": ("logstash-codec-netflow/ipfix_test_vmware_vds_tpl.dat",
               "logstash-codec-netflow/ipfix_test_vmware_vds_data266_267.dat"),
    "yaf": ("logstash-codec-netflow/ipfix_test_yaf_tpl45841.dat",
            "logstash-codec-netflow/ipfix_test_yaf_data45841.dat"),
    "telegraf": ("telegraf/testcases/ipfix_example/ipfix_0.bin",
                 "telegraf/testcases/ipfix_example/ipfix_4.bin"),
    "telegraf-options": ("telegraf/testcases/ipfix_options/message-001.bin",
                         "telegraf/testcases/ipfix_options/message-002.bin"),
}

# NetFlow v9/v5 packets: the worker rewrites them as IPFIX on the same UDP sockets.
NETFLOW_SINGLE = [
    "logstash-codec-netflow/netflow9_test_valid01.dat",
    "logstash-codec-netflow/netflow9_test_0length_fields_tpl_data.dat",
    "logstash-codec-netflow/netflow9_test_iptnetflow_reduced_size_encoding_tpldata260.dat",
    "logstash-codec-netflow/netflow9_test_cisco_nbar_opttpl260.dat",
    "logstash-codec-netflow/netflow9_test_cisco_asr9k_opttpl256.dat",
    "logstash-codec-netflow/netflow9_test_invalid01.dat",
    "logstash-codec-netflow/netflow5_test_invalid01.dat",
]
NETFLOW_PAIRS = {
    "nf9-macaddr": ("logstash-codec-netflow/netflow9_test_macaddr_tpl.dat",
                    "logstash-codec-netflow/netflow9_test_macaddr_data.dat"),
    "nf9-nbar": ("logstash-codec-netflow/netflow9_test_cisco_nbar_tpl262.dat",
                 "logstash-codec-netflow/netflow9_test_cisco_nbar_data262.dat"),
}


def split(data):
    out, off = [], 0
    while off + 16 <= len(data):
        n = struct.unpack(">H", data[off + 2:off + 4])[0]
        if n < 16:
            break
        out.append(data[off:off + n])
        off += n
    return out


def client_hello(dtls):
    """The first flight of openssl s_client (TLS 1.3/1.2 or DTLS 1.2): a real ClientHello."""
    kind = socket.SOCK_DGRAM if dtls else socket.SOCK_STREAM
    srv = socket.socket(socket.AF_INET, kind)
    srv.bind(("127.0.0.1", 0))
    srv.settimeout(10)
    if not dtls:
        srv.listen(1)
    p = subprocess.Popen(["openssl", "s_client"] + (["-dtls1_2"] if dtls else []) +
                         ["-connect", "127.0.0.1:%d" % srv.getsockname()[1]],
                         stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    try:
        if dtls:
            hello = srv.recvfrom(4096)[0]
        else:
            conn, _ = srv.accept()
            conn.settimeout(10)
            hello = conn.recv(4096)
            conn.close()
    finally:
        p.kill()
        p.wait()
        srv.close()
    return hello


def tls_chunk(kind, data):
    """A chunk of fuzz_tls modes 1 and 2: [kind][u16 length][bytes]."""
    return bytes([kind]) + struct.pack(">H", len(data)) + data


def tls_seeds():
    """fuzz_tls: a ClientHello in pieces; an IPFIX stream over TLS (with a broken record); a
    DTLS handshake, messages as records, and ClientHellos from other addresses."""
    hello, dhello = client_hello(False), client_hello(True)
    stream = [msg(iset(2, T256 + T257)), msg(iset(256, D256 * 3), iset(257, D257), seq=0),
              msg(iset(256, D256), seq=3)]
    out = {
        "crafted-handshake-clienthello": b"\x00\xff" + hello,
        "crafted-handshake-clienthello-bytewise": b"\x00\x00" + hello,
        "crafted-handshake-plain-ipfix": b"\x00\x10" + b"".join(stream),
        "crafted-stream": b"\x01" + b"".join(tls_chunk(0, m) for m in stream),
        "crafted-stream-split": b"\x01" + tls_chunk(2, b"".join(stream)[:37]) +
        tls_chunk(4, b"".join(stream)[37:]),
        "crafted-stream-broken-record": b"\x01" + tls_chunk(0, stream[0]) +
        tls_chunk(1, b"\x17\x03\x03\x00\x20" + bytes(32)) + tls_chunk(0, stream[1]),
    }
    steps = b"".join(tls_chunk(1, b"") for _ in range(6))
    out["crafted-dtls-association"] = (b"\x02" + steps + b"".join(tls_chunk(1, m) for m in stream)
                                       + tls_chunk(3, b"\x05") + tls_chunk(1, stream[2]))
    out["crafted-dtls-spoofed-hellos"] = (b"\x02" + b"".join(tls_chunk(k << 2, dhello)
                                                            for k in range(8)) + steps +
                                          tls_chunk(2, dhello) + tls_chunk(2, stream[0]) +
                                          tls_chunk(1, stream[0]) + tls_chunk(3, b"\x0b"))
    out["crafted-dtls-stray"] = b"\x02" + tls_chunk(0, stream[0]) + tls_chunk(4, b"\x16\xfe")
    return out


def merge(a, b):
    """The sets of a then b under b's header: templates and data in one message."""
    return struct.pack(">HH", 10, len(a) + len(b) - 16) + b[4:16] + a[16:] + b[16:]


def write(target, name, data):
    path = os.path.join(HERE, target, "seeds", name)
    with open(path, "wb") as f:
        f.write(data)


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        HERE, "..", "..", "..", "shared", "corpus", "flow-exports")
    for name, data in MESSAGE_SEEDS.items():
        write("message", name, data)
    for name, data in STREAM_SEEDS.items():
        write("stream", name, data)
    for name, data in tls_seeds().items():
        write("tls", name, data)
    for name, data in PERSIST_SEEDS.items():
        write("persist", name, data)
    for path in CORPUS_SINGLE:
        with open(os.path.join(corpus, path), "rb") as f:
            for i, m in enumerate(split(f.read())):
                write("message", "corpus-%s-%d" % (os.path.basename(path).rsplit(".", 1)[0], i), m)
    for name, (tpl, data) in CORPUS_PAIRS.items():
        with open(os.path.join(corpus, tpl), "rb") as f:
            a = split(f.read())[0]
        with open(os.path.join(corpus, data), "rb") as f:
            b = split(f.read())[0]
        write("message", "corpus-%s-merged" % name, merge(a, b))
        write("stream", "corpus-%s-udp" % name, chunks(0x00, a, b, b))
        write("stream", "corpus-%s-tcp" % name, chunks(0x05, a, b, tick(30), b))
    for path in NETFLOW_SINGLE:
        with open(os.path.join(corpus, path), "rb") as f:
            write("message", "corpus-" + os.path.basename(path).rsplit(".", 1)[0], f.read())
    with open(os.path.join(corpus, "logstash-codec-netflow/netflow5.dat"), "rb") as f:
        v5 = f.read()
    write("message", "corpus-netflow5-0", v5[:24 + 48 * struct.unpack(">H", v5[2:4])[0]])
    for name, (tpl, data) in NETFLOW_PAIRS.items():
        with open(os.path.join(corpus, tpl), "rb") as f:
            a = f.read()
        with open(os.path.join(corpus, data), "rb") as f:
            b = f.read()
        write("stream", "corpus-%s-udp" % name, chunks(0x00, a, b, tick(1, 1), b))
    write("stream", "corpus-nf5-ipfix-mixed", chunks(0x00, v5[:120], msg(iset(2, T256)),
                                                     msg(iset(256, D256)), v5[:120]))


if __name__ == "__main__":
    main()
