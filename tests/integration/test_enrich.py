"""The enrich stage, addresses: AS numbers, AS names, countries and cities from a CSV prefix
table and a MaxMind database (written by tests/unit/make_mmdb.pl) on every record of the load
generator, in JSON and in IPFIX files that ipfixDump decodes with config/elements/ipfixd.xml;
the exporter's own non-zero AS numbers kept; the files read again at SIGHUP; interface names
from an exporter's options records on every record of that exporter, whichever worker its
datagrams reach, and from Debian's snmpd (IF-MIB over SNMPv2c, started here on loopback) for an
exporter that sends none; `ipfixd -t` errors that point at the stage."""
import glob
import os
import re
import signal
import socket
import struct
import time
import subprocess
import tempfile

from ipfix import message, options_template_record, set_, template_record, varlen
import pcapio
from test_export import TcpCollector, UdpSink, check_sequences, dest_stats, wait_sent
from ixdtest import BIN, Daemon, free_port, read_json_lines, run, send, wait_lines

HERE = os.path.dirname(os.path.abspath(__file__))
MAKE_MMDB = os.path.join(HERE, "..", "unit", "make_mmdb.pl")
ELEMENTS = os.path.join(HERE, "..", "..", "config", "elements", "ipfixd.xml")
N = 2000


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def make_mmdb(path, lines):
    subprocess.run(["perl", MAKE_MMDB, path], input="".join(lines), text=True, check=True)


def config(port, tmp, sources, stage=None, export=None):
    return f"""
workers: 2
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: out
    type: json
    path: "{tmp}/out.json"
  - name: arch
    type: ipfix-file
    directory: "{tmp}/arch"
{export_output(export)}pipelines:
  - name: p
    from: u
    to: [out, arch{", x" if export else ""}]
    stages:
      - enrich: {stage or "{addresses: [%s]}" % ", ".join(sources)}
"""


def export_output(port):
    """An IPFIX export to 127.0.0.1:port over UDP, or nothing."""
    if port is None:
        return ""
    return f"""  - name: x
    type: ipfix
    destinations: ["127.0.0.1:{port}"]
    transport: udp
"""


INTERFACE_ELEMENTS = ["ingressInterfaceName", "egressInterfaceName",
                      "ingressInterfaceDescription", "egressInterfaceDescription",
                      "ingressInterfaceSpeed", "egressInterfaceSpeed"]


def tshark_ok(datagrams, records):
    """tshark decodes the export (each worker's session from its own source port, as sent)
    without a malformed packet or an expert error, every message whole, all records. Returns
    the names of the elements the export described in RFC 5610 type records (tshark shows
    each as "Flow N [name]"), each once per worker session."""
    path = os.path.join(tempfile.mkdtemp(), "x.pcap")
    pcapio.write_udp_pcap(path, datagrams, dport=4739)
    base = ["tshark", "-n", "-r", path, "-d", "udp.port==4739,cflow"]
    r = subprocess.run(base + ["-Y", "_ws.malformed || _ws.expert.severity >= 8388608",
                               "-T", "fields", "-e", "frame.number"], capture_output=True,
                       text=True)
    assert r.returncode == 0 and not r.stdout.split(), ("tshark", r.stdout, r.stderr)
    r = subprocess.run(base + ["-V"], capture_output=True, text=True)
    assert "Malformed" not in r.stdout and "partial" not in r.stdout
    flows = len(re.findall(r"^\s+Flow \d+$", r.stdout, re.M))
    assert flows == records, "tshark decodes %d data records of %d" % (flows, records)
    return re.findall(r"^\s+Flow \d+ \[(\w+)\]$", r.stdout, re.M)


def sources(tmp):
    """asn.csv first, geo.mmdb second."""
    write(os.path.join(tmp, "asn.csv"),
          "# prefix,asn,as name,country,city\n"
          "10.0.0.0/8,AS65001,\"Ten, Net\",DE,\n"
          "192.168.0.0/16,65002,Low Net,FR,Paris\n"
          "192.168.4.0/22,65003,High Net,,\n")
    make_mmdb(os.path.join(tmp, "geo.mmdb"), ["10.0.0.0/16\t64999\tNot used\tAT\tMunich\t\n",
                                             "192.168.4.0/24\t\t\tNL\tAmsterdam\t\n"])
    return [os.path.join(tmp, "asn.csv"), os.path.join(tmp, "geo.mmdb")]


def want(k):
    """What enrich adds to synthetic record k (source 10.x.y.z, destination 192.168.x.y)."""
    hi = (k >> 8) & 255
    w = {"sourceAsName": "Ten, Net", "sourceCountryCode": "DE",
         "sourceCityName": "Munich" if (k >> 16) & 255 == 0 else ""}
    if 4 <= hi < 8:
        # the longest prefix of a table answers alone (its empty fields are not the /16's);
        # the database fills them for 192.168.4.0/24
        w.update(bgpDestinationAsNumber=65003, destinationAsName="High Net",
                 destinationCountryCode="NL" if hi == 4 else "",
                 destinationCityName="Amsterdam" if hi == 4 else "")
    else:
        w.update(bgpDestinationAsNumber=65002, destinationAsName="Low Net",
                 destinationCountryCode="FR", destinationCityName="Paris")
    return w


def ipfix_dump(tmp, elements=True):
    """ipfixDump's text of every file the ipfix-file output completed, read with the element
    XML, or (elements False) with only what the files' RFC 5610 type records describe; it must
    read them without a complaint."""
    out = []
    how = ["-e", ELEMENTS] if elements else ["--rfc5610"]
    for path in sorted(glob.glob(os.path.join(tmp, "arch", "*.ipfix"))):
        r = subprocess.run(["ipfixDump", "--in", path] + how, capture_output=True, text=True)
        errors = [l for l in r.stderr.splitlines() if l.strip()]
        assert r.returncode == 0 and not errors, (path, r.stderr)
        out.append(r.stdout)
    assert out, "no IPFIX file written"
    return "\n".join(out)


def test_addresses():
    """Every record gets what the sources say, in source order, each part from the first source
    that has it; the exporter's non-zero bgpSourceAsNumber stays; the IPFIX files carry the
    elements under their names."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    port = free_port()
    d = Daemon(config(port, tmp, sources(tmp)))
    send("-n", N, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "out.json"), N)
    recs = read_json_lines(os.path.join(tmp, "out.json"))
    assert len(recs) == N
    for r in recs:
        src = r["sourceIPv4Address"].split(".")
        k = int(src[1]) << 16 | int(src[2]) << 8 | int(src[3])
        assert r["bgpSourceAsNumber"] == 64512 + k % 1000, r  # the exporter's, kept
        for key, value in want(k).items():
            assert r.get(key) == value, (key, value, r)
    d.stats()
    m = re.search(r"stage 0 enrich: .*enriched=(\d+) addresses_found=(\d+)", d.log())
    d.stop()
    assert m and int(m.group(1)) == N and int(m.group(2)) == 2 * N, m and m.group(0)
    text = ipfix_dump(tmp)
    for name in ("sourceAsName", "destinationAsName", "sourceCountryCode",
                 "destinationCityName", "bgpDestinationAsNumber"):
        assert name in text, name
    assert "Ten, Net" in text and "Amsterdam" in text


def test_reload_reads_the_files_again():
    """A changed CSV takes effect at SIGHUP for the records after it."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    port = free_port()
    d = Daemon(config(port, tmp, sources(tmp)))
    send("-n", 100, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "out.json"), 100)
    write(os.path.join(tmp, "asn.csv"), "10.0.0.0/8,65100,Renamed,SE,\n")
    d.signal(signal.SIGHUP)
    d.wait_log("reload", 1)
    send("-n", 100, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "out.json"), 200)
    recs = read_json_lines(os.path.join(tmp, "out.json"))
    d.stop()
    assert all(r["sourceAsName"] == "Ten, Net" for r in recs[:100])
    assert all(r["sourceAsName"] == "Renamed" and r["sourceCountryCode"] == "SE"
               for r in recs[100:])
    # the database is still there: the city comes from it, the destination from neither
    assert all(r["destinationAsName"] == "" for r in recs[100:])


IFACES = {1: ("ge-0/0/1", "uplink to transit"), 2: ("ge-0/0/2", ""),
          3: ("xe-1/0/0", "core \u00e9 link"), 4: ("lo0", "loopback")}
DATA_FIELDS = [(8, 4), (12, 4), (10, 4), (14, 4), (1, 8)]


def data_message(ks, seq, odid=1):
    """Records k: ingress interface 1 + k % 5 (5 is never named), egress 4 - k % 4."""
    body = b"".join(struct.pack(">4s4sIIQ", bytes([10, 0, 0, k & 255]), bytes([192, 0, 2, 1]),
                                1 + k % 5, 4 - k % 4, k) for k in ks)
    return message([set_(2, template_record(256, DATA_FIELDS)), set_(256, body)], seq=seq,
                   odid=odid)


def options_message():
    """interfaceName and interfaceDescription by ingressInterface (scope), one record each."""
    tmpl = options_template_record(257, 1, [(10, 4), (82, 65535), (83, 65535)])
    body = b"".join(struct.pack(">I", i) + varlen(n.encode()) + varlen(d.encode())
                    for i, (n, d) in IFACES.items())
    return message([set_(3, tmpl), set_(257, body)], seq=0)


def test_interface_names_from_options_records():
    """One exporter socket sends the options records; five others of the same exporter (other
    source ports: SO_REUSEPORT spreads them over both workers) send only data, and get the
    names; another observation domain gets none; ipfixDump names the fields with the XML."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    port = free_port()
    sink = UdpSink()
    d = Daemon(config(port, tmp, [], stage="{interfaces: [options]}", export=sink.port),
               expect_collectors=1)
    socks = [socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for _ in range(6)]
    socks[0].sendto(options_message(), ("127.0.0.1", port))
    time.sleep(0.5)  # the store publishes at once, or at the next tick at most 100 ms later
    n = 0
    for s in socks:
        s.sendto(data_message(range(50), seq=0), ("127.0.0.1", port))
        n += 50
    socks[1].sendto(data_message(range(10), seq=50, odid=9), ("127.0.0.1", port))
    wait_lines(os.path.join(tmp, "out.json"), n + 10 + len(IFACES))
    lines = read_json_lines(os.path.join(tmp, "out.json"))
    recs = [r for r in lines if "octetDeltaCount" in r]
    opts = [r for r in lines if "interfaceName" in r]
    assert len(recs) == n + 10 and len(opts) == len(IFACES)  # options records pass as sent
    d.stats()
    m = re.search(r"stage 0 enrich: .*interfaces_learned=(\d+)", d.log())
    store = re.search(r"stage 0 enrich: .*interfaces=(\d+) interface_tables=(\d+) "
                      r"interfaces_dropped=(\d+) interfaces_evicted=(\d+)", d.log())
    assert store and store.groups() == ("4", "1", "0", "0"), store and store.group(0)
    st = wait_sent(d, len(lines))
    # the type records are the export's own: its counters count the records it was given
    assert [(v["sent"], v["dropped"]) for v in st.values()] == [(len(lines), 0)], st
    d.stop()
    sink.close()
    # the re-export: tshark decodes it without a malformed packet, and the type records that
    # describe the six elements the stage added, once in each worker's session
    # (per observation domain: the other domain's records carry the fields, empty)
    described = tshark_ok(sink.datagrams, len(lines))
    sessions = len({port for port, _ in sink.datagrams})
    assert sorted(set(described)) == sorted(INTERFACE_ELEMENTS), described
    counts = {described.count(name) for name in INTERFACE_ELEMENTS}
    assert len(counts) == 1 and sessions <= counts.pop() <= 2 * sessions, (described, sessions)
    for s in socks:
        s.close()
    assert m and int(m.group(1)) == 4, m and m.group(0)
    for r in recs:
        i, o = r["ingressInterface"], r["egressInterface"]
        named = r["@odid"] == 1
        want_in = IFACES.get(i, ("", "")) if named else ("", "")
        want_out = IFACES.get(o, ("", "")) if named else ("", "")
        assert (r["ingressInterfaceName"], r["ingressInterfaceDescription"]) == want_in, r
        assert (r["egressInterfaceName"], r["egressInterfaceDescription"]) == want_out, r
        assert r["ingressInterfaceSpeed"] == 0 and "sourceAsName" not in r, r
    assert sum(1 for r in recs if r["ingressInterfaceName"] == "ge-0/0/1") == 6 * 10
    text = ipfix_dump(tmp)
    for name in ("ingressInterfaceName", "egressInterfaceDescription", "ge-0/0/1",
                 "uplink to transit"):
        assert name in text, name
    # without the XML: ipfixDump learns the names and types from the files' type records
    text = ipfix_dump(tmp, elements=False)
    assert re.search(r"\(32473/1\)\s+ingressInterfaceName : \(len: 8\) ge-0/0/1", text)
    assert re.search(r"\(32473/5\)\s+ingressInterfaceSpeed : 0$", text, re.M)


def type_records_of(reader):
    """The (odid, element name) of every RFC 5610 type record a Reader holds, and the number
    of records that are not type records."""
    described, others = [], 0
    for odid, tid, fields, rec in reader.records:
        if fields and fields[0][:2] == (346, 4) and len(fields) == 9:
            off = 26
            described.append((odid, rec[off + 1:off + 1 + rec[off]].decode()))
        else:
            others += 1
    return described, others


def test_type_records_over_tcp_reconnect():
    """Over TCP every connection describes the six interface elements before the template
    that uses them (a reconnect's prelude included), its sequence numbers count the type
    records, and the export's counters do not: delivered = sent + the descriptions."""
    port = free_port()
    coll = TcpCollector()
    d = Daemon(f"""
workers: 1
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: x, type: ipfix, transport: tcp, destinations: ["127.0.0.1:{coll.port}"]}}
pipelines:
  - {{name: p, from: u, to: [x], stages: [{{enrich: {{interfaces: [options]}}}}]}}
""", expect_collectors=1)
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.sendto(options_message(), ("127.0.0.1", port))
        time.sleep(0.5)
        sock.sendto(data_message(range(50), seq=0), ("127.0.0.1", port))
        wait_sent(d, 4 + 50)
        coll.stop()   # the collector goes away with the records it has; ipfixd reconnects
        sock.sendto(data_message(range(50, 80), seq=50), ("127.0.0.1", port))
        time.sleep(0.5)
        coll.listen()
        st = wait_sent(d, 4 + 80)
        time.sleep(0.5)
        coll.stop()
    finally:
        d.stop()
        sock.close()
    v = list(st.values())[0]
    assert v["reconnects"] >= 1 and len(coll.conns) >= 2, (v, len(coll.conns))
    total_others = 0
    for e in coll.conns:
        r = e["reader"]
        assert r.unknown == 0, "data before its template on a connection"
        check_sequences(r.messages)
        described, others = type_records_of(r)
        total_others += others
        if not others:
            continue
        # each connection: the six elements, once, before the first template that uses them
        assert sorted(n for _, n in described) == sorted(INTERFACE_ELEMENTS), described
        first = e["first"]
        assert struct.unpack(">H", first[16:18])[0] == 3, "first set is not the type template"
    assert total_others == v["sent"] and v["dropped"] == 0, (total_others, v)


def test_as_numbers_in_place_and_both_kinds():
    """bgpSourceAsNumber (4 bytes) and bgpDestinationAsNumber (2 bytes) the exporter sent: a 0 is
    filled where it stands, a non-zero value stays, an AS number a 2-byte field cannot hold
    leaves it 0; interfaces and addresses in one stage, addresses' fields first."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    write(os.path.join(tmp, "asn.csv"), "10.0.0.0/24,65001,A\n192.0.2.0/25,65002,B\n"
          "192.0.2.128/25,4200000000,Big\n")
    port = free_port()
    d = Daemon(config(port, tmp, [], stage="{interfaces: [options], addresses: [%s]}"
                      % os.path.join(tmp, "asn.csv")))
    fields = [(8, 4), (12, 4), (16, 4), (17, 2), (10, 4)]
    # last octets, AS numbers sent; the fourth repeats the first (the worker's cache answers)
    recs = [(1, 5, 0, 0), (2, 200, 7, 0), (3, 6, 0, 9), (1, 5, 0, 0)]
    body = b"".join(struct.pack(">4s4sIHI", bytes([10, 0, 0, a]), bytes([192, 0, 2, b]), sa, da, 1)
                    for a, b, sa, da in recs)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(options_message(), ("127.0.0.1", port))
    time.sleep(0.3)
    s.sendto(message([set_(2, template_record(300, fields)), set_(300, body)], seq=4),
             ("127.0.0.1", port))
    wait_lines(os.path.join(tmp, "out.json"), len(recs) + len(IFACES))
    out = [r for r in read_json_lines(os.path.join(tmp, "out.json")) if "sourceIPv4Address" in r]
    d.stats()
    m = re.search(r"stage 0 enrich: .*address_cache_hits=(\d+)", d.log())
    d.stop()
    assert m and int(m.group(1)) == 2, m and m.group(0)
    s.close()
    got = [(r["bgpSourceAsNumber"], r["bgpDestinationAsNumber"], r["destinationAsName"],
            r["ingressInterfaceName"]) for r in out]
    assert got == [(65001, 65002, "B", "ge-0/0/1"), (7, 0, "Big", "ge-0/0/1"),
                   (65001, 9, "B", "ge-0/0/1"), (65001, 65002, "B", "ge-0/0/1")], got
    keys = list(out[0].keys())
    assert keys.index("destinationCityName") < keys.index("ingressInterfaceName"), keys


def snmpd(tmp, community):
    """Debian's snmpd on a free loopback port with a view of IF-MIB's ifTable and ifXTable
    only, for the community and for SNMPv3 user ixd (SHA, AES); (process, port)."""
    port = free_port()
    conf = os.path.join(tmp, "snmpd.conf")
    write(conf, "view ifmib included .1.3.6.1.2.1.31.1.1\n"
                "view ifmib included .1.3.6.1.2.1.2.2\n"
                "rocommunity %s 127.0.0.1 -V ifmib\n"
                "createUser ixd SHA %s-auth AES %s-priv\n"
                "rouser ixd priv -V ifmib\n" % (community, community, community))
    p = subprocess.Popen(["snmpd", "-f", "-Lo", "-C", "-c", conf, "-p", os.path.join(tmp, "pid"),
                          "udp:127.0.0.1:%d" % port], stdout=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
    return p, port


def snmpwalk(port, community, column):
    """{ifIndex: value} of one IF-MIB column as net-snmp's own snmpwalk reads it."""
    deadline = time.time() + 10
    while True:
        r = subprocess.run(["snmpwalk", "-v2c", "-c", community, "-On", "-Oqv", "-Oe",
                            "127.0.0.1:%d" % port, column], capture_output=True, text=True)
        rows = subprocess.run(["snmpwalk", "-v2c", "-c", community, "-On", "-Oq",
                               "127.0.0.1:%d" % port, column], capture_output=True, text=True)
        if r.returncode == 0 and rows.stdout.strip():
            out = {}
            for line in rows.stdout.splitlines():
                name, _, value = line.partition(" ")
                out[int(name.rsplit(".", 1)[1])] = value.strip('"')
            return out
        assert time.time() < deadline, "snmpd does not answer: %s" % r.stderr
        time.sleep(0.2)


def test_interface_names_by_snmp():
    """An exporter that sends no options records gets the names, descriptions and speeds
    snmpd reports for its interfaces (snmpwalk is the oracle); options first, SNMP second;
    SNMPv2c."""
    snmp_case(False)


def test_interface_names_by_snmpv3():
    """The same over SNMPv3 (user ixd, HMAC-SHA-1 and AES-128 from passphrase files)."""
    snmp_case(True)


def test_snmpv3_wrong_passphrase():
    """A privacy passphrase the agent does not share: the walk fails and is counted, and the
    records get no names."""
    snmp_case(True, wrong=True)


def snmp_case(v3, wrong=False):
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    community = "c0mm-%d" % os.getpid()
    write(os.path.join(tmp, "community"), community + "\n")
    agent, aport = snmpd(tmp, community)
    try:
        names = snmpwalk(aport, community, ".1.3.6.1.2.1.31.1.1.1.1")
        aliases = snmpwalk(aport, community, ".1.3.6.1.2.1.31.1.1.1.18")
        high = snmpwalk(aport, community, ".1.3.6.1.2.1.31.1.1.1.15")
        port = free_port()
        if v3:
            write(os.path.join(tmp, "auth"), community + "-auth\n")
            write(os.path.join(tmp, "priv"), community + ("-wrong\n" if wrong else "-priv\n"))
            creds = "version: 3, user: ixd, auth-file: %s, priv-file: %s" % (
                os.path.join(tmp, "auth"), os.path.join(tmp, "priv"))
        else:
            creds = "community-file: %s" % os.path.join(tmp, "community")
        stage = ("{interfaces: [options, snmp], snmp: {%s, interval: 60, "
                 "agents: [{exporter: 127.0.0.1, agent: \"127.0.0.1:%d\"}]}}"
                 % (creds, aport))
        d = Daemon(config(port, tmp, [], stage=stage))
        d.wait_log("listening on")
        deadline = time.time() + 20
        while True:  # the first walk runs when the workers start
            d.stats()
            m = re.findall(r"stage 0 enrich: .*snmp_walks=(\d+) snmp_failures=(\d+)", d.log())
            if m and int(m[-1][1 if wrong else 0]) >= 1:
                assert int(m[-1][0 if wrong else 1]) == 0, m
                break
            assert time.time() < deadline, d.log()[-2000:]
            time.sleep(0.3)
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.sendto(data_message(range(40), seq=0), ("127.0.0.1", port))
        wait_lines(os.path.join(tmp, "out.json"), 40)
        recs = read_json_lines(os.path.join(tmp, "out.json"))
        d.stop()
        s.close()
    finally:
        agent.terminate()
        agent.wait()
    assert len(names) >= 1 and names.get(1) == "lo", names
    if wrong:
        names, aliases, high = {}, {}, {}
    for r in recs:
        for side, key in (("ingress", "ingressInterface"), ("egress", "egressInterface")):
            i = r[key]
            assert r[side + "InterfaceName"] == names.get(i, ""), (i, names, r)
            assert r[side + "InterfaceDescription"] == aliases.get(i, ""), (i, r)
            assert r[side + "InterfaceSpeed"] == int(high.get(i, 0)) * 1000000, (i, high, r)
    assert wrong or any(r["ingressInterfaceName"] == "lo" for r in recs)


def test_config_errors():
    """ipfixd -t names the file, line and the problem; a relative path is the config's
    directory's."""
    tmp = tempfile.mkdtemp()
    os.makedirs(os.path.join(tmp, "arch"))
    write(os.path.join(tmp, "bad.csv"), "10.0.0.0/8,ASx\n")
    for srcs, msg in ((["missing.csv"], "cannot read"), (["bad.csv"], "'ASx' is not an AS number"),
                      (["x.txt"], "a .csv prefix table or a .mmdb database"),
                      ([os.path.join(tmp, "bad.csv") + ".mmdb"], "cannot be read"),
                      (None, "interfaces lists snmp: snmp settings are needed")):
        path = os.path.join(tmp, "c.yaml")
        write(path, config(9, tmp, srcs or [], None if srcs else "{interfaces: [snmp]}"))
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr and "c.yaml:" in r.stderr, (srcs, r.stderr)


if __name__ == "__main__":
    run([test_addresses, test_reload_reads_the_files_again,
         test_interface_names_from_options_records, test_type_records_over_tcp_reconnect,
         test_as_numbers_in_place_and_both_kinds,
         test_interface_names_by_snmp, test_interface_names_by_snmpv3,
         test_snmpv3_wrong_passphrase, test_config_errors])
