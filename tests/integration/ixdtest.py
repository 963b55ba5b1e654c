"""Shared helpers for the integration tests: start the real ipfixd, feed it, read what it wrote."""
import atexit
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

BIN = os.environ.get("IXD_BIN", "build/src/ipfixd")
SEND = os.environ.get("IXD_SEND", "build/src/tools/ipfixd-send")
CORPUS = os.environ.get("IXD_CORPUS", os.path.join(os.path.dirname(__file__), "../../../shared/corpus"))
# The sanitizer build is several times slower: tests scale their loads by this factor.
SLOW = float(os.environ.get("IXD_SLOW", "1"))


def free_port():
    """A port free for both UDP and TCP on the loopback and wildcard addresses."""
    for _ in range(100):
        u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        u.bind(("::", 0))
        port = u.getsockname()[1]
        t = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
        try:
            t.bind(("::", port))
        except OSError:
            continue
        finally:
            t.close()
            u.close()
        return port
    raise RuntimeError("no free port")


def free_tcp_port():
    """A TCP port free on 127.0.0.1 (the API's)."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


_udp_sources_used = set()


def fresh_udp_socket(addr="127.0.0.1"):
    """A UDP socket bound to a source port no earlier call in this process returned.

    ipfixd keeps a UDP transport session per (address, port, domain) after the exporter's socket
    is gone, so a test that reads "one socket = one new exporter session" (its templates, its
    sequence numbers, its records found by source port) must not get a port an earlier socket
    had: the kernel hands ephemeral ports out again at random."""
    rejected = []
    while True:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind((addr, 0))
        port = s.getsockname()[1]
        if (addr, port) not in _udp_sources_used:
            break
        rejected.append(s)  # held open until a fresh port comes, so it is not handed out again
    for r in rejected:
        r.close()
    _udp_sources_used.add((addr, port))
    return s


def udp_tcp_config(port, out, extra_collector="", workers=2):
    """Collectors "u" (UDP) and "t" (TCP) on 127.0.0.1:port, JSON lines to out."""
    return f"""
workers: {workers}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
  - name: t
    transport: tcp
    listen: "127.0.0.1:{port}"
{extra_collector}
outputs:
  - name: file
    type: json
    path: "{out}"
"""


# the directories of daemons that stopped cleanly, removed when the test script exits (a
# failing test's daemon keeps its directory, log and config for a look)
_stopped_dirs = []
atexit.register(lambda: [shutil.rmtree(d, ignore_errors=True) for d in _stopped_dirs])


class Daemon:
    """ipfixd running on a temporary config (or with no arguments when config is None)."""

    def __init__(self, config=None, args=None, stdout=None, expect_collectors=None,
                 preexec=None):
        """preexec: called in the child before ipfixd starts (e.g. to set a resource limit)."""
        self.dir = tempfile.mkdtemp(prefix="ixdtest-")
        os.chmod(self.dir, 0o755)  # a config with user: is read as that user
        self.log_path = os.path.join(self.dir, "ipfixd.log")
        self.config_path = None
        cmd = [BIN]
        if config is not None:
            # every test keeps its saved templates to itself
            if "state-directory:" not in config:
                config = "state-directory: %s\n%s" % (os.path.join(self.dir, "state"), config)
            # the API's default port is one for the whole machine: tests that want it say so
            if not re.search(r"^api:", config, re.M):
                config = "api: {enabled: false}\n" + config
            self.config_path = os.path.join(self.dir, "ipfixd.yaml")
            self.write_config(config)
            cmd += ["-c", self.config_path]
        cmd += args or []
        self.stdout_path = stdout
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        self.log_file = open(self.log_path, "wb")
        self.proc = subprocess.Popen(cmd, stdout=out, stderr=self.log_file, preexec_fn=preexec)
        if stdout:
            out.close()
        n = expect_collectors
        if n is None:
            n = config.count("transport:") if config else 2
        self.wait_log(r"listening on", count=n)

    def write_config(self, text):
        with open(self.config_path, "w") as f:
            f.write(text)

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def wait_log(self, pattern, count=1, timeout=20.0):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            text = self.log()
            if len(re.findall(pattern, text)) >= count:
                return text
            if self.proc.poll() is not None:
                raise AssertionError("ipfixd exited (%s) while waiting for %r:\n%s"
                                     % (self.proc.returncode, pattern, text))
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %r in the log:\n%s" % (pattern, self.log()))

    def signal(self, sig):
        self.proc.send_signal(sig)

    def alive(self):
        return self.proc.poll() is None

    def stats(self, timeout=10.0):
        """Sends SIGUSR1 and returns {collector: {counter: value}} from the lines it logs."""
        before = len(re.findall(r"stats collector", self.log()))
        n = len(re.findall(r"listening on", self.log()))
        self.signal(signal.SIGUSR1)
        text = self.wait_log(r"stats collector", count=before + 1, timeout=timeout)
        time.sleep(0.1)
        return parse_summary(self.log(), "stats")

    def stop(self, timeout=30.0):
        """SIGTERM, wait, and return the final per-collector counters."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("ipfixd did not stop within %ss:\n%s" % (timeout, self.log()))
        self.log_file.close()
        text = self.log()
        if rc != 0:
            raise AssertionError("ipfixd exited with %d:\n%s" % (rc, text))
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            if bad in text:
                raise AssertionError("sanitizer report:\n" + text)
        _stopped_dirs.append(self.dir)
        return parse_summary(text, "final")


def parse_summary(text, when):
    """{collector: {key: int}} from the last '<when> collector NAME: k=v ...' lines."""
    out = {}
    for m in re.finditer(r"%s collector (\S+): (.*)" % when, text):
        if " exporter " in m.group(0):
            continue
        vals = {}
        for k, v in re.findall(r"(\w+)=(\d+)", m.group(2)):
            vals[k] = int(v)
        out[m.group(1)] = vals
    return out


def read_json_lines(path):
    with open(path, "rb") as f:
        data = f.read()
    lines = data.split(b"\n")
    assert lines[-1] == b"", "output does not end with a newline"
    return [json.loads(l) for l in lines[:-1]]


def wait_lines(path, n, timeout=30.0):
    """Waits until the file holds at least n lines; returns the count seen."""
    deadline = time.time() + timeout * SLOW
    seen = 0
    while time.time() < deadline:
        try:
            with open(path, "rb") as f:
                seen = f.read().count(b"\n")
        except FileNotFoundError:
            seen = 0
        if seen >= n:
            return seen
        time.sleep(0.05)
    return seen


def send(*args, check=True):
    """Runs ipfixd-send with the given arguments."""
    r = subprocess.run([SEND, "-q"] + [str(a) for a in args], capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("ipfixd-send %s failed (%d): %s" % (args, r.returncode, r.stderr))
    return r


def expected_v4(k):
    """The values ipfixd-send puts in synthetic IPv4 record k, as ipfixd writes them in JSON."""
    def ms(v):
        sec, milli = divmod(v, 1000)
        return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(sec)) + ".%03dZ" % milli
    return {
        "sourceIPv4Address": "10.%d.%d.%d" % ((k >> 16) & 255, (k >> 8) & 255, k & 255),
        "destinationIPv4Address": "192.168.%d.%d" % ((k >> 8) & 255, k & 255),
        "sourceTransportPort": 1024 + k % 60000,
        "destinationTransportPort": k % 1000,
        "protocolIdentifier": 6 if k % 2 == 0 else 17,
        "tcpControlBits": k & 0x3F,
        "ipClassOfService": k & 0xFF,
        "ingressInterface": k % 100,
        "egressInterface": 100 + k % 50,
        "packetDeltaCount": 1 + k % 1000,
        "octetDeltaCount": k,
        "flowStartMilliseconds": ms(1700000000000 + k),
        "flowEndMilliseconds": ms(1700000000000 + k + 1000),
        "ipNextHopIPv4Address": "172.16.%d.%d" % ((k >> 8) & 255, k & 255),
        "bgpSourceAsNumber": 64512 + k % 1000,
    }


def expected_v6(k):
    import ipaddress
    e = expected_v4(k)
    for key in ("sourceIPv4Address", "destinationIPv4Address", "ipNextHopIPv4Address"):
        del e[key]
    e["sourceIPv6Address"] = str(ipaddress.IPv6Address((0x20010db8 << 96) | k))
    e["destinationIPv6Address"] = str(ipaddress.IPv6Address((0x20010db8 << 96) | (1 << 80) | k))
    e["ipNextHopIPv6Address"] = str(ipaddress.IPv6Address((0xfe80 << 112) | (k & 0xffff)))
    return e


def check_synthetic(records, first, count, v6=False):
    """Every record k in [first, first+count) appears exactly once with exactly its values."""
    expect = expected_v6 if v6 else expected_v4
    seen = set()
    for r in records:
        k = r["octetDeltaCount"]
        assert first <= k < first + count, "unexpected record %r" % r
        assert k not in seen, "record %d written twice" % k
        seen.add(k)
        for key, val in expect(k).items():
            assert r.get(key) == val, "record %d: %s is %r, expected %r" % (k, key, r.get(key), val)
        for meta in ("@collector", "@exporter", "@exporter_port", "@odid", "@template", "@received"):
            assert meta in r, "record %d has no %s" % (k, meta)
    assert len(seen) == count, "%d of %d records arrived" % (len(seen), count)


def run(tests, skipped=None):
    """Runs test functions, prints 'N passed, N failed', exits non-zero on failure. skipped:
    (tests that cannot run here, why): they are named, and a run that passes exits 77 (CTest's
    SKIP_RETURN_CODE where a test sets it) instead of 0."""
    passed = failed = 0
    only = sys.argv[1:]
    for t in tests:
        if only and t.__name__ not in only:
            continue
        start = time.time()
        try:
            t()
            passed += 1
            print("ok   %s (%.1fs)" % (t.__name__, time.time() - start), flush=True)
        except Exception as e:  # report every failure, keep going
            failed += 1
            print("FAIL %s: %s" % (t.__name__, e), flush=True)
    print("%d passed, %d failed" % (passed, failed))
    if skipped is not None and skipped[0] and not failed:
        print("skipped %s: %s" % (", ".join(t.__name__ for t in skipped[0]), skipped[1]))
        sys.exit(77)
    sys.exit(1 if failed or passed == 0 else 0)
