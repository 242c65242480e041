"""The container part: build both images on the local base images, their sizes,
and the time from `docker run` to the first 200 and to Docker's `healthy`."""

from __future__ import annotations

import os
import shutil
import subprocess
import time

from bench.servers import ROOT, SERVICE_FOLDERS, free_port, wait_200
from hfspace.host import docker_client

DOCKER = docker_client()  # as the tests and `hfspace up --docker` choose it
BASES_FILE = ROOT / "build" / "base-images.env"
BUILD_ARG = {"python-backend": ("PYTHON_IMAGE", "PYTHON_BASE"), "nodejs-backend": ("NODE_IMAGE", "NODE_BASE")}


def _docker(*args: str, timeout: float = 60, check: bool = True) -> subprocess.CompletedProcess:
    env = {**os.environ, "DOCKER_BUILDKIT": "1"}
    done = subprocess.run(  # noqa: S603 (a fixed docker client)
        [DOCKER, *args], capture_output=True, text=True, timeout=timeout, env=env, check=False
    )
    if check and done.returncode != 0:
        raise RuntimeError(f"docker {args[0]} failed: {(done.stderr or done.stdout).strip()[-600:]}")
    return done


def unavailable() -> str | None:
    """Why the container part cannot run, or None when it can."""
    if not shutil.which(DOCKER):
        return f"no Docker client ({DOCKER})"
    try:
        if _docker("info", "--format", "{{.ServerVersion}}", timeout=15, check=False).returncode != 0:
            return "no Docker engine is running"
    except subprocess.TimeoutExpired:
        return "the Docker engine does not answer"
    if not BASES_FILE.exists():
        return f"no {BASES_FILE.relative_to(ROOT)} (make the base images first: .ci/base-images)"
    for base in bases().values():
        if _docker("image", "inspect", base, check=False).returncode != 0:
            return f"base image {base} is absent (.ci/base-images assembles it)"
    return None


def bases() -> dict[str, str]:
    """PYTHON_BASE and NODE_BASE from build/base-images.env, per service."""
    values = {}
    for line in BASES_FILE.read_text().splitlines():
        if "=" in line and not line.lstrip().startswith("#"):
            key, value = line.split("=", 1)
            values[key.strip()] = value.strip().strip("'\"")
    return {name: values[var] for name, (_, var) in BUILD_ARG.items() if var in values}


def tag(name: str) -> str:
    return f"bench/{name}:local"


def build(name: str) -> None:
    arg, _ = BUILD_ARG[name]
    _docker(
        "build",
        "--quiet",
        "--build-arg",
        f"{arg}={bases()[name]}",
        "-t",
        tag(name),
        str(SERVICE_FOLDERS[name]),
        timeout=900,
    )


def image_mb(image: str) -> float:
    return int(_docker("image", "inspect", "--format", "{{.Size}}", image).stdout.strip()) / 1e6


def start_container(name: str) -> tuple[str, int, float]:
    """Run the image as a Space runs it; (container id, host port, monotonic start)."""
    port = free_port()
    begun = time.monotonic()
    cid = _docker(
        "run",
        "--detach",
        "--user",
        "1000",
        "--read-only",
        "--tmpfs",
        "/tmp",  # noqa: S108 (inside the container)
        "-p",
        f"127.0.0.1:{port}:7860",
        tag(name),
    ).stdout.strip()
    return cid, port, begun


def wait_healthy(cid: str, timeout: float = 60) -> float | None:
    """Monotonic time at which Docker reported `healthy`, or None."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        status = _docker("inspect", "--format", "{{.State.Health.Status}}", cid, check=False).stdout.strip()
        if status == "healthy":
            return time.monotonic()
        if status == "unhealthy":
            return None
        time.sleep(0.1)
    return None


def _running_check(cid: str, every: float = 0.5):
    """A cheap `is it still running` for a polling loop: asks Docker at most every `every` s."""
    state = {"at": 0.0, "running": True}

    def running() -> bool:
        if time.monotonic() - state["at"] >= every:
            state["at"] = time.monotonic()
            out = _docker("inspect", "--format", "{{.State.Running}}", cid, check=False).stdout.strip()
            state["running"] = out == "true"
        return state["running"]

    return running


def _last_log(cid: str) -> str:
    done = _docker("logs", "--tail", "3", cid, check=False)
    return " | ".join((done.stdout + done.stderr).strip().splitlines()[-3:]) or "no output"


def container_starts(names: list[str], starts: int) -> tuple[dict[str, dict[str, list[float]]], dict[str, str]]:
    """`starts` runs of each image, round-robin: seconds to the first 200 on /health
    (polled on the published port) and to Docker's healthy status (the image's own
    HEALTHCHECK, whose first probe comes one --interval after the start). An image
    that fails is left out of later rounds; (results, why each failed image failed)."""
    results = {name: {"first_200_s": [], "healthy_s": []} for name in names}
    failed: dict[str, str] = {}
    for _ in range(starts):
        running = []
        try:
            for name in [n for n in names if n not in failed]:  # one start at a time: no overlap
                cid, port, begun = start_container(name)
                running.append((name, cid, begun))
                if wait_200(f"http://127.0.0.1:{port}/health", timeout=60, alive=_running_check(cid)) is None:
                    failed[name] = f"never answered 200 on /health: {_last_log(cid)}"
                    continue
                results[name]["first_200_s"].append(time.monotonic() - begun)
            for name, cid, begun in running:  # all idle now: waiting for healthy together is fair
                if name in failed:
                    continue
                healthy_at = wait_healthy(cid)
                if healthy_at is None:
                    failed[name] = f"never became healthy: {_last_log(cid)}"
                    continue
                results[name]["healthy_s"].append(healthy_at - begun)
        finally:
            for _, cid, _ in running:
                _docker("rm", "--force", cid, check=False, timeout=30)
    return {n: r for n, r in results.items() if n not in failed}, failed
