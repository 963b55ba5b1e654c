"""Helpers shared by the conformance cases (tests/conformance/test_*.py).

Every case drives the real ipfixd and checks three things:
  1. ipfixd is still serving (alive, and the probe below comes out);
  2. the counters moved by exactly what the case expects: `Ixd.check()` compares every counter
     of the collector's summary line before and after the case, so a counter the case did not
     name must not move at all;
  3. the next valid message decodes: `Ixd.probe()` sends a fresh template and data record and
     waits for its JSON line with exactly the right values.

A UDP case sends its bytes and its probe from the same socket: they reach the same worker in
order, so when the probe's line is out, the case's bytes have been counted.
"""
import itertools
import json
import os
import socket
import struct
import tempfile
import time

import ipfix
from ixdtest import SLOW, Daemon, free_port, fresh_udp_socket

# error reasons (src/ipfix/counters.c); a reason is printed only once it is > 0
ERRORS = ("version", "message_length", "truncated", "set_length", "set_id", "template_id",
          "template_length", "template_scope", "template_empty", "template_limit", "field_length",
          "no_template", "record_length", "tcp_framing", "connection_limit", "domain_limit",
          "not_allowed", "no_memory")
# counters every case checks (all of them: one not named by a case must stay put)
COUNTERS = ("messages", "records", "templates", "options_records", "seq_lost", "seq_reordered",
            "seq_resets", "held_sets", "late_records", "held_dropped", "templates_evicted",
            "sessions_evicted")
# in struct ixd_counters (src/ipfix/counters.h) but not (yet) in the summary line: a case that
# needs one names it, and fails with "not printed" until the line has it
UNPRINTED = ("templates_replaced", "templates_withdrawn", "templates_expired")
# gauges and totals that cases do not compare
IGNORED = ("bytes", "sessions", "tcp_connections", "socket_drops", "errors")

PROBE_TID = 4000
PROBE_ODID = 4000  # probes have their own observation domain and sequence numbers
_marks = itertools.count(1000001)


def mark():
    """A value unique in this run: cases put it in octetDeltaCount to find their records."""
    return next(_marks)


def udp(addr="127.0.0.1"):
    return fresh_udp_socket(addr)


def tcp(port, addr="127.0.0.1", source="127.0.0.1"):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.bind((source, 0))
    s.settimeout(10 * SLOW)
    s.connect((addr, port))
    return s


def reset(sock):
    """Closes a TCP socket with a RST (SO_LINGER 0) instead of a FIN."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def wait_closed(sock, timeout=15.0):
    """Waits until ipfixd closes the connection (EOF or reset); True if it did."""
    sock.settimeout(timeout * SLOW)
    try:
        while True:
            data = sock.recv(4096)
            if not data:
                return True
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False


def finish(sock):
    """Half-closes a TCP exporter and waits until ipfixd has read everything and closed."""
    sock.shutdown(socket.SHUT_WR)
    closed = wait_closed(sock)
    sock.close()
    assert closed, "ipfixd did not close the connection after the exporter's FIN"


# ---- message builders

def tmpl_set(*records):
    return ipfix.set_(2, b"".join(records))


def opt_set(*records):
    return ipfix.set_(3, b"".join(records))


def tmpl(tid, fields):
    return ipfix.template_record(tid, fields)


def small_set(tid, ks):
    return ipfix.set_(tid, b"".join(ipfix.small_record(k) for k in ks))


def msg(*sets, seq=0, odid=1):
    return ipfix.message(list(sets), seq=seq, odid=odid)


def small_expected(k):
    """The JSON values of ipfix.small_record(k) under ipfix.SMALL_FIELDS."""
    return {
        "sourceIPv4Address": "10.0.%d.%d" % ((k >> 8) & 255, k & 255),
        "destinationIPv4Address": "192.0.2.%d" % (k & 255),
        "sourceTransportPort": 1000 + k % 5000,
        "destinationTransportPort": 80,
        "protocolIdentifier": 6,
        "octetDeltaCount": k,
    }


def probe_message(k, odid=1, seq=0):
    return msg(tmpl_set(tmpl(PROBE_TID, ipfix.SMALL_FIELDS)), small_set(PROBE_TID, [k]),
               odid=odid, seq=seq)


# one probe: what it adds to the counters of its collector
PROBE = {"messages": 1, "records": 1, "templates": 1}


def plus(*dicts, **more):
    """Adds counter expectations."""
    out = {}
    for d in dicts + (more,):
        for k, v in d.items():
            out[k] = out.get(k, 0) + v
    return out


class Ixd:
    """One ipfixd with a UDP collector "u" and a TCP collector "t" on one port, plus extras.

    extra: list of (name, transport, {key: value}) collectors, each on its own port
    (self.ports[name]). u_opts / t_opts: extra keys of "u" and "t".
    """

    def __init__(self, workers=2, limits=None, u_opts=None, t_opts=None, extra=(), port=None,
                 state="none"):
        self.out = os.path.join(tempfile.mkdtemp(prefix="ixdconf-"), "out.json")
        self.port = port or free_port()
        self.ports = {"u": self.port, "t": self.port}
        cols = [("u", "udp", u_opts or {}), ("t", "tcp", t_opts or {})] + list(extra)
        lines = ["workers: %d" % workers, "state-directory: %s" % state]
        if limits:
            lines.append("limits:")
            lines += ["  %s: %s" % kv for kv in limits.items()]
        lines.append("collectors:")
        for name, transport, opts in cols:
            if name not in self.ports:
                self.ports[name] = free_port()
            lines += ["  - name: %s" % name, "    transport: %s" % transport,
                      '    listen: "127.0.0.1:%d"' % self.ports[name]]
            for k, v in opts.items():
                lines.append("    %s: %s" % (k, v))
        lines += ["outputs:", "  - name: file", "    type: json", '    path: "%s"' % self.out]
        self.config = "\n".join(lines) + "\n"
        self.d = Daemon(self.config)
        self.closed = False
        self.probe_seq = {}

    # ---- output

    def records(self):
        """Every complete JSON line written so far."""
        try:
            with open(self.out, "rb") as f:
                data = f.read()
        except FileNotFoundError:
            return []
        out = []
        for line in data.split(b"\n")[:-1]:
            out.append(json.loads(line))
        return out

    def wait_records(self, pred, n=1, timeout=10.0, exact=True):
        """Waits for n records matching pred; returns them (exactly n unless exact=False)."""
        deadline = time.time() + timeout * SLOW
        while True:
            got = [r for r in self.records() if pred(r)]
            if len(got) >= n:
                if exact:
                    time.sleep(0.05)
                    got = [r for r in self.records() if pred(r)]
                    assert len(got) == n, "expected %d records, got %d: %r" % (n, len(got), got)
                return got
            self.assert_alive()
            if time.time() > deadline:
                raise AssertionError("%d of %d expected records arrived: %r" % (len(got), n, got))
            time.sleep(0.02)

    def marked(self, k):
        """The records whose octetDeltaCount is k."""
        return [r for r in self.records() if r.get("octetDeltaCount") == k]

    def assert_none(self, k):
        got = self.marked(k)
        assert not got, "record %d should not have been decoded: %r" % (k, got)

    # ---- liveness and probes

    def assert_alive(self):
        if not self.d.alive():
            tail = "\n".join(self.d.log().splitlines()[-12:])
            raise AssertionError("ipfixd is gone (exit %s); the log ends:\n%s"
                                 % (self.d.proc.returncode, tail))

    def probe(self, sock=None, collector="u", odid=PROBE_ODID, late=False):
        """Sends a valid template + data record and waits for its exact JSON line.

        sock: a UDP socket (the case's own, so that its bytes were processed first) or a
        connected TCP socket; None: a fresh UDP socket to `collector`. Probes number their
        messages in their own domain, so they never disturb a case's sequence numbers.
        """
        self.assert_alive()
        k = mark()
        own = sock is None
        if own:
            sock = udp()
        key = (id(sock), sock.fileno(), odid)
        seq = self.probe_seq.get(key, 0)
        self.probe_seq[key] = seq + 1
        m = probe_message(k, odid=odid, seq=seq)
        if sock.type == socket.SOCK_DGRAM:
            sock.sendto(m, ("127.0.0.1", self.ports[collector]))
        else:
            sock.sendall(m)
        recs = self.wait_records(lambda r: r.get("octetDeltaCount") == k)
        check_small(recs[0], k, tid=PROBE_TID, collector=collector, odid=odid, late=late)
        if own:
            sock.close()
        return recs[0]

    def tcp_probe(self, collector="t"):
        """A valid template + data record on a fresh TCP connection, then a clean close."""
        s = tcp(self.ports[collector])
        self.probe(s, collector=collector)
        finish(s)

    # ---- counters

    def stats(self):
        self.assert_alive()
        return self.d.stats()

    def wait_stats(self, pred, collector, timeout=15.0):
        """Polls the counters until pred(counters of collector) holds; returns all counters."""
        deadline = time.time() + timeout * SLOW
        while True:
            st = self.stats()
            if pred(st[collector]):
                return st
            if time.time() > deadline:
                raise AssertionError("counters never reached the expected state: %r" %
                                     st[collector])
            time.sleep(0.2)

    def check(self, before, after, collector, **expect):
        """Every counter of collector moved by exactly expect[name] (0 when not named)."""
        check_delta(before[collector], after[collector], collector, expect)

    def expect(self, before, collector, timeout=2.0, **expect):
        """check() against fresh counters, polled for a moment: a worker may count a little
        after the client saw the effect (e.g. a connection's held sets are counted after its
        socket is closed). Returns the counters that matched."""
        deadline = time.time() + timeout * SLOW
        while True:
            after = self.stats()
            bad, missing = delta_problems(before[collector], after[collector], expect)
            if not bad or time.time() > deadline:
                check_delta(before[collector], after[collector], collector, expect)
                return after
            time.sleep(0.2)

    def stop(self):
        """Stops ipfixd (final counters, sanitizer reports) and returns the final counters."""
        if self.closed:
            return None
        self.closed = True
        return self.d.stop()

    def final_lines(self):
        """{"collector C exporter A[ odid N]": {counter: value}} from the shutdown summary."""
        import re
        out = {}
        for m in re.finditer(r"final (collector \S+ exporter \S+(?: odid \d+)?): (.*)",
                             self.d.log()):
            out[m.group(1)] = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(2))}
        return out


def check_small(r, k, tid, collector=None, odid=None, late=False):
    for key, val in small_expected(k).items():
        assert r.get(key) == val, "record %d: %s is %r, expected %r: %r" % (k, key, r.get(key),
                                                                            val, r)
    assert r.get("@template") == tid, r
    if collector is not None:
        assert r.get("@collector") == collector, r
    if odid is not None:
        assert r.get("@odid") == odid, r
    if late:
        assert r.get("@late") is True, "record %d should be marked late: %r" % (k, r)
    else:
        assert "@late" not in r, "record %d should not be marked late: %r" % (k, r)


def delta_problems(b, a, expect):
    """([counters that moved wrongly], [counters expected but not printed])."""
    bad, missing = [], []
    for name in expect:
        if name not in COUNTERS + ERRORS + UNPRINTED:
            raise ValueError("unknown counter %s" % name)
    for name in COUNTERS + UNPRINTED:
        if name not in a:
            if name in expect:
                missing.append(name)
            elif name in COUNTERS:
                bad.append("%s is not in the summary line" % name)
            continue
        got = a[name] - b.get(name, 0)
        if got != expect.get(name, 0):
            bad.append("%s moved by %d, expected %d" % (name, got, expect.get(name, 0)))
    total = 0
    for name in ERRORS:
        got = a.get(name, 0) - b.get(name, 0)
        total += expect.get(name, 0)
        if got != expect.get(name, 0):
            bad.append("errors %s moved by %d, expected %d" % (name, got, expect.get(name, 0)))
    if a.get("errors", 0) - b.get("errors", 0) != total:
        bad.append("errors moved by %d, expected %d" % (a.get("errors", 0) - b.get("errors", 0),
                                                       total))
    return bad, missing


def check_delta(b, a, collector, expect):
    bad, missing = delta_problems(b, a, expect)
    if missing:
        bad.append("counter(s) %s not printed in the 'stats collector' line (needed to check "
                   "this case; src/daemon/control.c log_summary)" % ", ".join(missing))
    if bad:
        raise AssertionError("collector %s: %s\nbefore: %r\nafter:  %r" % (collector,
                                                                          "; ".join(bad), b, a))


class Exporter:
    """One exporter: a UDP socket or a TCP connection to a collector of x, numbering its
    messages per observation domain as RFC 7011 3.1 says (data records sent before)."""

    def __init__(self, x, collector="u", source="127.0.0.1"):
        self.x = x
        self.collector = collector
        self.port = x.ports[collector]
        self.is_tcp = collector_transport(x, collector) == "tcp"
        self.sock = tcp(self.port, source=source) if self.is_tcp else udp(source)
        self.seq = {}

    def send(self, *sets, records=0, odid=1, seq=None):
        """One message of these sets; records: how many data records it carries."""
        if seq is None:
            seq = self.seq.get(odid, 0)
        self.seq[odid] = (seq + records) & 0xFFFFFFFF
        self.raw(msg(*sets, seq=seq, odid=odid))

    def raw(self, data):
        if self.is_tcp:
            self.sock.sendall(data)
        else:
            self.sock.sendto(data, ("127.0.0.1", self.port))

    def probe(self, **kw):
        return self.x.probe(self.sock, collector=self.collector, **kw)

    def finish(self):
        """UDP: close; TCP: half-close and wait until ipfixd closed its side."""
        if self.is_tcp:
            finish(self.sock)
        else:
            self.sock.close()


def collector_transport(x, name):
    import re
    m = re.search(r"- name: %s\n    transport: (\w+)" % re.escape(name), x.config)
    return m.group(1)


# ---- running a file's cases against shared daemons

_daemons = []


def shared(factory):
    """A daemon created on first use and stopped by the file's last case."""
    box = []

    def get():
        if not box:
            box.append(factory())
            _daemons.append(box[0])
        return box[0]
    return get


def _kill_leftovers():
    for x in _daemons:
        if x.d.alive():
            x.d.proc.kill()


def test_clean_shutdown():
    """Every daemon of the file stops on SIGTERM with exit 0 and no sanitizer report, and its
    final per-collector counters are at least what the last stats showed."""
    for x in _daemons:
        if x.closed:
            continue
        last = x.stats()
        final = x.stop()
        for c, vals in last.items():
            for k in ("messages", "records"):
                assert final[c][k] >= vals[k], (c, k, final[c], vals)


def main(cases):
    import atexit
    from ixdtest import run
    atexit.register(_kill_leftovers)
    run(list(cases) + [test_clean_shutdown])
