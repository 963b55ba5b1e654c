#!/usr/bin/env python3
"""The rrd output's writer with many exporters: N exporters (each its own loopback address)
send R records/s each for S seconds to a real ipfixd whose rrd output keeps one file per
exporter (3 rates, with the Holt-Winters archives; no per-domain files) plus the health
series. The writer's rounds (one per 10 s step) are read from the output's round_usec counter
as they happen; once every file exists, their median and spread are the figure. At the end:
what the exporters sent, what the collector received, what the output dropped, and the flows
the files hold against the records sent.

usage: bench/rrd_writer.py [--exporters N] [--rate R] [--seconds S] [--dir DIR] [--build DIR]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import struct
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 4)]


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def message(sets, seq):
    body = b"".join(sets)
    return struct.pack(">HHIII", 10, 16 + len(body), int(time.time()), seq, 1) + body


def sets(set_id, body):
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def address(e):
    return "127.1.%d.%d" % (e // 250, 1 + e % 250)


def sender(port, exporters, rate, seconds, sent):
    """Every exporter sends `rate` records a second, 10 a message, spread over the second."""
    socks = []
    tmpl = sets(2, struct.pack(">HH", 256, len(FIELDS)) +
                b"".join(struct.pack(">HH", i, n) for i, n in FIELDS))
    for e in range(exporters):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((address(e), 0))
        s.sendto(message([tmpl], 0), ("127.0.0.1", port))
        socks.append(s)
    rec = struct.pack(">4s4sHHBQI", b"\x0a\0\0\1", b"\xc0\0\2\1", 40000, 53, 17, 1500, 3)
    data = message([sets(256, rec * 10)], 0)
    seqs = [0] * exporters
    per_second = rate // 10
    start = time.time()
    for sec in range(seconds):
        for k in range(per_second):
            due = start + sec + k / per_second
            time.sleep(max(0, due - time.time()))
            for e, s in enumerate(socks):
                s.sendto(data[:8] + struct.pack(">I", seqs[e]) + data[12:], ("127.0.0.1", port))
                seqs[e] += 10
    sent.append(sum(seqs))
    for s in socks:
        s.close()


def api_get(api, path):
    c = http.client.HTTPConnection("127.0.0.1", api, timeout=10)
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    c.close()
    return json.loads(body)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--exporters", type=int, default=1000)
    ap.add_argument("--rate", type=int, default=20)
    ap.add_argument("--seconds", type=int, default=300)
    ap.add_argument("--dir", default=None, help="where the files go (default: a temporary one)")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ixd-rrd-writer-", dir=args.dir)
    port, api = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write("workers: 2\nstate-directory: %s/state\napi: {listen: \"127.0.0.1:%d\"}\n"
                "collectors:\n  - {name: u, transport: udp, listen: \"127.0.0.1:%d\"}\n"
                "outputs:\n  - {name: r, type: rrd, directory: %s/rrd, domains: false, "
                "max-files: %d}\n" % (tmp, api, port, tmp, args.exporters + 10))
    log = open(os.path.join(tmp, "ipfixd.log"), "wb")
    d = subprocess.Popen([os.path.join(args.build, "src", "ipfixd"), "-c", cfg], stderr=log)
    rounds, sent = [], []
    try:
        time.sleep(1)
        load0 = os.getloadavg()
        t = threading.Thread(target=sender, args=(port, args.exporters, args.rate,
                                                  args.seconds, sent))
        t.start()
        seen, created_at = 0, None
        while t.is_alive() or len(rounds) < 2:
            c = api_get(api, "/api/v1/outputs/r")["counters"]
            if created_at is None and c["files_created"] >= args.exporters:
                created_at = c["rounds"]
            if c["rounds"] > seen:
                seen = c["rounds"]
                if created_at is not None and seen > created_at:
                    rounds.append(c["round_usec"] / 1000)
            time.sleep(0.2)
        t.join()
        time.sleep(25)  # two more rounds: every step the exporters sent in is written
        c = api_get(api, "/api/v1/outputs/r")["counters"]
        coll = api_get(api, "/api/v1/collectors/u")["counters"]
        load1 = os.getloadavg()
    finally:
        d.terminate()
        d.wait()
        log.close()
    flows = 0
    for name in os.listdir(tmp + "/rrd"):
        if name.startswith("exporter~"):
            out = subprocess.run(["rrdtool", "fetch", tmp + "/rrd/" + name, "AVERAGE", "-s",
                                  "-%d" % (args.seconds + 600)], capture_output=True, text=True,
                                 check=True).stdout
            for line in out.splitlines():
                m = re.match(r"\d+: (\S+)", line)
                if m and "nan" not in m.group(1):
                    flows += float(m.group(1)) * 10
    print("load average: %.2f %.2f %.2f before, %.2f %.2f %.2f after" % (load0 + load1))
    print("%d exporters x %d records/s for %d s: %d rounds after every file was made"
          % (args.exporters, args.rate, args.seconds, len(rounds)))
    if rounds:
        q = statistics.quantiles(rounds, n=10) if len(rounds) > 1 else rounds
        print("round: median %.0f ms, p90 %.0f ms, min %.0f, max %.0f"
              % (statistics.median(rounds), q[-1], min(rounds), max(rounds)))
    print("records sent %d, received %d, output dropped %d, update errors %d, late %d; "
          "flows in the files %.0f" % (sent[0] if sent else -1, coll["records"], c["dropped"],
                                       c["update_errors"], c["late"], flows))
    print("files: %d created, %d rows written" % (c["files_created"], c["rows"]))
    shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
