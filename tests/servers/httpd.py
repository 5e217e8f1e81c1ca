#!/usr/bin/env python3
"""A small HTTP(S) server for qrh's tests and sandbox: a "gateway" of one
region. Started and stopped by tests/servers/http.sh; see there.

With --dsn it is an application server with a database of its own (the
sandbox's primary and DR applications; needs python3-psycopg2): its health
check connects to that database and is healthy only when the database
takes writes (a standby is "down"), and with --heartbeat it upserts
heartbeat(region, at) every second while it can write. --fault-file names a
JSON file read at each check: {"ready_delay": SECONDS} keeps the health
check at 503 ("starting") for that long after the database first took
writes (a DR application slow to come up).

Routes (any method):
  /healthz          the health check: the status in --status-file when that
                    file exists and holds one (e.g. 503), else (with --dsn)
                    the database's, else 200; the body names the region:
                    "region=NAME status=ok|down|starting[ db=...]"
  /health.json      the same as JSON: {"region", "status", "code", "lag"}
  /status/NNN       answers NNN, body "status NNN from NAME"
  /slow?ms=N        waits N ms, then answers 200
  /hang             accepts the request and never answers (until the client
                    goes away or the server stops)
  /big?bytes=N      a body of N bytes ('x'), with its Content-Length
  /redirect?to=URL  302 to URL
  /echo             200 with a JSON echo: method, path, headers, body
Every request is logged to --access-log as "CLIENT_PORT METHOD PATH", so a
test can count attempts and tell connections apart.
"""
import argparse
import json
import os
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "qrh-test-httpd"

    def log_message(self, fmt, *args):
        pass

    def log_access(self):
        opts = self.server.opts
        if not opts.access_log:
            return
        with self.server.log_lock, open(opts.access_log, "a") as f:
            f.write("%d %s %s\n" % (self.client_address[1], self.command, self.path))

    def send(self, code, body, ctype="text/plain", extra=None):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(code)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)

    def forced_code(self):
        try:
            with open(self.server.opts.status_file) as f:
                text = f.read().strip()
            return int(text) if text else None
        except (OSError, ValueError, TypeError):
            return None

    def health(self):
        """(code, state, detail): forced by the status file, else the database's."""
        forced = self.forced_code()
        if forced is not None:
            return forced, "ok" if forced < 400 else "down", ""
        if not self.server.opts.dsn:
            return 200, "ok", ""
        return self.server.db_health()

    def health_code(self):
        return self.health()[0]

    def handle_any(self):
        self.log_access()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlsplit(self.path)
        q = parse_qs(url.query)
        region = self.server.opts.region
        if url.path == "/healthz":
            code, state, detail = self.health()
            self.send(code, "region=%s status=%s%s\n" % (region, state, detail))
        elif url.path == "/health.json":
            code, state, detail = self.health()
            doc = {"region": region, "status": state,
                   "code": code, "lag": 0.25, "checks": [{"name": "db", "ok": code < 400}]}
            if detail:
                doc["db"] = detail.strip().split("=", 1)[-1]
            self.send(code, json.dumps(doc), "application/json")
        elif url.path.startswith("/status/"):
            code = int(url.path[len("/status/"):])
            self.send(code, "status %d from %s\n" % (code, region))
        elif url.path == "/slow":
            time.sleep(int(q.get("ms", ["1000"])[0]) / 1000.0)
            self.send(200, "slow answer from %s\n" % region)
        elif url.path == "/hang":
            # never answer; end when the client closes or after a long time
            self.connection.settimeout(600)
            try:
                self.connection.recv(1)
            except OSError:
                pass
            self.close_connection = True
        elif url.path == "/big":
            self.send(200, b"x" * int(q.get("bytes", ["1048576"])[0]))
        elif url.path == "/redirect":
            self.send(302, "moved\n", extra={"Location": q.get("to", ["/healthz"])[0]})
        elif url.path == "/echo":
            doc = {"method": self.command, "path": self.path,
                   "headers": {k.lower(): v for k, v in self.headers.items()},
                   "body": body.decode("utf-8", "replace"), "region": region}
            self.send(200, json.dumps(doc), "application/json")
        else:
            self.send(404, "not found\n")

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = handle_any


class Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, addr, opts):
        self.opts = opts
        self.log_lock = threading.Lock()
        self.writable_since = None  # when the database first took writes
        family = socket.AF_INET6 if ":" in addr[0] else socket.AF_INET
        self.address_family = family
        super().__init__(addr, Handler)

    def db_state(self):
        """"primary", "standby" or "unreachable"."""
        import psycopg2
        try:
            conn = psycopg2.connect(self.opts.dsn, connect_timeout=2)
        except psycopg2.Error:
            return "unreachable"
        try:
            conn.autocommit = True
            with conn.cursor() as cur:
                cur.execute("set statement_timeout = 2000")
                cur.execute("select pg_is_in_recovery()")
                return "standby" if cur.fetchone()[0] else "primary"
        except psycopg2.Error:
            return "unreachable"
        finally:
            conn.close()

    def ready_delay(self):
        try:
            with open(self.opts.fault_file) as f:
                return float(json.load(f).get("ready_delay", 0))
        except (OSError, ValueError, TypeError, AttributeError):
            return 0.0

    def db_health(self):
        state = self.db_state()
        now = time.monotonic()
        if state != "primary":
            self.writable_since = None
            return 503, "down", " db=%s" % state
        if self.writable_since is None:
            self.writable_since = now
        if now - self.writable_since < self.ready_delay():
            return 503, "starting", " db=primary"
        return 200, "ok", " db=primary"

    def heartbeat(self):
        """Upserts heartbeat(region, at) every second while the database takes writes."""
        import psycopg2
        conn = None
        while True:
            try:
                if conn is None or conn.closed:
                    conn = psycopg2.connect(self.opts.dsn, connect_timeout=2)
                    conn.autocommit = True
                with conn.cursor() as cur:
                    cur.execute("insert into heartbeat (region, at) values (%s, clock_timestamp()) "
                                "on conflict (region) do update set at = excluded.at",
                                (self.opts.region,))
            except psycopg2.Error:
                if conn is not None:
                    conn.close()
                conn = None
            time.sleep(1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--region", required=True)
    p.add_argument("--bind", default="127.0.0.1")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file")
    p.add_argument("--status-file")
    p.add_argument("--access-log")
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--dsn", help="the application's database (a libpq conninfo)")
    p.add_argument("--fault-file")
    p.add_argument("--heartbeat", action="store_true")
    opts = p.parse_args()
    srv = Server((opts.bind, opts.port), opts)
    if opts.heartbeat and opts.dsn:
        threading.Thread(target=srv.heartbeat, daemon=True).start()
    if opts.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(opts.cert, opts.key)
        # the handshake happens in the handler's thread, so a client that
        # refuses the certificate never stalls the accepting loop
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True,
                                     do_handshake_on_connect=False)
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
