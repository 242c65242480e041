"""Slow clients (slowloris: headers a byte at a time; a body a byte at a time)
and idle ones must not starve the others: a normal probe is answered within a second."""

from __future__ import annotations

import contextlib
import resource
import socket
import threading
import time

import pytest

from tests.robustness.conftest import connect, read_response

SLOW_HEADERS = 60
SLOW_BODIES = 40
SECONDS = 4
PROBE_LIMIT = 1.0  # generous: the point is "answered at all", not a benchmark


def _open_slow_clients(port: int) -> list[tuple[socket.socket, bytes]]:
    """Connections that each have one request underway, and the bytes they have yet to send."""
    clients = []
    head = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: {'s' * 200}\r\n\r\n".encode()
    for _ in range(SLOW_HEADERS):
        sock = connect(port)
        sock.sendall(head[:1])
        clients.append((sock, head[1:]))
    body = b'{"slow": "' + b"b" * 200 + b'"}'
    upload = (
        f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    for _ in range(SLOW_BODIES):
        sock = connect(port)
        sock.sendall(upload + body[:1])
        clients.append((sock, body[1:]))
    return clients


def _drip(clients, stop: threading.Event) -> None:
    """One more byte on every connection, every 0.2 s, never completing a request in time."""
    offset = 0
    while not stop.wait(0.2):
        for sock, rest in clients:
            if offset < len(rest):
                with contextlib.suppress(OSError):
                    sock.send(rest[offset : offset + 1])
        offset += 1


def test_slow_clients_do_not_starve_a_normal_one(service):
    clients = _open_slow_clients(service.port)
    stop = threading.Event()
    dripper = threading.Thread(target=_drip, args=(clients, stop), daemon=True)
    dripper.start()
    latencies = []
    try:
        deadline = time.monotonic() + SECONDS
        while time.monotonic() < deadline:
            started = time.monotonic()
            try:
                with connect(service.port, timeout=PROBE_LIMIT * 3) as sock:
                    sock.sendall(b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                    response, _ = read_response(sock)
                    status = response.status
            except TimeoutError:
                status = None
            latencies.append((time.monotonic() - started, status))
            time.sleep(0.1)
    finally:
        stop.set()
        dripper.join(5)
        for sock, _ in clients:
            sock.close()
    slow = [(round(seconds, 3), status) for seconds, status in latencies if seconds > PROBE_LIMIT or status != 200]
    assert len(latencies) >= 5, latencies
    assert slow == [], f"{len(slow)} of {len(latencies)} probes late or failed: {slow}"


IDLE_CONNECTIONS = 2500  # more than gunicorn's default 1000 per worker, times its 2 workers


def test_thousands_of_idle_connections_do_not_lock_a_new_client_out(service):
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    needed = IDLE_CONNECTIONS + 100
    if soft < needed:
        if hard != resource.RLIM_INFINITY and hard < needed:
            pytest.skip(f"needs {needed} open files, the hard limit is {hard}")
        resource.setrlimit(resource.RLIMIT_NOFILE, (needed, hard))
    idle = []
    try:
        for _ in range(IDLE_CONNECTIONS):
            idle.append(connect(service.port))  # and never a byte
        for _ in range(3):
            started = time.monotonic()
            with connect(service.port, timeout=PROBE_LIMIT * 3) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                response, _ = read_response(sock)
            assert (response.status, time.monotonic() - started < PROBE_LIMIT) == (200, True)
    finally:
        for sock in idle:
            sock.close()
