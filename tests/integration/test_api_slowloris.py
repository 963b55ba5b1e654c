#!/usr/bin/env python3
"""Slow clients against the API (docs/api.md#slow-clients-and-full-tables): a slowloris from
several loopback addresses, more connections than api.connections, each trickling a header line
every few seconds, must not keep /ready on 127.0.0.1 from being answered within a second, for
30 s, even with 127.0.0.1's own share of connections taken too; a request head that trickles,
on a new or a kept-alive connection, and a request body that trickles are cut at
api.request-timeout."""
import hashlib
import os
import re
import select
import socket
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from ixdtest import SLOW, Daemon, free_port  # noqa: E402
from test_api import Api, free_tcp_port, wait_for  # noqa: E402
from test_api_keepalived import ADMIN, Setup  # noqa: E402

ATTACKERS = ["127.0.0.%d" % i for i in (2, 3, 4, 5)]
# 127.0.0.1 too, from where /ready is asked: its share is full, so /ready gets in by closing
# one of that address's own slow connections
ATTACKERS_LOCAL = ["127.0.0.1"]
PER_IP = 16       # api.connections-per-ip
LIMIT = 32        # api.connections: fewer than the 64 slow connections of the attack
TRICKLE = 6.0     # seconds between two header lines of a slow connection
ATTACK = 30.0     # seconds the attack lasts
BOUND = 1.0       # seconds /ready may take, in the sanitizer build too
DEADLINE = 10.0   # the default api.request-timeout


def config(port, api_port, extra=""):
    return f"""
workers: 1
api:
  listen: "127.0.0.1:{api_port}"
  connections: {LIMIT}
  connections-per-ip: {PER_IP}
{extra}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: out
    type: json
    path: /dev/null
"""


def closed_by_server(s):
    """Whether the server closed s (EOF or reset); s is non-blocking."""
    r, _, _ = select.select([s], [], [], 0)
    if not r:
        return False
    try:
        return s.recv(4096) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True


class Slowloris:
    """PER_IP connections from each attacker address, each sending a request head one line
    every TRICKLE seconds and never finishing it; a connection the server closes is opened
    again (at most twice a second per slot), as a real attack would."""

    def __init__(self, port):
        self.port = port
        self.slots = [[addr, None, 0.0, 0.0] for addr in ATTACKERS + ATTACKERS_LOCAL
                      for _ in range(PER_IP)]
        self.opened = self.closed = self.refused = 0
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def open(self, slot):
        s = socket.socket()
        s.bind((slot[0], 0))
        s.settimeout(1.0)
        try:
            s.connect(("127.0.0.1", self.port))
            s.sendall(b"GET /api/v1/stats HTTP/1.1\r\nHost: x\r\n")
        except OSError:
            s.close()
            self.refused += 1
            return
        s.setblocking(False)
        self.opened += 1
        slot[1], slot[3] = s, time.time()

    def run(self):
        n = 0
        while not self.stop.is_set():
            now = time.time()
            for slot in self.slots:
                s = slot[1]
                if s is not None and closed_by_server(s):
                    s.close()
                    slot[1] = s = None
                    self.closed += 1
                if s is None and now - slot[2] >= 0.5:
                    slot[2] = now
                    self.open(slot)
                elif s is not None and now - slot[3] >= TRICKLE:
                    n += 1
                    try:
                        s.send(b"X-Slow-%d: x\r\n" % n)
                    except OSError:
                        pass
                    slot[3] = now
            time.sleep(0.05)
        for slot in self.slots:
            if slot[1] is not None:
                slot[1].close()

    def held(self):
        return sum(1 for slot in self.slots if slot[1] is not None)


def ready_once(port):
    """Seconds GET /ready took on a new connection from 127.0.0.1, and its status (None when
    the connection failed or no whole answer came within 5 s)."""
    start = time.time()
    s = socket.socket()
    s.settimeout(5.0)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(b"GET /ready HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError:
        return time.time() - start, None
    finally:
        s.close()
    if not data.startswith(b"HTTP/1.1 "):
        return time.time() - start, None
    return time.time() - start, int(data[9:12])


def test_slowloris(port):
    """80 slow connections from 127.0.0.1-5 (16 each) against 32 connections for 30 s."""
    attack = Slowloris(port)
    attack.thread.start()
    wait_for("the attack to fill the connections", lambda: attack.held() >= LIMIT)
    polls, slow = [], []
    end = time.time() + ATTACK
    while time.time() < end:
        took, status = ready_once(port)
        polls.append((took, status))
        if status != 200 or took > BOUND:
            slow.append((round(took, 3), status, round(end - time.time(), 1)))
        time.sleep(0.2)
    attack.stop.set()
    attack.thread.join()
    print("slowloris: %d connections opened, %d closed by ipfixd, %d refused; /ready asked %d "
          "times, slowest %.3f s" % (attack.opened, attack.closed, attack.refused, len(polls),
                                     max(t for t, _ in polls)))
    assert not slow, "/ready not answered 200 within %.1f s (took, status, s left): %s" % (
        BOUND, slow[:20])
    # the attack did press: more connections than fit, and ipfixd closed some of them
    assert attack.opened > LIMIT and attack.closed > 0, (attack.opened, attack.closed)


def trickle(port, head, every, src="127.0.0.6", first=None):
    """Sends head, then one byte of junk header every `every` s until the server closes the
    connection; seconds from the last part of `first` (or the connect) to the close."""
    s = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(src, 0))
    start = time.time()
    if first is not None:
        s.sendall(first)
        reply = s.recv(65536)
        assert reply.startswith(b"HTTP/1.1 200"), reply[:200]
        start = time.time()
    s.sendall(head)
    s.setblocking(False)
    limit = start + 3 * DEADLINE * SLOW
    while time.time() < limit:
        if closed_by_server(s):
            s.close()
            return time.time() - start
        time.sleep(every)
        try:
            s.send(b"x")
        except OSError:
            s.close()
            return time.time() - start
    s.close()
    return None


def test_deadlines(port):
    """A head on a new connection, the next head on a kept-alive one, and a PUT body: each
    trickled a byte a second, each cut at about request-timeout."""
    cases = {
        "head": (b"GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow: ", None),
        "kept-alive head": (b"GET /ready HTTP/1.1\r\nHost: x\r\nX-Slow: ",
                            b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"),
        "body": (b"PUT /api/v1/ha/keepalived/include HTTP/1.1\r\nHost: x\r\n"
                 b"Authorization: Bearer " + ADMIN.encode() + b"\r\n"
                 b"Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{", None),
    }
    took = {}

    def one(name, head, first):
        took[name] = trickle(port, head, 1.0, first=first)
    threads = [threading.Thread(target=one, args=(name,) + c) for name, c in cases.items()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print("deadlines: %s" % {k: v and round(v, 1) for k, v in took.items()})
    for name, t in took.items():
        assert t is not None, "%s: a byte a second kept the connection open for %.0f s" % (
            name, 3 * DEADLINE * SLOW)
        assert DEADLINE - 1 <= t <= DEADLINE + 3 * SLOW, "%s: closed after %.1f s" % (name, t)


def check_metrics(port):
    """/metrics counts the connections closed for each reason."""
    code, _, body = Api(port).get("/metrics", {"Authorization": "Bearer " + ADMIN})
    assert code == 200, (code, body[:300])
    text = body.decode()
    values = dict(re.findall(r'^ipfixd_api_connections_closed_total\{reason="(\w+)"\} (\d+)$',
                             text, re.M))
    # the three trickling requests of test_deadlines, and the attackers pushed out
    assert int(values.get("request_timeout", 0)) >= 3, values
    assert int(values.get("evicted", 0)) > 0, values
    assert re.search(r"^ipfixd_api_connections \d+$", text, re.M), text[:2000]
    print("metrics: closed %s" % values)


def main():
    setup = Setup()
    port, api_port = free_port(), free_tcp_port()
    tokens = "  auth:\n    tokens:\n      - {name: ops, role: admin, sha256: %s}\n" % (
        hashlib.sha256(ADMIN.encode()).hexdigest())
    setup.start_helper()  # manage: true needs the helper's socket
    d = Daemon(config(port, api_port, tokens + setup.ha(True)))
    failed = []
    try:
        wait_for("/ready", lambda: ready_once(api_port)[1] == 200)
        for test in (test_deadlines, test_slowloris):
            try:
                test(api_port)
                print("ok   %s" % test.__name__, flush=True)
            except AssertionError as e:
                print("FAIL %s: %s" % (test.__name__, e), flush=True)
                failed.append(test.__name__)
        assert ready_once(api_port)[1] == 200
        if not failed:
            check_metrics(api_port)
            # thousands of connections closed, and the log says so in a few rate-limited lines
            lines = [line for line in d.log().splitlines() if "api:" in line]
            assert len(lines) < 40, "%d api lines in the log:\n%s" % (len(lines),
                                                                     "\n".join(lines[:50]))
    finally:
        d.stop()
        setup.stop_helper()
    assert not failed, failed
    print("ok")


if __name__ == "__main__":
    main()
