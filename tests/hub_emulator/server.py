"""A local emulation of the Hugging Face Hub's HTTP API for Docker Spaces.

It is driven by the real `huggingface_hub` client (`HfApi(endpoint=emulator.url, token=...)`,
or `HF_ENDPOINT` set before the client is imported), answers with the shapes that client
parses, and runs each committed Space with a pluggable runner: `ProcessRunner` (the
Dockerfile's command as a local process) or `DockerRunner` (a real `docker build` and a
container run the way a Space runs). State lives in memory, one `HubEmulator` per test.

Endpoints (`{id}` is `owner/name`, `{rev}` is `main` or a commit id):

    GET    /api/whoami-v2                       the token's user, orgs, plan and token role
    GET    /api/agent-harnesses                 empty registry (2.x clients fetch it on their own)
    POST   /api/validate-yaml                   README front matter: 400 on YAML that does not parse
    POST   /api/repos/create                    Spaces only; 401/402/403/409 as the Hub answers
    DELETE /api/repos/delete
    GET    /api/spaces/{id}                     space info (sha, sdk, cardData, host, subdomain, runtime, ...)
    GET    /api/spaces/{id}/revision/{rev}      the same at a revision (also what `repo_info` calls)
    GET    /api/spaces/{id}/tree/{rev}[/{path}] files and folders (`?recursive=true`), git blob oids
    POST   /api/spaces/{id}/preupload/{rev}     uploadMode, shouldIgnore (.gitignore applied), oid of the
                                                remote file so the client skips unchanged ones
    POST   /api/spaces/{id}/commit/{rev}        NDJSON: header, file (base64), deletedFile, deletedFolder
    GET    /spaces/{id}/resolve/{rev}/{path}    a file's bytes
    GET/POST/DELETE /api/spaces/{id}/secrets    values are stored, never returned
    GET/POST/DELETE /api/spaces/{id}/variables  the full map {KEY: {value, description, updatedAt}}
    GET    /api/spaces/{id}/runtime             stage, hardware, gcTimeout, devMode, domains, errorMessage
    POST   /api/spaces/{id}/restart             rebuild and restart (`?factory=true` accepted)
    POST   /api/spaces/{id}/pause               stop the app, stage PAUSED
    GET    /api/spaces/{id}/logs/build|run      server-sent events `data: {"data", "timestamp"}`: what is
                                                there, then live lines until that build or run ends
                                                (a no-follow client stops after ~5 s of silence, as
                                                against the Hub)
    GET    /api/spaces/{id}/refs                branches (main) and tags, each with its target commit
    GET    /api/spaces/{id}/commits/{rev}       the history from {rev} back, newest first
    POST   /api/spaces/{id}/tag/{rev}           a tag; it changes no file, so nothing rebuilds (409 if taken)
    DELETE /api/spaces/{id}/tag/{tag}
    GET    /api/spaces?author=&search=          the Spaces the token may see (private ones: its own, its orgs')
    *      LFS batch and Xet token endpoints    501 with a message saying the emulator stores no LFS/Xet

Lifecycle after each commit (and after a restart or a change of variables or secrets): the
runtime keeps reporting the previous stage for `commit_lag` seconds (the Hub's lag: a
deploy must wait for a build stage before trusting a terminal one; the build stage lasts at
least `min_build_seconds` so a poller sees it), then CONFIG_ERROR (front
matter not a valid Space configuration), NO_APP_FILE (docker sdk without `Dockerfile`), or
BUILDING (RUNNING_BUILDING while a previous app still serves) -> BUILD_ERROR, or APP_STARTING
-> RUNNING once the app answers HTTP on its port, or RUNTIME_ERROR (the app exited, or did
not answer within `startup_timeout`) with `errorMessage` and the app's output in the run log.
An app that exits later also turns RUNNING into RUNTIME_ERROR.

A test hook, `seed(space_id, files, stage=..., error=..., build_log=[...], run_log=[...],
variables=..., secrets=..., hardware=..., current_hardware=..., host=..., logs_status=...)`, puts a
Space straight into a state as the Hub would report it (RUNTIME_ERROR with a launch timeout, a
build killed by memory, a scheduling failure, a log endpoint that answers 404 or 500), so every
cause `hfspace doctor` names can be tested through the real client. The error messages and log
lines the tests seed are quoted from public reports (each test cites its thread). Three are
not known from a report of a Space and are the software's own words instead: a run log with
a server bound to 127.0.0.1 (uvicorn's start-up line), a crash loop (the Hub's start-up
banner, twice), and `[Errno 30] Read-only file system` (Python's message).

Where it departs from the real Hub:
- Only Space repositories; no models/datasets, branches other than main, pull requests,
  pagination, `expand` on trees or discussions. Every revision is kept: files, tree and
  space_info at any commit or tag; commit history (`/commits/{rev}`), refs and tags.
- No LFS and no Xet: preupload answers `lfs` for files over 10 MB, binary samples and
  `.gitattributes` LFS patterns (as the Hub decides), and the upload that follows fails with
  a 501 that says so. Small text files (every Space folder of this project) take the
  regular path.
- `host` is the local URL the runner reports (`http://127.0.0.1:PORT`), absent until an app
  has started once; `domains[0].domain` is that `127.0.0.1:PORT`. `subdomain` and the app's
  `SPACE_HOST` are computed the Hub's way (`owner-name`, `owner-name.hf.space`). Private
  Spaces' apps are not behind an auth proxy.
- Auth is simplified: a fixed table of tokens (write or read role), users, orgs and their
  plan (free or paid); no OAuth, fine-grained scopes, gated repos or rate limits.
- Repo creation checks the plan before existence: a free account gets 402 even for a Space
  it already has (the client's `exist_ok=True` then finds it, as its code expects of the Hub).
- validate-yaml rejects only YAML that does not parse or is not a mapping; whether the
  values make a valid Space configuration is decided after the commit (CONFIG_ERROR).
- ProcessRunner does not isolate anything: the command runs on the host from a copy of
  the commit's files, with `PORT` set to a free port (the platform sets no PORT: apps
  that only listen on `app_port` need DockerRunner), the Dockerfile's final-stage ENV
  (except PATH and HOME), this process's PATH with the current interpreter's folder first.
  Its "build" installs a Node folder's dependencies (`npm ci --omit=dev`, as the image build
  does) and checks that the Dockerfile has a CMD/ENTRYPOINT whose executable resolves; a
  Python folder runs on this process's interpreter environment.
- Static Spaces report RUNNING without serving anything, at the `https://OWNER-NAME.static.hf.space`
  address the Hub would give them from their creation; gradio Spaces end in BUILD_ERROR.
- ProcessRunner's "build" fails by the Dockerfile's content only where a RUN step is plainly
  `exit N` or `false` (DockerRunner really builds).
- Readiness is "any HTTP answer to GET /"; hardware is always cpu-basic, nothing sleeps.
- Every commit rebuilds, even one that changes nothing (the client makes no such commit).
- Build stages last at least `min_build_seconds` (a ProcessRunner "build" takes
  milliseconds; a poller must still be able to see it start).
"""

from __future__ import annotations

import base64
import contextlib
import fnmatch
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Protocol

import yaml

from hfspace.host import docker_client, free_port, status
from hfspace.space import load as load_space

Log = Callable[[str], None]

SDKS = ("gradio", "docker", "static")
PAID_SDKS = ("gradio", "docker")
COLORS = ("red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray")
HARDWARE = (  # noqa: SIM905 (one word per flavour reads better than a 16-line list)
    "cpu-basic cpu-upgrade t4-small t4-medium l4x1 l4x4 l40sx1 l40sx4 l40sx8 a10g-small a10g-large "
    "a10g-largex2 a10g-largex4 a100-large a100x4 a100x8"
).split()
CUSTOM_HEADERS = {
    "cross-origin-embedder-policy": ("unsafe-none", "require-corp", "credentialless"),
    "cross-origin-opener-policy": ("same-origin", "same-origin-allow-popups", "unsafe-none"),
    "cross-origin-resource-policy": ("same-site", "same-origin", "cross-origin"),
}
LFS_THRESHOLD = 10 * 1000 * 1000  # "files over 10 MB need LFS/Xet"
DEFAULT_APP_PORT = 7860
GC_TIMEOUT = 172800  # free cpu-basic sleeps after 48 h
# The .gitattributes the Hub commits into every new repository (abridged).
GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n"
    for pattern in (  # noqa: SIM905
        "*.7z *.arrow *.bin *.bz2 *.ckpt *.ftz *.gz *.h5 *.joblib *.lfs.* *.mlmodel *.model *.msgpack *.npy *.npz "
        "*.onnx *.ot *.parquet *.pb *.pickle *.pkl *.pt *.pth *.rar *.safetensors saved_model/**/* *.tar.* *.tar "
        "*.tflite *.tgz *.wasm *.xz *.zip *.zst *tfevents*"
    ).split()
)
NOT_FOUND = "Repository not found"
BAD_CREDENTIALS = "Invalid credentials in Authorization header"
ANONYMOUS = "Invalid username or password."
NO_LFS = (
    "The Hub emulator stores no LFS/Xet files: keep Space files small text files (under 10 MB, no binary), "
    "or test this upload against the real Hub."
)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def git_blob_oid(data: bytes) -> str:
    return hashlib.sha1(b"blob %d\0" % len(data) + data, usedforsecurity=False).hexdigest()


# --- users ------------------------------------------------------------------------


@dataclass(frozen=True)
class User:
    """A Hub account and its access token. `role` is the token's: "write" or "read"."""

    name: str
    token: str
    role: str = "write"
    orgs: tuple[str, ...] = ()
    free: bool = False  # on a free plan: cannot create docker or gradio Spaces


# --- the Space card and the repository's files -----------------------------------


class CardError(ValueError):
    pass


def front_matter(readme: bytes | None) -> dict | None:
    """The README's YAML front matter (None without one); CardError when it does not parse."""
    if readme is None:
        return None
    text = readme.decode("utf-8", errors="replace").replace("\r\n", "\n")
    match = re.match(r"\A---[ \t]*\n(.*?\n)?---[ \t]*(\n|\Z)", text, re.DOTALL)
    if not match:
        return None
    try:
        data = yaml.safe_load(match.group(1) or "")
    except yaml.YAMLError as error:
        raise CardError(f"Invalid YAML in README.md front matter: {error}") from error
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise CardError("README.md front matter must be a YAML mapping")
    return data


def config_problem(card: dict | None) -> str | None:
    """Why this front matter is not a valid Space configuration (None when it is)."""
    if card is None:
        return "Missing configuration in README.md: a Space needs YAML front matter with `sdk`"
    sdk = card.get("sdk")
    if sdk not in SDKS:
        return f"Invalid `sdk` {sdk!r} in README.md: expected one of {', '.join(SDKS)}"
    port = card.get("app_port", DEFAULT_APP_PORT)
    if isinstance(port, bool) or not isinstance(port, int) or not 1 <= port <= 65535:
        return f"Invalid `app_port` {port!r} in README.md: expected an integer port"
    for key in ("colorFrom", "colorTo"):
        if key in card and card[key] not in COLORS:
            return f"Invalid `{key}` {card[key]!r} in README.md: expected one of {', '.join(COLORS)}"
    if "base_path" in card and not str(card["base_path"]).startswith("/"):
        return "Invalid `base_path` in README.md: it must start with /"
    if "header" in card and card["header"] not in ("mini", "default"):
        return "Invalid `header` in README.md: expected mini or default"
    if "suggested_hardware" in card and card["suggested_hardware"] not in HARDWARE:
        return f"Invalid `suggested_hardware` {card['suggested_hardware']!r} in README.md"
    timeout = card.get("startup_duration_timeout")
    if timeout is not None and not re.fullmatch(r"\d+(\.\d+)?[smhd]", str(timeout)):
        return f"Invalid `startup_duration_timeout` {timeout!r} in README.md: expected a duration like 30m or 1h"
    headers = card.get("custom_headers")
    if headers is not None:
        if not isinstance(headers, dict):
            return "Invalid `custom_headers` in README.md: expected a mapping"
        for key, value in headers.items():
            if key not in CUSTOM_HEADERS or value not in CUSTOM_HEADERS[key]:
                return f"Invalid custom header {key}: {value} in README.md"
    return None


def gitignore_matcher(text: str) -> Callable[[str], bool]:
    """A .gitignore's rules as a predicate on repository paths (the common subset of git's syntax)."""
    rules: list[tuple[re.Pattern, bool, bool]] = []
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line or line.startswith("#"):
            continue
        negate = line.startswith("!")
        line = line[1:] if negate else line
        dir_only = line.endswith("/")
        line = line.rstrip("/")
        anchored = "/" in line
        body = _glob_regex(line.lstrip("/"))
        regex = re.compile(("^" if anchored else "^(?:.*/)?") + body + "$")
        rules.append((regex, negate, dir_only))

    def ignored(path: str) -> bool:
        parts = path.split("/")
        dirs = ["/".join(parts[:i]) for i in range(1, len(parts))]
        result = False
        for regex, negate, dir_only in rules:
            candidates = dirs if dir_only else [*dirs, path]
            if any(regex.match(candidate) for candidate in candidates):
                result = not negate
        return result

    return ignored


def _glob_regex(pattern: str) -> str:
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        elif pattern[i] == "[" and "]" in pattern[i + 1 :]:
            end = pattern.index("]", i + 1)
            out.append("[" + pattern[i + 1 : end].replace("!", "^", 1) + "]")
            i = end + 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return "".join(out)


def lfs_patterns(gitattributes: bytes | None) -> list[str]:
    if not gitattributes:
        return []
    patterns = []
    for line in gitattributes.decode("utf-8", errors="replace").splitlines():
        fields = line.split()
        if len(fields) > 1 and "filter=lfs" in fields[1:]:
            patterns.append(fields[0])
    return patterns


def is_lfs_path(path: str, patterns: list[str]) -> bool:
    name = path.rsplit("/", 1)[-1]
    return any(fnmatch.fnmatchcase(path if "/" in pattern else name, pattern) for pattern in patterns)


@dataclass
class Commit:
    oid: str
    parent: str | None
    files: dict[str, bytes]
    summary: str
    description: str
    date: str


def make_commit(parent: Commit | None, files: dict[str, bytes], summary: str, description: str) -> Commit:
    tree = "".join(f"{path}\0{git_blob_oid(data)}\n" for path, data in sorted(files.items()))
    date = now_iso()
    seed = f"tree {hashlib.sha1(tree.encode(), usedforsecurity=False).hexdigest()}\n"
    seed += f"parent {parent.oid if parent else ''}\n{date}\n{summary}\n{description}\n{uuid.uuid4()}"
    oid = hashlib.sha1(seed.encode(), usedforsecurity=False).hexdigest()
    return Commit(oid, parent.oid if parent else None, files, summary, description, date)


# --- runners: how a committed Space is built and started -------------------------


class BuildFailed(Exception):
    """The Space's image could not be built; the message becomes the runtime's errorMessage."""


@dataclass
class SpaceContext:
    """What a runner gets to build and start one commit of a Space."""

    space_id: str
    commit: str
    files_dir: Path
    app_port: int
    variables: dict[str, str]
    secrets: dict[str, str]


class RunningApp(Protocol):
    url: str

    def exit_code(self) -> int | None: ...
    def wait(self) -> int: ...
    def stop(self) -> None: ...


class SpaceRunner(Protocol):
    def build(self, space: SpaceContext, log: Log) -> None: ...
    def start(self, space: SpaceContext, env: dict[str, str], log: Log) -> RunningApp: ...
    def close(self) -> None: ...


def _pump(stream, log: Log) -> threading.Thread:
    """Forward a byte stream to `log`, line by line, in a thread."""

    def run():
        with stream:
            for raw in iter(stream.readline, b""):
                log(raw.decode("utf-8", errors="replace").rstrip("\r\n"))

    thread = threading.Thread(target=run, daemon=True, name="hub-emulator-log")
    thread.start()
    return thread


class _Process:
    def __init__(self, process: subprocess.Popen, url: str, log: Log):
        self.process, self.url = process, url
        self._reader = _pump(process.stdout, log)

    def exit_code(self) -> int | None:
        return self.process.poll()

    def wait(self) -> int:
        code = self.process.wait()
        self._reader.join(5)
        return code

    def stop(self) -> None:
        """SIGTERM to the whole process group (workers too), SIGKILL after 10 s."""
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


class ProcessRunner:
    """Runs the Dockerfile's final-stage ENTRYPOINT/CMD as a local process on a free port
    (PORT set), from a copy of the commit's files. No image is built: the "build" checks
    that the Dockerfile exists and that the command's executable resolves."""

    def __init__(self, path: str | None = None):
        interpreter_dir = str(Path(sys.executable).parent)
        self.path = path or os.pathsep.join([interpreter_dir, os.environ.get("PATH", os.defpath)])

    def command(self, files_dir: Path) -> tuple[list[str], dict[str, str]]:
        """The command and ENV the image would run with, as hfspace's Space model reads them."""
        space = load_space(files_dir)
        argv = space.command.argv if space.command else None
        if not argv:
            raise BuildFailed("The Dockerfile has no CMD or ENTRYPOINT")
        return argv, {key: value for key, value in space.run_env().items() if key not in ("PATH", "HOME")}

    def resolve(self, executable: str, files_dir: Path) -> str | None:
        if "/" in executable:
            candidate = files_dir / executable if not executable.startswith("/") else Path(executable)
            return str(candidate) if candidate.exists() else None
        return shutil.which(executable, path=self.path)

    def build(self, space: SpaceContext, log: Log) -> None:
        log("--> ProcessRunner: no image is built; the Dockerfile's command runs as a local process")
        if (space.files_dir / "package-lock.json").is_file():
            # What a Node image's build does: its production dependencies from the lockfile.
            self._install(["npm", "ci", "--omit=dev", "--no-audit", "--no-fund"], space, log)
        for ins in load_space(space.files_dir).dockerfile.instructions:
            step = re.fullmatch(r"(?:exit\s+(?P<code>[1-9]\d*)|false)", ins.rest.strip())
            if ins.name == "RUN" and step:  # a step that fails, as `docker build` would run it
                log(f"--> RUN {ins.rest.strip()}")
                code = step.group("code") or "1"
                log(f'ERROR: process "/bin/sh -c {ins.rest.strip()}" did not complete successfully: exit code: {code}')
                raise BuildFailed(f"Job failed with exit code: {code}")
        argv, _ = self.command(space.files_dir)
        resolved = self.resolve(argv[0], space.files_dir)
        if resolved is None:
            log(f"--> ERROR: executable {argv[0]!r} of the command {json.dumps(argv)} not found on PATH")
            raise BuildFailed(f"Executable not found: {argv[0]}")
        log(f"--> CMD {json.dumps(argv)}: {argv[0]} resolves to {resolved}")
        log("--> Build complete")

    def _install(self, command: list[str], space: SpaceContext, log: Log) -> None:
        log(f"--> RUN {' '.join(command)}")
        try:
            result = subprocess.run(
                command, cwd=space.files_dir, env={**os.environ, "PATH": self.path}, capture_output=True,
                text=True, timeout=300, check=False,
            )  # fmt: skip
        except (OSError, subprocess.TimeoutExpired) as error:
            log(f"--> ERROR: {error}")
            raise BuildFailed(f"{command[0]} failed: {error}") from None
        for line in (result.stdout + result.stderr).splitlines():
            log(line)
        if result.returncode != 0:
            raise BuildFailed(f"{' '.join(command)} exited with {result.returncode}")

    def start(self, space: SpaceContext, env: dict[str, str], log: Log) -> RunningApp:
        argv, image_env = self.command(space.files_dir)
        port = free_port()
        full_env = {
            "PATH": self.path,
            "HOME": str(space.files_dir),
            "LANG": "C.UTF-8",
            **image_env,
            **env,
            "PORT": str(port),
        }
        process = subprocess.Popen(
            [self.resolve(argv[0], space.files_dir) or argv[0], *argv[1:]],
            cwd=space.files_dir,
            env=full_env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return _Process(process, f"http://127.0.0.1:{port}", log)

    def close(self) -> None:
        pass


DOCKER = docker_client()


class _Container:
    def __init__(self, name: str, url: str, docker: str, log: Log):
        self.name, self.url, self.docker = name, url, docker
        logs = subprocess.Popen(
            [docker, "logs", "--follow", name],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        self._logs = logs
        self._reader = _pump(logs.stdout, log)

    def exit_code(self) -> int | None:
        result = subprocess.run(
            [self.docker, "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}}", self.name],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        if result.returncode != 0:
            return -1
        running, code = result.stdout.split()
        return None if running == "true" else int(code)

    def wait(self) -> int:
        result = subprocess.run([self.docker, "wait", self.name], capture_output=True, text=True, check=False)
        self._reader.join(5)
        try:
            return int(result.stdout.strip())
        except ValueError:
            return -1

    def stop(self) -> None:
        subprocess.run([self.docker, "stop", "--time", "10", self.name], capture_output=True, timeout=60, check=False)
        subprocess.run([self.docker, "rm", "--force", self.name], capture_output=True, timeout=60, check=False)
        self._logs.wait(10)


class DockerRunner:
    """Builds the Space's image with BuildKit (variables as build args, secrets as build
    secrets) and runs it as a Space runs: as the image's USER (writable where the build gave it ownership), PORT
    unset, `app_port` published on 127.0.0.1 only."""

    def __init__(self, build_args: Mapping[str, str] | None = None, docker: str = DOCKER, build_timeout: float = 900):
        self.build_args = dict(build_args or {})
        self.docker = docker
        self.build_timeout = build_timeout
        self.images: set[str] = set()
        self.label = f"hub-emulator={uuid.uuid4().hex[:8]}"

    def tag(self, space: SpaceContext) -> str:
        slug = re.sub(r"[^a-z0-9_.-]+", "-", space.space_id.lower().replace("/", "-"))
        return f"hub-emulator/{slug}:{space.commit[:12]}"

    def build(self, space: SpaceContext, log: Log) -> None:
        tag = self.tag(space)
        args = [self.docker, "build", "--progress=plain", "--tag", tag, "--label", self.label]
        for key, value in {**space.variables, **self.build_args}.items():
            args += ["--build-arg", f"{key}={value}"]
        with tempfile.TemporaryDirectory(prefix="hub-emulator-secrets-") as secrets_dir:
            for key, value in space.secrets.items():
                path = Path(secrets_dir) / key
                path.write_text(value)
                path.chmod(0o600)
                args += ["--secret", f"id={key},src={path}"]
            log(f"--> docker build {space.space_id}@{space.commit[:12]}")
            process = subprocess.Popen(
                [*args, str(space.files_dir)],
                env={**os.environ, "DOCKER_BUILDKIT": "1"},
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
            )
            reader = _pump(process.stdout, log)
            try:
                code = process.wait(self.build_timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                code = process.wait()
            reader.join(10)
        if code != 0:
            raise BuildFailed(f"Build failed with exit code: {code}")
        self.images.add(tag)

    def start(self, space: SpaceContext, env: dict[str, str], log: Log) -> RunningApp:
        port = free_port()
        name = f"hub-emulator-{uuid.uuid4().hex[:10]}"
        with tempfile.TemporaryDirectory(prefix="hub-emulator-env-") as env_dir:
            env_file = Path(env_dir) / "env"
            env_file.write_text("".join(f"{key}={value}\n" for key, value in env.items() if "\n" not in value))
            env_file.chmod(0o600)
            result = subprocess.run(
                [
                    *(self.docker, "run", "--detach", "--name", name, "--label", self.label),
                    *("--publish", f"127.0.0.1:{port}:{space.app_port}", "--env-file", str(env_file)),
                    self.tag(space),
                ],
                capture_output=True,
                text=True,
                timeout=120,
                check=False,
            )
        if result.returncode != 0:
            log(result.stderr.strip())
            raise BuildFailed(f"The container did not start: {result.stderr.strip()[-300:]}")
        return _Container(name, f"http://127.0.0.1:{port}", self.docker, log)

    def close(self) -> None:
        containers = subprocess.run(
            [self.docker, "ps", "--all", "--quiet", "--filter", f"label={self.label}"],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        ).stdout.split()
        if containers:
            subprocess.run([self.docker, "rm", "--force", *containers], capture_output=True, timeout=120, check=False)
        if self.images:
            subprocess.run(
                [self.docker, "image", "rm", "--force", *sorted(self.images)],
                capture_output=True,
                timeout=120,
                check=False,
            )
        self.images.clear()


# --- a Space and its runtime -----------------------------------------------------


class LogBuffer:
    """One build's or one run's log lines; `closed` once that build or run is over."""

    def __init__(self, closed: bool = False):
        self.lines: list[tuple[str, str]] = []
        self.closed = closed


@dataclass
class Space:
    id: str
    sdk: str
    visibility: str
    created_at: str
    commits: list[Commit]
    variables: dict[str, dict] = field(default_factory=dict)
    secrets: dict[str, dict] = field(default_factory=dict)
    secret_values: dict[str, str] = field(default_factory=dict)
    hardware: str = "cpu-basic"
    # runtime
    tags: dict[str, str] = field(default_factory=dict)  # tag name -> commit id
    current_hardware: str | None = None  # seeded: what runs now (None: as the stage implies)
    logs_status: int | None = None  # seeded: the log endpoint answers this status instead of the logs
    stage: str = "NO_APP_FILE"
    error: str | None = None
    gen: int = 0
    app: RunningApp | None = None
    host: str | None = None
    build_log: LogBuffer = field(default_factory=lambda: LogBuffer(closed=True))
    run_log: LogBuffer = field(default_factory=lambda: LogBuffer(closed=True))

    @property
    def owner(self) -> str:
        return self.id.split("/")[0]

    @property
    def name(self) -> str:
        return self.id.split("/")[1]

    @property
    def head(self) -> Commit:
        return self.commits[-1]

    @property
    def subdomain(self) -> str:
        return re.sub(r"[/_.]", "-", self.id.lower())

    def card(self, commit: Commit | None = None) -> dict | None:
        try:
            return front_matter((commit or self.head).files.get("README.md"))
        except CardError:
            return None

    def commit(self, rev: str) -> Commit | None:
        rev = urllib.parse.unquote(rev).removeprefix("refs/heads/").removeprefix("refs/tags/")
        if rev == "main":
            return self.head
        if rev in self.tags:
            rev = self.tags[rev]
        return next((c for c in reversed(self.commits) if len(rev) >= 7 and c.oid.startswith(rev)), None)


class HttpError(Exception):
    def __init__(self, status: int, message: str, code: str | None = None, **extra):
        super().__init__(message)
        self.status, self.message, self.code, self.extra = status, message, code, extra


class HubEmulator:
    """The emulated Hub: `start()`/`stop()` (or a `with` block), `url` for the client.

    `users`: a mapping token -> user name (write tokens), or `User` objects. `orgs`: org ->
    member names. `free_accounts`: user or org names on a free plan (402 on docker/gradio
    Space creation). `space_runner`: ProcessRunner (default) or DockerRunner.
    """

    def __init__(
        self,
        users: Mapping[str, str] | Iterable[User] | None = None,
        *,
        orgs: Mapping[str, Iterable[str]] | None = None,
        free_accounts: Iterable[str] = (),
        space_runner: SpaceRunner | None = None,
        commit_lag: float = 0.5,
        min_build_seconds: float = 0.5,
        startup_timeout: float = 30.0,
        host: str = "127.0.0.1",
        port: int = 0,
    ):
        if users is None:
            users = {"hf_emulator_token": "me"}
        members = {org: set(names) for org, names in (orgs or {}).items()}
        given = [User(name, token) for token, name in users.items()] if isinstance(users, Mapping) else list(users)
        self.users: dict[str, User] = {}
        for user in given:
            user_orgs = tuple(sorted({*user.orgs, *(org for org, names in members.items() if user.name in names)}))
            self.users[user.token] = User(user.name, user.token, user.role, user_orgs, user.free)
        # Names (users and orgs) on a free plan; tests may change it while the emulator runs.
        self.free_accounts = set(free_accounts) | {user.name for user in given if user.free}
        self.runner: SpaceRunner = space_runner or ProcessRunner()
        self.commit_lag = commit_lag
        self.min_build_seconds = min_build_seconds
        self.startup_timeout = startup_timeout
        self.spaces: dict[str, Space] = {}
        self.requests: list[tuple[str, str]] = []  # (method, path) of every request, for tests
        self.cond = threading.Condition(threading.RLock())
        self.closing = False
        self._threads: list[threading.Thread] = []
        self._workdir: Path | None = None
        self._server: ThreadingHTTPServer | None = None
        self._bind = (host, port)

    # -- lifecycle of the emulator itself

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the emulator is not started")
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self) -> HubEmulator:
        self._workdir = Path(tempfile.mkdtemp(prefix="hub-emulator-"))
        server = ThreadingHTTPServer(self._bind, _handler_class(self))
        server.daemon_threads = True
        self._server = server
        thread = threading.Thread(target=server.serve_forever, daemon=True, name="hub-emulator-http")
        thread.start()
        return self

    def stop(self) -> None:
        with self.cond:
            self.closing = True
            apps = []
            for space in self.spaces.values():
                space.gen += 1
                if space.app is not None:
                    apps.append(space.app)
                    space.app = None
                space.build_log.closed = space.run_log.closed = True
            self.cond.notify_all()
        for app in apps:
            app.stop()
        for thread in list(self._threads):
            thread.join(timeout=15)
        self.runner.close()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._workdir is not None:
            shutil.rmtree(self._workdir, ignore_errors=True)

    def __enter__(self) -> HubEmulator:
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    # -- read-only views for tests

    def files(self, space_id: str, rev: str = "main") -> dict[str, bytes]:
        with self.cond:
            commit = self.spaces[space_id].commit(rev)
            return dict(commit.files) if commit else {}

    def commit_ids(self, space_id: str) -> list[str]:
        with self.cond:
            return [commit.oid for commit in self.spaces[space_id].commits]

    def stage(self, space_id: str) -> str:
        with self.cond:
            return self.spaces[space_id].stage

    # -- a test hook: a Space put straight into a state, as the Hub would show it

    def seed(
        self,
        space_id: str,
        files: Mapping[str, str | bytes],
        *,
        stage: str,
        error: str | None = None,
        build_log: Iterable[str] = (),
        run_log: Iterable[str] = (),
        variables: Mapping[str, str] | None = None,
        secrets: Mapping[str, str] | None = None,
        hardware: str = "cpu-basic",
        current_hardware: str | None = None,
        host: str | None = None,
        logs_status: int | None = None,
        visibility: str = "public",
        committed_minutes_ago: float = 0,
    ) -> None:
        """Create `space_id` holding `files`, in `stage`, with `error` as its runtime errorMessage and
        these log lines, without building or running anything. `logs_status` makes the log endpoint
        answer that HTTP status (404, 500) instead; `host` is the URL its app answers on (RUNNING);
        `committed_minutes_ago` dates its last commit (a build queued that long)."""
        data = {path: value.encode() if isinstance(value, str) else value for path, value in files.items()}
        commit = make_commit(None, data, "Seeded by a test", "")
        if committed_minutes_ago:
            stamp = datetime.fromtimestamp(time.time() - committed_minutes_ago * 60, UTC)
            commit.date = stamp.isoformat(timespec="milliseconds").replace("+00:00", "Z")
        try:
            card = front_matter(data.get("README.md")) or {}
        except CardError:
            card = {}
        space = Space(space_id, str(card.get("sdk", "docker")), visibility, commit.date, [commit], hardware=hardware)
        space.variables = {
            k: {"value": v, "description": None, "updatedAt": now_iso()} for k, v in (variables or {}).items()
        }
        space.secrets = {k: {"description": None, "updatedAt": now_iso()} for k in (secrets or {})}
        space.secret_values = dict(secrets or {})
        space.stage, space.error, space.host = stage, error, host
        space.current_hardware, space.logs_status = current_hardware, logs_status
        space.build_log = LogBuffer(closed=True)
        space.build_log.lines = [(now_iso(), line) for line in build_log]
        space.run_log = LogBuffer(closed=True)
        space.run_log.lines = [(now_iso(), line) for line in run_log]
        with self.cond:
            self.spaces[space_id] = space

    # -- the Space lifecycle

    def trigger(self, space: Space, lag: float) -> None:
        """Rebuild and restart `space` from its head commit, in the background."""
        with self.cond:
            if self.closing:
                return
            space.gen += 1
            gen = space.gen
            context = SpaceContext(
                space_id=space.id,
                commit=space.head.oid,
                files_dir=Path(),
                app_port=DEFAULT_APP_PORT,
                variables={key: value["value"] for key, value in space.variables.items()},
                secrets=dict(space.secret_values),
            )
            files = dict(space.head.files)
        thread = threading.Thread(
            target=self._lifecycle, args=(space, gen, context, files, lag), daemon=True, name="hub-emulator-space"
        )
        self._threads = [t for t in self._threads if t.is_alive()] + [thread]
        thread.start()

    def _current(self, space: Space, gen: int) -> bool:
        return space.gen == gen and not self.closing

    def _set(self, space: Space, gen: int, stage: str, error: str | None = None) -> bool:
        with self.cond:
            if not self._current(space, gen):
                return False
            space.stage, space.error = stage, error
            self.cond.notify_all()
            return True

    def _logger(self, space: Space, buffer: LogBuffer) -> Log:
        def log(line: str) -> None:
            with self.cond:
                buffer.lines.append((now_iso(), line))
                self.cond.notify_all()

        return log

    def _lifecycle(self, space: Space, gen: int, context: SpaceContext, files: dict[str, bytes], lag: float) -> None:
        try:
            self._run_lifecycle(space, gen, context, files, lag)
        except Exception as error:  # a runner bug must not leave the Space building forever
            if self._set(space, gen, "RUNTIME_ERROR", f"Hub emulator: {type(error).__name__}: {error}"):
                with self.cond:
                    space.build_log.closed = space.run_log.closed = True
                    self.cond.notify_all()

    def _run_lifecycle(self, space: Space, gen: int, context: SpaceContext, files: dict[str, bytes], lag: float):
        self._pause(space, gen, lag)
        stage, problem, card = precheck(files)
        if stage is not None:
            self._stop_app(space, gen)
            self._set(space, gen, stage, problem)
            return
        context.app_port = card.get("app_port", DEFAULT_APP_PORT)
        build_log = LogBuffer()
        with self.cond:
            if not self._current(space, gen):
                return
            space.build_log.closed = True
            space.build_log = build_log
            running = space.app is not None and space.stage in ("RUNNING", "RUNNING_BUILDING")
            space.stage, space.error = ("RUNNING_BUILDING" if running else "BUILDING"), None
            self.cond.notify_all()
        log = self._logger(space, build_log)
        build_started, failure = time.monotonic(), None
        try:
            if card["sdk"] == "gradio":
                log("--> The Hub emulator runs docker and static Spaces only")
                raise BuildFailed("The Hub emulator cannot build gradio Spaces")
            if card["sdk"] == "static":
                log("--> static Space: nothing to build")
            else:
                context.files_dir = self._materialise(files, context.commit, gen)
                self.runner.build(context, log)
        except BuildFailed as error:
            failure = error
        # A real build takes seconds: keep the build stage visible to pollers for at least that long.
        self._pause(space, gen, self.min_build_seconds - (time.monotonic() - build_started))
        self._finish_log(build_log)
        if failure is not None:
            self._stop_app(space, gen)
            self._set(space, gen, "BUILD_ERROR", str(failure))
            return
        if card["sdk"] == "static":
            self._stop_app(space, gen)
            self._set(space, gen, "RUNNING")
            return
        self._stop_app(space, gen)
        run_log = LogBuffer()
        with self.cond:
            if not self._current(space, gen):
                return
            space.run_log.closed = True
            space.run_log = run_log
            space.stage = "APP_STARTING"
            self.cond.notify_all()
        log = self._logger(space, run_log)
        try:
            app = self.runner.start(context, self._space_env(space, card, context), log)
        except BuildFailed as error:
            self._finish_log(run_log)
            self._set(space, gen, "RUNTIME_ERROR", str(error))
            return
        with self.cond:
            if not self._current(space, gen):
                superseded = True
            else:
                superseded = False
                space.app = app
        if superseded:
            app.stop()
            self._finish_log(run_log)
            return
        self._await_ready(space, gen, app, run_log)

    def _pause(self, space: Space, gen: int, seconds: float) -> None:
        """Sleep up to `seconds`, cut short when the Space moves on to a newer generation."""
        deadline = time.monotonic() + seconds
        with self.cond:
            while self._current(space, gen) and time.monotonic() < deadline:
                self.cond.wait(deadline - time.monotonic())

    def _await_ready(self, space: Space, gen: int, app: RunningApp, run_log: LogBuffer) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while True:
            if not self._current(space, gen):
                return
            code = app.exit_code()
            if code is not None:
                code = app.wait()
                self._finish_log(run_log)
                self._app_failed(space, gen, app, f"Exit code: {code}. Reason: {self._tail(run_log)}")
                return
            if status(app.url + "/", timeout=1) is not None:
                break  # any HTTP answer: the app is listening (docker-proxy's dropped connections are not one)
            if time.monotonic() > deadline:
                self._finish_log(run_log)
                self._app_failed(
                    space, gen, app, f"Launch timed out, workload was not healthy after {self.startup_timeout:g}s"
                )
                return
            time.sleep(0.1)
        with self.cond:
            if not self._current(space, gen):
                return
            space.stage, space.error, space.host = "RUNNING", None, app.url
            self.cond.notify_all()
        code = app.wait()
        self._finish_log(run_log)
        self._app_failed(space, gen, app, f"Exit code: {code}. Reason: {self._tail(run_log)}")

    def _app_failed(self, space: Space, gen: int, app: RunningApp, message: str) -> None:
        with self.cond:
            if not self._current(space, gen) or space.app is not app:
                return
            space.app = None
            space.stage, space.error = "RUNTIME_ERROR", message
            self.cond.notify_all()
        app.stop()

    def _stop_app(self, space: Space, gen: int) -> None:
        with self.cond:
            if not self._current(space, gen):
                return
            app, space.app = space.app, None
            space.run_log.closed = True
            self.cond.notify_all()
        if app is not None:
            app.stop()

    def _finish_log(self, buffer: LogBuffer) -> None:
        with self.cond:
            buffer.closed = True
            self.cond.notify_all()

    def _tail(self, buffer: LogBuffer, lines: int = 5) -> str:
        with self.cond:
            return "\n".join(line for _, line in buffer.lines[-lines:]).strip() or "no output"

    def _materialise(self, files: dict[str, bytes], commit: str, gen: int) -> Path:
        assert self._workdir is not None
        root = self._workdir / f"{commit[:12]}-{gen}-{uuid.uuid4().hex[:6]}"
        for path, data in files.items():
            target = root / path
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(data)
        return root

    def _space_env(self, space: Space, card: dict, context: SpaceContext) -> dict[str, str]:
        env = {
            "SPACE_ID": space.id,
            "SPACE_HOST": f"{space.subdomain}.hf.space",
            "SPACE_AUTHOR_NAME": space.owner,
            "SPACE_REPO_NAME": space.name,
            "SPACE_TITLE": str(card.get("title", space.name)),
            "SPACE_CREATOR_USER_ID": hashlib.sha1(space.owner.encode(), usedforsecurity=False).hexdigest()[:24],
            "CPU_CORES": "2",
            "MEMORY": "16Gi",
            "ACCELERATOR": "none",
        }
        return {**env, **context.variables, **context.secrets}

    def runtime(self, space: Space) -> dict:
        with self.cond:
            started = space.host is not None
            data = {
                "stage": space.stage,
                "hardware": {
                    "current": space.current_hardware
                    or (space.hardware if space.stage in ("RUNNING", "RUNNING_BUILDING") else None),
                    "requested": space.hardware,
                },
                "storage": None,
                "gcTimeout": GC_TIMEOUT,
                "replicas": {"current": 1 if space.app else 0, "requested": 1},
                "devMode": False,
                "domains": [{"domain": urllib.parse.urlsplit(space.host).netloc, "stage": "READY"}] if started else [],
                "sdk": space.sdk,
            }
            if space.error:
                data["errorMessage"] = space.error
            return data


def precheck(files: dict[str, bytes]) -> tuple[str | None, str | None, dict]:
    """The stage a commit stops at before any build (CONFIG_ERROR, NO_APP_FILE), or None."""
    try:
        card = front_matter(files.get("README.md"))
    except CardError as error:
        return "CONFIG_ERROR", str(error), {}
    problem = config_problem(card)
    if problem:
        return "CONFIG_ERROR", problem, {}
    assert card is not None
    if card["sdk"] == "docker" and "Dockerfile" not in files:
        return "NO_APP_FILE", None, card
    return None, None, card


# --- HTTP ----------------------------------------------------------------------------

SPACE = r"/api/spaces/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)"
ROUTES: list[tuple[str, re.Pattern, str]] = [
    (method, re.compile(pattern + r"/?$"), handler)
    for method, pattern, handler in [
        ("GET", r"/api/whoami-v2", "whoami"),
        ("GET", r"/api/agent-harnesses", "agent_harnesses"),
        ("POST", r"/api/validate-yaml", "validate_yaml"),
        ("POST", r"/api/repos/create", "create_repo"),
        ("DELETE", r"/api/repos/delete", "delete_repo"),
        ("GET", SPACE, "space_info"),
        ("GET", SPACE + r"/revision/(?P<rev>[^/]+)", "space_info"),
        ("GET", SPACE + r"/tree/(?P<rev>[^/]+)(?:/(?P<path>.+))?", "tree"),
        ("POST", SPACE + r"/preupload/(?P<rev>[^/]+)", "preupload"),
        ("POST", SPACE + r"/commit/(?P<rev>[^/]+)", "commit"),
        ("GET", r"/spaces/(?P<owner>[\w.-]+)/(?P<name>[\w.-]+)/resolve/(?P<rev>[^/]+)/(?P<path>.+)", "resolve"),
        ("GET", SPACE + r"/secrets", "get_secrets"),
        ("POST", SPACE + r"/secrets", "add_secret"),
        ("DELETE", SPACE + r"/secrets", "delete_secret"),
        ("GET", SPACE + r"/variables", "get_variables"),
        ("POST", SPACE + r"/variables", "add_variable"),
        ("DELETE", SPACE + r"/variables", "delete_variable"),
        ("GET", SPACE + r"/runtime", "runtime"),
        ("POST", SPACE + r"/restart", "restart"),
        ("POST", SPACE + r"/pause", "pause"),
        ("GET", SPACE + r"/logs/(?P<kind>build|run)", "logs"),
        ("GET", SPACE + r"/refs", "refs"),
        ("GET", SPACE + r"/commits/(?P<rev>[^/]+)", "commits"),
        ("POST", SPACE + r"/tag/(?P<rev>[^/]+)", "create_tag"),
        ("DELETE", SPACE + r"/tag/(?P<tag>[^/]+)", "delete_tag"),
        ("GET", r"/api/spaces", "list_spaces"),
        ("GET", SPACE + r"/xet-(?:read|write)-token/.*", "no_lfs"),
        ("POST", r"/(?:spaces/)?[\w.-]+/[\w.-]+\.git/info/lfs/.*", "no_lfs"),
    ]
]
KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _handler_class(hub: HubEmulator) -> type[BaseHTTPRequestHandler]:
    class Handler(_Handler):
        pass

    Handler.hub = hub
    return Handler


class _Handler(BaseHTTPRequestHandler):
    hub: HubEmulator
    protocol_version = "HTTP/1.1"
    server_version = "HubEmulator/1"

    def log_message(self, format, *args):  # quiet: tests read the client's view, not an access log
        pass

    def do_GET(self):
        self._dispatch("GET")

    def do_POST(self):
        self._dispatch("POST")

    def do_DELETE(self):
        self._dispatch("DELETE")

    def do_HEAD(self):
        self._dispatch("GET")

    # -- plumbing

    def _dispatch(self, method: str) -> None:
        self.request_id = uuid.uuid4().hex
        parsed = urllib.parse.urlsplit(self.path)
        self.query = urllib.parse.parse_qs(parsed.query)
        with self.hub.cond:
            self.hub.requests.append((method if self.command != "HEAD" else "HEAD", parsed.path))
        try:
            self.body = self._read_body()
            for route_method, pattern, name in ROUTES:
                match = pattern.match(parsed.path)
                if match and route_method == method:
                    getattr(self, "h_" + name)(**match.groupdict())
                    return
            if any(pattern.match(parsed.path) for _, pattern, _ in ROUTES):
                raise HttpError(405, f"Method {method} not allowed")
            raise HttpError(404, "Sorry, we can't find the page you are looking for.")
        except HttpError as error:
            headers = {"X-Error-Message": error.message.encode("ascii", "replace").decode()}
            if error.code:
                headers["X-Error-Code"] = error.code
            self._json(error.status, {"error": error.message, **error.extra}, headers)
        except (BrokenPipeError, ConnectionResetError):
            pass
        except Exception as error:  # an emulator bug: say so in the answer rather than drop the connection
            self._json(500, {"error": f"Hub emulator error: {type(error).__name__}: {error}"})

    def _read_body(self) -> bytes:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _json_body(self) -> dict:
        try:
            data = json.loads(self.body or b"{}")
        except ValueError as error:
            raise HttpError(400, f"Invalid JSON body: {error}") from error
        if not isinstance(data, dict):
            raise HttpError(400, "Expected a JSON object")
        return data

    def _send(self, status: int, body: bytes, content_type: str, headers: Mapping[str, str] | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("X-Request-Id", self.request_id)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status: int, data, headers: Mapping[str, str] | None = None) -> None:
        self._send(status, json.dumps(data).encode(), "application/json; charset=utf-8", headers)

    # -- auth and access

    def _user(self, required: bool) -> User | None:
        header = self.headers.get("Authorization", "")
        if header:
            token = header.removeprefix("Bearer ").strip()
            user = self.hub.users.get(token)
            if user is None:
                raise HttpError(401, BAD_CREDENTIALS)
            return user
        if required:
            raise HttpError(401, ANONYMOUS)
        return None

    @staticmethod
    def _member(user: User | None, owner: str) -> bool:
        return user is not None and (user.name == owner or owner in user.orgs)

    def _space(self, owner: str, name: str, access: str = "read") -> tuple[Space, User | None]:
        """The Space, for `access` "read" (anyone if public), "owner" (a member's token) or "write"."""
        user = self._user(required=access != "read")
        space = self.hub.spaces.get(f"{owner}/{name}")
        if space is None or (space.visibility != "public" and not self._member(user, owner)):
            raise HttpError(404, NOT_FOUND, "RepoNotFound")
        if access != "read" and not self._member(user, owner):
            raise HttpError(403, f"You don't have the rights to manage the Space {space.id}")
        if access == "write" and user is not None and user.role != "write":
            raise HttpError(403, "This operation needs a token with the write role; this token is read-only")
        return space, user

    @staticmethod
    def _rev(space: Space, rev: str) -> Commit:
        commit = space.commit(rev)
        if commit is None:
            raise HttpError(404, f"Invalid rev id: {urllib.parse.unquote(rev)}", "RevisionNotFound")
        return commit

    # -- endpoints

    def h_whoami(self) -> None:
        user = self._user(required=True)
        assert user is not None
        self._json(
            200,
            {
                "type": "user",
                "id": hashlib.sha1(user.name.encode(), usedforsecurity=False).hexdigest()[:24],
                "name": user.name,
                "fullname": user.name,
                "isPro": user.name not in self.hub.free_accounts,
                "canPay": user.name not in self.hub.free_accounts,
                "emailVerified": True,
                "orgs": [
                    {
                        "type": "org",
                        "name": org,
                        "fullname": org,
                        "roleInOrg": "admin",
                        "plan": "free" if org in self.hub.free_accounts else "team",
                    }
                    for org in user.orgs
                ],
                "auth": {"type": "access_token", "accessToken": {"displayName": "emulator", "role": user.role}},
            },
        )

    def h_agent_harnesses(self) -> None:
        self._json(200, {"standardEnvVars": [], "harnesses": {}})

    def h_validate_yaml(self) -> None:
        body = self._json_body()
        try:
            card = front_matter(str(body.get("content", "")).encode())
        except CardError as error:
            self._json(400, {"errors": [{"message": str(error)}], "warnings": []})
            return
        warnings = [] if card else [{"message": "Empty or missing yaml metadata in repo card"}]
        self._json(200, {"errors": [], "warnings": warnings})

    def h_create_repo(self) -> None:
        user = self._user(required=True)
        assert user is not None
        body = self._json_body()
        name, owner = body.get("name"), body.get("organization") or user.name
        repo_type = body.get("type") or "model"
        if repo_type != "space":
            raise HttpError(400, f"The Hub emulator hosts Spaces only, not {repo_type} repositories")
        if not isinstance(name, str) or not re.fullmatch(r"[\w.-]{1,96}", name) or name.startswith((".", "-")):
            raise HttpError(400, f"Invalid repo name: {name!r}")
        if not self._member(user, owner):
            raise HttpError(403, f'You don\'t have the rights to create a space under the namespace "{owner}"')
        if user.role != "write":
            raise HttpError(403, "This operation needs a token with the write role; this token is read-only")
        sdk = body.get("sdk")
        if sdk not in SDKS:
            raise HttpError(400, f"Invalid sdk {sdk!r}: expected one of {', '.join(SDKS)}")
        if sdk in PAID_SDKS and owner in self.hub.free_accounts:
            plan = "PRO" if owner == user.name else "a Team or Enterprise plan"
            raise HttpError(
                402,
                f"Creating a {sdk} Space requires a paid plan: subscribe to {plan} "
                "(https://huggingface.co/pricing), or create a static Space.",
            )
        space_id = f"{owner}/{name}"
        visibility = body.get("visibility") or ("private" if body.get("private") else "public")
        if visibility not in ("public", "private", "protected"):
            raise HttpError(400, f"Invalid visibility {visibility!r}")
        hardware = body.get("hardware") or "cpu-basic"
        if hardware not in HARDWARE:
            raise HttpError(400, f"Invalid hardware {hardware!r}")
        for item in [*(body.get("secrets") or []), *(body.get("variables") or [])]:
            if not isinstance(item, dict) or not KEY_RE.match(str(item.get("key", ""))):
                raise HttpError(400, f"Invalid secret or variable: {item!r}")
        with self.hub.cond:
            if space_id in self.hub.spaces:
                # The client reads `url` from this answer when exist_ok=True.
                raise HttpError(409, "You already created this space repo", url=f"{self.hub.url}/spaces/{space_id}")
            readme = (
                f"---\ntitle: {name}\nemoji: 🚀\ncolorFrom: blue\ncolorTo: green\nsdk: {sdk}\npinned: false\n---\n\n"
                "Check out the configuration reference at https://huggingface.co/docs/hub/spaces-config-reference\n"
            )
            initial = make_commit(
                None, {".gitattributes": GITATTRIBUTES.encode(), "README.md": readme.encode()}, "initial commit", ""
            )
            stamp = now_iso()
            space = Space(space_id, sdk, visibility, stamp, [initial], hardware=hardware)
            for item in body.get("variables") or []:
                space.variables[item["key"]] = {
                    "value": str(item.get("value", "")),
                    "description": item.get("description"),
                    "updatedAt": stamp,
                }
            for item in body.get("secrets") or []:
                space.secrets[item["key"]] = {"description": item.get("description"), "updatedAt": stamp}
                space.secret_values[item["key"]] = str(item.get("value", ""))
            stage, problem, _ = precheck(initial.files)
            space.stage, space.error = stage or ("RUNNING" if sdk == "static" else "NO_APP_FILE"), problem
            if sdk == "static":  # served by the Hub itself: its address is known from the start
                space.host = f"https://{space.subdomain}.static.hf.space"
            self.hub.spaces[space_id] = space
        self._json(200, {"url": f"{self.hub.url}/spaces/{space_id}", "name": space_id, "id": uuid.uuid4().hex[:24]})

    def h_delete_repo(self) -> None:
        user = self._user(required=True)
        assert user is not None
        body = self._json_body()
        owner = body.get("organization") or user.name
        space, _ = self._space(owner, str(body.get("name")), "write")
        with self.hub.cond:
            space.gen += 1
            app, space.app = space.app, None
            del self.hub.spaces[space.id]
            self.hub.cond.notify_all()
        if app is not None:
            app.stop()
        self._json(200, {})

    def _info(self, space: Space, commit: Commit, blobs: bool = False) -> dict:
        card = space.card(commit)
        sdk = card.get("sdk") if card and card.get("sdk") in SDKS else space.sdk
        return {
            "_id": hashlib.sha1(space.id.encode(), usedforsecurity=False).hexdigest()[:24],
            "id": space.id,
            "author": space.owner,
            "sha": commit.oid,
            "lastModified": commit.date,
            "createdAt": space.created_at,
            "private": space.visibility != "public",
            "gated": False,
            "disabled": False,
            "host": space.host,
            "subdomain": space.subdomain,
            "likes": 0,
            "sdk": sdk,
            "tags": [sdk, "region:us"],
            "cardData": card if card is not None else {},
            "siblings": [
                {"rfilename": path, **({"size": len(data), "blobId": git_blob_oid(data)} if blobs else {})}
                for path, data in sorted(commit.files.items())
            ],
            "xetEnabled": False,
            "runtime": self.hub.runtime(space),
            "models": [],
            "datasets": [],
        }

    def h_space_info(self, owner: str, name: str, rev: str = "main") -> None:
        space, _ = self._space(owner, name)
        with self.hub.cond:
            blobs = (self.query.get("blobs") or ["false"])[0].lower() in ("1", "true")
            info = self._info(space, self._rev(space, rev), blobs)
        expand = self.query.get("expand") or self.query.get("expand[]")
        if expand:
            info = {key: value for key, value in info.items() if key in {"_id", "id", *expand}}
        self._json(200, info)

    def h_tree(self, owner: str, name: str, rev: str, path: str | None = None) -> None:
        space, _ = self._space(owner, name)
        recursive = (self.query.get("recursive") or ["false"])[0].lower() in ("1", "true")
        with self.hub.cond:
            files = dict(self._rev(space, rev).files)
        prefix = urllib.parse.unquote(path).strip("/") + "/" if path else ""
        if prefix and not any(p.startswith(prefix) for p in files):
            if prefix.rstrip("/") in files:
                raise HttpError(400, f"{prefix.rstrip('/')} is a file, not a folder")
            raise HttpError(404, f"Entry not found: {prefix.rstrip('/')}", "EntryNotFound")
        entries: dict[str, dict] = {}
        for file_path in sorted(files):
            if not file_path.startswith(prefix):
                continue
            rest = file_path[len(prefix) :].split("/")
            depth = len(rest) if recursive else 1
            for i in range(1, min(depth, len(rest)) + 1):
                sub = prefix + "/".join(rest[:i])
                if i == len(rest):
                    data = files[file_path]
                    entries[sub] = {"type": "file", "oid": git_blob_oid(data), "size": len(data), "path": sub}
                elif sub not in entries:
                    folder = sorted(p for p in files if p.startswith(sub + "/"))
                    oid = hashlib.sha1("".join(folder).encode(), usedforsecurity=False).hexdigest()
                    entries[sub] = {"type": "directory", "oid": oid, "size": 0, "path": sub}
        self._json(200, list(entries.values()))

    def h_preupload(self, owner: str, name: str, rev: str) -> None:
        space, _ = self._space(owner, name, "write")
        body = self._json_body()
        with self.hub.cond:
            files = dict(self._rev(space, rev).files)
        gitignore = body.get("gitIgnore")
        if gitignore is None and ".gitignore" in files:
            gitignore = files[".gitignore"].decode("utf-8", errors="replace")
        ignored = gitignore_matcher(gitignore or "")
        patterns = lfs_patterns(files.get(".gitattributes"))
        answer = []
        for item in body.get("files") or []:
            path = str(item.get("path", ""))
            sample = base64.b64decode(item.get("sample") or "")
            lfs = int(item.get("size") or 0) > LFS_THRESHOLD or b"\0" in sample or is_lfs_path(path, patterns)
            remote = files.get(path)
            answer.append(
                {
                    "path": path,
                    "uploadMode": "lfs" if lfs else "regular",
                    "shouldIgnore": ignored(path),
                    "oid": git_blob_oid(remote) if remote is not None else None,
                }
            )
        self._json(200, {"files": answer})

    def h_commit(self, owner: str, name: str, rev: str) -> None:
        space, _ = self._space(owner, name, "write")
        if "create_pr" in self.query:
            raise HttpError(400, "The Hub emulator does not support pull requests")
        lines = [line for line in self.body.splitlines() if line.strip()]
        try:
            items = [json.loads(line) for line in lines]
        except ValueError as error:
            raise HttpError(400, f"Invalid NDJSON commit payload: {error}") from error
        header = next((item["value"] for item in items if item.get("key") == "header"), None)
        if header is None:
            raise HttpError(400, "The commit payload has no header line")
        with self.hub.cond:
            base = self._rev(space, rev)
            if base is not space.head:
                raise HttpError(400, "The Hub emulator commits to main only")
            parent = header.get("parentCommit")
            if parent and not base.oid.startswith(parent):
                raise HttpError(412, f"Parent commit {parent} is not the head of main ({base.oid})")
            files = dict(base.files)
            for item in items:
                key, value = item.get("key"), item.get("value") or {}
                path = str(value.get("path", ""))
                if key == "deletedFolder":
                    path = path.rstrip("/")
                if key == "header":
                    continue
                if key in ("file", "deletedFile", "deletedFolder", "lfsFile"):
                    _check_path(path)
                if key == "file":
                    content = value.get("content", "")
                    files[path] = base64.b64decode(content) if value.get("encoding") == "base64" else content.encode()
                elif key == "deletedFile":
                    if path not in files:
                        raise HttpError(404, f"A file with this name doesn't exist: {path}", "EntryNotFound")
                    del files[path]
                elif key == "deletedFolder":
                    prefix = path + "/"
                    doomed = [p for p in files if p.startswith(prefix)]
                    if not doomed:
                        raise HttpError(404, f"A folder with this name doesn't exist: {path}", "EntryNotFound")
                    for p in doomed:
                        del files[p]
                elif key == "lfsFile":
                    raise HttpError(501, NO_LFS)
                else:
                    raise HttpError(400, f"Unknown commit operation {key!r}")
            commit = make_commit(base, files, str(header.get("summary", "")), str(header.get("description", "")))
            space.commits.append(commit)
            card = space.card(commit)
            if card and card.get("sdk") in SDKS:
                space.sdk = card["sdk"]
        self.hub.trigger(space, self.hub.commit_lag)
        self._json(
            200,
            {
                "success": True,
                "commitOid": commit.oid,
                "commitUrl": f"{self.hub.url}/spaces/{space.id}/commit/{commit.oid}",
                "hookOutput": "",
            },
        )

    def h_resolve(self, owner: str, name: str, rev: str, path: str) -> None:
        space, _ = self._space(owner, name)
        with self.hub.cond:
            commit = self._rev(space, rev)
            data = commit.files.get(urllib.parse.unquote(path))
        if data is None:
            raise HttpError(404, "Entry not found", "EntryNotFound")
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{git_blob_oid(data)}"'}
        self._send(200, data, "application/octet-stream", headers)

    # secrets and variables

    def _key_value(self) -> tuple[str, dict]:
        body = self._json_body()
        key = str(body.get("key", ""))
        if not KEY_RE.match(key):
            raise HttpError(400, f"Invalid key {key!r}: letters, digits and underscores, not starting with a digit")
        return key, body

    def h_get_secrets(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "owner")
        with self.hub.cond:
            self._json(200, {key: {"key": key, **meta} for key, meta in space.secrets.items()})

    def h_add_secret(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        key, body = self._key_value()
        with self.hub.cond:
            space.secrets[key] = {"description": body.get("description"), "updatedAt": now_iso()}
            space.secret_values[key] = str(body.get("value", ""))
        self._settings_changed(space)
        self._json(200, {})

    def h_delete_secret(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        key, _ = self._key_value()
        with self.hub.cond:
            space.secrets.pop(key, None)
            space.secret_values.pop(key, None)
        self._settings_changed(space)
        self._json(200, {})

    def _variables(self, space: Space) -> dict:
        with self.hub.cond:
            return {key: dict(meta) for key, meta in space.variables.items()}

    def h_get_variables(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "owner")
        self._json(200, self._variables(space))

    def h_add_variable(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        key, body = self._key_value()
        with self.hub.cond:
            space.variables[key] = {
                "value": str(body.get("value", "")),
                "description": body.get("description"),
                "updatedAt": now_iso(),
            }
        self._settings_changed(space)
        self._json(200, self._variables(space))

    def h_delete_variable(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        key, _ = self._key_value()
        with self.hub.cond:
            space.variables.pop(key, None)
        self._settings_changed(space)
        self._json(200, self._variables(space))

    def _settings_changed(self, space: Space) -> None:
        """A change of variables or secrets restarts a Space that has an app (the Hub does)."""
        with self.hub.cond:
            restart = space.app is not None or space.stage in ("RUNTIME_ERROR", "BUILD_ERROR")
        if restart:
            self.hub.trigger(space, self.hub.commit_lag)

    # runtime

    def h_runtime(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name)
        self._json(200, self.hub.runtime(space))

    def h_restart(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        with self.hub.cond:
            static = space.sdk == "static"
        if static:
            raise HttpError(400, "Static Spaces are always running: there is nothing to restart")
        self.hub.trigger(space, 0)
        with self.hub.cond:  # the restart is under way when the call returns
            deadline = time.monotonic() + 2
            while space.stage not in ("BUILDING", "RUNNING_BUILDING") and time.monotonic() < deadline:
                if space.stage in ("NO_APP_FILE", "CONFIG_ERROR", "BUILD_ERROR"):
                    break
                self.hub.cond.wait(0.1)
        self._json(200, self.hub.runtime(space))

    def h_pause(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name, "write")
        with self.hub.cond:
            space.gen += 1
            app, space.app = space.app, None
            space.stage, space.error = "PAUSED", None
            space.build_log.closed = space.run_log.closed = True
            self.hub.cond.notify_all()
        if app is not None:
            app.stop()
        self._json(200, self.hub.runtime(space))

    def h_logs(self, owner: str, name: str, kind: str) -> None:
        space, _ = self._space(owner, name, "owner")
        hub = self.hub
        with hub.cond:
            buffer = space.build_log if kind == "build" else space.run_log
            failing = space.logs_status
        if failing:
            raise HttpError(failing, f"Failed to load logs: {HTTPStatus(failing).phrase}")
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Cache-Control", "no-cache")
        self.send_header("Connection", "close")
        self.send_header("X-Request-Id", self.request_id)
        self.end_headers()
        self.close_connection = True
        sent, idle_since = 0, time.monotonic()
        while True:
            with hub.cond:
                if sent == len(buffer.lines) and not buffer.closed and not hub.closing:
                    hub.cond.wait(1)
                lines, sent = buffer.lines[sent:], len(buffer.lines)
                done = (buffer.closed or hub.closing) and sent == len(buffer.lines)
            chunk = "".join(f"data: {json.dumps({'data': line + chr(10), 'timestamp': ts})}\n\n" for ts, line in lines)
            if not chunk and time.monotonic() - idle_since > 15:
                chunk = "data: \n\n"  # keep-alive, as the Hub sends
            if chunk:
                self.wfile.write(chunk.encode())
                self.wfile.flush()
                idle_since = time.monotonic()
            if done:
                return

    # history, refs and tags

    def h_refs(self, owner: str, name: str) -> None:
        space, _ = self._space(owner, name)
        with self.hub.cond:
            head = space.head.oid
            tags = dict(space.tags)
        self._json(200, {
            "branches": [{"name": "main", "ref": "refs/heads/main", "targetCommit": head}],
            "converts": [],
            "tags": [{"name": t, "ref": f"refs/tags/{t}", "targetCommit": oid} for t, oid in sorted(tags.items())],
        })  # fmt: skip

    def h_commits(self, owner: str, name: str, rev: str) -> None:
        space, _ = self._space(owner, name)
        with self.hub.cond:
            commit = self._rev(space, rev)
            by_id = {c.oid: c for c in space.commits}
            history = []
            while commit is not None:
                history.append(commit)
                commit = by_id.get(commit.parent) if commit.parent else None
        author = [{"user": space.owner}]
        self._json(200, [
            {"id": c.oid, "authors": author, "date": c.date, "title": c.summary, "message": c.description}
            for c in history
        ])  # fmt: skip

    def h_create_tag(self, owner: str, name: str, rev: str) -> None:
        space, _ = self._space(owner, name, "write")
        tag = str(self._json_body().get("tag", ""))
        if not re.fullmatch(r"[\w.-]+", tag):
            raise HttpError(400, f"Invalid tag name {tag!r}")
        with self.hub.cond:
            commit = self._rev(space, rev)
            if tag in space.tags:
                raise HttpError(409, f"Tag {tag} already exists")
            space.tags[tag] = commit.oid  # a tag changes no file: the Space is not rebuilt
        self._json(200, {})

    def h_delete_tag(self, owner: str, name: str, tag: str) -> None:
        space, _ = self._space(owner, name, "write")
        tag = urllib.parse.unquote(tag)
        with self.hub.cond:
            if space.tags.pop(tag, None) is None:
                raise HttpError(404, f"Tag {tag} not found", "RevisionNotFound")
        self._json(200, {})

    def h_list_spaces(self) -> None:
        user = self._user(required=False)
        author = (self.query.get("author") or [""])[0]
        search = (self.query.get("search") or [""])[0].lower()
        with self.hub.cond:
            found = [
                space for space in self.hub.spaces.values()
                if (not author or space.owner == author) and search in space.id.lower()
                and (space.visibility == "public" or self._member(user, space.owner))
            ]  # fmt: skip
            items = [{"_id": hashlib.sha1(s.id.encode(), usedforsecurity=False).hexdigest()[:24], "id": s.id,
                      "author": s.owner, "private": s.visibility != "public", "sdk": s.sdk, "likes": 0,
                      "lastModified": s.head.date, "tags": [s.sdk]} for s in found]  # fmt: skip
        self._json(200, items)

    def h_no_lfs(self, **_) -> None:
        raise HttpError(501, NO_LFS)


def _check_path(path: str) -> None:
    parts = path.split("/")
    if not path or path.startswith("/") or ".." in parts or "" in parts or parts[0] == ".git":
        raise HttpError(400, f"Invalid path in commit: {path!r}")
