"""ipfixd's JSON against the expected values shipped with the corpus, field by field.

Two oracles (see /work/shared/corpus/PROVENANCE.md):
- logstash-codec-netflow: expected.json (the expectations of its netflow_spec.rb as data: per
  test context the files to send in order, the event count, field checks, full expected events);
- telegraf's netflow input: testcases/*/expected.out (InfluxDB line protocol, one line per record).

Every test context is sent to one ipfixd collector from its own UDP source port (so each context
is its own session with its own templates), one datagram at a time, and after each datagram the
test waits until ipfixd has counted it and written its records: so every record is attributed to
the datagram that carried it.

The oracles' conventions are mapped, not skipped: names (explicit tables below, by IANA/CERT name
or by (enterprise number, element id) for vendor elements so that the names config/elements gives
them do not matter), units and representations (timestamps as numbers or ISO strings, hex strings,
protocol names, TCP flag strings, NUL-padded strings, logstash's application_id "engine..selector"
form, telegraf's scope-as-element quirk, ...). What is left is a true disagreement and is listed
in DISAGREEMENTS with the reason; the test asserts that the disagreements found are exactly that
list, so fixing one makes the test point at the stale entry. Fields that ipfixd does not carry at
all (message-header values, the oracles' own metadata) are listed in GAPS with the reason.

docs/interop.md explains the mappings and the disagreements.
"""
import collections
import datetime
import glob
import ipaddress
import json
import os
import re
import signal
import socket
import struct
import subprocess
import tempfile
import time
import xml.etree.ElementTree as ET

import pcapio
from ixdtest import BIN, CORPUS, Daemon, free_port, fresh_udp_socket, read_json_lines, run, wait_lines

LS = os.path.join(CORPUS, "flow-exports/logstash-codec-netflow")
TG = os.path.join(CORPUS, "flow-exports/telegraf/testcases")
REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "../.."))
ELEMENT_FILES = sorted(glob.glob(os.path.join(REPO, "config/elements/*.xml")))
CERT_XML = "/usr/share/libfixbuf/cert_ipfix.xml"
V9_PEN = 9  # the collector's netflow9-enterprise (the default): v9 type T >= 32768 -> (9, T - 32768)


# ---------------------------------------------------------------------------------------------
# Element names: (PEN, id) -> name, from the same XML files ipfixd is given

def element_names(files):
    names = {}
    for path in files:
        for rec in ET.parse(path).getroot().iter():
            if rec.tag.rsplit("}", 1)[-1] != "record":
                continue
            kids = {c.tag.rsplit("}", 1)[-1]: (c.text or "").strip() for c in rec}
            if kids.get("name") and kids.get("elementId", "").isdigit():
                pen = int(kids.get("enterpriseId") or 0)
                names[(pen, int(kids["elementId"]))] = kids["name"]
    return names


def lookup(rec, spec, names):
    """(found, value, raw) for a key spec: '@meta' or an element name, (pen, id), or a list of
    alternatives (the first present wins). raw is True when ipfixd wrote the element as unknown
    (hex), so the value must be read from its bytes."""
    for s in spec if isinstance(spec, list) else [spec]:
        if isinstance(s, tuple):
            pen, eid = s
            name = names.get(s)
            if name is not None and name in rec:
                return True, rec[name], False
            key = ("en%d:id%d" % (pen, eid)) if pen else ("id%d" % eid)
            if key in rec:
                return True, rec[key], True
        elif s in rec:
            return True, rec[s], False
    return False, None, False


# ---------------------------------------------------------------------------------------------
# Values

def iso_ns(s):
    """(nanoseconds since 1970, digits of fraction) of an RFC 3339 UTC string."""
    m = re.match(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$", s)
    if not m:
        return None
    sec = int(datetime.datetime.strptime(m.group(1), "%Y-%m-%dT%H:%M:%S")
              .replace(tzinfo=datetime.timezone.utc).timestamp())
    frac = m.group(2) or ""
    return sec * 10**9 + int((frac + "000000000")[:9]), len(frac)


def same_time(a, b):
    """Two RFC 3339 strings name the same instant at the coarser of their two precisions."""
    x, y = iso_ns(a), iso_ns(b)
    if x is None or y is None:
        return False
    unit = 10 ** (9 - min(x[1], y[1]))
    return x[0] // unit == y[0] // unit


def epoch(value, raw, unit):
    """ipfixd's value of a time element as a number of units (1 or 1000 per second)."""
    if raw:
        return int(value, 16)
    if isinstance(value, str) and iso_ns(value):
        return iso_ns(value)[0] * unit // 10**9
    return value


def as_int(value, raw):
    return int(value, 16) if raw else value


def as_str(value, raw, codec="utf-8"):
    if raw:
        return bytes.fromhex(value).rstrip(b"\0").decode(codec, "replace")
    return value.rstrip("\0") if isinstance(value, str) else value


def as_ip(value, raw):
    return str(ipaddress.ip_address(bytes.fromhex(value))) if raw else value


def ls_application_id(value):
    """logstash writes applicationId (95) as 'engine..selector' (9 bytes: 'engine..a..b')."""
    b = bytes.fromhex(value)
    rest = b[1:]
    if len(rest) % 4 == 0 and len(rest) > 4:
        parts = [int.from_bytes(rest[i:i + 4], "big") for i in range(0, len(rest), 4)]
    else:
        parts = [int.from_bytes(rest, "big")]
    return "..".join(str(p) for p in [b[0]] + parts)


L4_NAMES = {1: "icmp", 6: "tcp", 17: "udp", 58: "ipv6-icmp"}
END_REASONS = {0: "reserved", 1: "idle timeout", 2: "active timeout", 3: "end of flow",
               4: "forced end", 5: "lack of resources"}
FWD_STATUS = {0: "unknown", 1: "forwarded", 2: "dropped", 3: "consumed"}
FWD_REASON = {0: "unknown", 64: "unknown", 65: "fragmented", 66: "not fragmented", 128: "unknown",
              192: "unknown"}
ENGINE_TYPES = {0: "RP", 1: "VIP/linecard", 2: "PFC/DFC"}


def tcp_flags(v):
    return "".join(c if v & (1 << (7 - i)) else "." for i, c in enumerate("CEUAPRSF"))


def convert(kind, value, raw, ctx):
    """ipfixd's value in the oracle's representation."""
    if kind == "num":
        return as_int(value, raw)
    if kind == "ip":
        return as_ip(value, raw)
    if kind == "mac":
        return value if not raw else ":".join("%02x" % c for c in bytes.fromhex(value))
    if kind == "str":
        return as_str(value, raw)
    if kind == "latin1":
        return as_str(value, raw, "latin-1")
    if kind == "hex":
        return value if raw or isinstance(value, str) else "%x" % value
    if kind == "ms":
        return epoch(value, raw, 1000)
    if kind == "sec":
        return epoch(value, raw, 1)
    if kind == "acl":  # logstash: three 32-bit words in hex, dash-separated
        h = value if isinstance(value, str) else "%x" % value
        return "-".join(h[i:i + 8] for i in range(0, len(h), 8))
    if kind == "appid":
        return ls_application_id(value)
    if kind == "fwd":  # logstash splits forwardingStatus into status (2 bits) and reason (6)
        v = as_int(value, raw)
        return {"status": v >> 6, "reason": v & 0x3F}
    if kind == "ipint":  # an IPv4 address read as a 32-bit number
        v = as_ip(value, raw) if raw else value
        return int(ipaddress.IPv4Address(v)) if isinstance(v, str) else v
    if kind == "odid_hi":
        return value >> 8
    if kind == "odid_lo":
        return value & 0xFF
    # telegraf
    if kind == "thex":
        if isinstance(value, dict):  # an RFC 6313 list: compared with the bytes in equal()
            return value
        b = bytes.fromhex(value) if raw or isinstance(value, str) else None
        return "0x" + (b.hex() if b is not None else "%0*x" % (2 * ctx["width"], value))
    if kind == "l4proto":
        v = as_int(value, raw)
        return L4_NAMES.get(v, str(v))
    if kind == "tcpflags":
        return tcp_flags(as_int(value, raw))
    if kind == "endreason":
        return END_REASONS.get(as_int(value, raw), "unassigned")
    if kind == "fwdstatus":
        return FWD_STATUS[as_int(value, raw) >> 6]
    if kind == "fwdreason":
        return FWD_REASON.get(as_int(value, raw), "invalid")
    if kind == "icmp_hi":
        return as_int(value, raw) >> 8
    if kind == "icmp_lo":
        return as_int(value, raw) & 0xFF
    if kind == "engtype":  # v5: engine type from @odid; v9: engineType (38)
        v = value >> 8 if ctx["key"] == "@odid" else as_int(value, raw)
        return ENGINE_TYPES.get(v, str(v))
    if kind == "engid":
        v = value & 0xFF if ctx["key"] == "@odid" else as_int(value, raw)
        return "0x%02x" % v
    if kind == "uptime":  # telegraf keeps v5 switched times relative to the exporter's boot
        return iso_ns(value)[0] // 10**6 - ctx["boot_ms"]
    raise ValueError(kind)


SEMANTICS = {"noneOf": 0, "exactlyOneOf": 1, "oneOrMoreOf": 2, "allOf": 3, "ordered": 4,
             "undefined": 255}


def encodings(v):
    """The byte strings a scalar JSON value of ipfixd could have been decoded from."""
    if isinstance(v, bool):
        return [b"\x01" if v else b"\x02"]
    if isinstance(v, int):
        return [v.to_bytes(w, "big") for w in (1, 2, 4, 8) if 0 <= v < 1 << (8 * w)]
    if isinstance(v, str):
        t = iso_ns(v)
        if t is not None:
            return [(t[0] // 10**9).to_bytes(4, "big")] if t[1] == 0 else \
                   [(t[0] // 10**6).to_bytes(8, "big")]
        try:
            return [ipaddress.ip_address(v).packed]
        except ValueError:
            pass
        out = [v.encode()]
        if re.match(r"^([0-9a-f]{2})+$", v):
            out.append(bytes.fromhex(v))
        return out + [bytes([len(v.encode())]) + v.encode()]
    return []


def values_match(vals, b):
    if not vals:
        return not b
    return any(b.startswith(e) and values_match(vals[1:], b[len(e):]) for e in encodings(vals[0]))


def list_matches(v, b):
    """ipfixd's JSON of an RFC 6313 subTemplateList or subTemplateMultiList is a faithful
    reading of the list's bytes b (telegraf keeps lists as raw hex)."""
    if not b or SEMANTICS.get(v.get("@semantic"), v.get("@semantic")) != b[0]:
        return False
    recs = v.get("@records", [])
    if "@template" in v:  # subTemplateList
        vals = [x for r in recs for x in r.values()]
        return int.from_bytes(b[1:3], "big") == v["@template"] and values_match(vals, b[3:])
    off, blocks = 1, []
    for r in recs:  # subTemplateMultiList: consecutive records of one template share a block
        if not blocks or blocks[-1][0] != r["@template"]:
            blocks.append((r["@template"], []))
        blocks[-1][1].extend(x for k, x in r.items() if k != "@template")
    for tid, vals in blocks:
        if off + 4 > len(b) or int.from_bytes(b[off:off + 2], "big") != tid:
            return False
        n = int.from_bytes(b[off + 2:off + 4], "big")
        if not values_match(vals, b[off + 4:off + n]):
            return False
        off += n
    return off == len(b)


def equal(kind, oracle, mine):
    if kind == "thex" and isinstance(mine, dict):
        return list_matches(mine, bytes.fromhex(oracle[2:]))
    if kind == "ts":
        return isinstance(mine, str) and same_time(oracle, mine)
    if kind in ("mac", "hex"):
        return isinstance(mine, str) and oracle.lower() == mine.lower()
    return oracle == mine


# ---------------------------------------------------------------------------------------------
# The mapping tables

# logstash field -> (ipfixd key spec, kind). Names are logstash's netflow.yaml (v5/v9) names.
LS_NETFLOW = {
    "in_bytes": ("octetDeltaCount", "num"),
    "in_pkts": ("packetDeltaCount", "num"),
    "protocol": ("protocolIdentifier", "num"),
    "src_tos": ("ipClassOfService", "num"),
    "tcp_flags": ("tcpControlBits", "num"),
    "l4_src_port": ("sourceTransportPort", "num"),
    "l4_dst_port": ("destinationTransportPort", "num"),
    "ipv4_src_addr": ("sourceIPv4Address", "ip"),
    "ipv4_dst_addr": ("destinationIPv4Address", "ip"),
    "src_mask": ("sourceIPv4PrefixLength", "num"),
    "dst_mask": ("destinationIPv4PrefixLength", "num"),
    "input_snmp": ("ingressInterface", "num"),
    "output_snmp": ("egressInterface", "num"),
    "ipv4_next_hop": ("ipNextHopIPv4Address", "ip"),
    "bgp_ipv4_next_hop": ("bgpNextHopIPv4Address", "ip"),
    "src_as": ("bgpSourceAsNumber", "num"),
    "dst_as": ("bgpDestinationAsNumber", "num"),
    # sysUptime-relative in the packet; both write them as absolute times
    "first_switched": ("flowStartMilliseconds", "ts"),
    "last_switched": ("flowEndMilliseconds", "ts"),
    "out_bytes": ("postOctetDeltaCount", "num"),
    "out_pkts": ("postPacketDeltaCount", "num"),
    "total_bytes_exp": ("exportedOctetTotalCount", "num"),
    "total_pkts_exp": ("exportedMessageTotalCount", "num"),
    "total_flows_exp": ("exportedFlowRecordTotalCount", "num"),
    "flow_active_timeout": ("flowActiveTimeout", "num"),
    "flow_inactive_timeout": ("flowIdleTimeout", "num"),
    "sampling_interval": ("samplingInterval", "num"),
    "sampling_algorithm": ("samplingAlgorithm", "num"),
    "engine_id": ("engineId", "num"),
    "ipv4_src_prefix": ("sourceIPv4Prefix", "ip"),
    "flow_sampler_id": ("samplerId", "num"),
    "ipv4_ident": ("fragmentIdentification", "num"),
    "in_src_mac": ("sourceMacAddress", "mac"),
    "in_dst_mac": ("destinationMacAddress", "mac"),
    "src_vlan": ("vlanId", "num"),
    "ip_protocol_version": ("ipVersion", "num"),
    "direction": ("flowDirection", "num"),
    "if_desc": ("interfaceDescription", "str"),
    "in_permanent_bytes": ("octetTotalCount", "num"),
    "forwarding_status": ("forwardingStatus", "fwd"),
    "application_description": ("applicationDescription", "str"),
    "application_name": ("applicationName", "str"),
    "application_id": ("applicationId", "appid"),
    "ip_dscp": ("ipDiffServCodePoint", "num"),
    "udp_dst_port": ("udpDestinationPort", "num"),
    "tcp_src_port": ("tcpSourcePort", "num"),
    "flow_end_reason": ("flowEndReason", "num"),
    "conn_id": ("flowId", "num"),
    "icmp_type": ("icmpTypeIPv4", "num"),
    "icmp_code": ("icmpCodeIPv4", "num"),
    "fwd_flow_delta_bytes": ("initiatorOctets", "num"),
    "rev_flow_delta_bytes": ("responderOctets", "num"),
    "event_time_msec": ("observationTimeMilliseconds", "ms"),
    "flow_start_msec": ("flowStartMilliseconds", "ms"),
    # Cisco ASA: IANA elements on new firmware, Cisco types 40000-40005 / 33000-33002 on old
    "xlate_src_addr_ipv4": (["postNATSourceIPv4Address", (V9_PEN, 40001 - 32768)], "ip"),
    "xlate_dst_addr_ipv4": (["postNATDestinationIPv4Address", (V9_PEN, 40002 - 32768)], "ip"),
    "xlate_src_port": (["postNAPTSourceTransportPort", (V9_PEN, 40003 - 32768)], "num"),
    "xlate_dst_port": (["postNAPTDestinationTransportPort", (V9_PEN, 40004 - 32768)], "num"),
    "fw_event": (["firewallEvent", (V9_PEN, 40005 - 32768)], "num"),
    "username": ((V9_PEN, 40000 - 32768), "str"),
    "ingress_acl_id": ((V9_PEN, 33000 - 32768), "acl"),
    "egress_acl_id": ((V9_PEN, 33001 - 32768), "acl"),
    "fw_ext_event": ((V9_PEN, 33002 - 32768), "num"),
    # nProbe (types 57590, 57591) arrive as vendor types of the collector's v9 PEN
    "nprobe_proto": ((V9_PEN, 57590 - 32768), "num"),
    "nprobe_proto_name": ((V9_PEN, 57591 - 32768), "latin1"),
    # v9 options scope "System": logstash's number is ipfixd's exporterIPv4Address (4 bytes)
    "scope_system": (["exporterIPv4Address", "exportingProcessId"], "ipint"),
    "flowset_id": ("@template", "num"),
    "host": ("@exporter", "ip"),
}
# v5: engine type and ID are header fields; ipfixd puts them in the observation domain
LS_V5 = {"engine_type": ("@odid", "odid_hi"), "engine_id": ("@odid", "odid_lo")}

# logstash IPFIX names: IANA and CERT names are ipfixd's own (identity); vendor names by (PEN, id)
LS_IPFIX_VENDOR = {
    # Citrix Netscaler, PEN 5951
    "netscalerRoundTripTime": ((5951, 128), "num"),
    "netscalerTransactionId": ((5951, 129), "num"),
    "netscalerHttpReqUrl": ((5951, 130), "str"),
    "netscalerHttpReqCookie": ((5951, 131), "str"),
    "netscalerFlowFlags": ((5951, 132), "num"),
    "netscalerConnectionId": ((5951, 133), "num"),
    "netscalerHttpReqReferer": ((5951, 140), "str"),
    "netscalerHttpReqMethod": ((5951, 141), "str"),
    "netscalerHttpReqHost": ((5951, 142), "str"),
    "netscalerHttpReqUserAgent": ((5951, 143), "str"),
    "netscalerAppNameAppId": ((5951, 151), "num"),
    "netscalerHttpResForwFB": ((5951, 158), "num"),
    "netscalerHttpResForwLB": ((5951, 170), "num"),
    "netscalerAppUnitNameAppId": ((5951, 171), "num"),
    "netscalerHttpContentType": ((5951, 183), "str"),
    "netscalerHttpReqAuthorization": ((5951, 185), "str"),
    "netscalerHttpReqVia": ((5951, 186), "str"),
    "netscalerHttpReqXForwardedFor": ((5951, 190), "str"),
    "netscalerConnectionChainID": ((5951, 192), "hex"),
    "netscalerConnectionChainHopCount": ((5951, 193), "num"),
    "netscalerAaaUsername": ((5951, 205), "str"),
    "netscalerHttpDomainName": ((5951, 267), "str"),
    "netscalerUnknown330": ((5951, 330), "num"),
    # Barracuda, PEN 10704
    "Timestamp": ((10704, 1), "sec"),
    "LogOp": ((10704, 2), "num"),
    "TrafficType": ((10704, 3), "num"),
    "FW_Rule": ((10704, 4), "str"),
    "ServiceName": ((10704, 5), "str"),
    "Reason": ((10704, 6), "num"),
    "ReasonText": ((10704, 7), "str"),
    "BindIPv4Address": ((10704, 8), "ip"),
    "BindTransportPort": ((10704, 9), "num"),
    "ConnIPv4Address": ((10704, 10), "ip"),
    "ConnTransportPort": ((10704, 11), "num"),
    "AuditCounter": ((10704, 12), "num"),
    # VMware, PEN 6876 (expected.json has both logstash's current and older names)
    "vmwareEgressInterfaceAttr": ((6876, 888), "num"),
    "vmwareUnknown888": ((6876, 888), "num"),
    "vmwareVxlanExportRole": ((6876, 889), "num"),
    "vmwareUnknown889": ((6876, 889), "num"),
    "vmwareIngressInterfaceAttr": ((6876, 890), "num"),
    "vmwareUnknown890": ((6876, 890), "num"),
}
# IANA dateTimeMilliseconds elements that logstash writes as plain numbers
LS_IPFIX_MS = {"systemInitTimeMilliseconds"}

# telegraf field -> (ipfixd key spec, kind); names from telegraf's netflow_decoder.go
TG_FIELDS = {
    "in_bytes": ("octetDeltaCount", "num"),
    "in_packets": ("packetDeltaCount", "num"),
    "in_total_bytes": ("octetTotalCount", "num"),
    "in_total_packets": ("packetTotalCount", "num"),
    "protocol": ("protocolIdentifier", "l4proto"),
    "src_tos": ("ipClassOfService", "thex"),
    "tcp_flags": ("tcpControlBits", "tcpflags"),
    "src": (["sourceIPv4Address", "sourceIPv6Address"], "ip"),
    "dst": (["destinationIPv4Address", "destinationIPv6Address"], "ip"),
    "src_port": ("sourceTransportPort", "num"),
    "dst_port": ("destinationTransportPort", "num"),
    "src_mask": (["sourceIPv4PrefixLength", "sourceIPv6PrefixLength"], "num"),
    "dst_mask": (["destinationIPv4PrefixLength", "destinationIPv6PrefixLength"], "num"),
    "in_snmp": ("ingressInterface", "num"),
    "out_snmp": ("egressInterface", "num"),
    "next_hop": (["ipNextHopIPv4Address", "ipNextHopIPv6Address"], "ip"),
    "bgp_src_as": ("bgpSourceAsNumber", "num"),
    "bgp_dst_as": ("bgpDestinationAsNumber", "num"),
    "first_switched": ("flowStartMilliseconds", "uptime"),
    "last_switched": ("flowEndMilliseconds", "uptime"),
    "flow_start_ms": ("flowStartMilliseconds", "ms"),
    "flow_end_ms": ("flowEndMilliseconds", "ms"),
    "engine_type": (["engineType", "@odid"], "engtype"),
    "engine_id": (["engineId", "@odid"], "engid"),
    "icmp_type": ("icmpTypeCodeIPv4", "icmp_hi"),
    "icmp_code": ("icmpTypeCodeIPv4", "icmp_lo"),
    "fwd_status": ("forwardingStatus", "fwdstatus"),
    "fwd_reason": ("forwardingStatus", "fwdreason"),
    "vlan_src": ("vlanId", "num"),
    "flow_end_reason": ("flowEndReason", "endreason"),
    "dropped_packets_total": ("droppedPacketTotalCount", "num"),
    "ignored_packet_total": ("ignoredPacketTotalCount", "num"),
    "notsent_packet_total": ("notSentPacketTotalCount", "num"),
    "total_flows_exported": ("exportedFlowRecordTotalCount", "num"),
    "event_time": ("observationTimeSeconds", "sec"),
    "system_init_ms": ("systemInitTimeMilliseconds", "ms"),
    "exporter": (["exporterIPv4Address", "exporterIPv6Address"], "ip"),
    "exporting_pid": ("exportingProcessId", "num"),
    "observation_domain_id": ("observationDomainId", "num"),
    "app_id": ("applicationId", "thex"),
    "app_name": ("applicationName", "str"),
    "app_desc": ("applicationDescription", "str"),
    "interface": ("interfaceName", "str"),
    "interface_desc": ("interfaceDescription", "str"),
    "padding": ("paddingOctets", "thex"),
    # type_<PEN>_<id>: telegraf's name for elements it has no name for. It keeps the
    # enterprise bit in options records (32868 = 0x8000 | 100) and marks CERT reverse
    # elements (id | 0x4000) with rev_. PEN 29305 is RFC 5103's reverse of IANA's elements.
    "type_29305_5": (["reverseIpClassOfService", (29305, 5)], "thex"),
    "type_29305_58": (["reverseVlanId", (29305, 58)], "thex"),
    "type_29305_85": (["reverseOctetTotalCount", (29305, 85)], "thex"),
    "type_29305_86": (["reversePacketTotalCount", (29305, 86)], "thex"),
    "type_6871_21": ((6871, 21), "thex"),
    "type_6871_40": ((6871, 40), "thex"),
    "type_6871_rev_40": (["reverseFlowAttributes", (6871, 0x4000 | 40)], "thex"),
    "type_6871_32868": ((6871, 100), "thex"),
    "type_6871_32869": ((6871, 101), "thex"),
    "type_6871_32870": ((6871, 102), "thex"),
    "type_6871_32871": ((6871, 103), "thex"),
    "type_6871_32872": ((6871, 104), "thex"),
    "type_6871_32873": ((6871, 105), "thex"),
    "type_6871_33318": ((6871, 550), "thex"),
    "type_6871_33319": ((6871, 551), "thex"),
    # tombstoneAccessList, a subTemplateList: telegraf keeps its bytes, ipfixd decodes it
    "type_6871_33322": ((6871, 554), "thex"),
    "source": ("@exporter", "ip"),  # tag: the exporter address (the replay comes from 127.0.0.1)
}
# telegraf reads a v9 options scope field as the element of the scope's type number: scope
# 1 "System" becomes element 1 in_bytes. ipfixd maps the scope to exporterIPv4Address.
TG_V9_OPTIONS = {"in_bytes": ("exporterIPv4Address", "ipint")}
# widths of elements telegraf prints as hex, for typed values ipfixd writes as numbers
TG_HEX_WIDTH = {"src_tos": 1, "app_id": 4, "type_29305_5": 1, "type_29305_58": 2,
                "type_29305_85": 4, "type_29305_86": 4, "type_6871_21": 4, "type_6871_40": 2,
                "type_6871_rev_40": 2, "type_6871_32868": 4, "type_6871_32869": 4,
                "type_6871_32870": 4, "type_6871_32871": 4, "type_6871_32872": 4,
                "type_6871_32873": 4, "type_6871_33318": 4, "type_6871_33319": 2}

# Oracle fields ipfixd does not carry, with the reason. Compared: nothing; counted and reported.
GAPS = {
    ("logstash", "@timestamp"): "the message's export time: ipfixd's JSON has no message-header "
                                "metadata (only @received, the time ipfixd read it)",
    ("logstash", "@version"): "logstash's event schema version, not flow data",
    ("logstash", "template cache"): "the content of logstash's template cache file (one context "
                                    "checks it); ipfixd keeps UDP templates in its own format",
    ("logstash", "version"): "NetFlow/IPFIX version of the message header: not in ipfixd's JSON",
    ("logstash", "flow_seq_num"): "header sequence number: ipfixd accounts for it (seq_lost, "
                                  "docs/internals/netflow.md) but does not write it per record",
    ("logstash", "flow_records"): "v5 header count: not in ipfixd's JSON",
    ("logstash", "v5 sampling_algorithm"): "v5 header sampling mode: not in ipfixd's JSON",
    ("logstash", "v5 sampling_interval"): "v5 header sampling interval: not in ipfixd's JSON",
    ("telegraf", "version"): "tag: NetFlow/IPFIX version of the message header: not in "
                             "ipfixd's JSON",
    ("telegraf", "timestamp"): "when telegraf received the record, not flow data",
    ("telegraf", "flows"): "v5 header count: not in ipfixd's JSON",
    ("telegraf", "seq_number"): "v5 header sequence number: not in ipfixd's JSON",
    ("telegraf", "sampling_interval"): "v5 header sampling interval: not in ipfixd's JSON",
    ("telegraf", "sys_uptime"): "v5 header sysUptime: ipfixd folds it into absolute times (the "
                                "test uses it to map telegraf's relative first/last_switched)",
}

# ---------------------------------------------------------------------------------------------
# logstash: which decoded event each expected event is (from netflow_spec.rb "should serialize
# to json": decode[N] against json_events[i]); and the placeholders the spec fills in on
# Logstash 8 (#{micros}, #{nanos}).
LS_EVENT_INDEX = {
    "Netflow 5 valid 01": [0, 1],
    "Netflow 9 valid 01": [0],
    "Netflow 9 macaddress": [1],
    "Netflow 9 Cisco ACI": [0],
    "Netflow 9 Cisco ASA": [1],
    "Netflow 9 multiple netflow exporters": [1, 8],
    "Netflow 9 options template with scope fields": [0],
    "IPFIX": [0, 1, 2, 3, 4, 5, 6],
    "Netflow 9 Cisco ASA #2": [18],
    "Netflow5 mikrotik": [29],
    "Netflow 9 ipt_netflow reduced size encoding": [11],
    "Netflow 9 Fortigate FortiOS 54x appid": [0],
    "IPFIX Barracuda extended uniflow template 256": [1],
    "Netflow 9 nprobe DPI L7": [0],  # the spec skips this one (unprintable bytes); compared here
    "Netflow 9 Fortigate FortiOS 5.2.1": [0, 1],
    "IPFIX Mikrotik RouterOS 6.39.2": [0, 45],
    "IPFIX Netscaler with variable length fields": [2],
    # the spec serializes only decode[0]; the other four are the records of the data files in
    # order (decode[4] is checked field by field)
    "IPFIX VMware virtual distributed switch": [0, 1, 2, 3, 4],
    "Netflow 9 template with 0 length fields": [9],
    "Netflow 9 Cisco ASR 9000 series options template 256": [18],
    "Netflow 9 field layer2segmentid": [0],
    "Netflow 9 Cisco ASR 9000 series template 260": [20],
    "Netflow 9 Cisco NBAR options template 260": [14],
    "Netflow 9 Cisco NBAR flowset 262": [4],
    "Netflow 9 Cisco WLC": [18],
    "IPFIX Barracuda firewall": [7],
    "IPFIX YAF basic with applabel": [0, 1, 2],
}
LS_PLACEHOLDERS = {"#{micros}": {"Netflow 5 valid 01": "328", "Netflow5 mikrotik": "932"},
                   "#{nanos}": {"IPFIX Netscaler with variable length fields": "128468",
                                "IPFIX Netscaler with variable length fields#2": "127768"}}

# ---------------------------------------------------------------------------------------------
# True disagreements. The record index is the decoded event (logstash: the records of each
# payload's first message, in order) or ipfixd's record (telegraf: in arrival order); a "count"
# row would compare record counts.

LS_UPTIME_V9 = ("logstash's v9 uptime conversion adds a whole second (seconds = unix_secs - "
                "millis/1000 with micros = 1000000 - (millis % 1000) * 1000, no borrow); ipfixd "
                "computes unix_secs*1000 - sysUptime + value (docs/internals/netflow.md)")
LS_UPTIME_V5 = ("logstash's v5 uptime conversion forgets the borrow when the header's "
                "nanoseconds are smaller than the sub-second part of the age: one second late")

REPLAYED = ("logstash's host is the address the capture came from; the test replays it from "
            "127.0.0.1, which ipfixd reports as @exporter")
PADDING = ("telegraf writes paddingOctets (210); ipfixd never writes padding to outputs "
           "(docs/json-output.md, docs/internals/netflow.md)")

# (oracle, context, record index, field, ipfixd's JSON value, oracle value, reason)
DISAGREEMENTS = [
    ('logstash', 'Netflow 5 valid 01', 0, 'last_switched',
     '2015-05-02T18:38:07.476Z', '2015-05-02T18:38:08.476328Z', LS_UPTIME_V5),
    ('logstash', 'Netflow 5 valid 01', 1, 'last_switched',
     '2015-05-02T18:38:07.476Z', '2015-05-02T18:38:08.476328Z', LS_UPTIME_V5),
    ('logstash', 'Netflow 9 Cisco ACI', 0, 'first_switched',
     '2018-10-15T11:28:04.019Z', '2018-10-15T11:28:05.019Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Cisco ACI', 0, 'last_switched',
     '2018-10-15T11:28:23.066Z', '2018-10-15T11:28:24.066Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Cisco ASR 9000 series template 260', 20, 'first_switched',
     '2016-12-06T10:08:52.377Z', '2016-12-06T10:08:53.377Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Cisco ASR 9000 series template 260', 20, 'last_switched',
     '2016-12-06T10:08:53.964Z', '2016-12-06T10:08:54.964Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Cisco NBAR flowset 262', 4, 'first_switched',
     '2017-02-14T11:10:19.936Z', '2017-02-14T11:10:20.936Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Cisco NBAR flowset 262', 4, 'last_switched',
     '2017-02-14T11:10:20.008Z', '2017-02-14T11:10:21.008Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Fortigate FortiOS 5.2.1', 1, 'first_switched',
     '2017-07-25T04:44:28.522Z', '2017-07-25T04:44:29.522Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Fortigate FortiOS 5.2.1', 1, 'last_switched',
     '2017-07-25T04:44:37.522Z', '2017-07-25T04:44:38.522Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Fortigate FortiOS 54x appid', 0, 'first_switched',
     '2018-05-11T00:54:09.580Z', '2018-05-11T00:54:10.580Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 Fortigate FortiOS 54x appid', 0, 'last_switched',
     '2018-05-11T00:54:09.990Z', '2018-05-11T00:54:10.990Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 field layer2segmentid', 0, 'first_switched',
     '2018-01-16T09:44:47.000Z', '2018-01-16T09:44:48.000Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 field layer2segmentid', 0, 'last_switched',
     '2018-01-16T09:44:47.000Z', '2018-01-16T09:44:48.000Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 ipt_netflow reduced size encoding', 11, 'first_switched',
     '2018-02-18T05:46:53.800Z', '2018-02-18T05:46:54.800Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 ipt_netflow reduced size encoding', 11, 'last_switched',
     '2018-02-18T05:46:53.992Z', '2018-02-18T05:46:54.992Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 multiple netflow exporters', 1, 'first_switched',
     '2015-10-08T19:03:46.140Z', '2015-10-08T19:03:47.140Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 multiple netflow exporters', 1, 'last_switched',
     '2015-10-08T19:03:46.141Z', '2015-10-08T19:03:47.141Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 multiple netflow exporters', 8, 'first_switched',
     '2015-10-08T19:05:55.010Z', '2015-10-08T19:05:56.010Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 multiple netflow exporters', 8, 'last_switched',
     '2015-10-08T19:05:55.015Z', '2015-10-08T19:05:56.015Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 nprobe DPI L7', 0, 'first_switched',
     '1970-01-01T00:08:32.000Z', '1970-01-01T00:08:33.000Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 nprobe DPI L7', 0, 'host',
     '127.0.0.1', '172.16.32.201', REPLAYED),
    ('logstash', 'Netflow 9 nprobe DPI L7', 0, 'last_switched',
     '1970-01-01T00:08:35.000Z', '1970-01-01T00:08:36.000Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 template with 0 length fields', 9, 'first_switched',
     '2016-12-23T01:34:51.569Z', '2016-12-23T01:34:52.569Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 template with 0 length fields', 9, 'last_switched',
     '2016-12-23T01:34:51.569Z', '2016-12-23T01:34:52.569Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 valid 01', 0, 'first_switched',
     '2015-10-08T19:03:46.140Z', '2015-10-08T19:03:47.140Z', LS_UPTIME_V9),
    ('logstash', 'Netflow 9 valid 01', 0, 'last_switched',
     '2015-10-08T19:03:46.141Z', '2015-10-08T19:03:47.141Z', LS_UPTIME_V9),
    ('telegraf', 'ipfix_example', 30, 'padding',
     None, '0x000000000000', PADDING),
]


# ---------------------------------------------------------------------------------------------
# Running ipfixd

def datagrams(path):
    """The datagrams a corpus payload file stands for: IPFIX payloads captured with nc may hold
    several messages back to back (ipfix.dat holds 3), each one datagram on the wire."""
    data = open(path, "rb").read()
    if data[:2] == b"\x00\x0a":
        return pcapio.split_messages(data)
    return [data]


class Collector:
    """One ipfixd with one UDP collector and a JSON file output; sends datagrams one at a time
    and attributes each record to the datagram that carried it."""

    def __init__(self):
        self.port = free_port()
        self.dir = tempfile.mkdtemp(prefix="interop-")
        self.out = os.path.join(self.dir, "out.json")
        self.element_files = ELEMENT_FILES
        cfg = self.config(self.element_files)
        check = os.path.join(self.dir, "check.yaml")
        with open(check, "w") as f:
            f.write("state-directory: none\n" + cfg)
        r = subprocess.run([BIN, "-t", "-c", check], capture_output=True, text=True)
        if r.returncode != 0:
            print("config/elements refused by ipfixd -t, comparing without them:\n" + r.stderr)
            self.element_files = []
            cfg = self.config([])
        self.names = element_names(self.element_files + ([CERT_XML] if os.path.exists(CERT_XML)
                                                         else []))
        self.d = Daemon(cfg)
        self.sent = 0
        self.lines = 0

    def config(self, files):
        elements = ""
        if files:
            elements = "elements:\n  files:\n" + "".join('    - "%s"\n' % f for f in files)
        # hold-unknown off: neither oracle holds data that comes before its template
        return f"""{elements}workers: 2
collectors:
  - name: c
    transport: udp
    listen: "127.0.0.1:{self.port}"
    hold-unknown: false
    netflow9-enterprise: {V9_PEN}
outputs:
  - name: file
    type: json
    path: "{self.out}"
"""

    def counters(self):
        before = self.d.log().count("stats collector c:")
        self.d.signal(signal.SIGUSR1)
        deadline = time.time() + 20
        while time.time() < deadline:
            text = self.d.log()
            lines = re.findall(r"stats collector c: (.*)\n", text)
            if len(lines) > before:
                return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", lines[-1])}
            time.sleep(0.01)
        raise AssertionError("no stats line:\n" + self.d.log())

    def send_context(self, files):
        """Sends every datagram of files from a new source port: [(file, [[records]...])]."""
        s = fresh_udp_socket()
        out = []
        for path in files:
            per = []
            for dgram in datagrams(path):
                s.sendto(dgram, ("127.0.0.1", self.port))
                self.sent += 1
                # counted as a message before all its records are: wait for two readings
                # that agree
                deadline = time.time() + 20
                last = None
                while True:
                    c = self.counters()
                    if c["messages"] >= self.sent and last is not None and \
                            c["records"] == last["records"]:
                        break
                    last = c if c["messages"] >= self.sent else None
                    assert time.time() < deadline, "datagram %d not counted: %s" % (self.sent, c)
                    time.sleep(0.02)
                n = c["records"]
                assert wait_lines(self.out, n) >= n, "records counted but not written"
                recs = read_json_lines(self.out)[self.lines:n]
                self.lines = n
                per.append(recs)
            out.append((os.path.basename(path), per))
        s.close()
        return out

    def stop(self):
        return self.d.stop()


# ---------------------------------------------------------------------------------------------
# Comparison

class Result:
    def __init__(self):
        self.found = {}  # (oracle, context, index, field, ipfixd, oracle value) -> True
        self.compared = collections.Counter()  # oracle -> fields compared
        self.records = collections.Counter()  # oracle -> records compared
        self.contexts = collections.Counter()
        self.gaps = collections.Counter()

    def disagree(self, oracle, ctx, idx, field, mine, theirs):
        self.found[(oracle, ctx, idx, field, json.dumps(mine, sort_keys=True),
                    json.dumps(theirs, sort_keys=True))] = True


def compare_field(res, oracle, ctx, idx, field, spec, kind, theirs, rec, names, extra=None):
    res.compared[oracle] += 1
    found, mine, raw = lookup(rec, spec, names)
    if not found:
        res.disagree(oracle, ctx, idx, field, None, theirs)
        return False
    key = spec if not isinstance(spec, list) else next(
        s for s in spec if lookup(rec, s, names)[0])
    c = dict(extra or {}, key=key)
    try:
        conv = mine if kind == "ts" else convert(kind, mine, raw, c)
    except (ValueError, TypeError, KeyError):
        conv = mine
    if not equal(kind, theirs, conv):
        res.disagree(oracle, ctx, idx, field, mine, theirs)
        return False
    return True


def ls_expand(ctx_key, value):
    if isinstance(value, str):
        for ph, by_ctx in LS_PLACEHOLDERS.items():
            if ph in value:
                value = value.replace(ph, by_ctx.get(ctx_key, ""))
    return value


def ls_spec(field, version, theirs):
    """(key spec, kind) of a logstash field, or None for a GAPS field."""
    if field in ("version", "flow_seq_num", "flow_records"):
        return None
    if version == 5:
        if field in ("sampling_algorithm", "sampling_interval"):
            return None
        if field in LS_V5:
            return LS_V5[field]
    if version == 10:
        if field in LS_IPFIX_VENDOR:
            return LS_IPFIX_VENDOR[field]
        if field in LS_IPFIX_MS:
            return field, "ms"
        if field == "flowset_id":
            return "@template", "num"
        if isinstance(theirs, str) and iso_ns(re.sub(r"#\{\w+\}", "", theirs)):
            return field, "ts"
        return field, ("str" if isinstance(theirs, str) else "num")
    if field in LS_NETFLOW:
        return LS_NETFLOW[field]
    # v9 fields logstash names after IANA (ingressVRFID, wtpMacAddress, layer2SegmentId, ...)
    if isinstance(theirs, str) and re.match(r"^[0-9a-f]{2}(:[0-9a-f]{2}){5}$", theirs):
        return field, "mac"
    return field, ("str" if isinstance(theirs, str) else "num")


def gap(res, oracle, field):
    res.gaps[(oracle, field)] += 1


def compare_logstash(res, col):
    contexts = json.load(open(os.path.join(LS, "expected.json")))
    seen = collections.Counter()
    for c in contexts:
        name = c["context"]
        seen[name] += 1
        key = name if seen[name] == 1 else "%s#%d" % (name, seen[name])
        sent = col.send_context([os.path.join(LS, f) for f in c["send_in_order"]])
        # logstash decodes one message per payload: a payload holding several IPFIX messages
        # counts the records of its first message only
        events = [r for _, per in sent for r in (per[0] if per else [])]
        res.contexts["logstash"] += 1
        if c["expected_event_count"] is not None:
            res.compared["logstash"] += 1
            if len(events) != c["expected_event_count"]:
                res.disagree("logstash", key, "count", "count", len(events),
                             c["expected_event_count"])
        # expected.json keeps the spec's Ruby single-quoted literals with their quotes
        checks = [(chk["event"], chk["field"][len("[netflow]["):-1],
                   chk["equals"][1:-1] if re.match(r"^'.*'$", str(chk["equals"]), re.S)
                   else chk["equals"]) for chk in c["field_checks"]]
        for i, exp in enumerate(c["expected_events"]):
            idx = LS_EVENT_INDEX[name][i]
            for f, v in exp.get("netflow", {}).items():
                checks.append((idx, f, v))
            for f in exp:
                if f != "netflow":
                    checks.append((idx, f, exp[f]))
        done = set()
        for idx, field, theirs in checks:
            if (idx, field, json.dumps(theirs)) in done:
                continue
            done.add((idx, field, json.dumps(theirs)))
            if idx >= len(events):
                res.disagree("logstash", key, idx, field, None, theirs)
                continue
            rec = events[idx]
            if field in ("@timestamp", "@version"):
                gap(res, "logstash", field)
                continue
            if re.match(r"^\d+\|\d+$", field):
                gap(res, "logstash", "template cache")
                continue
            version = rec_version(sent)
            spec = ls_spec(field, version, theirs)
            if spec is None:
                gap(res, "logstash", ("v5 " if version == 5 and field.startswith("sampling")
                                      else "") + field)
                continue
            compare_field(res, "logstash", key, idx, field, spec[0], spec[1],
                          ls_expand(key, theirs), rec, col.names)
        res.records["logstash"] += len({idx for idx, _, _ in checks})


def rec_version(sent):
    for fname, per in sent:
        return 10 if "ipfix" in fname else 5 if "netflow5" in fname else 9


def parse_line_protocol(line):
    """(measurement, tags, fields, timestamp) of one InfluxDB line-protocol line."""
    m = re.match(r"^((?:[^ ,\\]|\\.)+)((?:,(?:[^ \\]|\\.)+)*) ((?:[^\"\\ ]|\\.|\"(?:[^\"\\]|\\.)*\")+)"
                 r"(?: (\d+))?$", line)
    assert m, "not line protocol: %r" % line
    tags = dict(t.split("=", 1) for t in re.findall(r",((?:[^,\\]|\\.)+)", m.group(2)))
    fields = {}
    for k, v in re.findall(r"((?:[^=,\\]|\\.)+)=(\"(?:[^\"\\]|\\.)*\"|[^,]+)", m.group(3)):
        if v.startswith('"'):
            fields[k] = re.sub(r"\\(.)", r"\1", v[1:-1])
        elif v.endswith("u") or v.endswith("i"):
            fields[k] = int(v[:-1])
        elif v in ("true", "false"):
            fields[k] = v == "true"
        else:
            fields[k] = float(v)
    return m.group(1), tags, fields, m.group(4)


def v5_boot_ms(dgram):
    """The exporter's boot time from a v5 header, as ipfixd computes it."""
    _, _, up, secs, nsecs = struct.unpack(">HHIII", dgram[:16])
    return secs * 1000 + nsecs // 10**6 - up


def tg_compare_record(res, case, idx, meas, tags, fields, rec, names, extra, record=True):
    ok = 0
    for f, theirs in sorted(fields.items()):
        if ("telegraf", f) in GAPS:
            if record:
                gap(res, "telegraf", f)
            continue
        spec = TG_FIELDS.get(f)
        if meas == "netflow_options" and tags.get("version") == "NetFlowV9" and f in TG_V9_OPTIONS:
            spec = TG_V9_OPTIONS[f]
        assert spec is not None, "telegraf field %s has no mapping" % f
        x = dict(extra, width=TG_HEX_WIDTH.get(f, 1))
        if record:
            ok += compare_field(res, "telegraf", case, idx, f, spec[0], spec[1], theirs, rec,
                                names, x)
        else:
            found, mine, raw = lookup(rec, spec[0], names)
            if found:
                key = spec[0] if not isinstance(spec[0], list) else next(
                    s for s in spec[0] if lookup(rec, s, names)[0])
                try:
                    ok += equal(spec[1], theirs, convert(spec[1], mine, raw, dict(x, key=key)))
                except (ValueError, TypeError, KeyError):
                    pass
    for t, theirs in tags.items():
        if t == "version":
            if record:
                gap(res, "telegraf", "version")
            continue
        spec = TG_FIELDS[t]
        if record:
            ok += compare_field(res, "telegraf", case, idx, t, spec[0], spec[1], theirs, rec,
                                names, extra)
    return ok


def compare_telegraf(res, col):
    for case_dir in sorted(glob.glob(os.path.join(TG, "*/"))):
        case = os.path.basename(case_dir.rstrip("/"))
        files = sorted(glob.glob(os.path.join(case_dir, "*.bin")))
        sent = col.send_context(files)
        recs = [r for _, per in sent for m in per for r in m]
        extra = {}
        first = open(files[0], "rb").read()
        if first[:2] == b"\x00\x05":
            extra["boot_ms"] = v5_boot_ms(first)
        lines = [l for l in open(os.path.join(case_dir, "expected.out")).read().split("\n")
                 if l.strip()]
        parsed = [parse_line_protocol(l) for l in lines]
        res.contexts["telegraf"] += 1
        res.compared["telegraf"] += 1
        if len(parsed) != len(recs):
            res.disagree("telegraf", case, "count", "count", len(recs), len(parsed))
        # expected.out is in telegraf's sort order, not arrival order: each line is matched to
        # the unused ipfixd record that agrees with it on the most fields
        free = list(range(len(recs)))
        for meas, tags, fields, ts in parsed:
            if ts is not None:
                gap(res, "telegraf", "timestamp")
            if not free:
                res.disagree("telegraf", case, None, "record", None, fields)
                continue
            best = max(free, key=lambda i: (tg_compare_record(res, case, i, meas, tags, fields,
                                                              recs[i], col.names, extra, False),
                                            -i))
            free.remove(best)
            tg_compare_record(res, case, best, meas, tags, fields, recs[best], col.names, extra)
            # telegraf's measurement says whether the record is an options record
            res.compared["telegraf"] += 1
            if (meas == "netflow_options") != recs[best].get("@options", False):
                res.disagree("telegraf", case, best, "measurement", recs[best].get("@options"),
                             meas)
            res.records["telegraf"] += 1


def test_interop_oracles():
    assert os.path.exists(os.path.join(LS, "expected.json")), "corpus not found under %s" % CORPUS
    col = Collector()
    res = Result()
    try:
        compare_logstash(res, col)
        compare_telegraf(res, col)
    finally:
        final = col.stop()
    assert final["c"]["socket_drops"] == 0, final
    found = set(res.found)
    listed = {(o, c, i, f, json.dumps(m, sort_keys=True), json.dumps(t, sort_keys=True))
              for o, c, i, f, m, t, _ in DISAGREEMENTS}
    assert len(listed) == len(DISAGREEMENTS), "a disagreement is listed twice"
    for o in ("logstash", "telegraf"):
        print("%s: %d contexts, %d records, %d fields compared, %d disagreements listed"
              % (o, res.contexts[o], res.records[o], res.compared[o],
                 sum(1 for k in found if k[0] == o)))
    for (o, f), n in sorted(res.gaps.items()):
        print("not carried by ipfixd: %s %s (%d times): %s" % (o, f, n, GAPS.get((o, f), "?")))
    unknown_gaps = [g for g in res.gaps if g not in GAPS]
    assert not unknown_gaps, "gaps without a reason: %s" % unknown_gaps
    new = sorted(found - listed, key=str)
    stale = sorted(listed - found, key=str)
    msg = []
    if new:
        msg.append("new disagreements (fix ipfixd, map the convention, or list them):\n" +
                   "\n".join("    %r, %r, %r, %r, %s, %s" % k for k in new))
    if stale:
        msg.append("listed disagreements that no longer occur (remove them):\n" +
                   "\n".join("    %r" % (k,) for k in stale))
    assert not msg, "\n".join(msg)


if __name__ == "__main__":
    run([test_interop_oracles])
