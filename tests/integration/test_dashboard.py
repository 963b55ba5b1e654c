#!/usr/bin/env python3
"""The dashboard (docs/dashboard.md) in Debian's headless chromium against the real daemon with
API tokens, an rrd output and a top-talkers stage: the page served at / without a token, its
security headers, then every view driven as a user would (token entered in the form, links
clicked) while three exporters send (one announcing sampling and an interface named like an
HTML tag, one gone silent, which raises an alert). Any console error, exception, dialog
or failed request the step did not expect fails the test. Screenshots of every view are kept in
the build directory (dashboard-screenshots/)."""
import hashlib
import os
import re
import signal
import socket
import struct
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(__file__))
import ipfix  # noqa: E402
from cdp import Browser, chromium  # noqa: E402
from ixdtest import BIN, SLOW, Daemon, free_port, free_tcp_port, run  # noqa: E402
from test_api import Api  # noqa: E402

# the sanitizer build: librrd's graph code keeps what LeakSanitizer would report
# (lsan-rrd.supp says what); whole stacks so that the suppressions see the library
if "ASAN_OPTIONS" in os.environ:
    os.environ["ASAN_OPTIONS"] += ":fast_unwind_on_malloc=0"
os.environ["LSAN_OPTIONS"] = ":".join(filter(None, [
    os.environ.get("LSAN_OPTIONS"),
    "suppressions=" + os.path.join(os.path.dirname(os.path.abspath(__file__)), "lsan-rrd.supp")]))

TOKENS = {"reader": "reader-dash-5Kq9wz0Tq1mH", "admin": "admin-dash-Vb7pQ2LrT9sW"}
HOSTILE = "<img src=x onerror=alert(1)>"
SHOTS = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(BIN))),
                     "dashboard-screenshots")
EXPORTERS = ("127.0.0.2", "127.0.0.3", "127.0.0.4")  # steady, sampled, silent


def config(port, api_port, tmp):
    tokens = "\n".join("      - {name: %s, role: %s, sha256: %s}"
                       % (r, r, hashlib.sha256(t.encode()).hexdigest())
                       for r, t in TOKENS.items())
    return f"""workers: 2
api:
  listen: "127.0.0.1:{api_port}"
  writes: runtime
  auth:
    tokens:
{tokens}
collectors:
  - {{name: u, transport: udp, listen: "127.0.0.1:{port}"}}
outputs:
  - {{name: file, type: json, path: "{tmp}/out.json"}}
  - {{name: side, type: count}}
  - name: r
    type: rrd
    directory: {tmp}/rrd
    silent-after: 20s
    clear-after: 10s
pipelines:
  - {{name: main, from: [u], to: [file]}}
  - name: talk
    from: [u]
    to: [r]
    stages:
      - top-talkers: {{slot: 2s, window: 10s, capacity: 16}}
"""


class Feed:
    """The exporters: templates and options once, then data every half second from the first
    two; the third sends once and falls silent."""

    def __init__(self, port):
        self.port = port
        self.stop = threading.Event()
        self.socks = {a: socket.socket(socket.AF_INET, socket.SOCK_DGRAM) for a in EXPORTERS}
        for a, s in self.socks.items():
            s.bind((a, 0))
        self.seq = dict.fromkeys(EXPORTERS, 0)
        self.thread = threading.Thread(target=self.loop, daemon=True)

    def send(self, addr, sets, n):
        self.socks[addr].sendto(ipfix.message(sets, seq=self.seq[addr]), ("127.0.0.1", self.port))
        self.seq[addr] += n

    def start(self):
        tmpl = ipfix.set_(2, ipfix.template_record(256, ipfix.SMALL_FIELDS))
        for a in EXPORTERS:
            self.send(a, [tmpl], 0)
        # the sampled one: a sampler (RFC 7270: samplerId, mode, random interval 1 in 100) and
        # its interfaces' names, one of them an HTML tag
        # (an options template's latest record is what the API shows: one interface each)
        opts = ipfix.set_(3, ipfix.options_template_record(300, 1, [(48, 1), (49, 1), (50, 4)]) +
                          ipfix.options_template_record(301, 1, [(10, 4), (82, 65535)]) +
                          ipfix.options_template_record(302, 1, [(10, 4), (82, 65535)]))
        recs = [ipfix.set_(300, struct.pack(">BBI", 1, 2, 100), pad_to4=True),
                ipfix.set_(301, struct.pack(">I", 3) + ipfix.varlen(HOSTILE.encode()),
                           pad_to4=True),
                ipfix.set_(302, struct.pack(">I", 4) + ipfix.varlen(b"ge-0/0/1"), pad_to4=True)]
        self.send(EXPORTERS[1], [opts] + recs, 3)
        self.send(EXPORTERS[2], [ipfix.set_(256, b"".join(ipfix.small_record(k)
                                                          for k in range(5)))], 5)
        self.thread.start()

    def loop(self):
        k = 0
        while not self.stop.is_set():
            for a in EXPORTERS[:2]:
                self.send(a, [ipfix.set_(256, b"".join(ipfix.small_record(k + i)
                                                       for i in range(20)))], 20)
            k += 20
            self.stop.wait(0.5)

    def close(self):
        self.stop.set()
        self.thread.join()
        for s in self.socks.values():
            s.close()


class Session:
    def __init__(self, browser, base):
        self.b = browser
        self.base = base

    def clean(self, step, expected=()):
        """The step's problems, minus those it expects (substrings): none may be left."""
        self.b.pump(0.2)
        bad = [p for p in self.b.problems() if not any(e in p for e in expected)]
        assert not bad, "%s: %s" % (step, bad)

    def shot(self, name):
        os.makedirs(SHOTS, exist_ok=True)
        self.b.screenshot(os.path.join(SHOTS, name + ".png"))

    def rendered(self):
        return int(self.b.evaluate("document.body.dataset.rendered || '0'"))

    def view(self, name, what, ready_expr, arg_click=None, timeout=20.0):
        """Goes to a view by its nav link (or a link the page shows) and waits for ready_expr."""
        if arg_click is None:
            self.b.evaluate("document.querySelector('#nav a[data-view=%s]').click()" % name)
        else:
            self.b.evaluate(arg_click)
        self.b.wait("document.body.dataset.view === '%s' && (%s)" % (name, ready_expr), what,
                    timeout * SLOW)

    def open_exporter(self, address, what, ready_expr):
        """From the exporters' list, a click on address; then waits for ready_expr."""
        self.view("exporters", "the exporters", "[...document.querySelectorAll('#main a')]"
                  ".some(a => a.textContent === %r)" % address)
        self.view("exporter", what, ready_expr, "[...document.querySelectorAll('#main a')]"
                  ".find(a => a.textContent === %r).click()" % address)

    def token(self, role):
        self.b.evaluate("(() => { const i = document.getElementById('token'); i.value = %r; "
                        "document.getElementById('token-form').requestSubmit(); })()"
                        % TOKENS[role])

    def no_problem_shown(self, step):
        text = self.b.evaluate("[...document.querySelectorAll('.problem')]"
                               ".map(e => e.textContent).join(' | ')")
        assert not text, "%s shows an error while data flows: %s" % (step, text)


def test_headers(api):
    """The page is served at / to a browser, without a token; API clients keep the index."""
    code, h, body = api.get("/", {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    assert code == 200 and h["Content-Type"].startswith("text/html"), (code, h)
    assert b'<script type="module" src="/ui/app.js">' in body
    csp = h["Content-Security-Policy"]
    for want in ("default-src 'none'", "script-src 'self'", "frame-ancestors 'none'",
                 "img-src 'self' blob:"):
        assert want in csp, csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp, csp
    assert h["X-Content-Type-Options"] == "nosniff" and h["X-Frame-Options"] == "DENY", h
    assert "Accept" in h.get("Vary", ""), h
    for path, ctype in (("/ui/app.js", "text/javascript"), ("/ui/style.css", "text/css")):
        code, h, _ = api.get(path)
        assert code == 200 and h["Content-Type"].startswith(ctype), (path, code, h)
    # no inline script anywhere: the policy would block it, and the page must not need it
    assert b"<script>" not in body and b"onclick=" not in body
    # without text/html, / stays the API's index and needs a token
    assert api.get("/")[0] == 401
    assert api.get("/ui/nothing.js")[0] == 404
    code, h, _ = api.get("/api/v1/", {"Authorization": "Bearer " + TOKENS["reader"]})
    assert code == 200 and h["X-Frame-Options"] == "DENY" and "default-src 'none'" in \
        h["Content-Security-Policy"], h


def test_views(s, d):
    b = s.b
    b.navigate(s.base + "/")
    # no token yet: the API says 401 and the page says so
    b.wait("document.querySelector('.problem[data-status=\"401\"]')", "the 401 message")
    assert "needs a token" in b.evaluate("document.querySelector('.problem').textContent")
    s.shot("01-no-token")
    s.clean("no token", expected=("401 http", "(Unauthorized)"))

    s.token("reader")
    rows = "document.querySelectorAll('#main tbody tr').length === 3"
    b.wait("document.body.dataset.view === 'exporters' && " + rows, "three exporters")
    text = b.evaluate("document.getElementById('main').innerText")
    for a in EXPORTERS:
        assert a in text, (a, text)
    # the token is in sessionStorage, never in a URL
    assert b.evaluate("sessionStorage.getItem('ipfixd.token')") == TOKENS["reader"]
    assert TOKENS["reader"] not in b.evaluate("location.href")
    # rates need two refreshes: a number of records per second on the steady exporter's row
    b.evaluate("document.getElementById('interval').value = '2';"
               "document.getElementById('interval').dispatchEvent(new Event('change'))")
    b.wait("[...document.querySelectorAll('#main tbody tr')].some(r => r.innerText.includes"
           "('127.0.0.2') && /\\d+(\\.\\d)?\\s*$/.test(r.cells[3].innerText) && "
           "Number(r.cells[3].innerText.replace(/,/g, '')) > 0)", "a rate", timeout=30)
    b.wait("[...document.querySelectorAll('#main tbody tr')].some(r => r.innerText.includes"
           "('127.0.0.3') && r.innerText.includes('1 in 100'))", "the sampling rate")
    # filter and sort, without asking the API again
    b.evaluate("(() => { const f = document.querySelector('.filter'); f.value = '127.0.0.4';"
               "f.dispatchEvent(new Event('input')); })()")
    assert b.evaluate("document.querySelectorAll('#main tbody tr').length") == 1
    b.evaluate("(() => { const f = document.querySelector('.filter'); f.value = '';"
               "f.dispatchEvent(new Event('input')); })()")
    b.evaluate("document.querySelector('#main th.sortable').click()")
    b.evaluate("document.querySelector('#main th.sortable').click()")
    first = b.evaluate("document.querySelector('#main tbody tr').cells[0].innerText")
    assert first == "127.0.0.4", first
    s.no_problem_shown("exporters")
    s.shot("02-exporters")
    s.clean("exporters")

    # the sampled exporter: its options records, the hostile name as text
    s.open_exporter("127.0.0.3", "the sampled exporter", "document.querySelector('[data-exporter]')")
    b.wait("document.getElementById('main').textContent.includes(%r)" % HOSTILE,
           "the interface name, as text")
    assert b.evaluate("document.querySelectorAll('img[src=\"x\"], [onerror]').length") == 0
    text = b.evaluate("document.getElementById('main').textContent")
    for want in ("1 in 100", "ge-0/0/1", "samplerRandomInterval", "sourceIPv4Address",
                 "options template 300", "clock offset"):
        assert want in text, (want, text[:2000])
    # its clock is ipfixd's: measured, an offset of at most a second behind
    assert re.search(r"clock offset-?0(\.\d+)? s \(its clock ahead", text), text[:2000]
    s.no_problem_shown("exporter")
    s.shot("03-exporter")
    b.pump(1.5)
    assert not b.dialogs, b.dialogs
    s.clean("exporter")

    s.view("collectors", "collector u", "document.querySelectorAll('#main tbody tr').length === 1")
    s.shot("04-collectors")
    s.view("collector", "collector u's page", "document.getElementById('main').innerText"
           ".includes('Decode errors')", "document.querySelector('#main tbody a').click()")
    assert "listening" in b.evaluate("document.getElementById('main').innerText")
    s.shot("05-collector")
    s.view("outputs", "three outputs", "document.querySelectorAll('#main tbody tr').length === 3")
    s.shot("06-outputs")
    s.view("output", "output file", "document.getElementById('main').innerText"
           ".includes('Destinations')", "document.querySelector('#main tbody a').click()")
    s.shot("07-output")
    s.view("health", "ready", "document.querySelector('[data-ready=true]')")
    text = b.evaluate("document.getElementById('main').innerText")
    for want in ("ready", "uptime", "worker 0", "worker 1", "High availability"):
        assert want in text, (want, text)
    s.no_problem_shown("health")
    s.shot("08-health")
    s.clean("collectors, outputs, health")

    # a reader sees the pipelines' state, and is told its role does not reach their config
    s.view("pipelines", "the pipelines and the 403 note", "document.querySelectorAll("
           "'#main tbody tr').length === 2 && document.getElementById('main').innerText"
           ".includes('needs operator')")
    s.no_problem_shown("pipelines as a reader")
    s.shot("09-pipelines-reader")
    s.clean("pipelines as a reader", expected=("403 http", "(Forbidden)"))


def test_forms(s):
    """An admin changes a pipeline through its HAL-FORMS form: a refusal at the field, then a
    change that the API applies."""
    b = s.b
    s.token("admin")
    b.evaluate("location.hash = '#pipelines'")
    b.wait("document.body.dataset.view === 'pipelines' && "
           "document.querySelectorAll('#main tbody tr').length === 2", "pipelines main and talk")
    s.shot("10-pipelines")
    s.view("config", "the form", "document.querySelector('form.item')",
           "[...document.querySelectorAll('#main tbody a')].find(a => a.textContent === "
           "'main').click()")
    set_to = ("(() => { const t = document.querySelector('form.item [name=to]'); t.value = %r;"
              "document.querySelector('form.item').requestSubmit(); })()")
    b.evaluate(set_to % '["nothere"]')
    b.wait("document.querySelector('[data-error-for=to]').textContent.includes('nothere')",
           "the refusal at the field 'to'")
    assert b.evaluate("document.querySelector('form.item [name=to]')"
                      ".getAttribute('aria-invalid')") == "true"
    s.shot("11-form-refused")
    s.clean("a refused change", expected=("422 http", "(Unprocessable Content)"))
    b.evaluate(set_to % '["file", "side"]')
    b.wait("document.querySelector('#main pre') && document.querySelector('#main pre')"
           ".textContent.includes('side')", "the applied change")
    s.shot("12-form-applied")
    s.clean("an applied change")
    # a new pipeline from the section's create form, which a refresh leaves alone meanwhile
    s.view("pipelines", "the create form", "document.querySelector('details.create')")
    b.evaluate("document.querySelector('details.create').open = true")
    before = s.rendered()
    b.pump(2.5)
    fill = ("(() => { const f = document.querySelector('details.create form');"
            "f.querySelector('[name=name]').value = 'extra';"
            "f.querySelector('[name=from]').value = '[\"u\"]';"
            "f.querySelector('[name=to]').value = '[\"side\"]';"
            "f.dispatchEvent(new Event('input')); f.requestSubmit(); })()")
    assert s.rendered() == before, "a refresh redrew the form being filled in"
    b.evaluate(fill)
    b.wait("[...document.querySelectorAll('#main tbody a')].some(a => a.textContent === 'extra')",
           "the new pipeline in the list")
    s.shot("13-pipeline-created")
    s.clean("a new pipeline")


def test_rrd_views(s):
    """With an rrd output and a top-talkers stage: the silent exporter's alert, an exporter's
    graphs (PNGs fetched with the token, shown through blob: URLs) over two periods, and the
    top talkers."""
    b = s.b
    b.wait("!document.querySelector('#nav a[data-view=alerts]').hidden && "
           "!document.querySelector('#nav a[data-view=top]').hidden", "the rrd views' links")
    s.view("alerts", "the silent exporter's alert", "[...document.querySelectorAll("
           "'#main tbody tr')].some(r => r.innerText.includes('silent') && "
           "r.innerText.includes('127.0.0.4') && r.innerText.includes('firing'))",
           timeout=60)
    s.no_problem_shown("alerts")
    s.shot("20-alerts")
    graphs_in = ("(() => { const g = [...document.querySelectorAll('#main img.graph')];"
                 "return g.length > 0 && g.every(i => i.complete && i.naturalWidth >= 100 && "
                 "i.src.startsWith('blob:') && i.dataset.start === '%s'); })()")
    s.open_exporter("127.0.0.2", "the steady exporter's graphs", graphs_in % "-1h")
    # PNGs the browser decoded, of more than a header (the page's policy keeps even its own
    # scripts from reading a blob: back, so the page says what it received)
    pngs = b.evaluate("[...document.querySelectorAll('#main img.graph')].map(i => "
                      "[i.dataset.type, Number(i.dataset.bytes), i.naturalWidth])")
    assert pngs and all(t == "image/png" and n > 1000 and w >= 100 for t, n, w in pngs), pngs
    b.wait("document.querySelector('#main [data-dimension]')", "the exporter's top talkers")
    s.shot("21-exporter-graphs")
    b.evaluate("document.querySelector('#main .periods button[data-start=\"-1d\"]').click()")
    b.wait(graphs_in % "-1d", "the graphs over a day")
    s.no_problem_shown("exporter graphs")
    s.clean("graphs")
    s.view("top", "top talkers", "document.querySelectorAll('#main [data-dimension] tbody tr')"
           ".length > 0")
    text = b.evaluate("document.getElementById('main').innerText")
    assert "destination-port" in text and "80" in text, text[:1500]
    s.no_problem_shown("top")
    s.shot("22-top")
    s.open_exporter("127.0.0.4", "the silent exporter's alert on its page",
                    "document.getElementById('main').innerText.includes('silent')")
    s.clean("rrd views")


def test_phone(s):
    b = s.b
    b.viewport(390, 844, True)
    s.view("exporters", "exporters on a phone", "document.querySelectorAll('#main tbody tr')"
           ".length === 3")
    b.pump(0.5)
    width = b.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the page is %d px wide on a 390 px screen" % width
    s.shot("14-phone-exporters")
    s.view("health", "health on a phone", "document.querySelector('[data-ready=true]')")
    assert b.evaluate("document.documentElement.scrollWidth") <= 390
    s.shot("15-phone-health")
    b.viewport(1280, 900, False)
    s.clean("phone")


def test_stall_and_gone(s, d):
    """A daemon that stops answering gets one request at a time, never a pile; a daemon gone is
    said to be gone."""
    b = s.b
    s.view("exporters", "exporters", "document.querySelectorAll('#main tbody tr').length === 3")
    b.problems()
    d.signal(signal.SIGSTOP)
    try:
        b.pump(13)  # the 2 s interval six times over, and the page's 10 s timeout once
        sent = [m for m in b.events if m["method"] == "Network.requestWillBeSent" and
                "/api/v1" in m["params"]["request"]["url"]]
        assert 1 <= len(sent) <= 2, "%d requests while the daemon was stopped" % len(sent)
        b.wait("document.querySelector('.problem.gone')", "the timeout message")
        assert "did not answer" in b.evaluate("document.querySelector('.problem').textContent")
        s.shot("16-stalled")
    finally:
        d.signal(signal.SIGCONT)
    b.wait("document.querySelectorAll('#main tbody tr').length === 3 && "
           "!document.querySelector('.problem')", "the page back once the daemon answers")
    s.clean("stalled", expected=("request failed: net::ERR_ABORTED",))
    d.stop()
    b.wait("document.querySelector('.problem.gone')", "the daemon-gone message", timeout=30)
    assert "does not answer" in b.evaluate("document.querySelector('.problem').textContent")
    s.shot("17-gone")
    s.clean("daemon gone", expected=("ERR_CONNECTION_REFUSED",))


def named(f, *args):
    def call():
        f(*args)
    call.__name__ = f.__name__
    return call


def main():
    if chromium() is None:
        print("SKIP: chromium is not installed (scripts/install-deps.sh --test)")
        sys.exit(0)
    port, api_port = free_port(), free_tcp_port()
    d = Daemon(config(port, api_port, tempfile.mkdtemp(prefix="ixd-dash-")), expect_collectors=1)
    feed = Feed(port)
    feed.start()
    browser = Browser()
    s = Session(browser, "http://127.0.0.1:%d" % api_port)
    api = Api(api_port)
    try:
        run([named(test_headers, api), named(test_views, s, d), named(test_rrd_views, s),
             named(test_forms, s), named(test_phone, s), named(test_stall_and_gone, s, d)])
    finally:
        browser.close()
        feed.close()
        if d.alive():
            d.stop()


if __name__ == "__main__":
    main()
