"""Browser tests: the frontend Space in Debian's Chromium, driven by Playwright.

The page is served from one origin (a static server on 127.0.0.1); the two
backends run as real processes on other ports, so every call the page makes is
cross-origin, exactly as on the Hub (`https://OWNER-NAME.static.hf.space` calling
`https://OWNER-NAME.hf.space`). Without Chromium or Playwright the tests skip,
with one line saying why; in CI (`CI=true`) they fail instead.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import json
import os
import re
import signal
import subprocess
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from tests.services import ROOT, SERVICES, free_port, wait_healthy

FRONTEND = ROOT / "frontend"
SCREENSHOTS = ROOT / "build" / "screenshots"
# Debian's package (Playwright's own browser download cannot work here); CHROMIUM names another binary.
CHROMIUM = Path(os.environ.get("CHROMIUM") or "/usr/bin/chromium")
# Headless, and nothing that reaches for the network on its own (it stalls on refused connections).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
IN_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
REFRESH_TIMEOUT_MS = 15_000
EMPTY = "\N{EN DASH}"  # what a card shows for a field it has no value for


def browser_problem() -> str | None:
    if importlib.util.find_spec("playwright") is None:
        return "Playwright for Python is not installed (pip install playwright)"
    if not CHROMIUM.is_file():
        return f"no Chromium at {CHROMIUM} (apt-get install -y chromium)"
    return None


def _needs_browser(item: pytest.Item) -> bool:
    return "browser" in getattr(item, "fixturenames", ())


def pytest_collection_modifyitems(config, items):
    """Mark every browser test; without a browser, skip them with one line saying why (in CI: fail them)."""
    needing = [item for item in items if _needs_browser(item)]
    for item in needing:
        item.add_marker(pytest.mark.browser)
    problem = None if IN_CI or not needing else browser_problem()
    if problem:
        config.stash[_SKIPPED] = f"browser tests skipped: {problem}"
        for item in needing:
            item.add_marker(pytest.mark.skip(reason=problem))


_SKIPPED = pytest.StashKey[str]()


def pytest_terminal_summary(terminalreporter, config):
    if _SKIPPED in config.stash:
        terminalreporter.write_line(config.stash[_SKIPPED], yellow=True, bold=True)


# --- the page's origins ---------------------------------------------------------------------------------


class _QuietHandler(SimpleHTTPRequestHandler):
    # Module scripts need a JavaScript MIME type whatever the machine's mime.types says.
    extensions_map = {
        **SimpleHTTPRequestHandler.extensions_map,
        ".js": "text/javascript",
        ".css": "text/css",
        ".svg": "image/svg+xml",
        ".html": "text/html",
    }

    def log_message(self, *args):
        pass


@dataclass
class StaticSite:
    """The frontend folder served over http://127.0.0.1:PORT, as a static Space serves it."""

    server: ThreadingHTTPServer
    thread: threading.Thread

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def url(self, **params: str | int) -> str:
        query = "&".join(f"{key}={value}" for key, value in params.items())
        return f"{self.origin}/index.html" + (f"?{query}" if query else "")

    def dashboard(self, python: Backend, node: Backend, **params: str | int) -> str:
        """The page calling these two backends, auto-refresh paused (each test refreshes when it means to)."""
        return self.url(python=python.url, node=node.url, **{"interval": 0, **params})


@contextlib.contextmanager
def _serve(folder: Path) -> Iterator[StaticSite]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_QuietHandler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield StaticSite(server, thread)
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture(scope="session")
def site() -> Iterator[StaticSite]:
    """The origin the tests open the dashboard from (the one the backends' allowlists name)."""
    with _serve(FRONTEND) as served:
        yield served


@pytest.fixture(scope="session")
def other_site() -> Iterator[StaticSite]:
    """The same page from a second origin (another port), which allowlists leave out."""
    with _serve(FRONTEND) as served:
        yield served


# --- the backends ---------------------------------------------------------------------------------------


@dataclass
class Backend:
    name: str
    port: int
    process: subprocess.Popen
    log: Path
    env: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def requests(self) -> list[dict]:
        """The service's JSON access-log lines (one per request)."""
        lines = []
        for line in self.log.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                entry = json.loads(line)
                if isinstance(entry, dict) and entry.get("msg") == "request":
                    lines.append(entry)
        return lines

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


class Backends:
    """Starts backend processes (several at once), each stopped at the end of the session."""

    def __init__(self, log_dir: Path):
        self.log_dir = log_dir
        self.started: list[Backend] = []

    def start(self, name: str, cors_origins: str | None, **env: str) -> Backend:
        port = free_port()
        # An empty value counts as unset (the contract), and overrides whatever this shell exports.
        env = {"PORT": str(port), "CORS_ORIGINS": cors_origins or "", "WEB_CONCURRENCY": "1", **env}
        log = self.log_dir / f"{name}-{port}.log"
        with log.open("wb") as out:
            process = SERVICES[name].start(env, stdout=out, stderr=subprocess.STDOUT)
        backend = Backend(name, port, process, log, env)
        self.started.append(backend)
        return backend

    def wait(self, *backends: Backend) -> None:
        for backend in backends:
            if wait_healthy(f"{backend.url}/health", backend.process, timeout=30) is None:
                backend.stop()
                pytest.fail(f"{backend.name} did not get healthy: {backend.log.read_text(errors='replace')[-2000:]}")

    def start_healthy(self, name: str, cors_origins: str | None, **env: str) -> Backend:
        backend = self.start(name, cors_origins, **env)
        self.wait(backend)
        return backend

    def stop_all(self) -> None:
        for backend in self.started:  # all at once: each takes its graceful shutdown
            if backend.process.poll() is None:
                backend.process.send_signal(signal.SIGTERM)
        for backend in self.started:
            backend.stop()


@pytest.fixture(scope="session")
def backends(tmp_path_factory) -> Iterator[Backends]:
    running = Backends(tmp_path_factory.mktemp("backends"))
    yield running
    running.stop_all()


SHORT = {"python-backend": "python", "nodejs-backend": "node"}


@pytest.fixture(scope="session")
def fleet(backends, site, other_site) -> dict[tuple[str, str], Backend]:
    """Each service three ways, started together: ("python", "allow") etc.
    allow: CORS_ORIGINS names the page's origin (and the service says it runs on a Space);
    elsewhere: an allowlist naming only the other origin; star: CORS_ORIGINS unset."""
    wanted = {}
    for name, key in SHORT.items():
        space = {"SPACE_ID": f"me/{name}", "SPACE_HOST": f"me-{name}.hf.space"}
        wanted[key, "allow"] = backends.start(name, site.origin, **space)
        wanted[key, "elsewhere"] = backends.start(name, other_site.origin)
        wanted[key, "star"] = backends.start(name, None)
    backends.wait(*wanted.values())
    return wanted


# --- the browser ----------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser():
    problem = browser_problem()
    if problem:  # only reached in CI: elsewhere collection skipped these tests
        pytest.fail(f"browser tests need Chromium and Playwright: {problem}", pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # Playwright gives each launch a fresh temporary user data dir.
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        yield chromium
        chromium.close()


@dataclass
class Visit:
    """One page in a fresh browser context, with what it asked for and complained about."""

    page: object
    requests: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def open(self, url: str, refreshes: int = 1) -> None:
        self.page.goto(url)
        self.wait_refreshes(refreshes)

    def wait_refreshes(self, count: int) -> None:
        self.page.wait_for_function(
            "n => Number(document.body.dataset.refreshes) >= n", arg=count, timeout=REFRESH_TIMEOUT_MS
        )

    def card(self, key: str):
        return self.page.locator(f"#card-{key}")

    def field(self, key: str, name: str) -> str:
        return self.card(key).locator(f'[data-field="{name}"]').inner_text()

    def state(self, key: str) -> str:
        return self.card(key).get_attribute("data-state")


def _screenshot_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid.split("::", 1)[-1]).strip("_") + ".png"


@pytest.fixture
def visit(browser, request) -> Iterator[Visit]:
    """A fresh context (no cache, no preflight cache) at desktop width; its screenshot lands in build/screenshots/."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(REFRESH_TIMEOUT_MS)
    seen = Visit(page)
    page.on("request", lambda req: seen.requests.append(req.url))
    page.on("console", lambda msg: seen.errors.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: seen.errors.append(f"uncaught: {exc}"))
    try:
        yield seen
    finally:
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        with contextlib.suppress(Exception):  # a screenshot is evidence, never the failure itself
            page.screenshot(path=str(SCREENSHOTS / _screenshot_name(request.node.nodeid)), full_page=True)
        context.close()
