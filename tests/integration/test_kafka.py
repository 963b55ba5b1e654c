"""The Kafka output against librdkafka's mock cluster (a real Kafka protocol endpoint on loopback,
3 brokers, its own process): every record read back with kcat, JSON and IPFIX, and what an outage
does to the queue and the counters."""
import json
import os
import re
import struct
import subprocess
import tempfile
import time

from ixdtest import (BIN, SLOW, Daemon, check_synthetic, free_port, read_json_lines, run, send,
                     wait_lines)
from sinks import KafkaMock, output_counters, stats, wait_counter


def config(port, out, extra="", workers=2):
    return f"""workers: {workers}
collectors:
  - {{name: t, transport: tcp, listen: "{port}"}}
outputs:
  - name: k
    type: kafka
{extra}
"""


def kafka_daemon(listen, kafka, **keys):
    lines = "".join("    %s: %s\n" % (k.replace("_", "-"), v) for k, v in keys.items())
    text = f"""workers: 2
collectors:
  - {{name: t, transport: tcp, listen: "{listen}"}}
outputs:
  - name: k
    type: kafka
    brokers: "{kafka.bootstrap}"
{lines}"""
    return Daemon(text, expect_collectors=1)


def test_json_every_record_ipv6_topic():
    """Records from [::1] to the topic flows-{collector}-{exporter}: the colons become '_'; each
    message one record, keyed by its 5-tuple; per-broker round trips in the counters."""
    kafka = KafkaMock()
    port = free_port()
    n = 20000
    try:
        kafka.command("rtt -1 20")
        d = kafka_daemon("[::1]:%d" % port, kafka, topic='"flows-{collector}-{exporter}"',
                         key="5-tuple")
        send("-T", "-n", n, "[::1]:%d" % port)
        c, _ = wait_counter(d, "k", "delivered", n)
        assert c["produced"] == n and c["failed"] == 0 and c["dropped"] == 0, c
        time.sleep(1.5)  # a statistics interval
        c, labelled = stats(d, "k")
        rtts = {b: v["rtt_us"] for b, v in labelled.items() if "rtt_us" in v}
        # brokers that led a partition, each answering 20 ms late
        assert rtts and all(v >= 15000 for v in rtts.values()), labelled
        d.stop()
        out = kafka.consume("flows-t-__1", "%k %s\\n")
        lines = out.splitlines()
        assert len(lines) == n, "%d messages in the topic" % len(lines)
        keys, records = {}, []
        for line in lines:
            key, body = line.split(" ", 1)
            assert re.match(r"^[0-9a-f]{16}$", key), key
            r = json.loads(body)
            records.append(r)
            keys[key] = keys.get(key, 0) + 1
        check_synthetic(records, 0, n)
        assert all(r["@exporter"] == "::1" for r in records)
        assert len(keys) == n  # every synthetic record is a flow of its own
    finally:
        kafka.stop()


def split_frames(raw):
    """kcat's '%R%s' output: each message behind its 4-byte big-endian length."""
    msgs, at = [], 0
    while at < len(raw):
        (n,) = struct.unpack(">I", raw[at:at + 4])
        msgs.append(raw[at + 4:at + 4 + n])
        at += 4 + n
    return msgs


def test_ipfix_messages_decode_alone():
    """format: ipfix: one IPFIX message per batch, each with its templates: every message,
    consumed with kcat and read by ipfixd's own file collector, gives back every record."""
    kafka = KafkaMock()
    port = free_port()
    n = 30000
    try:
        d = kafka_daemon("127.0.0.1:%d" % port, kafka, topic="archive", format="ipfix",
                         compression="zstd")
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        wait_counter(d, "k", "delivered", n)
        d.stop()
        msgs = split_frames(kafka.consume("archive", "%R%s", binary=True))
        assert len(msgs) > 1
        for m in msgs:
            version, length = struct.unpack(">HH", m[:4])
            assert version == 10 and length == len(m), (version, length, len(m))
            # a template set (ID 2) comes before the first data set of every message
            (set_id,) = struct.unpack(">H", m[16:18])
            assert set_id == 2, "a message starts with set %d" % set_id
        tmp = tempfile.mkdtemp(prefix="ixdkafka-")
        path = os.path.join(tmp, "consumed.ipfix")
        with open(path, "wb") as f:
            f.write(b"".join(msgs))
        out = os.path.join(tmp, "out.json")
        reader = Daemon(f"""collectors:
  - {{name: f, transport: file, path: "{path}"}}
outputs:
  - {{name: j, type: json, path: "{out}"}}
""", expect_collectors=0)
        wait_lines(out, n)
        reader.stop()
        check_synthetic(read_json_lines(out), 0, n)
    finally:
        kafka.stop()


def test_outage_within_the_queue_loses_nothing():
    """Every broker down for a while: messages wait in librdkafka's queue, the worker goes on,
    and once the brokers are back every record arrives once (idempotence: no duplicates)."""
    kafka = KafkaMock()
    port = free_port()
    n = 5000
    try:
        kafka.command("topic flows 3")
        d = kafka_daemon("127.0.0.1:%d" % port, kafka, topic="flows")
        send("-T", "-n", 100, "--start", 0, "127.0.0.1:%d" % port)
        wait_counter(d, "k", "delivered", 100)
        kafka.command("down -1")
        send("-T", "-n", n, "--start", 100, "-r", 2000, "127.0.0.1:%d" % port)
        c, _ = stats(d, "k")
        assert c["records"] == n + 100 and c["delivered"] < n + 100 and c["dropped"] == 0, c
        assert c["queued"] > 0, c
        time.sleep(3)
        kafka.command("up -1")
        c, _ = wait_counter(d, "k", "delivered", n + 100, timeout=90)
        assert c["failed"] == 0 and c["dropped"] == 0, c
        d.stop()
        records = [json.loads(l) for l in kafka.consume("flows").splitlines()]
        check_synthetic(records, 0, n + 100)
    finally:
        kafka.stop()


def test_outage_past_the_queue_counts_every_drop():
    """A queue of 1000 messages and the brokers down: what does not fit is dropped and counted
    as _QUEUE_FULL; the counts add up to what was sent, and the topic holds what was delivered."""
    kafka = KafkaMock()
    port = free_port()
    n = 6000
    try:
        kafka.command("topic flows 3")
        d = kafka_daemon("127.0.0.1:%d" % port, kafka, topic="flows", queue_messages=1000)
        send("-T", "-n", 10, "127.0.0.1:%d" % port)
        wait_counter(d, "k", "delivered", 10)
        kafka.command("down -1")
        send("-T", "-n", n, "--start", 10, "-r", 5000, "127.0.0.1:%d" % port)
        c, labelled = wait_counter(d, "k", "records", n + 10)
        assert c["dropped"] > 0, c
        assert labelled["_QUEUE_FULL"]["records"] == c["dropped"], labelled
        kafka.command("up -1")
        c, _ = wait_counter(d, "k", "queued", 0, timeout=90)
        assert c["delivered"] + c["dropped"] == n + 10, c
        d.stop()
        records = [json.loads(l) for l in kafka.consume("flows").splitlines()]
        assert len(records) == c["delivered"], (len(records), c)
        assert len({r["octetDeltaCount"] for r in records}) == len(records)  # none twice
    finally:
        kafka.stop()


def test_broker_errors_are_retried_or_counted_by_name():
    """Errors injected into the brokers' answers to Produce requests: a retriable one
    (NOT_LEADER_FOR_PARTITION) is retried and loses nothing; a permanent one
    (TOPIC_AUTHORIZATION_FAILED) fails the messages of the requests it answers, counted as
    failed under the error's name; the counts add up and the topic holds what was delivered,
    once each."""
    kafka = KafkaMock()
    port = free_port()
    n = 3000
    try:
        kafka.command("topic flows 3")
        d = kafka_daemon("127.0.0.1:%d" % port, kafka, topic="flows")
        send("-T", "-n", 10, "127.0.0.1:%d" % port)
        wait_counter(d, "k", "delivered", 10)
        kafka.command("produce-errors 5 6")  # NOT_LEADER_FOR_PARTITION
        send("-T", "-n", n, "--start", 10, "-r", 3000, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "k", "delivered", n + 10, timeout=90)
        assert c["failed"] == 0 and c["dropped"] == 0, c
        kafka.command("produce-errors 5 29")  # TOPIC_AUTHORIZATION_FAILED
        send("-T", "-n", n, "--start", n + 10, "-r", 3000, "127.0.0.1:%d" % port)
        c, labelled = wait_counter(d, "k", "records", 2 * n + 10)
        c, labelled = wait_counter(d, "k", "queued", 0, timeout=90)
        assert c["failed"] > 0, c
        assert labelled["TOPIC_AUTHORIZATION_FAILED"]["records"] == c["failed"], labelled
        assert "NOT_LEADER_FOR_PARTITION" not in labelled, labelled
        assert c["delivered"] + c["failed"] == 2 * n + 10 and c["dropped"] == c["failed"], c
        d.stop()
        records = [json.loads(l) for l in kafka.consume("flows").splitlines()]
        assert len(records) == c["delivered"], (len(records), c)
        assert len({r["octetDeltaCount"] for r in records}) == len(records)  # none twice
    finally:
        kafka.stop()


def check_refused(body, msg, files=None):
    tmp = tempfile.mkdtemp(prefix="ixdkafka-")
    for name, (text, mode) in (files or {}).items():
        with open(os.path.join(tmp, name), "w") as f:
            f.write(text)
        os.chmod(os.path.join(tmp, name), mode)
    path = os.path.join(tmp, "c.yaml")
    with open(path, "w") as f:
        f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                "outputs:\n  - name: k\n    type: kafka\n    brokers: 'b:9092'\n" +
                body.replace("TMP", tmp))
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    if msg is None:
        assert r.returncode == 0, r.stderr
    else:
        assert r.returncode != 0 and msg in r.stderr, r.stderr


def test_config_checks():
    check_refused("    acks: 1\n", "idempotence (on unless idempotence: false) requires acks: all")
    check_refused("    acks: 1\n    idempotence: false\n", None)
    check_refused("    topic: 'a/b'\n", "topic: '/' cannot appear in this name")
    check_refused("    topic: 'x-{port}'\n", "'{port}' is not a placeholder")
    check_refused("    properties: {bootstrap.servers: 'x:1'}\n", "set by the output's own keys")
    check_refused("    properties: {no.such.thing: 1}\n", "librdkafka refuses no.such.thing")
    check_refused("    properties: {linger.ms: 20, sasl.password: {file: TMP/pw}}\n", None,
                  {"pw": ("secret\n", 0o600)})
    check_refused("    properties: {sasl.password: {file: TMP/pw}}\n", "readable by others",
                  {"pw": ("secret\n", 0o644)})


if __name__ == "__main__":
    run([test_json_every_record_ipv6_topic, test_ipfix_messages_decode_alone,
         test_outage_within_the_queue_loses_nothing, test_outage_past_the_queue_counts_every_drop,
         test_broker_errors_are_retried_or_counted_by_name, test_config_checks])
