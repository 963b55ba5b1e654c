"""The mediation chain of issue 5 on loopback:

    ipfixd-send -> ipfixd A (filter, anonymise) -> IPFIX/UDP -> ipfixd B -> IPFIX/UDP -> nfcapd
                                                                      \\-> JSON lines

Record counts and packet and octet sums at B's JSON and at nfcapd are exactly what the filter
keeps of the generator's records; addresses are pseudonymised consistently (one input, one
output) and prefix-preservingly; ports and counters pass unchanged."""
import ipaddress
import os
import re
import shutil
import subprocess
import tempfile
import time

from ixdtest import Daemon, expected_v4, free_port, read_json_lines, run, send, wait_lines

N = 30000
FILTER = "proto tcp and dst port in [0..199, 443]"


def kept(k):
    e = expected_v4(k)
    return e["protocolIdentifier"] == 6 and (e["destinationTransportPort"] < 200
                                             or e["destinationTransportPort"] == 443)


def common_prefix(a, b):
    return 32 - (int(a) ^ int(b)).bit_length()


def test_chain_to_nfcapd_and_json():
    tmp = tempfile.mkdtemp()
    key = os.path.join(tmp, "key")
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o600)
    pa, pb, pn = free_port(), free_port(), free_port()
    nf_dir = os.path.join(tmp, "nfcapd")
    os.mkdir(nf_dir)
    nfcapd = None
    if shutil.which("nfcapd"):
        nfcapd = subprocess.Popen(["nfcapd", "-b", "127.0.0.1", "-p", str(pn), "-w", nf_dir,
                                   "-t", "60"], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL)
    b = Daemon(f"""
workers: 2
collectors:
  - {{name: from-a, transport: udp, listen: "127.0.0.1:{pb}"}}
outputs:
  - {{name: json, type: json, path: "{tmp}/b.json"}}
  - {{name: archive, type: ipfix, transport: udp, destinations: ["127.0.0.1:{pn}"]}}
""", expect_collectors=1)
    a = Daemon(f"""
workers: 2
collectors:
  - {{name: routers, transport: udp, listen: "127.0.0.1:{pa}"}}
outputs:
  - {{name: to-b, type: ipfix, transport: udp, destinations: ["127.0.0.1:{pb}"]}}
pipelines:
  - name: research
    from: routers
    to: to-b
    stages:
      - filter: "{FILTER}"
      - anonymise: {{method: cryptopan, key-file: "{key}"}}
""", expect_collectors=1)
    want = [k for k in range(N) if kept(k)]
    try:
        send("-n", N, "-r", 50000, "127.0.0.1:%d" % pa)
        wait_lines(os.path.join(tmp, "b.json"), len(want), timeout=60)
        time.sleep(1.5)
    finally:
        a.stop()
        b.stop()
        if nfcapd is not None:
            nfcapd.terminate()
            nfcapd.wait()
    got = read_json_lines(os.path.join(tmp, "b.json"))
    assert sorted(r["octetDeltaCount"] for r in got) == want, (len(got), len(want))
    assert sum(r["packetDeltaCount"] for r in got) == sum(1 + k % 1000 for k in want)
    mapping = {}
    for r in got:
        e = expected_v4(r["octetDeltaCount"])
        for f in ("sourceTransportPort", "destinationTransportPort", "protocolIdentifier",
                  "flowStartMilliseconds", "bgpSourceAsNumber"):
            assert r[f] == e[f], (f, r)
        for f in ("sourceIPv4Address", "destinationIPv4Address"):
            assert mapping.setdefault(e[f], r[f]) == r[f], (f, e[f], r[f])
    assert len(set(mapping.values())) == len(mapping)
    addrs = sorted(mapping, key=lambda x: int(ipaddress.ip_address(x)))
    for x, y in zip(addrs, addrs[1:]):
        a1, a2 = ipaddress.ip_address(x), ipaddress.ip_address(y)
        b1, b2 = ipaddress.ip_address(mapping[x]), ipaddress.ip_address(mapping[y])
        assert common_prefix(a1, a2) == common_prefix(b1, b2), (x, y)
    if nfcapd is None:
        print("     (nfcapd not installed: the nfcapd leg skipped)")
        return
    r = subprocess.run(["nfdump", "-R", nf_dir, "-q", "-o", "csv", "-N"], capture_output=True,
                       text=True)
    rows = [l.split(",") for l in r.stdout.splitlines() if re.match(r"^\d{4}-", l)]
    assert len(rows) == len(want), "nfdump read %d of %d flows" % (len(rows), len(want))
    # nfdump's csv: ... ipkt at index 12, ibyt at 13 in nfdump 1.7's default csv
    head = subprocess.run(["nfdump", "-R", nf_dir, "-o", "csv", "-N", "-c", "1"],
                          capture_output=True, text=True).stdout.splitlines()[0].split(",")
    ipkt, ibyt = head.index("ipkt"), head.index("ibyt")
    assert sum(int(x[ipkt]) for x in rows) == sum(1 + k % 1000 for k in want)
    assert sum(int(x[ibyt]) for x in rows) == sum(want)


if __name__ == "__main__":
    run([test_chain_to_nfcapd_and_json])
