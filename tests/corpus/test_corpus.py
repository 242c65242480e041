"""`hfspace validate` on real public Docker Spaces: precision ≥ 0.9 and recall 1.0 (tests/corpus/score.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.corpus import score

MIN_FOLDERS = 30
PRECISION, RECALL = 0.9, 1.0


@pytest.fixture(scope="module")
def scored() -> list[score.Scored]:
    return score.score_all()


def test_the_corpus_has_enough_real_spaces_each_with_its_source_and_labels():
    folders = score.folders()
    assert len(folders) >= MIN_FOLDERS
    for folder in folders:
        source = (folder / "SOURCE").read_text()
        for key in ("repository:", "commit:", "path:", "licence:"):
            assert key in source, f"{folder.name}/SOURCE has no {key}"
        assert (folder / "space" / "README.md").is_file() or "README.md" in source
        labels = yaml.safe_load((folder / "labels.yaml").read_text())
        assert labels.get("clean"), f"{folder.name}: say what was checked and is clean"
        for problem in labels.get("problems") or []:
            assert (folder / "space" / problem["file"]).is_file(), f"{folder.name}: {problem['file']} is not vendored"
            assert problem.get("rule") or problem["kind"] in score.KIND_RULES, f"{folder.name}: {problem['kind']}"
            assert problem.get("why") and problem.get("ref"), f"{folder.name}: a label says why, with a reference"


def test_validate_finds_every_labelled_problem_and_little_else(scored):
    precision, recall, *_ = score.totals(scored)
    report = score.table(scored) + "\n" + "\n".join(score.problems(scored))
    assert recall >= RECALL and precision >= PRECISION, report


def test_a_corpus_folder_with_no_labelled_problem_that_the_tool_reports_on_is_named(scored):
    # The precision target allows some false positives; none may hide in a folder labelled clean
    # without being printed by the scorer (this keeps score.problems honest).
    named = "\n".join(score.problems(scored))
    for folder in scored:
        for finding in folder.false_positives:
            assert f"{finding.path}:{finding.line}:" in named


def test_scoring_counts_a_reported_label_and_a_false_positive(tmp_path, monkeypatch):
    folder = tmp_path / "tiny"
    (folder / "space").mkdir(parents=True)
    (folder / "space" / "README.md").write_text("---\nsdk: docker\n---\n")
    (folder / "space" / "Dockerfile").write_text('FROM python:3.13-slim\nCMD ["uvicorn", "app:app"]\n')
    labels = {"framework": "x", "problems": [
        {"file": "Dockerfile", "line": 2, "kind": "bind-localhost", "why": "w", "ref": "r"},
        {"file": "Dockerfile", "line": 1, "kind": "copy-missing", "why": "w", "ref": "r"},
    ]}  # fmt: skip
    (folder / "labels.yaml").write_text(yaml.safe_dump(labels))
    result = score.score_folder(folder)
    assert [f.rule for f in result.false_positives] == ["port-mismatch"]  # uvicorn: 127.0.0.1:8000
    assert [label.kind for label in result.missed] == ["copy-missing"]
    assert result.caught == 1 and len(result.reported) == 2
    assert Path(result.false_positives[0].path).parts[0] == "tiny"
