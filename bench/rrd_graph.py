#!/usr/bin/env python3
"""Graphs of the time-series API: how long a 1-day 800x250 graph takes (client-side, one at a
time), and what /ready does while N graph requests come at once from several client
addresses (each within the API's per-address share): /ready's latency, how many graphs were
drawn and how many refused with 429. The series is a day of a daily pattern written through
the store (ixd-rrd-bench fill), served by a real ipfixd.

usage: bench/rrd_graph.py [--single N] [--burst N] [--rounds K] [--build DIR]
"""
import argparse
import http.client
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GRAPH = "/api/v1/timeseries/exporter~u~127.0.0.1/graph.png?start=-1d&width=800&height=250"


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def get(api, path, source="127.0.0.1", timeout=60):
    c = http.client.HTTPConnection("127.0.0.1", api, timeout=timeout, source_address=(source, 0))
    t0 = time.perf_counter()
    c.request("GET", path)
    r = c.getresponse()
    body = r.read()
    dt = time.perf_counter() - t0
    c.close()
    return r.status, dt, body


def burst(api, n):
    """n graph requests at once from 5 addresses; /ready asked every 10 ms meanwhile."""
    codes, ready, done = [], [], threading.Event()

    def graph(k):
        codes.append(get(api, GRAPH, "127.0.2.%d" % (1 + k % 5))[0])

    def poll():
        while not done.is_set():
            status, dt, _ = get(api, "/ready", "127.0.3.1")
            ready.append((status, dt))
            time.sleep(0.01)
    p = threading.Thread(target=poll)
    p.start()
    ts = [threading.Thread(target=graph, args=(k,)) for k in range(n)]
    for t in ts:
        t.start()
    for t in ts:
        t.join()
    done.set()
    p.join()
    return codes, ready


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--single", type=int, default=30)
    ap.add_argument("--burst", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ixd-rrd-graph-")
    subprocess.run([os.path.join(args.build, "bench", "ixd-rrd-bench"), "fill", tmp + "/rrd",
                    "24"], check=True)
    api = free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write("workers: 1\nstate-directory: %s/state\napi: {listen: \"127.0.0.1:%d\"}\n"
                "collectors:\n  - {name: u, transport: udp, listen: \"127.0.0.1:%d\"}\n"
                "outputs:\n  - {name: r, type: rrd, directory: %s/rrd}\n"
                % (tmp, api, free_port(socket.SOCK_DGRAM), tmp))
    d = subprocess.Popen([os.path.join(args.build, "src", "ipfixd"), "-c", cfg],
                         stderr=subprocess.DEVNULL)
    try:
        for _ in range(100):
            try:
                if get(api, "/ready")[0] == 200:
                    break
            except OSError:
                pass
            time.sleep(0.1)
        load = os.getloadavg()
        single = []
        for _ in range(args.single):
            status, dt, body = get(api, GRAPH)
            assert status == 200 and body[:4] == b"\x89PNG", status
            single.append(dt * 1000)
        print("load average before: %.2f %.2f %.2f" % load)
        print("1-day 800x250 graph, one at a time (%d): median %.1f ms, min %.1f, max %.1f"
              % (len(single), statistics.median(single), min(single), max(single)))
        worst, drawn, refused = [], [], []
        for _ in range(args.rounds):
            codes, ready = burst(api, args.burst)
            assert all(s == 200 for s, _ in ready), ready
            worst.append(max(dt for _, dt in ready) * 1000)
            drawn.append(codes.count(200))
            refused.append(codes.count(429))
            assert set(codes) <= {200, 429}, codes
        print("%d graphs at once, %d rounds: /ready's slowest answer per round median %.1f ms "
              "(max %.1f); drawn per round median %d, refused (429) median %d"
              % (args.burst, args.rounds, statistics.median(worst), max(worst),
                 statistics.median(drawn), statistics.median(refused)))
        print("load average after: %.2f %.2f %.2f" % os.getloadavg())
    finally:
        d.terminate()
        d.wait()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    sys.exit(main())
