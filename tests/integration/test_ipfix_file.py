"""IPFIX files (output type ipfix-file, RFC 5655): ipfixd archives what it collects.

- rotation by size: several files, none larger than rotate-size, no temporary file left after
  stop; each file is a complete stream (its templates before its records, sequence numbers
  from 0); ipfixDump reads every file and the record counts add up to what was sent;
- the files read back with a collector of transport file give exactly the generator's values;
- rotation by time (rotate-interval: 1s): a file is completed on time even when no more
  records come;
- enterprise elements of real exports (YAF, Netscaler) survive the round trip byte for byte, and
  the templates YAF's subTemplateMultiLists name are in the files;
- a file that cannot grow (RLIMIT_FSIZE): each failed write counted in write_errors and its
  records in dropped, the files before it whole, the daemon going on; files and write_errors in
  the SIGUSR1 stats, the API and /metrics;
- configuration errors point at file:line:col.
"""
import glob
import json
import os
import re
import resource
import shutil
import subprocess
import tempfile
import time
import urllib.request

from ixdtest import (SLOW, Daemon, check_synthetic, expected_v4, free_port, read_json_lines, run,
                     send,
                     wait_lines)
from test_export import (Reader, check_output_config_errors, check_same_records, check_sequences,
                         corpus_messages, dest_stats, send_groups)

NAME = re.compile(r"^arch-\d{8}T\d{6}Z-w\d+-\d+\.ipfix$")
SIZE = 128 * 1024


def archive_daemon(tmp, extra="", workers=2, top="", preexec=None):
    """ipfixd collecting on UDP and TCP at a free port, archiving to tmp/arch; top: more
    top-level config."""
    port = free_port()
    os.makedirs(os.path.join(tmp, "arch"), exist_ok=True)
    text = top + """workers: %d
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:%d"
  - name: t
    transport: tcp
    listen: "127.0.0.1:%d"
outputs:
  - name: arch
    type: ipfix-file
    directory: "%s"
%s""" % (workers, port, port, os.path.join(tmp, "arch"), extra)
    return Daemon(text, expect_collectors=2, preexec=preexec), port


def files_in(tmp):
    return sorted(glob.glob(os.path.join(tmp, "arch", "*")) +
                  glob.glob(os.path.join(tmp, "arch", ".*")))


def ipfix_dump(path):
    """Runs ipfixDump on one file: (messages, data records), asserting it reads it cleanly (a
    warning such as "Skipping STML Item. No Template" fails it: the templates RFC 6313 lists
    name must be in the file)."""
    r = subprocess.run(["ipfixDump", "--in", path], capture_output=True, text=True)
    errors = [l for l in r.stderr.splitlines() if l.strip()]
    assert r.returncode == 0 and not errors, "ipfixDump %s: %d %s" % (
        path, r.returncode, r.stderr)
    m = re.search(r"File Stats: (\d+) Messages, (\d+) Data Records", r.stdout)
    assert m, "no file statistics from ipfixDump %s" % path
    return int(m.group(1)), int(m.group(2))


def read_file(path):
    """Our own reader over one file: a fresh stream, so the file must define its templates."""
    data = open(path, "rb").read()
    r, off = Reader(), 0
    while off < len(data):
        length = int.from_bytes(data[off + 2:off + 4], "big")
        assert length >= 16 and off + length <= len(data), "%s: cut message at %d" % (path, off)
        r.message(data[off:off + length])
        off += length
    assert r.unknown == 0, "%s: %d data sets before their template" % (path, r.unknown)
    check_sequences(r.messages)
    for odid in {m[2] for m in r.messages}:
        first = next(m for m in r.messages if m[2] == odid)
        assert first[1] == 0, "%s: domain %d starts at sequence %d" % (path, odid, first[1])
    return r


def check_files(tmp, want_records, max_size=None):
    """Every file complete, named, within max_size, readable by ipfixDump and by our reader;
    returns the paths after checking the record counts add up."""
    paths = files_in(tmp)
    assert paths, "no files written"
    total = 0
    for p in paths:
        name = os.path.basename(p)
        assert NAME.match(name), "unexpected file %s" % name
        if max_size is not None:
            assert os.path.getsize(p) <= max_size, "%s: %d bytes" % (name, os.path.getsize(p))
        _, records = ipfix_dump(p)
        assert len(read_file(p).records) == records, name
        total += records
    assert total == want_records, "%d records in the files, %d sent" % (total, want_records)
    return paths


def read_back(paths, tmp):
    """The files read by collectors of transport file: the records as JSON."""
    out = os.path.join(tmp, "back.json")
    text = "workers: 2\ncollectors:\n"
    for i, p in enumerate(paths):
        text += '  - name: f%d\n    transport: file\n    path: "%s"\n' % (i, p)
    text += 'outputs:\n  - name: j\n    type: json\n    path: "%s"\n' % out
    d = Daemon(text)
    d.wait_log(r"collector f\d+: read .*: \d+ messages", count=len(paths))
    time.sleep(0.3)
    final = d.stop()
    errors = sum(v.get("errors", 0) for v in final.values())
    assert errors == 0, final
    return read_json_lines(out)


def output_stats(d, when="final"):
    line = re.findall(r"%s output arch: (.*)" % when, d.log())[-1]
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", line)}


def test_size_rotation_round_trip():
    tmp = tempfile.mkdtemp()
    n = int(20000 * min(SLOW, 2))
    d, port = archive_daemon(tmp, "    rotate-size: 128K\n")
    send("-T", "-e", 2, "-n", n, "127.0.0.1:%d" % port)
    send("-T", "-e", 1, "-n", 1000, "--start", n, "-o", 7, "127.0.0.1:%d" % port)
    time.sleep(0.5 * SLOW)
    d.stop()
    st = output_stats(d)
    assert st["records"] == n + 1000 and st["dropped"] == 0, st
    closed = re.findall(r"output arch: closed: (.*)", d.log())[-1]
    assert "write_errors=0" in closed, closed
    paths = check_files(tmp, n + 1000, SIZE)
    assert len(paths) >= 4, "%d files for %d records of rotate-size %d" % (len(paths), n, SIZE)
    assert not [p for p in paths if p.endswith(".tmp")]
    check_synthetic(read_back(paths, tmp), 0, n + 1000)


def test_time_rotation():
    tmp = tempfile.mkdtemp()
    d, port = archive_daemon(tmp, "    rotate-interval: 1s\n", workers=1)
    sent = 0
    try:
        for burst in range(3):
            send("-T", "-n", 500, "--start", sent, "127.0.0.1:%d" % port)
            sent += 500
            # no more records for this second: the file is completed on time all the same
            time.sleep(1.5)
            done = [p for p in files_in(tmp) if not os.path.basename(p).startswith(".")]
            assert len(done) >= burst + 1, "after burst %d: %r" % (burst, files_in(tmp))
            assert not [p for p in files_in(tmp) if p.endswith(".tmp")], files_in(tmp)
    finally:
        d.stop()
    paths = check_files(tmp, sent)
    assert len(paths) >= 3, paths
    check_synthetic(read_back(paths, tmp), 0, sent)


def test_enterprise_bytes():
    tmp = tempfile.mkdtemp()
    src = corpus_messages()
    del src["vmware"]
    d, port = archive_daemon(tmp)
    try:
        want = Reader()
        for msgs in src.values():
            for m in msgs:
                want.message(m)
        send_groups(port, list(src.values()))
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            st = d.stats()
            if st.get("u", {}).get("records", 0) >= len(want.records):
                break
            time.sleep(0.2)
    finally:
        d.stop()
    paths = check_files(tmp, output_stats(d)["records"])
    got = Reader()
    for p in paths:
        r = read_file(p)
        got.records += r.records
    check_same_records(want, got, ((6871, "YAF/CERT"), (5951, "Netscaler")))


def test_reload_completes_files():
    """A reload that changes a setting completes the files; one that does not keeps writing."""
    tmp = tempfile.mkdtemp()
    d, port = archive_daemon(tmp, "    rotate-size: 1M\n", workers=1)
    try:
        send("-T", "-n", 300, "127.0.0.1:%d" % port)
        time.sleep(0.3 * SLOW)
        assert [p for p in files_in(tmp) if p.endswith(".tmp")], files_in(tmp)
        text = open(d.config_path).read()
        d.write_config(text.replace("rotate-size: 1M", "rotate-size: 2M"))
        d.signal(__import__("signal").SIGHUP)
        d.wait_log(r"output arch: closed: files=1 ")
        assert not [p for p in files_in(tmp) if p.endswith(".tmp")], files_in(tmp)
        send("-T", "-n", 300, "--start", 300, "127.0.0.1:%d" % port)
        time.sleep(0.3 * SLOW)
    finally:
        d.stop()
    paths = check_files(tmp, 600)
    assert len(paths) == 2, paths
    check_synthetic(read_back(paths, tmp), 0, 600)


def test_config_errors():
    tmp = tempfile.mkdtemp()
    cases = [
        ("    type: ipfix-file\n", "needs a directory"),
        ("    type: ipfix-file\n    directory: /tmp\n    rotate-size: 1K\n", "rotate-size must be"),
        ("    type: ipfix-file\n    directory: /tmp\n    rotate-interval: 0\n",
         "rotate-interval must be"),
        ("    type: ipfix-file\n    directory: /tmp\n    prefix: a/b\n", "may hold only"),
        ("    type: ipfix-file\n    directory: /tmp\n    mtu: 1400\n",
         "applies only to outputs of type ipfix"),
        ("    type: json\n    path: \"-\"\n    directory: /tmp\n",
         "applies only to outputs of type ipfix-file"),
        ("    type: json\n    path: \"-\"\n    original-exporter: true\n",
         "applies only to outputs of type ipfix and ipfix-file"),
    ]
    check_output_config_errors(tmp, "", cases, "archive.yaml")



def test_write_errors_counted():
    """Files capped at 64 KiB by RLIMIT_FSIZE (as `ulimit -f` or systemd's LimitFSIZE= set it):
    the write that crosses the cap fails with EFBIG (SIGXFSZ is ignored, so it does not kill
    the daemon), its records are dropped and counted, the file is cut back to its last whole
    message and completed, and the next file starts with its templates."""
    tmp = tempfile.mkdtemp()
    cap = 64 * 1024
    api_port = free_port()
    n = 10000

    def limit():
        resource.setrlimit(resource.RLIMIT_FSIZE, (cap, cap))

    d, port = archive_daemon(tmp, "    rotate-size: 1M\n", workers=1,
                             top='api:\n  listen: "127.0.0.1:%d"\n' % api_port, preexec=limit)
    try:
        send("-n", n, "-r", 2000, "127.0.0.1:%d" % port)
        deadline = time.time() + 20 * SLOW
        while True:
            (dest,) = dest_stats(d, output="arch").values()  # the one directory row
            st = output_stats(d, "stats")
            if st["records"] == n and dest["queued_bytes"] == 0:
                break
            assert time.time() < deadline, (st, dest)
        assert d.alive()
        assert st["write_errors"] >= 2 and st["dropped"] > 0, st
        assert st["files"] >= 2, st
        assert dest["sent"] + st["dropped"] == n, (st, dest)
        # the same counters through the API and /metrics, once the workers' next snapshots (one a
        # second) hold them
        base = "http://127.0.0.1:%d" % api_port
        deadline = time.time() + 10 * SLOW
        while True:
            with urllib.request.urlopen(base + "/api/v1/outputs/arch", timeout=10) as r:
                counters = json.load(r)["counters"]
            with urllib.request.urlopen(base + "/metrics", timeout=10) as r:
                metrics = r.read().decode()
            if counters["records"] == n:
                break
            assert time.time() < deadline, ("the API never showed every record", counters, st)
            time.sleep(0.2)
        for key in ("files", "write_errors", "dropped"):
            assert counters[key] == st[key], (key, counters, st)
        assert 'ipfixd_output_files_total{output="arch"} %d\n' % st["files"] in metrics
        assert 'ipfixd_output_write_errors_total{output="arch"} %d\n' % st["write_errors"] \
            in metrics
    finally:
        d.stop()
    # the file open at stop is completed by the close, which logs the last counts
    closed = re.findall(r"output arch: closed: (.*)", d.log())[-1]
    fin = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", closed)}
    assert fin["write_errors"] == st["write_errors"], (fin, st)
    # what was counted as sent is in the files, each whole and within the cap
    paths = check_files(tmp, dest["sent"], cap)
    assert len(paths) == fin["files"] >= st["files"], (paths, fin)
    back = read_back(paths, tmp)
    assert len(back) == dest["sent"], (len(back), dest)
    keys = set()
    for r in back:
        k = r["octetDeltaCount"]
        assert 0 <= k < n and k not in keys, "record %d: not sent, or twice" % k
        keys.add(k)
        for key, val in expected_v4(k).items():
            assert r.get(key) == val, "record %d: %s is %r, expected %r" % (k, key, r.get(key), val)

if __name__ == "__main__":
    if shutil.which("ipfixDump") is None:
        print("ipfixDump (libfixbuf-tools) is not installed")
    run([test_size_rotation_round_trip, test_time_rotation, test_enterprise_bytes,
         test_write_errors_counted,
         test_reload_completes_files, test_config_errors])
