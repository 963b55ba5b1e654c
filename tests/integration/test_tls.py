"""IPFIX over TLS and DTLS (RFC 7011 section 11): collectors of transport tls and dtls, and the
ipfix output over tls and dtls, against exporters that are not ipfixd and against ipfixd itself.

- a Python `ssl` client and `openssl s_client` (a file piped in) deliver every record, each
  carrying the client certificate's subject (@tls_subject, renamed or left out by the JSON
  output), shown on the exporter resource and counted as a handshake;
- a certificate from another CA, an expired or revoked one, a wrong pin, a wrong subject, no
  certificate and plain TCP are refused, each counted under its reason (SIGUSR1, /metrics, the
  API), and none of their records is written;
- TLS 1.0 and 1.1 and weak suites (RC4, 3DES, CBC with SHA-1) are refused, checked with
  `openssl s_client` per version and suite;
- handshakes that never finish cannot keep another exporter out (per-address and total
  bounds, handshake-timeout);
- SIGHUP with new certificate files, a new CA, or a broken key: established sessions go on;
  new handshakes get the new certificate, the broken reload keeps the running one;
- DTLS with `openssl s_client -dtls1_2`: every record; another CA, an expired certificate, a
  wrong pin, none, DTLS 1.0, CBC and 3DES suites and plain IPFIX refused and counted by reason;
  and a flood of spoofed ClientHellos that costs no handshake state (no pending handshake,
  no memory, no amplification) while a real exporter gets in;
- ipfixd exporting to ipfixd over TLS and DTLS: every record arrives, the collector is verified
  (a wrong server-name is refused), templates go again after the collector restarts.
Certificates come from tests/tls/make_certs.sh in a temporary directory.
"""
import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request

import ipfix
from ixdtest import (SLOW, Daemon, check_synthetic, free_port, free_tcp_port, read_json_lines,
                     run, send, wait_lines)
from test_api import check_schema

MAKE_CERTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../tls/make_certs.sh")
CERTS = tempfile.mkdtemp(prefix="ixdtest-certs-")
subprocess.run(["sh", MAKE_CERTS, CERTS], check=True)
EXPORTER_SUBJECT = "O=ipfixd tests,CN=exporter1"


def cert(name):
    return os.path.join(CERTS, name)


def fingerprint(name):
    with open(cert(name + ".sha256")) as f:
        return f.read().strip()


def collector(name, port, transport="tls", extra="", server="collector"):
    return (f'  - name: {name}\n    transport: {transport}\n    listen: "127.0.0.1:{port}"\n'
            f'    certificate: "{cert(server + ".pem")}"\n    key: "{cert(server + ".key")}"\n'
            + extra)


def config(collectors, out, api_port=None, workers=1, outputs=""):
    api = f'api:\n  listen: "127.0.0.1:{api_port}"\n' if api_port else ""
    return (f"{api}workers: {workers}\ncollectors:\n{collectors}outputs:\n"
            f'  - {{name: file, type: json, path: "{out}"}}\n{outputs}')


def stream(ks, per_message=50, odid=1):
    """The template, then records ks in messages of per_message, as one exporter sends them."""
    out = [ipfix.small_template_message(odid=odid)]
    for i in range(0, len(ks), per_message):
        out.append(ipfix.small_data_message(ks[i:i + per_message], seq=i, odid=odid))
    return out


def client_context(cert_name="exporter", ca="ca.pem"):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(cert(ca))
    if cert_name is not None:
        ctx.load_cert_chain(cert(cert_name + ".pem"), cert(cert_name + ".key"))
    return ctx


def tls_client(port, cert_name="exporter", hostname="collector.test", source="127.0.0.1"):
    s = socket.socket()
    s.bind((source, 0))
    s.settimeout(10 * SLOW)
    s.connect(("127.0.0.1", port))
    return client_context(cert_name).wrap_socket(s, server_hostname=hostname)


def refused_client(port, cert_name, ks, hostname="collector.test"):
    """A client the collector must refuse: sends a stream anyway, then waits to be closed."""
    try:
        t = tls_client(port, cert_name, hostname=hostname)
        for m in stream(ks):
            t.sendall(m)
        t.settimeout(5 * SLOW)
        while t.recv(1024):
            pass
    except (ssl.SSLError, OSError):
        pass


def tls_summary(d, name):
    """SIGUSR1: the collector's TLS or DTLS counters and its failures by reason."""
    d.stats()
    log = d.log()
    counters, reasons = {}, {}
    lines = re.findall(r"stats collector %s input: (.*)" % name, log)
    assert lines, log
    for k, v in re.findall(r"(\w+)=(\d+)", lines[-1]):
        counters[k] = int(v)
    # the reason lines of the last summary: those after its counters line
    tail = log[log.rfind("stats collector %s input:" % name):]
    for r, v in re.findall(r"stats collector %s input reason (\w+): handshake_failures=(\d+)"
                           % name, tail):
        reasons[r] = int(v)
    return counters, reasons


def get_json(api_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (api_port, path), timeout=10) as r:
        return json.loads(r.read().decode())


def get_text(api_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (api_port, path), timeout=10) as r:
        return r.read().decode()


def wait_api(api_port, path, pred, what):
    deadline = time.time() + 20 * SLOW
    last = None
    while time.time() < deadline:
        try:
            last = get_json(api_port, path)
            if pred(last):
                return last
        except urllib.error.HTTPError:
            pass
        time.sleep(0.2)
    raise AssertionError("%s never showed in %s: %s" % (what, path, last))


def records_by_k(path):
    return {r["octetDeltaCount"]: r for r in read_json_lines(path)}


# ---- TLS collectors ----

def test_python_ssl_client_delivers_every_record():
    port, api_port = free_port(), free_tcp_port()
    d_dir = tempfile.mkdtemp()
    out, out2, out3 = (os.path.join(d_dir, n) for n in ("a.json", "b.json", "c.json"))
    outputs = (f'  - {{name: renamed, type: json, path: "{out2}", tls-subject: peer}}\n'
               f'  - {{name: none, type: json, path: "{out3}", tls-subject: none}}\n')
    d = Daemon(config(collector("t", port, extra=f'    ca: "{cert("ca.pem")}"\n'), out,
                      api_port=api_port, outputs=outputs))
    try:
        ks = list(range(5000))
        t = tls_client(port)
        for m in stream(ks, per_message=37):
            t.sendall(m)
        assert wait_lines(out, len(ks)) == len(ks)
        recs = records_by_k(out)
        assert set(recs) == set(ks)
        assert all(r["@tls_subject"] == EXPORTER_SUBJECT for r in recs.values())
        wait_lines(out2, len(ks))
        wait_lines(out3, len(ks))
        assert all(r["peer"] == EXPORTER_SUBJECT and "@tls_subject" not in r
                   for r in read_json_lines(out2))
        assert all("@tls_subject" not in r for r in read_json_lines(out3))
        # while connected: the exporter resource names it, the collector counts the handshake
        exp = wait_api(api_port, "/api/v1/exporters?collector=t",
                       lambda e: e["count"] == 1, "the exporter")["_embedded"]["exporters"][0]
        assert exp["tls_subject"] == EXPORTER_SUBJECT and exp["transport"] == "tls", exp
        full = get_json(api_port, "/api/v1/exporters/" + exp["id"])
        assert [s["tls_subject"] for s in full["transport_sessions"]] == [EXPORTER_SUBJECT]
        col = wait_api(api_port, "/api/v1/collectors/t",
                       lambda c: c.get("input", {}).get("counters", {}).get("handshakes") == 1,
                       "the handshake")
        doc = get_json(api_port, "/api/v1/openapi.json")
        check_schema(doc, {"$ref": "#/components/schemas/Collector"}, col, "tls collector")
        check_schema(doc, {"$ref": "#/components/schemas/Exporter"}, full, "tls exporter")
        metrics = get_text(api_port, "/metrics")
        assert re.search(r'^ipfixd_collector_tls_handshakes_total\{collector="t"\} 1$', metrics,
                         re.M), metrics
        t.unwrap()
        t.close()
        counters, reasons = tls_summary(d, "t")
        assert counters["handshakes"] == 1 and reasons == {}, (counters, reasons)
    finally:
        final = d.stop()
    assert final["t"]["records"] == len(ks) and final["t"]["errors"] == 0, final


def test_openssl_s_client_pipes_a_file():
    port = free_port()
    d_dir = tempfile.mkdtemp()
    out, data = os.path.join(d_dir, "out.json"), os.path.join(d_dir, "stream.ipfix")
    ks = list(range(100000, 120000))
    with open(data, "wb") as f:
        f.write(b"".join(stream(ks, per_message=200)))
    d = Daemon(config(collector("t", port, extra=f'    ca: "{cert("ca.pem")}"\n'), out))
    try:
        with open(data, "rb") as stdin:
            r = subprocess.run(["openssl", "s_client", "-quiet", "-no_ign_eof", "-connect",
                                "127.0.0.1:%d" % port, "-cert", cert("exporter.pem"), "-key",
                                cert("exporter.key"), "-CAfile", cert("ca.pem"),
                                "-verify_return_error", "-servername", "collector.test"],
                               stdin=stdin, capture_output=True, timeout=60 * SLOW)
        assert r.returncode == 0, r.stderr
        assert wait_lines(out, len(ks)) == len(ks)
        recs = records_by_k(out)
        assert set(recs) == set(ks)
        assert recs[ks[0]]["@tls_subject"] == EXPORTER_SUBJECT
    finally:
        final = d.stop()
    assert final["t"]["records"] == len(ks) and final["t"]["errors"] == 0, final


def test_refused_clients_are_counted():
    port, pport, api_port = free_port(), free_port(), free_tcp_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    ca = f'    ca: "{cert("ca.pem")}"\n'
    colls = (collector("t", port, extra=ca + f'    crl: "{cert("crl.pem")}"\n')
             + collector("p", pport, extra=ca + f'    pins: ["{fingerprint("exporter2")}"]\n'
                         + '    subjects: [exporter2, "CN=other"]\n'))
    d = Daemon(config(colls, out, api_port=api_port))
    try:
        refused_client(port, "stranger", [1])
        refused_client(port, "expired", [2])
        refused_client(port, "revoked", [3])
        refused_client(port, None, [4])
        refused_client(pport, "exporter", [5])  # from the CA, but not pinned
        s = socket.create_connection(("127.0.0.1", port))  # IPFIX without TLS
        s.settimeout(5 * SLOW)
        try:
            for m in stream([6]):
                s.sendall(m)
            assert s.recv(100) == b""  # closed at its first byte
        except (ConnectionResetError, BrokenPipeError):
            pass
        s.close()
        # the pinned exporter gets in
        t = tls_client(pport, "exporter2")
        for m in stream([7]):
            t.sendall(m)
        t.unwrap()
        wait_lines(out, 1)
        counters, reasons = tls_summary(d, "t")
        assert reasons == {"untrusted": 1, "expired": 1, "revoked": 1, "no_certificate": 1,
                           "not_tls": 1}, reasons
        assert counters["handshakes"] == 0 and counters["pending_handshakes"] == 0, counters
        counters, reasons = tls_summary(d, "p")
        assert reasons == {"pin": 1} and counters["handshakes"] == 1, (counters, reasons)
        col = wait_api(api_port, "/api/v1/collectors/t",
                       lambda c: len(c.get("input", {}).get("reasons", [])) == 5,
                       "the refusals")
        assert {r["name"]: r["handshake_failures"]
                for r in col["input"]["reasons"]}["untrusted"] == 1
        metrics = get_text(api_port, "/metrics")
        for reason in ("untrusted", "expired", "revoked", "no_certificate", "not_tls"):
            assert re.search(r'^ipfixd_collector_tls_handshake_failures_total\{collector="t",'
                             r'reason="%s"\} 1$' % reason, metrics, re.M), (reason, metrics)
        time.sleep(0.3)
        assert set(records_by_k(out)) == {7}, "a refused client's records were written"
    finally:
        d.stop()


def s_client(port, args, stdin=b"", timeout=20):
    return subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port] + args,
                          input=stdin, capture_output=True, timeout=timeout * SLOW)


def test_old_versions_and_weak_suites_refused():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(collector("t", port, extra="    client-certificate: none\n"), out))
    try:
        for version in ("-tls1", "-tls1_1"):
            r = s_client(port, [version, "-cipher", "DEFAULT@SECLEVEL=0"])
            assert r.returncode != 0, (version, r.stdout)
            assert b"protocol version" in r.stderr or b"unsupported protocol" in r.stderr \
                or b"no protocols available" in r.stderr, (version, r.stderr)
        offered_weak = 0
        for suite in ("RC4-SHA", "ECDHE-RSA-RC4-SHA", "DES-CBC3-SHA", "ECDHE-ECDSA-DES-CBC3-SHA",
                      "AES128-SHA", "AES256-SHA", "ECDHE-ECDSA-AES128-SHA",
                      "ECDHE-ECDSA-AES256-SHA", "ECDHE-RSA-AES128-SHA"):
            r = s_client(port, ["-tls1_2", "-cipher", suite + "@SECLEVEL=0"])
            if b"no cipher match" in r.stderr:
                continue  # this openssl cannot even offer it (RC4 without the legacy provider)
            offered_weak += 1
            assert r.returncode != 0, (suite, r.stdout)
            assert b"handshake failure" in r.stderr, (suite, r.stderr)
        assert offered_weak >= 5, "too few weak suites could be offered to check them"
        # what is accepted: TLS 1.2 with an AEAD suite, and TLS 1.3
        r = s_client(port, ["-tls1_2", "-CAfile", cert("ca.pem"), "-verify_return_error"])
        assert r.returncode == 0, r.stderr
        m = re.search(rb"Cipher is (\S+)", r.stdout)
        assert m and (b"GCM" in m.group(1) or b"CHACHA20" in m.group(1)), r.stdout
        r = s_client(port, ["-tls1_3", "-CAfile", cert("ca.pem"), "-verify_return_error"])
        assert r.returncode == 0 and b"TLSv1.3" in r.stdout, r.stderr
        counters, reasons = tls_summary(d, "t")
        assert reasons.get("protocol_version") == 2, reasons
        assert reasons.get("no_shared_cipher") == offered_weak, reasons
        assert counters["handshakes"] == 2, counters
    finally:
        d.stop()


def test_slow_handshakes_do_not_keep_others_out():
    port = free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    extra = (f'    ca: "{cert("ca.pem")}"\n    pending-handshakes: 4\n'
             '    pending-handshakes-per-address: 2\n    handshake-timeout: 2s\n')
    d = Daemon(config(collector("t", port, extra=extra), out))
    silent = []
    try:
        # one address opens ten connections and never finishes a handshake: two get a slot,
        # one of them trickling a ClientHello byte by byte
        for _ in range(10):
            s = socket.socket()
            s.bind(("127.0.0.1", 0))
            s.connect(("127.0.0.1", port))
            silent.append(s)
        silent[0].sendall(b"\x16")
        time.sleep(0.5)
        start = time.time()
        t = tls_client(port, source="127.0.0.2")
        for m in stream(list(range(100))):
            t.sendall(m)
        assert wait_lines(out, 100) == 100
        assert time.time() - start < 1.5, "the exporter waited for the stalled handshakes"
        # two more addresses fill the total of 4; a fifth handshake is refused
        more = []
        for src in ("127.0.0.3", "127.0.0.4"):
            s = socket.socket()
            s.bind((src, 0))
            s.connect(("127.0.0.1", port))
            more.append(s)
        time.sleep(0.3)
        counters, reasons = tls_summary(d, "t")
        assert counters["pending_handshakes"] == 4, counters
        assert reasons.get("limit") == 8, reasons
        try:
            tls_client(port, source="127.0.0.5").close()
        except (ssl.SSLError, OSError):
            pass
        counters, reasons = tls_summary(d, "t")
        assert reasons.get("limit") == 9, reasons
        # the handshake timeout frees them all
        time.sleep(2.5)
        counters, reasons = tls_summary(d, "t")
        assert counters["pending_handshakes"] == 0, counters
        assert reasons.get("timeout") == 4, reasons
        t2 = tls_client(port, source="127.0.0.5")
        for m in stream(list(range(100, 110))):
            t2.sendall(m)
        assert wait_lines(out, 110) == 110
        t.close()
        t2.close()
        for s in silent + more:
            s.close()
    finally:
        d.stop()


def test_reload_keeps_sessions():
    """New certificates, CAs and rules apply to new handshakes; connections stay."""
    port = free_port()
    work = tempfile.mkdtemp()
    out = os.path.join(work, "out.json")
    srv_cert, srv_key = os.path.join(work, "server.pem"), os.path.join(work, "server.key")
    shutil.copy(cert("collector.pem"), srv_cert)
    shutil.copy(cert("collector.key"), srv_key)

    def text(ca):
        return config(f'  - name: t\n    transport: tls\n    listen: "127.0.0.1:{port}"\n'
                      f'    certificate: "{srv_cert}"\n    key: "{srv_key}"\n'
                      f'    ca: "{cert(ca)}"\n', out)

    def reload(times):
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload", count=times)
        time.sleep(0.3)

    d = Daemon(text("ca.pem"))
    try:
        a = tls_client(port)
        for m in stream(list(range(100))):
            a.sendall(m)
        wait_lines(out, 100)
        # new files under the same names: the next handshakes get the new certificate
        shutil.copy(cert("collector2.pem"), srv_cert)
        shutil.copy(cert("collector2.key"), srv_key)
        reload(1)
        for m in stream(list(range(100, 200)))[1:]:
            a.sendall(m)
        assert wait_lines(out, 200) == 200
        b = tls_client(port, hostname="collector2.test")
        for m in stream(list(range(1000, 1010))):
            b.sendall(m)
        b.close()
        try:
            tls_client(port, hostname="collector.test").close()
            raise AssertionError("the old certificate was still presented")
        except ssl.SSLCertVerificationError:
            pass
        # a key that is not the certificate's: the reload is refused, the running one stays
        shutil.copy(cert("exporter.key"), srv_key)
        d.signal(signal.SIGHUP)
        d.wait_log(r"reload refused.*is not the key of certificate")
        c = tls_client(port, hostname="collector2.test")
        for m in stream(list(range(2000, 2010))):
            c.sendall(m)
        c.close()
        shutil.copy(cert("collector2.key"), srv_key)
        # another CA: its exporters get in, the old CA's do not; the old connection goes on
        d.write_config(text("other-ca.pem"))
        reload(3)
        refused_client(port, "exporter", [3000], hostname="collector2.test")
        s = socket.socket()
        s.connect(("127.0.0.1", port))
        st = client_context("stranger").wrap_socket(s, server_hostname="collector2.test")
        for m in stream(list(range(4000, 4010))):
            st.sendall(m)
        st.close()
        for m in stream(list(range(200, 300)))[1:]:
            a.sendall(m)
        assert wait_lines(out, 330) == 330
        counters, reasons = tls_summary(d, "t")
        # the client that found the old name refused the new certificate: rejected_by_peer
        assert reasons == {"untrusted": 1, "rejected_by_peer": 1}, reasons
        assert counters["handshakes"] == 4, counters
        a.close()
    finally:
        final = d.stop()
    ks = set(records_by_k(out))
    assert ks == set(range(300)) | set(range(1000, 1010)) | set(range(2000, 2010)) | \
        set(range(4000, 4010)), sorted(ks)
    assert final["t"]["errors"] == 0, final


# ---- DTLS collectors ----

def s_client_dtls(port, messages, cert_name="exporter"):
    """openssl s_client -dtls1_2 with messages piped in one at a time (one record each), once
    its handshake is done (or has failed): s_client writes what one read of the pipe gives as
    one record, so messages waiting in the pipe would go out as one record."""
    args = ["openssl", "s_client", "-dtls1_2", "-quiet", "-state", "-connect",
            "127.0.0.1:%d" % port, "-CAfile", cert("ca.pem")]
    if cert_name:
        args += ["-cert", cert(cert_name + ".pem"), "-key", cert(cert_name + ".key")]
    p = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                         stderr=subprocess.PIPE)
    err, done = [], threading.Event()

    def read_state():
        for line in p.stderr:
            err.append(line)
            if b"read finished" in line:
                done.set()
        done.set()  # s_client ended

    reader = threading.Thread(target=read_state)
    reader.start()
    done.wait(20 * SLOW)
    time.sleep(0.1)  # the collector's side of the handshake, or the alert after it
    try:
        for m in messages:
            p.stdin.write(m)
            p.stdin.flush()
            time.sleep(0.01)
    except BrokenPipeError:
        pass
    time.sleep(0.5)
    p.kill()
    p.wait()
    reader.join()
    return b"".join(err)


def capture_client_hello():
    """The first datagram of an openssl s_client -dtls1_2 handshake: a ClientHello."""
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    u.bind(("127.0.0.1", 0))
    u.settimeout(10 * SLOW)
    p = subprocess.Popen(["openssl", "s_client", "-dtls1_2", "-connect",
                          "127.0.0.1:%d" % u.getsockname()[1]], stdin=subprocess.PIPE,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        hello, _ = u.recvfrom(4096)
    finally:
        p.kill()
        p.wait()
        u.close()
    assert hello[0] == 22 and hello[13] == 1, hello[:16]
    return hello


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))


def test_dtls_s_client_and_refusals():
    port, pport = free_port(), free_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    ca = f'    ca: "{cert("ca.pem")}"\n'
    colls = (collector("d", port, "dtls", extra=ca)
             + collector("dp", pport, "dtls",
                         extra=ca + f'    pins: ["{fingerprint("exporter2")}"]\n'))
    d = Daemon(config(colls, out, workers=2))
    try:
        ks = list(range(500))
        err = s_client_dtls(port, stream(ks, per_message=25))
        assert wait_lines(out, len(ks)) == len(ks), err
        recs = records_by_k(out)
        assert set(recs) == set(ks)
        assert recs[0]["@tls_subject"] == EXPORTER_SUBJECT
        s_client_dtls(port, stream([9000]), cert_name="stranger")
        s_client_dtls(port, stream([9001]), cert_name=None)
        s_client_dtls(port, stream([9003]), cert_name="expired")
        s_client_dtls(pport, stream([9004]))  # from the CA, but not pinned
        # the pinned exporter gets in on the other collector
        s_client_dtls(pport, stream([9005]), cert_name="exporter2")
        assert wait_lines(out, len(ks) + 1) == len(ks) + 1
        # DTLS 1.0 (TLS 1.1's datagram twin) is refused like TLS 1.1
        r = s_client(port, ["-dtls1", "-cipher", "DEFAULT@SECLEVEL=0"])
        assert b"protocol version" in r.stderr, r.stderr
        # no CBC suite with SHA-1 (nor 3DES; DTLS has no RC4) is taken over DTLS either
        client = ["-cert", cert("exporter.pem"), "-key", cert("exporter.key")]
        offered_weak = 0
        for suite in ("DES-CBC3-SHA", "ECDHE-ECDSA-DES-CBC3-SHA", "AES128-SHA", "AES256-SHA",
                      "ECDHE-ECDSA-AES128-SHA", "ECDHE-ECDSA-AES256-SHA"):
            r = s_client(port, ["-dtls1_2", "-cipher", suite + "@SECLEVEL=0"] + client)
            if b"no cipher match" in r.stderr:
                continue  # this openssl cannot offer it at all
            offered_weak += 1
            assert r.returncode != 0, (suite, r.stdout)
            assert b"handshake failure" in r.stderr, (suite, r.stderr)
        assert offered_weak >= 4, "too few weak suites could be offered to check them"
        # what is taken: DTLS 1.2 with an AEAD suite
        r = s_client(port, ["-dtls1_2", "-CAfile", cert("ca.pem"), "-verify_return_error"]
                     + client)
        m = re.search(rb"Cipher is (\S+)", r.stdout)
        assert m and (b"GCM" in m.group(1) or b"CHACHA20" in m.group(1)), (r.stdout, r.stderr)
        # plain IPFIX to the DTLS port: stray, never decoded
        u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for m in stream([9002]):
            u.sendto(m, ("127.0.0.1", port))
        u.close()
        time.sleep(0.5)
        counters, reasons = tls_summary(d, "d")
        assert counters["handshakes"] == 2 and counters["stray_datagrams"] == 2, counters
        assert reasons == {"untrusted": 1, "no_certificate": 1, "expired": 1,
                           "protocol_version": 1, "no_shared_cipher": offered_weak}, reasons
        assert counters["cookies"] == 6 + offered_weak, counters
        assert counters["pending_handshakes"] == 0, counters
        counters, reasons = tls_summary(d, "dp")
        assert reasons == {"pin": 1} and counters["handshakes"] == 1, (counters, reasons)
        recs = records_by_k(out)
        assert set(recs) == set(ks) | {9005}, "a refused client's records were written"
        assert recs[9005]["@tls_subject"] == "CN=exporter2"
    finally:
        final = d.stop()
    assert final["d"]["records"] == len(ks) and final["dp"]["records"] == 1, final


def test_dtls_spoofed_client_hello_flood():
    """ClientHellos from addresses that never answer (as spoofed ones cannot): each gets a
    cookie, smaller than itself, and nothing is kept; a real exporter gets in meanwhile."""
    port, api_port = free_port(), free_tcp_port()
    out = os.path.join(tempfile.mkdtemp(), "out.json")
    d = Daemon(config(collector("d", port, "dtls", extra=f'    ca: "{cert("ca.pem")}"\n'), out,
                      api_port=api_port))
    hello = capture_client_hello()
    flooders = []
    for i in range(2, 42):
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.%d.%d" % (i // 200, 2 + i % 200), 0))
        s.setblocking(False)
        flooders.append(s)
    n_flood = int(20000 / SLOW)
    try:
        time.sleep(1.2)  # a first snapshot
        rss_before = rss_kib(d.proc.pid)
        sampled = []
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                try:
                    c = get_json(api_port, "/api/v1/collectors/d").get("input", {}).get("counters", {})
                    sampled.append(c.get("pending_handshakes", 0))
                except (urllib.error.URLError, OSError):
                    pass
                time.sleep(0.2)

        sampler = threading.Thread(target=sample)
        sampler.start()

        def flood():
            for k in range(n_flood):
                try:
                    flooders[k % len(flooders)].sendto(hello, ("127.0.0.1", port))
                except BlockingIOError:
                    time.sleep(0.001)
                if k % 200 == 0:
                    time.sleep(0.002)

        f = threading.Thread(target=flood)
        f.start()
        ks = list(range(300))
        err = s_client_dtls(port, stream(ks, per_message=30))
        f.join()
        time.sleep(1.5)
        stop.set()
        sampler.join()
        n = wait_lines(out, len(ks))
        assert n == len(ks), (n, d.stats()["d"], err[-500:])
        answered = 0
        for s in flooders:
            while True:
                try:
                    answered += len(s.recv(4096))
                except BlockingIOError:
                    break
        counters, reasons = tls_summary(d, "d")
        final_summary = d.stats()
        drops = final_summary["d"]["socket_drops"]
        assert counters["handshakes"] == 1 and reasons == {}, (counters, reasons)
        assert counters["cookies"] >= n_flood - drops and counters["cookies"] <= n_flood + 2, (
            counters, n_flood, drops)
        assert max(sampled, default=0) <= 1, "spoofed ClientHellos got handshake state: %s" % \
            sampled
        assert counters["pending_handshakes"] == 0, counters
        # no amplification: the cookies sent are smaller than the ClientHellos
        assert answered < n_flood * len(hello), (answered, n_flood * len(hello))
        grown = rss_kib(d.proc.pid) - rss_before
        # (the sanitizer build keeps what is freed in its quarantine: its RSS says nothing)
        assert SLOW > 1 or grown < 4096, "the flood cost %d KiB" % grown
    finally:
        for s in flooders:
            s.close()
        d.stop()


# ---- ipfixd exporting to ipfixd ----

def exporter_config(in_port, outputs):
    return f"""workers: 2
collectors:
  - {{name: in, transport: udp, listen: "127.0.0.1:{in_port}"}}
outputs:
{outputs}"""


def test_export_chain_tls_and_dtls():
    b_port, in_port = free_port(), free_port()
    work = tempfile.mkdtemp()
    out = os.path.join(work, "out.json")
    ca = f'    ca: "{cert("ca.pem")}"\n'
    b_text = config(collector("t", b_port, extra=ca) + collector("d", b_port, "dtls", extra=ca),
                    out, workers=2)
    outputs = (f'  - {{name: up-tls, type: ipfix, transport: tls, destinations: '
               f'["127.0.0.1:{b_port}"], ca: "{cert("ca.pem")}", server-name: collector.test, '
               f'certificate: "{cert("exporter.pem")}", key: "{cert("exporter.key")}"}}\n'
               f'  - {{name: up-dtls, type: ipfix, transport: dtls, destinations: '
               f'["127.0.0.1:{b_port}"], pins: ["{fingerprint("collector")}"], '
               f'certificate: "{cert("exporter2.pem")}", key: "{cert("exporter2.key")}"}}\n'
               f'  - {{name: wrong-name, type: ipfix, transport: tls, destinations: '
               f'["127.0.0.1:{b_port}"], ca: "{cert("ca.pem")}", server-name: other.test, '
               f'certificate: "{cert("exporter.pem")}", key: "{cert("exporter.key")}"}}\n')
    b = Daemon(b_text)
    a = Daemon(exporter_config(in_port, outputs), expect_collectors=1)
    b2 = None
    try:
        send("-n", 20000, "-r", 50000, "127.0.0.1:%d" % in_port)
        assert wait_lines(out, 40000) == 40000
        recs = read_json_lines(out)
        by = {"t": [], "d": []}
        for r in recs:
            by[r["@collector"]].append(r)
        check_synthetic(by["t"], 0, 20000)
        check_synthetic(by["d"], 0, 20000)
        assert {r["@tls_subject"] for r in by["t"]} == {EXPORTER_SUBJECT}
        assert {r["@tls_subject"] for r in by["d"]} == {"CN=exporter2"}
        a.wait_log(r"output wrong-name: lost connection to .*handshake failed: name")
        assert tls_summary(b, "t")[1].get("rejected_by_peer", 0) >= 1
        # the collector restarts: the export reconnects, every template goes again first
        b.stop()
        os.rename(out, out + ".1")
        b2 = Daemon(b_text)
        a.wait_log(r"output up-tls: connected to", count=4, timeout=30)
        a.wait_log(r"output up-dtls: connected to", count=3, timeout=30)
        send("-n", 5000, "--start", 20000, "127.0.0.1:%d" % in_port)
        assert wait_lines(out, 10000) == 10000
        recs = read_json_lines(out)
        check_synthetic([r for r in recs if r["@collector"] == "t"], 20000, 5000)
        check_synthetic([r for r in recs if r["@collector"] == "d"], 20000, 5000)
        counters = b2.stats()
        assert counters["t"]["errors"] == 0 and counters["d"]["errors"] == 0, counters
    finally:
        a.stop()
        if b2 is not None:
            b2.stop()
        elif b.alive():
            b.stop()


if __name__ == "__main__":
    try:
        run([test_python_ssl_client_delivers_every_record, test_openssl_s_client_pipes_a_file,
             test_refused_clients_are_counted, test_old_versions_and_weak_suites_refused,
             test_slow_handshakes_do_not_keep_others_out, test_reload_keeps_sessions,
             test_dtls_s_client_and_refusals, test_dtls_spoofed_client_hello_flood,
             test_export_chain_tls_and_dtls])
    finally:
        shutil.rmtree(CERTS, ignore_errors=True)
