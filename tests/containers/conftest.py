"""Container tests: each image built from its Space folder and run as a Space runs it."""

from __future__ import annotations

import pytest

from tests import docker
from tests.services import SERVICES

# What each image may weigh in all (MB, as `docker images` counts: 10^6 bytes).
SIZE_BUDGET_MB = {"python-backend": 500, "nodejs-backend": 400}
_REPORT: dict[str, list[str]] = {}


def report(section: str, line: str) -> None:
    """Add a line to the summary printed at the end of the run."""
    _REPORT.setdefault(section, []).append(line)


@pytest.fixture(params=sorted(SERVICES))
def image(request, images) -> docker.Image:
    return images[request.param]


@pytest.fixture
def run_container(images):
    """run_container(image, env=..., extra=..., as_space=...) -> a Container, removed afterwards."""
    from tests.services import free_port

    started: list[docker.Container] = []

    def _run(image: docker.Image, env: dict[str, str] | None = None, extra: tuple[str, ...] = (), as_space=True):
        container = docker.Container(image, free_port(), env or {}, extra, as_space)
        started.append(container)
        return container

    yield _run
    for container in started:
        container.remove()


def pytest_terminal_summary(terminalreporter):
    for section, lines in _REPORT.items():
        terminalreporter.write_sep("-", section)
        for line in lines:
            terminalreporter.write_line(line)
