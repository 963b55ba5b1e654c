"""Minimal classic-pcap reading and writing for tests: UDP payloads in, Ethernet/IPv4/UDP out."""
import struct

LINK_ETHERNET, LINK_RAW, LINK_RAW_ALT, LINK_SLL = 1, 101, 12, 113


def _ip_udp(pkt):
    """(src, sport, dport, payload) of an IPv4/IPv6 UDP packet, or None."""
    if not pkt:
        return None
    v = pkt[0] >> 4
    if v == 4 and len(pkt) >= 20:
        ihl = (pkt[0] & 15) * 4
        frag = struct.unpack(">H", pkt[6:8])[0]
        if pkt[9] != 17 or frag & 0x3fff:
            return None
        src = ".".join(str(b) for b in pkt[12:16])
        udp = pkt[ihl:]
    elif v == 6 and len(pkt) >= 40:
        if pkt[6] != 17:
            return None
        src = pkt[8:24].hex()
        udp = pkt[40:]
    else:
        return None
    if len(udp) < 8:
        return None
    sport, dport, ulen = struct.unpack(">HHH", udp[:6])
    return src, sport, dport, udp[8:ulen] if ulen >= 8 else udp[8:]


def udp_payloads(path):
    """Every UDP payload of a pcap in order, as (src, sport, dport, payload)."""
    data = open(path, "rb").read()
    magic = data[:4]
    if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        e = "<"
    elif magic in (b"\xa1\xb2\xc3\xd4", b"\xa1\xb2\x3c\x4d"):
        e = ">"
    else:
        raise ValueError("%s is not a classic pcap file" % path)
    link = struct.unpack(e + "I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data):
        caplen = struct.unpack(e + "I", data[off + 8:off + 12])[0]
        pkt = data[off + 16:off + 16 + caplen]
        off += 16 + caplen
        if link == LINK_ETHERNET:
            et, p = struct.unpack(">H", pkt[12:14])[0], 14
            while et in (0x8100, 0x88a8) and len(pkt) >= p + 4:
                et, p = struct.unpack(">H", pkt[p + 2:p + 4])[0], p + 4
            if et not in (0x0800, 0x86dd):
                continue
            pkt = pkt[p:]
        elif link == LINK_SLL:
            pkt = pkt[16:]
        elif link not in (LINK_RAW, LINK_RAW_ALT):
            raise ValueError("link type %d not handled" % link)
        r = _ip_udp(pkt)
        if r:
            out.append(r)
    return out


def write_udp_pcap(path, packets, dport=4739):
    """packets: list of (sport, payload), written as 127.0.0.1 -> 127.0.0.1 UDP datagrams."""
    out = [struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 262144, LINK_ETHERNET)]
    for i, (sport, p) in enumerate(packets):
        udp = struct.pack(">HHHH", sport, dport, 8 + len(p), 0) + p
        ip = struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + len(udp), i & 0xffff, 0, 64, 17, 0,
                         b"\x7f\0\0\x01", b"\x7f\0\0\x01") + udp
        eth = b"\0" * 12 + b"\x08\x00" + ip
        out.append(struct.pack("<IIII", 1700000000 + i, 0, len(eth), len(eth)) + eth)
    with open(path, "wb") as f:
        f.write(b"".join(out))


def split_messages(data):
    """IPFIX messages laid back to back (an RFC 5655 file or a .dat payload file)."""
    out, off = [], 0
    while off + 4 <= len(data):
        n = struct.unpack(">H", data[off + 2:off + 4])[0]
        if n < 16 or off + n > len(data):
            raise ValueError("bad message length %d at offset %d" % (n, off))
        out.append(data[off:off + n])
        off += n
    return out
