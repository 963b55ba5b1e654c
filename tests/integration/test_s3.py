"""The upload: of an ipfix-file output to S3-compatible storage: s3rver (npm, its own process,
which checks signatures) holds every rotated file byte for byte, an outage is retried, the bound
on waiting files counts what it leaves; and the requests' SigV4 signatures checked against an
implementation of the published algorithm that itself reproduces AWS's published test vectors."""
import hashlib
import hmac
import http.server
import os
import re
import socket
import subprocess
import tempfile
import threading
import time
import urllib.parse

from ixdtest import BIN, SLOW, Daemon, check_synthetic, free_port, read_json_lines, run, send, \
    wait_lines
from sinks import S3RVER_MISSING, S3rver, free_ports, output_counters, s3rver_path, stats, \
    wait_counter

EMPTY = hashlib.sha256(b"").hexdigest()


def config(port, out, endpoint, cred, extra="", upload_extra=""):
    return f"""workers: 1
collectors:
  - {{name: t, transport: tcp, listen: "127.0.0.1:{port}"}}
outputs:
  - name: arch
    type: ipfix-file
    directory: {out}
    rotate-size: 2M
{extra}    upload:
      endpoint: "{endpoint}"
      bucket: archive
      credentials-file: {cred}
      multipart-threshold: 5M
      part-size: 5M
{upload_extra}"""


def credentials(tmp, key_id="S3RVER", secret="S3RVER"):
    path = os.path.join(tmp, "cred")
    with open(path, "w") as f:
        f.write("%s\n%s\n" % (key_id, secret))
    os.chmod(path, 0o600)
    return path


def local_files(out):
    return sorted(f for f in os.listdir(out) if f.endswith(".ipfix") and not f.startswith("."))


def decode(paths, n):
    """Every record of the IPFIX files, read back by ipfixd's own file collector."""
    tmp = tempfile.mkdtemp(prefix="ixds3-read-")
    both = os.path.join(tmp, "all.ipfix")
    with open(both, "wb") as f:
        for p in paths:
            f.write(p)
    out = os.path.join(tmp, "out.json")
    d = Daemon(f"""collectors:
  - {{name: f, transport: file, path: "{both}"}}
outputs:
  - {{name: j, type: json, path: "{out}"}}
""", expect_collectors=0)
    wait_lines(out, n)
    d.stop()
    return read_json_lines(out)


def test_every_rotated_file_byte_identical():
    """Files rotated at 2 MiB, and one of more than 5 MiB through a multipart upload: each is in
    the bucket under {host}/{output}/Y/m/d/{file}, byte for byte, and kept locally as asked."""
    s3 = S3rver()
    tmp = tempfile.mkdtemp(prefix="ixds3-")
    out = os.path.join(tmp, "files")
    os.mkdir(out)
    port = free_port()
    n = 100000
    try:
        d = Daemon(config(port, out, s3.endpoint, credentials(tmp),
                          upload_extra="      delete-after-upload: false\n"),
                   expect_collectors=1)
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        d.stop()
        final, _ = output_counters(d.log(), "arch", "final")
        files = local_files(out)
        assert len(files) >= 3, files
        objects = s3.objects()
        host = socket.gethostname()
        for f in files:
            m = re.match(r"arch-(\d{4})(\d\d)(\d\d)T", f)
            key = "%s/arch/%s/%s/%s/%s" % (host, m.group(1), m.group(2), m.group(3), f)
            with open(os.path.join(out, f), "rb") as fh:
                assert objects.get(key) == fh.read(), "object %s differs from %s" % (key, f)
        assert len(objects) == len(files), sorted(objects)
        assert "uploaded %s/%s" % (out, files[0]) in d.log()
        check_synthetic(decode(list(objects.values()), n), 0, n)
    finally:
        s3.stop()


def test_multipart_and_delete_after_upload():
    """A file over the threshold goes up in parts; once confirmed, local files are deleted."""
    s3 = S3rver()
    tmp = tempfile.mkdtemp(prefix="ixds3-")
    out = os.path.join(tmp, "files")
    os.mkdir(out)
    port = free_port()
    n = 200000
    try:
        text = config(port, out, s3.endpoint, credentials(tmp)).replace("rotate-size: 2M",
                                                                         "rotate-size: 12M")
        d = Daemon(text, expect_collectors=1)
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        d.stop()
        final, _ = output_counters(d.log(), "arch", "final")
        objects = s3.objects()
        sizes = sorted(len(v) for v in objects.values())
        assert sizes[-1] > 5 << 20, sizes  # at least one went up in parts
        assert local_files(out) == [], local_files(out)
        check_synthetic(decode(list(objects.values()), n), 0, n)
    finally:
        s3.stop()


def test_outage_is_retried_and_the_bound_counts():
    """No object store at first: uploads fail and are retried with backoff (counted), files
    stay; once it listens, every file goes up and is deleted. Then with max-pending 2 and the
    store gone, older waiting files are left on disk and counted."""
    tmp = tempfile.mkdtemp(prefix="ixds3-")
    out = os.path.join(tmp, "files")
    os.mkdir(out)
    port = free_port()
    s3port = free_ports(1)[0]
    n = 60000
    d = Daemon(config(port, out, "http://127.0.0.1:%d" % s3port, credentials(tmp)),
               expect_collectors=1)
    s3 = None
    try:
        send("-T", "-n", n, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "arch", "upload_failures", 1, at_least=True)
        assert c["uploaded"] == 0 and len(local_files(out)) >= 1, c
        s3 = S3rver(port=s3port)
        c, _ = wait_counter(d, "arch", "upload_waiting", 0, timeout=60)
        assert c["uploaded"] == c["files"] and local_files(out) == [], (c, local_files(out))
        d.stop()
        check_synthetic(decode(list(s3.objects().values()), n), 0, n)
    finally:
        if s3:
            s3.stop()
    d = Daemon(config(port, out, "http://127.0.0.1:%d" % s3port, credentials(tmp),
                      upload_extra="      max-pending: 2\n"), expect_collectors=1)
    send("-T", "-n", 150000, "127.0.0.1:%d" % port)
    c, _ = wait_counter(d, "arch", "records", 150000)
    d.stop()
    final, _ = output_counters(d.log(), "arch", "final")
    assert final["upload_abandoned"] >= 1, final
    assert final["upload_abandoned"] + final["upload_waiting"] == final["files"], final
    assert "is left on disk, not uploaded" in d.log()
    assert len(local_files(out)) == final["files"] + 1  # and the last, completed at stop


def test_json_files_rotate_and_upload():
    """A json output rotated by size (1 MiB) and by time (1 s): rotated files are named
    PATH-STAMP, go up to the bucket and are deleted; at stop the last one goes up too. Every
    record is in the objects exactly once."""
    s3 = S3rver()
    tmp = tempfile.mkdtemp(prefix="ixds3-json-")
    port = free_port()
    path = os.path.join(tmp, "flows.json")
    n1, n2 = 20000, 3000
    try:
        d = Daemon(f"""workers: 2
collectors:
  - {{name: t, transport: tcp, listen: "127.0.0.1:{port}"}}
outputs:
  - name: lines
    type: json
    path: {path}
    rotate-size: 1M
    rotate-interval: 1s
    upload: {{endpoint: "{s3.endpoint}", bucket: archive, credentials-file: {credentials(tmp)},
              key: "lines/{{file}}"}}
""", expect_collectors=1)
        send("-T", "-n", n1, "127.0.0.1:%d" % port)
        c, _ = wait_counter(d, "lines", "rotations", 3, at_least=True)
        time.sleep(2.5)  # a rotation by time, with nothing new to write: none
        c2, _ = stats(d, "lines")
        send("-T", "-n", n2, "--start", n1, "127.0.0.1:%d" % port)
        wait_counter(d, "lines", "rotations", c2["rotations"] + 1, at_least=True)
        d.stop()
        final, _ = output_counters(d.log(), "lines", "final")
        objects = s3.objects()
        assert all(re.match(r"lines/flows\.json-\d{8}T\d{6}\.\d{3}Z(-\d+)?$", k) for k in objects), \
            sorted(objects)
        assert all(len(v) <= (1 << 20) + (1 << 20) for v in objects.values())
        records = []
        for body in objects.values():
            assert body.endswith(b"\n")
            records += [__import__("json").loads(l) for l in body.splitlines()]
        check_synthetic(records, 0, n1 + n2)
        left = [f for f in os.listdir(tmp) if f.startswith("flows.json-")]
        assert left == [], left
        assert os.path.getsize(path) == 0  # the file opened after the last rotation
    finally:
        s3.stop()


# ---- the signatures ----

def sign(secret, date, region, service, method, path, query, headers, payload_hash):
    """AWS Signature Version 4 as AWS documents it: the signature of a request."""
    names = sorted(headers)
    canonical = "\n".join([
        method, path, "&".join(sorted(query)),
        "".join("%s:%s\n" % (n, " ".join(headers[n].strip().split())) for n in names),
        ";".join(names), payload_hash])
    scope = "%s/%s/%s/aws4_request" % (date[:8], region, service)
    text = "\n".join(["AWS4-HMAC-SHA256", date, scope,
                      hashlib.sha256(canonical.encode()).hexdigest()])
    k = ("AWS4" + secret).encode()
    for part in (date[:8], region, service, "aws4_request"):
        k = hmac.new(k, part.encode(), hashlib.sha256).digest()
    return hmac.new(k, text.encode(), hashlib.sha256).hexdigest()


def test_signer_reproduces_the_published_vectors():
    """The checker first: AWS's published examples (the SigV4 suite's get-vanilla, and S3's
    GET object, GET ?lifecycle with its value-less parameter, list objects, PUT object)."""
    assert sign("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", "20150830T123600Z", "us-east-1",
                "service", "GET", "/", [], {"host": "example.amazonaws.com",
                                            "x-amz-date": "20150830T123600Z"}, EMPTY) == \
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    secret, date, host = ("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "20130524T000000Z",
                          "examplebucket.s3.amazonaws.com")
    base = {"host": host, "x-amz-content-sha256": EMPTY, "x-amz-date": date}
    assert sign(secret, date, "us-east-1", "s3", "GET", "/test.txt", [],
                dict(base, range="bytes=0-9"), EMPTY) == \
        "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
    assert sign(secret, date, "us-east-1", "s3", "GET", "/", ["lifecycle="], base, EMPTY) == \
        "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543"
    assert sign(secret, date, "us-east-1", "s3", "GET", "/", ["max-keys=2", "prefix=J"], base,
                EMPTY) == "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7"
    body = "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072"
    assert sign(secret, date, "us-east-1", "s3", "PUT", "/test%24file.text", [],
                {"date": "Fri, 24 May 2013 00:00:00 GMT", "host": host,
                 "x-amz-content-sha256": body, "x-amz-date": date,
                 "x-amz-storage-class": "REDUCED_REDUNDANCY"}, body) == \
        "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"


class Recorder(http.server.BaseHTTPRequestHandler):
    """Answers the requests of an upload as S3 does, and keeps each one."""
    protocol_version = "HTTP/1.1"
    seen = []

    def handle_one(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        Recorder.seen.append((self.command, self.path, dict(self.headers.items()), body))
        q = urllib.parse.urlsplit(self.path).query
        reply = b""
        if self.command == "POST" and q == "uploads=":
            reply = b"<InitiateMultipartUploadResult><UploadId>abc+/=1</UploadId>" \
                    b"</InitiateMultipartUploadResult>"
        elif self.command == "POST":
            reply = b"<CompleteMultipartUploadResult></CompleteMultipartUploadResult>"
        self.send_response(200)
        self.send_header("ETag", '"%s"' % hashlib.md5(body).hexdigest())
        self.send_header("Content-Length", str(len(reply)))
        self.end_headers()
        self.wfile.write(reply)

    do_PUT = do_POST = do_DELETE = handle_one

    def log_message(self, *a):
        pass


def check_signature(method, path, headers, body, key_id, secret):
    h = {k.lower(): v for k, v in headers.items()}
    m = re.match(r"AWS4-HMAC-SHA256 Credential=([^/]+)/(\d{8})/([^/]+)/s3/aws4_request, "
                 r"SignedHeaders=([^,]+), Signature=([0-9a-f]{64})$", h["authorization"])
    assert m, h["authorization"]
    assert m.group(1) == key_id and m.group(3) == "eu-west-3", m.groups()
    # the payload's hash is sent, and is the hash of what arrived
    assert h["x-amz-content-sha256"] == hashlib.sha256(body).hexdigest(), (path, h)
    signed = m.group(4).split(";")
    assert {"host", "x-amz-content-sha256", "x-amz-date"} <= set(signed), signed
    url = urllib.parse.urlsplit(path)
    query = url.query.split("&") if url.query else []
    want = sign(secret, h["x-amz-date"], "eu-west-3", "s3", method, url.path, query,
                {n: h[n] for n in signed}, h["x-amz-content-sha256"])
    assert m.group(5) == want, "%s %s: signature %s, the algorithm gives %s" % (
        method, path, m.group(5), want)


def test_requests_are_signed_as_published():
    """Every request of a plain and of a multipart upload (initiation ?uploads=, parts,
    completion) carries a signature the published algorithm gives for what was sent."""
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="ixds3-sig-")
    out = os.path.join(tmp, "files")
    os.mkdir(out)
    port = free_port()
    key_id, secret = "AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
    try:
        text = config(port, out, "http://127.0.0.1:%d" % server.server_address[1],
                      credentials(tmp, key_id, secret),
                      upload_extra="      region: eu-west-3\n").replace("rotate-size: 2M",
                                                                      "rotate-size: 7M")
        d = Daemon(text, expect_collectors=1)
        send("-T", "-n", 130000, "127.0.0.1:%d" % port)
        d.stop()
        methods = [(m, urllib.parse.urlsplit(p).query.split("=")[0]) for m, p, _, _ in
                   Recorder.seen]
        assert ("POST", "uploads") in methods and ("PUT", "partNumber") in methods and \
            ("POST", "uploadId") in methods and ("PUT", "") in methods, methods
        for method, path, headers, body in Recorder.seen:
            check_signature(method, path, headers, body, key_id, secret)
        initiate = [p for m, p, _, _ in Recorder.seen if m == "POST" and p.endswith("?uploads=")]
        assert initiate, [p for _, p, _, _ in Recorder.seen]
        # the upload ID came back with characters a query must escape
        assert any("uploadId=abc%2B%2F%3D1" in p for _, p, _, _ in Recorder.seen)
        assert secret not in d.log()
    finally:
        server.shutdown()


def test_credentials_from_the_environment():
    """Without a credentials-file the keys come from AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY: every request is signed with them, and the secret is never logged."""
    Recorder.seen = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    tmp = tempfile.mkdtemp(prefix="ixds3-env-")
    out = os.path.join(tmp, "files")
    os.mkdir(out)
    port = free_port()
    key_id, secret = "AKIDFROMENV", "Env/Secret+Key-0123456789abcdefghijklmn"
    saved = {k: os.environ.get(k) for k in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")}
    try:
        os.environ.update(AWS_ACCESS_KEY_ID=key_id, AWS_SECRET_ACCESS_KEY=secret)
        text = config(port, out, "http://127.0.0.1:%d" % server.server_address[1], "x",
                      upload_extra="      region: eu-west-3\n")
        text = text.replace("      credentials-file: x\n", "")
        d = Daemon(text, expect_collectors=1)
        send("-T", "-n", 60000, "127.0.0.1:%d" % port)
        d.stop()
        puts = [p for m, p, _, _ in Recorder.seen if m == "PUT"]
        assert len(puts) >= 2, [p for _, p, _, _ in Recorder.seen]
        for method, path, headers, body in Recorder.seen:
            check_signature(method, path, headers, body, key_id, secret)
        assert secret not in d.log()
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        server.shutdown()


def test_config_checks():
    tmp = tempfile.mkdtemp(prefix="ixds3-t-")
    cred = credentials(tmp)
    path = os.path.join(tmp, "c.yaml")
    for upload, msg in (("{bucket: b}", "upload needs an endpoint"),
                        ("{endpoint: 'http://h'}", "upload needs a bucket"),
                        ("{endpoint: 'http://h', bucket: b, key: 'a/{exporter}'}",
                         "key: '{exporter}' is not a placeholder"),
                        ("{endpoint: 'http://h', bucket: b, key: 'a b'}",
                         "key: ' ' cannot appear"),
                        ("{endpoint: 'http://h', bucket: b, part-size: 32M}",
                         "part-size must not exceed multipart-threshold"),
                        ("{endpoint: 'http://h', bucket: b, colour: red}", "unknown key 'colour'")):
        with open(path, "w") as f:
            f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                    "outputs:\n  - {name: a, type: ipfix-file, directory: %s, upload: %s}\n"
                    % (tmp, upload))
        r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
        assert r.returncode != 0 and msg in r.stderr, (upload, r.stderr)
    # without a credentials-file the keys come from the environment: -t checks they are there
    with open(path, "w") as f:
        f.write("collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
                "outputs:\n  - {name: a, type: ipfix-file, directory: %s, upload: "
                "{endpoint: 'http://h', bucket: b}}\n" % tmp)
    bare = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True, env=bare)
    assert r.returncode != 0 and "AWS_ACCESS_KEY_ID or AWS_SECRET_ACCESS_KEY is not set" in \
        r.stderr, r.stderr
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True,
                       env=dict(bare, AWS_ACCESS_KEY_ID="AKID", AWS_SECRET_ACCESS_KEY="s"))
    assert r.returncode == 0, r.stderr


if __name__ == "__main__":
    without_server = [test_signer_reproduces_the_published_vectors,
                      test_requests_are_signed_as_published, test_credentials_from_the_environment,
                      test_config_checks]
    with_s3rver = [test_every_rotated_file_byte_identical, test_multipart_and_delete_after_upload,
                   test_outage_is_retried_and_the_bound_counts, test_json_files_rotate_and_upload]
    if s3rver_path() is None:  # install-deps.sh could not reach the npm registry
        run(without_server, skipped=(with_s3rver, S3RVER_MISSING))
    run(without_server + with_s3rver)
