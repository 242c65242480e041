"""The one model of a Space folder, read once: every command uses it, nothing re-derives it.

`load(path)` reads:

- the card (README.md front matter, `card.py`): its values and the line of each key;
- the Dockerfile (`dockerfile.py`): stages and their FROM chain, ARG scoping, ENV, USER,
  WORKDIR, the command the container runs (inherited ones included), and which COPY/ADD
  reach the final image;
- the build context (`context.py`): `.dockerignore` with its exceptions, hence what a build
  can copy, hence what a deploy uploads;
- what the app will listen on (`listen.py`), and the files themselves.

It never raises for a malformed card or Dockerfile: those are findings for `hfspace
validate`, recorded on the object. It raises HfspaceError only when the path is not a folder.
"""

from __future__ import annotations

import json
import os
import posixpath
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

from dotenv import dotenv_values

from hfspace.errors import HfspaceError
from hfspace.space import card as _card
from hfspace.space import dockerfile as _dockerfile
from hfspace.space.accounts import Accounts, accounts
from hfspace.space.card import DEFAULT_APP_PORT, SDKS, Card, CardError, parse_duration
from hfspace.space.context import BuildContext, clean, git_ignored, matches
from hfspace.space.dockerfile import Command, Dockerfile, Instruction, Stage
from hfspace.space.listen import Listen, listen
from hfspace.space.words import split
from hfspace.space.writes import Code, Ownership, Write, app_code, app_writes, entry_files, ownership

# Never part of what a Space holds: the Hub ignores .git; the rest is local state.
SKIPPED_DIRS = frozenset(
    {".git", "node_modules", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}
)
SETTINGS_FILE = ".hfspace.toml"  # the folder's own hfspace settings ([validate] ignore = [...])
# Local settings files that hold secrets; the templates next to them do not.
ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", ".env.dist"})

__all__ = [
    "DEFAULT_APP_PORT", "SDKS", "Card", "CardError", "Command", "Dockerfile", "Instruction", "Listen", "Space",
    "Stage", "is_env_file", "load", "parse_duration",
]  # fmt: skip


def is_env_file(path: str) -> bool:
    """A local environment file (`.env`, `.env.local`, ...), not a template such as `.env.example`."""
    name = posixpath.basename(path)
    return (name == ".env" or name.startswith(".env.")) and name not in ENV_TEMPLATES


@dataclass
class Space:
    root: Path
    files: dict[str, int]  # relative POSIX path -> size in bytes
    card: Card | None = None
    card_error: CardError | None = None
    dockerfile: Dockerfile | None = None  # None when there is no file named exactly `Dockerfile`
    context: BuildContext = field(default_factory=lambda: BuildContext({}, None))
    gitignore: list[tuple[int, str]] | None = None
    dotenv: dict[str, str] = field(default_factory=dict)
    _texts: dict[str, str | None] = field(default_factory=dict, repr=False)

    # ---- the card
    @property
    def name(self) -> str:
        return self.root.name

    @property
    def sdk(self) -> str | None:
        return self.card.sdk if self.card else None

    @property
    def app_port(self) -> int:
        return self.card.app_port if self.card else DEFAULT_APP_PORT

    @property
    def startup_timeout(self) -> float:
        return self.card.startup_timeout if self.card else _card.DEFAULT_STARTUP_TIMEOUT

    @property
    def docker(self) -> bool:
        """Whether it is a Docker Space: `sdk: docker`, or no readable sdk and a Dockerfile."""
        return self.sdk == "docker" or (self.sdk not in SDKS and self.dockerfile is not None)

    @cached_property
    def nested_cards(self) -> list[str]:
        """README.md files below the root that hold a Space card (the Hub reads only the root's)."""
        return [
            path
            for path in self.files
            if "/" in path
            and posixpath.basename(path).lower() == "readme.md"
            and _card.holds_card(self.text(path) or "")
        ]

    # ---- the files
    def text(self, path: str) -> str | None:
        """A file's text (read once), or None when the Space has no such file."""
        if path not in self._texts:
            file = self.root / path
            self._texts[path] = file.read_text(errors="replace") if path in self.files and file.is_file() else None
        return self._texts[path]

    @cached_property
    def settings(self) -> dict:
        """The folder's .hfspace.toml (empty when there is none or it cannot be read)."""
        text = self.text(SETTINGS_FILE)
        try:
            return tomllib.loads(text) if text else {}
        except tomllib.TOMLDecodeError:
            return {}

    # ---- the image
    @property
    def command(self) -> Command | None:
        return self.dockerfile.command if self.dockerfile else None

    def run_env(self, build_args: Mapping[str, str] | None = None) -> dict[str, str]:
        """The final stage's ENV as the container gets it, built with these build arguments."""
        if self.dockerfile is None:
            return {}
        built = _dockerfile.parse(self.dockerfile.text, build_args) if build_args else self.dockerfile
        return built.run_env()

    def declared_args(self) -> set[str]:
        return self.dockerfile.declared_args() if self.dockerfile else set()

    def file_in_image(self, path: str) -> str | None:
        """The Space file that a path in the final image (absolute, or relative to WORKDIR) comes from."""
        if self.dockerfile is None or self.dockerfile.final is None:
            return None
        wanted = posixpath.normpath(posixpath.join(self.dockerfile.config.workdir, path))
        for copy in reversed(self.dockerfile.final_copies()):
            if not copy.from_context:
                continue
            dest = copy.dest
            into_folder = dest.endswith("/") or len(copy.sources) > 1
            for source in copy.sources:
                src = clean(source)
                if src in self.files:
                    target = posixpath.join(dest, posixpath.basename(src)) if into_folder else dest
                    if posixpath.normpath(target) == wanted and not self.context.excluded(src):
                        return src
                    continue
                base = dest.rstrip("/") or "/"
                if wanted == base or wanted.startswith(base.rstrip("/") + "/"):
                    candidate = posixpath.normpath(posixpath.join(src, posixpath.relpath(wanted, base)))
                    if candidate in self.files and matches(source, candidate) and not self.context.excluded(candidate):
                        return candidate
        relative = posixpath.normpath(path.lstrip("/"))  # not traced to a COPY: the folder's own layout
        if relative in self.files:
            return relative
        return posixpath.basename(path) if posixpath.basename(path) in self.files else None

    def _read_in_image(self, path: str) -> tuple[str, str] | None:
        file = self.file_in_image(path)
        text = self.text(file) if file else None
        return (file, text) if file and text is not None else None

    @cached_property
    def accounts(self) -> Accounts:
        """The users the final image has (the base image's uid-1000 user, and those its RUNs add)."""
        return accounts(self.dockerfile) if self.dockerfile else Accounts()

    @cached_property
    def ownership(self) -> Ownership | None:
        """Who the container runs as (its USER, root without one) and what that user may write."""
        if self.dockerfile is None or self.dockerfile.final is None:
            return None
        return ownership(self.dockerfile, self.accounts)

    @property
    def runtime_home(self) -> str | None:
        """HOME in the running container: the image's ENV HOME, else its user's home (/root for root), else /."""
        if self.dockerfile is None:
            return None
        env = self.dockerfile.config.env
        if "HOME" in env:
            return env["HOME"]
        uid = self.ownership.uid if self.ownership else None
        if uid == 0:
            return "/root"
        account = self.accounts.by_uid(uid) if uid is not None else None
        return account.home if account and account.home else ("/" if uid is not None else None)

    @cached_property
    def app_code(self) -> list[Code]:
        """The app's own code: what the command runs (a script, a module, a shell script) and what it imports."""
        command = self.command
        if command is None or not command.argv:
            return []
        words = self._npm_script(command.words) or command.words
        return app_code(entry_files(words, self.dockerfile.config.workdir), self._read_in_image)

    def _npm_script(self, words: list[str]) -> list[str] | None:
        """The words of the package.json script an `npm start` / `npm run NAME` command runs."""
        if len(words) < 2 or posixpath.basename(words[0]) not in ("npm", "yarn", "pnpm"):
            return None
        name = words[2] if words[1] in ("run", "run-script") and len(words) > 2 else words[1]
        found = self._read_in_image("package.json")
        try:
            script = json.loads(found[1]).get("scripts", {}).get(name) if found else None
        except (ValueError, AttributeError):
            return None
        return split(script) if isinstance(script, str) else None

    @cached_property
    def app_writes(self) -> list[Write]:
        """Where the app's code writes when it runs (what can be followed of it)."""
        if not self.app_code:
            return []
        config = self.dockerfile.config
        env = {**config.env, "HOME": self.runtime_home}
        made = self.ownership.made if self.ownership else (lambda path: False)
        return app_writes(self.app_code, config.workdir, env, self.runtime_home, made)

    @cached_property
    def listen(self) -> Listen:
        return listen(self.dockerfile, self._read_in_image) if self.dockerfile else Listen()

    @cached_property
    def needed_files(self) -> list[str]:
        """Files some COPY/ADD (or bind mount) of any stage takes from the folder, as .dockerignore lets them."""
        if self.dockerfile is None:
            return []
        sources = [source for copy in self.dockerfile.context_copies() for source in copy.sources]
        if any(not clean(source) for source in sources):
            return self.context.sent()
        return [
            path
            for path in self.files
            if not self.context.excluded(path) and any(matches(source, path) for source in sources)
        ]

    # ---- the upload
    @cached_property
    def git_ignored(self) -> dict[str, tuple[int, str]]:
        """Files the folder's .gitignore drops from a git push or `hf upload`: path -> (line, pattern)."""
        if not self.gitignore or not self.files:
            return {}
        return git_ignored(self.root / ".gitignore", [*self.files, ".env"])

    def upload_set(self) -> list[str]:
        """The files a deploy mirrors to the Space.

        A Docker Space gets its card, its Dockerfile and .dockerignore, and what the image
        build takes from the folder: nothing else reaches the image, so nothing else is
        uploaded. Other Spaces (static) get every file of the folder but tests. Either way,
        never a local `.env` or the .gitignore (the Hub would apply it to the commit).
        """
        if self.docker:
            wanted = ["README.md", "Dockerfile", ".dockerignore", *self.needed_files]
        else:
            wanted = [path for path in self.files if not path.startswith(("tests/", "test/"))]
        return sorted(
            path
            for path in dict.fromkeys(wanted)
            if path in self.files and path not in (".gitignore", SETTINGS_FILE) and not is_env_file(path)
        )


def _patterns(text: str | None) -> list[tuple[int, str]] | None:
    if text is None:
        return None
    found = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if line and not line.startswith("#"):
            found.append((number, line))
    return found


def _files(root: Path) -> dict[str, int]:
    files = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.stat().st_size
    return files


def load(path: str | os.PathLike, build_args: Mapping[str, str] | None = None) -> Space:
    root = Path(path)
    if not root.is_dir():
        raise HfspaceError(f"{path} is not a folder", hint="pass the folder that holds the Space's README.md")
    space = Space(root=root.resolve(), files=_files(root))
    read = _card.read(space.text("README.md"))
    if isinstance(read, Card):
        space.card = read
    else:
        space.card_error = read
    text = space.text("Dockerfile")
    if text is not None:
        space.dockerfile = _dockerfile.parse(text, build_args)
        try:
            (space.root / "Dockerfile").read_bytes().decode("utf-8")
        except UnicodeDecodeError as exc:  # dockerfile-parse, and the Hub's file views, want UTF-8
            space.dockerfile.error = (
                f"the Dockerfile cannot be parsed: it is not UTF-8 text ({exc.reason} at byte {exc.start})"
            )
    space.context = BuildContext(space.files, _patterns(space.text(".dockerignore")))
    space.gitignore = _patterns(space.text(".gitignore"))
    if ".env" in space.files:
        space.dotenv = {k: v for k, v in dotenv_values(space.root / ".env").items() if v is not None}
    return space
