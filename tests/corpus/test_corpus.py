"""`hfspace validate` on real public Docker Spaces: precision ≥ 0.9 and recall 1.0 (tests/corpus/score.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from tests.corpus import score

MIN_FOLDERS = 30
PRECISION, RECALL = 0.9, 1.0


NO_FILES = (
    "the corpus's Space files are not here: they came through the search tool, whose material stays out "
    "of commits; set HFSPACE_CORPUS to the folder that holds them, one folder per slug (tests/corpus/README.md)"
)


@pytest.fixture(scope="module")
def files() -> Path:
    root = score.material()
    if root is None:
        pytest.skip(NO_FILES)
    return root


@pytest.fixture(scope="module")
def scored(files) -> list[score.Scored]:
    return score.score_all(files)


def test_the_corpus_has_enough_real_spaces_each_with_its_source_and_labels():
    folders = score.folders()
    assert len(folders) >= MIN_FOLDERS
    for folder in folders:
        source = (folder / "SOURCE").read_text()
        for key in ("repository:", "commit:", "path:", "licence:"):
            assert key in source, f"{folder.name}/SOURCE has no {key}"
        labels = yaml.safe_load((folder / "labels.yaml").read_text())
        assert labels.get("clean"), f"{folder.name}: say what was checked and is clean"
        for problem in labels.get("problems") or []:
            assert problem.get("rule") or problem["kind"] in score.KIND_RULES, f"{folder.name}: {problem['kind']}"
            assert problem.get("why") and problem.get("ref"), f"{folder.name}: a label says why, with a reference"


def test_every_labelled_file_is_among_the_spaces_files(files):
    for folder in score.folders():
        space = files / folder.name
        assert (space / "README.md").is_file(), f"{space}: no card"
        for problem in yaml.safe_load((folder / "labels.yaml").read_text()).get("problems") or []:
            assert (space / problem["file"]).is_file(), f"{folder.name}: {problem['file']} is not there"


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
    result = score.score_folder(folder, folder / "space")
    assert [f.rule for f in result.false_positives] == ["port-mismatch"]  # uvicorn: 127.0.0.1:8000
    assert [label.kind for label in result.missed] == ["copy-missing"]
    assert result.caught == 1 and len(result.reported) == 2
    assert Path(result.false_positives[0].path).parts[0] == "tiny"


def test_the_files_are_looked_for_where_the_readme_says(tmp_path):
    assert score.material({"HFSPACE_CORPUS": str(tmp_path)}) == tmp_path
    assert score.material({"HFSPACE_CORPUS": str(tmp_path / "none")}) is None
    assert Path(__file__).resolve().parents[3] / "shared" / "corpus" == score.SHARED
