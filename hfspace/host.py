"""This machine: its docker client, its free ports, and whether a local server answers.

One home for what `hfspace up`, the tests, the Hub emulator and the bench all need.
"""

from __future__ import annotations

import http.client
import os
import shutil
import socket
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping
from pathlib import Path

from hfspace.errors import HfspaceError


def docker_client(environ: Mapping[str, str] | None = None) -> str:
    """The docker client to run: $DOCKER, else Debian's /usr/bin/docker (its 20.10 client builds
    with BuildKit by itself; a newer one on PATH may need the buildx plugin), else `docker`."""
    environ = os.environ if environ is None else environ
    return environ.get("DOCKER") or ("/usr/bin/docker" if Path("/usr/bin/docker").exists() else "docker")


def require_docker(environ: Mapping[str, str] | None = None, timeout: float = 20) -> str:
    """The docker client, once an engine answers through it; one error line otherwise."""
    import subprocess

    environ = os.environ if environ is None else environ
    client = docker_client(environ)
    if not shutil.which(client, path=environ.get("PATH")):
        raise HfspaceError(f"--docker: no docker client ({client})", hint="install Docker, or set DOCKER to its client")
    try:
        result = subprocess.run(  # noqa: S603 (the user's docker client)
            [client, "version", "--format", "{{.Server.Version}}"], capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired:
        result = None
    if result is None or result.returncode != 0:
        raise HfspaceError("--docker: no Docker engine answers", hint="start the Docker engine, then try again")
    return client


def can_listen(port: int) -> bool:
    """Whether a server could listen on `port` on every interface now (one in TIME_WAIT counts as free)."""
    with socket.socket() as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("0.0.0.0", port))
        except OSError:
            return False
        return True


def free_port() -> int:
    """A port the kernel has free on 127.0.0.1 now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def status(url: str, timeout: float = 2.0) -> int | None:
    """The status a GET of `url` gets (no proxy: one in the environment must not see, or break, a
    local probe); None when nothing answers."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(url, timeout=timeout) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code
    except (OSError, ValueError, http.client.HTTPException):  # refused, reset, or not HTTP yet
        return None


def wait_http(
    url: str,
    timeout: float,
    *,
    alive: Callable[[], bool] = lambda: True,
    expect: Callable[[int], bool] = lambda code: code == 200,
    interval: float = 0.05,
) -> float | None:
    """Poll `url` until its status satisfies `expect` (200 by default); the seconds that took, or
    None when `alive()` turns false (the server exited) or the time runs out first."""
    start = time.monotonic()
    while time.monotonic() - start < timeout and alive():
        code = status(url, timeout=min(2.0, max(timeout, 0.1)))
        if code is not None and expect(code):
            return time.monotonic() - start
        time.sleep(interval)
    return None
