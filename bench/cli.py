"""make bench: python-backend and nodejs-backend side by side with their baselines.

Start-up time, idle and loaded memory, throughput and latency (wrk) at several
connection counts, p99 at a fixed rate (open loop), how long `hfspace validate`
takes (10,000 files, the corpus), and, when a Docker engine runs, image sizes and
container start-up. Every server runs on loopback, started
and stopped by the bench. Prints the tables; a full run also writes them to
docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import subprocess
import sys
import time
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from bench import measure, report, tool
from bench.load import wrk_path
from bench.servers import NODE_BIN, ROOT, VENV_BIN, all_servers, search_path

DOC = ROOT / "docs" / "benchmarks.md"
QUICK = measure.Plan(rounds=2, seconds=1, connections=(16,), starts=3, open_loop_seconds=0.5, containers=0)


def _connections(text: str) -> tuple[int, ...]:
    try:
        levels = tuple(int(c) for c in text.split(","))
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r}: expected comma-separated integers, e.g. 1,16,64") from None
    if not levels or min(levels) < 1:
        raise argparse.ArgumentTypeError(f"{text!r}: connection counts are positive")
    return levels


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    full = measure.Plan()
    parser = argparse.ArgumentParser(
        prog="python -m bench",
        description=__doc__.split("\n\n")[0],
        epilog="Defaults are the full run; --quick is the inner loop (under a minute, no containers, no doc).",
    )
    parser.add_argument(
        "--quick",
        action="store_true",
        help=f"{QUICK.rounds} rounds of {QUICK.seconds:g} s at {QUICK.connections[0]} connections, "
        f"{QUICK.starts} starts, no containers",
    )
    parser.add_argument("--rounds", type=int, help=f"rounds of load per point (default {full.rounds})")
    parser.add_argument("--seconds", type=int, help=f"seconds per wrk point, whole (default {full.seconds})")
    parser.add_argument(
        "--connections",
        type=_connections,
        help=f"wrk connection counts (default {','.join(map(str, full.connections))})",
    )
    parser.add_argument("--starts", type=int, help=f"process starts per server (default {full.starts})")
    parser.add_argument(
        "--open-loop-seconds", type=float, help=f"seconds per open-loop point (default {full.open_loop_seconds:g})"
    )
    parser.add_argument(
        "--containers", type=int, help=f"container starts per image, 0 for none (default {full.containers})"
    )
    parser.add_argument("--servers", help="comma-separated subset of servers (default: all)")
    parser.add_argument("--doc", type=Path, help=f"Markdown report to write (default for a full run: {DOC})")
    parser.add_argument("--no-doc", action="store_true", help="write no Markdown report")
    parser.add_argument("--json", type=Path, help="also write the measurements and summary as JSON here")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress lines on stderr")
    return parser.parse_args(argv)


def _plan(args: argparse.Namespace) -> measure.Plan:
    plan = QUICK if args.quick else measure.Plan()
    overrides = {
        k: getattr(args, k)
        for k in ("rounds", "seconds", "connections", "starts", "open_loop_seconds", "containers")
        if getattr(args, k) is not None
    }
    return measure.Plan(**{**asdict(plan), **overrides})


def _output(argv: list[str], cwd: Path | None = None) -> str:
    try:
        done = subprocess.run(  # noqa: S603 (fixed version queries)
            argv,
            capture_output=True,
            text=True,
            timeout=30,
            cwd=cwd,
            check=False,
            env={**os.environ, "PATH": search_path()},
        )
    except OSError:
        return "?"
    return (done.stdout or done.stderr).strip().splitlines()[0] if (done.stdout or done.stderr).strip() else "?"


def _meta(settings: dict | None, argv: list[str]) -> dict:
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor() or "?",
    )
    mem_kb = int(Path("/proc/meminfo").read_text().split()[1])
    packages = _output(
        [
            str(VENV_BIN / "python"),
            "-c",
            "import importlib.metadata as m, platform; "
            "print(platform.python_version(), m.version('gunicorn'), m.version('flask'), "
            "m.version('werkzeug'))",
        ]
    ).split()
    express = json.loads((ROOT / "nodejs-backend/node_modules/express/package.json").read_text())["version"]
    node = str(NODE_BIN / "node") if NODE_BIN.is_dir() else "node"
    versions = dict(zip(("Python", "gunicorn", "Flask", "Werkzeug"), packages, strict=False))
    versions.update(
        {
            "Node.js": _output([node, "--version"]),
            "Express": express,
            "wrk": _output(["wrk", "--version"]).split(" [")[0].removeprefix("wrk "),
        }
    )
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": f"{mem_kb / 2**20:.0f} GiB",
        "load_before": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": versions,
        "command": " ".join([".venv/bin/python -m bench", *map(shlex.quote, argv)]).strip(),
        "gunicorn": ", ".join(f"{k}={v}" for k, v in settings.items()) if settings else None,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    if not wrk_path():
        print("error: wrk is not installed\nhint: apt-get install -y wrk", file=sys.stderr)
        return 2
    plan = _plan(args)

    def say(line: str) -> None:
        if not args.quiet:
            print(f"bench: {line}", file=sys.stderr, flush=True)

    servers, settings = all_servers()
    if args.servers:
        wanted = args.servers.split(",")
        unknown = set(wanted) - {s.name for s in servers}
        if unknown:
            print(
                f"error: unknown server {', '.join(sorted(unknown))}\nhint: choose from "
                f"{', '.join(s.name for s in servers)}",
                file=sys.stderr,
            )
            return 2
        servers = [s for s in servers if s.name in wanted]
    began = time.monotonic()
    raw = {
        "meta": _meta(settings, argv),
        "plan": asdict(plan),
        "servers": {
            s.name: {
                "family": s.family,
                "role": s.role,
                "note": s.note,
                "command": shlex.join(
                    str(Path(a).name) if a.startswith(str(ROOT)) else a.replace("{port}", "PORT") for a in s.argv
                ),
            }
            for s in servers
        },
    }
    try:
        raw["startup"] = measure.measure_starts(servers, plan.starts, say)
        raw["load"] = measure.measure_load(servers, plan, say)
        raw["tool"] = tool.measure(max(plan.rounds, 3), say)
        raw["docker"] = (
            measure.measure_containers(plan, say)
            if plan.containers > 0
            else {"skipped": "not asked for (--quick or --containers 0)"}
        )
    except (RuntimeError, OSError, subprocess.SubprocessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    raw["meta"]["load_after"] = " ".join(f"{x:.2f}" for x in os.getloadavg())
    raw["meta"]["took_s"] = round(time.monotonic() - began, 1)
    if "skipped" in raw["docker"]:
        say(f"containers skipped: {raw['docker']['skipped']}")
    summary = report.summarize(raw)
    print(report.tables(raw, summary))
    doc = None if args.no_doc else args.doc or (None if args.quick else DOC)
    if doc:
        previous = doc.read_text() if doc.exists() else ""
        notes = previous.split(report.NOTES_MARKER, 1)[1] if report.NOTES_MARKER in previous else ""
        doc.parent.mkdir(parents=True, exist_ok=True)
        doc.write_text(report.document(raw, summary, notes))
        say(f"wrote {doc}")
    if args.json:
        args.json.write_text(json.dumps({"raw": raw, "summary": summary}, indent=2))
    say(f"done in {raw['meta']['took_s']:.0f} s")
    return 0
