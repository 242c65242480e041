"""Shared fixtures for the black-box suites: each service as a real process or
as a container built from its Dockerfile and run the way a Space runs it."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import docker
from tests.services import SERVICES, Service, free_port, wait_healthy

# tests/apps holds other people's apps, some with their own tests: inputs of tests/init, never collected.
collect_ignore = ["apps"]

IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
# The Node the Node Space ships, when `make setup` had to fetch it (the machine's is older):
# first on PATH for every process the tests start, as the Makefile does for its recipes.
_NODE_TOOL = Path(__file__).resolve().parent.parent / ".tools" / "node" / "bin"
if _NODE_TOOL.is_dir() and not os.environ.get("PATH", "").startswith(str(_NODE_TOOL)):
    os.environ["PATH"] = f"{_NODE_TOOL}{os.pathsep}{os.environ.get('PATH', '')}"


def port_is_listening(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def wait_until(predicate, timeout: float = 10, interval: float = 0.05):
    deadline = time.monotonic() + timeout
    while not (result := predicate()) and time.monotonic() < deadline:
        time.sleep(interval)
    return result


class Running:
    """A started service, whatever runs it. Tests talk to it over http://127.0.0.1:port."""

    service: Service
    port: int
    client_address: str  # the address the app sees this suite's requests come from
    server_address: str  # `host:port` the app sees this suite's connections arrive on

    @property
    def name(self) -> str:
        return self.service.name

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def json_lines(self) -> list[dict]:
        lines = []
        for line in self.stdout().splitlines():
            with contextlib.suppress(ValueError):
                lines.append(json.loads(line))
        return lines

    def wait_healthy(self, timeout: float = 30) -> float:
        """Poll /health until 200; the seconds it took."""
        took = wait_healthy(f"{self.url}/health", self, timeout)
        if took is None:
            state = f"exited with {self.exit_code()}" if self.exit_code() is not None else "not healthy"
            raise AssertionError(f"{self.name} {state} after {timeout}s: {self.stderr()[-2000:]}")
        return took

    def poll(self) -> int | None:  # lets wait_healthy() treat this like a Popen
        return self.exit_code()

    def stop(self, timeout: float = 15) -> int:
        """Graceful stop (SIGTERM, as `docker stop`), then the exit status."""
        self.terminate()
        return self.wait(timeout)

    # Implemented by each runtime:
    def stdout(self) -> str: ...
    def stderr(self) -> str: ...
    def exit_code(self) -> int | None: ...
    def wait(self, timeout: float) -> int: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...
    def cleanup(self) -> None: ...


class RunningProcess(Running):
    """The service's container command run from its folder, as a local process."""

    def __init__(self, service: Service, port: int, env: dict[str, str], log_dir: Path):
        self.service, self.port, self.log_dir = service, port, log_dir
        self.client_address = "127.0.0.1"
        self.server_address = f"127.0.0.1:{port}"
        log_dir.mkdir(parents=True, exist_ok=True)
        with (log_dir / "stdout").open("wb") as out, (log_dir / "stderr").open("wb") as err:
            self.process = service.start({"PORT": str(port), **env}, stdout=out, stderr=err)

    def stdout(self) -> str:
        return (self.log_dir / "stdout").read_text(errors="replace")

    def stderr(self) -> str:
        return (self.log_dir / "stderr").read_text(errors="replace")

    def exit_code(self) -> int | None:
        return self.process.poll()

    def wait(self, timeout: float) -> int:
        return self.process.wait(timeout)

    def terminate(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self.process.kill()

    def cleanup(self) -> None:
        if self.process.poll() is None:
            self.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class RunningContainer(Running):
    """The service's image run as a Space runs it: uid 1000, read-only root, a
    tmpfs /tmp, PORT unset, the platform's variables set, published on 127.0.0.1."""

    def __init__(self, service: Service, image: docker.Image, port: int, env: dict[str, str]):
        self.service, self.port = service, port
        self.container = docker.Container(image, port, env)
        self.client_address = self.container.gateway()
        self.server_address = f"{self.container.address()}:7860"  # docker-proxy connects to the container's

    def stdout(self) -> str:
        return self.container.logs()[0]

    def stderr(self) -> str:
        return self.container.logs()[1]

    def exit_code(self) -> int | None:
        return self.container.exit_code()

    def wait(self, timeout: float) -> int:
        return self.container.wait(timeout)

    def terminate(self) -> None:
        self.container.stop_in_background()

    def kill(self) -> None:
        self.container.kill()

    def cleanup(self) -> None:
        self.container.remove()


# --- the container runtime: an engine, base images, images --------------------


def _needs_docker(item: pytest.Item) -> bool:
    params = getattr(item, "callspec", None)
    if item.get_closest_marker("container") is not None:  # marked by its module, e.g. tests/init/test_apps.py
        return True
    return "containers" in item.path.parts or (params is not None and params.params.get("runtime") == "container")


@pytest.hookimpl(tryfirst=True)  # before `-m` selects on the marker it adds
def pytest_collection_modifyitems(config, items):
    """Mark every container test; without an engine, skip them with one line saying why (in CI: fail them)."""
    for item in items:
        if _needs_docker(item):
            item.add_marker(pytest.mark.container)
    if IN_CI or not any(_needs_docker(item) for item in items) or "not container" in (config.option.markexpr or ""):
        return
    problem = docker.engine_problem()
    if problem:
        config.stash[_SKIPPED] = f"container tests skipped: {problem} (.ci/docker-engine starts one)"
        marker = pytest.mark.skip(reason="no Docker engine")
        for item in items:
            if _needs_docker(item):
                item.add_marker(marker)


_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, config):
    if _SKIPPED in config.stash:
        terminalreporter.write_line(config.stash[_SKIPPED], yellow=True, bold=True)


@pytest.fixture(scope="session")
def docker_engine() -> None:
    """Fail when no Docker engine answers (outside CI, collection skipped these already)."""
    problem = docker.engine_problem()
    if problem:
        pytest.fail(f"container tests need a Docker engine: {problem} (start one with .ci/docker-engine)")


@pytest.fixture(scope="session")
def images(docker_engine) -> dict[str, docker.Image]:
    """Each service's image, built from its folder on the official base or a local stand-in."""
    try:
        bases = {name: docker.base_image(name) for name in sorted(SERVICES)}
    except RuntimeError as exc:
        pytest.fail(str(exc), pytrace=False)
    return {name: docker.build(name, base) for name, base in bases.items()}


# --- launching ------------------------------------------------------------------


@pytest.fixture(scope="session", params=["process", "container"])
def runtime(request) -> str:
    return request.param


@pytest.fixture(scope="session")
def launch(runtime, request, tmp_path_factory) -> Iterator:
    """launch(name, env, port) -> a started (not yet healthy) service in this
    runtime; every one is stopped at the end of the session."""
    images = request.getfixturevalue("images") if runtime == "container" else None
    started: list[Running] = []

    def _launch(name: str, env: dict[str, str] | None = None, port: int | None = None) -> Running:
        service, port, env = SERVICES[name], port or free_port(), env or {}
        if images is None:
            running = RunningProcess(service, port, env, tmp_path_factory.mktemp(name))
        else:
            running = RunningContainer(service, images[name], port, env)
        started.append(running)
        return running

    yield _launch
    for running in started:
        running.cleanup()
