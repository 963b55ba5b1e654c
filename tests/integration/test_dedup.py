"""The dedup stage: two routers (two source addresses, 127.0.0.1 and 127.0.0.2, each sending
from several ports so that both workers read both) export the same flows, the second router's
start times 300 ms later, and some flows whose start times lie 5 s apart (not the same flow).
With dedup the JSON output has each flow once, without it twice; the pipeline's counts, the
stage's counters in SIGUSR1 lines, the API and /metrics agree. A preferred router's copies win
although the other's came first. `ipfixd -t` errors point at
the stage's settings."""
import json
import os
import re
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

from ipfix import message, set_, template_record
from ixdtest import BIN, SLOW, Daemon, free_port, free_tcp_port, read_json_lines, run, wait_lines

N = 600  # flows both routers export
M = 40  # flows the second router starts 5 s later: other flows
PORTS = 4  # source sockets per router
TID = 256
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (152, 8)]
T0 = 1767225600000  # flow start, UNIX ms


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def config(port, tmp, stage, api_port=None):
    api = f'api: {{listen: "127.0.0.1:{api_port}"}}\n' if api_port else ""
    stages = f"\n    stages: [{stage}]" if stage else ""
    return f"""{api}workers: 2
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: out, type: json, path: "{tmp}/out.json"}}
pipelines:
  - name: p
    from: u
    to: out{stages}
"""


def flow(k, start_shift, octets):
    return struct.pack(">4s4sHHBQQ", bytes([10, 1, k >> 8, k & 255]), bytes([192, 0, 2, k % 250]),
                       1024 + k, 443, 6, octets, T0 + 10 * k + start_shift)


def router(addr, port, flows):
    """Sends flows from PORTS sockets bound to addr: each its template, then its share."""
    socks = []
    for i in range(PORTS):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        socks.append(s)
        s.sendto(message([set_(2, template_record(TID, FIELDS))], seq=0), ("127.0.0.1", port))
    time.sleep(0.2)
    seqs = [0] * PORTS
    for i in range(0, len(flows), 20):
        j = (i // 20) % PORTS
        chunk = flows[i:i + 20]
        socks[j].sendto(message([set_(TID, b"".join(chunk))], seq=seqs[j]), ("127.0.0.1", port))
        seqs[j] += len(chunk)
        time.sleep(0.002)
    for s in socks:
        s.close()


def two_routers(port, out):
    """Router A first, then router B once A's records are written (A's copies are first seen)."""
    a = [flow(k, 0, 1000 + k) for k in range(N)] + [flow(N + k, 0, 1000 + N + k) for k in range(M)]
    b = [flow(k, 300, 500000 + k) for k in range(N)] + \
        [flow(N + k, 5000, 500000 + N + k) for k in range(M)]
    router("127.0.0.1", port, a)
    assert wait_lines(out, N + M) >= N + M
    router("127.0.0.2", port, b)


def flows_in(records):
    """{5-tuple: [octetDeltaCount, ...]}"""
    seen = {}
    for r in records:
        k = (r["sourceIPv4Address"], r["destinationIPv4Address"], r["sourceTransportPort"],
             r["destinationTransportPort"], r["protocolIdentifier"])
        seen.setdefault(k, []).append(r["octetDeltaCount"])
    return seen


def final_counts(log):
    m = re.search(r"final pipeline p: in=(\d+) out=(\d+) dropped=(\d+) failed=(\d+)", log)
    assert m, log
    return [int(x) for x in m.groups()]


def get(api_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (api_port, path), timeout=10) as r:
        return r.read().decode()


def wait_in(api_port, n):
    deadline = time.time() + 20 * SLOW
    while time.time() < deadline:
        p = json.loads(get(api_port, "/api/v1/pipelines/p"))
        c = p["stages"][0]["counters"]
        if c["unique"] + c["duplicates"] + c["same_exporter"] + c["preferred"] >= n:
            return p
        time.sleep(0.2)
    raise AssertionError("the stage did not see %d records: %r" % (n, p))


def test_each_flow_once_with_dedup():
    tmp = tempfile.mkdtemp()
    port, api_port = free_port(), free_tcp_port()
    out = os.path.join(tmp, "out.json")
    d = Daemon(config(port, tmp, "dedup: {window: 60s, tolerance-ms: 1000}", api_port))
    try:
        two_routers(port, out)
        p = wait_in(api_port, 2 * (N + M))
        c = p["stages"][0]["counters"]
        assert p["stages"][0]["type"] == "dedup", p
        assert c["duplicates"] == N and c["unique"] == N + 2 * M, c
        assert c["same_exporter"] == 0 and c["preferred"] == 0 and c["evictions"] == 0, c
        assert c["entries"] == N + 2 * M, c
        metrics = get(api_port, "/metrics")
        assert 'ipfixd_dedup_duplicate_records_total{pipeline="p",stage="0"} %d' % N in metrics
        assert 'ipfixd_dedup_entries{pipeline="p",stage="0"} %d' % (N + 2 * M) in metrics
    finally:
        d.stop()
    log = d.log()
    assert final_counts(log) == [2 * (N + M), N + 2 * M, N, 0], log
    assert re.search(r"final pipeline p stage 0 dedup: unique=%d duplicates=%d" % (N + 2 * M, N),
                     log), log
    seen = flows_in(read_json_lines(out))
    assert len(seen) == N + M, len(seen)
    for k, octets in seen.items():
        i = (k[0].split(".")[2], k[0].split(".")[3])
        i = int(i[0]) * 256 + int(i[1])
        if i < N:  # one copy: router A's, the first seen
            assert octets == [1000 + i], (k, octets)
        else:  # start times 5 s apart: two flows
            assert sorted(octets) == [1000 + i, 500000 + i], (k, octets)
    exporters = {r["@exporter"] for r in read_json_lines(out)}
    assert exporters == {"127.0.0.1", "127.0.0.2"}, exporters


def test_each_flow_twice_without():
    tmp = tempfile.mkdtemp()
    port = free_port()
    out = os.path.join(tmp, "out.json")
    d = Daemon(config(port, tmp, None))
    try:
        two_routers(port, out)
        assert wait_lines(out, 2 * (N + M)) == 2 * (N + M)
    finally:
        d.stop()
    seen = flows_in(read_json_lines(out))
    assert len(seen) == N + M and all(len(v) == 2 for v in seen.values()), len(seen)


def test_preferred_exporter_wins():
    """With prefer-exporters naming the second router, its copies go out although the first
    router's came first (counted as preferred), and the first router's later copies of those
    flows are dropped."""
    tmp = tempfile.mkdtemp()
    port, api_port = free_port(), free_tcp_port()
    out = os.path.join(tmp, "out.json")
    d = Daemon(config(port, tmp, "dedup: {prefer-exporters: [127.0.0.2]}", api_port))
    try:
        a = [flow(k, 0, 1000 + k) for k in range(N)]
        b = [flow(k, 300, 500000 + k) for k in range(N)]
        router("127.0.0.1", port, a)
        assert wait_lines(out, N) >= N
        router("127.0.0.2", port, b)
        assert wait_lines(out, 2 * N) >= 2 * N
        router("127.0.0.1", port, [flow(k, 100, 900000 + k) for k in range(N)])
        c = wait_in(api_port, 3 * N)["stages"][0]["counters"]
        assert c["unique"] == N and c["preferred"] == N and c["duplicates"] == N, c
    finally:
        d.stop()
    seen = flows_in(read_json_lines(out))
    assert len(seen) == N, len(seen)
    assert all(sorted(v) == [v[0], v[0] + 499000] and v[0] < 500000 for v in seen.values()), seen


def test_config_errors():
    """ipfixd -t names the file, line and column of the setting and the problem."""
    tmp = tempfile.mkdtemp()
    for stage, msg, line in (
            ("dedup: {key: [sourceIPv4Address, nosuchElement]}",
             "'nosuchElement' is not an information element", 10),
            ("dedup: {key: [protocolIdentifier, protocolIdentifier]}", "in the key twice", 10),
            ("dedup: {window: 0}", "window", 10),
            ("dedup: {entries: 10}", "entries", 10),
            ("dedup: {prefer-exporters: [not-an-address]}", "'not-an-address' is not", 10),
            ("dedup: {windw: 5s}", "windw", 10),
            ("dedup: {prefer-interfaces: []}", "prefer-interfaces must list 1 to 16 words", 10),
            ("dedup: drop", "dedup wants settings", 10)):
        path = os.path.join(tmp, "c.yaml")
        write(path, config(9, tmp, stage))
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr and "c.yaml:%d:" % line in r.stderr, \
            (stage, r.stderr)
    path = os.path.join(tmp, "c.yaml")
    write(path, config(9, tmp, "dedup: {key: [sourceIPv4Address, destinationIPv4Address], "
                       "prefer-exporters: [192.0.2.0/24], prefer-interfaces: [edge], window: 2m, "
                       "entries: 4096}"))
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


if __name__ == "__main__":
    run([test_each_flow_once_with_dedup, test_each_flow_twice_without,
         test_preferred_exporter_wins, test_config_errors])
