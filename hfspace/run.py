"""`hfspace up`: run Space folders locally, the way the platform runs them.

Two steps, each its own function:

- `plan(folders, options)` reads each folder (the Space model) and checks, before
  anything starts, everything a user can get wrong: the folder is a Space, its
  port is free, its runtime and its command's executable are there. It raises
  HfspaceError and has no side effects.
- `run(plans, on_event, stop)` prepares (a `.venv` from requirements.txt, `npm
  ci`, `docker build`), starts every Space, waits until each answers `GET /`
  with 200, streams their logs and stops them all (SIGTERM, or `docker stop`;
  killed after a grace) when `stop` is set or one of them fails. It reports
  through `on_event` (always from the calling thread) and returns the exit
  status. Nothing here prints.

Three ways to run a Space: its Dockerfile's command as a local process (the
default), its image as a container (`docker=True`), or, for `sdk: static`, its
files from a small HTTP server in this process (after its `app_build_command`,
as the Hub runs it, with what that build made as the root).

A container runs as the platform runs it: as the image's USER (root when it sets
none: public Spaces show the platform does so), writable wherever the build gave
that user ownership (the platform's disk is ephemeral, not read-only), no
PORT, the platform's SPACE_* variables, app_port published on 127.0.0.1, and the
memory and CPUs of the card's hardware (suggested_hardware, else the free CPU
tier's 2 vCPU and 16 GB), so a "Memory limit exceeded" shows up here first.
`read_only=True` adds a read-only root (a hardening check, not the platform's way).
"""

from __future__ import annotations

import contextlib
import os
import posixpath
import queue
import re
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from hfspace import host, settings
from hfspace.errors import HfspaceError
from hfspace.space import Space, load
from hfspace.space.card import HARDWARE
from hfspace.space.images import normalise

DEFAULT_PORT = 7860
GRACE = 10.0  # seconds between SIGTERM and SIGKILL, as `docker stop` gives
TAIL = 20  # log lines shown for a Space that failed
KEPT = 500  # log lines kept of each Space, to find the first traceback of one that failed
NOTE_AFTER = 10.0  # seconds without an answer before saying a Space is still starting
POLL = 0.5  # seconds between two GET / of a Space that answers, but not 200 (each is a line in its access log)
CREATOR_USER_ID = "0" * 24  # the platform's ids are 24 hex digits; there is no user locally
# Image ENV values a local process must not take: they name paths inside the image.
_IMAGE_ONLY_ENV = {"PATH", "HOME"}
# Shell words that start a command line without being its program.
_SHELL_WORDS = {"exec", "env", "nohup", "time", "command"}


@dataclass
class Options:
    port: int = DEFAULT_PORT  # the first Space's port; the next ones count up from it
    docker: bool = False
    variables: dict[str, str] = field(default_factory=dict)  # Space variables (--var)
    secrets: list[str] = field(default_factory=list)  # names of Space secrets, values from the environment
    build_args: dict[str, str] = field(default_factory=dict)  # passed to docker build as they are
    timeout: float | None = None  # overrides each card's startup_duration_timeout
    read_only: bool = False  # container: a read-only root and a tmpfs /tmp (a hardening check)


@dataclass
class Plan:
    """How one Space will run. `kind` is "process", "container" or "static"."""

    space: Space
    kind: str
    port: int
    timeout: float
    command: list[str] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)  # process: its whole environment; container: its variables
    secrets: list[str] = field(default_factory=list)  # container: names passed from the environment
    build_args: dict[str, str] = field(default_factory=dict)
    create_venv: bool = False  # process: make <folder>/.venv from requirements.txt first
    npm_ci: bool = False  # process: run `npm ci` first (no node_modules yet)
    docker: str = ""  # container: the docker client
    image: str = ""
    read_only: bool = False  # container: a read-only root
    limits: tuple[int, int] | None = None  # container: (CPUs, memory in GB) of the card's hardware
    note: str | None = None  # process: what differs from the platform (its interpreter), in one line
    build: str | None = None  # static: the card's app_build_command, run first as the Hub runs it

    @property
    def name(self) -> str:
        return self.space.name

    @property
    def url(self) -> str:
        return f"http://localhost:{self.port}"


# --- events: what run() reports ------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Something done before a Space starts (created its .venv, ran npm ci, building its image)."""

    space: str
    text: str


@dataclass(frozen=True)
class Status:
    space: str
    url: str
    state: str  # "ready", "starting", "exited with status 3", "not ready after 30s", ...
    seconds: float | None  # from start to the first 200 on GET /


@dataclass(frozen=True)
class Table:
    """Every Space's status: reported once, when all are ready or one has failed."""

    rows: list[Status]


@dataclass(frozen=True)
class Log:
    space: str
    line: str


@dataclass(frozen=True)
class Failure:
    space: str
    reason: str
    tail: list[str]  # its last log lines
    hint: str | None = None


@dataclass(frozen=True)
class Stopped:
    space: str
    exit_code: int | None


Event = Step | Table | Log | Failure | Stopped


# --- plan: every check that can be made before anything starts -------------------


def parse_port(raw: str) -> int:
    if not (raw.strip().isdigit() and 1 <= int(raw) <= 65535):
        raise HfspaceError(f'--port "{raw}": expected an integer from 1 to 65535')
    return int(raw)


def plan(folders: list[str | os.PathLike], options: Options, environ: dict[str, str] | None = None) -> list[Plan]:
    environ = dict(os.environ if environ is None else environ)
    loaded = [_load_space(folder) for folder in folders]
    names = [space.name for space in loaded]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise HfspaceError(
            f"more than one Space folder is named {twice}",
            hint="its name is its SPACE_ID and its log prefix: run such folders one at a time",
        )
    if options.port + len(loaded) - 1 > 65535:
        raise HfspaceError(
            f"--port {options.port}: {len(loaded)} Spaces need ports up to {options.port + len(loaded) - 1}"
        )
    settings.secrets(options.secrets, environ)  # each named secret has a value, or one error line
    docker = host.require_docker(environ) if options.docker and any(s.sdk != "static" for s in loaded) else ""
    plans = []
    for index, space in enumerate(loaded):
        port = options.port + index
        timeout = options.timeout or space.startup_timeout
        if space.sdk == "static":
            plans.append(_plan_static(space, port, timeout, environ))
        elif options.docker:
            plans.append(_plan_container(space, port, timeout, options, docker))
        else:
            plans.append(_plan_process(space, port, timeout, options, environ))
    for item in plans:  # last: a port freed while the rest is checked still counts
        _check_port_free(item)
    return plans


def _load_space(folder: str | os.PathLike) -> Space:
    space = load(folder)
    if space.card is None:
        label = f"this folder ({space.root})" if Path(folder) == Path() else str(folder)
        raise HfspaceError(
            f"{label} is not a Space: {space.card_error.message}",
            hint="a Space folder has a README.md that starts with front matter such as `sdk: docker`",
        )
    if space.sdk not in {"docker", "static"}:
        sdk = f"sdk: {space.sdk}" if space.sdk else "no sdk"
        raise HfspaceError(
            f"{space.name}: its card says {sdk}; up runs Docker and static Spaces",
            hint=f"set `sdk: docker` (or `sdk: static`) in {space.name}/README.md",
        )
    return space


def _platform_env(space: Space, port: int) -> dict[str, str]:
    """The variables the platform sets in every Space, with local values. Not SPACE_HOST: on the
    platform it is the Space's https host, and an app that links to `https://` + it would link
    to an https://localhost that nothing serves; without it an app takes its host from requests."""
    title = space.card.data.get("title") if space.card else None
    return {
        "SPACE_ID": f"local/{space.name}",
        "SPACE_AUTHOR_NAME": "local",
        "SPACE_REPO_NAME": space.name,
        "SPACE_TITLE": str(title) if title else space.name,
        "SPACE_CREATOR_USER_ID": CREATOR_USER_ID,
        "CPU_CORES": str(os.cpu_count() or 1),
        "MEMORY": _memory(),
    }


def _memory() -> str:
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        return "16Gi"
    return f"{max(1, round(total / 2**30))}Gi"


def _plan_static(space: Space, port: int, timeout: float, environ: dict[str, str]) -> Plan:
    """A static Space serves app_file; with app_build_command, the Hub first installs the folder's
    package.json and runs that command (a Vite site: `npm run build`, app_file dist/index.html)."""
    app_file = str(space.card.data.get("app_file") or "index.html")
    build = space.card.data.get("app_build_command")
    if isinstance(build, str) and build.strip():
        package = (space.root / "package.json").is_file()
        if package and not shutil.which("npm", path=environ.get("PATH")):
            raise HfspaceError(
                f"{space.name}: npm is not on PATH (needed for its app_build_command `{build}`)",
                hint="install Node.js with npm",
            )
        npm = package and not (space.root / "node_modules").is_dir()
        env = {**environ, "PATH": os.pathsep.join([str(space.root / "node_modules" / ".bin"), environ.get("PATH", "")])}
        return Plan(space, "static", port, timeout, command=[app_file], env=env, npm_ci=npm, build=build)
    if not (space.root / app_file).is_file():
        raise HfspaceError(
            f"{space.name}: its app_file {app_file} does not exist",
            hint="a static Space serves app_file (default index.html) at /",
        )
    return Plan(space, "static", port, timeout, command=[app_file])


def _require_command(space: Space) -> list[str]:
    if space.dockerfile is None:
        raise HfspaceError(f"{space.name}: no Dockerfile", hint="a Docker Space is built from a Dockerfile at its root")
    command = space.command
    if command is None or not command.argv:
        raise HfspaceError(
            f"{space.name}: its Dockerfile has no CMD",
            hint='end the Dockerfile with an exec-form CMD such as CMD ["python", "app.py"]',
        )
    return command.argv


def _plan_process(space: Space, port: int, timeout: float, options: Options, environ: dict[str, str]) -> Plan:
    command = _local_command(space, _require_command(space))
    program = _program(command)
    root = space.root
    bins: list[Path] = []
    create_venv = npm_ci = False
    # Python: the folder's own environment, else the one hfspace runs in when it has
    # the program, else a new .venv from the folder's requirements.txt.
    env_bin = Path(sys.prefix) / "bin"
    if (root / ".venv" / "bin").is_dir():
        bins.append(root / ".venv" / "bin")
    elif program and "/" not in program and shutil.which(program, path=str(env_bin)):
        bins.append(env_bin)
    elif (root / "requirements.txt").is_file():
        bins.append(root / ".venv" / "bin")
        create_venv = True
    # Node: the folder's node_modules, made with `npm ci` when it is not there yet.
    if (root / "package.json").is_file():
        bins.insert(0, root / "node_modules" / ".bin")
        if not (root / "node_modules").is_dir():
            npm_ci = True
            if not shutil.which("npm", path=environ.get("PATH")):
                raise HfspaceError(
                    f"{space.name}: npm is not on PATH (needed to install its node_modules)",
                    hint="install Node.js with npm, or run `npm ci` in the folder yourself",
                )
            if not (root / "package-lock.json").is_file():
                raise HfspaceError(
                    f"{space.name}: no node_modules and no package-lock.json for `npm ci`",
                    hint=f"run `npm install` in {space.name} to create the lockfile",
                )
    search = os.pathsep.join([*map(str, bins), environ.get("PATH", os.defpath)])
    if program and not create_venv and not _find(program, search, root):
        raise HfspaceError(
            f"{space.name}: its command runs {program}, which is not on PATH",
            hint=_install_hint(program, space),
        )
    # Lowest first: the image's ENV, the platform's variables, .env, the real environment,
    # then --var and --secret, and the port this Space is given.
    image_env = {k: v for k, v in space.run_env(options.variables).items() if k not in _IMAGE_ONLY_ENV}
    secrets = {name: environ[name] for name in options.secrets}
    env = {**image_env, **_platform_env(space, port), **space.dotenv, **environ, **options.variables, **secrets}
    env.update(PORT=str(port), PATH=search)
    note = _interpreter_note(space, program, search)
    return Plan(space, "process", port, timeout, command, env, create_venv=create_venv, npm_ci=npm_ci, note=note)


# The interpreters a Space's image ships, by its base image: (the program, how to ask it its
# version, the part of the base's tag that names it).
_INTERPRETERS = {
    "python": ("python3", r"^(\d+\.\d+)", lambda out: out.split()[-1]),
    "node": ("node", r"^(\d+)", lambda out: out.strip().lstrip("v")),
}


def _interpreter_note(space: Space, program: str | None, search: str) -> str | None:
    """One line when the interpreter this Space runs on here is not the version its image ships
    (`node:26-slim` on a machine whose node is 20); None when they agree or it cannot tell."""
    image = space.dockerfile.config.image if space.dockerfile else None
    name, _, tag = normalise(image or "").partition(":")
    known = _INTERPRETERS.get(name)
    match = re.match(known[1], tag) if known else None
    if not known or not match:
        return None
    shipped = match.group(1)
    interpreter = shutil.which(known[0], path=search)
    if interpreter is None:
        return None
    try:
        done = subprocess.run([interpreter, "--version"], capture_output=True, text=True, timeout=10)  # noqa: S603
    except (OSError, subprocess.SubprocessError):
        return None
    version = known[2](done.stdout or done.stderr)
    if version == shipped or version.startswith(shipped + "."):
        return None
    return f"runs on {known[0]} {version} here; its image ships {image} ({name} {shipped})"


def _local_command(space: Space, command: list[str]) -> list[str]:
    """The command with a program under the image's WORKDIR mapped into the folder."""
    workdir = space.dockerfile.config.workdir.rstrip("/")
    program = command[0]
    if workdir and program.startswith(workdir + "/"):
        local = space.root / program[len(workdir) + 1 :]
        if local.exists():
            return [str(local), *command[1:]]
    if program.startswith("/") and not Path(program).exists():
        return [Path(program).name, *command[1:]]  # e.g. /opt/venv/bin/gunicorn: look for gunicorn
    return command


def _program(command: list[str]) -> str | None:
    """The program a command runs (for a shell command line: its first plain word), or None if unknown."""
    if command[:2] != ["/bin/sh", "-c"]:
        return command[0]
    try:
        words = shlex.split(command[2])
    except ValueError:
        return None
    while words and (words[0] in _SHELL_WORDS or "=" in words[0]):
        words.pop(0)
    return words[0] if words and not any(c in words[0] for c in "$`;&|<>(){}") else None


def _find(program: str, path: str, root: Path) -> str | None:
    if "/" in program:
        candidate = Path(program) if program.startswith("/") else root / program
        return str(candidate) if os.access(candidate, os.X_OK) and candidate.is_file() else None
    return shutil.which(program, path=path)


def _install_hint(program: str, space: Space) -> str:
    if program in {"node", "npm", "npx"}:
        return "install Node.js (node and npm) and put it on PATH"
    if (space.root / "requirements.txt").is_file() or program.startswith("python"):
        return f"add it to {space.name}/requirements.txt, or create {space.name}/.venv with it installed"
    return "install it and put it on PATH"


def _plan_container(space: Space, port: int, timeout: float, options: Options, docker: str) -> Plan:
    if space.dockerfile is None:  # no CMD is fine here: the base image may have one
        raise HfspaceError(f"{space.name}: no Dockerfile", hint="a Docker Space is built from a Dockerfile at its root")
    declared = space.declared_args()
    build_args = {k: v for k, v in options.variables.items() if k in declared}
    build_args.update(options.build_args)
    env = {**_platform_env(space, port), **options.variables}
    image = "hfspace/" + (re.sub(r"[^a-z0-9._-]+", "-", space.name.lower()).strip("-._") or "space") + ":local"
    hardware = space.card.hardware if space.card else "cpu-basic"
    spec = HARDWARE.get(hardware)
    limits = (min(spec[0], os.cpu_count() or spec[0]), spec[1]) if spec else None
    return Plan(
        space,
        "container",
        port,
        timeout,
        env=env,
        secrets=list(options.secrets),
        build_args=build_args,
        docker=docker,
        image=image,
        read_only=options.read_only,
        limits=limits,
    )


def _check_port_free(item: Plan) -> None:
    if not host.can_listen(item.port):
        raise HfspaceError(
            f"port {item.port} (for {item.name}) is already in use",
            hint="stop what listens there, or pick other ports with --port",
        )


# --- run: prepare, start, wait, stream, stop --------------------------------------


class _Stop(Exception):
    """Raised inside run() when a stop was requested while preparing."""


def run(plans: list[Plan], on_event: Callable[[Event], None], stop: threading.Event) -> int:
    """Run every planned Space until `stop` is set (exit status 0) or one fails (1)."""
    lines: queue.Queue[tuple[str, str]] = queue.Queue()
    tails = {item.name: deque(maxlen=KEPT) for item in plans}
    units: list[_Unit] = []
    failed: Failure | None = None
    for item in plans:
        if item.note:
            on_event(Step(item.name, item.note))
    try:
        for item in plans:
            failed = _prepare(item, on_event, stop)
            if failed or stop.is_set():
                break
        else:
            units = [_UNITS_BY_KIND[item.kind](item, lines) for item in plans]
            for unit in units:
                failed = unit.start()
                if failed:
                    break
            else:
                failed = _wait_ready(units, lines, tails, on_event, stop)
            if failed is None and not stop.is_set():
                failed = _follow(units, lines, tails, on_event, stop)
    except _Stop:
        pass
    finally:
        _stop_all(units, lines, tails, on_event)
    if failed:
        on_event(failed)
        return 1
    return 0


def _prepare(item: Plan, on_event: Callable[[Event], None], stop: threading.Event) -> Failure | None:
    root = item.space.root
    steps: list[tuple[str, list[str], dict[str, str] | None]] = []
    if item.npm_ci:
        install = "ci" if (root / "package-lock.json").is_file() else "install"
        on_event(Step(item.name, f"no node_modules: running npm {install}"))
        # The developer's own environment (not the image's NODE_ENV=production): a full install, as `npm ci` gives.
        npm = ["npm", install, "--no-audit", "--no-fund"]
        steps.append((f"npm {install}", npm, {**os.environ, "PATH": item.env["PATH"]}))
    if item.build:
        on_event(Step(item.name, f"app_build_command: {item.build}"))
        steps.append((item.build, ["sh", "-c", item.build], {**os.environ, "PATH": item.env["PATH"]}))
    if item.create_venv:
        on_event(Step(item.name, f"creating {item.name}/.venv from requirements.txt"))
        requirements = (root / "requirements.txt").read_text(errors="replace")
        hashes = ["--require-hashes"] if "--hash=" in requirements else []
        pip = [str(root / ".venv" / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        steps.append(("python -m venv", [sys.executable, "-m", "venv", str(root / ".venv")], None))
        steps.append(("pip install", [*pip, *hashes, "-r", "requirements.txt"], None))
    for what, command, env in steps:
        result = _run_step(command, root, env)
        if stop.is_set():
            raise _Stop
        if result.returncode != 0:
            return Failure(item.name, f"{what} failed (status {result.returncode})", _last_lines(result.stdout))
    if item.build and not (root / item.command[0]).is_file():
        return Failure(item.name, f"its app_build_command `{item.build}` made no {item.command[0]} (app_file)", [])
    if item.create_venv:
        program = _program(item.command)
        if program and not _find(program, item.env["PATH"], root):
            return Failure(item.name, f"its command runs {program}, which is not in {item.name}/.venv", [])
    if item.kind == "container":
        return _build(item, on_event, stop)
    return None


def _run_step(command: list[str], cwd: Path, env: dict[str, str] | None, **kwargs) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(  # noqa: S603 (npm, pip, docker: fixed programs)
            command,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            check=False,
            **kwargs,
        )
    except OSError as exc:
        return subprocess.CompletedProcess(command, 127, stdout=str(exc))


def _build(item: Plan, on_event: Callable[[Event], None], stop: threading.Event) -> Failure | None:
    on_event(Step(item.name, f"building {item.image}"))
    command = [item.docker, "build", "--tag", item.image]
    for key, value in item.build_args.items():
        command += ["--build-arg", f"{key}={value}"]
    # Secrets reach the build only as BuildKit secret mounts, from files only we can read.
    with tempfile.TemporaryDirectory(prefix="hfspace-secrets-") as secrets_dir:
        for name in item.secrets:
            path = Path(secrets_dir, name)
            path.touch(mode=0o600)
            path.write_text(os.environ.get(name, ""))
            command += ["--secret", f"id={name},src={path}"]
        result = _run_step([*command, str(item.space.root)], item.space.root, {**os.environ, "DOCKER_BUILDKIT": "1"})
    if stop.is_set():
        raise _Stop
    if result.returncode != 0:
        return Failure(item.name, f"docker build failed (status {result.returncode})", _last_lines(result.stdout))
    return None


def _last_lines(text: str) -> list[str]:
    return text.rstrip("\n").splitlines()[-TAIL:] if text else []


def _drain(lines: queue.Queue, tails: dict[str, deque], on_event: Callable[[Event], None] | None, wait: float) -> None:
    """Move the log lines that arrived (waiting up to `wait` for the first) into the tails, and report them."""
    try:
        name, line = lines.get(timeout=wait) if wait else lines.get_nowait()
        while True:
            tails[name].append(line)
            if on_event:
                on_event(Log(name, line))
            name, line = lines.get_nowait()
    except queue.Empty:
        return


def _wait_ready(
    units: list[_Unit],
    lines: queue.Queue,
    tails: dict[str, deque],
    on_event: Callable[[Event], None],
    stop: threading.Event,
) -> Failure | None:
    """Poll each Space's GET / until 200; report the table; the first failure, if any.

    Log lines that arrive meanwhile are held and reported after the table.
    """
    held: list[Log] = []
    noted: set[str] = set()
    ready: dict[str, float] = {}
    failure: Failure | None = None
    state: dict[str, str] = {}
    while len(ready) < len(units) and failure is None and not stop.is_set():
        _drain(lines, tails, held.append, wait=0.05)
        for unit in units:
            name = unit.plan.name
            if name in ready:
                continue
            elapsed = time.monotonic() - unit.started
            code = unit.exit_code()
            if code is not None:
                unit.finish()  # its last lines are in
                _drain(lines, tails, held.append, wait=0)
                state[name] = f"exited with status {code}"
                failure = unit.failure(f"{unit.exit_reason(code)} before it answered GET / with 200", tails)
                break
            if unit.poll() == 200:
                ready[name] = time.monotonic() - unit.started
            elif elapsed > unit.plan.timeout:
                _drain(lines, tails, held.append, wait=0)
                state[name] = f"not ready after {_seconds(unit.plan.timeout)}"
                reason = f"did not answer GET / with 200 within {_seconds(unit.plan.timeout)}"
                if unit.answered is not None:
                    reason += f" (it answered {unit.answered})"
                failure = unit.failure(reason, tails, unit.readiness_hint())
                break
            elif elapsed > NOTE_AFTER and name not in noted:
                noted.add(name)
                said = f"GET / answers {unit.answered}, not 200," if unit.answered else "no 200 on GET /"
                on_event(Step(name, f"{said} after {NOTE_AFTER:g}s yet; its logs follow once all are ready"))
    if stop.is_set() and failure is None:
        return None
    rows = []
    for unit in units:
        name = unit.plan.name
        default = "ready" if name in ready else "stopped"
        rows.append(Status(name, unit.plan.url, state.get(name, default), ready.get(name)))
    on_event(Table(rows))
    for event in held:
        if failure is None or event.space != failure.space:  # a failed Space's lines come with its failure
            on_event(event)
    return failure


def _follow(
    units: list[_Unit],
    lines: queue.Queue,
    tails: dict[str, deque],
    on_event: Callable[[Event], None],
    stop: threading.Event,
) -> Failure | None:
    """Report log lines until a stop is requested or a Space exits (its failure)."""
    while not stop.is_set():
        _drain(lines, tails, on_event, wait=0.1)
        for unit in units:
            code = unit.exit_code()
            if code is not None:
                unit.finish()
                _drain(lines, tails, on_event, wait=0)
                return unit.failure(unit.exit_reason(code), tails)
    return None


def _stop_all(units: list[_Unit], lines: queue.Queue, tails: dict[str, deque], on_event) -> None:
    """SIGTERM (or docker stop) to all at once; whatever still runs after the grace is killed."""
    for unit in units:
        unit.terminate()
    deadline = time.monotonic() + GRACE
    while any(unit.exit_code() is None for unit in units) and time.monotonic() < deadline:
        _drain(lines, tails, on_event, wait=0.05)
    for unit in units:
        if unit.exit_code() is None:
            unit.kill()
    for unit in units:
        unit.finish()
        _drain(lines, tails, on_event, wait=0)
        on_event(Stopped(unit.plan.name, unit.exit_code()))


def excerpt(lines: list[str]) -> list[str]:
    """The last TAIL lines; and before them, when it is not among them, the first Python traceback: the
    cause (gunicorn's `Worker failed to boot` follows the worker's own traceback and pushes it out)."""
    last = lines[-TAIL:]
    start = next((i for i, line in enumerate(lines) if line.lstrip().startswith("Traceback (most recent call")), None)
    if start is None or start >= len(lines) - TAIL:
        return last
    end = next((i for i in range(start + 1, len(lines)) if lines[i][:1] not in (" ", "\t", "")), len(lines) - 1)
    block = lines[start : end + 1]
    if len(block) > TAIL:
        block = [block[0], "...", *block[-(TAIL - 2) :]]
    gap = ["..."] if end + 1 < len(lines) - TAIL else []
    return [*block, *gap, *lines[max(end + 1, len(lines) - TAIL) :]]


def _seconds(value: float) -> str:
    return f"{value:g}s" if value < 120 else f"{value / 60:g}m"


# --- the three ways a Space runs --------------------------------------------------


class _Unit:
    """A started Space. exit_code() is None while it runs."""

    def __init__(self, plan: Plan, lines: queue.Queue):
        self.plan = plan
        self.lines = lines
        self.started = time.monotonic()
        self.readers: list[threading.Thread] = []
        self.answered: int | None = None  # the status its last GET / got; None: nothing answered yet
        self.polled = 0.0

    def poll(self) -> int | None:
        """The status of a GET / now (at the loop's pace while nothing answers), or the last one if the
        server answered something else than 200 less than POLL ago."""
        if self.answered is None or time.monotonic() - self.polled >= POLL:
            self.polled = time.monotonic()
            self.answered = host.status(f"http://127.0.0.1:{self.plan.port}/")
        return self.answered

    def start(self) -> Failure | None: ...
    def exit_code(self) -> int | None: ...
    def terminate(self) -> None: ...
    def kill(self) -> None: ...

    def finish(self) -> None:
        """After it stopped: release what is left; let the log readers catch up."""
        for reader in self.readers:
            reader.join(timeout=2)

    def failure(self, reason: str, tails: dict[str, deque], hint: str | None = None) -> Failure:
        """Its failure, with its last lines (the caller has drained the queue into `tails`)."""
        return Failure(self.plan.name, reason, excerpt(list(tails[self.plan.name])), hint=hint)

    def readiness_hint(self) -> str:
        if self.answered is not None:  # it listens, but / is not a 200
            return (
                f"it listens, but GET / answered {self.answered}: the Space's proxy waits for a 200 on / (GET and "
                "HEAD), so give / a page (or a redirect to one)"
            )
        return self.listen_hint()

    def listen_hint(self) -> str:
        """For a Space that nothing answered on: where it must listen."""
        return f"it must listen on port {self.plan.port} (PORT) and answer GET / with 200"

    def exit_reason(self, code: int) -> str:
        if code == 0:  # not a crash: it ended, or something outside stopped it (`docker stop`)
            return "exited with status 0 (it ended, or was stopped from outside): a Space's command must keep serving"
        return f"exited with status {code}"

    def _read(self, stream) -> None:
        def pump():
            with contextlib.suppress(ValueError, OSError):
                for raw in iter(stream.readline, b""):
                    self.lines.put((self.plan.name, raw.decode(errors="replace").rstrip("\r\n")))

        reader = threading.Thread(target=pump, daemon=True)
        reader.start()
        self.readers.append(reader)


class _Process(_Unit):
    """The Dockerfile's command as a local process, from the folder, in its own session
    (a terminal's Ctrl-C reaches hfspace, which stops each the graceful way)."""

    popen: subprocess.Popen | None = None

    def start(self) -> Failure | None:
        try:
            self.popen = subprocess.Popen(  # noqa: S603 (the Space's own command)
                self.plan.command,
                cwd=self.plan.space.root,
                env=self.plan.env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        except OSError as exc:
            return Failure(self.plan.name, f"could not start {self.plan.command[0]}: {exc.strerror}", [])
        self.started = time.monotonic()
        self._read(self.popen.stdout)
        return None

    def exit_code(self) -> int | None:
        return self.popen.poll() if self.popen else 0

    def terminate(self) -> None:
        if self.popen and self.popen.poll() is None:
            # Like `docker stop`: the signal goes to the command itself; a shell command
            # line's whole group gets it, since sh would not pass it on.
            if self.plan.command[:2] == ["/bin/sh", "-c"]:
                self._signal_group(signal.SIGTERM)
            else:
                self.popen.send_signal(signal.SIGTERM)

    def kill(self) -> None:
        self._signal_group(signal.SIGKILL)
        if self.popen:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.popen.wait(timeout=5)

    def finish(self) -> None:
        if self.popen and self.popen.poll() is not None:
            self._signal_group(signal.SIGKILL)  # nothing it started outlives it (e.g. orphaned workers)
        super().finish()

    def _signal_group(self, sig: int) -> None:
        if self.popen:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(self.popen.pid, sig)


class _Container(_Unit):
    """The image run as the platform runs it: as its USER, the card's hardware's memory and CPUs,
    app_port published on 127.0.0.1 only, no PORT (a read-only root only when asked for)."""

    follower: subprocess.Popen | None = None
    stopper: subprocess.Popen | None = None
    container: str = ""
    _exit: int | None = None
    oom: bool = False

    def start(self) -> Failure | None:
        plan = self.plan
        self.container = f"hfspace-{plan.image.split('/')[1].split(':')[0]}-{os.urandom(3).hex()}"
        command = [plan.docker, "run", "--detach", "--name", self.container, "--label", f"hfspace.space={plan.name}"]
        if plan.read_only:
            command += ["--read-only", "--tmpfs", "/tmp:rw,nosuid,nodev"]  # noqa: S108 (in the container)
        if plan.limits:
            cpus, memory = plan.limits
            command += ["--cpus", str(cpus), "--memory", f"{memory}g", "--memory-swap", f"{memory}g"]
        command += ["--publish", f"127.0.0.1:{plan.port}:{plan.space.app_port}"]
        for key, value in plan.env.items():
            command += ["--env", f"{key}={value}"]
        for name in plan.secrets:
            command += ["--env", name]  # the value comes from our environment, never the command line
        result = _run_step([*command, plan.image], plan.space.root, None)
        if result.returncode != 0:
            self.container = ""
            return Failure(plan.name, "docker run failed", _last_lines(result.stdout))
        self.started = time.monotonic()
        self.follower = subprocess.Popen(  # noqa: S603
            [plan.docker, "logs", "--follow", self.container],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self._read(self.follower.stdout)
        return None

    def exit_code(self) -> int | None:
        if self._exit is not None or not self.container:
            return self._exit if self.container else 0
        if self.follower and self.follower.poll() is None:
            return None  # `docker logs --follow` ends when the container does
        inspect = self._docker(
            "inspect", "--format", "{{.State.Running}} {{.State.ExitCode}} {{.State.OOMKilled}}", self.container
        )
        running, code, oom = ([*inspect.stdout.split(), "", "", ""])[:3]
        if running == "true":
            return None
        self._exit = int(code) if code.lstrip("-").isdigit() else 1
        self.oom = oom == "true"
        return self._exit

    def exit_reason(self, code: int) -> str:
        if self.oom and self.plan.limits:
            memory = self.plan.limits[1]
            return (
                f"was killed for using more than its {memory} GB of memory (exit status {code}); on the platform "
                f'this is "Memory limit exceeded ({memory}Gi)"'
            )
        return super().exit_reason(code)

    def terminate(self) -> None:
        if self.container and self.stopper is None:
            self.stopper = subprocess.Popen(  # noqa: S603
                [self.plan.docker, "stop", "--time", str(int(GRACE)), self.container],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
            )

    def kill(self) -> None:
        if self.container:
            self._docker("kill", self.container)

    def finish(self) -> None:
        if self.stopper:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.stopper.wait(timeout=GRACE + 5)
        if self.follower:
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.follower.wait(timeout=5)
        super().finish()
        if self.container:  # stopped, or given up on: either way gone, as with the platform
            self._docker("rm", "--force", self.container)

    def listen_hint(self) -> str:
        port = self.plan.space.app_port
        return f"the image must listen on 0.0.0.0:{port} (app_port, PORT unset) and answer GET / with 200"

    def _docker(self, *args: str) -> subprocess.CompletedProcess:
        try:
            return subprocess.run(  # noqa: S603
                [self.plan.docker, *args], capture_output=True, text=True, timeout=30, check=False
            )
        except subprocess.TimeoutExpired:
            return subprocess.CompletedProcess(args, 1, stdout="", stderr="timed out")


class _StaticHandler(SimpleHTTPRequestHandler):
    """A static Space's files: app_file at /, no directory listings, no dot files."""

    app_file = "index.html"
    report: Callable[[str], None] = staticmethod(lambda line: None)

    def send_head(self):
        path = self.path.split("?", 1)[0].split("#", 1)[0]
        if any(part.startswith(".") for part in path.split("/") if part):
            self.send_error(404)
            return None
        if path == "/":
            self.path = "/" + self.app_file
        elif path.endswith("/"):
            self.send_error(404)
            return None
        return super().send_head()

    def log_message(self, format, *args):
        self.report(f"{self.address_string()} {format % args}")


class _Static(_Unit):
    """A static Space, served by a small threaded HTTP server in this process."""

    server: ThreadingHTTPServer | None = None
    thread: threading.Thread | None = None

    def start(self) -> Failure | None:
        plan = self.plan
        # A built site is served from what the build made (dist/: its index.html asks for /assets/...),
        # as the Hub serves the Vite example of its docs (app_file: dist/index.html).
        root, app_file = plan.space.root, plan.command[0]
        if plan.build:
            root, app_file = root / posixpath.dirname(app_file), posixpath.basename(app_file)
        handler = type(
            "Handler",
            (_StaticHandler,),
            {"app_file": app_file, "report": staticmethod(lambda line: self.lines.put((plan.name, line)))},
        )
        try:
            self.server = ThreadingHTTPServer(("127.0.0.1", plan.port), partial(handler, directory=str(root)))
        except OSError as exc:
            return Failure(plan.name, f"cannot listen on port {plan.port}: {exc.strerror}", [])
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        self.thread.start()
        self.started = time.monotonic()
        return None

    def exit_code(self) -> int | None:
        return None if self.thread and self.thread.is_alive() else 0

    def terminate(self) -> None:
        if self.server and self.thread and self.thread.is_alive():
            self.server.shutdown()
            self.server.server_close()

    def kill(self) -> None:
        self.terminate()


_UNITS_BY_KIND: dict[str, type[_Unit]] = {"process": _Process, "container": _Container, "static": _Static}
