"""Process start time and the shutdown flag that turns /health to "fail".

The start time is taken when the `app` package is first imported. Under gunicorn
that is the master process (gunicorn.conf.py imports the configuration), and the
forked workers inherit it, so every worker reports the same `started_at`.
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime

_STARTED_WALL = time.time()
_STARTED_MONOTONIC = time.monotonic()


class Lifecycle:
    def __init__(self) -> None:
        self._shutting_down = threading.Event()

    @property
    def started_at(self) -> str:
        started = datetime.fromtimestamp(_STARTED_WALL, tz=UTC)
        return started.isoformat(timespec="milliseconds").replace("+00:00", "Z")

    @property
    def uptime_seconds(self) -> float:
        return round(time.monotonic() - _STARTED_MONOTONIC, 3)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down.is_set()

    def begin_shutdown(self) -> None:
        self._shutting_down.set()
