"""Shared helpers for the repository's black-box suites: start real service processes."""

from __future__ import annotations

import contextlib
import json
import signal
import socket
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from scripts.services import SERVICES, Service, free_port, wait_healthy


def port_is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


@dataclass
class RunningService:
    service: Service
    port: int
    process: subprocess.Popen
    log_dir: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stdout(self) -> str:
        return (self.log_dir / "stdout").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.log_dir / "stderr").read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.stdout().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def wait_healthy(self, timeout: float = 30) -> float:
        """Poll /health until 200; returns the seconds it took."""
        took = wait_healthy(f"{self.url}/health", self.process, timeout)
        if took is None:
            state = f"exited with {self.process.returncode}" if self.process.poll() is not None else "not healthy"
            raise AssertionError(f"{self.name} {state} after {timeout}s: {self.stderr()[-2000:]}")
        return took

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def start_service(name: str, log_dir: Path, env: dict[str, str] | None = None, port: int | None = None):
    service = SERVICES[name]
    port = port or free_port()
    log_dir.mkdir(parents=True, exist_ok=True)
    settings = {"PORT": str(port), **(env or {})}
    with (log_dir / "stdout").open("wb") as out, (log_dir / "stderr").open("wb") as err:
        process = subprocess.Popen(
            service.command, cwd=service.folder, env=service.environ(settings), stdout=out, stderr=err
        )
    return RunningService(service, port, process, log_dir, settings)


@pytest.fixture(scope="session")
def launch(tmp_path_factory) -> Iterator:
    """launch(name, env) -> a started (not yet healthy) service; all are stopped at the end."""
    started: list[RunningService] = []

    def _launch(name: str, env: dict[str, str] | None = None, port: int | None = None) -> RunningService:
        running = start_service(name, tmp_path_factory.mktemp(name), env, port)
        started.append(running)
        return running

    yield _launch
    for running in started:
        running.stop(timeout=10)
