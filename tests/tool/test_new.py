"""`hfspace new`: a Space folder from each of our own Spaces, renamed, that validates clean,
runs under `hfspace up` and passes `hfspace check` as it is (tests/init/test_apps.py runs the
Docker templates under `up --docker` too)."""

from __future__ import annotations

import json
import os
import signal

import pytest
from typer.testing import CliRunner

from hfspace.cli import app
from hfspace.new import TEMPLATES
from tests.services import free_ports
from tests.tool.test_up import ROOT, running_up


def cli(*args: str):
    return CliRunner().invoke(app, list(args), env={"SPACE_ID": None, "SPACE_HOST": None})


@pytest.mark.parametrize("template", list(TEMPLATES))
def test_new_makes_a_renamed_space_that_validates_runs_and_passes_check(template, tmp_path):
    folder = tmp_path / f"my-{template}-space"
    made = cli("new", folder.name, "--template", template, "--dir", str(folder))
    assert made.exit_code == 0, made.output
    assert f"from {TEMPLATES[template]}/" in made.output  # from the repository's folder, the one source
    card = (folder / "README.md").read_text()
    assert f"title: {folder.name}\n" in card
    source = ROOT / TEMPLATES[template]
    for left_out in ("tests", "test", "node_modules", ".venv", ".env"):
        assert not (folder / left_out).exists()
    assert TEMPLATES[template] not in card.split("---")[1]  # the old name is gone from the card
    if template != "static":
        assert folder.name in (folder / "Dockerfile").read_text().splitlines()[0]
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in source.iterdir() if p.name not in ("tests", "test", "node_modules", ".venv", ".env")
    )
    validated = cli("validate", str(folder))
    assert validated.exit_code == 0 and "0 errors, 0 warnings" in validated.output, validated.output
    port = free_ports(1)
    with running_up([str(folder), "--port", str(port)], tmp_path / "up.log", timeout=180) as process:
        checked = cli("check", f"http://127.0.0.1:{port}", "--json")
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=30) == 0
    assert checked.exit_code == 0, checked.output
    (report,) = json.loads(checked.stdout)
    if template != "static":  # the service answers with its new name
        assert report["service"] is None  # not one of the two the contract names
        assert "GET /health" in {r["name"] for r in report["results"] if r["status"] == "pass"}


def test_new_refuses_a_bad_name_an_unknown_template_and_a_folder_that_is_not_empty(tmp_path):
    assert "is not a Space name" in cli("new", "no/slash", "--dir", str(tmp_path / "x")).output
    unknown = cli("new", "ok", "--template", "rails", "--dir", str(tmp_path / "y"))
    assert unknown.exit_code == 2 and "error: --template rails: no such template" in unknown.output
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "file").write_text("mine")
    taken = cli("new", "taken", "--dir", str(tmp_path / "taken"))
    assert taken.exit_code == 1 and "already exists and is not empty" in taken.output
