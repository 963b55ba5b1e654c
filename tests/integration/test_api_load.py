"""The API under wrk load while ipfixd collects: every request gets a valid answer (no socket
errors, no status other than 200/304), and every record sent is written or counted."""
import os
import re
import shutil
import socket
import subprocess
import tempfile

from ixdtest import SLOW, Daemon, free_port, read_json_lines, run, send, wait_lines, free_tcp_port




def test_wrk_while_collecting():
    if shutil.which("wrk") is None:
        raise AssertionError("wrk is not installed (scripts/install-deps.sh --test installs it)")
    tmp = tempfile.mkdtemp()
    out = os.path.join(tmp, "out.json")
    port, api = free_port(), free_tcp_port()
    d = Daemon(f"""
workers: 2
api:
  listen: "127.0.0.1:{api}"
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: file, type: json, path: "{out}"}}
""", expect_collectors=1)
    n = int(400000 / SLOW)
    gen = subprocess.Popen([os.environ["IXD_SEND"], "-q", "-n", str(n), "-r",
                            str(int(100000 / SLOW)), "127.0.0.1:%d" % port])
    results = []
    for path in ("/api/v1/exporters", "/metrics", "/api/v1/stats"):
        r = subprocess.run(["wrk", "-t", "2", "-c", "8", "-d", "2s", "--latency",
                            "http://127.0.0.1:%d%s" % (api, path)],
                           capture_output=True, text=True, timeout=60)
        results.append((path, r.stdout))
    assert gen.wait(timeout=120) == 0
    wait_lines(out, n, timeout=60)
    final = d.stop()["u"]
    for path, text in results:
        reqs = re.search(r"(\d+) requests in", text)
        assert reqs and int(reqs.group(1)) > 100, (path, text)
        assert "Socket errors" not in text, (path, text)
        assert "Non-2xx or 3xx" not in text, (path, text)
    assert len(read_json_lines(out)) == n and final["records"] == n, final


if __name__ == "__main__":
    run([test_wrk_while_collecting])
