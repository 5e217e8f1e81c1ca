#!/usr/bin/env python3
"""Open an HTML page in headless Chromium over the DevTools protocol.

    browser_check.py CHROMIUM PAGE.html OUT_DIR

Starts Chromium headless with a new empty profile and no network
services, loads the page, and writes to OUT_DIR:
  console.json   every console error, uncaught exception and log error
                 (a blocked fetch shows up here as a CSP violation)
  bars.json      the timeline's bars as drawn: for each
                 svg#timeline rect.bar, data-step, data-attempt,
                 data-duration-ms and its rendered width in SVG units,
                 with the svg's data-ms-scale and data-min-bar
  texts.json     the text of a few elements (#in-progress, #sessions,
                 .facts) for the caller to check, and how many <details>
                 were closed before and after printing
  shot.png       a screenshot (1200 px wide, the whole page)
  print.pdf      the page printed to PDF
Exits 0 when all of that was captured; the caller judges it.

Only the standard library: a minimal WebSocket client (RFC 6455) is
enough for the DevTools protocol. Chromium is stopped by its PID.
"""
import base64
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.request

TIMEOUT = float(os.environ.get("QRH_BROWSER_TIMEOUT", "90"))


class WS:
    def __init__(self, url):
        assert url.startswith("ws://")
        hostport, path = url[5:].split("/", 1)
        host, port = hostport.split(":")
        self.s = socket.create_connection((host, int(port)), timeout=TIMEOUT)
        key = base64.b64encode(os.urandom(16)).decode()
        req = (f"GET /{path} HTTP/1.1\r\nHost: {hostport}\r\nUpgrade: websocket\r\n"
               f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\n"
               "Sec-WebSocket-Version: 13\r\n\r\n")
        self.s.sendall(req.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.s.recv(4096)
            if not chunk:
                raise RuntimeError("websocket handshake: connection closed")
            head += chunk
        status = head.split(b"\r\n", 1)[0]
        if b" 101 " not in status:
            raise RuntimeError(f"websocket handshake refused: {status!r}")
        self.buf = head.split(b"\r\n\r\n", 1)[1]
        self.next_id = 0

    def _read(self, n):
        while len(self.buf) < n:
            chunk = self.s.recv(1 << 20)
            if not chunk:
                raise RuntimeError("websocket closed")
            self.buf += chunk
        out, self.buf = self.buf[:n], self.buf[n:]
        return out

    def send(self, method, **params):
        self.next_id += 1
        data = json.dumps({"id": self.next_id, "method": method, "params": params}).encode()
        mask = os.urandom(4)
        n = len(data)
        if n < 126:
            hdr = struct.pack("!BB", 0x81, 0x80 | n)
        elif n < 65536:
            hdr = struct.pack("!BBH", 0x81, 0x80 | 126, n)
        else:
            hdr = struct.pack("!BBQ", 0x81, 0x80 | 127, n)
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(data))
        self.s.sendall(hdr + mask + masked)
        return self.next_id

    def recv(self):
        message = b""
        while True:
            b0, b1 = self._read(2)
            n = b1 & 0x7F
            if n == 126:
                n = struct.unpack("!H", self._read(2))[0]
            elif n == 127:
                n = struct.unpack("!Q", self._read(8))[0]
            payload = self._read(n)
            op = b0 & 0x0F
            if op == 0x8:
                raise RuntimeError("websocket closed by the browser")
            if op in (0x1, 0x0):
                message += payload
                if b0 & 0x80:
                    return json.loads(message)


class Page:
    def __init__(self, ws):
        self.ws = ws
        self.events = []

    def call(self, method, **params):
        want = self.ws.send(method, **params)
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = self.ws.recv()
            if m.get("id") == want:
                if "error" in m:
                    raise RuntimeError(f"{method}: {m['error']}")
                return m.get("result", {})
            self.events.append(m)
        raise RuntimeError(f"{method}: no answer")

    def wait_event(self, name):
        for i, m in enumerate(self.events):
            if m.get("method") == name:
                del self.events[i]
                return m
        deadline = time.monotonic() + TIMEOUT
        while time.monotonic() < deadline:
            m = self.ws.recv()
            if m.get("method") == name:
                return m
            self.events.append(m)
        raise RuntimeError(f"no {name} event")

    def evaluate(self, expr):
        r = self.call("Runtime.evaluate", expression=expr, returnByValue=True)
        if "exceptionDetails" in r:
            raise RuntimeError(f"evaluate failed: {r['exceptionDetails']}")
        return r["result"].get("value")


def errors_of(events):
    out = []
    for m in events:
        meth, p = m.get("method"), m.get("params", {})
        if meth == "Runtime.exceptionThrown":
            out.append({"kind": "exception", "text": p["exceptionDetails"].get("text")})
        elif meth == "Runtime.consoleAPICalled" and p.get("type") in ("error", "assert"):
            out.append({"kind": "console", "text": json.dumps(p.get("args"))})
        elif meth == "Log.entryAdded" and p["entry"].get("level") == "error":
            out.append({"kind": "log", "text": p["entry"].get("text"),
                        "url": p["entry"].get("url")})
    return out


BARS = """(() => {
  const svg = document.querySelector('svg#timeline');
  const box = svg.getBoundingClientRect();
  const units = svg.viewBox.baseVal.width / box.width;
  return {
    scale: parseFloat(svg.dataset.msScale),
    min_bar: parseFloat(svg.dataset.minBar),
    bars: [...svg.querySelectorAll('rect.bar')].map(r => ({
      step: +r.dataset.step, attempt: +r.dataset.attempt,
      duration_ms: r.dataset.durationMs === undefined ? null : +r.dataset.durationMs,
      width: r.getBoundingClientRect().width * units,
      x: (r.getBoundingClientRect().left - box.left) * units,
    })),
  };
})()"""

TEXTS = """(() => {
  const t = s => { const e = document.querySelector(s); return e ? e.innerText : null; };
  return {in_progress: t('#in-progress'), sessions: t('#sessions'), facts: t('.facts'),
          title: document.title};
})()"""


def main():
    chromium, page, out = sys.argv[1], os.path.abspath(sys.argv[2]), sys.argv[3]
    profile = os.path.join(out, "profile")
    os.makedirs(profile)
    args = [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--no-first-run",
            "--disable-component-update", "--disable-sync", "--disable-extensions",
            "--user-data-dir=" + profile, "--remote-debugging-port=0",
            "--remote-allow-origins=*", "--window-size=1200,900", "about:blank"]
    log = open(os.path.join(out, "chromium.log"), "wb")
    proc = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    try:
        port_file = os.path.join(profile, "DevToolsActivePort")
        deadline = time.monotonic() + TIMEOUT
        while not (os.path.exists(port_file) and open(port_file).read().strip()):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("chromium did not start (see chromium.log)")
            time.sleep(0.1)
        port = open(port_file).read().split()[0]
        targets = json.load(urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list",
                                                   timeout=TIMEOUT))
        target = next(t for t in targets if t.get("type") == "page")
        p = Page(WS(target["webSocketDebuggerUrl"]))
        for domain in ("Runtime", "Log", "Page"):
            p.call(domain + ".enable")
        p.call("Emulation.setDeviceMetricsOverride", width=1200, height=900,
               deviceScaleFactor=1, mobile=False)
        p.call("Page.navigate", url="file://" + page)
        p.wait_event("Page.loadEventFired")
        bars = p.evaluate(BARS)
        texts = p.evaluate(TEXTS)
        height = p.evaluate("document.documentElement.scrollHeight")
        p.call("Emulation.setDeviceMetricsOverride", width=1200, height=min(int(height), 8000),
               deviceScaleFactor=1, mobile=False)
        shot = p.call("Page.captureScreenshot", format="png")
        closed = p.evaluate("document.querySelectorAll('details:not([open])').length")
        pdf = p.call("Page.printToPDF", printBackground=False)
        texts["details"] = p.evaluate("document.querySelectorAll('details').length")
        texts["closed_before_print"] = closed
        texts["closed_after_print"] = p.evaluate(
            "document.querySelectorAll('details:not([open])').length")
        # late errors (a blocked request reports after load)
        p.evaluate("1")
        json.dump(errors_of(p.events), open(os.path.join(out, "console.json"), "w"), indent=1)
        json.dump(bars, open(os.path.join(out, "bars.json"), "w"), indent=1)
        json.dump(texts, open(os.path.join(out, "texts.json"), "w"), indent=1)
        open(os.path.join(out, "shot.png"), "wb").write(base64.b64decode(shot["data"]))
        open(os.path.join(out, "print.pdf"), "wb").write(base64.b64decode(pdf["data"]))
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


if __name__ == "__main__":
    main()
