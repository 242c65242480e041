"""`hfspace up`: the repository's Spaces (and small Spaces made in tmp_path) run
as real processes on free ports, answer, and stop cleanly on SIGINT and
SIGTERM; a Space that cannot start, a taken port, a missing program and a
folder that is no Space each end in one error line with nothing left running."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import signal
import socket
import subprocess
import textwrap
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from typer.testing import CliRunner

from hfspace.cli import app
from hfspace.host import docker_client
from tests.conftest import port_is_listening, wait_until
from tests.docker import engine_problem
from tests.json_app import app_source
from tests.services import free_ports

ROOT = Path(__file__).resolve().parents[2]
HFSPACE = ROOT / ".venv" / "bin" / "hfspace"
BACKENDS = ("python-backend", "nodejs-backend")
BASE_IMAGES = ROOT / "build" / "base-images.env"
READY_LINE = "Ctrl-C stops them all."
SECRET = "s3cr3t-value-never-printed"


def processes_serving(port: int) -> list[int]:
    """The processes `up` gave this port (their environment says PORT=port, and a SPACE_ID of up's)."""
    marker = f"PORT={port}".encode()
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                environ = (entry / "environ").read_bytes().split(b"\0")
                if marker in environ and any(v.startswith(b"SPACE_ID=local/") for v in environ):
                    found.append(int(entry.name))
    return found


def up(*args: str):
    """`hfspace up ARGS` in-process, for the runs that end by themselves."""
    return CliRunner().invoke(app, ["up", *args], env={"SPACE_ID": None, "SPACE_HOST": None})


def make_space(root: Path, name: str, card: str, files: dict[str, str]) -> Path:
    folder = root / name
    folder.mkdir()
    (folder / "README.md").write_text(f"---\ntitle: {name} title\n{card}---\n\n# {name}\n")
    for path, text in files.items():
        (folder / path).write_text(textwrap.dedent(text))
    return folder


# A Space whose app answers GET / with the environment it was given, as JSON.
ENV_SERVER = app_source("dict(os.environ)", host="127.0.0.1", banner="env-space listening on", log_requests=True)


def env_space(root: Path) -> Path:
    dockerfile = """\
        FROM python:3.13-slim
        ARG GREETING=hello
        ENV FROM_IMAGE=image-${GREETING} \\
            PYTHONUNBUFFERED=1 \\
            HOME=/home/user \\
            PORT=7860 \\
            OVERRIDDEN=image
        CMD ["python3", "server.py"]
    """
    files = {"Dockerfile": dockerfile, "server.py": ENV_SERVER, ".env": "FROM_DOTENV=dotenv\nOVERRIDDEN=dotenv\n"}
    return make_space(root, "env-space", "sdk: docker\napp_port: 7860\n", files)


def crashing_space(root: Path) -> Path:
    dockerfile = """FROM python:3.13-slim\nCMD ["python3", "-c", "import sys; print('boom'); sys.exit(3)"]\n"""
    return make_space(root, "crashing-space", "sdk: docker\n", {"Dockerfile": dockerfile})


@contextlib.contextmanager
def running_up(args: list[str], log: Path, env: dict[str, str] | None = None, timeout: float = 30) -> Iterator:
    """`hfspace up ARGS` as a real subprocess in its own process group (a terminal's), once it
    reported every Space ready; killed at the end if the test did not stop it."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SPACE_")}
    with log.open("w") as sink:
        process = subprocess.Popen(
            [str(HFSPACE), "up", *args],
            cwd=ROOT,
            env={**environ, **(env or {})},
            stdout=sink,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        ready = wait_until(lambda: READY_LINE in log.read_text() or process.poll() is not None, timeout=timeout)
        assert ready and process.poll() is None, log.read_text()
        yield process
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def get(url: str) -> requests.Response:
    return requests.get(url, timeout=5)


# --- the repository's backends --------------------------------------------------


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_up_serves_both_backends_as_local_spaces_and_a_signal_stops_both(tmp_path, stop_signal):
    base = free_ports(2)
    log = tmp_path / "up.log"
    with running_up([*BACKENDS, "--port", str(base)], log) as process:
        for offset, name in enumerate(BACKENDS):
            url = f"http://127.0.0.1:{base + offset}"
            status = get(f"{url}/").json()
            assert status["service"] == name
            assert status["space"]["id"] == f"local/{name}"
            # No SPACE_HOST locally (the platform's is https): the links are the address asked for.
            assert status["space"]["host"] is None
            assert status["links"] and all(link.startswith(f"{url}/") for link in status["links"].values())
            health = get(f"{url}/health")
            assert health.status_code == 200 and health.json()["service"] == name
        # SIGINT as a terminal's Ctrl-C sends it (to the whole group); SIGTERM as `kill` does.
        if stop_signal == signal.SIGINT:
            os.killpg(process.pid, signal.SIGINT)
        else:
            process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=20) == 0, log.read_text()
    output = log.read_text()
    for offset, name in enumerate(BACKENDS):
        assert f"{name}  http://localhost:{base + offset}  ready" in output
        assert f"{name} | " in output  # its logs, prefixed with its name
        assert not port_is_listening(base + offset)
        assert processes_serving(base + offset) == []  # gunicorn's workers too
    own_lines = [line for line in output.splitlines() if not line.startswith(tuple(f"{n} |" for n in BACKENDS))]
    assert not any("Traceback" in line for line in own_lines)  # hfspace's own output, not the services' logs


# --- Spaces made for the test ---------------------------------------------------


def test_up_serves_a_static_space_with_its_app_file_at_the_root(tmp_path):
    folder = make_space(
        tmp_path,
        "static-space",
        "sdk: static\napp_file: main.html\n",
        {"main.html": "<h1>static space</h1>\n", "style.css": "h1 {}\n", ".env": "TOKEN=x\n"},
    )
    port = free_ports(1)
    with running_up([str(folder), "--port", str(port)], tmp_path / "up.log") as process:
        root = get(f"http://127.0.0.1:{port}/")
        assert root.status_code == 200 and root.text == "<h1>static space</h1>\n"
        assert get(f"http://127.0.0.1:{port}/style.css").text == "h1 {}\n"
        assert get(f"http://127.0.0.1:{port}/.env").status_code == 404  # local files stay local
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert "static-space | " in (tmp_path / "up.log").read_text()  # its request log
    assert not port_is_listening(port)


def test_up_runs_a_static_spaces_app_build_command_and_serves_what_it_built(tmp_path):
    """As the Hub does (docs: app_build_command: npm run build, app_file: dist/index.html): build, then
    serve the build's output, whose page asks for /assets/..."""
    build = "mkdir -p dist/assets && cp page.html dist/index.html && echo 'console.log(1)' > dist/assets/app.js"
    folder = make_space(
        tmp_path,
        "built-space",
        f"sdk: static\napp_build_command: {build}\napp_file: dist/index.html\n",
        {"page.html": '<script type="module" src="/assets/app.js"></script>\n'},
    )
    port = free_ports(1)
    log = tmp_path / "up.log"
    with running_up([str(folder), "--port", str(port)], log) as process:
        assert get(f"http://127.0.0.1:{port}/").text == '<script type="module" src="/assets/app.js"></script>\n'
        assert get(f"http://127.0.0.1:{port}/assets/app.js").text == "console.log(1)\n"
        assert get(f"http://127.0.0.1:{port}/page.html").status_code == 404  # the source is not what is served
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    assert f"built-space: app_build_command: {build}" in log.read_text()


def test_a_static_build_that_fails_or_makes_no_app_file_is_one_error(tmp_path):
    failing = make_space(tmp_path, "failing", "sdk: static\napp_build_command: exit 3\napp_file: dist/index.html\n", {})
    result = up(str(failing), "--port", str(free_ports(1)))
    assert result.exit_code == 1 and "error: failing exit 3 failed (status 3)" in result.output, result.output
    empty = make_space(tmp_path, "empty", "sdk: static\napp_build_command: 'true'\napp_file: dist/index.html\n", {})
    result = up(str(empty), "--port", str(free_ports(1)))
    assert result.exit_code == 1, result.output
    assert "error: empty its app_build_command `true` made no dist/index.html (app_file)" in result.output


def test_up_gives_a_space_the_platform_variables_its_image_env_dotenv_vars_and_secrets(tmp_path):
    folder = env_space(tmp_path)
    port = free_ports(1)
    args = [str(folder), "--port", str(port), "--var", "OVERRIDDEN=var", "--var", "GREETING=hi", "--secret", "MY_TOKEN"]
    log = tmp_path / "up.log"
    with running_up(args, log, env={"MY_TOKEN": SECRET, "FROM_SHELL": "shell"}) as process:
        env = get(f"http://127.0.0.1:{port}/").json()
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=10) == 0
    expected = {
        "SPACE_ID": "local/env-space",
        "SPACE_HOST": None,  # the platform's is an https host: locally an app takes its host from requests
        "SPACE_AUTHOR_NAME": "local",
        "SPACE_REPO_NAME": "env-space",
        "SPACE_TITLE": "env-space title",
        "PORT": str(port),  # the image's PORT=7860 gives way to the port this Space was given
        "FROM_IMAGE": "image-hi",  # the final stage's ENV, its ARG set by --var
        "PYTHONUNBUFFERED": "1",
        "FROM_DOTENV": "dotenv",
        "FROM_SHELL": "shell",
        "OVERRIDDEN": "var",  # --var wins over .env and the image
        "MY_TOKEN": SECRET,
    }
    assert {key: env.get(key) for key in expected} == expected
    assert {"SPACE_CREATOR_USER_ID", "CPU_CORES", "MEMORY"} <= env.keys()
    assert env["HOME"] == os.environ["HOME"]  # the image's HOME names a path inside the image
    assert env["PATH"] != "/opt/venv/bin:"
    assert SECRET not in log.read_text()


@pytest.mark.parametrize(
    "command",
    [
        'CMD ["python3", "server.py"]',
        "CMD python3 server.py --shell-form",  # run by /bin/sh -c, as Docker does
        'ENTRYPOINT ["python3"]\nCMD ["server.py", "--entrypoint"]',
    ],
    ids=["exec-form", "shell-form", "entrypoint-and-cmd"],
)
def test_up_runs_the_dockerfile_command_in_each_form_and_stops_it(tmp_path, command):
    files = {"Dockerfile": f"FROM python:3.13-slim\n{command}\n", "server.py": ENV_SERVER}
    folder = make_space(tmp_path, "form-space", "sdk: docker\n", files)
    port = free_ports(1)
    with running_up([str(folder), "--port", str(port)], tmp_path / "up.log") as process:
        assert get(f"http://127.0.0.1:{port}/").json()["SPACE_ID"] == "local/form-space"
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=15) == 0
    assert processes_serving(port) == []  # the shell and the server it started


def test_up_reports_a_space_that_crashes_with_its_logs_and_stops_the_others(tmp_path):
    folder = crashing_space(tmp_path)
    base = free_ports(2)
    result = up(str(ROOT / "python-backend"), str(folder), "--port", str(base), "--timeout", "20s")
    assert result.exit_code == 1, result.output
    assert "crashing-space | boom" in result.output
    assert "error: crashing-space exited with status 3" in result.output
    assert isinstance(result.exception, SystemExit)  # an exit, not an exception
    assert not port_is_listening(base)  # python-backend was stopped
    assert processes_serving(base) == [] and processes_serving(base + 1) == []


def test_a_command_that_ends_with_status_0_is_not_reported_as_a_crash(tmp_path):
    files = {"Dockerfile": 'FROM python:3.13-slim\nCMD ["python3", "-c", "print(\'done\')"]\n'}
    folder = make_space(tmp_path, "one-shot", "sdk: docker\n", files)
    result = up(str(folder), "--port", str(free_ports(1)), "--timeout", "20s")
    assert result.exit_code == 1, result.output
    assert "error: one-shot exited with status 0 (it ended, or was stopped from outside)" in result.output


def test_up_reports_a_space_that_never_answers_within_the_timeout(tmp_path):
    silent = "import time\nprint('not listening', flush=True)\ntime.sleep(60)\n"
    files = {"Dockerfile": 'FROM python:3.13-slim\nCMD ["python3", "silent.py"]\n', "silent.py": silent}
    folder = make_space(tmp_path, "silent-space", "sdk: docker\n", files)
    started = time.monotonic()
    result = up(str(folder), "--port", str(free_ports(1)), "--timeout", "2s")
    assert result.exit_code == 1, result.output
    assert "error: silent-space did not answer GET / with 200 within 2s" in result.output
    assert "silent-space | not listening" in result.output
    assert time.monotonic() - started < 15  # stopped by SIGTERM, not waited out


def test_up_says_what_a_listening_space_answered_on_slash_and_asks_it_twice_a_second_at_most(tmp_path):
    """A fresh `django-admin startproject` with DEBUG off answers / with 404: up must say so, not tell
    the user to listen somewhere, and must not fill the app's access log while it waits."""
    server = """\
        import http.server, os

        class NotFound(http.server.BaseHTTPRequestHandler):
            def do_GET(self):
                print("GET", self.path, flush=True)
                self.send_error(404)

            def log_message(self, *args):
                pass

        http.server.HTTPServer(("127.0.0.1", int(os.environ["PORT"])), NotFound).serve_forever()
        """
    files = {"Dockerfile": 'FROM python:3.13-slim\nCMD ["python3", "server.py"]\n', "server.py": server}
    folder = make_space(tmp_path, "no-root", "sdk: docker\n", files)
    result = up(str(folder), "--port", str(free_ports(1)), "--timeout", "3s")
    assert result.exit_code == 1, result.output
    assert "error: no-root did not answer GET / with 200 within 3s (it answered 404)" in result.output
    assert "hint: it listens, but GET / answered 404: the Space's proxy waits for a 200 on /" in result.output
    asked = result.output.count("no-root | GET /")
    assert 1 <= asked <= 3 / 0.5 + 2, asked  # about twice a second (it was twenty times)


def test_a_crash_shows_the_first_traceback_even_when_more_than_the_tail_follows(tmp_path):
    """gunicorn prints the worker's traceback, then its own (HaltServer): the first is the cause."""
    crash = """\
        import sys
        try:
            from celery_not_installed_here import Celery
        except ImportError:
            import traceback
            traceback.print_exc()
        for n in range(30):
            print("shutting down, step", n, file=sys.stderr)
        sys.exit(3)
        """
    files = {"Dockerfile": 'FROM python:3.13-slim\nCMD ["python3", "crash.py"]\n', "crash.py": crash}
    folder = make_space(tmp_path, "deep-crash", "sdk: docker\n", files)
    result = up(str(folder), "--port", str(free_ports(1)), "--timeout", "20s")
    assert result.exit_code == 1, result.output
    lines = [line.split(" | ", 1)[1] for line in result.output.splitlines() if line.startswith("deep-crash | ")]
    assert lines[0] == "Traceback (most recent call last):", lines
    cause = "ModuleNotFoundError: No module named 'celery_not_installed_here'"
    assert any(line.startswith(cause) for line in lines), lines
    assert lines[-1] == "shutting down, step 29" and "shutting down, step 9" not in lines


def demo_wheel(folder: Path) -> Path:
    """A wheel, made here, whose console script `hfspace-up-demo` serves files on $PORT."""
    name = "hfspace_up_demo"
    files = {
        f"{name}.py": textwrap.dedent("""\
            import http.server, os

            def main():
                print("demo serving", flush=True)
                address = ("127.0.0.1", int(os.environ["PORT"]))
                http.server.ThreadingHTTPServer(address, http.server.SimpleHTTPRequestHandler).serve_forever()
        """),
        f"{name}-0.1.dist-info/METADATA": "Metadata-Version: 2.1\nName: hfspace-up-demo\nVersion: 0.1\n",
        f"{name}-0.1.dist-info/WHEEL": "Wheel-Version: 1.0\nRoot-Is-Purelib: true\nTag: py3-none-any\n",
        f"{name}-0.1.dist-info/entry_points.txt": "[console_scripts]\nhfspace-up-demo = hfspace_up_demo:main\n",
    }
    record = [f"{path},sha256={_urlsafe_sha256(text.encode())},{len(text.encode())}" for path, text in files.items()]
    files[f"{name}-0.1.dist-info/RECORD"] = "\n".join([*record, f"{name}-0.1.dist-info/RECORD,,"]) + "\n"
    target = folder / f"{name}-0.1-py3-none-any.whl"
    with zipfile.ZipFile(target, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return target


def _urlsafe_sha256(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_up_creates_a_venv_from_hash_pinned_requirements_when_the_program_is_nowhere(tmp_path):
    # The program is in no .venv, not in hfspace's environment and not on PATH: only in the
    # folder's requirements.txt (a local wheel, so the install needs no network).
    folder = make_space(tmp_path, "venv-space", "sdk: docker\n", {"Dockerfile": 'FROM x\nCMD ["hfspace-up-demo"]\n'})
    wheel = demo_wheel(folder)
    digest = hashlib.sha256(wheel.read_bytes()).hexdigest()
    (folder / "requirements.txt").write_text(f"./{wheel.name} --hash=sha256:{digest}\n")
    port = free_ports(1)
    log = tmp_path / "up.log"
    with running_up([str(folder), "--port", str(port)], log, timeout=120) as process:
        assert get(f"http://127.0.0.1:{port}/").status_code == 200
        process.send_signal(signal.SIGINT)
        assert process.wait(timeout=10) == 0
    output = log.read_text()
    assert "venv-space: creating venv-space/.venv from requirements.txt" in output
    assert "venv-space | demo serving" in output
    assert (folder / ".venv" / "bin" / "hfspace-up-demo").exists()


def test_up_stops_a_space_still_starting_on_ctrl_c_and_exits_0(tmp_path):
    starting = "import os, pathlib, time\npathlib.Path('pid').write_text(str(os.getpid()))\ntime.sleep(60)\n"
    files = {"Dockerfile": 'FROM python:3.13-slim\nCMD ["python3", "starting.py"]\n', "starting.py": starting}
    folder = make_space(tmp_path, "slow-space", "sdk: docker\n", files)
    environ = {k: v for k, v in os.environ.items() if not k.startswith("SPACE_")}
    process = subprocess.Popen(
        [str(HFSPACE), "up", str(folder), "--port", str(free_ports(1))],
        env=environ,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        assert wait_until(lambda: (folder / "pid").is_file() and (folder / "pid").read_text(), timeout=20)
        pid = int((folder / "pid").read_text())
        os.killpg(process.pid, signal.SIGINT)
        output, _ = process.communicate(timeout=20)
        assert process.returncode == 0, output
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


# --- refused before anything starts -----------------------------------------------


def error_lines(output: str) -> list[str]:
    return [line for line in output.splitlines() if line.strip()]


def test_up_refuses_a_port_in_use_in_one_line_and_starts_nothing(tmp_path):
    base = free_ports(2)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", base + 1))
        taken.listen()
        result = up(*(str(ROOT / name) for name in BACKENDS), "--port", str(base))
    assert result.exit_code == 1
    lines = error_lines(result.output)
    assert lines[0] == f"error: port {base + 1} (for nodejs-backend) is already in use"
    assert len(lines) == 2 and lines[1].startswith("hint: ")
    assert not port_is_listening(base) and processes_serving(base) == []  # python-backend was never started


def test_up_refuses_a_command_whose_program_is_not_on_path(tmp_path):
    dockerfile = 'FROM debian:bookworm-slim\nCMD ["hfspace-test-no-such-program", "--serve"]\n'
    folder = make_space(tmp_path, "missing-program", "sdk: docker\n", {"Dockerfile": dockerfile})
    result = up(str(folder), "--port", str(free_ports(1)))
    assert result.exit_code == 1
    lines = error_lines(result.output)
    assert lines[0] == "error: missing-program: its command runs hfspace-test-no-such-program, which is not on PATH"
    assert len(lines) == 2 and lines[1].startswith("hint: ")


@pytest.mark.parametrize("runtime", ["node", "npm", "docker"])
def test_up_refuses_a_missing_runtime_in_one_line(tmp_path, runtime):
    empty_path = tmp_path / "bin"
    empty_path.mkdir()
    if runtime == "node":  # the Node Space, with nothing on PATH
        args, env = [str(ROOT / "nodejs-backend")], {"PATH": str(empty_path)}
        message = "nodejs-backend: its command runs node, which is not on PATH"
    elif runtime == "npm":  # a Node Space without node_modules: npm ci would be needed
        files = {"Dockerfile": 'FROM x\nCMD ["node", "server.js"]\n', "package.json": "{}", "package-lock.json": "{}"}
        folder = make_space(tmp_path, "node-space", "sdk: docker\n", files)
        args, env, message = [str(folder)], {"PATH": str(empty_path)}, "node-space: npm is not on PATH"
    else:
        args, env = ["--docker", str(ROOT / "python-backend")], {"DOCKER": str(empty_path / "docker")}
        message = "--docker: no docker client"
    result = CliRunner().invoke(app, ["up", *args, "--port", str(free_ports(1))], env=env)
    assert result.exit_code == 1
    lines = error_lines(result.output)
    assert lines[0].startswith("error: ") and message in lines[0], result.output
    assert len(lines) == 2 and lines[1].startswith("hint: ")


@pytest.mark.parametrize("kind", ["no-readme", "no-front-matter", "a-file"])
def test_up_refuses_a_folder_that_is_not_a_space_in_one_line(tmp_path, kind):
    target = tmp_path / "not-a-space"
    if kind == "a-file":
        target.write_text("hello\n")
    else:
        target.mkdir()
        if kind == "no-front-matter":
            (target / "README.md").write_text("# just a readme\n")
    result = up(str(target), "--port", str(free_ports(1)))
    assert result.exit_code == 1
    lines = error_lines(result.output)
    assert lines[0].startswith("error: ") and str(target) in lines[0]
    assert len(lines) == 2 and lines[1].startswith("hint: ")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--port", "abc"], 'error: --port "abc": expected an integer from 1 to 65535'),
        (["--port", "70000"], 'error: --port "70000": expected an integer from 1 to 65535'),
        (["--var", "NOEQUALS"], 'error: --var "NOEQUALS": expected KEY=VALUE'),
        (["--timeout", "soon"], 'error: --timeout "soon": expected a duration such as 90s, 5m or 1h'),
        (["--secret", "HFSPACE_TEST_UNSET"], "error: --secret HFSPACE_TEST_UNSET: no environment variable"),
    ],
)
def test_up_refuses_bad_options_in_one_line(args, message):
    result = up(str(ROOT / "python-backend"), *args)
    assert result.exit_code == 1
    assert error_lines(result.output)[0].startswith(message), result.output


def test_up_help_says_how_ports_and_port_work():
    result = CliRunner().invoke(app, ["up", "--help"], env={"COLUMNS": "120"})
    assert result.exit_code == 0
    assert "platform never" in result.output and "sets PORT" in result.output


# --- --docker: the images, run as the platform runs them ----------------------------


def _docker_skip_reason() -> str | None:
    if not BASE_IMAGES.is_file():
        return "no build/base-images.env (run .ci/base-images)"
    problem = engine_problem()
    return f"{problem} (start one with .ci/docker-engine)" if problem else None


def _bases() -> dict[str, str]:
    return dict(line.split("=", 1) for line in BASE_IMAGES.read_text().splitlines() if "=" in line[:40])


def _base_image_args() -> list[str]:
    values = _bases()
    return ["--build-arg", f"PYTHON_IMAGE={values['PYTHON_BASE']}", "--build-arg", f"NODE_IMAGE={values['NODE_BASE']}"]


@pytest.fixture
def docker_engine() -> None:
    reason = _docker_skip_reason()
    if reason:
        pytest.skip(f"hfspace up --docker: {reason}")


def _docker(*args: str) -> str:
    return subprocess.run(
        [docker_client(), *args], capture_output=True, text=True, timeout=30, check=True
    ).stdout.strip()


@pytest.mark.container
@pytest.mark.timeout(900)
def test_up_docker_runs_each_image_as_uid_1000_on_loopback_and_stops_it(tmp_path):
    reason = _docker_skip_reason()
    if reason:
        pytest.skip(f"hfspace up --docker: {reason}")
    base = free_ports(2)
    log = tmp_path / "up.log"
    args = [*BACKENDS, "--docker", "--port", str(base), *_base_image_args(), "--timeout", "60s"]
    with running_up(args, log, timeout=840) as process:
        for offset, name in enumerate(BACKENDS):
            status = get(f"http://127.0.0.1:{base + offset}/").json()
            assert status["service"] == name and status["space"]["id"] == f"local/{name}"
            container = _docker("ps", "--filter", f"label=hfspace.space={name}", "--format", "{{.Names}}")
            assert container, f"no running container for {name}"
            assert _docker("exec", container, "id", "-u") == "1000"
            ports = json.loads(_docker("inspect", "--format", "{{json .HostConfig.PortBindings}}", container))
            assert ports == {"7860/tcp": [{"HostIp": "127.0.0.1", "HostPort": str(base + offset)}]}
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()
    for offset, name in enumerate(BACKENDS):
        assert not port_is_listening(base + offset)
        assert _docker("ps", "--all", "--filter", f"label=hfspace.space={name}", "--format", "{{.Names}}") == ""


# --- up --docker as the platform runs a container ----------------------------------------------------------

HF_DOCS_PATTERN = Path(__file__).parent / "fixtures" / "up" / "hf-docs-pattern"


def _python_base_arg() -> list[str]:
    return ["--build-arg", f"BASE={_bases()['PYTHON_BASE']}"]


@pytest.mark.container
@pytest.mark.timeout(600)
def test_the_hf_docs_dockerfile_pattern_runs_under_up_docker_and_writes_its_own_folder(tmp_path, docker_engine):
    port = free_ports(1)
    log = tmp_path / "up.log"
    args = [str(HF_DOCS_PATTERN), "--docker", "--port", str(port), *_python_base_arg(), "--timeout", "60s"]
    with running_up(args, log, timeout=540) as process:
        started = get(f"http://127.0.0.1:{port}/").json()
        assert started == {"uid": 1000, "home": "/home/user"}  # it wrote data/started.json into its folder
        container = _docker("ps", "--filter", "label=hfspace.space=hf-docs-pattern", "--format", "{{.Names}}")
        host = json.loads(_docker("inspect", "--format", "{{json .HostConfig}}", container))
        # The card names no hardware: the free CPU tier's 16 GB and 2 vCPUs (as many as this machine has).
        assert host["Memory"] == 16 * 1024**3 and host["ReadonlyRootfs"] is False
        assert host["NanoCpus"] == min(2, os.cpu_count() or 2) * 10**9
        os.killpg(process.pid, signal.SIGINT)
        assert process.wait(timeout=60) == 0, log.read_text()


@pytest.mark.container
@pytest.mark.timeout(600)
def test_read_only_is_an_opt_in_check_that_the_docs_pattern_does_not_pass(docker_engine):
    args = [str(HF_DOCS_PATTERN), "--docker", "--read-only", "--port", str(free_ports(1)), *_python_base_arg()]
    result = up(*args, "--timeout", "60s")
    assert result.exit_code == 1
    assert "Read-only file system" in result.output
    assert "error: hf-docs-pattern exited with status 1 before it answered GET / with 200" in result.output


def test_read_only_needs_docker():
    result = up(str(HF_DOCS_PATTERN), "--read-only")
    assert result.exit_code == 1 and "error: --read-only is for containers" in result.output


@pytest.mark.parametrize(
    ("base", "program", "files"),
    [
        ("node:18-slim", "node", {"server.js": "require('http').createServer().listen(process.env.PORT)\n"}),
        ("python:3.9", "python3", {"server.py": "import http.server\n"}),
    ],
)
def test_up_says_in_one_line_when_the_local_interpreter_is_not_the_images(tmp_path, base, program, files):
    from hfspace import run

    script = next(iter(files))
    dockerfile = f'FROM {base}\nCMD ["{program}", "{script}"]\n'
    folder = make_space(tmp_path, "old-base", "sdk: docker\n", {"Dockerfile": dockerfile, **files})
    (plan,) = run.plan([folder], run.Options(port=free_ports(1)))
    shipped = base.split(":")[1].split("-")[0]
    assert plan.note is not None and plan.note.startswith(f"runs on {program} ")
    assert plan.note.endswith(f"its image ships {base} ({base.split(':')[0]} {shipped})")
    here = subprocess.run(
        ["python3", "-c", "import sys; print('%d.%d' % sys.version_info[:2])"], capture_output=True, text=True
    )
    dockerfile = f'FROM python:{here.stdout.strip()}-slim\nCMD ["python3", "server.py"]\n'
    same = make_space(tmp_path, "same-base", "sdk: docker\n", {"Dockerfile": dockerfile, "server.py": ""})
    assert run.plan([same], run.Options(port=free_ports(1)))[0].note is None
