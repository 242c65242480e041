"""docs/rules.md, written from the registry: `python -m hfspace.rules.doc [--check] [PATH]`.

`--check` exits 1 when the file differs from what the registry says (`make lint` runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path

from hfspace.rules import AREAS, RULES
from hfspace.rules.registry import Rule

DEFAULT_PATH = Path(__file__).resolve().parents[2] / "docs" / "rules.md"
_AREA_TITLES = {
    "card": "The Space card",
    "build": "What the build needs",
    "listening": "Listening",
    "user": "User and files",
    "image": "How the image is made",
    "secrets": "Secrets",
    "upload": "The upload",
    "health": "Health checks",
}


def _section(rule: Rule) -> list[str]:
    example = "\n".join(f"    {line}" if line else "" for line in rule.example.splitlines())
    return [
        f"### {rule.id}",
        "",
        f"**{rule.severity}**: {rule.summary}",
        "",
        f"*Why.* {rule.why}",
        "",
        f"*Severity.* {rule.severity_reason}",
        "",
        f"*Fix.* {rule.fix}",
        "",
        "*Example.*",
        "",
        example,
        "",
    ]


def markdown() -> str:
    lines = [
        "# Rules of `hfspace validate`",
        "",
        "<!-- Written by `python -m hfspace.rules.doc` from the rule registry (hfspace/rules/): edit the rules,",
        "     not this file. `make lint` fails when it is stale. -->",
        "",
        "Each finding reads `path:line: severity RULE-ID message`, then a `fix:` line. `hfspace rules` lists",
        "the rules; `hfspace rules ID` explains one.",
        "",
        "Severity is what happens on the platform: **error**, the Space will not build, will not start or",
        "answer on `app_port`, or it leaks a secret (`validate` exits 1); **warning**, it runs, but users will",
        "hit something; **info**, advice that is not a platform problem (shown with `--verbose` and in `--json`).",
        "",
        "Silence a rule where you decide it does not apply: `# hfspace: ignore=RULE-ID[,RULE-ID]` on the",
        "comment lines just above a Dockerfile instruction (or on, or just above, a line of another file);",
        '`ignore = ["RULE-ID"]` under `[validate]` in the folder\'s `.hfspace.toml`; or `--ignore RULE-ID` and',
        "`--select RULE-ID` on the command line. Silenced findings are counted in the summary (`2 ignored`).",
        "",
        "| rule | severity | summary |",
        "|---|---|---|",
    ]
    ordered = sorted(RULES.values(), key=lambda r: (AREAS.index(r.area), r.id))
    lines += [f"| [{r.id}](#{r.id}) | {r.severity} | {r.summary} |" for r in ordered]
    lines.append("")
    for area in AREAS:
        lines += [f"## {_AREA_TITLES[area]}", ""]
        for rule in (r for r in ordered if r.area == area):
            lines += _section(rule)
    return "\n".join(lines).rstrip() + "\n"


def main(argv: list[str]) -> int:
    check = "--check" in argv
    paths = [arg for arg in argv if not arg.startswith("--")]
    path = Path(paths[0]) if paths else DEFAULT_PATH
    wanted = markdown()
    if check:
        if not path.is_file() or path.read_text() != wanted:
            print(f"{path} is stale: run `python -m hfspace.rules.doc` (make docs)", file=sys.stderr)
            return 1
        return 0
    path.write_text(wanted)
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
