"""deploy/docker/Dockerfile without a container engine: its runtime packages are exactly those
of the libraries the built ipfixd links (ldd -> dpkg -S), and its shape is what the issue asks."""
import os
import re

from deploytest import BIN, SOURCE, main, need, run

DOCKERFILE = os.path.join(SOURCE, "deploy", "docker", "Dockerfile")
BASE = {"libc6"}  # in debian:bookworm-slim already
# what the runtime needs beside the libraries it links: librrd's graphs draw text with a font
FONTS = {"fontconfig", "fonts-dejavu-core"}


def instructions():
    """[(stage, INSTRUCTION, argument text)] with continuation lines joined."""
    out, stage = [], None
    text = re.sub(r"\\\n", " ", open(DOCKERFILE).read())
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        word = word.upper()
        if word == "FROM":
            stage = rest.split()[-1] if " AS " in rest.upper() else rest
        out.append((stage, word, rest.strip()))
    return out


def apt_packages(stage):
    pkgs = set()
    for st, word, rest in instructions():
        if st == stage and word == "RUN":
            for m in re.finditer(r"apt-get install ([^&;]*)", rest):
                pkgs |= {w for w in m.group(1).split() if not w.startswith("-")}
    return pkgs


def package_of(path):
    real = os.path.realpath(path)
    for p in (path, real, real.replace("/usr/lib/", "/lib/", 1), path.replace("/lib/", "/usr/lib/", 1)):
        r = run(["dpkg", "-S", p], check=False)
        if r.returncode == 0:
            return r.stdout.split(":")[0].strip()
    raise AssertionError("no package owns %s" % path)


def linked_libraries(binary):
    """{soname: path} of every library ldd resolves, and the set of direct (DT_NEEDED) sonames."""
    libs = {}
    for line in run(["ldd", binary]).stdout.splitlines():
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            libs[m.group(1)] = m.group(2)
    needed = set(re.findall(r"NEEDED\s+(\S+)", run(["objdump", "-p", binary]).stdout))
    return libs, needed


def depends_closure(pkgs):
    """The installed packages pkgs pull in (Depends and Pre-Depends, recursively)."""
    seen, todo = set(), list(pkgs)
    while todo:
        p = todo.pop()
        if p in seen:
            continue
        seen.add(p)
        r = run(["dpkg-query", "-W", "-f=${Depends}, ${Pre-Depends}", p], check=False)
        for alt in r.stdout.split(","):
            name = alt.strip().split("|")[0].split()[0].split(":")[0] if alt.strip() else ""
            if name:
                todo.append(name)
    return seen


def test_runtime_packages_match_ldd():
    need("dpkg", "dpkg")
    need("objdump", "binutils")
    if os.environ.get("IXD_SANITIZE") == "1":
        print("(sanitizer build: the ASan/UBSan runtimes are not part of the image)")
    libs, needed = linked_libraries(BIN)
    sanitizer = re.compile(r"lib(asan|ubsan|lsan|tsan|clang_rt)")
    direct = {package_of(libs[s]) for s in needed if s in libs and not sanitizer.search(s)}
    listed = apt_packages("runtime")
    assert listed, "no apt-get install in the runtime stage"
    assert FONTS <= listed, "the runtime lacks the fonts graphs need: %s" % sorted(FONTS - listed)
    listed -= FONTS
    assert listed == direct - BASE, (
        "runtime packages %s, but the binary links %s (missing %s, extra %s)"
        % (sorted(listed), sorted(direct - BASE), sorted(direct - BASE - listed),
           sorted(listed - (direct - BASE))))
    # every library ldd resolves, direct or not, comes with those packages
    closure = depends_closure(listed | BASE)
    # the sanitizer runtimes bring the C++ runtime with them; the image has neither
    runtime_of_sanitizers = re.compile(r"libstdc\+\+|libgcc_s")
    sanitized = os.environ.get("IXD_SANITIZE") == "1"
    for soname, path in libs.items():
        if sanitizer.search(soname) or (sanitized and runtime_of_sanitizers.search(soname)):
            continue
        pkg = package_of(path)
        assert pkg in closure, "%s (%s) is not pulled in by %s" % (soname, pkg, sorted(listed))


def test_sender_is_libc_only():
    send = os.path.join(os.path.dirname(BIN), "tools", "ipfixd-send")
    libs, needed = linked_libraries(send)
    pkgs = {package_of(libs[s]) for s in needed if s in libs and not re.search(r"asan|ubsan", s)}
    assert pkgs <= BASE, "ipfixd-send links %s: the sender stage installs nothing" % pkgs


def test_build_stage_has_the_build_dependencies():
    text = open(os.path.join(SOURCE, "scripts", "install-deps.sh")).read()
    build = set(re.search(r'build="([^"]*)"', text).group(1).split()) - {"git"}
    missing = build - apt_packages("build")
    assert not missing, "the build stage lacks %s (scripts/install-deps.sh)" % sorted(missing)


def test_shape():
    ins = instructions()
    froms = [rest for _, w, rest in ins if w == "FROM"]
    assert froms[0].startswith("debian:bookworm ") and froms[-1].startswith("debian:bookworm-slim"), froms
    final = [i for i in ins if i[0] == ins[-1][0]]
    words = {}
    for _, w, rest in final:
        words.setdefault(w, []).append(rest)
    user = words["USER"][-1].split(":")[0]
    assert user not in ("root", "0"), "runs as %s" % user
    assert "ipfixd" in words["HEALTHCHECK"][0] and "healthcheck" in words["HEALTHCHECK"][0]
    exposed = " ".join(words["EXPOSE"]).split()
    for p in ("4739/udp", "4739/tcp", "8080/tcp"):
        assert p in exposed, exposed
    vols = " ".join(words["VOLUME"])
    assert "/etc/ipfixd" in vols and "/var/lib/ipfixd" in vols, vols
    # COPY --from=build only: no compiler in the runtime stage
    assert not (apt_packages("runtime") & {"build-essential", "cmake", "gcc"})
    assert os.path.exists(DOCKERFILE + ".dockerignore")


if __name__ == "__main__":
    main([test_runtime_packages_match_ldd, test_sender_is_libc_only,
          test_build_stage_has_the_build_dependencies, test_shape])
