"""Failover of an ipfixd HA pair behind a keepalived virtual IP, in network namespaces
(docs/ha.md). A bridge joins three namespaces: collector hosts A (10.77.0.1) and B (10.77.0.2),
each running keepalived (deploy/keepalived/keepalived-{a,b}.conf) and ipfixd
(config/examples/ha-{a,b}.yaml, templates shared), and an exporter host (10.77.0.10) that sends
IPFIX over UDP to the virtual IP 10.77.0.100 at a steady rate from one source port, its template
once at the start, and a TCP exporter that reconnects to the virtual IP when its connection dies.

Each host's VRRP instance reaches keepalived through ipfixd's API and the root helper
ipfixd-keepalived-apply (docs/ha.md#keepalived-over-rest), as with ha.keepalived.manage: true:
keepalived starts from the example's keepalived.conf without its vrrp_instance and an empty
include; the instance, as the API's model, is PUT to that host's ipfixd, whose helper (run as
root with deploy/keepalived/keepalived-apply.yaml, its paths substituted) checks it, runs
keepalived -t, installs the include and reloads keepalived. Only then does A take the virtual IP
and B become its backup.

Two runs: the active ipfixd is killed (its health check fails, keepalived moves the virtual IP),
then the whole active host (all its processes killed and its link cut, as when it loses power).
Each run asserts that the virtual IP moves within 5 s, that B decodes from the first datagram it
gets (no held data, no late or template-less records), that every record sent is decoded by A
or B or counted lost by B's sequence accounting, and that the TCP exporter's records after its
reconnection are decoded; and prints the measured times.

Needs root (namespaces, keepalived); exits 77 (skipped) otherwise. Run alone: it owns the
names ixdfo-* and the addresses 10.77.0.0/24 inside its namespaces."""
import hashlib
import json
import os
import re
import shutil
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))

import ipfix  # noqa: E402
import kahelper  # noqa: E402
from deploytest import BIN, SOURCE, need, skip  # noqa: E402

SEND = os.environ.get("IXD_SEND", os.path.join(os.path.dirname(BIN), "tools", "ipfixd-send"))
SLOW = float(os.environ.get("IXD_SLOW", "1"))

PREFIX = "ixdfo"
BRIDGE = PREFIX + "-br"
HOSTS = {"a": "10.77.0.1", "b": "10.77.0.2", "e": "10.77.0.10"}
VIP = "10.77.0.100"
PORT = 4739

UDP_RATE = 2000          # records/s from the UDP exporter
UDP_PER_MESSAGE = 10     # records per datagram
RUN_SECONDS = 12         # how long both exporters send
KILL_AFTER = 4.0         # seconds after the exporters start
TCP_RATE = 200           # records/s from the TCP exporter
VIP_MOVE_LIMIT = 5.0     # seconds, the figure

KEEPALIVED_DIR = os.path.join(SOURCE, "deploy", "keepalived")
NOTIFY = os.path.join(KEEPALIVED_DIR, "ipfixd-notify.sh")
NOTIFY_ROLE_FILE = "ROLE_FILE=/var/lib/ipfixd/ha-role\n"  # the hook's one configured file
EXAMPLES = os.path.join(SOURCE, "config", "examples")
POLICY = os.path.join(KEEPALIVED_DIR, "keepalived-apply.yaml")
ADMIN = "admin-token-failover-0123456789"
INSTANCE_RE = re.compile(r"^vrrp_instance \S+ \{\n.*?^\}\n", re.S | re.M)


def in_ns(name):
    """Runs a command in network namespace name. nsenter switches only the network namespace:
    `ip netns exec` also remounts / and /sys, which a chroot (no mount point at /) refuses."""
    return ["nsenter", "--net=/run/netns/" + name]

def ns(host):
    return "%s-%s" % (PREFIX, host)


def sh(cmd, check=True):
    r = subprocess.run(cmd, capture_output=True, text=True)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                       r.stderr))
    return r


# ---------------------------------------------------------------------------------------------
# The configs: the shipped examples with this machine's paths.

def ipfixd_config(host, key, state):
    """config/examples/ha-<host>.yaml with the key file and state directory substituted."""
    with open(os.path.join(EXAMPLES, "ha-%s.yaml" % host)) as f:
        text = f.read()
    text = text.replace("key-file: /etc/ipfixd/ha.key", "key-file: %s" % key)
    text = text.replace("state-directory: /var/lib/ipfixd", "state-directory: %s" % state)
    assert key in text and state in text, "ha-%s.yaml no longer has the lines replaced" % host
    return text


def tool_dir():
    """A new directory for what keepalived runs: this tree's ipfixd (the health check, which
    runs as the script user nobody) and notify hooks. Not the checkout: a clone may sit where
    nobody cannot reach it (root's home or a mktemp -d directory, both 0700; keepalived then
    says "Disabling track script ... since not found/accessible"), or be writable by a group
    (cloned with umask 002), which enable_script_security refuses. So: root's, mode 0755, in
    /tmp, whose sticky bit keepalived accepts. The caller removes it."""
    path = tempfile.mkdtemp(prefix="ixdka-bin-", dir="/tmp")
    os.chmod(path, 0o755)
    d = path
    while True:
        st = os.stat(d)
        assert st.st_uid == 0 and st.st_mode & 0o001, "%s: not root's or closed to others" % d
        assert not st.st_mode & 0o022 or st.st_mode & 0o1000, "%s: others may write it" % d
        if d == "/":
            return path
        d = os.path.dirname(d)


def install(tools, name, data):
    """data as tools/name, root's, mode 0755 whatever the umask."""
    path = os.path.join(tools, name)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o700)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o755)
    return path


def install_ipfixd(tools):
    """This tree's ipfixd in tools, for keepalived's health check."""
    with open(os.path.abspath(BIN), "rb") as f:
        return install(tools, "ipfixd", f.read())


def install_hook(tools, name, role_file):
    """deploy/keepalived/ipfixd-notify.sh as tools/name, its ROLE_FILE line set to role_file
    (the hook writes no other file), as an admin installs it."""
    with open(NOTIFY) as f:
        text = f.read()
    assert text.count(NOTIFY_ROLE_FILE) == 1, "the hook has no line %r" % NOTIFY_ROLE_FILE
    assert re.fullmatch(r"[\w/.-]+", role_file), role_file
    text = text.replace(NOTIFY_ROLE_FILE, "ROLE_FILE=%s\n" % role_file)
    return install(tools, name, text.encode())


def keepalived_config(host, ipfixd, hook):
    """deploy/keepalived/keepalived-<host>.conf with ipfixd and hook (installed by
    install_ipfixd and install_hook) in place of the installed paths."""
    with open(os.path.join(KEEPALIVED_DIR, "keepalived-%s.conf" % host)) as f:
        text = f.read()
    n = text.count("/usr/sbin/ipfixd ")
    text = text.replace("/usr/sbin/ipfixd ", ipfixd + " ")
    for role in ("MASTER", "BACKUP", "FAULT", "STOP"):
        old = '"/etc/keepalived/ipfixd-notify.sh %s"' % role
        assert old in text, "keepalived-%s.conf has no %s" % (host, old)
        text = text.replace(old, '"%s %s"' % (hook, role))
    assert n == 1, "keepalived-%s.conf: expected one /usr/sbin/ipfixd" % host
    return text


def block(text, key):
    """The lines of the block `key {...}` inside text (one level), stripped."""
    m = re.search(r"^\s*%s\s*\{\n(.*?)^\s*\}" % key, text, re.S | re.M)
    return [line.strip() for line in m.group(1).splitlines() if line.strip()] if m else []


def instance_model(text):
    """The vrrp_instance of a keepalived example as the API's model (docs/api.md). Its notify
    lines end in "root root", which the model cannot say: the helper's policy does."""
    one = lambda key: re.search(r"^\s*%s\s+(\S+)" % key, text, re.M).group(1)  # noqa: E731
    vips = []
    for line in block(text, "virtual_ipaddress"):
        w = line.split()
        vips.append({"address": w[0], "dev": w[2]} if len(w) == 3 and w[1] == "dev"
                    else {"address": w[0]})
    model = {"name": re.search(r"^vrrp_instance (\S+)", text, re.M).group(1),
             "state": one("state"), "interface": one("interface"),
             "virtual_router_id": int(one("virtual_router_id")),
             "priority": int(one("priority")), "advert_int": float(one("advert_int")),
             "nopreempt": bool(re.search(r"^\s*nopreempt\s*$", text, re.M)),
             "unicast_src_ip": one("unicast_src_ip"),
             "unicast_peer": block(text, "unicast_peer"), "virtual_ipaddress": vips,
             "track_script": block(text, "track_script")}
    for role in ("MASTER", "BACKUP", "FAULT", "STOP"):
        m = re.search(r'^\s*notify_%s "(\S+ %s)" root root$' % (role.lower(), role), text, re.M)
        assert m, "no notify_%s ... root root" % role.lower()
        model["notify_" + role.lower()] = m.group(1)
    return {"instances": [model]}


def split_keepalived(host, ipfixd, hook, include):
    """keepalived-<host>.conf (with this tree's paths) split as docs/ha.md#the-helper says: root
    keeps global_defs and vrrp_script and includes `include`; the vrrp_instance becomes the
    API's model. Returns (keepalived.conf, the model)."""
    text = keepalived_config(host, ipfixd, hook)
    m = INSTANCE_RE.search(text)
    assert m, "keepalived-%s.conf has no vrrp_instance block" % host
    main = text[:m.start()] + "include %s\n" % include + text[m.end():]
    return main, instance_model(m.group(0))


def policy_for(host, paths, hook):
    """deploy/keepalived/keepalived-apply.yaml with this run's paths: ipfixd runs as root here,
    and keepalived is reloaded through its pid file (no systemd)."""
    with open(POLICY) as f:
        text = f.read()
    subs = (("callers: [ipfixd]", "callers: [root]"),
            ("config: /etc/keepalived/keepalived.conf", "config: " + paths["keepalived-" + host]),
            ("include: /etc/keepalived/ipfixd/ipfixd.conf", "include: " + paths["include-" + host]),
            ("backup-dir: /var/lib/ipfixd-keepalived-apply", "backup-dir: " + paths["backup-" + host]),
            ("audit-log: /var/log/ipfixd-keepalived-apply/audit.log",
             "audit-log: " + paths["helper-audit-" + host]),
            ("keepalived-bin: /usr/sbin/keepalived", "keepalived-bin: " + shutil.which("keepalived")),
            ("reload: /usr/bin/systemctl reload keepalived",
             "reload-pid-file: " + paths["keepalived-pid-" + host]),
            ("  - /etc/keepalived/ipfixd-notify.sh root root", "  - %s root root" % hook))
    for old, new in subs:
        assert old in text, "%s no longer has %r" % (POLICY, old)
        text = text.replace(old, new)
    return text


def ipfixd_managed_config(host, paths):
    """ipfixd_config() with the API's auth and ha.keepalived managing the instance through the
    helper."""
    text = ipfixd_config(host, paths["key"], paths["state-" + host])
    old = 'api:\n  listen: "127.0.0.1:8080"\n'
    assert old in text, "ha-%s.yaml's api section changed" % host
    text = text.replace(old, old + "  auth:\n    tokens:\n      - {name: ops, role: admin, "
                        "sha256: %s}\n" % hashlib.sha256(ADMIN.encode()).hexdigest())
    assert text.rstrip().endswith("share-interval: 100ms"), "ha is no longer the last section"
    return text + (
        "  keepalived:\n    config: %s\n    include: %s\n    state-file: %s\n    manage: true\n"
        "    helper: %s\n    audit-log: %s\n"
        % (paths["keepalived-" + host], paths["include-" + host], paths["role-" + host],
           paths["helper-" + host], paths["audit-" + host]))


def write_configs(tmp, tools):
    """Every file a run uses, in tmp, and what keepalived runs, in tools (tool_dir()); returns
    {name: path} and the models of the instances. test_keepalived.py checks the keepalived ones
    with keepalived -t."""
    paths = {"key": os.path.join(tmp, "ha.key"), "ipfixd-bin": install_ipfixd(tools)}
    with open(paths["key"], "wb") as f:
        f.write(os.urandom(32))
    os.chmod(paths["key"], 0o600)
    for h in ("a", "b"):
        kdir = os.path.join(tmp, "keepalived-" + h)  # root's alone, as the helper insists
        os.makedirs(kdir, 0o755)
        os.makedirs(os.path.join(tmp, "backup-" + h), 0o700)
        paths.update({
            "state-" + h: os.path.join(tmp, "state-" + h),
            "role-" + h: os.path.join(tmp, "state-" + h, "ha-role"),
            "ipfixd-" + h: os.path.join(tmp, "ipfixd-%s.yaml" % h),
            "keepalived-" + h: os.path.join(kdir, "keepalived.conf"),
            "include-" + h: os.path.join(kdir, "ipfixd.conf"),
            "backup-" + h: os.path.join(tmp, "backup-" + h),
            "keepalived-pid-" + h: os.path.join(tmp, "keepalived-%s.pid" % h),
            "policy-" + h: os.path.join(tmp, "keepalived-apply-%s.yaml" % h),
            "helper-" + h: os.path.join(tmp, "keepalived-apply-%s.sock" % h),
            "helper-audit-" + h: os.path.join(tmp, "helper-audit-%s.log" % h),
            "audit-" + h: os.path.join(tmp, "audit-%s.log" % h)})
        paths["notify-" + h] = install_hook(tools, "ipfixd-notify-%s.sh" % h, paths["role-" + h])
        main, paths["model-" + h] = split_keepalived(h, paths["ipfixd-bin"], paths["notify-" + h],
                                                     paths["include-" + h])
        with open(paths["keepalived-" + h], "w") as f:
            f.write(main)
        open(paths["include-" + h], "w").close()  # keepalived starts with no instance
        with open(paths["policy-" + h], "w") as f:
            f.write(policy_for(h, paths, paths["notify-" + h]))
        with open(paths["ipfixd-" + h], "w") as f:
            f.write(ipfixd_managed_config(h, paths))
    return paths


def api_put(host, model):
    """PUT /api/v1/ha/keepalived/include on host's ipfixd (its API is on the namespace's
    loopback): (status, answer)."""
    code = r"""
import sys, urllib.error, urllib.request
req = urllib.request.Request("http://127.0.0.1:8080/api/v1/ha/keepalived/include",
                             data=sys.stdin.buffer.read(), method="PUT",
                             headers={"Authorization": "Bearer " + sys.argv[1],
                                      "Content-Type": "application/json"})
try:
    with urllib.request.urlopen(req, timeout=120) as r:
        status, body = r.status, r.read()
except urllib.error.HTTPError as e:
    status, body = e.code, e.read()
sys.stdout.write("%d\n%s" % (status, body.decode()))
"""
    r = subprocess.run(in_ns(ns(host)) + [sys.executable, "-c", code, ADMIN],
                       input=json.dumps(model).encode(), capture_output=True, timeout=180)
    assert r.returncode == 0, r.stderr.decode()
    status, _, body = r.stdout.decode().partition("\n")
    return int(status), json.loads(body)


def install_instance(host, paths):
    """The instance of host's example, PUT through its API and helper: applied, with the notify
    scripts running as root as the policy says. Returns the seconds it took."""
    t0 = time.monotonic()
    status, answer = api_put(host, paths["model-" + host])
    took = time.monotonic() - t0
    assert status == 200 and answer["result"] == "applied", (status, answer)
    assert answer["instances"][0]["priority"] == paths["model-" + host]["instances"][0]["priority"]
    with open(paths["include-" + host]) as f:
        text = f.read()
    assert '    notify_master "%s MASTER" root root\n' % paths["notify-" + host] in text, text
    audit = kahelper.audit_lines(paths["helper-audit-" + host])
    assert audit and audit[-1]["result"] == "applied", audit
    return took


# ---------------------------------------------------------------------------------------------
# The network: a bridge in the root namespace, one veth per host, eth0 inside.

def cleanup():
    """Removes whatever an earlier run left: processes inside our namespaces, the namespaces,
    the bridge and its ports. Never touches anything else."""
    for h in HOSTS:
        name = ns(h)
        if os.path.exists("/run/netns/" + name):
            pids = sh(["ip", "netns", "pids", name], check=False).stdout.split()
            for pid in pids:
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh(["ip", "netns", "del", name], check=False)
        sh(["ip", "link", "del", "%s-%s0" % (PREFIX, h)], check=False)
    sh(["ip", "link", "del", BRIDGE], check=False)


def make_network():
    sh(["ip", "link", "add", BRIDGE, "type", "bridge", "stp_state", "0", "forward_delay", "0"])
    sh(["ip", "link", "set", BRIDGE, "up"])
    for h, addr in HOSTS.items():
        name, port = ns(h), "%s-%s0" % (PREFIX, h)
        sh(["ip", "netns", "add", name])
        sh(["ip", "link", "add", port, "type", "veth", "peer", "name", "eth0", "netns", name])
        sh(["ip", "link", "set", port, "master", BRIDGE, "up"])
        sh(in_ns(name) + ["ip", "link", "set", "lo", "up"])
        sh(in_ns(name) + ["ip", "addr", "add", addr + "/24", "dev", "eth0"])
        sh(in_ns(name) + ["ip", "link", "set", "eth0", "up"])
        # no IPv6 on the test link: no DAD, no router solicitations in the way
        sh(in_ns(name) + ["sysctl", "-qw", "net.ipv6.conf.eth0.disable_ipv6=1"],
           check=False)


def has_vip(host):
    out = sh(in_ns(ns(host)) + ["ip", "-4", "-o", "addr", "show", "dev", "eth0"],
             check=False).stdout
    return (" %s/" % VIP) in out


# ---------------------------------------------------------------------------------------------
# The processes.

class Proc:
    def __init__(self, host, cmd, log, stdout=None):
        self.host, self.log_path = host, log
        self.log_file = open(log, "wb")
        out = open(stdout, "wb") if stdout else subprocess.DEVNULL
        self.proc = subprocess.Popen(in_ns(ns(host)) + cmd, stdout=out,
                                     stderr=self.log_file)
        if stdout:
            out.close()

    def log(self):
        with open(self.log_path, "r", errors="replace") as f:
            return f.read()

    def alive(self):
        return self.proc.poll() is None

    def wait_log(self, pattern, count=1, timeout=20.0):
        deadline = time.time() + timeout * SLOW
        while time.time() < deadline:
            text = self.log()
            if len(re.findall(pattern, text)) >= count:
                return text
            if not self.alive():
                raise AssertionError("%s exited (%s) waiting for %r:\n%s"
                                     % (self.host, self.proc.returncode, pattern, text))
            time.sleep(0.05)
        raise AssertionError("timed out waiting for %r:\n%s" % (pattern, self.log()))

    def stop(self, sig=signal.SIGTERM, timeout=30.0):
        if self.alive():
            self.proc.send_signal(sig)
        try:
            self.proc.wait(timeout=timeout * SLOW)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log_file.close()
        return self.proc.returncode


def start_ipfixd(host, paths, tmp):
    p = Proc(host, [os.path.abspath(BIN), "-c", paths["ipfixd-" + host]],
             os.path.join(tmp, "ipfixd-%s.log" % host),
             stdout=os.path.join(tmp, "out-%s.json" % host))
    p.out = os.path.join(tmp, "out-%s.json" % host)
    p.wait_log(r"listening on", count=2)
    return p


def start_keepalived(host, paths, tmp):
    pid = os.path.join(tmp, "keepalived-%s" % host)
    cmd = ["keepalived", "-n", "-l", "-D", "-P", "-f", paths["keepalived-" + host],
           "-p", pid + ".pid", "-r", pid + "-vrrp.pid", "-c", pid + "-checkers.pid"]
    return Proc(host, cmd, os.path.join(tmp, "keepalived-%s.log" % host))


def wait_for(cond, timeout, what, step=0.02):
    deadline = time.monotonic() + timeout * SLOW
    while time.monotonic() < deadline:
        if cond():
            return
        time.sleep(step)
    raise AssertionError("timed out (%.0f s) waiting for %s" % (timeout * SLOW, what))


def read_role(path):
    try:
        with open(path) as f:
            return re.search(r"role=(\w+)", f.read()).group(1)
    except (FileNotFoundError, AttributeError):
        return None


# ---------------------------------------------------------------------------------------------
# The TCP exporter: reconnects to the virtual IP whenever its connection fails.

def tcp_client(host, port, seconds, rate, log_path):
    """Runs inside the exporter namespace (this file with --tcp-client). Sends the small template
    on every connection, then one record per message, record k carrying octetDeltaCount k, at
    `rate` records/s for `seconds`. Logs one JSON line per connection: its first and end k."""
    log = open(log_path, "w")
    end = time.monotonic() + seconds
    k, conn_no = 0, 0
    while time.monotonic() < end:
        try:
            s = socket.create_connection((host, port), timeout=0.5)
        except OSError:
            time.sleep(0.05)
            continue
        conn_no += 1
        connected = time.time()
        s.settimeout(None)
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.setsockopt(socket.IPPROTO_TCP, 18, 3000)  # TCP_USER_TIMEOUT: 3 s unacknowledged
        first = k
        seq = 0
        t0 = time.monotonic()
        sent_here = 0
        err = None
        try:
            s.sendall(ipfix.small_template_message(odid=2))
            while time.monotonic() < end:
                s.sendall(ipfix.small_data_message([k], seq=seq, odid=2))
                k += 1
                seq += 1
                sent_here += 1
                due = t0 + sent_here / rate
                delay = due - time.monotonic()
                if delay > 0:
                    time.sleep(delay)
        except OSError as e:
            err = str(e)
        log.write(json.dumps({"conn": conn_no, "first": first, "end": k, "error": err,
                              "connected": connected, "t": time.time()}) + "\n")
        log.flush()
        if err is None:
            # a clean end: FIN, and wait for the collector's close so everything is delivered
            try:
                s.shutdown(socket.SHUT_WR)
                s.settimeout(5)
                while s.recv(4096):
                    pass
            except OSError:
                pass
        s.close()
    log.close()


def tcp_connections(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


# ---------------------------------------------------------------------------------------------
# Reading what the collectors wrote.

def records(path, collector):
    """The octetDeltaCount (= record index) and @received of every complete JSON line of one
    collector; a line cut short by a killed process is ignored."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for line in data.split(b"\n")[:-1]:
        r = json.loads(line)
        if r.get("@collector") == collector:
            out.append((r["octetDeltaCount"], r["@received"], "@late" in r))
    return out


def received_epoch(stamp):
    """'2026-11-25T20:20:44.483307Z' -> seconds since the epoch."""
    main, frac = stamp.rstrip("Z").split(".")
    t = time.mktime(time.strptime(main, "%Y-%m-%dT%H:%M:%S")) - time.timezone
    return t + float("0." + frac)


def final_counters(text, collector):
    m = re.findall(r"final collector %s: (.*)" % collector, text)
    assert m, "no final summary for %s:\n%s" % (collector, text[-3000:])
    vals = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", m[-1])}
    return vals


# ---------------------------------------------------------------------------------------------
# One run.

def failover_run(mode):
    """mode 'ipfixd': kill -9 A's ipfixd only; 'host': kill -9 everything in A and cut its
    link. Returns the measured figures."""
    tmp = tempfile.mkdtemp(prefix="ixdfo-")
    tools = tool_dir()
    procs = []
    helpers = {}
    result = {"mode": mode}
    try:
        cleanup()
        make_network()
        paths = write_configs(tmp, tools)
        for h in ("a", "b"):
            helpers[h] = kahelper.Helper(paths["policy-" + h], paths["helper-" + h],
                                         os.path.join(tmp, "helper-%s.log" % h),
                                         cmd_prefix=in_ns(ns(h)))
        ipf = {h: start_ipfixd(h, paths, tmp) for h in ("a", "b")}
        procs += list(ipf.values())
        for h in ("a", "b"):
            ipf[h].wait_log(r"ha: connection to \S+ authenticated")
            ipf[h].wait_log(r"ha: connection from \S+ authenticated")
        # A first: keepalived starts with no instance; the one PUT through A's API and helper
        # makes it take the virtual IP. B, given its instance then, stays BACKUP (nopreempt,
        # lower priority)
        ka = {"a": start_keepalived("a", paths, tmp)}
        procs.append(ka["a"])
        wait_for(lambda: os.path.exists(paths["keepalived-pid-a"]), 15, "keepalived A")
        assert not has_vip("a"), "A holds the virtual IP before its instance was installed"
        result["install_a_s"] = install_instance("a", paths)
        wait_for(lambda: has_vip("a") and read_role(paths["role-a"]) == "MASTER", 15,
                 "A to take the virtual IP")
        ka["b"] = start_keepalived("b", paths, tmp)
        procs.append(ka["b"])
        wait_for(lambda: os.path.exists(paths["keepalived-pid-b"]), 15, "keepalived B")
        result["install_b_s"] = install_instance("b", paths)
        wait_for(lambda: read_role(paths["role-b"]) == "BACKUP", 15, "B to be BACKUP")
        assert not has_vip("b")

        # the exporters
        n_udp = UDP_RATE * RUN_SECONDS
        t_start = time.time()
        sender = Proc("e", [os.path.abspath(SEND), "-n", str(n_udp), "-r", str(UDP_RATE),
                            "-R", str(UDP_PER_MESSAGE), "--template-interval", "0",
                            "%s:%d" % (VIP, PORT)], os.path.join(tmp, "send.log"))
        procs.append(sender)
        tcp_log = os.path.join(tmp, "tcp-client.log")
        client = Proc("e", [sys.executable, os.path.abspath(__file__), "--tcp-client", VIP,
                            str(PORT), str(RUN_SECONDS), str(TCP_RATE), tcp_log],
                      os.path.join(tmp, "tcp-client.err"))
        procs.append(client)
        time.sleep(KILL_AFTER)
        assert sender.alive() and client.alive(), sender.log() + client.log()
        a_before = len(records(ipf["a"].out, "udp"))
        assert a_before > 0, "A decoded nothing before the kill:\n" + ipf["a"].log()

        # the failure
        t_kill = time.time()
        t0 = time.monotonic()
        if mode == "ipfixd":
            ipf["a"].proc.kill()
        else:
            for pid in sh(["ip", "netns", "pids", ns("a")]).stdout.split():
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except ProcessLookupError:
                    pass
            sh(["ip", "link", "set", "%s-a0" % PREFIX, "down"])
        vip_at = None
        first_b = None
        while time.monotonic() - t0 < 15 * SLOW:
            if vip_at is None and has_vip("b"):
                vip_at = time.monotonic() - t0
            if first_b is None and os.path.getsize(ipf["b"].out) > 0:
                recs = records(ipf["b"].out, "udp")
                if recs:
                    first_b = recs[0]
            if vip_at is not None and first_b is not None:
                break
            time.sleep(0.01)
        assert vip_at is not None, "the virtual IP never reached B:\n" + ka["b"].log()[-3000:]
        assert first_b is not None, "B decoded nothing:\n" + ipf["b"].log()
        result["vip_move_s"] = vip_at
        result["first_decoded_on_b_s"] = received_epoch(first_b[1]) - t_kill
        if mode == "ipfixd":
            wait_for(lambda: not has_vip("a"), 5, "A to drop the virtual IP")
            wait_for(lambda: read_role(paths["role-a"]) == "FAULT", 5, "A's role FAULT")
        wait_for(lambda: read_role(paths["role-b"]) == "MASTER", 5, "B's role MASTER")

        # the exporters finish
        assert sender.proc.wait(timeout=(RUN_SECONDS + 30) * SLOW) == 0, sender.log()
        assert client.proc.wait(timeout=(RUN_SECONDS + 30) * SLOW) == 0, client.log()
        time.sleep(0.5)
        result["send_log"] = sender.log().strip()
        final_b = ipf["b"].stop()
        assert final_b == 0, "B exited with %s:\n%s" % (final_b, ipf["b"].log())
        blog = ipf["b"].log()
        ub, tb = final_counters(blog, "udp"), final_counters(blog, "tcp")
        b_errors = re.findall(r"final collector udp: .*", blog)[-1]

        # UDP: A decoded a prefix, B a suffix; nothing held, late or without template
        a_recs = records(ipf["a"].out, "udp")
        b_recs = records(ipf["b"].out, "udp")
        a_ks = [r[0] for r in a_recs]
        b_ks = [r[0] for r in b_recs]
        assert a_ks == list(range(len(a_ks))), "A lost records before the kill"
        assert b_ks and b_ks == list(range(b_ks[0], n_udp)), \
            "B's records are not one unbroken run up to the last one sent (%s..%s of %d)" \
            % (b_ks[:1], b_ks[-1:], n_udp)
        assert not any(r[2] for r in b_recs), "B decoded late (held) records"
        assert ub["held_sets"] == 0 and ub["late_records"] == 0, b_errors
        assert "no_template" not in b_errors, b_errors
        assert ub["errors"] == 0, b_errors
        assert ub["records"] == len(b_ks), (ub, len(b_ks))
        gap = b_ks[0] - len(a_ks)             # records neither collector decoded
        overlap = ub["seq_lost"] - gap        # decoded by A after its last sequence share
        assert n_udp == len(a_ks) + len(b_ks) + gap
        # seq_lost covers every record nobody decoded; it also counts those A decoded after
        # it last shared its sequence numbers (at most one share interval, 100 ms, plus the
        # control thread's half interval): those are decoded once and counted lost once
        assert 0 <= overlap <= UDP_RATE * 0.3 + UDP_PER_MESSAGE, \
            "seq_lost %d, records nobody decoded %d" % (ub["seq_lost"], gap)
        assert n_udp == len(a_ks) + len(b_ks) + ub["seq_lost"] - overlap
        result.update(sent=n_udp, decoded_a=len(a_ks), decoded_b=len(b_ks),
                      seq_lost_b=ub["seq_lost"], not_decoded=gap, overlap=overlap,
                      socket_drops_b=ub["socket_drops"], first_k_b=b_ks[0],
                      gap_s=gap / UDP_RATE)

        # TCP: the exporter reconnected, and everything after its last reconnection reached B
        conns = tcp_connections(tcp_log)
        assert len(conns) >= 2, "the TCP exporter never reconnected: %s" % conns
        last = conns[-1]
        assert last["error"] is None, conns
        t_ks = [r[0] for r in records(ipf["b"].out, "tcp")]
        want = list(range(last["first"], last["end"]))
        assert t_ks[-len(want):] == want, "B lacks TCP records sent after the reconnection"
        assert tb["held_sets"] == 0 and tb["errors"] == 0, tb
        a_tcp = len(records(ipf["a"].out, "tcp"))
        result["tcp_connections"] = len(conns)
        result["tcp_resumed_s"] = last["connected"] - t_kill
        result["tcp_records_after_reconnect"] = len(want)
        # sent on connections that died: what neither A nor B decoded of them
        result["tcp_records_lost"] = last["first"] - a_tcp - (len(t_ks) - len(want))
        return result
    except Exception:
        for name in sorted(os.listdir(tmp)):
            if name.endswith(".log") or name.endswith(".err"):
                with open(os.path.join(tmp, name), errors="replace") as f:
                    sys.stderr.write("---- %s ----\n%s\n" % (name, f.read()[-4000:]))
        raise
    finally:
        for p in reversed(procs):
            try:
                p.stop(signal.SIGTERM, timeout=10)
            except Exception:  # noqa: BLE001 - best effort, cleanup() kills what is left
                pass
        for h, helper in helpers.items():
            # A's went with its host in the host run; one that lived must stop cleanly
            if helper.alive() or mode != "host" or h != "a":
                helper.stop()
        cleanup()
        shutil.rmtree(tools, ignore_errors=True)
        if os.environ.get("IXD_KEEP_TMP") != "1":
            shutil.rmtree(tmp, ignore_errors=True)


def report(r):
    print("    %-6s instances installed through API and helper in %.2f s (A) and %.2f s (B)"
          % (r["mode"], r["install_a_s"], r["install_b_s"]), flush=True)
    print("    %-6s VIP moved %.2f s after the kill; first record decoded on B %.2f s after it; "
          "sent %d = A %d + B %d + not decoded %d (%.2f s of traffic); B seq_lost %d "
          "(= not decoded + %d decoded by A after its last share); B socket drops %d; "
          "TCP: %d connections, reconnected %.2f s after the kill, %d records after it decoded, "
          "%d lost on the dead connection"
          % (r["mode"], r["vip_move_s"], r["first_decoded_on_b_s"], r["sent"], r["decoded_a"],
             r["decoded_b"], r["not_decoded"], r["gap_s"], r["seq_lost_b"], r["overlap"],
             r["socket_drops_b"], r["tcp_connections"], r["tcp_resumed_s"],
             r["tcp_records_after_reconnect"], r["tcp_records_lost"]), flush=True)


def check_vip(r):
    assert r["vip_move_s"] <= VIP_MOVE_LIMIT * SLOW, r


def test_kill_ipfixd():
    r = failover_run("ipfixd")
    report(r)
    check_vip(r)


def test_kill_host():
    r = failover_run("host")
    report(r)
    check_vip(r)


def main():
    if len(sys.argv) > 1 and sys.argv[1] == "--tcp-client":
        tcp_client(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), float(sys.argv[5]),
                   sys.argv[6])
        return
    if os.geteuid() != 0:
        skip("network namespaces and keepalived need root: the failover test did not run")
    if os.environ.get("IXD_SANITIZE") == "1":
        skip("timings are measured on the release build: the failover test runs there")
    need("keepalived", "keepalived")
    need("ip", "iproute2")
    if sh(["ip", "netns", "add", PREFIX + "-probe"], check=False).returncode != 0:
        skip("this machine does not allow network namespaces (ip netns add failed)")
    sh(["ip", "netns", "del", PREFIX + "-probe"], check=False)
    for fn in (test_kill_ipfixd, test_kill_host):
        fn()
        print("ok", fn.__name__, flush=True)


if __name__ == "__main__":
    main()
