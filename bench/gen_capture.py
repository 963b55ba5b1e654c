#!/usr/bin/env python3
"""A synthetic capture with many flows, the same for a given seed, for the meter's figures.

    bench/gen_capture.py OUT.pcap [--packets N] [--flows N] [--seed S] [--snaplen B]

Flows of TCP (a SYN first, FINs last), UDP (some packets fragmented in two), ICMP echo and
IPv6 TCP/UDP, some behind a VLAN tag, over Ethernet; each packet goes one way or the other
at random. Frames are captured at most --snaplen bytes (96: headers only) while their IP
headers say their full length, so a million packets stay under 100 MB. Written in time order,
10 microseconds apart on average, starting 2025-01-01.
"""
import argparse
import random
import struct

START = 1735689600


def mac(i):
    return struct.pack(">HI", 0x0200, i & 0xFFFFFFFF)


class Flow:
    __slots__ = ("kind", "a", "b", "sport", "dport", "left", "sent", "vlan", "ident")

    def __init__(self, rnd, n):
        r = rnd.random()
        self.kind = ("tcp" if r < 0.55 else "udp" if r < 0.85 else "icmp" if r < 0.90
                     else "tcp6" if r < 0.96 else "udp6")
        v6 = self.kind.endswith("6")
        if v6:
            self.a = b"\x20\x01\x0d\xb8" + rnd.getrandbits(96).to_bytes(12, "big")
            self.b = b"\x20\x01\x0d\xb8" + rnd.getrandbits(96).to_bytes(12, "big")
        else:
            self.a = bytes([10, rnd.randrange(256), rnd.randrange(256), rnd.randrange(1, 255)])
            self.b = bytes([172, 16 + rnd.randrange(16), rnd.randrange(256), rnd.randrange(1, 255)])
        self.sport = rnd.randrange(1024, 65536)
        self.dport = rnd.choice((53, 80, 443, 123, 8080, rnd.randrange(1, 65536)))
        # heavy tail: most flows are short, a few are long
        self.left = min(1 + int(rnd.paretovariate(1.2)), 5000)
        self.sent = 0
        self.vlan = rnd.randrange(1, 4095) if rnd.random() < 0.1 else 0
        self.ident = n & 0xFFFF


def l2(f, fwd, ethertype):
    src, dst = (mac(id(f)), mac(id(f) + 1)) if fwd else (mac(id(f) + 1), mac(id(f)))
    if f.vlan:
        return dst + src + struct.pack(">HHH", 0x8100, f.vlan, ethertype)
    return dst + src + struct.pack(">H", ethertype)


def ipv4(f, fwd, proto, payload_len, ident, frag=0):
    s, d = (f.a, f.b) if fwd else (f.b, f.a)
    return struct.pack(">BBHHHBBH4s4s", 0x45, 0, 20 + payload_len, ident, frag, 64, proto, 0, s, d)


def ipv6(f, fwd, proto, payload_len):
    s, d = (f.a, f.b) if fwd else (f.b, f.a)
    return struct.pack(">IHBB16s16s", 6 << 28, payload_len, proto, 64, s, d)


def packets_of(f, fwd, rnd):
    """The frames (bytes, wire length) one packet of f makes: two for a fragmented datagram."""
    sp, dp = (f.sport, f.dport) if fwd else (f.dport, f.sport)
    size = rnd.choice((0, 0, 40, 120, 500, 1200, 1400))
    if f.kind in ("tcp", "tcp6"):
        flags = 0x02 if f.sent == 0 else 0x11 if f.left <= 2 else 0x18 if size else 0x10
        l4 = struct.pack(">HHIIBBHHH", sp, dp, f.sent, 0, 0x50, flags, 65535, 0, 0)
        proto = 6
    elif f.kind == "icmp":
        l4 = struct.pack(">BBHHH", 8 if fwd else 0, 0, 0, f.ident, f.sent)
        proto = 1
    else:
        l4 = struct.pack(">HHHH", sp, dp, 8 + size, 0)
        proto = 17
    plen = len(l4) + size
    if f.kind.endswith("6"):
        return [(l2(f, fwd, 0x86DD) + ipv6(f, fwd, proto, plen) + l4, None)]
    if f.kind == "udp" and size >= 1200 and rnd.random() < 0.2:
        # two fragments: the first carries the UDP header and 1000 bytes
        ident = rnd.randrange(65536)
        first = l2(f, fwd, 0x0800) + ipv4(f, fwd, 17, 1008, ident, 0x2000) + l4
        second = l2(f, fwd, 0x0800) + ipv4(f, fwd, 17, plen - 1008, ident, 1008 // 8)
        return [(first, 14 + 20 + 1008 + (4 if f.vlan else 0)),
                (second, 14 + 20 + plen - 1008 + (4 if f.vlan else 0))]
    return [(l2(f, fwd, 0x0800) + ipv4(f, fwd, proto, plen, f.sent & 0xFFFF) + l4, None)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("out")
    ap.add_argument("--packets", type=int, default=1_200_000)
    ap.add_argument("--flows", type=int, default=20_000, help="flows open at a time")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--snaplen", type=int, default=96)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    live = [Flow(rnd, i) for i in range(a.flows)]
    made = a.flows
    t = 0.0
    with open(a.out, "wb") as out:
        out.write(struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, a.snaplen, 1))
        n = 0
        buf = []
        while n < a.packets:
            i = rnd.randrange(len(live))
            f = live[i]
            fwd = f.sent == 0 or rnd.random() < 0.6
            for frame, wire in packets_of(f, fwd, rnd):
                ip_len = wire if wire is not None else None
                if ip_len is None:
                    # the IP header's length plus the link header: the frame on the wire
                    off = 18 if f.vlan else 14
                    if frame[off] >> 4 == 4:
                        ip_len = off + struct.unpack(">H", frame[off + 2:off + 4])[0]
                    else:
                        ip_len = off + 40 + struct.unpack(">H", frame[off + 4:off + 6])[0]
                cap = frame[:a.snaplen]
                t += rnd.expovariate(100_000.0)
                sec = int(t)
                buf.append(struct.pack("<IIII", START + sec, int((t - sec) * 1e6), len(cap), ip_len))
                buf.append(cap)
                n += 1
            f.sent += 1
            f.left -= 1
            if f.left <= 0:
                live[i] = Flow(rnd, made)
                made += 1
            if len(buf) > 20000:
                out.write(b"".join(buf))
                buf = []
        out.write(b"".join(buf))


if __name__ == "__main__":
    main()
