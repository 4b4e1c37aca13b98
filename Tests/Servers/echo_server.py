#!/usr/bin/env python3
"""A keep-alive HTTP/1.1 echo server for reclaw's HTTP client tests.

GET|POST|PUT|... /echo         -> 200, JSON of method, path, headers and body
/slow?ms=N                     -> waits N ms, then 200
/concurrency                   -> the most /slow requests that were in progress at once
/status/N                      -> status N with header X-Status: N
/drop                          -> closes the connection without answering
/record (POST) and /records    -> store request bodies and list them (a webhook receiver)
"""

import argparse
import json
import os
import socket
import ssl
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

RECORDS = []
CONCURRENT = {"now": 0, "max": 0}
LOCK = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.handle_any
        raise AttributeError(name)

    def reply(self, status, body: bytes, headers=()):
        self.send_response(status)
        for k, v in headers:
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def handle_any(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        url = urlparse(self.path)
        if url.path == "/drop":
            self.connection.shutdown(socket.SHUT_RDWR)
            self.close_connection = True
            return
        if url.path == "/slow":
            with LOCK:
                CONCURRENT["now"] += 1
                CONCURRENT["max"] = max(CONCURRENT["max"], CONCURRENT["now"])
            time.sleep(int(parse_qs(url.query).get("ms", ["1000"])[0]) / 1000)
            with LOCK:
                CONCURRENT["now"] -= 1
            return self.reply(200, b"slow")
        if url.path == "/concurrency":
            return self.reply(200, json.dumps(CONCURRENT).encode(), [("Content-Type", "application/json")])
        if url.path.startswith("/status/"):
            code = int(url.path.split("/")[2])
            return self.reply(code, f"status {code}".encode(), [("X-Status", str(code))])
        if url.path == "/record":
            RECORDS.append({"path": self.path, "headers": dict(self.headers.items()),
                            "body": body.decode("utf-8", "replace")})
            return self.reply(200, b"ok")
        if url.path == "/records":
            return self.reply(200, json.dumps(RECORDS).encode(), [("Content-Type", "application/json")])
        echo = {"method": self.command, "path": self.path, "headers": dict(self.headers.items()),
                "body": body.decode("utf-8", "replace")}
        self.reply(200, json.dumps(echo).encode(), [("Content-Type", "application/json"), ("X-Echo", "yes")])


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--cert")
    p.add_argument("--key")
    p.add_argument("--watch-pid", type=int, default=0)
    args = p.parse_args()
    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    scheme = "http"
    if args.cert:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(args.cert, args.key)
        server.socket = ctx.wrap_socket(server.socket, server_side=True)
        scheme = "https"
    if args.watch_pid:
        def watch():
            while True:
                try:
                    os.kill(args.watch_pid, 0)
                except OSError:
                    os._exit(0)
                time.sleep(1)
        threading.Thread(target=watch, daemon=True).start()
    print(f"{scheme}://127.0.0.1:{server.server_port}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
