"""`hfspace init`: make an existing app folder a Space, without touching the app's own files.

Three steps, each its own function:

- `scan(folder)` reads the app (one detector module per family: `python.py` for Flask,
  FastAPI/Starlette, Django, Streamlit and Gradio; `node.py` for Express, Fastify and plain
  `node:http`; `static.py` for a site of HTML files) and returns an `App`: what it is, how
  it starts, what it installs, where it listens, what it writes, each fact with the file and
  line that says so, and what could not be told or fixed without editing the app.
- `plan(app, force)` turns it into `Change`s: the Dockerfile and .dockerignore (`files.py`
  renders them in the shape of this repository's own Spaces), the card merged into
  README.md, and the small files that adapt the app from outside (a Django settings module
  that imports the app's, an ASGI/WSGI wrapper, a Node preload). An existing file is never
  replaced without `force`; README.md gets the card's keys it lacks; .gitignore and
  .dockerignore may get lines appended; nothing else of the app is written.
- `apply(changes)` writes them.

Nothing here prints: the CLI renders the App and the Changes.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from hfspace.errors import HfspaceError
from hfspace.space import SKIPPED_DIRS, card

MARK = "hfspace init"  # the first line of every file init writes says so: rescans skip them
Where = tuple[str, int | None]  # (a file of the app, a line; None for the whole file)

# What a finding is, for the output: detected (a fact about the app), handled (something the
# written files adapt from outside), unknown (could not tell), not fixed (needs the app edited).
DETECTED, HANDLED, UNKNOWN, NOT_FIXED = "detected", "handled", "unknown", "not fixed"
# What each framework value is called in a sentence.
NAMES = {
    "flask": "a Flask app", "fastapi": "a FastAPI app", "starlette": "a Starlette app", "django": "a Django project",
    "streamlit": "a Streamlit app", "gradio": "a Gradio app", "express": "an Express app", "fastify": "a Fastify app",
    "koa": "a Koa app", "@hapi/hapi": "a hapi app", "@nestjs/core": "a NestJS app", "node": "a Node.js app",
    "static": "a static site",
}  # fmt: skip


@dataclass(frozen=True)
class Note:
    kind: str  # DETECTED, HANDLED, UNKNOWN or NOT_FIXED
    topic: str  # framework, entry point, dependencies, server, port, writes, embedding, ...
    text: str
    where: Where | None = None


@dataclass
class App:
    """An app folder as `scan` read it, and what its Space needs."""

    root: Path
    kind: str  # "python", "node", "static", "gradio"
    framework: str  # flask, fastapi, starlette, django, streamlit, gradio, express, fastify, node, static
    notes: list[Note] = field(default_factory=list)
    port: int = card.DEFAULT_APP_PORT  # app_port
    command: list[str] = field(default_factory=list)  # the exec-form CMD
    env: dict[str, str] = field(default_factory=dict)  # ENV of the final stage, beyond the base ones
    install: list[str] = field(default_factory=list)  # the build stage's install steps (shell lines)
    install_files: list[str] = field(default_factory=list)  # what those steps read from the folder
    extra_packages: list[str] = field(default_factory=list)  # what the app lacks, installed by the image
    build_steps: list[str] = field(default_factory=list)  # RUN lines in the final stage, as uid 1000
    compile: list[str] = field(default_factory=list)  # Node: the build stage's steps after `COPY . .` (npm run build)
    ignore: list[str] = field(default_factory=list)  # .dockerignore lines beyond the usual ones (a build's dist)
    files: dict[str, str] = field(default_factory=dict)  # adapters written beside the app: path -> text
    health_path: str = "/"
    title: str = ""
    emoji: str = "🚀"
    card_extra: dict[str, object] = field(default_factory=dict)  # app_file for static and gradio
    docker: bool = True  # False: a static or gradio Space (no Dockerfile)
    python: str | None = None  # "3.11": the Python the app wants, when not the default image's

    def note(self, kind: str, topic: str, text: str, where: Where | None = None) -> None:
        self.notes.append(Note(kind, topic, text, where))


@dataclass(frozen=True)
class Change:
    """A file init writes: `action` is create, merge (README.md's card), append (ignore files),
    replace (--force), unchanged (already so), or kept (exists and differs; --force replaces it)."""

    path: str
    action: str
    text: str  # the whole new content (for append: the lines added)
    why: str = ""

    @property
    def writes(self) -> bool:
        return self.action in ("create", "merge", "append", "replace")


def app_files(root: Path) -> dict[str, Path]:
    """The app's own files (relative POSIX path -> path), local state and files init wrote left out."""
    found: dict[str, Path] = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS and d not in ("venv", "env", ".tox", "dist-newstyle"))
        for name in sorted(names):
            path = Path(directory, name)
            relative = path.relative_to(root).as_posix()
            if path.is_file() and not written_by_init(path):
                found[relative] = path
    return found


def written_by_init(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(300)
    except OSError:
        return False
    return MARK.encode() in head.split(b"\n", 2)[0] or (path.name == "Dockerfile" and MARK.encode() in head)


def scan(folder: str | os.PathLike, *, docker: bool = False) -> App:
    """Read an app folder. `docker`: a Gradio app becomes a Docker Space instead of `sdk: gradio`."""
    from hfspace.init import node, python, static

    root = Path(folder)
    if not root.is_dir():
        raise HfspaceError(f"{folder} is not a folder", hint="pass the folder that holds your app", exit_code=2)
    root = root.resolve()
    files = app_files(root)
    for detect in (python.detect, node.detect, static.detect):
        app = detect(root, files, docker=docker)
        if app is not None:
            app.title = app.title or root.name
            return app
    raise HfspaceError(
        f"{folder}: no app found: no Python web app (Flask, FastAPI, Starlette, Django, Streamlit, Gradio), "
        "no Node.js app (package.json) and no index.html",
        hint="run init in the folder that holds your app's code",
    )


def plan(app: App, *, force: bool = False) -> list[Change]:
    """What to write; HfspaceError when the app's command could not be told (nothing is written then)."""
    from hfspace.init import files

    if app.docker and not app.command:
        raise HfspaceError(
            f"{app.root.name}: could not tell how to start the app, so nothing was written",
            hint="see the `not fixed` line above; give the app a start command init can read, then run init again",
        )
    return files.changes(app, force=force)


def apply(root: Path, changes: list[Change]) -> None:
    for change in changes:
        if not change.writes:
            continue
        path = root / change.path
        path.parent.mkdir(parents=True, exist_ok=True)
        if change.action == "append":
            existing = path.read_text(errors="replace") if path.exists() else ""
            joiner = "" if not existing or existing.endswith("\n") else "\n"
            path.write_text(existing + joiner + change.text)
        else:
            path.write_text(change.text)
