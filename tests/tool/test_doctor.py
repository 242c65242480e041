"""`hfspace doctor`: every cause it names, recognised from a state seeded in the Hub emulator and read
through the real huggingface_hub client.

Each state is built from an excerpt of a real failing Space (the error message the Hub showed,
or the lines its log held), cited beside it. Where no public report kept the exact text (a
localhost bind in a Hub run log, a restart loop), the test says so and uses the server's own
start-up line.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner

from hfspace import doctor
from hfspace.cli import app
from tests.hub_emulator import HubEmulator, User
from tests.tool.servers import Space as HealthySpace
from tests.tool.servers import serve

ROOT = Path(__file__).resolve().parents[2]
KEY = "hf_doctor_test_key"
CARD = "---\ntitle: Doctor\nsdk: docker\napp_port: 7860\n---\n"
GOOD_DOCKERFILE = (
    "FROM python:3.13-slim\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /home/user/app\n"
    'COPY --chown=user app.py .\nCMD ["gunicorn", "-b", "0.0.0.0:7860", "app:app"]\n'
)
FILES = {"README.md": CARD, "Dockerfile": GOOD_DOCKERFILE, "app.py": "app = None\n"}
STARTUP = "===== Application Startup at 2025-10-10 10:45:33 ====="
QUEUED = "===== Build Queued at 2025-04-03 01:39:30 / Commit SHA: 59f0ef5 ====="


@pytest.fixture(scope="module")
def hub():
    with HubEmulator([User("me", KEY, "write")]) as running:
        yield running


@pytest.fixture
def run_doctor(hub, tmp_path):
    def run(space_id: str, *args: str):
        env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": KEY, "HF_HOME": str(tmp_path / "hf-home")}
        result = CliRunner().invoke(app, ["doctor", space_id, *args], env=env)
        return result

    return run


def diagnosed(run_doctor, space_id: str) -> tuple[int, dict]:
    result = run_doctor(space_id, "--json")
    assert result.exception is None or isinstance(result.exception, SystemExit), repr(result.exception)
    return result.exit_code, json.loads(result.stdout)


# (cause id, owner, exit code, what the emulator is seeded with). Every error message and log
# line below is quoted from the public report in the comment above it.
CASES = [
    # github.com/PantoMatrix/PantoMatrix/issues/218
    ("scheduling-failure", "platform", 3, {
        "stage": "RUNTIME_ERROR", "error": "Scheduling failure: unable to schedule", "hardware": "t4-small",
    }),
    # github.com/jwkirchenbauer/lm-watermarking/issues/13 (the older wording)
    ("scheduling-failure", "platform", 3, {
        "stage": "RUNTIME_ERROR", "error": "Scheduling failure: not enough hardware capacity", "hardware": "a10g-small",
    }),
    # github.com/KyanChen/RSPrompter/issues/105 (no log lines: nothing says why)
    ("launch-timeout", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Launch timed out, workload was not healthy after 30 min",
    }),
    # github.com/UX-Decoder/Segment-Everything-Everywhere-All-At-Once/issues/75 (2023 wording); no Hub run
    # log with a loopback line was found: the line is uvicorn's own start-up line.
    ("bound-to-localhost", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Launch timed out, space was not healthy after 30 min",
        "run_log": [STARTUP, "INFO:     Uvicorn running on http://127.0.0.1:7860 (Press CTRL+C to quit)"],
    }),
    # github.com/xLmiler/grok2api_python/issues/72 (Flask on 3000 while app_port is 7860)
    ("wrong-port", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Launch timed out, workload was not healthy after 30 min",
        "run_log": [STARTUP, " * Serving Flask app 'app'", " * Debug mode: off", " * Running on all addresses (0.0.0.0)",
                    " * Running on http://127.0.0.1:3000", " * Running on http://10.108.100.56:3000"],
    }),
    # huggingface.co/spaces/multimodalart/dreambooth-training/discussions/56
    ("launch-timeout-listening", "platform", 3, {
        "stage": "RUNTIME_ERROR", "error": "Launch timed out, space was not healthy after 30 min",
        "run_log": ["Running on local URL:  http://0.0.0.0:7860", "", "To create a public link, set `share=True` in `launch()`."],
    }),
    # github.com/modelscope/facechain/issues/560 (models downloaded at wake-up)
    ("slow-start", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Launch timed out, workload was not healthy after 30 min",
        "run_log": [STARTUP, "Downloading (…)model.safetensors:  37%|███▋      | 1.2G/3.3G [29:41<52:00, 671kB/s]"],
    }),
    # github.com/mhrice/RemFx/issues/47
    ("memory-limit", "space", 1, {"stage": "RUNTIME_ERROR", "error": "Memory limit exceeded (16Gi)"}),
    # huggingface.co/spaces/Xintao/GFPGAN/discussions/40
    ("memory-limit", "space", 1, {"stage": "RUNTIME_ERROR", "error": "Space failed. Exit code: 137"}),
    # github.com/Cinnamon/kotaemon/issues/725
    ("build-out-of-memory", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 137",
        "build_log": [QUEUED, "", "--> FROM ghcr.io/cinnamon/kotaemon:main-lite@sha256:80dc9b3e", "DONE 5.9s"],
    }),
    # huggingface.co/spaces/nvidia/Cosmos-Predict2/discussions/2
    ("storage-evicted", "space", 1, {"stage": "RUNTIME_ERROR", "error": "Workload evicted, storage limit exceeded (50G)"}),
    # huggingface.co/spaces/luguog/Gucci23
    ("permission-denied", "space", 1, {
        "stage": "RUNTIME_ERROR",
        "error": 'Exit code: 1. Reason: Traceback (most recent call last): File "/home/user/app/app.py", line 10, in '
        "<module> SAFE_DIR.mkdir(parents=True, exist_ok=True) PermissionError: [Errno 13] Permission denied: '/sandbox'",
    }),
    # github.com/OHF-Voice/wyoming-faster-whisper/issues/27 (not seen on a Space: the Python wording)
    ("read-only-filesystem", "space", 1, {
        "stage": "RUNTIME_ERROR", "run_log": [STARTUP, "OSError: [Errno 30] Read-only file system: '/nonexistent'"],
        "error": "Exit code: 1. Reason: OSError",
    }),
    # huggingface.co/spaces/DenviWorking/Unit4-Final-Certificate
    ("missing-variable", "space", 1, {
        "stage": "RUNTIME_ERROR",
        "error": 'Exit code: 1. Reason: Traceback (most recent call last): File "/home/user/app/app.py", line 10, in '
        '<module> login(token=os.environ["HUGGINGFACE_TOKEN"]) File "/usr/local/lib/python3.10/os.py", line 680, in '
        "__getitem__ raise KeyError(key) from None KeyError: 'HUGGINGFACE_TOKEN'",
    }),
    # huggingface.co/spaces/tudeplom/vits-tts
    ("missing-variable", "space", 1, {
        "stage": "RUNTIME_ERROR",
        "error": 'Exit code: 1. Reason: Traceback (most recent call last): File "/home/user/app/app.py", line 12, in '
        '<module> raise ValueError("Missing HF_API_KEY. Add it to Hugging Face Spaces Secrets.") ValueError: Missing '
        "HF_API_KEY. Add it to Hugging Face Spaces Secrets.",
    }),
    # github.com/fodorad/BlinkLinMulT/pull/17
    ("dependency-install", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1",
        "build_log": [QUEUED, "--> RUN pip install --no-cache-dir -r requirements.txt",
                      "ERROR: Package 'blinklinmult' requires a different Python: 3.10.13 not in '>=3.11'"],
    }),
    # github.com/google-deepmind/alphageometry/issues/62 (pip's wording)
    ("dependency-install", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1. Reason: cache miss: [4/5] RUN pip install",
        "build_log": ["ERROR: No matching distribution found for array-record==0.4.1 (from -r requirements.txt (line 28))"],
    }),
    # github.com/codegenieapp/serverless-express/issues/665 (npm's wording)
    ("dependency-install", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1",
        "build_log": ["npm ERR! code E404", "npm ERR! 404 Not Found - GET https://registry.npmjs.org/@codegenie%2fserverless-express - Not found"],
    }),
    # github.com/TUMcps/human-robot-gym/issues/10
    ("apt-package-missing", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 100",
        "build_log": ["Package libgl1-mesa-glx is not available, but is referred to by another package.",
                      "E: Package 'libgl1-mesa-glx' has no installation candidate"],
    }),
    # github.com/genepi/cloudgene/issues/89 (BuildKit's wording)
    ("copy-missing", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1",
        "build_log": ['failed to compute cache key: "/target/cloudgene-installer.sh" not found: not found'],
    }),
    # huggingface.co/spaces/Menouar/LLM-FineTuning-Notebook-Generator/discussions/1
    ("lfs-mount-failure", "platform", 3, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1",
        "build_log": ["--> RUN apt-get update && apt-get install -y git git-lfs ffmpeg",
                      'error: failed to solve: failed to compute cache key: failed to calculate checksum of ref '
                      'ugky7fdezfheexz3rob6xewua::xcsnvnbcspfmapymn9uzemz1i: "/.lfs.hf.co": not found'],
    }),
    # github.com/livebook-dev/livebook/issues/2985 (the literal text: github.com/VishalJ99/claude-docker/pull/5)
    ("uid-taken", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 4",
        "build_log": [" ---> Running in 222fc664bdf3", "useradd: UID 1000 is not unique"],
    }),
    # github.com/huggingface/datasets/issues/7530
    ("build-platform-error", "platform", 3, {
        "stage": "BUILD_ERROR", "error": "Unexpected job error",
        "build_log": ["ERROR: failed to push spaces-registry.huggingface.tech/spaces/*:cpu-*-*: unexpected status from "
                      "HEAD request to https://spaces-registry.huggingface.tech/v2/spaces/*/manifests/cpu-*-*: 401 Unauthorized"],
    }),
    # github.com/huggingface/huggingface_hub/issues/3452 (no build logs at all), queued for two hours
    ("build-stuck", "platform", 3, {"stage": "BUILDING", "build_log": [QUEUED], "committed_minutes_ago": 120}),
    # huggingface.co/spaces/luoyawen/Docker
    ("command-not-found", "space", 1, {
        "stage": "RUNTIME_ERROR",
        "error": "Space failed to start. Exit code: 128. Reason: failed to create containerd task: failed to create shim "
        "task: OCI runtime create failed: runc create failed: unable to start container process: exec: \"uvicorn\": "
        "executable file not found in $PATH: unknown",
    }),
    # huggingface.co/spaces/imageomics/drexel_metadata_app/discussions/1; github.com/pablovela5620/mini-dust3r/issues/8
    ("container-start-failure", "platform", 3, {
        "stage": "RUNTIME_ERROR",
        "error": "Exit code: 128. Reason: failed to create containerd task: failed to create shim task: context canceled",
    }),
    # huggingface.co/spaces/Aakarsh14n/llama-fine-tune-with-chat
    ("module-missing", "space", 1, {
        "stage": "RUNTIME_ERROR",
        "error": "Exit code: 1. Reason: Traceback (most recent call last): ModuleNotFoundError: No module named 'transformers'",
    }),
    # huggingface.co/spaces/Irfshaikh/Final_Agents_Course_Assignment/discussions/1
    ("exited-without-serving", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Exit code: 0. Reason: application does not seem to be initialized",
    }),
    # No public report kept a whole run log of a crash loop: the banner is the Hub's (forum thread
    # /t/permission-denied-when-writing-to-local-directory-even-after-factory-rebuild/169093), twice.
    ("restart-loop", "space", 1, {
        "stage": "RUNTIME_ERROR", "error": "Exit code: 1. Reason: RuntimeError: boom",
        "run_log": [STARTUP, "RuntimeError: boom", "===== Application Startup at 2025-10-10 10:47:02 =====", "RuntimeError: boom"],
    }),
    # huggingface.co/spaces/panda47/pp
    ("config-error", "space", 1, {
        "stage": "CONFIG_ERROR", "error": "missing field `sdk`",
        "files": {"README.md": "---\ntitle: No sdk\n---\n", "Dockerfile": GOOD_DOCKERFILE},
    }),
    # github.com/pigzillaaaaa/daddylive/issues/3
    ("no-app-file", "space", 1, {"stage": "NO_APP_FILE", "files": {"README.md": CARD, "dockerfile": GOOD_DOCKERFILE}}),
    # huggingface.co/spaces/Plachta/VITS-Umamusume-voice-synthesizer/discussions/23 (BuildKit's line)
    ("build-step-failed", "space", 1, {
        "stage": "BUILD_ERROR", "error": "Job failed with exit code: 1",
        "build_log": [QUEUED, 'ERROR: process "/bin/sh -c pip install --no-cache-dir \t${SDK}==${SDK_VERSION} '
                      '\tspaces==${PYSPACES_VERSION}" did not complete successfully: exit code: 1'],
    }),
    # huggingface.co/spaces/Sattigeri07/RL-Project: the Space page's summary, the build log unreadable
    ("build-step-failed", "space", 1, {
        "stage": "BUILD_ERROR", "logs_status": 404,
        "error": "Job failed with exit code: 1. Reason: cache miss: [3/5] COPY requirements.txt . cache miss: "
                 "[5/5] COPY . . cache miss: [4/5] RUN pip install --no-cache-dir -r requirements.txt "
                 '{"total":10,"completed":9,"user_total":5,"user_cached":1,"user_completed":4,"user_cacheable":4,'
                 '"from":1,"miss":3,"client_duration_ms":22384}',
    }),
    # huggingface.co/spaces/zfe/g
    ("paused", "space", 1, {"stage": "PAUSED"}),
    # huggingface.co/spaces/pcuenq/paella/discussions/3
    ("sleeping", "platform", 3, {"stage": "SLEEPING"}),
]  # fmt: skip


@pytest.mark.parametrize(("cause", "owner", "code", "state"), CASES, ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_each_cause_is_recognised_from_a_real_excerpt(hub, run_doctor, cause, owner, code, state):
    state = dict(state)
    files = state.pop("files", FILES)
    space_id = f"me/{cause}-{abs(hash(json.dumps(state, sort_keys=True))) % 10**6}"
    hub.seed(space_id, files, **state)
    exit_code, diagnosis = diagnosed(run_doctor, space_id)
    assert cause in [c["id"] for c in diagnosis["causes"]], diagnosis["causes"]
    found = next(c for c in diagnosis["causes"] if c["id"] == cause)
    assert found["owner"] == owner
    assert found["summary"] and found["evidence"] and found["fix"]
    assert exit_code == code
    assert diagnosis["stage"] == state["stage"] and diagnosis["healthy"] is False


def test_a_failed_build_step_is_named_and_gives_way_to_a_cause_that_says_more(hub, run_doctor):
    hub.seed(
        "me/step", FILES, stage="BUILD_ERROR", logs_status=404,
        error="Job failed with exit code: 1. Reason: cache miss: [3/5] COPY requirements.txt . cache miss: [5/5] "
              "COPY . . cache miss: [4/5] RUN pip install --no-cache-dir -r requirements.txt {\"total\":10}",
    )  # fmt: skip
    _, diagnosis = diagnosed(run_doctor, "me/step")
    (cause,) = diagnosis["causes"]
    assert cause["summary"] == "a build step exited with code 1: RUN pip install --no-cache-dir -r requirements.txt"
    # github.com/TUMcps/human-robot-gym/issues/10: apt's own line says more than BuildKit's exit code 100.
    hub.seed(
        "me/apt-step", FILES, stage="BUILD_ERROR", error="Job failed with exit code: 100",
        build_log=[QUEUED, "E: Package 'libgl1-mesa-glx' has no installation candidate",
                   'ERROR: process "/bin/sh -c apt-get update && apt-get install -y libgl1-mesa-glx" did not '
                   "complete successfully: exit code: 100"],
    )  # fmt: skip
    _, diagnosis = diagnosed(run_doctor, "me/apt-step")
    assert [c["id"] for c in diagnosis["causes"]] == ["apt-package-missing"]


def test_a_cause_names_the_validate_rule_and_where_validate_finds_it_in_the_spaces_files(hub, run_doctor):
    dockerfile = GOOD_DOCKERFILE.replace('"-b", "0.0.0.0:7860", ', "")  # gunicorn's own default: 127.0.0.1:8000
    hub.seed(
        "me/rule-link", {**FILES, "Dockerfile": dockerfile}, stage="RUNTIME_ERROR",
        error="Launch timed out, workload was not healthy after 30 min",
    )  # fmt: skip
    _, diagnosis = diagnosed(run_doctor, "me/rule-link")
    (cause,) = diagnosis["causes"]
    assert cause["id"] == "launch-timeout" and cause["rule"] == "bind-localhost"
    assert "validate: Dockerfile:6 bind-localhost" in cause["evidence"]
    assert {f["rule"] for f in diagnosis["findings"]} >= {"bind-localhost", "port-mismatch"}


def test_a_variable_the_space_defines_is_not_blamed(hub, run_doctor):
    hub.seed(
        "me/defined", FILES, stage="RUNTIME_ERROR", secrets={"HUGGINGFACE_TOKEN": "x"},
        error="Exit code: 1. Reason: KeyError: 'HUGGINGFACE_TOKEN'",
    )  # fmt: skip
    code, diagnosis = diagnosed(run_doctor, "me/defined")
    assert [c["id"] for c in diagnosis["causes"]] == ["unrecognised"] and code == 1


def test_an_unknown_failure_is_labelled_not_recognised_with_the_lines_around_the_first_error(hub, run_doctor):
    log = [STARTUP, "loading", "config ok", "Traceback (most recent call last):", '  File "app.py", line 3',
           "ZeroDivisionError: division by zero", "bye"]  # fmt: skip
    hub.seed("me/odd", FILES, stage="RUNTIME_ERROR", error="Exit code: 1. Reason: ZeroDivisionError", run_log=log)
    code, diagnosis = diagnosed(run_doctor, "me/odd")
    (cause,) = diagnosis["causes"]
    assert cause["id"] == "unrecognised" and cause["owner"] == "space" and code == 1
    assert "ZeroDivisionError: division by zero" in cause["evidence"] and "Traceback" in cause["evidence"]
    assert "hf spaces logs" in cause["fix"]


@pytest.mark.parametrize("status", [404, 500])
def test_it_diagnoses_from_the_runtime_alone_when_the_logs_cannot_be_read(hub, run_doctor, status):
    hub.seed(
        f"me/no-logs-{status}", FILES, stage="RUNTIME_ERROR", error="Memory limit exceeded (16Gi)", logs_status=status,
    )  # fmt: skip
    code, diagnosis = diagnosed(run_doctor, f"me/no-logs-{status}")
    assert [c["id"] for c in diagnosis["causes"]] == ["memory-limit"] and code == 1
    assert any("log could not be read" in note for note in diagnosis["notes"])


def test_a_healthy_space_exits_0_after_its_check_passes(hub, run_doctor):
    with serve(HealthySpace) as (url, _):
        hub.seed("me/fine", FILES, stage="RUNNING", host=url)
        result = run_doctor("me/fine")
        assert result.exit_code == 0, result.output
        assert result.stdout.splitlines()[0].startswith("me/fine: RUNNING on cpu-basic: healthy")


def test_a_running_space_whose_check_fails_is_the_spaces(hub, run_doctor):
    class NoHead(HealthySpace):
        def do_HEAD(self) -> None:
            self.send(405, b"", "text/plain")

    with serve(NoHead) as (url, _):
        hub.seed("me/no-head", FILES, stage="RUNNING", host=url)
        code, diagnosis = diagnosed(run_doctor, "me/no-head")
    (cause,) = diagnosis["causes"]
    assert cause["id"] == "check-failed" and "HEAD /" in cause["summary"] and code == 1


def test_human_output_has_one_block_per_cause_and_no_secret(hub, run_doctor):
    hub.seed(
        "me/blocks", FILES, stage="RUNTIME_ERROR", secrets={"API_KEY": "sk-never-shown-123"},
        error="Exit code: 1. Reason: KeyError: 'OPENAI_API_KEY'",
    )  # fmt: skip
    result = run_doctor("me/blocks")
    lines = result.stdout.splitlines()
    assert result.exit_code == 1
    assert lines[0] == "me/blocks: RUNTIME_ERROR on cpu-basic, not running: 1 cause (the Space's)"
    assert lines[2].startswith("missing-variable (the Space's): the app reads the variable or secret OPENAI_API_KEY")
    assert lines[3].startswith("  evidence: error message: ") and lines[4].startswith("  fix: add OPENAI_API_KEY")
    assert "sk-never-shown-123" not in result.output


def test_every_cause_in_the_table_has_a_test_and_a_public_reference():
    tested = {case[0] for case in CASES} | {"launch-timeout", "unrecognised", "check-failed"}
    assert {pattern.id for pattern in doctor.CAUSES} <= tested
    assert all(pattern.ref.startswith("https://") for pattern in doctor.CAUSES)


def test_a_failed_deploy_prints_the_diagnosis_in_a_real_process(hub, tmp_path):
    folder = tmp_path / "crashes"
    folder.mkdir()
    (folder / "README.md").write_text(CARD)
    (folder / "Dockerfile").write_text(
        'FROM python:3.13-slim\nCMD ["python3", "-c", "import os; os.environ[\'DB_URL\']"]\n'
    )
    env = {k: v for k, v in os.environ.items() if k not in ("HF_TOKEN", "HF_ENDPOINT")}
    env.update(HF_ENDPOINT=hub.url, HF_TOKEN=KEY, HF_HOME=str(tmp_path / "hf-home"))
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "hfspace"), "deploy", str(folder), "--space", "me/crashes", "--force"],
        capture_output=True, text=True, env=env, timeout=180, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    assert "missing-variable (the Space's): the app reads the variable or secret DB_URL" in done.stderr
    assert "error: me/crashes: it ended in RUNTIME_ERROR; nothing to roll back to" in done.stderr


@pytest.fixture
def anonymous(monkeypatch, tmp_path):
    """No token at all: no HF_TOKEN, and no saved login (the client reads its token file's path at import,
    so a machine's own `hf auth login` would otherwise be used)."""
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_TOKEN_PATH", str(tmp_path / "no-token"))
    monkeypatch.setattr(constants, "HF_STORED_TOKENS_PATH", str(tmp_path / "no-stored-tokens"))


def anonymous_doctor(hub, tmp_path, *args: str):
    """doctor with no token (the test asks for the `anonymous` fixture)."""
    env = {"HF_ENDPOINT": hub.url, "HF_TOKEN": None, "HF_HOME": str(tmp_path / "anonymous-home")}
    return CliRunner().invoke(app, ["doctor", *args], env=env)


def test_with_no_token_a_public_space_is_diagnosed_from_what_anyone_can_read(hub, tmp_path, anonymous):
    dockerfile = GOOD_DOCKERFILE.replace('"-b", "0.0.0.0:7860", ', "")  # gunicorn's own default: 127.0.0.1:8000
    hub.seed(
        "me/public-timeout", {**FILES, "Dockerfile": dockerfile}, stage="RUNTIME_ERROR",
        error="Launch timed out, workload was not healthy after 30 min", secrets={"API_KEY": "sk-not-for-anyone-42"},
        run_log=[STARTUP, "[INFO] Listening at: http://127.0.0.1:8000 (7)"],
    )  # fmt: skip
    result = anonymous_doctor(hub, tmp_path, "me/public-timeout", "--json")
    assert result.exit_code == 1, result.output
    diagnosis = json.loads(result.stdout)
    # The runtime and the files are public; the run log (which would say bound-to-localhost) is not.
    (cause,) = diagnosis["causes"]
    assert cause["id"] == "launch-timeout" and cause["rule"] == "bind-localhost", cause
    assert any(
        note.startswith("no token: its logs, variables and secrets were not read") for note in diagnosis["notes"]
    )
    assert "sk-not-for-anyone-42" not in result.output


def test_with_no_token_a_key_error_is_not_checked_against_settings_it_cannot_read(hub, tmp_path, anonymous):
    hub.seed(
        "me/public-keyerror", FILES, stage="RUNTIME_ERROR", secrets={"HUGGINGFACE_TOKEN": "x"},
        error="Exit code: 1. Reason: KeyError: 'HUGGINGFACE_TOKEN'",
    )  # fmt: skip
    result = anonymous_doctor(hub, tmp_path, "me/public-keyerror", "--json")
    (cause,) = json.loads(result.stdout)["causes"]
    assert cause["id"] == "missing-variable" and "is not set where it runs" in cause["summary"]


def test_with_no_token_a_private_space_is_one_line_that_says_a_token_is_needed(hub, tmp_path, anonymous):
    hub.seed("me/hidden", FILES, stage="RUNTIME_ERROR", error="Memory limit exceeded (16Gi)", visibility="private")
    result = anonymous_doctor(hub, tmp_path, "me/hidden")
    assert result.exit_code == 2
    assert "a private Space needs a token" in result.output and "Traceback" not in result.output


def test_a_bad_space_id_is_named_before_any_token_is_looked_for(hub, tmp_path, anonymous):
    result = anonymous_doctor(hub, tmp_path, "not-a-space")
    assert result.exit_code == 2 and "'not-a-space' is not a Space id" in result.output
