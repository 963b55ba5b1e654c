"""Pipelines with stages: filter, anonymise and observation-domain on real traffic from the load
generator, beside a pipeline without stages that sees every record unchanged; `ipfixd -t`
errors that point at the stage; a reload that changes a filter without losing records."""
import ipaddress
import os
import re
import signal
import subprocess
import tempfile
import time

from ixdtest import (BIN, Daemon, expected_v4, free_port, read_json_lines, run, send,
                     wait_lines)

N = 20000


def common_prefix(a, b, bits):
    x = int(a) ^ int(b)
    return bits - x.bit_length()


def config(port, tmp, stages, extra_outputs=""):
    return f"""
workers: 2
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: all
    type: json
    path: "{tmp}/all.json"
  - name: kept
    type: json
    path: "{tmp}/kept.json"
{extra_outputs}
pipelines:
  - name: plain
    from: u
    to: all
  - name: staged
    from: u
    to: kept
    stages:
{stages}
"""


def key_file(tmp):
    path = os.path.join(tmp, "cryptopan.key")
    with open(path, "wb") as f:
        f.write(bytes(range(32)))
    os.chmod(path, 0o600)
    return path


def test_filter_anonymise_and_domain():
    """The staged pipeline keeps exactly the records the filter should keep (counts and sums
    match a Python evaluation of the same expression on the generator's values), maps every
    address consistently and prefix-preservingly, and relabels the domain; the plain pipeline
    gets every record as sent."""
    tmp = tempfile.mkdtemp()
    port = free_port()
    stages = f"""      - filter: "proto tcp and dst port in [80, 443, 500..599] and not src ip in 10.0.16.0/20"
      - anonymise: {{method: cryptopan, key-file: "{key_file(tmp)}"}}
      - observation-domain: 4242
"""
    d = Daemon(config(port, tmp, stages))
    send("-n", N, "-r", 200000, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "all.json"), N)

    def keep(k):
        e = expected_v4(k)
        dport = e["destinationTransportPort"]
        src = ipaddress.ip_address(e["sourceIPv4Address"])
        return (e["protocolIdentifier"] == 6 and (dport in (80, 443) or 500 <= dport <= 599)
                and src not in ipaddress.ip_network("10.0.16.0/20"))

    want = [k for k in range(N) if keep(k)]
    wait_lines(os.path.join(tmp, "kept.json"), len(want))
    time.sleep(0.3)
    d.stop()
    plain = read_json_lines(os.path.join(tmp, "all.json"))
    kept = read_json_lines(os.path.join(tmp, "kept.json"))
    assert len(plain) == N, len(plain)
    assert sorted(r["octetDeltaCount"] for r in kept) == want, (len(kept), len(want))
    m = re.search(r"final pipeline staged: in=(\d+) out=(\d+) dropped=(\d+) failed=(\d+)",
                  d.log())
    assert m and [int(x) for x in m.groups()] == [N, len(want), N - len(want), 0], m
    assert sum(r["packetDeltaCount"] for r in kept) == sum(1 + k % 1000 for k in want)
    mapping = {}
    for r in kept:
        e = expected_v4(r["octetDeltaCount"])
        assert r["@odid"] == 4242, r
        assert r["destinationTransportPort"] == e["destinationTransportPort"], r
        for name in ("sourceIPv4Address", "destinationIPv4Address", "ipNextHopIPv4Address"):
            a, b = e[name], r[name]
            assert mapping.setdefault(a, b) == b, (a, b, mapping[a])
    assert len(set(mapping.values())) == len(mapping), "two addresses mapped to one"
    assert sum(a == b for a, b in mapping.items()) < len(mapping) // 100, "left in clear"
    addrs = sorted(mapping)[:300]
    for i in range(len(addrs) - 1):
        a, b = (ipaddress.ip_address(x) for x in addrs[i:i + 2])
        c, e = (ipaddress.ip_address(mapping[x]) for x in addrs[i:i + 2])
        assert common_prefix(a, b, 32) == common_prefix(c, e, 32), (a, b, c, e)
    for r in plain[:100]:
        assert r["sourceIPv4Address"] == expected_v4(r["octetDeltaCount"])["sourceIPv4Address"]
        assert r["@odid"] != 4242


def test_truncation_keeps_prefixes():
    tmp = tempfile.mkdtemp()
    port = free_port()
    stages = """      - anonymise: {method: truncate, ipv4-prefix: 20, elements: [destinationIPv4Address]}
"""
    d = Daemon(config(port, tmp, stages))
    send("-n", 2000, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "kept.json"), 2000)
    d.stop()
    for r in read_json_lines(os.path.join(tmp, "kept.json")):
        e = expected_v4(r["octetDeltaCount"])
        net = ipaddress.ip_network(e["destinationIPv4Address"] + "/20", strict=False)
        assert r["destinationIPv4Address"] == str(net.network_address), r
        assert r["sourceIPv4Address"] == e["sourceIPv4Address"], r  # not listed: untouched


def test_select_drop_and_set():
    """drop removes elements, set overwrites one the template has (in place) and adds those it
    lacks (a string included), select keeps only what it lists; kept fields keep their values."""
    tmp = tempfile.mkdtemp()
    port = free_port()
    stages = """      - drop: [ipNextHopIPv4Address, bgpSourceAsNumber]
      - set: {ingressInterface: 7, observationPointId: 4000000000, interfaceName: "site-a"}
"""
    extra = f"""  - name: few
    type: json
    path: "{tmp}/few.json"
"""
    cfg = config(port, tmp, stages, extra) + f"""  - name: only
    from: u
    to: few
    stages:
      - select: [sourceIPv4Address, octetDeltaCount, destinationIPv6Address]
"""
    d = Daemon(cfg)
    send("-n", 500, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "few.json"), 500)
    wait_lines(os.path.join(tmp, "kept.json"), 500)
    d.stop()
    for r in read_json_lines(os.path.join(tmp, "kept.json")):
        e = expected_v4(r["octetDeltaCount"])
        assert "ipNextHopIPv4Address" not in r and "bgpSourceAsNumber" not in r, r
        assert r["ingressInterface"] == 7 and r["observationPointId"] == 4000000000, r
        assert r["interfaceName"] == "site-a", r
        for k in ("sourceIPv4Address", "flowEndMilliseconds", "destinationTransportPort"):
            assert r[k] == e[k], (k, r)
    for r in read_json_lines(os.path.join(tmp, "few.json")):
        e = expected_v4(r["octetDeltaCount"])
        assert set(k for k in r if not k.startswith("@")) == {"sourceIPv4Address",
                                                              "octetDeltaCount"}, r
        assert r["sourceIPv4Address"] == e["sourceIPv4Address"]


def check_fails(tmp, stages, want):
    path = os.path.join(tmp, "bad.yaml")
    with open(path, "w") as f:
        f.write(config(4739, tmp, stages))
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode != 0, (stages, r.stderr)
    assert want in r.stderr, (want, r.stderr)


def test_config_errors_point_at_the_stage():
    tmp = tempfile.mkdtemp()
    check_fails(tmp, '      - filter: "proto tcp and dst port in [80, "\n',
                "bad.yaml:23:17: filter: column 32: expected a value")
    check_fails(tmp, '      - filter: "sourceIPv4Adress == 10.0.0.1"\n',
                "sourceIPv4Address")
    check_fails(tmp, "      - compress: true\n", "bad.yaml:23:9: unknown stage 'compress'")
    check_fails(tmp, "      - anonymise: {method: cryptopan, key-file: /nonexistent/key}\n",
                "bad.yaml:23:")
    check_fails(tmp, "      - anonymise: {method: truncate}\n",
                "method truncate needs ipv4-prefix")
    check_fails(tmp, "      - anonymise: {method: truncate, ipv4-prefix: 24, elements: "
                     "[sourceTransportPort]}\n", "not an IPv4 or IPv6 address element")
    check_fails(tmp, "      - observation-domain: -1\n", "observation-domain wants an ID")
    check_fails(tmp, "      - set: {protocolIdentifier: 300}\n", "bad.yaml:23:35: protocolIdentifier is unsigned8")
    check_fails(tmp, "      - select: [sourceIPv4Adress]\n", "no information element named")
    check_fails(tmp, "      - drop: octetDeltaCount\n", "wants a list")
    key = key_file(tmp)
    os.chmod(key, 0o644)
    check_fails(tmp, f'      - anonymise: {{method: cryptopan, key-file: "{key}"}}\n', "chmod")


def test_reload_changes_the_filter_without_loss():
    """SIGHUP with a new filter: the plain pipeline loses nothing while traffic flows, and
    records after the reload pass the new filter."""
    tmp = tempfile.mkdtemp()
    port = free_port()
    d = Daemon(config(port, tmp, '      - filter: "proto udp"\n'))
    gen = subprocess.Popen([os.environ["IXD_SEND"], "-q", "-n", str(N), "-r", "5000",
                            "127.0.0.1:%d" % port])
    time.sleep(1.5)
    d.write_config(config(port, tmp, '      - filter: "proto tcp"\n'))
    d.signal(signal.SIGHUP)
    d.wait_log("reloaded|config applied|reload", timeout=20)
    assert gen.wait(timeout=60) == 0
    wait_lines(os.path.join(tmp, "all.json"), N)
    time.sleep(0.5)
    d.stop()
    plain = read_json_lines(os.path.join(tmp, "all.json"))
    assert sorted(r["octetDeltaCount"] for r in plain) == list(range(N))
    kept = read_json_lines(os.path.join(tmp, "kept.json"))
    protos = [r["protocolIdentifier"] for r in kept]
    assert 17 in protos and 6 in protos, set(protos)
    switch = protos.index(6)
    assert all(p == 6 for p in protos[switch:]), "a udp record after the switch"
    assert all(r["protocolIdentifier"] == (17 if r["octetDeltaCount"] % 2 else 6) for r in kept)


if __name__ == "__main__":
    run([test_filter_anonymise_and_domain, test_truncation_keeps_prefixes, test_select_drop_and_set,
         test_config_errors_point_at_the_stage, test_reload_changes_the_filter_without_loss])
