#!/usr/bin/env python3
"""API latency under collection load: ipfixd collects R records/s (ipfixd-send, UDP) while a
client sends Q requests/s (spread over a few keep-alive connections, at fixed times) to a mix
of API routes; prints the latency percentiles measured by the client.

usage: bench/api_latency.py [--rate R] [--qps Q] [--seconds S] [--build DIR]
"""
import argparse
import http.client
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROUTES = ["/api/v1/exporters", "/api/v1/stats", "/api/v1/collectors", "/metrics", "/ready"]


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def client(api, qps, seconds, lat, errors):
    conn = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
    start = time.perf_counter()
    for i in range(int(qps * seconds)):
        due = start + i / qps
        wait = due - time.perf_counter()
        if wait > 0:
            time.sleep(wait)
        t0 = time.perf_counter()
        try:
            conn.request("GET", ROUTES[i % len(ROUTES)])
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                errors.append(r.status)
        except OSError as e:
            errors.append(str(e))
            conn = http.client.HTTPConnection("127.0.0.1", api, timeout=5)
            continue
        lat.append(time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rate", type=int, default=200000)
    ap.add_argument("--qps", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=20)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ixd-api-bench-")
    port, api = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tmp, "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write('workers: 2\nstate-directory: none\napi: {listen: "127.0.0.1:%d"}\n'
                'collectors:\n  - {name: u, transport: udp, listen: "127.0.0.1:%d"}\n'
                'outputs:\n  - {name: o, type: json, path: /dev/null}\n' % (api, port))
    err = open(os.path.join(tmp, "log"), "wb")
    d = subprocess.Popen([os.path.join(args.build, "src/ipfixd"), "-c", cfg], stderr=err)
    time.sleep(1)
    gen = subprocess.Popen([os.path.join(args.build, "src/tools/ipfixd-send"), "-q", "-n",
                            str(args.rate * (args.seconds + 2)), "-r", str(args.rate),
                            "127.0.0.1:%d" % port])
    time.sleep(1)
    lat, errors, threads = [], [], []
    for _ in range(4):  # four keep-alive connections, each a quarter of the rate
        t = threading.Thread(target=client, args=(api, args.qps / 4, args.seconds, lat, errors))
        t.start()
        threads.append(t)
    for t in threads:
        t.join()
    gen.terminate()
    gen.wait()
    d.terminate()
    d.wait()
    err.close()
    log = open(os.path.join(tmp, "log"), errors="replace").read()
    m = re.search(r"final collector u: .*? records=(\d+)", log)
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print("collecting %d records/s (%s records decoded), API %d requests/s for %d s over 4 "
          "connections" % (args.rate, m.group(1) if m else "?", args.qps, args.seconds))
    print("| requests | errors | p50 ms | p90 ms | p99 ms | p99.9 ms | max ms |")
    print("|---|---|---|---|---|---|---|")
    print("| %d | %d | %.2f | %.2f | %.2f | %.2f | %.2f |" % (len(lat), len(errors), q(0.5),
                                                           q(0.9), q(0.99), q(0.999),
                                                           lat[-1] * 1000))
    return 0


if __name__ == "__main__":
    sys.exit(main())
