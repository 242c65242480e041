"""The Hub emulator, driven by the real huggingface_hub client (HfApi) over real sockets.

Every call here is the unmodified client against `HubEmulator.url`: if the emulator's
answers drift from the shapes the client parses, these fail. Spaces are run by the
ProcessRunner (local processes on free ports) and, where a Docker engine answers, by the
DockerRunner.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from huggingface_hub import HfApi, constants
from huggingface_hub.utils import HfHubHTTPError, RepositoryNotFoundError

from tests import docker
from tests.hub_emulator import DockerRunner, HubEmulator, User
from tests.json_app import app_source

ROOT = Path(__file__).resolve().parents[2]
# Access tokens the emulator knows (named *_KEY: they are fixtures, not credentials).
WRITE_KEY = "hf_emulator_write_token"
UNKNOWN_KEY = "hf_not_a_known_token"
READ_KEY = "hf_emulator_read_token"
FREE_KEY = "hf_emulator_free_token"
BUILD_STAGES = {"BUILDING", "RUNNING_BUILDING"}
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}

APP = app_source(
    '{"greeting": os.environ.get("GREETING"), "secret_set": bool(os.environ.get("API_KEY")), '
    '"space_id": os.environ.get("SPACE_ID"), "space_host": os.environ.get("SPACE_HOST"), "uid": os.getuid()}'
)


def write_space(folder: Path, dockerfile: str | None = 'FROM python:3.12-slim\nCMD ["python3", "app.py"]\n') -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "README.md").write_text("---\ntitle: Demo\nsdk: docker\napp_port: 7860\n---\n\n# Demo\n")
    (folder / "app.py").write_text(APP)
    if dockerfile is not None:
        (folder / "Dockerfile").write_text(dockerfile)
    return folder


def get(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


def settle(api: HfApi, space_id: str, timeout: float = 30) -> tuple[list[str], dict]:
    """After a commit: wait for a build stage (the runtime lags), then a terminal stage."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    built = False
    while time.monotonic() < deadline:
        runtime = api.get_space_runtime(space_id)
        if not seen or seen[-1] != runtime.stage:
            seen.append(runtime.stage)
        built = built or runtime.stage in BUILD_STAGES
        if built and runtime.stage not in BUILD_STAGES | {"APP_STARTING", "RUNNING_APP_STARTING"}:
            return seen, runtime.raw
        time.sleep(0.05)
    raise AssertionError(f"{space_id} did not settle: stages seen {seen}")


def wait_stage(api: HfApi, space_id: str, stages: set[str], timeout: float = 30) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        runtime = api.get_space_runtime(space_id)
        if runtime.stage in stages:
            return runtime.raw
        time.sleep(0.05)
    raise AssertionError(f"{space_id} never reached {stages}: last {runtime.stage}")


@pytest.fixture(autouse=True)
def client_on_loopback(monkeypatch, tmp_path):
    """2.x clients fetch {constants.ENDPOINT}/api/agent-harnesses on their own and cache it under
    HF_HOME: point that at loopback (the `hub` fixture: at the emulator) and a temporary file."""
    monkeypatch.setattr(constants, "ENDPOINT", "http://127.0.0.1:9")
    monkeypatch.setattr(constants, "AGENT_HARNESSES_PATH", str(tmp_path / "agent_harnesses.json"))


@pytest.fixture
def hub(monkeypatch):
    users = [
        User("me", WRITE_KEY, orgs=("acme",)),
        User("me", READ_KEY, role="read", orgs=("acme",)),
        User("poor", FREE_KEY, free=True, orgs=("cheap-org",)),
    ]
    with HubEmulator(users, free_accounts=["cheap-org"], commit_lag=0.3, startup_timeout=20) as emulator:
        monkeypatch.setattr(constants, "ENDPOINT", emulator.url)
        yield emulator


@pytest.fixture
def api(hub) -> HfApi:
    return HfApi(endpoint=hub.url, token=WRITE_KEY)


@pytest.fixture
def space(api) -> str:
    api.create_repo("me/demo", repo_type="space", space_sdk="docker")
    return "me/demo"


# --- accounts and repositories ----------------------------------------------------


def test_whoami_names_the_token_user_its_orgs_and_role(hub, api):
    me = api.whoami()
    assert me["type"] == "user" and me["name"] == "me"
    assert [org["name"] for org in me["orgs"]] == ["acme"]
    assert me["auth"]["accessToken"]["role"] == "write"
    assert HfApi(endpoint=hub.url, token=READ_KEY).whoami()["auth"]["accessToken"]["role"] == "read"


def test_a_bad_token_gets_401_invalid_credentials(hub):
    bad = HfApi(endpoint=hub.url, token=UNKNOWN_KEY)
    with pytest.raises(HfHubHTTPError) as whoami:
        bad.whoami()
    assert whoami.value.response.status_code == 401
    with pytest.raises(HfHubHTTPError) as create:
        bad.create_repo("me/x", repo_type="space", space_sdk="docker")
    assert create.value.response.status_code == 401
    assert "Invalid credentials in Authorization header" in str(create.value)


def test_create_docker_space_then_exist_ok_swallows_the_409(api):
    url = api.create_repo("me/demo", repo_type="space", space_sdk="docker", private=True)
    assert url.repo_id == "me/demo" and url.repo_type == "space"
    with pytest.raises(HfHubHTTPError) as again:
        api.create_repo("me/demo", repo_type="space", space_sdk="docker")
    assert again.value.response.status_code == 409
    assert api.create_repo("me/demo", repo_type="space", space_sdk="docker", exist_ok=True).repo_id == "me/demo"
    info = api.space_info("me/demo")
    assert info.sdk == "docker" and info.private is True and info.subdomain == "me-demo"
    assert sorted(api.list_repo_files("me/demo", repo_type="space")) == [".gitattributes", "README.md"]
    assert api.get_space_runtime("me/demo").stage == "NO_APP_FILE"


def test_a_free_account_gets_402_naming_the_paid_plan_but_may_create_static_spaces(hub):
    poor = HfApi(endpoint=hub.url, token=FREE_KEY)
    for repo_id, plan in (("poor/app", "PRO"), ("cheap-org/app", "Team or Enterprise")):
        with pytest.raises(HfHubHTTPError) as paid:
            poor.create_repo(repo_id, repo_type="space", space_sdk="docker", exist_ok=True)
        assert paid.value.response.status_code == 402
        assert "requires a paid plan" in str(paid.value) and plan in str(paid.value)
    assert poor.create_repo("poor/site", repo_type="space", space_sdk="static").repo_id == "poor/site"
    assert poor.get_space_runtime("poor/site").stage == "RUNNING"


def test_an_existing_docker_space_still_deploys_after_its_owner_went_free(hub, api, tmp_path):
    api.create_repo("me/kept", repo_type="space", space_sdk="docker")
    hub.free_accounts.add("me")
    assert api.whoami()["isPro"] is False
    with pytest.raises(HfHubHTTPError) as paid:
        api.create_repo("me/new", repo_type="space", space_sdk="docker")
    assert paid.value.response.status_code == 402
    # the Hub answers 402 before it looks for the repo; exist_ok then finds the existing Space
    assert api.create_repo("me/kept", repo_type="space", space_sdk="docker", exist_ok=True).repo_id == "me/kept"
    commit = api.upload_folder(repo_id="me/kept", folder_path=write_space(tmp_path / "space"), repo_type="space")
    assert api.space_info("me/kept").sha == commit.oid


def test_writes_need_a_write_token_and_a_namespace_the_user_belongs_to(hub, api, space):
    with pytest.raises(HfHubHTTPError) as foreign:
        api.create_repo("someone-else/app", repo_type="space", space_sdk="docker")
    assert foreign.value.response.status_code == 403
    read_only = HfApi(endpoint=hub.url, token=READ_KEY)
    with pytest.raises(HfHubHTTPError) as read:
        read_only.add_space_variable(space, "MODE", "x")
    assert read.value.response.status_code == 403
    assert api.create_repo("acme/app", repo_type="space", space_sdk="docker").repo_id == "acme/app"


def test_a_private_space_is_not_found_without_a_token_of_its_owner(hub, api):
    api.create_repo("me/secret-app", repo_type="space", space_sdk="docker", private=True)
    for client in (HfApi(endpoint=hub.url, token=False), HfApi(endpoint=hub.url, token=FREE_KEY)):
        with pytest.raises(RepositoryNotFoundError):
            client.space_info("me/secret-app")
    assert api.space_info("me/secret-app").private is True


# --- uploads ----------------------------------------------------------------------


def test_upload_folder_commits_the_files_and_the_tree_lists_them(hub, api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / "static").mkdir()
    (folder / "static" / "index.html").write_text("<p>hi</p>\n")
    commit = api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    tree = {entry.path: entry for entry in api.list_repo_tree(space, repo_type="space", recursive=True)}
    assert {".gitattributes", "README.md", "Dockerfile", "app.py", "static", "static/index.html"} == set(tree)
    assert tree["app.py"].size == len(APP.encode()) and len(tree["app.py"].blob_id) == 40
    info = api.space_info(space, files_metadata=True)
    assert info.sha == commit.oid and info.card_data.app_port == 7860
    assert {sibling.rfilename: sibling.blob_id for sibling in info.siblings}["app.py"] == tree["app.py"].blob_id
    # with hf_xet installed the client takes the streamed pipeline, which still ends in preupload + commit
    assert ("POST", f"/api/spaces/{space}/preupload/main") in hub.requests
    assert ("POST", f"/api/spaces/{space}/commit/main") in hub.requests


def test_uploading_an_unchanged_folder_makes_no_new_commit(hub, api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    first = api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    second = api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    assert second.oid == first.oid
    assert len(hub.commit_ids(space)) == 2  # the initial commit and the upload


def test_delete_patterns_remove_a_file_deleted_locally_but_keep_gitattributes(hub, api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / "old.txt").write_text("stale\n")
    api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    (folder / "old.txt").unlink()
    api.upload_folder(repo_id=space, folder_path=folder, repo_type="space", delete_patterns="*")
    files = api.list_repo_files(space, repo_type="space")
    assert "old.txt" not in files and ".gitattributes" in files and "app.py" in files


def test_a_gitignore_in_the_folder_keeps_its_files_out_of_the_space(hub, api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / ".gitignore").write_text(".env\nbuild/\n")
    (folder / ".env").write_text("API_KEY=local\n")
    (folder / "build").mkdir()
    (folder / "build" / "out.txt").write_text("artefact\n")
    api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    assert {".env", "build/out.txt"}.isdisjoint(hub.files(space)) and ".gitignore" in hub.files(space)


def test_an_invalid_front_matter_is_refused_by_validate_yaml(api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / "README.md").write_text("---\nsdk: [docker\n---\n")
    with pytest.raises(ValueError, match=r"Invalid metadata in README\.md"):
        api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")


def test_a_binary_file_fails_clearly_because_the_emulator_stores_no_lfs(api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR")
    with pytest.raises(Exception, match=r"501 Not Implemented|stores no LFS/Xet") as failure:
        api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    assert getattr(failure.value, "response", None) is None or failure.value.response.status_code == 501


# --- settings ---------------------------------------------------------------------


def test_variables_and_secrets_round_trip_and_secret_values_are_never_returned(hub, api):
    api.create_repo(
        "me/configured",
        repo_type="space",
        space_sdk="docker",
        space_variables=[{"key": "GREETING", "value": "hello"}],
        space_secrets=[{"key": "API_KEY", "value": "s3cr3t-created"}],
    )
    assert api.add_space_variable("me/configured", "MODE", "prod", description="run mode")["MODE"].value == "prod"
    variables = api.get_space_variables("me/configured")
    assert {key: var.value for key, var in variables.items()} == {"GREETING": "hello", "MODE": "prod"}
    assert variables["MODE"].description == "run mode" and variables["MODE"].updated_at is not None
    assert "MODE" not in api.delete_space_variable("me/configured", "MODE")

    api.add_space_secret("me/configured", "OTHER_KEY", "s3cr3t-added")
    secrets = api.get_space_secrets("me/configured")
    assert set(secrets) == {"API_KEY", "OTHER_KEY"}
    request = urllib.request.Request(
        f"{hub.url}/api/spaces/me/configured/secrets", headers={"Authorization": f"Bearer {WRITE_KEY}"}
    )
    with urllib.request.urlopen(request, timeout=5) as response:
        raw = response.read().decode()
    assert "s3cr3t" not in raw and "API_KEY" in raw
    api.delete_space_secret("me/configured", "OTHER_KEY")
    assert set(api.get_space_secrets("me/configured")) == {"API_KEY"}


# --- the Space lifecycle ------------------------------------------------------------


def test_after_a_commit_the_runtime_lags_then_builds_then_runs_and_the_host_answers(hub, api, tmp_path):
    api.create_repo(
        "me/live",
        repo_type="space",
        space_sdk="docker",
        space_variables=[{"key": "GREETING", "value": "hello"}],
        space_secrets=[{"key": "API_KEY", "value": "s3cr3t"}],
    )
    api.upload_folder(repo_id="me/live", folder_path=write_space(tmp_path / "space"), repo_type="space")
    seen, runtime = settle(api, "me/live")
    assert seen[0] == "NO_APP_FILE", "right after the commit the runtime still reports the previous stage"
    assert "BUILDING" in seen and runtime["stage"] == "RUNNING", seen
    info = api.space_info("me/live")
    assert info.host.startswith("http://127.0.0.1:") and info.runtime.stage == "RUNNING"
    assert runtime["domains"][0]["domain"] == info.host.removeprefix("http://")
    status, body = get(info.host + "/")
    app = json.loads(body)
    assert status == 200
    assert app == {
        **app,
        "greeting": "hello",
        "secret_set": True,
        "space_id": "me/live",
        "space_host": "me-live.hf.space",
    }
    assert any("resolves to" in line for line in api.fetch_space_logs("me/live", build=True))

    # A second commit while it runs: the old app serves until the new one starts.
    (tmp_path / "space" / "NOTES.md").write_text("v2\n")
    api.upload_folder(repo_id="me/live", folder_path=tmp_path / "space", repo_type="space")
    seen, runtime = settle(api, "me/live")
    assert seen[0] == "RUNNING" and "RUNNING_BUILDING" in seen and runtime["stage"] == "RUNNING", seen
    assert get(api.space_info("me/live").host + "/")[0] == 200


def test_a_command_that_exits_at_once_ends_in_runtime_error_with_its_output_in_the_run_logs(api, space, tmp_path):
    dockerfile = (
        'FROM python:3.12-slim\nCMD ["python3", "-c", "import sys; print(\'no config, giving up\'); sys.exit(3)"]\n'
    )
    api.upload_folder(repo_id=space, folder_path=write_space(tmp_path / "space", dockerfile), repo_type="space")
    seen, runtime = settle(api, space)
    assert runtime["stage"] == "RUNTIME_ERROR", seen
    assert runtime["errorMessage"].startswith("Exit code: 3")
    assert list(api.fetch_space_logs(space)) == ["no config, giving up\n"]


def test_a_space_without_a_dockerfile_is_no_app_file(api, tmp_path):
    api.create_repo("me/static-first", repo_type="space", space_sdk="static")
    assert api.get_space_runtime("me/static-first").stage == "RUNNING"
    api.upload_folder(repo_id="me/static-first", folder_path=write_space(tmp_path / "space", None), repo_type="space")
    assert wait_stage(api, "me/static-first", {"NO_APP_FILE"})["stage"] == "NO_APP_FILE"


def test_a_front_matter_that_is_no_valid_space_config_is_config_error(api, space, tmp_path):
    folder = write_space(tmp_path / "space")
    (folder / "README.md").write_text("---\nsdk: docker\napp_port: web\n---\n")
    api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    runtime = wait_stage(api, space, {"CONFIG_ERROR"})
    assert "app_port" in runtime["errorMessage"]


def test_a_command_that_does_not_resolve_is_build_error_with_the_reason_in_the_build_logs(api, space, tmp_path):
    folder = write_space(tmp_path / "space", 'FROM python:3.12-slim\nCMD ["no-such-server", "--port", "7860"]\n')
    api.upload_folder(repo_id=space, folder_path=folder, repo_type="space")
    seen, runtime = settle(api, space)
    assert runtime["stage"] == "BUILD_ERROR" and "no-such-server" in runtime["errorMessage"], seen
    assert any("no-such-server" in line and "not found" in line for line in api.fetch_space_logs(space, build=True))


def test_restart_stops_and_restarts_the_app_and_stop_ends_every_space(hub, api, space, tmp_path):
    api.upload_folder(repo_id=space, folder_path=write_space(tmp_path / "space"), repo_type="space")
    settle(api, space)
    before = api.space_info(space).host
    assert api.restart_space(space).stage in BUILD_STAGES
    seen, runtime = settle(api, space)
    after = api.space_info(space).host
    assert runtime["stage"] == "RUNNING" and after != before, seen
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        get(before + "/")
    assert get(after + "/")[0] == 200
    hub.stop()
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        get(after + "/")


def test_a_variable_change_restarts_a_running_space_with_the_new_value(api, space, tmp_path):
    api.upload_folder(repo_id=space, folder_path=write_space(tmp_path / "space"), repo_type="space")
    settle(api, space)
    api.add_space_variable(space, "GREETING", "bonjour")
    settle(api, space)
    assert json.loads(get(api.space_info(space).host + "/")[1])["greeting"] == "bonjour"


# --- the other client path, and the emulator on its own ------------------------------

CLIENT_SCRIPT = """
import os, sys
from huggingface_hub import HfApi
from huggingface_hub.utils._runtime import is_xet_available
api = HfApi()
api.create_repo("me/no-xet", repo_type="space", space_sdk="docker", exist_ok=True)
first = api.upload_folder(repo_id="me/no-xet", folder_path=sys.argv[1], repo_type="space")
second = api.upload_folder(repo_id="me/no-xet", folder_path=sys.argv[1], repo_type="space")
print(is_xet_available(), first.oid == second.oid, sorted(api.list_repo_files("me/no-xet", repo_type="space")))
"""


def client_env(url: str, tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("HF_", "HUGGING"))}
    return {**env, "HF_ENDPOINT": url, "HF_TOKEN": WRITE_KEY, "HF_HOME": str(tmp_path / "hf-home"), **extra}


def test_without_xet_the_client_takes_create_commit_and_validates_the_card(hub, tmp_path):
    folder = write_space(tmp_path / "space")
    result = subprocess.run(
        [sys.executable, "-c", CLIENT_SCRIPT, str(folder)],
        env=client_env(hub.url, tmp_path, HF_HUB_DISABLE_XET="1"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[0] == "False True ['.gitattributes', 'Dockerfile', 'README.md', 'app.py']"
    calls = [(method, path) for method, path in hub.requests if "no-xet" in path or path.startswith("/api/valid")]
    commits = calls.count(("POST", "/api/spaces/me/no-xet/commit/main"))
    assert commits == 1 and ("POST", "/api/validate-yaml") in calls
    assert ("GET", "/api/agent-harnesses") in hub.requests  # HF_ENDPOINT at import: the client asks us, not the Hub
    assert WRITE_KEY not in result.stdout + result.stderr


def test_the_module_runs_standalone_and_serves_the_client(tmp_path):
    server = subprocess.Popen(
        [sys.executable, "-m", "tests.hub_emulator", "--token", WRITE_KEY, "--user", "alice", "--commit-lag", "0"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        url = server.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:"), server.stderr.read() if server.poll() is not None else url
        script = "from huggingface_hub import HfApi; print(HfApi().whoami()['name'])"
        result = subprocess.run(
            [sys.executable, "-c", script],
            env=client_env(url, tmp_path),
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.stdout.strip() == "alice", result.stderr[-2000:]
    finally:
        server.terminate()
        assert server.wait(15) == 0
    assert WRITE_KEY not in server.stdout.read() + server.stderr.read()


# --- DockerRunner ---------------------------------------------------------------------


def python_base() -> str:
    """The Python base the python-backend Space builds on here (official, or the local stand-in)."""
    problem = docker.engine_problem()
    if problem:
        if IN_CI:
            pytest.fail(f"DockerRunner tests need a Docker engine: {problem}")
        pytest.skip(f"no Docker engine: {problem}")
    try:
        return docker.base_image("python-backend")
    except RuntimeError as error:
        if IN_CI:
            raise
        pytest.skip(str(error))


DOCKERFILE = """\
ARG BASE=python:3.13-slim-trixie
FROM ${BASE}
WORKDIR /app
COPY --chown=1000:1000 app.py /app/app.py
USER 1000
CMD ["python3", "app.py"]
"""


def test_docker_runner_builds_the_image_and_runs_it_as_uid_1000_on_loopback(tmp_path):
    base = python_base()
    with HubEmulator({WRITE_KEY: "me"}, space_runner=DockerRunner({"BASE": base}), commit_lag=0.1) as hub:
        api = HfApi(endpoint=hub.url, token=WRITE_KEY)
        api.create_repo(
            "me/boxed",
            repo_type="space",
            space_sdk="docker",
            space_variables=[{"key": "GREETING", "value": "hi"}],
            space_secrets=[{"key": "API_KEY", "value": "s3cr3t-build"}],
        )
        # at build time variables are build args and secrets only mounts, as on the platform
        dockerfile = DOCKERFILE.replace(
            "WORKDIR /app",
            'ARG GREETING\nRUN echo "build arg GREETING=$GREETING"\n'
            "RUN --mount=type=secret,id=API_KEY test -s /run/secrets/API_KEY && echo build-secret-mounted\n"
            "WORKDIR /app",
        )
        folder = write_space(tmp_path / "space", dockerfile)
        api.upload_folder(repo_id="me/boxed", folder_path=folder, repo_type="space")
        seen, runtime = settle(api, "me/boxed", timeout=100)
        assert runtime["stage"] == "RUNNING", (seen, runtime)
        app = json.loads(get(api.space_info("me/boxed").host + "/")[1])
        assert app["uid"] == 1000 and app["greeting"] == "hi" and app["space_id"] == "me/boxed"
        build_log = "".join(api.fetch_space_logs("me/boxed", build=True))
        assert "docker build me/boxed" in build_log and "COPY" in build_log
        assert "build arg GREETING=hi" in build_log and "build-secret-mounted" in build_log
        assert "s3cr3t-build" not in build_log and app["secret_set"] is True


def test_docker_runner_turns_a_failed_build_into_build_error_with_the_real_build_log(tmp_path):
    base = python_base()
    broken = DOCKERFILE.replace("WORKDIR /app", "RUN echo 'about to fail' && exit 7\nWORKDIR /app")
    with HubEmulator({WRITE_KEY: "me"}, space_runner=DockerRunner({"BASE": base}), commit_lag=0.1) as hub:
        api = HfApi(endpoint=hub.url, token=WRITE_KEY)
        api.create_repo("me/broken", repo_type="space", space_sdk="docker")
        api.upload_folder(repo_id="me/broken", folder_path=write_space(tmp_path / "space", broken), repo_type="space")
        seen, runtime = settle(api, "me/broken", timeout=100)
        assert runtime["stage"] == "BUILD_ERROR" and "exit code" in runtime["errorMessage"], (seen, runtime)
        assert any("about to fail" in line for line in api.fetch_space_logs("me/broken", build=True))


def test_the_emulator_docstring_names_every_route_it_serves():
    from tests.hub_emulator import server

    documented = server.__doc__ or ""
    for fragment in (
        "whoami-v2",
        "agent-harnesses",
        "validate-yaml",
        "repos/create",
        "preupload",
        "commit/{rev}",
        "tree/{rev}",
        "secrets",
        "variables",
        "runtime",
        "restart",
        "pause",
        "logs/build",
        "resolve",
    ):
        assert fragment in documented, fragment
    assert "departs from the real Hub" in documented
