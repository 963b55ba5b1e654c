"""The keepalived examples of deploy/keepalived/ (docs/ha.md), as keepalived sees them:
`keepalived -t` on every example (the VRRP pair with this tree's ipfixd and notify hook in place
of the installed paths, both copied into a directory keepalived's script user can reach, the
LVS director as it is) and on the files the failover test generates; the helper's example
policy passes `ipfixd-keepalived-apply -t` and admits the pair's instances, which the helper
then installs past `keepalived -t`; the pair agrees with itself; the notify hook writes its role file and no other, and not through a symlink planted
beside it; the HA ipfixd examples (config/examples/ha-a.yaml, ha-b.yaml) pass `ipfixd -t` with
a key file and yamllint.

keepalived 2.2.7 (Debian 12) kills itself with SIGTERM in `-t` when script security is on and a
script user is set (keepalived issues #2587, #2617, fixed in 2.2.8): its check compares
getppid() with the main pid, which a config test never set (0). In a new PID namespace
keepalived is PID 1 and getppid() is 0, so the check passes: `unshare --pid --fork`. Needs
root (script security switches to the script user); exits 77 otherwise."""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

from deploytest import SOURCE, ipfixd_check, main, need, run, skip, yamllint

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import test_failover  # noqa: E402  (the generated configs)
import kahelper  # noqa: E402  (test_failover put tests/integration on the path)

KEEPALIVED_DIR = os.path.join(SOURCE, "deploy", "keepalived")
EXAMPLES = os.path.join(SOURCE, "config", "examples")


def keepalived_t(path):
    """keepalived -t on path: (exit status, what it printed)."""
    cmd = ["unshare", "--pid", "--fork", "keepalived", "-t", "-f", path]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    return r.returncode, (r.stdout + r.stderr).strip()


def check_passes(path, text=None):
    rc, out = keepalived_t(path)
    assert rc == 0 and out == "", "keepalived -t refuses %s (%d):\n%s\n%s" % (
        path, rc, out, text if text is not None else "")


def good_config(tmp, tools, host="a"):
    """The example of host with this tree's binary and hook (installed in tools) instead of
    /usr/sbin and /etc/keepalived, which do not exist here: keepalived -t would disable the
    scripts. Returns (text, the installed ipfixd)."""
    ipfixd = os.path.join(tools, "ipfixd")
    if not os.path.exists(ipfixd):
        test_failover.install_ipfixd(tools)
    hook = test_failover.install_hook(tools, "ipfixd-notify-%s.sh" % host,
                                      os.path.join(tmp, "role-" + host))
    return test_failover.keepalived_config(host, ipfixd, hook), ipfixd


def test_examples_pass():
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    tools = test_failover.tool_dir()
    try:
        examples = sorted(glob.glob(os.path.join(KEEPALIVED_DIR, "*.conf")))
        names = [os.path.basename(p) for p in examples]
        assert names == ["keepalived-a.conf", "keepalived-b.conf", "lvs.conf"], names
        for host in ("a", "b"):
            text, _ = good_config(tmp, tools, host)
            path = os.path.join(tmp, "keepalived-%s.conf" % host)
            with open(path, "w") as f:
                f.write(text)
            check_passes(path, text)
        check_passes(os.path.join(KEEPALIVED_DIR, "lvs.conf"))
        # the files a failover run generates
        failover_tools = test_failover.tool_dir()
        try:
            paths = test_failover.write_configs(tmp, failover_tools)
            for host in ("a", "b"):
                check_passes(paths["keepalived-" + host])
        finally:
            shutil.rmtree(failover_tools, ignore_errors=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tools, ignore_errors=True)


def test_policy_example():
    """deploy/keepalived/keepalived-apply.yaml, with this machine's paths (test_failover's
    substitutions): `-t` takes it; the helper it configures installs the instance of each
    example host (its model as the API sends it), which means keepalived -t passed on
    keepalived.conf with the include the helper rendered; and it refuses what the policy does
    not list."""
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    tools = test_failover.tool_dir()
    try:
        yamllint(test_failover.POLICY)
        paths = test_failover.write_configs(tmp, tools)
        for host in ("a", "b"):
            # no keepalived runs here: the reload signals a process of the test's own
            sleeper = subprocess.Popen(["sleep", "60"])
            with open(paths["keepalived-pid-" + host], "w") as f:
                f.write("%d\n" % sleeper.pid)
            r = subprocess.run([kahelper.APPLY, "-t", "-p", paths["policy-" + host]],
                               capture_output=True, text=True)
            assert r.returncode == 0 and "is valid" in r.stderr, r.stderr
            sock = os.path.join(tmp, "apply-%s.sock" % host)
            helper = kahelper.Helper(paths["policy-" + host], sock,
                                     os.path.join(tmp, "helper-%s.log" % host))
            try:
                a = kahelper.call(sock, {"version": 1, "model": paths["model-" + host]})
                assert a["status"] == 200, a
                assert sleeper.wait(timeout=10) == -signal.SIGHUP, "keepalived was not reloaded"
                check_passes(paths["keepalived-" + host])
                model = dict(paths["model-" + host]["instances"][0], interface="eth1")
                a = kahelper.call(sock, {"version": 1, "model": {"instances": [model]}})
                assert a["status"] == 422 and a["field"] == "instances[0].interface", a
            finally:
                helper.stop()
                if sleeper.poll() is None:
                    sleeper.kill()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tools, ignore_errors=True)


def test_broken_configs_fail():
    """keepalived -t as run here does refuse: a misspelt keyword, a script that does not
    exist, a misspelt LVS keyword. (keepalived 2.2.7's -t does not flag a script that others
    may write: script security is enforced when the daemon runs.)"""
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    tools = test_failover.tool_dir()
    try:
        good, ipfixd = good_config(tmp, tools)
        cases = {
            "keyword": good.replace("advert_int 0.2", "advert_intervall 0.2"),
            "missing script": good.replace(ipfixd, "/nonexistent/ipfixd"),
        }
        with open(os.path.join(KEEPALIVED_DIR, "lvs.conf")) as f:
            lvs = f.read()
        cases["lvs keyword"] = lvs.replace("persistence_timeout 600", "persistance_timeout 600", 1)
        for what, text in cases.items():
            assert text != (lvs if what.startswith("lvs") else good), what
            path = os.path.join(tmp, "bad.conf")
            with open(path, "w") as f:
                f.write(text)
            rc, out = keepalived_t(path)
            assert rc != 0 and out, "keepalived -t accepts a config with a %s" % what
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(tools, ignore_errors=True)


def settings(path):
    with open(path) as f:
        text = f.read()
    one = lambda key: re.search(r"^\s*%s\s+(\S+)" % key, text, re.M).group(1)  # noqa: E731
    peer = re.search(r"unicast_peer\s*\{\s*(\S+)\s*\}", text).group(1)
    vip = re.search(r"virtual_ipaddress\s*\{\s*(\S+)", text).group(1)
    return {"vrid": one("virtual_router_id"), "prio": int(one("priority")),
            "src": one("unicast_src_ip"), "peer": peer, "vip": vip, "advert": one("advert_int"),
            "version": one("vrrp_version"), "text": text}


def test_pair_agrees():
    a = settings(os.path.join(KEEPALIVED_DIR, "keepalived-a.conf"))
    b = settings(os.path.join(KEEPALIVED_DIR, "keepalived-b.conf"))
    assert a["vrid"] == b["vrid"] and a["vip"] == b["vip"] == "10.77.0.100/24"
    assert a["src"] == b["peer"] == "10.77.0.1" and b["src"] == a["peer"] == "10.77.0.2"
    assert a["prio"] > b["prio"]
    for s in (a, b):
        assert s["version"] == "3" and 0.2 <= float(s["advert"]) <= 1.0, s["advert"]
        text = s["text"]
        for key in ("enable_script_security", "script_user", "track_script", "notify_master",
                    "notify_backup", "notify_fault", "nopreempt"):
            assert re.search(r"^\s*%s\b" % key, text, re.M), key
        assert re.search(r"^\s*interval 1\s", text, re.M) and "healthcheck" in text
    with open(os.path.join(KEEPALIVED_DIR, "lvs.conf")) as f:
        lvs = f.read()
    servers = re.findall(r"virtual_server \S+ 4739 \{(.*?)\n\}", lvs, re.S)
    protos = sorted(re.search(r"protocol (\w+)", s).group(1) for s in servers)
    assert protos == ["TCP", "UDP"], protos
    for s in servers:
        assert re.search(r"persistence_timeout [1-9]", s) and "lvs_sched" in s
        assert not re.search(r"^\s*ops\b", s, re.M), "one-packet scheduling"
        assert len(re.findall(r"^\s*real_server ", s, re.M)) == 2
        assert len(re.findall(r"^\s*[A-Z_]+_CHECK\s*\{", s, re.M)) == 2


def role_line(path, role):
    with open(path) as f:
        line = f.read()
    assert re.fullmatch(r"role=%s since=\d+ host=\S+\n" % role, line), line


def test_notify_hook():
    """The hook as installed (its ROLE_FILE set): each role, from notify_ROLE and from notify's
    four arguments; its own file named as a second argument is fine, any other is refused."""
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    try:
        role = os.path.join(tmp, "state", "ha-role")
        hook = test_failover.install_hook(tmp, "ipfixd-notify.sh", role)
        for r in ("MASTER", "BACKUP", "FAULT", "STOP"):
            run([hook, r])
            role_line(role, r)
        run([hook, "MASTER", role])
        role_line(role, "MASTER")
        run([hook, "INSTANCE", "VI_IPFIX", "BACKUP", "100"])
        role_line(role, "BACKUP")
        other = os.path.join(tmp, "state", "other")
        for args in (["MASTER", other], ["MASTER", role + "/"], ["LEADER"], [],
                     ["INSTANCE", "VI_IPFIX", "LEADER", "100"], ["MASTER", "x", "y", "z"],
                     ["MASTER", role, "x"]):
            bad = subprocess.run([hook] + args, capture_output=True, text=True)
            assert bad.returncode == 2, (args, bad.returncode, bad.stderr)
        assert not os.path.exists(other)
        assert "writes %s only" % role in subprocess.run(
            [hook, "FAULT", other], capture_output=True, text=True).stderr
        role_line(role, "BACKUP")  # nothing refused changed it
        assert os.listdir(os.path.dirname(role)) == ["ha-role"]  # no temporary file left
        # git keeps only the executable bit: install (here and in docs/ha.md) sets 0755
        assert os.stat(test_failover.NOTIFY).st_mode & 0o100
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_notify_hook_planted_symlinks():
    """ipfixd's user may write the role file's directory, and the hook runs as root: symlinks
    planted there, at NAME.tmp.PID for the PIDs to come (a fixed temporary name) and at the
    role file itself, must not make the hook write through them."""
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    try:
        state = os.path.join(tmp, "state")
        os.makedirs(state)
        target = os.path.join(tmp, "target")
        with open(target, "w") as f:
            f.write("not the hook's\n")
        role = os.path.join(state, "ha-role")
        hook = test_failover.install_hook(tmp, "ipfixd-notify.sh", role)
        with open("/proc/sys/kernel/ns_last_pid") as f:
            last = int(f.read())
        with open("/proc/sys/kernel/pid_max") as f:
            pid_max = int(f.read())
        planted = [role]
        for i in range(1, 3000):
            pid = last + i if last + i <= pid_max else last + i - pid_max + 300
            planted.append("%s.tmp.%d" % (role, pid))
        for link in planted:
            os.symlink(target, link)
        run([hook, "MASTER", role])
        with open(target) as f:
            assert f.read() == "not the hook's\n", "the hook wrote through a planted symlink"
        assert not os.path.islink(role)
        role_line(role, "MASTER")
        assert all(os.path.islink(link) for link in planted[1:])
        assert sorted(os.listdir(state)) == sorted(os.path.basename(p) for p in planted)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def test_ha_examples():
    """ipfixd -t on config/examples/ha-a.yaml and ha-b.yaml with a key made as documented."""
    tmp = tempfile.mkdtemp(prefix="ixdka-")
    try:
        key = os.path.join(tmp, "ha.key")
        run(["sh", "-c", "umask 077; head -c 32 /dev/urandom > '%s'" % key])
        for host in ("a", "b"):
            src = os.path.join(EXAMPLES, "ha-%s.yaml" % host)
            yamllint(src)
            path = os.path.join(tmp, "ha-%s.yaml" % host)
            with open(path, "w") as f:
                f.write(test_failover.ipfixd_config(host, key, os.path.join(tmp, "state")))
            ipfixd_check(path)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    if os.geteuid() != 0:
        skip("keepalived -t checks script security by switching users: needs root")
    need("keepalived", "keepalived")
    need("unshare", "util-linux")
    main([test_examples_pass, test_policy_example, test_broken_configs_fail, test_pair_agrees,
          test_notify_hook, test_notify_hook_planted_symlinks, test_ha_examples])
