"""The robustness suite: each service as a real process, attacked the way a
client on the internet could, over loopback only and within bounds (counts,
sizes and seconds are all capped; each test stops by itself)."""

from __future__ import annotations

import http.client
import json
import socket
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
    the `launch` fixture brings are deselected (not skipped: nothing to report)."""
    here = Path(__file__).parent

    def in_a_container(item) -> bool:
        params = getattr(item, "callspec", None)
        return here in item.path.parents and params is not None and params.params.get("runtime") == "container"

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
