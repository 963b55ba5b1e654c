"""Memory stays under the bound docs/configuration.md derives from the limits, whatever arrives:
random and mutated messages, and a template flood from one address spread over ports and
observation domains, which must not cost a second exporter a single record."""
import json
import os
import random
import re
import socket
import struct
import tempfile
import threading
import time

import ipfix
from ixdtest import (SLOW, Daemon, check_synthetic, free_port, read_json_lines, run, send,
                     wait_lines)
from test_hostile import mutate, valid_messages

MIB = 1 << 20
LIMITS = {  # small on purpose: the bound must hold at any setting
    "template-memory": 8 * MIB,
    "templates-per-exporter": 4096,
    "sessions-total": 1024,
    "held-bytes-total": 4 * MIB,
    "tcp-connections": 16,
}
WORKERS = 2
JSON_OUTPUTS = 1
FIELDS_PER_TEMPLATE = 512  # the default


def memory_bound():
    """The formula of docs/configuration.md ("Memory bound")."""
    return (16 * MIB
            + WORKERS * (2 * MIB + 4 * MIB * JSON_OUTPUTS)
            + WORKERS * JSON_OUTPUTS * (2.9 * MIB + FIELDS_PER_TEMPLATE * 416)
            + LIMITS["template-memory"]
            + LIMITS["sessions-total"] * 4096
            + LIMITS["held-bytes-total"] * 5 // 4
            + LIMITS["tcp-connections"] * 68 * 1024)


def start(out):
    port = free_port()
    limits = "".join("  %s: %d\n" % kv for kv in LIMITS.items())
    d = Daemon(f"""
workers: {WORKERS}
limits:
{limits}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: file
    type: json
    path: "{out}"
""")
    return d, port


def rss(d, field="VmHWM"):
    with open("/proc/%d/status" % d.proc.pid) as f:
        return int(re.search(r"%s:\s+(\d+) kB" % field, f.read()).group(1)) * 1024


def test_random_messages_stay_under_the_bound():
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d, port = start(out)
    rng = random.Random(6011)
    base = valid_messages(rng)
    socks = []
    for i in range(int(10000 / SLOW)):
        if i % 10 == 0:  # ever new source ports: sessions come and go
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind(("127.0.0.1", 0))
            socks.append(s)
            if len(socks) > 50:
                socks.pop(0).close()
        kind = rng.randrange(3)
        msg = (bytes(rng.randrange(256) for _ in range(rng.randint(0, 600))) if kind == 0
               else mutate(rng, rng.choice(base)) if kind == 1 else rng.choice(base))
        socks[-1].sendto(msg, ("127.0.0.1", port))
        if i % 64 == 63:
            time.sleep(0.001)
    s = socks[-1]
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([31337]), ("127.0.0.1", port))
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline:
        if any(r.get("octetDeltaCount") == 31337 for r in read_json_lines(out)):
            break
        time.sleep(0.1)
    assert d.alive()
    peak = rss(d)
    d.stop()
    assert any(r.get("octetDeltaCount") == 31337 for r in read_json_lines(out))
    if SLOW == 1:  # sanitizer builds carry shadow memory: the bound is for real builds
        assert peak < memory_bound(), "peak RSS %d > bound %d" % (peak, memory_bound())


def test_line_longer_than_a_json_buffer():
    """A subTemplateList of 600 records of 100 one-byte enterprise fields: 60 KB that become
    1.7 MB of JSON, more than a 1 MiB line buffer. The line is formatted aside and split across
    buffers; it arrives whole and valid, between its neighbours."""
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    port = free_port()
    d = Daemon(f"""
workers: 1
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: file
    type: json
    path: "{out}"
""")
    inner = ipfix.template_record(301, [(i + 1, 1, 4000000000) for i in range(100)])
    outer = ipfix.template_record(300, [(1, 8), (292, 65535)])
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(ipfix.message([ipfix.set_(2, inner + outer)]), ("127.0.0.1", port))
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    for k in (1, 2):
        s.sendto(ipfix.small_data_message([k]), ("127.0.0.1", port))
        stl = struct.pack(">BH", 3, 301) + bytes((k + i) % 256 for i in range(60000))
        rec = struct.pack(">Q", 1000 + k) + ipfix.varlen(stl)
        s.sendto(ipfix.message([ipfix.set_(300, rec)], seq=k), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([3]), ("127.0.0.1", port))
    wait_lines(out, 5)
    d.stop()
    lines = read_json_lines(out)  # parses every line: a torn one fails here
    assert max(len(json.dumps(r)) for r in lines) > 1 << 20
    big = [r for r in lines if r.get("@template") == 300]
    assert [r["octetDeltaCount"] for r in big] == [1001, 1002], [r.get("octetDeltaCount") for r in big]
    for r in big:
        k = r["octetDeltaCount"] - 1000
        recs = r["subTemplateList"]["@records"]
        assert len(recs) == 600 and all(len(x) == 100 for x in recs), len(recs)
        assert recs[599]["en4000000000:id100"] == "%02x" % ((k + 59999) % 256)
    assert sorted(r["octetDeltaCount"] for r in lines if r.get("@template") != 300) == [1, 2, 3]


def flood(port, seconds, rate, stop):
    """Template records from 127.0.0.2, over 200 ports and 64 observation domains."""
    socks = []
    for i in range(200):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.2", 0))
        socks.append(s)
    per_msg = 50
    sent, tid, start_t = 0, 256, time.time()
    while not stop.is_set() and time.time() - start_t < seconds:
        recs = []
        for _ in range(per_msg):
            recs.append(ipfix.template_record(tid, [(8, 4), (1 + tid % 50, 4)]))
            tid = 256 if tid == 65535 else tid + 1
        msg = ipfix.message([ipfix.set_(2, b"".join(recs))], odid=sent % 64)
        socks[sent % len(socks)].sendto(msg, ("127.0.0.1", port))
        sent += 1
        wait = start_t + sent * per_msg / rate - time.time()
        if wait > 0:
            time.sleep(wait)
    return sent * per_msg


def test_template_flood_spares_other_exporters():
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d, port = start(out)
    n = int(300000 / SLOW)
    stop = threading.Event()
    result = {}
    t = threading.Thread(target=lambda: result.update(sent=flood(port, 60, 100000 / SLOW, stop)))
    t.start()
    time.sleep(1)
    send("-n", n, "-r", int(60000 / SLOW), "127.0.0.1:%d" % port)
    stop.set()
    t.join()
    seen = wait_lines(out, n, timeout=30)
    peak = rss(d)
    final = d.stop()
    recs = read_json_lines(out)
    check_synthetic([r for r in recs if r["@exporter"] == "127.0.0.1"], 0, n)
    assert seen == n, (seen, n)
    assert result["sent"] >= 300000 / SLOW, result
    assert final["u"]["templates_evicted"] > 0, final
    exporter_line = re.search(r"final collector u exporter 127.0.0.1: (.*)", d.log()).group(1)
    assert "seq_lost=0" in exporter_line and "errors=0" in exporter_line, exporter_line
    print("flood: %d template records sent, %d evicted, peak RSS %.1f MiB, bound %.1f MiB"
          % (result["sent"], final["u"]["templates_evicted"], peak / MIB, memory_bound() / MIB))
    if SLOW == 1:
        assert peak < memory_bound(), "peak RSS %d > bound %d" % (peak, memory_bound())


if __name__ == "__main__":
    run([test_random_messages_stay_under_the_bound, test_line_longer_than_a_json_buffer,
         test_template_flood_spares_other_exporters])
