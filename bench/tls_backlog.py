#!/usr/bin/env python3
"""CPU per record of a TLS collector that reads a backlog of small records.

A Python `ssl` client (TLS 1.3, a client certificate from tests/tls/make_certs.sh) writes
MESSAGES IPFIX messages of 20 records each, every message its own TLS record (about 430 bytes),
as fast as the socket takes them, so the collector finds many records behind each read. With
--stall the collector is stopped (SIGSTOP) for the first 2 seconds, so that the socket buffers
fill with records first, as after a pause of the worker. The collector (`transport: tls`, one
worker, no output) is timed with wait4: user + system CPU over the records sent. With
--baseline DIR the same runs with DIR/src/ipfixd, alternated.

usage: bench/tls_backlog.py [--build DIR] [--baseline DIR] [--repeat K] [--messages N] [--stall]
"""
import argparse
import os
import signal
import socket
import ssl
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests/integration"))
import ipfix  # noqa: E402

RECORDS = 20


def one_run(ipfixd, certs, tmp, messages, stall):
    c = lambda n: os.path.join(certs, n)
    t = socket.socket()
    t.bind(("127.0.0.1", 0))
    port = t.getsockname()[1]
    t.close()
    cfg = os.path.join(tmp, "backlog.yaml")
    with open(cfg, "w") as f:
        f.write('workers: 1\nstate-directory: none\napi: {enabled: false}\ncollectors:\n'
                '  - {name: bench, transport: tls, listen: "127.0.0.1:%d", certificate: "%s", '
                'key: "%s", ca: "%s"}\n' % (port, c("collector.pem"), c("collector.key"),
                                           c("ca.pem")))
    p = subprocess.Popen([ipfixd, "-c", cfg], stderr=subprocess.DEVNULL)
    time.sleep(1.0)
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(c("ca.pem"))
    ctx.load_cert_chain(c("exporter.pem"), c("exporter.key"))
    s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)),
                        server_hostname="collector.test")
    data = [ipfix.small_data_message(range(k * RECORDS, (k + 1) * RECORDS), seq=k * RECORDS)
            for k in range(50)]
    s.sendall(ipfix.small_template_message())

    def send():
        for k in range(messages):
            s.sendall(data[k % 50])

    if stall:
        p.send_signal(signal.SIGSTOP)
    t = threading.Thread(target=send)
    t.start()
    if stall:
        time.sleep(2.0)
        p.send_signal(signal.SIGCONT)
    t.join()
    s.unwrap()
    s.close()
    time.sleep(1.0)
    p.send_signal(15)
    _, _, ru = os.wait4(p.pid, 0)
    return (ru.ru_utime + ru.ru_stime) * 1e9 / (messages * RECORDS)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--baseline", default="")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--messages", type=int, default=200000)
    ap.add_argument("--stall", action="store_true")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="ixd-backlog-")
    certs = os.path.join(tmp, "certs")
    subprocess.run(["sh", os.path.join(ROOT, "tests/tls/make_certs.sh"), certs], check=True)
    builds = [("this build", args.build)] + ([("baseline", args.baseline)] if args.baseline else [])
    for k in range(args.repeat):
        for name, b in builds:
            ns = one_run(os.path.join(b, "src/ipfixd"), certs, tmp, args.messages, args.stall)
            print("run %d %-10s %6.1f ns/record" % (k + 1, name, ns), flush=True)


if __name__ == "__main__":
    sys.exit(main())
