"""compose.yaml: both images side by side, as the platform runs them, health checks wired."""

import os
import subprocess
import uuid

import pytest
import requests
import yaml

from tests import docker
from tests.conftest import IN_CI, wait_until
from tests.services import free_port

COMPOSE_FILE = docker.ROOT / "compose.yaml"


@pytest.fixture(scope="module")
def compose(images):
    command = docker.compose_command()
    if not command:
        message = "compose tests need `docker compose` or docker-compose (.ci/docker-engine installs one)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    ports = {"python-backend": free_port(), "nodejs-backend": free_port()}
    project = f"hfs-test-{uuid.uuid4().hex[:8]}"
    tags = {name: f"{image.tag}-{project}" for name, image in images.items()}
    env = {
        **os.environ,
        # As compose.yaml's header says to build: through the docker CLI with BuildKit
        # (Debian's client first on PATH), on the bases the images were built on.
        "PATH": f"/usr/bin:{os.environ.get('PATH', '')}",
        "DOCKER_BUILDKIT": "1",
        "COMPOSE_DOCKER_CLI_BUILD": "1",
        "PYTHON_IMAGE": images["python-backend"].base,
        "NODE_IMAGE": images["nodejs-backend"].base,
        "COMPOSE_PROJECT_NAME": project,
        "PYTHON_BACKEND_IMAGE": tags["python-backend"],
        "NODEJS_BACKEND_IMAGE": tags["nodejs-backend"],
        "PYTHON_BACKEND_PORT": str(ports["python-backend"]),
        "NODEJS_BACKEND_PORT": str(ports["nodejs-backend"]),
    }

    def run(*args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [*command, "--file", str(COMPOSE_FILE), *args],
            env=env, capture_output=True, text=True, timeout=300, check=check,
        )  # fmt: skip

    run.ports = ports
    yield run
    run("down", "--volumes", "--timeout", "10", check=False)
    docker.docker("image", "rm", "--force", *tags.values(), check=False)


def test_compose_file_is_valid_and_runs_each_space_as_the_platform_does(compose):
    config = yaml.safe_load(compose("config").stdout)
    assert set(config["services"]) == {"python-backend", "nodejs-backend"}
    for name, service in config["services"].items():
        assert service["user"] == "1000"
        assert service["read_only"] is True
        assert any(mount.startswith("/tmp") for mount in service["tmpfs"])
        assert "PORT" not in service.get("environment", {})  # the image's default, as in a Space
        (port,) = service["ports"]
        published = port if isinstance(port, str) else f"{port['host_ip']}:{port['published']}:{port['target']}"
        assert published.startswith("127.0.0.1:") and published.split(":")[2].startswith("7860"), (name, port)
        assert service["build"]["context"].endswith(name)


def test_compose_builds_and_runs_both_side_by_side_and_both_become_healthy(compose):
    compose("build")  # layers cached from the images fixture's builds: seconds
    compose("up", "--detach", "--no-build")
    ids = {name: compose("ps", "--quiet", name).stdout.strip() for name in compose.ports}

    def health(name: str) -> str:
        return docker.docker("inspect", "--format", "{{.State.Health.Status}}", ids[name]).stdout.strip()

    for name in compose.ports:
        assert wait_until(lambda n=name: health(n) == "healthy", timeout=45, interval=0.5), health(name)
    for name, port in compose.ports.items():
        body = requests.get(f"http://127.0.0.1:{port}/", timeout=5).json()
        assert body["service"] == name
        assert body["space"]["id"] == f"local/{name}"
