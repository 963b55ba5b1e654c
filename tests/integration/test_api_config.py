#!/usr/bin/env python3
"""The config's write side against the real daemon (docs/api.md#config): GET of the config and
its items exactly as PUT takes them, ETags with If-Match (428 without, 412 stale) and
If-None-Match: * for creation, PUT / PATCH (merge patch) / DELETE / POST, 422 problems with the
JSON pointer of the offending setting and the message `ipfixd -t` prints, roles, the audit log,
api.writes off / runtime / persist across SIGHUP and restarts, the validation resource,
100 writes at 150,000 records/s over UDP that lose no record of the pipeline they leave alone
nor of a pipeline whose lua script they swap, a stage reload of a script that fails to load
(the old one runs on), and the pipeline state's link to its config."""
import hashlib
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
from ixdtest import (BIN, SEND, SLOW, Daemon, free_port, read_json_lines, run, send,  # noqa: E402
                     wait_lines)
from test_api import Api, free_tcp_port, wait_for  # noqa: E402

TOKENS = {"admin": "admin-7Hq2LpVw9xC4", "operator": "op-Mz81KdQs0aTf", "reader": "rd-Gv5nR3cYw6Pb"}


def auth(role):
    return {"Authorization": "Bearer " + TOKENS[role]}


def config(port, api_port, state, writes="runtime", extra_api="", pipelines=True, lua=None):
    """lua: the output (its type and keys, STATE for the state directory) of a pipeline
    `scripted` whose lua stage runs scripted.lua of the state directory."""
    tokens = "\n".join(
        "      - {name: %s, role: %s, sha256: %s}"
        % (role, role, hashlib.sha256(tok.encode()).hexdigest())
        for role, tok in TOKENS.items())
    text = f"""workers: 2
state-directory: {state}
api:
  listen: "127.0.0.1:{api_port}"
  writes: {writes}
  audit-log: {state}/audit.log
{extra_api}  auth:
    tokens:
{tokens}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}", receive-buffer: 32M}}
outputs:
  - {{name: steady, type: count}}
  - {{name: side, type: count}}
"""
    if lua is not None:
        assert pipelines, "the scripted pipeline goes with the others"
        text = ("lua: {directory: %s}\n" % state + text
                + "  - {name: scripted, %s}\n" % lua.replace("STATE", state))
    if pipelines:
        text += """pipelines:
  - {name: steady, from: [u], to: [steady]}
  - name: changing
    from: [u]
    to: [side]
    stages:
      - filter: "proto udp"
"""
    if lua is not None:
        text += ("  - {name: scripted, from: [u], to: [scripted],"
                 " stages: [lua: {file: scripted.lua}]}\n")
    return text


SEEN = set()  # (method, path, status) of every answer, checked against the OpenAPI document


class Client(Api):
    def call(self, method, path, body=None, role="admin", headers=None,
             ctype="application/json"):
        """(status, headers, parsed body or None)."""
        h = dict(auth(role))
        h.update(headers or {})
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            h["Content-Type"] = ctype
        code, hdrs, raw = self.get(path, headers=h, method=method, data=data)
        SEEN.add((method, path.split("?")[0], code))
        return code, hdrs, (json.loads(raw) if raw else None)

    def item(self, path, role="admin"):
        """The item as GET gives it (without HAL's members) and its ETag."""
        code, hdrs, doc = self.call("GET", path, role=role)
        assert code == 200, "%s: %d %s" % (path, code, doc)
        return {k: v for k, v in doc.items() if not k.startswith("_")}, hdrs["ETag"]


def start(writes="runtime", extra_api="", pipelines=True, state=None, port=None, api_port=None,
          lua=None, script=None):
    """lua and script: a pipeline `scripted` to that output, running that script."""
    port = port or free_port()
    api_port = api_port or free_tcp_port()
    state = state or os.path.join(os.environ.get("TMPDIR", "/tmp"),
                                  "ixd-cfgw-%d-%d" % (os.getpid(), api_port))
    os.makedirs(state, exist_ok=True)
    if script is not None:
        write_script(state, "scripted.lua", script)
    d = Daemon(config(port, api_port, state, writes, extra_api, pipelines, lua))
    c = Client(api_port)
    wait_for("the API", lambda: c.get("/health")[0] == 200)
    return d, c, port, state


def write_script(state, name, text):
    """Replaced whole (a rename), as an editor or a deployment does."""
    path = os.path.join(state, name)
    with open(path + ".tmp", "w") as f:
        f.write(text)
    os.chmod(path + ".tmp", 0o644)
    os.rename(path + ".tmp", path)


def pipeline_state(c, name, records=0):
    """/api/v1/pipelines/NAME once the workers have published its stages' counters (those of
    at least that many records: they publish once a second)."""
    got = {}

    def ready():
        code, _, doc = c.call("GET", "/api/v1/pipelines/" + name, role="reader")
        got["doc"] = doc
        return code == 200 and doc["stages"] and doc["stages"][0]["counters"]["records"] >= records
    wait_for("the pipeline's counters", ready)
    return got["doc"]


def audit_lines(state):
    with open(os.path.join(state, "audit.log")) as f:
        return [json.loads(line) for line in f]


def test_get_is_what_put_takes():
    d, c, _, state = start()
    try:
        code, hdrs, whole = c.call("GET", "/api/v1/config")
        assert code == 200, whole
        assert [o["name"] for o in whole["outputs"]] == ["steady", "side"]
        assert whole["workers"] == 2  # a plain integer stays one
        item, etag = c.item("/api/v1/config/pipelines/changing")
        assert item == {"name": "changing", "from": ["u"], "to": ["side"],
                        "stages": [{"filter": "proto udp"}]}, item
        # the GET body put back unchanged is taken, and changes nothing: the same ETag
        code, hdrs, doc = c.call("GET", "/api/v1/config/pipelines/changing")
        code, hdrs2, back = c.call("PUT", "/api/v1/config/pipelines/changing", doc,
                                   headers={"If-Match": etag})
        assert code == 200, back
        assert hdrs2["ETag"] == etag
        # HAL-FORMS: the writes the item takes, its type's keys as properties
        code, _, out = c.call("GET", "/api/v1/config/outputs/steady")
        assert out["_templates"]["default"]["method"] == "PUT"
        assert out["_templates"]["patch"]["contentType"] == "application/merge-patch+json"
        props = [p["name"] for p in out["_templates"]["default"]["properties"]]
        assert "exporters" in props, props
        assert out["_links"]["state"]["href"] == "/api/v1/outputs/steady"
        # a pipeline's state and its config link to each other, stages with counters or not
        code, _, item = c.call("GET", "/api/v1/config/pipelines/changing")
        code, _, st = c.call("GET", item["_links"]["state"]["href"], role="reader")
        assert code == 200 and st["name"] == "changing" and st["stages"] == [], st
        assert st["_links"]["config"]["href"] == "/api/v1/config/pipelines/changing", st
        code, _, coll = c.call("GET", "/api/v1/pipelines", role="reader")
        assert [p["name"] for p in coll["_embedded"]["pipelines"]] == ["changing", "steady"], coll
        assert c.call("GET", "/api/v1/pipelines/nothere", role="reader")[0] == 404
        code, _, coll = c.call("GET", "/api/v1/config/outputs")
        assert coll["count"] == 2 and coll["_templates"]["default"]["method"] == "POST"
        # the config may hold credentials: readers do not get it
        assert c.call("GET", "/api/v1/config", role="reader")[0] == 403
        assert c.call("GET", "/api/v1/config", role="operator")[0] == 200
    finally:
        d.stop()


def test_preconditions():
    d, c, _, state = start()
    try:
        item, etag = c.item("/api/v1/config/outputs/side")
        new = dict(item, exporters=100)
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", new)
        assert code == 428 and "If-Match" in p["detail"], p
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", new,
                            headers={"If-Match": '"0123456789abcdef"'})
        assert code == 412 and etag in p["detail"], p
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", new,
                            headers={"If-Match": "W/" + etag})
        assert code == 412, p
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", new,
                            headers={"If-None-Match": "*"})
        assert code == 412 and "exists" in p["detail"], p
        code, _, p = c.call("POST", "/api/v1/config/outputs", new)
        assert code == 409, p
        code, hdrs, p = c.call("PUT", "/api/v1/config/outputs/side", new,
                               headers={"If-Match": etag})
        assert code == 200 and p["exporters"] == 100 and hdrs["ETag"] != etag, p
        # the old ETag is stale now: two dashboards cannot overwrite each other
        code, _, p = c.call("DELETE", "/api/v1/config/outputs/side", headers={"If-Match": etag})
        assert code == 412, p
        code, _, p = c.call("DELETE", "/api/v1/config/outputs/nothere", headers={"If-Match": "*"})
        assert code == 404, p
        code, _, p = c.call("PATCH", "/api/v1/config/outputs/side", {"exporters": 7},
                            headers={"If-Match": hdrs["ETag"]}, ctype="application/json")
        assert code == 415, p
        code, _, p = c.call("PATCH", "/api/v1/config/outputs/side", {"exporters": 7},
                            ctype="application/merge-patch+json")
        assert code == 428, p
        lines = audit_lines(state)
        assert [l["status"] for l in lines] == [428, 412, 412, 412, 409, 200, 412, 404, 415, 428]
        ok = lines[5]
        assert ok["subject"] == "admin" and ok["role"] == "admin" and ok["method"] == "PUT"
        assert ok["etag-before"] == etag and ok["etag-after"] == hdrs["ETag"], ok
        assert re.search(r"api: PUT /api/v1/config/outputs/side by token 'admin' from 127\.0\.0\.1:"
                         r" 200, ETag %s -> %s" % (re.escape(etag), re.escape(hdrs["ETag"])),
                         d.log())
    finally:
        d.stop()


def test_invalid_items_point_at_the_setting():
    d, c, port, state = start()
    try:
        # the message is the one `ipfixd -t` prints for the same text in a file
        code, _, p = c.call("POST", "/api/v1/config/outputs",
                            {"name": "x", "type": "count", "flush": "soon"})
        assert code == 422 and p["pointer"] == "/flush", p
        assert p["config-pointer"] == "/outputs/2/flush", p
        bad = os.path.join(state, "bad.yaml")
        with open(bad, "w") as f:
            f.write("collectors: [{name: u, transport: udp, listen: '127.0.0.1:%d'}]\n"
                    "outputs: [{name: x, type: count, flush: soon}]\n" % free_port())
        t = subprocess.run([BIN, "-t", "-c", bad], capture_output=True, text=True)
        assert t.returncode != 0 and p["detail"] in t.stderr, (p["detail"], t.stderr)
        # a reference the config does not have, in a patch: pointer into the body
        item, etag = c.item("/api/v1/config/pipelines/changing")
        code, _, p = c.call("PATCH", "/api/v1/config/pipelines/changing",
                            {"to": ["side", "nothere"]}, headers={"If-Match": etag},
                            ctype="application/merge-patch+json")
        assert code == 422 and p["pointer"] == "/to/1" and "nothere" in p["detail"], p
        # a filter that does not parse: the stage's own message, at the stage
        code, _, p = c.call("PATCH", "/api/v1/config/pipelines/changing",
                            {"stages": [{"filter": "proto and"}]}, headers={"If-Match": etag},
                            ctype="application/merge-patch+json")
        assert code == 422 and p.get("pointer", "").startswith("/stages/0"), p
        # removing what a pipeline reads from: the pointer is outside the item
        _, setag = c.item("/api/v1/config/outputs/side")
        code, _, p = c.call("DELETE", "/api/v1/config/outputs/side", headers={"If-Match": setag})
        assert code == 422 and p["config-pointer"] == "/pipelines/1/to/0" and "pointer" not in p, p
        # a name that is not the URL's, a body that is not an object, a body that is not JSON
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", dict(item, name="other"),
                            headers={"If-Match": setag})
        assert code == 422 and p["pointer"] == "/name", p
        assert c.call("PUT", "/api/v1/config/outputs/side", [1, 2],
                      headers={"If-Match": setag})[0] == 422
        assert c.call("PUT", "/api/v1/config/outputs/side", b"{nope",
                      headers={"If-Match": setag})[0] == 400
        # nothing of that changed what runs
        assert c.item("/api/v1/config/pipelines/changing")[1] == etag
        assert c.item("/api/v1/config/outputs/side")[1] == setag
        # a valid config that cannot start (its port is taken): 409, the old one stays
        taken = free_tcp_port()
        import socket
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.bind(("127.0.0.1", taken))
        try:
            code, _, p = c.call("POST", "/api/v1/config/collectors",
                                {"name": "v", "transport": "udp",
                                 "listen": "127.0.0.1:%d" % taken})
            assert code == 409 and p["pointer"] == "" and "cannot bind" in p["detail"], p
        finally:
            s.close()
        assert c.call("GET", "/api/v1/config/collectors/v")[0] == 404
    finally:
        d.stop()


def test_validation_resource():
    d, c, port, state = start(writes="off")
    try:
        whole = {"collectors": [{"name": "a", "transport": "udp", "listen": "127.0.0.1:1"}],
                 "outputs": [{"name": "o", "type": "json", "path": "-"}]}
        code, _, p = c.call("POST", "/api/v1/config/validation", whole, role="operator")
        assert code == 200 and p["valid"] is True, p
        whole["outputs"][0]["type"] = "nosuch"
        code, _, p = c.call("POST", "/api/v1/config/validation", whole, role="operator")
        assert code == 422 and p["pointer"] == "/outputs/0/type", p
        code, _, p = c.call("POST", "/api/v1/config/validation?item=outputs/steady",
                            {"name": "steady", "type": "count", "exporters": 0})
        assert code == 422 and p["pointer"] == "/exporters", p
        assert c.call("POST", "/api/v1/config/validation", whole, role="reader")[0] == 403
    finally:
        d.stop()


def test_writes_off_and_roles():
    d, c, port, state = start(writes="off", lua="type: count", script=counting_script(0))
    try:
        item, etag = c.item("/api/v1/config/outputs/side")
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", item, headers={"If-Match": etag})
        assert code == 403 and "api.writes is off" in p["detail"], p
        # nothing to change there: the pipeline's state does not link to its config
        links = pipeline_state(c, "scripted")["_links"]
        assert "config" not in links and links["self"]["href"] == "/api/v1/pipelines/scripted"
    finally:
        d.stop()
    d, c, port, state = start(extra_api="  pipeline-writes: operator\n")
    try:
        item, etag = c.item("/api/v1/config/outputs/side")
        code, _, p = c.call("PUT", "/api/v1/config/outputs/side", item, role="operator",
                            headers={"If-Match": etag})
        assert code == 403 and "admin" in p["detail"], p
        item, etag = c.item("/api/v1/config/pipelines/changing")
        item["stages"] = [{"filter": "proto tcp"}]
        code, _, p = c.call("PUT", "/api/v1/config/pipelines/changing", item, role="operator",
                            headers={"If-Match": etag})
        assert code == 200, p
        assert audit_lines(state)[-1]["subject"] == "operator"
    finally:
        d.stop()
    # without auth there is nobody to write: the config says so before it starts
    bad = os.path.join(state, "noauth.yaml")
    with open(bad, "w") as f:
        f.write("api: {writes: runtime}\ncollectors: [{name: u, transport: udp, "
                "listen: '127.0.0.1:%d'}]\n" % free_port())
    t = subprocess.run([BIN, "-t", "-c", bad], capture_output=True, text=True)
    assert t.returncode != 0 and "api.writes needs api.auth" in t.stderr, t.stderr


def add_output(c, name):
    code, _, p = c.call("POST", "/api/v1/config/outputs", {"name": name, "type": "count"})
    assert code == 201, p


def test_runtime_ends_with_sighup_and_persist_survives_restart():
    d, c, port, state = start(writes="runtime")
    try:
        add_output(c, "extra")
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded")
        wait_for("the change to end", lambda: c.call("GET", "/api/v1/config/outputs/extra")[0]
                 == 404)
        assert "end with this reload" in d.log()
        assert not os.path.exists(os.path.join(state, "api-config.yaml"))
    finally:
        d.stop()
    d, c, port, state = start(writes="persist", state=state)
    api_port = int(c.base.rsplit(":", 1)[1])
    try:
        add_output(c, "extra")
        _, etag = c.item("/api/v1/config/pipelines/changing")
        code, _, p = c.call("PATCH", "/api/v1/config/pipelines/changing", {"to": ["side", "extra"]},
                            headers={"If-Match": etag}, ctype="application/merge-patch+json")
        assert code == 200, p
        _, setag = c.item("/api/v1/config/outputs/steady")
        assert c.call("DELETE", "/api/v1/config/pipelines/steady",
                      headers={"If-Match": c.item("/api/v1/config/pipelines/steady")[1]})[0] == 204
        assert c.call("DELETE", "/api/v1/config/outputs/steady",
                      headers={"If-Match": setag})[0] == 204
        kept = open(os.path.join(state, "api-config.yaml")).read()
        assert "extra" in kept and "removed" in kept, kept
        assert oct(os.stat(os.path.join(state, "api-config.yaml")).st_mode & 0o777) == "0o600"
        # a SIGHUP of the file keeps what persists
        d.signal(signal.SIGHUP)
        d.wait_log(r"reloaded")
        assert c.call("GET", "/api/v1/config/outputs/extra")[0] == 200
    finally:
        d.stop()
    # the operator's file was never written; a restart comes back with the changes
    d, c, port, state = start(writes="persist", state=state, api_port=api_port)
    try:
        assert c.call("GET", "/api/v1/config/outputs/extra")[0] == 200
        assert c.call("GET", "/api/v1/config/outputs/steady")[0] == 404
        assert "steady" in open(d.config_path).read()
        assert c.item("/api/v1/config/pipelines/changing")[0]["to"] == ["side", "extra"]
    finally:
        d.stop()
    # changes that no longer fit the file are set aside, and ipfixd runs on the file alone
    with open(os.path.join(state, "api-config.yaml"), "w") as f:
        f.write("outputs:\n- {name: broken, type: nosuch}\n")
    d, c, port, state = start(writes="persist", state=state)
    try:
        assert "set aside" not in d.log()  # the message says "moved to"
        assert re.search(r"do not apply .*moved to .*api-config\.yaml\.rejected", d.log())
        assert c.call("GET", "/api/v1/config/outputs/broken")[0] == 404
        assert c.call("GET", "/api/v1/config/outputs/steady")[0] == 200
    finally:
        d.stop()


def test_first_pipeline_keeps_the_default_flowing():
    d, c, port, state = start(pipelines=False)
    try:
        assert c.call("GET", "/api/v1/config/pipelines/default")[0] == 404
        code, _, p = c.call("POST", "/api/v1/config/pipelines",
                            {"name": "only-side", "from": ["u"], "to": ["side"]})
        assert code == 201, p
        item, _ = c.item("/api/v1/config/pipelines/default")
        assert item == {"name": "default", "from": ["u"], "to": ["steady", "side"]}, item
    finally:
        d.stop()


def counted(d, output):
    m = re.findall(r"stats output %s: records=(\d+)" % output, d.log())
    return int(m[-1]) if m else 0


def counting_script(version):
    return ('local seen = ipfixd.counter("v%d")\n'
            'function on_record(r) seen:inc() end\n' % version)


def test_writes_under_load_lose_nothing():
    """100 writes while 150,000 records/s arrive over UDP: the pipeline no write touches counts
    every record sent, and no template is lost (no record without one). Among the writes, a
    lua stage's script is swapped (a PUT naming another file, a file rewritten and its stage
    reloaded): its pipeline counts every record too, and the last version runs."""
    d, c, port, state = start(lua="type: count", script=counting_script(0))
    total, rate = 3_000_000, 150_000
    try:
        sender = subprocess.Popen([SEND, "-q", "-n", str(total), "-r", str(rate),
                                   "127.0.0.1:%d" % port])
        writes, started = 0, time.time()
        fwd_ports = [free_port(), free_port()]
        add_output(c, "fwd")  # an IPFIX export whose destination the writes move
        code, _, p = c.call("PUT", "/api/v1/config/outputs/fwd",
                            {"name": "fwd", "type": "ipfix",
                             "destinations": ["127.0.0.1:%d" % fwd_ports[0]]},
                            headers={"If-Match": c.item("/api/v1/config/outputs/fwd")[1]})
        assert code == 200, p
        writes += 2
        cycle, version, script = 0, 0, "scripted.lua"
        while writes < 100:
            k = cycle % 7
            cycle += 1
            if k == 0:  # add an output
                add_output(c, "tmp")
            elif k == 1:  # send the changing pipeline to it too, with a new filter
                _, e = c.item("/api/v1/config/pipelines/changing")
                code, _, p = c.call("PATCH", "/api/v1/config/pipelines/changing",
                                    {"to": ["side", "tmp", "fwd"],
                                     "stages": [{"filter": "proto tcp" if writes % 2 else
                                                 "proto udp"}]},
                                    headers={"If-Match": e}, ctype="application/merge-patch+json")
                assert code == 200, p
            elif k == 2:  # move the export
                _, e = c.item("/api/v1/config/outputs/fwd")
                code, _, p = c.call("PATCH", "/api/v1/config/outputs/fwd",
                                    {"destinations": ["127.0.0.1:%d" % fwd_ports[writes % 2]]},
                                    headers={"If-Match": e}, ctype="application/merge-patch+json")
                assert code == 200, p
            elif k == 3:  # and back off the output
                _, e = c.item("/api/v1/config/pipelines/changing")
                code, _, p = c.call("PATCH", "/api/v1/config/pipelines/changing",
                                    {"to": ["side", "fwd"]}, headers={"If-Match": e},
                                    ctype="application/merge-patch+json")
                assert code == 200, p
            elif k == 4:  # remove it
                _, e = c.item("/api/v1/config/outputs/tmp")
                code, _, p = c.call("DELETE", "/api/v1/config/outputs/tmp",
                                    headers={"If-Match": e})
                assert code == 204, p
            elif k == 5:  # the lua stage runs another file
                version += 1
                script = "other.lua" if script == "scripted.lua" else "scripted.lua"
                write_script(state, script, counting_script(version))
                item, e = c.item("/api/v1/config/pipelines/scripted")
                item["stages"] = [{"lua": {"file": script}}]
                code, _, p = c.call("PUT", "/api/v1/config/pipelines/scripted", item,
                                    headers={"If-Match": e})
                assert code == 200, p
            else:  # the file it runs changes, and the stage reads it again
                version += 1
                write_script(state, script, counting_script(version))
                code, _, p = c.call("POST", "/api/v1/config/pipelines/scripted/stages/0/reload")
                assert code == 200 and p["result"] == "reloaded", p
            writes += 1
            time.sleep(0.08)  # spread over most of the sending
        elapsed = time.time() - started
        assert sender.poll() is None, "the sender finished before the writes (%.1f s)" % elapsed
        assert sender.wait(timeout=120 * SLOW) == 0
        # records after the last write, so that the last script surely sees some
        extra = 1000
        send("-n", extra, "--start", total, "127.0.0.1:%d" % port)
        deadline = time.time() + 30 * SLOW
        while time.time() < deadline:
            d.stats()
            if counted(d, "steady") >= total + extra and counted(d, "scripted") >= total + extra:
                break
            time.sleep(0.5)
        stats = d.stats()["u"]
        assert stats.get("socket_drops", 0) == 0, stats
        assert stats["errors"] == 0, stats  # no record arrived without its template
        assert counted(d, "steady") == total + extra, (counted(d, "steady"), total, stats)
        assert stats["records"] == total + extra, stats
        assert counted(d, "scripted") == total + extra, (counted(d, "scripted"), total, stats)
        assert version >= 20, version
        stage = pipeline_state(c, "scripted", extra)["stages"][0]
        assert stage["scripts"] == [{"name": script, "states": 2}], stage
        last = [n for n in stage["script_counters"] if n["name"] == "v%d" % version]
        assert last and last[0]["value"] >= extra, (version, stage)
        assert stage["counters"]["errors"] == 0, stage
        assert len([l for l in audit_lines(state) if l["status"] < 300]) == 100
        print("    100 writes in %.1f s at %d records/s, %d records counted" %
              (elapsed, rate, counted(d, "steady")))
    finally:
        d.stop()


def tagging_script(asn, init=""):
    return ("function init(settings) %s end\n"
            "function on_record(r) r.bgpSourceAsNumber = %d end\n" % (init, asn))


def test_stage_reload_keeps_the_old_script_when_the_new_fails():
    """POST .../stages/0/reload of a script that does not compile, or whose init fails: the
    answer says why, and the old script runs on (its records tagged as it tags them); a good
    script then reloads. The pipeline's state links to its config."""
    d, c, port, state = start(lua="type: json, path: STATE/scripted.json",
                              script=tagging_script(64501))
    out = os.path.join(state, "scripted.json")
    sent = 0

    def phase(n=500):
        nonlocal sent
        send("-n", n, "--start", sent, "127.0.0.1:%d" % port)
        sent += n
        assert wait_lines(out, sent) == sent
        return [r["bgpSourceAsNumber"] for r in read_json_lines(out)]

    def reload():
        return c.call("POST", "/api/v1/config/pipelines/scripted/stages/0/reload")

    try:
        assert set(phase()) == {64501}
        links = pipeline_state(c, "scripted")["_links"]
        assert links["config"]["href"] == "/api/v1/config/pipelines/scripted", links
        item, _ = c.item(links["config"]["href"])
        assert item["stages"] == [{"lua": {"file": "scripted.lua"}}], item

        write_script(state, "scripted.lua", "function on_record(r)\n  r.bgpSourceAsNumber = \n")
        code, _, p = reload()
        assert code == 422 and "scripted.lua:3:" in p["detail"], p
        assert set(phase()) == {64501}

        write_script(state, "scripted.lua", tagging_script(64502, 'error("no table here")'))
        code, _, p = reload()
        assert code == 422 and "scripted.lua:1: no table here" in p["detail"], p
        assert set(phase()) == {64501}
        stage = pipeline_state(c, "scripted", sent)["stages"][0]
        assert stage["counters"]["errors"] == 0 and stage["counters"]["records"] == sent, stage
        assert stage["scripts"] == [{"name": "scripted.lua", "states": 2}], stage

        write_script(state, "scripted.lua", tagging_script(64502))
        code, _, p = reload()
        assert code == 200 and p["result"] == "reloaded" and p["stage"] == 0, p
        got = phase()
        assert got.count(64502) == 500 and got.count(64501) == sent - 500, got
        refused = [l for l in audit_lines(state) if "/stages/0/reload" in l["path"]]
        assert [l["status"] for l in refused] == [422, 422, 200], refused
    finally:
        d.stop()


def route_of(doc, path):
    for route in doc["paths"]:
        pattern = "^" + re.sub(r"\\\{[a-z]+\\\}", "[^/]+", re.escape(route)) + "$"
        if re.match(pattern, path):
            return route
    return None


def test_answers_are_documented():
    """Every answer the other tests got is in the OpenAPI document, for its route and method."""
    d, c, _, _ = start()
    try:
        code, _, doc = c.call("GET", "/api/v1/openapi.json")
        assert code == 200
        missing = []
        for method, path, status in sorted(SEEN):
            route = route_of(doc, path)
            op = doc["paths"].get(route, {}).get(method.lower())
            if op is None or str(status) not in op["responses"]:
                missing.append("%s %s %d" % (method, path, status))
        assert not missing, missing
        assert len(SEEN) > 40, len(SEEN)
    finally:
        d.stop()


if __name__ == "__main__":
    run([test_get_is_what_put_takes, test_preconditions, test_invalid_items_point_at_the_setting,
         test_validation_resource, test_writes_off_and_roles,
         test_runtime_ends_with_sighup_and_persist_survives_restart,
         test_first_pipeline_keeps_the_default_flowing, test_writes_under_load_lose_nothing,
         test_stage_reload_keeps_the_old_script_when_the_new_fails, test_answers_are_documented])
