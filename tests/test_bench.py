"""make bench: the harness end to end in a tiny mode, and the open-loop generator's
latency accounting against a deliberately slow local server."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import ThreadingHTTPServer
from pathlib import Path

import pytest

from bench.load import run_open_loop, wrk_path
from tests.json_app import JsonHandler

ROOT = Path(__file__).resolve().parent.parent
SLOW_S = 0.05


class _SlowHandler(JsonHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as the generator expects
    delay = SLOW_S


@pytest.fixture
def slow_server() -> Iterator[int]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _SlowHandler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


def test_open_loop_latency_includes_the_server_time(slow_server):
    result = run_open_loop("127.0.0.1", slow_server, "/", rate=20, seconds=1, connections=4)
    assert result.errors == 0 and len(result.latencies_ms) == 20
    assert result.p(50) >= SLOW_S * 1000
    assert result.p(99) < 500  # 4 connections serve 80 req/s: nothing queues


def test_open_loop_counts_queueing_from_the_scheduled_send_time(slow_server):
    # One connection serves 20 req/s; asked for 40 req/s, the k-th request waits for
    # the k before it. A closed-loop measure would report ~50 ms for every request.
    result = run_open_loop("127.0.0.1", slow_server, "/", rate=40, seconds=1, connections=1)
    assert result.errors == 0 and len(result.latencies_ms) == 40
    assert result.p(50) >= 400
    assert result.p(99) >= 800


def _figures(value, where=""):
    """Every number in the summary, with where it sits (error counts are not figures)."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key not in {"errors", "met"}:
                yield from _figures(item, f"{where}.{key}")
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _figures(item, f"{where}[{i}]")
    elif isinstance(value, int | float) and not isinstance(value, bool):
        yield where, value


@pytest.mark.skipif(wrk_path() is None, reason="wrk is not installed (apt-get install -y wrk)")
def test_bench_tiny_run_reports_every_server_with_positive_figures(tmp_path):
    out = tmp_path / "bench.json"
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench",
            "--rounds=1",
            "--seconds=1",
            "--connections=1",
            "--starts=1",
            "--open-loop-seconds=0.5",
            "--containers=0",
            "--no-doc",
            "--quiet",
            f"--json={out}",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "### Targets" in done.stdout
    summary = json.loads(out.read_text())["summary"]

    servers = {
        "python-backend",
        "nodejs-backend",
        "flask-1route",
        "flask-dev",
        "wsgi-bare",
        "express-1route",
        "node-http",
    }
    assert set(summary["startup"]) == servers
    assert set(summary["memory"]) == servers
    assert {(r["server"], r["path"]) for r in summary["load"]} >= {
        ("python-backend", "/health"),
        ("python-backend", "/"),
        ("nodejs-backend", "/health"),
        ("nodejs-backend", "/"),
        *((s, "/") for s in servers - {"python-backend", "nodejs-backend"}),
    }
    assert {r["connections"] for r in summary["load"]} == {1}
    ratios = {(r["service"], r["path"]): r for r in summary["ratios"]}
    assert set(ratios["python-backend", "/"]) >= {
        "rps_vs_one_route",
        "rps_vs_bare",
        "rps_vs_flask_dev",
        "p99_vs_one_route",
    }
    assert set(ratios["nodejs-backend", "/"]) >= {"rps_vs_one_route", "rps_vs_bare", "p99_vs_one_route"}
    assert {r["server"] for r in summary["open_loop"]} >= {"python-backend", "nodejs-backend"}
    assert summary["docker"] == {"skipped": "not asked for (--quick or --containers 0)"}
    assert {t["service"] for t in summary["targets"]} == {"python-backend", "nodejs-backend", "hfspace"}
    tool = json.loads(out.read_text())["raw"]["tool"]
    assert [r["what"] for r in tool["rows"]][:2] == ["start (hfspace --version)", "validate: 10,000 files"]
    assert all(isinstance(t["met"], bool) for t in summary["targets"])

    figures = list(_figures({k: v for k, v in summary.items() if k != "docker"}))
    assert len(figures) > 50
    assert [(where, v) for where, v in figures if not v > 0] == []


def test_bench_help_names_quick_mode():
    done = subprocess.run(
        [sys.executable, "-m", "bench", "--help"], cwd=ROOT, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0 and "--quick" in done.stdout
