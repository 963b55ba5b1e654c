"""Packet sampling: rates announced by options records (IPFIX samplers and selectors, NetFlow v9
options), carried by records, given by NetFlow v5 headers or configured per exporter are
tracked per observation domain, and an output with `renormalise: true` multiplies packet and
octet counts by the rate that applies to each record. The output without it is untouched."""
import os
import socket
import struct
import tempfile
import time

import ipfix
from ixdtest import Daemon, free_port, read_json_lines, run, wait_lines

U64 = 0xFFFFFFFFFFFFFFFF


def start():
    tmp = tempfile.mkdtemp()
    raw, scaled = os.path.join(tmp, "raw.json"), os.path.join(tmp, "scaled.json")
    p1, p2 = free_port(), free_port()
    d = Daemon(f"""
workers: 1
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{p1}"
  - name: configured
    transport: udp
    listen: "127.0.0.1:{p2}"
    sampling:
      - exporter: 192.0.2.0/24
        rate: 3
      - exporter: 127.0.0.0/8
        rate: 10
outputs:
  - name: raw
    type: json
    path: "{raw}"
  - name: scaled
    type: json
    path: "{scaled}"
    renormalise: true
""")
    return d, p1, p2, raw, scaled


def by_marker(lines, key="sourceTransportPort"):
    return {r[key]: r for r in lines if key in r}


def test_ipfix_samplers_and_selectors():
    """An options record per samplerId (RFC 7270 samplerRandomInterval) and per selectorId
    (RFC 5476 count-based: 1 selected, 99 skipped); data records name their sampler."""
    d, port, _, raw, scaled = start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    opts = ipfix.options_template_record(300, 1, [(48, 4), (49, 1), (50, 4)])
    sel = ipfix.options_template_record(301, 1, [(302, 8), (305, 4), (306, 4)])
    data = ipfix.template_record(256, [(7, 2), (1, 8), (2, 4), (48, 4), (86, 8)])
    data_sel = ipfix.template_record(257, [(7, 2), (1, 8), (2, 4), (302, 8)])
    s.sendto(ipfix.message([ipfix.set_(3, opts + sel), ipfix.set_(2, data + data_sel)]),
             ("127.0.0.1", port))
    s.sendto(ipfix.message([ipfix.set_(300, struct.pack(">IBI", 7, 2, 100)
                                       + struct.pack(">IBI", 9, 2, 1000)),
                            ipfix.set_(301, struct.pack(">QII", 5, 1, 99))], seq=0),
             ("127.0.0.1", port))
    recs = [(1, 1500, 3, 7, 5), (2, 64, 1, 9, 1), (3, 40, 2, 42, 2),
            (4, U64 // 50, 7, 7, 1)]  # sampler 42 was never announced; the last one saturates
    body = b"".join(struct.pack(">HQIIQ", *r) for r in recs)
    body_sel = struct.pack(">HQIQ", 5, 700, 7, 5)
    s.sendto(ipfix.message([ipfix.set_(256, body), ipfix.set_(257, body_sel)], seq=2),
             ("127.0.0.1", port))
    wait_lines(scaled, 7)
    d.stop()
    r, sc = by_marker(read_json_lines(raw)), by_marker(read_json_lines(scaled))
    want = {1: 100, 2: 1000, 3: 1, 4: 100, 5: 100}
    for port_, rate in want.items():
        a, b = r[port_], sc[port_]
        assert "@sampling_rate" not in a, a
        assert b.get("@sampling_rate", 1) == rate, (port_, b)
        for k in ("octetDeltaCount", "packetDeltaCount", "packetTotalCount"):
            if k in a:
                assert b[k] == min(a[k] * rate, U64), (port_, k, a[k], b[k])
        assert b["samplerId" if port_ < 5 else "selectorId"] == a.get(
            "samplerId", a.get("selectorId"))  # identifiers are not counts
    # options records themselves are written as sent, without a rate
    assert [x.get("samplerRandomInterval") for x in read_json_lines(scaled)
            if x.get("@template") == 300] == [100, 1000]
    assert not [x for x in read_json_lines(scaled)
                if x.get("@options") and "@sampling_rate" in x]


def test_netflow9_options_and_record_intervals():
    """NetFlow v9: an options record with system scope announces SAMPLING_INTERVAL (34) for the
    domain; a record carrying field 34 itself uses its own."""
    d, port, _, raw, scaled = start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    opt = ipfix.netflow9_options_template(260, [(1, 4)], [(34, 4), (35, 1)])
    t1 = ipfix.netflow9_template(261, [(7, 2), (1, 4), (2, 4)])
    t2 = ipfix.netflow9_template(262, [(7, 2), (1, 4), (2, 4), (34, 2)])
    s.sendto(ipfix.netflow9([(1, opt), (0, t1 + t2)], seq=0, source_id=5), ("127.0.0.1", port))
    s.sendto(ipfix.netflow9([(260, struct.pack(">IIB", 0, 512, 2))], seq=1, source_id=5),
             ("127.0.0.1", port))
    s.sendto(ipfix.netflow9([(261, struct.pack(">HII", 11, 100, 2)),
                             (262, struct.pack(">HIIH", 12, 100, 2, 64))], seq=2, source_id=5),
             ("127.0.0.1", port))
    wait_lines(scaled, 3)
    d.stop()
    sc = by_marker(read_json_lines(scaled))
    assert sc[11]["@sampling_rate"] == 512 and sc[11]["octetDeltaCount"] == 51200, sc[11]
    assert sc[11]["packetDeltaCount"] == 1024, sc[11]
    assert sc[12]["@sampling_rate"] == 64 and sc[12]["octetDeltaCount"] == 6400, sc[12]
    assert by_marker(read_json_lines(raw))[12]["octetDeltaCount"] == 100


def test_netflow5_header_and_configured_rates():
    """NetFlow v5: the header's 14-bit interval (mode bits aside) covers its records; an
    exporter that announces nothing gets its collector's configured rate (first match), and
    an announced rate wins over the configured one."""
    d, p1, p2, raw, scaled = start()
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    rec = {"src": bytes([10, 0, 0, 1]), "dst": bytes([10, 0, 0, 2]), "packets": 4,
           "octets": 400}
    s.sendto(ipfix.netflow5([dict(rec, sport=21)], sampling=0x4000 | 50), ("127.0.0.1", p1))
    s.sendto(ipfix.netflow5([dict(rec, sport=22)], sampling=0), ("127.0.0.1", p2))
    s.sendto(ipfix.netflow5([dict(rec, sport=23)], sampling=0x8000 | 7, engine=(1, 1)),
             ("127.0.0.1", p2))
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", p2))
    s.sendto(ipfix.small_data_message([24]), ("127.0.0.1", p2))
    wait_lines(scaled, 4)
    d.stop()
    sc = by_marker(read_json_lines(scaled))
    assert sc[21]["@sampling_rate"] == 50, sc[21]
    assert sc[21]["octetDeltaCount"] == 20000, sc[21]
    assert sc[21]["packetDeltaCount"] == 200, sc[21]
    assert sc[22]["@sampling_rate"] == 10 and sc[22]["octetDeltaCount"] == 4000, sc[22]
    assert sc[23]["@sampling_rate"] == 7, sc[23]
    ipfix_rec = [r for r in read_json_lines(scaled) if r.get("@odid") == 1][0]
    assert ipfix_rec["@sampling_rate"] == 10 and ipfix_rec["octetDeltaCount"] == 240, ipfix_rec


def test_latest_options_record_in_the_api():
    """Options records are kept per exporter, domain and options template: the API's template
    resource shows the latest one as the JSON output writes it."""
    import json
    import urllib.request
    tmp = tempfile.mkdtemp()
    port = free_port()
    s_api = socket.socket()
    s_api.bind(("127.0.0.1", 0))
    api = s_api.getsockname()[1]
    s_api.close()
    d = Daemon(f"""
workers: 1
api: {{listen: "127.0.0.1:{api}"}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: o, type: json, path: "{tmp}/o.json"}}
""", expect_collectors=1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    opts = ipfix.options_template_record(300, 1, [(48, 4), (49, 1), (50, 4)])
    s.sendto(ipfix.message([ipfix.set_(3, opts)], odid=5), ("127.0.0.1", port))
    s.sendto(ipfix.message([ipfix.set_(300, struct.pack(">IBI", 7, 2, 100)
                                       + struct.pack(">IBI", 9, 2, 1000))], odid=5),
             ("127.0.0.1", port))
    base = "http://127.0.0.1:%d/api/v1" % api
    deadline = time.time() + 10
    tmpl = None
    while time.time() < deadline and tmpl is None:
        time.sleep(0.5)
        xs = json.load(urllib.request.urlopen(base + "/exporters"))["_embedded"]["exporters"]
        for x in xs:
            url = "http://127.0.0.1:%d%s/domains/5/templates/300" % (api, x["_links"]["self"]["href"])
            try:
                t = json.load(urllib.request.urlopen(url))
            except Exception:
                continue
            if "last_options_record" in t:
                tmpl = t
    d.stop()
    assert tmpl is not None, "no options record in the API"
    rec = tmpl["last_options_record"]
    assert rec["@template"] == 300 and rec["@options"] is True, rec
    assert rec["samplerId"] == 9 and rec["samplerRandomInterval"] == 1000, rec
    assert tmpl["last_options_received"], tmpl


if __name__ == "__main__":
    run([test_ipfix_samplers_and_selectors, test_netflow9_options_and_record_intervals,
         test_netflow5_header_and_configured_rates, test_latest_options_record_in_the_api])
