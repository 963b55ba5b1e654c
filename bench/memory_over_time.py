#!/usr/bin/env python3
"""RSS over time: ipfixd (2 workers, JSON to /dev/null, the API on) collects RATE records/s
from 16 exporters for SECONDS; RSS is printed every 30 s (docs/benchmarks.md, "Memory over
time").

usage: bench/memory_over_time.py [--build DIR] [--rate R] [--seconds S]
"""
import argparse
import os
import re
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port(kind):
    s = socket.socket(socket.AF_INET, kind)
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--rate", type=int, default=100000)
    ap.add_argument("--seconds", type=int, default=600)
    args = ap.parse_args()
    port, api = free_port(socket.SOCK_DGRAM), free_port(socket.SOCK_STREAM)
    cfg = os.path.join(tempfile.mkdtemp(), "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write('workers: 2\nstate-directory: none\napi: {listen: "127.0.0.1:%d"}\n'
                'collectors:\n  - {name: u, transport: udp, listen: "127.0.0.1:%d"}\n'
                'outputs:\n  - {name: o, type: json, path: /dev/null}\n' % (api, port))
    d = subprocess.Popen([os.path.join(args.build, "src/ipfixd"), "-c", cfg],
                         stderr=subprocess.DEVNULL)
    time.sleep(1)
    g = subprocess.Popen([os.path.join(args.build, "src/tools/ipfixd-send"), "-q", "-n",
                          str(args.rate * args.seconds), "-r", str(args.rate), "-e", "16",
                          "--template-interval", "5", "127.0.0.1:%d" % port])
    print("seconds  RSS KiB")
    for t in range(0, args.seconds + 1, 30):
        with open("/proc/%d/status" % d.pid) as f:
            print("%7d  %d" % (t, int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))),
                  flush=True)
        if t < args.seconds:
            time.sleep(30)
    g.terminate()
    d.terminate()
    d.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
