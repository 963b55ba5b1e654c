#!/usr/bin/env python3
"""Writes the seeds of the packet fuzz target (fuzz_packet.c) from the captures of the shared
corpus: per capture, its first frames in the target's format ([link index], then per frame
[length: 2][time step: 1][bytes]).

    tests/fuzz/make_packet_seeds.py [CORPUS]   (CORPUS defaults to ../shared/corpus)
"""
import glob
import os
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
LINKS = {1: 0, 101: 1, 12: 1, 113: 2, 276: 3, 0: 4, 108: 5}


def frames(path, limit):
    data = open(path, "rb").read()
    if data[:4] not in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1"):
        return None, []
    link = struct.unpack("<I", data[20:24])[0]
    off, out = 24, []
    while off + 16 <= len(data) and len(out) < limit:
        caplen = struct.unpack("<I", data[off + 8:off + 12])[0]
        out.append(data[off + 16:off + 16 + caplen][:1500])
        off += 16 + caplen
    return link, out


def main():
    corpus = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "../../../shared/corpus")
    dest = os.path.join(HERE, "packet", "seeds")
    os.makedirs(dest, exist_ok=True)
    for path in sorted(glob.glob(os.path.join(corpus, "packet-captures/flowtest/pcap/*.pcap"))):
        link, fs = frames(path, 12)
        if link not in LINKS or not fs:
            continue
        body = bytes([LINKS[link]]) + b"".join(struct.pack(">HB", len(f), 1) + f for f in fs)
        name = os.path.splitext(os.path.basename(path))[0]
        with open(os.path.join(dest, name), "wb") as f:
            f.write(body)


if __name__ == "__main__":
    main()
