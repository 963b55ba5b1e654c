"""deploy/helm/ipfixd with a real helm binary: lint --strict and template for the default values
and every ci/*.yaml; the rendered config passes ipfixd -t; yamllint on the output; and what the
chart promises (StatefulSet with a volume per replica, externalTrafficPolicy Local, hostNetwork,
checksum roll, probes, non-root read-only pods, ServiceMonitor, values schema)."""
import glob
import os
import tempfile

import yaml

from deploytest import SOURCE, helm, ipfixd_check, main, run, yamllint

CHART = os.path.join(SOURCE, "deploy", "helm", "ipfixd")
CI = sorted(glob.glob(os.path.join(CHART, "ci", "*.yaml")))
HELM = None


def h():
    global HELM
    if HELM is None:
        HELM = helm()
    return HELM


def template(values=None, sets=(), check=True):
    cmd = [h(), "template", "rel", CHART, "--namespace", "flows"]
    if values:
        cmd += ["-f", values]
    for s in sets:
        cmd += ["--set", s]
    return run(cmd, check=check)


def docs(text):
    return [d for d in yaml.safe_load_all(text) if d]


def kinds(ds, kind):
    return [d for d in ds if d["kind"] == kind]


def test_lint_strict():
    assert CI, "no ci/*.yaml"
    run([h(), "lint", "--strict", CHART])
    for v in CI:
        run([h(), "lint", "--strict", CHART, "-f", v])


def test_every_values_file_renders_a_valid_config():
    for v in [None] + CI:
        text = template(v).stdout
        out = tempfile.NamedTemporaryFile("w", suffix=".yaml", delete=False)
        out.write(text)
        out.close()
        yamllint(out.name)
        ds = docs(text)
        cm = [c for c in kinds(ds, "ConfigMap") if "ipfixd.yaml" in c["data"]]
        assert len(cm) == 1, cm
        cfg = os.path.join(tempfile.mkdtemp(prefix="ixdhelm-"), "ipfixd.yaml")
        with open(cfg, "w") as f:
            f.write(cm[0]["data"]["ipfixd.yaml"])
        ipfixd_check(cfg)
        check_pod(ds, v)


def check_pod(ds, values):
    (sts,) = kinds(ds, "StatefulSet")
    pod = sts["spec"]["template"]["spec"]
    c = pod["containers"][0]
    cm = [d for d in kinds(ds, "ConfigMap") if "ipfixd.yaml" in d["data"]][0]
    cfg = yaml.safe_load(cm["data"]["ipfixd.yaml"])
    if any(col.get("transport") == "pcap" for col in cfg.get("collectors", [])):
        # capture: root only to open the sockets, then the config's user; NET_RAW and what
        # dropping to the user takes, nothing else; the node's network
        assert pod["securityContext"]["runAsUser"] == 0 and cfg["user"] == "ipfixd", cfg
        assert c["securityContext"]["capabilities"] == {
            "drop": ["ALL"], "add": ["NET_RAW", "SETUID", "SETGID"]}, c["securityContext"]
        assert pod["hostNetwork"] is True
    else:
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert c["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert c["securityContext"]["allowPrivilegeEscalation"] is False
    assert c["resources"]["requests"], c
    for probe in ("readinessProbe", "livenessProbe"):
        cmd = c[probe]["exec"]["command"]
        assert cmd[:2] == ["/usr/sbin/ipfixd", "healthcheck"], cmd
    assert c["readinessProbe"]["exec"]["command"][-1].endswith("/ready")
    assert c["livenessProbe"]["exec"]["command"][-1].endswith("/health")
    assert "checksum/config" in sts["spec"]["template"]["metadata"]["annotations"]
    mounts = {m["mountPath"] for m in c["volumeMounts"]}
    assert {"/etc/ipfixd/ipfixd.yaml", "/var/lib/ipfixd", "/tmp"} <= mounts, mounts
    svcs = {s["metadata"]["name"]: s for s in kinds(ds, "Service")}
    host = pod.get("hostNetwork", False)
    if host:
        assert "rel-ipfixd-udp" not in svcs and "rel-ipfixd-tcp" not in svcs, sorted(svcs)
        assert pod["dnsPolicy"] == "ClusterFirstWithHostNet"
    else:
        for proto in ("udp", "tcp"):
            s = svcs["rel-ipfixd-" + proto]["spec"]
            assert s["externalTrafficPolicy"] == "Local", s
            assert [p["protocol"] for p in s["ports"]] == [proto.upper()], s
    if "volumeClaimTemplates" in sts["spec"]:
        assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["name"] == "state"
    else:
        assert any(v["name"] == "state" and "emptyDir" in v for v in pod["volumes"]), values


def test_defaults():
    ds = docs(template().stdout)
    (sts,) = kinds(ds, "StatefulSet")
    assert sts["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    assert not kinds(ds, "ServiceMonitor")
    assert "rel-ipfixd-api" not in {s["metadata"]["name"] for s in kinds(ds, "Service")}
    svc = [s for s in kinds(ds, "Service") if s["metadata"]["name"] == "rel-ipfixd-udp"][0]
    assert svc["spec"]["type"] == "LoadBalancer"


def test_config_change_rolls_pods():
    def checksum(sets):
        (sts,) = kinds(docs(template(sets=sets).stdout), "StatefulSet")
        return sts["spec"]["template"]["metadata"]["annotations"]["checksum/config"]
    a = checksum([])
    assert a == checksum([]), "the checksum is not stable"
    assert a != checksum(["config.workers=3"]), "a config change keeps the checksum"
    assert a != checksum(["luaScripts.x\\.lua=return 1"]), "a Lua change keeps the checksum"


def test_api_and_service_monitor():
    v = os.path.join(CHART, "ci", "api-monitoring-values.yaml")
    ds = docs(template(v).stdout)
    (sm,) = kinds(ds, "ServiceMonitor")
    api = [s for s in kinds(ds, "Service") if s["metadata"]["name"] == "rel-ipfixd-api"][0]
    assert sm["spec"]["selector"]["matchLabels"].items() <= api["metadata"]["labels"].items()
    assert sm["spec"]["endpoints"][0]["path"] == "/metrics"
    (sts,) = kinds(ds, "StatefulSet")
    names = [c["name"] for c in sts["spec"]["template"]["spec"]["containers"]]
    assert names == ["ipfixd", "api-proxy"], names
    r = template(sets=["serviceMonitor.enabled=true"], check=False)
    assert r.returncode != 0 and "apiService.enabled" in r.stderr, r.stderr


def test_rrd_volume():
    """An rrd output's files get a volume of their own at its default directory: a claim per
    replica, or the pod's emptyDir."""
    v = os.path.join(CHART, "ci", "rrd-values.yaml")
    (sts,) = kinds(docs(template(v).stdout), "StatefulSet")
    claims = {c["metadata"]["name"]: c for c in sts["spec"]["volumeClaimTemplates"]}
    assert sorted(claims) == ["rrd", "state"], sorted(claims)
    assert claims["rrd"]["spec"]["resources"]["requests"]["storage"] == "20Gi"
    mounts = {m["name"]: m["mountPath"] for m in
              sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["rrd"] == "/var/lib/ipfixd/rrd", mounts
    (sts,) = kinds(docs(template(v, sets=["rrdVolume.persistent=false"]).stdout), "StatefulSet")
    assert [c["metadata"]["name"] for c in sts["spec"]["volumeClaimTemplates"]] == ["state"]
    assert {"name": "rrd", "emptyDir": {}} in sts["spec"]["template"]["spec"]["volumes"]
    (sts,) = kinds(docs(template().stdout), "StatefulSet")
    assert "rrd" not in {m["name"] for m in
                         sts["spec"]["template"]["spec"]["containers"][0]["volumeMounts"]}


def test_lua_configmap():
    v = os.path.join(CHART, "ci", "relay-lua-values.yaml")
    ds = docs(template(v).stdout)
    lua = [c for c in kinds(ds, "ConfigMap") if c["metadata"]["name"].endswith("-lua")]
    assert lua and "tag.lua" in lua[0]["data"], lua


def test_schema_refuses_bad_values():
    for bad in ("service.externalTrafficPolicy=Sometimes", "config.api.listen=0.0.0.0:8080",
                "persistence.size=lots", "nosuchkey=1"):
        r = template(sets=[bad], check=False)
        assert r.returncode != 0, "the schema accepts %s" % bad


if __name__ == "__main__":
    main([test_lint_strict, test_every_values_file_renders_a_valid_config, test_defaults,
          test_config_change_rolls_pods, test_api_and_service_monitor, test_rrd_volume,
          test_lua_configmap, test_schema_refuses_bad_values])
