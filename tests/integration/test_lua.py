"""The lua stage in the real daemon: a script that drops TCP writes what `filter: "not proto 6"`
writes, value for value (sandboxed and trusted); SIGHUP reloads a changed script between
batches, keeps ipfixd.state, and refuses a broken one while the old one runs on; the API,
/metrics and SIGUSR1 show a script's counters and last error; where memory cannot be made
executable the JIT is off and `ipfixd -t` says so."""
import ctypes
import json
import os
import re
import signal
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

from ixdtest import (BIN, SLOW, Daemon, free_port, free_tcp_port, read_json_lines, run, send,
                     wait_lines)

N = 20000


def write(path, text):
    with open(path, "w") as f:
        f.write(text)


def test_same_records_as_the_filter():
    tmp = tempfile.mkdtemp()
    port = free_port()
    write(os.path.join(tmp, "notcp.lua"),
          "function on_record(r) return r.protocolIdentifier ~= 6 end\n")
    cfg = f"""workers: 2
lua: {{directory: "{tmp}"}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: f, type: json, path: "{tmp}/filter.json"}}
  - {{name: s, type: json, path: "{tmp}/sandboxed.json"}}
  - {{name: t, type: json, path: "{tmp}/trusted.json"}}
pipelines:
  - {{name: f, from: u, to: f, stages: [filter: "not proto 6"]}}
  - {{name: s, from: u, to: s, stages: [lua: {{file: notcp.lua}}]}}
  - {{name: t, from: u, to: t, stages: [lua: {{file: notcp.lua, trusted: true}}]}}
"""
    d = Daemon(cfg)
    send("-n", N, "-r", 100000, "127.0.0.1:%d" % port)
    for name in ("filter", "sandboxed", "trusted"):
        wait_lines(os.path.join(tmp, name + ".json"), N // 2)
    time.sleep(0.3)
    d.stop()

    def records(name):
        out = read_json_lines(os.path.join(tmp, name + ".json"))
        return sorted(out, key=lambda r: r["octetDeltaCount"])

    want = records("filter")
    assert len(want) == N // 2, len(want)
    assert all(r["protocolIdentifier"] != 6 for r in want)
    for name in ("sandboxed", "trusted"):
        got = records(name)
        assert got == want, "%s differs from the filter's records" % name
    for p in ("s", "t"):
        m = re.search(r"final pipeline %s: in=(\d+) out=(\d+) dropped=(\d+) failed=(\d+)" % p,
                      d.log())
        assert m and [int(x) for x in m.groups()] == [N, N // 2, N // 2, 0], m
        m = re.search(r"final pipeline %s stage 0 lua: calls=\d+ records=(\d+) dropped=(\d+) "
                      r"emitted=0 failed=0 errors=0" % p, d.log())
        assert m and [int(x) for x in m.groups()] == [N, N // 2], d.log()


def tag_script(tag):
    return f"""ipfixd.state.n = ipfixd.state.n or 0
function on_record(r)
  ipfixd.state.n = ipfixd.state.n + 1
  r.applicationName = "{tag}"
  r.observationPointId = ipfixd.state.n
end
"""


def test_reload_changed_and_broken_scripts():
    """A changed script takes over between batches and finds ipfixd.state as its old self left
    it; a script that does not compile is refused and the running one goes on."""
    tmp = tempfile.mkdtemp()
    port = free_port()
    script = os.path.join(tmp, "tag.lua")
    write(script, tag_script("one"))
    cfg = f"""workers: 1
lua: {{directory: "{tmp}"}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: o, type: json, path: "{tmp}/out.json"}}
pipelines:
  - {{name: p, from: u, to: o, stages: [lua: {{file: tag.lua}}]}}
"""
    d = Daemon(cfg)
    out = os.path.join(tmp, "out.json")
    send("-n", 1000, "127.0.0.1:%d" % port)
    wait_lines(out, 1000)
    write(script, tag_script("two"))
    d.signal(signal.SIGHUP)
    d.wait_log(r"reloaded|configuration reloaded|reload: ")
    time.sleep(0.5)
    send("-n", 1000, "127.0.0.1:%d" % port)
    wait_lines(out, 2000)
    write(script, "function on_record(r\n")
    d.signal(signal.SIGHUP)
    d.wait_log(r"tag\.lua:2:")
    time.sleep(0.5)
    send("-n", 1000, "127.0.0.1:%d" % port)
    wait_lines(out, 3000)
    time.sleep(0.3)
    d.stop()
    recs = read_json_lines(out)
    assert len(recs) == 3000, len(recs)
    assert [r["applicationName"] for r in recs[:1000]] == ["one"] * 1000
    assert [r["applicationName"] for r in recs[1000:]] == ["two"] * 2000
    # one state, kept across the reload: the count goes on
    assert [r["observationPointId"] for r in recs] == list(range(1, 3001))


def get(api_port, path):
    with urllib.request.urlopen("http://127.0.0.1:%d%s" % (api_port, path), timeout=10) as r:
        return r.read().decode()


def test_counters_and_last_error_in_the_api():
    tmp = tempfile.mkdtemp()
    port, api_port = free_port(), free_tcp_port()
    write(os.path.join(tmp, "odd.lua"), """local seen = ipfixd.counter("seen")
function on_record(r)
  seen:inc()
  if r.octetDeltaCount == 17 then error("seventeen") end
end
""")
    cfg = f"""workers: 2
api: {{listen: "127.0.0.1:{api_port}"}}
lua: {{directory: "{tmp}"}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: o, type: json, path: "{tmp}/out.json"}}
pipelines:
  - {{name: p, from: u, to: o, stages: [lua: {{file: odd.lua, on-error: drop}}]}}
"""
    d = Daemon(cfg)
    try:
        send("-n", 500, "127.0.0.1:%d" % port)
        deadline = time.time() + 20 * SLOW
        while time.time() < deadline:
            try:
                p = json.loads(get(api_port, "/api/v1/pipelines/p"))
                if p["stages"] and p["stages"][0]["counters"]["records"] >= 500:
                    break
            except urllib.error.HTTPError:
                pass
            time.sleep(0.2)
        stage = p["stages"][0]
        assert stage["type"] == "lua" and stage["index"] == 0, stage
        c = stage["counters"]
        assert c["errors"] == 1 and c["records"] == 500 and c["failed"] >= 1, c
        assert stage["scripts"] == [{"name": "odd.lua", "states": 2}], stage
        # the failed call had counted the records before the error: counters are not undone
        seen = stage["script_counters"]
        assert len(seen) == 1 and seen[0]["name"] == "seen", stage
        assert 500 - c["failed"] < seen[0]["value"] <= 500, stage
        errs = stage["last_errors"]
        assert len(errs) == 1 and errs[0]["name"].startswith("odd.lua:4: seventeen"), errs
        listing = json.loads(get(api_port, "/api/v1/pipelines"))
        assert listing["count"] == 1, listing
        metrics = get(api_port, "/metrics")
        assert 'ipfixd_lua_errors_total{pipeline="p",stage="0"} 1' in metrics, metrics
        assert re.search(r'ipfixd_lua_counter\{pipeline="p",stage="0",script_counter="seen"\} '
                         r'%d\n' % seen[0]["value"], metrics), metrics
        assert "# TYPE ipfixd_lua_records_total counter" in metrics
        d.signal(signal.SIGUSR1)
        text = d.wait_log(r"stats pipeline p stage 0 lua: calls=")
        assert re.search(r"stats pipeline p stage 0 lua script_counter seen: value=%d"
                         % seen[0]["value"], text), text
    finally:
        d.stop()


PR_SET_MDWE = 65
PR_MDWE_REFUSE_EXEC_GAIN = 1


def deny_write_execute():
    """In the child: what MemoryDenyWriteExecute=yes does (Linux 6.3+)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_MDWE)")


def mdwe_supported():
    r = subprocess.run(["true"], preexec_fn=deny_write_execute, capture_output=True)
    return r.returncode == 0


def test_jit_off_where_memory_cannot_be_executable():
    if not mdwe_supported():
        print("SKIP: this kernel has no PR_SET_MDWE")
        return
    tmp = tempfile.mkdtemp()
    port = free_port()
    write(os.path.join(tmp, "hot.lua"), """local n = 0
function on_record(r)
  for i = 1, 200 do n = n + i end  -- hot enough for the JIT to trace at once
  r.observationPointId = n % 1000
end
""")
    cfg = f"""workers: 1
lua: {{directory: "{tmp}"}}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: o, type: json, path: "{tmp}/out.json"}}
pipelines:
  - {{name: p, from: u, to: o, stages: [lua: {{file: hot.lua, trusted: true}}]}}
"""
    path = os.path.join(tmp, "ipfixd.yaml")
    write(path, "api: {enabled: false}\n" + cfg)
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True,
                       preexec_fn=deny_write_execute)
    assert r.returncode == 0, r.stdout + r.stderr
    assert "the JIT is off" in r.stdout + r.stderr, r.stdout + r.stderr
    r = subprocess.run([BIN, "-t", "-c", path], capture_output=True, text=True)
    assert "the JIT is off" not in r.stdout + r.stderr, r.stdout + r.stderr
    d = Daemon(cfg, preexec=deny_write_execute)
    send("-n", 3000, "127.0.0.1:%d" % port)
    wait_lines(os.path.join(tmp, "out.json"), 3000)
    assert "the JIT is off" in d.log()
    d.stop()


if __name__ == "__main__":
    run([test_same_records_as_the_filter, test_reload_changed_and_broken_scripts,
         test_counters_and_last_error_in_the_api, test_jit_off_where_memory_cannot_be_executable])
