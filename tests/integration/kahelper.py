"""ipfixd-keepalived-apply for the tests: its policy file, the helper started as a process on a
socket in a directory of the test's (no systemd here), and its protocol spoken directly, as any
local process could (src/ha/keepalived_wire.h: a 4-byte big-endian length, then JSON)."""
import json
import os
import signal
import socket
import struct
import subprocess
import sys
import time

BIN = os.environ.get("IXD_BIN", "build/src/ipfixd")
APPLY = os.environ.get("IXD_KA_APPLY",
                       os.path.join(os.path.dirname(BIN), "ipfixd-keepalived-apply"))
SLOW = float(os.environ.get("IXD_SLOW", "1"))


def policy_text(callers, config, include, backup_dir, reload=None, reload_pid_file=None,
                keepalived_bin=None, audit_log=None, pid_namespace=True, interfaces=(),
                vrids=(), addresses=(), peers=(), real_servers=(), track_scripts=(),
                scripts=()):
    """A policy file as an admin writes it (docs/ha.md#the-policy)."""
    def lst(items):
        return "[%s]" % ", ".join(str(i) for i in items)
    lines = ["callers: %s" % lst(callers), "config: %s" % config, "include: %s" % include,
             "backup-dir: %s" % backup_dir]
    if audit_log:
        lines.append("audit-log: %s" % audit_log)
    if keepalived_bin:
        lines.append("keepalived-bin: %s" % keepalived_bin)
    if reload:
        lines.append("reload: %s" % reload)
    if reload_pid_file:
        lines.append("reload-pid-file: %s" % reload_pid_file)
    lines.append("pid-namespace: %s" % ("true" if pid_namespace else "false"))
    for key, items in (("interfaces", interfaces), ("virtual-router-ids", vrids),
                       ("virtual-addresses", addresses), ("peers", peers),
                       ("real-servers", real_servers), ("track-scripts", track_scripts),
                       ("scripts", scripts)):
        lines.append("%s: %s" % (key, lst(items)))
    return "\n".join(lines) + "\n"


class Helper:
    """ipfixd-keepalived-apply -p POLICY -l SOCKET, as the user running the test (root: as in
    production). Popen's cmd_prefix: e.g. nsenter into a network namespace."""

    def __init__(self, policy, sock, log, cmd_prefix=()):
        self.policy, self.sock, self.log_path = policy, sock, log
        self.log_file = open(log, "ab")
        start = self.log_file.tell()  # a helper started before wrote here too
        self.proc = subprocess.Popen(list(cmd_prefix) + [APPLY, "-p", policy, "-l", sock],
                                     stdout=subprocess.DEVNULL, stderr=self.log_file)
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            if "listening on" in self.log()[start:]:
                return
            if self.proc.poll() is not None:
                raise AssertionError("the helper exited (%s):\n%s" % (self.proc.returncode,
                                                                      self.log()))
            time.sleep(0.02)
        raise AssertionError("the helper did not listen:\n" + self.log())

    def log(self):
        with open(self.log_path, errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            rc = self.proc.wait(timeout=30 * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            raise AssertionError("the helper did not stop:\n" + self.log())
        self.log_file.close()
        text = self.log()
        for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
            assert bad not in text, "sanitizer report in the helper's log:\n" + text
        assert rc == 0, "the helper exited with %d:\n%s" % (rc, text)
        assert not os.path.exists(self.sock), "the helper left its socket"


def frame(obj):
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode()
    return struct.pack(">I", len(data)) + data


def call(sock, obj, timeout=30.0, raw=None):
    """Sends one request (or raw bytes instead of a frame) and returns the answer (a dict), or
    None when the helper closed the connection without one."""
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.connect(sock)
        try:
            s.sendall(frame(obj) if raw is None else raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # closed before it read: the answer (none) says the rest
        data = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:  # closed with the request unread: no answer
                break
            if not chunk:
                break
            data += chunk
    finally:
        s.close()
    if len(data) < 4:
        return None
    n = struct.unpack(">I", data[:4])[0]
    assert len(data) == 4 + n, "a frame of %d bytes announced, %d came" % (n, len(data) - 4)
    return json.loads(data[4:])


# call() as a program of its own, for call_as: the test's checkout may be where another user
# cannot read it (under /root, say), so nothing is imported from it
CLIENT = r"""
import json, socket, struct, sys
path, obj, timeout, raw = sys.argv[1], json.loads(sys.argv[2]), float(sys.argv[3]), sys.argv[4]
data = json.dumps(obj).encode()
out = bytes.fromhex(raw) if raw != "-" else struct.pack(">I", len(data)) + data
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.settimeout(timeout)
s.connect(path)
try:
    s.sendall(out)
except (BrokenPipeError, ConnectionResetError):
    pass
got = b""
while True:
    try:
        chunk = s.recv(65536)
    except ConnectionResetError:  # closed with our request unread: no answer
        break
    if not chunk:
        break
    got += chunk
print(json.dumps(json.loads(got[4:]) if len(got) >= 4 else None))
"""


def python_for_others():
    """A Python another user may run: this one unless it sits under a closed directory (a
    pyenv under /root), else the system's."""
    path = os.path.realpath(sys.executable)
    d = path
    while d != "/":
        if not os.stat(d).st_mode & 0o001:
            return "/usr/bin/python3"
        d = os.path.dirname(d)
    return path


def call_as(uid, gid, sock, obj, timeout=30.0, raw=None):
    """call() from a process of its own running as uid/gid (a compromised ipfixd, or another
    local user): the helper sees that uid by SO_PEERCRED."""
    def drop():
        os.setgroups([])
        os.setgid(gid)
        os.setuid(uid)
    r = subprocess.run([python_for_others(), "-c", CLIENT, sock, json.dumps(obj), str(timeout),
                        raw.hex() if raw is not None else "-"],
                       capture_output=True, text=True, preexec_fn=drop, cwd="/",
                       timeout=timeout + 10)
    assert r.returncode == 0, r.stderr
    return json.loads(r.stdout)


def audit_lines(path):
    if not os.path.exists(path):
        return []
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]
