"""The docs cannot drift from the code: every command they show exists, and the safe ones run.

The docs are README.md, docs/*.md and the three Space cards. A ```console block holds
commands, one per `$ ` line; the lines under a command are its output. Commands:

- `hfspace ...` (in a console block or inline code): `validate`, `--help` and `--version`
  run for real, and their output must be what the doc shows under them; `check` against
  http://localhost:7860 (or :7861) runs against that backend started here on a free port;
  every other one (deploy, status, up: they need the Hub, Docker or a terminal) is parsed by
  hfspace's own click commands, so a subcommand, option or argument that does not exist fails.
- `make ...`: every target is one of the Makefile's.
- paths in inline code (`tests/tool/`, `src/config.js` in a card): they exist, from the
  repository root or the doc's own folder; links between docs resolve, anchors included.
- rule ids and `hfspace check` names: the ones the tool has; troubleshooting names every rule.
- the README's quick start is exactly `make run` and `make test`.
"""

from __future__ import annotations

import os
import re
import shlex
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import typer

from hfspace import doctor, rules
from hfspace.cli import app
from tests.services import SERVICES, free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
DOCS = sorted(
    [
        ROOT / "README.md",
        *(ROOT / "docs").glob("*.md"),
        *(ROOT / name / "README.md" for name in ("python-backend", "nodejs-backend", "frontend")),
    ]
)
OWN_DOCS = {ROOT / "docs" / name for name in ("deployment.md", "configuration.md", "troubleshooting.md")}
TROUBLESHOOTING = ROOT / "docs" / "troubleshooting.md"
CONFIGURATION = ROOT / "docs" / "configuration.md"
# Paths that exist only once something ran (setup, a copied .env, a build): named, never shipped.
CREATED_LATER = {".env", ".venv", ".tools", "node_modules", "build"}
# What `make run` serves on the default ports, for `hfspace check http://localhost:PORT` in a doc.
LOCAL_URLS = {"http://localhost:7860": "python-backend", "http://localhost:7861": "nodejs-backend"}
HFSPACE = typer.main.get_command(app)
RULE_IDS = set(rules.RULES)
DOCTOR_IDS = {pattern.id for pattern in doctor.CAUSES} | {"unrecognised", "check-failed"}
RULE_PREFIXES = {rule_id.split("-")[0] for rule_id in RULE_IDS}


@dataclass(frozen=True)
class Command:
    doc: Path
    line: int
    words: list[str]  # without leading VAR=value assignments
    output: list[str] | None  # what the doc shows under it (console blocks); None for inline code

    @property
    def where(self) -> str:
        return f"{self.doc.relative_to(ROOT)}:{self.line}: {shlex.join(self.words)}"


def relative(path: Path) -> str:
    return str(path.relative_to(ROOT))


def fences(text: str) -> Iterator[tuple[str, int, list[str]]]:
    """(language, line number of the first content line, content lines without the fence's indent)."""
    lines = text.splitlines()
    index = 0
    while index < len(lines):
        match = re.match(r"^(\s*)```(\S*)\s*$", lines[index])
        index += 1
        if not match:
            continue
        indent, language, start, body = len(match[1]), match[2], index + 1, []
        while index < len(lines) and not re.match(r"^\s*```\s*$", lines[index]):
            body.append(lines[index][indent:])
            index += 1
        index += 1
        yield language, start, body


def prose(text: str) -> str:
    """The text without its fenced blocks (line numbers kept)."""
    out, inside = [], False
    for line in text.splitlines():
        if re.match(r"^\s*```", line):
            inside = not inside
            out.append("")
        else:
            out.append("" if inside else line)
    return "\n".join(out)


def inline_code(text: str) -> list[tuple[int, str]]:
    """(line, content) of every `code span` outside fenced blocks; a span may wrap a line."""
    body = prose(text)
    return [
        (body.count("\n", 0, match.start()) + 1, " ".join(match[1].split()))
        for match in re.finditer(r"`([^`]+)`", body)
    ]


def split_command(line: str) -> list[str]:
    words = shlex.split(line)
    while words and re.match(r"^[A-Za-z_][A-Za-z0-9_]*=", words[0]):
        words.pop(0)
    return words


def console_commands(doc: Path) -> list[Command]:
    commands: list[Command] = []
    for language, start, body in fences(doc.read_text()):
        if language != "console":
            continue
        for offset, line in enumerate(body):
            if line.startswith("$ "):
                commands.append(Command(doc, start + offset, split_command(line[2:]), []))
            else:
                assert commands and commands[-1].doc == doc, f"{relative(doc)}:{start + offset}: output before a `$ `"
                commands[-1].output.append(line.rstrip())
    return commands


def inline_commands(doc: Path, program: str) -> list[Command]:
    return [
        Command(doc, line, split_command(code), None)
        for line, code in inline_code(doc.read_text())
        if code.startswith((f"{program} ", f".venv/bin/{program} "))
    ]


def hfspace_args(words: list[str]) -> list[str] | None:
    """The arguments after the program when `words` run hfspace, else None."""
    if words and words[0] in ("hfspace", ".venv/bin/hfspace"):
        return words[1:]
    if len(words) >= 3 and words[0].endswith("python") and words[1:3] == ["-m", "hfspace"]:
        return words[3:]
    return None


def all_commands() -> list[Command]:
    return [c for doc in DOCS for c in (*console_commands(doc), *inline_commands(doc, "hfspace"))]


def hfspace_commands() -> list[Command]:
    return [c for c in all_commands() if hfspace_args(c.words) is not None]


def runs_for_real(command: Command) -> bool:
    """--help and --version anywhere; validate as a console block shows it (inline, `DIR` is a placeholder)."""
    args = hfspace_args(command.words) or []
    return bool({"--help", "-h", "--version"} & set(args)) or (args[:1] == ["validate"] and command.output is not None)


def run_hfspace(args: list[str]) -> subprocess.CompletedProcess:
    # Loopback only: no token to send anywhere, and no proxy between hfspace check and 127.0.0.1.
    env = {**os.environ, "COLUMNS": "200", "NO_COLOR": "1", "TERM": "dumb", "NO_PROXY": "127.0.0.1,localhost"}
    env.pop("HF_TOKEN", None)
    return subprocess.run(
        [sys.executable, "-m", "hfspace", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )


def parse_hfspace(args: list[str]) -> None:
    """Parse like the real command line does, without running anything; UsageError if the doc is wrong."""
    assert args, "hfspace without a command"
    command = HFSPACE.commands.get(args[0])
    if command is None:
        raise typer.TyperException(f"no such command {args[0]!r}; hfspace has {sorted(HFSPACE.commands)}")
    if len(args) == 1:
        return  # the command named in prose (`hfspace deploy`): that it exists is the point
    command.make_context(f"hfspace {args[0]}", list(args[1:]))


def message(error: typer.TyperException) -> str:
    return error.format_message() if hasattr(error, "format_message") else str(error)


def makefile_targets() -> set[str]:
    text = (ROOT / "Makefile").read_text()
    return {m[1] for m in re.finditer(r"^([A-Za-z0-9][A-Za-z0-9_.-]*)\s*:(?!=)", text, re.MULTILINE)}


def slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(doc: Path) -> set[str]:
    return {slug(m[1]) for m in re.finditer(r"^#+\s+(.+)$", prose(doc.read_text()), re.MULTILINE)}


# --- the docs themselves ---------------------------------------------------------------------------------------


def test_the_docs_exist_and_the_readme_links_them_all():
    for doc in OWN_DOCS:
        assert doc.is_file(), relative(doc)
    readme = (ROOT / "README.md").read_text()
    for name in ("deployment", "configuration", "troubleshooting", "benchmarks", "robustness"):
        assert f"(docs/{name}.md)" in readme, name


def test_the_readme_quick_start_is_exactly_make_run_and_make_test():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)
    assert section, "README.md has no `## Quick start` section"
    blocks = [body for language, _, body in fences(section[1]) if language == "console"]
    assert len(blocks) == 1, "the quick start has one console block"
    assert [line for line in blocks[0] if line.strip()] == ["$ make run", "$ make test"]


def test_the_readme_shows_what_make_run_prints():
    readme = (ROOT / "README.md").read_text()
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, re.MULTILINE | re.DOTALL)[1]
    (table,) = [body for language, _, body in fences(section) if language == "text"]
    recipe = re.search(r"^run:.*\n\t(.*)$", (ROOT / "Makefile").read_text(), re.MULTILINE)[1]
    folders = recipe.split(" up ", 1)[1].split(" --port")[0].split()
    default_port = int(re.search(r"^RUN_PORT \?= (\d+)$", (ROOT / "Makefile").read_text(), re.MULTILINE)[1])
    assert table[0].split() == ["SPACE", "URL", "STATE", "READY", "IN"]
    assert '("SPACE", "URL", "STATE", "READY IN")' in (ROOT / "hfspace" / "cli.py").read_text()
    rows = [line.split()[:3] for line in table[1:-1]]
    assert rows == [[name, f"http://localhost:{default_port + i}", "ready"] for i, name in enumerate(folders)]
    assert table[-1] == "Ctrl-C stops them all."


def test_every_relative_link_between_docs_resolves_anchor_included():
    problems = []
    for doc in DOCS:
        for match in re.finditer(r"\[[^\]]*\]\(([^)\s]+)\)", prose(doc.read_text())):
            target = match[1]
            if re.match(r"^[a-z]+:", target):
                continue  # https:, mailto:
            path, _, anchor = target.partition("#")
            file = (doc.parent / path).resolve() if path else doc
            if not file.exists():
                problems.append(f"{relative(doc)}: {target}: no {path}")
            elif anchor and file.suffix == ".md" and anchor not in anchors(file):
                problems.append(f"{relative(doc)}: {target}: no heading #{anchor} in {relative(file)}")
    assert not problems, "\n".join(problems)


def inside(path: Path) -> bool:
    """Whether PATH lies in this repository (`../shared/corpus/` from the root does not)."""
    return path.resolve().is_relative_to(ROOT.resolve())


def test_every_path_the_docs_name_exists():
    problems = []
    for doc in DOCS:
        bases = [ROOT] if doc.parent == ROOT else [ROOT, doc.parent]
        for line, code in inline_code(doc.read_text()):
            path = re.sub(r"(::.*|:\d+)$", "", code)  # tests/x.py::test_name, file.py:12
            if " " in path or "/" not in path or re.search(r"[*<>{}$]", path):
                continue
            first = path.split("/", 1)[0]
            homes = [base for base in bases if first and (base / first).exists() and inside(base / first)]
            if not homes or CREATED_LATER & set(path.split("/")):
                continue  # not a path of this repository (OWNER/NAME, /run/secrets/NAME, ../shared/, https://...)
            if not any((base / path).exists() for base in homes):
                problems.append(f"{relative(doc)}:{line}: `{code}` does not exist")
    assert not problems, "\n".join(problems)


def test_every_rule_id_the_docs_name_is_one_of_validates_rules():
    problems = []
    for doc in DOCS:
        for line, code in inline_code(doc.read_text()):
            looks_like_one = re.fullmatch(r"[a-z]+(-[a-z0-9]+)+", code) and code.split("-")[0] in RULE_PREFIXES
            if looks_like_one and code not in RULE_IDS | DOCTOR_IDS and code not in ("docker-compose", "no-cors"):
                problems.append(f"{relative(doc)}:{line}: `{code}` is not a rule id")
    assert not problems, "\n".join(problems)


def test_troubleshooting_gives_each_failure_a_symptom_cause_fix_and_what_catches_it():
    sections = re.split(r"^## ", TROUBLESHOOTING.read_text(), flags=re.MULTILINE)[1:]
    assert len(sections) >= 12, "HF_SPACES.md's twelve most common failures, at least"
    probe_source = (ROOT / "hfspace" / "probe.py").read_text()
    named: set[str] = set()
    for section in sections:
        title = section.splitlines()[0]
        for field in ("**Symptom:**", "**Cause:**", "**Fix:**", "**Caught by:**"):
            assert field in section, f"{title}: no {field}"
        caught = " ".join(section.split("**Caught by:**", 1)[1].split("\n- ")[0].split())
        tools = 0
        for part in caught.split(";"):
            spans = re.findall(r"`([^`]+)`", part)
            if not spans or not spans[0].startswith("hfspace "):
                continue
            tools += 1
            names = [span for span in spans[1:] if not span.startswith("-")]
            if spans[0] == "hfspace validate":
                assert names, f"{title}: `hfspace validate` without a rule id"
                assert set(names) <= RULE_IDS, f"{title}: not rule ids: {set(names) - RULE_IDS}"
                named |= set(names)
            elif spans[0] == "hfspace doctor":
                assert names and set(names) <= DOCTOR_IDS, f"{title}: not doctor cause ids: {set(names) - DOCTOR_IDS}"
            elif spans[0] == "hfspace check":
                assert names, f"{title}: `hfspace check` without a check name"
                for name in names:
                    assert re.search(rf"""["']{re.escape(name)}["' ]""", probe_source), f"{title}: no check {name!r}"
            else:
                assert hfspace_args(spans[0].split())[0] in HFSPACE.commands, f"{title}: {spans[0]}"
        assert tools or "not caught by a tool" in caught, f"{title}: name the tool, or say `not caught by a tool`"
    assert named == RULE_IDS, f"rules troubleshooting does not name: {sorted(RULE_IDS - named)}"


def test_configuration_lists_every_variable_the_services_read_with_their_defaults():
    table = {
        m[1]: m[2].strip("` ")
        for m in re.finditer(r"^\| `([A-Z_]+)` \| ([^|]+) \|", CONFIGURATION.read_text(), re.MULTILINE)
    }
    node = (ROOT / "nodejs-backend" / "src" / "config.js").read_text()
    # A variable without a default (null: the platform's SPACE_HOST) reads "unset" in the docs.
    node_defaults = {
        name: default.strip("'") if default != "null" else "unset"
        for name, default in re.findall(r"\[\s*'([A-Z_]+)',\s*'\w+',\s*('[^']*'|null)", node)
    }
    python = (ROOT / "python-backend" / "app" / "config.py").read_text()
    python_names = set(re.findall(r'^\s+"([A-Z_]+)": \("', python, re.MULTILINE))
    platform = {"SPACE_ID", "SPACE_HOST"}
    assert python_names == set(node_defaults), "the two services read different variables"
    assert set(re.findall(r"env\.([A-Z_]+)", node)) <= platform, "config.js reads a variable the test does not know"
    hfspace_own = {"HF_TOKEN", "HF_ENDPOINT", "HF_HOME", "HFSPACE_OWNER", "DOCKER", "REQUESTS_CA_BUNDLE"}
    assert set(table) == set(node_defaults) | platform | hfspace_own
    for name, default in node_defaults.items():
        assert table[name] == default, f"{name}: the docs say {table[name]!r}, config.js {default!r}"


# --- the commands ------------------------------------------------------------------------------------------------


def test_the_docs_show_every_hfspace_command():
    used = {hfspace_args(c.words)[0] for c in hfspace_commands() if hfspace_args(c.words)}
    assert set(HFSPACE.commands) <= used, f"never shown: {sorted(set(HFSPACE.commands) - used)}"


def test_every_hfspace_command_line_in_the_docs_parses_with_hfspaces_own_options():
    problems = []
    for command in hfspace_commands():
        args = hfspace_args(command.words)
        if runs_for_real(command):
            continue  # the next test runs these
        try:
            parse_hfspace(args)
        except typer.TyperException as error:
            problems.append(f"{command.where}: {message(error)}")
    assert not problems, "\n".join(problems)


def test_the_hfspace_commands_that_are_safe_to_run_run_and_print_what_the_docs_show():
    ran = 0
    for command in filter(runs_for_real, hfspace_commands()):
        result = run_hfspace(hfspace_args(command.words))
        ran += 1
        shown = command.output or []
        if shown:
            assert [line.rstrip() for line in result.stdout.splitlines()] == shown, command.where
        # validate exits 1 when its summary counts an error; everything else here exits 0
        expected = 1 if shown and re.match(r"[1-9][0-9]* errors?,", shown[-1]) else 0
        assert result.returncode == expected, f"{command.where}\n{result.stdout}{result.stderr}"
    assert ran >= 3, "the docs run hfspace validate and --help"


def test_hfspace_check_as_the_docs_show_it_passes_against_the_running_backend():
    checks = [c for c in hfspace_commands() if hfspace_args(c.words)[:1] == ["check"]]
    local = [c for c in checks if any(word in LOCAL_URLS for word in c.words)]
    assert local, "the docs show no `hfspace check http://localhost:7860` to run"
    started: dict[str, tuple[subprocess.Popen, int]] = {}
    try:
        for command in local:
            args = hfspace_args(command.words)
            for index, word in enumerate(args):
                if word in LOCAL_URLS:
                    name = LOCAL_URLS[word]
                    if name not in started:
                        port = free_port()
                        process = SERVICES[name].start(
                            {"PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
                        )
                        started[name] = (process, port)
                        assert wait_healthy(f"http://127.0.0.1:{port}/health", process, timeout=30) is not None, name
                    args[index] = f"http://127.0.0.1:{started[name][1]}"
            result = run_hfspace([*args, "--timeout", "5"])
            assert result.returncode == 0, f"{command.where}\n{result.stdout}{result.stderr}"
            assert " fail " not in result.stdout, result.stdout
    finally:
        for process, _ in started.values():
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()


def test_every_make_target_in_the_docs_is_a_real_target():
    targets = makefile_targets()
    assert {"run", "test", "test-fast", "lint"} <= targets, "the Makefile parse is broken"
    problems = []
    commands = [c for doc in DOCS for c in (*console_commands(doc), *inline_commands(doc, "make"))]
    for command in commands:
        if command.words[:1] != ["make"]:
            continue
        for word in command.words[1:]:
            if "=" not in word and not word.startswith("-") and word not in targets:
                problems.append(f"{command.where}: no target {word!r}")
    assert not problems, "\n".join(problems)


def test_every_program_the_docs_run_from_the_repository_exists():
    problems = []
    for command in (c for doc in DOCS for c in console_commands(doc)):
        program = command.words[0]
        if "/" in program and not CREATED_LATER & set(program.split("/")) and not (ROOT / program).exists():
            problems.append(f"{command.where}: no {program}")
        if len(command.words) >= 3 and command.words[1] == "-m" and command.words[2] != "hfspace":
            module = ROOT / command.words[2].replace(".", "/")
            if not (module.with_suffix(".py").is_file() or (module / "__main__.py").is_file()):
                problems.append(f"{command.where}: no module {command.words[2]}")
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        ("hfspace deploy python-backend --spaec me/x", "No such option"),
        ("hfspace deply python-backend", "no such command"),
        ("hfspace deploy --timeout 0", "--timeout"),
    ],
)
def test_a_wrong_command_line_in_a_doc_would_fail(line, problem):
    with pytest.raises(typer.TyperException) as caught:
        parse_hfspace(hfspace_args(split_command(line)))
    assert problem in message(caught.value)
