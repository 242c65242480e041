"""A Space folder, read once into one object that every command uses.

`load(path)` reads the Space card (README.md front matter, with the line of each
key), the Dockerfile (parsed with dockerfile-parse), `.dockerignore`,
`.gitignore`, `.env` and the list of files. It never raises for a malformed
card or Dockerfile: those are findings for `hfspace validate`, recorded on the
object (`card_error`, `dockerfile_error`). It raises HfspaceError only when the
path is not a folder at all.
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

import yaml
from dockerfile_parse import DockerfileParser
from dockerfile_parse.util import WordSplitter, extract_key_values
from dotenv import dotenv_values

from hfspace.errors import HfspaceError

DEFAULT_APP_PORT = 7860
DEFAULT_STARTUP_TIMEOUT = 30 * 60.0  # seconds: the platform's default startup_duration_timeout
# A duration as the card writes one: `30m`, `1h`, `90s`, `1h30m`, `1.5h` (Go's syntax, which the
# platform's examples follow, without its sub-second units).
_DURATION = re.compile(r"(?:\d+(?:\.\d+)?[smh])+")
_DURATION_PART = re.compile(r"(\d+(?:\.\d+)?)([smh])")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
# Never part of what a Space holds: the Hub ignores .git; the rest is local state.
_SKIPPED_DIRS = {".git", "node_modules", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"}


@dataclass
class Card:
    """The README.md front matter: its values and the 1-based line of each top-level key."""

    data: dict
    lines: dict[str, int]
    first_line: int  # the line of the opening `---`

    def line(self, key: str) -> int:
        return self.lines.get(key, self.first_line)


@dataclass
class Instruction:
    """One Dockerfile instruction: upper-case name, its value, 1-based lines, and its stage index."""

    instruction: str
    value: str
    line: int
    endline: int
    stage: int
    content: str


@dataclass
class Space:
    root: Path
    readme: Path | None = None
    card: Card | None = None
    card_error: str | None = None  # why the front matter could not be read
    card_error_line: int = 1
    dockerfile_path: Path | None = None
    instructions: list[Instruction] = field(default_factory=list)
    dockerfile_error: str | None = None
    dockerignore: list[str] | None = None  # patterns, None when there is no .dockerignore
    gitignore: list[str] | None = None
    dotenv: dict[str, str] = field(default_factory=dict)
    files: dict[str, int] = field(default_factory=dict)  # relative POSIX path -> size in bytes

    @property
    def name(self) -> str:
        return self.root.name

    @property
    def sdk(self) -> str | None:
        value = self.card.data.get("sdk") if self.card else None
        return value if isinstance(value, str) else None

    @property
    def app_port(self) -> int:
        """The card's app_port when it is a valid port, else the platform's default."""
        value = self.card.data.get("app_port") if self.card else None
        valid = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 65535
        return value if valid else DEFAULT_APP_PORT

    @property
    def startup_timeout(self) -> float:
        """The card's startup_duration_timeout in seconds, or the platform's default (30 minutes)."""
        value = self.card.data.get("startup_duration_timeout") if self.card else None
        return parse_duration(value) or DEFAULT_STARTUP_TIMEOUT

    def final_stage(self) -> list[Instruction]:
        """The instructions the image runs with: the last build stage's, after those of the
        stages it builds on (`FROM base AS final` inherits base's ENV, USER, CMD, ...)."""
        if not self.instructions:
            return []
        chain = self._stage_chain(self.instructions[-1].stage)
        return [i for i in self.instructions if i.stage in chain]

    def _stage_chain(self, stage: int) -> list[int]:
        """`stage` and the earlier stages its FROM names, by alias or index, root first."""
        froms = {i.stage: i for i in self.instructions if i.instruction == "FROM"}
        aliases = {}
        for index, ins in froms.items():
            words = [w for w in ins.value.split() if not w.startswith("--")]
            if len(words) >= 3 and words[1].lower() == "as":
                aliases[words[2].lower()] = index
        chain = [stage]
        while (ins := froms.get(chain[0])) is not None:
            words = [w for w in ins.value.split() if not w.startswith("--")]
            base = words[0].lower() if words else ""
            parent = aliases.get(base, int(base) if base.isdigit() else None)
            if parent is None or parent >= chain[0] or parent in chain:
                break
            chain.insert(0, parent)
        return chain

    def last(self, name: str) -> Instruction | None:
        """The last `name` instruction of the final stage (the one that counts for CMD, USER, ...)."""
        found = [i for i in self.final_stage() if i.instruction == name]
        return found[-1] if found else None

    def command(self) -> list[str] | None:
        """What the image runs: the final stage's ENTRYPOINT then CMD, combined as Docker does.

        A shell form becomes ["/bin/sh", "-c", text] (a shell-form ENTRYPOINT ignores CMD);
        None when the final stage sets neither.
        """
        entrypoint, cmd = self.last("ENTRYPOINT"), self.last("CMD")
        if entrypoint is None:
            return _command_form(cmd) if cmd else None
        if not _is_exec_form(entrypoint):
            return _command_form(entrypoint)
        return _command_form(entrypoint) + (_command_form(cmd) if cmd else [])

    def declared_args(self) -> set[str]:
        """Every name an ARG declares, in any stage (the names a Space variable reaches at build time)."""
        return {name for i in self.instructions if i.instruction == "ARG" for name, _ in arg_pairs(i.value)}

    def stage_env(self, build_args: dict[str, str] | None = None) -> dict[str, str]:
        """The final stage's ENV values, `$NAME` expanded from its ARGs (defaults, or `build_args`) and earlier ENVs."""
        build_args = build_args or {}
        first_from = next((i.line for i in self.instructions if i.instruction == "FROM"), 0)
        global_args = {
            name: default
            for i in self.instructions
            if i.instruction == "ARG" and i.line < first_from
            for name, default in arg_pairs(i.value)
        }
        args: dict[str, str] = {}
        envs: dict[str, str] = {}
        for item in self.final_stage():
            if item.instruction == "ARG" and item.line > first_from:
                for name, default in arg_pairs(item.value):
                    value = build_args.get(name, default if default is not None else global_args.get(name))
                    if value is not None:
                        args[name] = value
            elif item.instruction == "ENV":
                try:
                    envs.update(extract_key_values(True, args, envs, item.value))
                except ValueError:  # a malformed ENV is a finding for validate, not ours
                    continue
        return envs


def _is_exec_form(instruction: Instruction) -> bool:
    try:
        value = json.loads(instruction.value)
    except ValueError:
        return False
    return isinstance(value, list) and all(isinstance(word, str) for word in value)


def _command_form(instruction: Instruction) -> list[str]:
    if _is_exec_form(instruction):
        return json.loads(instruction.value)
    return ["/bin/sh", "-c", instruction.value.strip()]


def arg_pairs(value: str) -> list[tuple[str, str | None]]:
    """The names an ARG declares, each with its default (None when it has none):
    `ARG A=1 B` declares two."""
    pairs = []
    for word in WordSplitter(value).split(dequote=True):
        name, sep, default = word.partition("=")
        pairs.append((name, default if sep else None))
    return pairs


def parse_duration(text: object, *, bare_seconds: bool = False) -> float | None:
    """`30m`, `1h30m`, `90s` (and, with bare_seconds, `90`) as seconds; None when it is not a
    positive duration. The one reading of durations: the card's, and the command line's."""
    value = str(text).strip() if isinstance(text, str | int | float) and not isinstance(text, bool) else ""
    if bare_seconds and re.fullmatch(r"\d+(?:\.\d+)?", value):
        value += "s"
    if not _DURATION.fullmatch(value):
        return None
    seconds = sum(float(number) * _UNIT_SECONDS[unit] for number, unit in _DURATION_PART.findall(value))
    return seconds or None


def _front_matter(text: str) -> tuple[str, int] | None:
    """The YAML between the opening `---` (first line) and the next `---`, and its first line."""
    lines = text.splitlines()
    if not lines or lines[0].strip() != "---":
        return None
    for index in range(1, len(lines)):
        if lines[index].strip() == "---":
            return "\n".join(lines[1:index]), 1
    return None


def _read_card(space: Space) -> None:
    readme = space.root / "README.md"
    if not readme.is_file():
        space.card_error = "no README.md at the Space root"
        return
    space.readme = readme
    found = _front_matter(readme.read_text(errors="replace"))
    if found is None:
        space.card_error = "README.md has no YAML front matter (a block between --- lines at the very top)"
        return
    yaml_text, first = found
    try:
        node = yaml.compose(yaml_text)
        data = yaml.safe_load(yaml_text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        space.card_error = f"front matter is not valid YAML: {getattr(exc, 'problem', None) or exc}"
        space.card_error_line = first + 1 + (mark.line if mark else 0)
        return
    if not isinstance(data, dict):
        space.card_error = "front matter is not a mapping of keys to values"
        space.card_error_line = first
        return
    lines = {}
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            lines[str(key_node.value)] = first + 1 + key_node.start_mark.line
    space.card = Card(data=data, lines=lines, first_line=first)


def _read_dockerfile(space: Space) -> None:
    path = space.root / "Dockerfile"
    if not path.is_file():
        return
    space.dockerfile_path = path
    try:
        parser = DockerfileParser(path=str(path), cache_content=True)
        structure = parser.structure
    except Exception as exc:  # dockerfile-parse raises assorted errors on broken files
        space.dockerfile_error = f"the Dockerfile cannot be parsed: {exc}"
        return
    stage = -1
    for item in structure:
        name = item["instruction"].upper()
        if name == "COMMENT":
            continue
        if name == "FROM":
            stage += 1
        space.instructions.append(
            Instruction(name, item["value"], item["startline"] + 1, item["endline"] + 1, max(stage, 0), item["content"])
        )


def _patterns(path: Path) -> list[str] | None:
    if not path.is_file():
        return None
    lines = (line.strip() for line in path.read_text(errors="replace").splitlines())
    return [line for line in lines if line and not line.startswith("#")]


def _files(root: Path) -> dict[str, int]:
    files = {}
    for directory, dirs, names in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in _SKIPPED_DIRS)
        for name in sorted(names):
            path = Path(directory, name)
            if path.is_file():
                files[path.relative_to(root).as_posix()] = path.stat().st_size
    return files


def load(path: str | os.PathLike) -> Space:
    root = Path(path)
    if not root.is_dir():
        raise HfspaceError(f"{path} is not a folder", hint="pass the folder that holds the Space's README.md")
    space = Space(root=root.resolve())
    _read_card(space)
    _read_dockerfile(space)
    space.dockerignore = _patterns(root / ".dockerignore")
    space.gitignore = _patterns(root / ".gitignore")
    if (root / ".env").is_file():
        space.dotenv = {k: v for k, v in dotenv_values(root / ".env").items() if v is not None}
    space.files = _files(root)
    return space
