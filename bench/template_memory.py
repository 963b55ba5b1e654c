#!/usr/bin/env python3
"""Memory per template: one worker receives EXPORTERS x PER templates of the 15-element IPv4
template (the first exporter's as warm-up) and the RSS growth is divided by the templates
after the warm-up (docs/benchmarks.md, "Memory per template").

usage: bench/template_memory.py [--build DIR] [--exporters N] [--per N]
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
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))
import ipfix  # noqa: E402

FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (6, 1), (5, 1), (10, 4), (14, 4), (2, 8),
          (1, 8), (152, 8), (153, 8), (15, 4), (16, 4)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--exporters", type=int, default=8)
    ap.add_argument("--per", type=int, default=1000)
    args = ap.parse_args()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    cfg = os.path.join(tempfile.mkdtemp(), "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write('workers: 1\nstate-directory: none\napi: {enabled: false}\ncollectors:\n'
                '  - {name: u, transport: udp, listen: "127.0.0.1:%d"}\npipelines: []\n' % port)
    d = subprocess.Popen([os.path.join(args.build, "src/ipfixd"), "-c", cfg],
                         stderr=subprocess.DEVNULL)
    time.sleep(1)

    def rss_kib():
        with open("/proc/%d/status" % d.pid) as f:
            return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))

    base = 0
    for e in range(args.exporters):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.%d" % (e + 2), 0))  # one address per exporter
        for start in range(0, args.per, 50):
            recs = b"".join(ipfix.template_record(256 + start + i, FIELDS)
                            for i in range(min(50, args.per - start)))
            s.sendto(ipfix.message([ipfix.set_(2, recs)], odid=1), ("127.0.0.1", port))
            time.sleep(0.002)
        if e == 0:
            time.sleep(0.5)
            base = rss_kib()
    time.sleep(1)
    grown = rss_kib() - base
    d.terminate()
    d.wait()
    n = (args.exporters - 1) * args.per
    print("%d templates after the warm-up: RSS +%d KiB, %.0f bytes per 15-field template"
          % (n, grown, grown * 1024.0 / n))
    return 0


if __name__ == "__main__":
    sys.exit(main())
