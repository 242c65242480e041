"""Load generators: wrk (closed loop: throughput and latency percentiles at a fixed
number of keep-alive connections) and an open-loop generator (requests sent on a
fixed schedule, latency counted from the scheduled send time, so queueing shows)."""

from __future__ import annotations

import asyncio
import concurrent.futures
import math
import re
import shutil
import subprocess
import time
from dataclasses import dataclass

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p90_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx answers plus socket errors


def wrk_path() -> str | None:
    return shutil.which("wrk")


def run_wrk(url: str, connections: int, seconds: int, timeout_s: float = 2.0) -> LoadResult:
    threads = 1 if connections == 1 else 2  # the machine has 2 cores, shared with the server
    argv = [
        wrk_path() or "wrk",
        f"-t{threads}",
        f"-c{connections}",
        f"-d{max(1, seconds)}s",  # wrk takes whole seconds
        f"--timeout={timeout_s:g}s",
        "--latency",
        url,
    ]
    done = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30, check=False)  # noqa: S603
    if done.returncode != 0:
        raise RuntimeError(f"wrk failed on {url}: {done.stderr.strip() or done.stdout.strip()}")
    return parse_wrk(done.stdout)


def _duration_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unexpected wrk duration {text!r}")
    return float(match[1]) * _UNITS[match[2]]


def parse_wrk(output: str) -> LoadResult:
    """Requests/sec and the 50/90/99th percentiles of wrk --latency's output."""
    percentiles = dict(re.findall(r"^\s+(50|90|99)%\s+(\S+)\s*$", output, re.MULTILINE))
    rps = re.search(r"^Requests/sec:\s+([\d.]+)", output, re.MULTILINE)
    total = re.search(r"^\s+(\d+) requests in", output, re.MULTILINE)
    if not (rps and total and len(percentiles) == 3):
        raise ValueError(f"unexpected wrk output:\n{output}")
    errors = sum(int(n) for n in re.findall(r"Non-2xx or 3xx responses: (\d+)", output))
    socket_errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if socket_errors:
        errors += sum(int(n) for n in socket_errors.groups())
    return LoadResult(
        rps=float(rps[1]),
        p50_ms=_duration_ms(percentiles["50"]),
        p90_ms=_duration_ms(percentiles["90"]),
        p99_ms=_duration_ms(percentiles["99"]),
        requests=int(total[1]),
        errors=errors,
    )


def percentile(values: list[float], q: float) -> float:
    """The q-th percentile (0-100), nearest rank."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    rank = max(1, math.ceil(q / 100 * len(ordered)))
    return ordered[rank - 1]


@dataclass
class OpenLoopResult:
    rate: float  # requests per second asked for
    sent: int
    latencies_ms: list[float]
    errors: int
    achieved_rps: float

    def p(self, q: float) -> float:
        return percentile(self.latencies_ms, q)


async def _read_response(reader: asyncio.StreamReader) -> int:
    """Read one HTTP/1.1 response off a keep-alive connection; its status code."""
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split()[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    if "content-length" in headers:
        await reader.readexactly(int(headers["content-length"]))
    elif headers.get("transfer-encoding", "").lower() == "chunked":
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            await reader.readexactly(size + 2)
            if size == 0:
                break
    return status


async def _open_loop(host: str, port: int, path: str, rate: float, seconds: float, connections: int):
    total = max(1, int(rate * seconds))
    request = f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\nUser-Agent: bench-openloop\r\n\r\n".encode()
    latencies: list[float] = []
    errors = 0
    next_index = 0
    loop = asyncio.get_running_loop()
    start = loop.time() + 0.05  # every connection opened before the first send is due
    deadline = start + 2 * seconds + 5

    async def connection() -> None:
        nonlocal next_index, errors
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while next_index < total:
                if loop.time() > deadline:  # bounded: what is not sent by then counts as failed
                    errors += total - next_index
                    next_index = total
                    break
                i = next_index
                next_index += 1
                due = start + i / rate
                delay = due - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
                try:
                    writer.write(request)
                    status = await asyncio.wait_for(_read_response(reader), timeout=10)
                except (OSError, asyncio.IncompleteReadError, TimeoutError, ValueError):
                    errors += 1
                    writer.close()
                    reader, writer = await asyncio.open_connection(host, port)
                    continue
                if 200 <= status < 300:
                    latencies.append((loop.time() - due) * 1000)
                else:
                    errors += 1
        finally:
            writer.close()

    began = time.monotonic()
    await asyncio.gather(*(connection() for _ in range(connections)))
    elapsed = time.monotonic() - began
    return OpenLoopResult(rate, total, latencies, errors, len(latencies) / elapsed if elapsed else 0.0)


def run_open_loop(
    url_host: str, port: int, path: str, rate: float, seconds: float, connections: int = 16
) -> OpenLoopResult:
    """Send `rate` requests per second for `seconds` over `connections` keep-alive
    connections, each request on its fixed schedule whether or not earlier ones
    have been answered (as wrk2 does): a request that waits for a free connection
    counts that wait in its latency. Runs its own event loop in its own thread, so a
    caller that already runs one (Playwright's sync API does) can call it too."""
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(asyncio.run, _open_loop(url_host, port, path, rate, seconds, connections)).result()
