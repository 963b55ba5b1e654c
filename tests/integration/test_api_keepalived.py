#!/usr/bin/env python3
"""keepalived over REST (docs/ha.md#keepalived-over-rest) against the real daemon: the read
endpoints' shape (role from the notify hook's file, virtual IPs held, the include as a model),
the role checks of PUT /api/v1/ha/keepalived/include (no auth on loopback, reader, admin with
manage: false), validation failures (global_defs, a script outside scripts-dir, a notify
script with any argument but its role, a bad address or prefix, a priority out of range), an
include that is not UTF-8 (read with a warning, the daemon up), keepalived -t refusing (also
when the exit status comes late), a good
change (include replaced, backup, audit line, reload command run, symlinks planted at the
temporary names not followed), and a slow reload that blocks neither reads nor a second
change, which is applied after it. The keepalived -t parts need /usr/sbin/keepalived and an
interface other than lo; without them they are skipped, and said so."""
import hashlib
import json
import os
import shutil
import signal
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
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


class Setup:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="ixdkad-")
        self.ifname = interface() or "eth0"
        self.kdir = os.path.join(self.dir, "keepalived")
        self.scripts = os.path.join(self.dir, "scripts")
        self.backups = os.path.join(self.dir, "backup")
        for d in (self.kdir, self.scripts, self.backups):
            os.makedirs(d)
        self.main = os.path.join(self.kdir, "keepalived.conf")
        self.include = os.path.join(self.kdir, "ipfixd.conf")
        self.state = os.path.join(self.dir, "ha-role")
        self.audit = os.path.join(self.dir, "audit.log")
        self.marker = os.path.join(self.dir, "reloaded")
        self.reload = "/usr/bin/touch " + self.marker
        self.keepalived_bin = KEEPALIVED
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

    def ha(self, manage):
        return f"""
ha:
  keepalived:
    config: {self.main}
    include: {self.include}
    state-file: {self.state}
    manage: {"true" if manage else "false"}
    keepalived-bin: {self.keepalived_bin}
    reload: {self.reload}
    backup-dir: {self.backups}
    audit-log: {self.audit}
    scripts-dir: {self.scripts}
"""


def config(s, port, api_port, manage, auth):
    tokens = ""
    if auth:
        tokens = "  auth:\n    tokens:\n" + "".join(
            "      - {name: %s, role: %s, sha256: %s}\n"
            % (n, r, hashlib.sha256(t.encode()).hexdigest()) for n, r, t in (("grafana", "reader", READER), ("ops", "admin", ADMIN)))
    return f"""
workers: 1
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
    def bad(mutate, field, contains=None):
        m = good_model(s)
        mutate(m)
        return problem(api, 422, m, field=field, contains=contains)
    bad(lambda m: m.update({"global_defs": {"router_id": "x"}}), "global_defs",
        "stays in keepalived.conf")
    bad(lambda m: m.update({"vrrp_script": {}}), "vrrp_script", "stays in keepalived.conf")
    bad(lambda m: m["instances"][0].update({"notify_master": "/tmp/evil.sh MASTER"}),
        "instances[0].notify_master", "scripts-dir")
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
        "instances[0].notify_backup", "not a script in")
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


def test_not_utf8(api, s, d):
    """An include with a word that is not UTF-8 (a JSON string cannot hold it): GET answers with
    the model empty and a warning naming the line, and the daemon stays up."""
    with open(s.include, "rb") as f:
        before = f.read()
    text = (INCLUDE % {"ifname": s.ifname}).encode()
    bad = text.replace(b"    priority 100\n", b"    priority 100\n    caf\xe9\n")
    assert bad != text
    with open(s.include, "wb") as f:
        f.write(bad)
    try:
        for path in ("/api/v1/ha/keepalived", "/api/v1/ha/keepalived/include"):
            code, _, raw = req(api, path, READER)
            assert code == 200, (path, code, raw)
            k = json.loads(raw)
            assert k["instances"] == [] and k["virtual_servers"] == [], k
            assert any("line 7: a word that is not UTF-8" in w for w in k["warnings"]), k
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
    """Symlinks to a bait file at the fixed temporary names ipfixd once used next to the include
    (the check copies of keepalived -t, the include before its rename): whoever may write that
    directory could make ipfixd write through them."""
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
    # what GET shows is what was PUT, and a GET body can be PUT back as it is
    code, _, raw = req(api, "/api/v1/ha/keepalived/include", READER)
    again = json.loads(raw)
    os.unlink(s.marker)
    code, _, raw = req(api, "/api/v1/ha/keepalived/include", ADMIN, "PUT",
                       {k: again[k] for k in ("instances", "virtual_servers", "warnings",
                                              "_links")})
    assert code == 200, raw
    assert open(s.include).read() == text and os.path.exists(s.marker)


def reconfigure(api, s, d):
    """The daemon reloaded with s as it is now (manage: true, auth), its API answering."""
    reloads = len(d.log().split("reloaded")) - 1
    d.write_config(config(s, s.port, s.api_port, manage=True, auth=True))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", count=reloads + 1)
    wait_for("the API after the reload", lambda: api.get("/ready")[0] == 200)


def test_refusal_kept(api, s, d):
    """A keepalived -t that refuses and exits at once, while a process it started holds its
    output open for a second: the refusal reaches the PUT. (The control thread's event loop
    once reaped every child on SIGCHLD; the PUT's waitpid then found none, read the status as
    0 and applied what keepalived had refused.)"""
    fake = os.path.join(s.dir, "refusing-keepalived")
    with open(fake, "w") as f:
        f.write("#!/bin/sh\necho 'refused by this test' >&2\n(sleep 1) &\nexit 3\n")
    os.chmod(fake, 0o755)
    before = open(s.include).read()
    s.keepalived_bin = fake
    reconfigure(api, s, d)
    try:
        for _ in range(2):
            p = problem(api, 422, good_model(s), contains="keepalived -t refuses the change",
                        field="")
            assert "refused by this test" in p["detail"], p
        assert open(s.include).read() == before and not os.path.exists(s.marker)
    finally:
        s.keepalived_bin = KEEPALIVED
        reconfigure(api, s, d)


def test_slow_reload(api, s, d):
    """A reload that takes seconds: reads are answered while it runs, and a second PUT sent
    meanwhile is applied after the first (both audited, in that order)."""
    slow = os.path.join(s.dir, "slow-reload")
    with open(slow, "w") as f:
        # not scaled by SLOW: the reads below must come while it runs, and they come 0.5 s after
        f.write("#!/bin/sh\nsleep 4\nexec /usr/bin/touch %s\n" % s.marker)
    os.chmod(slow, 0o755)
    s.reload = slow
    reconfigure(api, s, d)
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
    # without --syntax-only the config keepalived reads must be there
    r = subprocess.run([BIN, "-t", "-c", os.path.join(s.dir, "check.yaml")], capture_output=True,
                       text=True)
    if not os.path.exists("/etc/keepalived/keepalived.conf"):
        assert r.returncode != 0 and "check.yaml:5:13: ha.keepalived.config: cannot open" \
            in r.stderr, r.stderr
    r = check("    config: /etc/keepalived/keepalived.conf\n")
    assert r.returncode != 0 and "needs config and include" in r.stderr, r.stderr
    r = check("    config: relative.conf\n    include: /x\n")
    assert r.returncode != 0 and "check.yaml:5:13: ha.keepalived.config must be an absolute" \
        in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    manage: true\n")
    assert r.returncode != 0 and "needs backup-dir and audit-log" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    manage: true\n    backup-dir: /c\n"
              "    audit-log: /d\n")
    assert r.returncode != 0 and "reload" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    reload: systemctl reload keepalived; id\n")
    assert r.returncode != 0 and "without a shell" in r.stderr, r.stderr
    r = check("    config: /a\n    include: /b\n    bogus: 1\n")
    assert r.returncode != 0 and "unknown key 'bogus' in ha.keepalived" in r.stderr, r.stderr


def main():
    s = Setup()
    port, api_port = free_port(), free_tcp_port()
    s.port, s.api_port = port, api_port
    d = None
    try:
        test_config_checks(s)
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
    finally:
        if d is not None:
            d.stop()
    shutil.rmtree(s.dir, ignore_errors=True)
    print("ok")


if __name__ == "__main__":
    main()
