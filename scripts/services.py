"""The services, how each is started (exactly as its Dockerfile's CMD, from its
folder), and how to tell when one is ready. Used by `make run`, `make bench`
and the test suites."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
# The repository's virtual environment, whose bin/ holds gunicorn for local runs.
VENV_BIN = Path(sys.prefix) / "bin"


@dataclass(frozen=True)
class Service:
    name: str
    folder: Path
    command: tuple[str, ...]
    default_local_port: int  # the port `make run` uses; in a Space every service listens on 7860
    contract_copy: str  # where, inside the folder, the service reads the contract from

    @property
    def port_variable(self) -> str:
        """PYTHON_BACKEND_PORT, NODEJS_BACKEND_PORT: as compose.yaml names them."""
        return f"{self.name.upper().replace('-', '_')}_PORT"

    @property
    def local_port(self) -> int:
        """The default, or the port variable's value; ValueError with one line if it is not a port."""
        raw = os.environ.get(self.port_variable) or str(self.default_local_port)
        if not (raw.isdigit() and 1 <= int(raw) <= 65535):
            raise ValueError(f'{self.port_variable}="{raw}": expected an integer from 1 to 65535')
        return int(raw)

    def environ(self, overrides: dict[str, str] | None = None) -> dict[str, str]:
        env = {**os.environ, "PATH": f"{VENV_BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
        return {**env, **(overrides or {})}

    def start(
        self, env: dict[str, str] | None = None, stdout: IO | None = None, stderr: IO | None = None, **popen
    ) -> subprocess.Popen:
        return subprocess.Popen(  # noqa: S603 (a fixed command of ours)
            self.command, cwd=self.folder, env=self.environ(env), stdout=stdout, stderr=stderr, **popen
        )


SERVICES = {
    "python-backend": Service(
        name="python-backend",
        folder=ROOT / "python-backend",
        command=("gunicorn", "--config", "gunicorn.conf.py"),
        default_local_port=7860,
        contract_copy="app/openapi.json",
    ),
    "nodejs-backend": Service(
        name="nodejs-backend",
        folder=ROOT / "nodejs-backend",
        command=("node", "src/server.js"),
        default_local_port=7861,
        contract_copy="src/openapi.json",
    ),
}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(url: str, process: subprocess.Popen, timeout: float = 30, interval: float = 0.02) -> float | None:
    """Poll `url` until it answers 200; the seconds that took, or None if the
    process exited or the time ran out first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout and process.poll() is None:
        try:
            with urllib.request.urlopen(url, timeout=1) as response:  # noqa: S310 (a local http URL)
                if response.status == 200:
                    return time.monotonic() - start
        except OSError:
            time.sleep(interval)
    return None
