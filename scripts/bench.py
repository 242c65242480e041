"""`make bench`: how fast each service becomes healthy, and how much memory it holds.

For every service, N cold starts (`--runs`): the time from process start to the
first 200 on /health, then the resident memory of the whole process tree (all
gunicorn workers included) once healthy. Prints one table; measures only
processes on loopback that it started itself.
"""

from __future__ import annotations

import argparse
import signal
import statistics
import subprocess
import sys
import time
from pathlib import Path

from services import SERVICES, free_port, wait_healthy


def tree_rss_mib(pid: int) -> float:
    """Resident memory of `pid` and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        proc = int(stat.parent.name)
        children.setdefault(int(fields[1]), []).append(proc)
        rss[proc] = int(fields[21])  # pages
    total, todo = 0, [pid]
    while todo:
        proc = todo.pop()
        total += rss.get(proc, 0)
        todo.extend(children.get(proc, []))
    return total * 4096 / 2**20


def measure(name: str, runs: int) -> tuple[list[float], list[float]]:
    service = SERVICES[name]
    starts, memory = [], []
    for _ in range(runs):
        port = free_port()
        begun = time.monotonic()
        process = service.start({"PORT": str(port)}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        took = wait_healthy(f"http://127.0.0.1:{port}/health", process, interval=0.005)
        if took is None:
            process.kill()
            raise SystemExit(f"{name} did not become healthy")
        starts.append(time.monotonic() - begun)
        time.sleep(0.2)  # let every worker finish booting before counting memory
        memory.append(tree_rss_mib(process.pid))
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=15)
    return starts, memory


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("services", nargs="*", default=sorted(SERVICES))
    args = parser.parse_args()
    print(f"{'service':16} {'start→healthy ms (min / median / max)':40} {'RSS MiB (median)':>16}")
    for name in args.services:
        starts, memory = measure(name, args.runs)
        ms = [s * 1000 for s in starts]
        spread = f"{min(ms):.0f} / {statistics.median(ms):.0f} / {max(ms):.0f}"
        print(f"{name:16} {spread:40} {statistics.median(memory):16.1f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
