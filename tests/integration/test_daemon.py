"""The daemon's command line, config checks, signals and reloads, against the real binary."""
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time

import ipfix
from ixdtest import (BIN, Daemon, free_port, read_json_lines, run, udp_tcp_config,
                      wait_lines)


def config(port, out, extra_collector=""):
    return udp_tcp_config(port, out, extra_collector)


def started_with_one_record(out=None):
    """A daemon on a fresh port that has decoded record 1 from exporter socket s."""
    port = free_port()
    out = out or os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(port, out))
    s = udp_socket()
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([1]), ("127.0.0.1", port))
    assert wait_lines(out, 1) == 1
    return port, out, d, s


def udp_socket():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    return s


def test_version_and_help():
    r = subprocess.run([BIN, "-V"], capture_output=True, text=True)
    assert r.returncode == 0 and r.stdout.startswith("ipfixd "), r
    r = subprocess.run([BIN, "-h"], capture_output=True, text=True)
    assert r.returncode == 0 and "-c, --config" in r.stdout, r
    r = subprocess.run([BIN, "--bogus"], capture_output=True, text=True)
    assert r.returncode == 2, r


def test_check_config():
    tmp = tempfile.mkdtemp()
    good = os.path.join(tmp, "good.yaml")
    with open(good, "w") as f:
        f.write(config(4739, "/dev/null"))
    r = subprocess.run([BIN, "-t", "-c", good], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([BIN, "-t"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    bad = os.path.join(tmp, "bad.yaml")
    with open(bad, "w") as f:
        f.write("collectors:\n  - name: a\n    transport: udp\n    listen: \"*:4739\"\n    colour: red\n")
    r = subprocess.run([BIN, "-t", "-c", bad], capture_output=True, text=True)
    assert r.returncode != 0
    assert r.stderr.startswith(bad + ":5:5: unknown key 'colour'"), r.stderr
    with open(bad, "w") as f:
        f.write("collectors:\n  - name: a\n    transport: sctp\n    listen: \"*:4739\"\n")
    r = subprocess.run([BIN, "-t", "-c", bad], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.startswith(bad + ":3:16: transport must be udp, tcp, tls, dtls, file or pcap"), r.stderr
    with open(bad, "w") as f:
        f.write("collectors: {a: 1}\n")
    r = subprocess.run([BIN, "-t", "-c", bad], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.startswith(bad + ":1:13: collectors must be a list"), r.stderr
    r = subprocess.run([BIN, "-t", "-c", os.path.join(tmp, "missing.yaml")], capture_output=True, text=True)
    assert r.returncode != 0 and "cannot read" in r.stderr, r.stderr
    # every file the config names is opened: the HA example without its key file is refused at
    # the key, as starting it would be; --syntax-only checks the text alone
    example = os.path.join(os.path.dirname(__file__), "../../config/examples/ha-a.yaml")
    with open(example) as f:
        text = f.read()
    key = os.path.join(tmp, "ha.key")
    assert "/etc/ipfixd/ha.key" in text
    ha = os.path.join(tmp, "ha-a.yaml")
    with open(ha, "w") as f:
        f.write(text.replace("/etc/ipfixd/ha.key", key))
    line = [i + 1 for i, l in enumerate(text.splitlines()) if "key-file:" in l][0]
    r = subprocess.run([BIN, "-t", "-c", ha], capture_output=True, text=True)
    assert r.returncode != 0 and r.stderr.startswith(
        "%s:%d:13: ha.key-file: cannot open %s: No such file" % (ha, line, key)), r.stderr
    with open(key, "wb") as f:
        f.write(os.urandom(32))
    os.chmod(key, 0o644)
    r = subprocess.run([BIN, "-t", "-c", ha], capture_output=True, text=True)
    assert r.returncode != 0 and "has mode 0644" in r.stderr, r.stderr
    os.chmod(key, 0o600)
    r = subprocess.run([BIN, "-t", "-c", ha], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    r = subprocess.run([BIN, "-t", "--syntax-only", "-c", example], capture_output=True, text=True)
    assert r.returncode == 0 and "valid (syntax only)" in r.stderr, r.stderr
    r = subprocess.run([BIN, "--syntax-only", "-c", example], capture_output=True, text=True)
    assert r.returncode == 2, r.stderr
    # what is not a regular file is named as such, not as errno's "Invalid argument"
    for path, why in (("/dev/null", "not a regular file"), (tmp, "Is a directory")):
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and r.stderr.startswith(path + ":0:0: cannot read: " + why), r.stderr


def test_udp_and_tcp_records_reach_the_file():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(port, out))
    s = udp_socket()
    s.sendto(ipfix.small_template_message() + b"", ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message(range(10)), ("127.0.0.1", port))
    t = socket.create_connection(("127.0.0.1", port))
    stream = ipfix.small_template_message() + ipfix.small_data_message(range(100, 105))
    for b in stream:  # one byte per write: the framer must reassemble
        t.send(bytes([b]))
    t.close()
    assert wait_lines(out, 15) == 15
    final = d.stop()
    recs = read_json_lines(out)
    assert sorted(r["octetDeltaCount"] for r in recs) == list(range(10)) + list(range(100, 105))
    by_k = {r["octetDeltaCount"]: r for r in recs}
    assert by_k[3]["@collector"] == "u" and by_k[100]["@collector"] == "t"
    assert by_k[3]["sourceIPv4Address"] == "10.0.0.3"
    assert by_k[3]["destinationIPv4Address"] == "192.0.2.3"
    assert by_k[3]["@exporter"] == "127.0.0.1" and by_k[3]["@exporter_port"] == s.getsockname()[1]
    assert by_k[3]["@odid"] == 1 and by_k[3]["@template"] == 256
    assert final["u"]["records"] == 10 and final["t"]["records"] == 5, final
    assert final["u"]["errors"] == 0 and final["t"]["errors"] == 0, final
    # per exporter and observation domain, even after the TCP session has gone
    log = d.log()
    assert "final collector t exporter 127.0.0.1 odid 1: messages=2 records=5 templates=1" in log, log
    assert "final collector u exporter 127.0.0.1 odid 1: messages=2 records=10 templates=1" in log, log


def test_sigusr1_summary_and_counters():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(port, out))
    s = udp_socket()
    s.sendto(ipfix.small_template_message(seq=0), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message(range(5), seq=0), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message(range(5, 10), seq=8), ("127.0.0.1", port))  # 3 lost
    s.sendto(b"\x00\x07garbage", ("127.0.0.1", port))  # no such version
    wait_lines(out, 10)
    st = d.stats()
    assert st["u"]["records"] == 10, st
    assert st["u"]["seq_lost"] == 3, st
    assert st["u"]["errors"] == 1, st
    assert "version=1" in d.log(), d.log()
    d.stop()


def test_sighup_keeps_templates_and_socket():
    port, out, d, s = started_with_one_record()
    # a reload that adds a collector: the unchanged UDP one keeps its templates
    port2 = free_port()
    d.write_config(config(port, out, extra_collector=f"""  - name: extra
    transport: udp
    listen: "127.0.0.1:{port2}"
"""))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded")
    d.wait_log(r"collector extra: listening", count=1)
    s.sendto(ipfix.small_data_message([2], seq=1), ("127.0.0.1", port))  # no template resent
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port2))
    s.sendto(ipfix.small_data_message([3]), ("127.0.0.1", port2))
    assert wait_lines(out, 3) == 3, d.log()
    # a config with errors is refused and the running one stays
    d.write_config("collectors: [\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload refused")
    s.sendto(ipfix.small_data_message([4], seq=2), ("127.0.0.1", port))
    assert wait_lines(out, 4) == 4, d.log()
    final = d.stop()
    ks = sorted(r["octetDeltaCount"] for r in read_json_lines(out))
    assert ks == [1, 2, 3, 4], ks
    assert final["u"]["errors"] == 0, final


def test_sighup_changed_collector_is_reopened():
    port, out, d, s = started_with_one_record()
    # changing the template lifetime makes it a new listener: templates start over
    d.write_config(config(port, out).replace('listen: "127.0.0.1:%d"\n  - name: t' % port,
                                             'listen: "127.0.0.1:%d"\n    template-lifetime: 10m\n  - name: t' % port))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded")
    s.sendto(ipfix.small_data_message([2], seq=1), ("127.0.0.1", port))
    time.sleep(0.5)
    st = d.stats()
    # the data is held, not lost: it decodes, marked late, once the template is sent again
    assert st["u"]["held_sets"] == 1 and st["u"]["errors"] == 0, st
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    assert wait_lines(out, 2) == 2
    final = d.stop()
    recs = read_json_lines(out)
    assert recs[1]["octetDeltaCount"] == 2 and recs[1]["@late"] is True, recs
    assert "@late" not in recs[0], recs
    assert final["u"]["late_records"] == 1 and final["u"]["held_dropped"] == 0, final


def test_sighup_reopens_output_file():
    port, out, d, s = started_with_one_record()
    os.rename(out, out + ".1")  # what logrotate does
    d.signal(signal.SIGHUP)
    d.wait_log(r"reopened")
    s.sendto(ipfix.small_data_message([2], seq=1), ("127.0.0.1", port))
    assert wait_lines(out, 1) == 1
    d.stop()
    assert [r["octetDeltaCount"] for r in read_json_lines(out + ".1")] == [1]
    assert [r["octetDeltaCount"] for r in read_json_lines(out)] == [2]


def test_sigterm_flushes_everything():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(port, out))
    s = udp_socket()
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    for i in range(50):
        s.sendto(ipfix.small_data_message(range(i * 20, i * 20 + 20), seq=i * 20), ("127.0.0.1", port))
    time.sleep(0.2)
    final = d.stop()  # no waiting for the periodic flush: stopping must flush
    assert len(read_json_lines(out)) == 1000
    assert final["u"]["records"] == 1000 and final["u"]["seq_lost"] == 0, final


def test_json_write_errors_are_counted():
    """Lines the writer cannot write are counted as dropped, with an error line, and the
    daemon goes on (and stops) normally."""
    if not os.path.exists("/dev/full"):
        return
    port = free_port()
    d = Daemon(config(port, "/dev/full"))
    s = udp_socket()
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    for i in range(10):
        s.sendto(ipfix.small_data_message(range(i * 20, i * 20 + 20), seq=i * 20), ("127.0.0.1", port))
    d.wait_log(r"output file: cannot write /dev/full: No space left on device; \d+ records dropped")
    d.stop()
    m = re.search(r"final output file: records=(\d+) bytes=(\d+) dropped=(\d+)", d.log())
    assert m and m.groups() == ("200", "0", "200"), d.log()


def test_tcp_stream_that_is_not_ipfix_is_closed():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(port, out))
    t = socket.create_connection(("127.0.0.1", port))
    t.sendall(b"GET / HTTP/1.0\r\n\r\n")  # not IPFIX: framing lost, connection closed
    t.settimeout(5)
    assert t.recv(10) == b""
    t2 = socket.create_connection(("127.0.0.1", port))
    t2.sendall(ipfix.small_template_message() + ipfix.small_data_message([7]))
    assert wait_lines(out, 1) == 1
    t2.close()
    final = d.stop()
    assert final["t"]["errors"] == 1 and "tcp_framing=1" in d.log(), d.log()


def test_templates_survive_a_restart():
    port = free_port()
    tmp = tempfile.mkdtemp()
    state = os.path.join(tmp, "state")
    out = os.path.join(tmp, "out.json")
    cfg = "state-directory: %s\n%s" % (state, config(port, out))
    d = Daemon(cfg)
    s = udp_socket()
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([1]), ("127.0.0.1", port))
    assert wait_lines(out, 1) == 1
    d.stop()
    assert "collector u: saved 1 templates" in d.log(), d.log()
    # the exporter keeps sending data only; the restarted collector knows its template
    d = Daemon(cfg)
    assert "collector u: restoring up to 1 templates" in d.log(), d.log()
    s.sendto(ipfix.small_data_message([2], seq=1), ("127.0.0.1", port))
    assert wait_lines(out, 2) == 2
    final = d.stop()
    recs = read_json_lines(out)
    assert recs[1]["octetDeltaCount"] == 2 and "@late" not in recs[1], recs
    assert final["u"]["templates"] == 0 and final["u"]["held_sets"] == 0, final
    # a corrupt file is ignored with a log line, and so is another collector's
    path = os.path.join(state, "templates-u.ipfixd")
    data = bytearray(open(path, "rb").read())
    data[-40] ^= 0xff
    open(path, "wb").write(bytes(data))
    d = Daemon(cfg)
    assert "ignoring %s: checksum mismatch" % path in d.log(), d.log()
    d.stop()
    # a valid file of collector u put where collector w looks for its own
    port2 = free_port()
    cfg2 = "state-directory: %s\n%s" % (state, config(port, out, extra_collector=f"""  - name: w
    transport: udp
    listen: "127.0.0.1:{port2}"
"""))
    shutil.copy(path, os.path.join(state, "templates-w.ipfixd"))
    d = Daemon(cfg2)
    assert "templates-w.ipfixd: written for another collector" in d.log(), d.log()
    s.sendto(ipfix.small_template_message(), ("127.0.0.1", port))
    s.sendto(ipfix.small_data_message([3], seq=2), ("127.0.0.1", port))
    assert wait_lines(out, 3) == 3
    d.stop()


if __name__ == "__main__":
    run([test_version_and_help, test_check_config, test_udp_and_tcp_records_reach_the_file,
         test_sigusr1_summary_and_counters, test_sighup_keeps_templates_and_socket,
         test_sighup_changed_collector_is_reopened, test_sighup_reopens_output_file,
         test_sigterm_flushes_everything, test_json_write_errors_are_counted,
         test_tcp_stream_that_is_not_ipfix_is_closed,
         test_templates_survive_a_restart])
