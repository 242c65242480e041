"""`make run` (scripts/run.py): both services up on their ports, both stopped cleanly on Ctrl-C."""

import os
import signal
import subprocess
import sys

import requests

from scripts.services import ROOT, SERVICES, free_port, wait_healthy
from tests.conftest import port_is_listening, wait_until


def test_make_run_serves_every_service_and_ctrl_c_stops_them_all(tmp_path):
    ports = {service.port_variable: str(free_port()) for service in SERVICES.values()}
    log = tmp_path / "run.log"
    # Its own process group, as in a terminal: Ctrl-C signals the whole group.
    with log.open("w") as sink:
        process = subprocess.Popen(
            [sys.executable, "scripts/run.py"],
            cwd=ROOT,
            env={**os.environ, **ports},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for service in SERVICES.values():
            url = f"http://127.0.0.1:{ports[service.port_variable]}"
            assert wait_healthy(f"{url}/health", process) is not None, log.read_text()
            assert requests.get(f"{url}/", timeout=5).json()["service"] == service.name
        # What the person at the terminal waits for before pressing Ctrl-C.
        assert wait_until(lambda: "Ctrl-C stops them all." in log.read_text(), timeout=10), log.read_text()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=20) == 0
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    for service in SERVICES.values():
        port = ports[service.port_variable]
        assert f"{service.name}: http://localhost:{port}" in output
        assert not port_is_listening(int(port))


def test_make_run_refuses_a_bad_port_in_one_line():
    result = subprocess.run(
        [sys.executable, "scripts/run.py"],
        cwd=ROOT,
        env={**os.environ, "NODEJS_BACKEND_PORT": "abc"},
        capture_output=True,
        text=True,
        timeout=20,
        check=False,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == 'make run: NODEJS_BACKEND_PORT="abc": expected an integer from 1 to 65535'
