"""Docker for the test suites: find the engine, build the images, run containers
the way a Space runs them. Talks to containers only through ports published on
127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import uuid
from dataclasses import dataclass
from pathlib import Path

from hfspace.host import docker_client

ROOT = Path(__file__).resolve().parent.parent
# As `hfspace up --docker` chooses it (BuildKit builds need DOCKER_BUILDKIT=1 with Debian's client).
DOCKER = docker_client()
BUILD_ENV = {**os.environ, "DOCKER_BUILDKIT": "1"}
# The variables the platform sets in every Space container (SPACE_ID and SPACE_HOST
# are left to each test: they decide what the status reports).
PLATFORM_ENV = {
    "SPACE_AUTHOR_NAME": "me",
    "SPACE_REPO_NAME": "app",
    "SPACE_TITLE": "App",
    "SPACE_CREATOR_USER_ID": "0123456789abcdef01234567",
    "CPU_CORES": "2",
    "MEMORY": "16Gi",
    "ACCELERATOR": "none",
}
# Each image's base: the build argument of its Dockerfile that names it.
BASE_ARGS = {"python-backend": "PYTHON_IMAGE", "nodejs-backend": "NODE_IMAGE"}
# What a stand-in for an official base is called (.ci/base-images builds them).
STANDIN_PREFIX = "local/"
LABEL = "hf-spaces-backends.test=1"


def docker(*args: str, check: bool = True, timeout: float = 120, **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([DOCKER, *args], check=check, timeout=timeout, capture_output=True, text=True, **kwargs)


def engine_problem() -> str | None:
    """None when an engine answers; otherwise why not, in a few words."""
    if not shutil.which(DOCKER):
        return "no docker client"
    try:
        result = docker("info", "--format", "{{.ServerVersion}}", check=False, timeout=20)
    except subprocess.TimeoutExpired:
        return "docker info timed out"
    return None if result.returncode == 0 else "no Docker engine answers `docker info`"


def compose_command() -> list[str] | None:
    """Compose v2 (`docker compose`) where a client has it, else v1 (`docker-compose`), else None."""
    for client in dict.fromkeys([DOCKER, "docker"]):
        if (
            shutil.which(client)
            and subprocess.run([client, "compose", "version"], capture_output=True, timeout=20, check=False).returncode
            == 0
        ):
            return [client, "compose"]
    v1 = shutil.which("docker-compose", path=f"/usr/bin:{os.environ.get('PATH', '')}")
    return [v1] if v1 else None


def official_base(name: str) -> str:
    """The official base image the Space's Dockerfile names (its base argument's default)."""
    dockerfile = (ROOT / name / "Dockerfile").read_text()
    prefix = f"ARG {BASE_ARGS[name]}="
    return next(line[len(prefix) :].strip() for line in dockerfile.splitlines() if line.startswith(prefix))


def _present(image: str) -> bool:
    return docker("image", "inspect", image, check=False).returncode == 0


def base_image(name: str) -> str:
    """The base to build `name` on, found without provisioning anything: the official
    image when it is present or can be pulled, else a stand-in .ci/base-images built.
    RuntimeError with one line saying what to run when there is neither."""
    official = official_base(name)
    if _present(official) or docker("pull", "--quiet", official, check=False, timeout=300).returncode == 0:
        return official
    standin = STANDIN_PREFIX + official
    if _present(standin):
        return standin
    raise RuntimeError(
        f"no {official} image: it is not present, cannot be pulled, and no stand-in {standin} exists "
        "(assemble one with: sudo .ci/base-images)"
    )


@dataclass(frozen=True)
class Image:
    name: str
    tag: str
    base: str

    def size(self) -> int:
        return int(docker("image", "inspect", "--format", "{{.Size}}", self.tag).stdout)

    def base_size(self) -> int:
        return int(docker("image", "inspect", "--format", "{{.Size}}", self.base).stdout)

    def inspect(self) -> dict:
        return json.loads(docker("image", "inspect", self.tag).stdout)[0]


def build(name: str, base: str, tag: str | None = None, *extra: str) -> Image:
    arg = BASE_ARGS[name]
    tag = tag or f"hf-spaces/{name}:test"
    result = subprocess.run(
        [DOCKER, "build", "--build-arg", f"{arg}={base}", "--tag", tag, *extra, str(ROOT / name)],
        env=BUILD_ENV,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"docker build {name} failed:\n{result.stderr[-4000:]}")
    return Image(name, tag, base)


class Container:
    """A container run as the platform runs a Space: uid 1000, read-only root
    with a tmpfs /tmp, the app port published on 127.0.0.1 only."""

    def __init__(
        self, image: Image, port: int, env: dict[str, str], extra: tuple[str, ...] = (), as_space: bool = True
    ):
        self.image = image
        self.port = port
        self.name = f"hfs-test-{image.name}-{uuid.uuid4().hex[:8]}"
        args = ["run", "--detach", "--name", self.name, "--label", LABEL]
        if as_space:  # otherwise a plain `docker run`: the image's own user, a writable root
            args += ["--user", "1000", "--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev,size=64m"]
        args += ["--publish", f"127.0.0.1:{port}:7860", *extra]
        for key, value in {**PLATFORM_ENV, **env}.items():
            args += ["--env", f"{key}={value}"]
        docker(*args, image.tag)
        self._stopper: subprocess.Popen | None = None

    def state(self) -> dict:
        return json.loads(docker("inspect", "--format", "{{json .State}}", self.name).stdout)

    def health(self) -> str | None:
        return (self.state().get("Health") or {}).get("Status")

    def exit_code(self) -> int | None:
        state = self.state()
        return None if state["Running"] or state["Status"] == "created" else state["ExitCode"]

    def wait(self, timeout: float) -> int:
        return int(docker("wait", self.name, timeout=timeout).stdout.strip())

    def logs(self) -> tuple[str, str]:
        result = docker("logs", self.name, check=False)
        return result.stdout, result.stderr

    def stop_in_background(self, grace: int = 10) -> None:
        """`docker stop` (SIGTERM, SIGKILL after `grace` s) without waiting for it."""
        self._stopper = subprocess.Popen(
            [DOCKER, "stop", "--time", str(grace), self.name], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )

    def kill(self, signal_name: str = "KILL") -> None:
        docker("kill", "--signal", signal_name, self.name, check=False)

    def exec(self, *command: str) -> subprocess.CompletedProcess:
        return docker("exec", self.name, *command, check=False)

    def server_uid(self) -> str:
        """The real uid of the container's main process (not of `docker exec`)."""
        status = self.exec("cat", "/proc/1/status").stdout
        return next(line.split()[1] for line in status.splitlines() if line.startswith("Uid:"))

    def gateway(self) -> str:
        """The address the app sees a published-port client come from."""
        return docker("inspect", "--format", "{{.NetworkSettings.Gateway}}", self.name).stdout.strip()

    def address(self) -> str:
        """The container's own address on its network (where a published port's connections arrive)."""
        return docker("inspect", "--format", "{{.NetworkSettings.IPAddress}}", self.name).stdout.strip()

    def remove(self) -> None:
        if self._stopper:
            self._stopper.wait(timeout=30)
        docker("rm", "--force", "--volumes", self.name, check=False)
