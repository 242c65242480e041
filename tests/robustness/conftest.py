"""The robustness suite: each service as a real process, attacked the way a
client on the internet could, over loopback only and within bounds (counts,
sizes and seconds are all capped; each test stops by itself)."""

from __future__ import annotations

import http.client
import io
import json
import select
import socket
import time
from pathlib import Path

import pytest
import yaml
from jsonschema import Draft202012Validator

from tests.services import SERVICES

CONTRACT = Path(__file__).resolve().parents[2] / "contract" / "openapi.yaml"
PROBLEM_SCHEMA = Draft202012Validator(yaml.safe_load(CONTRACT.read_text())["components"]["schemas"]["Problem"])
SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Resource-Policy": "cross-origin",
    "Content-Security-Policy": "default-src 'none'; frame-ancestors 'self' https://huggingface.co",
}
MAX_BODY_BYTES = 16384  # small, to reach it quickly


def pytest_collection_modifyitems(config, items):
    """Processes only: through a container's published port, docker-proxy would
    take the slow clients and the load, not the service. The container variants
    the `launch` fixture brings are deselected (not skipped: nothing to report),
    but for the tests marked `also_in_containers`: one client each, whose bytes
    docker-proxy passes on as they come."""
    here = Path(__file__).parent

    def in_a_container(item) -> bool:
        params = getattr(item, "callspec", None)
        return (
            here in item.path.parents
            and params is not None
            and params.params.get("runtime") == "container"
            and item.get_closest_marker("also_in_containers") is None
        )

    deselected = [item for item in items if in_a_container(item)]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not in_a_container(item)]


@pytest.fixture(scope="session", params=sorted(SERVICES))
def name(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def service(launch, name):
    """The service as a Space runs it (two gunicorn workers), with a small body limit."""
    running = launch(name, {"MAX_BODY_BYTES": str(MAX_BODY_BYTES), "LOG_LEVEL": "warning"})
    running.wait_healthy()
    return running


def connect(port: int, timeout: float = 5) -> socket.socket:
    return socket.create_connection(("127.0.0.1", port), timeout=timeout)


def read_response(sock: socket.socket, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    """The next response on an open connection, body included."""
    response = http.client.HTTPResponse(sock, method=method)
    response.begin()
    return response, response.read()


def parse_response(raw: bytes, method: str = "GET") -> tuple[http.client.HTTPResponse, bytes]:
    """A response read whole off the wire (bytes), parsed."""
    return read_response(_Bytes(raw), method)


class _Bytes:
    def __init__(self, raw: bytes):
        self._raw = raw

    def makefile(self, *args, **kwargs):
        return io.BytesIO(self._raw)


def read_until_closed(sock: socket.socket) -> bytes:
    """Everything the service sends until it closes the connection."""
    data = b""
    try:
        while chunk := sock.recv(65536):
            data += chunk
    except ConnectionResetError:  # closed with bytes of ours unread: what it sent came first
        pass
    return data


def stream_chunks_until_answered(
    sock: socket.socket, cap: int = 8 * 2**20
) -> tuple[http.client.HTTPResponse, bytes, bool]:
    """Send 4 KB chunks (a chunked body already begun) until an answer arrives, through
    a 16 KB send buffer, at most `cap` bytes: the answer, and whether the connection closed."""
    chunk = b"1000\r\n" + b"x" * 4096 + b"\r\n"
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 16384)
    sock.setblocking(False)
    sent, answered, deadline = 0, False, time.monotonic() + 10
    while not answered and sent < cap and time.monotonic() < deadline:
        readable, writable, _ = select.select([sock], [sock], [], 1)
        answered = bool(readable)
        if writable and not answered:
            try:
                sent += sock.send(chunk)
            except BlockingIOError:  # the send buffer is full: try again
                pass
            except (BrokenPipeError, ConnectionResetError):  # the service answered and closed meanwhile
                answered = True
    assert answered, f"no answer after {sent} bytes"
    sock.settimeout(5)
    response, body = read_response(sock)
    try:
        closed = sock.recv(1) == b""
    except ConnectionResetError:  # closed with the rest of the body unread
        closed = True
    return response, body, closed


def strict_json(raw: bytes):
    """RFC 8259 JSON only: NaN and Infinity (Python's extensions) are errors."""

    def refuse(constant: str):
        raise ValueError(f"{constant} is not JSON")

    return json.loads(raw, parse_constant=refuse)


def assert_follows_the_contract(response: http.client.HTTPResponse, body: bytes) -> None:
    """Every answer: a request id, the security headers, valid JSON; errors as problems."""
    assert response.getheader("X-Request-ID"), "no X-Request-ID"
    for header, value in SECURITY_HEADERS.items():
        assert response.getheader(header) == value, header
    if response.status >= 400:
        assert response.getheader("Content-Type") == "application/problem+json"
        problem = strict_json(body)
        PROBLEM_SCHEMA.validate(problem)
        assert problem["status"] == response.status
        assert problem["request_id"] == response.getheader("X-Request-ID")
    elif body:
        strict_json(body)
