"""`hfspace new NAME`: a new Space folder from one of this repository's own production Spaces.

One source for the templates: the Space folders themselves (python-backend/, nodejs-backend/,
frontend/). Run from the repository they are read there; in an installed tool they are the
same folders, copied into the wheel as package data (`hfspace/templates/<template>/`, see
pyproject.toml). A copy leaves out what is no part of a Space (tests, node_modules, virtual
environments, caches, local .env files) and renames the Space: the card's title, and the
service's own name wherever the folder's files say it.
"""

from __future__ import annotations

import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from hfspace.errors import HfspaceError
from hfspace.space import is_env_file

# template -> the repository folder it is made from
TEMPLATES = {"flask": "python-backend", "express": "nodejs-backend", "static": "frontend"}
LEFT_OUT = frozenset({"tests", "test", "node_modules", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache"})
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}")  # a Space repository's name on the Hub
_TEXT_SUFFIXES = {".py", ".js", ".json", ".md", ".txt", ".in", ".toml", ".yaml", ".yml", ".html", ".css", ""}


@dataclass(frozen=True)
class Made:
    folder: Path
    template: str
    source: str  # where the template was read: a repository folder or the installed package
    files: list[str]


def template_root(template: str) -> tuple[Path, str]:
    """The folder a template is read from, and how to name it: the installed copy when the
    wheel carries one, else the repository's own Space folder."""
    if template not in TEMPLATES:
        raise HfspaceError(
            f"--template {template}: no such template", hint=f"one of {', '.join(TEMPLATES)}", exit_code=2
        )
    packaged = resources.files("hfspace").joinpath("templates", template)
    if packaged.is_dir():
        return Path(str(packaged)), f"hfspace/templates/{template}"
    folder = Path(__file__).resolve().parent.parent / TEMPLATES[template]
    if folder.is_dir():
        return folder, TEMPLATES[template] + "/"
    raise HfspaceError(f"the {template} template is missing from this installation", hint="reinstall hfspace")


def _skipped(relative: Path) -> bool:
    parts = relative.parts
    return any(part in LEFT_OUT for part in parts) or is_env_file(relative.name) or relative.suffix in (".pyc", ".pyo")


def new(name: str, template: str = "flask", where: str | os.PathLike | None = None) -> Made:
    if not _NAME.fullmatch(name) or name.endswith((".git", ".")) or ".." in name:
        raise HfspaceError(
            f"{name!r} is not a Space name",
            hint="letters, digits, '-', '_' and '.', at most 96 characters, e.g. my-api",
            exit_code=2,
        )
    source, shown = template_root(template)
    folder = Path(where) if where is not None else Path(name)
    if folder.exists() and (not folder.is_dir() or any(folder.iterdir())):
        raise HfspaceError(f"{folder} already exists and is not empty", hint="pick another NAME, or --dir PATH")
    old = TEMPLATES[template]
    written = []
    for directory, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if d not in LEFT_OUT)
        for file_name in sorted(files):
            path = Path(directory, file_name)
            relative = path.relative_to(source)
            if _skipped(relative):
                continue
            target = folder / relative
            target.parent.mkdir(parents=True, exist_ok=True)
            if relative.suffix in _TEXT_SUFFIXES or relative.name.startswith("."):
                text = path.read_text(errors="strict")
                target.write_text(_rename(text, old, name, is_card=relative.as_posix() == "README.md"))
            else:
                shutil.copyfile(path, target)
            written.append(relative.as_posix())
    return Made(folder, template, shown, written)


def _rename(text: str, old: str, name: str, *, is_card: bool) -> str:
    """The template's name replaced by the new Space's: every whole-word mention, and the card's title."""
    text = re.sub(rf"(?<![\w-]){re.escape(old)}(?![\w-])", name.lower() if old != name else name, text)
    if is_card:
        text = re.sub(r"(?m)^title: .*$", f"title: {name}", text, count=1)
    return text
