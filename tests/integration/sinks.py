"""Helpers of the sink tests: the servers they start (a Kafka mock cluster, ClickHouse, s3rver)
and the output counters ipfixd logs."""
import os
import re
import signal
import subprocess
import sys
import time

from ixdtest import SLOW

KAFKA_MOCK = os.environ.get("IXD_KAFKA_MOCK", "build/tests/kafka_mock")
SKIP = 77  # ctest's SKIP_RETURN_CODE


def output_counters(log, name, when="stats"):
    """{key: int} of the last '<when> output NAME: k=v ...' line, and {label value: {key: int}}
    of the labelled lines after it."""
    plain, labelled = {}, {}
    for m in re.finditer(r"%s output %s(?: (\w+) (\S+))?: (.*)" % (when, re.escape(name)), log):
        vals = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m.group(3))}
        if m.group(1) is None:
            plain, labelled = vals, {}
        else:
            labelled[m.group(2)] = vals
    return plain, labelled


def stats(d, name):
    """SIGUSR1, then the output's counters as output_counters() reads them."""
    before = d.log().count("stats output %s:" % name)
    d.signal(signal.SIGUSR1)
    d.wait_log(r"stats output %s:" % re.escape(name), count=before + 1)
    time.sleep(0.1)
    return output_counters(d.log(), name)


def wait_counter(d, name, key, want, timeout=60.0, at_least=False):
    """Polls the output's counters until key reaches want; returns them."""
    deadline = time.time() + timeout * SLOW
    c = {}
    while time.time() < deadline:
        c, labelled = stats(d, name)
        if c.get(key) == want or (at_least and c.get(key, 0) >= want):
            return c, labelled
        time.sleep(0.3)
    raise AssertionError("output %s: %s never reached %d: %s" % (name, key, want, c))


class KafkaMock:
    """librdkafka's mock cluster of 3 brokers (tests/helpers/kafka_mock.c), its own process."""

    def __init__(self):
        self.proc = subprocess.Popen([KAFKA_MOCK], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.DEVNULL, text=True, bufsize=1)
        self.bootstrap = self.proc.stdout.readline().strip()
        assert re.match(r"^127\.0\.0\.1:\d+(,127\.0\.0\.1:\d+){2}$", self.bootstrap), \
            "the mock cluster printed %r" % self.bootstrap

    def command(self, line):
        self.proc.stdin.write(line + "\n")
        answer = self.proc.stdout.readline().strip()
        assert answer == "ok", "mock cluster: %s: %s" % (line, answer)

    def consume(self, topic, fmt="%s\\n", binary=False):
        """Everything in topic from the beginning, as kcat -C prints it with format fmt."""
        r = subprocess.run(["kcat", "-C", "-b", self.bootstrap, "-t", topic, "-e", "-q",
                            "-f", fmt], capture_output=True, timeout=120 * SLOW)
        assert r.returncode == 0, "kcat failed: %s" % r.stderr.decode(errors="replace")
        return r.stdout if binary else r.stdout.decode()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)
