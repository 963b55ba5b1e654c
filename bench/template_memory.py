#!/usr/bin/env python3
"""Memory per template: one worker receives EXPORTERS x PER templates of the 15-element IPv4
template (the first exporter's as warm-up) and the RSS growth is divided by the templates
after the warm-up (docs/benchmarks.md, "Memory per template"). --extra N adds N more IANA
elements to the template; the cost of a field is the difference between two runs divided by N.

usage: bench/template_memory.py [--build DIR] [--exporters N] [--per N] [--extra N]
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
# further IANA elements of fixed length, none of them in FIELDS
EXTRA = [(9, 1), (13, 1), (17, 4), (18, 4), (21, 4), (22, 4), (25, 2), (26, 2), (27, 16),
         (28, 16), (29, 1), (30, 1), (31, 4), (32, 2), (33, 1), (58, 2), (59, 2), (60, 1),
         (61, 1), (62, 16), (63, 16), (64, 4), (70, 3), (80, 6), (81, 6), (85, 8), (86, 8),
         (136, 1), (137, 8), (138, 4), (139, 2), (140, 16), (143, 4), (144, 4), (145, 2),
         (148, 8), (150, 4), (151, 4)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--exporters", type=int, default=8)
    ap.add_argument("--per", type=int, default=1000)
    ap.add_argument("--extra", type=int, default=0, choices=range(len(EXTRA) + 1),
                    metavar="0..%d" % len(EXTRA))
    args = ap.parse_args()
    fields = FIELDS + EXTRA[:args.extra]
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
            recs = b"".join(ipfix.template_record(256 + start + i, fields)
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
    print("%d templates after the warm-up: RSS +%d KiB, %.0f bytes per %d-field template"
          % (n, grown, grown * 1024.0 / n, len(fields)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
