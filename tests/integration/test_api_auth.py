#!/usr/bin/env python3
"""API auth against the real daemon (docs/api.md#auth): static bearer tokens kept as SHA-256
hashes, JWTs (RS256, ES256, EdDSA) checked against a JWKS file; good, expired, not yet valid,
wrong-audience, wrong-issuer, wrong-key, unknown-kid, `alg: none` and HS256-confusion tokens;
401/403 as problem+json with a WWW-Authenticate challenge; /health and /ready without auth; an
API bound beyond loopback accepted with auth; a reload that changes the JWKS file; and the
config checks of `ipfixd -t`. Keys are made and tokens signed here with python3-cryptography."""
import base64
import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(__file__))
from ixdtest import BIN, Daemon, free_port  # noqa: E402
from test_api import Api, free_tcp_port, wait_for  # noqa: E402

try:
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
    from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
except ImportError:
    print("SKIP: python3-cryptography is not installed (scripts/install-deps.sh --test)")
    sys.exit(0)

ISSUER = "https://hydra.example/"
AUDIENCE = "ipfixd"
READER_TOKEN = "reader-5Kq9wz0Tq1mH3cXy"
ADMIN_TOKEN = "admin-Vb7pQ2LrT9sWnE4k"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def uint(n):
    return b64(n.to_bytes((n.bit_length() + 7) // 8, "big"))


class Keys:
    def __init__(self):
        self.rsa = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.rsa_other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        self.ec = ec.generate_private_key(ec.SECP256R1())
        self.ed = ed25519.Ed25519PrivateKey.generate()

    def jwks(self, which=("r1", "e1", "d1")):
        keys = []
        if "r1" in which:
            pub = self.rsa.public_key().public_numbers()
            keys.append({"kty": "RSA", "kid": "r1", "use": "sig", "alg": "RS256",
                         "n": uint(pub.n), "e": uint(pub.e)})
        if "e1" in which:
            pub = self.ec.public_key().public_numbers()
            keys.append({"kty": "EC", "kid": "e1", "crv": "P-256",
                         "x": b64(pub.x.to_bytes(32, "big")), "y": b64(pub.y.to_bytes(32, "big"))})
        if "d1" in which:
            raw = self.ed.public_key().public_bytes(serialization.Encoding.Raw,
                                                    serialization.PublicFormat.Raw)
            keys.append({"kty": "OKP", "kid": "d1", "crv": "Ed25519", "x": b64(raw)})
        return {"keys": keys}

    def sign(self, alg, key, data):
        if alg == "RS256":
            return key.sign(data, padding.PKCS1v15(), hashes.SHA256())
        if alg == "ES256":
            r, s = decode_dss_signature(key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        return key.sign(data)


def jwt(keys, alg="RS256", kid="r1", key=None, role="reader", **claims):
    now = int(time.time())
    payload = {"iss": ISSUER, "aud": AUDIENCE, "sub": "alice", "iat": now, "exp": now + 300}
    if role is not None:
        payload["ext"] = {"ipfixd_role": role}
    payload.update(claims)
    header = {"alg": alg, "typ": "JWT"}
    if kid is not None:
        header["kid"] = kid
    if key is None:
        key = {"RS256": keys.rsa, "ES256": keys.ec, "EdDSA": keys.ed}.get(alg)
    data = (b64(json.dumps(header).encode()) + "." + b64(json.dumps(payload).encode())).encode()
    if alg == "none":
        return data.decode() + "."
    if alg == "HS256":
        return data.decode() + "." + b64(hmac.new(key, data, hashlib.sha256).digest())
    return data.decode() + "." + b64(keys.sign(alg, key, data))


def config(port, api_port, jwks_path, listen_host="127.0.0.1", tokens=None):
    tokens = tokens or [("grafana", "reader", READER_TOKEN), ("ops", "admin", ADMIN_TOKEN)]
    lines = "\n".join("      - {name: %s, role: %s, sha256: %s}"
                      % (n, r, hashlib.sha256(t.encode()).hexdigest()) for n, r, t in tokens)
    return f"""
workers: 2
api:
  listen: "{listen_host}:{api_port}"
  auth:
    tokens:
{lines}
    jwt:
      jwks-file: "{jwks_path}"
      issuer: "{ISSUER}"
      audience: {AUDIENCE}
      role-claim: ext.ipfixd_role
      leeway: 30s
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
outputs:
  - name: out
    type: json
    path: /dev/null
"""


def call(api, path, token=None, method="GET", data=None):
    headers = {"Authorization": "Bearer " + token} if token is not None else {}
    return api.get(path, headers, method=method, data=data)


def expect_problem(api, path, status, token=None, contains=None, method="GET", data=None,
                   challenge=None):
    code, headers, body = call(api, path, token, method, data)
    assert code == status, "%s with %r: %d %s" % (path, token and token[:40], code, body)
    assert headers["Content-Type"] == "application/problem+json", headers["Content-Type"]
    p = json.loads(body)
    assert p["status"] == status and p["title"] and p["type"] and p["detail"], p
    if contains:
        assert contains in p["detail"], p["detail"]
    if challenge is not None:
        got = headers.get("WWW-Authenticate", "")
        assert got.startswith("Bearer") and challenge in got, got
    return p


def test_public(api):
    for path in ("/health", "/ready"):
        code, _, body = call(api, path)
        assert code == 200, (path, code, body)
    r = subprocess.run([BIN, "healthcheck", "--url", api.base + "/ready"], capture_output=True,
                       text=True)
    assert r.returncode == 0, r.stderr


def test_tokens(api):
    expect_problem(api, "/api/v1/", 401, contains="Bearer", challenge='realm="ipfixd"')
    code, headers, _ = call(api, "/api/v1/")
    assert "error=" not in headers["WWW-Authenticate"], headers["WWW-Authenticate"]
    expect_problem(api, "/metrics", 401)
    expect_problem(api, "/", 401)
    expect_problem(api, "/api/v1/collectors", 401, token="wrong",
                   challenge='error="invalid_token"')
    expect_problem(api, "/api/v1/collectors", 401, token=READER_TOKEN + "x")
    code, _, _ = api.get("/api/v1/", {"Authorization": "Basic " + b64(b"a:b")})
    assert code == 401
    for token in (READER_TOKEN, ADMIN_TOKEN):
        for path in ("/api/v1/", "/api/v1/collectors", "/api/v1/stats", "/metrics", "/",
                     "/api/v1/openapi.json"):
            code, _, body = call(api, path, token)
            assert code == 200, (path, code, body)
    # a path nobody serves: 401 until authenticated, so paths cannot be probed without a token
    expect_problem(api, "/nothing", 401)
    expect_problem(api, "/nothing", 404, token=READER_TOKEN)
    # writes: 401 first, then 405 (this API only reads)
    expect_problem(api, "/api/v1/collectors", 401, method="POST", data=b"{}")
    expect_problem(api, "/api/v1/collectors", 405, token=ADMIN_TOKEN, method="POST", data=b"{}")
    # HEAD answers like GET
    code, _, _ = call(api, "/api/v1/stats", READER_TOKEN, method="HEAD")
    assert code == 200


def test_jwts(api, keys):
    for alg, kid in (("RS256", "r1"), ("ES256", "e1"), ("EdDSA", "d1")):
        code, _, body = call(api, "/api/v1/collectors", jwt(keys, alg, kid))
        assert code == 200, (alg, code, body)
    now = int(time.time())
    code, _, _ = call(api, "/metrics", jwt(keys, aud=["other", AUDIENCE]))
    assert code == 200
    # within the leeway (30 s) an expired token still passes; beyond it, it does not
    assert call(api, "/metrics", jwt(keys, exp=now - 5))[0] == 200
    bad = {
        "expired": (jwt(keys, exp=now - 120), "expired"),
        "not yet valid": (jwt(keys, "ES256", "e1", nbf=now + 600), "not valid"),
        "wrong audience": (jwt(keys, aud="grafana"), "audience"),
        "wrong issuer": (jwt(keys, "EdDSA", "d1", iss="https://evil.example/"), "issuer"),
        "wrong key": (jwt(keys, key=keys.rsa_other), "signature"),
        "unknown kid": (jwt(keys, kid="r9"), "no key with kid"),
        "alg none": (jwt(keys, "none"), "alg none"),
        "alg none, no kid": (jwt(keys, "none", kid=None), "alg none"),
        "HS256 with the RSA public key": (jwt(keys, "HS256", key=keys.rsa.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)),
            "HS256"),
        "alg of another key": (jwt(keys, "ES256", "r1"), "does not fit"),
        "tampered": (None, "signature"),
    }
    good = jwt(keys, role="reader")
    h, p, s = good.split(".")
    claims = json.loads(base64.urlsafe_b64decode(p + "=="))
    claims["ext"]["ipfixd_role"] = "admin"
    bad["tampered"] = (h + "." + b64(json.dumps(claims).encode()) + "." + s, "signature")
    for what, (token, reason) in bad.items():
        p = expect_problem(api, "/api/v1/collectors", 401, token=token,
                           challenge='error="invalid_token"')
        assert reason in p["detail"], (what, p["detail"])
    # valid, but no role: 403 (the role claim is absent and there is no default role)
    p = expect_problem(api, "/api/v1/collectors", 403, token=jwt(keys, role=None),
                       challenge='error="insufficient_scope"')
    assert "none" in p["detail"] and "reader" in p["detail"], p
    expect_problem(api, "/metrics", 403, token=jwt(keys, "EdDSA", "d1", role="guest"))
    # /health and /ready ignore even a bad token
    assert call(api, "/health", "garbage")[0] == 200
    assert call(api, "/ready", jwt(keys, exp=now - 999))[0] == 200


def test_log_escaping(d, api, keys):
    """A JWT header's kid reaches the log (the 401 line) escaped: a newline in it cannot start a
    line of its own that passes for one of ipfixd's."""
    forged = "r9\n2030-01-01T00:00:00.000Z ipfixd[1] error: forged line"
    expect_problem(api, "/api/v1/collectors", 401, token=jwt(keys, kid=forged),
                   contains="no key with kid")
    text = d.wait_log(r"api: 401 for .*no key with kid")
    lines = [line for line in text.splitlines() if "api: 401 for" in line]
    assert len(lines) == 1, lines
    assert "no key with kid 'r9\\n2030-01-01T00:00:00.000Z ipfixd[1] error: forged line'" \
        in lines[0], lines[0]
    assert not any(line.startswith("2030-01-01") for line in text.splitlines()), text


def test_reload(d, api, keys, port, api_port, jwks_path):
    """A new JWKS file content under the same name and a new token list take effect on SIGHUP."""
    with open(jwks_path, "w") as f:
        json.dump(keys.jwks(("e1",)), f)
    d.write_config(config(port, api_port, jwks_path, "0.0.0.0",
                          tokens=[("new", "reader", "new-token-0123456789")]))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", count=1)
    wait_for("the reloaded auth", lambda: call(api, "/health")[0] == 200 and
             call(api, "/metrics", "new-token-0123456789")[0] == 200)
    assert call(api, "/metrics", READER_TOKEN)[0] == 401
    assert call(api, "/metrics", jwt(keys, "ES256", "e1"))[0] == 200
    p = expect_problem(api, "/metrics", 401, token=jwt(keys, "RS256", "r1"))
    assert "no key with kid" in p["detail"], p
    # a JWKS the API could not use refuses the reload: the running keys stay
    with open(jwks_path, "w") as f:
        f.write('{"keys": [')
    d.signal(signal.SIGHUP)
    d.wait_log(r"reload refused, the running config stays: .*api\.auth\.jwt\.jwks-file", count=1)
    assert call(api, "/metrics", jwt(keys, "ES256", "e1"))[0] == 200


def check(tmpdir, text):
    path = os.path.join(tmpdir, "check.yaml")
    with open(path, "w") as f:
        f.write(text)
    return subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)


def test_config_checks(tmpdir, jwks_path):
    base = "collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
    digest = hashlib.sha256(b"t").hexdigest()
    tokens = "api:\n  listen: '%s'\n  auth:\n    tokens:\n      - {name: a, role: reader, sha256: %s}\n"
    # beyond loopback: refused without auth, accepted with it
    r = check(tmpdir, base + "api:\n  listen: '0.0.0.0:8080'\n")
    assert r.returncode != 0 and "beyond loopback" in r.stderr and "api.auth" in r.stderr, r.stderr
    r = check(tmpdir, base + tokens % ("0.0.0.0:8080", digest))
    assert r.returncode == 0, r.stderr
    r = check(tmpdir, base + tokens % ("*:8080", digest))
    assert r.returncode == 0, r.stderr
    # the token itself instead of its hash, a bad role, an empty auth, unknown keys
    r = check(tmpdir, base + tokens % ("127.0.0.1:8080", "s3cret"))
    assert r.returncode != 0 and "sha256sum" in r.stderr, r.stderr
    r = check(tmpdir, base + "api:\n  auth:\n    tokens:\n      - {name: a, role: root, sha256: %s}\n"
              % digest)
    assert r.returncode != 0 and "reader, operator or admin" in r.stderr, r.stderr
    r = check(tmpdir, base + "api:\n  auth: {}\n")
    assert r.returncode != 0 and "needs tokens or jwt" in r.stderr, r.stderr
    r = check(tmpdir, base + "api:\n  auth:\n    tokens:\n      - {name: a, role: reader, sha256: %s}\n"
              "      - {name: b, role: admin, sha256: %s}\n" % (digest, digest))
    assert r.returncode != 0 and "same token" in r.stderr, r.stderr
    r = check(tmpdir, base + "api:\n  auth:\n    bogus: 1\n")
    assert r.returncode != 0 and "unknown key 'bogus' in api.auth" in r.stderr, r.stderr
    # jwt: needs all three of jwks-file, issuer, audience; a bad JWKS is reported at its key
    jwt_cfg = "api:\n  auth:\n    jwt:\n      jwks-file: %s\n      issuer: x\n      audience: y\n"
    r = check(tmpdir, base + jwt_cfg % jwks_path)
    assert r.returncode == 0, r.stderr
    r = check(tmpdir, base + "api:\n  auth:\n    jwt:\n      jwks-file: %s\n" % jwks_path)
    assert r.returncode != 0 and "needs jwks-file, issuer and audience" in r.stderr, r.stderr
    bad = os.path.join(tmpdir, "bad-jwks.json")
    for content, want in (('{"keys": [', "line 1"),
                          ('{"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}', "symmetric"),
                          ('{"keys": [{"kty": "RSA", "kid": "a", "n": "AQAB", "e": "AQAB"}]}',
                           "kid 'a'")):
        with open(bad, "w") as f:
            f.write(content)
        r = check(tmpdir, base + jwt_cfg % bad)
        # file:line:col of the jwks-file value, then what is wrong in the JWKS
        assert r.returncode != 0 and "check.yaml:6:18: api.auth.jwt.jwks-file" in r.stderr \
            and want in r.stderr, r.stderr
    r = check(tmpdir, base + jwt_cfg % "/nonexistent.json")
    assert r.returncode != 0 and "cannot read" in r.stderr, r.stderr


def main():
    keys = Keys()
    port, api_port = free_port(), free_tcp_port()
    d = None
    tmp = None
    try:
        import tempfile
        tmp = tempfile.mkdtemp(prefix="ixdauth-")
        jwks_path = os.path.join(tmp, "jwks.json")
        with open(jwks_path, "w") as f:
            json.dump(keys.jwks(), f)
        # bound beyond loopback: allowed because auth is configured
        d = Daemon(config(port, api_port, jwks_path, "0.0.0.0"))
        api = Api(api_port)
        wait_for("/ready", lambda: call(api, "/ready")[0] == 200)
        test_log_escaping(d, api, keys)  # the first 401: the log's rate limit lets it through
        test_public(api)
        test_tokens(api)
        test_jwts(api, keys)
        test_reload(d, api, keys, port, api_port, jwks_path)
        with open(jwks_path, "w") as f:
            json.dump(keys.jwks(), f)
        test_config_checks(d.dir, jwks_path)
    finally:
        if d is not None:
            d.stop()
    print("ok")


if __name__ == "__main__":
    main()
