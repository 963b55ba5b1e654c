"""The rrd output against the real daemon: rates in the files as rrdtool reads them (renormalised
when the exporter samples), health series, the time-series API and its graphs, alerts with
their webhook, rrdcached, a full disk, max-files; the top-talkers stage over the API."""
import http.client
import http.server
import json
import os
import re
import shutil
import socket
import struct
import subprocess
import tempfile
import threading
import time
import urllib.parse

import ipfix
from ixdtest import SLOW, BIN, Daemon, fresh_udp_socket, free_port, free_tcp_port, run
from test_api import Api, check_schema, wait_for

STEP = 10
# the sanitizer build: librrd's graph code keeps what LeakSanitizer would report (the file says);
# whole stacks (slow unwinding) so that the suppressions see the library an allocation came from
if "ASAN_OPTIONS" in os.environ:
    os.environ["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
os.environ["LSAN_OPTIONS"] = ":".join(
    filter(None, [os.environ.get("LSAN_OPTIONS"),
                  "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                 "lsan-rrd.supp")]))
# sourceIPv4Address, destinationIPv4Address, sourceTransportPort, destinationTransportPort,
# protocolIdentifier, octetDeltaCount, packetDeltaCount
FIELDS = [(8, 4), (12, 4), (7, 2), (11, 2), (4, 1), (1, 8), (2, 4)]
# the same with samplingInterval (NetFlow v9's SAMPLING_INTERVAL, 34) in every record
SAMPLED_FIELDS = FIELDS + [(34, 4)]


def record(i, octets, packets, rate=None, dport=None):
    r = struct.pack(">4s4sHHBQI", bytes([10, 0, 0, 1 + i % 200]), bytes([192, 0, 2, i % 4]),
                    40000 + i % 100, dport if dport is not None else 53, 17, octets, packets)
    return r + (struct.pack(">I", rate) if rate is not None else b"")


class Exporter:
    """One UDP exporter from a loopback address of its own: a template, then messages of
    records with fixed counts."""

    def __init__(self, port, source, sampled=None):
        self.port, self.sampled, self.seq = port, sampled, 0
        self.sock = fresh_udp_socket(source)
        fields = SAMPLED_FIELDS if sampled else FIELDS
        self.sock.sendto(ipfix.message([ipfix.set_(2, ipfix.template_record(256, fields))]),
                         ("127.0.0.1", port))

    def send(self, n, octets=1500, packets=3, dport=None):
        for first in range(0, n, 20):
            k = min(20, n - first)
            body = b"".join(record(first + i, octets, packets, self.sampled, dport)
                            for i in range(k))
            self.sock.sendto(ipfix.message([ipfix.set_(256, body)], seq=self.seq),
                             ("127.0.0.1", self.port))
            self.seq += k

    def close(self):
        self.sock.close()


def step_start(t=None):
    t = time.time() if t is None else t
    return int(t) - int(t) % STEP


def wait_next_step(margin=1.0):
    """Sleeps into the next step, margin seconds after its start; returns its start."""
    nxt = step_start() + STEP
    time.sleep(max(0, nxt + margin - time.time()))
    return nxt


def send_steps(exporters, steps, per_step):
    """per_step records from each exporter in each of `steps` whole steps, sent well inside
    the step (receive time bins them); returns the first step's start."""
    first = wait_next_step()
    for s in range(steps):
        start = first + s * STEP
        time.sleep(max(0, start + 1.0 - time.time()))
        for e in exporters:
            e.send(per_step)
        assert time.time() < start + STEP - 1, "the machine is too slow to send within a step"
    return first


def rrdfetch(path, start, end, daemon=None):
    """{time: [values]} of the AVERAGE rows in (start, end] as rrdtool fetch prints them."""
    cmd = ["rrdtool", "fetch", path, "AVERAGE", "-s", str(start), "-e", str(end)]
    if daemon:
        cmd[2:2] = ["--daemon", daemon]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rows = {}
    for line in out.splitlines():
        m = re.match(r"(\d+): (.*)", line)
        if m:
            rows[int(m.group(1))] = [None if "nan" in v else float(v) for v in m.group(2).split()]
    return rows


def config(port, api_port, directory, extra="", pipelines=""):
    return f"""workers: 2
api:
  listen: "127.0.0.1:{api_port}"
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - name: r
    type: rrd
    directory: {directory}
{extra}
{pipelines}
"""


def output_counters(api):
    return api.json("/api/v1/outputs/r")["counters"]


def wait_rows(api, rows, timeout=40):
    wait_for("%d rows written" % rows, lambda: output_counters(api)["rows"] >= rows,
             timeout=timeout)


def test_rates_and_sampling():
    """rrdtool fetch reads the rates the exporters sent, the sampled one renormalised; the
    collector's health series counts its records; the API serves the same points."""
    port, api_port = free_port(), free_tcp_port()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    # a pipeline with a stage has health series of its own
    d = Daemon(config(port, api_port, tmp + "/rrd", pipelines="pipelines:\n  - {name: p, from: [u], "
                      "to: [r], stages: [{filter: \"octetDeltaCount >= 0\"}]}"),
               expect_collectors=1)
    api = Api(api_port)
    try:
        plain = Exporter(port, "127.0.0.2")
        sampled = Exporter(port, "127.0.0.3", sampled=100)
        first = send_steps([plain, sampled], 3, 400)
        last = first + 3 * STEP
        wait_for("the steps written", lambda: output_counters(api)["rounds"] > 0 and
                 time.time() > last + STEP + 2, timeout=40)
        wait_for("rows", lambda: rrdfetch(tmp + "/rrd/exporter~u~127.0.0.2.rrd", first,
                                          last).get(last, [None])[0] is not None, timeout=20)
        for src, factor in (("127.0.0.2", 1), ("127.0.0.3", 100)):
            rows = rrdfetch(tmp + "/rrd/exporter~u~%s.rrd" % src, first, last)
            for t in range(first + STEP, last + 1, STEP):
                flows, packets, octets = rows[t]
                assert flows == 40, (src, t, rows[t])  # 400 records in 10 s
                assert packets == 40 * 3 * factor, (src, t, rows[t])
                assert octets == 40 * 1500 * factor, (src, t, rows[t])
            # a step before the first and after the last: none of its records
            assert rows.get(first + 4 * STEP, [0])[0] in (0, None), rows
        dom = rrdfetch(tmp + "/rrd/domain~u~127.0.0.2~1.rrd", first, last)
        assert dom[last][0] == 40, dom
        health = rrdfetch(tmp + "/rrd/collector~u.rrd", first - STEP, last + STEP)
        assert any(v[0] is not None and v[0] > 0 for v in health.values()), health
        # the API: the list, one series' points, its graph
        listed = api.json("/api/v1/timeseries?kind=exporter")
        ids = [s["id"] for s in listed["_embedded"]["timeseries"]]
        assert ids == ["exporter~u~127.0.0.2", "exporter~u~127.0.0.3"], ids
        doc = api.json("/api/v1/openapi.json")
        check_schema(doc, {"$ref": "#/components/schemas/TimeseriesCollection"}, listed, "list")
        pts = api.json("/api/v1/timeseries/exporter~u~127.0.0.3?start=%d&end=%d" % (first, last))
        check_schema(doc, {"$ref": "#/components/schemas/Timeseries"}, pts, "points")
        assert pts["columns"] == ["flows", "packets", "octets"] and pts["step"] == STEP, pts
        by_time = {p[0]: p[1:] for p in pts["points"]}
        assert by_time[last] == [40, 12000, 6000000], pts
        # relative times and RFC 3339 name the same span
        iso = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(first))
        pts2 = api.json("/api/v1/timeseries/exporter~u~127.0.0.3?start=%s&end=%d" % (iso, last))
        assert pts2["points"] == pts["points"]
        rel = api.json("/api/v1/timeseries/exporter~u~127.0.0.3?start=-1h")
        assert rel["points"] and len(rel["points"]) <= 2000
        year = api.json("/api/v1/timeseries/exporter~u~127.0.0.3?start=-1y")
        assert len(year["points"]) <= 2000 and year["step"] >= 3600, year["step"]
        code, headers, png = api.get("/api/v1/timeseries/exporter~u~127.0.0.3/graph.png"
                                     "?start=-10min&width=400&height=100")
        assert code == 200 and headers["Content-Type"] == "image/png", (code, png[:200])
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        code, _, _ = api.get("/api/v1/timeseries/exporter~u~127.0.0.3/graph.png"
                             "?start=-10min&width=400&height=100",
                             headers={"If-None-Match": headers["ETag"]})
        assert code in (200, 304), code  # 304 unless a row came in between
        for bad, status in (("/api/v1/timeseries/nope", 404),
                            ("/api/v1/timeseries/exporter~u~127.0.0.3?start=yesterday", 400),
                            ("/api/v1/timeseries/exporter~u~127.0.0.3?start=-1h&end=-2h", 400),
                            ("/api/v1/timeseries/exporter~u~127.0.0.3?cf=LAST", 400),
                            ("/api/v1/timeseries?kind=volume", 400)):
            code, _, body = api.get(bad)
            assert code == status, (bad, code, body)
        # links: the exporter and collector resources point at their series
        exp = [e for e in api.json("/api/v1/exporters")["_embedded"]["exporters"]
               if e["address"] == "127.0.0.3"][0]
        href = exp["_links"]["timeseries"]["href"]
        mine = api.json(href)["_embedded"]["timeseries"]
        assert {s["id"] for s in mine} == {"exporter~u~127.0.0.3", "domain~u~127.0.0.3~1"}, mine
        assert "timeseries" in api.json("/api/v1/collectors/u")["_links"]
        assert "timeseries" in api.json("/api/v1/")["_links"]
        href = api.json("/api/v1/pipelines/p")["_links"]["timeseries"]["href"]
        assert [s["id"] for s in api.json(href)["_embedded"]["timeseries"]] == ["pipeline~p"]
        plain.close()
        sampled.close()
    finally:
        d.stop()
        shutil.rmtree(tmp)


class Receiver(http.server.BaseHTTPRequestHandler):
    """The webhook's receiver: keeps every POSTed body; the first answer is a 500, to be
    retried."""
    bodies = []
    fail_first = [True]

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if Receiver.fail_first[0]:
            Receiver.fail_first[0] = False
            self.send_response(500)
            self.end_headers()
            return
        Receiver.bodies.append(json.loads(body))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_silent_alert_and_webhook():
    """An exporter that stops is silent after silent-after: the alert shows in the API and in
    /metrics, is POSTed in Alertmanager's format (retried after a 500), and is resolved once
    the exporter has sent again for clear-after."""
    port, api_port = free_port(), free_tcp_port()
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    extra = f"""    silent-after: 20s
    clear-after: 10s
    webhook: "http://127.0.0.1:{srv.server_address[1]}/alerts"
    webhook-timeout: 2s"""
    d = Daemon(config(port, api_port, tmp + "/rrd", extra), expect_collectors=1)
    api = Api(api_port)
    try:
        e = Exporter(port, "127.0.0.4")
        send_steps([e], 1, 50)
        alert = wait_for("the silent alert", lambda: [
            a for a in api.json("/api/v1/alerts?state=firing")["_embedded"]["alerts"]
            if a["kind"] == "silent"], timeout=60)[0]
        doc = api.json("/api/v1/openapi.json")
        check_schema(doc, {"$ref": "#/components/schemas/Alert"}, alert, "alert")
        assert alert["exporter"] == "127.0.0.4" and alert["collector"] == "u", alert
        assert alert["series"] == "exporter~u~127.0.0.4" and "no records for" in alert["summary"]
        assert api.json(alert["_links"]["exporter"]["href"])["address"] == "127.0.0.4"
        assert api.json(alert["_links"]["series"]["href"])["series"] == alert["series"]
        assert api.json(alert["_links"]["self"]["href"])["id"] == alert["id"]
        metrics = api.get("/metrics")[2].decode()
        assert re.search(r'^ipfixd_alert_active\{output="r",kind="silent",collector="u",'
                         r'exporter="127\.0\.0\.4"\} 1$', metrics, re.M), metrics
        fired = wait_for("the webhook's firing POST", lambda: [
            b for b in Receiver.bodies if b["status"] == "firing"], timeout=20)[0]
        assert fired["version"] == "4" and fired["receiver"] == "ipfixd", fired
        a = fired["alerts"][0]
        assert a["labels"]["alertname"] == "IpfixdExporterSilent", a
        assert a["labels"]["exporter"] == "127.0.0.4" and a["endsAt"].startswith("0001-"), a
        assert re.match(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", a["startsAt"]), a
        assert re.search(r"alert silent for exporter 127\.0\.0\.4 \(collector u\)", d.log())
        # the exporter is back: resolved after clear-after
        send_steps([e], 2, 50)
        wait_for("resolved", lambda: not api.json("/api/v1/alerts?state=firing")
                 ["_embedded"]["alerts"], timeout=40)
        res = wait_for("the webhook's resolved POST", lambda: [
            b for b in Receiver.bodies if b["status"] == "resolved"], timeout=20)[0]
        assert not res["alerts"][0]["endsAt"].startswith("0001-"), res
        c = wait_for("both POSTs counted", lambda: (lambda c: c if c["webhook_sent"] >= 2 else None)(
            output_counters(api)), timeout=10)
        assert c["webhook_failed"] == 0 and c["webhook_dropped"] == 0, c
        metrics = api.get("/metrics")[2].decode()
        assert not re.search(r"^ipfixd_alert_active\{", metrics, re.M), metrics
        e.close()
    finally:
        d.stop()
        srv.shutdown()
        shutil.rmtree(tmp)


def test_rrdcached():
    """Through rrdcached (started here, from a temporary directory): the rates are what
    rrdtool reads through the same daemon; the API reads them too."""
    if shutil.which("rrdcached") is None:
        print("SKIP: rrdcached is not installed (scripts/install-deps.sh --test)")
        return
    port, api_port = free_port(), free_tcp_port()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    sock = tmp + "/rrdcached.sock"
    cached = subprocess.Popen(["rrdcached", "-g", "-l", "unix:" + sock, "-p", tmp + "/pid",
                               "-w", "3600", "-z", "1", "-j", tmp, "-F"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for("rrdcached's socket", lambda: os.path.exists(sock), timeout=10)
    d = Daemon(config(port, api_port, tmp + "/rrd", "    rrdcached: unix:" + sock),
               expect_collectors=1)
    api = Api(api_port)
    try:
        e = Exporter(port, "127.0.0.5")
        first = send_steps([e], 2, 100)
        last = first + 2 * STEP
        wait_for("written", lambda: time.time() > last + STEP + 2 and
                 output_counters(api)["rows"] > 0, timeout=40)
        path = tmp + "/rrd/exporter~u~127.0.0.5.rrd"
        # written through rrdcached, which holds the rows (-w 3600): the file alone lags
        rows = rrdfetch(path, first, last, daemon="unix:" + sock)
        assert rows[last][0] == 10 and rows[last][2] == 100 * 1500 / 10, rows
        pts = api.json("/api/v1/timeseries/exporter~u~127.0.0.5?start=%d&end=%d" % (first, last))
        assert {p[0]: p[1] for p in pts["points"]}[last] == 10, pts
        e.close()
    finally:
        d.stop()
        cached.terminate()
        cached.wait()
        shutil.rmtree(tmp)


def test_full_disk():
    """A full disk (a small tmpfs): files cannot be created, which is counted and retried;
    nothing crashes; once there is space the waiting counts are written."""
    if os.geteuid() != 0:
        print("SKIP: mounting a tmpfs needs root")
        return
    port, api_port = free_port(), free_tcp_port()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    mnt = tmp + "/mnt"
    os.mkdir(mnt)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], check=True)
    try:
        with open(mnt + "/filler", "wb") as f:  # all but about half a MiB
            try:
                while True:
                    f.write(b"\0" * 65536)
                    f.flush()
            except OSError:
                pass
        os.truncate(mnt + "/filler", os.path.getsize(mnt + "/filler") - 512 * 1024)
        d = Daemon(config(port, api_port, mnt + "/rrd", "    domains: false\n    health: false"),
                   expect_collectors=1)
        api = Api(api_port)
        try:
            e = Exporter(port, "127.0.0.6")
            first = send_steps([e], 2, 100)
            wait_for("a failed creation", lambda: output_counters(api)["create_errors"] > 0,
                     timeout=40)
            assert not os.path.exists(mnt + "/rrd/exporter~u~127.0.0.6.rrd")
            assert re.search(r"cannot create .*exporter~u~127\.0\.0\.6\.rrd", d.log()), d.log()
            os.unlink(mnt + "/filler")  # space again
            wait_for("the file", lambda: os.path.exists(mnt + "/rrd/exporter~u~127.0.0.6.rrd"),
                     timeout=60)
            last = first + 2 * STEP
            wait_rows(api, 3, timeout=30)
            rows = rrdfetch(mnt + "/rrd/exporter~u~127.0.0.6.rrd", first, last)
            assert rows[first + STEP][0] == 10 and rows[last][0] == 10, rows
            c = output_counters(api)
            assert c["dropped"] == 0 and c["files_created"] == 1, c
            assert d.alive()
            e.close()
        finally:
            d.stop()
    finally:
        subprocess.run(["umount", mnt], check=False)
        shutil.rmtree(tmp)


def test_max_files_and_restart():
    """max-files refuses the series past it, counted once each; the files survive a restart
    and are served (written: false) until their exporter sends again."""
    port, api_port = free_port(), free_tcp_port()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    cfg = config(port, api_port, tmp + "/rrd", "    max-files: 2\n    health: false")
    d = Daemon(cfg, expect_collectors=1)
    api = Api(api_port)
    try:
        a, b = Exporter(port, "127.0.0.7"), Exporter(port, "127.0.0.8")
        send_steps([a], 1, 10)
        send_steps([b], 1, 10)
        wait_for("refused", lambda: output_counters(api)["files_refused"] == 2, timeout=40)
        assert sorted(os.listdir(tmp + "/rrd")) == ["domain~u~127.0.0.7~1.rrd",
                                                   "exporter~u~127.0.0.7.rrd"]
        a.close()
        b.close()
    finally:
        d.stop()
    d = Daemon(cfg, expect_collectors=1)
    try:
        listed = wait_for("the list", lambda: Api(api_port).json("/api/v1/timeseries")
                          ["_embedded"]["timeseries"], timeout=20)
        assert {s["id"]: s["written"] for s in listed} == {
            "exporter~u~127.0.0.7": False, "domain~u~127.0.0.7~1": False}, listed
    finally:
        d.stop()
        shutil.rmtree(tmp)


def test_config_errors():
    path = tempfile.mktemp(suffix=".yaml")
    for body, msg in (("failure-threshold: 20, failure-window: 10",
                       "failure-threshold (20) must not be above failure-window (10)"),
                      ("alpha: 1", "alpha must be below 1"),
                      ("alpha: 0", "alpha must be a number above 0"),
                      ("sequence-loss: 150%", "sequence-loss must be a number from 0 to 1"),
                      ("season: 1d1s", "season must be a duration"),
                      ("webhook: 'https://x/'", "is not an http:// URL"),
                      ("colour: red", "unknown key 'colour' in output 'r' of type rrd")):
        with open(path, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                    "outputs:\n  - {name: r, type: rrd, directory: /tmp/x, %s}\n" % body)
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr, (body, r.stderr)
    with open(path, "w") as f:
        f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\noutputs:\n"
                "  - {name: r, type: rrd, directory: /tmp/x}\n"
                "  - {name: s, type: rrd, directory: /tmp/x}\n")
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert r.returncode != 0 and "outputs 'r' and 's' both write to /tmp/x" in r.stderr, r.stderr
    os.unlink(path)


def test_top_talkers():
    """The top-talkers stage: the heaviest destination ports and addresses of an exporter, by
    octets and by packets, over the API; graph requests beyond the queue get 429 while /ready
    goes on answering."""
    port, api_port = free_port(), free_tcp_port()
    tmp = tempfile.mkdtemp(prefix="ixdrrd-")
    pipelines = """pipelines:
  - name: p
    from: [u]
    to: [r]
    stages:
      - top-talkers: {slot: 2s, window: 10s, capacity: 16}
"""
    d = Daemon(config(port, api_port, tmp + "/rrd", "    health: false", pipelines),
               expect_collectors=1)
    api = Api(api_port)
    try:
        e = Exporter(port, "127.0.0.9")
        e.send(60, octets=100, packets=50, dport=53)     # most packets
        e.send(20, octets=9000, packets=6, dport=443)    # most octets
        e.send(10, octets=10, packets=1, dport=123)
        exp = wait_for("the exporter", lambda: api.json("/api/v1/exporters")
                       ["_embedded"]["exporters"])[0]
        top = wait_for("a slot", lambda: (lambda t: t if t["to"] else None)(
            api.json("/api/v1/top?exporter=%s&dimension=destination-port&limit=2" % exp["id"])),
            timeout=20)
        doc = api.json("/api/v1/openapi.json")
        check_schema(doc, {"$ref": "#/components/schemas/Top"}, top, "top")
        items = top["top"]["destination-port"]["items"]
        assert [i["key"] for i in items] == ["443", "53"], top
        assert items[0]["octets"] == 20 * 9000 and items[0]["error"] == 0, items
        pk = api.json("/api/v1/top?by=packets&exporter=127.0.0.9&dimension=destination-port")
        first = pk["top"]["destination-port"]["items"][0]
        assert (first["key"], first["packets"], first["error"]) == ("53", 3000, 0), pk
        assert abs(first["share"] - 3000 / 3130) < 1e-9, pk
        assert api.json("/api/v1/top?window=2s")["window"] == 2
        for bad in ("by=bytes", "limit=0", "dimension=vlan", "exporter=nope", "window=x"):
            code, _, body = api.get("/api/v1/top?" + bad)
            assert code == 400, (bad, code, body)
        assert exp["_links"]["top"]["href"] == "/api/v1/top?exporter=%s" % exp["id"]
        # many graphs at once from several client addresses (each within the API's share per
        # address): each is drawn or refused with 429, /ready answers throughout
        wait_for("a series", lambda: api.json("/api/v1/timeseries")["count"] > 0, timeout=30)
        results, ready = [], []

        def graph(k):
            c = http.client.HTTPConnection("127.0.0.1", api_port, timeout=60,
                                           source_address=("127.0.1.%d" % (1 + k % 5), 0))
            c.request("GET", "/api/v1/timeseries/exporter~u~127.0.0.9/graph.png"
                             "?start=-1d&width=800&height=250")
            r = c.getresponse()
            r.read()
            results.append(r.status if r.status != 429 or r.getheader("Retry-After") else -1)
            c.close()
        threads = [threading.Thread(target=graph, args=(k,)) for k in range(40)]
        for t in threads:
            t.start()
        for _ in range(5):
            ready.append(api.get("/ready")[0])
        for t in threads:
            t.join()
        print("graphs at once: %d drawn, %d refused (429)" % (results.count(200), results.count(429)))
        assert set(results) <= {200, 429} and 200 in results, results
        assert ready == [200] * 5, ready
        e.close()
    finally:
        d.stop()
        shutil.rmtree(tmp)


if __name__ == "__main__":
    run([test_config_errors, test_top_talkers, test_rates_and_sampling, test_max_files_and_restart,
         test_silent_alert_and_webhook, test_rrdcached, test_full_disk])
