"""RFC 5655 (IPFIX files: messages back to back) replayed over TCP (RFC 7011 10.4): complete
files, files truncated at any point, files without templates, files with a zero-length set.

ipfixd-send refuses malformed files, so malformed streams are written over a socket here.
"""
import os
import random
import struct
import tempfile

import ipfix
from conf import (PROBE, Exporter, Ixd, finish, mark, msg, plus, shared, small_set, tcp, tmpl,
                  tmpl_set, main)
from ixdtest import send

IXD = shared(lambda: Ixd(workers=2))
SMALL = ipfix.SMALL_FIELDS
TID = 700


def make_file(n_msgs=6, per_msg=3, with_template=True):
    """A file: a template message then n_msgs data messages; returns (bytes, message offsets,
    marks per data message)."""
    parts, ks = [], []
    if with_template:
        parts.append(msg(tmpl_set(tmpl(TID, SMALL))))
    seq = 0
    for _ in range(n_msgs):
        batch = [mark() for _ in range(per_msg)]
        ks.append(batch)
        parts.append(msg(small_set(TID, batch), seq=seq))
        seq += per_msg
    offsets, off = [], 0
    for p in parts:
        offsets.append(off)
        off += len(p)
    return b"".join(parts), offsets, ks


def test_rfc5655_complete_file_replayed_with_ipfixd_send():
    """RFC 5655 / RFC 7011 10.4: a whole file sent by ipfixd-send -T -f decodes completely."""
    x = IXD()
    data, _, ks = make_file(n_msgs=5, per_msg=10)
    path = os.path.join(tempfile.mkdtemp(), "complete.ipfix")
    with open(path, "wb") as f:
        f.write(data)
    before = x.stats()
    send("-T", "-f", path, "127.0.0.1:%d" % x.port)
    flat = [k for b in ks for k in b]
    x.wait_records(lambda r: r.get("octetDeltaCount") in flat, n=len(flat))
    x.tcp_probe()
    x.wait_stats(lambda c: c["tcp_connections"] == 0, "t")
    x.expect(before, "t", **plus(PROBE, messages=6, templates=1, records=50))


def test_rfc5655_truncated_files():
    """RFC 5655 / RFC 7011 10.4: files cut at random points (and 1 and 3 bytes into a message,
    and exactly at a message boundary) sent over TCP then closed: every complete message
    decodes, the partial last message is counted once as truncated."""
    x = IXD()
    rng = random.Random(5655)
    before = x.stats()
    exp = {"messages": 0, "templates": 0, "records": 0, "truncated": 0}
    cuts = []
    for i in range(8):
        data, offsets, ks = make_file()
        if i < 5:
            cut = rng.randrange(1, len(data))
            while cut in offsets:
                cut = rng.randrange(1, len(data))
        elif i == 5:
            cut = offsets[3] + 1
        elif i == 6:
            cut = offsets[4] + 3
        else:
            cut = offsets[5]                      # a boundary: nothing partial
        cuts.append(cut)
        ends = offsets[1:] + [len(data)]
        complete = [j for j in range(len(offsets)) if ends[j] <= cut]
        s = tcp(x.port)
        s.sendall(data[:cut])
        finish(s)
        got = [k for j in complete if j > 0 for k in ks[j - 1]]
        lost = [k for j in range(1, len(offsets)) if j not in complete for k in ks[j - 1]]
        if got:
            x.wait_records(lambda r: r.get("octetDeltaCount") in got, n=len(got))
        for k in lost:
            x.assert_none(k)
        exp["messages"] += len(complete)
        exp["templates"] += 1 if 0 in complete else 0
        exp["records"] += len(got)
        exp["truncated"] += 0 if cut in offsets else 1
    x.tcp_probe()
    try:
        x.expect(before, "t", **plus(PROBE, exp))
    except AssertionError as e:
        raise AssertionError("cuts %r: %s" % (cuts, e))


def test_rfc5655_file_without_templates():
    """RFC 5655 / RFC 7011 8: a file of data messages whose template is not in it: nothing is
    decoded; the held sets are dropped and counted when the connection ends."""
    x = IXD()
    data, _, ks = make_file(n_msgs=4, with_template=False)
    before = x.stats()
    s = tcp(x.port)
    s.sendall(data)
    finish(s)
    x.tcp_probe()
    x.expect(before, "t", **plus(PROBE, messages=4, held_sets=4, held_dropped=4,
                                 no_template=4))
    for b in ks:
        for k in b:
            x.assert_none(k)


def test_rfc5655_zero_length_set_in_a_file():
    """RFC 5655 / RFC 7011 3.3.2: a message with a set of length 0 in the middle of a file:
    that message is dropped and counted (set_length); the messages framed around it, before
    and after, decode on the same connection."""
    x = IXD()
    k1, k2 = mark(), mark()
    before = x.stats()
    e = Exporter(x, "t")
    e.send(tmpl_set(tmpl(TID, SMALL)), small_set(TID, [k1]), records=1)
    e.raw(msg(struct.pack(">HH", TID, 0) + b"\0" * 21, seq=1))
    e.send(small_set(TID, [k2]), records=1)
    e.probe()
    e.finish()
    x.wait_records(lambda r: r.get("octetDeltaCount") in (k1, k2), n=2)
    x.expect(before, "t", **plus(PROBE, messages=3, templates=1, records=2,
                                 set_length=1))


if __name__ == "__main__":
    main([test_rfc5655_complete_file_replayed_with_ipfixd_send, test_rfc5655_truncated_files,
          test_rfc5655_file_without_templates, test_rfc5655_zero_length_set_in_a_file])
