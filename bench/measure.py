"""One bench run: start-up times, then every server up at once and visited
round-robin under load, then the containers. Returns the raw measurements."""

from __future__ import annotations

import statistics
import threading
import time
import urllib.request
from collections.abc import Callable
from dataclasses import asdict, dataclass

from bench import docker
from bench.load import run_open_loop, run_wrk
from bench.servers import Running, Server


@dataclass
class Plan:
    rounds: int = 5
    seconds: int = 3  # wrk takes whole seconds
    connections: tuple[int, ...] = (1, 16, 64)
    starts: int = 10
    open_loop_seconds: float = 3.0
    open_loop_connections: int = 16
    open_loop_fraction: float = 0.5  # of the slower of service and one-route app at 16 connections
    open_loop_max_rate: float = 1000.0  # what the Python generator sustains without adding its own delay
    containers: int = 5  # starts of each image; 0: no container part


def _rotated(items: list, by: int) -> list:
    by %= len(items) or 1
    return items[by:] + items[:by]


def measure_starts(servers: list[Server], starts: int, say: Callable[[str], None]) -> dict[str, list[float]]:
    """Seconds from process start to the first 200 on /health, `starts` times per server, round-robin."""
    results: dict[str, list[float]] = {s.name: [] for s in servers}
    for n in range(starts):
        for server in _rotated(servers, n):
            running = Running(server)
            try:
                results[server.name].append(running.wait_ready())
            finally:
                running.stop()
        say(f"start-up: round {n + 1}/{starts} done")
    return results


def _warm(running: Running, paths: tuple[str, ...], requests: int = 20) -> None:
    for _ in range(requests):
        for path in paths:
            with urllib.request.urlopen(running.url + path, timeout=5) as response:  # noqa: S310 (loopback)
                response.read()


class _PeakMemory:
    """Samples a server's tree PSS in the background while a load runs; keeps the peak."""

    def __init__(self, running: Running, every: float = 0.25):
        self.running, self.every, self.peak = running, every, 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)

    def _sample(self) -> None:
        while not self._stop.wait(self.every):
            self.peak = max(self.peak, self.running.pss_mb())

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join(timeout=5)


def _open_loop_rates(servers: list[Server], load: list[dict], plan: Plan) -> dict[str, float]:
    """Per family, a fixed rate below saturation for every point compared: a fraction of the
    slowest of the service's paths and the one-route app at the connection level nearest 16, capped."""
    level = min(plan.connections, key=lambda c: abs(c - 16))
    rates = {}
    for family in {s.family for s in servers}:
        medians = []
        for s in servers:
            if s.family != family or (s.role == "baseline" and not s.name.endswith("1route")):
                continue
            for path in s.paths:
                rps = [
                    r["rps"] for r in load if r["server"] == s.name and r["connections"] == level and r["path"] == path
                ]
                if rps:
                    medians.append(statistics.median(rps))
        if medians:
            rates[family] = round(min(plan.open_loop_max_rate, plan.open_loop_fraction * min(medians)), 0)
    return rates


def measure_load(servers: list[Server], plan: Plan, say: Callable[[str], None]) -> dict:
    """All servers up at once; each round visits every (connections, path, server) point
    once, in a rotated order, so slow drifts of a shared machine hit every server alike."""
    running: list[Running] = []
    try:
        for server in servers:
            running.append(Running(server))
        for r in running:
            r.wait_ready()
            _warm(r, r.server.paths)
        time.sleep(1.0)
        idle = {r.server.name: statistics.median(r.pss_mb() for _ in range(3)) for r in running}
        top = max(plan.connections)
        load, peaks = [], {r.server.name: [] for r in running}
        points = [(r, path) for r in running for path in r.server.paths]
        for n in range(plan.rounds):
            for connections in plan.connections:
                for r, path in _rotated(points, n):
                    with _PeakMemory(r) as memory:
                        result = run_wrk(r.url + path, connections, plan.seconds)
                    if connections == top and memory.peak:
                        peaks[r.server.name].append(memory.peak)
                    load.append(
                        {
                            "round": n,
                            "server": r.server.name,
                            "path": path,
                            "connections": connections,
                            **asdict(result),
                        }
                    )
            say(f"load: round {n + 1}/{plan.rounds} done")
        rates = _open_loop_rates(servers, load, plan)
        open_loop = []
        for n in range(plan.rounds):
            for r, path in _rotated(points, n):
                rate = rates.get(r.server.family)
                if not rate or r.server.name == "flask-dev":
                    continue
                result = run_open_loop(
                    "127.0.0.1", r.port, path, rate, plan.open_loop_seconds, plan.open_loop_connections
                )
                if not result.latencies_ms:
                    raise RuntimeError(f"open loop: no answer from {r.server.name} {path}")
                open_loop.append(
                    {
                        "round": n,
                        "server": r.server.name,
                        "path": path,
                        "rate": rate,
                        "p50_ms": result.p(50),
                        "p90_ms": result.p(90),
                        "p99_ms": result.p(99),
                        "achieved_rps": result.achieved_rps,
                        "errors": result.errors,
                    }
                )
            say(f"open loop: round {n + 1}/{plan.rounds} done")
        return {
            "idle_mb": idle,
            "load_peak_mb": peaks,
            "load_connections": top,
            "load": load,
            "open_loop": open_loop,
            "open_loop_rates": rates,
        }
    finally:
        for r in running:
            r.stop()


def measure_containers(plan: Plan, say: Callable[[str], None]) -> dict:
    why = docker.unavailable()
    if why:
        return {"skipped": why}
    names = ["python-backend", "nodejs-backend"]
    images = {}
    for name in names:
        say(f"containers: building {docker.tag(name)} on {docker.bases()[name]}")
        docker.build(name)
        base = docker.bases()[name]
        images[name] = {
            "image": docker.tag(name),
            "base": base,
            "size_mb": docker.image_mb(docker.tag(name)),
            "base_mb": docker.image_mb(base),
        }
    starts, failed = docker.container_starts(names, plan.containers)
    say("containers: done")
    return {"images": images, "starts": starts, "starts_failed": failed}
