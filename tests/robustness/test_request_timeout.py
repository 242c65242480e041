"""REQUEST_TIMEOUT: a request whose headers or body have not all arrived in time
gets 408 problem+json and its connection closes, so a client trickling a byte
now and then cannot hold the service's memory for ever; an idle keep-alive
connection is not such a request; /health keeps answering while 200 trickle."""

from __future__ import annotations

import contextlib
import select
import selectors
import socket
import threading
import time
from dataclasses import dataclass

import pytest

from tests.robustness.conftest import (
    assert_follows_the_contract,
    connect,
    parse_response,
    read_response,
    read_until_closed,
)

DEADLINE = 2.0  # REQUEST_TIMEOUT of the service under test, seconds
LATE = 1.5  # how late the 408 may come (nodejs-backend checks its deadlines every 0.5 s at this one)
DRIP = 0.2  # seconds between two bytes of a trickling client
PROBE_LIMIT = 1.0


@pytest.fixture(scope="session")
def deadline_service(launch, name):
    running = launch(name, {"REQUEST_TIMEOUT": f"{DEADLINE:g}", "LOG_LEVEL": "warning"})
    running.wait_healthy()
    return running


@dataclass
class Trickler:
    """A client that sends `request` DRIP by DRIP after its first `sent` bytes, never
    the last byte (so never in time), until the service answers."""

    request: bytes
    sent: int
    sock: socket.socket | None = None
    started: float = 0.0
    answer: bytes | None = None
    took: float | None = None

    def open(self, port: int) -> Trickler:
        self.sock = connect(port, timeout=DEADLINE + LATE + 5)
        self.started = time.monotonic()
        self.sock.sendall(self.request[: self.sent])
        return self

    def drip(self) -> None:
        if self.sent < len(self.request) - 1:
            with contextlib.suppress(OSError):  # answered and closed meanwhile: trickle() collects it
                self.sock.send(self.request[self.sent : self.sent + 1])
                self.sent += 1

    def collect(self) -> None:
        self.took = time.monotonic() - self.started
        self.answer = read_until_closed(self.sock)
        self.sock.close()


def slow_headers(port: int) -> Trickler:
    return Trickler(f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nX-Slow: {'s' * 200}\r\n\r\n".encode(), 1)


def slow_body(port: int) -> Trickler:
    body = b'{"slow": "' + b"b" * 200 + b'"}'
    head = (
        f"POST /echo HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode()
    return Trickler(head + body, len(head) + 1)  # the whole head and a byte of the body at once


def silent(port: int) -> Trickler:
    return Trickler(b"", 0)  # connects, and never a byte


def trickle(clients: list[Trickler], stop: threading.Event) -> None:
    """Drip every client until each is answered, for as long as an answer may take at
    most (or until `stop`); collect each answer as it comes."""
    give_up = time.monotonic() + DEADLINE + LATE + 1
    with selectors.DefaultSelector() as waiting:  # epoll: no FD_SETSIZE limit, unlike select()
        for client in clients:
            waiting.register(client.sock, selectors.EVENT_READ, client)
        next_drip = time.monotonic()
        while waiting.get_map() and not stop.is_set() and time.monotonic() < give_up:
            for key, _ in waiting.select(max(0.0, next_drip - time.monotonic())):
                waiting.unregister(key.fileobj)
                key.data.collect()
            if time.monotonic() >= next_drip:
                for key in waiting.get_map().values():
                    key.data.drip()
                next_drip += DRIP
        for key in list(waiting.get_map().values()):  # never answered
            key.fileobj.close()


def assert_timed_out(client: Trickler) -> None:
    assert client.answer, f"no answer within {DEADLINE + LATE} s" if client.took is None else "closed without one"
    assert client.answer.startswith(b"HTTP/1.1 408 "), client.answer[:200]
    response, body = parse_response(client.answer)
    assert_follows_the_contract(response, body)
    assert response.getheader("Connection") == "close"
    assert f"within {DEADLINE:g} seconds" in body.decode()
    # From the connection's start (the service's clock starts no earlier), and not long after.
    assert DEADLINE <= client.took < DEADLINE + LATE, client.took


@pytest.mark.also_in_containers
@pytest.mark.parametrize("client_of", [slow_headers, slow_body, silent], ids=["headers", "body", "silence"])
def test_a_request_not_complete_in_time_gets_408_and_the_connection_closes(deadline_service, client_of):
    client = client_of(deadline_service.port).open(deadline_service.port)
    trickle([client], threading.Event())
    assert_timed_out(client)


@pytest.mark.also_in_containers
def test_an_idle_keep_alive_connection_is_not_a_late_request(deadline_service):
    """The clock of a next request starts with its first byte, not when the last answer went."""
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{deadline_service.port}\r\n\r\n".encode()
    with connect(deadline_service.port, timeout=DEADLINE * 3) as sock:
        sock.sendall(request)
        assert read_response(sock)[0].status == 200
        readable, _, _ = select.select([sock], [], [], DEADLINE + LATE)  # idle past the deadline
        assert not readable, sock.recv(200)  # neither a 408 nor a close
        sock.sendall(request)
        assert read_response(sock)[0].status == 200


TRICKLERS = 200


def test_health_answers_while_200_clients_trickle_and_each_gets_its_408(deadline_service):
    port = deadline_service.port
    clients = [slow_headers(port).open(port) for _ in range(TRICKLERS // 2)]
    clients += [slow_body(port).open(port) for _ in range(TRICKLERS // 2)]
    stop = threading.Event()
    trickling = threading.Thread(target=trickle, args=(clients, stop), daemon=True)
    trickling.start()
    latencies = []
    try:
        while trickling.is_alive() and time.monotonic() - clients[-1].started < DEADLINE + LATE:
            started = time.monotonic()
            with connect(port, timeout=PROBE_LIMIT * 3) as sock:
                sock.sendall(b"GET /health HTTP/1.1\r\nHost: probe\r\nConnection: close\r\n\r\n")
                status = read_response(sock)[0].status
            latencies.append((round(time.monotonic() - started, 3), status))
            time.sleep(0.1)
        trickling.join(DEADLINE + LATE + 5)
    finally:
        stop.set()
    slow = [(seconds, status) for seconds, status in latencies if seconds > PROBE_LIMIT or status != 200]
    assert len(latencies) >= 5, latencies
    assert slow == [], f"{len(slow)} of {len(latencies)} probes late or failed: {slow}"
    for client in clients:
        assert_timed_out(client)
