"""The servers under test: each service exactly as its Dockerfile starts it, and
the baselines in bench/baselines/. Starting, readiness, stopping, memory."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from hfspace.host import free_port, wait_http
from hfspace.space import load

ROOT = Path(__file__).resolve().parent.parent
BASELINES = Path(__file__).resolve().parent / "baselines"
VENV_BIN = ROOT / ".venv" / "bin" if (ROOT / ".venv" / "bin").is_dir() else Path(sys.prefix) / "bin"
NODE_BIN = ROOT / ".tools" / "node" / "bin"
# The services: every folder of the repository that is a Docker Space.
SERVICE_FOLDERS = {
    folder.name: folder
    for folder in sorted(ROOT.iterdir())
    if (folder / "Dockerfile").is_file() and (folder / "README.md").is_file()
}
# Variables of the image that make no sense on the host (paths inside the image).
_IMAGE_ONLY = {"PATH", "HOME", "PORT"}


@dataclass
class Server:
    name: str
    family: str  # "python" or "node": which service a baseline is compared with
    role: str  # "service" or "baseline"
    argv: list[str]
    cwd: Path
    env: dict[str, str] = field(default_factory=dict)
    paths: tuple[str, ...] = ("/",)  # what the load tests request
    note: str = ""


def search_path() -> str:
    """The repository's .venv/bin first (gunicorn), then the Node the Node Space ships."""
    extra = [str(VENV_BIN)] + ([str(NODE_BIN)] if NODE_BIN.is_dir() else [])
    return os.pathsep.join([*extra, os.environ.get("PATH", "")])


def dockerfile_start(folder: Path) -> tuple[list[str], dict[str, str]]:
    """The command the image runs and its final stage's ENV (minus image-only paths), as
    `hfspace up` reads them."""
    space = load(folder)
    argv = space.command.argv if space.command else None
    if not argv:
        raise RuntimeError(f"{folder.name}/Dockerfile has no CMD")
    return argv, {k: v for k, v in space.run_env().items() if k not in _IMAGE_ONLY}


def gunicorn_settings(folder: Path, argv: list[str], env: dict[str, str]) -> dict | None:
    """python-backend's effective gunicorn settings (its CMD flags and config file), as
    gunicorn itself reads them; None when the service is not started by gunicorn."""
    if not argv or Path(argv[0]).name != "gunicorn":
        return None
    script = (
        "import json, sys\n"
        "sys.argv = json.loads(sys.argv[1])\n"
        "from gunicorn.app.wsgiapp import WSGIApplication\n"
        "c = WSGIApplication('%(prog)s [OPTIONS] [APP_MODULE]', prog='gunicorn').cfg\n"
        "print(json.dumps({'worker_class': c.worker_class_str, 'workers': c.workers, 'threads': c.threads,\n"
        "  'keepalive': c.keepalive, 'worker_connections': c.worker_connections, 'accesslog': c.accesslog,\n"
        "  'timeout': c.timeout, 'backlog': c.backlog}))\n"
    )
    run_env = {**os.environ, **env, "PATH": search_path(), "PORT": "7860", "HOST": "127.0.0.1"}
    done = subprocess.run(  # noqa: S603 (our own interpreter and script)
        [str(VENV_BIN / "python"), "-c", script, json.dumps(argv)],
        cwd=folder,
        env=run_env,
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"reading {folder.name}'s gunicorn settings failed: {done.stderr.strip()[-500:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def all_servers() -> tuple[list[Server], dict | None]:
    """The two services and the five baselines, and python-backend's gunicorn settings."""
    py_argv, py_env = dockerfile_start(SERVICE_FOLDERS["python-backend"])
    node_argv, node_env = dockerfile_start(SERVICE_FOLDERS["nodejs-backend"])
    settings = gunicorn_settings(SERVICE_FOLDERS["python-backend"], py_argv, py_env)
    # The baselines take python-backend's serving settings from its gunicorn.conf.py (see there).
    flags = ["--config=gunicorn_baseline.conf.py"]
    note = "" if settings else "python-backend is not served by gunicorn"
    gunicorn = str(VENV_BIN / "gunicorn")
    servers = [
        Server(
            "python-backend", "python", "service", py_argv, SERVICE_FOLDERS["python-backend"], py_env, ("/health", "/")
        ),
        Server(
            "nodejs-backend",
            "node",
            "service",
            node_argv,
            SERVICE_FOLDERS["nodejs-backend"],
            node_env,
            ("/health", "/"),
        ),
        Server(
            "flask-1route",
            "python",
            "baseline",
            [gunicorn, *flags, "flask_app:app"],
            BASELINES,
            py_env,
            note=note or "python-backend's gunicorn serving settings",
        ),
        Server(
            "flask-dev",
            "python",
            "baseline",
            [str(VENV_BIN / "flask"), "--app", "flask_app", "run", "--host", "127.0.0.1", "--port", "{port}"],
            BASELINES,
            py_env,
            note="flask run (threaded development server)",
        ),
        Server(
            "wsgi-bare",
            "python",
            "baseline",
            [gunicorn, *flags, "wsgi_bare:app"],
            BASELINES,
            py_env,
            note="bare WSGI callable, the same gunicorn settings",
        ),
        Server(
            "express-1route",
            "node",
            "baseline",
            ["node", "express_app.mjs"],
            BASELINES,
            node_env,
            note="Express defaults (ETag and X-Powered-By on)",
        ),
        Server(
            "node-http",
            "node",
            "baseline",
            ["node", "node_http.mjs"],
            BASELINES,
            node_env,
            note="node:http, no framework",
        ),
    ]
    return servers, settings


class Running:
    """One started server: its process group, port and stderr log."""

    def __init__(self, server: Server, port: int | None = None):
        self.server = server
        self.port = port or free_port()
        self.log = tempfile.TemporaryFile()  # noqa: SIM115 (closed by stop())
        argv = [a.replace("{port}", str(self.port)) for a in server.argv]
        env = {
            **os.environ,
            **server.env,
            "PATH": search_path(),
            "PORT": str(self.port),
            "HOST": "127.0.0.1",
        }
        if server.role == "baseline" and argv[0].endswith("gunicorn"):
            argv[1:1] = [f"--bind=127.0.0.1:{self.port}"]
        self.started = time.monotonic()
        self.process = subprocess.Popen(  # noqa: S603 (commands from our Dockerfiles and baselines)
            argv,
            cwd=server.cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,  # access logs: discarded alike for every server
            stderr=self.log,
            start_new_session=True,
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def wait_ready(self, timeout: float = 30) -> float:
        """Seconds from process start to the first 200 on /health; RuntimeError otherwise."""
        took = wait_200(f"{self.url}/health", timeout, alive=lambda: self.process.poll() is None)
        if took is None:
            raise RuntimeError(f"{self.server.name} was not ready within {timeout:.0f} s: {self.stderr_tail()}")
        return time.monotonic() - self.started

    def stderr_tail(self) -> str:
        self.log.seek(0)
        text = self.log.read().decode(errors="replace").strip()
        return text[-800:] or f"exit status {self.process.poll()}"

    def pss_mb(self) -> float:
        return tree_pss_mb(self.process.pid)

    def stop(self, grace: float = 10) -> None:
        if self.process.poll() is None:
            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                pass
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGKILL)  # stragglers in the group
        self.process.wait(timeout=5)
        self.log.close()


def wait_200(url: str, timeout: float, alive=lambda: True, interval: float = 0.005) -> float | None:
    return wait_http(url, timeout, alive=alive, interval=interval)


def tree_pss_mb(pid: int) -> float:
    """Proportional set size, in MB (10^6 bytes), of `pid` and all its descendants (pages
    shared between them counted once), from /proc/PID/smaps_rollup."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(ppid, []).append(int(stat.parent.name))
    total_kib, todo = 0, [pid]
    while todo:
        proc = todo.pop()
        todo.extend(children.get(proc, []))
        try:
            for line in Path(f"/proc/{proc}/smaps_rollup").read_text().splitlines():
                if line.startswith("Pss:"):
                    total_kib += int(line.split()[1])
                    break
        except OSError:
            continue
    return total_kib * 1024 / 1e6
