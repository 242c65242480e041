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


def test_sigterm_under_keep_alive_load_answers_every_accepted_request(launch, name):
    running = launch(name, {"SHUTDOWN_TIMEOUT": "5", "LOG_LEVEL": "warning"})
    running.wait_healthy()
    outcomes: Counter = Counter()
    lock = threading.Lock()
    deadline = time.monotonic() + 15
    clients = [
        threading.Thread(target=_keep_alive_client, args=(running.port, outcomes, lock, deadline), daemon=True)
        for _ in range(CLIENTS)
    ]
    for client in clients:
        client.start()
    # Mid-way: every client has its keep-alive connection and has been answered.
    assert wait_until(lambda: outcomes["clients under way"] >= CLIENTS and outcomes[200] >= CLIENTS * 4, 10), outcomes
    running.terminate()
    for client in clients:
        client.join(timeout=20)
    code = running.wait(timeout=10)
    answered = {k: v for k, v in outcomes.items() if isinstance(k, int)}
    lost = {k: v for k, v in outcomes.items() if not isinstance(k, int) and k not in ("refused", "clients under way")}
    assert lost == {}, f"requests lost at shutdown: {lost} (answered: {answered})"
    assert outcomes["refused"] == CLIENTS  # and every client ended at a closed listener
    assert code == 0
