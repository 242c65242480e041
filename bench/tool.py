"""The tool part of the bench: how long `hfspace validate` takes, as a user runs it (a whole process).

Folders: a generated Space of 10,000 files (`COPY . .`, a .dockerignore with an exception, a
.gitignore), this repository's three Spaces, and the corpus of real public Spaces when its files
are here (tests/corpus/README.md). Each round runs every folder once, in a rotated order, next to
`hfspace --version` (the process start alone, the baseline); figures are medians.
"""

from __future__ import annotations

import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from bench.servers import ROOT, VENV_BIN
from tests.corpus import score

HFSPACE = VENV_BIN / "hfspace"
FILES = 10_000
TARGET_S = 1.0  # validate a folder of 10,000 files in under a second


def make_big_space(root: Path, files: int = FILES) -> Path:
    """A Docker Space folder of `files` files that its build copies whole."""
    folder = root / "big-space"
    (folder / "data").mkdir(parents=True)
    (folder / "README.md").write_text("---\ntitle: Big\nsdk: docker\napp_port: 7860\n---\n")
    (folder / "Dockerfile").write_text(
        "FROM python:3.13-slim\nRUN useradd -m -u 1000 user\nUSER user\nWORKDIR /home/user/app\n"
        'COPY --chown=user . .\nCMD ["python3", "-m", "http.server", "7860"]\n'
    )
    (folder / ".dockerignore").write_text("**/*.log\n!data/keep.log\n.env\n")
    (folder / ".gitignore").write_text("*.tmp\n.env\n")
    made = 4
    per_folder = 100
    while made < files:
        sub = folder / "data" / f"d{made // per_folder:04d}"
        sub.mkdir(exist_ok=True)
        (sub / f"f{made % per_folder:03d}.{'log' if made % 10 == 0 else 'txt'}").write_text("x")
        made += 1
    return folder


def _seconds(argv: list[str]) -> float:
    began = time.monotonic()
    subprocess.run(argv, capture_output=True, check=False, timeout=120)  # noqa: S603 (our own tool)
    return time.monotonic() - began


def measure(rounds: int, say: Callable[[str], None]) -> dict:
    files = score.material()  # the corpus's Space files live outside the repository (tests/corpus/README.md)
    corpus = sorted(str(files / p.name) for p in score.folders()) if files else []
    with tempfile.TemporaryDirectory(prefix="bench-validate-") as tmp:
        big = make_big_space(Path(tmp))
        runs = {
            "start (hfspace --version)": [str(HFSPACE), "--version"],
            f"validate: {FILES:,} files": [str(HFSPACE), "validate", str(big)],
            "validate: the repository's 3 Spaces": [
                str(HFSPACE), "validate", *(str(ROOT / n) for n in ("python-backend", "nodejs-backend", "frontend"))
            ],
        }  # fmt: skip
        if corpus:
            runs[f"validate: the corpus ({len(corpus)} real Spaces)"] = [str(HFSPACE), "validate", *corpus]
        say(f"validate: {rounds} rounds over {len(runs)} commands")
        times: dict[str, list[float]] = {name: [] for name in runs}
        names = list(runs)
        for round_ in range(rounds):
            for name in names[round_ % len(names) :] + names[: round_ % len(names)]:
                times[name].append(_seconds(runs[name]))
    return {
        "files": FILES,
        "target_s": TARGET_S,
        "rows": [
            {"what": name, "median_s": statistics.median(values), "min_s": min(values), "max_s": max(values)}
            for name, values in times.items()
        ],
    }
