"""Collectors of transport file: an IPFIX file (RFC 5655) is read once through the decoder and
the pipelines, giving exactly the records the same bytes give over TCP; a file cut off in a
message keeps what came before and counts the rest."""
import os
import socket
import tempfile
import time

from ixdtest import CORPUS, Daemon, free_port, read_json_lines, run, wait_lines

EXAMPLE = os.path.join(CORPUS, "flow-exports/ipfixcol2/doc/data/ipfix/example_flows.ipfix")
META = ("@collector", "@exporter", "@exporter_port", "@received")


def strip(r):
    return {k: v for k, v in r.items() if k not in META}


def config(tmp, path, port):
    return f"""
workers: 2
collectors:
  - name: archive
    transport: file
    path: "{path}"
  - name: t
    transport: tcp
    listen: "127.0.0.1:{port}"
outputs:
  - name: a
    type: json
    path: "{tmp}/file.json"
  - name: b
    type: json
    path: "{tmp}/tcp.json"
pipelines:
  - {{name: from-file, from: archive, to: a}}
  - {{name: from-tcp, from: t, to: b}}
"""


def test_file_equals_tcp():
    tmp = tempfile.mkdtemp()
    port = free_port()
    data = open(EXAMPLE, "rb").read()
    d = Daemon(config(tmp, EXAMPLE, port))
    d.wait_log(r"read .*example_flows.ipfix: \d+ messages")
    s = socket.create_connection(("127.0.0.1", port))
    s.sendall(data)
    s.close()
    time.sleep(1)
    final = d.stop()
    n = len(read_json_lines(os.path.join(tmp, "file.json")))
    assert n > 0
    via_file = sorted(map(repr, map(strip, read_json_lines(os.path.join(tmp, "file.json")))))
    via_tcp = sorted(map(repr, map(strip, read_json_lines(os.path.join(tmp, "tcp.json")))))
    assert via_file == via_tcp, (len(via_file), len(via_tcp))
    assert final["archive"]["records"] == n and final["archive"]["errors"] == 0, final


def test_truncated_file_keeps_what_came_before():
    tmp = tempfile.mkdtemp()
    data = open(EXAMPLE, "rb").read()
    # the first messages whole, then half of the next
    off, ends = 0, []
    while off + 4 <= len(data):
        off += int.from_bytes(data[off + 2:off + 4], "big")
        ends.append(off)
    cut = os.path.join(tmp, "cut.ipfix")
    with open(cut, "wb") as f:
        f.write(data[:ends[2] + 10])
    d = Daemon(config(tmp, cut, free_port()))
    d.wait_log(r"read .*cut.ipfix: 3 messages")
    time.sleep(0.3)
    final = d.stop()["archive"]
    assert final["messages"] == 3 and final["truncated"] == 1, final


if __name__ == "__main__":
    run([test_file_equals_tcp, test_truncated_file_keeps_what_came_before])
