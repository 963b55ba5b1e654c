"""Clock offsets: an exporter whose clock is 90 s fast gets its offset measured (the API's
exporter resource, /metrics) and, through the clock stage, records whose times are right in the
JSON output, while a pipeline without the stage writes them as sent; an exporter with a right
clock is left alone; NetFlow v9 times relative to the exporter's boot move too; a record from
the future is counted and set to its receive time; `ipfixd -t` points at a wrong key."""
import calendar
import glob
import json
import os
import socket
import struct
import subprocess
import tempfile
import time
import urllib.request

import ipfix
from ixdtest import BIN, Daemon, free_port, read_json_lines, run, wait_lines, SLOW

FAST = 90  # seconds the fast exporter's clock is ahead

# sourceIPv4Address, octetDeltaCount, flowStartMilliseconds, flowEndMilliseconds,
# flowStartSeconds, flowEndMicroseconds, flowEndNanoseconds
FIELDS = [(8, 4), (1, 8), (152, 8), (153, 8), (150, 4), (155, 8), (157, 8)]
NTP = 2208988800


def ntp(usec):
    sec, rest = divmod(usec, 1000000)
    return ((sec + NTP) << 32) | ((rest << 32) // 1000000)


def record(k, end_usec):
    """Record k of a flow that ended at end_usec (the exporter's clock) and lasted 5 s."""
    start = end_usec - 5000000
    return struct.pack(">4sQQQIQQ", bytes([10, 0, 0, k & 255]), k, start // 1000, end_usec // 1000,
                       start // 1000000, ntp(end_usec), ntp(end_usec))


def config(port, api_port, tmp):
    os.makedirs(os.path.join(tmp, "arch"), exist_ok=True)
    return f"""
workers: 2
api:
  listen: "127.0.0.1:{api_port}"
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: raw
    type: json
    path: "{tmp}/raw.json"
  - name: fixed
    type: json
    path: "{tmp}/fixed.json"
  - name: arch
    type: ipfix-file
    directory: "{tmp}/arch"
pipelines:
  - name: plain
    from: u
    to: raw
  - name: clocked
    from: u
    to: [fixed, arch]
    stages:
      - clock: {{absurd: receive-time}}
"""


def api_json(port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=10) as r:
        return json.loads(r.read()) if path.startswith("/api") else r.read().decode()


def ms_of(text):
    """UNIX ms of an RFC 3339 time as ipfixd writes it ("...:20.123Z", "...:20.123456Z")."""
    head, _, frac = text.rstrip("Z").partition(".")
    sec = calendar.timegm(time.strptime(head, "%Y-%m-%dT%H:%M:%S"))
    return sec * 1000 + (int((frac + "000000")[:6]) // 1000 if frac else 0)


def exporter(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((addr, 0))
    return s


def send_ipfix(sock, port, ahead, first, n, seq):
    """n messages of one record each, over about a second, from a clock `ahead` s off; returns
    {k: true end time in usec}."""
    truth = {}
    sock.sendto(ipfix.message([ipfix.set_(2, ipfix.template_record(300, FIELDS))], seq=seq,
                              export_time=int(time.time() + ahead)), ("127.0.0.1", port))
    for i in range(n):
        now = time.time()
        k = first + i
        end = int((now - 1.0) * 1e6)  # ended a second ago, by the right clock
        truth[k] = end
        msg = ipfix.message([ipfix.set_(300, record(k, end + ahead * 1000000))], seq=seq + i,
                            export_time=int(now + ahead))
        sock.sendto(msg, ("127.0.0.1", port))
        time.sleep(0.9 / n)
    return truth


def send_v9(sock, port, ahead, k):
    """A NetFlow v9 flow with FIRST/LAST_SWITCHED (uptime ms) from a clock `ahead` s off; the
    exporter booted 1000 s ago. Returns the true end time in ms."""
    now = time.time()
    uptime = 1000000
    tmpl = ipfix.netflow9_template(400, [(8, 4), (1, 4), (22, 4), (21, 4)])
    data = struct.pack(">4sIII", bytes([10, 9, 9, k & 255]), k, uptime - 3000, uptime - 1000)
    sock.sendto(ipfix.netflow9([(0, tmpl), (400, data)], uptime_ms=uptime,
                               unix_secs=int(now + ahead)), ("127.0.0.1", port))
    return int(now * 1000) - 1000


def test_clock_offset_corrected():
    """The fast exporter's records come out with the true times (within the export time's
    second) through the clock stage and as sent without it; the API and /metrics show ~90 s."""
    tmp = tempfile.mkdtemp()
    port, api_port = free_port(), free_port()
    d = Daemon(config(port, api_port, tmp))
    fast, right, v9 = exporter("127.0.0.1"), exporter("127.0.0.2"), exporter("127.0.0.3")
    truth_fast = send_ipfix(fast, port, FAST, 0, 20, 0)
    truth_right = send_ipfix(right, port, 0, 100, 5, 0)
    v9_end = send_v9(v9, port, FAST, 200)
    wait_lines(os.path.join(tmp, "fixed.json"), 26)
    wait_lines(os.path.join(tmp, "raw.json"), 26)
    raw = {r["octetDeltaCount"]: r for r in read_json_lines(os.path.join(tmp, "raw.json"))}
    fixed = {r["octetDeltaCount"]: r for r in read_json_lines(os.path.join(tmp, "fixed.json"))}
    assert len(raw) == 26 and len(fixed) == 26, (len(raw), len(fixed))

    for k, end in list(truth_fast.items()) + list(truth_right.items()):
        true_ms = end // 1000
        ahead = FAST * 1000 if k < 100 else 0
        r, f = raw[k], fixed[k]
        # as sent: the exporter's clock
        assert ms_of(r["flowEndMilliseconds"]) == true_ms + ahead, (k, r)
        # corrected: the export time has whole seconds and the estimate is a lower bound of the
        # offset, so within a second after the true time, never before
        for key in ("flowEndMilliseconds", "flowEndMicroseconds", "flowEndNanoseconds"):
            err = ms_of(f[key]) - true_ms
            assert -50 <= err <= 1100, (k, key, err, f)
        err = ms_of(f["flowStartMilliseconds"]) - (true_ms - 5000)
        assert -50 <= err <= 1100, (k, err, f)
        err = ms_of(f["flowStartSeconds"]) - (true_ms - 5000)
        assert -2100 <= err <= 1000, (k, err, f)
        # the flow keeps its duration
        assert (ms_of(f["flowEndMilliseconds"]) - ms_of(f["flowStartMilliseconds"]) == 5000), f
        if k >= 100:  # the right clock is not touched
            assert f["flowEndMilliseconds"] == r["flowEndMilliseconds"], (r, f)

    # NetFlow v9: uptime-relative times, absolute through the exporter's (corrected) boot time
    err = ms_of(fixed[200]["flowEndMilliseconds"]) - v9_end
    assert -50 <= err <= 1100, (err, fixed[200])
    assert ms_of(raw[200]["flowEndMilliseconds"]) - v9_end >= FAST * 1000 - 1100, raw[200]

    def exporters():
        return {e["address"]: e for e in
                api_json(api_port, "/api/v1/exporters")["_embedded"]["exporters"]}
    deadline = time.time() + 10 * SLOW
    while time.time() < deadline and len(exporters()) < 3:
        time.sleep(0.2)
    ex = exporters()
    assert FAST - 1.0 <= ex["127.0.0.1"]["clock"]["offset"] <= FAST + 0.05, ex["127.0.0.1"]
    assert ex["127.0.0.1"]["clock"]["samples"] == 21, ex["127.0.0.1"]
    assert -1.0 <= ex["127.0.0.2"]["clock"]["offset"] <= 0.05, ex["127.0.0.2"]
    assert FAST - 1.0 <= ex["127.0.0.3"]["clock"]["offset"] <= FAST + 0.05, ex["127.0.0.3"]
    one = api_json(api_port, "/api/v1/exporters/" + ex["127.0.0.1"]["id"])
    assert one["clock"] == ex["127.0.0.1"]["clock"], one
    metrics = api_json(api_port, "/metrics")
    line = [l for l in metrics.splitlines() if l.startswith(
        'ipfixd_exporter_clock_offset_seconds{collector="u",exporter="127.0.0.1"}')]
    assert len(line) == 1 and FAST - 1.0 <= float(line[0].split()[-1]) <= FAST + 0.05, line
    counters = stage_counters(api_json(api_port, "/api/v1/pipelines/clocked"))
    # the fast IPFIX exporter's 20 records and the NetFlow one
    assert counters.get("corrected") == 21 and counters.get("future") == 0, counters
    assert 'ipfixd_clock_records_corrected_total{pipeline="clocked"' in metrics, metrics[-3000:]
    d.stop()
    # the IPFIX re-export carries the corrected times, the NetFlow uptimes made absolute from
    # the corrected boot time: read back by ipfixd (a file measures no clock, corrects nothing)
    back = {r["octetDeltaCount"]: r for r in read_back(tmp)}
    assert sorted(back) == sorted(fixed), (sorted(back), sorted(fixed))
    for k, f in fixed.items():
        for key in ("flowStartMilliseconds", "flowEndMilliseconds"):
            assert ms_of(back[k][key]) == ms_of(f[key]), (k, key, back[k], f)


def read_back(tmp):
    """The records of the IPFIX files the arch output wrote, read by a collector of transport
    file into JSON."""
    paths = sorted(glob.glob(os.path.join(tmp, "arch", "*")))
    assert paths, "no IPFIX file written"
    out = os.path.join(tmp, "back.json")
    text = "workers: 1\ncollectors:\n"
    for i, p in enumerate(paths):
        text += '  - name: f%d\n    transport: file\n    path: "%s"\n' % (i, p)
    text += 'outputs:\n  - name: j\n    type: json\n    path: "%s"\n' % out
    d = Daemon(text)
    d.wait_log(r"collector f\d+: read .*: \d+ messages", count=len(paths))
    time.sleep(0.3)
    d.stop()
    return read_json_lines(out)


def test_future_record_fixed():
    """A record an hour ahead of its exporter's (measured) clock is counted as from the future
    and, with absurd: receive-time, written at its receive time; one before the exporter's boot
    (NetFlow v9 header) is counted too."""
    tmp = tempfile.mkdtemp()
    port, api_port = free_port(), free_port()
    d = Daemon(config(port, api_port, tmp))
    sock = exporter("127.0.0.1")
    now = time.time()
    sock.sendto(ipfix.message([ipfix.set_(2, ipfix.template_record(300, FIELDS))],
                              export_time=int(now + FAST)), ("127.0.0.1", port))
    bad_end = int((now + FAST + 3600) * 1e6)
    sock.sendto(ipfix.message([ipfix.set_(300, record(7, bad_end))], seq=0,
                              export_time=int(now + FAST)), ("127.0.0.1", port))
    wait_lines(os.path.join(tmp, "fixed.json"), 1)
    wait_lines(os.path.join(tmp, "raw.json"), 1)
    f = read_json_lines(os.path.join(tmp, "fixed.json"))[0]
    got = ms_of(f["flowEndMilliseconds"])
    assert got == ms_of(f["@received"]), f
    assert f["flowStartMilliseconds"] == f["flowEndMilliseconds"], f
    raw = read_json_lines(os.path.join(tmp, "raw.json"))[0]
    assert ms_of(raw["flowEndMilliseconds"]) == bad_end // 1000, raw
    deadline = time.time() + 10 * SLOW
    counters = {}
    while time.time() < deadline:
        stage = api_json(api_port, "/api/v1/pipelines/clocked")
        counters = stage_counters(stage)
        if counters.get("fixed") == 1:
            break
        time.sleep(0.2)
    assert counters.get("future") == 1 and counters.get("fixed") == 1, counters
    assert counters.get("corrected") == 0 and counters.get("before_boot") == 0, counters
    d.stop()


def stage_counters(doc):
    """The clock stage's counters from the pipeline resource, wherever it nests them."""
    found = {}

    def walk(x):
        if isinstance(x, dict):
            if x.get("type") == "clock" and isinstance(x.get("counters"), dict):
                found.update(x["counters"])
            for v in x.values():
                walk(v)
        elif isinstance(x, list):
            for v in x:
                walk(v)
    walk(doc)
    return found


def test_check_points_at_key():
    """`ipfixd -t` names the file, line and column of a key the stage does not know, and of a
    value it cannot take."""
    tmp = tempfile.mkdtemp()
    for stage, want, text in (("{tolerence: 5}", ":14:23:", "clock knows the keys"),
                              ("{absurd: drop}", ":14:31:", "absurd is keep or receive-time"),
                              ("{tolerance: soon}", ":14:34:", "wants a duration")):
        path = os.path.join(tmp, "c.yaml")
        with open(path, "w") as f:
            f.write(f"""api: {{enabled: false}}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:4739"
outputs:
  - name: o
    type: json
    path: /dev/null
pipelines:
  - name: p
    from: u
    to: o
    stages: [{{clock: {stage}}}]
""")
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0, r
        assert path + want in r.stderr and text in r.stderr, r.stderr
    with open(path, "w") as f:
        f.write(f"""api: {{enabled: false}}
collectors: [{{name: u, transport: udp, listen: "127.0.0.1:4739"}}]
outputs: [{{name: o, type: json, path: /dev/null}}]
pipelines: [{{name: p, from: u, to: o, stages: [{{clock: {{tolerance: 5s, min-offset: 2,
  absurd: keep}}}}]}}]
""")
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


if __name__ == "__main__":
    run([test_clock_offset_corrected, test_future_record_fixed, test_check_points_at_key])
