"""Raw forwarding: a UDP collector with `forward` repeats every datagram it accepts, byte for
byte and in order, to each destination (IPv4 and IPv6), before decoding; refused sources are
not repeated; malformed datagrams are (a repeater does not judge); a destination that is gone
costs nothing but a counter; the collector still decodes everything itself."""
import os
import random
import socket
import tempfile
import time

import ipfix
from ixdtest import Daemon, free_port, read_json_lines, run, wait_lines


def receiver(family, addr):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
    s.bind((addr, 0))
    s.settimeout(5)
    return s


def drain(s, n):
    got = []
    while len(got) < n:
        try:
            got.append(s.recv(70000))
        except socket.timeout:
            break
    return got


def test_forward_repeats_every_datagram():
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "out.json")
    port = free_port()
    r4 = receiver(socket.AF_INET, "127.0.0.1")
    r6 = receiver(socket.AF_INET6, "::1")
    gone = free_port()  # nobody listens there: ICMP refusals only
    d = Daemon(f"""
workers: 2
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
    allow: [127.0.0.1]
    forward: ["127.0.0.1:{r4.getsockname()[1]}", "[::1]:{r6.getsockname()[1]}",
              "127.0.0.1:{gone}"]
outputs:
  - name: f
    type: json
    path: "{out}"
""")
    rng = random.Random(5)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sent = [ipfix.small_template_message()]
    for k in range(300):
        if k % 50 == 7:
            sent.append(bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))))
        else:
            sent.append(ipfix.small_data_message([k], seq=k))
    sent.append(ipfix.netflow5([{"src": b"\x0a\0\0\x01", "dst": b"\x0a\0\0\x02", "packets": 1,
                                 "octets": 9, "sport": 4242}]))
    for m in sent:
        s.sendto(m, ("127.0.0.1", port))
        time.sleep(0.0005)
    other = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    other.bind(("127.0.0.2", 0))  # not in the allow-list: neither decoded nor repeated
    other.sendto(ipfix.small_data_message([9999]), ("127.0.0.1", port))
    got4, got6 = drain(r4, len(sent)), drain(r6, len(sent))
    assert got4 == sent, (len(got4), len(sent))
    assert got6 == sent, (len(got6), len(sent))
    r4.settimeout(0.5)
    assert drain(r4, 1) == [], "a refused source was repeated"
    n_data = sum(1 for k in range(300) if k % 50 != 7)
    wait_lines(out, n_data + 1)
    final = d.stop()["u"]
    assert final["forwarded"] + final["forward_dropped"] == 3 * len(sent), final
    assert final["forwarded"] >= 2 * len(sent), final
    assert final.get("not_allowed") == 1, final  # the one datagram from 127.0.0.2
    recs = read_json_lines(out)
    assert sorted(r["octetDeltaCount"] for r in recs if r.get("@template") == 256
                  and "sourceTransportPort" in r and r["sourceTransportPort"] != 4242) \
        == [k for k in range(300) if k % 50 != 7]


def test_forward_is_udp_only():
    d_port = free_port()
    from ixdtest import BIN
    import subprocess
    path = os.path.join(tempfile.mkdtemp(), "c.yaml")
    with open(path, "w") as f:
        f.write(f"""collectors:
  - name: t
    transport: tcp
    listen: "127.0.0.1:{d_port}"
    forward: ["127.0.0.1:9"]
""")
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode != 0 and "applies only to collectors of transport udp" in r.stderr, r.stderr


if __name__ == "__main__":
    run([test_forward_repeats_every_datagram, test_forward_is_udp_only])
