"""The flow meter (transport: pcap, ipfixd convert): FlowTest's validation cases, totals equal to
the capture's IP packets and bytes, the flows softflowd finds, IPFIX that tshark decodes and
ipfixd's collector reads back, truncated and hostile captures counted, the capture counters in
the SIGUSR1 summary, /metrics and the API, and a live capture on a veth pair in a namespace."""
import glob
import ipaddress
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import time
import urllib.request

import yaml

from ixdtest import BIN, CORPUS, SLOW, Daemon, free_port, free_tcp_port, read_json_lines, run
from pcapio import split_messages, write_udp_pcap

HERE = os.path.dirname(os.path.abspath(__file__))
FLOWTEST = os.path.join(CORPUS, "packet-captures/flowtest")
REPLAY = os.path.join(CORPUS, "packet-captures/tcpreplay/test/test.pcap")
GEN = os.path.join(HERE, "../../bench/gen_capture.py")
META = ("@collector", "@exporter", "@exporter_port", "@received", "@template")

FIELDS = {"protocol": "protocolIdentifier", "bytes": "octetDeltaCount",
          "packets": "packetDeltaCount", "bytes@rev": "reverseOctetDeltaCount",
          "packets@rev": "reversePacketDeltaCount", "ttl": "ipTTL", "ttl@rev": "reverseIpTTL",
          "tos": "ipClassOfService", "tos@rev": "ipClassOfService",
          "src_mac": "sourceMacAddress", "dst_mac": "destinationMacAddress",
          "vlan_id": "vlanId", "vxlan_id": "layer2SegmentId"}


def convert(*args, check=True):
    p = subprocess.run([BIN, "convert", *args], capture_output=True, timeout=300 * SLOW)
    if check and p.returncode != 0:
        raise AssertionError("convert %s: %d %s" % (args, p.returncode, p.stderr.decode()))
    return p


def flows_of(path, *args):
    out = convert(path, *args).stdout.decode()
    return [json.loads(l) for l in out.splitlines()]


def addr(r, side):
    return str(ipaddress.ip_address(r.get(side + "IPv4Address") or r.get(side + "IPv6Address")))


def value(r, k, rev):
    """FlowTest field k of record r, seen from the reverse direction when rev."""
    if rev:
        k = k[:-4] if k.endswith("@rev") else k + "@rev"
    back = k.endswith("@rev")
    base = k[:-4] if back else k
    if base in ("src_ip", "dst_ip"):
        src = (base == "src_ip") != back
        return addr(r, "source" if src else "destination")
    if base in ("src_port", "dst_port"):
        src = (base == "src_port") != back
        return r.get("sourceTransportPort" if src else "destinationTransportPort")
    if base == "bytes_outer":  # the meter's tunnel elements (ipfixd's own, config/elements/ipfixd.xml)
        return r.get("reverseTunnelOctetDeltaCount" if back else "tunnelOctetDeltaCount")
    if base == "tos":
        return r.get("ipClassOfService")
    return r.get(FIELDS.get(k))


def find(records, flow, key):
    for r in records:
        for rev in (False, True):
            if all(value(r, k, rev) == (str(ipaddress.ip_address(flow[k]))
                                        if k in ("src_ip", "dst_ip") else flow[k]) for k in key):
                return r, rev
    return None, None


def check_case(path):
    case = yaml.safe_load(open(path))
    pcap = os.path.join(FLOWTEST, "pcap", case["pcap"])
    records = [r for r in flows_of(pcap) if "protocolIdentifier" in r]
    key = case.get("key", ["src_ip", "dst_ip", "protocol", "src_port", "dst_port"])
    if os.path.basename(path) == "wireguard.yml":
        # FlowTest splits this conversation at each WireGuard handshake (a WireGuard-aware
        # probe's choice); ipfixd meters it as one biflow: the sums must match
        r, rev = find(records, case["flows"][0], key)
        assert r is not None and len(records) == 1, records
        for k in ("packets", "bytes", "packets@rev", "bytes@rev"):
            assert value(r, k, rev) == sum(f[k] for f in case["flows"]), k
        return
    for flow in case["flows"]:
        r, rev = find(records, flow, key)
        assert r is not None, "%s: no flow %s" % (path, {k: flow[k] for k in key})
        for k, want in flow.items():
            base = k[:-4] if k.endswith("@rev") else k
            if base not in FIELDS and base not in ("src_port", "dst_port", "bytes_outer"):
                continue  # application fields (DNS, HTTP, TLS) are not the meter's
            if isinstance(want, str):
                want = want.lower()
            got = value(r, k, rev)
            assert got == want, "%s: %s is %r, expected %r" % (os.path.basename(path), k, got,
                                                               want)


def test_flowtest_validation():
    cases = sorted(glob.glob(os.path.join(FLOWTEST, "testing/validation/*.yml")))
    assert len(cases) >= 50, cases
    for c in cases:
        check_case(c)


def ip_totals(pcap):
    """(packets, bytes) of the IP packets in pcap, as tshark sees them: the innermost IP header
    of each frame, not counting those quoted inside ICMP errors."""
    out = subprocess.run(["tshark", "-r", pcap, "-T", "fields", "-E", "separator=;",
                          "-e", "frame.protocols", "-e", "ip.len", "-e", "ipv6.plen"],
                         capture_output=True, text=True, check=True).stdout
    packets = octets = 0
    for line in out.splitlines():
        protos, v4, v6 = line.split(";")
        layers = []
        for p in protos.split(":"):
            if p in ("icmp", "icmpv6"):
                break
            if p in ("ip", "ipv6"):
                layers.append(p)
        if not layers:
            continue
        v4, v6 = v4.split(",") if v4 else [], v6.split(",") if v6 else []
        nth = layers.count(layers[-1]) - 1
        packets += 1
        octets += int(v4[nth]) if layers[-1] == "ip" else 40 + int(v6[nth])
    return packets, octets


def totals(records):
    data = [r for r in records if "packetDeltaCount" in r]
    return (sum(r["packetDeltaCount"] + r["reversePacketDeltaCount"] for r in data),
            sum(r["octetDeltaCount"] + r["reverseOctetDeltaCount"] for r in data))


def generated(tmp, packets=20000, flows=1500):
    path = os.path.join(tmp, "gen.pcap")
    subprocess.run([sys.executable, GEN, path, "--packets", str(packets), "--flows", str(flows)],
                   check=True)
    return path


def test_totals_equal_capture():
    tmp = tempfile.mkdtemp()
    for pcap in (REPLAY, generated(tmp)):
        want = ip_totals(pcap)
        got = totals(flows_of(pcap))
        assert got == want, "%s: meter %s, capture %s" % (pcap, got, want)


def test_pcapng():
    """A pcapng file (editcap's copy of the pcap) gives the same records."""
    tmp = tempfile.mkdtemp()
    ng = os.path.join(tmp, "test.pcapng")
    subprocess.run(["editcap", "-F", "pcapng", REPLAY, ng], check=True)
    assert open(ng, "rb").read(4) == b"\x0a\x0d\x0d\x0a"
    strip = lambda rs: sorted(json.dumps({k: v for k, v in r.items() if k != "@exporter"},
                                         sort_keys=True) for r in rs)
    assert strip(flows_of(ng)) == strip(flows_of(REPLAY))


def uni_keys(records):
    """{(src, dst, proto, sport, dport): packets} of each direction of the biflows (ICMP: by
    addresses)."""
    out = {}
    for r in records:
        if "packetDeltaCount" not in r:
            continue
        p = r["protocolIdentifier"]
        s, d = addr(r, "source"), addr(r, "destination")
        sp, dp = r.get("sourceTransportPort"), r.get("destinationTransportPort")
        icmp = p in (1, 58)
        k = (s, d, p) if icmp else (s, d, p, sp, dp)
        out[k] = out.get(k, 0) + r["packetDeltaCount"]
        if r.get("reversePacketDeltaCount"):
            k = (d, s, p) if icmp else (d, s, p, dp, sp)
            out[k] = out.get(k, 0) + r["reversePacketDeltaCount"]
    return out


def softflowd(pcap, tmp):
    """softflowd's records of pcap (IPFIX to a collector of ipfixd's), with the meter's
    default timeouts."""
    port = free_port()
    tmp = tempfile.mkdtemp(dir=tmp)
    d = Daemon(f"""
workers: 1
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: j, type: json, path: "{tmp}/soft.json"}}
""")
    subprocess.run(["softflowd", "-r", pcap, "-n", "127.0.0.1:%d" % port, "-v", "10",
                    "-t", "general=60s", "-t", "maxlife=300s", "-d"],
                   capture_output=True, check=True, timeout=120)
    time.sleep(1)
    d.stop()
    return read_json_lines(os.path.join(tmp, "soft.json"))


def pseudowire_flows(pcap):
    """Keys of the IPv4 packets inside MPLS Ethernet pseudowires (softflowd does not open
    them)."""
    out = subprocess.run(["tshark", "-r", pcap, "-Y", "pwethcw", "-T", "fields",
                          "-e", "ip.src", "-e", "ip.dst", "-e", "ip.proto"],
                         capture_output=True, text=True, check=True).stdout
    keys = set()
    for line in out.splitlines():
        s, d, p = (v.split(",")[-1] for v in line.split("\t"))
        keys.add((s, d, int(p)))
    return keys


def fold_fragments(flows):
    """softflowd meters later IP fragments as flows of ports 0: each such flow goes back to the
    one flow of the same addresses and protocol that has ports. Returns how many were folded."""
    folded = 0
    for k in [k for k in flows if len(k) == 5 and k[2] in (6, 17) and k[3:] == (0, 0)]:
        home = [h for h in flows if len(h) == 5 and h[:3] == k[:3] and h[3:] != (0, 0)]
        if len(home) == 1:
            flows[home[0]] += flows.pop(k)
            folded += 1
    return folded


def test_flows_as_softflowd():
    """The same flows as softflowd's (each direction of a biflow one of its records), once the
    categories the two meter differently are accounted for: biflows (ipfixd's one record is
    softflowd's two), later IP fragments (softflowd: flows of their own, without ports;
    ipfixd: their first fragment's flow) and packets inside MPLS Ethernet pseudowires (which
    softflowd does not open)."""
    tmp = tempfile.mkdtemp()
    for pcap, fragmented in ((REPLAY, False), (generated(tmp), True)):
        ours = uni_keys(flows_of(pcap))
        soft = uni_keys(softflowd(pcap, tmp))
        folded = fold_fragments(soft)
        assert (folded > 0) == fragmented, folded
        pw = pseudowire_flows(pcap)
        differ = {k for k in set(ours) | set(soft) if ours.get(k) != soft.get(k)}
        unexplained = {k for k in differ if k[:3] not in pw}
        assert not unexplained, sorted(unexplained, key=str)[:10]
        assert len(ours) >= len(soft) > 0


TUNNEL_ELEMENTS = {"tunnelOctetDeltaCount", "reverseTunnelOctetDeltaCount",
                   "tunnelSourceIPv4Address", "tunnelDestinationIPv4Address",
                   "tunnelSourceIPv6Address", "tunnelDestinationIPv6Address"}


def test_ipfix_readback_and_tshark():
    """The meter's IPFIX: tshark decodes every message without a malformed packet, and ipfixd's
    collector reads back exactly the records the JSON form holds."""
    tmp = tempfile.mkdtemp()
    src = os.path.join(FLOWTEST, "pcap/vxlan.pcap")
    for pcap in (REPLAY, src, os.path.join(FLOWTEST, "pcap/ipv6-udp-fragmented.pcap")):
        want = flows_of(pcap, "--dpi", "--tunnel-addresses")
        f = os.path.join(tmp, "out.ipfix")
        convert(pcap, "--dpi", "--tunnel-addresses", "--format", "ipfix", "-o", f)
        msgs = split_messages(open(f, "rb").read())
        assert msgs
        wrapped = os.path.join(tmp, "ipfix.pcap")
        write_udp_pcap(wrapped, [(40000, m) for m in msgs])
        out = subprocess.run(["tshark", "-r", wrapped, "-d", "udp.port==4739,cflow",
                              "-Y", "_ws.malformed || _ws.expert.severity >= error"],
                             capture_output=True, text=True, check=True).stdout
        assert out.strip() == "", out
        # over UDP into a collector
        port = free_port()
        d = Daemon(f"""
workers: 1
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: j, type: json, path: "{tmp}/back.json"}}
""")
        convert(pcap, "--dpi", "--tunnel-addresses", "--to", "127.0.0.1:%d" % port)
        time.sleep(1)
        d.stop()
        back = read_json_lines(os.path.join(tmp, "back.json"))
        # the export describes the meter's own elements it uses in RFC 5610 type records,
        # which reach the collector as options records
        described = {r["informationElementName"] for r in back if "informationElementId" in r}
        back = [r for r in back if "informationElementId" not in r]
        assert described == {k for r in want for k in r if k in TUNNEL_ELEMENTS}, described
        strip = lambda rs: sorted(json.dumps({k: v for k, v in r.items() if k not in META},
                                             sort_keys=True) for r in rs)
        assert strip(back) == strip(want), (len(back), len(want))
        os.remove(os.path.join(tmp, "back.json"))


def test_progress_only_on_a_terminal():
    """A progress line (packets, flows, % of the file, rate) on a terminal; nothing otherwise."""
    import pty
    p = convert(REPLAY, "-o", "/dev/null")
    assert p.stderr == b"", p.stderr
    master, slave = pty.openpty()
    p = subprocess.run([BIN, "convert", REPLAY, "-o", "/dev/null"], stderr=slave, timeout=60)
    os.close(slave)
    out = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:
            break
        if not chunk:
            break
        out += chunk
    os.close(master)
    assert p.returncode == 0
    assert re.search(rb"179 packets, 25 flows, +100\.0%, \d+ packets/s", out), out


def test_truncated_capture():
    """A capture cut off in a packet: status 1, a message naming it, the flows before kept."""
    tmp = tempfile.mkdtemp()
    data = open(REPLAY, "rb").read()
    cut = os.path.join(tmp, "cut.pcap")
    open(cut, "wb").write(data[:len(data) // 2 + 7])
    p = convert(cut, check=False)
    assert p.returncode == 1, p
    assert b"truncated" in p.stderr and b"cut.pcap" in p.stderr, p.stderr
    kept = [json.loads(l) for l in p.stdout.decode().splitlines()]
    assert len(kept) > 5
    p = convert(os.path.join(tmp, "missing.pcap"), check=False)
    assert p.returncode == 1 and b"missing.pcap" in p.stderr, p.stderr
    open(os.path.join(tmp, "junk.pcap"), "wb").write(b"not a capture at all" * 10)
    p = convert(os.path.join(tmp, "junk.pcap"), check=False)
    assert p.returncode == 1 and b"junk.pcap" in p.stderr, p.stderr


def hostile(path, seed=7, n=3000):
    """Ethernet frames with random bytes after a real-looking start: every layer cut short or
    lying about its length somewhere."""
    import random
    rnd = random.Random(seed)
    heads = [b"\x08\x00\x45", b"\x86\xdd\x60", b"\x81\x00\x00\x05\x08\x00\x45", b"\x88\x47",
             b"\x88\x64", b"\x08\x00\x4f", b"\x08\x00\x46"]
    out = [struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)]
    for i in range(n):
        body = b"\x02" * 12 + rnd.choice(heads)
        body += bytes(rnd.randrange(256) for _ in range(rnd.randrange(0, 120)))
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(body), len(body)) + body)
    open(path, "wb").write(b"".join(out))
    return n


def test_hostile_capture_counted():
    """Every frame of a hostile capture is metered or counted by reason; the daemon stays up and
    its counters add up in the summary, /metrics and the API."""
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "hostile.pcap")
    n = hostile(path)
    api = free_tcp_port()
    d = Daemon(f"""
workers: 2
api: {{listen: "127.0.0.1:{api}"}}
collectors:
  - {{name: cap, transport: pcap, path: "{path}", dpi: true}}
outputs:
  - {{name: j, type: json, path: "{tmp}/out.json"}}
""")
    d.wait_log(r"collector cap: read .*hostile.pcap")
    time.sleep(1.5)  # a snapshot for the API
    line = d.stats()
    m = re.findall(r"stats collector cap input: (.*)", d.log())[-1]
    c = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m))
    errors = sum(int(v) for v in re.findall(r"stats collector cap input decode_error \w+: "
                                            r"frames=(\d+)", d.log())[-6:])
    assert c["frames"] == n and c["packets"] + errors == n and errors > 0, (c, errors)
    col = json.loads(urllib.request.urlopen("http://127.0.0.1:%d/api/v1/collectors/cap" % api,
                                            timeout=10).read())
    assert col["input"]["counters"]["frames"] == n, col["input"]
    assert sum(e["frames"] for e in col["input"]["decode_errors"]) == errors
    metrics = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % api, timeout=10).read()
    assert b'ipfixd_capture_frames_total{collector="cap"} %d' % n in metrics
    assert b'ipfixd_capture_decode_errors_total{collector="cap",decode_error="ip_header"}' \
        in metrics
    d.stop()
    recs = read_json_lines(os.path.join(tmp, "out.json"))
    assert sum(r.get("packetDeltaCount", 0) + r.get("reversePacketDeltaCount", 0)
               for r in recs) == c["packets"]


def test_daemon_file_equals_convert():
    """A pcap collector reading a file gives what `ipfixd convert` gives, under its own
    @collector and with the configured observation domain."""
    tmp = tempfile.mkdtemp()
    d = Daemon(f"""
workers: 2
collectors:
  - {{name: cap, transport: pcap, path: "{REPLAY}", observation-domain: 7}}
outputs:
  - {{name: j, type: json, path: "{tmp}/out.json"}}
""")
    d.wait_log(r"collector cap: read .*test.pcap: 179 frames")
    final = d.stop()
    got = read_json_lines(os.path.join(tmp, "out.json"))
    want = flows_of(REPLAY, "--observation-domain", "7")
    assert all(r["@collector"] == "cap" and r["@odid"] == 7 for r in got)
    assert all(r["@exporter"].endswith("test.pcap") for r in got)
    strip = lambda rs: sorted(json.dumps({k: v for k, v in r.items() if k not in META},
                                         sort_keys=True) for r in rs)
    assert strip(got) == strip(want)
    assert all(r["flowEndReason"] in (3, 4) for r in got), "the end of a file ends flows (4)"


def test_reload():
    """SIGHUP: an unchanged pcap collector keeps its meter (the file is not read again, its
    counters go on); a changed one reads its new file."""
    import signal
    tmp = tempfile.mkdtemp()
    other = os.path.join(FLOWTEST, "pcap/dns_a.pcap")
    cfg = """
workers: 2
collectors:
  - {name: a, transport: pcap, path: "%s"}
  - {name: b, transport: pcap, path: "%s"}
outputs:
  - {name: j, type: json, path: "%s/out.json"}
"""
    d = Daemon(cfg % (REPLAY, REPLAY, tmp))
    d.wait_log(r"collector b: read .*test.pcap", count=1)
    d.wait_log(r"collector a: read .*test.pcap", count=1)
    d.write_config(cfg % (REPLAY, other, tmp))
    d.signal(signal.SIGHUP)
    d.wait_log(r"collector b: read .*dns_a.pcap")
    time.sleep(0.5)
    d.stop()
    log = d.log()
    assert len(re.findall(r"collector a: read ", log)) == 1, log
    recs = read_json_lines(os.path.join(tmp, "out.json"))
    n = len(flows_of(REPLAY))
    assert len([r for r in recs if r["@collector"] == "a"]) == n
    assert len([r for r in recs if r["@collector"] == "b"]) == n + 1
    final = re.findall(r"final collector a input: (.*)", log)[-1]
    assert "frames=179 " in final, final


def test_config_errors():
    for bad, message in (("interface: lo\n    path: /x.pcap", "either an interface or a path"),
                         ("snaplen: 10", "snaplen"),
                         ("path: /nonexistent.pcap", "nonexistent.pcap")):
        bad = bad.replace("/x.pcap", REPLAY)
        tmp = tempfile.mkdtemp()
        cfg = os.path.join(tmp, "c.yaml")
        open(cfg, "w").write("collectors:\n  - name: cap\n    transport: pcap\n    %s\n" % bad)
        p = subprocess.run([BIN, "-t", "-c", cfg], capture_output=True, text=True)
        assert p.returncode != 0 and message in p.stderr, (bad, p.stderr)


def root_with_netns():
    return os.geteuid() == 0 and shutil.which("ip") and shutil.which("tcpreplay")


def sh(*cmd):
    subprocess.run(cmd, check=True, capture_output=True)


def in_ns(ns, cmd):
    """cmd in the network namespace ns: nsenter switches that alone (`ip netns exec` also
    remounts / and /sys, which a chroot, without a mount point at /, refuses); /proc/sys/net is
    the namespace's for a process inside it."""
    return ["nsenter", "--net=/run/netns/" + ns] + list(cmd)


def test_live_capture_veth():
    """A capture on one end of a veth pair whose other end is in a namespace this test makes,
    two capture sockets in a fanout group: what tcpreplay sends there is metered as the file
    is. Skipped without root."""
    if not root_with_netns():
        print("skip test_live_capture_veth: needs root, ip and tcpreplay")
        return
    tag = "ixm%d" % (os.getpid() % 100000)
    ns, a, b = tag, tag + "a", tag + "b"
    tmp = tempfile.mkdtemp()
    made = subprocess.run(["ip", "netns", "add", ns], capture_output=True, text=True)
    if made.returncode != 0:  # a container without the right to make namespaces
        print("skip test_live_capture_veth: ip netns add: %s" % made.stderr.strip())
        return
    try:
        sh("ip", "link", "add", a, "type", "veth", "peer", "name", b)
        sh("ip", "link", "set", b, "netns", ns)
        for cmd in (["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % a],
                    ["ip", "link", "set", a, "up"]):
            sh(*cmd)
        for cmd in (["sysctl", "-qw", "net.ipv6.conf.%s.disable_ipv6=1" % b],
                    ["ip", "link", "set", b, "up"]):
            sh(*in_ns(ns, cmd))
        api = free_tcp_port()
        d = Daemon(f"""
workers: 2
api: {{listen: "127.0.0.1:{api}"}}
collectors:
  - {{name: live, transport: pcap, interface: {a}, workers: 2, idle-timeout: 2s,
      timeout: 20}}
outputs:
  - {{name: j, type: json, path: "{tmp}/live.json"}}
""")
        sh(*in_ns(ns, ["tcpreplay", "-i", b, "--pps", "2000", REPLAY]))
        time.sleep(4)  # idle timeouts end the flows by packet time ~ now
        stats = d.stats()
        m = re.findall(r"stats collector live input: (.*)", d.log())[-1]
        c = dict((k, int(v)) for k, v in re.findall(r"(\w+)=(\d+)", m))
        d.stop()
    finally:
        subprocess.run(["ip", "link", "del", a], capture_output=True)
        subprocess.run(["ip", "netns", "del", ns], capture_output=True)
    got = read_json_lines(os.path.join(tmp, "live.json"))
    want = flows_of(REPLAY)
    assert c["frames"] == 179 and c["kernel_dropped"] == 0, c
    assert totals(got) == totals(want)
    # the same biflows with the same counts (times are the replay's), but those carried in
    # MPLS: the kernel's fanout hash includes the label, which differs by direction, so the two
    # directions may be metered on different sockets
    mpls = subprocess.run(["tshark", "-r", REPLAY, "-Y", "mpls", "-T", "fields", "-e", "ip.src"],
                          capture_output=True, text=True, check=True).stdout.split()
    mpls = {a for v in mpls for a in v.split(",")}
    keyed = lambda rs: sorted(json.dumps({k: r[k] for k in r if k not in META and "Milli" not in k
                                          and k != "flowEndReason"}, sort_keys=True)
                              for r in rs if not {addr(r, "source"), addr(r, "destination")} & mpls)
    assert len(keyed(got)) > 15 and keyed(got) == keyed(want), (len(got), len(want))


if __name__ == "__main__":
    run([test_flowtest_validation, test_totals_equal_capture, test_pcapng, test_flows_as_softflowd,
         test_ipfix_readback_and_tshark, test_progress_only_on_a_terminal, test_truncated_capture, test_hostile_capture_counted,
         test_daemon_file_equals_convert, test_reload, test_config_errors, test_live_capture_veth])
