"""The Debian package, as dpkg sees it: CPack builds it from a release tree with the /usr
prefix; it is installed on this machine with dpkg -i, run from the installed paths, removed with
dpkg -r (only the conffile stays) and purged (nothing it created stays). Needs root."""
import os
import re
import shutil
import stat
import subprocess
import tempfile

from deploytest import SOURCE, main, need, run, skip

LIBS = {"libc6", "libev4", "libfixbuf9", "libglib2.0-0", "libjansson4", "libmicrohttpd12",
        "librrd8", "libssl3", "libyaml-0-2", "libpcap0.8", "libndpi4.2", "libluajit-5.1-2",
        "libmaxminddb0", "libsnmp40", "librdkafka1", "libcurl4", "zlib1g",
        # not linked: the font librrd draws graphs' text with
        "fontconfig", "fonts-dejavu-core"}
EXPECTED = ["/usr/sbin/ipfixd", "/usr/bin/ipfixd-send", "/etc/ipfixd/ipfixd.yaml",
            "/usr/lib/systemd/system/ipfixd.service", "/usr/lib/sysctl.d/60-ipfixd.conf",
            "/usr/sbin/ipfixd-keepalived-apply",
            "/usr/lib/systemd/system/ipfixd-keepalived-apply.socket",
            "/usr/lib/systemd/system/ipfixd-keepalived-apply@.service",
            "/usr/share/man/man8/ipfixd-keepalived-apply.8",
            "/usr/share/doc/ipfixd/examples/keepalived-apply.yaml",
            "/usr/share/man/man8/ipfixd.8", "/usr/share/man/man5/ipfixd.yaml.5",
            "/usr/share/doc/ipfixd/examples/relay.yaml", "/usr/share/ipfixd/elements/cisco.xml",
            "/usr/share/doc/ipfixd/deployment.md"]
# directories the package creates, unless they were there before (/etc/ipfixd holds the HA key
# of docs/ha.md, say): dpkg -P removes only what it created
DIRS = ["/etc/ipfixd", "/usr/share/ipfixd", "/usr/share/doc/ipfixd"]


def installed(pkg):
    r = run(["dpkg-query", "-W", "-f=${Status}", pkg], check=False)
    return r.returncode == 0 and "installed" in r.stdout and "not-installed" not in r.stdout


def build_package():
    tree = tempfile.mkdtemp(prefix="ixdpkg-")
    nice = ["nice", "-n", "10"]
    run(nice + ["cmake", "-S", SOURCE, "-B", tree, "-DCMAKE_INSTALL_PREFIX=/usr",
                "-DCMAKE_BUILD_TYPE=Release", "-DIXD_TESTS=OFF"])
    run(nice + ["cmake", "--build", tree, "-j2", "--target", "ipfixd", "ipfixd-send",
                "ipfixd-keepalived-apply"])
    run(nice + ["cpack", "-G", "DEB"], cwd=tree)
    debs = [f for f in os.listdir(tree) if f.endswith(".deb")]
    assert len(debs) == 1, debs
    return os.path.join(tree, debs[0])


def test_package_install_run_remove():
    if os.geteuid() != 0:
        skip("dpkg -i needs root: the package test did not run")
    if os.environ.get("IXD_SANITIZE") == "1":
        skip("the package is built from its own release tree: checked in the release build's run")
    for tool, pkg in (("dpkg", "dpkg"), ("dpkg-shlibdeps", "dpkg-dev"), ("cpack", "cmake")):
        need(tool, pkg)
    if installed("ipfixd"):
        skip("an ipfixd package is installed already: this test does not touch it")
    if os.path.exists("/usr/sbin/ipfixd"):
        skip("/usr/sbin/ipfixd exists outside the package: this test does not overwrite it")

    deb = build_package()
    fields = run(["dpkg-deb", "-f", deb, "Package", "Version", "Depends"]).stdout
    depends = {d.strip().split()[0] for d in re.search(r"Depends: (.*)", fields).group(1).split(",")}
    assert depends == LIBS, "Depends %s, expected %s" % (sorted(depends), sorted(LIBS))
    listing = run(["dpkg-deb", "-c", deb]).stdout
    files = [l.split()[-1].lstrip(".") for l in listing.splitlines() if not l.startswith("d")]
    for f in EXPECTED:
        assert f in files, "%s is not in the package:\n%s" % (f, listing)
    conffiles = run(["dpkg-deb", "-I", deb, "conffiles"]).stdout.split()
    assert conffiles == ["/etc/ipfixd/ipfixd.yaml"], conffiles

    before = {d for d in DIRS if os.path.lexists(d)}
    try:
        run(["dpkg", "-i", deb])
        assert installed("ipfixd")
        version = run(["/usr/sbin/ipfixd", "-V"]).stdout.strip()
        assert re.fullmatch(r"ipfixd \d+\.\d+\.\d+", version), version
        r = run(["/usr/sbin/ipfixd", "-t", "-c", "/etc/ipfixd/ipfixd.yaml"])
        assert "is valid" in r.stderr, r.stderr
        # the installed element files, not the source tree's: the binary was built for /usr
        strings = run(["strings", "/usr/sbin/ipfixd"], check=False).stdout
        assert "/usr/share/ipfixd/elements" in strings
        relay = "/usr/share/doc/ipfixd/examples/relay.yaml"
        run(["/usr/sbin/ipfixd", "-t", "-c", relay])
        for unit in ("ipfixd.service", "ipfixd-keepalived-apply.socket",
                     "ipfixd-keepalived-apply@.service"):
            r = run(["systemd-analyze", "verify", "--man=no", "/usr/lib/systemd/system/" + unit],
                    check=False)
            assert r.returncode == 0 and not r.stderr.strip(), (unit, r.stderr)
        # the helper: root's, writable by root alone, as docs/ha.md says; nothing enabled
        st = os.stat("/usr/sbin/ipfixd-keepalived-apply")
        assert st.st_uid == 0 and st.st_gid == 0 and stat.S_IMODE(st.st_mode) == 0o755, st
        assert not os.path.lexists("/etc/systemd/system/sockets.target.wants/"
                                   "ipfixd-keepalived-apply.socket")
        r = run(["/usr/sbin/ipfixd-keepalived-apply", "-t", "-p",
                 "/usr/share/doc/ipfixd/examples/keepalived-apply.yaml"], check=False)
        # the example names this host's keepalived.conf, which a test machine has not
        assert r.returncode == 1 and "keepalived-apply.yaml" in r.stderr, r.stderr
        if run(["which", "man"], check=False).returncode == 0:
            run(["man", "-w", "/usr/share/man/man5/ipfixd.yaml.5"])

        run(["dpkg", "-r", "ipfixd"])
        left = [f for f in files if os.path.lexists(f)]
        assert left == ["/etc/ipfixd/ipfixd.yaml"], "left after dpkg -r: %s" % left
        run(["dpkg", "-P", "ipfixd"])
        left = [f for f in files if os.path.lexists(f)]
        assert not left, "left after dpkg -P: %s" % left
        for d in DIRS:
            if d in before:
                assert os.path.isdir(d), "%s was there before the package, and dpkg -P took it" % d
            else:
                assert not os.path.lexists(d), "%s left after dpkg -P" % d
        assert not installed("ipfixd")
    finally:
        subprocess.run(["dpkg", "-P", "ipfixd"], capture_output=True)
        shutil.rmtree(os.path.dirname(deb), ignore_errors=True)


if __name__ == "__main__":
    main([test_package_install_run_remove])
