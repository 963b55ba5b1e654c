"""IPFIX export (output type ipfix): ipfixd re-exports what it collects.

- chains ipfixd -> ipfixd over UDP and TCP: every synthetic record arrives with its values;
- enterprise elements of real exports (YAF, Netscaler, VMware) leave byte for byte;
- tshark decodes every exported datagram without malformed packets or expert errors;
- a TCP collector that goes away for 10 s: reconnect, templates first, delivered + dropped = sent;
- messages stay within the MTU; sequence numbers per domain are consecutive;
- delta times, NetFlow uptimes and the original exporter (RFC 7119) are written as documented;
- RFC 6313 lists: the templates they name are exported too, and the names rewritten when two
  exporters' templates share IDs in one export domain, so the downstream decodes every list.
"""
import collections
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import ipfix
import pcapio
from ixdtest import (BIN, CORPUS, SLOW, Daemon, check_synthetic, free_port, fresh_udp_socket,
                     read_json_lines, run, send, wait_lines)

LS = os.path.join(CORPUS, "flow-exports/logstash-codec-netflow")


# ---- a small IPFIX reader: templates per (stream, domain), records as raw bytes ----

class Reader:
    """Splits IPFIX messages into template and data records; keeps templates per domain."""

    def __init__(self):
        self.templates = {}  # (odid, tid) -> (scope_count, [(id, length, pen)])
        self.records = []    # (odid, tid, fields tuple, record bytes)
        self.messages = []   # (length, seq, odid, data record count, template records)
        self.unknown = 0     # data sets whose template had not been seen

    def record_length(self, fields, data, off):
        start = off
        for _, length, _ in fields:
            if length == 65535:
                n = data[off]
                off += 1
                if n == 255:
                    n = struct.unpack(">H", data[off:off + 2])[0]
                    off += 2
                off += n
            else:
                off += length
        return off - start

    def message(self, m):
        ver, length, _, seq, odid = struct.unpack(">HHIII", m[:16])
        assert ver == 10 and length == len(m), "bad header %r" % m[:16]
        off, count, tcount = 16, 0, 0
        while off < length:
            sid, slen = struct.unpack(">HH", m[off:off + 4])
            assert slen >= 4 and off + slen <= length, "bad set length"
            body, off = m[off + 4:off + slen], off + slen
            if sid in (2, 3):
                p = 0
                while p + 4 <= len(body):
                    tid, n = struct.unpack(">HH", body[p:p + 4])
                    p += 4
                    scope = 0
                    if sid == 3 and n > 0:
                        scope = struct.unpack(">H", body[p:p + 2])[0]
                        p += 2
                    fields = []
                    for _ in range(n):
                        fid, flen = struct.unpack(">HH", body[p:p + 4])
                        p += 4
                        pen = 0
                        if fid & 0x8000:
                            pen = struct.unpack(">I", body[p:p + 4])[0]
                            p += 4
                        fields.append((fid & 0x7fff, flen, pen))
                    tcount += 1
                    if n == 0:
                        self.templates.pop((odid, tid), None)
                    else:
                        self.templates[(odid, tid)] = (scope, fields)
            elif sid >= 256:
                t = self.templates.get((odid, sid))
                if t is None:
                    self.unknown += 1
                    continue
                fields = t[1]
                p = 0
                minlen = sum(1 if f[1] == 65535 else f[1] for f in fields)
                while len(body) - p >= max(minlen, 1):
                    n = self.record_length(fields, body, p)
                    if p + n > len(body):
                        break
                    self.records.append((odid, sid, tuple(fields), bytes(body[p:p + n])))
                    p += n
                    count += 1
        self.messages.append((length, seq, odid, count, tcount))
        return count

    def field_values(self, rec):
        """{(pen, id): [values]} of one record (odid, tid, fields, bytes)."""
        out = collections.defaultdict(list)
        off, data = 0, rec[3]
        for fid, length, pen in rec[2]:
            if length == 65535:
                n = data[off]
                off += 1
                if n == 255:
                    n = struct.unpack(">H", data[off:off + 2])[0]
                    off += 2
                length = n
            out[(pen, fid)].append(data[off:off + length])
            off += length
        return out


def check_sequences(messages):
    """Per domain, each message's sequence number = the previous one + its data records."""
    nxt = {}
    for _, seq, odid, count, _ in messages:
        if odid in nxt:
            assert seq == nxt[odid] % 2**32, "domain %d: sequence %d, expected %d" % (
                odid, seq, nxt[odid])
        nxt[odid] = seq + count


def read_sessions(datagrams):
    """Parses (source port, datagram) pairs: each source port is its own transport session
    (a worker's socket), with its own templates and sequence numbers. Returns one Reader
    holding every record; sequence numbers are checked per session and domain."""
    sessions = collections.defaultdict(Reader)
    for sport, d in datagrams:
        sessions[sport].message(d)
    out = Reader()
    for r in sessions.values():
        check_sequences(r.messages)
        out.records += r.records
        out.messages += r.messages
        out.unknown += r.unknown
    return out


class UdpSink:
    """Receives datagrams on 127.0.0.1 in a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.datagrams = []
        self.sock.settimeout(0.2)
        self.stop = False
        self.thread = threading.Thread(target=self.loop, daemon=True)
        self.thread.start()

    def loop(self):
        while not self.stop:
            try:
                d, addr = self.sock.recvfrom(70000)
            except socket.timeout:
                continue
            self.datagrams.append((addr[1], d))

    def close(self):
        self.stop = True
        self.thread.join()
        self.sock.close()


def export_daemon(dests, transport="udp", extra="", workers=2, collectors=None):
    """ipfixd collecting on UDP (and TCP) at a free port, exporting to dests."""
    port = free_port()
    colls = collectors or ["udp"]
    text = "workers: %d\ncollectors:\n" % workers
    for t in colls:
        text += '  - name: %s\n    transport: %s\n    listen: "127.0.0.1:%d"\n' % (t[0], t, port)
    text += """outputs:
  - name: x
    type: ipfix
    destinations: [%s]
    transport: %s
%s""" % (", ".join('"%s"' % d for d in dests), transport, extra)
    return Daemon(text, expect_collectors=len(colls)), port


def dest_stats(d, when="stats", output="x"):
    """{destination: {counter: value}} from the last destination lines of output (when
    "stats": after a SIGUSR1 of its own)."""
    if when == "stats":
        before = len(re.findall(r"stats output %s destination" % output, d.log()))
        d.signal(signal.SIGUSR1)
        d.wait_log(r"stats output %s destination" % output, count=before + 1)
        time.sleep(0.1)
    out = {}
    for m in re.finditer(r"%s output %s destination (\S+): (.*)" % (when, output), d.log()):
        out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
    return out


def wait_sent(d, want_records, timeout=30.0):
    """Waits until every destination has sent or dropped want_records and holds nothing."""
    deadline = time.time() + timeout * SLOW
    st = {}
    while time.time() < deadline:
        st = dest_stats(d)
        if st and all(v["sent"] + v["dropped"] >= want_records and v["queued_bytes"] == 0
                      for v in st.values()):
            return st
        time.sleep(0.3)
    raise AssertionError("export did not finish: %r" % st)


# ---- (1) chains ----

def downstream(transport="udp", workers=2):
    """The ipfixd an export goes to: collector "b" at a free port, JSON lines to a file.
    Returns (daemon, port, path of the JSON file)."""
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "b.json")
    d = Daemon("""
workers: %d
collectors:
  - name: b
    transport: %s
    listen: "127.0.0.1:%d"
    receive-buffer: 8M
outputs:
  - name: f
    type: json
    path: "%s"
""" % (workers, transport, port, out), expect_collectors=1)
    return d, port, out


def chain(transport):
    n = int(20000 / SLOW)
    b, port_b, out = downstream(transport)
    a, port_a = export_daemon(["127.0.0.1:%d" % port_b], transport)
    try:
        send("-n", n, "-r", 40000, "127.0.0.1:%d" % port_a)
        got = wait_lines(out, n, timeout=30)
        assert got == n, "%d of %d records arrived through the chain" % (got, n)
        st = wait_sent(a, n)
        v = list(st.values())[0]
        assert v["sent"] == n and v["dropped"] == 0, v
        check_synthetic(read_json_lines(out), 0, n)
    finally:
        a.stop()
        b.stop()


def test_chain_udp():
    chain("udp")


def test_chain_tcp():
    chain("tcp")


# ---- (2) enterprise elements byte for byte, (3) tshark, (5) MTU and sequences ----

def corpus_messages():
    files = {
        "yaf": ["ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
                "ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data45873.dat",
                "ipfix_test_yaf_data53248.dat"],
        "netscaler": ["ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"],
        "vmware": ["ipfix_test_vmware_vds_tpl.dat", "ipfix_test_vmware_vds_data264.dat",
                   "ipfix_test_vmware_vds_data266.dat", "ipfix_test_vmware_vds_data266_267.dat"],
    }
    out = collections.OrderedDict()
    for name, names in files.items():
        msgs = []
        for f in names:
            msgs += pcapio.split_messages(open(os.path.join(LS, f), "rb").read())
        out[name] = msgs
    return out


def check_same_records(want, got, vendors):
    """Field for field: the same template layouts and the same record bytes in got (a Reader)
    as in want, enterprise elements included, and an element of each (PEN, vendor) among
    them."""
    w = collections.Counter((r[2], r[3]) for r in want.records)
    g = collections.Counter((r[2], r[3]) for r in got.records)
    missing = w - g
    assert not missing, "%d records differ or are missing, e.g. %r" % (
        sum(missing.values()), next(iter(missing)))
    assert not g - w, "records that were not sent: %r" % next(iter(g - w))
    pens = {f[2] for r in got.records for f in r[2] if f[2]}
    for pen, vendor in vendors:
        assert pen in pens, "no %s enterprise element (PEN %d): %r" % (vendor, pen, pens)


def send_groups(port, groups):
    """Each group from its own UDP socket (its own exporter session), paced."""
    for msgs in groups:
        s = fresh_udp_socket()
        for i, m in enumerate(msgs):
            s.sendto(m, ("127.0.0.1", port))
            if i % 16 == 15:
                time.sleep(0.002)
        s.close()


def test_enterprise_bytes():
    sink = UdpSink()
    src = corpus_messages()
    a, port = export_daemon(["127.0.0.1:%d" % sink.port], "udp", "    mtu: 1400\n")
    try:
        want = Reader()
        for msgs in src.values():
            for m in msgs:
                want.message(m)
        send_groups(port, list(src.values()))
        st = wait_sent(a, len(want.records))
    finally:
        a.stop()
        sink.close()
    got = read_sessions(sink.datagrams)
    for _, dgram in sink.datagrams:
        assert len(dgram) <= 1400, "datagram of %d bytes over the mtu" % len(dgram)
    assert got.unknown == 0, "%d data sets arrived before their template" % got.unknown
    # (one corpus data set refers to a template none of the files define: neither side has it)
    check_same_records(want, got, ((6871, "YAF/CERT"), (5951, "Netscaler"), (6876, "VMware")))
    v = list(st.values())[0]
    assert v["sent"] == len(want.records), v
    tshark_check(sink.datagrams, 4739, len(got.records))


def tshark_check(datagrams, port, records):
    """tshark decodes every datagram as IPFIX: no malformed packet, no expert error, no partial
    message, and as many data records as our own reader found. datagrams: (source port, bytes)
    as they came, each worker's export being a session of its own with its own templates."""
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "x.pcap")
    pcapio.write_udp_pcap(path, datagrams, dport=port)
    base = ["tshark", "-n", "-r", path, "-d", "udp.port==%d,cflow" % port]
    # PI_ERROR is 0x00800000
    r = subprocess.run(base + ["-Y", "_ws.malformed || _ws.expert.severity >= 8388608",
                               "-T", "fields", "-e", "frame.number"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    bad = r.stdout.split()
    assert not bad, "tshark: malformed or expert errors in frames %s" % bad[:20]
    r = subprocess.run(base + ["-q", "-z", "expert,error"], capture_output=True, text=True)
    assert r.returncode == 0 and not re.search(r"Errors \([1-9]", r.stdout), r.stdout[:2000]
    r = subprocess.run(base, capture_output=True, text=True)
    lines = r.stdout.splitlines()
    assert len(lines) == len(datagrams), "tshark shows %d of %d frames" % (len(lines), len(datagrams))
    assert all("IPFIX flow" in l and "partial" not in l for l in lines), \
        [l for l in lines if "IPFIX flow" not in l or "partial" in l][:5]
    r = subprocess.run(base + ["-V"], capture_output=True, text=True)
    flows = len(re.findall(r"^\s+Flow \d+$", r.stdout, re.M))
    assert flows == records, "tshark decodes %d data records, we read %d" % (flows, records)


def delta_message(export_time):
    """IPFIX with flowStartDeltaMicroseconds/flowEndDeltaMicroseconds (158/159)."""
    t = ipfix.template_record(300, [(8, 4), (158, 4), (159, 4), (1, 8)])
    rec = struct.pack(">4sIIQ", b"\x0a\x01\x02\x03", 5000000, 1000000, 77)
    return [ipfix.message([ipfix.set_(2, t)], export_time=export_time, odid=7),
            ipfix.message([ipfix.set_(300, rec)], export_time=export_time, odid=7)]


def netflow9_messages():
    fields = [(8, 4), (12, 4), (1, 4), (2, 4), (22, 4), (21, 4), (4, 1)]
    t = ipfix.netflow9_template(260, fields)
    rec = struct.pack(">4s4sIIIIB", b"\x0a\0\0\x01", b"\x0a\0\0\x02", 1500, 3, 40000, 90000, 17)
    now = int(time.time())
    return [ipfix.netflow9([(0, t)], unix_secs=now, uptime_ms=100000),
            ipfix.netflow9([(260, rec)], seq=1, unix_secs=now, uptime_ms=100000)], now


def test_tshark_conversions_original_exporter():
    """Everything (synthetic, corpus, NetFlow v9, delta times) with original-exporter on."""
    sink = UdpSink()
    a, port = export_daemon(["127.0.0.1:%d" % sink.port], "udp",
                            "    mtu: 512\n    original-exporter: true\n")
    try:
        send("-n", 2000, "-r", 20000, "127.0.0.1:%d" % port)
        send_groups(port, list(corpus_messages().values()))
        old = int(time.time()) - 100
        nf, nf_now = netflow9_messages()
        send_groups(port, [delta_message(old), nf])
        time.sleep(0.5)
        wait_sent(a, 1)
        time.sleep(0.5)
    finally:
        a.stop()
        sink.close()
    datagrams = [d for _, d in sink.datagrams]
    assert all(len(d) <= 512 for d in datagrams), max(len(d) for d in datagrams)
    got = read_sessions(sink.datagrams)
    assert got.unknown == 0
    # delta times moved by exactly the difference of the export times
    seen_delta = seen_nf = 0
    sessions = collections.defaultdict(Reader)
    for sport, d in sink.datagrams:
        r = Reader()
        r.templates = sessions[sport].templates
        r.message(d)
        for rec in r.records:
            v = r.field_values(rec)
            if (0, 158) in v:
                et = struct.unpack(">I", d[4:8])[0]
                assert struct.unpack(">I", v[(0, 158)][0])[0] == 5000000 + (et - old) * 1000000
                assert struct.unpack(">I", v[(0, 159)][0])[0] == 1000000 + (et - old) * 1000000
                assert v[(0, 403)] == [b"\x7f\0\0\x01"] and v[(0, 405)] == [struct.pack(">I", 7)]
                seen_delta += 1
            if (0, 152) in v and (0, 1) in v and v[(0, 1)][0] == struct.pack(">I", 1500):
                boot = nf_now * 1000 - 100000
                assert struct.unpack(">Q", v[(0, 152)][0])[0] == boot + 40000
                assert struct.unpack(">Q", v[(0, 153)][0])[0] == boot + 90000
                assert (0, 21) not in v and (0, 22) not in v
                seen_nf += 1
            assert (0, 403) in v and (0, 405) in v, "record without the original exporter"
    assert seen_delta == 1 and seen_nf == 1, (seen_delta, seen_nf)
    tshark_check(sink.datagrams, 4739, len(got.records))


# ---- (4) a TCP collector that goes away ----

class TcpCollector:
    """Accepts IPFIX/TCP connections; each is read and parsed on its own thread."""

    def __init__(self, port=0):
        self.port = port
        self.conns = []
        self.lock = threading.Lock()
        self.listen()

    def listen(self):
        self.ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.ls.bind(("127.0.0.1", self.port))
        self.port = self.ls.getsockname()[1]
        self.ls.listen(16)
        self.ls.settimeout(0.2)
        self.accepting = True
        self.acceptor = threading.Thread(target=self.accept_loop, daemon=True)
        self.acceptor.start()

    def accept_loop(self):
        while self.accepting:
            try:
                c, _ = self.ls.accept()
            except socket.timeout:
                continue
            except OSError:
                return
            entry = {"sock": c, "reader": Reader(), "first": None, "done": False}
            t = threading.Thread(target=self.read_loop, args=(entry,), daemon=True)
            entry["thread"] = t
            with self.lock:
                self.conns.append(entry)
            t.start()

    def read_loop(self, e):
        buf = b""
        s = e["sock"]
        while True:
            try:
                d = s.recv(1 << 16)
            except OSError:
                d = b""
            if not d:
                break
            buf += d
            while len(buf) >= 4:
                n = struct.unpack(">H", buf[2:4])[0]
                if len(buf) < n:
                    break
                m, buf = buf[:n], buf[n:]
                if e["first"] is None:
                    e["first"] = m
                e["reader"].message(m)
        e["done"] = True
        s.close()

    def stop(self):
        """Gracefully: FIN to every connection, read until ipfixd closes, stop listening."""
        self.accepting = False
        self.acceptor.join()
        self.ls.close()
        with self.lock:
            conns = list(self.conns)
        for e in conns:
            if not e["done"]:
                try:
                    e["sock"].shutdown(socket.SHUT_WR)
                except OSError:
                    pass
        for e in conns:
            e["thread"].join(timeout=10)
            assert e["done"], "ipfixd did not close a connection the collector closed"

    def delivered(self):
        with self.lock:
            return sum(len(e["reader"].records) for e in self.conns)


def test_tcp_collector_restart():
    coll = TcpCollector()
    a, port = export_daemon(["127.0.0.1:%d" % coll.port], "tcp",
                            "    queue: 128K\n", workers=2)
    total = int(30000 / SLOW)
    try:
        sender = threading.Thread(target=send, args=("-n", total, "-r", int(total / 15),
                                                     "127.0.0.1:%d" % port))
        sender.start()
        time.sleep(3)
        coll.stop()
        time.sleep(10)
        coll.listen()
        sender.join()
        st = wait_sent(a, total, timeout=40)
        time.sleep(0.5)
        coll.stop()
        v = list(st.values())[0]
    finally:
        final = a.stop()
    delivered = coll.delivered()
    print("     records=%d delivered=%d dropped=%d reconnects=%d connections=%d" % (
        total, delivered, v["dropped"], v["reconnects"], len(coll.conns)))
    assert v["records"] == total, v
    assert v["reconnects"] >= 1, v
    assert v["dropped"] > 0, "the 10 s outage should overflow a 128K queue: %r" % v
    assert delivered == v["sent"], "delivered %d, ipfixd says sent %d" % (delivered, v["sent"])
    assert v["sent"] + v["dropped"] == total, v
    for e in coll.conns:
        r = e["reader"]
        assert r.unknown == 0, "data before its template on a connection"
        if r.records:
            # a new session starts with its templates
            first = e["first"]
            assert struct.unpack(">H", first[16:18])[0] == 2, "first set is not a template set"
        check_sequences(r.messages)
        assert all(m[0] <= 65535 for m in r.messages)


# ---- config errors ----

def test_config_errors():
    tmp = tempfile.mkdtemp()
    cases = [
        ('    destinations: ["127.0.0.1"]\n', "must be IPV4:PORT or [IPV6]:PORT"),
        ('    destinations: ["*:4739"]\n', "needs an address"),
        ('    destinations: ["127.0.0.1:9", "127.0.0.1:9"]\n', "listed twice"),
        ('    destinations: ["127.0.0.1:9"]\n    mode: some\n', "mode must be all or balance"),
        ('    destinations: ["127.0.0.1:9"]\n    mtu: 100\n', "mtu must be"),
        ('    destinations: ["127.0.0.1:9"]\n    path: "-"\n', "applies only to outputs of type json"),
        ('    mtu: 1400\n', "needs destinations"),
    ]
    check_output_config_errors(tmp, "    type: ipfix\n", cases, "relay.yaml")


def check_output_config_errors(tmp, head, cases, example):
    """ipfixd -t refuses each output body (after an output named x and head) with its message
    at file:line:col, and accepts config/examples/<example>."""
    for body, msg in cases:
        path = os.path.join(tmp, "c.yaml")
        with open(path, "w") as f:
            f.write('collectors:\n  - name: u\n    listen: "127.0.0.1:4739"\n'
                    'outputs:\n  - name: x\n' + head + body)
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr and re.search(r"c\.yaml:\d+:\d+:", r.stderr), \
            "%r: %s" % (body, r.stderr)
    # the example names directories of the machine it is for: its text is what is checked here
    ex = os.path.join(os.path.dirname(__file__), "../../config/examples", example)
    r = subprocess.run([BIN, "-t", "--syntax-only", "-c", ex], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


# ---- nfcapd (nfdump) as the receiver, when installed ----

def test_nfcapd():
    if shutil.which("nfcapd") is None or shutil.which("nfdump") is None:
        print("     (nfcapd not installed: skipped)")
        return
    tmp = tempfile.mkdtemp()
    nport = free_port()
    p = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(nport), "-w", tmp, "-t", "60"],
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    a, port = export_daemon(["127.0.0.1:%d" % nport], "udp")
    try:
        send("-n", 5000, "-r", 20000, "127.0.0.1:%d" % port)
        wait_sent(a, 5000)
        time.sleep(1)
    finally:
        a.stop()
        p.terminate()
        p.wait()
    r = subprocess.run(["nfdump", "-R", tmp, "-q", "-o", "csv", "-N"], capture_output=True,
                       text=True)
    rows = [l for l in r.stdout.splitlines() if re.match(r"^\d{4}-", l)]
    assert len(rows) == 5000, "nfdump read %d of 5000 flows: %s" % (len(rows), r.stderr[-500:])



# ---- (6) RFC 6313 lists name templates that are exported with them ----

def lists_exporter(sock, port, mark, tpl300, rec300):
    """One exporter: template 300 (its own layout), 301 (sourceTransportPort), 302 (a record
    holding a subTemplateList of 301) and 400 (octetDeltaCount = mark, a subTemplateList of 300,
    a subTemplateMultiList of a 301 and a 302 block)."""
    t = ipfix.set_(2, ipfix.template_record(300, tpl300) +
                   ipfix.template_record(301, [(7, 2)]) +
                   ipfix.template_record(302, [(4, 1), (292, 65535)]) +
                   ipfix.template_record(400, [(1, 8), (292, 65535), (293, 65535)]))
    sock.sendto(ipfix.message([t]), ("127.0.0.1", port))
    time.sleep(0.2)  # templates first, as a real exporter's session would have them
    stl301 = struct.pack(">BH", 2, 301) + struct.pack(">H", 53)
    rec302 = struct.pack(">B", 17) + ipfix.varlen(stl301)
    stl = struct.pack(">BH", 4, 300) + rec300
    stml = (struct.pack(">B", 3) + struct.pack(">HH", 301, 6) + struct.pack(">H", 80) +
            struct.pack(">HH", 302, 4 + len(rec302)) + rec302)
    data = struct.pack(">Q", mark) + ipfix.varlen(stl) + ipfix.varlen(stml)
    sock.sendto(ipfix.message([ipfix.set_(400, data)]), ("127.0.0.1", port))


def test_lists_name_exported_templates():
    """Two exporters in one export domain define templates 300..400 differently: the second
    one's are exported under other IDs, and every list naming them is rewritten."""
    b, port_b, out = downstream(workers=1)
    # one worker, so both exporters share one export session and its template IDs
    a, port_a = export_daemon(["127.0.0.1:%d" % port_b], workers=1)
    try:
        x, y = fresh_udp_socket(), fresh_udp_socket()
        lists_exporter(x, port_a, 7001, [(8, 4), (11, 2)], bytes([10, 0, 0, 1]) + b"\x01\xbb")
        time.sleep(0.2)
        lists_exporter(y, port_a, 7002, [(4, 1), (2, 8)], b"\x06" + struct.pack(">Q", 99))
        assert wait_lines(out, 2, timeout=15) == 2
        time.sleep(0.3)
    finally:
        a.stop()
        b.stop()
    recs = {r["octetDeltaCount"]: r for r in read_json_lines(out)}
    assert set(recs) == {7001, 7002}, recs

    def check(r, first):
        """The lists as sent; returns the template IDs they name downstream."""
        assert isinstance(r["subTemplateList"], dict), "the list did not decode downstream: %r" % r
        stl = dict(r["subTemplateList"])
        tids = [stl.pop("@template")]
        assert stl == {"@semantic": "ordered", "@records": [first]}, stl
        stml = r["subTemplateMultiList"]
        assert isinstance(stml, dict), "the list did not decode downstream: %r" % stml
        got = [dict(rec) for rec in stml["@records"]]
        tids += [rec.pop("@template") for rec in got]
        nested = dict(got[1].get("subTemplateList", {}))
        tids.append(nested.pop("@template", None))
        got[1]["subTemplateList"] = nested
        assert got == [{"sourceTransportPort": 80},
                       {"protocolIdentifier": 17,
                        "subTemplateList": {"@semantic": "oneOrMoreOf",
                                            "@records": [{"sourceTransportPort": 53}]}}], got
        return tids

    # the first exporter's templates keep their IDs (they were free), the second one's take
    # others: the lists of both decode only if their names were rewritten to match
    assert recs[7001]["@template"] == 400
    assert check(recs[7001], {"sourceIPv4Address": "10.0.0.1",
                              "destinationTransportPort": 443}) == [300, 301, 302, 301]
    tids = check(recs[7002], {"protocolIdentifier": 6, "packetDeltaCount": 99})
    assert recs[7002]["@template"] != 400 and not {300, 301, 302} & set(tids), (
        "the second exporter's templates should have taken other IDs", recs[7002]["@template"],
        tids)

if __name__ == "__main__":
    run([test_config_errors, test_chain_udp, test_chain_tcp, test_enterprise_bytes,
         test_tshark_conversions_original_exporter, test_lists_name_exported_templates,
         test_tcp_collector_restart, test_nfcapd])
