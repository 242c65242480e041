"""From raw measurements to medians, within-round ratios, targets, and the tables
printed on stdout and written to docs/benchmarks.md."""

from __future__ import annotations

import statistics
from collections import defaultdict

# The targets.
READY_PROCESS_S = {"python-backend": 1.5, "nodejs-backend": 0.5}
READY_CONTAINER_S = 3.0
IDLE_MB = {"python-backend": 120.0, "nodejs-backend": 80.0}
IMAGE_BUDGET_MB = {"python-backend": 500.0, "nodejs-backend": 400.0}
MIN_VS_ONE_ROUTE = 0.8
MIN_VS_FLASK_DEV = 3.0
MAX_P99_VS_ONE_ROUTE = 1.25
ONE_ROUTE = {"python-backend": "flask-1route", "nodejs-backend": "express-1route"}
BARE = {"python-backend": "wsgi-bare", "nodejs-backend": "node-http"}
FLASK_DEV = "flask-dev"
NOTES_MARKER = "<!-- Notes below this line are kept when make bench rewrites the file. -->"


def _median(values) -> float:
    return statistics.median(list(values))


def _by_round(rows: list[dict]) -> dict:
    """(server, path, connections) -> {round: row}"""
    table: dict = defaultdict(dict)
    for row in rows:
        table[(row["server"], row["path"], row.get("connections"))][row["round"]] = row
    return table


def _ratio(table: dict, num: tuple, den: tuple, key: str) -> float | None:
    """Median over rounds of num/den, each ratio taken within one round."""
    a, b = table.get(num, {}), table.get(den, {})
    ratios = [a[n][key] / b[n][key] for n in a if n in b and b[n][key] > 0]
    return _median(ratios) if ratios else None


def summarize(raw: dict) -> dict:
    servers = raw["servers"]
    services = [n for n, s in servers.items() if s["role"] == "service"]
    load_table = _by_round(raw["load"]["load"])
    summary: dict = {
        "startup": {
            name: {"median_s": _median(v), "min_s": min(v), "max_s": max(v), "starts": len(v)}
            for name, v in raw["startup"].items()
        },
        "memory": {
            name: {
                "idle_mb": raw["load"]["idle_mb"][name],
                **({"load_peak_mb": _median(p)} if (p := raw["load"]["load_peak_mb"].get(name)) else {}),
            }
            for name in servers
        },
        "load": [],
        "ratios": [],
        "open_loop": [],
    }
    for (server, path, connections), rounds in sorted(load_table.items(), key=lambda kv: (kv[0][2], kv[0][0])):
        rows = rounds.values()
        summary["load"].append(
            {
                "server": server,
                "path": path,
                "connections": connections,
                **{k: _median(r[k] for r in rows) for k in ("rps", "p50_ms", "p90_ms", "p99_ms")},
                "errors": sum(r["errors"] for r in rows),
            }
        )
    for service in services:
        for server, path, connections in sorted(load_table, key=lambda k: (k[2], k[1])):
            if server != service:
                continue
            row = {"service": service, "path": path, "connections": connections}
            for label, base in (("one_route", ONE_ROUTE[service]), ("bare", BARE[service])) + (
                (("flask_dev", FLASK_DEV),) if service == "python-backend" else ()
            ):
                base_key = next((k for k in load_table if k[0] == base and k[2] == connections), None)
                if base_key:
                    row[f"rps_vs_{label}"] = _ratio(load_table, (server, path, connections), base_key, "rps")
                    if label == "one_route":
                        row["p99_vs_one_route"] = _ratio(load_table, (server, path, connections), base_key, "p99_ms")
            summary["ratios"].append({k: v for k, v in row.items() if v is not None})
    open_table = _by_round([{**r, "connections": None} for r in raw["load"]["open_loop"]])
    for (server, path, _), rounds in sorted(open_table.items()):
        rows = rounds.values()
        entry = {
            "server": server,
            "path": path,
            "rate": _median(r["rate"] for r in rows),
            **{k: _median(r[k] for r in rows) for k in ("p50_ms", "p90_ms", "p99_ms", "achieved_rps")},
            "errors": sum(r["errors"] for r in rows),
        }
        base = ONE_ROUTE.get(server)
        if base:
            base_key = next((k for k in open_table if k[0] == base), None)
            if base_key and (ratio := _ratio(open_table, (server, path, None), base_key, "p99_ms")):
                entry["p99_vs_one_route"] = ratio
        summary["open_loop"].append(entry)
    summary["docker"] = _docker_summary(raw["docker"])
    summary["targets"] = _targets(summary, services)
    tool = raw.get("tool")
    big = (
        next((r for r in tool["rows"] if r["what"].startswith("validate: ") and "files" in r["what"]), None)
        if tool
        else None
    )
    if big:
        summary["targets"].append(
            {"service": "hfspace", "target": big["what"] + " (s)", "figure": big["median_s"],
             "limit": tool["target_s"], "met": big["median_s"] < tool["target_s"], "where": "whole process"}
        )  # fmt: skip
    return summary


def _docker_summary(raw: dict) -> dict:
    if "skipped" in raw:
        return {"skipped": raw["skipped"]}
    result = {"images": {}, "starts": {}}
    for name, image in raw["images"].items():
        result["images"][name] = {**image, "above_base_mb": image["size_mb"] - image["base_mb"]}
    if raw.get("starts_failed"):
        result["starts_failed"] = raw["starts_failed"]
    for name, starts in raw.get("starts", {}).items():
        result["starts"][name] = {k.replace("_s", "_median_s"): _median(v) for k, v in starts.items()}
        result["starts"][name]["starts"] = len(starts["first_200_s"])
    return result


def _worst(ratios: list[dict], key: str, worst=min) -> dict | None:
    rows = [r for r in ratios if key in r]
    return worst(rows, key=lambda r: r[key]) if rows else None


def _targets(summary: dict, services: list[str]) -> list[dict]:
    """Each target of the issue: the figure, the limit, met or missed."""
    targets = []

    def add(service, what, figure, limit, met, where=""):
        targets.append(
            {"service": service, "target": what, "figure": figure, "limit": limit, "met": met, "where": where}
        )

    for s in services:
        if s in summary["startup"]:
            ready = summary["startup"][s]["median_s"]
            add(s, "ready as a process (s)", ready, READY_PROCESS_S[s], ready <= READY_PROCESS_S[s])
        starts = summary["docker"].get("starts", {}).get(s)
        if starts:
            add(
                s,
                "ready in a container (s)",
                starts["first_200_median_s"],
                READY_CONTAINER_S,
                starts["first_200_median_s"] <= READY_CONTAINER_S,
            )
        ratios = [r for r in summary["ratios"] if r["service"] == s]
        for key, what, limit in (
            ("rps_vs_one_route", f"throughput vs {ONE_ROUTE[s]} (worst, x)", MIN_VS_ONE_ROUTE),
            ("rps_vs_flask_dev", "throughput vs flask-dev (worst, x)", MIN_VS_FLASK_DEV),
        ):
            row = _worst(ratios, key)
            if row:
                add(s, what, row[key], limit, row[key] >= limit, f"GET {row['path']} @{row['connections']}")
        levels = sorted({r["connections"] for r in ratios})
        if levels:
            level = min(levels, key=lambda c: abs(c - 16))
            row = _worst([r for r in ratios if r["connections"] == level], "p99_vs_one_route", worst=max)
            if row:
                add(
                    s,
                    f"p99 at {level} connections vs {ONE_ROUTE[s]} (worst, x)",
                    row["p99_vs_one_route"],
                    MAX_P99_VS_ONE_ROUTE,
                    row["p99_vs_one_route"] <= MAX_P99_VS_ONE_ROUTE,
                    f"GET {row['path']}",
                )
        idle = summary["memory"].get(s, {}).get("idle_mb")
        if idle:
            add(s, "idle memory, PSS (MB)", idle, IDLE_MB[s], idle <= IDLE_MB[s])
        image = summary["docker"].get("images", {}).get(s)
        if image:
            add(s, "image size (MB)", image["size_mb"], IMAGE_BUDGET_MB[s], image["size_mb"] < IMAGE_BUDGET_MB[s])
    return targets


# --- rendering ----------------------------------------------------------------


def _table(header: list[str], rows: list[list]) -> str:
    def cell(v):
        if isinstance(v, float):
            return f"{v:.2f}" if abs(v) < 10 else f"{v:.0f}" if abs(v) >= 1000 else f"{v:.1f}"
        return str(v)

    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in rows]
    return "\n".join(lines)


def tables(raw: dict, summary: dict) -> str:
    """Every table, as Markdown: what stdout shows and the doc holds."""
    servers = raw["servers"]
    parts = []
    t = summary["targets"]
    parts.append(
        "### Targets\n\n"
        + _table(
            ["service", "target", "figure", "limit", "", "where"],
            [
                [r["service"], r["target"], r["figure"], r["limit"], "met" if r["met"] else "**missed**", r["where"]]
                for r in t
            ],
        )
    )
    parts.append(
        "### Start to first 200 on /health, as a process (s)\n\n"
        + _table(
            ["server", "median", "min", "max", "starts"],
            [[n, v["median_s"], v["min_s"], v["max_s"], v["starts"]] for n, v in summary["startup"].items()],
        )
    )
    d = summary["docker"]
    if "skipped" in d:
        parts.append(f"### Containers\n\nskipped: {d['skipped']}")
    else:
        parts.append(
            "### Containers: `docker run` to the first 200 and to `healthy` (s, median)\n\n"
            + _table(
                ["service", "to first 200", "to healthy", "starts"],
                [[n, v["first_200_median_s"], v["healthy_median_s"], v["starts"]] for n, v in d["starts"].items()]
                + [[n, "failed", why, 0] for n, why in d.get("starts_failed", {}).items()],
            )
        )
    if d.get("images"):
        parts.append(
            "### Image sizes (MB)\n\n"
            + _table(
                ["image", "size", "base", "base size", "above base", "budget"],
                [
                    [
                        v["image"],
                        v["size_mb"],
                        v["base"],
                        v["base_mb"],
                        v["above_base_mb"],
                        f"< {IMAGE_BUDGET_MB[n]:.0f}",
                    ]
                    for n, v in d["images"].items()
                ],
            )
        )
    top = raw["load"]["load_connections"]
    parts.append(
        "### Memory, PSS of the whole process tree (MB)\n\n"
        + _table(
            ["server", "idle", f"peak under load ({top} connections)"],
            [[n, v["idle_mb"], v.get("load_peak_mb", "-")] for n, v in summary["memory"].items()],
        )
    )
    for level in sorted({r["connections"] for r in summary["load"]}):
        rows = [r for r in summary["load"] if r["connections"] == level]
        rows.sort(
            key=lambda r: (
                servers[r["server"]]["family"],
                servers[r["server"]]["role"] != "service",
                r["server"],
                r["path"],
            )
        )
        parts.append(
            f"### wrk, keep-alive, {level} connection{'s' if level > 1 else ''} (medians)\n\n"
            + _table(
                ["server", "path", "req/s", "p50 ms", "p90 ms", "p99 ms", "errors"],
                [[r["server"], r["path"], r["rps"], r["p50_ms"], r["p90_ms"], r["p99_ms"], r["errors"]] for r in rows],
            )
        )

    def ratio(r, k):
        return f"{r[k]:.2f}x" if k in r else "-"

    parts.append(
        "### Services as ratios to their baselines (median of within-round ratios)\n\n"
        + _table(
            ["service", "path", "conns", "req/s ÷ one-route", "req/s ÷ bare", "req/s ÷ flask-dev", "p99 ÷ one-route"],
            [
                [
                    r["service"],
                    r["path"],
                    r["connections"],
                    ratio(r, "rps_vs_one_route"),
                    ratio(r, "rps_vs_bare"),
                    ratio(r, "rps_vs_flask_dev"),
                    ratio(r, "p99_vs_one_route"),
                ]
                for r in summary["ratios"]
            ],
        )
    )
    if summary["open_loop"]:
        rates = raw["load"]["open_loop_rates"]
        parts.append(
            "### Open loop: fixed request rate, latency from the scheduled send time (ms, medians)\n\n"
            + ", ".join(f"{family}: {rate:.0f} req/s" for family, rate in sorted(rates.items()))
            + f" over {raw['plan']['open_loop_connections']} keep-alive connections.\n\n"
            + _table(
                ["server", "path", "rate", "p50", "p90", "p99", "p99 ÷ one-route", "achieved req/s", "errors"],
                [
                    [
                        r["server"],
                        r["path"],
                        r["rate"],
                        r["p50_ms"],
                        r["p90_ms"],
                        r["p99_ms"],
                        ratio(r, "p99_vs_one_route"),
                        r["achieved_rps"],
                        r["errors"],
                    ]
                    for r in summary["open_loop"]
                ],
            )
        )
    if raw.get("tool"):
        tool = raw["tool"]
        parts.append(
            "### hfspace validate, as a whole process (s, median of the rounds)\n\n"
            f"Target: a folder of {tool['files']:,} files in under {tool['target_s']:g} s.\n\n"
            + _table(
                ["what", "median", "min", "max"],
                [[r["what"], r["median_s"], r["min_s"], r["max_s"]] for r in tool["rows"]],
            )
        )
    return "\n\n".join(parts) + "\n"


def document(raw: dict, summary: dict, kept_notes: str) -> str:
    meta = raw["meta"]
    plan = raw["plan"]
    servers = raw["servers"]
    lines = [
        "# Benchmarks",
        "",
        "Written by `make bench` (`bench/`): each service side by side with its baselines, in one run.",
        "Re-run it to refresh this file; notes at the end are kept.",
        "",
        "## This run",
        "",
        f"- date: {meta['date']}",
        f"- machine: {meta['cpu']}, {meta['cores']} cores, {meta['memory']}; load average "
        f"{meta['load_before']} before, {meta['load_after']} after (a shared machine: other work may have run)",
        f"- versions: {', '.join(f'{k} {v}' for k, v in meta['versions'].items())} (Python and its packages: "
        "the repository's .venv; the images run their own, see the Dockerfiles)",
        f"- command: `{meta['command']}` (`make bench` runs `.venv/bin/python -m bench`; `--quick` for the "
        "inner loop, `--help` for the rest)",
        f"- plan: {plan['rounds']} rounds of {plan['seconds']:g} s per point, connections "
        f"{', '.join(map(str, plan['connections']))}; {plan['starts']} starts per server; open loop "
        f"{plan['open_loop_seconds']:g} s per point; {plan['containers']} container starts per image",
        f"- python-backend's gunicorn settings, read from the service and used by the gunicorn baselines: "
        f"{meta['gunicorn'] or 'not gunicorn'}",
        "",
        "## What runs",
        "",
        "| server | role | command (from its folder) | note |",
        "|---|---|---|---|",
    ]
    lines += [f"| {n} | {s['role']} ({s['family']}) | `{s['command']}` | {s['note']} |" for n, s in servers.items()]
    lines += [
        "",
        "## Method",
        "",
        "- Services start exactly as their Dockerfile's exec-form `CMD`, from their folder, with the final "
        "stage's `ENV`, `PORT` and `HOST=127.0.0.1`; `.venv/bin` (gunicorn) and `.tools/node/bin` lead `PATH`.",
        "- Every server listens on loopback; stdout (access logs) goes to /dev/null for all of them alike.",
        "- Start-up: process start to the first 200 on `/health`, every server in turn, repeated.",
        "- Load: all servers up at once; each round visits every (connections, path, server) point with "
        "`wrk --latency` (closed loop, keep-alive) in a rotated order; figures are medians over rounds, and "
        "ratios are taken within a round, then their median. wrk shares the 2 cores with the servers.",
        "- Open loop (`bench/load.py`): requests sent on a fixed schedule over keep-alive connections, latency "
        "counted from the scheduled send time, so queueing shows (wrk, closed loop, hides it). The rate is "
        f"{plan['open_loop_fraction']:g} of the slowest of the service's paths and its one-route app at 16 "
        f"connections (wrk), capped at {plan['open_loop_max_rate']:g} req/s (the Python generator shares the cores).",
        "- Memory: PSS (`/proc/PID/smaps_rollup`) summed over the process tree (every gunicorn worker counted, "
        "shared pages once); idle after a short warm-up, peak sampled every 0.25 s during the runs at the "
        "highest connection count.",
        "- Containers: images built with `DOCKER_BUILDKIT=1 /usr/bin/docker build` on the bases in "
        "`build/base-images.env`, run as uid 1000 with the hardening our images pass "
        "(`--user 1000 --read-only --tmpfs /tmp`); `healthy` waits for the image's own HEALTHCHECK, whose "
        "first probe runs one `--interval` (10 s) after the start.",
        "- The flask-dev target (≥ 3x its throughput) applies to python-backend.",
        "",
        "## Results",
        "",
        tables(raw, summary),
        NOTES_MARKER,
        kept_notes.rstrip() + "\n" if kept_notes.strip() else "",
    ]
    return "\n".join(lines)
