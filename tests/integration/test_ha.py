"""Template sharing between two HA peers (docs/internals/ha.md): two ipfixd on loopback, each
listening for the other and connecting to it, an exporter that fails over from A to B."""
import hashlib
import hmac
import os
import re
import selectors
import signal
import socket
import struct
import subprocess
import tempfile
import threading
import time

import ipfix
from ixdtest import BIN, SLOW, Daemon, free_port, read_json_lines, run, wait_lines

OPTIONS_FIELDS = [(149, 4), (41, 8), (40, 8)]  # scope observationDomainId; exported counts


def key_file(dirname, content=None):
    path = os.path.join(dirname, "ha.key")
    with open(path, "wb") as f:
        f.write(content if content is not None else os.urandom(32))
    os.chmod(path, 0o600)
    return path


def peer_config(udp_port, out, listen, peer, key, state="none"):
    return f"""
state-directory: {state}
workers: 2
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{udp_port}"
outputs:
  - name: file
    type: json
    path: "{out}"
ha:
  listen: "127.0.0.1:{listen}"
  peer: "127.0.0.1:{peer}"
  key-file: {key}
  share-interval: 100ms
"""


class Pair:
    """Two peers A and B; keys may differ to test refusal."""

    def __init__(self, key_a, key_b=None, wait_auth=True, start=True):
        self.dir = tempfile.mkdtemp(prefix="ixdha-")
        self.udp = [free_port(), free_port()]
        self.ha = [free_port(), free_port()]
        self.out = [os.path.join(self.dir, "a.json"), os.path.join(self.dir, "b.json")]
        self.keys = [key_a, key_b or key_a]
        if not start:  # the caller starts them, in its own order
            self.d = [None, None]
            return
        self.d = [self.start(0), self.start(1)]
        if wait_auth:
            for d in self.d:
                d.wait_log(r"ha: connection to \S+ authenticated")
                d.wait_log(r"ha: connection from \S+ authenticated")

    def config(self, i):
        return peer_config(self.udp[i], self.out[i], self.ha[i], self.ha[1 - i], self.keys[i])

    def start(self, i):
        return Daemon(self.config(i), expect_collectors=1)

    def stop(self):
        return [d.stop() for d in self.d]


def ha_stats(d, timeout=10.0):
    """SIGUSR1, then the counters of the 'stats ha:' line it logs."""
    before = len(re.findall(r"stats ha:", d.log()))
    d.signal(signal.SIGUSR1)
    text = d.wait_log(r"stats ha:", count=before + 1, timeout=timeout)
    line = re.findall(r"stats ha: (.*)", text)[-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def final_ha(text):
    line = re.findall(r"final ha: (.*)", text)[-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def exporter():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))  # one source port for A and B: the same UDP session
    return s


def templates_message(seq):
    return ipfix.message([ipfix.set_(2, ipfix.template_record(256, ipfix.SMALL_FIELDS)),
                          ipfix.set_(3, ipfix.options_template_record(257, 1, OPTIONS_FIELDS),
                                     pad_to4=True)], seq=seq)


def options_data_message(seq):
    return ipfix.message([ipfix.set_(257, struct.pack(">IQQ", 1, 100, 200))], seq=seq)


def wait_restored(d, want, timeout=10.0):
    """Polls d's ha counters until templates_restored >= want; returns (seconds, counters)."""
    start = time.time()
    while time.time() - start < timeout * SLOW:
        st = ha_stats(d)
        if st.get("templates_restored", 0) >= want:
            return time.time() - start, st
        time.sleep(0.01)
    raise AssertionError("templates never restored:\n" + d.log())


def test_failover_decodes_from_the_first_datagram():
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    pair = Pair(key_file(tmp))
    a, b = pair.d
    e = exporter()
    to_a = ("127.0.0.1", pair.udp[0])
    to_b = ("127.0.0.1", pair.udp[1])

    # templates (one options template among them) and data reach A only
    t0 = time.time()
    e.sendto(templates_message(0), to_a)
    seconds, st = wait_restored(b, 2)
    latency = time.time() - t0
    seq = 0
    for m in range(10):
        e.sendto(ipfix.small_data_message(range(seq, seq + 10), seq=seq), to_a)
        seq += 10
    e.sendto(options_data_message(seq), to_a)
    seq += 1
    sent_a = seq
    assert wait_lines(pair.out[0], sent_a) == sent_a
    time.sleep(0.5 * SLOW)  # A shares its sequence numbers within 100 ms

    # the failover: 7 records go nowhere, then the exporter's datagrams reach B only
    lost = 7
    seq += lost
    first_b = seq
    sent_b = 0
    for m in range(5):
        e.sendto(ipfix.small_data_message(range(seq, seq + 10), seq=seq), to_b)
        seq += 10
        sent_b += 10
    assert wait_lines(pair.out[1], sent_b) == sent_b, b.log()
    recs = read_json_lines(pair.out[1])
    assert recs[0]["octetDeltaCount"] == first_b, recs[0]
    assert all("@late" not in r for r in recs), recs[:3]
    assert [r["octetDeltaCount"] for r in recs] == list(range(first_b, seq))

    sa, sb = ha_stats(a), ha_stats(b)
    # B holds no template of its own: nothing went back to A (no echo)
    assert sa["templates_received"] == 0, sa
    assert sa["templates_sent"] >= 2 and sb["templates_sent"] == 0, (sa, sb)
    final_a, final_b = pair.stop()
    ua, ub = final_a["u"], final_b["u"]
    assert ub["held_sets"] == 0 and ub["errors"] == 0, ub
    assert ub["seq_lost"] == lost, ub
    assert ua["records"] == sent_a and ua["options_records"] == 1, ua
    assert seq == ua["records"] + ub["records"] + ub["seq_lost"], (seq, ua, ub)
    print("    templates shared: %d (restored on B: %d); latency template at A -> restored at "
          "B: %.0f ms (polled)" % (sa["templates_sent"], st["templates_restored"],
                                   latency * 1000), flush=True)


def count_lines(path):
    try:
        with open(path, "rb") as f:
            return f.read().count(b"\n")
    except FileNotFoundError:
        return 0


def test_latency():
    """From a template's arrival at A to its use at B: B gets a one-record probe every 2 ms;
    the first one decoded (not held) says when the template became available there."""
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    pair = Pair(key_file(tmp))
    results = []
    for run_no in range(5):
        e = exporter()
        odid = 10 + run_no
        before = count_lines(pair.out[1])
        sent = []
        t0 = time.time()
        e.sendto(ipfix.small_template_message(seq=0, odid=odid), ("127.0.0.1", pair.udp[0]))
        for k in range(2000):
            sent.append(time.time())
            e.sendto(ipfix.small_data_message([k], seq=0, odid=odid), ("127.0.0.1", pair.udp[1]))
            time.sleep(0.002)
            if k % 2 == 1 and count_lines(pair.out[1]) > before:
                break
        time.sleep(0.3)  # every line of this run is written out
        first = [r for r in read_json_lines(pair.out[1]) if r["@odid"] == odid][0]
        assert "@late" not in first, first
        results.append((sent[first["octetDeltaCount"]] - t0) * 1000)
    results.sort()
    print("    latency template at A -> decoding at B over 5 runs: min %.0f ms, median %.0f ms, "
          "max %.0f ms" % (results[0], results[2], results[4]), flush=True)
    assert results[2] < 1000 * SLOW, results
    pair.stop()


def test_wrong_key_shares_nothing():
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    pair = Pair(key_file(tmp), key_file(tempfile.mkdtemp(prefix="ixdha-")), wait_auth=False)
    a, b = pair.d
    for d in pair.d:
        d.wait_log(r"failed authentication|refused our authentication")
    e = exporter()
    e.sendto(templates_message(0), ("127.0.0.1", pair.udp[0]))
    e.sendto(ipfix.small_data_message([1], seq=0), ("127.0.0.1", pair.udp[0]))
    assert wait_lines(pair.out[0], 1) == 1
    time.sleep(1.0 * SLOW)
    e.sendto(ipfix.small_data_message([2], seq=1), ("127.0.0.1", pair.udp[1]))
    time.sleep(0.3 * SLOW)
    sa, sb = ha_stats(a), ha_stats(b)
    assert sa["auth_failures"] > 0 and sb["auth_failures"] > 0, (sa, sb)
    assert sb["templates_received"] == 0 and sb["frames_received"] == 0, sb
    assert sa["frames_sent"] == 0, sa
    final_a, final_b = pair.stop()
    assert final_b["u"]["records"] == 0 and final_b["u"]["held_sets"] == 1, final_b


def test_restarted_peer_gets_the_full_set():
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    pair = Pair(key_file(tmp))
    a, b = pair.d
    e = exporter()
    e.sendto(templates_message(0), ("127.0.0.1", pair.udp[0]))
    wait_restored(b, 2)
    b.stop()  # state-directory none: B keeps nothing of its own across the restart
    pair.d[1] = b = pair.start(1)
    b.wait_log(r"ha: connection from \S+ authenticated", timeout=20)
    wait_restored(b, 2, timeout=20)
    e.sendto(ipfix.small_data_message([5, 6], seq=0), ("127.0.0.1", pair.udp[1]))
    assert wait_lines(pair.out[1], 2) == 2
    sa = ha_stats(a)
    assert sa["reconnects"] >= 1 and sa["connects"] >= 2, sa
    final_a, final_b = pair.stop()
    assert final_b["u"]["records"] == 2 and final_b["u"]["held_sets"] == 0, final_b


def test_key_file_checks():
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    short = key_file(tmp, b"x" * 31)
    port, ha_port = free_port(), free_port()
    cfg = peer_config(port, os.path.join(tmp, "o.json"), ha_port, free_port(), short)
    path = os.path.join(tmp, "c.yaml")
    with open(path, "w") as f:
        f.write(cfg)
    r = subprocess.run([BIN, "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "expected 32 to" in r.stderr, r.stderr
    good = key_file(tempfile.mkdtemp(prefix="ixdha-"))
    os.chmod(good, 0o644)
    with open(path, "w") as f:
        f.write(cfg.replace(short, good))
    r = subprocess.run([BIN, "-c", path], capture_output=True, text=True, timeout=30)
    assert r.returncode != 0 and "must not be readable by others" in r.stderr, r.stderr


def memory(d, field):
    with open("/proc/%d/status" % d.proc.pid) as f:
        return int(re.search(r"%s:\s+(\d+) kB" % field, f.read()).group(1)) * 1024


def closed_by_daemon(s, timeout):
    """Reads s until the daemon closes it; False when it is still open after timeout."""
    s.settimeout(timeout)
    try:
        while s.recv(4096):
            pass
    except (ConnectionResetError, BrokenPipeError):
        pass
    except socket.timeout:
        return False
    return True


def test_unauthenticated_frames_are_capped():
    """Six connections, one after the other, each announcing a 16 MiB frame before
    authenticating and sending 8 MiB of it: the daemon closes each at the frame's header,
    and its memory does not grow with what they sent."""
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    ha_port = free_port()
    # the peer is not up: the listener is all there is
    d = Daemon(peer_config(free_port(), os.path.join(tmp, "o.json"), ha_port, free_port(),
                           key_file(tmp)), expect_collectors=1)
    d.wait_log(r"ha: listening on")
    hwm = memory(d, "VmHWM")
    part = 8 << 20
    chunk = b"\0" * 65536
    still_open = 0
    socks = []
    for i in range(6):
        s = socket.create_connection(("127.0.0.1", ha_port), timeout=10 * SLOW)
        s.recv(4 + 50)  # HELLO
        sent = 0
        try:
            s.sendall(struct.pack(">IB", 16 << 20, 2))  # an AUTH frame of 16 MiB
            while sent < part:
                s.sendall(chunk)
                sent += len(chunk)
        except (ConnectionResetError, BrokenPipeError):
            pass
        if not closed_by_daemon(s, 2.0):
            still_open += 1
        socks.append(s)  # kept open: what the daemon holds for them counts together
    growth = memory(d, "VmHWM") - hwm
    st = ha_stats(d)
    assert d.alive()
    d.stop()
    log = d.log()
    for s in socks:
        s.close()
    what = "peak memory grew by %d KiB, %d connections still open, counters %s" % (
        growth >> 10, still_open, st)
    assert st["oversized"] == 6 and st["timeouts"] == 0, what
    assert still_open == 0, what
    assert growth < 8 << 20, what
    assert "sent an empty frame or one over 81 bytes before authenticating" in log, log
    print("    6 connections announcing 16 MiB before authenticating: peak memory grew by "
          "%d KiB" % (growth >> 10), flush=True)


def test_silent_connection_is_closed():
    """A connection that says nothing holds its slot for the handshake's 5 s, no longer."""
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    ha_port = free_port()
    d = Daemon(peer_config(free_port(), os.path.join(tmp, "o.json"), ha_port, free_port(),
                           key_file(tmp)), expect_collectors=1)
    s = socket.create_connection(("127.0.0.1", ha_port), timeout=10 * SLOW)
    t0 = time.time()
    closed = closed_by_daemon(s, 10 * SLOW)
    held = time.time() - t0
    st = ha_stats(d)
    s.close()
    d.stop()
    assert closed and 4.5 < held, held
    assert st["timeouts"] == 1 and st["incoming"] == 0, st


class Holder(threading.Thread):
    """Holds n connections to a port open without a word; each one the other side closes is
    opened again after `again` seconds."""

    def __init__(self, port, n, again=0.05):
        super().__init__(daemon=True)
        self.port, self.n, self.again = port, n, again
        self.stopping = False
        self.closed = 0

    def run(self):
        sel = selectors.DefaultSelector()
        due = [time.time()] * self.n
        while not self.stopping:
            now = time.time()
            for t in [t for t in due if t <= now]:
                due.remove(t)
                s = socket.socket()
                s.setblocking(False)
                s.connect_ex(("127.0.0.1", self.port))
                sel.register(s, selectors.EVENT_READ)
            for key, _ in sel.select(0.01):
                s = key.fileobj
                try:
                    if s.recv(4096):
                        continue  # HELLO
                except BlockingIOError:
                    continue
                except OSError:
                    pass
                sel.unregister(s)
                s.close()
                self.closed += 1
                due.append(time.time() + self.again)
        for key in list(sel.get_map().values()):
            key.fileobj.close()


def test_peer_gets_in_past_unauthenticated_connections():
    """Eight silent connections to B's listener (twice its slots), each opened again as soon as
    B closes it: A still authenticates to B, and B gets A's templates."""
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    pair = Pair(key_file(tmp), start=False)
    pair.d[1] = b = pair.start(1)
    holder = Holder(pair.ha[1], 8)
    holder.start()
    try:
        time.sleep(0.5 * SLOW)  # every slot taken
        pair.d[0] = a = pair.start(0)
        a.wait_log(r"ha: connection to \S+ authenticated", timeout=15 * SLOW)
        e = exporter()
        e.sendto(templates_message(0), ("127.0.0.1", pair.udp[0]))
        wait_restored(b, 2)
        sb = ha_stats(b)
    finally:
        holder.stopping = True
        holder.join()
    pair.stop()
    assert sb["evicted"] > 0 and sb["refused"] == 0, sb
    assert re.search(r"ha: 4 connections to the listener; closing 127\.0\.0\.1:\d+, the oldest "
                     r"not authenticated, for 127\.0\.0\.1:\d+", b.log()), b.log()
    print("    unauthenticated connections closed for others: %d" % sb["evicted"], flush=True)


def recv_frame(s):
    def exactly(n):
        data = b""
        while len(data) < n:
            more = s.recv(n - len(data))
            assert more, "closed after %d of %d bytes" % (len(data), n)
            data += more
        return data
    body = exactly(struct.unpack(">I", exactly(4))[0])
    return body[0], body[1:]


def frame(ftype, payload):
    return struct.pack(">IB", len(payload) + 1, ftype) + payload


def authenticated_client(port, key):
    """A client of the HA protocol (docs/internals/ha.md) that holds the key: (socket, session
    key) once the daemon has answered AUTH_OK."""
    s = socket.create_connection(("127.0.0.1", port), timeout=10 * SLOW)
    ftype, hello = recv_frame(s)
    assert ftype == 1 and len(hello) == 49 and hello[0] == 1, (ftype, hello)
    sid, snonce = hello[1:17], hello[17:49]
    cid, cnonce = os.urandom(16), os.urandom(32)

    def mac(k, *parts):
        return hmac.new(k, b"".join(parts), hashlib.sha256).digest()
    s.sendall(frame(2, cid + cnonce + mac(key, b"ipfixd-ha/1 client", sid, snonce, cid, cnonce)))
    ftype, ok = recv_frame(s)
    assert ftype == 3 and ok == mac(key, b"ipfixd-ha/1 server", cid, cnonce, sid, snonce)
    return s, mac(key, b"ipfixd-ha/1 session", cid, cnonce, sid, snonce)


def test_peer_text_is_escaped_in_the_log():
    """A STATE frame from an authenticated peer whose collector name holds a line break and
    whose data does not decode: the log line shows the name escaped, on one line."""
    tmp = tempfile.mkdtemp(prefix="ixdha-")
    key = os.urandom(32)
    ha_port = free_port()
    d = Daemon(peer_config(free_port(), os.path.join(tmp, "o.json"), ha_port, free_port(),
                           key_file(tmp, key)), expect_collectors=1)
    s, session = authenticated_client(ha_port, key)
    name = b"u\n2030-01-01T00:00:00Z ipfixd[1] error: forged\\"
    payload = struct.pack(">H", len(name)) + name + struct.pack(">BHI", 1, 0, 1) + b"garbage"
    mac = hmac.new(session, struct.pack(">QB", 0, 4) + payload, hashlib.sha256).digest()
    s.sendall(frame(4, payload + mac))
    text = d.wait_log(r"ignoring state for collector")
    st = ha_stats(d)
    s.close()
    d.stop()
    assert st["decode_errors"] == 1 and st["frames_received"] == 1, st
    assert re.search(r"ignoring state for collector u\\n2030-01-01T00:00:00Z ipfixd\[1\] "
                     r"error: forged\\\\ from 127\.0\.0\.1:\d+: ", text), text
    assert not re.search(r"^2030-01-01", text, re.M), text  # no line of the peer's making


if __name__ == "__main__":
    run([test_failover_decodes_from_the_first_datagram, test_wrong_key_shares_nothing,
         test_restarted_peer_gets_the_full_set, test_key_file_checks, test_latency,
         test_unauthenticated_frames_are_capped, test_silent_connection_is_closed,
         test_peer_gets_in_past_unauthenticated_connections, test_peer_text_is_escaped_in_the_log])
