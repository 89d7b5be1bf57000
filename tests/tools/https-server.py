#!/usr/bin/env python3
"""Test-only HTTPS (or HTTP) file server on loopback for fetch and discovery tests.

Serves --root. Behaviour per path comes from --config (JSON object keyed by URL path):
  {"/x.aci": {"status": 202, "times": 1},          answer 202 the first N times, then serve
   "/r.aci": {"redirect": "https://...", "code": 302},
   "/c.aci": {"cut_after": 1000, "times": 1},       send N bytes of the body, then close
   "/m.aci": {"max_age": 60, "no_etag": false},
   "/a.aci": {"auth": "Bearer t0ken"},              401 unless Authorization matches
   "/s.aci": {"delay": 5, "delay_after": 100},      send 100 bytes (default half), wait 5 s (logged first)
   "/h.html": {"content_type": "text/html"}}
Every request is appended to --log as one JSON line: method, tls, host, path, headers, status.
--vhosts: name-based virtual hosts for discovery tests: a request for https://H/P is served
from --root/H/P and configured by the key "/H/P" (the Host header without its port); a
directory is served as its index.html (the page of https://H?ac-discovery=1).
ETag is the SHA-256 of the file; If-None-Match gives 304; Range: bytes=N- gives 206.
Binds 127.0.0.1 only; writes the chosen port to --port-file. Stops after --lifetime seconds.
"""
import argparse
import hashlib
import http.server
import json
import os
import ssl
import sys
import threading
import time

ARGS = None
CONFIG = {}
COUNTS = {}
LOCK = threading.Lock()


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def record(self, status):
        with LOCK, open(ARGS.log, "a") as f:
            f.write(json.dumps({"method": self.command, "tls": bool(ARGS.cert),
                                "host": self.host(), "path": self.path,
                                "headers": dict(self.headers), "status": status}) + "\n")

    def send(self, status, body=b"", headers=None):
        self.send_response(status)
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        self.record(status)

    def host(self):
        h = self.headers.get("Host") or ""
        return h.rsplit(":", 1)[0] if not h.startswith("[") else h

    def times_left(self, path, cfg):
        with LOCK:
            n = COUNTS.get(path, 0)
            COUNTS[path] = n + 1
        return n < cfg.get("times", 1 << 30)

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        path = self.path.split("?", 1)[0]
        full = self.path
        if ARGS.vhosts:
            host = self.host()
            if not host or "/" in host or host.startswith("."):
                return self.send(400, b"bad host")
            path = "/" + host + path
            full = "/" + host + self.path
        cfg = CONFIG.get(full, CONFIG.get(path, {}))
        if "auth" in cfg and self.headers.get("Authorization") != cfg["auth"]:
            return self.send(401, b"unauthorized", {"WWW-Authenticate": "Bearer"})
        if "redirect" in cfg:
            return self.send(cfg.get("code", 302), b"", {"Location": cfg["redirect"]})
        if cfg.get("status") and self.times_left(path + "#status", cfg):
            return self.send(cfg["status"], b"")
        fs = os.path.normpath(os.path.join(ARGS.root, path.lstrip("/")))
        if ARGS.vhosts and os.path.isdir(fs):
            fs = os.path.join(fs, "index.html")
        if not fs.startswith(os.path.abspath(ARGS.root)) or not os.path.isfile(fs):
            return self.send(404, b"not found")
        with open(fs, "rb") as f:
            data = f.read()
        etag = '"' + hashlib.sha256(data).hexdigest() + '"'
        hdrs = {"Content-Type": cfg.get("content_type", "application/octet-stream"),
                "Accept-Ranges": "bytes"}
        if not cfg.get("no_etag"):
            hdrs["ETag"] = etag
        if "max_age" in cfg:
            hdrs["Cache-Control"] = "max-age=%d" % cfg["max_age"]
        if not cfg.get("no_etag") and self.headers.get("If-None-Match") == etag:
            return self.send(304, b"", hdrs)
        status, body = 200, data
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes=") and rng.endswith("-"):
            start = int(rng[6:-1])
            if start < len(data):
                status, body = 206, data[start:]
                hdrs["Content-Range"] = "bytes %d-%d/%d" % (start, len(data) - 1, len(data))
        if "cut_after" in cfg and self.times_left(path + "#cut", cfg):
            self.send_response(status)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[:cfg["cut_after"]])
            self.wfile.flush()
            self.record(status)
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
            return
        if "delay" in cfg:
            half = cfg.get("delay_after", len(body) // 2)
            self.send_response(status)
            for k, v in hdrs.items():
                self.send_header(k, v)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.record(status)  # logged before the stall, so a test can act during it
            try:
                self.wfile.write(body[:half])
                self.wfile.flush()
                time.sleep(cfg["delay"])
                self.wfile.write(body[half:])
                self.wfile.flush()
            except OSError:  # the client went away (killed)
                self.close_connection = True
            return
        self.send(status, body, hdrs)


def main():
    global ARGS, CONFIG
    p = argparse.ArgumentParser()
    p.add_argument("--root", required=True)
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--config")
    p.add_argument("--log", default="/dev/null")
    p.add_argument("--port", type=int, default=0)
    p.add_argument("--port-file", required=True)
    p.add_argument("--lifetime", type=int, default=600)
    p.add_argument("--vhosts", action="store_true")
    ARGS = p.parse_args()
    ARGS.root = os.path.abspath(ARGS.root)
    if ARGS.config:
        with open(ARGS.config) as f:
            CONFIG = json.load(f)
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    srv.daemon_threads = True
    if ARGS.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(ARGS.cert, ARGS.key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(srv.server_address[1]))
    os.rename(tmp, ARGS.port_file)
    threading.Timer(ARGS.lifetime, srv.shutdown).start()
    srv.serve_forever()


if __name__ == "__main__":
    sys.exit(main())
