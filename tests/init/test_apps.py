"""Every real app in tests/apps, from its own folder to a running Space with one `hfspace init`:
init, `hfspace validate` with 0 errors, `hfspace up --docker` (the platform's way: the image's
USER, app_port only, no PORT) until GET / answers 200, then `hfspace check` passes.

The images are built first, two at a time (the machine has two cores), on the same slim bases,
so they share those layers; `up --docker` then finds them in the build cache. The same goes for
the Spaces `hfspace new` makes from our own templates.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from hfspace.cli import app
from hfspace.host import docker_client
from tests.conftest import IN_CI
from tests.docker import engine_problem
from tests.services import free_ports
from tests.tool.test_up import BASE_IMAGES, _base_image_args, running_up

ROOT = Path(__file__).resolve().parents[2]
APPS = sorted(path.name for path in (ROOT / "tests" / "apps").iterdir() if (path / "app").is_dir())
DOCKER_APPS = [name for name in APPS if not name.startswith("static-")]
TEMPLATES = ("flask", "express")  # `hfspace new`'s Docker templates (static has no image)
BUILD_TIMEOUT = 900
PROXY_HEADERS = {"Host": "me-app.hf.space", "X-Forwarded-Proto": "https", "X-Forwarded-For": "203.0.113.7"}


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"SPACE_ID": None, "SPACE_HOST": None})


def _image(folder: Path) -> str:
    return f"hfspace/{folder.name}:local"  # the tag `hfspace up --docker` builds and runs


def _build(folder: Path) -> tuple[str, float, str]:
    start = time.monotonic()
    result = subprocess.run(
        [docker_client(), "build", *_base_image_args(), "--tag", _image(folder), str(folder)],
        env={**os.environ, "DOCKER_BUILDKIT": "1"},
        capture_output=True,
        text=True,
        timeout=BUILD_TIMEOUT,
        check=False,
    )
    took = time.monotonic() - start
    return folder.name, took, "" if result.returncode == 0 else result.stdout[-3000:] + result.stderr[-3000:]


@pytest.fixture(scope="module")
def spaces(tmp_path_factory) -> dict[str, Path]:
    """Each app copied out of tests/apps and made a Space by `hfspace init`, and each Docker
    template made by `hfspace new`; their images built two at a time."""
    problem = engine_problem() or (None if BASE_IMAGES.is_file() else "no build/base-images.env")
    if problem:
        message = f"hfspace init on real apps needs Docker and the base images: {problem} (.ci/run provisions them)"
        pytest.fail(message) if IN_CI else pytest.skip(message)
    root = tmp_path_factory.mktemp("apps")
    folders: dict[str, Path] = {}
    for name in APPS:
        folder = root / name
        shutil.copytree(ROOT / "tests" / "apps" / name / "app", folder)
        result = cli("init", str(folder))
        assert result.exit_code == 0, result.output
        folders[name] = folder
    for template in TEMPLATES:
        result = cli("new", f"new-{template}", "--template", template, "--dir", str(root / f"new-{template}"))
        assert result.exit_code == 0, result.output
        folders[f"new-{template}"] = root / f"new-{template}"
    docker_folders = [folders[name] for name in [*DOCKER_APPS, *(f"new-{t}" for t in TEMPLATES)]]
    with ThreadPoolExecutor(max_workers=2) as pool:
        built = list(pool.map(_build, docker_folders))
    failed = {name: log for name, _, log in built if log}
    assert not failed, "docker build failed:\n" + "\n".join(f"--- {name}\n{log}" for name, log in failed.items())
    timings = ", ".join(f"{name} {took:.0f}s" for name, took, _ in built)
    print(f"\nimages built two at a time: {timings}")
    return folders


@pytest.mark.container
@pytest.mark.timeout(1500)
@pytest.mark.parametrize("name", [*APPS, *(f"new-{t}" for t in TEMPLATES)])
def test_a_real_app_goes_from_its_folder_to_a_space_that_runs_and_passes_check(spaces, name, tmp_path):
    folder = spaces[name]
    validated = cli("validate", str(folder), "--json")
    assert validated.exit_code == 0, validated.output
    assert json.loads(validated.stdout)["errors"] == 0, validated.output
    port = free_ports(1)
    log = tmp_path / "up.log"
    args = [str(folder), "--docker", "--port", str(port), *_base_image_args(), "--timeout", "120s"]
    with running_up(args, log, timeout=600) as process:
        checked = cli("check", f"http://127.0.0.1:{port}", "--json")
        # What the Space's proxy sends: the public host, and the scheme TLS ended with.
        proxied = requests.get(f"http://127.0.0.1:{port}/", headers=PROXY_HEADERS, timeout=10, allow_redirects=False)
        stopping = time.monotonic()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    # The app stops on SIGTERM by itself: well within `docker stop`'s 10 s, after which it would be killed.
    assert time.monotonic() - stopping < 9, log.read_text()
    assert proxied.status_code == 200, proxied.text[:500]
    assert checked.exit_code == 0, checked.output
    (report,) = json.loads(checked.stdout)
    statuses = {result["name"]: result["status"] for result in report["results"]}
    assert statuses["GET /"] == statuses["HEAD /"] == statuses["embedding"] == "pass", checked.output
