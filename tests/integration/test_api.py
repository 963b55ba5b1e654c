#!/usr/bin/env python3
"""The REST API against the real daemon: HAL links, snapshots, pagination, ETags, problems,
/metrics (promtool), /ready and `ipfixd healthcheck`, and the OpenAPI document (npm validator,
every documented route answering as documented)."""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(__file__))
from ixdtest import BIN, SLOW, Daemon, free_port, send, free_tcp_port  # noqa: E402

NPM_CACHE = os.environ.get("IXD_NPM_CACHE",
                           os.path.join(os.path.expanduser("~"), ".cache", "ipfixd-test-npm"))
VALIDATOR = "@seriousme/openapi-schema-validator"




def config(port, api_port, out, extra_api=""):
    return f"""
workers: 2
api:
  listen: "127.0.0.1:{api_port}"
{extra_api}
collectors:
  - name: u
    transport: udp
    listen: "127.0.0.1:{port}"
  - name: t
    transport: tcp
    listen: "127.0.0.1:{port}"
outputs:
  - name: file
    type: json
    path: "{out}"
"""


class Api:
    def __init__(self, port):
        self.base = "http://127.0.0.1:%d" % port

    def get(self, path, headers=None, method="GET", data=None, timeout=10):
        """(status, headers, body bytes) without raising on HTTP errors."""
        req = urllib.request.Request(self.base + path, headers=headers or {}, method=method,
                                     data=data)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                return r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.headers, e.read()

    def json(self, path, status=200):
        code, headers, body = self.get(path)
        assert code == status, "%s: %d %s" % (path, code, body[:500])
        return json.loads(body)


def wait_for(what, fn, timeout=10.0):
    deadline = time.time() + timeout * SLOW
    last = None
    while time.time() < deadline:
        last = fn()
        if last:
            return last
        time.sleep(0.1)
    raise AssertionError("timed out waiting for %s (last: %r)" % (what, last))


def links_of(doc):
    """Every href under _links, anywhere in a HAL document (embedded ones too)."""
    out = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k == "_links":
                for rel, link in v.items():
                    for l in (link if isinstance(link, list) else [link]):
                        if not l.get("templated"):
                            out.append((rel, l["href"]))
            else:
                out += links_of(v)
    elif isinstance(doc, list):
        for v in doc:
            out += links_of(v)
    return out


def test_crawl(api):
    """From the root, every link answers 200 (or 405 naming the methods it takes, for a link
    to an action such as the config's validation): no dead links."""
    seen, todo = set(), ["/api/v1/"]
    while todo:
        href = todo.pop()
        if href in seen:
            continue
        seen.add(href)
        code, headers, body = api.get(href)
        if code == 405 and "POST" in headers.get("Allow", ""):
            continue
        assert code == 200, "dead link %s: %d %s" % (href, code, body[:300])
        ctype = headers.get("Content-Type", "")
        if "hal+json" in ctype:
            for rel, h in links_of(json.loads(body)):
                todo.append(h)
    for must in ("/metrics", "/health", "/ready", "/api/v1/openapi.json", "/api/v1/stats",
                 "/api/v1/collectors/u", "/api/v1/outputs/file"):
        assert must in seen, "%s is not linked from the root (crawled %s)" % (must, sorted(seen))
    assert any(re.search(r"/templates/256$", h) for h in seen), sorted(seen)
    return seen


def exporters_by_collector(api):
    return {e["collector"]: e for e in api.json("/api/v1/exporters")["_embedded"]["exporters"]}


def test_snapshots(api, n_udp, n_tcp):
    """Exporters, domains and templates appear as sent, with the counts that were sent."""
    def arrived():
        ex = exporters_by_collector(api)
        if ex.get("u", {}).get("counters", {}).get("records") == n_udp and \
                ex.get("t", {}).get("counters", {}).get("records") == n_tcp:
            return ex
        return None
    ex = wait_for("the exporters' records in the API", arrived)
    for name, n in (("u", n_udp), ("t", n_tcp)):
        e = ex[name]
        assert e["address"] == "127.0.0.1" and e["transport"] == ("udp" if name == "u" else "tcp")
        assert e["sequence_loss"]["lost_records"] == 0, e
        assert e["first_seen"] is not None and e["first_seen"] <= e["last_seen"], e
        full = api.json(e["_links"]["self"]["href"])
        assert full["counters"]["records"] == n
        domains = full["_embedded"]["domains"]
        assert [d["odid"] for d in domains] == [7 if name == "u" else 1], domains
        assert domains[0]["counters"]["records"] == n
        tl = api.json(domains[0]["_links"]["templates"]["href"])
        if name == "t":
            # the connection has closed: its templates went with it (RFC 7011 section 8)
            assert tl["count"] == 0 and full["transport_sessions"] == [], (tl, full)
            continue
        assert full["transport_sessions"][0]["templates"] == 1, full
        assert tl["count"] == 1 and tl["_embedded"]["templates"][0]["id"] == 256, tl
        t = api.json(tl["_embedded"]["templates"][0]["_links"]["self"]["href"])
        names = [f["name"] for f in t["fields"]]
        assert t["field_count"] == len(names) == 15, t
        assert "sourceIPv4Address" in names and "octetDeltaCount" in names, names
        assert all(f["enterprise"] == 0 for f in t["fields"])
        assert t["received"] is not None and t["last_refreshed"] >= t["received"]
    stats = api.json("/api/v1/stats")
    assert stats["counters"]["records"] == n_udp + n_tcp, stats
    assert stats["exporters"] == 2
    coll = api.json("/api/v1/collectors/u")
    assert coll["counters"]["records"] == n_udp and coll["state"] == "listening", coll
    out = api.json("/api/v1/outputs/file")
    wait_for("the output's records",
             lambda: api.json("/api/v1/outputs/file")["counters"]["records"] == n_udp + n_tcp)
    assert out["type"] == "json"
    # the filter by collector
    only_t = api.json("/api/v1/exporters?collector=t")
    assert only_t["count"] == 1 and only_t["_embedded"]["exporters"][0]["collector"] == "t"


def test_pagination(api):
    for coll, rel, total in (("/api/v1/collectors", "collectors", 2),
                             ("/api/v1/exporters", "exporters", 2)):
        names, href, pages = [], coll + "?limit=1", 0
        while href:
            code, headers, body = api.get(href)
            assert code == 200, body
            page = json.loads(body)
            assert page["count"] == total
            assert len(page["_embedded"][rel]) == 1
            names += [i["_links"]["self"]["href"] for i in page["_embedded"][rel]]
            nxt = page["_links"].get("next", {}).get("href")
            if nxt:
                assert headers.get("Link") == '<%s>; rel="next"' % nxt, headers.get("Link")
            href = nxt
            pages += 1
            assert pages <= total
        assert pages == total and len(set(names)) == total, names


def test_etag(api):
    code, headers, body = api.get("/api/v1/collectors/u")
    tag = headers["ETag"]
    assert code == 200 and tag.startswith('"')
    code, headers2, body2 = api.get("/api/v1/collectors/u", {"If-None-Match": tag})
    assert code == 304 and body2 == b"", (code, body2)
    assert headers2["ETag"] == tag
    code, _, _ = api.get("/api/v1/collectors/u", {"If-None-Match": '"0000000000000000"'})
    assert code == 200


def problem(api, path, status, method="GET", data=None):
    code, headers, body = api.get(path, method=method, data=data)
    assert code == status, (path, code, body)
    assert headers["Content-Type"] == "application/problem+json", headers["Content-Type"]
    p = json.loads(body)
    assert p["status"] == status and p["title"] and p["detail"] and p["type"], p
    return p


def test_problems(api):
    assert "no exporter" in problem(api, "/api/v1/exporters/bm9wZS8xLjIuMy40", 404)["detail"]
    problem(api, "/api/v1/exporters/%%%", 404)
    problem(api, "/api/v1/collectors/nope", 404)
    problem(api, "/api/v1/nothing", 404)
    problem(api, "/elsewhere", 404)
    assert "limit" in problem(api, "/api/v1/exporters?limit=0", 400)["detail"]
    problem(api, "/api/v1/exporters?limit=x", 400)
    problem(api, "/api/v1/exporters?cursor=!!", 400)
    problem(api, "/api/v1/exporters?collector=nope", 400)
    e = exporters_by_collector(api)["u"]
    base = e["_links"]["self"]["href"]
    problem(api, base + "/domains/7/templates/12", 400)
    problem(api, base + "/domains/7/templates/999", 404)
    problem(api, base + "/domains/8/templates", 404)
    problem(api, base + "/domains/x/templates", 400)
    p = problem(api, "/api/v1/collectors", 405, method="POST", data=b"{}")
    assert "GET" in p["detail"]
    problem(api, "/api/v1/collectors", 413, method="PUT", data=b"x" * 70000)


def test_metrics(api):
    code, headers, body = api.get("/metrics")
    assert code == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
    text = body.decode()
    samples = {}
    for line in text.splitlines():
        if line.startswith("#") or not line:
            continue
        m = re.match(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$', line)
        assert m, "bad sample line: %r" % line
        samples[m.group(1) + (m.group(2) or "")] = float(m.group(3))
    assert samples['ipfixd_build_info{version="0.1.0"}'] == 1 or any(
        k.startswith("ipfixd_build_info") for k in samples)
    assert samples['ipfixd_exporter_records_total{collector="u",exporter="127.0.0.1"}'] > 0
    assert 'ipfixd_domain_sequence_lost_records_total{collector="u",exporter="127.0.0.1",odid="7"}' \
        in samples
    assert 'ipfixd_collector_decode_errors_total{collector="u",reason="no_template"}' in samples
    assert samples["ipfixd_api_connections"] >= 1  # this request's
    for reason in ("request_timeout", "evicted"):
        assert 'ipfixd_api_connections_closed_total{reason="%s"}' % reason in samples
    assert "ipfixd_api_connections_refused_total" in samples
    promtool = shutil.which("promtool")
    if promtool is None:
        print("SKIP promtool: not installed (Debian package prometheus)")
        return
    r = subprocess.run([promtool, "check", "metrics"], input=body, capture_output=True)
    assert r.returncode == 0, "promtool: %s %s" % (r.stdout, r.stderr)


def healthcheck(*args):
    return subprocess.run([BIN, "healthcheck"] + list(args), capture_output=True, text=True)


def test_ready(api, d, api_port):
    code, _, body = api.get("/ready")
    assert code == 200 and json.loads(body)["status"] == "ready", body
    code, _, body = api.get("/health")
    assert code == 200
    r = healthcheck("-c", d.config_path)
    assert r.returncode == 0, r.stderr
    r = healthcheck("--url", "http://127.0.0.1:%d/ready" % api_port)
    assert r.returncode == 0, r.stderr
    r = healthcheck("--url", "http://127.0.0.1:%d/ready" % free_tcp_port())
    assert r.returncode == 1 and "connect" in r.stderr, r.stderr
    r = healthcheck("--url", "http://127.0.0.1:%d/nothing" % api_port)
    assert r.returncode == 1 and "404" in r.stderr, r.stderr
    # a worker that stops ticking makes /ready fail (SIGSTOP stops every thread, so the API
    # is judged right after SIGCONT, before the workers have published again)
    d.signal(signal.SIGSTOP)
    time.sleep(6)
    d.signal(signal.SIGCONT)
    code, _, body = api.get("/ready")
    if code == 503:
        assert "has not ticked" in json.loads(body)["detail"], body
    wait_for("/ready after SIGCONT", lambda: api.get("/ready")[0] == 200)


# ---- OpenAPI ----

def npm_validator():
    """The validator's CLI, installed into the cache on first use; None if it cannot be had."""
    cli = os.path.join(NPM_CACHE, "node_modules", ".bin", "validate-api")
    if os.path.exists(cli):
        return cli
    npm = shutil.which("npm")
    if npm is None:
        return None
    os.makedirs(NPM_CACHE, exist_ok=True)
    r = subprocess.run([npm, "install", "--no-audit", "--no-fund", "--fetch-retries=1",
                        "--fetch-timeout=20000", "--prefix", NPM_CACHE, VALIDATOR],
                       capture_output=True, text=True, timeout=300)
    if r.returncode != 0:
        print("npm install %s failed: %s" % (VALIDATOR, r.stderr[-500:]))
        return None
    return cli if os.path.exists(cli) else None


def resolve(doc, node):
    while isinstance(node, dict) and "$ref" in node:
        ref = node["$ref"]
        assert ref.startswith("#/"), ref
        node = doc
        for part in ref[2:].split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
    return node


def check_schema(doc, schema, value, where):
    """A JSON Schema check of value: jsonschema when installed, else required keys and types."""
    try:
        import jsonschema
        root = dict(schema)
        root["components"] = doc["components"]
        jsonschema.Draft202012Validator(root).validate(value)
        return
    except ImportError:
        pass
    schema = resolve(doc, schema)
    for part in schema.get("allOf", []):
        check_schema(doc, part, value, where)
    if schema.get("type") == "object" or "required" in schema:
        assert isinstance(value, dict), (where, value)
        for k in schema.get("required", []):
            assert k in value, "%s: missing %r in %s" % (where, k, value)
        for k, sub in schema.get("properties", {}).items():
            if k in value and value[k] is not None:
                check_schema(doc, sub, value[k], where + "." + k)
    elif schema.get("type") == "array":
        assert isinstance(value, list), (where, value)
        for i, v in enumerate(value):
            check_schema(doc, schema.get("items", {}), v, "%s[%d]" % (where, i))


def test_openapi(api, d):
    code, headers, body = api.get("/api/v1/openapi.json")
    assert code == 200
    doc = json.loads(body)
    assert doc["openapi"].startswith("3.1")
    cli = npm_validator()
    if cli is None:
        print("SKIP OpenAPI validation: %s could not be installed" % VALIDATOR)
    else:
        path = os.path.join(d.dir, "openapi.json")
        with open(path, "wb") as f:
            f.write(body)
        r = subprocess.run([cli, path], capture_output=True, text=True)
        assert r.returncode == 0 and json.loads(r.stdout)["valid"], r.stdout + r.stderr
    # every documented route answers as documented
    e = exporters_by_collector(api)["u"]
    values = {"id": e["id"], "odid": "7", "tid": "256", "name": None,
              "series": "exporter~u~127.0.0.1"}
    for route, item in doc["paths"].items():
        if "get" not in item:
            continue  # writes are checked by the tests of their resources (test_api_config)
        op = item["get"]
        url = route
        for p in op.get("parameters", []):
            p = resolve(doc, p)
            if p["in"] == "path":
                v = values[p["name"]]
                if v is None:
                    v = "u" if "collectors" in route else "file"
                url = url.replace("{%s}" % p["name"], v)
        code, headers, body = api.get(url)
        assert str(code) in op["responses"], "%s answered %d, not documented" % (url, code)
        resp = resolve(doc, op["responses"][str(code)])
        ctype = headers["Content-Type"].split(";")[0]
        assert ctype in resp["content"], "%s: %s is not documented (%s)" % (
            url, ctype, list(resp["content"]))
        if "json" in ctype:
            check_schema(doc, resp["content"][ctype]["schema"], json.loads(body), url)
        if "ETag" in resp.get("headers", {}):
            assert "ETag" in headers, url
    # and every problem answer is a documented one
    for url, code in (("/api/v1/exporters/bm9wZQ/domains/7/templates", 404),
                      ("/api/v1/collectors?limit=0", 400)):
        route = "/api/v1/exporters/{id}/domains/{odid}/templates" if "exporters" in url \
            else "/api/v1/collectors"
        assert str(code) in doc["paths"][route]["get"]["responses"]
        got, headers, body = api.get(url)
        assert got == code
        check_schema(doc, {"$ref": "#/components/schemas/Problem"}, json.loads(body), url)


def test_reload(d, port, api_port, out):
    """A reload with new API settings moves the server; without changes it stays."""
    new_port = free_tcp_port()
    d.write_config(config(port, new_port, out))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded", count=2)

    def up():
        try:
            return Api(new_port).get("/health")[0] == 200
        except OSError:
            return False
    wait_for("the API on its new port", up)
    r = healthcheck("--url", "http://127.0.0.1:%d/ready" % api_port)
    assert r.returncode == 1
    return new_port


def test_rounded_seconds(api):
    """uptime_seconds (the root) and snapshot_age_seconds (stats) are whole milliseconds, and
    printed so: at most 3 decimals, never 1.0069999999999999. Asked a few times, as a few
    values (1.5, 2.25) print short however they are rounded."""
    for _ in range(8):
        for path, key in (("/api/v1/", b"uptime_seconds"), ("/api/v1/stats",
                                                              b"snapshot_age_seconds")):
            code, _, body = api.get(path)
            assert code == 200, (path, code)
            values = re.findall(rb'"' + key + rb'":([^,}]+)', body)
            assert values, (path, body[:300])
            for v in values:
                assert re.fullmatch(rb"\d+(\.\d{1,3})?", v), (path, key, v)
        time.sleep(0.013)


def test_config_checks(tmpdir):
    def check(text):
        path = os.path.join(tmpdir, "check.yaml")
        with open(path, "w") as f:
            f.write(text)
        return subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    base = "collectors:\n  - {name: u, listen: '127.0.0.1:4739'}\n"
    r = check(base + "api:\n  listen: '0.0.0.0:8080'\n")
    assert r.returncode != 0 and "beyond loopback" in r.stderr, r.stderr
    r = check(base + "api:\n  listen: '*:8080'\n")
    assert r.returncode != 0 and "beyond loopback" in r.stderr, r.stderr
    r = check(base + "api:\n  listen: '0.0.0.0:8080'\n  enabled: false\n")
    assert r.returncode == 0, r.stderr
    r = check(base + "api:\n  listen: '[::1]:8080'\n  connections: 10\n  connections-per-ip: 2\n"
              "  timeout: 5s\n  request-timeout: 3s\n  body-limit: 1K\n")
    assert r.returncode == 0, r.stderr
    r = check(base + "api:\n  request-timeout: 0s\n")
    assert r.returncode != 0 and "api.request-timeout must be 1s to 1h" in r.stderr, r.stderr
    r = check(base + "api:\n  certificate: /nonexistent.pem\n  key: /nonexistent.key\n")
    assert r.returncode != 0 and re.search(r"check\.yaml:4:16: api\.certificate: cannot open "
                                           r"/nonexistent\.pem: No such file", r.stderr), r.stderr
    r = check(base + "api:\n  bogus: 1\n")
    assert r.returncode != 0 and "unknown key 'bogus' in api" in r.stderr, r.stderr


def main():
    port, api_port = free_port(), free_tcp_port()
    d = Daemon(config(port, api_port, "/dev/null"))
    out = os.path.join(d.dir, "out.json")
    d.write_config(config(port, api_port, out))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded")
    api = Api(api_port)
    try:
        wait_for("/ready", lambda: api.get("/ready")[0] == 200)
        n_udp, n_tcp = 2100, 1300
        send("-n", n_udp, "-o", 7, "127.0.0.1:%d" % port)
        send("-T", "-n", n_tcp, "127.0.0.1:%d" % port)
        test_snapshots(api, n_udp, n_tcp)
        seen = test_crawl(api)
        print("crawled %d resources" % len(seen))
        test_pagination(api)
        test_etag(api)
        test_rounded_seconds(api)
        test_problems(api)
        test_metrics(api)
        test_openapi(api, d)
        test_ready(api, d, api_port)
        api_port = test_reload(d, port, api_port, out)
        test_config_checks(d.dir)
    finally:
        final = d.stop()
    assert final["u"]["records"] == n_udp and final["t"]["records"] == n_tcp, final
    r = healthcheck("--url", "http://127.0.0.1:%d/ready" % api_port)
    assert r.returncode == 1
    print("ok")


if __name__ == "__main__":
    main()
