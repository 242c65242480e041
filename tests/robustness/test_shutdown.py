"""SIGTERM under load: every request the service accepted gets an answer."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter

from tests.conftest import wait_until
from tests.robustness.conftest import connect, read_response

CLIENTS = 32


def _keep_alive_client(port: int, outcomes: Counter, lock: threading.Lock, deadline: float) -> None:
    """Request /health over one connection after another until the listener is gone."""
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode()
    sock = None
    while time.monotonic() < deadline:
        if sock is None:
            try:
                sock = connect(port)
            except ConnectionRefusedError:
                outcome = "refused"  # the listener is closed: this client never got in
                with lock:
                    outcomes[outcome] += 1
                return
            reused = False
        try:
            sock.sendall(request)
            response, _ = read_response(sock)
            outcome = response.status
            closing = response.will_close
        except http.client.RemoteDisconnected:  # closed without a word (before ConnectionResetError: a subclass)
            outcome, closing = "no answer on a reused connection" if reused else "no answer on a new connection", True
        except ConnectionResetError:
            outcome, closing = "reset on a reused connection" if reused else "reset on a new connection", True
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            outcome, closing = f"{type(exc).__name__}", True
        with lock:
            outcomes[outcome] += 1
            if outcome == 200 and sock is not None and not reused and not closing:
                outcomes["clients under way"] += 1
        if closing:
            sock.close()
            sock = None
        else:
            reused = True
    if sock is not None:
        sock.close()
    with lock:
        outcomes["still connected at the end"] += 1


def sigterm_under_load(launch, name, client, under_way) -> tuple[Counter, int]:
    """CLIENTS threads run `client` against the service; once `under_way(outcomes)`,
    SIGTERM. The outcomes once every client has stopped, and the exit status."""
    running = launch(name, {"SHUTDOWN_TIMEOUT": "5", "LOG_LEVEL": "warning"})
    running.wait_healthy()
    outcomes: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 15
    clients = [
        threading.Thread(target=client, args=(running.port, outcomes, lock, deadline), daemon=True)
        for _ in range(CLIENTS)
    ]
    for thread in clients:
        thread.start()
    assert wait_until(lambda: under_way(outcomes), 10), outcomes
    running.terminate()
    for thread in clients:
        thread.join(timeout=20)
    return outcomes, running.wait(timeout=10)


def test_sigterm_under_keep_alive_load_answers_every_accepted_request(launch, name):
    # Mid-way: every client has its keep-alive connection and has been answered.
    outcomes, code = sigterm_under_load(
        launch, name, _keep_alive_client, lambda o: o["clients under way"] >= CLIENTS and o[200] >= CLIENTS * 4
    )
    answered = {k: v for k, v in outcomes.items() if isinstance(k, int)}
    lost = {k: v for k, v in outcomes.items() if not isinstance(k, int) and k not in ("refused", "clients under way")}
    assert lost == {}, f"requests lost at shutdown: {lost} (answered: {answered})"
    assert outcomes["refused"] == CLIENTS  # and every client ended at a closed listener
    assert code == 0


def _connecting_client(port: int, outcomes: Counter, lock: threading.Lock, deadline: float) -> None:
    """A new connection for every request (`Connection: close`), until the listener is gone:
    at any moment some of these clients are in the middle of connecting."""
    request = f"GET /health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n".encode()
    while time.monotonic() < deadline:
        try:
            sock = connect(port)
        except ConnectionRefusedError:
            outcome = "refused"
        else:
            with sock:
                try:
                    sock.sendall(request)
                    outcome = read_response(sock)[0].status
                except http.client.RemoteDisconnected:  # before ConnectionResetError: a subclass
                    outcome = "no answer"
                except ConnectionResetError:
                    outcome = "reset"
                except (TimeoutError, OSError, http.client.HTTPException) as exc:
                    outcome = type(exc).__name__
        with lock:
            outcomes[outcome] += 1
        if outcome == "refused":
            return


def test_sigterm_while_clients_connect_answers_every_accepted_connection(launch, name):
    """Whatever the service accepted before its listener closed gets an answer (a 503
    with Connection: close is one); a client that comes later is refused, never reset."""
    outcomes, code = sigterm_under_load(launch, name, _connecting_client, lambda o: o[200] >= CLIENTS * 8)
    lost = {k: v for k, v in outcomes.items() if not isinstance(k, int) and k != "refused"}
    assert lost == {}, f"connections lost at shutdown: {lost} (all outcomes: {dict(outcomes)})"
    assert outcomes["refused"] == CLIENTS
    assert code == 0
