"""`hfspace validate`: every rule caught by its own fixture, nothing else; the repository's Spaces clean.

Fixtures live in tests/tool/fixtures/validate/<rule-id>/ (see the README there). Each test copies its
fixture into a temporary folder, so renamed dotfiles and big sparse files never touch the repository.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hfspace import rules
from hfspace.cli import app

REPO = Path(__file__).resolve().parents[2]
FIXTURES = Path(__file__).parent / "fixtures" / "validate"
GOOD = ("good-docker", "good-static")
SEVERITY = {r.id: r.severity for r in rules.RULES.values()}
RENAMES = {"dot-env": ".env", "dot-gitignore": ".gitignore"}
MIB = 1024 * 1024
# Sparse files (no disk used): one over 10 MB; and over 1 GB in files each under 10 MB.
BIG_FILES = {
    "file-large": [("model.bin", 11 * MIB)],
    "space-too-large": [(f"data/part-{i:03d}.bin", int(9.5 * MIB)) for i in range(115)],
}


def materialize(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(FIXTURES / name, target)
    for path in list(target.rglob("*")):
        if path.name in RENAMES:
            path.rename(path.with_name(RENAMES[path.name]))
    for relative, size in BIG_FILES.get(name, []):
        path = target / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            handle.truncate(size)
    return target


def validate(*args: str):
    return CliRunner().invoke(app, ["validate", *args])


def validate_json(*folders: Path | str) -> tuple[int, dict]:
    result = validate("--json", *map(str, folders))
    return result.exit_code, json.loads(result.stdout)


def test_every_rule_has_exactly_one_fixture_folder():
    folders = {p.name for p in FIXTURES.iterdir() if p.is_dir()}
    assert folders - set(GOOD) == set(SEVERITY)
    assert len(SEVERITY) == len(rules.RULES), "rule ids must be unique"


def test_rules_doc_lists_every_rule_with_its_severity():
    from hfspace.rules import doc

    listed = {row.split("|")[1].strip(): row.split("|")[2].strip() for row in doc.markdown().splitlines()
              if row.startswith("| [")}  # fmt: skip
    assert {f"[{r.id}](#{r.id})": r.severity for r in rules.RULES.values()}.items() <= listed.items()


@pytest.mark.parametrize("rule_id", sorted(SEVERITY))
def test_fixture_reports_exactly_its_rule(rule_id, tmp_path):
    folder = materialize(rule_id, tmp_path)
    code, report = validate_json(folder)
    assert {f["rule"] for f in report["findings"]} == {rule_id}
    assert all(f["severity"] == SEVERITY[rule_id] for f in report["findings"])
    assert code == (1 if SEVERITY[rule_id] == rules.ERROR else 0)
    for finding in report["findings"]:
        assert finding["path"].startswith(str(folder))
        assert finding["line"] >= 1 and finding["message"] and finding["fix"]


@pytest.mark.parametrize("name", GOOD)
def test_good_fixtures_validate_clean(name):
    result = validate(str(FIXTURES / name))
    assert result.exit_code == 0, result.stdout
    assert result.stdout.splitlines() == [f"{FIXTURES / name}: ok", "0 errors, 0 warnings in 1 folder"]


def test_repository_spaces_validate_clean():
    code, report = validate_json(REPO / "python-backend", REPO / "nodejs-backend")
    assert report["findings"] == []
    assert code == 0


def test_human_output_has_location_severity_rule_message_and_fix_per_folder(tmp_path):
    error = materialize("bind-localhost", tmp_path)
    warning = materialize("docker-shell-form", tmp_path)
    result = validate(str(error), str(warning), str(FIXTURES / "good-static"))
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0] == f"{error}: 1 error, 0 warnings"
    assert lines[1].startswith(f"{error}/Dockerfile:10: error bind-localhost the server binds 127.0.0.1")
    assert lines[2].startswith("  fix: ")
    assert lines[3] == f"{warning}: 0 errors, 1 warning"
    assert lines[4].startswith(f"{warning}/Dockerfile:10: warning docker-shell-form ")
    assert lines[6] == f"{FIXTURES / 'good-static'}: ok"
    assert lines[-1] == "1 error, 1 warning in 3 folders"


def test_json_lists_findings_and_a_summary_per_folder(tmp_path):
    folder = materialize("card-sdk", tmp_path)
    code, report = validate_json(folder, FIXTURES / "good-static")
    assert code == 1
    assert report["folders"] == [
        {"folder": str(folder), "errors": 1, "warnings": 0},
        {"folder": str(FIXTURES / "good-static"), "errors": 0, "warnings": 0},
    ]
    (finding,) = report["findings"]
    assert finding == {
        "path": f"{folder}/README.md",
        "line": 6,
        "severity": "error",
        "rule": "card-sdk",
        "message": "sdk `streamlit` is not one of gradio, docker, static",
        "fix": "use `sdk: docker` (Streamlit runs as a Docker Space now)",
    }


def test_warnings_alone_exit_zero(tmp_path):
    result = validate(str(materialize("docker-shell-form", tmp_path)))
    assert result.exit_code == 0
    assert "warning docker-shell-form" in result.stdout


def test_info_findings_are_shown_with_verbose_and_never_fail(tmp_path):
    folder = materialize("healthcheck-missing", tmp_path)
    quiet, verbose = validate(str(folder)), validate("--verbose", str(folder))
    assert quiet.exit_code == verbose.exit_code == 0
    assert quiet.stdout.splitlines() == [f"{folder}: ok", "0 errors, 0 warnings in 1 folder"]
    assert f"{folder}/Dockerfile:3: info healthcheck-missing " in verbose.stdout
    assert verbose.stdout.splitlines()[-1] == "0 errors, 0 warnings, 1 info in 1 folder"
    _, report = validate_json(folder)
    assert [f["severity"] for f in report["findings"]] == ["info"] and report["infos"] == 1


def test_a_path_that_is_not_a_folder_is_one_error_line_and_exit_2(tmp_path):
    a_file = tmp_path / "README.md"
    a_file.write_text("---\nsdk: static\n---\n")
    for path in (a_file, tmp_path / "missing"):
        result = validate(str(FIXTURES / "good-static"), str(path))
        assert result.exit_code == 2
        assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
            f"error: {path} is not a folder"
        ]
        assert "Traceback" not in result.output and result.stdout == ""


def test_secret_values_never_appear_in_the_output(tmp_path):
    folder = materialize("docker-secret", tmp_path)
    human, as_json = validate(str(folder)), validate("--json", str(folder))
    assert "HF_TOKEN" in human.stdout and "HF_TOKEN" in as_json.stdout
    assert "not-a-real-token" not in human.output + as_json.output


def test_default_folder_is_the_current_one(tmp_path, monkeypatch):
    monkeypatch.chdir(materialize("card-sdk", tmp_path))
    result = validate()
    assert result.exit_code == 1
    assert result.stdout.splitlines()[1].startswith("README.md:6: error card-sdk ")


def test_real_process_validates_the_repository_spaces():
    done = subprocess.run(
        [Path(sys.executable).with_name("hfspace"), "validate", "python-backend", "nodejs-backend"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert done.stdout.splitlines() == ["python-backend: ok", "nodejs-backend: ok", "0 errors, 0 warnings in 2 folders"]
    assert "\x1b[" not in done.stdout  # no colour codes when stdout is not a terminal


# --- how the rules read a Dockerfile: variants of the good fixture ------------------------------------------


def variant(tmp_path: Path, dockerfile_edits: dict[str, str], files: dict[str, str] | None = None) -> set[str]:
    folder = materialize("good-docker", tmp_path)
    dockerfile = folder / "Dockerfile"
    text = dockerfile.read_text()
    for old, new in dockerfile_edits.items():
        assert old in text, old
        text = text.replace(old, new)
    dockerfile.write_text(text)
    for name, content in (files or {}).items():
        (folder / name).write_text(content)
    _, report = validate_json(folder)
    return {(f["rule"], Path(f["path"]).name, f["line"]) for f in report["findings"]}


CMD = 'CMD ["python3", "app.py"]'


@pytest.mark.parametrize(
    ("edits", "files", "expected"),
    [
        pytest.param({CMD: 'CMD ["uvicorn", "app:app"]'}, {}, {("bind-localhost", 10), ("port-mismatch", 10)},
                     id="uvicorn-defaults-127.0.0.1-8000"),
        pytest.param({CMD: 'CMD ["gunicorn", "-b", "0.0.0.0:8000", "app:app"]'}, {}, {("port-mismatch", 10)},
                     id="gunicorn-bind-port"),
        pytest.param({CMD: 'CMD ["gunicorn", "app:app"]'}, {}, set(), id="gunicorn-reads-PORT"),
        pytest.param({CMD: 'CMD ["sh", "-c", "exec gunicorn -b 0.0.0.0:${PORT:-7860} app:app"]'}, {}, set(),
                     id="sh-c-with-default-expansion"),
        pytest.param({"ENV PORT=7860": "ENV PORT=7860 HOST=localhost"}, {}, {("bind-localhost", 5)}, id="ENV-HOST"),
        pytest.param({"ENV PORT=7860": "ENV PORT=5000"}, {}, {("port-mismatch", 5)}, id="ENV-PORT"),
        pytest.param({CMD: 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]'},
                     {"gunicorn.conf.py": 'workers = 2\nbind = ["127.0.0.1:7860"]\n'}, {("bind-localhost", 2)},
                     id="gunicorn-conf-literal-bind"),
        pytest.param({CMD: 'CMD ["gunicorn", "-c", "gunicorn.conf.py", "app:app"]'},
                     {"gunicorn.conf.py": 'import os\nbind = f"{os.environ.get(\'HOST\', \'127.0.0.1\')}:9000"\n'},
                     set(), id="gunicorn-conf-computed-bind-is-unknown"),
        pytest.param({"ENV PORT=7860\n": ""}, {}, set(), id="nothing-tells-the-port"),
        pytest.param({"7860/": "${PORT:-7860}/"}, {}, set(), id="healthcheck-port-from-env-default"),
        pytest.param({"ARG PYTHON_IMAGE=python:3.13-slim-trixie": "ARG PYTHON_IMAGE=python:latest"}, {},
                     {("docker-base-unpinned", 2)}, id="latest-via-ARG-reported-at-the-ARG"),
        pytest.param({"ARG PYTHON_IMAGE=python:3.13-slim-trixie": "ARG PYTHON_IMAGE"}, {}, set(),
                     id="base-from-ARG-without-default-is-unknown"),
        pytest.param({"USER 1000": "USER user"}, {}, set(), id="user-created-with-uid-1000"),
        pytest.param({"USER 1000": "USER nobody:nogroup", "--uid 1000 user": "--uid 1000 nobody"}, {}, set(),
                     id="named-user-created-with-uid-1000"),
        pytest.param({"--uid 1000 user": "--uid 1001 user", "USER 1000": "USER user"}, {}, {("docker-user", 8)},
                     id="user-created-with-another-uid"),
        pytest.param({"USER 1000": "USER root"}, {}, {("docker-user", 8)}, id="user-root"),
        pytest.param({"COPY --chown=1000:1000 app.py /app/": "COPY --chown=1000:1000 . /app/"}, {}, set(),
                     id="copy-dot-with-allowlist-dockerignore-keeps-env-out"),
        pytest.param({"COPY --chown=1000:1000 app.py /app/\nWORKDIR /app\n": "WORKDIR /app\nCOPY app.py ./\n"}, {},
                     {("docker-copy-chown", 7)}, id="relative-copy-into-workdir"),
        pytest.param({"ENV PORT=7860": "ENV PORT=7860 TOKENIZERS_PARALLELISM=false HF_TOKEN="}, {}, set(),
                     id="secret-like-names-without-values"),
        pytest.param({"ENV PORT=7860": "ENV PORT=7860 SSL_KEY_FILE=/run/secrets/key"}, {}, set(),
                     id="secret-location-is-not-a-secret"),
        pytest.param({"COPY --chown=1000:1000 app.py /app/": "COPY --chown=1000:1000 . /app/"},
                     {".env.local": "SETTING=1\n", ".env.example": "SETTING=\n", ".gitignore": ".env.local\n",
                      ".dockerignore": "__pycache__\n"},
                     {("docker-env-copied", 6)}, id="env-local-copied-env-example-not"),
    ],
)  # fmt: skip
def test_dockerfile_variants(tmp_path, edits, files, expected):
    assert {(rule, line) for rule, _, line in variant(tmp_path, edits, files)} == expected


def test_port_found_in_gunicorn_conf_is_reported_there(tmp_path):
    found = variant(
        tmp_path,
        {CMD: 'CMD ["gunicorn", "--config", "gunicorn.conf.py"]'},
        {"gunicorn.conf.py": 'wsgi_app = "app:app"\nbind = "0.0.0.0:9000"\n'},
    )
    assert found == {("port-mismatch", "gunicorn.conf.py", 2)}


def test_card_app_port_decides_the_expected_port(tmp_path):
    folder = materialize("good-docker", tmp_path)
    readme = folder / "README.md"
    readme.write_text(readme.read_text().replace("app_port: 7860", "app_port: 8000"))
    _, report = validate_json(folder)
    assert {(f["rule"], f["line"]) for f in report["findings"]} == {("port-mismatch", 5), ("healthcheck-port", 9)}


def test_static_space_with_a_build_command_may_ignore_its_built_app_file(tmp_path):
    folder = materialize("good-static", tmp_path)
    readme = folder / "README.md"
    card = "app_build_command: npm run build\napp_file: dist/index.html\n"
    readme.write_text(readme.read_text().replace("sdk: static\n", "sdk: static\n" + card))
    (folder / ".gitignore").write_text("dist/\nnode_modules/\n")
    (folder / "dist").mkdir()
    (folder / "dist" / "index.html").write_text("<!doctype html>\n")
    assert validate(str(folder)).exit_code == 0
    (folder / ".gitignore").write_text("*.html\n")  # without a build command, the app_file must be uploaded
    readme.write_text(readme.read_text().replace("app_build_command: npm run build\n", ""))
    _, report = validate_json(folder)
    assert {f["rule"] for f in report["findings"]} == {"gitignore-drops"}


def test_nested_card_is_fine_when_the_root_has_one(tmp_path):
    folder = materialize("good-static", tmp_path)
    (folder / "docs").mkdir()
    shutil.copy(folder / "README.md", folder / "docs" / "README.md")
    assert validate(str(folder)).exit_code == 0


@pytest.mark.parametrize(
    ("path", "patterns", "ignored"),
    [
        ("app/main.py", ["*", "!app/"], False),
        (".env", ["*", "!app/"], True),
        ("app/.env", ["*", "!app/", "**/.env"], True),
        ("sub/.env", [".env"], False),
        ("a/b/c.pyc", ["**/*.pyc"], True),
        ("docs/x.md", ["docs"], True),
        ("docs/keep.md", ["docs", "!docs/keep.md"], False),
    ],
)
def test_dockerignore_matching_follows_docker(path, patterns, ignored):
    from hfspace.space.context import BuildContext

    context = BuildContext({path: 1}, [(n, p) for n, p in enumerate(patterns, 1)])
    assert context.excluded(path) is ignored


# --- silencing rules: inline comments, the folder's settings, the command line ---------------------------


def test_a_comment_above_an_instruction_silences_the_rules_it_names_there_and_is_counted(tmp_path):
    folder = materialize("docker-no-user", tmp_path)
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("FROM ${", "# hfspace: ignore=docker-no-user\nFROM ${"))
    result = validate(str(folder))
    assert result.exit_code == 0
    assert result.stdout.splitlines() == [f"{folder}: ok, 1 ignored", "0 errors, 0 warnings, 1 ignored in 1 folder"]
    _code, report = validate_json(folder)
    assert report["findings"] == [] and [f["rule"] for f in report["ignored"]] == ["docker-no-user"]
    assert report["ignored"][0]["ignored_by"] == "inline comment"


def test_a_comment_silences_only_the_rules_it_names(tmp_path):
    folder = materialize("docker-no-user", tmp_path)
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text().replace("FROM ${", "# hfspace: ignore=docker-user\nFROM ${"))
    _, report = validate_json(folder)
    assert [f["rule"] for f in report["findings"]] == ["docker-no-user"] and report["ignored"] == []


def test_a_trailing_comment_silences_a_card_line(tmp_path):
    folder = materialize("card-unknown-key", tmp_path)
    readme = folder / "README.md"
    silenced = "categories: [demo]  # hfspace: ignore=card-unknown-key"
    readme.write_text(readme.read_text().replace("categories: [demo]", silenced))
    code, report = validate_json(folder)
    assert (code, report["findings"], len(report["ignored"])) == (0, [], 1)


def test_the_folders_settings_turn_rules_off_for_the_folder(tmp_path):
    folder = materialize("docker-no-user", tmp_path)
    (folder / ".hfspace.toml").write_text('[validate]\nignore = ["docker-no-user"]\n')
    _, report = validate_json(folder)
    assert report["findings"] == [] and report["ignored"][0]["ignored_by"] == ".hfspace.toml"
    assert ".hfspace.toml" not in __import__("hfspace.space", fromlist=["load"]).load(folder).upload_set()


def test_ignore_and_select_on_the_command_line(tmp_path):
    error = materialize("bind-localhost", tmp_path)
    warning = materialize("docker-shell-form", tmp_path)
    ignored = validate("--ignore", "bind-localhost", str(error), str(warning))
    assert ignored.exit_code == 0
    assert ignored.stdout.splitlines()[-1] == "0 errors, 1 warning, 1 ignored in 2 folders"
    selected = validate("--select", "bind-localhost,card-sdk", str(error), str(warning))
    assert selected.exit_code == 1
    assert selected.stdout.splitlines()[-1] == "1 error, 0 warnings, 1 ignored in 2 folders"


def test_an_unknown_rule_id_on_the_command_line_is_one_error_line_and_exit_2(tmp_path):
    result = validate("--ignore", "no-such-rule", str(FIXTURES / "good-static"))
    assert result.exit_code == 2
    assert "error: --ignore no-such-rule: no rule has this id" in result.stderr
    assert "Traceback" not in result.output


# --- `hfspace rules` and docs/rules.md --------------------------------------------------------------------


def test_rules_lists_every_rule_once_with_its_severity_and_summary():
    result = CliRunner().invoke(app, ["rules"])
    assert result.exit_code == 0
    listed = {line.split()[0]: line.split()[1] for line in result.stdout.splitlines()}
    assert listed == SEVERITY
    as_json = json.loads(CliRunner().invoke(app, ["rules", "--json"]).stdout)
    assert {rule["id"] for rule in as_json} == set(SEVERITY)
    assert all(rule["summary"] and rule["why"] and rule["fix"] and rule["example"] for rule in as_json)


def test_rules_id_explains_one_rule_like_ruff_rule():
    result = CliRunner().invoke(app, ["rules", "bind-localhost"])
    assert result.exit_code == 0
    text = result.stdout
    assert text.startswith("bind-localhost (error, listening): ")
    for heading in ("Why", "Severity", "Fix", "Example"):
        assert f"\n{heading}\n" in text
    assert 'CMD ["uvicorn", "app:app", "--port", "7860"]' in text
    unknown = CliRunner().invoke(app, ["rules", "bind-localhostt"])
    assert unknown.exit_code == 2 and "no rule has this id" in unknown.stderr


def test_docs_rules_md_is_what_the_registry_says():
    from hfspace.rules import doc

    assert (REPO / "docs" / "rules.md").read_text() == doc.markdown(), "stale: run `make docs`"
