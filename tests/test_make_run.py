"""`make run` (hfspace up): both backends and the frontend up on their ports, all stopped cleanly on Ctrl-C."""

import os
import signal
import subprocess

import requests

from tests.conftest import port_is_listening, wait_until
from tests.services import ROOT, free_ports, wait_healthy

BACKENDS = ("python-backend", "nodejs-backend")  # then the frontend, on the third port


def test_make_run_serves_both_backends_and_ctrl_c_stops_them_all(tmp_path):
    first = free_ports(3)  # python-backend, nodejs-backend, frontend
    ports = dict(zip(BACKENDS, (first, first + 1), strict=True))
    log = tmp_path / "run.log"
    # Its own process group, as in a terminal: Ctrl-C signals the whole group.
    with log.open("w") as sink:
        process = subprocess.Popen(
            ["make", "--no-print-directory", "run", f"RUN_PORT={first}"],
            cwd=ROOT,
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        for name, port in ports.items():
            url = f"http://127.0.0.1:{port}"
            assert wait_healthy(f"{url}/health", process, timeout=60) is not None, log.read_text()
            body = requests.get(f"{url}/", timeout=5).json()
            assert (body["service"], body["space"]["id"]) == (name, f"local/{name}")
        # What the person at the terminal waits for before pressing Ctrl-C.
        assert wait_until(lambda: "Ctrl-C stops them all." in log.read_text(), timeout=10), log.read_text()
        os.killpg(process.pid, signal.SIGINT)
        # make itself dies of the SIGINT once its recipe is done ("Interrupt"); hfspace up
        # exits 0, or make would report "Error" instead.
        assert process.wait(timeout=30) in (0, -signal.SIGINT), log.read_text()
        assert "Error" not in log.read_text()
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    output = log.read_text()
    assert f"http://localhost:{first + 2}" in output and "frontend" in output
    for name, port in ports.items():
        assert f"http://localhost:{port}" in output and name in output
        assert not port_is_listening(port)


def test_make_run_refuses_a_bad_port_in_one_line():
    result = subprocess.run(
        ["make", "--no-print-directory", "run", "RUN_PORT=abc"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    errors = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert errors == ['error: --port "abc": expected an integer from 1 to 65535'], result.stderr
