"""The systemd notify protocol, received the way systemd receives it: on a unix datagram socket
named by $NOTIFY_SOCKET (a path, then an abstract "@name"), with the sender's credentials."""
import os
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "integration"))
import ixdtest  # noqa: E402

SLOW = ixdtest.SLOW


class Listener:
    """A unix datagram socket like systemd's notify socket, passing the sender's pid."""

    def __init__(self, name):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.bind("\0" + name[1:] if name.startswith("@") else name)
        self.name = name

    def recv(self, timeout):
        """(message dict, sender pid, monotonic arrival) or None on timeout."""
        self.sock.settimeout(timeout)
        try:
            data, anc, _, _ = self.sock.recvmsg(4096, socket.CMSG_SPACE(12))
        except socket.timeout:
            return None
        pid = None
        for level, typ, cdata in anc:
            if level == socket.SOL_SOCKET and typ == socket.SCM_CREDENTIALS:
                pid = struct.unpack("iII", cdata[:12])[0]
        text = data.decode()
        fields = dict(line.split("=", 1) for line in text.split("\n") if line)
        return fields, pid, time.monotonic()

    def wait_for(self, key, timeout, seen):
        """Reads until a message holds key; every message read is appended to seen."""
        deadline = time.monotonic() + timeout * SLOW
        while time.monotonic() < deadline:
            m = self.recv(max(0.01, deadline - time.monotonic()))
            if m is None:
                break
            seen.append(m)
            if key in m[0]:
                return m
        raise AssertionError("no %s within %ss; got %r" % (key, timeout, [s[0] for s in seen]))

    def close(self):
        self.sock.close()


def start(tmp, env_extra):
    port = ixdtest.free_port()
    cfg = os.path.join(tmp, "ipfixd.yaml")
    with open(cfg, "w") as f:
        f.write("state-directory: %s\napi:\n  enabled: false\n%s" % (
            os.path.join(tmp, "state"), ixdtest.udp_tcp_config(port, os.path.join(tmp, "out.json"))))
    env = dict(os.environ)
    env.update(env_extra)
    log = open(os.path.join(tmp, "ipfixd.log"), "wb")
    proc = subprocess.Popen([ixdtest.BIN, "-c", cfg], stdout=subprocess.DEVNULL, stderr=log, env=env)
    return proc, os.path.join(tmp, "ipfixd.log")


def read_log(path):
    with open(path, errors="replace") as f:
        return f.read()


def stop(proc, log):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    rc = proc.wait(timeout=30 * SLOW)
    assert rc == 0, "ipfixd exited with %d:\n%s" % (rc, read_log(log))


def test_path_socket_full_cycle():
    tmp = tempfile.mkdtemp(prefix="ixdnotify-")
    lst = Listener(os.path.join(tmp, "notify.sock"))
    watchdog_usec = 200000  # pings every 0.1 s
    proc, log = start(tmp, {"NOTIFY_SOCKET": lst.name, "WATCHDOG_USEC": str(watchdog_usec)})
    seen = []
    try:
        fields, pid, _ = lst.wait_for("READY", 20, seen)
        assert fields["READY"] == "1", fields
        assert pid == proc.pid, "READY=1 from pid %s, not the main pid %s" % (pid, proc.pid)
        assert fields.get("STATUS", "").startswith("collecting: "), fields
        assert "2 collectors" in fields["STATUS"], fields
        # READY=1 comes once the listeners are bound: the log says so before it
        assert read_log(log).count("listening on") >= 2, read_log(log)

        # WATCHDOG=1 at half of WATCHDOG_USEC: about 10 in a second
        pings = []
        deadline = time.monotonic() + 1.0
        while time.monotonic() < deadline:
            m = lst.recv(1.0)
            if m is None:
                break
            if m[0].get("WATCHDOG") == "1":
                pings.append(m[2])
                assert m[1] == proc.pid
        assert len(pings) >= 5, "only %d watchdog pings in 1 s" % len(pings)
        gaps = [b - a for a, b in zip(pings, pings[1:])]
        assert max(gaps) < watchdog_usec / 1e6 * SLOW, "a watchdog gap of %.3f s" % max(gaps)

        # SIGHUP: RELOADING=1 with MONOTONIC_USEC (CLOCK_MONOTONIC, as systemd reads it), READY=1
        before = time.clock_gettime(time.CLOCK_MONOTONIC)
        proc.send_signal(signal.SIGHUP)
        seen = []
        fields, pid, _ = lst.wait_for("RELOADING", 20, seen)
        after = time.clock_gettime(time.CLOCK_MONOTONIC)
        assert fields["RELOADING"] == "1" and pid == proc.pid, fields
        usec = int(fields["MONOTONIC_USEC"])
        assert before * 1e6 - 1000 <= usec <= after * 1e6 + 1000, (before, usec, after)
        fields, _, _ = lst.wait_for("READY", 20, seen)
        assert fields["READY"] == "1", fields
        assert "reloaded" in read_log(log), read_log(log)

        # a config with errors: the reload is refused, and systemd still hears READY=1
        cfg = os.path.join(tmp, "ipfixd.yaml")
        good = open(cfg).read()
        with open(cfg, "w") as f:
            f.write(good + "\nbogus-key: 1\n")
        proc.send_signal(signal.SIGHUP)
        seen = []
        lst.wait_for("RELOADING", 20, seen)
        lst.wait_for("READY", 20, seen)
        assert "reload refused" in read_log(log)

        # SIGTERM: STOPPING=1, and no more watchdog pings after it
        proc.send_signal(signal.SIGTERM)
        seen = []
        fields, pid, _ = lst.wait_for("STOPPING", 20, seen)
        assert fields["STOPPING"] == "1" and pid == proc.pid, fields
        stop(proc, log)
        rest = []
        while True:
            m = lst.recv(0.3)
            if m is None:
                break
            rest.append(m[0])
        assert not any("WATCHDOG" in r for r in rest), rest
    finally:
        if proc.poll() is None:
            proc.kill()
        lst.close()


def test_abstract_socket_and_foreign_watchdog():
    tmp = tempfile.mkdtemp(prefix="ixdnotify-")
    name = "@ixdtest-notify-%d" % os.getpid()
    lst = Listener(name)
    # WATCHDOG_PID names another process: this one must not ping
    proc, log = start(tmp, {"NOTIFY_SOCKET": name, "WATCHDOG_USEC": "100000",
                            "WATCHDOG_PID": str(os.getpid())})
    seen = []
    try:
        fields, pid, _ = lst.wait_for("READY", 20, seen)
        assert pid == proc.pid
        extra = []
        deadline = time.monotonic() + 0.5
        while time.monotonic() < deadline:
            m = lst.recv(0.5)
            if m is None:
                break
            extra.append(m[0])
        assert not any("WATCHDOG" in e for e in extra), extra
        proc.send_signal(signal.SIGTERM)
        lst.wait_for("STOPPING", 20, seen)
        stop(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()
        lst.close()


def test_no_notify_socket():
    """Outside systemd nothing changes: the daemon starts and stops as before."""
    tmp = tempfile.mkdtemp(prefix="ixdnotify-")
    os.environ.pop("NOTIFY_SOCKET", None)
    proc, log = start(tmp, {})
    try:
        deadline = time.monotonic() + 20 * SLOW
        while read_log(log).count("listening on") < 2 and time.monotonic() < deadline:
            assert proc.poll() is None, read_log(log)
            time.sleep(0.05)
        assert "notify:" not in read_log(log)
        stop(proc, log)
    finally:
        if proc.poll() is None:
            proc.kill()


if __name__ == "__main__":
    for name, fn in list(globals().items()):
        if name.startswith("test_") and callable(fn):
            fn()
            print("ok", name)
