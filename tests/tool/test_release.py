"""Deploys that roll back, `hfspace rollback`, `hfspace preview`: the real client against the Hub emulator.

Every command runs as a real `hfspace` process with HF_ENDPOINT pointed at the emulator, which
keeps every revision, tags and refs, builds each revision from its own files (a `RUN exit 1`
fails it, as `docker build` would) and runs its command as a local process. A revision is good
when a deploy saw it run and pass `hfspace check`; that is recorded as a tag on the Space's
repository, so a fresh HF_HOME in another folder finds it.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests
from huggingface_hub import HfApi
from huggingface_hub.errors import RepositoryNotFoundError

from tests.hub_emulator import HubEmulator, User
from tests.tool.hub_cli import runner

ROOT = Path(__file__).resolve().parents[2]
HFSPACE = ROOT / ".venv" / "bin" / "hfspace"
KEY = "hf_release_test_write_key"
OTHER_KEY = "hf_release_test_other_key"
SECRET_VALUE = "s3cr3t-release-value-9876543210"
GOOD_TAG = "hfspace-good-"

CARD = """\
---
title: Release test
emoji: 🚀
colorFrom: blue
colorTo: green
sdk: docker
app_port: 7860
---
"""

# The app of every revision here: a JSON service on PORT (7860 on the platform), with /health.
# `headers` are sent with every answer: X-Frame-Options DENY is a real way to fail the check
# (the Space page could not show the app).
APP = """\
import json, os, signal, sys
from http.server import BaseHTTPRequestHandler, HTTPServer

VERSION = {version!r}


class Handler(BaseHTTPRequestHandler):
    def answer(self, body):
        data = json.dumps(body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        for key, value in {headers!r}.items():
            self.send_header(key, value)
        self.end_headers()
        return data

    def do_GET(self):
        body = {{"status": "pass"}} if self.path == "/health" else {{"version": VERSION}}
        self.wfile.write(self.answer(body))

    def do_HEAD(self):
        self.answer({{}})

    def log_message(self, *args):
        pass


signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
HTTPServer(("0.0.0.0", int(os.environ.get("PORT", "7860"))), Handler).serve_forever()
"""

DOCKERFILE = """\
FROM python:3.13-slim
RUN useradd -m -u 1000 user
USER user
WORKDIR /home/user/app
COPY --chown=user . .
{steps}CMD ["python", "app.py"]
"""


def write_space(folder: Path, version: str, *, steps: str = "", headers: dict | None = None, **extra: str) -> Path:
    """A Space folder whose app says `version`; `extra` files (name=text) ride along."""
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*"):
        stale.unlink()
    (folder / "README.md").write_text(CARD)
    (folder / "Dockerfile").write_text(DOCKERFILE.format(steps=steps))
    (folder / "app.py").write_text(APP.format(version=version, headers=headers or {}))
    for name, text in extra.items():
        (folder / name.replace("_", ".")).write_text(text)
    return folder


@pytest.fixture(scope="module")
def emulator():
    users = [User("me", KEY, "write", ("team",)), User("other", OTHER_KEY, "write", ())]
    with HubEmulator(users, commit_lag=0.3, startup_timeout=60) as running:
        yield running


@pytest.fixture(scope="module")
def outputs() -> list[str]:
    """Everything every hfspace run of this module printed, for the secret scan at the end."""
    return []


@pytest.fixture
def hfspace(emulator, outputs, tmp_path):
    """hfspace(*args, cwd=..., env=...): `hfspace <args>` against the emulator, with this test's own HF_HOME."""
    return runner(emulator, tmp_path / "hf-home", outputs, KEY)


def api(emulator, token: str | None = KEY) -> HfApi:
    return HfApi(endpoint=emulator.url, token=token or False)


def good_tags(emulator, space_id: str) -> dict[str, str]:
    return {tag: oid for tag, oid in emulator.spaces[space_id].tags.items() if tag.startswith(GOOD_TAG)}


def test_a_deploy_that_passes_records_its_revision_as_good_on_the_hub_without_a_restart(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    result = hfspace("deploy", str(folder), "--space", "me/good")
    assert result.returncode == 0, result.stderr
    head = emulator.commit_ids("me/good")[-1]
    assert good_tags(emulator, "me/good") == {GOOD_TAG + head[:12]: head}
    assert f"recorded {head[:12]} as its last good revision" in result.stderr
    # Through the client, as any machine reads it: a tag of the repository.
    refs = api(emulator).list_repo_refs("me/good", repo_type="space")
    assert [(t.name, t.target_commit) for t in refs.tags] == [(GOOD_TAG + head[:12], head)]
    # One build and start (the commit's); the tag restarted nothing.
    assert emulator.spaces["me/good"].gen == 1 and emulator.stage("me/good") == "RUNNING"
    status = hfspace("status", "me/good", "--json")
    assert json.loads(status.stdout)["good"] == head


def test_a_build_that_fails_is_rolled_back_to_the_last_good_files_byte_for_byte(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1", data_txt="kept\n")
    assert hfspace("deploy", str(folder), "--space", "me/build-fails").returncode == 0
    good = emulator.commit_ids("me/build-fails")[-1]
    # The next revision changes the app, drops data.txt, adds notes.txt, and fails to build.
    write_space(folder, "2", steps="RUN exit 1\n", notes_txt="new\n")
    result = hfspace("deploy", str(folder), "--space", "me/build-fails")
    assert result.returncode == 1
    commits = emulator.commit_ids("me/build-fails")
    failed, restored = commits[-2], commits[-1]
    assert failed != good and restored not in (failed, good)
    assert emulator.files("me/build-fails", restored) == emulator.files("me/build-fails", good)
    back = emulator.files("me/build-fails", restored)
    assert "notes.txt" not in back and back["data.txt"] == b"kept\n"
    assert emulator.files("me/build-fails", failed)["notes.txt"] == b"new\n"  # still in the history
    # What the user reads: the diagnosis, the rollback, and where the Space is now.
    assert "BUILD_ERROR" in result.stderr and "exit code: 1" in result.stderr
    assert f"rolling back to {good[:12]}" in result.stderr
    last = [line for line in result.stderr.splitlines() if line.startswith("error:")]
    assert last == [
        f"error: me/build-fails: it ended in BUILD_ERROR; rolled back: the Space is back on {good[:12]}, the last "
        f"good revision (commit {restored[:12]}); {failed[:12]} stays in its history"
    ]
    assert emulator.stage("me/build-fails") == "RUNNING"
    url = emulator.spaces["me/build-fails"].host
    assert requests.get(url, timeout=10).json() == {"version": "1"}
    # The restored commit passed its check too: it is good in its own right.
    assert GOOD_TAG + restored[:12] in good_tags(emulator, "me/build-fails")


def test_a_revision_that_runs_but_fails_its_check_is_rolled_back(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    assert hfspace("deploy", str(folder), "--space", "me/check-fails").returncode == 0
    good = emulator.commit_ids("me/check-fails")[-1]
    write_space(folder, "2", headers={"X-Frame-Options": "DENY"})  # the Space page cannot show it
    result = hfspace("deploy", str(folder), "--space", "me/check-fails")
    assert result.returncode == 1
    assert "embedding" in result.stdout and "X-Frame-Options" in result.stdout  # the failed check's table
    failed, restored = emulator.commit_ids("me/check-fails")[-2:]
    assert emulator.files("me/check-fails", restored) == emulator.files("me/check-fails", good)
    assert "it runs, but its checks failed" in result.stderr and f"back on {good[:12]}" in result.stderr
    answer = requests.get(emulator.spaces["me/check-fails"].host, timeout=10)
    assert answer.json() == {"version": "1"} and "X-Frame-Options" not in answer.headers
    assert GOOD_TAG + failed[:12] not in good_tags(emulator, "me/check-fails")


def test_no_rollback_leaves_the_failed_revision_in_place(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    assert hfspace("deploy", str(folder), "--space", "me/no-rollback").returncode == 0
    write_space(folder, "2", steps="RUN false\n")
    result = hfspace("deploy", str(folder), "--space", "me/no-rollback", "--no-rollback")
    assert result.returncode == 1
    assert "rolling back" not in result.stderr
    assert "--no-rollback: the failed revision stays" in result.stderr
    commits = emulator.commit_ids("me/no-rollback")
    assert len(commits) == 3  # .gitattributes, the good one, the failed one: no restore
    assert emulator.files("me/no-rollback")["Dockerfile"] == (folder / "Dockerfile").read_bytes()
    assert emulator.stage("me/no-rollback") == "BUILD_ERROR"


def test_rollback_from_a_fresh_machine_and_to_a_chosen_revision(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    assert hfspace("deploy", str(folder), "--space", "me/back").returncode == 0
    first = emulator.commit_ids("me/back")[-1]
    write_space(folder, "2", extra_txt="two\n")
    assert hfspace("deploy", str(folder), "--space", "me/back").returncode == 0
    second = emulator.commit_ids("me/back")[-1]

    elsewhere = tmp_path / "another-clone"
    elsewhere.mkdir()
    fresh = {"HF_HOME": str(tmp_path / "fresh-hf-home")}
    result = hfspace("rollback", "me/back", cwd=elsewhere, env=fresh)
    assert result.returncode == 0, result.stderr
    head = emulator.commit_ids("me/back")[-1]
    assert emulator.files("me/back", head) == emulator.files("me/back", first)
    assert requests.get(emulator.spaces["me/back"].host, timeout=10).json() == {"version": "1"}
    assert f"rolling back to {first[:12]}" in result.stderr
    assert (
        api(emulator).list_repo_commits("me/back", repo_type="space")[0].title.startswith(f"Roll back to {first[:12]}")
    )
    # --to takes a commit's first hex digits (or a tag): forward again, to the second revision.
    again = hfspace("rollback", "me/back", "--to", second[:8], cwd=elsewhere, env=fresh)
    assert again.returncode == 0, again.stderr
    assert emulator.files("me/back") == emulator.files("me/back", second)
    assert requests.get(emulator.spaces["me/back"].host, timeout=10).json() == {"version": "2"}
    assert not list((tmp_path / "another-clone").iterdir())  # no clone, no download left behind


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("rollback", "me/never-good"), "error: me/never-good has no good revision before its head to roll back to"),
        (("rollback", "me/never-good", "--to", "feedface"), "error: me/never-good has no revision feedface"),
        (("rollback", "me/missing"), "error: me/missing or its owner me was not found: 404"),
        (("preview", "open", ".", "--space", "me/x", "--pr", "0"), "error: --pr 0: a pull request number is 1"),
        (("preview", "prune", "--space", "me/x", "--open", "3,x"), 'error: --open "3,x": expected pull request'),
    ],
)
def test_what_cannot_be_done_is_one_error_line(hfspace, emulator, args, message):
    emulator.seed("me/never-good", {"README.md": CARD, "Dockerfile": "FROM python:3.13-slim\n"}, stage="BUILD_ERROR")
    result = hfspace(*args)
    assert result.returncode == 1
    assert result.stderr.startswith(message), result.stderr
    assert "Traceback" not in result.stderr


def test_a_first_deploy_that_fails_says_there_is_nothing_to_roll_back_to(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1", steps="RUN exit 3\n")
    result = hfspace("deploy", str(folder), "--space", "me/first-fails")
    assert result.returncode == 1
    assert "nothing to roll back to: no revision of it has passed a deploy's check yet" in result.stderr
    assert len(emulator.commit_ids("me/first-fails")) == 2 and good_tags(emulator, "me/first-fails") == {}


# --- previews --------------------------------------------------------------------------------------------


def test_a_preview_opens_private_with_production_variables_updates_in_place_and_closes(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    production = hfspace(
        "deploy", str(folder), "--space", "me/site", "--var", "GREETING=hello", "--secret", "API_KEY",
        env={"API_KEY": SECRET_VALUE},
    )  # fmt: skip
    assert production.returncode == 0, production.stderr
    write_space(folder, "pr")
    opened = hfspace("preview", "open", str(folder), "--space", "me/site", "--pr", "7")
    assert opened.returncode == 0, opened.stderr
    preview = emulator.spaces["me/site-pr-7"]
    assert preview.visibility == "private"
    assert {k: v["value"] for k, v in preview.variables.items()} == {"GREETING": "hello"}
    assert preview.secret_values == {}  # secrets only when asked for
    with pytest.raises(RepositoryNotFoundError):  # private: nobody else sees it
        api(emulator, OTHER_KEY).space_info("me/site-pr-7")
    # stdout is the comment: Markdown, with the marker the workflow finds it by.
    summary = opened.stdout
    assert summary.startswith("<!-- hfspace-preview -->\n### Preview of `app` for #7: ✅ running")
    assert f"| URL | {preview.host} |" in summary and "| Stage | RUNNING |" in summary
    assert "| Variables | from `me/site` |" in summary and "| Secrets | none |" in summary
    assert "| GET / | pass |" in summary
    assert requests.get(preview.host, timeout=10).json() == {"version": "pr"}
    assert emulator.files("me/site")["app.py"] != emulator.files("me/site-pr-7")["app.py"]  # production untouched

    write_space(folder, "pr, second push")
    updated = hfspace("preview", "open", str(folder), "--space", "me/site", "--pr", "7")
    assert updated.returncode == 0, updated.stderr
    assert emulator.spaces["me/site-pr-7"] is preview and len(emulator.commit_ids("me/site-pr-7")) == 3
    assert requests.get(preview.host, timeout=10).json() == {"version": "pr, second push"}

    with_secrets = hfspace(
        "preview", "open", str(folder), "--space", "me/site", "--pr", "7", "--with-secrets",
        env={"API_KEY": SECRET_VALUE},
    )  # fmt: skip
    assert with_secrets.returncode == 0, with_secrets.stderr
    assert preview.secret_values == {"API_KEY": SECRET_VALUE}
    assert "| Secrets | `API_KEY` |" in with_secrets.stdout
    unset = hfspace("preview", "open", str(folder), "--space", "me/site", "--pr", "7", "--with-secrets")
    assert unset.returncode == 1
    assert unset.stderr.startswith("error: --with-secrets: no environment variable holds API_KEY (secrets of me/site)")

    closed = hfspace("preview", "close", "--space", "me/site", "--pr", "7")
    assert (closed.returncode, closed.stdout.strip()) == (0, "deleted me/site-pr-7")
    assert "me/site-pr-7" not in emulator.spaces and "me/site" in emulator.spaces
    again = hfspace("preview", "close", "--space", "me/site", "--pr", "7")
    assert (again.returncode, again.stdout.strip()) == (0, "me/site-pr-7 does not exist: nothing to delete")


def test_a_preview_that_fails_prints_its_summary_and_exits_1_without_rolling_back(hfspace, emulator, tmp_path):
    folder = write_space(tmp_path / "app", "1")
    assert hfspace("deploy", str(folder), "--space", "me/shop").returncode == 0
    write_space(folder, "broken", steps="RUN exit 2\n")
    result = hfspace("preview", "open", str(folder), "--space", "me/shop", "--pr", "12")
    assert result.returncode == 1
    assert "### Preview of `app` for #12: ❌ BUILD_ERROR" in result.stdout
    assert "**Failed:** me/shop-pr-12: it ended in BUILD_ERROR" in result.stdout
    assert "rolling back" not in result.stderr and emulator.stage("me/shop-pr-12") == "BUILD_ERROR"


def test_previews_of_a_pull_request_are_wired_to_each_other_and_to_production_elsewhere(hfspace, emulator, tmp_path):
    for ours, folder in (("python-backend", "api"), ("frontend", "web")):
        shutil.copytree(ROOT / ours, tmp_path / folder, ignore=shutil.ignore_patterns(".venv", "__pycache__"))
    (tmp_path / "spaces.toml").write_text(
        'owner = "me"\n[[space]]\nfolder = "api"\nname = "wired-api"\n'
        '[[space]]\nfolder = "web"\nname = "wired-web"\ncalls = ["wired-api"]\n'
    )
    production = hfspace("deploy", "--all", cwd=tmp_path, timeout=300)
    assert production.returncode == 0, production.stderr
    for changed in ("api/gunicorn.conf.py", "web/index.html"):
        (tmp_path / changed).write_text((tmp_path / changed).read_text() + "\n")
    opened = hfspace("preview", "open", "api", "web", "--pr", "5", cwd=tmp_path, timeout=300)
    assert opened.returncode == 0, opened.stderr
    api_preview, web_preview = emulator.spaces["me/wired-api-pr-5"], emulator.spaces["me/wired-web-pr-5"]
    assert (api_preview.visibility, web_preview.visibility) == ("private", "private")
    origin = "https://me-wired-web-pr-5.static.hf.space"
    assert web_preview.host == origin
    # The api preview admits the web preview (not production's web), and was checked from there.
    assert api_preview.variables["CORS_ORIGINS"]["value"] == origin
    assert emulator.spaces["me/wired-api"].variables["CORS_ORIGINS"]["value"] == "https://me-wired-web.static.hf.space"
    assert f"| cors preflight {origin} | pass |" in opened.stdout
    assert json.loads(emulator.files("me/wired-web-pr-5")["spaces.json"]) == {"wired-api": api_preview.host}
    assert opened.stdout.count("<!-- hfspace-preview -->") == 1 and opened.stdout.count("### Preview of") == 2
    # A pull request that changes the web folder alone: its preview calls production's api.
    alone = hfspace("preview", "open", "web", "--pr", "6", cwd=tmp_path)
    assert alone.returncode == 0, alone.stderr
    production_api = emulator.spaces["me/wired-api"].host
    assert json.loads(emulator.files("me/wired-web-pr-6")["spaces.json"]) == {"wired-api": production_api}
    assert (
        emulator.spaces["me/wired-api"].variables["CORS_ORIGINS"]["value"]
        != "https://me-wired-web-pr-6.static.hf.space"
    )


def test_prune_deletes_the_previews_of_closed_pull_requests_only(hfspace, emulator):
    client = api(emulator)
    for space_id in ("me/blog", "me/blog-pr-3", "me/blog-pr-8", "me/blog-pr-9", "me/blog-preview", "me/other-pr-3"):
        client.create_repo(space_id, repo_type="space", space_sdk="static", private=space_id != "me/blog")
    result = hfspace("preview", "prune", "--space", "me/blog", "--open", "3, 9")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == ["deleted me/blog-pr-8", "1 preview(s) deleted"]
    left = {s for s in emulator.spaces if s.startswith(("me/blog", "me/other"))}
    assert left == {"me/blog", "me/blog-pr-3", "me/blog-pr-9", "me/blog-preview", "me/other-pr-3"}
    none_open = hfspace("preview", "prune", "--space", "me/blog", "--open", "")
    assert none_open.stdout.splitlines()[-1] == "2 preview(s) deleted"
    assert {s for s in emulator.spaces if s.startswith("me/blog")} == {"me/blog", "me/blog-preview"}


def test_no_secret_value_appears_in_any_output_log_tag_or_file(emulator, outputs):
    """Runs last: every command of this module, and the emulated Hub's logs, commits and tags."""
    assert emulator.spaces["me/site"].secret_values == {"API_KEY": SECRET_VALUE}  # it was really sent
    assert len(outputs) > 10
    for output in outputs:
        assert SECRET_VALUE not in output
    for space in emulator.spaces.values():
        logs = "\n".join(line for buffer in (space.build_log, space.run_log) for _, line in buffer.lines)
        assert SECRET_VALUE not in logs and SECRET_VALUE not in json.dumps(space.tags), space.id
        for commit in space.commits:
            assert SECRET_VALUE not in commit.summary + commit.description
            for path, content in commit.files.items():
                assert SECRET_VALUE.encode() not in content, (space.id, path)


def test_the_workflow_finds_its_comment_by_the_marker_the_summary_starts_with():
    from hfspace.preview import MARKER

    workflow = (ROOT / ".github" / "workflows" / "preview.yml").read_text()
    assert workflow.count(f"const marker = '{MARKER}';") == 2  # the open job's and the close job's


def test_a_folder_of_spaces_toml_names_its_production_space(hfspace, emulator, tmp_path):
    (tmp_path / "spaces.toml").write_text('owner = "me"\n[[space]]\nfolder = "app"\nname = "shop-front"\n')
    write_space(tmp_path / "app", "1")
    result = hfspace("preview", "close", "app", "--pr", "5", cwd=tmp_path)
    assert (result.returncode, result.stdout.strip()) == (0, "me/shop-front-pr-5 does not exist: nothing to delete")
    forked = hfspace("preview", "close", "app", "--pr", "5", cwd=tmp_path, env={"HFSPACE_OWNER": "team"})
    assert forked.stdout.strip() == "team/shop-front-pr-5 does not exist: nothing to delete"
