"""Builds IPFIX messages byte by byte (RFC 7011) for tests that need exact control."""
import struct
import time


def field(ie, length, pen=0):
    if pen:
        return struct.pack(">HHI", ie | 0x8000, length, pen)
    return struct.pack(">HH", ie, length)


def template_record(tid, fields):
    """fields: list of (ie, length) or (ie, length, pen)."""
    return struct.pack(">HH", tid, len(fields)) + b"".join(field(*f) for f in fields)


def options_template_record(tid, scope_count, fields):
    return struct.pack(">HHH", tid, len(fields), scope_count) + b"".join(field(*f) for f in fields)


def set_(set_id, body, pad_to4=False):
    if pad_to4 and len(body) % 4:
        body += b"\0" * (4 - len(body) % 4)
    return struct.pack(">HH", set_id, 4 + len(body)) + body


def message(sets, seq=0, odid=1, export_time=None):
    body = b"".join(sets)
    t = int(time.time()) if export_time is None else export_time
    return struct.pack(">HHIII", 10, 16 + len(body), t, seq, odid) + body


def varlen(data):
    if len(data) < 255:
        return bytes([len(data)]) + data
    return b"\xff" + struct.pack(">H", len(data)) + data


# A small template used by many tests: sourceIPv4Address, destinationIPv4Address,
# sourceTransportPort, destinationTransportPort, protocolIdentifier, octetDeltaCount.
SMALL_FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8)]


def small_record(k):
    return struct.pack(">4s4sHHBQ", bytes([10, 0, (k >> 8) & 255, k & 255]),
                       bytes([192, 0, 2, k & 255]), 1000 + k % 5000, 80, 6, k)


def small_template_message(tid=256, seq=0, odid=1):
    return message([set_(2, template_record(tid, SMALL_FIELDS))], seq=seq, odid=odid)


def small_data_message(ks, tid=256, seq=0, odid=1):
    return message([set_(tid, b"".join(small_record(k) for k in ks))], seq=seq, odid=odid)


def netflow9(flowsets, seq=0, source_id=0, uptime_ms=100000, unix_secs=None):
    """A NetFlow v9 packet (RFC 3954); flowsets are (flowset id, body) pairs, each padded to 4."""
    t = int(time.time()) if unix_secs is None else unix_secs
    body = b""
    for fid, b in flowsets:
        b += b"\0" * (-len(b) % 4)
        body += struct.pack(">HH", fid, 4 + len(b)) + b
    return struct.pack(">HHIIII", 9, len(flowsets), uptime_ms, t, seq, source_id) + body


def netflow9_template(tid, fields):
    return struct.pack(">HH", tid, len(fields)) + b"".join(struct.pack(">HH", *f) for f in fields)


def netflow9_options_template(tid, scopes, fields):
    """Scope and option fields as (type, length); their lengths in bytes, as v9 counts them."""
    return (struct.pack(">HHH", tid, 4 * len(scopes), 4 * len(fields))
            + b"".join(struct.pack(">HH", *f) for f in scopes + fields))


def netflow5(records, sampling=0, seq=0, engine=(0, 0), uptime_ms=100000, unix_secs=None):
    """A NetFlow v5 packet; records are dicts with src, dst (bytes), packets, octets, ports."""
    t = int(time.time()) if unix_secs is None else unix_secs
    head = struct.pack(">HHIIIIBBH", 5, len(records), uptime_ms, t, 0, seq, engine[0], engine[1],
                       sampling)
    body = b"".join(struct.pack(">4s4s4sHHIIIIHHBBBBHHBBH", r["src"], r["dst"], b"\0" * 4, 0, 0,
                                r["packets"], r["octets"], 1000, 2000, r.get("sport", 1),
                                r.get("dport", 2), 0, 0, 6, 0, 0, 0, 0, 0, 0)
                    for r in records)
    return head + body
