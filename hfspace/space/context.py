"""The build context: which files of the folder a `docker build` can copy, and which of them it does.

`.dockerignore` is read as Docker reads it (moby's patternmatcher): each line a Go
`filepath.Match` pattern with `**`, cleaned of a leading `/` and `./`; a path is excluded
when the last pattern that matches it, or one of its parent folders, is not a `!` exception.
A COPY source matches a file when it names the file or one of its folders (wildcards
allowed); a source that names nothing the context holds fails the build.

The files a Space's build needs are the ones some COPY/ADD (or bind mount) of any stage
takes from the context and `.dockerignore` lets through: exactly what a deploy uploads
beside the card, the Dockerfile and `.dockerignore`.

`.gitignore` is asked of git itself (`git check-ignore`), negations and folder rules included.
"""

from __future__ import annotations

import os
import posixpath
import re
import subprocess
import tempfile
from collections.abc import Iterator
from functools import cache
from pathlib import Path


@cache
def glob(pattern: str) -> re.Pattern:
    """A .dockerignore or COPY source pattern (Go filepath.Match plus `**`) as a regex over a POSIX path."""
    out, i = [], 0
    while i < len(pattern):
        char = pattern[i]
        if pattern.startswith("**", i):
            i += 2
            if pattern.startswith("/", i):
                i += 1
                out.append("(?:.*/)?")
            else:
                out.append(".*")
            continue
        if char == "*":
            out.append("[^/]*")
        elif char == "?":
            out.append("[^/]")
        elif char == "[":
            end = pattern.find("]", i + 1)
            if end == -1:
                out.append(re.escape(char))
            else:
                body = pattern[i + 1 : end]
                out.append("[" + ("^" + body[1:] if body.startswith(("!", "^")) else body) + "]")
                i = end
        elif char == "\\" and i + 1 < len(pattern):
            i += 1
            out.append(re.escape(pattern[i]))
        else:
            out.append(re.escape(char))
        i += 1
    return re.compile("".join(out) + r"\Z")


def clean(pattern: str) -> str:
    """A pattern or COPY source as a path relative to the context root ("" for the root itself)."""
    cleaned = posixpath.normpath(pattern.strip().lstrip("/")) if pattern.strip() else "."
    return "" if cleaned == "." else cleaned


def self_and_parents(path: str) -> Iterator[str]:
    parts = path.split("/")
    for end in range(len(parts), 0, -1):
        yield "/".join(parts[:end])


def has_wildcard(source: str) -> bool:
    return any(char in source for char in "*?[")


def matches(source: str, path: str) -> bool:
    """Whether a COPY source takes `path` (the file itself, or a folder holding it)."""
    pattern = clean(source)
    if not pattern:
        return True
    regex = glob(pattern)
    return any(regex.match(part) for part in self_and_parents(path))


class BuildContext:
    """The folder's files as a build sees them."""

    def __init__(self, files: dict[str, int], dockerignore: list[tuple[int, str]] | None) -> None:
        self.files = files
        self.dockerignore = dockerignore  # (line, pattern) pairs; None when there is no .dockerignore
        self._excluded: dict[str, tuple[int, str] | None] = {}

    @property
    def patterns(self) -> list[str]:
        return [pattern for _, pattern in self.dockerignore or []]

    def excluded_by(self, path: str) -> tuple[int, str] | None:
        """The .dockerignore line and pattern that leave `path` out of the context, or None."""
        if path not in self._excluded:
            found = None
            for line, raw in self.dockerignore or []:
                negate = raw.startswith("!")
                pattern = clean(raw[1:] if negate else raw)
                if not pattern:
                    continue
                if any(glob(pattern).match(part) for part in self_and_parents(path)):
                    found = None if negate else (line, raw)
            self._excluded[path] = found
        return self._excluded[path]

    def excluded(self, path: str) -> bool:
        return self.excluded_by(path) is not None

    def sent(self) -> list[str]:
        """The files the build receives."""
        return [path for path in self.files if not self.excluded(path)]

    def taken(self, source: str) -> list[str]:
        """The files of the context a COPY source takes."""
        return [path for path in self.files if matches(source, path) and not self.excluded(path)]

    def missing(self, sources: list[str]) -> list[tuple[str, str]]:
        """The sources of one COPY that fail the build, each with why: absent, or left out by
        .dockerignore. A wildcard that matches nothing fails only when no other source matches."""
        found = []
        any_taken = False
        for source in sources:
            if clean(source).startswith("../") or clean(source) == "..":
                found.append((source, "outside the build context"))
                continue
            if self.taken(source):
                any_taken = True
                continue
            present = [path for path in self.files if matches(source, path)]
            if has_wildcard(source):
                found.append((source, "wildcard"))
            elif present:
                line, pattern = self.excluded_by(present[0]) or (0, "")
                found.append((source, f"left out by .dockerignore line {line} (`{pattern}`)"))
            else:
                found.append((source, "not in the folder"))
        return [(s, why) for s, why in found if why != "wildcard" or not any_taken]


def git_ignored(gitignore: Path, paths: list[str]) -> dict[str, tuple[int, str]]:
    """Ask git itself which paths a .gitignore matches: path -> (line, pattern)."""
    env = {**os.environ, "GIT_CONFIG_GLOBAL": os.devnull, "GIT_CONFIG_NOSYSTEM": "1"}
    with tempfile.TemporaryDirectory(prefix="hfspace-gitignore-") as tmp:
        try:
            subprocess.run(["git", "init", "-q", tmp], check=True, env=env, capture_output=True, timeout=30)  # noqa: S603, S607
            Path(tmp, ".gitignore").write_bytes(gitignore.read_bytes())
            done = subprocess.run(  # noqa: S603
                ["git", "-C", tmp, "check-ignore", "--no-index", "--stdin", "-z", "-v", "-n"],  # noqa: S607
                input="\0".join(paths) + "\0",
                capture_output=True,
                text=True,
                env=env,
                timeout=60,
            )
        except (OSError, subprocess.SubprocessError):
            return {}
    fields = done.stdout.split("\0")
    ignored = {}
    for source, line, pattern, path in zip(fields[0::4], fields[1::4], fields[2::4], fields[3::4], strict=False):
        if source and pattern and not pattern.startswith("!"):
            ignored[path] = (int(line), pattern)
    return ignored
