"""Debian's headless chromium driven over the DevTools protocol, with the standard library only
(a websocket client of RFC 6455's few frames the protocol uses). The browser reaches nothing but
loopback: every other host resolves to nothing and goes to a proxy that is not there."""
import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile
import time
import urllib.parse
import urllib.request


def chromium():
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


class WebSocket:
    def __init__(self, url, timeout=30.0):
        u = urllib.parse.urlparse(url)
        self.sock = socket.create_connection((u.hostname, u.port), timeout=timeout)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall((f"GET {u.path} HTTP/1.1\r\nHost: {u.hostname}:{u.port}\r\n"
                           f"Upgrade: websocket\r\nConnection: Upgrade\r\n"
                           f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
                          .encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("websocket handshake: connection closed")
            head += chunk
        head, self.buf = head.split(b"\r\n\r\n", 1)
        if b" 101 " not in head.split(b"\r\n")[0]:
            raise ConnectionError("websocket handshake refused: %r" % head[:200])

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise ConnectionError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def _frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        if n < 126:
            head = struct.pack(">BB", 0x80 | opcode, 0x80 | n)
        elif n < 1 << 16:
            head = struct.pack(">BBH", 0x80 | opcode, 0x80 | 126, n)
        else:
            head = struct.pack(">BBQ", 0x80 | opcode, 0x80 | 127, n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, text):
        self._frame(0x1, text.encode())

    def recv(self, timeout):
        """The next text message, or None when none came within timeout seconds."""
        self.sock.settimeout(timeout)
        message = b""
        try:
            while True:
                b0, b1 = self._read(2)
                n = b1 & 0x7F
                if n == 126:
                    n = struct.unpack(">H", self._read(2))[0]
                elif n == 127:
                    n = struct.unpack(">Q", self._read(8))[0]
                mask = self._read(4) if b1 & 0x80 else None
                payload = self._read(n)
                if mask:
                    payload = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                opcode = b0 & 0x0F
                if opcode == 0x9:
                    self._frame(0xA, payload)
                    continue
                if opcode == 0x8:
                    raise ConnectionError("websocket closed by the browser")
                message += payload
                if b0 & 0x80:
                    return message.decode()
        except socket.timeout:
            if message:
                raise
            return None

    def close(self):
        self.sock.close()


class Browser:
    """One chromium page. events holds every protocol event seen; problems() the bad ones."""

    def __init__(self, width=1280, height=900):
        self.dir = tempfile.mkdtemp(prefix="ixd-chromium-")
        self.log = open(os.path.join(self.dir, "chromium.log"), "wb")
        self.proc = subprocess.Popen([
            chromium(), "--headless=new", "--no-sandbox", "--disable-gpu",
            "--remote-debugging-port=0", "--user-data-dir=" + self.dir, "--no-first-run",
            "--no-default-browser-check", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--disable-default-apps", "--disable-domain-reliability", "--mute-audio",
            "--proxy-server=http://127.0.0.1:9", "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
            "--window-size=%d,%d" % (width, height), "about:blank"],
            stdout=self.log, stderr=self.log)
        port_file = os.path.join(self.dir, "DevToolsActivePort")
        deadline = time.time() + 30
        while not (os.path.exists(port_file) and open(port_file).read().count("\n") >= 1):
            if time.time() > deadline or self.proc.poll() is not None:
                raise RuntimeError("chromium did not start: " + open(self.log.name).read())
            time.sleep(0.05)
        port = int(open(port_file).read().split("\n")[0])
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port) as r:
            pages = [t for t in json.load(r) if t["type"] == "page"]
        self.ws = WebSocket(pages[0]["webSocketDebuggerUrl"])
        self.next_id = 0
        self.events = []
        self.dialogs = []
        for domain in ("Page", "Runtime", "Log", "Network"):
            self.call(domain + ".enable")

    def _event(self, msg):
        self.events.append(msg)
        if msg["method"] == "Page.javascriptDialogOpening":
            self.dialogs.append(msg["params"].get("message"))
            self.send_only("Page.handleJavaScriptDialog", {"accept": True})

    def send_only(self, method, params=None):
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params or {}}))
        return self.next_id

    def call(self, method, params=None, timeout=30.0):
        want = self.send_only(method, params)
        deadline = time.time() + timeout
        while time.time() < deadline:
            raw = self.ws.recv(max(0.01, deadline - time.time()))
            if raw is None:
                break
            msg = json.loads(raw)
            if "method" in msg:
                self._event(msg)
            elif msg.get("id") == want:
                if "error" in msg:
                    raise RuntimeError("%s: %s" % (method, msg["error"]))
                return msg["result"]
        raise TimeoutError("no answer to " + method)

    def pump(self, seconds):
        """Takes events for a while (the page runs on its own meanwhile)."""
        deadline = time.time() + seconds
        while time.time() < deadline:
            raw = self.ws.recv(max(0.01, deadline - time.time()))
            if raw is not None:
                msg = json.loads(raw)
                if "method" in msg:
                    self._event(msg)

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", {"expression": expr, "returnByValue": True,
                                           "awaitPromise": True})
        if "exceptionDetails" in r:
            raise RuntimeError("%s: %s" % (expr, r["exceptionDetails"]))
        return r["result"].get("value")

    def wait(self, expr, what, timeout=20.0):
        deadline = time.time() + timeout
        while time.time() < deadline:
            value = self.evaluate("!!(%s)" % expr)
            if value:
                return value
            self.pump(0.1)
        raise AssertionError("timed out waiting for %s (%s); the page says: %s" % (
            what, expr, self.evaluate("document.getElementById('main').innerText")[:1000]))

    def navigate(self, url):
        self.call("Page.navigate", {"url": url})

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", {"format": "png", "captureBeyondViewport": True})
        with open(path, "wb") as f:
            f.write(base64.b64decode(data["data"]))

    def viewport(self, width, height, mobile):
        self.call("Emulation.setDeviceMetricsOverride", {
            "width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})

    def problems(self):
        """What went wrong since the last call: console errors, exceptions, failed requests
        (refused, or answered 400 and above), dialogs."""
        out = []
        for m in self.events:
            p = m["params"]
            if m["method"] == "Runtime.exceptionThrown":
                out.append("exception: %s" % p["exceptionDetails"].get("exception", {})
                           .get("description", p["exceptionDetails"].get("text")))
            elif m["method"] == "Runtime.consoleAPICalled" and p["type"] in ("error", "assert"):
                out.append("console.%s: %s" % (p["type"], [a.get("value") for a in p["args"]]))
            elif m["method"] == "Log.entryAdded" and p["entry"]["level"] == "error":
                out.append("log: %s %s" % (p["entry"]["text"], p["entry"].get("url", "")))
            elif m["method"] == "Network.loadingFailed":
                out.append("request failed: %s" % p.get("errorText"))
            elif m["method"] == "Network.responseReceived" and p["response"]["status"] >= 400:
                out.append("HTTP %d %s" % (p["response"]["status"], p["response"]["url"]))
            elif m["method"] == "Page.javascriptDialogOpening":
                out.append("dialog: %s" % p.get("message"))
        self.events = []
        return out

    def close(self):
        try:
            self.ws.close()
        finally:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.log.close()
            shutil.rmtree(self.dir, ignore_errors=True)
