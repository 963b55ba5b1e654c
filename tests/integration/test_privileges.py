"""Who ipfixd runs as and what it creates: output files 0640 (file-mode) whatever the umask,
user/group dropped to once the sockets are bound (every thread, for good), files opened as that
user from the start, and a warning when root runs it without a user."""
import glob
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time

import ipfix
from ixdtest import BIN, SLOW, free_port, run, wait_lines

NOBODY = pwd.getpwnam("nobody")


def start(config_text, directory, umask=None):
    """ipfixd on config_text written into directory; returns (process, log path)."""
    path = os.path.join(directory, "ipfixd.yaml")
    with open(path, "w") as f:
        f.write(config_text)
    os.chmod(path, 0o644)
    log = os.path.join(directory, "ipfixd.log")
    logf = open(log, "wb")
    pre = (lambda: os.umask(umask)) if umask is not None else None
    p = subprocess.Popen([BIN, "-c", path], stdout=subprocess.DEVNULL, stderr=logf,
                         preexec_fn=pre)
    logf.close()
    deadline = time.time() + 20 * SLOW
    while time.time() < deadline:
        with open(log, errors="replace") as f:
            text = f.read()
        if "listening on" in text:
            return p, log
        if p.poll() is not None:
            raise AssertionError("ipfixd exited (%s):\n%s" % (p.returncode, text))
        time.sleep(0.05)
    p.kill()
    raise AssertionError("ipfixd did not start")


def stop(p, log):
    p.send_signal(signal.SIGTERM)
    rc = p.wait(timeout=30 * SLOW)
    with open(log, errors="replace") as f:
        text = f.read()
    assert rc == 0, "ipfixd exited with %d:\n%s" % (rc, text)
    for bad in ("AddressSanitizer", "runtime error:", "LeakSanitizer"):
        assert bad not in text, text
    return text


def send_records(port, n=5):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message(list(range(1, n + 1)), seq=1), ("127.0.0.1", port))
    s.close()


def ids(pid):
    """{tid: (uids, gids)} of every thread: real, effective, saved and file-system ids."""
    out = {}
    for task in glob.glob("/proc/%d/task/*/status" % pid):
        fields = {}
        with open(task) as f:
            for line in f:
                k, _, v = line.partition(":")
                fields[k] = v.split()
        out[task.split("/")[4]] = (tuple(map(int, fields["Uid"])), tuple(map(int, fields["Gid"])))
    return out


def test_output_files_are_0640_whatever_the_umask():
    """Created under umask 000, the JSON file and the IPFIX files are 0640 (owner and group
    only), or exactly what file-mode says; a file that was there keeps its own mode."""
    tmp = tempfile.mkdtemp(prefix="ixdpriv-")
    port = free_port()
    kept = os.path.join(tmp, "kept.json")
    with open(kept, "w"):
        pass
    os.chmod(kept, 0o664)
    cfg = f"""state-directory: none
api: {{enabled: false}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: j, path: {tmp}/out.json}}
  - {{name: strict, path: {tmp}/strict.json, file-mode: 0600}}
  - {{name: kept, path: {kept}}}
  - {{name: arch, type: ipfix-file, directory: {tmp}, rotate-interval: 1s}}
"""
    p, log = start(cfg, tmp, umask=0)
    send_records(port)
    assert wait_lines(os.path.join(tmp, "out.json"), 5) == 5
    stop(p, log)
    mode = lambda path: stat.S_IMODE(os.stat(path).st_mode)
    assert mode(os.path.join(tmp, "out.json")) == 0o640, oct(mode(os.path.join(tmp, "out.json")))
    assert mode(os.path.join(tmp, "strict.json")) == 0o600
    assert mode(kept) == 0o664
    archives = glob.glob(os.path.join(tmp, "arch-*.ipfix"))
    assert archives, os.listdir(tmp)
    for a in archives:
        assert mode(a) == 0o640, (a, oct(mode(a)))
    shutil.rmtree(tmp)


def test_drops_to_user_after_binding():
    """As root with user: nobody, every thread runs as nobody (real, effective, saved and
    file-system ids) once collecting, the files it creates are nobody's from the first one
    (state directory included), records flow, a reload works, and root cannot be regained."""
    if os.geteuid() != 0:
        print("     (not root: skipped)")
        return
    tmp = tempfile.mkdtemp(prefix="ixdpriv-")
    os.chmod(tmp, 0o755)
    out_dir = os.path.join(tmp, "out")
    os.mkdir(out_dir)
    os.chown(out_dir, NOBODY.pw_uid, NOBODY.pw_gid)
    state = os.path.join(tmp, "state", "ipfixd")
    # element files only root can read (a build tree under /root, mode 0700): read at start, as
    # root, and never again, so neither the start nor a reload as nobody needs them
    elements = os.path.join(tmp, "elements")
    os.mkdir(elements, 0o700)
    shutil.copy(os.path.join(os.path.dirname(__file__), "../../config/elements/barracuda.xml"),
                elements)
    port = free_port()
    cfg = f"""user: nobody
state-directory: {state}
elements: {{directories: [{elements}]}}
api: {{enabled: false}}
workers: 2
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: j, path: {out_dir}/out.json}}
"""
    p, log = start(cfg, tmp)
    try:
        with open(log) as f:
            assert "running as user nobody" in f.read()
        threads = ids(p.pid)
        assert len(threads) >= 4, threads  # control, 2 workers, the JSON writer
        for tid, (uids, gids) in threads.items():
            assert uids == (NOBODY.pw_uid,) * 4, (tid, uids)
            assert gids == (NOBODY.pw_gid,) * 4, (tid, gids)
        send_records(port)
        out = os.path.join(out_dir, "out.json")
        assert wait_lines(out, 5) == 5
        assert os.stat(out).st_uid == NOBODY.pw_uid
        assert os.stat(state).st_uid == NOBODY.pw_uid
        # a reload opens the config and the outputs as nobody
        os.rename(out, out + ".1")
        p.send_signal(signal.SIGHUP)
        deadline = time.time() + 10 * SLOW
        while time.time() < deadline and "reloaded" not in open(log).read():
            time.sleep(0.05)
        send_records(port)
        assert wait_lines(out, 5) == 5, open(log).read()
    finally:
        text = stop(p, log)
    assert "reload refused" not in text, text
    saved = glob.glob(os.path.join(state, "templates-*"))
    assert saved and all(os.stat(s).st_uid == NOBODY.pw_uid for s in saved), (saved, text)
    shutil.rmtree(tmp)


def test_root_without_user_is_warned_about():
    if os.geteuid() != 0:
        print("     (not root: skipped)")
        return
    tmp = tempfile.mkdtemp(prefix="ixdpriv-")
    port = free_port()
    p, log = start(f"""state-directory: none
api: {{enabled: false}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: j, path: /dev/null}}
""", tmp)
    text = stop(p, log)
    assert "running as root: set user" in text, text
    shutil.rmtree(tmp)


if __name__ == "__main__":
    run([test_output_files_are_0640_whatever_the_umask, test_drops_to_user_after_binding,
         test_root_without_user_is_warned_about])
