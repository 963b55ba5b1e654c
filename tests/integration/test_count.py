"""The count output: records per exporter address, in the SIGUSR1 summary, /metrics and the API,
and the rest under other once a worker's table is full."""
import json
import re
import time
import urllib.error
import urllib.request

import ipfix
from ixdtest import SLOW, Daemon, fresh_udp_socket, free_port, free_tcp_port, run
from test_api import check_schema


def send(port, source, n, first_seq=0):
    """A template and n records from source (a loopback address), as one exporter."""
    s = fresh_udp_socket(source)
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message(list(range(n)), seq=first_seq), ("127.0.0.1", port))
    s.close()


def config(port, api_port, exporters=4096):
    return f"""workers: 1
api:
  listen: "127.0.0.1:{api_port}"
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: c, type: count, exporters: {exporters}}}
"""


def get(api_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (api_port, path), timeout=10) as r:
        return r.read().decode()


def wait_counted(api_port, total):
    """The output resource once it has counted total records (snapshots come every second)."""
    deadline = time.time() + 20 * SLOW
    out = None
    while time.time() < deadline:
        try:
            out = json.loads(get(api_port, "/api/v1/outputs/c"))
        except urllib.error.HTTPError:  # 404 until the first snapshot
            time.sleep(0.2)
            continue
        if out["counters"]["records"] >= total:
            return out
        time.sleep(0.2)
    raise AssertionError("the API never showed %d records: %s" % (total, out))


def test_records_per_exporter():
    port, api_port = free_port(), free_tcp_port()
    d = Daemon(config(port, api_port), expect_collectors=1)
    try:
        send(port, "127.0.0.2", 7)
        send(port, "127.0.0.3", 5)
        send(port, "127.0.0.2", 3, first_seq=7)  # the same address from another port
        out = wait_counted(api_port, 15)
        assert out["type"] == "count"
        assert out["counters"] == {"records": 15, "other": 0}, out
        per = {e["name"]: e["records"] for e in out["exporters"]}
        assert per == {"127.0.0.2": 10, "127.0.0.3": 5}, out
        # the resource as the API's own OpenAPI document describes an output
        doc = json.loads(get(api_port, "/api/v1/openapi.json"))
        check_schema(doc, {"$ref": "#/components/schemas/Output"}, out, "count output")
        metrics = get(api_port, "/metrics")
        assert re.search(r'^ipfixd_output_exporter_records_total\{output="c",'
                         r'exporter="127\.0\.0\.2"\} 10$', metrics, re.M), metrics
        assert re.search(r'^ipfixd_output_records_total\{output="c"\} 15$', metrics, re.M)
        assert "# TYPE ipfixd_output_exporter_records_total counter" in metrics
        d.stats()
        log = d.log()
        assert re.search(r"stats output c: records=15 other=0$", log, re.M), log
        assert re.search(r"stats output c exporter 127\.0\.0\.3: records=5$", log, re.M), log
    finally:
        d.stop()


def test_full_table_counts_the_rest_as_other():
    port, api_port = free_port(), free_tcp_port()
    d = Daemon(config(port, api_port, exporters=2), expect_collectors=1)
    try:
        for i, n in enumerate((1, 2, 3, 4)):
            send(port, "127.0.0.%d" % (10 + i), n)
        out = wait_counted(api_port, 10)
        assert out["counters"] == {"records": 10, "other": 7}, out
        assert {e["name"]: e["records"] for e in out["exporters"]} == \
            {"127.0.0.10": 1, "127.0.0.11": 2}, out
    finally:
        final = d.stop()
    assert final["u"]["records"] == 10, final


def test_config_errors():
    import subprocess
    import tempfile
    from ixdtest import BIN
    path = tempfile.mktemp(suffix=".yaml")
    for body, msg in (("exporters: 0", "exporters must be from 1 to 1048576"),
                      ("colour: red", "unknown key 'colour' in output 'c' of type count")):
        with open(path, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                    "outputs:\n  - {name: c, type: count, %s}\n" % body)
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr, r.stderr


if __name__ == "__main__":
    run([test_records_per_exporter, test_full_table_counts_the_rest_as_other, test_config_errors])
