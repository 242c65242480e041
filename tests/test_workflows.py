"""The GitHub Actions workflows: CI runs what .ci/run runs; deploy sends each changed folder to its Space;
preview opens a private Space per pull request and deletes it on close."""

import re
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


def test_deploy_sends_the_changed_folders_in_the_plans_order_with_the_token_secret():
    job = load("deploy.yml")["jobs"]["deploy"]
    (step,) = [step for step in job["steps"] if "hfspace deploy" in step.get("run", "")]
    script = step["run"]
    # Every folder at once is `deploy --all` (its wiring); else each changed one, callees first.
    assert ".venv/bin/hfspace deploy --all" in script and '.venv/bin/hfspace deploy "$folder"' in script
    assert step["env"]["FOLDERS"] == "${{ needs.changes.outputs.folders }}"
    assert step["env"]["HF_TOKEN"] == "${{ secrets.HF_TOKEN }}"
    assert "HF_TOKEN" not in script  # never on a command line
    changes = load("deploy.yml")["jobs"]["changes"]["steps"][-1]["run"]
    plan = tomllib.loads((ROOT / "spaces.toml").read_text())
    callers = [entry["folder"] for entry in plan["space"] if entry.get("calls")]
    order = re.search(r"for f in ([\w\- ]+); do", changes).group(1).split()
    assert all(order.index(c) > order.index(callee) for c in callers for callee in _callees(plan, c))


def _callees(plan: dict, folder: str) -> list[str]:
    by_name = {entry["name"]: entry["folder"] for entry in plan["space"]}
    entry = next(e for e in plan["space"] if e["folder"] == folder)
    return [by_name[name] for name in entry["calls"]]


def test_preview_opens_on_pull_requests_that_change_a_folder_and_closes_with_them():
    preview = load("preview.yml")
    trigger = preview["on"]["pull_request"]
    assert set(trigger["types"]) == {"opened", "synchronize", "reopened", "closed"}
    assert set(trigger["paths"]) == set(load("deploy.yml")["on"]["push"]["paths"])
    same_repo = "github.event.pull_request.head.repo.full_name == github.repository"
    jobs = preview["jobs"]
    assert set(jobs) == {"open", "close"}
    for job in jobs.values():
        assert same_repo in job["if"]  # a fork's pull request gets no token, no secrets, no preview
    opening = next(step for step in jobs["open"]["steps"] if "hfspace preview open" in step.get("run", ""))
    assert "--with-secrets" in opening["run"] and '[ "$SAME_REPO" = true ]' in opening["run"]
    assert opening["env"]["SAME_REPO"] == "${{ " + same_repo + " }}"
    assert "HF_TOKEN" not in opening["run"] and "SPACE_SECRETS" in opening["env"]
    comment = next(step for step in jobs["open"]["steps"] if "github-script" in step.get("uses", ""))
    assert "updateComment" in comment["with"]["script"] and "createComment" in comment["with"]["script"]
    closing = next(step for step in jobs["close"]["steps"] if "hfspace preview close" in step.get("run", ""))
    assert "hfspace preview prune" in closing["run"]
    assert preview["permissions"] == {"contents": "read", "pull-requests": "write"}


def test_actionlint_finds_nothing():
    if not ACTIONLINT.exists():
        pytest.skip("actionlint is not installed (make setup installs it)")
    result = subprocess.run(
        [str(ACTIONLINT), *sorted(map(str, WORKFLOWS.glob("*.yml")))], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
