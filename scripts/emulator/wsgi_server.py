"""A small threaded WSGI server speaking HTTP/1.1 with keep-alive, so clients that reuse connections
(as reclaw does) are served as real AWS endpoints serve them."""

import io
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote_to_bytes


class WSGIHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body go out as separate writes: without TCP_NODELAY, Nagle's algorithm and the
    # client's delayed ACK stall every response by ~40 ms.
    disable_nagle_algorithm = True

    def log_message(self, format, *args):
        pass

    def __getattr__(self, name):
        if name.startswith("do_"):
            return self.run_wsgi
        raise AttributeError(name)

    def run_wsgi(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        path, _, query = self.path.partition("?")
        environ = {
            "REQUEST_METHOD": self.command,
            "SCRIPT_NAME": "",
            "PATH_INFO": unquote_to_bytes(path).decode("latin-1"),
            "QUERY_STRING": query,
            "REQUEST_URI": self.path,
            "RAW_URI": self.path,
            "SERVER_NAME": self.server.server_address[0],
            "SERVER_PORT": str(self.server.server_address[1]),
            "SERVER_PROTOCOL": self.request_version,
            "REMOTE_ADDR": self.client_address[0],
            "REMOTE_PORT": str(self.client_address[1]),
            "CONTENT_TYPE": self.headers.get("Content-Type", ""),
            "CONTENT_LENGTH": str(length),
            "wsgi.input": io.BytesIO(body),
            "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0),
            "wsgi.url_scheme": "http",
            "wsgi.multithread": True,
            "wsgi.multiprocess": False,
            "wsgi.run_once": False,
            "werkzeug.socket": self.connection,
        }
        for key, value in self.headers.items():
            name = "HTTP_" + key.upper().replace("-", "_")
            if name in ("HTTP_CONTENT_TYPE", "HTTP_CONTENT_LENGTH"):
                continue
            environ[name] = environ[name] + "," + value if name in environ else value

        started = {}

        def start_response(status, headers, exc_info=None):
            started["status"] = status
            started["headers"] = headers
            return lambda data: None

        try:
            result = self.server.app(environ, start_response)
            try:
                payload = b"".join(result)
            finally:
                if hasattr(result, "close"):
                    result.close()
        except ConnectionError:
            self.close_connection = True
            return
        except Exception as e:  # a bug in moto or the middleware: answer 500, keep serving
            started = {"status": "500 Internal Server Error", "headers": [("Content-Type", "text/plain")]}
            payload = f"emulator error: {e!r}".encode()
        code, _, reason = started["status"].partition(" ")
        self.send_response(int(code), reason)
        for k, v in started["headers"]:
            if k.lower() not in ("content-length", "connection", "transfer-encoding"):
                self.send_header(k, v)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)


class Server(ThreadingHTTPServer):
    # socketserver's default backlog of 5 drops the SYNs of a client opening a dozen connections
    # at once; the kernel retries them a second later.
    request_queue_size = 256
    daemon_threads = True


def make_server(host: str, port: int, app) -> ThreadingHTTPServer:
    server = Server((host, port), WSGIHandler)
    server.app = app
    return server
