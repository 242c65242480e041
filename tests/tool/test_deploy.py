"""`hfspace deploy` and `hfspace status`, with the real huggingface_hub client against the Hub emulator.

Every command runs as a real `hfspace` process with HF_ENDPOINT pointed at the emulator
(tests/hub_emulator), which really starts each deployed Space (its Dockerfile's command as a
local process) and reports its local URL as the Space's host.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import requests

from hfspace.space import load
from tests.hub_emulator import HubEmulator, User
from tests.tool.hub_cli import runner

ROOT = Path(__file__).resolve().parents[2]
HFSPACE = ROOT / ".venv" / "bin" / "hfspace"
WRITE_KEY = "hf_deploy_test_write_key"
READ_KEY = "hf_deploy_test_read_key"
FREE_KEY = "hf_deploy_test_free_key"
SECRET_VALUE = "s3cr3t-deploy-value-0123456789"


@pytest.fixture(scope="module")
def emulator():
    users = [
        User("me", WRITE_KEY, "write", ("team",)),
        User("me", READ_KEY, "read", ("team",)),
        User("poor", FREE_KEY, "write", (), free=True),
    ]
    with HubEmulator(users, commit_lag=0.5, startup_timeout=60) as running:
        yield running


@pytest.fixture(scope="module")
def outputs() -> list[str]:
    """Everything every hfspace run of this module printed: the secret scan at the end reads it all."""
    return []


@pytest.fixture
def deploy(emulator, outputs, tmp_path):
    """deploy(*args, token=..., env=...) -> CompletedProcess of `hfspace <args>` against the emulator."""
    return runner(emulator, tmp_path / "hf-home", outputs, WRITE_KEY)


def copy_space(name: str, tmp_path: Path) -> Path:
    target = tmp_path / name
    shutil.copytree(ROOT / name, target, ignore=shutil.ignore_patterns("node_modules", ".venv", "__pycache__"))
    return target


def url_line(stdout: str) -> str:
    """The URL deploy prints on its own line, last."""
    return stdout.strip().splitlines()[-1]


def test_first_deploy_creates_the_space_uploads_exactly_what_the_image_needs_and_it_answers(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    (folder / ".env").write_text(f"LOCAL_ONLY={SECRET_VALUE}\n")  # never uploaded
    (folder / "tests" / "test_extra.py").write_text("def test_x(): pass\n")  # tests stay home
    result = deploy(
        "deploy", str(folder), "--space", "me/python-backend",
        "--var", "LOG_LEVEL=debug", "--var", "APP_ENV=production", "--secret", "API_KEY",
        env={"API_KEY": SECRET_VALUE},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    remote = emulator.files("me/python-backend")
    remote.pop(".gitattributes")  # the Hub's own, made with the repository
    assert sorted(remote) == load(folder).upload_set()
    assert {"Dockerfile", "README.md", "app/__init__.py", "gunicorn.conf.py", "requirements.txt"} <= set(remote)
    assert not [p for p in remote if p.endswith(".env") or p.startswith("tests/") or p == ".gitignore"]
    for path, content in remote.items():
        assert content == (folder / path).read_bytes(), path
    space = emulator.spaces["me/python-backend"]
    assert space.sdk == "docker"
    assert {k: v["value"] for k, v in space.variables.items()} == {"LOG_LEVEL": "debug", "APP_ENV": "production"}
    assert space.secret_values == {"API_KEY": SECRET_VALUE}
    # Deploy waited for the build and checked the app at the URL the Hub reports, printed last.
    url = url_line(result.stdout)
    assert url == emulator.spaces["me/python-backend"].host
    assert "BUILDING" in result.stderr and "RUNNING" in result.stderr
    body = requests.get(f"{url}/", timeout=10).json()
    assert (body["service"], body["space"]["id"]) == ("python-backend", "me/python-backend")
    assert "contract GET /" in result.stdout and " fail " not in result.stdout


def test_a_redeploy_of_an_unchanged_folder_makes_no_commit(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    assert deploy("deploy", str(folder), "--space", "me/unchanged").returncode == 0
    commits = emulator.commit_ids("me/unchanged")
    again = deploy("deploy", str(folder), "--space", "me/unchanged")
    assert again.returncode == 0, again.stderr
    assert "no changes" in again.stderr and "no commit" in again.stderr
    assert emulator.commit_ids("me/unchanged") == commits
    assert url_line(again.stdout) == emulator.spaces["me/unchanged"].host


def test_a_variable_already_set_to_that_value_is_not_set_again(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    assert deploy("deploy", str(folder), "--space", "me/same-var", "--var", "LOG_LEVEL=debug").returncode == 0
    seen = len(emulator.requests)
    again = deploy("deploy", str(folder), "--space", "me/same-var", "--var", "LOG_LEVEL=debug")
    assert again.returncode == 0, again.stderr
    assert "set 1 variable" not in again.stderr and "no changes" in again.stderr
    assert not [p for m, p in emulator.requests[seen:] if m == "POST" and p.endswith("/variables")]
    changed = deploy("deploy", str(folder), "--space", "me/same-var", "--var", "LOG_LEVEL=info")
    assert changed.returncode == 0, changed.stderr
    assert "set 1 variable(s): LOG_LEVEL" in changed.stderr
    assert emulator.spaces["me/same-var"].variables["LOG_LEVEL"]["value"] == "info"


def test_a_file_deleted_locally_is_deleted_on_the_space(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    (folder / "app" / "extra.py").write_text("ANSWER = 42\n")
    assert deploy("deploy", str(folder), "--space", "me/mirror").returncode == 0
    assert "app/extra.py" in emulator.files("me/mirror")
    (folder / "app" / "extra.py").unlink()
    result = deploy("deploy", str(folder), "--space", "me/mirror")
    assert result.returncode == 0, result.stderr
    assert "app/extra.py" not in emulator.files("me/mirror")
    assert "1 deleted" in result.stderr


def test_dry_run_lists_the_plan_and_touches_nothing(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    requests_before = len(emulator.requests)
    result = deploy("deploy", str(folder), "--space", "me/dry", "--var", "A=1", "--secret", "API_KEY",
                    "--dry-run", env={"API_KEY": SECRET_VALUE})  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert "would create me/dry (sdk: docker)" in result.stdout
    assert "would set variables: A" in result.stdout and "would set secrets: API_KEY" in result.stdout
    assert "  + gunicorn.conf.py" in result.stdout
    assert "me/dry" not in emulator.spaces
    writes = [(m, p) for m, p in emulator.requests[requests_before:] if m not in ("GET", "HEAD")]
    assert writes == []


def test_a_folder_that_fails_to_build_exits_non_zero_with_doctors_diagnosis(deploy, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    dockerfile = (folder / "Dockerfile").read_text()
    (folder / "Dockerfile").write_text(dockerfile.replace('CMD ["gunicorn"', 'CMD ["no-such-server"'))
    result = deploy("deploy", str(folder), "--space", "me/broken-build")
    assert result.returncode == 1
    assert "me/broken-build: BUILD_ERROR on " in result.stderr  # the diagnosis, in place of a raw log tail
    assert "evidence: " in result.stderr and "no-such-server" in result.stderr
    # A first deploy: no revision passed before, so there is nothing to roll back to, and it says so.
    assert result.stderr.strip().splitlines()[-2] == (
        "error: me/broken-build: it ended in BUILD_ERROR; nothing to roll back to: "
        "no revision of it has passed a deploy's check yet"
    )


def test_an_app_that_crashes_at_start_shows_the_run_log_lines_of_its_error(deploy, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    result = deploy("deploy", str(folder), "--space", "me/crash", "--var", "LOG_LEVEL=loud")
    assert result.returncode == 1
    assert "me/crash: RUNTIME_ERROR on " in result.stderr
    assert 'invalid configuration: LOG_LEVEL="loud"' in result.stderr


def test_validation_errors_stop_the_deploy_unless_forced(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    # An error validate catches and the Hub does not: a secret's value baked into the image.
    dockerfile = folder / "Dockerfile"
    dockerfile.write_text(dockerfile.read_text() + "ENV API_TOKEN=not-a-real-token\n")
    refused = deploy("deploy", str(folder), "--space", "me/invalid")
    assert refused.returncode == 1
    assert "docker-secret" in refused.stderr
    assert "error: " in refused.stderr and "not deploying to me/invalid" in refused.stderr
    assert "me/invalid" not in emulator.spaces
    forced = deploy("deploy", str(folder), "--space", "me/invalid", "--force")
    assert forced.returncode == 0, forced.stderr
    assert "warning: deploying me/invalid despite 1 validation error(s) (--force)" in forced.stderr


@pytest.mark.parametrize(
    ("token", "args", "message"),
    [
        (None, ("deploy", "python-backend", "--space", "me/x"), "error: no Hugging Face token"),
        ("hf_unknown", ("deploy", "python-backend", "--space", "me/x"), "error: the Hub refused the token: 401"),
        (READ_KEY, ("deploy", "python-backend", "--space", "me/x"), "403 Forbidden"),
        (WRITE_KEY, ("status", "me/nothing-here"), "error: me/nothing-here or its owner me was not found: 404"),
        (WRITE_KEY, ("deploy", "python-backend", "--space", "no-slash"), "error: 'no-slash' is not a Space id"),
        (WRITE_KEY, ("status", "me/bad name"), "error: 'me/bad name' is not a Space id"),
    ],
)
def test_each_failure_a_user_can_cause_is_one_error_line(deploy, token, args, message):
    result = deploy(*args, token=token)
    assert result.returncode != 0
    assert message in result.stderr
    assert "Traceback" not in result.stderr
    assert [line for line in result.stderr.splitlines() if line.startswith("error:")] == [
        next(line for line in result.stderr.splitlines() if line.startswith("error:"))
    ]


def test_a_free_account_gets_402_explained_and_a_static_space_still_deploys(deploy, emulator, tmp_path):
    result = deploy("deploy", "python-backend", "--space", "poor/backend", token=FREE_KEY)
    assert result.returncode == 1
    assert "needs a paid plan" in result.stderr and "402 Payment Required" in result.stderr
    assert "static Space (`sdk: static`) is free" in result.stderr
    static = deploy("deploy", "frontend", "--space", "poor/dashboard", token=FREE_KEY)
    assert static.returncode == 0, static.stderr
    assert emulator.spaces["poor/dashboard"].sdk == "static"
    assert "index.html" in emulator.files("poor/dashboard")


def test_an_unreachable_hub_is_one_line(deploy):
    result = deploy("status", "me/x", env={"HF_ENDPOINT": "http://127.0.0.1:9"})
    assert result.returncode == 1
    assert result.stderr.startswith("error: cannot reach the Hub at http://127.0.0.1:9: ConnectError")


def test_status_shows_stage_hardware_url_commit(deploy, emulator, tmp_path):
    folder = copy_space("python-backend", tmp_path)
    assert deploy("deploy", str(folder), "--space", "me/status").returncode == 0
    result = deploy("status", "me/status", "--json")
    assert result.returncode == 0, result.stderr
    status = json.loads(result.stdout)
    assert status["stage"] == "RUNNING" and status["hardware"] == "cpu-basic"
    assert status["url"] == emulator.spaces["me/status"].host
    assert status["commit"] == emulator.commit_ids("me/status")[-1]
    anyone = deploy("status", "me/status", "--json", token=None)  # public: no token needed to read it
    assert anyone.returncode == 0, anyone.stderr
    assert json.loads(anyone.stdout) == status


def test_deploy_all_sends_each_folder_to_its_own_space_and_wires_them(deploy, emulator, tmp_path):
    for name in ("python-backend", "nodejs-backend", "frontend"):
        copy_space(name, tmp_path)
    plan = tmp_path / "spaces.toml"
    plan.write_text((ROOT / "spaces.toml").read_text())  # the frontend calls both backends
    result = deploy("deploy", "--all", "--config", str(plan), "--owner", "team", timeout=300)
    assert result.returncode == 0, result.stderr
    frontend = emulator.spaces["team/frontend"]
    assert frontend.sdk == "static"
    origin = frontend.host  # as the Hub reports it, https://team-frontend.static.hf.space
    assert origin == "https://team-frontend.static.hf.space"
    hosts = {name: emulator.spaces[f"team/{name}"].host for name in ("python-backend", "nodejs-backend")}
    assert len(set(hosts.values())) == 2
    for name, host in hosts.items():
        assert host in result.stdout
        assert requests.get(f"{host}/", timeout=10).json()["service"] == name
        # Each backend admits the frontend's origin, and deploy checked CORS from it.
        assert emulator.spaces[f"team/{name}"].variables["CORS_ORIGINS"]["value"] == origin
        answer = requests.get(f"{host}/health", headers={"Origin": origin}, timeout=10)
        assert answer.headers["Access-Control-Allow-Origin"] == origin
    assert f"cors preflight {origin}" in result.stdout and " fail " not in result.stdout
    # The frontend reads the backends' URLs (the Hub's: local ports here, not names) from spaces.json.
    assert json.loads(emulator.files("team/frontend")["spaces.json"]) == hosts
    assert (tmp_path / "frontend" / "spaces.json").read_text() == (ROOT / "frontend" / "spaces.json").read_text()
    # The frontend deployed on its own keeps that wiring: the same files, so no commit.
    commits = emulator.commit_ids("team/frontend")
    alone = deploy("deploy", str(tmp_path / "frontend"), "--config", str(plan), "--owner", "team")
    assert alone.returncode == 0, alone.stderr
    assert "no changes" in alone.stderr and emulator.commit_ids("team/frontend") == commits


@pytest.mark.parametrize("visibility", ["private", "protected"])
def test_visibility_options_create_the_space_so(deploy, emulator, visibility):
    result = deploy("deploy", "frontend", "--space", f"me/dashboard-{visibility}", f"--{visibility}")
    assert result.returncode == 0, result.stderr
    assert emulator.spaces[f"me/dashboard-{visibility}"].visibility == visibility


def test_private_and_protected_exclude_each_other(deploy):
    result = deploy("deploy", "frontend", "--space", "me/x", "--private", "--protected")
    assert result.returncode == 1
    assert result.stderr.startswith("error: --private and --protected exclude each other")


def test_no_secret_value_appears_in_any_output_log_or_uploaded_file(deploy, emulator, outputs, tmp_path):
    """After every deploy of this module (it runs last), and one more that fails with the secret set:
    the value is on the emulated Hub as a secret, and nowhere else."""
    folder = copy_space("python-backend", tmp_path)
    (folder / "Dockerfile").write_text((folder / "Dockerfile").read_text().replace('CMD ["gunicorn"', 'CMD ["nope"'))
    failed = deploy("deploy", str(folder), "--space", "me/secret-scan", "--secret", "API_KEY",
                    env={"API_KEY": SECRET_VALUE})  # fmt: skip
    assert failed.returncode == 1
    assert emulator.spaces["me/secret-scan"].secret_values["API_KEY"] == SECRET_VALUE  # it was really sent
    assert len(outputs) > 10
    for output in outputs:
        assert SECRET_VALUE not in output
    for space in emulator.spaces.values():
        logs = "\n".join(line for buffer in (space.build_log, space.run_log) for _, line in buffer.lines)
        assert SECRET_VALUE not in logs, space.id
        for path, content in emulator.files(space.id).items():
            assert SECRET_VALUE.encode() not in content, (space.id, path)
