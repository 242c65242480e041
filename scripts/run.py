"""`make run`: start every service on its local port, stop them all on Ctrl-C.

Each service runs exactly as its container does (its Dockerfile's CMD, from its
folder), with PORT set to its local port (7860 and 7861, or PYTHON_BACKEND_PORT
and NODEJS_BACKEND_PORT as for compose.yaml); other settings come from the
environment or the service's own `.env`.
"""

from __future__ import annotations

import signal
import sys

from services import SERVICES, wait_healthy


def main(names: list[str]) -> int:
    services = [SERVICES[name] for name in names or SERVICES]
    try:
        ports = {service.name: service.local_port for service in services}
    except ValueError as exc:
        print(f"make run: {exc}", file=sys.stderr)
        return 2
    processes = []
    for service in services:
        # Own sessions: a terminal's Ctrl-C reaches only this script, which then stops
        # each service the graceful way (SIGTERM), as `docker stop` would.
        processes.append(service.start({"PORT": str(ports[service.name])}, start_new_session=True))

    stopping = False

    def stop(*_):
        nonlocal stopping
        stopping = True
        for process in processes:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    for service, process in zip(services, processes, strict=True):
        if wait_healthy(f"http://127.0.0.1:{ports[service.name]}/health", process) is not None:
            print(f"{service.name}: http://localhost:{ports[service.name]}", file=sys.stderr, flush=True)
    if all(p.poll() is None for p in processes):
        print("Ctrl-C stops them all.", file=sys.stderr, flush=True)
    else:
        stop()  # one failed to start (its own message says why): stop the rest
    codes = [process.wait() for process in processes]
    # A service stopped by our SIGTERM before it had set up its handler died of it: a clean stop.
    codes = [0 if stopping and code == -signal.SIGTERM else code for code in codes]
    code = next((code for code in codes if code), 0)
    return 128 - code if code < 0 else code  # killed by signal N: 128 + N, as a shell reports it


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
