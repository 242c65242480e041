"""hfspace as people install it: a wheel built from this repository, installed with pip into a
fresh virtual environment outside the repository (its dependencies from the hash-pinned
requirements-tool.txt), run from a folder that is not the checkout. `new` takes its templates
from inside the wheel; `init`, `validate` and `rules` work as they do here."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


def run(*command: str | Path, cwd: Path, env: dict[str, str] | None = None, timeout: float = 300):
    result = subprocess.run(
        [str(part) for part in command], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False
    )
    assert result.returncode == 0, f"{command}: {result.stdout[-2000:]}{result.stderr[-2000:]}"
    return result


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    """The wheel, built offline with the .venv's hatchling, as `python -m build` would make it."""
    out = tmp_path_factory.mktemp("dist")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "-w", out, ROOT, cwd=ROOT)
    (found,) = out.glob("*.whl")
    return found


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> tuple[Path, dict[str, str]]:
    """A fresh venv with the wheel installed: its `hfspace`, and an environment that knows nothing of the repository."""
    home = tmp_path_factory.mktemp("user")
    venv = home / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=home)
    pip = [venv / "bin" / "python", "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    run(*pip, "--require-hashes", "-r", ROOT / "requirements-tool.txt", cwd=home)
    run(*pip, "--no-deps", wheel, cwd=home)
    env = {key: value for key, value in os.environ.items() if key not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return venv / "bin" / "hfspace", env


def test_the_wheel_carries_the_templates_and_nothing_that_is_no_part_of_a_space(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    for template, folder in (("flask", "python-backend"), ("express", "nodejs-backend"), ("static", "frontend")):
        assert f"hfspace/templates/{template}/Dockerfile" in names or template == "static"
        assert f"hfspace/templates/{template}/README.md" in names
        dockerfile = ROOT / folder / "Dockerfile"
        if dockerfile.exists():  # the same bytes as the folder: one source
            assert zipfile.ZipFile(wheel).read(f"hfspace/templates/{template}/Dockerfile") == dockerfile.read_bytes()
    left_out = ("/tests/", "/test/", "node_modules", ".venv", "__pycache__", "/.env\n")
    assert not [name for name in names if any(part in name + "\n" for part in left_out)]


def test_the_installed_tool_makes_inits_validates_and_explains_outside_the_repository(installed, tmp_path):
    hfspace, env = installed
    where = run(hfspace.parent / "python", "-c", "import hfspace; print(hfspace.__file__)", cwd=tmp_path, env=env)
    assert not where.stdout.strip().startswith(str(ROOT))
    assert run(hfspace, "--version", cwd=tmp_path, env=env).stdout.startswith("hfspace ")
    for template in ("flask", "express", "static"):
        made = run(hfspace, "new", f"my-{template}", "--template", template, cwd=tmp_path, env=env)
        assert f"from hfspace/templates/{template}" in made.stdout
        validated = run(hfspace, "validate", f"my-{template}", cwd=tmp_path, env=env)
        assert "0 errors, 0 warnings" in validated.stdout
    assert "title: my-flask" in (tmp_path / "my-flask" / "README.md").read_text()
    assert not (tmp_path / "my-flask" / "tests").exists() and not (tmp_path / "my-express" / "node_modules").exists()
    shutil.copytree(ROOT / "tests" / "apps" / "flask-tutorial-flaskr" / "app", tmp_path / "flaskr")
    initialised = run(hfspace, "init", "flaskr", cwd=tmp_path, env=env)
    assert "validate: 0 errors" in initialised.stdout and (tmp_path / "flaskr" / "Dockerfile").is_file()
    rules = run(hfspace, "rules", "bind-localhost", cwd=tmp_path, env=env)
    assert "bind-localhost" in rules.stdout and "Fix" in rules.stdout


def test_uvx_runs_the_wheel(wheel, tmp_path):
    uv = Path(sys.executable).parent / "uv"
    if not uv.exists():
        pytest.fail("uv is not in the .venv (it is in requirements-dev.txt): run make setup")
    env = {**os.environ, "UV_TOOL_DIR": str(tmp_path / "tools"), "UV_PYTHON_DOWNLOADS": "never"}
    done = run(uv, "tool", "run", "--from", wheel, "hfspace", "--version", cwd=tmp_path, env=env)
    assert done.stdout.startswith("hfspace ")
