"""Vendor information elements (config/elements, docs/elements.md): real vendor exports of the
corpus come out under the vendors' element names with typed JSON values; an enterprise element
that no file defines still comes out as "en<PEN>:id<ID>" with its bytes in hex."""
import os
import re
import socket
import subprocess
import tempfile
import time

import pcapio
from ixdtest import BIN, CORPUS, Daemon, free_port, read_json_lines, run, wait_lines

LS = os.path.join(CORPUS, "flow-exports/logstash-codec-netflow")
ELEMENTS = os.path.abspath(os.path.join(os.path.dirname(__file__), "../../config/elements"))
HEX = re.compile(r"^[0-9a-f]*$")


def send_files(port, names):
    """One exporter (one source port) sends the files in order: IPFIX .dat files message by
    message, NetFlow v9 .dat files as one datagram each. Returns the source port."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    for n in names:
        data = open(os.path.join(LS, n), "rb").read()
        for m in pcapio.split_messages(data) if data[:2] == b"\x00\x0a" else [data]:
            s.sendto(m, ("127.0.0.1", port))
    sport = s.getsockname()[1]
    s.close()
    return sport


VENDORS = {  # name: (collector, files); "n" reads NetFlow v9 vendor types as nProbe's (35632)
    "asa": ("u", ["netflow9_test_cisco_asa_1_tpl.dat", "netflow9_test_cisco_asa_1_data.dat"]),
    "netscaler": ("u", ["ipfix_test_netscaler_tpl.dat", "ipfix_test_netscaler_data.dat"]),
    "vmware": ("u", ["ipfix_test_vmware_vds_tpl.dat", "ipfix_test_vmware_vds_data264.dat",
                     "ipfix_test_vmware_vds_data266.dat",
                     "ipfix_test_vmware_vds_data266_267.dat"]),
    "barracuda": ("u", ["ipfix_test_barracuda_extended_uniflow_tpl256.dat",
                        "ipfix_test_barracuda_extended_uniflow_data256.dat"]),
    "nprobe-as-cisco": ("u", ["netflow9_test_nprobe_dpi.dat"]),
    "nprobe": ("n", ["netflow9_test_nprobe_dpi.dat"]),
}
EXPECTED = {"asa": 14, "netscaler": 3, "vmware": 5, "barracuda": 2, "nprobe-as-cisco": 1,
            "nprobe": 1}


def collect(elements_section):
    """Sends every vendor's files; returns {vendor: [records]}."""
    ports = {"u": free_port(), "n": free_port()}
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(f"""
workers: 1
{elements_section}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{ports['u']}"
  - name: n
    transport: udp
    listen: "127.0.0.1:{ports['n']}"
    netflow9-enterprise: 35632
outputs:
  - name: file
    type: json
    path: "{out}"
""")
    by_port = {}
    for vendor, (collector, files) in VENDORS.items():
        by_port[send_files(ports[collector], files)] = vendor
    wait_lines(out, sum(EXPECTED.values()), timeout=20)
    time.sleep(0.2)
    d.stop()
    got = {v: [] for v in VENDORS}
    for r in read_json_lines(out):
        got[by_port[r["@exporter_port"]]].append(r)
    for vendor, n in EXPECTED.items():
        assert len(got[vendor]) == n, (vendor, len(got[vendor]))
    return got


def one(records, **match):
    found = [r for r in records if all(r.get(k) == v for k, v in match.items())]
    assert len(found) == 1, (match, found)
    return found[0]


def test_vendor_elements_by_name_and_type():
    got = collect(f'elements:\n  directories: ["{ELEMENTS}"]')

    # Cisco ASA NSEL (NetFlow v9 types 33000-40005 -> PEN 9): logstash's expected event
    r = one(got["asa"], flowId=8501)
    assert r["NF_F_XLATE_SRC_ADDR_IPV4"] == "192.168.23.22", r
    assert r["NF_F_XLATE_DST_ADDR_IPV4"] == "164.164.37.11", r
    assert r["NF_F_XLATE_SRC_PORT"] == 17549 and r["NF_F_XLATE_DST_PORT"] == 0, r
    assert r["NF_F_FW_EVENT"] == 2 and r["NF_F_FW_EXT_EVENT"] == 2025, r
    assert r["NF_F_INGRESS_ACL_ID"] == "0f8e7ff3fc1a030f00000000", r  # octetArray: hex
    assert r["NF_F_EGRESS_ACL_ID"] == "000000000000000000000000", r
    assert isinstance(r["NF_F_USERNAME"], str) and not HEX.match(r["NF_F_USERNAME"]), r
    assert not any(k.startswith("en9:") for k in r), r

    # Citrix NetScaler AppFlow (PEN 5951)
    recs = got["netscaler"]
    r = one(recs, flowId=14460662)
    assert r["netscalerConnectionId"] == 14460661, r
    assert r["netscalerFlowFlags"] == 1157636096, r
    assert r["netscalerRoundTripTime"] == 83, r
    assert HEX.match(r["netscalerConnectionChainID"]) and len(r["netscalerConnectionChainID"]) == 32
    r = one(recs, netscalerAppUnitNameAppId=239927296)
    # NetScaler ends its strings with a NUL byte, which the output keeps (as \u0000)
    assert r["netscalerHttpReqXForwardedFor"].rstrip("\0") == "11.222.33.255", r
    assert r["netscalerHttpReqHost"].rstrip("\0") == "www.kobo.com", r
    assert r["netscalerHttpReqUrl"].rstrip("\0") == "/aa/bb/ccccc/ddddddddddddddddddddddddd", r
    # ids no source documents stay unnamed: raw bytes under a stable key
    unknown = [r for r in recs if "en5951:id329" in r]
    assert unknown, recs
    for r in unknown:
        assert isinstance(r["en5951:id329"], str) and len(r["en5951:id329"]) == 4, r
        assert HEX.match(r["en5951:id329"]), r

    # VMware vSphere Distributed Switch (PEN 6876)
    r = one(got["vmware"], destinationIPv4Address="172.18.65.211")
    assert r["ingressInterfaceAttr"] == 1 and r["egressInterfaceAttr"] == 2, r
    assert r["vxlanExportRole"] == 0, r
    r = one(got["vmware"], destinationIPv6Address="ff02::1:3")
    assert r["ingressInterfaceAttr"] == 1, r

    # Barracuda (PEN 10704): strings, addresses, a time in seconds, counters
    r = one(got["barracuda"], sourceIPv4Address="64.235.151.76")
    assert r["FW_Rule"] == "MTH:MTH-MC-to-Inet", r
    assert r["ReasonText"] == "Normal Operation" and r["ServiceName"] == "https", r
    assert r["BindIPv4Address"] == "213.208.150.99" and r["BindTransportPort"] == 64238, r
    assert r["ConnIPv4Address"] == "64.235.151.76" and r["ConnTransportPort"] == 443, r
    assert r["Timestamp"] == "2018-04-18T08:16:47Z", r
    assert r["AuditCounter"] == 4157725 and r["LogOp"] == 1, r

    # nProbe over NetFlow v9: named on a collector with netflow9-enterprise 35632 ...
    r = got["nprobe"][0]
    assert r["L7_PROTO"] == 82, r
    assert isinstance(r["L7_PROTO_NAME"], str) and not HEX.match(r["L7_PROTO_NAME"]), r
    # ... and, as PEN 9 defines no such element, raw hex under a stable key on the default one
    r = got["nprobe-as-cisco"][0]
    assert r["en9:id24822"] == "0052", r
    assert r["en9:id24823"] == "00c1000001ac100064e44feffffffa07", r
    assert "L7_PROTO" not in r, r


def test_default_directory_and_override():
    """Without elements.directories the shipped files load (the installed copy, else the source
    tree's); directories: [] turns them off; a file in elements.files overrides them."""
    tmp = tempfile.mkdtemp()
    got = collect("")
    assert one(got["asa"], flowId=8501)["NF_F_FW_EXT_EVENT"] == 2025
    got = collect("elements:\n  directories: []")
    r = one(got["asa"], flowId=8501)
    assert "NF_F_FW_EXT_EVENT" not in r and r["en9:id234"] == "07e9", r
    override = os.path.join(tmp, "mine.xml")
    with open(override, "w") as f:
        f.write("<registry><registry><record><name>myExtEvent</name>"
                "<dataType>unsigned16</dataType><enterpriseId>9</enterpriseId>"
                "<elementId>234</elementId></record></registry></registry>\n")
    got = collect(f'elements:\n  directories: ["{ELEMENTS}"]\n  files: ["{override}"]')
    r = one(got["asa"], flowId=8501)
    assert r["myExtEvent"] == 2025 and "NF_F_FW_EXT_EVENT" not in r, r
    assert r["NF_F_FW_EVENT"] == 2, r  # the rest of cisco.xml still applies


def check(config):
    path = os.path.join(tempfile.mkdtemp(), "ipfixd.yaml")
    with open(path, "w") as f:
        f.write(config)
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    return r.returncode, r.stderr


def test_check_names_bad_directories_and_files():
    base = 'collectors:\n  - name: u\n    listen: "127.0.0.1:1"\n'
    rc, err = check(f'elements:\n  directories: ["{ELEMENTS}"]\n' + base)
    assert rc == 0, err
    rc, err = check('elements:\n  directories: ["/nonexistent/elements"]\n' + base)
    assert rc != 0 and re.search(r"ipfixd\.yaml:2:\d+: .*/nonexistent/elements", err), err
    tmp = tempfile.mkdtemp()
    with open(os.path.join(tmp, "bad.xml"), "w") as f:
        f.write("<registry>\n<record><name>x</name><dataType>unsigned33</dataType>"
                "<enterpriseId>1</enterpriseId><elementId>1</elementId></record>\n</registry>\n")
    rc, err = check(f'elements:\n  directories: ["{tmp}"]\n' + base)
    assert rc != 0 and re.search(r"bad\.xml:2:\d+: ", err), err


if __name__ == "__main__":
    run([test_vendor_elements_by_name_and_type, test_default_directory_and_override,
         test_check_names_bad_directories_and_files])
