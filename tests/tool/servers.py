"""Small local HTTP servers for `hfspace check`, each broken in one way.

`Space` is a well-behaved Space that is not one of ours (GET / answers plain
JSON); every subclass breaks exactly one thing. `serve(handler)` runs one on a
free port of 127.0.0.1 in a thread (https when given a TLS context) and yields
its URL. They talk HTTP/1.0 (one request per connection), which is all the
tool needs and keeps shutdown instant.
"""

from __future__ import annotations

import json
import ssl
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class Space(BaseHTTPRequestHandler):
    """A foreign Space that passes every check."""

    server_version = "fake-space"
    sys_version = ""
    extra_headers: dict[str, str] = {"Access-Control-Allow-Origin": "*"}
    health_type = "application/json"
    seen: list[dict[str, str]]  # the headers of every request, set per server by serve()

    def log_message(self, format, *args) -> None:  # quiet
        pass

    def send(self, status: int, body: bytes = b"", content_type: str = "application/json", **headers: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in {**self.extra_headers, **headers}.items():
            self.send_header(name, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def route(self) -> None:
        if self.path == "/":
            self.send(200, json.dumps({"hello": "space"}).encode())
        elif self.path == "/health":
            self.send(200, b'{"status": "ok"}', self.health_type)
        else:
            self.send(404, b"not found", "text/plain")

    def do_GET(self) -> None:
        self.seen.append(dict(self.headers))
        self.route()

    def do_HEAD(self) -> None:
        self.seen.append(dict(self.headers))
        self.route()

    def do_OPTIONS(self) -> None:
        self.seen.append(dict(self.headers))
        preflight = {"Access-Control-Allow-Methods": "GET, POST", "Access-Control-Allow-Headers": "Content-Type"}
        self.send(204, content_type="text/plain", **preflight)


class HtmlHealth(Space):
    """A catch-all route: /health answers a web page."""

    health_type = "text/html"


class RefusesHead(Space):
    """HEAD / answers 405, as a server whose route for / accepts GET only."""

    def do_HEAD(self) -> None:
        if self.path == "/":
            self.send(405, b"method not allowed", "text/plain", Allow="GET")
        else:
            super().do_HEAD()


class FrameDeny(Space):
    extra_headers = {**Space.extra_headers, "X-Frame-Options": "DENY"}


class FrameAncestorsNone(Space):
    extra_headers = {**Space.extra_headers, "Content-Security-Policy": "default-src 'self'; frame-ancestors 'none'"}


class WildcardCredentials(Space):
    extra_headers = {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}


class Impostor(Space):
    """Claims to be python-backend but answers neither the contract's Status nor its health type."""

    health_type = "text/plain"

    def route(self) -> None:
        if self.path == "/":
            self.send(200, json.dumps({"service": "python-backend", "status": "ok"}).encode())
        else:
            super().route()


class Waking(Space):
    """503 (as the proxy answers while a Space wakes up) for the first `cold` requests to /."""

    cold = 2

    def route(self) -> None:
        if self.path == "/":
            with self.server.lock:
                self.server.count += 1
                cold = self.server.count <= self.cold
            if cold:
                self.send(503, b"waking up", "text/plain")
                return
        super().route()


def redirect_to(target: str) -> type[Space]:
    """A Space whose every GET / redirects (301) to `target`."""

    class Redirect(Space):
        def route(self) -> None:
            if self.path == "/":
                self.send(301, content_type="text/plain", Location=target)
            else:
                super().route()

    return Redirect


@contextmanager
def serve(handler: type[Space], tls: ssl.SSLContext | None = None) -> Iterator[tuple[str, list[dict[str, str]]]]:
    """(URL, the headers of every request it got), while it runs in a thread."""
    seen: list[dict[str, str]] = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), type(handler.__name__, (handler,), {"seen": seen}))
    server.lock, server.count = threading.Lock(), 0
    server.daemon_threads = True
    server.handle_error = lambda request, address: None  # a refused TLS handshake is expected, not news
    if tls:  # the handshake runs in each connection's thread, on its first read
        server.socket = tls.wrap_socket(server.socket, server_side=True, do_handshake_on_connect=False)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"{'https' if tls else 'http'}://127.0.0.1:{server.server_address[1]}", seen
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def self_signed(folder: Path) -> tuple[Path, ssl.SSLContext]:
    """A self-signed certificate for 127.0.0.1 made with the openssl CLI: (its PEM, a server context)."""
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=127.0.0.1",
         "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True, capture_output=True, timeout=30,
    )  # fmt: skip
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return cert, context


class SinglePageApp(Space):
    """Every path answers the app's one page (Streamlit, a single-page app's fallback route)."""

    def route(self) -> None:
        self.send(200, b"<!doctype html><title>app</title>", "text/html")
