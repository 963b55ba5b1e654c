#!/usr/bin/env python3
"""Records/s and CPU per record into each sink, against JSON lines to /dev/null on the same stream.

One ipfixd worker receives N synthetic records over TCP from ipfixd-send (the 15-element IPv4
template, 21 records per message), as fast as ipfixd takes them, and writes them to one output:

  json              JSON lines to /dev/null (the reference)
  kafka-json        Kafka, one JSON record per message, lz4 (librdkafka's mock cluster)
  kafka-ipfix       Kafka, one IPFIX message per batch, lz4
  clickhouse        ClickHouse, RowBinary (Debian's clickhouse-server, local)
  clickhouse-gzip   ClickHouse, RowBinary gzip
  clickhouse-json   ClickHouse, JSONEachRow

The clock runs from the first record sent to the sink's acknowledgement of the last (Kafka:
delivered; ClickHouse: inserted; json: written). CPU comes from /proc per thread, by name:
the worker (ixd-worker-0), the output's writer (ixd-w-NAME), ClickHouse's inserter
(ixd-ins-NAME), librdkafka's threads (rdk:*), and ClickHouse's server process apart. Rounds
of the sinks are interleaved; medians are reported.

usage: bench/sinks.py [--records N] [--repeat K] [--only NAME,...] [--build DIR]
"""
import argparse
import os
import re
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))

TICK = os.sysconf("SC_CLK_TCK")


def thread_cpu(pid):
    """{thread name: CPU seconds} of a process (threads of one name added up)."""
    out = {}
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/stat" % (pid, tid)) as f:
                text = f.read()
        except OSError:
            continue
        name = text[text.index("(") + 1:text.rindex(")")]
        fields = text[text.rindex(")") + 2:].split()
        out[name] = out.get(name, 0.0) + (int(fields[11]) + int(fields[12])) / TICK
    return out


def process_cpu(pid):
    with open("/proc/%d/stat" % pid) as f:
        text = f.read()
    fields = text[text.rindex(")") + 2:].split()
    return (int(fields[11]) + int(fields[12])) / TICK


def counters(log, name):
    vals = {}
    for m in re.finditer(r"stats output %s: (.*)" % re.escape(name), log):
        vals = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(1))}
    return vals


def output_config(sink, ctx):
    if sink == "json":
        return "type: json\n    path: /dev/null", "records"
    if sink.startswith("kafka"):
        fmt = sink.split("-")[1]
        # a queue that holds the whole run: what is measured is throughput, not the bound
        return ("type: kafka\n    brokers: \"%s\"\n    topic: bench\n    format: %s\n"
                "    queue-messages: 10000000\n    queue-size: 2000M\n"
                "    properties: {linger.ms: 50}" % (ctx["kafka"].bootstrap, fmt)), "delivered"
    fmt = "json-each-row" if sink == "clickhouse-json" else "rowbinary"
    gz = "gzip" if sink == "clickhouse-gzip" else "none"
    table = "bench_json" if fmt == "json-each-row" else "bench"
    # batches wait for the server in memory: a queue that holds the run, as for Kafka
    text = ("type: clickhouse\n    url: \"%s\"\n    table: %s\n    format: %s\n"
            "    compression: %s\n    queue-size: 2000M" % (ctx["ch"].url, table, fmt, gz))
    return text, "inserted"


def one_run(sink, n, build, ctx):
    port = ctx["port"]
    out, done_key = output_config(sink, ctx)
    tmp = tempfile.mkdtemp(prefix="ixd-bench-sinks-")
    cfg = os.path.join(tmp, "c.yaml")
    with open(cfg, "w") as f:
        f.write("api: {enabled: false}\nstate-directory: %s/state\nworkers: 1\ncollectors:\n"
                "  - {name: t, transport: tcp, listen: \"127.0.0.1:%d\"}\noutputs:\n"
                "  - name: o\n    %s\n" % (tmp, port, out))
    if sink.startswith("clickhouse"):
        ctx["ch"].query("TRUNCATE TABLE IF EXISTS bench")
        ctx["ch"].query("TRUNCATE TABLE IF EXISTS bench_json")
    log_path = os.path.join(tmp, "log")
    logf = open(log_path, "wb")
    d = subprocess.Popen([os.path.join(build, "src", "ipfixd"), "-c", cfg], stderr=logf,
                         stdout=subprocess.DEVNULL)
    while "listening on" not in open(log_path, errors="replace").read():
        time.sleep(0.05)
    ch_pid = ctx["ch"].proc.pid if "ch" in ctx and sink.startswith("clickhouse") else None
    try:
        return measure(sink, n, build, d, log_path, logf, done_key, ch_pid)
    finally:
        if d.poll() is None:
            d.kill()
            d.wait()


def measure(sink, n, build, d, log_path, logf, done_key, ch_pid):
    port = int(re.search(r"127\.0\.0\.1:(\d+)", open(d.args[2]).read()).group(1))
    ch0 = process_cpu(ch_pid) if ch_pid else 0.0
    t0 = time.time()
    subprocess.run([os.path.join(build, "src", "tools", "ipfixd-send"), "-q", "-T", "-n", str(n),
                    "-r", "0", "127.0.0.1:%d" % port], check=True)
    while True:
        d.send_signal(signal.SIGUSR1)
        time.sleep(0.05)
        c = counters(open(log_path, errors="replace").read(), "o")
        if c.get(done_key) == n and (sink != "json" or c.get("bytes", 0) > 0):
            break
        if c.get("dropped", 0) > 0:
            raise SystemExit("%s: %d records dropped: %s" % (sink, c["dropped"], c))
        time.sleep(0.05)
    wall = time.time() - t0
    cpu = thread_cpu(d.pid)
    ch_cpu = process_cpu(ch_pid) - ch0 if ch_pid else 0.0
    d.send_signal(signal.SIGTERM)
    d.wait(timeout=60)
    logf.close()
    c = counters(open(log_path, errors="replace").read().replace("final output", "stats output"),
                 "o")
    assert c.get("dropped", 0) == 0, c
    worker = cpu.get("ixd-worker-0", 0.0)
    total = sum(cpu.values())
    return {"rate": n / wall, "worker_ns": worker / n * 1e9, "total_ns": total / n * 1e9,
            "writer_ns": cpu.get("ixd-w-o", 0.0) / n * 1e9,
            "inserter_ns": cpu.get("ixd-ins-o", 0.0) / n * 1e9,
            "rdkafka_ns": sum(v for k, v in cpu.items() if k.startswith("rdk:")) / n * 1e9,
            "per_core": n / total if total > 0 else 0, "server_ns": ch_cpu / n * 1e9}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=2000000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", default="json,kafka-json,kafka-ipfix,clickhouse,clickhouse-gzip,"
                                       "clickhouse-json")
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    a = ap.parse_args()
    os.environ.setdefault("IXD_KAFKA_MOCK", os.path.join(a.build, "tests", "kafka_mock"))
    import sinks as helpers
    sinks = a.only.split(",")
    ctx = {"port": helpers.free_ports(1)[0]}
    if any(s.startswith("kafka") for s in sinks):
        ctx["kafka"] = helpers.KafkaMock()
        ctx["kafka"].command("topic bench 6")
    if any(s.startswith("clickhouse") for s in sinks):
        ctx["ch"] = helpers.ClickHouse()
        cfg = os.path.join(tempfile.mkdtemp(prefix="ixd-bench-schema-"), "c.yaml")
        with open(cfg, "w") as f:
            f.write("collectors: [{name: t, listen: '127.0.0.1:1'}]\noutputs:\n"
                    "  - {name: a, type: clickhouse, url: '%s', table: bench}\n"
                    "  - {name: b, type: clickhouse, url: '%s', table: bench_json, "
                    "format: json-each-row}\n" % (ctx["ch"].url, ctx["ch"].url))
        schema = subprocess.run([os.path.join(a.build, "src", "ipfixd"), "clickhouse-schema",
                                 "-c", cfg], capture_output=True, text=True, check=True).stdout
        ctx["ch"].execute_script(schema)
    results = {s: [] for s in sinks}
    try:
        for r in range(a.repeat):
            for s in (sinks if r % 2 == 0 else list(reversed(sinks))):
                res = one_run(s, a.records, a.build, ctx)
                results[s].append(res)
                print("round %d %-16s %9.0f rec/s  worker %6.1f ns  total %6.1f ns  load %s"
                      % (r, s, res["rate"], res["worker_ns"], res["total_ns"],
                         open("/proc/loadavg").read().split()[0]), flush=True)
    finally:
        if "kafka" in ctx:
            ctx["kafka"].stop()
        if "ch" in ctx:
            ctx["ch"].stop()
    keys = ("rate", "per_core", "worker_ns", "writer_ns", "inserter_ns", "rdkafka_ns",
            "total_ns", "server_ns")
    print("| sink | records/s | records per ipfixd CPU-second | worker ns/record | writer | "
          "inserter | librdkafka | ipfixd total ns/record | ClickHouse server ns/record |")
    print("|---|---|---|---|---|---|---|---|---|")
    for s in sinks:
        med = {k: statistics.median(x[k] for x in results[s]) for k in keys}
        print("| %s | %.0f | %.0f | %.1f | %.1f | %.1f | %.1f | %.1f | %.1f |" % (
            s, med["rate"], med["per_core"], med["worker_ns"], med["writer_ns"],
            med["inserter_ns"], med["rdkafka_ns"], med["total_ns"], med["server_ns"]))


if __name__ == "__main__":
    main()
