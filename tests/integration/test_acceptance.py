"""ipfixd with no arguments, fed by the load generator: every record comes out, exactly once,
with exactly the values that were sent (issue acceptance: 1,000,000 records over UDP at
200,000 records/s and 100,000 over TCP, JSON lines to a file)."""
import os
import tempfile
import threading

from ixdtest import SLOW, Daemon, check_synthetic, read_json_lines, run, send, wait_lines


def test_default_config_udp_and_tcp():
    udp_n = int(1000000 / SLOW)
    tcp_n = int(100000 / SLOW)
    rate = int(200000 / SLOW)
    out = os.path.join(tempfile.mkdtemp(), "stdout.json")
    d = Daemon(None, stdout=out)  # no arguments: the built-in config, JSON on stdout
    errors = []

    def tcp():
        try:
            send("-T", "-n", tcp_n, "--start", udp_n, "-r", rate // 4, "127.0.0.1:4739")
        except AssertionError as e:
            errors.append(e)
    t = threading.Thread(target=tcp)
    t.start()
    send("-n", udp_n, "-r", rate, "127.0.0.1:4739")
    t.join()
    assert not errors, errors
    seen = wait_lines(out, udp_n + tcp_n, timeout=30)
    final = d.stop()
    assert seen == udp_n + tcp_n, "%d lines of %d; %s" % (seen, udp_n + tcp_n, final)
    recs = read_json_lines(out)
    check_synthetic(recs, 0, udp_n + tcp_n)
    assert {r["@collector"] for r in recs} == {"udp", "tcp"}
    assert final["udp"]["records"] == udp_n and final["tcp"]["records"] == tcp_n, final
    for c in ("udp", "tcp"):
        assert final[c]["seq_lost"] == 0 and final[c]["errors"] == 0, final
    assert final["udp"]["socket_drops"] == 0, final


def test_ipv6_template_over_ipv6_from_many_exporters():
    n = int(200000 / SLOW)
    out = os.path.join(tempfile.mkdtemp(), "stdout.json")
    d = Daemon(None, stdout=out)
    send("-6", "-e", "8", "-n", n, "-r", int(100000 / SLOW), "[::1]:4739")
    seen = wait_lines(out, n, timeout=30)
    final = d.stop()
    assert seen == n, final
    recs = read_json_lines(out)
    check_synthetic(recs, 0, n, v6=True)
    assert {r["@exporter"] for r in recs} == {"::1"}
    assert len({r["@exporter_port"] for r in recs}) == 8
    assert final["udp"]["seq_lost"] == 0 and final["udp"]["errors"] == 0, final


if __name__ == "__main__":
    run([test_default_config_udp_and_tcp, test_ipv6_template_over_ipv6_from_many_exporters])
