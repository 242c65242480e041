"""The repository's backends as the test suites start them.

Each backend is a Space folder with a Dockerfile; how it starts is what
`hfspace up` reads from that Dockerfile (hfspace.run's plan: the CMD, run from
the folder, with the folder's environment on PATH). Only the environment is the
test's own: the process environment plus the test's variables, without the
SPACE_* values `hfspace up` would add, since some tests need them unset.
"""

from __future__ import annotations

import os
import random
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import IO

from hfspace import run
from hfspace.host import can_listen, free_port, wait_http

ROOT = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class Service:
    name: str

    @property
    def folder(self) -> Path:
        return ROOT / self.name

    def start(
        self, env: dict[str, str] | None = None, stdout: IO | None = None, stderr: IO | None = None, **popen
    ) -> subprocess.Popen:
        """Start the service as its container does, as a local process. `env` is laid over the
        process environment; its PORT (default: a free port) is the port the service gets."""
        env = {**os.environ, **(env or {})}
        given = env.get("PORT", "")
        # A PORT that is not a port is the test's point (the service must refuse it): plan on a free one.
        port = int(given) if given.isdigit() and 1 <= int(given) <= 65535 else free_port()
        (plan,) = run.plan([self.folder], run.Options(port=port), environ=env)
        env.setdefault("PORT", str(port))
        env["PATH"] = plan.env["PATH"]
        return subprocess.Popen(plan.command, cwd=self.folder, env=env, stdout=stdout, stderr=stderr, **popen)


# Every folder that is a Docker Space is a backend of the contract.
SERVICES = {
    folder.name: Service(folder.name)
    for folder in sorted(ROOT.iterdir())
    if (folder / "Dockerfile").is_file() and (folder / "README.md").is_file()
}


def free_ports(count: int) -> int:
    """A base port whose next `count` ports (itself included) are all free to listen on.

    Below the ephemeral range: a port from `bind(0)` is one the kernel also hands to
    outgoing connections, and on a busy machine one of those can take it (or its
    neighbour) before the Space binds it.
    """
    low, _ = map(int, Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    for _ in range(100):
        base = random.randrange(max(1024, low - 12000), low - count)  # noqa: S311 (a port, not a secret)
        if all(can_listen(base + i) for i in range(count)):
            return base
    raise AssertionError("no run of free ports found")


def wait_healthy(url: str, process, timeout: float = 30, interval: float = 0.02) -> float | None:
    """Poll `url` until it answers 200; the seconds that took, or None if the
    process exited or the time ran out first. `process` has a Popen's poll()."""
    return wait_http(url, timeout, alive=lambda: process.poll() is None, interval=interval)
