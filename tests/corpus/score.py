"""Score `hfspace validate` on the corpus of real public Docker Spaces: precision and recall.

Each folder of tests/corpus/ holds where a real Space came from (`SOURCE`: repository, commit,
path, licence, the files) and hand labels (`labels.yaml`): every real problem on the platform,
by file, line and kind. The Spaces' own files are not in this repository: they were read through
the search tool, whose material stays out of commits. They are looked for in `$HFSPACE_CORPUS`,
else in `corpus/` of the shared folder beside the repository (`../shared/corpus`), one folder per
slug, as the Space has them (`material()`). A finding reported as error or warning is a true
positive when a label of the same file and line names a kind its rule catches; info findings are
advice and never count.

    precision = true positives / findings reported as error or warning
    recall    = labelled problems caught / labelled problems

`python -m tests.corpus.score` prints the table (folder, framework, labelled, reported, false
positives) and every false positive and miss; tests/corpus/test_corpus.py holds the targets.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from hfspace import rules

CORPUS = Path(__file__).resolve().parent
SHARED = CORPUS.parents[2] / "shared" / "corpus"  # the shared folder beside the repository
# The rules that catch each kind of labelled problem (a label may name its rule instead).
KIND_RULES = {
    "no-http-server": {"no-http-server"},
    "port-mismatch": {"port-mismatch", "card-key-typo"},
    "bind-localhost": {"bind-localhost"},
    "cmd-not-json": {"cmd-not-json"},
    "env-value-wrong": {"env-value-wrong"},
    "copy-missing": {"copy-missing", "gitignore-drops"},
    "no-dockerfile": {"docker-missing"},
    "card-invalid": {
        "card-missing",
        "card-yaml",
        "card-sdk",
        "card-app-port",
        "card-startup-timeout",
        "card-misplaced",
    },
    "secret-in-image": {"docker-secret", "docker-env-copied", "gitignore-env"},
    "write-root-owned": {"write-root-owned"},
    "home-cache-unwritable": {"write-root-owned"},
    "useradd-1000-taken": {"docker-useradd-node"},
    "signal-not-passed": {"docker-shell-form", "docker-npm-start"},
    "run-path-missing": {"run-path-missing"},
    "build-tool-missing": {"build-tool-missing"},
    "iframe-blocked": {"iframe-blocked"},
}
COUNTED = (rules.ERROR, rules.WARNING)


@dataclass(frozen=True)
class Label:
    file: str
    lines: tuple[int, ...]
    kind: str
    rules: frozenset[str]
    severity: str

    def matches(self, finding: rules.Finding, root: str) -> bool:
        return finding.path == f"{root}/{self.file}" and finding.line in self.lines and finding.rule in self.rules


@dataclass
class Scored:
    folder: str
    framework: str
    hub: str
    labels: list[Label]
    reported: list[rules.Finding] = field(default_factory=list)
    false_positives: list[rules.Finding] = field(default_factory=list)
    missed: list[Label] = field(default_factory=list)

    @property
    def caught(self) -> int:
        return len(self.labels) - len(self.missed)


def _labels(data: dict) -> list[Label]:
    found = []
    for problem in data.get("problems") or []:
        kind = problem["kind"]
        named = problem.get("rule")
        caught_by = frozenset([named] if named else KIND_RULES.get(kind, set()))
        lines = tuple(problem.get("lines") or [problem["line"]])
        found.append(Label(problem["file"], lines, kind, caught_by, problem.get("severity", "error")))
    return found


def material(environ: dict[str, str] | None = None) -> Path | None:
    """The folder holding the Spaces' files (one folder per slug), or None when there is none here."""
    environ = os.environ if environ is None else environ
    given = environ.get("HFSPACE_CORPUS")
    for candidate in [Path(given)] if given else [SHARED]:
        if candidate.is_dir():
            return candidate
    return None


def score_folder(folder: Path, files: Path) -> Scored:
    """Score one labelled Space; `files` is its folder as the Space has it."""
    data = yaml.safe_load((folder / "labels.yaml").read_text())
    labels = _labels(data)
    with tempfile.TemporaryDirectory(prefix="hfspace-corpus-") as tmp:
        space = Path(tmp) / "space"
        shutil.copytree(files, space, symlinks=True)
        for trimmed in data.get("trimmed") or []:  # files the Space has that were not vendored (binaries)
            path = space / trimmed
            path.parent.mkdir(parents=True, exist_ok=True)
            path.touch()
        report = rules.validate(space)
        root = str(space)
        scored = Scored(folder.name, str(data.get("framework", "")), str(data.get("hub", "")), labels)
        scored.reported = [f for f in report.findings if f.severity in COUNTED]
        scored.false_positives = [f for f in scored.reported if not any(label.matches(f, root) for label in labels)]
        scored.missed = [label for label in labels if not any(label.matches(f, root) for f in scored.reported)]
        # Paths as they read in the corpus, not in the temporary copy.
        relative = {f: f.path.replace(root, f"{folder.name}/space", 1) for f in scored.reported}
        scored.reported = [_moved(f, relative[f]) for f in scored.reported]
        scored.false_positives = [_moved(f, relative[f]) for f in scored.false_positives]
    return scored


def _moved(finding: rules.Finding, path: str) -> rules.Finding:
    return rules.Finding(path, finding.line, finding.severity, finding.rule, finding.message, finding.fix)


def folders() -> list[Path]:
    return sorted(path for path in CORPUS.iterdir() if (path / "labels.yaml").is_file())


def score_all(root: Path) -> list[Scored]:
    """Every labelled Space, its files from `root` (see material())."""
    return [score_folder(folder, root / folder.name) for folder in folders()]


def totals(scored: list[Scored]) -> tuple[float, float, int, int, int]:
    reported = sum(len(s.reported) for s in scored)
    true = reported - sum(len(s.false_positives) for s in scored)
    labelled = sum(len(s.labels) for s in scored)
    caught = sum(s.caught for s in scored)
    precision = true / reported if reported else 1.0
    recall = caught / labelled if labelled else 1.0
    return precision, recall, labelled, reported, true


def table(scored: list[Scored]) -> str:
    lines = [
        "| folder | framework | hub | labelled | reported | false positives | missed |",
        "|---|---|---|---|---|---|---|",
    ]
    for s in scored:
        lines.append(
            f"| {s.folder} | {s.framework} | {s.hub} | {len(s.labels)} | {len(s.reported)} | "
            f"{len(s.false_positives)} | {len(s.missed)} |"
        )
    precision, recall, labelled, reported, true = totals(scored)
    lines.append(f"| **{len(scored)} folders** | | | {labelled} | {reported} | {reported - true} | "
                 f"{labelled - sum(s.caught for s in scored)} |")  # fmt: skip
    lines.append("")
    lines.append(f"precision {precision:.3f} ({true}/{reported}), recall {recall:.3f}")
    return "\n".join(lines)


def problems(scored: list[Scored]) -> list[str]:
    out = []
    for s in scored:
        out += [f"false positive: {f.path}:{f.line}: {f.severity} {f.rule} {f.message}" for f in s.false_positives]
        out += [
            f"missed: {s.folder}/space/{m.file}:{m.lines[0]}: {m.kind} ({', '.join(sorted(m.rules))})" for m in s.missed
        ]
    return out


def main() -> int:
    root = material()
    if root is None:
        print("no corpus files here: set HFSPACE_CORPUS to the folder holding them (tests/corpus/README.md)")
        return 2
    scored = score_all(root)
    print(table(scored))
    for line in problems(scored):
        print(line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
