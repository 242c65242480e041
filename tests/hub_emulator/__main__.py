"""Run the Hub emulator on its own: `python -m tests.hub_emulator --port 8900 --token hf_xxx`.

Then point the client at it: `HF_ENDPOINT=http://127.0.0.1:8900 HF_TOKEN=hf_xxx hf ...` (or
`hfspace deploy ...`). The first line printed is the URL; Ctrl-C or SIGTERM stops it and
every Space it started.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading

from tests.hub_emulator.server import DockerRunner, HubEmulator, ProcessRunner, User


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m tests.hub_emulator", description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0, help="0 (default) picks a free port")
    parser.add_argument("--token", action="append", default=[], help="a write token of --user (repeatable)")
    parser.add_argument("--read-token", action="append", default=[], help="a read-only token of --user")
    parser.add_argument("--user", default="me", help="the account the tokens belong to (default: me)")
    parser.add_argument("--org", action="append", default=[], help="an organization the user belongs to")
    parser.add_argument("--free", action="store_true", help="the user is on a free plan (402 on docker Spaces)")
    parser.add_argument("--free-org", action="append", default=[], help="an organization on a free plan")
    parser.add_argument("--runner", choices=("process", "docker"), default="process")
    parser.add_argument("--build-arg", action="append", default=[], help="KEY=VALUE for every docker build")
    parser.add_argument("--commit-lag", type=float, default=0.5, help="seconds the previous stage is still reported")
    parser.add_argument("--startup-timeout", type=float, default=30.0)
    args = parser.parse_args(argv)
    if not args.token and not args.read_token:
        parser.error("give at least one --token")
    for item in args.build_arg:
        if "=" not in item:
            parser.error(f"--build-arg wants KEY=VALUE, got {item!r}")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    orgs = tuple(args.org + args.free_org)
    users = [User(args.user, token, "write", orgs, args.free) for token in args.token]
    users += [User(args.user, token, "read", orgs, args.free) for token in args.read_token]
    if args.runner == "docker":
        runner = DockerRunner(dict(item.split("=", 1) for item in args.build_arg))
    else:
        runner = ProcessRunner()
    hub = HubEmulator(
        users,
        free_accounts=args.free_org,
        space_runner=runner,
        commit_lag=args.commit_lag,
        startup_timeout=args.startup_timeout,
        host=args.host,
        port=args.port,
    )
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    signal.signal(signal.SIGINT, lambda *_: stopping.set())
    hub.start()
    try:
        print(hub.url, flush=True)
        stopping.wait()
    finally:
        hub.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
