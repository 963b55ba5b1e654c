#!/usr/bin/env python3
"""CPU per record: ipfixd against the receive floor and the peers, on one stream, side by side.

Every receiver gets the same stream from ipfixd-send (the 15-element IPv4 template, 21 records
per 1,364-byte datagram) at a fixed rate. A receiver's whole-process CPU time (user + system,
all threads, from wait4) divided by the records sent is its cost per record. Runs of the
receivers are interleaved and repeated; medians are reported, with the ratio to the floor.

usage: bench/run.py [--records N] [--rate R] [--repeat K] [--only NAME,...] [--build DIR]
                    [--exporters N] [--ipv6] [--tcp] [--tls] [--records-per-message N]
                    [--workers W] [--max-rate] [--export-mtu BYTES] [--baseline DIR] [--netns]
                    [--pin]

--exporters, --ipv6, --tcp and --records-per-message change the stream (N source sockets or
connections, the IPv6 template, TCP: ipfixd and the floor, which then reads the streams as a bare
TCP reader; ipfixd-send's -R: larger messages, as an exporter busy enough to fill them writes).
The floor reads with as many threads as ipfixd has workers (--workers), each on a socket of its
own. --tls compares ipfixd over TLS with ipfixd over plain TCP: the same stream goes through a
forwarder in this process (one connection in from ipfixd-send, one out per connection), which
speaks TLS 1.3 with a client certificate to the `tls` collector and plain TCP to the `tcp` one,
so both receive it in the same pieces; the forwarder's CPU is not the receiver's. --max-rate
raises the rate from --rate by steps of 25 % until a receiver loses records (its own count or
the kernel's socket drops) and reports the last loss-free rate per receiver instead of CPU
figures.

--netns runs every process in a network namespace of the run's own (deleted at the end), where
the relay and export scenarios send to 192.0.2.2 through a veth whose peer is down: the kernel
runs the whole send path and drops each datagram at the device, and no receiver's cost is
charged to ipfixd as it is on loopback. --pin puts the sender on CPU 0 and the receiver (every
thread of it) on CPU 1.

--baseline DIR adds, for every ipfixd receiver, the same receiver run from another build
(DIR/src/ipfixd, e.g. of an earlier commit) as NAME@base, interleaved with it (the order of a
round is reversed every other round), and reports each build's median against the other's.
"""
import argparse
import os
import re
import shutil
import signal
import socket
import ssl
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    """A port free for UDP and TCP (the TCP and TLS receivers bind it too)."""
    while True:
        s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        s.bind(("::", 0))
        p = s.getsockname()[1]
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            t.bind(("::", p))
            return p
        except OSError:
            continue
        finally:
            t.close()
            s.close()


SINK = None  # a UDP socket nobody reads: where the export scenario sends (the kernel drops)
NETNS = None  # --netns: the namespace every process of the run is started in


def export_sink():
    """host:port the relay and export scenarios send to."""
    global SINK
    if NETNS:
        return NETNS_DEST
    if SINK is None:
        SINK = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        SINK.bind(("127.0.0.1", 0))
    return "127.0.0.1:%d" % SINK.getsockname()[1]


# --netns: a namespace of the run's own, with loopback up and a veth whose peer stays down; a
# permanent neighbour entry makes NETNS_DEST reachable through it, so what is exported there runs
# the kernel's whole send path and is dropped at the device (its TX drops), nobody receiving it.
NETNS_DEV, NETNS_ADDR, NETNS_DEST = "ixdb0", "192.0.2.1/24", "192.0.2.2:4739"


def ip(*args):
    subprocess.run(["ip"] + list(args), check=True)


def netns_create():
    global NETNS
    name = "ixd-bench-%d" % os.getpid()
    ip("netns", "add", name)
    NETNS = name
    ip("-n", name, "link", "set", "lo", "up")
    ip("-n", name, "link", "add", NETNS_DEV, "type", "veth", "peer", "name", "ixdb1")
    ip("-n", name, "addr", "add", NETNS_ADDR, "dev", NETNS_DEV)
    ip("-n", name, "link", "set", NETNS_DEV, "up")
    ip("-n", name, "neigh", "add", NETNS_DEST.split(":")[0], "lladdr", "02:00:00:00:00:02",
       "dev", NETNS_DEV, "nud", "permanent")


def netns_delete():
    global NETNS
    if NETNS:
        subprocess.run(["ip", "netns", "del", NETNS])
        NETNS = None


def in_netns(cmd):
    """nsenter switches the network namespace only (`ip netns exec` also remounts /sys)."""
    return ["nsenter", "--net=/run/netns/" + NETNS] + cmd if NETNS else cmd


TRANSPORT = "udp"
WORKERS = 1
EXPORT_MTU = 1400  # the export's default; --export-mtu changes it


CERTS = None  # --tls: tests/tls/make_certs.sh made them here


def tls_keys():
    c = lambda n: os.path.join(CERTS, n)
    return (', certificate: "%s", key: "%s", ca: "%s"'
            % (c("collector.pem"), c("collector.key"), c("ca.pem")))


def ipfixd_config(port, tmp, output, transport=None):
    transport = transport or TRANSPORT
    path = os.path.join(tmp, "bench-%s-%s.yaml" % (output.split(":")[0], transport))
    outputs = ""
    if output == "json":
        outputs = 'outputs:\n  - {name: devnull, type: json, path: "/dev/null"}\n'
    elif output == "count-output":
        outputs = 'outputs:\n  - {name: per-exporter, type: count}\n'
    elif output.startswith("jsonfile:"):
        outputs = 'outputs:\n  - {name: file, type: json, path: "%s/flows.json"}\n' % output[9:]
    elif output.startswith("ipfixfile:"):  # RFC 5655 files, as nfcapd stores its own
        outputs = 'outputs:\n  - {name: files, type: ipfix-file, directory: "%s"}\n' % output[10:]
    elif output in ("relay", "export"):
        key = os.path.join(tmp, "cryptopan.key")
        with open(key, "wb") as f:
            f.write(bytes(range(32)))
        os.chmod(key, 0o600)
        # collect -> filter [-> anonymise] -> IPFIX export over UDP, every record kept
        outputs = ('outputs:\n  - {name: up, type: ipfix, transport: udp, mtu: %d, '
                   'destinations: ["%s"]}\n'
                   'pipelines:\n  - name: relay\n    from: bench\n    to: up\n'
                   '    stages:\n      - filter: "proto tcp or proto udp"\n'
                   % (EXPORT_MTU, export_sink()))
        if output == "export":
            outputs += '      - anonymise: {method: cryptopan, key-file: "%s"}\n' % key
    with open(path, "w") as f:
        f.write('workers: %d\nstate-directory: none\napi: {enabled: false}\n'
                'collectors:\n  - {name: bench, transport: %s, listen: "*:%d"%s%s}\n%s'
                % (WORKERS, transport, port, ", receive-buffer: 8M" if transport == "udp" else "",
                   tls_keys() if transport == "tls" else "", outputs))
    return path


def receivers(build, tmp, baseline=None):
    """name -> (command(port), ready regex or None, received(stderr, workdir) -> records)"""
    floor = os.path.join(build, "bench/ixd-floor")
    ipfixd = os.path.join(build, "src/ipfixd")

    def floor_received(err, work):
        m = re.search(r"(?:datagrams|messages)=(\d+)", err)
        return int(m.group(1)) if m else 0

    def ipfixd_received(err, work):
        m = re.search(r"final collector bench: .*? messages=(\d+)", err)
        drops = re.search(r"final collector bench: .*? socket_drops=(\d+)", err)
        return (int(m.group(1)) if m else 0) - (int(drops.group(1)) if drops else 0)

    def nfcapd_received(err, work):
        r = subprocess.run(["nfdump", "-R", work, "-I"], capture_output=True, text=True)
        m = re.search(r"Flows:\s+(\d+)", r.stdout)
        return int(m.group(1)) if m else 0

    r = {
        # as many threads as ipfixd has workers, each on a SO_REUSEPORT socket of its own
        "floor": (lambda p, w: [floor, "-t", str(WORKERS)] + (["-T"] if TRANSPORT == "tcp" else [])
                  + [str(p)], r"listening", floor_received, "datagrams"),
        "ipfixd-count": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "count")],
                         r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-count-output": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "count-output")],
                                r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-json": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "json")],
                        r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-json-file": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "jsonfile:" + w)],
                             r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-ipfix-file": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "ipfixfile:" + w)],
                              r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-relay": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "relay")],
                         r"listening on", ipfixd_received, "datagrams"),
        "ipfixd-export": (lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, "export")],
                          r"listening on", ipfixd_received, "datagrams"),
    }
    def nfacctd_cmd(p, w):
        """nfacctd with its JSON print plugin to a file, one line per flow (the stream's flows
        are all distinct, so aggregating on the 5-tuple writes each record once)."""
        conf = os.path.join(w, "nfacctd.conf")
        with open(conf, "w") as f:
            f.write("daemonize: false\nnfacctd_ip: 127.0.0.1\nnfacctd_port: %d\n"
                    "nfacctd_time_new: true\nplugins: print[j]\n"
                    "aggregate[j]: src_host, dst_host, src_port, dst_port, proto\n"
                    "print_output[j]: json\nprint_output_file[j]: %s/flows.json\n"
                    "print_output_file_append[j]: true\nprint_refresh_time[j]: 1\n"
                    "print_cache_entries[j]: 65537\n"
                    "plugin_buffer_size: 10240\nplugin_pipe_size: 10240000\n" % (p, w))
        return ["nfacctd", "-f", conf]

    def nfacctd_received(err, work):
        try:
            with open(os.path.join(work, "flows.json")) as f:
                return sum(1 for _ in f)
        except OSError:
            return 0

    if shutil.which("nfacctd") and TRANSPORT == "udp":
        r["nfacctd-json-file"] = (nfacctd_cmd, None, nfacctd_received, "records", "tree")
    if TRANSPORT == "tcp":  # nfcapd and nfacctd read UDP only; the floor reads TCP too
        r = {k: v for k, v in r.items() if k.startswith("ipfixd") or k == "floor"}
    if CERTS is not None:  # --tls: count and JSON receivers over TCP and TLS, all forwarded
        r = {}
        for out in ("count", "json"):
            for t in ("tcp", "tls"):
                r["ipfixd-%s-%s" % (out, t)] = (
                    (lambda o, tr: lambda p, w: [ipfixd, "-c", ipfixd_config(p, tmp, o, tr)])(
                        out, t),
                    r"listening on", ipfixd_received, "datagrams",
                    "forward-tls" if t == "tls" else "forward-plain")
    elif shutil.which("nfcapd"):
        r["nfcapd"] = (lambda p, w: ["nfcapd", "-p", str(p), "-w", w, "-B", str(8 << 20), "-6"],
                       None, nfcapd_received, "records")
    if baseline:  # each ipfixd receiver followed by its run from the baseline build
        base, both = os.path.join(baseline, "src/ipfixd"), {}
        for name, spec in r.items():
            both[name] = spec
            if name.startswith("ipfixd"):
                both[name + "@base"] = ((lambda c: lambda p, w: [base] + c(p, w)[1:])(spec[0]),
                                        ) + spec[1:]
        r = both
    return r


def peak_rss_mib(pid):
    """VmHWM of a live process: its peak resident set."""
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024.0 if m else 0.0


def tree_cpu_seconds(root):
    """User + system CPU of root and every process below it (nfacctd forks its plugins),
    from /proc: for receivers that do not end cleanly on SIGTERM."""
    ticks = os.sysconf("SC_CLK_TCK")
    stats = {}
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                with open("/proc/%s/stat" % pid) as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                stats[int(pid)] = (int(fields[1]), int(fields[11]) + int(fields[12]))
            except OSError:
                pass
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += stats.get(pid, (0, 0))[1]
        todo += [c for c, (ppid, _) in stats.items() if ppid == pid]
    return total / ticks


def dd_cpu(work, nbytes):
    """CPU seconds the kernel charges to write nbytes to a file in work with 1 MiB writes: dd
    from /dev/zero to the file, less dd from /dev/zero to /dev/null (its reads)."""
    count = str(max(1, (nbytes + (1 << 20) - 1) >> 20))

    def one(of):
        p = subprocess.Popen(["dd", "if=/dev/zero", "of=" + of, "bs=1M", "count=" + count],
                             stderr=subprocess.DEVNULL)
        _, _, ru = os.wait4(p.pid, 0)
        return ru.ru_utime + ru.ru_stime
    cpu = one(os.path.join(work, "dd.out")) - one("/dev/null")
    os.unlink(os.path.join(work, "dd.out"))
    return max(cpu, 0.0)


class Forwarder:
    """Accepts ipfixd-send's TCP connections and copies each to its own connection to the
    receiver, over TLS (a client certificate, the collector verified) or plain TCP."""

    def __init__(self, target_port, secure):
        self.target, self.secure = target_port, secure
        self.ctx = None
        if secure:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            self.ctx.load_verify_locations(os.path.join(CERTS, "ca.pem"))
            self.ctx.load_cert_chain(os.path.join(CERTS, "exporter.pem"),
                                     os.path.join(CERTS, "exporter.key"))
        self.srv = socket.socket()
        self.srv.bind(("127.0.0.1", 0))
        self.srv.listen(64)
        self.port = self.srv.getsockname()[1]
        self.threads = []
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            t = threading.Thread(target=self.copy, args=(conn,), daemon=True)
            t.start()
            self.threads.append(t)

    def copy(self, conn):
        out = socket.create_connection(("127.0.0.1", self.target))
        if self.secure:
            out = self.ctx.wrap_socket(out, server_hostname="collector.test")
        while True:
            data = conn.recv(1 << 16)
            if not data:
                break
            out.sendall(data)
        if self.secure:
            out.unwrap()
        out.close()
        conn.close()

    def close(self):
        """After the sender is done: every connection copied to its end."""
        for t in self.threads:
            t.join()
        self.srv.close()


def one_run(name, spec, args, tmp, rate=None):
    cmd_of, ready, received_of, unit = spec[:4]
    tree = len(spec) > 4 and spec[4] == "tree"
    forward = len(spec) > 4 and spec[4].startswith("forward")
    port = free_port()
    work = tempfile.mkdtemp(dir=tmp)
    errpath = os.path.join(work, "stderr")
    err = open(errpath, "wb")
    # --pin: the sender on CPU 0, the receiver (all its threads) on CPU 1
    pin = (lambda cpu: ["taskset", "-c", str(cpu)]) if args.pin else (lambda cpu: [])
    proc = subprocess.Popen(in_netns(pin(1) + cmd_of(port, work)), stdout=subprocess.DEVNULL,
                            stderr=err,
                            start_new_session=tree)
    deadline = time.time() + 10
    while time.time() < deadline:
        if ready is None:
            time.sleep(1.0)
            break
        if re.search(ready, open(errpath, errors="replace").read()):
            break
        time.sleep(0.02)
    gen = [os.path.join(args.build, "src/tools/ipfixd-send"), "-n", str(args.records),
           "-r", str(rate or args.rate), "--template-interval", "0", "-e", str(args.exporters)]
    gen += ["-6"] if args.ipv6 else []
    gen += ["-R", str(args.records_per_message)] if args.records_per_message else []
    gen += ["-T"] if args.tcp else []
    fwd = Forwarder(port, spec[4] == "forward-tls") if forward else None
    s = subprocess.run(in_netns(pin(0) + gen + ["127.0.0.1:%d" % (fwd.port if fwd else port)]),
                       capture_output=True, text=True)
    if fwd:
        fwd.close()
    m = re.search(r"records=(\d+) messages=(\d+)", s.stderr)
    sent_records, sent_msgs = int(m.group(1)), int(m.group(2))
    achieved = re.search(r"rate=(\d+)", s.stderr)
    time.sleep(1.0)  # let the receiver finish the queue; idle costs nothing measurable
    rss = peak_rss_mib(proc.pid)
    if tree:
        time.sleep(2.0)  # its plugin writes what it cached: give it the time to
        cpu = tree_cpu_seconds(proc.pid)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    else:
        proc.send_signal(signal.SIGTERM)
        _, status, ru = os.wait4(proc.pid, 0)
        proc.returncode = status
        cpu = ru.ru_utime + ru.ru_stime
    err.close()
    text = open(errpath, errors="replace").read()
    got = received_of(text, work)
    # the relay and export scenarios: records the IPFIX output sent, of those it was given
    exported = re.search(r"final output up destination .*? records=(\d+) .*?sent=(\d+)", text)
    sent = sent_msgs if unit == "datagrams" else sent_records
    # a receiver that wrote a file: what the kernel charges to write as many bytes (dd)
    dd_ns = -1.0
    if os.path.exists(os.path.join(work, "flows.json")) and name.startswith("ipfixd"):
        dd_ns = dd_cpu(work, os.path.getsize(os.path.join(work, "flows.json"))) * 1e9 / sent_records
    shutil.rmtree(work, ignore_errors=True)
    return {"cpu_ns": cpu * 1e9 / sent_records, "received": got / sent if sent else 0,
            "rss_mib": rss, "achieved": int(achieved.group(1)) if achieved else 0,
            "exported": (int(exported.group(2)) / sent_records) if exported else -1.0,
            "dd_ns": dd_ns}


def max_rates(names, recv, args, tmp):
    """The highest rate (steps of 25 %) at which each receiver got every datagram, median of
    --repeat searches."""
    best = {n: [] for n in names}
    capped = {n: 0 for n in names}  # searches that ended at the sender's limit, not a loss
    for k in range(args.repeat):
        for n in names:
            rate, last_ok, bound = args.rate, 0, False
            while rate <= 20000000:
                r = one_run(n, recv[n], args, tmp, rate)
                if r["received"] < 1.0:
                    break
                last_ok = r["achieved"]
                if r["achieved"] < 0.9 * rate:
                    bound = True  # the sender cannot go faster: the receiver kept up
                    break
                rate = int(rate * 1.25)
            best[n].append(last_ok)
            capped[n] += bound
            print("  search %d %-13s loss-free at %d records/s%s" % (
                k + 1, n, last_ok, " (the sender's limit)" if bound else ""), flush=True)
    print("\n| receiver | max loss-free records/s (median) | searches ended by the sender |")
    print("|---|---|---|")
    for n in names:
        # a median over searches of which some stopped at the sender's limit is a lower bound
        print("| %s | %s%d | %d of %d |" % (n, ">= " if capped[n] else "",
                                           statistics.median(best[n]), capped[n], args.repeat))
    return 0


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--records", type=int, default=5000000)
    ap.add_argument("--rate", type=int, default=500000)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--only", default="")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--exporters", type=int, default=1)
    ap.add_argument("--ipv6", action="store_true")
    ap.add_argument("--tcp", action="store_true")
    ap.add_argument("--tls", action="store_true")
    ap.add_argument("--records-per-message", type=int, default=0)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--max-rate", action="store_true")
    ap.add_argument("--export-mtu", type=int, default=1400)
    ap.add_argument("--baseline", default="")
    ap.add_argument("--netns", action="store_true")
    ap.add_argument("--pin", action="store_true")
    args = ap.parse_args()
    if args.netns:
        netns_create()
    signal.signal(signal.SIGTERM, lambda *a: sys.exit(1))  # the namespace goes in any case
    try:
        return run_all(args)
    finally:
        netns_delete()


def run_all(args):
    global TRANSPORT, WORKERS, EXPORT_MTU, CERTS
    args.tcp = args.tcp or args.tls
    TRANSPORT = "tcp" if args.tcp else "udp"
    EXPORT_MTU = args.export_mtu
    WORKERS = args.workers
    tmp = tempfile.mkdtemp(prefix="ixd-bench-")
    if args.tls:
        CERTS = os.path.join(tmp, "certs")
        subprocess.run(["sh", os.path.join(ROOT, "tests/tls/make_certs.sh"), CERTS], check=True)
    recv = receivers(args.build, tmp, args.baseline)
    only = args.only.split(",") if args.only else []
    names = [n for n in recv if not only or n in only or n.split("@")[0] in only]
    results = {n: [] for n in names}
    print("stream: %d records at %d records/s, %s template, %s, %d exporter(s), %d worker(s), "
          "%d runs each, interleaved" % (args.records, args.rate, "IPv6" if args.ipv6 else "IPv4",
                                         "tcp and tls, forwarded" if args.tls else TRANSPORT,
                                         args.exporters, WORKERS, args.repeat),
          flush=True)
    if args.max_rate:
        return max_rates(names, recv, args, tmp)
    lossy = 0
    for k in range(args.repeat):
        for n in (names if k % 2 == 0 or not args.baseline else names[::-1]):
            # a run that lost datagrams (the shared machine stalled the receiver) did less work
            # per record sent: it is run again, up to twice, and kept only if nothing else was
            for attempt in range(3):
                r = one_run(n, recv[n], args, tmp)
                print("  run %d %-17s %7.1f ns/record  received %.4f  rss %.1f MiB%s%s%s"
                      % (k + 1, n, r["cpu_ns"], r["received"], r["rss_mib"],
                         "  exported %.4f" % r["exported"] if r["exported"] >= 0 else "",
                         "  dd %.1f ns/record" % r["dd_ns"] if r["dd_ns"] >= 0 else "",
                         "" if r["received"] >= 0.999 else "  (lost datagrams: again)"),
                      flush=True)
                if r["received"] >= 0.999:
                    break
                lossy += 1
            results[n].append(r)
    if lossy:
        print("%d runs lost datagrams and were run again" % lossy)
    med = {n: {key: statistics.median(r[key] for r in results[n]) for key in results[n][0]}
           for n in names}
    base = med.get("floor", {}).get("cpu_ns")
    print("\n| receiver | CPU ns/record (median) | × floor | received/sent | peak RSS MiB |")
    print("|---|---|---|---|---|")
    for n in names:
        ratio = "%.2f" % (med[n]["cpu_ns"] / base) if base else "-"
        print("| %s | %.1f | %s | %.4f | %.1f |" % (n, med[n]["cpu_ns"], ratio, med[n]["received"],
                                                    med[n]["rss_mib"]))
        if med[n]["dd_ns"] >= 0:
            print("| (%s's bytes written by dd, 1 MiB writes) | %.1f | %s | | |"
                  % (n, med[n]["dd_ns"], "%.2f" % (med[n]["dd_ns"] / base) if base else "-"))
    for n in names:
        if n + "@base" in med:
            print("%s: this build %+.1f %% against the baseline (medians %.1f and %.1f ns/record)"
                  % (n, 100.0 * (med[n]["cpu_ns"] / med[n + "@base"]["cpu_ns"] - 1),
                     med[n]["cpu_ns"], med[n + "@base"]["cpu_ns"]))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
