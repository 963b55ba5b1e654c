"""Real exports from the corpus: ipfixd must decode exactly as many records as tshark does.

Each source's IPFIX messages are sent in the order its notes give (templates first) from one UDP
socket per original exporter, and the same bytes are written to a pcap that tshark decodes. The
record count per source must match. (tshark is a second opinion, not the truth; on every IPFIX
source of the corpus the two agree today. A vendor file where they part ways would be listed here
with the count the set lengths and templates imply, and why.)
"""
import collections
import glob
import os
import re
import socket
import subprocess
import tempfile
import time

import pcapio
from ixdtest import CORPUS, Daemon, free_port, fresh_udp_socket, read_json_lines, run, wait_lines

LS = os.path.join(CORPUS, "flow-exports/logstash-codec-netflow")
TG = os.path.join(CORPUS, "flow-exports/telegraf/testcases")


def dat_source(*names, base=LS):
    msgs = []
    for n in names:
        msgs += pcapio.split_messages(open(os.path.join(base, n), "rb").read())
    return [msgs]


def pcap_source(path, versions=(10,)):
    """Flow-export payloads of a pcap, one list per original (address, port)."""
    groups = collections.OrderedDict()
    for src, sport, dport, p in pcapio.udp_payloads(path):
        if len(p) >= 2 and p[0] == 0 and p[1] in versions:
            groups.setdefault((src, sport), []).append(p)
    return list(groups.values())


def netflow_sources():
    """NetFlow v9 and v5 exports: each .dat is one datagram; templates before data per vendor."""
    s = collections.OrderedDict()
    groups = collections.OrderedDict()
    for path in sorted(glob.glob(os.path.join(LS, "netflow*.dat"))):
        name = os.path.basename(path)
        key = re.split(r"_(?:opttpl|tpl|data)", name)[0]
        groups.setdefault(key, []).append(path)
    for key, paths in groups.items():
        order = sorted(paths, key=lambda p: (0 if "opttpl" in p else 1 if "tpl" in p else 2, p))
        s["logstash " + key] = [[open(p, "rb").read() for p in order]]
    for case in ("netflow_v5_example", "netflow_v9_example", "netflow_v9_options"):
        files = sorted(glob.glob(os.path.join(TG, case, "*.bin")))
        s["telegraf " + case] = [[open(p, "rb").read() for p in files]]
    s["scapy netflowv9.pcap"] = pcap_source(
        os.path.join(CORPUS, "flow-exports/scapy/test/pcaps/netflowv9.pcap"), (9,))
    for p in sorted(glob.glob(os.path.join(CORPUS, "flow-exports/pmacct/tests/*NFv9*/traffic-*.pcap"))):
        groups_ = pcap_source(p, (9,))
        if groups_:
            s["pmacct v9 " + os.path.relpath(p, os.path.join(CORPUS, "flow-exports/pmacct/tests"))] = groups_
    return s


def sources():
    s = collections.OrderedDict()
    s["logstash ipfix.dat"] = dat_source("ipfix.dat")
    s["barracuda"] = dat_source("ipfix_test_barracuda_tpl.dat", "ipfix_test_barracuda_data256.dat")
    s["barracuda extended uniflow"] = dat_source("ipfix_test_barracuda_extended_uniflow_tpl256.dat",
                                                 "ipfix_test_barracuda_extended_uniflow_data256.dat")
    s["mikrotik"] = dat_source("ipfix_test_mikrotik_tpl.dat", "ipfix_test_mikrotik_data258.dat",
                               "ipfix_test_mikrotik_data259.dat")
    s["netscaler"] = dat_source("ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat")
    s["vmware vds"] = dat_source("ipfix_test_vmware_vds_tpl.dat", "ipfix_test_vmware_vds_data264.dat",
                                 "ipfix_test_vmware_vds_data266.dat",
                                 "ipfix_test_vmware_vds_data266_267.dat")
    s["yaf"] = dat_source("ipfix_test_yaf_tpls_option_tpl.dat", "ipfix_test_yaf_tpl45841.dat",
                          "ipfix_test_yaf_data45841.dat", "ipfix_test_yaf_data45873.dat",
                          "ipfix_test_yaf_data53248.dat")
    s["telegraf ipfix_example"] = dat_source(*["ipfix_%d.bin" % i for i in range(7)],
                                             base=os.path.join(TG, "ipfix_example"))
    s["telegraf ipfix_options"] = dat_source(*["message-%03d.bin" % i for i in range(1, 10)],
                                             base=os.path.join(TG, "ipfix_options"))
    s["ipfixcol2 example_flows.ipfix"] = dat_source(
        "example_flows.ipfix", base=os.path.join(CORPUS, "flow-exports/ipfixcol2/doc/data/ipfix"))
    s["scapy ipfix.pcap"] = pcap_source(os.path.join(CORPUS, "flow-exports/scapy/test/pcaps/ipfix.pcap"))
    for p in sorted(glob.glob(os.path.join(CORPUS, "flow-exports/pmacct/tests/*IPFIX*/traffic-*.pcap"))):
        groups = pcap_source(p)
        if groups:
            s["pmacct " + os.path.relpath(p, os.path.join(CORPUS, "flow-exports/pmacct/tests"))] = groups
    return s


def tshark_count(packets):
    """Data records tshark decodes from (sport, payload) datagrams sent to port 4739."""
    tmp = tempfile.mkdtemp()
    path = os.path.join(tmp, "x.pcap")
    pcapio.write_udp_pcap(path, packets)
    r = subprocess.run(["tshark", "-n", "-r", path, "-d", "udp.port==4739,cflow", "-V"],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    # IPFIX and v9 records show as "Flow N", v5 records as "pdu N/M"
    return len(re.findall(r"^\s+(?:Flow \d+|pdu \d+/\d+)$", r.stdout, re.M))


def compare_with_tshark(srcs, hold="true"):
    """Sends every source to one ipfixd, returns (expected, got, final counters)."""
    port = free_port()
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "out.json")
    d = Daemon(f"""
workers: 2
collectors:
  - name: corpus
    transport: udp
    listen: "127.0.0.1:{port}"
    receive-buffer: 8M
    hold-unknown: {hold}
outputs:
  - name: file
    type: json
    path: "{out}"
""")
    by_port, expected, sent_packets = {}, {}, 0
    for name, groups in srcs.items():
        packets = []
        for g in groups:
            s = fresh_udp_socket()
            sport = s.getsockname()[1]
            by_port[sport] = name
            for i, m in enumerate(g):
                s.sendto(m, ("127.0.0.1", port))
                packets.append((sport, m))
                if i % 16 == 15:
                    time.sleep(0.002)
            s.close()
        expected[name] = tshark_count(packets)
        sent_packets += len(packets)
    wait_lines(out, sum(expected.values()), timeout=20)
    time.sleep(0.3)
    final = d.stop()
    got = collections.Counter(by_port[r["@exporter_port"]] for r in read_json_lines(out))
    print("\n".join("%-64s tshark %6d  ipfixd %6d" % (n, expected[n], got.get(n, 0))
                    for n in srcs))
    assert final["corpus"]["messages"] == sent_packets, final
    assert final["corpus"]["socket_drops"] == 0, final
    return expected, got, final, d.log()


def test_corpus_record_counts():
    srcs = sources()
    assert len(srcs) >= 15, "corpus not found under %s" % CORPUS
    expected, got, final, log = compare_with_tshark(srcs)
    bad = [n for n in srcs if expected[n] != got.get(n, 0)]
    assert not bad, "record counts differ for: %s" % bad
    assert all(expected[n] > 0 for n in srcs), "a source decoded to nothing: %s" % expected


# NetFlow files where tshark's count is not the truth, with the count the set lengths and
# templates give and why.
NETFLOW_EXCEPTIONS = {
    # Header count 55582 where NetFlow v5 allows 30: the header is corrupt, so ipfixd refuses
    # the packet (counted as message_length); tshark decodes the 30 records the bytes hold.
    "logstash netflow5_test_invalid01.dat": 0,
    "logstash netflow5_test_invalid02.dat": 0,
    # The header's Count says 2 records; the flowsets hold 2 templates, an options template,
    # an options record and 2 data records, all with consistent lengths. tshark stops after
    # Count records; ipfixd follows the flowset lengths (exporters often get Count wrong) and
    # decodes the options record and both data records.
    "logstash netflow9_test_invalid01.dat": 3,
}


def test_netflow_record_counts():
    srcs = netflow_sources()
    assert len(srcs) >= 20, "corpus not found under %s" % CORPUS
    # tshark drops data that precedes its template: compare like with like
    expected, got, final, log = compare_with_tshark(srcs, hold="false")
    bad = [n for n in srcs if NETFLOW_EXCEPTIONS.get(n, expected[n]) != got.get(n, 0)]
    assert not bad, "record counts differ for: %s" % bad


if __name__ == "__main__":
    run([test_corpus_record_counts, test_netflow_record_counts])
