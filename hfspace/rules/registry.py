"""The rule registry: a rule is one function and its documentation; findings, reports, suppressions.

A rule is declared where it lives, in the module of its area:

    @rule("bind-localhost", ERROR)
    def bind_localhost(space: Space) -> Iterator[Hit]:
        '''The server binds 127.0.0.1 or localhost.

        Why: ...
        Severity: ...
        Fix: ...
        Example:
            CMD ["uvicorn", "app:app"]
        '''

The docstring's first line is its summary; `Why:`, `Severity:`, `Fix:` and `Example:` are
what `hfspace rules ID` and docs/rules.md show. Its fixture is the folder
tests/tool/fixtures/validate/<id>/, which breaks exactly that rule.

Suppressions, as hadolint and ruff allow them, each counted in the report, never lost:
- a comment `# hfspace: ignore=ID[,ID]` on the comment lines just above a Dockerfile
  instruction, or on (or just above) the line of another file (`//` in JavaScript);
- the folder's `.hfspace.toml`: `[validate]` `ignore = ["ID", ...]`;
- `select` and `ignore` given by the caller (the command line's --select and --ignore).
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from hfspace.errors import HfspaceError
from hfspace.space import Space

ERROR = "error"
WARNING = "warning"
INFO = "info"
SEVERITIES = (ERROR, WARNING, INFO)
_SECTIONS = ("Why", "Severity", "Fix", "Example")
_INLINE = re.compile(r"hfspace:?\s+ignore\s*=\s*([A-Za-z0-9_,\- ]+)")
_COMMENT = re.compile(r"^\s*(#|//)")


@dataclass(frozen=True)
class Hit:
    """What a rule function yields: a file inside the Space, a line, what is wrong, how to fix it."""

    file: str
    line: int
    message: str
    fix: str


@dataclass(frozen=True)
class Rule:
    id: str
    severity: str
    area: str
    summary: str
    why: str
    severity_reason: str
    fix: str
    example: str
    check: Callable[[Space], Iterable[Hit]] = field(repr=False, compare=False)

    def as_dict(self) -> dict:
        keys = ("id", "severity", "area", "summary", "why", "severity_reason", "fix", "example")
        return {key: getattr(self, key) for key in keys}


RULES: dict[str, Rule] = {}


def _sections(doc: str) -> tuple[str, dict[str, str]]:
    text = inspect.cleandoc(doc)
    summary, _, body = text.partition("\n")
    found: dict[str, list[str]] = {}
    current = None
    for line in body.splitlines():
        head = next((name for name in _SECTIONS if line.startswith(f"{name}:")), None)
        if head:
            current = head
            found[head] = [line[len(head) + 1 :].strip()]
        elif current:
            found[current].append(line)
    return summary.strip(), {name: inspect.cleandoc("\n".join(lines)).strip() for name, lines in found.items()}


def rule(rule_id: str, severity: str):
    """Register a rule function under its id, with its documentation from its docstring."""

    def register(check: Callable[[Space], Iterable[Hit]]):
        if rule_id in RULES:
            raise ValueError(f"rule {rule_id} is declared twice")
        summary, sections = _sections(check.__doc__ or "")
        missing = [name for name in _SECTIONS if not sections.get(name)]
        if not summary or missing:
            raise ValueError(f"rule {rule_id} documents no {', '.join(missing) or 'summary'}")
        RULES[rule_id] = Rule(
            rule_id, severity, check.__module__.rsplit(".", 1)[-1], summary, sections["Why"],
            sections["Severity"], sections["Fix"], sections["Example"], check,
        )  # fmt: skip
        return check

    return register


@dataclass(frozen=True)
class Finding:
    path: str  # as displayed: the folder as given, then the file inside it
    line: int
    severity: str
    rule: str
    message: str
    fix: str

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in ("path", "line", "severity", "rule", "message", "fix")}


@dataclass
class Report:
    folder: str  # as given on the command line
    findings: list[Finding] = field(default_factory=list)
    ignored: list[tuple[Finding, str]] = field(default_factory=list)  # (finding, what silenced it)

    @property
    def errors(self) -> int:
        return sum(f.severity == ERROR for f in self.findings)

    @property
    def warnings(self) -> int:
        return sum(f.severity == WARNING for f in self.findings)

    @property
    def infos(self) -> int:
        return sum(f.severity == INFO for f in self.findings)

    def as_dict(self) -> dict:
        """The folder's summary (its silenced and info findings are listed apart, in `--json`)."""
        return {"folder": self.folder, "errors": self.errors, "warnings": self.warnings}


def check_ids(ids: Iterable[str], option: str) -> set[str]:
    """Rule ids a user gave (`--ignore a,b`); one error line for an id no rule has."""
    wanted = {part.strip() for value in ids for part in value.split(",") if part.strip()}
    unknown = sorted(wanted - set(RULES))
    if unknown:
        raise HfspaceError(
            f"{option} {unknown[0]}: no rule has this id", hint="`hfspace rules` lists them", exit_code=2
        )
    return wanted


def _inline_ignores(space: Space, file: str, line: int) -> set[str]:
    """Rule ids a `hfspace: ignore=` comment silences at a line of a file."""
    comments: list[str] = []
    if file == "Dockerfile" and space.dockerfile is not None:
        owner = next((i for i in space.dockerfile.instructions if i.line <= line <= i.endline), None)
        comments = owner.comments if owner else []
    else:
        lines = (space.text(file) or "").splitlines()
        if 1 <= line <= len(lines):
            comments.append(lines[line - 1])
            above = line - 2
            while above >= 0 and _COMMENT.match(lines[above]):
                comments.append(lines[above])
                above -= 1
    return {
        rule_id.strip()
        for text in comments
        for match in _INLINE.finditer(text)
        for rule_id in match.group(1).split(",")
    }


def validate_space(
    space: Space, shown_as: str, *, select: set[str] | None = None, ignore: set[str] | None = None
) -> Report:
    """Every rule over a Space already read; finding paths start with `shown_as` (the folder as named)."""
    folder_ignores = space.settings.get("validate", {}).get("ignore", []) if isinstance(space.settings, dict) else []
    folder_ignores = {str(item) for item in folder_ignores} if isinstance(folder_ignores, list) else set()
    report = Report(folder=shown_as)
    for entry in RULES.values():
        for hit in entry.check(space):
            shown = (Path(shown_as) / hit.file).as_posix()
            finding = Finding(shown, hit.line, entry.severity, entry.id, hit.message, hit.fix)
            if select is not None and entry.id not in select:
                report.ignored.append((finding, "not selected (--select)"))
            elif ignore and entry.id in ignore:
                report.ignored.append((finding, "--ignore"))
            elif entry.id in folder_ignores:
                report.ignored.append((finding, ".hfspace.toml"))
            elif entry.id in _inline_ignores(space, hit.file, hit.line):
                report.ignored.append((finding, "inline comment"))
            else:
                report.findings.append(finding)
    report.findings.sort(key=lambda f: (f.path, f.line, f.rule))
    return report


def docker_only(check: Callable[[Space], Iterator[Hit]]) -> Callable[[Space], Iterator[Hit]]:
    """For rule helpers that only apply to Docker Spaces with a readable Dockerfile."""

    def guarded(space: Space) -> Iterator[Hit]:
        if space.docker and space.dockerfile is not None and space.dockerfile.stages:
            yield from check(space)

    guarded.__doc__, guarded.__name__, guarded.__module__ = check.__doc__, check.__name__, check.__module__
    return guarded
