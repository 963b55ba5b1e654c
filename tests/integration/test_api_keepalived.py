#!/usr/bin/env python3
"""keepalived over REST (docs/ha.md#keepalived-over-rest) against the real daemon and the real
helper, ipfixd-keepalived-apply, started here as root on a socket in a temporary directory (no
systemd here), with ipfixd running as nobody: the read endpoints' shape (role from the notify
hook's file, virtual IPs held, the include as a model), the role checks of PUT
/api/v1/ha/keepalived/include (no auth on loopback, reader, admin with manage: false),
validation by ipfixd (global_defs, a notify script with any argument but its role, a bad address
or prefix, a priority out of range) and by the helper's policy (a script, interface, address or
router id it does not list), an include that is not UTF-8 or holds a control or NUL byte (read
with a warning, the daemon up), keepalived -t refusing (also when the exit status comes late),
a good change (include replaced, backup, both audit lines, reload command run), a slow reload
that blocks neither reads nor a second change, the helper gone (503). With the helper in place
the include's directory is root's: nobody (ipfixd's user) cannot write it, and the helper
refuses what its policy does not list even when sent to it directly, bypassing ipfixd. The
keepalived -t parts need /usr/sbin/keepalived and an interface other than lo; the parts that
switch users need root; without them they are skipped, and said so."""
import hashlib
import json
import os
import pwd
import shutil
import signal
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import kahelper  # noqa: E402
from ixdtest import BIN, SLOW, Daemon, free_port  # noqa: E402
from test_api import Api, check_schema, free_tcp_port, wait_for  # noqa: E402

KEEPALIVED = "/usr/sbin/keepalived"
READER, ADMIN = "reader-token-kad-0123456789", "admin-token-kad-0123456789"

INCLUDE = """# as an operator left it
vrrp_instance VI_1 {
    state BACKUP
    interface %(ifname)s
    virtual_router_id 51
    priority 100
    advert_int 1
    virtual_ipaddress {
        127.0.0.1/32 dev lo
        10.255.255.1/32 dev %(ifname)s
    }
}
virtual_server 10.255.255.1 4739 {
    protocol UDP
    lvs_sched rr
    lb_kind DR
    real_server 10.0.0.1 4739 {
        weight 1
    }
}
"""


def interface():
    """An interface keepalived -t accepts for VRRP (not lo), or None."""
    try:
        names = sorted(os.listdir("/sys/class/net"))
    except OSError:
        return None
    for n in names:
        if n != "lo" and not n.startswith("ifb"):
            return n
    return None


ROOT = os.geteuid() == 0
NOBODY = pwd.getpwnam("nobody")


class Setup:
    """The files of one host: keepalived's (root's, the include's directory root-only), the
    helper's policy and socket, ipfixd's audit log (its user's). helper_policy() writes the
    policy; the helper reads it again for every request, so a test changes it in place."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ixdkad-")
        os.chmod(self.dir, 0o755)  # nobody reaches its files through it
        self.ifname = interface() or "eth0"
        self.kdir = os.path.join(self.dir, "keepalived")
        self.scripts = os.path.join(self.dir, "scripts")
        self.backups = os.path.join(self.dir, "backup")
        self.run = os.path.join(self.dir, "run")
        self.ipfixd_dir = os.path.join(self.dir, "ipfixd")
        for d in (self.kdir, self.scripts, self.run, self.ipfixd_dir):
            os.makedirs(d, 0o755)
            os.chmod(d, 0o755)
        os.makedirs(self.backups, 0o700)
        if ROOT:
            os.chown(self.ipfixd_dir, NOBODY.pw_uid, NOBODY.pw_gid)
        self.main = os.path.join(self.kdir, "keepalived.conf")
        self.include = os.path.join(self.kdir, "ipfixd.conf")
        self.state = os.path.join(self.dir, "ha-role")
        self.audit = os.path.join(self.ipfixd_dir, "audit.log")
        self.helper_audit = os.path.join(self.dir, "helper-audit.log")
        self.policy = os.path.join(self.dir, "keepalived-apply.yaml")
        self.sock = os.path.join(self.run, "keepalived-apply.sock")
        self.marker = os.path.join(self.dir, "reloaded")
        self.reload = "/usr/bin/touch " + self.marker
        self.keepalived_bin = KEEPALIVED
        self.extra_interfaces = ["nosuchif9"]  # keepalived -t refuses it; the policy does not
        with open(self.main, "w") as f:
            f.write("global_defs {\n    router_id ixdtest\n}\ninclude %s\n" % self.include)
        with open(self.include, "w") as f:
            f.write(INCLUDE % {"ifname": self.ifname})
        with open(self.state, "w") as f:
            f.write("role=MASTER since=1700000000 host=testhost\n")
        self.script = os.path.join(self.scripts, "notify.sh")
        with open(self.script, "w") as f:
            f.write("#!/bin/sh\nexit 0\n")
        os.chmod(self.script, 0o755)
        self.helper = None
        self.helper_policy()

    def helper_policy(self):
        callers = [NOBODY.pw_name] if ROOT else [os.getuid()]
        with open(self.policy, "w") as f:
            f.write(kahelper.policy_text(
                callers, self.main, self.include, self.backups, reload=self.reload,
                keepalived_bin=self.keepalived_bin, audit_log=self.helper_audit,
                pid_namespace=ROOT, interfaces=[self.ifname, "lo"] + self.extra_interfaces,
                vrids=[51, 77], addresses=["10.77.0.0/24", "127.0.0.0/8", "10.255.255.0/24"],
                real_servers=["10.77.0.0/24", "10.0.0.0/24"], scripts=[self.script]))

    def start_helper(self):
        self.helper = kahelper.Helper(self.policy, self.sock, os.path.join(self.dir, "helper.log"))

    def stop_helper(self):
        if self.helper is not None:
            self.helper.stop()
            self.helper = None

    def ha(self, manage):
        return f"""
ha:
  keepalived:
    config: {self.main}
    include: {self.include}
    state-file: {self.state}
    manage: {"true" if manage else "false"}
    helper: {self.sock}
    audit-log: {self.audit}
"""


def config(s, port, api_port, manage, auth):
    tokens = ""
    if auth:
        tokens = "  auth:\n    tokens:\n" + "".join(
            "      - {name: %s, role: %s, sha256: %s}\n"
            % (n, r, hashlib.sha256(t.encode()).hexdigest()) for n, r, t in (("grafana", "reader", READER), ("ops", "admin", ADMIN)))
    user = "user: nobody\n" if ROOT else ""
    return f"""
{user}workers: 1
api:
  listen: "127.0.0.1:{api_port}"
{tokens}{s.ha(manage)}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: out
    type: json
    path: /dev/null
"""


def req(api, path, token=None, method="GET", body=None, timeout=10):
    headers = {"Authorization": "Bearer " + token} if token else {}
    data = None
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    code, h, raw = api.get(path, headers, method=method, data=data, timeout=timeout)
    return code, h, raw


def problem(api, status, body, token=ADMIN, contains=None, field=None):
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", token, "PUT", body)
    assert code == status, "want %d, got %d: %s" % (status, code, raw)
    assert h["Content-Type"] == "application/problem+json", h["Content-Type"]
    p = json.loads(raw)
    assert p["status"] == status and p["detail"], p
    if contains is not None:
        assert contains in p["detail"], p["detail"]
    if field is not None:
        assert p.get("field") == field, p
    return p


def good_model(s, priority=150):
    return {
        "instances": [{
            "name": "VI_IPFIX", "state": "BACKUP", "interface": s.ifname, "virtual_router_id": 77,
            "priority": priority, "advert_int": 1, "nopreempt": True,
            "virtual_ipaddress": [{"address": "10.77.0.100/24", "dev": s.ifname}],
        }],
        "virtual_servers": [{
            "address": "10.77.0.100", "port": 4739, "protocol": "UDP", "lvs_sched": "rr",
            "lb_kind": "DR", "persistence_timeout": 600, "delay_loop": 2,
            "real_servers": [{"address": "10.77.0.1", "port": 4739, "weight": 1,
                              "tcp_check": {"connect_timeout": 3}}],
        }],
    }


def test_read(api, s, token=None):
    code, h, raw = req(api, "/api/v1/", token)
    assert code == 200, raw
    root = json.loads(raw)
    assert root["_links"]["keepalived"]["href"] == "/api/v1/ha/keepalived", root["_links"]
    code, h, raw = req(api, "/api/v1/ha/keepalived", token)
    assert code == 200 and "hal+json" in h["Content-Type"], (code, raw)
    k = json.loads(raw)
    assert k["role"] == "MASTER" and k["since"].startswith("2023-11-14T22:13:20"), k
    assert k["host"] == "testhost" and k["include"] == s.include and k["config"] == s.main, k
    vips = {v["address"]: v for v in k["virtual_ipaddresses"]}
    assert vips["127.0.0.1/32"]["held"] and vips["127.0.0.1/32"]["interface"] == "lo", vips
    assert not vips["10.255.255.1/32"]["held"], vips
    inst = k["instances"][0]
    assert inst["name"] == "VI_1" and inst["priority"] == 100 and inst["virtual_router_id"] == 51
    assert inst["virtual_ipaddress"][1] == {"address": "10.255.255.1/32", "dev": s.ifname}, inst
    vs = k["virtual_servers"][0]
    assert vs["port"] == 4739 and vs["real_servers"][0]["address"] == "10.0.0.1", vs
    assert k["_links"]["include"]["href"] == "/api/v1/ha/keepalived/include"
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", token)
    assert code == 200, raw
    inc = json.loads(raw)
    assert inc["instances"] == k["instances"] and "manage" in inc, inc


def test_documented(api, s, token):
    """The answers match their schemas in the OpenAPI document (test_api validates the document
    itself and cannot reach these routes: it configures no keepalived)."""
    doc = json.loads(req(api, "/api/v1/openapi.json", token)[2])
    for path, schema in (("/api/v1/ha/keepalived", "Keepalived"),
                         ("/api/v1/ha/keepalived/include", "KeepalivedInclude"),
                         ("/api/v1/", "Root")):
        check_schema(doc, {"$ref": "#/components/schemas/" + schema},
                     json.loads(req(api, path, token)[2]), path)
    put = doc["paths"]["/api/v1/ha/keepalived/include"]["put"]
    assert put["x-ipfixd-role"] == "admin"
    for code in ("200", "401", "403", "409", "413", "422"):
        assert code in put["responses"], code
    p = problem(api, 422, {"instances": [], "global_defs": {}})
    check_schema(doc, {"$ref": "#/components/schemas/Problem"}, p, "422")


def test_no_auth_on_loopback(api, s):
    test_read(api, s)
    p = problem(api, 403, good_model(s), token=None, contains="even on loopback")
    assert "api.auth" in p["detail"], p
    # the methods that the route does not take are still 405, with the right Allow
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", None, "POST", {})
    assert code == 405 and "PUT" in h["Allow"], (code, dict(h))
    code, h, raw = req(api, "/api/v1/ha/keepalived", None, "PUT", {})
    assert code == 405, (code, raw)
    assert not os.path.exists(s.audit) and not os.path.exists(s.marker)


def test_roles(api, s):
    test_read(api, s, READER)
    problem(api, 401, good_model(s), token=None)
    p = problem(api, 403, good_model(s), token=READER, contains="needs admin")
    assert "grafana" in p["detail"], p
    code, _, raw = req(api, "/api/v1/ha/keepalived", None)
    assert code == 401, raw
    # manage: false: admin, but the config does not allow changes
    problem(api, 409, good_model(s), contains="manage is false")
    assert not os.path.exists(s.marker)


def test_validation(api, s):
    n_helper = len(kahelper.audit_lines(s.helper_audit))

    def bad(mutate, field, contains=None):
        m = good_model(s)
        mutate(m)
        return problem(api, 422, m, field=field, contains=contains)
    bad(lambda m: m.update({"global_defs": {"router_id": "x"}}), "global_defs",
        "stays in keepalived.conf")
    bad(lambda m: m.update({"vrrp_script": {}}), "vrrp_script", "stays in keepalived.conf")
    # a script of the right form that the helper's policy does not list: ipfixd passes it on,
    # the helper refuses it
    bad(lambda m: m["instances"][0].update({"notify_master": "/tmp/evil.sh MASTER"}),
        "instances[0].notify_master", "not a script the helper's policy allows")
    bad(lambda m: m["instances"][0].update({"notify_backup": s.scripts + "/../evil.sh"}),
        "instances[0].notify_backup")
    bad(lambda m: m["instances"][0].update({"notify": s.script + "; rm -rf /"}),
        "instances[0].notify")
    # a notify script takes the role its key implies and nothing else: the shipped hook would
    # write to a file given after it, as keepalived's script user
    bad(lambda m: m["instances"][0].update({"notify_master": s.script + " MASTER /etc/cron.d/x"}),
        "instances[0].notify_master", "one argument, MASTER")
    bad(lambda m: m["instances"][0].update({"notify_master": s.script + " BACKUP"}),
        "instances[0].notify_master", "one argument, MASTER")
    bad(lambda m: m["instances"][0].update({"notify_fault": s.script}),
        "instances[0].notify_fault", "one argument, FAULT")
    bad(lambda m: m["instances"][0].update({"notify_stop": s.script + "  STOP"}),
        "instances[0].notify_stop")
    bad(lambda m: m["instances"][0].update({"notify": s.script + " MASTER"}),
        "instances[0].notify", "the script alone")
    bad(lambda m: m["instances"][0].update({"notify_backup": s.scripts + "/ BACKUP"}),
        "instances[0].notify_backup", "not a script")
    bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update({"address": "10.0.0.300"}),
        "instances[0].virtual_ipaddress[0].address", "not an IP address")
    bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update({"address": "10.0.0.1/33"}),
        "instances[0].virtual_ipaddress[0].address")
    # the prefix is digits only: no blank (a newline in the rendered file), no sign
    for prefix in ("\n24", " 24", "+24", "-0", "24 ", "", "0x18", "0024"):
        bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update(
            {"address": "10.0.0.1/" + prefix}), "instances[0].virtual_ipaddress[0].address")
    bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update({"address": "2001:db8::1/\t64"}),
        "instances[0].virtual_ipaddress[0].address")
    bad(lambda m: m["instances"][0].update({"priority": 255}), "instances[0].priority",
        "from 1 to 254")
    bad(lambda m: m["instances"][0].update({"priority": "high"}), "instances[0].priority")
    bad(lambda m: m["instances"][0].update({"virtual_router_id": 0}),
        "instances[0].virtual_router_id")
    bad(lambda m: m["instances"][0].update({"script": "/bin/sh"}), "instances[0].script")
    bad(lambda m: m["instances"][0].update({"interface": "eth0 {"}), "instances[0].interface")
    bad(lambda m: m["instances"].append(dict(m["instances"][0])), "instances[1].name",
        "names two instances")
    bad(lambda m: m["virtual_servers"][0].update({"lb_kind": "FOO"}), "virtual_servers[0].lb_kind")
    bad(lambda m: m["virtual_servers"][0]["real_servers"][0].update({"port": 70000}),
        "virtual_servers[0].real_servers[0].port")
    # well-formed, but not in the helper's policy: an admin token cannot move an address, take
    # an interface or a router id the policy does not list
    policy = "helper's policy"
    bad(lambda m: m["instances"][0].update({"interface": "dummy7"}), "instances[0].interface",
        policy)
    bad(lambda m: m["instances"][0].update({"virtual_router_id": 78}),
        "instances[0].virtual_router_id", policy)
    bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update({"address": "192.0.2.1"}),
        "instances[0].virtual_ipaddress[0].address", policy)
    bad(lambda m: m["instances"][0]["virtual_ipaddress"][0].update({"address": "10.77.0.100/8"}),
        "instances[0].virtual_ipaddress[0].address", policy)
    bad(lambda m: m["instances"][0].update({"notify": "/usr/bin/id"}), "instances[0].notify",
        policy)
    bad(lambda m: m["virtual_servers"][0]["real_servers"][0].update({"address": "192.0.2.9"}),
        "virtual_servers[0].real_servers[0].address", policy)
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT", b"{not json")
    assert code == 400, raw
    # the body cap of the API applies to writes
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT", b" " * 70000)
    assert code == 413, raw
    with open(s.include) as f:
        assert f.read() == INCLUDE % {"ifname": s.ifname}, "a refused change touched the include"
    assert not os.path.exists(s.marker) and os.listdir(s.backups) == []
    lines = [json.loads(l) for l in open(s.audit)]
    assert lines and all(l["result"] == "refused" and l["subject"] == "ops" for l in lines), lines
    assert lines[0]["client"] == "127.0.0.1" and lines[0]["status"] == 422, lines[0]
    # what reached the helper: refused there too, with who connected (ipfixd's user) and who
    # ipfixd says asked
    helper = kahelper.audit_lines(s.helper_audit)[n_helper:]
    assert len(helper) == 7, helper
    for line in helper:
        assert line["result"] == "refused" and line["status"] == 422, line
        assert line["caller"]["uid"] == (NOBODY.pw_uid if ROOT else os.getuid()), line
        assert line["requester"] == {"subject": "ops", "credential": "token",
                                     "client": "127.0.0.1"}, line


def test_not_utf8(api, s, d):
    """An include with a word that is not UTF-8 (a JSON string cannot hold it), with a control
    character or with a NUL byte (which the reader once took for the end of a word it never
    left, growing without end): GET answers with the model empty and a warning naming the line,
    and the daemon stays up."""
    with open(s.include, "rb") as f:
        before = f.read()
    text = (INCLUDE % {"ifname": s.ifname}).encode()
    cases = ((b"caf\xe9", "line 7: a word that is not UTF-8"),
             (b"\x1b[2J", "line 7: a word with a control character"),
             (b"a\x00b", "line 7: a word with a control character"))
    try:
        for word, warning in cases:
            bad = text.replace(b"    priority 100\n", b"    priority 100\n    " + word + b"\n")
            assert bad != text
            # the helper's directory: root writes it here, as an operator would
            with open(s.include, "wb") as f:
                f.write(bad)
            for path in ("/api/v1/ha/keepalived", "/api/v1/ha/keepalived/include"):
                code, _, raw = req(api, path, READER, timeout=10 * SLOW)
                assert code == 200, (path, code, raw)
                k = json.loads(raw)
                assert k["instances"] == [] and k["virtual_servers"] == [], k
                assert any(s.include + ": " + warning in w for w in k["warnings"]), k
            assert d.alive() and api.get("/health")[0] == 200, d.log()[-2000:]
    finally:
        with open(s.include, "wb") as f:
            f.write(before)


def test_keepalived_check(api, s):
    m = good_model(s)
    m["instances"][0]["interface"] = "nosuchif9"
    p = problem(api, 422, m, contains="keepalived -t refuses the change")
    assert "nosuchif9" in p["detail"] or "interface" in p["detail"].lower(), p
    assert not os.path.exists(s.marker)
    with open(s.include) as f:
        assert "VI_1" in f.read()
    assert not [n for n in os.listdir(s.kdir) if n.startswith(".ipfixd-check")], os.listdir(s.kdir)
    # notify scripts of the allowed form pass ipfixd's checks and reach keepalived -t, which
    # refuses them here only because this keepalived.conf has no enable_script_security
    m = good_model(s)
    m["instances"][0].update({"notify_master": s.script + " MASTER", "notify": s.script})
    p = problem(api, 422, m, contains="keepalived -t refuses the change", field="")
    assert "SECURITY VIOLATION" in p["detail"], p


def plant_symlinks(s, pid):
    """Symlinks to a bait file at the fixed temporary names once used next to the include (the
    check copies of keepalived -t, the include before its rename). The directory is root's now,
    so only root could plant them; the helper, root itself, must not write through them
    either."""
    bait = os.path.join(s.dir, "bait")
    with open(bait, "w") as f:
        f.write("bait\n")
    links = [s.include + ".ipfixd-tmp"] + [
        os.path.join(s.kdir, ".ipfixd-check-%d.%s" % (pid, ext)) for ext in ("include", "conf")]
    for link in links:
        os.symlink(bait, link)
    return bait, links


def test_good_change(api, s, d):
    before = open(s.include).read()
    n_audit = len(open(s.audit).readlines()) if os.path.exists(s.audit) else 0
    bait, links = plant_symlinks(s, d.proc.pid)
    code, h, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT", good_model(s))
    assert code == 200, raw
    with open(bait) as f:
        assert f.read() == "bait\n", "a temporary file was written through a planted symlink"
    assert all(os.readlink(link) == bait for link in links), "a planted symlink was moved"
    assert sorted(os.listdir(s.kdir)) == sorted(
        ["keepalived.conf", "ipfixd.conf"] + [os.path.basename(link) for link in links]), \
        os.listdir(s.kdir)
    for link in links:
        os.unlink(link)
    got = json.loads(raw)
    assert got["result"] == "applied" and got["backup"], got
    assert got["instances"][0]["priority"] == 150 and got["instances"][0]["nopreempt"], got
    assert got["virtual_servers"][0]["real_servers"][0]["tcp_check"] == {"connect_timeout": 3}
    assert got["warnings"] == [], got["warnings"]
    text = open(s.include).read()
    assert "vrrp_instance VI_IPFIX" in text and "priority 150" in text and "global_defs" not in text
    assert open(got["backup"]).read() == before
    assert os.path.dirname(got["backup"]) == s.backups
    assert os.path.exists(s.marker), "the reload command did not run"
    lines = [json.loads(l) for l in open(s.audit)][n_audit:]
    assert len(lines) == 1, lines
    a = lines[0]
    assert a["result"] == "applied" and a["status"] == 200 and a["subject"] == "ops", a
    assert a["role"] == "admin" and a["client"] == "127.0.0.1" and a["backup"] == got["backup"]
    assert a["change"]["instances"][0] == {"name": "VI_IPFIX", "priority": 150,
                                           "virtual_ipaddress": ["10.77.0.100/24"]}, a
    # the helper's own line: who connected, what ipfixd said of the requester, the same backup
    h = kahelper.audit_lines(s.helper_audit)[-1]
    assert h["result"] == "applied" and h["backup"] == got["backup"], h
    assert h["caller"]["uid"] == (NOBODY.pw_uid if ROOT else os.getuid()), h
    assert h["requester"]["subject"] == "ops" and h["change"] == a["change"], h
    # installed as root's, readable by ipfixd
    st = os.stat(s.include)
    assert st.st_uid == os.geteuid() and stat.S_IMODE(st.st_mode) == 0o644, st
    # what GET shows is what was PUT, and a GET body can be PUT back as it is
    code, _, raw = req(api, "/api/v1/ha/keepalived/include", READER)
    again = json.loads(raw)
    os.unlink(s.marker)
    code, _, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT",
                       {k: again[k] for k in ("instances", "virtual_servers", "warnings",
                                              "_links")})
    assert code == 200, raw
    assert open(s.include).read() == text and os.path.exists(s.marker)


def test_refusal_kept(api, s, d):
    """A keepalived -t that refuses and exits at once, while a process it started holds its
    output open for a second: the refusal reaches the PUT. (ipfixd's event loop once reaped
    every child on SIGCHLD; the PUT's waitpid then found none, read the status as 0 and applied
    what keepalived had refused. The helper now runs it, and waits on a pidfd.)"""
    fake = os.path.join(s.dir, "refusing-keepalived")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'refused by this test' >&2\n(sleep 1) &\nexit 3\n")
    os.chmod(fake, 0o755)
    before = open(s.include).read()
    s.keepalived_bin = fake
    s.helper_policy()  # read again for every request: no restart
    try:
        for _ in range(2):
            p = problem(api, 422, good_model(s), contains="keepalived -t refuses the change",
                        field="")
            assert "refused by this test" in p["detail"], p
        assert open(s.include).read() == before and not os.path.exists(s.marker)
    finally:
        s.keepalived_bin = KEEPALIVED
        s.helper_policy()


def test_slow_reload(api, s, d):
    """A reload that takes seconds: reads are answered while it runs, and a second PUT sent
    meanwhile is applied after the first (both audited, in that order)."""
    slow = os.path.join(s.dir, "slow-reload")
    with open(slow, "w") as f:
        # not scaled by SLOW: the reads below must come while it runs, and they come 0.5 s after
        f.write("#!/bin/sh\nsleep 4\nexec /usr/bin/touch %s\n" % s.marker)
    os.chmod(slow, 0o755)
    s.reload = slow
    s.helper_policy()
    n_audit = len(open(s.audit).readlines())
    if os.path.exists(s.marker):
        os.unlink(s.marker)
    done = {}

    def put(name, priority):
        # the second waits for the first: two reloads of 4 s, plus keepalived -t twice
        done[name] = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT",
                         good_model(s, priority), timeout=30 * SLOW)
        done[name + "_at"] = time.time()

    first = threading.Thread(target=put, args=("first", 160))
    first.start()
    time.sleep(0.5)  # its body is in and its check or reload is running
    second = threading.Thread(target=put, args=("second", 170))
    second.start()
    code, _, raw = req(api, "/api/v1/ha/keepalived", READER)
    assert code == 200, raw
    assert api.get("/health")[0] == 200
    assert first.is_alive(), "the reads waited for the change to be applied"
    first.join(60 * SLOW)
    second.join(60 * SLOW)
    assert done["first"][0] == 200 and done["second"][0] == 200, done
    assert done["first_at"] < done["second_at"], done
    with open(s.include) as f:
        assert "priority 170" in f.read()
    lines = [json.loads(l) for l in open(s.audit)][n_audit:]
    assert [(l["result"], l["change"]["instances"][0]["priority"]) for l in lines] == [
        ("applied", 160), ("applied", 170)], lines


def test_config_checks(s):
    import subprocess

    def check(extra):
        path = os.path.join(s.dir, "check.yaml")
        with open(path, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\nha:\n  keepalived:\n"
                    + extra)
        # the text alone: the files these name are another machine's
        return subprocess.run([BIN, "-t", "--syntax-only", "-c", path], capture_output=True,
                              text=True)
    r = check("    config: /etc/keepalived/keepalived.conf\n    include: /etc/k/ipfixd.conf\n")
    assert r.returncode == 0, r.stderr
    # without --syntax-only too: ipfixd reads neither file (the helper reads keepalived.conf,
    # which may be root's alone; GET reads the include and says when it cannot)
    r = subprocess.run([BIN, "-t", "-c", os.path.join(s.dir, "check.yaml")], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr
    r = check("    config: /etc/keepalived/keepalived.conf\n")
    assert r.returncode != 0 and "needs config and include" in r.stderr, r.stderr
    r = check("    config: relative.conf\n    include: /x\n")
    assert r.returncode != 0 and "check.yaml:5:13: ha.keepalived.config must be an absolute" \
        in r.stderr, r.stderr
    # changes go through the helper or not at all: no fallback to writing the include
    r = check("    config: /a\n    include: /b\n    manage: true\n    audit-log: /d\n")
    assert r.returncode != 0 and "manage: true needs helper, the socket of " \
        "ipfixd-keepalived-apply" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    manage: true\n    helper: /run/k.sock\n")
    assert r.returncode != 0 and "needs audit-log" in r.stderr, r.stderr
    for key, value in (("reload", "systemctl reload keepalived"), ("backup-dir", "/c"),
                       ("scripts-dir", "/e"), ("keepalived-bin", "/usr/sbin/keepalived"),
                       ("reload-pid-file", "/run/k.pid"), ("check-timeout", "10s")):
        r = check("    config: /a\n    include: /b\n    %s: %s\n" % (key, value))
        assert r.returncode != 0 and "ha.keepalived.%s is the helper's now" % key in r.stderr \
            and "docs/ha.md#the-helper" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    helper-timeout: 0s\n")
    assert r.returncode != 0 and "helper-timeout must be from 1s" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    bogus: 1\n")
    assert r.returncode != 0 and "unknown key 'bogus' in ha.keepalived" in r.stderr, r.stderr
    # without --syntax-only: the helper's socket must be there, and a socket
    full = os.path.join(s.dir, "full.yaml")
    for helper, why in (("/nonexistent/k.sock", "cannot use socket /nonexistent/k.sock"),
                        (s.main, "%s is not a socket" % s.main)):
        with open(full, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n" + s.ha(True)
                    .replace("helper: %s" % s.sock, "helper: %s" % helper))
        r = subprocess.run([BIN, "-t", "-c", full], capture_output=True, text=True)
        assert r.returncode != 0 and "ha.keepalived.helper: " + why in r.stderr, r.stderr


def test_include_dir_closed(s):
    """With the helper in place, ipfixd's user has no write access to keepalived's files: it
    cannot create a file in the include's directory, open the include for writing, or rename
    over it; and ipfixd -t, run as that user with manage: true, does not ask for any (it once
    required the include to be writable)."""
    st = os.stat(s.kdir)
    assert st.st_uid == 0 and not st.st_mode & 0o022, oct(st.st_mode)
    code = r"""
import os, sys
kdir, include = sys.argv[1], sys.argv[2]
out = []
for what, fn in (("create", lambda: os.open(os.path.join(kdir, "x"), os.O_CREAT | os.O_WRONLY)),
                 ("write", lambda: os.open(include, os.O_WRONLY)),
                 ("rename", lambda: os.rename(include, os.path.join(kdir, "moved"))),
                 ("unlink", lambda: os.unlink(include))):
    try:
        fn()
        out.append(what + ": done")
    except PermissionError:
        out.append(what + ": denied")
print(" ".join(out))
"""
    def drop():
        os.setgroups([])
        os.setgid(NOBODY.pw_gid)
        os.setuid(NOBODY.pw_uid)
    r = subprocess.run([kahelper.python_for_others(), "-c", code, s.kdir, s.include],
                       capture_output=True, text=True, preexec_fn=drop, cwd="/")
    assert r.stdout.split() == ["create:", "denied", "write:", "denied", "rename:", "denied",
                                "unlink:", "denied"], r.stdout + r.stderr
    full = os.path.join(s.dir, "as-nobody.yaml")
    with open(full, "w") as f:
        f.write("user: nobody\ncollectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                + s.ha(True))
    os.chmod(full, 0o644)
    r = subprocess.run([BIN, "-t", "-c", full], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


def instance(s, **extra):
    inst = {"name": "VI_X", "interface": s.ifname, "virtual_router_id": 77, "priority": 100,
            "virtual_ipaddress": [{"address": "10.77.0.100/24"}]}
    inst.update(extra)
    return {"version": 1, "model": {"instances": [inst]}}


def test_helper_direct(s):
    """What a compromised ipfixd could send: requests straight to the helper's socket as
    ipfixd's user, past every check ipfixd makes. The helper refuses what its policy does not
    list (a script, an interface, an address, a router id), a rendered file in place of a
    model, a frame too large to take; a user the policy does not name gets no answer at all;
    a caller that sends nothing is dropped after its time. The include stays as it was."""
    with open(s.include) as f:
        before = f.read()
    n_audit = len(kahelper.audit_lines(s.helper_audit))
    uid, gid = NOBODY.pw_uid, NOBODY.pw_gid
    cases = (
        (instance(s, notify_master="/bin/sh MASTER"), "instances[0].notify_master"),
        (instance(s, notify="/usr/bin/id"), "instances[0].notify"),
        (instance(s, interface="dummy7"), "instances[0].interface"),
        (instance(s, virtual_ipaddress=[{"address": "192.0.2.1/32"}]),
         "instances[0].virtual_ipaddress[0].address"),
        (instance(s, virtual_ipaddress=[{"address": "10.77.0.100/1"}]),
         "instances[0].virtual_ipaddress[0].address"),
        (instance(s, virtual_ipaddress=[{"address": "10.77.0.100", "dev": "dummy7"}]),
         "instances[0].virtual_ipaddress[0].dev"),
        (instance(s, virtual_router_id=200), "instances[0].virtual_router_id"),
        (instance(s, unicast_peer=["10.77.0.2"]), "instances[0].unicast_peer[0]"),
    )
    for request, field in cases:
        a = kahelper.call_as(uid, gid, s.sock, request)
        assert a["status"] == 422 and a["field"] == field, (request, a)
        assert "helper's policy" in a["detail"], a
    # the model's own rules, checked again by the helper: what ipfixd would have refused
    for request, field in (
            (instance(s, notify_master=s.script + " MASTER /etc/cron.d/x"),
             "instances[0].notify_master"),
            (instance(s, interface="eth0\n}\nvrrp_script x {"), "instances[0].interface"),
            (instance(s, global_defs={}), "instances[0].global_defs"),
            ({"version": 1, "model": "vrrp_instance X {\n notify_master \"/bin/sh\" root\n}\n"},
             ""),
            ({"version": 1, "text": "vrrp_instance X {}"}, "")):
        a = kahelper.call_as(uid, gid, s.sock, request)
        assert a["status"] == 422 and a["field"] == field, (request, a)
    a = kahelper.call_as(uid, gid, s.sock, {"version": 9, "model": {"instances": []}})
    assert a["status"] == 400, a
    # a frame announcing 4 GB: refused from its length, nothing read or allocated for it
    a = kahelper.call_as(uid, gid, s.sock, None, raw=struct.pack(">I", 0xffffffff) + b"{}")
    assert a["status"] == 400 and "did not arrive whole" in a["detail"], a
    # another user: closed before a byte is read, no answer
    assert kahelper.call_as(1, 1, s.sock, instance(s)) is None
    assert "refused uid 1 " in s.helper.log(), s.helper.log()[-2000:]
    # a caller that sends nothing is dropped after the request timeout (5 s)
    t0 = time.time()
    a = kahelper.call_as(uid, gid, s.sock, None, raw=b"", timeout=60)
    assert a["status"] == 400 and time.time() - t0 < 30 * SLOW, a
    with open(s.include) as f:
        assert f.read() == before, "a refused request changed the include"
    assert not os.path.exists(s.marker)
    lines = kahelper.audit_lines(s.helper_audit)[n_audit:]
    assert len(lines) == len(cases) + 6, lines
    assert all(l["caller"]["uid"] == uid and l["result"] == "refused" for l in lines), lines


def activated_helper(s, fd, log):
    """The helper as systemd starts it: fd as descriptor 3, $LISTEN_FDS=1 and $LISTEN_PID its
    own pid (the shell's, which exec keeps). The shell moves fd to 3: this process may hold
    another descriptor there."""
    move = "" if fd == 3 else "exec 3<&%d %d<&-; " % (fd, fd)
    env = dict(os.environ, LISTEN_FDS="1")
    return subprocess.Popen(["/bin/sh", "-c", move + 'LISTEN_PID=$$ exec "$0" -p "$1"',
                             kahelper.APPLY, s.policy], env=env, pass_fds=(fd,),
                            stdout=subprocess.DEVNULL, stderr=log)


def test_socket_activation(s):
    """Descriptor 3 from systemd, both ways the units can pass it: a listening socket (Accept=no)
    the helper serves until SIGTERM, and one connection (Accept=yes, the shipped
    ipfixd-keepalived-apply@.service) it answers before it exits. Requests outside the policy,
    from ipfixd's user: the answer, not a change, proves the path."""
    uid, gid = NOBODY.pw_uid, NOBODY.pw_gid
    path = os.path.join(s.run, "activated.sock")
    log = open(os.path.join(s.dir, "activated.log"), "ab")
    request = instance(s, interface="dummy7")
    # Accept=no: a listening socket
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    os.chmod(path, 0o666)
    lsock.listen(4)
    p = activated_helper(s, lsock.fileno(), log)
    lsock.close()
    try:
        for _ in range(2):
            a = kahelper.call_as(uid, gid, path, request)
            assert a["status"] == 422 and a["field"] == "instances[0].interface", a
    finally:
        p.send_signal(signal.SIGTERM)
        assert p.wait(timeout=30 * SLOW) == 0
    os.unlink(path)
    # Accept=yes: the connection ipfixd's user made, accepted here as systemd would
    lsock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    lsock.bind(path)
    os.chmod(path, 0o666)
    lsock.listen(1)
    got = {}
    client = threading.Thread(target=lambda: got.update(
        a=kahelper.call_as(uid, gid, path, request)))
    client.start()
    conn, _ = lsock.accept()
    p = activated_helper(s, conn.fileno(), log)
    conn.close()
    lsock.close()
    try:
        assert p.wait(timeout=30 * SLOW) == 0, "the helper did not exit after its one request"
        client.join(30 * SLOW)
        assert got["a"]["status"] == 422 and got["a"]["field"] == "instances[0].interface", got
    finally:
        if p.poll() is None:
            p.kill()
        log.close()
    os.unlink(path)


def test_helper_down(api, s):
    """The helper gone: the PUT says so (503) and nothing changes; back, it works again."""
    s.stop_helper()
    try:
        p = problem(api, 503, good_model(s), contains="no answer from the helper at " + s.sock)
        assert "connect" in p["detail"], p
    finally:
        s.start_helper()
    code, _, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT", good_model(s, 140))
    assert code == 200, raw


def main():
    s = Setup()
    port, api_port = free_port(), free_tcp_port()
    s.port, s.api_port = port, api_port
    d = None
    try:
        s.start_helper()
        test_config_checks(s)
        if ROOT:
            test_include_dir_closed(s)
            test_helper_direct(s)
            test_socket_activation(s)
        else:
            print("SKIP the parts as ipfixd's user (nobody): they switch users, which needs root")
        # loopback, no auth, manage: true: reads work, writes never
        d = Daemon(config(s, port, api_port, manage=True, auth=False))
        api = Api(api_port)
        wait_for("/ready", lambda: api.get("/ready")[0] == 200)
        test_no_auth_on_loopback(api, s)
        # with tokens, manage: false
        d.write_config(config(s, port, api_port, manage=False, auth=True))
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded")
        wait_for("the API with auth", lambda: api.get("/api/v1/")[0] == 401)
        test_roles(api, s)
        # manage: true
        d.write_config(config(s, port, api_port, manage=True, auth=True))
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded", count=2)
        wait_for("manage: true", lambda: json.loads(
            req(api, "/api/v1/ha/keepalived", READER)[2]).get("manage") is True)
        test_validation(api, s)
        test_not_utf8(api, s, d)
        test_refusal_kept(api, s, d)
        test_documented(api, s, READER)
        if not os.access(KEEPALIVED, os.X_OK) or interface() is None:
            print("SKIP keepalived -t parts: %s" % (
                "%s is not installed" % KEEPALIVED if not os.access(KEEPALIVED, os.X_OK)
                else "no interface but lo for a VRRP instance"))
        else:
            test_keepalived_check(api, s)
            test_good_change(api, s, d)
            test_slow_reload(api, s, d)
            test_helper_down(api, s)
    finally:
        if d is not None:
            d.stop()
        s.stop_helper()
    shutil.rmtree(s.dir, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
