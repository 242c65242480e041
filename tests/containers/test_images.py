"""Each image: its health check, user, writable places, size, build-time inputs."""

import json
import re
import subprocess
import time
import uuid

import pytest
import requests

from tests import docker
from tests.conftest import wait_until
from tests.containers.conftest import SIZE_BUDGET_MB, report

# The interpreter each image runs, and how to read its version from the official base's tag
# (python:3.13-slim-trixie -> 3.13, node:26-trixie-slim -> 26).
INTERPRETER = {
    "python-backend": (("python3", "-c", "import platform; print(platform.python_version())"), r"python:(\d+\.\d+)-"),
    "nodejs-backend": (("node", "-p", "process.versions.node"), r"node:(\d+)-"),
}


def test_each_image_runs_the_interpreter_version_its_official_base_names(images):
    """What CI tests is what a Space builds: a stand-in base must carry the same
    interpreter version (and Debian release) as the official image the Dockerfile names."""
    for name, image in sorted(images.items()):
        official = docker.official_base(name)
        command, pattern = INTERPRETER[name]
        wanted = re.match(pattern, official).group(1)
        got = docker.docker("run", "--rm", "--entrypoint", command[0], image.tag, *command[1:]).stdout.strip()
        release = docker.docker("run", "--rm", "--entrypoint", "cat", image.tag, "/etc/os-release").stdout
        kind = "official image" if image.base == official else f"local stand-in for {official} (.ci/base-images)"
        report("container images", f"{name}: built on {image.base} ({kind}); runs {command[0]} {got}")
        assert got == wanted or got.startswith(f"{wanted}."), f"{name}: {image.base} runs {got}; {official}: {wanted}"
        codename = re.search(r"^VERSION_CODENAME=(\w+)", release, re.MULTILINE).group(1)
        assert codename in official, f"{name}: {image.base} is Debian {codename}, {official} is not"


def test_docker_health_becomes_healthy_and_the_app_answers(images, run_container):
    env = {"SPACE_ID": "me/app", "SPACE_HOST": "me-app.hf.space"}
    started = time.monotonic()
    containers = {name: run_container(image, env) for name, image in sorted(images.items())}  # side by side
    for name, container in containers.items():
        answered = wait_until(lambda c=container: _answers(c), timeout=30, interval=0.02)
        assert answered, container.logs()
        took = time.monotonic() - started
        report("container images", f"{name}: docker run -> first 200 on /health in {took:.2f} s")
    for name, container in containers.items():
        healthy = wait_until(lambda c=container: c.health() == "healthy", timeout=40, interval=0.2)
        assert healthy, f"{name}: {container.state().get('Health')}"
        took = time.monotonic() - started
        report("container images", f"{name}: docker run -> healthy in {took:.1f} s (first check after 10 s)")
        url = f"http://127.0.0.1:{container.port}"
        assert requests.get(f"{url}/health", timeout=5).json()["status"] == "pass"
        assert requests.get(f"{url}/", timeout=5).json()["space"]["id"] == "me/app"
        assert requests.head(f"{url}/", timeout=5).status_code == 200


def _answers(container) -> bool:
    try:
        return requests.get(f"http://127.0.0.1:{container.port}/health", timeout=1).status_code == 200
    except requests.RequestException:
        return False


def test_health_check_reports_an_app_bound_where_nobody_can_reach_it(image, run_container):
    # The classic trap, a bind to one loopback address: the app runs, but not where
    # the proxy (and the HEALTHCHECK) looks. The image's own check, polled faster.
    fast = ("--health-interval", "1s", "--health-timeout", "2s", "--health-retries", "2", "--health-start-period", "0s")
    container = run_container(image, {"HOST": "127.0.0.2"}, extra=fast)
    assert wait_until(lambda: container.health() == "unhealthy", timeout=30), container.state().get("Health")
    assert container.state()["Running"]


def test_the_app_runs_as_uid_1000_and_writes_only_to_tmp(image, run_container):
    container = run_container(image)
    assert wait_until(lambda: container.state()["Running"])
    assert container.server_uid() == "1000"
    # Dev Mode wants /app owned by uid 1000; the read-only root keeps it unwritable at run time.
    assert container.exec("stat", "-c", "%u", "/app").stdout.strip() == "1000"
    assert container.exec("sh", "-c", "echo x > /tmp/probe && cat /tmp/probe").stdout.strip() == "x"
    for place in ("/app/probe", "/probe", "/etc/probe", "$HOME/probe", "/var/tmp/probe"):
        result = container.exec("sh", "-c", f"echo x > {place}")
        assert result.returncode != 0, f"{place} is writable"
        assert "Read-only file system" in result.stderr


def test_on_a_writable_root_the_image_itself_keeps_the_app_to_its_own_places(image, run_container):
    """A plain `docker run`: no --user, no read-only root. The image's USER alone
    makes the server uid 1000, and only /tmp, its $HOME and the app's own /app
    (uid 1000, as the platform's Dev Mode wants it) are writable to it: not the
    runtime, the dependencies or the system."""
    container = run_container(image, as_space=False)
    assert wait_until(lambda: container.state()["Running"])
    assert container.server_uid() == "1000"
    runtime = {"python-backend": "/opt/venv", "nodejs-backend": "/usr/local/lib/node_modules"}[image.name]
    for place in (f"{runtime}/probe", "/usr/local/bin/probe", "/etc/probe", "/probe", "/root/probe"):
        result = container.exec("sh", "-c", f"echo x > {place}")
        assert result.returncode != 0, f"{place} is writable"
        assert "Permission denied" in result.stderr
    for place in ("/tmp/probe", "$HOME/probe", "/app/probe"):
        assert container.exec("sh", "-c", f"echo x > {place}").returncode == 0, place


def test_image_size_is_within_budget(image):
    total_mb, base_mb = image.size() / 1e6, image.base_size() / 1e6
    budget = SIZE_BUDGET_MB[image.name]
    report(
        "container images",
        f"{image.name}: {total_mb:.1f} MB in all, {total_mb - base_mb:.1f} MB above the base "
        f"({base_mb:.1f} MB); budget {budget} MB",
    )
    assert total_mb < budget


def test_no_secret_or_local_file_reaches_the_image(image, tmp_path):
    """Build from a copy of the folder holding a .env, tests and caches, with a
    build secret, the way the platform passes a Space secret to a build."""
    source = docker.ROOT / image.name
    context = tmp_path / image.name
    subprocess.run(["cp", "-r", str(source), str(context)], check=True)
    marker = f"s3cret-{uuid.uuid4().hex}"
    (context / ".env").write_text(f"LEAKED_TOKEN={marker}\n")
    # A changed lockfile, so the install step runs rather than coming from the
    # layer cache (a secret is not part of the cache key).
    if image.name == "python-backend":
        with (context / "requirements.txt").open("a") as lock:
            lock.write(f"# build {marker[-8:]}\n")
    else:
        package = json.loads((context / "package.json").read_text())
        (context / "package.json").write_text(json.dumps({**package, "build": marker[-8:]}, indent=2))
    secret_id, secret_value = {
        "python-backend": ("PIP_INDEX_URL", f"https://__token__:{marker}@pypi.org/simple"),
        "nodejs-backend": ("NPM_TOKEN", f"npm_{marker}"),
    }[image.name]
    secret_file = tmp_path / "secret"
    secret_file.write_text(secret_value)
    result = subprocess.run(
        [docker.DOCKER, "build", "--progress=plain",
         "--build-arg", f"{docker.BASE_ARGS[image.name]}={image.base}",
         "--secret", f"id={secret_id},src={secret_file}", "--tag", f"{image.tag}-secrets", str(context)],
        env=docker.BUILD_ENV, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    tag = f"{image.tag}-secrets"
    try:
        # The secret reached the install step (pip names the index it uses, password masked) ...
        assert f"{secret_id} secret" in result.stderr
        if image.name == "python-backend":
            assert "Looking in indexes: https://__token__:****@pypi.org/simple" in result.stderr
        assert marker not in result.stderr + result.stdout
        # Neither the secret nor the .env is anywhere in the image: layers, history, config.
        saved = subprocess.run([docker.DOCKER, "save", tag], capture_output=True, check=True, timeout=300).stdout
        assert marker.encode() not in saved
        assert marker not in docker.docker("history", "--no-trunc", tag).stdout
        listing = docker.docker("run", "--rm", "--entrypoint", "ls", tag, "-A", "/app").stdout.split()
        assert ".env" not in listing
        assert not {"tests", "test", "node_modules/.cache", "Dockerfile", "README.md"} & set(listing)
    finally:
        docker.docker("image", "rm", "--force", tag, check=False)


@pytest.mark.parametrize("variable", ["PORT=abc", "LOG_LEVEL=loud"])
def test_a_bad_variable_makes_the_container_exit_with_the_message(image, run_container, variable):
    container = run_container(image, dict([variable.split("=")]))
    assert container.wait(timeout=30) == 78
    name, value = variable.split("=")
    assert f'invalid configuration: {name}="{value}"' in container.logs()[1]
