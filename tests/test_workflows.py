"""The GitHub Actions workflows: CI runs what .ci/run runs; deploy sends each changed folder to its Space."""

import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parent.parent
WORKFLOWS = ROOT / ".github" / "workflows"
ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"


def load(name: str) -> dict:
    document = yaml.safe_load((WORKFLOWS / name).read_text())
    document["on"] = document.pop(True, document.get("on"))  # YAML 1.1 reads the key `on` as True
    return document


def test_ci_runs_exactly_the_ci_entry_point_as_root():
    ci = load("ci.yml")
    assert set(ci["on"]) == {"push", "pull_request"}
    (job,) = ci["jobs"].values()
    commands = [step["run"] for step in job["steps"] if "run" in step]
    assert commands == ["sudo --preserve-env=CI,PATH bash .ci/run"]
    assert job["steps"][-1]["env"]["CI"] == "true"


def test_deploy_runs_on_pushes_to_main_that_change_a_space_folder():
    deploy = load("deploy.yml")
    push = deploy["on"]["push"]
    assert push["branches"] == ["main"]
    plan = tomllib.loads((ROOT / "spaces.toml").read_text())
    folders = [entry["folder"] for entry in plan["space"]]
    assert set(push["paths"]) == {f"{folder}/**" for folder in folders} | {"spaces.toml"}
    # The list the changes job falls back to is every folder of the plan.
    script = deploy["jobs"]["changes"]["steps"][-1]["run"]
    assert all(f'"{folder}"' in script.split("\n")[0] for folder in folders)


def test_deploy_sends_each_folder_with_hfspace_and_the_token_secret():
    job = load("deploy.yml")["jobs"]["deploy"]
    assert job["strategy"]["matrix"]["folder"] == "${{ fromJSON(needs.changes.outputs.folders) }}"
    (step,) = [step for step in job["steps"] if "hfspace deploy" in step.get("run", "")]
    assert step["run"].startswith('.venv/bin/hfspace deploy "${{ matrix.folder }}"')
    assert step["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    assert "HF_TOKEN" not in step["run"]  # never on a command line


def test_actionlint_finds_nothing():
    if not ACTIONLINT.exists():
        pytest.skip("actionlint is not installed (make setup installs it)")
    result = subprocess.run(
        [str(ACTIONLINT), *sorted(map(str, WORKFLOWS.glob("*.yml")))], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
