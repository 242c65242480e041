"""A bounded soak: 5,000 mixed requests over keep-alive connections, errors
included; the service's memory (PSS of the process and its workers) grows by
less than SOAK_GROWTH_MB, every answer follows the contract."""

from __future__ import annotations

import json
import threading
from pathlib import Path

from tests.robustness.conftest import assert_follows_the_contract, connect, read_response

REQUESTS = 5000
CLIENTS = 4
WARM_UP = 500
SOAK_GROWTH_MB = 32  # measured: about 2 MB for python-backend, 6-10 MB for nodejs-backend (V8 grows its heap lazily)


def _pids(pid: int) -> list[int]:
    """The process and its descendants (gunicorn's workers)."""
    pids, queue = [], [pid]
    while queue:
        current = queue.pop()
        pids.append(current)
        for task in Path(f"/proc/{current}/task").iterdir():
            queue.extend(int(child) for child in (task / "children").read_text().split())
    return pids


def pss_mb(pid: int) -> float:
    """Proportional set size of the tree, in MB (shared pages counted once)."""
    total_kb = 0
    for each in _pids(pid):
        for line in Path(f"/proc/{each}/smaps_rollup").read_text().splitlines():
            if line.startswith("Pss:"):
                total_kb += int(line.split()[1])
    return total_kb / 1024


def _requests(port: int):
    """A cycle of the contract's operations and its errors."""
    host = f"Host: 127.0.0.1:{port}\r\n"
    body = json.dumps({"items": list(range(50)), "text": "é" * 100}).encode()
    post = f"POST /echo HTTP/1.1\r\n{host}Content-Type: application/json\r\nContent-Length: {{}}\r\n\r\n"
    return [
        ("GET", f"GET / HTTP/1.1\r\n{host}\r\n".encode()),
        ("GET", f"GET /health HTTP/1.1\r\n{host}\r\n".encode()),
        ("POST", post.format(len(body)).encode() + body),
        ("POST", post.format(5).encode() + b"{nope"),
        ("GET", f"GET /missing/{'x' * 50} HTTP/1.1\r\n{host}\r\n".encode()),
        ("OPTIONS", f"OPTIONS /echo HTTP/1.1\r\n{host}Origin: https://a.example\r\n\r\n".encode()),
        ("GET", f"GET /openapi.json HTTP/1.1\r\n{host}\r\n".encode()),
    ]


def _run(port: int, count: int, failures: list) -> None:
    cycle = _requests(port)
    sock = connect(port)
    try:
        for n in range(count):
            method, raw = cycle[n % len(cycle)]
            sock.sendall(raw)
            response, body = read_response(sock, method)
            try:
                assert_follows_the_contract(response, body)
            except AssertionError as exc:
                failures.append(f"{raw[:40]!r}: {exc}")
            if response.will_close:
                sock.close()
                sock = connect(port)
    finally:
        sock.close()


def _load(port: int, total: int) -> list:
    failures: list = []
    threads = [threading.Thread(target=_run, args=(port, total // CLIENTS, failures)) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    return failures


def test_a_soak_keeps_memory_flat_and_every_answer_in_contract(service):
    assert _load(service.port, WARM_UP) == []
    before = pss_mb(service.process.pid)
    failures = _load(service.port, REQUESTS)
    after = pss_mb(service.process.pid)
    print(f"{service.name}: PSS {before:.1f} MB -> {after:.1f} MB after {REQUESTS} requests")
    assert failures == []
    assert after - before < SOAK_GROWTH_MB, (before, after)
