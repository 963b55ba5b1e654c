"""The ClickHouse output against Debian's clickhouse-server (18.16), started by the test as its own
process on spare ports: counts and sums read back with SQL, both formats, the spool through an
outage, data errors, the schema command, and a Distributed table over two servers."""
import os
import re
import subprocess
import tempfile
import time

from ixdtest import BIN, SEND, SLOW, Daemon, free_port, run, send
from sinks import ClickHouse, free_ports, output_counters, stats, wait_counter

V4 = "00000000000000000000FFFF7F000001"  # 127.0.0.1 as FixedString(16)
V6 = "00000000000000000000000000000001"  # ::1


def write_config(ch, port, keys="", tmp=None):
    tmp = tmp or tempfile.mkdtemp(prefix="ixdch-cfg-")
    pw = os.path.join(tmp, "pw")
    with open(pw, "w") as f:
        f.write(ch.password + "\n")
    os.chmod(pw, 0o600)
    return f"""workers: 2
collectors:
  - {{name: t4, transport: tcp, listen: "127.0.0.1:{port}"}}
  - {{name: t6, transport: tcp, listen: "[::1]:{port}"}}
outputs:
  - name: ch
    type: clickhouse
    url: "{ch.url}"
    user: ipfixd
    password-file: {pw}
{keys}"""


def schema(config_text, *args):
    tmp = tempfile.mkdtemp(prefix="ixdch-schema-")
    path = os.path.join(tmp, "c.yaml")
    with open(path, "w") as f:
        f.write("api: {enabled: false}\n" + config_text)
    r = subprocess.run([BIN, "clickhouse-schema", "-c", path] + list(args), capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    return r.stdout


def expected(first, n):
    return n, sum(range(first, first + n)), sum(1 + k % 1000 for k in range(first, first + n))


def test_rowbinary_counts_and_sums():
    """Two exporters (127.0.0.1 and ::1): count() and per-exporter octet and packet sums equal
    what was sent; the table comes from ipfixd clickhouse-schema."""
    ch = ClickHouse()
    port = free_port()
    n4, n6 = int(150000 * min(SLOW, 1)), 50000
    try:
        text = write_config(ch, port)
        out = schema(text)
        assert "-- output ch: ClickHouse 18.16" in out and "exporter FixedString(16)" in out, out
        ch.execute_script(out)
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", n4, "127.0.0.1:%d" % port)
        send("-T", "-n", n6, "--start", n4, "[::1]:%d" % port)
        c, _ = wait_counter(d, "ch", "inserted", n4 + n6)
        assert c["rejected"] == 0 and c["dropped"] == 0 and c["spool_dropped"] == 0, c
        d.stop()
        rows = ch.query("SELECT hex(exporter), count(), sum(bytes), sum(packets) FROM flows "
                        "GROUP BY exporter ORDER BY exporter FORMAT TSV")
        got = {l.split("\t")[0]: tuple(int(x) for x in l.split("\t")[1:])
               for l in rows.splitlines()}
        assert got == {V4: expected(0, n4), V6: expected(n4, n6)}, got
        # the values of one record, column by column
        row = ch.query("SELECT hex(src_addr), hex(dst_addr), src_port, dst_port, protocol, "
                       "in_if, out_if, src_as, toUnixTimestamp(flow_start) FROM flows "
                       "WHERE bytes = 70000 FORMAT TSV").split()
        assert row == ["00000000000000000000FFFF0A011170", "00000000000000000000FFFFC0A81170",
                       str(1024 + 70000 % 60000), str(70000 % 1000), "6", "0", "100", str(64512),
                       str(1700000000 + 70)], row
    finally:
        ch.stop()


def test_json_each_row_gzip_and_columns():
    """format: json-each-row with gzip and columns of one's own: addresses as text (String on
    18.16), the application as engine:selector."""
    ch = ClickHouse()
    port = free_port()
    n = 20000
    try:
        text = write_config(ch, port, """    format: json-each-row
    compression: gzip
    table: small
    columns: {timeReceived: t, sourceAddress: src, octetDeltaCount: octets,
              sourceTransportPort: sport, observationDomainId: domain}
""")
        out = schema(text)
        assert "src String" in out and "domain UInt32" in out and "octets UInt64" in out, out
        ch.execute_script(out)
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", n, "-o", 7, "127.0.0.1:%d" % port)
        wait_counter(d, "ch", "inserted", n)
        d.stop()
        got = ch.query("SELECT count(), sum(octets), uniqExact(src), min(domain), max(domain) "
                       "FROM small FORMAT TSV").split()
        assert got == [str(n), str(sum(range(n))), str(n), "7", "7"], got
        assert ch.query("SELECT src, sport FROM small WHERE octets = 5 FORMAT TSV").split() == \
            ["10.0.0.5", "1029"]
    finally:
        ch.stop()


def test_outage_spools_and_replays():
    """ClickHouse killed in the middle of a stream: batches go to the spool (counted), the worker
    goes on; once it is back, the spool is replayed and every row arrives. A retry cut off after
    its request had gone out is counted as ambiguous and may be inserted twice, no more."""
    ch = ClickHouse()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="ixdch-spool-")
    before, during = 20000, 30000
    try:
        text = write_config(ch, port, "    spool-directory: %s/spool\n    batch-rows: 5000\n"
                            % tmp, tmp)
        ch.execute_script(schema(text))
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", before, "127.0.0.1:%d" % port)
        wait_counter(d, "ch", "inserted", before)
        ch.stop(kill=True)
        send("-T", "-n", during, "--start", before, "-r", 10000, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "ch", "records", before + during)
        c, _ = wait_counter(d, "ch", "spooled", during - (c["inserted"] - before), timeout=30)
        assert c["spooled"] > 0 and c["spool_dropped"] == 0, c
        assert len(os.listdir(os.path.join(tmp, "spool"))) > 0
        time.sleep(2)
        ch.start()
        c, _ = wait_counter(d, "ch", "spooled", 0, timeout=60)
        c, _ = wait_counter(d, "ch", "inserted", before + during, at_least=True)
        d.stop()
        count = int(ch.query("SELECT count() FROM flows"))
        assert 0 <= count - (before + during) <= c["ambiguous_rows"], (count, c)
        assert int(ch.query("SELECT uniqExact(bytes) FROM flows")) == before + during
        assert os.listdir(os.path.join(tmp, "spool")) == []
    finally:
        ch.stop()


def test_spool_survives_a_restart_and_its_bound_counts_drops():
    """With ClickHouse down, a spool of 1 MiB takes what fits and counts the rest; ipfixd stops
    with the spool full, and the next ipfixd inserts it first: count() is what was sent less
    what was counted as dropped."""
    ch = ClickHouse()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="ixdch-bound-")
    n = 60000
    try:
        text = write_config(ch, port, "    spool-directory: %s/spool\n    spool-size: 1M\n"
                            "    batch-rows: 2000\n    retries: 0\n" % tmp, tmp)
        ch.execute_script(schema(text))
        ch.stop()
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "ch", "records", n)
        # the final counters are read before the outputs close: wait until the last batch
        # (handed on after batch-interval) is spooled or dropped
        deadline = time.time() + 30 * SLOW
        while c["spooled"] + c["spool_dropped"] < n and time.time() < deadline:
            time.sleep(0.3)
            c, _ = stats(d, "ch")
        d.stop()
        final, _ = output_counters(d.log(), "ch", "final")
        assert final["spool_dropped"] > 0 and final["spooled"] > 0, final
        assert final["spooled"] + final["spool_dropped"] == n, final
        assert final["dropped"] == final["spool_dropped"], final
        ch.start()
        d2 = Daemon(text, expect_collectors=2)
        d2.wait_log(r"spooled rows to insert first")
        wait_counter(d2, "ch", "spooled", 0)
        d2.stop()
        assert int(ch.query("SELECT count() FROM flows")) == n - final["spool_dropped"]
    finally:
        ch.stop()


def test_reload_hands_the_spool_over():
    """A reload that changes the output while ClickHouse is down: the new output waits for the
    old one to let go of the spool directory, takes over its batches, and every row arrives
    once."""
    import signal
    ch = ClickHouse()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="ixdch-reload-")
    try:
        text = write_config(ch, port, "    spool-directory: %s/spool\n    retries: 0\n" % tmp,
                            tmp)
        ch.execute_script(schema(text))
        ch.stop()
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", 10000, "127.0.0.1:%d" % port)
        wait_counter(d, "ch", "spooled", 10000)
        # records keep coming while the outputs change hands: both write to the spool
        sender = subprocess.Popen([SEND, "-q", "-T", "-n", "20000", "--start", "10000", "-r",
                                   "4000", "127.0.0.1:%d" % port])
        time.sleep(1)
        d.write_config("api: {enabled: false}\nstate-directory: %s/state\n" % d.dir +
                       text.replace("retries: 0", "retries: 1"))
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded")
        assert sender.wait(timeout=60) == 0
        # the new output opened the spool once the old one had let go: it holds every batch
        wait_counter(d, "ch", "spooled", 30000)
        ch.start()
        wait_counter(d, "ch", "spooled", 0, timeout=60)
        d.stop()
        assert ch.query("SELECT count(), uniqExact(bytes) FROM flows FORMAT TSV").split() == \
            ["30000", "30000"]
    finally:
        ch.stop()


def test_data_error_is_counted_not_retried():
    """A table without the application column: ClickHouse answers Code: 16 (500 on 18.16); the
    batch is counted as rejected and logged with ClickHouse's message, and not retried."""
    ch = ClickHouse()
    port = free_port()
    n = 3000
    try:
        text = write_config(ch, port, "    retries: 3\n")
        ch.execute_script(schema(text).replace(",\n    application String", ""))
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "ch", "rejected", n)
        assert c["retries"] == 0 and c["inserted"] == 0 and c["dropped"] == n, c
        log = d.log()
        assert re.search(r"ClickHouse refuses a batch of \d+ rows, dropped: Code: 16", log), log
        d.stop()
    finally:
        ch.stop()


def test_hung_server_does_not_stall_collection():
    """ClickHouse stopped (SIGSTOP) while records keep coming: the insert in flight times out on
    the inserter's thread, the worker never waits for it, batches go to the spool, and once the
    server runs again the counts add up: count() = records - dropped, give or take the rows of
    ambiguous retries."""
    import signal
    ch = ClickHouse()
    port = free_port()
    tmp = tempfile.mkdtemp(prefix="ixdch-hung-")
    n = 40000
    try:
        text = write_config(ch, port, "    spool-directory: %s/spool\n    timeout: 2s\n"
                            "    retries: 0\n    batch-rows: 2000\n" % tmp, tmp)
        ch.execute_script(schema(text))
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", 2000, "127.0.0.1:%d" % port)
        wait_counter(d, "ch", "inserted", 2000)
        ch.proc.send_signal(signal.SIGSTOP)
        try:
            send("-T", "-n", n, "--start", 2000, "-r", 8000, "127.0.0.1:%d" % port)
            c, _ = stats(d, "ch")
            assert c["waits"] == 0 and c["records"] == n + 2000, c
            assert c["spooled"] > 0 or c["queued_bytes"] > 0, c
        finally:
            ch.proc.send_signal(signal.SIGCONT)
        c, _ = wait_counter(d, "ch", "spooled", 0, timeout=60)
        c, _ = wait_counter(d, "ch", "queued_bytes", 0, timeout=60)
        d.stop()
        final, _ = output_counters(d.log(), "ch", "final")
        count = int(ch.query("SELECT count() FROM flows"))
        lost = final["dropped"]  # queue, spool and refusals alike
        assert final["waits"] == 0, final
        assert 0 <= count - (n + 2000 - lost) <= final["ambiguous_rows"], (count, final)
    finally:
        ch.stop()


def cluster_xml(tcp_ports):
    shards = "".join("<shard><replica><host>127.0.0.1</host><port>%d</port></replica></shard>" % p
                     for p in tcp_ports)
    return "<pair>%s</pair>" % shards


def test_distributed_over_two_shards():
    """Two servers in a remote_servers cluster: clickhouse-schema's local tables on both and the
    Distributed table over them; rows spread over both shards and count() is what was sent."""
    # each server must know the other's native port before it starts
    http1, tcp1, inter1, http2, tcp2, inter2 = free_ports(6)
    clusters = cluster_xml([tcp1, tcp2])
    chs = []
    port = free_port()
    n = 40000
    try:
        for http, tcp in ((http1, tcp1), (http2, tcp2)):
            ch = ClickHouse.__new__(ClickHouse)
            ch.dir = tempfile.mkdtemp(prefix="ixdch-")
            ch.http, ch.tcp, ch.password, ch.proc = http, tcp, "s3cret-pw", None
            from sinks import CLICKHOUSE_CONFIG, CLICKHOUSE_USERS
            with open(os.path.join(ch.dir, "config.xml"), "w") as f:
                f.write(CLICKHOUSE_CONFIG.format(dir=ch.dir, http=http, tcp=tcp,
                                                 inter=inter1 if tcp == tcp1 else inter2,
                                                 clusters=clusters))
            with open(os.path.join(ch.dir, "users.xml"), "w") as f:
                f.write(CLICKHOUSE_USERS.format(password=ch.password))
            ch.start()
            chs.append(ch)
        text = write_config(chs[0], port, "    cluster: pair\n    sharding-key: rand()\n"
                            "    insert-distributed-sync: true\n")
        script = schema(text)
        assert "ENGINE = Distributed(pair, default, flows_local, rand())" in script, script
        local = script.split("\n-- the table above on each shard")[0]
        chs[1].execute_script(local)
        chs[0].execute_script(script)
        d = Daemon(text, expect_collectors=2)
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        wait_counter(d, "ch", "inserted", n)
        d.stop()
        assert int(chs[0].query("SELECT count() FROM flows")) == n
        shard = [int(c.query("SELECT count() FROM flows_local")) for c in chs]
        assert sum(shard) == n and all(s > n // 4 for s in shard), shard
        assert int(chs[0].query("SELECT sum(bytes) FROM flows")) == sum(range(n))
    finally:
        for ch in chs:
            ch.stop()


def test_schema_types_follow_the_version():
    text = """collectors:
  - {name: u, listen: '127.0.0.1:4739'}
outputs:
  - {name: ch, type: clickhouse, url: 'http://127.0.0.1:1', cluster: c1, table: f}
"""
    new = schema(text, "--server-version", "23.8.2.7")
    assert "exporter IPv6" in new and "FixedString" not in new, new
    assert "CREATE TABLE IF NOT EXISTS default.f_local" in new
    old = schema(text)  # nothing answers on port 1: the types every version has
    assert "did not tell its version" in old and "exporter FixedString(16)" in old, old


def test_config_checks():
    tmp = tempfile.mkdtemp(prefix="ixdch-t-")
    path = os.path.join(tmp, "c.yaml")
    with open(os.path.join(tmp, "pw"), "w") as f:
        f.write("pw\n")
    os.chmod(os.path.join(tmp, "pw"), 0o600)
    for body, msg in (("url: 'x'", "needs a url"),
                      ("url: 'http://h', columns: {nope: x}", "'nope' is not something a column"),
                      ("url: 'http://h', columns: {octetDeltaCount: '1x'}", "a column name is"),
                      ("url: 'http://h', password-file: TMP/pw", "password-file goes with"),
                      ("url: 'http://h', format: csv", "format must be rowbinary or json-each-row")):
        with open(path, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                    "outputs:\n  - {name: ch, type: clickhouse, %s}\n" % body.replace("TMP", tmp))
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr, (body, r.stderr)


if __name__ == "__main__":
    run([test_rowbinary_counts_and_sums, test_json_each_row_gzip_and_columns,
         test_outage_spools_and_replays, test_spool_survives_a_restart_and_its_bound_counts_drops,
         test_reload_hands_the_spool_over, test_data_error_is_counted_not_retried,
         test_hung_server_does_not_stall_collection,
         test_distributed_over_two_shards,
         test_schema_types_follow_the_version, test_config_checks])
