"""Configuring on a machine that lacks dependencies: the README's run command configures without
the tests when their tools are absent, and a missing build dependency is named in one line."""
import glob
import os
import shutil
import tempfile

from deploytest import SOURCE, main, need, run

PC_DIRS = ["/usr/lib/x86_64-linux-gnu/pkgconfig", "/usr/lib/pkgconfig", "/usr/share/pkgconfig"]


def pkgconfig_without(*hidden):
    """A pkg-config search directory holding every installed .pc file but the hidden ones."""
    d = tempfile.mkdtemp(prefix="ixdpc-")
    for pc_dir in PC_DIRS:
        for pc in glob.glob(os.path.join(pc_dir, "*.pc")):
            name = os.path.basename(pc)
            if name[:-3] not in hidden and not os.path.exists(os.path.join(d, name)):
                os.symlink(pc, os.path.join(d, name))
    return d


def configure(pc_dir, *args):
    build = tempfile.mkdtemp(prefix="ixdcfg-")
    try:
        env = dict(os.environ, PKG_CONFIG_LIBDIR=pc_dir, PKG_CONFIG_PATH="")
        return run(["cmake", "-S", SOURCE, "-B", build] + list(args), check=False, env=env)
    finally:
        shutil.rmtree(build)


def test_without_cmocka_the_daemon_still_configures():
    need("cmake", "cmake")
    pc = pkgconfig_without("cmocka")
    try:
        r = configure(pc)
        assert r.returncode == 0, "configure failed without cmocka:\n%s%s" % (r.stdout, r.stderr)
        notes = [line for line in r.stdout.splitlines() if "tests not built" in line]
        assert len(notes) == 1 and "libcmocka-dev" in notes[0], r.stdout
    finally:
        shutil.rmtree(pc)


def test_a_missing_library_is_named_in_one_line():
    need("cmake", "cmake")
    for module, package in (("libfixbuf", "libfixbuf-dev"), ("libmicrohttpd", "libmicrohttpd-dev"),
                            ("jansson", "libjansson-dev"), ("librrd", "librrd-dev"),
                            ("luajit", "libluajit-5.1-dev"),
                            ("libmaxminddb", "libmaxminddb-dev"), ("netsnmp", "libsnmp-dev")):
        pc = pkgconfig_without(module)
        try:
            r = configure(pc)
        finally:
            shutil.rmtree(pc)
        assert r.returncode != 0, "configure passed without %s" % module
        named = [line for line in r.stderr.splitlines() if "missing dependency" in line]
        assert len(named) == 1, r.stderr
        assert module in named[0] and package in named[0], named[0]
        assert "install-deps.sh" in named[0], named[0]


if __name__ == "__main__":
    main([test_without_cmocka_the_daemon_still_configures, test_a_missing_library_is_named_in_one_line])
