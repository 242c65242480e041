"""gunicorn.conf.py's guard for a SIGTERM that lands while a worker boots."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

SERVICE_DIR = Path(__file__).resolve().parent.parent
CONFIG = SERVICE_DIR / "gunicorn.conf.py"

# Our configuration, with each worker held at its most exposed point: forked,
# gunicorn's own signal handlers not yet set.
SLOW_BOOT = f"""
import time
__file__ = {str(CONFIG)!r}
exec(compile(open(__file__).read(), __file__, "exec"))


def post_fork(server, worker):
    time.sleep(1.5)
"""


def test_a_worker_stopped_while_booting_stops_at_once(tmp_path):
    config = tmp_path / "slow_boot.conf.py"
    config.write_text(SLOW_BOOT)
    with socket.socket() as probe:  # a free port
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    env = {**os.environ, "HOST": "127.0.0.1", "PORT": str(port), "WEB_CONCURRENCY": "1", "SHUTDOWN_TIMEOUT": "6"}
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "--config", str(config)],
        cwd=SERVICE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    output = []
    try:
        # The worker logs "Booting worker" right before post_fork: from then on it sits there.
        for line in process.stdout:
            output.append(line)
            if "Booting worker" in line:
                break
        assert process.poll() is None, "".join(output)
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        code = process.wait(timeout=15)
        waited = time.monotonic() - started
    finally:
        process.kill()
    output = "".join(output) + process.stdout.read()
    assert "Booting worker" in output  # the signal really came during the boot
    assert code == 0
    # The worker stops as soon as it has booted (about 0.7 s on), not when the
    # 6 s SHUTDOWN_TIMEOUT runs out.
    assert waited < 4, (waited, output[-2000:])
