#!/usr/bin/env python3
"""The flow meter's figures (docs/benchmarks.md), side by side in one run:

  1. packets/s on one core from a file, without DPI: ipfixd convert, softflowd (same capture,
     same timeouts, IPFIX to a local sink) and libpcap's own read (ixd-pcap-floor), CPU time of
     each process, best of --rounds, alternating;
  2. with DPI on real traffic: the corpus' tcpreplay capture repeated (each copy 10 minutes
     after the last, so its flows are new and inspected again): packets/s and microseconds of
     CPU per inspected packet (the difference with and without DPI, over the packets DPI saw);
  3. memory per active flow, with and without DPI state: flows left open at the end of a
     capture whose flows never time out, and the bytes the flow table and DPI states hold then.

    bench/meter.py [--build build] [--packets 1200000] [--rounds 3] [--work DIR]

The capture of 1. and 3. comes from bench/gen_capture.py with seed 1: anyone can rebuild it.
Runs niced: the machine is shared.
"""
import argparse
import os
import re
import resource
import socket
import struct
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "../../shared/corpus")
REPLAY = os.path.join(CORPUS, "packet-captures/tcpreplay/test/test.pcap")


def cpu_of(cmd, **kw):
    """(user+sys CPU seconds of cmd, its stderr)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    p = subprocess.run(["nice", "-n", "10"] + cmd, stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, **kw)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if p.returncode != 0:
        raise RuntimeError("%s: %s" % (cmd, p.stderr))
    return (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime), p.stderr


def stats(text):
    return {k: int(v) for k, v in re.findall(r"^(\w+)=(\d+)$", text, re.M)}


def sink():
    """A UDP socket that swallows what softflowd sends; returns its port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 22)

    def drain():
        while True:
            s.recv(65536)
    threading.Thread(target=drain, daemon=True).start()
    return s.getsockname()[1]


def repeat_capture(src, dst, copies):
    """src (classic pcap) copied `copies` times, each 600 s later than the one before."""
    data = open(src, "rb").read()
    e = "<" if data[:4] == b"\xd4\xc3\xb2\xa1" else ">"
    recs, off = [], 24
    while off + 16 <= len(data):
        sec, usec, cap, wire = struct.unpack(e + "IIII", data[off:off + 16])
        recs.append((sec, usec, data[off + 16:off + 16 + cap], wire))
        off += 16 + cap
    with open(dst, "wb") as f:
        f.write(data[:24])
        for k in range(copies):
            f.write(b"".join(struct.pack(e + "IIII", sec + 600 * k, usec, len(p), wire) + p
                             for sec, usec, p, wire in recs))
    return len(recs) * copies


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", default=os.path.join(HERE, "../build"))
    ap.add_argument("--packets", type=int, default=1_200_000)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--work", default="/tmp/ixd-meter-bench")
    a = ap.parse_args()
    ipfixd = os.path.join(a.build, "src/ipfixd")
    floor = os.path.join(a.build, "bench/ixd-pcap-floor")
    os.makedirs(a.work, exist_ok=True)
    gen = os.path.join(a.work, "gen-%d.pcap" % a.packets)
    if not os.path.exists(gen):
        subprocess.run(["nice", "-n", "10", sys.executable, os.path.join(HERE, "gen_capture.py"),
                        gen, "--packets", str(a.packets), "--flows", "20000", "--seed", "1"],
                       check=True)
    port = sink()

    # 1. without DPI, side by side
    best = {"ipfixd (IPFIX out)": 1e9, "ipfixd (JSON out)": 1e9, "softflowd (IPFIX out)": 1e9,
            "libpcap read": 1e9}
    flows = {}
    for _ in range(a.rounds):
        t, err = cpu_of([ipfixd, "convert", gen, "--format", "ipfix", "-o", "/dev/null",
                         "--stats"])
        best["ipfixd (IPFIX out)"] = min(best["ipfixd (IPFIX out)"], t)
        flows["ipfixd"] = stats(err)["flows_created"]
        t, _ = cpu_of([ipfixd, "convert", gen, "-o", "/dev/null"])
        best["ipfixd (JSON out)"] = min(best["ipfixd (JSON out)"], t)
        t, _ = cpu_of(["softflowd", "-r", gen, "-n", "127.0.0.1:%d" % port, "-v", "10",
                       "-t", "general=60s", "-t", "maxlife=300s", "-d"])
        best["softflowd (IPFIX out)"] = min(best["softflowd (IPFIX out)"], t)
        t, _ = cpu_of([floor, gen])
        best["libpcap read"] = min(best["libpcap read"], t)
    print("## 1. %d packets (bench/gen_capture.py, seed 1), one core, no DPI" % a.packets)
    print("| reader | CPU s | packets/s |")
    print("|---|---|---|")
    for k, t in best.items():
        print("| %s | %.2f | %.2f M |" % (k, t, a.packets / t / 1e6))
    print("ipfixd biflows: %d" % flows["ipfixd"])

    # 2. with DPI on real traffic
    copies = 5000
    rep = os.path.join(a.work, "replay-x%d.pcap" % copies)
    n = repeat_capture(REPLAY, rep, copies)
    plain = dpi = start_plain = start_dpi = 1e9
    st = {}
    for _ in range(a.rounds):
        plain = min(plain, cpu_of([ipfixd, "convert", rep, "-o", "/dev/null"])[0])
        t, err = cpu_of([ipfixd, "convert", rep, "-o", "/dev/null", "--dpi", "--stats"])
        dpi, st = min(dpi, t), stats(err)
        # what starting nDPI costs, apart from the packets: the capture once, with and without
        start_plain = min(start_plain, cpu_of([ipfixd, "convert", REPLAY, "-o", "/dev/null"])[0])
        start_dpi = min(start_dpi, cpu_of([ipfixd, "convert", REPLAY, "-o", "/dev/null",
                                           "--dpi"])[0])
    start = max(start_dpi - start_plain, 0)
    print("\n## 2. DPI: the tcpreplay capture x%d (%d packets, %d inspected)" %
          (copies, n, st["dpi_packets"]))
    print("| | CPU s | packets/s |")
    print("|---|---|---|")
    print("| without DPI | %.3f | %.2f M |" % (plain, n / plain / 1e6))
    print("| with DPI | %.3f | %.2f M |" % (dpi, n / dpi / 1e6))
    print("nDPI start: %.3f s; per inspected packet: %.2f us (classified %d, unknown %d)" %
          (start, (dpi - plain - start) / st["dpi_packets"] * 1e6, st["dpi_classified"],
           st["dpi_unknown"]))

    # 3. memory per active flow
    print("\n## 3. memory per active flow (flows still open at the end of the capture)")
    print("| | flows open | table bytes | DPI bytes | bytes per flow |")
    print("|---|---|---|---|---|")
    for label, extra in (("without DPI", []), ("with DPI", ["--dpi"])):
        _, err = cpu_of([ipfixd, "convert", gen, "-o", "/dev/null", "--stats",
                         "--idle-timeout", "1d", "--active-timeout", "7d",
                         "--max-flows", "4000000"] + extra)
        m = re.search(r"flows_at_end=(\d+) flow_table_bytes=(\d+) dpi_bytes=(\d+)", err)
        f, tb, db = (int(x) for x in m.groups())
        print("| %s | %d | %d | %d | %.0f |" % (label, f, tb, db, (tb + db) / f))


if __name__ == "__main__":
    main()
