#!/usr/bin/python3
"""The sandbox's front door: DNS failover routing with the semantics of a
pair of Route 53 failover records, as an HTTP proxy on loopback.

Two records: PRIMARY (health-checked) and SECONDARY. A checker requests
PRIMARY's health path every --interval seconds; a 2xx or 3xx answer within
the interval is healthy (Route 53 counts both). The primary turns unhealthy
after --threshold failed checks in a row and healthy again after
--threshold good ones (Route 53's failure threshold works both ways). The
SECONDARY is checked the same way, for the report only.

Answer: PRIMARY while it is healthy; SECONDARY once the primary is
unhealthy; PRIMARY again when both are unhealthy (Route 53 then answers as
if all records were healthy). Clients keep an answer for --ttl seconds, as
resolvers cache a record: a new answer is taken only when the last one has
expired (0: at every request).

Every request except /_frontdoor is forwarded to the answer's URL, on a new
connection, and its response returned with the header
"X-Qrh-Record: primary|secondary" naming the record that answered (a
connection refused by that record is a 502 whose body names it).
/_frontdoor reports the state as JSON: the answer, each record's health,
consecutive failures and successes, last status and check time, the
settings, and when the answer last changed.

Options also as tests/servers/httpd.py: --bind, --port, --port-file,
--access-log. Python 3 standard library only.
"""
import argparse
import http.client
import json
import os
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

HOP_BY_HOP = {"connection", "keep-alive", "proxy-authenticate", "proxy-authorization",
              "te", "trailers", "transfer-encoding", "upgrade", "content-length", "host"}


class Record:
    def __init__(self, name, url, threshold):
        self.name = name
        self.url = url
        self.threshold = threshold
        self.healthy = True  # until checks say otherwise, as a new health check
        self.failures = 0
        self.successes = 0
        self.last_status = None
        self.last_error = ""
        self.last_check = None
        self.changed_at = None

    def observe(self, ok, status, error):
        self.last_status = status
        self.last_error = error
        self.last_check = time.time()
        if ok:
            self.successes += 1
            self.failures = 0
            if not self.healthy and self.successes >= self.threshold:
                self.healthy = True
                self.changed_at = self.last_check
        else:
            self.failures += 1
            self.successes = 0
            if self.healthy and self.failures >= self.threshold:
                self.healthy = False
                self.changed_at = self.last_check

    def report(self):
        return {"url": self.url, "healthy": self.healthy, "failures": self.failures,
                "successes": self.successes, "last_status": self.last_status,
                "last_error": self.last_error, "last_check": self.last_check,
                "changed_at": self.changed_at}


def request(url, method="GET", path=None, body=None, headers=None, timeout=5.0):
    """(status, headers, body) of one request on a new connection."""
    u = urlsplit(url)
    conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=timeout)
    try:
        conn.request(method, path if path is not None else (u.path or "/"), body=body,
                     headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.getheaders(), resp.read()
    finally:
        conn.close()


class FrontDoor(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, opts):
        self.opts = opts
        self.lock = threading.Lock()
        self.log_lock = threading.Lock()
        self.primary = Record("primary", opts.primary, opts.threshold)
        self.secondary = Record("secondary", opts.secondary, opts.threshold)
        self.answer = "primary"
        self.answer_until = 0.0
        self.answer_changed_at = None
        self.address_family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        super().__init__(addr, Handler)

    def check(self, rec):
        try:
            status, _, _ = request(rec.url.rstrip("/") + self.opts.health_path,
                                   timeout=min(self.opts.interval, 2.0))
            ok, err = 200 <= status < 400, ""
        except (OSError, http.client.HTTPException) as e:
            status, ok, err = None, False, str(e) or type(e).__name__
        with self.lock:
            rec.observe(ok, status, err)

    def checker(self):
        while True:
            started = time.monotonic()
            threads = [threading.Thread(target=self.check, args=(r,), daemon=True)
                       for r in (self.primary, self.secondary)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            time.sleep(max(0.0, self.opts.interval - (time.monotonic() - started)))

    def route(self):
        """The record a client uses now (its cached answer until the TTL ends)."""
        with self.lock:
            now = time.monotonic()
            if now >= self.answer_until:
                want = "primary"
                if not self.primary.healthy and self.secondary.healthy:
                    want = "secondary"
                if want != self.answer:
                    self.answer = want
                    self.answer_changed_at = time.time()
                self.answer_until = now + self.opts.ttl
            return self.answer

    def report(self):
        answer = self.route()
        with self.lock:
            return {"answer": answer, "primary": self.primary.report(),
                    "secondary": self.secondary.report(), "interval": self.opts.interval,
                    "threshold": self.opts.threshold, "ttl": self.opts.ttl,
                    "health_path": self.opts.health_path,
                    "answer_changed_at": self.answer_changed_at}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qrh-sandbox-frontdoor"

    def log_message(self, fmt, *args):
        pass

    def log_access(self, record):
        path = self.server.opts.access_log
        if not path:
            return
        with self.server.log_lock, open(path, "a") as f:
            f.write("%d %s %s %s\n" % (self.client_address[1], self.command, self.path, record))

    def reply(self, code, body, headers):
        self.send_response(code)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        if urlsplit(self.path).path == "/_frontdoor":
            self.log_access("-")
            doc = json.dumps(self.server.report(), indent=1).encode() + b"\n"
            self.reply(200, doc, [("Content-Type", "application/json")])
            return
        record = self.server.route()
        self.log_access(record)
        rec = self.server.primary if record == "primary" else self.server.secondary
        fwd = {k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP}
        try:
            status, headers, data = request(rec.url, self.command, self.path, body, fwd)
        except (OSError, http.client.HTTPException) as e:
            msg = "record=%s error=%s\n" % (record, str(e) or type(e).__name__)
            self.reply(502, msg.encode(), [("Content-Type", "text/plain"),
                                           ("X-Qrh-Record", record)])
            return
        keep = [(k, v) for k, v in headers if k.lower() not in HOP_BY_HOP]
        self.reply(status, data, keep + [("X-Qrh-Record", record)])

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


def main():
    p = argparse.ArgumentParser(description="Route 53 failover records as a local proxy")
    p.add_argument("--primary", required=True, help="the primary record's base URL")
    p.add_argument("--secondary", required=True, help="the secondary record's base URL")
    p.add_argument("--health-path", default="/healthz")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between checks")
    p.add_argument("--threshold", type=int, default=3, help="checks in a row that change health")
    p.add_argument("--ttl", type=float, default=0.0, help="seconds a client keeps an answer")
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--access-log")
    opts = p.parse_args()
    if opts.interval <= 0 or opts.threshold < 1 or opts.ttl < 0:
        p.error("--interval must be > 0, --threshold >= 1, --ttl >= 0")
    srv = FrontDoor((opts.bind, opts.port), opts)
    threading.Thread(target=srv.checker, daemon=True).start()
    if opts.port_file:
        tmp = opts.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % srv.server_address[1])
        os.rename(tmp, opts.port_file)
    try:
        srv.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
