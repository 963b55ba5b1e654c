"""Helpers of the sink tests: the servers they start (a Kafka mock cluster, ClickHouse, s3rver)
and the output counters ipfixd logs."""
import os
import re
import signal
import subprocess
import time

from ixdtest import SLOW

KAFKA_MOCK = os.environ.get("IXD_KAFKA_MOCK", "build/tests/kafka_mock")


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

    def follow(self, topic, fmt="%s\\n"):
        """A kcat consumer reading topic from the beginning while it is produced: the mock
        cluster keeps only the last few MB of a partition, so a large run is read as it goes.
        Returns (process, path of what it printed)."""
        import tempfile
        fd, path = tempfile.mkstemp(prefix="ixdkcat-")
        proc = subprocess.Popen(["kcat", "-C", "-b", self.bootstrap, "-t", topic, "-o",
                                 "beginning", "-q", "-f", fmt], stdout=fd,
                                stderr=subprocess.DEVNULL)
        os.close(fd)
        return proc, path

    @staticmethod
    def settle(proc, path, quiet=3.0):
        """Stops a follow() consumer once what it printed has not grown for `quiet` seconds;
        returns the bytes."""
        last, since = -1, time.time()
        while time.time() - since < quiet * SLOW:
            size = os.path.getsize(path)
            if size != last:
                last, since = size, time.time()
            time.sleep(0.2)
        proc.terminate()
        proc.wait(timeout=10)
        with open(path, "rb") as f:
            data = f.read()
        os.unlink(path)
        return data

    def stop(self):
        if self.proc.poll() is None:
            self.proc.stdin.write("quit\n")
            self.proc.stdin.close()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def free_ports(n):
    """n TCP ports free on 127.0.0.1, held until all are found so none repeats."""
    import socket
    held = []
    for _ in range(n):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        held.append(s)
    ports = [s.getsockname()[1] for s in held]
    for s in held:
        s.close()
    return ports


CLICKHOUSE_CONFIG = """<?xml version="1.0"?>
<yandex>
  <logger><level>warning</level><log>{dir}/server.log</log><errorlog>{dir}/error.log</errorlog>
  </logger>
  <listen_host>127.0.0.1</listen_host>
  <http_port>{http}</http_port>
  <tcp_port>{tcp}</tcp_port>
  <interserver_http_port>{inter}</interserver_http_port>
  <path>{dir}/data/</path>
  <tmp_path>{dir}/tmp/</tmp_path>
  <user_files_path>{dir}/user_files/</user_files_path>
  <format_schema_path>{dir}/format_schemas/</format_schema_path>
  <users_config>users.xml</users_config>
  <default_profile>default</default_profile>
  <default_database>default</default_database>
  <mark_cache_size>5368709</mark_cache_size>
  <shutdown_wait_unfinished>0</shutdown_wait_unfinished>
  <remote_servers>{clusters}</remote_servers>
</yandex>
"""

CLICKHOUSE_USERS = """<?xml version="1.0"?>
<yandex>
  <profiles><default></default></profiles>
  <users>
    <default><password></password><networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota></default>
    <ipfixd><password>{password}</password><networks><ip>127.0.0.1</ip></networks>
      <profile>default</profile><quota>default</quota></ipfixd>
  </users>
  <quotas><default></default></quotas>
</yandex>
"""


class ClickHouse:
    """Debian's clickhouse-server from a temporary config directory on spare ports, its own
    process (no systemd); stop() and start() again keep its data."""

    def __init__(self, clusters="", password="s3cret-pw"):
        import shutil
        import tempfile
        if shutil.which("clickhouse-server") is None:
            raise AssertionError("clickhouse-server is missing: run scripts/install-deps.sh "
                                 "--test (Debian package clickhouse-server)")
        self.dir = tempfile.mkdtemp(prefix="ixdch-")
        self.http, self.tcp, inter = free_ports(3)
        self.password = password
        with open(os.path.join(self.dir, "config.xml"), "w") as f:
            f.write(CLICKHOUSE_CONFIG.format(dir=self.dir, http=self.http, tcp=self.tcp,
                                             inter=inter, clusters=clusters))
        with open(os.path.join(self.dir, "users.xml"), "w") as f:
            f.write(CLICKHOUSE_USERS.format(password=password))
        self.proc = None
        self.start()

    @property
    def url(self):
        return "http://127.0.0.1:%d" % self.http

    def start(self):
        import urllib.request
        self.proc = subprocess.Popen(["clickhouse-server", "--config-file",
                                      os.path.join(self.dir, "config.xml")],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                     cwd=self.dir)
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            try:
                with urllib.request.urlopen(self.url + "/ping", timeout=1) as r:
                    if r.read() == b"Ok.\n":
                        return
            except OSError:
                time.sleep(0.05)
            assert self.proc.poll() is None, "clickhouse-server exited: %s" % self.log()
        raise AssertionError("clickhouse-server did not answer /ping: %s" % self.log())

    def log(self):
        try:
            with open(os.path.join(self.dir, "error.log")) as f:
                return f.read()[-2000:]
        except OSError:
            return ""

    def stop(self, kill=False):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def query(self, sql, data=None):
        """The answer's text; raises with ClickHouse's message on an error."""
        import urllib.error
        import urllib.parse
        import urllib.request
        url = self.url + "/?query=" + urllib.parse.quote(sql) if data is not None else self.url
        body = data if data is not None else sql.encode()
        try:
            with urllib.request.urlopen(urllib.request.Request(url, data=body), timeout=60) as r:
                return r.read().decode()
        except urllib.error.HTTPError as e:
            raise AssertionError("ClickHouse: %s: %s" % (sql, e.read().decode()[:500]))

    def execute_script(self, text):
        """Runs each statement of a script (clickhouse-schema's output)."""
        for stmt in text.split(";"):
            stmt = "\n".join(l for l in stmt.splitlines() if not l.startswith("--")).strip()
            if stmt:
                self.query(stmt)


S3RVER_MISSING = ("s3rver is missing: scripts/install-deps.sh --test installs it from the npm "
                  "registry (or set IXD_S3RVER)")


def s3rver_path():
    """The s3rver command (npm) that scripts/install-deps.sh --test installs, or $IXD_S3RVER;
    None when neither is there. The tests fetch nothing themselves."""
    import shutil
    return os.environ.get("IXD_S3RVER") or shutil.which("s3rver")


def s3rver_bin():
    binary = s3rver_path()
    if binary is None:
        raise AssertionError(S3RVER_MISSING)
    return binary


class S3rver:
    """The npm package s3rver on a spare port, its own process, with one bucket. It checks
    signatures against its default keys S3RVER/S3RVER."""
    KEY_ID = SECRET = "S3RVER"

    def __init__(self, bucket="archive", port=None):
        import tempfile
        self.bin = s3rver_bin()
        self.dir = tempfile.mkdtemp(prefix="ixds3-")
        self.port = port or free_ports(1)[0]
        self.bucket = bucket
        self.proc = None
        self.start()

    @property
    def endpoint(self):
        return "http://127.0.0.1:%d" % self.port

    def start(self):
        import socket
        self.proc = subprocess.Popen([self.bin, "-d", self.dir, "-a", "127.0.0.1", "-p",
                                      str(self.port), "--silent", "--configure-bucket",
                                      self.bucket], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
            assert self.proc.poll() is None, "s3rver exited"
        raise AssertionError("s3rver did not listen")

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=10)
        self.proc = None

    def objects(self):
        """{key: bytes} of every object in the bucket, read from s3rver's directory."""
        out = {}
        root = os.path.join(self.dir, self.bucket)
        for d, _, files in os.walk(root):
            for f in files:
                if f.endswith("._S3rver_object"):
                    key = os.path.relpath(os.path.join(d, f), root)[:-len("._S3rver_object")]
                    with open(os.path.join(d, f), "rb") as fh:
                        out[key] = fh.read()
        return out
