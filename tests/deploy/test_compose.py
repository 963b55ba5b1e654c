"""deploy/compose/docker-compose.yml as docker-compose reads it (`docker-compose config`), and
what the dev stack promises: three services with health checks, named volumes, the API on the
host's loopback only, and an ipfixd config that ipfixd -t accepts and that exports to nfcapd."""
import os
import yaml

from deploytest import SOURCE, ipfixd_check, main, need, run, yamllint

DIR = os.path.join(SOURCE, "deploy", "compose")
FILE = os.path.join(DIR, "docker-compose.yml")


def config():
    need("docker-compose", "docker-compose")
    r = run(["docker-compose", "-f", FILE, "config"], cwd=DIR)
    return yaml.safe_load(r.stdout)


def test_config_validates():
    c = config()
    svcs = c["services"]
    assert {"ipfixd", "nfcapd", "sender"} <= set(svcs), sorted(svcs)
    for name, s in svcs.items():
        assert "healthcheck" in s, "%s has no healthcheck" % name
    assert "healthcheck" in svcs["ipfixd"]["healthcheck"]["test"]
    assert set(c["volumes"]) >= {"ipfixd-state", "nfdump-data"}, c.get("volumes")
    named = []
    for v in svcs["ipfixd"]["volumes"]:
        src, dst = (v["source"], v["target"]) if isinstance(v, dict) else v.split(":")[:2]
        if not src.startswith(("/", ".")):
            named.append((src, dst))
    assert named == [("ipfixd-state", "/var/lib/ipfixd")], named
    # the API: published on 127.0.0.1 only; the collector ports on every address
    api = []
    for p in svcs["ipfixd"]["ports"]:
        if isinstance(p, str):
            parts = p.split("/")[0].split(":")
            p = {"host_ip": parts[0] if len(parts) == 3 else None, "published": parts[-2],
                 "target": parts[-1]}
        if str(p.get("target")) in ("8080", "8081") or str(p.get("published")) == "8080":
            api.append(p)
    assert api and all(p.get("host_ip") == "127.0.0.1" for p in api), api
    assert svcs["api-proxy"]["network_mode"] == "service:ipfixd"
    assert svcs["ipfixd"]["build"]["dockerfile"] == "deploy/docker/Dockerfile"
    assert svcs["sender"]["build"]["target"] == "sender"
    assert svcs["nfcapd"]["command"][0] == "nfcapd"


def test_ipfixd_config_exports_to_nfcapd():
    path = os.path.join(DIR, "ipfixd.yaml")
    ipfixd_check(path)
    cfg = yaml.safe_load(open(path))
    c = config()
    nfcapd_ip = c["services"]["nfcapd"]["networks"]["flows"]["ipv4_address"]
    cmd = c["services"]["nfcapd"]["command"]
    port = cmd[cmd.index("-p") + 1]
    dests = [d for o in cfg["outputs"] if o["type"] == "ipfix" for d in o["destinations"]]
    assert "%s:%s" % (nfcapd_ip, port) in dests, (dests, nfcapd_ip, port)


def test_nfcapd_takes_the_command_line():
    """The nfcapd command of the compose file starts Debian's nfcapd (run here for a moment)."""
    import shutil
    import subprocess
    import tempfile
    import time
    if shutil.which("nfcapd") is None:
        print("(nfcapd not installed: command line not tried)")
        return
    cmd = config()["services"]["nfcapd"]["command"]
    d = tempfile.mkdtemp(prefix="ixdnfcapd-")
    args = list(cmd)
    args[args.index("-w") + 1] = d
    args[args.index("-p") + 1] = "0"  # any free port
    p = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    time.sleep(1.0)
    alive = p.poll() is None
    p.terminate()
    out = p.communicate(timeout=10)[0].decode(errors="replace")
    assert alive, "nfcapd exited: %s" % out


def test_yamllint():
    yamllint(FILE)


if __name__ == "__main__":
    main([test_config_validates, test_ipfixd_config_exports_to_nfcapd,
          test_nfcapd_takes_the_command_line, test_yamllint])
