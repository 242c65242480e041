"""The processes themselves: configuration errors, logs, graceful shutdown, two at once."""

import json
import socket
import time

import pytest
import requests

from tests.conftest import port_is_listening, wait_until
from tests.contract.conftest import exchange
from tests.services import SERVICES, free_port

# When SHUTDOWN_TIMEOUT cuts requests still in flight: gunicorn's workers give up
# on them and it exits 0; the Node service exits 1 to say it cut them.
EXIT_AFTER_DEADLINE = {"python-backend": 0, "nodejs-backend": 1}


@pytest.mark.parametrize(
    ("variable", "value", "allowed"),
    [
        ("PORT", "abc", "an integer from 1 to 65535"),
        ("PORT", "70000", "an integer from 1 to 65535"),
        ("LOG_LEVEL", "loud", "one of debug, info, warning, error, critical"),
        ("REQUEST_TIMEOUT", "0.5", "a number of seconds from 1 to 3600"),
        (
            "SPACE_HOST",
            "me-app.hf.space/x",
            "a host name or IP address with an optional port, such as owner-name.hf.space",
        ),
        (
            "CORS_ORIGINS",
            "https://ok.example,not-an-origin",
            '"*" or a comma-separated list of origins such as https://example.com or https://*.hf.space',
        ),
        (
            "CORS_ORIGINS",
            "http://[:::]:8080",
            '"*" or a comma-separated list of origins such as https://example.com or https://*.hf.space',
        ),
    ],
)
def test_a_bad_variable_stops_the_process_before_it_binds(launch, name, variable, value, allowed):
    port = free_port()
    env = {variable: value}
    running = launch(name, env, port=port)
    code = running.wait(timeout=20)
    assert code == 78
    lines = [line for line in running.stderr().splitlines() if line.strip()]
    assert lines == [f'invalid configuration: {variable}="{value}": expected {allowed}']
    assert running.stdout().strip() == ""  # not a line: it never got as far as starting, let alone binding
    assert not port_is_listening(port)


def logged(service, request_id: str) -> list[dict]:
    """The log lines of the request with this id, once there is one (within 5 s)."""
    return wait_until(lambda: [line for line in service.json_lines() if line.get("request_id") == request_id], 5) or []


def test_one_json_access_line_per_request(service):
    response = requests.get(f"{service.url}/health?probe=1", headers={"X-Request-ID": "log-check-1"}, timeout=10)
    assert response.status_code == 200
    matches = logged(service, "log-check-1")
    assert len(matches) == 1
    line = matches[0]
    assert (line["msg"], line["method"], line["path"], line["status"]) == ("request", "GET", "/health", 200)
    assert isinstance(line["duration_ms"], int | float) and line["duration_ms"] >= 0
    assert line["service"] == service.name
    assert line["client"] == service.client_address


def test_the_client_address_comes_from_one_trusted_forwarded_hop(service):
    headers = {"X-Request-ID": "xff-check", "X-Forwarded-For": "6.6.6.6, 203.0.113.9"}
    requests.get(f"{service.url}/", headers=headers, timeout=10)
    lines = logged(service, "xff-check")
    assert lines and lines[0]["client"] == "203.0.113.9"


def slow_upload(port: int, body: bytes) -> socket.socket:
    """Open a POST /echo and send its headers and half of its body, once the server
    has the request in hand: `Expect: 100-continue` makes it say so first."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=15)
    head = (
        f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\nConnection: close\r\n\r\n"
    ).encode()
    sock.sendall(head)
    interim = b""
    while not interim.endswith(b"\r\n\r\n"):
        chunk = sock.recv(1)
        assert chunk, f"connection closed before 100 Continue: {interim!r}"
        interim += chunk
    assert interim.startswith(b"HTTP/1.1 100"), interim
    sock.sendall(body[: len(body) // 2])
    return sock


# The line each service logs once SIGTERM has reached it: shutdown is under way.
SHUTDOWN_LOGGED = {"python-backend": "Handling signal: term", "nodejs-backend": '"msg":"shutting down"'}


def read_response(sock: socket.socket) -> bytes:
    chunks = []
    while chunk := sock.recv(65536):
        chunks.append(chunk)
    return b"".join(chunks)


def test_sigterm_lets_an_in_flight_request_finish_then_exits_0(launch, name):
    running = launch(name, {"SHUTDOWN_TIMEOUT": "5", "WEB_CONCURRENCY": "1"})
    running.wait_healthy()
    body = json.dumps({"payload": "z" * 4000}).encode()
    sock = slow_upload(running.port, body)
    started = time.monotonic()
    running.terminate()  # SIGTERM; for a container, `docker stop`
    # Shutdown is under way while the body is still arriving.
    assert wait_until(lambda: SHUTDOWN_LOGGED[name] in running.stdout(), 5), running.stdout()[-2000:]
    assert running.exit_code() is None, "exited with a request in flight"
    sock.sendall(body[len(body) // 2 :])
    raw = read_response(sock)
    sock.close()
    assert raw.startswith(b"HTTP/1.1 200"), raw[:200]
    assert json.loads(raw.split(b"\r\n\r\n", 1)[1]) == {"received": {"payload": "z" * 4000}, "request_id": _rid(raw)}
    assert running.wait(timeout=10) == 0
    assert time.monotonic() - started < 5 + 1


def _rid(raw: bytes) -> str:
    for line in raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n"):
        key, _, value = line.partition(b":")
        if key.strip().lower() == b"x-request-id":
            return value.strip().decode()
    raise AssertionError("no X-Request-ID")


def test_the_shutdown_deadline_cuts_a_stuck_request(launch, name):
    running = launch(name, {"SHUTDOWN_TIMEOUT": "1", "WEB_CONCURRENCY": "1"})
    running.wait_healthy()
    sock = slow_upload(running.port, b"x" * 4000)  # the rest of the body never comes
    started = time.monotonic()
    running.terminate()
    code = running.wait(timeout=15)
    waited = time.monotonic() - started
    sock.close()
    assert code == EXIT_AFTER_DEADLINE[name]
    # Exits at the deadline (1 s), not at the default 8 s or Docker's 10 s kill.
    assert 1 <= waited < 4, waited


def test_a_connection_serves_request_after_request(service):
    # Keep-alive behind the Space proxy: one connection, several requests.
    with socket.create_connection(("127.0.0.1", service.port), timeout=10) as sock:
        for n in range(3):
            response, _ = exchange(sock, f"GET /health HTTP/1.1\r\nHost: x\r\nX-Request-ID: keep-{n}\r\n\r\n".encode())
            assert (response.status, response.getheader("X-Request-ID")) == (200, f"keep-{n}")
            assert response.getheader("Connection", "").lower() != "close"


def test_after_sigterm_health_fails_on_an_open_connection(launch):
    """gunicorn keeps idle connections a moment after SIGTERM: a probe on one hears 503.

    (nodejs-backend closes idle connections at once instead; its 503 is checked
    in its own unit tests, and its prompt stop just below.)
    """
    running = launch("python-backend", {"WEB_CONCURRENCY": "1", "SHUTDOWN_TIMEOUT": "5"})
    running.wait_healthy()
    with socket.create_connection(("127.0.0.1", running.port), timeout=10) as sock:
        request = b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n"
        before, _ = exchange(sock, request)
        running.terminate()

        def fails() -> tuple | None:  # 200 until the worker has the signal, then 503
            response, raw = exchange(sock, request)
            return (response, raw) if response.status == 503 else None

        after, raw = wait_until(fails, 5) or (before, b"{}")
        body = json.loads(raw)
    assert (before.status, after.status, body["status"]) == (200, 503, "fail")
    assert after.getheader("Content-Type") == "application/health+json"
    assert after.getheader("Connection") == "close"
    assert running.wait(timeout=10) == 0


def test_an_idle_service_stops_promptly_on_sigterm(launch, name):
    running = launch(name, {"SHUTDOWN_TIMEOUT": "5"})
    running.wait_healthy()
    # An idle keep-alive connection must not hold the shutdown up.
    session = requests.Session()
    assert session.get(f"{running.url}/health", timeout=10).status_code == 200
    started = time.monotonic()
    assert running.stop() == 0
    assert time.monotonic() - started < 5
    assert not port_is_listening(running.port)


@pytest.mark.parametrize("how", ["stopped", "killed"])
def test_services_run_side_by_side_and_outlive_each_other(launch, name, how):
    """`name` is stopped or killed while every other service keeps answering."""
    runnings = {n: launch(n, {"WEB_CONCURRENCY": "1"}) for n in sorted(SERVICES)}
    for running in runnings.values():
        running.wait_healthy()
    for n, running in runnings.items():
        assert requests.get(f"{running.url}/", timeout=10).json()["service"] == n
    victim = runnings.pop(name)
    victim.terminate() if how == "stopped" else victim.kill()
    victim.wait(timeout=10)
    # A killed gunicorn master leaves its workers to notice the orphaning (about a second).
    assert wait_until(lambda: not port_is_listening(victim.port), 10, interval=0.1)
    for survivor in runnings.values():
        assert requests.get(f"{survivor.url}/health", timeout=10).status_code == 200
        assert survivor.stop() == 0
